//! XML-RPC calls over [`super::transport`], with the daemon's own codec (`crate::rpc::xml`:
//! `call` writes the body Python's `xmlrpc.client` writes, `parse_response` reads replies and
//! faults in the same dialect the daemon writes), and the accessors the commands use on the
//! values that come back (a missing member is Python's `KeyError`, an answer of another
//! shape its `TypeError`; both say what the answer lacks).
//!
//! One connection is kept alive across calls. A reused connection that the daemon has closed
//! in the meantime (after a `reload`, say) is noticed before any byte of a reply arrives, and
//! the request is sent once more on a new one.

use super::error::{Kind, PyErr, Result};
use super::transport::{self, Conn, Endpoint};
use crate::config::values::py_repr;
use crate::rpc::{Value, xml};

/// The XML-RPC side of a session with one daemon.
pub struct Client {
    serverurl: String,
    auth: Option<String>,
    conn: Option<Conn>,
}

impl Client {
    /// As `SupervisorTransport(username, password, serverurl)`: credentials are sent only
    /// when both are given.
    pub fn new(serverurl: &str, username: Option<&str>, password: Option<&str>) -> Client {
        Client {
            serverurl: serverurl.to_string(),
            auth: match (username, password) {
                (Some(u), Some(p)) => Some(transport::basic_auth(u, p)),
                _ => None,
            },
            conn: None,
        }
    }

    /// The checks `getServerProxy()` makes before any request (the URL's scheme and port).
    pub fn check(&self) -> Result<Endpoint> {
        Endpoint::from_serverurl(&self.serverurl)
    }

    /// Call `method`; a fault is `Err` with [`Kind::Fault`].
    pub fn call(&mut self, method: &str, params: &[Value]) -> Result<Value> {
        let ep = self.check()?;
        let body = xml::call(method, params);
        let mut head = format!(
            "POST /RPC2 HTTP/1.1\r\nHost: {}\r\nAccept-Encoding: identity\r\n\
             User-Agent: supervisorctl (supervisord-rs)\r\nContent-Type: text/xml\r\n\
             Accept: text/xml\r\nContent-Length: {}\r\n",
            ep.host_header(),
            body.len()
        );
        if let Some(a) = &self.auth {
            head.push_str("Authorization: ");
            head.push_str(a);
            head.push_str("\r\n");
        }
        head.push_str("\r\n");

        let reused = self.conn.is_some();
        let result = self.exchange(&ep, &head, &body);
        let (status, reason, data) = match result {
            Err(e) if reused && stale(&e) => {
                self.conn = None;
                self.exchange(&ep, &head, &body)?
            }
            other => other?,
        };
        if status != 200 {
            self.conn = None;
            return Err(PyErr::new(Kind::Protocol { status, reason }));
        }
        match xml::parse_response(&data) {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(f)) => Err(PyErr::new(Kind::Fault(f))),
            Err(e) => Err(PyErr::other(
                "xml.parsers.expat.ExpatError",
                format!("the daemon's answer is not XML-RPC: {}", e),
            )),
        }
    }

    /// One request and its response on the kept connection (made when there is none).
    fn exchange(
        &mut self,
        ep: &Endpoint,
        head: &str,
        body: &[u8],
    ) -> Result<(u16, String, Vec<u8>)> {
        if self.conn.is_none() {
            self.conn = Some(Conn::new(transport::connect(ep)?));
        }
        let conn = self.conn.as_mut().expect("connected above");
        let outcome = conn.send(head, body).and_then(|()| {
            let h = conn.read_head()?;
            let data = conn.read_body(&h)?;
            Ok((h, data))
        });
        match outcome {
            Ok((h, data)) => {
                if h.close {
                    self.conn = None;
                }
                Ok((h.status, h.reason, data))
            }
            Err(e) => {
                self.conn = None;
                Err(e)
            }
        }
    }
}

/// An error that means a kept-alive connection had been closed by the daemon.
fn stale(e: &PyErr) -> bool {
    e.is("http.client.RemoteDisconnected")
        || matches!(e.errno(), Some(libc::EPIPE) | Some(libc::ECONNRESET))
}

/// `value[key]` on a struct.
pub fn member<'a>(v: &'a Value, key: &str) -> Result<&'a Value> {
    match v {
        Value::Struct(m) => m.get(key).ok_or_else(|| {
            PyErr::other(
                "KeyError",
                format!("the daemon's answer has no member {}", py_repr(key)),
            )
        }),
        other => Err(PyErr::other(
            "TypeError",
            format!(
                "the daemon answered {} where a struct was expected",
                kind_of(other)
            ),
        )),
    }
}

/// Python's `str(value)` for the scalars the API returns.
pub fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Integer(i) => i.to_string(),
        Value::Boolean(b) => if *b { "True" } else { "False" }.into(),
        Value::Double(d) => crate::rpc::xml::py_float_repr(*d),
        Value::Nil => "None".into(),
        other => format!("{:?}", other),
    }
}

/// `str(value[key])`.
pub fn text_of(v: &Value, key: &str) -> Result<String> {
    member(v, key).map(text)
}

/// `value[key]` as an integer (`None` when it is not one).
pub fn int_of(v: &Value, key: &str) -> Result<Option<i64>> {
    Ok(match member(v, key)? {
        Value::Integer(i) => Some(i64::from(*i)),
        Value::Boolean(b) => Some(i64::from(*b)),
        _ => None,
    })
}

/// Python truthiness of `value[key]`.
pub fn truthy(v: &Value, key: &str) -> Result<bool> {
    Ok(match member(v, key)? {
        Value::Boolean(b) => *b,
        Value::Integer(i) => *i != 0,
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Struct(m) => !m.is_empty(),
        Value::Double(d) => *d != 0.0,
        Value::Nil => false,
        _ => true,
    })
}

/// Iterate a list the API returned.
pub fn list(v: &Value) -> Result<&[Value]> {
    match v {
        Value::Array(a) => Ok(a),
        other => Err(PyErr::other(
            "TypeError",
            format!(
                "the daemon answered {} where a list was expected",
                kind_of(other)
            ),
        )),
    }
}

/// What kind of value the daemon sent, in words.
fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Integer(_) => "an integer",
        Value::Boolean(_) => "a boolean",
        Value::Double(_) => "a number",
        Value::Nil => "nil",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Struct(_) => "a struct",
        _ => "a value",
    }
}
