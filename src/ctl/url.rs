//! Server URLs as the stock client reads them (Python 3's `urllib.parse`): the `-s` check
//! (`supervisor.datatypes.url`), and the host and port of an `http://` URL (where Python
//! raises `ValueError` for a bad port).

/// The parts of `urlsplit` the client uses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Split {
    pub scheme: String,
    pub netloc: String,
    pub path: String,
}

/// Python's `urllib.parse.urlsplit` (scheme, netloc, path; query and fragment dropped).
pub fn urlsplit(url: &str) -> Split {
    // leading C0 controls and spaces are stripped, tabs and newlines removed
    let url: String = url
        .trim_start_matches(|c: char| c <= ' ')
        .chars()
        .filter(|c| !matches!(c, '\t' | '\r' | '\n'))
        .collect();
    let mut rest = url.as_str();
    let mut scheme = String::new();
    if let Some(i) = rest.find(':') {
        let head = &rest[..i];
        if i > 0
            && head.as_bytes()[0].is_ascii_alphabetic()
            && head
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'-' | b'.'))
        {
            scheme = head.to_ascii_lowercase();
            rest = &rest[i + 1..];
        }
    }
    let mut netloc = String::new();
    if let Some(after) = rest.strip_prefix("//") {
        let end = after.find(['/', '?', '#']).unwrap_or(after.len());
        netloc = after[..end].to_string();
        rest = &after[end..];
    }
    let rest = rest.split('#').next().unwrap_or("");
    let path = rest.split('?').next().unwrap_or("").to_string();
    Split {
        scheme,
        netloc,
        path,
    }
}

/// `supervisor.datatypes.url`: a scheme and a netloc or a path; the message of its
/// `ValueError` otherwise.
pub fn check_url(value: &str) -> Result<(), String> {
    let s = urlsplit(value);
    if !s.scheme.is_empty() && (!s.netloc.is_empty() || !s.path.is_empty()) {
        Ok(())
    } else {
        Err(format!(
            "value {} is not a URL",
            crate::config::values::py_repr(value)
        ))
    }
}

/// `SplitResult._hostinfo`: the host and port text of a netloc.
fn hostinfo(netloc: &str) -> (&str, Option<&str>) {
    let hostinfo = netloc.rsplit_once('@').map_or(netloc, |(_, h)| h);
    let (host, port) = match hostinfo.split_once('[') {
        Some((_, bracketed)) => {
            let (host, after) = bracketed.split_once(']').unwrap_or((bracketed, ""));
            (host, after.split_once(':').map_or("", |(_, p)| p))
        }
        None => hostinfo.split_once(':').unwrap_or((hostinfo, "")),
    };
    (host, if port.is_empty() { None } else { Some(port) })
}

/// `SplitResult.hostname`: lowercased, `None` when empty.
pub fn hostname(netloc: &str) -> Option<String> {
    let (host, _) = hostinfo(netloc);
    if host.is_empty() {
        None
    } else {
        Some(host.to_lowercase())
    }
}

/// `SplitResult.port`; what is wrong with a port where Python raises `ValueError`.
pub fn port(netloc: &str) -> Result<Option<u16>, String> {
    let Some(port) = hostinfo(netloc).1 else {
        return Ok(None);
    };
    if !port.bytes().all(|c| c.is_ascii_digit()) {
        return Err(format!(
            "port {} is not a number",
            crate::config::values::py_repr(port)
        ));
    }
    match port.parse::<u32>() {
        Ok(p) if p <= 65535 => Ok(Some(p as u16)),
        _ => Err(format!("port {} is out of range 0-65535", port)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_like_python() {
        let s = urlsplit("http://User@LocalHost:9001/RPC2?x#y");
        assert_eq!(
            (s.scheme.as_str(), s.netloc.as_str(), s.path.as_str()),
            ("http", "User@LocalHost:9001", "/RPC2")
        );
        let s = urlsplit("unix:///tmp/s.sock");
        assert_eq!((s.netloc.as_str(), s.path.as_str()), ("", "/tmp/s.sock"));
        let s = urlsplit("localhost:9001");
        assert_eq!((s.scheme.as_str(), s.path.as_str()), ("localhost", "9001"));
        assert_eq!(urlsplit("1x:y").scheme, "");
    }

    #[test]
    fn url_check_messages() {
        assert!(check_url("unix:///tmp/x").is_ok());
        assert!(check_url("localhost:9001").is_ok());
        assert_eq!(check_url("foo").unwrap_err(), "value 'foo' is not a URL");
        assert!(check_url("unix://").is_err());
        assert!(check_url("http://").is_err());
    }

    #[test]
    fn host_and_port() {
        assert_eq!(hostname("u:p@Host:80"), Some("host".into()));
        assert_eq!(hostname("[::1]:9001"), Some("::1".into()));
        assert_eq!(hostname(""), None);
        assert_eq!(port("h:9001"), Ok(Some(9001)));
        assert_eq!(port("h"), Ok(None));
        assert_eq!(port("h:"), Ok(None));
        assert_eq!(port("h:abc").unwrap_err(), "port 'abc' is not a number");
        assert_eq!(
            port("h:99999").unwrap_err(),
            "port 99999 is out of range 0-65535"
        );
        assert_eq!(port("[::1]:81"), Ok(Some(81)));
    }
}
