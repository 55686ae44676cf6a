//! Models of the semaphore, event, condition and barrier.

use super::*;

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
