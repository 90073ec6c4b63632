"""`GET /metrics` and `GET /healthz` on the inet server (beyond the reference, issue 8).

The metrics are parsed with prometheus_client's text-format parser; the health check
answers 200 only while every autostart program is RUNNING (or EXITED as expected). The
reference starts on the same config (it has neither page: both are 404 there)."""

import http.client

from prometheus_client.parser import text_string_to_metric_families

from conftest import start_on_free_port, wait_until
from lib.fragments import inet_http_server, program, sections, sleeper
from lib.inet import basic
from lib.rpc import unix_get

PROGRAMS = sections(
    sleeper("web", stopwaitsecs=None),
    program("oneshot", 'sh -c "echo done"', startsecs=0, autorestart=False),
    program("manual", "sleep 1000", autostart=False))


def inet(port, auth=True):
    if auth:
        return inet_http_server(port, username="user", password="pw")
    return inet_http_server(port)


def get(port, path, auth=("user", "pw")):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {}
    if auth:
        headers["Authorization"] = basic(*auth)
    conn.request("GET", path, headers=headers)
    r = conn.getresponse()
    body = r.read().decode()
    conn.close()
    return r.status, body


def start(d, auth=True, extra=""):
    port = start_on_free_port(
        d, lambda port: d.config_text(sections(PROGRAMS, inet(port, auth) + extra)))
    d.wait_state("web", "RUNNING")
    d.wait_state("oneshot", "EXITED")
    return port


def test_reference_accepts_the_config_and_has_no_such_pages(make_daemon):
    ref = make_daemon("ref")
    port = start(ref)
    assert get(port, "/metrics")[0] == 404
    assert get(port, "/healthz")[0] == 404


def test_metrics_parse_and_describe_the_processes(make_daemon):
    d = make_daemon("ours")
    port = start(d)
    d.ctl("restart", "web")
    status, body = get(port, "/metrics")
    assert status == 200
    families = {f.name: f for f in text_string_to_metric_families(body)}

    def sample(family, **labels):
        hits = [s for s in families[family].samples
                if all(s.labels.get(k) == v for k, v in labels.items())]
        assert hits, (family, labels)
        return hits[0].value

    assert sample("supervisord_up") == 1
    assert sample("supervisord_state", state="RUNNING") == 1
    assert sample("supervisord_process_state", program="web", group="web") == 20
    assert sample("supervisord_process_state", program="oneshot", group="oneshot") == 100
    assert sample("supervisord_process_state", program="manual", group="manual") == 0
    assert sample("supervisord_process_pid", program="web") == d.info("web")["pid"]
    assert sample("supervisord_process_start_time_seconds", program="web") > 0
    assert sample("supervisord_process_restarts", program="web", cause="manual") == 1
    assert sample("supervisord_process_restarts", program="web", cause="exit") == 0
    assert sample("supervisord_process_exit_status", program="oneshot") == 0
    assert sample("supervisord_process_resident_memory_bytes", program="web") > 0
    assert sample("supervisord_process_log_bytes", program="oneshot", stream="stdout") == len("done\n")
    assert "supervisord_process_cpu_seconds" in families


def test_metrics_need_the_servers_credentials(make_daemon):
    d = make_daemon("ours")
    port = start(d)
    assert get(port, "/metrics", auth=None)[0] == 401
    assert get(port, "/healthz", auth=("user", "wrong"))[0] == 401


def test_healthz_follows_the_autostart_programs(make_daemon):
    d = make_daemon("ours")
    port = start(d)
    # web RUNNING, oneshot EXITED with an expected code, manual not autostarted: healthy
    assert get(port, "/healthz") == (200, "OK\n")
    d.ctl("stop", "web")
    status, body = get(port, "/healthz")
    assert status == 503
    assert body == "not running:\nweb: STOPPED\n"
    d.ctl("start", "web")
    wait_until(lambda: get(port, "/healthz")[0] == 200, what="healthy again")


def test_health_pages_can_be_open_on_loopback(make_daemon):
    d = make_daemon("ours")
    port = start(d, extra="open_health_on_loopback=true\n")
    # a loopback client needs no credentials for these two pages only
    assert get(port, "/healthz", auth=None) == (200, "OK\n")
    assert get(port, "/metrics", auth=None)[0] == 200
    assert get(port, "/", auth=None)[0] == 401
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("POST", "/RPC2", body="<?xml version='1.0'?><methodCall><methodName>supervisor.getState</methodName></methodCall>")
    assert conn.getresponse().status == 401
    conn.close()


RESTARTING = sections(
    program("flap", "sleep 0.3", startsecs=0, autorestart=True),
    program("fails", "false", startsecs=1, startretries=2),
    sleeper("web", stopwaitsecs=None))


def restarts(d, program):
    status, body = unix_get(d, "/metrics")
    assert status == 200
    return {s.labels["cause"]: s.value
            for f in text_string_to_metric_families(body)
            if f.name == "supervisord_process_restarts"
            for s in f.samples if s.labels["program"] == program}


def test_restarts_are_counted_by_cause(make_daemon):
    """A program that exits every 0.3 s is respawned inside the step that reaps it: each
    respawn is an `exit` restart. Retries of a failing start are `backoff` restarts, a
    restart through the API is `manual`; first starts are not restarts."""
    ref = make_daemon("ref")
    ref.start(RESTARTING)
    assert unix_get(ref, "/metrics")[0] == 404
    d = make_daemon("ours")
    d.start(RESTARTING)
    wait_until(lambda: restarts(d, "flap")["exit"] >= 3, daemon=d, what="3 exit restarts of flap")
    assert restarts(d, "flap")["backoff"] == 0
    d.wait_state("fails", "FATAL")
    assert restarts(d, "fails") == {"exit": 0, "backoff": 2, "memory": 0, "manual": 0, "health": 0}
    d.wait_state("web", "RUNNING")
    d.ctl("restart", "web")
    assert restarts(d, "web") == {"exit": 0, "backoff": 0, "memory": 0, "manual": 1, "health": 0}
