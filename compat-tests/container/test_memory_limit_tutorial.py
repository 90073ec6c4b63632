"""memory_limit on the tutorial's app, side by side with the tutorial's monitor.

The tutorial restarts its leaking FastAPI app with monitor_memory.py: it
sleeps 30 s, then polls psutil every 5 s and runs `supervisorctl restart
fastapi_0` once uvicorn's RSS is over 250 MiB. Our daemon can do the same
with `memory_limit=250MB` on the program. Four runs of the tutorial's image
CMD as PID 1 (the namespaces of test_tutorial_pid1.py, container_ns.py), each
one test, so pytest-xdist never splits a run between workers:

* ref, the user's files unchanged: the monitor restarts fastapi_0 (twice:
  the first crossing falls in the monitor's initial 30 s sleep, the second
  in its 5 s polling loop);
* ours, a derived config (no [program:monitor], `memory_limit=250MB` on
  fastapi_0, `memory_check_interval=2` to keep the run short): the limit
  restarts fastapi_0 (twice), and no monitor process runs;
* ours, the user's config with `memory_limit=250MB` added (monitor kept,
  default 5 s checks): the limit restarts fastapi_0 and the monitor never
  has to: monitor.log shows no poll over the threshold and no restart;
* ref, the same derived config as the second run: the reference starts it
  (the unknown keys are ignored) and nothing restarts fastapi_0.

Each leak is driven the same way (container_ns.LEAK_PAST): GET / back to
back until the RSS is past 250 MiB, then one GET per second (10 MiB/s)
until uvicorn is restarted. A sampler reads the namespace's processes from
the host's /proc every 0.1 s; from it come the figures: seconds from the
crossing to the new uvicorn pid, the peak RSS, and the RSS of the
monitoring machinery (the daemon, plus the monitor and the supervisorctl it
runs). They are printed (-s) and written, as a table, to
memory-limit-figures/table.txt under pytest's base temp dir; none is
asserted. Deadlines only turn hangs into failures.
"""

import fcntl
import json
import os
import re
import time
import traceback

import pytest

from container_fixtures import tutorial_dir, app_venv, namespaces_allowed  # noqa: F401 (fixtures)

import container_ns as cns

MiB = 1024 * 1024
LIMIT_LINE = re.compile(r"WARN memory_limit: fastapi_0 \(pid (\d+)\) uses ([\d.]+)MiB, "
                        r"over its limit of ([\d.]+)MiB: restarting")
POLL_LINE = re.compile(r"FastAPI memory usage: ([\d.]+) MB")
# A steady leak after the crossing lasts at most this many requests (s).
AFTER_MAX = 90


def is_monitor(p):
    return any("monitor_memory.py" in a for a in p["cmdline"])


def limit_only(conf):
    """The variant without the monitor: the limit does its job."""
    return cns.variant_config(conf, drop=("program:monitor",),
                              add={"supervisord": {"memory_check_interval": "2"},
                                   "program:fastapi_0": {"memory_limit": "250MB"}})


def limit_and_monitor(conf):
    """The user's config with the limit added (monitor kept, default checks)."""
    return cns.variant_config(conf, add={"program:fastapi_0": {"memory_limit": "250MB"}})


class Run:
    """One namespace run; collects facts, then `check` failures for one report."""

    def __init__(self, name, kind, ns):
        self.name, self.kind, self.ns = name, kind, ns
        self.sampler = None
        self.facts = {"cycles": []}
        self.problems = []
        self.error = None
        self.step = None

    def at(self, step):
        self.step = step
        print("[%s] %s" % (self.name, step), flush=True)

    def check(self, ok, msg):
        if not ok:
            self.problems.append(msg)

    def finish(self):
        """Fail with every problem seen, the scenario's error, and the logs."""
        if self.error:
            self.problems.insert(0, "the run stopped early at step %r:\n%s"
                                 % (self.step, self.error))
        if self.problems:
            pytest.fail("[%s] %s\n%s" % (self.name, "\n".join("- " + p for p in self.problems),
                                         self.ns.dump()), pytrace=False)

    # -- steps ------------------------------------------------------------
    def start(self):
        self.at("start the namespace, daemon as PID 1")
        self.ns.start()
        self.sampler = cns.Sampler(self.ns.pid1)
        self.sampler.start()
        self.at("wait for uvicorn on port %d" % cns.PORT)
        self.ns.wait_for(self.ns.port_open, 90, "uvicorn to listen on port %d" % cns.PORT, 0.5)

    def uvicorn(self):
        return self.ns.wait_for(self.sampler.current_uvicorn, 30, "one uvicorn child of PID 1")

    def leak_until_restarted(self):
        """One cycle: leak past 250 MiB, wait for a new uvicorn. Returns the
        cycle's record (host and namespace pids, figures from the samples)."""
        old = self.uvicorn()
        self.at("leak uvicorn (pid %d in the namespace) past 250 MiB, then 10 MiB/s"
                % old["nspid"])
        t0 = time.monotonic()
        drive = self.ns.leak_past(old["pid"], AFTER_MAX)
        # The monitor's first poll is 30 s after it starts; a restart takes
        # a stop and a spawn. 180 s is only a hang guard.
        self.ns.wait_for(lambda: self.sampler.replaced(old["pid"], t0)[0], 180,
                         "a new uvicorn pid", 0.2)
        t_new, new = self.sampler.replaced(old["pid"], t0)
        crossed = self.sampler.crossed(old["pid"])
        c = {"old": old, "new": new, "drive": drive, "peak": self.sampler.peak(old["pid"]),
             "crossing_to_new_pid": (t_new - crossed) if crossed is not None else None}
        self.facts["cycles"].append(c)
        print("[%s] cycle %d: %s; crossing -> new pid %s s, peak %.0f MiB"
              % (self.name, len(self.facts["cycles"]), drive["stopped"],
                 "%.1f" % c["crossing_to_new_pid"] if crossed is not None else "?",
                 c["peak"] / MiB), flush=True)
        return c

    def status(self):
        r = self.ns.supervisorctl("status")
        out = {}
        for line in r.stdout.splitlines():
            parts = line.split()
            if len(parts) >= 2:
                m = re.search(r"pid (\d+)", line)
                out[parts[0]] = (parts[1], int(m.group(1)) if m else None)
        self.facts["status"] = (r.returncode, r.stdout + r.stderr)
        return out

    def wait_running(self, nspid):
        self.at("wait for fastapi_0 RUNNING (pid %s)" % nspid)
        try:
            self.ns.wait_for(lambda: self.status().get("fastapi_0") == ("RUNNING", nspid), 60,
                             "fastapi_0 RUNNING", 1)
            return True
        except AssertionError:
            return False

    def restart_cycle(self, n):
        """Cycle `n`: leak until restarted, then check the new pid is RUNNING."""
        c = self.leak_until_restarted()
        self.check(self.wait_running(c["new"]["nspid"]),
                   "cycle %d: fastapi_0 not RUNNING with pid %d after the restart: %r"
                   % (n, c["new"]["nspid"], self.facts.get("status")))
        return c

    def check_lists_fastapi_only(self):
        status = self.facts.get("status_initial")
        self.check(sorted(status or {}) == ["fastapi_0"],
                   "supervisorctl status should list fastapi_0 only: %r" % status)

    def monitor_pids(self):
        """Host pids of every monitor process the sampler saw."""
        return {p["pid"] for _, procs in (self.sampler.samples if self.sampler else [])
                for p in procs.values() if is_monitor(p)}

    def answers(self):
        self.ns.wait_for(self.ns.port_open, 60, "uvicorn back on the port", 0.5)
        return self.ns.leak(1) == 1

    def stop(self):
        if self.sampler is not None:
            self.sampler.stop()
        if self.ns.proc is not None and self.ns.proc.poll() is None:
            self.at("SIGTERM to PID 1")
            try:
                self.ns.sigterm_and_wait(120)
            except AssertionError:
                pass
        self.ns.kill()

    def log(self):
        return self.ns.read("/tmp/supervisord.log") or self.ns.daemon_output()

    # -- figures ----------------------------------------------------------
    def monitoring_rss(self):
        s = self.sampler
        pid1 = s.pid1
        daemon = s.peak(pid1)
        mons = self.monitor_pids()
        monitor = s.peak_of(lambda p: p["pid"] in mons)
        helpers = s.peak_of(lambda p: p["ppid"] in mons)  # supervisorctl, while it runs
        return daemon, monitor, helpers

    def row(self, mechanism):
        daemon, monitor, helpers = self.monitoring_rss()
        cycles = self.facts["cycles"]
        return {
            "run": self.name, "daemon": self.kind, "mechanism": mechanism,
            "crossing_to_new_pid": [c["crossing_to_new_pid"] for c in cycles],
            "peak_mib": [round(c["peak"] / MiB, 1) for c in cycles],
            "daemon_mib": round(daemon / MiB, 1), "monitor_mib": round(monitor / MiB, 1),
            "supervisorctl_mib": round(helpers / MiB, 1),
        }


def _figures_dir(tmp_path_factory):
    """One directory for every worker of the session: under xdist each
    worker's base temp dir is popen-gwN inside the session's."""
    base = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        base = base.parent
    d = base / "memory-limit-figures"
    d.mkdir(exist_ok=True)
    return d


ORDER = ["ref-monitor", "ours-limit", "ours-limit+monitor", "ref-limit"]


def record(tmp_path_factory, row):
    """Write this run's figures, then the table of every run so far."""
    d = _figures_dir(tmp_path_factory)
    with open(d / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # workers of one session write here
        (d / (row["run"] + ".json")).write_text(json.dumps(row))
        _write_table(d)


def _write_table(d):
    rows = []
    for name in ORDER:
        f = d / (name + ".json")
        if f.exists():
            rows.append(json.loads(f.read_text()))
    lines = ["%-5s %-52s %-16s %-14s %s" % ("", "mechanism", "crossing->new", "peak RSS",
                                            "monitoring RSS (MiB)"),
             "%-5s %-52s %-16s %-14s %s" % ("", "", "pid (s)", "(MiB)",
                                            "daemon + monitor [+ supervisorctl]")]
    for r in rows:
        secs = ", ".join("%.1f" % s if s is not None else "none"
                         for s in r["crossing_to_new_pid"]) or "no restart"
        peaks = ", ".join("%.0f" % p for p in r["peak_mib"])
        mon = "%.1f" % r["daemon_mib"]
        if r["monitor_mib"]:
            mon += " + %.1f = %.1f" % (r["monitor_mib"], r["daemon_mib"] + r["monitor_mib"])
            if r["supervisorctl_mib"]:
                mon += " [+ %.1f]" % r["supervisorctl_mib"]
        lines.append("%-5s %-52s %-16s %-14s %s" % (r["daemon"], r["mechanism"], secs, peaks,
                                                    mon))
    table = "\n".join(lines) + "\n"
    (d / "table.txt").write_text(table)
    print("\nmemory limit vs the tutorial's monitor (%s):\n%s" % (d / "table.txt", table),
          flush=True)


def make_run(name, kind, tmp_path_factory, app_venv, tutorial_dir, conf=None):
    daemon = cns.daemon_path(kind, app_venv)
    work = str(tmp_path_factory.mktemp("ns-" + name.replace("+", "-")))
    text = None
    if conf is not None:
        with open(os.path.join(tutorial_dir, "supervisord.conf")) as f:
            text = conf(f.read())
    return Run(name, kind, cns.Namespace(work, tutorial_dir, app_venv, daemon, conf_text=text))


def limit_lines(log):
    return [(int(m.group(1)), float(m.group(2)), float(m.group(3)))
            for m in LIMIT_LINE.finditer(log)]


def check_restart_lines(run, log, cycle):
    """Our log, for one restart by the limit: the memory_limit line naming the
    old pid with its RSS over the limit, then stopped, spawned (the new pid),
    and RUNNING, in that order (the PROCESS_STATE sequence STOPPING, STOPPED,
    STARTING, RUNNING as the reference logs it)."""
    old, new = cycle["old"]["nspid"], cycle["new"]["nspid"]
    lines = log.splitlines()
    i = next((k for k, l in enumerate(lines)
              if "memory_limit: fastapi_0 (pid %d) uses" % old in l), None)
    run.check(i is not None, "no 'memory_limit: fastapi_0 (pid %d) uses' line in the log" % old)
    if i is None:
        return
    m = LIMIT_LINE.search(lines[i])
    run.check(m and float(m.group(2)) > 250 and m.group(3) == "250.0",
              "the memory_limit line should give an RSS over 250 MiB and the limit 250.0MiB: %r"
              % lines[i])
    want = ["stopped: fastapi_0 (", "spawned: 'fastapi_0' with pid %d" % new,
            "success: fastapi_0 entered RUNNING state"]
    k = i
    for w in want:
        j = next((n for n in range(k + 1, len(lines)) if w in lines[n]), None)
        run.check(j is not None, "after %r, no %r line in order" % (lines[i], w))
        if j is None:
            return
        k = j


# ---------------------------------------------------------------------------

def test_ref_tutorial_monitor_restarts(namespaces_allowed, app_venv, tutorial_dir,
                                       tmp_path_factory):
    """The reference with the user's files unchanged: the monitor restarts
    fastapi_0, the first time after its 30 s sleep, the second in its loop."""
    run = make_run("ref-monitor", "ref", tmp_path_factory, app_venv, tutorial_dir)
    try:
        run.start()
        for n in (1, 2):
            run.restart_cycle(n)

            def polled_again():
                # supervisorctl restart returns once fastapi_0 is RUNNING; the
                # monitor then logs its restart line, sleeps 10 + 5 s and polls.
                log = run.ns.read("/app/monitor.log")
                i = log.rfind("FastAPI restarted due to high memory usage")
                return log.count("FastAPI restarted due to high memory usage") >= n \
                    and (n == 2 or POLL_LINE.search(log[i:]))
            run.at("wait for the monitor to log restart %d%s"
                   % (n, " and poll again" if n == 1 else ""))
            run.ns.wait_for(polled_again, 90, "monitor.log: restart line (then a new poll)", 1)
        run.facts["answers"] = run.answers()
    except Exception:
        run.error = traceback.format_exc()
    finally:
        run.stop()
    mlog = run.ns.read("/app/monitor.log")
    cycles = run.facts["cycles"]
    run.check(len(cycles) == 2 and all(c["new"] for c in cycles),
              "two restarts expected, saw %d" % len(cycles))
    run.check(mlog.count("exceeds threshold, restarting FastAPI") == 2,
              "monitor.log should have two 'exceeds threshold' lines")
    run.check(mlog.count("FastAPI restarted due to high memory usage") == 2,
              "monitor.log should have two restart lines")
    run.check(run.facts.get("answers"), "the app does not answer GET / after the restarts")
    if len(cycles) == 2:
        record(tmp_path_factory, run.row("tutorial's monitor (30 s sleep, then every 5 s)"))
    run.finish()


def test_ours_memory_limit_restarts_without_monitor(namespaces_allowed, app_venv, tutorial_dir,
                                                    tmp_path_factory):
    """Ours, no monitor: memory_limit=250MB restarts fastapi_0 each time the
    leak crosses it."""
    run = make_run("ours-limit", "ours", tmp_path_factory, app_venv, tutorial_dir, limit_only)
    try:
        run.start()
        run.facts["status_initial"] = run.status()
        for n in (1, 2):
            run.restart_cycle(n)
        run.facts["stats"] = run.ns.rpc("supervisord_rs.getProcessStats", "fastapi_0")
        run.facts["answers"] = run.answers()
    except Exception:
        run.error = traceback.format_exc()
    finally:
        run.stop()
    log = run.log()
    cycles = run.facts["cycles"]
    run.check_lists_fastapi_only()
    seen = run.monitor_pids()
    run.check(not seen, "a monitor process ran: %r" % seen)
    run.check(len(cycles) == 2 and all(c["new"] for c in cycles),
              "two restarts expected, saw %d" % len(cycles))
    for c in cycles:
        check_restart_lines(run, log, c)
    run.check(len(limit_lines(log)) == 2, "two memory_limit lines expected: %r"
              % limit_lines(log))
    stats = run.facts.get("stats") or {}
    run.check(stats.get("memory_restarts") == 2 and stats.get("memory_limit_kb") == 250 * 1024,
              "getProcessStats: %r" % stats)
    run.check(run.facts.get("answers"), "the app does not answer GET / after the restarts")
    if len(cycles) == 2:
        record(tmp_path_factory, run.row("memory_limit=250MB, checks every 2 s, no monitor"))
    run.finish()


def test_ours_memory_limit_acts_before_the_monitor(namespaces_allowed, app_venv, tutorial_dir,
                                                   tmp_path_factory):
    """Ours, the user's config plus memory_limit=250MB (monitor kept, checks
    every 5 s, the default): the limit restarts fastapi_0; the monitor, once
    its 30 s sleep is over, finds the new uvicorn under the threshold and
    never restarts anything."""
    run = make_run("ours-limit+monitor", "ours", tmp_path_factory, app_venv, tutorial_dir,
                   limit_and_monitor)
    try:
        run.start()
        run.restart_cycle(1)
        run.at("wait for the monitor's first poll")
        run.ns.wait_for(lambda: POLL_LINE.search(run.ns.read("/app/monitor.log")), 90,
                        "monitor.log: a poll line", 1)
        run.facts["answers"] = run.answers()
    except Exception:
        run.error = traceback.format_exc()
    finally:
        run.stop()
    log, mlog = run.log(), run.ns.read("/app/monitor.log")
    cycles = run.facts["cycles"]
    run.check(len(cycles) == 1 and cycles[0]["new"], "no restart")
    if cycles and cycles[0]["new"]:
        check_restart_lines(run, log, cycles[0])
    run.check(len(limit_lines(log)) == 1, "one memory_limit line expected: %r" % limit_lines(log))
    polls = [float(x) for x in POLL_LINE.findall(mlog)]
    run.check(polls and max(polls) < 250,
              "the monitor's polls should all find uvicorn under 250 MB (the limit restarted "
              "it first): %r" % polls)
    for needle in ("exceeds threshold", "FastAPI restarted due to high memory usage",
                   "fastapi_0: stopped"):
        run.check(needle not in mlog, "monitor.log has %r: the monitor restarted fastapi_0"
                  % needle)
    mons = run.monitor_pids()
    run.check(len(mons) == 1, "one monitor process for the whole run expected: %r" % mons)
    spawned = re.findall(r"spawned: 'fastapi_0' with pid (\d+)", log)
    run.check(len(spawned) == 2, "fastapi_0 should be spawned twice (start, the limit's "
              "restart): %r" % spawned)
    run.check(run.facts.get("answers"), "the app does not answer GET / after the restart")
    if len(cycles) == 1:
        record(tmp_path_factory, run.row("memory_limit=250MB, checks every 5 s, monitor kept"))
    run.finish()


def test_ref_accepts_the_memory_limit_config(namespaces_allowed, app_venv, tutorial_dir,
                                             tmp_path_factory):
    """The reference starts the derived config (memory_limit and
    memory_check_interval are keys it does not know, and ignores); nothing
    restarts fastapi_0 when the leak crosses 250 MiB."""
    run = make_run("ref-limit", "ref", tmp_path_factory, app_venv, tutorial_dir, limit_only)
    try:
        run.start()
        old = run.uvicorn()
        run.facts["running"] = run.wait_running(old["nspid"])
        run.facts["status_initial"] = run.status()
        run.at("leak past 250 MiB, then 5 more GET / at 1 a second")
        run.facts["drive"] = run.ns.leak_past(old["pid"], 5)
        run.facts["after"] = run.sampler.current_uvicorn()
        run.facts["status_after"] = run.status()
        run.facts["peak"] = run.sampler.peak(old["pid"])
        run.facts["old"] = old
    except Exception:
        run.error = traceback.format_exc()
    finally:
        run.stop()
    log = run.log()
    old = run.facts.get("old")
    run.check(run.facts.get("running"), "fastapi_0 never RUNNING: %r" % (run.facts.get("status"),))
    run.check_lists_fastapi_only()
    run.check("memory_limit" not in log and "memory_check_interval" not in log
              and " ERRO " not in log,
              "the reference's log mentions the new keys or an error")
    drive = run.facts.get("drive") or {}
    run.check(drive.get("crossed_after") is not None and drive.get("ok") == drive.get("sent"),
              "the leak did not cross 250 MiB with every GET answered: %r" % drive)
    after = run.facts.get("after")
    run.check(old and after and after["pid"] == old["pid"],
              "the reference restarted uvicorn: %r -> %r" % (old, after))
    run.check(old and (run.facts.get("status_after") or {}).get("fastapi_0")
              == ("RUNNING", old["nspid"]),
              "fastapi_0 should still be RUNNING with pid %s: %r"
              % (old and old["nspid"], run.facts.get("status_after")))
    if old:
        daemon, _, _ = run.monitoring_rss()
        record(tmp_path_factory, {
            "run": run.name, "daemon": "ref", "mechanism": "memory_limit=250MB (ignored)",
            "crossing_to_new_pid": [], "peak_mib": [round(run.facts.get("peak", 0) / MiB, 1)],
            "daemon_mib": round(daemon / MiB, 1), "monitor_mib": 0, "supervisorctl_mib": 0})
    run.finish()
