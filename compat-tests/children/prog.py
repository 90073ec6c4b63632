"""A configurable child program for the compatibility tests.

    prog.py [--counter FILE --codes 3,0] [--sleep SECS] [--exit CODE]
            [--ignore TERM,INT] [--exit-on INT=0] [--env FILE]
            [--child FILE] [--grandchild FILE] [--say TEXT]

Without --exit/--codes it runs until signalled.  --codes picks the exit code
of run n (counted in FILE) from the list; past the end it runs forever.
"""

import argparse
import json
import os
import signal
import sys
import time


def sig(name):
    return getattr(signal, "SIG" + name.upper().replace("SIG", "", 1))


def write_atomic(path, text):
    with open(path + ".tmp", "w") as f:
        f.write(text)
    os.rename(path + ".tmp", path)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--counter")
    p.add_argument("--codes")
    p.add_argument("--sleep", type=float, default=0)
    p.add_argument("--exit", type=int)
    p.add_argument("--ignore", default="")
    p.add_argument("--exit-on", action="append", default=[])
    p.add_argument("--env")
    p.add_argument("--child")
    p.add_argument("--grandchild")
    p.add_argument("--say")
    a = p.parse_args()

    for name in filter(None, a.ignore.split(",")):
        signal.signal(sig(name), signal.SIG_IGN)
    for spec in a.exit_on:
        name, code = spec.split("=")
        signal.signal(sig(name), lambda *_, code=int(code): os._exit(code))

    if a.say:
        print(a.say, flush=True)

    if a.env:
        umask = os.umask(0)
        os.umask(umask)
        data = {"env": dict(os.environ), "cwd": os.getcwd(), "umask": umask,
                "uid": os.getuid(), "gid": os.getgid(), "pid": os.getpid(),
                "pgid": os.getpgid(0), "sid": os.getsid(0)}
        write_atomic(a.env, json.dumps(data))

    if a.child:
        # a child that inherits our signal dispositions (ignored ones stay ignored)
        pid = os.fork()
        if pid == 0:
            while True:
                time.sleep(1000)
        write_atomic(a.child, str(pid))

    if a.grandchild:
        # double fork: the grandchild is re-parented away from us and exits soon
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            gpid = os.fork()
            if gpid == 0:
                time.sleep(0.5)
                os._exit(7)
            os.write(w, str(gpid).encode())
            os._exit(0)
        os.close(w)
        gpid = os.read(r, 64).decode()
        os.waitpid(pid, 0)
        write_atomic(a.grandchild, gpid)

    code = a.exit
    if a.codes is not None:
        n = 0
        if a.counter and os.path.exists(a.counter):
            with open(a.counter) as f:
                n = int(f.read() or 0)
        n += 1
        with open(a.counter, "w") as f:
            f.write(str(n))
        codes = [int(c) for c in a.codes.split(",")]
        code = codes[n - 1] if n <= len(codes) else None

    if a.sleep:
        time.sleep(a.sleep)
    if code is not None:
        sys.exit(code)
    while True:
        time.sleep(1000)


if __name__ == "__main__":
    main()
