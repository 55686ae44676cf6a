//! `Semaphore` and `BoundedSemaphore` in named segments (Python's
//! `multiprocessing.Semaphore` and `BoundedSemaphore`).

use std::fmt;
use std::ops::Deref;
use std::time::Duration;

use shmipc_core::header::Kind;
use shmipc_core::raw_semaphore::RawSemaphore;

use crate::error::{Error, Result};
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
/// briefly, then parks on a futex.
///
/// ```
/// # extern crate shmipc_shm as shmipc;
/// # fn main() -> Result<(), shmipc::Error> {
/// let name = format!("doc-sem-{}", std::process::id());
/// let slots = shmipc::Semaphore::create(&name, 2)?;
/// slots.acquire();
/// slots.try_acquire()?;
/// assert!(slots.try_acquire().is_err()); // none left
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
    u32::try_from(value)
        .map_err(|_| Error::corrupt(name, format!("semaphore value {value} exceeds u32")))
}

impl Semaphore {
    /// Creates a semaphore named `name` with `value` permits.
    pub fn create(name: &str, value: u32) -> Result<Semaphore> {
        Semaphore::create_with(name, value, &Options::default())
    }

    /// Creates a semaphore named `name` with `value` permits, with `opts`.
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
    pub fn open(name: &str) -> Result<Semaphore> {
        Semaphore::open_with(name, &Options::default())
    }

    /// Opens the semaphore named `name` with `opts`.
    pub fn open_with(name: &str, opts: &Options) -> Result<Semaphore> {
        let object = Object::open(name, &SEMAPHORE, opts)?;
        Ok(Semaphore {
            object,
            bound: None,
        })
    }

    /// The semaphore's name.
    pub fn name(&self) -> &str {
        self.object.name()
    }

    /// Takes a permit, waiting as long as it takes.
    pub fn acquire(&self) {
        let raw = self.object.raw();
        if !raw.try_acquire() {
            let mut park = FutexPark::new(None);
            while raw.acquire(&mut park).is_err() {}
        }
    }

    /// Takes a permit if one is free; [`Error::WouldBlock`] otherwise.
    pub fn try_acquire(&self) -> Result<()> {
        if self.object.raw().try_acquire() {
            Ok(())
        } else {
            Err(Error::WouldBlock {
                name: self.name().to_owned(),
                op: "try_acquire",
            })
        }
    }

    /// Takes a permit, waiting at most `timeout`; [`Error::TimedOut`] otherwise.
    pub fn acquire_timeout(&self, timeout: Duration) -> Result<()> {
        let raw = self.object.raw();
        if raw.try_acquire() || raw.acquire(&mut FutexPark::timeout(Some(timeout))).is_ok() {
            return Ok(());
        }
        Err(Error::TimedOut {
            name: self.name().to_owned(),
            op: "acquire_timeout",
            after: timeout,
        })
    }

    /// Returns one permit.
    pub fn release(&self) -> Result<()> {
        self.release_n(1)
    }

    /// Returns `n` permits at once (Python 3.9's `release(n)`). For a bounded
    /// semaphore, fails with [`Error::OverRelease`] and changes nothing if
    /// that would pass the initial value.
    pub fn release_n(&self, n: u32) -> Result<()> {
        self.object
            .raw()
            .release(n, self.bound, &FutexWake)
            .map_err(|e| Error::OverRelease {
                name: self.name().to_owned(),
                value: e.value,
                adding: e.adding,
                bound: e.bound,
            })
    }

    /// Permits available now (Python's `get_value()`; a snapshot).
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
    pub fn create(name: &str, value: u32) -> Result<BoundedSemaphore> {
        BoundedSemaphore::create_with(name, value, &Options::default())
    }

    /// Creates a bounded semaphore with `opts`.
    pub fn create_with(name: &str, value: u32, opts: &Options) -> Result<BoundedSemaphore> {
        Ok(BoundedSemaphore {
            inner: Semaphore::make(name, value, &BOUNDED, Some(value), opts)?,
        })
    }

    /// Opens the bounded semaphore named `name`.
    pub fn open(name: &str) -> Result<BoundedSemaphore> {
        BoundedSemaphore::open_with(name, &Options::default())
    }

    /// Opens the bounded semaphore named `name` with `opts`.
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
