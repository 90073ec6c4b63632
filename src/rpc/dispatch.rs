//! The method table: `supervisor.*` and `system.*` names to the code that answers them.

use super::{Fault, Value};
use crate::supervisor::SupervisorHandle;

/// Answer one XML-RPC call (stub until the method table lands).
pub async fn call(_handle: &SupervisorHandle, method: &str, _params: Vec<Value>) -> Result<Value, Fault> {
    Err(Fault::with(super::faults::UNKNOWN_METHOD, method))
}
