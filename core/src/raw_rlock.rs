//! A re-entrant lock: [`RawLock`] plus a recursion depth that only the holder touches.
//!
//! The holder is a (process, thread) pair, recognised by [`RawLock::is_held_by`]:
//! tid in the state word, pid and start time in the owner record.

use crate::park::{Owner, Park, Unpark};
use crate::primitives::Ordering;
use crate::raw_lock::{Acquired, RawLock, TimedOut};

/// Why a re-entrant lock operation was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RLockError {
    /// The caller does not hold the lock.
    NotOwner,
    /// The deadline passed before the lock could be taken.
    TimedOut,
}

/// A re-entrant lock in shared memory. All-zero bytes are a free, consistent lock.
#[repr(transparent)]
pub struct RawRLock(RawLock);

impl Default for RawRLock {
    fn default() -> Self {
        Self::new()
    }
}

impl RawRLock {
    /// A free, consistent lock.
    pub fn new() -> RawRLock {
        RawRLock(RawLock::new())
    }

    /// The underlying lock, for its diagnostics and consistency marking.
    pub fn raw(&self) -> &RawLock {
        &self.0
    }

    /// Enters once more if `me` holds the lock already.
    fn reenter(&self, me: &Owner) -> Option<Result<Acquired, RLockError>> {
        if !self.0.is_held_by(me) {
            return None;
        }
        let depth = self.0.depth();
        // 64 bits: not reachable in practice, even by leaking guards in a loop.
        depth.store(
            depth.load(Ordering::Relaxed).saturating_add(1),
            Ordering::Relaxed,
        );
        Some(Ok(Acquired::Clean))
    }

    fn entered(&self, acquired: Acquired) -> Acquired {
        self.0.depth().store(1, Ordering::Relaxed);
        acquired
    }

    /// Re-enters, or takes a free lock, without waiting and without asking
    /// whether a holder is alive: the uncontended path.
    #[inline]
    pub fn try_lock_fast(&self, me: &Owner) -> Option<Acquired> {
        if let Some(Ok(acquired)) = self.reenter(me) {
            return Some(acquired);
        }
        self.0.try_lock_fast(me).map(|a| self.entered(a))
    }

    /// Takes the lock without waiting (re-entering if `me` holds it already).
    /// `Ok(None)` means another holder has it.
    pub fn try_lock<P: Park>(
        &self,
        me: &Owner,
        park: &mut P,
    ) -> Result<Option<Acquired>, RLockError> {
        if let Some(r) = self.reenter(me) {
            return r.map(Some);
        }
        Ok(self.0.try_lock(me, park).map(|a| self.entered(a)))
    }

    /// Takes the lock, waiting as long as `park` lets it.
    pub fn lock<P: Park>(&self, me: &Owner, park: &mut P) -> Result<Acquired, RLockError> {
        if let Some(r) = self.reenter(me) {
            return r;
        }
        match self.0.lock(me, park) {
            Ok(a) => Ok(self.entered(a)),
            Err(TimedOut) => Err(RLockError::TimedOut),
        }
    }

    /// Leaves once; releases the lock when the depth reaches zero.
    pub fn unlock<U: Unpark>(&self, me: &Owner, unpark: &U) -> Result<(), RLockError> {
        if !self.0.is_held_by(me) {
            return Err(RLockError::NotOwner);
        }
        let depth = self.0.depth();
        match depth.load(Ordering::Relaxed) {
            0 | 1 => {
                depth.store(0, Ordering::Relaxed);
                self.0.unlock(unpark);
            }
            d => depth.store(d - 1, Ordering::Relaxed),
        }
        Ok(())
    }

    /// Releases every level at once (for a condition wait); returns the depth to restore.
    pub fn unlock_all<U: Unpark>(&self, me: &Owner, unpark: &U) -> Result<u64, RLockError> {
        if !self.0.is_held_by(me) {
            return Err(RLockError::NotOwner);
        }
        let depth = self.0.depth().swap(0, Ordering::Relaxed).max(1);
        self.0.unlock(unpark);
        Ok(depth)
    }

    /// Takes the lock again after [`RawRLock::unlock_all`], restoring `depth`.
    pub fn relock<P: Park>(
        &self,
        me: &Owner,
        depth: u64,
        park: &mut P,
    ) -> Result<Acquired, RLockError> {
        let acquired = self.0.lock(me, park).map_err(|_| RLockError::TimedOut)?;
        self.0.depth().store(depth.max(1), Ordering::Relaxed);
        Ok(acquired)
    }

    /// The recursion depth, if `me` holds the lock.
    pub fn depth_held_by(&self, me: &Owner) -> Option<u64> {
        self.0
            .is_held_by(me)
            .then(|| self.0.depth().load(Ordering::Relaxed))
    }
}
