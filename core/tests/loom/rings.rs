//! Models of the SPSC and MPMC rings and the eventcount.

use super::*;

/// Slot storage for the SPSC models: loom's UnsafeCell flags any overlapping
/// read and write, so the models check the slot hand-over, not just the indices.
/// `seqs.len()` groups of `K` items each.
struct LoomSlots<const K: usize = 1> {
    data: Vec<UnsafeCell<u32>>,
    seqs: Vec<AtomicU64>,
}

impl<const K: usize> LoomSlots<K> {
    fn new(slots: usize) -> LoomSlots<K> {
        LoomSlots {
            data: (0..slots * K).map(|_| UnsafeCell::new(0)).collect(),
            seqs: (0..slots).map(|_| AtomicU64::new(0)).collect(),
        }
    }
}

impl<const K: usize> Slots<u32> for LoomSlots<K> {
    unsafe fn write(&self, index: usize, value: u32) {
        // SAFETY: forwarded from the ring protocol; loom checks it.
        self.data[index].with_mut(|p| unsafe { *p = value });
    }
    unsafe fn read(&self, index: usize) -> u32 {
        // SAFETY: as above.
        self.data[index].with(|p| unsafe { *p })
    }
}

impl<const K: usize> GroupedSlots<u32> for LoomSlots<K> {
    const PER_GROUP: u64 = K as u64;
    unsafe fn stamp(&self, group: usize) -> &AtomicU64 {
        &self.seqs[group]
    }
    unsafe fn write(&self, group: usize, offset: usize, value: u32) {
        // SAFETY: forwarded from the ring protocol; loom checks it.
        unsafe { Slots::write(self, group * K + offset, value) }
    }
    unsafe fn read(&self, group: usize, offset: usize) -> u32 {
        // SAFETY: as above.
        unsafe { Slots::read(self, group * K + offset) }
    }
}

/// An SPSC ring of `capacity` items in groups of `K`, shared by the model's
/// threads, with its stamps initialised.
fn spsc_ring<const K: usize>(capacity: u64) -> (Arc<(SpscIndices, LoomSlots<K>)>, SpscGeometry) {
    let geometry = SpscGeometry::new(capacity, K as u64).unwrap();
    let ring = Arc::new((
        SpscIndices::new(),
        LoomSlots::new(geometry.groups() as usize),
    ));
    // SAFETY: the slots hold the geometry's groups; nothing else uses the
    // ring yet.
    unsafe { Spsc::new(&ring.0, &ring.1, geometry).init::<u32>() };
    (ring, geometry)
}

/// One producer pushes `0..items` one at a time; the consumer must pop them
/// all, in order.
fn spsc_single_items_keep_order<const K: usize>(capacity: u64, items: u32) {
    model(move || {
        let (ring, geometry) = spsc_ring::<K>(capacity);
        let producer = {
            let ring = ring.clone();
            thread::spawn(move || {
                // SAFETY: the slots hold the geometry's groups; this is
                // the model's one producer.
                let mut spsc = unsafe { Spsc::new(&ring.0, &ring.1, geometry).producer() };
                let mut next = 0u32;
                while next < items {
                    match spsc.push(next) {
                        Ok(()) => next += 1,
                        Err(RingError::WouldBlock) => thread::yield_now(),
                        Err(e) => panic!("{e:?}"),
                    }
                }
            })
        };
        // SAFETY: the slots hold the geometry's groups; this is the model's
        // one consumer.
        let mut spsc = unsafe { Spsc::new(&ring.0, &ring.1, geometry).consumer() };
        let mut got = Vec::new();
        while got.len() < items as usize {
            match spsc.pop::<u32>() {
                Ok(v) => got.push(v),
                Err(RingError::WouldBlock) => thread::yield_now(),
                Err(e) => panic!("{e:?}"),
            }
        }
        producer.join().unwrap();
        assert_eq!(got, (0..items).collect::<Vec<_>>());
    });
}

/// As [`spsc_single_items_keep_order`], in batches of up to two.
fn spsc_batches_keep_order<const K: usize>(capacity: u64, items: u32) {
    model(move || {
        let (ring, geometry) = spsc_ring::<K>(capacity);
        let producer = {
            let ring = ring.clone();
            thread::spawn(move || {
                // SAFETY: as in `spsc_single_items_keep_order`.
                let mut spsc = unsafe { Spsc::new(&ring.0, &ring.1, geometry).producer() };
                let all: Vec<u32> = (0..items).collect();
                let mut sent = 0;
                while sent < all.len() {
                    match spsc.push_slice(&all[sent..]) {
                        Ok(0) => thread::yield_now(),
                        Ok(n) => sent += n,
                        Err(e) => panic!("{e:?}"),
                    }
                }
            })
        };
        // SAFETY: as in `spsc_single_items_keep_order`.
        let mut spsc = unsafe { Spsc::new(&ring.0, &ring.1, geometry).consumer() };
        let mut got = Vec::new();
        let mut buf = [u32::MAX; 2];
        while got.len() < items as usize {
            match spsc.pop_slice(&mut buf) {
                Ok(0) => thread::yield_now(),
                Ok(n) => got.extend_from_slice(&buf[..n]),
                Err(e) => panic!("{e:?}"),
            }
        }
        producer.join().unwrap();
        assert_eq!(got, (0..items).collect::<Vec<_>>());
    });
}

#[test]
fn spsc_ring_keeps_order_without_loss_across_wraparound() {
    spsc_single_items_keep_order::<1>(2, 3);
}

/// Two items under each stamp, four groups' worth of items and one more:
/// items share a stamp, and the producer re-enters the first group only
/// once the consumer has left it.
#[test]
fn spsc_ring_with_shared_stamps_keeps_order_across_groups_and_laps() {
    spsc_single_items_keep_order::<2>(2, 5);
}

#[test]
fn spsc_ring_batches_keep_order_without_loss_across_wraparound() {
    spsc_batches_keep_order::<1>(2, 3);
}

#[test]
fn spsc_ring_batches_with_shared_stamps_keep_order_across_groups_and_laps() {
    spsc_batches_keep_order::<2>(2, 5);
}

/// Slot storage for the MPMC models. A consumer copies an item out before
/// its compare-and-swap decides whether the item is its own, so a read may
/// overlap a write by design (`SequencedSlots`' contract): the items are
/// atomics. Writes still go through an `UnsafeCell` token, so loom flags
/// two producers writing one slot without an order between them; a read
/// that returned a wrong item shows in the models' bookkeeping.
struct MpmcSlots {
    items: Vec<AtomicU32>,
    writers: Vec<UnsafeCell<()>>,
    stamps: Vec<AtomicU64>,
}

impl MpmcSlots {
    fn new(slots: usize) -> MpmcSlots {
        MpmcSlots {
            items: (0..slots).map(|_| AtomicU32::new(0)).collect(),
            writers: (0..slots).map(|_| UnsafeCell::new(())).collect(),
            stamps: (0..slots).map(|_| AtomicU64::new(0)).collect(),
        }
    }
}

impl Slots<u32> for MpmcSlots {
    unsafe fn write(&self, index: usize, value: u32) {
        self.writers[index].with_mut(|_| ());
        self.items[index].store(value, Ordering::Relaxed);
    }
    unsafe fn read(&self, index: usize) -> u32 {
        self.items[index].load(Ordering::Relaxed)
    }
}

// SAFETY: the items are atomics: a read overlapping a write is defined, and
// any u32 is valid.
unsafe impl SequencedSlots<u32> for MpmcSlots {
    unsafe fn sequence(&self, index: usize) -> &AtomicU64 {
        &self.stamps[index]
    }
}

type MpmcRing = (MpmcIndices, MpmcSlots);

/// The MPMC ring over a model's slots, holding as many items as slots.
fn mpmc(ring: &MpmcRing) -> Mpmc<'_, MpmcSlots> {
    let slots = ring.1.stamps.len() as u64;
    // SAFETY: `slots` slots, a power of two in every model, used only
    // through `Mpmc` rings of that size, each model initialising them first.
    unsafe { Mpmc::new(&ring.0, &ring.1, slots, slots) }
}

fn mpmc_ring(slots: usize) -> Arc<MpmcRing> {
    let ring = Arc::new((MpmcIndices::new(), MpmcSlots::new(slots)));
    // SAFETY: nothing else uses the ring yet.
    unsafe { mpmc(&ring).init::<u32>() };
    ring
}

fn claimer(id: u32) -> ClaimerId {
    ClaimerId::new(id).unwrap()
}

/// Pushes each of `items` once, for claimer `by`; the ones that went in.
fn push_each(ring: &MpmcRing, by: u32, items: &[u32]) -> Vec<u32> {
    let mpmc = mpmc(ring);
    items
        .iter()
        .copied()
        .filter(|v| match mpmc.push(claimer(by), *v) {
            Ok(()) => true,
            Err(RingError::WouldBlock) => false,
            Err(e) => panic!("{e:?}"),
        })
        .collect()
}

/// One pop: the item, or `None` if there was none.
fn try_pop(ring: &MpmcRing) -> Option<u32> {
    match mpmc(ring).pop::<u32>() {
        Ok(v) => Some(v),
        Err(RingError::WouldBlock) => None,
        Err(e) => panic!("{e:?}"),
    }
}

#[test]
fn mpmc_ring_delivers_each_item_once_in_per_producer_order() {
    model(|| {
        let ring = mpmc_ring(4);
        // One producer holds out for two free slots (the waiting `put`'s
        // slack); the look ahead must neither lose nor reorder an item.
        let producer = |base: u32, items: u32, slack: u64| {
            let ring = ring.clone();
            thread::spawn(move || {
                let mpmc = mpmc(&ring);
                let mut room_until = 0;
                for v in base..base + items {
                    while let Err(e) =
                        mpmc.push_with_slack(claimer(base), v, slack, &mut room_until)
                    {
                        assert_eq!(e, RingError::WouldBlock);
                        thread::yield_now();
                    }
                }
            })
        };
        let a = producer(10, 2, 1);
        let b = producer(20, 1, 2);
        let mpmc = mpmc(&ring);
        let mut got = Vec::new();
        while got.len() < 3 {
            match mpmc.pop::<u32>() {
                Ok(v) => got.push(v),
                Err(RingError::WouldBlock) => thread::yield_now(),
                Err(e) => panic!("{e:?}"),
            }
        }
        a.join().unwrap();
        b.join().unwrap();
        let from = |base: u32| {
            got.iter()
                .copied()
                .filter(|v| v / 10 == base / 10)
                .collect::<Vec<_>>()
        };
        assert_eq!(from(10), vec![10, 11]);
        assert_eq!(from(20), vec![20]);
    });
}

#[test]
fn mpmc_ring_of_capacity_one_neither_loses_nor_duplicates_with_two_consumers() {
    // No thread waits for another (every attempt is made once), so that loom
    // can explore all of it; the bookkeeping after the joins catches any item
    // overwritten, taken twice or lost.
    model(|| {
        let ring = mpmc_ring(1);
        let producer = {
            let ring = ring.clone();
            thread::spawn(move || push_each(&ring, 1, &[10, 20]))
        };
        let other = {
            let ring = ring.clone();
            thread::spawn(move || try_pop(&ring))
        };
        let mut got: Vec<u32> = try_pop(&ring).into_iter().collect();
        got.extend(other.join().unwrap());
        let pushed = producer.join().unwrap();
        got.extend(try_pop(&ring));
        assert_eq!(try_pop(&ring), None, "one slot holds one item");
        got.sort();
        assert_eq!(got, pushed, "every item pushed comes out exactly once");
    });
}

#[test]
fn mpmc_ring_passes_over_a_dead_producer_and_delivers_every_other_item_once() {
    // Producer 1 claims a slot and "dies" (forgets the claim, then says it
    // is dead, as the OS would). Producer 2 pushes into a ring of two slots,
    // so its second item needs the dead claim's slot on the next lap. A
    // consumer pops and passes over a stalled claim once its claimer is dead,
    // racing both. No thread waits for another (every attempt is made once)
    // so that loom can explore all of it; afterwards the ring is drained
    // and every item pushed must have come out exactly once.
    model(|| {
        let ring = mpmc_ring(2);
        let dead = Arc::new(AtomicBool::new(false));
        let dies = {
            let (ring, dead) = (ring.clone(), dead.clone());
            thread::spawn(move || {
                let mpmc = mpmc(&ring);
                // (If producer 2 filled the ring first, it dies with none.)
                if let Ok(claim) = mpmc.claim::<u32>(claimer(1), 1, &mut 0) {
                    core::mem::forget(claim);
                }
                dead.store(true, Ordering::SeqCst);
            })
        };
        let lives = {
            let ring = ring.clone();
            thread::spawn(move || push_each(&ring, 2, &[20, 21]))
        };
        // Pops, or passes over a claim of the dead producer.
        let step = |ring: &MpmcRing, dead: &AtomicBool| -> Option<u32> {
            if let Some(v) = try_pop(ring) {
                return Some(v);
            }
            let mpmc = mpmc(ring);
            if let Some(stalled) = mpmc.stalled_claim::<u32>() {
                if stalled.claimer() == claimer(1) && dead.load(Ordering::SeqCst) {
                    // SAFETY: its claimer is dead: it never publishes.
                    unsafe { mpmc.pass_over::<u32>(&stalled) };
                }
            }
            None
        };
        let consumer = {
            let (ring, dead) = (ring.clone(), dead.clone());
            thread::spawn(move || step(&ring, &dead))
        };
        dies.join().unwrap();
        let mut pushed = lives.join().unwrap();
        let mut got: Vec<u32> = consumer.join().unwrap().into_iter().collect();
        for _ in 0..4 {
            got.extend(step(&ring, &dead));
        }
        if !pushed.contains(&21) {
            mpmc(&ring).push(claimer(2), 21).unwrap();
            pushed.push(21);
            got.extend(step(&ring, &dead));
        }
        got.sort();
        assert_eq!(got, pushed, "every item pushed comes out exactly once");
        assert_eq!(mpmc(&ring).pop::<u32>(), Err(RingError::WouldBlock));
        assert_eq!(mpmc(&ring).check(), Ok(()));
    });
}

#[test]
fn eventcount_never_loses_a_wake_up() {
    model(|| {
        let s = Arc::new((EventCount::new(), Futex::default(), AtomicU32::new(0)));
        let waiter = {
            let s = s.clone();
            thread::spawn(move || loop {
                if s.2.load(Ordering::SeqCst) != 0 {
                    return;
                }
                let registration = s.0.prepare(&mut LoomPark(&s.1));
                if s.2.load(Ordering::SeqCst) != 0 {
                    return;
                }
                registration.wait(&mut LoomPark(&s.1));
            })
        };
        s.2.store(1, Ordering::SeqCst);
        s.0.notify(&s.1, 1);
        waiter.join().unwrap();
    });
}

/// `notify_if` wakes only when the condition holds: two notifiers each add
/// one to a count, and only the one that brings it to two may wake the
/// waiter. The waiter must still never sleep through the end.
#[test]
fn eventcount_notify_if_never_loses_the_wake_up_that_counts() {
    model(|| {
        let s = Arc::new((EventCount::new(), Futex::default(), AtomicU32::new(0)));
        let done = |s: &(EventCount, Futex, AtomicU32)| s.2.load(Ordering::SeqCst) == 2;
        let waiter = {
            let s = s.clone();
            thread::spawn(move || loop {
                if done(&s) {
                    return;
                }
                let registration = s.0.prepare(&mut LoomPark(&s.1));
                if done(&s) {
                    return;
                }
                registration.wait(&mut LoomPark(&s.1));
            })
        };
        let add = move |s: &(EventCount, Futex, AtomicU32)| {
            s.2.fetch_add(1, Ordering::SeqCst);
            s.0.notify_if(&s.1, u32::MAX, || done(s));
        };
        let other = {
            let s = s.clone();
            thread::spawn(move || add(&s))
        };
        add(&s);
        other.join().unwrap();
        waiter.join().unwrap();
    });
}

/// Byte storage for the byte ring's models: header words as loom atomics,
/// payload bytes in loom's `UnsafeCell`, so that a payload read while it is
/// written is flagged.
struct LoomBytes {
    headers: Vec<AtomicU64>,
    bytes: Vec<UnsafeCell<u8>>,
}

impl LoomBytes {
    fn new(len: usize) -> LoomBytes {
        LoomBytes {
            headers: (0..len / 8).map(|_| AtomicU64::new(0)).collect(),
            bytes: (0..len).map(|_| UnsafeCell::new(0)).collect(),
        }
    }
}

impl ByteStorage for LoomBytes {
    unsafe fn header(&self, offset: usize) -> &AtomicU64 {
        &self.headers[offset / 8]
    }
    unsafe fn write(&self, offset: usize, src: &[u8]) {
        for (i, b) in src.iter().enumerate() {
            // SAFETY: forwarded from the ring protocol; loom checks it.
            self.bytes[offset + i].with_mut(|p| unsafe { *p = *b });
        }
    }
    unsafe fn read(&self, offset: usize, dst: &mut [u8]) {
        for (i, b) in dst.iter_mut().enumerate() {
            // SAFETY: as above.
            *b = self.bytes[offset + i].with(|p| unsafe { *p });
        }
    }
}

#[test]
fn byte_ring_hands_over_messages_whole_in_order_across_a_pad() {
    // A 32-byte ring: the third message (16 bytes of record) does not fit
    // before the end after the first two, so a pad goes in first.
    model(|| {
        let ring = Arc::new((RingPositions::new(), LoomBytes::new(32)));
        let messages: [&[u8]; 3] = [&[1, 2, 3], &[4; 9], &[5; 7]];
        let producer = {
            let ring = ring.clone();
            thread::spawn(move || {
                // SAFETY: 32 bytes; the model's one pusher.
                let mut tx = unsafe { ByteRing::new(&ring.0, &ring.1, 32).pusher() };
                for m in messages {
                    loop {
                        match tx.push(m) {
                            Ok(()) => break,
                            Err(ByteRingError::WouldBlock) => thread::yield_now(),
                            Err(e) => panic!("{e:?}"),
                        }
                    }
                }
            })
        };
        // SAFETY: 32 bytes; the model's one popper.
        let mut rx = unsafe { ByteRing::new(&ring.0, &ring.1, 32).popper() };
        let mut out = [0u8; 24];
        for m in messages {
            loop {
                match rx.pop_into(&mut out) {
                    Ok(n) => {
                        assert_eq!(&out[..n], m);
                        break;
                    }
                    Err(ByteRingError::WouldBlock) => thread::yield_now(),
                    Err(e) => panic!("{e:?}"),
                }
            }
        }
        producer.join().unwrap();
        assert_eq!(rx.pop_into(&mut out), Err(ByteRingError::WouldBlock));
    });
}

/// Pushes `message` as one record, yielding while the ring is full.
fn push_whole(tx: &mut BytePusher<'_, LoomBytes>, message: &[u8]) {
    loop {
        match tx.push(message) {
            Ok(()) => return,
            Err(ByteRingError::WouldBlock) => thread::yield_now(),
            Err(e) => panic!("{e:?}"),
        }
    }
}

/// The next record, yielding while there is none.
fn next_record(rx: &mut BytePopper<'_, LoomBytes>) -> Record {
    loop {
        match rx.peek() {
            Ok(Some(record)) => return record,
            Ok(None) => thread::yield_now(),
            Err(e) => panic!("{e:?}"),
        }
    }
}

#[test]
fn byte_ring_streams_a_message_in_parts_and_publishes_a_reservation_only_on_commit() {
    // A 32-byte ring: a first part (16 bytes of record), a next part, then
    // a reservation written in two pieces, which wraps behind a pad.
    model(|| {
        let ring = Arc::new((RingPositions::new(), LoomBytes::new(32)));
        let producer = {
            let ring = ring.clone();
            thread::spawn(move || {
                // SAFETY: 32 bytes; the model's one pusher.
                let mut tx = unsafe { ByteRing::new(&ring.0, &ring.1, 32).pusher() };
                for (kind, part) in [(RecordKind::First, [1u8; 8]), (RecordKind::Next, [2; 8])] {
                    let room = loop {
                        match tx.reserve(8) {
                            Ok(room) => break room,
                            Err(ByteRingError::WouldBlock) => thread::yield_now(),
                            Err(e) => panic!("{e:?}"),
                        }
                    };
                    // SAFETY: reserved for this pusher.
                    unsafe { ring.1.write(room.offset, &part) };
                    tx.commit(room, kind);
                }
                let room = loop {
                    match tx.reserve(16) {
                        Ok(room) => break room,
                        Err(ByteRingError::WouldBlock) => thread::yield_now(),
                        Err(e) => panic!("{e:?}"),
                    }
                };
                // SAFETY: reserved for this pusher; two pieces from words.
                unsafe {
                    ring.1.write(room.offset, &[3; 8]);
                    ring.1.write(room.offset + 8, &[4; 8]);
                }
                tx.commit(room, RecordKind::Whole);
            })
        };
        // SAFETY: 32 bytes; the model's one popper.
        let mut rx = unsafe { ByteRing::new(&ring.0, &ring.1, 32).popper() };
        let mut assembled = Vec::new();
        for kind in [RecordKind::First, RecordKind::Next] {
            let record = next_record(&mut rx);
            assert_eq!((record.kind, record.len), (kind, 8));
            let mut part = [0u8; 8];
            rx.read(&record, 0, &mut part);
            assembled.extend_from_slice(&part);
            rx.consume(&record);
        }
        assert_eq!(assembled, [[1u8; 8], [2; 8]].concat());
        let record = next_record(&mut rx);
        assert_eq!((record.kind, record.len), (RecordKind::Whole, 16));
        let mut whole = [0u8; 16];
        rx.read(&record, 0, &mut whole);
        assert_eq!(whole, [[3u8; 8], [4; 8]].concat()[..]);
        rx.consume(&record);
        producer.join().unwrap();
        assert_eq!(rx.peek(), Ok(None));
    });
}

#[test]
fn byte_ring_pusher_handed_between_producers_by_a_role_word_keeps_records_whole() {
    // Two producers take turns at one pusher through a role word, as the
    // queue's role records make them: each takes it by compare-exchange,
    // pushes from the tail the last holder published, and gives it back.
    // The consumer reads after both (the other models race it with a
    // producer); with it racing too, the model has more paths than loom
    // gets through in minutes. 64 bytes: both records and the word
    // cleared after each fit without a consumer.
    model(|| {
        let ring = Arc::new((RingPositions::new(), LoomBytes::new(64), AtomicU64::new(0)));
        let producers: Vec<_> = [1u8, 2]
            .into_iter()
            .map(|id| {
                let ring = ring.clone();
                thread::spawn(move || {
                    while ring
                        .2
                        .compare_exchange(0, u64::from(id), Ordering::Acquire, Ordering::Relaxed)
                        .is_err()
                    {
                        thread::yield_now();
                    }
                    // SAFETY: 64 bytes; the role word makes this the only pusher.
                    let mut tx = unsafe { ByteRing::new(&ring.0, &ring.1, 64).pusher() };
                    push_whole(&mut tx, &[id; 5]);
                    ring.2.store(0, Ordering::Release);
                })
            })
            .collect();
        for p in producers {
            p.join().unwrap();
        }
        // SAFETY: 64 bytes; the model's one popper.
        let mut rx = unsafe { ByteRing::new(&ring.0, &ring.1, 64).popper() };
        let mut seen = Vec::new();
        let mut out = [0u8; 8];
        while let Ok(n) = rx.pop_into(&mut out) {
            assert_eq!(n, 5);
            assert!(out[..5].iter().all(|&b| b == out[0]), "{out:?}");
            seen.push(out[0]);
        }
        seen.sort_unstable();
        assert_eq!(seen, [1, 2]);
    });
}

#[test]
fn byte_ring_record_published_past_the_tail_is_walked_over_by_the_next_pusher() {
    // A producer dies between publishing its header and storing the tail
    // (modelled by a pusher whose tail goes to positions of its own); the
    // next pusher walks over that record while the consumer may be reading
    // it, and writes after it.
    model(|| {
        let ring = Arc::new((
            RingPositions::new(),
            LoomBytes::new(32),
            RingPositions::new(),
        ));
        let producer = {
            let ring = ring.clone();
            thread::spawn(move || {
                // SAFETY: 32 bytes; the model's one pusher at a time. Its
                // positions are the ring's as they were (empty).
                let mut dying = unsafe { ByteRing::new(&ring.2, &ring.1, 32).pusher() };
                push_whole(&mut dying, &[1; 5]);
                // SAFETY: as above: `dying` is not used again.
                let mut next = unsafe { ByteRing::new(&ring.0, &ring.1, 32).pusher() };
                push_whole(&mut next, &[2; 5]);
            })
        };
        // SAFETY: 32 bytes; the model's one popper.
        let mut rx = unsafe { ByteRing::new(&ring.0, &ring.1, 32).popper() };
        let mut out = [0u8; 8];
        for fill in [1u8, 2] {
            let record = next_record(&mut rx);
            assert_eq!(record.len, 5);
            rx.read(&record, 0, &mut out[..5]);
            assert_eq!(out[..5], [fill; 5]);
            rx.consume(&record);
        }
        producer.join().unwrap();
        assert_eq!(rx.peek(), Ok(None));
    });
}
