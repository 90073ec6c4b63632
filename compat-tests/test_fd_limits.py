"""RLIMIT_NOFILE against the descriptors the processes need (beyond the reference).

Each running process costs the daemon up to three pipe ends and two log files (a stream
nothing keeps goes to /dev/null in ours and costs none). The reference
raises the soft limit to `minfds` (1024) only, so 300 programs with their `AUTO` logs (about
1 500 descriptors) fail halfway through its start-up with `too many open files to spawn`.
Ours weighs them first: it raises the soft limit to what they need (within the hard limit)
and starts them all; when not even the hard limit holds the programs that start on their
own, it refuses to start, with a message naming the limit, and spawns nothing.

The limits are set on the daemon alone (prlimit); the refusal runs without CAP_SYS_RESOURCE
(setpriv), as an unprivileged daemon would, since root may raise its hard limit.
"""

import os
import shutil

import pytest

from conftest import wait_until

N = 300
PROGRAMS = "".join("""
    [program:p%03d]
    command=sleep 1000
    startsecs=0
    """ % i for i in range(N))


def limited(d, nofile, drop_resource_cap=False):
    """Run daemon ``d`` under RLIMIT_NOFILE ``nofile`` ("soft:hard")."""
    for tool in ("prlimit", "setpriv"):
        if not shutil.which(tool):
            pytest.skip("%s (util-linux) not installed" % tool)
    command = d.command
    prefix = ["prlimit", "--nofile=" + nofile]
    if drop_resource_cap:
        prefix += ["setpriv", "--bounding-set=-sys_resource", "--inh-caps=-sys_resource"]
    d.command = lambda conf=None: prefix + command(conf)
    return d


def soft_nofile(pid):
    with open("/proc/%d/limits" % pid) as f:
        line = next(l for l in f if l.startswith("Max open files"))
    return int(line.split()[3])


@pytest.mark.parametrize("kind", ["ref", "ours"])
def test_the_soft_limit_is_raised_to_what_the_programs_need(make_daemon, kind):
    d = limited(make_daemon(kind), "256:4096")
    d.start(PROGRAMS)
    if kind == "ref":
        # The reference stops at minfds and runs out of descriptors mid-start.
        d.wait_log("too many open files to spawn")
        assert soft_nofile(d.proc.pid) == 1024
        # Short of descriptors, it does not stop within the harness's minute either.
        d.signalled = True
        d.proc.kill()
        d.proc.wait()
        return
    need = 20 + 48 + 5 * N
    assert "INFO Increased RLIMIT_NOFILE limit to %d (%d processes need about %d file " \
           "descriptors)" % (need, N, need) in d.log_text()
    assert soft_nofile(d.proc.pid) == need
    wait_until(lambda: all(p["statename"] == "RUNNING"
                           for p in d.rpc.supervisor.getAllProcessInfo()),
               daemon=d, what="all %d programs RUNNING" % N)
    assert "too many open files" not in d.log_text()


def test_a_hard_limit_too_low_for_the_autostart_programs_refuses_to_start(make_daemon):
    d = limited(make_daemon("ours"), "256:1024", drop_resource_cap=True)
    d.write_config(PROGRAMS)
    rc, out, err = d.run_to_exit()
    assert rc == 2
    assert err == (
        "Error: the %d processes that start on their own need about %d file descriptors "
        "(3 pipe ends and up to 2 log files each, and 20 for the daemon), but RLIMIT_NOFILE "
        "allows 1024 (hard limit 1024). Raise the limit (ulimit -n as root, LimitNOFILE= in "
        "a systemd unit, docker run --ulimit nofile=N:N), or start fewer processes "
        "(autostart=false, numprocs).\n" % (N, 20 + 5 * N))
    assert "spawned" not in d.log_text() + out


def test_programs_that_do_not_start_on_their_own_only_warn(make_daemon):
    d = limited(make_daemon("ours"), "256:1024", drop_resource_cap=True)
    d.start(PROGRAMS.replace("startsecs=0", "startsecs=0\n    autostart=false"))
    assert ("WARN all %d processes would need about %d file descriptors but RLIMIT_NOFILE "
            "allows 1024: starting every one would fail with 'too many open files'"
            % (N, 20 + 48 + 5 * N)) in d.log_text()
    assert soft_nofile(d.proc.pid) == 1024


DISCARDED = "".join("""
    [program:q%03d]
    command=sh -c 'head -c 1000000 /dev/zero; touch @TMP@/q%03d.done; exec sleep 1000'
    startsecs=0
    stdout_logfile=NONE
    redirect_stderr=true
    """ % (i, i) for i in range(N))


@pytest.mark.parametrize("kind", ["ref", "ours"])
def test_output_nothing_keeps_costs_no_pipe(make_daemon, kind):
    """`stdout_logfile=NONE` with `redirect_stderr`: the reference reads the pipe and drops
    the bytes; ours gives the child /dev/null, so a program costs one descriptor (stdin) and
    300 of them start under a 1024 limit with room to spare. Either way the child's 1 MB of
    output goes nowhere and does not hold it up."""
    d = limited(make_daemon(kind), "1024:1024", drop_resource_cap=True)
    d.start(DISCARDED)
    wait_until(lambda: all(p["statename"] == "RUNNING"
                           for p in d.rpc.supervisor.getAllProcessInfo()),
               daemon=d, what="all %d programs RUNNING" % N)
    wait_until(lambda: all(os.path.exists(os.path.join(d.tmp, "q%03d.done" % i))
                           for i in range(N)),
               daemon=d, what="every program past its output")
    held = len(os.listdir("/proc/%d/fd" % d.proc.pid))
    child = d.rpc.supervisor.getProcessInfo("q000")["pid"]
    out = os.readlink("/proc/%d/fd/1" % child)
    if kind == "ref":
        assert out.startswith("pipe:")
        assert held > 2 * N  # stdin and stdout
    else:
        assert out == "/dev/null"
        assert os.readlink("/proc/%d/fd/2" % child) == "/dev/null"
        assert N < held < N + 48
    assert "too many open files" not in d.log_text()
