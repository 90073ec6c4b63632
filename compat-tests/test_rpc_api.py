"""The whole XML-RPC interface through xmlrpc.client, the reference as oracle.

Every scenario runs on the daemon under test and on a reference daemon
(``compare``); replies and faults are normalised (pids, times, temp paths).
Explicit expectations pin the reference's 4.2.5 behaviour as well, so a test
fails on the ``ref`` side only if the reference itself changes.
"""

import concurrent.futures
import os
import shutil
import signal
import xmlrpc.client

from conftest import compare, pid_alive, wait_until
from lib.rpc import (call, file_contains, ncall, norm_value, raw_call, sig_ignored, stdin_closed,
                     xml_member_types)

SUCCESS = 80

# ---------------------------------------------------------------- basics

BASIC_PROGRAMS = """
    [program:a]
    command=sleep 1000
    startsecs=0
    stopwaitsecs=2
    """


def scenario_basics(d):
    d.start(BASIC_PROGRAMS)
    d.wait_state("a", "RUNNING")
    res = {}
    for m in ("getAPIVersion", "getVersion", "getSupervisorVersion",
              "getIdentification", "getState"):
        res[m] = call(d, "supervisor." + m)
    pid = call(d, "supervisor.getPID")
    res["getPID is the daemon"] = pid == ("ok", d.proc.pid)
    res["getPID type"] = type(pid[1]).__name__
    # unknown methods and namespaces
    for m in ("supervisor.noSuchMethod", "nosuch.getState", "supervisor",
              "supervisor.getState.extra", "supervisor._update", "system.nosuch",
              "supervisor.__init__", ""):
        res["unknown " + repr(m)] = raw_fault(d, m)
    # wrong argument counts
    res["getState(1)"] = call(d, "supervisor.getState", 1)
    res["startProcess()"] = call(d, "supervisor.startProcess")
    res["getProcessInfo(a, b)"] = call(d, "supervisor.getProcessInfo", "a", "b")
    res["readLog(0)"] = call(d, "supervisor.readLog", 0)
    res["signalProcess(a)"] = call(d, "supervisor.signalProcess", "a")
    res["methodHelp()"] = call(d, "system.methodHelp")
    res["multicall()"] = call(d, "system.multicall")
    return res


def raw_fault(d, method):
    """Call ``method`` (any string) with no params via xmlrpc.client's marshalling."""
    try:
        return ("ok", norm_value(d, d.rpc._ServerProxy__request(method, ())))
    except xmlrpc.client.Fault as e:
        return ("fault", e.faultCode, d.norm(e.faultString))
    except xmlrpc.client.ProtocolError as e:
        return ("http", e.errcode)


def test_basics(daemon, oracle):
    res = compare(daemon, oracle, scenario_basics)
    assert res["getAPIVersion"] == ("ok", "3.0")
    assert res["getVersion"] == ("ok", "3.0")
    assert res["getSupervisorVersion"] == ("ok", "4.2.5")
    assert res["getIdentification"] == ("ok", "supervisor")
    assert res["getState"] == ("ok", {"statecode": 1, "statename": "RUNNING"})
    assert res["getPID is the daemon"] is True
    assert res["getPID type"] == "int"
    assert res["unknown 'supervisor.noSuchMethod'"] == ("fault", 1, "UNKNOWN_METHOD")
    assert res["unknown 'nosuch.getState'"] == ("fault", 1, "UNKNOWN_METHOD")
    assert res["unknown 'supervisor._update'"] == ("fault", 1, "UNKNOWN_METHOD")
    assert res["getState(1)"] == ("fault", 2, "INCORRECT_PARAMETERS")
    assert res["startProcess()"] == ("fault", 2, "INCORRECT_PARAMETERS")
    assert res["getProcessInfo(a, b)"] == ("fault", 2, "INCORRECT_PARAMETERS")


def scenario_introspection(d):
    d.start(BASIC_PROGRAMS)
    methods = d.rpc.system.listMethods()
    res = {"listMethods": methods}
    for m in methods:
        res["help " + m] = call(d, "system.methodHelp", m)
        res["signature " + m] = call(d, "system.methodSignature", m)
    res["help nosuch"] = call(d, "system.methodHelp", "supervisor.nosuch")
    res["signature nosuch"] = call(d, "system.methodSignature", "nosuch")
    return res


ALL_METHODS = sorted("""
supervisor.addProcessGroup supervisor.clearAllProcessLogs supervisor.clearLog
supervisor.clearProcessLog supervisor.clearProcessLogs supervisor.getAPIVersion
supervisor.getAllConfigInfo supervisor.getAllProcessInfo supervisor.getIdentification
supervisor.getPID supervisor.getProcessInfo supervisor.getState
supervisor.getSupervisorVersion supervisor.getVersion supervisor.readLog
supervisor.readMainLog supervisor.readProcessLog supervisor.readProcessStderrLog
supervisor.readProcessStdoutLog supervisor.reloadConfig supervisor.removeProcessGroup
supervisor.restart supervisor.sendProcessStdin supervisor.sendRemoteCommEvent
supervisor.shutdown supervisor.signalAllProcesses supervisor.signalProcess
supervisor.signalProcessGroup supervisor.startAllProcesses supervisor.startProcess
supervisor.startProcessGroup supervisor.stopAllProcesses supervisor.stopProcess
supervisor.stopProcessGroup supervisor.tailProcessLog supervisor.tailProcessStderrLog
supervisor.tailProcessStdoutLog system.listMethods system.methodHelp
system.methodSignature system.multicall
""".split())


def test_introspection(daemon, oracle):
    res = compare(daemon, oracle, scenario_introspection)
    assert res["listMethods"] == ("ok", ALL_METHODS)[1]
    assert res["signature supervisor.getProcessInfo"] == ("ok", ["struct", "string"])
    assert res["signature supervisor.tailProcessStdoutLog"] == (
        "ok", ["array", "string", "int", "int"])
    assert res["signature system.multicall"] == ("ok", ["array", "array"])
    assert res["help nosuch"] == ("fault", 4, "SIGNATURE_UNSUPPORTED")
    assert res["signature nosuch"] == ("fault", 4, "SIGNATURE_UNSUPPORTED")
    assert "@return int PID" in res["help supervisor.getPID"][1]


# ---------------------------------------------------------------- process info

INFO_PROGRAMS = """
    [program:a]
    command=sh -c "echo out-a; echo err-a >&2; exec sleep 1000"
    startsecs=0
    stopwaitsecs=2

    [program:b]
    command=sleep 1000
    autostart=false
    startsecs=0
    stopwaitsecs=2

    [program:merged]
    command=sleep 1000
    autostart=false
    redirect_stderr=true
    stdout_logfile=@TMP@/merged.log

    [program:nolog]
    command=sleep 1000
    autostart=false
    stdout_logfile=NONE
    stderr_logfile=NONE

    [group:g]
    programs=c,e
    priority=500

    [program:c]
    command=sleep 1000
    startsecs=0
    stopwaitsecs=2

    [program:e]
    command=sh -c "exit 3"
    startsecs=0
    autorestart=false

    [program:fatal]
    command=sh -c "exit 1"
    startsecs=1
    startretries=0
    """


def scenario_process_info(d):
    d.start(INFO_PROGRAMS)
    d.wait_state("a", "RUNNING")
    d.wait_state("g:c", "RUNNING")
    d.wait_state("g:e", "EXITED")
    d.wait_state("fatal", "FATAL")
    d.rpc.supervisor.startProcess("b")
    d.rpc.supervisor.stopProcess("b")
    res = {}
    for name in ("a", "b", "g:c", "g:e", "fatal", "merged", "nolog"):
        info = call(d, "supervisor.getProcessInfo", name)
        res[name] = ncall(d, "supervisor.getProcessInfo", name)
        res[name + " types"] = sorted((k, type(v).__name__) for k, v in info[1].items())
    res["all"] = ncall(d, "supervisor.getAllProcessInfo")
    res["faults"] = [call(d, "supervisor.getProcessInfo", n)
                     for n in ("nosuch", "g:nosuch", "nosuch:c", "g", "g:", ":c", "g:*")]
    st, _, body = raw_call(d, "supervisor.getProcessInfo", "a")
    res["raw status"] = st
    res["xml types"] = xml_member_types(body)
    a = d.info("a")
    res["a times sane"] = (a["start"] <= a["now"] and a["stop"] == 0 and a["pid"] > 0
                           and pid_alive(a["pid"]))
    b = d.info("b")
    res["b times sane"] = 0 < b["start"] <= b["stop"] <= b["now"]
    return res


def test_process_info(daemon, oracle):
    res = compare(daemon, oracle, scenario_process_info)
    assert res["a"] == ("ok", {
        "name": "a", "group": "a", "description": "pid N, uptime T",
        "start": "TIME", "stop": 0, "now": "TIME", "state": 20, "statename": "RUNNING",
        "spawnerr": "", "exitstatus": 0, "logfile": res["a"][1]["logfile"],
        "stdout_logfile": res["a"][1]["stdout_logfile"],
        "stderr_logfile": res["a"][1]["stderr_logfile"], "pid": "PID"})
    assert res["a"][1]["logfile"] == res["a"][1]["stdout_logfile"]
    assert res["a"][1]["stdout_logfile"] == "<TMP>/a-stdout---supervisor-XXXX.log"
    assert res["a types"] == sorted([
        ("name", "str"), ("group", "str"), ("description", "str"), ("start", "int"),
        ("stop", "int"), ("now", "int"), ("state", "int"), ("statename", "str"),
        ("spawnerr", "str"), ("exitstatus", "int"), ("logfile", "str"),
        ("stdout_logfile", "str"), ("stderr_logfile", "str"), ("pid", "int")])
    assert res["b"][1]["statename"] == "STOPPED" and res["b"][1]["description"] == "DATE"
    assert res["g:e"][1]["statename"] == "EXITED"
    assert res["g:e"][1]["exitstatus"] == 3 and res["g:e"][1]["description"] == "DATE"
    assert res["g:e"][1]["group"] == "g" and res["g:e"][1]["name"] == "e"
    assert res["fatal"][1]["statename"] == "FATAL"
    assert res["fatal"][1]["description"] == "Exited too quickly (process log may have details)"
    assert res["merged"][1]["stdout_logfile"] == "<TMP>/merged.log"
    assert res["merged"][1]["stderr_logfile"] == ""
    assert res["nolog"][1]["stdout_logfile"] == "" and res["nolog"][1]["description"] == "Not started"
    assert res["faults"][0] == ("fault", 10, "BAD_NAME: nosuch")
    assert res["faults"][3] == ("fault", 10, "BAD_NAME: g")
    assert res["raw status"] == 200
    for k in ("pid", "start", "stop", "now", "state", "exitstatus"):
        assert res["xml types"][k] == "int", res["xml types"]
    assert res["a times sane"] and res["b times sane"]
    # getAllProcessInfo: in lexical order of namespec (not group priority)
    assert [(p["group"], p["name"]) for p in res["all"][1]] == [
        ("a", "a"), ("b", "b"), ("fatal", "fatal"), ("g", "c"), ("g", "e"),
        ("merged", "merged"), ("nolog", "nolog")]
    assert res["g:e"][1]["spawnerr"] == "Bad exit code 3"
    assert res["b"][1]["exitstatus"] == -1


def scenario_config_info(d):
    d.start(INFO_PROGRAMS)
    d.wait_state("g:e", "EXITED")
    return ncall(d, "supervisor.getAllConfigInfo")


def test_all_config_info(daemon, oracle):
    res = compare(daemon, oracle, scenario_config_info)
    assert res[0] == "ok"
    by = {(c["group"], c["name"]): c for c in res[1]}
    a = by[("a", "a")]
    assert a["command"] == 'sh -c "echo out-a; echo err-a >&2; exec sleep 1000"'
    assert a["autostart"] is True and a["inuse"] is True and a["startsecs"] == 0
    assert a["group_prio"] == 999 and a["process_prio"] == 999
    assert by[("g", "c")]["group_prio"] == 500
    assert by[("merged", "merged")]["redirect_stderr"] is True
    assert by[("nolog", "nolog")]["stdout_logfile"] == "none"


# ---------------------------------------------------------------- control

CONTROL_PROGRAMS = """
    [program:fast]
    command=sleep 1000
    startsecs=0
    stopwaitsecs=2

    [program:slow]
    command=sleep 1000
    startsecs=1
    autostart=false
    stopwaitsecs=2

    [program:quick]
    command=sh -c "exit 1"
    startsecs=1
    startretries=0
    autostart=false

    [program:missing]
    command=/nonexistent/command
    autostart=false

    [program:notexec]
    command=@TMP@/notexec.sh
    autostart=false

    [program:lostlog]
    command=sleep 1000
    autostart=false
    startretries=0
    stdout_logfile=@TMP@/logs/lostlog.log

    [group:g]
    programs=c,d
    priority=500

    [program:c]
    command=sleep 1000
    startsecs=0
    stopwaitsecs=2
    autostart=false

    [program:d]
    command=sleep 1000
    startsecs=0
    stopwaitsecs=2
    autostart=false
    """


def setup_control(d):
    (d.tmp / "notexec.sh").write_text("#!/bin/sh\nexit 0\n")
    os.chmod(d.tmp / "notexec.sh", 0o644)
    (d.tmp / "logs").mkdir()
    d.start(CONTROL_PROGRAMS)
    d.wait_state("fast", "RUNNING")
    # its stdout_logfile's directory vanishes: the spawn itself fails
    shutil.rmtree(d.tmp / "logs")


def scenario_control(d):
    setup_control(d)
    r = []

    def c(method, *args):
        res = ncall(d, "supervisor." + method, *args)
        if (method.startswith("stop") and args[-1:] != (False,) and res[0] == "ok"
                and isinstance(res[1], list)):
            # waited-for stops are reported in completion order (a race)
            res = (res[0], sorted(res[1], key=lambda x: (x["group"], x["name"])))
        r.append(((method,) + args, res))

    c("startProcess", "slow")
    r.append(("slow after wait", d.state("slow")))
    c("startProcess", "slow")
    c("startProcess", "slow", False)
    c("startProcess", "quick")
    d.wait_state("quick", "FATAL")
    c("startProcess", "missing")
    c("startProcess", "notexec")
    c("startProcess", "lostlog")
    d.wait_state("lostlog", "FATAL")
    r.append(("lostlog info", ncall(d, "supervisor.getProcessInfo", "lostlog")))
    c("startProcess", "nosuch")
    c("startProcess", "g:nosuch")
    c("startProcess", "g:*")
    c("stopProcessGroup", "g")
    c("stopProcessGroup", "g")
    c("startProcessGroup", "g", False)
    d.wait_state("g:c", "RUNNING")
    d.wait_state("g:d", "RUNNING")
    c("startProcessGroup", "g")
    c("startProcessGroup", "nosuch")
    c("stopProcess", "g:*")
    c("startProcess", "g")
    c("startProcessGroup", "g")
    c("stopProcess", "slow")
    r.append(("slow after stop", d.state("slow")))
    c("stopProcess", "slow")
    c("stopProcess", "nosuch")
    c("stopProcess", "fast", False)
    d.wait_state("fast", "STOPPED")
    c("startProcess", "fast")
    c("stopProcessGroup", "nosuch")
    # signals (WINCH: sleep ignores it, the processes stay up)
    for sig in ("WINCH", "winch", "SIGWINCH", "28", "FOO", "999", "0", "-1", ""):
        c("signalProcess", "fast", sig)
    c("signalProcess", "slow", "WINCH")
    c("signalProcess", "slow", "FOO")
    c("signalProcess", "nosuch", "WINCH")
    c("signalProcess", "g:*", "WINCH")
    c("signalProcessGroup", "g", "WINCH")
    c("signalProcessGroup", "g", "FOO")
    c("signalProcessGroup", "nosuch", "WINCH")
    c("signalAllProcesses", "WINCH")
    c("signalAllProcesses", "FOO")
    r.append(("still running", sorted(p["name"] for p in d.rpc.supervisor.getAllProcessInfo()
                                      if p["statename"] == "RUNNING")))
    c("stopAllProcesses")
    r.append(("states after stopAll", sorted((p["name"], p["statename"])
                                             for p in d.rpc.supervisor.getAllProcessInfo())))
    c("stopAllProcesses")
    c("signalAllProcesses", "WINCH")
    c("startAllProcesses", False)
    # without waiting, whether quick has already died when the reply is made is a race
    r[-1] = (r[-1][0], (r[-1][1][0], [x for x in r[-1][1][1] if x["name"] != "quick"]))
    for name in ("fast", "slow", "g:c", "g:d"):
        d.wait_state(name, "RUNNING")
    d.wait_state("quick", "FATAL")
    d.wait_state("lostlog", "FATAL")
    c("stopAllProcesses", False)
    for name in ("fast", "slow", "g:c", "g:d"):
        d.wait_state(name, "STOPPED")
    c("startAllProcesses")
    d.wait_state("quick", "FATAL")
    d.wait_state("lostlog", "FATAL")
    r.append(("final", sorted((p["name"], p["statename"])
                              for p in d.rpc.supervisor.getAllProcessInfo())))
    return r


def test_control(daemon, oracle):
    res = compare(daemon, oracle, scenario_control)
    by = {}
    for k, v in res:
        by.setdefault(k, []).append(v)
    assert by[("startProcess", "slow")] == [("ok", True), ("fault", 60, "ALREADY_STARTED: slow")]
    assert by["slow after wait"] == ["RUNNING"]
    # exiting before startsecs sets spawnerr: SPAWN_ERROR, not ABNORMAL_TERMINATION
    assert by[("startProcess", "quick")] == [("fault", 50, "SPAWN_ERROR: quick")]
    assert by[("startProcess", "missing")] == [
        ("fault", 20, "NO_FILE: can't find command '/nonexistent/command'")]
    assert by[("startProcess", "notexec")] == [
        ("fault", 21, "NOT_EXECUTABLE: command at '<TMP>/notexec.sh' is not executable")]
    assert by[("startProcess", "lostlog")] == [("fault", 50, "SPAWN_ERROR: lostlog")]
    assert by["lostlog info"][0][1]["spawnerr"] == "unknown error making dispatchers for 'lostlog': ENOENT"
    assert by[("startProcess", "nosuch")] == [("fault", 10, "BAD_NAME: nosuch")]
    ok = lambda g, n: {"name": n, "group": g, "status": SUCCESS, "description": "OK"}  # noqa: E731
    assert by[("startProcess", "g:*")] == [("ok", [ok("g", "c"), ok("g", "d")])]
    assert by[("stopProcessGroup", "g")] == [("ok", [ok("g", "c"), ok("g", "d")]), ("ok", [])]
    assert by[("startProcessGroup", "nosuch")] == [("fault", 10, "BAD_NAME: nosuch")]
    assert by[("stopProcess", "slow")] == [("ok", True), ("fault", 70, "NOT_RUNNING: slow")]
    assert by["slow after stop"] == ["STOPPED"]
    assert by[("signalProcess", "fast", "WINCH")] == [("ok", True)]
    assert by[("signalProcess", "fast", "28")] == [("ok", True)]
    assert by[("signalProcess", "fast", "FOO")] == [("fault", 11, "BAD_SIGNAL: FOO")]
    assert by[("signalProcess", "fast", "999")] == [("fault", 11, "BAD_SIGNAL: 999")]
    assert by[("signalProcess", "slow", "WINCH")] == [("fault", 70, "NOT_RUNNING: slow")]
    assert by[("signalProcessGroup", "g", "FOO")] == [("ok", [
        {"name": "c", "group": "g", "status": 11, "description": "BAD_SIGNAL: FOO"},
        {"name": "d", "group": "g", "status": 11, "description": "BAD_SIGNAL: FOO"}])]
    assert by["still running"] == [["c", "d", "fast"]]
    assert by[("startProcess", "g")] == [("fault", 10, "BAD_NAME: g")]
    final = dict(by["final"][0])
    assert final["quick"] == "FATAL" and final["fast"] == "RUNNING" and final["missing"] == "STOPPED"
    start_all = by[("startAllProcesses",)][0][1]
    assert [(x["name"], x["status"]) for x in start_all] == [
        ("c", 80), ("d", 80), ("fast", 80), ("lostlog", 50), ("missing", 20),
        ("notexec", 21), ("quick", 50), ("slow", 80)]


ABNORMAL_PROGRAMS = """
    [program:slowstart]
    command=sleep 1000
    startsecs=100
    autostart=false
    stopwaitsecs=2
    """


def scenario_abnormal(d):
    """Stopped while startProcess waits for it: ABNORMAL_TERMINATION."""
    d.start(ABNORMAL_PROGRAMS)
    r = {}
    with concurrent.futures.ThreadPoolExecutor(1) as ex:
        fut = ex.submit(ncall, d, "supervisor.startProcess", "slowstart")
        d.wait_state("slowstart", "STARTING")
        r["stop"] = ncall(d, "supervisor.stopProcess", "slowstart")
        r["start"] = fut.result(timeout=60)
    r["state"] = d.state("slowstart")
    return r


def test_abnormal_termination(daemon, oracle):
    res = compare(daemon, oracle, scenario_abnormal)
    assert res == {"stop": ("ok", True),
                   "start": ("fault", 40, "ABNORMAL_TERMINATION: slowstart"),
                   "state": "STOPPED"}


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
    d.start(BASIC_PROGRAMS)
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


# ---------------------------------------------------------------- stdin, comm events

STDIN_PROGRAMS = """
    [program:cat]
    command=cat
    startsecs=0
    stopwaitsecs=2

    [program:closed]
    command=sh -c "exec sleep 1000 0<&-"
    startsecs=0
    stopwaitsecs=2

    [program:off]
    command=cat
    autostart=false
    """


def scenario_stdin(d):
    d.start(STDIN_PROGRAMS)
    d.wait_state("cat", "RUNNING")
    closed = d.wait_state("closed", "RUNNING")
    wait_until(lambda: stdin_closed(closed["pid"]) and proc_is_sleep(closed["pid"]), daemon=d)
    res = {}
    res["send"] = call(d, "supervisor.sendProcessStdin", "cat", "hello\n")
    res["send unicode"] = call(d, "supervisor.sendProcessStdin", "cat", "h\u00e9llo \u2603\n")
    log = d.info("cat")["stdout_logfile"]
    wait_until(lambda: file_contains(log, "h\u00e9llo \u2603\n"), daemon=d)
    res["echoed"] = d.rpc.supervisor.readProcessStdoutLog("cat", 0, 0)
    res["send empty"] = call(d, "supervisor.sendProcessStdin", "cat", "")
    res["send int"] = raw_status(d, "supervisor.sendProcessStdin", "cat", 5)
    res["send stopped"] = call(d, "supervisor.sendProcessStdin", "off", "x")
    res["send nosuch"] = call(d, "supervisor.sendProcessStdin", "nosuch", "x")
    res["send closed"] = call(d, "supervisor.sendProcessStdin", "closed", "x\n")
    res["comm event"] = call(d, "supervisor.sendRemoteCommEvent", "mytype", "mydata")
    res["comm event unicode"] = call(d, "supervisor.sendRemoteCommEvent", "t\u00e9", "\u2603")
    res["comm event no args"] = call(d, "supervisor.sendRemoteCommEvent")
    res["alive"] = d.state("cat")
    return res


def proc_is_sleep(pid):
    with open("/proc/%d/comm" % pid) as f:
        return f.read().strip() == "sleep"


def test_stdin_and_comm_events(daemon, oracle):
    res = compare(daemon, oracle, scenario_stdin)
    assert res["send"] == ("ok", True)
    assert res["echoed"] == "hello\nh\u00e9llo \u2603\n"
    assert res["send stopped"] == ("fault", 70, "NOT_RUNNING: off")
    assert res["send nosuch"] == ("fault", 10, "BAD_NAME: nosuch")
    assert res["send closed"] == ("fault", 20, "NO_FILE: closed")
    assert res["comm event"] == ("ok", True)
    assert res["comm event no args"] == ("fault", 2, "INCORRECT_PARAMETERS")


# ---------------------------------------------------------------- config reload

RELOAD_BEFORE = """
    [program:keep]
    command=sleep 1000
    startsecs=0
    stopwaitsecs=2

    [program:change]
    command=sleep 1000
    startsecs=0
    stopwaitsecs=2

    [program:gone]
    command=sleep 1000
    startsecs=0
    stopwaitsecs=2

    [program:gone2]
    command=sleep 1000
    autostart=false
    """

RELOAD_AFTER = """
    [program:keep]
    command=sleep 1000
    startsecs=0
    stopwaitsecs=2

    [program:change]
    command=sleep 999
    startsecs=0
    stopwaitsecs=2

    [program:new]
    command=sleep 1000
    startsecs=0
    stopwaitsecs=2

    [group:ng]
    programs=n1,n2

    [program:n1]
    command=sleep 1000
    startsecs=0
    stopwaitsecs=2

    [program:n2]
    command=sleep 1000
    startsecs=0
    autostart=false
    """


def scenario_reload_config(d):
    d.start(RELOAD_BEFORE)
    for n in ("keep", "change", "gone"):
        d.wait_state(n, "RUNNING")
    res = {}
    res["nothing changed"] = call(d, "supervisor.reloadConfig")
    res["add existing"] = call(d, "supervisor.addProcessGroup", "keep")
    res["add unknown"] = call(d, "supervisor.addProcessGroup", "new")
    d.write_config(RELOAD_AFTER)
    res["reload"] = call(d, "supervisor.reloadConfig")
    res["reload again"] = call(d, "supervisor.reloadConfig")
    res["names before add"] = sorted(p["name"] for p in d.rpc.supervisor.getAllProcessInfo())
    res["add new"] = call(d, "supervisor.addProcessGroup", "new")
    res["add new again"] = call(d, "supervisor.addProcessGroup", "new")
    d.wait_state("new", "RUNNING")
    res["add ng"] = call(d, "supervisor.addProcessGroup", "ng")
    d.wait_state("ng:n1", "RUNNING")
    res["ng states"] = [d.state("ng:n1"), d.state("ng:n2")]
    res["remove running"] = call(d, "supervisor.removeProcessGroup", "gone")
    res["remove nosuch"] = call(d, "supervisor.removeProcessGroup", "nosuch")
    res["remove stopped"] = call(d, "supervisor.removeProcessGroup", "gone2")
    res["stop gone"] = call(d, "supervisor.stopProcessGroup", "gone")
    res["remove gone"] = call(d, "supervisor.removeProcessGroup", "gone")
    res["remove gone again"] = call(d, "supervisor.removeProcessGroup", "gone")
    res["info gone"] = call(d, "supervisor.getProcessInfo", "gone")
    res["reload after"] = call(d, "supervisor.reloadConfig")
    res["add gone (removed from config)"] = call(d, "supervisor.addProcessGroup", "gone")
    # an invalid config: CANT_REREAD, the running config is untouched
    d.write_config(RELOAD_AFTER + "\n[program:bad]\n")
    # the fault carries the reference's text alone (ours adds the key only on stderr)
    res["reread invalid"] = call(d, "supervisor.reloadConfig")
    d.conf.write_text("[supervisord\nthis is not ini\n")
    res["reread garbage"] = call(d, "supervisor.reloadConfig")
    d.write_config(RELOAD_AFTER + "\n[program:badnum]\ncommand=sleep 1\nnumprocs=x\n")
    res["reread bad value"] = call(d, "supervisor.reloadConfig")
    res["names at end"] = sorted(p["name"] for p in d.rpc.supervisor.getAllProcessInfo())
    res["keep still running"] = d.state("keep")
    return res


def test_reload_config(daemon, oracle):
    res = compare(daemon, oracle, scenario_reload_config)
    assert res["nothing changed"] == ("ok", [[[], [], []]])
    assert res["add existing"] == ("fault", 90, "ALREADY_ADDED: keep")
    assert res["add unknown"] == ("fault", 10, "BAD_NAME: new")
    assert res["reload"] == ("ok", [[["new", "ng"], ["change"], ["gone", "gone2"]]])
    assert res["reload again"] == res["reload"]
    assert res["names before add"] == ["change", "gone", "gone2", "keep"]
    assert res["add new"] == ("ok", True)
    assert res["add new again"] == ("fault", 90, "ALREADY_ADDED: new")
    assert res["ng states"] == ["RUNNING", "STOPPED"]
    assert res["remove running"] == ("fault", 91, "STILL_RUNNING: gone")
    assert res["remove nosuch"] == ("fault", 10, "BAD_NAME: nosuch")
    assert res["remove stopped"] == ("ok", True)
    assert res["remove gone"] == ("ok", True)
    assert res["remove gone again"] == ("fault", 10, "BAD_NAME: gone")
    assert res["reload after"] == ("ok", [[[], ["change"], []]])
    assert res["add gone (removed from config)"] == ("fault", 10, "BAD_NAME: gone")
    for k in ("reread invalid", "reread garbage", "reread bad value"):
        assert res[k][:2] == ("fault", 92), (k, res[k])
        assert res[k][2].startswith("CANT_REREAD: "), (k, res[k])
    assert res["names at end"] == ["change", "keep", "n1", "n2", "new"]
    assert res["keep still running"] == "RUNNING"


# ---------------------------------------------------------------- multicall

def scenario_multicall(d):
    d.start(CONTROL_PROGRAMS.replace("@TMP@/logs/lostlog.log", "AUTO"))
    d.wait_state("fast", "RUNNING")
    calls = [
        {"methodName": "supervisor.getAPIVersion", "params": []},
        {"methodName": "supervisor.nosuch", "params": []},
        {"methodName": "supervisor.startProcess", "params": ["slow"]},  # waits startsecs=1
        {"methodName": "supervisor.getProcessInfo", "params": ["slow"]},
        {"methodName": "supervisor.getProcessInfo", "params": ["nosuch"]},
        {"methodName": "supervisor.startProcess", "params": ["quick"]},  # waits, then faults
        {"methodName": "supervisor.getState"},  # no params member
        {"params": []},  # no methodName
        {"methodName": "system.multicall", "params": [[]]},
        {"methodName": "supervisor.getState", "params": [1, 2]},
        {"methodName": "supervisor.startProcessGroup", "params": ["g"]},
        {"methodName": "supervisor.stopProcess", "params": ["slow"]},
        {"methodName": "supervisor.getProcessInfo", "params": ["slow"]},
    ]
    res = {"multicall": ncall(d, "system.multicall", calls)}
    res["empty"] = call(d, "system.multicall", [])
    res["not a list"] = deliberate(d, raw_status(d, "system.multicall", "x"),
                                   ("http", 500), ("http", 200, 2))
    proxy = xmlrpc.client.MultiCall(d.rpc)
    proxy.supervisor.getIdentification()
    proxy.system.listMethods()
    try:
        # the reference does not wrap results in 1-element arrays: the stdlib
        # MultiCall iterator rejects them
        res["MultiCall class"] = [v if not isinstance(v, list) else len(v) for v in proxy()]
    except ValueError as e:
        res["MultiCall class"] = ("ValueError", str(e))
    return res


def test_multicall(daemon, oracle):
    res = compare(daemon, oracle, scenario_multicall)
    status, values = res["multicall"]
    assert status == "ok"
    assert values[0] == "3.0"
    assert values[1] == {"faultCode": 1, "faultString": "UNKNOWN_METHOD"}
    assert values[2] is True
    assert values[3]["statename"] == "RUNNING"  # the start call completed first
    assert values[4] == {"faultCode": 10, "faultString": "BAD_NAME: nosuch"}
    assert values[5] == {"faultCode": 50, "faultString": "SPAWN_ERROR: quick"}
    assert values[6] == {"statecode": 1, "statename": "RUNNING"}
    assert values[7] == {"faultCode": 2, "faultString": "INCORRECT_PARAMETERS: No methodName"}
    assert values[8] == {"faultCode": 2,
                         "faultString": "INCORRECT_PARAMETERS: Recursive system.multicall forbidden"}
    assert values[9] == {"faultCode": 2, "faultString": "INCORRECT_PARAMETERS"}
    assert values[11] is True
    assert values[12]["statename"] == "STOPPED"
    assert res["empty"] == ("ok", [])
    assert res["MultiCall class"] == ("ValueError", "unexpected type in multicall result")
    assert res["not a list"] == ("http", 500)


# ---------------------------------------------------------------- shutdown, restart

STUBBORN_PROGRAMS = """
    [program:stubborn]
    command=sh -c "trap '' TERM; exec sleep 1000"
    startsecs=0
    stopwaitsecs=600
    """


def scenario_shutdown_state(d):
    d.start(STUBBORN_PROGRAMS)
    info = d.wait_state("stubborn", "RUNNING")
    pid = info["pid"]
    wait_until(lambda: proc_is_sleep(pid) and sig_ignored(pid, signal.SIGTERM), daemon=d)
    res = {"shutdown": call(d, "supervisor.shutdown")}
    d.signalled = True
    # the daemon stays up, in SHUTDOWN, until the stubborn child goes
    d.wait_log("waiting for stubborn to die")
    res["getState"] = call(d, "supervisor.getState")
    res["getPID"] = call(d, "supervisor.getPID")
    res["getProcessInfo"] = call(d, "supervisor.getProcessInfo", "stubborn")
    res["startProcess"] = call(d, "supervisor.startProcess", "stubborn")
    res["stopProcess"] = call(d, "supervisor.stopProcess", "stubborn")
    res["reloadConfig"] = call(d, "supervisor.reloadConfig")
    res["shutdown again"] = call(d, "supervisor.shutdown")
    res["getAPIVersion"] = call(d, "supervisor.getAPIVersion")
    res["listMethods"] = call(d, "system.listMethods")[0]
    res["multicall"] = ncall(d, "system.multicall", [
        {"methodName": "supervisor.getState", "params": []},
        {"methodName": "supervisor.getVersion", "params": []}])
    os.kill(pid, signal.SIGKILL)
    res["exit"] = d.wait_exit()
    return res


def test_shutdown_state(daemon, oracle):
    res = compare(daemon, oracle, scenario_shutdown_state)
    assert res["shutdown"] == ("ok", True)
    assert res["getState"] == ("fault", 6, "SHUTDOWN_STATE")
    assert res["getPID"] == ("fault", 6, "SHUTDOWN_STATE")
    assert res["startProcess"] == ("fault", 6, "SHUTDOWN_STATE")
    assert res["exit"] == 0


def scenario_shutdown_restart(d):
    d.start(BASIC_PROGRAMS)
    pid = d.wait_state("a", "RUNNING")["pid"]
    res = {"restart": call(d, "supervisor.restart")}
    wait_until(lambda: not pid_alive(pid), daemon=d, what="old child gone")
    d.wait_ready()
    new = d.wait_state("a", "RUNNING")["pid"]
    res["new child"] = new != pid
    res["same daemon process"] = d.proc.poll() is None and d.rpc.supervisor.getPID() == d.proc.pid
    res["restart extra arg"] = call(d, "supervisor.restart", 1)
    res["shutdown extra arg"] = call(d, "supervisor.shutdown", 1)
    res["shutdown"] = call(d, "supervisor.shutdown")
    res["exit"] = d.wait_exit()
    res["child gone"] = not pid_alive(new)
    return res


def test_shutdown_restart(daemon, oracle):
    res = compare(daemon, oracle, scenario_shutdown_restart)
    assert res["restart"] == ("ok", True)
    assert res["new child"] and res["same daemon process"]
    assert res["restart extra arg"] == ("fault", 2, "INCORRECT_PARAMETERS")
    assert res["shutdown"] == ("ok", True)
    assert res["exit"] == 0 and res["child gone"]

