//! The producer and consumer roles of an SPSC queue: who may push and who
//! may pop.
//!
//! A role belongs to a handle, not to a thread: a [`Producer`](super::Producer)
//! or [`Consumer`](super::Consumer) holds it from its creation to its drop,
//! and a put or get on a [`Queue`](super::Queue) handle holds it for the call.
//! The record in shared memory names the holder's process (pid and start
//! time, so a recycled pid is told apart) and, for error messages, the
//! thread that took it. Only the holder's process dying frees a role
//! without a release: then the next claimant takes it over.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use shmipc_core::park::{Liveness, Owner};
use shmipc_core::spin::spin_then_yield;

use crate::futex::{self, FutexPark};
use crate::identity;

/// One role's record in the control block. All-zero bytes are a free role.
#[repr(C)]
pub(crate) struct Claim {
    /// The holder, [`identity::pack`]ed from [`identity::current_in_process`]
    /// (one word, so it is read whole); 0 when free. Taken by
    /// compare-exchange.
    holder: AtomicU64,
    /// Claimants sleeping until the role is released.
    waiters: AtomicU32,
    /// Futex word: bumped by a release that finds sleeping claimants.
    released: AtomicU32,
}

/// Which side of an SPSC ring.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Role {
    /// The one that pushes.
    Producer,
    /// The one that pops.
    Consumer,
}

impl Role {
    pub(super) fn name(self) -> &'static str {
        match self {
            Role::Producer => "producer",
            Role::Consumer => "consumer",
        }
    }
}

/// How a claim went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Taken {
    /// The role was free.
    Free,
    /// The role's holder had died; it is ours now.
    FromDead,
}

/// The longest a claimant sleeps before it looks at the holder's liveness
/// again: a holder that dies is noticed within this.
const LIVENESS_POLL_MAX: Duration = Duration::from_millis(50);
/// The first such sleep; each later one doubles, up to the maximum.
const LIVENESS_POLL_MIN: Duration = Duration::from_millis(1);

impl Claim {
    /// Takes the role for `me` (a packed [`identity::current_in_process`])
    /// if it is free or its holder's process is dead; otherwise says who
    /// holds it.
    pub(crate) fn try_take(&self, me: u64) -> Result<Taken, Owner> {
        let mut seen = self.holder.load(Ordering::SeqCst);
        loop {
            let taken = match seen {
                0 => Taken::Free,
                holder => {
                    let owner = identity::unpack(holder);
                    if identity::process_liveness(&owner) == Liveness::Alive {
                        return Err(owner);
                    }
                    Taken::FromDead
                }
            };
            match self
                .holder
                .compare_exchange(seen, me, Ordering::SeqCst, Ordering::SeqCst)
            {
                Ok(_) => return Ok(taken),
                Err(now) => seen = now,
            }
        }
    }

    /// As [`try_take`](Self::try_take), waiting until `deadline` (forever,
    /// if `None`) for the holder to release the role or die.
    ///
    /// A wait whose promise needs a liveness check: it sleeps until a
    /// release wakes it, but no longer than a poll interval that grows
    /// from [`LIVENESS_POLL_MIN`] to [`LIVENESS_POLL_MAX`], and then asks
    /// whether the holder is still alive.
    pub(crate) fn take(&self, me: u64, deadline: Option<Instant>) -> Result<Taken, Owner> {
        let last = match self.try_take(me) {
            Ok(taken) => return Ok(taken),
            Err(owner) => owner,
        };
        if deadline.is_some_and(|d| Instant::now() >= d) {
            return Err(last);
        }
        let mut answer = None;
        let mut park = FutexPark::new(deadline);
        // A role held for one call is given back within microseconds.
        if spin_then_yield(&mut park, || {
            if self.holder.load(Ordering::Relaxed) != 0 {
                return false;
            }
            answer = self.try_take(me).ok();
            answer.is_some()
        }) {
            return answer.ok_or(last);
        }
        let mut poll = LIVENESS_POLL_MIN;
        loop {
            self.waiters.fetch_add(1, Ordering::SeqCst);
            let epoch = self.released.load(Ordering::SeqCst);
            let attempt = self.try_take(me);
            let now = Instant::now();
            let sleep = match (attempt, deadline) {
                (Ok(_), _) => None,
                (Err(_), Some(d)) if d <= now => None,
                (Err(_), Some(d)) => Some(poll.min(d - now)),
                (Err(_), None) => Some(poll),
            };
            if let Some(sleep) = sleep {
                futex::wait(&self.released, epoch, Some(sleep));
            }
            self.waiters.fetch_sub(1, Ordering::SeqCst);
            if sleep.is_none() {
                return attempt;
            }
            poll = (poll * 2).min(LIVENESS_POLL_MAX);
        }
    }

    /// Gives the role up, if `me` holds it; wakes sleeping claimants.
    pub(crate) fn release(&self, me: u64) {
        if self
            .holder
            .compare_exchange(me, 0, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
            && self.waiters.load(Ordering::SeqCst) != 0
        {
            self.released.fetch_add(1, Ordering::SeqCst);
            futex::wake(&self.released, u32::MAX);
        }
    }

    /// The holder, if any (a snapshot).
    pub(crate) fn holder(&self) -> Option<Owner> {
        match self.holder.load(Ordering::SeqCst) {
            0 => None,
            packed => Some(identity::unpack(packed)),
        }
    }
}

/// This thread's record for a role it takes: its tid, its process's pid and
/// start time.
pub(crate) fn me() -> u64 {
    identity::pack(&identity::current_in_process())
}
