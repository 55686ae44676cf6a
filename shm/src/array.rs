//! `Array<T>`: a fixed-length slice of plain data behind a lock (Python's
//! `multiprocessing.Array`).

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

/// `len` values of `T` in shared memory, behind a lock, like Python's
/// `multiprocessing.Array`: a [`Lock`] (the default; the guard derefs to `[T]`)
/// or an [`RLock`] (`Array<T, RLock>`; the guard copies elements in and out).
/// For an array with no lock, see [`RawArray`](crate::RawArray).
///
/// ```
/// # extern crate shmipc_shm as shmipc;
/// # fn main() -> Result<(), shmipc::Error> {
/// let name = format!("doc-array-{}", std::process::id());
/// let prices = shmipc::Array::from_slice(&name, &[1.0f64, 2.0, 3.0])?;
/// let same = shmipc::Array::<f64>::open(&name)?;
/// same.lock()?[1] = 20.0;
/// assert_eq!(&*prices.lock()?, &[1.0, 20.0, 3.0]);
/// # Ok(()) }
/// ```
pub struct Array<T: Plain, L: LockKind = Lock> {
    cells: Cells<T, L>,
    lock: L,
}

impl<T: Plain, L: LockKind> Array<T, L> {
    /// Creates an array of `len` zeroed elements guarded by `lock` (its own
    /// lock of type `L`, or a shared one).
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-array-create_with-0-{}", std::process::id());
    /// let a = shmipc::Array::<u32>::create_with(&name, 4, shmipc::CellLock::Own, &shmipc::Options::new())?;
    /// assert_eq!(a.len(), 4);
    /// # Ok(()) }
    /// ```
    pub fn create_with(
        name: &str,
        len: usize,
        lock: CellLock<'_, L>,
        opts: &Options,
    ) -> Result<Array<T, L>> {
        let cells = Cells::create(name, Kind::Array, Init::Zeroed(len), Some(lock), opts)?;
        Array::from_cells(cells)
    }

    /// Creates an array holding a copy of `items`, guarded by `lock`.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-array-from_slice_with-0-{}", std::process::id());
    /// let a = shmipc::Array::<u8>::from_slice_with(&name, b"abc", shmipc::CellLock::Own, &shmipc::Options::new())?;
    /// assert_eq!(&*a.lock()?, b"abc");
    /// # Ok(()) }
    /// ```
    pub fn from_slice_with(
        name: &str,
        items: &[T],
        lock: CellLock<'_, L>,
        opts: &Options,
    ) -> Result<Array<T, L>> {
        let cells = Cells::create(name, Kind::Array, Init::Copy(items), Some(lock), opts)?;
        Array::from_cells(cells)
    }

    /// Opens the array named `name` with `opts`. Fails with
    /// [`Error::TypeMismatch`](crate::Error::TypeMismatch) if its elements are of
    /// another type, [`Error::LockKindMismatch`](crate::Error::LockKindMismatch) if another lock type guards it.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-array-open_with-0-{}", std::process::id());
    /// # let _a = shmipc::Array::<u8>::create(&name, 2)?;
    /// let a = shmipc::Array::<u8>::open_with(&name, &shmipc::Options::new())?;
    /// assert_eq!(a.len(), 2);
    /// # Ok(()) }
    /// ```
    pub fn open_with(name: &str, opts: &Options) -> Result<Array<T, L>> {
        Array::from_cells(Cells::open(name, Kind::Array, opts)?)
    }

    fn from_cells(cells: Cells<T, L>) -> Result<Array<T, L>> {
        let (cells, lock) = cells.into_locked()?;
        Ok(Array { cells, lock })
    }

    /// The array's name.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-array-name-0-{}", std::process::id());
    /// let a = shmipc::Array::<u8>::create(&name, 2)?;
    /// assert_eq!(a.name(), name);
    /// # Ok(()) }
    /// ```
    pub fn name(&self) -> &str {
        self.cells.name()
    }

    /// Number of elements.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-array-len-0-{}", std::process::id());
    /// let a = shmipc::Array::<u8>::create(&name, 3)?;
    /// assert_eq!(a.len(), 3);
    /// # Ok(()) }
    /// ```
    pub fn len(&self) -> usize {
        self.cells.len()
    }

    /// Whether the array has no elements.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-array-is_empty-0-{}", std::process::id());
    /// let a = shmipc::Array::<u8>::create(&name, 0)?;
    /// assert!(a.is_empty());
    /// # Ok(()) }
    /// ```
    pub fn is_empty(&self) -> bool {
        self.cells.len() == 0
    }

    /// The lock that guards the array (Python's `get_lock()`).
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-array-get_lock-0-{}", std::process::id());
    /// let a = shmipc::Array::<u8>::create(&name, 2)?;
    /// let held = a.get_lock().acquire()?;
    /// assert!(a.try_lock().is_err());
    /// # drop(held);
    /// # Ok(()) }
    /// ```
    pub fn get_lock(&self) -> &L {
        &self.lock
    }
}

impl<T: Plain> Array<T> {
    /// Creates an array of `len` zeroed elements with a [`Lock`] of its own.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-array-create-0-{}", std::process::id());
    /// let a = shmipc::Array::<f64>::create(&name, 8)?;
    /// assert!(a.lock()?.iter().all(|&x| x == 0.0));
    /// # Ok(()) }
    /// ```
    pub fn create(name: &str, len: usize) -> Result<Array<T>> {
        Array::create_with(name, len, CellLock::Own, &Options::default())
    }

    /// Creates an array holding a copy of `items`, with a [`Lock`] of its own.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-array-from_slice-0-{}", std::process::id());
    /// let a = shmipc::Array::from_slice(&name, &[1u16, 2, 3])?;
    /// assert_eq!(a.lock()?[2], 3);
    /// # Ok(()) }
    /// ```
    pub fn from_slice(name: &str, items: &[T]) -> Result<Array<T>> {
        Array::from_slice_with(name, items, CellLock::Own, &Options::default())
    }

    /// Opens the array named `name` (guarded by a [`Lock`]).
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-array-open-0-{}", std::process::id());
    /// # let _a = shmipc::Array::<u16>::create(&name, 2)?;
    /// let a = shmipc::Array::<u16>::open(&name)?;
    /// a.lock()?[0] = 7;
    /// # Ok(()) }
    /// ```
    pub fn open(name: &str) -> Result<Array<T>> {
        Array::open_with(name, &Options::default())
    }

    /// Locks the array; the guard derefs to `[T]`.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-array-lock-0-{}", std::process::id());
    /// let a = shmipc::Array::<u32>::create(&name, 2)?;
    /// let mut items = a.lock()?;
    /// items[1] += 5;
    /// assert_eq!(&*items, &[0, 5]);
    /// # Ok(()) }
    /// ```
    pub fn lock(&self) -> LockResult<ArrayGuard<'_, T>> {
        map_result(self.lock.acquire(), |g| self.wrap(g))
    }

    /// Locks the array if its lock is free, without waiting.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-array-try_lock-0-{}", std::process::id());
    /// let a = shmipc::Array::<u32>::create(&name, 2)?;
    /// let held = a.try_lock()?;
    /// assert!(a.try_lock().is_err());
    /// # drop(held);
    /// # Ok(()) }
    /// ```
    pub fn try_lock(
        &self,
    ) -> std::result::Result<ArrayGuard<'_, T>, TryAcquireError<ArrayGuard<'_, T>>> {
        map_try(self.lock.try_acquire(), |g| self.wrap(g))
    }

    /// Locks the array, waiting at most `timeout`.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-array-lock_timeout-0-{}", std::process::id());
    /// let a = shmipc::Array::<u32>::create(&name, 2)?;
    /// a.lock_timeout(std::time::Duration::from_millis(10))?[0] = 1;
    /// # Ok(()) }
    /// ```
    pub fn lock_timeout(
        &self,
        timeout: Duration,
    ) -> std::result::Result<ArrayGuard<'_, T>, TryAcquireError<ArrayGuard<'_, T>>> {
        map_try(self.lock.acquire_timeout(timeout), |g| self.wrap(g))
    }

    /// The elements, through a guard of the array's (shared) lock acquired
    /// elsewhere. Fails with [`Error::WrongLock`](crate::Error::WrongLock) if `guard` holds another lock.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-array-access-0-{}", std::process::id());
    /// let lock = shmipc::Lock::create(&format!("{name}-lock"))?;
    /// let a = shmipc::Array::<u32>::create_with(&name, 2, shmipc::CellLock::Shared(&lock), &shmipc::Options::new())?;
    /// let mut guard = lock.acquire()?;
    /// a.access(&mut guard)?[0] = 9;
    /// # Ok(()) }
    /// ```
    pub fn access<'g>(&'g self, guard: &'g mut LockGuard<'_>) -> Result<&'g mut [T]> {
        self.cells.check_guard(&self.lock, guard)?;
        // SAFETY: the guard proves this thread holds the array's lock; the `&mut`
        // borrow of the guard keeps other access through it away for 'g.
        Ok(unsafe { std::slice::from_raw_parts_mut(self.cells.data().as_ptr(), self.cells.len()) })
    }

    fn wrap<'a>(&'a self, guard: LockGuard<'a>) -> ArrayGuard<'a, T> {
        ArrayGuard {
            guard,
            data: self.cells.data(),
            len: self.cells.len(),
            _marker: PhantomData,
        }
    }
}

impl<T: Plain> Array<T, RLock> {
    /// Locks the array (again, if this thread holds its RLock); the guard
    /// copies elements in and out.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-array-lock-1-{}", std::process::id());
    /// let a = shmipc::Array::<u32, shmipc::RLock>::create_with(&name, 2, shmipc::CellLock::Own, &shmipc::Options::new())?;
    /// let items = a.lock()?;
    /// items.store(1, 4)?;
    /// assert_eq!(items.to_vec(), vec![0, 4]);
    /// # Ok(()) }
    /// ```
    pub fn lock(&self) -> LockResult<SharedGuard<'_, T>> {
        map_result(self.lock.acquire(), |g| SharedGuard::new(g, &self.cells))
    }

    /// Locks the array without waiting.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-array-try_lock-1-{}", std::process::id());
    /// let a = shmipc::Array::<u32, shmipc::RLock>::create_with(&name, 2, shmipc::CellLock::Own, &shmipc::Options::new())?;
    /// let outer = a.try_lock()?;
    /// let inner = a.try_lock()?; // the same thread re-enters
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

    /// Locks the array, waiting at most `timeout`.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-array-lock_timeout-1-{}", std::process::id());
    /// let a = shmipc::Array::<u32, shmipc::RLock>::create_with(&name, 2, shmipc::CellLock::Own, &shmipc::Options::new())?;
    /// let items = a.lock_timeout(std::time::Duration::from_millis(10))?;
    /// assert_eq!(items.len(), 2);
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

impl<T: Plain, L: LockKind> fmt::Debug for Array<T, L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Array")
            .field("name", &self.name())
            .field("len", &self.len())
            .field("lock", &self.lock.lock_name())
            .finish()
    }
}

/// Exclusive access to an [`Array`]'s elements while its lock is held.
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct ArrayGuard<'a, T: Plain> {
    guard: LockGuard<'a>,
    data: NonNull<T>,
    len: usize,
    _marker: PhantomData<&'a mut [T]>,
}

// SAFETY: `&ArrayGuard` gives `&[T]` (`T: Sync`, being `Plain`) and the
// `&LockGuard` inside, which is `Sync` (see there); the `!Send` of that guard
// keeps the release, the drop, on the holding thread.
unsafe impl<T: Plain> Sync for ArrayGuard<'_, T> {}

impl<T: Plain> ArrayGuard<'_, T> {
    /// Marks the array consistent after an [`OwnerDied`](crate::OwnerDied).
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-array-mark_consistent-0-{}", std::process::id());
    /// let a = shmipc::Array::<u32>::create(&name, 2)?;
    /// let items = a.lock()?;
    /// items.mark_consistent(); // nothing to repair here: a no-op
    /// # Ok(()) }
    /// ```
    pub fn mark_consistent(&self) {
        self.guard.mark_consistent();
    }
}

delegate_guard!(ArrayGuard<'_, T>, guard, T: Plain);

impl<T: Plain> Deref for ArrayGuard<'_, T> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        // SAFETY: the lock is held for the guard's life; `len` elements lie,
        // aligned, inside the mapping.
        unsafe { std::slice::from_raw_parts(self.data.as_ptr(), self.len) }
    }
}

impl<T: Plain> DerefMut for ArrayGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut [T] {
        // SAFETY: as in `deref`, and `&mut self` makes this the only reference.
        unsafe { std::slice::from_raw_parts_mut(self.data.as_ptr(), self.len) }
    }
}

impl<T: Plain + fmt::Debug> fmt::Debug for ArrayGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}
