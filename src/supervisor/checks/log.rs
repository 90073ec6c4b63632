//! `log:REGEX`: the process is ready when a line of its output (stdout or stderr) matches.
//! The output readers hand each chunk to [`hook`]'s closure (their `on_chunk`); it cuts lines,
//! keeps at most [`MAX_LINE`] bytes of a line not yet ended, and sends the first match to the
//! actor as a message, after which it only passes bytes by.

use crate::config::ProcessConfig;
use crate::config::deps::Check;
use crate::logs::capture::OnChunk;

use super::super::{Msg, Supervisor, SupervisorHandle};
use super::Signal;

/// The longest line matched; a longer one is matched on its first `MAX_LINE` bytes.
pub const MAX_LINE: usize = 4096;

/// Cuts a byte stream into lines and matches them.
pub struct LineMatcher {
    re: regex::Regex,
    partial: Vec<u8>,
    /// The partial line was cut at `MAX_LINE`: skip the rest of it.
    skipping: bool,
}

impl LineMatcher {
    pub fn new(re: regex::Regex) -> LineMatcher {
        LineMatcher {
            re,
            partial: Vec::new(),
            skipping: false,
        }
    }

    /// Feed bytes; the first line that matches, if any.
    pub fn feed(&mut self, mut bytes: &[u8]) -> Option<String> {
        while !bytes.is_empty() {
            let (piece, ended) = match bytes.iter().position(|&b| b == b'\n') {
                Some(i) => (&bytes[..i], Some(i + 1)),
                None => (bytes, None),
            };
            if !self.skipping {
                let room = MAX_LINE - self.partial.len();
                self.partial
                    .extend_from_slice(&piece[..piece.len().min(room)]);
            }
            let full = self.partial.len() >= MAX_LINE;
            if ended.is_some() || (full && !self.skipping) {
                let line = String::from_utf8_lossy(&self.partial).into_owned();
                let line = line.trim_end_matches('\r').to_string();
                self.partial.clear();
                self.skipping = ended.is_none();
                if self.re.is_match(&line) {
                    return Some(line);
                }
            }
            match ended {
                Some(i) => {
                    self.skipping = false;
                    bytes = &bytes[i..];
                }
                None => break,
            }
        }
        None
    }
}

/// The `on_chunk` hook of a process with a `log:` ready check, for its child `pid`.
pub fn hook(handle: &SupervisorHandle, cfg: &ProcessConfig, pid: i32) -> Option<OnChunk> {
    let Some(Check::Log(pattern)) = &cfg.deps.ready_check else {
        return None;
    };
    let mut matcher = LineMatcher::new(pattern.0.clone());
    let mut done = false;
    let (handle, group, name) = (handle.clone(), cfg.group.clone(), cfg.name.clone());
    Some(Box::new(move |bytes: &[u8]| {
        if done {
            return;
        }
        if let Some(line) = matcher.feed(bytes) {
            done = true;
            let (group, name) = (group.clone(), name.clone());
            handle.send(Msg::Call(Box::new(move |s: &mut Supervisor| {
                s.check_signal(&group, &name, pid, Signal::Ready(format!("log: {}", line)))
            })));
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_across_chunks() {
        let mut m = LineMatcher::new(regex::Regex::new("^ready on \\d+$").unwrap());
        assert_eq!(m.feed(b"starting\nready "), None);
        assert_eq!(m.feed(b"on 80"), None);
        assert_eq!(m.feed(b"80\r\nmore"), Some("ready on 8080".into()));
    }

    #[test]
    fn a_long_line_is_matched_on_its_start_and_bounded() {
        let mut m = LineMatcher::new(regex::Regex::new("^x+$").unwrap());
        let long = vec![b'x'; MAX_LINE * 3];
        assert_eq!(m.feed(&long).map(|l| l.len()), Some(MAX_LINE));
        let mut m = LineMatcher::new(regex::Regex::new("^go$").unwrap());
        assert_eq!(m.feed(&vec![b'y'; MAX_LINE + 10]), None);
        assert!(m.partial.len() <= MAX_LINE);
        assert_eq!(m.feed(b"go\ngo\n"), Some("go".into()));
    }
}
