//! What `Value`, `Array`, `RawValue` and `RawArray` have in common: a segment
//! holding `len` plain-data elements, and where their lock lives.

use std::marker::PhantomData;
use std::ptr::NonNull;
use std::sync::Arc;

use shmipc_core::fingerprint::Fingerprint;
use shmipc_core::header::Kind;
use shmipc_core::layout::{CellLayout, LockPlacement, LOCK_NAME_SIZE};
use shmipc_core::name::{validate_name, NameError, MAX_NAME_LEN};
use shmipc_core::racy;

use crate::condition::REENTRANT_FLAG;
use crate::error::{Corruption, Error, Result};
use crate::lock::{Guard, Lock, LockKind};
use crate::options::Options;
use crate::plain::Plain;
use crate::segment::{check_layout, checked_name, Segment, Spec};

/// Which lock guards a [`Value`](crate::Value), an [`Array`](crate::Array) or a
/// [`Condition`](crate::Condition), chosen when it is created (Python's `lock=` argument).
///
/// ```
/// # extern crate shmipc_shm as shmipc;
/// # fn main() -> Result<(), shmipc::Error> {
/// let pid = std::process::id();
/// let lock = shmipc::Lock::create(&format!("doc-cell-lock-{pid}"))?;
/// // Two cells updated together under one lock.
/// let bids = shmipc::Value::create_with(&format!("doc-bids-{pid}"), 0u64,
///     shmipc::CellLock::Shared(&lock), &shmipc::Options::new())?;
/// let asks = shmipc::Value::create_with(&format!("doc-asks-{pid}"), 0u64,
///     shmipc::CellLock::Shared(&lock), &shmipc::Options::new())?;
/// let mut guard = lock.acquire()?;
/// *bids.access(&mut guard)? += 1;
/// *asks.access(&mut guard)? += 1;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub enum CellLock<'a, L: LockKind = Lock> {
    /// A lock of its own, inside the object's segment (the default).
    Own,
    /// An existing lock, shared with other objects. Openers open it by name,
    /// so it must still be linked when they do.
    Shared(&'a L),
}

impl<L: LockKind> Clone for CellLock<'_, L> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<L: LockKind> Copy for CellLock<'_, L> {}

// Not derived: the derive would demand `L: Default`, which no lock type is.
#[allow(clippy::derivable_impls)]
impl<L: LockKind> Default for CellLock<'_, L> {
    fn default() -> Self {
        CellLock::Own
    }
}

/// How a new cell's elements start out.
pub(crate) enum Init<'a, T> {
    Zeroed(usize),
    Copy(&'a [T]),
}

impl<T> Init<'_, T> {
    fn len(&self) -> usize {
        match self {
            Init::Zeroed(len) => *len,
            Init::Copy(items) => items.len(),
        }
    }
}

pub(crate) struct Cells<T, L = Lock> {
    segment: Arc<Segment>,
    data: NonNull<T>,
    len: usize,
    lock: Option<L>,
    _marker: PhantomData<T>,
}

// SAFETY: elements are plain data (`Plain: Send + Sync`) in a mapping that
// `segment` keeps alive; the wrappers hand out `&mut` only under a lock guard and
// otherwise access the memory only atomically.
unsafe impl<T: Plain, L: LockKind> Send for Cells<T, L> {}
// SAFETY: as above.
unsafe impl<T: Plain, L: LockKind> Sync for Cells<T, L> {}

impl<T: Plain, L: LockKind> Cells<T, L> {
    pub(crate) fn create(
        name: &str,
        kind: Kind,
        init: Init<'_, T>,
        lock: Option<CellLock<'_, L>>,
        opts: &Options,
    ) -> Result<Cells<T, L>> {
        checked_name(name)?;
        let placement = match lock {
            None => LockPlacement::None,
            Some(CellLock::Own) => LockPlacement::Inline,
            Some(CellLock::Shared(_)) => LockPlacement::Named,
        };
        let fingerprint = Fingerprint::of::<T>();
        let len = init.len();
        let layout = CellLayout::new(fingerprint, len as u64, placement)
            .map_err(|e| Error::invalid(e.to_string()))?;
        let spec = Spec {
            kind,
            flags: placement.flags() | reentrant_flag::<L>(placement),
            fingerprint,
            type_name: std::any::type_name::<T>(),
            param: len as u64,
            total_size: layout.total_size,
        };
        let segment = Segment::create(name, &spec, opts, |base| {
            if let (Some(CellLock::Shared(shared)), Some(at)) = (lock, layout.lock_offset) {
                // SAFETY: the layout reserved LOCK_NAME_SIZE bytes at `at`, inside
                // the fresh mapping that no other process can use yet.
                unsafe { write_lock_name(base.as_ptr().add(at), shared.lock_name()) };
            }
            if let Init::Copy(items) = init {
                // SAFETY: the layout reserved `len * size_of::<T>()` bytes at the
                // data offset; `items` is a valid slice of plain data.
                unsafe {
                    racy::store_run_typed(
                        items.as_ptr(),
                        base.as_ptr().add(layout.data_offset).cast::<T>(),
                        items.len(),
                    )
                };
            }
        })?;
        let segment = Arc::new(segment);
        let lock = match lock {
            None => None,
            Some(CellLock::Own) => Some(L::at(
                segment.clone(),
                layout.lock_offset.unwrap_or_default(),
            )?),
            Some(CellLock::Shared(shared)) => Some(shared.clone()),
        };
        Cells::assemble(segment, layout, lock)
    }

    pub(crate) fn open(name: &str, kind: Kind, opts: &Options) -> Result<Cells<T, L>> {
        let fingerprint = Fingerprint::of::<T>();
        let segment = Segment::open(name, kind, fingerprint, std::any::type_name::<T>(), opts)?;
        let header = *segment.header();
        let reentrant = header.flags & REENTRANT_FLAG != 0;
        let placement = LockPlacement::from_flags(header.flags & !REENTRANT_FLAG)
            .ok_or_else(|| Error::bad_flags(name, kind, header.flags))?;
        if placement != LockPlacement::None && reentrant != L::REENTRANT {
            return Err(Error::LockKindMismatch {
                name: name.to_owned(),
                expected: L::NAME,
                found: if reentrant { "RLock" } else { "Lock" },
            });
        }
        let wants_lock = matches!(kind, Kind::Value | Kind::Array);
        if wants_lock == (placement == LockPlacement::None) {
            return Err(Error::bad_flags(name, kind, header.flags));
        }
        if matches!(kind, Kind::Value | Kind::RawValue) && header.param != 1 {
            return Err(Error::corrupt(
                name,
                Corruption::Parameter {
                    kind,
                    found: header.param,
                    layout: None,
                },
            ));
        }
        let layout = check_layout(
            &segment,
            kind,
            CellLayout::new(fingerprint, header.param, placement),
            |l| l.total_size,
        )?;
        let segment = Arc::new(segment);
        let lock = match (placement, layout.lock_offset) {
            (LockPlacement::Inline, Some(at)) => Some(L::at(segment.clone(), at)?),
            (LockPlacement::Named, Some(at)) => {
                let lock_name = read_lock_name(&segment, at)?;
                Some(L::open_named(&lock_name, opts)?)
            }
            _ => None,
        };
        Cells::assemble(segment, layout, lock)
    }

    fn assemble(segment: Arc<Segment>, layout: CellLayout, lock: Option<L>) -> Result<Cells<T, L>> {
        let bytes = layout
            .len
            .checked_mul(std::mem::size_of::<T>())
            .ok_or_else(|| {
                Error::corrupt(
                    segment.name(),
                    Corruption::Parameter {
                        kind: Kind::from_code(segment.header().kind).unwrap_or(Kind::Array),
                        found: segment.header().param,
                        layout: None,
                    },
                )
            })?;
        let data = segment.at(layout.data_offset, bytes)?.cast::<T>();
        Ok(Cells {
            segment,
            data,
            len: layout.len,
            lock,
            _marker: PhantomData,
        })
    }

    pub(crate) fn name(&self) -> &str {
        self.segment.name()
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    pub(crate) fn data(&self) -> NonNull<T> {
        self.data
    }

    /// Splits off the lock of a locked kind (Value, Array). Their layouts always
    /// have one (checked at create and open); a missing one is reported, not assumed.
    pub(crate) fn into_locked(mut self) -> Result<(Cells<T, L>, L)> {
        match self.lock.take() {
            Some(lock) => Ok((self, lock)),
            None => Err(Error::bad_flags(
                self.name(),
                Kind::from_code(self.segment.header().kind).unwrap_or(Kind::Value),
                self.segment.header().flags,
            )),
        }
    }

    /// Checks that `guard` holds `lock`, the lock of these cells, so that the
    /// caller may hand out `&mut` access under it.
    pub(crate) fn check_guard<G: Guard>(&self, lock: &L, guard: &G) -> Result<()> {
        check_guard(self.name(), lock, guard)
    }

    pub(crate) fn check_index(&self, index: usize) -> Result<()> {
        if index < self.len {
            Ok(())
        } else {
            Err(Error::IndexOutOfBounds {
                name: self.name().to_owned(),
                index,
                len: self.len,
            })
        }
    }

    /// Pointer to element `index`, which the caller has bounds-checked.
    pub(crate) fn element(&self, index: usize) -> *mut T {
        debug_assert!(index < self.len);
        // SAFETY: `index < len`, and `len` elements lie inside the mapping.
        unsafe { self.data.as_ptr().add(index) }
    }

    /// Copies elements `start..start + out.len()` out, racily but safely.
    pub(crate) fn load_range(&self, start: usize, out: &mut [T]) -> Result<()> {
        self.check_range(start, out.len())?;
        // SAFETY: the range is inside the cells (checked); `out` is private;
        // `T` is `Pod`. The copy moves each element at the width of `T`
        // (`racy::unit_of`), the width of its atomic operations too.
        unsafe { racy::load_run_typed(self.data.as_ptr().add(start), out.as_mut_ptr(), out.len()) };
        Ok(())
    }

    /// A copy of element `index`, racily but safely.
    pub(crate) fn load_one(&self, index: usize) -> Result<T> {
        let mut out = [T::zeroed()];
        self.load_range(index, &mut out)?;
        Ok(out[0])
    }

    /// A copy of every element, racily but safely.
    pub(crate) fn to_vec(&self) -> Vec<T> {
        let mut out = vec![T::zeroed(); self.len];
        // The range is the whole array, so it cannot be out of bounds.
        let _ = self.load_range(0, &mut out);
        out
    }

    /// Copies `items` into elements `start..start + items.len()`, racily but safely.
    pub(crate) fn store_range(&self, start: usize, items: &[T]) -> Result<()> {
        self.check_range(start, items.len())?;
        // SAFETY: as in `load_range`; `items` is private.
        unsafe {
            racy::store_run_typed(items.as_ptr(), self.data.as_ptr().add(start), items.len())
        };
        Ok(())
    }

    fn check_range(&self, start: usize, count: usize) -> Result<()> {
        match start.checked_add(count) {
            Some(end) if end <= self.len => Ok(()),
            _ => Err(Error::IndexOutOfBounds {
                name: self.name().to_owned(),
                index: start.saturating_add(count).saturating_sub(1),
                len: self.len,
            }),
        }
    }
}

/// Writes the record naming a shared lock.
///
/// # Safety
/// `to` is valid for [`LOCK_NAME_SIZE`] bytes.
pub(crate) unsafe fn write_lock_name(to: *mut u8, name: &str) {
    let bytes = name.as_bytes();
    let len = bytes.len().min(MAX_NAME_LEN);
    let mut record = [0u8; LOCK_NAME_SIZE];
    record[..4].copy_from_slice(&(len as u32).to_ne_bytes());
    record[4..4 + len].copy_from_slice(&bytes[..len]);
    // SAFETY: forwarded from the caller.
    unsafe { racy::store(record.as_ptr(), to, LOCK_NAME_SIZE) };
}

/// Reads and validates the record naming a shared lock.
pub(crate) fn read_lock_name(segment: &Segment, at: usize) -> Result<String> {
    let ptr = segment.at(at, LOCK_NAME_SIZE)?;
    let mut record = [0u8; LOCK_NAME_SIZE];
    // SAFETY: `at..at + LOCK_NAME_SIZE` is inside the segment (checked by `at`).
    unsafe { racy::load(ptr.as_ptr(), record.as_mut_ptr(), LOCK_NAME_SIZE) };
    let len = u32::from_ne_bytes([record[0], record[1], record[2], record[3]]) as usize;
    let bad = |name: Option<NameError>| {
        Error::corrupt(
            segment.name(),
            Corruption::LockName {
                len: len as u64,
                name,
            },
        )
    };
    if len == 0 || len > MAX_NAME_LEN {
        return Err(bad(None));
    }
    let name = std::str::from_utf8(&record[4..4 + len]).map_err(|_| bad(None))?;
    validate_name(name).map_err(|e| bad(Some(e)))?;
    Ok(name.to_owned())
}

/// Checks that `guard` holds `lock`, the lock of object `name`.
pub(crate) fn check_guard<L: LockKind, G: Guard>(name: &str, lock: &L, guard: &G) -> Result<()> {
    if guard.lock_id() == lock.id() {
        return Ok(());
    }
    Err(Error::WrongLock {
        name: name.to_owned(),
        expected: lock.lock_name().to_owned(),
        found: guard.lock_name().to_owned(),
    })
}

/// The header flag that records an RLock, for objects that have a lock.
fn reentrant_flag<L: LockKind>(placement: LockPlacement) -> u16 {
    if L::REENTRANT && placement != LockPlacement::None {
        REENTRANT_FLAG
    } else {
        0
    }
}
