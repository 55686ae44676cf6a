//! `Queue<T>` and `JoinableQueue<T>`: bounded queues of plain-data values
//! between processes (Python's `multiprocessing.Queue` and `JoinableQueue`, for
//! `Copy` data), over the lock-free rings of `shmipc-core`.

use std::fmt;
use std::marker::PhantomData;
use std::ops::Deref;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use shmipc_core::eventcount::EventCount;
use shmipc_core::fingerprint::Fingerprint;
use shmipc_core::header::Kind;
use shmipc_core::layout::{queue_flags, QueueLayout, QueueMode, SlotShape};
use shmipc_core::mpmc::{Mpmc, MpmcIndices, SequencedSlots};
use shmipc_core::park::{Liveness, Owner, Parked};
use shmipc_core::racy;
use shmipc_core::ring::{RingError, Slots};
use shmipc_core::spin::{poll_then_yield, spin_then_yield, TIGHT_POLLS};
use shmipc_core::spsc::{GroupedSlots, Spsc, SpscGeometry, SpscIndices};

use crate::error::{Error, Result};
use crate::futex::{FutexPark, FutexWake};
use crate::identity;
use crate::options::Options;
use crate::plain::Plain;
use crate::segment::{Segment, Spec};

/// How a blocked `put` or `get` waits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WaitStrategy {
    /// Never sleep: poll (yielding now and then). Lowest latency, burns a core.
    Spin,
    /// Sleep on a futex at once. Cheapest for the CPU, ~40 µs to wake here.
    Park,
    /// Poll for a few microseconds, then sleep (the default).
    #[default]
    SpinThenPark,
}

/// Who holds the producer or consumer role of an SPSC queue.
///
/// `tid` is the lock word (0: free; taken by compare-exchange); `pid` and
/// `start` let others tell a dead holder from a live one. `key`, the holder's
/// [`identity::key`], is what the holder's every put or get checks: one load
/// and one compare. It is set after the role is taken and cleared before it
/// is given up, so a thread that finds its key there holds the role.
///
/// `key` comes first so that both claims' keys, read by every put and get,
/// sit on the control block's first line (see [`Control`]).
#[repr(C)]
struct Claim {
    key: AtomicU64,
    tid: AtomicU32,
    pid: AtomicU32,
    start: AtomicU64,
}

/// The control block after the header. All-zero bytes are an open queue with
/// no waiters, no tasks done and no role holders.
///
/// The first line holds what every put and get reads (the closed flag, the
/// eventcounts' waiter counts, the claims' keys) and nothing written on the
/// way; the task count, written by every `task_done`, is on the second line.
#[repr(C, align(64))]
struct Control {
    closed: AtomicU32,
    _pad: AtomicU32,
    /// Consumers wait here for items; producers notify.
    not_empty: EventCount,
    /// Producers wait here for room; consumers notify.
    not_full: EventCount,
    producer: Claim,
    consumer: Claim,
    /// JoinableQueue: `task_done` calls so far. Tasks unfinished are the
    /// items put (the ring's tail) less this, so a put counts nothing.
    tasks_done: AtomicU64,
    /// JoinableQueue: `join` waits here.
    all_done: EventCount,
}

const _: () = assert!(std::mem::size_of::<Control>() <= shmipc_core::layout::QUEUE_CONTROL_SIZE);
const _: () = assert!(std::mem::offset_of!(Control, consumer) + 8 <= 64);
const _: () = assert!(std::mem::offset_of!(Control, tasks_done) >= 64);

#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    Producer,
    Consumer,
}

impl Role {
    fn name(self) -> &'static str {
        match self {
            Role::Producer => "producer",
            Role::Consumer => "consumer",
        }
    }
}

/// The slots of a queue segment, accessed with race-tolerant copies: each a
/// stamp and then items of `T`, shaped as [`SlotShape::of`] says for `T`
/// (one item for MPMC, [`GroupedSlots::PER_GROUP`] for SPSC). The shapes
/// are constants of `T`; [`ShmSlots::new`] checks the layout agrees.
///
/// The MPMC ring reaches them through [`Slots`] and [`SequencedSlots`]
/// (slots of [`Self::MPMC`]'s shape), the SPSC ring through
/// [`GroupedSlots`] ([`Self::SPSC`]'s); a queue builds only the ring of the
/// mode its slots were made for.
struct ShmSlots<T> {
    base: NonNull<u8>,
    _marker: PhantomData<T>,
}

impl<T: Plain> ShmSlots<T> {
    const SPSC: SlotShape = SlotShape::of(size_of::<T>(), align_of::<T>(), QueueMode::Spsc);
    const MPMC: SlotShape = SlotShape::of(size_of::<T>(), align_of::<T>(), QueueMode::Mpmc);

    /// The slots at `base`, laid out as `layout` says for `mode`.
    fn new(base: NonNull<u8>, layout: &QueueLayout, mode: QueueMode) -> Result<ShmSlots<T>> {
        Self::check(layout, mode)?;
        Ok(ShmSlots {
            base,
            _marker: PhantomData,
        })
    }

    /// Whether `layout` has the slot shape of `T` in `mode`, which the slot
    /// addresses assume.
    fn check(layout: &QueueLayout, mode: QueueMode) -> Result<()> {
        let shape = match mode {
            QueueMode::Spsc => Self::SPSC,
            QueueMode::Mpmc => Self::MPMC,
        };
        let found = (layout.slot_size, layout.item_offset, layout.per_group);
        if found != (shape.size, shape.item_offset, shape.per_slot) {
            return Err(Error::invalid(format!(
                "expected slots of {} bytes with {} items from offset {}, found {} bytes with {} from {}",
                shape.size, shape.per_slot, shape.item_offset, found.0, found.2, found.1
            )));
        }
        Ok(())
    }

    /// Where slot `index` starts (its stamp), in slots of `slot_size` bytes,
    /// the size of the mode's shape (a constant). `index` is below the
    /// layout's slot count (the rings mask every position), and the layout
    /// spans `slots * slot_size` bytes from `base`, which is 64-byte
    /// aligned, as are the slot size and the item offset to `T`'s alignment
    /// (at most 64).
    #[inline(always)]
    fn line(&self, index: usize, slot_size: usize) -> *mut u8 {
        self.base.as_ptr().wrapping_add(index * slot_size)
    }

    /// Item `offset` of the slot starting at `line`; `offset` is below the
    /// layout's items per slot (the SPSC ring takes it as a remainder of
    /// `PER_GROUP`). The first item's offset is the same in both shapes.
    #[inline(always)]
    fn item_in(&self, line: *mut u8, offset: usize) -> *mut T {
        line.wrapping_add(Self::MPMC.item_offset)
            .cast::<T>()
            .wrapping_add(offset)
    }

    /// MPMC slot `index`'s item.
    fn mpmc_item(&self, index: usize) -> *mut T {
        self.item_in(self.line(index, Self::MPMC.size), 0)
    }

    /// SPSC slot `group`'s item `offset`.
    fn spsc_item(&self, group: usize, offset: usize) -> *mut T {
        self.item_in(self.line(group, Self::SPSC.size), offset)
    }

    /// The stamp at the start of the slot at `line`.
    fn stamp_at(&self, line: *mut u8) -> &AtomicU64 {
        // SAFETY: each slot starts with an 8-byte-aligned stamp inside the
        // segment (see `line`), only ever accessed atomically.
        unsafe { &*line.cast::<AtomicU64>() }
    }
}

impl<T: Plain> Slots<T> for ShmSlots<T> {
    unsafe fn write(&self, index: usize, value: T) {
        // SAFETY: the slot lies inside the segment and is aligned for `T`
        // (see `line` and `item_in`); racy copies tolerate a misbehaving
        // peer touching it at the same time.
        unsafe { racy::store_typed(&value, self.mpmc_item(index)) };
    }

    unsafe fn read(&self, index: usize) -> T {
        let mut value = T::zeroed();
        // SAFETY: as in `write`; `value` is ours.
        unsafe { racy::load_typed(self.mpmc_item(index), &mut value) };
        value
    }
}

impl<T: Plain> SequencedSlots<T> for ShmSlots<T> {
    fn sequence(&self, index: usize) -> &AtomicU64 {
        self.stamp_at(self.line(index, Self::MPMC.size))
    }
}

impl<T: Plain> GroupedSlots<T> for ShmSlots<T> {
    const PER_GROUP: u64 = Self::SPSC.per_slot;

    fn stamp(&self, group: usize) -> &AtomicU64 {
        self.stamp_at(self.line(group, Self::SPSC.size))
    }

    unsafe fn write(&self, group: usize, offset: usize, value: T) {
        // SAFETY: as in `Slots::write`.
        unsafe { racy::store_typed(&value, self.spsc_item(group, offset)) };
    }

    unsafe fn read(&self, group: usize, offset: usize) -> T {
        let mut value = T::zeroed();
        // SAFETY: as in `Slots::write`; `value` is ours.
        unsafe { racy::load_typed(self.spsc_item(group, offset), &mut value) };
        value
    }

    #[inline(always)]
    unsafe fn publish(&self, group: usize, offset: usize, value: T, stamp: u64) {
        let line = self.line(group, Self::SPSC.size);
        let item = self.item_in(line, offset);
        // SAFETY: as in `Slots::write` (`item` is `self.spsc_item(group,
        // offset)`), and the line starts with its stamp (see `stamp_at`).
        unsafe {
            racy::store_typed(&value, item);
            (*line.cast::<AtomicU64>()).store(stamp, Ordering::Release);
        }
    }

    #[inline(always)]
    unsafe fn read_if(
        &self,
        group: usize,
        offset: usize,
        ready: impl FnOnce(u64) -> bool,
    ) -> (u64, Option<T>) {
        let line = self.line(group, Self::SPSC.size);
        let item = self.item_in(line, offset);
        // SAFETY: as in `publish`.
        let stamp = unsafe { (*line.cast::<AtomicU64>()).load(Ordering::Acquire) };
        if !ready(stamp) {
            return (stamp, None);
        }
        let mut value = T::zeroed();
        // SAFETY: as in `Slots::read`; the caller's `ready` said the item is ours.
        unsafe { racy::load_typed(item, &mut value) };
        (stamp, Some(value))
    }

    unsafe fn write_run(&self, group: usize, offset: usize, values: &[T]) {
        // SAFETY: as in `Slots::write`, for each slot of the run, which the
        // ring keeps inside the group.
        unsafe {
            racy::store_run_typed(values.as_ptr(), self.spsc_item(group, offset), values.len())
        };
    }

    unsafe fn read_run(&self, group: usize, offset: usize, out: &mut [T]) {
        // SAFETY: as in `write_run`; `out` is ours.
        unsafe { racy::load_run_typed(self.spsc_item(group, offset), out.as_mut_ptr(), out.len()) };
    }

    #[inline(always)]
    fn prefetch(&self, group: usize) {
        #[cfg(target_arch = "x86_64")]
        {
            let line = self.line(group, Self::SPSC.size);
            // SAFETY: a prefetch is a hint: it never faults and changes no
            // memory, whatever the address.
            unsafe {
                std::arch::x86_64::_mm_prefetch(line.cast::<i8>(), std::arch::x86_64::_MM_HINT_T0)
            };
        }
        #[cfg(not(target_arch = "x86_64"))]
        let _ = group;
    }
}

/// The SPSC ring's shape in a queue laid out as `layout` (which
/// [`QueueLayout::new`] has already checked, so this fails only if the two
/// disagree).
fn spsc_geometry<T: Plain>(layout: &QueueLayout) -> Result<SpscGeometry> {
    let per_slot = <ShmSlots<T> as GroupedSlots<T>>::PER_GROUP;
    layout
        .spsc_geometry()
        .filter(|g| g.per_group() == per_slot)
        .ok_or_else(|| {
            Error::invalid(format!(
                "expected an SPSC ring of capacity {} with {per_slot} items to a stamp, found {} to a stamp",
                layout.capacity, layout.per_group
            ))
        })
}

/// Attempts (the first few of a waiting put's back-off, under a
/// microsecond) for which a put holds out for [`Queue::slack`] free slots;
/// after them it takes any room.
const SLACK_TRIES: u32 = 6;

/// How far ahead of its position an SPSC consumer prefetches (measured; see
/// [`Spsc::with_prefetch`]).
const PREFETCH_BYTES: u64 = 256;

/// How eagerly a waiter polls before it parks.
#[derive(Clone, Copy)]
enum Patience {
    /// A consumer waiting for an item: its latency is the queue's latency, so
    /// poll after every pause at first.
    Eager,
    /// A producer waiting for room (or `join`): the other side is behind, and
    /// polling its cache lines would only slow it down, so back off from the start.
    BackOff,
}

enum Ring {
    Spsc(NonNull<SpscIndices>, SpscGeometry),
    Mpmc(NonNull<MpmcIndices>),
}

/// Why a `put` did not enqueue; the item comes back in every case.
#[derive(Debug)]
pub enum PutError<T> {
    /// `try_put` found the queue full.
    Full {
        /// The item, handed back.
        item: T,
        /// The queue's name.
        queue: Arc<str>,
    },
    /// `put_timeout` waited its whole timeout.
    TimedOut {
        /// The item, handed back.
        item: T,
        /// The queue's name.
        queue: Arc<str>,
        /// The timeout given.
        after: Duration,
    },
    /// The queue is closed.
    Closed {
        /// The item, handed back.
        item: T,
        /// The queue's name.
        queue: Arc<str>,
    },
    /// Anything else: a corrupt ring, a taken SPSC role.
    Failed {
        /// The item, handed back.
        item: T,
        /// What went wrong.
        error: Error,
    },
}

impl<T> PutError<T> {
    /// The item that was not enqueued.
    pub fn into_inner(self) -> T {
        match self {
            PutError::Full { item, .. }
            | PutError::TimedOut { item, .. }
            | PutError::Closed { item, .. }
            | PutError::Failed { item, .. } => item,
        }
    }
}

impl<T> fmt::Display for PutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PutError::Full { queue, .. } => write!(f, "queue '{queue}' is full"),
            PutError::TimedOut { queue, after, .. } => {
                write!(
                    f,
                    "put_timeout on queue '{queue}' timed out after {after:?}"
                )
            }
            PutError::Closed { queue, .. } => write!(f, "queue '{queue}' is closed"),
            PutError::Failed { error, .. } => error.fmt(f),
        }
    }
}

impl<T: fmt::Debug> std::error::Error for PutError<T> {}

impl<T> From<PutError<T>> for Error {
    fn from(e: PutError<T>) -> Error {
        match e {
            PutError::Full { queue, .. } => Error::WouldBlock {
                name: queue.to_string(),
                op: "try_put",
            },
            PutError::TimedOut { queue, after, .. } => Error::TimedOut {
                name: queue.to_string(),
                op: "put_timeout",
                after,
            },
            PutError::Closed { queue, .. } => Error::Closed {
                name: queue.to_string(),
            },
            PutError::Failed { error, .. } => error,
        }
    }
}

/// Why a `get` returned no item.
#[derive(Debug)]
pub enum GetError {
    /// `try_get` found the queue empty.
    Empty {
        /// The queue's name.
        queue: Arc<str>,
    },
    /// `get_timeout` waited its whole timeout.
    TimedOut {
        /// The queue's name.
        queue: Arc<str>,
        /// The timeout given.
        after: Duration,
    },
    /// The queue is closed and drained.
    Closed {
        /// The queue's name.
        queue: Arc<str>,
    },
    /// Anything else: a corrupt ring, a taken SPSC role.
    Failed(Error),
}

impl fmt::Display for GetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GetError::Empty { queue } => write!(f, "queue '{queue}' is empty"),
            GetError::TimedOut { queue, after } => {
                write!(
                    f,
                    "get_timeout on queue '{queue}' timed out after {after:?}"
                )
            }
            GetError::Closed { queue } => write!(f, "queue '{queue}' is closed and drained"),
            GetError::Failed(error) => error.fmt(f),
        }
    }
}

impl std::error::Error for GetError {}

impl From<GetError> for Error {
    fn from(e: GetError) -> Error {
        match e {
            GetError::Empty { queue } => Error::WouldBlock {
                name: queue.to_string(),
                op: "try_get",
            },
            GetError::TimedOut { queue, after } => Error::TimedOut {
                name: queue.to_string(),
                op: "get_timeout",
                after,
            },
            GetError::Closed { queue } => Error::Closed {
                name: queue.to_string(),
            },
            GetError::Failed(error) => error,
        }
    }
}

/// A bounded queue of plain-data values shared by processes, like Python's
/// `multiprocessing.Queue` for `Copy` data, without pickling, pipes or feeder
/// threads: a lock-free ring in shared memory.
///
/// - [`Queue::create`] makes a multi-producer multi-consumer queue (Vyukov's
///   per-slot sequences); [`Queue::create_spsc`] a faster single-producer
///   single-consumer one, which refuses a second producer or consumer
///   ([`Error::RoleTaken`]) while the first is alive.
/// - `put`/`get` block, `try_` forms do not, `_timeout` forms wait at most a
///   while; a failed put hands the item back ([`PutError::into_inner`]).
/// - [`Queue::close`]: later puts fail; gets drain what is left, then fail.
/// - For streams, the batch forms ([`Queue::put_slice`], [`Queue::get_slice`]
///   and their `try_`/`_timeout` variants) publish a whole batch at once: on
///   an SPSC queue, batches of 256 `u64`s move at 2-7× the single-item
///   rate in `benches/queue.rs`.
/// - Waiting spins, then parks ([`WaitStrategy`]); a put or get makes no
///   syscall unless someone sleeps.
///
/// ```
/// # extern crate shmipc_shm as shmipc;
/// # fn main() -> Result<(), shmipc::Error> {
/// let name = format!("doc-queue-{}", std::process::id());
/// let q = shmipc::Queue::<u64>::create(&name, 1024)?;
/// let same = shmipc::Queue::<u64>::open(&name)?;     // from any process
/// q.put(7)?;
/// q.try_put(8)?;
/// assert_eq!(same.get()?, 7);
/// assert_eq!(same.get_timeout(std::time::Duration::from_millis(10))?, 8);
/// assert!(matches!(same.try_get(), Err(shmipc::GetError::Empty { .. })));
/// # Ok(()) }
/// ```
pub struct Queue<T: Plain> {
    /// Keeps the mapping (and so every pointer below) alive.
    _segment: Arc<Segment>,
    name: Arc<str>,
    control: NonNull<Control>,
    ring: Ring,
    slots: ShmSlots<T>,
    capacity: u64,
    /// The free slots a waiting `put` holds out for: 1/16 of the ring, at
    /// most 64 (see [`Queue::slack`]).
    put_slack: u64,
    /// How far ahead an SPSC `get` prefetches, in slots of a stamp and its
    /// items (see [`Spsc::with_prefetch`]).
    prefetch: u64,
    /// Where this handle's MPMC puts next look for slack (see
    /// [`Mpmc::push_with_slack`]); a hint, per handle, never shared.
    mpmc_room_until: AtomicU64,
    joinable: bool,
    wait: WaitStrategy,
}

// SAFETY: shared state is atomics and race-tolerant slot copies in a mapping
// `segment` keeps alive; SPSC operations run only in the role holder's thread.
unsafe impl<T: Plain> Send for Queue<T> {}
// SAFETY: as above.
unsafe impl<T: Plain> Sync for Queue<T> {}

impl<T: Plain> fmt::Debug for Queue<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Queue")
            .field("name", &self.name)
            .field(
                "mode",
                &if matches!(self.ring, Ring::Spsc(..)) {
                    "SPSC"
                } else {
                    "MPMC"
                },
            )
            .field("capacity", &self.capacity)
            .field("len", &self.len())
            .field("closed", &self.is_closed())
            .finish()
    }
}

fn mode_flags(mode: QueueMode) -> u16 {
    match mode {
        QueueMode::Spsc => queue_flags::SPSC,
        QueueMode::Mpmc => queue_flags::MPMC,
    }
}

impl<T: Plain> Queue<T> {
    /// Creates a multi-producer multi-consumer queue of `capacity` items (a power of two).
    pub fn create(name: &str, capacity: u64) -> Result<Queue<T>> {
        Queue::create_with(name, capacity, QueueMode::Mpmc, &Options::default())
    }

    /// Creates a single-producer single-consumer queue of `capacity` items (a power of two).
    pub fn create_spsc(name: &str, capacity: u64) -> Result<Queue<T>> {
        Queue::create_with(name, capacity, QueueMode::Spsc, &Options::default())
    }

    /// Creates a queue in `mode`, with `opts`.
    pub fn create_with(
        name: &str,
        capacity: u64,
        mode: QueueMode,
        opts: &Options,
    ) -> Result<Queue<T>> {
        Queue::make(name, capacity, mode, false, opts)
    }

    fn make(
        name: &str,
        capacity: u64,
        mode: QueueMode,
        joinable: bool,
        opts: &Options,
    ) -> Result<Queue<T>> {
        let fingerprint = Fingerprint::of::<T>();
        let layout = QueueLayout::new(fingerprint, capacity, mode)
            .map_err(|e| Error::invalid(e.to_string()))?;
        let flags = mode_flags(mode) | if joinable { queue_flags::JOINABLE } else { 0 };
        let spec = Spec {
            kind: Kind::Queue,
            flags,
            fingerprint,
            param: capacity,
            total_size: layout.total_size,
        };
        let geometry = match mode {
            QueueMode::Spsc => Some(spsc_geometry::<T>(&layout)?),
            QueueMode::Mpmc => None,
        };
        ShmSlots::<T>::check(&layout, mode)?;
        let segment = Segment::create(name, &spec, opts, |base| {
            let slots = ShmSlots::<T> {
                // SAFETY: inside the fresh mapping (the layout says so).
                base: unsafe { NonNull::new_unchecked(base.as_ptr().add(layout.slots_offset)) },
                _marker: PhantomData,
            };
            let indices = base.as_ptr().wrapping_add(layout.indices_offset);
            match geometry {
                Some(geometry) => {
                    // SAFETY: the positions sit, aligned, at their layout
                    // offset in the mapping; atomics only.
                    let indices = unsafe { &*indices.cast::<SpscIndices>() };
                    Spsc::new(indices, &slots, geometry).init::<T>()
                }
                None => {
                    // SAFETY: as above.
                    let indices = unsafe { &*indices.cast::<MpmcIndices>() };
                    Mpmc::new(indices, &slots, capacity).init::<T>()
                }
            }
        })?;
        Queue::assemble(Arc::new(segment), layout, mode, joinable)
    }

    /// Opens the queue named `name`; fails with [`Error::TypeMismatch`] if its
    /// items are of another type.
    pub fn open(name: &str) -> Result<Queue<T>> {
        Queue::open_with(name, &Options::default())
    }

    /// Opens the queue named `name` with `opts`.
    pub fn open_with(name: &str, opts: &Options) -> Result<Queue<T>> {
        let fingerprint = Fingerprint::of::<T>();
        let segment = Segment::open(
            name,
            Kind::Queue,
            fingerprint,
            std::any::type_name::<T>(),
            opts,
        )?;
        let header = *segment.header();
        let mode = match header.flags & (queue_flags::SPSC | queue_flags::MPMC) {
            queue_flags::SPSC => QueueMode::Spsc,
            queue_flags::MPMC => QueueMode::Mpmc,
            _ => {
                return Err(Error::corrupt(
                    name,
                    format!("impossible queue flags {}", header.flags),
                ))
            }
        };
        let layout = QueueLayout::new(fingerprint, header.param, mode)
            .map_err(|e| Error::corrupt(name, format!("capacity {}: {e}", header.param)))?;
        if layout.total_size as u64 != header.total_size {
            return Err(Error::corrupt(
                name,
                format!(
                    "expected {} bytes for {} slots, found {}",
                    layout.total_size, header.param, header.total_size
                ),
            ));
        }
        let joinable = header.flags & queue_flags::JOINABLE != 0;
        Queue::assemble(Arc::new(segment), layout, mode, joinable)
    }

    fn assemble(
        segment: Arc<Segment>,
        layout: QueueLayout,
        mode: QueueMode,
        joinable: bool,
    ) -> Result<Queue<T>> {
        let control = segment
            .at(layout.control_offset, std::mem::size_of::<Control>())?
            .cast();
        let ring = match mode {
            QueueMode::Spsc => Ring::Spsc(
                segment
                    .at(layout.indices_offset, std::mem::size_of::<SpscIndices>())?
                    .cast(),
                spsc_geometry::<T>(&layout)?,
            ),
            QueueMode::Mpmc => Ring::Mpmc(
                segment
                    .at(layout.indices_offset, std::mem::size_of::<MpmcIndices>())?
                    .cast(),
            ),
        };
        let slot_bytes = usize::try_from(layout.slots)
            .ok()
            .and_then(|slots| slots.checked_mul(layout.slot_size))
            .ok_or_else(|| Error::corrupt(segment.name(), "slot bytes overflow"))?;
        let slots = ShmSlots::new(segment.at(layout.slots_offset, slot_bytes)?, &layout, mode)?;
        Ok(Queue {
            name: Arc::from(segment.name()),
            _segment: segment,
            control,
            ring,
            slots,
            capacity: layout.capacity,
            put_slack: (layout.capacity / 16).clamp(1, 64),
            prefetch: (PREFETCH_BYTES / layout.slot_size as u64).max(1),
            mpmc_room_until: AtomicU64::new(0),
            joinable,
            wait: WaitStrategy::default(),
        })
    }

    /// This handle, waiting with `strategy` from now on.
    pub fn with_wait(mut self, strategy: WaitStrategy) -> Queue<T> {
        self.wait = strategy;
        self
    }

    fn mpmc(&self, indices: NonNull<MpmcIndices>) -> Mpmc<'_, ShmSlots<T>> {
        // SAFETY: the indices are aligned, inside the mapping `_segment` keeps
        // alive, and atomics only.
        Mpmc::new(unsafe { indices.as_ref() }, &self.slots, self.capacity)
    }

    /// A push onto the MPMC ring holding out for `slack` free slots, with
    /// this handle's memory of where it last looked.
    #[inline(always)]
    fn mpmc_push(
        &self,
        indices: NonNull<MpmcIndices>,
        item: T,
        slack: u64,
    ) -> std::result::Result<(), RingError> {
        let before = self.mpmc_room_until.load(Ordering::Relaxed);
        let mut room_until = before;
        let pushed = self
            .mpmc(indices)
            .push_with_slack(item, slack, &mut room_until);
        if room_until != before {
            self.mpmc_room_until.store(room_until, Ordering::Relaxed);
        }
        pushed
    }

    /// The SPSC ring, after checking that the calling thread holds `role`
    /// (one producer and one consumer is what makes the ring correct).
    fn spsc(
        &self,
        indices: NonNull<SpscIndices>,
        geometry: SpscGeometry,
        role: Role,
    ) -> Result<Spsc<'_, ShmSlots<T>>> {
        self.claim(role)?;
        Ok(self.spsc_ring(indices, geometry))
    }

    #[inline(always)]
    fn spsc_ring(
        &self,
        indices: NonNull<SpscIndices>,
        geometry: SpscGeometry,
    ) -> Spsc<'_, ShmSlots<T>> {
        // SAFETY: the indices are aligned, inside the mapping `_segment`
        // keeps alive, and atomics only.
        Spsc::new(unsafe { indices.as_ref() }, &self.slots, geometry).with_prefetch(self.prefetch)
    }

    fn control(&self) -> &Control {
        // SAFETY: aligned, inside the mapping `segment` keeps alive, atomics only.
        unsafe { self.control.as_ref() }
    }

    /// The queue's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// How many items fit.
    pub fn capacity(&self) -> u64 {
        self.capacity
    }

    /// Items in the queue (a snapshot, as Python's `qsize`).
    pub fn len(&self) -> u64 {
        let len = match self.ring {
            // SAFETY: the indices live in the mapping, atomics only.
            Ring::Spsc(ix, _) => unsafe { ix.as_ref() }.len(),
            // SAFETY: as above.
            Ring::Mpmc(ix) => unsafe { ix.as_ref() }.len(),
        };
        len.min(self.capacity)
    }

    /// Whether the queue is empty (a snapshot).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether the queue is full (a snapshot).
    pub fn is_full(&self) -> bool {
        self.len() >= self.capacity
    }

    /// Whether the queue has been closed.
    pub fn is_closed(&self) -> bool {
        self.control().closed.load(Ordering::SeqCst) != 0
    }

    /// Closes the queue for everyone: later puts fail with the item handed
    /// back; gets take what is left, then fail with [`GetError::Closed`]. Wakes
    /// every waiter.
    pub fn close(&self) {
        let c = self.control();
        c.closed.store(1, Ordering::SeqCst);
        c.not_empty.notify(&FutexWake, u32::MAX);
        c.not_full.notify(&FutexWake, u32::MAX);
    }

    fn claim_of(&self, role: Role) -> &Claim {
        let c = self.control();
        match role {
            Role::Producer => &c.producer,
            Role::Consumer => &c.consumer,
        }
    }

    /// Whether the calling thread already holds an SPSC role.
    #[inline(always)]
    fn holds(&self, role: Role) -> bool {
        // Relaxed: only this thread ever stores its own key.
        self.claim_of(role).key.load(Ordering::Relaxed) == identity::key()
    }

    /// Checks (and if free, takes) an SPSC role for the calling thread.
    fn claim(&self, role: Role) -> Result<()> {
        if self.holds(role) {
            return Ok(());
        }
        self.claim_slow(self.claim_of(role), role, &identity::current())
    }

    /// One push on the common path: the role held (SPSC) and room in the
    /// ring. `false` sends the caller down the general path, which repeats
    /// the attempt and explains any failure.
    #[inline(always)]
    fn push_fast(&self, item: T, slack: u64) -> bool {
        match self.ring {
            Ring::Spsc(ix, geometry) => {
                self.holds(Role::Producer)
                    && self
                        .spsc_ring(ix, geometry)
                        .push_with_slack(item, slack)
                        .is_ok()
            }
            Ring::Mpmc(ix) => self.mpmc_push(ix, item, slack).is_ok(),
        }
    }

    /// One pop on the common path; `None` sends the caller down the general path.
    #[inline(always)]
    fn pop_fast(&self) -> Option<T> {
        match self.ring {
            Ring::Spsc(ix, geometry) => {
                if self.holds(Role::Consumer) {
                    self.spsc_ring(ix, geometry).pop().ok()
                } else {
                    None
                }
            }
            Ring::Mpmc(ix) => self.mpmc(ix).pop().ok(),
        }
    }

    #[cold]
    fn claim_slow(&self, claim: &Claim, role: Role, me: &Owner) -> Result<()> {
        let holder_tid = claim.tid.load(Ordering::SeqCst);
        if holder_tid != 0 {
            let holder = Owner {
                tid: holder_tid,
                pid: claim.pid.load(Ordering::SeqCst),
                start: claim.start.load(Ordering::SeqCst),
            };
            if holder == *me {
                // Ours, with the key lost (a peer wrote over it): restore it.
                claim.key.store(identity::pack(me), Ordering::SeqCst);
                return Ok(());
            }
            if identity::liveness(&holder) == Liveness::Alive {
                return Err(Error::RoleTaken {
                    name: self.name.to_string(),
                    role: role.name(),
                    pid: holder.pid,
                });
            }
        }
        if claim
            .tid
            .compare_exchange(holder_tid, me.tid, Ordering::SeqCst, Ordering::SeqCst)
            .is_err()
        {
            return Err(Error::RoleTaken {
                name: self.name.to_string(),
                role: role.name(),
                pid: claim.pid.load(Ordering::SeqCst),
            });
        }
        claim.pid.store(me.pid, Ordering::SeqCst);
        claim.start.store(me.start, Ordering::SeqCst);
        claim.key.store(identity::pack(me), Ordering::SeqCst);
        if let (Role::Producer, Ring::Spsc(ix, geometry)) = (role, &self.ring) {
            // A producer that died between stamping an item and storing its
            // position would otherwise have that item overwritten.
            self.spsc_ring(*ix, *geometry).resume_producer::<T>();
        }
        Ok(())
    }

    fn release_claims(&self) {
        if !matches!(self.ring, Ring::Spsc(..)) {
            return;
        }
        let me = identity::current();
        let c = self.control();
        for claim in [&c.producer, &c.consumer] {
            if claim.key.load(Ordering::SeqCst) == identity::pack(&me) {
                // The key goes first: once `tid` is 0 another thread may take
                // the role, and this one must no longer see itself in it.
                claim.key.store(0, Ordering::SeqCst);
                let _ = claim
                    .tid
                    .compare_exchange(me.tid, 0, Ordering::SeqCst, Ordering::SeqCst);
            }
        }
    }

    fn corrupt(&self, e: RingError) -> Error {
        match e {
            RingError::Corrupt { tail, head } => Error::corrupt(
                &self.name,
                format!(
                    "ring positions tail {tail} and head {head} are more than the capacity {} apart",
                    self.capacity
                ),
            ),
            RingError::CorruptStamp {
                position,
                stamp,
                expected: [item, previous_lap],
            } => Error::corrupt(
                &self.name,
                format!(
                    "the slot of position {position} has stamp {stamp}; expected {item} (its item) or {previous_lap} (the previous lap's)"
                ),
            ),
            RingError::WouldBlock => Error::WouldBlock {
                name: self.name.to_string(),
                op: "queue",
            },
        }
    }

    /// Whether the ring's positions are possible; run when operations keep
    /// failing, so that a ring a peer scribbled on is reported, not waited on.
    fn check_ring(&self) -> Result<()> {
        let checked = match self.ring {
            Ring::Spsc(ix, geometry) => self.spsc_ring(ix, geometry).check(),
            Ring::Mpmc(ix) => self.mpmc(ix).check(),
        };
        checked.map_err(|e| self.corrupt(e))
    }

    /// One attempt to push: `Ok(false)` if full (or, on an SPSC ring, if it
    /// has fewer than `slack` free slots; see [`Spsc::push_with_slack`]).
    fn push_once(&self, item: T, slack: u64) -> Result<bool> {
        let pushed = match self.ring {
            Ring::Spsc(ix, geometry) => self
                .spsc(ix, geometry, Role::Producer)?
                .push_with_slack(item, slack),
            Ring::Mpmc(ix) => self.mpmc_push(ix, item, slack),
        };
        match pushed {
            Ok(()) => Ok(true),
            Err(RingError::WouldBlock) => Ok(false),
            Err(e) => Err(self.corrupt(e)),
        }
    }

    /// One attempt to pop: `Ok(None)` if empty.
    fn pop_once(&self) -> Result<Option<T>> {
        let popped = match self.ring {
            Ring::Spsc(ix, geometry) => self.spsc(ix, geometry, Role::Consumer)?.pop(),
            Ring::Mpmc(ix) => self.mpmc(ix).pop(),
        };
        match popped {
            Ok(v) => Ok(Some(v)),
            Err(RingError::WouldBlock) => Ok(None),
            Err(e) => Err(self.corrupt(e)),
        }
    }

    /// Items taken from the ring so far (wrapping).
    fn taken(&self) -> u64 {
        match self.ring {
            // SAFETY: the indices live in the mapping, atomics only.
            Ring::Spsc(ix, _) => unsafe { ix.as_ref() }.taken(),
            // SAFETY: as above.
            Ring::Mpmc(ix) => unsafe { ix.as_ref() }.taken(),
        }
    }

    /// Items put into the ring so far (wrapping).
    fn put_so_far(&self) -> u64 {
        match self.ring {
            // SAFETY: the indices live in the mapping, atomics only.
            Ring::Spsc(ix, _) => unsafe { ix.as_ref() }.put(),
            // SAFETY: as above.
            Ring::Mpmc(ix) => unsafe { ix.as_ref() }.put(),
        }
    }

    /// Enqueues `item`, waiting for room as long as it takes.
    #[inline(always)]
    pub fn put(&self, item: T) -> std::result::Result<(), PutError<T>> {
        self.put_until(item, None)
    }

    /// Enqueues `item` if there is room; [`PutError::Full`] (with the item) otherwise.
    #[inline(always)]
    pub fn try_put(&self, item: T) -> std::result::Result<(), PutError<T>> {
        self.put_until(item, Some(Duration::ZERO))
    }

    /// Enqueues `item`, waiting at most `timeout` for room.
    pub fn put_timeout(&self, item: T, timeout: Duration) -> std::result::Result<(), PutError<T>> {
        self.put_until(item, Some(timeout))
    }

    #[inline(always)]
    fn put_until(
        &self,
        item: T,
        timeout: Option<Duration>,
    ) -> std::result::Result<(), PutError<T>> {
        let c = self.control();
        if c.closed.load(Ordering::Relaxed) == 0 && self.push_fast(item, self.slack(timeout)) {
            c.not_empty.notify(&FutexWake, 1);
            return Ok(());
        }
        self.put_slow(item, timeout)
    }

    /// The free slots a `put` holds out for when the ring is (nearly) full
    /// (see [`Spsc::push_with_slack`] and [`Mpmc::push_with_slack`]); 1 for
    /// `try_put`, which must take any room.
    #[inline(always)]
    fn slack(&self, timeout: Option<Duration>) -> u64 {
        if timeout == Some(Duration::ZERO) {
            1
        } else {
            self.put_slack
        }
    }

    /// `put_until` once the first attempt failed: waits, and explains failures.
    #[inline(never)]
    fn put_slow(&self, item: T, timeout: Option<Duration>) -> std::result::Result<(), PutError<T>> {
        let c = self.control();
        let mut slack = self.slack(timeout);
        let mut tries = 0;
        let outcome = self.wait_for(
            &c.not_full,
            timeout,
            Patience::BackOff,
            || {
                if c.closed.load(Ordering::Relaxed) != 0 {
                    return Some(Err(None));
                }
                tries += 1;
                if tries > SLACK_TRIES {
                    slack = 1;
                }
                match self.push_once(item, slack) {
                    Ok(true) => Some(Ok(())),
                    Ok(false) => None,
                    Err(e) => Some(Err(Some(e))),
                }
            },
            || self.check_ring().err().map(|e| Err(Some(e))),
        );
        match outcome {
            Some(Ok(())) => {
                c.not_empty.notify(&FutexWake, 1);
                Ok(())
            }
            other => {
                let queue = self.name.clone();
                Err(match other {
                    None if timeout == Some(Duration::ZERO) => PutError::Full { item, queue },
                    None => PutError::TimedOut {
                        item,
                        queue,
                        after: timeout.unwrap_or_default(),
                    },
                    Some(Err(None)) => PutError::Closed { item, queue },
                    Some(Err(Some(error))) => PutError::Failed { item, error },
                    Some(Ok(())) => unreachable!("handled above"),
                })
            }
        }
    }

    /// Dequeues the oldest item, waiting as long as it takes.
    #[inline(always)]
    pub fn get(&self) -> std::result::Result<T, GetError> {
        self.get_until(None)
    }

    /// Dequeues the oldest item if there is one; [`GetError::Empty`] otherwise.
    #[inline(always)]
    pub fn try_get(&self) -> std::result::Result<T, GetError> {
        self.get_until(Some(Duration::ZERO))
    }

    /// Dequeues the oldest item, waiting at most `timeout`.
    pub fn get_timeout(&self, timeout: Duration) -> std::result::Result<T, GetError> {
        self.get_until(Some(timeout))
    }

    #[inline(always)]
    fn get_until(&self, timeout: Option<Duration>) -> std::result::Result<T, GetError> {
        if let Some(v) = self.pop_fast() {
            self.control().not_full.notify(&FutexWake, 1);
            return Ok(v);
        }
        self.get_slow(timeout)
    }

    /// `get_until` once the first attempt failed: waits, and explains failures.
    #[inline(never)]
    fn get_slow(&self, timeout: Option<Duration>) -> std::result::Result<T, GetError> {
        let c = self.control();
        // A consumer's wait is usually short: the item is a line transfer
        // away. Poll with the fast path alone first. The general attempt
        // below, with its error reporting and close check, made each poll
        // slow enough to add 40-60 ns to a ping-pong round trip (see
        // "Waiting" in ARCHITECTURE.md). Closed, corrupt and timed-out
        // queues are all noticed by the general path afterwards.
        let polled = if timeout != Some(Duration::ZERO) && self.wait != WaitStrategy::Park {
            (0..TIGHT_POLLS).find_map(|_| {
                std::hint::spin_loop();
                self.pop_fast()
            })
        } else {
            None
        };
        let outcome = match polled {
            Some(v) => Some(Ok(v)),
            None => self.wait_for(
                &c.not_empty,
                timeout,
                // The tight polls are done: back off from here.
                Patience::BackOff,
                || self.take_unless_drained(|| self.pop_once()),
                || self.check_ring().err().map(|e| Err(Some(e))),
            ),
        };
        // The name is cloned on the error paths only: an `Arc` clone is a locked
        // instruction, which on x86 waits for this side's last store (a slot
        // stamp still travelling to the other core) on every successful get.
        match outcome {
            Some(Ok(v)) => {
                c.not_full.notify(&FutexWake, 1);
                Ok(v)
            }
            None if timeout == Some(Duration::ZERO) => Err(GetError::Empty {
                queue: self.name.clone(),
            }),
            None => Err(GetError::TimedOut {
                queue: self.name.clone(),
                after: timeout.unwrap_or_default(),
            }),
            Some(Err(None)) => Err(GetError::Closed {
                queue: self.name.clone(),
            }),
            Some(Err(Some(e))) => Err(GetError::Failed(e)),
        }
    }

    /// One attempt of a waiting get: `take` is tried; when it finds nothing
    /// on a closed queue, once more (the flag is read after the ring, so that
    /// items put before the close still come out), and then the answer is
    /// `Err(None)`: closed and drained. `None`: nothing yet, wait.
    fn take_unless_drained<V>(
        &self,
        mut take: impl FnMut() -> Result<Option<V>>,
    ) -> Option<std::result::Result<V, Option<Error>>> {
        match take() {
            Ok(Some(v)) => Some(Ok(v)),
            Ok(None) if self.control().closed.load(Ordering::SeqCst) != 0 => match take() {
                Ok(Some(v)) => Some(Ok(v)),
                Ok(None) => Some(Err(None)),
                Err(e) => Some(Err(Some(e))),
            },
            Ok(None) => None,
            Err(e) => Some(Err(Some(e))),
        }
    }

    /// Runs `attempt` until it gives an answer, waiting on `ec` between
    /// attempts with this handle's strategy; `None` when `timeout` ran out.
    /// `invalid` is asked, when attempts keep failing (before each sleep, and
    /// after a failed `try_`), whether the state is impossible; its answer ends
    /// the wait.
    fn wait_for<R>(
        &self,
        ec: &EventCount,
        timeout: Option<Duration>,
        patience: Patience,
        mut attempt: impl FnMut() -> Option<R>,
        invalid: impl Fn() -> Option<R>,
    ) -> Option<R> {
        if let Some(r) = attempt() {
            return Some(r);
        }
        if timeout == Some(Duration::ZERO) {
            return invalid();
        }
        let mut park = FutexPark::timeout(timeout);
        let mut answer = None;
        let mut ready = || {
            answer = attempt();
            answer.is_some()
        };
        let spun = match (self.wait, patience) {
            (WaitStrategy::Park, _) => false,
            (_, Patience::Eager) => poll_then_yield(&mut park, &mut ready),
            (_, Patience::BackOff) => spin_then_yield(&mut park, &mut ready),
        };
        if spun {
            return answer;
        }
        let deadline = timeout.and_then(|t| Instant::now().checked_add(t));
        loop {
            if self.wait == WaitStrategy::Spin {
                if let Some(r) = attempt() {
                    return Some(r);
                }
                if deadline.is_some_and(|d| Instant::now() >= d) {
                    return None;
                }
                if let Some(r) = invalid() {
                    return Some(r);
                }
                std::thread::yield_now();
                continue;
            }
            if let Some(r) = invalid() {
                return Some(r);
            }
            let token = ec.prepare(&mut park);
            if let Some(r) = attempt() {
                ec.finish();
                return Some(r);
            }
            let parked = ec.wait(token, &mut park);
            ec.finish();
            if parked == Parked::DeadlineReached {
                return attempt();
            }
        }
    }

    /// Enqueues as many of `items` as fit right now, in order; returns how many.
    /// For throughput: one publication (and at most one wake-up) per batch on
    /// an SPSC queue.
    pub fn try_put_slice(&self, items: &[T]) -> Result<usize> {
        let c = self.control();
        if c.closed.load(Ordering::Relaxed) != 0 {
            return Err(Error::Closed {
                name: self.name.to_string(),
            });
        }
        let pushed = match self.ring {
            Ring::Spsc(ix, geometry) => self
                .spsc(ix, geometry, Role::Producer)
                .and_then(|ring| ring.push_slice(items).map_err(|e| self.corrupt(e))),
            Ring::Mpmc(ix) => self.mpmc(ix).push_slice(items).map_err(|e| self.corrupt(e)),
        };
        let done = *pushed.as_ref().unwrap_or(&0);
        if done > 0 {
            c.not_empty
                .notify(&FutexWake, u32::try_from(done).unwrap_or(u32::MAX));
        }
        pushed
    }

    /// Enqueues, in order, as many of `items` as fit once there is room for
    /// at least one, waiting as long as it takes; returns how many (at least
    /// one, unless `items` is empty). Like [`std::io::Write::write`]: call it
    /// again with the rest to send them all.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-put-slice-{}", std::process::id());
    /// let q = shmipc::Queue::<u32>::create_spsc(&name, 4)?;
    /// let items = [1, 2, 3, 4, 5, 6];
    /// assert_eq!(q.put_slice(&items)?, 4);
    /// let mut out = [0; 8];
    /// assert_eq!(q.get_slice(&mut out)?, 4);
    /// assert_eq!(q.put_slice(&items[4..])?, 2);
    /// assert_eq!(q.get_slice(&mut out)?, 2);
    /// assert_eq!(out[..2], [5, 6]);
    /// # Ok(()) }
    /// ```
    pub fn put_slice(&self, items: &[T]) -> Result<usize> {
        self.put_slice_until(items, None)
    }

    /// As [`put_slice`](Self::put_slice), waiting at most `timeout` for room;
    /// [`Error::TimedOut`] if none came.
    pub fn put_slice_timeout(&self, items: &[T], timeout: Duration) -> Result<usize> {
        self.put_slice_until(items, Some(timeout))
    }

    fn put_slice_until(&self, items: &[T], timeout: Option<Duration>) -> Result<usize> {
        if items.is_empty() {
            return Ok(0);
        }
        self.wait_for(
            &self.control().not_full,
            timeout,
            Patience::BackOff,
            || match self.try_put_slice(items) {
                Ok(0) => None,
                other => Some(other),
            },
            || self.check_ring().err().map(Err),
        )
        .unwrap_or_else(|| Err(self.timed_out("put_slice_timeout", timeout)))
    }

    /// Dequeues, oldest first, as many items as are there (up to `out.len()`)
    /// once there is at least one, waiting as long as it takes; returns how
    /// many (at least one, unless `out` is empty). Like
    /// [`std::io::Read::read`]. Once the queue is closed and drained:
    /// [`Error::Closed`].
    pub fn get_slice(&self, out: &mut [T]) -> Result<usize> {
        self.get_slice_until(out, None)
    }

    /// As [`get_slice`](Self::get_slice), waiting at most `timeout` for an
    /// item; [`Error::TimedOut`] if none came.
    pub fn get_slice_timeout(&self, out: &mut [T], timeout: Duration) -> Result<usize> {
        self.get_slice_until(out, Some(timeout))
    }

    fn get_slice_until(&self, out: &mut [T], timeout: Option<Duration>) -> Result<usize> {
        if out.is_empty() {
            return Ok(0);
        }
        let outcome = self.wait_for(
            &self.control().not_empty,
            timeout,
            Patience::Eager,
            || self.take_unless_drained(|| self.try_get_slice(out).map(|n| (n > 0).then_some(n))),
            || self.check_ring().err().map(|e| Err(Some(e))),
        );
        match outcome {
            Some(Ok(n)) => Ok(n),
            Some(Err(Some(e))) => Err(e),
            Some(Err(None)) => Err(Error::Closed {
                name: self.name.to_string(),
            }),
            None => Err(self.timed_out("get_slice_timeout", timeout)),
        }
    }

    fn timed_out(&self, op: &'static str, timeout: Option<Duration>) -> Error {
        Error::TimedOut {
            name: self.name.to_string(),
            op,
            after: timeout.unwrap_or_default(),
        }
    }

    /// Dequeues up to `out.len()` items available right now, oldest first;
    /// returns how many.
    pub fn try_get_slice(&self, out: &mut [T]) -> Result<usize> {
        let popped = match self.ring {
            Ring::Spsc(ix, geometry) => self
                .spsc(ix, geometry, Role::Consumer)
                .and_then(|ring| ring.pop_slice(out).map_err(|e| self.corrupt(e))),
            Ring::Mpmc(ix) => self.mpmc(ix).pop_slice(out).map_err(|e| self.corrupt(e)),
        }?;
        if popped > 0 {
            self.control()
                .not_full
                .notify(&FutexWake, u32::try_from(popped).unwrap_or(u32::MAX));
        }
        Ok(popped)
    }
}

impl<T: Plain> Drop for Queue<T> {
    fn drop(&mut self) {
        self.release_claims();
    }
}

/// Whether wrapping count `a` is behind `b`.
fn before(a: u64, b: u64) -> bool {
    (b.wrapping_sub(a) as i64) > 0
}

/// A [`Queue`] that counts unfinished tasks, like Python's
/// `multiprocessing.JoinableQueue`: every put adds one, [`task_done`]
/// removes one, [`join`] waits for zero. Derefs to [`Queue`].
///
/// [`task_done`]: JoinableQueue::task_done
/// [`join`]: JoinableQueue::join
///
/// ```
/// # extern crate shmipc_shm as shmipc;
/// # fn main() -> Result<(), shmipc::Error> {
/// let name = format!("doc-jqueue-{}", std::process::id());
/// let jobs = shmipc::JoinableQueue::<u32>::create(&name, 16)?;
/// jobs.put(1)?;
/// let job = jobs.get()?;
/// jobs.task_done()?;
/// jobs.join();                          // returns at once: nothing unfinished
/// assert!(jobs.task_done().is_err());   // one too many
/// # let _ = job; Ok(()) }
/// ```
#[derive(Debug)]
pub struct JoinableQueue<T: Plain> {
    queue: Queue<T>,
}

impl<T: Plain> JoinableQueue<T> {
    /// Creates a joinable multi-producer multi-consumer queue.
    pub fn create(name: &str, capacity: u64) -> Result<JoinableQueue<T>> {
        JoinableQueue::create_with(name, capacity, QueueMode::Mpmc, &Options::default())
    }

    /// Creates a joinable queue in `mode`, with `opts`.
    pub fn create_with(
        name: &str,
        capacity: u64,
        mode: QueueMode,
        opts: &Options,
    ) -> Result<JoinableQueue<T>> {
        Ok(JoinableQueue {
            queue: Queue::make(name, capacity, mode, true, opts)?,
        })
    }

    /// Opens the joinable queue named `name`.
    pub fn open(name: &str) -> Result<JoinableQueue<T>> {
        JoinableQueue::open_with(name, &Options::default())
    }

    /// Opens the joinable queue named `name` with `opts`; a queue created
    /// without task counting is refused with [`Error::InvalidArgument`].
    pub fn open_with(name: &str, opts: &Options) -> Result<JoinableQueue<T>> {
        let queue = Queue::open_with(name, opts)?;
        if !queue.joinable {
            return Err(Error::invalid(format!(
                "queue '{name}' was created without task counting; open it as a Queue"
            )));
        }
        Ok(JoinableQueue { queue })
    }

    /// This handle, waiting with `strategy` from now on.
    pub fn with_wait(self, strategy: WaitStrategy) -> JoinableQueue<T> {
        JoinableQueue {
            queue: self.queue.with_wait(strategy),
        }
    }

    /// Marks one item got from the queue as processed. Calling it more times
    /// than items were put is an error, and changes nothing.
    pub fn task_done(&self) -> Result<()> {
        let c = self.queue.control();
        let mut done = c.tasks_done.load(Ordering::Acquire);
        loop {
            // Fewer done than taken is the common case, and needs only the
            // consumers' position; only past it is the producers' read.
            let allowed = before(done, self.queue.taken()) || before(done, self.queue.put_so_far());
            if !allowed {
                return Err(Error::invalid(format!(
                    "task_done called on queue '{}' more times than items were put",
                    self.queue.name
                )));
            }
            match c.tasks_done.compare_exchange_weak(
                done,
                done.wrapping_add(1),
                Ordering::SeqCst,
                Ordering::Acquire,
            ) {
                Ok(_) => break,
                Err(now) => done = now,
            }
        }
        // Only a task_done can make `join`'s condition true, so waking the
        // joiners only when it holds loses none of them.
        c.all_done
            .notify_if(&FutexWake, u32::MAX, || self.unfinished() == 0);
        Ok(())
    }

    /// Items put and not yet marked done (a snapshot).
    pub fn unfinished(&self) -> u64 {
        let done = self.queue.control().tasks_done.load(Ordering::Acquire);
        // An SPSC tail lags the stamps: done may briefly run ahead of it.
        let put = self.queue.put_so_far();
        if before(done, put) {
            put.wrapping_sub(done)
        } else {
            0
        }
    }

    /// Waits until every item put has been marked done.
    pub fn join(&self) {
        self.join_until(None);
    }

    /// Waits at most `timeout`; returns whether every item was marked done.
    pub fn join_timeout(&self, timeout: Duration) -> bool {
        self.join_until(Some(timeout))
    }

    fn join_until(&self, timeout: Option<Duration>) -> bool {
        let c = self.queue.control();
        self.queue
            .wait_for(
                &c.all_done,
                timeout,
                Patience::BackOff,
                || (self.unfinished() == 0).then_some(()),
                || None,
            )
            .is_some()
    }
}

impl<T: Plain> Deref for JoinableQueue<T> {
    type Target = Queue<T>;
    fn deref(&self) -> &Queue<T> {
        &self.queue
    }
}
