//! Fault codes and their names, exactly as supervisor 4.2.5's `xmlrpc.Faults`.
//! A fault's string is `NAME` or `NAME: detail`; `supervisorctl` prints parts of it.

/// An XML-RPC fault as the reference sends it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fault {
    pub code: i32,
    pub string: String,
}

pub const UNKNOWN_METHOD: i32 = 1;
pub const INCORRECT_PARAMETERS: i32 = 2;
pub const BAD_ARGUMENTS: i32 = 3;
pub const SIGNATURE_UNSUPPORTED: i32 = 4;
pub const SHUTDOWN_STATE: i32 = 6;
pub const BAD_NAME: i32 = 10;
pub const BAD_SIGNAL: i32 = 11;
pub const NO_FILE: i32 = 20;
pub const NOT_EXECUTABLE: i32 = 21;
pub const FAILED: i32 = 30;
pub const ABNORMAL_TERMINATION: i32 = 40;
pub const SPAWN_ERROR: i32 = 50;
pub const ALREADY_STARTED: i32 = 60;
pub const NOT_RUNNING: i32 = 70;
pub const SUCCESS: i32 = 80;
pub const ALREADY_ADDED: i32 = 90;
pub const STILL_RUNNING: i32 = 91;
pub const CANT_REREAD: i32 = 92;

/// The reference's name for a fault code.
pub fn name(code: i32) -> &'static str {
    match code {
        UNKNOWN_METHOD => "UNKNOWN_METHOD",
        INCORRECT_PARAMETERS => "INCORRECT_PARAMETERS",
        BAD_ARGUMENTS => "BAD_ARGUMENTS",
        SIGNATURE_UNSUPPORTED => "SIGNATURE_UNSUPPORTED",
        SHUTDOWN_STATE => "SHUTDOWN_STATE",
        BAD_NAME => "BAD_NAME",
        BAD_SIGNAL => "BAD_SIGNAL",
        NO_FILE => "NO_FILE",
        NOT_EXECUTABLE => "NOT_EXECUTABLE",
        FAILED => "FAILED",
        ABNORMAL_TERMINATION => "ABNORMAL_TERMINATION",
        SPAWN_ERROR => "SPAWN_ERROR",
        ALREADY_STARTED => "ALREADY_STARTED",
        NOT_RUNNING => "NOT_RUNNING",
        SUCCESS => "SUCCESS",
        ALREADY_ADDED => "ALREADY_ADDED",
        STILL_RUNNING => "STILL_RUNNING",
        CANT_REREAD => "CANT_REREAD",
        _ => "UNKNOWN",
    }
}

impl Fault {
    /// `NAME` alone, as the reference's `RPCError(code)`.
    pub fn new(code: i32) -> Fault {
        Fault {
            code,
            string: name(code).to_string(),
        }
    }

    /// `NAME: detail`, as the reference's `RPCError(code, extra)`.
    pub fn with(code: i32, detail: impl std::fmt::Display) -> Fault {
        Fault {
            code,
            string: format!("{}: {}", name(code), detail),
        }
    }
}
