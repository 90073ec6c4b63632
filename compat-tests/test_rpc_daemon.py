"""XML-RPC: the daemon's own methods through xmlrpc.client (versions, state, unknown
methods and argument counts, introspection, reloadConfig and process groups,
shutdown and restart), the reference as oracle.

Every scenario runs on the daemon under test and on a reference daemon
(``compare``); replies and faults are normalised (pids, times, temp paths).
Explicit expectations pin the reference's 4.2.5 behaviour as well, so a test
fails on the ``ref`` side only if the reference itself changes.
"""

import os
import signal
import xmlrpc.client

from conftest import compare, pid_alive, wait_until
from lib.fragments import group, program, sections, sleeper
from lib.rpc import call, ncall, norm_value, proc_is_sleep, sig_ignored


# ---------------------------------------------------------------- basics

BASIC_PROGRAMS = sleeper("a")


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


# ---------------------------------------------------------------- config reload

RELOAD_BEFORE = sections(
    sleeper("keep"), sleeper("change"), sleeper("gone"),
    program("gone2", "sleep 1000", autostart=False))

RELOAD_AFTER = sections(
    sleeper("keep"), sleeper("change", 999), sleeper("new"),
    group("ng", ["n1", "n2"]), sleeper("n1"), sleeper("n2", stopwaitsecs=None, autostart=False))


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
