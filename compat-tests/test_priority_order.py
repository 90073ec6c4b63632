"""Group and all-process calls act and answer in priority order, as the reference.

The reference sorts a group's processes by process priority alone (a stable sort: ties keep
the group's own order, which for `[group:x] programs=` is the order of that list, not the
names), and all processes group by group, groups sorted by group priority alone (ties keep the
order the groups were added in: config order (priority, name) at start, then `update`
appends). Only `getAllProcessInfo` (and `getAllConfigInfo`) are in name order. Autostart
spawns each group's processes in the group's own order, and shutdown stops group after group,
highest priority first, each group's processes in reverse priority order. `reloadConfig`
lists removed groups in the order they were added (the reference's dict), not by priority.

The config makes priority order, name order and config order all disagree, has several groups
with different priorities, and ties among processes and among groups. Every list-returning
method is compared with the reference, alone and inside `system.multicall`, with supervisorctl
`start grp:*` / `stop all` / `start all` / `signal`, and the main log's action lines in order
(`spawned:`, and with loglevel=debug `killing`/`sending`, one line per process acted on).
"""

import re
import signal

from conftest import _LOG_PREFIX, compare, normalise, wait_until
from lib.fragments import group, sections, sleeper

# [group:grp]: programs= order zeta, beta, mid, alpha; names alpha < beta < mid < zeta;
# priorities mid 100 < beta 200 = alpha 200 < zeta 300 (beta before alpha: list order).
# Groups: solo_b = solo_a (1, name order at load: solo_a first) < grp (500) < top (600) < late.
GRP = ["zeta", "beta", "mid", "alpha"]


def ranked(name, priority, seconds=1000):
    return sleeper(name, seconds, stopwaitsecs=5, priority=priority)


TOP = ranked("top", 600)
GROUP = sections(group("grp", GRP, priority=500), ranked("zeta", 300), ranked("beta", 200),
                 ranked("mid", 100), ranked("alpha", 200))
PROGRAMS = sections(ranked("late", 999), TOP, GROUP, ranked("solo_b", 1), ranked("solo_a", 1))

# After `update`: solo_a changed (removed and added again), solo_0 added, both priority 1.
UPDATED = sections(ranked("late", 999), TOP, GROUP, ranked("solo_b", 1),
                   ranked("solo_a", 1, seconds=1001), ranked("solo_0", 1))

# Only grp and top left: reloadConfig lists the removed groups in the order they were added.
REMOVED = sections(TOP, GROUP)

EXTRA = "loglevel=debug\n"

_ACTION = re.compile(r"^(INFO spawned: |DEBG killing |DEBG sending |(INFO|WARN) stopped: )")


def names(d):
    """Namespecs in getAllProcessInfo's order."""
    return [p["name"] if p["group"] == p["name"] else "%s:%s" % (p["group"], p["name"])
            for p in d.rpc.supervisor.getAllProcessInfo()]


def all_running(d):
    for n in names(d):
        d.wait_state(n, "RUNNING")


def all_stopped(d):
    wait_until(lambda: all(p["statename"] == "STOPPED" for p in d.rpc.supervisor.getAllProcessInfo()),
               daemon=d, what="every process STOPPED")


def results(rs):
    """A list of status structs as comparable tuples, in the order given."""
    return [(r["group"], r["name"], r["status"], r["description"]) for r in rs]


def actions(d, start=0):
    """The main log's action lines from byte ``start``, normalised. `stopped:` lines of
    processes stopped together are reaped in any order (the reference may even reap one
    between two kills), so they are counted apart, sorted."""
    text = d.log_text()[start:]
    acts, stopped = [], []
    for line in text.splitlines():
        line = normalise(_LOG_PREFIX.sub("", line), d.tmp)
        if not _ACTION.match(line):
            continue
        (stopped if " stopped: " in line else acts).append(line)
    return acts, sorted(stopped)


def mark(d):
    return len(d.log_text())


def scenario(d):
    d.start(PROGRAMS, supervisord_extra=EXTRA)
    all_running(d)
    rpc = d.rpc.supervisor
    out = {"autostart": actions(d)}

    m = mark(d)
    out["stopProcessGroup"] = results(rpc.stopProcessGroup("grp", False))
    all_stopped_grp = lambda: all(d.state("grp:" + n) == "STOPPED" for n in GRP)  # noqa: E731
    wait_until(all_stopped_grp, daemon=d, what="grp stopped")
    out["startProcessGroup"] = results(rpc.startProcessGroup("grp"))
    all_running(d)
    out["signalProcessGroup"] = results(rpc.signalProcessGroup("grp", "CONT"))
    out["signalProcess grp:*"] = results(rpc.signalProcess("grp:*", "CONT"))
    out["signalAllProcesses"] = results(rpc.signalAllProcesses("CONT"))
    out["stopProcess grp:*"] = results(rpc.stopProcess("grp:*", False))
    wait_until(all_stopped_grp, daemon=d, what="grp stopped")
    out["startProcess grp:*"] = results(rpc.startProcess("grp:*"))
    all_running(d)
    out["clearAllProcessLogs"] = results(rpc.clearAllProcessLogs())
    out["stopAllProcesses"] = results(rpc.stopAllProcesses(False))
    all_stopped(d)
    out["startAllProcesses"] = results(rpc.startAllProcesses())
    all_running(d)
    out["rpc actions"] = actions(d, m)

    # the same calls inside system.multicall
    m = mark(d)
    mc = d.rpc.system.multicall
    got = mc([
        {"methodName": "supervisor.signalProcessGroup", "params": ["grp", "CONT"]},
        {"methodName": "supervisor.signalAllProcesses", "params": ["CONT"]},
        {"methodName": "supervisor.stopAllProcesses", "params": [False]},
    ])
    out["multicall 1"] = [results(r) for r in got]
    all_stopped(d)
    got = mc([
        {"methodName": "supervisor.startProcessGroup", "params": ["grp"]},
        {"methodName": "supervisor.startAllProcesses", "params": []},
        {"methodName": "supervisor.stopProcessGroup", "params": ["grp", False]},
    ])
    out["multicall 2"] = [results(r) for r in got]
    wait_until(all_stopped_grp, daemon=d, what="grp stopped")
    out["multicall actions"] = actions(d, m)

    # supervisorctl prints the results in the order it gets them
    m = mark(d)
    out["ctl start grp:*"] = d.ctl_norm("start", "grp:*")
    all_running(d)
    out["ctl signal CONT grp:*"] = d.ctl_norm("signal", "CONT", "grp:*")
    # stop waits: each result comes when its process is reaped (in any order)
    out["ctl stop all"] = d.ctl_sorted("stop", "all")
    out["ctl start all"] = d.ctl_norm("start", "all")
    all_running(d)
    out["ctl actions"] = actions(d, m)

    # name order where the reference uses it
    out["getAllProcessInfo"] = names(d)
    out["getAllConfigInfo"] = [(c["group"], c["name"]) for c in rpc.getAllConfigInfo()]

    # update: a changed group is removed and added again, a new one added: both go after
    # the groups of their priority already there
    m = mark(d)
    d.write_config(UPDATED, supervisord_extra=EXTRA)
    out["ctl update"] = d.ctl_norm("update")
    all_running(d)
    out["after update: stopAllProcesses"] = results(rpc.stopAllProcesses(False))
    all_stopped(d)
    out["after update: startAllProcesses"] = results(rpc.startAllProcesses())
    all_running(d)
    out["update actions"] = actions(d, m)
    d.write_config(REMOVED, supervisord_extra=EXTRA)
    out["reloadConfig, groups gone"] = rpc.reloadConfig()
    d.write_config(UPDATED, supervisord_extra=EXTRA)
    out["reloadConfig, back"] = rpc.reloadConfig()

    # shutdown: group after group, highest priority first, each in reverse priority order
    m = mark(d)
    d.send(signal.SIGTERM)
    out["exit status"] = d.wait_exit()
    out["shutdown actions"] = actions(d, m)
    return out


def test_group_and_all_process_order(daemon, oracle):
    res = compare(daemon, oracle, scenario)
    prio = [("grp", n) for n in ("mid", "beta", "alpha", "zeta")]
    assert [r[:2] for r in res["startProcessGroup"]] == prio
    everything = [("solo_a", "solo_a"), ("solo_b", "solo_b")] + prio + [("top", "top"), ("late", "late")]
    assert [r[:2] for r in res["stopAllProcesses"]] == everything
    # autostart spawns a [group:x] in its programs= order
    spawned = [l for l in res["autostart"][0] if "spawned:" in l]
    assert [re.search(r"'(\w+)'", l).group(1) for l in spawned] == [
        "solo_a", "solo_b", "zeta", "beta", "mid", "alpha", "top", "late"]
    after = [r[1] for r in res["after update: stopAllProcesses"]][:3]
    assert after == ["solo_b", "solo_a", "solo_0"]
    assert res["reloadConfig, groups gone"] == [[[], [], ["solo_b", "late", "solo_a", "solo_0"]]]
