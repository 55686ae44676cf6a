//! A hostile peer: while one process uses an object through its timed and
//! non-blocking operations, another writes random and chosen values into
//! the object's segment. Every call must return (an answer or an error), by
//! its deadline plus scheduling slack, without a panic or a crash.

mod common;

use std::os::unix::fs::FileExt;
use std::time::{Duration, Instant};

use common::{name, role, spawn, Cleanup};
use shmipc::{
    Array, Barrier, BoundedSemaphore, Condition, Event, JoinableQueue, Lock, MessageQueue, Queue,
    RLock, RawArray, RawValue, Semaphore, SharedMemory, Value,
};

/// The timeout every timed call gets.
const TICK: Duration = Duration::from_millis(2);
/// How long a call may take past its timeout before it counts as a hang.
const SLACK: Duration = Duration::from_secs(3);
/// How long each kind is exercised under fire.
const UNDER_FIRE: Duration = Duration::from_millis(400);

const KINDS: [&str; 17] = [
    "lock",
    "rlock",
    "semaphore",
    "bounded",
    "event",
    "condition",
    "barrier",
    "mpmc",
    "spsc",
    "joinable",
    "value",
    "array",
    "raw-value",
    "raw-array",
    "shared-memory",
    "message-queue",
    "pipe",
];

fn segment_path(label: &str) -> String {
    format!("/dev/shm/{}{}", shmipc::OS_PREFIX, name(label))
}

/// The scribbler: writes values into the segment until told to stop.
fn scribble(label: &str) {
    let file = std::fs::OpenOptions::new()
        .write(true)
        .read(true)
        .open(segment_path(label))
        .unwrap();
    let len = file.metadata().unwrap().len();
    let mut seed = 0x2545_f491_4f6c_dd1du64 ^ u64::from(std::process::id());
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    common::tell_parent("scribbling");
    let stop = std::thread::spawn(common::wait_for_parent);
    while !stop.is_finished() {
        // Mostly the payload (control words, positions, stamps, counts);
        // now and then the header, which only an `open` reads.
        let start = if next() % 16 == 0 { 0 } else { 128 };
        let span = len.saturating_sub(start).max(8);
        let at = (start + next() % span) & !7;
        let chosen = [0, 1, u64::MAX, u64::from(u32::MAX), 1 << 31, 1 << 63, 2, 3];
        let value = match next() % 3 {
            0 => chosen[(next() % 8) as usize],
            1 => next() % 64,
            _ => next(),
        };
        let bytes = value.to_ne_bytes();
        let width = if next() % 2 == 0 { 4 } else { 8 };
        let _ = file.write_at(&bytes[..width], at);
        if next() % 64 == 0 {
            std::thread::yield_now();
        }
    }
}

/// Runs `op` repeatedly for [`UNDER_FIRE`], checking that each call returns
/// within its timeout plus [`SLACK`]; returns how many calls were made.
fn under_fire(kind: &str, mut op: impl FnMut()) -> u64 {
    let end = Instant::now() + UNDER_FIRE;
    let mut calls = 0;
    while Instant::now() < end {
        let started = Instant::now();
        op();
        let took = started.elapsed();
        assert!(took < TICK + SLACK, "{kind}: a call took {took:?}");
        calls += 1;
    }
    calls
}

/// Exercises one kind of object with its timed and non-blocking calls.
fn exercise(kind: &str) -> u64 {
    let n = name(kind);
    match kind {
        "lock" => {
            let x = Lock::create(&n).unwrap();
            let peer = scribbler(kind);
            let calls = under_fire(kind, || {
                drop(x.try_acquire());
                drop(x.acquire_timeout(TICK));
                let _ = x.release_detached();
            });
            drop(peer);
            calls
        }
        "rlock" => {
            let x = RLock::create(&n).unwrap();
            let peer = scribbler(kind);
            let calls = under_fire(kind, || {
                drop(x.try_acquire());
                drop(x.acquire_timeout(TICK));
                let _ = x.depth();
            });
            drop(peer);
            calls
        }
        "semaphore" | "bounded" => {
            let plain;
            let bounded;
            let x: &Semaphore = if kind == "semaphore" {
                plain = Semaphore::create(&n, 1).unwrap();
                &plain
            } else {
                bounded = BoundedSemaphore::create(&n, 2).unwrap();
                &bounded
            };
            let peer = scribbler(kind);
            let calls = under_fire(kind, || {
                let _ = x.try_acquire();
                let _ = x.acquire_timeout(TICK);
                let _ = x.release();
                drop(x.try_acquire_guard());
                let _ = x.value();
            });
            drop(peer);
            calls
        }
        "event" => {
            let x = Event::create(&n).unwrap();
            let peer = scribbler(kind);
            let calls = under_fire(kind, || {
                x.set();
                let _ = x.wait_timeout(TICK);
                x.clear();
                let _ = x.wait_timeout(TICK);
                let _ = x.is_set();
            });
            drop(peer);
            calls
        }
        "condition" => {
            let x = Condition::<Lock>::create(&n).unwrap();
            let peer = scribbler(kind);
            let calls = under_fire(kind, || {
                if let Ok(guard) = x.get_lock().acquire_timeout(TICK) {
                    let _ = x.notify(&guard, 1);
                    drop(x.wait_timeout(guard, TICK));
                }
            });
            drop(peer);
            calls
        }
        "barrier" => {
            let x = Barrier::create(&n, 2).unwrap();
            let peer = scribbler(kind);
            let calls = under_fire(kind, || {
                let _ = x.wait_timeout(TICK);
                if x.is_broken() {
                    x.reset();
                }
                let _ = x.n_waiting();
            });
            drop(peer);
            calls
        }
        "mpmc" | "spsc" | "joinable" => {
            let joinable;
            let plain;
            let x: &Queue<u64> = match kind {
                "mpmc" => {
                    plain = Queue::create(&n, 8).unwrap();
                    &plain
                }
                "spsc" => {
                    plain = Queue::create_spsc(&n, 8).unwrap();
                    &plain
                }
                _ => {
                    joinable = JoinableQueue::create(&n, 8).unwrap();
                    &joinable
                }
            };
            let peer = scribbler(kind);
            let mut out = [0u64; 4];
            let calls = under_fire(kind, || {
                let _ = x.try_put(1);
                let _ = x.put_timeout(2, TICK);
                let _ = x.try_get();
                let _ = x.get_timeout(TICK);
                let _ = x.try_put_slice(&[3, 4]);
                let _ = x.get_slice_timeout(&mut out, TICK);
                let _ = x.len();
            });
            drop(peer);
            calls
        }
        "value" => {
            let x = Value::create(&n, 0u64).unwrap();
            let peer = scribbler(kind);
            let calls = under_fire(kind, || {
                if let Ok(mut v) = x.lock_timeout(TICK) {
                    *v = v.wrapping_add(1);
                }
            });
            drop(peer);
            calls
        }
        "array" => {
            let x = Array::<u32>::create(&n, 4).unwrap();
            let peer = scribbler(kind);
            let calls = under_fire(kind, || {
                if let Ok(mut a) = x.lock_timeout(TICK) {
                    a[1] = a[1].wrapping_add(1);
                }
            });
            drop(peer);
            calls
        }
        "raw-value" => {
            let x = RawValue::create(&n, 0u64).unwrap();
            let peer = scribbler(kind);
            let calls = under_fire(kind, || {
                x.fetch_add(1);
                let _ = x.load();
            });
            drop(peer);
            calls
        }
        "raw-array" => {
            let x = RawArray::<u32>::create(&n, 4).unwrap();
            let peer = scribbler(kind);
            let calls = under_fire(kind, || {
                let _ = x.fetch_add(2, 1);
                let _ = x.to_vec();
            });
            drop(peer);
            calls
        }
        "shared-memory" => {
            let x = SharedMemory::create(&n, 64).unwrap();
            let peer = scribbler(kind);
            let calls = under_fire(kind, || {
                x.write(60, b"mine").unwrap();
                let mut out = [0u8; 8];
                x.read(56, &mut out).unwrap();
                assert!(x.read(60, &mut out).is_err());
            });
            drop(peer);
            calls
        }
        "message-queue" => {
            let x = MessageQueue::create(&n, 1024).unwrap();
            let peer = scribbler(kind);
            let calls = under_fire(kind, || {
                let _ = x.put_bytes_timeout(b"mine", TICK);
                let _ = x.put_bytes_timeout(&[3; 600], TICK);
                let _ = x.get_bytes_timeout(TICK);
                let _ = x.try_get_bytes();
                if let Ok(loan) = x.get_loan_timeout(TICK) {
                    let _ = loan.to_vec();
                }
            });
            drop(peer);
            calls
        }
        "pipe" => {
            let (a, b) = shmipc::pipe(&n, true).unwrap();
            let peer = scribbler(kind);
            let calls = under_fire(kind, || {
                let _ = a.send_bytes_timeout(b"mine", TICK);
                let _ = b.recv_bytes_timeout(TICK);
                let _ = b.send_bytes_timeout(&[5; 40_000], TICK);
                let _ = a.recv_bytes_timeout(TICK);
                let _ = a.poll(Some(TICK));
            });
            drop(peer);
            calls
        }
        other => panic!("unknown kind {other}"),
    }
}

/// A scribbler process on the segment of `kind`, scribbling once this
/// returns; it stops when dropped.
fn scribbler(kind: &str) -> common::Proc {
    let mut peer = spawn(
        "a_hostile_peer_never_makes_a_call_panic_crash_or_pass_its_deadline",
        "scribbler",
        &[kind],
    );
    peer.expect_line("scribbling");
    peer
}

#[test]
fn a_hostile_peer_never_makes_a_call_panic_crash_or_pass_its_deadline() {
    if role().as_deref() == Some("scribbler") {
        return scribble(&common::args()[0]);
    }
    let _cleanup = Cleanup::new(&KINDS);
    for kind in KINDS {
        let calls = exercise(kind);
        assert!(calls > 0, "{kind}: no call made");
        eprintln!("{kind}: {calls} calls under fire");
    }
}
