"""XML-RPC process control through xmlrpc.client: replies, waits and faults."""

from conftest import call, compare

PROGRAMS = """
    [program:slow]
    command=sleep 1000
    startsecs=1
    autostart=false
    stopwaitsecs=2

    [program:slower]
    command=sleep 1000
    startsecs=3
    autostart=false
    stopwaitsecs=2

    [group:grp]
    programs=member

    [program:member]
    command=sleep 1000
    startsecs=0
    autostart=false
    """




def scenario_start_wait(d):
    d.start(PROGRAMS)
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
    d.start(PROGRAMS)
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


def scenario_process_info(d):
    d.start(PROGRAMS)
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


def test_process_info(daemon, oracle):
    res = compare(daemon, oracle, scenario_process_info)
    assert res["running"]["statename"] == "RUNNING"
    assert res["running description"] == "pid N, uptime T"
    assert res["stopped description"] == "Not started"
    assert res["stopped start/stop"] == (0, 0, 0)
    assert res["logfile in childlogdir"] is True
