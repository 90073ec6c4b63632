//! The supervisor actor: the one owner of process state.
//!
//! Everything that changes a process goes through [`Supervisor`] on one tokio task: RPC handlers
//! send closures through a [`SupervisorHandle`] and await the reply, the reaper sends reaped pids,
//! the signal task sends daemon signals, and the actor's own timer fires when the earliest
//! deadline (startsecs, backoff, stopwaitsecs, shutdown report) is due. Nothing polls: with no
//! deadline pending the actor sleeps until a message arrives.
//!
//! Process transitions themselves are computed by the pure [`process::step`]; this module carries
//! out the resulting actions (fork, signal, log, resolve waiters) through a [`host::Host`] (the
//! operating system, or a fake one in the unit tests).
//!
//! Beside the loop: [`control`] is the actor's domain API (what RPC, the web page, `/metrics`
//! and the log tails may ask, by [`ProcessKey`]); `waiters` resolves calls that wait for a
//! state; `shutdown` stops the groups in order; [`hooks`] drives the events (`crate::events`);
//! [`signals`] holds the daemon's reaction to its signals, `memlimit` the `memory_limit` check;
//! `run` is the loop itself.

pub mod checks;
pub mod control;
pub mod daemonize;
mod deps;
mod due;
pub mod group;
pub mod history;
pub mod hooks;
pub mod host;
mod index;
mod memlimit;
pub mod memory;
pub mod privileges;
pub mod process;
pub mod reaper;
pub mod restarts;
pub mod rlimits;
mod run;
mod shutdown;
pub mod signals;
pub mod spawn;
pub mod stdin;
mod stopping;
mod waiters;
use run::SPAWN_BATCH;
pub use run::run;

#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::time::{SystemTime, UNIX_EPOCH};

use tokio::sync::{mpsc, oneshot};

use crate::config::{Config, GroupConfig, LogLevel};
use crate::logs::mainlog::log;
pub use control::{ControlError, GroupError, Outcome, ProcessKey, ProcessView, Selection, Verb};
pub use group::{Group, Process};
use process::{Action, Context, Event, ExitStatus, ProcessState};

/// The daemon's own state (`SupervisorStates`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Mood {
    Shutdown = -1,
    Restarting = 0,
    Running = 1,
    // The reference also defines FATAL (2) but never enters it.
}

impl Mood {
    pub fn code(self) -> i32 {
        self as i32
    }

    pub fn name(self) -> &'static str {
        match self {
            Mood::Shutdown => "SHUTDOWN",
            Mood::Restarting => "RESTARTING",
            Mood::Running => "RUNNING",
        }
    }
}

/// Wall-clock seconds since the epoch.
pub fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

type Job = Box<dyn FnOnce(&mut Supervisor) + Send>;

/// Messages the actor handles, one at a time.
pub enum Msg {
    /// Run a closure on the actor (what RPC handlers send).
    Call(Job),
    /// The reaper collected a child.
    Reaped(i32, ExitStatus),
    /// A signal was delivered to the daemon.
    Signal(i32),
}

/// The actor has stopped: it no longer answers.
#[derive(Debug, Clone, Copy)]
pub struct Gone;

/// A cheap, cloneable handle to the supervisor actor.
#[derive(Clone, Debug)]
pub struct SupervisorHandle {
    tx: mpsc::UnboundedSender<Msg>,
}

/// A handle to no actor: every call fails with [`Gone`] (for tests of the servers alone).
impl Default for SupervisorHandle {
    fn default() -> Self {
        let (tx, _rx) = mpsc::unbounded_channel();
        SupervisorHandle { tx }
    }
}

impl SupervisorHandle {
    /// Run `f` on the actor and return its result.
    pub async fn call<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Supervisor) -> T + Send + 'static,
    ) -> Result<T, Gone> {
        let (tx, rx) = oneshot::channel();
        let job: Job = Box::new(move |s: &mut Supervisor| {
            let _ = tx.send(f(s));
        });
        self.tx.send(Msg::Call(job)).map_err(|_| Gone)?;
        rx.await.map_err(|_| Gone)
    }

    pub fn new(tx: mpsc::UnboundedSender<Msg>) -> SupervisorHandle {
        SupervisorHandle { tx }
    }

    pub fn send(&self, msg: Msg) {
        let _ = self.tx.send(msg);
    }
}

/// The state owned by the actor.
pub struct Supervisor {
    /// The configuration as last read (the reference's `options`): `reloadConfig` replaces it.
    config: Config,
    mood: Mood,
    /// Active groups by group priority, ties in the order they were added: (priority, name) from
    /// the config at start, then `addProcessGroup` after those of its priority (the reference
    /// sorts its dict of groups by priority alone, a stable sort).
    groups: Vec<Group>,
    /// The lookups by name without a scan, rebuilt whenever `groups` changes (see `index`).
    index: index::Index,
    /// The processes' deadlines in time order (see `due`), kept in step by `apply`.
    due: due::Due,
    pids: HashMap<i32, (String, String)>,
    waiters: waiters::Waiters,
    stop_groups: Option<Vec<String>>,
    /// Stops held back until dependants are down (see `stopping`).
    stops: stopping::Stops,
    last_shutdown_report: f64,
    dirty: bool,
    /// Spawns left in this settle ([`SPAWN_BATCH`]), and whether it stopped short of them.
    spawn_budget: usize,
    more_to_spawn: bool,
    handle: Option<SupervisorHandle>,
    /// The command-line overrides, re-applied when the config is re-read.
    cli: crate::cli::Cli,
    /// The daemon's exit status once it stops (non-zero only through `exit_on_fatal`).
    exit_code: i32,
    /// When the next `memory_limit` check is due (0.0: none scheduled).
    next_memory_check: f64,
    /// Event pools, buffers, ticks and fcgi sockets (see `crate::events`).
    events: hooks::Events,
    /// The dashboard's samples and live updates (see `history`).
    history: history::History,
    /// Fork/exec, kill, memory and clock: the operating system, or a fake one in tests.
    host: Box<dyn host::Host>,
}

impl Supervisor {
    pub fn new(config: Config) -> Supervisor {
        Supervisor::with_host(config, Box::new(host::Os))
    }

    /// A supervisor whose side effects on the system go through `host` (a fake one in tests).
    pub fn with_host(config: Config, host: Box<dyn host::Host>) -> Supervisor {
        let mut s = Supervisor {
            host,
            config,
            mood: Mood::Running,
            groups: Vec::new(),
            index: Default::default(),
            due: Default::default(),
            pids: HashMap::new(),
            waiters: waiters::Waiters::default(),
            stop_groups: None,
            stops: Default::default(),
            last_shutdown_report: 0.0,
            dirty: true,
            spawn_budget: SPAWN_BATCH,
            more_to_spawn: false,
            handle: None,
            cli: crate::cli::Cli::default(),
            exit_code: 0,
            next_memory_check: 0.0,
            events: Default::default(),
            history: Default::default(),
        };
        let configs = s.config.groups.clone();
        for g in configs {
            s.add_group(g);
        }
        s
    }

    /// The daemon's state.
    pub fn mood(&self) -> Mood {
        self.mood
    }

    /// The configuration as last read (`reloadConfig` replaces its groups).
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The command-line overrides, re-applied when the config is re-read.
    pub fn cli(&self) -> &crate::cli::Cli {
        &self.cli
    }

    /// Keep the command-line overrides for the re-reads of the config.
    pub fn set_cli(&mut self, cli: crate::cli::Cli) {
        self.cli = cli;
    }

    fn ctx(&self) -> Context {
        Context {
            now: self.host.now(),
            may_autostart: self.mood > Mood::Restarting,
            held: false,
        }
    }

    /// Add a group from its config (`add_process_group`); false when one of that name exists.
    pub fn add_group(&mut self, cfg: GroupConfig) -> bool {
        if self.find_group(&cfg.name).is_some() {
            return false;
        }
        let group = Group::new(cfg, &self.config);
        // Groups are sorted by priority: most often the new one goes last (all of the config's).
        let last = self.groups.last();
        let pos = if last.is_none_or(|g| g.config.priority <= group.config.priority) {
            self.groups.len()
        } else {
            let after = |g: &Group| g.config.priority > group.config.priority;
            self.groups
                .iter()
                .position(after)
                .unwrap_or(self.groups.len())
        };
        self.groups.insert(pos, group);
        if pos + 1 == self.groups.len() {
            self.index.push(pos, &self.groups[pos]);
        } else {
            self.index = index::Index::build(&self.groups);
            self.rekey_waiters();
        }
        self.due.invalidate();
        self.dirty = true;
        for p in &mut self.groups[pos].processes {
            p.dirty = true;
        }
        self.events_group_added(pos);
        true
    }

    /// Remove a group whose processes are all stopped (`remove_process_group`).
    pub fn remove_group(&mut self, name: &str) -> Result<(), GroupError> {
        let Some(i) = self.find_group(name) else {
            return Err(GroupError::BadName);
        };
        if self.groups[i]
            .processes
            .iter()
            .any(|p| !p.rec.state.is_stopped())
        {
            return Err(GroupError::StillRunning);
        }
        self.groups.remove(i);
        self.index = index::Index::build(&self.groups);
        self.due.invalidate();
        self.events_group_removed(name);
        // Waiter keys are indices: re-resolve by name.
        self.rekey_waiters();
        Ok(())
    }

    pub(crate) fn find_group(&self, name: &str) -> Option<usize> {
        self.index.group(name)
    }

    /// Feed one event to the process at `key` and carry out the actions.
    fn apply(&mut self, key: ProcessKey, event: Event) {
        let mut queue = vec![event];
        while let Some(ev) = queue.pop() {
            let mut ctx = self.ctx();
            ctx.held = self.waiting_for(key).is_some();
            let proc = self.proc_mut(key);
            let rec = std::mem::take(&mut proc.rec);
            let (rec, actions) = process::step(&proc.config, rec, ev.clone(), ctx);
            proc.rec = rec;
            if self.due.fresh() {
                let p = self.proc(key);
                let at = process::deadline(&p.config, &p.rec, self.mood > Mood::Restarting);
                self.due.set(key, at);
            }
            let proc = self.proc_mut(key);
            if let Some(cause) = restarts::automatic(&ev, &actions) {
                proc.restarts.count(cause);
            }
            // Every change of the step is announced before its actions are carried out.
            for a in &actions {
                if let Action::StateChanged {
                    from,
                    to,
                    expected,
                    pid,
                    tries,
                } = *a
                {
                    self.state_event(key, (from, to), expected, pid, tries);
                }
            }
            for action in actions {
                match action {
                    Action::Log(level, msg) => log(level, &msg),
                    Action::StateChanged { to, .. } => {
                        self.dirty = true;
                        self.resolve_waiters(key);
                        if to == ProcessState::Fatal {
                            self.on_fatal(key);
                        }
                    }
                    Action::Kill { pid, sig, as_group } => self.kill(key, pid, sig, as_group),
                    Action::Spawn => {
                        self.spawn_budget = self.spawn_budget.saturating_sub(1);
                        let result = self.spawn(key);
                        queue.push(match result {
                            Ok(pid) => Event::Spawned { pid },
                            Err(msg) => Event::SpawnFailed { msg },
                        });
                    }
                }
            }
        }
    }

    fn kill(&mut self, key: ProcessKey, pid: i32, sig: i32, as_group: bool) {
        if let Err(e) = self.host.kill(pid, sig, as_group) {
            let name = &self.proc(key).config.name;
            if e == nix::errno::Errno::ESRCH {
                log(
                    LogLevel::Debug,
                    &format!(
                        "unable to signal {} (pid {}), it probably just exited on its own: {}",
                        name, pid, e
                    ),
                );
            } else {
                log(
                    LogLevel::Critical,
                    &format!("unknown problem killing {} ({}):{}", name, pid, e),
                );
            }
        }
    }

    /// Fork/exec a process; returns the pid or the `spawnerr` text.
    fn spawn(&mut self, key: ProcessKey) -> Result<i32, String> {
        let extras = self.spawn_extras(key)?;
        let proc = &mut self.groups[key.group].processes[key.process];
        let result = self.host.spawn(proc, &self.config, &extras);
        self.events_spawned(key, result.as_ref().ok().copied());
        let pid = result?;
        self.checks_spawned(key, pid);
        let id = self.id(key);
        self.pids.insert(pid, (id.group, id.name));
        Ok(pid)
    }

    /// `exit_on_fatal` (beyond the reference): a program gave up, so the whole daemon stops and
    /// exits with that program's last exit status (1 when it never exited on its own).
    fn on_fatal(&mut self, key: ProcessKey) {
        if !self.config.supervisord.exit_on_fatal || self.mood != Mood::Running {
            return;
        }
        let p = self.proc(key);
        let code = match p.last_exit_code {
            Some(c) if (1..=255).contains(&c) => c,
            _ => 1,
        };
        log(
            LogLevel::Warn,
            &format!(
                "{} entered FATAL state and exit_on_fatal is set: shutting down with exit status {}",
                p.config.name, code
            ),
        );
        self.exit_code = code;
        self.set_mood(Mood::Shutdown);
    }

    /// A child was reaped by the reaper.
    pub fn reaped(&mut self, pid: i32, how: ExitStatus) {
        // A process's pid is in `pids`; only another one may be a check's probe (whose
        // lookup walks the processes).
        if !self.pids.contains_key(&pid) && self.probe_reaped(pid, how) {
            return;
        }
        match self.pids.remove(&pid) {
            Some((g, p)) => match self.find(&g, &p) {
                Some(key) => {
                    let proc = self.proc_mut(key);
                    proc.closed();
                    proc.last_exit_code = Some(how.describe().0);
                    self.checks_reaped(key);
                    let in_flight = self.events_reaping(key);
                    self.apply(key, Event::Reaped { how });
                    self.events_reaped(key.group, pid, in_flight);
                }
                None => log(
                    LogLevel::Info,
                    &format!("reaped unknown pid {} ({})", pid, how.describe().1),
                ),
            },
            None => log(
                LogLevel::Info,
                &format!("reaped unknown pid {} ({})", pid, how.describe().1),
            ),
        }
    }

    pub fn set_mood(&mut self, mood: Mood) {
        if self.mood == Mood::Shutdown && mood == Mood::Restarting {
            return;
        }
        self.mood = mood;
        self.dirty = true;
        // Deadlines depend on the mood (autostart, backoff).
        self.due.invalidate();
    }

    /// Run the transition checks on every process that needs them, and the shutdown sequence.
    fn settle(&mut self) {
        self.spawn_budget = SPAWN_BATCH;
        self.more_to_spawn = false;
        self.events_tick();
        self.check_memory();
        let mut rounds = 0;
        while self.dirty && rounds < 100 {
            self.dirty = false;
            rounds += 1;
            if self.mood < Mood::Running {
                self.shutdown_step();
            }
            self.dirty |= self.held_stops_settle();
            let t = self.host.now();
            // Only what may need a transition: every process while the deadline queue is
            // stale, else those due, those with dependencies or checks, and the pools.
            let (keys, groups) = if self.due.fresh() {
                let mut keys: Vec<ProcessKey> = self.due.until(t).collect();
                keys.extend_from_slice(self.index.watched());
                keys.sort_unstable();
                keys.dedup();
                let mut groups: Vec<usize> = keys.iter().map(|k| k.group).collect();
                groups.extend(self.pool_groups());
                groups.sort_unstable();
                groups.dedup();
                (keys, groups)
            } else {
                (self.all_in_order(), (0..self.groups.len()).collect())
            };
            let mut next = keys.into_iter().peekable();
            'groups: for gi in groups {
                while let Some(key) = next.next_if(|k| k.group == gi) {
                    if self.spawn_budget == 0 {
                        // A batch of spawns is done: let clients in before the next one.
                        self.more_to_spawn = true;
                        break 'groups;
                    }
                    self.settle_one(key, t);
                }
                // A pool dispatches after its own processes' transitions, as the reference's.
                self.dispatch_events(gi);
            }
            if self.more_to_spawn {
                // (A stale queue stays stale: the next settle visits every process again, and
                // the never-started ones, which have no deadline, are among them.)
                break;
            }
            if !self.due.fresh() {
                self.due.rebuild(&self.groups, self.mood > Mood::Restarting);
            }
        }
        for gi in 0..self.groups.len() {
            self.dispatch_events(gi);
        }
        self.history_tick();
    }

    /// The earliest wall-clock time something is due.
    fn next_deadline(&self) -> Option<f64> {
        let may = self.mood > Mood::Restarting;
        let mut best: Option<f64> = None;
        if self.mood == Mood::Running && self.memory_limited().next().is_some() {
            best = Some(if self.next_memory_check == 0.0 {
                self.host.now()
            } else {
                self.next_memory_check
            });
        }
        if self.due.fresh() {
            best = [best, self.due.first()]
                .into_iter()
                .flatten()
                .reduce(f64::min);
        } else {
            for g in &self.groups {
                for p in &g.processes {
                    if let Some(d) = process::deadline(&p.config, &p.rec, may) {
                        best = Some(best.map_or(d, |b| b.min(d)));
                    }
                }
            }
        }
        if let Some(d) = self.next_stop_report() {
            best = Some(best.map_or(d, |b| b.min(d)));
        }
        if self.mood < Mood::Running && !self.unstopped().is_empty() {
            let d = self.last_shutdown_report + 3.0 + 0.001;
            best = Some(best.map_or(d, |b| b.min(d)));
        }
        for d in [self.deps_deadline(), self.checks_deadline()]
            .into_iter()
            .flatten()
        {
            best = Some(best.map_or(d, |b| b.min(d)));
        }
        if let Some(d) = self.next_tick() {
            best = Some(best.map_or(d, |b| b.min(d)));
        }
        if let Some(d) = self.history_deadline() {
            best = Some(best.map_or(d, |b| b.min(d)));
        }
        best
    }

    /// `sendRemoteCommEvent`: a REMOTE_COMMUNICATION event for listeners.
    pub fn remote_comm_event(&mut self, kind: &str, data: &str) {
        self.notify(crate::events::Event::remote_communication(kind, data));
    }
}
