//! The daemon itself: its versions, identification, state and pid, `shutdown` and
//! `restart`.

use super::{API_VERSION, SUPERVISOR_VERSION, on_actor};
use crate::rpc::dispatch::{Args, Method, Reply, method, v};
use crate::supervisor::{Mood, SupervisorHandle};

const HELP_GET_A_P_I_VERSION: &str = r#" Return the version of the RPC API used by supervisord

        @return string version id
        "#;

pub static METHODS: &[Method] = &[
    method!(
        "supervisor.getAPIVersion",
        0,
        0,
        get_api_version,
        HELP_GET_A_P_I_VERSION
    ),
    method!(
        "supervisor.getVersion",
        0,
        0,
        get_api_version,
        HELP_GET_A_P_I_VERSION
    ),
    method!(
        "supervisor.getSupervisorVersion",
        0,
        0,
        get_supervisor_version,
        r#" Return the version of the supervisor package in use by supervisord

        @return string version id
        "#
    ),
    method!(
        "supervisor.getIdentification",
        0,
        0,
        get_identification,
        r#" Return identifying string of supervisord

        @return string identifier identifying string
        "#
    ),
    method!(
        "supervisor.getState",
        0,
        0,
        get_state,
        r#" Return current state of supervisord as a struct

        @return struct A struct with keys int statecode, string statename
        "#
    ),
    method!(
        "supervisor.getPID",
        0,
        0,
        get_pid,
        r#" Return the PID of supervisord

        @return int PID
        "#
    ),
    method!(
        "supervisor.shutdown",
        0,
        0,
        shutdown,
        r#" Shut down the supervisor process

        @return boolean result always returns True unless error
        "#
    ),
    method!(
        "supervisor.restart",
        0,
        0,
        restart,
        r#" Restart the supervisor process

        @return boolean result  always return True unless error
        "#
    ),
];

async fn get_api_version(h: SupervisorHandle, _a: Args) -> Reply {
    on_actor(&h, |_| Ok(v::s(API_VERSION))).await
}

async fn get_supervisor_version(h: SupervisorHandle, _a: Args) -> Reply {
    on_actor(&h, |_| Ok(v::s(SUPERVISOR_VERSION))).await
}

async fn get_identification(h: SupervisorHandle, _a: Args) -> Reply {
    on_actor(&h, |s| Ok(v::s(s.config().supervisord.identifier.clone()))).await
}

async fn get_state(h: SupervisorHandle, _a: Args) -> Reply {
    on_actor(&h, |s| {
        Ok(v::st(vec![
            ("statecode", v::i(s.mood().code() as i64)),
            ("statename", v::s(s.mood().name())),
        ]))
    })
    .await
}

async fn get_pid(h: SupervisorHandle, _a: Args) -> Reply {
    on_actor(&h, |_| Ok(v::i(std::process::id() as i64))).await
}

async fn shutdown(h: SupervisorHandle, _a: Args) -> Reply {
    on_actor(&h, |s| {
        s.set_mood(Mood::Shutdown);
        Ok(v::b(true))
    })
    .await
}

async fn restart(h: SupervisorHandle, _a: Args) -> Reply {
    on_actor(&h, |s| {
        s.set_mood(Mood::Restarting);
        Ok(v::b(true))
    })
    .await
}
