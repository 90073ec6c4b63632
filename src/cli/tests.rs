//! The command line as the reference parses it.

use super::*;

fn p(args: &[&str]) -> Result<Cli, CliExit> {
    let mut v = vec!["supervisord"];
    v.extend_from_slice(args);
    parse(v)
}

fn usage_msg(args: &[&str]) -> String {
    match p(args) {
        Err(CliExit::Usage(t)) => {
            let first = t.lines().next().unwrap_or("").to_string();
            assert!(t.ends_with("\nFor help, use supervisord -h\n"), "{}", t);
            first
        }
        other => panic!("expected a usage error, got {:?}", other),
    }
}

#[test]
fn flags_and_values() {
    let c = p(&[
        "-c",
        "x.conf",
        "-n",
        "-s",
        "-k",
        "-t",
        "-m",
        "002",
        "-y",
        "1KB",
        "-z",
        "3",
        "-e",
        "debug",
        "-i",
        "me",
        "-a",
        "2048",
        "--minprocs",
        "300",
    ])
    .unwrap();
    assert_eq!(c.configuration, Some(PathBuf::from("x.conf")));
    assert_eq!(
        (c.nodaemon, c.silent, c.nocleanup, c.strip_ansi),
        (Some(true), Some(true), Some(true), Some(true))
    );
    assert_eq!(c.umask, Some(0o2));
    assert_eq!(c.logfile_maxbytes, Some(1024));
    assert_eq!(c.logfile_backups, Some(3));
    assert_eq!(c.loglevel, Some(LogLevel::Debug));
    assert_eq!(c.identifier.as_deref(), Some("me"));
    assert_eq!((c.minfds, c.minprocs), (Some(2048), Some(300)));
}

#[test]
fn getopt_forms() {
    assert_eq!(
        p(&["-nccfg"]).unwrap().configuration,
        Some(PathBuf::from("cfg"))
    );
    assert_eq!(
        p(&["--configuration=a"]).unwrap().configuration,
        Some(PathBuf::from("a"))
    );
    assert_eq!(
        p(&["--config", "a"]).unwrap().configuration,
        Some(PathBuf::from("a"))
    );
    assert_eq!(p(&["--nod"]).unwrap().nodaemon, Some(true));
    assert_eq!(
        p(&["--", "-n"]).map(|_| ()).map_err(|e| e.exit_code()),
        Err(2)
    );
    assert_eq!(
        p(&[]).unwrap(),
        Cli {
            progname: "supervisord".into(),
            ..Cli::default()
        }
    );
}

#[test]
fn errors_like_the_reference() {
    assert_eq!(usage_msg(&["-x"]), "Error: option -x not recognized");
    assert_eq!(
        usage_msg(&["--bogus"]),
        "Error: option --bogus not recognized"
    );
    assert_eq!(
        usage_msg(&["--log", "x"]),
        "Error: option --log not a unique prefix"
    );
    assert_eq!(usage_msg(&["-c"]), "Error: option -c requires argument");
    assert_eq!(
        usage_msg(&["--configuration"]),
        "Error: option --configuration requires argument"
    );
    assert_eq!(
        usage_msg(&["--nodaemon=1"]),
        "Error: option --nodaemon must not have an argument"
    );
    assert_eq!(
        usage_msg(&["foo"]),
        "Error: positional arguments are not supported: ['foo']"
    );
    assert_eq!(
        usage_msg(&["-c", "a", "-c", "b"]),
        "Error: conflicting command line option '-c'"
    );
    assert_eq!(
        usage_msg(&["-n", "--nodaemon"]),
        "Error: conflicting command line option '--nodaemon'"
    );
    assert_eq!(
        usage_msg(&["-m", "9"]),
        "Error: invalid value for -m '9': 9 can not be converted to an octal type"
    );
    assert_eq!(
        usage_msg(&["--minfds", "lots"]),
        "Error: invalid value for --minfds 'lots': invalid literal for int() with base 10: 'lots'"
    );
    assert_eq!(
        usage_msg(&["-e", "loud"]),
        "Error: invalid value for -e 'loud': bad logging level name 'loud'"
    );
}

#[test]
fn help_and_version() {
    match p(&["-h"]) {
        Err(e @ CliExit::Help(_)) => {
            assert_eq!(e.exit_code(), 0);
            let CliExit::Help(t) = e else { unreachable!() };
            assert!(t.contains("Usage: supervisord [options]"));
            assert!(t.contains("-c/--configuration FILENAME -- configuration file path"));
            assert!(t.contains("--minprocs NUM"));
        }
        other => panic!("{:?}", other),
    }
    assert_eq!(p(&["-v"]), Err(CliExit::Version("4.2.5\n".into())));
    assert_eq!(p(&["--version"]), Err(CliExit::Version("4.2.5\n".into())));
    // options act in order: an earlier conflict wins over a later -h
    assert!(matches!(p(&["-n", "-n", "-h"]), Err(CliExit::Usage(_))));
    assert!(matches!(p(&["-?"]), Err(CliExit::Help(_))));
}

#[test]
fn apply_overrides_the_file() {
    let mut config = Config {
        config_file: PathBuf::from("/etc/supervisord.conf"),
        supervisord: crate::config::SupervisordConfig {
            logfile: LogTarget::Path("/var/log/s.log".into()),
            logfile_maxbytes: 1,
            logfile_backups: 1,
            loglevel: LogLevel::Info,
            pidfile: "/run/s.pid".into(),
            umask: 0o22,
            nodaemon: false,
            silent: false,
            minfds: 1024,
            minprocs: 200,
            nocleanup: false,
            childlogdir: "/tmp".into(),
            user: None,
            directory: None,
            strip_ansi: false,
            environment: vec![],
            identifier: "supervisor".into(),
            exit_on_fatal: false,
            memory_check_interval: 5,
            logformat: Default::default(),
        },
        unix_http_server: None,
        inet_http_server: None,
        supervisorctl: Default::default(),
        groups: vec![],
        warnings: vec![],
        included_files: vec![],
    };
    let cli = p(&[
        "-n", "-l", "rel.log", "-j", "syslog", "-e", "warn", "-i", "x",
    ])
    .unwrap();
    apply_in(&cli, &mut config, Path::new("/srv/app")).unwrap();
    let s = &config.supervisord;
    assert!(s.nodaemon);
    assert_eq!(s.logfile, LogTarget::Path("/srv/app/rel.log".into()));
    assert_eq!(s.pidfile, PathBuf::from("/srv/app/syslog"));
    assert_eq!(s.loglevel, LogLevel::Warn);
    assert_eq!(s.identifier, "x");
    let cli = p(&["-l", "syslog", "-u", "no-such-user-here"]).unwrap();
    let e = apply_in(&cli, &mut config, Path::new("/srv/app")).unwrap_err();
    assert_eq!(e.key.as_deref(), Some("user"));
    assert!(e.message.starts_with("Invalid user name no-such-user-here"));
}
