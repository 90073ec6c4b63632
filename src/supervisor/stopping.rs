//! Stopping in reverse dependency order (beyond the reference).
//!
//! [`Supervisor::stop_order`] puts a process before those it depends on, priority order kept
//! otherwise; `stopProcessGroup`, `stopAllProcesses`, the shutdown and `update` go in that order.
//! An order alone is not enough: each process is signalled through [`Supervisor::request_stop`],
//! which holds back the stop of a process while one of its dependants asked to stop before it is
//! still on its way down (STOPPING, or held back in turn). Held-back stops are retried at each
//! settle, so the stop of `db` follows the reaping of `app` with no polling; a dependant's
//! STOPPING always ends (SIGKILL after `stopwaitsecs`), so a held-back stop always happens.
//! [`blocker`] is the pure rule; the sequence numbers make it acyclic, even for a cycle closed at
//! run time by an added group.
//!
//! `restart_dependents = true` on `x`: when `x` is stopped through the API (supervisorctl
//! `restart x` is `stop x` then `start x`) or restarted by its health check or memory limit, the
//! running processes that need `x` running ([`super::deps::restarts_with`]) are stopped first and
//! held (`Watch::restart_held`), described as waiting for `x`; each starts again at the first
//! settle after its dependencies are met once more.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use crate::config::LogLevel;
use crate::logs::mainlog::log;

use super::deps::restarts_with;
use super::process::{Event, ProcessState};
use super::{ProcessKey, Supervisor};

/// The actor's held-back stops.
#[derive(Debug, Default)]
pub(super) struct Stops {
    /// Bumped at each stop request: a process only waits for dependants asked before it.
    counter: u64,
    /// The processes whose stop is held back, by (group, process) name: keys shift when a group
    /// is removed.
    held: Vec<(String, String)>,
}

/// One dependant of a process being stopped, as [`blocker`] sees it.
#[derive(Clone, Copy, Debug)]
pub struct Dependant {
    pub state: ProcessState,
    /// Its own stop is held back.
    pub held: bool,
    /// The sequence number of its last stop request (0: none).
    pub seq: u64,
}

/// Whether the stop requested as number `seq` must wait, and for which dependant: one that is
/// STOPPING, or one held back that was asked to stop before (`seq` order makes the waits
/// acyclic).
pub fn blocker(seq: u64, dependants: &[Dependant]) -> Option<usize> {
    dependants
        .iter()
        .position(|d| d.state == ProcessState::Stopping || (d.held && d.seq != 0 && d.seq < seq))
}

impl Supervisor {
    /// Stop the process at `key` now, or as soon as its dependants asked to stop before it are
    /// down. A process already held back is left as it is.
    pub(super) fn request_stop(&mut self, key: ProcessKey) {
        if self.proc(key).watch.stop_held {
            return;
        }
        self.stops.counter += 1;
        let seq = self.stops.counter;
        self.proc_mut(key).watch.stop_seq = seq;
        match self.stop_blocker(key, seq) {
            Some(after) => {
                let id = self.id(key);
                log(
                    LogLevel::Debug,
                    &format!("{}: stops after {} (depends_on)", id.name, after),
                );
                self.proc_mut(key).watch.stop_held = true;
                self.stops.held.push((id.group, id.name));
            }
            None => self.apply(key, Event::Stop),
        }
    }

    /// The name of a dependant the stop of `key` (request `seq`) waits for.
    fn stop_blocker(&self, key: ProcessKey, seq: u64) -> Option<String> {
        let found: Vec<ProcessKey> = (self.index.watched().iter().copied())
            .filter(|&d| {
                (self.proc(d).config.deps.depends_on.iter())
                    .any(|dep| self.dependency_keys(dep).contains(&key))
            })
            .collect();
        let seen: Vec<Dependant> = (found.iter().map(|&d| self.proc(d)))
            .map(|p| Dependant {
                state: p.rec.state,
                held: p.watch.stop_held,
                seq: p.watch.stop_seq,
            })
            .collect();
        blocker(seq, &seen).map(|i| self.proc(found[i]).config.name.clone())
    }

    /// Carry out the held-back stops whose dependants are down; true if any was.
    pub(super) fn held_stops_settle(&mut self) -> bool {
        if self.stops.held.is_empty() {
            return false;
        }
        let mut acted = false;
        for (group, name) in std::mem::take(&mut self.stops.held) {
            let Some(key) = self.find(&group, &name) else {
                continue;
            };
            let p = self.proc(key);
            if !p.rec.state.is_running() {
                // Gone down on its own meanwhile.
                self.proc_mut(key).watch.stop_held = false;
                continue;
            }
            if self.stop_blocker(key, p.watch.stop_seq).is_some() {
                self.stops.held.push((group, name));
                continue;
            }
            self.proc_mut(key).watch.stop_held = false;
            self.apply(key, Event::Stop);
            acted = true;
        }
        acted
    }

    /// What a process whose stop is held back waits for: `stopping after app`.
    pub(crate) fn stop_description(&self, key: ProcessKey) -> Option<String> {
        let p = self.proc(key);
        if !p.watch.stop_held {
            return None;
        }
        let after = self.stop_blocker(key, p.watch.stop_seq)?;
        Some(format!("stopping after {}", after))
    }

    /// `x` at `key` is being stopped through the API or restarted by a check: with `restart_dependents`, stop the running
    /// processes that need it running (and theirs, in turn) and hold them until it is back.
    pub(crate) fn stop_dependents(&mut self, key: ProcessKey) {
        let mut todo = vec![key];
        let mut seen = vec![key];
        while let Some(x) = todo.pop() {
            if !self.proc(x).config.deps.restart_dependents {
                continue;
            }
            let mut found = Vec::new();
            for (gi, g) in self.groups.iter().enumerate() {
                for (pi, p) in g.processes.iter().enumerate() {
                    let d = ProcessKey {
                        group: gi,
                        process: pi,
                    };
                    let needs = (p.config.deps.depends_on.iter()).any(|dep| {
                        restarts_with(dep.condition) && self.dependency_keys(dep).contains(&x)
                    });
                    if needs && p.rec.state.is_running() && !seen.contains(&d) {
                        found.push(d);
                    }
                }
            }
            for d in self.stop_order(found) {
                seen.push(d);
                let what = self.proc(x).config.name.clone();
                let p = self.proc_mut(d);
                p.watch.restart_held = true;
                log(
                    LogLevel::Info,
                    &format!(
                        "{}: stopped with {} (restart_dependents)",
                        p.config.name, what
                    ),
                );
                self.request_stop(d);
                todo.push(d);
            }
        }
    }

    /// The groups in the order the shutdown pops them (the last is stopped first): the
    /// reference's order (by priority), with a group stopped before the groups it depends on.
    pub(crate) fn shutdown_groups(&self) -> Vec<String> {
        let keys: Vec<ProcessKey> = (0..self.groups.len())
            .rev()
            .flat_map(|gi| self.members(gi).into_iter().rev())
            .collect();
        let mut names: Vec<String> = Vec::new();
        for key in self.stop_order(keys) {
            let name = &self.groups[key.group].config.name;
            if !names.contains(name) {
                names.push(name.clone());
            }
        }
        names.extend(
            (self.groups.iter())
                .filter(|g| g.processes.is_empty())
                .map(|g| g.config.name.clone()),
        );
        names.reverse();
        names
    }

    /// Active group names reordered so that a group comes before the groups it depends on, the
    /// given order kept otherwise (`update` stops changed and removed groups in this order).
    pub(crate) fn stop_order_groups(&self, names: Vec<String>) -> Vec<String> {
        let keys: Vec<ProcessKey> = (names.iter())
            .filter_map(|n| self.find_group(n))
            .flat_map(|gi| self.members(gi))
            .collect();
        let mut out: Vec<String> = Vec::with_capacity(names.len());
        let mut seen: std::collections::HashSet<String> = std::collections::HashSet::new();
        for key in self.stop_order(keys) {
            let name = &self.groups[key.group].config.name;
            if seen.insert(name.clone()) {
                out.push(name.clone());
            }
        }
        // Groups without processes (or not active) keep their place after the others.
        for n in names {
            if seen.insert(n.clone()) {
                out.push(n);
            }
        }
        out
    }

    /// `keys` reordered so that a process comes before those it depends on (reverse dependency
    /// order), the given order (priority) kept otherwise.
    pub(crate) fn stop_order(&self, keys: Vec<ProcessKey>) -> Vec<ProcessKey> {
        if !keys
            .iter()
            .any(|&k| !self.proc(k).config.deps.depends_on.is_empty())
        {
            return keys;
        }
        // Each process's dependencies among `keys`.
        let index: std::collections::HashMap<ProcessKey, usize> =
            keys.iter().enumerate().map(|(i, &k)| (k, i)).collect();
        let needs: Vec<Vec<usize>> = keys
            .iter()
            .map(|&k| {
                self.proc(k)
                    .config
                    .deps
                    .depends_on
                    .iter()
                    .flat_map(|d| self.dependency_keys(d))
                    .filter_map(|t| index.get(&t).copied())
                    .collect()
            })
            .collect();
        // dependants[i]: the processes that need i
        let mut dependants = vec![0usize; keys.len()];
        for n in &needs {
            for &t in n {
                dependants[t] += 1;
            }
        }
        // Repeatedly take the first (in the given order) process nothing left depends on; in a
        // cycle (a group added at run time may close one), the first one left.
        let mut done = vec![false; keys.len()];
        let mut free: BinaryHeap<Reverse<usize>> = (0..keys.len())
            .filter(|&i| dependants[i] == 0)
            .map(Reverse)
            .collect();
        let mut out = Vec::with_capacity(keys.len());
        let mut scan = 0;
        while out.len() < keys.len() {
            let i = match free.pop() {
                Some(Reverse(i)) => i,
                None => {
                    while done[scan] {
                        scan += 1;
                    }
                    scan
                }
            };
            if done[i] {
                continue;
            }
            done[i] = true;
            out.push(keys[i]);
            for &t in &needs[i] {
                dependants[t] = dependants[t].saturating_sub(1);
                if dependants[t] == 0 && !done[t] {
                    free.push(Reverse(t));
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ProcessState::{Exited, Running, Stopped, Stopping};

    fn d(state: ProcessState, held: bool, seq: u64) -> Dependant {
        Dependant { state, held, seq }
    }

    #[test]
    fn a_stop_waits_for_dependants_on_their_way_down_asked_before_it() {
        let table: &[(u64, &[Dependant], Option<usize>)] = &[
            (5, &[], None),
            // a dependant left running (not asked to stop) does not hold it back
            (5, &[d(Running, false, 0)], None),
            (5, &[d(Stopped, false, 4), d(Exited, false, 3)], None),
            (5, &[d(Running, false, 2), d(Stopping, false, 4)], Some(1)),
            // held back itself, asked before: wait for it in turn
            (5, &[d(Running, true, 4)], Some(0)),
            // held back, asked after (a cycle closed at run time): no wait, so no deadlock
            (5, &[d(Running, true, 6)], None),
            // STOPPING always ends: whatever its number
            (5, &[d(Stopping, false, 9)], Some(0)),
        ];
        for (seq, deps, want) in table {
            assert_eq!(blocker(*seq, deps), *want, "{:?}", deps);
        }
    }
}
