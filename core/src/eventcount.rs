//! An eventcount: lets a thread wait for "something changed" on a condition it
//! checks itself (a ring not empty, not full), while the side that makes the
//! change pays only a fence and a load when nobody waits.
//!
//! Waiter: `let token = ec.prepare(park)`; re-check the condition; if still
//! not met, `ec.wait(token, park)`; then `ec.finish()`. Notifier: change the
//! condition, then `ec.notify(unpark, n)`. `prepare` registers the waiter before
//! the re-check and `notify` reads the registration after the change, with a
//! barrier on each side, so either the notifier sees the waiter or the waiter's
//! re-check sees the change.
//!
//! The barrier is asymmetric ([`Park::heavy_barrier`], [`Unpark::light_fence`]):
//! a ring's producer notifies on every push, and a `SeqCst` fence there stalls
//! it until its last store has left the core (~100 ns when the consumer holds
//! the line), while the waiter is about to sleep for ~40 µs anyway.

use crate::park::{Park, Parked, Unpark};
use crate::primitives::{AtomicU32, Ordering};

/// An eventcount in shared memory. All-zero bytes are one with no waiters.
#[repr(C)]
pub struct EventCount {
    /// Futex word: bumped by every notify that finds a waiter.
    epoch: AtomicU32,
    /// Registered waiters.
    waiters: AtomicU32,
}

impl Default for EventCount {
    fn default() -> Self {
        Self::new()
    }
}

/// What [`EventCount::prepare`] returns: the epoch to wait on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token(u32);

impl EventCount {
    /// An eventcount with no waiters.
    pub fn new() -> EventCount {
        EventCount {
            epoch: AtomicU32::new(0),
            waiters: AtomicU32::new(0),
        }
    }

    /// Registers a waiter; re-check the condition after this.
    pub fn prepare<P: Park>(&self, park: &mut P) -> Token {
        self.waiters.fetch_add(1, Ordering::SeqCst);
        park.heavy_barrier();
        Token(self.epoch.load(Ordering::SeqCst))
    }

    /// Sleeps until a notify after `token` was taken (or a spurious return).
    pub fn wait<P: Park>(&self, token: Token, park: &mut P) -> Parked {
        park.park(&self.epoch, token.0)
    }

    /// Unregisters a waiter (after `wait`, or instead of it).
    pub fn finish(&self) {
        // Saturating: a scribbled-on segment must not wrap the count.
        let _ = self
            .waiters
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |w| w.checked_sub(1));
    }

    /// After changing the condition: wakes up to `n` waiters, if any are registered.
    #[inline]
    pub fn notify<U: Unpark>(&self, unpark: &U, n: u32) {
        self.notify_if(unpark, n, || true);
    }

    /// As [`notify`](Self::notify), but only if `ready()` says the waiters'
    /// condition now holds. For a condition that most changes leave false
    /// (a count reaching zero), so that waiters are not woken by each one.
    /// `ready` is asked only when a waiter is registered, after the fence.
    /// Correct when only changes followed by this call can make the
    /// condition true: the one that does sees it true.
    #[inline]
    pub fn notify_if<U: Unpark>(&self, unpark: &U, n: u32, ready: impl FnOnce() -> bool) {
        unpark.light_fence();
        if self.waiters.load(Ordering::SeqCst) != 0 && ready() {
            self.epoch.fetch_add(1, Ordering::SeqCst);
            unpark.unpark(&self.epoch, n);
        }
    }

    /// Registered waiters (a snapshot).
    pub fn waiters(&self) -> u32 {
        self.waiters.load(Ordering::Relaxed)
    }
}
