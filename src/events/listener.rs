//! The event listener protocol of one listener process, as the reference's
//! `PEventListenerDispatcher`: a pure state machine over what the listener writes to its
//! stdout (`READY\n`, then `RESULT n\n` followed by n bytes, `OK` or anything else).
//!
//! States: ACKNOWLEDGED (spawned or done with an event, waiting for `READY`), READY (may be
//! sent an event), BUSY (an event was sent, waiting for its result), UNKNOWN (broke the
//! protocol: gets no more events until it is restarted by its own exit). [`Protocol::feed`]
//! takes bytes and returns what the actor must do: log lines, and whether the event in
//! flight is done or must be re-queued (rejected). Nothing here does I/O: a listener's stdout
//! is read by the ordinary pipe reader (`logs::capture::spawn_reader`), whose `on_chunk` hook
//! hands each chunk to the actor.

use crate::config::LogLevel;
use crate::logs::{py_repr_bytes, py_repr_str};

const READY_TOKEN: &[u8] = b"READY\n";
const RESULT_TOKEN_START_LEN: usize = b"RESULT ".len();

/// `EventListenerStates`, with the reference's codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ListenerState {
    Ready = 10,
    Busy = 20,
    Acknowledged = 30,
    Unknown = 40,
}

impl ListenerState {
    pub fn name(self) -> &'static str {
        match self {
            ListenerState::Ready => "READY",
            ListenerState::Busy => "BUSY",
            ListenerState::Acknowledged => "ACKNOWLEDGED",
            ListenerState::Unknown => "UNKNOWN",
        }
    }
}

/// What the actor must do after feeding the protocol.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Log(LogLevel, String),
    /// The event in flight was handled: forget it.
    Done,
    /// The event in flight was rejected (or the result line was bad): put it back at the
    /// head of the pool's buffer.
    Reject,
}

/// One listener's protocol state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Protocol {
    pub state: ListenerState,
    /// Bytes not yet consumed (the reference's `state_buffer`).
    buffer: Vec<u8>,
    /// The result body gathered so far.
    result: Vec<u8>,
    /// The announced result length, once the `RESULT n` line has been read.
    resultlen: Option<usize>,
}

impl Default for Protocol {
    fn default() -> Self {
        Protocol::new()
    }
}

/// Python's `int(bytes)` for a result length: surrounding ASCII whitespace, an optional sign,
/// digits with single underscores between them. `None` when Python would raise ValueError,
/// or for a negative length (which the reference mishandles; treated here as a bad line).
/// Lengths beyond `usize` saturate (such a result never completes, as in the reference).
fn parse_len(raw: &[u8]) -> Option<usize> {
    let s = std::str::from_utf8(raw).ok()?;
    let s = s.trim_matches(|c: char| matches!(c, ' ' | '\t' | '\n' | '\r' | '\x0b' | '\x0c'));
    let (neg, digits) = match s.as_bytes().first()? {
        b'+' => (false, &s[1..]),
        b'-' => (true, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty()
        || digits.starts_with('_')
        || digits.ends_with('_')
        || digits.contains("__")
    {
        return None;
    }
    let mut n: usize = 0;
    for c in digits.chars() {
        match c {
            '_' => continue,
            '0'..='9' => {
                n = n
                    .saturating_mul(10)
                    .saturating_add(c as usize - '0' as usize)
            }
            _ => return None,
        }
    }
    if neg && n != 0 {
        return None;
    }
    Some(n)
}

impl Protocol {
    /// A freshly spawned listener: ACKNOWLEDGED, waiting for `READY`.
    pub fn new() -> Protocol {
        Protocol {
            state: ListenerState::Acknowledged,
            buffer: Vec::new(),
            result: Vec::new(),
            resultlen: None,
        }
    }

    /// An event was written to the listener (the pool sets BUSY without a log line).
    pub fn sent(&mut self) {
        self.state = ListenerState::Busy;
    }

    /// Bytes held back waiting for more input.
    #[cfg(test)]
    pub fn pending(&self) -> usize {
        self.buffer.len() + self.result.len()
    }

    fn change(&mut self, name: &str, to: ListenerState, out: &mut Vec<Outcome>) {
        out.push(Outcome::Log(
            LogLevel::Debug,
            format!("{}: {} -> {}", name, self.state.name(), to.name()),
        ));
        self.state = to;
        if to == ListenerState::Unknown {
            out.push(Outcome::Log(
                LogLevel::Warn,
                format!(
                    "{}: has entered the UNKNOWN state and will no longer receive events, this usually indicates the process violated the eventlistener protocol",
                    name
                ),
            ));
        }
    }

    /// `handle_result` with the default result handler: `OK` acknowledges, anything else rejects.
    fn handle_result(&mut self, name: &str, out: &mut Vec<Outcome>) {
        if self.result == b"OK" {
            out.push(Outcome::Log(
                LogLevel::Debug,
                format!("{}: event was processed", name),
            ));
            self.change(name, ListenerState::Acknowledged, out);
            out.push(Outcome::Done);
        } else {
            out.push(Outcome::Log(
                LogLevel::Warn,
                format!("{}: event was rejected", name),
            ));
            self.change(name, ListenerState::Acknowledged, out);
            out.push(Outcome::Reject);
        }
    }

    /// Take bytes the listener `name` wrote to its stdout (`handle_listener_state_change`).
    pub fn feed(&mut self, name: &str, data: &[u8]) -> Vec<Outcome> {
        let mut out = Vec::new();
        self.buffer.extend_from_slice(data);
        loop {
            if self.buffer.is_empty() {
                break;
            }
            match self.state {
                ListenerState::Unknown => {
                    self.buffer.clear();
                    break;
                }
                ListenerState::Acknowledged => {
                    if self.buffer.len() < READY_TOKEN.len() {
                        break;
                    }
                    if self.buffer.starts_with(READY_TOKEN) {
                        self.change(name, ListenerState::Ready, &mut out);
                        self.buffer.drain(..READY_TOKEN.len());
                    } else {
                        self.change(name, ListenerState::Unknown, &mut out);
                        self.buffer.clear();
                    }
                }
                ListenerState::Ready => {
                    // Spurious data: the reference is strict about it.
                    self.change(name, ListenerState::Unknown, &mut out);
                    self.buffer.clear();
                    break;
                }
                ListenerState::Busy => match self.resultlen {
                    None => {
                        let Some(pos) = self.buffer.iter().position(|&b| b == b'\n') else {
                            break;
                        };
                        let line: Vec<u8> = self.buffer.drain(..=pos).take(pos).collect();
                        let raw = &line[RESULT_TOKEN_START_LEN.min(line.len())..];
                        match parse_len(raw) {
                            Some(n) => self.resultlen = Some(n),
                            None => {
                                let shown = match std::str::from_utf8(&line) {
                                    Ok(s) => s.to_string(),
                                    Err(_) => format!("Undecodable: {}", py_repr_bytes(&line)),
                                };
                                out.push(Outcome::Log(
                                    LogLevel::Warn,
                                    format!("{}: bad result line: '{}'", name, shown),
                                ));
                                self.change(name, ListenerState::Unknown, &mut out);
                                self.buffer.clear();
                                out.push(Outcome::Reject);
                                break;
                            }
                        }
                    }
                    Some(len) => {
                        let needed = len - self.result.len();
                        let take = needed.min(self.buffer.len());
                        self.result.extend(self.buffer.drain(..take));
                        if self.result.len() == len {
                            self.handle_result(name, &mut out);
                            self.result.clear();
                            self.resultlen = None;
                        }
                    }
                },
            }
        }
        out
    }
}

/// The main log's DEBG line for listener output: the reference prints the raw bytes' repr.
pub fn output_log_line(name: &str, data: &[u8]) -> String {
    format!(
        "{} stdout output:\n{}",
        py_repr_str(name),
        py_repr_bytes(data)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use ListenerState as L;

    fn logs(out: &[Outcome]) -> Vec<String> {
        out.iter()
            .filter_map(|o| match o {
                Outcome::Log(_, m) => Some(m.clone()),
                _ => None,
            })
            .collect()
    }

    fn flags(out: &[Outcome]) -> Vec<Outcome> {
        out.iter()
            .filter(|o| !matches!(o, Outcome::Log(..)))
            .cloned()
            .collect()
    }

    #[test]
    fn ready_then_ok() {
        let mut p = Protocol::new();
        assert!(p.feed("l", b"REA").is_empty());
        let out = p.feed("l", b"DY\n");
        assert_eq!(logs(&out), vec!["l: ACKNOWLEDGED -> READY"]);
        assert_eq!(p.state, L::Ready);
        p.sent();
        assert!(p.feed("l", b"RESULT 2").is_empty());
        assert!(p.feed("l", b"\nO").is_empty());
        let out = p.feed("l", b"KREADY\n");
        assert_eq!(
            logs(&out),
            vec![
                "l: event was processed",
                "l: BUSY -> ACKNOWLEDGED",
                "l: ACKNOWLEDGED -> READY"
            ]
        );
        assert_eq!(flags(&out), vec![Outcome::Done]);
        assert_eq!(p.state, L::Ready);
        assert_eq!(p.pending(), 0);
    }

    #[test]
    fn fail_is_rejected() {
        let mut p = Protocol::new();
        p.feed("l", b"READY\n");
        p.sent();
        let out = p.feed("l", b"RESULT 4\nFAILREADY\n");
        assert_eq!(logs(&out)[0], "l: event was rejected");
        assert_eq!(flags(&out), vec![Outcome::Reject]);
        assert_eq!(p.state, L::Ready);
    }

    #[test]
    fn garbage_goes_unknown() {
        let mut p = Protocol::new();
        let out = p.feed("l", b"hello world\n");
        assert_eq!(
            logs(&out),
            vec![
                "l: ACKNOWLEDGED -> UNKNOWN".to_string(),
                "l: has entered the UNKNOWN state and will no longer receive events, this usually indicates the process violated the eventlistener protocol".to_string()
            ]
        );
        assert_eq!(p.state, L::Unknown);
        assert!(p.feed("l", b"READY\n").is_empty());
        assert_eq!(p.state, L::Unknown);
        // Spurious data while READY.
        let mut p = Protocol::new();
        p.feed("l", b"READY\n");
        let out = p.feed("l", b"x");
        assert_eq!(logs(&out)[0], "l: READY -> UNKNOWN");
        assert!(flags(&out).is_empty());
    }

    #[test]
    fn bad_result_line_rejects() {
        let mut p = Protocol::new();
        p.feed("l", b"READY\n");
        p.sent();
        let out = p.feed("l", b"RESULT x\nOK");
        assert_eq!(logs(&out)[0], "l: bad result line: 'RESULT x'");
        assert_eq!(logs(&out)[1], "l: BUSY -> UNKNOWN");
        assert_eq!(flags(&out), vec![Outcome::Reject]);
        assert_eq!(p.pending(), 0);
        let mut p = Protocol::new();
        p.feed("l", b"READY\n");
        p.sent();
        let out = p.feed("l", b"\xff\xfe\n");
        assert_eq!(
            logs(&out)[0],
            "l: bad result line: 'Undecodable: b'\\xff\\xfe''"
        );
        let mut p = Protocol::new();
        p.feed("l", b"READY\n");
        p.sent();
        assert_eq!(flags(&p.feed("l", b"RESULT -1\n")), vec![Outcome::Reject]);
    }

    #[test]
    fn result_length_like_python_int() {
        assert_eq!(parse_len(b"2"), Some(2));
        assert_eq!(parse_len(b" +2 "), Some(2));
        assert_eq!(parse_len(b"1_0"), Some(10));
        assert_eq!(parse_len(b"-0"), Some(0));
        assert_eq!(parse_len(b""), None);
        assert_eq!(parse_len(b"1__0"), None);
        assert_eq!(parse_len(b"0x1"), None);
        assert_eq!(parse_len(b"99999999999999999999999999"), Some(usize::MAX));
        // The prefix is not checked, as in the reference.
        let mut p = Protocol::new();
        p.feed("l", b"READY\n");
        p.sent();
        let out = p.feed("l", b"XXXXXXX2\nOK");
        assert_eq!(flags(&out), vec![Outcome::Done]);
    }

    #[test]
    fn zero_length_result_waits_for_more_input() {
        let mut p = Protocol::new();
        p.feed("l", b"READY\n");
        p.sent();
        assert!(p.feed("l", b"RESULT 0\n").is_empty());
        assert_eq!(p.state, L::Busy);
        let out = p.feed("l", b"READY\n");
        assert_eq!(flags(&out), vec![Outcome::Reject]);
        assert_eq!(p.state, L::Ready);
    }

    #[test]
    fn huge_and_partial_input_never_panics() {
        let mut p = Protocol::new();
        p.feed("l", b"READY\n");
        p.sent();
        let big = vec![b'z'; 1 << 20];
        assert!(p.feed("l", &big).is_empty());
        assert!(p.feed("l", b"").is_empty());
        let out = p.feed("l", b"\n");
        assert_eq!(flags(&out), vec![Outcome::Reject]);
        let mut p = Protocol::new();
        p.feed("l", b"READY\n");
        p.sent();
        assert!(p.feed("l", b"RESULT 99999999999999999999999\n").is_empty());
        assert!(p.feed("l", &big).is_empty());
        for chunk in [&b"\n"[..], b"\0", b"RESULT", b"\r\n"] {
            let _ = Protocol::new().feed("l", chunk);
        }
    }

    #[test]
    fn output_line_shows_bytes_repr() {
        assert_eq!(
            output_log_line("lis", b"READY\n"),
            "'lis' stdout output:\nb'READY\\n'"
        );
    }
}
