//! The configuration: `reloadConfig` (re-read the file), adding and removing process
//! groups from it, and `getAllConfigInfo`.

use std::collections::BTreeMap;

use super::on_actor;
use crate::config::{GroupConfig, LogTarget, ProcessConfig, RETRY_FOREVER, StreamLogConfig};
use crate::rpc::Value;
use crate::rpc::dispatch::{Args, Method, Reply, method, v};
use crate::rpc::faults::{self, Fault};
use crate::supervisor::{GroupError, SupervisorHandle};

pub static METHODS: &[Method] = &[
    method!(
        "supervisor.reloadConfig",
        0,
        0,
        reload_config,
        r#"
        Reload the configuration.

        The result contains three arrays containing names of process
        groups:

        * `added` gives the process groups that have been added
        * `changed` gives the process groups whose contents have
          changed
        * `removed` gives the process groups that are no longer
          in the configuration

        @return array result  [[added, changed, removed]]

        "#
    ),
    method!(
        "supervisor.addProcessGroup",
        1,
        1,
        add_process_group,
        r#" Update the config for a running process from config file.

        @param string name         name of process group to add
        @return boolean result     true if successful
        "#
    ),
    method!(
        "supervisor.removeProcessGroup",
        1,
        1,
        remove_process_group,
        r#" Remove a stopped process from the active configuration.

        @param string name         name of process group to remove
        @return boolean result     Indicates whether the removal was successful
        "#
    ),
    method!(
        "supervisor.getAllConfigInfo",
        0,
        0,
        get_all_config_info,
        r#" Get info about all available process configurations. Each struct
        represents a single process (i.e. groups get flattened).

        @return array result  An array of process config info structs
        "#
    ),
];

/// Re-read the configuration file; on success it becomes the one `addProcessGroup` uses.
async fn reload_config(h: SupervisorHandle, _a: Args) -> Reply {
    let path = on_actor(&h, |s| Ok(s.config().config_file.clone())).await?;
    let overrides = on_actor(&h, |s| Ok(s.cli().clone())).await?;
    let new = crate::config::load(&path).and_then(|mut c| {
        crate::cli::apply(&overrides, &mut c)?;
        Ok(c)
    });
    let new = match new {
        Ok(c) => c,
        // the reference's text alone, without what our start-up message adds
        Err(e) => return Err(Fault::with(faults::CANT_REREAD, e.reference_text())),
    };
    on_actor(&h, move |s| {
        // As the reference, only the process group configs of the re-read file take effect.
        let (added, changed, removed) = s.reload_groups(new.groups);
        let names = |v: Vec<String>| Value::Array(v.into_iter().map(Value::String).collect());
        Ok(v::arr(vec![v::arr(vec![
            names(added),
            names(changed),
            names(removed),
        ])]))
    })
    .await
}

/// A group error as the reference's fault, naming the group.
fn group_fault(e: GroupError, name: &str) -> Fault {
    match e {
        GroupError::BadName => Fault::with(faults::BAD_NAME, name),
        GroupError::AlreadyAdded => Fault::with(faults::ALREADY_ADDED, name),
        GroupError::StillRunning => Fault::with(faults::STILL_RUNNING, name),
    }
}

async fn add_process_group(h: SupervisorHandle, a: Args) -> Reply {
    let name = a.loose_text(0)?;
    on_actor(&h, move |s| {
        s.add_configured_group(&name)
            .map(|_| v::b(true))
            .map_err(|e| group_fault(e, &name))
    })
    .await
}

async fn remove_process_group(h: SupervisorHandle, a: Args) -> Reply {
    // The reference looks the name up in a dict: a list or struct is unhashable there.
    if matches!(a.value(0), Some(Value::Array(_) | Value::Struct(_))) {
        return Err(Fault::new(faults::INCORRECT_PARAMETERS));
    }
    let name = a.loose_text(0)?;
    on_actor(&h, move |s| {
        s.remove_group(&name)
            .map(|_| v::b(true))
            .map_err(|e| group_fault(e, &name))
    })
    .await
}

fn log_target_value(t: &LogTarget, resolved: Option<&std::path::Path>) -> Value {
    match (t, resolved) {
        (LogTarget::Auto, Some(p)) => v::s(p.display().to_string()),
        (LogTarget::Auto, None) => v::s("auto"),
        (LogTarget::Path(p), _) => v::s(p.display().to_string()),
        (LogTarget::None, _) | (LogTarget::Syslog, _) => v::s("none"),
    }
}

async fn get_all_config_info(h: SupervisorHandle, _a: Args) -> Reply {
    on_actor(&h, |s| {
        let mut out: Vec<(String, Value)> = Vec::new();
        for g in &s.config().groups {
            let active = s.has_group(&g.name);
            for p in &g.processes {
                let (live_out, live_err) =
                    s.active_log_paths(&g.name, &p.name).unwrap_or((None, None));
                let mut d = config_info(g, p, active);
                stream_info(&mut d, "stdout", &p.stdout, live_out.as_deref());
                stream_info(&mut d, "stderr", &p.stderr, live_err.as_deref());
                out.push((p.name.clone(), Value::Struct(d)));
            }
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(v::arr(out.into_iter().map(|(_, d)| d).collect()))
    })
    .await
}

/// One process's `getAllConfigInfo` struct, but for its streams' keys.
fn config_info(g: &GroupConfig, p: &ProcessConfig, active: bool) -> BTreeMap<String, Value> {
    let opt = |x: &Option<String>| v::s(x.clone().unwrap_or_else(|| "none".into()));
    BTreeMap::from([
        ("autostart", v::b(p.autostart)),
        ("directory", opt(&p.directory)),
        (
            "uid",
            p.uid
                .map(|u| v::i(u as i64))
                .unwrap_or_else(|| v::s("none")),
        ),
        ("command", v::s(p.command.clone())),
        (
            "exitcodes",
            v::arr(p.exitcodes.iter().map(|c| v::i(*c as i64)).collect()),
        ),
        ("group", v::s(g.name.clone())),
        ("group_prio", v::i(g.priority as i64)),
        ("inuse", v::b(active)),
        ("killasgroup", v::b(p.killasgroup)),
        ("name", v::s(p.name.clone())),
        ("process_prio", v::i(p.priority as i64)),
        ("redirect_stderr", v::b(p.redirect_stderr)),
        (
            "startretries",
            v::i(if p.startretries == RETRY_FOREVER {
                -1
            } else {
                p.startretries as i64
            }),
        ),
        ("startsecs", v::i(p.startsecs as i64)),
        ("stopsignal", v::i(p.stopsignal as i64)),
        ("stopwaitsecs", v::i(p.stopwaitsecs as i64)),
        ("serverurl", opt(&p.serverurl)),
    ])
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

/// A stream's keys of `getAllConfigInfo` (`stdout_logfile`, ...): the live log path for an
/// AUTO log file.
fn stream_info(
    m: &mut BTreeMap<String, Value>,
    channel: &str,
    c: &StreamLogConfig,
    live: Option<&std::path::Path>,
) {
    let mut put = |key: &str, value: Value| {
        m.insert(format!("{}_{}", channel, key), value);
    };
    put("capture_maxbytes", v::i(c.capture_maxbytes as i64));
    put("events_enabled", v::b(c.events_enabled));
    put("logfile", log_target_value(&c.logfile, live));
    put("logfile_backups", v::i(c.logfile_backups as i64));
    put("logfile_maxbytes", v::i(c.logfile_maxbytes as i64));
    put("syslog", v::b(c.syslog));
}
