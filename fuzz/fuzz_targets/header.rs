//! `cargo fuzz run header`: arbitrary bytes as a segment header.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| shmipc_core::fuzzing::header_bytes(data));
