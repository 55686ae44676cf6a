//! The spin-then-yield phase every blocking algorithm goes through before it parks.
//!
//! Waking a parked process costs a hundred or more cache-line round trips,
//! so a waiter first polls its condition with exponential back-off, which
//! catches a peer that answers within tens of microseconds, and only then
//! parks. From the fourth round on, each round also yields: where the peer
//! waits for this very cpu (two processes on one cpu), spinning only holds
//! the cpu the peer needs, and a hand-off that spun out every round before
//! its first yield cost thirteen futex round trips. Where the peer runs
//! elsewhere, a yield with nothing else to run returns at once.
//!
//! The tight polls before the rounds do not yield: yields there let the
//! threads of a pool (more than the cpus) take turns at every hand-off,
//! and made an `imap` item several times slower on two cpus.

use crate::park::Park;
use crate::primitives::spin_loop;

#[cfg(not(loom))]
const SPIN_ROUNDS: u32 = 10;
#[cfg(loom)]
const SPIN_ROUNDS: u32 = 1;
/// The first round that also yields: rounds before it are shorter than a
/// yield's system call.
#[cfg(not(loom))]
const FIRST_YIELD_ROUND: u32 = 3;
/// Under loom no round yields, as before yields joined the rounds: the
/// models' state space stays what it was.
#[cfg(loom)]
const FIRST_YIELD_ROUND: u32 = SPIN_ROUNDS;

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
        if round >= FIRST_YIELD_ROUND {
            park.yield_now();
            if ready() {
                return true;
            }
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
