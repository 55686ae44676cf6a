//! A single-producer single-consumer ring with a stamp per slot.
//!
//! Slot `i` starts with stamp `i`. The producer at position `p` may fill the
//! slot when its stamp is `p`, and publishes the item with stamp `p + 1`; the
//! consumer at `p` may take it when the stamp is `p + 1`, and frees the slot
//! for the next lap with stamp `p + capacity`. Stamp and item share the slot's
//! cache line, so the consumer polls one line per item (and one line per four
//! `u64` items while streaming) and never reads the producer's position, nor
//! the producer the consumer's: with separate positions and slots (rtrb's
//! layout) each hand-off between processes costs two cache-line transfers.
//!
//! The positions are still kept, each on its own line and written only by
//! its side, for `len` and for [`Spsc::check`]. A stamp that neither side could
//! have written is reported as [`RingError::Corrupt`]; every slot index is a
//! position masked by `capacity - 1`.

use crate::mpmc::SequencedSlots;
use crate::primitives::Ordering;
use crate::ring::{RingError, RingPositions};

/// The shared positions (see [`RingPositions`]).
pub type SpscIndices = RingPositions;

/// An SPSC ring over `indices` and `slots`, with `capacity` a power of two.
pub struct Spsc<'a, S> {
    indices: &'a SpscIndices,
    slots: &'a S,
    capacity: u64,
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
        }
    }

    fn slot(&self, position: u64) -> usize {
        (position & (self.capacity - 1)) as usize
    }

    fn corrupt(&self) -> RingError {
        RingError::Corrupt {
            tail: self.indices.tail.load(Ordering::Relaxed),
            head: self.indices.head.load(Ordering::Relaxed),
        }
    }

    /// Whether the positions are possible at all; for callers whose pushes or
    /// pops keep failing.
    ///
    /// The stamps are the truth; each side stores its position after them
    /// (once per batch), so a position can lag by up to a capacity and `tail -
    /// head` can briefly be anywhere in `-capacity..=2 * capacity`. Anything
    /// farther apart no run of the protocol can produce.
    pub fn check(&self) -> Result<(), RingError> {
        let head = self.indices.head.load(Ordering::Acquire);
        let tail = self.indices.tail.load(Ordering::Acquire);
        let ahead = tail.wrapping_sub(head);
        let behind = head.wrapping_sub(tail);
        if ahead > 2 * self.capacity && behind > self.capacity {
            return Err(RingError::Corrupt { tail, head });
        }
        Ok(())
    }

    /// Writes the initial stamps; the creator calls this once, before anyone
    /// else can see the ring.
    pub fn init<T: Copy>(&self)
    where
        S: SequencedSlots<T>,
    {
        for i in 0..self.capacity {
            self.slots.sequence(i as usize).store(i, Ordering::Relaxed);
        }
    }

    /// Pushes `value`, or fails with [`RingError::WouldBlock`] if full.
    #[inline]
    pub fn push<T: Copy>(&self, value: T) -> Result<(), RingError>
    where
        S: SequencedSlots<T>,
    {
        let pos = self.indices.tail.load(Ordering::Relaxed);
        self.push_at(pos, value)?;
        self.indices
            .tail
            .store(pos.wrapping_add(1), Ordering::Release);
        Ok(())
    }

    #[inline]
    fn push_at<T: Copy>(&self, pos: u64, value: T) -> Result<(), RingError>
    where
        S: SequencedSlots<T>,
    {
        let index = self.slot(pos);
        let stamp = self.slots.sequence(index).load(Ordering::Acquire);
        if stamp != pos {
            // The item of the previous lap is still there: full. Any other
            // stamp was written by neither side.
            return if stamp.wrapping_add(self.capacity) == pos.wrapping_add(1) {
                Err(RingError::WouldBlock)
            } else {
                Err(self.corrupt())
            };
        }
        // SAFETY: stamp `pos` means the consumer has freed the slot for this
        // lap, and only the producer (us) fills slots.
        unsafe { self.slots.write(index, value) };
        self.slots
            .sequence(index)
            .store(pos.wrapping_add(1), Ordering::Release);
        Ok(())
    }

    /// Pushes as many of `items` as fit, in order; returns how many.
    pub fn push_slice<T: Copy>(&self, items: &[T]) -> Result<usize, RingError>
    where
        S: SequencedSlots<T>,
    {
        let start = self.indices.tail.load(Ordering::Relaxed);
        let n = (items.len() as u64).min(self.capacity);
        if n > 1
            && self
                .slots
                .sequence(self.slot(start.wrapping_add(n - 1)))
                .load(Ordering::Acquire)
                == start.wrapping_add(n - 1)
        {
            // The consumer frees slots in order: if the last slot of the batch
            // is free for this lap, so are all before it.
            for (i, item) in items[..n as usize].iter().enumerate() {
                let pos = start.wrapping_add(i as u64);
                let index = self.slot(pos);
                // SAFETY: free for this lap (see above); only we fill slots.
                unsafe { self.slots.write(index, *item) };
                self.slots
                    .sequence(index)
                    .store(pos.wrapping_add(1), Ordering::Release);
            }
            self.indices
                .tail
                .store(start.wrapping_add(n), Ordering::Release);
            return Ok(n as usize);
        }
        let mut pushed = 0u64;
        for item in items {
            match self.push_at(start.wrapping_add(pushed), *item) {
                Ok(()) => pushed += 1,
                Err(RingError::WouldBlock) => break,
                Err(e) => return Err(e),
            }
        }
        if pushed != 0 {
            self.indices
                .tail
                .store(start.wrapping_add(pushed), Ordering::Release);
        }
        Ok(pushed as usize)
    }

    /// Pops the oldest item, or fails with [`RingError::WouldBlock`] if empty.
    #[inline]
    pub fn pop<T: Copy>(&self) -> Result<T, RingError>
    where
        S: SequencedSlots<T>,
    {
        let pos = self.indices.head.load(Ordering::Relaxed);
        let value = self.pop_at(pos)?;
        self.indices
            .head
            .store(pos.wrapping_add(1), Ordering::Release);
        Ok(value)
    }

    #[inline]
    fn pop_at<T: Copy>(&self, pos: u64) -> Result<T, RingError>
    where
        S: SequencedSlots<T>,
    {
        let index = self.slot(pos);
        let stamp = self.slots.sequence(index).load(Ordering::Acquire);
        if stamp != pos.wrapping_add(1) {
            // Not yet filled for this lap: empty. Any other stamp was written
            // by neither side.
            return if stamp == pos {
                Err(RingError::WouldBlock)
            } else {
                Err(self.corrupt())
            };
        }
        // SAFETY: stamp `pos + 1` was published (Release, acquired above) by
        // the producer after it wrote the item; only the consumer (us) takes it.
        let value = unsafe { self.slots.read(index) };
        self.slots
            .sequence(index)
            .store(pos.wrapping_add(self.capacity), Ordering::Release);
        Ok(value)
    }

    /// Pops up to `out.len()` items, oldest first; returns how many.
    pub fn pop_slice<T: Copy>(&self, out: &mut [T]) -> Result<usize, RingError>
    where
        S: SequencedSlots<T>,
    {
        let start = self.indices.head.load(Ordering::Relaxed);
        let n = (out.len() as u64).min(self.capacity);
        if n > 1
            && self
                .slots
                .sequence(self.slot(start.wrapping_add(n - 1)))
                .load(Ordering::Acquire)
                == start.wrapping_add(n)
        {
            // The producer fills slots in order: if the last slot of the batch
            // is published, so are all before it (acquiring its stamp makes
            // their items visible too).
            for (i, slot) in out[..n as usize].iter_mut().enumerate() {
                let pos = start.wrapping_add(i as u64);
                let index = self.slot(pos);
                // SAFETY: published for this lap (see above); only we take items.
                *slot = unsafe { self.slots.read(index) };
                self.slots
                    .sequence(index)
                    .store(pos.wrapping_add(self.capacity), Ordering::Release);
            }
            self.indices
                .head
                .store(start.wrapping_add(n), Ordering::Release);
            return Ok(n as usize);
        }
        let mut popped = 0u64;
        for slot in out.iter_mut() {
            match self.pop_at(start.wrapping_add(popped)) {
                Ok(v) => {
                    *slot = v;
                    popped += 1;
                }
                Err(RingError::WouldBlock) => break,
                Err(e) => return Err(e),
            }
        }
        if popped != 0 {
            self.indices
                .head
                .store(start.wrapping_add(popped), Ordering::Release);
        }
        Ok(popped as usize)
    }
}
