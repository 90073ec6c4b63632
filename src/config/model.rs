//! The typed configuration: what a `supervisord.conf` (with its includes) means once parsed,
//! expanded and validated. Everything downstream (the supervisor actor, the servers, the logs)
//! reads only these types, never the INI text.
//!
//! Field names follow supervisor 4.2.5's option names, so `stopwaitsecs` here is `stopwaitsecs=`
//! in the file. Defaults are the reference's (see `Default` impls and `config::load`).
//! `PartialEq` on the group and process types is what `reloadConfig` uses to decide whether a
//! group "changed".

use std::path::PathBuf;
use std::sync::Arc;

/// A whole configuration, main file plus includes.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// Absolute path of the main configuration file (`-c`, or the one found by the search order).
    pub config_file: PathBuf,
    pub supervisord: SupervisordConfig,
    pub unix_http_server: Option<UnixHttpServerConfig>,
    pub inet_http_server: Option<InetHttpServerConfig>,
    pub supervisorctl: SupervisorctlConfig,
    /// Program, event listener and fcgi groups, sorted by (priority, name) ascending.
    pub groups: Vec<GroupConfig>,
    /// Non-fatal findings (unknown keys, deprecated values, redirect_stderr with a filename...),
    /// each a full sentence; logged at WARN once the main log is open.
    pub warnings: Vec<String>,
    /// Files included through `[include]`, in the order they were read (for the
    /// reference's `Included extra file "..." during parsing` INFO lines).
    pub included_files: Vec<PathBuf>,
}

/// Where a log goes. `Auto` is the reference's `AUTO` (a file in `childlogdir`),
/// `None` is `NONE` (no file). `Syslog` is only valid for the main `logfile`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LogTarget {
    Auto,
    None,
    Syslog,
    Path(PathBuf),
}

/// Log levels of the reference, most severe first. `Blather` is the reference's chattiest.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LogLevel {
    Critical,
    Error,
    Warn,
    Info,
    Debug,
    Trace,
    Blather,
}

#[derive(Clone, Debug, PartialEq)]
pub struct SupervisordConfig {
    /// Default `supervisord.log` relative to the current directory (made absolute at load).
    pub logfile: LogTarget,
    pub logfile_maxbytes: u64,
    pub logfile_backups: u32,
    pub loglevel: LogLevel,
    pub pidfile: PathBuf,
    pub umask: u32,
    pub nodaemon: bool,
    pub silent: bool,
    pub minfds: u64,
    pub minprocs: u64,
    pub nocleanup: bool,
    pub childlogdir: PathBuf,
    pub user: Option<String>,
    pub directory: Option<PathBuf>,
    pub strip_ansi: bool,
    /// `environment=` of `[supervisord]`, in file order; applied to every child.
    pub environment: Vec<(String, String)>,
    pub identifier: String,
    /// Beyond the reference (container mode): when a program enters FATAL, stop everything and
    /// exit non-zero (`exit_on_fatal=`, default false).
    pub exit_on_fatal: bool,
    /// Beyond the reference: seconds between memory checks while some program has a
    /// `memory_limit` (`memory_check_interval=`, default 5).
    pub memory_check_interval: u64,
    /// Beyond the reference: our own log's line format (`logformat=`).
    pub logformat: MainLogFormat,
}

#[derive(Clone, Debug, PartialEq)]
pub struct UnixHttpServerConfig {
    pub file: PathBuf,
    /// Default 0o700.
    pub chmod: u32,
    /// `chown=user[:group]`, resolved to ids at load time.
    pub chown: Option<(u32, u32)>,
    pub username: Option<String>,
    /// As written: plain, or `{SHA}` followed by the hex SHA-1 of the password.
    pub password: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct InetHttpServerConfig {
    /// Empty string or `*` means all interfaces.
    pub host: String,
    pub port: u16,
    pub username: Option<String>,
    pub password: Option<String>,
    /// Beyond the reference: `/metrics` and `/healthz` answer loopback clients without
    /// credentials (`open_health_on_loopback=`, default false), for probes inside a container.
    pub open_health_on_loopback: bool,
}

#[derive(Clone, Debug, PartialEq, Default)]
pub struct SupervisorctlConfig {
    pub serverurl: Option<String>,
    pub username: Option<String>,
    pub password: Option<String>,
    pub prompt: Option<String>,
    pub history_file: Option<PathBuf>,
}

/// `[supervisord] logformat=` (beyond the reference): our own log's line format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum MainLogFormat {
    /// The reference's `2026-11-24 15:35:48,123 INFO message`.
    #[default]
    Reference,
    /// One JSON object per line: `{"time", "level", "message"}`.
    Json,
}

/// `[program:x] logformat=` (beyond the reference): how child output is written to its logs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum OutputFormat {
    /// Byte for byte, as the reference.
    #[default]
    Raw,
    /// `[name] line`.
    Prefixed,
    /// `2026-11-24 15:35:48,123 [name] line`.
    Timestamped,
    /// `{"time", "program", "stream", "line"}` per line.
    Json,
}

/// `autorestart=`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AutoRestart {
    Never,
    Unexpected,
    Always,
}

#[derive(Clone, Debug, PartialEq)]
pub enum GroupKind {
    /// `[program:x]` (implicit group of one program) or `[group:x]` (explicit).
    Program,
    EventListener(EventListenerPoolConfig),
    Fcgi(FcgiSocketConfig),
}

#[derive(Clone, Debug, PartialEq)]
pub struct EventListenerPoolConfig {
    pub buffer_size: u32,
    /// Event type names as written (`PROCESS_STATE`, `TICK_5`, ...), validated at load.
    pub events: Vec<String>,
    /// Only the default `supervisor.dispatchers:default_handler` is accepted.
    pub result_handler: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct FcgiSocketConfig {
    /// `tcp://host:port` or `unix:///path`, as written after expansion.
    pub socket: String,
    pub socket_backlog: Option<u32>,
    pub socket_owner: Option<(u32, u32)>,
    pub socket_mode: Option<u32>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct GroupConfig {
    pub name: String,
    pub priority: i32,
    pub kind: GroupKind,
    /// Sorted by (priority, name) ascending, as the reference sorts them. Shared (`Arc`) with
    /// the actor's processes: a daemon keeps one copy of each process's settings.
    pub processes: Vec<Arc<ProcessConfig>>,
}

/// One stream's (stdout or stderr) capture settings.
#[derive(Clone, Debug, PartialEq)]
pub struct StreamLogConfig {
    /// `None` when `redirect_stderr=true` (for stderr) or `NONE`.
    pub logfile: LogTarget,
    pub logfile_maxbytes: u64,
    pub logfile_backups: u32,
    pub capture_maxbytes: u64,
    pub events_enabled: bool,
    pub syslog: bool,
}

impl StreamLogConfig {
    /// Whether nothing keeps this stream's bytes: no log file, no syslog, no capture mode,
    /// no PROCESS_LOG events, and no echo into the main log (`echo`: `loglevel` is debug or
    /// trace).
    fn discarded(&self, echo: bool) -> bool {
        matches!(self.logfile, LogTarget::None)
            && !self.syslog
            && self.capture_maxbytes == 0
            && !self.events_enabled
            && !echo
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct ProcessConfig {
    /// The process name (`process_name=` expanded; the program name when numprocs is 1).
    pub name: String,
    /// The group's name (the program's name for an implicit group).
    pub group: String,
    /// The `[program:x]` section's name.
    pub program_name: String,
    /// `command=` after expansion, unsplit.
    pub command: String,
    pub directory: Option<String>,
    pub umask: Option<u32>,
    pub priority: i32,
    pub autostart: bool,
    pub autorestart: AutoRestart,
    pub startsecs: u64,
    pub startretries: u32,
    /// `user=` as written, and its resolved uid (resolved at load: an unknown user is a config error).
    pub user: Option<String>,
    pub uid: Option<u32>,
    pub stdout: StreamLogConfig,
    pub stderr: StreamLogConfig,
    /// Signal number.
    pub stopsignal: i32,
    pub stopwaitsecs: u64,
    pub stopasgroup: bool,
    pub killasgroup: bool,
    pub exitcodes: Vec<i32>,
    pub redirect_stderr: bool,
    /// `environment=` of the program, in file order, after expansion.
    pub environment: Vec<(String, String)>,
    pub serverurl: Option<String>,
    pub process_num: u32,
    pub numprocs: u32,
    /// Beyond the reference: seconds to wait before an automatic restart after an exit
    /// (`restart_delay=`, default 0: at once, as the reference).
    pub restart_delay: u64,
    /// Beyond the reference: the longest wait between spawn attempts in BACKOFF
    /// (`backoff_max=`; the reference's wait grows by one second per attempt without bound).
    pub backoff_max: Option<u64>,
    /// Beyond the reference: restart the process when the resident memory of it and all its
    /// descendants passes this many bytes (`memory_limit=`, a size like `250MB`).
    pub memory_limit: Option<u64>,
    /// Beyond the reference: how output is written to the log targets (`logformat=`).
    pub logformat: OutputFormat,
    /// Beyond the reference: `depends_on`, `ready_check`, `health_check` and their settings.
    pub deps: super::deps::DepsConfig,
}

/// `startretries=-1`: retry forever (beyond the reference).
pub const RETRY_FOREVER: u32 = u32::MAX;

impl ProcessConfig {
    /// Which of its output streams nothing keeps, (stdout, stderr): the child writes those to
    /// `/dev/null` instead of a pipe. Never a listener's stdout (its protocol), nor a stream a
    /// `log:` ready check reads; a stderr that `redirect_stderr` sends to stdout is not one
    /// of its own. `echo`: the main log echoes output (`loglevel` debug or trace).
    pub fn discarded_output(&self, listener: bool, echo: bool) -> (bool, bool) {
        let watched = matches!(&self.deps.ready_check, Some(super::deps::Check::Log(_)));
        (
            !listener && !watched && self.stdout.discarded(echo),
            !self.redirect_stderr && !watched && self.stderr.discarded(echo),
        )
    }
}

#[cfg(test)]
impl ProcessConfig {
    /// A program with the reference's defaults and no log files, for unit tests.
    pub fn for_test(name: &str, command: &str) -> ProcessConfig {
        let stream = StreamLogConfig {
            logfile: LogTarget::None,
            logfile_maxbytes: 0,
            logfile_backups: 0,
            capture_maxbytes: 0,
            events_enabled: false,
            syslog: false,
        };
        ProcessConfig {
            name: name.into(),
            group: name.into(),
            program_name: name.into(),
            command: command.into(),
            directory: None,
            umask: None,
            priority: 999,
            autostart: true,
            autorestart: AutoRestart::Unexpected,
            startsecs: 1,
            startretries: 3,
            user: None,
            uid: None,
            stdout: stream.clone(),
            stderr: stream,
            stopsignal: libc::SIGTERM,
            stopwaitsecs: 10,
            stopasgroup: false,
            killasgroup: false,
            exitcodes: vec![0],
            redirect_stderr: false,
            environment: vec![],
            serverurl: None,
            process_num: 0,
            numprocs: 1,
            restart_delay: 0,
            backoff_max: None,
            memory_limit: None,
            logformat: OutputFormat::Raw,
            deps: Default::default(),
        }
    }
}
