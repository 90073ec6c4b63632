//! Beyond the reference: readiness (`ready_check`) and health (`health_check`) checks.
//!
//! Each process has a [`Watch`]: which check phase it is in (readiness while STARTING,
//! health while RUNNING, for the current pid), when the next probe is due, the failures in a
//! row and the last answer. [`plan`] is the pure part (what a process's state means for its
//! checks); the actor calls [`Supervisor::checks_settle`] on every settle and includes
//! [`Supervisor::checks_deadline`] in its timer, so an idle daemon wakes only when a probe is
//! due. Probes never block the actor: `tcp`, `http` and `exec` run as tokio tasks with their
//! own timeout and report back as a message ([`Supervisor::probe_done`]); `log:` lines come
//! from the output readers' `on_chunk` hook ([`log`]) and `notify` datagrams from a socket
//! per process ([`notify`]), both as messages too ([`Supervisor::check_signal`]).

pub mod exec;
pub mod http;
pub mod log;
pub mod notify;
pub mod tcp;

use std::time::Duration;

use crate::config::deps::Check;
use crate::config::{LogLevel, ProcessConfig};
use crate::logs::mainlog::log as mainlog;

use super::process::{Event, ProcessState, Record};
use super::restarts::Cause;
use super::{Msg, ProcessKey, Supervisor};

/// Which check a process is under.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// STARTING, `ready_check` not passed yet.
    Ready,
    /// RUNNING with a `health_check`.
    Health,
}

/// The checks' runtime state of one process.
#[derive(Debug, Default)]
pub struct Watch {
    /// When it began to wait for its dependencies (0.0: not yet seen waiting).
    pub waiting_since: f64,
    /// Stopped with a dependency (`restart_dependents`): starts again when it is met.
    pub restart_held: bool,
    /// Its stop waits for dependants on their way down (see `stopping`).
    pub stop_held: bool,
    /// The number of its last stop request (0: none).
    pub stop_seq: u64,
    /// The phase and the pid it applies to; a new phase starts a new count.
    pub phase: Option<(Phase, i32)>,
    /// Bumped at each new phase: answers of an older probe are ignored.
    pub seq: u64,
    /// When the next active probe is due, or (notify health) when the watchdog period ends.
    pub due: f64,
    pub in_flight: bool,
    pub failures: u32,
    pub last_answer: Option<String>,
    /// The pid of the running `exec:` probe (0: none).
    pub probe_pid: i32,
    /// The `NOTIFY_SOCKET` of the current child.
    pub notify: Option<notify::NotifySocket>,
}

/// Something a child told us without being asked.
#[derive(Clone, Debug, PartialEq)]
pub enum Signal {
    /// `READY=1`, or a `log:` line that matched.
    Ready(String),
    /// `WATCHDOG=1`.
    Watchdog,
    /// `STATUS=...`.
    Status(String),
}

/// The phase a process is in, from its state: `None` when no check applies.
pub fn plan(cfg: &ProcessConfig, rec: &Record) -> Option<(Phase, i32)> {
    if rec.pid == 0 {
        return None;
    }
    match rec.state {
        ProcessState::Starting if !rec.ready && cfg.deps.ready_check.is_some() => {
            Some((Phase::Ready, rec.pid))
        }
        ProcessState::Running if cfg.deps.health_check.is_some() => Some((Phase::Health, rec.pid)),
        _ => None,
    }
}

/// The check of a phase.
fn check_of(cfg: &ProcessConfig, phase: Phase) -> Option<&Check> {
    match phase {
        Phase::Ready => cfg.deps.ready_check.as_ref(),
        Phase::Health => cfg.deps.health_check.as_ref(),
    }
}

/// An active probe (one the daemon runs): tcp, http, exec.
fn active(check: &Check) -> bool {
    matches!(
        check,
        Check::Tcp { .. } | Check::Http { .. } | Check::Exec(_)
    )
}

impl Supervisor {
    /// Keep the watch of the process at `key` in step with its state, and start or judge what
    /// is due.
    pub(crate) fn checks_settle(&mut self, key: ProcessKey) {
        let p = self.proc(key);
        let d = &p.config.deps;
        if d.ready_check.is_none() && d.health_check.is_none() && p.watch.phase.is_none() {
            // Nothing to watch (`plan` is `None` and so is the watch): no clock read per process.
            return;
        }
        let now = self.host.now();
        let running = self.mood == super::Mood::Running;
        let p = self.proc_mut(key);
        let phase = plan(&p.config, &p.rec);
        if p.watch.phase != phase {
            let w = &mut p.watch;
            w.phase = phase;
            w.seq += 1;
            w.in_flight = false;
            w.failures = 0;
            w.due = match phase {
                Some((Phase::Ready, _)) => now,
                Some((Phase::Health, _)) => now + p.config.deps.health_interval as f64,
                None => 0.0,
            };
        }
        let Some((phase, pid)) = phase else { return };
        if p.watch.in_flight || now < p.watch.due || !running {
            return;
        }
        let Some(check) = check_of(&p.config, phase).cloned() else {
            return;
        };
        if active(&check) {
            p.watch.in_flight = true;
            self.start_probe(key, check, pid);
        } else if phase == Phase::Health && check == Check::Notify {
            // A watchdog period passed without WATCHDOG=1.
            p.watch.due = now + p.config.deps.health_interval as f64;
            let answer = format!(
                "no WATCHDOG=1 within {} seconds",
                p.config.deps.health_interval
            );
            self.health_failed(key, answer);
        }
    }

    /// The earliest time a check is due.
    pub(crate) fn checks_deadline(&self) -> Option<f64> {
        let mut best: Option<f64> = None;
        for &key in self.index.watched() {
            let p = self.proc(key);
            let Some((phase, _)) = p.watch.phase else {
                continue;
            };
            let Some(check) = check_of(&p.config, phase) else {
                continue;
            };
            let timed = active(check) || (phase == Phase::Health && *check == Check::Notify);
            if timed && !p.watch.in_flight && p.watch.due > 0.0 {
                best = Some(best.map_or(p.watch.due, |b| b.min(p.watch.due)));
            }
        }
        best
    }

    /// Run a probe as a task; its answer comes back as [`Supervisor::probe_done`].
    fn start_probe(&mut self, key: ProcessKey, check: Check, pid: i32) {
        let seq = self.proc(key).watch.seq;
        let id = self.id(key);
        let timeout = Duration::from_secs(self.proc(key).config.deps.health_timeout);
        if let Check::Exec(cmd) = &check {
            let result = exec::start(self, key, cmd, timeout);
            if let Err(answer) = result {
                self.probe_done(&id.group, &id.name, seq, false, answer);
            }
            return;
        }
        let Some(handle) = self.handle.clone() else {
            return;
        };
        let _ = pid;
        tokio::spawn(async move {
            let result = match tokio::time::timeout(timeout, probe(&check)).await {
                Ok(r) => r,
                Err(_) => Err(format!("no answer within {} seconds", timeout.as_secs())),
            };
            let (ok, answer) = match result {
                Ok(a) => (true, a),
                Err(a) => (false, a),
            };
            handle.send(Msg::Call(Box::new(move |s: &mut Supervisor| {
                s.probe_done(&id.group, &id.name, seq, ok, answer)
            })));
        });
    }

    /// The answer of a probe started for phase number `seq`.
    pub(crate) fn probe_done(&mut self, group: &str, name: &str, seq: u64, ok: bool, a: String) {
        let Some(key) = self.find(group, name) else {
            return;
        };
        let now = self.host.now();
        let p = self.proc_mut(key);
        if p.watch.seq != seq {
            return;
        }
        p.watch.in_flight = false;
        p.watch.last_answer = Some(a.clone());
        let Some((phase, _)) = p.watch.phase else {
            return;
        };
        match phase {
            Phase::Ready => {
                if ok {
                    self.apply(key, Event::Ready { answer: a });
                } else {
                    p.watch.due = now + p.config.deps.ready_interval as f64;
                }
            }
            Phase::Health => {
                p.watch.due = now + p.config.deps.health_interval as f64;
                if ok {
                    p.watch.failures = 0;
                } else {
                    self.health_failed(key, a);
                }
            }
        }
        self.dirty = true;
    }

    /// A child's own word (`READY=1`, `WATCHDOG=1`, a `log:` match) for its process `pid`.
    pub(crate) fn check_signal(&mut self, group: &str, name: &str, pid: i32, signal: Signal) {
        let Some(key) = self.find(group, name) else {
            return;
        };
        let now = self.host.now();
        let p = self.proc_mut(key);
        if p.rec.pid != pid || pid == 0 {
            return;
        }
        match signal {
            Signal::Ready(answer) => {
                let ready_by_signal = matches!(
                    p.config.deps.ready_check,
                    Some(Check::Notify) | Some(Check::Log(_))
                );
                if ready_by_signal && p.watch.phase == Some((Phase::Ready, pid)) {
                    p.watch.last_answer = Some(answer.clone());
                    self.apply(key, Event::Ready { answer });
                    self.dirty = true;
                }
            }
            Signal::Watchdog => {
                if p.config.deps.health_check == Some(Check::Notify)
                    && p.watch.phase == Some((Phase::Health, pid))
                {
                    p.watch.failures = 0;
                    p.watch.last_answer = Some("WATCHDOG=1".into());
                    p.watch.due = now + p.config.deps.health_interval as f64;
                }
            }
            Signal::Status(text) => p.watch.last_answer = Some(format!("STATUS={}", text)),
        }
    }

    /// One more failed health check: after `health_retries` in a row, a graceful restart.
    fn health_failed(&mut self, key: ProcessKey, answer: String) {
        let p = self.proc_mut(key);
        p.watch.failures = p.watch.failures.saturating_add(1);
        p.watch.last_answer = Some(answer.clone());
        if p.watch.failures < p.config.deps.health_retries || p.restart_pending {
            return;
        }
        mainlog(
            LogLevel::Warn,
            &format!(
                "health_check: {} (pid {}) failed {} checks in a row (last: {}): restarting",
                p.config.name, p.rec.pid, p.watch.failures, answer
            ),
        );
        p.restarts.count(Cause::Health);
        p.restart_pending = true;
        self.stop_dependents(key);
        self.request_stop(key);
        self.dirty = true;
    }

    /// A RUNNING process whose last health check failed: `health_check X failing (answer)`.
    pub(crate) fn unhealthy(&self, key: ProcessKey) -> Option<String> {
        let p = self.proc(key);
        let check = p.config.deps.health_check.as_ref()?;
        if p.rec.state != ProcessState::Running || p.watch.failures == 0 {
            return None;
        }
        Some(format!(
            "health_check {} failing ({})",
            check,
            p.watch.last_answer.as_deref().unwrap_or("")
        ))
    }

    /// The description of a RUNNING process whose health checks fail, or `None`.
    pub(crate) fn health_note(&self, key: ProcessKey) -> Option<String> {
        let p = self.proc(key);
        let w = &p.watch;
        if p.rec.state != ProcessState::Running || w.failures == 0 {
            return None;
        }
        Some(format!(
            "unhealthy: {} of {} checks failed ({})",
            w.failures,
            p.config.deps.health_retries,
            w.last_answer.as_deref().unwrap_or("")
        ))
    }

    /// What the child of the process at `key` gets beyond the usual environment: a new
    /// `NOTIFY_SOCKET` when it has a `notify` check.
    pub(crate) fn checks_env(&mut self, key: ProcessKey) -> Result<Vec<(String, String)>, String> {
        let p = self.proc(key);
        let wants = [&p.config.deps.ready_check, &p.config.deps.health_check]
            .iter()
            .any(|c| **c == Some(Check::Notify));
        let Some(handle) = self.handle.clone().filter(|_| wants) else {
            return Ok(Vec::new());
        };
        let dir = self.config.supervisord.childlogdir.clone();
        let (group, name) = (p.config.group.clone(), p.config.name.clone());
        let sock = notify::NotifySocket::open(&dir, &handle, &group, &name)?;
        let path = sock.path.to_string_lossy().into_owned();
        self.proc_mut(key).watch.notify = Some(sock);
        Ok(vec![("NOTIFY_SOCKET".into(), path)])
    }

    /// The child of the process at `key` was spawned with pid `pid`.
    pub(crate) fn checks_spawned(&mut self, key: ProcessKey, pid: i32) {
        if let Some(sock) = &self.proc(key).watch.notify {
            sock.serve(pid);
        }
    }

    /// The `description` of a process that waits for its dependencies, for its ready check,
    /// or fails its health checks; `None` for the reference's.
    pub(crate) fn check_description(&self, key: ProcessKey) -> Option<String> {
        if let Some(why) = self.waiting_for(key) {
            return Some(why);
        }
        let p = self.proc(key);
        if let Some((Phase::Ready, _)) = p.watch.phase
            && p.rec.state == ProcessState::Starting
            && let Some(check) = &p.config.deps.ready_check
        {
            return Some(match &p.watch.last_answer {
                Some(a) => format!("waiting for ready_check {} (last: {})", check, a),
                None => format!("waiting for ready_check {}", check),
            });
        }
        if let Some(note) = self.health_note(key) {
            let uptime =
                super::control::format_uptime(self.host.now() as i64 - p.rec.laststart as i64);
            return Some(format!("pid {}, uptime {}, {}", p.rec.pid, uptime, note));
        }
        None
    }

    /// A process reaped: its notify socket goes.
    pub(crate) fn checks_reaped(&mut self, key: ProcessKey) {
        self.proc_mut(key).watch.notify = None;
    }
}

/// Run a tcp or http probe: `Ok(answer)` when it passed.
async fn probe(check: &Check) -> Result<String, String> {
    match check {
        Check::Tcp { host, port } => tcp::probe(host, *port).await,
        Check::Http { host, port, path } => http::probe(host, *port, path).await,
        _ => Err("not an active check".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::deps::parse_check;

    use crate::supervisor::process::tests::states;
    use crate::supervisor::process::{Action, Context, deadline, step};

    fn ctx(now: f64, held: bool) -> Context {
        Context {
            now,
            may_autostart: true,
            held,
        }
    }

    /// The state machine's part: held starts, STARTING until ready, ready_timeout as a failed
    /// start, dependency_timeout as FATAL.
    #[test]
    fn state_machine_readiness_table() {
        use ProcessState::*;
        let mut c = ProcessConfig::for_test("x", "/bin/true");
        c.startsecs = 0;
        c.startretries = 0;
        c.deps.ready_check = parse_check("tcp://127.0.0.1:9", false).unwrap();
        c.deps.ready_timeout = 5;
        // held: no automatic first start
        let (r, a) = step(&c, Record::default(), Event::Tick, ctx(100.0, true));
        assert_eq!((r.state, a.len()), (Stopped, 0));
        let (r, a) = step(&c, r, Event::Tick, ctx(100.0, false));
        assert_eq!(states(&a), vec![(Stopped, Starting)]);
        let (r, _) = step(&c, r, Event::Spawned { pid: 7 }, ctx(100.0, false));
        // startsecs passed, not ready: still STARTING, the deadline is ready_timeout
        let (r, a) = step(&c, r, Event::Tick, ctx(101.0, false));
        assert_eq!((r.state, states(&a)), (Starting, vec![]));
        assert_eq!(deadline(&c, &r, true), Some(105.0));
        let ready = Event::Ready {
            answer: "ok".into(),
        };
        let (r2, a) = step(&c, r.clone(), ready, ctx(102.0, false));
        assert_eq!(states(&a), vec![(Starting, Running)]);
        assert!(r2.ready);
        // ready_timeout: stopped with stopsignal, then BACKOFF (a failed start), then FATAL
        let (r, a) = step(&c, r, Event::Tick, ctx(105.0, false));
        assert_eq!(states(&a), vec![(Starting, Stopping)]);
        assert!(a.contains(&Action::Kill {
            pid: 7,
            sig: libc::SIGTERM,
            as_group: false
        }));
        let how = crate::supervisor::process::ExitStatus::Signaled {
            signal: libc::SIGTERM,
            core: false,
        };
        let (r, a) = step(&c, r, Event::Reaped { how }, ctx(105.5, false));
        assert_eq!(states(&a), vec![(Stopping, Backoff), (Backoff, Fatal)]);
        assert_eq!(
            r.spawnerr.as_deref(),
            Some("not ready within 5 seconds (ready_timeout)")
        );
        // dependency_timeout
        let failed = Event::DependencyFailed {
            reason: "waiting for db (running)".into(),
        };
        let (r, a) = step(&c, Record::default(), failed, ctx(100.0, true));
        assert_eq!((r.state, states(&a)), (Fatal, vec![(Stopped, Fatal)]));
    }

    #[test]
    fn phases_follow_the_state() {
        let mut cfg = ProcessConfig::for_test("x", "/bin/true");
        cfg.deps.ready_check = parse_check("tcp://127.0.0.1:9", false).unwrap();
        cfg.deps.health_check = parse_check("http://127.0.0.1:9/", true).unwrap();
        let rec = |state, pid, ready| Record {
            state,
            pid,
            ready,
            ..Record::default()
        };
        use ProcessState::*;
        assert_eq!(plan(&cfg, &rec(Starting, 0, false)), None);
        assert_eq!(
            plan(&cfg, &rec(Starting, 7, false)),
            Some((Phase::Ready, 7))
        );
        assert_eq!(plan(&cfg, &rec(Starting, 7, true)), None);
        assert_eq!(plan(&cfg, &rec(Running, 7, true)), Some((Phase::Health, 7)));
        assert_eq!(plan(&cfg, &rec(Stopping, 7, true)), None);
        cfg.deps.health_check = None;
        assert_eq!(plan(&cfg, &rec(Running, 7, true)), None);
    }
}
