//! What the actor asks of the operating system, behind one trait so that its logic (settle,
//! shutdown, waiters, `exit_on_fatal`, memory restarts) can be tested with fake pids and a fake
//! clock, as the pure `process::step` is: fork/exec a process, signal a child, read the resident
//! memory of process trees, and the wall clock. [`Os`] is the real one.

use nix::errno::Errno;

use super::group::Process;
use super::hooks::SpawnExtras;
use super::memory::ProcTable;
use crate::config::Config;

/// The actor's side effects on the system.
pub trait Host: Send {
    /// Wall-clock seconds since the epoch.
    fn now(&self) -> f64;

    /// Fork/exec the process (opening its log sinks and pipe readers); its pid, or the
    /// `spawnerr` text.
    fn spawn(
        &mut self,
        process: &mut Process,
        daemon: &Config,
        extras: &SpawnExtras,
    ) -> Result<i32, String>;

    /// Send `sig` to `pid`, or to its process group when `as_group`.
    fn kill(&mut self, pid: i32, sig: i32, as_group: bool) -> Result<(), Errno>;

    /// Resident bytes of the process tree rooted at each of `pids`, in order.
    fn tree_rss(&mut self, pids: &[i32]) -> Vec<u64>;

    /// Resident bytes and CPU clock ticks of the tree rooted at each of `pids`, in order.
    fn tree_usage(&mut self, pids: &[i32]) -> Vec<(u64, u64)> {
        self.tree_rss(pids).into_iter().map(|r| (r, 0)).collect()
    }
}

/// The operating system itself.
pub struct Os;

impl Host for Os {
    fn now(&self) -> f64 {
        super::now()
    }

    fn spawn(
        &mut self,
        process: &mut Process,
        daemon: &Config,
        extras: &SpawnExtras,
    ) -> Result<i32, String> {
        process.spawn(daemon, extras)
    }

    fn kill(&mut self, pid: i32, sig: i32, as_group: bool) -> Result<(), Errno> {
        super::reaper::send_signal(pid, sig, as_group)
    }

    fn tree_rss(&mut self, pids: &[i32]) -> Vec<u64> {
        let table = ProcTable::scan();
        pids.iter().map(|&pid| table.tree_rss(pid)).collect()
    }

    fn tree_usage(&mut self, pids: &[i32]) -> Vec<(u64, u64)> {
        let table = ProcTable::scan();
        let usage = |&pid: &i32| (table.tree_rss(pid), table.tree_ticks(pid));
        pids.iter().map(usage).collect()
    }
}
