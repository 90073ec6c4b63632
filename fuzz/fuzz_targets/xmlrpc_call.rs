//! An XML-RPC request body (`POST /RPC2`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| supervisord::fuzzing::xmlrpc_call(data));
