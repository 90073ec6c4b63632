//! The commands of the stock 4.2.5 client, one function each, grouped by what they act on:
//! `process` (status, pid, start, stop, restart, signal, clear), `groups` (avail, reread,
//! update, add, remove), `daemon` (version, shutdown, reload, open, quit/exit, and the
//! credentials asked after a 401), `logs` (tail, maintail, and their `-f` streams), `fg`,
//! and `help`. Each prints what the stock command prints and sets the same exit status; what
//! a command does not handle itself goes back to the controller as the error Python would
//! have raised.

pub mod auth;
mod daemon;
mod fg;
mod groups;
pub mod help;
mod logs;
mod process;

use super::controller::Command;

/// The command a word names (`do_<word>` of the stock client's controller and its default
/// plugin).
pub fn lookup(word: &str) -> Option<Command> {
    Some(match word {
        "help" => help::do_help,
        "EOF" | "quit" | "exit" => daemon::do_quit,
        "add" => groups::do_add,
        "avail" => groups::do_avail,
        "clear" => process::do_clear,
        "fg" => fg::do_fg,
        "maintail" => logs::do_maintail,
        "open" => daemon::do_open,
        "pid" => process::do_pid,
        "reload" => daemon::do_reload,
        "remove" => groups::do_remove,
        "reread" => groups::do_reread,
        "restart" => process::do_restart,
        "shutdown" => daemon::do_shutdown,
        "signal" => process::do_signal,
        "start" => process::do_start,
        "status" => process::do_status,
        "stop" => process::do_stop,
        "tail" => logs::do_tail,
        "update" => groups::do_update,
        "version" => daemon::do_version,
        _ => return None,
    })
}

/// `make_namespec(group, name)`; a missing name prints as Python's `None`.
pub fn namespec(group: &str, name: Option<&str>) -> String {
    match name {
        Some(n) if n == group => n.to_string(),
        Some(n) => format!("{}:{}", group, n),
        None => format!("{}:None", group),
    }
}

/// `split_namespec(spec)`: `g:*` and `g:` name the group (`None` as process name).
pub fn split_namespec(spec: &str) -> (String, Option<String>) {
    match spec.split_once(':') {
        Some((g, p)) if p.is_empty() || p == "*" => (g.to_string(), None),
        Some((g, p)) => (g.to_string(), Some(p.to_string())),
        None => (spec.to_string(), Some(spec.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespecs() {
        assert_eq!(split_namespec("g:*"), ("g".into(), None));
        assert_eq!(split_namespec("g:"), ("g".into(), None));
        assert_eq!(split_namespec("g:a:b"), ("g".into(), Some("a:b".into())));
        assert_eq!(split_namespec("a"), ("a".into(), Some("a".into())));
        assert_eq!(namespec("a", Some("a")), "a");
        assert_eq!(namespec("g", Some("a")), "g:a");
        assert_eq!(namespec("g", None), "g:None");
    }
}
