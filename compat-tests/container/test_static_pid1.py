"""The static binary as PID 1 of an image with no C library (docker/static.Dockerfile).

The root file system is built from the Dockerfile's final stage (static_ns.build_rootfs):
Debian's busybox-static and its applet links, our two static binaries, /etc/passwd,
/etc/group and the config, nothing else. Then, in new namespaces, the image's CMD runs as
PID 1 and the test checks:

a. nothing in the root is a C library or asks for a program interpreter;
b. `web` (busybox httpd) runs as user=nobody and `worker` as user=worker, with the uids,
   primary gids and supplementary groups of the image's files; `stdout_logfile=
   ~worker/worker.log` was expanded from worker's home there (the reference does not expand
   `directory=`), and the socket's `chown=nobody:nogroup` took effect;
c. the web server answers, serving the worker's log;
d. our `supervisorctl status`, run inside, shows both RUNNING (exit 0);
e. SIGTERM to PID 1 stops both programs without SIGKILL, and the daemon exits 0.

There is no reference run: the image has no Python. Deadlines only turn hangs into failures.
"""

import os
import re
import sys
import subprocess

import pytest

from container_fixtures import namespaces_allowed  # noqa: F401 (fixture)

import static_ns
from test_dockerfile import parse, stages

GET = r"""
import sys, urllib.request
with urllib.request.urlopen('http://127.0.0.1:8080/worker.log', timeout=10) as r:
    sys.stdout.write(r.read().decode())
"""


def _ids(status, key):
    return [int(x) for x in status.get(key, "").split()]


@pytest.fixture
def static_root(tmp_path, namespaces_allowed):
    if not (os.path.isfile(static_ns.HOST_BUSYBOX)
            and static_ns.elf_interpreter(static_ns.HOST_BUSYBOX) == ""):
        pytest.skip("no static busybox at %s (apt-get install busybox-static)"
                    % static_ns.HOST_BUSYBOX)
    for name in ("supervisord", "supervisorctl"):
        p = static_ns.static_bin(name)
        if not os.path.isfile(p):
            pytest.fail("our static %s is not built: %s does not exist (RUSTFLAGS='-C "
                        "target-feature=+crt-static' cargo build --release --target <host>, "
                        "as compat-tests/run-all.sh does)" % (name, p), pytrace=False)
    with open(static_ns.DOCKERFILE) as f:
        st = stages(parse(f.read()))
    root = str(tmp_path / "rootfs")
    image = static_ns.build_rootfs(st, root)
    ns = static_ns.StaticRoot(str(tmp_path), root, image)
    yield ns
    ns.kill()


def test_static_binary_as_pid1_without_a_c_library(static_root):
    ns = static_root
    root = ns.root

    # a. No C library: no ELF file in the root asks for an interpreter, none is a libc.
    elves = {}
    for d, _, files in os.walk(root):
        for f in files:
            p = os.path.join(d, f)
            if not os.path.islink(p):
                interp = static_ns.elf_interpreter(p)
                if interp is not None:
                    elves[p[len(root):]] = interp
                assert not re.match(r"(ld-|libc[.-]|ld-musl)", f), "a C library: " + p
    assert elves == {"/bin/busybox": "", "/usr/local/bin/supervisord": "",
                     "/usr/local/bin/supervisorctl": ""}, elves
    assert ns.read("/etc/passwd") and ns.read("/etc/group")

    ns.start()
    sock = root + "/tmp/supervisor.sock"
    ns.wait_for(lambda: os.path.exists(sock), 30, "the daemon's socket")
    with open("/proc/%d/cmdline" % ns.pid1, "rb") as f:
        assert f.read().split(b"\0")[0] == b"supervisord", "PID 1 is not the daemon"

    # d. Our supervisorctl, inside the image: both RUNNING.
    def both_running():
        r = ns.run(["supervisorctl", "-c", "/etc/supervisord.conf", "status"])
        states = {l.split()[0]: l.split()[1] for l in r.stdout.splitlines() if l.strip()}
        return r if states == {"web": "RUNNING", "worker": "RUNNING"} else None
    r = ns.wait_for(both_running, 30, "supervisorctl status: web and worker RUNNING", 0.5)
    assert r.returncode == 0, (r.returncode, r.stdout, r.stderr)

    # b. Users, groups, ~ and chown= from the image's /etc/passwd and /etc/group.
    kids = {}
    for pid in ns.children(ns.pid1):
        with open("/proc/%d/comm" % pid) as f:
            kids[f.read().strip()] = ns.status(pid)
    assert set(kids) == {"httpd", "sh"}, kids
    web, worker = kids["httpd"], kids["sh"]
    assert _ids(web, "Uid")[:2] == [65534, 65534] and _ids(web, "Gid")[:2] == [65534, 65534]
    assert sorted(_ids(web, "Groups")) == [65534], web["Groups"]
    assert _ids(worker, "Uid")[:2] == [1000, 1000] and _ids(worker, "Gid")[:2] == [1000, 1000]
    assert sorted(set(_ids(worker, "Groups"))) == [33, 1000], worker["Groups"]
    st = os.stat(sock)
    assert (st.st_uid, st.st_gid) == (65534, 65534), "chown=nobody:nogroup not applied"
    ns.wait_for(lambda: "worker uid=1000" in ns.read("/var/lib/worker/worker.log"), 30,
                "the worker's line in ~worker/worker.log")
    assert "groups=" in ns.read("/var/lib/worker/worker.log")

    # c. httpd answers on the image's port, serving the worker's log.
    def served():
        r = ns.run([sys.executable, "-c", GET], all_ns=False)
        return r.stdout if "worker uid=1000" in r.stdout else None
    ns.wait_for(served, 30, "httpd to serve /worker.log", 0.5)

    # e. SIGTERM: both stop cleanly, exit 0.
    try:
        status = ns.sigterm_and_wait(60)
    except subprocess.TimeoutExpired:
        pytest.fail("PID 1 did not exit within 60 s of SIGTERM\n" + ns.dump(), pytrace=False)
    log = ns.read("/tmp/supervisord.log")
    tail = log[log.find("received SIGTERM"):]
    assert "received SIGTERM" in log, ns.dump()
    stopped = sorted(re.findall(r"stopped: (\S+) \(", tail))
    assert stopped == ["web", "worker"], ns.dump()
    assert "SIGKILL" not in tail, ns.dump()
    assert status == 0, "PID 1 exited %s\n%s" % (status, ns.dump())
    assert not os.path.exists(sock) and not os.path.exists(root + "/tmp/supervisord.pid")
