//! Signals to the daemon: TERM, INT, QUIT (exit), HUP (restart), USR2 (reopen logs).
//! Each is forwarded to the actor as a message, and the actor's reaction is here too;
//! SIGCHLD belongs to the reaper.

use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::mpsc::UnboundedSender;

use super::{Mood, Msg, Supervisor, process};
use crate::config::LogLevel;
use crate::logs::mainlog::log;

/// Listen for the daemon's signals and forward each to the actor.
pub fn spawn_signal_task(tx: UnboundedSender<Msg>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let kinds = [
            (SignalKind::terminate(), libc::SIGTERM),
            (SignalKind::interrupt(), libc::SIGINT),
            (SignalKind::quit(), libc::SIGQUIT),
            (SignalKind::hangup(), libc::SIGHUP),
            (SignalKind::user_defined2(), libc::SIGUSR2),
        ];
        let mut streams = Vec::new();
        for (kind, num) in kinds {
            match signal(kind) {
                Ok(s) => streams.push((s, num)),
                Err(e) => crate::logs::mainlog::log(
                    crate::config::LogLevel::Critical,
                    &format!("cannot handle signal {}: {}", num, e),
                ),
            }
        }
        let (fwd_tx, mut fwd_rx) = tokio::sync::mpsc::unbounded_channel::<i32>();
        for (mut s, num) in streams {
            let fwd = fwd_tx.clone();
            tokio::spawn(async move {
                while s.recv().await.is_some() {
                    if fwd.send(num).is_err() {
                        break;
                    }
                }
            });
        }
        drop(fwd_tx);
        while let Some(num) = fwd_rx.recv().await {
            if tx.send(Msg::Signal(num)).is_err() {
                break;
            }
        }
    })
}

impl Supervisor {
    /// A signal to the daemon, as the reference's `handle_signal`.
    pub fn daemon_signal(&mut self, sig: i32) {
        let name = process::signal_name(sig);
        match sig {
            libc::SIGTERM | libc::SIGINT | libc::SIGQUIT => {
                log(
                    LogLevel::Warn,
                    &format!("received {} indicating exit request", name),
                );
                self.set_mood(Mood::Shutdown);
            }
            libc::SIGHUP => {
                if self.mood == Mood::Shutdown {
                    log(
                        LogLevel::Warn,
                        &format!(
                            "ignored {} indicating restart request (shutdown in progress)",
                            name
                        ),
                    );
                } else {
                    log(
                        LogLevel::Warn,
                        &format!("received {} indicating restart request", name),
                    );
                    self.set_mood(Mood::Restarting);
                }
            }
            libc::SIGCHLD => log(
                LogLevel::Debug,
                &format!("received {} indicating a child quit", name),
            ),
            libc::SIGUSR2 => {
                log(
                    LogLevel::Info,
                    &format!("received {} indicating log reopen request", name),
                );
                if let Some(h) = crate::logs::mainlog::handle() {
                    let _ = h.reopen();
                }
                for g in &mut self.groups {
                    for p in &mut g.processes {
                        p.reopen_logs();
                    }
                }
            }
            _ => log(
                LogLevel::Blather,
                &format!("received {} indicating nothing", name),
            ),
        }
    }
}
