//! The daemon's life cycle, as the reference's `supervisord.main`: load the configuration,
//! drop privileges, set rlimits, open the main log, bind the servers, daemonize, write the
//! pidfile, run the supervisor actor until shutdown, and go round again on a restart
//! (SIGHUP or `supervisor.restart`).

use std::path::PathBuf;

use tokio::sync::mpsc;

use crate::cli::Cli;
use crate::config::{self, Config, LogLevel};
use crate::logs::mainlog::log;
use crate::supervisor::{self, Mood, Msg, Supervisor};

/// Load the config named on the command line (or found by the search order) and apply the
/// command-line overrides.
pub fn load_config(cli: &Cli) -> Result<Config, String> {
    let path: PathBuf = match &cli.configuration {
        Some(p) => p.clone(),
        None => config::find_config_file()?,
    };
    let mut cfg = config::load(&path).map_err(|e| e.to_string())?;
    crate::cli::apply(cli, &mut cfg).map_err(|e| e.to_string())?;
    Ok(cfg)
}

/// Run the daemon; returns the process exit status.
pub fn run(cli: Cli) -> i32 {
    let mut first = true;
    loop {
        let cfg = match load_config(&cli) {
            Ok(c) => c,
            Err(e) => {
                if first {
                    eprint!("{}", crate::cli::usage_text(&cli.progname, &e));
                    return 2;
                }
                // A restart with a broken file: the reference exits too, with the same message
                // on stderr as at start-up.
                log(
                    LogLevel::Critical,
                    &format!("could not reload configuration: {}", e),
                );
                eprint!("{}", crate::cli::usage_text(&cli.progname, &e));
                return 2;
            }
        };
        match run_once(cfg, &cli, first) {
            Ok((Mood::Restarting, _)) => {
                first = false;
                continue;
            }
            Ok((_, code)) => return code,
            Err(code) => return code,
        }
    }
}

/// One generation of the daemon (between restarts).
fn run_once(cfg: Config, cli: &Cli, first: bool) -> Result<(Mood, i32), i32> {
    // Lines logged before the main log is open, as the reference's parse_infos.
    let mut deferred: Vec<(LogLevel, String)> = Vec::new();
    if first {
        match crate::supervisor::privileges::set_uid_or_exit(&cfg) {
            Ok(Some(msg)) => deferred.push((LogLevel::Info, msg)),
            Ok(None) => {}
            Err(e) => {
                eprintln!("Error: {}", e);
                return Err(2);
            }
        }
        match crate::supervisor::rlimits::set_rlimits(
            cfg.supervisord.minfds,
            cfg.supervisord.minprocs,
        ) {
            Ok(msgs) => {
                for m in msgs {
                    deferred.push((LogLevel::Info, m));
                }
            }
            Err(e) => {
                eprintln!("Error: {}", e);
                return Err(2);
            }
        }
    }
    // Beyond the reference: the descriptors the processes need, weighed before anything starts.
    let echo = cfg.supervisord.loglevel >= LogLevel::Debug;
    match crate::supervisor::rlimits::fit_descriptors(&cfg.groups, echo) {
        Ok(lines) => deferred.extend(lines),
        Err(e) if first => {
            eprintln!("Error: {}", e);
            return Err(2);
        }
        Err(e) => deferred.push((LogLevel::Warn, e)),
    }
    let to_stdout = cfg.supervisord.nodaemon && !cfg.supervisord.silent;
    if let Err(e) = crate::logs::mainlog::init(&cfg.supervisord, to_stdout) {
        eprintln!("Error: {}", e);
        return Err(2);
    }
    for (level, msg) in deferred {
        log(level, &msg);
    }
    if cfg.supervisord.user.is_none() && nix::unistd::geteuid().is_root() {
        log(
            LogLevel::Critical,
            "Supervisor is running as root.  Privileges were not dropped because no user is specified in the config file.  If you intend to run as root, you can set user=root in the config file to avoid this message.",
        );
    }
    for f in &cfg.included_files {
        log(
            LogLevel::Info,
            &format!("Included extra file \"{}\" during parsing", f.display()),
        );
    }
    for w in &cfg.warnings {
        log(LogLevel::Warn, w);
    }
    if !cfg.supervisord.nocleanup {
        crate::logs::capture::clean_auto_child_logs(
            &cfg.supervisord.childlogdir,
            &cfg.supervisord.identifier,
        );
    }
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("Error: cannot start the runtime: {}", e);
            return Err(2);
        }
    };
    let mood = rt.block_on(async move { serve(cfg, cli, first).await });
    drop(rt);
    mood
}

async fn serve(cfg: Config, cli: &Cli, first: bool) -> Result<(Mood, i32), i32> {
    let (tx, rx) = mpsc::unbounded_channel::<Msg>();
    let handle = supervisor::SupervisorHandle::new(tx.clone());
    // The groups are made before the servers open, as the reference's `run` (an fcgi group
    // checks its socket then).
    let mut sup = Supervisor::new(cfg.clone());
    let servers = match crate::http::server::start(&cfg, handle.clone()).await {
        Ok(s) => s,
        Err(e) => {
            log(LogLevel::Critical, &e);
            eprint!("{}", crate::cli::usage_text(&cli.progname, &e));
            return Err(2);
        }
    };
    // The reference logs, per server (inet first, then unix), that the RPC interface is ready
    // and, without credentials, a CRIT warning.
    let names = [
        cfg.inet_http_server.as_ref().map(|_| "inet_http_server"),
        cfg.unix_http_server.as_ref().map(|_| "unix_http_server"),
    ];
    for name in names.into_iter().flatten() {
        log(LogLevel::Info, "RPC interface 'supervisor' initialized");
        for w in servers.warnings.iter().filter(|w| w.contains(name)) {
            log(LogLevel::Critical, w);
        }
    }
    // Daemonize after binding, so a port in use is reported on the terminal. Nothing so far
    // has made a thread (current-thread runtime, blocking pool unused), so the fork copies
    // the only one; `daemonize` refuses otherwise rather than leave a runtime that never drops.
    if !cfg.supervisord.nodaemon
        && first
        && let Err(e) = crate::supervisor::daemonize::daemonize(&cfg)
    {
        log(LogLevel::Critical, &e);
        return Err(2);
    }
    write_pidfile(&cfg);
    let _reaper = supervisor::reaper::spawn_reaper(tx.clone());
    let _signals = supervisor::signals::spawn_signal_task(tx.clone());
    let pidfile = cfg.supervisord.pidfile.clone();
    sup.set_cli(cli.clone());
    // The actor owns its own copy from here on.
    drop(cfg);
    let outcome = supervisor::run(sup, tx, rx).await;
    drop(servers);
    let _ = std::fs::remove_file(&pidfile);
    Ok(outcome)
}

fn write_pidfile(cfg: &Config) {
    let pid = std::process::id();
    match std::fs::write(&cfg.supervisord.pidfile, format!("{}\n", pid)) {
        Ok(()) => log(
            LogLevel::Info,
            &format!("supervisord started with pid {}", pid),
        ),
        Err(_) => log(
            LogLevel::Critical,
            &format!(
                "could not write pidfile {}",
                cfg.supervisord.pidfile.display()
            ),
        ),
    }
}
