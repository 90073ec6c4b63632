//! Calls that wait for a state (`startProcess(wait=True)`, `stopProcess(wait=True)` and the
//! group and all-process variants): the actor keeps a waiter per call and resolves it on the
//! state change itself, so nothing polls. While someone waits for a stop, `waiting for x to
//! stop` is logged every 2 seconds (the reference's `stop_report`). A state change looks at the
//! waiters of its own process only.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};

use tokio::sync::oneshot;

use super::process::ProcessState;
use super::{ControlError, ProcessKey, Supervisor};
use crate::config::LogLevel;
use crate::logs::mainlog::log;

/// What a waiting RPC call is waiting for.
#[derive(Debug)]
pub(super) enum WaitFor {
    /// `startProcess(wait=True)`: RUNNING, or an error.
    Running { key: ProcessKey },
    /// `stopProcess(wait=True)`: a stopped state.
    Stopped { key: ProcessKey },
}

pub(super) struct Waiter {
    what: WaitFor,
    /// The names of the process waited on: keys are indices, so after a group is added or
    /// removed the waiters are found (or not) again by name ([`Supervisor::rekey_waiters`]).
    group_name: String,
    proc_name: String,
    tx: oneshot::Sender<Result<(), ControlError>>,
}

/// The waiting calls, by the process they wait on, and when each process waited on for a stop
/// is next due a `waiting for x to stop` report. A state change looks at its own process's
/// waiters only, so `stopAllProcesses(wait=True)` over N processes costs O(N), not O(N²).
#[derive(Default)]
pub(super) struct Waiters {
    by_key: HashMap<ProcessKey, Vec<Waiter>>,
    /// (due time in µs, process): a heap entry may be stale (the stop ended); it is dropped
    /// when it comes up.
    reports: BinaryHeap<Reverse<(i64, ProcessKey)>>,
}

fn micros(t: f64) -> i64 {
    (t * 1e6) as i64
}

impl Waiter {
    /// The answer for this waiter given its process's record (`None`: gone), or `None` to
    /// keep waiting.
    fn outcome(&self, p: Option<&super::process::Record>) -> Option<Result<(), ControlError>> {
        match (&self.what, p) {
            (WaitFor::Running { .. }, None) => Some(Err(ControlError::AbnormalTermination)),
            (WaitFor::Stopped { .. }, None) => Some(Ok(())),
            (WaitFor::Running { .. }, Some(rec)) => {
                if rec.spawnerr.is_some() {
                    Some(Err(ControlError::SpawnError))
                } else {
                    match rec.state {
                        ProcessState::Running => Some(Ok(())),
                        ProcessState::Starting => None,
                        _ => Some(Err(ControlError::AbnormalTermination)),
                    }
                }
            }
            (WaitFor::Stopped { .. }, Some(rec)) => rec.state.is_stopped().then_some(Ok(())),
        }
    }
}

impl Supervisor {
    /// Resolve the calls waiting on the process at `key` (its state changed).
    pub(super) fn resolve_waiters(&mut self, key: ProcessKey) {
        let Some(list) = self.waiters.by_key.remove(&key) else {
            return;
        };
        let mut kept = Vec::new();
        for w in list {
            match w.outcome(Some(&self.proc(key).rec)) {
                Some(r) => {
                    let _ = w.tx.send(r);
                }
                None => kept.push(w),
            }
        }
        if kept.is_empty() {
            return;
        }
        // A stop waited on has begun (a held one stays RUNNING until then): its reports.
        let rec = &self.proc(key).rec;
        if rec.state == ProcessState::Stopping
            && kept
                .iter()
                .any(|w| matches!(w.what, WaitFor::Stopped { .. }))
        {
            let due = rec.laststopreport + 2.0;
            self.waiters.reports.push(Reverse((micros(due), key)));
        }
        self.waiters.by_key.insert(key, kept);
    }

    /// Groups were added or removed, so keys moved: find every waiting call's process again
    /// by name, and answer those whose process is gone.
    pub(super) fn rekey_waiters(&mut self) {
        let all: Vec<Waiter> = std::mem::take(&mut self.waiters.by_key)
            .into_values()
            .flatten()
            .collect();
        self.waiters.reports.clear();
        let mut touched = Vec::new();
        for w in all {
            match self.find(&w.group_name, &w.proc_name) {
                // resolve_waiters below queues the reports of the stops going on.
                Some(key) => {
                    self.waiters.by_key.entry(key).or_default().push(w);
                    touched.push(key);
                }
                None => {
                    if let Some(r) = w.outcome(None) {
                        let _ = w.tx.send(r);
                    }
                }
            }
        }
        touched.sort_unstable();
        touched.dedup();
        for key in touched {
            self.resolve_waiters(key);
        }
    }

    /// Wait until the process at `key` is RUNNING (or fails).
    pub(super) fn wait_running(
        &mut self,
        key: ProcessKey,
    ) -> oneshot::Receiver<Result<(), ControlError>> {
        self.add_waiter(WaitFor::Running { key })
    }

    /// Wait until the process at `key` is in a stopped state, logging `waiting for x to stop`
    /// now and every 2 seconds meanwhile (the reference's `stop_report`).
    pub(super) fn wait_stopped(
        &mut self,
        key: ProcessKey,
    ) -> oneshot::Receiver<Result<(), ControlError>> {
        self.stop_report(key);
        self.add_waiter(WaitFor::Stopped { key })
    }

    fn stop_report(&mut self, key: ProcessKey) {
        let t = self.host.now();
        let p = self.proc_mut(key);
        if p.rec.state == ProcessState::Stopping && t > p.rec.laststopreport + 2.0 {
            p.rec.laststopreport = t;
            log(
                LogLevel::Info,
                &format!("waiting for {} to stop", p.config.name),
            );
        }
    }

    /// Stop reports that are due for processes someone waits on; the entries of stops that
    /// ended are dropped on the way, so [`next_stop_report`](Self::next_stop_report) only
    /// names a stop still going on.
    pub(super) fn stop_reports(&mut self) {
        let now = micros(self.host.now());
        while let Some(&Reverse((due, key))) = self.waiters.reports.peek() {
            let waited = self
                .waiters
                .by_key
                .get(&key)
                .is_some_and(|l| l.iter().any(|w| matches!(w.what, WaitFor::Stopped { .. })));
            let going_on = waited && self.proc(key).rec.state == ProcessState::Stopping;
            if going_on && due >= now {
                break;
            }
            self.waiters.reports.pop();
            if !going_on {
                continue;
            }
            self.stop_report(key);
            let due = self.proc(key).rec.laststopreport + 2.0;
            self.waiters.reports.push(Reverse((micros(due), key)));
        }
    }

    fn add_waiter(&mut self, what: WaitFor) -> oneshot::Receiver<Result<(), ControlError>> {
        let (tx, rx) = oneshot::channel();
        let key = match &what {
            WaitFor::Running { key } | WaitFor::Stopped { key } => *key,
        };
        let group_name = self.groups[key.group].config.name.clone();
        let proc_name = self.proc(key).config.name.clone();
        self.waiters.by_key.entry(key).or_default().push(Waiter {
            what,
            group_name,
            proc_name,
            tx,
        });
        self.resolve_waiters(key);
        rx
    }

    /// When the next stop report is due for a process someone waits on, if any.
    pub(super) fn next_stop_report(&self) -> Option<f64> {
        self.waiters
            .reports
            .peek()
            .map(|Reverse((due, _))| *due as f64 / 1e6 + 0.001)
    }

    /// The actor stops: every waiting call is answered.
    pub(super) fn answer_waiters_at_exit(&mut self) {
        for w in std::mem::take(&mut self.waiters.by_key)
            .into_values()
            .flatten()
        {
            let _ = w.tx.send(Err(ControlError::Shutdown));
        }
        self.waiters.reports.clear();
    }
}
