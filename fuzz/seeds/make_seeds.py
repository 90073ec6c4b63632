"""Writes the fuzz targets' seed corpora (fuzz/seeds/<target>/) from real inputs.

    compat-tests/.venv/bin/python fuzz/seeds/make_seeds.py

Run it with the compat tests' venv (it imports the reference supervisor 4.2.5 and its
client code); it replaces the four seed directories.

- xmlrpc_call: the bodies `xmlrpc.client` sends (`xmlrpc.client.dumps`) for every method of
  the API, found in the reference's RPC interfaces with the types of their `@param`s, plus
  `system.multicall`s, each XML-RPC type, and the odd calls clients make (wrong types, nil).
- config: `conf/`, the reference's sample config, and every config the compat tests write
  (recorded by running them with record_configs.py, which skips each test at its daemon's
  start). Paths of the machine that wrote them are replaced by fixed ones.
- config_value: every distinct `key=value` line of those configs.
- authorization: the headers `xmlrpc.client`, `supervisorctl` and browsers send, and the
  malformed ones clients have been seen to send.
- web_form: the query strings and POST bodies of the web pages' links and forms, as
  `<query>\\n<body>`.
"""

import base64
import datetime
import hashlib
import inspect
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile
import urllib.parse
import xmlrpc.client

HERE = pathlib.Path(__file__).resolve().parent
REPO = HERE.parent.parent
COMPAT = REPO / "compat-tests"


def write(target, name, data):
    d = HERE / target
    d.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        data = data.encode("utf-8")
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", name)[:60]
    (d / ("%s-%s" % (safe, hashlib.sha1(data).hexdigest()[:8]))).write_bytes(data)


# ------------------------------------------------------------------ XML-RPC calls

def api_methods():
    """(method name, [(type, param name)]) for every method of the reference's API."""
    from supervisor import rpcinterface, xmlrpc as sxmlrpc
    out = []
    for prefix, cls in (("supervisor", rpcinterface.SupervisorNamespaceRPCInterface),
                        ("system", sxmlrpc.SystemNamespaceRPCInterface)):
        for name, fn in sorted(inspect.getmembers(cls, inspect.isfunction)):
            if name.startswith("_"):
                continue
            params = re.findall(r"@param\s+(\w+)\s+(\w+)", fn.__doc__ or "")
            out.append(("%s.%s" % (prefix, name), params))
    # ours, beyond the reference
    out.append(("supervisord_rs.getProcessStats", [("string", "name")]))
    return out


STRINGS = {
    "name": ["cat", "group:cat", "group:*", "web_01", "gr\u00fcn:\u00e9t\u00e9"],
    "signal": ["HUP", "9", "SIGUSR1"],
    "chars": ["hello\n", "\u00e9\u00e8 & <tag>\r\n"],
    "type": ["MY_EVENT"],
    "data": ["payload", ""],
    "method": ["supervisor.getState"],
}


def arguments(params, variant):
    args = []
    for typ, pname in params:
        if typ == "string":
            choices = STRINGS.get(pname, ["x"])
            args.append(choices[variant % len(choices)])
        elif typ == "int":
            args.append([0, -1024, 1024, 2**31 - 1][variant % 4])
        elif typ == "boolean":
            args.append(variant % 2 == 0)
        elif typ == "array":
            args.append([{"methodName": "supervisor.getState", "params": []}])
        elif typ == "struct":
            args.append({"k": "v"})
        else:
            args.append("x")
    return tuple(args)


def xmlrpc_seeds():
    for method, params in api_methods():
        for variant in range(3 if params else 1):
            write("xmlrpc_call", method, xmlrpc.client.dumps(arguments(params, variant), method))
    # what supervisorctl sends for its multi-process commands
    calls = [{"methodName": "supervisor.stopProcess", "params": ["cat", True]},
             {"methodName": "supervisor.startProcess", "params": ["cat", True]}]
    write("xmlrpc_call", "multicall", xmlrpc.client.dumps((calls,), "system.multicall"))
    nested = [{"methodName": "system.multicall", "params": [calls]}]
    write("xmlrpc_call", "multicall-nested", xmlrpc.client.dumps((nested,), "system.multicall"))
    # every type, as parameters
    values = (1, -2**31, 2**31 - 1, 1.5, -0.0, 1e300, float("inf"), True, False, "",
              "text \u00e9 & < > \"'", xmlrpc.client.Binary(b"\x00\xff bytes"),
              xmlrpc.client.DateTime(datetime.datetime(2026, 11, 4, 16, 6, 17)),
              [], {}, [1, ["a", {"b": [2.5]}]], {"k": {"nested": [True, None]}}, None)
    for i, v in enumerate(values):
        write("xmlrpc_call", "type-%d" % i,
              xmlrpc.client.dumps((v,), "supervisor.addProcessGroup", allow_none=True))
    write("xmlrpc_call", "all-types",
          xmlrpc.client.dumps(values, "system.methodHelp", allow_none=True))
    write("xmlrpc_call", "latin1",
          xmlrpc.client.dumps(("caf\u00e9",), "supervisor.startProcess", encoding="iso-8859-1"))
    write("xmlrpc_call", "no-params", xmlrpc.client.dumps((), "supervisor.getState"))
    write("xmlrpc_call", "wide-struct", xmlrpc.client.dumps(
        ({"k%d" % i: i for i in range(200)},), "supervisor.sendRemoteCommEvent"))
    write("xmlrpc_call", "long-array", xmlrpc.client.dumps(
        (list(range(500)),), "supervisor.readLog"))


# ------------------------------------------------------------------ configs

def normalise_paths(text):
    """The machine's paths in a recorded config, replaced by fixed ones."""
    text = re.sub(r"/tmp/sv-(ours|ref)-[A-Za-z0-9_]+", "/tmp/sv", text)
    text = re.sub(r"/tmp/pytest-of-[^/]+/pytest-\d+/[^/\s]+", "/tmp/t", text)
    text = re.sub(r"/tmp/tmp[A-Za-z0-9_]{6,}", "/tmp/t", text)
    # free ports the tests picked at random
    text = re.sub(r"((?:^|[=/@])(?:127\.0\.0\.1|localhost|\*|\[::1\])?):\d{4,5}\b", r"\1:9001",
                  text, flags=re.M)
    text = text.replace(sys.executable, "/usr/bin/python3")
    text = text.replace(str(COMPAT), "/srv/supervisord/compat-tests")
    text = text.replace(str(REPO), "/srv/supervisord")
    return text


def config_seeds():
    for p in sorted((REPO / "conf").rglob("*.conf")):
        write("config", p.name, p.read_text())
    import supervisor
    sample = pathlib.Path(supervisor.__file__).parent / "skel" / "sample.conf"
    write("config", "reference-sample.conf", sample.read_text())
    with tempfile.TemporaryDirectory() as out:
        env = dict(os.environ, FUZZ_CONFIG_DIR=out,
                   PYTHONPATH=os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")]))
        # only the `ours` half: the `ref` half writes the same configs
        subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "record_configs",
                        "-k", "ours", "--ignore", str(COMPAT / "container"), str(COMPAT)],
                       cwd=str(COMPAT), env=env, stdout=subprocess.DEVNULL, check=False)
        seen = set()
        for p in sorted(pathlib.Path(out).iterdir()):
            text = normalise_paths(p.read_text())
            if text not in seen:
                seen.add(text)
                write("config", "compat" + p.suffix, text)
    # config_value: every distinct `key=value` line of those files
    lines = set()
    for p in sorted((HERE / "config").iterdir()):
        for line in p.read_text().splitlines():
            m = re.match(r"^([A-Za-z_.]+)\s*[=:]\s*(.+)$", line)
            if m:
                lines.add("%s=%s" % m.groups())
    for line in sorted(lines):
        write("config_value", line.split("=")[0], line)


# ------------------------------------------------------------------ Authorization

def authorization_seeds():
    from supervisor.xmlrpc import SupervisorTransport

    def supervisorctl_header(user, password):
        t = SupervisorTransport(user, password, "http://127.0.0.1:9001")
        seen = {}

        class Conn:
            def request(self, method, handler, body, headers):
                seen.update(headers)

            def getresponse(self):
                raise OSError("recorded")

        t.connection = None
        t._get_connection = Conn
        try:
            t.request("127.0.0.1", "/RPC2", b"")
        except OSError:
            pass
        return seen["Authorization"]

    def xmlrpc_client_header(userpass):
        _, headers, _ = xmlrpc.client.Transport().get_host_info(userpass + "@127.0.0.1")
        return dict(headers)["Authorization"]

    for user, password in [("user", "123"), ("user", "wrong"), ("admin", "p:a:ss"),
                           ("us\u00e9r", "p\u00e4ss"), ("", ""), ("user", "x" * 200)]:
        write("authorization", "supervisorctl", supervisorctl_header(user, password))
    write("authorization", "xmlrpc-client", xmlrpc_client_header("user:123"))
    write("authorization", "xmlrpc-client-quoted", xmlrpc_client_header("user%40x:1%3A2"))
    b64 = lambda b: base64.b64encode(b).decode()
    # what browsers and curl send, and malformed headers seen from clients
    for name, value in [
        ("browser", "Basic " + b64(b"user:123")),
        ("lowercase-scheme", "basic " + b64(b"user:123")),
        ("no-colon", "Basic " + b64(b"user")),
        ("not-base64", "Basic !!!!"),
        ("truncated", "Basic " + b64(b"user:123")[:-2]),
        ("latin1-raw", b"Basic user:\xe9t\xe9"),
        ("latin1-base64", "Basic " + b64("user:\u00e9t\u00e9".encode("latin-1"))),
        ("empty", ""),
        ("scheme-only", "Basic"),
        ("scheme-space", "Basic "),
        ("digest", 'Digest username="user", realm="default", nonce="x", uri="/RPC2"'),
        ("bearer", "Bearer eyJhbGciOiJIUzI1NiJ9.e30.x"),
        ("two-spaces", "Basic  " + b64(b"user:123")),
        ("wrapped", "Basic " + base64.encodebytes(b"user:" + b"x" * 80).decode()),
        ("oversized", "Basic " + b64(b"user:" + b"y" * 6000)),
    ]:
        write("authorization", name, value if isinstance(value, bytes) else value.encode("latin-1"))


# ------------------------------------------------------------------ web forms

def web_form_seeds():
    enc = urllib.parse.urlencode
    for name, query, body in [
        ("refresh", "action=refresh", ""),
        ("restartall", "action=restartall", ""),
        ("stopall", "action=stopall", ""),
        ("start", enc({"processname": "web:web_01", "action": "start"}), ""),
        ("stop", enc({"processname": "cat", "action": "stop"}), ""),
        ("restart", enc({"processname": "cat", "action": "restart"}), ""),
        ("clearlog", enc({"processname": "cat", "action": "clearlog"}), ""),
        ("tail", enc({"processname": "cat", "limit": "1024"}), ""),
        ("message", enc({"message": "Process cat started"}), ""),
        ("message-date", "message=" + urllib.parse.quote("Page refreshed at Tue Nov  4 16:06:17 2026"), ""),
        ("post", "", enc({"processname": "gr\u00fcn:x", "action": "start"})),
        ("post-over-query", "action=refresh&processname=a", "action=stop&processname=b"),
        ("repeated", "action=stop&action=start", "x=1&x=2"),
        ("blank", "action=&processname=cat", "=&&a"),
        ("percent", "message=%e9%zz%2", "message=a+b%20c%2B"),
        ("html", enc({"message": "<script>alert(1)</script> & \"x\""}), ""),
    ]:
        write("web_form", name, "%s\n%s" % (query, body))


TARGETS = ("xmlrpc_call", "config", "config_value", "authorization", "web_form")


def main():
    for target in TARGETS:
        shutil.rmtree(HERE / target, ignore_errors=True)
    xmlrpc_seeds()
    authorization_seeds()
    web_form_seeds()
    config_seeds()
    for target in TARGETS:
        files = list((HERE / target).iterdir())
        print("%-14s %4d files %8d bytes" % (target, len(files), sum(f.stat().st_size for f in files)))


if __name__ == "__main__":
    main()
