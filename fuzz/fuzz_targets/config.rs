//! A `supervisord.conf`: INI, `%(..)s` expansions, values, `environment=`, commands.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| supervisord::fuzzing::config(data));
