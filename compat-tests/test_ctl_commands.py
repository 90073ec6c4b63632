"""Every supervisorctl command through the stock 4.2.5 client, the reference as oracle.

Each scenario is a script of supervisorctl invocations (with waits between
them where the daemon works asynchronously); printed lines and exit codes are
compared after normalisation (pids, uptimes, dates, temp paths).  Explicit
expectations pin the reference's output too, so a failure says what is wrong,
not only that something differs.
"""

import os
import signal
import subprocess

import pytest

from conftest import CTL_TIMEOUT, compare, error_line, mainlog_events, pid_alive, wait_until
from lib.fragments import base, group, program, sections, sleeper, unix_http_server
from lib.rpc import file_contains

pytestmark = pytest.mark.ctl_clients  # each test with the stock client and with ours

PROGRAMS = sections(
    program("a", 'sh -c "echo out-a; echo err-a >&2; exec sleep 100"', startsecs=0,
            stopwaitsecs=2),
    sleeper("b", 100, autostart=False),
    group("g", ["c", "e"]),
    sleeper("c", 100),
    program("e", 'sh -c "sleep 0.3; exit 3"', startsecs=0, autorestart=False))

NEW_PROGRAM = "\n" + sleeper("new", 100)


def is_multi(args):
    """Commands acting on several processes print lines in completion order."""
    if not args:
        return False
    if args[0] in ("start", "stop", "restart", "clear", "signal", "pid"):
        targets = args[2:] if args[0] == "signal" else args[1:]
        return len(targets) > 1 or any(t == "all" or t.endswith(":*") for t in targets)
    return False


def run(d, cmd, *extra):
    """One supervisorctl command line → (cmd, rc, out, err), normalised."""
    args = list(extra) + cmd.split()
    if is_multi(cmd.split()):
        rc, out, err = d.ctl_sorted(*args)
    else:
        rc, out, err = d.ctl_norm(*args)
    return (cmd, rc, out, err)


def script(d, steps):
    """Run steps: strings are supervisorctl command lines, callables do waits
    (and may return a value to record)."""
    results = []
    for step in steps:
        if callable(step):
            value = step(d)
            if value is not None:
                results.append((step.__name__, value))
        else:
            results.append(run(d, step))
    return results


def by_cmd(results):
    out = {}
    for r in results:
        out.setdefault(r[0], []).append(r[1:])
    return out


def wait(name, *states):
    def w(d):
        d.wait_state(name, *states)
    w.__name__ = "wait %s %s" % (name, "/".join(states))
    return w


def started(d):
    d.start(PROGRAMS)
    d.wait_state("a", "RUNNING")
    d.wait_state("g:c", "RUNNING")
    d.wait_state("g:e", "EXITED")
    a = d.info("a")
    wait_until(lambda: file_contains(a["stdout_logfile"], "out-a\n")
               and file_contains(a["stderr_logfile"], "err-a\n"), daemon=d)


def a_wrote(n):
    """Wait until a's stdout log holds n lines of out-a, then for a RUNNING.

    `a` echoes before it sleeps, so a signal sent right after a (re)start can kill the
    shell before it has written: each start's line is awaited before the next step, and the
    later `tail a` sees the same lines under both daemons."""
    def w(d):
        log = d.info("a")["stdout_logfile"]
        wait_until(lambda: open(log).read().count("out-a") >= n, daemon=d,
                   what="out-a written %d times" % n)
        d.wait_state("a", "RUNNING")
    w.__name__ = "a wrote out-a %d times" % n
    return w


def add_new_program(d):
    text = d.conf.read_text().replace('exec sleep 100"', 'exec sleep 101"')
    d.conf.write_text(text + d.subst(NEW_PROGRAM))


# ---------------------------------------------------------------- status, pid, version,
# start/stop/restart, shutdown and reload on a fixed set (each command on its own)

SET_PROGRAMS = sections(
    sleeper("sleeper"), sleeper("idle", autostart=False),
    group("grp", ["ga", "gb"]), sleeper("ga"), sleeper("gb"))


def set_started(d):
    d.start(SET_PROGRAMS)
    for name in ("sleeper", "grp:ga", "grp:gb"):
        d.wait_state(name, "RUNNING")
    return d


def ctl_lines(d, commands):
    """Run each supervisorctl command line; return [(cmd, rc, out, err)] normalised.
    Only start/stop/restart on several processes are sorted (`pid all` is not)."""
    results = []
    for cmd in commands:
        args = cmd.split()
        # several processes at once: result lines come in completion order (a race)
        multi = args[0] in ("start", "stop", "restart") and (
            len(args) > 2 or any(a == "all" or a.endswith(":*") for a in args[1:]))
        rc, out, err = (d.ctl_sorted if multi else d.ctl_norm)(*args)
        results.append((cmd, rc, out, err))
    return results


def as_dict(results):
    """{command: (rc, out, err)} of each command's first run."""
    d = {}
    for cmd, rc, out, err in results:
        d.setdefault(cmd, (rc, out, err))
    return d


STATUS_COMMANDS = [
    "status",
    "status sleeper",
    "status grp:*",
    "status grp:ga sleeper",
    "status idle",
    "status nosuch",
    "status sleeper nosuch",
    "status nosuch:*",
    "status grp:nosuch",
]


def scenario_status(d):
    set_started(d)
    return ctl_lines(d, STATUS_COMMANDS)


def test_status(daemon, oracle):
    res = as_dict(compare(daemon, oracle, scenario_status))
    rc, out, _ = res["status"]
    lines = out.splitlines()
    assert lines == [
        "grp:ga                           RUNNING   pid N, uptime T",
        "grp:gb                           RUNNING   pid N, uptime T",
        "idle                             STOPPED   Not started",
        "sleeper                          RUNNING   pid N, uptime T",
    ]
    # one process not running → LSB "program is not running" (3)
    assert rc == 3
    assert res["status sleeper"][0] == 0
    assert res["status grp:*"][1].count("RUNNING") == 2
    assert res["status nosuch"][1] == "nosuch: ERROR (no such process)\n"
    assert res["status nosuch"][0] == 4
    assert res["status sleeper nosuch"][0] == 4


def scenario_pid(d):
    set_started(d)
    return ctl_lines(d, ["pid", "pid sleeper", "pid idle", "pid all", "pid nosuch"])


def test_pid(daemon, oracle):
    res = as_dict(compare(daemon, oracle, scenario_pid))
    assert res["pid"][:2] == (0, "N\n")  # the daemon's own pid
    assert res["pid sleeper"][:2] == (0, "N\n")
    # a stopped process: its pid is 0 and the exit code says "not running"
    assert res["pid idle"][:2] == (7, "0\n")
    assert res["pid all"][:2] == (0, "N\nN\n0\nN\n")  # ga, gb, idle, sleeper
    assert res["pid nosuch"][:2] == (1, "No such process nosuch\n")


def test_pid_is_real(daemon):
    """`pid` prints the daemon's pid and `pid x` the child's, as the API reports."""
    set_started(daemon)
    rc, out, _ = daemon.ctl("pid")
    assert rc == 0 and int(out) == daemon.proc.pid
    rc, out, _ = daemon.ctl("pid", "sleeper")
    assert rc == 0 and int(out) == daemon.info("sleeper")["pid"]


def scenario_version(d):
    set_started(d)
    return ctl_lines(d, ["version", "version extra"])


def test_version(daemon, oracle):
    res = as_dict(compare(daemon, oracle, scenario_version))
    assert res["version"][:2] == (0, "4.2.5\n")


START_STOP_COMMANDS = [
    "start",
    "start idle",
    "start idle",
    "start nosuch",
    "start grp:nosuch",
    "status idle",
    "stop idle",
    "stop idle",
    "stop nosuch",
    "status idle",
    "stop grp:*",
    "status",
    "start grp:*",
    "start grp:*",
    "stop",
    "stop sleeper idle",
    "start all",
    "status",
    "restart sleeper",
    "restart nosuch",
    "restart grp:*",
    "restart",
    "stop all",
    "stop all",
    "status",
    "start idle sleeper",
    "restart all",
    "status",
]


def scenario_start_stop(d):
    set_started(d)
    return ctl_lines(d, START_STOP_COMMANDS)


def test_start_stop_restart(daemon, oracle):
    res = compare(daemon, oracle, scenario_start_stop)
    by = {}
    for cmd, rc, out, err in res:
        by.setdefault(cmd, []).append((rc, out, err))
    assert by["start idle"][0][:2] == (0, "idle: started\n")
    assert by["start idle"][1][1] == "idle: ERROR (already started)\n"
    assert by["start nosuch"][0][1] == "nosuch: ERROR (no such process)\n"
    assert by["stop idle"][0][:2] == (0, "idle: stopped\n")
    assert by["stop idle"][1][1] == "idle: ERROR (not running)\n"
    assert by["restart sleeper"][0][1] == "sleeper: stopped\nsleeper: started\n"


def test_start_stop_pids_change(daemon):
    """restart gives the process a new pid; stop leaves no process behind."""
    set_started(daemon)
    pid1 = daemon.info("sleeper")["pid"]
    assert daemon.ctl("restart", "sleeper")[0] == 0
    pid2 = daemon.info("sleeper")["pid"]
    assert pid2 not in (0, pid1)
    assert not pid_alive(pid1)
    assert daemon.ctl("stop", "sleeper")[0] == 0
    assert daemon.info("sleeper")["pid"] == 0
    wait_until(lambda: not pid_alive(pid2), daemon=daemon, what="old pid gone")


def scenario_shutdown(d):
    set_started(d)
    results = ctl_lines(d, ["shutdown extra", "shutdown"])
    rc = d.wait_exit()
    results.append(("daemon exit", rc, "", ""))
    results.append(("socket exists", d.sock.exists(), "", ""))
    # no server: supervisorctl reports the refused connection
    results += ctl_lines(d, ["status", "pid", "shutdown", "version"])
    return results


def test_shutdown(daemon, oracle):
    res = as_dict(compare(daemon, oracle, scenario_shutdown))
    assert res["shutdown"][:2] == (0, "Shut down\n")
    assert res["daemon exit"][0] == 0
    assert res["socket exists"][0] is False
    rc, out, err = res["status"]
    assert "refused connection" in out or "no such file" in out, out


def scenario_reload_all(d):
    set_started(d)
    before = {p["name"]: p["pid"] for p in d.rpc.supervisor.getAllProcessInfo()}
    results = ctl_lines(d, ["reload extra", "reload"])
    d.wait_ready()
    for name in ("sleeper", "grp:ga", "grp:gb"):
        d.wait_state(name, "RUNNING")
    after = {p["name"]: p["pid"] for p in d.rpc.supervisor.getAllProcessInfo()}
    changed = sorted(n for n in after if after[n] and after[n] != before.get(n))
    results.append(("pids changed", changed, "", ""))
    results.append(("daemon still running", d.proc.poll() is None, "", ""))
    results += ctl_lines(d, ["status"])
    return results


def test_reload_restarts_every_process(daemon, oracle):
    res = as_dict(compare(daemon, oracle, scenario_reload_all))
    assert res["reload"][:2] == (0, "Restarted supervisord\n")
    assert res["pids changed"][0] == ["ga", "gb", "sleeper"]
    assert res["daemon still running"][0] is True


def scenario_no_server(d):
    """supervisorctl against a config whose socket has no daemon behind it."""
    d.write_config(SET_PROGRAMS)
    return ctl_lines(d, ["status", "start sleeper", "pid", "version"])


def test_no_server(make_daemon):
    # no daemon is started: this pins the client's own messages and exit codes
    # (it documents what users see when the daemon is down).
    res = as_dict(scenario_no_server(make_daemon("ref")))
    assert "<TMP>/s.sock no such file" in res["status"][1]


# ---------------------------------------------------------------- the lead's scenario

MAIN_STEPS = [
    "status", "status g:*", "status nosuch", "status a nosuch", "status g:nosuch",
    "status a b", "avail",
    "start b", "start b", "stop b", "stop b",
    "restart a", a_wrote(2), "signal HUP a", a_wrote(3),
    "signal FOO a", "signal HUP b", "signal HUP nosuch", "signal", "signal HUP",
    "pid a", "pid b", "pid nosuch", "pid all",
    "tail a", "tail a stderr", "tail -5 a", "tail -5 a stderr", "tail nosuch", "tail a nosuch",
    "tail", "tail -x a", "tail b",
    "clear a", "tail a", "clear nosuch", "clear", "clear all",
    "start nosuch", "stop nosuch", "restart nosuch",
    "stop g:*", "start g:*", wait("g:e", "EXITED"),
    "restart all", wait("g:e", "EXITED"), "status",
    "reread",
    add_new_program,
    "reread", "update", wait("new", "RUNNING"), "status",
    "remove new", "stop new", "remove new", "remove new", "add new", "add new", "add nosuch",
    wait("new", "RUNNING"), "avail",
    "update g", "update nosuch", "update all", "status",
    "version",
    "start", "stop", "restart", "pid extra extra", "avail extra", "reread extra",
    "add", "remove", "fg", "fg nosuch", "fg a b", "nosuchcommand",
    "shutdown",
]


def scenario_main(d):
    started(d)
    res = script(d, MAIN_STEPS)
    res.append(("daemon exit", d.wait_exit()))
    return res


# About 90 supervisorctl runs on each of two daemons: on a loaded machine that can take longer
# than the suite's default hang guard, so this scenario gets a larger one (still only a guard).
@pytest.mark.timeout(1200)
def test_ctl_main_scenario(daemon, oracle):
    res = by_cmd(compare(daemon, oracle, scenario_main))
    assert res["status"][0][:2] == (
        3, "a                                RUNNING   pid N, uptime T\n"
           "b                                STOPPED   Not started\n"
           "g:c                              RUNNING   pid N, uptime T\n"
           "g:e                              EXITED    DATE\n")
    assert res["status nosuch"][0][:2] == (4, "nosuch: ERROR (no such process)\n")
    assert res["start b"] == [(0, "b: started\n", ""), (0, "b: ERROR (already started)\n", "")]
    assert res["stop b"] == [(0, "b: stopped\n", ""), (0, "b: ERROR (not running)\n", "")]
    assert res["restart a"][0][:2] == (0, "a: stopped\na: started\n")
    assert res["signal HUP a"][0][:2] == (0, "a: signalled\n")
    assert res["signal FOO a"][0][:2] == (1, "a: ERROR (bad signal name)\n")
    assert res["signal HUP b"][0][:2] == (7, "b: ERROR (not running)\n")
    assert res["pid a"][0][:2] == (0, "N\n")
    assert res["pid b"][0][:2] == (7, "0\n")
    assert res["pid nosuch"][0][:2] == (1, "No such process nosuch\n")
    # (supervisorctl adds a newline after the log bytes)
    assert res["tail a"][0][:2] == (0, "out-a\nout-a\nout-a\n\n")
    assert res["tail a stderr"][0][:2] == (0, "err-a\nerr-a\nerr-a\n\n")
    assert res["tail -5 a"][0][:2] == (0, "ut-a\n\n")
    assert res["tail nosuch"][0][:2] == (1, "nosuch: ERROR (no such process name)\n")
    assert res["clear a"][0][:2] == (0, "a: cleared\n")
    assert res["tail a"][1][:2] == (0, "\n")
    assert res["clear all"][0][:2] == (0, "a: cleared\nb: cleared\ng:c: cleared\ng:e: cleared\n")
    assert res["start nosuch"][0][:2] == (1, "nosuch: ERROR (no such process)\n")
    assert res["stop g:*"][0][:2] == (0, "g:c: stopped\n")
    assert res["start g:*"][0][:2] == (0, "g:c: started\ng:e: started\n")
    assert res["update"][0][:2] == (0, "a: stopped\na: updated process group\nnew: added process group\n")
    assert res["reread"][0][:2] == (0, "No config updates to processes\n")
    assert res["reread"][1][:2] == (0, "a: changed\nnew: available\n")
    assert res["remove new"][0][:2] == (1, "ERROR: process/group still running: new\n")
    assert res["remove new"][1][:2] == (0, "new: removed process group\n")
    assert res["remove new"][2][:2] == (1, "ERROR: no such process/group: new\n")
    assert res["add new"] == [(0, "new: added process group\n", ""),
                              (0, "ERROR: process group already active\n", "")]
    assert res["update nosuch"][0][:2] == (1, "ERROR: no such group: nosuch\n")
    assert res["start"][0][0] == 2 and res["stop"][0][0] == 1
    assert res["nosuchcommand"][0][:2] == (1, "*** Unknown syntax: nosuchcommand\n")
    assert res["add nosuch"][0][:2] == (1, "ERROR: no such process/group: nosuch\n")
    assert res["version"][0][:2] == (0, "4.2.5\n")
    assert res["shutdown"][0][:2] == (0, "Shut down\n")
    assert res["daemon exit"] == [(0,)]


# ---------------------------------------------------------------- update

UPDATE_BEFORE = sections(
    sleeper("keep", 100), sleeper("change", 100), sleeper("gone", 100),
    group("grp", ["m1", "m2"]), sleeper("m1", 100), sleeper("m2", 100))

UPDATE_AFTER = sections(
    sleeper("keep", 100), sleeper("change", 101), sleeper("added", 100),
    sleeper("added2", 100, stopwaitsecs=None, autostart=False),
    group("grp", ["m1", "m3"]), sleeper("m1", 100), sleeper("m3", 100))


def new_config(text):
    def f(d):
        d.write_config(text)
    f.__name__ = "new config"
    return f


def pids(d):
    return {"%s:%s" % (p["group"], p["name"]): p["pid"] for p in d.rpc.supervisor.getAllProcessInfo()}


def scenario_update(d):
    d.start(UPDATE_BEFORE)
    for n in ("keep", "change", "gone", "grp:m1", "grp:m2"):
        d.wait_state(n, "RUNNING")
    before = pids(d)
    steps = ["update", "reread", new_config(UPDATE_AFTER), "reread", "avail",
             "update keep", "update nosuch", "update change", wait("change", "RUNNING"),
             "status", "update", wait("added", "RUNNING"), wait("grp:m3", "RUNNING"),
             "status", "reread", "update", "update all", "avail"]
    res = script(d, steps)
    after = pids(d)
    res.append(("restarted", sorted(k for k in after if k in before and after[k] != before[k])))
    return res


def test_update(daemon, oracle):
    res = by_cmd(compare(daemon, oracle, scenario_update))
    assert res["update"][0][:2] == (0, "")
    assert res["reread"][1][:2] == (0, "added: available\nadded2: available\n"
                                       "change: changed\ngone: disappeared\ngrp: changed\n")
    assert res["update change"][0][:2] == (0, "change: stopped\nchange: updated process group\n")
    assert res["update keep"][0][:2] == (0, "")
    assert res["update nosuch"][0][:2] == (1, "ERROR: no such group: nosuch\n")
    assert res["update"][1][1].splitlines() == [
        "gone: stopped", "gone: removed process group", "grp: stopped",
        "grp: updated process group", "added: added process group",
        "added2: added process group"]
    assert res["restarted"] == [(["change:change", "grp:m1"],)]


# ---------------------------------------------------------------- tail and maintail

TAIL_PROGRAMS = """
    [program:talker]
    command=sh -c "i=0; while [ $i -lt 200 ]; do echo line-$i; echo err-$i >&2; i=$((i+1)); done; exec sleep 100"
    startsecs=0
    stopwaitsecs=2

    [program:quiet]
    command=sleep 100
    startsecs=0
    stopwaitsecs=2

    [program:merged]
    command=sh -c "echo m-out; echo m-err >&2; exec sleep 100"
    startsecs=0
    redirect_stderr=true
    stopwaitsecs=2

    [program:nolog]
    command=sleep 100
    autostart=false
    stdout_logfile=NONE
    """


def scenario_tail(d):
    d.start(TAIL_PROGRAMS)
    for n in ("talker", "quiet", "merged"):
        d.wait_state(n, "RUNNING")
    t = d.info("talker")
    m = d.info("merged")
    wait_until(lambda: file_contains(t["stdout_logfile"], "line-199\n")
               and file_contains(t["stderr_logfile"], "err-199\n")
               and file_contains(m["stdout_logfile"], "m-err\n"), daemon=d)
    return script(d, [
        "tail talker", "tail -100 talker", "tail -0 talker", "tail -1 talker",
        "tail -5000 talker", "tail talker stdout", "tail talker stderr", "tail -20 talker stderr",
        "tail talker stdin", "tail quiet", "tail quiet stderr", "tail merged", "tail merged stderr",
        "tail nolog", "tail nolog stderr", "tail -f", "tail -abc talker", "tail talker stdout extra",
        "maintail extra extra", "maintail -x",
    ])


def test_tail(daemon, oracle):
    res = by_cmd(compare(daemon, oracle, scenario_tail))
    full = "".join("line-%d\n" % i for i in range(200))
    # supervisorctl prints the bytes and a newline; -0 reads the whole file
    assert res["tail talker"][0][:2] == (0, full[-1600:] + "\n")
    assert res["tail -100 talker"][0][:2] == (0, full[-100:] + "\n")
    assert res["tail -1 talker"][0][:2] == (0, "\n\n")
    assert res["tail -0 talker"][0][:2] == (0, full + "\n")
    assert res["tail -5000 talker"][0][:2] == (0, full + "\n")
    assert res["tail talker stderr"][0][1].endswith("err-199\n\n")
    assert res["tail merged"][0][:2] == (0, "m-out\nm-err\n\n")
    assert res["tail merged stderr"][0][:2] == (1, "merged: ERROR (no log file)\n")
    assert res["tail nolog"][0][:2] == (1, "nolog: ERROR (no log file)\n")
    assert res["tail quiet"][0][:2] == (0, "\n")
    assert res["tail talker stdin"][0][:2] == (1, "Error: bad channel 'stdin'\n")


def scenario_maintail(d):
    d.start(TAIL_PROGRAMS)
    d.wait_state("talker", "RUNNING")
    d.wait_log("success: merged entered RUNNING")
    text = d.log_text()
    res = {}
    for args in (["maintail"], ["maintail", "-100"], ["maintail", "-1"], ["maintail", "-0"],
                 ["maintail", "-1000000"]):
        rc, out, err = d.ctl(*args)
        n = int(args[1][1:]) if len(args) > 1 else 1600
        # what it prints is the end of the main log file (-0: all of it), then a newline
        res[" ".join(args)] = (rc, out == (text[-n:] if n else text) + "\n", err)
    rc, out, err = d.ctl("maintail")
    res["events"] = mainlog_events(out, d.tmp)
    return res


def test_maintail(daemon, oracle):
    res = compare(daemon, oracle, scenario_maintail)
    for k in ("maintail", "maintail -100", "maintail -1", "maintail -0", "maintail -1000000"):
        assert res[k] == (0, True, ""), (k, res[k])
    assert "INFO success: talker entered RUNNING state, process has stayed up for > than 0 " \
           "seconds (startsecs)" in res["events"]


# ---------------------------------------------------------------- clear, signal, pid, start/stop on groups

GROUP_PROGRAMS = """
    [group:g]
    programs=x,y
    priority=10

    [program:x]
    command=sh -c "echo x-out; exec sleep 100"
    startsecs=0
    stopwaitsecs=2

    [program:y]
    command=sh -c "echo y-out; exec sleep 100"
    startsecs=0
    stopwaitsecs=2

    [program:z]
    command=sleep 100
    startsecs=0
    autostart=false
    stopwaitsecs=2

    [program:multi]
    command=sleep 100
    process_name=%(program_name)s_%(process_num)d
    numprocs=2
    startsecs=0
    stopwaitsecs=2
    """


def scenario_groups(d):
    d.start(GROUP_PROGRAMS)
    for n in ("g:x", "g:y", "multi:multi_0", "multi:multi_1"):
        d.wait_state(n, "RUNNING")
    return script(d, [
        "status", "status g:*", "status multi:*", "status g", "status multi",
        "pid g:*", "pid all", "pid z", "pid multi:multi_0 multi:multi_1",
        "signal WINCH g:*", "signal WINCH all", "signal WINCH g:x z", "signal 28 multi:*",
        "signal winch g:nosuch", "signal SIGWINCH g",
        "clear g:*", "clear all", "clear g:x z", "clear g",
        "stop g", "stop g:x", "start g:x", "restart g:*", "restart g:x z",
        "stop multi:*", "start multi", "start multi:multi_0", "stop multi:multi_0 g:y",
        "restart g", "start all", "stop all", "status", "start all", "status",
    ])


def test_groups_and_multi(daemon, oracle):
    res = by_cmd(compare(daemon, oracle, scenario_groups))
    # the stock client mishandles `clear g:*` (it asks for "g:None")
    assert res["clear g:*"][0][:2] == (1, "g:None: ERROR (no such process)\n")
    assert res["signal WINCH g:*"][0][:2] == (0, "g:x: signalled\ng:y: signalled\n")
    assert res["signal WINCH g:x z"][0][:2] == (7, "g:x: signalled\nz: ERROR (not running)\n")
    assert res["pid g:*"][0][:2] == (1, "No such process g:*\n")
    assert res["status g"][0][:2] == (4, "g: ERROR (no such process)\n")
    assert res["stop all"][0][:2] == (0, "g:x: stopped\ng:y: stopped\nmulti:multi_0: stopped\n"
                                         "multi:multi_1: stopped\nz: stopped\n")
    assert res["status"][2][0] == 0


# ---------------------------------------------------------------- reload, shutdown through ctl

def scenario_reload(d):
    d.start(PROGRAMS)
    d.wait_state("a", "RUNNING")
    add_new_program(d)
    res = script(d, ["reload", lambda d: d.wait_ready(), wait("new", "RUNNING"),
                     wait("a", "RUNNING"), wait("g:e", "EXITED"), "status", "avail"])
    res.append(("daemon still running", d.proc.poll() is None))
    return res


def test_reload(daemon, oracle):
    res = by_cmd(compare(daemon, oracle, scenario_reload))
    assert res["reload"][0][:2] == (0, "Restarted supervisord\n")
    assert "new                              RUNNING" in res["status"][0][1]


def scenario_shutdown_waits(d):
    """`shutdown` while a process takes time to stop, and commands meanwhile."""
    d.start("""
        [program:stubborn]
        command=sh -c "trap '' TERM; exec sleep 100"
        startsecs=0
        stopwaitsecs=600
        """)
    pid = d.wait_state("stubborn", "RUNNING")["pid"]
    from lib.rpc import sig_ignored
    wait_until(lambda: open("/proc/%d/comm" % pid).read().strip() == "sleep"
               and sig_ignored(pid, signal.SIGTERM), daemon=d)
    res = script(d, ["shutdown"])
    d.signalled = True
    d.wait_log("waiting for stubborn to die")
    res += script(d, ["status", "pid", "start stubborn", "stop stubborn", "avail",
                      "reread", "shutdown", "version"])
    os.kill(pid, signal.SIGKILL)
    res.append(("exit", d.wait_exit()))
    return res


def test_shutdown_state(daemon, oracle):
    res = by_cmd(compare(daemon, oracle, scenario_shutdown_waits))
    assert res["shutdown"][0][:2] == (0, "Shut down\n")
    shutting_down = error_line(
        daemon.client, "<class 'xmlrpc.client.Fault'>, <Fault 6: 'SHUTDOWN_STATE'>",
        "the daemon is shutting down and accepts no more commands (fault SHUTDOWN_STATE)")
    assert res["status"][0] == (1, shutting_down + "\n", ""), res["status"]
    assert res["exit"] == [(0,)]


# ---------------------------------------------------------------- -c, -s, -u, -p

AUTH_UNIX = sections(base(unix=unix_http_server("alice", "secret")), sleeper("a", 100))


def bare_ctl(d, *args, conf=None):
    """supervisorctl without the harness's config (conf=None: an empty [supervisorctl])."""
    if conf is None:
        conf = d.tmp / "empty.conf"
        conf.write_text("[supervisorctl]\n")
    cmd = [str(d.ctl_bin), "-c", str(conf)] + [str(a) for a in args]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=CTL_TIMEOUT,
                       stdin=subprocess.DEVNULL, cwd=str(d.tmp))
    prog = str(d.ctl_bin)  # the usage lines name the client's own path
    return (" ".join(map(str, args)).replace(str(d.tmp), "<TMP>"), p.returncode,
            d.norm(p.stdout.replace(prog, "<PROG>")), d.norm(p.stderr.replace(prog, "<PROG>")))


def scenario_options(d):
    """-c FILE, -s URL, -u/-p against a unix socket with auth."""
    d.start(raw=AUTH_UNIX, wait_ready=False)
    url = "unix://%s" % d.sock
    wait_until(lambda: bare_ctl(d, "-s", url, "-u", "alice", "-p", "secret", "status")[1] == 0,
               daemon=d, what="daemon answering")
    res = [
        bare_ctl(d, "-s", url, "-u", "alice", "-p", "secret", "status"),
        bare_ctl(d, "-s", url, "-u", "alice", "-p", "secret", "pid", "a"),
        bare_ctl(d, "-s", url, "-u", "alice", "-p", "wrong", "status"),
        bare_ctl(d, "-s", url, "-u", "bob", "-p", "secret", "status"),
        bare_ctl(d, "-s", url, "status"),
        bare_ctl(d, "-s", url, "-u", "alice", "status"),
        bare_ctl(d, "-s", url + ".nosuch", "status"),
        bare_ctl(d, "-s", "http://127.0.0.1:1", "status"),
        bare_ctl(d, "-s", "bogus://x", "status"),
        # -c: credentials from the [supervisorctl] section
        bare_ctl(d, "status", conf=write_ctl_conf(d, "ctl-ok.conf", url, "alice", "secret")),
        bare_ctl(d, "status", conf=write_ctl_conf(d, "ctl-bad.conf", url, "alice", "nope")),
        bare_ctl(d, "-p", "secret", "status", conf=write_ctl_conf(d, "ctl-bad.conf", url, "alice", "nope")),
        bare_ctl(d, "status", conf=d.tmp / "nosuch.conf"),
        bare_ctl(d, "-s", url, "-u", "alice", "-p", "secret", "shutdown"),
    ]
    res.append(("exit", d.wait_exit()))
    return res


def write_ctl_conf(d, name, url, user, password):
    p = d.tmp / name
    p.write_text("[supervisorctl]\nserverurl=%s\nusername=%s\npassword=%s\n" % (url, user, password))
    return p


def test_options_and_unix_auth(daemon, oracle):
    res = compare(daemon, oracle, scenario_options)
    assert res[0][1:3] == (0, "a                                RUNNING   pid N, uptime T\n")
    unauthorized = error_line(
        daemon.client,
        "<class 'xmlrpc.client.ProtocolError'>, "
        "<ProtocolError for 127.0.0.1/RPC2: 401 Unauthorized>",
        "the daemon answered HTTP 401 Unauthorized on /RPC2 (check username and password)")
    for i in (2, 3, 4, 5, 10):  # wrong or missing credentials
        assert res[i][1:] == (
            1, "Server requires authentication\n" + unauthorized + "\n", ""), res[i]
    assert res[6][1:3] == (4, "unix://<TMP>/s.sock.nosuch no such file\n")
    assert res[9][1] == 0
    assert res[11][1] == 0
    assert res[-2][1:3] == (0, "Shut down\n")
    assert res[-1] == ("exit", 0)
