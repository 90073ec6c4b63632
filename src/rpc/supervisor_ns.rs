//! The `supervisor.*` namespace (API version 3.0): one handler per method, each with its help
//! text beside it. Handlers run their state work as closures on the supervisor actor and await
//! the reply; calls that wait (start/stop with `wait=True`) await a waiter the actor resolves
//! when the process reaches the state, instead of polling.

use tokio::sync::oneshot;

use super::dispatch::{boxed, v, Args, Method, Reply};
use super::faults::{self, Fault};
use super::Value;
use crate::config::{GroupConfig, LogTarget, RETRY_FOREVER};
use crate::supervisor::group::{make_namespec, split_namespec, Process};
use crate::supervisor::process::{Event, ProcessState};
use crate::supervisor::{now, Mood, Supervisor, SupervisorHandle};

pub const API_VERSION: &str = "3.0";
pub const SUPERVISOR_VERSION: &str = "4.2.5";

macro_rules! method {
    ($name:literal, $min:literal, $max:literal, $f:path, $help:expr) => {
        Method { name: $name, help: $help, min_args: $min, max_args: $max, call: |h, a| boxed($f(h, a)) }
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
    method!("supervisor.getAPIVersion", 0, 0, get_api_version, HELP_GET_A_P_I_VERSION),
    method!("supervisor.getVersion", 0, 0, get_api_version, HELP_GET_A_P_I_VERSION),
    method!("supervisor.getSupervisorVersion", 0, 0, get_supervisor_version, r#" Return the version of the supervisor package in use by supervisord

        @return string version id
        "#),
    method!("supervisor.getIdentification", 0, 0, get_identification, r#" Return identifying string of supervisord

        @return string identifier identifying string
        "#),
    method!("supervisor.getState", 0, 0, get_state, r#" Return current state of supervisord as a struct

        @return struct A struct with keys int statecode, string statename
        "#),
    method!("supervisor.getPID", 0, 0, get_pid, r#" Return the PID of supervisord

        @return int PID
        "#),
    method!("supervisor.readLog", 2, 2, read_log, HELP_READ_LOG),
    method!("supervisor.readMainLog", 2, 2, read_log, HELP_READ_LOG),
    method!("supervisor.clearLog", 0, 0, clear_log, r#" Clear the main log.

        @return boolean result always returns True unless error
        "#),
    method!("supervisor.shutdown", 0, 0, shutdown, r#" Shut down the supervisor process

        @return boolean result always returns True unless error
        "#),
    method!("supervisor.restart", 0, 0, restart, r#" Restart the supervisor process

        @return boolean result  always return True unless error
        "#),
    method!("supervisor.reloadConfig", 0, 0, reload_config, r#"
        Reload the configuration.

        The result contains three arrays containing names of process
        groups:

        * `added` gives the process groups that have been added
        * `changed` gives the process groups whose contents have
          changed
        * `removed` gives the process groups that are no longer
          in the configuration

        @return array result  [[added, changed, removed]]

        "#),
    method!("supervisor.addProcessGroup", 1, 1, add_process_group, r#" Update the config for a running process from config file.

        @param string name         name of process group to add
        @return boolean result     true if successful
        "#),
    method!("supervisor.removeProcessGroup", 1, 1, remove_process_group, r#" Remove a stopped process from the active configuration.

        @param string name         name of process group to remove
        @return boolean result     Indicates whether the removal was successful
        "#),
    method!("supervisor.startProcess", 1, 2, start_process, r#" Start a process

        @param string name Process name (or ``group:name``, or ``group:*``)
        @param boolean wait Wait for process to be fully started
        @return boolean result     Always true unless error

        "#),
    method!("supervisor.startProcessGroup", 1, 2, start_process_group, r#" Start all processes in the group named 'name'

        @param string name     The group name
        @param boolean wait    Wait for each process to be fully started
        @return array result   An array of process status info structs
        "#),
    method!("supervisor.startAllProcesses", 0, 1, start_all_processes, r#" Start all processes listed in the configuration file

        @param boolean wait    Wait for each process to be fully started
        @return array result   An array of process status info structs
        "#),
    method!("supervisor.stopProcess", 1, 2, stop_process, r#" Stop a process named by name

        @param string name  The name of the process to stop (or 'group:name')
        @param boolean wait        Wait for the process to be fully stopped
        @return boolean result     Always return True unless error
        "#),
    method!("supervisor.stopProcessGroup", 1, 2, stop_process_group, r#" Stop all processes in the process group named 'name'

        @param string name     The group name
        @param boolean wait    Wait for each process to be fully stopped
        @return array result   An array of process status info structs
        "#),
    method!("supervisor.stopAllProcesses", 0, 1, stop_all_processes, r#" Stop all processes in the process list

        @param  boolean wait   Wait for each process to be fully stopped
        @return array result   An array of process status info structs
        "#),
    method!("supervisor.signalProcess", 2, 2, signal_process, r#" Send an arbitrary UNIX signal to the process named by name

        @param string name    Name of the process to signal (or 'group:name')
        @param string signal  Signal to send, as name ('HUP') or number ('1')
        @return boolean
        "#),
    method!("supervisor.signalProcessGroup", 2, 2, signal_process_group, r#" Send a signal to all processes in the group named 'name'

        @param string name    The group name
        @param string signal  Signal to send, as name ('HUP') or number ('1')
        @return array
        "#),
    method!("supervisor.signalAllProcesses", 1, 1, signal_all_processes, r#" Send a signal to all processes in the process list

        @param string signal  Signal to send, as name ('HUP') or number ('1')
        @return array         An array of process status info structs
        "#),
    method!("supervisor.getAllConfigInfo", 0, 0, get_all_config_info, r#" Get info about all available process configurations. Each struct
        represents a single process (i.e. groups get flattened).

        @return array result  An array of process config info structs
        "#),
    method!("supervisor.getProcessInfo", 1, 1, get_process_info, r#" Get info about a process named name

        @param string name The name of the process (or 'group:name')
        @return struct result     A structure containing data about the process
        "#),
    method!("supervisor.getAllProcessInfo", 0, 0, get_all_process_info, r#" Get info about all processes

        @return array result  An array of process status results
        "#),
    method!("supervisor.readProcessStdoutLog", 3, 3, read_process_stdout_log, HELP_READ_PROCESS_STDOUT_LOG),
    method!("supervisor.readProcessLog", 3, 3, read_process_stdout_log, HELP_READ_PROCESS_STDOUT_LOG),
    method!("supervisor.readProcessStderrLog", 3, 3, read_process_stderr_log, r#" Read length bytes from name's stderr log starting at offset

        @param string name        the name of the process (or 'group:name')
        @param int offset         offset to start reading from.
        @param int length         number of bytes to read from the log.
        @return string result     Bytes of log
        "#),
    method!("supervisor.tailProcessStdoutLog", 3, 3, tail_process_stdout_log, HELP_TAIL_PROCESS_STDOUT_LOG),
    method!("supervisor.tailProcessLog", 3, 3, tail_process_stdout_log, HELP_TAIL_PROCESS_STDOUT_LOG),
    method!("supervisor.tailProcessStderrLog", 3, 3, tail_process_stderr_log, r#"
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
        "#),
    method!("supervisor.clearProcessLogs", 1, 1, clear_process_logs, HELP_CLEAR_PROCESS_LOGS),
    method!("supervisor.clearProcessLog", 1, 1, clear_process_logs, HELP_CLEAR_PROCESS_LOGS),
    method!("supervisor.clearAllProcessLogs", 0, 0, clear_all_process_logs, r#" Clear all process log files

        @return array result   An array of process status info structs
        "#),
    method!("supervisor.sendProcessStdin", 2, 2, send_process_stdin, r#" Send a string of chars to the stdin of the process name.
        If non-7-bit data is sent (unicode), it is encoded to utf-8
        before being sent to the process' stdin.  If chars is not a
        string or is not unicode, raise INCORRECT_PARAMETERS.  If the
        process is not running, raise NOT_RUNNING.  If the process'
        stdin cannot accept input (e.g. it was closed by the child
        process), raise NO_FILE.

        @param string name        The process name to send to (or 'group:name')
        @param string chars       The character data to send to the process
        @return boolean result    Always return True unless error
        "#),
    method!("supervisor.sendRemoteCommEvent", 2, 2, send_remote_comm_event, r#" Send an event that will be received by event listener
        subprocesses subscribing to the RemoteCommunicationEvent.

        @param  string  type  String for the "type" key in the event header
        @param  string  data  Data for the event body
        @return boolean       Always return True unless error
        "#),
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
        if s.mood < Mood::Running {
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
    on_actor(&h, |s| Ok(v::s(s.config.supervisord.identifier.clone()))).await
}

async fn get_state(h: SupervisorHandle, _a: Args) -> Reply {
    on_actor(&h, |s| Ok(v::st(vec![("statecode", v::i(s.mood.code() as i64)), ("statename", v::s(s.mood.name()))])))
        .await
}

async fn get_pid(h: SupervisorHandle, _a: Args) -> Reply {
    on_actor(&h, |_| Ok(v::i(std::process::id() as i64))).await
}

fn main_log_path(s: &Supervisor) -> Option<std::path::PathBuf> {
    match &s.config.supervisord.logfile {
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
    let path = on_actor(&h, |s| Ok(s.config.config_file.clone())).await?;
    let overrides = on_actor(&h, |s| Ok(s.cli.clone())).await?;
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
        s.config.groups = new.groups;
        let (added, changed, removed) = diff_to_active(s);
        let names = |v: Vec<String>| Value::Array(v.into_iter().map(Value::String).collect());
        Ok(v::arr(vec![v::arr(vec![names(added), names(changed), names(removed)])]))
    })
    .await
}

/// The reference's `diff_to_active`: group names added and changed in config order, removed
/// in the order the groups were added (the reference's dict of groups).
pub fn diff_to_active(s: &Supervisor) -> (Vec<String>, Vec<String>, Vec<String>) {
    let new: &Vec<GroupConfig> = &s.config.groups;
    let mut active: Vec<&crate::supervisor::group::Group> = s.groups.iter().collect();
    active.sort_by_key(|g| g.seq);
    let cur: Vec<&GroupConfig> = active.into_iter().map(|g| &g.config).collect();
    let added = new.iter().filter(|n| !cur.iter().any(|c| c.name == n.name)).map(|g| g.name.clone()).collect();
    let removed = cur.iter().filter(|c| !new.iter().any(|n| n.name == c.name)).map(|g| g.name.clone()).collect();
    let changed = new
        .iter()
        .filter(|n| cur.iter().any(|c| c.name == n.name && *c != *n))
        .map(|g| g.name.clone())
        .collect();
    (added, changed, removed)
}

async fn add_process_group(h: SupervisorHandle, a: Args) -> Reply {
    let name = a.loose_text(0)?;
    on_actor(&h, move |s| {
        let Some(cfg) = s.config.groups.iter().find(|g| g.name == name).cloned() else {
            return Err(Fault::with(faults::BAD_NAME, &name));
        };
        if !s.add_group(cfg) {
            return Err(Fault::with(faults::ALREADY_ADDED, &name));
        }
        Ok(v::b(true))
    })
    .await
}

async fn remove_process_group(h: SupervisorHandle, a: Args) -> Reply {
    // The reference looks the name up in a dict: a list or struct is unhashable there.
    if matches!(a.value(0), Some(Value::Array(_) | Value::Struct(_))) {
        return Err(Fault::new(faults::INCORRECT_PARAMETERS));
    }
    let name = a.loose_text(0)?;
    on_actor(&h, move |s| s.remove_group(&name).map(|_| v::b(true))).await
}

/// What starting or stopping one process gave: done now, or a waiter to await.
enum Outcome {
    Done(Result<(), Fault>),
    Wait(oneshot::Receiver<Result<(), Fault>>),
}

async fn settle(o: Outcome) -> Result<(), Fault> {
    match o {
        Outcome::Done(r) => r,
        Outcome::Wait(rx) => rx.await.unwrap_or_else(|_| Err(Fault::new(faults::SHUTDOWN_STATE))),
    }
}

fn lookup(s: &Supervisor, spec: &str) -> Result<(usize, Option<usize>), Fault> {
    let (group, proc) = split_namespec(spec);
    let gi = s.find_group(&group).ok_or_else(|| Fault::with(faults::BAD_NAME, spec))?;
    match proc {
        None => Ok((gi, None)),
        Some(p) => {
            let pi = s.groups[gi]
                .processes
                .iter()
                .position(|x| x.config.name == p)
                .ok_or_else(|| Fault::with(faults::BAD_NAME, spec))?;
            Ok((gi, Some(pi)))
        }
    }
}

/// startProcess for one process, on the actor.
fn start_one(s: &mut Supervisor, gi: usize, pi: usize, name: &str, wait: bool) -> Outcome {
    let p = &s.groups[gi].processes[pi];
    if let Err((code, why)) = crate::supervisor::spawn::check_command(&p.config, &s.config.supervisord.environment) {
        return Outcome::Done(Err(Fault::with(code, why)));
    }
    if p.rec.state.is_running() {
        return Outcome::Done(Err(Fault::with(faults::ALREADY_STARTED, name)));
    }
    if p.rec.state == ProcessState::Unknown {
        return Outcome::Done(Err(Fault::with(faults::FAILED, format!("{} is in an unknown process state", name))));
    }
    if p.rec.laststart != 0.0 {
        s.groups[gi].processes[pi].restarts.manual += 1;
    }
    s.apply(gi, pi, Event::Start);
    let p = &s.groups[gi].processes[pi];
    if p.rec.spawnerr.is_some() {
        return Outcome::Done(Err(Fault::with(faults::SPAWN_ERROR, name)));
    }
    // As the reference calls `transition()` here: with startsecs=0 the process is RUNNING now,
    // so the call does not wait (and a group call lists it in process order).
    if p.rec.state == ProcessState::Starting && p.config.startsecs == 0 {
        s.apply(gi, pi, Event::Tick);
    }
    let p = &s.groups[gi].processes[pi];
    if wait && p.rec.state != ProcessState::Running {
        return Outcome::Wait(s.wait_running((gi, pi), name.to_string()));
    }
    Outcome::Done(Ok(()))
}

/// stopProcess for one process, on the actor.
fn stop_one(s: &mut Supervisor, gi: usize, pi: usize, name: &str, wait: bool) -> Outcome {
    if !s.groups[gi].processes[pi].rec.state.is_running() {
        return Outcome::Done(Err(Fault::with(faults::NOT_RUNNING, name)));
    }
    s.apply(gi, pi, Event::Stop);
    if wait && !s.groups[gi].processes[pi].rec.state.is_stopped() {
        return Outcome::Wait(s.wait_stopped((gi, pi)));
    }
    Outcome::Done(Ok(()))
}

/// Group and all-process results: `{name, group, status, description}` per process, immediate
/// results first (in the order acted on), then waited ones in the order they complete.
async fn run_all(items: Vec<(String, String, Outcome)>) -> Reply {
    let mut done = Vec::new();
    let mut pending = Vec::new();
    for (name, group, o) in items {
        match o {
            Outcome::Done(r) => done.push(status_struct(&name, &group, r)),
            Outcome::Wait(rx) => pending.push((name, group, rx)),
        }
    }
    // Waited results are appended as they complete, those that complete together (in one turn
    // of the actor) in process order: the reference's polling passes append what each pass
    // finds done in process order.
    let mut set = tokio::task::JoinSet::new();
    for (i, (name, group, rx)) in pending.into_iter().enumerate() {
        set.spawn(async move { (i, status_struct(&name, &group, settle(Outcome::Wait(rx)).await)) });
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
    v::st(vec![("name", v::s(name)), ("group", v::s(group)), ("status", v::i(code as i64)), ("description", v::s(desc))])
}

type Selected = Vec<(usize, usize)>;

/// Start or stop, the two verbs that share their shape (the reference's `make_allfunc`).
#[derive(Clone, Copy)]
enum Verb {
    Start,
    Stop,
}

impl Verb {
    /// The per-process call for one name.
    fn one(self, s: &mut Supervisor, gi: usize, pi: usize, spec: &str, wait: bool) -> Outcome {
        match self {
            Verb::Start => start_one(s, gi, pi, spec, wait),
            Verb::Stop => stop_one(s, gi, pi, spec, wait),
        }
    }

    /// Group and all-process calls skip processes already where the verb leads
    /// (`isNotRunning` for start, `isRunning` for stop).
    fn applies(self, state: ProcessState) -> bool {
        match self {
            Verb::Start => !state.is_running(),
            Verb::Stop => state.is_running(),
        }
    }

    /// Apply the verb to the selected processes it applies to; collect their outcomes.
    fn many(self, s: &mut Supervisor, sel: Selected, wait: bool) -> Vec<(String, String, Outcome)> {
        let mut out = Vec::new();
        for (gi, pi) in sel {
            let p = &s.groups[gi].processes[pi];
            if !self.applies(p.rec.state) {
                continue;
            }
            let (name, group, spec) = (p.config.name.clone(), s.groups[gi].config.name.clone(), p.namespec());
            let o = self.one(s, gi, pi, &spec, wait);
            out.push((name, group, o));
        }
        out
    }
}

/// A group's processes in priority order, ties in the group's own order (the reference's
/// stable sort by priority alone, not by name).
fn group_members(s: &Supervisor, gi: usize) -> Selected {
    s.groups[gi].by_priority().into_iter().map(|pi| (gi, pi)).collect()
}

/// All processes, group by group (`s.groups` is in group priority order, ties in the order
/// the groups were added), each group's in priority order (`_getAllProcesses()`).
fn all_by_priority(s: &Supervisor) -> Selected {
    (0..s.groups.len()).flat_map(|gi| group_members(s, gi)).collect()
}

/// All processes in lexical order (`_getAllProcesses(lexical=True)`).
fn all_lexical(s: &Supervisor) -> Selected {
    let mut groups: Vec<usize> = (0..s.groups.len()).collect();
    groups.sort_by(|a, b| s.groups[*a].config.name.cmp(&s.groups[*b].config.name));
    let mut out = Vec::new();
    for gi in groups {
        let mut procs: Vec<usize> = (0..s.groups[gi].processes.len()).collect();
        procs.sort_by(|a, b| s.groups[gi].processes[*a].config.name.cmp(&s.groups[gi].processes[*b].config.name));
        out.extend(procs.into_iter().map(|pi| (gi, pi)));
    }
    out
}

/// startProcess / stopProcess: one process, or a whole group for `group:*`.
async fn control(h: SupervisorHandle, a: Args, verb: Verb) -> Reply {
    let spec = a.string(0)?;
    let wait = a.flag(1, true);
    enum R {
        One(Outcome),
        Group(Vec<(String, String, Outcome)>),
    }
    let r = on_actor(&h, move |s| {
        let (gi, pi) = lookup(s, &spec)?;
        Ok(match pi {
            Some(pi) => R::One(verb.one(s, gi, pi, &spec, wait)),
            None => R::Group(verb.many(s, group_members(s, gi), wait)),
        })
    })
    .await?;
    match r {
        R::One(o) => settle(o).await.map(|_| v::b(true)),
        R::Group(items) => run_all(items).await,
    }
}

/// startProcessGroup / stopProcessGroup.
async fn control_group(h: SupervisorHandle, a: Args, verb: Verb) -> Reply {
    let name = a.text(0)?;
    let wait = a.flag(1, true);
    let items = on_actor(&h, move |s| {
        let gi = s.find_group(&name).ok_or_else(|| Fault::with(faults::BAD_NAME, &name))?;
        Ok(verb.many(s, group_members(s, gi), wait))
    })
    .await?;
    run_all(items).await
}

/// startAllProcesses / stopAllProcesses.
async fn control_all(h: SupervisorHandle, a: Args, verb: Verb) -> Reply {
    let wait = a.flag(0, true);
    let items = on_actor(&h, move |s| Ok(verb.many(s, all_by_priority(s), wait))).await?;
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

/// Signal one process (`signalProcess` for a single name).
fn signal_one(s: &mut Supervisor, gi: usize, pi: usize, spec: &str, sig: &str) -> Result<(), Fault> {
    let signo = crate::config::values::signal_number(sig).map_err(|_| Fault::with(faults::BAD_SIGNAL, sig))?;
    if !s.groups[gi].processes[pi].rec.state.is_signallable() {
        return Err(Fault::with(faults::NOT_RUNNING, spec));
    }
    s.apply(gi, pi, Event::Signal { sig: signo });
    Ok(())
}

fn signal_many(s: &mut Supervisor, sel: Selected, sig: &str) -> Value {
    let mut out = Vec::new();
    for (gi, pi) in sel {
        let p = &s.groups[gi].processes[pi];
        if !p.rec.state.is_signallable() {
            continue;
        }
        let (name, group, spec) = (p.config.name.clone(), s.groups[gi].config.name.clone(), p.namespec());
        let r = signal_one(s, gi, pi, &spec, sig);
        out.push(status_struct(&name, &group, r));
    }
    v::arr(out)
}

async fn signal_process(h: SupervisorHandle, a: Args) -> Reply {
    let spec = a.string(0)?;
    let sig = a.text(1)?;
    on_actor(&h, move |s| {
        let (gi, pi) = lookup(s, &spec)?;
        match pi {
            Some(pi) => signal_one(s, gi, pi, &spec, &sig).map(|_| v::b(true)),
            None => Ok(signal_many(s, group_members(s, gi), &sig)),
        }
    })
    .await
}

async fn signal_process_group(h: SupervisorHandle, a: Args) -> Reply {
    let name = a.text(0)?;
    let sig = a.text(1)?;
    on_actor(&h, move |s| {
        let gi = s.find_group(&name).ok_or_else(|| Fault::with(faults::BAD_NAME, &name))?;
        Ok(signal_many(s, group_members(s, gi), &sig))
    })
    .await
}

async fn signal_all_processes(h: SupervisorHandle, a: Args) -> Reply {
    let sig = a.text(0)?;
    on_actor(&h, move |s| Ok(signal_many(s, all_by_priority(s), &sig))).await
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
        for g in &s.config.groups {
            let active = s.groups.iter().find(|a| a.config.name == g.name);
            for p in &g.processes {
                let live = active.and_then(|a| a.processes.iter().find(|x| x.config.name == p.name));
                let opt = |x: &Option<String>| v::s(x.clone().unwrap_or_else(|| "none".into()));
                let d = v::st(vec![
                    ("autostart", v::b(p.autostart)),
                    ("directory", opt(&p.directory)),
                    ("uid", p.uid.map(|u| v::i(u as i64)).unwrap_or_else(|| v::s("none"))),
                    ("command", v::s(p.command.clone())),
                    ("exitcodes", v::arr(p.exitcodes.iter().map(|c| v::i(*c as i64)).collect())),
                    ("group", v::s(g.name.clone())),
                    ("group_prio", v::i(g.priority as i64)),
                    ("inuse", v::b(active.is_some())),
                    ("killasgroup", v::b(p.killasgroup)),
                    ("name", v::s(p.name.clone())),
                    ("process_prio", v::i(p.priority as i64)),
                    ("redirect_stderr", v::b(p.redirect_stderr)),
                    ("startretries", v::i(if p.startretries == RETRY_FOREVER { -1 } else { p.startretries as i64 })),
                    ("startsecs", v::i(p.startsecs as i64)),
                    ("stdout_capture_maxbytes", v::i(p.stdout.capture_maxbytes as i64)),
                    ("stdout_events_enabled", v::b(p.stdout.events_enabled)),
                    ("stdout_logfile", log_target_value(&p.stdout.logfile, live.and_then(|l| l.stdout_logfile.as_deref()))),
                    ("stdout_logfile_backups", v::i(p.stdout.logfile_backups as i64)),
                    ("stdout_logfile_maxbytes", v::i(p.stdout.logfile_maxbytes as i64)),
                    ("stdout_syslog", v::b(p.stdout.syslog)),
                    ("stopsignal", v::i(p.stopsignal as i64)),
                    ("stopwaitsecs", v::i(p.stopwaitsecs as i64)),
                    ("stderr_capture_maxbytes", v::i(p.stderr.capture_maxbytes as i64)),
                    ("stderr_events_enabled", v::b(p.stderr.events_enabled)),
                    ("stderr_logfile", log_target_value(&p.stderr.logfile, live.and_then(|l| l.stderr_logfile.as_deref()))),
                    ("stderr_logfile_backups", v::i(p.stderr.logfile_backups as i64)),
                    ("stderr_logfile_maxbytes", v::i(p.stderr.logfile_maxbytes as i64)),
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

/// Python's `str(timedelta)` for whole seconds: `1:02:03`, `1 day, 0:00:05`, `3 days, ...`.
pub fn format_uptime(secs: i64) -> String {
    let secs = secs.max(0);
    let days = secs / 86400;
    let rest = secs % 86400;
    let hms = format!("{}:{:02}:{:02}", rest / 3600, (rest % 3600) / 60, rest % 60);
    match days {
        0 => hms,
        1 => format!("1 day, {}", hms),
        d => format!("{} days, {}", d, hms),
    }
}

/// `strftime('%b %d %I:%M %p')` of a local time, as the reference's stopped description.
pub fn format_stop_time(t: i64) -> String {
    let tt: libc::time_t = t as libc::time_t;
    // SAFETY: localtime_r writes into the zeroed struct we own.
    let tm = unsafe {
        let mut tm: libc::tm = std::mem::zeroed();
        libc::localtime_r(&tt, &mut tm);
        tm
    };
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let month = MONTHS.get(tm.tm_mon as usize).copied().unwrap_or("Jan");
    let hour12 = match tm.tm_hour % 12 {
        0 => 12,
        h => h,
    };
    let ampm = if tm.tm_hour < 12 { "AM" } else { "PM" };
    format!("{} {:02} {:02}:{:02} {}", month, tm.tm_mday, hour12, tm.tm_min, ampm)
}

/// The `description` of a process, as `_interpretProcessInfo`.
pub fn describe(p: &Process, now_i: i64) -> String {
    let start = p.rec.laststart as i64;
    match p.rec.state {
        ProcessState::Running => format!("pid {}, uptime {}", p.rec.pid, format_uptime(now_i - start)),
        ProcessState::Fatal | ProcessState::Backoff => match &p.rec.spawnerr {
            Some(e) if !e.is_empty() => e.clone(),
            _ => format!("unknown error (try \"tail {}\")", p.config.name),
        },
        ProcessState::Stopped | ProcessState::Exited => {
            if start != 0 {
                format_stop_time(p.rec.laststop as i64)
            } else {
                "Not started".into()
            }
        }
        _ => String::new(),
    }
}

/// getProcessInfo's struct for one process.
pub fn process_info(s: &Supervisor, gi: usize, pi: usize, now_i: i64) -> Value {
    let g = &s.groups[gi];
    let p = &g.processes[pi];
    let path = |x: &Option<std::path::PathBuf>| v::s(x.as_ref().map(|p| p.display().to_string()).unwrap_or_default());
    v::st(vec![
        ("name", v::s(p.config.name.clone())),
        ("group", v::s(g.config.name.clone())),
        ("start", v::i(p.rec.laststart as i64)),
        ("stop", v::i(p.rec.laststop as i64)),
        ("now", v::i(now_i)),
        ("state", v::i(p.rec.state.code() as i64)),
        ("statename", v::s(p.rec.state.name())),
        ("spawnerr", v::s(p.rec.spawnerr.clone().unwrap_or_default())),
        ("exitstatus", v::i(p.rec.exitstatus.unwrap_or(0) as i64)),
        ("logfile", path(&p.stdout_logfile)),
        ("stdout_logfile", path(&p.stdout_logfile)),
        ("stderr_logfile", path(&p.stderr_logfile)),
        ("pid", v::i(p.rec.pid as i64)),
        ("description", v::s(describe(p, now_i))),
    ])
}

async fn get_process_info(h: SupervisorHandle, a: Args) -> Reply {
    let spec = a.string(0)?;
    on_actor(&h, move |s| {
        let (gi, pi) = lookup(s, &spec)?;
        let pi = pi.ok_or_else(|| Fault::with(faults::BAD_NAME, &spec))?;
        Ok(process_info(s, gi, pi, now() as i64))
    })
    .await
}

async fn get_all_process_info(h: SupervisorHandle, _a: Args) -> Reply {
    on_actor(&h, |s| {
        let t = now() as i64;
        Ok(v::arr(all_lexical(s).into_iter().map(|(gi, pi)| process_info(s, gi, pi, t)).collect()))
    })
    .await
}

#[derive(Clone, Copy)]
enum Channel {
    Stdout,
    Stderr,
}

/// The log path of one process's channel, or a fault naming what the reference names.
async fn channel_log(h: &SupervisorHandle, spec: String, ch: Channel) -> Result<Option<std::path::PathBuf>, Fault> {
    on_actor(h, move |s| {
        let (gi, pi) = lookup(s, &spec)?;
        let pi = pi.ok_or_else(|| Fault::with(faults::BAD_NAME, &spec))?;
        let p = &s.groups[gi].processes[pi];
        Ok(match ch {
            Channel::Stdout => p.stdout_logfile.clone(),
            Channel::Stderr => p.stderr_logfile.clone(),
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
            Ok(v::arr(vec![v::s(crate::rpc::xml::lossy_string(&bytes)), v::i(off), v::b(overflow)]))
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
        let (gi, pi) = lookup(s, &spec)?;
        let pi = pi.ok_or_else(|| Fault::with(faults::BAD_NAME, &spec))?;
        s.groups[gi].processes[pi].clear_logs().map_err(|_| Fault::with(faults::FAILED, &spec))?;
        Ok(v::b(true))
    })
    .await
}

async fn clear_all_process_logs(h: SupervisorHandle, _a: Args) -> Reply {
    on_actor(&h, |s| {
        let mut out = Vec::new();
        for (gi, pi) in all_by_priority(s) {
            let name = s.groups[gi].processes[pi].config.name.clone();
            let group = s.groups[gi].config.name.clone();
            let spec = make_namespec(&group, &name);
            let r = s.groups[gi].processes[pi].clear_logs().map_err(|_| Fault::with(faults::FAILED, &spec));
            out.push(status_struct(&name, &group, r));
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
                Value::Boolean(b) => if *b { "True".into() } else { "False".into() },
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
        let (gi, pi) = lookup(s, &spec)?;
        let pi = pi.ok_or_else(|| Fault::with(faults::BAD_NAME, &spec))?;
        let p = &mut s.groups[gi].processes[pi];
        if p.rec.pid == 0 || p.rec.killing {
            return Err(Fault::with(faults::NOT_RUNNING, &spec));
        }
        match p.write_stdin(&chars) {
            Ok(()) => Ok(v::b(true)),
            Err(crate::supervisor::stdin::StdinError::Closed) => Err(Fault::with(faults::NO_FILE, &spec)),
            Err(crate::supervisor::stdin::StdinError::Full { waiting }) => Err(Fault::with(
                faults::FAILED,
                format!("{}: stdin is full ({} bytes wait for the process to read them)", spec, waiting),
            )),
            Err(crate::supervisor::stdin::StdinError::Os(e)) => Err(Fault::with(faults::FAILED, e)),
        }
    })
    .await
}

async fn send_remote_comm_event(h: SupervisorHandle, a: Args) -> Reply {
    let kind = a.loose_text(0)?;
    let data = a.loose_text(1)?;
    h.call(move |s| s.remote_comm_event(&kind, &data)).await.map_err(gone)?;
    Ok(v::b(true))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uptime_matches_python_timedelta() {
        assert_eq!(format_uptime(0), "0:00:00");
        assert_eq!(format_uptime(62), "0:01:02");
        assert_eq!(format_uptime(3600 * 25 + 5), "1 day, 1:00:05");
        assert_eq!(format_uptime(86400 * 3), "3 days, 0:00:00");
    }

    #[test]
    fn every_method_has_signature_tags() {
        for m in METHODS {
            assert!(m.help.contains("@return"), "{} has no @return", m.name);
        }
    }
}
