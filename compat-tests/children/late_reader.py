"""A child that reads its stdin late: it waits until GO_FILE exists, then copies its stdin
to OUT_FILE (flushed after each read) until end of input.

    late_reader.py GO_FILE OUT_FILE
"""

import os
import sys
import time


def main():
    go, out = sys.argv[1], sys.argv[2]
    while not os.path.exists(go):
        time.sleep(0.05)
    with open(out, "wb") as f:
        while True:
            data = os.read(0, 65536)
            if not data:
                break
            f.write(data)
            f.flush()


if __name__ == "__main__":
    main()
