"""An event listener calls back through `supervisor.childutils.getRPCInterface` when the
server has credentials: our daemon gives listeners SUPERVISOR_USERNAME and
SUPERVISOR_PASSWORD (the issue asks for it; the reference sets neither, so its listener's
call is refused with 401)."""

import textwrap

from conftest import wait_until

CONF = """
    [unix_http_server]
    file=@TMP@/s.sock
    username=user
    password=pw

    [supervisord]
    logfile=@TMP@/supervisord.log
    pidfile=@TMP@/supervisord.pid
    childlogdir=@TMP@
    nodaemon=true

    [rpcinterface:supervisor]
    supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

    [supervisorctl]
    serverurl=unix://@TMP@/s.sock
    username=user
    password=pw

    [eventlistener:cb]
    command=@PYTHON@ @HERE@/listeners/callback.py @TMP@/callback.out
    events=PROCESS_STATE_RUNNING

    [program:sleeper]
    command=sleep 1000
    startsecs=1
    """


def run(d):
    from conftest import HERE
    d.write_config(raw=textwrap.dedent(CONF).replace("@HERE@", str(HERE)))
    d.spawn()
    out = d.tmp / "callback.out"
    wait_until(lambda: out.exists(), what="the listener's callback", daemon=d)
    return out.read_text()


def test_listener_calls_back_with_credentials(make_daemon):
    assert run(make_daemon("ours")) == "RUNNING"


def test_reference_listener_is_refused_without_credentials(make_daemon):
    assert run(make_daemon("ref")).startswith("error:")
