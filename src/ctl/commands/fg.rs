//! `fg <process>`: the process's stdout and stderr streams on our stdout, and each line typed
//! sent to its stdin (`sendProcessStdin`), until Ctrl-C or end of input (`Exiting
//! foreground`), or until the process is found not running after a line (`Process got
//! killed`). One thread polls the terminal, both streams and Ctrl-C together.

use super::help;
use crate::ctl::controller::{Controller, lsb, split};
use crate::ctl::error::{Kind, PyErr, Result, fault_str};
use crate::ctl::interrupt;
use crate::ctl::rpc::int_of;
use crate::ctl::stream::{Event, Follow, cannot_connect, feed};
use crate::rpc::{Value, faults};

const RUNNING: i64 = 20;

pub fn do_fg(ctl: &mut Controller, arg: &str) -> Result<bool> {
    if !ctl.upcheck()? {
        return Ok(false);
    }
    let names = split(arg);
    if names.is_empty() {
        ctl.output("ERROR: no process name supplied");
        ctl.exitstatus = lsb::GENERIC;
        help::show(ctl, "fg");
        return Ok(false);
    }
    if names.len() > 1 {
        ctl.output("ERROR: too many process names supplied");
        ctl.exitstatus = lsb::GENERIC;
        return Ok(false);
    }
    let name = names[0].to_string();
    ctl.proxy()?;
    let info = match ctl.call("getProcessInfo", &[Value::String(name.clone())]) {
        Ok(info) => info,
        Err(e) if e.fault_code() == Some(faults::BAD_NAME) => {
            ctl.output("ERROR: bad process name supplied");
            ctl.exitstatus = lsb::GENERIC;
            return Ok(false);
        }
        Err(PyErr {
            kind: Kind::Fault(f),
            ..
        }) => {
            ctl.output(&format!("ERROR: {}", fault_str(&f)));
            return Ok(false);
        }
        Err(e) => return Err(e),
    };
    if int_of(&info, "state")? != Some(RUNNING) {
        ctl.output("ERROR: process not running");
        ctl.exitstatus = lsb::GENERIC;
        return Ok(false);
    }
    ctl.output("==> Press Ctrl-C to exit <==");
    ctl.flush();
    interrupt::arm();
    let mut follows: Vec<Follow> = Vec::new();
    for channel in ["stdout", "stderr"] {
        let path = format!("/logtail/{}/{}", name, channel);
        match Follow::open(ctl, &path) {
            Ok(f) => follows.extend(f),
            // the stock client's stream thread dies of it, in a traceback: one line here
            Err(e) => {
                let url = format!("{}{}", ctl.opts.serverurl, path);
                cannot_connect(ctl, &url, &e);
            }
        }
    }
    match foreground(ctl, &name, &mut follows) {
        Err(e) if e.kind == Kind::Interrupted => {
            ctl.output("Exiting foreground");
            Ok(false)
        }
        other => other.map(|()| false),
    }
}

/// Relay until one of the ways out; `Err(Interrupted)` for Ctrl-C and end of input.
fn foreground(ctl: &mut Controller, name: &str, follows: &mut Vec<Follow>) -> Result<()> {
    let interrupted = || PyErr::new(Kind::Interrupted);
    loop {
        while let Some(line) = ctl.input.take_line() {
            if !send_line(ctl, name, line)? {
                return Ok(());
            }
        }
        if let Some(rest) = ctl.input.take_rest()
            && !send_line(ctl, name, rest)?
        {
            return Ok(());
        }
        if ctl.input.at_eof() {
            return Err(interrupted()); // EOFError: left the same way as Ctrl-C
        }
        // a stream with bytes already read is served before waiting
        if let Some(i) = follows.iter().position(Follow::has_buffered) {
            relay(ctl, follows, i)?;
            continue;
        }
        let mut fds = vec![ctl.input.fd()];
        fds.extend(follows.iter().map(Follow::fd));
        let ready = interrupt::wait(&fds).map_err(|_| interrupted())?;
        if ready[0] {
            ctl.input.read_more();
        }
        for i in (0..follows.len()).rev() {
            if ready[i + 1] {
                relay(ctl, follows, i)?;
            }
        }
    }
}

/// Copy one piece of stream `i` to stdout; drop the stream when it ends.
fn relay(ctl: &mut Controller, follows: &mut Vec<Follow>, i: usize) -> Result<()> {
    match follows[i].next(ctl) {
        Event::Data(data) => feed(ctl, &data),
        Event::End => {
            follows.remove(i);
        }
        Event::Interrupted => return Err(PyErr::new(Kind::Interrupted)),
    }
    Ok(())
}

/// Send one typed line; false when foreground mode is over (its messages printed).
fn send_line(ctl: &mut Controller, name: &str, line: String) -> Result<bool> {
    let params = [
        Value::String(name.into()),
        Value::String(format!("{}\n", line)),
    ];
    if let Err(e) = ctl.call("sendProcessStdin", &params) {
        let Kind::Fault(f) = &e.kind else {
            return Err(e);
        };
        if f.code == faults::NOT_RUNNING {
            ctl.output("Process got killed");
        } else {
            ctl.output(&format!("ERROR: {}", fault_str(f)));
        }
        ctl.output("Exiting foreground");
        return Ok(false);
    }
    let info = ctl.call("getProcessInfo", &[Value::String(name.into())])?;
    if int_of(&info, "state")? != Some(RUNNING) {
        ctl.output("Process got killed");
        ctl.output("Exiting foreground");
        return Ok(false);
    }
    Ok(true)
}
