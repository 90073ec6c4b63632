//! How the supervisor actor drives events (`crate::events`, a leaf it uses): the event state it
//! owns ([`Events`]), and the `Supervisor` methods its code calls at the points where the
//! reference notifies or dispatches: group added/removed, a process state change, a spawn and a
//! reap of a listener, listener output, ticks, and the pools' dispatch after each round of
//! transitions.
//!
//! Child output of programs reaches the bus through the `OutputSink` hooks installed by
//! [`install_sink_hooks`], and a listener's stdout through the reader's `on_chunk` hook
//! ([`listener_output_hook`]): the reader task sends it to the actor as a message.

use std::collections::HashMap;
use std::os::fd::RawFd;

use super::process::ProcessState;
use super::{Msg, Process, ProcessKey, Supervisor, SupervisorHandle, now};
use crate::config::{GroupKind, LogLevel};
use crate::events::bus::{Bus, Pool, Queued};
use crate::events::fcgi::FcgiSocket;
use crate::events::listener::{self, ListenerState, Outcome, Protocol};
use crate::events::{Event, EventType};
use crate::logs::capture::{Channel, OnChunk, OutputSink};
use crate::logs::mainlog::log;

/// The event machinery the actor owns.
#[derive(Debug)]
pub struct Events {
    pub bus: Bus,
    /// fcgi groups' sockets, by group name.
    pub sockets: HashMap<String, FcgiSocket>,
}

impl Default for Events {
    fn default() -> Self {
        Events {
            bus: Bus::new(now()),
            sockets: HashMap::new(),
        }
    }
}

/// What a spawn needs besides the process config: the fcgi socket for fd 0, and the actor's
/// handle for output events (and, for a listener, its protocol).
pub struct SpawnExtras {
    pub stdin_socket: Option<RawFd>,
    pub handle: Option<SupervisorHandle>,
    pub listener: bool,
    /// Variables for the child beyond the usual ones (`NOTIFY_SOCKET`).
    pub env: Vec<(String, String)>,
}

/// Make `sink` send PROCESS_LOG (when the stream has `*_events_enabled`) and
/// PROCESS_COMMUNICATION events to the actor.
pub fn install_sink_hooks(
    sink: &mut OutputSink,
    handle: &SupervisorHandle,
    group: &str,
    name: &str,
    pid: i32,
) {
    let channel = sink.channel();
    let (h, g, n) = (handle.clone(), group.to_string(), name.to_string());
    sink.on_log = Some(Box::new(move |data: &[u8]| {
        let ev = Event::process_log(&n, &g, pid, channel, data);
        h.send(Msg::Call(Box::new(move |s| s.notify(ev))));
    }));
    let (h, g, n) = (handle.clone(), group.to_string(), name.to_string());
    sink.on_communication = Some(Box::new(move |data: Vec<u8>| {
        let ev = Event::process_communication(&n, &g, pid, channel, &data);
        h.send(Msg::Call(Box::new(move |s| s.notify(ev))));
    }));
}

/// The sink for a listener's stdout: the log file only (the protocol reads the bytes; the
/// main log gets the reference's own DEBG line, no capture mode, no PROCESS_LOG events).
pub fn listener_stdout_sink(
    name: &str,
    stream: &crate::config::StreamLogConfig,
    logfile: Option<&std::path::Path>,
    sup: &crate::config::SupervisordConfig,
) -> std::io::Result<OutputSink> {
    let mut stream = stream.clone();
    stream.capture_maxbytes = 0;
    stream.events_enabled = false;
    stream.syslog = false;
    let mut sup = sup.clone();
    sup.loglevel = LogLevel::Info;
    OutputSink::new(name, Channel::Stdout, &stream, logfile, &sup)
}

/// The `on_chunk` hook of a listener's stdout reader: each chunk goes to the actor's protocol
/// handling, tagged with the listener's pid so output of an earlier incarnation is not taken for
/// the current one's.
pub fn listener_output_hook(
    handle: SupervisorHandle,
    group: &str,
    name: &str,
    pid: i32,
) -> OnChunk {
    let (group, name) = (group.to_string(), name.to_string());
    Box::new(move |data: &[u8]| {
        let (g, p, data) = (group.clone(), name.clone(), data.to_vec());
        handle.send(Msg::Call(Box::new(move |s| {
            s.listener_output(&g, &p, pid, &data)
        })));
    })
}

/// The event type for a process entering `state` (`Subprocess.event_map`).
pub fn state_event_type(state: ProcessState) -> EventType {
    match state {
        ProcessState::Stopped => EventType::ProcessStateStopped,
        ProcessState::Starting => EventType::ProcessStateStarting,
        ProcessState::Running => EventType::ProcessStateRunning,
        ProcessState::Backoff => EventType::ProcessStateBackoff,
        ProcessState::Stopping => EventType::ProcessStateStopping,
        ProcessState::Exited => EventType::ProcessStateExited,
        ProcessState::Fatal => EventType::ProcessStateFatal,
        ProcessState::Unknown => EventType::ProcessStateUnknown,
    }
}

impl Supervisor {
    /// `events.notify`.
    pub fn notify(&mut self, event: Event) {
        self.events.bus.notify(event);
    }

    /// A group was added at index `gi`: a pool subscribes, an fcgi group checks its socket,
    /// then PROCESS_GROUP_ADDED.
    pub(crate) fn events_group_added(&mut self, gi: usize) {
        let cfg = &self.groups[gi].config;
        let name = cfg.name.clone();
        match &cfg.kind {
            GroupKind::EventListener(pool) => {
                let procs: Vec<String> = cfg.processes.iter().map(|p| p.name.clone()).collect();
                self.events.bus.add_pool(
                    &name,
                    &pool.events,
                    pool.buffer_size,
                    &procs,
                    self.host.now(),
                );
            }
            GroupKind::Fcgi(sock) => {
                self.events
                    .sockets
                    .insert(name.clone(), FcgiSocket::new(sock.clone()));
            }
            GroupKind::Program => {}
        }
        self.notify(Event::group(true, &name));
    }

    /// A group was removed: its pool unsubscribes, then PROCESS_GROUP_REMOVED.
    pub(crate) fn events_group_removed(&mut self, name: &str) {
        self.events.bus.remove_pool(name);
        self.events.sockets.remove(name);
        self.notify(Event::group(false, name));
    }

    /// The PROCESS_STATE event of one state change of the process at `key`.
    pub(crate) fn state_event(
        &mut self,
        key: ProcessKey,
        (from, to): (ProcessState, ProcessState),
        expected: bool,
        pid: i32,
        tries: u32,
    ) {
        let c = &self.proc(key).config;
        let ev = Event::process_state(
            &c.name,
            &c.group,
            from.name(),
            state_event_type(to),
            expected,
            pid,
            tries,
        );
        self.notify(ev);
    }

    /// What a spawn of the process at `key` needs: its fcgi socket (opened now if no child
    /// holds it), the actor's handle, whether it is a listener.
    pub(crate) fn spawn_extras(&mut self, key: ProcessKey) -> Result<SpawnExtras, String> {
        let g = &self.groups[key.group];
        let stdin_socket = match self.events.sockets.get_mut(&g.config.name) {
            Some(sock) => Some(sock.acquire()?),
            None => None,
        };
        Ok(SpawnExtras {
            stdin_socket,
            handle: self.handle.clone(),
            listener: matches!(g.config.kind, GroupKind::EventListener(_)),
            env: self.checks_env(key)?,
        })
    }

    /// A spawn of the process at `key` ended: `pid` of the child, `None` when it failed. An
    /// fcgi child holds the socket; a listener starts ACKNOWLEDGED.
    pub(crate) fn events_spawned(&mut self, key: ProcessKey, pid: Option<i32>) {
        let g = &self.groups[key.group];
        let pname = g.processes[key.process].config.name.clone();
        if let Some(sock) = self.events.sockets.get_mut(&g.config.name) {
            match pid {
                Some(pid) => sock.hold(pid),
                None => sock.release(0),
            }
        }
        if pid.is_none() {
            return;
        }
        if let Some(pool) = self.events.bus.pool_mut(&g.config.name) {
            let slot = pool.listeners.entry(pname).or_default();
            slot.protocol = Protocol::new();
            slot.event = None;
        }
    }

    /// The event the listener at `key` was working on, taken when it is reaped (before its
    /// state changes, which may respawn it), for [`Supervisor::events_reaped`].
    pub(crate) fn events_reaping(&mut self, key: ProcessKey) -> Option<Queued> {
        let gname = &self.groups[key.group].config.name;
        let pname = &self.groups[key.group].processes[key.process].config.name;
        self.events
            .bus
            .pool_mut(gname)?
            .listeners
            .get_mut(pname)?
            .event
            .take()
    }

    /// Group `gi`'s child `pid` was reaped (after its state changes): an fcgi child lets go
    /// of the socket; a listener that died with an event gives it back to its pool at the
    /// head (the reference's `EventRejectedEvent`).
    pub(crate) fn events_reaped(&mut self, gi: usize, pid: i32, event: Option<Queued>) {
        let gname = self.groups[gi].config.name.clone();
        if let Some(sock) = self.events.sockets.get_mut(&gname) {
            sock.release(pid);
        }
        if let (Some(q), Some(pool)) = (event, self.events.bus.pool_mut(&gname)) {
            pool.requeue(q);
        }
    }

    /// Bytes a listener wrote to its stdout (sent by its reader task).
    pub fn listener_output(&mut self, group: &str, name: &str, pid: i32, data: &[u8]) {
        log(LogLevel::Debug, &listener::output_log_line(name, data));
        // Output of an earlier incarnation (already reaped) no longer counts.
        let Some(key) = self.find(group, name) else {
            return;
        };
        if self.proc(key).rec.pid != pid {
            return;
        }
        let Some(pool) = self.events.bus.pool_mut(group) else {
            return;
        };
        let Some(slot) = pool.listeners.get_mut(name) else {
            return;
        };
        let outcomes = slot.protocol.feed(name, data);
        let mut requeue = Vec::new();
        for o in outcomes {
            match o {
                Outcome::Log(level, msg) => log(level, &msg),
                Outcome::Done => slot.event = None,
                Outcome::Reject => requeue.extend(slot.event.take()),
            }
        }
        for q in requeue {
            pool.requeue(q);
        }
    }

    /// Send due ticks (only pools that subscribe get any; without them no timer runs).
    pub(crate) fn events_tick(&mut self) {
        self.events.bus.tick(self.host.now());
    }

    /// The indices of the groups that are event listener pools, in no particular order.
    pub(crate) fn pool_groups(&self) -> Vec<usize> {
        let pools = self.events.bus.pools.iter();
        pools.filter_map(|p| self.find_group(&p.name)).collect()
    }

    /// When the next tick is due, if any pool wants ticks.
    pub(crate) fn next_tick(&self) -> Option<f64> {
        self.events.bus.next_tick()
    }

    /// `EventListenerPool.transition` → `dispatch`, for the pool of group `gi` (if it is one):
    /// while some listener is RUNNING and READY, send it the oldest buffered event.
    pub(crate) fn dispatch_events(&mut self, gi: usize) {
        let server = &self.config.supervisord.identifier;
        let Some(group) = self.groups.get_mut(gi) else {
            return;
        };
        let gname = &group.config.name;
        let Some(pool) = self.events.bus.pools.iter_mut().find(|p| &p.name == gname) else {
            return;
        };
        let ready = |pool: &Pool, p: &Process| {
            p.rec.state == ProcessState::Running
                && pool
                    .listeners
                    .get(&p.config.name)
                    .is_some_and(|s| s.protocol.state == ListenerState::Ready)
        };
        if !group.processes.iter().any(|p| ready(pool, p)) {
            return;
        }
        while let Some(q) = pool.buffer.pop_front() {
            let mut sent = false;
            for p in group.processes.iter_mut() {
                if !ready(pool, p) {
                    continue;
                }
                let envelope = q
                    .event
                    .envelope(server, q.serial, &pool.name, q.pool_serial);
                if p.write_stdin(envelope.as_bytes()).is_err() {
                    log(
                        LogLevel::Debug,
                        &format!(
                            "epipe occurred while sending event {} to listener {}, listener state unchanged",
                            q.serial, p.config.name
                        ),
                    );
                    continue;
                }
                log(
                    LogLevel::Debug,
                    &format!("event {} sent to listener {}", q.serial, p.config.name),
                );
                if let Some(slot) = pool.listeners.get_mut(&p.config.name) {
                    slot.protocol.sent();
                    slot.event = Some(q.clone());
                }
                sent = true;
                break;
            }
            if !sent {
                pool.requeue(q);
                break;
            }
        }
    }
}
