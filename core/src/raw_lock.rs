//! A mutual-exclusion lock that records its holder, so that the death of a holder
//! is noticed by the next acquirer instead of hanging it.
//!
//! # The state word
//!
//! `state` is 0 when free; otherwise the holder's thread id, with [`WAITERS`] set
//! when somebody may be parked on the word. Acquiring is one compare-and-swap
//! `0 -> tid`; releasing is one swap `-> 0`, followed by a wake only if
//! [`WAITERS`] was set. So neither side makes a syscall while nobody waits.
//!
//! # Owner record and death
//!
//! After its compare-and-swap the holder writes an owner record (tid, pid, start
//! time) beside the word, and clears the record's tid before it releases. A
//! waiter that has been parked for a poll interval reads the tid from the word
//! and asks its [`Park`] whether that thread still exists (using the start time
//! only when the record's tid matches the word, i.e. when the record describes
//! the current holder). If the holder is dead, the waiter swaps the word from
//! exactly the value it saw to its own tid: one waiter wins, and it gets
//! [`Acquired::OwnerDied`]. The lock stays marked inconsistent (`poisoned` holds
//! the dead holder's pid) until a holder calls [`RawLock::mark_consistent`], so
//! every acquirer until then hears about it, as with std's poisoning.
//!
//! # Spinning
//!
//! Waking a sleeping process costs a hundred or more cache-line
//! round trips, so a contended acquirer first spins with exponential back-off,
//! then yields a few times, and only then parks.

use crate::park::{Liveness, Owner, Park, Parked, Unpark};
use crate::primitives::{fence, AtomicU32, AtomicU64, Ordering};
use crate::spin::spin_then_yield;

/// Set in the state word when a waiter may be parked on it.
pub const WAITERS: u32 = 1 << 31;
/// The bits of the state word that hold the thread id. Linux thread ids are
/// below 2^22 (`PID_MAX_LIMIT`), so bit 30 and 31 are free.
pub const TID_MASK: u32 = (1 << 30) - 1;
/// The "thread id" of a lock held detached ([`RawLock::detach`]): held by
/// no thread, released by whoever it was handed to. No real thread has it
/// (ids are below 2^22), and no waiter takes it over as dead.
pub const DETACHED: u32 = TID_MASK;

/// How an acquisition went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Acquired {
    /// The lock was free and consistent.
    Clean,
    /// A holder died holding the lock, and nobody has marked the protected data
    /// consistent since. Carries the dead holder's pid (its tid if the pid was
    /// never recorded).
    OwnerDied {
        /// Process id of the holder that died.
        pid: u32,
    },
}

/// The deadline passed before the lock could be taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimedOut;

/// A lock that lives in shared memory. All-zero bytes are a free, consistent lock.
#[repr(C, align(64))]
pub struct RawLock {
    state: AtomicU32,
    owner_tid: AtomicU32,
    owner_start: AtomicU64,
    owner_pid: AtomicU32,
    /// 0 when consistent; otherwise the pid of a holder that died holding it.
    poisoned: AtomicU32,
    /// Recursion depth, used by [`RawRLock`](crate::raw_rlock::RawRLock) only;
    /// read and written only by the holder.
    depth: AtomicU64,
}

#[cfg(not(loom))]
const _: () = assert!(core::mem::size_of::<RawLock>() <= crate::layout::INLINE_LOCK_SIZE);

impl Default for RawLock {
    fn default() -> Self {
        Self::new()
    }
}

impl RawLock {
    /// A free, consistent lock (the same as all-zero bytes).
    pub fn new() -> RawLock {
        RawLock {
            state: AtomicU32::new(0),
            owner_tid: AtomicU32::new(0),
            owner_start: AtomicU64::new(0),
            owner_pid: AtomicU32::new(0),
            poisoned: AtomicU32::new(0),
            depth: AtomicU64::new(0),
        }
    }

    /// Takes the lock if it is free, without waiting and without asking whether
    /// a holder is alive.
    #[inline]
    pub fn try_lock_fast(&self, me: &Owner) -> Option<Acquired> {
        let tid = me.tid & TID_MASK;
        if self
            .state
            .compare_exchange(0, tid, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
        {
            Some(self.on_acquired(me))
        } else {
            None
        }
    }

    /// Takes the lock if it is free, or if its holder is dead; never blocks.
    pub fn try_lock<P: Park>(&self, me: &Owner, park: &mut P) -> Option<Acquired> {
        if let Some(acquired) = self.try_lock_fast(me) {
            return Some(acquired);
        }
        let seen = self.state.load(Ordering::Relaxed);
        if seen == 0 {
            return self.try_lock_fast(me);
        }
        self.take_over_if_dead(seen, me, park)
    }

    /// Takes the lock, waiting as long as `park` lets it.
    ///
    /// Returns [`TimedOut`] only when `park` reports its deadline. A dead holder
    /// is noticed at the next poll `park` reports.
    pub fn lock<P: Park>(&self, me: &Owner, park: &mut P) -> Result<Acquired, TimedOut> {
        if let Some(acquired) = self.try_lock_fast(me) {
            return Ok(acquired);
        }
        let tid = me.tid & TID_MASK;
        let mut spun = None;
        if spin_then_yield(park, || {
            spun = (self.state.load(Ordering::Relaxed) == 0)
                .then(|| self.try_lock_fast(me))
                .flatten();
            spun.is_some()
        }) {
            if let Some(acquired) = spun {
                return Ok(acquired);
            }
        }
        loop {
            let seen = self.state.load(Ordering::Relaxed);
            if seen == 0 {
                // Others may still be parked behind us: keep WAITERS so that our
                // release wakes one of them.
                if self
                    .state
                    .compare_exchange(0, tid | WAITERS, Ordering::Acquire, Ordering::Relaxed)
                    .is_ok()
                {
                    return Ok(self.on_acquired(me));
                }
                continue;
            }
            if seen & WAITERS == 0
                && self
                    .state
                    .compare_exchange(seen, seen | WAITERS, Ordering::Relaxed, Ordering::Relaxed)
                    .is_err()
            {
                continue;
            }
            let expected = seen | WAITERS;
            match park.park(&self.state, expected) {
                Parked::Woken => {}
                Parked::PollDue => {
                    if let Some(acquired) = self.take_over_if_dead(expected, me, park) {
                        return Ok(acquired);
                    }
                }
                Parked::DeadlineReached => {
                    // One last look, so a short timeout still notices a dead holder
                    // or a release that raced with the deadline.
                    let seen = self.state.load(Ordering::Relaxed);
                    if seen == 0 {
                        if let Some(acquired) = self.try_lock_fast(me) {
                            return Ok(acquired);
                        }
                    } else if let Some(acquired) = self.take_over_if_dead(seen, me, park) {
                        return Ok(acquired);
                    }
                    return Err(TimedOut);
                }
            }
        }
    }

    /// Releases the lock.
    ///
    /// Only the holder may call this; the typed guards in `shmipc-shm` make sure
    /// of it. A release by anyone else would let two holders in.
    #[inline]
    pub fn unlock<U: Unpark>(&self, unpark: &U) {
        self.owner_tid.store(0, Ordering::Relaxed);
        let previous = self.state.swap(0, Ordering::Release);
        if previous & WAITERS != 0 {
            unpark.unpark(&self.state, 1);
        }
    }

    /// Converts the caller's hold into a detached one: the lock stays held,
    /// by no thread, until [`release_detached`](Self::release_detached).
    /// Only the holder may call this.
    pub fn detach(&self) {
        self.owner_tid.store(0, Ordering::Relaxed);
        let mut seen = self.state.load(Ordering::Relaxed);
        while let Err(now) = self.state.compare_exchange_weak(
            seen,
            seen & WAITERS | DETACHED,
            Ordering::Release,
            Ordering::Relaxed,
        ) {
            seen = now;
        }
    }

    /// Releases a lock held detached, from any thread of any process;
    /// `false` (and nothing done) if the lock is not held detached.
    pub fn release_detached<U: Unpark>(&self, unpark: &U) -> bool {
        let mut seen = self.state.load(Ordering::Relaxed);
        while seen & TID_MASK == DETACHED {
            match self
                .state
                .compare_exchange_weak(seen, 0, Ordering::Release, Ordering::Relaxed)
            {
                Ok(_) => {
                    if seen & WAITERS != 0 {
                        unpark.unpark(&self.state, 1);
                    }
                    return true;
                }
                Err(now) => seen = now,
            }
        }
        false
    }

    /// Whether the lock is held detached (a snapshot).
    pub fn is_detached(&self) -> bool {
        self.state.load(Ordering::Relaxed) & TID_MASK == DETACHED
    }

    /// Whether the lock is held right now (a snapshot, stale at once).
    pub fn is_locked(&self) -> bool {
        self.state.load(Ordering::Relaxed) != 0
    }

    /// Whether a waiter has announced itself as parked (a snapshot).
    pub fn has_waiters(&self) -> bool {
        self.state.load(Ordering::Relaxed) & WAITERS != 0
    }

    /// The holder's record, if the lock is held and the record is complete.
    pub fn owner(&self) -> Option<Owner> {
        let tid = self.state.load(Ordering::Relaxed) & TID_MASK;
        if tid == 0 {
            return None;
        }
        Some(self.record_for(tid))
    }

    /// Whether `me` holds the lock: the word names its thread and the record its
    /// pid and start time (so a recycled thread id is not mistaken for the holder).
    pub fn is_held_by(&self, me: &Owner) -> bool {
        let tid = me.tid & TID_MASK;
        self.state.load(Ordering::Relaxed) & TID_MASK == tid
            && self.owner_tid.load(Ordering::Relaxed) == tid
            && self.owner_pid.load(Ordering::Relaxed) == me.pid
            && self.owner_start.load(Ordering::Relaxed) == me.start
    }

    pub(crate) fn depth(&self) -> &AtomicU64 {
        &self.depth
    }

    /// The pid of a holder that died, while the lock is marked inconsistent.
    pub fn poisoned_by(&self) -> Option<u32> {
        match self.poisoned.load(Ordering::Relaxed) {
            0 => None,
            pid => Some(pid),
        }
    }

    /// Marks the protected data consistent again after an [`Acquired::OwnerDied`].
    /// Only the holder may call this.
    pub fn mark_consistent(&self) {
        self.poisoned.store(0, Ordering::Relaxed);
    }

    #[inline]
    fn on_acquired(&self, me: &Owner) -> Acquired {
        self.owner_start.store(me.start, Ordering::Relaxed);
        self.owner_pid.store(me.pid, Ordering::Relaxed);
        // Release: a reader that acquires this tid sees the pid and start
        // time written before it (see `record_for`).
        self.owner_tid.store(me.tid & TID_MASK, Ordering::Release);
        match self.poisoned.load(Ordering::Relaxed) {
            0 => Acquired::Clean,
            pid => Acquired::OwnerDied { pid },
        }
    }

    /// The record of holder `tid`, read consistently: complete only if the
    /// record named `tid` before and after its pid and start time were read
    /// (a sequence check, with the tid as the sequence), and the word still
    /// names `tid`; otherwise just the tid (the holder has not written its
    /// record yet, or died before it could, or another holder is writing
    /// its own). So a waiter never pairs one holder's tid with another's
    /// pid, which would find "no such thread" and take the lock from a live
    /// holder.
    fn record_for(&self, tid: u32) -> Owner {
        let unknown = Owner {
            tid,
            pid: 0,
            start: 0,
        };
        // Acquire: pairs with the holder's Release store of its tid, so the
        // pid and start time read next are at least that holder's.
        if self.owner_tid.load(Ordering::Acquire) != tid {
            return unknown;
        }
        let pid = self.owner_pid.load(Ordering::Relaxed);
        let start = self.owner_start.load(Ordering::Relaxed);
        // The reads above may not move below the re-check.
        fence(Ordering::Acquire);
        if self.owner_tid.load(Ordering::Relaxed) != tid
            || self.state.load(Ordering::Relaxed) & TID_MASK != tid
        {
            return unknown;
        }
        Owner { tid, pid, start }
    }

    fn take_over_if_dead<P: Park>(&self, seen: u32, me: &Owner, park: &mut P) -> Option<Acquired> {
        if seen & TID_MASK == DETACHED {
            // Held by no thread on purpose: no holder can die.
            return None;
        }
        let holder = self.record_for(seen & TID_MASK);
        if park.liveness(&holder) == Liveness::Alive {
            return None;
        }
        let tid = me.tid & TID_MASK;
        // Swap from exactly what we judged: if the word moved, someone else
        // released or took over, and our verdict is about a thread that no
        // longer holds it.
        self.state
            .compare_exchange(seen, tid | WAITERS, Ordering::Acquire, Ordering::Relaxed)
            .ok()?;
        let dead_pid = if holder.pid != 0 {
            holder.pid
        } else {
            holder.tid
        };
        self.poisoned.store(dead_pid, Ordering::Relaxed);
        Some(self.on_acquired(me))
    }
}
