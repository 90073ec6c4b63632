//! Daemon mode (`nodaemon=false`): fork, let the parent exit, become a session leader, change
//! directory and umask, and point stdin/stdout/stderr at /dev/null, as the reference's
//! `daemonize`. The parent exits at once without touching the runtime.
//!
//! A fork copies only the calling thread. The daemon calls this on its current-thread runtime,
//! after binding the servers and before anything has made a thread: the runtime has no worker
//! threads, and nothing before the fork uses its blocking pool (the inet server resolves its
//! host name with `std::net`, the fcgi sockets too). A blocking-pool thread made before the fork
//! would be missing in the child while the runtime still counts it, and dropping the runtime at
//! a restart or shutdown would wait for it forever; so a fork with another thread is refused.

use std::os::fd::AsRawFd;

use nix::unistd::{ForkResult, fork, setsid};

use crate::config::{Config, LogLevel};
use crate::logs::mainlog::log;

/// Threads of this process, where /proc tells.
fn thread_count() -> Option<usize> {
    std::fs::read_dir("/proc/self/task").ok().map(|d| d.count())
}

pub fn daemonize(cfg: &Config) -> Result<(), String> {
    if let Some(n) = thread_count().filter(|&n| n > 1) {
        return Err(format!(
            "could not fork: {} threads are running and only this one would go on",
            n
        ));
    }
    // SAFETY: the process has one thread (checked above where /proc is mounted).
    match unsafe { fork() } {
        Ok(ForkResult::Parent { .. }) => {
            log(LogLevel::Blather, "supervisord forked; parent exiting");
            // SAFETY: plain exit of the parent without running destructors (sockets stay bound).
            unsafe { libc::_exit(0) }
        }
        Ok(ForkResult::Child) => {}
        Err(e) => return Err(format!("could not fork: {}", e)),
    }
    log(LogLevel::Info, "daemonizing the supervisord process");
    if let Some(dir) = &cfg.supervisord.directory {
        match std::env::set_current_dir(dir) {
            Ok(()) => log(
                LogLevel::Info,
                &format!("set current directory: '{}'", dir.display()),
            ),
            Err(e) => log(
                LogLevel::Critical,
                &format!("can't chdir into '{}': {}", dir.display(), e),
            ),
        }
    }
    if let Ok(null) = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/null")
    {
        for fd in 0..3 {
            // SAFETY: dup2 onto the standard descriptors.
            unsafe {
                libc::dup2(null.as_raw_fd(), fd);
            }
        }
    }
    let _ = setsid();
    nix::sys::stat::umask(nix::sys::stat::Mode::from_bits_truncate(
        cfg.supervisord.umask as libc::mode_t,
    ));
    Ok(())
}
