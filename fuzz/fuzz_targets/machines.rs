//! `cargo fuzz run machines`: the blocking state machines (lock, rlock,
//! semaphore, event, condition, barrier, eventcount) driven by arbitrary
//! operations, with their shared words overwritten in between.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| shmipc_core::fuzzing::machine_ops(data));
