//! Ctrl-C as Python's `KeyboardInterrupt`: something that ends a wait, not the process.
//!
//! Once [`arm`]ed (for the interactive shell, `tail -f`, `maintail -f` and `fg`), SIGINT
//! writes a byte into a socket pair (signal-hook's self-pipe registration) and every blocking
//! wait of the client goes through [`wait`], which polls that pipe beside the descriptors it
//! waits for and answers [`Interrupted`] when the byte arrives. A command then unwinds as
//! the stock client's does on `KeyboardInterrupt` (`tail -f` prints a newline and returns,
//! the shell exits). Not armed, SIGINT keeps its default action, as for the stock client's
//! one-shot commands (Python dies of the signal there too).

use std::io::Read;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::os::unix::net::UnixStream;
use std::sync::OnceLock;

use nix::poll::{PollFd, PollFlags, PollTimeout, poll};

/// Ctrl-C was pressed while waiting.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Interrupted;

static PIPE: OnceLock<Option<UnixStream>> = OnceLock::new();

/// Route SIGINT into the self-pipe from now on (idempotent; stays for the process's life).
pub fn arm() {
    PIPE.get_or_init(|| {
        let (read, write) = UnixStream::pair().ok()?;
        read.set_nonblocking(true).ok()?;
        write.set_nonblocking(true).ok()?;
        signal_hook::low_level::pipe::register(libc::SIGINT, write).ok()?;
        Some(read)
    });
}

fn pipe() -> Option<&'static UnixStream> {
    PIPE.get().and_then(|p| p.as_ref())
}

/// Take every pending Ctrl-C; true if there was one.
fn drain(p: &UnixStream) -> bool {
    let mut buf = [0u8; 64];
    let mut any = false;
    let mut r = p;
    while let Ok(n) = r.read(&mut buf) {
        if n == 0 {
            break;
        }
        any = true;
    }
    any
}

/// True if Ctrl-C was pressed since the last wait (consumes it).
pub fn pending() -> bool {
    pipe().is_some_and(drain)
}

/// Wait until one of `fds` is readable (or hung up); returns their readiness in order.
/// Without [`arm`], this only polls `fds`.
pub fn wait(fds: &[RawFd]) -> Result<Vec<bool>, Interrupted> {
    loop {
        // SAFETY: the caller keeps each descriptor open for the duration of this call.
        let borrowed: Vec<BorrowedFd<'_>> = fds
            .iter()
            .map(|&fd| unsafe { BorrowedFd::borrow_raw(fd) })
            .collect();
        let mut pfds: Vec<PollFd<'_>> = borrowed
            .iter()
            .map(|fd| PollFd::new(*fd, PollFlags::POLLIN))
            .collect();
        let p = pipe();
        if let Some(p) = p {
            pfds.push(PollFd::new(p.as_fd(), PollFlags::POLLIN));
        }
        match poll(&mut pfds, PollTimeout::NONE) {
            Ok(_) => {}
            Err(nix::errno::Errno::EINTR) => continue,
            Err(_) => return Ok(vec![true; fds.len()]),
        }
        if let Some(p) = p
            && pfds
                .last()
                .and_then(|f| f.revents())
                .is_some_and(|r| !r.is_empty())
            && drain(p)
        {
            return Err(Interrupted);
        }
        let ready: Vec<bool> = pfds[..fds.len()]
            .iter()
            .map(|f| f.revents().is_some_and(|r| !r.is_empty()))
            .collect();
        if ready.iter().any(|&r| r) {
            return Ok(ready);
        }
    }
}

/// Wait until `fd` is readable, unless the pipe is not armed (then return at once: the
/// read that follows blocks as usual).
pub fn wait_one(fd: &impl AsRawFd) -> Result<(), Interrupted> {
    if pipe().is_none() {
        return Ok(());
    }
    wait(&[fd.as_raw_fd()]).map(|_| ())
}
