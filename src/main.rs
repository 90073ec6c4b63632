//! `supervisord`: a drop-in replacement for Python supervisord 4.2.5.

mod config;
mod http;
mod rpc;
mod supervisor;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let path = args.iter().position(|a| a == "-c").and_then(|i| args.get(i + 1)).cloned()
        .unwrap_or_else(|| "supervisord.conf".into());
    match config::load(std::path::Path::new(&path)) {
        Ok(c) => println!("{:?}", c.groups.len()),
        Err(e) => { eprintln!("Error: {}", e); std::process::exit(2) }
    }
}
