//! The command line, checked before the fork: `command=` split as `shlex.split`, the program
//! found on the PATH and checked to be an executable file, with the reference's `spawnerr`
//! texts; also the check `startProcess` makes before spawning.

use crate::config::model::ProcessConfig;

/// The reference's PATH when the daemon has no (or an empty) `PATH`.
const DEFAULT_PATH: &[&str] = &["/bin", "/usr/bin", "/usr/local/bin"];

/// Splits a command line like Python's `shlex.split(s)` (POSIX mode, no comments): blanks
/// (space, tab, CR, LF) separate words; single quotes are literal; in double quotes a
/// backslash escapes only `"` and `\`; outside quotes a backslash escapes any character;
/// `''` and `""` make (possibly empty) words. Errors are Python's `ValueError` texts.
pub fn split_command(s: &str) -> Result<Vec<String>, &'static str> {
    #[derive(Clone, Copy, PartialEq)]
    enum State {
        Blank,
        Word,
        Quote(char),
        Escape(Option<char>), // the quote the escape appeared in, None outside quotes
    }
    let is_blank = |c: char| matches!(c, ' ' | '\t' | '\r' | '\n');
    let mut words = Vec::new();
    let mut token = String::new();
    let mut quoted = false;
    let mut state = State::Blank;
    for c in s.chars() {
        match state {
            State::Blank => {
                if is_blank(c) {
                    continue;
                } else if c == '\\' {
                    state = State::Escape(None);
                } else if c == '\'' || c == '"' {
                    state = State::Quote(c);
                } else {
                    token.push(c);
                    state = State::Word;
                }
            }
            State::Quote(q) => {
                quoted = true;
                if c == q {
                    state = State::Word;
                } else if c == '\\' && q == '"' {
                    state = State::Escape(Some(q));
                } else {
                    token.push(c);
                }
            }
            State::Escape(within) => {
                if let Some(q) = within
                    && c != q
                    && c != '\\'
                {
                    token.push('\\');
                }
                token.push(c);
                state = match within {
                    Some(q) => State::Quote(q),
                    None => State::Word,
                };
            }
            State::Word => {
                if is_blank(c) {
                    if !token.is_empty() || quoted {
                        words.push(std::mem::take(&mut token));
                    }
                    quoted = false;
                    state = State::Blank;
                } else if c == '\'' || c == '"' {
                    state = State::Quote(c);
                } else if c == '\\' {
                    state = State::Escape(None);
                } else {
                    token.push(c);
                }
            }
        }
    }
    match state {
        State::Quote(_) => return Err("No closing quotation"),
        State::Escape(_) => return Err("No escaped character"),
        State::Word if !token.is_empty() || quoted => words.push(token),
        _ => {}
    }
    Ok(words)
}

/// The reference's `get_execv_args`: splits `command` and finds the file to exec. A program
/// containing `/` is used as is (relative to the daemon's working directory for the checks);
/// otherwise it is searched in `configured_path` (the `PATH` of the program's environment,
/// when set) or the daemon's `PATH`; the first entry that exists wins. Returns
/// `(filename, argv)`; `argv[0]` is the program as written.
pub fn get_execv_args(
    command: &str,
    configured_path: Option<&str>,
) -> Result<(String, Vec<String>), CommandError> {
    let argv = split_command(command).map_err(|e| {
        CommandError::NotExecutable(format!("can't parse command {}: {}", py_repr(command), e))
    })?;
    let program = match argv.first() {
        Some(p) => p.clone(),
        None => return Err(CommandError::NotExecutable("command is empty".to_string())),
    };

    let (filename, meta) = if program.contains('/') {
        let meta = std::fs::metadata(&program).ok();
        (program, meta)
    } else {
        let dirs: Vec<String> = match configured_path {
            Some(p) => p.split(':').map(str::to_string).collect(),
            None => match std::env::var_os("PATH") {
                Some(p) if !p.is_empty() => {
                    p.to_string_lossy().split(':').map(str::to_string).collect()
                }
                _ => DEFAULT_PATH.iter().map(|s| s.to_string()).collect(),
            },
        };
        let mut found = None;
        for dir in &dirs {
            let candidate = path_join(dir, &program);
            if let Ok(meta) = std::fs::metadata(&candidate) {
                found = Some((candidate, meta));
                break;
            }
        }
        match found {
            Some((f, m)) => (f, Some(m)),
            None => (program, None),
        }
    };
    check_execv_args(&filename, meta.as_ref())?;
    Ok((filename, argv))
}

/// Python's `os.path.join(dir, name)` for a `name` without `/`.
fn path_join(dir: &str, name: &str) -> String {
    if dir.is_empty() || dir.ends_with('/') {
        format!("{}{}", dir, name)
    } else {
        format!("{}/{}", dir, name)
    }
}

/// The reference's `check_execv_args`.
fn check_execv_args(filename: &str, meta: Option<&std::fs::Metadata>) -> Result<(), CommandError> {
    use std::os::unix::fs::PermissionsExt;
    let Some(meta) = meta else {
        return Err(CommandError::NotFound(format!(
            "can't find command {}",
            py_repr(filename)
        )));
    };
    if meta.is_dir() {
        return Err(CommandError::NotExecutable(format!(
            "command at {} is a directory",
            py_repr(filename)
        )));
    }
    if meta.permissions().mode() & 0o111 == 0 {
        return Err(CommandError::NotExecutable(format!(
            "command at {} is not executable",
            py_repr(filename)
        )));
    }
    let Ok(c) = CString::new(filename) else {
        return Err(CommandError::NotExecutable(format!(
            "no permission to run command {}",
            py_repr(filename)
        )));
    };
    // SAFETY: valid NUL-terminated path.
    if unsafe { libc::access(c.as_ptr(), libc::X_OK) } != 0 {
        return Err(CommandError::NotExecutable(format!(
            "no permission to run command {}",
            py_repr(filename)
        )));
    }
    Ok(())
}

use std::ffi::CString;

use crate::config::values::py_repr;

/// Why a program's command cannot be run, with the reference's reason text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CommandError {
    /// No such file (on `PATH`, for a bare name).
    NotFound(String),
    /// Anything else: not parseable, empty, a directory, not executable, no permission.
    NotExecutable(String),
}

impl std::fmt::Display for CommandError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CommandError::NotFound(why) | CommandError::NotExecutable(why) => f.write_str(why),
        }
    }
}

/// The check `startProcess` makes before spawning (the reference's `get_execv_args` there).
pub fn check_command(
    config: &ProcessConfig,
    daemon_env: &[(String, String)],
) -> Result<(), CommandError> {
    let configured_path = configured_path(config, daemon_env);
    get_execv_args(&config.command, configured_path.as_deref()).map(|_| ())
}

/// The PATH a command is looked up on: the last `PATH` of the program's `environment=`, else
/// of `[supervisord] environment=` (`daemon_env`); `None` means the daemon's own PATH.
pub(super) fn configured_path(
    config: &ProcessConfig,
    daemon_env: &[(String, String)],
) -> Option<String> {
    config
        .environment
        .iter()
        .rev()
        .chain(daemon_env.iter().rev())
        .find(|(k, _)| k == "PATH")
        .map(|(_, v)| v.clone())
}
