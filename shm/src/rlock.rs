//! `RLock`: a re-entrant lock in its own named segment (Python's
//! `multiprocessing.RLock`), re-entrant per (process, thread).

use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use shmipc_core::header::Kind;
use shmipc_core::raw_lock::{Acquired, RawLock};
use shmipc_core::raw_rlock::RawRLock;

use crate::error::Result;
use crate::futex::FutexWake;
use crate::identity;
use crate::lock::sealed::{LockId, Sealed, SealedKind};
use crate::lock::{
    acquire, acquire_slow, outcome, try_outcome, Guard, LockCore, LockKind, LockResult,
    TryAcquireError,
};
use crate::options::Options;
use crate::segment::Segment;

/// A re-entrant lock shared by processes, like Python's `multiprocessing.RLock`:
/// the thread that holds it may acquire it again; it is released when every
/// guard is dropped. Holder death is reported as for [`Lock`](crate::Lock).
///
/// Guards give no access to data by themselves (nested guards of one thread
/// coexist, so none may hand out `&mut`); cells behind an RLock copy values in
/// and out instead.
///
/// ```
/// # extern crate shmipc_shm as shmipc;
/// # fn main() -> Result<(), shmipc::Error> {
/// let name = format!("doc-rlock-{}", std::process::id());
/// let lock = shmipc::RLock::create(&name)?;
/// let outer = lock.acquire()?;
/// let inner = lock.acquire()?;          // same thread: no deadlock
/// assert_eq!(lock.depth(), Some(2));
/// drop(inner);
/// drop(outer);
/// assert!(!lock.is_locked());
/// # Ok(()) }
/// ```
///
/// A guard cannot be released from another thread: it is not `Send`.
///
/// ```compile_fail
/// # extern crate shmipc_shm as shmipc;
/// let lock = shmipc::RLock::create("doc-rlock-send").unwrap();
/// let guard = lock.acquire().unwrap();
/// std::thread::scope(|s| { s.spawn(move || drop(guard)); });
/// ```
#[derive(Clone)]
pub struct RLock {
    core: LockCore,
}

impl fmt::Debug for RLock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RLock")
            .field("name", &self.name())
            .field("locked", &self.is_locked())
            .finish()
    }
}

#[allow(private_interfaces)]
impl SealedKind for RLock {
    const REENTRANT: bool = true;
    fn at(segment: Arc<Segment>, offset: usize) -> Result<RLock> {
        Ok(RLock {
            core: LockCore::at(segment, offset)?,
        })
    }
    fn open_named(name: &str, opts: &Options) -> Result<RLock> {
        RLock::open_with(name, opts)
    }
    fn id(&self) -> LockId {
        self.core.id()
    }
}

impl LockKind for RLock {
    const NAME: &'static str = "RLock";
    fn lock_name(&self) -> &str {
        self.name()
    }
}

impl RLock {
    /// Creates a re-entrant lock named `name`, with default [`Options`].
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-rlock-create-0-{}", std::process::id());
    /// let lock = shmipc::RLock::create(&name)?;
    /// assert!(!lock.is_locked());
    /// # Ok(()) }
    /// ```
    pub fn create(name: &str) -> Result<RLock> {
        RLock::create_with(name, &Options::default())
    }

    /// Creates a re-entrant lock named `name`.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-rlock-create_with-0-{}", std::process::id());
    /// let lock = shmipc::RLock::create_with(&name, &shmipc::Options::new())?;
    /// # drop(lock);
    /// # Ok(()) }
    /// ```
    pub fn create_with(name: &str, opts: &Options) -> Result<RLock> {
        Ok(RLock {
            core: LockCore::create(name, Kind::RLock, opts)?,
        })
    }

    /// Opens the re-entrant lock named `name`.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-rlock-open-0-{}", std::process::id());
    /// # let _l = shmipc::RLock::create(&name)?;
    /// let lock = shmipc::RLock::open(&name)?;
    /// drop(lock.acquire()?);
    /// # Ok(()) }
    /// ```
    pub fn open(name: &str) -> Result<RLock> {
        RLock::open_with(name, &Options::default())
    }

    /// Opens the re-entrant lock named `name` with `opts`.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-rlock-open_with-0-{}", std::process::id());
    /// # let _l = shmipc::RLock::create(&name)?;
    /// let lock = shmipc::RLock::open_with(&name, &shmipc::Options::new())?;
    /// # drop(lock);
    /// # Ok(()) }
    /// ```
    pub fn open_with(name: &str, opts: &Options) -> Result<RLock> {
        Ok(RLock {
            core: LockCore::open(name, Kind::RLock, opts)?,
        })
    }

    fn raw(&self) -> &RawRLock {
        let raw: *const RawLock = self.core.raw();
        // SAFETY: RawRLock is `repr(transparent)` over RawLock.
        unsafe { &*raw.cast::<RawRLock>() }
    }

    /// The name the lock was created or opened with.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-rlock-name-0-{}", std::process::id());
    /// let lock = shmipc::RLock::create(&name)?;
    /// assert_eq!(lock.name(), name);
    /// # Ok(()) }
    /// ```
    pub fn name(&self) -> &str {
        self.core.name()
    }

    /// Acquires the lock (again, if this thread holds it), waiting as long as it takes.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-rlock-acquire-{}", std::process::id());
    /// let lock = shmipc::RLock::create(&name)?;
    /// let (a, b) = (lock.acquire()?, lock.acquire()?);
    /// assert_eq!(lock.depth(), Some(2));
    /// # drop((a, b)); Ok(()) }
    /// ```
    pub fn acquire(&self) -> LockResult<RLockGuard<'_>> {
        outcome(self.new_guard(), acquire::blocking(self.raw()))
    }

    /// Acquires the lock if this thread holds it, if it is free, or if its
    /// holder is dead; never waits.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-rlock-try-{}", std::process::id());
    /// let lock = shmipc::RLock::create(&name)?;
    /// let _outer = lock.acquire()?;
    /// assert!(lock.try_acquire().is_ok()); // this thread: re-entered
    /// let other = std::thread::scope(|s| s.spawn(|| lock.try_acquire().is_err()).join());
    /// assert!(other.unwrap()); // another thread: refused
    /// # Ok(()) }
    /// ```
    pub fn try_acquire(
        &self,
    ) -> std::result::Result<RLockGuard<'_>, TryAcquireError<RLockGuard<'_>>> {
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
    /// # let name = format!("doc-rlock-timeout-{}", std::process::id());
    /// let lock = shmipc::RLock::create(&name)?;
    /// let _guard = lock.acquire_timeout(std::time::Duration::from_millis(5))?;
    /// # Ok(()) }
    /// ```
    pub fn acquire_timeout(
        &self,
        timeout: Duration,
    ) -> std::result::Result<RLockGuard<'_>, TryAcquireError<RLockGuard<'_>>> {
        try_outcome(
            acquire::timed(self.raw(), timeout),
            || self.new_guard(),
            || TryAcquireError::TimedOut {
                name: self.core.shared_name(),
                after: timeout,
            },
        )
    }

    fn new_guard(&self) -> RLockGuard<'_> {
        RLockGuard {
            lock: self,
            _not_send: PhantomData,
        }
    }

    /// Whether the lock is held by anyone right now (a snapshot).
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-rlock-is_locked-0-{}", std::process::id());
    /// let lock = shmipc::RLock::create(&name)?;
    /// let g = lock.acquire()?;
    /// assert!(lock.is_locked());
    /// # drop(g);
    /// # Ok(()) }
    /// ```
    pub fn is_locked(&self) -> bool {
        self.core.raw().is_locked()
    }

    /// How many times the calling thread holds the lock, if it does
    /// (Python's `_is_owned`, with the count).
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-rlock-depth-0-{}", std::process::id());
    /// let lock = shmipc::RLock::create(&name)?;
    /// assert_eq!(lock.depth(), None);
    /// let g = lock.acquire()?;
    /// assert_eq!(lock.depth(), Some(1));
    /// # drop(g);
    /// # Ok(()) }
    /// ```
    pub fn depth(&self) -> Option<u64> {
        self.raw().depth_held_by(&identity::current())
    }

    /// Whether a holder died holding the lock and nobody has marked the data
    /// consistent since; carries that holder's pid.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-rlock-poisoned_by-0-{}", std::process::id());
    /// let lock = shmipc::RLock::create(&name)?;
    /// assert_eq!(lock.poisoned_by(), None);
    /// # Ok(()) }
    /// ```
    pub fn poisoned_by(&self) -> Option<u32> {
        self.core.raw().poisoned_by()
    }

    /// The pid of the current holder, if any.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-rlock-holder_pid-0-{}", std::process::id());
    /// let lock = shmipc::RLock::create(&name)?;
    /// let g = lock.acquire()?;
    /// assert_eq!(lock.holder_pid(), Some(std::process::id()));
    /// # drop(g);
    /// # Ok(()) }
    /// ```
    pub fn holder_pid(&self) -> Option<u32> {
        self.core.holder_pid()
    }

    /// Whether `self` and `other` are the same lock, however each was opened.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-rlock-same_lock-0-{}", std::process::id());
    /// let lock = shmipc::RLock::create(&name)?;
    /// assert!(lock.same_lock(&shmipc::RLock::open(&name)?));
    /// # Ok(()) }
    /// ```
    pub fn same_lock(&self, other: &RLock) -> bool {
        self.core.id() == other.core.id()
    }
}

/// One level of holding an [`RLock`]; the lock is released when the last of
/// a thread's guards drops. Not `Send`: the release must come from the holder.
#[must_use = "the level is released as soon as the guard is dropped"]
pub struct RLockGuard<'a> {
    lock: &'a RLock,
    _not_send: PhantomData<*const ()>,
}

// SAFETY: the guard is kept from other threads (`!Send`) only so that its
// drop, which releases a level, runs on the holding thread. A `&RLockGuard`
// cannot release: it gives `lock()`, a `&RLock` (itself `Sync`), and
// `mark_consistent`, one atomic store; neither depends on the calling thread.
unsafe impl Sync for RLockGuard<'_> {}

impl RLockGuard<'_> {
    /// The lock this guard holds.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-rlock-lock-0-{}", std::process::id());
    /// let lock = shmipc::RLock::create(&name)?;
    /// let g = lock.acquire()?;
    /// assert!(g.lock().same_lock(&lock));
    /// # Ok(()) }
    /// ```
    pub fn lock(&self) -> &RLock {
        self.lock
    }

    /// Marks the protected data consistent after an [`OwnerDied`](crate::OwnerDied).
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-rlock-mark_consistent-0-{}", std::process::id());
    /// let lock = shmipc::RLock::create(&name)?;
    /// let g = lock.acquire()?;
    /// g.mark_consistent(); // nothing to repair here: a no-op
    /// # Ok(()) }
    /// ```
    pub fn mark_consistent(&self) {
        self.lock.core.raw().mark_consistent();
    }
}

impl Sealed for RLockGuard<'_> {
    fn lock_id(&self) -> LockId {
        self.lock.core.id()
    }
    fn raw_lock(&self) -> &RawLock {
        self.lock.core.raw()
    }
    fn unlock_for_wait(&self) -> u64 {
        // The guard proves this thread holds the lock, so this cannot fail.
        self.lock
            .raw()
            .unlock_all(&identity::current(), &FutexWake)
            .unwrap_or(1)
    }
    fn relock_after_wait(&self, depth: u64) -> Acquired {
        let me = identity::current();
        acquire_slow(None, |park| self.lock.raw().relock(&me, depth, park))
            .unwrap_or(Acquired::Clean)
    }
}

impl Guard for RLockGuard<'_> {
    fn lock_name(&self) -> &str {
        self.lock.name()
    }
}

impl fmt::Debug for RLockGuard<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RLockGuard")
            .field("lock", &self.lock.name())
            .finish()
    }
}

impl Drop for RLockGuard<'_> {
    fn drop(&mut self) {
        // Cannot fail: the guard proves this thread holds the lock.
        let _ = self.lock.raw().unlock(&identity::current(), &FutexWake);
    }
}
