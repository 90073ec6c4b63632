"""Fixtures of the container tests (self-contained: nothing here depends on
the rest of compat-tests/). Not a conftest.py: the main tests import names
from `conftest`, and two modules of that name would shadow each other. The
test modules import these fixtures; the SIGTERM summary is printed by the
main conftest's `pytest_terminal_summary`."""

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
