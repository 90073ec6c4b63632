//! `exec:command args`: the check passes when the command exits 0. It is spawned as programs
//! are (split as `command=`, the program's `environment=`, `directory=` and `user=`), its output
//! discarded, reaped by the one reaper ([`Supervisor::probe_reaped`]), and killed when it
//! outlives the check's timeout.

use std::sync::Arc;
use std::time::Duration;

use super::super::process::ExitStatus;
use super::super::spawn::{SpawnRequest, spawn};
use super::super::{Msg, ProcessKey, Supervisor};

/// Spawn the probe of the process at `key`; `Err(answer)` when it cannot be spawned.
pub fn start(
    sup: &mut Supervisor,
    key: ProcessKey,
    cmd: &str,
    timeout: Duration,
) -> Result<(), String> {
    let Some(handle) = sup.handle.clone() else {
        return Err("no actor".into());
    };
    let p = sup.proc(key);
    let mut cfg = (*p.config).clone();
    cfg.command = cmd.to_string();
    cfg.redirect_stderr = true;
    let cfg = Arc::new(cfg);
    let req = SpawnRequest {
        config: &cfg,
        extra_env: vec![
            ("SUPERVISOR_ENABLED".into(), "1".into()),
            ("SUPERVISOR_PROCESS_NAME".into(), cfg.name.clone()),
            ("SUPERVISOR_GROUP_NAME".into(), cfg.group.clone()),
        ],
        stdin_socket: None,
        // A probe's output is not kept: it writes to /dev/null (never EPIPE).
        discard_stdout: true,
        discard_stderr: true,
    };
    let spawned = spawn(&req)?;
    let pid = spawned.pid;
    drop(spawned);
    let seq = p.watch.seq;
    sup.proc_mut(key).watch.probe_pid = pid;
    let (group, name) = (cfg.group.clone(), cfg.name.clone());
    tokio::spawn(async move {
        tokio::time::sleep(timeout).await;
        handle.send(Msg::Call(Box::new(move |s: &mut Supervisor| {
            if let Some(key) = s.find(&group, &name) {
                let w = &s.proc(key).watch;
                if w.probe_pid == pid && w.seq == seq {
                    let _ = s.host.kill(pid, libc::SIGKILL, false);
                }
            }
        })));
    });
    Ok(())
}

impl Supervisor {
    /// A reaped pid that was an exec probe: its verdict. False when it was none.
    pub(crate) fn probe_reaped(&mut self, pid: i32, how: ExitStatus) -> bool {
        let found = self.groups.iter().enumerate().find_map(|(gi, g)| {
            g.processes
                .iter()
                .position(|p| p.watch.probe_pid == pid)
                .map(|pi| (gi, pi))
        });
        let Some((gi, pi)) = found else {
            return false;
        };
        let (_, text) = how.describe();
        let p = &mut self.groups[gi].processes[pi];
        p.watch.probe_pid = 0;
        let (group, name, seq) = (p.config.group.clone(), p.config.name.clone(), p.watch.seq);
        let ok = how == ExitStatus::Exited(0);
        self.probe_done(&group, &name, seq, ok, text);
        true
    }
}
