//! Replays the checked-in fuzz corpus through the fuzz targets' checks, so every
//! input a fuzzer ever found interesting stays a regression test on stable Rust.
#![cfg(not(loom))]

use std::path::Path;

#[test]
fn header_corpus_replays_cleanly() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus/header");
    let mut count = 0;
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        let data = std::fs::read(&path).unwrap();
        shmipc_core::fuzzing::header_bytes(&data);
        count += 1;
    }
    assert!(
        count >= 8,
        "expected a seeded corpus in {}, found {count} files",
        dir.display()
    );
}
