//! A web page's form: the query string, a newline, the POST body.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| supervisord::fuzzing::web_form(data));
