//! An eventcount: lets a thread wait for "something changed" on a condition it
//! checks itself (a ring not empty, not full), while the side that makes the
//! change pays only a fence and a load when nobody waits.
//!
//! Waiter: `let registration = ec.prepare(park)`; re-check the condition;
//! if still not met, `registration.wait(park)`; dropping the registration
//! unregisters. Notifier: change the
//! condition, then `ec.notify(unpark, n)`. `prepare` registers the waiter before
//! the re-check and `notify` reads the registration after the change, with a
//! barrier on each side, so either the notifier sees the waiter or the waiter's
//! re-check sees the change.
//!
//! The barrier is asymmetric ([`Park::heavy_barrier`], [`Unpark::light_fence`]):
//! a ring's producer notifies on every push, and a `SeqCst` fence there stalls
//! it until its last store has left the core (a cache-line transfer when the
//! consumer holds the line), while the waiter is about to sleep for far
//! longer anyway.

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

/// A waiter's registration, from [`EventCount::prepare`]: holds the epoch to
/// wait on, and unregisters the waiter when dropped, so that a registration
/// is never leaked (notifiers would pay a wake-up for ever) nor ended twice
/// (a waiter would go unseen).
#[must_use = "a registration waits with `wait`; dropping it unregisters"]
pub struct Registration<'a> {
    ec: &'a EventCount,
    epoch: u32,
}

impl<'a> Registration<'a> {
    /// Sleeps until a notify after the registration (or a spurious return).
    pub fn wait<P: Park>(&self, park: &mut P) -> Parked {
        park.park(&self.ec.epoch, self.epoch)
    }

    /// The futex word a notify after the registration changes, and the
    /// value it had at the registration: for a waiter that sleeps on
    /// several words at once.
    pub fn futex(&self) -> (&'a AtomicU32, u32) {
        (&self.ec.epoch, self.epoch)
    }
}

impl Drop for Registration<'_> {
    fn drop(&mut self) {
        // Saturating: a scribbled-on segment must not wrap the count.
        let _ = self
            .ec
            .waiters
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |w| w.checked_sub(1));
    }
}

impl EventCount {
    /// An eventcount with no waiters.
    pub fn new() -> EventCount {
        EventCount {
            epoch: AtomicU32::new(0),
            waiters: AtomicU32::new(0),
        }
    }

    /// Registers a waiter; re-check the condition after this, then
    /// [`Registration::wait`] if it still does not hold. Dropping the
    /// registration unregisters.
    pub fn prepare<P: Park>(&self, park: &mut P) -> Registration<'_> {
        self.waiters.fetch_add(1, Ordering::SeqCst);
        park.heavy_barrier();
        Registration {
            ec: self,
            epoch: self.epoch.load(Ordering::SeqCst),
        }
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
