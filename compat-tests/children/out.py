"""A child program that writes scripted output, for the capture/log tests.

    out.py ACTION...

Actions, run in order (then the program sleeps until signalled, unless an
``exit`` action ends it):

  x:STREAM:HEX             write bytes.fromhex(HEX) to STREAM (out / err)
  n:STREAM:COUNT[:WIDTH]   COUNT numbered lines "L000001 ...\\n" (global
                           counter, padded with '.' to WIDTH bytes incl. \\n)
  s:STREAM:COUNT:WIDTH:LOG[:BATCH]
                           like n, but BATCH lines (default 1) per write, and
                           after each write wait until it shows up in LOG or
                           LOG.1 or LOG shrank (truncating rollover): one
                           write per daemon read, so rotation is deterministic
                           (LOG may be a glob, for an AUTO log)
  u:STREAM:FILE:WIDTH      numbered lines, one per ~2ms, until FILE exists
  xw:STREAM:HEX:LOG        write like x, then wait until the bytes are in LOG
                           (past its size before the write)
  a:FILE:HEX               append bytes.fromhex(HEX) to FILE directly (O_APPEND)
  wait:FILE                wait until FILE exists
  touch:FILE               create FILE (atomically)
  sleep:SECS               sleep
  exit:CODE                exit now
"""

import glob
import os
import sys
import time

counter = 0


def stream(name):
    return {"out": 1, "err": 2}[name]


def write(fd, data):
    while data:
        n = os.write(fd, data)
        data = data[n:]


def line(width):
    global counter
    counter += 1
    text = b"L%06d " % counter
    if width:
        text = text.ljust(width - 1, b".")
    return text + b"\n"


def wait_file(path, timeout=120):
    deadline = time.monotonic() + timeout
    while not os.path.exists(path):
        if time.monotonic() > deadline:
            sys.exit("timed out waiting for %s" % path)
        time.sleep(0.005)


def read(path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        return b""


def wait_in(data, path, start=0, timeout=60):
    """Wait until data shows up in path past offset start."""
    deadline = time.monotonic() + timeout
    while data not in read(path)[start:]:
        if time.monotonic() > deadline:
            sys.exit("%r never reached %s" % (data, path))
        time.sleep(0.002)


def main():
    for action in sys.argv[1:]:
        kind, _, rest = action.partition(":")
        args = rest.split(":")
        if kind == "x":
            write(stream(args[0]), bytes.fromhex(args[1]))
        elif kind == "xw":
            data = bytes.fromhex(args[1])
            before = len(read(args[2]))
            write(stream(args[0]), data)
            wait_in(data, args[2], before)
        elif kind == "a":
            fd = os.open(args[0], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            write(fd, bytes.fromhex(args[1]))
            os.close(fd)
        elif kind == "n":
            width = int(args[2]) if len(args) > 2 else 0
            fd = stream(args[0])
            buf = b"".join(line(width) for _ in range(int(args[1])))
            write(fd, buf)
        elif kind == "s":
            fd, count, width, log = stream(args[0]), int(args[1]), int(args[2]), args[3]
            batch = int(args[4]) if len(args) > 4 else 1
            if "*" in log:
                # an AUTO log: the daemon made it before starting us
                log = sorted(glob.glob(log))[0]
            while count > 0:
                k = min(batch, count)
                count -= k
                data = b"".join(line(width) for _ in range(k))
                last = data[data.rindex(b"\n", 0, len(data) - 1) + 1:] if k > 1 else data
                before = len(read(log))
                write(fd, data)
                deadline = time.monotonic() + 60
                # in LOG, or rotated to LOG.1, or LOG truncated (backups=0)
                while (last not in read(log) and last not in read(log + ".1")
                       and len(read(log)) >= before):
                    if time.monotonic() > deadline:
                        sys.exit("line %r never reached %s" % (last, log))
                    time.sleep(0.001)
        elif kind == "u":
            fd, path, width = stream(args[0]), args[1], int(args[2])
            while not os.path.exists(path):
                write(fd, line(width))
                time.sleep(0.002)
        elif kind == "wait":
            wait_file(args[0])
        elif kind == "touch":
            with open(args[0] + ".tmp", "w") as f:
                f.write(str(counter))
            os.rename(args[0] + ".tmp", args[0])
        elif kind == "sleep":
            time.sleep(float(args[0]))
        elif kind == "exit":
            sys.exit(int(args[0]))
        else:
            sys.exit("unknown action %r" % action)
    while True:
        time.sleep(1000)


if __name__ == "__main__":
    main()
