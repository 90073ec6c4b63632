"""Fixtures of the container tests (self-contained: nothing here depends on
the rest of compat-tests/)."""

import os

import pytest

import container_ns


@pytest.fixture(scope="session")
def tutorial_dir():
    return container_ns.tutorial_dir()


@pytest.fixture(scope="session")
def app_venv(tutorial_dir):
    """The tutorial's Python environment (fastapi, uvicorn, psutil and the
    stock supervisor 4.2.5 for supervisorctl), from the user's
    requirements.txt, cached across sessions."""
    return container_ns.ensure_app_venv(os.path.join(tutorial_dir, "requirements.txt"))


@pytest.fixture(scope="session")
def namespaces_allowed():
    reason = container_ns.unshare_probe()
    if reason:
        pytest.skip("container test needs root and unshare(1) namespaces: " + reason)


def pytest_terminal_summary(terminalreporter):
    if not container_ns.SIGTERM_TIMES:
        return
    terminalreporter.section("container: SIGTERM to PID 1 -> exit (not asserted)")
    for kind in ("ref", "ours"):
        if kind in container_ns.SIGTERM_TIMES:
            terminalreporter.write_line("%-5s %.3f s" % (kind, container_ns.SIGTERM_TIMES[kind]))
