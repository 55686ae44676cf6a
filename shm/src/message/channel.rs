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
//! sender role and has not moved the tail: the next sender takes the role
//! over from the dead one and writes over the half-written record, which no
//! receiver ever saw.

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

/// Where a receive puts the message.
pub(super) enum Sink<'b> {
    /// A new vector, for a message of at most `max` bytes.
    Vec { max: usize },
    /// Nowhere: a whole message stays in the ring, to be read in place (a
    /// streamed one is assembled in a vector).
    InPlace,
    /// The front of a caller's buffer.
    Slice(&'b mut [u8]),
}

/// What a receive gave.
pub(super) enum Received {
    Vec(Vec<u8>),
    Len(usize),
    /// A whole message left in the ring for [`Sink::InPlace`]; the
    /// receiver role is still held.
    InPlace(Record),
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
    /// The tail as this handle's receives last read it (see
    /// [`ByteRing::popper_seeing`]).
    tail_seen: AtomicU64,
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
            tail_seen: AtomicU64::new(0),
        })
    }

    pub(super) fn name(&self) -> &Arc<str> {
        &self.name
    }

    /// This channel as a joinable queue's: receives count tasks.
    pub(super) fn counting_tasks(mut self) -> Channel {
        self.joinable = true;
        self
    }

    /// Counts a message received as a task handed out, on a joinable queue.
    #[inline]
    fn note_taken(&self) {
        if self.joinable {
            let c = self.control();
            c.taken.fetch_add(1, Ordering::SeqCst);
            c.holders.taken(&self.holder_hint, 1);
        }
    }

    /// Tasks handed out and not marked done, and whether a message waits
    /// (a snapshot).
    pub(super) fn unfinished(&self) -> (u64, bool) {
        let c = self.control();
        let done = c.done.load(Ordering::SeqCst);
        let taken = c.taken.load(Ordering::SeqCst);
        (taken.saturating_sub(done), self.ring().holds_record())
    }

    /// Marks one task done; `false` if there are none unfinished.
    pub(super) fn task_done(&self) -> bool {
        let c = self.control();
        let taken = c.taken.load(Ordering::SeqCst);
        let counted = c
            .done
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |done| {
                (done < taken).then_some(done + 1)
            });
        if counted.is_err() {
            return false;
        }
        c.holders.done_one(&self.holder_hint);
        // Only a task_done (or a write-off of a dead consumer's tasks) can
        // make `join`'s condition true.
        c.all_done
            .notify_if(&FutexWake, u32::MAX, || self.unfinished() == (0, false));
        true
    }

    /// Waits until every message put was received and marked done; `None`
    /// when `timeout` ran out, `Some(Err((pid, tasks)))` if a consumer died
    /// holding tasks (then written off as done).
    pub(super) fn join(
        &self,
        timeout: Option<Duration>,
        wait: WaitStrategy,
    ) -> Option<std::result::Result<(), (u32, u64)>> {
        let c = self.control();
        wait_for(
            wait,
            &c.all_done,
            timeout,
            Patience::BackOff,
            // A dead consumer holding tasks wakes nobody: poll.
            || true,
            || (self.unfinished() == (0, false)).then_some(Ok(())),
            || {
                let (pid, tasks) = c.holders.take_dead()?;
                c.done.fetch_add(tasks, Ordering::SeqCst);
                c.all_done.notify(&FutexWake, u32::MAX);
                Some(Err((pid, tasks)))
            },
        )
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
    /// gone marks the stream abandoned at the tail, so that it stops
    /// waiting. Gone: the sender role is free (a streaming sender holds it
    /// from its first part to its last, and gives it back only after the
    /// last is published, so a tail read after seeing it free is past
    /// every part it sent), or held by a process that died (whose tail is
    /// final). On a pipe the sender's death also ends the channel.
    fn abandon_if_sender_gone(&self) {
        let sender = self.claim(Side::Sender);
        if sender.holder().is_none() || holder_dead(sender) {
            // SAFETY: the positions live in the mapping, atomics only.
            let tail = unsafe { self.positions.as_ref() }.put();
            self.abandon_stream_at(tail);
            self.peer_died(Side::Sender);
        }
    }

    /// Sends `message`, waiting up to `timeout` (forever if `None`; not at
    /// all if zero) for room. A message longer than a record may be is
    /// streamed in parts, holding the sender role throughout.
    pub(super) fn send(
        &self,
        message: &[u8],
        timeout: Option<Duration>,
        hold: Hold,
        wait: WaitStrategy,
    ) -> std::result::Result<(), SendError> {
        if message.len() > self.whole_max() {
            return self.send_streamed(message, timeout, hold, wait);
        }
        if self.send_fast(message, hold) {
            return Ok(());
        }
        let mut role = RoleHold::new(self, Side::Sender, hold, role_deadline(timeout));
        self.send_record(&mut role, timeout, wait, |pusher| {
            pusher
                .reserve(message.len())
                .map(|room| (room, RecordKind::Whole, 0, message))
        })
        .map(|_| ())
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

    /// One attempt at a whole message on the common path, without the
    /// general path's waiting machinery: `false` if anything is unusual
    /// (no room, closed, a pad in the way), which the general path then
    /// handles and explains.
    #[inline]
    fn send_fast(&self, message: &[u8], hold: Hold) -> bool {
        let c = self.control();
        if c.closed.load(Ordering::Relaxed) != 0 || c.receiver_gone.load(Ordering::Relaxed) != 0 {
            return false;
        }
        self.fast_role(Side::Sender, hold, || {
            let seen = self.head_seen.load(Ordering::Relaxed);
            // SAFETY: as in `send_record`: the sender role is this caller's.
            let mut pusher = unsafe { self.ring().pusher_seeing(seen) };
            let room = pusher.reserve(message.len());
            self.head_seen.store(pusher.head_seen(), Ordering::Relaxed);
            let room = room.ok()?;
            // SAFETY: `reserve` gave these bytes to this pusher alone,
            // inside the buffer, from a multiple of 8.
            unsafe { self.bytes.write(room.offset, message) };
            pusher.commit(room, RecordKind::Whole);
            Some(())
        })
        .map(|()| c.not_empty.notify(&FutexWake, 1))
        .is_some()
    }

    /// As [`send_fast`](Self::send_fast), for a receive of a whole message
    /// that fits `sink`: `None` sends the caller down the general path.
    #[inline]
    fn recv_fast(&self, sink: &mut Sink<'_>, hold: Hold) -> Option<Received> {
        let got = self.fast_role(Side::Receiver, hold, || {
            let seen = self.tail_seen.load(Ordering::Relaxed);
            // SAFETY: as in `recv_step`: the receiver role is this
            // caller's, and `seen` a tail it read before.
            let mut popper = unsafe { self.ring().popper_seeing(seen) };
            let record = popper.peek();
            self.tail_seen.store(popper.tail_seen(), Ordering::Relaxed);
            let record = match record {
                Ok(Some(r)) if r.kind == RecordKind::Whole => r,
                _ => return None,
            };
            let got = match sink {
                Sink::Vec { max } if record.len <= *max => {
                    let mut message = vec![0; record.len];
                    popper.read(&record, 0, &mut message);
                    Received::Vec(message)
                }
                Sink::Slice(buffer) if record.len <= buffer.len() => {
                    popper.read(&record, 0, &mut buffer[..record.len]);
                    Received::Len(record.len)
                }
                _ => return None,
            };
            popper.consume(&record);
            Some(got)
        })?;
        self.control().not_full.notify(&FutexWake, 1);
        Some(got)
    }

    /// The longest message sent as one record: a quarter of the ring, so
    /// that a sender and a receiver work on different parts of it at once.
    fn whole_max(&self) -> usize {
        (self.ring_bytes / 4) as usize - HEADER
    }

    /// Sends one record, waiting for room: `reserve` asks the ring for the
    /// room and says what goes there, and from which byte of the payload.
    /// Gives the tail after the record.
    fn send_record<'m>(
        &self,
        role: &mut RoleHold<'_>,
        timeout: Option<Duration>,
        wait: WaitStrategy,
        mut reserve: impl FnMut(
            &mut BytePusher<'_, SegmentBytes>,
        ) -> std::result::Result<
            (Reserved, RecordKind, usize, &'m [u8]),
            ByteRingError,
        >,
    ) -> std::result::Result<u64, SendError> {
        let tail = self.wait_for_room(role, timeout, wait, |pusher| {
            let (room, kind, at, bytes) = reserve(pusher)?;
            debug_assert!(at % 8 == 0 && at + bytes.len() <= room.len);
            // SAFETY: `reserve` gave these bytes to this pusher alone,
            // inside the buffer, from a multiple of 8.
            unsafe { self.bytes.write(room.offset + at, bytes) };
            pusher.commit(room, kind);
            Ok(pusher.position())
        })?;
        self.control().not_empty.notify(&FutexWake, 1);
        Ok(tail)
    }

    /// Runs `attempt` with the pusher, holding the sender role, until it
    /// finds room (it gives `WouldBlock` while there is none), waiting up
    /// to `timeout`; explains every other way it can end.
    fn wait_for_room<R>(
        &self,
        role: &mut RoleHold<'_>,
        timeout: Option<Duration>,
        wait: WaitStrategy,
        mut attempt: impl FnMut(
            &mut BytePusher<'_, SegmentBytes>,
        ) -> std::result::Result<R, ByteRingError>,
    ) -> std::result::Result<R, SendError> {
        let outcome = wait_for(
            wait,
            &self.control().not_full,
            timeout,
            Patience::BackOff,
            || self.peer_ends_it,
            || {
                if let Some(refused) = self.refusing_sends() {
                    return Some(Err(refused));
                }
                if !role.take() {
                    return None;
                }
                let seen = self.head_seen.load(Ordering::Relaxed);
                // SAFETY: this caller holds the sender role (for its life,
                // or taken just now by compare-exchange): no other pusher of
                // this ring runs in any process. A peer that scribbles on
                // the role record can let in a second one: the buffer's
                // copies are word-atomic, so that garbles messages but does
                // not race. `seen` is a head this handle read before, and
                // heads only grow.
                let mut pusher = unsafe { self.ring().pusher_seeing(seen) };
                let attempted = attempt(&mut pusher);
                self.head_seen.store(pusher.head_seen(), Ordering::Relaxed);
                let answer = match attempted {
                    Ok(r) => Some(Ok(r)),
                    Err(ByteRingError::WouldBlock) => None,
                    Err(ByteRingError::TooLarge { len, max }) => Some(Err(SendError::TooLarge {
                        name: self.name.clone(),
                        len,
                        max,
                    })),
                    Err(e) => Some(Err(SendError::Failed(self.corrupt(e)))),
                };
                if answer.is_none() {
                    role.release_between_attempts();
                }
                answer
            },
            || {
                (self.liveness_check_due() && self.peer_died(Side::Receiver))
                    .then(|| Err(self.disconnected()))
            },
        );
        match outcome {
            Some(answer) => answer,
            None if timeout == Some(Duration::ZERO) => Err(SendError::Full {
                name: self.name.clone(),
            }),
            None => Err(SendError::TimedOut {
                name: self.name.clone(),
                after: timeout.unwrap_or_default(),
            }),
        }
    }

    /// Why no send can succeed, if one cannot: closed, or no receiver.
    fn refusing_sends(&self) -> Option<SendError> {
        let c = self.control();
        if c.closed.load(Ordering::Relaxed) != 0 {
            return Some(SendError::Closed {
                name: self.name.clone(),
            });
        }
        (c.receiver_gone.load(Ordering::Relaxed) != 0).then(|| self.disconnected())
    }

    fn disconnected(&self) -> SendError {
        SendError::Disconnected {
            name: self.name.clone(),
        }
    }

    /// Sends a message longer than a record in parts of a quarter ring:
    /// the first starts with the message's length. The role is held from
    /// the first part to the last, so that no other sender's records come
    /// between them. A send that fails after its first part marks the
    /// stream abandoned, and receivers drop what they had of it.
    fn send_streamed(
        &self,
        message: &[u8],
        timeout: Option<Duration>,
        hold: Hold,
        wait: WaitStrategy,
    ) -> std::result::Result<(), SendError> {
        let deadline = timeout.and_then(|t| Instant::now().checked_add(t));
        let mut role = RoleHold::new(self, Side::Sender, hold, role_deadline(timeout));
        role.keep = true;
        let part = self.whole_max();
        let total = (message.len() as u64).to_ne_bytes();
        let mut sent = 0;
        while sent < message.len() {
            let first = sent == 0;
            let data = (message.len() - sent).min(if first { part - 8 } else { part });
            let chunk = &message[sent..sent + data];
            let left = deadline.map(|d| d.saturating_duration_since(Instant::now()));
            let left = if first { timeout.and(left) } else { left };
            let outcome = self.send_record(&mut role, left, wait, |pusher| {
                if first {
                    let room = pusher.reserve(8 + data)?;
                    // SAFETY: reserved for this pusher, from a multiple of 8.
                    unsafe { self.bytes.write(room.offset, &total) };
                    Ok((room, RecordKind::First, 8, chunk))
                } else {
                    pusher
                        .reserve(data)
                        .map(|room| (room, RecordKind::Next, 0, chunk))
                }
            });
            match outcome {
                Ok(_) => sent += data,
                Err(e) => {
                    if !first {
                        // SAFETY: the sender role is still ours.
                        let tail = unsafe { self.ring().pusher() }.position();
                        self.abandon_stream_at(tail);
                    }
                    return Err(match e {
                        SendError::Full { name } if !first => SendError::TimedOut {
                            name,
                            after: Duration::ZERO,
                        },
                        e => e,
                    });
                }
            }
        }
        Ok(())
    }

    /// Receives the next message into `sink`, waiting up to `timeout`
    /// (forever if `None`; not at all if zero) for it to begin. A message
    /// streamed in parts, once begun, is received whole while its parts
    /// keep coming, past the timeout if need be. Its sender's death, close
    /// or abandonment drops its parts, and the receive goes on to the next
    /// message; with a timeout, so does a pause of [`STREAM_STALL`] past
    /// the deadline, and then the receive times out.
    fn recv(
        &self,
        sink: &mut Sink<'_>,
        timeout: Option<Duration>,
        hold: Hold,
        wait: WaitStrategy,
    ) -> std::result::Result<Received, RecvError> {
        if let Some(got) = self.recv_fast(sink, hold) {
            self.note_taken();
            return Ok(got);
        }
        let mut role = RoleHold::new(self, Side::Receiver, hold, role_deadline(timeout));
        let got = self.recv_holding(&mut role, sink, timeout, wait)?;
        self.note_taken();
        Ok(got)
    }

    /// Receives the next message into a new vector, if it is at most
    /// `max` bytes.
    pub(super) fn recv_vec(
        &self,
        max: usize,
        timeout: Option<Duration>,
        hold: Hold,
        wait: WaitStrategy,
    ) -> std::result::Result<Vec<u8>, RecvError> {
        match self.recv(&mut Sink::Vec { max }, timeout, hold, wait)? {
            Received::Vec(v) => Ok(v),
            _ => unreachable!("a vector sink gives a vector"),
        }
    }

    /// Receives the next message into the front of `buffer`; its length.
    pub(super) fn recv_into(
        &self,
        buffer: &mut [u8],
        timeout: Option<Duration>,
        hold: Hold,
        wait: WaitStrategy,
    ) -> std::result::Result<usize, RecvError> {
        match self.recv(&mut Sink::Slice(buffer), timeout, hold, wait)? {
            Received::Len(n) => Ok(n),
            _ => unreachable!("a slice sink gives a length"),
        }
    }

    /// [`recv`](Self::recv) with the caller's role hold, which a message
    /// left in place keeps.
    fn recv_holding(
        &self,
        role: &mut RoleHold<'_>,
        sink: &mut Sink<'_>,
        timeout: Option<Duration>,
        wait: WaitStrategy,
    ) -> std::result::Result<Received, RecvError> {
        let c = self.control();
        let deadline = timeout.and_then(|t| Instant::now().checked_add(t));
        let mut assembly: Option<Assembly> = None;
        loop {
            let left = match (&assembly, deadline) {
                // A stream begun waits past the deadline while its parts
                // keep coming, and gives up only when they stop.
                (Some(_), Some(d)) => Some(
                    d.saturating_duration_since(Instant::now())
                        .max(STREAM_STALL),
                ),
                (Some(_), None) => None,
                (None, Some(d)) => Some(d.saturating_duration_since(Instant::now())),
                (None, None) => None,
            };
            let left = if timeout == Some(Duration::ZERO) && assembly.is_none() {
                Some(Duration::ZERO)
            } else {
                left
            };
            let streaming = std::cell::Cell::new(false);
            let outcome = wait_for(
                wait,
                &c.not_empty,
                left,
                Patience::Eager,
                || self.peer_ends_it || streaming.get(),
                || {
                    if !role.take() {
                        return None;
                    }
                    let before = assembly.as_ref().map(|a| a.got);
                    let answer = self.recv_step(sink, &mut assembly);
                    let after = assembly.as_ref().map(|a| a.got);
                    streaming.set(after.is_some());
                    role.keep = after.is_some();
                    if answer.is_none() {
                        role.release_between_attempts();
                        if before != after {
                            // Parts came, or the stream was abandoned: wait
                            // again, under a fresh look at the deadline.
                            return Some(Step::Again);
                        }
                    }
                    answer.map(Step::Done)
                },
                || {
                    if streaming.get() {
                        self.abandon_if_sender_gone();
                    } else if self.liveness_check_due() {
                        self.peer_died(Side::Sender);
                    }
                    None
                },
            );
            match outcome {
                Some(Step::Done(Ok(Received::InPlace(record)))) => {
                    role.keep = true;
                    return Ok(Received::InPlace(record));
                }
                Some(Step::Done(Ok(got))) => {
                    c.not_full.notify(&FutexWake, 1);
                    return Ok(got);
                }
                Some(Step::Done(Err(e))) => return Err(e),
                Some(Step::Again) => continue,
                // A stream whose parts stopped coming for `STREAM_STALL`
                // past the deadline: its sender is stopped, or a peer wrote
                // garbage. Its parts so far are dropped.
                None if assembly.is_some() => {
                    self.control().abandoned.fetch_add(1, Ordering::Relaxed);
                    return Err(RecvError::TimedOut {
                        name: self.name.clone(),
                        after: timeout.unwrap_or_default(),
                    });
                }
                // A `try_` that found the sender dead: one more look.
                None if left == Some(Duration::ZERO) && self.ended(Side::Sender) => {
                    if let Some(answer) = self.recv_step(sink, &mut assembly) {
                        if answer.is_ok() {
                            c.not_full.notify(&FutexWake, 1);
                        }
                        return answer;
                    }
                    return Err(RecvError::Empty {
                        name: self.name.clone(),
                    });
                }
                None if left == Some(Duration::ZERO) => {
                    return Err(RecvError::Empty {
                        name: self.name.clone(),
                    })
                }
                None => {
                    return Err(RecvError::TimedOut {
                        name: self.name.clone(),
                        after: timeout.unwrap_or_default(),
                    })
                }
            }
        }
    }

    /// Takes records while there are any, holding the receiver role: a
    /// whole message is the answer; parts go into `assembly` until the
    /// last. `None`: nothing more now.
    fn recv_step(
        &self,
        sink: &mut Sink<'_>,
        assembly: &mut Option<Assembly>,
    ) -> Option<std::result::Result<Received, RecvError>> {
        // Read before the ring: a sender closes after its last send, so a
        // close seen here means the ring below holds everything sent.
        let closed = self.control().closed.load(Ordering::SeqCst) != 0;
        let seen = self.tail_seen.load(Ordering::Relaxed);
        // SAFETY: the caller holds the receiver role (for its life, or
        // taken for this attempt): no other popper runs. As in
        // `send_record`, a scribbled role record garbles but does not race.
        // `seen` is a tail this handle read before, and tails only grow.
        let mut popper = unsafe { self.ring().popper_seeing(seen) };
        let answer = self.recv_records(&mut popper, closed, sink, assembly);
        self.tail_seen.store(popper.tail_seen(), Ordering::Relaxed);
        answer
    }

    /// [`recv_step`](Self::recv_step) with its popper.
    fn recv_records(
        &self,
        popper: &mut BytePopper<'_, SegmentBytes>,
        closed: bool,
        sink: &mut Sink<'_>,
        assembly: &mut Option<Assembly>,
    ) -> Option<std::result::Result<Received, RecvError>> {
        let start = popper.position();
        loop {
            let record = match popper.peek() {
                Ok(Some(record)) => record,
                Ok(None) => {
                    let position = popper.position();
                    if position != start {
                        // Parts taken: their sender may be waiting for the room.
                        self.control().not_full.notify(&FutexWake, 1);
                    }
                    if assembly.is_some()
                        && (closed
                            || self.control().abandoned_at.load(Ordering::SeqCst) == position
                            || self.ended(Side::Sender))
                    {
                        // Its sender gave up, closed or died: drop the parts.
                        *assembly = None;
                    }
                    return (closed && assembly.is_none()).then(|| {
                        Err(RecvError::Closed {
                            name: self.name.clone(),
                        })
                    });
                }
                Err(e) => return Some(Err(RecvError::Failed(self.corrupt(e)))),
            };
            match record.kind {
                RecordKind::Whole => {
                    // Parts before a whole message were abandoned.
                    *assembly = None;
                    if let Sink::InPlace = sink {
                        return Some(Ok(Received::InPlace(record)));
                    }
                    return Some(self.take_whole(popper, &record, sink));
                }
                RecordKind::First => {
                    *assembly = None;
                    match self.begin(popper, &record, sink) {
                        Ok(started) => *assembly = Some(started),
                        Err(e) => return Some(Err(e)),
                    }
                }
                RecordKind::Next => {}
            }
            let skip = if record.kind == RecordKind::First {
                8
            } else {
                0
            };
            match assembly {
                // A part whose first part a dead receiver took: dropped.
                None => popper.consume(&record),
                Some(parts) => {
                    let data = record.len.saturating_sub(skip);
                    let Some(to) = parts.room(data) else {
                        return Some(Err(RecvError::Failed(self.corrupt(
                            ByteRingError::Corrupt {
                                head: popper.position(),
                                tail: parts.total,
                                header: record.len as u64,
                            },
                        ))));
                    };
                    let to = match sink {
                        Sink::Vec { .. } | Sink::InPlace => {
                            let v = parts
                                .vec
                                .as_mut()
                                .expect("a vector sink assembles a vector");
                            v.resize(to.end, 0);
                            &mut v[to]
                        }
                        Sink::Slice(buffer) => &mut buffer[to],
                    };
                    popper.read(&record, skip, to);
                    popper.consume(&record);
                    parts.got += data;
                    if parts.got == parts.total as usize {
                        let done = assembly.take().expect("assembling");
                        return Some(Ok(match done.vec {
                            Some(v) => Received::Vec(v),
                            None => Received::Len(done.got),
                        }));
                    }
                }
            }
        }
    }

    /// Checks a whole message against `sink` and takes it.
    fn take_whole(
        &self,
        popper: &mut BytePopper<'_, SegmentBytes>,
        record: &Record,
        sink: &mut Sink<'_>,
    ) -> std::result::Result<Received, RecvError> {
        self.fits(sink, record.len)?;
        let got = match sink {
            Sink::Vec { .. } | Sink::InPlace => {
                let mut message = vec![0; record.len];
                popper.read(record, 0, &mut message);
                Received::Vec(message)
            }
            Sink::Slice(buffer) => {
                popper.read(record, 0, &mut buffer[..record.len]);
                Received::Len(record.len)
            }
        };
        popper.consume(record);
        Ok(got)
    }

    /// Whether a message of `len` bytes may go into `sink`; the error
    /// leaves it in the ring.
    fn fits(&self, sink: &Sink<'_>, len: usize) -> std::result::Result<(), RecvError> {
        match sink {
            Sink::Vec { max } if len > *max => Err(RecvError::TooLong {
                name: self.name.clone(),
                len,
                max: *max,
            }),
            Sink::Slice(buffer) if buffer.len() < len => Err(RecvError::BufferTooSmall {
                name: self.name.clone(),
                needed: len,
                len: buffer.len(),
            }),
            _ => Ok(()),
        }
    }

    /// Starts assembling the message whose first part is `record`, if it
    /// fits `sink` (else the error leaves it in the ring).
    fn begin(
        &self,
        popper: &BytePopper<'_, SegmentBytes>,
        record: &Record,
        sink: &Sink<'_>,
    ) -> std::result::Result<Assembly, RecvError> {
        let mut total = [0u8; 8];
        if record.len < 8 {
            return Err(RecvError::Failed(self.corrupt(ByteRingError::Corrupt {
                head: popper.position(),
                tail: 0,
                header: record.len as u64,
            })));
        }
        popper.read(record, 0, &mut total);
        let total = u64::from_ne_bytes(total);
        let len = usize::try_from(total).unwrap_or(usize::MAX);
        self.fits(sink, len)?;
        Ok(Assembly {
            total,
            got: 0,
            // Grown as parts arrive, not from the length a peer wrote.
            vec: matches!(sink, Sink::Vec { .. } | Sink::InPlace).then(Vec::new),
        })
    }
}

impl Channel {
    /// Whether a receive would find a message, or the end, waiting up to
    /// `timeout` for one (forever if `None`). For a holder of the receiver
    /// role for life: looking skips pads, which moves the head.
    pub(super) fn poll(
        &self,
        timeout: Option<Duration>,
        wait: WaitStrategy,
    ) -> std::result::Result<bool, RecvError> {
        let c = self.control();
        let outcome = wait_for(
            wait,
            &c.not_empty,
            timeout,
            Patience::Eager,
            || self.peer_ends_it,
            || {
                let closed = c.closed.load(Ordering::SeqCst) != 0;
                // SAFETY: the caller holds the receiver role for life: no
                // other popper runs (see `recv_step`).
                let mut popper = unsafe { self.ring().popper() };
                match popper.peek() {
                    Ok(Some(_)) => Some(Ok(true)),
                    Ok(None) if closed => Some(Ok(true)),
                    Ok(None) => None,
                    Err(e) => Some(Err(RecvError::Failed(self.corrupt(e)))),
                }
            },
            || {
                if self.liveness_check_due() && self.peer_died(Side::Sender) {
                    return Some(Ok(true));
                }
                None
            },
        );
        outcome.unwrap_or(Ok(false))
    }
}

impl Channel {
    /// Reserves room for a message of `len` bytes, to be written in place:
    /// one record, so at most [`max_message`](Self::max_message) bytes.
    pub(super) fn reserve(
        &self,
        len: usize,
        timeout: Option<Duration>,
        hold: Hold,
        wait: WaitStrategy,
    ) -> std::result::Result<WriteLoan<'_>, SendError> {
        let max = self.max_message();
        if len > max {
            return Err(SendError::TooLarge {
                name: self.name.clone(),
                len,
                max,
            });
        }
        let mut role = RoleHold::new(self, Side::Sender, hold, role_deadline(timeout));
        let room = self.wait_for_room(&mut role, timeout, wait, |pusher| pusher.reserve(len))?;
        role.keep = true;
        Ok(WriteLoan::new(self, role, room))
    }

    /// The next message, left in the ring to be read in place if it is one
    /// record (a streamed one is assembled into a vector).
    pub(super) fn recv_loan(
        &self,
        timeout: Option<Duration>,
        hold: Hold,
        wait: WaitStrategy,
    ) -> std::result::Result<ReadLoan<'_>, RecvError> {
        let mut role = RoleHold::new(self, Side::Receiver, hold, role_deadline(timeout));
        let got = self.recv_holding(&mut role, &mut Sink::InPlace, timeout, wait)?;
        self.note_taken();
        match got {
            Received::InPlace(record) => Ok(ReadLoan::in_place(self, role, record)),
            Received::Vec(v) => Ok(ReadLoan::copied(self.name.clone(), v)),
            Received::Len(_) => unreachable!("an in-place receive gives no length"),
        }
    }
}

/// What a receive attempt came to.
enum Step {
    Done(std::result::Result<Received, RecvError>),
    /// A stream it had begun was abandoned: start again.
    Again,
}

/// A message streamed in parts, partly received.
struct Assembly {
    /// Its length, from its first part.
    total: u64,
    /// Bytes received so far.
    got: usize,
    /// The message so far, for a vector sink.
    vec: Option<Vec<u8>>,
}

impl Assembly {
    /// Where the next `data` bytes go; `None` if they overrun the length.
    fn room(&self, data: usize) -> Option<std::ops::Range<usize>> {
        let end = self.got.checked_add(data)?;
        (end as u64 <= self.total).then_some(self.got..end)
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
