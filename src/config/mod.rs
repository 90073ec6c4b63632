//! Configuration: finding, reading and validating `supervisord.conf` in supervisor 4.2.5's
//! dialect. [`load()`] is the one entry point; it returns a typed [`Config`] or a
//! [`ConfigError`] that names the file, the section and the key. [`find_config_file`] is the
//! reference's search when `-c` is not given.
//!
//! Layout: `ini` (the INI dialect), `expand` (`%(name)s`), `values` (option value types),
//! `load` (sections → model: the loader and its helpers, with a file per kind of section
//! under `load/`: supervisord, servers, includes, groups, programs, listeners, fcgi),
//! `model` (the typed result).

pub mod deps;
pub mod expand;
pub mod ini;
pub mod load;
pub mod model;
pub mod pyfloat;
mod pyprintable;
mod pyrepr;
pub mod values;

pub use load::{Context, load_with};
pub use model::*;

use std::fmt;
use std::path::{Path, PathBuf};

/// A rejected configuration: exit status 2, nothing started; or a `CANT_REREAD` fault.
///
/// The policy for every message: the reference's text first, byte for byte (scripts and
/// users grep it), then what we add (section, file, key) after it on the same line.
/// [`ConfigError::reference_text`] is the reference's text alone, as XML-RPC faults carry it;
/// `Display` adds ours:
/// `value 'FOO' is not a valid signal name in section 'program:x' (file:
/// '/abs/supervisord.conf') (key: 'stopsignal')`, where the reference stops before
/// ` (key: ...)`; `[group:g] names unknown program or fcgi-program x in section 'group:g'
/// (file: '...') (key: 'programs')`, where it stops before ` in section`. The caller adds the
/// `Error: ` prefix and the reference's `For help, use supervisord -h` line (see
/// `cli::usage_text`).
///
/// Boxed (a `Result` carrying it stays one word wide); its fields read through `Deref`.
#[derive(Clone, Debug, PartialEq)]
pub struct ConfigError(Box<ConfigErrorDetail>);

/// What a [`ConfigError`] says.
#[derive(Clone, Debug, PartialEq)]
pub struct ConfigErrorDetail {
    /// The file, as the reference names it (the main file as given with `-c`).
    pub file: PathBuf,
    pub section: Option<String>,
    pub key: Option<String>,
    pub message: String,
    /// The reference ends this message with ` in section 'x' (file: 'f')` itself (errors of a
    /// program's own keys); otherwise that is ours, added after its text.
    pub in_section: bool,
    /// The message is ours alone and says everything: nothing is added to it.
    pub complete: bool,
    /// Ours: what would be accepted, shown in parentheses after the reference's text.
    pub hint: Option<String>,
}

impl ConfigError {
    pub fn new(file: &Path, section: Option<&str>, key: Option<&str>, message: String) -> Self {
        ConfigError(Box::new(ConfigErrorDetail {
            file: file.to_path_buf(),
            section: section.map(str::to_string),
            key: key.map(str::to_string),
            message,
            in_section: false,
            complete: false,
            hint: None,
        }))
    }

    pub fn with_hint(mut self, hint: String) -> Self {
        self.hint = Some(hint);
        self
    }

    /// The message as the reference words it (its `in section` suffix included), without
    /// our additions: the text of a `CANT_REREAD` fault.
    pub fn reference_text(&self) -> String {
        match (&self.section, self.in_section) {
            (Some(s), true) => format!(
                "{} in section {} (file: {})",
                self.message,
                values::py_repr(s),
                values::py_repr(&self.file.to_string_lossy())
            ),
            _ => self.message.clone(),
        }
    }
}

impl std::ops::Deref for ConfigError {
    type Target = ConfigErrorDetail;
    fn deref(&self) -> &ConfigErrorDetail {
        &self.0
    }
}

impl std::ops::DerefMut for ConfigError {
    fn deref_mut(&mut self) -> &mut ConfigErrorDetail {
        &mut self.0
    }
}

impl fmt::Display for ConfigError {
    /// [`ConfigError::reference_text`], then the section and the file when the reference does
    /// not name them, then the key when the message does not: `(key: 'stopsignal')`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.reference_text())?;
        if self.complete {
            return Ok(());
        }
        if let Some(h) = &self.hint {
            write!(f, " ({})", h)?;
        }
        if !self.in_section {
            if let Some(s) = &self.section {
                write!(f, " in section {}", values::py_repr(s))?;
            }
            let file = self.file.to_string_lossy();
            if !self.message.contains(&*file) {
                write!(f, " (file: {})", values::py_repr(&file))?;
            }
        }
        match &self.key {
            Some(k) if !self.message.contains(&format!("'{}'", k)) => write!(f, " (key: '{}')", k),
            _ => Ok(()),
        }
    }
}

impl std::error::Error for ConfigError {}

/// Read, expand and validate the configuration at `path` (relative paths are taken from the
/// current directory), with the daemon's own environment for `%(ENV_X)s`.
pub fn load(path: &Path) -> Result<Config, ConfigError> {
    load_with(path, &Context::from_process())
}

/// The reference's search order when `-c` is absent: `../etc/supervisord.conf` and
/// `../supervisord.conf` next to the executable, then `supervisord.conf`,
/// `etc/supervisord.conf` (both relative to the current directory),
/// `/etc/supervisord.conf`, `/etc/supervisor/supervisord.conf`. The first that exists wins.
///
/// As the reference does, running as root prints a `UserWarning` about searching on stderr.
/// The error is the reference's text (print it through `cli::usage_text`).
pub fn find_config_file() -> Result<PathBuf, String> {
    // SAFETY: getuid has no preconditions.
    if unsafe { libc::getuid() } == 0 {
        eprintln!(
            "UserWarning: Supervisord is running as root and it is searching for its \
             configuration file in default locations (including its current working directory); \
             you probably want to specify a \"-c\" argument specifying an absolute path to a \
             configuration file for improved security."
        );
    }
    let paths = search_paths(&executable_path());
    paths
        .iter()
        .find(|p| Path::new(p).exists())
        .map(PathBuf::from)
        .ok_or_else(|| {
            format!(
                "No config file found at default paths ({}); use the -c option to specify a \
                 config file at a different path",
                paths.join(", ")
            )
        })
}

/// `argv[0]` when it names a path (as Python's `sys.argv[0]` does), else the resolved executable.
fn executable_path() -> String {
    let argv0 = std::env::args_os()
        .next()
        .map(|a| a.to_string_lossy().into_owned());
    match argv0 {
        Some(a) if a.contains('/') => a,
        _ => std::env::current_exe()
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or_default(),
    }
}

/// The candidate paths, in order, for an executable at `exe`.
pub fn search_paths(exe: &str) -> Vec<String> {
    let here = values::dirname(values::dirname(exe));
    let join = |tail: &str| {
        if here.is_empty() {
            tail.to_string()
        } else if here.ends_with('/') {
            format!("{}{}", here, tail)
        } else {
            format!("{}/{}", here, tail)
        }
    };
    vec![
        join("etc/supervisord.conf"),
        join("supervisord.conf"),
        "supervisord.conf".into(),
        "etc/supervisord.conf".into(),
        "/etc/supervisord.conf".into(),
        "/etc/supervisor/supervisord.conf".into(),
    ]
}

#[cfg(test)]
mod tests;
