"""The tutorial's container, without Docker: the daemon as PID 1.

The user's image runs ``CMD ["supervisord", "-c", "/app/supervisord.conf"]``
with WORKDIR /app. Here unshare(1) gives the daemon fresh PID, mount, network,
UTS and IPC namespaces, ns_init.py lays out the image's file system (the
user's five files in /app, a private /tmp, uvicorn/python3/supervisorctl from
the user's requirements on PATH, the daemon under test at
/usr/local/bin/supervisord) and execs the CMD so the daemon is PID 1.

One scenario runs per daemon (``ref`` = Python supervisord 4.2.5, ``ours`` =
the Rust binary); test_wheel_tutorial.py runs it once more as ``wheel``: our daemon
and our supervisorctl from our wheel, no Python supervisor package in the venv (the
monitor restarts fastapi_0 through our client). Each records what it sees and the checks below judge
it (one test per run runs them all):

a. one process named uvicorn, child of PID 1 (as the monitor's psutil sees it)
b. leaking past 250 MiB makes the monitor restart fastapi_0: new pid, RSS down
c. /app/monitor.log and /app/uvicorn.log keep both lifetimes (appended)
d. the stock supervisorctl shows both programs RUNNING afterwards
e. an orphan re-parented to PID 1 is reaped; no zombie stays
f. SIGTERM to PID 1: both programs stop cleanly (the reference's order, no
   SIGKILL), the daemon exits 0
h. (``wheel``) Python cannot import supervisor in the image, and the
   supervisorctl on PATH is a native executable, not a Python script

Deadlines only turn hangs into failures; no elapsed time is asserted. The
SIGTERM-to-exit time is printed (see the terminal summary), not asserted.
"""

import os
import re
import time
import traceback

import pytest

from container_fixtures import (  # noqa: F401 (fixtures)
    tutorial_dir, app_venv, namespaces_allowed)

import container_ns as cns

MiB = 1024 * 1024

# What the reference (supervisord 4.2.5) does on SIGTERM with the user's
# config (both programs at the default priority 999): groups are stopped one
# at a time in reverse order of (priority, name), so monitor first, then
# fastapi_0. Observed in its log (see README-section.md).
REF_STOP_ORDER = ["monitor", "fastapi_0"]

# Runs whose image has our supervisorctl and no Python supervisor package (test_wheel_tutorial.py
# runs "wheel": the venv made from docker/tutorial/requirements.txt with our wheel).
NATIVE_CTL_KINDS = ("wheel",)


class Scenario:
    def __init__(self, kind, ns):
        self.kind = kind
        self.ns = ns
        self.facts = {}
        self.step = None
        self.error = None

    def fail(self, msg):
        where = ""
        if self.error:
            where = "\n(the scenario stopped early, at step %r:\n%s)" % (self.step, self.error)
        pytest.fail("[%s] %s%s\n%s" % (self.kind, msg, where, self.ns.dump()), pytrace=False)

    def need(self, *keys):
        for k in keys:
            if k not in self.facts:
                self.fail("no observation %r" % k)
        return [self.facts[k] for k in keys]

    def run(self):
        try:
            self._run()
        except Exception:
            self.error = traceback.format_exc()
        finally:
            # Whatever happened, stop the namespace; if the run broke before
            # the SIGTERM step, it is still measured when PID 1 is alive.
            try:
                if self.ns.proc is not None and self.ns.proc.poll() is None \
                        and not self.facts.get("stop_attempted"):
                    self._stop()
            except Exception:
                if self.error is None:
                    self.error = traceback.format_exc()
            self.ns.kill()
            self._read_logs()

    def _at(self, step):
        self.step = step
        self.ns.event(step)
        print("[%s] %s" % (self.kind, step), flush=True)

    def _run(self):
        ns, f = self.ns, self.facts
        self._at("start the namespace, daemon as PID 1")
        ns.start()

        self._at("which supervisorctl the image has")
        r = ns.nsenter(["python3", "-c", "import supervisor"])
        f["python_supervisor_importable"] = r.returncode == 0
        r = ns.nsenter(["python3", "-c", "import shutil; "
                        "print(open(shutil.which('supervisorctl'), 'rb').read(4))"])
        f["supervisorctl_head"] = r.stdout.strip()

        self._at("wait for uvicorn on port %d" % cns.PORT)
        ns.wait_for(ns.port_open, 90, "uvicorn to listen on port %d" % cns.PORT, interval=0.5)
        procs = ns.processes()
        f["procs_initial"] = procs
        uv = ns.uvicorns(procs)
        f["uvicorns_initial"] = uv
        mon = [p for p in procs if "monitor_memory.py" in " ".join(p["cmdline"])]
        f["monitor_initial"] = mon
        if len(uv) != 1:
            raise AssertionError("expected one uvicorn, saw %r" % uv)
        old = uv[0]["pid"]

        self._at("leak memory with GET / until RSS > 250 MiB")
        # Batches of 5 until well over the threshold. Should the monitor
        # restart uvicorn in the middle (its first poll is 30 s after it
        # starts), the old pid is gone: stop there, keeping the peak seen.
        sent = 0
        rss = peak = uv[0]["rss"]
        f["leaked_pid"] = old
        while rss is not None and rss <= cns.THRESHOLD + 20 * MiB and sent < 60:
            f["requests_ok"] = f.get("requests_ok", 0) + ns.leak(5)
            sent += 5
            rss = next((p["rss"] for p in ns.processes() if p["pid"] == old), None)
            peak = max(peak, rss or 0)
            f["requests"] = sent
            f["rss_peak"] = peak

        self._at("wait for the monitor to restart fastapi_0")
        t_crossed = time.monotonic()

        def restarted():
            u = ns.uvicorns()
            return u if (len(u) == 1 and u[0]["pid"] != old) else None
        # The monitor polls 30 s after it starts, then every 5 s; the restart
        # itself takes startsecs=10. 180 s is only a hang guard.
        new = ns.wait_for(restarted, 180, "a new uvicorn pid (restart by the monitor)", 0.5)
        f["restart_seen_after"] = time.monotonic() - t_crossed
        f["uvicorn_after"] = new

        self._at("wait for the monitor to log the restart and poll again")

        def monitor_polled_again():
            log = ns.read("/app/monitor.log")
            i = log.find("FastAPI restarted due to high memory usage")
            return i >= 0 and "FastAPI memory usage" in log[i:]
        ns.wait_for(monitor_polled_again, 120, "monitor.log: restart line, then a new poll", 1)
        f["port_open_after"] = ns.wait_for(ns.port_open, 60, "uvicorn back on the port", 0.5)
        procs = ns.processes()
        f["procs_after"] = procs
        f["uvicorn_after"] = ns.uvicorns(procs)

        self._at("supervisorctl status")

        def both_running():
            r = ns.supervisorctl("status")
            f["status"] = (r.returncode, r.stdout, r.stderr)
            lines = r.stdout.splitlines()
            return all(any(l.split()[:2] == [n, "RUNNING"] for l in lines if l.strip())
                       for n in ("fastapi_0", "monitor"))
        try:
            ns.wait_for(both_running, 60, "status: both RUNNING", 1)
        except AssertionError:
            pass  # judged by the test, with the last output

        self._at("orphan re-parented to PID 1")
        gpid = ns.spawn_orphan()
        f["orphan_pid"] = gpid
        seen = [p for p in ns.processes() if p["pid"] == gpid]
        f["orphan_seen"] = seen

        def orphan_gone():
            st = [p for p in ns.processes() if p["pid"] == gpid]
            f["orphan_last"] = st
            return not st
        try:
            ns.wait_for(orphan_gone, 20, "the orphan to be reaped", 0.5)
            f["orphan_reaped"] = True
        except AssertionError:
            f["orphan_reaped"] = False

        self._at("zombie scan")
        zombies = None
        for _ in range(4):  # a zombie counts only if it stays over ~3 s
            z = {p["pid"]: p for p in ns.processes() if p["status"] == "zombie"}
            zombies = z if zombies is None else {k: v for k, v in z.items() if k in zombies}
            time.sleep(1)
        f["zombies"] = list(zombies.values())
        f["procs_before_stop"] = ns.processes()
        f["pidfile_before_stop"] = ns.read("/app/supervisord.pid")
        f["socket_before_stop"] = ns.exists("/tmp/supervisor.sock")

        self._stop()
        f["pidfile_after_exit"] = ns.exists("/app/supervisord.pid")
        f["socket_after_exit"] = ns.exists("/tmp/supervisor.sock")

    def _stop(self):
        self._at("SIGTERM to PID 1")
        self.facts["stop_attempted"] = True
        secs = self.ns.sigterm_and_wait(120)
        self.facts["sigterm_seconds"] = secs
        self.facts["exit_status"] = self.ns.exit_status
        cns.SIGTERM_TIMES[self.kind] = secs
        print("[%s] SIGTERM -> exit: %.3f s, exit status %s"
              % (self.kind, secs, self.ns.exit_status), flush=True)

    def _read_logs(self):
        ns, f = self.ns, self.facts
        f["supervisord_log"] = ns.read("/tmp/supervisord.log")
        f["daemon_output"] = ns.daemon_output()
        f["monitor_log"] = ns.read("/app/monitor.log")
        f["uvicorn_log"] = ns.read("/app/uvicorn.log")


@pytest.fixture(scope="module", params=["ref", "ours"])
def scenario(request, tmp_path_factory, namespaces_allowed, tutorial_dir):
    kind = request.param
    venv = request.getfixturevalue("app_venv")
    ctl = None
    daemon = cns.daemon_path(kind, venv)
    work = str(tmp_path_factory.mktemp("ns-" + kind))
    ns = cns.Namespace(work, tutorial_dir, venv, daemon, ctl=ctl)
    s = Scenario(kind, ns)
    s.run()
    return s


def _log_of(s):
    """The daemon's main log: the config's logfile, else what PID 1 printed."""
    return s.facts.get("supervisord_log") or s.facts.get("daemon_output", "")


def check_a_one_uvicorn_child_of_pid1(scenario):
    procs, = scenario.need("procs_initial")
    pid1 = [p for p in procs if p["pid"] == 1]
    if not pid1 or "supervisord" not in (pid1[0]["name"] + " ".join(pid1[0]["cmdline"])):
        scenario.fail("PID 1 is not the daemon: %r" % pid1)
    uv = [p for p in procs if p["name"].lower() == "uvicorn"]
    if len(uv) != 1:
        scenario.fail("the monitor must find exactly one process named uvicorn; saw %r" % uv)
    if uv[0]["ppid"] != 1:
        scenario.fail("uvicorn's parent is %s, not PID 1" % uv[0]["ppid"])
    mon = scenario.facts.get("monitor_initial") or []
    if len(mon) != 1 or mon[0]["ppid"] != 1:
        scenario.fail("expected one monitor_memory.py, child of PID 1; saw %r" % mon)


def check_b_monitor_restarts_fastapi(scenario):
    peak, old = scenario.need("rss_peak", "leaked_pid")
    if not peak or peak <= cns.THRESHOLD:
        scenario.fail("the leak did not take uvicorn over 250 MiB (rss %r)" % peak)
    after, = scenario.need("uvicorn_after")
    if len(after) != 1 or after[0]["pid"] == old:
        scenario.fail("no single new uvicorn after the restart: %r (old pid %s)" % (after, old))
    if after[0]["ppid"] != 1:
        scenario.fail("the new uvicorn's parent is %s, not PID 1" % after[0]["ppid"])
    if after[0]["rss"] is None or after[0]["rss"] >= cns.THRESHOLD:
        scenario.fail("RSS did not fall after the restart: %r" % after[0]["rss"])
    mon0 = scenario.facts.get("monitor_initial") or []
    mon1 = [p for p in scenario.facts.get("procs_after", [])
            if "monitor_memory.py" in " ".join(p["cmdline"])]
    if [p["pid"] for p in mon0] != [p["pid"] for p in mon1]:
        scenario.fail("the monitor itself was restarted (supervisorctl failed?): %r -> %r"
                      % (mon0, mon1))
    log = scenario.facts["monitor_log"]
    for needle in ("exceeds threshold, restarting FastAPI",
                   "FastAPI restarted due to high memory usage"):
        if needle not in log:
            scenario.fail("monitor.log lacks %r" % needle)
    print("[%s] rss peak %.1f MiB (%d requests), after restart %.1f MiB; restart seen %.1f s "
          "after crossing" % (scenario.kind, peak / MiB, scenario.facts["requests"],
                              after[0]["rss"] / MiB, scenario.facts["restart_seen_after"]))


def check_c_logs_keep_both_lifetimes(scenario):
    old, after = scenario.need("leaked_pid", "uvicorn_after")
    ulog = scenario.facts["uvicorn_log"]
    for banner in ("Started server process", "Uvicorn running on"):
        n = ulog.count(banner)
        if n < 2:
            scenario.fail("uvicorn.log has %d %r banner(s), want one per lifetime (2)" % (n, banner))
    started = [int(x) for x in re.findall(r"Started server process \[(\d+)\]", ulog)]
    if old not in started or (after and after[0]["pid"] not in started):
        scenario.fail("uvicorn.log should name both server pids %s and %s; it names %s"
                      % (old, after and after[0]["pid"], started))
    if started.index(old) > started.index(after[0]["pid"]):
        scenario.fail("uvicorn.log lifetimes out of order: %s" % started)

    mlog = scenario.facts["monitor_log"]
    lines = mlog.splitlines()
    if not lines or "Starting memory monitor for FastAPI" not in lines[0]:
        scenario.fail("monitor.log does not start with the monitor's first line (overwritten?)")
    restart_i = next((i for i, l in enumerate(lines)
                      if "FastAPI restarted due to high memory usage" in l), None)
    if restart_i is None:
        scenario.fail("monitor.log has no restart line")

    def mb(l):
        m = re.search(r"FastAPI memory usage: ([\d.]+) MB", l)
        return float(m.group(1)) if m else None
    before = [mb(l) for l in lines[:restart_i] if mb(l) is not None]
    later = [mb(l) for l in lines[restart_i:] if mb(l) is not None]
    if not before or max(before) <= 250:
        scenario.fail("monitor.log: no poll over 250 MB before the restart: %s" % before)
    if not later or later[0] >= 250:
        scenario.fail("monitor.log: no poll under 250 MB after the restart: %s" % later)
    # supervisorctl's own output, printed by the monitor's child to the
    # monitor's stdout, is captured by the daemon into the same file.
    if "fastapi_0: stopped" not in mlog or "fastapi_0: started" not in mlog:
        scenario.fail("monitor.log lacks supervisorctl's 'fastapi_0: stopped'/'started' "
                      "(the daemon's capture of the monitor's stdout)")


def check_d_supervisorctl_status_running(scenario):
    rc, out, err = scenario.need("status")[0]
    states = {}
    for l in out.splitlines():
        parts = l.split()
        if len(parts) >= 2:
            states[parts[0]] = parts[1]
    if states.get("fastapi_0") != "RUNNING" or states.get("monitor") != "RUNNING":
        scenario.fail("supervisorctl status (rc %s):\n%s%s" % (rc, out, err))
    if rc != 0:
        scenario.fail("supervisorctl status exited %s with all RUNNING:\n%s" % (rc, out))


def check_e_orphans_reaped(scenario):
    gpid, seen, reaped, zombies = scenario.need("orphan_pid", "orphan_seen", "orphan_reaped",
                                                "zombies")
    if seen and seen[0]["ppid"] != 1:
        scenario.fail("the orphan was not re-parented to PID 1: %r" % seen)
    if not reaped:
        scenario.fail("orphan %s was not reaped by PID 1: %r"
                      % (gpid, scenario.facts.get("orphan_last")))
    if zombies:
        scenario.fail("zombie processes stay in the namespace: %r" % zombies)


def _stop_section(log):
    i = log.find("received SIGTERM")
    return log[i:] if i >= 0 else ""


def check_f_sigterm_stops_cleanly(scenario):
    secs, status = scenario.need("sigterm_seconds", "exit_status")
    log = _log_of(scenario)
    section = _stop_section(log)
    if not section:
        scenario.fail("the daemon's log has no 'received SIGTERM' line")
    stopped = re.findall(r"stopped: (\S+) \(([^)]*)\)", section)
    names = [n for n, _ in stopped]
    if sorted(names) != ["fastapi_0", "monitor"]:
        scenario.fail("after SIGTERM the log should report 'stopped:' once for each program; "
                      "saw %r" % stopped)
    if names != REF_STOP_ORDER:
        scenario.fail("stop order %r differs from the reference's %r" % (names, REF_STOP_ORDER))
    if "SIGKILL" in section:
        scenario.fail("a program had to be killed with SIGKILL during shutdown")
    for n, why in stopped:
        if not (why.startswith("exit status") or why.startswith("terminated by SIGTERM")):
            scenario.fail("%s stopped abnormally: %r" % (n, why))
    if status != 0:
        scenario.fail("PID 1 exited with status %s, want 0" % status)
    # Everything else the daemon started was gone before it exited.
    before = scenario.facts.get("procs_before_stop") or []
    expected = {1} | {p["pid"] for p in before if p["ppid"] == 1}
    others = [p for p in before if p["pid"] not in expected]
    if others:
        scenario.fail("processes besides the daemon's children before SIGTERM: %r" % others)
    print("[%s] SIGTERM -> exit %.3f s; stop lines: %s" % (scenario.kind, secs, stopped))


def check_g_pidfile_and_socket_removed_on_exit(scenario):
    """The reference writes /app/supervisord.pid (pidfile defaults to
    supervisord.pid in the cwd) and removes it and /tmp/supervisor.sock when
    it exits."""
    pid_before, sock_before, pid_after, sock_after = scenario.need(
        "pidfile_before_stop", "socket_before_stop", "pidfile_after_exit", "socket_after_exit")
    if pid_before.strip() != "1":
        scenario.fail("/app/supervisord.pid while running holds %r, want '1'" % pid_before)
    if not sock_before:
        scenario.fail("/tmp/supervisor.sock missing while running")
    if pid_after or sock_after:
        scenario.fail("left behind after exit: %s" % ", ".join(
            n for n, v in (("/app/supervisord.pid", pid_after),
                           ("/tmp/supervisor.sock", sock_after)) if v))


def check_h_which_supervisorctl(scenario):
    """wheel: no Python supervisor in the image, and a native supervisorctl on PATH (the
    other runs: the stock script and its package)."""
    importable, head = scenario.need("python_supervisor_importable", "supervisorctl_head")
    native = head == repr(b"\x7fELF")
    if scenario.kind in NATIVE_CTL_KINDS:
        if importable or not native:
            scenario.fail("want no Python supervisor and a native supervisorctl; importable: "
                          "%s, supervisorctl starts with %s" % (importable, head))
    elif not importable or native:
        scenario.fail("want the stock supervisorctl and its package; importable: %s, "
                      "supervisorctl starts with %s" % (importable, head))


CHECKS = [
    check_a_one_uvicorn_child_of_pid1,
    check_b_monitor_restarts_fastapi,
    check_c_logs_keep_both_lifetimes,
    check_d_supervisorctl_status_running,
    check_e_orphans_reaped,
    check_f_sigterm_stops_cleanly,
    check_g_pidfile_and_socket_removed_on_exit,
    check_h_which_supervisorctl,
]


def test_tutorial_as_pid1(scenario):
    """Every check above on the one run of the scenario: one test per daemon, so that
    pytest-xdist cannot hand checks of the same daemon to several workers, each of which
    would run the (module-scoped) scenario again. Each check runs; all failures are reported."""
    failures = []
    for check in CHECKS:
        try:
            check(scenario)
        except pytest.fail.Exception as e:
            failures.append("%s: %s" % (check.__name__, e))
    if failures:
        pytest.fail("\n\n".join(failures), pytrace=False)
