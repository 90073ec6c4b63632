"""Signals sent to the daemon: TERM/INT/QUIT (exit), HUP (restart), USR2 (reopen logs)."""

import signal

import pytest

from conftest import compare, pid_alive, wait_until
from lib.fragments import sections, sleeper

PROGRAMS = sections(sleeper("one"), sleeper("two"))


def running(d, names=("one", "two")):
    return {n: d.wait_state(n, "RUNNING")["pid"] for n in names}


def scenario_exit_signal(d, signame):
    d.start(PROGRAMS)
    pids = running(d)
    d.send(getattr(signal, signame))
    rc = d.wait_exit()
    return {
        "exit status": rc,
        "socket removed": not d.sock.exists(),
        "pidfile removed": not d.pidfile.exists(),
        "children gone": not any(pid_alive(p) for p in pids.values()),
        "events": d.events(unordered=("stopped:",)),
    }


@pytest.mark.ctl_clients
@pytest.mark.parametrize("signame", ["SIGTERM", "SIGINT", "SIGQUIT"])
def test_exit_signals(daemon, oracle, signame):
    res = compare(daemon, oracle, scenario_exit_signal, signame)
    assert res["exit status"] == 0
    assert res["socket removed"] is True
    assert res["children gone"] is True
    assert "WARN received %s indicating exit request" % signame in res["events"]
    assert res["events"][-2:] == ["WARN stopped: one (terminated by SIGTERM)",
                                  "WARN stopped: two (terminated by SIGTERM)"]


def scenario_hup(d):
    d.start(PROGRAMS)
    before = running(d)
    # add a program to the file, then HUP: the daemon restarts and re-reads it
    with open(d.conf, "a") as f:
        f.write(d.subst("\n" + sleeper("added", stopwaitsecs=None)))
    d.send(signal.SIGHUP)
    wait_until(lambda: "added" in [p["name"] for p in d.rpc.supervisor.getAllProcessInfo()],
               daemon=d, what="the added program after SIGHUP")
    after = running(d, ("one", "two", "added"))
    return {
        "new pids": all(after[n] != before[n] for n in before),
        "old children gone": not any(pid_alive(p) for p in before.values()),
        "same daemon process": d.proc.poll() is None,
        "status": d.ctl_norm("status"),
        "events": d.events(unordered=("stopped:", "spawned:", "success:")),
    }


def test_hup_restarts_and_rereads(daemon, oracle):
    res = compare(daemon, oracle, scenario_hup)
    assert res["new pids"] is True
    assert res["old children gone"] is True
    assert res["same daemon process"] is True
    assert "WARN received SIGHUP indicating restart request" in res["events"]
    assert "added" in res["status"][1]


def scenario_usr2(d):
    d.start(PROGRAMS)
    running(d)
    rotated = d.tmp / "supervisord.log.1"
    d.logfile.rename(rotated)
    d.send(signal.SIGUSR2)
    wait_until(d.logfile.exists, daemon=d, what="the main log to be reopened")
    # a new event goes to the new file
    assert d.ctl("restart", "one")[0] == 0
    wait_until(lambda: "spawned: 'one'" in d.log_text(), daemon=d, what="new lines in the reopened log")
    from conftest import mainlog_events
    return {
        "old file tail": mainlog_events(rotated.read_text(), d.tmp)[-1:],
        "new file": d.events(),
    }


def test_usr2_reopens_log(daemon, oracle):
    res = compare(daemon, oracle, scenario_usr2)
    # the USR2 line itself is written before the reopen: it ends the old file
    assert res["old file tail"] == ["INFO received SIGUSR2 indicating log reopen request"]
    assert res["new file"][-2:] == ["INFO spawned: 'one' with pid N",
                                    "INFO success: one entered RUNNING state, process has stayed up for > than 0 seconds (startsecs)"]
