//! Daemon mode (`nodaemon=false`): fork, let the parent exit, become a session leader, change
//! directory and umask, and point stdin/stdout/stderr at /dev/null, as the reference's
//! `daemonize`. Called on the single-threaded runtime before any blocking-pool thread exists,
//! so the fork copies the only thread; the parent exits at once without touching the runtime.

use std::os::fd::AsRawFd;

use nix::unistd::{fork, setsid, ForkResult};

use crate::config::{Config, LogLevel};
use crate::supervisor::log;

pub fn daemonize(cfg: &Config) -> Result<(), String> {
    // SAFETY: the process has one thread (current-thread runtime, no blocking pool in use).
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
            Ok(()) => log(LogLevel::Info, &format!("set current directory: '{}'", dir.display())),
            Err(e) => log(LogLevel::Critical, &format!("can't chdir into '{}': {}", dir.display(), e)),
        }
    }
    if let Ok(null) = std::fs::OpenOptions::new().read(true).write(true).open("/dev/null") {
        for fd in 0..3 {
            // SAFETY: dup2 onto the standard descriptors.
            unsafe {
                libc::dup2(null.as_raw_fd(), fd);
            }
        }
    }
    let _ = setsid();
    nix::sys::stat::umask(nix::sys::stat::Mode::from_bits_truncate(cfg.supervisord.umask as libc::mode_t));
    Ok(())
}
