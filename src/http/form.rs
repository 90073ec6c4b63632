//! The form of a web UI request (`/index.html`, `/tail.html`, `/ok.html`): its fields from the
//! query string and an urlencoded POST body, as the reference's `continue_request` builds its
//! `form` dict (with `urllib.parse` on both), and the `Host` header for redirects.
//!
//! Precedence, as the reference: the query string's fields first (the first of a repeated
//! name wins), then the body's (the last of a repeated name wins, over the query's too);
//! fields without `=` or with a blank value are dropped. Fields are kept in a map keyed by
//! name, so building a form is linear in its size. A form is bounded on purpose (the
//! reference takes any): a POST body over [`MAX_BODY`] or more than [`MAX_FIELDS`]
//! `&`-separated pieces in query and body together is refused with 413 before any field is
//! decoded, so no request holds the runtime for long.

use std::collections::HashMap;

use bytes::Bytes;
use http_body_util::{BodyExt, Limited};
use hyper::body::Body as HttpBody;
use hyper::header::{self, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};

use super::body::{Body, error_response};

/// Largest POST body read for a form.
pub const MAX_BODY: usize = 1024 * 1024;
/// Most `&`-separated pieces a form may have (query and body together). The pages' own links
/// and buttons send at most three.
pub const MAX_FIELDS: usize = 1000;

/// The fields of one request, and its `Host` header.
#[derive(Debug, Default)]
pub struct Form {
    fields: HashMap<String, String>,
    pub host: Option<String>,
}

impl Form {
    /// The value of a field.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.fields.get(key).map(String::as_str)
    }

    /// A form from a query string and a POST body (either may be empty), or `None` when they
    /// have more than [`MAX_FIELDS`] pieces.
    pub fn parse(query: &str, body: &str) -> Option<Form> {
        if pieces(query) + pieces(body) > MAX_FIELDS {
            return None;
        }
        let mut form = Form::default();
        for (k, v) in parse_qsl(query) {
            form.fields.entry(k).or_insert(v);
        }
        for (k, v) in parse_qsl(body) {
            form.fields.insert(k, v);
        }
        Some(form)
    }
}

/// The number of `&`-separated pieces `parse_qsl` would look at.
fn pieces(qs: &str) -> usize {
    if qs.is_empty() {
        0
    } else {
        qs.bytes().filter(|&c| c == b'&').count() + 1
    }
}

/// Read a request's form: its query string, and its body for a POST. Too large a form is
/// answered with 413 (and the connection closed: the rest of the body is not read).
pub async fn read<B>(req: Request<B>) -> Result<Form, Response<Body>>
where
    B: HttpBody<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(|s| s.trim().to_string());
    let query = req.uri().query().unwrap_or("").to_string();
    let body = if req.method() == Method::POST {
        let declared = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|s| s.trim().parse::<u64>().ok());
        if declared.is_some_and(|n| n > MAX_BODY as u64) {
            return Err(too_large());
        }
        match Limited::new(req.into_body(), MAX_BODY).collect().await {
            Ok(collected) => collected.to_bytes(),
            Err(e) if e.is::<http_body_util::LengthLimitError>() => return Err(too_large()),
            Err(_) => return Err(error_response(StatusCode::BAD_REQUEST)),
        }
    } else {
        Bytes::new()
    };
    let mut form = Form::parse(&query, &String::from_utf8_lossy(&body)).ok_or_else(too_large)?;
    form.host = host;
    Ok(form)
}

/// 413, closing the connection.
fn too_large() -> Response<Body> {
    let mut resp = error_response(StatusCode::PAYLOAD_TOO_LARGE);
    resp.headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    resp
}

/// Python's `urllib.parse.parse_qsl` (`&`-separated, `+` is a space, blank values dropped).
pub fn parse_qsl(qs: &str) -> impl Iterator<Item = (String, String)> + '_ {
    qs.split('&').filter_map(|field| {
        let (k, v) = field.split_once('=')?;
        if v.is_empty() {
            return None;
        }
        Some((unquote_plus(k), unquote_plus(v)))
    })
}

/// Python's `urllib.parse.unquote_plus` (bad escapes kept, UTF-8 with replacement).
fn unquote_plus(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => {
                let hex = |c: u8| (c as char).to_digit(16);
                match (hex(b[i + 1]), hex(b[i + 2])) {
                    (Some(h), Some(l)) => {
                        out.push((h * 16 + l) as u8);
                        i += 3;
                        continue;
                    }
                    _ => out.push(b'%'),
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_strings_like_python() {
        assert_eq!(
            parse_qsl("processname=grp%3Aa&action=start&x=&y&m=a+b%2").collect::<Vec<_>>(),
            vec![
                ("processname".to_string(), "grp:a".to_string()),
                ("action".to_string(), "start".to_string()),
                ("m".to_string(), "a b%2".to_string())
            ]
        );
    }

    #[test]
    fn precedence_like_the_reference() {
        // query: first of repeated wins; body: last wins, over the query; blanks dropped
        let f = Form::parse("a=q1&a=q2&b=q&c=q&d=&e=q", "b=p1&b=p2&c=&d=p&f=p1&f=p2&e").unwrap();
        assert_eq!(f.get("a"), Some("q1"));
        assert_eq!(f.get("b"), Some("p2"));
        assert_eq!(f.get("c"), Some("q"));
        assert_eq!(f.get("d"), Some("p"));
        assert_eq!(f.get("e"), Some("q"));
        assert_eq!(f.get("f"), Some("p2"));
        assert_eq!(f.get("g"), None);
        let f = Form::parse("", "").unwrap();
        assert_eq!(f.get("a"), None);
    }

    #[test]
    fn field_cap() {
        let fields = |n: usize| vec!["k=v"; n].join("&");
        assert!(Form::parse(&fields(MAX_FIELDS), "").is_some());
        assert!(Form::parse(&fields(MAX_FIELDS / 2), &fields(MAX_FIELDS / 2)).is_some());
        assert!(Form::parse(&fields(MAX_FIELDS + 1), "").is_none());
        assert!(Form::parse("", &fields(MAX_FIELDS + 1)).is_none());
        assert!(Form::parse(&fields(MAX_FIELDS / 2), &fields(MAX_FIELDS / 2 + 1)).is_none());
        // blank pieces count too: they cost parsing as well
        assert!(Form::parse(&"&".repeat(MAX_FIELDS), "").is_none());
    }

    /// A 1 MiB body of distinct names is refused before anything is decoded; under the cap
    /// every field is found.
    #[test]
    fn many_distinct_fields() {
        let body: String = (0..200_000).map(|i| format!("f{i}=1&")).collect();
        assert!(Form::parse("", &body[..MAX_BODY]).is_none());
        let under: Vec<String> = (0..MAX_FIELDS).map(|i| format!("f{i}={i}")).collect();
        let f = Form::parse("", &under.join("&")).unwrap();
        assert_eq!(f.get("f0"), Some("0"));
        assert_eq!(f.get("f999"), Some("999"));
    }
}
