//! Noticing that an HTTP client hung up while its reply is still being produced (a
//! `/logtail` stream on a quiet log), so the connection and the reply's producer end then,
//! not at the next write.
//!
//! hyper notices a client's EOF in the middle of a reply only when its read buffer is empty,
//! and the stock `supervisorctl` sends a stray CRLF after its request head, which stays in that
//! buffer for the whole reply. So each connection also watches its socket through a duplicate
//! descriptor: when the peer's side is closed (`EPOLLRDHUP`, or a peek reading end of file),
//! [`PeerWatch::closed`] completes and the connection is dropped.

use std::io;
use std::os::fd::{AsFd, OwnedFd};

use tokio::io::Interest;
use tokio::io::unix::AsyncFd;

/// A watch on the peer side of a connected stream socket.
pub struct PeerWatch {
    fd: AsyncFd<OwnedFd>,
}

impl PeerWatch {
    /// Watch the socket `conn` (a duplicate of its descriptor is registered; `conn` keeps its
    /// own registration and is read and written as before).
    pub fn new(conn: &impl AsFd) -> io::Result<PeerWatch> {
        let dup = conn.as_fd().try_clone_to_owned()?;
        // SAFETY: `dup` is an open descriptor owned by the `AsyncFd` for its whole life.
        let fd = unsafe { AsyncFd::register_with_interest(dup, Interest::READABLE) }
            .map_err(io::Error::from)?;
        Ok(PeerWatch { fd })
    }

    /// Completes once the peer has closed its side (or the socket failed); pending otherwise.
    /// Data waiting to be read is left alone (it is hyper's to read).
    pub async fn closed(&self) {
        loop {
            let Ok(mut guard) = self.fd.readable().await else {
                return;
            };
            if guard.ready().is_read_closed() {
                return;
            }
            let mut byte = [0u8; 1];
            let flags =
                nix::sys::socket::MsgFlags::MSG_PEEK | nix::sys::socket::MsgFlags::MSG_DONTWAIT;
            use std::os::fd::AsRawFd;
            match nix::sys::socket::recv(self.fd.get_ref().as_raw_fd(), &mut byte, flags) {
                Ok(0) => return,
                // Data for hyper, or a spurious wake: wait for the next change.
                Ok(_) | Err(nix::errno::Errno::EAGAIN) | Err(nix::errno::Errno::EINTR) => {
                    guard.clear_ready()
                }
                Err(_) => return,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncWriteExt;

    #[tokio::test]
    async fn notices_the_peer_closing_even_with_unread_data() {
        let (a, mut b) = tokio::net::UnixStream::pair().unwrap();
        let watch = PeerWatch::new(&a).unwrap();
        b.write_all(b"\r\n").await.unwrap();
        let quiet =
            tokio::time::timeout(std::time::Duration::from_millis(100), watch.closed()).await;
        assert!(quiet.is_err(), "no close yet");
        drop(b);
        tokio::time::timeout(std::time::Duration::from_secs(5), watch.closed())
            .await
            .unwrap();
        drop(a);
    }
}
