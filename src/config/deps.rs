//! Beyond the reference: the keys of `[program:x]` (and `[fcgi-program:x]`) that order start-up
//! and watch a program's readiness and health: `depends_on`, `dependency_timeout`,
//! `restart_dependents`, `ready_check` (`ready_timeout`, `ready_interval`) and `health_check`
//! (`health_interval`, `health_timeout`, `health_retries`).
//!
//! This module parses their values ([`parse_depends_on`], [`parse_check`]) and checks the whole
//! set once every group is read ([`validate`]: unknown names, cycles). The reference ignores
//! keys it does not know, so a config using them still starts under Python supervisord.

use std::collections::HashMap;
use std::fmt;

use super::model::GroupConfig;

/// What a dependant waits for (the word after the colon in `depends_on`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Condition {
    /// Spawned (STARTING, RUNNING, or exited since).
    Started,
    /// RUNNING (the default).
    Running,
    /// Its `ready_check` passed (RUNNING when it has none).
    Ready,
    /// Exited with one of its `exitcodes`.
    Completed,
}

impl Condition {
    pub fn name(self) -> &'static str {
        match self {
            Condition::Started => "started",
            Condition::Running => "running",
            Condition::Ready => "ready",
            Condition::Completed => "completed",
        }
    }

    fn parse(word: &str) -> Option<Condition> {
        match word {
            "started" => Some(Condition::Started),
            "running" => Some(Condition::Running),
            "ready" => Some(Condition::Ready),
            "completed" => Some(Condition::Completed),
            _ => None,
        }
    }
}

/// One entry of `depends_on`: a program (all its processes) or `group:process`, and a condition.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dependency {
    pub group: Option<String>,
    pub name: String,
    pub condition: Condition,
}

impl Dependency {
    /// The name as written, without its condition (`db`, `g:p`).
    pub fn target(&self) -> String {
        match &self.group {
            Some(g) => format!("{}:{}", g, self.name),
            None => self.name.clone(),
        }
    }
}

/// A compiled `log:` pattern (compared by its text).
#[derive(Clone, Debug)]
pub struct LogPattern(pub regex::Regex);

impl PartialEq for LogPattern {
    fn eq(&self, other: &Self) -> bool {
        self.0.as_str() == other.0.as_str()
    }
}

/// A readiness or health check.
#[derive(Clone, Debug, PartialEq)]
pub enum Check {
    /// `tcp://host:port`: a connection is accepted.
    Tcp { host: String, port: u16 },
    /// `http://host:port/path`: a GET answers 2xx or 3xx.
    Http {
        host: String,
        port: u16,
        path: String,
    },
    /// `exec:/path/to/cmd args`: the command exits 0 (split as `command=`).
    Exec(String),
    /// `log:REGEX`: a line of the program's output matches (readiness only).
    Log(LogPattern),
    /// `notify`: the program sends `READY=1` to `NOTIFY_SOCKET` (and `WATCHDOG=1` for health).
    Notify,
}

impl fmt::Display for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Check::Tcp { host, port } => write!(f, "tcp://{}:{}", host, port),
            Check::Http { host, port, path } => write!(f, "http://{}:{}{}", host, port, path),
            Check::Exec(cmd) => write!(f, "exec:{}", cmd),
            Check::Log(p) => write!(f, "log:{}", p.0.as_str()),
            Check::Notify => f.write_str("notify"),
        }
    }
}

/// The new keys of one program, with their defaults.
#[derive(Clone, Debug, PartialEq)]
pub struct DepsConfig {
    pub depends_on: Vec<Dependency>,
    /// Seconds a program may wait for its dependencies before it is FATAL (none: for ever).
    pub dependency_timeout: Option<u64>,
    /// `restart x` restarts the programs that need `x` running too.
    pub restart_dependents: bool,
    pub ready_check: Option<Check>,
    pub ready_timeout: u64,
    pub ready_interval: u64,
    pub health_check: Option<Check>,
    pub health_interval: u64,
    pub health_timeout: u64,
    pub health_retries: u32,
}

impl Default for DepsConfig {
    fn default() -> Self {
        DepsConfig {
            depends_on: Vec::new(),
            dependency_timeout: None,
            restart_dependents: false,
            ready_check: None,
            ready_timeout: 60,
            ready_interval: 1,
            health_check: None,
            health_interval: 10,
            health_timeout: 5,
            health_retries: 3,
        }
    }
}

/// The longest `log:` pattern once compiled (a config must not make the daemon build a huge
/// automaton).
const REGEX_SIZE_LIMIT: usize = 1 << 20;

/// `depends_on = db, migrate:completed, g:p:ready`: comma (or blank) separated names, each
/// optionally followed by `:condition`.
pub fn parse_depends_on(value: &str) -> Result<Vec<Dependency>, String> {
    let mut deps = Vec::new();
    for item in value.split(|c: char| c == ',' || c.is_whitespace()) {
        if item.is_empty() {
            continue;
        }
        let (target, condition) = match item.rsplit_once(':') {
            Some((t, word)) => match Condition::parse(word) {
                Some(c) => (t, c),
                None if t.contains(':') => {
                    return Err(format!(
                        "{:?}: unknown condition {:?} (started, running, ready or completed)",
                        item, word
                    ));
                }
                None => (item, Condition::Running),
            },
            None => (item, Condition::Running),
        };
        let (group, name) = match target.split_once(':') {
            Some((g, n)) => (Some(g.to_string()), n.to_string()),
            None => (None, target.to_string()),
        };
        if name.is_empty() || group.as_deref().is_some_and(str::is_empty) {
            return Err(format!("{:?} names no program", item));
        }
        let dep = Dependency {
            group,
            name,
            condition,
        };
        if !deps.contains(&dep) {
            deps.push(dep);
        }
    }
    Ok(deps)
}

/// A `ready_check` (`health = false`) or `health_check` value; empty means none.
pub fn parse_check(value: &str, health: bool) -> Result<Option<Check>, String> {
    let v = value.trim();
    if v.is_empty() {
        return Ok(None);
    }
    let forms = if health {
        "tcp://host:port, http://host:port/path, exec:command or notify"
    } else {
        "tcp://host:port, http://host:port/path, exec:command, log:REGEX or notify"
    };
    let check = if v == "notify" {
        Check::Notify
    } else if let Some(rest) = v.strip_prefix("tcp://") {
        let (host, port) = host_port(rest)?;
        Check::Tcp { host, port }
    } else if let Some(rest) = v.strip_prefix("http://") {
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        let (host, port) = if authority.contains(':') {
            host_port(authority)?
        } else {
            (authority.to_string(), 80)
        };
        if host.is_empty() {
            return Err(format!("{:?}: no host", v));
        }
        if path.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(format!("{:?}: a path with blanks", v));
        }
        Check::Http {
            host,
            port,
            path: path.to_string(),
        }
    } else if let Some(cmd) = v.strip_prefix("exec:") {
        if cmd.trim().is_empty() {
            return Err("exec: needs a command".into());
        }
        Check::Exec(cmd.trim().to_string())
    } else if let Some(pattern) = v.strip_prefix("log:").filter(|_| !health) {
        let re = regex::RegexBuilder::new(pattern)
            .size_limit(REGEX_SIZE_LIMIT)
            .build()
            .map_err(|e| format!("log: pattern {:?}: {}", pattern, first_line(&e.to_string())))?;
        Check::Log(LogPattern(re))
    } else {
        return Err(format!("{:?} is not a check (expected {})", v, forms));
    };
    Ok(Some(check))
}

fn first_line(s: &str) -> String {
    s.lines().last().unwrap_or(s).trim().to_string()
}

fn host_port(s: &str) -> Result<(String, u16), String> {
    let Some((host, port)) = s.rsplit_once(':') else {
        return Err(format!("{:?}: expected host:port", s));
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.is_empty() || host.chars().any(|c| c.is_whitespace() || c == '/') {
        return Err(format!("{:?}: bad host", s));
    }
    let port = port
        .parse::<u16>()
        .ok()
        .filter(|&p| p > 0)
        .ok_or_else(|| format!("{:?}: bad port", s))?;
    Ok((host.to_string(), port))
}

/// The keys of this module, as `load` lists the known keys of a program section.
pub const KEYS: &[&str] = &[
    "depends_on",
    "dependency_timeout",
    "restart_dependents",
    "ready_check",
    "ready_timeout",
    "ready_interval",
    "health_check",
    "health_interval",
    "health_timeout",
    "health_retries",
];

/// Read the keys of one program section: `get` gives a key's expanded value, `bad` makes the
/// error for a key's bad value.
pub fn read<E>(
    get: impl Fn(&str) -> Result<Option<String>, E>,
    bad: impl Fn(&str, String) -> E,
) -> Result<DepsConfig, E> {
    use super::values::{boolean, non_negative};
    let d = DepsConfig::default();
    let secs = |key: &str, default: u64| -> Result<u64, E> {
        match get(key)? {
            Some(v) => non_negative(&v).map_err(|m| bad(key, m)),
            None => Ok(default),
        }
    };
    let positive = |key: &str, default: u64| -> Result<u64, E> {
        let v = secs(key, default)?;
        if v == 0 {
            return Err(bad(key, format!("{} must be at least 1", key)));
        }
        Ok(v)
    };
    let depends_on = match get("depends_on")? {
        Some(v) => parse_depends_on(&v).map_err(|m| bad("depends_on", m))?,
        None => Vec::new(),
    };
    let dependency_timeout = match get("dependency_timeout")? {
        Some(v) if !v.trim().is_empty() => {
            Some(non_negative(&v).map_err(|m| bad("dependency_timeout", m))?)
        }
        _ => None,
    };
    let restart_dependents = match get("restart_dependents")? {
        Some(v) => boolean(&v).map_err(|m| bad("restart_dependents", m))?,
        None => false,
    };
    let check = |key: &str, health: bool| -> Result<Option<Check>, E> {
        match get(key)? {
            Some(v) => parse_check(&v, health).map_err(|m| bad(key, m)),
            None => Ok(None),
        }
    };
    let retries = secs("health_retries", d.health_retries as u64)?;
    Ok(DepsConfig {
        depends_on,
        dependency_timeout,
        restart_dependents,
        ready_check: check("ready_check", false)?,
        ready_timeout: positive("ready_timeout", d.ready_timeout)?,
        ready_interval: positive("ready_interval", d.ready_interval)?,
        health_check: check("health_check", true)?,
        health_interval: positive("health_interval", d.health_interval)?,
        health_timeout: positive("health_timeout", d.health_timeout)?,
        health_retries: retries.clamp(1, u32::MAX as u64) as u32,
    })
}

/// The processes a dependency names, as (group, process) indices into `groups`: `g:p` is that
/// process; a bare name is every process of the program of that name, or else of the group.
pub fn resolve(dep: &Dependency, groups: &[GroupConfig]) -> Vec<(usize, usize)> {
    let mut found = Vec::new();
    for (gi, g) in groups.iter().enumerate() {
        for (pi, p) in g.processes.iter().enumerate() {
            let hit = match &dep.group {
                Some(gname) => g.name == *gname && p.name == dep.name,
                None => p.program_name == dep.name,
            };
            if hit {
                found.push((gi, pi));
            }
        }
    }
    if found.is_empty()
        && dep.group.is_none()
        && let Some(gi) = groups.iter().position(|g| g.name == dep.name)
    {
        found.extend((0..groups[gi].processes.len()).map(|pi| (gi, pi)));
    }
    found
}

/// A `depends_on` that cannot be met: the program it is written in and why.
#[derive(Debug, PartialEq)]
pub struct Invalid {
    pub program_name: String,
    pub message: String,
}

/// Every `depends_on` names a known program or process, and none forms a cycle.
pub fn validate(groups: &[GroupConfig]) -> Result<(), Invalid> {
    // Node ids: a running index over (group, process).
    let mut base = Vec::with_capacity(groups.len());
    let mut total = 0;
    for g in groups {
        base.push(total);
        total += g.processes.len();
    }
    let mut edges: HashMap<usize, Vec<usize>> = HashMap::new();
    for (gi, g) in groups.iter().enumerate() {
        for (pi, p) in g.processes.iter().enumerate() {
            for dep in &p.deps.depends_on {
                let targets = resolve(dep, groups);
                if targets.is_empty() {
                    return Err(Invalid {
                        program_name: p.program_name.clone(),
                        message: format!(
                            "depends_on names unknown program or process {}",
                            dep.target()
                        ),
                    });
                }
                let from = base[gi] + pi;
                edges
                    .entry(from)
                    .or_default()
                    .extend(targets.iter().map(|&(tg, tp)| base[tg] + tp));
            }
        }
    }
    if edges.is_empty() {
        return Ok(());
    }
    let name_of = |id: usize| -> (String, String) {
        let gi = base.partition_point(|&b| b <= id) - 1;
        let p = &groups[gi].processes[id - base[gi]];
        (
            p.program_name.clone(),
            format!("{}:{}", groups[gi].name, p.name),
        )
    };
    // Iterative depth-first search: 0 unseen, 1 on the path, 2 done.
    let mut color = vec![0u8; total];
    let empty = Vec::new();
    for &start in edges.keys() {
        if color[start] != 0 {
            continue;
        }
        let mut path: Vec<(usize, usize)> = vec![(start, 0)];
        color[start] = 1;
        while let Some(&mut (node, ref mut next)) = path.last_mut() {
            let out = edges.get(&node).unwrap_or(&empty);
            if *next < out.len() {
                let to = out[*next];
                *next += 1;
                match color[to] {
                    0 => {
                        color[to] = 1;
                        path.push((to, 0));
                    }
                    1 => {
                        let at = path.iter().position(|&(n, _)| n == to).unwrap_or(0);
                        let mut names: Vec<String> =
                            path[at..].iter().map(|&(n, _)| name_of(n).1).collect();
                        names.push(name_of(to).1);
                        return Err(Invalid {
                            program_name: name_of(node).0,
                            message: format!("depends_on forms a cycle: {}", names.join(" -> ")),
                        });
                    }
                    _ => {}
                }
            } else {
                color[node] = 2;
                path.pop();
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::model::{GroupKind, ProcessConfig};
    use std::sync::Arc;

    fn group(name: &str, deps: &str) -> GroupConfig {
        let mut p = ProcessConfig::for_test(name, "/bin/true");
        p.deps.depends_on = parse_depends_on(deps).unwrap();
        GroupConfig {
            name: name.into(),
            priority: 999,
            kind: GroupKind::Program,
            processes: vec![Arc::new(p)],
        }
    }

    #[test]
    fn depends_on_names_and_conditions() {
        let d = parse_depends_on("db, migrate:completed cache:ready,g:p:started,g:p").unwrap();
        let got: Vec<(Option<&str>, &str, Condition)> = d
            .iter()
            .map(|d| (d.group.as_deref(), d.name.as_str(), d.condition))
            .collect();
        assert_eq!(
            got,
            vec![
                (None, "db", Condition::Running),
                (None, "migrate", Condition::Completed),
                (None, "cache", Condition::Ready),
                (Some("g"), "p", Condition::Started),
                (Some("g"), "p", Condition::Running),
            ]
        );
        assert!(parse_depends_on("g:p:soon").is_err());
        assert!(parse_depends_on(":ready").is_err());
        assert_eq!(parse_depends_on(" , ").unwrap(), vec![]);
    }

    #[test]
    fn check_forms() {
        assert_eq!(
            parse_check("tcp://127.0.0.1:5432", false).unwrap(),
            Some(Check::Tcp {
                host: "127.0.0.1".into(),
                port: 5432
            })
        );
        let http = parse_check("http://localhost:5001/health?x=1", true).unwrap();
        assert_eq!(
            http.map(|c| c.to_string()).as_deref(),
            Some("http://localhost:5001/health?x=1")
        );
        assert_eq!(
            parse_check("http://h", true)
                .unwrap()
                .map(|c| c.to_string())
                .as_deref(),
            Some("http://h:80/")
        );
        assert_eq!(
            parse_check("exec:/bin/check -q", false).unwrap(),
            Some(Check::Exec("/bin/check -q".into()))
        );
        assert_eq!(parse_check("notify", true).unwrap(), Some(Check::Notify));
        assert!(matches!(
            parse_check("log:^ready", false),
            Ok(Some(Check::Log(_)))
        ));
        assert!(parse_check("log:^ready", true).is_err());
        assert!(parse_check("log:(", false).is_err());
        assert!(parse_check("tcp://h:0", false).is_err());
        assert!(parse_check("tcp://h", false).is_err());
        assert!(parse_check("https://h/", false).is_err());
        assert!(parse_check("exec: ", false).is_err());
        assert_eq!(parse_check("  ", false).unwrap(), None);
    }

    #[test]
    fn validate_finds_unknown_names_and_cycles() {
        assert!(validate(&[group("a", "b:ready"), group("b", "")]).is_ok());
        let e = validate(&[group("a", "nope")]).unwrap_err();
        assert_eq!(e.program_name, "a");
        assert_eq!(
            e.message,
            "depends_on names unknown program or process nope"
        );
        let e = validate(&[group("a", "b"), group("b", "c"), group("c", "a")]).unwrap_err();
        assert!(
            e.message.starts_with("depends_on forms a cycle: "),
            "{}",
            e.message
        );
        assert!(
            e.message.contains("a:a") && e.message.contains("c:c"),
            "{}",
            e.message
        );
        assert!(validate(&[group("a", "a")]).is_err());
    }
}
