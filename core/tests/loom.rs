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

use shmipc_core::park::{Liveness, Owner, Park, Parked, Unpark};
use shmipc_core::primitives::{AtomicU32, Ordering};
use shmipc_core::raw_lock::{Acquired, RawLock};

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
