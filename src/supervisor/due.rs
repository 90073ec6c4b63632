//! What a settle must look at, without a scan of every process: the processes' deadlines
//! (startsecs, backoff, stopwaitsecs, restart_delay, ready_timeout) in time order.
//!
//! A process's deadline follows from its record and the daemon's mood alone
//! ([`process::deadline`]), and its record only changes in `Supervisor::apply`, which updates
//! its entry here. What shifts every key or every deadline at once (a group added or removed,
//! a change of mood, the start) makes the queue stale: the next settle then looks at every
//! process, as it always did, and rebuilds the queue.

use std::collections::{BTreeSet, HashMap};

use super::control::ProcessKey;
use super::group::Group;
use super::process::{self, Event};
use super::{Mood, Supervisor};

/// A deadline, ordered by `f64::total_cmp`.
#[derive(Clone, Copy, Debug, PartialEq)]
struct At(f64);

impl Eq for At {}

impl PartialOrd for At {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for At {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.total_cmp(&other.0)
    }
}

#[derive(Debug, Default)]
pub(super) struct Due {
    /// The queue matches every process's deadline (false until the first rebuild).
    fresh: bool,
    by_key: HashMap<ProcessKey, f64>,
    queue: BTreeSet<(At, ProcessKey)>,
}

impl Due {
    /// The queue is stale: the next settle looks at every process.
    pub(super) fn invalidate(&mut self) {
        self.fresh = false;
        self.by_key.clear();
        self.queue.clear();
    }

    pub(super) fn fresh(&self) -> bool {
        self.fresh
    }

    /// Every process's deadline again, as of the mood `may_autostart` stands for.
    pub(super) fn rebuild(&mut self, groups: &[Group], may_autostart: bool) {
        self.invalidate();
        for (gi, g) in groups.iter().enumerate() {
            for (pi, p) in g.processes.iter().enumerate() {
                let key = ProcessKey {
                    group: gi,
                    process: pi,
                };
                self.set(key, process::deadline(&p.config, &p.rec, may_autostart));
            }
        }
        self.fresh = true;
    }

    /// The deadline of `key` is now `at` (`None`: it has none).
    pub(super) fn set(&mut self, key: ProcessKey, at: Option<f64>) {
        if let Some(old) = self.by_key.remove(&key) {
            self.queue.remove(&(At(old), key));
        }
        if let Some(t) = at {
            self.by_key.insert(key, t);
            self.queue.insert((At(t), key));
        }
    }

    /// The processes whose deadline is `t` or earlier.
    pub(super) fn until(&self, t: f64) -> impl Iterator<Item = ProcessKey> + '_ {
        self.queue
            .iter()
            .take_while(move |(at, _)| at.0 <= t)
            .map(|(_, k)| *k)
    }

    /// The earliest deadline.
    pub(super) fn first(&self) -> Option<f64> {
        self.queue.first().map(|(at, _)| at.0)
    }
}

impl Supervisor {
    /// The transition checks of one process in a settle at time `t`.
    pub(super) fn settle_one(&mut self, key: ProcessKey, t: f64) {
        let p = self.proc(key);
        let due = process::deadline(&p.config, &p.rec, self.mood > Mood::Restarting)
            .is_some_and(|d| d <= t);
        let restart = p.restart_pending && p.rec.state.is_stopped();
        let waits = !p.config.deps.depends_on.is_empty() && self.deps_settle(key);
        if self.proc(key).dirty || due || waits {
            self.proc_mut(key).dirty = false;
            self.apply(key, Event::Tick);
        }
        self.checks_settle(key);
        if restart && self.mood == Mood::Running {
            self.proc_mut(key).restart_pending = false;
            self.apply(key, Event::Start);
        }
    }
}
