//! The child's stdio pipes (the reference's `make_pipes`) and the fd limit the child closes up to.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

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
    let (stdin, child_stdin) = if with_stdin {
        let (r, w) = pipe()?;
        nonblocking(&w)?;
        (Some(w), Some(r))
    } else {
        (None, None)
    };
    let (stdout, child_stdout) = if with_stdout {
        let (r, w) = pipe()?;
        nonblocking(&r)?;
        (Some(r), Some(w))
    } else {
        (None, None)
    };
    let (stderr, child_stderr) = if with_stderr {
        let (r, w) = pipe()?;
        nonblocking(&r)?;
        (Some(r), Some(w))
    } else {
        (None, None)
    };
    Ok(Pipes {
        stdin,
        child_stdin,
        stdout,
        child_stdout,
        stderr,
        child_stderr,
    })
}
