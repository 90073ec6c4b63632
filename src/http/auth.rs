//! HTTP basic authentication, as the reference's `supervisor_auth_handler` (medusa's
//! `auth_handler` with an authorizer that understands `{SHA}` passwords).
//!
//! When a server section sets `username`/`password`, every request on that server (the
//! XML-RPC endpoint, the log tails, the web UI and the static files) needs an
//! `Authorization: Basic ...` header whose user matches and whose password equals the
//! configured one, or, when the configured one is `{SHA}` followed by hex, whose SHA-1 hex
//! digest (lowercase) equals the rest. The reference's quirks, kept on purpose:
//! - a missing header, another scheme, or wrong credentials: 401 with
//!   `WWW-Authenticate: Basic realm="default"` and `Connection: close`;
//! - a cookie that is not base64 or not UTF-8 once decoded: 400;
//! - a cookie that decodes to text without a `:`: 500 (the reference crashes unpacking it).

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
    /// 401 with the challenge.
    Unauthorized,
    /// 400: the cookie could not be decoded.
    Malformed,
    /// 500: the cookie decoded to something without a `:`.
    ServerError,
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

    /// Judge the request's `Authorization` header value (the first one, raw bytes).
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
            return Outcome::Malformed;
        };
        let Some((user, pass)) = decoded.split_once(':') else {
            return Outcome::ServerError;
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
        assert_eq!(c.check(Some(b"Basic !!!!")), Outcome::ServerError); // decodes to ""
        assert_eq!(c.check(Some(b"Basic dXNlcg==")), Outcome::ServerError); // "user", no colon
        assert_eq!(c.check(Some(b"Basic dXNlcg")), Outcome::Malformed); // bad padding
        assert_eq!(c.check(Some(b"Basic /w==")), Outcome::Malformed); // not UTF-8
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
