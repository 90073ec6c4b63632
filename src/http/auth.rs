//! HTTP basic authentication, as the reference's `supervisor_auth_handler` (medusa's
//! `auth_handler` with an authorizer that understands `{SHA}` passwords).
//!
//! When a server section sets `username`/`password`, every request on that server (the
//! XML-RPC endpoint, the log tails, the web UI and the static files) needs an
//! `Authorization: Basic ...` header whose user matches and whose password equals the
//! configured one, or, when the configured one is `{SHA}` followed by hex, whose SHA-1 hex
//! digest (lowercase) equals the rest. Anything else gets 401 with
//! `WWW-Authenticate: Basic realm="default"` and `Connection: close`: a missing header,
//! another scheme, wrong credentials, and also (unlike the reference, on purpose) every
//! malformed header: a cookie that is not base64, not UTF-8 once decoded, or has no `:`
//! (the reference answers 400, or 500 when it crashes unpacking it), and a request with
//! more than one `Authorization` header (the reference reads the first). The work is linear
//! in the header's length.

use sha1::{Digest, Sha1};

/// The credentials of one server section.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Credentials {
    pub username: String,
    /// As written in the configuration: plain, or `{SHA}` + hex SHA-1.
    pub password: String,
}

/// What to do with a request after looking at its `Authorization` header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Credentials accepted: handle the request.
    Allowed,
    /// 401 with the challenge; the request is not handled.
    Unauthorized,
}

impl Credentials {
    /// Credentials from a server section, if it asks for authentication (the reference
    /// checks only that a username is set and non-empty).
    pub fn from_config(
        username: &Option<String>,
        password: &Option<String>,
    ) -> Option<Credentials> {
        match username {
            Some(u) if !u.is_empty() => Some(Credentials {
                username: u.clone(),
                password: password.clone().unwrap_or_default(),
            }),
            _ => None,
        }
    }

    /// Judge a request by its `Authorization` headers (raw bytes, in order): exactly one
    /// that [`check`](Self::check) allows, or 401.
    pub fn check_all<'a>(&self, mut headers: impl Iterator<Item = &'a [u8]>) -> Outcome {
        match (headers.next(), headers.next()) {
            (first, None) => self.check(first),
            (_, Some(_)) => Outcome::Unauthorized,
        }
    }

    /// Judge one `Authorization` header value (raw bytes, any of them).
    pub fn check(&self, header: Option<&[u8]>) -> Outcome {
        // medusa matches `Authorization: ([^ ]+) (.*)`: a scheme, one space, the rest.
        let Some(value) = header else {
            return Outcome::Unauthorized;
        };
        let Some(sp) = value.iter().position(|&c| c == b' ') else {
            return Outcome::Unauthorized;
        };
        let (scheme, cookie) = (&value[..sp], &value[sp + 1..]);
        if scheme.is_empty() || !scheme.eq_ignore_ascii_case(b"basic") {
            return Outcome::Unauthorized;
        }
        let Some(decoded) = decode_cookie(cookie) else {
            crate::log_debug!("malformed authorization info: not base64 of UTF-8 text");
            return Outcome::Unauthorized;
        };
        let Some((user, pass)) = decoded.split_once(':') else {
            crate::log_debug!("malformed authorization info: no ':' in the credentials");
            return Outcome::Unauthorized;
        };
        if user == self.username && self.password_matches(pass) {
            Outcome::Allowed
        } else {
            Outcome::Unauthorized
        }
    }

    fn password_matches(&self, given: &str) -> bool {
        match self.password.strip_prefix("{SHA}") {
            Some(hex) => {
                let digest = Sha1::digest(given.as_bytes());
                let mut ours = String::with_capacity(40);
                for b in digest.iter() {
                    ours.push_str(&format!("{b:02x}"));
                }
                constant_time_eq(hex.as_bytes(), ours.as_bytes())
            }
            None => constant_time_eq(self.password.as_bytes(), given.as_bytes()),
        }
    }
}

/// Python's lenient `base64.decodebytes` then a strict UTF-8 decode.
fn decode_cookie(cookie: &[u8]) -> Option<String> {
    String::from_utf8(crate::rpc::xml::py_b64decode_bytes(cookie).ok()?).ok()
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;

    fn basic(userpass: &str) -> Vec<u8> {
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(userpass)
        )
        .into_bytes()
    }

    #[test]
    fn plain_and_sha() {
        let plain = Credentials {
            username: "user".into(),
            password: "test".into(),
        };
        let sha = Credentials {
            username: "user".into(),
            password: "{SHA}a94a8fe5ccb19ba61c4c0873d391e987982fbbd3".into(),
        };
        for c in [&plain, &sha] {
            assert_eq!(c.check(Some(&basic("user:test"))), Outcome::Allowed);
            assert_eq!(c.check(Some(&basic("user:nope"))), Outcome::Unauthorized);
            assert_eq!(c.check(Some(&basic("other:test"))), Outcome::Unauthorized);
            assert_eq!(c.check(None), Outcome::Unauthorized);
        }
        // the literal `{SHA}...` string is not itself a valid password
        assert_eq!(
            sha.check(Some(&basic(
                "user:{SHA}a94a8fe5ccb19ba61c4c0873d391e987982fbbd3"
            ))),
            Outcome::Unauthorized
        );
        // password may contain ':'
        let colon = Credentials {
            username: "u".into(),
            password: "a:b".into(),
        };
        assert_eq!(colon.check(Some(&basic("u:a:b"))), Outcome::Allowed);
    }

    #[test]
    fn header_quirks() {
        let c = Credentials {
            username: "user".into(),
            password: "test".into(),
        };
        let mut lower = basic("user:test");
        lower[..5].copy_from_slice(b"basic");
        assert_eq!(c.check(Some(&lower)), Outcome::Allowed);
        assert_eq!(c.check(Some(b"Digest abc")), Outcome::Unauthorized);
        assert_eq!(c.check(Some(b"Basic")), Outcome::Unauthorized);
    }

    /// Every malformed header is a plain 401 (the reference answers 400 or 500).
    #[test]
    fn malformed_headers_are_unauthorized() {
        let c = Credentials {
            username: "user".into(),
            password: "test".into(),
        };
        let latin1_creds = {
            use base64::Engine as _;
            let b64 = base64::engine::general_purpose::STANDARD.encode(b"us\xe9r:t\xe9st");
            format!("Basic {b64}").into_bytes()
        };
        let huge = [b"Basic ".as_slice(), &b"A".repeat(1 << 20)].concat();
        let samples: &[&[u8]] = &[
            b"",
            b"Basic",
            b"Basic ",
            b"basic  ",
            b" Basic dXNlcjp0ZXN0",
            b"Basic !!!!",         // decodes to "": no colon
            b"Basic dXNlcg==",     // "user": no colon
            b"Basic dXNlcg",       // truncated: bad padding
            b"Basic d",            // one character too many
            b"Basic /w==",         // not UTF-8
            b"Basic \xe9\xe0\xff", // raw Latin-1 bytes
            &latin1_creds,
            &huge, // a megabyte of zeros once decoded
            b"Bearer dXNlcjp0ZXN0",
            b"Digest username=\"user\"",
            b"Basicx dXNlcjp0ZXN0",
        ];
        for s in samples {
            assert_eq!(
                c.check(Some(s)),
                Outcome::Unauthorized,
                "{:?}",
                String::from_utf8_lossy(&s[..s.len().min(40)])
            );
        }
        assert_eq!(c.check(Some(&basic("user:test"))), Outcome::Allowed);
    }

    #[test]
    fn exactly_one_header() {
        let c = Credentials {
            username: "user".into(),
            password: "test".into(),
        };
        let good = basic("user:test");
        let bad = basic("user:nope");
        let none: [&[u8]; 0] = [];
        assert_eq!(c.check_all(none.into_iter()), Outcome::Unauthorized);
        assert_eq!(c.check_all([&good[..]].into_iter()), Outcome::Allowed);
        assert_eq!(c.check_all([&bad[..]].into_iter()), Outcome::Unauthorized);
        assert_eq!(
            c.check_all([&good[..], &good[..]].into_iter()),
            Outcome::Unauthorized
        );
        assert_eq!(
            c.check_all([&good[..], &bad[..]].into_iter()),
            Outcome::Unauthorized
        );
        assert_eq!(
            c.check_all([&bad[..], &good[..]].into_iter()),
            Outcome::Unauthorized
        );
    }

    #[test]
    fn from_config() {
        assert_eq!(Credentials::from_config(&None, &None), None);
        assert_eq!(
            Credentials::from_config(&Some(String::new()), &Some("x".into())),
            None
        );
        assert!(Credentials::from_config(&Some("u".into()), &Some("p".into())).is_some());
    }
}
