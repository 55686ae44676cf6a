//! A condition variable whose `notify(n)` wakes `n` of the waiters that are
//! waiting when it is called (or all of them, if fewer), and no waiter that
//! comes later.
//!
//! Every waiter has a slot of its own: [`enqueue`](RawCondition::enqueue),
//! under the user's lock, takes a free slot and stamps it with a ticket (the
//! order of arrival) and the waiter's identity. `notify(n)`, under the lock,
//! marks the `n` oldest waiting slots notified, and wakes those of them that
//! sleep, each on its own futex word. A waiter leaves its wait only when its
//! own slot says notified (or its deadline passes), so a notification
//! cannot be taken by anyone it was not given to: not by a waiter that
//! arrives later (the notifier itself, waiting in a loop), not by one that
//! timed out. After the wait the waiter takes the lock again and frees its
//! slot with [`finish`](RawCondition::finish), which says whether it was
//! notified (a notify that raced with its timeout counts).
//!
//! Slots change from free to taken and back only under the lock; the lock
//! also orders each notify before the waits it did not see. Outside the
//! lock, the waiter and the notifier meet on the slot's word alone (the
//! waiter marks it sleeping before it parks, the notifier swaps in
//! "notified" and wakes it if it found it sleeping), so no wake-up is lost.
//!
//! A waiter that dies leaves its slot behind. A notify checks the identity
//! of a *sleeping* waiter it picks (it is about to make a syscall anyway)
//! and drops a dead one instead of notifying it; an `enqueue` that finds
//! every slot taken frees the slots of dead waiters. A waiter killed in the
//! first microseconds of its wait, while it still polls, can take one
//! notification with it.

use crate::park::{Park, Parked, Unpark};
use crate::primitives::{AtomicU32, AtomicU64, Ordering};
use crate::spin::poll_then_yield;

/// Waiters one condition can hold at once.
pub const CONDITION_SLOTS: usize = 128;

/// A slot's state: the low two bits of its word.
const FREE: u32 = 0;
const WAITING: u32 = 1;
const SLEEPING: u32 = 2;
const NOTIFIED: u32 = 3;
const STATE: u32 = 3;
/// Tickets are the word's other 30 bits, and wrap.
const TICKET_SHIFT: u32 = 2;
const TICKET_MASK: u32 = u32::MAX >> TICKET_SHIFT;

/// One waiter's place.
#[repr(C)]
struct WaiterSlot {
    /// State and ticket; the futex word the waiter sleeps on.
    word: AtomicU32,
    _pad: AtomicU32,
    /// The waiter's identity, as the caller encodes it (non-zero).
    key: AtomicU64,
}

impl WaiterSlot {
    fn new() -> WaiterSlot {
        WaiterSlot {
            word: AtomicU32::new(FREE),
            _pad: AtomicU32::new(0),
            key: AtomicU64::new(0),
        }
    }
}

/// A waiter's slot, from [`RawCondition::enqueue`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ticket {
    slot: usize,
}

/// A condition variable in shared memory, with `SLOTS` waiter slots.
/// All-zero bytes are one with no waiters.
#[repr(C, align(64))]
pub struct RawCondition<const SLOTS: usize = CONDITION_SLOTS> {
    /// Waiters enqueued, neither notified nor finished.
    waiting: AtomicU32,
    /// The next waiter's ticket.
    next_ticket: AtomicU32,
    /// One past the highest slot ever taken: the end of a notify's scan.
    high: AtomicU32,
    _first_line: [u32; 13],
    slots: [WaiterSlot; SLOTS],
}

impl<const SLOTS: usize> Default for RawCondition<SLOTS> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const SLOTS: usize> RawCondition<SLOTS> {
    /// A condition with no waiters.
    pub fn new() -> RawCondition<SLOTS> {
        RawCondition {
            waiting: AtomicU32::new(0),
            next_ticket: AtomicU32::new(0),
            high: AtomicU32::new(0),
            _first_line: [0; 13],
            slots: core::array::from_fn(|_| WaiterSlot::new()),
        }
    }

    /// Waiters not yet notified (a snapshot).
    pub fn waiting(&self) -> u32 {
        self.waiting.load(Ordering::SeqCst)
    }

    /// The slots a scan must cover (clamped: a scribbled value must not
    /// send it past the array).
    fn in_use(&self) -> &[WaiterSlot] {
        let high = (self.high.load(Ordering::Relaxed) as usize).min(SLOTS);
        &self.slots[..high]
    }

    fn uncount(&self) {
        // Saturating: a scribbled-on or crashed-into segment must not wrap.
        let _ = self
            .waiting
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |w| w.checked_sub(1));
    }

    /// Step 1 of a wait, with the lock held: takes a slot for the waiter
    /// `key` (non-zero: the caller's encoding of who waits). `None` if all
    /// [`CONDITION_SLOTS`] are taken by waiters that `alive(key)` says are
    /// alive (it is asked only then, to free the slots of dead ones).
    pub fn enqueue(&self, key: u64, mut alive: impl FnMut(u64) -> bool) -> Option<Ticket> {
        let free = |slots: &[WaiterSlot]| {
            slots
                .iter()
                .position(|s| s.word.load(Ordering::Relaxed) & STATE == FREE)
        };
        let slot = free(&self.slots).or_else(|| {
            for s in &self.slots {
                if !alive(s.key.load(Ordering::Relaxed)) {
                    let old = s.word.swap(FREE, Ordering::AcqRel);
                    if matches!(old & STATE, WAITING | SLEEPING) {
                        self.uncount();
                    }
                }
            }
            free(&self.slots)
        })?;
        let ticket = self.next_ticket.load(Ordering::Relaxed);
        self.next_ticket
            .store(ticket.wrapping_add(1), Ordering::Relaxed);
        let s = &self.slots[slot];
        s.key.store(key, Ordering::Relaxed);
        s.word.store(
            (ticket & TICKET_MASK) << TICKET_SHIFT | WAITING,
            Ordering::Release,
        );
        self.waiting.fetch_add(1, Ordering::SeqCst);
        if slot as u32 >= self.high.load(Ordering::Relaxed) {
            self.high.store(slot as u32 + 1, Ordering::Relaxed);
        }
        Some(Ticket { slot })
    }

    /// Step 2, with the lock released: waits until this waiter's slot is
    /// notified, as long as `park` lets it. `true` if notified; either way,
    /// call [`finish`](Self::finish) once the lock is held again.
    pub fn wait<P: Park>(&self, ticket: Ticket, park: &mut P) -> bool {
        let word = &self.slots[ticket.slot].word;
        let notified = || word.load(Ordering::Acquire) & STATE == NOTIFIED;
        if notified() || poll_then_yield(park, notified) {
            return true;
        }
        loop {
            let w = word.load(Ordering::Acquire);
            let sleeping = match w & STATE {
                NOTIFIED => return true,
                // Freed under us: only a peer scribbling does that.
                FREE => return false,
                SLEEPING => w,
                _ => {
                    let sleeping = w & !STATE | SLEEPING;
                    if word
                        .compare_exchange(w, sleeping, Ordering::AcqRel, Ordering::Acquire)
                        .is_err()
                    {
                        continue;
                    }
                    sleeping
                }
            };
            if park.park(word, sleeping) == Parked::DeadlineReached {
                return notified();
            }
        }
    }

    /// Step 3, with the lock held again: frees the waiter's slot; `true` if
    /// it was notified (before, or racing with, its timeout).
    pub fn finish(&self, ticket: Ticket) -> bool {
        let old = self.slots[ticket.slot].word.swap(FREE, Ordering::AcqRel);
        match old & STATE {
            NOTIFIED => true,
            WAITING | SLEEPING => {
                self.uncount();
                false
            }
            _ => false,
        }
    }

    /// The oldest waiting slot, with its word.
    fn oldest(&self) -> Option<(&WaiterSlot, u32)> {
        let next = self.next_ticket.load(Ordering::Relaxed);
        let age = |w: u32| next.wrapping_sub(w >> TICKET_SHIFT) & TICKET_MASK;
        self.in_use()
            .iter()
            .map(|s| (s, s.word.load(Ordering::Acquire)))
            .filter(|(_, w)| matches!(w & STATE, WAITING | SLEEPING))
            .max_by_key(|(_, w)| age(*w))
    }

    /// With the lock held: notifies up to `n` of the waiters enqueued now,
    /// oldest first; returns how many. A sleeping waiter that `alive(key)`
    /// says is dead is dropped instead of notified.
    pub fn notify<U: Unpark>(&self, n: u32, unpark: &U, mut alive: impl FnMut(u64) -> bool) -> u32 {
        let mut released = 0;
        while released < n && self.waiting.load(Ordering::SeqCst) != 0 {
            let Some((slot, w)) = self.oldest() else {
                // The count outlived its waiters (a scribbled segment).
                self.waiting.store(0, Ordering::SeqCst);
                break;
            };
            if w & STATE == SLEEPING && !alive(slot.key.load(Ordering::Relaxed)) {
                if slot
                    .word
                    .compare_exchange(w, FREE, Ordering::AcqRel, Ordering::Relaxed)
                    .is_ok()
                {
                    self.uncount();
                }
                continue;
            }
            let old = slot.word.swap(w & !STATE | NOTIFIED, Ordering::AcqRel);
            self.uncount();
            if old & STATE == SLEEPING {
                unpark.unpark(&slot.word, 1);
            }
            released += 1;
        }
        released
    }
}
