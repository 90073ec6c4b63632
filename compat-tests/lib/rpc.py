"""XML-RPC and HTTP helpers for the API, supervisorctl, inet auth and fuzz tests: raw HTTP
over the unix socket or TCP, fault-aware calls, value normalisation, a few /proc probes.
"""

import http.client
import os
import re
import socket
import xmlrpc.client

from lib.harness import call

DEADLINE = 30  # seconds; only turns a hang into a failure


class UnixHTTPConnection(http.client.HTTPConnection):
    """http.client over a unix socket (the daemon's [unix_http_server])."""

    def __init__(self, path, timeout=DEADLINE):
        super().__init__("localhost", timeout=timeout)
        self.unix_path = str(path)

    def connect(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(self.timeout)
        s.connect(self.unix_path)
        self.sock = s


def unix_get(d, path):
    """GET ``path`` on the daemon's unix socket: (status, body text)."""
    conn = UnixHTTPConnection(d.sock)
    try:
        conn.request("GET", path)
        r = conn.getresponse()
        return r.status, r.read().decode()
    finally:
        conn.close()


def connection(d=None, port=None, timeout=DEADLINE):
    if port is not None:
        return http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    return UnixHTTPConnection(d.sock, timeout=timeout)


def request(conn, method="POST", path="/RPC2", body=None, headers=None):
    """One request on ``conn``; returns (status, {lower header: value}, body bytes)."""
    hdrs = {"Content-Type": "text/xml"} if body is not None else {}
    hdrs.update(headers or {})
    conn.request(method, path, body=body, headers=hdrs)
    resp = conn.getresponse()
    data = resp.read()
    return resp.status, {k.lower(): v for k, v in resp.getheaders()}, data


def raw_post(d, body, path="/RPC2", headers=None, port=None, timeout=DEADLINE):
    conn = connection(d, port, timeout)
    try:
        return request(conn, "POST", path, body, headers)
    finally:
        conn.close()


def raw_call(d, method, *params, **kw):
    """Marshal a call with xmlrpc.client; return (status, headers, body text)."""
    body = xmlrpc.client.dumps(params, method).encode()
    status, headers, data = raw_post(d, body, **kw)
    return status, headers, data.decode("utf-8", "replace")


VOLATILE_INT_KEYS = {"pid": "PID", "start": "TIME", "stop": "TIME", "now": "TIME"}


def norm_value(d, value, key=None):
    """Normalise a reply: pids/times → placeholders, strings through d.norm()."""
    if isinstance(value, dict):
        return {k: norm_value(d, v, k) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [norm_value(d, v) for v in value]
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        if key in VOLATILE_INT_KEYS and value > 0:
            return VOLATILE_INT_KEYS[key]
        return value
    if isinstance(value, str):
        return norm_str(d, value)
    return value


_AUTOLOG = re.compile(r"---supervisor-[A-Za-z0-9_]+\.log")


def norm_str(d, text):
    """d.norm() plus the random part of AUTO child log names."""
    return _AUTOLOG.sub("---supervisor-XXXX.log", d.norm(text))


def ncall(d, method, *args):
    """call() with the value normalised."""
    res = call(d, method, *args)
    if res[0] == "ok":
        return ("ok", norm_value(d, res[1]))
    return res


def sig_ignored(pid, signum):
    """True when ``pid`` ignores signal ``signum`` (from /proc/PID/status SigIgn)."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("SigIgn:"):
                return bool(int(line.split()[1], 16) & (1 << (signum - 1)))
    return False


def stdin_closed(pid):
    return not os.path.exists("/proc/%d/fd/0" % pid)


def file_contains(path, text):
    try:
        with open(path, "rb") as f:
            return text.encode() in f.read()
    except FileNotFoundError:
        return False


_XML_INT = re.compile(r"<name>(\w+)</name>\s*<value>\s*<(int|i4|boolean|string|double)>")


def xml_member_types(body):
    """{member name: xml-rpc scalar tag} from a raw XML-RPC reply body."""
    return {m.group(1): m.group(2) for m in _XML_INT.finditer(body)}


# ---------------------------------------------------------------- replies the two daemons differ on

def deliberate(d, value, ref_value, ours_value):
    """A deliberate difference: where the reference fails inside (HTTP 500), ours answers with
    a proper fault. Ours must give ``ours_value``; the recorded result is then the reference's
    expected ``ref_value``, so the comparison covers everything else, and the test asserts the
    reference's side."""
    if d.kind == "ours":
        assert value == ours_value, (value, ours_value)
        return ref_value
    return value


def raw_status(d, method, *params):
    """(HTTP status, fault code or None) for a call whose params may be ill-typed."""
    st, _, body = raw_call(d, method, *params)
    if st != 200:
        return ("http", st)
    try:
        xmlrpc.client.loads(body)
        return ("http", st, "ok")
    except xmlrpc.client.Fault as e:
        return ("http", st, e.faultCode)


def proc_is_sleep(pid):
    with open("/proc/%d/comm" % pid) as f:
        return f.read().strip() == "sleep"
