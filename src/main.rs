//! `supervisord`: a drop-in replacement for Python supervisord 4.2.5.

mod cli;
mod config;
mod rpc;
mod supervisor;

fn main() {
    let cli = match cli::parse(std::env::args()) {
        Ok(c) => c,
        Err(exit) => {
            exit.print();
            std::process::exit(exit.exit_code())
        }
    };
    let fail = |msg: String| -> ! {
        eprint!("{}", cli::usage_text(&cli.progname, &msg));
        std::process::exit(2)
    };
    let path = match &cli.configuration {
        Some(p) => p.clone(),
        None => config::find_config_file().unwrap_or_else(|m| fail(m)),
    };
    let mut config = config::load(&path).unwrap_or_else(|e| fail(e.to_string()));
    if let Err(e) = cli::apply(&cli, &mut config) {
        fail(e.to_string())
    }
    println!("{:#?}", config);
}
