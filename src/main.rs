//! `supervisord`: a drop-in replacement for Python supervisord 4.2.5.
//! Thin: everything is in the library ([`supervisord::supervisord_main`]).

fn main() {
    std::process::exit(supervisord::supervisord_main());
}
