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

/// More processes than this per section is refused (the reference has no limit, but would
/// exhaust memory long before).
const MAX_NUMPROCS: i64 = 100_000;
const STANDARD_RPC_FACTORY: &str = "supervisor.rpcinterface:make_main_rpcinterface";
const RPC_FACTORY_KEY: &str = "supervisor.rpcinterface_factory";
const DEFAULT_RESULT_HANDLER: &str = "supervisor.dispatchers:default_handler";

const SUPERVISORD_KEYS: &[&str] = &[
    "logfile",
    "logfile_maxbytes",
    "logfile_backups",
    "loglevel",
    "pidfile",
    "umask",
    "nodaemon",
    "silent",
    "minfds",
    "minprocs",
    "nocleanup",
    "childlogdir",
    "user",
    "directory",
    "strip_ansi",
    "environment",
    "identifier",
    // beyond the reference
    "exit_on_fatal",
    "memory_check_interval",
    "logformat",
];
const UNIX_KEYS: &[&str] = &["file", "chmod", "chown", "username", "password"];
const INET_KEYS: &[&str] = &["port", "username", "password", "open_health_on_loopback"];
const CTL_KEYS: &[&str] = &[
    "serverurl",
    "username",
    "password",
    "prompt",
    "history_file",
];
const PROGRAM_KEYS: &[&str] = &[
    "command",
    "process_name",
    "numprocs",
    "numprocs_start",
    "priority",
    "autostart",
    "autorestart",
    "startsecs",
    "startretries",
    "exitcodes",
    "stopsignal",
    "stopwaitsecs",
    "stopasgroup",
    "killasgroup",
    "user",
    "redirect_stderr",
    "stdout_logfile",
    "stdout_logfile_maxbytes",
    "stdout_logfile_backups",
    "stdout_capture_maxbytes",
    "stdout_events_enabled",
    "stdout_syslog",
    "stderr_logfile",
    "stderr_logfile_maxbytes",
    "stderr_logfile_backups",
    "stderr_capture_maxbytes",
    "stderr_events_enabled",
    "stderr_syslog",
    "environment",
    "directory",
    "umask",
    "serverurl",
    // beyond the reference
    "restart_delay",
    "backoff_max",
    "memory_limit",
    "logformat",
];
const LISTENER_KEYS: &[&str] = &["buffer_size", "events", "result_handler"];
const FCGI_KEYS: &[&str] = &["socket", "socket_backlog", "socket_owner", "socket_mode"];
const EVENT_TYPES: &[&str] = &[
    "EVENT",
    "PROCESS_COMMUNICATION",
    "PROCESS_COMMUNICATION_STDERR",
    "PROCESS_COMMUNICATION_STDOUT",
    "PROCESS_GROUP",
    "PROCESS_GROUP_ADDED",
    "PROCESS_GROUP_REMOVED",
    "PROCESS_LOG",
    "PROCESS_LOG_STDERR",
    "PROCESS_LOG_STDOUT",
    "PROCESS_STATE",
    "PROCESS_STATE_BACKOFF",
    "PROCESS_STATE_EXITED",
    "PROCESS_STATE_FATAL",
    "PROCESS_STATE_RUNNING",
    "PROCESS_STATE_STARTING",
    "PROCESS_STATE_STOPPED",
    "PROCESS_STATE_STOPPING",
    "PROCESS_STATE_UNKNOWN",
    "REMOTE_COMMUNICATION",
    "SUPERVISOR_STATE_CHANGE",
    "SUPERVISOR_STATE_CHANGE_RUNNING",
    "SUPERVISOR_STATE_CHANGE_STOPPING",
    "TICK",
    "TICK_3600",
    "TICK_5",
    "TICK_60",
];

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

    fn read_includes(&mut self) -> Result<(), ConfigError> {
        if !self.doc.has_section("include") {
            return Ok(());
        }
        let Some(text) = self.raw_text("include", "files") else {
            return Err(self.err(
                "include",
                Some("files"),
                ".ini file has [include] section, but no files setting".into(),
            ));
        };
        let mut extra = Expansions::new();
        extra.insert(
            "host_node_name".into(),
            Value::Str(self.ctx.host_node_name.clone()),
        );
        let files = self.expand(&text, &extra, "include.files", "include", "files")?;
        let base = here_of(&self.main_file);
        for pattern in files.split_whitespace() {
            let pattern = if pattern.starts_with('/') {
                pattern.to_string()
            } else {
                format!("{}/{}", base.trim_end_matches('/'), pattern)
            };
            let mut found = glob_sorted(&pattern);
            if found.is_empty() {
                self.warnings
                    .push(format!("No file matches via include \"{}\"", pattern));
                continue;
            }
            found.sort();
            for file in found {
                self.included.push(PathBuf::from(&file));
                let path = PathBuf::from(&file);
                let text = std::fs::read(&path)
                    .map_err(|e| e.to_string())
                    .and_then(|b| String::from_utf8(b).map_err(|_| "not valid UTF-8".to_string()))
                    .map_err(|e| {
                        self.err(
                            "include",
                            Some("files"),
                            format!("could not read included file {}: {}", file, e),
                        )
                    })?;
                self.doc
                    .read_str(&text, &path, &file)
                    .map_err(|e| ConfigError::new(&e.file, None, None, e.message))?;
                if self.raw("include", "files").is_some_and(|e| e.file == path) {
                    self.warnings.push(format!(
                        "Included file \"{}\" has an [include] section; includes do not nest, \
                         so it is ignored",
                        file
                    ));
                }
            }
        }
        Ok(())
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

    fn supervisord(&mut self) -> Result<SupervisordConfig, ConfigError> {
        let s = "supervisord";
        let none = Expansions::new();
        let cwd = self.ctx.cwd.clone();
        let minfds = self.parse(s, "minfds", &none, "1024", non_negative)?;
        let minprocs = self.parse(s, "minprocs", &none, "200", non_negative)?;
        let directory = self
            .parse_opt(s, "directory", &none, existing_directory)?
            .map(PathBuf::from);
        let user = self.get(s, "user", &none)?;
        if let Some(u) = &user {
            name_to_uid(u).map_err(|m| self.bad_value(s, "user", m))?;
        }
        let umask = self.parse(s, "umask", &none, "022", octal)?;
        let logfile = self.parse(s, "logfile", &none, "supervisord.log", |v| {
            let v = existing_dirpath(v)?;
            Ok(if v == "syslog" {
                LogTarget::Syslog
            } else {
                LogTarget::Path(normalize_path(&v, &cwd))
            })
        })?;
        let logfile_maxbytes = self.parse(s, "logfile_maxbytes", &none, "50MB", byte_size)?;
        let logfile_backups = self.parse(s, "logfile_backups", &none, "10", count)?;
        let loglevel = self.parse(s, "loglevel", &none, "info", logging_level)?;
        let pidfile = self.parse(s, "pidfile", &none, "supervisord.pid", |v| {
            Ok(normalize_path(&existing_dirpath(v)?, &cwd))
        })?;
        let identifier = self
            .get(s, "identifier", &none)?
            .unwrap_or_else(|| "supervisor".into());
        let nodaemon = self.parse(s, "nodaemon", &none, "false", boolean)?;
        let silent = self.parse(s, "silent", &none, "false", boolean)?;
        let tempdir = self.ctx.tempdir.to_string_lossy().into_owned();
        let childlogdir = self.parse(s, "childlogdir", &none, &tempdir, |v| {
            Ok(normalize_path(&existing_directory(v)?, &cwd))
        })?;
        let nocleanup = self.parse(s, "nocleanup", &none, "false", boolean)?;
        let strip_ansi = self.parse(s, "strip_ansi", &none, "false", boolean)?;
        let exit_on_fatal = self.parse(s, "exit_on_fatal", &none, "false", boolean)?;
        let logformat = self.parse(s, "logformat", &none, "reference", main_log_format)?;
        let memory_check_interval = self
            .parse(s, "memory_check_interval", &none, "5", non_negative)?
            .max(1);

        // expanded twice, as the reference does: first like any key, then with host_node_name
        let mut environment = Vec::new();
        if let Some(first) = self.get(s, "environment", &none)? {
            let mut extra = Expansions::new();
            extra.insert(
                "host_node_name".into(),
                Value::Str(self.ctx.host_node_name.clone()),
            );
            let second = self.expand(&first, &extra, "environment", s, "environment")?;
            environment = dict_of_key_value_pairs(&second)
                .map_err(|m| self.bad_value(s, "environment", m))?;
        }
        for (k, v) in &environment {
            self.env.insert(format!("ENV_{}", k), Value::Str(v.clone()));
        }
        Ok(SupervisordConfig {
            logfile,
            logfile_maxbytes,
            logfile_backups,
            loglevel,
            pidfile,
            umask,
            nodaemon,
            silent,
            minfds,
            minprocs,
            nocleanup,
            childlogdir,
            user,
            directory,
            strip_ansi,
            environment,
            identifier,
            exit_on_fatal,
            memory_check_interval,
            logformat,
        })
    }

    /// `[rpcinterface:x]`: only the standard factory exists here.
    fn rpcinterfaces(&mut self) -> Result<(), ConfigError> {
        let names: Vec<String> = self
            .doc
            .sections
            .iter()
            .filter(|s| s.name.starts_with("rpcinterface:"))
            .map(|s| s.name.clone())
            .collect();
        for section in names {
            let Some(spec) = self.get(&section, RPC_FACTORY_KEY, &Expansions::new())? else {
                return Err(self.err(
                    &section,
                    Some(RPC_FACTORY_KEY),
                    format!(
                        "section [{}] does not specify a {}",
                        section, RPC_FACTORY_KEY
                    ),
                ));
            };
            let normalized: String = spec.chars().filter(|c| !c.is_whitespace()).collect();
            if normalized != STANDARD_RPC_FACTORY {
                return Err(self
                    .err(
                        &section,
                        Some(RPC_FACTORY_KEY),
                        format!("{} cannot be resolved within [{}]", spec, section),
                    )
                    .with_hint(format!(
                        "{} must be {}",
                        RPC_FACTORY_KEY, STANDARD_RPC_FACTORY
                    )));
            }
        }
        Ok(())
    }

    fn section_names(&self, prefix: &str) -> Vec<String> {
        self.doc
            .sections
            .iter()
            .filter(|s| s.name.starts_with(prefix))
            .map(|s| s.name.clone())
            .collect()
    }

    fn groups(&mut self) -> Result<Vec<GroupConfig>, ConfigError> {
        let none = Expansions::new();
        let mut groups: Vec<(GroupConfig, String)> = Vec::new();
        let mut in_groups: HashSet<String> = HashSet::new();

        for section in self.section_names("group:") {
            let group_name = process_or_group_name(&section["group:".len()..])
                .map_err(|m| self.err(&section, None, m))?;
            let programs =
                list_of_strings(&self.get(&section, "programs", &none)?.unwrap_or_default());
            let priority = self.parse(&section, "priority", &none, "999", priority)?;
            let mut processes = Vec::new();
            // The reference's messages name the section of the member before (it reuses the
            // loop's variable), the group's own section for the first member.
            let mut named = section.clone();
            for program in programs {
                let p = format!("program:{}", program);
                let f = format!("fcgi-program:{}", program);
                let member = match (self.doc.has_section(&p), self.doc.has_section(&f)) {
                    (true, true) => {
                        return Err(self.err(
                            &section,
                            Some("programs"),
                            format!(
                                "[{}] name {} is ambiguous (exists as program and fcgi-program)",
                                named, program
                            ),
                        ));
                    }
                    (true, false) => p,
                    (false, true) => f,
                    (false, false) => {
                        return Err(self.err(
                            &section,
                            Some("programs"),
                            format!(
                                "[{}] names unknown program or fcgi-program {}",
                                named, program
                            ),
                        ));
                    }
                };
                in_groups.insert(member.clone());
                processes.extend(self.processes(&member, &group_name)?);
                named = member;
            }
            groups.push((
                GroupConfig {
                    name: group_name,
                    priority,
                    kind: GroupKind::Program,
                    processes,
                },
                section,
            ));
        }

        for section in self.section_names("program:") {
            if in_groups.contains(&section) {
                continue;
            }
            let name = process_or_group_name(&section["program:".len()..])
                .map_err(|m| self.err(&section, None, m))?;
            let priority = self.parse(&section, "priority", &none, "999", priority)?;
            let processes = self.processes(&section, &name)?;
            groups.push((
                GroupConfig {
                    name,
                    priority,
                    kind: GroupKind::Program,
                    processes,
                },
                section,
            ));
        }

        for section in self.section_names("eventlistener:") {
            let pool_name = section["eventlistener:".len()..].to_string();
            let priority = self.parse(&section, "priority", &none, "-1", priority)?;
            let buffer_size = self.parse(&section, "buffer_size", &none, "10", integer)?;
            if buffer_size < 1 {
                return Err(self.err(
                    &section,
                    Some("buffer_size"),
                    format!(
                        "[{}] section sets invalid buffer_size ({})",
                        section, buffer_size
                    ),
                ));
            }
            let result_handler = self
                .get(&section, "result_handler", &none)?
                .unwrap_or_else(|| DEFAULT_RESULT_HANDLER.into());
            if result_handler.trim() != DEFAULT_RESULT_HANDLER {
                return Err(self
                    .err(
                        &section,
                        Some("result_handler"),
                        format!("{} cannot be resolved within [{}]", result_handler, section),
                    )
                    .with_hint(format!("result_handler must be {}", DEFAULT_RESULT_HANDLER)));
            }
            let mut events: Vec<String> = Vec::new();
            for e in list_of_strings(&self.get(&section, "events", &none)?.unwrap_or_default()) {
                let e = e.to_uppercase();
                if !events.contains(&e) {
                    events.push(e);
                }
            }
            if events.is_empty() {
                return Err(self.err(
                    &section,
                    Some("events"),
                    format!("[{}] section requires an \"events\" line", section),
                ));
            }
            if let Some(bad) = events.iter().find(|e| !EVENT_TYPES.contains(&e.as_str())) {
                return Err(self.err(
                    &section,
                    Some("events"),
                    format!("Unknown event type {} in [{}] events", bad, section),
                ));
            }
            if self.parse(&section, "redirect_stderr", &none, "false", boolean)? {
                return Err(self.err(
                    &section,
                    Some("redirect_stderr"),
                    format!(
                        "[{}] section sets redirect_stderr=true but this is not allowed because \
                         it will interfere with the eventlistener protocol",
                        section
                    ),
                ));
            }
            let processes = self.processes(&section, &pool_name)?;
            let kind = GroupKind::EventListener(EventListenerPoolConfig {
                buffer_size: buffer_size.clamp(1, u32::MAX as i64) as u32,
                events,
                result_handler,
            });
            groups.push((
                GroupConfig {
                    name: pool_name,
                    priority,
                    kind,
                    processes,
                },
                section,
            ));
        }

        for section in self.section_names("fcgi-program:") {
            if in_groups.contains(&section) {
                continue;
            }
            let name = process_or_group_name(&section["fcgi-program:".len()..])
                .map_err(|m| self.err(&section, None, m))?;
            let priority = self.parse(&section, "priority", &none, "999", priority)?;
            let socket = self.fcgi_socket(&section, &name)?;
            let processes = self.processes(&section, &name)?;
            groups.push((
                GroupConfig {
                    name,
                    priority,
                    kind: GroupKind::Fcgi(socket),
                    processes,
                },
                section,
            ));
        }

        // one name per group, one name per process within a group (sets: 100 000 processes
        // in one group are checked in linear time)
        let mut group_names: std::collections::HashMap<&str, &str> = Default::default();
        for (g, section) in &groups {
            if let Some(first) = group_names.insert(&g.name, section) {
                return Err(self.err(
                    section,
                    None,
                    format!(
                        "duplicate group name '{}' (also defined by [{}])",
                        g.name, first
                    ),
                ));
            }
            let mut names = HashSet::with_capacity(g.processes.len());
            for p in &g.processes {
                if !names.insert(p.name.as_str()) {
                    return Err(self.err(
                        section,
                        Some("process_name"),
                        format!("duplicate process name '{}' in group '{}'", p.name, g.name),
                    ));
                }
            }
        }
        let mut groups: Vec<GroupConfig> = groups.into_iter().map(|(g, _)| g).collect();
        groups.sort_by(|a, b| (a.priority, &a.name).cmp(&(b.priority, &b.name)));
        deps::validate(&groups).map_err(|e| {
            let f = format!("fcgi-program:{}", e.program_name);
            let section = if self.doc.has_section(&f) {
                f
            } else {
                format!("program:{}", e.program_name)
            };
            self.err(&section, Some("depends_on"), e.message)
        })?;
        Ok(groups)
    }

    fn fcgi_socket(
        &self,
        section: &str,
        program_name: &str,
    ) -> Result<FcgiSocketConfig, ConfigError> {
        let none = Expansions::new();
        let proc_uid = self.parse_opt(section, "user", &none, name_to_uid)?;
        let backlog = self.parse_opt(section, "socket_backlog", &none, |v| {
            let n = integer(v)?;
            if (1..=65535).contains(&n) {
                Ok(n as u32)
            } else {
                Err(format!("Invalid socket_backlog value {}", n))
            }
        })?;
        let owner = self.parse_opt(section, "socket_owner", &none, |v| {
            colon_separated_user_group(v).map_err(|_| format!("Invalid socket_owner value {}", v))
        })?;
        let mode = self.parse_opt(section, "socket_mode", &none, |v| {
            octal(v).map_err(|_| format!("Invalid socket_mode value {}", v))
        })?;
        let mut names = Expansions::new();
        names.insert("program_name".into(), Value::Str(program_name.into()));
        let Some(sock) = self
            .get(section, "socket", &names)?
            .filter(|s| !s.is_empty())
        else {
            return Err(self.err(
                section,
                Some("socket"),
                format!("[{}] section requires a \"socket\" line", section),
            ));
        };
        // The reference's words, including the two-argument ValueErrors it prints as tuples.
        let bad =
            |m: String| self.bad_value(section, "socket", format!("{} in [{}] socket", m, section));
        let tuple = |m: &str, arg: &str| format!("({}, {})", py_repr(m), py_repr(arg));
        if let Some(path) = sock.strip_prefix("unix://") {
            if !path.starts_with('/') {
                return Err(bad(tuple(
                    "Unix socket path %s is not an absolute path",
                    path,
                )));
            }
            let path = normalize_path(path, &self.ctx.cwd);
            let mut owner = owner;
            if owner.is_none() {
                // SAFETY: getuid has no preconditions.
                let uid = unsafe { libc::getuid() };
                if let Some(pu) = proc_uid.filter(|pu| *pu != uid) {
                    owner = Some((pu, gid_for_uid(pu).unwrap_or(u32::MAX)));
                }
            }
            return Ok(FcgiSocketConfig {
                socket: format!("unix://{}", path.display()),
                socket_backlog: backlog,
                socket_owner: owner,
                socket_mode: Some(mode.unwrap_or(0o700)),
            });
        }
        if owner.is_some() || mode.is_some() {
            return Err(bad(
                "socket_owner and socket_mode params should only be used with a Unix domain socket"
                    .into(),
            ));
        }
        if let Some(rest) = sock.strip_prefix("tcp://")
            && let Some((host, port)) = rest.rsplit_once(':')
        {
            let host_ok = !host.is_empty() && !host.chars().any(|c| c.is_whitespace() || c == ':');
            let port_ok = !port.is_empty() && port.chars().all(|c| c.is_ascii_digit());
            if host_ok && port_ok {
                let (_, port) = inet_address(&format!(":{}", port)).map_err(bad)?;
                return Ok(FcgiSocketConfig {
                    socket: format!("tcp://{}:{}", host.to_lowercase(), port),
                    socket_backlog: backlog,
                    socket_owner: None,
                    socket_mode: None,
                });
            }
        }
        Err(bad(tuple("Bad socket format %s", &sock)))
    }

    /// The processes of one `[program:x]` / `[eventlistener:x]` / `[fcgi-program:x]` section.
    /// As the reference, every error here ends with ` in section 'x' (file: '...')`.
    fn processes(
        &mut self,
        section: &str,
        group_name: &str,
    ) -> Result<Vec<Arc<ProcessConfig>>, ConfigError> {
        self.section_processes(section, group_name)
            .map_err(|mut e| {
                e.section = Some(section.to_string());
                e.file = self.shown(&self.file_of(section));
                e.in_section = true;
                e
            })
    }

    fn section_processes(
        &mut self,
        section: &str,
        group_name: &str,
    ) -> Result<Vec<Arc<ProcessConfig>>, ConfigError> {
        let prefix_len = section.find(':').map_or(section.len(), |i| i + 1);
        let program_name = process_or_group_name(&section[prefix_len..])
            .map_err(|m| self.err(section, None, m))?;
        let mut common = Expansions::new();
        common.insert("program_name".into(), Value::Str(program_name.clone()));
        common.insert(
            "host_node_name".into(),
            Value::Str(self.ctx.host_node_name.clone()),
        );
        common.insert("group_name".into(), Value::Str(group_name.into()));
        let c = &common;
        let s = section;

        let priority = self.parse(s, "priority", c, "999", priority)?;
        let autostart = self.parse(s, "autostart", c, "true", boolean)?;
        let autorestart = self.parse(s, "autorestart", c, "unexpected", auto_restart)?;
        let startsecs = self.parse(s, "startsecs", c, "1", non_negative)?;
        let startretries = self.parse(s, "startretries", c, "3", start_retries)?;
        let restart_delay = self.parse(s, "restart_delay", c, "0", non_negative)?;
        let backoff_max = self.parse(s, "backoff_max", c, "", optional_seconds)?;
        let memory_limit = self.parse(s, "memory_limit", c, "", optional_size)?;
        let logformat = self.parse(s, "logformat", c, "raw", output_format)?;
        let deps = deps::read(|k| self.get(s, k, c), |k, m| self.bad_value(s, k, m))?;
        let stopsignal = self.parse(s, "stopsignal", c, "TERM", signal_number)?;
        let stopwaitsecs = self.parse(s, "stopwaitsecs", c, "10", non_negative)?;
        let stopasgroup = self.parse(s, "stopasgroup", c, "false", boolean)?;
        let killasgroup = self.parse(
            s,
            "killasgroup",
            c,
            if stopasgroup { "true" } else { "false" },
            boolean,
        )?;
        let exitcodes = self.parse(s, "exitcodes", c, "0", list_of_exitcodes)?;
        let redirect_stderr = self.parse(s, "redirect_stderr", c, "false", boolean)?;
        let numprocs = self.parse(s, "numprocs", c, "1", integer)?;
        let numprocs_start = self.parse(s, "numprocs_start", c, "0", integer)?;
        let environment_raw = self.raw_text(s, "environment");
        let stdout_cmax = self.parse(s, "stdout_capture_maxbytes", c, "0", byte_size)?;
        let stdout_events = self.parse(s, "stdout_events_enabled", c, "false", boolean)?;
        let stderr_cmax = self.parse(s, "stderr_capture_maxbytes", c, "0", byte_size)?;
        let stderr_events = self.parse(s, "stderr_events_enabled", c, "false", boolean)?;
        let serverurl = self
            .get(s, "serverurl", c)?
            .filter(|u| u.trim().to_uppercase() != "AUTO");
        let user = self.get(s, "user", c)?;
        let uid = match &user {
            Some(u) => Some(name_to_uid(u).map_err(|m| self.bad_value(s, "user", m))?),
            None => None,
        };
        let umask = self.parse_opt(s, "umask", c, octal)?;
        let process_name = match self.raw_text(s, "process_name") {
            Some(v) => {
                process_or_group_name(&v).map_err(|m| self.bad_value(s, "process_name", m))?
            }
            None => "%(program_name)s".to_string(),
        };
        if numprocs > 1 && !process_name.contains("%(process_num)") {
            return Err(self.err(
                s,
                Some("process_name"),
                "%(process_num) must be present within process_name when numprocs > 1".into(),
            ));
        }
        if numprocs > MAX_NUMPROCS {
            return Err(self.bad_value(
                s,
                "numprocs",
                format!(
                    "{} is above the supported maximum ({})",
                    numprocs, MAX_NUMPROCS
                ),
            ));
        }
        if stopasgroup && !killasgroup {
            return Err(self.err(
                s,
                Some("killasgroup"),
                "Cannot set stopasgroup=true and killasgroup=false".into(),
            ));
        }

        let mut processes = Vec::new();
        let count_total = numprocs.max(0);
        for process_num in numprocs_start..numprocs_start.saturating_add(count_total) {
            let mut exp = common.clone();
            exp.insert("process_num".into(), Value::Int(process_num));
            exp.insert("numprocs".into(), Value::Int(numprocs));

            let environment = match &environment_raw {
                Some(raw) => {
                    let text = self.expand(raw, &exp, "environment", s, "environment")?;
                    dict_of_key_value_pairs(&text)
                        .map_err(|m| self.bad_value(s, "environment", m))?
                }
                None => Vec::new(),
            };
            for (k, v) in &environment {
                exp.insert(format!("ENV_{}", k), Value::Str(v.clone()));
            }

            let directory = self.get(s, "directory", &exp)?;
            let mut streams = Vec::new();
            for channel in ["stdout", "stderr"] {
                let lf_key = format!("{}_logfile", channel);
                // the reference expands a written log file name a second time
                let logfile = match self.get(s, &lf_key, &exp)? {
                    Some(first) => {
                        let second = self.expand(&first, &exp, &lf_key, s, &lf_key)?;
                        logfile_name(&second).map_err(|m| self.bad_value(s, &lf_key, m))?
                    }
                    None => LogTarget::Auto,
                };
                let backups = self.parse(
                    s,
                    &format!("{}_logfile_backups", channel),
                    &exp,
                    "10",
                    count,
                )?;
                let mb_key = format!("{}_logfile_maxbytes", channel);
                let maxbytes = self.parse(s, &mb_key, &exp, "50MB", byte_size)?;
                let sy_key = format!("{}_syslog", channel);
                let mut syslog = self.parse(s, &sy_key, &exp, "false", boolean)?;
                let mut logfile = logfile;
                if logfile == LogTarget::Syslog {
                    self.warnings.push(format!(
                        "For [{}], {}=syslog but this is deprecated and will be removed.  \
                         Use {}=true to enable syslog instead.",
                        s, lf_key, sy_key
                    ));
                    logfile = LogTarget::None;
                    syslog = true;
                }
                if logfile == LogTarget::Auto && maxbytes == 0 {
                    self.warnings.push(format!(
                        "For [{}], AUTO logging used for {} without rollover, set maxbytes > 0 \
                         to avoid filling up filesystem unintentionally",
                        s, lf_key
                    ));
                }
                let (capture_maxbytes, events_enabled) = if channel == "stdout" {
                    (stdout_cmax, stdout_events)
                } else {
                    (stderr_cmax, stderr_events)
                };
                streams.push(StreamLogConfig {
                    logfile,
                    logfile_maxbytes: maxbytes,
                    logfile_backups: backups,
                    capture_maxbytes,
                    events_enabled,
                    syslog,
                });
            }
            let (Some(mut stderr), Some(stdout)) = (streams.pop(), streams.pop()) else {
                return Err(self.err(s, None, "internal error: missing stream settings".into()));
            };
            if redirect_stderr {
                if !matches!(stderr.logfile, LogTarget::Auto | LogTarget::None) {
                    self.warnings.push(format!(
                        "For [{}], redirect_stderr=true but stderr_logfile has also been set to a \
                         filename, the filename has been ignored",
                        s
                    ));
                }
                stderr.logfile = LogTarget::None;
            }

            let Some(command) = self.get(s, "command", &exp)? else {
                return Err(self.err(
                    s,
                    Some("command"),
                    format!("program section {} does not specify a command", s),
                ));
            };
            if command.chars().all(|c| " \t\r\n".contains(c)) {
                // The reference starts it and retries `spawnerr: command is empty` for ever.
                let mut e = self.err(
                    s,
                    Some("command"),
                    format!("program section {} has an empty command", s),
                );
                e.complete = true;
                return Err(e);
            }
            let name = self.expand(&process_name, &exp, "process_name", s, "process_name")?;
            processes.push(Arc::new(ProcessConfig {
                name,
                group: group_name.to_string(),
                program_name: program_name.clone(),
                command,
                directory,
                umask,
                priority,
                autostart,
                autorestart,
                startsecs,
                startretries,
                user: user.clone(),
                uid,
                stdout,
                stderr,
                stopsignal,
                stopwaitsecs,
                stopasgroup,
                killasgroup,
                exitcodes: exitcodes.clone(),
                redirect_stderr,
                environment,
                serverurl: serverurl.clone(),
                process_num: process_num.clamp(0, u32::MAX as i64) as u32,
                numprocs: numprocs.clamp(0, u32::MAX as i64) as u32,
                restart_delay,
                backoff_max,
                memory_limit,
                logformat,
                deps: deps.clone(),
            }));
        }
        processes.sort_by(|a, b| (a.priority, &a.name).cmp(&(b.priority, &b.name)));
        Ok(processes)
    }

    /// `username`/`password` of a server section: both or neither.
    fn credentials(&self, section: &str) -> Result<(Option<String>, Option<String>), ConfigError> {
        let none = Expansions::new();
        let username = self.get(section, "username", &none)?;
        let password = self.get(section, "password", &none)?;
        if username.is_some() != password.is_some() {
            return Err(self.err(
                section,
                Some(if username.is_none() {
                    "username"
                } else {
                    "password"
                }),
                format!(
                    "Section [{}] contains incomplete authentication: If a username or a \
                     password is specified, both the username and password must be specified",
                    section
                ),
            ));
        }
        Ok((username, password))
    }

    fn warn_named_servers(&mut self, base: &str) {
        for name in self.section_names(base) {
            if name != base {
                let file = self.file_of(&name);
                self.warnings.push(format!(
                    "Section [{}] (file: {}) is ignored: only one [{}] is supported",
                    name,
                    file.display(),
                    base
                ));
            }
        }
    }

    fn inet_http_server(&mut self) -> Result<Option<InetHttpServerConfig>, ConfigError> {
        self.warn_named_servers("inet_http_server");
        let s = "inet_http_server";
        if !self.doc.has_section(s) {
            return Ok(None);
        }
        let (username, password) = self.credentials(s)?;
        let Some(port) = self.get(s, "port", &Expansions::new())? else {
            return Err(self.err(
                s,
                Some("port"),
                format!("section [{}] has no port value", s),
            ));
        };
        let (host, port) = inet_address(&port).map_err(|m| self.bad_value(s, "port", m))?;
        let none = Expansions::new();
        let open_health_on_loopback =
            self.parse(s, "open_health_on_loopback", &none, "false", boolean)?;
        Ok(Some(InetHttpServerConfig {
            host,
            port,
            username,
            password,
            open_health_on_loopback,
        }))
    }

    fn unix_http_server(&mut self) -> Result<Option<UnixHttpServerConfig>, ConfigError> {
        self.warn_named_servers("unix_http_server");
        let s = "unix_http_server";
        if !self.doc.has_section(s) {
            return Ok(None);
        }
        let none = Expansions::new();
        let Some(file) = self.get(s, "file", &none)? else {
            return Err(self.err(
                s,
                Some("file"),
                format!("section [{}] has no file value", s),
            ));
        };
        let file = normalize_path(file.trim(), &self.ctx.cwd);
        let (username, password) = self.credentials(s)?;
        let chown = self.parse_opt(s, "chown", &none, |v| {
            colon_separated_user_group(v).map_err(|_| format!("Invalid sockchown value {}", v))
        })?;
        let chmod = self.parse_opt(s, "chmod", &none, |v| {
            octal(v).map_err(|_| format!("Invalid chmod value {}", v))
        })?;
        Ok(Some(UnixHttpServerConfig {
            file,
            chmod: chmod.unwrap_or(0o700),
            chown,
            username,
            password,
        }))
    }

    /// `[supervisorctl]` is read for completeness; supervisord itself does not use it, so a
    /// value that does not expand is kept as written rather than rejected.
    fn supervisorctl(&self) -> SupervisorctlConfig {
        let s = "supervisorctl";
        let get = |k: &str| {
            let entry = self.raw(s, k)?;
            match self.get(s, k, &Expansions::new()) {
                Ok(v) => v,
                Err(_) => Some(entry.value.clone()),
            }
        };
        if !self.doc.has_section(s) {
            return SupervisorctlConfig::default();
        }
        SupervisorctlConfig {
            serverurl: get("serverurl"),
            username: get("username"),
            password: get("password"),
            prompt: get("prompt"),
            history_file: get("history_file").map(PathBuf::from),
        }
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

/// Python's `glob.glob`: hidden files only match a pattern that starts them with `.`;
/// a pattern glob cannot parse is taken literally.
fn glob_sorted(pattern: &str) -> Vec<String> {
    let opts = glob::MatchOptions {
        case_sensitive: true,
        require_literal_separator: true,
        require_literal_leading_dot: true,
    };
    match glob::glob_with(pattern, opts) {
        Ok(paths) => paths
            .filter_map(Result::ok)
            .map(|p| p.to_string_lossy().into_owned())
            .collect(),
        Err(_) => {
            if Path::new(pattern).exists() {
                vec![pattern.to_string()]
            } else {
                Vec::new()
            }
        }
    }
}
