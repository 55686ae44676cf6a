//! `RawArray<T>`: a fixed-length slice of plain data with no lock (Python's
//! `multiprocessing.RawArray`).

use std::fmt;

use shmipc_core::header::Kind;

use crate::cells::{Cells, Init};
use crate::error::Result;
use crate::options::Options;
use crate::plain::{AtomicInt, Plain, Rmw};

/// `len` values of `T` in shared memory with no lock.
///
/// Element and slice copies use relaxed atomic accesses: memory-safe whatever
/// other processes do, though a concurrent writer can make a copy mix old and
/// new elements. Integer elements also have lock-free atomic operations.
///
/// ```
/// # extern crate shmipc_shm as shmipc;
/// # fn main() -> Result<(), shmipc::Error> {
/// let name = format!("doc-raw-array-{}", std::process::id());
/// let slots = shmipc::RawArray::<u32>::create(&name, 4)?;
/// slots.store(2, 7)?;
/// slots.fetch_add(2, 1)?;
/// assert_eq!(slots.to_vec(), vec![0, 0, 8, 0]);
/// assert!(slots.load(4).is_err()); // out of bounds is an error, not a panic
/// # Ok(()) }
/// ```
pub struct RawArray<T: Plain> {
    cells: Cells<T>,
}

impl<T: Plain> RawArray<T> {
    /// Creates a raw array of `len` zeroed elements.
    pub fn create(name: &str, len: usize) -> Result<RawArray<T>> {
        RawArray::create_with(name, len, &Options::default())
    }

    /// Creates a raw array of `len` zeroed elements, with `opts`.
    pub fn create_with(name: &str, len: usize, opts: &Options) -> Result<RawArray<T>> {
        let cells = Cells::create(name, Kind::RawArray, Init::Zeroed(len), None, opts)?;
        Ok(RawArray { cells })
    }

    /// Creates a raw array holding a copy of `items`.
    pub fn from_slice(name: &str, items: &[T]) -> Result<RawArray<T>> {
        RawArray::from_slice_with(name, items, &Options::default())
    }

    /// Creates a raw array holding a copy of `items`, with `opts`.
    pub fn from_slice_with(name: &str, items: &[T], opts: &Options) -> Result<RawArray<T>> {
        let cells = Cells::create(name, Kind::RawArray, Init::Copy(items), None, opts)?;
        Ok(RawArray { cells })
    }

    /// Opens the raw array named `name`.
    pub fn open(name: &str) -> Result<RawArray<T>> {
        RawArray::open_with(name, &Options::default())
    }

    /// Opens the raw array named `name` with `opts`.
    pub fn open_with(name: &str, opts: &Options) -> Result<RawArray<T>> {
        Ok(RawArray {
            cells: Cells::open(name, Kind::RawArray, opts)?,
        })
    }

    /// The array's name.
    pub fn name(&self) -> &str {
        self.cells.name()
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.cells.len()
    }

    /// Whether the array has no elements.
    pub fn is_empty(&self) -> bool {
        self.cells.len() == 0
    }

    /// A copy of element `index`.
    pub fn load(&self, index: usize) -> Result<T> {
        self.cells.load_one(index)
    }

    /// Overwrites element `index`.
    pub fn store(&self, index: usize, value: T) -> Result<()> {
        self.cells.store_range(index, &[value])
    }

    /// Copies elements `start..start + out.len()` into `out`.
    pub fn read(&self, start: usize, out: &mut [T]) -> Result<()> {
        self.cells.load_range(start, out)
    }

    /// Copies `items` into elements `start..start + items.len()`.
    pub fn write(&self, start: usize, items: &[T]) -> Result<()> {
        self.cells.store_range(start, items)
    }

    /// A copy of every element.
    pub fn to_vec(&self) -> Vec<T> {
        self.cells.to_vec()
    }
}

impl<T: AtomicInt> RawArray<T> {
    fn rmw(&self, index: usize, op: Rmw, v: T) -> Result<T> {
        self.cells.check_index(index)?;
        // SAFETY: `index` is in bounds (checked); elements are aligned and only
        // accessed atomically by this crate.
        Ok(unsafe { T::atomic_rmw(self.cells.element(index), op, v) })
    }

    /// Adds `v` to element `index` (wrapping), returning its previous value.
    pub fn fetch_add(&self, index: usize, v: T) -> Result<T> {
        self.rmw(index, Rmw::Add, v)
    }

    /// Subtracts `v` from element `index` (wrapping), returning its previous value.
    pub fn fetch_sub(&self, index: usize, v: T) -> Result<T> {
        self.rmw(index, Rmw::Sub, v)
    }

    /// Stores `v` in element `index`, returning its previous value.
    pub fn swap(&self, index: usize, v: T) -> Result<T> {
        self.rmw(index, Rmw::Swap, v)
    }

    /// Stores the maximum of element `index` and `v`, returning its previous value.
    pub fn fetch_max(&self, index: usize, v: T) -> Result<T> {
        self.rmw(index, Rmw::Max, v)
    }

    /// Stores the minimum of element `index` and `v`, returning its previous value.
    pub fn fetch_min(&self, index: usize, v: T) -> Result<T> {
        self.rmw(index, Rmw::Min, v)
    }

    /// Stores `new` in element `index` if it holds `current`. The outer `Result`
    /// reports a bad index; the inner one is `Ok(previous)` on success and
    /// `Err(actual)` otherwise.
    pub fn compare_exchange(
        &self,
        index: usize,
        current: T,
        new: T,
    ) -> Result<std::result::Result<T, T>> {
        self.cells.check_index(index)?;
        // SAFETY: as in `rmw`.
        Ok(unsafe { T::atomic_cas(self.cells.element(index), current, new) })
    }
}

impl<T: Plain> fmt::Debug for RawArray<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RawArray")
            .field("name", &self.name())
            .field("len", &self.len())
            .finish()
    }
}
