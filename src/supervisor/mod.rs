//! The supervisor actor: the one owner of process state. RPC handlers, the reaper and timers
//! send it messages through a [`SupervisorHandle`] and await replies.

/// A cheap, cloneable handle to the supervisor actor (stub until the actor lands).
#[derive(Clone, Debug, Default)]
pub struct SupervisorHandle {}

pub mod reaper;
pub mod rlimits;
pub mod spawn;
