//! How a blocked put or get waits: the strategy a handle chooses, and the
//! one waiting loop every blocking call of a queue goes through.

use std::time::{Duration, Instant};

use shmipc_core::eventcount::EventCount;
use shmipc_core::park::Parked;
use shmipc_core::spin::{poll_then_yield, spin_then_yield};

use crate::futex::FutexPark;

/// How a blocked `put` or `get` waits.
///
/// ```
/// # extern crate shmipc_shm as shmipc;
/// # fn main() -> Result<(), shmipc::Error> {
/// # let name = format!("doc-wait-{}", std::process::id());
/// let q = shmipc::Queue::<u64>::create(&name, 8)?.with_wait(shmipc::WaitStrategy::Spin);
/// q.put(1)?;
/// assert_eq!(q.get()?, 1);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WaitStrategy {
    /// Never sleep: poll (yielding now and then). Lowest latency, burns a core.
    Spin,
    /// Sleep on a futex at once. Cheapest for the CPU, tens of microseconds to wake.
    Park,
    /// Poll for a few microseconds, then sleep (the default).
    #[default]
    SpinThenPark,
}

/// How eagerly a waiter polls before it parks.
#[derive(Clone, Copy)]
pub(crate) enum Patience {
    /// A consumer waiting for an item: its latency is the queue's latency, so
    /// poll after every pause at first.
    Eager,
    /// A producer waiting for room (or `join`): the other side is behind, and
    /// polling its cache lines would only slow it down, so back off from the start.
    BackOff,
}

/// Runs `attempt` until it gives an answer, waiting on `ec` between
/// attempts with `strategy`; `None` when `timeout` ran out. `invalid` is
/// asked, when attempts keep failing (before each sleep, and after a failed
/// `try_`), whether the state is impossible; its answer ends the wait.
///
/// Once parked, the waiter makes no syscall and takes no wake-up until a
/// notify or its deadline: the conditions here (an item, room, a close) are
/// all changed by a side that notifies. The exception is a wait whose
/// promise depends on another process staying alive (`join`; a get behind a
/// claim whose producer may die): while `liveness` says so (asked before
/// each sleep), the waiter also wakes now and then (the liveness poll's
/// back-off) to ask `invalid`.
pub(crate) fn wait_for<R>(
    strategy: WaitStrategy,
    ec: &EventCount,
    timeout: Option<Duration>,
    patience: Patience,
    liveness: impl Fn() -> bool,
    mut attempt: impl FnMut() -> Option<R>,
    invalid: impl Fn() -> Option<R>,
) -> Option<R> {
    if let Some(r) = attempt() {
        return Some(r);
    }
    if timeout == Some(Duration::ZERO) {
        return invalid();
    }
    let mut park = FutexPark::timeout(timeout);
    let mut answer = None;
    let mut ready = || {
        answer = attempt();
        answer.is_some()
    };
    let spun = match (strategy, patience) {
        (WaitStrategy::Park, _) => false,
        (_, Patience::Eager) => poll_then_yield(&mut park, &mut ready),
        (_, Patience::BackOff) => spin_then_yield(&mut park, &mut ready),
    };
    if spun {
        return answer;
    }
    let deadline = timeout.and_then(|t| Instant::now().checked_add(t));
    loop {
        if strategy == WaitStrategy::Spin {
            if let Some(r) = attempt() {
                return Some(r);
            }
            if deadline.is_some_and(|d| Instant::now() >= d) {
                return None;
            }
            if let Some(r) = invalid() {
                return Some(r);
            }
            std::thread::yield_now();
            continue;
        }
        if let Some(r) = invalid() {
            return Some(r);
        }
        if liveness() {
            park.poll_liveness();
        }
        let registration = ec.prepare(&mut park);
        if let Some(r) = attempt() {
            return Some(r);
        }
        if registration.wait(&mut park) == Parked::DeadlineReached {
            drop(registration);
            return attempt();
        }
    }
}
