//! `Value<T>`: one plain-data value behind a lock (Python's `multiprocessing.Value`).

use std::fmt;
use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};
use std::ptr::NonNull;
use std::time::Duration;

use shmipc_core::header::Kind;

use crate::cells::{CellLock, Cells, Init};
use crate::error::Result;
use crate::lock::{
    delegate_guard, map_result, map_try, Lock, LockGuard, LockKind, LockResult, TryAcquireError,
};
use crate::options::Options;
use crate::plain::Plain;
use crate::rlock::RLock;
use crate::shared_guard::SharedGuard;

/// One `T` in shared memory, behind a lock, like Python's `multiprocessing.Value`.
///
/// The lock is a [`Lock`] (the default; the guard derefs to `T`) or an
/// [`RLock`] (`Value<T, RLock>`; the guard copies values in and out), its own or
/// one shared with other objects ([`CellLock::Shared`]). For a value with no
/// lock, see [`RawValue`](crate::RawValue).
///
/// ```
/// # extern crate shmipc_shm as shmipc;
/// # fn main() -> Result<(), shmipc::Error> {
/// let name = format!("doc-value-{}", std::process::id());
/// let counter = shmipc::Value::create(&name, 0u64)?;
/// let same = shmipc::Value::<u64>::open(&name)?;   // from any process
/// *counter.lock()? += 41;
/// *same.lock()? += 1;
/// assert_eq!(*counter.lock()?, 42);
/// # Ok(()) }
/// ```
pub struct Value<T: Plain, L: LockKind = Lock> {
    cells: Cells<T, L>,
    lock: L,
}

impl<T: Plain, L: LockKind> Value<T, L> {
    /// Creates a value named `name` holding `initial`, guarded by `lock` (its
    /// own lock of type `L`, or a shared one).
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-value-create_with-0-{}", std::process::id());
    /// let v = shmipc::Value::<u32>::create_with(&name, 5, shmipc::CellLock::Own, &shmipc::Options::new())?;
    /// assert_eq!(*v.lock()?, 5);
    /// # Ok(()) }
    /// ```
    pub fn create_with(
        name: &str,
        initial: T,
        lock: CellLock<'_, L>,
        opts: &Options,
    ) -> Result<Value<T, L>> {
        let cells = Cells::create(name, Kind::Value, Init::Copy(&[initial]), Some(lock), opts)?;
        Value::from_cells(cells)
    }

    /// Opens the value named `name` with `opts`. Fails with
    /// [`Error::TypeMismatch`](crate::Error::TypeMismatch) if it holds another
    /// type, [`Error::LockKindMismatch`](crate::Error::LockKindMismatch) if another lock type guards it.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-value-open_with-0-{}", std::process::id());
    /// # let _v = shmipc::Value::create(&name, 1u8)?;
    /// let v = shmipc::Value::<u8>::open_with(&name, &shmipc::Options::new())?;
    /// assert_eq!(*v.lock()?, 1);
    /// # Ok(()) }
    /// ```
    pub fn open_with(name: &str, opts: &Options) -> Result<Value<T, L>> {
        Value::from_cells(Cells::open(name, Kind::Value, opts)?)
    }

    fn from_cells(cells: Cells<T, L>) -> Result<Value<T, L>> {
        let (cells, lock) = cells.into_locked()?;
        Ok(Value { cells, lock })
    }

    /// The value's name.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-value-name-0-{}", std::process::id());
    /// let v = shmipc::Value::create(&name, 1u8)?;
    /// assert_eq!(v.name(), name);
    /// # Ok(()) }
    /// ```
    pub fn name(&self) -> &str {
        self.cells.name()
    }

    /// The lock that guards the value (Python's `get_lock()`).
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-value-get_lock-0-{}", std::process::id());
    /// let v = shmipc::Value::create(&name, 1u8)?;
    /// let held = v.get_lock().acquire()?;
    /// assert!(v.try_lock().is_err());
    /// # drop(held);
    /// # Ok(()) }
    /// ```
    pub fn get_lock(&self) -> &L {
        &self.lock
    }
}

impl<T: Plain> Value<T> {
    /// Creates a value named `name` holding `initial`, with a [`Lock`] of its own.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-value-create-0-{}", std::process::id());
    /// let v = shmipc::Value::create(&name, 0.5f64)?;
    /// assert_eq!(*v.lock()?, 0.5);
    /// # Ok(()) }
    /// ```
    pub fn create(name: &str, initial: T) -> Result<Value<T>> {
        Value::create_with(name, initial, CellLock::Own, &Options::default())
    }

    /// Opens the value named `name` (guarded by a [`Lock`]).
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-value-open-0-{}", std::process::id());
    /// # let _v = shmipc::Value::create(&name, 1u64)?;
    /// let v = shmipc::Value::<u64>::open(&name)?;
    /// *v.lock()? += 1;
    /// # Ok(()) }
    /// ```
    pub fn open(name: &str) -> Result<Value<T>> {
        Value::open_with(name, &Options::default())
    }

    /// Locks the value; the guard derefs to `T`.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-value-lock-0-{}", std::process::id());
    /// let v = shmipc::Value::create(&name, 1u64)?;
    /// *v.lock()? *= 10;
    /// assert_eq!(*v.lock()?, 10);
    /// # Ok(()) }
    /// ```
    pub fn lock(&self) -> LockResult<ValueGuard<'_, T>> {
        map_result(self.lock.acquire(), |g| self.wrap(g))
    }

    /// Locks the value if its lock is free, without waiting.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-value-try_lock-0-{}", std::process::id());
    /// let v = shmipc::Value::create(&name, 1u64)?;
    /// let held = v.try_lock()?;
    /// assert!(v.try_lock().is_err());
    /// # drop(held);
    /// # Ok(()) }
    /// ```
    pub fn try_lock(
        &self,
    ) -> std::result::Result<ValueGuard<'_, T>, TryAcquireError<ValueGuard<'_, T>>> {
        map_try(self.lock.try_acquire(), |g| self.wrap(g))
    }

    /// Locks the value, waiting at most `timeout`.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-value-lock_timeout-0-{}", std::process::id());
    /// let v = shmipc::Value::create(&name, 1u64)?;
    /// *v.lock_timeout(std::time::Duration::from_millis(10))? += 1;
    /// # Ok(()) }
    /// ```
    pub fn lock_timeout(
        &self,
        timeout: Duration,
    ) -> std::result::Result<ValueGuard<'_, T>, TryAcquireError<ValueGuard<'_, T>>> {
        map_try(self.lock.acquire_timeout(timeout), |g| self.wrap(g))
    }

    /// The value, through a guard of its (shared) lock acquired elsewhere: how
    /// several cells are updated under one acquisition. Fails with
    /// [`Error::WrongLock`](crate::Error::WrongLock) if `guard` holds another lock.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-value-access-0-{}", std::process::id());
    /// let lock = shmipc::Lock::create(&format!("{name}-lock"))?;
    /// let v = shmipc::Value::<u64>::create_with(&name, 0, shmipc::CellLock::Shared(&lock), &shmipc::Options::new())?;
    /// let mut guard = lock.acquire()?;
    /// *v.access(&mut guard)? = 3;
    /// # Ok(()) }
    /// ```
    pub fn access<'g>(&'g self, guard: &'g mut LockGuard<'_>) -> Result<&'g mut T> {
        self.cells.check_guard(&self.lock, guard)?;
        // SAFETY: the guard proves this thread holds the value's lock, and the
        // `&mut` borrow of the guard keeps any other access through it away for 'g.
        Ok(unsafe { &mut *self.cells.data().as_ptr() })
    }

    fn wrap<'a>(&'a self, guard: LockGuard<'a>) -> ValueGuard<'a, T> {
        ValueGuard {
            guard,
            data: self.cells.data(),
            _marker: PhantomData,
        }
    }
}

impl<T: Plain> Value<T, RLock> {
    /// Locks the value (again, if this thread holds its RLock); the guard
    /// copies the value in and out.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-value-lock-1-{}", std::process::id());
    /// let v = shmipc::Value::<u64, shmipc::RLock>::create_with(&name, 1, shmipc::CellLock::Own, &shmipc::Options::new())?;
    /// let g = v.lock()?;
    /// g.update(|x| x + 1);
    /// assert_eq!(g.get(), 2);
    /// # Ok(()) }
    /// ```
    pub fn lock(&self) -> LockResult<SharedGuard<'_, T>> {
        map_result(self.lock.acquire(), |g| SharedGuard::new(g, &self.cells))
    }

    /// Locks the value without waiting.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-value-try_lock-1-{}", std::process::id());
    /// let v = shmipc::Value::<u64, shmipc::RLock>::create_with(&name, 1, shmipc::CellLock::Own, &shmipc::Options::new())?;
    /// let outer = v.try_lock()?;
    /// let inner = v.try_lock()?; // the same thread re-enters
    /// # drop((inner, outer));
    /// # Ok(()) }
    /// ```
    pub fn try_lock(
        &self,
    ) -> std::result::Result<SharedGuard<'_, T>, TryAcquireError<SharedGuard<'_, T>>> {
        map_try(self.lock.try_acquire(), |g| {
            SharedGuard::new(g, &self.cells)
        })
    }

    /// Locks the value, waiting at most `timeout`.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-value-lock_timeout-1-{}", std::process::id());
    /// let v = shmipc::Value::<u64, shmipc::RLock>::create_with(&name, 1, shmipc::CellLock::Own, &shmipc::Options::new())?;
    /// assert_eq!(v.lock_timeout(std::time::Duration::from_millis(10))?.get(), 1);
    /// # Ok(()) }
    /// ```
    pub fn lock_timeout(
        &self,
        timeout: Duration,
    ) -> std::result::Result<SharedGuard<'_, T>, TryAcquireError<SharedGuard<'_, T>>> {
        map_try(self.lock.acquire_timeout(timeout), |g| {
            SharedGuard::new(g, &self.cells)
        })
    }
}

impl<T: Plain, L: LockKind> fmt::Debug for Value<T, L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Value")
            .field("name", &self.name())
            .field("lock", &self.lock.lock_name())
            .field("lock_kind", &L::NAME)
            .finish_non_exhaustive()
    }
}

/// Exclusive access to a [`Value`]'s `T` while its [`Lock`] is held.
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct ValueGuard<'a, T: Plain> {
    guard: LockGuard<'a>,
    data: NonNull<T>,
    _marker: PhantomData<&'a mut T>,
}

// SAFETY: `&ValueGuard` gives `&T` (`T: Sync`, being `Plain`) and the
// `&LockGuard` inside, which is `Sync` (see there); the `!Send` of that guard
// keeps the release, the drop, on the holding thread.
unsafe impl<T: Plain> Sync for ValueGuard<'_, T> {}

impl<T: Plain> ValueGuard<'_, T> {
    /// Marks the value consistent after an [`OwnerDied`](crate::OwnerDied).
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-value-mark_consistent-0-{}", std::process::id());
    /// let v = shmipc::Value::create(&name, 1u64)?;
    /// let g = v.lock()?;
    /// g.mark_consistent(); // nothing to repair here: a no-op
    /// # Ok(()) }
    /// ```
    pub fn mark_consistent(&self) {
        self.guard.mark_consistent();
    }
}

delegate_guard!(ValueGuard<'_, T>, guard, T: Plain);

impl<T: Plain> Deref for ValueGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the lock is held for the guard's life, and every process that
        // writes the value holds it too; `data` is aligned and inside the mapping.
        unsafe { self.data.as_ref() }
    }
}

impl<T: Plain> DerefMut for ValueGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in `deref`, and `&mut self` makes this the only reference.
        unsafe { self.data.as_mut() }
    }
}

impl<T: Plain + fmt::Debug> fmt::Debug for ValueGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}
