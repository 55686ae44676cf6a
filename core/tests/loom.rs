//! loom models of `core`'s lock-free state machines.
//!
//! Run with `RUSTFLAGS="--cfg loom" cargo test -p shmipc-core --test loom --release`.
//! The futex is emulated with a loom Mutex + Condvar that re-checks the word
//! under the mutex, exactly the atomicity FUTEX_WAIT gives; a lost wake-up
//! therefore shows up as a deadlock, which loom reports.
#![cfg(loom)]

use loom::cell::UnsafeCell;
use loom::sync::atomic::AtomicBool;
use loom::sync::{Arc, Condvar, Mutex};
use loom::thread;

use shmipc_core::eventcount::EventCount;
use shmipc_core::mpmc::{Mpmc, MpmcIndices, SequencedSlots};
use shmipc_core::park::{Liveness, Owner, Park, Parked, Unpark};
use shmipc_core::primitives::AtomicU64;
use shmipc_core::primitives::{AtomicU32, Ordering};
use shmipc_core::raw_barrier::RawBarrier;
use shmipc_core::raw_condition::RawCondition;
use shmipc_core::raw_event::RawEvent;
use shmipc_core::raw_lock::{Acquired, RawLock};
use shmipc_core::raw_rlock::RawRLock;
use shmipc_core::raw_semaphore::RawSemaphore;
use shmipc_core::ring::{RingError, Slots};
use shmipc_core::spsc::{GroupedSlots, Spsc, SpscGeometry, SpscIndices};

#[derive(Default)]
struct Futex {
    mutex: Mutex<()>,
    cond: Condvar,
    /// The tid of a holder that has "died"; 0 if none.
    dead_tid: AtomicU32,
}

impl Unpark for Futex {
    fn unpark(&self, _word: &AtomicU32, _count: u32) {
        let _g = self.mutex.lock().unwrap();
        self.cond.notify_all();
    }
}

struct LoomPark<'a>(&'a Futex);

impl Unpark for LoomPark<'_> {
    fn unpark(&self, word: &AtomicU32, count: u32) {
        self.0.unpark(word, count);
    }
}

/// A park whose deadline has always just passed: it never sleeps.
struct ExpiredPark;

impl Park for ExpiredPark {
    fn park(&mut self, _word: &AtomicU32, _expected: u32) -> Parked {
        Parked::DeadlineReached
    }

    fn yield_now(&mut self) {
        thread::yield_now();
    }

    fn liveness(&mut self, _owner: &Owner) -> Liveness {
        Liveness::Alive
    }
}

impl Park for LoomPark<'_> {
    fn park(&mut self, word: &AtomicU32, expected: u32) -> Parked {
        if self.0.dead_tid.load(Ordering::SeqCst) != 0 {
            // The poll timer has fired: a holder may be dead.
            return Parked::PollDue;
        }
        let g = self.0.mutex.lock().unwrap();
        if word.load(Ordering::SeqCst) != expected || self.0.dead_tid.load(Ordering::SeqCst) != 0 {
            return Parked::Woken;
        }
        drop(self.0.cond.wait(g).unwrap());
        Parked::Woken
    }

    fn yield_now(&mut self) {
        thread::yield_now();
    }

    fn liveness(&mut self, owner: &Owner) -> Liveness {
        if owner.tid == self.0.dead_tid.load(Ordering::SeqCst) {
            Liveness::Dead
        } else {
            Liveness::Alive
        }
    }
}

/// Explores every interleaving with at most `PREEMPTIONS` preemptions, the
/// bound loom's authors recommend: bugs almost always need only two or three,
/// and without a bound three spinning threads take hours.
fn model(f: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    if builder.preemption_bound.is_none() {
        builder.preemption_bound = Some(PREEMPTIONS);
    }
    builder.check(f);
}

const PREEMPTIONS: usize = 3;

fn me(tid: u32) -> Owner {
    Owner {
        tid,
        pid: 100 + tid,
        start: 1000 + u64::from(tid),
    }
}

struct Shared {
    lock: RawLock,
    futex: Futex,
    data: UnsafeCell<u32>,
}

// SAFETY: `data` is only touched while `lock` is held, which is what the model checks.
unsafe impl Sync for Shared {}

fn shared() -> Arc<Shared> {
    Arc::new(Shared {
        lock: RawLock::new(),
        futex: Futex::default(),
        data: UnsafeCell::new(0),
    })
}

fn locked_increment(s: &Shared, tid: u32) {
    let acquired = s.lock.lock(&me(tid), &mut LoomPark(&s.futex)).unwrap();
    assert_eq!(acquired, Acquired::Clean);
    // SAFETY: the lock is held; loom's UnsafeCell flags any concurrent access.
    s.data.with_mut(|p| unsafe { *p += 1 });
    s.lock.unlock(&s.futex);
}

#[test]
fn lock_excludes_and_never_loses_a_wake_up_two_threads() {
    model(|| {
        let s = shared();
        let t = {
            let s = s.clone();
            thread::spawn(move || {
                locked_increment(&s, 1);
                locked_increment(&s, 1);
            })
        };
        locked_increment(&s, 2);
        t.join().unwrap();
        assert!(!s.lock.is_locked());
        // SAFETY: every other thread has been joined.
        s.data.with(|p| assert_eq!(unsafe { *p }, 3));
    });
}

#[test]
fn lock_excludes_and_never_loses_a_wake_up_three_threads() {
    model(|| {
        let s = shared();
        let t = {
            let s = s.clone();
            thread::spawn(move || locked_increment(&s, 1))
        };
        let u = {
            let s = s.clone();
            thread::spawn(move || locked_increment(&s, 2))
        };
        locked_increment(&s, 3);
        t.join().unwrap();
        u.join().unwrap();
        assert!(!s.lock.is_locked());
        // SAFETY: every other thread has been joined.
        s.data.with(|p| assert_eq!(unsafe { *p }, 3));
    });
}

#[test]
fn try_lock_never_admits_two_holders() {
    model(|| {
        let s = shared();
        let t = {
            let s = s.clone();
            thread::spawn(move || {
                if s.lock.try_lock_fast(&me(1)).is_some() {
                    // SAFETY: held.
                    s.data.with_mut(|p| unsafe { *p += 1 });
                    s.lock.unlock(&s.futex);
                }
            })
        };
        locked_increment(&s, 2);
        t.join().unwrap();
        // SAFETY: joined.
        s.data.with(|p| assert!((1..=2).contains(&unsafe { *p })));
    });
}

#[test]
fn a_dead_holder_is_taken_over_by_exactly_one_waiter() {
    model(|| {
        let s = shared();
        // Thread 1 takes the lock and "dies" holding it.
        let dier = {
            let s = s.clone();
            thread::spawn(move || {
                s.lock.lock(&me(1), &mut LoomPark(&s.futex)).unwrap();
                s.futex.dead_tid.store(1, Ordering::SeqCst);
                // The waiters' poll timers fire.
                s.futex.unpark(&AtomicU32::new(0), u32::MAX);
            })
        };
        let died_seen = Arc::new(AtomicBool::new(false));
        let waiter = |tid: u32| {
            let s = s.clone();
            let died_seen = died_seen.clone();
            thread::spawn(move || {
                let acquired = s.lock.lock(&me(tid), &mut LoomPark(&s.futex)).unwrap();
                // Whoever gets it after the death hears of it: the lock stays
                // marked until someone marks it consistent, which nobody does here.
                if acquired != Acquired::Clean {
                    assert_eq!(acquired, Acquired::OwnerDied { pid: 101 });
                    died_seen.store(true, Ordering::SeqCst);
                }
                // SAFETY: held.
                s.data.with_mut(|p| unsafe { *p += 1 });
                s.lock.unlock(&s.futex);
            })
        };
        let a = waiter(2);
        dier.join().unwrap();
        a.join().unwrap();
        // SAFETY: joined.
        s.data.with(|p| assert_eq!(unsafe { *p }, 1));
        if died_seen.load(Ordering::SeqCst) {
            assert_eq!(s.lock.poisoned_by(), Some(101));
            s.futex.dead_tid.store(0, Ordering::SeqCst);
            let again = s.lock.lock(&me(3), &mut LoomPark(&s.futex)).unwrap();
            assert_eq!(again, Acquired::OwnerDied { pid: 101 });
            s.lock.mark_consistent();
            s.lock.unlock(&s.futex);
            assert_eq!(
                s.lock.lock(&me(3), &mut LoomPark(&s.futex)),
                Ok(Acquired::Clean)
            );
        }
    });
}

/// What `tgkill(pid, tid, 0)` says in the model: thread `tid` lives in
/// process `100 + tid` (as [`me`] records it), so an owner record that
/// pairs one holder's tid with another's pid names no thread: "dead".
struct TgkillPark<'a>(&'a Futex);

impl Park for TgkillPark<'_> {
    fn park(&mut self, word: &AtomicU32, expected: u32) -> Parked {
        LoomPark(self.0).park(word, expected)
    }

    fn yield_now(&mut self) {
        thread::yield_now();
    }

    fn liveness(&mut self, owner: &Owner) -> Liveness {
        if owner.pid != 0 && owner.pid != 100 + owner.tid {
            Liveness::Dead
        } else {
            Liveness::Alive
        }
    }
}

/// Holder A takes the lock and lets it go, holder B takes it and keeps it,
/// and a waiter that checks the holder's liveness tries meanwhile: it must
/// never take the lock from B by reading B's tid with A's pid.
#[test]
fn a_waiter_never_takes_the_lock_from_a_live_holder_by_a_mixed_record() {
    model(|| {
        let s = shared();
        let a = {
            let s = s.clone();
            thread::spawn(move || {
                locked_increment(&s, 1);
            })
        };
        let b = {
            let s = s.clone();
            thread::spawn(move || {
                let acquired = s.lock.lock(&me(2), &mut LoomPark(&s.futex)).unwrap();
                assert_eq!(acquired, Acquired::Clean);
                // SAFETY: the lock is held; loom flags any concurrent access.
                s.data.with_mut(|p| unsafe { *p += 1 });
                thread::yield_now();
                s.lock.unlock(&s.futex);
            })
        };
        if let Some(acquired) = s.lock.try_lock(&me(3), &mut TgkillPark(&s.futex)) {
            assert_eq!(
                acquired,
                Acquired::Clean,
                "took the lock from a live holder"
            );
            // SAFETY: the lock is held; loom flags any concurrent access.
            s.data.with_mut(|p| unsafe { *p += 1 });
            s.lock.unlock(&s.futex);
        }
        a.join().unwrap();
        b.join().unwrap();
    });
}

#[test]
fn semaphore_release_wakes_every_blocked_acquirer() {
    model(|| {
        let sem = Arc::new((RawSemaphore::new(0), Futex::default()));
        let waiter = |sem: Arc<(RawSemaphore, Futex)>| {
            thread::spawn(move || sem.0.acquire(&mut LoomPark(&sem.1)).unwrap())
        };
        let a = waiter(sem.clone());
        let b = waiter(sem.clone());
        sem.0.release(1, Some(2), &sem.1).unwrap();
        sem.0.release(1, Some(2), &sem.1).unwrap();
        a.join().unwrap();
        b.join().unwrap();
        assert_eq!(sem.0.value(), 0);
    });
}

#[test]
fn bounded_semaphore_over_release_is_exact_under_races() {
    model(|| {
        let sem = Arc::new((RawSemaphore::new(1), Futex::default()));
        let t = {
            let sem = sem.clone();
            thread::spawn(move || sem.0.release(1, Some(2), &sem.1).is_ok())
        };
        let here = sem.0.release(1, Some(2), &sem.1).is_ok();
        let there = t.join().unwrap();
        // Exactly one of two racing releases fits under the bound.
        assert!(here ^ there);
        assert_eq!(sem.0.value(), 2);
    });
}

#[test]
fn event_set_wakes_a_waiter() {
    model(|| {
        let ev = Arc::new((RawEvent::new(), Futex::default()));
        let t = {
            let ev = ev.clone();
            thread::spawn(move || ev.0.wait(&mut LoomPark(&ev.1)))
        };
        ev.0.set(&ev.1);
        assert!(t.join().unwrap());
        assert!(ev.0.is_set());
    });
}

struct Cond {
    lock: RawLock,
    /// Two waiter slots: enough for every model here, and few enough to
    /// keep loom's scans short.
    cond: RawCondition<2>,
    futex: Futex,
}

fn cond() -> Arc<Cond> {
    Arc::new(Cond {
        lock: RawLock::new(),
        cond: RawCondition::new(),
        futex: Futex::default(),
    })
}

/// Everyone is alive in these models.
fn alive(_key: u64) -> bool {
    true
}

/// A full condition wait: enqueue under the lock, wait unlocked, relock
/// and finish. Whether the waiter was notified.
fn cond_wait<P: Park>(c: &Cond, tid: u32, park: &mut P) -> bool {
    c.lock.lock(&me(tid), &mut LoomPark(&c.futex)).unwrap();
    let ticket = c.cond.enqueue(u64::from(tid), alive).unwrap();
    c.lock.unlock(&c.futex);
    c.cond.wait(ticket, park);
    c.lock.lock(&me(tid), &mut LoomPark(&c.futex)).unwrap();
    let notified = c.cond.finish(ticket);
    c.lock.unlock(&c.futex);
    notified
}

/// Notifies under the lock until `n` waiters have been released.
fn notify_until(c: &Cond, tid: u32, mut n: u32) {
    while n > 0 {
        c.lock.lock(&me(tid), &mut LoomPark(&c.futex)).unwrap();
        n -= c.cond.notify(n, &c.futex, alive);
        c.lock.unlock(&c.futex);
        thread::yield_now();
    }
}

#[test]
fn condition_notify_never_loses_a_waiter() {
    model(|| {
        let c = cond();
        let t = {
            let c = c.clone();
            thread::spawn(move || {
                let c2 = c.clone();
                assert!(cond_wait(&c, 1, &mut LoomPark(&c2.futex)));
            })
        };
        notify_until(&c, 3, 1);
        t.join().unwrap();
        assert_eq!(c.cond.waiting(), 0);
    });
}

#[test]
fn condition_timed_out_waiter_neither_loses_nor_doubles_a_notification() {
    model(|| {
        let c = cond();
        let t = {
            let c = c.clone();
            thread::spawn(move || {
                let c2 = c.clone();
                cond_wait(&c2, 1, &mut ExpiredPark)
            })
        };
        // One notify, racing with the waiter's timeout.
        c.lock.lock(&me(2), &mut LoomPark(&c.futex)).unwrap();
        let released = c.cond.notify(1, &c.futex, alive);
        c.lock.unlock(&c.futex);
        let notified = t.join().unwrap();
        // The waiter reports a notification exactly when one was issued to it,
        // and nothing is left over either way.
        assert_eq!(notified, released == 1);
        assert_eq!(c.cond.waiting(), 0);
        c.lock.lock(&me(2), &mut LoomPark(&c.futex)).unwrap();
        assert_eq!(c.cond.notify(1, &c.futex, alive), 0);
        c.lock.unlock(&c.futex);
    });
}

/// The notification goes to the waiter that was there when `notify` was
/// called: the notifier, waiting right after it (as in a `wait_for` loop),
/// does not take it, and the first waiter is woken.
#[test]
fn condition_notify_goes_to_a_waiter_that_was_there_not_a_later_one() {
    model(|| {
        let c = cond();
        let first = {
            let c = c.clone();
            thread::spawn(move || {
                let c2 = c.clone();
                cond_wait(&c, 1, &mut LoomPark(&c2.futex))
            })
        };
        // Wait, under the lock, until the first waiter is enqueued.
        loop {
            c.lock.lock(&me(2), &mut LoomPark(&c.futex)).unwrap();
            if c.cond.waiting() == 1 {
                break;
            }
            c.lock.unlock(&c.futex);
            thread::yield_now();
        }
        assert_eq!(c.cond.notify(1, &c.futex, alive), 1);
        c.lock.unlock(&c.futex);
        // The notifier waits at once, with a timeout that has passed.
        assert!(
            !cond_wait(&c, 2, &mut ExpiredPark),
            "a later waiter took the notification"
        );
        assert!(
            first.join().unwrap(),
            "the waiter that was there was not woken"
        );
        assert_eq!(c.cond.waiting(), 0);
    });
}

#[test]
fn barrier_rounds_give_distinct_indices_and_run_the_action_once() {
    model(|| {
        let b = Arc::new((RawBarrier::new(), Futex::default(), AtomicU32::new(0)));
        let party = || {
            let b = b.clone();
            thread::spawn(move || {
                let mut indices = [0u32; 2];
                for (round, slot) in indices.iter_mut().enumerate() {
                    let actions = &b.2;
                    let mut action = || {
                        actions.fetch_add(1, Ordering::SeqCst);
                        true
                    };
                    *slot =
                        b.0.wait(2, None, &mut LoomPark(&b.1), Some(&mut action))
                            .unwrap();
                    // The action of this round ran before anyone left it.
                    assert!(actions.load(Ordering::SeqCst) > round as u32);
                }
                indices
            })
        };
        let x = party();
        let y = party();
        let (x, y) = (x.join().unwrap(), y.join().unwrap());
        for round in 0..2 {
            assert_eq!(x[round] + y[round], 1, "indices 0 and 1 in round {round}");
        }
        assert_eq!(b.2.load(Ordering::SeqCst), 2);
        assert!(!b.0.is_broken());
    });
}

#[test]
fn barrier_abort_releases_a_waiter_broken() {
    model(|| {
        let b = Arc::new((RawBarrier::new(), Futex::default()));
        let t = {
            let b = b.clone();
            thread::spawn(move || b.0.wait(2, None, &mut LoomPark(&b.1), None))
        };
        b.0.abort(&b.1);
        assert!(t.join().unwrap().is_err());
        assert!(b.0.is_broken());
        b.0.reset(&b.1);
        assert!(!b.0.is_broken());
    });
}

#[test]
fn rlock_reenters_and_excludes_other_threads() {
    model(|| {
        let s = Arc::new((RawRLock::new(), Futex::default(), UnsafeCell::new(0u32)));
        let t = {
            let s = s.clone();
            thread::spawn(move || {
                s.0.lock(&me(1), &mut LoomPark(&s.1)).unwrap();
                s.0.lock(&me(1), &mut LoomPark(&s.1)).unwrap();
                // SAFETY: held (twice).
                s.2.with_mut(|p| unsafe { *p += 1 });
                s.0.unlock(&me(1), &s.1).unwrap();
                // SAFETY: still held once.
                s.2.with_mut(|p| unsafe { *p += 1 });
                s.0.unlock(&me(1), &s.1).unwrap();
            })
        };
        s.0.lock(&me(2), &mut LoomPark(&s.1)).unwrap();
        assert_eq!(
            s.0.unlock(&me(1), &s.1),
            Err(shmipc_core::raw_rlock::RLockError::NotOwner)
        );
        // SAFETY: held.
        s.2.with_mut(|p| unsafe { *p += 1 });
        s.0.unlock(&me(2), &s.1).unwrap();
        t.join().unwrap();
        // SAFETY: joined.
        s.2.with(|p| assert_eq!(unsafe { *p }, 3));
    });
}

#[test]
fn barrier_rounds_without_an_action_release_in_one_step() {
    model(|| {
        let b = Arc::new((RawBarrier::new(), Futex::default()));
        let party = || {
            let b = b.clone();
            thread::spawn(move || {
                let mut indices = [0u32; 2];
                for slot in indices.iter_mut() {
                    *slot = b.0.wait(2, None, &mut LoomPark(&b.1), None).unwrap();
                }
                indices
            })
        };
        let x = party();
        let y = party();
        let (x, y) = (x.join().unwrap(), y.join().unwrap());
        for round in 0..2 {
            assert_eq!(x[round] + y[round], 1, "indices 0 and 1 in round {round}");
        }
        assert_eq!(b.0.n_waiting(2), 0);
    });
}

/// Slot storage for the ring models: loom's UnsafeCell flags any overlapping
/// read and write, so the models check the slot hand-over, not just the indices.
/// `seqs.len()` slots (MPMC) or groups (SPSC) of `K` items each.
struct LoomSlots<const K: usize = 1> {
    data: Vec<UnsafeCell<u32>>,
    seqs: Vec<AtomicU64>,
}

impl<const K: usize> LoomSlots<K> {
    fn new(slots: usize) -> LoomSlots<K> {
        LoomSlots {
            data: (0..slots * K).map(|_| UnsafeCell::new(0)).collect(),
            seqs: (0..slots).map(|_| AtomicU64::new(0)).collect(),
        }
    }
}

impl<const K: usize> Slots<u32> for LoomSlots<K> {
    unsafe fn write(&self, index: usize, value: u32) {
        // SAFETY: forwarded from the ring protocol; loom checks it.
        self.data[index].with_mut(|p| unsafe { *p = value });
    }
    unsafe fn read(&self, index: usize) -> u32 {
        // SAFETY: as above.
        self.data[index].with(|p| unsafe { *p })
    }
}

impl<const K: usize> SequencedSlots<u32> for LoomSlots<K> {
    unsafe fn sequence(&self, index: usize) -> &AtomicU64 {
        &self.seqs[index]
    }
}

impl<const K: usize> GroupedSlots<u32> for LoomSlots<K> {
    const PER_GROUP: u64 = K as u64;
    unsafe fn stamp(&self, group: usize) -> &AtomicU64 {
        &self.seqs[group]
    }
    unsafe fn write(&self, group: usize, offset: usize, value: u32) {
        // SAFETY: forwarded from the ring protocol; loom checks it.
        unsafe { Slots::write(self, group * K + offset, value) }
    }
    unsafe fn read(&self, group: usize, offset: usize) -> u32 {
        // SAFETY: as above.
        unsafe { Slots::read(self, group * K + offset) }
    }
}

/// An SPSC ring of `capacity` items in groups of `K`, shared by the model's
/// threads, with its stamps initialised.
fn spsc_ring<const K: usize>(capacity: u64) -> (Arc<(SpscIndices, LoomSlots<K>)>, SpscGeometry) {
    let geometry = SpscGeometry::new(capacity, K as u64).unwrap();
    let ring = Arc::new((
        SpscIndices::new(),
        LoomSlots::new(geometry.groups() as usize),
    ));
    // SAFETY: the slots hold the geometry's groups; nothing else uses the
    // ring yet.
    unsafe { Spsc::new(&ring.0, &ring.1, geometry).init::<u32>() };
    (ring, geometry)
}

/// One producer pushes `0..items` one at a time; the consumer must pop them
/// all, in order.
fn spsc_single_items_keep_order<const K: usize>(capacity: u64, items: u32) {
    model(move || {
        let (ring, geometry) = spsc_ring::<K>(capacity);
        let producer = {
            let ring = ring.clone();
            thread::spawn(move || {
                // SAFETY: the slots hold the geometry's groups; this is
                // the model's one producer.
                let mut spsc = unsafe { Spsc::new(&ring.0, &ring.1, geometry).producer() };
                let mut next = 0u32;
                while next < items {
                    match spsc.push(next) {
                        Ok(()) => next += 1,
                        Err(RingError::WouldBlock) => thread::yield_now(),
                        Err(e) => panic!("{e:?}"),
                    }
                }
            })
        };
        // SAFETY: the slots hold the geometry's groups; this is the model's
        // one consumer.
        let mut spsc = unsafe { Spsc::new(&ring.0, &ring.1, geometry).consumer() };
        let mut got = Vec::new();
        while got.len() < items as usize {
            match spsc.pop::<u32>() {
                Ok(v) => got.push(v),
                Err(RingError::WouldBlock) => thread::yield_now(),
                Err(e) => panic!("{e:?}"),
            }
        }
        producer.join().unwrap();
        assert_eq!(got, (0..items).collect::<Vec<_>>());
    });
}

/// As [`spsc_single_items_keep_order`], in batches of up to two.
fn spsc_batches_keep_order<const K: usize>(capacity: u64, items: u32) {
    model(move || {
        let (ring, geometry) = spsc_ring::<K>(capacity);
        let producer = {
            let ring = ring.clone();
            thread::spawn(move || {
                // SAFETY: as in `spsc_single_items_keep_order`.
                let mut spsc = unsafe { Spsc::new(&ring.0, &ring.1, geometry).producer() };
                let all: Vec<u32> = (0..items).collect();
                let mut sent = 0;
                while sent < all.len() {
                    match spsc.push_slice(&all[sent..]) {
                        Ok(0) => thread::yield_now(),
                        Ok(n) => sent += n,
                        Err(e) => panic!("{e:?}"),
                    }
                }
            })
        };
        // SAFETY: as in `spsc_single_items_keep_order`.
        let mut spsc = unsafe { Spsc::new(&ring.0, &ring.1, geometry).consumer() };
        let mut got = Vec::new();
        let mut buf = [u32::MAX; 2];
        while got.len() < items as usize {
            match spsc.pop_slice(&mut buf) {
                Ok(0) => thread::yield_now(),
                Ok(n) => got.extend_from_slice(&buf[..n]),
                Err(e) => panic!("{e:?}"),
            }
        }
        producer.join().unwrap();
        assert_eq!(got, (0..items).collect::<Vec<_>>());
    });
}

#[test]
fn spsc_ring_keeps_order_without_loss_across_wraparound() {
    spsc_single_items_keep_order::<1>(2, 3);
}

/// Two items under each stamp, four groups' worth of items and one more:
/// items share a stamp, and the producer re-enters the first group only
/// once the consumer has left it.
#[test]
fn spsc_ring_with_shared_stamps_keeps_order_across_groups_and_laps() {
    spsc_single_items_keep_order::<2>(2, 5);
}

#[test]
fn spsc_ring_batches_keep_order_without_loss_across_wraparound() {
    spsc_batches_keep_order::<1>(2, 3);
}

#[test]
fn spsc_ring_batches_with_shared_stamps_keep_order_across_groups_and_laps() {
    spsc_batches_keep_order::<2>(2, 5);
}

/// The MPMC ring over a model's slots, which hold `capacity` of them.
fn mpmc(ring: &(MpmcIndices, LoomSlots), capacity: u64) -> Mpmc<'_, LoomSlots> {
    assert_eq!(ring.1.seqs.len() as u64, capacity);
    // SAFETY: `capacity` slots (asserted), used only through `Mpmc` rings of
    // that capacity, each model initialising them first.
    unsafe { Mpmc::new(&ring.0, &ring.1, capacity) }
}

#[test]
fn mpmc_ring_delivers_each_item_once_in_per_producer_order() {
    model(|| {
        let ring = Arc::new((MpmcIndices::new(), LoomSlots::<1>::new(4)));
        // SAFETY: four slots, initialised before any thread uses them.
        unsafe { mpmc(&ring, 4).init::<u32>() };
        // One producer holds out for two free slots (the waiting `put`'s
        // slack); the look ahead must neither lose nor reorder an item.
        let producer = |base: u32, slack: u64| {
            let ring = ring.clone();
            thread::spawn(move || {
                let mpmc = mpmc(&ring, 4);
                let mut room_until = 0;
                for v in [base, base + 1] {
                    while let Err(e) = mpmc.push_with_slack(v, slack, &mut room_until) {
                        assert_eq!(e, RingError::WouldBlock);
                        thread::yield_now();
                    }
                }
            })
        };
        let a = producer(10, 1);
        let b = producer(20, 2);
        let mpmc = mpmc(&ring, 4);
        let mut got = Vec::new();
        while got.len() < 4 {
            match mpmc.pop::<u32>() {
                Ok(v) => got.push(v),
                Err(RingError::WouldBlock) => thread::yield_now(),
                Err(e) => panic!("{e:?}"),
            }
        }
        a.join().unwrap();
        b.join().unwrap();
        let from = |base: u32| {
            got.iter()
                .copied()
                .filter(|v| v / 10 == base / 10)
                .collect::<Vec<_>>()
        };
        assert_eq!(from(10), vec![10, 11]);
        assert_eq!(from(20), vec![20, 21]);
    });
}

#[test]
fn mpmc_ring_of_capacity_one_neither_loses_nor_duplicates_with_two_consumers() {
    // No thread waits for another (every attempt is made once), so that loom
    // can explore all of it; the bookkeeping after the joins catches any item
    // overwritten, taken twice or lost.
    model(|| {
        let ring = Arc::new((MpmcIndices::new(), LoomSlots::<1>::new(1)));
        // SAFETY: one slot, initialised before any thread uses it.
        unsafe { mpmc(&ring, 1).init::<u32>() };
        let producer = {
            let ring = ring.clone();
            thread::spawn(move || {
                let mpmc = mpmc(&ring, 1);
                [10, 20]
                    .into_iter()
                    .filter(|v| match mpmc.push(*v) {
                        Ok(()) => true,
                        Err(RingError::WouldBlock) => false,
                        Err(e) => panic!("{e:?}"),
                    })
                    .collect::<Vec<u32>>()
            })
        };
        let try_pop = |ring: &(MpmcIndices, LoomSlots)| match mpmc(ring, 1).pop::<u32>() {
            Ok(v) => Some(v),
            Err(RingError::WouldBlock) => None,
            Err(e) => panic!("{e:?}"),
        };
        let other = {
            let ring = ring.clone();
            thread::spawn(move || try_pop(&ring))
        };
        let mut got: Vec<u32> = try_pop(&ring).into_iter().collect();
        got.extend(other.join().unwrap());
        let pushed = producer.join().unwrap();
        got.extend(try_pop(&ring));
        assert_eq!(try_pop(&ring), None, "one slot holds one item");
        got.sort();
        assert_eq!(got, pushed, "every item pushed comes out exactly once");
    });
}

#[test]
fn eventcount_never_loses_a_wake_up() {
    model(|| {
        let s = Arc::new((EventCount::new(), Futex::default(), AtomicU32::new(0)));
        let waiter = {
            let s = s.clone();
            thread::spawn(move || loop {
                if s.2.load(Ordering::SeqCst) != 0 {
                    return;
                }
                let registration = s.0.prepare(&mut LoomPark(&s.1));
                if s.2.load(Ordering::SeqCst) != 0 {
                    return;
                }
                registration.wait(&mut LoomPark(&s.1));
            })
        };
        s.2.store(1, Ordering::SeqCst);
        s.0.notify(&s.1, 1);
        waiter.join().unwrap();
    });
}

/// `notify_if` wakes only when the condition holds: two notifiers each add
/// one to a count, and only the one that brings it to two may wake the
/// waiter. The waiter must still never sleep through the end.
#[test]
fn eventcount_notify_if_never_loses_the_wake_up_that_counts() {
    model(|| {
        let s = Arc::new((EventCount::new(), Futex::default(), AtomicU32::new(0)));
        let done = |s: &(EventCount, Futex, AtomicU32)| s.2.load(Ordering::SeqCst) == 2;
        let waiter = {
            let s = s.clone();
            thread::spawn(move || loop {
                if done(&s) {
                    return;
                }
                let registration = s.0.prepare(&mut LoomPark(&s.1));
                if done(&s) {
                    return;
                }
                registration.wait(&mut LoomPark(&s.1));
            })
        };
        let add = move |s: &(EventCount, Futex, AtomicU32)| {
            s.2.fetch_add(1, Ordering::SeqCst);
            s.0.notify_if(&s.1, u32::MAX, || done(s));
        };
        let other = {
            let s = s.clone();
            thread::spawn(move || add(&s))
        };
        add(&s);
        other.join().unwrap();
        waiter.join().unwrap();
    });
}
