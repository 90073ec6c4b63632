"""Harness for the compatibility tests: our daemon against the reference.

Every daemon test takes the parametrized ``daemon`` fixture (params ``ours``
and ``ref``).  The fixture hands over an unstarted :class:`Daemon`; the test
calls ``daemon.start(programs)`` with the program sections of its config and
then talks to it through the stock ``supervisorctl`` (``daemon.ctl(...)``) and
``xmlrpc.client`` (``daemon.rpc``).

Differential tests also take ``oracle``: a second, unstarted reference daemon
in its own temp dir.  ``compare(daemon, oracle, conf, scenario)`` runs the same
scenario on both and asserts the normalised results are equal.  Under the
``ref`` param this runs the reference twice, which checks that the scenario
and its normalisation are deterministic.

Environment:
  SUPERVISORD_BIN        our binary (default: <repo>/target/release/supervisord).
                         When it does not exist, ``ours`` tests FAIL.
  REFERENCE_SUPERVISORD  the reference daemon (default: the venv's supervisord).
  SUPERVISORCTL          the stock client (default: the venv's supervisorctl).
  SUPERVISORCTL_RS       our client (default: <repo>/target/release/supervisorctl).

Tests marked ``ctl_clients`` run once with each client (param ``client``:
``stock`` / ``ours``).  With ``ours``, ``daemon`` is driven through our client
and ``oracle`` is a daemon of the same kind driven through the stock one, so
``compare`` checks our client against the stock client on the same daemon.

All waits are deadline-based polls: a timeout only turns a hang into a
failure, no test asserts on elapsed time.

The harness itself is in lib/ (harness.py: Daemon, compare, waits; normalise.py; ports.py;
fragments.py: config sections); the programs the tests run are in children/.
"""

import shutil
import sys
import tempfile
from pathlib import Path

import pytest

# The one place that sets the import path: compat-tests/ itself, so that `lib.*` (the harness,
# rpc helpers, streaming clients, config fragments) imports the same way from every test
# module. No test module touches sys.path.
HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

# What the tests import from here: the harness and the config fragments (lib's other modules,
# rpc, inet, output and streaming, are imported as lib.<module>).
from lib.fragments import (  # noqa: E402
    RPCINTERFACE, base, echo, group, inet_http_server, program, section, sections, sleeper,
    supervisorctl, supervisord, unix_http_server)
from lib.harness import (  # noqa: E402
    BIN_DIR, CHILDREN, CTL, CTL_TIMEOUT, OUR_CTL, OURS, PYTHON, REF, REPO, START_TIMEOUT,
    STARTUP_LOG, STOP_TIMEOUT, TAG_VAR, WAIT_TIMEOUT, Daemon, call, compare, diff, pid_alive,
    proc_comm, proc_ppid, wait_until)
from lib.normalise import (  # noqa: E402
    MAINLOG_KEEP, _LOG_PREFIX, _sort_runs, error_line, mainlog_events, mask_error_lines,
    normalise, normalise_ctime, same_output)
from lib.ports import PORT_TAKEN, holds_listener, kernel_port, start_on_free_port  # noqa: E402

__all__ = [
    "BIN_DIR", "CHILDREN", "CTL", "CTL_TIMEOUT", "HERE", "OUR_CTL", "OURS", "PYTHON", "REF", "REPO",
    "START_TIMEOUT", "STARTUP_LOG", "STOP_TIMEOUT", "TAG_VAR", "WAIT_TIMEOUT", "Daemon", "call",
    "compare", "diff", "pid_alive", "proc_comm", "proc_ppid", "wait_until", "MAINLOG_KEEP",
    "_LOG_PREFIX", "_sort_runs", "error_line", "mainlog_events", "mask_error_lines", "normalise",
    "normalise_ctime", "same_output", "PORT_TAKEN",
    "holds_listener", "kernel_port", "start_on_free_port", "RPCINTERFACE", "base", "echo",
    "group", "inet_http_server", "program", "section", "sections", "sleeper", "supervisorctl",
    "supervisord", "unix_http_server",
]


# ---------------------------------------------------------------- fixtures

@pytest.fixture
def make_daemon(request):
    """Factory: make_daemon(kind) → an unstarted Daemon in a fresh temp dir."""
    made = []

    def make(kind):
        # short paths: unix socket paths are limited to ~108 bytes
        tmp = tempfile.mkdtemp(prefix="sv-%s-" % kind)
        d = Daemon(kind, tmp)
        made.append(d)
        return d

    request.node._daemons = made
    yield make
    for d in made:
        d.stop()
    if not request.session.config.getoption("--keep-tmp"):
        for d in made:
            shutil.rmtree(d.tmp, ignore_errors=True)


@pytest.fixture
def client(request):
    """Which supervisorctl drives ``daemon``: "stock", or "ours" in ``ctl_clients`` tests."""
    return getattr(request, "param", "stock")


def pytest_generate_tests(metafunc):
    if "client" in metafunc.fixturenames and metafunc.definition.get_closest_marker("ctl_clients"):
        metafunc.parametrize("client", ["stock", "ours"], indirect=True)


@pytest.fixture(params=["ours", "ref"])
def daemon(request, make_daemon, client):
    """The daemon under test: ours or the reference (unstarted), driven through ``client``."""
    d = make_daemon(request.param)
    d.client = client
    return d


@pytest.fixture
def oracle(make_daemon, daemon, client):
    """A second daemon (unstarted), for differential comparison: the reference, driven
    through the stock client; with our client under test, a daemon of the same kind as
    ``daemon`` driven through the stock client."""
    return make_daemon(daemon.kind if client == "ours" else "ref")


def pytest_addoption(parser):
    parser.addoption("--keep-tmp", action="store_true",
                     help="keep the daemons' temp dirs for inspection")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """On failure, attach each daemon's stderr and main log to the report."""
    outcome = yield
    report = outcome.get_result()
    if report.failed:
        for d in getattr(item, "_daemons", []):
            if d.proc is not None or d.stderr_path.exists():
                report.sections.append(("daemon %s (%s)" % (d.kind, d.tmp), d.diagnostics()))


def pytest_terminal_summary(terminalreporter):
    """The container tests' SIGTERM-to-exit times, printed side by side (not asserted)."""
    cns = sys.modules.get("container_ns")
    times = getattr(cns, "SIGTERM_TIMES", None)
    if not times:
        return
    terminalreporter.section("container: SIGTERM to PID 1 -> exit (not asserted)")
    for kind in ("ref", "ours"):
        if kind in times:
            terminalreporter.write_line("%-5s %.3f s" % (kind, times[kind]))
