//! Signal names and numbers as Python's `signal` module knows them on Linux: the one table
//! that `config` parses `stopsignal=` and `signalProcess` names with, and that the reaper's
//! and the state machine's messages name signals from.

/// Names without the `SIG` prefix. Where several names share a number, the one Python's
/// `signame` prints comes first (`ABRT`, `CHLD`, `POLL`).
pub const SIGNALS: &[(&str, i32)] = &[
    ("HUP", libc::SIGHUP),
    ("INT", libc::SIGINT),
    ("QUIT", libc::SIGQUIT),
    ("ILL", libc::SIGILL),
    ("TRAP", libc::SIGTRAP),
    ("ABRT", libc::SIGABRT),
    ("IOT", libc::SIGABRT),
    ("BUS", libc::SIGBUS),
    ("FPE", libc::SIGFPE),
    ("KILL", libc::SIGKILL),
    ("USR1", libc::SIGUSR1),
    ("SEGV", libc::SIGSEGV),
    ("USR2", libc::SIGUSR2),
    ("PIPE", libc::SIGPIPE),
    ("ALRM", libc::SIGALRM),
    ("TERM", libc::SIGTERM),
    ("STKFLT", 16),
    ("CHLD", libc::SIGCHLD),
    ("CLD", libc::SIGCHLD),
    ("CONT", libc::SIGCONT),
    ("STOP", libc::SIGSTOP),
    ("TSTP", libc::SIGTSTP),
    ("TTIN", libc::SIGTTIN),
    ("TTOU", libc::SIGTTOU),
    ("URG", libc::SIGURG),
    ("XCPU", libc::SIGXCPU),
    ("XFSZ", libc::SIGXFSZ),
    ("VTALRM", libc::SIGVTALRM),
    ("PROF", libc::SIGPROF),
    ("WINCH", libc::SIGWINCH),
    ("POLL", libc::SIGIO),
    ("IO", libc::SIGIO),
    ("PWR", 30),
    ("SYS", libc::SIGSYS),
    ("RTMIN", 34),
    ("RTMAX", 64),
];

/// The number of a name without its `SIG` prefix, in upper case (`TERM` → 15).
pub fn number(name: &str) -> Option<i32> {
    SIGNALS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, num)| *num)
}

/// Whether Python's `signal` module has a `SIG*` name for this number.
pub fn is_known(num: i64) -> bool {
    SIGNALS.iter().any(|(_, n)| *n as i64 == num)
}

/// The reference's `signame`: `SIGTERM`, or `signal 32` when the number has no name.
pub fn signame(sig: i32) -> String {
    match SIGNALS.iter().find(|(_, n)| *n == sig) {
        Some((name, _)) => format!("SIG{}", name),
        None => format!("signal {}", sig),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signame_is_pythons_choice_among_aliases() {
        assert_eq!(signame(15), "SIGTERM");
        assert_eq!(signame(6), "SIGABRT");
        assert_eq!(signame(17), "SIGCHLD");
        assert_eq!(signame(29), "SIGPOLL");
        assert_eq!(signame(64), "SIGRTMAX");
        assert_eq!(signame(32), "signal 32");
        assert_eq!(signame(0), "signal 0");
    }

    #[test]
    fn numbers_by_name() {
        assert_eq!(number("IOT"), Some(6));
        assert_eq!(number("IO"), Some(29));
        assert_eq!(number("NOPE"), None);
        assert!(is_known(34));
        assert!(!is_known(33));
    }
}
