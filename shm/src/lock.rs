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
use shmipc_core::park::Owner;
use shmipc_core::raw_lock::{Acquired, RawLock};

use crate::error::{Corruption, Error, Result};
use crate::futex::{FutexPark, FutexWake};
use crate::identity;
use crate::options::Options;
use crate::segment::{Segment, Spec};

pub(crate) use crate::owner_died::{map_result, map_try};
pub use crate::owner_died::{LockResult, OwnerDied, TryAcquireError};

pub(crate) mod sealed {
    use shmipc_core::raw_lock::{Acquired, RawLock};

    /// Identity of a lock: the file behind its segment and its offset in it.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct LockId {
        pub file: (u64, u64),
        pub offset: usize,
    }

    /// What the crate needs from a guard, out of users' reach.
    pub trait Sealed {
        fn lock_id(&self) -> LockId;
        fn raw_lock(&self) -> &RawLock;
        /// Releases the lock completely for a condition wait; returns what
        /// `relock_after_wait` needs to restore (the recursion depth).
        fn unlock_for_wait(&self) -> u64;
        /// Takes the lock again after a condition wait, never timing out.
        fn relock_after_wait(&self, depth: u64) -> Acquired;
    }

    /// What the crate needs from a lock type, out of users' reach. (Sealed
    /// traits may name crate-private types: nobody outside can call them.)
    #[allow(private_interfaces)]
    pub trait SealedKind: Sized {
        const REENTRANT: bool;
        fn at(
            segment: std::sync::Arc<crate::segment::Segment>,
            offset: usize,
        ) -> crate::Result<Self>;
        fn open_named(name: &str, opts: &crate::Options) -> crate::Result<Self>;
        fn id(&self) -> LockId;
    }
}

use sealed::LockId;

/// A guard of a shmipc lock: [`LockGuard`], [`RLockGuard`](crate::RLockGuard),
/// and the guards of cells behind a lock. Sealed.
pub trait Guard: sealed::Sealed {
    /// The name of the lock this guard holds.
    fn lock_name(&self) -> &str;
}

/// The two lock types, [`Lock`] and [`RLock`](crate::RLock), for the objects
/// that take either (cells, [`Condition`](crate::Condition)). Sealed.
pub trait LockKind: sealed::SealedKind + Clone + Send + Sync + 'static {
    /// `"Lock"` or `"RLock"`, for messages.
    const NAME: &'static str;
    /// The lock's name.
    fn lock_name(&self) -> &str;
}

/// What the typed layer needs of a raw lock algorithm ([`RawLock`], and
/// [`RawRLock`](shmipc_core::raw_rlock::RawRLock) over it), as lock_api's
/// `RawMutex` is to its `Mutex`: [`LockCore`]'s acquire family is written
/// once against it, for [`Lock`] and [`RLock`](crate::RLock) alike.
pub(crate) trait RawAlgorithm {
    /// Takes the lock if it is free (or already this thread's, re-entrant).
    fn try_lock_fast(&self, me: &Owner) -> Option<Acquired>;
    /// As `try_lock_fast`, also taking it from a dead holder; never waits.
    fn try_lock(&self, me: &Owner, park: &mut FutexPark) -> Option<Acquired>;
    /// Takes the lock, waiting as long as `park` lets it; `None` at its deadline.
    fn lock(&self, me: &Owner, park: &mut FutexPark) -> Option<Acquired>;
}

impl RawAlgorithm for RawLock {
    #[inline]
    fn try_lock_fast(&self, me: &Owner) -> Option<Acquired> {
        RawLock::try_lock_fast(self, me)
    }
    fn try_lock(&self, me: &Owner, park: &mut FutexPark) -> Option<Acquired> {
        RawLock::try_lock(self, me, park)
    }
    fn lock(&self, me: &Owner, park: &mut FutexPark) -> Option<Acquired> {
        RawLock::lock(self, me, park).ok()
    }
}

impl RawAlgorithm for shmipc_core::raw_rlock::RawRLock {
    #[inline]
    fn try_lock_fast(&self, me: &Owner) -> Option<Acquired> {
        shmipc_core::raw_rlock::RawRLock::try_lock_fast(self, me)
    }
    fn try_lock(&self, me: &Owner, park: &mut FutexPark) -> Option<Acquired> {
        shmipc_core::raw_rlock::RawRLock::try_lock(self, me, park)
            .ok()
            .flatten()
    }
    fn lock(&self, me: &Owner, park: &mut FutexPark) -> Option<Acquired> {
        shmipc_core::raw_rlock::RawRLock::lock(self, me, park).ok()
    }
}

/// The acquire family of both lock types, over their raw algorithm `raw`:
/// what comes back is the acquisition, for the caller to wrap in its guard.
pub(crate) mod acquire {
    use super::*;

    /// Waits as long as it takes.
    #[inline]
    pub(crate) fn blocking(raw: &impl RawAlgorithm) -> Acquired {
        let me = identity::current();
        match raw.try_lock_fast(&me) {
            Some(acquired) => acquired,
            None => {
                acquire_slow(None, |park| raw.lock(&me, park).ok_or(())).unwrap_or(Acquired::Clean)
            }
        }
    }

    /// Never waits; `None` if another live holder has it.
    pub(crate) fn trying(raw: &impl RawAlgorithm) -> Option<Acquired> {
        let me = identity::current();
        raw.try_lock_fast(&me)
            .or_else(|| raw.try_lock(&me, &mut FutexPark::new(None)))
    }

    /// Waits at most `timeout`; `None` if it ran out.
    pub(crate) fn timed(raw: &impl RawAlgorithm, timeout: Duration) -> Option<Acquired> {
        let me = identity::current();
        raw.try_lock_fast(&me)
            .or_else(|| acquire_slow(Some(timeout), |park| raw.lock(&me, park).ok_or(())))
    }
}

/// The segment and position of a lock, shared by [`Lock`] and [`RLock`](crate::RLock).
#[derive(Clone)]
pub(crate) struct LockCore {
    segment: Arc<Segment>,
    offset: usize,
    raw: NonNull<RawLock>,
    name: Arc<str>,
}

// SAFETY: the lock is a set of atomics in a mapping that `segment` keeps alive;
// every access goes through those atomics, so any thread may use it.
unsafe impl Send for LockCore {}
// SAFETY: as above; `&LockCore` only ever reads or atomically updates shared memory.
unsafe impl Sync for LockCore {}

impl LockCore {
    pub(crate) fn create(name: &str, kind: Kind, opts: &Options) -> Result<LockCore> {
        let spec = Spec {
            kind,
            flags: 0,
            fingerprint: Fingerprint::NONE,
            type_name: "",
            param: 0,
            // All-zero bytes are a free, consistent lock: nothing to initialise.
            total_size: LOCK_SEGMENT_SIZE,
        };
        let segment = Segment::create(name, &spec, opts, |_| {})?;
        LockCore::at(Arc::new(segment), LOCK_OFFSET)
    }

    pub(crate) fn open(name: &str, kind: Kind, opts: &Options) -> Result<LockCore> {
        let segment = Segment::open(name, kind, Fingerprint::NONE, kind.name(), opts)?;
        LockCore::at(Arc::new(segment), LOCK_OFFSET)
    }

    pub(crate) fn at(segment: Arc<Segment>, offset: usize) -> Result<LockCore> {
        let ptr = segment.at(offset, std::mem::size_of::<RawLock>())?;
        if ptr.as_ptr() as usize % std::mem::align_of::<RawLock>() != 0 {
            return Err(Error::corrupt(
                segment.name(),
                Corruption::Span {
                    offset: offset as u64,
                    len: std::mem::size_of::<RawLock>() as u64,
                    size: segment.header().total_size,
                },
            ));
        }
        let name = Arc::from(segment.name());
        Ok(LockCore {
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

    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    pub(crate) fn shared_name(&self) -> Arc<str> {
        self.name.clone()
    }

    pub(crate) fn id(&self) -> LockId {
        LockId {
            file: self.segment.file_id(),
            offset: self.offset,
        }
    }

    pub(crate) fn holder_pid(&self) -> Option<u32> {
        self.raw().owner().map(|o| o.pid).filter(|&pid| pid != 0)
    }
}

/// A mutual-exclusion lock shared by processes, like Python's
/// `multiprocessing.Lock`, that survives the death of its holder.
///
/// - No syscall when uncontended: one compare-and-swap to acquire, one swap to
///   release.
/// - Under contention it spins, then yields, then parks on a futex.
/// - If the holder dies holding it, the next acquirer gets it within about
///   100 ms (the liveness poll backs off from 5 to 40 ms) with [`OwnerDied`],
///   which it cannot ignore by accident.
///
/// Not re-entrant: acquiring it again from the thread that holds it waits
/// forever, as with [`std::sync::Mutex`]; see [`RLock`](crate::RLock).
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
#[derive(Clone)]
pub struct Lock {
    core: LockCore,
}

impl fmt::Debug for Lock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Lock")
            .field("name", &self.name())
            .field("locked", &self.is_locked())
            .finish()
    }
}

#[allow(private_interfaces)]
impl sealed::SealedKind for Lock {
    const REENTRANT: bool = false;
    fn at(segment: Arc<Segment>, offset: usize) -> Result<Lock> {
        Ok(Lock {
            core: LockCore::at(segment, offset)?,
        })
    }
    fn open_named(name: &str, opts: &Options) -> Result<Lock> {
        Lock::open_with(name, opts)
    }
    fn id(&self) -> LockId {
        self.core.id()
    }
}

impl LockKind for Lock {
    const NAME: &'static str = "Lock";
    fn lock_name(&self) -> &str {
        self.name()
    }
}

impl Lock {
    /// Creates a lock named `name`, with default [`Options`].
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-lock-create-0-{}", std::process::id());
    /// let lock = shmipc::Lock::create(&name)?;
    /// assert!(!lock.is_locked());
    /// # Ok(()) }
    /// ```
    pub fn create(name: &str) -> Result<Lock> {
        Lock::create_with(name, &Options::default())
    }

    /// Creates a lock named `name`.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-lock-create_with-0-{}", std::process::id());
    /// let lock = shmipc::Lock::create_with(&name, &shmipc::Options::new().persist(true))?;
    /// drop(lock);
    /// shmipc::unlink(&name)?; // persist: the name outlived the handle
    /// # Ok(()) }
    /// ```
    pub fn create_with(name: &str, opts: &Options) -> Result<Lock> {
        Ok(Lock {
            core: LockCore::create(name, Kind::Lock, opts)?,
        })
    }

    /// Opens the lock named `name`, created by any process.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-lock-open-0-{}", std::process::id());
    /// # let _l = shmipc::Lock::create(&name)?;
    /// let lock = shmipc::Lock::open(&name)?;
    /// drop(lock.acquire()?);
    /// # Ok(()) }
    /// ```
    pub fn open(name: &str) -> Result<Lock> {
        Lock::open_with(name, &Options::default())
    }

    /// Opens the lock named `name`, waiting at most `opts.ready_timeout` for its creator.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-lock-open_with-0-{}", std::process::id());
    /// # let _l = shmipc::Lock::create(&name)?;
    /// let lock = shmipc::Lock::open_with(&name, &shmipc::Options::new())?;
    /// # drop(lock);
    /// # Ok(()) }
    /// ```
    pub fn open_with(name: &str, opts: &Options) -> Result<Lock> {
        Ok(Lock {
            core: LockCore::open(name, Kind::Lock, opts)?,
        })
    }

    #[inline]
    pub(crate) fn raw(&self) -> &RawLock {
        self.core.raw()
    }

    /// The name the lock was created or opened with.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-lock-name-0-{}", std::process::id());
    /// let lock = shmipc::Lock::create(&name)?;
    /// assert_eq!(lock.name(), name);
    /// # Ok(()) }
    /// ```
    pub fn name(&self) -> &str {
        self.core.name()
    }

    /// Acquires the lock, waiting as long as it takes.
    ///
    /// Returns [`OwnerDied`] (still holding the lock) if a holder died holding it.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-lock-acquire-{}", std::process::id());
    /// let lock = shmipc::Lock::create(&name)?;
    /// let guard = lock.acquire()?;
    /// assert!(lock.is_locked());
    /// # drop(guard); Ok(()) }
    /// ```
    pub fn acquire(&self) -> LockResult<LockGuard<'_>> {
        outcome(self.new_guard(), acquire::blocking(self.raw()))
    }

    /// Acquires the lock if it is free (or its holder is dead), without waiting.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-lock-try-{}", std::process::id());
    /// let lock = shmipc::Lock::create(&name)?;
    /// let guard = lock.try_acquire()?;
    /// assert!(matches!(lock.try_acquire(), Err(shmipc::TryAcquireError::WouldBlock { .. })));
    /// # drop(guard); Ok(()) }
    /// ```
    pub fn try_acquire(
        &self,
    ) -> std::result::Result<LockGuard<'_>, TryAcquireError<LockGuard<'_>>> {
        try_outcome(
            acquire::trying(self.raw()),
            || self.new_guard(),
            || TryAcquireError::WouldBlock {
                name: self.core.shared_name(),
            },
        )
    }

    /// Acquires the lock, waiting at most `timeout`.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-lock-timeout-{}", std::process::id());
    /// let lock = shmipc::Lock::create(&name)?;
    /// let _guard = lock.acquire()?;
    /// let timed_out = std::thread::scope(|s| {
    ///     s.spawn(|| {
    ///         let waited = lock.acquire_timeout(std::time::Duration::from_millis(5));
    ///         matches!(waited, Err(shmipc::TryAcquireError::TimedOut { .. }))
    ///     })
    ///     .join()
    /// });
    /// assert!(timed_out.unwrap());
    /// # Ok(()) }
    /// ```
    pub fn acquire_timeout(
        &self,
        timeout: Duration,
    ) -> std::result::Result<LockGuard<'_>, TryAcquireError<LockGuard<'_>>> {
        try_outcome(
            acquire::timed(self.raw(), timeout),
            || self.new_guard(),
            || TryAcquireError::TimedOut {
                name: self.core.shared_name(),
                after: timeout,
            },
        )
    }

    fn new_guard(&self) -> LockGuard<'_> {
        LockGuard {
            lock: self,
            _not_send: PhantomData,
        }
    }

    /// Releases a lock handed over with [`LockGuard::detach`], from any
    /// thread of any process; [`Error::NotDetached`] (and nothing done) if
    /// the lock is free or held by a thread.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-lock-release-detached-{}", std::process::id());
    /// let lock = shmipc::Lock::create(&name)?;
    /// assert!(matches!(lock.release_detached(), Err(shmipc::Error::NotDetached { .. })));
    /// lock.acquire()?.detach();
    /// assert!(lock.is_detached());
    /// lock.release_detached()?;
    /// # Ok(()) }
    /// ```
    pub fn release_detached(&self) -> Result<()> {
        if self.raw().release_detached(&FutexWake) {
            Ok(())
        } else {
            Err(Error::NotDetached {
                name: self.name().to_owned(),
            })
        }
    }

    /// Whether the lock is held detached (see [`LockGuard::detach`]; a
    /// snapshot).
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-lock-is-detached-{}", std::process::id());
    /// let lock = shmipc::Lock::create(&name)?;
    /// assert!(!lock.is_detached());
    /// # Ok(()) }
    /// ```
    pub fn is_detached(&self) -> bool {
        self.raw().is_detached()
    }

    /// Whether the lock is held right now (stale as soon as it returns).
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-lock-is_locked-0-{}", std::process::id());
    /// let lock = shmipc::Lock::create(&name)?;
    /// let g = lock.acquire()?;
    /// assert!(lock.is_locked());
    /// # drop(g);
    /// # Ok(()) }
    /// ```
    pub fn is_locked(&self) -> bool {
        self.raw().is_locked()
    }

    /// Whether a holder died holding the lock and nobody has marked the data
    /// consistent since; carries that holder's pid.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-lock-poisoned_by-0-{}", std::process::id());
    /// let lock = shmipc::Lock::create(&name)?;
    /// assert_eq!(lock.poisoned_by(), None);
    /// # Ok(()) }
    /// ```
    pub fn poisoned_by(&self) -> Option<u32> {
        self.raw().poisoned_by()
    }

    /// The pid of the current holder, if the lock is held and the holder has
    /// recorded itself.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-lock-holder_pid-0-{}", std::process::id());
    /// let lock = shmipc::Lock::create(&name)?;
    /// let g = lock.acquire()?;
    /// assert_eq!(lock.holder_pid(), Some(std::process::id()));
    /// # drop(g);
    /// # Ok(()) }
    /// ```
    pub fn holder_pid(&self) -> Option<u32> {
        self.core.holder_pid()
    }

    /// Whether some waiter is parked on the lock. For tests and diagnostics.
    #[doc(hidden)]
    pub fn has_parked_waiters(&self) -> bool {
        self.raw().has_waiters()
    }

    /// Whether `self` and `other` are the same lock (the same segment file and
    /// offset), however each was opened.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-lock-same_lock-0-{}", std::process::id());
    /// let lock = shmipc::Lock::create(&name)?;
    /// assert!(lock.same_lock(&shmipc::Lock::open(&name)?));
    /// # Ok(()) }
    /// ```
    pub fn same_lock(&self, other: &Lock) -> bool {
        self.core.id() == other.core.id()
    }
}

/// A guard, or the guard inside [`OwnerDied`], by how its acquisition went.
pub(crate) fn outcome<G: Guard>(guard: G, acquired: Acquired) -> LockResult<G> {
    match acquired {
        Acquired::Clean => Ok(guard),
        Acquired::OwnerDied { pid } => Err(OwnerDied::new(guard, pid)),
    }
}

/// The result of a `try_` or `_timeout` acquisition: the guard (`guard`
/// builds it) if `acquired`, else the failure `failed` names.
pub(crate) fn try_outcome<G: Guard>(
    acquired: Option<Acquired>,
    guard: impl FnOnce() -> G,
    failed: impl FnOnce() -> TryAcquireError<G>,
) -> std::result::Result<G, TryAcquireError<G>> {
    match acquired {
        Some(acquired) => outcome(guard(), acquired).map_err(TryAcquireError::OwnerDied),
        None => Err(failed()),
    }
}

/// The slow path of every blocking acquisition: runs `attempt` (which waits as
/// long as the park lets it) until it succeeds or `timeout` runs out (`None`).
#[cold]
pub(crate) fn acquire_slow<E>(
    timeout: Option<Duration>,
    mut attempt: impl FnMut(&mut FutexPark) -> std::result::Result<Acquired, E>,
) -> Option<Acquired> {
    // The holder may die holding the lock: look at its liveness now and then.
    let mut park = FutexPark::timeout(timeout).polling_liveness();
    let forever = timeout.is_none_or(|t| Instant::now().checked_add(t).is_none());
    loop {
        match attempt(&mut park) {
            Ok(acquired) => return Some(acquired),
            // Without a deadline the park never reports one; keep waiting.
            Err(_) if forever => continue,
            Err(_) => return None,
        }
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

// SAFETY: the guard is kept from other threads (`!Send`, by the raw-pointer
// marker) only so that its *drop*, the release, runs on the holding thread.
// A `&LockGuard` cannot release: it gives `lock()`, a `&Lock`, which is
// itself `Sync`, and `mark_consistent`, one atomic store to the lock's
// segment. Neither depends on which thread calls it.
unsafe impl Sync for LockGuard<'_> {}

impl LockGuard<'_> {
    /// Marks the protected data consistent after an [`OwnerDied`] was handled
    /// through [`OwnerDied::into_inner`].
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-lock-consistent-{}", std::process::id());
    /// let lock = shmipc::Lock::create(&name)?;
    /// let guard = lock.acquire()?;
    /// guard.mark_consistent(); // nothing to mark here: a no-op
    /// # Ok(()) }
    /// ```
    pub fn mark_consistent(&self) {
        self.lock.raw().mark_consistent();
    }

    /// Hands the held lock over without releasing it: the lock stays held,
    /// by no thread, until any thread of any process calls
    /// [`Lock::release_detached`] (Python lets another thread release a
    /// `Lock`; a guard cannot move, so this is the explicit way).
    ///
    /// A detached lock has no holder that can die: if whoever was to release
    /// it never does, it stays held (no [`OwnerDied`] will free it).
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-lock-detach-{}", std::process::id());
    /// let lock = shmipc::Lock::create(&name)?;
    /// lock.acquire()?.detach();
    /// assert!(lock.try_acquire().is_err());
    /// std::thread::scope(|s| {
    ///     s.spawn(|| lock.release_detached().unwrap()); // another thread releases
    /// });
    /// assert!(lock.try_acquire().is_ok());
    /// # Ok(()) }
    /// ```
    pub fn detach(self) {
        self.lock.raw().detach();
        std::mem::forget(self);
    }
}

impl LockGuard<'_> {
    /// The lock this guard holds.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-lock-lock-0-{}", std::process::id());
    /// let lock = shmipc::Lock::create(&name)?;
    /// let g = lock.acquire()?;
    /// assert!(g.lock().same_lock(&lock));
    /// # Ok(()) }
    /// ```
    pub fn lock(&self) -> &Lock {
        self.lock
    }
}

impl sealed::Sealed for LockGuard<'_> {
    fn lock_id(&self) -> LockId {
        self.lock.core.id()
    }
    fn raw_lock(&self) -> &RawLock {
        self.lock.raw()
    }
    fn unlock_for_wait(&self) -> u64 {
        self.lock.raw().unlock(&FutexWake);
        1
    }
    fn relock_after_wait(&self, _depth: u64) -> Acquired {
        let me = identity::current();
        acquire_slow(None, |park| self.lock.raw().lock(&me, park)).unwrap_or(Acquired::Clean)
    }
}

impl Guard for LockGuard<'_> {
    fn lock_name(&self) -> &str {
        self.lock.name()
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

/// Implements [`Guard`] for a guard type that wraps another guard in a field.
macro_rules! delegate_guard {
    ($ty:ty, $field:ident $(, $($bound:tt)*)?) => {
        impl$(<$($bound)*>)? $crate::lock::sealed::Sealed for $ty {
            fn lock_id(&self) -> $crate::lock::sealed::LockId {
                self.$field.lock_id()
            }
            fn raw_lock(&self) -> &shmipc_core::raw_lock::RawLock {
                self.$field.raw_lock()
            }
            fn unlock_for_wait(&self) -> u64 {
                self.$field.unlock_for_wait()
            }
            fn relock_after_wait(&self, depth: u64) -> shmipc_core::raw_lock::Acquired {
                self.$field.relock_after_wait(depth)
            }
        }
        impl$(<$($bound)*>)? $crate::lock::Guard for $ty {
            fn lock_name(&self) -> &str {
                self.$field.lock_name()
            }
        }
    };
}
pub(crate) use delegate_guard;
