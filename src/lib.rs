//! The daemon and its parts as one library crate. The binaries are thin: `src/main.rs` calls
//! [`supervisord_main`]. The modules stay private to the crate; what other targets (fuzzing,
//! other binaries) need is exported on purpose, item by item, below.

mod cli;
mod config;
mod ctl;
mod daemon;
mod events;
pub mod fuzzing;
mod http;
mod logs;
mod rpc;
mod supervisor;
mod util;

/// `supervisord`'s whole life: command-line options, then the daemon; returns the exit status.
pub fn supervisord_main() -> i32 {
    supervisor::memory::tune_allocator();
    let cli = match cli::parse(std::env::args()) {
        Ok(c) => c,
        Err(exit) => {
            exit.print();
            return exit.exit_code();
        }
    };
    daemon::run(cli)
}

/// `supervisorctl`'s whole run (our own client): options, then one command or the shell;
/// returns the exit status.
pub fn supervisorctl_main() -> i32 {
    ctl::main()
}
