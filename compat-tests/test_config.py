"""Config parsing: the tutorial's config, expansions and values seen through
getAllConfigInfo, and bad configs (exit status 2 with a useful message)."""

import re
import signal

import pytest

from conftest import REPO, call, compare

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


# -- every start-up error against the reference's: its message first, byte for byte
#
# Each case is a config with one fault. Both daemons are started on it: ours must exit
# with status 2 and a message that starts with the reference's (we may add the section, the
# file or the key after it). The same config given to a running daemon's reloadConfig
# (`supervisorctl reread`) must give the same CANT_REREAD fault, byte for byte.

ERRORS = {
    # program sections (the reference ends these with "in section 'x' (file: '...')")
    "missing-command": "[program:nocmd]\nautostart=false\n",
    "bad-signal-name": "[program:x]\ncommand=sleep 1\nstopsignal=FOO\n",
    "bad-signal-number": "[program:x]\ncommand=sleep 1\nstopsignal=99\n",
    "numprocs-without-process-num": "[program:x]\ncommand=sleep 1\nnumprocs=2\n",
    "bad-integer": "[program:x]\ncommand=sleep 1\nstartsecs=abc\n",
    "bad-numprocs": "[program:x]\ncommand=sleep 1\nnumprocs=many\n",
    "bad-autorestart": "[program:x]\ncommand=sleep 1\nautorestart=maybe\n",
    "bad-boolean": "[program:x]\ncommand=sleep 1\nautostart=maybe\n",
    "bad-exitcodes": "[program:x]\ncommand=sleep 1\nexitcodes=0,999\n",
    "bad-umask": "[program:x]\ncommand=sleep 1\numask=99\n",
    "bad-user": "[program:x]\ncommand=sleep 1\nuser=no-such-user-here\n",
    "bad-byte-size": "[program:x]\ncommand=sleep 1\nstdout_logfile_maxbytes=lots\n",
    "logfile-dir-missing": "[program:x]\ncommand=sleep 1\nstdout_logfile=/nonexistent-dir/x.log\n",
    "stopasgroup-without-killasgroup":
        "[program:x]\ncommand=sleep 1\nstopasgroup=true\nkillasgroup=false\n",
    "bad-process-name": "[program:x]\ncommand=sleep 1\nprocess_name=a:b\n",
    "missing-name": "[program:x]\ncommand=sleep %(nope)s\n",
    "percent-in-environment": "[program:x]\ncommand=sleep 1\nenvironment=HOME=%HOME%\n",
    "incomplete-format": "[program:x]\ncommand=echo 100%\n",
    "incomplete-format-key": "[program:x]\ncommand=echo %(program_name\n",
    "non-ascii-conversion": "[program:x]\ncommand=echo %(program_name)\u00e9\n",
    "length-modifier-twice": "[program:x]\ncommand=echo %(process_num)lld\n",
    "not-enough-arguments": "[program:x]\ncommand=echo %(program_name)s %d\n",
    "star-width": "[program:x]\ncommand=echo %(program_name)*s\n",
    "string-as-number": "[program:x]\ncommand=echo %(program_name)d\n",
    "width-too-big": "[program:x]\ncommand=echo %(program_name)99999999999999999999s\n",
    "environment-unterminated": "[program:x]\ncommand=sleep 1\nenvironment=A=1,B\n",
    "environment-quote": "[program:x]\ncommand=sleep 1\nenvironment=A=\"x\n",
    "logfile-second-expansion": "[program:x]\ncommand=sleep 1\nstdout_logfile=%%(nope)s.log\n",
    # read before a program's own keys: the reference gives the message alone
    "bad-priority": "[program:x]\ncommand=sleep 1\npriority=high\n",
    "bad-program-name": "[program:a b]\ncommand=sleep 1\n",
    "bad-group-name": "[group:a b]\nprograms=\n",
    "unknown-first-member": "[group:g]\nprograms=nosuch\n",
    "unknown-later-member": "[program:x]\ncommand=sleep 1\n[group:g]\nprograms=x,nosuch\n",
    "ambiguous-member": "[program:x]\ncommand=sleep 1\n[fcgi-program:x]\ncommand=sleep 1\n"
                        "socket=tcp://127.0.0.1:9\n[group:g]\nprograms=x\n",
    # [supervisord]
    "supervisord-umask": "[supervisord]\numask=99\n",
    "supervisord-loglevel": "[supervisord]\nloglevel=loud\n",
    "supervisord-minfds": "[supervisord]\nminfds=lots\n",
    "supervisord-nodaemon": "[supervisord]\nnodaemon=maybe\n",
    "supervisord-childlogdir": "[supervisord]\nchildlogdir=/nonexistent-dir\n",
    "supervisord-directory": "[supervisord]\ndirectory=/nonexistent-dir\n",
    "supervisord-pidfile": "[supervisord]\npidfile=/nonexistent-dir/x.pid\n",
    "supervisord-environment": "[supervisord]\nenvironment=A=1,B\n",
    "supervisord-environment-format": "[supervisord]\nenvironment=A=%(nope)s\n",
    "supervisord-user": "[supervisord]\nuser=no-such-user-here\n",
    # servers
    "inet-no-port": "[inet_http_server]\nusername=u\npassword=p\n",
    "inet-bad-port": "[inet_http_server]\nport=notaport\n",
    "inet-port-range": "[inet_http_server]\nport=127.0.0.1:99999\n",
    "inet-incomplete-auth": "[inet_http_server]\nport=127.0.0.1:9\nusername=u\n",
    "unix-bad-chmod": "[unix_http_server]\nchmod=abc\n",
    "unix-bad-chown": "[unix_http_server]\nchown=no-such-user-here\n",
    "unix-socket-dir-missing": "[unix_http_server]\nfile=/nonexistent-dir/s.sock\n",
    # includes and the file itself
    "include-without-files": "[include]\n",
    "include-no-header": "[include]\nfiles=@TMP@/noheader.ini\n",
    "include-junk-line": "[include]\nfiles=@TMP@/junk.ini\n",
    "junk-line": "[program:x]\ncommand=sleep 1\njunk\n",
    "empty-key": "[program:x]\ncommand=sleep 1\n=v\n",
    # plugins, listeners, fcgi programs
    "rpc-bad-factory": "[rpcinterface:x]\nsupervisor.rpcinterface_factory=no.such.module:f\n",
    "rpc-no-factory": "[rpcinterface:x]\nfoo=1\n",
    "listener-buffer-size": "[eventlistener:l]\ncommand=sleep 1\nevents=TICK_5\nbuffer_size=0\n",
    "listener-no-events": "[eventlistener:l]\ncommand=sleep 1\n",
    "listener-unknown-event": "[eventlistener:l]\ncommand=sleep 1\nevents=NOPE\n",
    "listener-redirect-stderr":
        "[eventlistener:l]\ncommand=sleep 1\nevents=TICK_5\nredirect_stderr=true\n",
    "listener-result-handler":
        "[eventlistener:l]\ncommand=sleep 1\nevents=TICK_5\nresult_handler=no.such:h\n",
    "fcgi-no-socket": "[fcgi-program:f]\ncommand=sleep 1\n",
    "fcgi-bad-socket": "[fcgi-program:f]\ncommand=sleep 1\nsocket=foo://x\n",
    "fcgi-relative-unix": "[fcgi-program:f]\ncommand=sleep 1\nsocket=unix://rel.sock\n",
    "fcgi-owner-with-tcp":
        "[fcgi-program:f]\ncommand=sleep 1\nsocket=tcp://127.0.0.1:9\nsocket_mode=0700\n",
    "fcgi-bad-backlog": "[fcgi-program:f]\ncommand=sleep 1\nsocket=tcp://127.0.0.1:9\nsocket_backlog=0\n",
    "fcgi-bad-mode": "[fcgi-program:f]\ncommand=sleep 1\nsocket=unix:///tmp/x.sock\nsocket_mode=abc\n",
}

# whole files, for what the base config cannot express
RAW_ERRORS = {
    "no-supervisord-section": "[unix_http_server]\nfile=@TMP@/s.sock\n[program:x]\ncommand=sleep 1\n",
    "no-section-headers": "junk\n[unix_http_server]\nfile=@TMP@/s.sock\n[supervisord]\n",
}


def write_error_config(d, case):
    (d.tmp / "noheader.ini").write_text("garbage without a section header\n")
    (d.tmp / "junk.ini").write_text("[program:inc]\ncommand=sleep 1\njunk line\n")
    if case in RAW_ERRORS:
        return d.write_config(raw=RAW_ERRORS[case])
    return d.write_config(ERRORS[case])


def startup_message(d, case):
    """Exit status and the message between `Error: ` and the `For help` line, normalised."""
    write_error_config(d, case)
    rc, out, err = d.run_to_exit()
    assert not d.sock.exists()
    m = re.match(r"Error: (.*)\nFor help, use \S+ -h\n\Z", err, re.S)
    assert m, "%s stderr:\n%s" % (d.kind, err)
    return rc, d.norm(m.group(1))


@pytest.mark.parametrize("case", list(ERRORS) + list(RAW_ERRORS))
def test_startup_error_starts_with_the_reference_message(make_daemon, case):
    ref_rc, ref = startup_message(make_daemon("ref"), case)
    rc, ours = startup_message(make_daemon("ours"), case)
    assert (rc, ref_rc) == (2, 2)
    assert ours.startswith(ref), "reference:\n%s\nours:\n%s" % (ref, ours)


def reread_fault(d, case):
    d.start("[program:ok]\ncommand=sleep 100\nautostart=false\n")
    write_error_config(d, case)
    return call(d, "supervisor.reloadConfig")


# the reference checks [supervisord] user= only at start-up, not in reloadConfig (ours does
# both); a socket is only opened at start-up
STARTUP_ONLY = {"supervisord-user", "unix-socket-dir-missing"}


@pytest.mark.parametrize("case", [c for c in list(ERRORS) + list(RAW_ERRORS) if c not in STARTUP_ONLY])
def test_reread_fault_is_the_reference_fault(daemon, oracle, case):
    res = compare(daemon, oracle, reread_fault, case)
    assert res[:2] == ("fault", 92), res


# -- precisions Rust's formatter cannot take: laid out as Python does, never a panic

PRECISION = """
    [program:f]
    command=/bin/echo %(process_num).65536f
    autostart=false
    [program:e]
    command=/bin/echo %(process_num).65535e %(process_num)#.70000E
    autostart=false
    """


def scenario_large_precision(d):
    d.start(PRECISION)
    commands = lambda: sorted((c["name"], c["command"]) for c in d.rpc.supervisor.getAllConfigInfo())
    first = commands()
    reread = call(d, "supervisor.reloadConfig")
    d.send(signal.SIGHUP)
    d.wait_log("supervisord started with pid", count=2)
    d.wait_ready()
    return {"commands": first, "reread": reread, "after SIGHUP": commands()}


def test_large_precision_expands_as_python(daemon, oracle):
    res = compare(daemon, oracle, scenario_large_precision)
    commands = dict(res["commands"])
    assert commands["f"] == "/bin/echo 0." + "0" * 65536
    assert commands["e"] == "/bin/echo 0." + "0" * 65535 + "e+00 0." + "0" * 70000 + "E+00"
    assert res["reread"] == ("ok", [[[], [], []]])
    assert res["after SIGHUP"] == res["commands"]


# -- stricter than the reference, on purpose (README, compatibility notes)

def test_empty_command_is_rejected(daemon):
    """The reference starts it and retries `spawnerr: command is empty` for ever; ours
    refuses the config at start-up and in reread/update, with the same text."""
    empty = "[program:x]\ncommand=\n"
    if daemon.kind == "ref":
        daemon.start(empty)
        daemon.wait_log("spawnerr: command is empty")
        return
    daemon.write_config(empty)
    rc, out, err = daemon.run_to_exit()
    want = ("program section program:x has an empty command in section 'program:x' "
            "(file: '%s')" % daemon.conf)
    assert rc == 2
    assert err.splitlines()[0] == "Error: " + want
    daemon.start("[program:ok]\ncommand=sleep 100\nautostart=false\n")
    daemon.write_config(empty)
    assert call(daemon, "supervisor.reloadConfig") == ("fault", 92, daemon.norm("CANT_REREAD: " + want))
    rc, out, err = daemon.ctl("update")
    assert "CANT_REREAD: " + want in out + err


def test_unterminated_section_header_is_rejected(daemon):
    """The reference reads `[program:y` as the key `[program` of the section before and
    silently has no program y; ours names the file and the line."""
    text = "[program:x]\ncommand=sleep 100\nautostart=false\n[program:y\ncommand=sleep 100\n"
    if daemon.kind == "ref":
        daemon.start(text)
        assert [c["name"] for c in daemon.rpc.supervisor.getAllConfigInfo()] == ["x"]
        return
    conf = daemon.write_config(text)
    lineno = conf.read_text().splitlines().index("[program:y") + 1
    rc, out, err = daemon.run_to_exit()
    assert rc == 2
    assert err.startswith("Error: Source contains parsing errors: '%s'\n\t[line %2d]: '[program:y\\n'\n"
                          % (conf, lineno)), err


def test_expansion_size_is_bounded(daemon):
    """A 120-byte config asking for a gigabyte of padding: the reference allocates it (and
    aborts when it cannot); ours refuses it at once, naming the limit."""
    if daemon.kind == "ref":
        pytest.skip("the reference has no limit: it would allocate 1 GB")
    daemon.write_config("[program:w]\ncommand=/bin/true %(here)1000000s\n"
                        "process_name=%(program_name)s_%(process_num)d\nnumprocs=1000\n")
    rc, out, err = daemon.run_to_exit()
    assert rc == 2
    assert err.startswith("Error: the expansion of 'program:w.command' takes the expanded values "
                          "of the configuration past 268435456 bytes in total, the limit"), err


def sighup_with_broken_config(d):
    """SIGHUP after the file was broken: the daemon exits 2 with the start-up message."""
    d.start("[program:ok]\ncommand=sleep 100\nautostart=false\n")
    with open(d.conf, "a") as f:
        f.write("[program:nocmd]\nautostart=false\n")
    d.send(signal.SIGHUP)
    rc = d.wait_exit()
    err = d.stderr_path.read_text()
    m = re.search(r"^Error: (.*)\nFor help, use \S+ -h\n", err, re.M | re.S)
    assert m, "%s stderr:\n%s" % (d.kind, err)
    return rc, d.norm(m.group(1))


def test_sighup_with_broken_config(make_daemon):
    ref_rc, ref = sighup_with_broken_config(make_daemon("ref"))
    rc, ours = sighup_with_broken_config(make_daemon("ours"))
    assert (rc, ref_rc) == (2, 2)
    assert ours.startswith(ref), "reference:\n%s\nours:\n%s" % (ref, ours)
