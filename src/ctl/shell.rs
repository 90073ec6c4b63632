//! The interactive shell (`supervisorctl` with no command, or `-i`): `status` first, then a
//! prompt (`supervisor> ` or `[supervisorctl] prompt=` plus `> `) until `exit`, `quit`, end
//! of input or Ctrl-C, each of which leaves with status 0 after an empty line.
//!
//! On a terminal (stdin and stdout both ttys, as Python's `input()` requires for readline)
//! lines are edited with rustyline and the history is kept in `history_file` (plain lines,
//! as GNU readline writes them: the stock client and ours can share the file). Otherwise the
//! prompt is written to stdout and lines are read from stdin, as Python does for a pipe.

use std::io::IsTerminal;
use std::path::Path;

use rustyline::config::Configurer;

use super::controller::Controller;
use super::interrupt;

pub fn run(ctl: &mut Controller) {
    interrupt::arm();
    if std::io::stdin().is_terminal()
        && std::io::stdout().is_terminal()
        && let Ok(mut ed) = super::input::Editor::new()
    {
        ed.set_helper(Some(super::complete::Completion::new(
            &ctl.opts.serverurl,
            ctl.opts.username.as_deref(),
            ctl.opts.password.as_deref(),
        )));
        // readline's way: Tab completes the common prefix, a second Tab lists
        ed.set_completion_type(rustyline::CompletionType::List);
        let _ = ed.set_max_history_size(1 << 20);
        let _ = ed.set_history_ignore_dups(false);
        ed.set_auto_add_history(false);
        if let Some(h) = &ctl.opts.history_file {
            load_history(&mut ed, h);
        }
        ctl.input.editor = Some(ed);
    }
    let prompt = format!("{}> ", ctl.opts.prompt);
    let mut queued = Some("status".to_string());
    loop {
        let line = match queued.take() {
            Some(l) => l,
            None => {
                ctl.flush();
                // the line editor has already moved to a new line after Ctrl-D or Ctrl-C,
                // where the stock client prints an empty line
                let edited = ctl.input.editor.is_some();
                match ctl.input.raw_input(&prompt) {
                    Ok(Some(l)) => l,
                    Ok(None) if edited => break,
                    Ok(None) => "EOF".into(),
                    Err(_) => {
                        if !edited {
                            ctl.output("");
                        }
                        break;
                    }
                }
            }
        };
        match ctl.onecmd(&line) {
            Ok(true) => break,
            Ok(false) => {}
            Err(_) => {
                ctl.output("");
                break;
            }
        }
    }
    ctl.flush();
    if let (Some(ed), Some(h)) = (&ctl.input.editor, &ctl.opts.history_file) {
        save_history(ed, h);
    }
}

/// GNU readline's `read_history`: one entry per line; a missing file is no history.
fn load_history(ed: &mut super::input::Editor, path: &Path) {
    if let Ok(text) = std::fs::read(path) {
        for line in String::from_utf8_lossy(&text).lines() {
            let _ = ed.add_history_entry(line);
        }
    }
}

/// GNU readline's `write_history`: every entry, one per line (errors ignored, as the stock
/// client ignores them).
fn save_history(ed: &super::input::Editor, path: &Path) {
    use rustyline::history::{History, SearchDirection};
    let history = ed.history();
    let mut text = String::new();
    for i in 0..history.len() {
        if let Ok(Some(found)) = history.get(i, SearchDirection::Forward) {
            text.push_str(&found.entry);
            text.push('\n');
        }
    }
    let _ = std::fs::write(path, text);
}
