"""ready_check and health_check (beyond the reference): readiness forms, ready_timeout, and
graceful restarts of unhealthy programs.

- `notify`: the child gets NOTIFY_SOCKET, stays STARTING until it sends READY=1, and once it
  stops sending WATCHDOG=1 (health_interval as the period) it is restarted, cause `health`.
- `http://`: a server that answers 200 three times, then 500: /healthz names the failing
  check while it fails, then the program is restarted with the answer in the log, counted in
  /metrics with cause="health".
- `exec:`: STARTING until the command exits 0; one that never passes is a failed start after
  ready_timeout (BACKOFF, then FATAL).
- `log:`: ready when a line of the output matches.
The reference ignores these keys (test_dependencies.py starts such a config under it).
"""


from conftest import CHILDREN, kernel_port, wait_until
from lib.rpc import unix_get

SVC = "@PYTHON@ %s" % (CHILDREN / "svc.py")


def health_restarts(d, program):
    _, body = unix_get(d, "/metrics")
    for line in body.splitlines():
        if (line.startswith("supervisord_process_restarts")
                and 'program="%s"' % program in line and 'cause="health"' in line):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError("no health restarts of %s in /metrics:\n%s" % (program, body))


def test_notify_ready_then_watchdog_stops(make_daemon):
    d = make_daemon("ours")
    d.start("""
    [program:nt]
    command=%s notify 3
    ready_check=notify
    health_check=notify
    health_interval=1
    health_retries=2
    startsecs=0
    """ % SVC)
    d.wait_log("ready: nt passed its ready_check (READY=1)")
    d.wait_log("success: nt entered RUNNING state, its ready_check notify passed")
    d.wait_log("failed 2 checks in a row (last: no WATCHDOG=1 within 1 seconds): restarting")
    wait_until(lambda: health_restarts(d, "nt") >= 1, daemon=d, what="a health restart")
    d.wait_log("ready: nt passed its ready_check (READY=1)", count=2)
    # the socket of a process that ended is gone; at most the live child's remains
    wait_until(lambda: len(list(d.tmp.glob("notify-*.sock"))) <= 1, daemon=d,
               what="old notify sockets removed")


def test_http_health_failing_restarts_with_cause_health(make_daemon):
    for _ in range(10):
        d = make_daemon("ours")
        port = kernel_port()
        d.start("""
        [program:web]
        command=%s http %d 3
        ready_check=log:^listening on
        health_check=http://127.0.0.1:%d/health
        health_interval=1
        health_retries=2
        startsecs=0
        """ % (SVC, port, port))
        wait_until(lambda: "listening on" in d.log_text() or "bind failed" in d.log_text(),
                   daemon=d, what="web to bind")
        if "bind failed" not in d.log_text():
            break
        d.stop()
    d.wait_log("success: web entered RUNNING state, its ready_check log:^listening on passed")
    failing = "web: RUNNING, health_check http://127.0.0.1:%d/health failing (HTTP 500)" % port

    def unhealthy():
        status, body = unix_get(d, "/healthz")
        return status == 503 and failing in body
    wait_until(unhealthy, daemon=d, what="/healthz to name the failing check")
    wait_until(lambda: health_restarts(d, "web") >= 1, daemon=d, what="a health restart")
    d.wait_log("web (pid ")
    d.wait_log("failed 2 checks in a row (last: HTTP 500): restarting")
    d.wait_state("web", "RUNNING")


def test_exec_ready_check_and_ready_timeout(make_daemon):
    d = make_daemon("ours")
    d.start("""
    [program:gated]
    command=sleep 1000
    ready_check=exec:test -e @TMP@/ready
    ready_interval=1
    startsecs=0

    [program:never]
    command=sleep 1000
    ready_check=exec:false
    ready_timeout=1
    startretries=1
    startsecs=0
    """)
    info = d.info("gated")
    assert info["statename"] == "STARTING"
    assert info["description"].startswith("waiting for ready_check exec:test -e "), info
    (d.tmp / "ready").touch()
    d.wait_state("gated", "RUNNING")
    d.wait_log("ready: gated passed its ready_check (exit status 0)")
    info = d.wait_state("never", "FATAL")
    assert info["description"] == "not ready within 1 seconds (ready_timeout)"
    text = d.log_text()
    assert "not ready: never did not pass its ready_check within 1 seconds (ready_timeout)" in text
    assert "reaped unknown pid" not in text
