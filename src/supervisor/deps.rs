//! Beyond the reference: `depends_on` in the actor.
//!
//! A program whose dependencies are not met is held in STOPPED (the state machine's
//! `Context::held`: no automatic first start) and described as `waiting for db (ready)`; it
//! starts at the first settle after they are met, which follows the dependency's own state
//! change: no polling. [`condition`] and [`gate`] are pure (what a dependency's state means for
//! its dependant); the rest reads the actor's processes. `dependency_timeout` is one more
//! deadline of the actor's timer; when it passes the dependant enters FATAL.
//!
//! Stopping goes the other way (dependants first, `restart_dependents`): see `stopping`.

use crate::config::deps::{Condition, Dependency};
use crate::config::{LogLevel, ProcessConfig};
use crate::logs::mainlog::log;

use super::process::{Event, ProcessState, Record};
use super::{ProcessKey, Supervisor};

/// Where one dependency stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Met {
    Yes,
    No,
    /// Not met, and not on its way (FATAL, or a `completed` that exited unexpectedly).
    Failed(String),
}

/// What `cond` says of a dependency in state `rec`.
pub fn condition(cond: Condition, cfg: &ProcessConfig, rec: &Record) -> Met {
    use ProcessState::*;
    if rec.state == Fatal {
        return Met::Failed(format!("{} entered FATAL", cfg.name));
    }
    let ready = cfg.deps.ready_check.is_none() || rec.ready;
    let yes = match cond {
        Condition::Started => matches!(rec.state, Starting | Running | Stopping | Exited),
        Condition::Running => rec.state == Running,
        Condition::Ready => rec.state == Running && ready,
        Condition::Completed => match (rec.state, rec.exitstatus) {
            (Exited, Some(es)) if cfg.exitcodes.contains(&es) => true,
            (Exited, Some(es)) => {
                return Met::Failed(format!(
                    "{} exited unexpectedly (exit status {})",
                    cfg.name, es
                ));
            }
            _ => false,
        },
    };
    if yes { Met::Yes } else { Met::No }
}

/// Whether a dependant whose `depends_on` names `x` with `cond` is restarted with `x`
/// (`restart_dependents`): only the conditions that need `x` to keep running.
pub fn restarts_with(cond: Condition) -> bool {
    matches!(cond, Condition::Running | Condition::Ready)
}

/// The dependencies of one program, each with the states of the processes it names: `None`
/// when all are met, else the description `waiting for a (ready), b (completed): why`.
pub fn gate<'a>(
    deps: impl IntoIterator<Item = (&'a Dependency, Vec<(&'a ProcessConfig, &'a Record)>)>,
) -> Option<String> {
    let mut waiting = Vec::new();
    let mut why = Vec::new();
    for (dep, targets) in deps {
        let mut met = true;
        for (cfg, rec) in targets {
            match condition(dep.condition, cfg, rec) {
                Met::Yes => {}
                Met::No => met = false,
                Met::Failed(reason) => {
                    met = false;
                    why.push(reason);
                }
            }
        }
        if !met {
            waiting.push(format!("{} ({})", dep.target(), dep.condition.name()));
        }
    }
    if waiting.is_empty() {
        return None;
    }
    let mut text = format!("waiting for {}", waiting.join(", "));
    if !why.is_empty() {
        text.push_str(": ");
        text.push_str(&why.join(", "));
    }
    Some(text)
}

impl Supervisor {
    /// The processes `dep` names among the active groups.
    pub(super) fn dependency_keys(&self, dep: &Dependency) -> Vec<ProcessKey> {
        let key = |gi, pi| ProcessKey {
            group: gi,
            process: pi,
        };
        // No scan of every process: `g:p`, a program whose group has its name, else the index
        // by program name.
        if let Some(gname) = &dep.group {
            let Some(gi) = self.find_group(gname) else {
                return Vec::new();
            };
            let pos = self.groups[gi].position(&dep.name);
            return pos.map(|pi| key(gi, pi)).into_iter().collect();
        }
        if let Some(gi) = self.find_group(&dep.name) {
            let g = &self.groups[gi];
            let all = g
                .processes
                .iter()
                .all(|p| p.config.program_name == dep.name);
            if all && !g.processes.is_empty() {
                return (0..g.processes.len()).map(|pi| key(gi, pi)).collect();
            }
        }
        let mut found = self.index.program(&dep.name).to_vec();
        if found.is_empty()
            && dep.group.is_none()
            && let Some(gi) = self.find_group(&dep.name)
        {
            found.extend((0..self.groups[gi].processes.len()).map(|pi| ProcessKey {
                group: gi,
                process: pi,
            }));
        }
        found
    }

    /// Why the process at `key` may not start yet on its own (`None`: it may). Only a process
    /// that never started and would start on its own waits, or one held by `restart_dependents`.
    pub(crate) fn waiting_for(&self, key: ProcessKey) -> Option<String> {
        let p = self.proc(key);
        let first_start = p.rec.laststart == 0.0 && p.config.autostart;
        if p.config.deps.depends_on.is_empty()
            || p.rec.state != ProcessState::Stopped
            || !(first_start || p.watch.restart_held)
        {
            return None;
        }
        let deps = p.config.deps.depends_on.iter().map(|dep| {
            let targets = self
                .dependency_keys(dep)
                .into_iter()
                .map(|k| {
                    let t = self.proc(k);
                    (&*t.config, &t.rec)
                })
                .collect();
            (dep, targets)
        });
        gate(deps)
    }

    /// The settle pass of a process with `depends_on`: true when it waits and needs a
    /// transition check (its dependencies may be met now); FATAL once `dependency_timeout`
    /// passed.
    pub(crate) fn deps_settle(&mut self, key: ProcessKey) -> bool {
        let Some(why) = self.waiting_for(key) else {
            let p = self.proc(key);
            if p.watch.restart_held
                && p.rec.state == ProcessState::Stopped
                && self.mood == super::Mood::Running
            {
                // Stopped with what it depends on, which is back.
                let p = self.proc_mut(key);
                p.watch.restart_held = false;
                p.watch.waiting_since = 0.0;
                self.apply(key, Event::Start);
                return false;
            }
            // It waited until now: its transition check starts it.
            let w = &mut self.proc_mut(key).watch;
            let was_waiting = w.waiting_since != 0.0;
            w.waiting_since = 0.0;
            return was_waiting;
        };
        let now = self.host.now();
        let running = self.mood == super::Mood::Running;
        let p = self.proc_mut(key);
        if p.watch.waiting_since == 0.0 {
            p.watch.waiting_since = now;
            log(LogLevel::Info, &format!("{}: {}", p.config.name, why));
        }
        if !running {
            return false;
        }
        if let Some(t) = p.config.deps.dependency_timeout
            && now >= p.watch.waiting_since + t as f64
        {
            let reason = format!("{} after {} seconds (dependency_timeout)", why, t);
            self.apply(key, Event::DependencyFailed { reason });
            return false;
        }
        true
    }

    /// The earliest `dependency_timeout` of a waiting process.
    pub(crate) fn deps_deadline(&self) -> Option<f64> {
        let mut best: Option<f64> = None;
        for &key in self.index.watched() {
            let p = self.proc(key);
            let Some(t) = p.config.deps.dependency_timeout else {
                continue;
            };
            if p.watch.waiting_since == 0.0 {
                continue;
            }
            if self.waiting_for(key).is_some() {
                let d = p.watch.waiting_since + t as f64;
                best = Some(best.map_or(d, |b| b.min(d)));
            }
        }
        best
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::deps::parse_depends_on;

    fn rec(state: ProcessState, exitstatus: Option<i32>, ready: bool) -> Record {
        Record {
            state,
            exitstatus,
            ready,
            ..Record::default()
        }
    }

    #[test]
    fn conditions_by_state() {
        use Condition::{Completed, Ready, Started};
        use ProcessState::{Backoff, Exited, Fatal, Starting, Stopped};
        const RUNNING: ProcessState = ProcessState::Running;
        const C_RUNNING: Condition = Condition::Running;
        let plain = ProcessConfig::for_test("db", "/bin/true");
        let mut checked = plain.clone();
        checked.deps.ready_check = Some(crate::config::deps::Check::Notify);
        let table: &[(Condition, &ProcessConfig, Record, Met)] = &[
            (Started, &plain, rec(Stopped, None, false), Met::No),
            (Started, &plain, rec(Starting, None, false), Met::Yes),
            (Started, &plain, rec(Backoff, None, false), Met::No),
            (C_RUNNING, &plain, rec(Starting, None, false), Met::No),
            (C_RUNNING, &plain, rec(RUNNING, None, false), Met::Yes),
            (Ready, &plain, rec(RUNNING, None, false), Met::Yes),
            (Ready, &checked, rec(Starting, None, false), Met::No),
            (Ready, &checked, rec(RUNNING, None, true), Met::Yes),
            (Completed, &plain, rec(RUNNING, None, false), Met::No),
            (Completed, &plain, rec(Exited, Some(0), false), Met::Yes),
            (
                Completed,
                &plain,
                rec(Exited, Some(3), false),
                Met::Failed("db exited unexpectedly (exit status 3)".into()),
            ),
            (
                C_RUNNING,
                &plain,
                rec(Fatal, None, false),
                Met::Failed("db entered FATAL".into()),
            ),
        ];
        for (cond, cfg, r, want) in table {
            assert_eq!(&condition(*cond, cfg, r), want, "{:?} {:?}", cond, r.state);
        }
    }

    #[test]
    fn only_the_conditions_that_need_it_running_restart_with_it() {
        let table = [
            (Condition::Started, false),
            (Condition::Running, true),
            (Condition::Ready, true),
            (Condition::Completed, false),
        ];
        for (cond, want) in table {
            assert_eq!(restarts_with(cond), want, "{:?}", cond);
        }
    }

    #[test]
    fn gate_describes_what_is_missing() {
        let deps = parse_depends_on("db:ready, migrate:completed").unwrap();
        let db = ProcessConfig::for_test("db", "/bin/true");
        let migrate = ProcessConfig::for_test("migrate", "/bin/true");
        let running = rec(ProcessState::Running, None, false);
        let exited = rec(ProcessState::Exited, Some(0), false);
        let failed = rec(ProcessState::Exited, Some(2), false);
        let starting = rec(ProcessState::Starting, None, false);
        let g = |a: &Record, b: &Record| {
            gate(vec![
                (&deps[0], vec![(&db, a)]),
                (&deps[1], vec![(&migrate, b)]),
            ])
        };
        assert_eq!(g(&running, &exited), None);
        assert_eq!(
            g(&starting, &exited).as_deref(),
            Some("waiting for db (ready)")
        );
        assert_eq!(
            g(&starting, &failed).as_deref(),
            Some(
                "waiting for db (ready), migrate (completed): migrate exited unexpectedly (exit status 2)"
            )
        );
    }
}
