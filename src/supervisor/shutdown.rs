//! The daemon's ordered shutdown, as the reference's: groups are stopped one at a time, highest
//! priority first (each group's processes in reverse priority order), and `waiting for x, y to
//! die` is logged every 3 seconds until every process is in a stopped state.

use super::process::{Event, ProcessState};
use super::{Mood, Process, Supervisor};
use crate::config::LogLevel;
use crate::logs::mainlog::log;

impl Supervisor {
    /// The reference's ordered shutdown: stop groups one at a time, highest priority first.
    pub(super) fn shutdown_step(&mut self) {
        if self.stop_groups.is_none() {
            self.stop_groups = Some(self.shutdown_groups());
            self.notify(crate::events::Event::supervisor_state(false));
        }
        loop {
            let Some(last) = self.stop_groups.as_ref().and_then(|s| s.last().cloned()) else {
                return;
            };
            let Some(gi) = self.find_group(&last) else {
                self.stop_groups.as_mut().map(|s| s.pop());
                continue;
            };
            // stop_all: reverse priority order within the group.
            let members = self.members(gi).into_iter().rev().collect();
            for key in self.stop_order(members) {
                match self.proc(key).rec.state {
                    ProcessState::Running | ProcessState::Starting => self.request_stop(key),
                    ProcessState::Backoff => self.apply(key, Event::GiveUp),
                    _ => {}
                }
            }
            if self.groups[gi]
                .processes
                .iter()
                .any(|p| !p.rec.state.is_stopped())
            {
                return;
            }
            self.stop_groups.as_mut().map(|s| s.pop());
        }
    }

    pub(super) fn unstopped(&self) -> Vec<&Process> {
        self.groups
            .iter()
            .flat_map(|g| g.processes.iter())
            .filter(|p| !p.rec.state.is_stopped())
            .collect()
    }

    /// Log `waiting for x, y to die` every 3 seconds while shutting down.
    pub(super) fn shutdown_report(&mut self) {
        let t = self.host.now();
        if t > self.last_shutdown_report + 3.0 {
            let names: Vec<String> = self
                .unstopped()
                .iter()
                .map(|p| p.config.name.clone())
                .collect();
            if names.is_empty() {
                return;
            }
            log(
                LogLevel::Info,
                &format!("waiting for {} to die", names.join(", ")),
            );
            self.last_shutdown_report = t;
            for p in self.unstopped() {
                log(
                    LogLevel::Blather,
                    &format!("{} state: {}", p.config.name, p.rec.state.name()),
                );
            }
        }
    }

    /// Shutting down (or restarting) and every process is stopped: the actor may end.
    pub(super) fn finished(&self) -> bool {
        self.mood < Mood::Running && self.unstopped().is_empty()
    }
}
