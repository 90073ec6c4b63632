"""Events, event listeners and fcgi programs, ours vs the reference.

The listener under test is ``children/listeners/recorder.py`` (written with
``supervisor.childutils``): it records each event's headers and payload as a
JSON line.  Scenarios return the recorded events normalised (pids, tick times)
plus the relevant main-log lines, and ``compare`` checks them against a
reference run.  superlance's ``memmon`` and ``crashmail`` run as real-world
listeners.  No assertion is on elapsed time.
"""

import json
import re
import socket
import sys
from pathlib import Path

import pytest

from conftest import BIN_DIR, CHILDREN, compare, start_on_free_port, wait_until

LISTENERS = CHILDREN / "listeners"
RECORDER = "%s %s" % (sys.executable, LISTENERS / "recorder.py")


def listener_section(d, name="lis", mode="ok", events="EVENT", extra=""):
    lines = [
        "[eventlistener:%s]" % name,
        "command=%s" % RECORDER,
        "events=%s" % events,
        'environment=EVENTS_OUT="@TMP@/%s.events",LISTENER_MODE="%s"' % (name, mode),
        "stderr_logfile=@TMP@/%s.stderr" % name,
    ] + extra.split()
    return d.subst("\n" + "\n".join(lines) + "\n")


def recorded(d, name="lis"):
    path = d.tmp / ("%s.events" % name)
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def wait_recorded(d, predicate, name="lis", what="recorded events"):
    return wait_until(lambda: predicate(recorded(d, name)), daemon=d, what=what)


def norm_event(e):
    """(eventname, serial, poolserial, payload) with pids and tick times normalised;
    the header's len is checked against the payload on the way."""
    h = e["headers"]
    assert int(h["len"]) == len(e["payload"]), e
    assert h["ver"] == "3.0" and h["server"] == "supervisor", e
    payload = re.sub(r"\bpid:\d+", "pid:N", e["payload"])
    payload = re.sub(r"\bwhen:\d+", "when:T", payload)
    return (h["eventname"], int(h["serial"]), h["pool"], int(h["poolserial"]), payload, e["result"])


def has(events, eventname, text=""):
    return any(e["headers"]["eventname"] == eventname and text in e["payload"] for e in events)


def mainlog_matching(d, pattern):
    out = []
    for line in d.log_text().splitlines():
        line = re.sub(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} ", "", line)
        if re.search(pattern, line):
            out.append(d.norm(line))
    return out


# ------------------------------------------------------------ what a listener receives

PRINTER = r"""
[program:p]
command=sh -c 'printf "hello\n<!--XSUPERVISOR:BEGIN-->comm body<!--XSUPERVISOR:END-->"; sleep 2; exit 3'
autostart=false
autorestart=false
startsecs=1
stdout_events_enabled=true
stdout_capture_maxbytes=1000
"""


def scenario_event_stream(d):
    d.start(listener_section(
        d, events="PROCESS_STATE,PROCESS_LOG,PROCESS_COMMUNICATION,REMOTE_COMMUNICATION,"
                  "PROCESS_GROUP,SUPERVISOR_STATE_CHANGE",
        extra="buffer_size=50") + PRINTER)
    d.wait_state("lis", "RUNNING")
    wait_recorded(d, lambda ev: has(ev, "PROCESS_STATE_RUNNING", "processname:lis"))
    d.rpc.supervisor.startProcess("p")
    d.wait_state("p", "EXITED")
    wait_recorded(d, lambda ev: has(ev, "PROCESS_STATE_EXITED", "processname:p"))
    d.rpc.supervisor.sendRemoteCommEvent("greeting", "h\u00e9llo\nworld")
    d.rpc.supervisor.sendRemoteCommEvent("fail", "rejected once")
    wait_recorded(d, lambda ev: sum(e["payload"].startswith("type:fail") for e in ev) == 2)
    return {
        "events": [norm_event(e) for e in recorded(d)],
        "protocol_log": mainlog_matching(d, r"^(DEBG|WARN) lis: "),
    }


def test_event_stream_matches_reference(daemon, oracle):
    res = compare(daemon, oracle, scenario_event_stream)
    names = [e[0] for e in res["events"]]
    for want in ("PROCESS_GROUP_ADDED", "SUPERVISOR_STATE_CHANGE_RUNNING", "PROCESS_STATE_STARTING",
                 "PROCESS_STATE_RUNNING", "PROCESS_LOG_STDOUT", "PROCESS_COMMUNICATION_STDOUT",
                 "PROCESS_STATE_EXITED", "REMOTE_COMMUNICATION"):
        assert want in names, (want, names)
    exited = [e for e in res["events"] if e[0] == "PROCESS_STATE_EXITED"]
    assert exited[0][4] == "processname:p groupname:p from_state:RUNNING expected:0 pid:N"
    fails = [e for e in res["events"] if e[4].startswith("type:fail")]
    # rejected, then the same event (same serials) again
    assert [f[5] for f in fails] == ["FAIL", "OK"] and fails[0][1:4] == fails[1][1:4]
    assert "WARN lis: event was rejected" in res["protocol_log"]


# ------------------------------------------------------------ protocol errors

def scenario_garbage_listener(d):
    d.start(listener_section(d, mode="garbage", extra="startsecs=0"))
    d.wait_state("lis", "RUNNING")
    d.wait_log("has entered the UNKNOWN state")
    d.rpc.supervisor.sendRemoteCommEvent("x", "y")
    # still answering, the listener keeps running (not restarted) and got nothing
    info = d.info("lis")
    return {
        "state": info["statename"],
        "log": mainlog_matching(d, r"lis: .*(UNKNOWN|READY)"),
        "recorded": recorded(d),
        "spawns": len(mainlog_matching(d, r"^INFO spawned: 'lis'")),
    }


def test_garbage_puts_listener_in_unknown(daemon, oracle):
    res = compare(daemon, oracle, scenario_garbage_listener)
    assert res["state"] == "RUNNING"
    assert res["log"][-1].startswith("WARN lis: has entered the UNKNOWN state")
    assert res["spawns"] == 1


def scenario_listener_dies_mid_event(d):
    d.start(listener_section(d, mode="die", events="REMOTE_COMMUNICATION",
                             extra="startsecs=0\nautorestart=true"))
    d.wait_state("lis", "RUNNING")
    d.rpc.supervisor.sendRemoteCommEvent("die", "redelivered")
    wait_recorded(d, lambda ev: has(ev, "REMOTE_COMMUNICATION", "type:die"))
    return {
        "events": [norm_event(e) for e in recorded(d)],
        "exits": mainlog_matching(d, r"^(WARN|INFO) exited: lis"),
    }


def test_event_of_dead_listener_is_redelivered(daemon, oracle):
    res = compare(daemon, oracle, scenario_listener_dies_mid_event)
    assert [e[4] for e in res["events"]] == ["type:die\nredelivered"]
    assert res["exits"] == ["WARN exited: lis (exit status 3; not expected)"]


# ------------------------------------------------------------ buffer overflow

def scenario_overflow(d):
    d.start(listener_section(d, mode="gate", events="REMOTE_COMMUNICATION",
                             extra="buffer_size=3\nstartsecs=0"))
    d.wait_state("lis", "RUNNING")
    d.rpc.supervisor.sendRemoteCommEvent("first", "0")
    wait_recorded(d, lambda ev: len(ev) == 1)
    for i in range(1, 11):
        d.rpc.supervisor.sendRemoteCommEvent("burst", str(i))
        # the daemon answers meanwhile
        assert d.rpc.supervisor.getState()["statename"] == "RUNNING"
    (d.tmp / "lis.events.go").write_text("")
    wait_recorded(d, lambda ev: len(ev) == 4)
    return {
        "events": [norm_event(e)[4] for e in recorded(d)],
        "overflow": mainlog_matching(d, r"event buffer overflowed"),
    }


def test_full_buffer_drops_oldest(daemon, oracle):
    res = compare(daemon, oracle, scenario_overflow)
    assert res["events"] == ["type:first\n0", "type:burst\n8", "type:burst\n9", "type:burst\n10"]
    assert len(res["overflow"]) == 7
    assert re.match(r"^ERRO pool lis event buffer overflowed, discarding event \d+$", res["overflow"][0])


# ------------------------------------------------------------ ticks

def test_tick_events(daemon):
    daemon.start(listener_section(daemon, events="TICK_5", extra="startsecs=0"))
    wait_recorded(daemon, lambda ev: len(ev) >= 1)
    e = recorded(daemon)[0]
    assert e["headers"]["eventname"] == "TICK_5"
    when = int(e["payload"].split(":")[1])
    assert when % 5 == 0


# ------------------------------------------------------------ superlance

superlance = pytest.importorskip("superlance")


def test_memmon_restarts_a_program_over_its_limit(daemon):
    daemon.start(daemon.subst("""
        [program:hog]
        command=%s %s
        startsecs=0

        [eventlistener:memmon]
        command=%s -p hog=20MB
        events=TICK_5
        stderr_logfile=@TMP@/memmon.stderr
        """ % (sys.executable, LISTENERS / "hog.py", BIN_DIR / "memmon")))
    first = daemon.wait_state("hog", "RUNNING")["pid"]

    def restarted():
        info = daemon.info("hog")
        return info["statename"] == "RUNNING" and info["pid"] != first
    wait_until(restarted, timeout=60, daemon=daemon, what="memmon to restart hog")
    assert mainlog_matching(daemon, r"^(WARN|INFO) stopped: hog")


def scenario_crashmail(d):
    d.start(d.subst("""
        [program:crashy]
        command=sh -c 'sleep 1.5; exit 3'
        startsecs=1
        autorestart=false

        [eventlistener:crashmail]
        command=%s -p crashy -m ops@example.com -s "%s %s @TMP@/mail.txt"
        events=PROCESS_STATE
        stderr_logfile=@TMP@/crashmail.stderr
        """ % (BIN_DIR / "crashmail", sys.executable, LISTENERS / "fake_sendmail.py")))
    d.wait_state("crashy", "EXITED")
    mail = d.tmp / "mail.txt"
    wait_until(lambda: mail.exists() and "--END--" in mail.read_text(), daemon=d, what="crashmail's mail")
    text = re.sub(r"\(pid \d+\)", "(pid N)", mail.read_text())
    text = re.sub(r"crashed at [-\d: ,]+", "crashed at DATE", text)
    return text.splitlines()


def test_crashmail_mails_an_unexpected_exit(daemon, oracle):
    mail = compare(daemon, oracle, scenario_crashmail)
    assert "To: ops@example.com" in mail
    assert any("crashy" in line and "exited unexpectedly (pid N) from state RUNNING" in line for line in mail)


# ------------------------------------------------------------ fcgi

def fetch(connect):
    def once():
        c = connect()
        try:
            c.settimeout(10)
            return c.recv(100).decode()
        finally:
            c.close()
    return once


def scenario_fcgi_tcp(d):
    port = start_on_free_port(d, lambda port: d.config_text("""
        [fcgi-program:web]
        socket=tcp://127.0.0.1:%d
        socket_backlog=8
        command=%s %s
        numprocs=2
        process_name=%%(program_name)s_%%(process_num)s
        startsecs=0
        """ % (port, sys.executable, LISTENERS / "fcgi_app.py")))
    d.wait_state("web:web_0", "RUNNING")
    d.wait_state("web:web_1", "RUNNING")
    get = fetch(lambda: socket.create_connection(("127.0.0.1", port)))
    answers = sorted([get(), get()])
    d.rpc.supervisor.stopProcessGroup("web")
    refused = False
    try:
        socket.create_connection(("127.0.0.1", port), timeout=5).close()
    except OSError:
        refused = True
    return {
        "answers": answers,
        "closed_after_stop": refused,
        "socket_log": [line.replace(str(port), "PORT") for line in mainlog_matching(d, r"socket tcp://")],
    }


def test_fcgi_tcp_socket_shared_by_two_processes(daemon, oracle):
    res = compare(daemon, oracle, scenario_fcgi_tcp)
    assert res["answers"] == ["web_0 AF_INET\n", "web_1 AF_INET\n"]
    assert res["closed_after_stop"]
    assert res["socket_log"][-1] == "INFO Closing socket tcp://127.0.0.1:PORT"


def scenario_fcgi_unix(d):
    d.start(d.subst("""
        [fcgi-program:web]
        socket=unix://@TMP@/web.sock
        socket_mode=0660
        command=%s %s
        startsecs=0
        """ % (sys.executable, LISTENERS / "fcgi_app.py")))
    d.wait_state("web", "RUNNING")
    path = str(d.tmp / "web.sock")
    mode = oct(Path(path).stat().st_mode & 0o777)

    def connect():
        c = socket.socket(socket.AF_UNIX)
        c.connect(path)
        return c
    return {"mode": mode, "answer": fetch(connect)()}


def test_fcgi_unix_socket(daemon, oracle):
    res = compare(daemon, oracle, scenario_fcgi_unix)
    assert res == {"mode": "0o660", "answer": "web AF_UNIX\n"}
