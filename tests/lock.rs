//! Lock across real processes: mutual exclusion, timeouts, and holder death.

mod common;

use std::time::{Duration, Instant};

use common::{name, role, spawn, Cleanup};
use shmipc::{Lock, TryAcquireError, Value};

const INCREMENTS: u64 = 250_000;

#[test]
fn four_processes_increment_one_value_exactly() {
    if role().as_deref() == Some("increment") {
        let v = Value::<u64>::open(&name("counter")).unwrap();
        for _ in 0..INCREMENTS {
            *v.lock().unwrap() += 1;
        }
        return;
    }
    let _cleanup = Cleanup::new(&["counter"]);
    let v = Value::create(&name("counter"), 0u64).unwrap();
    let children: Vec<_> = (0..4)
        .map(|_| {
            spawn(
                "four_processes_increment_one_value_exactly",
                "increment",
                &[],
            )
        })
        .collect();
    for child in children {
        child.assert_success();
    }
    assert_eq!(*v.lock().unwrap(), 4 * INCREMENTS);
}

/// The child takes the lock, says so, waits for the go-ahead, and kills itself.
fn hold_and_die(label: &str) {
    let lock = Lock::open(&name(label)).unwrap();
    let guard = lock.acquire().unwrap();
    common::tell_parent("held");
    common::wait_for_parent();
    // SAFETY: sends SIGKILL to this very process; nothing runs after it.
    unsafe { libc::kill(libc::getpid(), libc::SIGKILL) };
    drop(guard);
    unreachable!("SIGKILL returned");
}

/// Starts a child that holds the lock, then lets it die once this process is
/// parked on the lock. Returns the child and a thread yielding the instant of
/// the go-ahead.
fn start_doomed_holder(
    test: &str,
    label: &str,
    lock: &Lock,
) -> (common::Proc, std::thread::JoinHandle<Instant>) {
    let mut child = spawn(test, "hold-and-die", &[label]);
    child.expect_line("held");
    assert!(lock.is_locked());
    let mut stdin = child.take_stdin();
    let lock = lock.clone();
    let go = std::thread::spawn(move || {
        // Wait until the main thread is parked on the futex (it announces
        // itself with the WAITERS bit), so the blocked path is what is tested.
        while !lock.has_parked_waiters() {
            std::thread::yield_now();
        }
        let at = Instant::now();
        use std::io::Write;
        writeln!(stdin, "die").unwrap();
        stdin.flush().unwrap();
        at
    });
    (child, go)
}

#[test]
fn holder_death_reaches_a_blocked_acquire_within_100ms() {
    let test = "holder_death_reaches_a_blocked_acquire_within_100ms";
    if role().as_deref() == Some("hold-and-die") {
        return hold_and_die("dying-a");
    }
    let _cleanup = Cleanup::new(&["dying-a"]);
    let lock = Lock::create(&name("dying-a")).unwrap();
    let (child, go) = start_doomed_holder(test, "dying-a", &lock);
    let child_pid = child.pid();
    let result = lock.acquire();
    let took = go.join().unwrap().elapsed();
    let died = result.expect_err("the holder died, so acquire must report OwnerDied");
    assert_eq!(died.pid(), child_pid);
    assert!(took < Duration::from_millis(100), "OwnerDied took {took:?}");
    // Not recovered: the next acquirer hears about it too.
    drop(died.into_inner());
    assert_eq!(lock.poisoned_by(), Some(child_pid));
    let again = lock.acquire().expect_err("still inconsistent");
    // Recovered: from now on acquisitions are clean.
    drop(again.recover());
    assert!(lock.acquire().is_ok());
    assert_eq!(lock.poisoned_by(), None);
    assert!(!child.wait().success());
}

#[test]
fn holder_death_reaches_acquire_timeout_within_100ms() {
    let test = "holder_death_reaches_acquire_timeout_within_100ms";
    if role().as_deref() == Some("hold-and-die") {
        return hold_and_die("dying-b");
    }
    let _cleanup = Cleanup::new(&["dying-b"]);
    let lock = Lock::create(&name("dying-b")).unwrap();
    let (child, go) = start_doomed_holder(test, "dying-b", &lock);
    let child_pid = child.pid();
    let result = lock.acquire_timeout(Duration::from_secs(30));
    let took = go.join().unwrap().elapsed();
    match result {
        Err(TryAcquireError::OwnerDied(died)) => {
            assert_eq!(died.pid(), child_pid);
            // `?` turns it into an error that names the lock and the dead pid.
            let e = shmipc::Error::from(died);
            let text = e.to_string();
            assert!(
                text.contains(&name("dying-b")) && text.contains(&child_pid.to_string()),
                "{text}"
            );
        }
        other => panic!("expected OwnerDied, got {other:?}"),
    }
    assert!(took < Duration::from_millis(100), "OwnerDied took {took:?}");
    assert!(!child.wait().success());
}

#[test]
fn try_acquire_and_timeout_respect_a_live_holder() {
    let _cleanup = Cleanup::new(&["busy"]);
    let lock = Lock::create(&name("busy")).unwrap();
    let (held_tx, held_rx) = std::sync::mpsc::channel();
    let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
    let holder = {
        let lock = lock.clone();
        std::thread::spawn(move || {
            let _g = lock.acquire().unwrap();
            held_tx.send(()).unwrap();
            release_rx.recv().unwrap();
        })
    };
    held_rx.recv().unwrap();
    assert!(matches!(
        lock.try_acquire(),
        Err(TryAcquireError::WouldBlock { .. })
    ));
    let timeout = Duration::from_millis(50);
    let started = Instant::now();
    match lock.acquire_timeout(timeout) {
        Err(TryAcquireError::TimedOut { name: n, after }) => {
            assert_eq!(&*n, name("busy"));
            assert_eq!(after, timeout);
        }
        other => panic!("expected TimedOut, got {other:?}"),
    }
    assert!(
        started.elapsed() >= timeout,
        "returned early: {:?}",
        started.elapsed()
    );
    let e: shmipc::Error = lock.acquire_timeout(Duration::ZERO).unwrap_err().into();
    assert!(e.to_string().contains("timed out"), "{e}");
    release_tx.send(()).unwrap();
    holder.join().unwrap();
    assert!(lock.try_acquire().is_ok());
}

#[test]
fn a_thread_that_exits_holding_the_lock_counts_as_dead() {
    let _cleanup = Cleanup::new(&["thread-exit"]);
    let lock = Lock::create(&name("thread-exit")).unwrap();
    let forgotten = lock.clone();
    std::thread::spawn(move || std::mem::forget(forgotten.acquire().unwrap()))
        .join()
        .unwrap();
    let died = lock.acquire().expect_err("holder thread exited");
    assert_eq!(died.pid(), std::process::id());
    drop(died.recover());
}

#[test]
fn guards_are_exclusive_between_threads_of_one_process() {
    let _cleanup = Cleanup::new(&["threads"]);
    let v = Value::create(&name("threads"), 0u64).unwrap();
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                for _ in 0..20_000 {
                    *v.lock().unwrap() += 1;
                }
            });
        }
    });
    assert_eq!(*v.lock().unwrap(), 80_000);
}
