//! A single-producer single-consumer ring whose slots are packed several to
//! a cache line under one stamp written by the producer.
//!
//! The ring is `groups` groups (a power of two), each one stamp and
//! `per_group` item slots; for small items a group is one cache line (seven
//! `u64`s after an 8-byte stamp). A position is stored as `group << 6 |
//! offset` (`offset < per_group`), counting groups since the start, so a
//! slot is found with a mask and a shift, never a division. The producer
//! writes the item at `(group, offset)` and then stamps the group with the
//! position just after it (`group << 6 | offset + 1`); the consumer at a
//! position takes the item once the stamp is past it. The consumer never
//! writes into a group: it frees items by storing its position (`head`, on
//! its own cache line), which the producer reads only when its cached copy
//! of it says the ring is full.
//!
//! So each line of slots travels once, from producer to consumer: a hand-off
//! between processes costs one line transfer (stamp and item arrive
//! together) and nothing travels back. With a separate published tail
//! (rtrb's layout) the consumer first fetches the tail's line and then the
//! slot's, two transfers in a row; with Vyukov stamps the consumer's
//! free-stamp pulls every line back to the producer's side before it can
//! write it again. One stamp per line rather than per item keeps a stream of
//! small items as dense as rtrb's plain slots.
//!
//! The producer never enters a group while the consumer is still reading
//! it (it would overwrite the stamp the consumer's next item is judged by):
//! [`SpscGeometry`] sizes the ring so that `capacity` items in flight always
//! leave the consumer's group alone, which costs one group's worth of slots.
//!
//! The producer also stores its position (`tail`), for `len` and for taking
//! over the role after a producer died; the consumer never reads it.
//!
//! A peer that scribbles on the ring makes operations fail with
//! [`RingError::Corrupt`] or [`RingError::CorruptStamp`], never touch memory
//! outside it: every group index is masked by `groups - 1` and every offset
//! read from shared memory is checked against `per_group`.

use crate::primitives::{AtomicU64, Ordering};
use crate::ring::{impossible_head_tail_head, RingError};

/// Bits of a stored position that hold the offset within its group.
const OFFSET_BITS: u32 = 6;
/// The offset bits of a stored position.
const OFFSET_MASK: u64 = (1 << OFFSET_BITS) - 1;

/// The most item slots a group can have: an offset and the stamp's "one
/// past the last" must both fit in a stored position's six offset bits.
pub const MAX_PER_GROUP: u64 = OFFSET_MASK;

/// Storage for an SPSC ring: groups of item slots, each with one stamp.
///
/// `shmipc-shm` implements it over a segment (race-tolerant copies); the
/// loom tests implement it with loom's `UnsafeCell`, so the model checker
/// verifies that the protocol never lets a reader and a writer touch a slot
/// at once.
pub trait GroupedSlots<T: Copy> {
    /// The stamp of group `group` (always `< groups`).
    fn stamp(&self, group: usize) -> &AtomicU64;

    /// Writes slot `offset` (always `< per_group`) of group `group` (always
    /// `< groups`).
    ///
    /// # Safety
    /// The ring protocol gives the caller exclusive access to the slot.
    unsafe fn write(&self, group: usize, offset: usize, value: T);

    /// Reads slot `offset` of group `group` (bounds as for `write`).
    ///
    /// # Safety
    /// The ring protocol gives the caller exclusive access to the slot.
    unsafe fn read(&self, group: usize, offset: usize) -> T;

    /// Hints that group `group` (always `< groups`) will be read soon. Does
    /// nothing by default.
    #[inline]
    fn prefetch(&self, group: usize) {
        let _ = group;
    }
}

/// How an SPSC ring's slots are counted: `capacity` items in flight at
/// most, `per_group` slots under each stamp, `groups` groups.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpscGeometry {
    capacity: u64,
    per_group: u64,
    groups: u64,
}

impl SpscGeometry {
    /// The geometry for `capacity` items (a power of two) in groups of
    /// `per_group` (`1..=`[`MAX_PER_GROUP`]); `None` if either is out of
    /// range or the ring would need more than `u64` groups.
    ///
    /// With one item per group the ring has `capacity` groups. With more,
    /// the producer may run at most `capacity` items ahead of the consumer
    /// and must never reach the group the consumer is in, so the groups
    /// hold at least a group more than `capacity` items (the next power of
    /// two above).
    ///
    /// ```
    /// use shmipc_core::spsc::SpscGeometry;
    /// let g = SpscGeometry::new(4096, 7).unwrap();
    /// assert_eq!((g.capacity(), g.per_group(), g.groups()), (4096, 7, 1024));
    /// assert_eq!(SpscGeometry::new(8, 1).unwrap().groups(), 8);
    /// assert_eq!(SpscGeometry::new(1, 7).unwrap().groups(), 2);
    /// assert!(SpscGeometry::new(6, 7).is_none());
    /// ```
    pub fn new(capacity: u64, per_group: u64) -> Option<SpscGeometry> {
        if !capacity.is_power_of_two() || !(1..=MAX_PER_GROUP).contains(&per_group) {
            return None;
        }
        let groups = if per_group == 1 {
            capacity
        } else {
            capacity
                .div_ceil(per_group)
                .checked_add(1)?
                .checked_next_power_of_two()?
        };
        // A stored position keeps the group count above its offset bits.
        if groups > u64::MAX >> OFFSET_BITS {
            return None;
        }
        Some(SpscGeometry {
            capacity,
            per_group,
            groups,
        })
    }

    /// The most items in flight.
    pub fn capacity(&self) -> u64 {
        self.capacity
    }

    /// Item slots under each stamp.
    pub fn per_group(&self) -> u64 {
        self.per_group
    }

    /// Groups in the ring (a power of two).
    pub fn groups(&self) -> u64 {
        self.groups
    }
}

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
}

/// An SPSC ring over `indices` and `slots`, shaped by an [`SpscGeometry`].
pub struct Spsc<'a, S> {
    indices: &'a SpscIndices,
    slots: &'a S,
    capacity: u64,
    per_group: u64,
    group_mask: u64,
    prefetch: u64,
}

impl<'a, S> Spsc<'a, S> {
    /// The ring over `slots`, which must hold `geometry.groups()` groups of
    /// `geometry.per_group()` slots.
    pub fn new(indices: &'a SpscIndices, slots: &'a S, geometry: SpscGeometry) -> Spsc<'a, S> {
        Spsc {
            indices,
            slots,
            capacity: geometry.capacity,
            per_group: geometry.per_group,
            group_mask: geometry.groups - 1,
            prefetch: 0,
        }
    }

    /// This ring, with `pop` hinting the group `distance` groups ahead when
    /// it enters a group (0, the default, for none).
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

    /// The index of the group a stored position is in.
    #[inline]
    fn group(&self, pos: u64) -> usize {
        ((pos >> OFFSET_BITS) & self.group_mask) as usize
    }

    /// The position after `pos`.
    #[inline]
    fn next(&self, pos: u64) -> u64 {
        if (pos & OFFSET_MASK) + 1 == self.per_group {
            (pos | OFFSET_MASK).wrapping_add(1)
        } else {
            pos.wrapping_add(1)
        }
    }

    /// The position `n` items after `pos`.
    fn advance(&self, pos: u64, n: u64) -> u64 {
        let items = (pos & OFFSET_MASK) + n;
        (pos & !OFFSET_MASK).wrapping_add((items / self.per_group) << OFFSET_BITS)
            | (items % self.per_group)
    }

    /// Items from position `from` to position `to`; a `to` behind `from`
    /// reads as a huge count.
    #[inline]
    fn items_between(&self, from: u64, to: u64) -> u64 {
        let groups = to.wrapping_sub(from & !OFFSET_MASK) >> OFFSET_BITS;
        groups
            .wrapping_mul(self.per_group)
            .wrapping_add(to & OFFSET_MASK)
            .wrapping_sub(from & OFFSET_MASK)
    }

    /// Whether a position read from shared memory has a possible offset.
    #[inline]
    fn well_formed(&self, pos: u64) -> bool {
        pos & OFFSET_MASK < self.per_group
    }

    /// Items in the ring (a snapshot; the consumer may be up to a batch
    /// ahead of the stored tail, which reads as 0, and a corrupt ring may
    /// report more than the capacity).
    pub fn len(&self) -> u64 {
        let head = self.indices.head.load(Ordering::Acquire);
        let tail = self.indices.tail.load(Ordering::Acquire);
        let used = self.items_between(head, tail);
        if used > self.capacity && self.items_between(tail, head) <= self.capacity {
            0
        } else {
            used
        }
    }

    /// Whether the ring is empty (a snapshot).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether the positions are possible at all; for callers whose pushes or
    /// pops keep failing.
    ///
    /// The tail is stored after the stamps and the head after the items are
    /// read, so either can lead the other by up to a capacity. Reading head,
    /// tail, head with read-modify-writes (which see the newest values): the
    /// tail can be neither a capacity behind the first head nor a capacity
    /// ahead of the second, and no position has an offset past its group.
    pub fn check(&self) -> Result<(), RingError> {
        let capacity = self.capacity;
        match impossible_head_tail_head(&self.indices.head, &self.indices.tail, |h0, t, h1| {
            !(self.well_formed(h0) && self.well_formed(t) && self.well_formed(h1))
                || self.items_between(t, h0) > capacity && self.items_between(h1, t) > capacity
        }) {
            Some((_, tail, head)) => Err(RingError::Corrupt { tail, head }),
            None => Ok(()),
        }
    }

    /// Writes the initial stamps (each group as if filled one lap before
    /// position 0); the creator calls this once, before anyone else can see
    /// the ring.
    pub fn init<T: Copy>(&self)
    where
        S: GroupedSlots<T>,
    {
        let groups = self.group_mask + 1;
        for g in 0..groups {
            let stamp = (g.wrapping_sub(groups) << OFFSET_BITS) | self.per_group;
            self.slots.stamp(g as usize).store(stamp, Ordering::Relaxed);
        }
    }

    /// For a new producer taking over the role: moves the stored tail past
    /// items a dead producer stamped but did not count, so that none is
    /// overwritten before the consumer sees it. Returns how many it found.
    pub fn resume_producer<T: Copy>(&self) -> u64
    where
        S: GroupedSlots<T>,
    {
        let start = self.indices.tail.load(Ordering::Acquire);
        if !self.well_formed(start) {
            // The next push reports the corrupt tail.
            return 0;
        }
        let mut tail = start;
        while self.items_between(start, tail) < self.capacity {
            let stamp = self.slots.stamp(self.group(tail)).load(Ordering::Acquire);
            let ahead = stamp.wrapping_sub(tail);
            if ahead == 0 || ahead > self.per_group - (tail & OFFSET_MASK) {
                break;
            }
            tail = self.advance(tail, ahead);
        }
        if tail != start {
            self.indices.tail.store(tail, Ordering::Release);
        }
        self.items_between(start, tail)
    }

    /// Free slots at the producer's position `pos`, at least `want` of them
    /// if there are; reads the consumer's position only when the cached one
    /// says there are fewer. Having read it, reports 0 if fewer than `slack`
    /// are free (and keeps the old cached position, so the next call reads
    /// it again).
    #[inline]
    fn room(&self, pos: u64, want: u64, slack: u64) -> Result<u64, RingError> {
        let seen = self.indices.head_seen.load(Ordering::Relaxed);
        let used = self.items_between(seen, pos);
        if used <= self.capacity && self.capacity - used >= want {
            return Ok(self.capacity - used);
        }
        // Acquire: the consumer read the items before it stored its
        // position, so the slots it frees are done with.
        let head = self.indices.head.load(Ordering::Acquire);
        let used = self.items_between(head, pos);
        if used > self.capacity || !self.well_formed(head) {
            return Err(RingError::Corrupt { tail: pos, head });
        }
        if self.capacity - used < slack {
            return Ok(0);
        }
        self.indices.head_seen.store(head, Ordering::Relaxed);
        Ok(self.capacity - used)
    }

    /// The producer's position, checked.
    #[inline]
    fn tail(&self) -> Result<u64, RingError> {
        let tail = self.indices.tail.load(Ordering::Relaxed);
        if self.well_formed(tail) {
            Ok(tail)
        } else {
            Err(RingError::Corrupt {
                tail,
                head: self.indices.head_seen.load(Ordering::Relaxed),
            })
        }
    }

    /// Pushes `value`, or fails with [`RingError::WouldBlock`] if full.
    #[inline]
    pub fn push<T: Copy>(&self, value: T) -> Result<(), RingError>
    where
        S: GroupedSlots<T>,
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
        S: GroupedSlots<T>,
    {
        let pos = self.tail()?;
        if self.room(pos, 1, slack)? == 0 {
            return Err(RingError::WouldBlock);
        }
        let group = self.group(pos);
        // SAFETY: `room` found the consumer past this slot's previous item
        // (and out of this group), and only the producer (us) writes slots.
        unsafe { self.slots.write(group, (pos & OFFSET_MASK) as usize, value) };
        self.slots
            .stamp(group)
            .store(pos.wrapping_add(1), Ordering::Release);
        self.indices.tail.store(self.next(pos), Ordering::Release);
        Ok(())
    }

    /// Pushes as many of `items` as fit, in order; returns how many.
    pub fn push_slice<T: Copy>(&self, items: &[T]) -> Result<usize, RingError>
    where
        S: GroupedSlots<T>,
    {
        let start = self.tail()?;
        let want = (items.len() as u64).min(self.capacity);
        let n = self.room(start, want, 1)?.min(want) as usize;
        let mut pos = start;
        let mut done = 0;
        while done < n {
            let (group, offset) = (self.group(pos), pos & OFFSET_MASK);
            let here = ((self.per_group - offset) as usize).min(n - done);
            for (i, item) in items[done..done + here].iter().enumerate() {
                // SAFETY: as in `push_with_slack`, for every slot of the batch.
                unsafe { self.slots.write(group, offset as usize + i, *item) };
            }
            // One stamp for the group's share of the batch: the consumer
            // takes all of it or none.
            let after = pos.wrapping_add(here as u64);
            self.slots.stamp(group).store(after, Ordering::Release);
            pos = if offset + here as u64 == self.per_group {
                (pos | OFFSET_MASK).wrapping_add(1)
            } else {
                after
            };
            done += here;
        }
        if n != 0 {
            self.indices.tail.store(pos, Ordering::Release);
        }
        Ok(n)
    }

    /// How many items from the consumer's position `pos` on are published
    /// in its group: 0 if none yet.
    #[inline]
    fn published<T: Copy>(&self, pos: u64) -> Result<u64, RingError>
    where
        S: GroupedSlots<T>,
    {
        let offset = pos & OFFSET_MASK;
        let stamp = self.slots.stamp(self.group(pos)).load(Ordering::Acquire);
        let ahead = stamp.wrapping_sub(pos);
        if ahead.wrapping_sub(1) < self.per_group - offset {
            return Ok(ahead);
        }
        // Not yet: this lap's stamp is at most `pos` (the producer is still
        // before us in this group), or the group still has the previous
        // lap's final stamp (the producer has not reached it).
        let groups = self.group_mask + 1;
        let previous_lap =
            (pos & !OFFSET_MASK).wrapping_sub(groups << OFFSET_BITS) | self.per_group;
        if pos.wrapping_sub(stamp) < offset || stamp == previous_lap {
            Ok(0)
        } else {
            Err(RingError::CorruptStamp {
                position: pos,
                stamp,
                expected: [pos.wrapping_add(1), previous_lap],
            })
        }
    }

    /// The consumer's position, checked.
    #[inline]
    fn head(&self) -> Result<u64, RingError> {
        let head = self.indices.head.load(Ordering::Relaxed);
        if self.well_formed(head) {
            Ok(head)
        } else {
            Err(RingError::Corrupt {
                tail: self.indices.tail.load(Ordering::Relaxed),
                head,
            })
        }
    }

    #[inline]
    fn take<T: Copy>(&self, pos: u64) -> T
    where
        S: GroupedSlots<T>,
    {
        // SAFETY: the group's stamp went past `pos` (Release, acquired in
        // `published`) after the item was written, and the producer will not
        // enter this group again before we store a head past it.
        unsafe {
            self.slots
                .read(self.group(pos), (pos & OFFSET_MASK) as usize)
        }
    }

    /// Pops the oldest item, or fails with [`RingError::WouldBlock`] if empty.
    #[inline]
    pub fn pop<T: Copy>(&self) -> Result<T, RingError>
    where
        S: GroupedSlots<T>,
    {
        let pos = self.head()?;
        if self.published::<T>(pos)? == 0 {
            return Err(RingError::WouldBlock);
        }
        let value = self.take(pos);
        if self.prefetch != 0 && pos & OFFSET_MASK == 0 {
            self.slots
                .prefetch(self.group(pos.wrapping_add(self.prefetch << OFFSET_BITS)));
        }
        self.indices.head.store(self.next(pos), Ordering::Release);
        Ok(value)
    }

    /// Pops up to `out.len()` items, oldest first; returns how many.
    pub fn pop_slice<T: Copy>(&self, out: &mut [T]) -> Result<usize, RingError>
    where
        S: GroupedSlots<T>,
    {
        let start = self.head()?;
        let want = (out.len() as u64).min(self.capacity) as usize;
        let mut pos = start;
        let mut done = 0;
        while done < want {
            let ready = self.published::<T>(pos)? as usize;
            if ready == 0 {
                break;
            }
            let offset = pos & OFFSET_MASK;
            let here = ready.min(want - done);
            for (i, slot) in out[done..done + here].iter_mut().enumerate() {
                *slot = self.take(pos.wrapping_add(i as u64));
            }
            done += here;
            if offset + here as u64 == self.per_group {
                pos = (pos | OFFSET_MASK).wrapping_add(1);
            } else {
                // The producer is still in this group, or the batch is full.
                pos = pos.wrapping_add(here as u64);
                break;
            }
        }
        if done != 0 {
            self.indices.head.store(pos, Ordering::Release);
        }
        Ok(done)
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::ring::test_slots::TestSlots;

    /// Capacity 4 in groups of 2: four groups, eight slots.
    fn geometry() -> SpscGeometry {
        SpscGeometry::new(4, 2).unwrap()
    }

    #[test]
    fn items_cross_groups_and_laps_in_order() {
        let (indices, slots) = (SpscIndices::new(), TestSlots::new());
        let ring = Spsc::new(&indices, &slots, geometry());
        ring.init::<u64>();
        let mut next = 0u64;
        for round in 0..20u64 {
            let burst = round % 5;
            for i in 0..burst {
                ring.push(100 * round + i).unwrap();
            }
            assert_eq!(ring.len(), burst);
            let mut out = [0u64; 4];
            let n = if round % 2 == 0 {
                ring.pop_slice(&mut out).unwrap()
            } else {
                let mut n = 0;
                while let Ok(v) = ring.pop::<u64>() {
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
        assert_eq!(
            ring.items_between(0, indices.head.load(Ordering::Relaxed)),
            next
        );
    }

    #[test]
    fn a_full_ring_refuses_and_a_batch_takes_what_fits() {
        let (indices, slots) = (SpscIndices::new(), TestSlots::new());
        let ring = Spsc::new(&indices, &slots, geometry());
        ring.init::<u64>();
        assert_eq!(ring.push_slice(&[1u64, 2, 3]), Ok(3));
        assert_eq!(ring.push_slice(&[4u64, 5, 6]), Ok(1));
        assert_eq!(ring.push(7u64), Err(RingError::WouldBlock));
        let mut out = [0u64; 8];
        assert_eq!(ring.pop_slice(&mut out), Ok(4));
        assert_eq!(out[..4], [1, 2, 3, 4]);
        assert_eq!(ring.pop::<u64>(), Err(RingError::WouldBlock));
    }

    #[test]
    fn a_new_producer_resumes_after_items_a_dead_one_stamped_but_did_not_count() {
        let (indices, slots) = (SpscIndices::new(), TestSlots::new());
        let ring = Spsc::new(&indices, &slots, geometry());
        ring.init::<u64>();
        ring.push(10u64).unwrap();
        // A producer that died after stamping position 1 but before storing
        // its position.
        let tail = indices.tail.load(Ordering::Relaxed);
        assert_eq!(ring.push(11u64), Ok(()));
        indices.tail.store(tail, Ordering::Relaxed);
        assert_eq!(ring.len(), 1);
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
        let ring = Spsc::new(&indices, &slots, geometry());
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
        let ring = Spsc::new(&indices, &slots, geometry());
        ring.init::<u64>();
        slots.stamps[0].store(77, Ordering::Relaxed);
        let previous_lap = 0u64.wrapping_sub(4 << OFFSET_BITS) | 2;
        assert_eq!(
            ring.pop::<u64>(),
            Err(RingError::CorruptStamp {
                position: 0,
                stamp: 77,
                expected: [1, previous_lap],
            })
        );
        slots.stamps[0].store(previous_lap, Ordering::Relaxed);
        // An offset past the group is refused before any slot is touched.
        indices.head.store(5, Ordering::Relaxed);
        assert!(matches!(ring.pop::<u64>(), Err(RingError::Corrupt { .. })));
        assert!(matches!(ring.check(), Err(RingError::Corrupt { .. })));
        indices.head.store(1 << 40, Ordering::Relaxed);
        assert!(matches!(ring.check(), Err(RingError::Corrupt { .. })));
        // The producer reads the head only once its cached copy says full.
        assert_eq!(ring.push_slice(&[1u64, 2, 3, 4]), Ok(4));
        assert!(matches!(ring.push(5u64), Err(RingError::Corrupt { .. })));
        indices.tail.store(3, Ordering::Relaxed);
        assert!(matches!(ring.push(5u64), Err(RingError::Corrupt { .. })));
    }
}
