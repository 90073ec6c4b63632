//! An `Authorization` header's value.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| supervisord::fuzzing::authorization(data));
