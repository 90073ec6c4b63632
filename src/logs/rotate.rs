//! `RotatingFile`: one log file opened in append mode, rotated by size the way supervisor's
//! `loggers.RotatingFileHandler` does it (`x.log` → `x.log.1` … `x.log.N`, checked after each
//! write), reopened on SIGUSR2 and cleared for `clearLog`/`clearProcessLogs`.
//!
//! Differences from the reference, on purpose:
//! - the size is tracked in memory (initial `fstat` size plus what we wrote), never asked of
//!   the kernel per write;
//! - a target that is not a regular file (pipe, tty, `/dev/null`...), or whose path under
//!   `/dev/` or `/proc/` is not itself a regular file (`/dev/stdout`, `/dev/fd/N`: the daemon's
//!   own stdout may be a regular file), is never rotated, never seeked, never removed by
//!   `clear` (a regular file such as `/dev/shm/x.log` rotates as anywhere else);
//! - a failed rename during rotation does not leave the handler closed: the path is reopened;
//! - [`RotatingFile::close`] lets go of the descriptor while nothing will be written (the
//!   process is not running); `reopen` and `clear` then act on the path and leave it closed;
//! - [`RotatingFile::splice_from`] moves bytes from a pipe straight into a regular file
//!   (`splice(2)`, no copy through user space). The kernel refuses to splice into an
//!   `O_APPEND` file, so the first splice clears `O_APPEND` on the descriptor and from then on
//!   every splice or write seeks to the end first: bytes still land after anything an external
//!   writer appended, and at 0 after a `copytruncate`, but a writer appending in the same
//!   instant (between the seek and the splice) could be overwritten, which `O_APPEND` rules out.
//!   So the capture only splices into `AUTO` files, which nobody else writes
//!   (`OutputSink::can_splice`).

use std::fs::{File, OpenOptions};
use std::io::{self, Seek, Write};
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

/// The most one read or splice takes near the rollover point (see [`RotatingFile::chunk_len`]):
/// the kernel's default pipe size.
pub const NEAR_ROLLOVER: usize = 64 * 1024;

/// An append-mode log file with the reference's size-based rotation.
#[derive(Debug)]
pub struct RotatingFile {
    path: PathBuf,
    file: Option<File>,
    maxbytes: u64,
    backups: u32,
    /// Bytes in the current file as far as we know (regular files only).
    size: u64,
    /// False for pipes, ttys, devices, sockets and the special paths under /dev or /proc.
    regular: bool,
    /// `O_APPEND` was cleared on `file` for splicing: seek to the end before each write.
    seek_to_end: bool,
    /// [`close`](Self::close)d: no descriptor is kept until the next write or splice.
    closed: bool,
}

/// A path under `/dev` or `/proc` that is not itself a regular file: `/dev/stdout`,
/// `/dev/fd/N`, `/proc/self/fd/N` (symlinks to whatever the descriptor is, maybe a regular
/// file that must not be renamed or removed). A plain file on the tmpfs at `/dev/shm` is an
/// ordinary log file.
fn is_special_path(path: &Path) -> bool {
    (path.starts_with("/dev") || path.starts_with("/proc"))
        && !std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_file())
}

fn open_append(path: &Path, truncate: bool) -> io::Result<File> {
    let mut o = OpenOptions::new();
    o.append(true).create(true).mode(0o666);
    if truncate {
        // `append` + `truncate` is refused by std; emulate with O_TRUNC.
        o.custom_flags(libc::O_TRUNC);
    }
    o.open(path)
}

/// The descriptor number behind `/dev/stdout`, `/dev/stderr`, `/dev/fd/N`, `/proc/self/fd/N`.
fn std_stream_fd(path: &Path) -> Option<i32> {
    let s = path.to_str()?;
    match s {
        "/dev/stdout" => Some(1),
        "/dev/stderr" => Some(2),
        _ => s
            .strip_prefix("/dev/fd/")
            .or_else(|| s.strip_prefix("/proc/self/fd/"))
            .and_then(|n| n.parse().ok()),
    }
}

fn dup_fd(fd: i32) -> io::Result<File> {
    use std::os::fd::FromRawFd;
    // SAFETY: F_DUPFD_CLOEXEC returns a new descriptor that we then own, or -1.
    let d = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 3) };
    if d < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `d` is fresh and owned by nobody else.
    Ok(unsafe { File::from_raw_fd(d) })
}

fn remove_ignoring_enoent(p: &Path) -> io::Result<()> {
    match std::fs::remove_file(p) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

fn numbered(path: &Path, n: u32) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(format!(".{}", n));
    PathBuf::from(s)
}

/// `RotatingFileHandler.removeAndRename`: remove `dst` if present, then rename `src` there;
/// a vanished source or destination is not an error.
fn remove_and_rename(src: &Path, dst: &Path) -> io::Result<()> {
    if dst.exists() {
        remove_ignoring_enoent(dst)?;
    }
    match std::fs::rename(src, dst) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

impl RotatingFile {
    /// Open `path` for appending (created if missing, never truncated). `maxbytes == 0`
    /// means never rotate; `backups == 0` with `maxbytes > 0` truncates the file in place
    /// when it fills up, as the reference does.
    pub fn open(path: impl AsRef<Path>, maxbytes: u64, backups: u32) -> io::Result<Self> {
        let path = path.as_ref().to_path_buf();
        let mut rf = RotatingFile {
            path,
            file: None,
            maxbytes,
            backups,
            size: 0,
            regular: false,
            seek_to_end: false,
            closed: false,
        };
        rf.open_file(false)?;
        Ok(rf)
    }

    fn open_file(&mut self, truncate: bool) -> io::Result<()> {
        let f = match open_append(&self.path, truncate && !is_special_path(&self.path)) {
            Ok(f) => f,
            Err(e) => match std_stream_fd(&self.path) {
                // e.g. /dev/stdout when stdout is a socket (ENXIO): share the descriptor.
                Some(fd) => dup_fd(fd).map_err(|_| e)?,
                None => return Err(e),
            },
        };
        let (regular, size) = match f.metadata() {
            Ok(m) => {
                let ft = m.file_type();
                let special = ft.is_fifo()
                    || ft.is_char_device()
                    || ft.is_block_device()
                    || ft.is_socket()
                    || !ft.is_file();
                (!special && !is_special_path(&self.path), m.len())
            }
            Err(_) => (false, 0),
        };
        self.regular = regular;
        self.size = if regular { size } else { 0 };
        self.file = Some(f);
        self.seek_to_end = false;
        Ok(())
    }

    /// The path this file was opened with.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether this target can rotate (a regular file with `maxbytes > 0`).
    pub fn rotates(&self) -> bool {
        self.regular && self.maxbytes > 0
    }

    /// Whether the target is a regular file (what [`splice_from`](Self::splice_from) needs).
    pub fn is_regular(&self) -> bool {
        self.regular
    }

    /// Append `data` with one `write(2)` (more only on short writes), then rotate if the
    /// file reached `maxbytes`, as `RotatingFileHandler.emit` does.
    pub fn write(&mut self, data: &[u8]) -> io::Result<()> {
        if data.is_empty() {
            return Ok(());
        }
        if self.file.is_none() {
            self.open_file(false)?;
            self.closed = false;
        }
        let f = self.file.as_mut().expect("opened above");
        if self.seek_to_end {
            f.seek(io::SeekFrom::End(0))?;
        }
        f.write_all(data)?;
        self.size = self.size.saturating_add(data.len() as u64);
        self.rotate_if_full()
    }

    /// Move up to `max` bytes from the pipe `pipe` to the end of the file with one `splice(2)`
    /// (non-blocking), then rotate if the file reached `maxbytes`, as [`write`](Self::write)
    /// does. Returns the splice's result (bytes moved, 0 at end of input, `WouldBlock` when
    /// the pipe is empty; `EINVAL` for a target that is not a regular file) and the rotation's.
    /// When the splice fails no byte has left the pipe, so the caller can still read them.
    pub fn splice_from(&mut self, pipe: RawFd, max: usize) -> (io::Result<usize>, io::Result<()>) {
        if !self.regular {
            return (Err(io::Error::from_raw_os_error(libc::EINVAL)), Ok(()));
        }
        if self.file.is_none() {
            if let Err(e) = self.open_file(false) {
                return (Err(e), Ok(()));
            }
            self.closed = false;
        }
        let f = self.file.as_mut().expect("opened above");
        let fd = f.as_raw_fd();
        if !self.seek_to_end {
            // SAFETY: fcntl on a descriptor we own.
            let cleared = unsafe {
                let flags = libc::fcntl(fd, libc::F_GETFL);
                flags >= 0 && libc::fcntl(fd, libc::F_SETFL, flags & !libc::O_APPEND) == 0
            };
            if !cleared {
                return (Err(io::Error::last_os_error()), Ok(()));
            }
            self.seek_to_end = true;
        }
        if let Err(e) = f.seek(io::SeekFrom::End(0)) {
            return (Err(e), Ok(()));
        }
        // SAFETY: both descriptors are open; null offsets mean "the fd's own position".
        let n = unsafe {
            libc::splice(
                pipe,
                std::ptr::null_mut(),
                fd,
                std::ptr::null_mut(),
                max,
                libc::SPLICE_F_MOVE | libc::SPLICE_F_NONBLOCK,
            )
        };
        if n < 0 {
            return (Err(io::Error::last_os_error()), Ok(()));
        }
        let n = n as usize;
        self.size = self.size.saturating_add(n as u64);
        (Ok(n), if n > 0 { self.rotate_if_full() } else { Ok(()) })
    }

    /// How much to take from a child's pipe in one read or splice, at most `max`: no more than
    /// [`NEAR_ROLLOVER`] once the file is that close to `maxbytes`, so that a file goes over
    /// `maxbytes` by less than 64 KiB, as when each read took at most a default pipe's worth
    /// (the reference's bound), even from an enlarged pipe.
    pub fn chunk_len(&self, max: usize) -> usize {
        if !self.rotates() {
            return max;
        }
        let room = self.maxbytes.saturating_sub(self.size);
        max.min(room.max(NEAR_ROLLOVER as u64) as usize)
    }

    /// `RotatingFileHandler.emit`'s check after each write: roll over once the file reached
    /// `maxbytes`.
    fn rotate_if_full(&mut self) -> io::Result<()> {
        if self.rotates() && self.size >= self.maxbytes {
            self.do_rollover()?;
        }
        Ok(())
    }

    /// `RotatingFileHandler.doRollover`: shift `x.N-1`→`x.N` … `x.1`→`x.2`, `x`→`x.1`, then
    /// start a fresh `x`. With `backups == 0` the file is simply truncated.
    fn do_rollover(&mut self) -> io::Result<()> {
        self.file = None;
        let mut result = Ok(());
        if self.backups > 0 {
            for i in (1..self.backups).rev() {
                let src = numbered(&self.path, i);
                if src.exists()
                    && let Err(e) = remove_and_rename(&src, &numbered(&self.path, i + 1))
                {
                    result = Err(e);
                }
            }
            if let Err(e) = remove_and_rename(&self.path, &numbered(&self.path, 1)) {
                result = Err(e);
            }
        }
        // The reference opens the new file with 'wb'.
        let reopened = self.open_file(true);
        result.and(reopened)
    }

    /// Close and reopen the same path in append mode (SIGUSR2, after an external rotation).
    /// A [`close`](Self::close)d file is created at its path if missing, and stays closed.
    pub fn reopen(&mut self) -> io::Result<()> {
        self.file = None;
        let r = self.open_file(false);
        self.keep_closed();
        r
    }

    /// What the reference's `removelogs` does to a child log (`handler.remove()` then
    /// `handler.reopen()`): delete the file (backups are kept) and start an empty one at the
    /// same path. A non-regular target (a device, a pipe) is only reopened, never removed.
    /// A [`close`](Self::close)d file stays closed.
    pub fn clear(&mut self) -> io::Result<()> {
        self.file = None;
        if self.regular {
            remove_ignoring_enoent(&self.path)?;
        }
        let r = self.open_file(false);
        self.keep_closed();
        r
    }

    /// Let go of the descriptor: nothing will be written for a while (the process is not
    /// running). The next write or splice opens the path again (appending, as at the start).
    pub fn close(&mut self) {
        self.file = None;
        self.closed = true;
    }

    /// Whether a descriptor is held.
    #[cfg(test)]
    pub fn is_open(&self) -> bool {
        self.file.is_some()
    }

    fn keep_closed(&mut self) {
        if self.closed {
            self.file = None;
        }
    }
}

#[cfg(test)]
pub(crate) mod tests;
