//! RLock, Semaphore, BoundedSemaphore, Event, Condition and Barrier across real
//! processes, with the edge cases CPython's own test suite checks.

mod common;

use std::time::{Duration, Instant};

use common::{name, role, spawn, Cleanup};
use shmipc::{
    AcquireError, Barrier, BoundedSemaphore, BrokenReason, CellLock, Condition, Error, Event, Lock,
    Options, RLock, RawValue, Semaphore, TryAcquireError, WaitError,
};

const LONG: Duration = Duration::from_secs(30);

/// Yields until `cond` holds; fails after a generous bound instead of hanging.
fn until(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + LONG;
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::yield_now();
    }
}

fn assert_waited(started: Instant, at_least: Duration) {
    let took = started.elapsed();
    assert!(
        took >= at_least,
        "returned after {took:?}, before its timeout {at_least:?}"
    );
}

#[test]
fn rlock_reenters_per_thread_and_excludes_other_processes() {
    let test = "rlock_reenters_per_thread_and_excludes_other_processes";
    if role().as_deref() == Some("contender") {
        let lock = RLock::open(&name("rlock")).unwrap();
        assert!(matches!(
            lock.try_acquire(),
            Err(TryAcquireError::WouldBlock { .. })
        ));
        common::tell_parent("blocked");
        let g = lock.acquire_timeout(LONG).unwrap();
        assert_eq!(lock.depth(), Some(1));
        drop(g);
        common::tell_parent("got");
        return;
    }
    let _cleanup = Cleanup::new(&["rlock"]);
    let lock = RLock::create(&name("rlock")).unwrap();
    let outer = lock.acquire().unwrap();
    let inner = lock.try_acquire().unwrap();
    assert_eq!(lock.depth(), Some(2));
    // Another thread of this process is another holder.
    std::thread::scope(|s| {
        s.spawn(|| {
            assert!(lock.try_acquire().is_err());
            assert_eq!(lock.depth(), None);
        });
    });
    let mut child = spawn(test, "contender", &[]);
    child.expect_line("blocked");
    drop(inner);
    assert!(lock.is_locked());
    assert_eq!(lock.depth(), Some(1));
    drop(outer);
    child.expect_line("got");
    child.assert_success();
    assert!(!lock.is_locked());
}

#[test]
fn rlock_holder_death_is_reported() {
    if role().as_deref() == Some("die") {
        let lock = RLock::open(&name("rlock-death")).unwrap();
        let a = lock.acquire().unwrap();
        let b = lock.acquire().unwrap();
        common::tell_parent("held");
        // SAFETY: kills this very process.
        unsafe { libc::kill(libc::getpid(), libc::SIGKILL) };
        drop((a, b));
        return;
    }
    let _cleanup = Cleanup::new(&["rlock-death"]);
    let lock = RLock::create(&name("rlock-death")).unwrap();
    let mut child = spawn("rlock_holder_death_is_reported", "die", &[]);
    let pid = child.pid();
    child.expect_line("held");
    let started = Instant::now();
    match lock.acquire_timeout(LONG) {
        Err(TryAcquireError::OwnerDied(died)) => {
            assert_eq!(died.pid(), pid);
            let g = died.recover();
            assert_eq!(lock.depth(), Some(1));
            drop(g);
        }
        other => panic!("expected OwnerDied, got {other:?}"),
    }
    assert!(
        started.elapsed() < Duration::from_millis(100),
        "took {:?}",
        started.elapsed()
    );
    assert!(!lock.is_locked());
    assert!(!child.wait().success());
}

#[test]
fn semaphores_ping_pong_between_processes() {
    const ROUNDS: u32 = 20_000;
    if role().as_deref() == Some("pong") {
        let ping = Semaphore::open(&name("ping")).unwrap();
        let pong = Semaphore::open(&name("pong")).unwrap();
        for _ in 0..ROUNDS {
            ping.acquire();
            pong.release().unwrap();
        }
        return;
    }
    let _cleanup = Cleanup::new(&["ping", "pong"]);
    let ping = Semaphore::create(&name("ping"), 0).unwrap();
    let pong = Semaphore::create(&name("pong"), 0).unwrap();
    let child = spawn("semaphores_ping_pong_between_processes", "pong", &[]);
    for _ in 0..ROUNDS {
        ping.release().unwrap();
        pong.acquire_timeout(LONG).unwrap();
    }
    child.assert_success();
    assert_eq!((ping.value(), pong.value()), (0, 0));
}

#[test]
fn semaphore_try_and_timeout_forms() {
    let _cleanup = Cleanup::new(&["sem-forms"]);
    let sem = Semaphore::create(&name("sem-forms"), 1).unwrap();
    sem.try_acquire().unwrap();
    assert!(matches!(
        sem.try_acquire(),
        Err(AcquireError::WouldBlock { .. })
    ));
    let timeout = Duration::from_millis(50);
    let started = Instant::now();
    match sem.acquire_timeout(timeout) {
        Err(AcquireError::TimedOut { name: n, after }) => {
            assert_eq!((&*n, after), (name("sem-forms").as_str(), timeout));
        }
        other => panic!("expected TimedOut, got {other:?}"),
    }
    assert_waited(started, timeout);
    sem.release_n(3).unwrap();
    assert_eq!(sem.value(), 3);
    // An unbounded semaphore refuses only to overflow u32, and says so.
    assert!(matches!(
        sem.release_n(u32::MAX),
        Err(Error::SemaphoreOverflow { value: 3, .. })
    ));
    assert_eq!(sem.value(), 3);
}

#[test]
fn bounded_semaphore_over_release_is_exact_across_processes() {
    if role().as_deref() == Some("releaser") {
        let sem = BoundedSemaphore::open(&name("bounded")).unwrap();
        let ok = RawValue::<u32>::open(&name("bounded-ok")).unwrap();
        common::wait_for_parent();
        for _ in 0..2 {
            match sem.release() {
                Ok(()) => {
                    ok.fetch_add(1);
                }
                Err(Error::OverRelease { bound: 4, .. }) => {}
                Err(e) => panic!("unexpected {e}"),
            }
        }
        return;
    }
    let _cleanup = Cleanup::new(&["bounded", "bounded-ok"]);
    let sem = BoundedSemaphore::create(&name("bounded"), 4).unwrap();
    let ok = RawValue::create(&name("bounded-ok"), 0u32).unwrap();
    assert_eq!(sem.bound(), 4);
    assert!(matches!(
        sem.release(),
        Err(Error::OverRelease { value: 4, .. })
    ));
    for _ in 0..4 {
        sem.acquire();
    }
    // Four processes race eight releases into room for four: exactly four fit.
    let mut kids: Vec<_> = (0..4)
        .map(|_| {
            spawn(
                "bounded_semaphore_over_release_is_exact_across_processes",
                "releaser",
                &[],
            )
        })
        .collect();
    for k in &mut kids {
        k.send("go");
    }
    for k in kids {
        k.assert_success();
    }
    assert_eq!(ok.load(), 4);
    assert_eq!(sem.value(), 4);
    assert!(matches!(
        Semaphore::open(&name("bounded")),
        Err(Error::KindMismatch { .. })
    ));
}

#[test]
fn event_set_wakes_a_waiting_process_and_timeouts_wait() {
    if role().as_deref() == Some("waiter") {
        let ev = Event::open(&name("event")).unwrap();
        common::tell_parent("waiting");
        ev.wait();
        common::tell_parent("woke");
        return;
    }
    let _cleanup = Cleanup::new(&["event"]);
    let ev = Event::create(&name("event")).unwrap();
    assert!(!ev.is_set());
    let timeout = Duration::from_millis(50);
    let started = Instant::now();
    assert!(!ev.wait_timeout(timeout));
    assert_waited(started, timeout);
    let mut child = spawn(
        "event_set_wakes_a_waiting_process_and_timeouts_wait",
        "waiter",
        &[],
    );
    child.expect_line("waiting");
    ev.set();
    child.expect_line("woke");
    child.assert_success();
    assert!(ev.is_set() && ev.wait_timeout(Duration::ZERO));
    ev.clear();
    assert!(!ev.is_set());
}

extern "C" fn ignore_signal(_: libc::c_int) {}

#[test]
fn timed_waits_survive_signals_and_use_the_full_timeout() {
    if role().as_deref() == Some("signalled") {
        // SAFETY: installs a handler that does nothing, without SA_RESTART, so
        // every signal interrupts the futex wait with EINTR.
        unsafe {
            let mut sa: libc::sigaction = std::mem::zeroed();
            sa.sa_sigaction = ignore_signal as *const () as usize;
            libc::sigaction(libc::SIGUSR1, &sa, std::ptr::null_mut());
        }
        let ev = Event::open(&name("eintr")).unwrap();
        let sem = Semaphore::open(&name("eintr-sem")).unwrap();
        common::tell_parent("ready");
        let timeout = Duration::from_millis(300);
        let started = Instant::now();
        assert!(!ev.wait_timeout(timeout));
        assert_waited(started, timeout);
        let started = Instant::now();
        assert!(sem.acquire_timeout(timeout).is_err());
        assert_waited(started, timeout);
        return;
    }
    let _cleanup = Cleanup::new(&["eintr", "eintr-sem"]);
    let _ev = Event::create(&name("eintr")).unwrap();
    let _sem = Semaphore::create(&name("eintr-sem"), 0).unwrap();
    let mut child = spawn(
        "timed_waits_survive_signals_and_use_the_full_timeout",
        "signalled",
        &[],
    );
    let pid = child.pid() as libc::pid_t;
    child.expect_line("ready");
    let started = Instant::now();
    let mut sent = 0;
    // Signal the child throughout both of its waits.
    while started.elapsed() < Duration::from_millis(550) {
        // SAFETY: signals our own child process, which handles SIGUSR1.
        unsafe { libc::kill(pid, libc::SIGUSR1) };
        sent += 1;
        std::thread::yield_now();
    }
    assert!(sent > 10);
    child.assert_success();
}

#[test]
fn condition_notify_n_releases_exactly_n_processes() {
    const WAITERS: u32 = 4;
    if role().as_deref() == Some("cond-waiter") {
        let cond = Condition::<Lock>::open(&name("cond")).unwrap();
        let woken = RawValue::<u32>::open(&name("cond-woken")).unwrap();
        let guard = cond.get_lock().acquire().unwrap();
        let guard = cond.wait(guard).unwrap();
        woken.fetch_add(1);
        drop(guard);
        return;
    }
    let _cleanup = Cleanup::new(&["cond", "cond-woken"]);
    let cond = Condition::<Lock>::create(&name("cond")).unwrap();
    let woken = RawValue::create(&name("cond-woken"), 0u32).unwrap();
    let kids: Vec<_> = (0..WAITERS)
        .map(|_| {
            spawn(
                "condition_notify_n_releases_exactly_n_processes",
                "cond-waiter",
                &[],
            )
        })
        .collect();
    until("all waiters", || cond.n_waiting() == WAITERS);
    let mut expected = 0;
    for n in [1, 2] {
        let guard = cond.get_lock().acquire().unwrap();
        assert_eq!(cond.notify(&guard, n).unwrap(), n);
        expected += n;
        assert_eq!(cond.n_waiting(), WAITERS - expected);
        drop(guard);
        until("the notified waiters", || woken.load() >= expected);
        assert_eq!(woken.load(), expected, "notify({n}) woke too many");
    }
    let guard = cond.get_lock().acquire().unwrap();
    assert_eq!(cond.notify_all(&guard).unwrap(), WAITERS - expected);
    assert_eq!(cond.notify_all(&guard).unwrap(), 0);
    drop(guard);
    for k in kids {
        k.assert_success();
    }
    assert_eq!(woken.load(), WAITERS);
}

#[test]
fn a_notify_wakes_the_waiter_that_was_there_not_a_later_one() {
    const LATE: Duration = Duration::from_millis(200);
    match role().as_deref() {
        Some("early") => {
            let cond = Condition::<Lock>::open(&name("cond-late")).unwrap();
            let guard = cond.get_lock().acquire().unwrap();
            let (_guard, result) = cond.wait_timeout(guard, LONG).unwrap();
            assert!(!result.timed_out(), "the waiter that was there slept on");
            common::tell_parent("woken");
            return;
        }
        Some("late") => {
            let cond = Condition::<Lock>::open(&name("cond-late")).unwrap();
            common::wait_for_parent();
            let guard = cond.get_lock().acquire().unwrap();
            let (_guard, result) = cond.wait_timeout(guard, LATE).unwrap();
            assert!(result.timed_out(), "a later waiter took the notification");
            common::tell_parent("timed out");
            return;
        }
        _ => {}
    }
    let test = "a_notify_wakes_the_waiter_that_was_there_not_a_later_one";
    let _cleanup = Cleanup::new(&["cond-late"]);
    let cond = Condition::<Lock>::create(&name("cond-late")).unwrap();
    for _round in 0..5 {
        let mut early = spawn(test, "early", &[]);
        let mut late = spawn(test, "late", &[]);
        until("the early waiter", || cond.n_waiting() == 1);
        let guard = cond.get_lock().acquire().unwrap();
        assert_eq!(cond.notify(&guard, 1).unwrap(), 1);
        // Two later waiters, while the notified one has not yet run: the
        // notifier itself (as in a `wait_for` loop), then another process,
        // which waits for the lock that the notifier's wait releases.
        late.send("go");
        let (guard, result) = cond.wait_timeout(guard, LATE).unwrap();
        assert!(result.timed_out(), "the notifier took its own notification");
        drop(guard);
        early.expect_line("woken");
        late.expect_line("timed out");
        early.assert_success();
        late.assert_success();
        assert_eq!(cond.n_waiting(), 0);
    }
}

#[test]
fn a_condition_refuses_a_waiter_past_its_slots_and_hands_the_guard_back() {
    let _cleanup = Cleanup::new(&["cond-full"]);
    let cond = Condition::<Lock>::create(&name("cond-full")).unwrap();
    let limit = shmipc_core::raw_condition::CONDITION_SLOTS;
    std::thread::scope(|s| {
        for _ in 0..limit {
            s.spawn(|| {
                let guard = cond.get_lock().acquire().unwrap();
                let (_, result) = cond.wait_timeout(guard, LONG).unwrap();
                assert!(!result.timed_out());
            });
        }
        until("every slot taken", || cond.n_waiting() == limit as u32);
        let guard = cond.get_lock().acquire().unwrap();
        let guard = match cond.wait(guard) {
            Err(WaitError::Full { guard, error }) => {
                assert!(
                    matches!(error, Error::TooManyWaiters { limit: l, .. } if l as usize == limit)
                );
                guard
            }
            other => panic!("expected Full, got {other:?}"),
        };
        assert_eq!(cond.notify_all(&guard).unwrap(), limit as u32);
    });
    assert_eq!(cond.n_waiting(), 0);
}

#[test]
fn condition_timeouts_predicates_and_wrong_locks() {
    if role().as_deref() == Some("producer") {
        let cond = Condition::<Lock>::open(&name("cond-pred")).unwrap();
        let value = RawValue::<u32>::open(&name("cond-value")).unwrap();
        for _ in 0..10 {
            let guard = cond.get_lock().acquire().unwrap();
            value.fetch_add(1);
            cond.notify_all(&guard).unwrap();
        }
        return;
    }
    let _cleanup = Cleanup::new(&["cond-pred", "cond-value", "cond-other"]);
    let cond = Condition::<Lock>::create(&name("cond-pred")).unwrap();
    let value = RawValue::create(&name("cond-value"), 0u32).unwrap();
    let guard = cond.get_lock().acquire().unwrap();
    let timeout = Duration::from_millis(50);
    let started = Instant::now();
    let (guard, result) = cond.wait_timeout(guard, timeout).unwrap();
    assert!(result.timed_out());
    assert_waited(started, timeout);
    assert_eq!(cond.n_waiting(), 0, "a timed-out waiter leaves no trace");
    let child = spawn(
        "condition_timeouts_predicates_and_wrong_locks",
        "producer",
        &[],
    );
    let guard = cond.wait_while(guard, |_| value.load() < 10).unwrap();
    assert_eq!(value.load(), 10);
    let (guard, result) = cond
        .wait_timeout_while(guard, Duration::from_millis(20), |_| true)
        .unwrap();
    assert!(result.timed_out());
    drop(guard);
    child.assert_success();
    // A guard of another lock is handed back, not waited on.
    let other = Lock::create(&name("cond-other")).unwrap();
    let g = other.acquire().unwrap();
    match cond.wait(g) {
        Err(WaitError::WrongLock { guard, error }) => {
            assert!(matches!(error, Error::WrongLock { .. }));
            drop(guard);
        }
        other => panic!("expected WrongLock, got {other:?}"),
    }
    let g = other.acquire().unwrap();
    assert!(matches!(cond.notify(&g, 1), Err(Error::WrongLock { .. })));
}

#[test]
fn condition_over_a_shared_rlock_releases_every_level_while_waiting() {
    if role().as_deref() == Some("notifier") {
        let cond = Condition::<RLock>::open(&name("rcond")).unwrap();
        let lock = cond.get_lock();
        // Only possible if the waiter released both of its levels.
        let guard = lock.acquire_timeout(LONG).unwrap();
        until("the waiter", || cond.n_waiting() == 1);
        assert_eq!(cond.notify(&guard, 1).unwrap(), 1);
        return;
    }
    let _cleanup = Cleanup::new(&["rcond", "rcond-lock"]);
    let rlock = RLock::create(&name("rcond-lock")).unwrap();
    let cond =
        Condition::create_with(&name("rcond"), CellLock::Shared(&rlock), &Options::new()).unwrap();
    assert!(matches!(
        Condition::<Lock>::open(&name("rcond")),
        Err(Error::LockKindMismatch { .. })
    ));
    let outer = rlock.acquire().unwrap();
    let inner = rlock.acquire().unwrap();
    let child = spawn(
        "condition_over_a_shared_rlock_releases_every_level_while_waiting",
        "notifier",
        &[],
    );
    let inner = cond.wait(inner).unwrap();
    assert_eq!(rlock.depth(), Some(2), "both levels restored");
    drop(inner);
    drop(outer);
    child.assert_success();
}

const ROUNDS: u32 = 50;
const PARTIES: u32 = 3;

fn barrier_party(slot: u32) {
    let barrier = Barrier::open(&name("barrier"))
        .unwrap()
        .with_action(move || {
            let actions = RawValue::<u32>::open(&name("barrier-actions")).unwrap();
            actions.fetch_add(1);
        });
    let actions = RawValue::<u32>::open(&name("barrier-actions")).unwrap();
    let indices = shmipc::RawArray::<u32>::open(&name("barrier-indices")).unwrap();
    for round in 0..ROUNDS {
        let index = barrier.wait().unwrap();
        // The round's action ran, exactly once, before anyone left the round.
        assert!(actions.load() > round);
        indices
            .store((round * PARTIES + slot) as usize, index)
            .unwrap();
    }
}

#[test]
fn barrier_rounds_indices_and_actions_across_processes() {
    if role().as_deref() == Some("party") {
        let slot = common::args()[0].parse().unwrap();
        return barrier_party(slot);
    }
    let _cleanup = Cleanup::new(&["barrier", "barrier-actions", "barrier-indices"]);
    let _barrier = Barrier::create(&name("barrier"), PARTIES).unwrap();
    let actions = RawValue::create(&name("barrier-actions"), 0u32).unwrap();
    let indices =
        shmipc::RawArray::<u32>::create(&name("barrier-indices"), (ROUNDS * PARTIES) as usize)
            .unwrap();
    let kids: Vec<_> = (1..PARTIES)
        .map(|slot| {
            spawn(
                "barrier_rounds_indices_and_actions_across_processes",
                "party",
                &[&slot.to_string()],
            )
        })
        .collect();
    barrier_party(0);
    for k in kids {
        k.assert_success();
    }
    assert_eq!(actions.load(), ROUNDS);
    let all = indices.to_vec();
    for round in all.chunks(PARTIES as usize) {
        let mut sorted = round.to_vec();
        sorted.sort_unstable();
        assert_eq!(
            sorted,
            (0..PARTIES).collect::<Vec<_>>(),
            "indices of a round: {round:?}"
        );
    }
}

#[test]
fn barrier_abort_timeout_and_reset() {
    if role().as_deref() == Some("stuck") {
        let b = Barrier::open(&name("abort")).unwrap();
        match b.wait() {
            Err(Error::BrokenBarrier { .. }) => {}
            other => panic!("expected BrokenBarrier, got {other:?}"),
        }
        common::tell_parent("broken");
        common::wait_for_parent();
        // After the reset, a full round works again.
        assert!(b.wait_timeout(LONG).is_ok());
        return;
    }
    let _cleanup = Cleanup::new(&["abort"]);
    let b = Barrier::create(&name("abort"), 3).unwrap();
    let mut kids: Vec<_> = (0..2)
        .map(|_| spawn("barrier_abort_timeout_and_reset", "stuck", &[]))
        .collect();
    until("two waiters", || b.n_waiting() == 2);
    b.abort();
    for k in &mut kids {
        k.expect_line("broken");
    }
    assert!(b.is_broken());
    assert!(matches!(b.wait(), Err(Error::BrokenBarrier { .. })));
    b.reset();
    assert!(!b.is_broken());
    for k in &mut kids {
        k.send("again");
    }
    assert!(b.wait_timeout(LONG).is_ok());
    for k in kids {
        k.assert_success();
    }
    // A timeout breaks the barrier, after really waiting.
    let timeout = Duration::from_millis(50);
    let started = Instant::now();
    match b.wait_timeout(timeout) {
        Err(Error::BrokenBarrier { reason, .. }) => {
            assert!(matches!(reason, BrokenReason::TimedOut { .. }), "{reason}")
        }
        other => panic!("expected BrokenBarrier, got {other:?}"),
    }
    assert_waited(started, timeout);
    assert!(b.is_broken());
    b.reset();
    assert_eq!(b.n_waiting(), 0);
}

#[test]
fn a_timed_barrier_wait_returns_by_its_deadline_while_a_reset_cannot_finish() {
    if role().as_deref() == Some("arrives") {
        let b = Barrier::open(&name("stuck-reset")).unwrap();
        // Broken by the reset, once it runs again.
        assert!(b.wait().is_err());
        return;
    }
    let _cleanup = Cleanup::new(&["stuck-reset"]);
    let b = Barrier::create(&name("stuck-reset"), 2).unwrap();
    let kid = spawn(
        "a_timed_barrier_wait_returns_by_its_deadline_while_a_reset_cannot_finish",
        "arrives",
        &[],
    );
    until("the party's arrival", || b.n_waiting() == 1);
    // Stopped, not dead: its arrival cannot leave until it runs again, so
    // the reset cannot finish in the meantime.
    // SAFETY: signals our own child, by pid.
    unsafe { libc::kill(kid.pid() as i32, libc::SIGSTOP) };
    b.reset();
    let timeout = Duration::from_millis(100);
    let started = Instant::now();
    let waited = b.wait_timeout(timeout);
    let took = started.elapsed();
    // SAFETY: as above.
    unsafe { libc::kill(kid.pid() as i32, libc::SIGCONT) };
    assert!(waited.is_err(), "{waited:?}");
    // By its deadline, plus scheduling slack (it used to spin for ever).
    assert!(took < Duration::from_secs(5), "returned after {took:?}");
    assert_waited(started, timeout);
    kid.assert_success();
}

#[test]
fn a_reset_after_a_party_died_waiting_gives_a_usable_barrier() {
    match role().as_deref() {
        Some("dies-waiting") => {
            let b = Barrier::open(&name("reset-death")).unwrap();
            let _ = b.wait();
            return;
        }
        Some("joins-later") => {
            let b = Barrier::open(&name("reset-death")).unwrap();
            common::tell_parent("registered");
            b.wait_timeout(LONG).unwrap();
            return;
        }
        _ => {}
    }
    let test = "a_reset_after_a_party_died_waiting_gives_a_usable_barrier";
    let _cleanup = Cleanup::new(&["reset-death"]);
    let b = Barrier::create(&name("reset-death"), 2).unwrap();
    let doomed = spawn(test, "dies-waiting", &[]);
    until("the doomed party's arrival", || b.n_waiting() == 1);
    drop(doomed); // SIGKILL while it waits: its arrival never leaves
    b.reset();
    // The reset finishes without it: a new round of two live parties
    // completes.
    let mut later = spawn(test, "joins-later", &[]);
    later.expect_line("registered");
    let started = Instant::now();
    b.wait_timeout(LONG).unwrap();
    later.assert_success();
    assert!(started.elapsed() < Duration::from_secs(20));
    assert!(!b.is_broken());
}

#[test]
fn a_participant_that_dies_breaks_the_barrier_instead_of_hanging_it() {
    if role().as_deref() == Some("doomed") {
        let _b = Barrier::open(&name("deadly")).unwrap();
        common::tell_parent("joined");
        // SAFETY: kills this very process, which never arrives.
        unsafe { libc::kill(libc::getpid(), libc::SIGKILL) };
        return;
    }
    let _cleanup = Cleanup::new(&["deadly"]);
    let b = Barrier::create(&name("deadly"), 2).unwrap();
    let mut child = spawn(
        "a_participant_that_dies_breaks_the_barrier_instead_of_hanging_it",
        "doomed",
        &[],
    );
    child.expect_line("joined");
    let started = Instant::now();
    match b.wait() {
        Err(Error::BrokenBarrier { reason, .. }) => {
            assert!(matches!(reason, BrokenReason::PartyDied { .. }), "{reason}")
        }
        other => panic!("expected BrokenBarrier, got {other:?}"),
    }
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(!child.wait().success());
}

#[test]
fn a_panicking_action_breaks_the_round_and_resumes_in_its_party() {
    let _cleanup = Cleanup::new(&["panicky"]);
    let make = || {
        Barrier::create_with(&name("panicky"), 2, None, &Options::new())
            .or_else(|_| Barrier::open(&name("panicky")))
            .unwrap()
            .with_action(|| panic!("action failed"))
    };
    let (a, b) = (make(), make());
    let results = std::thread::scope(|s| {
        let t = s.spawn(|| std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| a.wait())));
        let here = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| b.wait()));
        [t.join().unwrap(), here]
    });
    let panicked = results.iter().filter(|r| r.is_err()).count();
    let broken = results
        .iter()
        .filter(|r| matches!(r, Ok(Err(Error::BrokenBarrier { .. }))))
        .count();
    assert_eq!((panicked, broken), (1, 1));
    assert!(a.is_broken());
}

#[test]
fn barrier_parties_killed_at_random_never_hang_the_others_and_reset_reuses_it() {
    const TRIALS: u32 = 1000;
    if role().as_deref() == Some("party") {
        let b = Barrier::open(&name("kills")).unwrap();
        common::tell_parent("ready");
        // Round after round until killed or broken, with up to 200 µs of
        // work between them, so that a kill finds a party waiting or not.
        let mut seed = u64::from(std::process::id()) | 1;
        while b.wait_timeout(LONG).is_ok() {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let until = Instant::now() + Duration::from_micros(seed % 200);
            while Instant::now() < until {
                std::hint::spin_loop();
            }
        }
        return;
    }
    let test = "barrier_parties_killed_at_random_never_hang_the_others_and_reset_reuses_it";
    let _cleanup = Cleanup::new(&["kills"]);
    let b = Barrier::create(&name("kills"), 3).unwrap();
    let mut seed = 0x853c_49e6_748f_ea9bu64;
    let mut outcomes = [0u32; 2]; // [broken after the death, released anyway]
    for trial in 0..TRIALS {
        let mut parties: Vec<_> = (0..2).map(|_| spawn(test, "party", &[])).collect();
        for p in &mut parties {
            p.expect_line("ready");
        }
        // This process is the third party; the victim dies at a random
        // moment: before arriving, while waiting, or between rounds.
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let rounds = seed % 4;
        for _ in 0..rounds {
            b.wait_timeout(LONG).unwrap();
        }
        let victim = parties.remove((seed >> 8) as usize % 2);
        // A random moment for the kill, up to 300 µs on: a delay, not a
        // synchronisation (any moment is a valid test).
        std::thread::sleep(Duration::from_micros(seed >> 24 & 0xff));
        // SIGKILL, reaped. The survivors and this process must not hang:
        // the round breaks (a party died) within the liveness poll, with
        // generous slack.
        drop(victim);
        let started = Instant::now();
        match b.wait_timeout(LONG) {
            Err(_) => outcomes[0] += 1,
            // The victim had arrived before it died: that round released.
            Ok(_) => outcomes[1] += 1,
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "trial {trial}: the round took {:?}",
            started.elapsed()
        );
        for p in parties {
            let status = p.wait();
            assert!(
                status.success(),
                "trial {trial}: a survivor failed: {status}"
            );
        }
        // Reset, and a full round of three live parties works again.
        b.reset();
        let mut fresh: Vec<_> = (0..2).map(|_| spawn(test, "party", &[])).collect();
        for p in &mut fresh {
            p.expect_line("ready");
        }
        b.wait_timeout(LONG)
            .unwrap_or_else(|e| panic!("trial {trial}: reused barrier: {e}"));
        b.abort();
        for p in fresh {
            assert!(p.wait().success());
        }
        b.reset();
    }
    eprintln!("barrier kill trials: {outcomes:?} (broken, released)");
    assert_eq!(outcomes.iter().sum::<u32>(), TRIALS);
}
