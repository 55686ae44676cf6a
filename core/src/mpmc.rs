//! A multi-producer multi-consumer ring with a sequence number per slot
//! (Dmitry Vyukov's bounded queue, as in crossbeam's `ArrayQueue`).
//!
//! A sequence says which position a slot is ready for and in which state:
//! `free(p) = 2p` (a producer at `p` may fill it) and `full(p) = 2p + 1` (a
//! consumer at `p` may empty it). Slot `i` starts at `free(i)`. A producer at
//! `p` finding `free(p)` claims `p` by a compare-and-swap of the tail, writes,
//! and publishes `full(p)`; a consumer at `p` finding `full(p)` claims `p` on
//! the head, reads, and frees the slot for the next lap with
//! `free(p + capacity)`.
//!
//! Vyukov's original uses `p` and `p + 1`, which cannot tell "full for `p`"
//! from "free for `p + 1`" when the capacity is 1 (a second push overwrote
//! the first item); doubling keeps the states apart at every capacity.
//!
//! Every slot index is a position masked by `capacity - 1`, so garbage in
//! shared memory cannot make an access leave the ring. Sequences and positions
//! that no run of the protocol can produce are reported as
//! [`RingError::Corrupt`] instead of being retried forever.

use crate::primitives::{AtomicU64, Ordering};
use crate::ring::{impossible_head_tail_head, RingError, RingPositions, Slots};

/// The sequence of a slot that a producer at `pos` may fill.
#[inline]
fn free(pos: u64) -> u64 {
    pos.wrapping_mul(2)
}

/// The sequence of a slot that a consumer at `pos` may empty.
#[inline]
fn full(pos: u64) -> u64 {
    pos.wrapping_mul(2).wrapping_add(1)
}

/// Slots that also carry a sequence number each.
pub trait SequencedSlots<T: Copy>: Slots<T> {
    /// The sequence number of slot `index`.
    ///
    /// # Safety
    /// `index < capacity`: the ring passes only positions masked by
    /// `capacity - 1`, so an implementation may index without a check.
    unsafe fn sequence(&self, index: usize) -> &AtomicU64;
}

/// The shared positions (see [`RingPositions`]).
pub type MpmcIndices = RingPositions;

/// An MPMC ring over `indices` and `slots`, with `capacity` a power of two.
pub struct Mpmc<'a, S> {
    indices: &'a MpmcIndices,
    slots: &'a S,
    capacity: u64,
}

impl<'a, S> Mpmc<'a, S> {
    /// The ring over `indices` and `slots`, of `capacity` slots.
    ///
    /// # Safety
    /// - `capacity` is a power of two and `slots` holds that many slots
    ///   (the ring indexes them by its positions masked by `capacity - 1`).
    /// - The positions and sequences are written only by this ring's
    ///   protocol (an [`init`](Self::init) before any other use, then
    ///   `Mpmc` rings of the same capacity over the same storage): the
    ///   sequences are what give a producer or consumer a slot alone. Or else
    ///   `slots` tolerates a slot being read and written at once (as
    ///   `shmipc-shm`'s race-tolerant slots do, against peers that write
    ///   garbage), so that garbage can garble items but not race.
    ///
    /// Safe code cannot build a ring over storage of its choosing:
    ///
    /// ```compile_fail,E0133
    /// # use shmipc_core::mpmc::*;
    /// fn ring<'a, S>(indices: &'a MpmcIndices, slots: &'a S) -> Mpmc<'a, S> {
    ///     Mpmc::new(indices, slots, 1 << 20)
    /// }
    /// ```
    pub unsafe fn new(indices: &'a MpmcIndices, slots: &'a S, capacity: u64) -> Mpmc<'a, S> {
        debug_assert!(capacity.is_power_of_two());
        Mpmc {
            indices,
            slots,
            capacity,
        }
    }

    fn slot(&self, position: u64) -> usize {
        (position & (self.capacity - 1)) as usize
    }

    /// The sequence of slot `index`, a [`slot`](Self::slot) (or, in
    /// `init`, a count below the capacity).
    #[inline(always)]
    fn seq<T: Copy>(&self, index: usize) -> &AtomicU64
    where
        S: SequencedSlots<T>,
    {
        debug_assert!((index as u64) < self.capacity);
        // SAFETY: every index passed here is below the capacity (a position
        // masked by `capacity - 1`, or `init`'s count), and `new`'s
        // contract is that the slots hold `capacity` slots.
        unsafe { self.slots.sequence(index) }
    }

    /// Whether the positions are possible at all. Callers run it when a push
    /// or pop keeps failing (before sleeping, or after a failed `try_`), so that
    /// a ring whose positions a peer overwrote is reported, not waited on.
    pub fn check(&self) -> Result<(), RingError> {
        // The tail can never be behind the first head, nor more than a
        // capacity ahead of the second.
        let capacity = self.capacity;
        match impossible_head_tail_head(&self.indices.head, &self.indices.tail, |h0, t, h1| {
            t < h0 || t.saturating_sub(h1) > capacity
        }) {
            Some((_, tail, head)) => Err(RingError::Corrupt { tail, head }),
            None => Ok(()),
        }
    }

    /// A slot said someone is past `pos`, yet the position reads `pos`: read
    /// its latest value; if it really has not moved, the slot's sequence is
    /// impossible.
    fn moved_on(&self, pos: u64, tail: bool) -> Result<u64, RingError> {
        let position = if tail {
            &self.indices.tail
        } else {
            &self.indices.head
        };
        let latest = position.fetch_add(0, Ordering::SeqCst);
        if latest == pos {
            let (tail, head) = (
                self.indices.tail.load(Ordering::Relaxed),
                self.indices.head.load(Ordering::Relaxed),
            );
            return Err(RingError::Corrupt { tail, head });
        }
        Ok(latest)
    }

    /// Writes the initial sequence numbers.
    ///
    /// # Safety
    /// Called once, by the creator, before anyone else uses the ring:
    /// sequences rewritten under a live producer or consumer would give a
    /// slot to two of them.
    pub unsafe fn init<T: Copy>(&self)
    where
        S: SequencedSlots<T>,
    {
        for i in 0..self.capacity {
            self.seq::<T>(i as usize).store(free(i), Ordering::Relaxed);
        }
    }

    /// Pushes `value`, or fails with [`RingError::WouldBlock`] if full.
    #[inline]
    pub fn push<T: Copy>(&self, value: T) -> Result<(), RingError>
    where
        S: SequencedSlots<T>,
    {
        self.push_with_slack(value, 1, &mut 0)
    }

    /// Pushes `value` like [`push`](Self::push), but once the tail reaches
    /// `room_until` it first looks `slack - 1` slots ahead: if that slot
    /// still holds an item it fails with [`RingError::WouldBlock`] (fewer
    /// than `slack` slots free), otherwise it moves `room_until` past it.
    ///
    /// `room_until` is the caller's memory of the last look: the first
    /// position not yet seen free (start it at 0). A `slack` of 1 never looks.
    ///
    /// On a nearly full ring the consumers are the slower side, and a
    /// producer that takes each slot the moment it is freed writes the cache
    /// line a consumer is still freeing slots in; holding out for `slack`
    /// free slots lets it finish those lines first, while the items queued
    /// ahead hide the delay. Looking once per `slack` items keeps the extra
    /// read off the common path. The look is a hint: consumers may free
    /// slots out of order, and the slot at the tail is checked as always.
    #[inline]
    pub fn push_with_slack<T: Copy>(
        &self,
        value: T,
        slack: u64,
        room_until: &mut u64,
    ) -> Result<(), RingError>
    where
        S: SequencedSlots<T>,
    {
        let reach = slack.min(self.capacity).saturating_sub(1);
        let mut pos = self.indices.tail.load(Ordering::Relaxed);
        loop {
            if reach > 0 && pos.wrapping_sub(*room_until) as i64 >= 0 {
                let ahead = pos.wrapping_add(reach);
                if !self.is_free::<T>(ahead) {
                    return Err(RingError::WouldBlock);
                }
                *room_until = ahead.wrapping_add(1);
            }
            let index = self.slot(pos);
            let seq = self.seq::<T>(index).load(Ordering::Acquire);
            let diff = seq.wrapping_sub(free(pos)) as i64;
            if diff == 0 {
                match self.indices.tail.compare_exchange_weak(
                    pos,
                    pos.wrapping_add(1),
                    Ordering::Relaxed,
                    Ordering::Relaxed,
                ) {
                    Ok(_) => {
                        // SAFETY: claiming `pos` on the tail while the slot's
                        // sequence said "free for `pos`" gives us the slot alone.
                        unsafe { self.slots.write(index, value) };
                        self.seq::<T>(index).store(full(pos), Ordering::Release);
                        return Ok(());
                    }
                    Err(now) => pos = now,
                }
            } else if diff < 0 {
                // The slot still holds an item from the previous lap: full.
                // (No look at the head here: that would take the consumers'
                // cache line on every failed push; see `check`.)
                return Err(RingError::WouldBlock);
            } else {
                // Another producer took `pos`; its sequence store, which we
                // acquired, comes after its tail update, so the tail moved.
                let now = self.indices.tail.load(Ordering::Relaxed);
                pos = if now != pos {
                    now
                } else {
                    self.moved_on(pos, true)?
                };
            }
        }
    }

    /// Whether no item of an earlier lap is left in the slot of `pos`: its
    /// sequence is `free(pos)` or later.
    fn is_free<T: Copy>(&self, pos: u64) -> bool
    where
        S: SequencedSlots<T>,
    {
        let seq = self.seq::<T>(self.slot(pos)).load(Ordering::Relaxed);
        seq.wrapping_sub(free(pos)) as i64 >= 0
    }

    /// Pops the oldest available item, or fails with [`RingError::WouldBlock`] if empty.
    pub fn pop<T: Copy>(&self) -> Result<T, RingError>
    where
        S: SequencedSlots<T>,
    {
        let mut pos = self.indices.head.load(Ordering::Relaxed);
        loop {
            let index = self.slot(pos);
            let seq = self.seq::<T>(index).load(Ordering::Acquire);
            let diff = seq.wrapping_sub(full(pos)) as i64;
            if diff == 0 {
                match self.indices.head.compare_exchange_weak(
                    pos,
                    pos.wrapping_add(1),
                    Ordering::Relaxed,
                    Ordering::Relaxed,
                ) {
                    Ok(_) => {
                        // SAFETY: the producer published the slot for `pos`
                        // (sequence `full(pos)`, acquired) and we claimed `pos`.
                        let value = unsafe { self.slots.read(index) };
                        self.seq::<T>(index)
                            .store(free(pos.wrapping_add(self.capacity)), Ordering::Release);
                        return Ok(value);
                    }
                    Err(now) => pos = now,
                }
            } else if diff < 0 {
                // Not yet published for `pos`: empty.
                return Err(RingError::WouldBlock);
            } else {
                let now = self.indices.head.load(Ordering::Relaxed);
                pos = if now != pos {
                    now
                } else {
                    self.moved_on(pos, false)?
                };
            }
        }
    }

    /// Pushes items from the front of `items` until one does not fit; returns how many.
    pub fn push_slice<T: Copy>(&self, items: &[T]) -> Result<usize, RingError>
    where
        S: SequencedSlots<T>,
    {
        for (pushed, item) in items.iter().enumerate() {
            match self.push(*item) {
                Ok(()) => {}
                Err(RingError::WouldBlock) => return Ok(pushed),
                Err(e) => return Err(e),
            }
        }
        Ok(items.len())
    }

    /// Pops into `out` until the ring is empty or `out` is full; returns how many.
    pub fn pop_slice<T: Copy>(&self, out: &mut [T]) -> Result<usize, RingError>
    where
        S: SequencedSlots<T>,
    {
        for (popped, slot) in out.iter_mut().enumerate() {
            match self.pop() {
                Ok(v) => *slot = v,
                Err(RingError::WouldBlock) => return Ok(popped),
                Err(e) => return Err(e),
            }
        }
        Ok(out.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ring::test_slots::TestSlots;

    #[test]
    fn a_push_with_slack_looks_ahead_once_per_slack_items() {
        let (indices, slots) = (MpmcIndices::new(), TestSlots::new());
        // SAFETY: `TestSlots` holds four atomic (race-tolerant) slots; the
        // test is the ring's only user, and initialises it first.
        let ring = unsafe { Mpmc::new(&indices, &slots, 4) };
        // SAFETY: as above.
        unsafe { ring.init::<u64>() };
        let mut room_until = 0;
        // Empty ring: the look at position 1 finds it free, so positions 0
        // and 1 are taken without another look.
        assert_eq!(ring.push_with_slack(1u64, 2, &mut room_until), Ok(()));
        assert_eq!(room_until, 2);
        assert_eq!(ring.push_with_slack(2u64, 2, &mut room_until), Ok(()));
        assert_eq!(room_until, 2);
        assert_eq!(ring.push_with_slack(3u64, 2, &mut room_until), Ok(()));
        assert_eq!(room_until, 4);
        // Position 3 was seen free: no look, and the ring is full. At
        // position 4 the look finds item 2 still in position 5's slot, so
        // the item is refused (and kept), even once one slot is free...
        assert_eq!(ring.push_with_slack(4u64, 2, &mut room_until), Ok(()));
        assert_eq!(
            ring.push_with_slack(5u64, 2, &mut room_until),
            Err(RingError::WouldBlock)
        );
        assert_eq!(ring.pop::<u64>(), Ok(1));
        assert_eq!(
            ring.push_with_slack(5u64, 2, &mut room_until),
            Err(RingError::WouldBlock)
        );
        // ...until two are free; a plain push takes any room.
        assert_eq!(ring.push(5u64), Ok(()));
        assert_eq!(ring.pop::<u64>(), Ok(2));
        assert_eq!(ring.pop::<u64>(), Ok(3));
        assert_eq!(ring.push_with_slack(6u64, 2, &mut room_until), Ok(()));
        let mut out = [0u64; 4];
        assert_eq!(ring.pop_slice(&mut out), Ok(3));
        assert_eq!(out[..3], [4, 5, 6]);
    }
}
