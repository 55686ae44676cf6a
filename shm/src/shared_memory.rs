//! `SharedMemory`: a named block of raw bytes (Python's
//! `multiprocessing.shared_memory.SharedMemory`).

use std::fmt;

use shmipc_core::header::Kind;

use crate::cells::{Cells, Init};
use crate::error::{Error, Result};
use crate::options::Options;

/// A named block of `size` bytes that any process can open, as Python's
/// `SharedMemory(name, create=True, size=n)`.
///
/// Python hands out the block as a `memoryview`. Another process can write
/// the bytes at any time, so a Rust `&[u8]` or `&mut [u8]` over them would be
/// a data race. Instead the bytes are copied in and out with
/// [`read`](Self::read), [`write`](Self::write) and [`to_vec`](Self::to_vec).
/// The copies are race-tolerant: memory-safe whatever other processes do,
/// though a concurrent writer can make a copy mix old and new bytes. For
/// bigger structures, or to share a lock with the bytes, see
/// [`RawArray`](crate::RawArray) and [`Array`](crate::Array).
///
/// The segment has shmipc's header like every other object, so opening a
/// block checks its kind and size; it is not a bare POSIX segment that
/// Python's class could open.
///
/// ```
/// # extern crate shmipc_shm as shmipc;
/// # fn main() -> Result<(), shmipc::Error> {
/// let name = format!("doc-shm-{}", std::process::id());
/// let block = shmipc::SharedMemory::create(&name, 16)?; // in process A
/// block.write(4, b"ping")?;
/// let view = shmipc::SharedMemory::open(&name)?;        // in process B
/// let mut word = [0u8; 4];
/// view.read(4, &mut word)?;
/// assert_eq!(&word, b"ping");
/// assert!(view.read(14, &mut word).is_err()); // past the end: an error
/// # Ok(()) }
/// ```
pub struct SharedMemory {
    cells: Cells<u8>,
}

impl SharedMemory {
    /// Creates a block of `size` zeroed bytes (at least 1, as in Python).
    /// Like every object of this crate, the name is removed when this
    /// handle is dropped unless [`Options::persist`] says otherwise; see
    /// [`unlink`](Self::unlink).
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-shm-create-{}", std::process::id());
    /// let block = shmipc::SharedMemory::create(&name, 4096)?;
    /// assert_eq!(block.size(), 4096);
    /// # Ok(()) }
    /// ```
    pub fn create(name: &str, size: usize) -> Result<SharedMemory> {
        SharedMemory::create_with(name, size, &Options::default())
    }

    /// Creates a block of `size` zeroed bytes, with `opts`.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-shm-create-with-{}", std::process::id());
    /// let opts = shmipc::Options::new().mode(0o600);
    /// let block = shmipc::SharedMemory::create_with(&name, 64, &opts)?;
    /// assert_eq!(block.size(), 64);
    /// # Ok(()) }
    /// ```
    pub fn create_with(name: &str, size: usize, opts: &Options) -> Result<SharedMemory> {
        if size == 0 {
            return Err(Error::invalid(format!(
                "SharedMemory '{name}': expected a size of at least 1 byte, found 0"
            )));
        }
        let cells = Cells::create(name, Kind::SharedMemory, Init::Zeroed(size), None, opts)?;
        Ok(SharedMemory { cells })
    }

    /// Opens the block named `name`.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-shm-open-{}", std::process::id());
    /// # let _made = shmipc::SharedMemory::create(&name, 8)?;
    /// let block = shmipc::SharedMemory::open(&name)?;
    /// assert_eq!(block.size(), 8);
    /// # Ok(()) }
    /// ```
    pub fn open(name: &str) -> Result<SharedMemory> {
        SharedMemory::open_with(name, &Options::default())
    }

    /// Opens the block named `name`, with `opts`.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-shm-open-with-{}", std::process::id());
    /// # let _made = shmipc::SharedMemory::create(&name, 8)?;
    /// let block = shmipc::SharedMemory::open_with(&name, &shmipc::Options::new())?;
    /// # drop(block);
    /// # Ok(()) }
    /// ```
    pub fn open_with(name: &str, opts: &Options) -> Result<SharedMemory> {
        Ok(SharedMemory {
            cells: Cells::open(name, Kind::SharedMemory, opts)?,
        })
    }

    /// The block's name.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-shm-name-{}", std::process::id());
    /// let block = shmipc::SharedMemory::create(&name, 8)?;
    /// assert_eq!(block.name(), name);
    /// # Ok(()) }
    /// ```
    pub fn name(&self) -> &str {
        self.cells.name()
    }

    /// The block's size in bytes, as asked at create (Python's `size`).
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-shm-size-{}", std::process::id());
    /// let block = shmipc::SharedMemory::create(&name, 100)?;
    /// assert_eq!(block.size(), 100);
    /// # Ok(()) }
    /// ```
    pub fn size(&self) -> usize {
        self.cells.len()
    }

    /// Copies bytes `offset..offset + out.len()` into `out`; an
    /// [`IndexOutOfBounds`](crate::Error::IndexOutOfBounds) error, with
    /// nothing copied, if that range passes the end.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-shm-read-{}", std::process::id());
    /// let block = shmipc::SharedMemory::create(&name, 8)?;
    /// block.write(0, &[1, 2, 3])?;
    /// let mut two = [0u8; 2];
    /// block.read(1, &mut two)?;
    /// assert_eq!(two, [2, 3]);
    /// # Ok(()) }
    /// ```
    pub fn read(&self, offset: usize, out: &mut [u8]) -> Result<()> {
        self.cells.load_range(offset, out)
    }

    /// Copies `bytes` into the block at `offset`; an
    /// [`IndexOutOfBounds`](crate::Error::IndexOutOfBounds) error, with
    /// nothing written, if they would pass the end.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-shm-write-{}", std::process::id());
    /// let block = shmipc::SharedMemory::create(&name, 4)?;
    /// block.write(2, b"ok")?;
    /// assert!(block.write(3, b"no").is_err());
    /// assert_eq!(block.to_vec(), b"\0\0ok");
    /// # Ok(()) }
    /// ```
    pub fn write(&self, offset: usize, bytes: &[u8]) -> Result<()> {
        self.cells.store_range(offset, bytes)
    }

    /// A copy of the whole block (Python's `bytes(shm.buf)`).
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-shm-to-vec-{}", std::process::id());
    /// let block = shmipc::SharedMemory::create(&name, 3)?;
    /// assert_eq!(block.to_vec(), vec![0, 0, 0]);
    /// # Ok(()) }
    /// ```
    pub fn to_vec(&self) -> Vec<u8> {
        self.cells.to_vec()
    }

    /// The address of the first byte in this process, valid for
    /// [`size`](Self::size) bytes while this handle lives. For code that
    /// keeps its own discipline over the bytes (a protocol with other
    /// processes, or hardware): any access through it is the caller's
    /// `unsafe`, and must tolerate other processes writing at the same time
    /// (use atomics or volatile copies, never `&[u8]` over bytes another
    /// process may write).
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-shm-ptr-{}", std::process::id());
    /// let block = shmipc::SharedMemory::create(&name, 8)?;
    /// // SAFETY: in bounds; no other process has the name yet.
    /// unsafe { block.as_ptr().add(7).write_volatile(9) };
    /// assert_eq!(block.to_vec()[7], 9);
    /// # Ok(()) }
    /// ```
    pub fn as_ptr(&self) -> *mut u8 {
        self.cells.data().as_ptr()
    }

    /// Removes the name, as Python's `unlink()`: later opens fail with
    /// [`NotFound`](crate::Error::NotFound), while the block stays mapped
    /// for every handle already open until it is dropped.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-shm-unlink-{}", std::process::id());
    /// let block = shmipc::SharedMemory::create(&name, 8)?;
    /// block.unlink()?;
    /// assert!(matches!(shmipc::SharedMemory::open(&name), Err(shmipc::Error::NotFound { .. })));
    /// block.write(0, b"still")?;
    /// # Ok(()) }
    /// ```
    pub fn unlink(&self) -> Result<()> {
        crate::segment::unlink(self.name())
    }
}

impl fmt::Debug for SharedMemory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SharedMemory")
            .field("name", &self.name())
            .field("size", &self.size())
            .finish()
    }
}
