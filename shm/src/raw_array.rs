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
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-raw_array-create-0-{}", std::process::id());
    /// let a = shmipc::RawArray::<u32>::create(&name, 4)?;
    /// assert_eq!(a.to_vec(), vec![0; 4]);
    /// # Ok(()) }
    /// ```
    pub fn create(name: &str, len: usize) -> Result<RawArray<T>> {
        RawArray::create_with(name, len, &Options::default())
    }

    /// Creates a raw array of `len` zeroed elements, with `opts`.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-raw_array-create_with-0-{}", std::process::id());
    /// let a = shmipc::RawArray::<u32>::create_with(&name, 4, &shmipc::Options::new())?;
    /// assert_eq!(a.len(), 4);
    /// # Ok(()) }
    /// ```
    pub fn create_with(name: &str, len: usize, opts: &Options) -> Result<RawArray<T>> {
        let cells = Cells::create(name, Kind::RawArray, Init::Zeroed(len), None, opts)?;
        Ok(RawArray { cells })
    }

    /// Creates a raw array holding a copy of `items`.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-raw_array-from_slice-0-{}", std::process::id());
    /// let a = shmipc::RawArray::from_slice(&name, &[1u8, 2])?;
    /// assert_eq!(a.load(1)?, 2);
    /// # Ok(()) }
    /// ```
    pub fn from_slice(name: &str, items: &[T]) -> Result<RawArray<T>> {
        RawArray::from_slice_with(name, items, &Options::default())
    }

    /// Creates a raw array holding a copy of `items`, with `opts`.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-raw_array-from_slice_with-0-{}", std::process::id());
    /// let a = shmipc::RawArray::from_slice_with(&name, &[1u8, 2], &shmipc::Options::new())?;
    /// assert_eq!(a.len(), 2);
    /// # Ok(()) }
    /// ```
    pub fn from_slice_with(name: &str, items: &[T], opts: &Options) -> Result<RawArray<T>> {
        let cells = Cells::create(name, Kind::RawArray, Init::Copy(items), None, opts)?;
        Ok(RawArray { cells })
    }

    /// Opens the raw array named `name`.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-raw_array-open-0-{}", std::process::id());
    /// # let _a = shmipc::RawArray::<u8>::create(&name, 2)?;
    /// let a = shmipc::RawArray::<u8>::open(&name)?;
    /// a.store(0, 1)?;
    /// # Ok(()) }
    /// ```
    pub fn open(name: &str) -> Result<RawArray<T>> {
        RawArray::open_with(name, &Options::default())
    }

    /// Opens the raw array named `name` with `opts`.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-raw_array-open_with-0-{}", std::process::id());
    /// # let _a = shmipc::RawArray::<u8>::create(&name, 2)?;
    /// let a = shmipc::RawArray::<u8>::open_with(&name, &shmipc::Options::new())?;
    /// # drop(a);
    /// # Ok(()) }
    /// ```
    pub fn open_with(name: &str, opts: &Options) -> Result<RawArray<T>> {
        Ok(RawArray {
            cells: Cells::open(name, Kind::RawArray, opts)?,
        })
    }

    /// The array's name.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-raw_array-name-0-{}", std::process::id());
    /// let a = shmipc::RawArray::<u8>::create(&name, 2)?;
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
    /// # let name = format!("doc-raw_array-len-0-{}", std::process::id());
    /// let a = shmipc::RawArray::<u8>::create(&name, 2)?;
    /// assert_eq!(a.len(), 2);
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
    /// # let name = format!("doc-raw_array-is_empty-0-{}", std::process::id());
    /// let a = shmipc::RawArray::<u8>::create(&name, 0)?;
    /// assert!(a.is_empty());
    /// # Ok(()) }
    /// ```
    pub fn is_empty(&self) -> bool {
        self.cells.len() == 0
    }

    /// A copy of element `index`.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-raw_array-load-0-{}", std::process::id());
    /// let a = shmipc::RawArray::from_slice(&name, &[5u64])?;
    /// assert_eq!(a.load(0)?, 5);
    /// assert!(a.load(1).is_err());
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
    /// # let name = format!("doc-raw_array-store-0-{}", std::process::id());
    /// let a = shmipc::RawArray::<u64>::create(&name, 1)?;
    /// a.store(0, 9)?;
    /// assert_eq!(a.load(0)?, 9);
    /// # Ok(()) }
    /// ```
    pub fn store(&self, index: usize, value: T) -> Result<()> {
        self.cells.store_range(index, &[value])
    }

    /// Copies elements `start..start + out.len()` into `out`.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-raw_array-read-0-{}", std::process::id());
    /// let a = shmipc::RawArray::from_slice(&name, &[1u32, 2, 3])?;
    /// let mut out = [0; 2];
    /// a.read(1, &mut out)?;
    /// assert_eq!(out, [2, 3]);
    /// # Ok(()) }
    /// ```
    pub fn read(&self, start: usize, out: &mut [T]) -> Result<()> {
        self.cells.load_range(start, out)
    }

    /// Copies `items` into elements `start..start + items.len()`.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-raw_array-write-0-{}", std::process::id());
    /// let a = shmipc::RawArray::<u32>::create(&name, 3)?;
    /// a.write(1, &[7, 8])?;
    /// assert_eq!(a.to_vec(), vec![0, 7, 8]);
    /// # Ok(()) }
    /// ```
    pub fn write(&self, start: usize, items: &[T]) -> Result<()> {
        self.cells.store_range(start, items)
    }

    /// A copy of every element.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-raw_array-to_vec-0-{}", std::process::id());
    /// let a = shmipc::RawArray::from_slice(&name, &[1i16, -1])?;
    /// assert_eq!(a.to_vec(), vec![1, -1]);
    /// # Ok(()) }
    /// ```
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
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-raw_array-fetch_add-0-{}", std::process::id());
    /// let a = shmipc::RawArray::<u32>::create(&name, 1)?;
    /// assert_eq!(a.fetch_add(0, 2)?, 0);
    /// assert_eq!(a.load(0)?, 2);
    /// # Ok(()) }
    /// ```
    pub fn fetch_add(&self, index: usize, v: T) -> Result<T> {
        self.rmw(index, Rmw::Add, v)
    }

    /// Subtracts `v` from element `index` (wrapping), returning its previous value.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-raw_array-fetch_sub-0-{}", std::process::id());
    /// let a = shmipc::RawArray::from_slice(&name, &[5u32])?;
    /// assert_eq!(a.fetch_sub(0, 2)?, 5);
    /// # Ok(()) }
    /// ```
    pub fn fetch_sub(&self, index: usize, v: T) -> Result<T> {
        self.rmw(index, Rmw::Sub, v)
    }

    /// Stores `v` in element `index`, returning its previous value.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-raw_array-swap-0-{}", std::process::id());
    /// let a = shmipc::RawArray::from_slice(&name, &[5u32])?;
    /// assert_eq!(a.swap(0, 1)?, 5);
    /// # Ok(()) }
    /// ```
    pub fn swap(&self, index: usize, v: T) -> Result<T> {
        self.rmw(index, Rmw::Swap, v)
    }

    /// Stores the maximum of element `index` and `v`, returning its previous value.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-raw_array-fetch_max-0-{}", std::process::id());
    /// let a = shmipc::RawArray::from_slice(&name, &[5u32])?;
    /// a.fetch_max(0, 9)?;
    /// assert_eq!(a.load(0)?, 9);
    /// # Ok(()) }
    /// ```
    pub fn fetch_max(&self, index: usize, v: T) -> Result<T> {
        self.rmw(index, Rmw::Max, v)
    }

    /// Stores the minimum of element `index` and `v`, returning its previous value.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-raw_array-fetch_min-0-{}", std::process::id());
    /// let a = shmipc::RawArray::from_slice(&name, &[5u32])?;
    /// a.fetch_min(0, 2)?;
    /// assert_eq!(a.load(0)?, 2);
    /// # Ok(()) }
    /// ```
    pub fn fetch_min(&self, index: usize, v: T) -> Result<T> {
        self.rmw(index, Rmw::Min, v)
    }

    /// Stores `new` in element `index` if it holds `current`. The outer `Result`
    /// reports a bad index; the inner one is `Ok(previous)` on success and
    /// `Err(actual)` otherwise.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-raw_array-compare_exchange-0-{}", std::process::id());
    /// let a = shmipc::RawArray::from_slice(&name, &[5u32])?;
    /// assert_eq!(a.compare_exchange(0, 5, 6)?, Ok(5));
    /// assert_eq!(a.compare_exchange(0, 5, 7)?, Err(6));
    /// # Ok(()) }
    /// ```
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
