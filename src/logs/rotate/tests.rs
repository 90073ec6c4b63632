//! Rotation against real files: names, shifts, append mode, non-seekable targets.

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
