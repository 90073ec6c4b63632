"""The harness's own normalisers, checked on every form their inputs take, so that no test
depends on the day of the month (time.ctime() pads days 1-9 with a space, and a browser's
innerText collapses it) or on other volatile values; and the config fragments the tests
start daemons with."""

import socket

import pytest

from conftest import normalise, normalise_ctime
from lib.fragments import group, program, sections, sleeper


@pytest.mark.parametrize("date", [
    "Sun Dec  6 05:26:59 2026",   # time.ctime(), days 1-9
    "Sun Dec 6 05:26:59 2026",    # the same, as a browser's innerText shows it
    "Wed Dec 16 05:26:59 2026",   # days 10-31
    "Thu Jan  1 00:00:00 1970",
])
def test_ctime_any_day(date):
    assert normalise_ctime("started %s by x" % date) == "started CTIME by x"


@pytest.mark.parametrize("desc", ["Dec 06 05:26 AM", "Dec 16 11:59 PM"])
def test_status_date_any_day(desc):
    assert normalise("Not started %s" % desc) == "Not started DATE"


def test_uptime_and_pids():
    assert normalise("pid 123, uptime 0:00:05") == "pid N, uptime T"
    assert normalise("pid 9, uptime 2 days, 1:02:03") == "pid N, uptime T"


def test_fragments_write_options_in_order_and_leave_out_none():
    assert sleeper("a", autostart=False, stopwaitsecs=None) == (
        "[program:a]\ncommand=sleep 1000\nstartsecs=0\nautostart=false\n")
    assert group("g", ["x", "y"], priority=5) == "[group:g]\nprograms=x,y\npriority=5\n"


def test_sections_dedent_each_part_so_no_line_continues_another():
    """A fragment beside an indented literal: dedenting the whole text at once would leave
    the literal's lines indented, which the INI dialect reads as continuation lines."""
    text = sections(program("a", "true"), """
        [program:b]
        command=false
        """)
    assert text == "[program:a]\ncommand=true\n\n[program:b]\ncommand=false\n"


def test_start_on_free_port_moves_on_when_the_port_is_taken(daemon):
    """The port the kernel suggests may be taken before the daemon binds it: the daemon
    reports it (each in its own words) and the harness tries another port."""
    from conftest import kernel_port, start_on_free_port
    squatter = socket.socket()
    squatter.bind(("127.0.0.1", 0))
    squatter.listen(1)
    taken = squatter.getsockname()[1]
    suggestions = iter([taken])
    try:
        port = start_on_free_port(
            daemon,
            lambda port: daemon.config_text("[inet_http_server]\nport=127.0.0.1:%d\n" % port),
            suggest=lambda: next(suggestions, None) or kernel_port())
    finally:
        squatter.close()
    assert port != taken
    assert daemon.rpc.supervisor.getState()["statename"] == "RUNNING"
