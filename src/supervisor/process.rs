//! The per-process state machine, as a pure function.
//!
//! [`step`] takes a process's runtime record, one [`Event`] and the current time, and returns the
//! new record plus the [`Action`]s the actor must carry out (fork, signal, log, notify). Nothing
//! here touches the operating system or the clock, so every transition of supervisor 4.2.5's
//! `Subprocess` (spawn, finish, kill, transition, give_up) is unit-tested without real processes.
//!
//! The reference runs `transition()` on every process once a second; here the same checks run
//! after every event, and [`deadline`] tells the actor when the next timed check is due
//! (startsecs, backoff, stopwaitsecs), so an idle daemon sleeps.

use crate::config::LogLevel as Level;
use crate::config::{AutoRestart, ProcessConfig};

/// Process states with the reference's numeric codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ProcessState {
    Stopped = 0,
    Starting = 10,
    Running = 20,
    Backoff = 30,
    Stopping = 40,
    Exited = 100,
    Fatal = 200,
    Unknown = 1000,
}

impl ProcessState {
    pub fn code(self) -> i32 {
        self as i32
    }

    /// The reference's state name (`getProcessStateDescription`).
    pub fn name(self) -> &'static str {
        match self {
            ProcessState::Stopped => "STOPPED",
            ProcessState::Starting => "STARTING",
            ProcessState::Running => "RUNNING",
            ProcessState::Backoff => "BACKOFF",
            ProcessState::Stopping => "STOPPING",
            ProcessState::Exited => "EXITED",
            ProcessState::Fatal => "FATAL",
            ProcessState::Unknown => "UNKNOWN",
        }
    }

    /// `STOPPED_STATES`: states in which the process is not running and not on its way.
    pub fn is_stopped(self) -> bool {
        matches!(
            self,
            ProcessState::Stopped
                | ProcessState::Exited
                | ProcessState::Fatal
                | ProcessState::Unknown
        )
    }

    /// `RUNNING_STATES`: a start request is refused with ALREADY_STARTED.
    pub fn is_running(self) -> bool {
        matches!(
            self,
            ProcessState::Running | ProcessState::Backoff | ProcessState::Starting
        )
    }

    /// `SIGNALLABLE_STATES`.
    pub fn is_signallable(self) -> bool {
        matches!(
            self,
            ProcessState::Running | ProcessState::Starting | ProcessState::Stopping
        )
    }
}

pub use super::reaper::ExitStatus;
pub use crate::util::signals::signame as signal_name;

/// The runtime record of one process: the reference's `Subprocess` attributes, as plain data.
/// Times are wall-clock seconds since the epoch (the API reports them as such).
#[derive(Clone, Debug, PartialEq)]
pub struct Record {
    pub state: ProcessState,
    /// 0 when no child is alive.
    pub pid: i32,
    /// 0.0 when never started.
    pub laststart: f64,
    pub laststop: f64,
    /// When the pending timed check is due (startsecs, backoff or stopwaitsecs); 0.0 for none.
    pub delay: f64,
    /// Backoff counter (towards `startretries`).
    pub backoff: u32,
    pub spawnerr: Option<String>,
    pub exitstatus: Option<i32>,
    /// A stop signal has been sent and the exit is expected.
    pub killing: bool,
    pub administrative_stop: bool,
    pub system_stop: bool,
    pub laststopreport: f64,
    /// The `ready_check` of this spawn passed (beyond the reference).
    pub ready: bool,
    /// The stop under way ends a start that did not get ready in time: BACKOFF, not STOPPED.
    pub failed_start: bool,
}

impl Default for Record {
    fn default() -> Self {
        Record {
            state: ProcessState::Stopped,
            pid: 0,
            laststart: 0.0,
            laststop: 0.0,
            delay: 0.0,
            backoff: 0,
            spawnerr: None,
            exitstatus: None,
            killing: false,
            administrative_stop: false,
            system_stop: false,
            laststopreport: 0.0,
            ready: false,
            failed_start: false,
        }
    }
}

/// What happened to a process.
#[derive(Clone, Debug, PartialEq)]
pub enum Event {
    /// Run the reference's `transition()` checks (after any change, or when a deadline passed).
    Tick,
    /// An explicit start (RPC `startProcess`): the caller has checked the state allows it.
    Start,
    /// The fork succeeded.
    Spawned { pid: i32 },
    /// The spawn failed before or at fork, with the reference's `spawnerr` text.
    SpawnFailed { msg: String },
    /// The child was reaped.
    Reaped { how: ExitStatus },
    /// Administrative stop (RPC `stopProcess`, or the daemon shutting down).
    Stop,
    /// Send a signal without intending to stop (RPC `signalProcess`).
    Signal { sig: i32 },
    /// BACKOFF -> FATAL while the daemon shuts down (`give_up` from `stop_all`).
    GiveUp,
    /// The `ready_check` passed (its answer, for the log).
    Ready { answer: String },
    /// STOPPED -> FATAL: the dependencies were not met in time (`dependency_timeout`).
    DependencyFailed { reason: String },
}

/// What the actor must do after a step.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    /// Fork/exec the program now, then feed back `Spawned` or `SpawnFailed`.
    Spawn,
    /// Send `sig` to the pid (`-pid` when `as_group`); an ESRCH (the child exited meanwhile)
    /// is only logged at debug.
    Kill { pid: i32, sig: i32, as_group: bool },
    /// A line for the main log.
    Log(Level, String),
    /// The state changed: for events, waiters and listeners. `pid` is the child's pid at the
    /// change (a reap clears it only after its changes), `tries` the backoff counter after it.
    StateChanged {
        from: ProcessState,
        to: ProcessState,
        expected: bool,
        pid: i32,
        tries: u32,
    },
}

/// What the rest of the daemon tells the state machine.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Context {
    pub now: f64,
    /// The daemon is RUNNING (not shutting down or restarting): automatic spawns are allowed.
    pub may_autostart: bool,
    /// Its `depends_on` is not met: no automatic first start yet (beyond the reference).
    pub held: bool,
}

struct Step<'a> {
    cfg: &'a ProcessConfig,
    rec: Record,
    ctx: Context,
    actions: Vec<Action>,
}

impl Step<'_> {
    fn log(&mut self, level: Level, msg: String) {
        self.actions.push(Action::Log(level, msg));
    }

    fn change_state(&mut self, to: ProcessState, expected: bool) {
        let from = self.rec.state;
        if from == to {
            return;
        }
        self.rec.state = to;
        if to == ProcessState::Backoff {
            self.rec.backoff = self.rec.backoff.saturating_add(1);
            let wait = match self.cfg.backoff_max {
                Some(max) => (self.rec.backoff as u64).min(max),
                None => self.rec.backoff as u64,
            };
            self.rec.delay = self.ctx.now + wait as f64;
        }
        let (pid, tries) = (self.rec.pid, self.rec.backoff);
        self.actions.push(Action::StateChanged {
            from,
            to,
            expected,
            pid,
            tries,
        });
    }

    /// The reference's `spawn()` up to the fork: the actor forks on `Action::Spawn`.
    fn spawn(&mut self) {
        if self.rec.pid != 0 {
            let msg = format!("process '{}' already running", self.cfg.name);
            self.log(Level::Warn, msg);
            return;
        }
        self.rec.killing = false;
        self.rec.spawnerr = None;
        self.rec.exitstatus = None;
        self.rec.system_stop = false;
        self.rec.administrative_stop = false;
        self.rec.ready = false;
        self.rec.failed_start = false;
        self.rec.laststart = self.ctx.now;
        self.change_state(ProcessState::Starting, true);
        self.actions.push(Action::Spawn);
    }

    fn spawned(&mut self, pid: i32) {
        self.rec.pid = pid;
        self.rec.spawnerr = None;
        self.rec.delay = self.ctx.now + self.cfg.startsecs as f64;
        let msg = format!("spawned: '{}' with pid {}", self.cfg.name, pid);
        self.log(Level::Info, msg);
    }

    fn spawn_failed(&mut self, msg: String) {
        self.log(Level::Info, format!("spawnerr: {}", msg));
        self.rec.spawnerr = Some(msg);
        if self.rec.state == ProcessState::Starting {
            self.change_state(ProcessState::Backoff, true);
        }
    }

    fn kill(&mut self, sig: i32) {
        if self.rec.state == ProcessState::Backoff {
            let msg = format!(
                "Attempted to kill {}, which is in BACKOFF state.",
                self.cfg.name
            );
            self.log(Level::Debug, msg);
            self.change_state(ProcessState::Stopped, true);
            return;
        }
        if self.rec.pid == 0 {
            let msg = format!(
                "attempted to kill {} with sig {} but it wasn't running",
                self.cfg.name,
                signal_name(sig)
            );
            self.log(Level::Debug, msg);
            return;
        }
        let as_group = if self.rec.state == ProcessState::Stopping {
            self.cfg.killasgroup
        } else {
            self.cfg.stopasgroup
        };
        let msg = format!(
            "killing {} (pid {}) {}with signal {}",
            self.cfg.name,
            self.rec.pid,
            if as_group { "process group " } else { "" },
            signal_name(sig)
        );
        if !self.rec.state.is_signallable() {
            return;
        }
        self.log(Level::Debug, msg);
        self.rec.killing = true;
        self.rec.delay = self.ctx.now + self.cfg.stopwaitsecs as f64;
        self.change_state(ProcessState::Stopping, true);
        self.actions.push(Action::Kill {
            pid: self.rec.pid,
            sig,
            as_group,
        });
    }

    fn signal(&mut self, sig: i32) {
        if self.rec.pid == 0 {
            let msg = format!(
                "attempted to send {} sig {} but it wasn't running",
                self.cfg.name,
                signal_name(sig)
            );
            self.log(Level::Debug, msg);
            return;
        }
        let msg = format!(
            "sending {} (pid {}) sig {}",
            self.cfg.name,
            self.rec.pid,
            signal_name(sig)
        );
        self.log(Level::Debug, msg);
        self.actions.push(Action::Kill {
            pid: self.rec.pid,
            sig,
            as_group: false,
        });
    }

    fn give_up(&mut self) {
        self.rec.delay = 0.0;
        self.rec.backoff = 0;
        self.rec.system_stop = true;
        if self.rec.state == ProcessState::Backoff {
            self.change_state(ProcessState::Fatal, true);
        }
    }

    /// The reference's `finish()`: the child was reaped.
    fn finish(&mut self, how: ExitStatus) {
        let (es, msg) = how.describe();
        let now = self.ctx.now;
        self.rec.laststop = now;
        let name = self.cfg.name.clone();
        let too_quickly = if now > self.rec.laststart {
            now - self.rec.laststart < self.cfg.startsecs as f64
        } else {
            self.log(
                Level::Warn,
                format!(
                    "process '{}' ({}) laststart time is in the future, don't know how long process was running so assuming it did not exit too quickly",
                    name, self.rec.pid
                ),
            );
            false
        };
        let exit_expected = self.cfg.exitcodes.contains(&es);
        if self.rec.killing {
            self.rec.killing = false;
            self.rec.delay = 0.0;
            self.rec.exitstatus = Some(es);
            if std::mem::take(&mut self.rec.failed_start) {
                // a start that did not get ready in time fails as one that exits too quickly
                self.rec.exitstatus = None;
                self.rec.spawnerr = Some(format!(
                    "not ready within {} seconds (ready_timeout)",
                    self.cfg.deps.ready_timeout
                ));
                self.change_state(ProcessState::Backoff, true);
                self.log(
                    Level::Warn,
                    format!("stopped: {} ({}; not ready)", name, msg),
                );
                self.rec.pid = 0;
                return;
            }
            self.change_state(ProcessState::Stopped, true);
            let level = if exit_expected {
                Level::Info
            } else {
                Level::Warn
            };
            self.log(level, format!("stopped: {} ({})", name, msg));
        } else if too_quickly && self.rec.state == ProcessState::Starting {
            self.rec.exitstatus = None;
            self.rec.spawnerr = Some("Exited too quickly (process log may have details)".into());
            self.change_state(ProcessState::Backoff, true);
            self.log(
                Level::Warn,
                format!("exited: {} ({}; not expected)", name, msg),
            );
        } else {
            self.rec.delay = 0.0;
            self.rec.backoff = 0;
            self.rec.exitstatus = Some(es);
            if self.rec.state == ProcessState::Starting {
                self.change_state(ProcessState::Running, true);
            }
            if exit_expected {
                self.change_state(ProcessState::Exited, true);
                self.log(Level::Info, format!("exited: {} ({}; expected)", name, msg));
            } else {
                self.rec.spawnerr = Some(format!("Bad exit code {}", es));
                self.change_state(ProcessState::Exited, false);
                self.log(
                    Level::Warn,
                    format!("exited: {} ({}; not expected)", name, msg),
                );
            }
        }
        self.rec.pid = 0;
    }

    /// The reference's `transition()`: automatic spawns and timed checks.
    fn transition(&mut self) {
        let now = self.ctx.now;
        let state = self.rec.state;
        if self.ctx.may_autostart {
            match state {
                ProcessState::Exited
                    if wants_restart(self.cfg, &self.rec)
                        && now >= self.rec.laststop + self.cfg.restart_delay as f64 =>
                {
                    self.spawn();
                }
                ProcessState::Stopped
                    if self.rec.laststart == 0.0 && self.cfg.autostart && !self.ctx.held =>
                {
                    self.spawn();
                }
                ProcessState::Backoff
                    if self.rec.backoff <= self.cfg.startretries && now >= self.rec.delay =>
                {
                    self.spawn();
                }
                _ => {}
            }
        }
        // The checks below look at the state as it was when transition() began, as the reference.
        match state {
            ProcessState::Starting
                if self.rec.state == ProcessState::Starting
                    && self.rec.pid != 0
                    && now - self.rec.laststart >= self.cfg.startsecs as f64
                    && (self.rec.ready || self.cfg.deps.ready_check.is_none()) =>
            {
                self.rec.delay = 0.0;
                self.rec.backoff = 0;
                self.change_state(ProcessState::Running, true);
                let msg = match &self.cfg.deps.ready_check {
                    None => format!(
                        "success: {} entered RUNNING state, process has stayed up for > than {} seconds (startsecs)",
                        self.cfg.name, self.cfg.startsecs
                    ),
                    Some(check) => format!(
                        "success: {} entered RUNNING state, its ready_check {} passed",
                        self.cfg.name, check
                    ),
                };
                self.log(Level::Info, msg);
            }
            ProcessState::Starting
                if self.rec.state == ProcessState::Starting
                    && self.rec.pid != 0
                    && !self.rec.ready
                    && self.cfg.deps.ready_check.is_some()
                    && now - self.rec.laststart >= self.cfg.deps.ready_timeout as f64 =>
            {
                let msg = format!(
                    "not ready: {} did not pass its ready_check within {} seconds (ready_timeout)",
                    self.cfg.name, self.cfg.deps.ready_timeout
                );
                self.log(Level::Warn, msg);
                self.kill(self.cfg.stopsignal);
                self.rec.failed_start = self.rec.state == ProcessState::Stopping;
            }
            ProcessState::Backoff
                if self.rec.state == ProcessState::Backoff
                    && self.rec.backoff > self.cfg.startretries =>
            {
                self.give_up();
                let msg = format!(
                    "gave up: {} entered FATAL state, too many start retries too quickly",
                    self.cfg.name
                );
                self.log(Level::Info, msg);
            }
            ProcessState::Stopping
                if self.rec.state == ProcessState::Stopping && self.rec.delay - now <= 0.0 =>
            {
                let msg = format!(
                    "killing '{}' ({}) with SIGKILL",
                    self.cfg.name, self.rec.pid
                );
                self.log(Level::Warn, msg);
                self.kill(libc::SIGKILL);
            }
            _ => {}
        }
    }
}

/// One step of the state machine: apply `event` at `ctx.now`, then run the transition checks
/// until nothing more changes. Returns the new record and the actions to carry out, in order.
pub fn step(cfg: &ProcessConfig, rec: Record, event: Event, ctx: Context) -> (Record, Vec<Action>) {
    let mut s = Step {
        cfg,
        rec,
        ctx,
        actions: Vec::new(),
    };
    let event_kind = if matches!(event, Event::Spawned { .. }) {
        EventKind::Spawned
    } else {
        EventKind::Other
    };
    match event {
        Event::Tick => {}
        Event::Start => s.spawn(),
        Event::Spawned { pid } => s.spawned(pid),
        Event::SpawnFailed { msg } => s.spawn_failed(msg),
        Event::Reaped { how } => s.finish(how),
        Event::Stop => {
            s.rec.failed_start = false;
            s.rec.administrative_stop = true;
            s.rec.laststopreport = 0.0;
            s.kill(cfg.stopsignal);
        }
        Event::Signal { sig } => s.signal(sig),
        Event::GiveUp => s.give_up(),
        Event::Ready { answer } => {
            if s.rec.state == ProcessState::Starting && s.rec.pid != 0 && !s.rec.ready {
                s.rec.ready = true;
                let msg = format!("ready: {} passed its ready_check ({})", cfg.name, answer);
                s.log(Level::Info, msg);
            }
        }
        Event::DependencyFailed { reason } => {
            if s.rec.state == ProcessState::Stopped {
                s.rec.spawnerr = Some(reason.clone());
                s.change_state(ProcessState::Fatal, true);
                s.log(
                    Level::Info,
                    format!("gave up: {} entered FATAL state, {}", cfg.name, reason),
                );
            }
        }
    }
    // A spawn is pending when an action asks for one: the actor must fork first, and the
    // transition checks resume when it reports back. Right after a fork they wait for the next
    // tick too, so a pass of spawns logs all `spawned:` lines before any `success:` line, as the
    // reference's loop does even with startsecs=0.
    let spawning = matches!(event_kind, EventKind::Spawned);
    if !spawning && !s.actions.contains(&Action::Spawn) {
        let before = s.rec.state;
        s.transition();
        // A give-up or a startsecs=0 start can enable one more check (FATAL is final).
        if s.rec.state != before && !s.actions.contains(&Action::Spawn) {
            s.transition();
        }
    }
    (s.rec, s.actions)
}

enum EventKind {
    Spawned,
    Other,
}

/// `autorestart` applied to an EXITED process's exit status.
fn wants_restart(cfg: &ProcessConfig, rec: &Record) -> bool {
    match cfg.autorestart {
        AutoRestart::Never => false,
        AutoRestart::Always => true,
        AutoRestart::Unexpected => !rec.exitstatus.is_some_and(|es| cfg.exitcodes.contains(&es)),
    }
}

/// When the next timed check is due for this process, if any (wall-clock seconds).
pub fn deadline(cfg: &ProcessConfig, rec: &Record, may_autostart: bool) -> Option<f64> {
    match rec.state {
        ProcessState::Exited
            if may_autostart && cfg.restart_delay > 0 && wants_restart(cfg, rec) =>
        {
            Some(rec.laststop + cfg.restart_delay as f64)
        }
        ProcessState::Starting if rec.pid != 0 && !rec.ready && cfg.deps.ready_check.is_some() => {
            Some(rec.laststart + cfg.deps.ready_timeout as f64)
        }
        ProcessState::Starting if rec.pid != 0 => Some(rec.laststart + cfg.startsecs as f64),
        ProcessState::Backoff if may_autostart && rec.backoff <= cfg.startretries => {
            Some(rec.delay)
        }
        ProcessState::Stopping => Some(rec.delay),
        _ => None,
    }
}

#[cfg(test)]
pub(crate) mod tests;
