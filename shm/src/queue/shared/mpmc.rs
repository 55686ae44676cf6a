//! The MPMC ring as a queue drives it: this process as the claimer of the
//! slots it pushes into, the handle's memory of where it last found room,
//! and the claims of dead producers, found and passed over.

use super::*;

/// How long a claim may stall the ring before its producer's liveness is
/// asked, and again between asks. A live producer publishes within
/// nanoseconds of its claim unless it is descheduled; the question costs a
/// syscall and a read of `/proc`.
const STALL_GRACE: Duration = Duration::from_millis(1);

/// A claim found stalling the ring's consumers, and when to ask next
/// whether its producer is alive.
pub(super) struct StallWatch {
    claim: StalledClaim,
    ask_at: Instant,
}

impl<T: Plain> Shared<T> {
    /// A push onto the MPMC ring holding out for `slack` free slots, with
    /// this handle's memory of where it last looked.
    #[inline(always)]
    pub(super) fn mpmc_push(
        &self,
        indices: NonNull<MpmcIndices>,
        item: T,
        slack: u64,
    ) -> std::result::Result<(), RingError> {
        let before = self.mpmc_room_until.load(Ordering::Relaxed);
        let mut room_until = before;
        let pushed = self.mpmc(indices).push_with_slack(
            identity::claimer_id(),
            item,
            slack,
            &mut room_until,
        );
        if room_until != before {
            self.mpmc_room_until.store(room_until, Ordering::Relaxed);
        }
        pushed
    }

    /// Looks at the MPMC ring's head for a claim that keeps consumers from
    /// the items behind it, and passes it over once its producer has been
    /// seen dead; `true` if it passed one over.
    ///
    /// Called by waiting puts and gets before they sleep. A claim is judged
    /// only after it stalled the ring for [`STALL_GRACE`], so that a
    /// producer that is merely slow costs nothing, and while one stalls it,
    /// [`stalled`](Self::stalled) tells the waits to poll: its producer
    /// will not notify if it died.
    pub(super) fn unstall(&self) -> bool {
        let Ring::Mpmc(ix) = self.ring else {
            return false;
        };
        let ring = self.mpmc(ix);
        let found = ring.stalled_claim::<T>();
        let mut watch = self.stall.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(claim) = found else {
            *watch = None;
            return false;
        };
        let now = Instant::now();
        match watch.as_mut() {
            Some(seen) if seen.claim == claim => {
                if now < seen.ask_at {
                    return false;
                }
                if identity::claimer_liveness(claim.claimer()) == Liveness::Alive {
                    seen.ask_at = now + STALL_GRACE;
                    return false;
                }
            }
            _ => {
                *watch = Some(StallWatch {
                    claim,
                    ask_at: now + STALL_GRACE,
                });
                return false;
            }
        }
        *watch = None;
        drop(watch);
        // SAFETY: the claimer's process is gone (liveness errs towards
        // alive, and a dead process runs no code): it will never publish.
        let passed = unsafe { ring.pass_over::<T>(&claim) };
        if passed {
            let c = self.control();
            c.passed_over.fetch_add(1, Ordering::Relaxed);
            if self.joinable {
                // Its position counts as a task put; none will be done.
                c.tasks_done.fetch_add(1, Ordering::SeqCst);
                c.all_done.notify(&FutexWake, u32::MAX);
            }
            c.not_full.notify(&FutexWake, 1);
        }
        passed
    }

    /// Whether a producer's claim, unpublished, holds up the consumers now
    /// (a fresh look, unlike [`stalled`](Self::stalled)).
    pub(super) fn claim_stalls_head(&self) -> bool {
        match self.ring {
            Ring::Mpmc(ix) => self.mpmc(ix).stalled_claim::<T>().is_some(),
            Ring::Spsc(..) => false,
        }
    }

    /// Whether this handle's last look found a claim stalling the ring: a
    /// wait that depends on the ring moving then polls.
    pub(super) fn stalled(&self) -> bool {
        self.stall.lock().map_or(true, |watch| watch.is_some())
    }
}
