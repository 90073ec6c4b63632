"""Config parsing: the tutorial's config, expansions and values seen through
getAllConfigInfo, and bad configs (exit status 2 with a useful message)."""

import re

import pytest

from conftest import HERE, REPO, compare

# The user's file: from shared/ beside the repo when present, else the
# verbatim copy committed with the tests.
SHARED_TUTORIAL = REPO.parent / "shared" / "tutorial" / "supervisord.conf"
FIXTURE_TUTORIAL = REPO / "conf" / "tutorial" / "supervisord.conf"


def tutorial_conf():
    return (SHARED_TUTORIAL if SHARED_TUTORIAL.exists() else FIXTURE_TUTORIAL).read_text()


def test_tutorial_fixture_is_verbatim():
    if not SHARED_TUTORIAL.exists():
        pytest.skip("no shared/tutorial beside the repo: nothing to compare the fixture with")
    assert FIXTURE_TUTORIAL.read_bytes() == SHARED_TUTORIAL.read_bytes()


def config_info(d):
    """getAllConfigInfo, normalised (temp paths; AUTO child log names)."""
    out = []
    for c in d.rpc.supervisor.getAllConfigInfo():
        c = {k: (d.norm(v) if isinstance(v, str) else v) for k, v in c.items()}
        out.append(c)
    return out


def scenario_tutorial(d):
    """The tutorial's config with only its paths moved into the temp dir.

    The substituted lines are the socket, the main log, the program logs and
    `directory=/app`; everything else (inline `;` comments, the
    [rpcinterface:supervisor] and [supervisorctl] sections) is the user's
    text.  Running the file fully unchanged is the container tests' job."""
    text = tutorial_conf()
    (d.tmp / "app").mkdir()
    subst = {
        "file=/tmp/supervisor.sock": "file=@TMP@/s.sock",
        "unix:///tmp/supervisor.sock": "unix://@TMP@/s.sock",
        "logfile=/tmp/supervisord.log": "logfile=@TMP@/supervisord.log",
        "=/app/uvicorn.log": "=@TMP@/app/uvicorn.log",
        "=/app/monitor.log": "=@TMP@/app/monitor.log",
        "directory=/app ": "directory=@TMP@/app ",
    }
    for old, new in subst.items():
        assert old in text, old
        text = text.replace(old, new)
    text = text.replace("[supervisord]\n", "[supervisord]\npidfile=@TMP@/supervisord.pid\n", 1)
    d.start(raw=text)
    rc, out, err = d.ctl_norm("status")
    return {
        "config": config_info(d),
        "names": sorted(line.split()[0] for line in out.splitlines()),
        "api version": d.rpc.supervisor.getAPIVersion(),
    }


def test_tutorial_config_parses(daemon, oracle):
    res = compare(daemon, oracle, scenario_tutorial)
    assert res["names"] == ["fastapi_0", "monitor"]
    fa = next(c for c in res["config"] if c["name"] == "fastapi_0")
    assert fa["command"] == "uvicorn main:app --host 0.0.0.0 --port 5001"
    assert fa["directory"] == "<TMP>/app"
    assert fa["startsecs"] == 10
    assert fa["killasgroup"] is True
    assert fa["stdout_logfile"] == fa["stderr_logfile"] == "<TMP>/app/uvicorn.log"
    mon = next(c for c in res["config"] if c["name"] == "monitor")
    assert mon["command"] == "python3 monitor_memory.py /app"
    assert mon["startsecs"] == 5


RICH = """
    [program:web]
    command=sleep 100 ; an inline comment
    process_name=%(program_name)s_%(process_num)d
    numprocs=2
    numprocs_start=5
    priority=42
    autostart=false
    startsecs=7
    startretries=9
    exitcodes=0,2,3
    stopsignal=INT
    stopwaitsecs=11
    stopasgroup=true
    redirect_stderr=true
    stdout_logfile=%(here)s/%(program_name)s-%(process_num)d.log
    stdout_logfile_maxbytes=1MB
    stdout_logfile_backups=3
    stdout_capture_maxbytes=2KB
    directory=%(here)s
    environment=HOME_COPY="%(ENV_HOME)s"

    [program:quiet]
    command=/bin/sleep 100
    autostart=false
    stdout_logfile=NONE
    stderr_logfile=none
    stopsignal=SIGUSR1
    killasgroup=true

    [program:colons]
    command = sleep   100
    autostart = false
    stopsignal = hup

    [group:bundle]
    programs=quiet,colons
    priority=7

    [include]
    files=@TMP@/conf.d/*.ini
    """

INCLUDED = """
[program:included]
command=sleep 100
autostart=false
stdout_logfile=%(here)s/included.log
"""


def scenario_rich(d):
    (d.tmp / "conf.d").mkdir()
    (d.tmp / "conf.d" / "extra.ini").write_text(INCLUDED)
    d.start(RICH)
    return {"config": config_info(d), "status": d.ctl_norm("status")}


def test_config_values_and_expansions(daemon, oracle):
    res = compare(daemon, oracle, scenario_rich)
    by = {c["name"]: c for c in res["config"]}
    assert sorted(by) == ["colons", "included", "quiet", "web_5", "web_6"]
    w = by["web_5"]
    assert w["command"] == "sleep 100"
    assert (w["group"], w["process_prio"], w["autostart"]) == ("web", 42, False)
    assert (w["startsecs"], w["startretries"], w["stopwaitsecs"]) == (7, 9, 11)
    assert w["exitcodes"] == [0, 2, 3]
    assert w["stopsignal"] == 2
    assert w["redirect_stderr"] is True
    assert w["stdout_logfile"] == "<TMP>/web-5.log"
    assert w["stdout_logfile_maxbytes"] == 1024 * 1024
    assert w["stdout_capture_maxbytes"] == 2048
    assert w["directory"] == "<TMP>"
    q = by["quiet"]
    assert q["group"] == "bundle" and q["group_prio"] == 7
    assert q["stdout_logfile"] == "none" and q["stderr_logfile"] == "none"
    assert q["stopsignal"] == 10 and q["killasgroup"] is True
    assert by["colons"]["command"] == "sleep   100"
    assert by["colons"]["stopsignal"] == 1
    assert by["included"]["stdout_logfile"] == "<TMP>/conf.d/included.log"
    assert by["included"]["stdout_logfile"] != "auto"
    # AUTO logs are reported resolved, as the file in childlogdir
    assert by["included"]["stderr_logfile"] == "<TMP>/included-stderr---supervisor-R.log"


# -- configs the reference accepts although they look wrong

ODD = {
    # a repeated section: the two are merged, the later value wins
    "duplicate-section": """
        [program:x]
        command=sleep 101
        autostart=false
        [program:x]
        command=sleep 102
        """,
    # the same process name in two groups is fine (names are per group)
    "same-name-two-groups": """
        [program:x]
        command=sleep 100
        process_name=same
        autostart=false
        [program:y]
        command=sleep 100
        process_name=same
        autostart=false
        """,
    # an include glob matching nothing is a warning, not an error
    "include-no-match": """
        [program:x]
        command=sleep 100
        autostart=false
        [include]
        files=@TMP@/nonexistent*.ini
        """,
}


def scenario_odd(d, text):
    d.start(text)
    warns = [d.norm(re.sub(r"^\S+ \S+ ", "", l)) for l in d.log_text().splitlines() if " WARN " in l]
    return {"config": [(c["group"], c["name"], c["command"], c["autostart"]) for c in config_info(d)],
            "warnings": warns}


@pytest.mark.parametrize("case", list(ODD))
def test_accepted_oddities(daemon, oracle, case):
    res = compare(daemon, oracle, scenario_odd, ODD[case])
    if case == "duplicate-section":
        assert res["config"] == [("x", "x", "sleep 102", False)]
    if case == "same-name-two-groups":
        assert res["config"] == [("x", "same", "sleep 100", False), ("y", "same", "sleep 100", False)]
    if case == "include-no-match":
        assert res["warnings"] == ['WARN No file matches via include "<TMP>/nonexistent*.ini"']


# -- configs that must be rejected: exit status 2 and a message

BAD = {
    # id: (program sections, section named, key named, reference's message)
    "missing-command": ("""
        [program:x]
        autostart=true
        """, "program:x", "command",
        "Error: program section program:x does not specify a command in section 'program:x' (file: '<CONF>')"),
    "bad-signal": ("""
        [program:x]
        command=sleep 1
        stopsignal=FOO
        """, "program:x", "stopsignal",
        "Error: value 'FOO' is not a valid signal name in section 'program:x' (file: '<CONF>')"),
    "unknown-group-member": ("""
        [group:g]
        programs=nosuch
        """, "group:g", "programs",
        "Error: [group:g] names unknown program or fcgi-program nosuch"),
    "duplicate-process-name": ("""
        [program:x]
        command=sleep 1
        numprocs=2
        """, "program:x", "process_name",
        "Error: %(process_num) must be present within process_name when numprocs > 1 in section 'program:x' (file: '<CONF>')"),
    "bad-integer": ("""
        [program:x]
        command=sleep 1
        startsecs=abc
        """, "program:x", "startsecs",
        "Error: invalid literal for int() with base 10: 'abc' in section 'program:x' (file: '<CONF>')"),
    "bad-boolean": ("""
        [program:x]
        command=sleep 1
        autorestart=maybe
        """, "program:x", "autorestart",
        "Error: invalid 'autorestart' value 'maybe' in section 'program:x' (file: '<CONF>')"),
    "bad-include": ("""
        [include]
        files=@TMP@/bad.ini
        """, None, None,
        "Error: File contains no section headers."),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_config_rejected(daemon, case):
    programs, section, key, ref_message = BAD[case]
    (daemon.tmp / "bad.ini").write_text("garbage without a section header\n")
    daemon.write_config(programs)
    rc, out, err = daemon.run_to_exit()
    assert rc == 2, "exit status %s, stderr:\n%s" % (rc, err)
    assert not daemon.sock.exists()
    first = err.splitlines()[0] if err else ""
    if daemon.kind == "ref":
        # the reference's wording, pinned here as documentation
        assert first == ref_message.replace("<CONF>", str(daemon.conf))
        return
    # ours: the message names the file, the section and the key
    assert first.startswith("Error:"), err
    if case == "bad-include":
        assert str(daemon.tmp / "bad.ini") in err, err
        return
    assert str(daemon.conf) in err, err
    assert section in err, err
    assert key in err, err
