//! Prompts: `raw_input` for answers and the username, and the password read without echo
//! (`getpass`) that the shell asks for after a 401.

use crate::ctl::controller::Controller;
use crate::ctl::error::{Kind, PyErr, Result};

/// Python's `input(prompt)`; end of input is `EOFError`, Ctrl-C `KeyboardInterrupt`.
pub fn raw_input(ctl: &mut Controller, prompt: &str) -> Result<String> {
    ctl.flush();
    match ctl.input.raw_input(prompt) {
        Ok(Some(line)) => Ok(line),
        Ok(None) => Err(PyErr::other(
            "EOFError",
            "the input ended before an answer was given",
        )),
        Err(_) => Err(PyErr::new(Kind::Interrupted)),
    }
}

/// Ask for a username and a password (without echo, on the terminal), as the stock shell
/// does after `Server requires authentication`, and use them from now on.
pub fn ask_credentials(ctl: &mut Controller) -> Result<()> {
    let username = raw_input(ctl, "Username:")?;
    let password = match rpassword::prompt_password("Password:") {
        Ok(p) => p,
        Err(_) => {
            // no terminal: Python's getpass warns and reads standard input
            ctl.error_line("Warning: Password input may be echoed.");
            raw_input(ctl, "Password:")?
        }
    };
    ctl.output("");
    ctl.opts.username = Some(username);
    ctl.opts.password = Some(password);
    ctl.reconnect();
    Ok(())
}
