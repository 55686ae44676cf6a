//! A single-producer single-consumer ring of fixed-size slots, in the style of
//! rtrb: two monotonically increasing 64-bit positions on separate cache lines,
//! each side caching the other's position so that it touches the other's cache
//! line only when its cached view says the ring is full (or empty).
//!
//! Positions never wrap in practice (2^64 items). The slot of a position is
//! `position & (capacity - 1)`, so no value read from shared memory can index
//! outside the ring; a `tail - head` that exceeds the capacity means a peer
//! wrote garbage, and is reported as [`RingError::Corrupt`].

use crate::primitives::Ordering;
use crate::ring::{RingError, RingPositions, Slots};

/// The shared positions (see [`RingPositions`]).
pub type SpscIndices = RingPositions;

/// The producer's private view: the last consumer position it read.
#[derive(Debug, Default, Clone, Copy)]
pub struct ProducerView {
    head: u64,
}

/// The consumer's private view: the last producer position it read.
#[derive(Debug, Default, Clone, Copy)]
pub struct ConsumerView {
    tail: u64,
}

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

    /// Free slots as the producer sees them, refreshing its view of the head
    /// only if the cached one shows fewer than `wanted`.
    fn room(&self, view: &mut ProducerView, tail: u64, wanted: u64) -> Result<u64, RingError> {
        let mut used = tail.wrapping_sub(view.head);
        if used > self.capacity || self.capacity - used < wanted {
            view.head = self.indices.head.load(Ordering::Acquire);
            used = tail.wrapping_sub(view.head);
            if used > self.capacity {
                return Err(RingError::Corrupt {
                    tail,
                    head: view.head,
                });
            }
        }
        Ok(self.capacity - used)
    }

    /// Filled slots as the consumer sees them, refreshing its view of the tail
    /// only if the cached one shows fewer than `wanted`.
    fn filled(&self, view: &mut ConsumerView, head: u64, wanted: u64) -> Result<u64, RingError> {
        let mut filled = view.tail.wrapping_sub(head);
        if filled > self.capacity || filled < wanted {
            view.tail = self.indices.tail.load(Ordering::Acquire);
            filled = view.tail.wrapping_sub(head);
            if filled > self.capacity {
                return Err(RingError::Corrupt {
                    tail: view.tail,
                    head,
                });
            }
        }
        Ok(filled)
    }
}

impl<S> Spsc<'_, S> {
    /// Whether the positions are possible at all (`tail - head` within the
    /// capacity); for callers whose pushes or pops keep failing.
    pub fn check(&self) -> Result<(), RingError> {
        let head = self.indices.head.load(Ordering::Acquire);
        let tail = self.indices.tail.load(Ordering::Acquire);
        if tail.wrapping_sub(head) > self.capacity {
            return Err(RingError::Corrupt { tail, head });
        }
        Ok(())
    }

    /// Pushes `value`, or fails with [`RingError::WouldBlock`] if full.
    #[inline]
    pub fn push<T: Copy>(&self, view: &mut ProducerView, value: T) -> Result<(), RingError>
    where
        S: Slots<T>,
    {
        let tail = self.indices.tail.load(Ordering::Relaxed);
        if self.room(view, tail, 1)? == 0 {
            return Err(RingError::WouldBlock);
        }
        // SAFETY: the slot at `tail` is free (the consumer's head is past its
        // last use) and only the producer writes free slots.
        unsafe { self.slots.write(self.slot(tail), value) };
        self.indices
            .tail
            .store(tail.wrapping_add(1), Ordering::Release);
        Ok(())
    }

    /// Pushes as many of `items` as fit, in order; returns how many.
    pub fn push_slice<T: Copy>(
        &self,
        view: &mut ProducerView,
        items: &[T],
    ) -> Result<usize, RingError>
    where
        S: Slots<T>,
    {
        let tail = self.indices.tail.load(Ordering::Relaxed);
        let n = self
            .room(view, tail, items.len() as u64)?
            .min(items.len() as u64);
        for (i, item) in items[..n as usize].iter().enumerate() {
            // SAFETY: as in `push`, for each of the `n` free slots.
            unsafe {
                self.slots
                    .write(self.slot(tail.wrapping_add(i as u64)), *item)
            };
        }
        if n != 0 {
            self.indices
                .tail
                .store(tail.wrapping_add(n), Ordering::Release);
        }
        Ok(n as usize)
    }

    /// Pops the oldest item, or fails with [`RingError::WouldBlock`] if empty.
    #[inline]
    pub fn pop<T: Copy>(&self, view: &mut ConsumerView) -> Result<T, RingError>
    where
        S: Slots<T>,
    {
        let head = self.indices.head.load(Ordering::Relaxed);
        if self.filled(view, head, 1)? == 0 {
            return Err(RingError::WouldBlock);
        }
        // SAFETY: the slot at `head` was published by the producer's Release
        // store of a tail past it, which our Acquire load saw.
        let value = unsafe { self.slots.read(self.slot(head)) };
        self.indices
            .head
            .store(head.wrapping_add(1), Ordering::Release);
        Ok(value)
    }

    /// Pops up to `out.len()` items, oldest first; returns how many.
    pub fn pop_slice<T: Copy>(
        &self,
        view: &mut ConsumerView,
        out: &mut [T],
    ) -> Result<usize, RingError>
    where
        S: Slots<T>,
    {
        let head = self.indices.head.load(Ordering::Relaxed);
        let n = self
            .filled(view, head, out.len() as u64)?
            .min(out.len() as u64);
        for (i, slot) in out[..n as usize].iter_mut().enumerate() {
            // SAFETY: as in `pop`, for each of the `n` published slots.
            *slot = unsafe { self.slots.read(self.slot(head.wrapping_add(i as u64))) };
        }
        if n != 0 {
            self.indices
                .head
                .store(head.wrapping_add(n), Ordering::Release);
        }
        Ok(n as usize)
    }
}
