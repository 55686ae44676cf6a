//! A counting semaphore on one futex word, exact about its bound.
//!
//! `count` is the number of permits; acquiring decrements it with a
//! compare-and-swap that never goes below zero, releasing adds with a
//! compare-and-swap that can refuse to pass a bound, so a bounded semaphore's
//! over-release is detected exactly (Python's check is racy). `sleepers` counts
//! parked acquirers, so a release makes a wake-up syscall only when one may be
//! needed. Both sides use `SeqCst` on `count` and `sleepers` (a Dekker pair): a
//! release either sees the sleeper or the sleeper's futex check sees the permit.

use crate::park::{Park, Parked, Unpark};
use crate::primitives::{fence, AtomicU32, Ordering};
use crate::raw_lock::TimedOut;
use crate::spin::poll_then_yield;

/// A release that would pass the bound (or overflow `u32`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OverRelease {
    /// The permits available when the release was attempted.
    pub value: u32,
    /// How many permits the release tried to add.
    pub adding: u32,
    /// The bound it would have passed.
    pub bound: u32,
}

/// A semaphore in shared memory. All-zero bytes are a semaphore with no permits.
#[repr(C, align(64))]
pub struct RawSemaphore {
    count: AtomicU32,
    sleepers: AtomicU32,
}

impl RawSemaphore {
    /// A semaphore with `permits` permits.
    pub fn new(permits: u32) -> RawSemaphore {
        RawSemaphore {
            count: AtomicU32::new(permits),
            sleepers: AtomicU32::new(0),
        }
    }

    /// Permits available now (a snapshot).
    pub fn value(&self) -> u32 {
        self.count.load(Ordering::Relaxed)
    }

    /// Takes a permit if one is available.
    #[inline]
    pub fn try_acquire(&self) -> bool {
        let mut c = self.count.load(Ordering::Relaxed);
        while c != 0 {
            match self
                .count
                .compare_exchange_weak(c, c - 1, Ordering::SeqCst, Ordering::Relaxed)
            {
                Ok(_) => return true,
                Err(now) => c = now,
            }
        }
        false
    }

    /// Takes a permit, waiting as long as `park` lets it.
    pub fn acquire<P: Park>(&self, park: &mut P) -> Result<(), TimedOut> {
        if self.try_acquire() || poll_then_yield(park, || self.try_acquire()) {
            return Ok(());
        }
        self.sleepers.fetch_add(1, Ordering::SeqCst);
        // Pairs with the fence in `release`: either it sees this sleeper, or the
        // re-check below sees its permit.
        fence(Ordering::SeqCst);
        let result = loop {
            if self.try_acquire() {
                break Ok(());
            }
            if park.park(&self.count, 0) == Parked::DeadlineReached {
                break if self.try_acquire() {
                    Ok(())
                } else {
                    Err(TimedOut)
                };
            }
        };
        self.sleepers.fetch_sub(1, Ordering::SeqCst);
        result
    }

    /// Adds `n` permits, refusing to pass `bound`; wakes up to `n` sleepers.
    pub fn release<U: Unpark>(
        &self,
        n: u32,
        bound: Option<u32>,
        unpark: &U,
    ) -> Result<(), OverRelease> {
        let limit = bound.unwrap_or(u32::MAX);
        // Guess "no permits" instead of reading first: in a hand-off that is
        // the usual state, and a compare-and-swap that starts from a read
        // costs two cache-line transactions (shared, then exclusive) instead of one.
        let mut c: u32 = 0;
        loop {
            let next = c
                .checked_add(n)
                .filter(|&next| next <= limit)
                .ok_or(OverRelease {
                    value: c,
                    adding: n,
                    bound: limit,
                })?;
            match self
                .count
                .compare_exchange_weak(c, next, Ordering::SeqCst, Ordering::Relaxed)
            {
                Ok(_) => break,
                Err(now) => c = now,
            }
        }
        // Pairs with the fence in `acquire` (see there).
        fence(Ordering::SeqCst);
        if n != 0 && self.sleepers.load(Ordering::SeqCst) != 0 {
            unpark.unpark(&self.count, n);
        }
        Ok(())
    }
}
