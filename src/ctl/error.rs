//! The errors a command can meet, named as the stock client names them.
//!
//! The stock `supervisorctl` is Python: whatever a command does not handle itself reaches its
//! `onecmd`, which prints `error: <class 'X'>, <str(exception)>: file: F line: L` and sets
//! exit status 1. Users and scripts see the class and the message, so [`PyErr`] carries
//! what Python would have raised (an `xmlrpc.client.Fault`, a `ProtocolError`, an `OSError`
//! subclass chosen by errno as Python chooses it, ...) and renders it the same way. The
//! `file: F line: L` tail names the place in *our* source where the error arose (Python names
//! a file of its own installation, which differs from one machine to the next anyway).

use std::panic::Location;

use crate::config::values::py_repr;
use crate::rpc::Fault;

/// What Python would have raised.
#[derive(Clone, Debug, PartialEq)]
pub enum Kind {
    /// `xmlrpc.client.Fault`: the daemon answered with a fault.
    Fault(Fault),
    /// `xmlrpc.client.ProtocolError`: an HTTP status other than 200 on `/RPC2`.
    Protocol { status: u16, reason: String },
    /// `OSError` and its subclasses; `errno` is `None` for errors Python raises without one.
    Os { errno: Option<i32>, message: String },
    /// `socket.gaierror`: a host name that does not resolve.
    Gai { code: i32, message: String },
    /// Another Python class, by its qualified name (`ValueError`, `KeyError`,
    /// `http.client.RemoteDisconnected`, `xml.parsers.expat.ExpatError`, ...).
    Other {
        class: &'static str,
        message: String,
    },
    /// `KeyboardInterrupt` (Ctrl-C): not an `Exception`, so `onecmd` does not catch it.
    Interrupted,
}

/// An exception with the place it was raised.
#[derive(Clone, Debug, PartialEq)]
pub struct PyErr {
    pub kind: Kind,
    pub at: &'static Location<'static>,
}

pub type Result<T> = std::result::Result<T, PyErr>;

impl PyErr {
    #[track_caller]
    pub fn new(kind: Kind) -> Self {
        PyErr {
            kind,
            at: Location::caller(),
        }
    }

    #[track_caller]
    pub fn other(class: &'static str, message: impl Into<String>) -> Self {
        Self::new(Kind::Other {
            class,
            message: message.into(),
        })
    }

    /// An `OSError` from an I/O error, its class chosen by errno as Python does.
    #[track_caller]
    pub fn os(e: &std::io::Error) -> Self {
        match e.raw_os_error() {
            Some(n) => Self::new(Kind::Os {
                errno: Some(n),
                message: format!("[Errno {}] {}", n, strerror(n)),
            }),
            None => Self::new(Kind::Os {
                errno: None,
                message: e.to_string(),
            }),
        }
    }

    /// The errno of an `OSError`.
    pub fn errno(&self) -> Option<i32> {
        match &self.kind {
            Kind::Os { errno, .. } => *errno,
            _ => None,
        }
    }

    /// The fault code of an `xmlrpc.client.Fault`.
    pub fn fault_code(&self) -> Option<i32> {
        match &self.kind {
            Kind::Fault(f) => Some(f.code),
            _ => None,
        }
    }

    /// Python's `str(type(e))` without the `<class '...'>` around it.
    pub fn class(&self) -> String {
        match &self.kind {
            Kind::Fault(_) => "xmlrpc.client.Fault".into(),
            Kind::Protocol { .. } => "xmlrpc.client.ProtocolError".into(),
            Kind::Os { errno, .. } => os_class(*errno).into(),
            Kind::Gai { .. } => "socket.gaierror".into(),
            Kind::Other { class, .. } => (*class).into(),
            Kind::Interrupted => "KeyboardInterrupt".into(),
        }
    }

    /// Python's `str(e)`.
    pub fn message(&self) -> String {
        match &self.kind {
            Kind::Fault(f) => format!("<Fault {}: {}>", f.code, py_repr(&f.string)),
            Kind::Protocol { status, reason } => {
                format!("<ProtocolError for 127.0.0.1/RPC2: {} {}>", status, reason)
            }
            Kind::Os { message, .. } => message.clone(),
            Kind::Gai { code, message } => format!("[Errno {}] {}", code, message),
            Kind::Other { message, .. } => message.clone(),
            Kind::Interrupted => String::new(),
        }
    }

    /// The line `onecmd` prints for an exception it catches.
    pub fn render(&self) -> String {
        format!(
            "error: <class '{}'>, {}: file: {} line: {}",
            self.class(),
            self.message(),
            self.at.file(),
            self.at.line()
        )
    }
}

/// The `OSError` subclass Python's constructor picks for an errno.
fn os_class(errno: Option<i32>) -> &'static str {
    let Some(n) = errno else { return "OSError" };
    match n {
        libc::EAGAIN | libc::EALREADY | libc::EINPROGRESS => "BlockingIOError",
        libc::ECHILD => "ChildProcessError",
        libc::EPIPE | libc::ESHUTDOWN => "BrokenPipeError",
        libc::ECONNABORTED => "ConnectionAbortedError",
        libc::ECONNREFUSED => "ConnectionRefusedError",
        libc::ECONNRESET => "ConnectionResetError",
        libc::EEXIST => "FileExistsError",
        libc::ENOENT => "FileNotFoundError",
        libc::EISDIR => "IsADirectoryError",
        libc::ENOTDIR => "NotADirectoryError",
        libc::EINTR => "InterruptedError",
        libc::EACCES | libc::EPERM => "PermissionError",
        libc::ESRCH => "ProcessLookupError",
        libc::ETIMEDOUT => "TimeoutError",
        _ => "OSError",
    }
}

/// The C library's text for an errno (what Python's `os.strerror` gives).
pub fn strerror(n: i32) -> String {
    let text = std::io::Error::from_raw_os_error(n).to_string();
    match text.rfind(" (os error ") {
        Some(i) => text[..i].to_string(),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rendered_as_python_prints_them() {
        let e = PyErr::os(&std::io::Error::from_raw_os_error(libc::ENOENT));
        assert_eq!(e.class(), "FileNotFoundError");
        assert_eq!(e.message(), "[Errno 2] No such file or directory");
        assert_eq!(e.errno(), Some(2));
        let f = PyErr::new(Kind::Fault(Fault {
            code: 6,
            string: "SHUTDOWN_STATE".into(),
        }));
        assert!(f.render().starts_with(
            "error: <class 'xmlrpc.client.Fault'>, <Fault 6: 'SHUTDOWN_STATE'>: file: "
        ));
        let p = PyErr::new(Kind::Protocol {
            status: 401,
            reason: "Unauthorized".into(),
        });
        assert_eq!(
            p.message(),
            "<ProtocolError for 127.0.0.1/RPC2: 401 Unauthorized>"
        );
        assert_eq!(os_class(Some(libc::ECONNREFUSED)), "ConnectionRefusedError");
        assert_eq!(os_class(None), "OSError");
    }
}
