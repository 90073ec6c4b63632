//! The errors a command can meet, and the line the client prints for one it does not handle.
//!
//! The stock `supervisorctl` is Python: whatever a command does not handle itself reaches its
//! `onecmd`, which prints the exception in one line (`error: <class 'X'>, <str(exception)>:
//! file: F line: L`) and sets exit status 1. Ours prints `error: ` and a plain sentence of
//! its own there instead ([`PyErr::render`]), with the same exit status; `tail -f`'s
//! `<url> Cannot connect, error: <class 'X'> (...)` gets the same treatment (README,
//! "Compatibility notes").
//!
//! [`Kind`] still names what Python would have raised, because that decides what the stock
//! client does around an error: which exit status `upcheck` sets, which errors mean that a
//! kept-alive connection had been closed, what `fg` prints for a fault. The text an error
//! carries is ours: what went wrong, in words (`strerror`'s text for an errno).

use crate::rpc::{Fault, faults};

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
    Gai { message: String },
    /// Another Python class, by its qualified name (`ValueError`, `KeyError`,
    /// `http.client.RemoteDisconnected`, `xml.parsers.expat.ExpatError`, ...).
    Other {
        class: &'static str,
        message: String,
    },
    /// `KeyboardInterrupt` (Ctrl-C): not an `Exception`, so `onecmd` does not catch it.
    Interrupted,
}

/// An error, and whether it arose while connecting to the daemon.
#[derive(Clone, Debug, PartialEq)]
pub struct PyErr {
    pub kind: Kind,
    pub connecting: bool,
}

pub type Result<T> = std::result::Result<T, PyErr>;

impl PyErr {
    pub fn new(kind: Kind) -> Self {
        PyErr {
            kind,
            connecting: false,
        }
    }

    pub fn other(class: &'static str, message: impl Into<String>) -> Self {
        Self::new(Kind::Other {
            class,
            message: message.into(),
        })
    }

    /// An `OSError` from an I/O error.
    pub fn os(e: &std::io::Error) -> Self {
        Self::new(Kind::Os {
            errno: e.raw_os_error(),
            message: match e.raw_os_error() {
                Some(n) => strerror(n),
                None => e.to_string(),
            },
        })
    }

    /// The same error, raised while connecting.
    pub fn connecting(self) -> Self {
        PyErr {
            connecting: true,
            ..self
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

    /// Whether this is the Python class `class` (one of [`Kind::Other`]).
    pub fn is(&self, class: &str) -> bool {
        matches!(&self.kind, Kind::Other { class: c, .. } if *c == class)
    }

    /// What went wrong, in words, without where.
    pub fn detail(&self) -> String {
        let text = match &self.kind {
            Kind::Fault(f) if f.code == faults::SHUTDOWN_STATE => {
                "the daemon is shutting down and accepts no more commands (fault SHUTDOWN_STATE)"
                    .to_string()
            }
            Kind::Fault(f) => format!(
                "the daemon answered with an unexpected fault {} ({})",
                f.code, f.string
            ),
            Kind::Protocol {
                status: 401,
                reason,
            } => format!(
                "the daemon answered HTTP 401 {} on /RPC2 (check username and password)",
                reason
            ),
            Kind::Protocol { status, reason } => {
                format!("the daemon answered HTTP {} {} on /RPC2", status, reason)
            }
            Kind::Os { message, .. } | Kind::Other { message, .. } => message.clone(),
            Kind::Gai { message } => format!("host name lookup failed: {}", message),
            Kind::Interrupted => "interrupted".to_string(),
        };
        // one line, whatever the daemon's text holds
        text.replace(['\r', '\n'], " ")
    }

    /// What went wrong and where, talking to the daemon at `serverurl`.
    pub fn plain(&self, serverurl: &str) -> String {
        if self.connecting {
            format!("cannot connect to {}: {}", serverurl, self.detail())
        } else if matches!(self.kind, Kind::Os { .. }) {
            format!("the connection to {} failed: {}", serverurl, self.detail())
        } else {
            self.detail()
        }
    }

    /// The line printed where the stock client's `onecmd` prints the exception it caught.
    pub fn render(&self, serverurl: &str) -> String {
        format!("error: {}", self.plain(serverurl))
    }
}

/// Python's `str()` of an `xmlrpc.client.Fault` (`fg` prints it after `ERROR: `).
pub fn fault_str(f: &Fault) -> String {
    format!(
        "<Fault {}: {}>",
        f.code,
        crate::config::values::py_repr(&f.string)
    )
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

    const URL: &str = "unix:///tmp/x.sock";

    #[test]
    fn plain_sentences_not_python_classes() {
        let e = PyErr::os(&std::io::Error::from_raw_os_error(libc::ENOENT));
        assert_eq!(e.errno(), Some(libc::ENOENT));
        assert_eq!(
            e.clone().connecting().render(URL),
            "error: cannot connect to unix:///tmp/x.sock: No such file or directory"
        );
        let reset = PyErr::os(&std::io::Error::from_raw_os_error(libc::ECONNRESET));
        assert_eq!(
            reset.render(URL),
            "error: the connection to unix:///tmp/x.sock failed: Connection reset by peer"
        );
        let f = PyErr::new(Kind::Fault(Fault {
            code: 6,
            string: "SHUTDOWN_STATE".into(),
        }));
        assert_eq!(
            f.render(URL),
            "error: the daemon is shutting down and accepts no more commands (fault \
             SHUTDOWN_STATE)"
        );
        let f = PyErr::new(Kind::Fault(Fault {
            code: 10,
            string: "BAD_NAME: x\ny".into(),
        }));
        assert_eq!(
            f.render(URL),
            "error: the daemon answered with an unexpected fault 10 (BAD_NAME: x y)"
        );
        let p = PyErr::new(Kind::Protocol {
            status: 401,
            reason: "Unauthorized".into(),
        });
        assert_eq!(
            p.render(URL),
            "error: the daemon answered HTTP 401 Unauthorized on /RPC2 (check username and \
             password)"
        );
        let g = PyErr::new(Kind::Gai {
            message: "Name or service not known".into(),
        })
        .connecting();
        assert_eq!(
            g.render("http://h.invalid:9001"),
            "error: cannot connect to http://h.invalid:9001: host name lookup failed: Name or \
             service not known"
        );
        let x = PyErr::other("http.client.RemoteDisconnected", "the daemon closed it");
        assert!(x.is("http.client.RemoteDisconnected") && !x.is("ValueError"));
        assert_eq!(x.render(URL), "error: the daemon closed it");
    }

    #[test]
    fn faults_as_python_prints_them() {
        let f = Fault {
            code: 6,
            string: "SHUTDOWN_STATE".into(),
        };
        assert_eq!(fault_str(&f), "<Fault 6: 'SHUTDOWN_STATE'>");
    }
}
