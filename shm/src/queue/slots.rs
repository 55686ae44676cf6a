//! The slots of a queue segment: a stamp, then items of `T`, read and
//! written with race-tolerant copies.

use std::marker::PhantomData;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU64, Ordering};

use shmipc_core::layout::{QueueLayout, QueueMode, SlotShape};
use shmipc_core::mpmc::SequencedSlots;
use shmipc_core::racy;
use shmipc_core::ring::Slots;
use shmipc_core::spsc::GroupedSlots;

use crate::error::{Error, Result};
use crate::plain::Plain;

/// The slots of a queue segment, accessed with race-tolerant copies: each a
/// stamp and then items of `T`, shaped as [`SlotShape::of`] says for `T`
/// (one item for MPMC, [`GroupedSlots::PER_GROUP`] for SPSC). The shapes
/// are constants of `T`; [`ShmSlots::new`] checks the layout agrees.
///
/// The MPMC ring reaches them through [`Slots`] and [`SequencedSlots`]
/// (slots of [`Self::MPMC`]'s shape), the SPSC ring through
/// [`GroupedSlots`] ([`Self::SPSC`]'s); a queue builds only the ring of the
/// mode its slots were made for.
///
/// Every item is copied with [`racy`], so two sides touching a slot at once
/// (a peer that wrote garbage into the stamps or positions, or a second
/// producer let in by a scribbled role record) garble items, never race:
/// this is what lets the rings' `unsafe` contracts hold against other
/// processes.
pub(super) struct ShmSlots<T> {
    base: NonNull<u8>,
    /// Slots (MPMC) or groups (SPSC) from `base`; every index the rings
    /// pass is below it, since they mask positions by their slot count.
    count: usize,
    _marker: PhantomData<T>,
}

impl<T: Plain> ShmSlots<T> {
    pub(super) const SPSC: SlotShape =
        SlotShape::of(size_of::<T>(), align_of::<T>(), QueueMode::Spsc);
    pub(super) const MPMC: SlotShape =
        SlotShape::of(size_of::<T>(), align_of::<T>(), QueueMode::Mpmc);

    /// The slots at `base`, laid out as `layout` says for `mode`.
    ///
    /// # Safety
    /// `base` is 64-byte aligned and valid for `layout.slots *
    /// layout.slot_size` bytes for as long as the slots are used, and is
    /// accessed by this process only through atomics and [`racy`] copies.
    pub(super) unsafe fn new(
        base: NonNull<u8>,
        layout: &QueueLayout,
        mode: QueueMode,
    ) -> Result<ShmSlots<T>> {
        Self::check(layout, mode)?;
        let count = usize::try_from(layout.slots)
            .map_err(|_| Error::invalid(format!("{} slots", layout.slots)))?;
        Ok(ShmSlots {
            base,
            count,
            _marker: PhantomData,
        })
    }

    /// Whether `layout` has the slot shape of `T` in `mode`, which the slot
    /// addresses assume.
    pub(super) fn check(layout: &QueueLayout, mode: QueueMode) -> Result<()> {
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
    /// the size of the mode's shape (a constant). For `index < count` the
    /// slot lies inside the span `new` was given, 8-byte aligned (the base
    /// is 64-byte aligned, the slot size a multiple of 8), with its items
    /// aligned for `T` (the item offset and slot size are multiples of its
    /// alignment, at most 64).
    #[inline(always)]
    fn line(&self, index: usize, slot_size: usize) -> *mut u8 {
        debug_assert!(index < self.count);
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

    /// The stamp of slot `index` in slots of `slot_size` bytes.
    ///
    /// # Safety
    /// `index < count` (the rings' contracts: they pass only masked
    /// positions).
    #[inline(always)]
    unsafe fn stamp(&self, index: usize, slot_size: usize) -> &AtomicU64 {
        let line = self.line(index, slot_size);
        // SAFETY: `line` is the start of a slot inside the span given to
        // `new` (`index < count`, from the caller), 8-byte aligned (see
        // `line`), and a stamp is only ever accessed atomically.
        unsafe { &*line.cast::<AtomicU64>() }
    }
}

impl<T: Plain> Slots<T> for ShmSlots<T> {
    unsafe fn write(&self, index: usize, value: T) {
        // SAFETY: the ring passes `index < capacity`, the slot count, so the
        // item lies inside the span and is aligned for `T` (see `line`); the
        // copy is race-tolerant and `T` is `Pod`.
        unsafe { racy::store_typed(&value, self.mpmc_item(index)) };
    }

    unsafe fn read(&self, index: usize) -> T {
        let mut value = T::zeroed();
        // SAFETY: as in `write`; `value` is ours.
        unsafe { racy::load_typed(self.mpmc_item(index), &mut value) };
        value
    }
}

// SAFETY: every item copy is race-tolerant (`racy`), so a read racing a
// write is defined, and `T` is `Pod`: any bytes it returns are a valid `T`.
unsafe impl<T: Plain> SequencedSlots<T> for ShmSlots<T> {
    unsafe fn sequence(&self, index: usize) -> &AtomicU64 {
        // SAFETY: forwarded from the caller: `index < capacity`, the count.
        unsafe { self.stamp(index, Self::MPMC.size) }
    }
}

impl<T: Plain> GroupedSlots<T> for ShmSlots<T> {
    const PER_GROUP: u64 = Self::SPSC.per_slot;

    unsafe fn stamp(&self, group: usize) -> &AtomicU64 {
        // SAFETY: forwarded from the caller: `group < groups`, the count.
        unsafe { ShmSlots::stamp(self, group, Self::SPSC.size) }
    }

    unsafe fn write(&self, group: usize, offset: usize, value: T) {
        // SAFETY: the ring passes `group < groups`, the slot count, and
        // `offset < PER_GROUP`: inside the span, aligned (see `line`).
        unsafe { racy::store_typed(&value, self.spsc_item(group, offset)) };
    }

    unsafe fn read(&self, group: usize, offset: usize) -> T {
        let mut value = T::zeroed();
        // SAFETY: as in `write`; `value` is ours.
        unsafe { racy::load_typed(self.spsc_item(group, offset), &mut value) };
        value
    }

    #[inline(always)]
    unsafe fn publish(&self, group: usize, offset: usize, value: T, stamp: u64) {
        let line = self.line(group, Self::SPSC.size);
        let item = self.item_in(line, offset);
        // SAFETY: as in `write` (`item` is `self.spsc_item(group, offset)`),
        // and the line starts with its stamp, 8-byte aligned, only ever
        // accessed atomically.
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
        // SAFETY: as in `read`.
        unsafe { racy::load_typed(item, &mut value) };
        (stamp, Some(value))
    }

    unsafe fn write_run(&self, group: usize, offset: usize, values: &[T]) {
        // SAFETY: as in `write`, for each slot of the run, which the ring
        // keeps inside the group.
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

impl<T> Clone for ShmSlots<T> {
    fn clone(&self) -> Self {
        ShmSlots {
            base: self.base,
            count: self.count,
            _marker: PhantomData,
        }
    }
}
