//! Process information: `getProcessInfo` and `getAllProcessInfo`, from the actor's
//! `ProcessView` snapshots.

use super::{lookup_one, on_actor};
use crate::rpc::Value;
use crate::rpc::dispatch::{Args, Method, Reply, method, v};
use crate::supervisor::{ProcessView, SupervisorHandle, now};

pub static METHODS: &[Method] = &[
    method!(
        "supervisor.getProcessInfo",
        1,
        1,
        get_process_info,
        r#" Get info about a process named name

        @param string name The name of the process (or 'group:name')
        @return struct result     A structure containing data about the process
        "#
    ),
    method!(
        "supervisor.getAllProcessInfo",
        0,
        0,
        get_all_process_info,
        r#" Get info about all processes

        @return array result  An array of process status results
        "#
    ),
];

/// getProcessInfo's struct for one process.
pub fn process_info(p: ProcessView) -> Value {
    let path = |x: &Option<std::path::PathBuf>| {
        v::s(
            x.as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_default(),
        )
    };
    v::st(vec![
        ("name", v::s(p.id.name)),
        ("group", v::s(p.id.group)),
        ("start", v::i(p.start as i64)),
        ("stop", v::i(p.stop as i64)),
        ("now", v::i(p.at)),
        ("state", v::i(p.state.code() as i64)),
        ("statename", v::s(p.state.name())),
        ("spawnerr", v::s(p.spawnerr.unwrap_or_default())),
        ("exitstatus", v::i(p.exitstatus.unwrap_or(0) as i64)),
        ("logfile", path(&p.stdout_logfile)),
        ("stdout_logfile", path(&p.stdout_logfile)),
        ("stderr_logfile", path(&p.stderr_logfile)),
        ("pid", v::i(p.pid as i64)),
        ("description", v::s(p.description)),
    ])
}

async fn get_process_info(h: SupervisorHandle, a: Args) -> Reply {
    let spec = a.string(0)?;
    on_actor(&h, move |s| {
        let key = lookup_one(s, &spec)?;
        Ok(process_info(s.view(key, now() as i64)))
    })
    .await
}

async fn get_all_process_info(h: SupervisorHandle, _a: Args) -> Reply {
    on_actor(&h, |s| {
        Ok(v::arr(s.snapshot().into_iter().map(process_info).collect()))
    })
    .await
}
