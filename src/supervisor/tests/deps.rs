//! The actor with `depends_on`, checks and `restart_dependents`: held starts, reverse stop order
//! (a dependency's stop waits for its dependants to be down), restarts with a dependency.

use super::*;

fn description(s: &Supervisor, name: &str) -> String {
    s.view(key(s, name), 0).description
}

#[test]
fn a_held_start_waits_stopped_then_spawns_when_its_dependency_is_running() {
    let programs = [
        program("db", "startsecs=3"),
        program("app", "depends_on=db\nstartsecs=0"),
    ]
    .concat();
    let (mut s, fake) = actor("", &programs);
    turn(&mut s);
    assert_eq!(fake.world().spawned, ["db"]);
    assert_eq!(state(&s, "db"), ProcessState::Starting);
    assert_eq!(state(&s, "app"), ProcessState::Stopped);
    assert_eq!(description(&s, "app"), "waiting for db (running)");
    // Nothing but db's startsecs is due: the wait does not poll.
    assert_eq!(s.next_deadline(), Some(fake.now() + 3.0));
    fake.advance(3.0);
    turn(&mut s);
    assert_eq!(state(&s, "db"), ProcessState::Running);
    assert_eq!(fake.world().spawned, ["db", "app"]);
    assert_eq!(state(&s, "app"), ProcessState::Running);
}

#[test]
fn an_idle_actor_with_a_health_check_wakes_first_for_the_next_check() {
    let programs = program(
        "web",
        "startsecs=0\nhealth_check=tcp://127.0.0.1:9\nhealth_interval=10",
    );
    let (mut s, fake) = actor("", &programs);
    turn(&mut s);
    assert_eq!(state(&s, "web"), ProcessState::Running);
    let due = fake.now() + 10.0;
    assert_eq!(s.next_deadline(), Some(due));
    // A turn before then (a message came) does not move it.
    fake.advance(4.0);
    turn(&mut s);
    assert_eq!(s.next_deadline(), Some(due));
}

#[test]
fn restart_dependents_stops_the_dependants_first_and_starts_them_when_it_is_back() {
    let programs = [
        program("db", "startsecs=0\nrestart_dependents=true"),
        program("app", "depends_on=db:running\nstartsecs=0"),
        program("side", "depends_on=db:started\nstartsecs=0"),
    ]
    .concat();
    let (mut s, fake) = actor("", &programs);
    turn(&mut s);
    let (db, app) = (pid(&s, "db"), pid(&s, "app"));
    assert_eq!(state(&s, "side"), ProcessState::Running);
    // supervisorctl restart db: stopProcess(db), then startProcess(db).
    assert!(matches!(
        s.stop(key(&s, "db"), false),
        Outcome::Done(Ok(()))
    ));
    // db's own stop waits until app is down.
    assert_eq!(fake.world().kills, [(app, libc::SIGTERM)]);
    assert_eq!(description(&s, "db"), "stopping after app");
    s.reaped(app, ExitStatus::Exited(0));
    turn(&mut s);
    assert_eq!(
        fake.world().kills,
        [(app, libc::SIGTERM), (db, libc::SIGTERM)]
    );
    s.reaped(db, ExitStatus::Exited(0));
    turn(&mut s);
    assert_eq!(state(&s, "app"), ProcessState::Stopped);
    assert_eq!(description(&s, "app"), "waiting for db (running)");
    // `started` does not need db to keep running.
    assert_eq!(state(&s, "side"), ProcessState::Running);
    assert!(matches!(
        s.start(key(&s, "db"), false),
        Outcome::Done(Ok(()))
    ));
    turn(&mut s);
    assert_eq!(state(&s, "app"), ProcessState::Running);
    let spawned = fake.world().spawned.clone();
    assert_eq!(spawned[3..], ["db", "app"], "{:?}", spawned);
    assert_eq!(spawned.iter().filter(|n| *n == "side").count(), 1);
}

#[test]
fn without_restart_dependents_a_stopped_dependency_leaves_dependants_alone() {
    let programs = [
        program("db", "startsecs=0"),
        program("app", "depends_on=db\nstartsecs=0"),
    ]
    .concat();
    let (mut s, fake) = actor("", &programs);
    turn(&mut s);
    let db = pid(&s, "db");
    assert!(matches!(
        s.stop(key(&s, "db"), false),
        Outcome::Done(Ok(()))
    ));
    assert_eq!(fake.world().kills, [(db, libc::SIGTERM)]);
    assert_eq!(state(&s, "app"), ProcessState::Running);
}

#[test]
fn update_lists_changed_and_removed_groups_dependants_first() {
    let programs = [
        program("cache", "startsecs=0"),
        program("web", "depends_on=cache\nstartsecs=0"),
        program("other", "startsecs=0"),
    ]
    .concat();
    let (mut s, _fake) = actor("", &programs);
    turn(&mut s);
    let changed = [
        program("cache", "startsecs=1"),
        program("web", "depends_on=cache\nstartsecs=1"),
        program("other", "startsecs=1"),
    ]
    .concat();
    let (added, changed, removed) = s.reload_groups(config("", &changed).groups);
    assert!(added.is_empty() && removed.is_empty());
    assert_eq!(changed, ["other", "web", "cache"]);
    let (_, _, removed) = s.reload_groups(config("", "").groups);
    assert_eq!(removed, ["other", "web", "cache"]);
}

/// db ← app ← web, each its own group.
fn chain() -> String {
    [
        program("db", "startsecs=0"),
        program("app", "depends_on=db\nstartsecs=0"),
        program("web", "depends_on=app:started\nstartsecs=0"),
    ]
    .concat()
}

fn signalled(fake: &Fake) -> Vec<i32> {
    fake.world().kills.iter().map(|&(p, _)| p).collect()
}

#[test]
fn stop_all_signals_a_dependency_only_once_its_dependants_are_down() {
    let (mut s, fake) = actor("", &chain());
    turn(&mut s);
    let (db, app, web) = (pid(&s, "db"), pid(&s, "app"), pid(&s, "web"));
    let all = s.all_by_priority();
    let outcomes = s.control_many(Verb::Stop, all, false);
    // stopAllProcesses(wait=False) answers at once for all three.
    assert_eq!(outcomes.len(), 3);
    assert_eq!(signalled(&fake), [web]);
    assert_eq!(state(&s, "db"), ProcessState::Running);
    assert_eq!(description(&s, "app"), "stopping after web");
    assert_eq!(description(&s, "db"), "stopping after app");
    // Nothing but the children's stopwaitsecs is due: the held stops do not poll.
    assert_eq!(s.next_deadline(), Some(fake.now() + 10.0));
    reap(&mut s, web);
    assert_eq!(signalled(&fake), [web, app]);
    assert_eq!(description(&s, "db"), "stopping after app");
    reap(&mut s, app);
    assert_eq!(signalled(&fake), [web, app, db]);
    reap(&mut s, db);
    for n in ["db", "app", "web"] {
        assert_eq!(state(&s, n), ProcessState::Stopped, "{}", n);
    }
}

#[test]
fn a_waiting_stop_of_a_held_dependency_resolves_when_it_is_reaped() {
    let (mut s, fake) = actor("", &chain());
    turn(&mut s);
    let (db, app, web) = (pid(&s, "db"), pid(&s, "app"), pid(&s, "web"));
    let all = s.all_by_priority();
    let mut rxs: Vec<_> = (s.control_many(Verb::Stop, all, true).into_iter())
        .map(|(k, o)| match o {
            Outcome::Wait(rx) => (s.proc(k).config.name.clone(), rx),
            Outcome::Done(r) => panic!("a stop waits: {:?}", r),
        })
        .collect();
    reap(&mut s, web);
    reap(&mut s, app);
    let mut pending = Vec::new();
    for (n, rx) in rxs.iter_mut() {
        if rx.try_recv() == Err(TryRecvError::Empty) {
            pending.push(n.clone());
        }
    }
    assert_eq!(pending, ["db"]);
    // db's stop has begun now: someone waits on it, so it is reported every 2 seconds, and
    // that is what the actor wakes up for first.
    assert_eq!(state(&s, "db"), ProcessState::Stopping);
    s.stop_reports();
    assert_eq!(s.next_deadline(), Some(fake.now() + 2.001));
    reap(&mut s, db);
    assert_eq!(signalled(&fake), [web, app, db]);
    s.stop_reports();
    assert_eq!(s.next_deadline(), None, "an ended stop is not reported");
}

#[test]
fn the_shutdown_stops_a_group_member_after_its_dependants_in_the_same_group() {
    let programs = [
        program("db", "startsecs=0"),
        program("app", "depends_on=db\nstartsecs=0"),
        "[group:all]\nprograms=db,app\n".to_string(),
    ]
    .concat();
    let (mut s, fake) = actor("", &programs);
    turn(&mut s);
    let k = |s: &Supervisor, n: &str| s.find("all", n).expect("member");
    let (db, app) = (s.proc(k(&s, "db")).rec.pid, s.proc(k(&s, "app")).rec.pid);
    s.set_mood(Mood::Shutdown);
    turn(&mut s);
    assert_eq!(signalled(&fake), [app]);
    reap(&mut s, app);
    assert_eq!(signalled(&fake), [app, db]);
    reap(&mut s, db);
    assert!(s.finished());
}

#[test]
fn a_memory_restart_with_restart_dependents_takes_the_dependants_down_first_and_back_after() {
    let programs = [
        program(
            "db",
            "startsecs=0\nmemory_limit=10MB\nrestart_dependents=true",
        ),
        program("app", "depends_on=db\nstartsecs=0"),
    ]
    .concat();
    let (mut s, fake) = actor("memory_check_interval=10", &programs);
    turn(&mut s);
    let (db, app) = (pid(&s, "db"), pid(&s, "app"));
    fake.world().rss.insert(db, 20 * 1024 * 1024);
    turn(&mut s);
    fake.advance(10.0);
    turn(&mut s);
    assert_eq!(signalled(&fake), [app]);
    reap(&mut s, app);
    assert_eq!(signalled(&fake), [app, db]);
    assert_eq!(description(&s, "app"), "waiting for db (running)");
    reap(&mut s, db);
    assert_eq!(fake.world().spawned, ["db", "app", "db", "app"]);
    assert_eq!(state(&s, "app"), ProcessState::Running);
    assert_eq!(s.view(key(&s, "db"), 0).restarts.memory, 1);
}
