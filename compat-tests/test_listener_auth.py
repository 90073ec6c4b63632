"""An event listener calls back through `supervisor.childutils.getRPCInterface` when the
server has credentials: our daemon gives listeners SUPERVISOR_USERNAME and
SUPERVISOR_PASSWORD (the issue asks for it; the reference sets neither, so its listener's
call is refused with 401)."""

from conftest import CHILDREN, wait_until

LISTENER = CHILDREN / "listeners" / "callback.py"

PROGRAMS = """
    [eventlistener:cb]
    command=@PYTHON@ %s @TMP@/callback.out
    events=PROCESS_STATE_RUNNING

    [program:sleeper]
    command=sleep 1000
    startsecs=1
    """ % LISTENER


def run(d):
    d.write_config(PROGRAMS, auth=("user", "pw"))
    d.spawn()
    out = d.tmp / "callback.out"
    wait_until(lambda: out.exists(), what="the listener's callback", daemon=d)
    return out.read_text()


def test_listener_calls_back_with_credentials(make_daemon):
    assert run(make_daemon("ours")) == "RUNNING"


def test_reference_listener_is_refused_without_credentials(make_daemon):
    assert run(make_daemon("ref")).startswith("error:")
