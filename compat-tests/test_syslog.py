"""Syslog: child output (`stdout_syslog`/`stderr_syslog`, the deprecated
`stdout_logfile=syslog`/`stderr_logfile=syslog`) and the daemon's own log
(`logfile=syslog`), compared byte for byte with what the reference sends.

Both daemons call syslog(3), which writes datagrams to `/dev/log`.  Each
daemon runs in a private mount namespace (`unshare --mount`) where an overlay
over `/dev` adds `log` as a symlink to a Unix datagram socket that the test
binds in the daemon's temp dir; the host's `/dev` is not touched.  The test
reads the datagrams from that socket and replaces the time stamp (and the
ident, the daemon binary's name).

Child output is written in steps: the program writes one chunk, then waits
for a file that the test creates once the chunk's DEBG echo is in the main
log.  Both daemons send a chunk's syslog messages before they echo it, so the
datagrams read at that point are exactly those of the chunk: each chunk is
one read for the daemon, and the grouping is compared too.

Needs root (mount namespaces, overlayfs): skipped otherwise, with the reason.
"""

import os
import re
import shutil
import socket
import subprocess

import pytest

from conftest import STARTUP_LOG, WAIT_TIMEOUT, compare, wait_until
from lib.output import OUT, X

SOCK_NAME = "log.sock"
# The datagram syslog(3) writes: <PRI>Mmm dd hh:mm:ss IDENT: MESSAGE
DGRAM = re.compile(rb"^<(\d+)>[A-Z][a-z]{2} [ 1-3]\d \d\d:\d\d:\d\d ([^ :\[]+): ")
ASCTIME = re.compile(rb"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} ")
ECHO = re.compile(r"DEBG '\w+' (stdout|stderr) output:\n")
HEAD = b"<14>TIME IDENT: "  # LOG_USER | LOG_INFO, time stamp and ident replaced


# ---------------------------------------------------------------- the namespace

_PROBE = None


def _probe():
    """Why a daemon cannot run with a private /dev/log here, or None."""
    global _PROBE
    if _PROBE is not None:
        return _PROBE or None
    if os.geteuid() != 0:
        _PROBE = "not root (needs a mount namespace and an overlay mount)"
    elif not (shutil.which("unshare") and shutil.which("mount")):
        _PROBE = "unshare(1) or mount(8) not found"
    else:
        import tempfile
        tmp = tempfile.mkdtemp(prefix="sv-syslog-probe-")
        try:
            cmd = _wrap(tmp, os.path.join(tmp, "target")) + ["sh", "-c", "test -L /dev/log"]
            p = subprocess.run(cmd, capture_output=True, text=True, timeout=WAIT_TIMEOUT)
            _PROBE = "" if p.returncode == 0 else (
                "cannot overlay /dev in a mount namespace: %s" % (p.stderr.strip() or p.returncode))
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return _PROBE or None


def _wrap(tmp, target):
    """The command prefix that runs a command with /dev/log -> target."""
    up, work = os.path.join(tmp, "dev-upper"), os.path.join(tmp, "dev-work")
    os.makedirs(up)
    os.makedirs(work)
    os.symlink(target, os.path.join(up, "log"))
    script = ('mount -t overlay overlay -o "lowerdir=/dev,upperdir=$1,workdir=$2" /dev'
              ' && shift 2 && exec "$@"')
    return ["unshare", "--mount", "--propagation", "private", "--",
            "sh", "-c", script, "sh", up, work]


def private_dev_log(d, target=None):
    """Make daemon d run with /dev/log pointing at target (default: its
    SOCK_NAME socket).  The pid of the spawned process is the daemon's
    (unshare and sh exec)."""
    reason = _probe()
    if reason:
        pytest.skip("syslog tests need a private /dev/log: " + reason)
    prefix = _wrap(str(d.tmp), str(target or d.tmp / SOCK_NAME))
    plain = d.command
    d.command = lambda conf=None: prefix + plain(conf)


class SyslogServer:
    """A Unix datagram socket standing in for the syslog daemon."""

    def __init__(self, path):
        self.path = str(path)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.sock.setblocking(False)
        self.got = []

    def drain(self):
        """Every datagram received so far and not yet returned."""
        new = []
        while True:
            try:
                new.append(self.sock.recv(1 << 20))
            except BlockingIOError:
                break
        self.got.extend(new)
        return new

    def close(self):
        self.sock.close()


def norm_dgram(d, raw):
    """<14>TIME IDENT: message, the message's bytes as sent.  The ident must be
    the daemon binary's name (the C library's and Python's default)."""
    m = DGRAM.match(raw)
    if not m:
        return b"UNPARSED " + raw
    ident = m.group(2)
    if ident == os.path.basename(d.binary).encode():
        ident = b"IDENT"
    return b"<%s>TIME %s: " % (m.group(1), ident) + raw[m.end():]


# ---------------------------------------------------------------- child output

def run_steps(d, programs, steps, supervisord_extra=""):
    """steps: (program, stream, bytes).  Each program writes its chunks in
    turn; chunk i is written once go<i-1> exists.  Returns the normalised
    datagrams received for each chunk."""
    actions = {name: [] for name in programs}
    for i, (name, stream, data) in enumerate(steps):
        if i:
            actions[name].append("wait:@TMP@/go%d" % (i - 1))
        actions[name].append(X(stream, data))
    conf = ""
    for name, settings in programs.items():
        conf += "[program:%s]\ncommand=%s %s\nstartsecs=0\nautorestart=false\n%s\n" % (
            name, OUT, " ".join(actions[name]), settings)
    srv = SyslogServer(d.tmp / SOCK_NAME)
    private_dev_log(d)
    try:
        d.start(conf, supervisord_extra="loglevel=debug\n" + supervisord_extra)
        per_step = []
        for i in range(len(steps)):
            d.wait_log(ECHO, count=i + 1)
            per_step.append([norm_dgram(d, m) for m in srv.drain()])
            (d.tmp / ("go%d" % i)).touch()
        return per_step
    finally:
        srv.close()


def config_info(d, names):
    keys = ("stdout_logfile", "stdout_syslog", "stderr_logfile", "stderr_syslog", "redirect_stderr")
    out = {}
    for c in d.rpc.supervisor.getAllConfigInfo():
        if c["name"] in names:
            out[c["name"]] = {k: d.norm(c[k]) if isinstance(c[k], str) else c[k] for k in keys}
    return out


STREAM_STEPS = [
    ("x", "out", b"hello\n"),
    ("x", "err", b"oops\n"),
    ("x", "out", b"part"),                              # a line split across writes
    ("x", "out", b"ial\nline two\n\nlast"),
    ("x", "out", b" line\n"),
    ("x", "out", b"bad \xff\xfe utf8\nnext\n"),           # not UTF-8
    ("x", "err", b"nul\x00after\nok\n"),                # a NUL byte
    ("x", "out", "caf\u00e9 \u2713 \x1b[31mred\x1b[0m\ttab\r\n".encode()),
    ("x", "err", b"trailing\n\n\n"),
    ("x", "out", b"\n"),
    ("x", "err", b"x" * 3000 + b"\n"),
]


def scenario_streams(d):
    steps = run_steps(d, {"x": "stdout_syslog=true\nstderr_syslog=true\n"
                               "stdout_logfile=@TMP@/x-out.log\nstderr_logfile=@TMP@/x-err.log\n"},
                      STREAM_STEPS)
    return {"syslog": steps,
            "out file": (d.tmp / "x-out.log").read_bytes(),
            "err file": (d.tmp / "x-err.log").read_bytes(),
            "config": config_info(d, ["x"])}


def test_stdout_and_stderr(daemon, oracle):
    """Both streams to syslog and to their files: one message per line, the
    program's name in front; a chunk that is not UTF-8 is not sent; a NUL
    ends its line; the files get every byte."""
    res = compare(daemon, oracle, scenario_streams)
    h = HEAD
    assert res["syslog"] == [
        [h + b"x hello"],
        [h + b"x oops"],
        [h + b"x part"],
        [h + b"x ial", h + b"x line two", h + b"x ", h + b"x last"],
        [h + b"x  line"],
        [],
        [h + b"x nul", h + b"x ok"],
        [h + "x caf\u00e9 \u2713 \x1b[31mred\x1b[0m\ttab\r".encode()],
        [h + b"x trailing"],
        [h + b"x "],
        [h + b"x " + b"x" * 3000],
    ]
    out = b"".join(data for _, s, data in STREAM_STEPS if s == "out")
    err = b"".join(data for _, s, data in STREAM_STEPS if s == "err")
    assert (res["out file"], res["err file"]) == (out, err)
    assert res["config"]["x"]["stdout_syslog"] is True
    assert res["config"]["x"]["stderr_syslog"] is True


def scenario_deprecated(d):
    """redirect_stderr with stdout_logfile=syslog; stderr_logfile=syslog on
    its own; a program with syslog for one stream only."""
    programs = {
        "r": "redirect_stderr=true\nstdout_logfile=syslog\n",
        "s": "stdout_logfile=@TMP@/s-out.log\nstderr_logfile=syslog\n",
        "t": "stdout_logfile=@TMP@/t-out.log\nstderr_logfile=@TMP@/t-err.log\nstdout_syslog=true\n",
    }
    steps = [
        ("r", "out", b"r to stdout\n"),
        ("r", "err", b"r to stderr\n"),
        ("s", "out", b"s to stdout\n"),
        ("s", "err", b"s to stderr\n"),
        ("t", "out", b"t to stdout\n"),
        ("t", "err", b"t to stderr\n"),
    ]
    res = {"syslog": run_steps(d, programs, steps)}
    res["files"] = {name: (d.tmp / name).read_bytes()
                    for name in sorted(os.listdir(d.tmp)) if re.match(r"^[rst]-", name)}
    res["config"] = config_info(d, list(programs))
    res["warnings"] = [l for l in d.norm(d.log_text()).splitlines() if "deprecated" in l]
    return res


def test_redirect_stderr_and_logfile_syslog(daemon, oracle):
    res = compare(daemon, oracle, scenario_deprecated)
    h = HEAD
    assert res["syslog"] == [
        [h + b"r r to stdout"], [h + b"r r to stderr"],
        [], [h + b"s s to stderr"],
        [h + b"t t to stdout"], [],
    ]
    # stdout_logfile=syslog means no file (not an AUTO one)
    assert res["files"] == {"s-out.log": b"s to stdout\n", "t-err.log": b"t to stderr\n",
                            "t-out.log": b"t to stdout\n"}
    assert res["config"]["r"]["stdout_logfile"] == "none"
    assert res["config"]["r"]["stdout_syslog"] is True
    assert len(res["warnings"]) == 2


def scenario_late_socket(d):
    """/dev/log leads nowhere at first, then the syslog socket appears."""
    late = d.tmp / "late.sock"
    private_dev_log(d, late)
    srv = None
    try:
        d.start("""
            [program:x]
            command=%s %s wait:@TMP@/go0 %s
            startsecs=0
            autorestart=false
            stdout_syslog=true
            stdout_logfile=@TMP@/x-out.log
            """ % (OUT, X("out", "before\n"), X("out", "after\n")),
            supervisord_extra="loglevel=debug\n")
        d.wait_log(ECHO, count=1)
        srv = SyslogServer(late)
        (d.tmp / "go0").touch()
        d.wait_log(ECHO, count=2)
        got = [norm_dgram(d, m) for m in srv.drain()]
        return {"syslog": got, "state": d.state("x"),
                "file": (d.tmp / "x-out.log").read_bytes()}
    finally:
        if srv is not None:
            srv.close()


def test_missing_dev_log(daemon, oracle):
    """No syslog socket: the output is dropped quietly, the file and the
    process are unaffected; once the socket exists, messages reach it."""
    res = compare(daemon, oracle, scenario_late_socket)
    assert res == {"syslog": [b"<14>TIME IDENT: x after"], "state": "RUNNING",
                   "file": b"before\nafter\n"}


# ---------------------------------------------------------------- the main log

def scenario_mainlog(d):
    srv = SyslogServer(d.tmp / SOCK_NAME)
    private_dev_log(d)
    try:
        d.start("""
            [program:x]
            command=%s %s
            startsecs=0
            autorestart=false
            stdout_logfile=NONE
            stderr_logfile=NONE
            """ % (OUT, X("out", "one\ntwo\n")), supervisord_extra="loglevel=debug\n",
                logfile="syslog")

        def messages():
            srv.drain()
            return [norm_dgram(d, m) for m in srv.got]

        def has(needle):
            return lambda: any(needle in m for m in messages())
        wait_until(has(b"success: x entered RUNNING"), daemon=d, what="success in syslog")
        wait_until(has(b"DEBG two\n"), daemon=d, what="output echo in syslog")
        got = messages()
        heads = [m[:len(HEAD)] for m in got]
        bodies = [ASCTIME.sub(b"", m[len(HEAD):]) for m in got]
        stamped = [bool(ASCTIME.match(m[len(HEAD):])) for m in got]
        text = b"".join(bodies).decode()
        i = bodies.index(b"DEBG 'x' stdout output:\n")
        return {
            "heads": sorted(set(heads)),
            "all stamped": all(stamped),
            "every message one line": all(b.count(b"\n") == 1 and b.endswith(b"\n") for b in bodies),
            "events": [d.norm(l) for l in text.splitlines() if re.match(r"(CRIT|ERRO|WARN|INFO) ", l)],
            "echo": bodies[i:i + 3],
            "no log file": not any(d.tmp.glob("syslog*")),
        }
    finally:
        srv.close()


def test_mainlog_to_syslog(daemon, oracle):
    """logfile=syslog: each line of each record is one message, in the main
    log's line format, its newline included."""
    res = compare(daemon, oracle, scenario_mainlog)
    assert res["heads"] == [HEAD]
    assert res["all stamped"] and res["every message one line"] and res["no log file"]
    assert res["events"] == STARTUP_LOG + [
        "INFO spawned: 'x' with pid N",
        "INFO success: x entered RUNNING state, process has stayed up for > than 0 seconds (startsecs)",
    ]
    assert res["echo"] == [b"DEBG 'x' stdout output:\n", b"DEBG one\n", b"DEBG two\n"]
