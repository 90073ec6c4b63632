//! `help` and `help <command>`: the stock client's help texts, and the command list laid out
//! in columns as Python's `cmd.Cmd.columnize` lays it out (79 columns).

use crate::ctl::controller::Controller;
use crate::ctl::error::Result;

/// Each documented command and its help text (`help_<command>` of the stock client).
const TEXTS: &[(&str, &str)] = &[
    (
        "add",
        "add <name> [...]\tActivates any updates in config for process/group",
    ),
    ("avail", "avail\t\t\tDisplay all configured processes"),
    (
        "clear",
        "clear <name>\t\tClear a process' log files.\n\
         clear <name> <name>\tClear multiple process' log files\n\
         clear all\t\tClear all process' log files",
    ),
    ("exit", "exit\tExit the supervisor shell."),
    (
        "fg",
        "fg <process>\tConnect to a process in foreground mode\n\t\tCtrl-C to exit",
    ),
    (
        "maintail",
        "maintail -f \tContinuous tail of supervisor main log file (Ctrl-C to exit)\n\
         maintail -100\tlast 100 *bytes* of supervisord main log file\n\
         maintail\tlast 1600 *bytes* of supervisor main log file\n",
    ),
    (
        "open",
        "open <url>\tConnect to a remote supervisord process.\n\
         \t\t(for UNIX domain socket, use unix:///socket/path)",
    ),
    (
        "pid",
        "pid\t\t\tGet the PID of supervisord.\n\
         pid <name>\t\tGet the PID of a single child process by name.\n\
         pid all\t\t\tGet the PID of every child process, one per line.",
    ),
    ("quit", "quit\tExit the supervisor shell."),
    ("reload", "reload \t\tRestart the remote supervisord."),
    (
        "remove",
        "remove <name> [...]\tRemoves process/group from active config",
    ),
    (
        "reread",
        "reread \t\t\tReload the daemon's configuration files without add/remove",
    ),
    (
        "restart",
        "restart <name>\t\tRestart a process\n\
         restart <gname>:*\tRestart all processes in a group\n\
         restart <name> <name>\tRestart multiple processes or groups\n\
         restart all\t\tRestart all processes\n\
         Note: restart does not reread config files. For that, see reread and update.",
    ),
    ("shutdown", "shutdown \tShut the remote supervisord down."),
    (
        "signal",
        "signal <signal name> <name>\t\tSignal a process\n\
         signal <signal name> <gname>:*\t\tSignal all processes in a group\n\
         signal <signal name> <name> <name>\tSignal multiple processes or groups\n\
         signal <signal name> all\t\tSignal all processes",
    ),
    (
        "start",
        "start <name>\t\tStart a process\n\
         start <gname>:*\t\tStart all processes in a group\n\
         start <name> <name>\tStart multiple processes or groups\n\
         start all\t\tStart all processes",
    ),
    (
        "status",
        "status <name>\t\tGet status for a single process\n\
         status <gname>:*\tGet status for all processes in a group\n\
         status <name> <name>\tGet status for multiple named processes\n\
         status\t\t\tGet all process status info",
    ),
    (
        "stop",
        "stop <name>\t\tStop a process\n\
         stop <gname>:*\t\tStop all processes in a group\n\
         stop <name> <name>\tStop multiple processes or groups\n\
         stop all\t\tStop all processes",
    ),
    (
        "tail",
        "tail [-f] <name> [stdout|stderr] (default stdout)\n\
         Ex:\n\
         tail -f <name>\t\tContinuous tail of named process stdout\n\
         \t\t\tCtrl-C to exit.\n\
         tail -100 <name>\tlast 100 *bytes* of process stdout\n\
         tail <name> stderr\tlast 1600 *bytes* of process stderr",
    ),
    (
        "update",
        "update\t\t\tReload config and add/remove as necessary, and will restart affected programs\n\
         update all\t\tReload config and add/remove as necessary, and will restart affected programs\n\
         update <gname> [...]\tUpdate specific groups",
    ),
    (
        "version",
        "version\t\t\tShow the version of the remote supervisord process",
    ),
];

/// The help text of a command.
pub fn text(command: &str) -> Option<&'static str> {
    TEXTS.iter().find(|(c, _)| *c == command).map(|(_, t)| *t)
}

/// Print a command's help (what a command prints after a usage error).
pub fn show(ctl: &mut Controller, command: &str) {
    if let Some(t) = text(command) {
        ctl.output(t);
    }
}

/// `help [topic]`.
pub fn do_help(ctl: &mut Controller, arg: &str) -> Result<bool> {
    if arg.trim() == "help" {
        ctl.output("help\t\tPrint a list of available actions");
        ctl.output("help <action>\tPrint help for <action>");
    } else if !arg.is_empty() {
        match text(arg) {
            Some(t) => ctl.output(t),
            None => ctl.output(&format!("*** No help on {}", arg)),
        }
    } else {
        ctl.output("");
        let header = "default commands (type help <topic>):";
        let names: Vec<&str> = TEXTS.iter().map(|(c, _)| *c).collect();
        ctl.output(header);
        ctl.output(&"=".repeat(header.chars().count()));
        for line in columnize(&names, 79) {
            ctl.output(&line);
        }
        ctl.output("");
    }
    Ok(false)
}

/// Python's `cmd.Cmd.columnize`: as few rows as fit `width`, columns two spaces apart.
pub fn columnize(items: &[&str], width: usize) -> Vec<String> {
    if items.is_empty() {
        return vec!["<empty>".into()];
    }
    if items.len() == 1 {
        return vec![items[0].to_string()];
    }
    let size = items.len();
    let len = |s: &str| s.chars().count();
    let mut layout = None;
    for nrows in 1..size {
        let ncols = size.div_ceil(nrows);
        let mut widths = Vec::new();
        let mut total: isize = -2;
        for col in 0..ncols {
            let w = (0..nrows)
                .map(|row| row + nrows * col)
                .take_while(|&i| i < size)
                .map(|i| len(items[i]))
                .max()
                .unwrap_or(0);
            widths.push(w);
            total += w as isize + 2;
            if total > width as isize {
                break;
            }
        }
        if total <= width as isize {
            layout = Some((nrows, ncols, widths));
            break;
        }
    }
    let (nrows, ncols, widths) = layout.unwrap_or((size, 1, vec![0]));
    let mut lines = Vec::new();
    for row in 0..nrows {
        let mut texts: Vec<&str> = (0..ncols)
            .map(|col| items.get(row + nrows * col).copied().unwrap_or(""))
            .collect();
        while texts.last().is_some_and(|t| t.is_empty()) {
            texts.pop();
        }
        let cells: Vec<String> = texts
            .iter()
            .enumerate()
            .map(|(col, t)| format!("{:<w$}", t, w = widths[col]))
            .collect();
        lines.push(cells.join("  "));
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_as_python_cmd() {
        let names: Vec<&str> = TEXTS.iter().map(|(c, _)| *c).collect();
        assert_eq!(
            columnize(&names, 79),
            vec![
                "add    exit      open  reload  restart   start   tail   ",
                "avail  fg        pid   remove  shutdown  status  update ",
                "clear  maintail  quit  reread  signal    stop    version",
            ]
        );
        assert_eq!(columnize(&["a"], 79), vec!["a"]);
        assert_eq!(columnize(&["aaaa", "bbbb"], 5), vec!["aaaa", "bbbb"]);
    }
}
