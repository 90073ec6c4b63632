"""Harness for the compatibility tests: our daemon against the reference.

Every daemon test takes the parametrized ``daemon`` fixture (params ``ours``
and ``ref``).  The fixture hands over an unstarted :class:`Daemon`; the test
calls ``daemon.start(programs)`` with the program sections of its config and
then talks to it through the stock ``supervisorctl`` (``daemon.ctl(...)``) and
``xmlrpc.client`` (``daemon.rpc``).

Differential tests also take ``oracle``: a second, unstarted reference daemon
in its own temp dir.  ``compare(daemon, oracle, conf, scenario)`` runs the same
scenario on both and asserts the normalised results are equal.  Under the
``ref`` param this runs the reference twice, which checks that the scenario
and its normalisation are deterministic.

Environment:
  SUPERVISORD_BIN        our binary (default: <repo>/target/release/supervisord).
                         When it does not exist, ``ours`` tests FAIL.
  REFERENCE_SUPERVISORD  the reference daemon (default: the venv's supervisord).
  SUPERVISORCTL          the stock client (default: the venv's supervisorctl).
  SUPERVISORCTL_RS       our client (default: <repo>/target/release/supervisorctl).

Tests marked ``ctl_clients`` run once with each client (param ``client``:
``stock`` / ``ours``).  With ``ours``, ``daemon`` is driven through our client
and ``oracle`` is a daemon of the same kind driven through the stock one, so
``compare`` checks our client against the stock client on the same daemon.

All waits are deadline-based polls: a timeout only turns a hang into a
failure, no test asserts on elapsed time.
"""

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
import uuid
import xmlrpc.client
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
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


_LOG_PREFIX = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} ")
_STATUS_DATE = re.compile(r"\b[A-Z][a-z]{2} \d\d \d\d:\d\d [AP]M\b")
# time.ctime(): "Sun Dec  6 05:26:59 2026". The day is space-padded, and a browser's innerText
# collapses the two spaces to one, so both "Dec  6" and "Dec 6" (and "Dec 16") must match.
_CTIME = re.compile(r"\b[A-Z][a-z]{2} [A-Z][a-z]{2} {1,2}\d{1,2} \d\d:\d\d:\d\d \d{4}\b")


def normalise_ctime(text):
    """Replace every time.ctime() date, padded or collapsed, by CTIME."""
    return _CTIME.sub("CTIME", text)


def normalise(text, tmp=None):
    """Replace volatile values: pids, uptimes, timestamps, temp paths."""
    if tmp is not None:
        text = text.replace(str(tmp), "<TMP>")
    text = re.sub(r"(?m)^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} ", "", text)
    text = re.sub(r"\bpid \d+", "pid N", text)
    text = re.sub(r"(killing '[^']*') \(\d+\)", r"\1 (N)", text)
    # AUTO child logs: <name>-stdout---supervisor-<random>.log
    text = re.sub(r"-(stdout|stderr)---supervisor-[A-Za-z0-9_]+\.log", r"-\1---supervisor-R.log", text)
    text = re.sub(r"\buptime (\d+ days?, )?\d+:\d\d:\d\d", "uptime T", text)
    text = _STATUS_DATE.sub("DATE", text)
    text = re.sub(r"(?m)^[1-9]\d*$", "N", text)  # bare pid lines (supervisorctl pid)
    # where an uncaught error was raised: a Python file of the stock client's installation,
    # a source file of ours
    text = re.sub(r"(?m)(error: <class '[^']*'>, .*): file: .* line: \d+$",
                  r"\1: file: F line: N", text)
    return text


# Main log messages whose order and wording are compared between daemons.
MAINLOG_KEEP = re.compile(
    r"^(INFO|WARN|CRIT|ERRO) ("
    r"spawned: |success: |exited: |gave up: |stopped: |waiting for |"
    r"received SIG|spawnerr: |killing |reaped unknown pid|ignored SIG|"
    r"supervisord started)"
)


_STOP_PROGRESS = re.compile(r"^INFO waiting for \S+ to stop$")


def mainlog_events(text, tmp=None, unordered=(), progress=False):
    """The main log's lines that both daemons must print, normalised.

    ``unordered``: message prefixes (e.g. "stopped:") whose consecutive lines
    are sorted, for events whose order is a race (several processes stopped
    at once are reaped in any order).
    ``progress``: keep `waiting for x to stop`, which the reference logs only
    if the process is still STOPPING when supervisorctl first polls (a race
    unless the process ignores its stop signal)."""
    out = []
    for line in text.splitlines():
        line = _LOG_PREFIX.sub("", line)
        if not progress and _STOP_PROGRESS.match(line):
            continue
        if MAINLOG_KEEP.match(line):
            line = normalise(line, tmp)
            # throttled progress reports repeat a timing-dependent number of times
            if line.split(" ")[1:3] == ["waiting", "for"] and out and out[-1] == line:
                continue
            out.append(line)
    if unordered:
        out = _sort_runs(out, unordered)
    return out


def _sort_runs(lines, prefixes):
    def kind(line):
        msg = line.split(" ", 1)[1]
        return next((p for p in prefixes if msg.startswith(p)), None)
    out, run, run_kind = [], [], None
    for line in lines + [None]:
        k = kind(line) if line is not None else None
        if run and (k is None or k != run_kind):
            out.extend(sorted(run))
            run = []
        if k is not None:
            run.append(line)
            run_kind = k
        elif line is not None:
            out.append(line)
    return out


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
        creds = "username=%s\npassword=%s\n" % auth if auth else ""
        base = "[unix_http_server]\nfile=@TMP@/s.sock\n" + creds
        base += textwrap.dedent("""
            [supervisord]
            logfile=%s
            pidfile=@TMP@/supervisord.pid
            childlogdir=@TMP@
            nodaemon=true
            """ % logfile)
        base += textwrap.dedent(supervisord_extra)
        base += textwrap.dedent("""
            [rpcinterface:supervisor]
            supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

            [supervisorctl]
            serverurl=unix://@TMP@/s.sock
            """) + creds + textwrap.dedent(ctl_extra) + "\n"
        return self.subst(base) + self.subst(programs)

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


# ---------------------------------------------------------------- fixtures

# ---------------------------------------------------------------- TCP ports
#
# No port is chosen in advance and assumed free: any other process on the machine (another
# test worker, another test run) may take it between the choice and the bind. The kernel
# suggests a port, the daemon is started on it, and when the daemon could not bind it the
# attempt is thrown away and another port is tried.

def kernel_port():
    """A port the kernel considers free right now (a suggestion, not a reservation)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _listening_inodes(port):
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                next(f)
                for line in f:
                    fields = line.split()
                    local, state, inode = fields[1], fields[3], fields[9]
                    if state == "0A" and int(local.rsplit(":", 1)[1], 16) == port:
                        inodes.add(inode)
        except FileNotFoundError:
            pass
    return inodes


def holds_listener(pid, port):
    """Whether process ``pid`` itself has a listening TCP socket on ``port``."""
    inodes = _listening_inodes(port)
    if not inodes:
        return False
    fd_dir = "/proc/%d/fd" % pid
    try:
        fds = os.listdir(fd_dir)
    except OSError:
        return False
    for fd in fds:
        try:
            link = os.readlink(os.path.join(fd_dir, fd))
        except OSError:
            continue
        if link.startswith("socket:[") and link[8:-1] in inodes:
            return True
    return False


# What each daemon says when a port it must bind is taken.
PORT_TAKEN = ("Another program is already listening on a port",
              "Could not create FastCGI socket")


def start_on_free_port(d, make, wait_ready=True, attempts=20, suggest=kernel_port):
    """Start ``d`` on ``make(port)`` (the whole config text, @..@ substituted), on a port that
    the daemon itself ends up listening on; returns the port. The daemon's stderr, log and
    temp files of a failed attempt are removed before the next one."""
    for _ in range(attempts):
        port = suggest()
        d.write_config(raw=make(port))
        d.spawn()

        def settled():
            if holds_listener(d.proc.pid, port):
                return "bound"
            if d.proc.poll() is not None:
                return "exited"
            log = d.logfile.read_text(errors="replace") if d.logfile.exists() else ""
            if any(m in log for m in PORT_TAKEN):
                return "taken"
            return None

        outcome = wait_until(settled, START_TIMEOUT, what="%s daemon to listen on port %d"
                             % (d.kind, port))
        if outcome == "bound":
            if wait_ready and d.sock.exists():
                d.wait_ready()
            return port
        errors = d.stderr_path.read_text(errors="replace") if d.stderr_path.exists() else ""
        if outcome == "exited" and not any(m in errors for m in PORT_TAKEN):
            d.signalled = False
            d.check_alive()  # fails, with the daemon's stderr in the report
        d.stop()
        d.proc, d.signalled = None, False
        for path in (d.stderr_path, d.stdout_path, d.logfile):
            if path.exists():
                path.unlink()
    pytest.fail("no port could be bound in %d attempts" % attempts)


@pytest.fixture
def make_daemon(request):
    """Factory: make_daemon(kind) → an unstarted Daemon in a fresh temp dir."""
    made = []

    def make(kind):
        # short paths: unix socket paths are limited to ~108 bytes
        tmp = tempfile.mkdtemp(prefix="sv-%s-" % kind)
        d = Daemon(kind, tmp)
        made.append(d)
        return d

    request.node._daemons = made
    yield make
    for d in made:
        d.stop()
    if not request.session.config.getoption("--keep-tmp"):
        for d in made:
            shutil.rmtree(d.tmp, ignore_errors=True)


@pytest.fixture
def client(request):
    """Which supervisorctl drives ``daemon``: "stock", or "ours" in ``ctl_clients`` tests."""
    return getattr(request, "param", "stock")


def pytest_generate_tests(metafunc):
    if "client" in metafunc.fixturenames and metafunc.definition.get_closest_marker("ctl_clients"):
        metafunc.parametrize("client", ["stock", "ours"], indirect=True)


@pytest.fixture(params=["ours", "ref"])
def daemon(request, make_daemon, client):
    """The daemon under test: ours or the reference (unstarted), driven through ``client``."""
    d = make_daemon(request.param)
    d.client = client
    return d


@pytest.fixture
def oracle(make_daemon, daemon, client):
    """A second daemon (unstarted), for differential comparison: the reference, driven
    through the stock client; with our client under test, a daemon of the same kind as
    ``daemon`` driven through the stock client."""
    return make_daemon(daemon.kind if client == "ours" else "ref")


def compare(daemon, oracle, scenario, *args, **kwargs):
    """Run scenario(d, *args, **kwargs) on daemon and on the oracle; assert equal.

    The scenario starts the daemon itself and returns a normalised, comparable
    value.  Returns the daemon's result."""
    got = scenario(daemon, *args, **kwargs)
    want = scenario(oracle, *args, **kwargs)
    if got != want:
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


def pytest_addoption(parser):
    parser.addoption("--keep-tmp", action="store_true",
                     help="keep the daemons' temp dirs for inspection")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """On failure, attach each daemon's stderr and main log to the report."""
    outcome = yield
    report = outcome.get_result()
    if report.failed:
        for d in getattr(item, "_daemons", []):
            if d.proc is not None or d.stderr_path.exists():
                report.sections.append(("daemon %s (%s)" % (d.kind, d.tmp), d.diagnostics()))


def pytest_terminal_summary(terminalreporter):
    """The container tests' SIGTERM-to-exit times, printed side by side (not asserted)."""
    cns = sys.modules.get("container_ns")
    times = getattr(cns, "SIGTERM_TIMES", None)
    if not times:
        return
    terminalreporter.section("container: SIGTERM to PID 1 -> exit (not asserted)")
    for kind in ("ref", "ours"):
        if kind in times:
            terminalreporter.write_line("%-5s %.3f s" % (kind, times[kind]))
