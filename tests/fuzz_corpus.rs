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
    // changes, take them again from real segments (`write_header_seeds`).
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
    for path in corpus("bytes", 3) {
        shmipc_core::fuzzing::byte_ring_ops(&std::fs::read(path).unwrap());
    }
}

#[test]
fn machine_corpus_replays_cleanly() {
    for path in corpus("machines", 7) {
        shmipc_core::fuzzing::machine_ops(&std::fs::read(path).unwrap());
    }
}

#[test]
fn open_corpus_replays_cleanly() {
    let mut opened = Vec::new();
    for path in corpus("open", shmipc_shm::fuzzing::KINDS.len()) {
        if shmipc_shm::fuzzing::open_opens(&std::fs::read(&path).unwrap()) {
            opened.push(path.file_name().unwrap().to_string_lossy().into_owned());
        }
    }
    // The seeds are real segments of each kind; if one no longer opens (a
    // layout change), the replay stops reaching the calls behind `open`:
    // write them again with `write_open_seeds`.
    for kind in shmipc_shm::fuzzing::KINDS {
        assert!(
            opened.iter().any(|o| o == kind),
            "seed {kind} no longer opens (opened: {opened:?})"
        );
    }
}

/// Writes the `open` target's seeds, one real segment of each kind:
/// `cargo test --test fuzz_corpus -- --ignored write_open_seeds`.
#[test]
#[ignore = "writes the committed corpus; run by hand after a layout change"]
fn write_open_seeds() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/open");
    std::fs::create_dir_all(&dir).unwrap();
    for kind in shmipc_shm::fuzzing::KINDS {
        std::fs::write(dir.join(kind), shmipc_shm::fuzzing::seed(kind)).unwrap();
    }
}

/// Writes the `header` target's seeds taken from real segments: their file
/// length and header, as the target reads them:
/// `cargo test --test fuzz_corpus -- --ignored write_header_seeds`.
#[test]
#[ignore = "writes the committed corpus; run by hand after a layout change"]
fn write_header_seeds() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/header");
    for (seed, kind) in [
        ("lock", "lock"),
        ("named-array", "array"),
        ("raw-array", "raw-array"),
        ("value-u64", "value"),
    ] {
        // An `open` seed: the kind, the file length (4 bytes, LE), the bytes.
        let seed_bytes = shmipc_shm::fuzzing::seed(kind);
        let file_len = u32::from_le_bytes(seed_bytes[1..5].try_into().unwrap());
        let mut bytes = u64::from(file_len).to_ne_bytes().to_vec();
        bytes.extend_from_slice(&seed_bytes[5..5 + shmipc_core::header::HEADER_SIZE]);
        std::fs::write(dir.join(seed), bytes).unwrap();
    }
}
