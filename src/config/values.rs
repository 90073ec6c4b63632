//! Value parsers for supervisor's option types (the reference's `datatypes` vocabulary):
//! integers, booleans, byte sizes, octal modes, signal names, exit code lists,
//! `KEY=val,KEY2="a,b"` environments, `autorestart`, log levels, log file names, paths,
//! user and group names, `host:port` addresses and process/group names.
//!
//! Each parser returns `Err(message)` with the reference's wording for the problem; the
//! loader adds the file, section and key. Account look-ups (`getpwnam`, `getgrnam`) go
//! through `crate::util::users` (`/etc/passwd` and `/etc/group`, as musl reads them).

use std::ffi::CStr;
use std::path::{Path, PathBuf};

use super::model::{AutoRestart, LogLevel, LogTarget};
pub use super::pyrepr::{py_ascii, py_list_repr, py_repr};
use crate::util::users::{self, User};

/// Digits with single underscores between them, as Python's `int()` accepts.
fn digits_ok(s: &str, radix: u32) -> bool {
    !s.is_empty()
        && !s.starts_with('_')
        && !s.ends_with('_')
        && !s.contains("__")
        && s.chars().all(|c| c == '_' || c.is_digit(radix))
}

fn parse_radix(s: &str, radix: u32, allow_prefix: bool) -> Option<i64> {
    let t = s.trim();
    let (neg, body) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let body = if allow_prefix {
        body.strip_prefix("0o")
            .or_else(|| body.strip_prefix("0O"))
            .map(|b| b.strip_prefix('_').unwrap_or(b))
            .unwrap_or(body)
    } else {
        body
    };
    if !digits_ok(body, radix) {
        return None;
    }
    let clean: String = body.chars().filter(|&c| c != '_').collect();
    let v = i64::from_str_radix(&clean, radix).ok()?;
    Some(if neg { -v } else { v })
}

/// Python's `int(value)`.
pub fn integer(value: &str) -> Result<i64, String> {
    parse_radix(value, 10, false).ok_or_else(|| {
        let t = value.trim();
        let digits = t.strip_prefix(['-', '+']).unwrap_or(t);
        if digits_ok(digits, 10) {
            format!("{} is out of range", t)
        } else {
            format!("invalid literal for int() with base 10: {}", py_repr(value))
        }
    })
}

/// `integer`, clamped into `u32` (negative counts mean "none" to the reference).
pub fn count(value: &str) -> Result<u32, String> {
    integer(value).map(|v| v.clamp(0, u32::MAX as i64) as u32)
}

/// `startretries=`: a count, or `-1` for retry forever (beyond the reference, which gives up
/// at once for any negative value).
pub fn start_retries(value: &str) -> Result<u32, String> {
    match integer(value)? {
        -1 => Ok(crate::config::model::RETRY_FOREVER),
        v => Ok(v.clamp(0, u32::MAX as i64 - 1) as u32),
    }
}

/// An optional non-negative number of seconds; empty means unset.
pub fn optional_seconds(value: &str) -> Result<Option<u64>, String> {
    if value.trim().is_empty() {
        return Ok(None);
    }
    non_negative(value).map(Some)
}

/// `[supervisord] logformat=`: `reference` (default) or `json`.
pub fn main_log_format(value: &str) -> Result<crate::config::model::MainLogFormat, String> {
    use crate::config::model::MainLogFormat::*;
    match value.trim().to_lowercase().as_str() {
        "reference" | "default" => Ok(Reference),
        "json" => Ok(Json),
        _ => Err(format!(
            "invalid logformat {} (reference or json)",
            py_repr(value)
        )),
    }
}

/// `[program:x] logformat=`: `raw` (default), `prefixed`, `timestamped` or `json`.
pub fn output_format(value: &str) -> Result<crate::config::model::OutputFormat, String> {
    use crate::config::model::OutputFormat::*;
    match value.trim().to_lowercase().as_str() {
        "raw" => Ok(Raw),
        "prefixed" => Ok(Prefixed),
        "timestamped" => Ok(Timestamped),
        "json" => Ok(Json),
        _ => Err(format!(
            "invalid logformat {} (raw, prefixed, timestamped or json)",
            py_repr(value)
        )),
    }
}

/// An optional byte size (`250MB`); empty or `0` means unset.
pub fn optional_size(value: &str) -> Result<Option<u64>, String> {
    if value.trim().is_empty() {
        return Ok(None);
    }
    byte_size(value).map(|n| if n == 0 { None } else { Some(n) })
}

/// `integer` for a non-negative duration or limit.
pub fn non_negative(value: &str) -> Result<u64, String> {
    integer(value).map(|v| v.max(0) as u64)
}

const TRUTHY: [&str; 4] = ["yes", "true", "on", "1"];
const FALSY: [&str; 4] = ["no", "false", "off", "0"];

/// `true/false/yes/no/on/off/1/0`, any case.
pub fn boolean(value: &str) -> Result<bool, String> {
    let v = value.to_lowercase();
    if TRUTHY.contains(&v.as_str()) {
        Ok(true)
    } else if FALSY.contains(&v.as_str()) {
        Ok(false)
    } else {
        Err(format!("not a valid boolean value: {}", py_repr(value)))
    }
}

/// `50MB`, `10kb`, `1GB`, `1024` (1024-based). Negative sizes count as 0 ("no limit" /
/// "no capture"), as the reference treats them.
pub fn byte_size(value: &str) -> Result<u64, String> {
    let v = value.to_lowercase();
    for (suffix, mult) in [("kb", 1u64 << 10), ("mb", 1 << 20), ("gb", 1 << 30)] {
        if let Some(num) = v.strip_suffix(suffix) {
            let n = integer(num)?;
            return Ok((n.max(0) as u64).saturating_mul(mult));
        }
    }
    Ok(integer(&v)?.max(0) as u64)
}

/// An octal mode (`022`, `0o700`).
pub fn octal(value: &str) -> Result<u32, String> {
    parse_radix(value, 8, true)
        .and_then(|v| u32::try_from(v).ok())
        .ok_or_else(|| format!("{} can not be converted to an octal type", value))
}

/// `TERM`, `SIGTERM`, `term`, `15`.
pub fn signal_number(value: &str) -> Result<i32, String> {
    let num = match integer(value) {
        Ok(n) => n,
        Err(_) => {
            let upper = value.trim().to_uppercase();
            let name = upper.strip_prefix("SIG").unwrap_or(&upper);
            match crate::util::signals::number(name) {
                Some(n) => n as i64,
                None => {
                    return Err(format!(
                        "value {} is not a valid signal name",
                        py_repr(value)
                    ));
                }
            }
        }
    };
    // Python's valid numbers: every SIG* attribute of `signal`, SIG_DFL (0) included
    if num == 0 || crate::util::signals::is_known(num) {
        Ok(num as i32)
    } else {
        Err(format!(
            "value {} is not a valid signal number",
            py_repr(value)
        ))
    }
}

/// `a, b,c` → `["a", "b", "c"]`; empty → `[]`.
pub fn list_of_strings(value: &str) -> Vec<String> {
    if value.is_empty() {
        return Vec::new();
    }
    value.split(',').map(|s| s.trim().to_string()).collect()
}

/// `0,2` → `[0, 2]`, each 0..=255; empty → `[]`.
pub fn list_of_exitcodes(value: &str) -> Result<Vec<i32>, String> {
    if value.is_empty() {
        return Ok(Vec::new());
    }
    let bad = || format!("not a valid list of exit codes: {}", py_repr(value));
    value
        .split(',')
        .map(|s| match integer(s) {
            Ok(v) if (0..=255).contains(&v) => Ok(v as i32),
            _ => Err(bad()),
        })
        .collect()
}

/// Python's non-POSIX `shlex` tokens, with supervisor's extra word characters `/.+-():`.
fn shlex_tokens(s: &str) -> Result<Vec<String>, String> {
    fn is_word(c: char) -> bool {
        c.is_ascii_alphanumeric() || "_/.+-():".contains(c)
    }
    fn is_space(c: char) -> bool {
        " \t\r\n".contains(c)
    }
    fn skip_line(chars: &[char], i: &mut usize) {
        while *i < chars.len() {
            *i += 1;
            if chars[*i - 1] == '\n' {
                break;
            }
        }
    }
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    let mut tokens = Vec::new();
    let mut pushback: Option<char> = None;
    loop {
        if let Some(c) = pushback.take() {
            tokens.push(c.to_string());
            continue;
        }
        let mut token = String::new();
        let mut state = ' ';
        loop {
            let next = chars.get(i).copied();
            if next.is_some() {
                i += 1;
            }
            match state {
                ' ' => match next {
                    None => break,
                    Some(c) if is_space(c) => continue,
                    Some('#') => skip_line(&chars, &mut i),
                    Some(c) if is_word(c) => {
                        token.push(c);
                        state = 'a';
                    }
                    Some(c) if c == '"' || c == '\'' => {
                        token.push(c);
                        state = c;
                    }
                    Some(c) => {
                        token.push(c);
                        break;
                    }
                },
                'a' => match next {
                    None => break,
                    Some(c) if is_space(c) => break,
                    Some('#') => skip_line(&chars, &mut i),
                    Some(c) if is_word(c) || c == '"' || c == '\'' => token.push(c),
                    Some(c) => {
                        pushback = Some(c);
                        break;
                    }
                },
                q => match next {
                    None => return Err("No closing quotation".into()),
                    Some(c) => {
                        token.push(c);
                        if c == q {
                            break;
                        }
                    }
                },
            }
        }
        if token.is_empty() {
            return Ok(tokens);
        }
        tokens.push(token);
    }
}

/// `KEY=val,KEY2="a,b"` → pairs in first-seen order, a repeated key keeping its place and
/// taking the last value (a Python dict). Quotes around values are removed.
pub fn dict_of_key_value_pairs(value: &str) -> Result<Vec<(String, String)>, String> {
    let tokens = shlex_tokens(value)?;
    let mut out: Vec<(String, String)> = Vec::new();
    // key → index in `out`: 40 000 pairs are read in linear time
    let mut index: std::collections::HashMap<String, usize> = Default::default();
    let mut i = 0;
    while i < tokens.len() {
        let triple = &tokens[i..tokens.len().min(i + 3)];
        if triple.len() != 3 || triple[1] != "=" {
            return Err(format!(
                "Unexpected end of key/value pairs in value '{}'",
                value
            ));
        }
        let key = triple[0].clone();
        let val = triple[2]
            .trim_matches(|c| c == '\'' || c == '"')
            .to_string();
        match index.get(&key) {
            Some(&at) => out[at].1 = val,
            None => {
                index.insert(key.clone(), out.len());
                out.push((key, val));
            }
        }
        i += 4;
    }
    Ok(out)
}

/// `true` (always), `false` (never), `unexpected`.
pub fn auto_restart(value: &str) -> Result<AutoRestart, String> {
    let v = value.to_lowercase();
    if TRUTHY.contains(&v.as_str()) {
        Ok(AutoRestart::Always)
    } else if FALSY.contains(&v.as_str()) {
        Ok(AutoRestart::Never)
    } else if v == "unexpected" {
        Ok(AutoRestart::Unexpected)
    } else {
        Err(format!("invalid 'autorestart' value {}", py_repr(&v)))
    }
}

/// `critical error warn info debug trace blather`, any case.
pub fn logging_level(value: &str) -> Result<LogLevel, String> {
    Ok(match value.to_lowercase().as_str() {
        "critical" => LogLevel::Critical,
        "error" => LogLevel::Error,
        "warn" => LogLevel::Warn,
        "info" => LogLevel::Info,
        "debug" => LogLevel::Debug,
        "trace" => LogLevel::Trace,
        "blather" => LogLevel::Blather,
        _ => return Err(format!("bad logging level name {}", py_repr(value))),
    })
}

/// A child log file name: `NONE`/`OFF`, `AUTO`, `syslog` (deprecated), or a path whose
/// directory must exist. The path is kept as written (after `~` expansion), like the reference.
pub fn logfile_name(value: &str) -> Result<LogTarget, String> {
    Ok(match value.to_lowercase().as_str() {
        "none" | "off" => LogTarget::None,
        "auto" => LogTarget::Auto,
        "syslog" => LogTarget::Syslog,
        _ => LogTarget::Path(PathBuf::from(existing_dirpath(value)?)),
    })
}

/// Python's `os.path.dirname`.
pub fn dirname(p: &str) -> &str {
    match p.rfind('/') {
        None => "",
        Some(i) => {
            let head = &p[..=i];
            if head.chars().all(|c| c == '/') {
                head
            } else {
                head.trim_end_matches('/')
            }
        }
    }
}

/// A path whose directory part (if any) exists; returns it with `~` expanded.
pub fn existing_dirpath(value: &str) -> Result<String, String> {
    let nv = expanduser(value);
    let dir = dirname(&nv);
    if dir.is_empty() || Path::new(dir).is_dir() {
        Ok(nv)
    } else {
        Err(format!(
            "The directory named as part of the path {} does not exist",
            value
        ))
    }
}

/// An existing directory; returns it with `~` expanded.
pub fn existing_directory(value: &str) -> Result<String, String> {
    let nv = expanduser(value);
    if Path::new(&nv).is_dir() {
        Ok(nv)
    } else {
        Err(format!("{} is not an existing directory", value))
    }
}

/// Python's `os.path.expanduser`: `~` and `~user` at the start.
pub fn expanduser(path: &str) -> String {
    let Some(rest) = path.strip_prefix('~') else {
        return path.to_string();
    };
    let end = rest.find('/').unwrap_or(rest.len());
    let (user, tail) = rest.split_at(end);
    let home = if user.is_empty() {
        match std::env::var("HOME") {
            Ok(h) => Some(h),
            // SAFETY: getuid has no preconditions.
            Err(_) => passwd_by_uid(unsafe { libc::getuid() }).map(|p| p.home),
        }
    } else {
        passwd_by_name(user).map(|p| p.home)
    };
    match home {
        Some(h) => {
            let joined = format!("{}{}", h.trim_end_matches('/'), tail);
            if joined.is_empty() {
                "/".into()
            } else {
                joined
            }
        }
        None => path.to_string(),
    }
}

/// Python's `os.path.normpath` on a POSIX path (purely textual).
pub fn normpath(path: &str) -> String {
    if path.is_empty() {
        return ".".into();
    }
    let initial = if path.starts_with("//") && !path.starts_with("///") {
        "//"
    } else if path.starts_with('/') {
        "/"
    } else {
        ""
    };
    let mut parts: Vec<&str> = Vec::new();
    for comp in path.split('/') {
        match comp {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|p| *p != "..") {
                    parts.pop();
                } else if initial.is_empty() {
                    parts.push("..");
                }
            }
            c => parts.push(c),
        }
    }
    let joined = format!("{}{}", initial, parts.join("/"));
    if joined.is_empty() {
        ".".into()
    } else {
        joined
    }
}

/// `normpath(abspath(expanduser(value)))`, relative to `cwd`.
pub fn normalize_path(value: &str, cwd: &Path) -> PathBuf {
    let e = expanduser(value);
    let abs = if e.starts_with('/') {
        e
    } else {
        format!("{}/{}", cwd.to_string_lossy(), e)
    };
    PathBuf::from(normpath(&abs))
}

/// `host:port`, `*:port`, `:port` or `port` → (host lowercased, "" for all interfaces; port).
pub fn inet_address(value: &str) -> Result<(String, u16), String> {
    let (host, port) = match value.rsplit_once(':') {
        Some((host, port)) => {
            if port.is_empty() {
                return Err(format!("no port number specified in {}", py_repr(port)));
            }
            (host.to_lowercase(), port_number(port)?)
        }
        None => {
            let port = port_number(value)
                .map_err(|_| format!("not a valid port number: {} ", py_repr(value)))?;
            (String::new(), port)
        }
    };
    let host = if host == "*" { String::new() } else { host };
    Ok((host, port))
}

fn port_number(value: &str) -> Result<u16, String> {
    let v = integer(value)?;
    if v < 1 {
        Err(format!("{} is below lower bound (1)", v))
    } else if v > 0xffff {
        Err(format!("{} is above upper bound (65535)", v))
    } else {
        Ok(v as u16)
    }
}

/// A process or group name: stripped, and without ` `, `:` or `/`.
pub fn process_or_group_name(value: &str) -> Result<String, String> {
    let s = value.trim();
    for c in [' ', ':', '/'] {
        if s.contains(c) {
            return Err(format!(
                "Invalid name: {} because of character: {}",
                py_repr(value),
                py_repr(&c.to_string())
            ));
        }
    }
    Ok(s.to_string())
}

/// A user name or numeric uid that exists on this system.
pub fn name_to_uid(value: &str) -> Result<u32, String> {
    match integer(value) {
        Ok(n) => match u32::try_from(n).ok().and_then(passwd_by_uid) {
            Some(p) => Ok(p.uid),
            None => Err(format!("Invalid user id {}", value)),
        },
        Err(_) => passwd_by_name(value)
            .map(|p| p.uid)
            .ok_or_else(|| format!("Invalid user name {}", value)),
    }
}

/// A group name or numeric gid that exists on this system.
pub fn name_to_gid(value: &str) -> Result<u32, String> {
    match integer(value) {
        Ok(n) => match u32::try_from(n).ok().filter(|g| group_exists(*g)) {
            Some(g) => Ok(g),
            None => Err(format!("Invalid group id {}", value)),
        },
        Err(_) => group_by_name(value).ok_or_else(|| format!("Invalid group name {}", value)),
    }
}

/// The primary group of a uid.
pub fn gid_for_uid(uid: u32) -> Option<u32> {
    passwd_by_uid(uid).map(|p| p.gid)
}

/// `user` or `user:group` → (uid, gid); a missing group is `u32::MAX` ((gid_t)-1, "leave as is").
pub fn colon_separated_user_group(value: &str) -> Result<(u32, u32), String> {
    let bad = || format!("Invalid user:group definition {}", value);
    match value.split_once(':') {
        None => Ok((name_to_uid(value).map_err(|_| bad())?, u32::MAX)),
        Some((u, g)) => Ok((
            name_to_uid(u).map_err(|_| bad())?,
            name_to_gid(g).map_err(|_| bad())?,
        )),
    }
}

/// This machine's node name (Python's `platform.node()`).
pub fn host_node_name() -> String {
    // SAFETY: utsname is plain data; uname fills it and nodename is NUL-terminated.
    unsafe {
        let mut u: libc::utsname = std::mem::zeroed();
        if libc::uname(&mut u) != 0 {
            return String::new();
        }
        CStr::from_ptr(u.nodename.as_ptr())
            .to_string_lossy()
            .into_owned()
    }
}

/// Look up a user by name (`crate::util::users`: the account files, then NSS if linked).
pub fn passwd_by_name(name: &str) -> Option<User> {
    users::user_by_name(name)
}

/// Look up a user by uid.
pub fn passwd_by_uid(uid: u32) -> Option<User> {
    users::user_by_uid(uid)
}

fn group_by_name(name: &str) -> Option<u32> {
    users::group_by_name(name)
}

fn group_exists(gid: u32) -> bool {
    users::group_exists(gid)
}

#[cfg(test)]
mod tests;
