//! `SharedGuard`: access to cells behind an RLock, by copy.

use std::fmt;

use crate::cells::Cells;
use crate::error::Result;
use crate::lock::delegate_guard;
use crate::plain::Plain;
use crate::rlock::{RLock, RLockGuard};

/// Access to a [`Value`](crate::Value) or an [`Array`](crate::Array) guarded by
/// an [`RLock`], while it is held.
///
/// One thread may hold several guards of the same RLock at once (that is what
/// re-entrant means), so no guard may hand out `&mut T`; values are copied in
/// and out instead, which is as cheap for plain data.
///
/// ```
/// # extern crate shmipc_shm as shmipc;
/// # fn main() -> Result<(), shmipc::Error> {
/// use shmipc::{CellLock, Options, RLock, Value};
/// let name = format!("doc-shared-guard-{}", std::process::id());
/// let v = Value::<u32, RLock>::create_with(&name, 1, CellLock::Own, &Options::new())?;
/// let outer = v.lock()?;
/// let inner = v.lock()?;                 // re-entered by the same thread
/// inner.set(inner.get() + 1);
/// assert_eq!(outer.get(), 2);
/// # Ok(()) }
/// ```
#[must_use = "the level is released as soon as the guard is dropped"]
pub struct SharedGuard<'a, T: Plain> {
    guard: RLockGuard<'a>,
    cells: &'a Cells<T, RLock>,
}

impl<'a, T: Plain> SharedGuard<'a, T> {
    pub(crate) fn new(guard: RLockGuard<'a>, cells: &'a Cells<T, RLock>) -> SharedGuard<'a, T> {
        SharedGuard { guard, cells }
    }

    /// Number of elements (1 for a Value).
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-shared_guard-len-0-{}", std::process::id());
    /// let a = shmipc::Array::<u8, shmipc::RLock>::create_with(&name, 3, shmipc::CellLock::Own, &shmipc::Options::new())?;
    /// assert_eq!(a.lock()?.len(), 3);
    /// # Ok(()) }
    /// ```
    pub fn len(&self) -> usize {
        self.cells.len()
    }

    /// Whether there are no elements.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-shared_guard-is_empty-0-{}", std::process::id());
    /// let a = shmipc::Array::<u8, shmipc::RLock>::create_with(&name, 0, shmipc::CellLock::Own, &shmipc::Options::new())?;
    /// assert!(a.lock()?.is_empty());
    /// # Ok(()) }
    /// ```
    pub fn is_empty(&self) -> bool {
        self.cells.len() == 0
    }

    /// A copy of the first element (the Value's value).
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-shared_guard-get-0-{}", std::process::id());
    /// let v = shmipc::Value::<u8, shmipc::RLock>::create_with(&name, 4, shmipc::CellLock::Own, &shmipc::Options::new())?;
    /// assert_eq!(v.lock()?.get(), 4);
    /// # Ok(()) }
    /// ```
    pub fn get(&self) -> T {
        self.load(0).unwrap_or_else(|_| T::zeroed())
    }

    /// Overwrites the first element (the Value's value); a no-op on an empty array.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-shared_guard-set-0-{}", std::process::id());
    /// let v = shmipc::Value::<u8, shmipc::RLock>::create_with(&name, 4, shmipc::CellLock::Own, &shmipc::Options::new())?;
    /// v.lock()?.set(5);
    /// assert_eq!(v.lock()?.get(), 5);
    /// # Ok(()) }
    /// ```
    pub fn set(&self, value: T) {
        let _ = self.store(0, value);
    }

    /// Replaces the first element with `f` of it; returns the new value.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-shared_guard-update-0-{}", std::process::id());
    /// let v = shmipc::Value::<u8, shmipc::RLock>::create_with(&name, 4, shmipc::CellLock::Own, &shmipc::Options::new())?;
    /// assert_eq!(v.lock()?.update(|x| x * 2), 8);
    /// # Ok(()) }
    /// ```
    pub fn update(&self, f: impl FnOnce(T) -> T) -> T {
        let v = f(self.get());
        self.set(v);
        v
    }

    /// A copy of element `index`.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-shared_guard-load-0-{}", std::process::id());
    /// let a = shmipc::Array::<u8, shmipc::RLock>::create_with(&name, 2, shmipc::CellLock::Own, &shmipc::Options::new())?;
    /// assert_eq!(a.lock()?.load(1)?, 0);
    /// # Ok(()) }
    /// ```
    pub fn load(&self, index: usize) -> Result<T> {
        self.cells.load_one(index)
    }

    /// Overwrites element `index`.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-shared_guard-store-0-{}", std::process::id());
    /// let a = shmipc::Array::<u8, shmipc::RLock>::create_with(&name, 2, shmipc::CellLock::Own, &shmipc::Options::new())?;
    /// a.lock()?.store(1, 3)?;
    /// assert_eq!(a.lock()?.to_vec(), vec![0, 3]);
    /// # Ok(()) }
    /// ```
    pub fn store(&self, index: usize, value: T) -> Result<()> {
        self.cells.store_range(index, &[value])
    }

    /// A copy of every element.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-shared_guard-to_vec-0-{}", std::process::id());
    /// let a = shmipc::Array::<u8, shmipc::RLock>::create_with(&name, 2, shmipc::CellLock::Own, &shmipc::Options::new())?;
    /// assert_eq!(a.lock()?.to_vec(), vec![0, 0]);
    /// # Ok(()) }
    /// ```
    pub fn to_vec(&self) -> Vec<T> {
        self.cells.to_vec()
    }

    /// Marks the data consistent after an [`OwnerDied`](crate::OwnerDied).
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-shared_guard-mark_consistent-0-{}", std::process::id());
    /// let v = shmipc::Value::<u8, shmipc::RLock>::create_with(&name, 4, shmipc::CellLock::Own, &shmipc::Options::new())?;
    /// v.lock()?.mark_consistent(); // nothing to repair here: a no-op
    /// # Ok(()) }
    /// ```
    pub fn mark_consistent(&self) {
        self.guard.mark_consistent();
    }
}

delegate_guard!(SharedGuard<'_, T>, guard, T: Plain);

impl<T: Plain> fmt::Debug for SharedGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SharedGuard")
            .field("lock", &self.guard.lock().name())
            .field("len", &self.len())
            .finish()
    }
}
