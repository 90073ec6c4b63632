//! `tail` and `maintail`: the last bytes of a log through XML-RPC, or `-f` to follow it
//! over HTTP until Ctrl-C (or until the daemon ends the stream).

use super::help;
use crate::ctl::controller::{Controller, lsb, split};
use crate::ctl::error::Result;
use crate::ctl::rpc::text;
use crate::ctl::stream::{Event, Follow, feed};
use crate::ctl::{encoding, interrupt};
use crate::rpc::{Value, faults};

/// Python's `int(text)` for a byte count (`None`: not a number).
fn py_int(text: &str) -> Option<i32> {
    crate::rpc::xml::py_int(text)
}

/// Follow `path` until Ctrl-C or its end (`_tailf`).
fn tailf(ctl: &mut Controller, path: &str) -> Result<bool> {
    encoding::check(ctl);
    ctl.output("==> Press Ctrl-C to exit <==");
    ctl.flush();
    interrupt::arm();
    let Some(mut follow) = Follow::open(ctl, path)? else {
        return Ok(false);
    };
    loop {
        match follow.next(ctl) {
            Event::Data(data) => feed(ctl, &data),
            Event::End => return Ok(false),
            Event::Interrupted => {
                drop(follow);
                ctl.output("");
                return Ok(false);
            }
        }
    }
}

pub fn do_tail(ctl: &mut Controller, arg: &str) -> Result<bool> {
    if !ctl.upcheck()? {
        return Ok(false);
    }
    let mut args = split(arg);
    if args.is_empty() {
        ctl.output("Error: too few arguments");
        ctl.exitstatus = lsb::GENERIC;
        help::show(ctl, "tail");
        return Ok(false);
    }
    if args.len() > 3 {
        ctl.output("Error: too many arguments");
        ctl.exitstatus = lsb::GENERIC;
        help::show(ctl, "tail");
        return Ok(false);
    }
    let modifier = if args[0].starts_with('-') {
        Some(args.remove(0))
    } else {
        None
    };
    let (name, channel) = if args.len() == 1 {
        (args[0], "stdout".to_string())
    } else if let (Some(first), Some(last)) = (args.first(), args.last()) {
        let channel = last.to_lowercase();
        if channel != "stderr" && channel != "stdout" {
            ctl.output(&format!(
                "Error: bad channel {}",
                crate::config::values::py_repr(&channel)
            ));
            ctl.exitstatus = lsb::GENERIC;
            return Ok(false);
        }
        (*first, channel)
    } else {
        ctl.output("Error: tail requires process name");
        ctl.exitstatus = lsb::GENERIC;
        return Ok(false);
    };
    let mut bytes = Some(1600);
    if let Some(m) = modifier {
        let what = &m[1..];
        if what == "f" {
            bytes = None;
        } else {
            match py_int(what) {
                Some(n) => bytes = Some(n),
                None => {
                    ctl.output(&format!("Error: bad argument {}", m));
                    ctl.exitstatus = lsb::GENERIC;
                    return Ok(false);
                }
            }
        }
    }
    ctl.proxy()?;
    let Some(bytes) = bytes else {
        return tailf(ctl, &format!("/logtail/{}/{}", name, channel));
    };
    encoding::check(ctl);
    let method = if channel == "stdout" {
        "readProcessStdoutLog"
    } else {
        "readProcessStderrLog"
    };
    let params = [
        Value::String(name.into()),
        Value::Integer(bytes.saturating_neg()),
        Value::Integer(0),
    ];
    match ctl.call(method, &params) {
        Ok(v) => ctl.output(&text(&v)),
        Err(e) if e.fault_code().is_some() => {
            ctl.exitstatus = lsb::GENERIC;
            let why = match e.fault_code() {
                Some(faults::NO_FILE) => "no log file",
                Some(faults::FAILED) => "unknown error reading log",
                Some(faults::BAD_NAME) => "no such process name",
                _ => return Err(e),
            };
            ctl.output(&format!("{}: ERROR ({})", name, why));
        }
        Err(e) => return Err(e),
    }
    Ok(false)
}

pub fn do_maintail(ctl: &mut Controller, arg: &str) -> Result<bool> {
    if !ctl.upcheck()? {
        return Ok(false);
    }
    let args = split(arg);
    let bytes = match args.as_slice() {
        [] => 1600,
        [one] if *one == "-f" => return tailf(ctl, "/mainlogtail"),
        [one] => match one.strip_prefix('-').and_then(py_int) {
            Some(n) => n,
            None => {
                ctl.output(&format!("Error: bad argument {}", one));
                ctl.exitstatus = lsb::GENERIC;
                return Ok(false);
            }
        },
        _ => {
            ctl.output("Error: too many arguments");
            ctl.exitstatus = lsb::GENERIC;
            help::show(ctl, "maintail");
            return Ok(false);
        }
    };
    ctl.proxy()?;
    match ctl.call(
        "readLog",
        &[Value::Integer(bytes.saturating_neg()), Value::Integer(0)],
    ) {
        Ok(v) => ctl.output(&text(&v)),
        Err(e) if e.fault_code().is_some() => {
            ctl.exitstatus = lsb::GENERIC;
            let why = match e.fault_code() {
                Some(faults::NO_FILE) => "no log file",
                Some(faults::FAILED) => "unknown error reading log",
                _ => return Err(e),
            };
            ctl.output(&format!("supervisord: ERROR ({})", why));
        }
        Err(e) => return Err(e),
    }
    Ok(false)
}
