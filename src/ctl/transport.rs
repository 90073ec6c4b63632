//! HTTP/1.1 to the daemon over its unix socket or TCP: the one path every request of the
//! client takes (XML-RPC on `/RPC2` and the `/logtail` and `/mainlogtail` streams).
//!
//! A small blocking client rather than hyper's: the client does one thing at a time (one
//! request, or one or two streams polled together), so a runtime would only add start-up
//! time and memory to every invocation, which is what this binary exists to save. Response
//! heads are parsed by `httparse` (hyper's parser); bodies are read by `Content-Length`,
//! chunked, or until the server closes. Connections are kept alive and reused, with basic
//! auth on every request. Every wait for data goes through [`super::interrupt::wait_one`],
//! so Ctrl-C ends it where the stock client's `KeyboardInterrupt` would.
//!
//! Errors are classed as Python's `http.client` and `socket` would raise them ([`PyErr`]),
//! because the stock client acts on the class (a refused connection and a missing socket file
//! have their own messages and exit statuses); what they say is a plain sentence, and those
//! of [`connect`] are marked as raised while connecting.

use std::ffi::CString;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;

use super::error::{Kind, PyErr, Result};
use super::{interrupt, url};

/// Where the daemon listens, from a server URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Endpoint {
    Unix(PathBuf),
    Tcp {
        host: String,
        port: u16,
    },
    /// `http:///x`: no host; Python fails when it sends the request.
    NoHost,
}

impl Endpoint {
    /// What `SupervisorTransport(serverurl=...)` accepts, with its errors.
    pub fn from_serverurl(serverurl: &str) -> Result<Endpoint> {
        if serverurl.starts_with("http://") {
            let netloc = url::urlsplit(serverurl).netloc;
            let port = url::port(&netloc)
                .map_err(|m| {
                    PyErr::other("ValueError", format!("bad server URL {}: {}", serverurl, m))
                })?
                .unwrap_or(80);
            Ok(match url::hostname(&netloc) {
                Some(host) => Endpoint::Tcp { host, port },
                None => Endpoint::NoHost,
            })
        } else if let Some(path) = serverurl.strip_prefix("unix://") {
            Ok(Endpoint::Unix(PathBuf::from(path)))
        } else {
            Err(PyErr::other(
                "ValueError",
                format!(
                    "the server URL {} is neither unix:// nor http://",
                    serverurl
                ),
            ))
        }
    }

    /// The `Host` header `http.client` sends.
    pub fn host_header(&self) -> String {
        match self {
            Endpoint::Unix(_) | Endpoint::NoHost => "localhost".into(),
            Endpoint::Tcp { host, port } => {
                let h = if host.contains(':') {
                    format!("[{}]", host)
                } else {
                    host.clone()
                };
                if *port == 80 {
                    h
                } else {
                    format!("{}:{}", h, port)
                }
            }
        }
    }
}

/// A connected socket.
#[derive(Debug)]
pub enum Stream {
    Unix(UnixStream),
    Tcp(TcpStream),
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Unix(s) => s.read(buf),
            Stream::Tcp(s) => s.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Unix(s) => s.write(buf),
            Stream::Tcp(s) => s.write(buf),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl AsRawFd for Stream {
    fn as_raw_fd(&self) -> RawFd {
        match self {
            Stream::Unix(s) => s.as_raw_fd(),
            Stream::Tcp(s) => s.as_raw_fd(),
        }
    }
}

/// Connect as Python's `socket.connect` / `socket.create_connection` would; an error is
/// marked as raised while connecting.
pub fn connect(ep: &Endpoint) -> Result<Stream> {
    open(ep).map_err(PyErr::connecting)
}

fn open(ep: &Endpoint) -> Result<Stream> {
    match ep {
        Endpoint::Unix(path) => match UnixStream::connect(path) {
            Ok(s) => Ok(Stream::Unix(s)),
            Err(e) if e.raw_os_error().is_none() => Err(PyErr::new(Kind::Os {
                errno: None,
                message: "the socket path is too long".into(),
            })),
            Err(e) => Err(PyErr::os(&e)),
        },
        Endpoint::Tcp { host, port } => {
            let addrs = resolve(host, *port)?;
            // create_connection tries each address and raises the first error
            let mut first: Option<io::Error> = None;
            for a in addrs {
                match TcpStream::connect(a) {
                    Ok(s) => {
                        let _ = s.set_nodelay(true);
                        return Ok(Stream::Tcp(s));
                    }
                    Err(e) => {
                        first.get_or_insert(e);
                    }
                }
            }
            Err(match first {
                Some(e) => PyErr::os(&e),
                None => PyErr::new(Kind::Os {
                    errno: None,
                    message: "the host name has no address".into(),
                }),
            })
        }
        Endpoint::NoHost => Err(PyErr::other("TypeError", "no host in the URL")),
    }
}

/// `getaddrinfo(host, port, 0, SOCK_STREAM)`; a failure is `socket.gaierror`, with
/// `gai_strerror`'s text.
fn resolve(host: &str, port: u16) -> Result<Vec<SocketAddr>> {
    let gai = |code: i32| {
        // SAFETY: gai_strerror returns a static string for any code.
        let msg = unsafe { std::ffi::CStr::from_ptr(libc::gai_strerror(code)) };
        PyErr::new(Kind::Gai {
            message: msg.to_string_lossy().into_owned(),
        })
    };
    let c_host = CString::new(host)
        .map_err(|_| PyErr::other("ValueError", "a NUL byte in the host name"))?;
    let c_port = CString::new(port.to_string()).unwrap_or_default();
    // SAFETY: an all-zero addrinfo is a valid hints value.
    let mut hints: libc::addrinfo = unsafe { std::mem::zeroed() };
    hints.ai_family = libc::AF_UNSPEC;
    hints.ai_socktype = libc::SOCK_STREAM;
    let mut res: *mut libc::addrinfo = std::ptr::null_mut();
    // SAFETY: valid C strings and hints; `res` is freed below.
    let rc = unsafe { libc::getaddrinfo(c_host.as_ptr(), c_port.as_ptr(), &hints, &mut res) };
    if rc != 0 {
        return Err(gai(rc));
    }
    let mut out = Vec::new();
    let mut p = res;
    while !p.is_null() {
        // SAFETY: p walks the list getaddrinfo returned.
        let ai = unsafe { &*p };
        // SAFETY: ai_addr points to a sockaddr of the family ai_family says.
        unsafe {
            match ai.ai_family {
                libc::AF_INET => {
                    let sa = &*(ai.ai_addr as *const libc::sockaddr_in);
                    let ip = std::net::Ipv4Addr::from(u32::from_be(sa.sin_addr.s_addr));
                    out.push(SocketAddr::from((ip, port)));
                }
                libc::AF_INET6 => {
                    let sa = &*(ai.ai_addr as *const libc::sockaddr_in6);
                    let ip = std::net::Ipv6Addr::from(sa.sin6_addr.s6_addr);
                    out.push(SocketAddr::V6(std::net::SocketAddrV6::new(
                        ip,
                        port,
                        sa.sin6_flowinfo,
                        sa.sin6_scope_id,
                    )));
                }
                _ => {}
            }
        }
        p = ai.ai_next;
    }
    // SAFETY: res came from getaddrinfo.
    unsafe { libc::freeaddrinfo(res) };
    Ok(out)
}

/// A response's status line and the headers the client acts on.
#[derive(Clone, Debug, Default)]
pub struct Head {
    pub status: u16,
    pub reason: String,
    pub chunked: bool,
    pub length: Option<usize>,
    /// The server will close the connection after this response.
    pub close: bool,
}

/// One HTTP connection with its read buffer.
pub struct Conn {
    stream: Stream,
    buf: Vec<u8>,
    pos: usize,
}

const HEAD_LIMIT: usize = 64 * 1024;

impl Conn {
    pub fn new(stream: Stream) -> Conn {
        Conn {
            stream,
            buf: Vec::new(),
            pos: 0,
        }
    }

    pub fn fd(&self) -> RawFd {
        self.stream.as_raw_fd()
    }

    /// Send a request (head and body in one write).
    pub fn send(&mut self, head: &str, body: &[u8]) -> Result<()> {
        let mut msg = Vec::with_capacity(head.len() + body.len());
        msg.extend_from_slice(head.as_bytes());
        msg.extend_from_slice(body);
        self.stream.write_all(&msg).map_err(|e| PyErr::os(&e))
    }

    /// Bytes already received and not consumed.
    pub fn buffered(&self) -> &[u8] {
        &self.buf[self.pos..]
    }

    fn consume(&mut self, n: usize) {
        self.pos += n;
        if self.pos == self.buf.len() {
            self.buf.clear();
            self.pos = 0;
        }
    }

    /// Read what the socket has (waiting for it) into the buffer's free space, which is
    /// grown only when it is short; 0 at end of stream.
    pub fn fill(&mut self) -> Result<usize> {
        interrupt::wait_one(&self.stream).map_err(|_| PyErr::new(Kind::Interrupted))?;
        if self.pos > 0 {
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
        let old = self.buf.len();
        if self.buf.capacity() == old {
            self.buf.reserve(old.max(16 * 1024));
        }
        let room = self.buf.capacity() - old;
        self.buf.resize(old + room, 0);
        loop {
            match self.stream.read(&mut self.buf[old..]) {
                Ok(n) => {
                    self.buf.truncate(old + n);
                    return Ok(n);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {
                    if interrupt::pending() {
                        self.buf.truncate(old);
                        return Err(PyErr::new(Kind::Interrupted));
                    }
                }
                Err(e) => {
                    self.buf.truncate(old);
                    return Err(PyErr::os(&e));
                }
            }
        }
    }

    /// Read the status line and headers.
    pub fn read_head(&mut self) -> Result<Head> {
        loop {
            let mut headers = [httparse::EMPTY_HEADER; 64];
            let mut resp = httparse::Response::new(&mut headers);
            match resp.parse(self.buffered()) {
                Ok(httparse::Status::Complete(n)) => {
                    let mut head = Head {
                        status: resp.code.unwrap_or(0),
                        reason: resp.reason.unwrap_or("").to_string(),
                        close: resp.version == Some(0),
                        ..Head::default()
                    };
                    for h in resp.headers.iter() {
                        let value = String::from_utf8_lossy(h.value).trim().to_ascii_lowercase();
                        if h.name.eq_ignore_ascii_case("transfer-encoding") {
                            head.chunked = value.split(',').any(|v| v.trim() == "chunked");
                        } else if h.name.eq_ignore_ascii_case("content-length") {
                            head.length = value.parse().ok();
                        } else if h.name.eq_ignore_ascii_case("connection") {
                            if value.split(',').any(|v| v.trim() == "close") {
                                head.close = true;
                            } else if value.split(',').any(|v| v.trim() == "keep-alive") {
                                head.close = false;
                            }
                        }
                    }
                    if !head.chunked && head.length.is_none() {
                        head.close = true;
                    }
                    self.consume(n);
                    return Ok(head);
                }
                Ok(httparse::Status::Partial) if self.buffered().len() < HEAD_LIMIT => {}
                _ => {
                    let line = self.buffered().split(|&c| c == b'\n').next().unwrap_or(b"");
                    let line = String::from_utf8_lossy(line).trim_end().to_string();
                    return Err(PyErr::other(
                        "http.client.BadStatusLine",
                        format!(
                            "the daemon's answer is not HTTP: {}",
                            crate::config::values::py_repr(&line)
                        ),
                    ));
                }
            }
            if self.fill()? == 0 {
                return Err(if self.buffered().is_empty() {
                    PyErr::other(
                        "http.client.RemoteDisconnected",
                        "the daemon closed the connection without answering",
                    )
                } else {
                    PyErr::other(
                        "http.client.IncompleteRead",
                        "the daemon closed the connection in the middle of its answer",
                    )
                });
            }
        }
    }

    /// Read one line (through `\n`, which is dropped with a `\r` before it); `None` at end.
    pub fn read_line(&mut self) -> Result<Option<Vec<u8>>> {
        loop {
            if let Some(i) = self.buffered().iter().position(|&c| c == b'\n') {
                let mut line = self.buffered()[..i].to_vec();
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                self.consume(i + 1);
                return Ok(Some(line));
            }
            if self.buffered().len() > HEAD_LIMIT {
                return Err(PyErr::other(
                    "http.client.LineTooLong",
                    "the daemon's answer has a line longer than 64 KiB",
                ));
            }
            if self.fill()? == 0 {
                return Ok(None);
            }
        }
    }

    /// Read exactly `n` bytes; `None` if the stream ends first. A body that fills the
    /// buffer exactly (the usual reply) is handed over without a copy.
    pub fn read_exact(&mut self, n: usize) -> Result<Option<Vec<u8>>> {
        if self.buffered().len() < n {
            if self.pos > 0 {
                self.buf.drain(..self.pos);
                self.pos = 0;
            }
            self.buf.reserve_exact(n - self.buf.len());
        }
        while self.buffered().len() < n {
            if self.fill()? == 0 {
                return Ok(None);
            }
        }
        if self.pos == 0 && self.buf.len() == n {
            return Ok(Some(std::mem::take(&mut self.buf)));
        }
        let out = self.buffered()[..n].to_vec();
        self.consume(n);
        Ok(Some(out))
    }

    /// Up to `max` bytes, waiting for at least one; empty at end of stream.
    pub fn read_some(&mut self, max: usize) -> Result<Vec<u8>> {
        if self.buffered().is_empty() && self.fill()? == 0 {
            return Ok(Vec::new());
        }
        let n = self.buffered().len().min(max);
        let out = self.buffered()[..n].to_vec();
        self.consume(n);
        Ok(out)
    }

    /// The next chunk of a chunked body; `None` after the last (or when the stream ends).
    pub fn read_chunk(&mut self) -> Result<Option<Vec<u8>>> {
        let size = loop {
            let Some(line) = self.read_line()? else {
                return Ok(None);
            };
            let text = String::from_utf8_lossy(&line);
            let text = text.split(';').next().unwrap_or("").trim();
            if text.is_empty() {
                continue; // tolerated: a blank line before a size
            }
            match usize::from_str_radix(text, 16) {
                Ok(n) => break n,
                Err(_) => {
                    return Err(PyErr::other(
                        "ValueError",
                        format!(
                            "the daemon's answer has a bad chunk size: {}",
                            crate::config::values::py_repr(text)
                        ),
                    ));
                }
            }
        };
        if size == 0 {
            // trailer lines up to the empty one
            while let Some(line) = self.read_line()? {
                if line.is_empty() {
                    break;
                }
            }
            return Ok(None);
        }
        let data = self.read_exact(size)?;
        // the CRLF after the data (sent with it): eaten now, so that nothing is left in the
        // buffer that would make a reader of several streams wait on this one
        if data.is_some() {
            self.read_line()?;
        }
        Ok(data)
    }

    /// A whole body, as `http.client`'s `read()`.
    pub fn read_body(&mut self, head: &Head) -> Result<Vec<u8>> {
        if head.chunked {
            let mut body = Vec::new();
            while let Some(chunk) = self.read_chunk()? {
                body.extend_from_slice(&chunk);
            }
            return Ok(body);
        }
        if let Some(n) = head.length {
            return match self.read_exact(n)? {
                Some(b) => Ok(b),
                None => Err(PyErr::other(
                    "http.client.IncompleteRead",
                    format!(
                        "the daemon closed the connection in the middle of its answer ({} of \
                         {} bytes read)",
                        self.buffered().len(),
                        n
                    ),
                )),
            };
        }
        let mut body = Vec::new();
        loop {
            let part = self.read_some(usize::MAX)?;
            if part.is_empty() {
                return Ok(body);
            }
            body.extend_from_slice(&part);
        }
    }
}

/// The `Authorization` header value for basic auth.
pub fn basic_auth(username: &str, password: &str) -> String {
    use base64::Engine as _;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", username, password))
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_as_the_stock_transport() {
        assert_eq!(
            Endpoint::from_serverurl("unix:///tmp/s.sock").unwrap(),
            Endpoint::Unix("/tmp/s.sock".into())
        );
        assert_eq!(
            Endpoint::from_serverurl("http://LocalHost").unwrap(),
            Endpoint::Tcp {
                host: "localhost".into(),
                port: 80
            }
        );
        let e = Endpoint::from_serverurl("bogus://x").unwrap_err();
        assert!(e.is("ValueError"));
        assert_eq!(
            e.detail(),
            "the server URL bogus://x is neither unix:// nor http://"
        );
        assert_eq!(
            Endpoint::from_serverurl("http://h:x").unwrap_err().detail(),
            "bad server URL http://h:x: port 'x' is not a number"
        );
        assert_eq!(
            Endpoint::from_serverurl("http:///x").unwrap(),
            Endpoint::NoHost
        );
        assert_eq!(
            Endpoint::Tcp {
                host: "::1".into(),
                port: 9001
            }
            .host_header(),
            "[::1]:9001"
        );
    }

    #[test]
    fn bodies_chunked_and_sized() {
        let (a, mut b) = UnixStream::pair().unwrap();
        b.write_all(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x\r\nde\r\n0\r\n\r\n\
              HTTP/1.0 401 Unauthorized\r\nContent-Length: 2\r\n\r\nno",
        )
        .unwrap();
        drop(b);
        let mut c = Conn::new(Stream::Unix(a));
        let h = c.read_head().unwrap();
        assert!(h.chunked && !h.close && h.status == 200);
        assert_eq!(c.read_body(&h).unwrap(), b"abcde");
        let h = c.read_head().unwrap();
        assert_eq!(
            (h.status, h.reason.as_str(), h.close),
            (401, "Unauthorized", true)
        );
        assert_eq!(c.read_body(&h).unwrap(), b"no");
        assert!(
            c.read_head()
                .unwrap_err()
                .is("http.client.RemoteDisconnected")
        );
    }

    #[test]
    fn unknown_hosts_are_gaierrors() {
        let e = connect(&Endpoint::Tcp {
            host: "nosuchhost.invalid".into(),
            port: 9001,
        })
        .unwrap_err();
        assert!(matches!(e.kind, Kind::Gai { .. }) && e.connecting);
    }
}
