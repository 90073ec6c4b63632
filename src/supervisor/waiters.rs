//! Calls that wait for a state (`startProcess(wait=True)`, `stopProcess(wait=True)` and the
//! group and all-process variants): the actor keeps a waiter per call and resolves it on the
//! state change itself, so nothing polls. While someone waits for a stop, `waiting for x to
//! stop` is logged every 2 seconds (the reference's `stop_report`).

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
    /// The names of the process waited on: keys are indices, so a removed group's waiters
    /// are found (or not) again by name instead of dangling.
    group_name: String,
    proc_name: String,
    tx: oneshot::Sender<Result<(), ControlError>>,
}

impl Supervisor {
    /// Resolve the RPC calls that wait for a state.
    pub(super) fn resolve_waiters(&mut self) {
        let waiters = std::mem::take(&mut self.waiters);
        for w in waiters {
            let found = self.find(&w.group_name, &w.proc_name);
            let outcome = match (&w.what, found) {
                (WaitFor::Running { .. }, None) => Some(Err(ControlError::AbnormalTermination)),
                (WaitFor::Stopped { .. }, None) => Some(Ok(())),
                (WaitFor::Running { .. }, Some(key)) => {
                    let p = self.proc(key);
                    if p.rec.spawnerr.is_some() {
                        Some(Err(ControlError::SpawnError))
                    } else {
                        match p.rec.state {
                            ProcessState::Running => Some(Ok(())),
                            ProcessState::Starting => None,
                            _ => Some(Err(ControlError::AbnormalTermination)),
                        }
                    }
                }
                (WaitFor::Stopped { .. }, Some(key)) => {
                    if self.proc(key).rec.state.is_stopped() {
                        Some(Ok(()))
                    } else {
                        None
                    }
                }
            };
            match outcome {
                Some(r) => {
                    let _ = w.tx.send(r);
                }
                None => self.waiters.push(w),
            }
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

    /// Stop reports that are due for processes someone waits on.
    pub(super) fn stop_reports(&mut self) {
        let keys: Vec<ProcessKey> = self
            .waiters
            .iter()
            .filter(|w| matches!(w.what, WaitFor::Stopped { .. }))
            .filter_map(|w| self.find(&w.group_name, &w.proc_name))
            .collect();
        for k in keys {
            self.stop_report(k);
        }
    }

    fn add_waiter(&mut self, what: WaitFor) -> oneshot::Receiver<Result<(), ControlError>> {
        let (tx, rx) = oneshot::channel();
        let key = match &what {
            WaitFor::Running { key } | WaitFor::Stopped { key } => *key,
        };
        let group_name = self.groups[key.group].config.name.clone();
        let proc_name = self.proc(key).config.name.clone();
        self.waiters.push(Waiter {
            what,
            group_name,
            proc_name,
            tx,
        });
        self.resolve_waiters();
        rx
    }

    /// When the next stop report is due for a process someone waits on, if any.
    pub(super) fn next_stop_report(&self) -> Option<f64> {
        self.waiters
            .iter()
            .filter(|w| matches!(w.what, WaitFor::Stopped { .. }))
            .filter_map(|w| self.find(&w.group_name, &w.proc_name))
            .map(|key| self.proc(key))
            .filter(|p| p.rec.state == ProcessState::Stopping)
            .map(|p| p.rec.laststopreport + 2.0 + 0.001)
            .reduce(f64::min)
    }

    /// The actor stops: every waiting call is answered.
    pub(super) fn answer_waiters_at_exit(&mut self) {
        for w in std::mem::take(&mut self.waiters) {
            let _ = w.tx.send(Err(ControlError::Shutdown));
        }
    }
}
