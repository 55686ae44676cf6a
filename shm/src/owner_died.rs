//! The reports of a lock acquisition that did not simply succeed:
//! [`OwnerDied`] (acquired, but the previous holder died), and
//! [`TryAcquireError`] (that, or held, or timed out), with the helpers that
//! carry them from a lock's guard to a cell's.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::error::Error;
use crate::lock::{sealed, Guard};

/// A lock whose holder died while holding it: the acquisition succeeded, but the
/// data it protects may be half-updated.
///
/// Like [`std::sync::PoisonError`], it carries the guard, so the caller decides:
/// [`OwnerDied::recover`] takes the guard and marks the data consistent again;
/// [`OwnerDied::into_inner`] takes the guard and leaves the lock marked, so that
/// the next acquirer hears of it too. Dropping it releases the lock, still marked.
///
/// # With `?`
///
/// The guard inside borrows the lock, as std's `PoisonError<MutexGuard>`
/// borrows the mutex, so an `OwnerDied` cannot travel far: it is not
/// `'static`, and `?` into `Box<dyn Error>` does not compile. `?` into
/// [`shmipc::Error`](Error) does: the conversion drops the guard (releasing
/// the lock, still marked) and keeps the dead holder's pid
/// ([`Error::OwnerDied`]). To go on with the lock instead, in one call:
///
/// ```
/// # extern crate shmipc_shm as shmipc;
/// # fn main() -> Result<(), shmipc::Error> {
/// # let name = format!("doc-owner-died-{}", std::process::id());
/// let lock = shmipc::Lock::create(&name)?;
/// // Take the lock whatever happened, and declare the data consistent:
/// let guard = lock.acquire().unwrap_or_else(shmipc::OwnerDied::recover);
/// // Or take it and leave the mark for the next acquirer to see:
/// # drop(guard);
/// let guard = lock.acquire().unwrap_or_else(shmipc::OwnerDied::into_inner);
/// # drop(guard);
/// // Or give up, as an error (the lock is released, still marked):
/// let guard = lock.acquire()?;
/// # drop(guard); Ok(()) }
/// ```
#[must_use = "the lock's previous holder died; decide whether the data is consistent"]
pub struct OwnerDied<G: Guard> {
    guard: G,
    pid: u32,
}

impl<G: Guard> OwnerDied<G> {
    /// The pid of the holder that died.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-lock-pid-0-{}", std::process::id());
    /// let lock = shmipc::Lock::create(&name)?;
    /// match lock.acquire() {
    ///     Ok(guard) => drop(guard),
    ///     Err(died) => eprintln!("holder {} died", died.pid()),
    /// }
    /// # Ok(()) }
    /// ```
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// The guard, leaving the lock marked inconsistent.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-lock-into_inner-0-{}", std::process::id());
    /// let lock = shmipc::Lock::create(&name)?;
    /// let guard = lock.acquire().unwrap_or_else(shmipc::OwnerDied::into_inner);
    /// # drop(guard);
    /// # Ok(()) }
    /// ```
    pub fn into_inner(self) -> G {
        self.guard
    }

    /// The guard, after marking the data consistent again: later acquirers get
    /// the lock without an `OwnerDied`.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-lock-recover-0-{}", std::process::id());
    /// let lock = shmipc::Lock::create(&name)?;
    /// let guard = lock.acquire().unwrap_or_else(shmipc::OwnerDied::recover);
    /// # drop(guard);
    /// # Ok(()) }
    /// ```
    pub fn recover(self) -> G {
        sealed::Sealed::raw_lock(&self.guard).mark_consistent();
        self.guard
    }

    /// The guard, by reference, to inspect the data before deciding.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-lock-get_ref-0-{}", std::process::id());
    /// let lock = shmipc::Lock::create(&name)?;
    /// if let Err(died) = lock.acquire() {
    ///     println!("held by {}", died.get_ref().lock().name());
    /// }
    /// # Ok(()) }
    /// ```
    pub fn get_ref(&self) -> &G {
        &self.guard
    }

    /// The guard, by mutable reference, to repair the data before deciding.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-lock-get_mut-0-{}", std::process::id());
    /// let lock = shmipc::Lock::create(&name)?;
    /// if let Err(mut died) = lock.acquire() {
    ///     let _guard: &mut shmipc::LockGuard<'_> = died.get_mut();
    /// }
    /// # Ok(()) }
    /// ```
    pub fn get_mut(&mut self) -> &mut G {
        &mut self.guard
    }
}

impl<G: Guard> OwnerDied<G> {
    /// The report of `guard`, taken from a holder of process `pid` that died.
    pub(crate) fn new(guard: G, pid: u32) -> OwnerDied<G> {
        OwnerDied { guard, pid }
    }

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
            .field("lock", &self.guard.lock_name())
            .field("pid", &self.pid)
            .finish_non_exhaustive()
    }
}

impl<G: Guard> fmt::Display for OwnerDied<G> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the holder of lock '{}' (pid {}) died holding it",
            self.guard.lock_name(),
            self.pid
        )
    }
}

impl<G: Guard> std::error::Error for OwnerDied<G> {}

impl<G: Guard> From<OwnerDied<G>> for Error {
    fn from(e: OwnerDied<G>) -> Error {
        Error::OwnerDied {
            name: e.guard.lock_name().to_owned(),
            pid: e.pid,
        }
    }
}

/// The result of a blocking acquisition: the guard, or the guard wrapped in
/// [`OwnerDied`].
pub type LockResult<G> = std::result::Result<G, OwnerDied<G>>;

/// Why a `try_` or `_timeout` acquisition did not hand out a plain guard.
#[derive(Debug)]
#[non_exhaustive]
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
