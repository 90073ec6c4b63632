"""A child for the log tail tests: says ``ready`` on both streams, then for each
line read on stdin writes ``out: <line>`` to stdout and ``err: <line>`` to stderr.

    echo.py [--prefix TEXT]     (TEXT is put before ``ready``, e.g. a run number)
"""

import sys


def main():
    prefix = sys.argv[2] if len(sys.argv) > 2 and sys.argv[1] == "--prefix" else ""
    sys.stdout.write("%sready\n" % prefix)
    sys.stdout.flush()
    sys.stderr.write("%sready\n" % prefix)
    sys.stderr.flush()
    for line in sys.stdin:
        line = line.rstrip("\n")
        sys.stdout.write("out: %s\n" % line)
        sys.stdout.flush()
        sys.stderr.write("err: %s\n" % line)
        sys.stderr.flush()


if __name__ == "__main__":
    main()
