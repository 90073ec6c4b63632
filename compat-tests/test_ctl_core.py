"""supervisorctl core commands through the stock 4.2.5 client.

Each test runs a script of supervisorctl commands against the daemon under
test and against a reference daemon, and compares the printed lines and exit
codes after normalisation (pids, uptimes, dates, temp paths).  A few explicit
expectations are checked too, so a failure says what is wrong, not only that
something differs.
"""

import pytest

from conftest import compare, wait_until

pytestmark = pytest.mark.ctl_clients  # each test with the stock client and with ours

PROGRAMS = """\
[program:sleeper]
command=sleep 1000
startsecs=0
stopwaitsecs=2

[program:idle]
command=sleep 1000
autostart=false
startsecs=0
stopwaitsecs=2

[group:grp]
programs=ga,gb

[program:ga]
command=sleep 1000
startsecs=0
stopwaitsecs=2

[program:gb]
command=sleep 1000
startsecs=0
stopwaitsecs=2
"""


def started(d):
    d.start(PROGRAMS)
    for name in ("sleeper", "grp:ga", "grp:gb"):
        d.wait_state(name, "RUNNING")
    return d


def script(d, commands):
    """Run each supervisorctl command line; return [(cmd, rc, out, err)] normalised."""
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
    started(d)
    return script(d, STATUS_COMMANDS)


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
    started(d)
    return script(d, ["pid", "pid sleeper", "pid idle", "pid all", "pid nosuch"])


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
    started(daemon)
    rc, out, _ = daemon.ctl("pid")
    assert rc == 0 and int(out) == daemon.proc.pid
    rc, out, _ = daemon.ctl("pid", "sleeper")
    assert rc == 0 and int(out) == daemon.info("sleeper")["pid"]


def scenario_version(d):
    started(d)
    return script(d, ["version", "version extra"])


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
    started(d)
    return script(d, START_STOP_COMMANDS)


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
    from conftest import pid_alive
    started(daemon)
    pid1 = daemon.info("sleeper")["pid"]
    assert daemon.ctl("restart", "sleeper")[0] == 0
    pid2 = daemon.info("sleeper")["pid"]
    assert pid2 not in (0, pid1)
    assert not pid_alive(pid1)
    assert daemon.ctl("stop", "sleeper")[0] == 0
    assert daemon.info("sleeper")["pid"] == 0
    wait_until(lambda: not pid_alive(pid2), daemon=daemon, what="old pid gone")


def scenario_shutdown(d):
    started(d)
    results = script(d, ["shutdown extra", "shutdown"])
    rc = d.wait_exit()
    results.append(("daemon exit", rc, "", ""))
    results.append(("socket exists", d.sock.exists(), "", ""))
    # no server: supervisorctl reports the refused connection
    results += script(d, ["status", "pid", "shutdown", "version"])
    return results


def test_shutdown(daemon, oracle):
    res = as_dict(compare(daemon, oracle, scenario_shutdown))
    assert res["shutdown"][:2] == (0, "Shut down\n")
    assert res["daemon exit"][0] == 0
    assert res["socket exists"][0] is False
    rc, out, err = res["status"]
    assert "refused connection" in out or "no such file" in out, out


def scenario_reload(d):
    started(d)
    before = {p["name"]: p["pid"] for p in d.rpc.supervisor.getAllProcessInfo()}
    results = script(d, ["reload extra", "reload"])
    d.wait_ready()
    for name in ("sleeper", "grp:ga", "grp:gb"):
        d.wait_state(name, "RUNNING")
    after = {p["name"]: p["pid"] for p in d.rpc.supervisor.getAllProcessInfo()}
    changed = sorted(n for n in after if after[n] and after[n] != before.get(n))
    results.append(("pids changed", changed, "", ""))
    results.append(("daemon still running", d.proc.poll() is None, "", ""))
    results += script(d, ["status"])
    return results


def test_reload(daemon, oracle):
    res = as_dict(compare(daemon, oracle, scenario_reload))
    assert res["reload"][:2] == (0, "Restarted supervisord\n")
    assert res["pids changed"][0] == ["ga", "gb", "sleeper"]
    assert res["daemon still running"][0] is True


def scenario_no_server(d):
    """supervisorctl against a config whose socket has no daemon behind it."""
    d.write_config(PROGRAMS)
    return script(d, ["status", "start sleeper", "pid", "version"])


def test_no_server(make_daemon):
    # no daemon is started: this pins the client's own messages and exit codes
    # (it documents what users see when the daemon is down).
    res = as_dict(scenario_no_server(make_daemon("ref")))
    assert "<TMP>/s.sock no such file" in res["status"][1]
