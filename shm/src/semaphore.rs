//! `Semaphore` and `BoundedSemaphore` in named segments (Python's
//! `multiprocessing.Semaphore` and `BoundedSemaphore`).

use std::fmt;
use std::ops::Deref;
use std::sync::Arc;
use std::time::Duration;

use shmipc_core::header::Kind;
use shmipc_core::raw_semaphore::RawSemaphore;

use crate::error::{Corruption, Error, Result};
use crate::futex::{FutexPark, FutexWake};
use crate::object::{Object, ObjectSpec};
use crate::options::Options;

const SEMAPHORE: ObjectSpec = ObjectSpec {
    kind: Kind::Semaphore,
    extra: 0,
};
const BOUNDED: ObjectSpec = ObjectSpec {
    kind: Kind::BoundedSemaphore,
    extra: 0,
};

/// A counting semaphore shared by processes, like Python's
/// `multiprocessing.Semaphore`. Permits are not owned: any process may release.
///
/// No syscall when a permit is free or nobody waits; a blocked acquirer spins
/// briefly, then parks on a futex. Besides the plain `acquire` / `release`
/// pair there is a guard form ([`Semaphore::acquire_guard`]) that gives the
/// permit back when dropped, also when the code holding it panics.
///
/// ```
/// # extern crate shmipc_shm as shmipc;
/// # fn main() -> Result<(), shmipc::Error> {
/// let name = format!("doc-sem-{}", std::process::id());
/// let slots = shmipc::Semaphore::create(&name, 2)?;
/// slots.acquire();
/// slots.try_acquire()?;
/// assert!(matches!(slots.try_acquire(), Err(shmipc::AcquireError::WouldBlock { .. })));
/// slots.release()?;
/// assert_eq!(slots.value(), 1);
/// # Ok(()) }
/// ```
pub struct Semaphore {
    object: Object<RawSemaphore>,
    bound: Option<u32>,
}

impl fmt::Debug for Semaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Semaphore")
            .field("name", &self.name())
            .field("value", &self.value())
            .field("bound", &self.bound)
            .finish()
    }
}

fn permits(value: u64, name: &str) -> Result<u32> {
    u32::try_from(value).map_err(|_| {
        Error::corrupt(
            name,
            Corruption::Parameter {
                kind: Kind::Semaphore,
                found: value,
                layout: None,
            },
        )
    })
}

impl Semaphore {
    /// Creates a semaphore named `name` with `value` permits.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-semaphore-create-0-{}", std::process::id());
    /// let s = shmipc::Semaphore::create(&name, 2)?;
    /// assert_eq!(s.value(), 2);
    /// # Ok(()) }
    /// ```
    pub fn create(name: &str, value: u32) -> Result<Semaphore> {
        Semaphore::create_with(name, value, &Options::default())
    }

    /// Creates a semaphore named `name` with `value` permits, with `opts`.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-semaphore-create_with-0-{}", std::process::id());
    /// let s = shmipc::Semaphore::create_with(&name, 2, &shmipc::Options::new())?;
    /// assert_eq!(s.value(), 2);
    /// # Ok(()) }
    /// ```
    pub fn create_with(name: &str, value: u32, opts: &Options) -> Result<Semaphore> {
        Semaphore::make(name, value, &SEMAPHORE, None, opts)
    }

    fn make(
        name: &str,
        value: u32,
        spec: &ObjectSpec,
        bound: Option<u32>,
        opts: &Options,
    ) -> Result<Semaphore> {
        let object = Object::create(
            name,
            spec,
            u64::from(value),
            opts,
            |raw: &RawSemaphore, _| {
                // Zero permits is all-zero bytes; add the initial ones.
                let _ = raw.release(value, None, &FutexWake);
            },
        )?;
        Ok(Semaphore { object, bound })
    }

    /// Opens the semaphore named `name`.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-semaphore-open-0-{}", std::process::id());
    /// # let _s = shmipc::Semaphore::create(&name, 2)?;
    /// let s = shmipc::Semaphore::open(&name)?;
    /// s.acquire();
    /// # Ok(()) }
    /// ```
    pub fn open(name: &str) -> Result<Semaphore> {
        Semaphore::open_with(name, &Options::default())
    }

    /// Opens the semaphore named `name` with `opts`.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-semaphore-open_with-0-{}", std::process::id());
    /// # let _s = shmipc::Semaphore::create(&name, 2)?;
    /// let s = shmipc::Semaphore::open_with(&name, &shmipc::Options::new())?;
    /// # drop(s);
    /// # Ok(()) }
    /// ```
    pub fn open_with(name: &str, opts: &Options) -> Result<Semaphore> {
        let object = Object::open(name, &SEMAPHORE, opts)?;
        Ok(Semaphore {
            object,
            bound: None,
        })
    }

    /// The semaphore's name.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-semaphore-name-0-{}", std::process::id());
    /// let s = shmipc::Semaphore::create(&name, 2)?;
    /// assert_eq!(s.name(), name);
    /// # Ok(()) }
    /// ```
    pub fn name(&self) -> &str {
        self.object.name()
    }

    /// Takes a permit, waiting as long as it takes.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-sem-acquire-{}", std::process::id());
    /// let s = shmipc::Semaphore::create(&name, 1)?;
    /// s.acquire();
    /// assert_eq!(s.value(), 0);
    /// # Ok(()) }
    /// ```
    pub fn acquire(&self) {
        let raw = self.object.raw();
        if !raw.try_acquire() {
            let mut park = FutexPark::new(None);
            while raw.acquire(&mut park).is_err() {}
        }
    }

    /// Takes a permit if one is free; [`AcquireError::WouldBlock`] otherwise.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-sem-try-{}", std::process::id());
    /// let s = shmipc::Semaphore::create(&name, 0)?;
    /// assert!(matches!(s.try_acquire(), Err(shmipc::AcquireError::WouldBlock { .. })));
    /// # Ok(()) }
    /// ```
    pub fn try_acquire(&self) -> std::result::Result<(), AcquireError> {
        if self.object.raw().try_acquire() {
            Ok(())
        } else {
            Err(AcquireError::WouldBlock {
                name: self.object.shared_name(),
            })
        }
    }

    /// Takes a permit, waiting at most `timeout`; [`AcquireError::TimedOut`]
    /// otherwise.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-sem-timeout-{}", std::process::id());
    /// let s = shmipc::Semaphore::create(&name, 0)?;
    /// let waited = s.acquire_timeout(std::time::Duration::from_millis(5));
    /// assert!(matches!(waited, Err(shmipc::AcquireError::TimedOut { .. })));
    /// # Ok(()) }
    /// ```
    pub fn acquire_timeout(&self, timeout: Duration) -> std::result::Result<(), AcquireError> {
        let raw = self.object.raw();
        if raw.try_acquire() || raw.acquire(&mut FutexPark::timeout(Some(timeout))).is_ok() {
            return Ok(());
        }
        Err(AcquireError::TimedOut {
            name: self.object.shared_name(),
            after: timeout,
        })
    }

    /// Takes a permit, waiting as long as it takes, and returns it when the
    /// guard is dropped: also when the code holding it panics.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-sem-guard-{}", std::process::id());
    /// let s = shmipc::Semaphore::create(&name, 1)?;
    /// let crashed = std::panic::catch_unwind(|| {
    ///     let _permit = s.acquire_guard();
    ///     panic!("the work failed");
    /// });
    /// assert!(crashed.is_err());
    /// assert_eq!(s.value(), 1); // the permit came back
    /// # Ok(()) }
    /// ```
    pub fn acquire_guard(&self) -> SemaphoreGuard<'_> {
        self.acquire();
        SemaphoreGuard { semaphore: self }
    }

    /// As [`try_acquire`](Self::try_acquire), with a guard that returns
    /// the permit.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-sem-try-guard-{}", std::process::id());
    /// let s = shmipc::Semaphore::create(&name, 1)?;
    /// let permit = s.try_acquire_guard()?;
    /// assert!(s.try_acquire_guard().is_err());
    /// drop(permit);
    /// assert!(s.try_acquire_guard().is_ok());
    /// # Ok(()) }
    /// ```
    pub fn try_acquire_guard(&self) -> std::result::Result<SemaphoreGuard<'_>, AcquireError> {
        self.try_acquire()
            .map(|()| SemaphoreGuard { semaphore: self })
    }

    /// As [`acquire_timeout`](Self::acquire_timeout), with a guard that
    /// returns the permit.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-sem-timeout-guard-{}", std::process::id());
    /// let s = shmipc::Semaphore::create(&name, 1)?;
    /// let _permit = s.acquire_guard_timeout(std::time::Duration::from_millis(5))?;
    /// # Ok(()) }
    /// ```
    pub fn acquire_guard_timeout(
        &self,
        timeout: Duration,
    ) -> std::result::Result<SemaphoreGuard<'_>, AcquireError> {
        self.acquire_timeout(timeout)
            .map(|()| SemaphoreGuard { semaphore: self })
    }

    /// Returns one permit.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-semaphore-release-0-{}", std::process::id());
    /// let s = shmipc::Semaphore::create(&name, 0)?;
    /// s.release()?;
    /// assert_eq!(s.value(), 1);
    /// # Ok(()) }
    /// ```
    pub fn release(&self) -> Result<()> {
        self.release_n(1)
    }

    /// Returns `n` permits at once (Python 3.9's `release(n)`). For a bounded
    /// semaphore, fails with [`Error::OverRelease`] and changes nothing if
    /// that would pass the initial value; for a plain one, with
    /// [`Error::SemaphoreOverflow`] if it would pass `u32::MAX`.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-sem-release-n-{}", std::process::id());
    /// let s = shmipc::Semaphore::create(&name, 0)?;
    /// s.release_n(3)?;
    /// assert_eq!(s.value(), 3);
    /// assert!(matches!(s.release_n(u32::MAX), Err(shmipc::Error::SemaphoreOverflow { .. })));
    /// # Ok(()) }
    /// ```
    pub fn release_n(&self, n: u32) -> Result<()> {
        self.object
            .raw()
            .release(n, self.bound, &FutexWake)
            .map_err(|e| match self.bound {
                Some(bound) => Error::OverRelease {
                    name: self.name().to_owned(),
                    value: e.value,
                    adding: e.adding,
                    bound,
                },
                None => Error::SemaphoreOverflow {
                    name: self.name().to_owned(),
                    value: e.value,
                    adding: e.adding,
                },
            })
    }

    /// Permits available now (Python's `get_value()`; a snapshot).
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-semaphore-value-0-{}", std::process::id());
    /// let s = shmipc::Semaphore::create(&name, 2)?;
    /// s.acquire();
    /// assert_eq!(s.value(), 1);
    /// # Ok(()) }
    /// ```
    pub fn value(&self) -> u32 {
        self.object.raw().value()
    }
}

/// A semaphore that refuses to be released past its initial value, like
/// Python's `multiprocessing.BoundedSemaphore` but exact: the check and the
/// release are one atomic step, so racing releases cannot overshoot.
///
/// Derefs to [`Semaphore`] for `acquire`, `release` and the rest.
///
/// ```
/// # extern crate shmipc_shm as shmipc;
/// # fn main() -> Result<(), shmipc::Error> {
/// let name = format!("doc-bsem-{}", std::process::id());
/// let pool = shmipc::BoundedSemaphore::create(&name, 1)?;
/// assert!(matches!(pool.release(), Err(shmipc::Error::OverRelease { bound: 1, .. })));
/// pool.acquire();
/// pool.release()?;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct BoundedSemaphore {
    inner: Semaphore,
}

impl BoundedSemaphore {
    /// Creates a bounded semaphore named `name` with `value` permits, which is also its bound.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-semaphore-create-1-{}", std::process::id());
    /// let s = shmipc::BoundedSemaphore::create(&name, 2)?;
    /// assert_eq!(s.bound(), 2);
    /// # Ok(()) }
    /// ```
    pub fn create(name: &str, value: u32) -> Result<BoundedSemaphore> {
        BoundedSemaphore::create_with(name, value, &Options::default())
    }

    /// Creates a bounded semaphore with `opts`.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-semaphore-create_with-1-{}", std::process::id());
    /// let s = shmipc::BoundedSemaphore::create_with(&name, 2, &shmipc::Options::new())?;
    /// assert_eq!(s.bound(), 2);
    /// # Ok(()) }
    /// ```
    pub fn create_with(name: &str, value: u32, opts: &Options) -> Result<BoundedSemaphore> {
        Ok(BoundedSemaphore {
            inner: Semaphore::make(name, value, &BOUNDED, Some(value), opts)?,
        })
    }

    /// Opens the bounded semaphore named `name`.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-semaphore-open-1-{}", std::process::id());
    /// # let _s = shmipc::BoundedSemaphore::create(&name, 2)?;
    /// let s = shmipc::BoundedSemaphore::open(&name)?;
    /// assert_eq!(s.bound(), 2);
    /// # Ok(()) }
    /// ```
    pub fn open(name: &str) -> Result<BoundedSemaphore> {
        BoundedSemaphore::open_with(name, &Options::default())
    }

    /// Opens the bounded semaphore named `name` with `opts`.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-semaphore-open_with-1-{}", std::process::id());
    /// # let _s = shmipc::BoundedSemaphore::create(&name, 2)?;
    /// let s = shmipc::BoundedSemaphore::open_with(&name, &shmipc::Options::new())?;
    /// # drop(s);
    /// # Ok(()) }
    /// ```
    pub fn open_with(name: &str, opts: &Options) -> Result<BoundedSemaphore> {
        let object = Object::open(name, &BOUNDED, opts)?;
        let bound = permits(object.param(), name)?;
        Ok(BoundedSemaphore {
            inner: Semaphore {
                object,
                bound: Some(bound),
            },
        })
    }

    /// The bound: the initial value.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-semaphore-bound-0-{}", std::process::id());
    /// let s = shmipc::BoundedSemaphore::create(&name, 3)?;
    /// assert_eq!(s.bound(), 3);
    /// # Ok(()) }
    /// ```
    pub fn bound(&self) -> u32 {
        self.inner.bound.unwrap_or(u32::MAX)
    }
}

impl Deref for BoundedSemaphore {
    type Target = Semaphore;
    fn deref(&self) -> &Semaphore {
        &self.inner
    }
}

/// A permit of a [`Semaphore`], given back when dropped (see
/// [`Semaphore::acquire_guard`]).
#[must_use = "the permit is given back as soon as the guard is dropped"]
#[derive(Debug)]
pub struct SemaphoreGuard<'a> {
    semaphore: &'a Semaphore,
}

impl SemaphoreGuard<'_> {
    /// The semaphore the permit belongs to.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-sem-guard-of-{}", std::process::id());
    /// let s = shmipc::Semaphore::create(&name, 1)?;
    /// let permit = s.acquire_guard();
    /// assert_eq!(permit.semaphore().value(), 0);
    /// # Ok(()) }
    /// ```
    pub fn semaphore(&self) -> &Semaphore {
        self.semaphore
    }

    /// Keeps the permit: the guard is dropped without giving it back (to be
    /// released later with [`Semaphore::release`], by any process).
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-sem-guard-forget-{}", std::process::id());
    /// let s = shmipc::Semaphore::create(&name, 1)?;
    /// s.acquire_guard().forget();
    /// assert_eq!(s.value(), 0);
    /// s.release()?;
    /// # Ok(()) }
    /// ```
    pub fn forget(self) {
        std::mem::forget(self);
    }
}

impl Drop for SemaphoreGuard<'_> {
    fn drop(&mut self) {
        // A permit taken can always be given back, bounded or not: the count
        // was at most bound - 1 since. A peer that scribbled on the count is
        // the only way this fails, and a drop has no one to tell.
        let _ = self.semaphore.release();
    }
}

/// Why a semaphore acquisition did not take a permit.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum AcquireError {
    /// `try_acquire` found no permit.
    WouldBlock {
        /// The semaphore's name.
        name: Arc<str>,
    },
    /// `acquire_timeout` waited its whole timeout.
    TimedOut {
        /// The semaphore's name.
        name: Arc<str>,
        /// The timeout given.
        after: Duration,
    },
}

impl fmt::Display for AcquireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AcquireError::WouldBlock { name } => write!(f, "semaphore '{name}' has no permit free"),
            AcquireError::TimedOut { name, after } => write!(
                f,
                "acquire_timeout on semaphore '{name}' timed out after {after:?}"
            ),
        }
    }
}

impl std::error::Error for AcquireError {}

impl From<AcquireError> for Error {
    fn from(e: AcquireError) -> Error {
        match e {
            AcquireError::WouldBlock { name } => Error::WouldBlock {
                name: name.to_string(),
                op: "try_acquire",
            },
            AcquireError::TimedOut { name, after } => Error::TimedOut {
                name: name.to_string(),
                op: "acquire_timeout",
                after,
            },
        }
    }
}
