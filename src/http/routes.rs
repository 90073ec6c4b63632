//! Request routing: one [`route`] function maps every request to its handler, in the
//! reference's order (its medusa handler list): authentication first when configured, then
//! `/RPC2*` (XML-RPC), `/logtail*`, `/mainlogtail*`, and the web UI / static files for
//! everything else. Matching is by prefix on the percent-decoded path, as medusa does.
//!
//! The log tail, metrics and web handlers live in [`super::logtail`], [`super::metrics`] and
//! [`super::web`]. They receive the whole request and the shared [`Ctx`] and return a full
//! [`Response<Body>`] (the response helpers are in [`super::body`]); a streaming reply (the
//! `tail -f` of `/logtail`) is a [`Body`] built from a channel (`body::channel_body`).
//! Replies without a `Content-Length` are sent chunked on HTTP/1.1 and close the connection
//! on HTTP/1.0, as the reference does.

use bytes::Bytes;
use http_body_util::{BodyExt, Limited};
use hyper::body::Body as HttpBody;
use hyper::header::{self, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};

use super::auth::Outcome;
use super::body::{Body, error_response, full};
use super::{Ctx, LoopbackPeer};
use crate::rpc::{dispatch, xml};

/// Largest XML-RPC request body accepted (the reference has no limit); larger ones get 413.
pub const MAX_BODY: u64 = 8 * 1024 * 1024;

/// Python's `urllib.parse.unquote` on a path (bad escapes kept, UTF-8 with replacement).
fn unquote(path: &str) -> String {
    if !path.contains('%') {
        return path.to_string();
    }
    let b = path.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            let hex = |c: u8| (c as char).to_digit(16);
            if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The path medusa matches handlers against: the request target's path, percent-decoded;
/// an absolute-form target (`GET http://host/x`) is kept whole, so it matches nothing.
pub fn request_path<B>(req: &Request<B>) -> String {
    if req.uri().scheme().is_some() {
        return req.uri().to_string();
    }
    unquote(req.uri().path())
}

/// Answer one request. Every reply of every server goes through here.
pub async fn route<B>(ctx: &Ctx, req: Request<B>) -> Response<Body>
where
    B: HttpBody<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let path = request_path(&req);
    let open = ctx.open_health_on_loopback
        && (path == "/metrics" || path == "/healthz")
        && req.extensions().get::<LoopbackPeer>().is_some();
    if let Some(creds) = ctx.auth.as_ref().filter(|_| !open) {
        let values = req
            .headers()
            .get_all(header::AUTHORIZATION)
            .into_iter()
            .map(HeaderValue::as_bytes);
        if creds.check_all(values) == Outcome::Unauthorized {
            // Read the request's body first (up to the limit) and drop it, as the reference
            // does: a client still sending it would otherwise see a broken pipe, not the 401.
            let _ = Limited::new(req.into_body(), MAX_BODY as usize)
                .collect()
                .await;
            return unauthorized();
        }
    }
    if path.starts_with("/RPC2") {
        rpc2(ctx, req).await
    } else if let Some(rest) = path.strip_prefix("/logtail") {
        let rest = rest.to_string();
        super::logtail::logtail(ctx, req, &rest).await
    } else if path.starts_with("/mainlogtail") {
        super::logtail::mainlogtail(ctx, req).await
    } else if path == "/metrics" && req.method() == hyper::Method::GET {
        super::metrics::metrics(ctx).await
    } else if path == "/healthz" && req.method() == hyper::Method::GET {
        super::metrics::healthz(ctx).await
    } else if path == "/dashboard" || path.starts_with("/dashboard/") {
        super::dashboard::dashboard(ctx, req, &path).await
    } else {
        super::web::web(ctx, req, &path).await
    }
}

/// 401 with the reference's challenge; the connection is closed after it.
fn unauthorized() -> Response<Body> {
    let mut resp = error_response(StatusCode::UNAUTHORIZED);
    let h = resp.headers_mut();
    h.insert(header::CONNECTION, HeaderValue::from_static("close"));
    h.insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Basic realm=\"default\""),
    );
    resp
}

/// `POST /RPC2`: one XML-RPC call. Faults are 200 replies with a fault body.
async fn rpc2<B>(ctx: &Ctx, req: Request<B>) -> Response<Body>
where
    B: HttpBody<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    if req.method() != Method::POST {
        return error_response(StatusCode::BAD_REQUEST);
    }
    let length = match req.headers().get(header::CONTENT_LENGTH) {
        None => return error_response(StatusCode::LENGTH_REQUIRED),
        Some(v) => v.to_str().ok().and_then(|s| s.trim().parse::<u64>().ok()),
    };
    match length {
        None => return error_response(StatusCode::BAD_REQUEST),
        Some(n) if n > MAX_BODY => {
            let mut resp = error_response(StatusCode::PAYLOAD_TOO_LARGE);
            resp.headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
            return resp;
        }
        Some(_) => {}
    }
    let body = match Limited::new(req.into_body(), MAX_BODY as usize)
        .collect()
        .await
    {
        Ok(collected) => collected.to_bytes(),
        Err(e) => {
            crate::log_debug!("XML-RPC request body could not be read: {e}");
            return error_response(StatusCode::BAD_REQUEST);
        }
    };
    let (method, params) = match xml::parse_call(&body) {
        Ok(call) => call,
        Err(e) => {
            crate::log_error!(
                "XML-RPC request data {:?} is invalid: {}",
                String::from_utf8_lossy(&body),
                match e {
                    xml::ParseError::NoMethodName => "no method name",
                    xml::ParseError::Unmarshallable(_) => "unmarshallable",
                }
            );
            return error_response(StatusCode::BAD_REQUEST);
        }
    };
    crate::log_trace!("XML-RPC method called: {method}()");
    let reply = match dispatch::call(&ctx.handle, &method, params).await {
        Ok(value) => {
            crate::log_trace!("XML-RPC method {method}() returned successfully");
            xml::response(&value)
        }
        Err(f) => {
            crate::log_trace!(
                "XML-RPC method {method}() returned fault: [{}] {}",
                f.code,
                f.string
            );
            xml::fault(&f)
        }
    };
    let len = reply.len();
    let mut resp = Response::new(full(reply));
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/xml"));
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unquote_like_python() {
        assert_eq!(unquote("/%52PC2"), "/RPC2");
        assert_eq!(unquote("/a%2"), "/a%2");
        assert_eq!(unquote("/a%zz%"), "/a%zz%");
        assert_eq!(unquote("/%C3%A9"), "/\u{e9}");
        assert_eq!(unquote("/%ff"), "/\u{fffd}");
    }
}
