"""PID 1 of the test's PID namespace, until it execs the daemon under test.

Run as ``unshare --pid --fork --mount --net --uts --ipc --mount-proc --
python3 ns_init.py SPEC.json``.  It builds, inside the private mount
namespace, a root that looks like the tutorial's ``python:3.10-slim`` image
after ``docker build``:

* every top-level directory of the host is bind-mounted (recursively) into a
  fresh tmpfs, except ``/proc`` (a new procfs for the new PID namespace),
  ``/tmp`` (a private, initially empty directory: the socket is
  ``/tmp/supervisor.sock``) and ``/app`` (the user's five files, unchanged);
* ``/usr/local/bin`` is a tmpfs holding what ``pip install -r
  requirements.txt`` puts there in the image (``uvicorn``, ``supervisorctl``,
  ``python3`` ... pointing into the test's venv) and ``supervisord``, which is
  the daemon under test (our binary, as the project's Dockerfile installs it,
  or the reference script);
* ``lo`` is up in the new network namespace, the UTS name is set;

then it chroots, ``cd /app`` (the Dockerfile's WORKDIR) and execs the
Dockerfile's CMD, resolved through PATH as Docker does, so the daemon is PID 1.

Nothing here touches the host's file system except the directories named in
the spec (the staging directories of the test).
"""

import fcntl
import json
import os
import socket
import struct
import subprocess
import sys


def log(msg):
    sys.stderr.write("ns_init: %s\n" % msg)
    sys.stderr.flush()


def mount(*args):
    subprocess.run(["mount", *args], check=True)


def lo_up():
    SIOCGIFFLAGS, SIOCSIFFLAGS, IFF_UP = 0x8913, 0x8914, 0x1
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        req = struct.pack("16sH14s", b"lo", 0, b"")
        flags = struct.unpack("16sH", fcntl.ioctl(s, SIOCGIFFLAGS, req)[:18])[1]
        fcntl.ioctl(s, SIOCSIFFLAGS, struct.pack("16sH14s", b"lo", flags | IFF_UP, b""))
    finally:
        s.close()


def main():
    with open(sys.argv[1]) as f:
        spec = json.load(f)
    if os.getpid() != 1:
        log("not PID 1 (pid %d): run under unshare --pid --fork" % os.getpid())
        sys.exit(111)

    root = spec["newroot"]
    # Never let anything below propagate back to the host.
    mount("--make-rprivate", "/")
    lo_up()
    socket.sethostname(spec.get("hostname", "tutorial"))

    mount("-t", "tmpfs", "-o", "mode=0755", "newroot", root)
    special = {"proc", "tmp", "app"}
    for name in sorted(os.listdir("/")):
        src = "/" + name
        dst = os.path.join(root, name)
        if name in special:
            continue
        if os.path.islink(src):
            os.symlink(os.readlink(src), dst)
        elif os.path.isdir(src):
            os.mkdir(dst)
            mount("--rbind", src, dst)
        # plain files at / (e.g. /.dockerenv) are left out

    os.mkdir(os.path.join(root, "proc"))
    mount("-t", "proc", "proc", os.path.join(root, "proc"))

    tmp = os.path.join(root, "tmp")
    os.mkdir(tmp)
    mount("--bind", spec["tmp_dir"], tmp)
    os.chmod(tmp, 0o1777)
    # Host paths under /tmp that must stay visible at the same path (a venv
    # whose scripts have absolute shebangs, a daemon binary).
    for path in spec.get("same_path_binds", []):
        dst = root + path
        os.makedirs(dst, exist_ok=True)
        mount("--rbind", path, dst)

    app = os.path.join(root, "app")
    os.mkdir(app)
    mount("--bind", spec["app_dir"], app)

    ulb = os.path.join(root, "usr", "local", "bin")
    os.makedirs(ulb, exist_ok=True)
    mount("-t", "tmpfs", "-o", "mode=0755", "usr-local-bin", ulb)
    for name, entry in sorted(spec["usr_local_bin"].items()):
        dst = os.path.join(ulb, name)
        if entry["kind"] == "symlink":
            os.symlink(entry["target"], dst)
        else:  # "script"
            with open(dst, "w") as f:
                f.write(entry["text"])
            os.chmod(dst, 0o755)

    os.chroot(root)
    os.chdir(spec["workdir"])
    env = spec["env"]
    argv = spec["cmd"]
    log("exec %s (PATH=%s) in %s" % (argv, env.get("PATH"), spec["workdir"]))
    sys.stdout.flush()
    os.execvpe(argv[0], argv, env)


if __name__ == "__main__":
    main()
