"""A stand-in for `sendmail -t -i`: appends the mail read from stdin to the file
named by its first argument, followed by a separator line."""
import sys

data = sys.stdin.read()
with open(sys.argv[1], "a") as f:
    f.write(data)
    f.write("\n--END--\n")
