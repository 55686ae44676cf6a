//! What every handle of a queue shares: the mapping, the control block,
//! the ring, and the put and get paths. The public types ([`Queue`],
//! [`Producer`], [`Consumer`], [`JoinableQueue`]) are thin layers over it
//! that decide who may push and pop.
//!
//! [`Queue`]: super::Queue
//! [`Producer`]: super::Producer
//! [`Consumer`]: super::Consumer
//! [`JoinableQueue`]: super::JoinableQueue

use std::ptr::NonNull;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use shmipc_core::eventcount::EventCount;
use shmipc_core::fingerprint::Fingerprint;
use shmipc_core::header::Kind;
use shmipc_core::layout::{queue_flags, QueueLayout, QueueMode};
use shmipc_core::mpmc::{Mpmc, MpmcIndices, StalledClaim};
use shmipc_core::park::Liveness;
use shmipc_core::ring::RingError;
use shmipc_core::spin::TIGHT_POLLS;
use shmipc_core::spsc::{
    GroupedSlots, Spsc, SpscConsumer, SpscGeometry, SpscIndices, SpscProducer,
};

use super::error::{GetError, PutError, SliceError};
use super::role::{self, Claim, Role, Taken};
use super::slots::ShmSlots;
use super::tasks::TaskHolders;
use super::wait::{wait_for, Patience, WaitStrategy};
use crate::error::{Corruption, Error, Result};
use crate::futex::FutexWake;
use crate::identity;
use crate::options::Options;
use crate::plain::Plain;
use crate::segment::{check_layout, Segment, Spec};

mod batch;
mod build;
mod mpmc;
mod state;

use mpmc::StallWatch;
pub(crate) use state::queue_state;

/// The control block after the header. All-zero bytes are an open queue with
/// no waiters, no tasks done and no role holders.
///
/// The first 128-byte block holds what every put and get reads (the closed
/// flag and the eventcounts' waiter counts) and nothing written on the way;
/// the role records, written when a role changes hands, and the task count,
/// written by `task_done`, are in the second (128 bytes: see
/// `ring::RingPositions`).
#[repr(C, align(128))]
pub(super) struct Control {
    closed: AtomicU32,
    _pad: AtomicU32,
    /// Consumers wait here for items; producers notify.
    not_empty: EventCount,
    /// Producers wait here for room; consumers notify.
    not_full: EventCount,
    _first_block: [u32; 26],
    producer: Claim,
    consumer: Claim,
    /// JoinableQueue: `task_done` calls so far. Tasks unfinished are the
    /// items put (the ring's tail) less this, so a put counts nothing.
    pub(super) tasks_done: AtomicU64,
    /// JoinableQueue: `join` waits here.
    pub(super) all_done: EventCount,
    /// MPMC: claims of dead producers passed over so far (see
    /// [`Shared::unstall`]).
    passed_over: AtomicU64,
    _second_block: [u64; 9],
    /// JoinableQueue: the tasks each process got and has not marked done,
    /// so that `join` can tell a consumer that died holding tasks from one
    /// that is slow.
    holders: TaskHolders,
}

const _: () = assert!(size_of::<Control>() <= shmipc_core::layout::QUEUE_CONTROL_SIZE);
const _: () = assert!(std::mem::offset_of!(Control, producer) == 128);
const _: () = assert!(std::mem::offset_of!(Control, holders) == 256);

/// Proof that the caller may push: it holds the producer role of an SPSC
/// queue (an endpoint, or a call that took it), or the queue is MPMC. Only
/// this module and [`role`] make one.
#[derive(Debug, Clone, Copy)]
pub(super) struct MayPush(());

/// Proof that the caller may pop; as [`MayPush`], for the consumer role.
#[derive(Debug, Clone, Copy)]
pub(super) struct MayPop(());

#[derive(Clone, Copy)]
enum Ring {
    Spsc(NonNull<SpscIndices>, SpscGeometry),
    Mpmc(NonNull<MpmcIndices>),
}

/// Attempts (the first few of a waiting put's back-off, under a
/// microsecond) for which a put holds out for [`Shared::put_slack`] free
/// slots; after them it takes any room.
const SLACK_TRIES: u32 = 6;

/// A handle's `try_put` and `try_get` misses between two looks for an
/// impossible ring (see [`Shared::miss_is_due_a_check`]).
const CHECK_EVERY: u32 = 64;

/// How far ahead of its position an SPSC consumer prefetches (measured; see
/// [`SpscConsumer::with_prefetch`]).
const PREFETCH_BYTES: u64 = 256;

/// A queue's mapping and ring, and the put and get paths over them.
pub(super) struct Shared<T: Plain> {
    /// Keeps the mapping (and so every pointer below) alive.
    segment: Arc<Segment>,
    pub(super) name: Arc<str>,
    control: NonNull<Control>,
    ring: Ring,
    slots: ShmSlots<T>,
    /// The most items the queue holds, as asked at create.
    capacity: u64,
    /// The MPMC ring's slots (a power of two, at least the capacity); for
    /// SPSC, unused.
    ring_slots: u64,
    /// The free slots a waiting `put` holds out for: 1/16 of the ring, at
    /// most 64 (see [`SpscProducer::push_with_slack`]).
    put_slack: u64,
    /// How far ahead an SPSC `get` prefetches, in slots of a stamp and its
    /// items (see [`SpscConsumer::with_prefetch`]).
    prefetch: u64,
    /// Where this handle's MPMC puts next look for slack (see
    /// [`Mpmc::push_with_slack`]); a hint, per handle, never shared.
    mpmc_room_until: AtomicU64,
    /// The claim this handle last found stalling the MPMC ring, and when to
    /// ask next whether its producer is alive (see [`Shared::unstall`]).
    stall: Mutex<Option<StallWatch>>,
    /// This handle's `try_` misses (see [`Shared::miss_is_due_a_check`]).
    misses: AtomicU32,
    /// Where this process's task holder was last found (JoinableQueue);
    /// a hint, checked against the holder's key before use.
    holder: AtomicU32,
    pub(super) joinable: bool,
    pub(super) wait: WaitStrategy,
}

// SAFETY: the pointers address atomics and race-tolerant slots in the
// mapping that `segment` keeps alive, which any thread may use; who may
// push and pop is decided by the `MayPush`/`MayPop` proofs the handles
// hold, not by the thread.
unsafe impl<T: Plain> Send for Shared<T> {}
// SAFETY: as above; `&Shared` offers only atomic accesses and race-tolerant
// copies.
unsafe impl<T: Plain> Sync for Shared<T> {}

impl<T: Plain> Clone for Shared<T> {
    fn clone(&self) -> Self {
        Shared {
            segment: self.segment.clone(),
            name: self.name.clone(),
            control: self.control,
            ring: self.ring,
            slots: self.slots.clone(),
            capacity: self.capacity,
            ring_slots: self.ring_slots,
            put_slack: self.put_slack,
            prefetch: self.prefetch,
            mpmc_room_until: AtomicU64::new(0),
            stall: Mutex::new(None),
            misses: AtomicU32::new(0),
            holder: AtomicU32::new(u32::MAX),
            joinable: self.joinable,
            wait: self.wait,
        }
    }
}

/// Whether wrapping count `a` is behind `b`.
pub(super) fn before(a: u64, b: u64) -> bool {
    (b.wrapping_sub(a) as i64) > 0
}

impl<T: Plain> Shared<T> {
    pub(super) fn mode(&self) -> QueueMode {
        match self.ring {
            Ring::Spsc(..) => QueueMode::Spsc,
            Ring::Mpmc(_) => QueueMode::Mpmc,
        }
    }

    pub(super) fn capacity(&self) -> u64 {
        self.capacity
    }

    pub(super) fn control(&self) -> &Control {
        // SAFETY: aligned, inside the mapping `segment` keeps alive, atomics only.
        unsafe { self.control.as_ref() }
    }

    fn mpmc(&self, indices: NonNull<MpmcIndices>) -> Mpmc<'_, ShmSlots<T>> {
        // SAFETY: the indices are aligned, inside the mapping `segment`
        // keeps alive (atomics only); the slots hold `ring_slots` slots,
        // a power of two (checked at assemble), and the capacity is in
        // `1..=ring_slots` (`QueueLayout` rounds it up to the slots); the
        // stamps are written by this protocol, and the slots are
        // race-tolerant against peers that write anything else.
        unsafe {
            Mpmc::new(
                indices.as_ref(),
                &self.slots,
                self.ring_slots,
                self.capacity,
            )
        }
    }

    fn spsc(&self, indices: NonNull<SpscIndices>, geometry: SpscGeometry) -> Spsc<'_, ShmSlots<T>> {
        // SAFETY: the indices are aligned, inside the mapping `segment`
        // keeps alive (atomics only); the slots hold the geometry's groups
        // of the slots' shape (checked at assemble); the stamps are written
        // by this protocol, and the slots are race-tolerant against peers
        // that write anything else.
        unsafe { Spsc::new(indices.as_ref(), &self.slots, geometry) }
    }

    #[inline(always)]
    fn spsc_producer(
        &self,
        _: MayPush,
        indices: NonNull<SpscIndices>,
        geometry: SpscGeometry,
    ) -> SpscProducer<'_, ShmSlots<T>> {
        // SAFETY: `MayPush` proves that this handle holds the producer role,
        // which one handle holds at a time across every process (its record
        // in the control block is taken by compare-exchange), and the
        // handle is not shared between threads while it pushes (endpoints
        // are not `Sync`; a `Queue` takes the role for one call on one
        // thread). A peer that scribbles on the record can let in a second
        // producer: the slots are race-tolerant, so that garbles items but
        // does not race.
        unsafe { self.spsc(indices, geometry).producer() }
    }

    #[inline(always)]
    fn spsc_consumer(
        &self,
        _: MayPop,
        indices: NonNull<SpscIndices>,
        geometry: SpscGeometry,
    ) -> SpscConsumer<'_, ShmSlots<T>> {
        // SAFETY: as in `spsc_producer`, for the consumer role.
        unsafe { self.spsc(indices, geometry).consumer() }.with_prefetch(self.prefetch)
    }

    /// The proofs an MPMC queue gives anyone; `None` for SPSC, whose roles
    /// must be taken.
    pub(super) fn open_access(&self) -> Option<(MayPush, MayPop)> {
        matches!(self.ring, Ring::Mpmc(_)).then_some((MayPush(()), MayPop(())))
    }

    fn claim(&self, role: Role) -> &Claim {
        let c = self.control();
        match role {
            Role::Producer => &c.producer,
            Role::Consumer => &c.consumer,
        }
    }

    /// Takes `role` (of an SPSC queue) for `me`, waiting until `deadline`
    /// (forever if `None`) for the holder to give it up or die. A producer
    /// that takes over from a dead one first counts the items it stamped.
    pub(super) fn take_role(
        &self,
        role: Role,
        me: u64,
        deadline: Option<Instant>,
    ) -> Result<(MayPush, MayPop)> {
        match self.claim(role).take(me, deadline) {
            Ok(taken) => {
                if let (Role::Producer, Taken::FromDead, Ring::Spsc(ix, geometry)) =
                    (role, taken, self.ring)
                {
                    // A producer that died between stamping an item and
                    // storing its position would otherwise have that item
                    // overwritten.
                    self.spsc_producer(MayPush(()), ix, geometry).resume::<T>();
                }
                // The role is ours: the proof of that side. The other proof
                // is never used by a caller that took one role.
                Ok((MayPush(()), MayPop(())))
            }
            Err(holder) => Err(Error::RoleTaken {
                name: self.name.to_string(),
                role: role.name(),
                pid: holder.pid,
                tid: holder.tid,
            }),
        }
    }

    /// Gives up `role` if `me` holds it.
    pub(super) fn release_role(&self, role: Role, me: u64) {
        self.claim(role).release(me);
    }

    /// Who holds `role`, if anyone: (pid, tid).
    pub(super) fn role_holder(&self, role: Role) -> Option<(u32, u32)> {
        self.claim(role).holder().map(|o| (o.pid, o.tid))
    }

    /// Items in the queue (a snapshot).
    pub(super) fn len(&self) -> u64 {
        let len = match self.ring {
            // SAFETY: the indices live in the mapping, atomics only.
            Ring::Spsc(ix, _) => unsafe { ix.as_ref() }.len(),
            // SAFETY: as above.
            Ring::Mpmc(ix) => unsafe { ix.as_ref() }.len(),
        };
        len.min(self.capacity)
    }

    /// Claims of dead producers passed over so far.
    pub(super) fn passed_over(&self) -> u64 {
        self.control().passed_over.load(Ordering::Relaxed)
    }

    pub(super) fn is_closed(&self) -> bool {
        self.control().closed.load(Ordering::SeqCst) != 0
    }

    pub(super) fn close(&self) {
        let c = self.control();
        c.closed.store(1, Ordering::SeqCst);
        c.not_empty.notify(&FutexWake, u32::MAX);
        c.not_full.notify(&FutexWake, u32::MAX);
    }

    /// Counts `n` tasks got by this process, on a JoinableQueue (a test of
    /// a flag on other queues).
    #[inline(always)]
    fn note_taken(&self, n: u64) {
        if self.joinable {
            self.note_taken_slow(n);
        }
    }

    fn note_taken_slow(&self, n: u64) {
        self.control().holders.taken(&self.holder, n);
    }

    /// Counts one task of this process marked done (JoinableQueue).
    pub(super) fn note_done(&self) {
        self.control().holders.done_one(&self.holder);
    }

    /// A process that died holding tasks: frees its holder and writes its
    /// tasks off as done, so that `join` can return; `(pid, tasks)`.
    pub(super) fn write_off_dead_holder(&self) -> Option<(u32, u64)> {
        let c = self.control();
        c.holders.write_off_dead(&c.tasks_done, &c.all_done)
    }

    fn corrupt(&self, e: RingError) -> Error {
        match e {
            RingError::Corrupt { tail, head } => Error::corrupt(
                &self.name,
                Corruption::RingPositions {
                    tail,
                    head,
                    capacity: self.capacity,
                },
            ),
            RingError::CorruptStamp {
                position,
                stamp,
                expected,
            } => Error::corrupt(
                &self.name,
                Corruption::SlotStamp {
                    position,
                    stamp,
                    expected,
                },
            ),
            RingError::WouldBlock => Error::WouldBlock {
                name: self.name.to_string(),
                op: "queue",
            },
        }
    }

    /// What a wait does between failed attempts, before it sleeps: passes
    /// over a dead producer's claim ([`Shared::unstall`]), and returns the
    /// error of an impossible ring.
    pub(super) fn waited_in_vain(&self) -> Option<Error> {
        self.unstall();
        self.check_ring().err()
    }

    /// Whether the ring's positions are possible; run when operations keep
    /// failing, so that a ring a peer scribbled on is reported, not waited on.
    fn check_ring(&self) -> Result<()> {
        let checked = match self.ring {
            Ring::Spsc(ix, geometry) => self.spsc(ix, geometry).check(),
            Ring::Mpmc(ix) => self.mpmc(ix).check(),
        };
        checked.map_err(|e| self.corrupt(e))
    }

    /// One push on the common path.
    #[inline(always)]
    fn push_fast(&self, may: MayPush, item: T, slack: u64) -> std::result::Result<(), RingError> {
        match self.ring {
            Ring::Spsc(ix, geometry) => self
                .spsc_producer(may, ix, geometry)
                .push_with_slack(item, slack),
            Ring::Mpmc(ix) => self.mpmc_push(ix, item, slack),
        }
    }

    /// One pop on the common path.
    #[inline(always)]
    fn pop_fast(&self, may: MayPop) -> std::result::Result<T, RingError> {
        match self.ring {
            Ring::Spsc(ix, geometry) => self.spsc_consumer(may, ix, geometry).pop(),
            Ring::Mpmc(ix) => self.mpmc(ix).pop(),
        }
    }

    /// One attempt to push: `Ok(false)` if full (or if the ring has fewer
    /// than `slack` free slots; see [`SpscProducer::push_with_slack`]).
    fn push_once(&self, may: MayPush, item: T, slack: u64) -> Result<bool> {
        let pushed = match self.ring {
            Ring::Spsc(ix, geometry) => self
                .spsc_producer(may, ix, geometry)
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
    fn pop_once(&self, may: MayPop) -> Result<Option<T>> {
        let popped = match self.ring {
            Ring::Spsc(ix, geometry) => self.spsc_consumer(may, ix, geometry).pop(),
            Ring::Mpmc(ix) => self.mpmc(ix).pop(),
        };
        match popped {
            Ok(v) => Ok(Some(v)),
            Err(RingError::WouldBlock) => Ok(None),
            Err(e) => Err(self.corrupt(e)),
        }
    }

    /// Items taken from the ring so far (wrapping).
    pub(super) fn taken(&self) -> u64 {
        match self.ring {
            // SAFETY: the indices live in the mapping, atomics only.
            Ring::Spsc(ix, _) => unsafe { ix.as_ref() }.taken(),
            // SAFETY: as above.
            Ring::Mpmc(ix) => unsafe { ix.as_ref() }.taken(),
        }
    }

    /// Items put into the ring so far (wrapping).
    pub(super) fn put_so_far(&self) -> u64 {
        match self.ring {
            // SAFETY: the indices live in the mapping, atomics only.
            Ring::Spsc(ix, _) => unsafe { ix.as_ref() }.put(),
            // SAFETY: as above.
            Ring::Mpmc(ix) => unsafe { ix.as_ref() }.put(),
        }
    }

    /// The free slots a `put` holds out for when the ring is (nearly) full
    /// (see [`SpscProducer::push_with_slack`] and
    /// [`Mpmc::push_with_slack`]); 1 for `try_put`, which must take any
    /// room.
    #[inline(always)]
    fn slack(&self, timeout: Option<Duration>) -> u64 {
        if timeout == Some(Duration::ZERO) {
            1
        } else {
            self.put_slack
        }
    }

    #[inline(always)]
    pub(super) fn put_until(
        &self,
        may: MayPush,
        item: T,
        timeout: Option<Duration>,
    ) -> std::result::Result<(), PutError<T>> {
        let c = self.control();
        let pushed = if c.closed.load(Ordering::Relaxed) == 0 {
            self.push_fast(may, item, self.slack(timeout))
        } else {
            Err(RingError::WouldBlock)
        };
        match pushed {
            Ok(()) => {
                c.not_empty.notify(&FutexWake, 1);
                Ok(())
            }
            Err(RingError::WouldBlock) if timeout == Some(Duration::ZERO) => {
                self.try_put_missed(may, item)
            }
            Err(e) if timeout == Some(Duration::ZERO) => Err(PutError::Failed {
                item,
                error: self.corrupt(e),
            }),
            Err(_) => self.put_slow(may, item, timeout),
        }
    }

    /// A `try_put` whose fast attempt failed: full, unless the queue is
    /// closed (or, looked at every [`CHECK_EVERY`] misses, corrupt). As
    /// cheap as the successful put it could not be, so that a caller polling
    /// with `try_put` pays no more for a miss than for a hit.
    #[inline]
    fn try_put_missed(&self, may: MayPush, item: T) -> std::result::Result<(), PutError<T>> {
        if self.is_closed() {
            return Err(PutError::Closed {
                item,
                queue: self.name.clone(),
            });
        }
        if self.miss_is_due_a_check() {
            self.unstall();
            let looked = self
                .push_once(may, item, 1)
                .and_then(|pushed| self.check_ring().map(|()| pushed));
            match looked {
                Ok(true) => {
                    self.control().not_empty.notify(&FutexWake, 1);
                    return Ok(());
                }
                Ok(false) => {}
                Err(error) => return Err(PutError::Failed { item, error }),
            }
        }
        Err(PutError::Full {
            item,
            queue: self.name.clone(),
        })
    }

    /// Counts a `try_` miss of this handle; every [`CHECK_EVERY`]th one
    /// also looks for an impossible ring. A hint kept per handle with plain
    /// loads and stores: a lost count only moves the next look.
    #[inline]
    fn miss_is_due_a_check(&self) -> bool {
        let misses = self.misses.load(Ordering::Relaxed).wrapping_add(1);
        self.misses.store(misses, Ordering::Relaxed);
        misses % CHECK_EVERY == 0
    }

    /// `put_until` once the first attempt failed: waits, and explains failures.
    #[inline(never)]
    fn put_slow(
        &self,
        may: MayPush,
        item: T,
        timeout: Option<Duration>,
    ) -> std::result::Result<(), PutError<T>> {
        let c = self.control();
        let mut slack = self.slack(timeout);
        let mut tries = 0;
        let outcome = wait_for(
            self.wait,
            &c.not_full,
            timeout,
            Patience::BackOff,
            || self.stalled(),
            || {
                if c.closed.load(Ordering::Relaxed) != 0 {
                    return Some(Err(None));
                }
                tries += 1;
                if tries > SLACK_TRIES {
                    slack = 1;
                }
                match self.push_once(may, item, slack) {
                    Ok(true) => Some(Ok(())),
                    Ok(false) => None,
                    Err(e) => Some(Err(Some(e))),
                }
            },
            || self.waited_in_vain().map(|e| Err(Some(e))),
        );
        let queue = self.name.clone();
        match outcome {
            Some(Ok(())) => {
                c.not_empty.notify(&FutexWake, 1);
                Ok(())
            }
            None if timeout == Some(Duration::ZERO) => Err(PutError::Full { item, queue }),
            None => Err(PutError::TimedOut {
                item,
                queue,
                after: timeout.unwrap_or_default(),
            }),
            Some(Err(None)) => Err(PutError::Closed { item, queue }),
            Some(Err(Some(error))) => Err(PutError::Failed { item, error }),
        }
    }

    #[inline(always)]
    pub(super) fn get_until(
        &self,
        may: MayPop,
        timeout: Option<Duration>,
    ) -> std::result::Result<T, GetError> {
        match self.pop_fast(may) {
            Ok(v) => {
                self.control().not_full.notify(&FutexWake, 1);
                self.note_taken(1);
                Ok(v)
            }
            Err(RingError::WouldBlock) if timeout == Some(Duration::ZERO) => {
                self.try_get_missed(may)
            }
            Err(e) if timeout == Some(Duration::ZERO) => Err(GetError::Failed(self.corrupt(e))),
            Err(_) => self.get_slow(may, timeout),
        }
    }

    /// A `try_get` whose fast attempt failed: empty, unless the queue is
    /// closed (then one more look, for items put before the close) or, every
    /// [`CHECK_EVERY`] misses, corrupt. As cheap as the hit it could not be.
    #[inline]
    fn try_get_missed(&self, may: MayPop) -> std::result::Result<T, GetError> {
        let closed = self.is_closed();
        if closed || self.miss_is_due_a_check() {
            self.unstall();
            let looked = self
                .pop_once(may)
                .and_then(|popped| self.check_ring().map(|()| popped));
            match looked {
                Ok(Some(v)) => {
                    self.control().not_full.notify(&FutexWake, 1);
                    self.note_taken(1);
                    return Ok(v);
                }
                Ok(None) if closed && !self.claim_stalls_head() => {
                    return Err(GetError::Closed {
                        queue: self.name.clone(),
                    })
                }
                Ok(None) => {}
                Err(e) => return Err(GetError::Failed(e)),
            }
        }
        Err(GetError::Empty {
            queue: self.name.clone(),
        })
    }

    /// `get_until` once the first attempt failed: waits, and explains failures.
    #[inline(never)]
    fn get_slow(&self, may: MayPop, timeout: Option<Duration>) -> std::result::Result<T, GetError> {
        let c = self.control();
        // A consumer's wait is usually short: the item is a line transfer
        // away. Poll with the fast path alone first. The general attempt
        // below, with its error reporting and close check, made each poll
        // slow enough to add 40-60 ns to a ping-pong round trip. Closed,
        // corrupt and timed-out queues are all noticed by the general path
        // afterwards.
        let polled = if timeout != Some(Duration::ZERO) && self.wait != WaitStrategy::Park {
            (0..TIGHT_POLLS).find_map(|_| {
                std::hint::spin_loop();
                self.pop_fast(may).ok()
            })
        } else {
            None
        };
        let outcome = match polled {
            Some(v) => Some(Ok(v)),
            None => wait_for(
                self.wait,
                &c.not_empty,
                timeout,
                // The tight polls are done: back off from here.
                Patience::BackOff,
                || self.stalled(),
                || self.take_unless_drained(|| self.pop_once(may)),
                || self.waited_in_vain().map(|e| Err(Some(e))),
            ),
        };
        // The name is cloned on the error paths only: an `Arc` clone is a locked
        // instruction, which on x86 waits for this side's last store (a slot
        // stamp still travelling to the other core) on every successful get.
        match outcome {
            Some(Ok(v)) => {
                c.not_full.notify(&FutexWake, 1);
                self.note_taken(1);
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
            Ok(None) if self.is_closed() => match take() {
                Ok(Some(v)) => Some(Ok(v)),
                // Items may wait behind a claim whose producer died: not
                // drained until it is passed over.
                Ok(None) if self.claim_stalls_head() => None,
                Ok(None) => Some(Err(None)),
                Err(e) => Some(Err(Some(e))),
            },
            Ok(None) => None,
            Err(e) => Some(Err(Some(e))),
        }
    }

    /// Waits on the `all_done` eventcount for `done()`; `Some(Err(..))` if a
    /// consumer died holding tasks (they are written off), `None` when the
    /// timeout ran out. Polls the holders' liveness while parked, and passes
    /// over a dead producer's claim at the head itself: consumers that
    /// parked on an empty queue before the producer died are not woken by
    /// it, and its position counts as a task until passed.
    pub(super) fn wait_all_done(
        &self,
        timeout: Option<Duration>,
        done: impl Fn() -> bool,
    ) -> Option<std::result::Result<(), (u32, u64)>> {
        wait_for(
            self.wait,
            &self.control().all_done,
            timeout,
            Patience::BackOff,
            || true,
            || done().then_some(Ok(())),
            || {
                self.unstall();
                self.write_off_dead_holder().map(Err)
            },
        )
    }
}

/// The role record a handle takes for: this thread in this process.
pub(super) fn me() -> u64 {
    role::me()
}
