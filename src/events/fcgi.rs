//! The listening socket of a `[fcgi-program:x]` group (the reference's `SocketManager`).
//!
//! The socket is reference-counted by the group's processes: it is created (bound, chowned,
//! chmodded, listening) when the first process spawns, handed to each process as its fd 0,
//! and closed when the last process holding it has exited. When the group is added the
//! socket is created and closed once, to report a bad address early, as the reference does
//! (`Creating socket ...` / `Closing socket ...` at INFO).

use std::collections::HashSet;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};

use crate::config::{FcgiSocketConfig, LogLevel};
use crate::logs::mainlog::log;

#[derive(Debug)]
pub struct FcgiSocket {
    pub config: FcgiSocketConfig,
    fd: Option<OwnedFd>,
    /// Pids of the processes that hold the socket (spawned and not yet reaped).
    holders: HashSet<i32>,
}

fn errno_text(e: nix::errno::Errno) -> String {
    format!("[Errno {}] {}", e as i32, e.desc())
}

/// Create, bind and listen, as `create_and_bind` + `listen(backlog or SOMAXCONN)`.
fn create(cfg: &FcgiSocketConfig) -> Result<OwnedFd, String> {
    use nix::sys::socket::{AddressFamily, Backlog, SockFlag, SockType, bind, listen, socket};
    let backlog = match cfg.socket_backlog {
        Some(n) if n > 0 => Backlog::new(n.min(i32::MAX as u32) as i32).unwrap_or(Backlog::MAXCONN),
        _ => Backlog::MAXCONN,
    };
    if let Some(path) = cfg.socket.strip_prefix("unix://") {
        let p = std::path::Path::new(path);
        if p.exists() {
            let _ = std::fs::remove_file(p);
        }
        let fd = socket(
            AddressFamily::Unix,
            SockType::Stream,
            SockFlag::SOCK_CLOEXEC,
            None,
        )
        .map_err(errno_text)?;
        let addr = nix::sys::socket::UnixAddr::new(p).map_err(errno_text)?;
        let setup = || -> Result<(), String> {
            bind(fd.as_raw_fd(), &addr).map_err(errno_text)?;
            if let Some((uid, gid)) = cfg.socket_owner {
                nix::unistd::chown(p, Some(uid.into()), Some(gid.into())).map_err(|e| {
                    format!(
                        "Could not change ownership of socket file: {}",
                        errno_text(e)
                    )
                })?;
            }
            if let Some(mode) = cfg.socket_mode {
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode))
                    .map_err(|e| format!("Could not change permissions of socket file: {}", e))?;
            }
            Ok(())
        };
        if let Err(e) = setup() {
            drop(fd);
            let _ = std::fs::remove_file(p);
            return Err(e);
        }
        listen(&fd, backlog).map_err(errno_text)?;
        return Ok(fd);
    }
    let rest = cfg
        .socket
        .strip_prefix("tcp://")
        .ok_or_else(|| format!("Bad socket format {}", cfg.socket))?;
    let (host, port) = rest
        .rsplit_once(':')
        .ok_or_else(|| format!("Bad socket format {}", cfg.socket))?;
    let port: u16 = port
        .parse()
        .map_err(|_| format!("Bad socket format {}", cfg.socket))?;
    use std::net::ToSocketAddrs;
    let addr = (host, port)
        .to_socket_addrs()
        .map_err(|e| e.to_string())?
        .find(|a| a.is_ipv4())
        .ok_or_else(|| format!("[Errno -2] Name or service not known: {}", host))?;
    // std binds with SO_REUSEADDR and CLOEXEC; listen again for the configured backlog.
    let listener = std::net::TcpListener::bind(addr).map_err(|e| match e.raw_os_error() {
        Some(n) => errno_text(nix::errno::Errno::from_raw(n)),
        None => e.to_string(),
    })?;
    let fd = OwnedFd::from(listener);
    listen(&fd, backlog).map_err(errno_text)?;
    Ok(fd)
}

impl FcgiSocket {
    /// The group's socket manager. Creates and closes the socket once to check it; the error
    /// (if any) is logged as the reference's `Could not create FastCGI socket`.
    pub fn new(config: FcgiSocketConfig) -> FcgiSocket {
        let mut s = FcgiSocket {
            config,
            fd: None,
            holders: HashSet::new(),
        };
        log(
            LogLevel::Info,
            &format!("Creating socket {}", s.config.socket),
        );
        match create(&s.config) {
            Ok(fd) => {
                log(
                    LogLevel::Info,
                    &format!("Closing socket {}", s.config.socket),
                );
                drop(fd);
            }
            Err(e) => log(
                LogLevel::Error,
                &format!("Could not create FastCGI socket {}: {}", s.config.socket, e),
            ),
        }
        s.fd = None;
        s
    }

    /// The socket for a process about to spawn (created if no process holds it). The spawn
    /// then reports its pid with [`FcgiSocket::hold`], or its failure with
    /// [`FcgiSocket::release`] (pid 0).
    pub fn acquire(&mut self) -> Result<RawFd, String> {
        if self.fd.is_none() {
            log(
                LogLevel::Info,
                &format!("Creating socket {}", self.config.socket),
            );
            let fd = create(&self.config).map_err(|e| {
                format!(
                    "Could not create FastCGI socket {}: {}",
                    self.config.socket, e
                )
            })?;
            self.fd = Some(fd);
        }
        Ok(self.fd.as_ref().map(|f| f.as_raw_fd()).unwrap_or(-1))
    }

    /// The child `pid` holds the socket until it is reaped.
    pub fn hold(&mut self, pid: i32) {
        self.holders.insert(pid);
    }

    /// The child `pid` was reaped (or a spawn failed: pid 0); the last one out closes it.
    pub fn release(&mut self, pid: i32) {
        self.holders.remove(&pid);
        if self.holders.is_empty()
            && let Some(fd) = self.fd.take()
        {
            log(
                LogLevel::Info,
                &format!("Closing socket {}", self.config.socket),
            );
            drop(fd);
        }
    }

    #[cfg(test)]
    pub fn is_open(&self) -> bool {
        self.fd.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tcp() -> FcgiSocketConfig {
        FcgiSocketConfig {
            socket: "tcp://127.0.0.1:0".into(),
            socket_backlog: Some(5),
            socket_owner: None,
            socket_mode: None,
        }
    }

    #[test]
    fn refcounted_tcp_socket() {
        let mut s = FcgiSocket::new(tcp());
        assert!(!s.is_open());
        let a = s.acquire().unwrap();
        s.hold(10);
        let b = s.acquire().unwrap();
        s.hold(11);
        assert_eq!(a, b);
        assert!(s.is_open());
        s.release(10);
        assert!(s.is_open());
        s.release(10);
        assert!(s.is_open());
        // A restart: the new child holds it before the old one is let go.
        s.acquire().unwrap();
        s.hold(12);
        s.release(11);
        assert!(s.is_open());
        s.release(12);
        assert!(!s.is_open());
        // A failed spawn with no other holder closes it.
        s.acquire().unwrap();
        s.release(0);
        assert!(!s.is_open());
    }

    #[test]
    fn unix_socket_mode_and_accept() {
        let dir = std::env::temp_dir().join(format!("fcgi-test-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let path = dir.join("f.sock");
        let cfg = FcgiSocketConfig {
            socket: format!("unix://{}", path.display()),
            socket_backlog: None,
            socket_owner: None,
            socket_mode: Some(0o600),
        };
        let mut s = FcgiSocket::new(cfg);
        let fd = s.acquire().unwrap();
        s.hold(1);
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        let _client = std::os::unix::net::UnixStream::connect(&path).unwrap();
        let conn = unsafe { libc::accept(fd, std::ptr::null_mut(), std::ptr::null_mut()) };
        assert!(conn >= 0);
        unsafe { libc::close(conn) };
        s.release(1);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn bad_address_is_an_error() {
        let mut s = FcgiSocket::new(FcgiSocketConfig {
            socket: "tcp://256.1.1.1:80".into(),
            socket_backlog: None,
            socket_owner: None,
            socket_mode: None,
        });
        assert!(s.acquire().is_err());
        assert!(!s.is_open());
    }
}
