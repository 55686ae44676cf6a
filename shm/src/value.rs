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
    delegate_guard, map_result, map_try, Lock, LockGuard, LockResult, TryAcquireError,
};
use crate::options::Options;
use crate::plain::Plain;

/// One `T` in shared memory, behind a lock, like Python's `multiprocessing.Value`.
///
/// The lock is its own (the default) or one shared with other cells
/// ([`CellLock::Shared`]); for a value with no lock, see [`RawValue`](crate::RawValue).
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
pub struct Value<T: Plain> {
    cells: Cells<T>,
    lock: Lock,
}

impl<T: Plain> Value<T> {
    /// Creates a value named `name` holding `initial`, with a lock of its own.
    pub fn create(name: &str, initial: T) -> Result<Value<T>> {
        Value::create_with(name, initial, CellLock::Own, &Options::default())
    }

    /// Creates a value named `name` holding `initial`, guarded by `lock`.
    pub fn create_with(
        name: &str,
        initial: T,
        lock: CellLock<'_>,
        opts: &Options,
    ) -> Result<Value<T>> {
        let cells = Cells::create(name, Kind::Value, Init::Copy(&[initial]), Some(lock), opts)?;
        Value::from_cells(cells)
    }

    /// Opens the value named `name`; fails with [`Error::TypeMismatch`] if it
    /// holds another type.
    pub fn open(name: &str) -> Result<Value<T>> {
        Value::open_with(name, &Options::default())
    }

    /// Opens the value named `name` with `opts`.
    pub fn open_with(name: &str, opts: &Options) -> Result<Value<T>> {
        Value::from_cells(Cells::open(name, Kind::Value, opts)?)
    }

    /// The value's name.
    pub fn name(&self) -> &str {
        self.cells.name()
    }

    /// The lock that guards the value (Python's `get_lock()`).
    pub fn get_lock(&self) -> &Lock {
        &self.lock
    }

    /// Locks the value; the guard derefs to `T`.
    pub fn lock(&self) -> LockResult<ValueGuard<'_, T>> {
        map_result(self.get_lock().acquire(), |g| self.wrap(g))
    }

    /// Locks the value if its lock is free, without waiting.
    pub fn try_lock(
        &self,
    ) -> std::result::Result<ValueGuard<'_, T>, TryAcquireError<ValueGuard<'_, T>>> {
        map_try(self.get_lock().try_acquire(), |g| self.wrap(g))
    }

    /// Locks the value, waiting at most `timeout`.
    pub fn lock_timeout(
        &self,
        timeout: Duration,
    ) -> std::result::Result<ValueGuard<'_, T>, TryAcquireError<ValueGuard<'_, T>>> {
        map_try(self.get_lock().acquire_timeout(timeout), |g| self.wrap(g))
    }

    /// The value, through a guard of its (shared) lock acquired elsewhere: how
    /// several cells are updated under one acquisition. Fails with
    /// [`Error::InvalidArgument`] if `guard` holds another lock.
    pub fn access<'g>(&'g self, guard: &'g mut LockGuard<'_>) -> Result<&'g mut T> {
        self.cells.check_guard(&self.lock, guard)?;
        // SAFETY: the guard proves this thread holds the value's lock, and the
        // `&mut` borrow of the guard keeps any other access through it away for 'g.
        Ok(unsafe { &mut *self.cells.data().as_ptr() })
    }

    fn from_cells(cells: Cells<T>) -> Result<Value<T>> {
        let (cells, lock) = cells.into_locked()?;
        Ok(Value { cells, lock })
    }

    fn wrap<'a>(&'a self, guard: LockGuard<'a>) -> ValueGuard<'a, T> {
        ValueGuard {
            guard,
            data: self.cells.data(),
            _marker: PhantomData,
        }
    }
}

impl<T: Plain + fmt::Debug> fmt::Debug for Value<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Value")
            .field("name", &self.name())
            .field("lock", &self.get_lock().name())
            .finish_non_exhaustive()
    }
}

/// Exclusive access to a [`Value`]'s `T` while its lock is held.
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct ValueGuard<'a, T: Plain> {
    guard: LockGuard<'a>,
    data: NonNull<T>,
    _marker: PhantomData<&'a mut T>,
}

// SAFETY: `&ValueGuard` gives `&T`, and `T: Sync` (Plain).
unsafe impl<T: Plain> Sync for ValueGuard<'_, T> {}

impl<T: Plain> ValueGuard<'_, T> {
    /// Marks the value consistent after an [`OwnerDied`](crate::OwnerDied).
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
