"""One heavy web request must not freeze the daemon.

A ``POST /index.html`` whose urlencoded body is 1 MiB of about 175 000 distinct
fields is sent over TCP; while it is under way a supervised process is killed and
another client calls ``supervisor.getState``. The call must be answered and the
process restarted (the deadlines only turn a hang into a failure: a form built in
quadratic time held ours for 80+ CPU seconds). Ours refuses a form of more than
1000 fields, or a body over 1 MiB, with 413 (a deliberate difference); the
reference renders the page. Smaller forms are read as the reference reads them.
"""

import http.client
import os
import signal
import socket
import time
import xmlrpc.client

from conftest import wait_until
from lib.inet import basic, start_inet
from lib.rpc import UnixHTTPConnection, request

DEADLINE = 30  # seconds; only turns a hang into a failure
FORM = "application/x-www-form-urlencoded"
AUTH = basic("user", "pass")


def distinct_fields(size):
    """An urlencoded body of `size` bytes: distinct three-character names, `=1` each."""
    alpha = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~"
    n = len(alpha)
    names = (alpha[i % n] + alpha[i // n % n] + alpha[i // (n * n) % n]
             for i in range(size // 6 + 1))
    return "&".join(k + "=1" for k in names)[:size].encode()


def send(port, path, body, length=None):
    """Send a POST without waiting for its reply; the socket to read it from."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=DEADLINE)
    sock.sendall(b"POST %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nAuthorization: %s\r\n"
                 b"Content-Type: %s\r\nContent-Length: %d\r\n\r\n"
                 % (path, port, AUTH.encode(), FORM.encode(),
                    len(body) if length is None else length) + body)
    return sock


def reply(sock):
    """(status, Location's message or None) of the reply on `sock`, or the error's name."""
    try:
        resp = http.client.HTTPResponse(sock)
        resp.begin()
        resp.read()
        location = resp.getheader("Location")
        return (resp.status, location.split("?message=")[1].split("%20")[0] if location else None)
    except (http.client.HTTPException, OSError) as e:
        return type(e).__name__
    finally:
        sock.close()


def rpc(d, method, *params):
    """One XML-RPC call over the unix socket, with a deadline: (status, result), or the
    error's name."""
    conn = UnixHTTPConnection(d.sock, timeout=DEADLINE)
    try:
        status, _, data = request(conn, "POST", "/RPC2",
                                  xmlrpc.client.dumps(params, method).encode())
        return status, xmlrpc.client.loads(data.decode())[0][0]
    except OSError as e:
        return type(e).__name__
    finally:
        conn.close()


def get_state(d):
    got = rpc(d, "supervisor.getState")
    return (got[0], got[1]["statename"]) if isinstance(got, tuple) else got


def restarted(d, old_pid):
    got = rpc(d, "supervisor.getProcessInfo", "a")
    return isinstance(got, tuple) and got[1]["statename"] == "RUNNING" and got[1]["pid"] != old_pid


def scenario_big_form(d):
    start_inet(d)
    pid = d.info("a")["pid"]
    body = distinct_fields(1024 * 1024)
    assert len(body) == 1024 * 1024 and body.count(b"&") > 170000
    sock = send(d.port, b"/index.html", body)
    os.kill(pid, signal.SIGKILL)
    # calls in a row, so that some are made while the form is being read
    res = {"getState during the form": (200, "RUNNING")}
    for _ in range(20):
        got = get_state(d)
        if got != (200, "RUNNING"):
            res["getState during the form"] = got
            break
        time.sleep(0.05)
    res["restarted"] = bool(wait_until(lambda: restarted(d, pid), timeout=DEADLINE, daemon=d,
                                       what="a restarted"))
    res["form"] = reply(sock)
    res["getState after"] = get_state(d)
    return res


def test_big_form_does_not_freeze_the_daemon(daemon):
    res = scenario_big_form(daemon)
    assert res["getState during the form"] == (200, "RUNNING")
    assert res["restarted"] is True
    assert res["getState after"] == (200, "RUNNING")
    if daemon.kind == "ours":
        assert res["form"] == (413, None)
    else:
        assert res["form"] == (200, None)  # the reference renders the page


def scenario_form_sizes(d):
    start_inet(d)
    noise = "&".join("f%d=x" % i for i in range(995))
    res = {}
    for name, (query, body) in (
        # the reference's precedence: the query's first of a repeated name wins, the body's
        # last wins (over the query's too), blank values are dropped. `stop` without a
        # process name is not "Page refreshed at ...".
        ("query: first wins", ("?action=refresh&action=stop", "x=1")),
        ("body: last wins", ("?action=stop", "action=stop&action=&action=refresh")),
        ("1000 fields", ("?" + noise + "&x=1", "action=refresh&y=2&z=3&w=4")),
        ("1001 fields", ("?" + noise + "&x=1", "action=refresh&y=2&z=3&w=4&v=5")),
    ):
        res[name] = reply(send(d.port, b"/index.html" + query.encode(), body.encode()))
    if d.kind == "ours":
        # a body declared over 1 MiB is refused before it is sent (the reference would
        # wait for it)
        sock = send(d.port, b"/index.html", b"", length=1024 * 1024 + 1)
        res["body over 1 MiB"] = reply(sock)
    return res


def test_form_sizes(daemon):
    res = scenario_form_sizes(daemon)
    assert res["query: first wins"] == (301, "Page")  # "Page refreshed at ..."
    assert res["body: last wins"] == (301, "Page")
    assert res["1000 fields"] == (301, "Page")
    if daemon.kind == "ours":
        assert res["1001 fields"] == (413, None)
        assert res["body over 1 MiB"] == (413, None)
    else:
        assert res["1001 fields"] == (301, "Page")
