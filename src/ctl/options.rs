//! The command line, as the stock client's `ClientOptions.realize` reads it: Python's
//! `getopt` (options stop at the first argument; clustered short options; unique prefixes of
//! long ones; its error texts), each option at most once, `-s` checked as a URL, `-h`/`-?`
//! printing the usage text, then the config file (given by `-c` or searched for, see
//! [`super::config`]) for what the command line left unset.
//!
//! One deliberate difference: the stock client accepts `-r FILE` but never uses it (its
//! value lands in an attribute nothing reads); ours keeps the history in that file. The
//! documented long form `--history-file` is accepted beside the stock `--history_file`.

use std::path::PathBuf;

use super::config;
use crate::config::values::py_repr;

/// The usage text (`-h`); `%s` is the program's path as run.
const DOC: &str = "supervisorctl -- control applications run by supervisord from the cmd line.

Usage: %s [options] [action [arguments]]

Options:
-c/--configuration FILENAME -- configuration file path (searches if not given)
-h/--help -- print usage message and exit
-i/--interactive -- start an interactive shell after executing commands
-s/--serverurl URL -- URL on which supervisord server is listening
     (default \"http://localhost:9001\").
-u/--username USERNAME -- username to use for authentication with server
-p/--password PASSWORD -- password to use for authentication with server
-r/--history-file -- keep a readline history (if readline is available)

action [arguments] -- see below

Actions are commands like \"tail\" or \"stop\".  If -i is specified or no action is
specified on the command line, a \"shell\" interpreting actions typed
interactively is started.  Use the action \"help\" to find out about available
actions.
";

/// A `[ctlplugin:x]` section: a Python plugin this client cannot load.
#[derive(Clone, Debug, PartialEq)]
pub struct Plugin {
    pub name: String,
    pub factory: String,
}

/// Everything the command line and the config file decided.
#[derive(Clone, Debug, PartialEq)]
pub struct Options {
    /// `sys.argv[0]` as Python would see it (the path the program was found at).
    pub progname: String,
    pub interactive: bool,
    pub prompt: String,
    pub serverurl: String,
    pub username: Option<String>,
    pub password: Option<String>,
    pub history_file: Option<PathBuf>,
    pub plugins: Vec<Plugin>,
    /// The action and its arguments.
    pub args: Vec<String>,
}

/// How the program ends before any command runs.
#[derive(Debug, PartialEq)]
pub enum Exit {
    /// `-h`: the usage text on stdout, status 0.
    Help(String),
    /// `usage()`: `Error: ...` and the `For help` line on stderr, status 2.
    Usage { message: String, progname: String },
    /// An uncaught Python exception in the stock client: its last line on stderr, status 1.
    Crash(String),
}

impl Exit {
    pub fn report(&self) -> i32 {
        match self {
            Exit::Help(text) => {
                super::controller::write_stdout(text.as_bytes());
                0
            }
            Exit::Usage { message, progname } => {
                super::controller::write_stderr(
                    format!("Error: {}\nFor help, use {} -h\n", message, progname).as_bytes(),
                );
                2
            }
            Exit::Crash(text) => {
                super::controller::write_stderr(format!("{}\n", text).as_bytes());
                1
            }
        }
    }
}

/// One option as getopt returns it: its key (`-c`, `--configuration`) and value.
type Opt = (String, String);

const SHORT: &str = "h?c:is:u:p:r:";
const LONG: &[&str] = &[
    "help",
    "configuration=",
    "interactive",
    "serverurl=",
    "username=",
    "password=",
    "history_file=",
    "history-file=",
];

/// Python's `getopt.getopt(args, SHORT, LONG)`.
fn getopt(mut args: &[String]) -> Result<(Vec<Opt>, Vec<String>), String> {
    let mut opts = Vec::new();
    while let Some(first) = args.first() {
        if !first.starts_with('-') || first == "-" {
            break;
        }
        if first == "--" {
            args = &args[1..];
            break;
        }
        if let Some(long) = first.strip_prefix("--") {
            let (name, value) = match long.split_once('=') {
                Some((n, v)) => (n, Some(v.to_string())),
                None => (long, None),
            };
            let (has_arg, full) = long_has_arg(name)?;
            let value = if has_arg {
                match value {
                    Some(v) => v,
                    None => {
                        let Some(v) = args.get(1) else {
                            return Err(format!("option --{} requires argument", full));
                        };
                        args = &args[1..];
                        v.clone()
                    }
                }
            } else if value.is_some() {
                return Err(format!("option --{} must not have an argument", full));
            } else {
                String::new()
            };
            opts.push((format!("--{}", full), value));
            args = &args[1..];
        } else {
            let mut rest: Vec<char> = first[1..].chars().collect();
            args = &args[1..];
            while !rest.is_empty() {
                let c = rest.remove(0);
                let has_arg = short_has_arg(c)?;
                let value = if has_arg {
                    if rest.is_empty() {
                        let Some(v) = args.first() else {
                            return Err(format!("option -{} requires argument", c));
                        };
                        args = &args[1..];
                        v.clone()
                    } else {
                        std::mem::take(&mut rest).into_iter().collect()
                    }
                } else {
                    String::new()
                };
                opts.push((format!("-{}", c), value));
            }
        }
    }
    Ok((opts, args.to_vec()))
}

fn short_has_arg(c: char) -> Result<bool, String> {
    let spec: Vec<char> = SHORT.chars().collect();
    for (i, &s) in spec.iter().enumerate() {
        if s == c && s != ':' {
            return Ok(spec.get(i + 1) == Some(&':'));
        }
    }
    Err(format!("option -{} not recognized", c))
}

fn long_has_arg(name: &str) -> Result<(bool, String), String> {
    let matches: Vec<&str> = LONG
        .iter()
        .copied()
        .filter(|o| o.starts_with(name))
        .collect();
    if matches.is_empty() {
        return Err(format!("option --{} not recognized", name));
    }
    if matches.contains(&name) {
        return Ok((false, name.to_string()));
    }
    if matches.contains(&format!("{}=", name).as_str()) {
        return Ok((true, name.to_string()));
    }
    // `--history` matches both spellings of the same option
    let distinct: Vec<&str> = matches
        .iter()
        .copied()
        .filter(|m| *m != "history-file=" || !matches.contains(&"history_file="))
        .collect();
    if distinct.len() > 1 {
        return Err(format!("option --{} not a unique prefix", name));
    }
    let m = distinct[0];
    Ok(match m.strip_suffix('=') {
        Some(n) => (true, n.to_string()),
        None => (false, m.to_string()),
    })
}

/// The option's attribute, as `ClientOptions.add` maps it.
fn attribute(key: &str) -> &'static str {
    match key {
        "-h" | "-?" | "--help" => "help",
        "-c" | "--configuration" => "configfile",
        "-i" | "--interactive" => "interactive",
        "-s" | "--serverurl" => "serverurl",
        "-u" | "--username" => "username",
        "-p" | "--password" => "password",
        _ => "history",
    }
}

/// `sys.argv[0]` of a Python console script: the path the program was run from (a bare
/// name is looked up on `PATH`, as the kernel did to start the script's interpreter).
pub fn progname(argv0: &str) -> String {
    if argv0.contains('/') {
        return argv0.to_string();
    }
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            let candidate = dir.join(argv0);
            if candidate.is_file() {
                return candidate.to_string_lossy().into_owned();
            }
        }
    }
    std::env::current_exe()
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_else(|_| argv0.to_string())
}

/// Read the command line (without the program name) and the config file.
pub fn realize(progname: String, args: &[String]) -> Result<Options, Exit> {
    let usage = |message: String| Exit::Usage {
        message,
        progname: progname.clone(),
    };
    let (opts, rest) = getopt(args).map_err(usage)?;

    let mut configfile: Option<String> = None;
    let mut interactive = false;
    let mut serverurl: Option<String> = None;
    let mut username: Option<String> = None;
    let mut password: Option<String> = None;
    let mut history: Option<String> = None;
    for (key, value) in opts {
        let slot = match attribute(&key) {
            "help" => return Err(Exit::Help(DOC.replace("%s", &progname) + "\n")),
            "interactive" => {
                if interactive {
                    return Err(usage(format!(
                        "conflicting command line option {}",
                        py_repr(&key)
                    )));
                }
                interactive = true;
                continue;
            }
            "configfile" => &mut configfile,
            "serverurl" => {
                if let Err(m) = super::url::check_url(&value) {
                    return Err(usage(format!(
                        "invalid value for {} {}: {}",
                        key,
                        py_repr(&value),
                        m
                    )));
                }
                &mut serverurl
            }
            "username" => &mut username,
            "password" => &mut password,
            _ => &mut history,
        };
        if slot.is_some() {
            return Err(usage(format!(
                "conflicting command line option {}",
                py_repr(&key)
            )));
        }
        *slot = Some(value);
    }

    let file = match configfile {
        Some(path) => Some(path),
        None => config::search(&progname),
    };
    let section = match &file {
        Some(path) => config::read(path).map_err(|e| match e {
            config::Error::Usage(m) => usage(m),
            config::Error::Crash(m) => Exit::Crash(m),
        })?,
        None => config::Section::default(),
    };

    Ok(Options {
        interactive: interactive || rest.is_empty(),
        prompt: section.prompt.unwrap_or_else(|| "supervisor".into()),
        serverurl: serverurl
            .or(section.serverurl)
            .unwrap_or_else(|| "http://localhost:9001".into()),
        username: username.or(section.username),
        password: password.or(section.password),
        history_file: history.map(PathBuf::from).or(section.history_file),
        plugins: section.plugins,
        args: rest,
        progname,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn getopt_like_python() {
        let (o, r) = getopt(&s(&["-ic", "x.conf", "status", "-s"])).unwrap();
        assert_eq!(
            o,
            vec![("-i".into(), "".into()), ("-c".into(), "x.conf".into())]
        );
        assert_eq!(r, s(&["status", "-s"]));
        let (o, _) = getopt(&s(&["--conf=a", "--serv", "u", "--history", "h"])).unwrap();
        assert_eq!(o[0], ("--configuration".into(), "a".into()));
        assert_eq!(o[1], ("--serverurl".into(), "u".into()));
        assert_eq!(o[2], ("--history_file".into(), "h".into()));
        assert_eq!(getopt(&s(&["-x"])).unwrap_err(), "option -x not recognized");
        assert_eq!(
            getopt(&s(&["-c"])).unwrap_err(),
            "option -c requires argument"
        );
        assert_eq!(
            getopt(&s(&["--conf"])).unwrap_err(),
            "option --configuration requires argument"
        );
        assert_eq!(
            getopt(&s(&["--interactive=1"])).unwrap_err(),
            "option --interactive must not have an argument"
        );
        assert_eq!(
            getopt(&s(&["--x"])).unwrap_err(),
            "option --x not recognized"
        );
        assert_eq!(
            getopt(&s(&["--h"])).unwrap_err(),
            "option --h not a unique prefix"
        );
        let (o, r) = getopt(&s(&["--", "-c"])).unwrap();
        assert!(o.is_empty());
        assert_eq!(r, s(&["-c"]));
    }

    #[test]
    fn option_errors() {
        let p = "/bin/supervisorctl".to_string();
        let e = realize(p.clone(), &s(&["-c", "/nonexistent/x", "-c", "y"])).unwrap_err();
        assert_eq!(
            e,
            Exit::Usage {
                message: "conflicting command line option '-c'".into(),
                progname: p.clone()
            }
        );
        let e = realize(p.clone(), &s(&["-s", "foo"])).unwrap_err();
        assert!(matches!(e, Exit::Usage { message, .. }
            if message == "invalid value for -s 'foo': value 'foo' is not a URL"));
        let e = realize(p.clone(), &s(&["-h", "-s", "foo"])).unwrap_err();
        assert!(matches!(e, Exit::Help(t) if t.contains("Usage: /bin/supervisorctl [options]")));
    }
}
