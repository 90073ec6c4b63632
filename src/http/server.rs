//! The `[inet_http_server]` and `[unix_http_server]` listeners: binding them the way the
//! reference's `supervisor_af_inet_http_server` / `supervisor_af_unix_http_server` do, and
//! serving HTTP/1.0 and HTTP/1.1 (keep-alive included) with hyper on the caller's tokio
//! runtime (any flavour; tasks are spawned with `tokio::spawn`).
//!
//! Binding, as the reference:
//! - inet first, then unix. `host` empty or `*` binds all IPv4 interfaces; a name is resolved
//!   to its first IPv4 address. `SO_REUSEADDR` is set, backlog 1024.
//! - the unix socket is bound to `<file>.<pid>`, chmod-ed, then hard-linked to `<file>`. If the
//!   link fails, something is at `<file>`: if it answers a `GET / HTTP/1.0`, another daemon is
//!   live and we refuse; otherwise "Unlinking stale socket `<file>`" goes to stderr, the file is
//!   removed and we try again. Then `chown` if configured.
//! - errors carry the reference's text (the caller prints `Error: <text>` and exits 2).
//!
//! Serving: every request goes to [`routes::route`]; replies carry `Server: Medusa/1.12` and
//! title-cased header names like the reference's. HTTP/1.0 requests with
//! `Connection: keep-alive` get `Connection: Keep-Alive` on replies with a length and stay
//! open; other HTTP/1.0 requests close. HTTP/1.1 stays open unless the client asks to close,
//! and there is no idle timeout (supervisorctl keeps one connection for a whole session).

use std::convert::Infallible;
use std::ffi::OsString;
use std::io;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use hyper::header::{self, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, Version};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::task::JoinHandle;

use super::auth::Credentials;
use super::body::Body;
use super::routes;
use super::{Ctx, LoopbackPeer};
use crate::config::model::{Config, InetHttpServerConfig, UnixHttpServerConfig};
use crate::supervisor::SupervisorHandle;

/// The reference's text for `EADDRINUSE` on any of the servers.
pub const ADDRESS_IN_USE: &str = "Another program is already listening on a port that one of our HTTP \
     servers is configured to use.  Shut this program down first before starting supervisord.";

/// The running servers. Dropping this stops them and removes the unix socket file.
#[derive(Debug)]
pub struct Servers {
    /// One line per server without authentication, in the reference's words, for the
    /// caller to log at CRIT (the reference logs them as each server is created).
    pub warnings: Vec<String>,
    unix_socket: Option<PathBuf>,
    inet_addr: Option<SocketAddr>,
    tasks: Vec<JoinHandle<()>>,
}

impl Servers {
    /// The address the inet server listens on (useful with port 0).
    #[cfg(test)]
    pub fn inet_addr(&self) -> Option<SocketAddr> {
        self.inet_addr
    }

    /// Stop accepting and drop every open connection (the reference's `close_httpservers`,
    /// used before a reload). The unix socket file stays; a later [`start`] replaces it.
    pub fn close(&mut self) {
        for t in self.tasks.drain(..) {
            t.abort();
        }
    }

    /// Remove the unix socket file (the reference's cleanup at exit).
    pub fn cleanup(&mut self) {
        if let Some(path) = self.unix_socket.take() {
            let _ = std::fs::remove_file(path);
        }
    }
}

impl Drop for Servers {
    fn drop(&mut self) {
        self.close();
        self.cleanup();
    }
}

/// Bind and start the servers configured in `config`. On error nothing stays bound and the
/// text is the reference's (without its `Error: ` prefix).
pub async fn start(config: &Config, handle: SupervisorHandle) -> Result<Servers, String> {
    start_servers(
        config.inet_http_server.as_ref(),
        config.unix_http_server.as_ref(),
        handle,
    )
    .await
}

/// [`start`] on the two sections directly.
pub async fn start_servers(
    inet: Option<&InetHttpServerConfig>,
    unix: Option<&UnixHttpServerConfig>,
    handle: SupervisorHandle,
) -> Result<Servers, String> {
    let mut servers = Servers {
        warnings: Vec::new(),
        unix_socket: None,
        inet_addr: None,
        tasks: Vec::new(),
    };

    if let Some(cfg) = inet {
        let listener = bind_inet(cfg)?;
        servers.inet_addr = listener.local_addr().ok();
        let auth = Credentials::from_config(&cfg.username, &cfg.password);
        let ctx = Ctx {
            handle: handle.clone(),
            auth,
            section: "inet_http_server",
            open_health_on_loopback: cfg.open_health_on_loopback,
        };
        note_auth(&mut servers.warnings, &ctx);
        servers
            .tasks
            .push(tokio::spawn(accept_loop(listener, Arc::new(ctx))));
    }
    if let Some(cfg) = unix {
        // On error `servers` is dropped, which stops the inet server again.
        let listener = bind_unix(cfg).await?;
        servers.unix_socket = Some(cfg.file.clone());
        let auth = Credentials::from_config(&cfg.username, &cfg.password);
        let ctx = Ctx {
            handle: handle.clone(),
            auth,
            section: "unix_http_server",
            open_health_on_loopback: false,
        };
        note_auth(&mut servers.warnings, &ctx);
        servers
            .tasks
            .push(tokio::spawn(accept_loop(listener, Arc::new(ctx))));
    }
    Ok(servers)
}

fn note_auth(warnings: &mut Vec<String>, ctx: &Ctx) {
    if ctx.auth.is_none() {
        warnings.push(format!(
            "Server '{}' running without any HTTP authentication checking",
            ctx.section
        ));
    }
}

/// The reference's `openhttpservers` text for a socket-level error.
fn socket_error(e: &io::Error) -> String {
    match e.raw_os_error() {
        Some(libc::EADDRINUSE) => ADDRESS_IN_USE.to_string(),
        Some(n) => {
            let name = crate::util::errno::errorcode(n);
            if name.starts_with('E') {
                format!("Cannot open an HTTP server: socket.error reported errno.{name} ({n})")
            } else {
                format!("Cannot open an HTTP server: socket.error reported {n}")
            }
        }
        None => format!("Cannot open an HTTP server: socket.error reported {e}"),
    }
}

// ---------------------------------------------------------------------------------------------
// inet
// ---------------------------------------------------------------------------------------------

/// Resolve and bind the inet server. A host name is resolved with `std::net` (getaddrinfo on
/// this thread), not `tokio::net::lookup_host`: that one runs on a blocking-pool thread, which
/// would exist when daemon mode forks, and the child's runtime would wait for it forever when
/// dropped at a restart or shutdown (`supervisor::daemonize`).
fn bind_inet(cfg: &InetHttpServerConfig) -> Result<tokio::net::TcpListener, String> {
    let ip = if cfg.host.is_empty() || cfg.host == "*" {
        Ipv4Addr::UNSPECIFIED
    } else if let Ok(ip) = cfg.host.parse::<Ipv4Addr>() {
        ip
    } else {
        // Python's bind((host, port)) resolves through getaddrinfo(AF_INET); a failure is
        // reported with the gaierror number (EAI_NONAME is -2).
        let found = (cfg.host.as_str(), cfg.port)
            .to_socket_addrs()
            .ok()
            .and_then(|mut addrs| {
                addrs.find_map(|a| match a {
                    SocketAddr::V4(v4) => Some(*v4.ip()),
                    SocketAddr::V6(_) => None,
                })
            });
        found.ok_or_else(|| "Cannot open an HTTP server: socket.error reported -2".to_string())?
    };
    let addr = SocketAddr::V4(SocketAddrV4::new(ip, cfg.port));
    let socket = tokio::net::TcpSocket::new_v4().map_err(|e| socket_error(&e))?;
    socket.set_reuseaddr(true).map_err(|e| socket_error(&e))?;
    socket.bind(addr).map_err(|e| socket_error(&e))?;
    socket.listen(1024).map_err(|e| socket_error(&e))
}

// ---------------------------------------------------------------------------------------------
// unix
// ---------------------------------------------------------------------------------------------

/// Removes the temporary `<file>.<pid>` name however binding ends.
struct TempName(PathBuf);

impl Drop for TempName {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

async fn bind_unix(cfg: &UnixHttpServerConfig) -> Result<tokio::net::UnixListener, String> {
    let file = &cfg.file;
    let mut temp = OsString::from(file.as_os_str());
    temp.push(format!(".{}", std::process::id()));
    let temp = TempName(PathBuf::from(temp));
    let _ = std::fs::remove_file(&temp.0);

    // The reference retries forever; a bounded number of stale-socket removals is plenty.
    for _ in 0..50 {
        let socket = tokio::net::UnixSocket::new_stream().map_err(|e| socket_error(&e))?;
        socket.bind(&temp.0).map_err(|e| socket_error(&e))?;
        set_mode(&temp.0, cfg.chmod).map_err(|e| socket_error(&e))?;
        match std::fs::hard_link(&temp.0, file) {
            Ok(()) => {
                drop(temp);
                if let Some((uid, gid)) = cfg.chown
                    && let Err(e) = chown(file, uid, gid)
                {
                    let _ = std::fs::remove_file(file);
                    return Err(if e.raw_os_error() == Some(libc::EPERM) {
                        format!(
                            "Not permitted to chown {} to uid/gid ({}, {}); adjust \"sockchown\" \
                             value in config file or on command line to values that the \
                             current user ({}) can successfully chown",
                            file.display(),
                            uid,
                            gid,
                            current_user()
                        )
                    } else {
                        socket_error(&e)
                    });
                }
                return socket.listen(1024).map_err(|e| {
                    let _ = std::fs::remove_file(file);
                    socket_error(&e)
                });
            }
            Err(e) => {
                if e.raw_os_error() != Some(libc::EEXIST)
                    && std::fs::symlink_metadata(file).is_err()
                {
                    return Err(socket_error(&e)); // not contention: nothing to unlink and retry
                }
                if in_use(file).await {
                    return Err(ADDRESS_IN_USE.to_string());
                }
                eprintln!("Unlinking stale socket {}", file.display());
                let _ = std::fs::remove_file(file);
                drop(socket);
                let _ = std::fs::remove_file(&temp.0);
                tokio::time::sleep(Duration::from_millis(300)).await;
            }
        }
    }
    Err(ADDRESS_IN_USE.to_string())
}

/// The reference's `checkused`: does something answer on this socket?
async fn in_use(path: &Path) -> bool {
    let probe = async {
        let mut s = tokio::net::UnixStream::connect(path).await?;
        s.write_all(b"GET / HTTP/1.0\r\n\r\n").await?;
        let mut one = [0u8; 1];
        let _eof_or_byte = s.read(&mut one).await?;
        Ok::<(), io::Error>(())
    };
    match tokio::time::timeout(Duration::from_secs(5), probe).await {
        Ok(result) => result.is_ok(),
        Err(_) => true, // it accepted and is thinking: someone is there
    }
}

fn set_mode(path: &Path, mode: u32) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
}

fn chown(path: &Path, uid: u32, gid: u32) -> io::Result<()> {
    std::os::unix::fs::chown(path, Some(uid), Some(gid))
}

/// The effective user's login name (the reference's `pwd.getpwuid(os.geteuid())[0]`).
fn current_user() -> String {
    // SAFETY: geteuid has no preconditions.
    let uid = unsafe { libc::geteuid() };
    crate::util::users::user_by_uid(uid).map_or_else(|| uid.to_string(), |u| u.name)
}

// ---------------------------------------------------------------------------------------------
// serving
// ---------------------------------------------------------------------------------------------

/// Something that hands out connections.
trait Accept: Send + 'static {
    type Conn: AsyncRead + AsyncWrite + std::os::fd::AsFd + Unpin + Send + 'static;
    /// A connection, and whether its peer is on the loopback interface.
    fn accept(&self) -> impl std::future::Future<Output = io::Result<(Self::Conn, bool)>> + Send;
}

impl Accept for tokio::net::TcpListener {
    type Conn = tokio::net::TcpStream;
    async fn accept(&self) -> io::Result<(Self::Conn, bool)> {
        let (s, peer) = tokio::net::TcpListener::accept(self).await?;
        let _ = s.set_nodelay(true);
        Ok((s, peer.ip().is_loopback()))
    }
}

impl Accept for tokio::net::UnixListener {
    type Conn = tokio::net::UnixStream;
    async fn accept(&self) -> io::Result<(Self::Conn, bool)> {
        tokio::net::UnixListener::accept(self)
            .await
            .map(|(s, _)| (s, false))
    }
}

/// Accept forever; connections live in a `JoinSet`, so aborting this task ends them too.
async fn accept_loop<L: Accept>(listener: L, ctx: Arc<Ctx>) {
    let mut conns = tokio::task::JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((conn, loopback)) => {
                    conns.spawn(serve_connection(conn, ctx.clone(), loopback));
                }
                Err(e) => {
                    // EMFILE and friends: do not spin.
                    crate::log_warn!("warning: server accept() threw an exception: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
        }
    }
}

async fn serve_connection<C>(conn: C, ctx: Arc<Ctx>, loopback: bool)
where
    C: AsyncRead + AsyncWrite + std::os::fd::AsFd + Unpin + Send + 'static,
{
    // Set once a reply without a length (a `tail -f` stream) is under way.
    let streaming = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let streaming_set = streaming.clone();
    let service = service_fn(move |mut req: Request<hyper::body::Incoming>| {
        let ctx = ctx.clone();
        if loopback {
            req.extensions_mut().insert(LoopbackPeer);
        }
        let streaming = streaming_set.clone();
        async move {
            let version = req.version();
            let wants_keep_alive = req
                .headers()
                .get(header::CONNECTION)
                .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"keep-alive"));
            let resp = routes::route(&ctx, req).await;
            if !resp.headers().contains_key(header::CONTENT_LENGTH) {
                streaming.store(true, std::sync::atomic::Ordering::Relaxed);
            }
            Ok::<_, Infallible>(finish(resp, version, wants_keep_alive))
        }
    });
    // A client hanging up during a stream ends the connection (and the stream's producer)
    // at once (see `super::peer`); other replies are left to hyper, as before.
    let peer = super::peer::PeerWatch::new(&conn).ok();
    let serving = http1::Builder::new()
        .title_case_headers(true)
        .keep_alive(true)
        .serve_connection(TokioIo::new(conn), service);
    tokio::pin!(serving);
    let result = match &peer {
        Some(peer) => tokio::select! {
            r = &mut serving => r,
            _ = peer.closed() => {
                if streaming.load(std::sync::atomic::Ordering::Relaxed) {
                    crate::log_debug!("HTTP connection ended: the client hung up");
                    return;
                }
                serving.await
            }
        },
        None => serving.await,
    };
    if let Err(e) = result {
        crate::log_debug!("HTTP connection ended: {e}");
    }
}

/// Headers every reply gets, and medusa's HTTP/1.0 keep-alive rule.
fn finish(mut resp: Response<Body>, version: Version, wants_keep_alive: bool) -> Response<Body> {
    // `Server` first, as medusa orders it (hyper appends `Date` at the end).
    let mut h = hyper::HeaderMap::with_capacity(resp.headers().len() + 2);
    h.insert(header::SERVER, HeaderValue::from_static("Medusa/1.12"));
    h.extend(std::mem::take(resp.headers_mut()));
    if version == Version::HTTP_10
        && wants_keep_alive
        && h.contains_key(header::CONTENT_LENGTH)
        && !h.contains_key(header::CONNECTION)
    {
        h.insert(header::CONNECTION, HeaderValue::from_static("Keep-Alive"));
    }
    *resp.headers_mut() = h;
    resp
}

#[cfg(test)]
mod tests;
