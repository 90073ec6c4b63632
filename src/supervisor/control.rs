//! The actor's domain API: what the RPC handlers, the web page, `/metrics` and the log tails may
//! ask of the [`Supervisor`]. A process is named by a [`ProcessKey`], valid for the one actor call
//! that looked it up; answers are domain values ([`ControlError`], [`Outcome`], [`ProcessView`])
//! that the callers turn into faults, pages or metrics. The business rules of starting, stopping
//! and signalling (what is refused, what is skipped, what is waited for) live here, once.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use tokio::sync::oneshot;

use super::Supervisor;
use super::group::{Process, split_namespec};
use super::process::{Event, ProcessState};
use super::restarts::Restarts;
use super::spawn::{self, CommandError};
use super::stdin::StdinError;
use crate::config::GroupConfig;
use crate::logs::capture::OutputSink;

/// One process of the active groups: indices into the actor's groups, so only valid within the
/// actor call that made it (a removed group shifts the others).
/// Ordered by group, then process: the order of the actor's groups and of a group's processes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ProcessKey {
    pub(super) group: usize,
    pub(super) process: usize,
}

/// Why a control request on a process was refused or failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ControlError {
    /// The command cannot be run (missing, not executable): the reference's `get_execv_args`.
    Command(CommandError),
    AlreadyStarted,
    NotRunning,
    /// The process is in the UNKNOWN state.
    UnknownState,
    /// The spawn failed (`spawnerr` is set).
    SpawnError,
    /// A start that was waited for did not reach RUNNING.
    AbnormalTermination,
    /// Not a signal name or number (the text as given).
    BadSignal(String),
    /// The log files could not be cleared.
    ClearFailed,
    /// The child's stdin refused the bytes.
    Stdin(StdinError),
    /// The daemon is shutting down.
    Shutdown,
}

/// Why a group could not be added or removed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GroupError {
    /// No such group (in the config for an add, among the active groups for a removal).
    BadName,
    AlreadyAdded,
    StillRunning,
}

/// What starting or stopping one process gave: done now, or a waiter the actor resolves when the
/// process reaches the state.
pub enum Outcome {
    Done(Result<(), ControlError>),
    Wait(oneshot::Receiver<Result<(), ControlError>>),
}

impl Outcome {
    /// The final result (awaiting the waiter if any).
    pub async fn settle(self) -> Result<(), ControlError> {
        match self {
            Outcome::Done(r) => r,
            Outcome::Wait(rx) => rx.await.unwrap_or(Err(ControlError::Shutdown)),
        }
    }
}

/// What a namespec names: one process, or a whole group (`group:*`, `group:`) in priority order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Selection {
    One(ProcessKey),
    Group(Vec<ProcessKey>),
}

/// Start or stop, the two verbs that share their shape (the reference's `make_allfunc`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verb {
    Start,
    Stop,
}

impl Verb {
    /// Group and all-process calls skip processes already where the verb leads
    /// (`isNotRunning` for start, `isRunning` for stop).
    fn applies(self, state: ProcessState) -> bool {
        match self {
            Verb::Start => !state.is_running(),
            Verb::Stop => state.is_running(),
        }
    }
}

/// The names of a process.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProcessId {
    pub name: String,
    pub group: String,
    /// `name` for an implicit group, `group:name` otherwise.
    pub namespec: String,
}

/// A snapshot of one process: what `getProcessInfo`, the web page, `/metrics` and
/// `getProcessStats` show.
#[derive(Clone, Debug)]
pub struct ProcessView {
    pub id: ProcessId,
    pub state: ProcessState,
    pub pid: i32,
    /// Wall-clock seconds; 0.0 when never started / stopped.
    pub start: f64,
    pub stop: f64,
    pub spawnerr: Option<String>,
    pub exitstatus: Option<i32>,
    pub stdout_logfile: Option<PathBuf>,
    pub stderr_logfile: Option<PathBuf>,
    /// The reference's `description` as of `at`.
    pub description: String,
    /// When the view was taken (whole seconds since the epoch).
    pub at: i64,
    pub restarts: Restarts,
    pub autostart: bool,
    /// The last exit status is one of the program's `exitcodes`.
    pub expected_exit: bool,
    pub stdout_bytes: u64,
    pub stderr_bytes: u64,
    /// Resident bytes of the process tree at the last memory check.
    pub rss: u64,
    pub memory_limit: Option<u64>,
    /// RUNNING but failing its `health_check`: the check and its last answer.
    pub unhealthy: Option<String>,
}

impl Supervisor {
    pub(super) fn proc(&self, key: ProcessKey) -> &Process {
        &self.groups[key.group].processes[key.process]
    }

    pub(super) fn proc_mut(&mut self, key: ProcessKey) -> &mut Process {
        &mut self.groups[key.group].processes[key.process]
    }

    /// The process `name` of group `group`.
    pub fn find(&self, group: &str, name: &str) -> Option<ProcessKey> {
        let gi = self.find_group(group)?;
        let pi = self.groups[gi].position(name)?;
        Some(ProcessKey {
            group: gi,
            process: pi,
        })
    }

    /// One process by namespec (`name`, `group:name`); `None` for a group spec or no match.
    pub fn find_spec(&self, spec: &str) -> Option<ProcessKey> {
        match split_namespec(spec) {
            (group, Some(name)) => self.find(&group, &name),
            (_, None) => None,
        }
    }

    /// What a namespec names; `None` when the group or process does not exist.
    pub fn lookup(&self, spec: &str) -> Option<Selection> {
        let (group, proc) = split_namespec(spec);
        let gi = self.find_group(&group)?;
        match proc {
            None => Some(Selection::Group(self.members(gi))),
            Some(p) => {
                let pi = self.groups[gi].position(&p)?;
                Some(Selection::One(ProcessKey {
                    group: gi,
                    process: pi,
                }))
            }
        }
    }

    /// A group's processes in priority order, ties in the group's own order (the reference's
    /// stable sort by priority alone, not by name); `None` for no such group.
    pub fn group_members(&self, name: &str) -> Option<Vec<ProcessKey>> {
        self.find_group(name).map(|gi| self.members(gi))
    }

    pub(super) fn members(&self, gi: usize) -> Vec<ProcessKey> {
        self.groups[gi]
            .by_priority()
            .into_iter()
            .map(|pi| ProcessKey {
                group: gi,
                process: pi,
            })
            .collect()
    }

    /// All processes, group by group (groups are kept in group priority order, ties in the
    /// order they were added), each group's in priority order (`_getAllProcesses()`).
    pub fn all_by_priority(&self) -> Vec<ProcessKey> {
        (0..self.groups.len())
            .flat_map(|gi| self.members(gi))
            .collect()
    }

    /// All processes in the order they are kept: groups by priority, each group's processes
    /// in the group's own order (autostart's order).
    pub fn all_in_order(&self) -> Vec<ProcessKey> {
        let groups = self.groups.iter().enumerate();
        groups
            .flat_map(|(gi, g)| {
                (0..g.processes.len()).map(move |pi| ProcessKey {
                    group: gi,
                    process: pi,
                })
            })
            .collect()
    }

    /// All processes in lexical order of (group, name) (`_getAllProcesses(lexical=True)`).
    pub fn all_lexical(&self) -> Vec<ProcessKey> {
        let mut groups: Vec<usize> = (0..self.groups.len()).collect();
        groups.sort_by(|a, b| {
            self.groups[*a]
                .config
                .name
                .cmp(&self.groups[*b].config.name)
        });
        let mut out = Vec::new();
        for gi in groups {
            let procs = &self.groups[gi].processes;
            let mut order: Vec<usize> = (0..procs.len()).collect();
            order.sort_by(|a, b| procs[*a].config.name.cmp(&procs[*b].config.name));
            out.extend(order.into_iter().map(|pi| ProcessKey {
                group: gi,
                process: pi,
            }));
        }
        out
    }

    /// The names of a process.
    pub fn id(&self, key: ProcessKey) -> ProcessId {
        let p = self.proc(key);
        ProcessId {
            name: p.config.name.clone(),
            group: self.groups[key.group].config.name.clone(),
            namespec: p.namespec(),
        }
    }

    /// A snapshot of one process, its description as of `now_i` (whole seconds).
    pub fn view(&self, key: ProcessKey, now_i: i64) -> ProcessView {
        let p = self.proc(key);
        let bytes = |sink: &Option<Arc<Mutex<OutputSink>>>| {
            sink.as_ref()
                .and_then(|x| x.lock().ok().map(|x| x.bytes_written()))
                .unwrap_or(0)
        };
        ProcessView {
            id: self.id(key),
            state: p.rec.state,
            pid: p.rec.pid,
            start: p.rec.laststart,
            stop: p.rec.laststop,
            spawnerr: p.rec.spawnerr.clone(),
            exitstatus: p.rec.exitstatus,
            stdout_logfile: p.stdout_logfile.clone(),
            stderr_logfile: p.stderr_logfile.clone(),
            description: (self.stop_description(key))
                .or_else(|| self.check_description(key))
                .unwrap_or_else(|| describe(p, now_i)),
            at: now_i,
            restarts: p.restarts,
            autostart: p.config.autostart,
            expected_exit: p
                .rec
                .exitstatus
                .is_some_and(|e| p.config.exitcodes.contains(&e)),
            stdout_bytes: bytes(&p.stdout_sink),
            stderr_bytes: bytes(&p.stderr_sink),
            rss: p.rss,
            memory_limit: p.config.memory_limit,
            unhealthy: self.unhealthy(key),
        }
    }

    /// Snapshots of every process in lexical order, all described at the same second.
    pub fn snapshot(&self) -> Vec<ProcessView> {
        self.views(self.all_lexical())
    }

    /// Snapshots of the given processes, in that order, all described at the same second.
    pub fn views(&self, keys: Vec<ProcessKey>) -> Vec<ProcessView> {
        let t = self.host.now() as i64;
        keys.into_iter().map(|k| self.view(k, t)).collect()
    }

    /// The output sink of a process's stdout (`true`) or stderr, while a child runs.
    pub fn output_sink(&self, key: ProcessKey, stdout: bool) -> Option<Arc<Mutex<OutputSink>>> {
        let p = self.proc(key);
        if stdout {
            p.stdout_sink.clone()
        } else {
            p.stderr_sink.clone()
        }
    }

    /// `startProcess` for one process.
    pub fn start(&mut self, key: ProcessKey, wait: bool) -> Outcome {
        let p = self.proc(key);
        if let Err(e) = spawn::check_command(&p.config, &self.config.supervisord.environment) {
            return Outcome::Done(Err(ControlError::Command(e)));
        }
        if p.rec.state.is_running() {
            return Outcome::Done(Err(ControlError::AlreadyStarted));
        }
        if p.rec.state == ProcessState::Unknown {
            return Outcome::Done(Err(ControlError::UnknownState));
        }
        if p.rec.laststart != 0.0 {
            self.proc_mut(key).restarts.manual += 1;
        }
        self.proc_mut(key).watch.restart_held = false;
        self.apply(key, Event::Start);
        let p = self.proc(key);
        if p.rec.spawnerr.is_some() {
            return Outcome::Done(Err(ControlError::SpawnError));
        }
        // As the reference calls `transition()` here: with startsecs=0 the process is RUNNING now,
        // so the call does not wait (and a group call lists it in process order).
        if p.rec.state == ProcessState::Starting && p.config.startsecs == 0 {
            self.apply(key, Event::Tick);
        }
        if wait && self.proc(key).rec.state != ProcessState::Running {
            return Outcome::Wait(self.wait_running(key));
        }
        Outcome::Done(Ok(()))
    }

    /// `stopProcess` for one process.
    pub fn stop(&mut self, key: ProcessKey, wait: bool) -> Outcome {
        if !self.proc(key).rec.state.is_running() {
            return Outcome::Done(Err(ControlError::NotRunning));
        }
        self.stop_dependents(key);
        self.request_stop(key);
        if wait && !self.proc(key).rec.state.is_stopped() {
            return Outcome::Wait(self.wait_stopped(key));
        }
        Outcome::Done(Ok(()))
    }

    /// The verb on one process.
    pub fn control(&mut self, verb: Verb, key: ProcessKey, wait: bool) -> Outcome {
        match verb {
            Verb::Start => self.start(key, wait),
            Verb::Stop => self.stop(key, wait),
        }
    }

    /// The verb on the given processes it applies to (group and all-process calls), in order.
    pub fn control_many(
        &mut self,
        verb: Verb,
        keys: Vec<ProcessKey>,
        wait: bool,
    ) -> Vec<(ProcessKey, Outcome)> {
        let mut out = Vec::new();
        let keys = match verb {
            Verb::Stop => self.stop_order(keys),
            _ => keys,
        };
        for key in keys {
            if verb.applies(self.proc(key).rec.state) {
                let o = self.control(verb, key, wait);
                out.push((key, o));
            }
        }
        out
    }

    /// `signalProcess` for one process; `sig` is a name (`HUP`, `SIGHUP`) or a number.
    pub fn signal(&mut self, key: ProcessKey, sig: &str) -> Result<(), ControlError> {
        let signo = crate::config::values::signal_number(sig)
            .map_err(|_| ControlError::BadSignal(sig.to_string()))?;
        if !self.proc(key).rec.state.is_signallable() {
            return Err(ControlError::NotRunning);
        }
        self.apply(key, Event::Signal { sig: signo });
        Ok(())
    }

    /// Signal the given processes that can be signalled (the others are skipped), in order.
    pub fn signal_many(
        &mut self,
        keys: Vec<ProcessKey>,
        sig: &str,
    ) -> Vec<(ProcessKey, Result<(), ControlError>)> {
        let mut out = Vec::new();
        for key in keys {
            if self.proc(key).rec.state.is_signallable() {
                let r = self.signal(key, sig);
                out.push((key, r));
            }
        }
        out
    }

    /// `clearProcessLogs`: empty the log files of one process (and reopen them).
    pub fn clear_logs(&mut self, key: ProcessKey) -> Result<(), ControlError> {
        self.proc_mut(key)
            .clear_logs()
            .map_err(|_| ControlError::ClearFailed)
    }

    /// `sendProcessStdin`: queue bytes for the child's stdin.
    pub fn send_stdin(&mut self, key: ProcessKey, data: &[u8]) -> Result<(), ControlError> {
        let p = self.proc_mut(key);
        if p.rec.pid == 0 || p.rec.killing {
            return Err(ControlError::NotRunning);
        }
        p.write_stdin(data).map_err(ControlError::Stdin)
    }

    /// `addProcessGroup`: make the group of that name from the config as last read.
    pub fn add_configured_group(&mut self, name: &str) -> Result<(), GroupError> {
        let Some(cfg) = self.config.groups.iter().find(|g| g.name == name).cloned() else {
            return Err(GroupError::BadName);
        };
        if !self.add_group(cfg) {
            return Err(GroupError::AlreadyAdded);
        }
        Ok(())
    }

    /// `reloadConfig`: the re-read file's group configs become the ones `addProcessGroup` uses
    /// (as the reference, nothing else of it takes effect); returns the group names added,
    /// changed and removed against the active groups.
    pub fn reload_groups(
        &mut self,
        groups: Vec<GroupConfig>,
    ) -> (Vec<String>, Vec<String>, Vec<String>) {
        self.config.groups = groups;
        self.diff_to_active()
    }

    /// The reference's `diff_to_active`: group names added and changed in config order, removed
    /// in the order the groups were added (the reference's dict of groups); changed and removed
    /// then put a group before those it depends on, as supervisorctl `update` stops them in
    /// this order.
    pub fn diff_to_active(&self) -> (Vec<String>, Vec<String>, Vec<String>) {
        let new: &Vec<GroupConfig> = &self.config.groups;
        let mut active: Vec<&super::group::Group> = self.groups.iter().collect();
        active.sort_by_key(|g| g.seq);
        let cur: Vec<&GroupConfig> = active.into_iter().map(|g| &g.config).collect();
        // By name, so that N groups cost O(N) (a config of 10 000 programs is re-read whole).
        let cur_by_name: HashMap<&str, &GroupConfig> =
            cur.iter().map(|c| (c.name.as_str(), *c)).collect();
        let new_names: HashSet<&str> = new.iter().map(|n| n.name.as_str()).collect();
        let added = new
            .iter()
            .filter(|n| !cur_by_name.contains_key(n.name.as_str()))
            .map(|g| g.name.clone())
            .collect();
        let removed = cur
            .iter()
            .filter(|c| !new_names.contains(c.name.as_str()))
            .map(|g| g.name.clone())
            .collect();
        let changed = new
            .iter()
            .filter(|n| cur_by_name.get(n.name.as_str()).is_some_and(|c| *c != *n))
            .map(|g| g.name.clone())
            .collect();
        (
            added,
            self.stop_order_groups(changed),
            self.stop_order_groups(removed),
        )
    }

    /// The resolved log paths of an active process (`getAllConfigInfo` shows them for `AUTO`).
    pub fn active_log_paths(
        &self,
        group: &str,
        name: &str,
    ) -> Option<(Option<PathBuf>, Option<PathBuf>)> {
        let p = self.proc(self.find(group, name)?);
        Some((p.stdout_logfile.clone(), p.stderr_logfile.clone()))
    }

    /// Whether a group of that name is active.
    pub fn has_group(&self, name: &str) -> bool {
        self.find_group(name).is_some()
    }
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
    let tm = crate::util::time::local_tm_or_zero(t);
    let month = crate::util::time::month_abbr(tm.tm_mon);
    let hour12 = match tm.tm_hour % 12 {
        0 => 12,
        h => h,
    };
    let ampm = if tm.tm_hour < 12 { "AM" } else { "PM" };
    format!(
        "{} {:02} {:02}:{:02} {}",
        month, tm.tm_mday, hour12, tm.tm_min, ampm
    )
}

/// The `description` of a process, as `_interpretProcessInfo`.
fn describe(p: &Process, now_i: i64) -> String {
    let start = p.rec.laststart as i64;
    match p.rec.state {
        ProcessState::Running => {
            format!("pid {}, uptime {}", p.rec.pid, format_uptime(now_i - start))
        }
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
}
