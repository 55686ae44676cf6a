//! A single-producer single-consumer ring whose slots are packed several to
//! a cache line under one stamp written by the producer.
//!
//! The ring is `groups` groups (a power of two), each one stamp and
//! [`GroupedSlots::PER_GROUP`] item slots; for small items a group is one
//! cache line (seven `u64`s after an 8-byte stamp). Positions count items,
//! as in any ring; the item at position `p` sits in group `p / PER_GROUP`
//! (masked) at slot `p % PER_GROUP`, a multiplication and a shift because
//! `PER_GROUP` is a constant of the item type. The producer writes the item
//! and then stamps its group with `p + 1`; the consumer at `p` takes the
//! item once the stamp is past `p`. The consumer never writes into a group:
//! it frees items by storing its position (`head`, on its own cache line),
//! which the producer reads only when its cached room says the ring is
//! full.
//!
//! So each line of slots travels once, from producer to consumer: a hand-off
//! between processes costs one line transfer (stamp and item arrive
//! together) and nothing travels back. With a separate published tail
//! (rtrb's layout) the consumer first fetches the tail's line and then the
//! slot's, two transfers in a row; with Vyukov stamps the consumer's
//! free-stamp pulls every line back to the producer's side before it can
//! write it again. One stamp per line rather than per item keeps a stream of
//! small items nearly as dense as rtrb's plain slots.
//!
//! The producer never enters a group while the consumer is still reading
//! it (it would overwrite the stamp the consumer's next item is judged by):
//! [`SpscGeometry`] sizes the ring so that `capacity` items in flight always
//! leave the consumer's group alone, which costs one group's worth of slots.
//!
//! The producer also stores its position (`tail`), for `len` and for taking
//! over the role after a producer died; the consumer never reads it.
//!
//! One producer and one consumer is what makes the ring correct, and a
//! second of either would race on slots: so pushing needs an
//! [`SpscProducer`] and popping an [`SpscConsumer`], each taken from an
//! [`Spsc`] with an `unsafe` call whose contract is that it is the only one
//! of its side, and each taking `&mut self`, so that one endpoint is never
//! used by two threads at once.
//!
//! A peer that scribbles on the ring makes operations fail with
//! [`RingError::Corrupt`] or [`RingError::CorruptStamp`], never touch memory
//! outside it: every group index is masked by `groups - 1`, and a slot
//! index is a remainder of `PER_GROUP`.

use crate::primitives::{AtomicU64, Ordering};
use crate::ring::{impossible_head_tail_head, RingError};

/// Storage for an SPSC ring: groups of item slots, each with one stamp.
///
/// `shmipc-shm` implements it over a segment (race-tolerant copies); the
/// loom tests implement it with loom's `UnsafeCell`, so the model checker
/// verifies that the protocol never lets a reader and a writer touch a slot
/// at once.
pub trait GroupedSlots<T: Copy> {
    /// Item slots under each stamp, at least 1: a constant, so that the
    /// ring finds an item's group with a multiplication rather than a
    /// division. The [`SpscGeometry`] the ring is built with must agree.
    const PER_GROUP: u64;

    /// The stamp of group `group`.
    ///
    /// # Safety
    /// `group < groups`: the ring passes only positions' groups masked by
    /// `groups - 1`, so an implementation may index without a check.
    unsafe fn stamp(&self, group: usize) -> &AtomicU64;

    /// Writes slot `offset` (always `< PER_GROUP`) of group `group` (always
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

    /// Writes `value` into slot `offset` of group `group`, then stores
    /// `stamp` into the group's stamp with `Release`: a push's whole
    /// publication, so that an implementation finds the group once.
    ///
    /// # Safety
    /// As for `write`.
    #[inline]
    unsafe fn publish(&self, group: usize, offset: usize, value: T, stamp: u64) {
        // SAFETY: forwarded from the caller (`group < groups` included).
        unsafe {
            self.write(group, offset, value);
            self.stamp(group).store(stamp, Ordering::Release);
        }
    }

    /// Loads the stamp of group `group` with `Acquire` and, if `ready` says
    /// so of it, reads slot `offset`: a pop's whole look, so that an
    /// implementation finds the group once.
    ///
    /// # Safety
    /// As for `read`, whenever `ready` returns true.
    #[inline]
    unsafe fn read_if(
        &self,
        group: usize,
        offset: usize,
        ready: impl FnOnce(u64) -> bool,
    ) -> (u64, Option<T>) {
        // SAFETY: forwarded from the caller (`group < groups` included).
        let stamp = unsafe { self.stamp(group) }.load(Ordering::Acquire);
        // SAFETY: forwarded from the caller.
        let item = ready(stamp).then(|| unsafe { self.read(group, offset) });
        (stamp, item)
    }

    /// Writes `values` into slots `offset..offset + values.len()` of group
    /// `group` (all `< PER_GROUP`); by default one `write` each.
    ///
    /// # Safety
    /// As for `write`, for every slot of the run.
    #[inline]
    unsafe fn write_run(&self, group: usize, offset: usize, values: &[T]) {
        for (i, value) in values.iter().enumerate() {
            // SAFETY: forwarded from the caller.
            unsafe { self.write(group, offset + i, *value) };
        }
    }

    /// Reads slots `offset..offset + out.len()` of group `group` into `out`;
    /// by default one `read` each.
    ///
    /// # Safety
    /// As for `read`, for every slot of the run.
    #[inline]
    unsafe fn read_run(&self, group: usize, offset: usize, out: &mut [T]) {
        for (i, slot) in out.iter_mut().enumerate() {
            // SAFETY: forwarded from the caller.
            *slot = unsafe { self.read(group, offset + i) };
        }
    }

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
    /// The geometry for `capacity` items (at least 1) in groups of
    /// `per_group` (at least 1); `None` if either is out of range or the
    /// ring would need more than `u64` groups.
    ///
    /// The producer may run at most `capacity` items ahead of the consumer,
    /// whatever the number of groups: the groups are a power of two (so a
    /// position finds its group with a mask) of at least `capacity` slots.
    /// With one item per group that is the next power of two. With more,
    /// the producer must never reach the group the consumer is in, so the
    /// groups hold at least a group more than `capacity` items.
    ///
    /// ```
    /// use shmipc_core::spsc::SpscGeometry;
    /// let g = SpscGeometry::new(4096, 7).unwrap();
    /// assert_eq!((g.capacity(), g.per_group(), g.groups()), (4096, 7, 1024));
    /// assert_eq!(SpscGeometry::new(8, 1).unwrap().groups(), 8);
    /// assert_eq!(SpscGeometry::new(6, 1).unwrap().groups(), 8);
    /// assert_eq!(SpscGeometry::new(1, 7).unwrap().groups(), 2);
    /// assert_eq!(SpscGeometry::new(6, 7).unwrap().groups(), 2);
    /// assert!(SpscGeometry::new(0, 7).is_none());
    /// ```
    pub fn new(capacity: u64, per_group: u64) -> Option<SpscGeometry> {
        if capacity == 0 || per_group == 0 {
            return None;
        }
        let groups = if per_group == 1 {
            capacity.checked_next_power_of_two()?
        } else {
            capacity
                .div_ceil(per_group)
                .checked_add(1)?
                .checked_next_power_of_two()?
        };
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

/// The SPSC ring's positions: the producer's line (its position, and the
/// position at which the ring is full as of the consumer position it last
/// read) and the consumer's line.
///
/// Each side's line is in a 128-byte block of its own, for the reason given
/// at [`RingPositions`](crate::ring::RingPositions).
#[repr(C, align(128))]
pub struct SpscIndices {
    tail: AtomicU64,
    room_until: AtomicU64,
    _tail_block: [u8; 112],
    head: AtomicU64,
    _head_block: [u8; 120],
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
            room_until: AtomicU64::new(0),
            _tail_block: [0; 112],
            head: AtomicU64::new(0),
            _head_block: [0; 120],
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

    /// Items taken so far: the stored head, which counts every pop since
    /// the ring was made (wrapping).
    pub fn taken(&self) -> u64 {
        self.head.load(Ordering::Acquire)
    }

    /// Items put so far: the stored tail (wrapping). It lags the stamps: the
    /// consumer may already have taken an item this does not count yet.
    pub fn put(&self) -> u64 {
        self.tail.load(Ordering::Acquire)
    }
}

/// An SPSC ring over `indices` and `slots`, shaped by an [`SpscGeometry`]:
/// what both sides share. Push through an [`SpscProducer`] and pop through an
/// [`SpscConsumer`] taken from it.
pub struct Spsc<'a, S> {
    indices: &'a SpscIndices,
    slots: &'a S,
    capacity: u64,
    group_mask: u64,
    prefetch: u64,
}

impl<S> Clone for Spsc<'_, S> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<S> Copy for Spsc<'_, S> {}

impl<'a, S> Spsc<'a, S> {
    /// The ring over `indices` and `slots`.
    ///
    /// # Safety
    /// - `slots` holds `geometry.groups()` groups of `geometry.per_group()`
    ///   slots, its `PER_GROUP` (the endpoints and [`init`](Self::init)
    ///   index it by the geometry).
    /// - The positions and stamps are written only by this ring's protocol
    ///   (an [`init`](Self::init) before any other use, then endpoints), or
    ///   else `slots` tolerates a slot being read and written at once (as
    ///   `shmipc-shm`'s race-tolerant slots do), so that garbage there can
    ///   garble items but not race.
    pub unsafe fn new(
        indices: &'a SpscIndices,
        slots: &'a S,
        geometry: SpscGeometry,
    ) -> Spsc<'a, S> {
        Spsc {
            indices,
            slots,
            capacity: geometry.capacity,
            group_mask: geometry.groups - 1,
            prefetch: 0,
        }
    }

    /// The ring's producer.
    ///
    /// # Safety
    /// No other producer of the same positions and slots (in this process or
    /// any other) pushes while this one exists, or else `slots` tolerates
    /// racing accesses (see [`new`](Self::new)).
    ///
    /// A second producer cannot be had without `unsafe`:
    ///
    /// ```compile_fail,E0133
    /// # use shmipc_core::spsc::*;
    /// fn second_producer<'a, S>(ring: Spsc<'a, S>) -> SpscProducer<'a, S> {
    ///     ring.producer()
    /// }
    /// ```
    pub unsafe fn producer(self) -> SpscProducer<'a, S> {
        SpscProducer { ring: self }
    }

    /// The ring's consumer.
    ///
    /// # Safety
    /// As for [`producer`](Self::producer), for consumers.
    pub unsafe fn consumer(self) -> SpscConsumer<'a, S> {
        SpscConsumer { ring: self }
    }

    /// Where the item of position `pos` sits: its group's index and its
    /// slot in the group.
    #[inline(always)]
    fn slot<T: Copy>(&self, pos: u64) -> (usize, usize)
    where
        S: GroupedSlots<T>,
    {
        let group = pos / S::PER_GROUP;
        (
            (group & self.group_mask) as usize,
            (pos - group * S::PER_GROUP) as usize,
        )
    }

    /// The stamp of group `group`, a position's group as [`slot`](Self::slot)
    /// gives it (or, in `init`, a count below the groups).
    #[inline(always)]
    fn stamp<T: Copy>(&self, group: usize) -> &'a AtomicU64
    where
        S: GroupedSlots<T>,
    {
        debug_assert!((group as u64) <= self.group_mask);
        // SAFETY: every group passed here is masked by `groups - 1` (or is
        // `init`'s count below the groups), and `new`'s contract is that the
        // slots hold the geometry's groups.
        unsafe { self.slots.stamp(group) }
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

    /// Writes the initial stamps (each group as if filled one lap before
    /// position 0).
    ///
    /// # Safety
    /// Called once, by the creator, before any endpoint of the ring exists:
    /// stamps rewritten under a live endpoint would let it into a slot the
    /// other side is using.
    pub unsafe fn init<T: Copy>(&self)
    where
        S: GroupedSlots<T>,
    {
        let groups = self.group_mask + 1;
        for g in 0..groups {
            let stamp = g
                .wrapping_sub(groups)
                .wrapping_add(1)
                .wrapping_mul(S::PER_GROUP);
            self.stamp::<T>(g as usize).store(stamp, Ordering::Relaxed);
        }
    }

    /// How many items from position `pos` on are published in its group,
    /// by `stamp`: 0 if none (or the stamp is not one the protocol leaves).
    #[inline(always)]
    fn ahead<T: Copy>(&self, pos: u64, offset: usize, stamp: u64) -> u64
    where
        S: GroupedSlots<T>,
    {
        let ahead = stamp.wrapping_sub(pos);
        if ahead.wrapping_sub(1) < S::PER_GROUP - offset as u64 {
            ahead
        } else {
            0
        }
    }

    /// For a stamp that publishes nothing at `pos`: `Ok` if the item is not
    /// there yet, an error if no run of the protocol leaves that stamp.
    #[cold]
    fn not_yet<T: Copy>(&self, pos: u64, offset: usize, stamp: u64) -> Result<(), RingError>
    where
        S: GroupedSlots<T>,
    {
        // Not yet: this lap's stamp is at most `pos` (the producer is still
        // before us in this group), or the group still has the previous
        // lap's final stamp (the producer has not reached it).
        let lap = (self.group_mask + 1).wrapping_mul(S::PER_GROUP);
        let group_start = pos.wrapping_sub(offset as u64);
        let previous_lap = group_start.wrapping_sub(lap).wrapping_add(S::PER_GROUP);
        if pos.wrapping_sub(stamp) < offset as u64 || stamp == previous_lap {
            Ok(())
        } else {
            Err(RingError::CorruptStamp {
                position: pos,
                stamp,
                expected: [pos.wrapping_add(1), previous_lap],
            })
        }
    }

    /// The `n` slots from position `start` on, split where they change
    /// group: each run's group, its first slot in the group, and its range
    /// of indices into the caller's slice.
    #[inline]
    fn runs<T: Copy>(
        &self,
        start: u64,
        n: usize,
    ) -> impl Iterator<Item = (usize, usize, core::ops::Range<usize>)> + '_
    where
        S: GroupedSlots<T>,
    {
        let (mut group, mut offset) = self.slot::<T>(start);
        let mut done = 0;
        core::iter::from_fn(move || {
            if done == n {
                return None;
            }
            let here = (S::PER_GROUP as usize - offset).min(n - done);
            let run = (group, offset, done..done + here);
            done += here;
            (group, offset) = ((group + 1) & self.group_mask as usize, 0);
            Some(run)
        })
    }
}

/// The pushing side of an SPSC ring (see [`Spsc::producer`]). Its methods
/// take `&mut self`: one endpoint is one thread's at a time.
pub struct SpscProducer<'a, S> {
    ring: Spsc<'a, S>,
}

impl<'a, S> SpscProducer<'a, S> {
    /// The ring this endpoint pushes into.
    pub fn ring(&self) -> &Spsc<'a, S> {
        &self.ring
    }

    /// For a new producer taking over the role: moves the stored tail past
    /// items a dead producer stamped but did not count, so that none is
    /// overwritten before the consumer sees it. Returns how many it found.
    pub fn resume<T: Copy>(&mut self) -> u64
    where
        S: GroupedSlots<T>,
    {
        let start = self.ring.indices.tail.load(Ordering::Acquire);
        let mut tail = start;
        while tail.wrapping_sub(start) < self.ring.capacity {
            let (group, offset) = self.ring.slot::<T>(tail);
            let stamp = self.ring.stamp::<T>(group).load(Ordering::Acquire);
            match self.ring.ahead::<T>(tail, offset, stamp) {
                0 => break,
                ahead => tail = tail.wrapping_add(ahead),
            }
        }
        if tail != start {
            self.ring.indices.tail.store(tail, Ordering::Release);
            // The dead producer's room may not be on record: look afresh.
            self.ring.indices.room_until.store(tail, Ordering::Relaxed);
        }
        tail.wrapping_sub(start)
    }

    /// Free slots at the producer's position `pos`, at least `want` of them
    /// if there are; reads the consumer's position only when the cached room
    /// (the position at which the ring is full) says there are fewer. Having
    /// read it, reports 0 if fewer than `slack` are free (and keeps the old
    /// room, so the next call reads it again).
    #[inline]
    fn room(&self, pos: u64, want: u64, slack: u64) -> Result<u64, RingError> {
        let free = self
            .ring
            .indices
            .room_until
            .load(Ordering::Relaxed)
            .wrapping_sub(pos);
        if free >= want && free <= self.ring.capacity {
            return Ok(free);
        }
        self.look_for_room(pos, slack)
    }

    /// The room at `pos` after reading the consumer's position: 0 if fewer
    /// than `slack` slots are free.
    fn look_for_room(&self, pos: u64, slack: u64) -> Result<u64, RingError> {
        // Acquire: the consumer read the items before it stored its
        // position, so the slots it frees are done with.
        let head = self.ring.indices.head.load(Ordering::Acquire);
        let used = pos.wrapping_sub(head);
        if used > self.ring.capacity {
            return Err(RingError::Corrupt { tail: pos, head });
        }
        let free = self.ring.capacity - used;
        if free < slack {
            return Ok(0);
        }
        // Only the producer writes it, and only ever further on: a stale
        // value promises no more room than there is.
        self.ring
            .indices
            .room_until
            .store(head.wrapping_add(self.ring.capacity), Ordering::Relaxed);
        Ok(free)
    }

    /// Pushes `value`, or fails with [`RingError::WouldBlock`] if full.
    #[inline]
    pub fn push<T: Copy>(&mut self, value: T) -> Result<(), RingError>
    where
        S: GroupedSlots<T>,
    {
        self.push_with_slack(value, 1)
    }

    /// Pushes `value` like [`push`](Self::push), except that when the cached
    /// room says full and the consumer's position shows fewer than `slack`
    /// free slots, it fails with [`RingError::WouldBlock`].
    ///
    /// For a producer that is going to wait anyway: a nearly full ring means
    /// the consumer is the slower side, and reading its position for every
    /// freed slot pulls the line it stores to on every pop away from it,
    /// slowing it further. Waiting for `slack` slots reads it once per
    /// `slack` items; the items waiting ahead of ours hide the delay.
    #[inline]
    pub fn push_with_slack<T: Copy>(&mut self, value: T, slack: u64) -> Result<(), RingError>
    where
        S: GroupedSlots<T>,
    {
        let pos = self.ring.indices.tail.load(Ordering::Relaxed);
        if self.room(pos, 1, slack)? == 0 {
            return Err(RingError::WouldBlock);
        }
        let (group, offset) = self.ring.slot::<T>(pos);
        // SAFETY: the room found the consumer past this slot's previous item
        // (and out of this group), and only the producer (us) writes slots.
        unsafe {
            self.ring
                .slots
                .publish(group, offset, value, pos.wrapping_add(1))
        };
        self.ring
            .indices
            .tail
            .store(pos.wrapping_add(1), Ordering::Release);
        Ok(())
    }

    /// Pushes as many of `items` as fit, in order; returns how many.
    pub fn push_slice<T: Copy>(&mut self, items: &[T]) -> Result<usize, RingError>
    where
        S: GroupedSlots<T>,
    {
        let mut pos = self.ring.indices.tail.load(Ordering::Relaxed);
        let want = (items.len() as u64).min(self.ring.capacity);
        let n = self.room(pos, want, 1)?.min(want) as usize;
        for (group, offset, run) in self.ring.runs::<T>(pos, n) {
            let here = run.len() as u64;
            // SAFETY: as in `push_with_slack`, for every slot of the run.
            unsafe { self.ring.slots.write_run(group, offset, &items[run]) };
            // One stamp for the group's share of the batch: the consumer
            // takes all of it or none.
            pos = pos.wrapping_add(here);
            self.ring.stamp::<T>(group).store(pos, Ordering::Release);
        }
        if n != 0 {
            self.ring.indices.tail.store(pos, Ordering::Release);
        }
        Ok(n)
    }
}

/// The popping side of an SPSC ring (see [`Spsc::consumer`]). Its methods
/// take `&mut self`: one endpoint is one thread's at a time.
pub struct SpscConsumer<'a, S> {
    ring: Spsc<'a, S>,
}

impl<'a, S> SpscConsumer<'a, S> {
    /// The ring this endpoint pops from.
    pub fn ring(&self) -> &Spsc<'a, S> {
        &self.ring
    }

    /// This consumer, with `pop` hinting the group `distance` groups ahead
    /// when it enters a group (0, the default, for none).
    ///
    /// A consumer that is behind reads lines the producer finished long ago,
    /// each a transfer from the producer's cache; asking for them a few lines
    /// early overlaps those transfers. About 256 bytes ahead measured best
    /// here: nearer does not hide a transfer, farther reaches lines the
    /// producer is still writing.
    pub fn with_prefetch(mut self, distance: u64) -> SpscConsumer<'a, S> {
        self.ring.prefetch = distance;
        self
    }

    /// Pops the oldest item, or fails with [`RingError::WouldBlock`] if empty.
    #[inline]
    pub fn pop<T: Copy>(&mut self) -> Result<T, RingError>
    where
        S: GroupedSlots<T>,
    {
        let pos = self.ring.indices.head.load(Ordering::Relaxed);
        let (group, offset) = self.ring.slot::<T>(pos);
        // SAFETY: the slot is read only once the group's stamp is past `pos`
        // (stored with Release after the item was written, loaded with
        // Acquire), and the producer will not enter this group again before
        // we store a head past it.
        let (stamp, item) = unsafe {
            self.ring.slots.read_if(group, offset, |stamp| {
                self.ring.ahead::<T>(pos, offset, stamp) != 0
            })
        };
        let Some(value) = item else {
            self.ring.not_yet::<T>(pos, offset, stamp)?;
            return Err(RingError::WouldBlock);
        };
        if self.ring.prefetch != 0 && offset == 0 {
            let ahead = (group as u64).wrapping_add(self.ring.prefetch) & self.ring.group_mask;
            self.ring.slots.prefetch(ahead as usize);
        }
        self.ring
            .indices
            .head
            .store(pos.wrapping_add(1), Ordering::Release);
        Ok(value)
    }

    /// Pops up to `out.len()` items, oldest first; returns how many.
    pub fn pop_slice<T: Copy>(&mut self, out: &mut [T]) -> Result<usize, RingError>
    where
        S: GroupedSlots<T>,
    {
        let start = self.ring.indices.head.load(Ordering::Relaxed);
        let want = (out.len() as u64).min(self.ring.capacity);
        if want == 0 {
            return Ok(0);
        }
        // The producer stamps in position order, each stamp a Release: if
        // the batch's last item is there, all before it are, and visible.
        let last = start.wrapping_add(want - 1);
        let (group, offset) = self.ring.slot::<T>(last);
        let stamp = self.ring.stamp::<T>(group).load(Ordering::Acquire);
        let n = if self.ring.ahead::<T>(last, offset, stamp) != 0 {
            want as usize
        } else {
            self.published_from::<T>(start, want)?
        };
        for (group, offset, run) in self.ring.runs::<T>(start, n) {
            // SAFETY: as in `pop`, for every slot of the run: a stamp at or
            // after its group's is past all of them.
            unsafe { self.ring.slots.read_run(group, offset, &mut out[run]) };
        }
        if n != 0 {
            self.ring
                .indices
                .head
                .store(start.wrapping_add(n as u64), Ordering::Release);
        }
        Ok(n)
    }

    /// How many of the `want` items from `pos` on are published, group by
    /// group.
    fn published_from<T: Copy>(&self, mut pos: u64, want: u64) -> Result<usize, RingError>
    where
        S: GroupedSlots<T>,
    {
        let end = pos.wrapping_add(want);
        while pos != end {
            let (group, offset) = self.ring.slot::<T>(pos);
            let stamp = self.ring.stamp::<T>(group).load(Ordering::Acquire);
            let ready = self.ring.ahead::<T>(pos, offset, stamp);
            if ready == 0 {
                self.ring.not_yet::<T>(pos, offset, stamp)?;
                break;
            }
            pos = pos.wrapping_add(ready.min(end.wrapping_sub(pos)));
            if offset as u64 + ready < S::PER_GROUP {
                // The producer is still in this group.
                break;
            }
        }
        Ok(pos.wrapping_sub(end.wrapping_sub(want)) as usize)
    }
}

#[cfg(all(test, not(loom)))]
mod tests;
