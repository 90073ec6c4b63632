//! Commands on processes: `status`, `pid`, `start`, `stop`, `restart`, `signal`, `clear`,
//! with the stock client's result lines (`x: started`, `x: ERROR (spawn error)`, ...), its
//! status table layout and its LSB exit statuses.

use super::{help, namespec, split_namespec};
use crate::ctl::controller::{Controller, lsb, split};
use crate::ctl::error::{PyErr, Result};
use crate::ctl::rpc::{int_of, list, text, text_of};
use crate::rpc::{Value, faults};

/// Process states in which `status` reports "not running" (STOPPED, EXITED, FATAL, UNKNOWN).
const STOPPED_STATES: [i64; 4] = [0, 100, 200, 1000];

/// A result struct, or a fault turned into one (`name` is `None` for a group spec).
struct Outcome {
    status: i64,
    group: String,
    name: Option<String>,
    description: String,
}

impl Outcome {
    fn from_value(v: &Value) -> Result<Outcome> {
        Ok(Outcome {
            status: int_of(v, "status")?.unwrap_or(-1),
            group: text_of(v, "group")?,
            name: Some(text_of(v, "name")?),
            description: text_of(v, "description").unwrap_or_default(),
        })
    }

    fn from_fault(e: &PyErr, spec: &str) -> Option<Outcome> {
        let crate::ctl::error::Kind::Fault(f) = &e.kind else {
            return None;
        };
        let (group, name) = split_namespec(spec);
        Some(Outcome {
            status: i64::from(f.code),
            group,
            name,
            description: f.string.clone(),
        })
    }

    fn spec(&self) -> String {
        namespec(&self.group, self.name.as_deref())
    }

    fn unknown(&self) -> PyErr {
        PyErr::other(
            "ValueError",
            format!(
                "the daemon answered with an unknown result code {} for {}",
                self.status,
                self.spec()
            ),
        )
    }
}

fn is(code: i64, fault: i32) -> bool {
    code == i64::from(fault)
}

fn start_result(r: &Outcome) -> Result<String> {
    let why = match r.status {
        c if is(c, faults::BAD_NAME) => "no such process",
        c if is(c, faults::NO_FILE) => "no such file",
        c if is(c, faults::NOT_EXECUTABLE) => "file is not executable",
        c if is(c, faults::ALREADY_STARTED) => "already started",
        c if is(c, faults::SPAWN_ERROR) => "spawn error",
        c if is(c, faults::ABNORMAL_TERMINATION) => "abnormal termination",
        c if is(c, faults::SUCCESS) => return Ok(format!("{}: started", r.spec())),
        _ => return Err(r.unknown()),
    };
    Ok(format!("{}: ERROR ({})", r.spec(), why))
}

fn signal_result(r: &Outcome, success: &str) -> Result<String> {
    let why = match r.status {
        c if is(c, faults::BAD_NAME) => "no such process",
        c if is(c, faults::BAD_SIGNAL) => "bad signal name",
        c if is(c, faults::NOT_RUNNING) => "not running",
        c if is(c, faults::SUCCESS) => return Ok(format!("{}: {}", r.spec(), success)),
        c if is(c, faults::FAILED) => return Ok(r.description.clone()),
        _ => return Err(r.unknown()),
    };
    Ok(format!("{}: ERROR ({})", r.spec(), why))
}

fn clear_result(r: &Outcome) -> Result<String> {
    match r.status {
        c if is(c, faults::BAD_NAME) => Ok(format!("{}: ERROR (no such process)", r.spec())),
        c if is(c, faults::FAILED) => Ok(format!("{}: ERROR (failed)", r.spec())),
        c if is(c, faults::SUCCESS) => Ok(format!("{}: cleared", r.spec())),
        _ => Err(r.unknown()),
    }
}

/// Print each result of a multi-process call, setting the exit status from its code.
fn report(
    ctl: &mut Controller,
    results: &Value,
    line: fn(&Outcome) -> Result<String>,
    ignored: Option<i32>,
) -> Result<()> {
    for v in list(results)? {
        let r = Outcome::from_value(v)?;
        let text = line(&r)?;
        ctl.output(&text);
        ctl.set_status_from_fault(r.status, ignored);
    }
    Ok(())
}

pub fn do_status(ctl: &mut Controller, arg: &str) -> Result<bool> {
    if !ctl.upcheck()? {
        ctl.exitstatus = lsb::STATUS_UNKNOWN;
        return Ok(false);
    }
    ctl.proxy()?;
    let all = ctl.call("getAllProcessInfo", &[])?;
    let all = list(&all)?;
    let names = split(arg);
    let mut matching: Vec<&Value> = Vec::new();
    if names.is_empty() || names.contains(&"all") {
        matching.extend(all.iter());
    } else {
        for name in names {
            let (group, process) = split_namespec(name);
            let mut found = false;
            for info in all {
                let mut matched = text_of(info, "group")? == group;
                if let Some(p) = &process {
                    matched = matched && text_of(info, "name")? == *p;
                }
                if matched {
                    found = true;
                    matching.push(info);
                }
            }
            if !found {
                let msg = match process {
                    None => format!("{}: ERROR (no such group)", group),
                    Some(_) => format!("{}: ERROR (no such process)", name),
                };
                ctl.output(&msg);
                ctl.exitstatus = lsb::STATUS_UNKNOWN;
            }
        }
    }
    let mut specs = Vec::with_capacity(matching.len());
    for info in &matching {
        specs.push(namespec(
            &text_of(info, "group")?,
            Some(&text_of(info, "name")?),
        ));
    }
    let width = specs
        .iter()
        .map(|s| s.chars().count())
        .max()
        .unwrap_or(0)
        .max(30)
        + 3;
    for (info, spec) in matching.iter().zip(&specs) {
        let line = format!(
            "{:<w$}{:<10}{}",
            spec,
            text_of(info, "statename")?,
            text_of(info, "description")?,
            w = width
        );
        ctl.output(&line);
    }
    for info in &matching {
        if int_of(info, "state")?.is_some_and(|s| STOPPED_STATES.contains(&s)) {
            ctl.exitstatus = lsb::STATUS_NOT_RUNNING;
        }
    }
    Ok(false)
}

pub fn do_pid(ctl: &mut Controller, arg: &str) -> Result<bool> {
    ctl.proxy()?;
    if !ctl.upcheck()? {
        return Ok(false);
    }
    let names = split(arg);
    if names.is_empty() {
        let pid = ctl.call("getPID", &[])?;
        ctl.output(&text(&pid));
    } else if names.contains(&"all") {
        let all = ctl.call("getAllProcessInfo", &[])?;
        for info in list(&all)? {
            let pid = text_of(info, "pid")?;
            ctl.output(&pid);
        }
    } else {
        for name in names {
            match ctl.call("getProcessInfo", &[Value::String(name.into())]) {
                Ok(info) => {
                    let pid = text_of(&info, "pid")?;
                    ctl.output(&pid);
                    if int_of(&info, "pid")? == Some(0) {
                        ctl.exitstatus = lsb::NOT_RUNNING;
                    }
                }
                Err(e) if e.fault_code().is_some() => {
                    ctl.exitstatus = lsb::GENERIC;
                    if e.fault_code() == Some(faults::BAD_NAME) {
                        ctl.output(&format!("No such process {}", name));
                    } else {
                        return Err(e);
                    }
                }
                Err(e) => return Err(e),
            }
        }
    }
    Ok(false)
}

pub fn do_start(ctl: &mut Controller, arg: &str) -> Result<bool> {
    if !ctl.upcheck()? {
        return Ok(false);
    }
    let names = split(arg);
    ctl.proxy()?;
    if names.is_empty() {
        ctl.output("Error: start requires a process name");
        ctl.exitstatus = lsb::INVALID_ARGS;
        help::show(ctl, "start");
        return Ok(false);
    }
    let already = Some(faults::ALREADY_STARTED);
    if names.contains(&"all") {
        let results = ctl.call("startAllProcesses", &[])?;
        report(ctl, &results, start_result, already)?;
        return Ok(false);
    }
    for name in names {
        let (group, process) = split_namespec(name);
        if process.is_none() {
            match ctl.call("startProcessGroup", &[Value::String(group.clone())]) {
                Ok(results) => report(ctl, &results, start_result, already)?,
                Err(e) if e.fault_code() == Some(faults::BAD_NAME) => {
                    ctl.output(&format!("{}: ERROR (no such group)", group));
                    ctl.exitstatus = lsb::INVALID_ARGS;
                }
                Err(e) => {
                    if e.fault_code().is_some() {
                        ctl.exitstatus = lsb::GENERIC;
                    }
                    return Err(e);
                }
            }
        } else {
            match ctl.call("startProcess", &[Value::String(name.into())]) {
                Ok(_) => ctl.output(&format!(
                    "{}: started",
                    namespec(&group, process.as_deref())
                )),
                Err(e) => {
                    let Some(r) = Outcome::from_fault(&e, name) else {
                        return Err(e);
                    };
                    let text = start_result(&r)?;
                    ctl.output(&text);
                    ctl.set_status_from_fault(r.status, already);
                }
            }
        }
    }
    Ok(false)
}

pub fn do_stop(ctl: &mut Controller, arg: &str) -> Result<bool> {
    if !ctl.upcheck()? {
        return Ok(false);
    }
    let names = split(arg);
    ctl.proxy()?;
    if names.is_empty() {
        ctl.output("Error: stop requires a process name");
        ctl.exitstatus = lsb::GENERIC;
        help::show(ctl, "stop");
        return Ok(false);
    }
    let stopped = |r: &Outcome| signal_result(r, "stopped");
    let ignored = Some(faults::NOT_RUNNING);
    if names.contains(&"all") {
        let results = ctl.call("stopAllProcesses", &[])?;
        report(ctl, &results, stopped, ignored)?;
        return Ok(false);
    }
    for name in names {
        let (group, process) = split_namespec(name);
        if process.is_none() {
            match ctl.call("stopProcessGroup", &[Value::String(group.clone())]) {
                Ok(results) => report(ctl, &results, stopped, ignored)?,
                Err(e) if e.fault_code().is_some() => {
                    ctl.exitstatus = lsb::GENERIC;
                    if e.fault_code() == Some(faults::BAD_NAME) {
                        ctl.output(&format!("{}: ERROR (no such group)", group));
                    } else {
                        return Err(e);
                    }
                }
                Err(e) => return Err(e),
            }
        } else {
            match ctl.call("stopProcess", &[Value::String(name.into())]) {
                Ok(_) => ctl.output(&format!(
                    "{}: stopped",
                    namespec(&group, process.as_deref())
                )),
                Err(e) => {
                    let Some(r) = Outcome::from_fault(&e, name) else {
                        return Err(e);
                    };
                    let text = stopped(&r)?;
                    ctl.output(&text);
                    ctl.set_status_from_fault(r.status, ignored);
                }
            }
        }
    }
    Ok(false)
}

pub fn do_restart(ctl: &mut Controller, arg: &str) -> Result<bool> {
    if !ctl.upcheck()? {
        return Ok(false);
    }
    if split(arg).is_empty() {
        ctl.output("Error: restart requires a process name");
        ctl.exitstatus = lsb::GENERIC;
        help::show(ctl, "restart");
        return Ok(false);
    }
    do_stop(ctl, arg)?;
    do_start(ctl, arg)?;
    Ok(false)
}

pub fn do_signal(ctl: &mut Controller, arg: &str) -> Result<bool> {
    if !ctl.upcheck()? {
        return Ok(false);
    }
    let args = split(arg);
    if args.len() < 2 {
        ctl.output("Error: signal requires a signal name and a process name");
        help::show(ctl, "signal");
        ctl.exitstatus = lsb::GENERIC;
        return Ok(false);
    }
    let sig = Value::String(args[0].into());
    let names = &args[1..];
    ctl.proxy()?;
    let signalled = |r: &Outcome| signal_result(r, "signalled");
    if names.contains(&"all") {
        let results = ctl.call("signalAllProcesses", std::slice::from_ref(&sig))?;
        report(ctl, &results, signalled, None)?;
        return Ok(false);
    }
    for &name in names {
        let (group, process) = split_namespec(name);
        if process.is_none() {
            match ctl.call(
                "signalProcessGroup",
                &[Value::String(group.clone()), sig.clone()],
            ) {
                Ok(results) => report(ctl, &results, signalled, None)?,
                Err(e) if e.fault_code() == Some(faults::BAD_NAME) => {
                    ctl.output(&format!("{}: ERROR (no such group)", group));
                    ctl.exitstatus = lsb::GENERIC;
                }
                Err(e) => return Err(e),
            }
        } else {
            match ctl.call("signalProcess", &[Value::String(name.into()), sig.clone()]) {
                Ok(_) => ctl.output(&format!(
                    "{}: signalled",
                    namespec(&group, process.as_deref())
                )),
                Err(e) => {
                    let Some(r) = Outcome::from_fault(&e, name) else {
                        return Err(e);
                    };
                    let text = signalled(&r)?;
                    ctl.output(&text);
                    ctl.set_status_from_fault(r.status, None);
                }
            }
        }
    }
    Ok(false)
}

pub fn do_clear(ctl: &mut Controller, arg: &str) -> Result<bool> {
    if !ctl.upcheck()? {
        return Ok(false);
    }
    let names = split(arg);
    if names.is_empty() {
        ctl.output("Error: clear requires a process name");
        ctl.exitstatus = lsb::GENERIC;
        help::show(ctl, "clear");
        return Ok(false);
    }
    ctl.proxy()?;
    if names.contains(&"all") {
        let results = ctl.call("clearAllProcessLogs", &[])?;
        report(ctl, &results, clear_result, None)?;
        return Ok(false);
    }
    for name in names {
        let (group, process) = split_namespec(name);
        match ctl.call("clearProcessLogs", &[Value::String(name.into())]) {
            Ok(_) => ctl.output(&format!(
                "{}: cleared",
                namespec(&group, process.as_deref())
            )),
            Err(e) => {
                let Some(r) = Outcome::from_fault(&e, name) else {
                    return Err(e);
                };
                let text = clear_result(&r)?;
                ctl.output(&text);
                ctl.set_status_from_fault(r.status, None);
            }
        }
    }
    Ok(false)
}
