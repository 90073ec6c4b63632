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
//! - a failed rename during rotation does not leave the handler closed: the path is reopened.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

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
        let mut rf = RotatingFile { path, file: None, maxbytes, backups, size: 0, regular: false };
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
                let special = ft.is_fifo() || ft.is_char_device() || ft.is_block_device()
                    || ft.is_socket() || !ft.is_file();
                (!special && !is_special_path(&self.path), m.len())
            }
            Err(_) => (false, 0),
        };
        self.regular = regular;
        self.size = if regular { size } else { 0 };
        self.file = Some(f);
        Ok(())
    }

    /// The path this file was opened with.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Bytes in the current file as tracked in memory (0 for non-regular targets).
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Whether this target can rotate (a regular file with `maxbytes > 0`).
    pub fn rotates(&self) -> bool {
        self.regular && self.maxbytes > 0
    }

    /// Append `data` with one `write(2)` (more only on short writes), then rotate if the
    /// file reached `maxbytes`, as `RotatingFileHandler.emit` does.
    pub fn write(&mut self, data: &[u8]) -> io::Result<()> {
        if data.is_empty() {
            return Ok(());
        }
        if self.file.is_none() {
            self.open_file(false)?;
        }
        let f = self.file.as_mut().expect("opened above");
        f.write_all(data)?;
        self.size = self.size.saturating_add(data.len() as u64);
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
                if src.exists() {
                    if let Err(e) = remove_and_rename(&src, &numbered(&self.path, i + 1)) {
                        result = Err(e);
                    }
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
    pub fn reopen(&mut self) -> io::Result<()> {
        self.file = None;
        self.open_file(false)
    }

    /// What the reference's `removelogs` does to a child log (`handler.remove()` then
    /// `handler.reopen()`): delete the file (backups are kept) and start an empty one at the
    /// same path. A non-regular target (a device, a pipe) is only reopened, never removed.
    pub fn clear(&mut self) -> io::Result<()> {
        self.file = None;
        if self.regular {
            remove_ignoring_enoent(&self.path)?;
        }
        self.open_file(false)
    }

    /// Flush (a no-op beyond the kernel: writes are unbuffered).
    pub fn flush(&mut self) -> io::Result<()> {
        match self.file.as_mut() {
            Some(f) => f.flush(),
            None => Ok(()),
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
        std::fs::OpenOptions::new().append(true).open(&p).unwrap().write_all(b"ext\n").unwrap();
        f.write(b"more\n").unwrap();
        assert_eq!(read(&p), "old\nnew\next\nmore\n");
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
        let mut names: Vec<String> = std::fs::read_dir(&d).unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        names.sort();
        assert_eq!(names, vec!["x.log", "x.log.1", "x.log.2"]);
        assert_eq!(read(&p), "g\n");
        assert_eq!(read(&d.join("x.log.1")), "eeeeee\nffffff\n");
        assert_eq!(read(&d.join("x.log.2")), "cccccc\ndddddd\n");
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
        assert_eq!(f.size(), 2);
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
