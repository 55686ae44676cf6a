//! A condition variable whose `notify(n)` releases exactly `n` waiters (or all
//! there are, if fewer).
//!
//! Bookkeeping happens under the user's lock, which every wait and notify holds:
//! `waiting` counts waiters not yet notified. `notify(n)` moves `k = min(n,
//! waiting)` of them into `tokens`, the futex word; a waiter leaves its wait by
//! taking a token. A waiter that times out re-takes the lock and then either
//! finds a token after all (it was notified: it reports so) or removes itself
//! from `waiting`. So the invariant `waiting + tokens = waiters present` holds
//! whenever the lock is free, and no notification is lost or doubled.
//!
//! A waiter process that dies while waiting leaves one count behind, which a
//! later notify turns into a token some later waiter takes at once: a spurious
//! wake-up, which condition variables allow, never a hang.

use crate::park::{Park, Parked, Unpark};
use crate::primitives::{fence, AtomicU32, Ordering};
use crate::spin::poll_then_yield;

/// A condition variable in shared memory. All-zero bytes are one with no waiters.
#[repr(C, align(64))]
pub struct RawCondition {
    waiting: AtomicU32,
    tokens: AtomicU32,
    sleepers: AtomicU32,
}

impl Default for RawCondition {
    fn default() -> Self {
        Self::new()
    }
}

impl RawCondition {
    /// A condition with no waiters.
    pub fn new() -> RawCondition {
        RawCondition {
            waiting: AtomicU32::new(0),
            tokens: AtomicU32::new(0),
            sleepers: AtomicU32::new(0),
        }
    }

    /// Waiters not yet notified (a snapshot).
    pub fn waiting(&self) -> u32 {
        self.waiting.load(Ordering::SeqCst)
    }

    /// Step 1 of a wait, with the lock held: count this waiter in.
    pub fn enqueue(&self) {
        self.waiting.fetch_add(1, Ordering::SeqCst);
    }

    fn take_token(&self) -> bool {
        let mut t = self.tokens.load(Ordering::Relaxed);
        while t != 0 {
            match self
                .tokens
                .compare_exchange_weak(t, t - 1, Ordering::SeqCst, Ordering::Relaxed)
            {
                Ok(_) => return true,
                Err(now) => t = now,
            }
        }
        false
    }

    /// Step 2, with the lock released: wait for a notification as long as `park`
    /// lets it. `true` if notified; after `false`, call [`RawCondition::abandon`]
    /// once the lock is held again.
    pub fn wait_for_token<P: Park>(&self, park: &mut P) -> bool {
        if self.take_token() || poll_then_yield(park, || self.take_token()) {
            return true;
        }
        self.sleepers.fetch_add(1, Ordering::SeqCst);
        // Pairs with the fence in `notify`: either it sees this sleeper, or the
        // re-check below sees its tokens.
        fence(Ordering::SeqCst);
        let notified = loop {
            if self.take_token() {
                break true;
            }
            if park.park(&self.tokens, 0) == Parked::DeadlineReached {
                break false;
            }
        };
        self.sleepers.fetch_sub(1, Ordering::SeqCst);
        notified
    }

    /// Step 3 after a timed-out wait, with the lock held again: `true` if a
    /// notification arrived after all (the waiter counts as notified), otherwise
    /// the waiter is removed from `waiting`.
    pub fn abandon(&self) -> bool {
        if self.take_token() {
            return true;
        }
        // Saturating: a scribbled-on or crashed-into segment must not wrap.
        let _ = self
            .waiting
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |w| w.checked_sub(1));
        false
    }

    /// With the lock held: releases up to `n` waiters; returns how many.
    pub fn notify<U: Unpark>(&self, n: u32, unpark: &U) -> u32 {
        let mut released = 0;
        let _ = self
            .waiting
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |w| {
                released = w.min(n);
                (released != 0).then(|| w - released)
            });
        if released != 0 {
            self.tokens.fetch_add(released, Ordering::SeqCst);
            fence(Ordering::SeqCst);
            if self.sleepers.load(Ordering::SeqCst) != 0 {
                unpark.unpark(&self.tokens, released);
            }
        }
        released
    }
}
