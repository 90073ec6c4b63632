//! The `supervisord` command line, with supervisor 4.2.5's flags, meanings and messages.
//!
//! Parsing follows Python's `getopt.getopt` as the reference uses it: short options may be
//! bundled (`-nc file`, `-cfile`), long options take `--opt=value` or `--opt value` and may
//! be abbreviated to any unique prefix (`--config`), parsing stops at the first non-option
//! (then "positional arguments are not supported"), `--` ends the options. Values are checked
//! as they are read (`-m 9` → `invalid value for -m '9': 9 can not be converted to an octal
//! type`), and giving an option twice is a "conflicting command line option". `-h` and `-v`
//! act where they appear. Every error is the reference's two lines on stderr
//! (`Error: ...` / `For help, use <argv0> -h`) and exit status 2.
//!
//! Hand-written rather than clap: clap's abbreviation matching, duplicate handling, error
//! texts, help layout and exit statuses differ from getopt's and the reference's, and
//! scripts and tests compare those; emulating getopt takes fewer lines than bending clap.

use std::path::{Path, PathBuf};

use crate::config::values::{
    byte_size, count, existing_directory, existing_dirpath, logging_level, name_to_uid,
    non_negative, normalize_path, octal, py_list_repr, py_repr,
};
use crate::config::{Config, ConfigError, LogLevel, LogTarget};

/// The version `-v` prints.
pub const VERSION: &str = "4.2.5";

/// The `-h` text; `%s` is replaced by the program name as invoked.
const HELP: &str = "supervisord -- run a set of applications as daemons.

Usage: %s [options]

Options:
-c/--configuration FILENAME -- configuration file path (searches if not given)
-n/--nodaemon -- run in the foreground (same as 'nodaemon=true' in config file)
-s/--silent -- no logs to stdout (maps to 'silent=true' in config file)
-h/--help -- print this usage message and exit
-v/--version -- print supervisord version number and exit
-u/--user USER -- run supervisord as this user (or numeric uid)
-m/--umask UMASK -- use this umask for daemon subprocess (default is 022)
-d/--directory DIRECTORY -- directory to chdir to when daemonized
-l/--logfile FILENAME -- use FILENAME as logfile path
-y/--logfile_maxbytes BYTES -- use BYTES to limit the max size of logfile
-z/--logfile_backups NUM -- number of backups to keep when max bytes reached
-e/--loglevel LEVEL -- use LEVEL as log level (debug,info,warn,error,critical)
-j/--pidfile FILENAME -- write a pid file for the daemon process to FILENAME
-i/--identifier STR -- identifier used for this instance of supervisord
-q/--childlogdir DIRECTORY -- the log directory for child process logs
-k/--nocleanup --  prevent the process from performing cleanup (removal of
                   old automatic child log files) at startup.
-a/--minfds NUM -- the minimum number of file descriptors for start success
-t/--strip_ansi -- strip ansi escape codes from process output
--minprocs NUM  -- the minimum number of processes available for start success
--profile_options OPTIONS -- run supervisord under profiler and output
                             results based on OPTIONS, which  is a comma-sep'd
                             list of 'cumulative', 'calls', and/or 'callers',
                             e.g. 'cumulative,callers')
";

/// Short options in getopt's notation (`x:` takes a value), in the reference's order.
const SHORT: &str = "h?c:vnu:m:d:l:y:z:e:j:i:q:a:kts";
/// Long options (`name=` takes a value), in the reference's order.
const LONG: &[&str] = &[
    "help",
    "configuration=",
    "version",
    "nodaemon",
    "user=",
    "umask=",
    "directory=",
    "logfile=",
    "logfile_maxbytes=",
    "logfile_backups=",
    "loglevel=",
    "pidfile=",
    "identifier=",
    "childlogdir=",
    "minfds=",
    "minprocs=",
    "nocleanup",
    "strip_ansi",
    "profile_options=",
    "silent",
];

/// What the command line asked for. `None` means "not given": the file's value stands.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Cli {
    /// `argv[0]` as invoked (used in help and error texts).
    pub progname: String,
    pub configuration: Option<PathBuf>,
    pub nodaemon: Option<bool>,
    pub silent: Option<bool>,
    pub user: Option<String>,
    pub umask: Option<u32>,
    pub directory: Option<PathBuf>,
    /// As given, `~` expanded; its directory exists (`syslog` is the syslog target).
    pub logfile: Option<String>,
    pub logfile_maxbytes: Option<u64>,
    pub logfile_backups: Option<u32>,
    pub loglevel: Option<LogLevel>,
    pub pidfile: Option<String>,
    pub identifier: Option<String>,
    pub childlogdir: Option<PathBuf>,
    pub nocleanup: Option<bool>,
    pub minfds: Option<u64>,
    pub minprocs: Option<u64>,
    pub strip_ansi: Option<bool>,
    /// Accepted for compatibility; profiling is not implemented, so it has no effect.
    pub profile_options: Option<String>,
}

/// Parsing ended without a `Cli`: print and exit.
#[derive(Clone, Debug, PartialEq)]
pub enum CliExit {
    /// `-h`: the usage text for stdout; exit 0.
    Help(String),
    /// `-v`: the version line for stdout; exit 0.
    Version(String),
    /// A bad command line: the full two-line text for stderr; exit 2.
    Usage(String),
}

impl CliExit {
    pub fn exit_code(&self) -> i32 {
        match self {
            CliExit::Help(_) | CliExit::Version(_) => 0,
            CliExit::Usage(_) => 2,
        }
    }

    /// Print to stdout or stderr as the reference does (no exit).
    pub fn print(&self) {
        use std::io::Write;
        match self {
            CliExit::Help(t) | CliExit::Version(t) => {
                let _ = std::io::stdout().write_all(t.as_bytes());
                let _ = std::io::stdout().flush();
            }
            CliExit::Usage(t) => {
                let _ = std::io::stderr().write_all(t.as_bytes());
            }
        }
    }
}

/// The reference's error text for `msg` (also used for configuration errors):
/// `Error: <msg>\nFor help, use <progname> -h\n`.
pub fn usage_text(progname: &str, msg: &str) -> String {
    format!("Error: {}\nFor help, use {} -h\n", msg, progname)
}

/// Parse the whole `argv` (program name first).
pub fn parse<I, S>(args: I) -> Result<Cli, CliExit>
where
    I: IntoIterator<Item = S>,
    S: Into<String>,
{
    let mut args: Vec<String> = args.into_iter().map(Into::into).collect();
    let progname = if args.is_empty() {
        "supervisord".to_string()
    } else {
        args.remove(0)
    };
    let usage = |msg: String| CliExit::Usage(usage_text(&progname, &msg));

    let (opts, rest) = getopt(&args).map_err(usage)?;
    if !rest.is_empty() {
        return Err(usage(format!(
            "positional arguments are not supported: {}",
            py_list_repr(&rest)
        )));
    }

    let mut cli = Cli {
        progname: progname.clone(),
        ..Cli::default()
    };
    for (opt, arg) in opts {
        let invalid = |msg: String| {
            usage(format!(
                "invalid value for {} {}: {}",
                opt,
                py_repr(&arg),
                msg
            ))
        };
        let conflict = || usage(format!("conflicting command line option {}", py_repr(&opt)));
        macro_rules! set {
            ($field:ident, $value:expr) => {{
                if cli.$field.is_some() {
                    return Err(conflict());
                }
                cli.$field = Some($value);
            }};
        }
        match canonical(&opt) {
            "help" => return Err(CliExit::Help(help_text(&progname))),
            "version" => return Err(CliExit::Version(format!("{}\n", VERSION))),
            "configuration" => set!(configuration, PathBuf::from(&arg)),
            "nodaemon" => set!(nodaemon, true),
            "silent" => set!(silent, true),
            "nocleanup" => set!(nocleanup, true),
            "strip_ansi" => set!(strip_ansi, true),
            "user" => set!(user, arg.clone()),
            "umask" => set!(umask, octal(&arg).map_err(invalid)?),
            "directory" => set!(
                directory,
                PathBuf::from(existing_directory(&arg).map_err(invalid)?)
            ),
            "logfile" => set!(logfile, existing_dirpath(&arg).map_err(invalid)?),
            "logfile_maxbytes" => set!(logfile_maxbytes, byte_size(&arg).map_err(invalid)?),
            "logfile_backups" => set!(logfile_backups, count(&arg).map_err(invalid)?),
            "loglevel" => set!(loglevel, logging_level(&arg).map_err(invalid)?),
            "pidfile" => set!(pidfile, existing_dirpath(&arg).map_err(invalid)?),
            "identifier" => set!(identifier, arg.clone()),
            "childlogdir" => set!(
                childlogdir,
                PathBuf::from(existing_directory(&arg).map_err(invalid)?)
            ),
            "minfds" => set!(minfds, non_negative(&arg).map_err(invalid)?),
            "minprocs" => set!(minprocs, non_negative(&arg).map_err(invalid)?),
            "profile_options" => set!(profile_options, arg.clone()),
            _ => return Err(usage(format!("option {} not recognized", opt))),
        }
    }
    Ok(cli)
}

fn help_text(progname: &str) -> String {
    format!("{}\n", HELP.replace("%s", progname))
}

/// The long name an option string (`-c` or `--configuration`) stands for.
fn canonical(opt: &str) -> &'static str {
    match opt {
        "-h" | "-?" => "help",
        "-c" => "configuration",
        "-v" => "version",
        "-n" => "nodaemon",
        "-u" => "user",
        "-m" => "umask",
        "-d" => "directory",
        "-l" => "logfile",
        "-y" => "logfile_maxbytes",
        "-z" => "logfile_backups",
        "-e" => "loglevel",
        "-j" => "pidfile",
        "-i" => "identifier",
        "-q" => "childlogdir",
        "-a" => "minfds",
        "-k" => "nocleanup",
        "-t" => "strip_ansi",
        "-s" => "silent",
        long => LONG
            .iter()
            .map(|l| l.trim_end_matches('='))
            .find(|l| long.strip_prefix("--") == Some(*l))
            .unwrap_or(""),
    }
}

/// Python's `getopt.getopt(args, SHORT, LONG)`: (option, value) pairs and the rest.
/// getopt's result: (option, value) pairs, then the arguments left over.
type Getopt = (Vec<(String, String)>, Vec<String>);

fn getopt(args: &[String]) -> Result<Getopt, String> {
    let mut opts = Vec::new();
    let mut i = 0;
    while i < args.len() && args[i].starts_with('-') && args[i] != "-" {
        let a = &args[i];
        i += 1;
        if a == "--" {
            break;
        }
        if let Some(long) = a.strip_prefix("--") {
            let (name, inline) = match long.split_once('=') {
                Some((n, v)) => (n, Some(v.to_string())),
                None => (long, None),
            };
            let (has_arg, name) = long_has_args(name)?;
            let value = if has_arg {
                match inline {
                    Some(v) => v,
                    None => {
                        let v = args
                            .get(i)
                            .ok_or_else(|| format!("option --{} requires argument", name))?;
                        i += 1;
                        v.clone()
                    }
                }
            } else if inline.is_some() {
                return Err(format!("option --{} must not have an argument", name));
            } else {
                String::new()
            };
            opts.push((format!("--{}", name), value));
        } else {
            let chars: Vec<char> = a.chars().skip(1).collect();
            let mut j = 0;
            while j < chars.len() {
                let c = chars[j];
                j += 1;
                if short_has_arg(c)? {
                    let value = if j < chars.len() {
                        chars[j..].iter().collect()
                    } else {
                        let v = args
                            .get(i)
                            .ok_or_else(|| format!("option -{} requires argument", c))?;
                        i += 1;
                        v.clone()
                    };
                    opts.push((format!("-{}", c), value));
                    break;
                }
                opts.push((format!("-{}", c), String::new()));
            }
        }
    }
    Ok((opts, args[i..].to_vec()))
}

fn short_has_arg(c: char) -> Result<bool, String> {
    if c != ':'
        && let Some(pos) = SHORT.find(c)
    {
        return Ok(SHORT[pos + c.len_utf8()..].starts_with(':'));
    }
    Err(format!("option -{} not recognized", c))
}

fn long_has_args(name: &str) -> Result<(bool, String), String> {
    let possible: Vec<&str> = LONG
        .iter()
        .copied()
        .filter(|o| o.starts_with(name))
        .collect();
    if possible.is_empty() {
        return Err(format!("option --{} not recognized", name));
    }
    if possible.contains(&name) {
        return Ok((false, name.to_string()));
    }
    if possible.iter().any(|o| o.strip_suffix('=') == Some(name)) {
        return Ok((true, name.to_string()));
    }
    if possible.len() > 1 {
        return Err(format!("option --{} not a unique prefix", name));
    }
    let only = possible[0];
    match only.strip_suffix('=') {
        Some(n) => Ok((true, n.to_string())),
        None => Ok((false, only.to_string())),
    }
}

/// Command-line values override the file's, as in the reference. A `-u` user must exist.
/// Relative `-l`/`-j`/`-q` paths are taken from the current directory.
pub fn apply(cli: &Cli, config: &mut Config) -> Result<(), ConfigError> {
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"));
    apply_in(cli, config, &cwd)
}

fn apply_in(cli: &Cli, config: &mut Config, cwd: &Path) -> Result<(), ConfigError> {
    let s = &mut config.supervisord;
    if let Some(u) = &cli.user {
        name_to_uid(u).map_err(|m| {
            ConfigError::new(
                &config.config_file,
                None,
                Some("user"),
                format!("{} (from -u/--user)", m),
            )
        })?;
        s.user = Some(u.clone());
    }
    if cli.nodaemon == Some(true) {
        s.nodaemon = true;
    }
    if cli.silent == Some(true) {
        s.silent = true;
    }
    if cli.nocleanup == Some(true) {
        s.nocleanup = true;
    }
    if cli.strip_ansi == Some(true) {
        s.strip_ansi = true;
    }
    if let Some(v) = cli.umask {
        s.umask = v;
    }
    if let Some(v) = &cli.directory {
        s.directory = Some(v.clone());
    }
    if let Some(v) = &cli.logfile {
        s.logfile = if v == "syslog" {
            LogTarget::Syslog
        } else {
            LogTarget::Path(normalize_path(v, cwd))
        };
    }
    if let Some(v) = cli.logfile_maxbytes {
        s.logfile_maxbytes = v;
    }
    if let Some(v) = cli.logfile_backups {
        s.logfile_backups = v;
    }
    if let Some(v) = cli.loglevel {
        s.loglevel = v;
    }
    if let Some(v) = &cli.pidfile {
        s.pidfile = normalize_path(v, cwd);
    }
    if let Some(v) = &cli.identifier {
        s.identifier = v.clone();
    }
    if let Some(v) = &cli.childlogdir {
        s.childlogdir = normalize_path(&v.to_string_lossy(), cwd);
    }
    if let Some(v) = cli.minfds {
        s.minfds = v;
    }
    if let Some(v) = cli.minprocs {
        s.minprocs = v;
    }
    Ok(())
}

#[cfg(test)]
mod tests;
