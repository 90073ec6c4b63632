"""Process states and transitions, ours vs the reference.

Each scenario returns the normalised main-log events, the API's view and what
supervisorctl prints; ``compare`` checks them against a reference run, and the
explicit asserts pin the key facts.
"""

import signal

import pytest

from conftest import compare, pid_alive, wait_until
from lib.fragments import group, program, sections, sleeper

pytestmark = pytest.mark.ctl_clients  # each test with the stock client and with ours

PROG = "@PYTHON@ @CHILDREN@/prog.py"


def view(d, name):
    """The API's and supervisorctl's view of one process, normalised."""
    info = d.info(name)
    rc, out, err = d.ctl_norm("status", name)
    return {
        "statename": info["statename"],
        "state": info["state"],
        "spawnerr": info["spawnerr"],
        "exitstatus": info["exitstatus"],
        "description": d.norm(info["description"]),
        "ctl_status": (rc, out, err),
    }


# ------------------------------------------------------------ startsecs

def scenario_exit_too_quickly(d):
    d.start("""
        [program:quick]
        command=false
        startsecs=3
        startretries=2
        """)
    d.wait_state("quick", "FATAL")
    result = {"fatal": view(d, "quick"), "events": d.events()}
    # starting a FATAL program tries again and fails the same way
    result["ctl_start"] = d.ctl_norm("start", "quick")
    d.wait_state("quick", "FATAL")
    result["events_after_start"] = d.events()
    return result


def test_exit_too_quickly_backoff_fatal(daemon, oracle):
    res = compare(daemon, oracle, scenario_exit_too_quickly)
    assert res["fatal"]["statename"] == "FATAL"
    assert res["fatal"]["spawnerr"] == "Exited too quickly (process log may have details)"
    assert res["fatal"]["ctl_status"][1].split(None, 2)[1:] == [
        "FATAL", "Exited too quickly (process log may have details)\n"]
    ev = [e for e in res["events"] if "quick" in e]
    assert ev == [
        "INFO spawned: 'quick' with pid N",
        "WARN exited: quick (exit status 1; not expected)",
        "INFO spawned: 'quick' with pid N",
        "WARN exited: quick (exit status 1; not expected)",
        "INFO spawned: 'quick' with pid N",
        "WARN exited: quick (exit status 1; not expected)",
        "INFO gave up: quick entered FATAL state, too many start retries too quickly",
    ]
    assert res["ctl_start"][1] == "quick: ERROR (spawn error)\n"
    assert res["events_after_start"][len(res["events"]):] == ev


def test_backoff_is_visible(daemon):
    """Between retries the process is in BACKOFF (observed through the API)."""
    daemon.start("""
        [program:quick]
        command=false
        startsecs=1
        startretries=3
        """)
    daemon.wait_state("quick", "BACKOFF")
    daemon.wait_state("quick", "FATAL")


# ------------------------------------------------------------ exits after startsecs

AUTORESTART_CASES = {
    # id: (autorestart, exitcodes, per-run exit codes, runs, final state)
    "false-unexpected": ("false", "0", "3", 1, "EXITED"),
    "false-expected": ("false", "0", "0", 1, "EXITED"),
    "unexpected-restarts-on-bad-code": ("unexpected", "0", "3,0", 2, "EXITED"),
    "unexpected-exitcodes-list": ("unexpected", "0,3", "3", 1, "EXITED"),
    "true-restarts-always": ("true", "0", "0,0", 3, "RUNNING"),
}


def scenario_autorestart(d, autorestart, exitcodes, codes, runs, final):
    d.start("""
        [program:job]
        command=%s --counter @TMP@/count --codes %s --sleep 1.3
        startsecs=1
        startretries=0
        autorestart=%s
        exitcodes=%s
        """ % (PROG, codes, autorestart, exitcodes))
    exits = len(codes.split(","))
    d.wait_log("exited: job", count=min(exits, runs))
    if final == "RUNNING":
        d.wait_log("success: job", count=runs)
    d.wait_state("job", final)
    return {"view": view(d, "job"), "events": d.events(),
            "runs": int((d.tmp / "count").read_text())}


@pytest.mark.parametrize("case", list(AUTORESTART_CASES))
def test_autorestart(daemon, oracle, case):
    args = AUTORESTART_CASES[case]
    res = compare(daemon, oracle, scenario_autorestart, *args)
    assert res["view"]["statename"] == args[4]
    assert res["runs"] == args[3]
    if case == "false-unexpected":
        assert "WARN exited: job (exit status 3; not expected)" in res["events"]
        assert res["view"]["exitstatus"] == 3
        assert res["view"]["spawnerr"] == "Bad exit code 3"
    if case == "false-expected":
        assert "INFO exited: job (exit status 0; expected)" in res["events"]
    if case == "unexpected-exitcodes-list":
        assert "INFO exited: job (exit status 3; expected)" in res["events"]


# ------------------------------------------------------------ stopping

def scenario_stopsignal(d):
    d.start("""
        [program:trapper]
        command=%s --ignore TERM --exit-on INT=0
        startsecs=1
        stopsignal=INT
        stopwaitsecs=30
        """ % PROG)
    d.wait_state("trapper", "RUNNING")
    res = {"ctl_stop": d.ctl_norm("stop", "trapper")}
    res["view"] = view(d, "trapper")
    res["events"] = d.events()
    return res


def test_stopsignal(daemon, oracle):
    res = compare(daemon, oracle, scenario_stopsignal)
    assert res["ctl_stop"][:2] == (0, "trapper: stopped\n")
    assert res["events"][-1] == "INFO stopped: trapper (exit status 0)"
    assert res["view"]["statename"] == "STOPPED"


def scenario_stopwaitsecs(d):
    d.start("""
        [program:stubborn]
        command=%s --ignore TERM
        startsecs=1
        stopwaitsecs=1
        """ % PROG)
    d.wait_state("stubborn", "RUNNING")
    pid = d.info("stubborn")["pid"]
    res = {"ctl_stop": d.ctl_norm("stop", "stubborn")}
    res["view"] = view(d, "stubborn")
    res["events"] = d.events(progress=True)
    res["old pid alive"] = pid_alive(pid)
    return res


def test_stopwaitsecs_then_sigkill(daemon, oracle):
    res = compare(daemon, oracle, scenario_stopwaitsecs)
    assert res["ctl_stop"][:2] == (0, "stubborn: stopped\n")
    assert res["events"][-3:] == [
        "INFO waiting for stubborn to stop",
        "WARN killing 'stubborn' (N) with SIGKILL",
        "WARN stopped: stubborn (terminated by SIGKILL)",
    ]
    assert res["old pid alive"] is False


GROUP_CASES = {
    # id: (extra options, program flags, child expected alive after stop)
    "stopasgroup": ("stopasgroup=true", "", False),
    "no-stopasgroup": ("stopasgroup=false", "", True),
    "killasgroup": ("killasgroup=true\nstopwaitsecs=1", "--ignore TERM", False),
}


def scenario_group_signals(d, options, flags):
    d.start("""
        [program:parent]
        command=%s %s --child @TMP@/child.pid
        startsecs=1
        stopwaitsecs=5
        %s
        """ % (PROG, flags, options.replace("\n", "\n        ")))
    d.wait_state("parent", "RUNNING")
    child_pid = wait_until(lambda: (d.tmp / "child.pid").exists() and int((d.tmp / "child.pid").read_text()),
                           daemon=d, what="child pid file")
    parent_pid = d.info("parent")["pid"]
    res = {"ctl_stop": d.ctl_norm("stop", "parent")}
    res["parent alive"] = pid_alive(parent_pid)
    # the group signal is sent before the parent is reaped; give a dying child time to go
    if not pid_alive(child_pid):
        res["child alive"] = False
    else:
        try:
            wait_until(lambda: not pid_alive(child_pid), timeout=2)
            res["child alive"] = False
        except pytest.fail.Exception:
            res["child alive"] = True
    res["events"] = d.events()
    return res


@pytest.mark.parametrize("case", list(GROUP_CASES))
def test_stop_as_group(daemon, oracle, case):
    options, flags, child_alive = GROUP_CASES[case]
    res = compare(daemon, oracle, scenario_group_signals, options, flags)
    assert res["parent alive"] is False
    assert res["child alive"] is child_alive


# ------------------------------------------------------------ priority, numprocs, groups

PRIORITY = sections(sleeper("late", stopwaitsecs=None, priority=300),
                    sleeper("early", stopwaitsecs=None, priority=100),
                    sleeper("middle", stopwaitsecs=None, priority=200))


def scenario_priority(d):
    d.start(PRIORITY)
    for n in ("early", "middle", "late"):
        d.wait_state(n, "RUNNING")
    res = {"startup": d.events()}
    res["stop all"] = d.ctl_sorted("stop", "all")
    res["start all"] = d.ctl_sorted("start", "all")
    for n in ("early", "middle", "late"):
        d.wait_state(n, "RUNNING")  # and exec'd: a SIGTERM before exec is lost
    d.send(signal.SIGTERM)
    res["exit"] = d.wait_exit()
    events = d.events()
    # `stop all` signals every process at once: only the shutdown, which stops
    # one priority group after another, has an order to compare
    res["shutdown"] = events[events.index("WARN received SIGTERM indicating exit request"):]
    return res


def test_priority_order(daemon, oracle):
    res = compare(daemon, oracle, scenario_priority)
    spawned = [e for e in res["startup"] if e.startswith("INFO spawned")]
    assert spawned == ["INFO spawned: 'early' with pid N",
                       "INFO spawned: 'middle' with pid N",
                       "INFO spawned: 'late' with pid N"]
    assert res["stop all"][1] == "early: stopped\nlate: stopped\nmiddle: stopped\n"
    assert res["start all"][1] == "early: started\nlate: started\nmiddle: started\n"
    stopped = [e.split()[2] for e in res["shutdown"] if e.split()[1] == "stopped:"]
    assert stopped == ["late", "middle", "early"]
    assert res["exit"] == 0


def scenario_numprocs(d):
    d.start(sections(
        sleeper("worker", stopwaitsecs=None, numprocs=3,
                process_name="%(program_name)s_%(process_num)02d"),
        group("pool", ["alpha", "beta"], priority=50),
        sleeper("alpha", stopwaitsecs=None), sleeper("beta", stopwaitsecs=None),
        program("manual", "sleep 1000", autostart=False)))
    for n in ("worker:worker_00", "worker:worker_01", "worker:worker_02", "pool:alpha", "pool:beta"):
        d.wait_state(n, "RUNNING")
    infos = sorted((p["group"], p["name"], p["statename"]) for p in d.rpc.supervisor.getAllProcessInfo())
    return {
        "infos": infos,
        "status": d.ctl_norm("status"),
        "status worker:*": d.ctl_norm("status", "worker:*"),
        "stop worker:*": d.ctl_sorted("stop", "worker:*"),
        "start worker:worker_01": d.ctl_norm("start", "worker:worker_01"),
        "status worker_01": d.ctl_norm("status", "worker_01"),
        "stop pool:*": d.ctl_sorted("stop", "pool:*"),
        # members of a group are stopped together: their reaping order is a race
        "events": d.events(unordered=("stopped:",)),
    }


def test_numprocs_and_groups(daemon, oracle):
    res = compare(daemon, oracle, scenario_numprocs)
    assert res["infos"] == [
        ("manual", "manual", "STOPPED"),
        ("pool", "alpha", "RUNNING"),
        ("pool", "beta", "RUNNING"),
        ("worker", "worker_00", "RUNNING"),
        ("worker", "worker_01", "RUNNING"),
        ("worker", "worker_02", "RUNNING"),
    ]
    # the explicit group has priority 50: its members spawn first
    spawned = [e.split("'")[1] for e in res["events"] if e.startswith("INFO spawned")]
    assert spawned[:2] == ["alpha", "beta"]
    assert res["stop worker:*"][0] == 0
    assert res["start worker:worker_01"][1] == "worker:worker_01: started\n"
