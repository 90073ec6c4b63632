//! XML-RPC: the wire codec (`xml`), the fault vocabulary, and the method table that maps
//! `supervisor.*` and `system.*` names to the code that answers them.

pub mod dispatch;
pub mod faults;
pub mod stats_ns;
pub mod supervisor_ns;
pub mod system_ns;
pub mod xml;

pub use dxr::Value;
pub use faults::Fault;
