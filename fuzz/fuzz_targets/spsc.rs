//! `cargo fuzz run spsc`: the SPSC ring driven by arbitrary operations,
//! checked against a model, with its shared words overwritten in between.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| shmipc_core::fuzzing::spsc_ops(data));
