//! A multi-producer multi-consumer ring whose every slot says what it holds
//! and, while a producer writes it, who that producer is: so that a producer
//! that dies half-way through a push can be passed over instead of wedging
//! the ring.
//!
//! Each slot has a stamp (`mpmc/stamp.rs`): the lap of the ring it is at,
//! and a state. Slot `i` starts at lap 0, free. Position `p` uses slot
//! `p % slots` at lap `p / slots`:
//!
//! - A producer at the tail `p` finding the slot free at `p`'s lap *claims*
//!   it by a compare-and-swap of the stamp to "claimed at this lap by me",
//!   moves the tail on, writes its item and stores "full".
//! - A consumer at the head `p` finding the slot full at `p`'s lap copies
//!   the item out and *takes* it by a compare-and-swap of the stamp to
//!   "free at the next lap"; only if that succeeds is the copy its item.
//!   It then moves the head on.
//!
//! A producer that gives up its claim ([`MpmcClaim`] dropped unpublished)
//! marks the slot void: the consumer that reaches it frees it and goes on.
//! Every slot is thus freed at the head, by a consumer or by a pass over
//! (below), so the head is never a lap behind a slot's stamp.
//!
//! The stamps are the truth; the tail and head are hints that whoever finds
//! them behind a slot moves on (a producer or consumer that died between its
//! compare-and-swap and moving its position leaves them behind).
//!
//! # Crashes
//!
//! A consumer holds nothing between its steps: the take is one
//! compare-and-swap, so a consumer that dies anywhere in `pop` either took
//! the item (and it dies with it) or left it for the next. A producer holds
//! its claimed slot from the claim to the "full": if it dies there, the
//! consumers reaching that position find the claim and its claimer, and
//! once the caller knows the claimer is dead ([`Mpmc::stalled_claim`],
//! [`Mpmc::pass_over`]) the position is passed over, as if it had been
//! taken. Only the dying push's item is lost, and it was never
//! acknowledged.
//!
//! # Capacity
//!
//! The ring has a power of two of slots, and may hold fewer items: a
//! producer at `p` pushes only once position `p - capacity` has been taken.
//! With a capacity of all the slots that is the slot's own stamp, so the
//! check costs nothing; below it, one look at another slot's stamp.
//!
//! # Garbage
//!
//! Every slot index is a position masked by `slots - 1`, so garbage in
//! shared memory cannot make an access leave the ring. Stamps and positions
//! that no run of the protocol can produce are reported as
//! [`RingError::Corrupt`] instead of being retried forever.

mod stamp;
#[cfg(test)]
mod tests;

use core::marker::PhantomData;

use crate::primitives::{AtomicU64, Ordering};
use crate::ring::{impossible_head_tail_head, RingError, RingPositions, Slots};
use stamp::{claimed, claimer_of, free, full, laps_ahead, state_of, void, State};

pub use stamp::ClaimerId;

/// Slots that also carry a stamp each, and whose reads tolerate a write.
///
/// # Safety
/// A consumer copies an item out *before* it knows the item is its own (its
/// compare-and-swap of the stamp decides), so [`Slots::read`] of a slot may
/// run while a producer writes it. An implementation must make that defined
/// (atomic or otherwise race-tolerant copies), and any value such a read
/// returns must be a valid `T`: the ring drops it unused.
pub unsafe trait SequencedSlots<T: Copy>: Slots<T> {
    /// The stamp of slot `index`.
    ///
    /// # Safety
    /// `index < slots`: the ring passes only positions masked by
    /// `slots - 1`, so an implementation may index without a check.
    unsafe fn sequence(&self, index: usize) -> &AtomicU64;
}

/// The shared positions (see [`RingPositions`]).
pub type MpmcIndices = RingPositions;

/// An MPMC ring over `indices` and `slots`.
pub struct Mpmc<'a, S> {
    indices: &'a MpmcIndices,
    slots: &'a S,
    /// Slots in the ring, a power of two.
    slot_count: u64,
    /// log2 of `slot_count`: a position's lap is `position >> lap_shift`.
    lap_shift: u32,
    /// Items the ring holds at most, `1..=slot_count`.
    capacity: u64,
}

/// A slot as [`Mpmc::look`] found it for a position.
struct Look {
    index: usize,
    lap: u32,
    stamp: u64,
    /// Laps ahead of the position, and state.
    seen: (i32, State),
}

/// A claim at the consumers' position that its producer has not published,
/// as [`Mpmc::stalled_claim`] found it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StalledClaim {
    position: u64,
    stamp: u64,
}

impl StalledClaim {
    /// Who claimed the slot.
    pub fn claimer(&self) -> ClaimerId {
        claimer_of(self.stamp)
    }

    /// The position claimed.
    pub fn position(&self) -> u64 {
        self.position
    }
}

/// A slot a producer has claimed ([`Mpmc::claim`]): the position is its own
/// until it [`publish`](Self::publish)es an item there. Dropped unpublished,
/// the position carries no item: the consumer that reaches it frees it and
/// goes on.
#[must_use = "an unpublished claim carries no item"]
pub struct MpmcClaim<'r, 'a, S: SequencedSlots<T>, T: Copy> {
    ring: &'r Mpmc<'a, S>,
    position: u64,
    stamp: u64,
    _item: PhantomData<T>,
}

impl<S: SequencedSlots<T>, T: Copy> MpmcClaim<'_, '_, S, T> {
    /// Writes `value` into the claimed slot and publishes it to consumers.
    #[inline(always)]
    pub fn publish(self, value: T) {
        let index = self.ring.slot(self.position);
        // SAFETY: the claim (a compare-and-swap of the stamp from "free at
        // this lap" to "claimed by us") gives us the slot alone: no producer
        // claims it again before a consumer takes the item we publish, and
        // consumers only read it (which the slots tolerate) until then.
        unsafe { self.ring.slots.write(index, value) };
        let lap = self.ring.lap(self.position);
        self.ring
            .stamp::<T>(index)
            .store(full(lap), Ordering::Release);
        core::mem::forget(self);
    }

    /// The position claimed.
    pub fn position(&self) -> u64 {
        self.position
    }
}

impl<S: SequencedSlots<T>, T: Copy> Drop for MpmcClaim<'_, '_, S, T> {
    fn drop(&mut self) {
        let lap = self.ring.lap(self.position);
        let index = self.ring.slot(self.position);
        // Void, not free: the position stays in the window until a consumer
        // reaches it, as an item would, so that every slot is freed by a
        // consumer at the head and the head never lags a lap behind one.
        // Only we write a claimed slot's stamp: a plain store would do, but
        // a peer may have scribbled on it, and this keeps what it wrote.
        let _ = self.ring.stamp::<T>(index).compare_exchange(
            self.stamp,
            void(lap),
            Ordering::Release,
            Ordering::Relaxed,
        );
    }
}

impl<'a, S> Mpmc<'a, S> {
    /// The ring over `indices` and `slots`: `slot_count` slots, holding at
    /// most `capacity` items.
    ///
    /// # Safety
    /// - `slot_count` is a power of two, at most 2^32, and `slots` holds
    ///   that many slots (the ring indexes them by its positions masked by
    ///   `slot_count - 1`); `capacity` is in `1..=slot_count`.
    /// - The positions and stamps are written only by this ring's protocol
    ///   (an [`init`](Self::init) before any other use, then `Mpmc` rings of
    ///   the same slot count and capacity over the same storage): the stamps
    ///   are what give a producer a slot alone. Or else `slots` tolerates a
    ///   slot being written twice at once (as `shmipc-shm`'s race-tolerant
    ///   slots do, against peers that write garbage), so that garbage can
    ///   garble items but not race.
    ///
    /// Safe code cannot build a ring over storage of its choosing:
    ///
    /// ```compile_fail,E0133
    /// # use shmipc_core::mpmc::*;
    /// fn ring<'a, S>(indices: &'a MpmcIndices, slots: &'a S) -> Mpmc<'a, S> {
    ///     Mpmc::new(indices, slots, 1 << 20, 1 << 20)
    /// }
    /// ```
    pub unsafe fn new(
        indices: &'a MpmcIndices,
        slots: &'a S,
        slot_count: u64,
        capacity: u64,
    ) -> Mpmc<'a, S> {
        debug_assert!(slot_count.is_power_of_two() && slot_count <= 1 << 32);
        debug_assert!((1..=slot_count).contains(&capacity));
        Mpmc {
            indices,
            slots,
            slot_count,
            lap_shift: slot_count.trailing_zeros(),
            capacity,
        }
    }

    #[inline(always)]
    fn slot(&self, position: u64) -> usize {
        (position & (self.slot_count - 1)) as usize
    }

    #[inline(always)]
    fn lap(&self, position: u64) -> u32 {
        (position >> self.lap_shift) as u32
    }

    /// The stamp of slot `index`, a [`slot`](Self::slot) (or, in `init`, a
    /// count below the slot count).
    #[inline(always)]
    fn stamp<T: Copy>(&self, index: usize) -> &AtomicU64
    where
        S: SequencedSlots<T>,
    {
        debug_assert!((index as u64) < self.slot_count);
        // SAFETY: every index passed here is below the slot count (a
        // position masked by `slot_count - 1`, or `init`'s count), and
        // `new`'s contract is that the slots hold that many.
        unsafe { self.slots.sequence(index) }
    }

    /// Whether the positions are possible at all. Callers run it when a push
    /// or pop keeps failing (before sleeping, or after a failed `try_`), so that
    /// a ring whose positions a peer overwrote is reported, not waited on.
    pub fn check(&self) -> Result<(), RingError> {
        // The positions are hints that may each lag one step behind the
        // stamps: the head is at most one past the tail (an item taken
        // before its producer moved the tail), and the tail at most one
        // past a lap ahead of the head (a slot claimed right after its
        // item was taken, before the consumer moved the head).
        let reach = self.slot_count + 1;
        match impossible_head_tail_head(&self.indices.head, &self.indices.tail, |h0, t, h1| {
            h0 > t.saturating_add(1) || t.saturating_sub(h1) > reach
        }) {
            Some((_, tail, head)) => Err(RingError::Corrupt { tail, head }),
            None => Ok(()),
        }
    }

    /// A slot said someone is past `pos`, yet the position read `pos`: read
    /// its latest value; if it really has not moved, the slot's stamp is
    /// impossible.
    fn moved_on(&self, pos: u64, tail: bool) -> Result<u64, RingError> {
        let latest = self.position(tail).fetch_add(0, Ordering::SeqCst);
        if latest == pos {
            let (tail, head) = (
                self.indices.tail.load(Ordering::Relaxed),
                self.indices.head.load(Ordering::Relaxed),
            );
            return Err(RingError::Corrupt { tail, head });
        }
        Ok(latest)
    }

    fn position(&self, tail: bool) -> &AtomicU64 {
        if tail {
            &self.indices.tail
        } else {
            &self.indices.head
        }
    }

    /// Moves a position from `pos` to `pos + 1` for whoever left it behind;
    /// returns where it is now.
    #[inline]
    fn help(&self, pos: u64, tail: bool) -> u64 {
        let next = pos.wrapping_add(1);
        match self
            .position(tail)
            .compare_exchange(pos, next, Ordering::Relaxed, Ordering::Relaxed)
        {
            Ok(_) => next,
            Err(now) => now,
        }
    }

    /// Writes the initial stamps (every slot free at lap 0: all zero).
    ///
    /// # Safety
    /// Called once, by the creator, before anyone else uses the ring:
    /// stamps rewritten under a live producer or consumer would give a
    /// slot to two of them.
    pub unsafe fn init<T: Copy>(&self)
    where
        S: SequencedSlots<T>,
    {
        for i in 0..self.slot_count {
            self.stamp::<T>(i as usize)
                .store(free(0), Ordering::Relaxed);
        }
    }

    /// Slot `pos`'s index, lap and stamp, with the stamp read as (laps
    /// ahead of `pos`, state); `expected(lap)` is the state `hoped` (the
    /// common case), told without decoding the stamp.
    #[inline(always)]
    fn look<T: Copy>(&self, pos: u64, expected: fn(u32) -> u64, hoped: State) -> Look
    where
        S: SequencedSlots<T>,
    {
        let index = self.slot(pos);
        let lap = self.lap(pos);
        let stamp = self.stamp::<T>(index).load(Ordering::Acquire);
        let seen = if stamp == expected(lap) {
            (0, hoped)
        } else {
            (laps_ahead(stamp, lap), state_of(stamp))
        };
        Look {
            index,
            lap,
            stamp,
            seen,
        }
    }

    /// Frees slot `index`, at `lap`, for the next lap, if its stamp is
    /// still `stamp`: the step that takes a position (its item, a void, or
    /// a dead claim). Release: the next producer writes the slot only after
    /// acquiring this, so after anything read from it before.
    #[inline(always)]
    fn free_for_next_lap<T: Copy>(&self, index: usize, lap: u32, stamp: u64) -> bool
    where
        S: SequencedSlots<T>,
    {
        self.stamp::<T>(index)
            .compare_exchange(
                stamp,
                free(lap.wrapping_add(1)),
                Ordering::Release,
                Ordering::Relaxed,
            )
            .is_ok()
    }

    /// Whether position `pos` has been taken (or passed over). For a
    /// position before the first, true.
    #[inline]
    fn taken<T: Copy>(&self, pos: u64) -> bool
    where
        S: SequencedSlots<T>,
    {
        let stamp = self.stamp::<T>(self.slot(pos)).load(Ordering::Acquire);
        laps_ahead(stamp, self.lap(pos)) >= 1
    }

    /// Pushes `value` for `by`, or fails with [`RingError::WouldBlock`] if
    /// full.
    #[inline]
    pub fn push<T: Copy>(&self, by: ClaimerId, value: T) -> Result<(), RingError>
    where
        S: SequencedSlots<T>,
    {
        self.push_with_slack(by, value, 1, &mut 0)
    }

    /// Pushes `value` like [`push`](Self::push), but once the tail reaches
    /// `room_until` it first looks `slack - 1` positions ahead: if there is
    /// no room there it fails with [`RingError::WouldBlock`] (fewer than
    /// `slack` free), otherwise it moves `room_until` past it.
    ///
    /// `room_until` is the caller's memory of the last look: the first
    /// position not yet seen with room (start it at 0). A `slack` of 1 never
    /// looks.
    ///
    /// On a nearly full ring the consumers are the slower side, and a
    /// producer that takes each slot the moment it is freed writes the cache
    /// line a consumer is still freeing slots in; holding out for `slack`
    /// free slots lets it finish those lines first, while the items queued
    /// ahead hide the delay. Looking once per `slack` items keeps the extra
    /// read off the common path. The look is a hint: consumers may free
    /// slots out of order, and the position claimed is checked as always.
    #[inline]
    pub fn push_with_slack<T: Copy>(
        &self,
        by: ClaimerId,
        value: T,
        slack: u64,
        room_until: &mut u64,
    ) -> Result<(), RingError>
    where
        S: SequencedSlots<T>,
    {
        self.claim::<T>(by, slack, room_until)
            .map(|claim| claim.publish(value))
    }

    /// Claims the next position for `by`, holding out for `slack` free
    /// positions as [`push_with_slack`](Self::push_with_slack) does; the
    /// claim's [`publish`](MpmcClaim::publish) writes the item.
    ///
    /// Until it is published, consumers that reach the position wait for it:
    /// a claimer that dies in between is passed over only once the caller
    /// has found it dead ([`pass_over`](Self::pass_over)).
    #[inline]
    pub fn claim<T: Copy>(
        &self,
        by: ClaimerId,
        slack: u64,
        room_until: &mut u64,
    ) -> Result<MpmcClaim<'_, 'a, S, T>, RingError>
    where
        S: SequencedSlots<T>,
    {
        let reach = slack.min(self.capacity).saturating_sub(1);
        let mut pos = self.indices.tail.load(Ordering::Relaxed);
        loop {
            if reach > 0 && pos.wrapping_sub(*room_until) as i64 >= 0 {
                let ahead = pos.wrapping_add(reach);
                if !self.taken::<T>(ahead.wrapping_sub(self.capacity)) {
                    return Err(RingError::WouldBlock);
                }
                *room_until = ahead.wrapping_add(1);
            }
            let Look {
                index,
                lap,
                stamp,
                seen,
            } = self.look::<T>(pos, free, State::Free);
            match seen {
                (0, State::Free) => {
                    // Below the slots, the room is the item `capacity`
                    // positions back having been taken; at the slots, that
                    // is this slot being free, already seen.
                    if self.capacity != self.slot_count
                        && !self.taken::<T>(pos.wrapping_sub(self.capacity))
                    {
                        return Err(RingError::WouldBlock);
                    }
                    let mine = claimed(lap, by);
                    // Acquire: the consumer that freed the slot read its
                    // last item before its release; our write comes after.
                    if self
                        .stamp::<T>(index)
                        .compare_exchange(stamp, mine, Ordering::Acquire, Ordering::Relaxed)
                        .is_ok()
                    {
                        self.help(pos, true);
                        return Ok(MpmcClaim {
                            ring: self,
                            position: pos,
                            stamp: mine,
                            _item: PhantomData,
                        });
                    }
                }
                // Someone claimed `pos` (and may have died before moving
                // the tail), or it was claimed and passed over.
                (0, _) | (1, State::Free) => pos = self.help(pos, true),
                // The slot still holds the previous lap's item: full. (No
                // look at the head here: that would take the consumers'
                // cache line on every failed push; see `check`.)
                (behind, _) if behind < 0 => return Err(RingError::WouldBlock),
                _ => pos = self.moved_on(pos, true)?,
            }
        }
    }

    /// Pops the oldest available item, or fails with
    /// [`RingError::WouldBlock`] if empty (or if the item at the head is
    /// still being written).
    #[inline]
    pub fn pop<T: Copy>(&self) -> Result<T, RingError>
    where
        S: SequencedSlots<T>,
    {
        let mut pos = self.indices.head.load(Ordering::Relaxed);
        loop {
            let Look {
                index,
                lap,
                stamp,
                seen,
            } = self.look::<T>(pos, full, State::Full);
            match seen {
                (0, State::Full) => {
                    // SAFETY: `SequencedSlots` reads tolerate a concurrent
                    // write; the value is used only if the compare-and-swap
                    // below finds the stamp unchanged, in which case no
                    // producer claimed the slot since our acquire of its
                    // "full" (a stamp does not return to a lap in under
                    // 2^32 laps), so the copy is the published item.
                    let value = unsafe { self.slots.read(index) };
                    if self.free_for_next_lap::<T>(index, lap, stamp) {
                        self.help(pos, false);
                        return Ok(value);
                    }
                }
                // A claim given up: free it, as if its item were taken.
                (0, State::Void) => {
                    if self.free_for_next_lap::<T>(index, lap, stamp) {
                        pos = self.help(pos, false);
                    }
                }
                // Nothing published for `pos` yet: empty.
                (0, _) => return Err(RingError::WouldBlock),
                // Taken (or passed over), and perhaps claimed again for the
                // next lap, by someone who may have died before moving the
                // head.
                (1, _) => pos = self.help(pos, false),
                (behind, _) if behind < 0 => return Err(RingError::WouldBlock),
                _ => pos = self.moved_on(pos, false)?,
            }
        }
    }

    /// The claim at the consumers' position, if a producer claimed it and
    /// has not published it: the one thing that can keep consumers from
    /// items behind it. The caller asks whether its
    /// [`claimer`](StalledClaim::claimer) is alive, and if not, passes it
    /// over ([`pass_over`](Self::pass_over)).
    pub fn stalled_claim<T: Copy>(&self) -> Option<StalledClaim>
    where
        S: SequencedSlots<T>,
    {
        let mut position = self.indices.head.load(Ordering::Acquire);
        // Past positions taken or passed over whose taker has not moved the
        // head, as `pop` goes; at most a lap of them.
        for _ in 0..=self.slot_count {
            let stamp = self.stamp::<T>(self.slot(position)).load(Ordering::Acquire);
            match (laps_ahead(stamp, self.lap(position)), state_of(stamp)) {
                (0, State::Claimed) => return Some(StalledClaim { position, stamp }),
                (1, _) => position = self.help(position, false),
                _ => return None,
            }
        }
        None
    }

    /// Passes over `stalled`: its position is marked taken, with no item,
    /// and the positions moved past it. `false` if the slot changed since
    /// (someone else passed it over, or it was published after all).
    ///
    /// # Safety
    /// The claimer will never publish (it is dead): a publish after this
    /// would write a slot that may by then belong to another producer.
    pub unsafe fn pass_over<T: Copy>(&self, stalled: &StalledClaim) -> bool
    where
        S: SequencedSlots<T>,
    {
        let pos = stalled.position;
        let passed = self.free_for_next_lap::<T>(self.slot(pos), self.lap(pos), stalled.stamp);
        if passed {
            // The claimer may have died before moving the tail.
            self.help(pos, true);
            self.help(pos, false);
        }
        passed
    }

    /// Pushes items from the front of `items` until one does not fit; returns how many.
    pub fn push_slice<T: Copy>(&self, by: ClaimerId, items: &[T]) -> Result<usize, RingError>
    where
        S: SequencedSlots<T>,
    {
        for (pushed, item) in items.iter().enumerate() {
            match self.push(by, *item) {
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
