//! `cargo fuzz run bytes`: the byte ring driven by arbitrary operations,
//! checked against a model, with its positions and bytes overwritten in
//! between.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| shmipc_core::fuzzing::byte_ring_ops(data));
