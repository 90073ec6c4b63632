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
pub(crate) mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    /// A fresh empty directory under the system temp dir.
    pub(crate) fn tempdir(tag: &str) -> PathBuf {
        static N: AtomicU32 = AtomicU32::new(0);
        let d = std::env::temp_dir().join(format!(
            "svlogs-{}-{}-{}",
            tag,
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    fn read(p: &Path) -> String {
        String::from_utf8(std::fs::read(p).unwrap()).unwrap()
    }

    #[test]
    fn append_mode_keeps_existing_content() {
        let d = tempdir("append");
        let p = d.join("x.log");
        std::fs::write(&p, "old\n").unwrap();
        let mut f = RotatingFile::open(&p, 0, 0).unwrap();
        f.write(b"new\n").unwrap();
        assert_eq!(read(&p), "old\nnew\n");
        // An external writer appending in between is not overwritten.
        std::fs::OpenOptions::new()
            .append(true)
            .open(&p)
            .unwrap()
            .write_all(b"ext\n")
            .unwrap();
        f.write(b"more\n").unwrap();
        assert_eq!(read(&p), "old\nnew\next\nmore\n");
    }

    /// What writing 7-byte lines `aaaaaa` … `ffffff`, then `g`, leaves with maxbytes 10 and 2
    /// backups in `d`.
    fn assert_rotated_a_to_g(d: &Path) {
        let mut names: Vec<String> = std::fs::read_dir(d)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names, vec!["x.log", "x.log.1", "x.log.2"]);
        assert_eq!(read(&d.join("x.log")), "g\n");
        assert_eq!(read(&d.join("x.log.1")), "eeeeee\nffffff\n");
        assert_eq!(read(&d.join("x.log.2")), "cccccc\ndddddd\n");
    }

    /// Matches what supervisor's RotatingFileHandler(maxBytes=10, backupCount=2) leaves
    /// after emitting "aaaaaa\n", "bbbbbb\n", ... "ffffff\n" (checked against the reference).
    #[test]
    fn rotation_names_and_shifting() {
        let d = tempdir("rot");
        let p = d.join("x.log");
        let mut f = RotatingFile::open(&p, 10, 2).unwrap();
        for c in ["a", "b", "c", "d", "e", "f"] {
            f.write(format!("{}\n", c.repeat(6)).as_bytes()).unwrap();
        }
        f.write(b"g\n").unwrap();
        assert_rotated_a_to_g(&d);
    }

    #[test]
    fn rotation_respects_existing_size_and_zero_backups_truncates() {
        let d = tempdir("rot0");
        let p = d.join("x.log");
        std::fs::write(&p, "123456789").unwrap();
        let mut f = RotatingFile::open(&p, 10, 0).unwrap();
        f.write(b"ab").unwrap(); // 11 >= 10: truncated in place
        assert_eq!(read(&p), "");
        f.write(b"cd").unwrap();
        assert_eq!(read(&p), "cd");
        assert!(!d.join("x.log.1").exists());
    }

    #[test]
    fn maxbytes_zero_never_rotates() {
        let d = tempdir("norot");
        let p = d.join("x.log");
        let mut f = RotatingFile::open(&p, 0, 5).unwrap();
        for _ in 0..100 {
            f.write(b"0123456789").unwrap();
        }
        assert_eq!(std::fs::metadata(&p).unwrap().len(), 1000);
        assert!(!d.join("x.log.1").exists());
    }

    #[test]
    fn non_seekable_targets_never_rotate_or_fail() {
        let mut f = RotatingFile::open("/dev/null", 1, 3).unwrap();
        for _ in 0..10 {
            f.write(b"hello world\n").unwrap();
        }
        f.reopen().unwrap();
        f.clear().unwrap();
        f.write(b"x").unwrap();
        assert!(Path::new("/dev/null").exists());
        assert!(!Path::new("/dev/null.1").exists());

        // A pipe, through /proc/self/fd.
        let mut fds = [0; 2];
        assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
        let path = format!("/proc/self/fd/{}", fds[1]);
        let mut f = RotatingFile::open(&path, 2, 2).unwrap();
        f.write(b"abc").unwrap();
        f.write(b"def").unwrap();
        f.reopen().unwrap();
        f.write(b"g").unwrap();
        let mut buf = [0u8; 16];
        let n = unsafe { libc::read(fds[0], buf.as_mut_ptr() as *mut _, 16) };
        assert_eq!(&buf[..n as usize], b"abcdefg");
        unsafe {
            libc::close(fds[0]);
            libc::close(fds[1]);
        }
    }

    #[test]
    fn fd_path_to_a_socket_falls_back_to_dup() {
        let (a, b) = std::os::unix::net::UnixStream::pair().unwrap();
        use std::os::fd::AsRawFd;
        let path = format!("/dev/fd/{}", a.as_raw_fd());
        let mut f = RotatingFile::open(&path, 1, 1).unwrap();
        f.write(b"sock").unwrap();
        f.write(b"et").unwrap();
        let mut buf = [0u8; 6];
        std::io::Read::read_exact(&mut &b, &mut buf).unwrap();
        assert_eq!(&buf, b"socket");
    }

    #[test]
    fn reopen_after_external_rename_writes_new_file() {
        let d = tempdir("reopen");
        let p = d.join("x.log");
        let mut f = RotatingFile::open(&p, 0, 0).unwrap();
        f.write(b"one\n").unwrap();
        std::fs::rename(&p, d.join("x.log.old")).unwrap();
        f.write(b"two\n").unwrap(); // still the renamed file
        f.reopen().unwrap();
        f.write(b"three\n").unwrap();
        assert_eq!(read(&d.join("x.log.old")), "one\ntwo\n");
        assert_eq!(read(&p), "three\n");
    }

    /// How many of this process's descriptors are open on `p`.
    pub(crate) fn fds_on(p: &Path) -> usize {
        std::fs::read_dir("/proc/self/fd")
            .unwrap()
            .flatten()
            .filter(|e| std::fs::read_link(e.path()).is_ok_and(|t| t == p))
            .count()
    }

    #[test]
    fn a_closed_file_holds_no_descriptor_until_written() {
        let d = tempdir("close");
        let p = d.join("x.log");
        let mut f = RotatingFile::open(&p, 10, 1).unwrap();
        f.write(b"one\n").unwrap();
        assert_eq!(fds_on(&p), 1);
        f.close();
        assert!(!f.is_open());
        assert_eq!(fds_on(&p), 0);
        // Moved aside while closed (logrotate): reopen (SIGUSR2) creates the file, stays closed.
        std::fs::rename(&p, d.join("x.log.old")).unwrap();
        f.reopen().unwrap();
        assert!(p.exists() && !f.is_open());
        // clearProcessLogs: a fresh empty file, still closed.
        std::fs::write(&p, b"stale").unwrap();
        f.clear().unwrap();
        assert_eq!(read(&p), "");
        assert!(!f.is_open());
        assert_eq!(fds_on(&p), 0);
        // The next write opens the path again and rotation goes on as before.
        f.write(b"two\n").unwrap();
        assert!(f.is_open());
        f.write(b"three\n").unwrap();
        assert_eq!(read(&d.join("x.log.1")), "two\nthree\n");
        assert_eq!(read(&d.join("x.log.old")), "one\n");
        assert_eq!(read(&p), "");
        assert_eq!(fds_on(&p), 1);
    }

    #[test]
    fn clear_removes_file_keeps_backups() {
        let d = tempdir("clear");
        let p = d.join("x.log");
        let mut f = RotatingFile::open(&p, 5, 1).unwrap();
        f.write(b"123456").unwrap();
        f.write(b"ab").unwrap();
        f.clear().unwrap();
        assert_eq!(read(&p), "");
        assert_eq!(read(&d.join("x.log.1")), "123456");
        f.write(b"cd").unwrap();
        assert_eq!(read(&p), "cd");
        assert_eq!(f.size, 2);
    }

    /// A pipe (read end, write end), the read end non-blocking as the reader's is.
    pub(crate) fn nonblocking_pipe() -> (std::os::fd::OwnedFd, File) {
        use std::os::fd::FromRawFd;
        let mut fds = [0; 2];
        assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
        assert_eq!(
            unsafe { libc::fcntl(fds[0], libc::F_SETFL, libc::O_NONBLOCK) },
            0
        );
        unsafe {
            (
                std::os::fd::OwnedFd::from_raw_fd(fds[0]),
                File::from_raw_fd(fds[1]),
            )
        }
    }

    fn splice_all(f: &mut RotatingFile, pipe: &std::os::fd::OwnedFd) -> usize {
        let (moved, rotated) = f.splice_from(pipe.as_raw_fd(), 1 << 20);
        rotated.unwrap();
        moved.unwrap()
    }

    #[test]
    fn splice_appends_like_write() {
        let d = tempdir("splice");
        let p = d.join("x.log");
        std::fs::write(&p, "old\n").unwrap();
        let mut f = RotatingFile::open(&p, 0, 0).unwrap();
        let (rd, mut wr) = nonblocking_pipe();
        // Empty pipe: WouldBlock, nothing written.
        let (moved, _) = f.splice_from(rd.as_raw_fd(), 1 << 20);
        assert_eq!(moved.unwrap_err().kind(), io::ErrorKind::WouldBlock);
        wr.write_all(b"one\n").unwrap();
        assert_eq!(splice_all(&mut f, &rd), 4);
        // An external writer appending in between, then a write and a splice: all at the end.
        std::fs::OpenOptions::new()
            .append(true)
            .open(&p)
            .unwrap()
            .write_all(b"ext\n")
            .unwrap();
        f.write(b"two\n").unwrap();
        wr.write_all(b"three\n").unwrap();
        assert_eq!(splice_all(&mut f, &rd), 6);
        assert_eq!(read(&p), "old\none\next\ntwo\nthree\n");
        // Truncated behind our back (copytruncate): the next bytes land at 0, no hole.
        std::fs::OpenOptions::new()
            .write(true)
            .open(&p)
            .unwrap()
            .set_len(0)
            .unwrap();
        wr.write_all(b"four\n").unwrap();
        assert_eq!(splice_all(&mut f, &rd), 5);
        assert_eq!(read(&p), "four\n");
        // Reopen and clear start over in append mode; splicing resumes.
        std::fs::rename(&p, d.join("x.log.moved")).unwrap();
        f.reopen().unwrap();
        wr.write_all(b"five\n").unwrap();
        assert_eq!(splice_all(&mut f, &rd), 5);
        f.clear().unwrap();
        wr.write_all(b"six\n").unwrap();
        assert_eq!(splice_all(&mut f, &rd), 4);
        f.write(b"seven\n").unwrap();
        assert_eq!(read(&d.join("x.log.moved")), "four\n");
        assert_eq!(read(&p), "six\nseven\n");
        // End of input.
        drop(wr);
        assert_eq!(splice_all(&mut f, &rd), 0);
    }

    /// The same rollover points as `rotation_names_and_shifting`, fed by splices.
    #[test]
    fn splice_rotates_like_write() {
        let d = tempdir("splicerot");
        let p = d.join("x.log");
        let mut f = RotatingFile::open(&p, 10, 2).unwrap();
        let (rd, mut wr) = nonblocking_pipe();
        for c in ["a", "b", "c", "d", "e", "f"] {
            wr.write_all(format!("{}\n", c.repeat(6)).as_bytes())
                .unwrap();
            assert_eq!(splice_all(&mut f, &rd), 7);
        }
        wr.write_all(b"g\n").unwrap();
        assert_eq!(splice_all(&mut f, &rd), 2);
        assert_rotated_a_to_g(&d);
    }

    #[test]
    fn chunks_shrink_near_the_rollover_point() {
        let d = tempdir("chunk");
        let p = d.join("x.log");
        let mut f = RotatingFile::open(&p, 1_000_000, 1).unwrap();
        assert_eq!(f.chunk_len(1 << 20), 1_000_000);
        f.write(&vec![b'x'; 900_000]).unwrap();
        assert_eq!(f.chunk_len(1 << 20), 100_000);
        assert_eq!(f.chunk_len(50_000), 50_000);
        f.write(&vec![b'x'; 90_000]).unwrap();
        assert_eq!(f.chunk_len(1 << 20), NEAR_ROLLOVER);
        let never = RotatingFile::open(d.join("y.log"), 0, 1).unwrap();
        assert_eq!(never.chunk_len(1 << 20), 1 << 20);
    }

    #[test]
    fn splice_refuses_non_regular_targets() {
        let mut f = RotatingFile::open("/dev/null", 0, 0).unwrap();
        let (rd, mut wr) = nonblocking_pipe();
        wr.write_all(b"kept").unwrap();
        let (moved, _) = f.splice_from(rd.as_raw_fd(), 1 << 20);
        assert_eq!(moved.unwrap_err().raw_os_error(), Some(libc::EINVAL));
        // The bytes are still in the pipe.
        let mut buf = [0u8; 8];
        assert_eq!(io::Read::read(&mut File::from(rd), &mut buf).unwrap(), 4);
    }

    #[test]
    fn special_paths_are_the_non_regular_ones() {
        assert!(is_special_path(Path::new("/dev/stdout")));
        assert!(is_special_path(Path::new("/dev/null")));
        assert!(is_special_path(Path::new("/proc/self/fd/1")));
        assert!(is_special_path(Path::new("/dev/no-such-file")));
        assert!(!is_special_path(Path::new("/var/log/x.log")));
        // A regular file on the /dev/shm tmpfs rotates like any other.
        let shm = Path::new("/dev/shm");
        if shm.is_dir() {
            let p = shm.join(format!("svlogs-shm-{}.log", std::process::id()));
            let mut f = RotatingFile::open(&p, 4, 1).unwrap();
            f.write(b"12345").unwrap();
            let rotated = numbered(&p, 1);
            assert_eq!(std::fs::read(&rotated).unwrap(), b"12345");
            let _ = std::fs::remove_file(&p);
            let _ = std::fs::remove_file(&rotated);
        }
    }
}
