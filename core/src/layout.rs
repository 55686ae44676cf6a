//! Where things sit inside a segment, computed with checked arithmetic from the
//! header fields, so the same function serves the creator (which writes them) and
//! every opener (which must not trust them).

use crate::fingerprint::Fingerprint;
use crate::header::PAYLOAD_OFFSET;
use crate::name::MAX_NAME_LEN;
use crate::spsc::SpscGeometry;

/// Bytes in a cache line (on every target this crate knows).
const CACHE_LINE: usize = 64;

/// Bytes reserved for a lock that lives inside the segment: its cache line,
/// and the line that x86's spatial prefetcher pairs with it (see
/// [`RING_INDICES_SIZE`]), so that the data it guards never shares its
/// 128-byte pair, for the reason the ring positions do not.
pub const INLINE_LOCK_SIZE: usize = 128;
/// Bytes reserved for the name of a lock that lives in another segment:
/// a u32 length and up to [`MAX_NAME_LEN`] bytes, rounded up.
pub const LOCK_NAME_SIZE: usize = 256;
/// The largest payload alignment a segment may ask for (one page).
pub const MAX_ALIGN: u32 = 4096;
/// The largest total size a segment may declare (1 TiB): far above any real
/// use, far below anything that could overflow address arithmetic.
pub const MAX_TOTAL_SIZE: u64 = 1 << 40;

const _: () = assert!(4 + MAX_NAME_LEN <= LOCK_NAME_SIZE);

/// Where a cell's lock lives; stored in the header's flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockPlacement {
    /// No lock (RawValue, RawArray).
    None,
    /// A lock inside this segment, right after the header.
    Inline,
    /// A lock in another segment, whose name is stored after the header.
    Named,
}

impl LockPlacement {
    /// The header flag value.
    pub const fn flags(self) -> u16 {
        match self {
            LockPlacement::None => 0,
            LockPlacement::Inline => 1,
            LockPlacement::Named => 2,
        }
    }

    /// The placement a stored flag value stands for.
    pub const fn from_flags(flags: u16) -> Option<LockPlacement> {
        match flags {
            0 => Some(LockPlacement::None),
            1 => Some(LockPlacement::Inline),
            2 => Some(LockPlacement::Named),
            _ => None,
        }
    }
}

/// Offsets of the parts of a cell segment (Value, RawValue, Array, RawArray).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CellLayout {
    /// Where the inline lock or the lock's name starts, if any.
    pub lock_offset: Option<usize>,
    /// Where element 0 starts; a multiple of the element alignment.
    pub data_offset: usize,
    /// Number of elements.
    pub len: usize,
    /// Bytes the whole segment spans.
    pub total_size: usize,
}

/// Why a layout cannot exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LayoutError {
    /// Alignment is not a power of two or exceeds [`MAX_ALIGN`].
    BadAlign(u32),
    /// The size is not a multiple of the alignment (no Rust type has that).
    SizeNotMultipleOfAlign {
        /// Element size.
        size: u32,
        /// Element alignment.
        align: u32,
    },
    /// A ring capacity of zero.
    BadCapacity(u64),
    /// A byte ring's size that is not a power of two in
    /// [`MIN_RING_BYTES`]`..=`[`MAX_RING_BYTES`], or a channel count other
    /// than 1 or 2.
    BadRingBytes(u64),
    /// The segment would exceed [`MAX_TOTAL_SIZE`] or overflow.
    TooLarge {
        /// Number of elements asked for.
        len: u64,
        /// Size of one.
        size: u32,
    },
}

impl core::fmt::Display for LayoutError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match *self {
            LayoutError::BadAlign(a) => write!(
                f,
                "expected a power-of-two alignment of at most {MAX_ALIGN}, found {a}"
            ),
            LayoutError::SizeNotMultipleOfAlign { size, align } => write!(
                f,
                "expected a size that is a multiple of the alignment {align}, found {size}"
            ),
            LayoutError::BadCapacity(c) => {
                write!(f, "expected a capacity of at least 1, found {c}")
            }
            LayoutError::BadRingBytes(b) => write!(
                f,
                "expected a ring of a power of two bytes in {MIN_RING_BYTES}..={MAX_RING_BYTES}, found {b}"
            ),
            LayoutError::TooLarge { len, size } => write!(
                f,
                "{len} elements of {size} bytes exceed the {MAX_TOTAL_SIZE}-byte segment limit"
            ),
        }
    }
}

impl CellLayout {
    /// The layout of `len` elements of type `elem` with the lock at `lock`.
    ///
    /// ```
    /// use shmipc_core::layout::{CellLayout, LockPlacement};
    /// use shmipc_core::fingerprint::Fingerprint;
    /// let l = CellLayout::new(Fingerprint::of::<u64>(), 10, LockPlacement::Inline).unwrap();
    /// // The header and the type-name line, a lock's 128 bytes, then ten u64s.
    /// assert_eq!((l.lock_offset, l.data_offset, l.total_size), (Some(128), 256, 336));
    /// ```
    pub fn new(
        elem: Fingerprint,
        len: u64,
        lock: LockPlacement,
    ) -> Result<CellLayout, LayoutError> {
        let align = elem.align;
        if !align.is_power_of_two() || align > MAX_ALIGN {
            return Err(LayoutError::BadAlign(align));
        }
        if elem.size % align != 0 {
            return Err(LayoutError::SizeNotMultipleOfAlign {
                size: elem.size,
                align,
            });
        }
        let (lock_offset, after_lock) = match lock {
            LockPlacement::None => (None, PAYLOAD_OFFSET),
            LockPlacement::Inline => (Some(PAYLOAD_OFFSET), PAYLOAD_OFFSET + INLINE_LOCK_SIZE),
            LockPlacement::Named => (Some(PAYLOAD_OFFSET), PAYLOAD_OFFSET + LOCK_NAME_SIZE),
        };
        let align = align as usize;
        let data_offset = (after_lock + align - 1) & !(align - 1);
        let too_large = LayoutError::TooLarge {
            len,
            size: elem.size,
        };
        let total = len
            .checked_mul(u64::from(elem.size))
            .and_then(|bytes| bytes.checked_add(data_offset as u64))
            .filter(|&t| t <= MAX_TOTAL_SIZE)
            .ok_or(too_large)?;
        Ok(CellLayout {
            lock_offset,
            data_offset,
            len: usize::try_from(len).map_err(|_| too_large)?,
            total_size: usize::try_from(total).map_err(|_| too_large)?,
        })
    }
}

/// The layout of a segment that holds only a lock.
pub const LOCK_SEGMENT_SIZE: usize = PAYLOAD_OFFSET + INLINE_LOCK_SIZE;
/// Where the lock sits in a Lock segment.
pub const LOCK_OFFSET: usize = PAYLOAD_OFFSET;

/// How a queue's ring is shared; stored in the header's flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueueMode {
    /// One producer, one consumer ([`crate::spsc`]).
    Spsc,
    /// Any number of each ([`crate::mpmc`]).
    Mpmc,
}

/// Header flag bits of a queue.
pub mod queue_flags {
    /// Single-producer single-consumer.
    pub const SPSC: u16 = 1;
    /// Multi-producer multi-consumer.
    pub const MPMC: u16 = 2;
    /// Counts unfinished tasks (JoinableQueue).
    pub const JOINABLE: u16 = 4;
}

/// Items of `size` bytes aligned to `align` that an SPSC queue puts under
/// one stamp: as many as fit in a cache line after the stamp, if that is at
/// least two; otherwise one (the slot is then the stamp and the item,
/// however long). A `const fn`, so that the ring's arithmetic on it is
/// compiled for each item type.
///
/// ```
/// use shmipc_core::layout::spsc_items_per_slot;
/// assert_eq!(spsc_items_per_slot(8, 8), 7);
/// assert_eq!(spsc_items_per_slot(1, 1), 56);
/// assert_eq!(spsc_items_per_slot(20, 4), 2);
/// assert_eq!(spsc_items_per_slot(32, 8), 1);
/// assert_eq!(spsc_items_per_slot(16, 16), 3);
/// ```
pub const fn spsc_items_per_slot(size: usize, align: usize) -> u64 {
    let item_offset = SlotShape::item_offset(align);
    if size == 0 || item_offset + 2 * size > CACHE_LINE {
        1
    } else {
        ((CACHE_LINE - item_offset) / size) as u64
    }
}

/// The shape of one slot of a queue ring: its stamp, then its items. A
/// function of the item type and the mode alone, and a `const fn`, so that
/// the queue computes slot addresses with constants (a stride read from the
/// handle cost a load and a multiply on every operation).
///
/// ```
/// use shmipc_core::layout::{QueueMode, SlotShape};
/// // Seven u64s share an SPSC line's stamp; MPMC stamps each one.
/// let spsc = SlotShape::of(8, 8, QueueMode::Spsc);
/// assert_eq!((spsc.size, spsc.item_offset, spsc.per_slot), (64, 8, 7));
/// let mpmc = SlotShape::of(8, 8, QueueMode::Mpmc);
/// assert_eq!((mpmc.size, mpmc.item_offset, mpmc.per_slot), (16, 8, 1));
/// // A 16-aligned item starts 16 bytes in.
/// assert_eq!(SlotShape::of(16, 16, QueueMode::Mpmc).size, 32);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlotShape {
    /// Bytes from one slot to the next.
    pub size: usize,
    /// Where the first item sits, after the 8-byte stamp.
    pub item_offset: usize,
    /// Items under the stamp.
    pub per_slot: u64,
}

impl SlotShape {
    /// The slot of items `size` bytes long aligned to `align` (a power of
    /// two, at most 64: [`QueueLayout::new`] refuses other types) in `mode`.
    pub const fn of(size: usize, align: usize, mode: QueueMode) -> SlotShape {
        let item_offset = SlotShape::item_offset(align);
        let per_line = spsc_items_per_slot(size, align);
        match mode {
            QueueMode::Spsc if per_line >= 2 => SlotShape {
                size: CACHE_LINE,
                item_offset,
                per_slot: per_line,
            },
            QueueMode::Spsc | QueueMode::Mpmc => {
                let align = SlotShape::slot_align(align);
                SlotShape {
                    size: (item_offset + size + align - 1) & !(align - 1),
                    item_offset,
                    per_slot: 1,
                }
            }
        }
    }

    /// A slot's alignment: the item's, and at least the stamp's.
    const fn slot_align(align: usize) -> usize {
        if align > 8 {
            align
        } else {
            8
        }
    }

    /// The first item's offset: the 8-byte stamp, rounded up to `align`.
    const fn item_offset(align: usize) -> usize {
        let align = SlotShape::slot_align(align);
        (8 + align - 1) & !(align - 1)
    }
}

/// Bytes of a queue's control block (closed flag, eventcounts, task count,
/// role records, the JoinableQueue's task holders): a 128-byte block read on
/// every operation, one written now and then (see [`RING_INDICES_SIZE`] for
/// why 128), and 256 bytes of task holders.
pub const QUEUE_CONTROL_SIZE: usize = 512;
/// Bytes of a ring's positions: two 128-byte blocks, one per side (see
/// [`RingPositions`](crate::ring::RingPositions)).
pub const RING_INDICES_SIZE: usize = 256;

#[cfg(not(loom))]
const _: () = assert!(core::mem::size_of::<crate::ring::RingPositions>() == RING_INDICES_SIZE);
#[cfg(not(loom))]
const _: () = assert!(core::mem::size_of::<crate::spsc::SpscIndices>() == RING_INDICES_SIZE);

/// Offsets of the parts of a queue segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueLayout {
    /// The control block.
    pub control_offset: usize,
    /// The ring positions.
    pub indices_offset: usize,
    /// Slot 0.
    pub slots_offset: usize,
    /// Bytes from one slot (a stamp and the items under it) to the next.
    pub slot_size: usize,
    /// Where the first item sits inside a slot (after its stamp).
    pub item_offset: usize,
    /// Items under each stamp: 1 for MPMC; for SPSC as many as fit in a
    /// cache line after the stamp, when that is at least two.
    pub per_group: u64,
    /// Number of slots, a power of two: for MPMC the capacity rounded up
    /// to one; for SPSC what [`SpscGeometry`] asks for.
    pub slots: u64,
    /// The most items the queue holds, exactly as asked.
    pub capacity: u64,
    /// Bytes the whole segment spans.
    pub total_size: usize,
}

impl QueueLayout {
    /// The layout of a queue of `capacity` items of type `item` in `mode`.
    ///
    /// ```
    /// use shmipc_core::layout::{QueueLayout, QueueMode};
    /// use shmipc_core::fingerprint::Fingerprint;
    /// let l = QueueLayout::new(Fingerprint::of::<u64>(), 1024, QueueMode::Mpmc).unwrap();
    /// assert_eq!((l.slot_size, l.item_offset, l.per_group, l.slots), (16, 8, 1, 1024));
    /// // Any capacity: the ring rounds up inside, the queue holds what was asked.
    /// let six = QueueLayout::new(Fingerprint::of::<u64>(), 6, QueueMode::Mpmc).unwrap();
    /// assert_eq!((six.capacity, six.slots), (6, 8));
    /// assert!(QueueLayout::new(Fingerprint::of::<u64>(), 0, QueueMode::Spsc).is_err());
    /// // SPSC: seven u64s share a line's stamp, 1024 lines for 4096 items.
    /// let s = QueueLayout::new(Fingerprint::of::<u64>(), 4096, QueueMode::Spsc).unwrap();
    /// assert_eq!((s.slot_size, s.item_offset, s.per_group, s.slots), (64, 8, 7, 1024));
    /// // Items too large for two to a line get a stamp each.
    /// let b = QueueLayout::new(Fingerprint::of::<[u64; 4]>(), 8, QueueMode::Spsc).unwrap();
    /// assert_eq!((b.slot_size, b.per_group, b.slots), (40, 1, 8));
    /// ```
    pub fn new(
        item: Fingerprint,
        capacity: u64,
        mode: QueueMode,
    ) -> Result<QueueLayout, LayoutError> {
        let align = item.align;
        if !align.is_power_of_two() || align > 64 {
            return Err(LayoutError::BadAlign(align));
        }
        if item.size == 0 || item.size % align != 0 {
            return Err(LayoutError::SizeNotMultipleOfAlign {
                size: item.size,
                align,
            });
        }
        if capacity == 0 {
            return Err(LayoutError::BadCapacity(capacity));
        }
        let shape = SlotShape::of(item.size as usize, align as usize, mode);
        let too_large = LayoutError::TooLarge {
            len: capacity,
            size: item.size,
        };
        let slots = match shape.per_slot {
            1 => capacity.checked_next_power_of_two().ok_or(too_large)?,
            k => SpscGeometry::new(capacity, k).ok_or(too_large)?.groups(),
        };
        let slot_size = shape.size;
        let control_offset = PAYLOAD_OFFSET;
        let indices_offset = control_offset + QUEUE_CONTROL_SIZE;
        let slots_offset = indices_offset + RING_INDICES_SIZE;
        let total = slots
            .checked_mul(slot_size as u64)
            .and_then(|b| b.checked_add(slots_offset as u64))
            .filter(|&t| t <= MAX_TOTAL_SIZE)
            .ok_or(too_large)?;
        Ok(QueueLayout {
            control_offset,
            indices_offset,
            slots_offset,
            slot_size,
            item_offset: shape.item_offset,
            per_group: shape.per_slot,
            slots,
            capacity,
            total_size: usize::try_from(total).map_err(|_| too_large)?,
        })
    }

    /// The SPSC ring's geometry (meaningful in SPSC mode).
    pub fn spsc_geometry(&self) -> Option<SpscGeometry> {
        SpscGeometry::new(self.capacity, self.per_group)
    }
}

/// Bytes of a message channel's control block: a 128-byte block of what
/// every send and receive reads (the closed flags, the eventcounts), one
/// for the sending side's role record, one for the receiving side's (and a
/// joinable queue's task counts), and 256 bytes of a joinable queue's task
/// holders.
pub const CHANNEL_CONTROL_SIZE: usize = 640;
/// The smallest byte ring a message channel has: a multiple of 128, so that
/// the next channel's control block is aligned as its positions need.
pub const MIN_RING_BYTES: u64 = 128;
/// The largest byte ring a message channel has: record headers carry
/// lengths and positions in 32 and 30 bits (see `byte_ring`).
pub const MAX_RING_BYTES: u64 = 1 << 31;

/// Where one channel of a message segment lives: its control block, its
/// ring positions, its buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChannelLayout {
    /// The control block ([`CHANNEL_CONTROL_SIZE`] bytes).
    pub control_offset: usize,
    /// The byte ring's positions ([`RING_INDICES_SIZE`] bytes).
    pub positions_offset: usize,
    /// The byte ring's buffer.
    pub buffer_offset: usize,
}

/// Offsets of the parts of a message segment (a `MessageQueue`: one
/// channel; a `Pipe`: one channel each way, or one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MessageLayout {
    /// Bytes of each channel's ring: a power of two in
    /// [`MIN_RING_BYTES`]`..=`[`MAX_RING_BYTES`].
    pub ring_bytes: u64,
    /// The channels, in order; the second is meaningful only when
    /// `channels` is 2.
    pub channel: [ChannelLayout; 2],
    /// How many channels: 1 or 2.
    pub channels: usize,
    /// Bytes the whole segment spans.
    pub total_size: usize,
}

impl MessageLayout {
    /// The layout of `channels` (1 or 2) channels of `ring_bytes` each.
    /// The ring size is exact: [`MessageLayout::ring_bytes_for`] rounds a
    /// request to one.
    ///
    /// ```
    /// use shmipc_core::layout::MessageLayout;
    /// let l = MessageLayout::new(4096, 2).unwrap();
    /// assert_eq!(l.channel[1].control_offset, l.channel[0].buffer_offset + 4096);
    /// assert!(MessageLayout::new(1000, 1).is_err()); // not a power of two
    /// assert!(MessageLayout::new(4096, 3).is_err());
    /// ```
    pub fn new(ring_bytes: u64, channels: usize) -> Result<MessageLayout, LayoutError> {
        if !ring_bytes.is_power_of_two()
            || !(MIN_RING_BYTES..=MAX_RING_BYTES).contains(&ring_bytes)
            || !(1..=2).contains(&channels)
        {
            return Err(LayoutError::BadRingBytes(ring_bytes));
        }
        let per_channel = CHANNEL_CONTROL_SIZE + RING_INDICES_SIZE + ring_bytes as usize;
        let at = |i: usize| {
            let control_offset = PAYLOAD_OFFSET + i * per_channel;
            ChannelLayout {
                control_offset,
                positions_offset: control_offset + CHANNEL_CONTROL_SIZE,
                buffer_offset: control_offset + CHANNEL_CONTROL_SIZE + RING_INDICES_SIZE,
            }
        };
        Ok(MessageLayout {
            ring_bytes,
            channel: [at(0), at(1)],
            channels,
            total_size: PAYLOAD_OFFSET + channels * per_channel,
        })
    }

    /// The ring size a request for `bytes` gets: the next power of two, at
    /// least [`MIN_RING_BYTES`]; `None` above [`MAX_RING_BYTES`].
    ///
    /// ```
    /// use shmipc_core::layout::MessageLayout;
    /// assert_eq!(MessageLayout::ring_bytes_for(1000), Some(1024));
    /// assert_eq!(MessageLayout::ring_bytes_for(1), Some(128));
    /// assert_eq!(MessageLayout::ring_bytes_for(1 << 40), None);
    /// ```
    pub fn ring_bytes_for(bytes: u64) -> Option<u64> {
        bytes
            .max(MIN_RING_BYTES)
            .checked_next_power_of_two()
            .filter(|&b| b <= MAX_RING_BYTES)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_overflow_and_bad_alignment() {
        let fp = Fingerprint {
            size: 8,
            align: 8,
            name_hash: 0,
        };
        assert!(matches!(
            CellLayout::new(fp, u64::MAX, LockPlacement::None),
            Err(LayoutError::TooLarge { .. })
        ));
        let odd = Fingerprint { align: 3, ..fp };
        assert_eq!(
            CellLayout::new(odd, 1, LockPlacement::None),
            Err(LayoutError::BadAlign(3))
        );
        let big = Fingerprint {
            align: 8192,
            size: 8192,
            ..fp
        };
        assert!(CellLayout::new(big, 1, LockPlacement::None).is_err());
    }

    #[test]
    fn data_is_aligned_after_a_named_lock() {
        let fp = Fingerprint {
            size: 128,
            align: 128,
            name_hash: 0,
        };
        let l = CellLayout::new(fp, 2, LockPlacement::Named).unwrap();
        assert_eq!(l.data_offset, 384);
        assert_eq!(l.total_size, 384 + 256);
    }
}
