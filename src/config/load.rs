//! From sections to the typed [`Config`]: reading the main file and its `[include]`s, the
//! reference's defaults for every key, `%(..)s` expansion with exactly the names the
//! reference offers at each place, validation, groups and their order, and the non-fatal
//! findings (`Config.warnings`).
//!
//! Expansion names, as in supervisor 4.2.5's `options.py`:
//! - every value: `ENV_*` (the daemon's environment, plus `[supervisord] environment=` for
//!   sections read after it) and `here` (the directory of the file the value was written in);
//! - `[include] files=` and `[supervisord] environment=`: also `host_node_name`;
//! - program, event listener and fcgi-program keys: also `program_name`, `group_name`,
//!   `host_node_name`; `environment`, `directory`, the log keys, `command` and
//!   `process_name` (evaluated once per process) also `process_num`, `numprocs` and the
//!   program's own `environment=` as `ENV_*`;
//! - fcgi `socket=`: `program_name` only (plus `here`, `ENV_*`).
//!
//! `here` is the main file's directory. When the configuration has an `[include]` section,
//! the reference first replaces the text `%(here)s` in every value with the directory of the
//! file that value was written in (so an included file's `%(here)s` is its own directory,
//! and error messages show the replaced text); so do we.
//!
//! Errors carry the reference's text. The reference ends the errors of a program's own keys
//! with ` in section 'program:x' (file: '...')`; for the others it gives the message alone,
//! and we add the section, the file and the key after it (see [`ConfigError`]).

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::ConfigError;
use super::deps;
use super::expand::{Budget, Expansions, Names, Value, expand};
use super::ini::{Document, Entry};
use super::model::*;
use super::values::*;

mod fcgi;
mod groups;
mod includes;
mod listeners;
mod programs;
mod servers;
mod supervisord;

use fcgi::FCGI_KEYS;
use listeners::LISTENER_KEYS;
use programs::PROGRAM_KEYS;
use servers::{CTL_KEYS, INET_KEYS, UNIX_KEYS};
use supervisord::{RPC_FACTORY_KEY, SUPERVISORD_KEYS};

/// What loading depends on besides the file: injected so tests are deterministic.
#[derive(Clone, Debug)]
pub struct Context {
    /// The daemon's environment (becomes `%(ENV_X)s`).
    pub environ: Vec<(String, String)>,
    pub host_node_name: String,
    /// Relative `-c`, `logfile`, `pidfile`, socket paths are resolved against this.
    pub cwd: PathBuf,
    /// Default `childlogdir`.
    pub tempdir: PathBuf,
}

impl Context {
    /// The running process's environment, node name, cwd and temp dir.
    pub fn from_process() -> Self {
        Context {
            environ: std::env::vars_os()
                .map(|(k, v)| {
                    (
                        k.to_string_lossy().into_owned(),
                        v.to_string_lossy().into_owned(),
                    )
                })
                .collect(),
            host_node_name: host_node_name(),
            cwd: std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/")),
            tempdir: std::env::temp_dir(),
        }
    }
}

struct Loader<'a> {
    ctx: &'a Context,
    doc: Document,
    /// The main file, absolute and normalised.
    main_file: PathBuf,
    /// The main file as given (`-c`), as the reference's messages name it.
    main_shown: String,
    /// `here`: the main file's directory.
    here: Expansions,
    /// `[include]` present: `%(here)s` is replaced as text first (see the module doc).
    here_textual: bool,
    /// `ENV_*` names: the daemon's environment, later extended by `[supervisord] environment=`.
    env: Expansions,
    /// What expansion may still produce (see `expand::MAX_TOTAL`).
    budget: Budget,
    warnings: Vec<String>,
    included: Vec<PathBuf>,
}

/// Read, expand and validate the configuration at `path` against `ctx`.
pub fn load_with(path: &Path, ctx: &Context) -> Result<Config, ConfigError> {
    let given = path.to_string_lossy().into_owned();
    let main_file = PathBuf::from(normpath(&if given.starts_with('/') {
        given.clone()
    } else {
        format!("{}/{}", ctx.cwd.to_string_lossy(), given)
    }));
    let fail = |message: String| ConfigError::new(Path::new(&given), None, None, message);
    if !main_file.exists() {
        return Err(fail(format!("could not find config file {}", given)));
    }
    let text = std::fs::read(&main_file)
        .map_err(|e| fail(format!("could not read config file {}: {}", given, e)))?;
    let text = String::from_utf8(text).map_err(|_| {
        fail(format!(
            "could not read config file {}: not valid UTF-8",
            given
        ))
    })?;
    load_text(&text, &main_file, &given, ctx, true)
}

/// `load_with` on the main file's text, already read (`given` is its name as given with
/// `-c`); with `includes` false, the files an `[include]` names are neither looked for nor
/// read (the fuzz target: no file system).
pub(crate) fn load_text(
    text: &str,
    main_file: &Path,
    given: &str,
    ctx: &Context,
    includes: bool,
) -> Result<Config, ConfigError> {
    let main_file = main_file.to_path_buf();
    let given = given.to_string();
    let mut env = Expansions::new();
    for (k, v) in &ctx.environ {
        env.insert(format!("ENV_{}", k), Value::Str(v.clone()));
    }
    let mut here = Expansions::new();
    here.insert("here".into(), Value::Str(here_of(&main_file)));
    let mut loader = Loader {
        ctx,
        doc: Document::new(),
        main_file: main_file.clone(),
        main_shown: given.clone(),
        here,
        here_textual: false,
        env,
        budget: Budget::new(),
        warnings: Vec::new(),
        included: Vec::new(),
    };
    loader
        .doc
        .read_str(text, &main_file, &given)
        .map_err(|e| ConfigError::new(Path::new(&given), None, None, e.message))?;
    loader.here_textual = loader.doc.has_section("include");
    if includes {
        loader.read_includes()?;
    }
    loader.build()
}

/// The directory of a file, absolute and normalised (Python's `abspath(dirname(f))`).
fn here_of(file: &Path) -> String {
    normpath(dirname(&file.to_string_lossy()))
}

impl Loader<'_> {
    /// The file a section came from (the main file for defaults or unknown sections).
    fn file_of(&self, section: &str) -> PathBuf {
        self.doc
            .section(section)
            .map(|s| s.file.clone())
            .unwrap_or_else(|| self.main_file.clone())
    }

    /// A file as the reference's messages name it: the main file as given.
    fn shown(&self, file: &Path) -> PathBuf {
        if file == self.main_file {
            PathBuf::from(&self.main_shown)
        } else {
            file.to_path_buf()
        }
    }

    fn err(&self, section: &str, key: Option<&str>, message: String) -> ConfigError {
        ConfigError::new(
            &self.shown(&self.file_of(section)),
            Some(section),
            key,
            message,
        )
    }

    fn bad_value(&self, section: &str, key: &str, reason: String) -> ConfigError {
        // The reference's reason alone; Display adds the section, the file and the key.
        self.err(section, Some(key), reason)
    }

    fn raw(&self, section: &str, key: &str) -> Option<&Entry> {
        self.doc.get(section, key)
    }

    /// The names of a value: `extra` first, then `here`, then `ENV_*`.
    fn names<'s>(&'s self, extra: &'s Expansions) -> Names<'s> {
        Names(vec![extra, &self.here, &self.env])
    }

    /// `expand` with this configuration's names and budget; errors name `section.key`.
    fn expand(
        &self,
        text: &str,
        extra: &Expansions,
        name: &str,
        section: &str,
        key: &str,
    ) -> Result<String, ConfigError> {
        expand(text, &self.names(extra), name, &self.budget)
            .map_err(|m| self.err(section, Some(key), m))
    }

    /// The text of `section.key` before expansion, `%(here)s` replaced when the reference
    /// does it (see the module doc); `None` when not written.
    fn raw_text(&self, section: &str, key: &str) -> Option<String> {
        let (entry, from_default) = self.doc.lookup(section, key)?;
        if !self.here_textual || !entry.value.contains("%(here)s") {
            return Some(entry.value.clone());
        }
        // a [DEFAULT] value is copied into each section, with the directory of the section's
        // file
        let file = if from_default {
            self.file_of(section)
        } else {
            entry.file.clone()
        };
        Some(entry.value.replace("%(here)s", &here_of(&file)))
    }

    /// The expanded value of `section.key`, if written.
    fn get(
        &self,
        section: &str,
        key: &str,
        extra: &Expansions,
    ) -> Result<Option<String>, ConfigError> {
        let Some(text) = self.raw_text(section, key) else {
            return Ok(None);
        };
        self.expand(&text, extra, &format!("{}.{}", section, key), section, key)
            .map(Some)
    }

    /// `get`, falling back to `default`, then parsed by `parse`.
    fn parse<T>(
        &self,
        section: &str,
        key: &str,
        extra: &Expansions,
        default: &str,
        parse: impl Fn(&str) -> Result<T, String>,
    ) -> Result<T, ConfigError> {
        let v = self
            .get(section, key, extra)?
            .unwrap_or_else(|| default.to_string());
        parse(&v).map_err(|m| self.bad_value(section, key, m))
    }

    fn parse_opt<T>(
        &self,
        section: &str,
        key: &str,
        extra: &Expansions,
        parse: impl Fn(&str) -> Result<T, String>,
    ) -> Result<Option<T>, ConfigError> {
        match self.get(section, key, extra)? {
            Some(v) => parse(&v)
                .map(Some)
                .map_err(|m| self.bad_value(section, key, m)),
            None => Ok(None),
        }
    }

    fn build(mut self) -> Result<Config, ConfigError> {
        if !self.doc.has_section("supervisord") {
            return Err(ConfigError::new(
                &self.main_file,
                None,
                None,
                ".ini file does not include supervisord section".into(),
            ));
        }
        let supervisord = self.supervisord()?;
        self.rpcinterfaces()?;
        let groups = self.groups()?;
        let unix_http_server = self.unix_http_server()?;
        let inet_http_server = self.inet_http_server()?;
        let supervisorctl = self.supervisorctl();
        self.unknown_keys();
        Ok(Config {
            config_file: self.main_file.clone(),
            supervisord,
            unix_http_server,
            inet_http_server,
            supervisorctl,
            groups,
            warnings: self.warnings,
            included_files: self.included,
        })
    }

    fn section_names(&self, prefix: &str) -> Vec<String> {
        self.doc
            .sections
            .iter()
            .filter(|s| s.name.starts_with(prefix))
            .map(|s| s.name.clone())
            .collect()
    }

    /// Warnings for keys and sections supervisord does not know (the reference ignores them
    /// silently).
    fn unknown_keys(&mut self) {
        let mut found = Vec::new();
        for section in &self.doc.sections {
            let name = section.name.as_str();
            let known: Vec<&str> = if name == "supervisord" {
                SUPERVISORD_KEYS.to_vec()
            } else if name == "unix_http_server" {
                UNIX_KEYS.to_vec()
            } else if name == "inet_http_server" {
                INET_KEYS.to_vec()
            } else if name == "supervisorctl" {
                CTL_KEYS.to_vec()
            } else if name == "include" {
                vec!["files"]
            } else if name.starts_with("group:") {
                vec!["programs", "priority"]
            } else if name.starts_with("program:") {
                [PROGRAM_KEYS, deps::KEYS].concat()
            } else if name.starts_with("eventlistener:") {
                [PROGRAM_KEYS, LISTENER_KEYS].concat()
            } else if name.starts_with("fcgi-program:") {
                [PROGRAM_KEYS, FCGI_KEYS, deps::KEYS].concat()
            } else if name.starts_with("rpcinterface:") {
                vec![RPC_FACTORY_KEY]
            } else if name.starts_with("ctlplugin:")
                || name.starts_with("inet_http_server")
                || name.starts_with("unix_http_server")
            {
                continue;
            } else {
                found.push(format!(
                    "Ignoring unknown section [{}] (file: {})",
                    name,
                    section.file.display()
                ));
                continue;
            };
            for e in &section.entries {
                if !known.contains(&e.key.as_str()) {
                    found.push(format!(
                        "Ignoring unknown key '{}' in section '{}' (file: {})",
                        e.key,
                        name,
                        e.file.display()
                    ));
                }
            }
        }
        self.warnings.extend(found);
    }
}

fn priority(v: &str) -> Result<i32, String> {
    let n = integer(v)?;
    i32::try_from(n).map_err(|_| format!("priority {} is out of range", n))
}
