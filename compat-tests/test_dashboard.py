"""The live dashboard at ``/dashboard`` (beyond the reference: our daemon only).

In real headless Chromium and Firefox (one scenario, ``lib/browser.py``'s page in each): the
dashboard loads behind basic auth from the stock page's footer link, shows every
process, takes a state change made over XML-RPC without a reload, runs each action
(start, stop, restart, clear log, a group's start all / stop all) with the stock
page's messages and effects (checked over XML-RPC), and draws the memory of a
leaking program: its points grow, then drop once ``memory_limit`` restarts it
(the points in the page's model, not pixels). A screenshot is kept as a test
artefact at ``target/test-artefacts/dashboard.png`` (``dashboard-firefox.png``; and in the
daemon's temp dir).

Without a browser: the JSON API behind the same auth, with ``getAllProcessInfo``'s
fields and values; foreign-origin actions refused; and a daemon whose last viewer
has gone stops waking up (its main thread's context switches stay still).

Skipped, saying why, when a browser or its driver is missing (the browser tests only).
"""

import base64
import http.client
import json
import time
from pathlib import Path

import pytest

from conftest import REPO, start_on_free_port, wait_until
from lib.browser import BROWSERS, browser_page

ARTEFACTS = REPO / "target" / "test-artefacts"
USER, PASSWORD = "dashuser", "dashpass"

PROGRAMS = """\
[inet_http_server]
port=127.0.0.1:%(port)d
username=%(user)s
password=%(password)s

[supervisord]
logfile=@TMP@/supervisord.log
pidfile=@TMP@/supervisord.pid
childlogdir=@TMP@
nodaemon=true
memory_check_interval=1

[unix_http_server]
file=@TMP@/s.sock

[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

[program:chatty]
command=@PYTHON@ -u @CHILDREN@/chatty.py
startsecs=0

[program:leak]
command=@PYTHON@ -u @CHILDREN@/leak_steps.py 1 0.25
autostart=false
startsecs=0
memory_limit=64MB
stopwaitsecs=5

[group:grp]
programs=ga,gb

[program:ga]
command=sleep 1000
startsecs=0
stopwaitsecs=2

[program:gb]
command=sleep 1000
startsecs=0
stopwaitsecs=2
"""


def start(d):
    """Start our daemon on a free port; return the base URL."""
    port = start_on_free_port(d, lambda port: d.subst(
        PROGRAMS % {"port": port, "user": USER, "password": PASSWORD}))
    for name in ("chatty", "grp:ga", "grp:gb"):
        d.wait_state(name, "RUNNING")
    return port


def get(port, path, auth=True, method="GET", body=None, headers=None):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    h = dict(headers or {})
    if auth:
        h["Authorization"] = "Basic " + base64.b64encode(
            ("%s:%s" % (USER, PASSWORD)).encode()).decode()
    if body is not None:
        h["Content-Type"] = "application/x-www-form-urlencoded"
    c.request(method, path, body=body, headers=h)
    r = c.getresponse()
    data = r.read()
    c.close()
    return r.status, r.getheader("Content-Type"), data


def ctxt_switches(pid):
    """Voluntary context switches of the daemon's main thread (where the actor runs)."""
    text = Path("/proc/%d/task/%d/status" % (pid, pid)).read_text()
    return int(text.split("voluntary_ctxt_switches:")[1].split()[0])


@pytest.fixture
def ours(make_daemon):
    return make_daemon("ours")


def test_api_needs_auth_and_matches_getallprocessinfo(ours):
    d = ours
    port = start(d)
    for path in ("/dashboard", "/dashboard/", "/dashboard/api/processes",
                 "/dashboard/api/processes/chatty", "/dashboard/api/events"):
        assert get(port, path, auth=False)[0] == 401, path
    status, ctype, _ = get(port, "/dashboard/")
    assert (status, ctype) == (200, "text/html;charset=utf-8")

    status, ctype, data = get(port, "/dashboard/api/processes")
    assert (status, ctype) == (200, "application/json")
    api = json.loads(data)
    infos = d.rpc.supervisor.getAllProcessInfo()
    assert [p["namespec"] for p in api["processes"]] == ["chatty", "grp:ga", "grp:gb", "leak"]
    for got, want in zip(api["processes"], infos):
        for key, value in want.items():
            if key not in ("now", "description"):  # both move with the clock
                assert got[key] == value, (key, got[key], value)
        assert set(got["restarts"]) >= {"exit", "memory", "manual"}
    leak = api["processes"][3]
    assert leak["memory_limit"] == 64 * 1024 * 1024 and leak["statename"] == "STOPPED"

    status, _, data = get(port, "/dashboard/api/processes/grp:ga")
    one = json.loads(data)["process"]
    assert status == 200 and one["pid"] == d.info("grp:ga")["pid"]
    assert set(one["history"]) == {"t", "rss", "cpu"}
    status, _, data = get(port, "/dashboard/api/processes/nosuch")
    assert status == 404 and json.loads(data) == {"error": "No such process named nosuch"}

    # Actions: the stock page's messages; another site's page may not drive them.
    foreign = {"Origin": "http://elsewhere.example"}
    assert get(port, "/dashboard/api/action", method="POST", headers=foreign,
               body="action=stop&processname=grp:ga")[0] == 403
    assert d.state("grp:ga") == "RUNNING"
    status, _, data = get(port, "/dashboard/api/action", method="POST",
                          body="action=stop&processname=grp:ga")
    assert (status, json.loads(data)) == (200, {"message": "Process grp:ga stopped"})
    assert d.state("grp:ga") == "STOPPED"
    status, _, data = get(port, "/dashboard/api/action", method="POST",
                          body="action=stop&processname=grp:ga")
    assert json.loads(data) == {"message": "unexpected rpc fault [70] NOT_RUNNING: grp:ga"}
    status, _, data = get(port, "/dashboard/api/action", method="POST",
                          body="action=startgroup&group=nosuch")
    assert json.loads(data) == {"message": "No such group named nosuch"}
    status, _, data = get(port, "/dashboard/api/action", method="POST", body="action=bogus")
    assert status == 400


def test_sampling_only_while_watched(ours):
    """The stream gets samples; once it is closed the daemon goes back to sleeping."""
    d = ours
    port = start(d)
    pid = d.proc.pid

    def still(seconds):
        before = ctxt_switches(pid)
        time.sleep(seconds)
        return ctxt_switches(pid) == before

    # Idle with no viewer (no memory_limit process runs): no wake-ups.
    wait_until(lambda: still(3), timeout=60, what="an idle daemon to stop waking up")

    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    c.request("GET", "/dashboard/api/events", headers={"Authorization": "Basic " + base64.b64encode(
        ("%s:%s" % (USER, PASSWORD)).encode()).decode()})
    r = c.getresponse()
    assert r.status == 200 and r.getheader("Content-Type") == "text/event-stream"
    events = []
    while sum(1 for e in events if e[0] == "sample") < 2:
        line = r.readline().decode()
        assert line, "stream ended"
        if line.startswith("event: "):
            events.append((line[7:].strip(), json.loads(r.readline().decode()[6:])))
    assert events[0][0] == "snapshot"
    sample = [e for e in events if e[0] == "sample"][-1][1]
    assert set(sample["points"]) == {"chatty", "grp:ga", "grp:gb"}
    assert all(rss > 0 for rss, _cpu in sample["points"].values())
    # While watched, it wakes to sample.
    assert not still(3)
    c.close()
    wait_until(lambda: still(3), timeout=60, what="the daemon to stop sampling with no viewer")


def rising_then_dropped(rss):
    """Three rising points, then, later, one under half of the highest before it."""
    run, rose, peak = 1, False, rss[0] if rss else 0
    for i in range(1, len(rss)):
        if rose and rss[i] < peak / 2:
            return True
        run = run + 1 if rss[i] > rss[i - 1] else 1
        rose = rose or run >= 3
        peak = max(peak, rss[i])
    return False


def test_rising_then_dropped():
    """The chart check itself: a drop counts against the highest point before it, not
    against the top of the first rise."""
    assert rising_then_dropped([16, 24, 33, 41, 50, 67, 17])
    assert not rising_then_dropped([16, 24, 33, 41, 50, 67, 40])
    assert not rising_then_dropped([67, 10, 67, 10])  # no rise of three points first
    assert not rising_then_dropped([])


@pytest.mark.parametrize("browser", BROWSERS)
def test_dashboard_in_browser(ours, browser):
    d = ours
    port = start(d)
    base = "http://127.0.0.1:%d" % port
    with browser_page(browser, USER, PASSWORD) as page:
        # From the stock page's footer to the dashboard.
        page.goto(base + "/")
        page.click("#footer a", "Live dashboard", navigates=True)
        assert page.url() == base + "/dashboard/"
        page.wait("window.dash && window.dash.updates > 0")
        page.wait("document.querySelector('#live').textContent === 'live'")

        def rows():
            return page.evaluate("""[...document.querySelectorAll('tr.proc')].map(tr =>
                [tr.dataset.namespec, tr.querySelector('.state').textContent])""")

        infos = {("%s:%s" % (i["group"], i["name"]) if i["group"] != i["name"] else i["name"]):
                 i["statename"] for i in d.rpc.supervisor.getAllProcessInfo()}
        assert dict(rows()) == infos and len(rows()) == 4

        # A change made elsewhere shows without a reload (the marker survives).
        page.evaluate("window.marker = 'same page'")
        d.rpc.supervisor.stopProcess("grp:gb")
        page.wait("""document.querySelector('tr.proc[data-namespec="grp:gb"] .state')
            .textContent === 'STOPPED'""")
        assert page.evaluate("window.marker") == "same page"

        def click(row, label):
            page.evaluate("document.querySelector('#message').textContent = ''")
            page.click(row + " button", label)
            page.wait("document.querySelector('#message').textContent !== ''")
            return page.evaluate("document.querySelector('#message').innerText")

        def proc(namespec):
            return 'tr.proc[data-namespec="%s"]' % namespec

        assert click(proc("grp:gb"), "Start") == "Process grp:gb started"
        assert d.state("grp:gb") == "RUNNING"
        pid = d.info("grp:ga")["pid"]
        assert click(proc("grp:ga"), "Restart") == "Process grp:ga restarted"
        info = d.info("grp:ga")
        assert info["statename"] == "RUNNING" and info["pid"] != pid
        page.wait("""document.querySelector('tr.proc[data-namespec="grp:ga"]')
            .querySelector('.desc').textContent.startsWith('pid %d,')""" % info["pid"])
        assert click(proc("grp:ga"), "Stop") == "Process grp:ga stopped"
        assert d.state("grp:ga") == "STOPPED"
        group = 'tr.group[data-group="grp"]'
        assert click(group, "Start all") == "Group grp started"
        assert d.state("grp:ga") == "RUNNING" and d.state("grp:gb") == "RUNNING"
        assert click(group, "Stop all") == "Group grp stopped"
        assert d.state("grp:ga") == "STOPPED" and d.state("grp:gb") == "STOPPED"
        assert "chatty ready" in d.rpc.supervisor.readProcessStdoutLog("chatty", 0, 0)
        assert click(proc("chatty"), "Clear Log") == "Log for chatty cleared"
        assert d.rpc.supervisor.readProcessStdoutLog("chatty", 0, 0) == ""

        # The leak: its memory rises on the chart, memory_limit restarts it, the chart drops.
        assert click(proc("leak"), "Start") == "Process leak started"
        page.wait("""(() => {
            const p = window.dash.procs.leak;
            return p && p.info.restarts.memory >= 1 && p.hist.rss.length >= 5; })()""",
                  timeout=90)
        wait_until(lambda: rising_then_dropped(page.evaluate("window.dash.procs.leak.hist.rss")),
                   timeout=90, what="the leak's memory to rise and drop on the chart")
        assert d.rpc.supervisord_rs.getProcessStats("leak")["memory_restarts"] >= 1
        spark = proc("leak") + " svg.mem"
        assert int(page.evaluate("document.querySelector('%s').dataset.points" % spark)) >= 5
        assert page.evaluate(
            "document.querySelectorAll('%s line.limit').length" % spark) == 1

        # The row opens the hour's charts and the live tails.
        page.click(proc("leak") + " td.name", "leak")
        page.wait("!document.querySelector('#detail').hidden")
        page.wait("+document.querySelector('#d-mem').dataset.points > 0")
        page.wait("document.querySelector('#d-stdout').textContent.includes('leak started')")
        page.click(proc("chatty") + " td.name", "chatty")
        page.wait("document.querySelector('#d-name').textContent === 'chatty'")
        d.rpc.supervisor.sendProcessStdin("chatty", "from the test\n")
        page.wait("document.querySelector('#d-stdout').textContent.includes('out: from the test')")
        page.wait("document.querySelector('#d-stderr').textContent.includes('err: from the test')")
        page.click(proc("leak") + " td.name", "leak")
        page.wait("+document.querySelector('#d-mem').dataset.points > 0")

        ARTEFACTS.mkdir(parents=True, exist_ok=True)
        suffix = "" if browser == "chromium" else "-" + browser
        for path in (d.tmp / "dashboard.png", ARTEFACTS / ("dashboard%s.png" % suffix)):
            page.screenshot(path)
        # Readable on a phone: the rows become cards, nothing overflows sideways.
        page.viewport(390, 844)
        page.wait("window.innerWidth === 390")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, width
        page.screenshot(ARTEFACTS / ("dashboard-phone%s.png" % suffix))
        assert page.errors() == []
