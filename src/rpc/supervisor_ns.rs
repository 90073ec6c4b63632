//! The `supervisor.*` namespace (API version 3.0): one handler per method, each with its help
//! text beside it. Handlers run their state work as closures on the supervisor actor and await
//! the reply; calls that wait (start/stop with `wait=True`) await a waiter the actor resolves
//! when the process reaches the state, instead of polling.

use super::Value;
use super::dispatch::{Args, Method, Reply, boxed, v};
use super::faults::{self, Fault};
use crate::config::{LogTarget, RETRY_FOREVER};
use crate::supervisor::spawn::CommandError;
use crate::supervisor::stdin::StdinError;
use crate::supervisor::{
    ControlError, GroupError, Mood, Outcome, ProcessKey, ProcessView, Selection, Supervisor,
    SupervisorHandle, Verb, now,
};

pub const API_VERSION: &str = "3.0";
pub const SUPERVISOR_VERSION: &str = "4.2.5";

macro_rules! method {
    ($name:literal, $min:literal, $max:literal, $f:path, $help:expr) => {
        Method {
            name: $name,
            help: $help,
            min_args: $min,
            max_args: $max,
            call: |h, a| boxed($f(h, a)),
        }
    };
}

// Help texts shared by a method and its older alias.
const HELP_GET_A_P_I_VERSION: &str = r#" Return the version of the RPC API used by supervisord

        @return string version id
        "#;

const HELP_READ_LOG: &str = r#" Read length bytes from the main log starting at offset

        @param int offset         offset to start reading from.
        @param int length         number of bytes to read from the log.
        @return string result     Bytes of log
        "#;

const HELP_READ_PROCESS_STDOUT_LOG: &str = r#" Read length bytes from name's stdout log starting at offset

        @param string name        the name of the process (or 'group:name')
        @param int offset         offset to start reading from.
        @param int length         number of bytes to read from the log.
        @return string result     Bytes of log
        "#;

const HELP_TAIL_PROCESS_STDOUT_LOG: &str = r#"
        Provides a more efficient way to tail the (stdout) log than
        readProcessStdoutLog().  Use readProcessStdoutLog() to read
        chunks and tailProcessStdoutLog() to tail.

        Requests (length) bytes from the (name)'s log, starting at
        (offset).  If the total log size is greater than (offset +
        length), the overflow flag is set and the (offset) is
        automatically increased to position the buffer at the end of
        the log.  If less than (length) bytes are available, the
        maximum number of available bytes will be returned.  (offset)
        returned is always the last offset in the log +1.

        @param string name         the name of the process (or 'group:name')
        @param int offset          offset to start reading from
        @param int length          maximum number of bytes to return
        @return array result       [string bytes, int offset, bool overflow]
        "#;

const HELP_CLEAR_PROCESS_LOGS: &str = r#" Clear the stdout and stderr logs for the named process and
        reopen them.

        @param string name   The name of the process (or 'group:name')
        @return boolean result      Always True unless error
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
    method!("supervisor.readLog", 2, 2, read_log, HELP_READ_LOG),
    method!("supervisor.readMainLog", 2, 2, read_log, HELP_READ_LOG),
    method!(
        "supervisor.clearLog",
        0,
        0,
        clear_log,
        r#" Clear the main log.

        @return boolean result always returns True unless error
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
    method!(
        "supervisor.readProcessStdoutLog",
        3,
        3,
        read_process_stdout_log,
        HELP_READ_PROCESS_STDOUT_LOG
    ),
    method!(
        "supervisor.readProcessLog",
        3,
        3,
        read_process_stdout_log,
        HELP_READ_PROCESS_STDOUT_LOG
    ),
    method!(
        "supervisor.readProcessStderrLog",
        3,
        3,
        read_process_stderr_log,
        r#" Read length bytes from name's stderr log starting at offset

        @param string name        the name of the process (or 'group:name')
        @param int offset         offset to start reading from.
        @param int length         number of bytes to read from the log.
        @return string result     Bytes of log
        "#
    ),
    method!(
        "supervisor.tailProcessStdoutLog",
        3,
        3,
        tail_process_stdout_log,
        HELP_TAIL_PROCESS_STDOUT_LOG
    ),
    method!(
        "supervisor.tailProcessLog",
        3,
        3,
        tail_process_stdout_log,
        HELP_TAIL_PROCESS_STDOUT_LOG
    ),
    method!(
        "supervisor.tailProcessStderrLog",
        3,
        3,
        tail_process_stderr_log,
        r#"
        Provides a more efficient way to tail the (stderr) log than
        readProcessStderrLog().  Use readProcessStderrLog() to read
        chunks and tailProcessStderrLog() to tail.

        Requests (length) bytes from the (name)'s log, starting at
        (offset).  If the total log size is greater than (offset +
        length), the overflow flag is set and the (offset) is
        automatically increased to position the buffer at the end of
        the log.  If less than (length) bytes are available, the
        maximum number of available bytes will be returned.  (offset)
        returned is always the last offset in the log +1.

        @param string name         the name of the process (or 'group:name')
        @param int offset          offset to start reading from
        @param int length          maximum number of bytes to return
        @return array result       [string bytes, int offset, bool overflow]
        "#
    ),
    method!(
        "supervisor.clearProcessLogs",
        1,
        1,
        clear_process_logs,
        HELP_CLEAR_PROCESS_LOGS
    ),
    method!(
        "supervisor.clearProcessLog",
        1,
        1,
        clear_process_logs,
        HELP_CLEAR_PROCESS_LOGS
    ),
    method!(
        "supervisor.clearAllProcessLogs",
        0,
        0,
        clear_all_process_logs,
        r#" Clear all process log files

        @return array result   An array of process status info structs
        "#
    ),
    method!(
        "supervisor.sendProcessStdin",
        2,
        2,
        send_process_stdin,
        r#" Send a string of chars to the stdin of the process name.
        If non-7-bit data is sent (unicode), it is encoded to utf-8
        before being sent to the process' stdin.  If chars is not a
        string or is not unicode, raise INCORRECT_PARAMETERS.  If the
        process is not running, raise NOT_RUNNING.  If the process'
        stdin cannot accept input (e.g. it was closed by the child
        process), raise NO_FILE.

        @param string name        The process name to send to (or 'group:name')
        @param string chars       The character data to send to the process
        @return boolean result    Always return True unless error
        "#
    ),
    method!(
        "supervisor.sendRemoteCommEvent",
        2,
        2,
        send_remote_comm_event,
        r#" Send an event that will be received by event listener
        subprocesses subscribing to the RemoteCommunicationEvent.

        @param  string  type  String for the "type" key in the event header
        @param  string  data  Data for the event body
        @return boolean       Always return True unless error
        "#
    ),
];

fn gone(_: crate::supervisor::Gone) -> Fault {
    Fault::new(faults::SHUTDOWN_STATE)
}

/// Run `f` on the actor after the reference's `_update` check (SHUTDOWN_STATE while stopping).
async fn on_actor<T: Send + 'static>(
    h: &SupervisorHandle,
    f: impl FnOnce(&mut Supervisor) -> Result<T, Fault> + Send + 'static,
) -> Result<T, Fault> {
    h.call(move |s| {
        if s.mood() < Mood::Running {
            return Err(Fault::new(faults::SHUTDOWN_STATE));
        }
        f(s)
    })
    .await
    .map_err(gone)?
}

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

fn main_log_path(s: &Supervisor) -> Option<std::path::PathBuf> {
    match &s.config().supervisord.logfile {
        LogTarget::Path(p) => Some(p.clone()),
        _ => None,
    }
}

async fn read_log(h: SupervisorHandle, a: Args) -> Reply {
    let offset = a.int(0)?;
    let length = a.int(1)?;
    let path = on_actor(&h, |s| Ok(main_log_path(s))).await?;
    let Some(path) = path.filter(|p| p.exists()) else {
        let shown = on_actor(&h, |s| Ok(main_log_path(s))).await?;
        return Err(match shown {
            Some(p) => Fault::with(faults::NO_FILE, p.display()),
            None => Fault::new(faults::NO_FILE),
        });
    };
    read_range(&path, offset, length)
}

fn read_range(path: &std::path::Path, offset: i64, length: i64) -> Reply {
    match crate::logs::read_file_range(path, offset, length) {
        Ok(bytes) => Ok(v::s(crate::rpc::xml::lossy_string(&bytes))),
        Err(e) => Err(read_fault(e)),
    }
}

fn read_fault(e: crate::logs::ReadError) -> Fault {
    use crate::logs::ReadError;
    Fault::new(match e {
        ReadError::NoFile => faults::NO_FILE,
        ReadError::BadArguments => faults::BAD_ARGUMENTS,
        ReadError::Failed => faults::FAILED,
    })
}

async fn clear_log(h: SupervisorHandle, _a: Args) -> Reply {
    on_actor(&h, |_| match crate::logs::mainlog::handle() {
        Some(log) => log.clear().map(|_| v::b(true)).map_err(read_fault),
        None => Err(Fault::new(faults::NO_FILE)),
    })
    .await
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

/// A control error as the reference's fault; `spec` is the name the call used.
fn fault(e: ControlError, spec: &str) -> Fault {
    match e {
        ControlError::Command(CommandError::NotFound(why)) => Fault::with(faults::NO_FILE, why),
        ControlError::Command(CommandError::NotExecutable(why)) => {
            Fault::with(faults::NOT_EXECUTABLE, why)
        }
        ControlError::AlreadyStarted => Fault::with(faults::ALREADY_STARTED, spec),
        ControlError::NotRunning => Fault::with(faults::NOT_RUNNING, spec),
        ControlError::UnknownState => Fault::with(
            faults::FAILED,
            format!("{} is in an unknown process state", spec),
        ),
        ControlError::SpawnError => Fault::with(faults::SPAWN_ERROR, spec),
        ControlError::AbnormalTermination => Fault::with(faults::ABNORMAL_TERMINATION, spec),
        ControlError::BadSignal(sig) => Fault::with(faults::BAD_SIGNAL, sig),
        ControlError::ClearFailed => Fault::with(faults::FAILED, spec),
        ControlError::Stdin(StdinError::Closed) => Fault::with(faults::NO_FILE, spec),
        ControlError::Stdin(StdinError::Full { waiting }) => Fault::with(
            faults::FAILED,
            format!(
                "{}: stdin is full ({} bytes wait for the process to read them)",
                spec, waiting
            ),
        ),
        ControlError::Stdin(StdinError::Os(e)) => Fault::with(faults::FAILED, e),
        ControlError::Shutdown => Fault::new(faults::SHUTDOWN_STATE),
    }
}

/// What a namespec names, or BAD_NAME.
fn lookup(s: &Supervisor, spec: &str) -> Result<Selection, Fault> {
    s.lookup(spec)
        .ok_or_else(|| Fault::with(faults::BAD_NAME, spec))
}

/// One process by namespec, or BAD_NAME (for a group spec too).
fn lookup_one(s: &Supervisor, spec: &str) -> Result<ProcessKey, Fault> {
    match lookup(s, spec)? {
        Selection::One(key) => Ok(key),
        Selection::Group(_) => Err(Fault::with(faults::BAD_NAME, spec)),
    }
}

/// A group's processes in priority order, or BAD_NAME.
fn group_members(s: &Supervisor, name: &str) -> Result<Vec<ProcessKey>, Fault> {
    s.group_members(name)
        .ok_or_else(|| Fault::with(faults::BAD_NAME, name))
}

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

fn status_struct(name: &str, group: &str, r: Result<(), Fault>) -> Value {
    let (code, desc) = match r {
        Ok(()) => (faults::SUCCESS, "OK".to_string()),
        Err(f) => (f.code, f.string),
    };
    v::st(vec![
        ("name", v::s(name)),
        ("group", v::s(group)),
        ("status", v::i(code as i64)),
        ("description", v::s(desc)),
    ])
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
                let opt = |x: &Option<String>| v::s(x.clone().unwrap_or_else(|| "none".into()));
                let d = v::st(vec![
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
                    (
                        "stdout_capture_maxbytes",
                        v::i(p.stdout.capture_maxbytes as i64),
                    ),
                    ("stdout_events_enabled", v::b(p.stdout.events_enabled)),
                    (
                        "stdout_logfile",
                        log_target_value(&p.stdout.logfile, live_out.as_deref()),
                    ),
                    (
                        "stdout_logfile_backups",
                        v::i(p.stdout.logfile_backups as i64),
                    ),
                    (
                        "stdout_logfile_maxbytes",
                        v::i(p.stdout.logfile_maxbytes as i64),
                    ),
                    ("stdout_syslog", v::b(p.stdout.syslog)),
                    ("stopsignal", v::i(p.stopsignal as i64)),
                    ("stopwaitsecs", v::i(p.stopwaitsecs as i64)),
                    (
                        "stderr_capture_maxbytes",
                        v::i(p.stderr.capture_maxbytes as i64),
                    ),
                    ("stderr_events_enabled", v::b(p.stderr.events_enabled)),
                    (
                        "stderr_logfile",
                        log_target_value(&p.stderr.logfile, live_err.as_deref()),
                    ),
                    (
                        "stderr_logfile_backups",
                        v::i(p.stderr.logfile_backups as i64),
                    ),
                    (
                        "stderr_logfile_maxbytes",
                        v::i(p.stderr.logfile_maxbytes as i64),
                    ),
                    ("stderr_syslog", v::b(p.stderr.syslog)),
                    ("serverurl", opt(&p.serverurl)),
                ]);
                out.push((p.name.clone(), d));
            }
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(v::arr(out.into_iter().map(|(_, d)| d).collect()))
    })
    .await
}

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

#[derive(Clone, Copy)]
enum Channel {
    Stdout,
    Stderr,
}

/// The log path of one process's channel, or a fault naming what the reference names.
async fn channel_log(
    h: &SupervisorHandle,
    spec: String,
    ch: Channel,
) -> Result<Option<std::path::PathBuf>, Fault> {
    on_actor(h, move |s| {
        let view = s.view(lookup_one(s, &spec)?, 0);
        Ok(match ch {
            Channel::Stdout => view.stdout_logfile,
            Channel::Stderr => view.stderr_logfile,
        })
    })
    .await
}

async fn read_process_log(h: SupervisorHandle, a: Args, ch: Channel) -> Reply {
    let spec = a.string(0)?;
    let offset = a.int(1)?;
    let length = a.int(2)?;
    let path = channel_log(&h, spec, ch).await?;
    match path {
        Some(p) if p.exists() => read_range(&p, offset, length),
        Some(p) => Err(Fault::with(faults::NO_FILE, p.display())),
        None => Err(Fault::new(faults::NO_FILE)),
    }
}

async fn read_process_stdout_log(h: SupervisorHandle, a: Args) -> Reply {
    read_process_log(h, a, Channel::Stdout).await
}

async fn read_process_stderr_log(h: SupervisorHandle, a: Args) -> Reply {
    read_process_log(h, a, Channel::Stderr).await
}

async fn tail_process_log(h: SupervisorHandle, a: Args, ch: Channel) -> Reply {
    let spec = a.string(0)?;
    let offset = a.int(1)?;
    let length = a.int(2)?;
    let path = channel_log(&h, spec, ch).await?;
    match path {
        Some(p) if p.exists() => {
            let (bytes, off, overflow) = crate::logs::tail_file(&p, offset, length);
            Ok(v::arr(vec![
                v::s(crate::rpc::xml::lossy_string(&bytes)),
                v::i(off),
                v::b(overflow),
            ]))
        }
        _ => Ok(v::arr(vec![v::s(""), v::i(0), v::b(false)])),
    }
}

async fn tail_process_stdout_log(h: SupervisorHandle, a: Args) -> Reply {
    tail_process_log(h, a, Channel::Stdout).await
}

async fn tail_process_stderr_log(h: SupervisorHandle, a: Args) -> Reply {
    tail_process_log(h, a, Channel::Stderr).await
}

async fn clear_process_logs(h: SupervisorHandle, a: Args) -> Reply {
    let spec = a.string(0)?;
    on_actor(&h, move |s| {
        let key = lookup_one(s, &spec)?;
        s.clear_logs(key).map_err(|e| fault(e, &spec))?;
        Ok(v::b(true))
    })
    .await
}

async fn clear_all_process_logs(h: SupervisorHandle, _a: Args) -> Reply {
    on_actor(&h, |s| {
        let mut out = Vec::new();
        for key in s.all_by_priority() {
            let id = s.id(key);
            let r = s.clear_logs(key).map_err(|e| fault(e, &id.namespec));
            out.push(status_struct(&id.name, &id.group, r));
        }
        Ok(v::arr(out))
    })
    .await
}

async fn send_process_stdin(h: SupervisorHandle, a: Args) -> Reply {
    let spec = a.value(0).cloned();
    let chars = match a.value(1) {
        Some(Value::String(s)) => s.clone().into_bytes(),
        Some(Value::Base64(b)) => b.clone(),
        Some(other) => {
            let shown = match other {
                Value::Integer(i) => i.to_string(),
                Value::Boolean(b) => {
                    if *b {
                        "True".into()
                    } else {
                        "False".into()
                    }
                }
                _ => String::new(),
            };
            return Err(Fault::with(faults::INCORRECT_PARAMETERS, shown));
        }
        None => return Err(Fault::new(faults::INCORRECT_PARAMETERS)),
    };
    let Some(Value::String(spec)) = spec else {
        return Err(Fault::new(faults::INCORRECT_PARAMETERS));
    };
    on_actor(&h, move |s| {
        let key = lookup_one(s, &spec)?;
        s.send_stdin(key, &chars)
            .map(|_| v::b(true))
            .map_err(|e| fault(e, &spec))
    })
    .await
}

async fn send_remote_comm_event(h: SupervisorHandle, a: Args) -> Reply {
    let kind = a.loose_text(0)?;
    let data = a.loose_text(1)?;
    h.call(move |s| s.remote_comm_event(&kind, &data))
        .await
        .map_err(gone)?;
    Ok(v::b(true))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_method_has_signature_tags() {
        for m in METHODS {
            assert!(m.help.contains("@return"), "{} has no @return", m.name);
        }
    }
}
