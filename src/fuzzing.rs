//! Entry points for the fuzz targets in `fuzz/` (`cargo fuzz`, see the README's "Fuzzing"):
//! each takes the raw bytes a client or a config file could hand the daemon and runs the
//! parser that owns them, exactly as the daemon does, with nothing started or written (the
//! config loader still looks up `user=` accounts and checks that log directories exist, as
//! it must; it reads no config file and no `[include]`). A panic is a finding; so is an input that takes too long or too much memory
//! (libFuzzer's `-timeout` and `-rss_limit_mb`). They return nothing: the targets only look
//! for crashes, hangs and blow-ups, plus the few invariants asserted here.
//!
//! The modules stay private; this is the one door the targets use.

use std::path::{Path, PathBuf};

use crate::config::{self, Context};
use crate::http::auth::{Credentials, Outcome};
use crate::rpc::{Value, xml};
use crate::supervisor::spawn::split_command;

/// An XML-RPC request body, as `POST /RPC2` reads it (`rpc::xml::parse_call`). What it
/// parses to is written back as a call and read again: the second reading must write the
/// same bytes (the reply writer and the reader agree on every value the reader produces).
pub fn xmlrpc_call(body: &[u8]) {
    let Ok((method, params)) = xml::parse_call(body) else {
        return;
    };
    let first = call_body(&method, &params);
    // Control characters are written raw, as the reference does, and are not XML: such a
    // body does not read back, which is not what this checks. A raw CR reads back as LF (XML
    // line-end handling, in the reference's client too), so line ends are compared as LF.
    if let Ok((method2, params2)) = xml::parse_call(&first) {
        let first = lf_line_ends(&first);
        let second = call_body(&method2, &params2);
        assert!(
            first == second,
            "a value does not survive writing and reading:\n{}\n{}",
            String::from_utf8_lossy(&first),
            String::from_utf8_lossy(&second)
        );
    }
}

/// `\r\n` and `\r` as `\n`.
fn lf_line_ends(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len());
    let mut i = 0;
    while i < body.len() {
        match body[i] {
            b'\r' => {
                out.push(b'\n');
                if body.get(i + 1) == Some(&b'\n') {
                    i += 1;
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    out
}

/// A `methodCall` body for `method(params)`, each value as the reply writer writes it.
fn call_body(method: &str, params: &[Value]) -> Vec<u8> {
    let mut out = b"<?xml version='1.0'?>\n<methodCall>\n<methodName>".to_vec();
    for c in method.chars() {
        match c {
            '&' => out.extend_from_slice(b"&amp;"),
            '<' => out.extend_from_slice(b"&lt;"),
            '>' => out.extend_from_slice(b"&gt;"),
            c => out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes()),
        }
    }
    out.extend_from_slice(b"</methodName>\n<params>\n");
    for p in params {
        out.extend_from_slice(b"<param>\n");
        xml::write_value(&mut out, p);
        out.extend_from_slice(b"</param>\n");
    }
    out.extend_from_slice(b"</params>\n</methodCall>\n");
    out
}

/// A `supervisord.conf`, as `-c` (or `reloadConfig`) reads it: the INI dialect, `%(..)s`
/// expansions, every value's type, `environment=` pairs, then each process's `command=` split
/// as spawning splits it. The environment, node name and directories are fixed; the files an
/// `[include]` names are not read.
pub fn config(text: &[u8]) {
    let Ok(text) = std::str::from_utf8(text) else {
        return; // refused before parsing, as `load_with` does
    };
    let ctx = Context {
        environ: vec![
            ("HOME".into(), "/root".into()),
            ("PATH".into(), "/usr/local/bin:/usr/bin:/bin".into()),
            ("USER".into(), "root".into()),
        ],
        host_node_name: "fuzz".into(),
        cwd: PathBuf::from("/"),
        tempdir: PathBuf::from("/tmp"),
    };
    let main_file = Path::new("/etc/supervisor/supervisord.conf");
    match config::load::load_text(text, main_file, &main_file.to_string_lossy(), &ctx, false) {
        Ok(cfg) => {
            for group in &cfg.groups {
                for process in &group.processes {
                    let words = split_command(&process.command);
                    // Without quotes or backslashes, `shlex.split` is a split on blanks.
                    if !process.command.contains(['"', '\'', '\\']) {
                        let blank = |c: char| matches!(c, ' ' | '\t' | '\r' | '\n');
                        let plain: Vec<&str> = process
                            .command
                            .split(blank)
                            .filter(|w| !w.is_empty())
                            .collect();
                        assert_eq!(words, Ok(plain.iter().map(|w| w.to_string()).collect()));
                    }
                }
            }
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
}

/// One `key=value` line of a program section: the value `%(..)s`-expanded with the names a
/// process gets (`process_num` and `numprocs` are integers), then read by the parser of its
/// key (`command=` split, `environment=` pairs, sizes, signals, exit codes, modes, names...).
/// The `config` target reaches the same code through whole files; this one runs many times
/// faster on the part most likely to break.
pub fn config_value(line: &[u8]) {
    use crate::config::expand::{Budget, Expansions, Names, Value, expand};
    use crate::config::values::*;
    let Some((key, value)) = std::str::from_utf8(line)
        .ok()
        .and_then(|l| l.split_once('='))
    else {
        return;
    };
    let mut names = Expansions::new();
    for (k, v) in [
        ("ENV_HOME", "/root"),
        ("here", "/etc/supervisor"),
        ("program_name", "web"),
        ("group_name", "web"),
        ("host_node_name", "fuzz"),
    ] {
        names.insert(k.into(), Value::Str(v.into()));
    }
    names.insert("process_num".into(), Value::Int(3));
    names.insert("numprocs".into(), Value::Int(8));
    let key = key.trim().to_lowercase();
    let budget = Budget::new();
    let Ok(v) = expand(
        value.trim(),
        &Names(vec![&names]),
        &format!("program:web.{key}"),
        &budget,
    ) else {
        return;
    };
    let _ = match key.as_str() {
        "environment" => dict_of_key_value_pairs(&v).map(drop),
        "stopsignal" => signal_number(&v).map(drop),
        "exitcodes" => list_of_exitcodes(&v).map(drop),
        "umask" => octal(&v).map(drop),
        "autorestart" => auto_restart(&v).map(drop),
        "loglevel" => logging_level(&v).map(drop),
        "port" => inet_address(&v).map(drop),
        "process_name" => process_or_group_name(&v).map(drop),
        "startretries" => start_retries(&v).map(drop),
        "numprocs" | "priority" | "startsecs" => integer(&v).map(drop),
        "directory" => {
            drop(normpath(&v));
            Ok(())
        }
        k if k.ends_with("maxbytes") || k == "memory_limit" => byte_size(&v).map(drop),
        k if k.ends_with("syslog") || k.starts_with("auto") || k.ends_with("enabled") => {
            boolean(&v).map(drop)
        }
        _ => split_command(&v).map(drop).map_err(str::to_string),
    };
}

/// An `Authorization` header's value, as the HTTP servers check it against a server
/// section's credentials (a plain password, then a `{SHA}` one). Whatever the header, the
/// answer is to let the request in or to ask for credentials (401).
pub fn authorization(header: &[u8]) {
    let plain = Credentials {
        username: "user".into(),
        password: "123".into(),
    };
    let sha = Credentials {
        username: "user".into(),
        // SHA-1 of "123"
        password: "{SHA}40bd001563085fc35165329ea1ff5c5ecbdbbeef".into(),
    };
    for creds in [&plain, &sha] {
        let outcome = creds.check(Some(header));
        assert!(
            matches!(outcome, Outcome::Allowed | Outcome::Unauthorized),
            "Authorization {:?} answered {:?}, not 401",
            String::from_utf8_lossy(header),
            outcome
        );
    }
}

/// A web page request's form: the query string up to the first newline, then the urlencoded
/// POST body, read as the status and tail pages read them.
pub fn web_form(data: &[u8]) {
    let (query, body) = match data.iter().position(|&c| c == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[][..]),
    };
    let _ = crate::http::form::Form::parse(
        &String::from_utf8_lossy(query),
        &String::from_utf8_lossy(body),
    );
}
