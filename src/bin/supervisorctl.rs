//! `supervisorctl`: our own client, byte-exact with the stock 4.2.5 one.
//! Thin: everything is in the library ([`supervisord::supervisorctl_main`]).

fn main() {
    std::process::exit(supervisord::supervisorctl_main());
}
