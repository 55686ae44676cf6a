//! SharedMemory across real processes.

mod common;

use common::{name, role, spawn, Cleanup};
use shmipc::{Error, Options, RawArray, SharedMemory};

#[test]
fn a_block_written_by_a_child_is_read_by_the_parent_and_outlives_its_name() {
    const SIZE: usize = 1 << 20;
    if role().as_deref() == Some("writer") {
        let block = SharedMemory::open(&name("block")).unwrap();
        assert_eq!(block.size(), SIZE);
        let pattern: Vec<u8> = (0..SIZE).map(|i| (i % 251) as u8).collect();
        block.write(0, &pattern).unwrap();
        // Past the end: refused whole, nothing written.
        assert!(matches!(
            block.write(SIZE - 1, b"xy"),
            Err(Error::IndexOutOfBounds { .. })
        ));
        return;
    }
    let _cleanup = Cleanup::new(&["block"]);
    let block = SharedMemory::create(&name("block"), SIZE).unwrap();
    assert!(block.to_vec().iter().all(|&b| b == 0));
    spawn(
        "a_block_written_by_a_child_is_read_by_the_parent_and_outlives_its_name",
        "writer",
        &[],
    )
    .assert_success();
    let all = block.to_vec();
    assert!(all.iter().enumerate().all(|(i, &b)| b == (i % 251) as u8));
    let mut tail = [0u8; 3];
    block.read(SIZE - 3, &mut tail).unwrap();
    assert_eq!(tail, all[SIZE - 3..]);
    // Unlinked: no one can open it, and this handle still works.
    block.unlink().unwrap();
    assert!(matches!(
        SharedMemory::open(&name("block")),
        Err(Error::NotFound { .. })
    ));
    block.write(0, b"after").unwrap();
    block.read(0, &mut tail).unwrap();
    assert_eq!(&tail, b"aft");
}

#[test]
fn a_block_is_not_another_kind_and_has_a_size() {
    let _cleanup = Cleanup::new(&["not-a-block", "empty-block", "kept-block"]);
    let _array = RawArray::<u8>::create(&name("not-a-block"), 8).unwrap();
    let opened = SharedMemory::open(&name("not-a-block"));
    assert!(
        matches!(opened, Err(Error::KindMismatch { .. })),
        "{opened:?}"
    );
    assert!(matches!(
        SharedMemory::create(&name("empty-block"), 0),
        Err(Error::InvalidArgument { .. })
    ));
    // Persisted: the name outlives the creator's handle, as in Python.
    let kept =
        SharedMemory::create_with(&name("kept-block"), 5, &Options::new().persist(true)).unwrap();
    kept.write(0, b"hello").unwrap();
    drop(kept);
    assert_eq!(
        SharedMemory::open(&name("kept-block")).unwrap().to_vec(),
        b"hello"
    );
}
