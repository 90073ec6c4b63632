//! Starting, stopping and signalling processes: one, a group, or all of them. Group and
//! all-process calls answer one status struct per process, waited ones as they complete.

use super::{fault, group_members, lookup, on_actor, status_struct};
use crate::rpc::Value;
use crate::rpc::dispatch::{Args, Method, Reply, method, v};
use crate::supervisor::{Outcome, ProcessKey, Selection, Supervisor, SupervisorHandle, Verb};

pub static METHODS: &[Method] = &[
    method!(
        "supervisor.startProcess",
        1,
        2,
        start_process,
        r#" Start a process

        @param string name Process name (or ``group:name``, or ``group:*``)
        @param boolean wait Wait for process to be fully started
        @return boolean result     Always true unless error

        "#
    ),
    method!(
        "supervisor.startProcessGroup",
        1,
        2,
        start_process_group,
        r#" Start all processes in the group named 'name'

        @param string name     The group name
        @param boolean wait    Wait for each process to be fully started
        @return array result   An array of process status info structs
        "#
    ),
    method!(
        "supervisor.startAllProcesses",
        0,
        1,
        start_all_processes,
        r#" Start all processes listed in the configuration file

        @param boolean wait    Wait for each process to be fully started
        @return array result   An array of process status info structs
        "#
    ),
    method!(
        "supervisor.stopProcess",
        1,
        2,
        stop_process,
        r#" Stop a process named by name

        @param string name  The name of the process to stop (or 'group:name')
        @param boolean wait        Wait for the process to be fully stopped
        @return boolean result     Always return True unless error
        "#
    ),
    method!(
        "supervisor.stopProcessGroup",
        1,
        2,
        stop_process_group,
        r#" Stop all processes in the process group named 'name'

        @param string name     The group name
        @param boolean wait    Wait for each process to be fully stopped
        @return array result   An array of process status info structs
        "#
    ),
    method!(
        "supervisor.stopAllProcesses",
        0,
        1,
        stop_all_processes,
        r#" Stop all processes in the process list

        @param  boolean wait   Wait for each process to be fully stopped
        @return array result   An array of process status info structs
        "#
    ),
    method!(
        "supervisor.signalProcess",
        2,
        2,
        signal_process,
        r#" Send an arbitrary UNIX signal to the process named by name

        @param string name    Name of the process to signal (or 'group:name')
        @param string signal  Signal to send, as name ('HUP') or number ('1')
        @return boolean
        "#
    ),
    method!(
        "supervisor.signalProcessGroup",
        2,
        2,
        signal_process_group,
        r#" Send a signal to all processes in the group named 'name'

        @param string name    The group name
        @param string signal  Signal to send, as name ('HUP') or number ('1')
        @return array
        "#
    ),
    method!(
        "supervisor.signalAllProcesses",
        1,
        1,
        signal_all_processes,
        r#" Send a signal to all processes in the process list

        @param string signal  Signal to send, as name ('HUP') or number ('1')
        @return array         An array of process status info structs
        "#
    ),
];

/// One result of a group or all-process call: the process's name and group, the name the
/// fault strings use, and the outcome.
type Item = (String, String, String, Outcome);

/// The verb on the processes it applies to, with what the results need to name them.
fn many(s: &mut Supervisor, verb: Verb, keys: Vec<ProcessKey>, wait: bool) -> Vec<Item> {
    s.control_many(verb, keys, wait)
        .into_iter()
        .map(|(key, o)| {
            let id = s.id(key);
            (id.name, id.group, id.namespec, o)
        })
        .collect()
}

/// Group and all-process results: `{name, group, status, description}` per process, immediate
/// results first (in the order acted on), then waited ones in the order they complete.
async fn run_all(items: Vec<Item>) -> Reply {
    let mut done = Vec::new();
    let mut pending = Vec::new();
    for (name, group, spec, o) in items {
        match o {
            Outcome::Done(r) => {
                done.push(status_struct(&name, &group, r.map_err(|e| fault(e, &spec))))
            }
            Outcome::Wait(rx) => pending.push((name, group, spec, rx)),
        }
    }
    // Waited results are appended as they complete, those that complete together (in one turn
    // of the actor) in process order: the reference's polling passes append what each pass
    // finds done in process order.
    let mut set = tokio::task::JoinSet::new();
    for (i, (name, group, spec, rx)) in pending.into_iter().enumerate() {
        set.spawn(async move {
            let r = Outcome::Wait(rx)
                .settle()
                .await
                .map_err(|e| fault(e, &spec));
            (i, status_struct(&name, &group, r))
        });
    }
    // The waiters a turn of the actor resolves wake their tasks in one go, ahead of this one.
    while let Some(first) = set.join_next().await {
        let mut batch: Vec<(usize, Value)> = first.into_iter().collect();
        while let Some(more) = set.try_join_next() {
            batch.extend(more);
        }
        batch.sort_by_key(|(i, _)| *i);
        done.extend(batch.into_iter().map(|(_, v)| v));
    }
    Ok(v::arr(done))
}

/// startProcess / stopProcess: one process, or a whole group for `group:*`.
async fn control(h: SupervisorHandle, a: Args, verb: Verb) -> Reply {
    let spec = a.string(0)?;
    let wait = a.flag(1, true);
    enum R {
        One(Outcome),
        Group(Vec<Item>),
    }
    let shown = spec.clone();
    let r = on_actor(&h, move |s| {
        Ok(match lookup(s, &spec)? {
            Selection::One(key) => R::One(s.control(verb, key, wait)),
            Selection::Group(keys) => R::Group(many(s, verb, keys, wait)),
        })
    })
    .await?;
    match r {
        R::One(o) => o
            .settle()
            .await
            .map(|_| v::b(true))
            .map_err(|e| fault(e, &shown)),
        R::Group(items) => run_all(items).await,
    }
}

/// startProcessGroup / stopProcessGroup.
async fn control_group(h: SupervisorHandle, a: Args, verb: Verb) -> Reply {
    let name = a.text(0)?;
    let wait = a.flag(1, true);
    let items = on_actor(&h, move |s| {
        let keys = group_members(s, &name)?;
        Ok(many(s, verb, keys, wait))
    })
    .await?;
    run_all(items).await
}

/// startAllProcesses / stopAllProcesses.
async fn control_all(h: SupervisorHandle, a: Args, verb: Verb) -> Reply {
    let wait = a.flag(0, true);
    let items = on_actor(&h, move |s| {
        let keys = s.all_by_priority();
        Ok(many(s, verb, keys, wait))
    })
    .await?;
    run_all(items).await
}

async fn start_process(h: SupervisorHandle, a: Args) -> Reply {
    control(h, a, Verb::Start).await
}

async fn start_process_group(h: SupervisorHandle, a: Args) -> Reply {
    control_group(h, a, Verb::Start).await
}

async fn start_all_processes(h: SupervisorHandle, a: Args) -> Reply {
    control_all(h, a, Verb::Start).await
}

async fn stop_process(h: SupervisorHandle, a: Args) -> Reply {
    control(h, a, Verb::Stop).await
}

async fn stop_process_group(h: SupervisorHandle, a: Args) -> Reply {
    control_group(h, a, Verb::Stop).await
}

async fn stop_all_processes(h: SupervisorHandle, a: Args) -> Reply {
    control_all(h, a, Verb::Stop).await
}

/// Signal the processes that can be signalled: one status struct each.
fn signal_many(s: &mut Supervisor, keys: Vec<ProcessKey>, sig: &str) -> Value {
    let results = s.signal_many(keys, sig);
    v::arr(
        results
            .into_iter()
            .map(|(key, r)| {
                let id = s.id(key);
                status_struct(&id.name, &id.group, r.map_err(|e| fault(e, &id.namespec)))
            })
            .collect(),
    )
}

async fn signal_process(h: SupervisorHandle, a: Args) -> Reply {
    let spec = a.string(0)?;
    let sig = a.text(1)?;
    on_actor(&h, move |s| match lookup(s, &spec)? {
        Selection::One(key) => s
            .signal(key, &sig)
            .map(|_| v::b(true))
            .map_err(|e| fault(e, &spec)),
        Selection::Group(keys) => Ok(signal_many(s, keys, &sig)),
    })
    .await
}

async fn signal_process_group(h: SupervisorHandle, a: Args) -> Reply {
    let name = a.text(0)?;
    let sig = a.text(1)?;
    on_actor(&h, move |s| {
        let keys = group_members(s, &name)?;
        Ok(signal_many(s, keys, &sig))
    })
    .await
}

async fn signal_all_processes(h: SupervisorHandle, a: Args) -> Reply {
    let sig = a.text(0)?;
    on_actor(&h, move |s| {
        let keys = s.all_by_priority();
        Ok(signal_many(s, keys, &sig))
    })
    .await
}
