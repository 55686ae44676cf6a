use super::*;

/// 64 bytes of storage: header words as atomics, payload bytes as atomics
/// too (race-tolerant), so that a test may scribble on either.
struct TestBytes {
    words: [AtomicU64; 8],
}

impl TestBytes {
    fn new() -> TestBytes {
        TestBytes {
            words: Default::default(),
        }
    }

    fn byte(&self, at: usize) -> (usize, u32) {
        (at / 8, (at % 8) as u32 * 8)
    }
}

impl ByteStorage for TestBytes {
    unsafe fn header(&self, offset: usize) -> &AtomicU64 {
        &self.words[offset / 8]
    }
    unsafe fn write(&self, offset: usize, src: &[u8]) {
        for (i, b) in src.iter().enumerate() {
            let (word, shift) = self.byte(offset + i);
            let w = &self.words[word];
            let old = w.load(Ordering::Relaxed);
            w.store(
                old & !(0xff << shift) | u64::from(*b) << shift,
                Ordering::Relaxed,
            );
        }
    }
    unsafe fn read(&self, offset: usize, dst: &mut [u8]) {
        for (i, b) in dst.iter_mut().enumerate() {
            let (word, shift) = self.byte(offset + i);
            *b = (self.words[word].load(Ordering::Relaxed) >> shift) as u8;
        }
    }
}

fn with_ring(
    f: impl FnOnce(&mut BytePusher<'_, TestBytes>, &mut BytePopper<'_, TestBytes>, &RingPositions),
) {
    let (indices, bytes) = (RingPositions::new(), TestBytes::new());
    // SAFETY: 64 bytes of atomics; one pusher and one popper, this test's.
    let (mut tx, mut rx) = unsafe {
        let ring = ByteRing::new(&indices, &bytes, 64);
        (ring.pusher(), ring.popper())
    };
    f(&mut tx, &mut rx, &indices);
}

#[test]
fn messages_of_every_length_come_out_whole_and_in_order_across_wraps() {
    with_ring(|tx, rx, _| {
        let mut out = [0u8; 48];
        for round in 0..200usize {
            let len = round % 49;
            let msg: [u8; 48] = core::array::from_fn(|i| (i + round) as u8);
            if tx.push(&msg[..len]) == Err(ByteRingError::WouldBlock) {
                // A pad went in first, and holds its bytes until the
                // consumer passes it (a look does).
                assert_eq!(rx.peek_len(), Ok(None));
                tx.push(&msg[..len]).unwrap();
            }
            assert_eq!(rx.peek_len(), Ok(Some(len)));
            assert_eq!(rx.pop_into(&mut out), Ok(len));
            assert_eq!(out[..len], msg[..len]);
        }
        assert_eq!(rx.pop_into(&mut out), Err(ByteRingError::WouldBlock));
    });
}

#[test]
fn a_full_ring_refuses_and_a_pad_waits_for_room() {
    with_ring(|tx, rx, indices| {
        let mut out = [0u8; 56];
        // Three records of 16 bytes, then one of 24 needs the 16 at the end
        // padded: refused while the first record is still there.
        for v in 0..3u8 {
            tx.push(&[v; 8]).unwrap();
        }
        assert_eq!(indices.len(), 48);
        assert_eq!(tx.push(&[9; 16]), Err(ByteRingError::WouldBlock));
        assert_eq!(rx.pop_into(&mut out), Ok(8));
        // Room for the pad (16) but not for the record after it (24).
        assert_eq!(tx.push(&[9; 16]), Err(ByteRingError::WouldBlock));
        assert_eq!(indices.len(), 48, "the pad is published on its own");
        assert_eq!(rx.pop_into(&mut out), Ok(8));
        assert_eq!(tx.push(&[9; 16]), Ok(()));
        assert_eq!(rx.pop_into(&mut out), Ok(8));
        assert_eq!(out[..8], [2; 8]);
        assert_eq!(rx.pop_into(&mut out), Ok(16));
        assert_eq!(out[..16], [9; 16]);
    });
}

#[test]
fn too_large_and_too_small_are_errors_that_lose_nothing() {
    with_ring(|tx, rx, _| {
        assert_eq!(
            tx.push(&[0; 49]),
            Err(ByteRingError::TooLarge { len: 49, max: 48 })
        );
        tx.push(&[7; 48]).unwrap();
        let mut small = [0u8; 10];
        assert_eq!(
            rx.pop_into(&mut small),
            Err(ByteRingError::BufferTooSmall { needed: 48 })
        );
        let mut out = [0u8; 64];
        assert_eq!(rx.pop_into(&mut out), Ok(48));
        assert!(out[..48].iter().all(|&b| b == 7));
    });
}

#[test]
fn garbage_headers_and_positions_are_refused_not_followed() {
    with_ring(|tx, rx, indices| {
        let mut out = [0u8; 64];
        tx.push(&[1; 8]).unwrap();
        // SAFETY: offset 0 of 64.
        let header = unsafe { tx.ring.storage.header(0) };
        let good = header.load(Ordering::Relaxed);
        for bad in [
            good | 1 << 20,
            good ^ 1 << 40,
            good | PAD,
            good | FIRST | NEXT,
            good | PAD | NEXT,
            u64::MAX,
        ] {
            header.store(bad, Ordering::Relaxed);
            assert!(matches!(
                rx.pop_into(&mut out),
                Err(ByteRingError::Corrupt { .. })
            ));
        }
        header.store(good, Ordering::Relaxed);
        assert_eq!(rx.pop_into(&mut out), Ok(8));
        // Positions off their words, as fresh endpoints read them.
        indices.tail.store(16 + 3, Ordering::Relaxed);
        indices.head.store(16 + 3, Ordering::Relaxed);
        // SAFETY: the test's ring; these endpoints replace `tx` and `rx`
        // for the two calls below.
        let (mut tx2, mut rx2) = unsafe { (tx.ring.pusher(), tx.ring.popper()) };
        assert!(matches!(
            rx2.pop_into(&mut out),
            Err(ByteRingError::Corrupt { .. })
        ));
        assert!(matches!(
            tx2.push(&[1; 8]),
            Err(ByteRingError::Corrupt { .. })
        ));
        // A head past the tail.
        indices.head.store(1 << 41, Ordering::Relaxed);
        assert!(matches!(
            tx.push(&[1; 48]),
            Err(ByteRingError::Corrupt { .. })
        ));
    });
}

#[test]
fn a_reservation_is_published_only_by_its_commit() {
    with_ring(|tx, rx, _| {
        let room = tx.reserve(20).unwrap();
        assert_eq!(room.offset % 8, 0);
        // SAFETY: the reserved bytes, this pusher's alone.
        unsafe { tx.ring.storage.write(room.offset, &[5; 20]) };
        assert_eq!(rx.peek(), Ok(None));
        // Dropped: the next reservation is the same room.
        assert_eq!(tx.reserve(8), Ok(Reserved { len: 8, ..room }));
        // SAFETY: as above.
        unsafe { tx.ring.storage.write(room.offset, &[6; 8]) };
        tx.commit(Reserved { len: 8, ..room }, RecordKind::Whole);
        let mut out = [0u8; 8];
        assert_eq!(rx.pop_into(&mut out), Ok(8));
        assert_eq!(out, [6; 8]);
    });
}

#[test]
fn parts_keep_their_kind_and_are_read_in_pieces() {
    with_ring(|tx, rx, _| {
        for (kind, fill) in [(RecordKind::First, 1), (RecordKind::Next, 2)] {
            let room = tx.reserve(16).unwrap();
            // SAFETY: the reserved bytes, this pusher's alone.
            unsafe { tx.ring.storage.write(room.offset, &[fill; 16]) };
            tx.commit(room, kind);
        }
        let first = rx.peek().unwrap().unwrap();
        assert_eq!((first.kind, first.len), (RecordKind::First, 16));
        let mut half = [0u8; 8];
        rx.read(&first, 8, &mut half);
        assert_eq!(half, [1; 8]);
        rx.consume(&first);
        let next = rx.peek().unwrap().unwrap();
        assert_eq!(next.kind, RecordKind::Next);
        rx.consume(&next);
        assert_eq!(rx.peek(), Ok(None));
    });
}

#[test]
fn the_word_after_a_record_is_cleared_before_the_record_is_published() {
    with_ring(|tx, rx, _| {
        // What an old lap could have left where the next record will
        // start: a header that passes every check for that position.
        // SAFETY: offset 16 of 64.
        let ahead = unsafe { tx.ring.storage.header(16) };
        ahead.store(check_bits(16) | MARK | 8, Ordering::Relaxed);
        tx.push(&[1; 8]).unwrap();
        let mut out = [0u8; 8];
        assert_eq!(rx.pop_into(&mut out), Ok(8));
        assert_eq!(rx.pop_into(&mut out), Err(ByteRingError::WouldBlock));
    });
}

#[test]
fn a_record_published_past_the_tail_is_walked_over_not_written_over() {
    with_ring(|tx, rx, indices| {
        // A producer that died between its header and its tail: the record
        // is published, the tail does not show it.
        tx.push(&[1; 8]).unwrap();
        indices.tail.store(0, Ordering::Relaxed);
        // SAFETY: the test's ring; `tx` is not used again.
        let mut next = unsafe { tx.ring.pusher() };
        assert_eq!(next.position(), 16);
        assert_eq!(tx.ring.published_end(), 16);
        next.push(&[2; 8]).unwrap();
        let mut out = [0u8; 8];
        assert_eq!(rx.pop_into(&mut out), Ok(8));
        assert_eq!(out, [1; 8]);
        // And once a consumer has taken it, too (the head past the tail).
        indices.tail.store(16, Ordering::Relaxed);
        assert_eq!(rx.pop_into(&mut out), Ok(8));
        assert_eq!(out, [2; 8]);
        // SAFETY: as above; `next` is not used again.
        let mut last = unsafe { tx.ring.pusher() };
        assert_eq!(last.position(), 32);
        last.push(&[3; 8]).unwrap();
        assert_eq!(rx.pop_into(&mut out), Ok(8));
        assert_eq!(out, [3; 8]);
        assert!(!tx.ring.holds_record());
    });
}
