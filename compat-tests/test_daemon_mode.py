"""Daemon mode (`nodaemon=false`, no `-n`): the daemon forks, the parent exits, and the
daemonized process answers, restarts its programs on SIGHUP and exits on SIGTERM.

With a host name in `[inet_http_server] port=` (`localhost:<port>`), ours once resolved it on
a thread of the runtime's blocking pool before the fork: the child's runtime then waited
forever for that thread when dropped, so SIGHUP never restarted the programs and SIGTERM
never ended the daemon. The daemon is not our child here: it is found through its pidfile,
and teardown kills it through the harness's per-daemon environment tag.
"""

import os
import signal
import subprocess
import xmlrpc.client

from conftest import (PORT_TAKEN, START_TIMEOUT, compare, kernel_port, pid_alive, proc_comm,
                      wait_until)
from lib.fragments import base, inet_http_server, sections, sleeper


def config(port):
    """nodaemon=false, and a host name (not an address) in the inet server's port."""
    return sections(base(inet=inet_http_server(port, host="localhost"), nodaemon=False),
                    sleeper("a", stopwaitsecs=5))


def daemon_pid(d):
    """The daemonized process's pid, from its pidfile (once written)."""
    try:
        text = d.pidfile.read_text().strip()
    except FileNotFoundError:
        return None
    return int(text) if text.isdigit() else None


def running_pid(d, old=0):
    """a's pid once it is RUNNING with a pid other than ``old`` and has exec'd `sleep` (a
    signal that reaches a child before its exec is lost; the harness's own wait compares with
    the daemon's name, and the daemon here is not the process it started)."""
    def check():
        info = d.rpc.supervisor.getProcessInfo("a")
        pid = info["pid"]
        if info["statename"] != "RUNNING" or pid in (0, old):
            return None
        try:
            return pid if proc_comm(pid) == "sleep" else None
        except OSError:
            return None
    return wait_until(check, what="a RUNNING with a new pid on %s" % d.kind)


def scenario_daemon_mode(d):
    d.require_binary()
    # Both daemons bind their servers before they fork: when the port the kernel suggested
    # was taken meanwhile, the parent says so and exits, and another port is tried.
    for _ in range(20):
        port = kernel_port()
        d.write_config(raw=config(port))
        # no -n: the config's nodaemon=false rules
        parent = subprocess.Popen([str(d.binary), "-c", str(d.conf)], cwd=str(d.tmp),
                                  env=d.env(), stdin=subprocess.DEVNULL,
                                  stdout=open(d.stdout_path, "wb"),
                                  stderr=open(d.stderr_path, "wb"), start_new_session=True)
        # the harness's teardown then kills whatever carries this daemon's tag
        d.proc, d.signalled = parent, True
        parent_status = parent.wait(START_TIMEOUT)
        if not (parent_status != 0 and any(m in d.stderr_path.read_text() for m in PORT_TAKEN)):
            break
    pid = wait_until(lambda: daemon_pid(d), START_TIMEOUT, what="the %s pidfile" % d.kind)
    d.wait_ready()
    inet = xmlrpc.client.ServerProxy("http://localhost:%d/RPC2" % port)
    first = running_pid(d)
    out = {
        "parent exit status": parent_status,
        "daemonized (not the parent)": pid != parent.pid,
        "getPID over inet": inet.supervisor.getPID() == pid,
    }

    # SIGHUP: the same process restarts and spawns its programs again
    mark = len(d.log_text())
    os.kill(pid, signal.SIGHUP)
    wait_until(lambda: "received SIGHUP" in d.log_text()[mark:], what="SIGHUP logged")
    second = running_pid(d, old=first)
    out["new pid after SIGHUP"] = second != first
    out["old child gone"] = not pid_alive(first)
    out["same daemon after SIGHUP"] = daemon_pid(d) == pid and pid_alive(pid)
    out["getPID over inet after SIGHUP"] = inet.supervisor.getPID() == pid

    # SIGTERM: the daemon stops its programs, removes its pidfile and exits
    os.kill(pid, signal.SIGTERM)
    wait_until(lambda: not pid_alive(pid), what="the %s daemon to exit on SIGTERM" % d.kind)
    out["pidfile removed"] = not d.pidfile.exists()
    out["socket removed"] = not d.sock.exists()
    out["child gone"] = not pid_alive(second)
    out["events"] = d.events(unordered=("stopped:",))
    return out


def test_daemon_mode_with_host_name_restarts_and_exits(daemon, oracle):
    res = compare(daemon, oracle, scenario_daemon_mode)
    assert all(v is True for k, v in res.items() if k not in ("parent exit status", "events")), res
    assert res["parent exit status"] == 0
    assert "WARN received SIGHUP indicating restart request" in res["events"]
    assert "WARN received SIGTERM indicating exit request" in res["events"]
