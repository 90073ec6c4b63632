"""Spawning: exec without a shell, PATH search, directory, umask, environment,
user=, spawn errors; and orphan reaping when not PID 1."""

import json
import os
import pwd

import pytest

from conftest import compare, proc_comm, proc_ppid, wait_until

PROG = "@PYTHON@ @CHILDREN@/prog.py"


def scenario_exec_direct(d):
    d.start("""
        [program:sleeper]
        command=sleep 1000
        startsecs=0
        """)
    info = d.wait_state("sleeper", "RUNNING")
    pid = info["pid"]
    # (wait_state waited for the exec: RUNNING may be reported between fork and exec)
    return {
        "comm": proc_comm(pid),
        "parent is the daemon": proc_ppid(pid) == d.proc.pid,
        "own process group": os.getpgid(pid) == pid,
        "same session as the daemon": os.getsid(pid) == os.getsid(d.proc.pid),
    }


def test_exec_direct_on_path(daemon, oracle):
    """`sleep` is found on PATH and exec'd directly: /proc/PID/comm is `sleep`, not sh."""
    res = compare(daemon, oracle, scenario_exec_direct)
    assert res["comm"] == "sleep"
    assert res["parent is the daemon"] is True
    assert res["own process group"] is True


def read_env(d, path="env.json"):
    f = d.tmp / path
    wait_until(f.exists, daemon=d, what="the program's env dump")
    return json.loads(f.read_text())


def scenario_environment(d):
    (d.tmp / "work").mkdir()
    d.start("""
        [program:envdump]
        command=%s --env @TMP@/env.json
        directory=@TMP@/work
        umask=027
        startsecs=0
        autorestart=false
        environment=FOO="bar baz",EMPTY="",NUM=1,QUOTED='single quoted',PATH="/usr/local/bin:/usr/bin:/bin"

        [group:grp]
        programs=member

        [program:member]
        command=%s --env @TMP@/member.json
        startsecs=0
        """ % (PROG, PROG))
    data = read_env(d)
    env = data["env"]
    member = read_env(d, "member.json")["env"]
    keys = ["FOO", "EMPTY", "NUM", "QUOTED", "PATH", "SUPERVISOR_ENABLED",
            "SUPERVISOR_PROCESS_NAME", "SUPERVISOR_GROUP_NAME", "SUPERVISOR_SERVER_URL"]
    return {
        "env": {k: env.get(k, "<unset>").replace(str(d.tmp), "<TMP>") for k in keys},
        "member env": {k: member.get(k, "<unset>").replace(str(d.tmp), "<TMP>") for k in keys[5:]},
        "inherits the daemon's environment": env.get("COMPAT_TEST_TAG") == d.tag,
        "cwd": d.norm(data["cwd"]),
        "umask": oct(data["umask"]),
        "process group leader": data["pgid"] == data["pid"],
    }


def test_environment_directory_umask(daemon, oracle):
    res = compare(daemon, oracle, scenario_environment)
    assert res["env"] == {
        "FOO": "bar baz", "EMPTY": "", "NUM": "1", "QUOTED": "single quoted",
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "SUPERVISOR_ENABLED": "1",
        "SUPERVISOR_PROCESS_NAME": "envdump",
        "SUPERVISOR_GROUP_NAME": "envdump",
        "SUPERVISOR_SERVER_URL": "unix://<TMP>/s.sock",
    }
    assert res["member env"]["SUPERVISOR_PROCESS_NAME"] == "member"
    assert res["member env"]["SUPERVISOR_GROUP_NAME"] == "grp"
    assert res["cwd"] == "<TMP>/work"
    assert res["umask"] == "0o27"
    assert res["inherits the daemon's environment"] is True


SPAWN_ERROR_CASES = {
    "missing-absolute": "/nonexistent/dir/prog",
    "missing-on-path": "no-such-command-xyz",
    "not-executable": "@TMP@/noexec.sh",
    "directory": "@TMP@",
}


def scenario_spawn_error(d, command):
    noexec = d.tmp / "noexec.sh"
    noexec.write_text("#!/bin/sh\nexit 0\n")
    noexec.chmod(0o644)
    d.start("""
        [program:broken]
        command=%s
        startsecs=0
        startretries=1
        """ % command)
    info = d.wait_state("broken", "FATAL")
    res = {
        "spawnerr": d.norm(info["spawnerr"]),
        "description": d.norm(info["description"]),
        "status": d.ctl_norm("status", "broken"),
        "events": d.events(),
    }
    res["ctl start"] = d.ctl_norm("start", "broken")
    d.wait_state("broken", "FATAL")
    try:
        d.rpc.supervisor.startProcess("broken")
        res["rpc start"] = "no fault"
    except Exception as e:  # xmlrpc.client.Fault
        res["rpc start"] = (getattr(e, "faultCode", None), d.norm(getattr(e, "faultString", repr(e))))
    return res


@pytest.mark.ctl_clients
@pytest.mark.parametrize("case", list(SPAWN_ERROR_CASES))
def test_spawn_error(daemon, oracle, case):
    """A command that can't be exec'd: spawnerr, no `spawned:` line, BACKOFF then FATAL.

    startProcess checks the command first: a missing one is a NO_FILE fault
    (supervisorctl: `ERROR (no such file)`), a non-executable one or a directory
    NOT_EXECUTABLE (`ERROR (file is not executable)`), not SPAWN_ERROR."""
    res = compare(daemon, oracle, scenario_spawn_error, SPAWN_ERROR_CASES[case])
    assert res["status"][0] == 3
    if case.startswith("missing"):
        cmd = SPAWN_ERROR_CASES[case]
        assert res["spawnerr"] == "can't find command '%s'" % cmd
        assert res["ctl start"] == (1, "broken: ERROR (no such file)\n", "")
        assert res["rpc start"] == (20, "NO_FILE: can't find command '%s'" % cmd)
    else:
        assert res["ctl start"] == (1, "broken: ERROR (file is not executable)\n", "")
        assert res["rpc start"][0] == 21
    if case == "not-executable":
        assert res["spawnerr"] == "command at '<TMP>/noexec.sh' is not executable"
    if case == "directory":
        assert res["spawnerr"] == "command at '<TMP>' is a directory"
    assert res["events"] == [
        "INFO supervisord started with pid N",
        "INFO spawnerr: " + res["spawnerr"],
        "INFO spawnerr: " + res["spawnerr"],
        "INFO gave up: broken entered FATAL state, too many start retries too quickly",
    ]


def scenario_user(d):
    nobody = pwd.getpwnam("nobody")
    # the program runs as nobody: it needs a dir it can traverse and write
    os.chmod(d.tmp, 0o755)
    pub = d.tmp / "pub"
    pub.mkdir()
    pub.chmod(0o777)
    d.start("""
        [program:asuser]
        command=/bin/sh -c 'id -u > @TMP@/pub/uid.tmp; id -g >> @TMP@/pub/uid.tmp; mv @TMP@/pub/uid.tmp @TMP@/pub/uid; echo "$HOME $USER $LOGNAME" > @TMP@/pub/home; exec sleep 1000'
        user=nobody
        startsecs=0
        """)
    d.wait_state("asuser", "RUNNING")
    wait_until((pub / "uid").exists, daemon=d, what="uid file")
    uid, gid = (int(x) for x in (pub / "uid").read_text().split())
    wait_until(lambda: (pub / "home").exists() and (pub / "home").read_text(), daemon=d)
    return {"uid is nobody": uid == nobody.pw_uid, "gid is nobody's": gid == nobody.pw_gid,
            "HOME USER LOGNAME": (pub / "home").read_text().strip()}


def test_user(daemon, oracle):
    if os.getuid() != 0:
        pytest.skip("user= needs the tests to run as root")
    try:
        pwd.getpwnam("nobody")
    except KeyError:
        pytest.skip("no user 'nobody' on this machine")
    res = compare(daemon, oracle, scenario_user)
    assert res["uid is nobody"] and res["gid is nobody's"]


def scenario_orphan(d):
    d.start("""
        [program:forker]
        command=%s --grandchild @TMP@/grandchild.pid
        startsecs=0
        """ % PROG)
    d.wait_state("forker", "RUNNING")
    gpid = int(wait_until(lambda: (d.tmp / "grandchild.pid").exists() and (d.tmp / "grandchild.pid").read_text(),
                          daemon=d, what="grandchild pid"))
    from conftest import pid_alive
    wait_until(lambda: not pid_alive(gpid), daemon=d, what="grandchild to exit")
    # the forker itself is unaffected
    return {"state": d.state("forker"), "reaped lines": [e for e in d.events() if "reaped" in e]}


def test_orphan_not_pid1(daemon, oracle):
    """Not PID 1: the double-forked grandchild is re-parented to init, not to the
    daemon, so neither daemon logs `reaped unknown pid` and the parent stays RUNNING.
    (Reaping as PID 1 is tested in a pid namespace by the container tests.)"""
    res = compare(daemon, oracle, scenario_orphan)
    assert res == {"state": "RUNNING", "reaped lines": []}
