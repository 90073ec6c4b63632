//! `supervisord`: a drop-in replacement for Python supervisord 4.2.5.
//! Thin: command-line options, then the daemon's life cycle in [`daemon`].

mod cli;
mod config;
mod daemon;
mod events;
mod http;
mod logs;
mod rpc;
mod supervisor;

fn main() {
    supervisor::memory::tune_allocator();
    let cli = match cli::parse(std::env::args()) {
        Ok(c) => c,
        Err(exit) => {
            exit.print();
            std::process::exit(exit.exit_code())
        }
    };
    std::process::exit(daemon::run(cli));
}
