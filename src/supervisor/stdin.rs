//! A process's stdin: `sendProcessStdin` and the event envelopes sent to listeners.
//!
//! Bytes go straight into the child's (non-blocking) pipe while it has room. What the pipe
//! cannot take waits in one ordered [`StdinQueue`] per process, drained by one writer task
//! when the child reads, so the actor never blocks and data sent by later calls never
//! overtakes earlier data. The queue is bounded ([`QUEUE_LIMIT`]): a call that would go past
//! it is refused ([`StdinError::Full`]) rather than buffered without limit. Closing the
//! [`Stdin`] (the child was reaped) drops the queue and stops the writer.

use std::collections::VecDeque;
use std::os::fd::{AsFd, OwnedFd};
use std::sync::{Arc, Mutex};

use nix::errno::Errno;

/// The most bytes that may wait for a child to read its stdin. A call that finds the queue
/// empty is always taken whole (one request body is at most 8 MiB), so a client can still
/// send one large block to a child that reads slowly.
pub const QUEUE_LIMIT: usize = 4 << 20;

/// Why a write to a child's stdin failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StdinError {
    /// The child closed its stdin (or never had one): the reference's `EPIPE`.
    Closed,
    /// This many bytes already wait for the child to read: nothing of this call was taken.
    Full { waiting: usize },
    /// Another error of `write(2)`.
    Os(Errno),
}

/// The bytes that wait for room in the pipe, in the order they were sent. Pure bookkeeping:
/// it knows nothing of descriptors.
#[derive(Debug)]
pub struct StdinQueue {
    chunks: VecDeque<Vec<u8>>,
    /// Bytes of the front chunk already written.
    head: usize,
    /// Bytes waiting, over all chunks.
    waiting: usize,
    limit: usize,
}

impl StdinQueue {
    pub fn new(limit: usize) -> StdinQueue {
        StdinQueue {
            chunks: VecDeque::new(),
            head: 0,
            waiting: 0,
            limit,
        }
    }

    /// Bytes waiting to be written.
    pub fn waiting(&self) -> usize {
        self.waiting
    }

    pub fn is_empty(&self) -> bool {
        self.waiting == 0
    }

    /// Whether `n` more bytes may be queued: always into an empty queue, else while the
    /// total stays within the limit.
    pub fn accepts(&self, n: usize) -> bool {
        self.waiting == 0 || self.waiting.saturating_add(n) <= self.limit
    }

    /// Queue `data` after everything already waiting (the caller checked [`accepts`](Self::accepts)).
    pub fn push(&mut self, data: Vec<u8>) {
        if data.is_empty() {
            return;
        }
        self.waiting += data.len();
        self.chunks.push_back(data);
    }

    /// The next bytes to write, if any.
    pub fn front(&self) -> Option<&[u8]> {
        self.chunks.front().map(|c| &c[self.head..])
    }

    /// `n` bytes of [`front`](Self::front) were written.
    pub fn consume(&mut self, n: usize) {
        let Some(front) = self.chunks.front() else {
            return;
        };
        let n = n.min(front.len() - self.head);
        self.head += n;
        self.waiting -= n;
        if self.head == front.len() {
            self.chunks.pop_front();
            self.head = 0;
        }
    }

    /// Forget everything waiting.
    pub fn clear(&mut self) {
        self.chunks.clear();
        self.head = 0;
        self.waiting = 0;
    }
}

/// What the actor and the writer task share.
#[derive(Debug)]
struct Shared {
    queue: StdinQueue,
    /// A writer task is draining the queue.
    writing: bool,
    /// The writer met an error (the child closed its stdin): later writes fail at once.
    broken: bool,
}

/// The write end of a child's stdin with its queue and writer.
#[derive(Debug)]
pub struct Stdin {
    fd: OwnedFd,
    limit: usize,
    /// A direct write met `EPIPE`: the child closed its stdin.
    broken: bool,
    /// The queue and the writer's flags, made when the pipe is first found full (most
    /// children never need them).
    shared: Option<Arc<Mutex<Shared>>>,
    writer: Option<tokio::task::JoinHandle<()>>,
}

fn lock(shared: &Mutex<Shared>) -> std::sync::MutexGuard<'_, Shared> {
    shared.lock().unwrap_or_else(|e| e.into_inner())
}

/// Write as much of `data` as the non-blocking `fd` takes now; the count written.
fn write_now(fd: impl AsFd, data: &[u8]) -> Result<usize, StdinError> {
    let mut off = 0;
    while off < data.len() {
        match nix::unistd::write(fd.as_fd(), &data[off..]) {
            Ok(n) => off += n,
            Err(Errno::EINTR) => continue,
            Err(Errno::EAGAIN) => break,
            Err(Errno::EPIPE) => return Err(StdinError::Closed),
            Err(e) => return Err(StdinError::Os(e)),
        }
    }
    Ok(off)
}

impl Stdin {
    /// Take the write end of a child's stdin pipe (non-blocking).
    pub fn new(fd: OwnedFd) -> Stdin {
        Stdin::with_limit(fd, QUEUE_LIMIT)
    }

    pub fn with_limit(fd: OwnedFd, limit: usize) -> Stdin {
        Stdin {
            fd,
            limit,
            broken: false,
            shared: None,
            writer: None,
        }
    }

    /// Bytes waiting for the child to read.
    #[cfg(test)]
    fn waiting(&self) -> usize {
        self.shared
            .as_ref()
            .map_or(0, |sh| lock(sh).queue.waiting())
    }

    /// Send `data` after everything sent before. What the pipe cannot take now is queued for
    /// the writer task (started here when none runs). Must be called inside a tokio runtime.
    pub fn write(&mut self, data: &[u8]) -> Result<(), StdinError> {
        if self.broken {
            return Err(StdinError::Closed);
        }
        if let Some(shared) = &self.shared {
            let mut sh = lock(shared);
            if sh.broken {
                return Err(StdinError::Closed);
            }
            if !sh.queue.accepts(data.len()) {
                return Err(StdinError::Full {
                    waiting: sh.queue.waiting(),
                });
            }
            if sh.writing || !sh.queue.is_empty() {
                sh.queue.push(data.to_vec());
                return Ok(());
            }
        }
        let off =
            write_now(&self.fd, data).inspect_err(|e| self.broken = *e == StdinError::Closed)?;
        if off == data.len() {
            return Ok(());
        }
        let dup = self
            .fd
            .try_clone()
            .map_err(|e| StdinError::Os(Errno::from_raw(e.raw_os_error().unwrap_or(0))))?;
        let limit = self.limit;
        let shared = self.shared.get_or_insert_with(|| {
            Arc::new(Mutex::new(Shared {
                queue: StdinQueue::new(limit),
                writing: false,
                broken: false,
            }))
        });
        {
            let mut sh = lock(shared);
            sh.queue.push(data[off..].to_vec());
            sh.writing = true;
        }
        self.writer = Some(tokio::spawn(drain(dup, shared.clone())));
        Ok(())
    }
}

impl Drop for Stdin {
    /// The child is gone: what still waits is dropped, and the writer stops (closing its
    /// copy of the descriptor) even if some grandchild keeps the pipe open without reading.
    fn drop(&mut self) {
        if let Some(shared) = &self.shared {
            lock(shared).queue.clear();
        }
        if let Some(w) = self.writer.take() {
            w.abort();
        }
    }
}

/// The writer task: write the queue's front each time the pipe has room, until the queue is
/// empty (then it ends, and the next write that finds the pipe full starts a new one).
async fn drain(fd: OwnedFd, shared: Arc<Mutex<Shared>>) {
    // SAFETY: `fd` is an owned, open descriptor that the AsyncFd keeps until it drops.
    let registered = unsafe {
        tokio::io::unix::AsyncFd::register_with_interest(fd, tokio::io::Interest::WRITABLE)
    };
    let fail = |shared: &Mutex<Shared>| {
        let mut sh = lock(shared);
        sh.queue.clear();
        sh.writing = false;
        sh.broken = true;
    };
    let Ok(afd) = registered else {
        return fail(&shared);
    };
    loop {
        let Ok(mut guard) = afd.writable().await else {
            return fail(&shared);
        };
        let mut sh = lock(&shared);
        let Some(front) = sh.queue.front() else {
            sh.writing = false;
            return;
        };
        match nix::unistd::write(afd.get_ref(), front) {
            Ok(n) => sh.queue.consume(n),
            Err(Errno::EAGAIN) => guard.clear_ready(),
            Err(Errno::EINTR) => {}
            Err(_) => {
                drop(sh);
                return fail(&shared);
            }
        }
        if sh.queue.is_empty() {
            sh.writing = false;
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;
    use std::os::fd::AsRawFd;

    #[test]
    fn queue_keeps_order_across_partial_writes() {
        let mut q = StdinQueue::new(10);
        assert!(q.accepts(100), "an empty queue takes one call whole");
        q.push(b"abc".to_vec());
        q.push(Vec::new());
        q.push(b"de".to_vec());
        assert_eq!(q.waiting(), 5);
        assert_eq!(q.front(), Some(&b"abc"[..]));
        q.consume(2);
        assert_eq!(q.front(), Some(&b"c"[..]));
        q.consume(5);
        assert_eq!(q.front(), Some(&b"de"[..]));
        assert_eq!(q.waiting(), 2);
        assert!(q.accepts(8));
        assert!(!q.accepts(9));
        q.consume(2);
        assert!(q.is_empty());
        assert_eq!(q.front(), None);
        q.consume(1);
        assert_eq!(q.waiting(), 0);
        q.push(b"x".to_vec());
        q.clear();
        assert!(q.is_empty() && q.front().is_none());
    }

    fn pipe() -> (OwnedFd, OwnedFd) {
        let (rd, wr) = nix::unistd::pipe().unwrap();
        // SAFETY: fcntl on our own descriptor.
        unsafe {
            let fl = libc::fcntl(wr.as_raw_fd(), libc::F_GETFL);
            libc::fcntl(wr.as_raw_fd(), libc::F_SETFL, fl | libc::O_NONBLOCK);
        }
        (rd, wr)
    }

    fn block(tag: u8, n: usize) -> Vec<u8> {
        (0..n).map(|i| tag.wrapping_add((i % 251) as u8)).collect()
    }

    /// Four 150 kB writes into a pipe nobody reads yet arrive in order once it is read.
    #[test]
    fn writes_arrive_in_order_under_back_pressure() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let (rd, wr) = pipe();
        let blocks: Vec<Vec<u8>> = (0..4).map(|i| block(b'A' + i, 150_000)).collect();
        let want: Vec<u8> = blocks.concat();
        let got = rt.block_on(async {
            let mut stdin = Stdin::new(wr);
            for b in &blocks {
                stdin.write(b).unwrap();
            }
            assert!(stdin.waiting() > 0, "the pipe cannot take 600 kB at once");
            let reader = std::thread::spawn(move || {
                let mut f = std::fs::File::from(rd);
                let mut out = Vec::new();
                f.read_to_end(&mut out).unwrap();
                out
            });
            while stdin.waiting() > 0 {
                tokio::task::yield_now().await;
                tokio::time::sleep(std::time::Duration::from_millis(1)).await;
            }
            if let Some(w) = stdin.writer.take() {
                w.await.unwrap();
            }
            drop(stdin);
            reader.join().unwrap()
        });
        assert!(got == want, "got {} bytes, not A+B+C+D in order", got.len());
    }

    #[test]
    fn a_full_queue_refuses_the_whole_call() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let (rd, wr) = pipe();
        rt.block_on(async {
            let mut stdin = Stdin::with_limit(wr, 300_000);
            stdin.write(&block(1, 200_000)).unwrap();
            let waiting = stdin.waiting();
            assert!(waiting > 0);
            stdin.write(&block(2, 300_000 - waiting)).unwrap();
            assert_eq!(
                stdin.write(b"x"),
                Err(StdinError::Full { waiting: 300_000 })
            );
            assert_eq!(stdin.waiting(), 300_000);
            // The child closes its stdin: the writer fails, and so does every later call.
            drop(rd);
            while stdin.waiting() > 0 {
                tokio::time::sleep(std::time::Duration::from_millis(1)).await;
            }
            assert_eq!(stdin.write(b"y"), Err(StdinError::Closed));
        });
    }

    #[test]
    fn a_closed_stdin_fails_every_call() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let (rd, wr) = pipe();
        drop(rd);
        rt.block_on(async {
            let mut stdin = Stdin::new(wr);
            assert_eq!(stdin.write(b"x"), Err(StdinError::Closed));
            assert_eq!(stdin.write(b""), Err(StdinError::Closed));
            assert!(stdin.shared.is_none(), "no queue was needed");
        });
    }

    #[test]
    fn dropping_stops_the_writer_and_closes_the_pipe() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let (rd, wr) = pipe();
        rt.block_on(async {
            let mut stdin = Stdin::new(wr);
            stdin.write(&block(3, 200_000)).unwrap();
            let writer = stdin.writer.take().unwrap();
            let shared = stdin.shared.clone().unwrap();
            stdin.writer = Some(writer);
            drop(stdin);
            assert!(lock(&shared).queue.is_empty());
            for _ in 0..100 {
                if Arc::strong_count(&shared) == 1 {
                    break;
                }
                tokio::task::yield_now().await;
            }
            assert_eq!(Arc::strong_count(&shared), 1, "the writer task is gone");
        });
        // Every write end is closed: the reader sees the end after what the pipe held.
        let mut f = std::fs::File::from(rd);
        let mut out = Vec::new();
        f.read_to_end(&mut out).unwrap();
        assert!(!out.is_empty() && out.len() < 200_000);
    }
}
