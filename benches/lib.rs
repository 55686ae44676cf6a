//! The benchmarks of shmipc, each next to baselines measured in the same
//! run: `cargo bench -p shmipc-benches` (or `--bench lock|sync|queue|paired`).
//! This package exists so that the baselines (criterion, rtrb, crossbeam,
//! parking_lot, shared_memory, raw_sync) stay out of the library's and the
//! examples' build. See ARCHITECTURE.md, "Benchmarks".
