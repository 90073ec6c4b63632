"""Child output capture: log file targets (path, AUTO, NONE, redirect_stderr,
/dev/stdout), append mode, capture mode, strip_ansi, raw bytes, the debug
echo in the main log, and the log-reading/clearing XML-RPC methods."""

import os
import re
import signal
import subprocess
import threading
import xmlrpc.client
from pathlib import Path

import pytest

from conftest import compare, wait_until
from lib.output import (APPEND, FILE_TIMEOUT, OUT, X, XW, read_bytes, wait_bytes,
                        wait_file)


# ---------------------------------------------------------------- helpers

def call(fn, *args):
    """An XML-RPC call's result, or ('FAULT', code, normalised text) / ('ERROR', type)."""
    try:
        return fn(*args)
    except xmlrpc.client.Fault as f:
        return ("FAULT", f.faultCode, f.faultString)
    except xmlrpc.client.ProtocolError as e:
        return ("PROTOCOL_ERROR", e.errcode)
    except Exception as e:  # e.g. an unparsable reply
        return ("ERROR", type(e).__name__)


def tmp_files(d, ignore=("s.sock", "supervisord.log", "supervisord.pid", "supervisord.conf",
                         "daemon.stdout", "daemon.stderr")):
    return sorted(p.name for p in d.tmp.iterdir() if p.name not in ignore)


def restart_daemon(d):
    """SIGTERM the daemon, wait, start it again with the same config and temp dir."""
    d.send(signal.SIGTERM)
    d.wait_exit()
    d.signalled = False
    d.spawn()
    d.wait_ready()


# ---------------------------------------------------------------- log targets

def scenario_path_logs(d):
    d.start("""
        [program:x]
        command=%s %s %s %s
        stdout_logfile=@TMP@/x-out.log
        stderr_logfile=@TMP@/x-err.log
        startsecs=0
        autorestart=false
        """ % (OUT, X("out", "out one\nout two\n"), X("err", "err one\n"),
               XW("out", "out END\n", "@TMP@/x-out.log")))
    d.wait_state("x", "RUNNING")
    out = wait_bytes(d, d.tmp / "x-out.log", "out END\n")
    err = wait_bytes(d, d.tmp / "x-err.log", "err one\n")
    info = d.info("x")
    return {"out": out, "err": err, "files": tmp_files(d),
            "info logfiles": (d.norm(info["stdout_logfile"]), d.norm(info["stderr_logfile"]))}


def test_path_logs(daemon, oracle):
    res = compare(daemon, oracle, scenario_path_logs)
    assert res["out"] == b"out one\nout two\nout END\n"
    assert res["err"] == b"err one\n"
    assert res["files"] == ["x-err.log", "x-out.log"]
    assert res["info logfiles"] == ("<TMP>/x-out.log", "<TMP>/x-err.log")


AUTO_NAME = re.compile(r"^x-(stdout|stderr)---supervisor-[a-z0-9_]{8}\.log$")
STALE = [
    "x-stdout---supervisor-OLDRUN01.log",     # an AUTO log of a previous run
    "y-stderr---supervisor-OLDRUN02.log.3",   # a rotated AUTO log of another program
    "z---supervisor-junk.logfile",            # matched as a prefix by the reference's re.match
    "x-stdout---otherid-OLDRUN03.log",        # another identifier: kept
    "keep.log",                               # unrelated: kept
]


def scenario_auto(d, nocleanup=False):
    for name in STALE:
        (d.tmp / name).write_bytes(b"stale\n")
    extra = "nocleanup=true\n" if nocleanup else ""
    d.start("""
        [program:x]
        command=%s %s %s
        stdout_logfile=AUTO
        stderr_logfile=AUTO
        startsecs=0
        autorestart=false
        """ % (OUT, X("out", "auto out\n"), X("err", "auto err\n")), supervisord_extra=extra)
    d.wait_state("x", "RUNNING")
    info = d.info("x")
    out_path, err_path = Path(info["stdout_logfile"]), Path(info["stderr_logfile"])
    out = wait_bytes(d, out_path, "auto out\n")
    err = wait_bytes(d, err_path, "auto err\n")
    first_run = tmp_files(d)
    # a second run of the daemon: the first run's AUTO logs are removed (unless nocleanup)
    restart_daemon(d)
    d.wait_state("x", "RUNNING")
    info2 = d.info("x")
    wait_bytes(d, info2["stdout_logfile"], "auto out\n")
    second_run = tmp_files(d)
    return {
        "out": out, "err": err,
        "names": (out_path.parent == d.tmp and AUTO_NAME.match(out_path.name) is not None,
                  err_path.parent == d.tmp and AUTO_NAME.match(err_path.name) is not None),
        "first run files": sorted(d.norm(n) for n in first_run),
        "first run logs survive": (out_path.name in second_run, err_path.name in second_run),
        "second run files": sorted(d.norm(n) for n in second_run),
    }


def test_auto_logs(daemon, oracle):
    res = compare(daemon, oracle, scenario_auto)
    assert res["out"] == b"auto out\n"
    assert res["err"] == b"auto err\n"
    assert res["names"] == (True, True)
    assert res["first run files"] == [
        "keep.log", "x-stderr---supervisor-R.log", "x-stdout---otherid-OLDRUN03.log",
        "x-stdout---supervisor-R.log"]
    assert res["first run logs survive"] == (False, False)
    assert res["second run files"] == res["first run files"]


@pytest.mark.ctl_clients
def test_auto_logs_nocleanup(daemon, oracle):
    res = compare(daemon, oracle, scenario_auto, nocleanup=True)
    assert res["first run logs survive"] == (True, True)
    # (the stale names are normalised too: OLDRUN01 -> R)
    assert res["first run files"] == sorted(
        ["keep.log", "x-stdout---otherid-OLDRUN03.log", "x-stderr---supervisor-R.log",
         "x-stdout---supervisor-R.log", "y-stderr---supervisor-R.log.3",
         "z---supervisor-junk.logfile", "x-stdout---supervisor-R.log"])
    # two AUTO logs per channel now: the first run's and the second run's
    assert res["second run files"].count("x-stdout---supervisor-R.log") == 3
    assert res["second run files"].count("x-stderr---supervisor-R.log") == 2


def scenario_none(d):
    d.start("""
        [program:x]
        command=%s %s %s
        stdout_logfile=NONE
        stderr_logfile=none
        startsecs=0
        autorestart=false
        """ % (OUT, X("out", "to nowhere\n"), X("err", "to nowhere\n")))
    d.wait_state("x", "RUNNING")
    info = d.info("x")
    r = d.rpc.supervisor
    return {
        "files": tmp_files(d),
        "info": (info["stdout_logfile"], info["stderr_logfile"]),
        "readProcessStdoutLog": call(r.readProcessStdoutLog, "x", 0, 0),
        "readProcessStderrLog": call(r.readProcessStderrLog, "x", 0, 0),
        "tailProcessStdoutLog": call(r.tailProcessStdoutLog, "x", 0, 100),
        "tailProcessStderrLog": call(r.tailProcessStderrLog, "x", 0, 100),
        "clearProcessLogs": call(r.clearProcessLogs, "x"),
        "ctl tail": d.ctl_norm("tail", "x"),
        "ctl tail stderr": d.ctl_norm("tail", "x", "stderr"),
        "files after": tmp_files(d),
    }


def test_none_logs(daemon, oracle):
    res = compare(daemon, oracle, scenario_none)
    assert res["files"] == []
    assert res["readProcessStdoutLog"][:2] == ("FAULT", 20)  # NO_FILE
    assert res["readProcessStderrLog"][:2] == ("FAULT", 20)
    assert res["tailProcessStdoutLog"] == ["", 0, False]


def scenario_redirect(d):
    log = "@TMP@/x-out.log"
    d.start("""
        [program:x]
        command=%s %s %s %s %s
        stdout_logfile=@TMP@/x-out.log
        stderr_logfile=@TMP@/x-err.log
        redirect_stderr=true
        startsecs=0
        autorestart=false
        """ % (OUT, XW("out", "out 1\n", log), XW("err", "err 1\n", log),
               XW("out", "out 2\n", log), XW("err", "err END\n", log)))
    d.wait_state("x", "RUNNING")
    out = wait_bytes(d, d.tmp / "x-out.log", "err END\n")
    r = d.rpc.supervisor
    return {"out": out, "files": tmp_files(d),
            "readProcessStderrLog": call(r.readProcessStderrLog, "x", 0, 0),
            "tailProcessStderrLog": call(r.tailProcessStderrLog, "x", 0, 100)}


def test_redirect_stderr(daemon, oracle):
    res = compare(daemon, oracle, scenario_redirect)
    assert res["out"] == b"out 1\nerr 1\nout 2\nerr END\n"
    assert "x-err.log" not in res["files"]


def scenario_redirect_auto(d):
    d.start("""
        [program:x]
        command=%s %s %s
        redirect_stderr=true
        startsecs=0
        autorestart=false
        """ % (OUT, X("err", "err 1\n"), X("out", "out END\n")))
    d.wait_state("x", "RUNNING")
    out = wait_bytes(d, d.info("x")["stdout_logfile"], "out END\n")
    return {"out": out, "files": [d.norm(n) for n in tmp_files(d)]}


def test_redirect_stderr_auto(daemon, oracle):
    """The reference still creates an (empty) AUTO stderr file: compared."""
    res = compare(daemon, oracle, scenario_redirect_auto)
    assert res["out"] == b"err 1\nout END\n"


# ---------------------------------------------------------------- append mode

def scenario_append(d):
    log = d.tmp / "x.log"
    log.write_bytes(b"previous content\n")
    (d.tmp / "x-err.log").write_bytes(b"previous err\n")
    d.start("""
        [program:x]
        command=%s %s %s %s %s %s
        stdout_logfile=@TMP@/x.log
        stderr_logfile=@TMP@/x-err.log
        startsecs=0
        autorestart=false
        """ % (OUT, XW("out", "via pipe 1\n", "@TMP@/x.log"),
               APPEND("@TMP@/x.log", "written directly\n"),
               XW("out", "via pipe 2\n", "@TMP@/x.log"),
               X("err", "err line\n"), "touch:@TMP@/done"))
    d.wait_state("x", "RUNNING")
    wait_file(d, d.tmp / "done")
    first = wait_bytes(d, log, "via pipe 2\n")
    wait_bytes(d, d.tmp / "x-err.log", "err line\n")
    (d.tmp / "done").unlink()
    # a process restart: the file is reopened in append mode
    d.ctl("restart", "x")
    d.wait_state("x", "RUNNING")
    wait_file(d, d.tmp / "done")
    second = wait_bytes(d, log, "via pipe 2\n", count=2)
    (d.tmp / "done").unlink()
    # a daemon restart
    restart_daemon(d)
    d.wait_state("x", "RUNNING")
    wait_file(d, d.tmp / "done")
    third = wait_bytes(d, log, "via pipe 2\n", count=3)
    err = wait_bytes(d, d.tmp / "x-err.log", "err line\n", count=3)
    return {"after start": first, "after process restart": second,
            "after daemon restart": third, "err": err}


def test_append_never_truncates(daemon, oracle):
    res = compare(daemon, oracle, scenario_append)
    run = b"via pipe 1\nwritten directly\nvia pipe 2\n"
    assert res["after start"] == b"previous content\n" + run
    assert res["after process restart"] == b"previous content\n" + run * 2
    assert res["after daemon restart"] == b"previous content\n" + run * 3
    assert res["err"] == b"previous err\n" + b"err line\n" * 3


# ---------------------------------------------------------------- capture mode

BEGIN = "<!--XSUPERVISOR:BEGIN-->"
END = "<!--XSUPERVISOR:END-->"
TAIL = "a final line long enough to pass the token length check\n"


def scenario_capture(d, capture_maxbytes, payload_chunks):
    log = "@TMP@/x.log"
    # (in capture mode the reference holds back output no longer than the
    # token it looks for, so every synced write here is longer than that)
    actions = [XW("out", "normal line one, longer than a token\n", log)]
    for c in payload_chunks:
        actions += [X("out", c), "sleep:0.05"]
    actions += [XW("out", TAIL, log)]
    d.start("""
        [program:x]
        command=%s %s
        stdout_logfile=@TMP@/x.log
        stdout_capture_maxbytes=%s
        startsecs=0
        autorestart=false
        """ % (OUT, " ".join(actions), capture_maxbytes))
    d.wait_state("x", "RUNNING")
    return {"log": wait_bytes(d, d.tmp / "x.log", TAIL)}


def test_capture_mode_payload_not_logged(daemon, oracle):
    chunks = ["before " + BEGIN + "the payload" + END + " after\nnormal line two\n"]
    res = compare(daemon, oracle, scenario_capture, "1MB", chunks)
    assert res["log"] == b"normal line one, longer than a token\nbefore  after\nnormal line two\n" + TAIL.encode()


def test_capture_mode_tokens_split_across_writes(daemon, oracle):
    # the tokens arrive in pieces, written apart (usually read apart by the daemon)
    chunks = ["x " + BEGIN[:10], BEGIN[10:] + "pay", "load" + END[:5], END[5:] + " y\n"]
    res = compare(daemon, oracle, scenario_capture, "1MB", chunks)
    assert b"payload" not in res["log"]
    assert b"XSUPERVISOR" not in res["log"]


def test_capture_mode_off_logs_tokens(daemon, oracle):
    chunks = ["before " + BEGIN + "the payload" + END + " after\n"]
    res = compare(daemon, oracle, scenario_capture, "0", chunks)
    assert res["log"] == ("normal line one, longer than a token\nbefore " + BEGIN + "the payload" + END
                          + " after\n" + TAIL).encode()


# ---------------------------------------------------------------- strip_ansi, raw bytes

def scenario_ansi(d, strip):
    d.start("""
        [program:x]
        command=%s %s %s
        stdout_logfile=@TMP@/x.log
        stderr_logfile=@TMP@/x-err.log
        startsecs=0
        autorestart=false
        """ % (OUT, X("err", "\x1b[1;33mwarn\x1b[0m on stderr\n"),
               X("out", "\x1b[31mred\x1b[0m plain \x1b[2Jcleared\x1b[K end\nEND\n")),
        supervisord_extra="strip_ansi=%s\n" % strip)
    d.wait_state("x", "RUNNING")
    return {"out": wait_bytes(d, d.tmp / "x.log", "END\n"),
            "err": wait_bytes(d, d.tmp / "x-err.log", "stderr\n")}


def test_strip_ansi(daemon, oracle):
    res = compare(daemon, oracle, scenario_ansi, "true")
    assert res["out"] == b"red plain cleared end\nEND\n"
    assert res["err"] == b"warn on stderr\n"


def test_no_strip_ansi_by_default(daemon, oracle):
    res = compare(daemon, oracle, scenario_ansi, "false")
    assert res["out"] == b"\x1b[31mred\x1b[0m plain \x1b[2Jcleared\x1b[K end\nEND\n"


RAW = b"ok \xff\xfe bytes \xc3\x28 and \xe2\x82\xac euro\n"


def scenario_raw(d):
    d.start("""
        [program:x]
        command=%s %s %s
        stdout_logfile=@TMP@/x.log
        stderr_logfile=@TMP@/x-err.log
        startsecs=0
        autorestart=false
        """ % (OUT, X("err", b"\x00nul\xff\n"), X("out", RAW + b"END\n")))
    d.wait_state("x", "RUNNING")
    return {"out": wait_bytes(d, d.tmp / "x.log", "END\n"),
            "err": wait_bytes(d, d.tmp / "x-err.log", b"\xff\n")}


def test_raw_bytes_kept_in_file(daemon, oracle):
    res = compare(daemon, oracle, scenario_raw)
    assert res["out"] == RAW + b"END\n"
    assert res["err"] == b"\x00nul\xff\n"


def test_raw_bytes_through_rpc(daemon):
    """The reference fails on strict UTF-8 decoding (recorded, not compared);
    ours must answer with the valid parts."""
    scenario_raw(daemon)
    r = daemon.rpc.supervisor
    got = {
        "read": call(r.readProcessStdoutLog, "x", 0, 0),
        "tail": call(r.tailProcessStdoutLog, "x", 0, 1000),
    }
    print("%s: %r" % (daemon.kind, got))
    if daemon.kind == "ref":
        assert got["read"][0] in ("FAULT", "PROTOCOL_ERROR", "ERROR")
        assert daemon.rpc.supervisor.getState()["statename"] == "RUNNING"
        return
    for key in ("read", "tail"):
        text = got[key] if key == "read" else got[key][0]
        assert isinstance(text, str), (key, got[key])
        for part in ("ok ", " bytes ", " and \u20ac euro\n", "END\n"):
            assert part in text, (key, part, text)
    assert got["tail"][1] == len(RAW) + 4
    # and the daemon still answers
    assert daemon.rpc.supervisor.getState()["statename"] == "RUNNING"


# ---------------------------------------------------------------- loglevel=debug echo

OUTPUT_BLOCK = re.compile(
    r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} DEBG ('[^']*' (?:stdout|stderr) output:\n.*?)"
    r"(?=^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} |\Z)", re.M | re.S)


def scenario_debug(d):
    log = "@TMP@/x.log"
    d.start("""
        [program:x]
        command=%s %s %s %s %s
        stdout_logfile=@TMP@/x.log
        stderr_logfile=@TMP@/x-err.log
        startsecs=0
        autorestart=false
        """ % (OUT, XW("out", "first line\nsecond line\n", log),
               XW("err", "an error\n", "@TMP@/x-err.log"),
               XW("out", b"bad \xff byte\n", log), XW("out", "no newline", log)),
        supervisord_extra="loglevel=debug\n")
    d.wait_state("x", "RUNNING")
    wait_bytes(d, d.tmp / "x.log", "no newline")
    d.wait_log("'x' stdout output:", count=3)
    return {"blocks": OUTPUT_BLOCK.findall(d.log_text())}


def test_debug_mainlog_echo(daemon, oracle):
    res = compare(daemon, oracle, scenario_debug)
    assert res["blocks"] == [
        "'x' stdout output:\nfirst line\nsecond line\n\n",
        "'x' stderr output:\nan error\n\n",
        "'x' stdout output:\nUndecodable: b'bad \\xff byte\\n'\n",
        "'x' stdout output:\nno newline\n",
    ]


# ---------------------------------------------------------------- non-seekable targets

class PipedDaemon:
    """Start a Daemon with its stdout and stderr on pipes, drained by threads."""

    def __init__(self, d):
        self.d = d
        self.out = bytearray()
        self.err = bytearray()
        self.lock = threading.Lock()

    def _drain(self, pipe, buf):
        while True:
            data = os.read(pipe.fileno(), 65536)
            if not data:
                return
            with self.lock:
                buf.extend(data)

    def start(self, programs):
        d = self.d
        d.write_config(programs)
        d.require_binary()
        d.proc = subprocess.Popen(d.command(), cwd=str(d.tmp), env=d.env(),
                                  stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, start_new_session=True)
        for pipe, buf in ((d.proc.stdout, self.out), (d.proc.stderr, self.err)):
            threading.Thread(target=self._drain, args=(pipe, buf), daemon=True).start()
        d.wait_ready()

    def wait_out(self, needle, stream="out", timeout=FILE_TIMEOUT):
        buf = self.out if stream == "out" else self.err

        def check():
            with self.lock:
                return needle in buf
        wait_until(check, timeout, daemon=self.d,
                   what="%r on the %s daemon's std%s" % (needle, self.d.kind, stream))

    def text(self):
        with self.lock:
            return bytes(self.out), bytes(self.err)


def piped_scenario(d, target, stream):
    """A child whose stdout goes to ``target`` (a device of the daemon);
    returns what reached the daemon's stdout/stderr."""
    pd = PipedDaemon(d)
    lines = ["CHILD LINE %d\n" % i for i in range(1, 6)]
    pd.start("""
        [program:x]
        command=%s %s %s
        stdout_logfile=%s
        stderr_logfile=NONE
        startsecs=0
        autorestart=false
        """ % (OUT, " ".join(X("out", l) for l in lines[:3]), "u:out:@TMP@/never:0", target))
    d.wait_state("x", "RUNNING")
    return pd, lines


@pytest.mark.parametrize("target,stream", [("/dev/stdout", "out"), ("/dev/stderr", "err")])
def test_nonseekable_logfile(daemon, target, stream):
    """stdout_logfile=/dev/stdout (default maxbytes 50MB): the reference breaks on
    tell() (Illegal seek, recorded only); ours must pass the output through."""
    pd, lines = piped_scenario(daemon, target, stream)
    if daemon.kind == "ref":
        # recorded, not asserted: the reference's rotating handler calls tell()
        # on the pipe after the first write, logs "uncaptured python exception,
        # closing channel ... Illegal seek" and stops reading the child's output
        try:
            pd.wait_out(b"L000200 \n", stream, timeout=5)
        except BaseException:
            pass
        out, err = pd.text()
        buf = out if stream == "out" else err
        print("ref %s: %d numbered lines passed through; 'Illegal seek' in its output: %s"
              % (target, len(re.findall(rb"^L\d{6} $", buf, re.M)), b"Illegal seek" in out + err))
        return
    for l in lines[:3]:
        pd.wait_out(l.encode(), stream)
    # a steady stream of numbered lines keeps flowing
    pd.wait_out(b"L000200 \n", stream)
    out, err = pd.text()
    buf = out if stream == "out" else err
    nums = [int(m) for m in re.findall(rb"^L(\d{6}) $", buf, re.M)]
    assert nums[:200] == list(range(1, 201))
    assert b"Illegal seek" not in out + err
    assert b"uncaptured python exception" not in out + err
    assert daemon.state("x") == "RUNNING"
    assert daemon.rpc.supervisor.getState()["statename"] == "RUNNING"


# ---------------------------------------------------------------- reading logs over XML-RPC

CONTENT_OUT = b"".join(b"line %d\n" % i for i in range(10))   # 70 bytes
CONTENT_ERR = b"".join(b"err %d\n" % i for i in range(5))     # 30 bytes

READ_ARGS = [(0, 0), (0, 10), (5, 10), (5, 0), (65, 10), (70, 10), (1000, 10), (1000, 0),
             (-10, 0), (-1000, 0), (-10, 5), (0, -5), (5, -1)]
TAIL_ARGS = [(0, 10), (0, 100), (0, 70), (70, 10), (65, 10), (60, 10), (100, 10), (-5, 10),
             (0, 0), (0, -5), (69, 1), (10, 1000)]


def scenario_read_rpc(d):
    d.start("""
        [program:x]
        command=%s %s %s
        stdout_logfile=@TMP@/x.log
        stderr_logfile=@TMP@/x-err.log
        startsecs=0
        autorestart=false

        [program:n]
        command=%s
        stdout_logfile=NONE
        startsecs=0
        autorestart=false
        """ % (OUT, X("err", CONTENT_ERR), XW("out", CONTENT_OUT, "@TMP@/x.log"), OUT))
    d.wait_state("x", "RUNNING")
    d.wait_state("n", "RUNNING")
    wait_bytes(d, d.tmp / "x.log", CONTENT_OUT)
    wait_bytes(d, d.tmp / "x-err.log", CONTENT_ERR)
    r = d.rpc.supervisor
    res = {}
    for off, length in READ_ARGS:
        res["readProcessStdoutLog x %d %d" % (off, length)] = call(r.readProcessStdoutLog, "x", off, length)
        res["readProcessStderrLog x %d %d" % (off, length)] = call(r.readProcessStderrLog, "x", off, length)
    for off, length in TAIL_ARGS:
        res["tailProcessStdoutLog x %d %d" % (off, length)] = call(r.tailProcessStdoutLog, "x", off, length)
        res["tailProcessStderrLog x %d %d" % (off, length)] = call(r.tailProcessStderrLog, "x", off, length)
    for name in ("x:x", "nosuch", "x:", "nosuch:x"):
        res["readProcessStdoutLog %s" % name] = call(r.readProcessStdoutLog, name, 0, 5)
        res["tailProcessStdoutLog %s" % name] = call(r.tailProcessStdoutLog, name, 0, 5)
        res["clearProcessLogs %s" % name] = call(r.clearProcessLogs, name)
    res["readProcessLog (alias)"] = call(r.readProcessLog, "x", 0, 4)
    res["tailProcessLog (alias)"] = call(r.tailProcessLog, "x", 0, 4)
    res["readProcessStdoutLog n"] = call(r.readProcessStdoutLog, "n", 0, 0)
    res["tailProcessStderrLog n"] = call(r.tailProcessStderrLog, "n", 0, 10)
    # the main log: its bytes differ between daemons, so the results are
    # checked against the file here, and only the faults are compared
    main = d.logfile.read_bytes().decode()
    res["readLog 0 0 is the file"] = call(r.readLog, 0, 0) == main
    res["readLog -20 0 is the tail"] = call(r.readLog, -20, 0) == main[-20:]
    res["readLog 3 7 is a slice"] = call(r.readLog, 3, 7) == main[3:10]
    res["readMainLog (alias)"] = call(r.readMainLog, 0, 5) == main[:5]
    res["readLog beyond"] = call(r.readLog, 10 ** 6, 10)
    res["readLog -10 5"] = call(r.readLog, -10, 5)
    res["readLog 0 -1"] = call(r.readLog, 0, -1)
    # supervisorctl tail
    res["ctl tail x"] = d.ctl_norm("tail", "x")
    res["ctl tail -20 x"] = d.ctl_norm("tail", "-20", "x")
    res["ctl tail x stderr"] = d.ctl_norm("tail", "x", "stderr")
    res["ctl tail -5 x stderr"] = d.ctl_norm("tail", "-5", "x", "stderr")
    res["ctl tail nosuch"] = d.ctl_norm("tail", "nosuch")
    res["ctl tail n"] = d.ctl_norm("tail", "n")
    return {k: (d.norm(v) if isinstance(v, str) else v) for k, v in res.items()}


def test_read_and_tail_rpc(daemon, oracle):
    res = compare(daemon, oracle, scenario_read_rpc)
    o = CONTENT_OUT.decode()
    assert res["readProcessStdoutLog x 0 0"] == o
    assert res["readProcessStdoutLog x 5 10"] == o[5:15]
    assert res["readProcessStdoutLog x -10 0"] == o[-10:]
    assert res["readProcessStdoutLog x 1000 10"] == ""
    assert res["readProcessStdoutLog x -10 5"][:2] == ("FAULT", 3)  # BAD_ARGUMENTS
    assert res["readProcessStdoutLog x 0 -5"][:2] == ("FAULT", 3)
    assert res["tailProcessStdoutLog x 0 10"] == [o[-10:], 70, True]
    assert res["tailProcessStdoutLog x 65 10"] == [o[60:], 70, False]
    assert res["readProcessStdoutLog nosuch"][:2] == ("FAULT", 10)  # BAD_NAME
    assert res["readLog 0 0 is the file"] is True
    assert res["readLog -20 0 is the tail"] is True
    assert res["readLog 3 7 is a slice"] is True


# ---------------------------------------------------------------- clearing logs

def scenario_clear(d):
    d.start("""
        [program:x]
        command=%s %s wait:@TMP@/go1 %s wait:@TMP@/go2 %s
        stdout_logfile=@TMP@/x.log
        stderr_logfile=@TMP@/x-err.log
        startsecs=0
        autorestart=false

        [program:y]
        command=%s %s wait:@TMP@/go2 %s
        stdout_logfile=@TMP@/y.log
        startsecs=0
        autorestart=false

        [program:z]
        command=%s
        stdout_logfile=NONE
        stderr_logfile=NONE
        startsecs=0
        autorestart=false
        """ % (OUT, X("out", "x before\n") + " " + X("err", "x err before\n"),
               X("out", "x after clearProcessLogs\n"), X("out", "x after clearAll\n"),
               OUT, X("out", "y before\n"), X("out", "y after clearAll\n"), OUT))
    for name in "xyz":
        d.wait_state(name, "RUNNING")
    wait_bytes(d, d.tmp / "x.log", "x before\n")
    wait_bytes(d, d.tmp / "x-err.log", "x err before\n")
    wait_bytes(d, d.tmp / "y.log", "y before\n")
    (d.tmp / "x.log.1").write_bytes(b"a backup\n")
    r = d.rpc.supervisor
    res = {}
    res["clearProcessLogs x"] = call(r.clearProcessLogs, "x")
    res["x.log after clear"] = read_bytes(d.tmp / "x.log")
    res["x-err.log after clear"] = read_bytes(d.tmp / "x-err.log")
    res["x.log.1 after clear"] = read_bytes(d.tmp / "x.log.1")
    (d.tmp / "go1").write_text("")
    res["x.log after write"] = wait_bytes(d, d.tmp / "x.log", "x after clearProcessLogs\n")
    res["clearProcessLogs z"] = call(r.clearProcessLogs, "z")
    res["clearAllProcessLogs"] = call(r.clearAllProcessLogs)
    res["files after clearAll"] = {d.norm(n): read_bytes(d.tmp / n) for n in tmp_files(d)}
    (d.tmp / "go2").write_text("")
    res["x.log after clearAll"] = wait_bytes(d, d.tmp / "x.log", "x after clearAll\n")
    res["y.log after clearAll"] = wait_bytes(d, d.tmp / "y.log", "y after clearAll\n")
    res["ctl clear x"] = d.ctl_norm("clear", "x")
    res["ctl clear all"] = d.ctl_sorted("clear", "all")
    res["ctl clear nosuch"] = d.ctl_norm("clear", "nosuch")
    return res


def test_clear_process_logs(daemon, oracle):
    res = compare(daemon, oracle, scenario_clear)
    assert res["clearProcessLogs x"] is True
    assert res["x.log after clear"] == b""
    assert res["x-err.log after clear"] == b""
    assert res["x.log.1 after clear"] == b"a backup\n"
    assert res["x.log after write"] == b"x after clearProcessLogs\n"
    assert res["clearAllProcessLogs"] == [
        {"name": n, "group": n, "status": 80, "description": "OK"} for n in "xyz"]
    assert res["x.log after clearAll"] == b"x after clearAll\n"


def scenario_clear_mainlog(d):
    d.start("""
        [program:x]
        command=%s
        startsecs=1
        autorestart=false
        """ % OUT)
    d.wait_log("success: x entered RUNNING")
    r = d.rpc.supervisor
    res = {"clearLog": call(r.clearLog)}
    res["main log right after"] = d.norm(d.log_text())
    res["readLog right after"] = d.norm(call(r.readLog, 0, 0))
    d.ctl("stop", "x")
    d.wait_log("stopped: x")
    res["main log after a stop"] = [l for l in d.norm(d.log_text()).splitlines()
                                    if "waiting for" not in l]
    rc, out, err = d.ctl_norm("maintail")
    res["ctl maintail"] = (rc, [l for l in out.splitlines() if "waiting for" not in l], err)
    return res


def test_clear_main_log(daemon, oracle):
    res = compare(daemon, oracle, scenario_clear_mainlog)
    assert res["clearLog"] is True
    assert res["main log after a stop"][-1] == "WARN stopped: x (terminated by SIGTERM)"


# ---------------------------------------------------------------- output at exit, odd targets

def scenario_exit_drain(d):
    d.start("""
        [program:x]
        command=%s n:out:30000 n:err:5000 exit:3
        stdout_logfile=@TMP@/x.log
        stderr_logfile=@TMP@/x-err.log
        exitcodes=3
        startsecs=0
        autorestart=false
        """ % OUT)
    d.wait_state("x", "EXITED")
    # read right away: the process is EXITED only once its pipes are drained
    out, err = read_bytes(d.tmp / "x.log"), read_bytes(d.tmp / "x-err.log")
    return {"out lines": out.count(b"\n"), "out last": out[-9:],
            "err lines": err.count(b"\n"), "err last": err[-9:],
            "complete": (out == b"".join(b"L%06d \n" % i for i in range(1, 30001)),
                         err == b"".join(b"L%06d \n" % i for i in range(30001, 35001)))}


def test_output_complete_when_exited(daemon, oracle):
    res = compare(daemon, oracle, scenario_exit_drain)
    assert res["complete"] == (True, True)


def scenario_capture_exit(d):
    log = "@TMP@/x.log"
    d.start("""
        [program:x]
        command=%s %s %s exit:0
        stdout_logfile=@TMP@/x.log
        stdout_capture_maxbytes=1MB
        exitcodes=0
        startsecs=0
        autorestart=false
        """ % (OUT, XW("out", TAIL, log), X("out", "bye\n")))
    d.wait_state("x", "EXITED")
    d.send(signal.SIGTERM)
    d.wait_exit()
    return {"log": read_bytes(d.tmp / "x.log")}


def test_capture_mode_short_last_output(daemon):
    """In capture mode the reference keeps output no longer than the begin token
    (25 bytes) in its buffer until more arrives: a short last line before exit
    never reaches the log. Ours writes it (a deliberate difference: the issue
    asks that capture loses nothing), so each daemon has its own expectation."""
    res = scenario_capture_exit(daemon)
    if daemon.kind == "ref":
        assert res["log"] == TAIL.encode()
    else:
        assert res["log"] == (TAIL + "bye\n").encode()


def scenario_logfile_dir(d):
    (d.tmp / "adir").mkdir()
    d.start("""
        [program:x]
        command=%s
        stdout_logfile=@TMP@/adir
        startsecs=0
        startretries=1
        autorestart=false
        """ % OUT)
    info = d.wait_state("x", "FATAL")
    start = d.ctl_norm("start", "x")
    d.wait_state("x", "FATAL")
    return {"events": d.events(), "spawnerr": d.norm(info["spawnerr"]),
            "description": d.norm(info["description"]), "ctl start": start,
            "status": d.ctl_norm("status", "x")}


def test_logfile_is_a_directory(daemon, oracle):
    res = compare(daemon, oracle, scenario_logfile_dir)
    assert res["spawnerr"] == "unknown error making dispatchers for 'x': EISDIR"


def scenario_logfile_missing_dir(d):
    d.write_config("""
        [program:x]
        command=%s
        stdout_logfile=@TMP@/nosuchdir/x.log
        """ % OUT)
    rc, out, err = d.run_to_exit()
    return {"rc": rc, "stderr": re.sub(r"For help, use \S+ -h", "For help, use supervisord -h",
                                       d.norm(err))}


def test_logfile_in_missing_dir_rejected(daemon):
    """Both reject the config with exit status 2 and the reference's reason; ours
    also names the key (the reference names only the section and the file)."""
    res = scenario_logfile_missing_dir(daemon)
    assert res["rc"] == 2
    err = res["stderr"]
    assert "The directory named as part of the path" in err
    assert "nosuchdir/x.log does not exist" in err
    assert "section 'program:x'" in err
    assert "supervisord.conf" in err
    if daemon.kind == "ours":
        assert "'stdout_logfile'" in err


def scenario_expansions(d):
    d.start("""
        [program:x]
        command=%s %s
        process_name=%%(program_name)s_%%(process_num)d
        numprocs=2
        stdout_logfile=@TMP@/%%(program_name)s-%%(process_num)d-%%(group_name)s.log
        stderr_logfile=@TMP@/%%(program_name)s_%%(process_num)d.err
        startsecs=0
        autorestart=false
        """ % (OUT, X("out", "hello\n")))
    for n in ("x:x_0", "x:x_1"):
        d.wait_state(n, "RUNNING")
    for f in ("x-0-x.log", "x-1-x.log"):
        wait_bytes(d, d.tmp / f, "hello\n")
    return {"files": tmp_files(d),
            "info": [(d.norm(i["stdout_logfile"]), d.norm(i["stderr_logfile"]))
                     for i in d.rpc.supervisor.getAllProcessInfo()]}


def test_logfile_name_expansions(daemon, oracle):
    res = compare(daemon, oracle, scenario_expansions)
    assert res["files"] == ["x-0-x.log", "x-1-x.log", "x_0.err", "x_1.err"]
