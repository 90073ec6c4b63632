"""supervisorctl's options, config sources and connection errors: the stock client and ours
run side by side on the same input and must print the same (stdout, stderr, exit status).

Most of these need no daemon (usage errors, config errors, an unreachable server); the
ones that do use ``daemon`` with the ``ctl_clients`` marker like the other ctl tests.
"""

import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest

from conftest import CTL, CTL_TIMEOUT, OUR_CTL, compare, normalise, same_output, wait_until
from lib.fragments import base, sections, sleeper, supervisorctl, unix_http_server


@pytest.fixture
def tmp():
    d = Path(tempfile.mkdtemp(prefix="sv-ctl-"))
    yield d
    shutil.rmtree(d, ignore_errors=True)


def run(binary, args, cwd, env=None, stdin=""):
    """(rc, stdout, stderr) of one client, its own path and the temp dir replaced."""
    p = subprocess.run([str(binary)] + [str(a) for a in args], capture_output=True, text=True,
                       timeout=CTL_TIMEOUT, cwd=str(cwd), env=env, input=stdin)

    def norm(text):
        # (normalise: where an uncaught error was raised is a file of each client's own)
        return normalise(text.replace(str(binary), "<PROG>"), cwd)
    return p.returncode, norm(p.stdout), norm(p.stderr)


def both(args, cwd, env=None, stdin="", ours=None, stock=None):
    """Run the stock client and ours; assert the same result (an error line each words its
    own way aside: see conftest.same_output) and return ours."""
    if not OUR_CTL.exists():
        pytest.fail("our supervisorctl not found at %s" % OUR_CTL)
    want = run(stock or CTL, args, cwd, env, stdin)
    got = run(ours or OUR_CTL, args, cwd, env, stdin)
    assert same_output(got, "ours", want, "stock"), "supervisorctl %s: ours %r, stock %r" % (
        " ".join(map(str, args)), got, want)
    return got


def write(path, text):
    path.write_text(text)
    return path


USAGE_ARGS = [
    ["-h"], ["-?"], ["--help"], ["--he"], ["-x"], ["-hx"], ["-c"], ["--conf"],
    ["--configuration"], ["--interactive=1"], ["--h"], ["--nosuch"], ["-s", "foo"],
    ["-s", "unix://"], ["-s", "http://"], ["--serverurl=x"], ["-i", "-i"], ["-ii"],
    ["-c", "a", "-c", "b"], ["-u", "a", "--username", "b"], ["-p", "a", "-p", "b"],
    ["-r", "a", "-r", "b"], ["-c", "x.conf", "-h", "-x"], ["-s", "foo", "-h"],
    ["-h", "-s", "foo"], ["-u"],
]


@pytest.mark.parametrize("args", USAGE_ARGS, ids=lambda a: " ".join(a))
def test_usage(tmp, args):
    rc, out, err = both(args, tmp)
    assert rc in (0, 2)
    if rc == 2:
        assert err.endswith("For help, use <PROG> -h\n")


def test_help_text(tmp):
    rc, out, err = both(["-h"], tmp)
    assert (rc, err) == (0, "")
    assert out.startswith("supervisorctl -- control applications run by supervisord from the "
                          "cmd line.\n\nUsage: <PROG> [options] [action [arguments]]\n")


UNREACHABLE_COMMANDS = [
    "status", "status a", "version", "pid", "pid a", "avail", "reread", "update", "update g",
    "add x", "remove x", "start a", "stop all", "restart a", "signal HUP a", "clear a",
    "tail a", "tail -f a", "maintail", "maintail -f", "fg a", "shutdown", "reload", "help",
    "open nosuch://x", "nosuch", "",
]


# `avail` (no upcheck first) against each unreachable server: the stock client's Python
# exception (class, message) and our sentence (a prefix where the resolver's words vary).
UNREACHABLE_AVAIL = {
    "missing socket": ("<class 'FileNotFoundError'>, [Errno 2] No such file or directory",
                       "cannot connect to unix://<TMP>/nosuch.sock: No such file or directory"),
    "refused socket": ("<class 'ConnectionRefusedError'>, [Errno 111] Connection refused",
                       "cannot connect to unix://<TMP>/dead.sock: Connection refused"),
    "refused tcp": ("<class 'ConnectionRefusedError'>, [Errno 111] Connection refused",
                    "cannot connect to http://127.0.0.1:1: Connection refused"),
    "unknown host": ("<class 'socket.gaierror'>, [Errno ",
                     "cannot connect to http://nosuchhost.invalid:9001: host name lookup "
                     "failed: "),
    "bad port": ("<class 'ValueError'>, Port could not be cast to integer value as 'abc'",
                 "bad server URL http://127.0.0.1:abc: port 'abc' is not a number"),
    "no host": ("<class 'TypeError'>, expected string or bytes-like object, got 'NoneType'",
                "cannot connect to http:///x: no host in the URL"),
    "bad scheme": ("<class 'ValueError'>, Unknown protocol for serverurl bogus://x",
                   "the server URL bogus://x is neither unix:// nor http://"),
}


def refused_socket(path):
    """A socket file nobody listens on: connecting is refused."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(str(path))
    s.close()


@pytest.mark.parametrize("where", ["missing socket", "refused socket", "refused tcp",
                                   "unknown host", "bad port", "no host", "bad scheme"])
def test_unreachable_daemon(tmp, where):
    """What each command prints when there is no daemon to talk to, and its status."""
    url = {
        "missing socket": "unix://%s/nosuch.sock" % tmp,
        "refused socket": "unix://%s/dead.sock" % tmp,
        "refused tcp": "http://127.0.0.1:1",
        "unknown host": "http://nosuchhost.invalid:9001",
        "bad port": "http://127.0.0.1:abc",
        "no host": "http:///x",
        "bad scheme": "bogus://x",
    }[where]
    if where == "refused socket":
        refused_socket(tmp / "dead.sock")
    conf = write(tmp / "c.conf", "[supervisorctl]\nserverurl=%s\n" % url)
    seen = {}
    for cmd in UNREACHABLE_COMMANDS:
        seen[cmd] = both(["-c", conf] + cmd.split(), tmp)
    stock_error, our_error = UNREACHABLE_AVAIL[where]
    rc, out, err = run(CTL, ["-c", conf, "avail"], tmp)
    assert (rc, err) == (1, "") and out.startswith("error: " + stock_error), out
    rc, out, err = seen["avail"]
    assert (rc, err) == (1, "") and out.startswith("error: " + our_error), out
    assert out.count("\n") == 1 and out.endswith("\n") and "<class" not in out, out
    if where != "unknown host":
        assert out == "error: %s\n" % our_error
    if where == "missing socket":
        assert seen["status"] == (4, "unix://<TMP>/nosuch.sock no such file\n", "")
        assert seen["version"][0] == 7
        assert seen["shutdown"][1] == (
            "ERROR: unix://<TMP>/nosuch.sock no such file (already shut down?)\n")
    if where == "refused tcp":
        assert seen["status"] == (4, "http://127.0.0.1:1 refused connection\n", "")
        assert seen["version"][0] == 4


def test_config_errors(tmp):
    env = dict(os.environ, CTL_TEST_X="from-env")
    cases = {
        "nosection.conf": "[supervisord]\n",
        "expand.conf": "[supervisorctl]\nusername=%(here)s\n",
        "badfmt.conf": "[supervisorctl]\nserverurl=%(bad\n",
        "badfmt2.conf": "[supervisorctl]\nprompt=%(ENV_CTL_TEST_X)d\n",
        "plugin.conf": "[ctlplugin:x]\n[supervisorctl]\n",
        "empty.conf": "",
    }
    for name, text in cases.items():
        write(tmp / name, text)
        rc, out, err = both(["-c", name, "version"], tmp, env=env)
        assert rc == 2 and err.startswith("Error: "), (name, err)
    both(["-c", "nosuch.conf", "status"], tmp)
    both(["-c", str(tmp), "status"], tmp)
    # files Python's configparser cannot read end the stock client with a traceback; ours
    # prints its last line with the same exit status
    for name, text in {"noheader.conf": "foo\n[supervisorctl]\n",
                       "noequals.conf": "[supervisorctl]\nfoo\n"}.items():
        write(tmp / name, text)
        want = run(CTL, ["-c", name, "status"], tmp)
        got = run(OUR_CTL, ["-c", name, "status"], tmp)
        assert got[0] == want[0] == 1
        assert want[2].endswith(got[2]), (want, got)


def test_ctlplugin_is_reported_and_ignored(tmp):
    """A [ctlplugin:x] section names a Python plugin: the stock client fails when it cannot
    import it; ours says in one line that it cannot load it and runs the command."""
    dead = "unix://%s/nosuch.sock" % tmp
    plain = write(tmp / "plain.conf", "[supervisorctl]\nserverurl=%s\n" % dead)
    plugin = write(tmp / "plugin.conf", "[ctlplugin:serial]\nsupervisor.ctl_factory = "
                   "nosuch.plugin:make\n\n[supervisorctl]\nserverurl=%s\n" % dead)
    want = run(CTL, ["-c", plain, "status"], tmp)
    got = run(OUR_CTL, ["-c", plugin, "status"], tmp)
    assert got[:2] == want[:2]
    assert got[2] == ("supervisorctl: [ctlplugin:serial] not loaded: nosuch.plugin:make is a "
                      "Python plugin, which this supervisorctl cannot run; the built-in commands "
                      "work as usual\n")
    stock = run(CTL, ["-c", plugin, "status"], tmp)
    assert stock[0] == 2 and "nosuch.plugin:make cannot be resolved within [ctlplugin:serial]" \
        in stock[2]
    # several: still one line
    plugins = write(tmp / "plugins.conf", "[ctlplugin:a]\nsupervisor.ctl_factory = x.y:make\n\n"
                    "[ctlplugin:b]\nsupervisor.ctl_factory = z:make\n\n"
                    "[supervisorctl]\nserverurl=%s\n" % dead)
    got = run(OUR_CTL, ["-c", plugins, "status"], tmp)
    assert got[:2] == want[:2]
    assert got[2] == ("supervisorctl: [ctlplugin:a], [ctlplugin:b] not loaded: x.y:make, z:make "
                      "are Python plugins, which this supervisorctl cannot run; the built-in "
                      "commands work as usual\n")


def test_config_search_order(tmp):
    """Without -c: <exe>/../etc/supervisord.conf, <exe>/../supervisord.conf,
    ./supervisord.conf, ./etc/supervisord.conf (the system paths are not touched here)."""
    (tmp / "bin").mkdir()
    (tmp / "work" / "etc").mkdir(parents=True)
    (tmp / "etc").mkdir()
    stock = tmp / "bin" / "stock-ctl"
    ours = tmp / "bin" / "our-ctl"
    stock.symlink_to(CTL)
    ours.symlink_to(OUR_CTL)
    work = tmp / "work"

    def conf(path, name):
        write(path, "[supervisorctl]\nserverurl=unix://%%(here)s/%s.sock\n" % name)

    seen = []
    for path, name in [(work / "etc" / "supervisord.conf", "work-etc"),
                       (work / "supervisord.conf", "work"),
                       (tmp / "supervisord.conf", "exe-parent"),
                       (tmp / "etc" / "supervisord.conf", "exe-etc")]:
        conf(path, name)
        seen.append(both(["status"], work, ours=ours, stock=stock))
    assert [s[1] for s in seen] == [
        "unix://<TMP>/etc/work-etc.sock no such file\n",  # (<TMP> is the cwd, work/)
        "unix://<TMP>/work.sock no such file\n",
        "unix://%s/exe-parent.sock no such file\n" % tmp,
        "unix://%s/etc/exe-etc.sock no such file\n" % tmp,
    ]
    # no file found at all: the default server URL
    for p in (work / "etc" / "supervisord.conf", work / "supervisord.conf",
              tmp / "supervisord.conf", tmp / "etc" / "supervisord.conf"):
        p.unlink()
    rc, out, err = both(["status"], work, ours=ours, stock=stock)
    assert out.startswith("http://localhost:9001 ") or out.startswith("error: ")


def scenario_config_sources(d):
    """serverurl with %(here)s and %(ENV_X)s, credentials from the section, -s/-u/-p over it."""
    d.start(raw=sections(
        base(unix=unix_http_server("alice", "secret"),
             ctl=supervisorctl("unix://%(here)s/s.sock", "%(ENV_CTL_USER)s",
                               "%(ENV_CTL_PASSWORD)s")),
        sleeper("a", 100)), wait_ready=False)
    env = dict(os.environ, CTL_USER="alice", CTL_PASSWORD="secret")
    sock = "unix://%s" % d.sock

    def ctl(*args, conf=None):
        rc, out, err = run(d.ctl_bin, ["-c", conf or d.conf] + list(args), d.tmp, env)
        return d.norm(" ".join(map(str, args))), rc, d.norm(out), d.norm(err)

    wait_until(lambda: ctl("pid", "a")[1] == 0, daemon=d, what="a to run")
    relative = d.tmp / "sub"
    relative.mkdir()
    write(relative / "rel.conf", "[supervisorctl]\nserverurl=unix://../s.sock\n")
    res = [
        ctl("status"),
        ctl("-p", "wrong", "status"),
        ctl("-u", "bob", "status"),
        ctl("-s", sock + ".nosuch", "status"),
        ctl("-s", sock, "-u", "alice", "-p", "secret", "status", conf=relative / "rel.conf"),
        ctl("status", conf=relative / "rel.conf"),
        ctl("--serverurl=%s" % sock, "--username=alice", "--password", "secret", "version",
            conf=relative / "rel.conf"),
        ctl("maintail", "-5"),
        ctl("shutdown"),
    ]
    res.append(("exit", d.wait_exit()))
    return res


@pytest.mark.ctl_clients
def test_config_sources(daemon, oracle):
    res = compare(daemon, oracle, scenario_config_sources)
    assert res[0][1:] == (0, "a                                RUNNING   pid N, uptime T\n", "")
    assert res[1][1] == 1 and res[1][2].startswith("Server requires authentication\n")
    assert res[-1] == ("exit", 0)
