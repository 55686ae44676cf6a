//! What `core`'s blocking algorithms need from the outside world, and nothing more.
//!
//! `core` knows no processes, clocks or syscalls. A waiting algorithm is given a
//! [`Park`], which can block on a 32-bit word (a futex, in `shmipc-shm`), knows the
//! caller's deadline and how often the caller wants to re-check a lock owner's
//! liveness, and can tell whether a recorded owner still exists.

use crate::primitives::{fence, AtomicU32, Ordering};

/// Who holds a lock: enough to tell later, from another process, whether that
/// holder still exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Owner {
    /// Kernel thread id (equal to the pid for a process's main thread). Non-zero.
    pub tid: u32,
    /// Process id (thread-group id).
    pub pid: u32,
    /// When that thread started, in clock ticks since boot; 0 if unknown. Tells a
    /// recycled thread id apart from the original holder.
    pub start: u64,
}

/// What a liveness check found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Liveness {
    /// The holder still exists (or cannot be shown dead: the safe answer).
    Alive,
    /// The holder has exited (or is a zombie, or its id now names another thread).
    Dead,
}

/// Why [`Park::park`] returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Parked {
    /// Woken, or the word changed, or a spurious return: look again.
    Woken,
    /// A poll interval passed: look again, and check the holder's liveness.
    PollDue,
    /// The caller's deadline passed.
    DeadlineReached,
}

/// Blocks a waiter. One `Park` value serves one blocking call, so it can carry
/// that call's deadline and poll schedule.
pub trait Park {
    /// Blocks while `word` holds `expected`, until woken, until a poll interval
    /// passes, or until the deadline. May return early for any reason.
    fn park(&mut self, word: &AtomicU32, expected: u32) -> Parked;

    /// Gives the CPU away once, between spinning and parking.
    fn yield_now(&mut self);

    /// Whether `owner` still exists.
    fn liveness(&mut self, owner: &Owner) -> Liveness;

    /// The waiter's half of an asymmetric barrier: a full fence that also
    /// orders the accesses of every thread that uses [`Unpark::light_fence`].
    /// Waiters call it just before their last check, when they are about to
    /// sleep anyway, so that the hot side can do without a real fence. The
    /// default is a plain `SeqCst` fence (symmetric, always correct).
    fn heavy_barrier(&mut self) {
        fence(Ordering::SeqCst);
    }
}

/// Wakes waiters blocked in [`Park::park`] on a word.
pub trait Unpark {
    /// Wakes at most `count` waiters blocked on `word`.
    fn unpark(&self, word: &AtomicU32, count: u32);

    /// The notifier's half of the asymmetric barrier (see
    /// [`Park::heavy_barrier`]). Only an implementation whose `heavy_barrier`
    /// really orders this thread's accesses may make it weaker than the default
    /// `SeqCst` fence.
    #[inline]
    fn light_fence(&self) {
        fence(Ordering::SeqCst);
    }
}
