//! `cargo fuzz run open`: arbitrary bytes at arbitrary file sizes, opened as
//! every kind of object and used with timeouts.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| shmipc_shm::fuzzing::open_bytes(data));
