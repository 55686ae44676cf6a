//! A joinable queue's task counts: messages received, `task_done`, `join`.

use super::*;

impl Channel {
    /// This channel as a joinable queue's: receives count tasks.
    pub(in crate::message) fn counting_tasks(mut self) -> Channel {
        self.joinable = true;
        self
    }

    /// Counts a message received as a task handed out, on a joinable queue.
    #[inline]
    pub(super) fn note_taken(&self) {
        if self.joinable {
            let c = self.control();
            c.taken.fetch_add(1, Ordering::SeqCst);
            c.holders.taken(&self.holder_hint, 1);
        }
    }

    /// Tasks handed out and not marked done, and whether a message waits
    /// (a snapshot).
    pub(in crate::message) fn unfinished(&self) -> (u64, bool) {
        let c = self.control();
        let done = c.done.load(Ordering::SeqCst);
        let taken = c.taken.load(Ordering::SeqCst);
        (taken.saturating_sub(done), self.ring().holds_record())
    }

    /// Marks one task done; `false` if there are none unfinished.
    pub(in crate::message) fn task_done(&self) -> bool {
        let c = self.control();
        let taken = c.taken.load(Ordering::SeqCst);
        let counted = c
            .done
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |done| {
                (done < taken).then_some(done + 1)
            });
        if counted.is_err() {
            return false;
        }
        c.holders.done_one(&self.holder_hint);
        // Only a task_done (or a write-off of a dead consumer's tasks) can
        // make `join`'s condition true.
        c.all_done
            .notify_if(&FutexWake, u32::MAX, || self.unfinished() == (0, false));
        true
    }

    /// Waits until every message put was received and marked done; `None`
    /// when `timeout` ran out, `Some(Err((pid, tasks)))` if a consumer died
    /// holding tasks (then written off as done).
    pub(in crate::message) fn join(
        &self,
        timeout: Option<Duration>,
        wait: WaitStrategy,
    ) -> Option<std::result::Result<(), (u32, u64)>> {
        let c = self.control();
        wait_for(
            wait,
            &c.all_done,
            timeout,
            Patience::BackOff,
            // A dead consumer holding tasks wakes nobody: poll.
            || true,
            || (self.unfinished() == (0, false)).then_some(Ok(())),
            || c.holders.write_off_dead(&c.done, &c.all_done).map(Err),
        )
    }
}
