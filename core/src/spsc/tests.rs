//! Unit tests of the SPSC ring over plain memory.

use super::*;
use crate::ring::test_slots::TestSlots;

/// Capacity 4 in groups of 2 ([`TestSlots`]): four groups, eight slots.
fn geometry() -> SpscGeometry {
    SpscGeometry::new(4, 2).unwrap()
}

type Ends<'a> = (
    Spsc<'a, TestSlots>,
    SpscProducer<'a, TestSlots>,
    SpscConsumer<'a, TestSlots>,
);

/// An initialised ring over `slots` and its two endpoints.
fn ends<'a>(indices: &'a SpscIndices, slots: &'a TestSlots) -> Ends<'a> {
    // SAFETY: `TestSlots` holds the geometry's four groups of two, and
    // its slots are atomics (race-tolerant); the test is the ring's only
    // user, and takes one endpoint of each side.
    unsafe {
        let ring = Spsc::new(indices, slots, geometry());
        ring.init::<u64>();
        (ring, ring.producer(), ring.consumer())
    }
}

#[test]
fn items_cross_groups_and_laps_in_order() {
    let (indices, slots) = (SpscIndices::new(), TestSlots::new());
    let (_, mut tx, mut rx) = ends(&indices, &slots);
    let mut next = 0u64;
    for round in 0..20u64 {
        let burst = round % 5;
        for i in 0..burst {
            tx.push(100 * round + i).unwrap();
        }
        assert_eq!(indices.len(), burst);
        let mut out = [0u64; 4];
        let n = if round % 2 == 0 {
            rx.pop_slice(&mut out).unwrap()
        } else {
            let mut n = 0;
            while let Ok(v) = rx.pop::<u64>() {
                out[n] = v;
                n += 1;
            }
            n
        };
        assert_eq!(n as u64, burst);
        for (i, v) in out[..n].iter().enumerate() {
            assert_eq!(*v, 100 * round + i as u64);
        }
        next += burst;
    }
    assert_eq!(indices.head.load(Ordering::Relaxed), next);
}

#[test]
fn a_full_ring_refuses_and_a_batch_takes_what_fits() {
    let (indices, slots) = (SpscIndices::new(), TestSlots::new());
    let (_, mut tx, mut rx) = ends(&indices, &slots);
    assert_eq!(tx.push_slice(&[1u64, 2, 3]), Ok(3));
    assert_eq!(tx.push_slice(&[4u64, 5, 6]), Ok(1));
    assert_eq!(tx.push(7u64), Err(RingError::WouldBlock));
    let mut out = [0u64; 8];
    assert_eq!(rx.pop_slice(&mut out), Ok(4));
    assert_eq!(out[..4], [1, 2, 3, 4]);
    assert_eq!(rx.pop::<u64>(), Err(RingError::WouldBlock));
}

#[test]
fn a_new_producer_resumes_after_items_a_dead_one_stamped_but_did_not_count() {
    let (indices, slots) = (SpscIndices::new(), TestSlots::new());
    let (_, mut tx, mut rx) = ends(&indices, &slots);
    tx.push(10u64).unwrap();
    // A producer that died after stamping position 1 but before storing
    // its position.
    assert_eq!(tx.push(11u64), Ok(()));
    indices.tail.store(1, Ordering::Relaxed);
    assert_eq!(indices.len(), 1);
    assert_eq!(tx.resume::<u64>(), 1);
    tx.push(12u64).unwrap();
    let mut out = [0u64; 4];
    assert_eq!(rx.pop_slice(&mut out), Ok(3));
    assert_eq!(out[..3], [10, 11, 12]);
    assert_eq!(tx.resume::<u64>(), 0);
}

#[test]
fn a_put_with_slack_waits_for_that_much_room_but_a_plain_push_takes_any() {
    let (indices, slots) = (SpscIndices::new(), TestSlots::new());
    let (_, mut tx, mut rx) = ends(&indices, &slots);
    assert_eq!(tx.push_slice(&[1u64, 2, 3, 4]), Ok(4));
    assert_eq!(rx.pop::<u64>(), Ok(1));
    assert_eq!(tx.push_with_slack(5u64, 2), Err(RingError::WouldBlock));
    assert_eq!(rx.pop::<u64>(), Ok(2));
    assert_eq!(tx.push_with_slack(5u64, 2), Ok(()));
    // The cached room now says one slot is free: no re-read, no refusal.
    assert_eq!(tx.push_with_slack(6u64, 2), Ok(()));
    assert_eq!(tx.push(7u64), Err(RingError::WouldBlock));
}

/// A peer scribbling random values over the positions and stamps, between
/// random operations: every operation returns (an item, `WouldBlock` or a
/// corruption error) without touching a slot outside the ring
/// ([`TestSlots`] would panic on an index past its arrays).
#[test]
fn garbage_anywhere_makes_operations_fail_never_stray() {
    let (indices, slots) = (SpscIndices::new(), TestSlots::new());
    let (ring, mut tx, rx) = ends(&indices, &slots);
    let mut rx = rx.with_prefetch(3);
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut random = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut out = [0u64; 5];
    let mut seen = [0u32; 3]; // items, would-block, corrupt
    let mut tally = |r: Result<(), RingError>| {
        seen[match r {
            Ok(()) => 0,
            Err(RingError::WouldBlock) => 1,
            Err(_) => 2,
        }] += 1;
    };
    for _ in 0..200_000 {
        let r = random();
        let value = match random() % 4 {
            0 => random(),
            1 => random() % 16,
            2 => u64::MAX - random() % 16,
            _ => 0,
        };
        match r % 11 {
            0 => indices.head.store(value, Ordering::Relaxed),
            1 => indices.tail.store(value, Ordering::Relaxed),
            2 => indices.room_until.store(value, Ordering::Relaxed),
            3 => slots.stamps[(r >> 8) as usize % 4].store(value, Ordering::Relaxed),
            4 => tally(tx.push_with_slack(r, r >> 60)),
            5 => tally(tx.push_slice(&[r; 5][..(r >> 8) as usize % 6]).map(drop)),
            6 => tally(rx.pop::<u64>().map(drop)),
            7 => tally(rx.pop_slice(&mut out[..(r >> 8) as usize % 6]).map(drop)),
            8 => drop(tx.resume::<u64>()),
            9 => tally(ring.check()),
            _ => drop(indices.len()),
        }
    }
    // Every kind of outcome came up: the garbage reached the checks, and
    // the ring still moved items between them.
    assert!(seen.iter().all(|&n| n > 1000), "outcomes {seen:?}");
}

#[test]
fn impossible_stamps_and_positions_are_reported() {
    let (indices, slots) = (SpscIndices::new(), TestSlots::new());
    let (ring, mut tx, mut rx) = ends(&indices, &slots);
    let previous_lap = 0u64.wrapping_sub(8).wrapping_add(2);
    assert_eq!(slots.stamps[0].load(Ordering::Relaxed), previous_lap);
    slots.stamps[0].store(77, Ordering::Relaxed);
    assert_eq!(
        rx.pop::<u64>(),
        Err(RingError::CorruptStamp {
            position: 0,
            stamp: 77,
            expected: [1, previous_lap],
        })
    );
    slots.stamps[0].store(previous_lap, Ordering::Relaxed);
    assert_eq!(tx.push_slice(&[1u64, 2, 3, 4]), Ok(4));
    indices.head.store(1 << 40, Ordering::Relaxed);
    assert!(matches!(ring.check(), Err(RingError::Corrupt { .. })));
    // The producer reads the head only once its cached room says full.
    assert!(matches!(tx.push(5u64), Err(RingError::Corrupt { .. })));
}
