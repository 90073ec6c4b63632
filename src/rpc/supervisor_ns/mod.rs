//! The `supervisor.*` namespace (API version 3.0): a file per concern, each with its methods'
//! table (name, argument counts, handler and help text) above the handlers. Handlers run their
//! state work as closures on the supervisor actor and await the reply; calls that wait
//! (start/stop with `wait=True`) await a waiter the actor resolves when the process reaches the
//! state, instead of polling. This file holds what they share: the actor call and the faults.

use super::Value;
use super::dispatch::Method;
use super::dispatch::v;
use super::faults::{self, Fault};
use crate::supervisor::spawn::CommandError;
use crate::supervisor::stdin::StdinError;
use crate::supervisor::{ControlError, Mood, ProcessKey, Selection, Supervisor, SupervisorHandle};

mod comm;
mod config;
mod control;
mod daemon;
mod info;
mod logs;

pub use info::process_info;

pub const API_VERSION: &str = "3.0";
pub const SUPERVISOR_VERSION: &str = "4.2.5";

/// The namespace's method tables, one per file.
pub static TABLES: &[&[Method]] = &[
    daemon::METHODS,
    config::METHODS,
    control::METHODS,
    info::METHODS,
    logs::METHODS,
    comm::METHODS,
];

fn gone(_: crate::supervisor::Gone) -> Fault {
    Fault::new(faults::SHUTDOWN_STATE)
}

/// Run `f` on the actor after the reference's `_update` check (SHUTDOWN_STATE while stopping).
async fn on_actor<T: Send + 'static>(
    h: &SupervisorHandle,
    f: impl FnOnce(&mut Supervisor) -> Result<T, Fault> + Send + 'static,
) -> Result<T, Fault> {
    h.call(move |s| {
        if s.mood() < Mood::Running {
            return Err(Fault::new(faults::SHUTDOWN_STATE));
        }
        f(s)
    })
    .await
    .map_err(gone)?
}

/// A control error as the reference's fault; `spec` is the name the call used.
fn fault(e: ControlError, spec: &str) -> Fault {
    match e {
        ControlError::Command(CommandError::NotFound(why)) => Fault::with(faults::NO_FILE, why),
        ControlError::Command(CommandError::NotExecutable(why)) => {
            Fault::with(faults::NOT_EXECUTABLE, why)
        }
        ControlError::AlreadyStarted => Fault::with(faults::ALREADY_STARTED, spec),
        ControlError::NotRunning => Fault::with(faults::NOT_RUNNING, spec),
        ControlError::UnknownState => Fault::with(
            faults::FAILED,
            format!("{} is in an unknown process state", spec),
        ),
        ControlError::SpawnError => Fault::with(faults::SPAWN_ERROR, spec),
        ControlError::AbnormalTermination => Fault::with(faults::ABNORMAL_TERMINATION, spec),
        ControlError::BadSignal(sig) => Fault::with(faults::BAD_SIGNAL, sig),
        ControlError::ClearFailed => Fault::with(faults::FAILED, spec),
        ControlError::Stdin(StdinError::Closed) => Fault::with(faults::NO_FILE, spec),
        ControlError::Stdin(StdinError::Full { waiting }) => Fault::with(
            faults::FAILED,
            format!(
                "{}: stdin is full ({} bytes wait for the process to read them)",
                spec, waiting
            ),
        ),
        ControlError::Stdin(StdinError::Os(e)) => Fault::with(faults::FAILED, e),
        ControlError::Shutdown => Fault::new(faults::SHUTDOWN_STATE),
    }
}

/// What a namespec names, or BAD_NAME.
fn lookup(s: &Supervisor, spec: &str) -> Result<Selection, Fault> {
    s.lookup(spec)
        .ok_or_else(|| Fault::with(faults::BAD_NAME, spec))
}

/// One process by namespec, or BAD_NAME (for a group spec too).
fn lookup_one(s: &Supervisor, spec: &str) -> Result<ProcessKey, Fault> {
    match lookup(s, spec)? {
        Selection::One(key) => Ok(key),
        Selection::Group(_) => Err(Fault::with(faults::BAD_NAME, spec)),
    }
}

/// A group's processes in priority order, or BAD_NAME.
fn group_members(s: &Supervisor, name: &str) -> Result<Vec<ProcessKey>, Fault> {
    s.group_members(name)
        .ok_or_else(|| Fault::with(faults::BAD_NAME, name))
}

fn status_struct(name: &str, group: &str, r: Result<(), Fault>) -> Value {
    let (code, desc) = match r {
        Ok(()) => (faults::SUCCESS, "OK".to_string()),
        Err(f) => (f.code, f.string),
    };
    v::st(vec![
        ("name", v::s(name)),
        ("group", v::s(group)),
        ("status", v::i(code as i64)),
        ("description", v::s(desc)),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_method_has_signature_tags() {
        for m in TABLES.iter().copied().flatten() {
            assert!(m.help.contains("@return"), "{} has no @return", m.name);
        }
    }
}
