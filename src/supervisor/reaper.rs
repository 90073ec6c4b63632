//! Reaping exited children and signalling running ones: `waitpid(-1, WNOHANG)` on every
//! SIGCHLD (the reference's `reap()`), decoding wait statuses the way the reference words
//! them (`decode_wait_status`, with `util::signals::signame`), and `kill` of a child or of its process group.
//!
//! This is the only place that waits for children: nothing else may call `waitpid` or use
//! `std::process::Child`/`tokio::process`, or exit statuses would be stolen.

use nix::errno::Errno;

use super::Msg;
use crate::util::signals::signame as signal_name;

/// How a child ended (a decoded wait status).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitStatus {
    /// Exited normally with this exit status.
    Exited(i32),
    /// Killed by `signal`; `core` when it dumped core.
    Signaled { signal: i32, core: bool },
}

impl ExitStatus {
    /// Decodes a raw `waitpid` status; `None` for stopped/continued reports.
    pub fn from_raw(status: i32) -> Option<ExitStatus> {
        if libc::WIFEXITED(status) {
            Some(ExitStatus::Exited(libc::WEXITSTATUS(status)))
        } else if libc::WIFSIGNALED(status) {
            Some(ExitStatus::Signaled {
                signal: libc::WTERMSIG(status),
                core: libc::WCOREDUMP(status),
            })
        } else {
            None
        }
    }

    /// The reference's `decode_wait_status`: (exit status or -1, message).
    pub fn describe(self) -> (i32, String) {
        match self {
            ExitStatus::Exited(code) => (code, format!("exit status {}", code)),
            ExitStatus::Signaled { signal, core } => {
                let mut msg = format!("terminated by {}", signal_name(signal));
                if core {
                    msg.push_str(" (core dumped)");
                }
                (-1, msg)
            }
        }
    }
}

/// Reaps every exited child with `waitpid(-1, WNOHANG)` until none is left; returns
/// `(pid, status)` in reaping order.
pub fn reap_all() -> Vec<(i32, ExitStatus)> {
    let mut reaped = Vec::new();
    loop {
        let mut status: libc::c_int = 0;
        // SAFETY: status is a valid out-parameter.
        let pid = unsafe { libc::waitpid(-1, &mut status, libc::WNOHANG) };
        if pid > 0 {
            if let Some(st) = ExitStatus::from_raw(status) {
                reaped.push((pid, st));
            }
            continue;
        }
        if pid < 0 && Errno::last() == Errno::EINTR {
            continue;
        }
        // 0: children left but none exited; -1/ECHILD: no children at all.
        return reaped;
    }
}

/// Waits (blocking) for one specific child; for tests and for shutdown paths that must
/// not steal other children's statuses.
#[cfg(test)]
pub fn wait_pid(pid: i32) -> Result<ExitStatus, Errno> {
    loop {
        let mut status: libc::c_int = 0;
        // SAFETY: status is a valid out-parameter.
        let rc = unsafe { libc::waitpid(pid, &mut status, 0) };
        if rc < 0 {
            let e = Errno::last();
            if e == Errno::EINTR {
                continue;
            }
            return Err(e);
        }
        if let Some(st) = ExitStatus::from_raw(status) {
            return Ok(st);
        }
    }
}

/// The reaper task: reaps once at start (children that exited before it ran), then on every
/// SIGCHLD; sends each child to the actor as `Msg::Reaped(pid, status)`. Ends when the actor's
/// receiver is dropped. Must be called from within a tokio runtime.
pub fn spawn_reaper(tx: tokio::sync::mpsc::UnboundedSender<Msg>) -> tokio::task::JoinHandle<()> {
    use tokio::signal::unix::{SignalKind, signal};
    // Register before the task starts so no SIGCHLD after this call is missed.
    let sigchld = signal(SignalKind::child());
    tokio::spawn(async move {
        let mut sigchld = match sigchld {
            Ok(s) => Some(s),
            Err(e) => {
                crate::log_error!("could not install the SIGCHLD handler: {}", e);
                None
            }
        };
        loop {
            for (pid, status) in reap_all() {
                if tx.send(Msg::Reaped(pid, status)).is_err() {
                    return;
                }
            }
            match sigchld.as_mut() {
                Some(s) => {
                    if s.recv().await.is_none() {
                        return;
                    }
                }
                // No SIGCHLD delivery: fall back to polling.
                None => tokio::time::sleep(std::time::Duration::from_millis(200)).await,
            }
            if tx.is_closed() {
                return;
            }
        }
    })
}

/// Sends `sig` to the child `pid`, or to its whole process group (`kill(-pid)`; a child is
/// its own group leader) when `as_group` (stopasgroup/killasgroup).
pub fn send_signal(pid: i32, sig: i32, as_group: bool) -> Result<(), Errno> {
    if pid <= 0 {
        return Err(Errno::ESRCH);
    }
    let target = if as_group { -pid } else { pid };
    // SAFETY: kill has no memory-safety preconditions.
    if unsafe { libc::kill(target, sig) } == 0 {
        Ok(())
    } else {
        Err(Errno::last())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fork_exit(code: i32) -> i32 {
        // SAFETY: the child only calls _exit.
        let pid = unsafe { libc::fork() };
        if pid == 0 {
            unsafe { libc::_exit(code) }
        }
        assert!(pid > 0);
        pid
    }

    #[test]
    fn wait_pid_returns_exit_status() {
        let pid = fork_exit(7);
        assert_eq!(wait_pid(pid), Ok(ExitStatus::Exited(7)));
    }

    #[test]
    fn signal_status_and_group_kill() {
        let pid = unsafe { libc::fork() };
        if pid == 0 {
            unsafe {
                libc::setpgid(0, 0);
                libc::pause();
                libc::_exit(0);
            }
        }
        assert!(pid > 0);
        // Wait until the child has made its own group.
        for _ in 0..200 {
            if unsafe { libc::getpgid(pid) } == pid {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        send_signal(pid, libc::SIGKILL, true).unwrap();
        assert_eq!(
            wait_pid(pid),
            Ok(ExitStatus::Signaled {
                signal: libc::SIGKILL,
                core: false
            })
        );
        assert_eq!(send_signal(0, libc::SIGTERM, false), Err(Errno::ESRCH));
    }

    /// `reap_all` reaps any child of the process, so this runs in its own process: a
    /// forked helper that forks grandchildren and checks what `reap_all` reports.
    #[test]
    fn reap_all_returns_exit_statuses() {
        run_isolated("isolated_reap_all");
    }

    /// `reap_all` collects every exited child; run through [`run_isolated`].
    #[test]
    #[ignore]
    fn isolated_reap_all() {
        if std::env::var_os("REAPER_ISOLATED").is_none() {
            return;
        }
        let a = fork_exit(3);
        let b = fork_exit(0);
        std::thread::sleep(std::time::Duration::from_millis(200));
        let mut got = reap_all();
        got.sort_by_key(|x| x.0);
        let mut want = vec![(a, ExitStatus::Exited(3)), (b, ExitStatus::Exited(0))];
        want.sort_by_key(|x| x.0);
        assert_eq!(got, want);
        assert!(reap_all().is_empty());
    }

    /// Run `name` (an `#[ignore]`d test of this module) alone in a fresh copy of the test
    /// binary: a single-threaded process whose `waitpid(-1)` sees only its own children, and
    /// no fork from a process where other test threads may hold locks.
    fn run_isolated(name: &str) {
        let exe = std::env::current_exe().expect("test binary");
        let out = std::process::Command::new(exe)
            .args(["--ignored", "--exact", "--test-threads=1", "--nocapture"])
            .arg(format!("supervisor::reaper::tests::{}", name))
            .env("REAPER_ISOLATED", "1")
            .output()
            .expect("run the test binary");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && text.contains("1 passed"),
            "{}\n{}",
            text,
            String::from_utf8_lossy(&out.stderr)
        );
    }

    #[test]
    fn reaper_task_reports_children() {
        run_isolated("isolated_reaper_task");
    }

    /// The reaper task with its own runtime; run through [`run_isolated`].
    #[test]
    #[ignore]
    fn isolated_reaper_task() {
        if std::env::var_os("REAPER_ISOLATED").is_none() {
            return;
        }
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
            let task = spawn_reaper(tx);
            let a = fork_exit(5);
            let reaped = |m: Option<Msg>| match m {
                Some(Msg::Reaped(pid, status)) => Some((pid, status)),
                _ => None,
            };
            let got = tokio::time::timeout(std::time::Duration::from_secs(10), rx.recv()).await;
            assert_eq!(got.map(reaped), Ok(Some((a, ExitStatus::Exited(5)))));
            let b = fork_exit(6);
            let got2 = tokio::time::timeout(std::time::Duration::from_secs(10), rx.recv()).await;
            assert_eq!(got2.map(reaped), Ok(Some((b, ExitStatus::Exited(6)))));
            drop(rx);
            task.abort();
        });
    }
}
