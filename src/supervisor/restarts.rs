//! Restarts of a process by cause, for `supervisord_process_restarts_total{cause}` on
//! `/metrics`.
//!
//! A restart is every spawn of a process after its first one (the first start, by `autostart`
//! or by hand, is not a restart), counted under one cause:
//! - `exit`: `autorestart` spawned it again after it exited (EXITED → STARTING, at once or
//!   after `restart_delay`);
//! - `backoff`: a retry of a start that failed (BACKOFF → STARTING: a spawn error, or an exit
//!   before `startsecs`);
//! - `memory`: `memory_limit` stopped it and started it again;
//! - `manual`: a start through the API (`supervisorctl start`/`restart`, group and all-process
//!   starts, the web page) of a process that had been started before.
//!
//! Which automatic spawn a step of the state machine made is read from its actions
//! ([`automatic`]), whatever event led to it: the respawn after an exit happens inside the
//! step that handles the reaped child, not on a timer.

use super::process::{Action, Event, ProcessState};

/// Why a process was started again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cause {
    Exit,
    Backoff,
    Memory,
    Manual,
    /// A failing `health_check` (beyond the reference).
    Health,
}

impl Cause {
    pub const ALL: [Cause; 5] = [
        Cause::Exit,
        Cause::Backoff,
        Cause::Memory,
        Cause::Manual,
        Cause::Health,
    ];

    /// The `cause` label.
    pub fn label(self) -> &'static str {
        match self {
            Cause::Exit => "exit",
            Cause::Backoff => "backoff",
            Cause::Memory => "memory",
            Cause::Manual => "manual",
            Cause::Health => "health",
        }
    }
}

/// Restarts of one process by cause, since the daemon read its config.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Restarts {
    pub exit: u64,
    pub backoff: u64,
    pub memory: u64,
    pub manual: u64,
    pub health: u64,
}

impl Restarts {
    pub fn count(&mut self, cause: Cause) {
        match cause {
            Cause::Exit => self.exit += 1,
            Cause::Backoff => self.backoff += 1,
            Cause::Memory => self.memory += 1,
            Cause::Manual => self.manual += 1,
            Cause::Health => self.health += 1,
        }
    }

    pub fn get(&self, cause: Cause) -> u64 {
        match cause {
            Cause::Exit => self.exit,
            Cause::Backoff => self.backoff,
            Cause::Memory => self.memory,
            Cause::Manual => self.manual,
            Cause::Health => self.health,
        }
    }
}

/// The automatic restart that one step (`event` in, `actions` out) made, if any: a spawn the
/// state machine decided on its own, from EXITED or BACKOFF. A `Start` event is a start
/// someone asked for (the API, a `memory_limit` restart): its caller counts it.
pub fn automatic(event: &Event, actions: &[Action]) -> Option<Cause> {
    if *event == Event::Start || !actions.contains(&Action::Spawn) {
        return None;
    }
    actions.iter().rev().find_map(|a| match a {
        Action::StateChanged {
            from,
            to: ProcessState::Starting,
            ..
        } => match from {
            ProcessState::Exited => Some(Cause::Exit),
            ProcessState::Backoff => Some(Cause::Backoff),
            _ => None,
        },
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{AutoRestart, ProcessConfig};
    use crate::supervisor::process::{Context, ExitStatus, Record, step};

    fn ctx(now: f64) -> Context {
        Context {
            now,
            may_autostart: true,
            held: false,
        }
    }

    /// Feed events to a process as the actor does (spawns succeed with pid 42) and count its
    /// automatic restarts.
    fn run(cfg: &ProcessConfig, events: &[(f64, Event)]) -> (Record, Restarts) {
        let mut rec = Record::default();
        let mut restarts = Restarts::default();
        for (t, ev) in events {
            let mut queue = vec![ev.clone()];
            while let Some(ev) = queue.pop() {
                let (r, actions) = step(cfg, rec, ev.clone(), ctx(*t));
                rec = r;
                if let Some(c) = automatic(&ev, &actions) {
                    restarts.count(c);
                }
                if actions.contains(&Action::Spawn) {
                    queue.push(if cfg.command == "missing" {
                        Event::SpawnFailed {
                            msg: "can't find command".into(),
                        }
                    } else {
                        Event::Spawned { pid: 42 }
                    });
                }
            }
        }
        (rec, restarts)
    }

    fn exited(code: i32) -> Event {
        Event::Reaped {
            how: ExitStatus::Exited(code),
        }
    }

    #[test]
    fn a_respawn_inside_the_reaped_step_is_an_exit_restart() {
        let mut c = ProcessConfig::for_test("x", "/bin/sh");
        c.startsecs = 0;
        c.autorestart = AutoRestart::Always;
        // First start (not a restart), RUNNING, then three exits each respawned at once.
        let mut evs = vec![(100.0, Event::Tick), (100.0, Event::Tick)];
        for i in 1..=3 {
            evs.push((100.0 + i as f64 * 0.3, exited(0)));
            evs.push((100.0 + i as f64 * 0.3, Event::Tick));
        }
        let (rec, r) = run(&c, &evs);
        assert_eq!(rec.state, ProcessState::Running);
        assert_eq!(r.get(Cause::Exit), 3);
        assert_eq!(r.get(Cause::Backoff), 0);
    }

    #[test]
    fn a_delayed_restart_is_an_exit_restart_too() {
        let mut c = ProcessConfig::for_test("x", "/bin/sh");
        c.startsecs = 0;
        c.restart_delay = 5;
        let evs = [
            (100.0, Event::Tick),
            (100.0, Event::Tick),
            (110.0, exited(1)),
            (112.0, Event::Tick),
            (115.0, Event::Tick),
        ];
        let (rec, r) = run(&c, &evs);
        assert_eq!(rec.state, ProcessState::Starting);
        assert_eq!(
            r,
            Restarts {
                exit: 1,
                ..Default::default()
            }
        );
    }

    #[test]
    fn retries_after_failed_starts_are_backoff_restarts() {
        // Exits before startsecs: BACKOFF, retried after 1 s, then 2 s, then FATAL.
        let mut c = ProcessConfig::for_test("x", "/bin/false");
        c.startsecs = 10;
        c.startretries = 2;
        let evs = [
            (100.0, Event::Tick),
            (100.1, exited(1)),
            (101.1, Event::Tick),
            (101.2, exited(1)),
            (103.2, Event::Tick),
            (103.3, exited(1)),
            (110.0, Event::Tick),
        ];
        let (rec, r) = run(&c, &evs);
        assert_eq!(rec.state, ProcessState::Fatal);
        assert_eq!(
            r,
            Restarts {
                backoff: 2,
                ..Default::default()
            }
        );
        // Spawn errors: the same.
        let mut c = ProcessConfig::for_test("x", "missing");
        c.startretries = 1;
        let (rec, r) = run(
            &c,
            &[
                (100.0, Event::Tick),
                (101.0, Event::Tick),
                (103.0, Event::Tick),
            ],
        );
        assert_eq!(rec.state, ProcessState::Fatal);
        assert_eq!(
            r,
            Restarts {
                backoff: 1,
                ..Default::default()
            }
        );
    }

    #[test]
    fn first_starts_stops_and_explicit_starts_are_not_automatic_restarts() {
        let mut c = ProcessConfig::for_test("x", "/bin/sh");
        c.startsecs = 0;
        let evs = [
            (100.0, Event::Tick),
            (100.0, Event::Tick),
            (101.0, Event::Stop),
            (
                101.1,
                Event::Reaped {
                    how: ExitStatus::Signaled {
                        signal: 15,
                        core: false,
                    },
                },
            ),
            (102.0, Event::Start),
            (102.0, Event::Tick),
            (103.0, exited(0)),
            (104.0, Event::Start),
        ];
        let (rec, r) = run(&c, &evs);
        assert_eq!(rec.state, ProcessState::Starting);
        assert_eq!(
            r,
            Restarts::default(),
            "autorestart=unexpected, exit 0 expected; starts by hand"
        );
        assert_eq!(automatic(&Event::Start, &[Action::Spawn]), None);
    }
}
