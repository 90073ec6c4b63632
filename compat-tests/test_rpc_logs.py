"""XML-RPC: reading and clearing process logs and the main log through xmlrpc.client,
the reference as oracle.

Every scenario runs on the daemon under test and on a reference daemon
(``compare``); replies and faults are normalised (pids, times, temp paths).
Explicit expectations pin the reference's 4.2.5 behaviour as well, so a test
fails on the ``ref`` side only if the reference itself changes.
"""

import os

from conftest import compare, wait_until
from lib.fragments import sleeper
from lib.rpc import call, deliberate, file_contains, ncall, raw_status

SUCCESS = 80


# ---------------------------------------------------------------- logs

LOG_PROGRAMS = """
    [program:a]
    command=sh -c "echo out-a; echo err-a >&2; exec sleep 1000"
    startsecs=0
    stopwaitsecs=2

    [program:merged]
    command=sh -c "echo out-m; echo err-m >&2; exec sleep 1000"
    startsecs=0
    redirect_stderr=true
    stopwaitsecs=2

    [program:nolog]
    command=sleep 1000
    autostart=false
    stdout_logfile=NONE
    stderr_logfile=NONE
    """


def wait_logs(d):
    for name in ("a", "merged"):
        d.wait_state(name, "RUNNING")
    a = d.info("a")
    m = d.info("merged")
    wait_until(lambda: file_contains(a["stdout_logfile"], "out-a\n"), daemon=d)
    wait_until(lambda: file_contains(a["stderr_logfile"], "err-a\n"), daemon=d)
    wait_until(lambda: file_contains(m["stdout_logfile"], "err-m\n"), daemon=d)


PROCESS_LOG_CALLS = [
    ("readProcessStdoutLog", "a", 0, 0),
    ("readProcessLog", "a", 0, 0),
    ("readProcessStderrLog", "a", 0, 0),
    ("readProcessStdoutLog", "a", 1, 3),
    ("readProcessStdoutLog", "a", -3, 0),
    ("readProcessStdoutLog", "a", -100, 0),
    ("readProcessStdoutLog", "a", 100, 0),
    ("readProcessStdoutLog", "a", 0, 100),
    ("readProcessStdoutLog", "a", -3, 2),
    ("readProcessStdoutLog", "a", 0, -1),
    ("readProcessStdoutLog", "nosuch", 0, 0),
    ("readProcessStdoutLog", "a:", 0, 0),
    ("readProcessStderrLog", "merged", 0, 0),
    ("readProcessStdoutLog", "merged", 0, 0),
    ("readProcessStdoutLog", "nolog", 0, 0),
    ("readProcessStderrLog", "nolog", 0, 0),
    ("tailProcessStdoutLog", "a", 0, 100),
    ("tailProcessLog", "a", 0, 100),
    ("tailProcessStdoutLog", "a", 0, 3),
    ("tailProcessStdoutLog", "a", 2, 2),
    ("tailProcessStdoutLog", "a", 10, 5),
    ("tailProcessStdoutLog", "a", 6, 5),
    ("tailProcessStdoutLog", "a", -5, 3),
    ("tailProcessStdoutLog", "a", 0, -1),
    ("tailProcessStdoutLog", "a", 0, 0),
    ("tailProcessStderrLog", "a", 0, 100),
    ("tailProcessStderrLog", "a", 0, 2),
    ("tailProcessStderrLog", "merged", 0, 100),
    ("tailProcessStdoutLog", "nolog", 0, 100),
    ("tailProcessStdoutLog", "nolog", 5, 100),
    ("tailProcessStdoutLog", "nosuch", 0, 100),
]


def scenario_process_logs(d):
    d.start(LOG_PROGRAMS)
    wait_logs(d)
    res = {repr(c): ncall(d, "supervisor." + c[0], *c[1:]) for c in PROCESS_LOG_CALLS}
    res["clearProcessLogs a"] = call(d, "supervisor.clearProcessLogs", "a")
    res["after clear"] = [call(d, "supervisor.readProcessStdoutLog", "a", 0, 0),
                          call(d, "supervisor.readProcessStderrLog", "a", 0, 0),
                          call(d, "supervisor.tailProcessStdoutLog", "a", 0, 10)]
    res["clearProcessLog merged"] = call(d, "supervisor.clearProcessLog", "merged")
    res["clearProcessLogs nosuch"] = call(d, "supervisor.clearProcessLogs", "nosuch")
    res["clearProcessLogs nolog"] = call(d, "supervisor.clearProcessLogs", "nolog")
    res["clearAllProcessLogs"] = call(d, "supervisor.clearAllProcessLogs")
    res["merged after clear"] = call(d, "supervisor.readProcessStdoutLog", "merged", 0, 0)
    return res


def test_process_logs(daemon, oracle):
    res = compare(daemon, oracle, scenario_process_logs)

    def r(*c):
        return res[repr(c)]
    assert r("readProcessStdoutLog", "a", 0, 0) == ("ok", "out-a\n")
    assert r("readProcessLog", "a", 0, 0) == ("ok", "out-a\n")
    assert r("readProcessStderrLog", "a", 0, 0) == ("ok", "err-a\n")
    assert r("readProcessStdoutLog", "a", 1, 3) == ("ok", "ut-")
    assert r("readProcessStdoutLog", "a", -3, 0) == ("ok", "-a\n")
    assert r("readProcessStdoutLog", "a", -100, 0) == ("ok", "out-a\n")
    assert r("readProcessStdoutLog", "a", 100, 0) == ("ok", "")
    assert r("readProcessStdoutLog", "a", -3, 2) == ("fault", 3, "BAD_ARGUMENTS")
    assert r("readProcessStdoutLog", "a", 0, -1) == ("fault", 3, "BAD_ARGUMENTS")
    assert r("readProcessStdoutLog", "nosuch", 0, 0) == ("fault", 10, "BAD_NAME: nosuch")
    assert r("readProcessStderrLog", "merged", 0, 0) == ("fault", 20, "NO_FILE")
    assert r("readProcessStdoutLog", "merged", 0, 0) == ("ok", "out-m\nerr-m\n")
    assert r("readProcessStdoutLog", "nolog", 0, 0) == ("fault", 20, "NO_FILE")
    assert r("tailProcessStdoutLog", "a", 0, 100) == ("ok", ["out-a\n", 6, False])
    assert r("tailProcessLog", "a", 0, 100) == ("ok", ["out-a\n", 6, False])
    assert r("tailProcessStdoutLog", "a", 0, 3) == ("ok", ["-a\n", 6, True])
    assert r("tailProcessStdoutLog", "a", 10, 5) == ("ok", ["", 6, False])
    assert r("tailProcessStdoutLog", "a", 0, -1) == ("ok", ["", 6, True])
    assert r("tailProcessStderrLog", "a", 0, 2) == ("ok", ["a\n", 6, True])
    assert r("tailProcessStdoutLog", "nolog", 5, 100) == ("ok", ["", 0, False])
    assert r("tailProcessStdoutLog", "nosuch", 0, 100) == ("fault", 10, "BAD_NAME: nosuch")
    assert res["clearProcessLogs a"] == ("ok", True)
    assert res["after clear"] == [("ok", ""), ("ok", ""), ("ok", ["", 0, False])]
    assert res["clearProcessLogs nosuch"] == ("fault", 10, "BAD_NAME: nosuch")
    assert res["clearAllProcessLogs"] == ("ok", [
        {"name": n, "group": n, "status": SUCCESS, "description": "OK"}
        for n in ("a", "merged", "nolog")])
    assert res["merged after clear"] == ("ok", "")


def scenario_main_log(d):
    d.start(sleeper("a"))
    d.wait_state("a", "RUNNING")
    d.wait_log("success: a entered RUNNING")
    res = {}
    text = d.logfile.read_bytes().decode()
    size = len(d.logfile.read_bytes())
    # each read is checked against the file itself (the contents differ per daemon)
    res["readLog(0,0) is the file"] = d.rpc.supervisor.readLog(0, 0) == text
    res["readMainLog(0,0) is the file"] = d.rpc.supervisor.readMainLog(0, 0) == text
    res["readLog(5,10)"] = d.rpc.supervisor.readLog(5, 10) == text[5:15]
    res["readLog(-10,0)"] = d.rpc.supervisor.readLog(-10, 0) == text[-10:]
    res["readLog(-huge,0)"] = d.rpc.supervisor.readLog(-10 * size, 0) == text
    res["readLog(huge,0)"] = call(d, "supervisor.readLog", 10 * size, 0)
    res["readLog(-1,5)"] = call(d, "supervisor.readLog", -1, 5)
    res["readLog(0,-1)"] = call(d, "supervisor.readLog", 0, -1)
    res["readLog('x',0)"] = deliberate(d, raw_status(d, "supervisor.readLog", "x", 0),
                                       ("http", 500), ("http", 200, 2))
    res["clearLog"] = call(d, "supervisor.clearLog")
    after = d.logfile.read_text()
    res["cleared log lines"] = [l.split(" ", 3)[-1] for l in after.splitlines()
                                if "reopening" in l or "supervisord started" in l]
    os.unlink(d.logfile)
    res["readLog no file"] = call(d, "supervisor.readLog", 0, 0)
    res["clearLog no file"] = call(d, "supervisor.clearLog")
    return res


def test_main_log(daemon, oracle):
    res = compare(daemon, oracle, scenario_main_log)
    for k in ("readLog(0,0) is the file", "readMainLog(0,0) is the file", "readLog(5,10)",
              "readLog(-10,0)", "readLog(-huge,0)"):
        assert res[k] is True, k
    assert res["readLog(huge,0)"] == ("ok", "")
    assert res["readLog(-1,5)"] == ("fault", 3, "BAD_ARGUMENTS")
    assert res["readLog(0,-1)"] == ("fault", 3, "BAD_ARGUMENTS")
    assert res["clearLog"] == ("ok", True)
    assert res["readLog('x',0)"] == ("http", 500)
    assert res["readLog no file"] == ("fault", 20, "NO_FILE: <TMP>/supervisord.log")
    assert res["clearLog no file"] == ("fault", 20, "NO_FILE")
