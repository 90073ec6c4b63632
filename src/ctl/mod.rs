//! `supervisorctl`, ours: a drop-in for the stock 4.2.5 client, byte for byte (stdout,
//! stderr, exit status) but for the lines where the stock client prints a Python exception
//! (see `error`), against our daemon or the reference, without Python.
//!
//! - `options`, `config`: the command line and the `[supervisorctl]` section (with the
//!   daemon's INI reader and `%(...)s` expansion);
//! - `transport`, `url`, `rpc`: HTTP/1.1 over the unix socket or TCP and XML-RPC on it, with
//!   the daemon's codec (`crate::rpc::xml`); `stream`: the `/logtail` streams;
//! - `controller`: one command line → the stock output and exit status; `commands`: each
//!   command; `error`: what Python would have raised, and the plain sentence printed where
//!   the stock client prints a Python exception line;
//! - `shell`, `input`, `interrupt`, `complete`: the interactive shell, standard input,
//!   Ctrl-C, Tab completion;
//! - `encoding`: the stock warning about a non-UTF-8 stdout before tail output.
//!
//! `[ctlplugin:x]` sections name Python plugins: their commands are not available here, and
//! one line on stderr says so (for all of them); every stock command still works.

mod commands;
mod complete;
mod config;
mod controller;
mod encoding;
mod error;
mod input;
mod interrupt;
mod options;
mod rpc;
mod shell;
mod stream;
mod transport;
mod url;

use controller::Controller;

/// The client's whole run: options, then one command or the shell; returns the exit status.
pub fn main() -> i32 {
    let mut argv = std::env::args_os().map(|a| a.to_string_lossy().into_owned());
    let argv0 = argv.next().unwrap_or_else(|| "supervisorctl".into());
    let args: Vec<String> = argv.collect();
    let opts = match options::realize(options::progname(&argv0), &args) {
        Ok(o) => o,
        Err(exit) => return exit.report(),
    };
    if let Some(line) = plugins_notice(&opts.plugins) {
        controller::write_stderr(format!("{}\n", line).as_bytes());
    }
    let mut ctl = Controller::new(opts);
    if !ctl.opts.args.is_empty() {
        let line = ctl.opts.args.join(" ");
        // Ctrl-C outside tail -f/fg keeps its default action (the process dies of it)
        let _ = ctl.onecmd(&line);
        ctl.flush();
        return ctl.exitstatus;
    }
    shell::run(&mut ctl);
    0
}

/// The one line that says the `[ctlplugin:x]` sections are not loaded; `None` without any.
fn plugins_notice(plugins: &[options::Plugin]) -> Option<String> {
    let (first, rest) = plugins.split_first()?;
    let sections = plugins
        .iter()
        .map(|p| format!("[ctlplugin:{}]", p.name))
        .collect::<Vec<_>>()
        .join(", ");
    let factories = plugins
        .iter()
        .map(|p| p.factory.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    let what = if rest.is_empty() {
        format!("{} is a Python plugin", first.factory)
    } else {
        format!("{} are Python plugins", factories)
    };
    Some(format!(
        "supervisorctl: {} not loaded: {}, which this supervisorctl cannot run; the built-in \
         commands work as usual",
        sections, what
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_for_all_plugins() {
        let p = |name: &str, factory: &str| options::Plugin {
            name: name.into(),
            factory: factory.into(),
        };
        assert_eq!(plugins_notice(&[]), None);
        assert_eq!(
            plugins_notice(&[p("serial", "a.b:make")]).unwrap(),
            "supervisorctl: [ctlplugin:serial] not loaded: a.b:make is a Python plugin, which \
             this supervisorctl cannot run; the built-in commands work as usual"
        );
        assert_eq!(
            plugins_notice(&[p("x", "a:m"), p("y", "b:n")]).unwrap(),
            "supervisorctl: [ctlplugin:x], [ctlplugin:y] not loaded: a:m, b:n are Python \
             plugins, which this supervisorctl cannot run; the built-in commands work as usual"
        );
    }
}
