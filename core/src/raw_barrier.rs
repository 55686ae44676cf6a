//! A reusable barrier for a fixed number of parties, with Python's semantics
//! (`threading.Barrier`): arrival indices, an action run once per round by the
//! last party before anyone leaves, abort, reset, and breaking on timeout.
//!
//! The state lives behind an internal [`RawLock`] (so the death of a party in
//! the middle of an update is noticed: the barrier breaks). Waiting happens on
//! `phase`, a futex word bumped by every state change; `sleepers` spares the
//! wake-up syscall when nobody sleeps.
//!
//! States, as in CPython: `FILLING` (parties arriving), `DRAINING` (released,
//! parties leaving; new arrivals wait), `RESETTING` (waiters leave broken, then
//! it refills), `BROKEN` (every wait fails until `reset`).
//!
//! A table of participant processes (pid, start time) lets waiters notice a
//! participant that died before arriving: a parked waiter checks the table at
//! every poll and breaks the barrier if one is gone, instead of waiting forever.

use crate::park::{Liveness, Owner, Park, Parked, Unpark};
use crate::primitives::{fence, AtomicU32, AtomicU64, Ordering};
use crate::raw_lock::{Acquired, RawLock};
use crate::spin::spin_then_yield;

const FILLING: u32 = 0;
const DRAINING: u32 = 1;
const RESETTING: u32 = 2;
const BROKEN: u32 = 3;

/// How many participant processes a barrier tracks for death detection.
#[cfg(not(loom))]
pub const PARTICIPANT_SLOTS: usize = 64;
/// How many participant processes a barrier tracks for death detection.
#[cfg(loom)]
pub const PARTICIPANT_SLOTS: usize = 2;

/// Why a barrier wait failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BarrierError {
    /// The barrier is broken, was reset, or was aborted.
    Broken,
    /// This party's wait timed out; it broke the barrier.
    TimedOut,
    /// A participant process died; this party broke the barrier.
    PartyDied {
        /// The dead participant.
        pid: u32,
    },
    /// This party's action failed; it broke the barrier.
    ActionFailed,
}

#[repr(C)]
struct Slot {
    pid: AtomicU32,
    _pad: AtomicU32,
    start: AtomicU64,
}

/// A barrier in shared memory. All-zero bytes are an empty, unbroken barrier.
#[repr(C, align(64))]
pub struct RawBarrier {
    lock: RawLock,
    count: AtomicU32,
    state: AtomicU32,
    phase: AtomicU32,
    sleepers: AtomicU32,
    slots: [Slot; PARTICIPANT_SLOTS],
}

impl Default for RawBarrier {
    fn default() -> Self {
        Self::new()
    }
}

impl RawBarrier {
    /// An empty, unbroken barrier.
    pub fn new() -> RawBarrier {
        RawBarrier {
            lock: RawLock::new(),
            count: AtomicU32::new(0),
            state: AtomicU32::new(FILLING),
            phase: AtomicU32::new(0),
            sleepers: AtomicU32::new(0),
            slots: core::array::from_fn(|_| Slot {
                pid: AtomicU32::new(0),
                _pad: AtomicU32::new(0),
                start: AtomicU64::new(0),
            }),
        }
    }

    /// Records a participant process; `None` if the table is full (it then
    /// takes part without death detection).
    pub fn register(&self, process: &Owner) -> Option<usize> {
        self.slots.iter().position(|slot| {
            let won = slot
                .pid
                .compare_exchange(0, process.pid, Ordering::SeqCst, Ordering::Relaxed)
                .is_ok();
            if won {
                slot.start.store(process.start, Ordering::SeqCst);
            }
            won
        })
    }

    /// Forgets the participant recorded in `slot` (if it is still `pid`).
    pub fn unregister(&self, slot: usize, pid: u32) {
        if let Some(s) = self.slots.get(slot) {
            let _ = s
                .pid
                .compare_exchange(pid, 0, Ordering::SeqCst, Ordering::Relaxed);
        }
    }

    fn state(&self) -> u32 {
        match self.state.load(Ordering::Relaxed) {
            s @ (FILLING | DRAINING | RESETTING) => s,
            _ => BROKEN,
        }
    }

    fn notify_all<U: Unpark>(&self, unpark: &U) {
        self.phase.fetch_add(1, Ordering::SeqCst);
        // Pairs with the fence in `wait_phase`: either this sees the sleeper, or
        // the sleeper's re-check sees the new phase.
        fence(Ordering::SeqCst);
        if self.sleepers.load(Ordering::SeqCst) != 0 {
            unpark.unpark(&self.phase, u32::MAX);
        }
    }

    fn break_barrier<U: Unpark>(&self, unpark: &U) {
        self.state.store(BROKEN, Ordering::Relaxed);
        self.notify_all(unpark);
    }

    /// Takes the internal lock. The deadline does not apply to this short
    /// critical section; a party that died inside it breaks the barrier.
    fn enter<P: Park + Unpark>(&self, me: &Owner, park: &mut P) {
        loop {
            match self.lock.lock(me, park) {
                Ok(Acquired::Clean) => return,
                Ok(Acquired::OwnerDied { .. }) => {
                    self.break_barrier(park);
                    self.lock.mark_consistent();
                    return;
                }
                Err(_) => continue,
            }
        }
    }

    /// Releases the internal lock, waits for the phase to move, takes it again.
    fn wait_phase<P: Park + Unpark>(&self, me: &Owner, park: &mut P) -> Parked {
        let seen = self.phase.load(Ordering::SeqCst);
        self.lock.unlock(park);
        let moved = || self.phase.load(Ordering::SeqCst) != seen;
        let parked = if spin_then_yield(park, moved) {
            Parked::Woken
        } else {
            self.sleepers.fetch_add(1, Ordering::SeqCst);
            fence(Ordering::SeqCst);
            let parked = if moved() {
                Parked::Woken
            } else {
                park.park(&self.phase, seen)
            };
            self.sleepers.fetch_sub(1, Ordering::SeqCst);
            parked
        };
        self.enter(me, park);
        parked
    }

    fn dead_participant<P: Park>(&self, park: &mut P) -> Option<u32> {
        for slot in &self.slots {
            let pid = slot.pid.load(Ordering::SeqCst);
            if pid == 0 {
                continue;
            }
            let owner = Owner {
                tid: pid,
                pid,
                start: slot.start.load(Ordering::SeqCst),
            };
            if park.liveness(&owner) == Liveness::Dead {
                let _ = slot
                    .pid
                    .compare_exchange(pid, 0, Ordering::SeqCst, Ordering::Relaxed);
                return Some(pid);
            }
        }
        None
    }

    /// Waits for all `parties` to arrive. Returns this party's arrival index
    /// (0 for the first). The last to arrive runs `action` before anyone leaves;
    /// if it returns `false` the barrier breaks.
    pub fn wait<P: Park + Unpark>(
        &self,
        parties: u32,
        me: &Owner,
        park: &mut P,
        action: &mut dyn FnMut() -> bool,
    ) -> Result<u32, BarrierError> {
        if parties == 0 {
            return Err(BarrierError::Broken);
        }
        self.enter(me, park);
        // A previous round may still be draining, or a reset completing.
        while matches!(self.state(), DRAINING | RESETTING) {
            self.wait_phase(me, park);
        }
        if self.state() != FILLING {
            self.lock.unlock(park);
            return Err(BarrierError::Broken);
        }
        let index = self.count.load(Ordering::Relaxed);
        if index >= parties {
            // More arrivals than parties: the segment was tampered with.
            self.break_barrier(park);
            self.lock.unlock(park);
            return Err(BarrierError::Broken);
        }
        self.count.store(index + 1, Ordering::Relaxed);
        let result = if index + 1 == parties {
            if action() {
                self.state.store(DRAINING, Ordering::Relaxed);
                self.notify_all(park);
                Ok(index)
            } else {
                self.break_barrier(park);
                Err(BarrierError::ActionFailed)
            }
        } else {
            self.wait_released(index, me, park)
        };
        let left = self.count.load(Ordering::Relaxed).saturating_sub(1);
        self.count.store(left, Ordering::Relaxed);
        if left == 0 && matches!(self.state(), DRAINING | RESETTING) {
            self.state.store(FILLING, Ordering::Relaxed);
            self.notify_all(park);
        }
        self.lock.unlock(park);
        result
    }

    fn wait_released<P: Park + Unpark>(
        &self,
        index: u32,
        me: &Owner,
        park: &mut P,
    ) -> Result<u32, BarrierError> {
        while self.state() == FILLING {
            match self.wait_phase(me, park) {
                Parked::Woken => {}
                Parked::DeadlineReached => {
                    if self.state() == FILLING {
                        self.break_barrier(park);
                        return Err(BarrierError::TimedOut);
                    }
                }
                Parked::PollDue => {
                    if self.state() == FILLING {
                        if let Some(pid) = self.dead_participant(park) {
                            self.break_barrier(park);
                            return Err(BarrierError::PartyDied { pid });
                        }
                    }
                }
            }
        }
        if self.state() == DRAINING {
            Ok(index)
        } else {
            Err(BarrierError::Broken)
        }
    }

    /// Breaks the barrier: current and future waits fail until [`RawBarrier::reset`].
    pub fn abort<P: Park + Unpark>(&self, me: &Owner, park: &mut P) {
        self.enter(me, park);
        self.break_barrier(park);
        self.lock.unlock(park);
    }

    /// Returns the barrier to empty and unbroken; current waiters fail with
    /// [`BarrierError::Broken`].
    pub fn reset<P: Park + Unpark>(&self, me: &Owner, park: &mut P) {
        self.enter(me, park);
        if self.count.load(Ordering::Relaxed) > 0 {
            if matches!(self.state(), FILLING | BROKEN) {
                self.state.store(RESETTING, Ordering::Relaxed);
            }
        } else {
            self.state.store(FILLING, Ordering::Relaxed);
        }
        self.notify_all(park);
        self.lock.unlock(park);
    }

    /// Whether the barrier is broken (a snapshot).
    pub fn is_broken(&self) -> bool {
        self.state() == BROKEN
    }

    /// Parties waiting in the current round (a snapshot).
    pub fn n_waiting(&self) -> u32 {
        if self.state() == FILLING {
            self.count.load(Ordering::Relaxed)
        } else {
            0
        }
    }
}
