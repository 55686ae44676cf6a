//! A reusable barrier for a fixed number of parties, with Python's semantics
//! (`threading.Barrier`): arrival indices, an action run once per round by the
//! last party before anyone leaves, abort, reset, and breaking on timeout.
//!
//! # One word
//!
//! The whole state is one 64-bit word, changed only by compare-and-swap:
//! `count` (parties present in this round), `generation`, and two flags,
//! `BROKEN` and `RESETTING`. A party arrives by incrementing `count`. The last
//! one claims the release by setting `count = parties` (so nobody else can
//! arrive or break the round by timing out), runs the action, then swaps in the
//! next generation with `count = 0`. Waiters leave when they see the generation
//! move, so the action has run before any party leaves. A round takes about
//! one cache-line round trip between two parties, instead of the several
//! lock hand-offs of CPython's condition-variable design.
//!
//! A broken barrier keeps `count` until its waiters have left, each taking
//! itself out. `reset` with waiters present sets `RESETTING` too: the last
//! waiter to leave clears both flags, and arrivals wait for that, as in CPython.
//!
//! # Waiting
//!
//! Waiters spin on the word, then park on `phase`, a futex word bumped after
//! every release, break or reset; `sleepers` spares the wake-up syscall when
//! nobody sleeps.
//!
//! # Dead participants
//!
//! A table of participant processes (pid, start time) lets waiters notice a
//! participant that died: a parked waiter checks it at every poll and breaks
//! the barrier, instead of waiting forever for a party that will never come
//! (or for a releaser that died in its action).

use crate::park::{Liveness, Owner, Park, Parked, Unpark};
use crate::primitives::{fence, AtomicU32, AtomicU64, Ordering};
use crate::spin::poll_then_yield;

const COUNT_MASK: u64 = 0xffff_ffff;
const GEN_SHIFT: u32 = 32;
const GEN_MASK: u64 = (1 << 30) - 1;
const BROKEN: u64 = 1 << 62;
const RESETTING: u64 = 1 << 63;

fn count(w: u64) -> u32 {
    (w & COUNT_MASK) as u32
}

fn generation(w: u64) -> u64 {
    (w >> GEN_SHIFT) & GEN_MASK
}

fn with_count(w: u64, count: u32) -> u64 {
    (w & !COUNT_MASK) | u64::from(count)
}

fn next_generation(w: u64) -> u64 {
    ((generation(w) + 1) & GEN_MASK) << GEN_SHIFT
}

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
    /// This process's parties waiting in a round: the round's generation
    /// (low 16 bits) above their count (low 16 bits), so that a count left
    /// by a process that died is taken out of the word for it, and only in
    /// the round it belongs to.
    waiting: AtomicU32,
    start: AtomicU64,
}

/// A [`Slot::waiting`] value's round tag for generation `gen`.
fn round_tag(gen: u64) -> u32 {
    (gen & 0xffff) as u32
}

/// A barrier in shared memory. All-zero bytes are an empty, unbroken barrier.
#[repr(C, align(64))]
pub struct RawBarrier {
    word: AtomicU64,
    phase: AtomicU32,
    sleepers: AtomicU32,
    _line: [u8; 48],
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
            word: AtomicU64::new(0),
            phase: AtomicU32::new(0),
            sleepers: AtomicU32::new(0),
            _line: [0; 48],
            slots: core::array::from_fn(|_| Slot {
                pid: AtomicU32::new(0),
                waiting: AtomicU32::new(0),
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
                slot.waiting.store(0, Ordering::SeqCst);
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

    /// A registered participant that is dead: its slot and pid. The slot
    /// stays registered until [`forget_dead`](Self::forget_dead): a death
    /// found while the round it concerns is already released must still
    /// break the next round, which that party can never join.
    fn dead_participant<P: Park>(&self, park: &mut P) -> Option<(usize, u32)> {
        self.slots.iter().enumerate().find_map(|(index, slot)| {
            let pid = slot.pid.load(Ordering::SeqCst);
            if pid == 0 {
                return None;
            }
            let owner = Owner {
                tid: pid,
                pid,
                start: slot.start.load(Ordering::SeqCst),
            };
            (park.liveness(&owner) == Liveness::Dead).then_some((index, pid))
        })
    }

    /// Clears a dead participant's slot, once the barrier is broken (or
    /// being reset), after taking its parties still waiting in the current
    /// round out of the count for them, as each would on leaving: so a
    /// reset can finish without waiting for parties that will never leave.
    fn forget_dead<U: Unpark>(&self, (index, pid): (usize, u32), unpark: &U) {
        let Some(slot) = self.slots.get(index) else {
            return;
        };
        let waiting = slot.waiting.swap(0, Ordering::SeqCst);
        let left = u32::from(waiting as u16);
        if left != 0 {
            let tag = waiting >> 16;
            let _ = self.update(|w| {
                let ours = round_tag(generation(w)) == tag && w & (BROKEN | RESETTING) != 0;
                ours.then(|| {
                    let remaining = count(w).saturating_sub(left);
                    let w = with_count(w, remaining);
                    if remaining == 0 && w & RESETTING != 0 {
                        w & !(BROKEN | RESETTING)
                    } else {
                        w
                    }
                })
            });
            self.bump_phase(unpark);
        }
        let _ = slot
            .pid
            .compare_exchange(pid, 0, Ordering::SeqCst, Ordering::Relaxed);
    }

    /// Counts a party of this process (`slot`) as waiting in round `gen`.
    fn arrived(&self, slot: Option<usize>, gen: u64) {
        self.update_waiting(slot, gen, |w, tag| {
            Some(if w >> 16 == tag {
                tag << 16 | (w as u16).saturating_add(1) as u32
            } else {
                tag << 16 | 1
            })
        });
    }

    /// Counts a party of this process as no longer waiting in round `gen`.
    fn departed(&self, slot: Option<usize>, gen: u64) {
        self.update_waiting(slot, gen, |w, tag| {
            (w >> 16 == tag && w as u16 != 0).then(|| w - 1)
        });
    }

    /// Applies `f(waiting, tag of round gen)` to the waiting count of this
    /// process's `slot` (none without a slot); `None` from `f` leaves it.
    fn update_waiting(&self, slot: Option<usize>, gen: u64, f: impl Fn(u32, u32) -> Option<u32>) {
        let Some(slot) = slot.and_then(|i| self.slots.get(i)) else {
            return;
        };
        let tag = round_tag(gen);
        let _ = slot
            .waiting
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |w| f(w, tag));
    }

    /// Wakes everyone waiting for the word to move; call after changing it.
    fn bump_phase<U: Unpark>(&self, unpark: &U) {
        // Pairs with the fence in `park_until_moved`: either this sees the
        // sleeper, or the sleeper's re-check of the word sees the change, so the
        // phase (the futex word) only needs to move when somebody may sleep.
        fence(Ordering::SeqCst);
        if self.sleepers.load(Ordering::SeqCst) != 0 {
            self.phase.fetch_add(1, Ordering::SeqCst);
            unpark.unpark(&self.phase, u32::MAX);
        }
    }

    /// Waits for the word to differ from `seen` (read after `phase` was `seen_phase`).
    fn park_until_moved<P: Park>(&self, seen_phase: u32, seen: u64, park: &mut P) -> Parked {
        let moved = || self.word.load(Ordering::SeqCst) != seen;
        if poll_then_yield(park, moved) {
            return Parked::Woken;
        }
        self.sleepers.fetch_add(1, Ordering::SeqCst);
        fence(Ordering::SeqCst);
        let parked = if moved() {
            Parked::Woken
        } else {
            park.park(&self.phase, seen_phase)
        };
        self.sleepers.fetch_sub(1, Ordering::SeqCst);
        parked
    }

    /// Applies `f` to the word until it sticks; returns the word it replaced.
    fn update(&self, mut f: impl FnMut(u64) -> Option<u64>) -> Result<u64, u64> {
        self.word
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, &mut f)
    }

    /// Takes a party out of a broken round; the last one out of a reset clears it.
    fn leave_broken<U: Unpark>(&self, unpark: &U) {
        let _ = self.update(|w| {
            let left = count(w).saturating_sub(1);
            let w = with_count(w, left);
            Some(if left == 0 && w & RESETTING != 0 {
                w & !(BROKEN | RESETTING)
            } else {
                w
            })
        });
        self.bump_phase(unpark);
    }

    /// Breaks round `gen` if it is still filling (or, with `even_releasing`,
    /// being released). `false` if the round moved on first.
    fn break_round<U: Unpark>(
        &self,
        gen: u64,
        parties: u32,
        even_releasing: bool,
        unpark: &U,
    ) -> bool {
        let broke = self
            .update(|w| {
                let same_round = generation(w) == gen && w & (BROKEN | RESETTING) == 0;
                (same_round && (even_releasing || count(w) < parties)).then_some(w | BROKEN)
            })
            .is_ok();
        if broke {
            self.bump_phase(unpark);
        }
        broke
    }

    /// Waits for all `parties` to arrive. Returns this party's arrival index
    /// (0 for the first). The last to arrive runs `action` (if any) before
    /// anyone leaves; if it returns `false` the barrier breaks.
    ///
    /// `slot` is the calling process's registration ([`register`](Self::register)),
    /// if it has one: its parties are counted there while they wait, so that
    /// if the process dies they can be taken out of the round for it.
    pub fn wait<P: Park + Unpark>(
        &self,
        parties: u32,
        slot: Option<usize>,
        park: &mut P,
        mut action: Option<&mut dyn FnMut() -> bool>,
    ) -> Result<u32, BarrierError> {
        if parties == 0 {
            return Err(BarrierError::Broken);
        }
        loop {
            let seen_phase = self.phase.load(Ordering::SeqCst);
            let w = self.word.load(Ordering::SeqCst);
            if w & RESETTING != 0 || (w & BROKEN == 0 && count(w) >= parties) {
                // A reset is completing, or the round is being released: wait
                // for that to finish (CPython waits the same way, untimed),
                // but never past this wait's deadline: this party has not
                // arrived, so timing out breaks nothing.
                match self.park_until_moved(seen_phase, w, park) {
                    Parked::DeadlineReached => return Err(BarrierError::TimedOut),
                    Parked::PollDue => {
                        if let Some(dead) = self.dead_participant(park) {
                            if w & RESETTING != 0 {
                                // Its parties will never leave: leave for
                                // them, so the reset can finish.
                                self.forget_dead(dead, park);
                            } else if self.break_round(generation(w), parties, true, park) {
                                self.forget_dead(dead, park);
                                return Err(BarrierError::PartyDied { pid: dead.1 });
                            }
                        }
                        park.yield_now();
                    }
                    Parked::Woken => {}
                }
                continue;
            }
            if w & BROKEN != 0 {
                return Err(BarrierError::Broken);
            }
            let index = count(w);
            if index + 1 < parties {
                if self
                    .word
                    .compare_exchange(
                        w,
                        with_count(w, index + 1),
                        Ordering::SeqCst,
                        Ordering::SeqCst,
                    )
                    .is_ok()
                {
                    self.arrived(slot, generation(w));
                    let outcome = self.wait_released(generation(w), parties, index, park);
                    self.departed(slot, generation(w));
                    return outcome;
                }
                continue;
            }
            // Last to arrive. With an action, first claim the release, so no one
            // can break the round by timing out while the action runs.
            let claimed = match action.as_mut() {
                None => w,
                Some(action) => {
                    let claimed = with_count(w, parties);
                    if self
                        .word
                        .compare_exchange(w, claimed, Ordering::SeqCst, Ordering::SeqCst)
                        .is_err()
                    {
                        continue;
                    }
                    // Counted while its action runs: if it dies there, the
                    // others leave for it.
                    self.arrived(slot, generation(w));
                    let succeeded = action();
                    self.departed(slot, generation(w));
                    if !succeeded {
                        let _ = self.update(|w| Some(w | BROKEN));
                        self.leave_broken(park);
                        return Err(BarrierError::ActionFailed);
                    }
                    claimed
                }
            };
            // Release, unless an abort, a death or (without a claim) another
            // arrival got in first.
            let released = self
                .word
                .compare_exchange(
                    claimed,
                    next_generation(claimed),
                    Ordering::SeqCst,
                    Ordering::SeqCst,
                )
                .is_ok();
            if released {
                self.bump_phase(park);
                return Ok(index);
            }
            if action.is_none() {
                continue;
            }
            self.leave_broken(park);
            return Err(BarrierError::Broken);
        }
    }

    fn wait_released<P: Park + Unpark>(
        &self,
        gen: u64,
        parties: u32,
        index: u32,
        park: &mut P,
    ) -> Result<u32, BarrierError> {
        loop {
            let seen_phase = self.phase.load(Ordering::SeqCst);
            let w = self.word.load(Ordering::SeqCst);
            if generation(w) != gen {
                return Ok(index);
            }
            if w & (BROKEN | RESETTING) != 0 {
                // Leave for a dead process's parties too, or a reset would
                // wait for them for ever.
                if let Some(dead) = self.dead_participant(park) {
                    self.forget_dead(dead, park);
                }
                self.leave_broken(park);
                return Err(BarrierError::Broken);
            }
            // (why, whether a releasing round breaks too, the dead party)
            let failure = match self.park_until_moved(seen_phase, w, park) {
                Parked::Woken => None,
                // The round is being released: a timeout no longer breaks it.
                Parked::DeadlineReached if count(w) < parties => {
                    Some((BarrierError::TimedOut, false, None))
                }
                Parked::DeadlineReached | Parked::PollDue => self
                    .dead_participant(park)
                    .map(|dead| (BarrierError::PartyDied { pid: dead.1 }, true, Some(dead))),
            };
            if let Some((error, even_releasing, dead)) = failure {
                if self.break_round(gen, parties, even_releasing, park) {
                    if let Some(dead) = dead {
                        self.forget_dead(dead, park);
                    }
                    self.leave_broken(park);
                    return Err(error);
                }
            }
        }
    }

    /// Breaks the barrier: current and future waits fail until [`RawBarrier::reset`].
    pub fn abort<U: Unpark>(&self, unpark: &U) {
        let _ = self.update(|w| Some(w | BROKEN));
        self.bump_phase(unpark);
    }

    /// Returns the barrier to empty and unbroken; current waiters fail with
    /// [`BarrierError::Broken`] (the barrier refills once they have left).
    pub fn reset<U: Unpark>(&self, unpark: &U) {
        let _ = self.update(|w| {
            Some(if count(w) > 0 {
                w | BROKEN | RESETTING
            } else {
                w & !(BROKEN | RESETTING)
            })
        });
        self.bump_phase(unpark);
    }

    /// Whether the barrier is broken (a snapshot).
    pub fn is_broken(&self) -> bool {
        let w = self.word.load(Ordering::SeqCst);
        w & BROKEN != 0 && w & RESETTING == 0
    }

    /// Parties waiting in the current round (a snapshot).
    pub fn n_waiting(&self, parties: u32) -> u32 {
        let w = self.word.load(Ordering::SeqCst);
        if w & (BROKEN | RESETTING) != 0 || count(w) >= parties {
            0
        } else {
            count(w)
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::primitives::AtomicU32;

    /// The dead participant's pid in these tests.
    const DEAD: u32 = 7;

    /// A park for one party, scripted: liveness says only [`DEAD`] is dead;
    /// the first park lets `on_first_park` run (another party's arrival),
    /// then every park reports a poll, and after `patience` of them the
    /// deadline.
    struct Scripted<'a> {
        on_first_park: Option<&'a dyn Fn()>,
        patience: u32,
    }

    impl Park for Scripted<'_> {
        fn park(&mut self, _word: &AtomicU32, _expected: u32) -> Parked {
            if let Some(f) = self.on_first_park.take() {
                f();
            }
            if self.patience == 0 {
                return Parked::DeadlineReached;
            }
            self.patience -= 1;
            Parked::PollDue
        }
        fn yield_now(&mut self) {}
        fn liveness(&mut self, owner: &Owner) -> Liveness {
            if owner.pid == DEAD {
                Liveness::Dead
            } else {
                Liveness::Alive
            }
        }
    }

    impl Unpark for Scripted<'_> {
        fn unpark(&self, _word: &AtomicU32, _count: u32) {}
    }

    fn party(pid: u32) -> Owner {
        Owner {
            tid: pid,
            pid,
            start: 1,
        }
    }

    /// A party that died after arriving in a round, found dead by a waiter
    /// only once that round was released, still breaks the next round
    /// (which it can never join) instead of leaving it to wait for ever.
    #[test]
    fn a_death_found_after_its_round_was_released_breaks_the_next_round() {
        let b = RawBarrier::new();
        b.register(&party(DEAD)).unwrap();
        b.register(&party(8)).unwrap();
        // The dead party arrived first in round 0.
        b.word.store(with_count(0, 1), Ordering::SeqCst);
        // A waiter arrives second and parks; while it sleeps the third
        // party arrives and releases round 0; the waiter's next look finds
        // the dead party, too late to break round 0.
        let third_arrives = || {
            let mut last = Scripted {
                on_first_park: None,
                patience: 0,
            };
            assert_eq!(b.wait(3, None, &mut last, None), Ok(2));
        };
        let mut waiter = Scripted {
            on_first_park: Some(&third_arrives),
            patience: 5,
        };
        assert_eq!(b.wait(3, None, &mut waiter, None), Ok(1));
        // Round 1: the dead party will never come. The waiter's looks must
        // find it and break the round, not run out of patience.
        let mut next = Scripted {
            on_first_park: None,
            patience: 100,
        };
        assert_eq!(
            b.wait(3, None, &mut next, None),
            Err(BarrierError::PartyDied { pid: DEAD })
        );
        // The break is recorded, and the dead party forgotten.
        assert!(b.is_broken());
        b.reset(&next);
        let mut after = Scripted {
            on_first_park: None,
            patience: 3,
        };
        assert_eq!(
            b.wait(3, None, &mut after, None),
            Err(BarrierError::TimedOut)
        );
    }
}
