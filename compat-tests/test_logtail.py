"""Log streaming through the stock client: ``supervisorctl tail -f``, ``maintail -f``
and ``fg`` read ``/logtail/<name>[/stderr]`` and ``/mainlogtail`` from the daemon
and print what is appended as it is written.

Each test drives a long-running supervisorctl (see lib/streaming.py), makes
the child write (its stdin is fed through ``sendProcessStdin``; children/echo.py
echoes each line to stdout as ``out: x`` and to stderr as ``err: x``), waits
for the text to show up, then ends the client with Ctrl-C (SIGINT) as a user
would.  Where the printed text is deterministic it is compared between our
daemon and the reference.
"""

import os
import socket

import pytest

from conftest import compare, wait_until
from lib.fragments import echo, sections, sleeper
from lib.streaming import Streamer

pytestmark = pytest.mark.ctl_clients  # each test with the stock client and with ours

PROGRAMS = sections(
    echo(), sleeper("idle", autostart=False), echo("late", prefix="late-", autostart=False))

HEADER = "==> Press Ctrl-C to exit <==\n"


def started(d):
    d.start(PROGRAMS)
    d.wait_state("echo", "RUNNING")
    wait_until(lambda: "ready" in d.rpc.supervisor.readProcessStdoutLog("echo", 0, 0)
               and "ready" in d.rpc.supervisor.readProcessStderrLog("echo", 0, 0),
               daemon=d, what="echo to say ready")
    return d


def ctl_stream(d, *args):
    return Streamer([d.ctl_bin, "-c", d.conf] + list(args), cwd=str(d.tmp))


def say(d, text):
    d.rpc.supervisor.sendProcessStdin("echo", text + "\n")


def tail_f_scenario(d, channel):
    started(d)
    args = ["tail", "-f", "echo"] + ([channel] if channel else [])
    s = ctl_stream(d, *args)
    try:
        s.wait_for("ready\n")
        prefix = "err" if channel == "stderr" else "out"
        for i in range(1, 4):
            say(d, "line %d" % i)
            s.wait_for("%s: line %d\n" % (prefix, i))
        rc = s.interrupt()
        out = s.text()
    finally:
        s.stop()
    return rc, d.norm(out)


def test_tail_f_stdout(daemon, oracle):
    rc, out = compare(daemon, oracle, tail_f_scenario, None)
    assert out == HEADER + "ready\nout: line 1\nout: line 2\nout: line 3\n\n"


def test_tail_f_stderr(daemon, oracle):
    rc, out = compare(daemon, oracle, tail_f_scenario, "stderr")
    assert out == HEADER + "ready\nerr: line 1\nerr: line 2\nerr: line 3\n\n"


def initial_tail_scenario(d):
    """A tail starts with the last 1024 bytes of the file."""
    started(d)
    say(d, "".join("%04d," % i for i in range(600)))  # 3000 bytes in one line
    wait_until(lambda: "0599," in d.rpc.supervisor.readProcessStdoutLog("echo", 0, 0), daemon=d)
    whole = d.rpc.supervisor.readProcessStdoutLog("echo", 0, 0)
    s = ctl_stream(d, "tail", "-f", "echo")
    try:
        s.wait_for("0599,\n")
        say(d, "next")
        s.wait_for("out: next\n")
        out = s.text()
        s.interrupt()
    finally:
        s.stop()
    assert out == HEADER + whole[-1024:] + "out: next\n"
    return out


def test_tail_f_starts_with_last_1024_bytes(daemon, oracle):
    compare(daemon, oracle, initial_tail_scenario)


def test_tail_f_unknown_process(daemon, oracle):
    def scenario(d):
        d.start(PROGRAMS)
        s = ctl_stream(d, "tail", "-f", "nosuch")
        try:
            rc = s.wait()
            return rc, d.norm(s.text()), d.norm(s.text("err"))
        finally:
            s.stop()
    rc, out, err = compare(daemon, oracle, scenario)
    assert "Cannot read, status code 404" in err


def test_tail_f_follows_a_restart_and_a_cleared_log(daemon):
    """The stream goes on across a respawn (a new writer) and clearProcessLogs
    (a new file): what the new process writes still shows up."""
    d = started(daemon)
    s = ctl_stream(d, "tail", "-f", "echo")
    try:
        s.wait_for("ready\n")
        d.rpc.supervisor.stopProcess("echo")
        d.rpc.supervisor.startProcess("echo")
        d.wait_state("echo", "RUNNING")
        s.wait_for("ready\n", count=2)
        say(d, "after restart")
        s.wait_for("out: after restart\n")
        d.rpc.supervisor.clearProcessLogs("echo")
        say(d, "after clear")
        s.wait_for("out: after clear\n")
        assert "File truncated" not in s.text()
        s.interrupt()
    finally:
        s.stop()


def test_tail_f_of_a_process_started_later(daemon):
    """A tail opened before the process ever ran shows its output once it starts."""
    d = started(daemon)
    s = ctl_stream(d, "tail", "-f", "late")
    try:
        s.wait_for(HEADER)
        d.rpc.supervisor.startProcess("late")
        s.wait_for("late-ready\n")
        d.rpc.supervisor.sendProcessStdin("late", "hi\n")
        s.wait_for("out: hi\n")
        s.interrupt()
    finally:
        s.stop()


def open_fds_to(pid, path):
    """How many of pid's open file descriptors refer to path."""
    n = 0
    fd_dir = "/proc/%d/fd" % pid
    for fd in os.listdir(fd_dir):
        try:
            if os.readlink(os.path.join(fd_dir, fd)) == str(path):
                n += 1
        except OSError:
            pass
    return n


def test_tail_f_client_leaving_releases_the_file(daemon):
    """When the client goes away the daemon stops following: the file it opened
    for the stream is closed (no stream left behind)."""
    if daemon.kind == "ref":
        pytest.skip("the reference keeps following (and the file open) after the client left")
    d = started(daemon)
    path = d.info("echo")["stdout_logfile"]
    pid = d.proc.pid
    before = open_fds_to(pid, path)
    s = ctl_stream(d, "tail", "-f", "echo")
    try:
        s.wait_for("ready\n")
        wait_until(lambda: open_fds_to(pid, path) == before + 1, daemon=d,
                   what="the stream to open the log")
        s.interrupt()
    finally:
        s.stop()
    wait_until(lambda: open_fds_to(pid, path) == before, daemon=d,
               what="the daemon to close the log after the client left")
    assert d.state("echo") == "RUNNING"


def test_maintail_f(daemon):
    d = started(daemon)
    s = ctl_stream(d, "maintail", "-f")
    try:
        s.wait_for(HEADER)
        s.wait_for("success: echo entered RUNNING state")
        d.rpc.supervisor.startProcess("idle")
        s.wait_for("spawned: 'idle' with pid")
        s.wait_for("success: idle entered RUNNING state")
        d.rpc.supervisor.stopProcess("idle")
        s.wait_for("stopped: idle (terminated by SIGTERM)")
        assert s.interrupt() == 0
    finally:
        s.stop()


def fg_scenario(d):
    started(d)
    s = ctl_stream(d, "fg", "echo")
    try:
        s.wait_for(HEADER)
        # fg shows both streams, each from its last 1024 bytes
        s.wait_for("ready\n", count=2)
        s.send("hello\n")
        s.wait_for("out: hello\n")
        s.wait_for("err: hello\n")
        s.send("world\n")
        s.wait_for("out: world\n")
        s.wait_for("err: world\n")
        s.proc.stdin.close()  # EOF: fg says "Exiting foreground"
        s.wait_for("Exiting foreground\n")
        out = s.text()
        # (its streaming thread can keep the client alive after that: not waited for)
    finally:
        s.stop()
    # stdout and stderr come on two connections: their interleaving is a race
    first, rest = out.split("\n", 1)
    return first, sorted(rest.splitlines())


def test_fg(daemon, oracle):
    first, rest = compare(daemon, oracle, fg_scenario)
    assert first + "\n" == HEADER
    assert "Exiting foreground" in rest
    assert rest.count("ready") == 2


def raw_get(sock_path, request):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(30)
    s.connect(str(sock_path))
    s.sendall(request)
    return s


def read_until(s, needle):
    data = b""
    while needle not in data:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


def test_http10_stream_is_close_delimited(daemon):
    """An HTTP/1.0 client gets the stream unchunked, ended by closing."""
    if daemon.kind == "ref":
        pytest.skip("the reference sends nothing to an HTTP/1.0 tail (its reply is buffered "
                    "until done, which a tail never is); the stock client uses HTTP/1.1")
    d = started(daemon)
    s = raw_get(d.sock, b"GET /logtail/echo/stderr HTTP/1.0\r\n\r\n")
    try:
        data = read_until(s, b"ready\n")
        head, _, body = data.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.0 200 OK"), head
        assert b"chunked" not in head.lower()
        assert b"Content-Type: text/plain;charset=utf-8" in head
        say(d, "raw")
        body += read_until(s, b"err: raw\n")
        assert body == b"ready\nerr: raw\n"
    finally:
        s.close()


def test_mainlogtail_and_logtail_errors(daemon):
    d = started(daemon)

    def status(path, method=b"GET"):
        s = raw_get(d.sock, method + b" " + path + b" HTTP/1.1\r\nHost: x\r\n\r\n")
        try:
            return read_until(s, b"\r\n").split(b"\r\n")[0]
        finally:
            s.close()

    assert status(b"/logtail/nosuch") == b"HTTP/1.1 404 Not Found"
    assert status(b"/logtail/echo/nochannel") == b"HTTP/1.1 404 Not Found"
    assert status(b"/logtail/grp:") == b"HTTP/1.1 404 Not Found"
    assert status(b"/logtail/idle/stdout") == b"HTTP/1.1 200 OK"  # never started: its file exists
    assert status(b"/logtail") == b"HTTP/1.1 500 Internal Server Error"
    assert status(b"/logtail/echo", b"POST") == b"HTTP/1.1 400 Bad Request"
    assert status(b"/mainlogtail") == b"HTTP/1.1 200 OK"
    assert status(b"/mainlogtail", b"HEAD") == b"HTTP/1.1 400 Bad Request"
