//! Child output capture: an [`OutputSink`] per (process, stream) that does what supervisor's
//! `POutputDispatcher` does with the bytes a child writes: strip ANSI escapes (`strip_ansi`),
//! append to the stream's log file (and syslog), echo into the main log at DEBG
//! (`'x' stdout output:\n...`), collect text between `<!--XSUPERVISOR:BEGIN-->` and
//! `<!--XSUPERVISOR:END-->` in capture mode (handed to `on_communication`), and hand each
//! logged chunk to `on_log` (PROCESS_LOG events). [`spawn_reader`] is the tokio task that pumps
//! a child's pipe into a sink: when nothing but a regular log file wants the bytes
//! ([`OutputSink::can_splice`]) it moves them from the pipe into the file with `splice(2)`,
//! never copying them through the daemon, and reads them into [`OutputSink::feed`] otherwise.
//! The reader task lives in `capture/reader.rs`; AUTO log names in `childlogdir` and their
//! cleanup in `capture/auto.rs`.

use std::io;
use std::os::fd::RawFd;
use std::path::Path;
use std::sync::Mutex;

use tokio::sync::watch;

use crate::config::{LogLevel, LogTarget, StreamLogConfig, SupervisordConfig};
use crate::logs::rotate::RotatingFile;
use crate::logs::{py_repr_bytes, py_repr_str};

mod auto;
mod reader;
#[cfg(test)]
pub(crate) mod tests;

pub use auto::{clean_auto_child_logs, resolve_child_log_path};
pub use reader::{OnChunk, spawn_reader};

/// Start of a PROCESS_COMMUNICATION payload in child output.
pub const BEGIN_TOKEN: &[u8] = b"<!--XSUPERVISOR:BEGIN-->";
/// End of a PROCESS_COMMUNICATION payload.
pub const END_TOKEN: &[u8] = b"<!--XSUPERVISOR:END-->";

/// Which of a child's output streams a sink serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Channel {
    Stdout,
    Stderr,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Stdout => "stdout",
            Channel::Stderr => "stderr",
        }
    }
}

/// Hook receiving a finished PROCESS_COMMUNICATION payload.
pub type CommunicationHook = Box<dyn FnMut(Vec<u8>) + Send>;
/// Hook receiving each chunk as logged (after ANSI stripping), for PROCESS_LOG events.
pub type LogHook = Box<dyn FnMut(&[u8]) + Send>;

/// `dispatchers.stripEscapes`: drop `ESC [` ... up to and including the first terminator
/// letter; an unterminated escape drops the rest of the chunk.
pub fn strip_ansi(s: &[u8]) -> Vec<u8> {
    const TERMINATORS: &[u8] = b"HfABCDRsuJKhlpm";
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        match memfind(&s[i..], b"\x1b[") {
            None => {
                out.extend_from_slice(&s[i..]);
                break;
            }
            Some(n) => {
                out.extend_from_slice(&s[i..i + n]);
                // Skip the ESC, then everything up to and including a terminator.
                let mut j = i + n + 1;
                while j < s.len() && !TERMINATORS.contains(&s[j]) {
                    j += 1;
                }
                i = j + 1;
            }
        }
    }
    out
}

fn memfind(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || hay.len() < needle.len() {
        return None;
    }
    let last = hay.len() - needle.len();
    let mut start = 0;
    while start <= last {
        let p = hay[start..=last].iter().position(|&b| b == needle[0])?;
        let at = start + p;
        if hay[at..].starts_with(needle) {
            return Some(at);
        }
        start = at + 1;
    }
    None
}

/// `asynchat.find_prefix_at_end`: the length of the longest proper prefix of `needle` that
/// `hay` ends with.
fn prefix_at_end(hay: &[u8], needle: &[u8]) -> usize {
    let mut l = needle.len().saturating_sub(1);
    while l > 0 && !hay.ends_with(&needle[..l]) {
        l -= 1;
    }
    l
}

/// Where one stream of one process goes. Owned by the process actor, shared with the reader
/// task through `Arc<Mutex<_>>`. A new sink starts in normal (non-capture) mode.
pub struct OutputSink {
    process_name: String,
    channel: Channel,
    file: Option<RotatingFile>,
    syslog: bool,
    strip_ansi: bool,
    log_to_mainlog: bool,
    events_enabled: bool,
    capture_maxbytes: u64,
    capture_mode: bool,
    /// The reference's BoundIO capture log.
    capture_buf: Vec<u8>,
    /// Bytes waiting for a token decision (capture only).
    pending: Vec<u8>,
    written: watch::Sender<u64>,
    /// Lines of output reformatted per `logformat=` (raw by default: bytes pass untouched).
    formatter: super::format::LineFormatter,
    write_failed: bool,
    /// A splice failed (e.g. `EINVAL` from a file system without splice support): this sink
    /// takes the copy path from then on.
    splice_failed: bool,
    /// The file is an `AUTO` log in `childlogdir`, named by us and written by nobody else: the
    /// only kind of file we splice into (see [`can_splice`](Self::can_splice)).
    auto_file: bool,
    /// Called with each finished PROCESS_COMMUNICATION payload (capture mode).
    pub on_communication: Option<CommunicationHook>,
    /// Called with each logged chunk when `events_enabled` (PROCESS_LOG_STDOUT/STDERR).
    pub on_log: Option<LogHook>,
}

impl std::fmt::Debug for OutputSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OutputSink")
            .field("process_name", &self.process_name)
            .field("channel", &self.channel)
            .field("file", &self.file.as_ref().map(|f| f.path().to_path_buf()))
            .field("capture_mode", &self.capture_mode)
            .finish()
    }
}

impl OutputSink {
    /// A sink for `process_name`'s `channel`. `logfile` is the resolved log path (see
    /// [`resolve_child_log_path`]; `None` for no file); the rest comes from the stream's
    /// settings and `[supervisord]` (`strip_ansi`, and `loglevel` for the DEBG echo).
    pub fn new(
        process_name: &str,
        channel: Channel,
        stream: &StreamLogConfig,
        logfile: Option<&Path>,
        sup: &SupervisordConfig,
    ) -> io::Result<Self> {
        let file = match logfile {
            Some(p) => Some(RotatingFile::open(
                p,
                stream.logfile_maxbytes,
                stream.logfile_backups,
            )?),
            None => None,
        };
        Ok(OutputSink {
            process_name: process_name.to_owned(),
            channel,
            file,
            syslog: stream.syslog,
            strip_ansi: sup.strip_ansi,
            log_to_mainlog: sup.loglevel >= LogLevel::Debug,
            events_enabled: stream.events_enabled,
            capture_maxbytes: stream.capture_maxbytes,
            capture_mode: false,
            capture_buf: Vec::new(),
            pending: Vec::new(),
            written: watch::Sender::new(0),
            formatter: super::format::LineFormatter::new(
                Default::default(),
                process_name,
                channel.as_str(),
            ),
            write_failed: false,
            splice_failed: false,
            auto_file: matches!(stream.logfile, LogTarget::Auto),
            on_communication: None,
            on_log: None,
        })
    }

    pub fn channel(&self) -> Channel {
        self.channel
    }

    /// The log file's path, if this stream has one.
    pub fn path(&self) -> Option<&Path> {
        self.file.as_ref().map(|f| f.path())
    }

    /// Total bytes written to the log file by this sink so far.
    pub fn bytes_written(&self) -> u64 {
        *self.written.borrow()
    }

    /// A receiver that changes on every write to the log file (value: total bytes ever written,
    /// monotonic; also marked changed on `clear`), so a `/logtail` stream can follow without
    /// polling: on each change, re-check the file's size and read what is new.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.written.subscribe()
    }

    /// `logformat=` of the program (beyond the reference): how lines are written to the file.
    pub fn set_format(&mut self, format: crate::config::OutputFormat) {
        self.formatter =
            super::format::LineFormatter::new(format, &self.process_name, self.channel.as_str());
    }

    /// Take in bytes the child wrote (`POutputDispatcher.handle_read_event` + `record_output`).
    pub fn feed(&mut self, data: &[u8]) {
        if self.capture_maxbytes == 0 {
            self.log(data);
            return;
        }
        self.pending.extend_from_slice(data);
        self.record_output();
    }

    /// The child's end of the pipe closed: log what is still held back waiting for a token
    /// (the reference leaves such a tail of at most a token's length unlogged), then close the
    /// log file: nothing more can come through this sink, and a stopped program holds no
    /// descriptor on its logs (the next spawn opens them again, through a new sink). The sink
    /// itself stays until then, for `/logtail` followers, `clearProcessLogs`, SIGUSR2 and
    /// `/metrics`.
    pub fn finish(&mut self) {
        let rest = std::mem::take(&mut self.pending);
        self.log(&rest);
        let last = self.formatter.flush();
        if let Some(f) = self.file.as_mut() {
            if !last.is_empty() && f.write(&last).is_ok() {
                self.written.send_modify(|n| *n += last.len() as u64);
            }
            f.close();
        }
    }

    /// Whether the sink holds a descriptor on its log file.
    #[cfg(test)]
    pub fn is_open(&self) -> bool {
        self.file.as_ref().is_some_and(|f| f.is_open())
    }

    fn record_output(&mut self) {
        loop {
            let token = if self.capture_mode {
                END_TOKEN
            } else {
                BEGIN_TOKEN
            };
            if self.pending.len() <= token.len() {
                return;
            }
            let mut data = std::mem::take(&mut self.pending);
            match memfind(&data, token) {
                Some(i) => {
                    let after = data.split_off(i + token.len());
                    data.truncate(i);
                    self.log(&data);
                    self.toggle_capture_mode();
                    self.pending = after;
                    if self.pending.is_empty() {
                        return;
                    }
                }
                None => {
                    let keep = prefix_at_end(&data, token);
                    if keep > 0 {
                        self.pending = data.split_off(data.len() - keep);
                    }
                    self.log(&data);
                    return;
                }
            }
        }
    }

    fn toggle_capture_mode(&mut self) {
        self.capture_mode = !self.capture_mode;
        if !self.capture_mode {
            let payload = std::mem::take(&mut self.capture_buf);
            if let Some(hook) = self.on_communication.as_mut() {
                hook(payload);
            }
            crate::log_debug!(
                "{} {} emitted a comm event",
                py_repr_str(&self.process_name),
                self.channel.as_str()
            );
        }
    }

    /// `POutputDispatcher._log`.
    fn log(&mut self, data: &[u8]) {
        if data.is_empty() {
            return;
        }
        let stripped;
        let data = if self.strip_ansi {
            stripped = strip_ansi(data);
            &stripped[..]
        } else {
            data
        };
        if self.capture_mode {
            // BoundIO.write, quirk included: when full, drop as many leading bytes as arrive.
            if (self.capture_buf.len() + data.len()) as u64 > self.capture_maxbytes {
                let drop = data.len().min(self.capture_buf.len());
                self.capture_buf.drain(..drop);
            }
            self.capture_buf.extend_from_slice(data);
        } else {
            let formatted;
            let file_data = if self.formatter.is_raw() {
                data
            } else {
                formatted = self.formatter.feed(data);
                &formatted[..]
            };
            if let Some(f) = self.file.as_mut().filter(|_| !file_data.is_empty()) {
                match f.write(file_data) {
                    Ok(()) => {
                        self.write_failed = false;
                        self.written.send_modify(|n| *n += file_data.len() as u64);
                    }
                    Err(e) => self.write_error(e),
                }
            }
            if self.syslog {
                super::syslog::child_output(&self.process_name, self.channel.as_str(), data);
            }
        }
        if self.log_to_mainlog {
            let text = match std::str::from_utf8(data) {
                Ok(t) => std::borrow::Cow::Borrowed(t),
                Err(_) => std::borrow::Cow::Owned(format!("Undecodable: {}", py_repr_bytes(data))),
            };
            crate::log_debug!(
                "{} {} output:\n{}",
                py_repr_str(&self.process_name),
                self.channel.as_str(),
                text
            );
        }
        if self.events_enabled
            && let Some(hook) = self.on_log.as_mut()
        {
            hook(data);
        }
    }

    /// Log a failed write (or rotation) of the log file once, until a write succeeds again.
    fn write_error(&mut self, e: io::Error) {
        if !self.write_failed {
            crate::log_error!(
                "could not write {} log of {} to {}: {}",
                self.channel.as_str(),
                py_repr_str(&self.process_name),
                self.path()
                    .map(|p| p.display().to_string())
                    .unwrap_or_default(),
                e
            );
        }
        self.write_failed = true;
    }

    /// Whether nothing but the log file wants this stream's bytes, so that they may go from
    /// the pipe straight into it ([`splice_from`](Self::splice_from)): the file is a regular
    /// `AUTO` log file (not a pipe, tty, `/dev/stdout`...), no capture mode (`capture_maxbytes`
    /// 0, so no token search and no PROCESS_COMMUNICATION), no PROCESS_LOG events, no
    /// `strip_ansi`, raw `logformat`, no syslog, no DEBG echo into the main log (`loglevel`
    /// above debug), and no splice failed on this sink before.
    ///
    /// Only `AUTO` files: the kernel does not splice into an `O_APPEND` file, so splicing
    /// writes at the end it found by seeking, and a line another process appended in between
    /// would be overwritten. A path the user names may be shared that way (the tutorial's
    /// monitor logs into the file that holds its stdout); an `AUTO` file, with its random name
    /// in `childlogdir`, is ours alone. Named files keep `O_APPEND` and the copy path.
    pub fn can_splice(&self) -> bool {
        !self.splice_failed
            && self.auto_file
            && self.capture_maxbytes == 0
            && !self.events_enabled
            && !self.strip_ansi
            && !self.syslog
            && !self.log_to_mainlog
            && self.formatter.is_raw()
            && self.file.as_ref().is_some_and(|f| f.is_regular())
    }

    /// The zero-copy form of [`feed`](Self::feed) for a pipe: move up to `max` bytes that the
    /// non-blocking pipe `pipe` holds (fewer near the rollover point, see
    /// [`chunk_len`](Self::chunk_len)) into the log file with one `splice(2)`, rotating as
    /// `feed` would. `None` when the bytes must be read and fed instead:
    /// [`can_splice`](Self::can_splice) is false, or the splice failed (nothing was taken from
    /// the pipe, and this sink does not try again). Otherwise the bytes moved (0: end of
    /// input) or `WouldBlock` when the pipe is empty.
    pub fn splice_from(&mut self, pipe: RawFd, max: usize) -> Option<io::Result<usize>> {
        if !self.can_splice() {
            return None;
        }
        let max = self.chunk_len(max);
        let (moved, rotated) = self.file.as_mut()?.splice_from(pipe, max);
        match moved {
            Ok(n) => {
                if n > 0 {
                    self.written.send_modify(|c| *c += n as u64);
                    match rotated {
                        Ok(()) => self.write_failed = false,
                        Err(e) => self.write_error(e),
                    }
                }
                Some(Ok(n))
            }
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
                ) =>
            {
                Some(Err(e))
            }
            Err(_) => {
                self.splice_failed = true;
                None
            }
        }
    }

    /// How much to take from the pipe in one read or splice, at most `max`: less near the log
    /// file's rollover point ([`RotatingFile::chunk_len`]).
    pub fn chunk_len(&self, max: usize) -> usize {
        self.file.as_ref().map_or(max, |f| f.chunk_len(max))
    }

    /// SIGUSR2: reopen the log file at its path.
    pub fn reopen(&mut self) -> io::Result<()> {
        match self.file.as_mut() {
            Some(f) => f.reopen(),
            None => Ok(()),
        }
    }

    /// `clearProcessLogs` (`removelogs`): remove and recreate the log file (backups stay),
    /// and empty the capture buffer.
    pub fn clear(&mut self) -> io::Result<()> {
        self.capture_buf.clear();
        let r = match self.file.as_mut() {
            Some(f) => f.clear(),
            None => Ok(()),
        };
        // Wake followers so they notice the truncation (the counter itself only grows).
        self.written.send_modify(|_| {});
        r
    }
}

/// Lock a sink, ignoring poisoning (a panicking hook must not silence the log).
pub fn lock_sink(sink: &Mutex<OutputSink>) -> std::sync::MutexGuard<'_, OutputSink> {
    sink.lock().unwrap_or_else(|e| e.into_inner())
}
