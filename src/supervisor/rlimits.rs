//! The daemon's `minfds` / `minprocs` checks at startup (the reference's
//! `set_rlimits_or_exit`): raise RLIMIT_NOFILE and RLIMIT_NPROC to at least those values,
//! or fail with the reference's explanation.

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

#[cfg(test)]
mod tests {
    use super::*;

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
