//! A single-producer single-consumer ring whose slots carry the producer's
//! stamp.
//!
//! The producer writes the item of position `p` into slot `p & (capacity - 1)`
//! and then stamps the slot with `p + 1`; the consumer at `p` takes the item
//! once it sees that stamp. The consumer never writes into a slot: it frees
//! slots by storing its position (`head`, on its own cache line), which the
//! producer reads only when its cached copy of it says the ring is full.
//!
//! So each cache line of slots travels once, from producer to consumer, and a
//! hand-off between processes costs what the bare line costs: the consumer
//! polls the line the item is in (stamp and item arrive together) and nothing
//! travels back. With a separate published tail (rtrb's layout) the consumer
//! first fetches the tail's line and then the slot's, two transfers in a row;
//! with Vyukov stamps the consumer's free-stamp pulls every slot line back to
//! the producer's side before it can write it again.
//!
//! The producer also stores its position (`tail`), for `len` and for taking
//! over the role after a producer died; the consumer never reads it.
//!
//! A peer that scribbles on the ring makes operations fail with
//! [`RingError::Corrupt`] or [`RingError::CorruptStamp`], never touch memory
//! outside it: every slot index is a position masked by `capacity - 1`.

use crate::mpmc::SequencedSlots;
use crate::primitives::{AtomicU64, Ordering};
use crate::ring::{impossible_head_tail_head, RingError};

/// The SPSC ring's positions: the producer's line (its position and the
/// consumer's position as it last read it) and the consumer's line.
#[repr(C, align(64))]
pub struct SpscIndices {
    tail: AtomicU64,
    head_seen: AtomicU64,
    _tail_line: [u8; 48],
    head: AtomicU64,
    _head_line: [u8; 56],
}

impl Default for SpscIndices {
    fn default() -> Self {
        Self::new()
    }
}

impl SpscIndices {
    /// Positions of an empty ring.
    pub fn new() -> SpscIndices {
        SpscIndices {
            tail: AtomicU64::new(0),
            head_seen: AtomicU64::new(0),
            _tail_line: [0; 48],
            head: AtomicU64::new(0),
            _head_line: [0; 56],
        }
    }

    /// Items in the ring (a snapshot; the consumer may be up to a batch
    /// ahead of the stored tail, which reads as 0, and a corrupt ring may
    /// report more than the capacity).
    pub fn len(&self) -> u64 {
        let head = self.head.load(Ordering::Acquire);
        let tail = self.tail.load(Ordering::Acquire);
        if head.wrapping_sub(tail) as i64 > 0 {
            0
        } else {
            tail.wrapping_sub(head)
        }
    }

    /// Whether the ring is empty (a snapshot).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// An SPSC ring over `indices` and `slots`, with `capacity` a power of two.
pub struct Spsc<'a, S> {
    indices: &'a SpscIndices,
    slots: &'a S,
    capacity: u64,
    prefetch: u64,
}

impl<'a, S> Spsc<'a, S> {
    /// The ring; `capacity` must be a power of two (the caller checked it when
    /// it validated the segment).
    pub fn new(indices: &'a SpscIndices, slots: &'a S, capacity: u64) -> Spsc<'a, S> {
        debug_assert!(capacity.is_power_of_two());
        Spsc {
            indices,
            slots,
            capacity,
            prefetch: 0,
        }
    }

    /// This ring, with `pop` hinting the slot `distance` positions ahead
    /// (0, the default, for none).
    ///
    /// A consumer that is behind reads lines the producer finished long ago,
    /// each a transfer from the producer's cache; asking for them a few lines
    /// early overlaps those transfers. About 256 bytes ahead measured best
    /// here: nearer does not hide a transfer, farther reaches lines the
    /// producer is still writing.
    pub fn with_prefetch(mut self, distance: u64) -> Spsc<'a, S> {
        self.prefetch = distance;
        self
    }

    fn slot(&self, position: u64) -> usize {
        (position & (self.capacity - 1)) as usize
    }

    /// Whether the positions are possible at all; for callers whose pushes or
    /// pops keep failing.
    ///
    /// The tail is stored after the stamps and the head after the items are
    /// read, so either can lead the other by up to a capacity. Reading head,
    /// tail, head with read-modify-writes (which see the newest values): the
    /// tail can be neither a capacity behind the first head nor a capacity
    /// ahead of the second.
    pub fn check(&self) -> Result<(), RingError> {
        let capacity = self.capacity;
        match impossible_head_tail_head(&self.indices.head, &self.indices.tail, |h0, t, h1| {
            h0.wrapping_sub(t) > capacity && t.wrapping_sub(h1) > capacity
        }) {
            Some((_, tail, head)) => Err(RingError::Corrupt { tail, head }),
            None => Ok(()),
        }
    }

    /// Writes the initial stamps (each slot as if it held the item one lap
    /// before position 0); the creator calls this once, before anyone else
    /// can see the ring.
    pub fn init<T: Copy>(&self)
    where
        S: SequencedSlots<T>,
    {
        for i in 0..self.capacity {
            let stamp = i.wrapping_sub(self.capacity).wrapping_add(1);
            self.slots
                .sequence(i as usize)
                .store(stamp, Ordering::Relaxed);
        }
    }

    /// For a new producer taking over the role: moves the stored tail past
    /// items a dead producer stamped but did not count, so that none is
    /// overwritten before the consumer sees it. Returns how many it found.
    pub fn resume_producer<T: Copy>(&self) -> u64
    where
        S: SequencedSlots<T>,
    {
        let start = self.indices.tail.load(Ordering::Acquire);
        let mut tail = start;
        while tail.wrapping_sub(start) < self.capacity
            && self.slots.sequence(self.slot(tail)).load(Ordering::Acquire) == tail.wrapping_add(1)
        {
            tail = tail.wrapping_add(1);
        }
        if tail != start {
            self.indices.tail.store(tail, Ordering::Release);
        }
        tail.wrapping_sub(start)
    }

    /// Free slots at the producer's position `pos`, at least `want` of them
    /// if there are; reads the consumer's position only when the cached one
    /// says there are fewer. Having read it, reports 0 if fewer than `slack`
    /// are free (and keeps the old cached position, so the next call reads
    /// it again).
    #[inline]
    fn room(&self, pos: u64, want: u64, slack: u64) -> Result<u64, RingError> {
        let seen = self.indices.head_seen.load(Ordering::Relaxed);
        let used = pos.wrapping_sub(seen);
        if used <= self.capacity && self.capacity - used >= want {
            return Ok(self.capacity - used);
        }
        // Acquire: the consumer read the items before it stored its
        // position, so the slots it frees are done with.
        let head = self.indices.head.load(Ordering::Acquire);
        let used = pos.wrapping_sub(head);
        if used > self.capacity {
            return Err(RingError::Corrupt { tail: pos, head });
        }
        if self.capacity - used < slack {
            return Ok(0);
        }
        self.indices.head_seen.store(head, Ordering::Relaxed);
        Ok(self.capacity - used)
    }

    #[inline]
    fn fill<T: Copy>(&self, pos: u64, value: T)
    where
        S: SequencedSlots<T>,
    {
        let index = self.slot(pos);
        // SAFETY: `room` found the consumer past this slot's previous item,
        // and only the producer (us) writes slots.
        unsafe { self.slots.write(index, value) };
        self.slots
            .sequence(index)
            .store(pos.wrapping_add(1), Ordering::Release);
    }

    /// Pushes `value`, or fails with [`RingError::WouldBlock`] if full.
    #[inline]
    pub fn push<T: Copy>(&self, value: T) -> Result<(), RingError>
    where
        S: SequencedSlots<T>,
    {
        self.push_with_slack(value, 1)
    }

    /// Pushes `value` like [`push`](Self::push), except that when the cached
    /// consumer position says full and the fresh one shows fewer than `slack`
    /// free slots, it fails with [`RingError::WouldBlock`].
    ///
    /// For a producer that is going to wait anyway: a nearly full ring means
    /// the consumer is the slower side, and reading its position for every
    /// freed slot pulls the line it stores to on every pop away from it,
    /// slowing it further. Waiting for `slack` slots reads it once per
    /// `slack` items; the items waiting ahead of ours hide the delay.
    #[inline]
    pub fn push_with_slack<T: Copy>(&self, value: T, slack: u64) -> Result<(), RingError>
    where
        S: SequencedSlots<T>,
    {
        let pos = self.indices.tail.load(Ordering::Relaxed);
        if self.room(pos, 1, slack)? == 0 {
            return Err(RingError::WouldBlock);
        }
        self.fill(pos, value);
        self.indices
            .tail
            .store(pos.wrapping_add(1), Ordering::Release);
        Ok(())
    }

    /// Pushes as many of `items` as fit, in order; returns how many.
    pub fn push_slice<T: Copy>(&self, items: &[T]) -> Result<usize, RingError>
    where
        S: SequencedSlots<T>,
    {
        let start = self.indices.tail.load(Ordering::Relaxed);
        let want = (items.len() as u64).min(self.capacity);
        let n = self.room(start, want, 1)?.min(want);
        for (i, item) in items[..n as usize].iter().enumerate() {
            self.fill(start.wrapping_add(i as u64), *item);
        }
        if n != 0 {
            self.indices
                .tail
                .store(start.wrapping_add(n), Ordering::Release);
        }
        Ok(n as usize)
    }

    /// Whether the item of position `pos` is there: `Ok(true)` if stamped
    /// for `pos`, `Ok(false)` if the slot still has the previous lap's stamp.
    #[inline]
    fn published<T: Copy>(&self, pos: u64) -> Result<bool, RingError>
    where
        S: SequencedSlots<T>,
    {
        let stamp = self.slots.sequence(self.slot(pos)).load(Ordering::Acquire);
        let item = pos.wrapping_add(1);
        let previous_lap = item.wrapping_sub(self.capacity);
        if stamp == item {
            Ok(true)
        } else if stamp == previous_lap {
            Ok(false)
        } else {
            // The producer is less than a lap ahead of us, so the slot holds
            // this lap's item or the previous one's; anything else was
            // written by neither side.
            Err(RingError::CorruptStamp {
                position: pos,
                stamp,
                expected: [item, previous_lap],
            })
        }
    }

    #[inline]
    fn take<T: Copy>(&self, pos: u64) -> T
    where
        S: SequencedSlots<T>,
    {
        // SAFETY: the stamp for `pos` was published (Release, acquired in
        // `published`) after the item was written, and the producer will not
        // write the slot again before we store a head past `pos`.
        unsafe { self.slots.read(self.slot(pos)) }
    }

    /// Pops the oldest item, or fails with [`RingError::WouldBlock`] if empty.
    #[inline]
    pub fn pop<T: Copy>(&self) -> Result<T, RingError>
    where
        S: SequencedSlots<T>,
    {
        let pos = self.indices.head.load(Ordering::Acquire);
        if !self.published::<T>(pos)? {
            return Err(RingError::WouldBlock);
        }
        let value = self.take(pos);
        if self.prefetch != 0 {
            self.slots
                .prefetch(self.slot(pos.wrapping_add(self.prefetch)));
        }
        self.indices
            .head
            .store(pos.wrapping_add(1), Ordering::Release);
        Ok(value)
    }

    /// Pops up to `out.len()` items, oldest first; returns how many.
    pub fn pop_slice<T: Copy>(&self, out: &mut [T]) -> Result<usize, RingError>
    where
        S: SequencedSlots<T>,
    {
        let start = self.indices.head.load(Ordering::Acquire);
        let want = (out.len() as u64).min(self.capacity);
        // The producer stamps in position order, each stamp a Release: if the
        // batch's last item is there, all before it are, and visible.
        let n = if want > 1 && self.published::<T>(start.wrapping_add(want - 1))? {
            want
        } else {
            let mut n = 0;
            while n < want && self.published::<T>(start.wrapping_add(n))? {
                n += 1;
            }
            n
        };
        for (i, slot) in out[..n as usize].iter_mut().enumerate() {
            *slot = self.take(start.wrapping_add(i as u64));
        }
        if n != 0 {
            self.indices
                .head
                .store(start.wrapping_add(n), Ordering::Release);
        }
        Ok(n as usize)
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::ring::test_slots::TestSlots;

    #[test]
    fn a_new_producer_resumes_after_items_a_dead_one_stamped_but_did_not_count() {
        let (indices, slots) = (SpscIndices::new(), TestSlots::new());
        let ring = Spsc::new(&indices, &slots, 4);
        ring.init::<u64>();
        ring.push(10u64).unwrap();
        // A producer that died after stamping position 1 but before storing
        // its position.
        ring.fill(1, 11u64);
        assert_eq!(indices.len(), 1);
        assert_eq!(ring.resume_producer::<u64>(), 1);
        ring.push(12u64).unwrap();
        let mut out = [0u64; 4];
        assert_eq!(ring.pop_slice(&mut out), Ok(3));
        assert_eq!(out[..3], [10, 11, 12]);
        assert_eq!(ring.resume_producer::<u64>(), 0);
    }

    #[test]
    fn a_put_with_slack_waits_for_that_much_room_but_a_plain_push_takes_any() {
        let (indices, slots) = (SpscIndices::new(), TestSlots::new());
        let ring = Spsc::new(&indices, &slots, 4);
        ring.init::<u64>();
        assert_eq!(ring.push_slice(&[1u64, 2, 3, 4]), Ok(4));
        assert_eq!(ring.pop::<u64>(), Ok(1));
        assert_eq!(ring.push_with_slack(5u64, 2), Err(RingError::WouldBlock));
        assert_eq!(ring.pop::<u64>(), Ok(2));
        assert_eq!(ring.push_with_slack(5u64, 2), Ok(()));
        // The cached head now says one slot is free: no re-read, no refusal.
        assert_eq!(ring.push_with_slack(6u64, 2), Ok(()));
        assert_eq!(ring.push(7u64), Err(RingError::WouldBlock));
    }

    #[test]
    fn impossible_stamps_and_positions_are_reported() {
        let (indices, slots) = (SpscIndices::new(), TestSlots::new());
        let ring = Spsc::new(&indices, &slots, 4);
        ring.init::<u64>();
        slots.stamps[0].store(77, Ordering::Relaxed);
        assert_eq!(
            ring.pop::<u64>(),
            Err(RingError::CorruptStamp {
                position: 0,
                stamp: 77,
                expected: [1, 1u64.wrapping_sub(4)],
            })
        );
        indices.head.store(1 << 40, Ordering::Relaxed);
        assert!(matches!(ring.check(), Err(RingError::Corrupt { .. })));
        // The producer reads the head only once its cached copy says full.
        assert_eq!(ring.push_slice(&[1u64, 2, 3, 4]), Ok(4));
        assert!(matches!(ring.push(5u64), Err(RingError::Corrupt { .. })));
    }
}
