//! Replays the checked-in fuzz corpus through the fuzz targets' checks, so every
//! input a fuzzer ever found interesting stays a regression test on stable Rust.

use std::path::{Path, PathBuf};

/// The files of one target's corpus, at least `min` of them.
fn corpus(target: &str, min: usize) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    let files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .collect();
    assert!(
        files.len() >= min,
        "expected a seeded corpus of {min} or more in {}, found {}",
        dir.display(),
        files.len()
    );
    files
}

#[test]
fn header_corpus_replays_cleanly() {
    let mut decoded = Vec::new();
    for path in corpus("header", 8) {
        let data = std::fs::read(&path).unwrap();
        if shmipc_core::fuzzing::header_decodes(&data) {
            decoded.push(path.file_name().unwrap().to_string_lossy().into_owned());
        }
    }
    // Seeds copied from real segments must get past the version check, or
    // the replay stops exercising anything behind it: when LAYOUT_VERSION
    // changes, take them again from real segments.
    for seed in ["lock", "named-array", "raw-array", "value-u64"] {
        assert!(
            decoded.iter().any(|d| d == seed),
            "seed {seed} no longer decodes (decoded: {decoded:?})"
        );
    }
}

#[test]
fn ring_corpora_replay_cleanly() {
    for path in corpus("spsc", 4) {
        shmipc_core::fuzzing::spsc_ops(&std::fs::read(path).unwrap());
    }
    for path in corpus("mpmc", 4) {
        shmipc_core::fuzzing::mpmc_ops(&std::fs::read(path).unwrap());
    }
}

#[test]
fn machine_corpus_replays_cleanly() {
    for path in corpus("machines", 7) {
        shmipc_core::fuzzing::machine_ops(&std::fs::read(path).unwrap());
    }
}
