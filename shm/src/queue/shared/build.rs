//! Making and opening a queue's segment, and assembling a [`Shared`] over it.

use super::*;

fn mode_flags(mode: QueueMode) -> u16 {
    match mode {
        QueueMode::Spsc => queue_flags::SPSC,
        QueueMode::Mpmc => queue_flags::MPMC,
    }
}

/// The SPSC ring's shape in a queue laid out as `layout` (which
/// [`QueueLayout::new`] has already checked, so this fails only if the two
/// disagree).
fn spsc_geometry<T: Plain>(layout: &QueueLayout) -> Result<SpscGeometry> {
    let per_slot = <ShmSlots<T> as GroupedSlots<T>>::PER_GROUP;
    layout
        .spsc_geometry()
        .filter(|g| g.per_group() == per_slot && g.groups() == layout.slots)
        .ok_or_else(|| {
            Error::invalid(format!(
                "expected an SPSC ring of capacity {} with {per_slot} items to a stamp, found {} to a stamp",
                layout.capacity, layout.per_group
            ))
        })
}

impl<T: Plain> Shared<T> {
    pub(in crate::queue) fn create(
        name: &str,
        capacity: u64,
        mode: QueueMode,
        joinable: bool,
        opts: &Options,
    ) -> Result<Shared<T>> {
        let fingerprint = Fingerprint::of::<T>();
        let layout = QueueLayout::new(fingerprint, capacity, mode)
            .map_err(|e| Error::invalid(e.to_string()))?;
        let flags = mode_flags(mode) | if joinable { queue_flags::JOINABLE } else { 0 };
        let spec = Spec {
            kind: Kind::Queue,
            flags,
            fingerprint,
            type_name: std::any::type_name::<T>(),
            param: capacity,
            total_size: layout.total_size,
        };
        let geometry = match mode {
            QueueMode::Spsc => Some(spsc_geometry::<T>(&layout)?),
            QueueMode::Mpmc => None,
        };
        ShmSlots::<T>::check(&layout, mode)?;
        let mut made: Result<()> = Ok(());
        let segment = Segment::create(name, &spec, opts, |base| {
            made = (|| {
                // SAFETY: the layout puts the slots, 64-byte aligned, at its
                // slots offset in the fresh mapping, which spans them; only
                // this thread can see it yet.
                let slots = unsafe {
                    ShmSlots::<T>::new(
                        NonNull::new_unchecked(base.as_ptr().add(layout.slots_offset)),
                        &layout,
                        mode,
                    )?
                };
                let indices = base.as_ptr().wrapping_add(layout.indices_offset);
                match geometry {
                    // SAFETY: the positions sit, aligned, at their layout
                    // offset in the mapping (atomics only); the slots hold
                    // the geometry's groups (checked above); nobody else can
                    // see the ring before the segment is Ready.
                    Some(geometry) => unsafe {
                        Spsc::new(&*indices.cast::<SpscIndices>(), &slots, geometry).init::<T>()
                    },
                    // SAFETY: as above, with `layout.slots` slots, a
                    // capacity of at most as many (`QueueLayout`).
                    None => unsafe {
                        Mpmc::new(
                            &*indices.cast::<MpmcIndices>(),
                            &slots,
                            layout.slots,
                            layout.capacity,
                        )
                        .init::<T>()
                    },
                }
                Ok(())
            })();
        })?;
        made?;
        Shared::assemble(Arc::new(segment), layout, mode, joinable)
    }

    pub(in crate::queue) fn open(name: &str, opts: &Options) -> Result<Shared<T>> {
        let fingerprint = Fingerprint::of::<T>();
        let segment = Segment::open(
            name,
            Kind::Queue,
            fingerprint,
            std::any::type_name::<T>(),
            opts,
        )?;
        let (layout, mode, joinable) = opened_layout(&segment, fingerprint)?;
        Shared::assemble(Arc::new(segment), layout, mode, joinable)
    }

    fn assemble(
        segment: Arc<Segment>,
        layout: QueueLayout,
        mode: QueueMode,
        joinable: bool,
    ) -> Result<Shared<T>> {
        let control = segment
            .at(layout.control_offset, size_of::<Control>())?
            .cast();
        let ring = match mode {
            QueueMode::Spsc => Ring::Spsc(
                segment
                    .at(layout.indices_offset, size_of::<SpscIndices>())?
                    .cast(),
                spsc_geometry::<T>(&layout)?,
            ),
            QueueMode::Mpmc => Ring::Mpmc(
                segment
                    .at(layout.indices_offset, size_of::<MpmcIndices>())?
                    .cast(),
            ),
        };
        let slot_bytes = usize::try_from(layout.slots)
            .ok()
            .and_then(|slots| slots.checked_mul(layout.slot_size))
            .ok_or_else(|| {
                Error::corrupt(
                    segment.name(),
                    Corruption::Parameter {
                        kind: Kind::Queue,
                        found: layout.capacity,
                        layout: None,
                    },
                )
            })?;
        let base = segment.at(layout.slots_offset, slot_bytes)?;
        // SAFETY: `at` checked that the span lies inside the mapping, which
        // `segment` keeps alive for as long as the slots (both are fields of
        // the handle); the slots offset is a multiple of 64 in a
        // page-aligned mapping; the segment is used only through atomics
        // and race-tolerant copies.
        let slots = unsafe { ShmSlots::new(base, &layout, mode)? };
        Ok(Shared {
            name: Arc::from(segment.name()),
            segment,
            control,
            ring,
            slots,
            capacity: layout.capacity,
            ring_slots: layout.slots,
            put_slack: (layout.capacity / 16).clamp(1, 64),
            prefetch: (PREFETCH_BYTES / layout.slot_size as u64).max(1),
            mpmc_room_until: AtomicU64::new(0),
            stall: Mutex::new(None),
            misses: AtomicU32::new(0),
            holder: AtomicU32::new(u32::MAX),
            joinable,
            wait: WaitStrategy::default(),
        })
    }
}

/// The layout, mode and joinability an opened queue segment's header
/// records for items of `fingerprint`, checked against the segment.
pub(in crate::queue) fn opened_layout(
    segment: &Segment,
    fingerprint: Fingerprint,
) -> Result<(QueueLayout, QueueMode, bool)> {
    let header = *segment.header();
    let mode = match header.flags & (queue_flags::SPSC | queue_flags::MPMC) {
        queue_flags::SPSC => QueueMode::Spsc,
        queue_flags::MPMC => QueueMode::Mpmc,
        _ => {
            return Err(Error::bad_flags(
                &segment.shared_name(),
                Kind::Queue,
                header.flags,
            ))
        }
    };
    let layout = check_layout(
        segment,
        Kind::Queue,
        QueueLayout::new(fingerprint, header.param, mode),
        |l| l.total_size,
    )?;
    Ok((layout, mode, header.flags & queue_flags::JOINABLE != 0))
}
