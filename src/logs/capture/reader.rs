//! The tokio task that pumps a child's pipe into its [`OutputSink`]: `splice(2)` into the log
//! file when nothing else wants the bytes, reads into a shared buffer otherwise; full pipes
//! are enlarged.

use std::io;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokio::io::unix::AsyncFd;

use super::{OutputSink, lock_sink};

/// The most one read takes from a pipe (and one splice from a pipe of the default size).
/// Near a log file's rollover point, less ([`OutputSink::chunk_len`]).
pub(super) const CHUNK: usize = 256 * 1024;

/// A pipe found full (one read or splice took all it holds: the child writes faster than it
/// is drained) is enlarged to this, from the kernel's 64 KiB. For 512 MiB written in 1 MiB
/// blocks (`bench/run.sh --figures logcap`) the daemon then wakes ~600 times instead of
/// ~8200, and spends about half the CPU per byte spliced into an ext4 file. The kernel
/// allocates a pipe's pages only while they hold data; the size still counts against an
/// unprivileged user's `fs.pipe-user-pages-soft`.
pub(super) const BIG_PIPE: usize = 1 << 20;
/// At most this many pipes are enlarged at a time (worst case 16 MiB of kernel memory, and
/// 4096 pages of the 16384 that `fs.pipe-user-pages-soft` allows an unprivileged user).
const MAX_BIG_PIPES: usize = 16;
static BIG_PIPES: AtomicUsize = AtomicUsize::new(0);

/// The size of the pipe one reader drains, and whether it holds one of the
/// [`MAX_BIG_PIPES`] slots (given back on drop).
pub(super) struct PipeSize {
    fd: RawFd,
    /// Capacity in bytes; 0 when it is not a pipe, already big, or cannot be enlarged.
    cap: usize,
    pub(super) big: bool,
}

impl PipeSize {
    pub(super) fn new(fd: RawFd) -> Self {
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
    pub(super) fn splice_len(&self) -> usize {
        if self.big { BIG_PIPE } else { CHUNK }
    }

    /// One read or splice took `n` bytes: if that was the whole pipe, enlarge it (once, if a
    /// slot is free).
    pub(super) fn took(&mut self, n: usize) {
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
