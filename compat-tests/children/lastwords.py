"""A child that has something to say when it is stopped.

    lastwords.py NAME COUNTER_FILE

Run n (counted in COUNTER_FILE) says ``NAME#n hello`` on stdout and stderr, then
sleeps; on SIGTERM it writes 200 kB of ``NAME#n ...`` lines and ``NAME#n bye`` to
stdout, ``NAME#n bye`` to stderr, and exits 0: its last output is still in the pipe
when the daemon reaps it.
"""

import os
import signal
import sys
import time


def main():
    name, counter = sys.argv[1], sys.argv[2]
    try:
        with open(counter) as f:
            run = int(f.read()) + 1
    except FileNotFoundError:
        run = 1
    with open(counter, "w") as f:
        f.write(str(run))
    tag = "%s#%d" % (name, run)

    def bye(*_):
        line = ("%s %s\n" % (tag, "." * 90)).encode()
        out = line * (200_000 // len(line)) + ("%s bye\n" % tag).encode()
        while out:
            out = out[os.write(1, out):]
        os.write(2, ("%s bye\n" % tag).encode())
        os._exit(0)

    signal.signal(signal.SIGTERM, bye)
    os.write(1, ("%s hello\n" % tag).encode())
    os.write(2, ("%s hello\n" % tag).encode())
    while True:
        time.sleep(1000)


if __name__ == "__main__":
    main()
