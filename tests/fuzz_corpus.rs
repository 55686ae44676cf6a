//! Replays the checked-in fuzz corpus through the fuzz targets' checks, so every
//! input a fuzzer ever found interesting stays a regression test on stable Rust.

use std::path::Path;

#[test]
fn header_corpus_replays_cleanly() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/header");
    let mut count = 0;
    let mut decoded = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        let data = std::fs::read(&path).unwrap();
        if shmipc_core::fuzzing::header_decodes(&data) {
            decoded.push(path.file_name().unwrap().to_string_lossy().into_owned());
        }
        count += 1;
    }
    // Seeds copied from real segments must get past the version check, or
    // the replay stops exercising anything behind it: when LAYOUT_VERSION
    // changes, rewrite their version field and checksum.
    for seed in ["lock", "named-array", "raw-array", "value-u64"] {
        assert!(
            decoded.iter().any(|d| d == seed),
            "seed {seed} no longer decodes (decoded: {decoded:?})"
        );
    }
    assert!(
        count >= 8,
        "expected a seeded corpus in {}, found {count} files",
        dir.display()
    );
}
