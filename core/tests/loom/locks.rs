//! Models of the lock and the re-entrant lock.

use super::*;

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
