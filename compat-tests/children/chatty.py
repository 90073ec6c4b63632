"""A program that writes a line to stdout and one to stderr, then echoes each line of its stdin
to both."""
import sys

print("chatty ready", flush=True)
print("chatty stderr", file=sys.stderr, flush=True)
for line in sys.stdin:
    print("out: " + line.rstrip("\n"), flush=True)
    print("err: " + line.rstrip("\n"), file=sys.stderr, flush=True)
