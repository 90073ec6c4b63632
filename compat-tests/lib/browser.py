"""Real headless browsers for the page tests (test_web.py, test_dashboard.py). No browser is
downloaded: Debian's chromium is driven by playwright, Debian's firefox-esr by puppeteer-core
over WebDriver BiDi (``firefox/bridge.mjs``, a node process: playwright's own Firefox support
needs its patched build, and its BiDi client asks for commands firefox-esr lacks). Each is
skipped, with the reason, where it or its driver is missing.

``browser_page(name, ...)`` gives one page object with the same small surface in both
browsers, so a scenario runs unchanged in each: ``goto``, ``url``, ``evaluate`` (an
expression), ``wait`` (until an expression is truthy), ``click`` (a real click on the element
matching a CSS selector whose text is given), ``screenshot``, ``viewport`` and ``errors``
(uncaught page errors so far).
"""

import contextlib
import json
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
FIREFOX = os.environ.get("FIREFOX") or shutil.which("firefox-esr") or "/usr/bin/firefox-esr"
BRIDGE = Path(__file__).resolve().parent.parent / "firefox" / "bridge.mjs"
BROWSERS = ("chromium", "firefox")


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


class ChromiumPage:
    """The common page surface on a playwright page."""

    def __init__(self, page):
        self.page = page
        self._errors = []
        page.on("pageerror", lambda e: self._errors.append(str(e)))

    def goto(self, url):
        self.page.goto(url)

    def url(self):
        return self.page.url

    def evaluate(self, js):
        return self.page.evaluate(js)

    def wait(self, js, timeout=30):
        self.page.wait_for_function(js, timeout=timeout * 1000, polling=100)

    def click(self, css, text, navigates=False):
        exact = re.compile(r"^\s*%s\s*$" % re.escape(text))
        target = self.page.locator(css, has_text=exact).first
        if navigates:
            with self.page.expect_navigation():
                target.click()
        else:
            target.click()

    def screenshot(self, path):
        self.page.screenshot(path=str(path), full_page=True)

    def viewport(self, width, height):
        self.page.set_viewport_size({"width": width, "height": height})

    def errors(self):
        return list(self._errors)


class FirefoxPage:
    """The common page surface on firefox-esr, through ``firefox/bridge.mjs``."""

    def __init__(self, proc):
        self.proc = proc

    def _call(self, op, **args):
        self.proc.stdin.write(json.dumps(dict(args, op=op)) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise AssertionError("the Firefox bridge ended (exit %s)" % self.proc.wait())
        answer = json.loads(line)
        if not answer["ok"]:
            raise AssertionError("Firefox: %s: %s" % (op, answer["error"]))
        return answer["value"]

    def goto(self, url):
        self._call("goto", url=url)

    def url(self):
        return self._call("url")

    def evaluate(self, js):
        return self._call("evaluate", js=js)

    def wait(self, js, timeout=30):
        self._call("wait", js=js, timeout=timeout * 1000)

    def click(self, css, text, navigates=False):
        self._call("click", css=css, text=text, navigates=navigates)

    def screenshot(self, path):
        self._call("screenshot", path=str(path))

    def viewport(self, width, height):
        self._call("viewport", width=width, height=height)

    def errors(self):
        return self._call("errors")


def _firefox_or_skip():
    if not os.path.exists(FIREFOX):
        pytest.skip("Firefox not installed (apt-get install -y firefox-esr)")
    if not shutil.which("node"):
        pytest.skip("node not installed (the Firefox bridge runs on it)")
    if not (BRIDGE.parent / "node_modules" / "puppeteer-core").is_dir():
        pytest.skip("puppeteer-core not installed (npm ci --prefix compat-tests/firefox)")


@contextlib.contextmanager
def browser_page(name, user, password, width=1280, height=900):
    """A page of ``name`` (one of BROWSERS) logged in with basic auth, closed on exit."""
    if name == "chromium":
        sync_playwright = sync_playwright_or_skip()
        profile = tempfile.mkdtemp(prefix="chromium-profile-")
        pw = sync_playwright().start()
        try:
            ctx, page = launch(pw, profile, user, password, {"width": width, "height": height})
            yield ChromiumPage(page)
            ctx.close()
        finally:
            pw.stop()
            shutil.rmtree(profile, ignore_errors=True)
        return
    _firefox_or_skip()
    proc = subprocess.Popen(
        ["node", str(BRIDGE), FIREFOX, user, password, str(width), str(height)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        yield FirefoxPage(proc)
        proc.stdin.write(json.dumps({"op": "close"}) + "\n")
        proc.stdin.close()
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
