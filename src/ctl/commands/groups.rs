//! Commands on the configuration and its groups: `avail`, `reread`, `update`, `add`,
//! `remove`. None of them starts with an upcheck in the stock client, so an unreachable
//! daemon shows up as an error of the command (`error: cannot connect to ...`, where the
//! stock client prints `error: <class 'FileNotFoundError'>, ...`).

use std::collections::BTreeMap;

use super::{help, namespec};
use crate::ctl::controller::{Controller, lsb, split};
use crate::ctl::error::Result;
use crate::ctl::rpc::{int_of, list, text, text_of, truthy};
use crate::rpc::{Value, faults};

/// A command that takes no argument: prints the stock complaint when it got one.
pub fn no_arguments(ctl: &mut Controller, command: &str, arg: &str) -> bool {
    if arg.is_empty() {
        return false;
    }
    ctl.output(&format!("Error: {} accepts no arguments", command));
    ctl.exitstatus = lsb::GENERIC;
    help::show(ctl, command);
    true
}

pub fn do_avail(ctl: &mut Controller, arg: &str) -> Result<bool> {
    if no_arguments(ctl, "avail", arg) {
        return Ok(false);
    }
    ctl.proxy()?;
    let infos = match ctl.call("getAllConfigInfo", &[]) {
        Ok(v) => v,
        Err(e) if e.fault_code().is_some() => {
            ctl.exitstatus = lsb::GENERIC;
            if e.fault_code() == Some(faults::SHUTDOWN_STATE) {
                ctl.output("ERROR: supervisor shutting down");
                return Ok(false);
            }
            return Err(e);
        }
        Err(e) => return Err(e),
    };
    for info in list(&infos)? {
        let name = namespec(&text_of(info, "group")?, Some(&text_of(info, "name")?));
        let inuse = if truthy(info, "inuse")? {
            "in use"
        } else {
            "avail"
        };
        let auto = if truthy(info, "autostart")? {
            "auto"
        } else {
            "manual"
        };
        let prio = format!(
            "{}:{}",
            text_of(info, "group_prio")?,
            text_of(info, "process_prio")?
        );
        ctl.output(&format!("{:<32} {:<9} {:<9} {}", name, inuse, auto, prio));
    }
    Ok(false)
}

/// `reloadConfig()`'s `[[added, changed, removed]]`, as three lists of names.
fn changes(result: &Value) -> Result<[Vec<String>; 3]> {
    let first = list(result)?
        .first()
        .cloned()
        .unwrap_or(Value::Array(Vec::new()));
    let parts = list(&first)?;
    let names = |i: usize| -> Result<Vec<String>> {
        match parts.get(i) {
            Some(v) => Ok(list(v)?.iter().map(text).collect()),
            None => Err(crate::ctl::error::PyErr::other(
                "ValueError",
                format!(
                    "the daemon's reloadConfig answer has {} lists of names, not 3",
                    parts.len()
                ),
            )),
        }
    };
    Ok([names(0)?, names(1)?, names(2)?])
}

pub fn do_reread(ctl: &mut Controller, arg: &str) -> Result<bool> {
    if no_arguments(ctl, "reread", arg) {
        return Ok(false);
    }
    ctl.proxy()?;
    let result = match ctl.call("reloadConfig", &[]) {
        Ok(v) => v,
        Err(e) if e.fault_code().is_some() => {
            ctl.exitstatus = lsb::GENERIC;
            match e.fault_code() {
                Some(faults::SHUTDOWN_STATE) => ctl.output("ERROR: supervisor shutting down"),
                Some(faults::CANT_REREAD) => {
                    let crate::ctl::error::Kind::Fault(f) = &e.kind else {
                        unreachable!()
                    };
                    let msg = format!("ERROR: {}", f.string);
                    ctl.output(&msg);
                }
                _ => return Err(e),
            }
            return Ok(false);
        }
        Err(e) => return Err(e),
    };
    let [added, changed, dropped] = changes(&result)?;
    let mut by_name = BTreeMap::new();
    for (names, what) in [
        (added, "available"),
        (changed, "changed"),
        (dropped, "disappeared"),
    ] {
        for n in names {
            by_name.insert(n, what);
        }
    }
    if by_name.is_empty() {
        ctl.output("No config updates to processes");
    }
    for (name, what) in by_name {
        ctl.output(&format!("{}: {}", name, what));
    }
    Ok(false)
}

pub fn do_add(ctl: &mut Controller, arg: &str) -> Result<bool> {
    ctl.proxy()?;
    for name in split(arg) {
        match ctl.call("addProcessGroup", &[Value::String(name.into())]) {
            Ok(_) => ctl.output(&format!("{}: added process group", name)),
            Err(e) => match e.fault_code() {
                Some(faults::SHUTDOWN_STATE) => {
                    ctl.output("ERROR: shutting down");
                    ctl.exitstatus = lsb::GENERIC;
                }
                Some(faults::ALREADY_ADDED) => ctl.output("ERROR: process group already active"),
                Some(faults::BAD_NAME) => {
                    ctl.output(&format!("ERROR: no such process/group: {}", name));
                    ctl.exitstatus = lsb::GENERIC;
                }
                Some(_) => {
                    ctl.exitstatus = lsb::GENERIC;
                    return Err(e);
                }
                None => return Err(e),
            },
        }
    }
    Ok(false)
}

pub fn do_remove(ctl: &mut Controller, arg: &str) -> Result<bool> {
    ctl.proxy()?;
    for name in split(arg) {
        match ctl.call("removeProcessGroup", &[Value::String(name.into())]) {
            Ok(_) => ctl.output(&format!("{}: removed process group", name)),
            Err(e) if e.fault_code().is_some() => {
                ctl.exitstatus = lsb::GENERIC;
                match e.fault_code() {
                    Some(faults::STILL_RUNNING) => {
                        ctl.output(&format!("ERROR: process/group still running: {}", name))
                    }
                    Some(faults::BAD_NAME) => {
                        ctl.output(&format!("ERROR: no such process/group: {}", name))
                    }
                    _ => return Err(e),
                }
            }
            Err(e) => return Err(e),
        }
    }
    Ok(false)
}

pub fn do_update(ctl: &mut Controller, arg: &str) -> Result<bool> {
    ctl.proxy()?;
    let result = match ctl.call("reloadConfig", &[]) {
        Ok(v) => v,
        Err(e) if e.fault_code().is_some() => {
            ctl.exitstatus = lsb::GENERIC;
            if e.fault_code() == Some(faults::SHUTDOWN_STATE) {
                ctl.output("ERROR: already shutting down");
                return Ok(false);
            }
            return Err(e);
        }
        Err(e) => return Err(e),
    };
    let [added, changed, removed] = changes(&result)?;
    // the names given, once each (the stock client keeps them in a set)
    let mut wanted: Vec<&str> = Vec::new();
    for n in split(arg) {
        if !wanted.contains(&n) {
            wanted.push(n);
        }
    }
    if wanted.contains(&"all") {
        wanted.clear();
    }
    if !wanted.is_empty() {
        let infos = ctl.call("getAllProcessInfo", &[])?;
        let mut groups: Vec<String> = Vec::new();
        for info in list(&infos)? {
            groups.push(text_of(info, "group")?);
        }
        groups.extend(added.iter().cloned());
        for g in &wanted {
            if !groups.iter().any(|x| x == g) {
                ctl.output(&format!("ERROR: no such group: {}", g));
                ctl.exitstatus = lsb::GENERIC;
            }
        }
    }
    let skip = |g: &str| !wanted.is_empty() && !wanted.contains(&g);
    for g in &removed {
        if skip(g) {
            continue;
        }
        let results = ctl.call("stopProcessGroup", &[Value::String(g.clone())])?;
        ctl.output(&format!("{}: stopped", g));
        let mut failed = false;
        for r in list(&results)? {
            if int_of(r, "status")? == Some(i64::from(faults::FAILED)) {
                failed = true;
            }
        }
        if failed {
            ctl.output(&format!("{}: has problems; not removing", g));
            ctl.exitstatus = lsb::GENERIC;
            continue;
        }
        ctl.call("removeProcessGroup", &[Value::String(g.clone())])?;
        ctl.output(&format!("{}: removed process group", g));
    }
    for g in &changed {
        if skip(g) {
            continue;
        }
        ctl.call("stopProcessGroup", &[Value::String(g.clone())])?;
        ctl.output(&format!("{}: stopped", g));
        ctl.call("removeProcessGroup", &[Value::String(g.clone())])?;
        ctl.call("addProcessGroup", &[Value::String(g.clone())])?;
        ctl.output(&format!("{}: updated process group", g));
    }
    for g in &added {
        if skip(g) {
            continue;
        }
        ctl.call("addProcessGroup", &[Value::String(g.clone())])?;
        ctl.output(&format!("{}: added process group", g));
    }
    Ok(false)
}
