//! Tests of the actor's own logic (settle, shutdown steps, waiters, `exit_on_fatal`, memory
//! restarts) on a fake [`Host`]: fake pids, a clock the test moves, recorded signals. Nothing
//! is forked and nothing sleeps. `deps.rs`: dependencies, checks and the stop order;
//! `scale.rs`: the name index and the deadline queue against a scan of every process.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use nix::errno::Errno;
use tokio::sync::oneshot::error::TryRecvError;

use super::hooks::SpawnExtras;
use super::host::Host;
use super::process::{ExitStatus, ProcessState};
use super::*;

/// What the fake system saw and what it will answer.
#[derive(Default)]
struct World {
    now: f64,
    next_pid: i32,
    /// Program names in the order they were spawned.
    spawned: Vec<String>,
    /// `(pid, signal)` in the order they were sent.
    kills: Vec<(i32, i32)>,
    rss: HashMap<i32, u64>,
    /// Programs whose spawn fails.
    failing: HashSet<String>,
}

#[derive(Clone)]
struct Fake(Arc<Mutex<World>>);

impl Fake {
    fn world(&self) -> std::sync::MutexGuard<'_, World> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn advance(&self, secs: f64) {
        self.world().now += secs;
    }
}

impl Host for Fake {
    fn now(&self) -> f64 {
        self.world().now
    }

    fn spawn(&mut self, process: &mut Process, _: &Config, _: &SpawnExtras) -> Result<i32, String> {
        let mut w = self.world();
        let name = process.config.name.clone();
        if w.failing.contains(&name) {
            return Err(format!("can't find command '{}'", name));
        }
        w.next_pid += 1;
        w.spawned.push(name);
        Ok(1000 + w.next_pid)
    }

    fn kill(&mut self, pid: i32, sig: i32, _as_group: bool) -> Result<(), Errno> {
        self.world().kills.push((pid, sig));
        Ok(())
    }

    fn tree_rss(&mut self, pids: &[i32]) -> Vec<u64> {
        let w = self.world();
        pids.iter()
            .map(|p| w.rss.get(p).copied().unwrap_or(0))
            .collect()
    }
}

/// A config from the text of its sections after `[supervisord]` (`supervisord` lines first).
fn config(supervisord: &str, programs: &str) -> Config {
    static N: AtomicU64 = AtomicU64::new(0);
    let dir = std::env::temp_dir().join(format!(
        "supervisord-actor-test-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).expect("scratch dir");
    let conf = dir.join("supervisord.conf");
    std::fs::write(
        &conf,
        format!("[supervisord]\n{}\n{}", supervisord, programs),
    )
    .expect("write config");
    let cfg = crate::config::load(&conf).expect("config loads");
    let _ = std::fs::remove_dir_all(&dir);
    cfg
}

/// A `[program:x]` section with no log files, plus `extra` lines.
fn program(name: &str, extra: &str) -> String {
    format!(
        "[program:{}]\ncommand=/bin/true\nstdout_logfile=NONE\nstderr_logfile=NONE\n{}\n",
        name, extra
    )
}

fn actor(supervisord: &str, programs: &str) -> (Supervisor, Fake) {
    let fake = Fake(Arc::new(Mutex::new(World {
        now: 1_000_000.0,
        ..World::default()
    })));
    (
        Supervisor::with_host(config(supervisord, programs), Box::new(fake.clone())),
        fake,
    )
}

/// One turn of the actor's loop after a message or a timer: the processes are looked at again.
fn turn(s: &mut Supervisor) {
    s.dirty = true;
    s.settle();
}

fn key(s: &Supervisor, name: &str) -> ProcessKey {
    s.find(name, name).expect("process exists")
}

fn state(s: &Supervisor, name: &str) -> ProcessState {
    s.view(key(s, name), 0).state
}

fn pid(s: &Supervisor, name: &str) -> i32 {
    s.view(key(s, name), 0).pid
}

/// The child `pid` died of the SIGTERM it was sent; the actor takes its turn.
fn reap(s: &mut Supervisor, pid: i32) {
    s.reaped(
        pid,
        ExitStatus::Signaled {
            signal: libc::SIGTERM,
            core: false,
        },
    );
    turn(s);
}

#[test]
fn settle_autostarts_by_group_priority_and_startsecs_zero_runs_at_once() {
    let programs = [
        program("late", "priority=300\nstartsecs=0"),
        program("early", "priority=100\nstartsecs=0"),
        program("manual", "autostart=false"),
    ]
    .concat();
    let (mut s, fake) = actor("", &programs);
    turn(&mut s);
    assert_eq!(fake.world().spawned, ["early", "late"]);
    assert_eq!(state(&s, "early"), ProcessState::Running);
    assert_eq!(state(&s, "late"), ProcessState::Running);
    assert_eq!(state(&s, "manual"), ProcessState::Stopped);
    // Nothing is due any more: the actor would sleep until a message arrives.
    assert_eq!(s.next_deadline(), None);
}

#[test]
fn shutdown_stops_one_group_at_a_time_highest_priority_first() {
    let programs = [
        program("a", "priority=100\nstartsecs=0"),
        program("b", "priority=200\nstartsecs=0"),
    ]
    .concat();
    let (mut s, fake) = actor("", &programs);
    turn(&mut s);
    let (pa, pb) = (pid(&s, "a"), pid(&s, "b"));
    s.set_mood(Mood::Shutdown);
    turn(&mut s);
    assert_eq!(fake.world().kills, [(pb, libc::SIGTERM)]);
    assert_eq!(state(&s, "a"), ProcessState::Running);
    assert!(!s.finished());
    reap(&mut s, pb);
    assert_eq!(
        fake.world().kills,
        [(pb, libc::SIGTERM), (pa, libc::SIGTERM)]
    );
    assert_eq!(state(&s, "b"), ProcessState::Stopped);
    s.reaped(pa, ExitStatus::Exited(0));
    turn(&mut s);
    assert!(s.finished());
    // No autostart while shutting down.
    assert_eq!(fake.world().spawned, ["a", "b"]);
}

#[test]
fn a_start_waiter_resolves_when_startsecs_have_passed() {
    let (mut s, fake) = actor("", &program("p", "autostart=false\nstartsecs=5"));
    turn(&mut s);
    let k = key(&s, "p");
    let Outcome::Wait(mut rx) = s.start(k, true) else {
        panic!("a start with startsecs waits")
    };
    turn(&mut s);
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    assert_eq!(s.next_deadline(), Some(fake.now() + 5.0));
    fake.advance(5.0);
    turn(&mut s);
    assert_eq!(rx.try_recv(), Ok(Ok(())));
    assert_eq!(state(&s, "p"), ProcessState::Running);
    // A second start is refused at once.
    assert!(matches!(
        s.start(k, true),
        Outcome::Done(Err(ControlError::AlreadyStarted))
    ));
}

#[test]
fn a_start_waiter_gets_the_error_when_the_process_exits_too_quickly() {
    let (mut s, fake) = actor("", &program("p", "autostart=false\nstartsecs=5"));
    let k = key(&s, "p");
    let Outcome::Wait(mut rx) = s.start(k, true) else {
        panic!("a start with startsecs waits")
    };
    let p = pid(&s, "p");
    fake.advance(1.0);
    s.reaped(p, ExitStatus::Exited(1));
    turn(&mut s);
    assert_eq!(rx.try_recv(), Ok(Err(ControlError::SpawnError)));
    assert_eq!(state(&s, "p"), ProcessState::Backoff);
}

#[test]
fn a_stop_waiter_resolves_when_the_child_is_reaped() {
    let (mut s, fake) = actor("", &program("p", "startsecs=0"));
    turn(&mut s);
    let (k, p) = (key(&s, "p"), pid(&s, "p"));
    let Outcome::Wait(mut rx) = s.stop(k, true) else {
        panic!("a stop waits for the child")
    };
    assert_eq!(fake.world().kills, [(p, libc::SIGTERM)]);
    turn(&mut s);
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    reap(&mut s, p);
    assert_eq!(rx.try_recv(), Ok(Ok(())));
    assert!(matches!(
        s.stop(k, true),
        Outcome::Done(Err(ControlError::NotRunning))
    ));
}

#[test]
fn removing_a_group_resolves_its_waiters() {
    let (mut s, _fake) = actor("", &program("p", "autostart=false\nstartsecs=5"));
    let k = key(&s, "p");
    let Outcome::Wait(mut rx) = s.start(k, true) else {
        panic!("a start with startsecs waits")
    };
    assert_eq!(s.remove_group("p"), Err(GroupError::StillRunning));
    let p = pid(&s, "p");
    s.stop(k, false);
    s.reaped(p, ExitStatus::Exited(0));
    assert_eq!(s.remove_group("p"), Ok(()));
    assert_eq!(rx.try_recv(), Ok(Err(ControlError::AbnormalTermination)));
}

#[test]
fn exit_on_fatal_shuts_down_with_the_programs_exit_status() {
    let (mut s, fake) = actor(
        "exit_on_fatal=true",
        &program("p", "startsecs=10\nstartretries=0"),
    );
    turn(&mut s);
    let p = pid(&s, "p");
    fake.advance(1.0);
    s.reaped(p, ExitStatus::Exited(3));
    assert_eq!(state(&s, "p"), ProcessState::Fatal);
    assert_eq!(s.mood(), Mood::Shutdown);
    assert_eq!(s.exit_code, 3);
    turn(&mut s);
    assert!(s.finished());
}

#[test]
fn exit_on_fatal_after_spawn_errors_exits_with_1() {
    let (mut s, fake) = actor("exit_on_fatal=true", &program("p", "startretries=0"));
    fake.world().failing.insert("p".into());
    turn(&mut s);
    assert_eq!(state(&s, "p"), ProcessState::Fatal);
    assert_eq!((s.mood(), s.exit_code), (Mood::Shutdown, 1));
}

#[test]
fn without_exit_on_fatal_a_fatal_program_leaves_the_daemon_running() {
    let (mut s, fake) = actor("", &program("p", "startretries=0"));
    fake.world().failing.insert("p".into());
    turn(&mut s);
    assert_eq!(state(&s, "p"), ProcessState::Fatal);
    assert_eq!((s.mood(), s.exit_code), (Mood::Running, 0));
}

#[test]
fn a_process_over_its_memory_limit_is_restarted_gracefully() {
    let (mut s, fake) = actor(
        "memory_check_interval=10",
        &program("p", "startsecs=0\nmemory_limit=10MB"),
    );
    turn(&mut s);
    let p = pid(&s, "p");
    fake.world().rss.insert(p, 20 * 1024 * 1024);
    // The first check is scheduled one interval after the process runs.
    assert_eq!(s.next_deadline(), Some(fake.now()));
    turn(&mut s);
    assert!(fake.world().kills.is_empty());
    assert_eq!(s.next_deadline(), Some(fake.now() + 10.0));
    fake.advance(10.0);
    turn(&mut s);
    assert_eq!(fake.world().kills, [(p, libc::SIGTERM)]);
    assert_eq!(state(&s, "p"), ProcessState::Stopping);
    reap(&mut s, p);
    assert_eq!(fake.world().spawned, ["p", "p"]);
    assert_eq!(state(&s, "p"), ProcessState::Running);
    let v = s.view(key(&s, "p"), 0);
    assert_eq!((v.restarts.memory, v.rss), (1, 20 * 1024 * 1024));
}

#[test]
fn a_process_under_its_memory_limit_is_left_alone() {
    let (mut s, fake) = actor(
        "memory_check_interval=10",
        &program("p", "startsecs=0\nmemory_limit=10MB"),
    );
    turn(&mut s);
    let p = pid(&s, "p");
    fake.world().rss.insert(p, 1024 * 1024);
    turn(&mut s);
    fake.advance(10.0);
    turn(&mut s);
    assert!(fake.world().kills.is_empty());
    assert_eq!(state(&s, "p"), ProcessState::Running);
}

#[test]
fn the_three_orders_of_all_processes() {
    let mut programs = String::from("[group:g]\nprograms=zeta,alpha,mid\npriority=200\n");
    for (name, prio) in [("zeta", 10), ("alpha", 30), ("mid", 20)] {
        programs += &program(name, &format!("priority={}\nautostart=false", prio));
    }
    programs += &program("b", "priority=100\nautostart=false");
    let (s, _fake) = actor("", &programs);
    let names = |keys: Vec<ProcessKey>| -> Vec<String> {
        keys.into_iter().map(|k| s.id(k).namespec).collect()
    };
    assert_eq!(names(s.all_in_order()), ["b", "g:zeta", "g:alpha", "g:mid"]);
    assert_eq!(
        names(s.all_by_priority()),
        ["b", "g:zeta", "g:mid", "g:alpha"]
    );
    assert_eq!(names(s.all_lexical()), ["b", "g:alpha", "g:mid", "g:zeta"]);
    assert_eq!(
        s.lookup("g:*"),
        Some(Selection::Group(s.group_members("g").unwrap()))
    );
    assert_eq!(s.lookup("g:mid"), s.find_spec("g:mid").map(Selection::One));
    assert_eq!(s.lookup("g:nope"), None);
    assert_eq!(s.find_spec("g:*"), None);
}

mod deps;
mod scale;
