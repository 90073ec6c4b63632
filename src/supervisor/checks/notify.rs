//! `notify`: systemd's readiness protocol. Before a spawn the actor binds a unix datagram
//! socket for the process (a file in `childlogdir`, removed when the process ends) and gives
//! its path to the child as `NOTIFY_SOCKET`; what `sd_notify` sends there (`READY=1`,
//! `WATCHDOG=1`, `STATUS=...`, one per line of a datagram) reaches the actor as messages.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::net::UnixDatagram;

use super::super::{Msg, Supervisor, SupervisorHandle};
use super::Signal;

/// The largest datagram read (longer ones are cut).
const MAX_DATAGRAM: usize = 4096;

static NEXT: AtomicU64 = AtomicU64::new(1);

/// A bound notify socket; dropping it stops its reader and removes the file.
#[derive(Debug)]
pub struct NotifySocket {
    pub path: PathBuf,
    task: tokio::task::JoinHandle<()>,
    /// The child it serves, once spawned (0 before).
    pid: std::sync::Arc<std::sync::atomic::AtomicI32>,
}

impl NotifySocket {
    /// Bind a new socket in `dir` whose datagrams go to the process `group:name`.
    pub fn open(
        dir: &Path,
        handle: &SupervisorHandle,
        group: &str,
        name: &str,
    ) -> Result<NotifySocket, String> {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path = dir.join(format!("notify-{}-{}.sock", std::process::id(), n));
        let _ = std::fs::remove_file(&path);
        let sock = UnixDatagram::bind(&path)
            .map_err(|e| format!("cannot bind NOTIFY_SOCKET {}: {}", path.display(), e))?;
        let pid = std::sync::Arc::new(std::sync::atomic::AtomicI32::new(0));
        let (handle, group, name, child) = (
            handle.clone(),
            group.to_string(),
            name.to_string(),
            pid.clone(),
        );
        let task = tokio::spawn(async move {
            let mut buf = vec![0u8; MAX_DATAGRAM];
            while let Ok(n) = sock.recv(&mut buf).await {
                let pid = child.load(Ordering::Relaxed);
                for signal in parse(&buf[..n]) {
                    let (group, name) = (group.clone(), name.clone());
                    handle.send(Msg::Call(Box::new(move |s: &mut Supervisor| {
                        s.check_signal(&group, &name, pid, signal)
                    })));
                }
            }
        });
        Ok(NotifySocket { path, task, pid })
    }

    /// The child now spawned with this socket.
    pub fn serve(&self, pid: i32) {
        self.pid.store(pid, Ordering::Relaxed);
    }
}

impl Drop for NotifySocket {
    fn drop(&mut self) {
        self.task.abort();
        let _ = std::fs::remove_file(&self.path);
    }
}

/// The assignments of one datagram that mean something to us.
pub fn parse(datagram: &[u8]) -> Vec<Signal> {
    let text = String::from_utf8_lossy(datagram);
    let mut out = Vec::new();
    for line in text.split('\n') {
        match line.split_once('=') {
            Some(("READY", "1")) => out.push(Signal::Ready("READY=1".into())),
            Some(("WATCHDOG", "1")) => out.push(Signal::Watchdog),
            Some(("STATUS", s)) => out.push(Signal::Status(s.chars().take(200).collect())),
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datagrams() {
        assert_eq!(
            parse(b"STATUS=warming up\nREADY=1\nMAINPID=7"),
            vec![
                Signal::Status("warming up".into()),
                Signal::Ready("READY=1".into())
            ]
        );
        assert_eq!(parse(b"WATCHDOG=1"), vec![Signal::Watchdog]);
        assert_eq!(parse(b"READY=0\n\xff"), vec![]);
    }
}
