//! Log streams (`GET /logtail/<name>/<channel>`, `GET /mainlogtail`) read as the stock
//! client's own asynchronous HTTP client reads them, for `tail -f`, `maintail -f` and `fg`:
//!
//! - each chunk of a chunked body is written to stdout as it arrives, decoded as UTF-8
//!   (a chunk that is not UTF-8 is written as `Undecodable: b'...'`, Python's repr);
//! - a body with a `Content-Length` is written as it arrives, up to that length; a body
//!   with neither ends at once, as the stock client's does;
//! - a status other than 200 prints `<url> Cannot read, status code N` on stderr, a
//!   connection that fails `<url> Cannot connect, error: ` and what went wrong (where the
//!   stock client shows the Python exception, `<class '...'> (...)`), and the stream ends;
//!   it also ends when the daemon closes it;
//! - a unix socket that cannot be connected to is an error of the command, as the stock
//!   client's `connect` raises it there.
//!
//! The request carries basic auth when a password is set, as the stock handler's does.

use std::os::fd::RawFd;

use super::controller::Controller;
use super::error::{Kind, PyErr, Result};
use super::transport::{self, Conn, Endpoint, Head};

/// What a read of a stream gave.
pub enum Event {
    Data(Vec<u8>),
    /// The stream is over (already reported where the stock client reports it).
    End,
    /// Ctrl-C.
    Interrupted,
}

/// One log stream.
pub struct Follow {
    url: String,
    conn: Conn,
    head: Option<Head>,
    /// Bytes still expected of a `Content-Length` body.
    left: usize,
}

impl Follow {
    /// Connect and send the request. `Err` when a unix socket cannot be connected to;
    /// `None` when anything else fails (reported on stderr).
    pub fn open(ctl: &mut Controller, path: &str) -> Result<Option<Follow>> {
        let serverurl = ctl.opts.serverurl.clone();
        let url = format!("{}{}", serverurl, path);
        let host = super::url::urlsplit(&url).netloc;
        let ep = if let Some(sock) = serverurl.strip_prefix("unix://") {
            Ok(Endpoint::Unix(sock.into()))
        } else {
            let (name, port) = match host.split_once(':') {
                Some((h, p)) => (h.to_string(), p.parse::<u16>().unwrap_or(0)),
                None => (host.clone(), 80),
            };
            Ok(Endpoint::Tcp { host: name, port })
        };
        let stream = ep.and_then(|ep| transport::connect(&ep));
        let mut conn = match stream {
            Ok(s) => Conn::new(s),
            Err(e) if serverurl.starts_with("unix://") => return Err(e),
            Err(e) => {
                cannot_connect(ctl, &url, &e);
                return Ok(None);
            }
        };
        let mut head = format!(
            "GET {} HTTP/1.1\r\nHost: {}\r\nAccept-Encoding: chunked\r\nAccept: */*\r\n\
             User-agent: Supervisor HTTP Client\r\n",
            path, host
        );
        if let Some(p) = ctl.opts.password.as_deref().filter(|p| !p.is_empty()) {
            let user = ctl.opts.username.as_deref().unwrap_or("None");
            head.push_str(&format!(
                "Authorization: {}\r\n",
                transport::basic_auth(user, p)
            ));
        }
        head.push_str("\r\n");
        if let Err(e) = conn.send(&head, b"") {
            cannot_connect(ctl, &url, &e);
            return Ok(None);
        }
        Ok(Some(Follow {
            url,
            conn,
            head: None,
            left: 0,
        }))
    }

    pub fn fd(&self) -> RawFd {
        self.conn.fd()
    }

    /// Whether bytes are already buffered (read them before waiting on the socket).
    pub fn has_buffered(&self) -> bool {
        !self.conn.buffered().is_empty()
    }

    /// Read the next piece (waiting for it).
    pub fn next(&mut self, ctl: &mut Controller) -> Event {
        match self.step(ctl) {
            Ok(ev) => ev,
            Err(e) if e.kind == Kind::Interrupted => Event::Interrupted,
            Err(e) => {
                // a failure once connected: the stock handler reports it and closes
                if !e.is("http.client.RemoteDisconnected") {
                    cannot_connect(ctl, &self.url, &e);
                }
                Event::End
            }
        }
    }

    fn step(&mut self, ctl: &mut Controller) -> Result<Event> {
        let head = match &self.head {
            Some(h) => h.clone(),
            None => {
                let h = self.conn.read_head()?;
                if h.status != 200 {
                    ctl.error_line(&format!(
                        "{} Cannot read, status code {}",
                        self.url, h.status
                    ));
                    return Ok(Event::End);
                }
                self.left = h.length.unwrap_or(0);
                self.head = Some(h.clone());
                h
            }
        };
        if head.chunked {
            return Ok(match self.conn.read_chunk()? {
                Some(data) => Event::Data(data),
                None => Event::End,
            });
        }
        if self.left == 0 {
            return Ok(Event::End);
        }
        let data = self.conn.read_some(self.left)?;
        if data.is_empty() {
            return Ok(Event::End);
        }
        self.left -= data.len();
        Ok(Event::Data(data))
    }
}

/// `<url> Cannot connect, error: ` and what went wrong, on stderr (the stock client shows
/// the Python exception after `error: `, `<class 'X'> (message)`).
pub fn cannot_connect(ctl: &mut Controller, url: &str, e: &PyErr) {
    ctl.error_line(&format!("{} Cannot connect, error: {}", url, e.detail()));
}

/// Write stream data as the stock listener does.
pub fn feed(ctl: &mut Controller, data: &[u8]) {
    match std::str::from_utf8(data) {
        Ok(s) => ctl.write(s),
        Err(_) => ctl.write(&format!("Undecodable: {}", py_bytes_repr(data))),
    }
    ctl.flush();
}

/// Python's `repr(bytes)`.
pub fn py_bytes_repr(data: &[u8]) -> String {
    let quote = if data.contains(&b'\'') && !data.contains(&b'"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::from("b");
    out.push(quote);
    for &c in data {
        match c {
            b'\\' => out.push_str("\\\\"),
            b'\t' => out.push_str("\\t"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            c if c as char == quote => {
                out.push('\\');
                out.push(quote);
            }
            0x20..=0x7e => out.push(c as char),
            c => out.push_str(&format!("\\x{:02x}", c)),
        }
    }
    out.push(quote);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_repr() {
        assert_eq!(py_bytes_repr(b"a\xff\n'"), "b\"a\\xff\\n'\"");
        assert_eq!(py_bytes_repr(b"it's \"x\""), "b'it\\'s \"x\"'");
    }
}
