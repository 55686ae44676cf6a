//! A JoinableQueue's per-process task counts, kept in the control block so
//! that `join` can tell a consumer that died holding tasks from one that is
//! slow (see ARCHITECTURE.md, "Batches and JoinableQueue").

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use shmipc_core::eventcount::EventCount;
use shmipc_core::park::Liveness;

use crate::futex::FutexWake;
use crate::identity;

/// Processes a JoinableQueue keeps task counts for at once.
pub(crate) const TASK_HOLDERS: usize = 16;

/// One process's tasks got from a JoinableQueue and not yet marked done.
#[repr(C)]
struct TaskHolder {
    /// The process, as [`identity::process_key`]; 0 when free.
    key: AtomicU64,
    /// Tasks it got and has not marked done.
    held: AtomicU64,
}

/// The table of [`TaskHolder`]s. All-zero bytes are a table with every
/// holder free.
///
/// Each method that acts for this process takes the handle's `hint`: where
/// its holder was last found, checked against the holder's key before use.
#[repr(transparent)]
pub(crate) struct TaskHolders([TaskHolder; TASK_HOLDERS]);

impl TaskHolders {
    /// Counts `n` tasks got by this process.
    #[inline]
    pub(crate) fn taken(&self, hint: &AtomicU32, n: u64) {
        if let Some(holder) = self.mine(hint) {
            // Relaxed: the count is read by another process only once this
            // one is dead, when all its stores are visible.
            holder.held.fetch_add(n, Ordering::Relaxed);
        }
    }

    /// Counts one task of this process marked done; never below zero, for
    /// a `task_done` of an item another process took.
    #[inline]
    pub(crate) fn done_one(&self, hint: &AtomicU32) {
        if let Some(holder) = self.mine(hint) {
            // Relaxed, as in `taken`.
            let _ = holder
                .held
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |held| {
                    held.checked_sub(1)
                });
        }
    }

    /// A process that died holding tasks: frees its holder and returns its
    /// pid and the tasks it held, for the caller to write off as done.
    fn take_dead(&self) -> Option<(u32, u64)> {
        for holder in &self.0 {
            let key = holder.key.load(Ordering::SeqCst);
            if key == 0 || holder.held.load(Ordering::SeqCst) == 0 {
                continue;
            }
            let owner = identity::unpack(key);
            if identity::process_liveness(&owner) != Liveness::Dead {
                continue;
            }
            // Nobody but the dead process changes its count; take it before
            // the holder can be claimed by another.
            let tasks = holder.held.swap(0, Ordering::SeqCst);
            let _ = holder
                .key
                .compare_exchange(key, 0, Ordering::SeqCst, Ordering::SeqCst);
            if tasks != 0 {
                return Some((owner.pid, tasks));
            }
        }
        None
    }

    /// [`take_dead`](Self::take_dead), and the dead process's tasks
    /// counted in `done` with `join`'s waiters on `all_done` woken: a dead
    /// consumer's tasks written off, so that `join` can return.
    pub(crate) fn write_off_dead(
        &self,
        done: &AtomicU64,
        all_done: &EventCount,
    ) -> Option<(u32, u64)> {
        let (pid, tasks) = self.take_dead()?;
        done.fetch_add(tasks, Ordering::SeqCst);
        all_done.notify(&FutexWake, u32::MAX);
        Some((pid, tasks))
    }

    /// This process's holder: the one with its key, else a free one it
    /// claims, else one it frees from a dead process that held nothing.
    /// `None` if all [`TASK_HOLDERS`] are held by live processes (this
    /// process's tasks then go uncounted, and a death cannot be reported).
    #[inline]
    fn mine(&self, hint: &AtomicU32) -> Option<&TaskHolder> {
        if let Some(holder) = self.0.get(hint.load(Ordering::Relaxed) as usize) {
            // The key is read afresh rather than kept in the handle: a
            // forked child's handle must not count into its parent's holder.
            if holder.key.load(Ordering::Relaxed) == identity::process_key() {
                return Some(holder);
            }
        }
        self.find(hint)
    }

    #[cold]
    fn find(&self, hint: &AtomicU32) -> Option<&TaskHolder> {
        let key = identity::process_key();
        let claim = |h: &TaskHolder, from: u64| {
            h.key
                .compare_exchange(from, key, Ordering::SeqCst, Ordering::SeqCst)
                .is_ok()
        };
        let found = self
            .0
            .iter()
            .position(|h| h.key.load(Ordering::SeqCst) == key)
            .or_else(|| self.0.iter().position(|h| claim(h, 0)))
            .or_else(|| {
                self.0.iter().position(|h| {
                    let held_by = h.key.load(Ordering::SeqCst);
                    held_by != 0
                        && h.held.load(Ordering::SeqCst) == 0
                        && identity::process_liveness(&identity::unpack(held_by)) == Liveness::Dead
                        && claim(h, held_by)
                })
            })?;
        hint.store(found as u32, Ordering::Relaxed);
        self.0.get(found)
    }
}
