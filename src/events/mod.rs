//! Events, as supervisor 4.2.5's `supervisor.events`: the event types (with the reference's
//! names and parent types, so a pool subscribed to `PROCESS_STATE` gets every
//! `PROCESS_STATE_*`), the payload text of each event, and the envelope a listener receives
//! (`ver:3.0 server:... serial:... pool:... poolserial:... eventname:... len:...\n` + payload).
//!
//! Payloads are rendered when the event is made, as the reference renders its extra values
//! eagerly, so a pid or a retry count is the one of the moment the event happened.
//!
//! Submodules: [`bus`] (subscriptions, pool buffers, serials), [`listener`] (the READY /
//! RESULT protocol of one listener, a pure state machine), [`fcgi`] (the shared socket of a
//! `[fcgi-program:x]` group). The module is a leaf: it knows nothing of the supervisor actor,
//! which feeds and drives it (`supervisor::hooks`).

pub mod bus;
pub mod fcgi;
pub mod listener;

use crate::logs::capture::Channel;
use crate::logs::py_repr_bytes;

/// Every event type of 4.2.5 (`EventTypes`), concrete and abstract.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EventType {
    Event,
    ProcessState,
    ProcessStateStopped,
    ProcessStateExited,
    ProcessStateStarting,
    ProcessStateStopping,
    ProcessStateBackoff,
    ProcessStateFatal,
    ProcessStateRunning,
    ProcessStateUnknown,
    ProcessCommunication,
    ProcessCommunicationStdout,
    ProcessCommunicationStderr,
    ProcessLog,
    ProcessLogStdout,
    ProcessLogStderr,
    RemoteCommunication,
    SupervisorStateChange,
    SupervisorStateChangeRunning,
    SupervisorStateChangeStopping,
    Tick,
    Tick5,
    Tick60,
    Tick3600,
    ProcessGroup,
    ProcessGroupAdded,
    ProcessGroupRemoved,
}

use EventType as T;

impl EventType {
    pub const ALL: [EventType; 27] = [
        T::Event,
        T::ProcessState,
        T::ProcessStateStopped,
        T::ProcessStateExited,
        T::ProcessStateStarting,
        T::ProcessStateStopping,
        T::ProcessStateBackoff,
        T::ProcessStateFatal,
        T::ProcessStateRunning,
        T::ProcessStateUnknown,
        T::ProcessCommunication,
        T::ProcessCommunicationStdout,
        T::ProcessCommunicationStderr,
        T::ProcessLog,
        T::ProcessLogStdout,
        T::ProcessLogStderr,
        T::RemoteCommunication,
        T::SupervisorStateChange,
        T::SupervisorStateChangeRunning,
        T::SupervisorStateChangeStopping,
        T::Tick,
        T::Tick5,
        T::Tick60,
        T::Tick3600,
        T::ProcessGroup,
        T::ProcessGroupAdded,
        T::ProcessGroupRemoved,
    ];

    /// The name in `events=` and in the envelope's `eventname:`.
    pub fn name(self) -> &'static str {
        match self {
            T::Event => "EVENT",
            T::ProcessState => "PROCESS_STATE",
            T::ProcessStateStopped => "PROCESS_STATE_STOPPED",
            T::ProcessStateExited => "PROCESS_STATE_EXITED",
            T::ProcessStateStarting => "PROCESS_STATE_STARTING",
            T::ProcessStateStopping => "PROCESS_STATE_STOPPING",
            T::ProcessStateBackoff => "PROCESS_STATE_BACKOFF",
            T::ProcessStateFatal => "PROCESS_STATE_FATAL",
            T::ProcessStateRunning => "PROCESS_STATE_RUNNING",
            T::ProcessStateUnknown => "PROCESS_STATE_UNKNOWN",
            T::ProcessCommunication => "PROCESS_COMMUNICATION",
            T::ProcessCommunicationStdout => "PROCESS_COMMUNICATION_STDOUT",
            T::ProcessCommunicationStderr => "PROCESS_COMMUNICATION_STDERR",
            T::ProcessLog => "PROCESS_LOG",
            T::ProcessLogStdout => "PROCESS_LOG_STDOUT",
            T::ProcessLogStderr => "PROCESS_LOG_STDERR",
            T::RemoteCommunication => "REMOTE_COMMUNICATION",
            T::SupervisorStateChange => "SUPERVISOR_STATE_CHANGE",
            T::SupervisorStateChangeRunning => "SUPERVISOR_STATE_CHANGE_RUNNING",
            T::SupervisorStateChangeStopping => "SUPERVISOR_STATE_CHANGE_STOPPING",
            T::Tick => "TICK",
            T::Tick5 => "TICK_5",
            T::Tick60 => "TICK_60",
            T::Tick3600 => "TICK_3600",
            T::ProcessGroup => "PROCESS_GROUP",
            T::ProcessGroupAdded => "PROCESS_GROUP_ADDED",
            T::ProcessGroupRemoved => "PROCESS_GROUP_REMOVED",
        }
    }

    pub fn from_name(name: &str) -> Option<EventType> {
        EventType::ALL.iter().copied().find(|t| t.name() == name)
    }

    /// The parent type (the Python base class), `None` for `EVENT`.
    pub fn parent(self) -> Option<EventType> {
        Some(match self {
            T::Event => return None,
            T::ProcessState
            | T::ProcessCommunication
            | T::ProcessLog
            | T::RemoteCommunication
            | T::SupervisorStateChange
            | T::Tick
            | T::ProcessGroup => T::Event,
            T::ProcessStateStopped
            | T::ProcessStateExited
            | T::ProcessStateStarting
            | T::ProcessStateStopping
            | T::ProcessStateBackoff
            | T::ProcessStateFatal
            | T::ProcessStateRunning
            | T::ProcessStateUnknown => T::ProcessState,
            T::ProcessCommunicationStdout | T::ProcessCommunicationStderr => {
                T::ProcessCommunication
            }
            T::ProcessLogStdout | T::ProcessLogStderr => T::ProcessLog,
            T::SupervisorStateChangeRunning | T::SupervisorStateChangeStopping => {
                T::SupervisorStateChange
            }
            T::Tick5 | T::Tick60 | T::Tick3600 => T::Tick,
            T::ProcessGroupAdded | T::ProcessGroupRemoved => T::ProcessGroup,
        })
    }

    /// `isinstance(event, subscribed)`: this type is `subscribed` or one of its subtypes.
    pub fn is_a(self, subscribed: EventType) -> bool {
        let mut t = Some(self);
        while let Some(x) = t {
            if x == subscribed {
                return true;
            }
            t = x.parent();
        }
        false
    }
}

/// One event: its concrete type and its rendered payload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    pub etype: EventType,
    pub payload: String,
}

/// `as_string(data)`, or the reference's `Undecodable: b'...'` for bytes that are not UTF-8.
fn text_of(data: &[u8]) -> String {
    match std::str::from_utf8(data) {
        Ok(s) => s.to_string(),
        Err(_) => format!("Undecodable: {}", py_repr_bytes(data)),
    }
}

impl Event {
    /// `PROCESS_STATE_*`: `processname:x groupname:g from_state:S` plus, by type, `tries:N`
    /// (STARTING, BACKOFF), `expected:0|1 pid:N` (EXITED) or `pid:N` (RUNNING, STOPPING,
    /// STOPPED). `from` is the name of the state left; `to` the `PROCESS_STATE_*` type of the
    /// state entered.
    pub fn process_state(
        name: &str,
        group: &str,
        from: &str,
        to: EventType,
        expected: bool,
        pid: i32,
        tries: u32,
    ) -> Event {
        let mut payload = format!(
            "processname:{} groupname:{} from_state:{}",
            name, group, from
        );
        match to {
            T::ProcessStateStarting | T::ProcessStateBackoff => {
                payload.push_str(&format!(" tries:{}", tries))
            }
            T::ProcessStateExited => {
                payload.push_str(&format!(" expected:{} pid:{}", expected as i32, pid))
            }
            T::ProcessStateRunning | T::ProcessStateStopping | T::ProcessStateStopped => {
                payload.push_str(&format!(" pid:{}", pid))
            }
            _ => {}
        }
        Event { etype: to, payload }
    }

    /// `PROCESS_LOG_STDOUT` / `PROCESS_LOG_STDERR`.
    pub fn process_log(name: &str, group: &str, pid: i32, channel: Channel, data: &[u8]) -> Event {
        let etype = match channel {
            Channel::Stdout => T::ProcessLogStdout,
            Channel::Stderr => T::ProcessLogStderr,
        };
        let payload = format!(
            "processname:{} groupname:{} pid:{} channel:{}\n{}",
            name,
            group,
            pid,
            channel.as_str(),
            text_of(data)
        );
        Event { etype, payload }
    }

    /// `PROCESS_COMMUNICATION_STDOUT` / `PROCESS_COMMUNICATION_STDERR`.
    pub fn process_communication(
        name: &str,
        group: &str,
        pid: i32,
        channel: Channel,
        data: &[u8],
    ) -> Event {
        let etype = match channel {
            Channel::Stdout => T::ProcessCommunicationStdout,
            Channel::Stderr => T::ProcessCommunicationStderr,
        };
        let payload = format!(
            "processname:{} groupname:{} pid:{}\n{}",
            name,
            group,
            pid,
            text_of(data)
        );
        Event { etype, payload }
    }

    /// `REMOTE_COMMUNICATION` (`supervisor.sendRemoteCommEvent`).
    pub fn remote_communication(kind: &str, data: &str) -> Event {
        Event {
            etype: T::RemoteCommunication,
            payload: format!("type:{}\n{}", kind, data),
        }
    }

    /// `SUPERVISOR_STATE_CHANGE_RUNNING` / `_STOPPING` (empty payload).
    pub fn supervisor_state(running: bool) -> Event {
        let etype = if running {
            T::SupervisorStateChangeRunning
        } else {
            T::SupervisorStateChangeStopping
        };
        Event {
            etype,
            payload: String::new(),
        }
    }

    /// `PROCESS_GROUP_ADDED` / `PROCESS_GROUP_REMOVED`.
    pub fn group(added: bool, group: &str) -> Event {
        let etype = if added {
            T::ProcessGroupAdded
        } else {
            T::ProcessGroupRemoved
        };
        Event {
            etype,
            payload: format!("groupname:{}\n", group),
        }
    }

    /// `TICK_5` / `TICK_60` / `TICK_3600`; `when` is the start of the period's time slice.
    pub fn tick(etype: EventType, when: i64) -> Event {
        Event {
            etype,
            payload: format!("when:{}", when),
        }
    }

    /// The envelope a listener reads: header line, then the payload. `len` counts characters
    /// (the reference measures the payload as a `str`).
    pub fn envelope(&self, server: &str, serial: u64, pool: &str, pool_serial: u64) -> String {
        format!(
            "ver:3.0 server:{} serial:{} pool:{} poolserial:{} eventname:{} len:{}\n{}",
            server,
            serial,
            pool,
            pool_serial,
            self.etype.name(),
            self.payload.chars().count(),
            self.payload
        )
    }
}

/// The tick types with their periods, in the order the reference sends them.
pub const TICKS: [(EventType, i64); 3] = [(T::Tick5, 5), (T::Tick60, 60), (T::Tick3600, 3600)];

/// `timeslice(period, when)`: the start of the period containing `when`.
pub fn timeslice(period: i64, when: f64) -> i64 {
    let w = when.floor() as i64;
    w - w.rem_euclid(period)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_parents() {
        for t in EventType::ALL {
            assert_eq!(EventType::from_name(t.name()), Some(t));
            assert!(t.is_a(T::Event));
        }
        assert_eq!(EventType::from_name("NOPE"), None);
        assert!(T::ProcessStateRunning.is_a(T::ProcessState));
        assert!(!T::ProcessStateRunning.is_a(T::ProcessLog));
        assert!(T::Tick60.is_a(T::Tick));
        assert!(!T::Tick.is_a(T::Tick60));
        assert!(T::ProcessGroupRemoved.is_a(T::ProcessGroup));
        assert!(T::SupervisorStateChangeStopping.is_a(T::SupervisorStateChange));
        assert!(T::ProcessCommunicationStderr.is_a(T::ProcessCommunication));
        assert!(T::RemoteCommunication.is_a(T::RemoteCommunication));
    }

    #[test]
    fn state_payloads() {
        let e = Event::process_state("p", "g", "STOPPED", T::ProcessStateStarting, true, 0, 0);
        assert_eq!(e.etype, T::ProcessStateStarting);
        assert_eq!(
            e.payload,
            "processname:p groupname:g from_state:STOPPED tries:0"
        );
        let e = Event::process_state("p", "g", "STARTING", T::ProcessStateBackoff, true, 0, 2);
        assert_eq!(
            e.payload,
            "processname:p groupname:g from_state:STARTING tries:2"
        );
        let e = Event::process_state("p", "g", "RUNNING", T::ProcessStateExited, false, 42, 0);
        assert_eq!(
            e.payload,
            "processname:p groupname:g from_state:RUNNING expected:0 pid:42"
        );
        let e = Event::process_state("p", "g", "STARTING", T::ProcessStateRunning, true, 42, 0);
        assert_eq!(
            e.payload,
            "processname:p groupname:g from_state:STARTING pid:42"
        );
        let e = Event::process_state("p", "g", "BACKOFF", T::ProcessStateFatal, true, 0, 0);
        assert_eq!(
            (e.etype, e.payload.as_str()),
            (
                T::ProcessStateFatal,
                "processname:p groupname:g from_state:BACKOFF"
            )
        );
        let e = Event::process_state("p", "g", "STOPPING", T::ProcessStateStopped, true, 7, 0);
        assert_eq!(
            e.payload,
            "processname:p groupname:g from_state:STOPPING pid:7"
        );
    }

    #[test]
    fn other_payloads_and_envelope() {
        let e = Event::process_log("p", "g", 5, Channel::Stderr, b"hi\n");
        assert_eq!(e.etype, T::ProcessLogStderr);
        assert_eq!(
            e.payload,
            "processname:p groupname:g pid:5 channel:stderr\nhi\n"
        );
        let e = Event::process_log("p", "g", 5, Channel::Stdout, b"\xff");
        assert_eq!(
            e.payload,
            "processname:p groupname:g pid:5 channel:stdout\nUndecodable: b'\\xff'"
        );
        let e = Event::process_communication("p", "g", 5, Channel::Stdout, b"comm");
        assert_eq!(
            (e.etype, e.payload.as_str()),
            (
                T::ProcessCommunicationStdout,
                "processname:p groupname:g pid:5\ncomm"
            )
        );
        assert_eq!(
            Event::remote_communication("tp", "dáta").payload,
            "type:tp\ndáta"
        );
        assert_eq!(Event::group(true, "g").payload, "groupname:g\n");
        assert_eq!(Event::group(false, "g").etype, T::ProcessGroupRemoved);
        assert_eq!(Event::supervisor_state(false).payload, "");
        assert_eq!(Event::tick(T::Tick5, 1795536400).payload, "when:1795536400");
        let env = Event::remote_communication("tp", "dáta").envelope("supervisor", 17, "lis", 3);
        assert_eq!(
            env,
            "ver:3.0 server:supervisor serial:17 pool:lis poolserial:3 eventname:REMOTE_COMMUNICATION len:12\ntype:tp\ndáta"
        );
    }

    #[test]
    fn timeslices() {
        assert_eq!(timeslice(5, 1795536403.7), 1795536400);
        assert_eq!(timeslice(60, 1795536403.7), 1795536360);
        assert_eq!(timeslice(3600, 7200.0), 7200);
    }
}
