//! The child's stdio pipes (the reference's `make_pipes`), the fd limit the child closes up to,
//! and the slots ([`in_slots`]) that hand the child its three sources low in a shared descriptor table.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::{Mutex, OnceLock};

/// The highest fd the child may have to close when `close_range` is unavailable.
pub(super) fn max_fd() -> libc::c_int {
    // SAFETY: sysconf has no preconditions.
    let n = unsafe { libc::sysconf(libc::_SC_OPEN_MAX) };
    if n <= 0 {
        1024
    } else {
        n.min(1 << 20) as libc::c_int
    }
}

pub(super) struct Pipes {
    pub(super) stdin: Option<OwnedFd>,
    pub(super) child_stdin: Option<OwnedFd>,
    pub(super) stdout: Option<OwnedFd>,
    pub(super) child_stdout: Option<OwnedFd>,
    pub(super) stderr: Option<OwnedFd>,
    pub(super) child_stderr: Option<OwnedFd>,
}

/// The reference's `make_pipes`: all fds CLOEXEC, the parent's ends non-blocking; a stream
/// without a pipe is one the child gets elsewhere (a socket for stdin, `/dev/null` for output).
/// Returns the errno on failure (every fd made so far is closed).
pub(super) fn make_pipes(
    with_stdin: bool,
    with_stdout: bool,
    with_stderr: bool,
) -> Result<Pipes, i32> {
    fn pipe() -> Result<(OwnedFd, OwnedFd), i32> {
        let mut fds = [0 as libc::c_int; 2];
        // SAFETY: fds has room for two fds.
        if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
            return Err(std::io::Error::last_os_error()
                .raw_os_error()
                .unwrap_or(libc::EIO));
        }
        // SAFETY: pipe2 just returned these two fds, owned by nobody else.
        Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
    }
    fn nonblocking(fd: &OwnedFd) -> Result<(), i32> {
        // SAFETY: fcntl on an fd we own.
        unsafe {
            let flags = libc::fcntl(fd.as_raw_fd(), libc::F_GETFL);
            if flags < 0 || libc::fcntl(fd.as_raw_fd(), libc::F_SETFL, flags | libc::O_NONBLOCK) < 0
            {
                return Err(std::io::Error::last_os_error()
                    .raw_os_error()
                    .unwrap_or(libc::EIO));
            }
        }
        Ok(())
    }
    type Ends = (Option<OwnedFd>, Option<OwnedFd>);
    // (ours, the child's): the child reads stdin and writes its output.
    let stream = |wanted: bool, child_reads: bool| -> Result<Ends, i32> {
        if !wanted {
            return Ok((None, None));
        }
        let (r, w) = pipe()?;
        let (ours, theirs) = if child_reads { (w, r) } else { (r, w) };
        nonblocking(&ours)?;
        Ok((Some(ours), Some(theirs)))
    };
    let (stdin, child_stdin) = stream(with_stdin, true)?;
    let (stdout, child_stdout) = stream(with_stdout, false)?;
    let (stderr, child_stderr) = stream(with_stderr, false)?;
    Ok(Pipes {
        stdin,
        child_stdin,
        stdout,
        child_stdout,
        stderr,
        child_stderr,
    })
}

/// `/dev/null` opened for writing once for the daemon's lifetime (CLOEXEC: a child only gets
/// it through its own `dup2` onto fd 1 or 2); `None` if it cannot be opened.
pub(super) fn dev_null() -> Option<RawFd> {
    static NULL: OnceLock<Option<OwnedFd>> = OnceLock::new();
    NULL.get_or_init(|| {
        std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/null")
            .ok()
            .map(OwnedFd::from)
    })
    .as_ref()
    .map(|f| f.as_raw_fd())
}

/// Whether `close_range` is there to give the child its own table: Linux 5.9 brought it with
/// `CLOSE_RANGE_UNSHARE`, and a seccomp profile may refuse it (old container engines answer
/// EPERM). An empty range is refused with EINVAL by a kernel that has it, and touches nothing.
fn close_range_works() -> bool {
    // SAFETY: an invalid range (3 > 2): the kernel checks it and closes nothing.
    let r = unsafe { libc::syscall(libc::SYS_close_range, 3u32, 2u32, 0u32) };
    r < 0 && std::io::Error::last_os_error().raw_os_error() == Some(libc::EINVAL)
}

/// The slots, or `None` when they could not be opened or the child could not leave the
/// shared table.
fn slots() -> Option<&'static [OwnedFd; 3]> {
    static SLOTS: OnceLock<Option<[OwnedFd; 3]>> = OnceLock::new();
    SLOTS
        .get_or_init(|| {
            if !close_range_works() {
                return None;
            }
            let null = dev_null()?;
            let low = || {
                // SAFETY: fcntl on an open descriptor; the new one is ours alone.
                let fd = unsafe { libc::fcntl(null, libc::F_DUPFD_CLOEXEC, 3) };
                // SAFETY: fcntl just returned this descriptor.
                (fd >= 0).then(|| unsafe { OwnedFd::from_raw_fd(fd) })
            };
            Some([low()?, low()?, low()?])
        })
        .as_ref()
}

/// Three descriptors the daemon keeps on `/dev/null`, the lowest free above 2 when first used
/// (near the bottom of its table: only the daemon's own few are below them). For one spawn
/// they hold the child's three sources; the child is cloned sharing the daemon's descriptor
/// table (`CLONE_FILES`), and its first act is `close_range(below, ~0, CLOSE_RANGE_UNSHARE)`,
/// which gives it a table of its own with only the descriptors under `below`. So a spawn no
/// longer copies the daemon's whole table (a pipe end or a log file per entry, for every
/// running process) for the child to close it again, which was most of a spawn's cost at
/// 10 000 programs.
///
/// This runs `spawn` with the child's sources (stdin may be -1) moved into the slots: it gets
/// the descriptors to hand the child and the `below` bound of the table the child keeps
/// (-1 when the slots are unavailable: the sources are passed as they are, and the child
/// gets a copy of the whole table). The slots go back to `/dev/null` afterwards, so the
/// daemon holds no child's pipe end.
pub(super) fn in_slots<R>(sources: [RawFd; 3], spawn: impl FnOnce([RawFd; 3], RawFd) -> R) -> R {
    // One spawn at a time uses the slots (the actor spawns alone; tests spawn in threads).
    static LOCK: Mutex<()> = Mutex::new(());
    let (Some(slots), Some(null)) = (slots(), dev_null()) else {
        return spawn(sources, -1);
    };
    let _guard = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let mut given = [-1; 3];
    let mut moved = true;
    for (i, &src) in sources.iter().enumerate() {
        if src >= 0 {
            // SAFETY: both descriptors are open; dup3 replaces the slot's /dev/null.
            moved &= unsafe { libc::dup3(src, slots[i].as_raw_fd(), libc::O_CLOEXEC) } >= 0;
            given[i] = slots[i].as_raw_fd();
        }
    }
    let below = slots.iter().map(|s| s.as_raw_fd()).max().unwrap_or(2) + 1;
    let result = if moved {
        spawn(given, below)
    } else {
        spawn(sources, -1)
    };
    for slot in slots {
        // SAFETY: both descriptors are open.
        unsafe {
            libc::dup3(null, slot.as_raw_fd(), libc::O_CLOEXEC);
        }
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(fd: RawFd) -> String {
        std::fs::read_link(format!("/proc/self/fd/{}", fd))
            .unwrap()
            .display()
            .to_string()
    }

    #[test]
    fn the_slots_hold_a_spawns_sources_and_dev_null_otherwise() {
        let p = make_pipes(true, true, false).unwrap();
        let sources = [
            p.child_stdin.as_ref().unwrap().as_raw_fd(),
            p.child_stdout.as_ref().unwrap().as_raw_fd(),
            -1,
        ];
        if !close_range_works() {
            // Before Linux 5.9 (or under a seccomp profile without close_range): no slots,
            // the sources go as they are and the child copies the table.
            in_slots(sources, |given, below| {
                assert_eq!((given, below), (sources, -1))
            });
            return;
        }
        let seen = in_slots(sources, |given, below| {
            assert!(
                given[0] > 2 && given[1] > 2 && given[2] == -1,
                "{:?}",
                given
            );
            assert!(given[0] < below && given[1] < below);
            (
                target(given[0]),
                target(given[1]),
                target(sources[0]),
                given,
            )
        });
        assert_eq!(seen.0, seen.2, "the stdin slot held the child's stdin");
        assert!(seen.1.starts_with("pipe:"));
        for fd in &seen.3[..2] {
            assert_eq!(target(*fd), "/dev/null");
        }
    }
}
