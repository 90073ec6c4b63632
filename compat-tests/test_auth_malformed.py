"""Malformed ``Authorization`` headers on an [inet_http_server] with credentials.

Each request is sent as raw bytes over a real TCP socket to both daemons. Ours
answers every malformed header with ``401`` and ``WWW-Authenticate: Basic
realm="default"`` (a deliberate difference: the reference answers some with 400,
and crashes with 500 on credentials without a ``:``); what the reference answers
is recorded and asserted where it is stable. Each request is a POST of
``supervisor.stopProcess('a')`` (or the web page's stop action): nothing may be
executed, so ``a`` keeps running with the same pid on both daemons.
"""

import base64
import http.client
import socket
import xmlrpc.client

from conftest import call
from lib.inet import basic, start_inet

DEADLINE = 30  # seconds; only turns a hang into a failure
CHALLENGE = 'Basic realm="default"'


def b64(raw):
    return base64.b64encode(raw)


STOP_A = xmlrpc.client.dumps(("a",), "supervisor.stopProcess").encode()
STOP_FORM = b"processname=a&action=stop"

# name -> the Authorization header lines (raw bytes, without CRLF) of the request
HEADERS = {
    "no colon": [b"Authorization: Basic " + b64(b"user")],
    "empty credentials": [b"Authorization: Basic " + b64(b"")],
    "invalid base64": [b"Authorization: Basic !!!notbase64"],
    "truncated base64": [b"Authorization: Basic " + b64(b"user:pass")[:10]],
    "raw latin-1 bytes": [b"Authorization: Basic \xe9\xe8\xff\xe0"],
    "latin-1 credentials": [b"Authorization: Basic " + b64(b"user:p\xe4ss")],
    "oversized": [b"Authorization: Basic " + b64(b"user:" + b"x" * 48000)],
    "empty header": [b"Authorization:"],
    "scheme only": [b"Authorization: Basic"],
    "scheme and a space": [b"Authorization: Basic "],
    "bearer": [b"Authorization: Bearer " + b64(b"user:pass")],
    "digest": [b'Authorization: Digest username="user", realm="default"'],
}

GOOD = b"Authorization: " + basic("user", "pass").encode()
BAD = b"Authorization: " + basic("user", "nope").encode()
# Two headers: sent with harmless requests (the reference acts on the first one).
TWO = {
    "two, good first": [GOOD, BAD],
    "two, good second": [BAD, GOOD],
    "two, both good": [GOOD, GOOD],
}
GET_STATE = xmlrpc.client.dumps((), "supervisor.getState").encode()

# What the reference answers (medusa's auth_handler): a cookie Python cannot decode is 400,
# decoded credentials without a ':' crash it (500), and only the first header counts.
REFERENCE = {
    "no colon": 500,
    "empty credentials": 500,
    "invalid base64": 400,
    "truncated base64": 400,
    "raw latin-1 bytes": None,  # it fails decoding the header and drops the connection
    "latin-1 credentials": 400,
    "oversized": 401,
    "empty header": 401,
    "scheme only": 401,
    "scheme and a space": 500,
    "bearer": 401,
    "digest": 401,
    "two, good first": 200,
    "two, good second": 401,
    "two, both good": 200,
}


def exchange(port, path, auth_lines, body, ctype):
    """One raw request; (status, WWW-Authenticate, Connection) of the reply, or the name
    of the error when the connection broke."""
    head = [b"POST %s HTTP/1.1" % path, b"Host: 127.0.0.1:%d" % port,
            b"Content-Type: " + ctype, b"Content-Length: %d" % len(body)] + auth_lines
    data = b"\r\n".join(head) + b"\r\n\r\n" + body
    sock = socket.create_connection(("127.0.0.1", port), timeout=DEADLINE)
    try:
        sock.sendall(data)
        resp = http.client.HTTPResponse(sock)
        resp.begin()
        resp.read()
        return (resp.status, resp.getheader("WWW-Authenticate"),
                (resp.getheader("Connection") or "").lower() or None)
    except (http.client.HTTPException, OSError) as e:
        return type(e).__name__
    finally:
        sock.close()


def scenario_malformed(d):
    start_inet(d)
    pid = d.info("a")["pid"]
    res = {}
    for name, lines in HEADERS.items():
        res["rpc " + name] = exchange(d.port, b"/RPC2", lines, STOP_A, b"text/xml")
        res["web " + name] = exchange(d.port, b"/index.html", lines, STOP_FORM,
                                      b"application/x-www-form-urlencoded")
    for name, lines in TWO.items():
        res["rpc " + name] = exchange(d.port, b"/RPC2", lines, GET_STATE, b"text/xml")
        # (a form without an action: the page; the reference hangs on an empty POST body)
        res["web " + name] = exchange(d.port, b"/index.html", lines, b"x=1",
                                      b"application/x-www-form-urlencoded")
    # nothing was executed: `a` runs on, with the same pid
    res["a after"] = call(d, "supervisor.getProcessInfo", "a")[1]["statename"]
    res["same pid"] = d.info("a")["pid"] == pid
    return res


def test_malformed_authorization(daemon):
    res = scenario_malformed(daemon)
    assert res["a after"] == "RUNNING" and res["same pid"], res
    for name in list(HEADERS) + list(TWO):
        for where in ("rpc", "web"):
            got = res["%s %s" % (where, name)]
            if daemon.kind == "ours":
                assert got == (401, CHALLENGE, "close"), (where, name, got)
            elif REFERENCE[name] is None:
                assert isinstance(got, str), (where, name, got)  # no reply at all
            else:
                assert got[0] == REFERENCE[name], (where, name, got)
