//! What the rings share: their positions, the slot storage they are given,
//! and their errors.

use crate::primitives::{AtomicU64, Ordering};

/// Storage for `capacity` slots, which the ring protocols hand back and forth.
///
/// `shmipc-shm` implements it over a segment (race-tolerant copies); the loom
/// tests implement it with loom's `UnsafeCell`, so the model checker verifies
/// that the protocol never lets a reader and a writer touch a slot at once.
pub trait Slots<T: Copy> {
    /// Writes slot `index` (always `< capacity`).
    ///
    /// # Safety
    /// The ring protocol gives the caller exclusive access to the slot.
    unsafe fn write(&self, index: usize, value: T);

    /// Reads slot `index` (always `< capacity`).
    ///
    /// # Safety
    /// The ring protocol gives the caller exclusive access to the slot.
    unsafe fn read(&self, index: usize) -> T;

    /// Hints that slot `index` (always `< capacity`) will be read soon. Does
    /// nothing by default.
    #[inline]
    fn prefetch(&self, index: usize) {
        let _ = index;
    }
}

/// Why a ring operation failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RingError {
    /// No room (push) or nothing there (pop). The caller keeps its item.
    WouldBlock,
    /// The indices in shared memory are impossible: a peer wrote garbage. No
    /// slot outside the ring was touched.
    Corrupt {
        /// The producer's position as found.
        tail: u64,
        /// The consumer's position as found.
        head: u64,
    },
    /// A slot's stamp is one that no run of the protocol leaves there for the
    /// reader's position: a peer wrote garbage. Nothing was read from the slot.
    CorruptStamp {
        /// The reader's position.
        position: u64,
        /// The stamp found in its slot.
        stamp: u64,
        /// The stamps the protocol can leave there: the reader's item's,
        /// and the previous lap's.
        expected: [u64; 2],
    },
}

/// Reads head, tail, head and returns them if `impossible` judges them so
/// twice: as read with plain loads, then as re-read with read-modify-writes.
///
/// A read-modify-write sees the newest value (a plain load may be stale, and
/// one read before a preemption laps old), so only its reading can prove
/// corruption: the tail read lies in time between the two heads, which is
/// what the rings' `check`s judge it against. But it also takes each line
/// from the side working on it, and a caller polling `try_put` on a full ring
/// checks after every failure; the plain loads clear a healthy ring without
/// touching either line. A corrupt ring that stale loads made look healthy is
/// reported at the next check.
pub(crate) fn impossible_head_tail_head(
    head: &AtomicU64,
    tail: &AtomicU64,
    impossible: impl Fn(u64, u64, u64) -> bool,
) -> Option<(u64, u64, u64)> {
    let seen = (
        head.load(Ordering::Acquire),
        tail.load(Ordering::Acquire),
        head.load(Ordering::Acquire),
    );
    if !impossible(seen.0, seen.1, seen.2) {
        return None;
    }
    let head_before = head.fetch_add(0, Ordering::SeqCst);
    let latest_tail = tail.fetch_add(0, Ordering::SeqCst);
    let head_after = head.fetch_add(0, Ordering::SeqCst);
    impossible(head_before, latest_tail, head_after).then_some((
        head_before,
        latest_tail,
        head_after,
    ))
}

/// A ring's two positions, each in a 128-byte block of its own: `tail`
/// (next to write, advanced by producers) and `head` (next to read,
/// advanced by consumers). Positions only grow; the slot of a position is
/// `position & (capacity - 1)`.
///
/// 128 bytes, not 64: x86's spatial prefetcher fetches the other line of an
/// aligned 128-byte pair with each line, so two lines written by two sides
/// must not share a pair (crossbeam's `CachePadded` is 128 bytes there for
/// the same reason). With the positions in one pair, MPMC ping-pong cost
/// ~12% more.
#[repr(C, align(128))]
pub struct RingPositions {
    pub(crate) tail: AtomicU64,
    _tail_block: [u8; 120],
    pub(crate) head: AtomicU64,
    _head_block: [u8; 120],
}

impl Default for RingPositions {
    fn default() -> Self {
        Self::new()
    }
}

impl RingPositions {
    /// Positions of an empty ring.
    pub fn new() -> RingPositions {
        RingPositions {
            tail: AtomicU64::new(0),
            _tail_block: [0; 120],
            head: AtomicU64::new(0),
            _head_block: [0; 120],
        }
    }

    /// Items in the ring (a snapshot; may exceed the capacity if corrupt).
    /// 0 when the head is past the tail, as an MPMC ring's may be by one
    /// while a producer that published has not moved the tail yet.
    pub fn len(&self) -> u64 {
        let head = self.head.load(Ordering::Acquire);
        let len = self.tail.load(Ordering::Acquire).wrapping_sub(head);
        if (len as i64) < 0 {
            0
        } else {
            len
        }
    }

    /// Whether the ring is empty (a snapshot).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Positions claimed by consumers so far (wrapping).
    pub fn taken(&self) -> u64 {
        self.head.load(Ordering::Acquire)
    }

    /// Positions claimed by producers so far (wrapping), counting items
    /// still being written.
    pub fn put(&self) -> u64 {
        self.tail.load(Ordering::Acquire)
    }
}

/// `u64` slots for the rings' unit tests: four stamped slots (MPMC), or
/// four groups of two (SPSC).
#[cfg(test)]
pub(crate) mod test_slots {
    use super::Slots;
    use crate::mpmc::SequencedSlots;
    use crate::primitives::{AtomicU64, Ordering};
    use crate::spsc::GroupedSlots;

    pub(crate) struct TestSlots {
        pub(crate) items: [AtomicU64; 8],
        pub(crate) stamps: [AtomicU64; 4],
    }

    impl TestSlots {
        pub(crate) fn new() -> TestSlots {
            TestSlots {
                items: Default::default(),
                stamps: Default::default(),
            }
        }
    }

    impl Slots<u64> for TestSlots {
        unsafe fn write(&self, index: usize, value: u64) {
            self.items[index].store(value, Ordering::Relaxed);
        }
        unsafe fn read(&self, index: usize) -> u64 {
            self.items[index].load(Ordering::Relaxed)
        }
    }

    // SAFETY: atomic slots: a read racing a write is defined, and any u64
    // is valid.
    unsafe impl SequencedSlots<u64> for TestSlots {
        unsafe fn sequence(&self, index: usize) -> &AtomicU64 {
            &self.stamps[index]
        }
    }

    impl GroupedSlots<u64> for TestSlots {
        const PER_GROUP: u64 = 2;
        unsafe fn stamp(&self, group: usize) -> &AtomicU64 {
            &self.stamps[group]
        }
        unsafe fn write(&self, group: usize, offset: usize, value: u64) {
            self.items[group * 2 + offset].store(value, Ordering::Relaxed);
        }
        unsafe fn read(&self, group: usize, offset: usize) -> u64 {
            self.items[group * 2 + offset].load(Ordering::Relaxed)
        }
    }
}
