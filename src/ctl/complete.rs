//! Tab completion in the shell, as the stock client's readline completer: the command word
//! completes to a command; after `help`, to a command; after `add`, `remove` and `update`, to
//! a group; after the process commands, to a process (`name`, or `group:name` and `group:*`
//! for processes in a group of another name). Each candidate ends with a space; a word ends
//! at readline's delimiters less `:`, `*` and `-`. Names come from `getAllProcessInfo` on a
//! connection of the completer's own.

use std::cell::RefCell;

use rustyline::Context;
use rustyline::completion::Completer;
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::validate::Validator;

use super::rpc::{Client, list, text_of};

/// The stock client's vocabulary: `help`, then its commands in alphabetical order.
const VOCAB: &[&str] = &[
    "help", "add", "avail", "clear", "exit", "fg", "maintail", "open", "pid", "quit", "reload",
    "remove", "reread", "restart", "shutdown", "signal", "start", "status", "stop", "tail",
    "update", "version",
];

const PROCESS_COMMANDS: &[&str] = &[
    "clear", "fg", "pid", "restart", "signal", "start", "status", "stop", "tail",
];

/// GNU readline's word delimiters, less `:`, `*` and `-` (as the stock client sets them).
const DELIMITERS: &str = " \t\n\"\\'`@$><=;|&{(";

/// The shell's completer.
pub struct Completion {
    client: RefCell<Client>,
}

impl Completion {
    pub fn new(serverurl: &str, username: Option<&str>, password: Option<&str>) -> Completion {
        Completion {
            client: RefCell::new(Client::new(serverurl, username, password)),
        }
    }

    /// (group, name) of every process; none when the daemon does not answer.
    fn processes(&self) -> Vec<(String, String)> {
        let Ok(all) = self
            .client
            .borrow_mut()
            .call("supervisor.getAllProcessInfo", &[])
        else {
            return Vec::new();
        };
        let Ok(infos) = list(&all) else {
            return Vec::new();
        };
        infos
            .iter()
            .filter_map(|i| Some((text_of(i, "group").ok()?, text_of(i, "name").ok()?)))
            .collect()
    }
}

/// The candidates for `text` (the word being completed) on the whole `line`.
pub fn candidates(
    line: &str,
    text: &str,
    processes: impl FnOnce() -> Vec<(String, String)>,
) -> Vec<String> {
    let words: Vec<&str> = line.split_whitespace().collect();
    let actions = || -> Vec<String> {
        let mut v: Vec<String> = Vec::new();
        for a in VOCAB.iter().filter(|a| a.starts_with(text)) {
            let c = format!("{} ", a);
            if !v.contains(&c) {
                v.push(c);
            }
        }
        v
    };
    let Some(&action) = words.first() else {
        return actions();
    };
    if words.len() == 1 && !line.ends_with(' ') {
        return actions();
    }
    // (the stock client tests `action in ('help')`: a substring of "help")
    if "help".contains(action) {
        return actions();
    }
    let mut names: Vec<String> = Vec::new();
    if ["add", "remove", "update"].contains(&action) {
        for (group, _) in processes() {
            if !names.contains(&group) {
                names.push(group);
            }
        }
    } else if PROCESS_COMMANDS.contains(&action) {
        for (group, name) in processes() {
            if text.contains(':') || name != group {
                names.push(format!("{}:{}", group, name));
                let all = format!("{}:*", group);
                if !names.contains(&all) {
                    names.push(all);
                }
            } else {
                names.push(name);
            }
        }
    }
    names
        .into_iter()
        .filter(|n| n.starts_with(text))
        .map(|n| n + " ")
        .collect()
}

impl Completer for Completion {
    type Candidate = String;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        _ctx: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<String>)> {
        let start = line[..pos]
            .rfind(|c| DELIMITERS.contains(c))
            .map_or(0, |i| i + 1);
        let found = candidates(line, &line[start..pos], || self.processes());
        Ok((start, found))
    }
}

impl Hinter for Completion {
    type Hint = String;
}

impl Highlighter for Completion {}

impl Validator for Completion {}

impl rustyline::Helper for Completion {}

#[cfg(test)]
mod tests {
    use super::*;

    fn procs() -> Vec<(String, String)> {
        vec![
            ("a".into(), "a".into()),
            ("g".into(), "x".into()),
            ("g".into(), "y".into()),
        ]
    }

    #[test]
    fn as_the_stock_completer() {
        assert_eq!(candidates("", "", procs), {
            let mut v: Vec<String> = VOCAB.iter().map(|a| format!("{} ", a)).collect();
            v.dedup();
            v
        });
        assert_eq!(
            candidates("re", "re", procs),
            vec!["reload ", "remove ", "reread ", "restart "]
        );
        assert_eq!(
            candidates("help st", "st", procs),
            vec!["start ", "status ", "stop "]
        );
        assert_eq!(
            candidates("stop ", "", procs),
            vec!["a ", "g:x ", "g:* ", "g:y "]
        );
        assert_eq!(
            candidates("stop g", "g", procs),
            vec!["g:x ", "g:* ", "g:y "]
        );
        assert_eq!(candidates("update ", "", procs), vec!["a ", "g "]);
        assert!(candidates("version ", "", procs).is_empty());
    }
}
