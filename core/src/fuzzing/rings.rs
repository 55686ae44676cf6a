//! The rings driven by arbitrary operations, checked against a model, with
//! their shared words overwritten by arbitrary values in between.
//!
//! Input: a header byte choosing the capacity and the slots' shape, then
//! operations of three bytes each (what, an argument, a value). Until the
//! first overwrite every result must be the model's; after it, any result
//! the ring's contract allows (an item, would-block, or an error naming the
//! corruption), and never an access outside the slots (the storage here
//! panics on one) nor an operation that does not return.

use crate::mpmc::{ClaimerId, Mpmc, MpmcIndices, SequencedSlots};
use crate::primitives::{AtomicU64, Ordering};
use crate::ring::{RingError, Slots};
use crate::spsc::{GroupedSlots, Spsc, SpscGeometry, SpscIndices};

/// The most slots (MPMC) or groups (SPSC) a fuzzed ring has.
const MAX_SLOTS: usize = 64;
/// The most items under one stamp in a fuzzed SPSC ring.
const MAX_PER_GROUP: usize = 7;
/// The largest capacity a fuzzed ring has (MPMC's 32 slots).
const MAX_CAPACITY: usize = 32;

/// Race-tolerant storage (atomics), checked: an index past the ring's
/// slots panics, which the fuzzer reports.
struct FuzzSlots<const K: usize> {
    count: usize,
    items: [AtomicU64; MAX_SLOTS * MAX_PER_GROUP],
    stamps: [AtomicU64; MAX_SLOTS],
}

impl<const K: usize> FuzzSlots<K> {
    fn new(count: usize) -> FuzzSlots<K> {
        assert!(count <= MAX_SLOTS && K <= MAX_PER_GROUP);
        FuzzSlots {
            count,
            items: core::array::from_fn(|_| AtomicU64::new(0)),
            stamps: core::array::from_fn(|_| AtomicU64::new(0)),
        }
    }

    fn check(&self, slot: usize, offset: usize) -> usize {
        assert!(
            slot < self.count,
            "slot {slot} outside {} slots",
            self.count
        );
        assert!(offset < K, "item {offset} outside {K} per slot");
        slot * K + offset
    }
}

impl<const K: usize> Slots<u64> for FuzzSlots<K> {
    unsafe fn write(&self, index: usize, value: u64) {
        self.items[self.check(index, 0)].store(value, Ordering::Relaxed);
    }
    unsafe fn read(&self, index: usize) -> u64 {
        self.items[self.check(index, 0)].load(Ordering::Relaxed)
    }
}

// SAFETY: atomic slots: a read racing a write is defined, and any u64 is
// valid.
unsafe impl<const K: usize> SequencedSlots<u64> for FuzzSlots<K> {
    unsafe fn sequence(&self, index: usize) -> &AtomicU64 {
        &self.stamps[self.check(index, 0) / K]
    }
}

impl<const K: usize> GroupedSlots<u64> for FuzzSlots<K> {
    const PER_GROUP: u64 = K as u64;
    unsafe fn stamp(&self, group: usize) -> &AtomicU64 {
        &self.stamps[self.check(group, 0) / K]
    }
    unsafe fn write(&self, group: usize, offset: usize, value: u64) {
        self.items[self.check(group, offset)].store(value, Ordering::Relaxed);
    }
    unsafe fn read(&self, group: usize, offset: usize) -> u64 {
        self.items[self.check(group, offset)].load(Ordering::Relaxed)
    }
}

/// What a ring's pops are checked against.
trait Fifo {
    /// The model's next item, taken; `None` if a pop must find none.
    fn pop(&mut self) -> Option<u64>;

    /// Checks a `pop` against the model: its oldest item, or `WouldBlock`
    /// when it has none.
    fn check_pop(&mut self, popped: Result<u64, RingError>) {
        match (popped, self.pop()) {
            (Ok(v), Some(m)) => assert_eq!(v, m, "pop"),
            (Err(RingError::WouldBlock), None) => {}
            (got, want) => panic!("pop gave {got:?}, the model {want:?}"),
        }
    }

    /// Checks a `pop_slice` of up to `want` items into `out` against the
    /// model: the model's oldest items, as many as asked or all there were.
    fn check_popped(&mut self, popped: Result<usize, RingError>, out: &[u64], want: usize) {
        let n = popped.expect("pop_slice");
        for v in &out[..n] {
            assert_eq!(Some(*v), self.pop(), "pop_slice");
        }
        assert!(n == want || self.pop().is_none());
    }
}

/// A bounded FIFO of `u64`s: what the rings must behave as.
struct Model {
    items: [u64; MAX_CAPACITY],
    head: usize,
    len: usize,
    capacity: usize,
}

impl Model {
    fn new(capacity: usize) -> Model {
        Model {
            items: [0; MAX_CAPACITY],
            head: 0,
            len: 0,
            capacity,
        }
    }
    fn push(&mut self, v: u64) -> bool {
        if self.len == self.capacity {
            return false;
        }
        self.items[(self.head + self.len) % MAX_CAPACITY] = v;
        self.len += 1;
        true
    }
}

impl Fifo for Model {
    fn pop(&mut self) -> Option<u64> {
        if self.len == 0 {
            return None;
        }
        let v = self.items[self.head];
        self.head = (self.head + 1) % MAX_CAPACITY;
        self.len -= 1;
        Some(v)
    }
}

/// What an MPMC position holds, in [`PositionModel`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Position {
    Item(u64),
    /// Claimed by a producer that died before publishing.
    Hole,
    /// Claimed and given up: consumers pass it.
    Void,
    /// Taken, or passed over: it carries nothing.
    Taken,
}

/// The MPMC ring's positions from the first one not taken to the tail:
/// what the ring must behave as. The room is positional: a push at `tail`
/// needs position `tail - capacity` taken, so a void position fills the
/// window until consumers pass it.
struct PositionModel {
    positions: [Position; MAX_SLOTS],
    /// The first position not taken.
    base: u64,
    /// The next position to claim.
    tail: u64,
    capacity: u64,
}

impl PositionModel {
    fn new(capacity: usize) -> PositionModel {
        PositionModel {
            positions: [Position::Taken; MAX_SLOTS],
            base: 0,
            tail: 0,
            capacity: capacity as u64,
        }
    }

    fn at(&self, position: u64) -> Position {
        if position < self.base || position >= self.tail {
            return Position::Taken;
        }
        self.positions[position as usize % MAX_SLOTS]
    }

    fn set(&mut self, position: u64, what: Position) {
        self.positions[position as usize % MAX_SLOTS] = what;
        while self.base < self.tail && self.at(self.base) == Position::Taken {
            self.base += 1;
        }
    }

    /// Whether position `tail + ahead` would have room: the position
    /// `capacity` before it is taken (positions before the first are).
    fn room(&self, ahead: u64) -> bool {
        let pos = self.tail + ahead;
        pos < self.capacity || self.at(pos - self.capacity) == Position::Taken
    }

    fn claim(&mut self, what: Position) -> bool {
        if !self.room(0) {
            return false;
        }
        assert!(self.tail - self.base < MAX_SLOTS as u64, "model window");
        let pos = self.tail;
        self.tail += 1;
        self.set(pos, what);
        true
    }
}

impl Fifo for PositionModel {
    /// The item at the front, taken; `None` if there is none or a dead
    /// claim comes first.
    fn pop(&mut self) -> Option<u64> {
        loop {
            match self.at(self.base) {
                Position::Item(v) => {
                    self.set(self.base, Position::Taken);
                    return Some(v);
                }
                Position::Void => self.set(self.base, Position::Taken),
                Position::Hole | Position::Taken => return None,
            }
        }
    }
}

/// The operations of `data` after its header byte, three bytes each.
fn ops(data: &[u8]) -> impl Iterator<Item = (u8, u8, u64)> + '_ {
    data.get(1..)
        .unwrap_or_default()
        .chunks_exact(3)
        .enumerate()
        .map(|(i, op)| (op[0], op[1], u64::from(op[2]) << 8 | i as u64))
}

/// A garbage value for a shared word, from an operation's bytes: small
/// numbers, numbers near the wrap, and anything.
fn garbage(arg: u8, value: u64) -> u64 {
    match arg % 4 {
        0 => value % 64,
        1 => u64::MAX - value % 64,
        2 => value.wrapping_mul(0x9e37_79b9_7f4a_7c15),
        _ => value << 32,
    }
}

/// Drives an SPSC ring. Header byte: capacity (low 5 bits, 1 to 32) and
/// items per stamp (high bits: 1, 2, 3 or 7).
pub fn spsc_ops(data: &[u8]) {
    let header = data.first().copied().unwrap_or(0);
    match header >> 5 & 3 {
        0 => spsc_with::<1>(data),
        1 => spsc_with::<2>(data),
        2 => spsc_with::<3>(data),
        _ => spsc_with::<7>(data),
    }
}

fn spsc_with<const K: usize>(data: &[u8]) {
    let capacity = (data.first().copied().unwrap_or(0) as usize & 31) % MAX_CAPACITY + 1;
    let Some(geometry) = SpscGeometry::new(capacity as u64, K as u64) else {
        return;
    };
    let groups = geometry.groups() as usize;
    if groups > MAX_SLOTS {
        return;
    }
    let indices = SpscIndices::new();
    let slots = FuzzSlots::<K>::new(groups);
    // SAFETY: the slots hold the geometry's groups of `K` (checked by
    // `FuzzSlots` on every access); they are atomics, race-tolerant; this
    // function is the ring's only user, with one endpoint of each side.
    let (ring, mut tx, mut rx) = unsafe {
        let ring = Spsc::new(&indices, &slots, geometry);
        ring.init::<u64>();
        (ring, ring.producer(), ring.consumer())
    };
    let mut model = Model::new(capacity);
    let mut scribbled = false;
    let mut out = [0u64; 8];
    for (what, arg, value) in ops(data) {
        match what % 8 {
            0 | 1 => {
                let pushed = tx.push(value);
                if !scribbled {
                    assert_eq!(pushed.is_ok(), model.push(value), "push");
                }
            }
            2 | 3 => {
                let popped = rx.pop::<u64>();
                if !scribbled {
                    model.check_pop(popped);
                }
            }
            4 => {
                let items = [value; 8];
                let n = tx.push_slice(&items[..arg as usize % 8]);
                if !scribbled {
                    let n = n.expect("push_slice");
                    for _ in 0..n {
                        assert!(model.push(value));
                    }
                    assert!(n == arg as usize % 8 || model.len == model.capacity);
                }
            }
            5 => {
                let want = arg as usize % 8;
                let popped = rx.pop_slice(&mut out[..want]);
                if !scribbled {
                    model.check_popped(popped, &out, want);
                }
            }
            6 => {
                let _ = ring.check();
                let _ = indices.len();
            }
            _ => {
                scribbled = true;
                let v = garbage(arg, value);
                match arg % 3 {
                    0 => overwrite_positions(&indices, arg, v),
                    // SAFETY: group below the ring's groups.
                    _ => unsafe { slots.stamp(arg as usize % groups) }.store(v, Ordering::Relaxed),
                }
                let _ = tx.resume::<u64>();
            }
        }
    }
}

/// Writes `v` over one of the SPSC ring's shared words, as a peer could.
fn overwrite_positions(indices: &SpscIndices, arg: u8, v: u64) {
    // The positions are not public; their bytes are, as a peer sees them.
    let words = indices as *const SpscIndices as *const AtomicU64;
    let word = match arg % 3 {
        0 => 0,  // tail
        1 => 1,  // the cached room
        _ => 16, // head, in the second 128-byte block
    };
    // SAFETY: `SpscIndices` is `repr(C)`: its tail and cached room are its
    // first two `u64`s and its head starts its second 128-byte block; all
    // three are atomics, so an atomic store through them is as the ring's.
    unsafe { (*words.add(word)).store(v, Ordering::Relaxed) };
}

/// The claimer of every claim in the fuzzed MPMC ring; "dead" once it
/// forgets a claim unpublished.
const FUZZ_CLAIMER: ClaimerId = ClaimerId::from_low_bits(7);

/// Drives an MPMC ring. Header byte: the slots, a power of two from 1 to
/// 32 (low 3 bits as the exponent, capped), and how many fewer items than
/// slots it holds (the high bits, modulo the slots).
///
/// Besides pushes and pops, producers drop claims unpublished (the position
/// is passed over) and die between claim and publish (a hole the consumers
/// stop at until they pass it over).
pub fn mpmc_ops(data: &[u8]) {
    let header = data.first().copied().unwrap_or(0);
    let slot_count = 1usize << (header & 7).min(5);
    let capacity = slot_count - (header as usize >> 3) % slot_count;
    let indices = MpmcIndices::new();
    let slots = FuzzSlots::<1>::new(slot_count);
    // SAFETY: `slot_count` slots, a power of two (checked by `FuzzSlots` on
    // every access); atomics, race-tolerant; this function is the only
    // user, and initialises the ring first.
    let ring = unsafe { Mpmc::new(&indices, &slots, slot_count as u64, capacity as u64) };
    // SAFETY: as above.
    unsafe { ring.init::<u64>() };
    let by = FUZZ_CLAIMER;
    let mut model = PositionModel::new(capacity);
    let mut scribbled = false;
    let mut room_until = 0;
    let mut out = [0u64; 8];
    for (what, arg, value) in ops(data) {
        match what % 11 {
            0 | 1 => {
                let slack = u64::from(arg % 4) + 1;
                let pushed = ring.push_with_slack(by, value, slack, &mut room_until);
                if !scribbled {
                    // Holding out for slack may refuse an item the model
                    // takes, never the other way round.
                    match pushed {
                        Ok(()) => assert!(model.claim(Position::Item(value)), "push past room"),
                        // Refused only without room `slack - 1` ahead
                        // (the ring looks no further than its capacity).
                        Err(RingError::WouldBlock) => {
                            let reach = slack.min(model.capacity) - 1;
                            assert!(
                                !model.room(0) || !model.room(reach),
                                "refused with room for {slack}"
                            )
                        }
                        Err(e) => panic!("push: {e:?}"),
                    }
                }
            }
            2 | 3 => {
                let popped = ring.pop::<u64>();
                if !scribbled {
                    model.check_pop(popped);
                }
            }
            4 => {
                let items = [value; 8];
                let want = arg as usize % 8;
                let n = ring.push_slice(by, &items[..want]);
                if !scribbled {
                    let n = n.expect("push_slice");
                    for _ in 0..n {
                        assert!(model.claim(Position::Item(value)));
                    }
                    assert!(n == want || !model.room(0));
                }
            }
            5 => {
                let want = arg as usize % 8;
                let popped = ring.pop_slice(&mut out[..want]);
                if !scribbled {
                    model.check_popped(popped, &out, want);
                }
            }
            6 => {
                let _ = ring.check();
                let _ = indices.len();
            }
            7 => {
                // A claim dropped unpublished, or a producer dying with it.
                let claim = ring.claim::<u64>(by, 1, &mut 0);
                let dies = arg & 1 == 1;
                if !scribbled {
                    let what = if dies { Position::Hole } else { Position::Void };
                    let room = model.claim(what);
                    assert_eq!(claim.is_ok(), room, "claim: {:?}", claim.as_ref().err());
                }
                match claim {
                    Ok(claim) if dies => core::mem::forget(claim),
                    other => drop(other),
                }
            }
            8 => {
                // A consumer passing over a dead producer's claim.
                let stalled = ring.stalled_claim::<u64>();
                if let Some(stalled) = stalled {
                    if !scribbled {
                        assert_eq!(stalled.claimer(), by);
                    }
                    // SAFETY: every claim of this ring that is not
                    // published at once is forgotten: its claimer is dead.
                    // (After an overwrite the stamp may name a claim never
                    // made: the slots are atomics, so that garbles items.)
                    let passed = unsafe { ring.pass_over::<u64>(&stalled) };
                    if !scribbled {
                        assert!(passed);
                    }
                }
                if !scribbled {
                    let hole = model.at(model.base) == Position::Hole;
                    assert_eq!(stalled.is_some(), hole, "stalled claim");
                    if hole {
                        model.set(model.base, Position::Taken);
                    }
                }
            }
            _ => {
                scribbled = true;
                let v = garbage(arg, value);
                if arg % 3 == 0 {
                    let words = &indices as *const MpmcIndices as *const AtomicU64;
                    let word = if arg & 8 == 0 { 0 } else { 16 };
                    // SAFETY: `RingPositions` is `repr(C)`: its tail is its
                    // first `u64`, its head starts its second 128-byte
                    // block; both atomics.
                    unsafe { (*words.add(word)).store(v, Ordering::Relaxed) };
                } else {
                    // SAFETY: a slot below the capacity.
                    unsafe { slots.sequence(arg as usize % slot_count) }
                        .store(v, Ordering::Relaxed);
                }
            }
        }
    }
}
