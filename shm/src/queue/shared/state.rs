//! A queue's live state for [`segments::inspect`](crate::segments::inspect):
//! read from its control block and positions, without the element type and
//! without taking a role.

use super::*;

/// A queue's live state, read without taking anything (for
/// [`segments::inspect`](crate::segments::inspect)).
pub(crate) struct QueueState {
    pub mode: QueueMode,
    pub joinable: bool,
    pub len: u64,
    pub capacity: u64,
    pub closed: bool,
    pub producer: Option<shmipc_core::park::Owner>,
    pub consumer: Option<shmipc_core::park::Owner>,
    pub tasks_done: u64,
    pub passed_over: u64,
}

/// The state of the queue `name`, whose items have `fingerprint` (as its
/// header records): no role is taken and no item moved.
pub(crate) fn queue_state(name: &str, fingerprint: Fingerprint) -> Result<QueueState> {
    let segment = Segment::open(
        name,
        Kind::Queue,
        fingerprint,
        "the recorded type",
        &Options::default(),
    )?;
    let (layout, mode, joinable) = super::build::opened_layout(&segment, fingerprint)?;
    let control = segment.at(layout.control_offset, size_of::<Control>())?;
    // SAFETY: inside the mapping (checked by `at`), aligned by the layout,
    // atomics only; `segment` lives to the end of this function.
    let control: &Control = unsafe { control.cast().as_ref() };
    let len = match mode {
        QueueMode::Spsc => {
            let ix = segment.at(layout.indices_offset, size_of::<SpscIndices>())?;
            // SAFETY: as for the control block.
            unsafe { ix.cast::<SpscIndices>().as_ref() }.len()
        }
        QueueMode::Mpmc => {
            let ix = segment.at(layout.indices_offset, size_of::<MpmcIndices>())?;
            // SAFETY: as for the control block.
            unsafe { ix.cast::<MpmcIndices>().as_ref() }.len()
        }
    };
    Ok(QueueState {
        mode,
        joinable,
        len,
        capacity: layout.capacity,
        closed: control.closed.load(Ordering::SeqCst) != 0,
        producer: control.producer.holder(),
        consumer: control.consumer.holder(),
        tasks_done: control.tasks_done.load(Ordering::Relaxed),
        passed_over: control.passed_over.load(Ordering::Relaxed),
    })
}
