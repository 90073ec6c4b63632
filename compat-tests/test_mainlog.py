"""The main log: line format and the wording of every line of a scenario."""

import re
import signal

from conftest import STARTUP_LOG, _LOG_PREFIX, _sort_runs, compare

PROG = "@PYTHON@ @CHILDREN@/prog.py"

LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (CRIT|ERRO|WARN|INFO|DEBG|TRAC|BLAT) \S")


def full_log(d):
    """Every main-log line, normalised; progress reports dropped, and runs of
    `success:` lines (due in the same instant) sorted."""
    lines = [d.norm(_LOG_PREFIX.sub("", l)) for l in d.log_text().splitlines()]
    lines = [l for l in lines if not re.match(r"^INFO waiting for \S+ to stop$", l)]
    return _sort_runs(lines, ("success:",))


def scenario_lifecycle(d):
    d.start("""
        [program:good]
        command=sleep 1000
        startsecs=1
        stopwaitsecs=5

        [program:bad]
        command=%s --sleep 1.5 --exit 1
        startsecs=1
        autorestart=false
        """ % PROG)
    d.wait_state("bad", "EXITED")
    d.wait_state("good", "RUNNING")
    d.ctl("stop", "good")
    d.ctl("start", "good")
    d.send(signal.SIGTERM)
    rc = d.wait_exit()
    return {"exit status": rc, "log": full_log(d),
            "malformed lines": [l for l in d.log_text().splitlines() if not LINE.match(l)]}


def test_lifecycle_log(daemon, oracle):
    res = compare(daemon, oracle, scenario_lifecycle)
    assert res["malformed lines"] == []
    assert res["log"] == STARTUP_LOG + [
        "INFO spawned: 'bad' with pid N",
        "INFO spawned: 'good' with pid N",
        "INFO success: bad entered RUNNING state, process has stayed up for > than 1 seconds (startsecs)",
        "INFO success: good entered RUNNING state, process has stayed up for > than 1 seconds (startsecs)",
        "WARN exited: bad (exit status 1; not expected)",
        "WARN stopped: good (terminated by SIGTERM)",
        "INFO spawned: 'good' with pid N",
        "INFO success: good entered RUNNING state, process has stayed up for > than 1 seconds (startsecs)",
        "WARN received SIGTERM indicating exit request",
        "INFO waiting for good to die",
        "WARN stopped: good (terminated by SIGTERM)",
    ]
