use super::*;
use crate::ring::test_slots::TestSlots;

const ME: ClaimerId = match ClaimerId::new(7) {
    Some(id) => id,
    None => panic!(),
};

/// A ring over `TestSlots` (four stamped slots) holding `capacity` items.
fn with_ring(capacity: u64, f: impl FnOnce(&Mpmc<'_, TestSlots>, &MpmcIndices)) {
    let (indices, slots) = (MpmcIndices::new(), TestSlots::new());
    // SAFETY: `TestSlots` holds four atomic (race-tolerant) slots; the
    // test is the ring's only user, and initialises it first.
    let ring = unsafe { Mpmc::new(&indices, &slots, 4, capacity) };
    // SAFETY: as above.
    unsafe { ring.init::<u64>() };
    f(&ring, &indices);
}

#[test]
fn a_push_with_slack_looks_ahead_once_per_slack_items() {
    with_ring(4, |ring, _| {
        let mut room_until = 0;
        let mut push = |v: u64| ring.push_with_slack(ME, v, 2, &mut room_until);
        // Empty ring: the look at position 1 finds room, so positions 0
        // and 1 are taken without another look.
        assert_eq!(push(1), Ok(()));
        assert_eq!(push(2), Ok(()));
        assert_eq!(push(3), Ok(()));
        // Position 3 was seen free: no look, and the ring is full. At
        // position 4 the look finds item 2 still in position 5's slot, so
        // the item is refused (and kept), even once one slot is free...
        assert_eq!(push(4), Ok(()));
        assert_eq!(push(5), Err(RingError::WouldBlock));
        assert_eq!(ring.pop::<u64>(), Ok(1));
        assert_eq!(push(5), Err(RingError::WouldBlock));
        // ...until two are free; a plain push takes any room.
        assert_eq!(ring.push(ME, 5u64), Ok(()));
        assert_eq!(ring.pop::<u64>(), Ok(2));
        assert_eq!(ring.pop::<u64>(), Ok(3));
        assert_eq!(push(6), Ok(()));
        let mut out = [0u64; 4];
        assert_eq!(ring.pop_slice(&mut out), Ok(3));
        assert_eq!(out[..3], [4, 5, 6]);
    });
}

#[test]
fn a_capacity_below_the_slots_is_kept_across_laps() {
    with_ring(3, |ring, _| {
        for lap in 0..5u64 {
            assert_eq!(ring.push_slice(ME, &[lap, lap + 10, lap + 20, 99]), Ok(3));
            assert_eq!(ring.push(ME, 99u64), Err(RingError::WouldBlock));
            assert_eq!(ring.pop::<u64>(), Ok(lap));
            assert_eq!(ring.push(ME, lap + 30), Ok(()));
            let mut out = [0u64; 4];
            assert_eq!(ring.pop_slice(&mut out), Ok(3));
            assert_eq!(out[..3], [lap + 10, lap + 20, lap + 30]);
        }
    });
}

#[test]
fn a_claim_dropped_unpublished_carries_no_item_and_holds_its_place() {
    with_ring(4, |ring, indices| {
        ring.push(ME, 1u64).unwrap();
        drop(ring.claim::<u64>(ME, 1, &mut 0).unwrap());
        ring.push(ME, 2u64).unwrap();
        // The void position holds its place in the window until a consumer
        // passes it: one more position, then the ring is full.
        drop(ring.claim::<u64>(ME, 1, &mut 0).unwrap());
        assert_eq!(ring.push(ME, 3u64), Err(RingError::WouldBlock));
        assert_eq!(ring.pop::<u64>(), Ok(1));
        assert_eq!(ring.pop::<u64>(), Ok(2));
        assert_eq!(ring.pop::<u64>(), Err(RingError::WouldBlock));
        assert_eq!(indices.len(), 0);
        // Voids left on every slot, twice round, are freed at the head.
        for _ in 0..8 {
            drop(ring.claim::<u64>(ME, 1, &mut 0).unwrap());
            assert_eq!(ring.pop::<u64>(), Err(RingError::WouldBlock));
        }
        ring.push(ME, 4u64).unwrap();
        assert_eq!(ring.pop::<u64>(), Ok(4));
    });
}

#[test]
fn a_dead_claimer_stalls_consumers_until_passed_over() {
    with_ring(4, |ring, _| {
        ring.push(ME, 1u64).unwrap();
        // The claimer "dies": its claim is never published or dropped.
        let claim = ring.claim::<u64>(ME, 1, &mut 0).unwrap();
        assert_eq!(claim.position(), 1);
        core::mem::forget(claim);
        ring.push(ME, 2u64).unwrap();
        assert_eq!(ring.stalled_claim::<u64>(), None, "item 1 is ahead of it");
        assert_eq!(ring.pop::<u64>(), Ok(1));
        assert_eq!(ring.pop::<u64>(), Err(RingError::WouldBlock));
        let stalled = ring.stalled_claim::<u64>().unwrap();
        assert_eq!((stalled.position(), stalled.claimer()), (1, ME));
        // SAFETY: the claim was forgotten: it is never published.
        assert!(unsafe { ring.pass_over::<u64>(&stalled) });
        // SAFETY: as above; a second pass finds the slot changed.
        assert!(!unsafe { ring.pass_over::<u64>(&stalled) });
        assert_eq!(ring.pop::<u64>(), Ok(2));
        // The passed-over slot is reused on the next lap.
        assert_eq!(ring.push_slice(ME, &[3u64, 4, 5, 6, 7]), Ok(4));
        let mut out = [0u64; 4];
        assert_eq!(ring.pop_slice(&mut out), Ok(4));
        assert_eq!(out, [3, 4, 5, 6]);
    });
}

#[test]
fn positions_left_behind_by_a_dead_peer_are_moved_on() {
    with_ring(4, |ring, indices| {
        ring.push_slice(ME, &[1u64, 2, 3]).unwrap();
        // A producer that published and died before moving the tail, and a
        // consumer that took item 1 and died before moving the head.
        indices.tail.store(2, Ordering::Relaxed);
        assert_eq!(ring.pop::<u64>(), Ok(1));
        indices.head.store(0, Ordering::Relaxed);
        assert_eq!(ring.check(), Ok(()));
        ring.push(ME, 4u64).unwrap();
        let mut out = [0u64; 4];
        assert_eq!(ring.pop_slice(&mut out), Ok(3));
        assert_eq!(out[..3], [2, 3, 4]);
        assert_eq!(indices.len(), 0);
    });
}

#[test]
fn impossible_stamps_and_positions_are_errors() {
    with_ring(4, |ring, indices| {
        indices.tail.store(100, Ordering::Relaxed);
        assert!(matches!(ring.check(), Err(RingError::Corrupt { .. })));
        indices.tail.store(0, Ordering::Relaxed);
        indices.head.store(2, Ordering::Relaxed);
        assert!(matches!(ring.check(), Err(RingError::Corrupt { .. })));
        indices.head.store(0, Ordering::Relaxed);
        assert_eq!(ring.check(), Ok(()));
    });
    let (indices, slots) = (MpmcIndices::new(), TestSlots::new());
    // SAFETY: four atomic slots; this test is the only user.
    let ring = unsafe { Mpmc::new(&indices, &slots, 4, 4) };
    // Two laps ahead of a position that has not moved.
    slots.stamps[0].store(free(2), Ordering::Relaxed);
    assert!(matches!(ring.pop::<u64>(), Err(RingError::Corrupt { .. })));
    assert!(matches!(
        ring.push(ME, 1u64),
        Err(RingError::Corrupt { .. })
    ));
}
