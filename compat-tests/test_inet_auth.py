"""[inet_http_server] with authentication, the unix socket with authentication,
and the HTTP layer (keep-alive, HTTP/1.0, GET, unknown paths), the reference
as oracle.

The harness's Daemon knows only the unauthenticated unix socket, so the
configs here are written whole (``raw=``): the unix socket stays open without
credentials (for the harness's readiness check) unless a test puts
credentials on it too.
"""

import hashlib
import http.client
import subprocess
import xmlrpc.client

import pytest

from conftest import CTL_TIMEOUT, compare, error_line, wait_until
from lib.fragments import sections, supervisorctl, unix_http_server
from lib.inet import BASE, basic, start_inet
from lib.rpc import UnixHTTPConnection, request

pytestmark = pytest.mark.ctl_clients  # each test with the stock client and with ours

UNIX_AUTH = unix_http_server("alice", "secret")
CTL_SECTION = supervisorctl()
config = sections


def ctl_url(d, url, *args):
    conf = d.tmp / "ctl.conf"
    conf.write_text("[supervisorctl]\n")
    cmd = [str(d.ctl_bin), "-c", str(conf), "-s", url] + [str(a) for a in args]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=CTL_TIMEOUT,
                       stdin=subprocess.DEVNULL, cwd=str(d.tmp))
    return (p.returncode, norm_port(d, d.norm(p.stdout)), norm_port(d, d.norm(p.stderr)))


def norm_port(d, text):
    return text.replace(":%d" % d.port, ":<PORT>") if getattr(d, "port", None) else text


GETSTATE = xmlrpc.client.dumps((), "supervisor.getState").encode()


def http_result(d, method="POST", path="/RPC2", body=GETSTATE, headers=None, unix=False):
    """(status, www-authenticate, content-type, parsed reply) for one request."""
    conn = UnixHTTPConnection(d.sock) if unix else http.client.HTTPConnection(
        "127.0.0.1", d.port, timeout=30)
    try:
        status, hdrs, data = request(conn, method, path, body, headers)
    except (http.client.HTTPException, OSError) as e:
        # e.g. the server closed the connection before reading the request body
        return (type(e).__name__,)
    finally:
        conn.close()
    reply = None
    if status == 200 and method == "POST" and path == "/RPC2":
        try:
            reply = xmlrpc.client.loads(data.decode())[0][0]
        except xmlrpc.client.Fault as e:
            reply = ("fault", e.faultCode)
    return (status, hdrs.get("www-authenticate"), (hdrs.get("content-type") or "").split(";")[0],
            reply)


def scenario_inet_plain(d):
    start_inet(d)
    url = "http://127.0.0.1:%d" % d.port
    res = {
        "ctl ok": ctl_url(d, url, "-u", "user", "-p", "pass", "status"),
        "ctl pid": ctl_url(d, url, "-u", "user", "-p", "pass", "pid", "a"),
        "ctl wrong password": ctl_url(d, url, "-u", "user", "-p", "nope", "status"),
        "ctl wrong user": ctl_url(d, url, "-u", "bob", "-p", "pass", "status"),
        "ctl no credentials": ctl_url(d, url, "status"),
        "ctl no password": ctl_url(d, url, "-u", "user", "status"),
        "ctl version": ctl_url(d, url, "-u", "user", "-p", "pass", "version"),
        "ctl localhost": ctl_url(d, "http://localhost:%d" % d.port, "-u", "user", "-p", "pass",
                                 "status"),
        "raw no auth": http_result(d),
        "raw good auth": http_result(d, headers={"Authorization": basic("user", "pass")}),
        "raw bad auth": http_result(d, headers={"Authorization": basic("user", "bad")}),
        "raw digest auth": http_result(d, headers={"Authorization": "Digest user=x"}),
        # malformed headers (ours: 401, the reference: 400 or 500): test_auth_malformed.py
        "raw lowercase scheme": http_result(d, headers={
            "Authorization": basic("user", "pass").replace("Basic", "basic")}),
        "GET /RPC2 no auth": http_result(d, "GET", "/RPC2", None),
        "GET /nosuch no auth": http_result(d, "GET", "/nosuch", None),
        # the unix socket here has no credentials
        "unix no auth": http_result(d, unix=True),
    }
    return res


def test_inet_plain_password(daemon, oracle):
    res = compare(daemon, oracle, scenario_inet_plain)
    assert res["ctl ok"] == (0, "a                                RUNNING   pid N, uptime T\n", "")
    assert res["ctl pid"][:2] == (0, "N\n")
    unauthorized = error_line(
        daemon.client,
        "<class 'xmlrpc.client.ProtocolError'>, "
        "<ProtocolError for 127.0.0.1/RPC2: 401 Unauthorized>",
        "the daemon answered HTTP 401 Unauthorized on /RPC2 (check username and password)")
    for k in ("ctl wrong password", "ctl wrong user", "ctl no credentials", "ctl no password"):
        assert res[k] == (1, "Server requires authentication\n" + unauthorized + "\n", ""), (
            k, res[k])
    assert res["ctl version"] == (0, "4.2.5\n", "")
    assert res["ctl localhost"][0] == 0
    assert res["raw no auth"] == (401, 'Basic realm="default"', "text/html", None)
    assert res["raw good auth"] == (200, None, "text/xml", {"statecode": 1, "statename": "RUNNING"})
    assert res["raw bad auth"][:2] == (401, 'Basic realm="default"')
    assert res["raw lowercase scheme"][0] == 200
    assert res["raw digest auth"][0] == 401
    assert res["GET /RPC2 no auth"][0] == 401
    assert res["unix no auth"][0] == 200


def scenario_inet_sha(d):
    sha = "{SHA}" + hashlib.sha1(b"s3cr3t").hexdigest()
    start_inet(d, user="user", password=sha)
    url = "http://127.0.0.1:%d" % d.port
    return {
        "ctl ok": ctl_url(d, url, "-u", "user", "-p", "s3cr3t", "status"),
        "ctl hash as password": ctl_url(d, url, "-u", "user", "-p", sha, "status")[:1],
        "ctl wrong": ctl_url(d, url, "-u", "user", "-p", "wrong", "status")[:1],
        "raw good": http_result(d, headers={"Authorization": basic("user", "s3cr3t")}),
        "raw hash": http_result(d, headers={"Authorization": basic("user", sha)})[:2],
        "raw hex digest": http_result(d, headers={
            "Authorization": basic("user", sha[5:])})[:2],
    }


def test_inet_sha_password(daemon, oracle):
    res = compare(daemon, oracle, scenario_inet_sha)
    assert res["ctl ok"][0] == 0
    assert res["ctl hash as password"] == (1,)
    assert res["ctl wrong"] == (1,)
    assert res["raw good"][0] == 200
    assert res["raw hash"][0] == 401
    assert res["raw hex digest"][0] == 401


def scenario_inet_no_auth_any_host(d):
    """port=*:PORT binds all interfaces; no credentials configured."""
    start_inet(d, host="*", user=None)
    return {
        "ctl": ctl_url(d, "http://127.0.0.1:%d" % d.port, "status"),
        "ctl with needless credentials": ctl_url(d, "http://127.0.0.1:%d" % d.port,
                                                 "-u", "x", "-p", "y", "status"),
        "raw": http_result(d),
        "bound to all": any_address_listening(d.port),
    }


def any_address_listening(port):
    """True when something listens on 0.0.0.0:port (or [::]:port)."""
    for path, width in (("/proc/net/tcp", 8), ("/proc/net/tcp6", 32)):
        try:
            lines = open(path).read().splitlines()[1:]
        except FileNotFoundError:
            continue
        for line in lines:
            f = line.split()
            addr, p = f[1].split(":")
            if int(p, 16) == port and f[3] == "0A" and int(addr, 16) == 0:
                return True
    return False


def test_inet_any_host(daemon, oracle):
    res = compare(daemon, oracle, scenario_inet_no_auth_any_host)
    assert res["ctl"] == (0, "a                                RUNNING   pid N, uptime T\n", "")
    assert res["ctl with needless credentials"][0] == 0
    assert res["raw"][0] == 200
    assert res["bound to all"] is True


def scenario_unix_auth(d):
    d.start(raw=config(UNIX_AUTH, BASE, CTL_SECTION), wait_ready=False)
    good = {"Authorization": basic("alice", "secret")}
    wait_until(lambda: http_result(d, headers=good, unix=True)[-1] == {
        "statecode": 1, "statename": "RUNNING"}, daemon=d, what="daemon ready")
    return {
        "no auth": http_result(d, unix=True),
        "good": http_result(d, headers=good, unix=True),
        "bad": http_result(d, headers={"Authorization": basic("alice", "x")}, unix=True),
        "ctl": ctl_url(d, "unix://%s" % d.sock, "-u", "alice", "-p", "secret", "version"),
        "ctl bad": ctl_url(d, "unix://%s" % d.sock, "-u", "alice", "-p", "x", "version")[0],
    }


def test_unix_auth(daemon, oracle):
    res = compare(daemon, oracle, scenario_unix_auth)
    assert res["no auth"][:2] == (401, 'Basic realm="default"')
    assert res["good"][0] == 200
    assert res["bad"][0] == 401
    assert res["ctl"] == (0, "4.2.5\n", "")
    assert res["ctl bad"] == 1


# ---------------------------------------------------------------- HTTP layer

def two_calls(conn, headers=None):
    """Two requests on one connection: [(status, reply) or exception name]."""
    out = []
    for _ in range(2):
        try:
            status, hdrs, data = request(conn, "POST", "/RPC2", GETSTATE, headers)
            out.append((status, xmlrpc.client.loads(data.decode())[0][0]["statename"]
                        if status == 200 else None))
        except (http.client.HTTPException, OSError) as e:
            out.append(type(e).__name__)
            conn.close()
    return out


def scenario_http_layer(d):
    start_inet(d, user=None)
    res = {}
    # HTTP/1.1: persistent by default
    conn = http.client.HTTPConnection("127.0.0.1", d.port, timeout=30)
    res["1.1 keep-alive"] = two_calls(conn)
    conn.close()
    # HTTP/1.1 with Connection: close: the server closes after the reply
    conn = http.client.HTTPConnection("127.0.0.1", d.port, timeout=30)
    status, hdrs, _ = request(conn, "POST", "/RPC2", GETSTATE, {"Connection": "close"})
    res["1.1 close"] = (status, hdrs.get("connection"))
    if d.kind == "ours":
        # hyper confirms the close it was asked for (`Connection: close`, as HTTP/1.1 says a
        # server should); the reference sends no header. A deliberate difference.
        assert res["1.1 close"] == (200, "close"), res["1.1 close"]
        res["1.1 close"] = (200, None)
    conn.close()
    # HTTP/1.0 with Connection: keep-alive
    conn = http.client.HTTPConnection("127.0.0.1", d.port, timeout=30)
    conn._http_vsn, conn._http_vsn_str = 10, "HTTP/1.0"
    res["1.0 keep-alive"] = two_calls(conn, {"Connection": "Keep-Alive"})
    conn.close()
    # HTTP/1.0 without keep-alive: one reply, then the server closes
    conn = http.client.HTTPConnection("127.0.0.1", d.port, timeout=30)
    conn._http_vsn, conn._http_vsn_str = 10, "HTTP/1.0"
    status, hdrs, data = request(conn, "POST", "/RPC2", GETSTATE)
    res["1.0 plain"] = (status, xmlrpc.client.loads(data.decode())[0][0]["statename"])
    conn.close()
    # the same over the unix socket
    conn = UnixHTTPConnection(d.sock)
    res["unix 1.1 keep-alive"] = two_calls(conn)
    conn.close()
    # paths and methods
    for method, path in (("GET", "/RPC2"), ("GET", "/nosuch"), ("POST", "/nosuch"),
                         ("HEAD", "/RPC2"), ("PUT", "/RPC2"), ("POST", "/RPC2/extra"),
                         ("GET", "/RPC2?x=1")):
        res[method + " " + path] = http_result(d, method, path,
                                               GETSTATE if method in ("POST", "PUT") else None)[:1]
    return res


def test_http_layer(daemon, oracle):
    res = compare(daemon, oracle, scenario_http_layer)
    assert res["1.1 keep-alive"] == [(200, "RUNNING"), (200, "RUNNING")]
    assert res["1.0 keep-alive"] == [(200, "RUNNING"), (200, "RUNNING")]
    assert res["1.0 plain"] == (200, "RUNNING")
    assert res["unix 1.1 keep-alive"] == [(200, "RUNNING"), (200, "RUNNING")]
    assert res["GET /nosuch"] == (404,)
    assert res["GET /RPC2"] == (400,) and res["HEAD /RPC2"] == (400,) and res["PUT /RPC2"] == (400,)
    assert res["POST /nosuch"] == (400,)
    assert res["1.1 close"] == (200, None)
    assert res["POST /RPC2/extra"] == (200,)
