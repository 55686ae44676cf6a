//! The MPMC ring as a queue drives it: the handle's memory of where it last
//! found room, and the counted room of a queue whose capacity is not a
//! power of two ([`Control::room_taken`]).

use super::*;

impl<T: Plain> Shared<T> {
    /// Takes up to `want` of the counted room; returns how much it got.
    #[inline]
    pub(super) fn reserve_room(&self, want: u64) -> u64 {
        let taken = &self.control().room_taken;
        let mut seen = taken.load(Ordering::Relaxed);
        loop {
            let free = self.capacity.saturating_sub(seen);
            let got = free.min(want);
            if got == 0 {
                return 0;
            }
            match taken.compare_exchange_weak(
                seen,
                seen + got,
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => return got,
                Err(now) => seen = now,
            }
        }
    }

    /// Gives back `n` of the counted room (saturating: a scribbled count
    /// must not wrap).
    #[inline]
    pub(super) fn give_room(&self, n: u64) {
        if n != 0 {
            let _ =
                self.control()
                    .room_taken
                    .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |t| {
                        Some(t.saturating_sub(n))
                    });
        }
    }

    /// A push onto the MPMC ring holding out for `slack` free slots, with
    /// this handle's memory of where it last looked; within the counted
    /// room, if the queue counts it.
    #[inline(always)]
    pub(super) fn mpmc_push<const COUNTED: bool>(
        &self,
        indices: NonNull<MpmcIndices>,
        item: T,
        slack: u64,
    ) -> std::result::Result<(), RingError> {
        if COUNTED && self.reserve_room(1) == 0 {
            return Err(RingError::WouldBlock);
        }
        let before = self.mpmc_room_until.load(Ordering::Relaxed);
        let mut room_until = before;
        let pushed = self
            .mpmc(indices)
            .push_with_slack(item, slack, &mut room_until);
        if room_until != before {
            self.mpmc_room_until.store(room_until, Ordering::Relaxed);
        }
        if COUNTED && pushed.is_err() {
            self.give_room(1);
        }
        pushed
    }

    /// A pop from the MPMC ring, giving its slot back to the counted room.
    #[inline(always)]
    pub(super) fn mpmc_pop<const COUNTED: bool>(
        &self,
        indices: NonNull<MpmcIndices>,
    ) -> std::result::Result<T, RingError> {
        let popped = self.mpmc(indices).pop();
        if COUNTED && popped.is_ok() {
            self.give_room(1);
        }
        popped
    }
}
