//! The response helpers every HTTP handler shares: the [`Body`] type, a full body, a body fed
//! by a channel (streaming replies), medusa's error page, and HTTP dates.

use std::convert::Infallible;
use std::time::SystemTime;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::{Body as HttpBody, Frame};
use hyper::header::{self, HeaderValue};
use hyper::{Response, StatusCode};

/// Response body type of every handler: a boxed body whose errors are I/O errors (so a
/// file-backed stream can fail mid-way; the connection is then closed).
pub type Body = http_body_util::combinators::UnsyncBoxBody<Bytes, std::io::Error>;

/// A body holding `bytes`.
pub fn full(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into())
        .map_err(|e: Infallible| match e {})
        .boxed_unsync()
}

/// A body fed by a channel (for `tail -f`-style replies): each `Ok` chunk is sent as it
/// arrives (chunked on HTTP/1.1), an `Err` aborts the connection, and dropping the sender
/// ends the body. When the client goes away the receiver is dropped, so `send` fails and the
/// producing task can stop.
pub fn channel_body(rx: tokio::sync::mpsc::Receiver<Result<Bytes, std::io::Error>>) -> Body {
    use std::pin::Pin;
    use std::task::{Context, Poll};
    struct ChannelBody(tokio::sync::mpsc::Receiver<Result<Bytes, std::io::Error>>);
    impl HttpBody for ChannelBody {
        type Data = Bytes;
        type Error = std::io::Error;
        fn poll_frame(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
            self.0.poll_recv(cx).map(|o| o.map(|r| r.map(Frame::data)))
        }
    }
    ChannelBody(rx).boxed_unsync()
}

/// The reference's (medusa's) reason phrase for a status.
fn reason(status: StatusCode) -> &'static str {
    match status.as_u16() {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        411 => "Length Required",
        408 => "Request Time-out",
        413 => "Request Entity Too Large",
        414 => "Request-URI Too Large",
        500 => "Internal Server Error",
        504 => "Gateway Time-out",
        _ => status.canonical_reason().unwrap_or("Unknown"),
    }
}

/// medusa's error page: `text/html`, with the code and reason in its body.
pub fn error_response(status: StatusCode) -> Response<Body> {
    let body = format!(
        "<head>\r\n<title>Error response</title>\r\n</head>\r\n<body>\r\n<h1>Error response</h1>\r\n\
         <p>Error code {}.\r\n<p>Message: {}.\r\n</body>\r\n",
        status.as_u16(),
        reason(status)
    );
    let mut resp = Response::new(full(body.clone()));
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(body.len()));
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html"));
    let phrase = reason(status);
    if status.canonical_reason() != Some(phrase) {
        resp.extensions_mut()
            .insert(hyper::ext::ReasonPhrase::from_static(phrase.as_bytes()));
    }
    resp
}

/// An RFC 1123 date, as HTTP headers carry them: `Tue, 24 Nov 2026 16:06:06 GMT`.
pub fn http_date(t: SystemTime) -> String {
    let secs = t
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let days = secs.div_euclid(86400);
    let rem = secs.rem_euclid(86400);
    let (y, m, d) = civil_from_days(days);
    use crate::util::time::{MONTHS, WEEKDAYS};
    format!(
        "{}, {:02} {} {} {:02}:{:02}:{:02} GMT",
        // 1970-01-01 was a Thursday
        WEEKDAYS[(days + 4).rem_euclid(7) as usize],
        d,
        MONTHS[(m - 1) as usize],
        y,
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

/// (year, month 1-12, day 1-31) of a day count since 1970-01-01 (proleptic Gregorian).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + if m <= 2 { 1 } else { 0 };
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn http_dates() {
        assert_eq!(
            http_date(SystemTime::UNIX_EPOCH),
            "Thu, 01 Jan 1970 00:00:00 GMT"
        );
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_536_366);
        assert_eq!(http_date(t), "Tue, 24 Nov 2026 16:06:06 GMT");
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(951_782_400); // 2000-02-29
        assert_eq!(http_date(t), "Tue, 29 Feb 2000 00:00:00 GMT");
    }

    #[test]
    fn error_page_is_medusas() {
        let r = error_response(StatusCode::NOT_FOUND);
        assert_eq!(r.headers()[header::CONTENT_LENGTH], "134");
        assert_eq!(r.headers()[header::CONTENT_TYPE], "text/html");
    }
}
