//! One direction of messages: a byte ring in a segment, its control block,
//! and the send and receive paths that [`MessageQueue`](super::MessageQueue),
//! [`SimpleQueue`](super::SimpleQueue) and [`Connection`](super::Connection)
//! go through.
//!
//! The byte ring of `shmipc-core` has one pusher and one popper. Who that
//! is at a given moment is decided by the channel's two role records
//! ([`Claim`]): a pipe end takes its roles for its life; a queue handle
//! takes one for each attempt of a call, so that any number of processes
//! share a queue. A sender killed half-way through a record holds the
//! sender role and has not published its header: the next sender takes the
//! role over from the dead one and writes over the half-written record,
//! which no receiver ever saw (and walks over one it published, see
//! [`ByteRing::pusher`]).
//!
//! This file has the control block, the roles and what both sides share;
//! `send` the sending side (whole messages, streams, room for loans),
//! `receive` the receiving side (assembling streams, `poll`, loans), and
//! `tasks` a joinable queue's counts.

use std::ptr::NonNull;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use shmipc_core::byte_ring::{
    BytePopper, BytePusher, ByteRing, ByteRingError, ByteStorage, Record, RecordKind, Reserved,
    HEADER,
};
use shmipc_core::eventcount::EventCount;
use shmipc_core::layout::ChannelLayout;
use shmipc_core::park::{Liveness, Owner};
use shmipc_core::ring::RingPositions;
use shmipc_core::spin::TIGHT_POLLS;

use super::error::{RecvError, SendError};
use super::loan::{ReadLoan, WriteLoan};
use super::storage::SegmentBytes;
use crate::error::{Corruption, Error, Result};
use crate::futex::FutexWake;
use crate::identity;
use crate::queue::role::{self, Claim, Taken};
use crate::queue::tasks::TaskHolders;
use crate::queue::wait::{wait_for, Patience};
use crate::queue::WaitStrategy;
use crate::segment::Segment;

mod receive;
mod send;
mod tasks;

/// A channel's control block. All-zero bytes are an open channel with no
/// waiters and both roles free.
///
/// The first 128-byte block holds what every send and receive reads. The
/// sender role's record and what senders write now and then are in the
/// second; the receiver role's record and the task counts in the third:
/// a queue's callers take their role on every call, and with both records
/// in one block the two sides of a ping-pong would pass it back and forth
/// twice a message. The joinable queue's task holders come last.
#[repr(C, align(128))]
pub(super) struct ChannelControl {
    /// Set by `close` (a queue) or by the sending end's close or death (a
    /// pipe): sends fail, receives drain and then report it.
    closed: AtomicU32,
    /// A pipe's receiving end closed or died: sends fail.
    receiver_gone: AtomicU32,
    /// Receivers wait here for messages; senders notify.
    not_empty: EventCount,
    /// Senders wait here for room; receivers notify.
    not_full: EventCount,
    _first_block: [u32; 26],
    sender: Claim,
    /// Where the last abandoned stream ends (see `Channel::send_streamed`).
    abandoned_at: AtomicU64,
    /// Streams abandoned so far.
    abandoned: AtomicU64,
    _second_block: [u64; 12],
    receiver: Claim,
    /// A joinable queue: messages received so far (tasks handed out).
    taken: AtomicU64,
    /// A joinable queue: `task_done` calls so far.
    done: AtomicU64,
    /// A joinable queue: `join` waits here.
    all_done: EventCount,
    _third_block: [u64; 11],
    /// A joinable queue: the tasks each process received and has not
    /// marked done, so that `join` tells a dead consumer from a slow one.
    holders: TaskHolders,
}

const _: () = assert!(size_of::<ChannelControl>() == shmipc_core::layout::CHANNEL_CONTROL_SIZE);
const _: () = assert!(std::mem::offset_of!(ChannelControl, sender) == 128);
const _: () = assert!(std::mem::offset_of!(ChannelControl, receiver) == 256);
const _: () = assert!(std::mem::offset_of!(ChannelControl, holders) == 384);

/// How a caller holds the role it sends or receives with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Hold {
    /// For its life (a pipe end): no claim per call.
    Life,
    /// For each attempt (a queue handle, shared by any number of processes).
    Call,
}

/// Which role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Side {
    Sender,
    Receiver,
}

/// How long a `try_` call waits for another caller's attempt in progress
/// (a copy, microseconds) to give the role back before it reports the
/// channel full or empty.
const TRY_ROLE_GRACE: Duration = Duration::from_micros(200);

/// How long a receive with a timeout waits, past its deadline, for the
/// next part of a message it has begun: parts come as fast as the receiver
/// frees room, so a pause this long means the sender stopped.
const STREAM_STALL: Duration = Duration::from_secs(1);

/// The least time between two looks of a handle at its pipe peer's
/// liveness.
const LIVENESS_EVERY: Duration = Duration::from_millis(1);

/// A liveness look not yet made.
const NEVER: u64 = u64::MAX;

/// Nanoseconds on a clock that starts at this process's first look (only
/// differences are used).
fn clock_ns() -> u64 {
    static START: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    START.get_or_init(Instant::now).elapsed().as_nanos() as u64
}

/// One channel of a mapped message segment.
pub(super) struct Channel {
    /// Keeps the mapping, and so every pointer below, alive.
    _segment: Arc<Segment>,
    name: Arc<str>,
    control: NonNull<ChannelControl>,
    positions: NonNull<RingPositions>,
    bytes: SegmentBytes,
    ring_bytes: u64,
    /// A pipe's: the peer's death ends the channel.
    peer_ends_it: bool,
    /// A joinable queue's: receives count tasks.
    joinable: bool,
    /// Where this process's task holder was last found (a hint).
    holder_hint: AtomicU32,
    /// When this handle last looked at its peer's liveness ([`clock_ns`]).
    last_liveness_check: AtomicU64,
    /// The head as this handle's sends last read it (see
    /// [`ByteRing::pusher_seeing`]).
    head_seen: AtomicU64,
}

// SAFETY: the pointers address atomics and word-atomic bytes in the mapping
// that `_segment` keeps alive; who may push and pop is decided by the role
// records in shared memory, not by the thread.
unsafe impl Send for Channel {}
// SAFETY: as above; `&Channel` offers atomic accesses only.
unsafe impl Sync for Channel {}

/// Whether a role is held by a process that is gone.
fn holder_dead(claim: &Claim) -> bool {
    claim
        .holder()
        .is_some_and(|o: Owner| identity::process_liveness(&o) == Liveness::Dead)
}

impl Channel {
    /// The channel laid out at `layout` in `segment`, of `ring_bytes`
    /// (checked by the caller's layout: a power of two).
    pub(super) fn new(
        segment: Arc<Segment>,
        layout: &ChannelLayout,
        ring_bytes: u64,
        peer_ends_it: bool,
    ) -> Result<Channel> {
        let control = segment
            .at(layout.control_offset, size_of::<ChannelControl>())?
            .cast();
        let positions = segment
            .at(layout.positions_offset, size_of::<RingPositions>())?
            .cast();
        let len = ring_bytes as usize;
        let base = segment.at(layout.buffer_offset, len)?;
        // SAFETY: `at` checked that the span lies inside the mapping, which
        // `_segment` keeps alive as long as the channel; the layout puts the
        // buffer at a multiple of 128 in a page-aligned mapping, and its
        // length is a power of two of at least 128; the buffer is accessed
        // by every process only through `SegmentBytes`.
        let bytes = unsafe { SegmentBytes::new(base, len) };
        Ok(Channel {
            name: segment.shared_name(),
            _segment: segment,
            control,
            positions,
            bytes,
            ring_bytes,
            peer_ends_it,
            joinable: false,
            holder_hint: AtomicU32::new(u32::MAX),
            last_liveness_check: AtomicU64::new(NEVER),
            head_seen: AtomicU64::new(0),
        })
    }

    pub(super) fn name(&self) -> &Arc<str> {
        &self.name
    }

    fn control(&self) -> &ChannelControl {
        // SAFETY: aligned, inside the mapping `_segment` keeps alive, atomics only.
        unsafe { self.control.as_ref() }
    }

    fn ring(&self) -> ByteRing<'_, SegmentBytes> {
        // SAFETY: the positions are aligned inside the mapping (atomics
        // only); the buffer is `ring_bytes` long, a power of two in
        // 128..=2^31 (the layout's check); the positions are written by this
        // protocol under the role records, and `SegmentBytes` tolerates a
        // peer that writes anything anywhere (word-atomic copies).
        unsafe { ByteRing::new(self.positions.as_ref(), &self.bytes, self.ring_bytes) }
    }

    /// The eventcount senders bump: for [`wait`](crate::wait).
    pub(super) fn not_empty(&self) -> &EventCount {
        &self.control().not_empty
    }

    /// The ring's bytes, for loans that read and write in place.
    pub(super) fn bytes(&self) -> &SegmentBytes {
        &self.bytes
    }

    /// Commits the record of `room` as a whole message; for the holder of
    /// the sender role that reserved it.
    pub(super) fn publish(&self, room: Reserved) {
        // SAFETY: the caller holds the sender role.
        unsafe { self.ring().pusher() }.commit(room, RecordKind::Whole);
        self.control().not_empty.notify(&FutexWake, 1);
    }

    /// Frees `record`, the next one; for the holder of the receiver role.
    pub(super) fn free(&self, record: &Record) {
        // SAFETY: the caller holds the receiver role.
        unsafe { self.ring().popper() }.consume(record);
        self.control().not_full.notify(&FutexWake, 1);
    }

    /// The longest message written in place: one record.
    pub(super) fn max_message(&self) -> usize {
        self.ring().max_message()
    }

    /// The ring's size in bytes.
    pub(super) fn ring_bytes(&self) -> u64 {
        self.ring_bytes
    }

    /// Bytes of messages (with their headers and padding) waiting.
    pub(super) fn used(&self) -> u64 {
        self.ring().used().min(self.ring_bytes)
    }

    fn claim(&self, side: Side) -> &Claim {
        match side {
            Side::Sender => &self.control().sender,
            Side::Receiver => &self.control().receiver,
        }
    }

    /// Streams abandoned part-way so far: by a sender that failed or died
    /// after its first part (counted once per place in the ring).
    pub(super) fn abandoned(&self) -> u64 {
        self.control().abandoned.load(Ordering::Relaxed)
    }

    /// Takes `side` for a pipe end's life: `Ok` if it was free, or held by
    /// a process that died (then the channel is over, and marked so).
    pub(super) fn take_for_life(&self, side: Side, me: u64) -> Result<()> {
        match self.claim(side).try_take(me) {
            Ok(Taken::Free) => Ok(()),
            Ok(Taken::FromDead) => {
                self.end(side);
                Ok(())
            }
            Err(holder) => Err(Error::RoleTaken {
                name: self.name.to_string(),
                role: match side {
                    Side::Sender => "sending end",
                    Side::Receiver => "receiving end",
                },
                pid: holder.pid,
                tid: holder.tid,
            }),
        }
    }

    /// Gives up `side` for good (a pipe end closed): the peer sees end of
    /// file, or a disconnection.
    pub(super) fn end(&self, side: Side) {
        let c = self.control();
        match side {
            Side::Sender => c.closed.store(1, Ordering::SeqCst),
            Side::Receiver => c.receiver_gone.store(1, Ordering::SeqCst),
        }
        c.not_empty.notify(&FutexWake, u32::MAX);
        c.not_full.notify(&FutexWake, u32::MAX);
    }

    /// Releases a role held for life without ending the channel.
    pub(super) fn release(&self, side: Side, me: u64) {
        self.claim(side).release(me);
    }

    /// Whether `side` was ended (closed, or seen dead).
    pub(super) fn ended(&self, side: Side) -> bool {
        let c = self.control();
        match side {
            Side::Sender => c.closed.load(Ordering::SeqCst) != 0,
            Side::Receiver => c.receiver_gone.load(Ordering::SeqCst) != 0,
        }
    }

    /// `close` of a queue: sends fail from now on; receives drain.
    pub(super) fn close(&self) {
        self.end(Side::Sender);
    }

    /// On a pipe, whether the peer on `side` died holding its role; if so,
    /// the channel is ended for it. A syscall: asked when
    /// [`liveness_check_due`](Self::liveness_check_due) says so.
    fn peer_died(&self, side: Side) -> bool {
        if !self.peer_ends_it || !holder_dead(self.claim(side)) {
            return false;
        }
        self.end(side);
        true
    }

    /// Whether a wait that failed again should ask about the peer's
    /// liveness (a syscall or two, and a read of `/proc`): on a pipe, at
    /// most once per [`LIVENESS_EVERY`] for this handle, so that a peer's
    /// death is seen within that (or the parked wait's liveness poll), and
    /// a busy ping-pong, which fails an attempt now and then on every
    /// message, does not pay for it each time.
    fn liveness_check_due(&self) -> bool {
        if !self.peer_ends_it {
            return false;
        }
        let now = clock_ns();
        let last = self.last_liveness_check.load(Ordering::Relaxed);
        if last != NEVER && now.wrapping_sub(last) < LIVENESS_EVERY.as_nanos() as u64 {
            return false;
        }
        self.last_liveness_check.store(now, Ordering::Relaxed);
        true
    }

    fn corrupt(&self, e: ByteRingError) -> Error {
        let (head, tail, header) = match e {
            ByteRingError::Corrupt { head, tail, header } => (head, tail, header),
            // Not a state of the ring: reported with the positions alone.
            _ => (0, 0, 0),
        };
        Error::corrupt(
            &self.name,
            Corruption::MessageRecord {
                head,
                tail,
                header,
                ring_bytes: self.ring_bytes,
            },
        )
    }

    /// Takes `side`'s role for an attempt of a [`Hold::Call`] caller, until
    /// `deadline`; `false` if it could not. A sender that takes the role
    /// over from a dead one marks where that one's stream, if any, ends.
    fn take_role(&self, side: Side, me: u64, deadline: Option<Instant>) -> bool {
        match self.claim(side).take(me, deadline) {
            Ok(Taken::Free) => true,
            Ok(Taken::FromDead) => {
                self.took_over(side);
                true
            }
            Err(_) => false,
        }
    }

    /// After taking `side`'s role from a dead holder: a sender marks where
    /// the dead one's stream, if any, ends.
    fn took_over(&self, side: Side) {
        if side == Side::Sender {
            // SAFETY: the sender role is ours (taken just now).
            let tail = unsafe { self.ring().pusher() }.position();
            self.abandon_stream_at(tail);
        }
    }

    /// Marks `position` as the end of a stream that will get no more
    /// parts, and wakes receivers waiting for them.
    ///
    /// The mark only grows (positions do), so that a late writer that read
    /// an older tail cannot take back a later mark.
    fn abandon_stream_at(&self, position: u64) {
        let c = self.control();
        if c.abandoned_at.fetch_max(position, Ordering::SeqCst) < position {
            c.abandoned.fetch_add(1, Ordering::Relaxed);
        }
        c.not_empty.notify(&FutexWake, u32::MAX);
    }

    /// A receiver waiting for the next part of a stream whose sender is
    /// gone marks the stream abandoned where the published records end, so
    /// that it stops waiting. Gone: the sender role is free (a streaming
    /// sender holds it from its first part to its last, and gives it back
    /// only after the last is published, so records read after seeing it
    /// free end past every part it sent), or held by a process that died
    /// (which publishes no more). On a pipe the sender's death also ends
    /// the channel.
    fn abandon_if_sender_gone(&self) {
        let sender = self.claim(Side::Sender);
        let holder = sender.holder();
        let gone = holder.is_none_or(|o: Owner| identity::process_liveness(&o) == Liveness::Dead);
        if !gone {
            return;
        }
        let end = self.ring().published_end();
        // A sender that took the role meanwhile may have published the
        // first part of a stream of its own, which `end` counts: that
        // stream is under way, and the next look decides.
        if sender.holder() == holder {
            self.abandon_stream_at(end);
            self.peer_died(Side::Sender);
        }
    }

    /// Runs `f` holding `side`'s role if that costs nothing more than a
    /// free role's compare-exchange; `None` (and `f` not run) otherwise,
    /// for the general path to handle.
    #[inline]
    fn fast_role<R>(&self, side: Side, hold: Hold, f: impl FnOnce() -> Option<R>) -> Option<R> {
        match hold {
            Hold::Life => f(),
            Hold::Call => {
                let me = role::me();
                let claim = self.claim(side);
                match claim.try_take(me) {
                    Ok(Taken::Free) => {}
                    Ok(Taken::FromDead) => self.took_over(side),
                    Err(_) => return None,
                }
                let r = f();
                claim.release(me);
                r
            }
        }
    }
}

/// A channel's live state, read without taking a role (for
/// [`segments::inspect`](crate::segments::inspect)).
pub(crate) struct ChannelState {
    pub used: u64,
    pub ring_bytes: u64,
    pub closed: bool,
    pub receiver_gone: bool,
    pub sender: Option<Owner>,
    pub receiver: Option<Owner>,
    pub abandoned: u64,
}

impl Channel {
    /// A snapshot of the channel: nothing is taken or moved.
    pub(super) fn state(&self) -> ChannelState {
        ChannelState {
            used: self.used(),
            ring_bytes: self.ring_bytes,
            closed: self.ended(Side::Sender),
            receiver_gone: self.ended(Side::Receiver),
            sender: self.claim(Side::Sender).holder(),
            receiver: self.claim(Side::Receiver).holder(),
            abandoned: self.abandoned(),
        }
    }
}

/// A role held by a send or receive call: for [`Hold::Call`], taken per
/// attempt and given back between attempts unless `keep` says the call
/// needs it kept (a stream under way), and given back at the end.
pub(super) struct RoleHold<'c> {
    channel: &'c Channel,
    side: Side,
    hold: Hold,
    deadline: Option<Instant>,
    me: u64,
    held: bool,
    keep: bool,
}

impl<'c> RoleHold<'c> {
    fn new(channel: &'c Channel, side: Side, hold: Hold, deadline: Option<Instant>) -> Self {
        RoleHold {
            channel,
            side,
            hold,
            deadline,
            me: if hold == Hold::Call { role::me() } else { 0 },
            held: hold == Hold::Life,
            keep: false,
        }
    }

    /// Takes the role if not held; `false` if it could not be taken by the
    /// deadline.
    fn take(&mut self) -> bool {
        if !self.held {
            self.held = self.channel.take_role(self.side, self.me, self.deadline);
        }
        self.held
    }

    fn release_between_attempts(&mut self) {
        if self.hold == Hold::Call && self.held && !self.keep {
            self.channel.claim(self.side).release(self.me);
            self.held = false;
        }
    }
}

impl Drop for RoleHold<'_> {
    fn drop(&mut self) {
        self.keep = false;
        self.release_between_attempts();
    }
}

/// How long an attempt waits for the role: a `try_` call a moment (see
/// [`TRY_ROLE_GRACE`]), others until their own deadline.
fn role_deadline(timeout: Option<Duration>) -> Option<Instant> {
    match timeout {
        Some(Duration::ZERO) => Some(Instant::now() + TRY_ROLE_GRACE),
        Some(t) => Instant::now().checked_add(t),
        None => None,
    }
}
