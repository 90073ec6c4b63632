"""depends_on and ready_check (beyond the reference): start order gated on readiness.

A `db` that listens only once the test lets it (a file appears), a one-shot `migrate` that
depends on `db:ready` and exits 0, and an `app` that depends on `migrate:completed` and
`db:ready`: while db is not ready, `migrate` and `app` stay STOPPED with a description naming
what they wait for (supervisorctl status, getProcessInfo); then the main log shows db ready,
migrate spawned and exited, and only then app spawned. A dependency that goes FATAL leaves its
dependant waiting with that reason, and `dependency_timeout` turns the wait into FATAL. A cycle
and an unknown name are config errors naming file, section and key. SIGTERM, `stop all` and
a group's stop signal a dependency only once its dependants are down. The reference ignores the new keys: the same configs start under it.
"""

import signal

import pytest

from conftest import CHILDREN, kernel_port, wait_until

SVC = "@PYTHON@ %s" % (CHILDREN / "svc.py")


def chain(port):
    return """
    [program:db]
    command={svc} db {port} @TMP@/go
    ready_check=tcp://127.0.0.1:{port}
    ready_interval=1
    startsecs=0
    stopwaitsecs=5

    [program:migrate]
    command={svc} once 0
    depends_on=db:ready
    startsecs=0
    autorestart=false

    [program:app]
    command=sleep 1000
    depends_on=migrate:completed, db:ready
    startsecs=0
    stopwaitsecs=5
    """.format(svc=SVC, port=port)


def log_index(d, needle):
    text = d.log_text()
    assert needle in text, "%r not in the main log:\n%s" % (needle, text)
    return text.index(needle)


def start_chain(make_daemon):
    """Start ours on the chain; returns the daemon once db listens (a port the kernel
    suggested: another is tried when db finds it taken)."""
    for _ in range(10):
        d = make_daemon("ours")
        d.start(chain(kernel_port()))
        info = d.info("app")
        assert info["statename"] == "STOPPED"
        assert info["description"].startswith("waiting for migrate (completed)"), info
        assert d.info("migrate")["description"] == "waiting for db (ready)"
        rc, out, _ = d.ctl("status", "migrate", "app")
        assert "waiting for migrate (completed), db (ready)" in out, out
        assert "waiting for db (ready)" in out, out
        assert rc == 3
        assert d.state("db") == "STARTING"
        (d.tmp / "go").touch()
        wait_until(lambda: "listening on" in d.log_text() or "bind failed" in d.log_text()
                   or d.state("db") == "RUNNING", daemon=d, what="db to bind")
        if "bind failed" not in d.log_text():
            return d
        d.stop()
    raise AssertionError("no port could be bound")


def test_start_order_follows_readiness_and_completion(make_daemon):
    d = start_chain(make_daemon)
    d.wait_state("app", "RUNNING")
    assert d.state("db") == "RUNNING"
    assert d.state("migrate") == "EXITED"
    ready = log_index(d, "success: db entered RUNNING state, its ready_check tcp://")
    migrate = log_index(d, "spawned: 'migrate'")
    exited = log_index(d, "exited: migrate (exit status 0; expected)")
    app = log_index(d, "spawned: 'app'")
    assert ready < migrate < exited < app
    assert log_index(d, "spawned: 'db'") < ready


def test_sigterm_stops_dependants_first(make_daemon):
    d = start_chain(make_daemon)
    d.wait_state("app", "RUNNING")
    d.send(signal.SIGTERM)
    assert d.wait_exit() == 0
    assert log_index(d, "stopped: app") < log_index(d, "stopped: db")


def stop_order_config(grouped):
    """db <- app <- web; app and web take a while to die (2 s, 1 s) once signalled."""
    return """
    [program:db]
    command=sleep 1000
    startsecs=0

    [program:app]
    command={svc} linger 1 @TMP@/app.up
    depends_on=db
    startsecs=0

    [program:web]
    command={svc} linger 2 @TMP@/web.up
    depends_on=app:started
    startsecs=0
    {group}
    """.format(svc=SVC, group="[group:stack]\n    programs=db,app,web" if grouped else "")


def stopped_order(d):
    return [l.split("stopped: ")[1].split()[0] for l in d.log_text().splitlines()
            if "stopped: " in l]


@pytest.mark.parametrize("how", ["stopAllProcesses", "stopProcessGroup"])
def test_stop_all_and_group_stops_signal_a_dependency_once_its_dependants_are_down(
        make_daemon, how):
    d = make_daemon("ours")
    grouped = how == "stopProcessGroup"
    d.start(stop_order_config(grouped))
    name = (lambda n: "stack:" + n) if grouped else (lambda n: n)
    for n in ("db", "app", "web"):
        d.wait_state(name(n), "RUNNING")
    wait_until(lambda: (d.tmp / "app.up").exists() and (d.tmp / "web.up").exists(),
               daemon=d, what="the SIGTERM handlers")
    if grouped:
        d.rpc.supervisor.stopProcessGroup("stack", False)
    else:
        d.rpc.supervisor.stopAllProcesses(False)
    # web takes 2 s to die: meanwhile db is still RUNNING, and says why
    db = d.info(name("db"))
    assert (db["statename"], db["description"]) == ("RUNNING", "stopping after app")
    assert d.state(name("app")) == "RUNNING"
    for n in ("db", "app", "web"):
        d.wait_state(name(n), "STOPPED")
    # db dies at once when signalled: signalled together it would have been first
    assert stopped_order(d) == ["web", "app", "db"]


FATAL_DEP = """
    [program:db]
    command=/nonexistent/db
    startretries=0

    [program:app]
    command=sleep 1000
    depends_on=db
    startsecs=0

    [program:late]
    command=sleep 1000
    depends_on=db:started
    dependency_timeout=1
    """


def test_a_fatal_dependency_leaves_dependants_waiting_or_fatal(make_daemon):
    d = make_daemon("ours")
    d.start(FATAL_DEP)
    d.wait_state("db", "FATAL")
    wait_until(lambda: d.info("app")["description"]
               == "waiting for db (running): db entered FATAL", daemon=d,
               what="app to wait with db's reason")
    assert d.state("app") == "STOPPED"
    info = d.wait_state("late", "FATAL")
    assert info["description"] == (
        "waiting for db (started): db entered FATAL after 1 seconds (dependency_timeout)")
    assert "spawned: 'app'" not in d.log_text()
    # an explicit start is not held
    d.rpc.supervisor.startProcess("app")
    assert d.state("app") == "RUNNING"


def test_cycles_and_unknown_names_are_config_errors(make_daemon):
    cycle = """
    [program:a]
    command=sleep 1000
    depends_on=b:ready

    [program:b]
    command=sleep 1000
    depends_on=a
    """
    d = make_daemon("ours")
    d.write_config(cycle)
    rc, _, err = d.run_to_exit()
    assert rc == 2
    assert "depends_on forms a cycle: " in err, err
    assert "in section 'program:" in err and "(key: 'depends_on')" in err, err
    assert "(file: '%s')" % d.conf in err, err

    unknown = """
    [program:a]
    command=sleep 1000
    depends_on=nope:ready
    """
    d = make_daemon("ours")
    d.write_config(unknown)
    rc, _, err = d.run_to_exit()
    assert rc == 2
    assert ("depends_on names unknown program or process nope in section 'program:a' "
            "(file: '%s') (key: 'depends_on')" % d.conf) in err, err


def test_the_reference_starts_the_same_configs(make_daemon):
    """Unknown keys are ignored by the reference: every program starts (db binds at once)."""
    ref = make_daemon("ref")
    ref.start(chain(kernel_port()) + """
    [program:cyc]
    command=sleep 1000
    depends_on=cyc
    ready_check=notify
    health_check=http://127.0.0.1:1/health
    health_interval=1
    """)
    (ref.tmp / "go").touch()
    ref.wait_state("app", "RUNNING")
    ref.wait_state("cyc", "RUNNING")
    assert ref.state("migrate") == "EXITED"


RESTART_DEPENDENTS = """
    [program:db]
    command=sleep 1000
    startsecs=0
    restart_dependents=true

    [program:app]
    command=sleep 1000
    depends_on=db
    startsecs=0

    [program:side]
    command=sleep 1000
    depends_on=db:started
    startsecs=0
    """


def test_restart_dependents_restarts_what_needs_it_running(make_daemon):
    d = make_daemon("ours")
    d.start(RESTART_DEPENDENTS)
    app = d.wait_state("app", "RUNNING")["pid"]
    side = d.wait_state("side", "RUNNING")["pid"]
    rc, out, err = d.ctl("restart", "db")
    assert rc == 0, (out, err)
    wait_until(lambda: d.info("app")["statename"] == "RUNNING" and d.info("app")["pid"] != app,
               daemon=d, what="app to run again with a new pid")
    assert "app: stopped with db (restart_dependents)" in d.log_text()
    # `started` does not need db to keep running
    assert d.info("side")["pid"] == side
    # `stop db` alone: app stops and waits for db to be back
    rc, out, err = d.ctl("stop", "db")
    assert rc == 0, (out, err)
    wait_until(lambda: d.info("app")["description"] == "waiting for db (running)",
               daemon=d, what="app to wait for db")
    assert d.state("app") == "STOPPED"
    d.rpc.supervisor.startProcess("db")
    d.wait_state("app", "RUNNING")


def update_config(version):
    return """
    [program:cache]
    command=sleep 100{v}
    startsecs=0

    [program:web]
    command=sleep 100{v}
    depends_on=cache
    startsecs=0
    """.format(v=version)


def test_update_stops_changed_dependants_first(make_daemon):
    d = make_daemon("ours")
    d.start(update_config(1))
    d.wait_state("web", "RUNNING")
    d.write_config(update_config(2))
    rc, out, err = d.ctl("update")
    assert rc == 0, (out, err)
    assert log_index(d, "stopped: web") < log_index(d, "stopped: cache")
    d.wait_state("web", "RUNNING")
