//! `RawValue<T>`: one plain-data value with no lock (Python's
//! `multiprocessing.RawValue`, or `Value(..., lock=False)`).

use std::fmt;

use shmipc_core::header::Kind;

use crate::cells::{Cells, Init};
use crate::error::Result;
use crate::options::Options;
use crate::plain::{AtomicInt, Plain, Rmw};

/// One `T` in shared memory with no lock.
///
/// [`load`](RawValue::load) and [`store`](RawValue::store) copy the whole value
/// with relaxed atomic accesses: memory-safe whatever other processes do, but a
/// value wider than 8 bytes may be read half-old, half-new. Integer values also
/// have lock-free atomic read-modify-write operations.
///
/// ```
/// # extern crate shmipc_shm as shmipc;
/// # fn main() -> Result<(), shmipc::Error> {
/// let name = format!("doc-raw-value-{}", std::process::id());
/// let hits = shmipc::RawValue::create(&name, 0u64)?;
/// hits.fetch_add(5);
/// assert_eq!(shmipc::RawValue::<u64>::open(&name)?.load(), 5);
/// # Ok(()) }
/// ```
pub struct RawValue<T: Plain> {
    cells: Cells<T>,
}

impl<T: Plain> RawValue<T> {
    /// Creates a raw value named `name` holding `initial`.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-raw_value-create-0-{}", std::process::id());
    /// let v = shmipc::RawValue::create(&name, 3u64)?;
    /// assert_eq!(v.load(), 3);
    /// # Ok(()) }
    /// ```
    pub fn create(name: &str, initial: T) -> Result<RawValue<T>> {
        RawValue::create_with(name, initial, &Options::default())
    }

    /// Creates a raw value named `name` holding `initial`, with `opts`.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-raw_value-create_with-0-{}", std::process::id());
    /// let v = shmipc::RawValue::create_with(&name, 3u64, &shmipc::Options::new())?;
    /// assert_eq!(v.load(), 3);
    /// # Ok(()) }
    /// ```
    pub fn create_with(name: &str, initial: T, opts: &Options) -> Result<RawValue<T>> {
        let cells = Cells::create(name, Kind::RawValue, Init::Copy(&[initial]), None, opts)?;
        Ok(RawValue { cells })
    }

    /// Opens the raw value named `name`.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-raw_value-open-0-{}", std::process::id());
    /// # let _v = shmipc::RawValue::create(&name, 3u64)?;
    /// let v = shmipc::RawValue::<u64>::open(&name)?;
    /// assert_eq!(v.load(), 3);
    /// # Ok(()) }
    /// ```
    pub fn open(name: &str) -> Result<RawValue<T>> {
        RawValue::open_with(name, &Options::default())
    }

    /// Opens the raw value named `name` with `opts`.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-raw_value-open_with-0-{}", std::process::id());
    /// # let _v = shmipc::RawValue::create(&name, 3u64)?;
    /// let v = shmipc::RawValue::<u64>::open_with(&name, &shmipc::Options::new())?;
    /// # drop(v);
    /// # Ok(()) }
    /// ```
    pub fn open_with(name: &str, opts: &Options) -> Result<RawValue<T>> {
        Ok(RawValue {
            cells: Cells::open(name, Kind::RawValue, opts)?,
        })
    }

    /// The value's name.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-raw_value-name-0-{}", std::process::id());
    /// let v = shmipc::RawValue::create(&name, 3u64)?;
    /// assert_eq!(v.name(), name);
    /// # Ok(()) }
    /// ```
    pub fn name(&self) -> &str {
        self.cells.name()
    }

    /// A copy of the value (possibly torn if wider than 8 bytes and written concurrently).
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-raw_value-load-0-{}", std::process::id());
    /// let v = shmipc::RawValue::create(&name, [1u8, 2])?;
    /// assert_eq!(v.load(), [1, 2]);
    /// # Ok(()) }
    /// ```
    pub fn load(&self) -> T {
        // A RawValue always has exactly one element (checked at open).
        self.cells.load_one(0).unwrap_or_else(|_| T::zeroed())
    }

    /// Overwrites the value.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-raw_value-store-0-{}", std::process::id());
    /// let v = shmipc::RawValue::create(&name, 0u64)?;
    /// v.store(4);
    /// assert_eq!(v.load(), 4);
    /// # Ok(()) }
    /// ```
    pub fn store(&self, value: T) {
        let _ = self.cells.store_range(0, &[value]);
    }
}

macro_rules! rmw_methods {
    ($($(#[$doc:meta])* $name:ident => $op:ident),* $(,)?) => {$(
        $(#[$doc])*
        pub fn $name(&self, v: T) -> T {
            // SAFETY: element 0 exists, is aligned for T, and is only accessed
            // atomically by this crate.
            unsafe { T::atomic_rmw(self.cells.element(0), Rmw::$op, v) }
        }
    )*};
}

impl<T: AtomicInt> RawValue<T> {
    rmw_methods! {
        /// Adds `v` (wrapping), returning the previous value.
        fetch_add => Add,
        /// Subtracts `v` (wrapping), returning the previous value.
        fetch_sub => Sub,
        /// Bitwise-ands with `v`, returning the previous value.
        fetch_and => And,
        /// Bitwise-ors with `v`, returning the previous value.
        fetch_or => Or,
        /// Bitwise-xors with `v`, returning the previous value.
        fetch_xor => Xor,
        /// Stores the maximum of the value and `v`, returning the previous value.
        fetch_max => Max,
        /// Stores the minimum of the value and `v`, returning the previous value.
        fetch_min => Min,
        /// Stores `v`, returning the previous value.
        swap => Swap,
    }

    /// Stores `new` if the value is `current`; returns the previous value, as
    /// `Ok` if it was `current` and `Err` otherwise.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-raw_value-compare_exchange-0-{}", std::process::id());
    /// let v = shmipc::RawValue::create(&name, 1u32)?;
    /// assert_eq!(v.compare_exchange(1, 2), Ok(1));
    /// assert_eq!(v.compare_exchange(1, 3), Err(2));
    /// # Ok(()) }
    /// ```
    pub fn compare_exchange(&self, current: T, new: T) -> std::result::Result<T, T> {
        // SAFETY: as for the read-modify-write methods.
        unsafe { T::atomic_cas(self.cells.element(0), current, new) }
    }

    /// The value, read with a `SeqCst` atomic load.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-raw_value-load_atomic-0-{}", std::process::id());
    /// let v = shmipc::RawValue::create(&name, 1u32)?;
    /// assert_eq!(v.load_atomic(), 1);
    /// # Ok(()) }
    /// ```
    pub fn load_atomic(&self) -> T {
        // SAFETY: as for the read-modify-write methods.
        unsafe { T::atomic_load(self.cells.element(0)) }
    }
}

impl<T: Plain + fmt::Debug> fmt::Debug for RawValue<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RawValue")
            .field("name", &self.name())
            .field("value", &self.load())
            .finish()
    }
}
