//! The daemon's `minfds` / `minprocs` checks at startup (the reference's
//! `set_rlimits_or_exit`): raise RLIMIT_NOFILE and RLIMIT_NPROC to at least those values,
//! or fail with the reference's explanation.
//!
//! Beyond the reference, [`fit_descriptors`]: the descriptors the configured processes need
//! (up to three pipe ends and two log files each, counted by [`descriptors`]) are weighed
//! against RLIMIT_NOFILE before anything starts. The soft limit is raised to cover them (the
//! hard one too, when root may); when even the hard limit cannot hold the processes that start
//! on their own, the daemon refuses to start with a message naming the limit, instead of
//! failing spawns with EMFILE halfway through its start-up.

use crate::config::deps::Check;
use crate::config::model::GroupKind;
use crate::config::{GroupConfig, LogLevel, LogTarget, ProcessConfig};

/// Raises the soft (and if needed hard) limits. Returns the reference's INFO lines
/// (`Increased RLIMIT_NOFILE limit to 1024`) or, when a limit can't be raised, the
/// reference's error text (which it prints as a usage error and exits 2).
pub fn set_rlimits(minfds: u64, minprocs: u64) -> Result<Vec<String>, String> {
    let limits: [(libc::__rlimit_resource_t, &str, u64, &str); 2] = [
        (
            libc::RLIMIT_NOFILE,
            "RLIMIT_NOFILE",
            minfds,
            "The minimum number of file descriptors required to run this process is \
             {min_limit} as per the \"minfds\" command-line argument or config file setting. \
             The current environment will only allow you to open {hard} file descriptors.  \
             Either raise the number of usable file descriptors in your environment (see \
             README.rst) or lower the minfds setting in the config file to allow the process \
             to start.",
        ),
        (
            libc::RLIMIT_NPROC,
            "RLIMIT_NPROC",
            minprocs,
            "The minimum number of available processes required to run this program is \
             {min_limit} as per the \"minprocs\" command-line argument or config file setting. \
             The current environment will only allow you to open {hard} processes.  Either \
             raise the number of usable processes in your environment (see README.rst) or \
             lower the minprocs setting in the config file to allow the program to start.",
        ),
    ];
    let mut infos = Vec::new();
    for (resource, name, min_limit, msg) in limits {
        let mut rl = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: rl is a valid out-parameter.
        if unsafe { libc::getrlimit(resource, &mut rl) } != 0 {
            continue;
        }
        let soft = rl.rlim_cur;
        let mut hard = rl.rlim_max;
        if soft < min_limit && soft != libc::RLIM_INFINITY {
            if hard < min_limit && hard != libc::RLIM_INFINITY {
                // Raising the hard limit works when root; otherwise setrlimit fails below.
                hard = min_limit;
            }
            let new = libc::rlimit {
                rlim_cur: min_limit,
                rlim_max: hard,
            };
            // SAFETY: new is a valid rlimit.
            if unsafe { libc::setrlimit(resource, &new) } == 0 {
                infos.push(format!("Increased {} limit to {}", name, min_limit));
            } else {
                // As the reference, `hard` here is the value we tried to set.
                let hard_text = if hard == libc::RLIM_INFINITY {
                    "-1".to_string()
                } else {
                    hard.to_string()
                };
                return Err(msg
                    .replace("{min_limit}", &min_limit.to_string())
                    .replace("{hard}", &hard_text));
            }
        }
    }
    Ok(infos)
}

/// The daemon's own descriptors besides its processes' (17 measured: standard streams, the main
/// log, the event loop, its servers, `/dev/null` and the three spawn slots): what the
/// autostart processes are weighed with.
pub const DAEMON_DESCRIPTORS: u64 = 20;
/// Room for clients' connections and probes, in the limit the daemon raises itself to.
pub const HEADROOM: u64 = 48;

/// Descriptors the daemon holds while one process runs: its pipe ends (stdin, then stdout and,
/// unless `redirect_stderr`, stderr, each unless
/// [discarded](ProcessConfig::discarded_output) into `/dev/null`), its log files, and a `notify` check's socket. `listener`: an event listener,
/// whose stdout is always read; `echo`: the main log echoes output (`loglevel` debug or trace).
pub fn descriptors(p: &ProcessConfig, listener: bool, echo: bool) -> u64 {
    let file = |t: &LogTarget| u64::from(matches!(t, LogTarget::Auto | LogTarget::Path(_)));
    let (no_stdout, no_stderr) = p.discarded_output(listener, echo);
    let stdout = u64::from(!no_stdout);
    let stderr = u64::from(!p.redirect_stderr && !no_stderr);
    let notify = [&p.deps.ready_check, &p.deps.health_check]
        .iter()
        .any(|c| matches!(c, Some(Check::Notify)));
    1 + stdout + stderr + file(&p.stdout.logfile) + file(&p.stderr.logfile) + u64::from(notify)
}

/// What the processes of `groups` need: (processes that start on their own, descriptors for
/// them and the daemon; all processes, descriptors for all of them, the daemon and headroom).
pub fn need(groups: &[GroupConfig], echo: bool) -> (u64, u64, u64, u64) {
    let (mut auto_n, mut auto_fds, mut all_n, mut all_fds) = (0, DAEMON_DESCRIPTORS, 0, 0);
    for g in groups {
        let listener = matches!(g.kind, GroupKind::EventListener(_));
        for p in &g.processes {
            let d = descriptors(p, listener, echo);
            all_n += 1;
            all_fds += d;
            if p.autostart {
                auto_n += 1;
                auto_fds += d;
            }
        }
    }
    (
        auto_n,
        auto_fds,
        all_n,
        all_fds + DAEMON_DESCRIPTORS + HEADROOM,
    )
}

/// What to do about RLIMIT_NOFILE (`soft`, `hard`; `None`: unlimited).
#[derive(Debug, PartialEq, Eq)]
pub enum Fit {
    /// The soft limit covers every process.
    Enough,
    /// Raise the limits to (soft, hard).
    Raise(u64, Option<u64>),
}

/// The pure rule: raise the soft limit to what every process needs, within the hard limit;
/// the hard limit as well only when the autostart processes need more than it holds (root
/// may; if not, the caller fails).
pub fn fit(soft: Option<u64>, hard: Option<u64>, need_auto: u64, need_all: u64) -> Fit {
    let covers = |limit: Option<u64>, n: u64| limit.is_none_or(|l| l >= n);
    if covers(soft, need_all) {
        return Fit::Enough;
    }
    if covers(hard, need_all) {
        return Fit::Raise(need_all, hard);
    }
    if covers(hard, need_auto) {
        // All that the hard limit holds: the autostart processes fit, not every process.
        let h = hard.unwrap_or(need_all);
        return if covers(soft, h) {
            Fit::Enough
        } else {
            Fit::Raise(h, hard)
        };
    }
    Fit::Raise(need_all, Some(need_all))
}

fn limit(v: libc::rlim_t) -> Option<u64> {
    (v != libc::RLIM_INFINITY).then_some(v)
}

/// Weigh the descriptors the processes of `groups` need against RLIMIT_NOFILE and raise it as
/// [`fit`] says. Returns the lines to log, or the reason the daemon cannot start.
pub fn fit_descriptors(
    groups: &[GroupConfig],
    echo: bool,
) -> Result<Vec<(LogLevel, String)>, String> {
    let (auto_n, need_auto, all_n, need_all) = need(groups, echo);
    let mut rl = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: rl is a valid out-parameter.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut rl) } != 0 {
        return Ok(Vec::new());
    }
    let (soft, hard) = (limit(rl.rlim_cur), limit(rl.rlim_max));
    let mut lines = Vec::new();
    let raised = match fit(soft, hard, need_auto, need_all) {
        Fit::Enough => None,
        Fit::Raise(to, to_hard) => {
            let new = libc::rlimit {
                rlim_cur: to,
                rlim_max: to_hard.unwrap_or(libc::RLIM_INFINITY),
            };
            // SAFETY: new is a valid rlimit.
            (unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &new) } == 0).then_some((to, to_hard))
        }
    };
    let (soft_now, hard_now) = raised.map_or((soft, hard), |(to, h)| (Some(to), h));
    if let Some((to, _)) = raised {
        lines.push((
            LogLevel::Info,
            format!(
                "Increased RLIMIT_NOFILE limit to {} ({} processes need about {} file \
                 descriptors)",
                to, all_n, need_all
            ),
        ));
    }
    let text = |l: Option<u64>| l.map_or("unlimited".to_string(), |v| v.to_string());
    let hard_text = text(hard_now);
    if soft_now.is_some_and(|s| s < need_auto) {
        return Err(format!(
            "the {} processes that start on their own need about {} file descriptors (3 pipe \
             ends and up to 2 log files each, and {} for the daemon), but RLIMIT_NOFILE allows \
             {} (hard limit {}). Raise the limit (ulimit -n as root, LimitNOFILE= in a systemd \
             unit, docker run --ulimit nofile=N:N), or start fewer processes (autostart=false, \
             numprocs).",
            auto_n,
            need_auto,
            DAEMON_DESCRIPTORS,
            text(soft_now),
            hard_text
        ));
    }
    if hard_now.is_some_and(|h| h < need_all) {
        lines.push((
            LogLevel::Warn,
            format!(
                "all {} processes would need about {} file descriptors but RLIMIT_NOFILE allows \
                 {}: starting every one would fail with 'too many open files'",
                all_n, need_all, hard_text
            ),
        ));
    }
    Ok(lines)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limits_are_raised_to_what_the_processes_need() {
        type Limit = Option<u64>;
        let table: &[(Limit, Limit, u64, u64, Fit)] = &[
            (Some(1024), Some(4096), 500, 900, Fit::Enough),
            (None, None, 500, 90_000, Fit::Enough),
            (
                Some(1024),
                Some(4096),
                500,
                2000,
                Fit::Raise(2000, Some(4096)),
            ),
            (Some(1024), None, 500, 50_000, Fit::Raise(50_000, None)),
            // every process does not fit, the autostart ones do: up to the hard limit
            (
                Some(1024),
                Some(4096),
                3000,
                9000,
                Fit::Raise(4096, Some(4096)),
            ),
            (Some(4096), Some(4096), 3000, 9000, Fit::Enough),
            // not even the autostart ones: ask for the hard limit too (root may)
            (
                Some(1024),
                Some(4096),
                5000,
                9000,
                Fit::Raise(9000, Some(9000)),
            ),
        ];
        for &(soft, hard, auto, all, ref want) in table {
            assert_eq!(
                &fit(soft, hard, auto, all),
                want,
                "{:?} {:?} {} {}",
                soft,
                hard,
                auto,
                all
            );
        }
    }

    #[test]
    fn each_running_process_costs_its_pipes_and_log_files() {
        let mut p = ProcessConfig::for_test("p", "/bin/true");
        p.stdout.logfile = LogTarget::Auto;
        p.stderr.logfile = LogTarget::Auto;
        assert_eq!(descriptors(&p, false, false), 5);
        p.redirect_stderr = true;
        p.stderr.logfile = LogTarget::None;
        assert_eq!(descriptors(&p, false, false), 3);
        p.stdout.logfile = LogTarget::Syslog;
        p.deps.ready_check = Some(Check::Notify);
        assert_eq!(descriptors(&p, false, false), 3);
    }

    #[test]
    fn a_discarded_stream_costs_no_pipe() {
        let mut p = ProcessConfig::for_test("p", "/bin/true");
        p.stdout.logfile = LogTarget::None;
        p.stderr.logfile = LogTarget::None;
        // stdin only
        assert_eq!(descriptors(&p, false, false), 1);
        // the main log echoes output at debug: both pipes are read
        assert_eq!(descriptors(&p, false, true), 3);
        // a listener's stdout is its protocol
        assert_eq!(descriptors(&p, true, false), 2);
        // events, capture mode or a log: check keep the pipe
        p.stdout.events_enabled = true;
        assert_eq!(descriptors(&p, false, false), 2);
        p.stdout.events_enabled = false;
        p.stderr.capture_maxbytes = 100;
        assert_eq!(descriptors(&p, false, false), 2);
        p.stderr.capture_maxbytes = 0;
        p.deps.ready_check = crate::config::deps::parse_check("log:^up", false).unwrap();
        assert_eq!(descriptors(&p, false, false), 3);
    }

    #[test]
    fn limits_already_high_enough_say_nothing() {
        assert_eq!(set_rlimits(0, 0), Ok(vec![]));
    }

    #[test]
    fn raising_the_soft_limit_up_to_hard_is_reported() {
        // Run in a child so the test process's limits are untouched.
        let pid = unsafe { libc::fork() };
        if pid == 0 {
            let mut rl = libc::rlimit {
                rlim_cur: 0,
                rlim_max: 0,
            };
            unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut rl) };
            let target = rl.rlim_max.min(4096);
            rl.rlim_cur = target.saturating_sub(10).max(16);
            if rl.rlim_cur >= target {
                unsafe { libc::_exit(0) }
            }
            unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &rl) };
            let ok = set_rlimits(target, 0)
                == Ok(vec![format!("Increased RLIMIT_NOFILE limit to {}", target)]);
            unsafe { libc::_exit(if ok { 0 } else { 1 }) }
        }
        assert_eq!(
            super::super::reaper::wait_pid(pid),
            Ok(super::super::reaper::ExitStatus::Exited(0))
        );
    }

    #[test]
    fn an_impossible_limit_gives_the_reference_text() {
        let pid = unsafe { libc::fork() };
        if pid == 0 {
            // Drop privileges' ability to raise the hard limit: lower hard limit, then ask
            // for more (works unprivileged; as root setrlimit may succeed, then skip).
            let rl = libc::rlimit {
                rlim_cur: 64,
                rlim_max: 128,
            };
            unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &rl) };
            let is_root = unsafe { libc::geteuid() } == 0;
            let r = set_rlimits(1 << 30, 0);
            let ok =
                match r {
                    Err(m) => m.starts_with(
                        "The minimum number of file descriptors required to run this process is \
                     1073741824 as per the \"minfds\" command-line argument",
                    ) && m.contains(
                        "will only allow you to open 1073741824 file descriptors.  Either",
                    ),
                    Ok(_) => is_root,
                };
            unsafe { libc::_exit(if ok { 0 } else { 1 }) }
        }
        assert_eq!(
            super::super::reaper::wait_pid(pid),
            Ok(super::super::reaper::ExitStatus::Exited(0))
        );
    }
}
