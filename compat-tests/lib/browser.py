"""Headless Chromium for the page tests (test_web.py, test_dashboard.py): where it is, the
flags it needs on a machine with no network, and playwright's entry point (skipping, with
the reason, where either is missing). No browser is downloaded: Debian's chromium is driven.
"""

import os
import shutil

import pytest

CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def sync_playwright_or_skip():
    """playwright's ``sync_playwright``, or a skip saying what is missing."""
    if not os.path.exists(CHROMIUM):
        pytest.skip("Chromium not installed (apt-get install -y chromium)")
    mod = pytest.importorskip("playwright.sync_api", reason="playwright (PyPI) not installed")
    return mod.sync_playwright


def launch(pw, profile, user, password, viewport):
    """A persistent context of Debian's Chromium in ``profile``, logged in with basic auth;
    returns (context, its first page)."""
    ctx = pw.chromium.launch_persistent_context(
        profile, executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS,
        http_credentials={"username": user, "password": password}, viewport=viewport)
    page = ctx.pages[0] if ctx.pages else ctx.new_page()
    page.set_default_timeout(30000)
    return ctx, page
