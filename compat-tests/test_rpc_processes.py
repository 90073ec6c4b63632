"""XML-RPC: process information and control through xmlrpc.client (getProcessInfo,
getAllConfigInfo, start/stop/signal with and without waiting, groups, faults, multicall,
stdin), the reference as oracle.

Every scenario runs on the daemon under test and on a reference daemon
(``compare``); replies and faults are normalised (pids, times, temp paths).
Explicit expectations pin the reference's 4.2.5 behaviour as well, so a test
fails on the ``ref`` side only if the reference itself changes.
"""

import concurrent.futures
import os
import shutil
import xmlrpc.client

from conftest import compare, pid_alive, wait_until
from lib.fragments import group, program, sections, sleeper
from lib.rpc import (call, deliberate, file_contains, ncall, proc_is_sleep, raw_call, raw_status,
                     stdin_closed, xml_member_types)

SUCCESS = 80


# ---------------------------------------------------------------- process info

INFO_PROGRAMS = sections(
    program("a", 'sh -c "echo out-a; echo err-a >&2; exec sleep 1000"', startsecs=0,
            stopwaitsecs=2),
    sleeper("b", autostart=False),
    program("merged", "sleep 1000", autostart=False, redirect_stderr=True,
            stdout_logfile="@TMP@/merged.log"),
    program("nolog", "sleep 1000", autostart=False, stdout_logfile="NONE",
            stderr_logfile="NONE"),
    group("g", ["c", "e"], priority=500),
    sleeper("c"),
    program("e", 'sh -c "exit 3"', startsecs=0, autorestart=False),
    program("fatal", 'sh -c "exit 1"', startsecs=1, startretries=0))


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

CONTROL_PROGRAMS = sections(
    sleeper("fast"),
    sleeper("slow", startsecs=1, autostart=False),
    program("quick", 'sh -c "exit 1"', startsecs=1, startretries=0, autostart=False),
    program("missing", "/nonexistent/command", autostart=False),
    program("notexec", "@TMP@/notexec.sh", autostart=False),
    program("lostlog", "sleep 1000", autostart=False, startretries=0,
            stdout_logfile="@TMP@/logs/lostlog.log"),
    group("g", ["c", "d"], priority=500),
    sleeper("c", autostart=False),
    sleeper("d", autostart=False))


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


ABNORMAL_PROGRAMS = sleeper("slowstart", startsecs=100, autostart=False)


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


# ---------------------------------------------------------------- waits and faults

WAIT_PROGRAMS = sections(
    sleeper("slow", startsecs=1, autostart=False),
    sleeper("slower", startsecs=3, autostart=False),
    group("grp", ["member"]),
    sleeper("member", stopwaitsecs=None, autostart=False))




def scenario_start_wait(d):
    d.start(WAIT_PROGRAMS)
    res = {}
    res["start wait"] = call(d, "supervisor.startProcess", "slow", True)
    # the reply came after startsecs: RUNNING at once
    res["state after wait"] = d.state("slow")
    res["start again"] = call(d, "supervisor.startProcess", "slow")
    res["start nowait"] = call(d, "supervisor.startProcess", "slower", False)
    res["state after nowait"] = d.state("slower")
    d.wait_state("slower", "RUNNING")
    res["stop"] = call(d, "supervisor.stopProcess", "slow")
    res["state after stop"] = d.state("slow")
    res["stop again"] = call(d, "supervisor.stopProcess", "slow")
    res["stop nowait"] = call(d, "supervisor.stopProcess", "slower", False)
    d.wait_state("slower", "STOPPED")
    res["start group member"] = call(d, "supervisor.startProcess", "grp:member")
    res["start group"] = call(d, "supervisor.startProcessGroup", "grp")
    res["stop group"] = call(d, "supervisor.stopProcessGroup", "grp")
    res["stop group again"] = call(d, "supervisor.stopProcessGroup", "grp")
    return res


def test_start_stop_wait(daemon, oracle):
    res = compare(daemon, oracle, scenario_start_wait)
    assert res["start wait"] == ("ok", True)
    assert res["state after wait"] == "RUNNING"
    assert res["start again"] == ("fault", 60, "ALREADY_STARTED: slow")
    assert res["start nowait"] == ("ok", True)
    assert res["state after nowait"] == "STARTING"
    assert res["stop"] == ("ok", True)
    assert res["state after stop"] == "STOPPED"
    assert res["stop again"] == ("fault", 70, "NOT_RUNNING: slow")
    # members already running are skipped, not reported as ALREADY_STARTED
    assert res["start group"] == ("ok", [])
    assert res["stop group"] == ("ok", [
        {"name": "member", "group": "grp", "status": 80, "description": "OK"}])
    assert res["stop group again"] == ("ok", [])


BAD_NAME_CALLS = [
    ("supervisor.startProcess", "nosuch"),
    ("supervisor.startProcess", "grp:nosuch"),
    ("supervisor.startProcess", "nosuch:member"),
    ("supervisor.stopProcess", "nosuch"),
    ("supervisor.getProcessInfo", "nosuch"),
    ("supervisor.getProcessInfo", "grp:nosuch"),
    ("supervisor.startProcessGroup", "nosuch"),
    ("supervisor.stopProcessGroup", "nosuch"),
    ("supervisor.startProcess", "grp"),
    ("supervisor.signalProcess", "nosuch", "HUP"),
    ("supervisor.signalProcess", "slow", "NOSIG"),
]


def scenario_faults(d):
    d.start(WAIT_PROGRAMS)
    res = {repr(c): call(d, *c) for c in BAD_NAME_CALLS}
    res["no such method"] = call(d, "supervisor.noSuchMethod")
    res["wrong arg count"] = call(d, "supervisor.getState", 1)
    res["api version"] = call(d, "supervisor.getAPIVersion")
    res["state"] = call(d, "supervisor.getState")
    res["identification"] = call(d, "supervisor.getIdentification")
    res["supervisor version"] = call(d, "supervisor.getSupervisorVersion")
    return res


def test_faults(daemon, oracle):
    res = compare(daemon, oracle, scenario_faults)
    assert res[repr(("supervisor.startProcess", "nosuch"))] == ("fault", 10, "BAD_NAME: nosuch")
    assert res[repr(("supervisor.startProcessGroup", "nosuch"))] == ("fault", 10, "BAD_NAME: nosuch")
    assert res["no such method"][:2] == ("fault", 1)
    assert res["api version"] == ("ok", "3.0")
    assert res["state"] == ("ok", {"statecode": 1, "statename": "RUNNING"})
    assert res["supervisor version"] == ("ok", "4.2.5")


def scenario_info_started_and_not(d):
    d.start(WAIT_PROGRAMS)
    d.rpc.supervisor.startProcess("slow")
    info = d.info("slow")
    stopped = d.info("slower")
    keys = sorted(info)
    volatile = {"pid", "start", "now", "stop", "description", "stdout_logfile", "stderr_logfile", "logfile"}
    return {
        "keys": keys,
        "running": {k: info[k] for k in keys if k not in volatile},
        "running description": d.norm(info["description"]),
        "stopped": {k: stopped[k] for k in keys if k not in volatile},
        "stopped description": stopped["description"],
        "stopped start/stop": (stopped["start"], stopped["stop"], stopped["pid"]),
        "logfile in childlogdir": info["stdout_logfile"].startswith(str(d.tmp) + "/slow-stdout---supervisor-"),
        "all names": sorted((p["group"], p["name"]) for p in d.rpc.supervisor.getAllProcessInfo()),
    }


def test_process_info_started_and_not(daemon, oracle):
    res = compare(daemon, oracle, scenario_info_started_and_not)
    assert res["running"]["statename"] == "RUNNING"
    assert res["running description"] == "pid N, uptime T"
    assert res["stopped description"] == "Not started"
    assert res["stopped start/stop"] == (0, 0, 0)
    assert res["logfile in childlogdir"] is True


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


def test_stdin_and_comm_events(daemon, oracle):
    res = compare(daemon, oracle, scenario_stdin)
    assert res["send"] == ("ok", True)
    assert res["echoed"] == "hello\nh\u00e9llo \u2603\n"
    assert res["send stopped"] == ("fault", 70, "NOT_RUNNING: off")
    assert res["send nosuch"] == ("fault", 10, "BAD_NAME: nosuch")
    assert res["send closed"] == ("fault", 20, "NO_FILE: closed")
    assert res["comm event"] == ("ok", True)
    assert res["comm event no args"] == ("fault", 2, "INCORRECT_PARAMETERS")
