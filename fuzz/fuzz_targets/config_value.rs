//! One config value: `%(..)s` expansion, then the value parsers.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| supervisord::fuzzing::config_value(data));
