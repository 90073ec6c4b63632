"""Restart policy beyond the reference (issue 8): ``restart_delay``, ``backoff_max``,
``startretries=-1`` and ``[supervisord] exit_on_fatal``.

Each feature is shown on our daemon; the same config file is started with the
reference to show it still accepts it (it ignores the keys it does not know).
No test asserts on elapsed time: states are observed through the API and the
main log, with deadlines only turning hangs into failures.
"""

from conftest import wait_until

# A program that fails at once, forever (exit before startsecs: BACKOFF).
CRASH_LOOP = """
    [program:crashy]
    command=sh -c "exit 1"
    startsecs=1
    startretries=-1
    backoff_max=1
    """

# A program that runs past startsecs, then exits unexpectedly; restarted after a delay.
DELAYED = """
    [program:delayed]
    command=sh -c "sleep 1.2; exit 3"
    startsecs=1
    autorestart=true
    restart_delay=4
    """

FATAL = """
    [program:steady]
    command=sleep 1000
    startsecs=0

    [program:broken]
    command=/nonexistent/command
    startretries=1
    """


def test_reference_accepts_the_new_keys(make_daemon):
    ref = make_daemon("ref")
    ref.start(CRASH_LOOP + DELAYED + FATAL, supervisord_extra="exit_on_fatal=true\n")
    names = sorted(p["name"] for p in ref.rpc.supervisor.getAllProcessInfo())
    assert names == ["broken", "crashy", "delayed", "steady"]


def test_startretries_forever_with_backoff_max(make_daemon):
    d = make_daemon("ours")
    d.start(CRASH_LOOP)
    # The reference would give up after one failure (startretries=-1 < 1); ours keeps trying:
    # six spawns, and the process is still not FATAL.
    d.wait_log("spawned: 'crashy'", count=6)
    assert d.state("crashy") in ("BACKOFF", "STARTING")
    assert "gave up: crashy" not in d.log_text()
    info = [c for c in d.rpc.supervisor.getAllConfigInfo() if c["name"] == "crashy"][0]
    assert info["startretries"] == -1


def test_restart_delay_keeps_the_process_exited_for_a_while(make_daemon):
    d = make_daemon("ours")
    d.start(DELAYED)
    d.wait_state("delayed", "RUNNING")
    first = d.info("delayed")["pid"]
    # Without a delay the reference respawns at its next tick; with restart_delay=4 the
    # process is seen EXITED (unexpected exit status 3) before it is started again.
    d.wait_state("delayed", "EXITED")
    assert d.info("delayed")["exitstatus"] == 3
    d.wait_state("delayed", "RUNNING", timeout=30)
    assert d.info("delayed")["pid"] != first


def test_exit_on_fatal_stops_everything_and_exits_non_zero(make_daemon):
    d = make_daemon("ours")
    d.start(FATAL, supervisord_extra="exit_on_fatal=true\n")
    rc = d.wait_exit()
    assert rc != 0
    log = d.log_text()
    assert "gave up: broken entered FATAL state" in log
    assert "stopped: steady" in log
    assert "exit_on_fatal" in log


def test_without_exit_on_fatal_the_daemon_stays(make_daemon):
    d = make_daemon("ours")
    d.start(FATAL)
    d.wait_state("broken", "FATAL")
    assert d.state("steady") == "RUNNING"
    d.check_alive()


# A program whose process tree grows by 8 MiB every 0.2 s; limit 60 MB, checked every second.
LEAKY = """
    [program:leaky]
    command=@PYTHON@ @CHILDREN@/leak.py 8 0.2
    startsecs=0
    stopwaitsecs=5
    memory_limit=60MB
    """


def test_reference_accepts_memory_limit(make_daemon):
    ref = make_daemon("ref")
    ref.start(LEAKY, supervisord_extra="memory_check_interval=1\n")
    ref.wait_state("leaky", "RUNNING")


def test_memory_limit_restarts_the_process_gracefully(make_daemon):
    d = make_daemon("ours")
    d.start(LEAKY, supervisord_extra="memory_check_interval=1\n")
    first = d.wait_state("leaky", "RUNNING")["pid"]
    d.wait_log("memory_limit: leaky (pid %d) uses" % first)
    # the graceful restart: stopped by its stopsignal, then spawned again
    d.wait_log("stopped: leaky (terminated by SIGTERM)")
    info = d.wait_state("leaky", "RUNNING")
    wait_until(lambda: d.info("leaky")["pid"] not in (0, first), what="a new pid")
    line = [l for l in d.log_text().splitlines() if "memory_limit: leaky" in l][0]
    assert "over its limit of 60.0MiB: restarting" in line
    stats = d.rpc.supervisord_rs.getProcessStats("leaky")
    assert stats["memory_restarts"] >= 1
    assert stats["memory_limit_kb"] == 60 * 1024
    # the stock client's view is unchanged: no extra method is listed
    assert not any(m.startswith("supervisord_rs.") for m in d.rpc.system.listMethods())
    assert info["statename"] == "RUNNING"
