//! The spin-then-yield phase every blocking algorithm goes through before it parks.
//!
//! Waking a parked process costs a hundred or more cache-line round trips,
//! so a waiter first polls its condition with exponential back-off, which
//! catches a peer that answers within tens of microseconds, then yields a
//! few times, which lets a peer on the same core run, and only then parks.

use crate::park::Park;
use crate::primitives::spin_loop;

#[cfg(not(loom))]
const SPIN_ROUNDS: u32 = 10;
#[cfg(loom)]
const SPIN_ROUNDS: u32 = 1;
#[cfg(not(loom))]
const YIELD_ROUNDS: u32 = 4;
#[cfg(loom)]
const YIELD_ROUNDS: u32 = 0;

/// Polls `ready` between rounds of spinning and yielding; returns `true` as
/// soon as it does, `false` once the rounds are spent and the caller should park.
#[inline]
pub fn spin_then_yield<P: Park>(park: &mut P, mut ready: impl FnMut() -> bool) -> bool {
    for round in 0..SPIN_ROUNDS {
        for _ in 0..(1u32 << round) {
            spin_loop();
        }
        if ready() {
            return true;
        }
    }
    for _ in 0..YIELD_ROUNDS {
        park.yield_now();
        if ready() {
            return true;
        }
    }
    false
}

/// Polls for a hand-off: after every pause for [`TIGHT_POLLS`] pauses (a few
/// microseconds), then as [`spin_then_yield`].
///
/// For waits whose condition is set once by a peer (a permit, a flag, a
/// generation): the peer usually answers within a cache-line round trip, and a
/// back-off step longer than that only adds latency. Locks, where every waiter
/// competes for the same word, back off from the start instead.
#[inline]
pub fn poll_then_yield<P: Park>(park: &mut P, mut ready: impl FnMut() -> bool) -> bool {
    for _ in 0..TIGHT_POLLS {
        spin_loop();
        if ready() {
            return true;
        }
    }
    spin_then_yield(park, ready)
}

/// Pauses polled one by one before backing off (a pause is some nanoseconds;
/// 256 of them cover a peer that answers within a few cache-line round trips).
#[cfg(not(loom))]
pub const TIGHT_POLLS: u32 = 256;
/// Pauses polled one by one before backing off.
#[cfg(loom)]
pub const TIGHT_POLLS: u32 = 1;
