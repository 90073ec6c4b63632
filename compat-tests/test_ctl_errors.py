"""supervisorctl's errors that no daemon of ours or the reference gives: an answer on /RPC2
that is not XML-RPC, an HTTP error status, a hang-up, an answer of the wrong shape, a broken
log stream, a socket that goes away between two requests. A fake daemon (a unix socket
served by threads of this process) gives each one; the clients are the real ones.

Where the stock client prints a Python exception line, ours prints `error: ` and a plain
sentence of its own (README, "Compatibility notes"): the two are compared with that line
masked (conftest.same_output), and each is pinned to its own words.
"""

import os
import shutil
import socket
import subprocess
import tempfile
import threading
import xmlrpc.client
from pathlib import Path

import pytest

from conftest import CTL, CTL_TIMEOUT, OUR_CTL, error_line, normalise, same_output


def http_reply(status, body):
    return (b"HTTP/1.1 %s\r\nContent-Type: text/xml\r\nContent-Length: %d\r\n"
            b"Connection: close\r\n\r\n" % (status, len(body))) + body


VERSION = http_reply(b"200 OK", xmlrpc.client.dumps(("3.0",), methodresponse=True).encode())
IO_WAIT = 30  # seconds a fake daemon's socket waits for its client: only ends a hang


def read_request(conn):
    """(head, body) of one HTTP request; None when the client hangs up first."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            break
        body += chunk
    return head, body


class FakeDaemon:
    """A unix socket that answers `getVersion` with 3.0, every other call with ``rpc`` and
    every log stream with ``logtail`` (raw bytes: a whole HTTP response or less). With
    ``vanish``, the socket file is removed and the listener closed before getVersion's
    answer is sent, so the client's next connection finds nothing."""

    def __init__(self, path, rpc=b"", logtail=b"", vanish=False):
        self.path, self.rpc, self.logtail, self.vanish = str(path), rpc, logtail, vanish
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(self.path)
        self.listener.listen(8)
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return  # closed
            threading.Thread(target=self.answer, args=(conn,), daemon=True).start()

    def answer(self, conn):
        with conn:
            conn.settimeout(IO_WAIT)
            try:
                request = read_request(conn)
                if request is None:
                    return
                head, body = request
                if not head.startswith(b"POST"):
                    conn.sendall(self.logtail)
                    while conn.recv(65536):  # until the client hangs up
                        pass
                elif b"<methodName>supervisor.getVersion</methodName>" in body:
                    if self.vanish:
                        self.close()
                    conn.sendall(VERSION)
                else:
                    conn.sendall(self.rpc)
            except OSError:
                pass

    def close(self):
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass
        try:
            self.listener.shutdown(socket.SHUT_RDWR)  # wakes the accept()
        except OSError:
            pass
        self.listener.close()


@pytest.fixture
def tmp():
    d = Path(tempfile.mkdtemp(prefix="sv-err-"))
    yield d
    shutil.rmtree(d, ignore_errors=True)


def run(binary, fake, command, tmp):
    """One client's (rc, stdout, stderr), normalised, against a fresh fake daemon."""
    conf = tmp / "c.conf"
    conf.write_text("[supervisorctl]\nserverurl=unix://%s/f.sock\n" % tmp)
    daemon = FakeDaemon(tmp / "f.sock", **fake)
    try:
        p = subprocess.run([str(binary), "-c", str(conf)] + command.split(),
                           capture_output=True, text=True, timeout=CTL_TIMEOUT,
                           stdin=subprocess.DEVNULL, cwd=str(tmp))
    finally:
        daemon.close()
    return p.returncode, normalise(p.stdout, tmp), normalise(p.stderr, tmp)


TAILF = "==> Press Ctrl-C to exit <==\n"

# id: (fake daemon, command, what is printed before the error line, the stock client's
# exception (class, message), our sentence (or its beginning, ending in a space))
ONECMD_ERRORS = {
    "not xml-rpc": (
        dict(rpc=http_reply(b"200 OK", b"<<<not xml")), "avail", "",
        "<class 'xml.parsers.expat.ExpatError'>, not well-formed (invalid token): line 1, "
        "column 1",
        "the daemon's answer is not XML-RPC: "),
    "http 500": (
        dict(rpc=http_reply(b"500 Internal Server Error", b"oops")), "status", "",
        "<class 'xmlrpc.client.ProtocolError'>, "
        "<ProtocolError for 127.0.0.1/RPC2: 500 Internal Server Error>",
        "the daemon answered HTTP 500 Internal Server Error on /RPC2"),
    "hang-up": (
        dict(rpc=b""), "status", "",
        "<class 'http.client.RemoteDisconnected'>, Remote end closed connection without "
        "response",
        "the daemon closed the connection without answering"),
    "wrong shape": (
        dict(rpc=VERSION), "avail", "",
        "<class 'TypeError'>, string indices must be integers, not 'str'",
        "the daemon answered a string where a list was expected"),
    "socket gone, tail -f": (
        dict(vanish=True), "tail -f a", TAILF,
        "<class 'FileNotFoundError'>, [Errno 2] ENOENT",
        "cannot connect to unix://<TMP>/f.sock: No such file or directory"),
    "socket gone, maintail -f": (
        dict(vanish=True), "maintail -f", TAILF,
        "<class 'FileNotFoundError'>, [Errno 2] ENOENT",
        "cannot connect to unix://<TMP>/f.sock: No such file or directory"),
}


@pytest.mark.parametrize("case", list(ONECMD_ERRORS))
def test_unhandled_errors(tmp, case):
    """The stock client's `error: <class 'X'>, ...` line; ours in words, same status."""
    fake, command, before, stock_error, our_error = ONECMD_ERRORS[case]
    want = run(CTL, fake, command, tmp)
    got = run(OUR_CTL, fake, command, tmp)
    assert same_output(got, "ours", want, "stock"), (got, want)
    assert want == (1, before + error_line("stock", stock_error, None) + "\n", ""), want
    line = error_line("ours", None, our_error)
    if our_error.endswith(" "):
        rc, out, err = got
        assert (rc, err) == (1, "") and out.startswith(before + line), got
        assert out.endswith("\n") and out.count("\n") == before.count("\n") + 1, got
    else:
        assert got == (1, before + line + "\n", ""), got


def test_broken_log_stream(tmp):
    """A log stream that breaks once connected: `<url> Cannot connect, error: ` and the
    Python exception in the stock client, our words in ours; status 0 in both."""
    fake = dict(logtail=b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n")
    want = run(CTL, fake, "tail -f a", tmp)
    got = run(OUR_CTL, fake, "tail -f a", tmp)
    assert same_output(got, "ours", want, "stock"), (got, want)
    url = "unix://<TMP>/f.sock/logtail/a/stdout"
    assert want == (0, TAILF, url + " Cannot connect, error: <class 'ValueError'> (invalid "
                    "literal for int() with base 16: b'zz')\n"), want
    assert got == (0, TAILF, url + " Cannot connect, error: the daemon's answer has a bad "
                   "chunk size: 'zz'\n"), got


def test_only_error_lines_at_the_same_place_are_taken_as_equal():
    """The comparison of the two clients (conftest.same_output): an error line each words its
    own way is equal only at the same place; anything else still counts."""
    stock = ("x\nerror: <class 'ValueError'>, bad: file: F line: N\nsupervisor> y/N? "
             "error: <class 'EOFError'>, : file: /p/y.py line: 3\nsupervisor> \n")
    ours = "x\nerror: a bad URL\nsupervisor> y/N? error: the input ended\nsupervisor> \n"
    assert same_output((1, ours), "ours", (1, stock), "stock")
    assert not same_output((0, ours), "ours", (1, stock), "stock")  # the status
    assert not same_output((1, "x\n" + ours), "ours", (1, stock), "stock")  # the place
    assert not same_output((1, stock), "ours", (1, stock), "stock")  # ours as Python again
    assert not same_output((1, ours.replace("x\n", "y\n")), "ours", (1, stock), "stock")
    # one client against itself: every word counts
    assert not same_output((1, ours), "ours", (1, ours.replace("a bad", "another")), "ours")
    assert not same_output((1, stock), "stock", (1, stock.replace("bad", "worse")), "stock")
    url = "unix:///s.sock/logtail/a/stdout Cannot connect, error: "
    assert same_output(url + "the daemon closed it\n", "ours",
                       url + "<class 'ValueError'> (invalid literal)\n", "stock")
    assert not same_output(url + "<class 'ValueError'> (invalid literal)\n", "ours",
                           url + "<class 'ValueError'> (invalid literal)\n", "stock")
