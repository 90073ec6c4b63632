//! The actor's indexes kept in step: the name index, the deadline queue and the waiters give
//! what a scan of every group and process gives, through adds, removes, restarts and shutdown.

use super::*;

/// The group `name` as the config has it.
fn configured(s: &Supervisor, name: &str) -> crate::config::GroupConfig {
    (s.config().groups.iter())
        .find(|g| g.name == name)
        .cloned()
        .expect("group in the config")
}

/// The name index answers what a scan of the groups answers, for every group and process.
fn assert_index_matches_scan(s: &Supervisor) {
    for (gi, g) in s.groups.iter().enumerate() {
        assert_eq!(s.find_group(&g.config.name), Some(gi));
        for (pi, p) in g.processes.iter().enumerate() {
            let key = ProcessKey {
                group: gi,
                process: pi,
            };
            assert_eq!(s.find(&g.config.name, &p.config.name), Some(key));
            let scan: Vec<ProcessKey> = s
                .all_in_order()
                .into_iter()
                .filter(|k| s.proc(*k).config.program_name == p.config.program_name)
                .collect();
            assert_eq!(s.index.program(&p.config.program_name), scan.as_slice());
        }
    }
}

#[test]
fn the_name_index_follows_added_and_removed_groups() {
    let mut programs = String::from("[group:g]\nprograms=x,y\npriority=50\n");
    programs += &program(
        "x",
        "autostart=false\nnumprocs=2\nprocess_name=%(program_name)s_%(process_num)s",
    );
    programs += &program("y", "autostart=false");
    for (name, prio) in [("a", 10), ("b", 100), ("c", 200)] {
        programs += &program(name, &format!("priority={}\nautostart=false", prio));
    }
    let (mut s, _fake) = actor("", &programs);
    assert_index_matches_scan(&s);
    assert_eq!(s.find_group("b"), Some(2));
    assert_eq!(s.find("g", "x_1").map(|k| k.process), Some(1));
    assert_eq!(s.index.program("x").len(), 2);

    // Removing a group shifts those after it.
    s.remove_group("g").unwrap();
    assert_index_matches_scan(&s);
    assert_eq!(s.find_group("g"), None);
    assert_eq!(s.find("g", "x_0"), None);
    assert!(s.index.program("x").is_empty());
    assert_eq!(s.find_group("c"), Some(2));

    // Adding it back puts it at its priority again.
    let cfg = configured(&s, "g");
    assert!(s.add_group(cfg.clone()));
    assert!(!s.add_group(cfg));
    assert_index_matches_scan(&s);
    assert_eq!(s.find_group("g"), Some(1));
    assert_eq!(s.lookup("g:y"), s.find_spec("g:y").map(Selection::One));
    assert_eq!(s.lookup("nope:y"), None);
    // The last group removed and added back: appended to the index, no rebuild.
    s.remove_group("c").unwrap();
    assert_index_matches_scan(&s);
    let cfg = configured(&s, "c");
    assert!(s.add_group(cfg));
    assert_index_matches_scan(&s);
    assert_eq!(s.find_group("c"), Some(3));
    s.remove_group("a").unwrap();
    s.remove_group("c").unwrap();
    assert_index_matches_scan(&s);
    assert_eq!(s.find_group("b"), Some(1));
}

/// When fresh, the deadline queue holds every process's deadline and nothing else.
fn assert_due_matches_scan(s: &Supervisor) {
    assert!(s.due.fresh(), "a settle leaves the deadline queue fresh");
    let may = s.mood > Mood::Restarting;
    let mut scan: Vec<(ProcessKey, u64)> = Vec::new();
    for key in s.all_in_order() {
        let p = s.proc(key);
        if let Some(d) = process::deadline(&p.config, &p.rec, may) {
            scan.push((key, d.to_bits()));
        }
    }
    let mut queued: Vec<(ProcessKey, u64)> = s
        .due
        .until(f64::INFINITY)
        .map(|k| {
            let p = s.proc(k);
            (
                k,
                process::deadline(&p.config, &p.rec, may).unwrap().to_bits(),
            )
        })
        .collect();
    queued.sort();
    assert_eq!(queued, scan);
}

#[test]
fn the_deadline_queue_follows_every_transition() {
    let programs = [
        program("a", "priority=1\nstartsecs=5"),
        program("b", "priority=2\nstartsecs=10\nstartretries=3"),
        program("c", "priority=3\nautostart=false"),
        program("d", "priority=4\nstartsecs=5"),
    ]
    .concat();
    let (mut s, fake) = actor("", &programs);
    turn(&mut s);
    assert_due_matches_scan(&s);
    assert_eq!(s.next_deadline(), Some(fake.world().now + 5.0));

    fake.advance(5.0);
    turn(&mut s);
    assert_due_matches_scan(&s);
    assert_eq!(state(&s, "a"), ProcessState::Running);
    assert_eq!(state(&s, "d"), ProcessState::Running);
    assert_eq!(state(&s, "b"), ProcessState::Starting);

    // b exits too quickly: BACKOFF, retried when its delay is due.
    s.reaped(pid(&s, "b"), ExitStatus::Exited(1));
    turn(&mut s);
    assert_due_matches_scan(&s);
    assert_eq!(state(&s, "b"), ProcessState::Backoff);
    let retry = s.next_deadline().expect("the retry is due");
    fake.world().now = retry;
    turn(&mut s);
    assert_due_matches_scan(&s);
    assert_eq!(state(&s, "b"), ProcessState::Starting);

    // A removed group shifts the keys; the next settle rebuilds the queue.
    s.remove_group("c").unwrap();
    assert!(!s.due.fresh());
    turn(&mut s);
    assert_due_matches_scan(&s);
    fake.advance(10.0);
    turn(&mut s);
    assert_due_matches_scan(&s);
    assert_eq!(state(&s, "b"), ProcessState::Running);
    assert_eq!(state(&s, "d"), ProcessState::Running);

    // Shutdown, one group at a time: stopwaitsecs deadlines, then the reaps.
    s.set_mood(Mood::Shutdown);
    turn(&mut s);
    assert_due_matches_scan(&s);
    for name in ["d", "b", "a"] {
        assert_eq!(state(&s, name), ProcessState::Stopping);
        s.reaped(pid(&s, name), ExitStatus::Exited(0));
        turn(&mut s);
        assert_due_matches_scan(&s);
    }
    assert_eq!(s.next_deadline(), None);
}

#[test]
fn a_big_start_up_spawns_in_batches_in_order() {
    let programs: String = (0..150)
        .map(|i| program(&format!("p{:03}", i), "startsecs=0"))
        .collect();
    let (mut s, fake) = actor("", &programs);
    turn(&mut s);
    assert_eq!(fake.world().spawned.len(), SPAWN_BATCH);
    assert!(s.more_to_spawn, "the actor knows there is more to start");
    turn(&mut s);
    assert_eq!(fake.world().spawned.len(), 2 * SPAWN_BATCH);
    turn(&mut s);
    assert!(!s.more_to_spawn);
    let want: Vec<String> = (0..150).map(|i| format!("p{:03}", i)).collect();
    assert_eq!(
        fake.world().spawned,
        want,
        "the config's order, batch after batch"
    );
    assert!((0..150).all(|i| state(&s, &format!("p{:03}", i)) == ProcessState::Running));
}

/// A waiting call is kept by its process's key; a group added before that process shifts the
/// keys, and the call still resolves when its process stops.
#[test]
fn waiters_follow_their_process_through_shifted_keys() {
    let mut programs = program("a", "priority=10\nautostart=false");
    for (name, prio) in [("b", 100), ("c", 200)] {
        programs += &program(name, &format!("priority={}\ncommand=/bin/sleep 100", prio));
    }
    let (mut s, _fake) = actor("", &programs);
    turn(&mut s);
    let a = configured(&s, "a");
    s.remove_group("a").unwrap();
    assert_eq!(key(&s, "c").group, 1);
    let c_pid = pid(&s, "c");
    let mut rx = match s.control(Verb::Stop, key(&s, "c"), true) {
        Outcome::Wait(rx) => rx,
        Outcome::Done(r) => panic!("a stop waits: {:?}", r),
    };
    assert!(s.add_group(a));
    assert_eq!(key(&s, "c").group, 2);
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    reap(&mut s, c_pid);
    assert_eq!(rx.try_recv(), Ok(Ok(())));
}
