"""The web status page, driven in a real headless Chromium (Debian's ``chromium``,
through the ``playwright`` Python package with ``executable_path``; no browser is
downloaded).

The browser loads the page on the inet port with basic auth, reads the table,
clicks the actions (Stop, Start, Restart, Clear Log, Restart All, Stop All,
Refresh), follows a "Tail -f" link and opens the tail page; each effect is
checked through ``xmlrpc.client``.  What the browser saw (rows, action links,
messages) is compared between our daemon and the reference.  A screenshot of the
status page is kept at ``<daemon tmp>/status.png`` (see ``--keep-tmp``).

Skipped, saying why, when Chromium or playwright is missing.
"""

import shutil
import tempfile

import pytest

from conftest import compare, normalise_ctime, start_on_free_port, wait_until
from lib.browser import launch, sync_playwright_or_skip
from lib.fragments import echo, group, inet_http_server, sections, sleeper

USER, PASSWORD = "webuser", "webpass"

PROGRAMS = sections(
    echo(), sleeper("idle", autostart=False), group("grp", ["ga"]), sleeper("ga"))


@pytest.fixture(scope="module")
def sync_playwright():
    return sync_playwright_or_skip()


class Browser:
    """One headless Chromium with a fresh profile, logged in to one daemon."""

    def __init__(self, sync_playwright, base):
        self.base = base
        self.profile = tempfile.mkdtemp(prefix="chromium-profile-")
        self.pw = sync_playwright().start()
        self.context, self.page = launch(self.pw, self.profile, USER, PASSWORD,
                                         {"width": 1200, "height": 700})

    def close(self):
        try:
            self.context.close()
        finally:
            self.pw.stop()
            shutil.rmtree(self.profile, ignore_errors=True)

    def goto(self, path):
        return self.page.goto(self.base + path)

    def rows(self):
        """[(name, status text, description, [visible action names])] of the table."""
        out = []
        for tr in self.page.locator("table tbody tr").all():
            tds = tr.locator("td")
            actions = [a.inner_text().strip() for a in tds.nth(3).locator("a").all() if a.is_visible()]
            out.append((tds.nth(2).inner_text().strip(), tds.nth(0).inner_text().strip().lower(),
                        tds.nth(1).inner_text().strip(), actions))
        return out

    def click_action(self, name, action):
        """Click the link ``action`` in the row of process ``name``; wait for the new page."""
        row = self.page.locator("table tbody tr").filter(
            has=self.page.get_by_role("link", name=name, exact=True))
        with self.page.expect_navigation():
            row.get_by_role("link", name=action, exact=True).click()
        return self.message()

    def click_button(self, label):
        with self.page.expect_navigation():
            self.page.locator("#buttons").get_by_role("link", name=label, exact=True).click()
        return self.message()

    def message(self):
        msg = self.page.locator(".status_msg")
        return msg.inner_text().strip() if msg.count() else None


def start(d):
    port = start_on_free_port(d, lambda port: d.config_text(
        sections(inet_http_server(port, username=USER, password=PASSWORD), PROGRAMS)))
    d.wait_state("echo", "RUNNING")
    d.wait_state("grp:ga", "RUNNING")
    wait_until(lambda: "ready" in d.rpc.supervisor.readProcessStdoutLog("echo", 0, 0), daemon=d)
    return "http://127.0.0.1:%d" % port


def norm(d, text):
    return normalise_ctime(d.norm(text))


def web_scenario(d, sync_playwright):
    base = start(d)
    b = Browser(sync_playwright, base)
    seen = {}
    try:
        resp = b.goto("/")
        seen["load"] = (resp.status, b.page.title(), b.message())
        seen["rows"] = [(n, s, norm(d, desc), acts) for n, s, desc, acts in b.rows()]
        b.page.screenshot(path=str(d.tmp / "status.png"), full_page=True)

        seen["stop"] = b.click_action("grp:ga", "Stop")
        assert d.state("grp:ga") == "STOPPED"
        seen["after stop"] = [(n, s, acts) for n, s, _, acts in b.rows()]

        seen["start"] = b.click_action("grp:ga", "Start")
        assert d.state("grp:ga") == "RUNNING"

        pid = d.info("grp:ga")["pid"]
        seen["restart"] = b.click_action("grp:ga", "Restart")
        info = d.info("grp:ga")
        assert info["statename"] == "RUNNING" and info["pid"] != pid

        seen["start idle"] = b.click_action("idle", "Start")
        assert d.state("idle") == "RUNNING"

        seen["clearlog"] = b.click_action("echo", "Clear Log")
        assert d.rpc.supervisor.readProcessStdoutLog("echo", 0, 0) == ""

        seen["refresh"] = norm(d, b.click_button("Refresh"))

        seen["restartall"] = norm(d, b.click_button("Restart All"))
        for name in ("echo", "idle", "grp:ga"):
            assert d.state(name) == "RUNNING"

        seen["stopall"] = norm(d, b.click_button("Stop All"))
        for name in ("echo", "idle", "grp:ga"):
            assert d.state(name) == "STOPPED"
        seen["after stopall"] = [(n, s, acts) for n, s, _, acts in b.rows()]

        # An action on a process that is not running, and on an unknown one.
        b.goto("/index.html?processname=idle&action=stop")
        seen["stop stopped"] = b.message()
        b.goto("/index.html?processname=nosuch&action=start")
        seen["start unknown"] = b.message()

        # Tail -f from the page: a new tab follows the log as it grows.
        b.click_action("echo", "Start")
        d.wait_state("echo", "RUNNING")
        row = b.page.locator("table tbody tr").filter(
            has=b.page.get_by_role("link", name="echo", exact=True))
        link = row.get_by_role("link", name="Tail -f Stdout", exact=True)
        seen["tail -f link"] = (link.get_attribute("href"), link.get_attribute("target"))
        # (opened in a page of its own, as its target=_blank would). Chromium shows a
        # text/plain reply once it has 1024 bytes to sniff (neither daemon sends nosniff):
        # make the log longer than that first.
        d.rpc.supervisor.sendProcessStdin("echo", "x" * 1100 + "\n")
        wait_until(lambda: "x" * 1100 in d.rpc.supervisor.readProcessStdoutLog("echo", 0, 0), daemon=d)
        tail = b.context.new_page()
        tail.goto(b.base + "/" + link.get_attribute("href"), wait_until="commit")
        tail.wait_for_function("document.body && document.body.innerText.includes('xxxxx')")
        d.rpc.supervisor.sendProcessStdin("echo", "from the browser\n")
        tail.wait_for_function(
            "document.body.innerText.includes('out: from the browser')")
        seen["tail -f"] = tail.evaluate("document.body.innerText")
        tail.close()

        # The tail page.
        b.goto("/tail.html?processname=echo")
        seen["tail page"] = (b.page.title(), b.page.locator("pre").inner_text())
        b.goto("/tail.html?processname=nosuch")
        seen["tail unknown"] = b.page.locator("pre").inner_text()
    finally:
        b.close()
    return seen


def test_status_page_in_chromium(daemon, oracle, sync_playwright):
    seen = compare(daemon, oracle, web_scenario, sync_playwright)
    assert seen["load"] == (200, "Supervisor Status", None)
    assert seen["rows"] == [
        ("echo", "running", "pid N, uptime T",
         ["Restart", "Stop", "Clear Log", "Tail -f Stdout", "Tail -f Stderr"]),
        ("grp:ga", "running", "pid N, uptime T",
         ["Restart", "Stop", "Clear Log", "Tail -f Stdout", "Tail -f Stderr"]),
        ("idle", "stopped", "Not started",
         ["Start", "Clear Log", "Tail -f Stdout", "Tail -f Stderr"]),
    ]
    assert seen["stop"] == "Process grp:ga stopped"
    assert seen["start"] == "Process grp:ga started"
    assert seen["restart"] == "Process grp:ga restarted"
    assert seen["clearlog"] == "Log for echo cleared"
    assert seen["refresh"] == "Page refreshed at CTIME"
    assert seen["restartall"] == "All restarted at CTIME"
    assert seen["stopall"] == "All stopped at CTIME"
    assert seen["stop stopped"] == "unexpected rpc fault [70] NOT_RUNNING: idle"
    assert seen["start unknown"] == "No such process named nosuch"
    assert seen["tail -f link"] == ("logtail/echo", "_blank")
    assert seen["tail -f"].rstrip("\n").endswith("x\nout: from the browser")
    assert seen["tail page"][0] == "Supervisor tail of process echo"
    assert seen["tail unknown"] == "ERROR: unexpected rpc fault [10] BAD_NAME: nosuch"


def test_page_needs_auth_and_serves_its_files(daemon):
    """Without credentials the page is refused; with them the stylesheet and icon load."""
    import base64
    import http.client
    base = start(daemon)
    port = int(base.rsplit(":", 1)[1])

    def get(path, auth=True, method="GET"):
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        headers = {}
        if auth:
            headers["Authorization"] = "Basic " + base64.b64encode(
                ("%s:%s" % (USER, PASSWORD)).encode()).decode()
        c.request(method, path, headers=headers)
        r = c.getresponse()
        body = r.read()
        c.close()
        return r.status, r.getheader("Content-Type"), r.getheader("Location"), body

    assert get("/", auth=False)[0] == 401
    status, ctype, _, body = get("/")
    assert (status, ctype) == (200, "text/html;charset=utf-8")
    assert b"stylesheets/supervisor.css" in body
    assert get("/stylesheets/supervisor.css")[:2] == (200, "text/css")
    assert get("/images/icon.png")[:2] == (200, "image/png")
    assert get("/images/nosuch.png")[0] == 404
    assert get("/ok.html")[::3] == (200, b"OK")
    status, _, location, _ = get("/index.html?action=refresh")
    assert status == 301
    assert location.startswith("http://127.0.0.1:%d/?message=Page%%20refreshed%%20at%%20" % port)
    assert get("/index.html?action=bogus")[0] == 500
    assert get("/index.html?processname=echo&action=bogus")[0] == 500
    assert get("/index.html", method="PUT")[0] == 400
