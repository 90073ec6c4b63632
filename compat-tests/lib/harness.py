"""The harness: one supervisord (ours or the reference) in its own temp dir, driven through
supervisorctl and xmlrpc.client, and the deadline-based waits the tests use.

The fixtures that hand these daemons to the tests are in conftest.py; the tests import
everything through conftest.
"""

import os
import signal
import subprocess
import sys
import textwrap
import time
import uuid
import xmlrpc.client
from pathlib import Path

import pytest

from lib.fragments import (RPCINTERFACE, sections, supervisorctl, supervisord,
                           unix_http_server)
from lib.normalise import mainlog_events, normalise, same_output

HERE = Path(__file__).resolve().parent.parent  # compat-tests/
REPO = HERE.parent
BIN_DIR = Path(sys.executable).parent

OURS = Path(os.environ.get("SUPERVISORD_BIN") or REPO / "target" / "release" / "supervisord")
REF = Path(os.environ.get("REFERENCE_SUPERVISORD") or BIN_DIR / "supervisord")
CTL = Path(os.environ.get("SUPERVISORCTL") or BIN_DIR / "supervisorctl")
OUR_CTL = Path(os.environ.get("SUPERVISORCTL_RS") or REPO / "target" / "release" / "supervisorctl")
PYTHON = sys.executable
# the programs and event listeners the tests run (config text names them @CHILDREN@/x.py)
CHILDREN = HERE / "children"

# Generous deadlines: they only turn a hang into a failure.
START_TIMEOUT = 30
WAIT_TIMEOUT = 30
CTL_TIMEOUT = 90
STOP_TIMEOUT = 60

# What both daemons log first, run as root on the base config (normalised pids).
STARTUP_LOG = [
    "CRIT Supervisor is running as root.  Privileges were not dropped because no user is "
    "specified in the config file.  If you intend to run as root, you can set user=root in "
    "the config file to avoid this message.",
    "INFO RPC interface 'supervisor' initialized",
    "CRIT Server 'unix_http_server' running without any HTTP authentication checking",
    "INFO supervisord started with pid N",
]

TAG_VAR = "COMPAT_TEST_TAG"


# ---------------------------------------------------------------- helpers

def call(d, method, *args):
    """Call an API method; return ("ok", value) or ("fault", code, normalised string)."""
    fn = d.rpc
    for part in method.split("."):
        fn = getattr(fn, part)
    try:
        return ("ok", fn(*args))
    except xmlrpc.client.Fault as e:
        return ("fault", e.faultCode, d.norm(e.faultString))


def wait_until(predicate, timeout=WAIT_TIMEOUT, interval=0.05, what=None, daemon=None):
    """Poll ``predicate`` until it returns a truthy value; return that value.

    Fails (not asserts on time) when the deadline passes.  If ``daemon`` is
    given, fails early when that daemon process has exited.
    """
    deadline = time.monotonic() + timeout
    last_exc = None
    while True:
        try:
            value = predicate()
            if value:
                return value
        except (OSError, xmlrpc.client.Fault, xmlrpc.client.ProtocolError) as e:
            last_exc = e
        if daemon is not None:
            daemon.check_alive()
        if time.monotonic() > deadline:
            msg = "timed out after %ss waiting for %s" % (timeout, what or predicate)
            if last_exc is not None:
                msg += " (last error: %r)" % (last_exc,)
            # the daemons' stderr and logs are attached to the report (see below)
            pytest.fail(msg)
        time.sleep(interval)


def pid_alive(pid):
    """True when pid exists and is not a zombie."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            stat = f.read()
    except (FileNotFoundError, ProcessLookupError):
        return False
    state = stat.rsplit(")", 1)[1].split()[0]
    return state not in ("Z", "X")


def proc_comm(pid):
    with open("/proc/%d/comm" % pid) as f:
        return f.read().strip()


def proc_ppid(pid):
    with open("/proc/%d/stat" % pid) as f:
        return int(f.read().rsplit(")", 1)[1].split()[1])


def _kill_tagged(tag, sig=signal.SIGKILL):
    """Kill every process whose environment carries our per-daemon tag."""
    needle = ("%s=%s" % (TAG_VAR, tag)).encode()
    killed = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        pid = int(entry)
        if pid == os.getpid():
            continue
        try:
            with open("/proc/%d/environ" % pid, "rb") as f:
                env = f.read().split(b"\0")
        except OSError:
            continue
        if needle in env:
            try:
                os.kill(pid, sig)
                killed.append(pid)
            except ProcessLookupError:
                pass
    return killed


# ---------------------------------------------------------------- daemon

class Daemon:
    """One supervisord (ours or the reference) in its own temp dir."""

    def __init__(self, kind, tmp):
        assert kind in ("ours", "ref")
        self.kind = kind
        self.tmp = Path(tmp)
        self.sock = self.tmp / "s.sock"
        self.logfile = self.tmp / "supervisord.log"
        self.pidfile = self.tmp / "supervisord.pid"
        self.conf = self.tmp / "supervisord.conf"
        self.stdout_path = self.tmp / "daemon.stdout"
        self.stderr_path = self.tmp / "daemon.stderr"
        self.tag = uuid.uuid4().hex
        self.client = "stock"  # which supervisorctl ctl() runs: "stock" or "ours"
        self.proc = None
        self.signalled = False  # we sent it a terminating signal

    # -- config
    @property
    def binary(self):
        return OURS if self.kind == "ours" else REF

    def subst(self, text):
        """@TMP@ → the temp dir, @PYTHON@ → this python, @CHILDREN@ → the child programs."""
        return (textwrap.dedent(text)
                .replace("@TMP@", str(self.tmp))
                .replace("@PYTHON@", PYTHON)
                .replace("@CHILDREN@", str(CHILDREN)))

    def config_text(self, programs="", supervisord_extra="", auth=None,
                    logfile="@TMP@/supervisord.log", ctl_extra=""):
        """The base config plus ``programs``. ``auth`` = (user, password) sets
        them on the unix server and in [supervisorctl]; ``ctl_extra`` is added to
        [supervisorctl]."""
        user, password = auth or (None, None)
        base = sections(
            unix_http_server(user, password),
            supervisord(logfile) + textwrap.dedent(supervisord_extra),
            RPCINTERFACE,
            supervisorctl(username=user, password=password) + textwrap.dedent(ctl_extra))
        return self.subst(base + "\n") + self.subst(programs)

    def write_config(self, programs="", supervisord_extra="", raw=None, **base):
        """Write the config; ``raw`` replaces the whole file (after @..@ substitution);
        ``base`` goes to `config_text`."""
        text = (self.subst(raw) if raw is not None
                else self.config_text(programs, supervisord_extra, **base))
        self.conf.write_text(text)
        return self.conf

    # -- lifecycle
    def command(self, conf=None):
        return [str(self.binary), "-n", "-c", str(conf or self.conf)]

    def require_binary(self):
        if not self.binary.exists():
            pytest.fail("%s daemon binary not found at %s (set SUPERVISORD_BIN / "
                        "REFERENCE_SUPERVISORD, or build it)" % (self.kind, self.binary))

    def env(self):
        env = dict(os.environ)
        env[TAG_VAR] = self.tag
        # keep the daemon's own python quiet and unbuffered-independent
        env.pop("SUPERVISOR_ENABLED", None)
        return env

    def spawn(self, conf=None):
        """Start the daemon process without waiting for it."""
        self.require_binary()
        self.proc = subprocess.Popen(
            self.command(conf),
            cwd=str(self.tmp),
            env=self.env(),
            stdin=subprocess.DEVNULL,
            stdout=open(self.stdout_path, "ab"),
            stderr=open(self.stderr_path, "ab"),
            start_new_session=True,
        )
        return self.proc

    def start(self, programs="", supervisord_extra="", raw=None, wait_ready=True, **base):
        """Write the config, start the daemon, wait until getState answers."""
        self.write_config(programs, supervisord_extra, raw, **base)
        self.spawn()
        if wait_ready:
            self.wait_ready()
        return self

    def wait_ready(self, timeout=START_TIMEOUT):
        def ready():
            if not self.sock.exists():
                return False
            return self.rpc.supervisor.getState()["statename"] == "RUNNING"
        wait_until(ready, timeout, what="%s daemon to answer getState" % self.kind, daemon=self)

    def run_to_exit(self, timeout=START_TIMEOUT, conf=None):
        """Run the daemon expecting it to exit by itself (e.g. a bad config).

        Returns (exit status, stdout, stderr)."""
        self.spawn(conf)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            pytest.fail("%s daemon did not exit within %ss" % (self.kind, timeout))
        return rc, self.stdout_path.read_text(errors="replace"), self.stderr_path.read_text(errors="replace")

    def check_alive(self):
        if self.proc is not None and not self.signalled and self.proc.poll() is not None:
            pytest.fail("%s daemon exited unexpectedly with status %s (its stderr and "
                        "log are in the report's daemon section)" % (self.kind, self.proc.returncode))

    def send(self, sig):
        if sig in (signal.SIGTERM, signal.SIGINT, signal.SIGQUIT):
            self.signalled = True
        os.kill(self.proc.pid, sig)

    def wait_exit(self, timeout=STOP_TIMEOUT):
        self.signalled = True
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            pytest.fail("%s daemon did not exit within %ss" % (self.kind, timeout))

    def stop(self):
        """Teardown: SIGTERM, wait, then SIGKILL whatever is left (daemon and children)."""
        if self.proc is None:
            return
        self.signalled = True
        if self.proc.poll() is None:
            try:
                os.kill(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        # children (and grandchildren) still carrying our tag
        for _ in range(3):
            if not _kill_tagged(self.tag):
                break
            time.sleep(0.1)

    # -- talking to it
    @property
    def ctl_bin(self):
        """The supervisorctl this daemon is driven through (see ``client``)."""
        if self.client == "stock":
            return CTL
        if not OUR_CTL.exists():
            pytest.fail("our supervisorctl not found at %s (set SUPERVISORCTL_RS, or build it)"
                        % OUR_CTL)
        return OUR_CTL

    @property
    def rpc(self):
        from supervisor.xmlrpc import SupervisorTransport
        transport = SupervisorTransport(None, None, "unix://%s" % self.sock)
        return xmlrpc.client.ServerProxy("http://127.0.0.1", transport=transport)

    def ctl(self, *args, timeout=CTL_TIMEOUT):
        """Run supervisorctl (``ctl_bin``); return (exit code, stdout, stderr)."""
        cmd = [str(self.ctl_bin), "-c", str(self.conf)] + [str(a) for a in args]
        try:
            p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                               stdin=subprocess.DEVNULL, cwd=str(self.tmp))
        except subprocess.TimeoutExpired:
            pytest.fail("supervisorctl %s timed out after %ss" % (" ".join(map(str, args)), timeout))
        return p.returncode, p.stdout, p.stderr

    def ctl_norm(self, *args, **kw):
        """supervisorctl with normalised stdout and stderr."""
        rc, out, err = self.ctl(*args, **kw)
        return rc, self.norm(out), self.norm(err)

    def ctl_sorted(self, *args, **kw):
        """supervisorctl, normalised, stdout lines sorted: for commands on several
        processes, whose result lines come in completion order (a race)."""
        rc, out, err = self.ctl_norm(*args, **kw)
        return rc, "".join(sorted(out.splitlines(True))), err

    def norm(self, text):
        return normalise(text, self.tmp)

    def info(self, name):
        return self.rpc.supervisor.getProcessInfo(name)

    def state(self, name):
        return self.info(name)["statename"]

    def wait_state(self, name, *statenames, timeout=WAIT_TIMEOUT, alive=False):
        """Wait until process ``name`` is in one of ``statenames``; return its info.
        With ``alive``, RUNNING also needs its pid alive: the reference reports a
        killed process RUNNING until its next tick reaps it."""
        def check():
            info = self.info(name)
            if info["statename"] not in statenames:
                return None
            if alive and info["statename"] == "RUNNING" and not pid_alive(info["pid"]):
                return None
            return info
        info = wait_until(check, timeout, daemon=self,
                          what="%s to be %s on %s" % (name, "/".join(statenames), self.kind))
        if info["statename"] == "RUNNING" and info["pid"]:
            self.wait_exec(info["pid"])
        return info

    def wait_exec(self, pid, timeout=WAIT_TIMEOUT):
        """Wait until a child has exec'd its program.

        With startsecs=0 a process is RUNNING right after fork; a signal that
        reaches the child before exec is lost (the reference's forked child
        still has the daemon's handlers), so tests wait for the exec before
        stopping anything."""
        daemon_comm = proc_comm(self.proc.pid)

        def done():
            try:
                return proc_comm(pid) != daemon_comm
            except OSError:
                return True  # already gone
        wait_until(done, timeout, daemon=self, what="pid %s to exec" % pid)

    def wait_log(self, needle, timeout=WAIT_TIMEOUT, count=1):
        """Wait until the main log contains ``needle`` (a str or compiled regex) count times."""
        def check():
            text = self.log_text()
            n = len(needle.findall(text)) if hasattr(needle, "findall") else text.count(needle)
            return n >= count
        wait_until(check, timeout, daemon=self, what="%r in the %s main log" % (needle, self.kind))

    def log_text(self):
        try:
            return self.logfile.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def events(self, unordered=(), progress=False):
        """Normalised main-log lines of interest (see MAINLOG_KEEP, mainlog_events)."""
        return mainlog_events(self.log_text(), self.tmp, unordered, progress)

    def diagnostics(self):
        parts = ["--- %s daemon: %s" % (self.kind, " ".join(self.command()))]
        if self.proc is not None:
            parts.append("exit status: %s" % self.proc.poll())
        for label, path in (("stderr", self.stderr_path), ("stdout", self.stdout_path),
                            ("main log", self.logfile)):
            try:
                text = path.read_text(errors="replace")
            except FileNotFoundError:
                text = "(missing)"
            parts.append("--- %s %s:\n%s" % (self.kind, label, text[-6000:]))
        return "\n".join(parts)


# ---------------------------------------------------------------- comparison

def compare(daemon, oracle, scenario, *args, **kwargs):
    """Run scenario(d, *args, **kwargs) on daemon and on the oracle; assert equal.

    The scenario starts the daemon itself and returns a normalised, comparable
    value.  Returns the daemon's result (its error lines as they are: see
    ``same_output``)."""
    got = scenario(daemon, *args, **kwargs)
    if (daemon.kind, daemon.client) == (oracle.kind, oracle.client):
        # The reference through the stock client is its own oracle: a second run would only
        # repeat it (its result is still checked by the test's own assertions).
        return got
    want = scenario(oracle, *args, **kwargs)
    if not same_output(got, daemon.client, want, oracle.client):
        pytest.fail("%s daemon with the %s client differs from %s daemon with the %s client:\n%s"
                    % (daemon.kind, daemon.client, oracle.kind, oracle.client, diff(want, got)),
                    pytrace=False)
    return got


def diff(want, got):
    """A readable diff of two scenario results (reference first)."""
    import difflib
    import pprint
    if isinstance(want, dict) and isinstance(got, dict):
        parts = []
        for key in list(want) + [k for k in got if k not in want]:
            if want.get(key, "<missing>") != got.get(key, "<missing>"):
                parts.append("[%s]\n%s" % (key, diff(want.get(key, "<missing>"),
                                                     got.get(key, "<missing>"))))
        return "\n".join(parts)
    a = pprint.pformat(want, width=100).splitlines()
    b = pprint.pformat(got, width=100).splitlines()
    return "\n".join(difflib.unified_diff(a, b, "reference", "under test", lineterm=""))
