//! An event flag: set, clear, and wait until set.
//!
//! The word holds the flag in bit 0 and a generation above it, bumped by every
//! `clear` that changes the flag. A waiter returns `true` if the flag is set or
//! if the generation moved while it waited, so a `set` followed at once by a
//! `clear` still releases everyone who was waiting (as Python's
//! `threading.Event` does). Bumping on `clear` rather than on `set` lets `set`
//! be a single `fetch_or`, one cache-line transaction on the hand-off path.

use crate::park::{Park, Parked, Unpark};
use crate::primitives::{fence, AtomicU32, Ordering};
use crate::spin::poll_then_yield;

const SET: u32 = 1;

/// An event in shared memory. All-zero bytes are a clear event.
#[repr(C, align(64))]
pub struct RawEvent {
    word: AtomicU32,
    sleepers: AtomicU32,
}

impl Default for RawEvent {
    fn default() -> Self {
        Self::new()
    }
}

impl RawEvent {
    /// A clear event.
    pub fn new() -> RawEvent {
        RawEvent {
            word: AtomicU32::new(0),
            sleepers: AtomicU32::new(0),
        }
    }

    /// Whether the flag is set (a snapshot).
    pub fn is_set(&self) -> bool {
        self.word.load(Ordering::SeqCst) & SET != 0
    }

    /// Sets the flag and wakes every waiter.
    pub fn set<U: Unpark>(&self, unpark: &U) {
        if self.word.fetch_or(SET, Ordering::SeqCst) & SET != 0 {
            return;
        }
        // Pairs with the fence in `wait`: either this sees the sleeper, or the
        // sleeper's re-check sees the new word.
        fence(Ordering::SeqCst);
        if self.sleepers.load(Ordering::SeqCst) != 0 {
            unpark.unpark(&self.word, u32::MAX);
        }
    }

    /// Clears the flag (a flag that was set moves to the next generation).
    pub fn clear(&self) {
        let _ = self
            .word
            .fetch_update(Ordering::SeqCst, Ordering::Relaxed, |w| {
                (w & SET != 0).then(|| (w & !SET).wrapping_add(2))
            });
    }

    /// Waits until the flag is set (or was set during the wait), as long as
    /// `park` lets it. Returns whether it was.
    pub fn wait<P: Park>(&self, park: &mut P) -> bool {
        let start = self.word.load(Ordering::SeqCst);
        if start & SET != 0 {
            return true;
        }
        let signalled = || {
            let w = self.word.load(Ordering::SeqCst);
            w & SET != 0 || w != start
        };
        if poll_then_yield(park, signalled) {
            return true;
        }
        self.sleepers.fetch_add(1, Ordering::SeqCst);
        fence(Ordering::SeqCst);
        let result = loop {
            if signalled() {
                break true;
            }
            if park.park(&self.word, start) == Parked::DeadlineReached {
                break signalled();
            }
        };
        self.sleepers.fetch_sub(1, Ordering::SeqCst);
        result
    }

    /// Registers a sleeper for a waiter that sleeps on several words at
    /// once: the futex word and the value to sleep on (check
    /// [`is_set`](Self::is_set) after this, before sleeping); undone by
    /// [`unregister`](Self::unregister).
    pub fn register(&self) -> (&AtomicU32, u32) {
        self.sleepers.fetch_add(1, Ordering::SeqCst);
        fence(Ordering::SeqCst);
        (&self.word, self.word.load(Ordering::SeqCst))
    }

    /// Undoes one [`register`](Self::register).
    pub fn unregister(&self) {
        // Saturating: a scribbled-on segment must not wrap the count.
        let _ = self
            .sleepers
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |s| s.checked_sub(1));
    }
}
