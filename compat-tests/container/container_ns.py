"""Helpers for the container tests: where things are, the app venv, and the
namespace ("container without Docker") scenario runner.

The constants here are the single source of the image's layout: the
Dockerfile check (test_dockerfile.py) asserts the project's Dockerfile uses
the same paths the namespace test builds.
"""

import fcntl
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(os.path.dirname(HERE))

# The image's layout (tutorial Dockerfile + the project's Dockerfile).
WORKDIR = "/app"
DAEMON_PATH = "/usr/local/bin/supervisord"
CONF_PATH = "/app/supervisord.conf"
CMD = ["supervisord", "-c", CONF_PATH]
FINAL_BASE_IMAGE = "python:3.10-slim"
APP_SOURCE_DIR = "conf/tutorial"  # in the repo; what the project's Dockerfile COPYs
# PATH of the python:3.10-slim image.
IMAGE_PATH = "/usr/local/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
# The files of the user's image at /app (the build context of the tutorial).
USER_FILES = ["Dockerfile", "main.py", "monitor_memory.py", "requirements.txt", "supervisord.conf"]

PORT = 5001
THRESHOLD = 250 * 1024 * 1024

# SIGTERM-to-exit times per daemon kind, printed side by side by conftest.py.
SIGTERM_TIMES = {}


def tutorial_dir():
    """The user's files: ../shared/tutorial/ beside the repo when present,
    else the verbatim copy in conf/tutorial/ (test_dockerfile checks it is one)."""
    shared = os.path.join(os.path.dirname(REPO_ROOT), "shared", "tutorial")
    if all(os.path.isfile(os.path.join(shared, f)) for f in USER_FILES):
        return shared
    return os.path.join(REPO_ROOT, "conf", "tutorial")


def _cache_root():
    d = os.environ.get("CONTAINER_TEST_CACHE")
    if d:
        return d
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "supervisord-compat")


def ensure_app_venv(requirements, without=()):
    """A venv with the user's requirements.txt (fastapi, uvicorn, psutil,
    supervisor 4.2.5) installed from the package index by name, cached across
    sessions, keyed on the requirements and the Python version. ``without``:
    package names left out (``supervisor``: an image with no Python supervisor)."""
    with open(requirements, "rb") as f:
        req = f.read()
    if without:
        kept = [l for l in req.decode().splitlines()
                if re.split(r"[=<>~!\[ ;]", l.strip(), maxsplit=1)[0].lower() not in without]
        req = ("\n".join(kept) + "\n").encode()
    key = hashlib.sha256(req + sys.version.encode()).hexdigest()[:16]
    root = _cache_root()
    os.makedirs(root, exist_ok=True)
    if without:
        requirements = os.path.join(root, "requirements-" + key + ".txt")
        with open(requirements, "wb") as f:
            f.write(req)
    venv = os.path.join(root, "tutorial-venv-" + key)
    stamp = os.path.join(venv, ".complete")
    with open(os.path.join(root, ".lock-" + key), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not os.path.exists(stamp):
            shutil.rmtree(venv, ignore_errors=True)
            subprocess.run([sys.executable, "-m", "venv", venv], check=True)
            subprocess.run([os.path.join(venv, "bin", "python"), "-m", "pip", "install",
                            "--quiet", "--no-cache-dir", "--disable-pip-version-check",
                            "-r", requirements], check=True)
            with open(stamp, "w") as f:
                f.write("ok\n")
    return venv


def unshare_probe():
    """None if this host lets us make the namespaces, else the reason."""
    if os.geteuid() != 0:
        return "not root: unshare --pid --mount --net needs root"
    for tool in ("unshare", "nsenter", "mount"):
        if not shutil.which(tool):
            return "%s not found (util-linux)" % tool
    r = subprocess.run(["unshare", "--pid", "--fork", "--mount", "--net", "--uts", "--ipc",
                        "--mount-proc", "true"], capture_output=True, text=True)
    if r.returncode != 0:
        return "unshare not permitted here: %s" % (r.stderr.strip() or r.returncode)
    return None


def our_ctl_path():
    """Our supervisorctl (target/release/supervisorctl, or $SUPERVISORCTL_RS)."""
    p = os.environ.get("SUPERVISORCTL_RS") or os.path.join(
        REPO_ROOT, "target", "release", "supervisorctl")
    if not os.path.isfile(p):
        _fail("our supervisorctl is not built: %s does not exist (cargo build --release, "
              "or set SUPERVISORCTL_RS)" % p, pytrace=False)
    return os.path.abspath(p)


def daemon_path(kind, venv):
    if kind == "ours":
        p = os.environ.get("SUPERVISORD_BIN") or os.path.join(
            REPO_ROOT, "target", "release", "supervisord")
        if not os.path.isfile(p):
            _fail("our daemon is not built: %s does not exist (cargo build --release, "
                  "or set SUPERVISORD_BIN)" % p, pytrace=False)
        return os.path.abspath(p)
    p = os.environ.get("REFERENCE_SUPERVISORD") or os.path.join(venv, "bin", "supervisord")
    if not os.path.isfile(p):
        _fail("reference supervisord not found at %s (set REFERENCE_SUPERVISORD)" % p,
              pytrace=False)
    return os.path.abspath(p)


def _fail(msg, pytrace=False):
    import pytest
    pytest.fail(msg, pytrace=pytrace)


# Runs inside the namespaces (venv python, psutil, as the monitor sees things).
PROBE = r"""
import json, os, psutil
me = os.getpid()
out = []
for p in psutil.process_iter(['pid', 'ppid', 'name', 'status', 'cmdline', 'memory_info']):
    i = p.info
    if i['pid'] == me:
        continue
    out.append({'pid': i['pid'], 'ppid': i['ppid'], 'name': i['name'], 'status': i['status'],
                'cmdline': i['cmdline'] or [],
                'rss': i['memory_info'].rss if i['memory_info'] else None})
print(json.dumps(out))
"""

# Double fork: the grandchild outlives its parent, is re-parented to PID 1
# of the namespace, and exits 1.5 s later: PID 1 must reap it.
ORPHAN = r"""
import os, sys, time
r, w = os.pipe()
pid = os.fork()
if pid == 0:
    os.close(r)
    g = os.fork()
    if g == 0:
        os.close(w)
        time.sleep(1.5)
        os._exit(7)
    os.write(w, str(g).encode())
    os._exit(0)
os.close(w)
os.waitpid(pid, 0)
print(os.read(r, 64).decode())
"""

# Runs in the network namespace only (the host's python): the leak driver.
CLIENT = r"""
import sys, urllib.request
n = int(sys.argv[1]); ok = 0
for _ in range(n):
    try:
        with urllib.request.urlopen('http://127.0.0.1:%d/' % PORT, timeout=30) as r:
            if r.status == 200 and b'leaked' in r.read():
                ok += 1
    except OSError as e:  # uvicorn being restarted
        sys.stderr.write('GET / failed: %s\n' % e)
        break
print(ok)
""".replace("PORT", str(PORT))

# Runs in the network namespace only (the host's python, the host's /proc):
# the leak driver of the memory-limit runs. GET / back to back until the
# uvicorn with host pid PID is over THRESHOLD bytes, then one GET every
# 1/RATE s (a steady leak of 10*RATE MiB/s) until that process is gone or
# stops answering (it is being restarted), or AFTER more requests were sent.
LEAK_PAST = r"""
import json, os, sys, time, urllib.request
pid, threshold, rate, after = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
page = os.sysconf('SC_PAGE_SIZE')
def rss():
    try:
        with open('/proc/%d/statm' % pid) as f:
            return int(f.read().split()[1]) * page
    except (OSError, ValueError, IndexError):
        return None
sent = ok = 0; crossed_at = None; why = None
while True:
    r = rss()
    if r is None:
        why = 'process gone'; break
    if crossed_at is None and r > threshold:
        crossed_at = sent
    if crossed_at is not None:
        if sent - crossed_at >= after:
            why = 'sent %d requests after the crossing' % after; break
        time.sleep(1.0 / rate)
    try:
        with urllib.request.urlopen('http://127.0.0.1:PORT/', timeout=30) as resp:
            ok += resp.status == 200 and b'leaked' in resp.read()
    except OSError as e:
        why = 'GET / failed: %s' % e; break
    sent += 1
print(json.dumps({'sent': sent, 'ok': ok, 'crossed_after': crossed_at, 'stopped': why}))
""".replace("PORT", str(PORT))

# Runs inside the namespaces: one XML-RPC call through the daemon's unix
# socket (supervisor's own transport, as supervisorctl uses).
RPC = r"""
import json, sys, xmlrpc.client
from supervisor.xmlrpc import SupervisorTransport
t = SupervisorTransport(None, None, 'unix:///tmp/supervisor.sock')
proxy = xmlrpc.client.ServerProxy('http://127.0.0.1', transport=t)
method = proxy
for part in sys.argv[1].split('.'):
    method = getattr(method, part)
print(json.dumps(method(*json.loads(sys.argv[2]))))
"""


PORT_CHECK = r"""
import socket, sys
s = socket.socket(); s.settimeout(1)
try:
    s.connect(('127.0.0.1', PORT)); print('open')
except OSError as e:
    print('closed', e)
""".replace("PORT", str(PORT))


def variant_config(text, drop=(), add=None):
    """A config derived from the user's: the sections named in `drop` left
    out, and for each section in `add` ({section: {key: value}}) the keys
    appended after its last line. Everything else (comments included) is the
    user's text unchanged."""
    add = add or {}
    out, section, pending = [], None, dict(add)

    def flush():
        # Insert the added keys before the blank lines that end the section.
        keys = pending.pop(section, None) if section is not None else None
        if keys:
            tail = []
            while out and not out[-1].strip():
                tail.append(out.pop())
            out.extend("%s=%s" % kv for kv in keys.items())
            out.extend(tail)

    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("[") and stripped.endswith("]"):
            if section not in drop:
                flush()
            section = stripped[1:-1].strip()
        if section in drop:
            continue
        out.append(line)
    if section not in drop:
        flush()
    if pending:
        raise ValueError("no section %s in the config" % ", ".join(sorted(pending)))
    return "\n".join(out) + "\n"


class Namespace:
    """One run of the tutorial image's CMD as PID 1 of fresh namespaces."""

    def __init__(self, workdir, tutorial, venv, daemon, conf_text=None, ctl=None):
        self.workdir = workdir
        # Our supervisorctl at /usr/local/bin/supervisorctl (first on PATH) in place of the
        # venv's script; None: whatever the venv has.
        self.ctl = os.path.realpath(ctl) if ctl else None
        # A config derived from the user's (variant_config), written over
        # /app/supervisord.conf in this namespace only; None: the user's file.
        self.conf_text = conf_text
        self.tutorial = tutorial
        self.venv = venv
        self.daemon = os.path.realpath(daemon)
        self.app_dir = os.path.join(workdir, "app")
        self.tmp_dir = os.path.join(workdir, "tmp")
        self.newroot = os.path.join(workdir, "newroot")
        self.out_path = os.path.join(workdir, "daemon.out")
        self.proc = None
        self.pid1 = None  # host pid of the namespace's PID 1
        self.exit_status = None
        self.events = []  # (monotonic, text) for the report

    # -- set-up ---------------------------------------------------------
    def _spec(self):
        vbin = os.path.join(self.venv, "bin")
        vpy = os.path.join(vbin, "python3")
        ulb = {}
        for name in os.listdir(vbin):
            if name.startswith(("activate", "Activate", "python")):
                continue
            ulb[name] = {"kind": "symlink", "target": os.path.join(vbin, name)}
        for name in ("python", "python3", "python3.10"):
            ulb[name] = {"kind": "script", "text": '#!/bin/sh\nexec %s "$@"\n' % vpy}
        ulb["supervisord"] = {"kind": "symlink", "target": self.daemon}
        if self.ctl:
            ulb["supervisorctl"] = {"kind": "symlink", "target": self.ctl}

        binds = set()
        for p in (os.path.realpath(self.venv), self.daemon, _shebang_root(self.daemon), self.ctl):
            if p and p.startswith("/tmp/"):
                binds.add("/tmp/" + p.split("/")[2])
        return {
            "newroot": self.newroot,
            "tmp_dir": self.tmp_dir,
            "app_dir": self.app_dir,
            "same_path_binds": sorted(binds),
            "usr_local_bin": ulb,
            "workdir": WORKDIR,
            "cmd": CMD,
            "hostname": "tutorial",
            "env": {"PATH": IMAGE_PATH, "HOME": "/root", "LANG": "C.UTF-8",
                    "HOSTNAME": "tutorial"},
        }

    def start(self):
        for d in (self.app_dir, self.tmp_dir, self.newroot):
            os.makedirs(d)
        os.chmod(self.tmp_dir, 0o1777)
        for f in USER_FILES:
            shutil.copyfile(os.path.join(self.tutorial, f), os.path.join(self.app_dir, f))
        if self.conf_text is not None:
            with open(self.host_path(CONF_PATH), "w") as f:
                f.write(self.conf_text)
        spec_path = os.path.join(self.workdir, "spec.json")
        with open(spec_path, "w") as f:
            json.dump(self._spec(), f, indent=1)
        self.out = open(self.out_path, "wb")
        self.proc = subprocess.Popen(
            ["unshare", "--pid", "--fork", "--mount", "--net", "--uts", "--ipc",
             "--mount-proc", "--", sys.executable, os.path.join(HERE, "ns_init.py"), spec_path],
            stdin=subprocess.DEVNULL, stdout=self.out, stderr=subprocess.STDOUT)
        self.pid1 = self._wait_child_of(self.proc.pid, 10)
        # The daemon is up when its socket exists (the socket is in /tmp).
        sock = os.path.join(self.tmp_dir, "supervisor.sock")
        self.wait_for(lambda: os.path.exists(sock), 30, "the daemon to create /tmp/supervisor.sock")
        self.event("daemon up (socket exists)")

    def _wait_child_of(self, ppid, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for name in os.listdir("/proc"):
                if not name.isdigit():
                    continue
                try:
                    with open("/proc/%s/status" % name) as f:
                        st = f.read()
                except OSError:
                    continue
                for line in st.splitlines():
                    if line.startswith("PPid:") and int(line.split()[1]) == ppid:
                        return int(name)
            if self.proc.poll() is not None:
                raise RuntimeError("unshare exited %s before forking:\n%s"
                                   % (self.proc.returncode, self.daemon_output()))
            time.sleep(0.05)
        raise RuntimeError("unshare did not fork PID 1 in %ss" % timeout)

    # -- helpers --------------------------------------------------------
    def event(self, text):
        self.events.append((time.monotonic(), text))

    def wait_for(self, pred, timeout, what, interval=0.25):
        deadline = time.monotonic() + timeout
        while True:
            v = pred()
            if v:
                return v
            if self.proc is not None and self.proc.poll() is not None:
                raise AssertionError("the namespace's PID 1 exited (%s) while waiting for %s"
                                     % (self.proc.returncode, what))
            if time.monotonic() > deadline:
                raise AssertionError("timed out after %ss waiting for %s" % (timeout, what))
            time.sleep(interval)

    def nsenter(self, argv, all_ns=True, timeout=60, check=False):
        """Run argv inside the namespaces (all, and the container's root and
        cwd), with the image's environment."""
        if all_ns:
            cmd = ["nsenter", "-t", str(self.pid1), "-a", "-r", "-w", "--",
                   "/usr/bin/env", "-i", "PATH=" + IMAGE_PATH, "HOME=/root", "LANG=C.UTF-8"]
        else:
            cmd = ["nsenter", "-t", str(self.pid1), "-n", "--"]
        r = subprocess.run(cmd + list(argv), capture_output=True, text=True, timeout=timeout)
        if check and r.returncode != 0:
            raise AssertionError("in the namespace, %s exited %s:\nstdout: %s\nstderr: %s"
                                 % (argv, r.returncode, r.stdout, r.stderr))
        return r

    def processes(self):
        r = self.nsenter(["python3", "-c", PROBE], check=True)
        return json.loads(r.stdout)

    def uvicorns(self, procs=None):
        procs = self.processes() if procs is None else procs
        return [p for p in procs if p["name"].lower() == "uvicorn"]

    def port_open(self):
        r = self.nsenter([sys.executable, "-c", PORT_CHECK], all_ns=False)
        return r.stdout.startswith("open")

    def leak(self, n):
        r = self.nsenter([sys.executable, "-c", CLIENT, str(n)], all_ns=False, timeout=300,
                         check=True)
        return int(r.stdout.strip())

    def leak_past(self, host_pid, after, rate=1.0):
        """Drive the leak of the uvicorn with this host pid past THRESHOLD,
        then at `rate` GET/s until it is restarted (or `after` requests)."""
        r = self.nsenter([sys.executable, "-c", LEAK_PAST, str(host_pid), str(THRESHOLD),
                          str(rate), str(after)], all_ns=False, timeout=300, check=True)
        return json.loads(r.stdout)

    def rpc(self, method, *args):
        r = self.nsenter(["python3", "-c", RPC, method, json.dumps(args)], check=True)
        return json.loads(r.stdout)

    def spawn_orphan(self):
        r = self.nsenter(["python3", "-c", ORPHAN], check=True)
        return int(r.stdout.strip())

    def supervisorctl(self, *args):
        return self.nsenter(["supervisorctl", "-c", CONF_PATH, *args])

    def sigterm_and_wait(self, timeout=120):
        t0 = time.monotonic()
        os.kill(self.pid1, signal.SIGTERM)
        try:
            self.exit_status = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError("PID 1 did not exit within %ss of SIGTERM" % timeout)
        return time.monotonic() - t0

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.kill(self.pid1, signal.SIGKILL)
            except (OSError, TypeError):
                pass
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(30)

    # -- files ----------------------------------------------------------
    def host_path(self, path_in_ns):
        if path_in_ns.startswith("/app/"):
            return os.path.join(self.app_dir, path_in_ns[5:])
        if path_in_ns.startswith("/tmp/"):
            return os.path.join(self.tmp_dir, path_in_ns[5:])
        raise ValueError(path_in_ns)

    def exists(self, path_in_ns):
        return os.path.lexists(self.host_path(path_in_ns))

    def read(self, path_in_ns):
        """A file of the container, read from the host (only /app and /tmp
        are host directories)."""
        p = self.host_path(path_in_ns)
        try:
            with open(p, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def daemon_output(self):
        try:
            with open(self.out_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def dump(self, lines=60):
        def tail(text):
            return "\n".join(text.splitlines()[-lines:])
        parts = []
        for title, text in (("daemon stdout/stderr (PID 1)", self.daemon_output()),
                            ("/tmp/supervisord.log", self.read("/tmp/supervisord.log")),
                            ("/app/monitor.log", self.read("/app/monitor.log")),
                            ("/app/uvicorn.log", self.read("/app/uvicorn.log"))):
            parts.append("----- %s (last %d lines) -----\n%s" % (title, lines, tail(text)))
        return "\n".join(parts)


def proc_children(pid):
    """The pids of pid's children (every thread's), from /proc; [] once it is gone."""
    kids = []
    try:
        for task in os.listdir("/proc/%d/task" % pid):
            with open("/proc/%d/task/%s/children" % (pid, task)) as f:
                kids.extend(int(x) for x in f.read().split())
    except OSError:
        pass
    return kids


class Sampler(threading.Thread):
    """Samples, from the host's /proc every `interval` s, the namespace's
    PID 1 and its descendants: host pid, pid in the namespace, parent, name
    and resident bytes. Reading a few files per process, no psutil; the
    figures of the memory-limit runs are derived from these samples."""

    def __init__(self, pid1, interval=0.1, depth=3):
        super().__init__(daemon=True)
        self.pid1, self.interval, self.depth = pid1, interval, depth
        self.samples = []  # (monotonic, {host pid: proc dict})
        self._static = {}  # host pid -> (comm, nspid, cmdline), re-read when comm changes
        self._halt = threading.Event()
        self._page = os.sysconf("SC_PAGE_SIZE")

    def _proc(self, pid, ppid):
        try:
            with open("/proc/%d/statm" % pid) as f:
                rss = int(f.read().split()[1]) * self._page
            # comm is read every time: a child seen between fork and exec
            # still has its parent's name (the reference's Python fork-to-
            # exec window is long), and exec changes it and the cmdline.
            with open("/proc/%d/comm" % pid) as f:
                comm = f.read().strip()
            st = self._static.get(pid)
            if st is None or st[0] != comm:
                with open("/proc/%d/status" % pid) as f:
                    nspid = next(int(l.split()[-1]) for l in f if l.startswith("NSpid:"))
                with open("/proc/%d/cmdline" % pid, "rb") as f:
                    cmdline = f.read().decode("utf-8", "replace").split("\0")
                st = self._static[pid] = (comm, nspid, cmdline)
        except (OSError, ValueError, IndexError, StopIteration):
            return None
        comm, nspid, cmdline = st
        return {"pid": pid, "nspid": nspid, "ppid": ppid, "name": comm, "rss": rss,
                "cmdline": cmdline}

    def snapshot(self):
        procs, level = {}, [(self.pid1, 0)]
        for _ in range(self.depth + 1):
            nxt = []
            for pid, ppid in level:
                p = self._proc(pid, ppid)
                if p is not None:
                    procs[pid] = p
                    nxt.extend((k, pid) for k in proc_children(pid))
            level = nxt
        return procs

    def run(self):
        while not self._halt.is_set():
            self.samples.append((time.monotonic(), self.snapshot()))
            self._halt.wait(self.interval)

    def stop(self):
        self._halt.set()
        self.join(10)

    # -- what the samples show -------------------------------------------
    def uvicorns(self, procs):
        """The uvicorn children of PID 1 in one sample (host pids)."""
        return [p for p in procs.values() if p["ppid"] == self.pid1 and p["name"] == "uvicorn"]

    def current_uvicorn(self):
        procs = self.snapshot()
        u = self.uvicorns(procs)
        return u[0] if len(u) == 1 else None

    def crossed(self, pid, threshold=THRESHOLD):
        """When the process first had more than `threshold` resident bytes."""
        return next((t for t, procs in self.samples
                     if pid in procs and procs[pid]["rss"] > threshold), None)

    def replaced(self, pid, since):
        """When a uvicorn other than `pid` was first seen after `since`, and it."""
        for t, procs in self.samples:
            if t < since:
                continue
            new = [p for p in self.uvicorns(procs) if p["pid"] != pid]
            if new:
                return t, new[0]
        return None, None

    def peak(self, pid):
        return max((procs[pid]["rss"] for _, procs in self.samples if pid in procs), default=0)

    def peak_of(self, pred):
        """The highest summed RSS, in one sample, of the processes matching `pred`."""
        return max((sum(p["rss"] for p in procs.values() if pred(p))
                    for _, procs in self.samples), default=0)


def _shebang_root(path):
    """For a script, the interpreter's path (so a venv under /tmp stays
    visible inside)."""
    try:
        with open(path, "rb") as f:
            head = f.read(256)
    except OSError:
        return None
    if head.startswith(b"#!"):
        interp = head[2:].split(b"\n")[0].strip().split()[0].decode()
        return interp
    return None
