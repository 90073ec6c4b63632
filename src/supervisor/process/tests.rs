//! The state machine's transitions, one event at a time, without processes or a clock.

use super::*;

fn cfg() -> ProcessConfig {
    ProcessConfig::for_test("x", "/bin/true")
}

fn ctx(now: f64) -> Context {
    Context {
        now,
        may_autostart: true,
        held: false,
    }
}

/// The state changes among `actions`, as (from, to).
pub(crate) fn states(actions: &[Action]) -> Vec<(ProcessState, ProcessState)> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::StateChanged { from, to, .. } => Some((*from, *to)),
            _ => None,
        })
        .collect()
}

fn logs(actions: &[Action]) -> Vec<String> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Log(_, m) => Some(m.clone()),
            _ => None,
        })
        .collect()
}

use ProcessState::*;

/// Start a process at t=100 and report it forked with pid 42.
fn started(c: &ProcessConfig) -> Record {
    let (r, a) = step(c, Record::default(), Event::Tick, ctx(100.0));
    assert_eq!(a.last(), Some(&Action::Spawn));
    let (r, _) = step(c, r, Event::Spawned { pid: 42 }, ctx(100.0));
    r
}

#[test]
fn autostart_spawns_then_running_after_startsecs() {
    let c = cfg();
    let (r, a) = step(&c, Record::default(), Event::Tick, ctx(100.0));
    assert_eq!(r.state, Starting);
    assert_eq!(states(&a), vec![(Stopped, Starting)]);
    let (r, a) = step(&c, r, Event::Spawned { pid: 42 }, ctx(100.0));
    assert_eq!(logs(&a), vec!["spawned: 'x' with pid 42"]);
    assert_eq!(deadline(&c, &r, true), Some(101.0));
    let (r, a) = step(&c, r, Event::Tick, ctx(100.5));
    assert_eq!(r.state, Starting);
    assert!(a.is_empty());
    let (r, a) = step(&c, r, Event::Tick, ctx(101.0));
    assert_eq!(r.state, Running);
    assert_eq!(
        logs(&a),
        vec![
            "success: x entered RUNNING state, process has stayed up for > than 1 seconds (startsecs)"
        ]
    );
    assert_eq!(deadline(&c, &r, true), None);
}

#[test]
fn autostart_false_stays_stopped() {
    let mut c = cfg();
    c.autostart = false;
    let (r, a) = step(&c, Record::default(), Event::Tick, ctx(100.0));
    assert_eq!(r.state, Stopped);
    assert!(a.is_empty());
}

#[test]
fn startsecs_zero_is_running_at_the_next_tick() {
    let mut c = cfg();
    c.startsecs = 0;
    let r = started(&c);
    assert_eq!(r.state, Starting);
    assert_eq!(deadline(&c, &r, true), Some(100.0));
    let (r, _) = step(&c, r, Event::Tick, ctx(100.0));
    assert_eq!(r.state, Running);
}

#[test]
fn exit_too_quickly_backs_off_then_fatal() {
    let c = cfg();
    let mut r = started(&c);
    let mut t = 100.0;
    for attempt in 1..=4u32 {
        let (r2, a) = step(
            &c,
            r,
            Event::Reaped {
                how: ExitStatus::Exited(1),
            },
            ctx(t + 0.1),
        );
        r = r2;
        assert!(logs(&a).contains(&"exited: x (exit status 1; not expected)".to_string()));
        if attempt <= 3 {
            assert_eq!(r.state, Backoff);
            assert_eq!(r.backoff, attempt);
            assert_eq!(
                r.spawnerr.as_deref(),
                Some("Exited too quickly (process log may have details)")
            );
            let due = deadline(&c, &r, true).unwrap();
            assert!((due - (t + 0.1 + attempt as f64)).abs() < 1e-9);
            // not yet
            let (r2, a) = step(&c, r, Event::Tick, ctx(due - 0.5));
            assert!(a.is_empty());
            t = due;
            let (r2, a) = step(&c, r2, Event::Tick, ctx(t));
            assert_eq!(a.last(), Some(&Action::Spawn));
            let (r2, _) = step(
                &c,
                r2,
                Event::Spawned {
                    pid: 42 + attempt as i32,
                },
                ctx(t),
            );
            r = r2;
        } else {
            assert_eq!(r.state, Fatal);
            assert!(logs(&a).contains(
                &"gave up: x entered FATAL state, too many start retries too quickly".to_string()
            ));
            assert_eq!(deadline(&c, &r, true), None);
        }
    }
}

#[test]
fn spawn_error_backs_off() {
    let mut c = cfg();
    c.startretries = 0;
    let (r, _) = step(&c, Record::default(), Event::Tick, ctx(100.0));
    let (r, a) = step(
        &c,
        r,
        Event::SpawnFailed {
            msg: "can't find command 'nope'".into(),
        },
        ctx(100.0),
    );
    assert_eq!(logs(&a)[0], "spawnerr: can't find command 'nope'");
    // startretries=0: one attempt, then FATAL at once.
    assert_eq!(r.state, Fatal);
    assert_eq!(states(&a), vec![(Starting, Backoff), (Backoff, Fatal)]);
    assert_eq!(r.spawnerr.as_deref(), Some("can't find command 'nope'"));
}

#[test]
fn expected_exit_with_autorestart_unexpected_stays_exited() {
    let c = cfg();
    let r = started(&c);
    let (r, _) = step(&c, r, Event::Tick, ctx(102.0));
    assert_eq!(r.state, Running);
    let (r, a) = step(
        &c,
        r,
        Event::Reaped {
            how: ExitStatus::Exited(0),
        },
        ctx(103.0),
    );
    assert_eq!(r.state, Exited);
    assert_eq!(r.exitstatus, Some(0));
    assert_eq!(logs(&a), vec!["exited: x (exit status 0; expected)"]);
    assert!(!a.contains(&Action::Spawn));
}

#[test]
fn unexpected_exit_restarts() {
    let c = cfg();
    let (r, _) = step(&c, started(&c), Event::Tick, ctx(102.0));
    let (r, a) = step(
        &c,
        r,
        Event::Reaped {
            how: ExitStatus::Exited(3),
        },
        ctx(103.0),
    );
    assert_eq!(states(&a), vec![(Running, Exited), (Exited, Starting)]);
    assert!(a.contains(&Action::StateChanged {
        from: Running,
        to: Exited,
        expected: false,
        pid: 42,
        tries: 0
    }));
    assert_eq!(r.state, Starting);
    assert_eq!(a.last(), Some(&Action::Spawn));
}

/// A state change carries what its PROCESS_STATE event reports: the child's pid as it was
/// at the change (a reap clears it only after its changes), and the backoff count after it.
#[test]
fn state_changes_carry_pid_and_tries() {
    let changes = |a: &[Action]| -> Vec<(ProcessState, i32, u32)> {
        a.iter()
            .filter_map(|x| match x {
                Action::StateChanged { to, pid, tries, .. } => Some((*to, *pid, *tries)),
                _ => None,
            })
            .collect()
    };
    let mut c = cfg();
    c.startsecs = 10;
    c.startretries = 1;
    // Reaped too quickly: BACKOFF with the dead child's pid and the first try counted.
    let (r, a) = step(
        &c,
        started(&c),
        Event::Reaped {
            how: ExitStatus::Exited(1),
        },
        ctx(101.0),
    );
    assert_eq!(changes(&a), vec![(Backoff, 42, 1)]);
    // The retry keeps the count; no child yet.
    let (r, a) = step(&c, r, Event::Tick, ctx(102.0));
    assert_eq!(changes(&a), vec![(Starting, 0, 1)]);
    let (r, _) = step(&c, r, Event::Spawned { pid: 43 }, ctx(102.0));
    // Too many tries: FATAL, in the same step, clears the count.
    let (r, a) = step(
        &c,
        r,
        Event::Reaped {
            how: ExitStatus::Exited(1),
        },
        ctx(103.0),
    );
    assert_eq!(changes(&a), vec![(Backoff, 43, 2), (Fatal, 0, 0)]);
    assert_eq!(r.backoff, 0);
    // An exit while RUNNING, then the automatic restart.
    let c = cfg();
    let (r, _) = step(&c, started(&c), Event::Tick, ctx(102.0));
    let (_, a) = step(
        &c,
        r,
        Event::Reaped {
            how: ExitStatus::Exited(3),
        },
        ctx(103.0),
    );
    assert_eq!(changes(&a), vec![(Exited, 42, 0), (Starting, 0, 0)]);
}

#[test]
fn autorestart_always_and_never() {
    let mut c = cfg();
    c.autorestart = AutoRestart::Always;
    let (r, _) = step(&c, started(&c), Event::Tick, ctx(102.0));
    let (r, _) = step(
        &c,
        r,
        Event::Reaped {
            how: ExitStatus::Exited(0),
        },
        ctx(103.0),
    );
    assert_eq!(r.state, Starting);
    c.autorestart = AutoRestart::Never;
    let (r, _) = step(&c, started(&c), Event::Tick, ctx(102.0));
    let (r, _) = step(
        &c,
        r,
        Event::Reaped {
            how: ExitStatus::Exited(9),
        },
        ctx(103.0),
    );
    assert_eq!(r.state, Exited);
    assert_eq!(r.spawnerr.as_deref(), Some("Bad exit code 9"));
}

#[test]
fn no_autorestart_while_shutting_down() {
    let mut c = cfg();
    c.autorestart = AutoRestart::Always;
    let (r, _) = step(&c, started(&c), Event::Tick, ctx(102.0));
    let quiet = Context {
        now: 103.0,
        may_autostart: false,
        held: false,
    };
    let (r, a) = step(
        &c,
        r,
        Event::Reaped {
            how: ExitStatus::Exited(0),
        },
        quiet,
    );
    assert_eq!(r.state, Exited);
    assert!(!a.contains(&Action::Spawn));
}

#[test]
fn stop_sends_stopsignal_then_sigkill_after_stopwaitsecs() {
    let mut c = cfg();
    c.stopasgroup = false;
    c.killasgroup = true;
    let (r, _) = step(&c, started(&c), Event::Tick, ctx(102.0));
    let (r, a) = step(&c, r, Event::Stop, ctx(110.0));
    assert_eq!(r.state, Stopping);
    assert!(a.contains(&Action::Kill {
        pid: 42,
        sig: libc::SIGTERM,
        as_group: false
    }));
    assert_eq!(deadline(&c, &r, true), Some(120.0));
    let (r, a) = step(&c, r, Event::Tick, ctx(120.0));
    assert!(logs(&a).contains(&"killing 'x' (42) with SIGKILL".to_string()));
    assert!(a.contains(&Action::Kill {
        pid: 42,
        sig: libc::SIGKILL,
        as_group: true
    }));
    assert_eq!(deadline(&c, &r, true), Some(130.0));
    let (r, a) = step(
        &c,
        r,
        Event::Reaped {
            how: ExitStatus::Signaled {
                signal: 9,
                core: false,
            },
        },
        ctx(121.0),
    );
    assert_eq!(r.state, Stopped);
    assert_eq!(r.exitstatus, Some(-1));
    assert_eq!(logs(&a), vec!["stopped: x (terminated by SIGKILL)"]);
    assert_eq!(
        a.iter().find(|a| matches!(a, Action::Log(..))),
        Some(&Action::Log(
            Level::Warn,
            "stopped: x (terminated by SIGKILL)".into()
        ))
    );
}

#[test]
fn stop_with_expected_exit_logs_info() {
    let c = cfg();
    let (r, _) = step(&c, started(&c), Event::Tick, ctx(102.0));
    let (r, _) = step(&c, r, Event::Stop, ctx(110.0));
    let (r, a) = step(
        &c,
        r,
        Event::Reaped {
            how: ExitStatus::Exited(0),
        },
        ctx(110.2),
    );
    assert_eq!(r.state, Stopped);
    assert!(a.contains(&Action::Log(
        Level::Info,
        "stopped: x (exit status 0)".into()
    )));
}

#[test]
fn stop_in_backoff_goes_straight_to_stopped() {
    let c = cfg();
    let r = started(&c);
    let (r, _) = step(
        &c,
        r,
        Event::Reaped {
            how: ExitStatus::Exited(1),
        },
        ctx(100.1),
    );
    assert_eq!(r.state, Backoff);
    let (r, a) = step(&c, r, Event::Stop, ctx(100.2));
    assert_eq!(r.state, Stopped);
    assert_eq!(states(&a), vec![(Backoff, Stopped)]);
    assert!(!a.iter().any(|a| matches!(a, Action::Kill { .. })));
    // and it does not autostart again (laststart is set)
    let (r, a) = step(&c, r, Event::Tick, ctx(200.0));
    assert_eq!(r.state, Stopped);
    assert!(a.is_empty());
}

#[test]
fn stop_while_starting() {
    let mut c = cfg();
    c.stopasgroup = true;
    let r = started(&c);
    let (r, a) = step(&c, r, Event::Stop, ctx(100.5));
    assert_eq!(r.state, Stopping);
    assert!(a.contains(&Action::Kill {
        pid: 42,
        sig: libc::SIGTERM,
        as_group: true
    }));
}

#[test]
fn give_up_during_shutdown() {
    let c = cfg();
    let (r, _) = step(
        &c,
        started(&c),
        Event::Reaped {
            how: ExitStatus::Exited(1),
        },
        ctx(100.1),
    );
    let quiet = Context {
        now: 100.2,
        may_autostart: false,
        held: false,
    };
    let (r, a) = step(&c, r, Event::GiveUp, quiet);
    assert_eq!(r.state, Fatal);
    assert_eq!(states(&a), vec![(Backoff, Fatal)]);
}

#[test]
fn explicit_start_from_fatal_and_exited() {
    let mut c = cfg();
    c.autorestart = AutoRestart::Never;
    let (r, _) = step(&c, started(&c), Event::Tick, ctx(102.0));
    let (r, _) = step(
        &c,
        r,
        Event::Reaped {
            how: ExitStatus::Exited(0),
        },
        ctx(103.0),
    );
    assert_eq!(r.state, Exited);
    let (r, a) = step(&c, r, Event::Start, ctx(104.0));
    assert_eq!(r.state, Starting);
    assert_eq!(r.exitstatus, None);
    assert_eq!(a.last(), Some(&Action::Spawn));
}

#[test]
fn signal_does_not_change_state() {
    let c = cfg();
    let (r, _) = step(&c, started(&c), Event::Tick, ctx(102.0));
    let (r, a) = step(&c, r, Event::Signal { sig: libc::SIGHUP }, ctx(103.0));
    assert_eq!(r.state, Running);
    assert!(a.contains(&Action::Kill {
        pid: 42,
        sig: libc::SIGHUP,
        as_group: false
    }));
}

#[test]
fn restart_delay_waits_before_the_automatic_restart() {
    let mut c = cfg();
    c.restart_delay = 5;
    let (r, _) = step(&c, started(&c), Event::Tick, ctx(102.0));
    let (r, a) = step(
        &c,
        r,
        Event::Reaped {
            how: ExitStatus::Exited(3),
        },
        ctx(103.0),
    );
    assert_eq!(r.state, Exited);
    assert!(!a.contains(&Action::Spawn));
    assert_eq!(deadline(&c, &r, true), Some(108.0));
    let (r, a) = step(&c, r, Event::Tick, ctx(107.9));
    assert!(a.is_empty());
    let (r, a) = step(&c, r, Event::Tick, ctx(108.0));
    assert_eq!(r.state, Starting);
    assert_eq!(a.last(), Some(&Action::Spawn));
    // an expected exit is not restarted, so nothing is due
    let (r, _) = step(&c, r, Event::Spawned { pid: 7 }, ctx(108.0));
    let (r, _) = step(&c, r, Event::Tick, ctx(110.0));
    let (r, _) = step(
        &c,
        r,
        Event::Reaped {
            how: ExitStatus::Exited(0),
        },
        ctx(111.0),
    );
    assert_eq!(deadline(&c, &r, true), None);
}

#[test]
fn backoff_max_caps_the_wait_and_retry_forever_never_gives_up() {
    let mut c = cfg();
    c.startretries = crate::config::model::RETRY_FOREVER;
    c.backoff_max = Some(3);
    let mut r = started(&c);
    let mut t = 100.0;
    for attempt in 1..=10u32 {
        let (r2, _) = step(
            &c,
            r,
            Event::Reaped {
                how: ExitStatus::Exited(1),
            },
            ctx(t + 0.1),
        );
        assert_eq!(r2.state, Backoff, "attempt {}", attempt);
        let due = deadline(&c, &r2, true).unwrap();
        assert!((due - (t + 0.1 + attempt.min(3) as f64)).abs() < 1e-9);
        t = due;
        let (r2, _) = step(&c, r2, Event::Tick, ctx(t));
        let (r2, _) = step(
            &c,
            r2,
            Event::Spawned {
                pid: 100 + attempt as i32,
            },
            ctx(t),
        );
        r = r2;
    }
    assert_eq!(r.state, Starting);
}

#[test]
fn wait_statuses_read_as_the_reference() {
    assert_eq!(
        ExitStatus::Exited(3).describe(),
        (3, "exit status 3".to_string())
    );
    assert_eq!(
        ExitStatus::Signaled {
            signal: 9,
            core: false
        }
        .describe(),
        (-1, "terminated by SIGKILL".into())
    );
    assert_eq!(
        ExitStatus::Signaled {
            signal: 11,
            core: true
        }
        .describe()
        .1,
        "terminated by SIGSEGV (core dumped)"
    );
}

#[test]
fn killed_by_signal_unexpectedly() {
    let c = cfg();
    let (r, _) = step(&c, started(&c), Event::Tick, ctx(102.0));
    let (r, a) = step(
        &c,
        r,
        Event::Reaped {
            how: ExitStatus::Signaled {
                signal: 9,
                core: false,
            },
        },
        ctx(105.0),
    );
    assert!(logs(&a).contains(&"exited: x (terminated by SIGKILL; not expected)".to_string()));
    // autorestart=unexpected and -1 is not in exitcodes: restarted
    assert_eq!(r.state, Starting);
}

#[test]
fn exit_after_startsecs_while_starting_goes_through_running() {
    // The reaper may see the exit before the startsecs timer fired.
    let c = cfg();
    let r = started(&c);
    let (r, a) = step(
        &c,
        r,
        Event::Reaped {
            how: ExitStatus::Exited(0),
        },
        ctx(101.5),
    );
    assert_eq!(states(&a)[..2], [(Starting, Running), (Running, Exited)]);
    assert_eq!(r.state, Exited);
}
