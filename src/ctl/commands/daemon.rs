//! Commands on the daemon itself and the session: `version`, `shutdown`, `reload` (both ask
//! `y/N` first in the shell), `open`, and `quit`/`exit`/end of input.

use super::groups::no_arguments;
use crate::ctl::controller::{Controller, lsb};
use crate::ctl::error::Result;
use crate::ctl::rpc::text;
use crate::rpc::faults;

pub fn do_quit(ctl: &mut Controller, _arg: &str) -> Result<bool> {
    ctl.output("");
    Ok(true)
}

pub fn do_version(ctl: &mut Controller, arg: &str) -> Result<bool> {
    if no_arguments(ctl, "version", arg) {
        return Ok(false);
    }
    if !ctl.upcheck()? {
        return Ok(false);
    }
    ctl.proxy()?;
    let v = ctl.call("getSupervisorVersion", &[])?;
    ctl.output(&text(&v));
    Ok(false)
}

/// In the shell: ask, as the stock client's `raw_input(question)`, and take an answer
/// starting with `y`. One-shot: yes.
fn confirmed(ctl: &mut Controller, question: &str) -> Result<bool> {
    if !ctl.opts.interactive {
        return Ok(true);
    }
    ctl.flush();
    let answer = super::auth::raw_input(ctl, question)?;
    Ok(answer.to_lowercase().starts_with('y'))
}

pub fn do_shutdown(ctl: &mut Controller, arg: &str) -> Result<bool> {
    if no_arguments(ctl, "shutdown", arg) {
        return Ok(false);
    }
    if !confirmed(ctl, "Really shut the remote supervisord process down y/N? ")? {
        return Ok(false);
    }
    ctl.proxy()?;
    match ctl.call("shutdown", &[]) {
        Ok(_) => ctl.output("Shut down"),
        Err(e) if e.fault_code() == Some(faults::SHUTDOWN_STATE) => {
            ctl.output("ERROR: already shutting down")
        }
        Err(e) if e.fault_code().is_some() => {
            ctl.exitstatus = lsb::GENERIC;
            return Err(e);
        }
        Err(e) if matches!(e.kind, crate::ctl::error::Kind::Os { .. }) => {
            ctl.exitstatus = lsb::GENERIC;
            let url = ctl.opts.serverurl.clone();
            match e.errno() {
                Some(libc::ECONNREFUSED) => ctl.output(&format!(
                    "ERROR: {} refused connection (already shut down?)",
                    url
                )),
                Some(libc::ENOENT) => {
                    ctl.output(&format!("ERROR: {} no such file (already shut down?)", url))
                }
                _ => return Err(e),
            }
        }
        Err(e) => return Err(e),
    }
    Ok(false)
}

pub fn do_reload(ctl: &mut Controller, arg: &str) -> Result<bool> {
    if no_arguments(ctl, "reload", arg) {
        return Ok(false);
    }
    if !confirmed(ctl, "Really restart the remote supervisord process y/N? ")? {
        return Ok(false);
    }
    ctl.proxy()?;
    match ctl.call("restart", &[]) {
        Ok(_) => ctl.output("Restarted supervisord"),
        Err(e) if e.fault_code().is_some() => {
            ctl.exitstatus = lsb::GENERIC;
            if e.fault_code() == Some(faults::SHUTDOWN_STATE) {
                ctl.output("ERROR: already shutting down");
            } else {
                return Err(e);
            }
        }
        Err(e) => return Err(e),
    }
    Ok(false)
}

pub fn do_open(ctl: &mut Controller, arg: &str) -> Result<bool> {
    let url = arg.trim();
    let scheme = crate::ctl::url::urlsplit(url).scheme;
    if scheme != "unix" && scheme != "http" {
        ctl.output("ERROR: url must be http:// or unix://");
        ctl.exitstatus = lsb::GENERIC;
        return Ok(false);
    }
    ctl.opts.serverurl = url.to_string();
    ctl.reconnect();
    let old = ctl.exitstatus;
    super::process::do_status(ctl, "")?;
    ctl.exitstatus = old;
    Ok(false)
}
