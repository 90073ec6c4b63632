//! The `[supervisorctl]` section of a config file, read with the daemon's own INI reader
//! (`crate::config::ini`) and `%(...)s` expansion (`crate::config::expand`), as the stock
//! client's `ClientOptions.read_config` reads it:
//!
//! - `serverurl` (default `http://localhost:9001`) and `history_file` may use `%(here)s`
//!   (the config file's directory) and `%(ENV_X)s`; `prompt`, `username` and `password` only
//!   `%(ENV_X)s`; a `unix://` path and `history_file` are made absolute;
//! - a file without `[supervisorctl]` is an error, as is a `[ctlplugin:x]` without its
//!   `supervisor.ctl_factory`;
//! - without `-c`, the first existing file of the daemon's search list
//!   (`crate::config::search_paths`) is read.
//!
//! Errors are the stock client's: most are usage errors (`Error: ...`, status 2); a file
//! Python's `configparser` cannot parse ends the stock client with a traceback whose last
//! line we print (status 1).

use std::path::{Path, PathBuf};

use super::options::Plugin;
use crate::config::expand::{self, Expansions};
use crate::config::ini::Document;
use crate::config::values::{dirname, normalize_path};

/// What the section sets (`None`: not set).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Section {
    pub serverurl: Option<String>,
    pub prompt: Option<String>,
    pub username: Option<String>,
    pub password: Option<String>,
    pub history_file: Option<PathBuf>,
    pub plugins: Vec<Plugin>,
}

/// Why a config file was not accepted.
#[derive(Clone, Debug, PartialEq)]
pub enum Error {
    /// A `usage()` message.
    Usage(String),
    /// The last line of the stock client's traceback.
    Crash(String),
}

/// The first config file of the search list that exists, if any.
pub fn search(progname: &str) -> Option<String> {
    crate::config::search_paths(progname)
        .into_iter()
        .find(|p| Path::new(p).exists())
}

/// Read the `[supervisorctl]` section (and `[ctlplugin:x]` sections) of `path`.
pub fn read(path: &str) -> Result<Section, Error> {
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"));
    let here = dirname(&normalize_path(path, &cwd).to_string_lossy()).to_string();
    if !Path::new(path).exists() {
        return Err(Error::Usage(format!("could not find config file {}", path)));
    }
    let bytes = std::fs::read(path)
        .map_err(|_| Error::Usage(format!("could not read config file {}", path)))?;
    let text = String::from_utf8(bytes).map_err(|e| {
        Error::Crash(format!(
            "UnicodeDecodeError: 'utf-8' codec can't decode byte 0x{:02x} in position {}: \
             invalid start byte",
            e.as_bytes()[e.utf8_error().valid_up_to()],
            e.utf8_error().valid_up_to()
        ))
    })?;
    let env: Expansions = std::env::vars_os()
        .map(|(k, v)| {
            (
                format!("ENV_{}", k.to_string_lossy()),
                expand::Value::Str(v.to_string_lossy().into_owned()),
            )
        })
        .collect();
    parse(&text, Path::new(path), &here, &env, &cwd)
}

/// The section from a file's text; `here` is its directory, `env` the `ENV_X` names.
pub fn parse(
    text: &str,
    file: &Path,
    here: &str,
    env: &Expansions,
    cwd: &Path,
) -> Result<Section, Error> {
    let mut doc = Document::new();
    doc.read_str(text, file, &file.to_string_lossy())
        .map_err(|e| Error::Crash(python_parse_error(&e.message, file)))?;
    if !doc.has_section("supervisorctl") {
        return Err(Error::Usage(
            ".ini file does not include supervisorctl section".into(),
        ));
    }
    let mut with_here = env.clone();
    with_here.insert("here".into(), expand::Value::Str(here.to_string()));
    let budget = expand::Budget::new();
    let get = |section: &str, key: &str, vars: &Expansions| -> Result<Option<String>, Error> {
        match doc.get(section, key) {
            None => Ok(None),
            Some(e) => expand::expand(
                &e.value,
                &expand::Names(vec![vars]),
                &format!("{}.{}", section, key),
                &budget,
            )
            .map(Some)
            .map_err(Error::Usage),
        }
    };

    let mut s = Section {
        serverurl: Some(
            get("supervisorctl", "serverurl", &with_here)?
                .unwrap_or_else(|| "http://localhost:9001".into()),
        ),
        ..Section::default()
    };
    if let Some(url) = &s.serverurl
        && let Some(path) = url.strip_prefix("unix://")
    {
        s.serverurl = Some(format!("unix://{}", normalize_path(path, cwd).display()));
    }
    s.prompt = get("supervisorctl", "prompt", env)?;
    s.username = get("supervisorctl", "username", env)?;
    s.password = get("supervisorctl", "password", env)?;
    s.history_file = get("supervisorctl", "history_file", &with_here)?
        .filter(|h| !h.is_empty())
        .map(|h| normalize_path(&h, cwd));

    for section in &doc.sections {
        let Some(name) = section.name.strip_prefix("ctlplugin:") else {
            continue;
        };
        let factory = get(&section.name, "supervisor.ctl_factory", env)?.ok_or_else(|| {
            Error::Usage(format!(
                "section [{}] does not specify a supervisor.ctl_factory",
                section.name
            ))
        })?;
        for entry in &section.entries {
            get(&section.name, &entry.key, env)?;
        }
        s.plugins.push(Plugin {
            name: name.to_string(),
            factory,
        });
    }
    Ok(s)
}

/// The last line of the traceback Python's `configparser` ends the stock client with.
fn python_parse_error(message: &str, file: &Path) -> String {
    if message.starts_with("File contains no section headers.") {
        return format!("configparser.MissingSectionHeaderError: {}", message);
    }
    // the INI reader already words it as configparser does
    if message.starts_with("Source contains parsing errors: ") {
        return format!("configparser.ParsingError: {}", message);
    }
    let lines = message
        .strip_prefix("File contains parsing errors: ")
        .unwrap_or(message)
        .replace(", [line", "\n\t[line");
    format!(
        "configparser.ParsingError: Source contains parsing errors: {}\n\t{}",
        crate::config::values::py_repr(&file.to_string_lossy()),
        lines
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env() -> Expansions {
        Expansions::from([("ENV_USER".into(), expand::Value::Str("bob".into()))])
    }

    fn p(text: &str) -> Result<Section, Error> {
        parse(
            text,
            Path::new("c.conf"),
            "/etc/app",
            &env(),
            Path::new("/w"),
        )
    }

    #[test]
    fn section_values_and_expansions() {
        let s = p(
            "[supervisorctl]\nserverurl=unix://%(here)s/../s.sock\nprompt=%(ENV_USER)s\n\
                   username=u\npassword=p ; comment\nhistory_file=~x/../h\n",
        )
        .unwrap();
        assert_eq!(s.serverurl.as_deref(), Some("unix:///etc/s.sock"));
        assert_eq!(s.prompt.as_deref(), Some("bob"));
        assert_eq!(s.password.as_deref(), Some("p"));
        assert_eq!(s.history_file, Some(PathBuf::from("/w/h")));
        let d = p("[supervisorctl]\n").unwrap();
        assert_eq!(d.serverurl.as_deref(), Some("http://localhost:9001"));
        assert_eq!(d.username, None);
    }

    #[test]
    fn errors_as_the_stock_client() {
        assert_eq!(
            p("[supervisord]\n").unwrap_err(),
            Error::Usage(".ini file does not include supervisorctl section".into())
        );
        let Error::Usage(m) = p("[supervisorctl]\nusername=%(here)s\n").unwrap_err() else {
            panic!()
        };
        assert!(m.starts_with(
            "Format string '%(here)s' for 'supervisorctl.username' contains names ('here') \
             which cannot be expanded. Available names: ENV_USER"
        ));
        assert_eq!(
            p("[ctlplugin:x]\n[supervisorctl]\n").unwrap_err(),
            Error::Usage("section [ctlplugin:x] does not specify a supervisor.ctl_factory".into())
        );
        let s = p("[ctlplugin:x]\nsupervisor.ctl_factory = a.b:c\n[supervisorctl]\n").unwrap();
        assert_eq!(s.plugins[0].factory, "a.b:c");
        let Error::Crash(m) = p("foo\n").unwrap_err() else {
            panic!()
        };
        assert_eq!(
            m,
            "configparser.MissingSectionHeaderError: File contains no section headers.\n\
             file: 'c.conf', line: 1\n'foo\\n'"
        );
    }
}
