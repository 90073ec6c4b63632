"""PID 1 of the static image's namespaces (test_static_pid1.py), until it execs the image's
CMD. Run as ``unshare --pid --fork --mount --net --uts --ipc --mount-proc -- python3
rootfs_init.py SPEC.json``.

The root file system is complete already (static_ns.build_rootfs); what a container engine
adds at run time is added here, in the private mount namespace: ``/proc`` (this PID
namespace's), ``/dev`` (the host's, bound), ``lo`` up and a host name. Then it chroots, changes
to the WORKDIR and execs the CMD through the image's PATH: nothing of Python stays.
"""

import json
import os
import socket
import sys

from ns_init import lo_up, log, mount


def main():
    with open(sys.argv[1]) as f:
        spec = json.load(f)
    if os.getpid() != 1:
        log("not PID 1 (pid %d): run under unshare --pid --fork" % os.getpid())
        sys.exit(111)
    root = spec["newroot"]
    mount("--make-rprivate", "/")
    lo_up()
    socket.sethostname(spec["hostname"])
    for d in ("proc", "dev"):
        os.makedirs(os.path.join(root, d), exist_ok=True)
    mount("-t", "proc", "proc", os.path.join(root, "proc"))
    mount("--rbind", "/dev", os.path.join(root, "dev"))
    os.chroot(root)
    os.chdir(spec["workdir"])
    argv = spec["cmd"]
    log("exec %s (PATH=%s)" % (argv, spec["env"].get("PATH")))
    sys.stdout.flush()
    os.execvpe(argv[0], argv, spec["env"])


if __name__ == "__main__":
    main()
