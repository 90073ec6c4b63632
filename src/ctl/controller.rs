//! The controller: one command line in, the stock client's output and exit status out.
//!
//! It owns the session (options, the XML-RPC client, the exit status, standard input for
//! `fg` and confirmations) and does what the stock `Controller.onecmd` does around each
//! command: Python `cmd`'s split of a line into a command word and its argument (`?` means
//! `help`), `*** Unknown syntax: ...` for anything else, the `upcheck` most commands start
//! with (`getVersion` must be `3.0`; a refused connection or a missing socket is reported
//! with its LSB status), and the catch-all that prints an uncaught error with status 1: as
//! `error: ` and a plain sentence, where the stock client prints a Python exception line
//! ([`super::error`]). A 401 prints `Server requires authentication` and, one-shot, runs the
//! command once more (so the error line follows, as in the stock client); in the shell it
//! asks for a username and password and retries.

use std::io::Write;

use super::commands;
use super::error::{Kind, Result};
use super::input::Input;
use super::options::Options;
use super::rpc::Client;
use crate::rpc::{Value, faults};

/// LSB init-script exit statuses the stock client uses.
pub mod lsb {
    pub const GENERIC: i32 = 1;
    pub const INVALID_ARGS: i32 = 2;
    pub const UNIMPLEMENTED_FEATURE: i32 = 3;
    pub const INSUFFICIENT_PRIVILEGES: i32 = 4;
    pub const NOT_INSTALLED: i32 = 5;
    pub const NOT_RUNNING: i32 = 7;
    /// `status`: some process is not running.
    pub const STATUS_NOT_RUNNING: i32 = 3;
    /// `status`: unknown name, or no daemon.
    pub const STATUS_UNKNOWN: i32 = 4;
}

/// Write to fd 1 unbuffered, ignoring a closed pipe.
pub fn write_stdout(bytes: &[u8]) {
    let _ = std::io::stdout().lock().write_all(bytes);
    let _ = std::io::stdout().lock().flush();
}

/// Write to fd 2, ignoring errors.
pub fn write_stderr(bytes: &[u8]) {
    let _ = std::io::stderr().lock().write_all(bytes);
}

/// One session of the client.
pub struct Controller {
    pub opts: Options,
    pub exitstatus: i32,
    pub input: Input,
    client: Client,
    out: Vec<u8>,
}

/// A command: its argument text in, `Ok(true)` to leave the shell.
pub type Command = fn(&mut Controller, &str) -> Result<bool>;

impl Controller {
    pub fn new(opts: Options) -> Controller {
        let client = Client::new(
            &opts.serverurl,
            opts.username.as_deref(),
            opts.password.as_deref(),
        );
        Controller {
            opts,
            exitstatus: 0,
            input: Input::new(),
            client,
            out: Vec::new(),
        }
    }

    /// Print a line (`Controller.output`).
    pub fn output(&mut self, line: &str) {
        self.out.extend_from_slice(line.as_bytes());
        self.out.push(b'\n');
        if self.out.len() > 64 * 1024 {
            self.flush();
        }
    }

    /// Print text as it is (stream data, prompts).
    pub fn write(&mut self, text: &str) {
        self.out.extend_from_slice(text.as_bytes());
    }

    pub fn flush(&mut self) {
        if !self.out.is_empty() {
            write_stdout(&self.out);
            self.out.clear();
        }
    }

    /// A line on stderr, after what stdout has so far.
    pub fn error_line(&mut self, line: &str) {
        self.flush();
        write_stderr(format!("{}\n", line).as_bytes());
    }

    /// Point the session at another server or credentials (`open`, a 401 in the shell).
    pub fn reconnect(&mut self) {
        self.client = Client::new(
            &self.opts.serverurl,
            self.opts.username.as_deref(),
            self.opts.password.as_deref(),
        );
    }

    /// `get_supervisor()`: fails as creating the stock client's proxy fails (bad URL).
    pub fn proxy(&self) -> Result<()> {
        self.client.check().map(|_| ())
    }

    /// Call `supervisor.<method>`.
    pub fn call(&mut self, method: &str, params: &[Value]) -> Result<Value> {
        self.client.call(&format!("supervisor.{}", method), params)
    }

    /// `set_exitstatus_from_xmlrpc_fault`.
    pub fn set_status_from_fault(&mut self, code: i64, ignored: Option<i32>) {
        if Some(code) == ignored.map(i64::from) || code == i64::from(faults::SUCCESS) {
            return;
        }
        self.exitstatus = if [
            faults::SPAWN_ERROR,
            faults::ABNORMAL_TERMINATION,
            faults::NOT_RUNNING,
        ]
        .iter()
        .any(|&c| i64::from(c) == code)
        {
            lsb::NOT_RUNNING
        } else {
            lsb::GENERIC
        };
    }

    /// `upcheck()`: is there a daemon that speaks API 3.0? Prints why not.
    pub fn upcheck(&mut self) -> Result<bool> {
        match self.call("getVersion", &[]) {
            Ok(api) => {
                let api = super::rpc::text(&api);
                if api != "3.0" {
                    self.output(&format!(
                        "Sorry, this version of supervisorctl expects to talk to a server with \
                         API version 3.0, but the remote version is {}.",
                        api
                    ));
                    self.exitstatus = lsb::NOT_INSTALLED;
                    return Ok(false);
                }
                Ok(true)
            }
            Err(e) if e.fault_code() == Some(faults::UNKNOWN_METHOD) => {
                self.output(
                    "Sorry, supervisord responded but did not recognize the supervisor \
                     namespace commands that supervisorctl uses to control it.  Please check \
                     that the [rpcinterface:supervisor] section is enabled in the \
                     configuration file (see sample.conf).",
                );
                self.exitstatus = lsb::UNIMPLEMENTED_FEATURE;
                Ok(false)
            }
            Err(e) if e.errno() == Some(libc::ECONNREFUSED) => {
                let msg = format!("{} refused connection", self.opts.serverurl);
                self.output(&msg);
                self.exitstatus = lsb::INSUFFICIENT_PRIVILEGES;
                Ok(false)
            }
            Err(e) if e.errno() == Some(libc::ENOENT) => {
                let msg = format!("{} no such file", self.opts.serverurl);
                self.output(&msg);
                self.exitstatus = lsb::NOT_RUNNING;
                Ok(false)
            }
            Err(e) => {
                if matches!(e.kind, Kind::Fault(_) | Kind::Os { .. } | Kind::Gai { .. })
                    || e.is("http.client.RemoteDisconnected")
                {
                    self.exitstatus = lsb::GENERIC;
                }
                Err(e)
            }
        }
    }

    /// Run one command line; `Ok(true)` when the shell should end. `Err` is Ctrl-C.
    pub fn onecmd(
        &mut self,
        line: &str,
    ) -> std::result::Result<bool, super::interrupt::Interrupted> {
        let (cmd, arg, line) = parseline(line);
        if line.is_empty() {
            return Ok(false);
        }
        let Some(func) = cmd.as_deref().and_then(commands::lookup) else {
            self.output(&format!("*** Unknown syntax: {}", line));
            self.exitstatus = lsb::GENERIC;
            return Ok(false);
        };
        let result = match func(self, &arg) {
            Err(e) if matches!(e.kind, Kind::Protocol { status: 401, .. }) => {
                if self.opts.interactive {
                    self.output("Server requires authentication");
                    self.flush();
                    match commands::auth::ask_credentials(self) {
                        Ok(()) => return self.onecmd(&line),
                        Err(e) => Err(e),
                    }
                } else {
                    self.output("Server requires authentication");
                    self.exitstatus = lsb::GENERIC;
                    func(self, &arg).map(|_| false)
                }
            }
            other => other,
        };
        match result {
            Ok(stop) => Ok(stop),
            Err(e) if e.kind == Kind::Interrupted => Err(super::interrupt::Interrupted),
            Err(e) => {
                let line = e.render(&self.opts.serverurl);
                self.output(&line);
                self.exitstatus = lsb::GENERIC;
                Ok(false)
            }
        }
    }
}

/// Python `cmd.Cmd.parseline`: (command word, argument, the stripped line). The word is
/// `None` for a line starting with `!` (no `shell` command here).
pub fn parseline(line: &str) -> (Option<String>, String, String) {
    let mut line = line.trim_matches(py_space).to_string();
    if line.is_empty() {
        return (None, String::new(), line);
    }
    if let Some(rest) = line.strip_prefix('?') {
        line = format!("help {}", rest);
    } else if line.starts_with('!') {
        return (None, String::new(), line);
    }
    let end = line
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(line.len());
    let cmd = line[..end].to_string();
    let arg = line[end..].trim_matches(py_space).to_string();
    (Some(cmd), arg, line)
}

/// Python's `str.strip()` whitespace.
fn py_space(c: char) -> bool {
    c.is_whitespace() || matches!(c, '\x1c'..='\x1f')
}

/// Python's `str.split()` with no separator.
pub fn split(arg: &str) -> Vec<&str> {
    arg.split(py_space).filter(|s| !s.is_empty()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_split_as_python_cmd() {
        assert_eq!(
            parseline("  status a b \n"),
            (Some("status".into()), "a b".into(), "status a b".into())
        );
        assert_eq!(
            parseline("?status"),
            (Some("help".into()), "status".into(), "help status".into())
        );
        assert_eq!(
            parseline("stop,a"),
            (Some("stop".into()), ",a".into(), "stop,a".into())
        );
        assert_eq!(parseline("-x"), (Some("".into()), "-x".into(), "-x".into()));
        assert_eq!(parseline("!ls").0, None);
        assert_eq!(parseline("   ").2, "");
        assert_eq!(split(" a\tb  c "), vec!["a", "b", "c"]);
    }
}
