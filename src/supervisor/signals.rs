//! Signals to the daemon: TERM, INT, QUIT (exit), HUP (restart), USR2 (reopen logs).
//! Each is forwarded to the actor as a message; SIGCHLD belongs to the reaper.

use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::mpsc::UnboundedSender;

use super::Msg;

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
