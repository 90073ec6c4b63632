//! `memory_limit=` (beyond the reference): the actor's periodic check of the resident memory
//! of each limited process tree (read through the host, see `memory.rs`), and the graceful
//! restart of a process over its limit.

use super::process::ProcessState;
use super::{Mood, ProcessKey, Supervisor, memory, restarts};
use crate::config::LogLevel;
use crate::logs::mainlog::log;

impl Supervisor {
    /// Processes that have a `memory_limit` and a live child.
    pub(super) fn memory_limited(&self) -> impl Iterator<Item = ProcessKey> + '_ {
        self.index.watched().iter().copied().filter(|&k| {
            let p = self.proc(k);
            p.config.memory_limit.is_some() && p.rec.pid != 0
        })
    }

    /// `memory_limit` (beyond the reference): every `memory_check_interval` seconds, while some
    /// limited process runs, read the resident memory of each such process tree; one over its
    /// limit is restarted gracefully (stopsignal, stopwaitsecs, then started again).
    pub(super) fn check_memory(&mut self) {
        let limited: Vec<ProcessKey> = self.memory_limited().collect();
        if limited.is_empty() || self.mood != Mood::Running {
            self.next_memory_check = 0.0;
            return;
        }
        let t = self.host.now();
        if self.next_memory_check == 0.0 {
            self.next_memory_check = t + self.config.supervisord.memory_check_interval as f64;
            return;
        }
        if t < self.next_memory_check {
            return;
        }
        self.next_memory_check = t + self.config.supervisord.memory_check_interval as f64;
        let pids: Vec<i32> = limited.iter().map(|&key| self.proc(key).rec.pid).collect();
        let usage = self.host.tree_usage(&pids);
        self.history_record(&limited, &usage);
        for (key, (rss, _)) in limited.into_iter().zip(usage) {
            let p = self.proc_mut(key);
            let Some(limit) = p.config.memory_limit else {
                continue;
            };
            p.rss = rss;
            let running = matches!(p.rec.state, ProcessState::Running | ProcessState::Starting);
            if running && p.rss > limit && !p.restart_pending {
                log(
                    LogLevel::Warn,
                    &format!(
                        "memory_limit: {} (pid {}) uses {}, over its limit of {}: restarting",
                        p.config.name,
                        p.rec.pid,
                        memory::mib(p.rss),
                        memory::mib(limit)
                    ),
                );
                p.restarts.count(restarts::Cause::Memory);
                p.restart_pending = true;
                self.stop_dependents(key);
                self.request_stop(key);
                self.dirty = true;
            }
        }
    }
}
