//! Child output capture: an [`OutputSink`] per (process, stream) that does what supervisor's
//! `POutputDispatcher` does with the bytes a child writes: strip ANSI escapes (`strip_ansi`),
//! append to the stream's log file (and syslog), echo into the main log at DEBG
//! (`'x' stdout output:\n...`), collect text between `<!--XSUPERVISOR:BEGIN-->` and
//! `<!--XSUPERVISOR:END-->` in capture mode (handed to `on_communication`), and hand each
//! logged chunk to `on_log` (PROCESS_LOG events). [`spawn_reader`] is the tokio task that pumps
//! a child's pipe into a sink: when nothing but a regular log file wants the bytes
//! ([`OutputSink::can_splice`]) it moves them from the pipe into the file with `splice(2)`,
//! never copying them through the daemon, and reads them into [`OutputSink::feed`] otherwise.
//! Also: AUTO log names in `childlogdir` and their cleanup.

use std::io;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokio::io::unix::AsyncFd;
use tokio::sync::watch;

use crate::config::{LogLevel, LogTarget, StreamLogConfig, SupervisordConfig};
use crate::logs::rotate::RotatingFile;
use crate::logs::{py_repr_bytes, py_repr_str};

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

    /// Take in bytes the child wrote (`POutputDispatcher.handle_read_event` + `record_output`).
    /// `logformat=` of the program (beyond the reference): how lines are written to the file.
    pub fn set_format(&mut self, format: crate::config::OutputFormat) {
        self.formatter =
            super::format::LineFormatter::new(format, &self.process_name, self.channel.as_str());
    }

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

/// The most one read takes from a pipe (and one splice from a pipe of the default size).
/// Near a log file's rollover point, less ([`OutputSink::chunk_len`]).
const CHUNK: usize = 256 * 1024;

/// A pipe found full (one read or splice took all it holds: the child writes faster than it
/// is drained) is enlarged to this, from the kernel's 64 KiB. For 512 MiB written in 1 MiB
/// blocks (`bench/run.sh --figures logcap`) the daemon then wakes ~600 times instead of
/// ~8200, and spends about half the CPU per byte spliced into an ext4 file. The kernel
/// allocates a pipe's pages only while they hold data; the size still counts against an
/// unprivileged user's `fs.pipe-user-pages-soft`.
const BIG_PIPE: usize = 1 << 20;
/// At most this many pipes are enlarged at a time (worst case 16 MiB of kernel memory, and
/// 4096 pages of the 16384 that `fs.pipe-user-pages-soft` allows an unprivileged user).
const MAX_BIG_PIPES: usize = 16;
static BIG_PIPES: AtomicUsize = AtomicUsize::new(0);

/// The size of the pipe one reader drains, and whether it holds one of the
/// [`MAX_BIG_PIPES`] slots (given back on drop).
struct PipeSize {
    fd: RawFd,
    /// Capacity in bytes; 0 when it is not a pipe, already big, or cannot be enlarged.
    cap: usize,
    big: bool,
}

impl PipeSize {
    fn new(fd: RawFd) -> Self {
        // SAFETY: fcntl on an open descriptor; fails harmlessly when it is not a pipe.
        let cap = unsafe { libc::fcntl(fd, libc::F_GETPIPE_SZ) };
        let cap = if cap > 0 && (cap as usize) < BIG_PIPE {
            cap as usize
        } else {
            0
        };
        PipeSize {
            fd,
            cap,
            big: false,
        }
    }

    /// How much one splice may take: all an enlarged pipe holds (one call per wake-up when
    /// the child writes in large blocks), else [`CHUNK`].
    fn splice_len(&self) -> usize {
        if self.big { BIG_PIPE } else { CHUNK }
    }

    /// One read or splice took `n` bytes: if that was the whole pipe, enlarge it (once, if a
    /// slot is free).
    fn took(&mut self, n: usize) {
        if self.cap == 0 || n < self.cap {
            return;
        }
        let free_slot = |c: usize| (c < MAX_BIG_PIPES).then_some(c + 1);
        if BIG_PIPES
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, free_slot)
            .is_err()
        {
            return;
        }
        // SAFETY: fcntl on an open pipe descriptor.
        if unsafe { libc::fcntl(self.fd, libc::F_SETPIPE_SZ, BIG_PIPE as libc::c_int) } > 0 {
            self.big = true;
        } else {
            BIG_PIPES.fetch_sub(1, Ordering::Relaxed);
        }
        self.cap = 0;
    }
}

impl Drop for PipeSize {
    fn drop(&mut self) {
        if self.big {
            BIG_PIPES.fetch_sub(1, Ordering::Relaxed);
        }
    }
}

thread_local! {
    /// The one read buffer of the thread's readers. A read and the `feed` of what it got run
    /// without an await in between, so every pipe of the thread can share it: a daemon with
    /// many chatty children keeps one buffer resident instead of one per pipe.
    static READ_BUF: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Read once (at most `len` bytes, at most [`CHUNK`]) from `fd` into the thread's shared
/// buffer and hand what came to `consume`.
fn read_shared(fd: libc::c_int, len: usize, consume: impl FnOnce(&[u8])) -> io::Result<usize> {
    READ_BUF.with(|cell| {
        let mut buf = cell.borrow_mut();
        if buf.is_empty() {
            // Zeroed by the allocator (fresh pages): only what reads fill becomes resident.
            *buf = vec![0u8; CHUNK];
        }
        let len = len.min(buf.len());
        // SAFETY: reading into our own buffer, at most its length.
        let n = unsafe { libc::read(fd, buf.as_mut_ptr() as *mut libc::c_void, len) };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        let n = n as usize;
        if n > 0 {
            consume(&buf[..n]);
        }
        Ok(n)
    })
}

/// Pump a child's output pipe (its read end) into `sink` until EOF, then call
/// [`OutputSink::finish`]. The fd is made non-blocking; each time it is readable, its bytes
/// are spliced into the log file while the sink allows it ([`OutputSink::splice_from`]), or
/// else read (up to 256 KiB at a time, into a buffer shared by all the readers of the thread)
/// and fed to the sink. A pipe found full is enlarged ([`BIG_PIPE`]). With an `on_chunk` hook
/// (an event listener's stdout, whose protocol the actor reads), nothing is spliced: every chunk
/// is read, fed to the sink, then handed to the hook. Must be called inside a tokio runtime.
pub fn spawn_reader(
    fd: OwnedFd,
    sink: Arc<Mutex<OutputSink>>,
    on_chunk: Option<OnChunk>,
) -> tokio::task::JoinHandle<()> {
    let mut on_chunk = on_chunk;
    tokio::spawn(async move {
        let raw = fd.as_raw_fd();
        // SAFETY: plain fcntl on an fd we own.
        unsafe {
            let flags = libc::fcntl(raw, libc::F_GETFL);
            if flags >= 0 && flags & libc::O_NONBLOCK == 0 {
                libc::fcntl(raw, libc::F_SETFL, flags | libc::O_NONBLOCK);
            }
        }
        let mut pipe = PipeSize::new(raw);
        // SAFETY: `fd` is an owned, open descriptor that the AsyncFd keeps until it drops.
        let registered =
            unsafe { AsyncFd::register_with_interest(fd, tokio::io::Interest::READABLE) };
        match registered {
            Ok(afd) => loop {
                let mut guard = match afd.readable().await {
                    Ok(g) => g,
                    Err(_) => break,
                };
                // Ok((bytes, whether they are in `buf` to be fed)), 0 bytes at end of input.
                let r = guard.try_io(|inner| {
                    let raw = inner.as_raw_fd();
                    let len = {
                        let mut s = lock_sink(&sink);
                        if on_chunk.is_none()
                            && let Some(spliced) = s.splice_from(raw, pipe.splice_len())
                        {
                            return spliced;
                        }
                        s.chunk_len(CHUNK)
                    };
                    read_shared(raw, len, |bytes| feed(&sink, &mut on_chunk, bytes))
                });
                match r {
                    Err(_would_block) => continue,
                    Ok(Ok(0)) => break,
                    Ok(Ok(n)) => pipe.took(n),
                    Ok(Err(e)) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Ok(Err(_)) => break,
                }
            },
            Err(e) => {
                // Not pollable (a regular file?): read it blocking on a helper thread.
                let (fd, _) = e.into_parts();
                let sink2 = sink.clone();
                let _ = tokio::task::spawn_blocking(move || {
                    loop {
                        match read_shared(fd.as_raw_fd(), CHUNK, |bytes| {
                            feed(&sink2, &mut on_chunk, bytes)
                        }) {
                            Ok(0) => break,
                            Ok(_) => {}
                            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                                std::thread::sleep(std::time::Duration::from_millis(10))
                            }
                            Err(_) => break,
                        }
                    }
                })
                .await;
            }
        }
        lock_sink(&sink).finish();
    })
}

/// What a reader hands each chunk to besides the sink (see [`spawn_reader`]).
pub type OnChunk = Box<dyn FnMut(&[u8]) + Send>;

fn feed(sink: &Mutex<OutputSink>, on_chunk: &mut Option<OnChunk>, bytes: &[u8]) {
    lock_sink(sink).feed(bytes);
    if let Some(hook) = on_chunk.as_mut() {
        hook(bytes);
    }
}

const TEMP_CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789_";

fn random_bytes(n: usize) -> Vec<u8> {
    let mut b = vec![0u8; n];
    // SAFETY: getrandom fills our buffer.
    let got = unsafe { libc::getrandom(b.as_mut_ptr() as *mut libc::c_void, n, 0) };
    if got != n as isize {
        let mut x = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0)
            ^ ((std::process::id() as u64) << 32);
        for v in b.iter_mut() {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            *v = x as u8;
        }
    }
    b
}

/// `options.get_autochildlog_name`: create (like `mkstemp`, mode 0600) and return a fresh
/// `{childlogdir}/{name}-{channel}---{identifier}-{8 random chars}.log`.
pub fn make_auto_child_log_path(
    childlogdir: &Path,
    name: &str,
    channel: Channel,
    identifier: &str,
) -> io::Result<PathBuf> {
    use std::os::unix::fs::OpenOptionsExt;
    let prefix = format!("{}-{}---{}-", name, channel.as_str(), identifier);
    let mut last = io::Error::from(io::ErrorKind::AlreadyExists);
    for _ in 0..10000 {
        let rnd: String = random_bytes(8)
            .iter()
            .map(|b| TEMP_CHARS[*b as usize % TEMP_CHARS.len()] as char)
            .collect();
        let path = childlogdir.join(format!("{}{}.log", prefix, rnd));
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
        {
            Ok(_) => return Ok(path),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last = e,
            Err(e) => return Err(e),
        }
    }
    Err(last)
}

/// Resolve a stream's `LogTarget` to a path: `Path` as is, `Auto` to a new file from
/// [`make_auto_child_log_path`], `None`/`Syslog` to no file. The reference does this once per
/// process config at startup (`create_autochildlogs`), so callers should resolve once and keep
/// the path for every spawn and for `readProcess*Log`.
#[cfg(test)]
pub fn resolve_child_log_path(
    target: &LogTarget,
    process_name: &str,
    channel: Channel,
    sup: &SupervisordConfig,
) -> io::Result<Option<PathBuf>> {
    match target {
        LogTarget::Path(p) => Ok(Some(p.clone())),
        LogTarget::Auto => {
            make_auto_child_log_path(&sup.childlogdir, process_name, channel, &sup.identifier)
                .map(Some)
        }
        LogTarget::None | LogTarget::Syslog => Ok(None),
    }
}

fn py_isspace(c: char) -> bool {
    c.is_whitespace() || ('\x1c'..='\x1f').contains(&c)
}

/// Whether `filename` matches the reference's `.+?---{identifier}-\S+\.log\.{0,1}\d{0,4}`
/// (with `re.match`, i.e. anchored at the start only). The identifier is taken literally.
pub fn is_auto_child_log_name(filename: &str, identifier: &str) -> bool {
    let marker = format!("---{}-", identifier);
    let mut from = 0;
    while let Some(p) = filename[from..].find(&marker) {
        let at = from + p;
        let head = &filename[..at];
        if head.contains('\n') {
            return false;
        }
        if at >= 1 {
            let rest = &filename[at + marker.len()..];
            let ws = rest
                .char_indices()
                .find(|(_, c)| py_isspace(*c))
                .map_or(rest.len(), |(i, _)| i);
            let mut k = 0;
            while let Some(q) = rest[k..].find(".log") {
                let idx = k + q;
                if idx > ws {
                    break;
                }
                if idx >= 1 {
                    return true;
                }
                k = idx + 1;
            }
        }
        from = at + filename[at..].chars().next().map_or(1, |c| c.len_utf8());
    }
    false
}

/// `options.clear_autochildlogdir`: remove every AUTO child log (and its backups) of this
/// `identifier` from `childlogdir`, warning in the main log as the reference does when the
/// directory cannot be listed or a file cannot be removed. Returns how many were removed.
/// The caller skips this when `nocleanup` is set.
pub fn clean_auto_child_logs(childlogdir: &Path, identifier: &str) -> usize {
    let entries = match std::fs::read_dir(childlogdir) {
        Ok(e) => e,
        Err(_) => {
            crate::log_warn!("Could not clear childlog dir");
            return 0;
        }
    };
    let mut removed = 0;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if is_auto_child_log_name(&name, identifier) {
            let path = childlogdir.join(entry.file_name());
            match std::fs::remove_file(&path) {
                Ok(()) => removed += 1,
                Err(_) => crate::log_warn!(
                    "Failed to clean up {}",
                    py_repr_str(&path.to_string_lossy())
                ),
            }
        }
    }
    removed
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::logs::mainlog::tests::capture_mainlog;
    use crate::logs::rotate::tests::tempdir;

    fn stream(capture: u64, events: bool) -> StreamLogConfig {
        StreamLogConfig {
            logfile: LogTarget::Auto,
            logfile_maxbytes: 0,
            logfile_backups: 0,
            capture_maxbytes: capture,
            events_enabled: events,
            syslog: false,
        }
    }

    pub(crate) fn sup(dir: &Path, level: LogLevel, strip: bool) -> SupervisordConfig {
        SupervisordConfig {
            logfile: LogTarget::None,
            logfile_maxbytes: 0,
            logfile_backups: 0,
            loglevel: level,
            pidfile: dir.join("pid"),
            umask: 0o22,
            nodaemon: true,
            silent: false,
            minfds: 1024,
            minprocs: 200,
            nocleanup: false,
            childlogdir: dir.to_path_buf(),
            user: None,
            directory: None,
            strip_ansi: strip,
            environment: vec![],
            identifier: "supervisor".into(),
            exit_on_fatal: false,
            memory_check_interval: 5,
            logformat: Default::default(),
        }
    }

    #[test]
    fn memfind_and_prefix() {
        assert_eq!(memfind(b"abcabd", b"abd"), Some(3));
        assert_eq!(memfind(b"ab", b"abd"), None);
        assert_eq!(memfind(b"aaa", b"a"), Some(0));
        assert_eq!(memfind(b"xya", b"a"), Some(2));
        assert_eq!(memfind(b"xyz", b""), None);
        assert_eq!(prefix_at_end(b"hello<!--XSUP", BEGIN_TOKEN), 8);
        assert_eq!(prefix_at_end(b"hello", BEGIN_TOKEN), 0);
        assert_eq!(prefix_at_end(b"", BEGIN_TOKEN), 0);
    }

    #[test]
    fn strip_ansi_like_reference() {
        assert_eq!(strip_ansi(b"\x1b[31mred\x1b[0m\n"), b"red\n");
        assert_eq!(strip_ansi(b"plain"), b"plain");
        assert_eq!(strip_ansi(b"a\x1b[1;2Hb"), b"ab");
        assert_eq!(strip_ansi(b"a\x1b[12"), b"a");
        assert_eq!(strip_ansi(b"\x1b["), b"");
        assert_eq!(strip_ansi(b"x\x1bq"), b"x\x1bq");
    }

    #[test]
    fn capture_mode_extracts_communication() {
        let d = tempdir("capture");
        let s = sup(&d, LogLevel::Debug, false);
        let p = d.join("x.log");
        let comms = Arc::new(Mutex::new(Vec::new()));
        let logs = Arc::new(Mutex::new(Vec::new()));
        let main = capture_mainlog(LogLevel::Debug, || {
            let mut sink =
                OutputSink::new("x", Channel::Stdout, &stream(1000, true), Some(&p), &s).unwrap();
            let c = comms.clone();
            sink.on_communication = Some(Box::new(move |v| c.lock().unwrap().push(v)));
            let l = logs.clone();
            sink.on_log = Some(Box::new(move |v: &[u8]| l.lock().unwrap().push(v.to_vec())));
            // Tokens split across reads.
            sink.feed(b"hi\na<!--XSUPER");
            sink.feed(b"VISOR:BEGIN-->com");
            sink.feed(b"m<!--XSUPERVISOR:END-->b, and more text after it\n");
            sink.feed(b"\xff\xfebad\n");
            sink.finish();
        });
        assert_eq!(*comms.lock().unwrap(), vec![b"comm".to_vec()]);
        assert_eq!(
            std::fs::read(&p).unwrap(),
            b"hi\nab, and more text after it\n\xff\xfebad\n".to_vec()
        );
        let logged: Vec<u8> = logs.lock().unwrap().concat();
        assert_eq!(
            logged,
            b"hi\nacommb, and more text after it\n\xff\xfebad\n".to_vec()
        );
        assert!(
            main.contains(" DEBG 'x' stdout output:\nhi\na\n"),
            "{}",
            main
        );
        assert!(
            main.contains(" DEBG 'x' stdout emitted a comm event\n"),
            "{}",
            main
        );
        assert!(
            main.contains(" DEBG 'x' stdout output:\nUndecodable: b'\\xff\\xfebad\\n'\n"),
            "{}",
            main
        );
    }

    #[test]
    fn plain_output_strip_and_no_echo_at_info() {
        let d = tempdir("plain");
        let s = sup(&d, LogLevel::Info, true);
        let p = d.join("y.log");
        let main = capture_mainlog(LogLevel::Info, || {
            let mut sink =
                OutputSink::new("y", Channel::Stderr, &stream(0, false), Some(&p), &s).unwrap();
            let rx = sink.subscribe();
            sink.feed(b"\x1b[32mgreen\x1b[0m <!--XSUPERVISOR:BEGIN--> kept\n");
            assert!(rx.has_changed().unwrap());
            assert_eq!(sink.bytes_written(), 36);
            sink.clear().unwrap();
            sink.feed(b"after\n");
        });
        assert_eq!(main, "");
        assert_eq!(std::fs::read(&p).unwrap(), b"after\n");
    }

    #[test]
    fn auto_names_and_cleanup() {
        let d = tempdir("auto");
        let s = sup(&d, LogLevel::Info, false);
        let p = resolve_child_log_path(&LogTarget::Auto, "web", Channel::Stdout, &s)
            .unwrap()
            .unwrap();
        let n = p.file_name().unwrap().to_string_lossy().into_owned();
        assert!(
            n.starts_with("web-stdout---supervisor-") && n.ends_with(".log"),
            "{}",
            n
        );
        assert_eq!(n.len(), "web-stdout---supervisor-".len() + 8 + 4);
        assert!(p.exists());
        std::fs::write(d.join(format!("{}.1", n)), "").unwrap();
        std::fs::write(d.join("keep.log"), "").unwrap();
        std::fs::write(d.join("web-stdout---other-abc.log"), "").unwrap();
        assert!(is_auto_child_log_name("a---supervisor-x.log", "supervisor"));
        assert!(is_auto_child_log_name(
            "a---supervisor-x.logzz",
            "supervisor"
        ));
        assert!(!is_auto_child_log_name("---supervisor-x.log", "supervisor"));
        assert!(!is_auto_child_log_name("a---supervisor-.log", "supervisor"));
        assert!(!is_auto_child_log_name(
            "a---supervisor-x y.log",
            "supervisor"
        ));
        assert_eq!(clean_auto_child_logs(&d, "supervisor"), 2);
        let mut left: Vec<String> = std::fs::read_dir(&d)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(left, vec!["keep.log", "web-stdout---other-abc.log"]);
    }

    /// Pump 3 MB through `spawn_reader` into a sink on a rotating file (1 MB × 5 backups),
    /// with events on or off; return the files' bytes in order, the bytes the sink counted,
    /// what the PROCESS_LOG hook saw, and whether the sink could splice. With `chunks`, the
    /// reader gets an `on_chunk` hook that collects what it is handed there.
    fn pump_with(
        tag: &str,
        events: bool,
        chunks: Option<Arc<Mutex<Vec<u8>>>>,
    ) -> (Vec<u8>, u64, Vec<u8>, bool) {
        let d = tempdir(tag);
        let s = sup(&d, LogLevel::Info, false);
        let p = d.join("r.log");
        let mut cfg = stream(0, events);
        cfg.logfile_maxbytes = 1_000_000;
        cfg.logfile_backups = 5;
        let mut sink = OutputSink::new("r", Channel::Stdout, &cfg, Some(&p), &s).unwrap();
        let logged = Arc::new(Mutex::new(Vec::new()));
        let l = logged.clone();
        sink.on_log = Some(Box::new(move |v: &[u8]| {
            l.lock().unwrap().extend_from_slice(v)
        }));
        let spliced = sink.can_splice();
        let sink = Arc::new(Mutex::new(sink));
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let total = rt.block_on(async {
            let (rd, wr) = crate::logs::rotate::tests::nonblocking_pipe();
            let on_chunk = chunks.map(|c| -> OnChunk {
                Box::new(move |v: &[u8]| c.lock().unwrap().extend_from_slice(v))
            });
            let task = spawn_reader(rd, sink.clone(), on_chunk);
            let writer = std::thread::spawn(move || {
                let mut wr = wr;
                for i in 0..30u8 {
                    io::Write::write_all(&mut wr, &vec![b'a' + i % 26; 100_000]).unwrap();
                }
                io::Write::write_all(&mut wr, b"\xff end").unwrap();
            });
            task.await.unwrap();
            writer.join().unwrap();
            lock_sink(&sink).bytes_written()
        });
        let mut data = Vec::new();
        for i in (1..=5).rev() {
            data.extend(std::fs::read(d.join(format!("r.log.{}", i))).unwrap_or_default());
        }
        data.extend(std::fs::read(&p).unwrap());
        assert!(
            d.join("r.log.2").exists(),
            "3 MB rotate a 1 MB file at least twice"
        );
        let _ = std::fs::remove_dir_all(&d);
        let logged = logged.lock().unwrap().clone();
        (data, total, logged, spliced)
    }

    fn pump(tag: &str, events: bool) -> (Vec<u8>, u64, Vec<u8>, bool) {
        pump_with(tag, events, None)
    }

    fn pumped_bytes() -> Vec<u8> {
        let mut v: Vec<u8> = (0..30u8)
            .flat_map(|i| vec![b'a' + i % 26; 100_000])
            .collect();
        v.extend_from_slice(b"\xff end");
        v
    }

    #[test]
    fn reader_task_splices_into_a_rotating_file() {
        let (data, total, logged, spliced) = pump("reader-splice", false);
        assert!(spliced);
        assert_eq!(total, 3_000_005);
        assert!(data == pumped_bytes());
        assert!(logged.is_empty());
    }

    /// With an `on_chunk` hook (an event listener's stdout), nothing is spliced past it: the
    /// hook is handed every byte, in order, and the log file still gets them all.
    #[test]
    fn reader_task_hands_every_chunk_to_on_chunk() {
        let chunks = Arc::new(Mutex::new(Vec::new()));
        let (data, total, _, spliced) = pump_with("reader-hook", false, Some(chunks.clone()));
        assert!(spliced, "the sink alone could splice");
        assert_eq!(total, 3_000_005);
        assert!(data == pumped_bytes());
        assert!(*chunks.lock().unwrap() == pumped_bytes());
    }

    /// The end of a child's output closes its log file once the last bytes are in, whichever
    /// path they took; SIGUSR2 and `clearProcessLogs` leave it closed.
    #[test]
    fn the_end_of_input_closes_the_log_file() {
        for (tag, events, format) in [
            ("close-splice", false, crate::config::OutputFormat::Raw),
            ("close-copy", true, crate::config::OutputFormat::Raw),
            ("close-format", false, crate::config::OutputFormat::Prefixed),
        ] {
            let d = tempdir(tag);
            let s = sup(&d, LogLevel::Info, false);
            let p = d.join("e.log");
            let mut sink =
                OutputSink::new("e", Channel::Stdout, &stream(0, events), Some(&p), &s).unwrap();
            sink.set_format(format);
            let sink = Arc::new(Mutex::new(sink));
            assert_eq!(crate::logs::rotate::tests::fds_on(&p), 1);
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                let (rd, wr) = crate::logs::rotate::tests::nonblocking_pipe();
                let task = spawn_reader(rd, sink.clone(), None);
                let writer = std::thread::spawn(move || {
                    let mut wr = wr;
                    io::Write::write_all(&mut wr, &vec![b'x'; 300_000]).unwrap();
                    io::Write::write_all(&mut wr, b"\nlast words, no newline").unwrap();
                });
                task.await.unwrap();
                writer.join().unwrap();
            });
            let mut s = lock_sink(&sink);
            assert!(!s.is_open(), "{}", tag);
            assert_eq!(crate::logs::rotate::tests::fds_on(&p), 0, "{}", tag);
            let text = std::fs::read(&p).unwrap();
            let tail = String::from_utf8_lossy(&text[text.len().saturating_sub(40)..]).into_owned();
            assert!(
                tail.contains("last words, no newline"),
                "{}: {:?}",
                tag,
                tail
            );
            assert_eq!(s.bytes_written(), text.len() as u64, "{}", tag);
            s.reopen().unwrap();
            s.clear().unwrap();
            assert!(!s.is_open() && p.exists(), "{}", tag);
            assert_eq!(crate::logs::rotate::tests::fds_on(&p), 0, "{}", tag);
            drop(s);
            let _ = std::fs::remove_dir_all(&d);
        }
    }

    #[test]
    fn reader_task_copies_when_events_want_the_bytes() {
        let (data, total, logged, spliced) = pump("reader-copy", true);
        assert!(!spliced);
        assert_eq!(total, 3_000_005);
        assert!(data == pumped_bytes());
        assert_eq!(logged, data);
    }

    #[test]
    fn splice_only_when_nothing_else_wants_the_bytes() {
        let d = tempdir("cansplice");
        let p = d.join("c.log");
        let info = sup(&d, LogLevel::Info, false);
        let ok = |st: &StreamLogConfig, sv: &SupervisordConfig, path: &Path| {
            OutputSink::new("c", Channel::Stdout, st, Some(path), sv)
                .unwrap()
                .can_splice()
        };
        assert!(ok(&stream(0, false), &info, &p));
        assert!(!ok(&stream(0, true), &info, &p), "PROCESS_LOG events");
        assert!(!ok(&stream(100, false), &info, &p), "capture mode");
        assert!(
            !ok(&stream(0, false), &sup(&d, LogLevel::Info, true), &p),
            "strip_ansi"
        );
        assert!(
            !ok(&stream(0, false), &sup(&d, LogLevel::Debug, false), &p),
            "DEBG echo"
        );
        assert!(
            !ok(&stream(0, false), &info, Path::new("/dev/null")),
            "not a regular file"
        );
        let mut syslog = stream(0, false);
        syslog.syslog = true;
        assert!(!ok(&syslog, &info, &p), "syslog");
        let mut named = stream(0, false);
        named.logfile = LogTarget::Path(p.clone());
        assert!(
            !ok(&named, &info, &p),
            "a named file (maybe shared with other writers)"
        );
        let mut formatted =
            OutputSink::new("c", Channel::Stdout, &stream(0, false), Some(&p), &info).unwrap();
        formatted.set_format(crate::config::OutputFormat::Prefixed);
        assert!(!formatted.can_splice(), "logformat");
        let none = OutputSink::new("c", Channel::Stdout, &stream(0, false), None, &info).unwrap();
        assert!(!none.can_splice(), "no file");

        // Allowed: the bytes go into the file and followers are woken.
        let mut sink =
            OutputSink::new("c", Channel::Stdout, &stream(0, false), Some(&p), &info).unwrap();
        let rx = sink.subscribe();
        let (rd, mut wr) = crate::logs::rotate::tests::nonblocking_pipe();
        io::Write::write_all(&mut wr, b"spliced\n").unwrap();
        assert_eq!(sink.splice_from(rd.as_raw_fd(), CHUNK).unwrap().unwrap(), 8);
        assert!(rx.has_changed().unwrap());
        assert_eq!(sink.bytes_written(), 8);
        assert_eq!(std::fs::read(&p).unwrap(), b"spliced\n");
        // Not allowed: None, and the bytes stay in the pipe for read + feed.
        let mut ev =
            OutputSink::new("c", Channel::Stdout, &stream(0, true), Some(&p), &info).unwrap();
        io::Write::write_all(&mut wr, b"copied\n").unwrap();
        assert!(ev.splice_from(rd.as_raw_fd(), CHUNK).is_none());
        let mut buf = [0u8; 16];
        assert_eq!(
            unsafe { libc::read(rd.as_raw_fd(), buf.as_mut_ptr() as *mut _, 16) },
            7
        );
        // A failed splice (here EINVAL: the source is not a pipe) sends this sink to the copy
        // path for good.
        let not_a_pipe = std::fs::File::open(&p).unwrap();
        assert!(sink.splice_from(not_a_pipe.as_raw_fd(), CHUNK).is_none());
        assert!(!sink.can_splice());
        assert_eq!(std::fs::read(&p).unwrap(), b"spliced\n");
        sink.feed(b"fed\n");
        assert_eq!(std::fs::read(&p).unwrap(), b"spliced\nfed\n");
    }

    #[test]
    fn a_full_pipe_is_enlarged_once() {
        let (rd, _wr) = crate::logs::rotate::tests::nonblocking_pipe();
        let size = || unsafe { libc::fcntl(rd.as_raw_fd(), libc::F_GETPIPE_SZ) } as usize;
        let before = size();
        let mut ps = PipeSize::new(rd.as_raw_fd());
        assert_eq!(ps.splice_len(), CHUNK);
        ps.took(before - 1);
        assert_eq!(size(), before);
        ps.took(before);
        assert!(ps.big);
        assert_eq!(size(), BIG_PIPE);
        assert_eq!(ps.splice_len(), BIG_PIPE);
    }

    /// Throughput check (run with `cargo test --release logs:: -- --ignored --nocapture`):
    /// a child writing 512 MiB through a pipe into an OutputSink, vs. `cat > file`.
    #[test]
    #[ignore]
    fn bench_512mib_child_output() {
        use std::os::fd::OwnedFd;
        use std::process::{Command, Stdio};
        let d = tempdir("bench");
        let s = sup(&d, LogLevel::Info, false);
        let p = d.join("big.log");
        let sink = Arc::new(Mutex::new(
            OutputSink::new("big", Channel::Stdout, &stream(0, false), Some(&p), &s).unwrap(),
        ));
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let t0 = std::time::Instant::now();
        rt.block_on(async {
            let mut child = Command::new("head")
                .args(["-c", "536870912", "/dev/zero"])
                .stdout(Stdio::piped())
                .spawn()
                .unwrap();
            let out: OwnedFd = child.stdout.take().unwrap().into();
            spawn_reader(out, sink.clone(), None).await.unwrap();
            child.wait().unwrap();
        });
        let ours = t0.elapsed();
        assert_eq!(std::fs::metadata(&p).unwrap().len(), 536870912);
        let _ = std::fs::remove_file(&p);
        let t1 = std::time::Instant::now();
        let st = Command::new("sh")
            .arg("-c")
            .arg(format!(
                "head -c 536870912 /dev/zero | cat > {}",
                p.display()
            ))
            .status()
            .unwrap();
        assert!(st.success());
        let cat = t1.elapsed();
        let _ = std::fs::remove_dir_all(&d);
        println!("sink: {:?}, cat: {:?}", ours, cat);
    }
}
