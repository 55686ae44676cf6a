//! `Lock`: a mutual-exclusion lock in its own named segment, which notices the
//! death of its holder.
//!
//! The algorithm is [`shmipc_core::raw_lock`]; this file adds the segment, the
//! typed guard, and the poisoning-style reporting of a dead holder.

use std::fmt;
use std::marker::PhantomData;
use std::ptr::NonNull;
use std::sync::Arc;
use std::time::{Duration, Instant};

use shmipc_core::fingerprint::Fingerprint;
use shmipc_core::header::Kind;
use shmipc_core::layout::{LOCK_OFFSET, LOCK_SEGMENT_SIZE};
use shmipc_core::raw_lock::{Acquired, RawLock};

use crate::error::{Error, Result};
use crate::futex::{FutexPark, FutexWake};
use crate::identity;
use crate::options::Options;
use crate::segment::{Segment, Spec};

/// A lock whose holder died while holding it: the acquisition succeeded, but the
/// data it protects may be half-updated.
///
/// Like [`std::sync::PoisonError`], it carries the guard, so the caller decides:
/// [`OwnerDied::recover`] takes the guard and marks the data consistent again;
/// [`OwnerDied::into_inner`] takes the guard and leaves the lock marked, so that
/// the next acquirer hears of it too. Dropping it releases the lock, still marked.
/// Converting it into [`Error`] (with `?`) does the same.
#[must_use = "the lock's previous holder died; decide whether the data is consistent"]
pub struct OwnerDied<G: Guard> {
    guard: G,
    pid: u32,
}

impl<G: Guard> OwnerDied<G> {
    /// The pid of the holder that died.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// The guard, leaving the lock marked inconsistent.
    pub fn into_inner(self) -> G {
        self.guard
    }

    /// The guard, after marking the data consistent again: later acquirers get
    /// the lock without an `OwnerDied`.
    pub fn recover(self) -> G {
        self.guard.lock().raw().mark_consistent();
        self.guard
    }

    /// The guard, by reference, to inspect the data before deciding.
    pub fn get_ref(&self) -> &G {
        &self.guard
    }

    /// The guard, by mutable reference, to repair the data before deciding.
    pub fn get_mut(&mut self) -> &mut G {
        &mut self.guard
    }
}

impl<G: Guard> OwnerDied<G> {
    /// The same report around another guard (a cell's guard around a lock's).
    pub(crate) fn map<H: Guard>(self, f: impl FnOnce(G) -> H) -> OwnerDied<H> {
        OwnerDied {
            guard: f(self.guard),
            pid: self.pid,
        }
    }
}

/// Wraps the guard of a lock result in another guard type.
pub(crate) fn map_result<G: Guard, H: Guard>(
    r: LockResult<G>,
    f: impl FnOnce(G) -> H,
) -> LockResult<H> {
    match r {
        Ok(g) => Ok(f(g)),
        Err(e) => Err(e.map(f)),
    }
}

/// Wraps the guard of a try-result in another guard type.
pub(crate) fn map_try<G: Guard, H: Guard>(
    r: std::result::Result<G, TryAcquireError<G>>,
    f: impl FnOnce(G) -> H,
) -> std::result::Result<H, TryAcquireError<H>> {
    match r {
        Ok(g) => Ok(f(g)),
        Err(TryAcquireError::OwnerDied(e)) => Err(TryAcquireError::OwnerDied(e.map(f))),
        Err(TryAcquireError::WouldBlock { name }) => Err(TryAcquireError::WouldBlock { name }),
        Err(TryAcquireError::TimedOut { name, after }) => {
            Err(TryAcquireError::TimedOut { name, after })
        }
    }
}

impl<G: Guard> fmt::Debug for OwnerDied<G> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OwnerDied")
            .field("lock", &self.guard.lock().name())
            .field("pid", &self.pid)
            .finish_non_exhaustive()
    }
}

impl<G: Guard> fmt::Display for OwnerDied<G> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the holder of lock '{}' (pid {}) died holding it",
            self.guard.lock().name(),
            self.pid
        )
    }
}

impl<G: Guard> std::error::Error for OwnerDied<G> {}

impl<G: Guard> From<OwnerDied<G>> for Error {
    fn from(e: OwnerDied<G>) -> Error {
        Error::OwnerDied {
            name: e.guard.lock().name().to_owned(),
            pid: e.pid,
        }
    }
}

/// The result of a blocking acquisition: the guard, or the guard wrapped in
/// [`OwnerDied`].
pub type LockResult<G> = std::result::Result<G, OwnerDied<G>>;

/// Why a `try_` or `_timeout` acquisition did not hand out a plain guard.
#[derive(Debug)]
pub enum TryAcquireError<G: Guard> {
    /// Acquired, but the previous holder died: see [`OwnerDied`].
    OwnerDied(OwnerDied<G>),
    /// `try_` found the lock held by a live holder.
    WouldBlock {
        /// The lock's name.
        name: Arc<str>,
    },
    /// `_timeout` waited the whole timeout.
    TimedOut {
        /// The lock's name.
        name: Arc<str>,
        /// The timeout given.
        after: Duration,
    },
}

impl<G: Guard> fmt::Display for TryAcquireError<G> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryAcquireError::OwnerDied(e) => e.fmt(f),
            TryAcquireError::WouldBlock { name } => write!(f, "lock '{name}' is held"),
            TryAcquireError::TimedOut { name, after } => {
                write!(
                    f,
                    "timed out after {after:?} waiting to acquire lock '{name}'"
                )
            }
        }
    }
}

impl<G: Guard + fmt::Debug> std::error::Error for TryAcquireError<G> {}

impl<G: Guard> From<TryAcquireError<G>> for Error {
    fn from(e: TryAcquireError<G>) -> Error {
        match e {
            TryAcquireError::OwnerDied(e) => e.into(),
            TryAcquireError::WouldBlock { name } => Error::WouldBlock {
                name: name.to_string(),
                op: "try_acquire",
            },
            TryAcquireError::TimedOut { name, after } => Error::TimedOut {
                name: name.to_string(),
                op: "acquire_timeout",
                after,
            },
        }
    }
}

mod sealed {
    pub trait Sealed {}
}

/// A guard of a shmipc lock: [`LockGuard`], and the guards of cells behind a lock.
pub trait Guard: sealed::Sealed {
    /// The lock this guard holds.
    fn lock(&self) -> &Lock;
}

/// A mutual-exclusion lock shared by processes, like Python's
/// `multiprocessing.Lock`, that survives the death of its holder.
///
/// - No syscall when uncontended: one compare-and-swap to acquire, one swap to
///   release.
/// - Under contention it spins, then yields, then parks on a futex.
/// - If the holder dies holding it, the next acquirer gets it within about
///   10 ms (the liveness poll) with [`OwnerDied`], which it cannot ignore by accident.
///
/// Not re-entrant: acquiring it again from the thread that holds it waits
/// forever, as with [`std::sync::Mutex`].
///
/// ```
/// # extern crate shmipc_shm as shmipc;
/// # fn main() -> Result<(), shmipc::Error> {
/// let name = format!("doc-lock-{}", std::process::id());
/// let lock = shmipc::Lock::create(&name)?;    // unlinked when `lock` drops
/// let other = shmipc::Lock::open(&name)?;      // as another process would
/// {
///     let _guard = lock.acquire()?;
///     assert!(other.try_acquire().is_err());
/// }
/// assert!(other.try_acquire().is_ok());
/// # Ok(()) }
/// ```
pub struct Lock {
    segment: Arc<Segment>,
    offset: usize,
    raw: NonNull<RawLock>,
    name: Arc<str>,
}

// SAFETY: the lock is a set of atomics in a mapping that `segment` keeps alive;
// every access goes through those atomics, so any thread may use it.
unsafe impl Send for Lock {}
// SAFETY: as above; `&Lock` only ever reads or atomically updates shared memory.
unsafe impl Sync for Lock {}

impl Clone for Lock {
    /// Another handle to the same lock (never the owner of its name).
    fn clone(&self) -> Lock {
        Lock {
            segment: self.segment.clone(),
            offset: self.offset,
            raw: self.raw,
            name: self.name.clone(),
        }
    }
}

impl fmt::Debug for Lock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Lock")
            .field("name", &self.name)
            .field("locked", &self.is_locked())
            .finish()
    }
}

impl Lock {
    /// Creates a lock named `name`, with default [`Options`].
    pub fn create(name: &str) -> Result<Lock> {
        Lock::create_with(name, &Options::default())
    }

    /// Creates a lock named `name`.
    pub fn create_with(name: &str, opts: &Options) -> Result<Lock> {
        let spec = Spec {
            kind: Kind::Lock,
            flags: 0,
            fingerprint: Fingerprint::NONE,
            param: 0,
            // All-zero bytes are a free, consistent lock: nothing to initialise.
            total_size: LOCK_SEGMENT_SIZE,
        };
        let segment = Segment::create(name, &spec, opts, |_| {})?;
        Lock::at(Arc::new(segment), LOCK_OFFSET)
    }

    /// Opens the lock named `name`, created by any process.
    pub fn open(name: &str) -> Result<Lock> {
        Lock::open_with(name, &Options::default())
    }

    /// Opens the lock named `name`, waiting at most `opts.ready_timeout` for its creator.
    pub fn open_with(name: &str, opts: &Options) -> Result<Lock> {
        let segment = Segment::open(name, Kind::Lock, Fingerprint::NONE, "Lock", opts)?;
        Lock::at(Arc::new(segment), LOCK_OFFSET)
    }

    /// A lock that lives at `offset` inside `segment` (a cell's own lock).
    pub(crate) fn at(segment: Arc<Segment>, offset: usize) -> Result<Lock> {
        let ptr = segment.at(offset, std::mem::size_of::<RawLock>())?;
        if ptr.as_ptr() as usize % std::mem::align_of::<RawLock>() != 0 {
            return Err(Error::corrupt(
                segment.name(),
                format!("lock at misaligned offset {offset}"),
            ));
        }
        let name = Arc::from(segment.name());
        Ok(Lock {
            raw: ptr.cast(),
            offset,
            segment,
            name,
        })
    }

    #[inline]
    pub(crate) fn raw(&self) -> &RawLock {
        // SAFETY: `raw` points at an aligned RawLock inside the mapping that
        // `segment` keeps alive; RawLock is atomics only, valid for any bytes.
        unsafe { self.raw.as_ref() }
    }

    /// The name the lock was created or opened with.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Acquires the lock, waiting as long as it takes.
    ///
    /// Returns [`OwnerDied`] (still holding the lock) if a holder died holding it.
    pub fn acquire(&self) -> LockResult<LockGuard<'_>> {
        let me = identity::current();
        let acquired = match self.raw().try_lock_fast(&me) {
            Some(acquired) => acquired,
            None => self.acquire_slow(&me, None).unwrap_or(Acquired::Clean),
        };
        self.guard(acquired)
    }

    /// Acquires the lock if it is free (or its holder is dead), without waiting.
    pub fn try_acquire(
        &self,
    ) -> std::result::Result<LockGuard<'_>, TryAcquireError<LockGuard<'_>>> {
        let me = identity::current();
        match self.raw().try_lock(&me, &mut FutexPark::new(None)) {
            Some(acquired) => self.guard(acquired).map_err(TryAcquireError::OwnerDied),
            None => Err(TryAcquireError::WouldBlock {
                name: self.name.clone(),
            }),
        }
    }

    /// Acquires the lock, waiting at most `timeout`.
    pub fn acquire_timeout(
        &self,
        timeout: Duration,
    ) -> std::result::Result<LockGuard<'_>, TryAcquireError<LockGuard<'_>>> {
        let me = identity::current();
        let acquired = match self.raw().try_lock_fast(&me) {
            Some(acquired) => Some(acquired),
            None => self.acquire_slow(&me, Some(timeout)),
        };
        match acquired {
            Some(acquired) => self.guard(acquired).map_err(TryAcquireError::OwnerDied),
            None => Err(TryAcquireError::TimedOut {
                name: self.name.clone(),
                after: timeout,
            }),
        }
    }

    /// `None` only if `timeout` ran out.
    #[cold]
    fn acquire_slow(
        &self,
        me: &shmipc_core::park::Owner,
        timeout: Option<Duration>,
    ) -> Option<Acquired> {
        let deadline = timeout.and_then(|t| Instant::now().checked_add(t));
        let mut park = FutexPark::new(deadline);
        loop {
            match self.raw().lock(me, &mut park) {
                Ok(acquired) => return Some(acquired),
                // Without a deadline (none given, or one past the end of time)
                // the park never reports one; keep waiting whatever happens.
                Err(_) if deadline.is_none() => continue,
                Err(_) => return None,
            }
        }
    }

    fn guard(&self, acquired: Acquired) -> LockResult<LockGuard<'_>> {
        let guard = LockGuard {
            lock: self,
            _not_send: PhantomData,
        };
        match acquired {
            Acquired::Clean => Ok(guard),
            Acquired::OwnerDied { pid } => Err(OwnerDied { guard, pid }),
        }
    }

    /// Whether the lock is held right now (stale as soon as it returns).
    pub fn is_locked(&self) -> bool {
        self.raw().is_locked()
    }

    /// Whether a holder died holding the lock and nobody has marked the data
    /// consistent since; carries that holder's pid.
    pub fn poisoned_by(&self) -> Option<u32> {
        self.raw().poisoned_by()
    }

    /// The pid of the current holder, if the lock is held and the holder has
    /// recorded itself.
    pub fn holder_pid(&self) -> Option<u32> {
        self.raw().owner().map(|o| o.pid).filter(|&pid| pid != 0)
    }

    /// Whether some waiter is parked on the lock. For tests and diagnostics.
    #[doc(hidden)]
    pub fn has_parked_waiters(&self) -> bool {
        self.raw().has_waiters()
    }

    /// Whether `self` and `other` are the same lock (the same segment file and
    /// offset), however each was opened.
    pub fn same_lock(&self, other: &Lock) -> bool {
        self.segment.file_id() == other.segment.file_id() && self.offset == other.offset
    }
}

/// Holds a [`Lock`]; releases it on drop.
///
/// Not `Send`: the lock records the holding thread, so the release must come
/// from that thread.
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct LockGuard<'a> {
    lock: &'a Lock,
    _not_send: PhantomData<*const ()>,
}

// SAFETY: a shared reference to a guard only allows reading the lock's name.
unsafe impl Sync for LockGuard<'_> {}

impl LockGuard<'_> {
    /// Marks the protected data consistent after an [`OwnerDied`] was handled
    /// through [`OwnerDied::into_inner`].
    pub fn mark_consistent(&self) {
        self.lock.raw().mark_consistent();
    }
}

impl sealed::Sealed for LockGuard<'_> {}

impl Guard for LockGuard<'_> {
    fn lock(&self) -> &Lock {
        self.lock
    }
}

impl fmt::Debug for LockGuard<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LockGuard")
            .field("lock", &self.lock.name())
            .finish()
    }
}

impl Drop for LockGuard<'_> {
    #[inline]
    fn drop(&mut self) {
        self.lock.raw().unlock(&FutexWake);
    }
}

pub(crate) use sealed::Sealed as GuardSealed;
