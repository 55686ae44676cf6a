//! The check the `open` fuzz target runs, kept in the library so that the
//! test suite replays its corpus through exactly the same code (see
//! `tests/fuzz_corpus.rs` in the `shmipc` package).
//!
//! Built only with the `fuzzing` feature; not part of the public API.

use std::os::unix::fs::FileExt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use crate::{
    Array, Barrier, BoundedSemaphore, Condition, Connection, Event, JoinableQueue, Lock,
    MessageQueue, Queue, RLock, RawArray, RawValue, Semaphore, SharedMemory, Value,
};

/// The object kinds [`open_bytes`] opens, by the index its first byte picks.
pub const KINDS: [&str; 17] = [
    "lock",
    "rlock",
    "semaphore",
    "bounded-semaphore",
    "event",
    "condition",
    "condition-rlock",
    "barrier",
    "queue",
    "joinable-queue",
    "value",
    "array",
    "raw-value",
    "raw-array",
    "shared-memory",
    "message-queue",
    "pipe",
];

/// The largest file the target makes: past every fixed layout, and small
/// enough to keep the fuzzer fast.
const MAX_FILE: u64 = 1 << 16;

/// How long a timed call may wait: short, so that the fuzzer stays fast.
const TICK: Duration = Duration::from_micros(200);

/// How long any one call may take before it counts as an unbounded wait or
/// spin: generous, for a loaded machine.
const BOUND: Duration = Duration::from_secs(2);

/// Writes a segment file from fuzzed bytes, opens it as one kind of object
/// and, if that succeeds, runs the object's non-blocking and timed calls.
/// Panics (a finding) if any call panics or takes longer than two seconds;
/// errors are the expected answer to most inputs.
///
/// Input: byte 0 picks the kind ([`KINDS`]), bytes 1..5 the file length
/// (little-endian, modulo 64 KiB + 1), the rest is the file's content from
/// offset 0 (cut at the length; zeros after it).
pub fn open_bytes(data: &[u8]) {
    open_opens(data);
}

/// [`open_bytes`], telling whether the object opened. The corpus replay
/// uses it to check that the seeds taken from real segments still open.
pub fn open_opens(data: &[u8]) -> bool {
    let Some((&kind, rest)) = data.split_first() else {
        return false;
    };
    let (len, content) = match rest.split_first_chunk::<4>() {
        Some((len, content)) => (
            u64::from(u32::from_le_bytes(*len)) % (MAX_FILE + 1),
            content,
        ),
        None => (rest.len() as u64, rest),
    };
    let segment = Scratch::new(len, content);
    exercise(KINDS[kind as usize % KINDS.len()], &segment.name)
}

/// The bytes of a real, freshly created segment of `kind`, as an input for
/// [`open_bytes`]: the seeds of the corpus.
pub fn seed(kind: &str) -> Vec<u8> {
    let index = KINDS
        .iter()
        .position(|k| *k == kind)
        .unwrap_or_else(|| panic!("unknown kind {kind}"));
    let name = scratch_name();
    let path = path_of(&name);
    let keep = Remove(path.clone());
    let object = create(kind, &name);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    drop(object);
    drop(keep);
    let mut out = vec![index as u8];
    out.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
    out.extend_from_slice(&bytes);
    out
}

/// A fresh object of `kind`, kept alive by the caller while its segment is
/// read (the creator's handle unlinks on drop).
fn create(kind: &str, name: &str) -> Box<dyn std::any::Any> {
    fn boxed<T: 'static>(x: T) -> Box<dyn std::any::Any> {
        Box::new(x)
    }
    let made = match kind {
        "lock" => Lock::create(name).map(boxed),
        "rlock" => RLock::create(name).map(boxed),
        "semaphore" => Semaphore::create(name, 1).map(boxed),
        "bounded-semaphore" => BoundedSemaphore::create(name, 2).map(boxed),
        "event" => Event::create(name).map(boxed),
        "condition" => Condition::<Lock>::create(name).map(boxed),
        "condition-rlock" => Condition::<RLock>::create(name).map(boxed),
        "barrier" => Barrier::create(name, 2).map(boxed),
        "queue" => Queue::<u64>::create(name, 8).map(boxed),
        "joinable-queue" => JoinableQueue::<u64>::create(name, 8).map(boxed),
        "value" => Value::create(name, 7u64).map(boxed),
        "array" => Array::<u32>::create(name, 4).map(boxed),
        "raw-value" => RawValue::create(name, 7u64).map(boxed),
        "raw-array" => RawArray::<u32>::create(name, 4).map(boxed),
        "shared-memory" => SharedMemory::create(name, 64).map(boxed),
        "message-queue" => MessageQueue::create(name, 256).map(boxed),
        "pipe" => Connection::create_with(name, true, 256, &crate::Options::new()).map(boxed),
        other => panic!("unknown kind {other}"),
    };
    made.unwrap_or_else(|e| panic!("creating a {kind} seed: {e}"))
}

/// Opens `name` as `kind` and runs its calls, each under [`BOUND`];
/// whether it opened.
fn exercise(kind: &str, name: &str) -> bool {
    let mut opened = false;
    match kind {
        "lock" => {
            if let Ok(x) = Lock::open(name) {
                opened = true;
                bounded(kind, || {
                    let _ = x.try_acquire();
                });
                bounded(kind, || {
                    let _ = x.acquire_timeout(TICK);
                });
                bounded(kind, || {
                    let _ = x.release_detached();
                });
                bounded(kind, || {
                    let _ = (x.is_locked(), x.holder_pid());
                });
            }
        }
        "rlock" => {
            if let Ok(x) = RLock::open(name) {
                opened = true;
                bounded(kind, || {
                    if let Ok(outer) = x.acquire_timeout(TICK) {
                        drop(x.try_acquire());
                        drop(outer);
                    }
                });
                bounded(kind, || {
                    let _ = (x.depth(), x.holder_pid());
                });
            }
        }
        "semaphore" | "bounded-semaphore" => {
            let plain;
            let bounded_sem;
            let x: &Semaphore = if kind == "semaphore" {
                let Ok(s) = Semaphore::open(name) else {
                    return false;
                };
                opened = true;
                plain = s;
                &plain
            } else {
                let Ok(s) = BoundedSemaphore::open(name) else {
                    return false;
                };
                opened = true;
                bounded_sem = s;
                &bounded_sem
            };
            bounded(kind, || {
                let _ = x.try_acquire();
            });
            bounded(kind, || {
                let _ = x.acquire_timeout(TICK);
            });
            bounded(kind, || {
                let _ = x.release();
            });
            bounded(kind, || {
                let _ = x.try_acquire_guard();
            });
            bounded(kind, || {
                let _ = x.value();
            });
        }
        "event" => {
            if let Ok(x) = Event::open(name) {
                opened = true;
                bounded(kind, || {
                    let _ = x.wait_timeout(TICK);
                });
                bounded(kind, || x.set());
                bounded(kind, || {
                    let _ = x.wait_timeout(TICK);
                });
                bounded(kind, || x.clear());
                bounded(kind, || {
                    let _ = x.is_set();
                });
            }
        }
        "condition" => {
            if let Ok(x) = Condition::<Lock>::open(name) {
                opened = true;
                bounded(kind, || {
                    if let Ok(guard) = x.get_lock().acquire_timeout(TICK) {
                        let _ = x.notify(&guard, 1);
                        drop(x.wait_timeout(guard, TICK));
                    }
                });
                bounded(kind, || {
                    let _ = x.n_waiting();
                });
            }
        }
        "condition-rlock" => {
            if let Ok(x) = Condition::<RLock>::open(name) {
                opened = true;
                bounded(kind, || {
                    if let Ok(guard) = x.get_lock().acquire_timeout(TICK) {
                        let _ = x.notify_all(&guard);
                        drop(x.wait_timeout(guard, TICK));
                    }
                });
            }
        }
        "barrier" => {
            if let Ok(x) = Barrier::open(name) {
                opened = true;
                bounded(kind, || {
                    let _ = x.wait_timeout(TICK);
                });
                bounded(kind, || {
                    let _ = (x.is_broken(), x.n_waiting(), x.parties());
                });
                bounded(kind, || x.reset());
                bounded(kind, || {
                    let _ = x.wait_timeout(TICK);
                });
                bounded(kind, || x.abort());
            }
        }
        "queue" | "joinable-queue" => {
            let plain;
            let joinable;
            let x: &Queue<u64> = if kind == "queue" {
                let Ok(q) = Queue::open(name) else {
                    return false;
                };
                opened = true;
                plain = q;
                &plain
            } else {
                let Ok(q) = JoinableQueue::open(name) else {
                    return false;
                };
                opened = true;
                joinable = q;
                bounded(kind, || {
                    let _ = joinable.task_done();
                });
                bounded(kind, || {
                    let _ = joinable.join_timeout(TICK);
                });
                &joinable
            };
            let mut out = [0u64; 4];
            bounded(kind, || {
                let _ = x.try_put(1);
            });
            bounded(kind, || {
                let _ = x.put_timeout(2, TICK);
            });
            bounded(kind, || {
                let _ = x.try_get();
            });
            bounded(kind, || {
                let _ = x.get_timeout(TICK);
            });
            bounded(kind, || {
                let _ = x.try_put_slice(&[3, 4]);
            });
            bounded(kind, || {
                let _ = x.get_slice_timeout(&mut out, TICK);
            });
            bounded(kind, || {
                let _ = (x.len(), x.is_empty(), x.is_full(), x.is_closed());
            });
            bounded(kind, || x.close());
            bounded(kind, || {
                let _ = x.try_get();
            });
        }
        "value" => {
            if let Ok(x) = Value::<u64>::open(name) {
                opened = true;
                bounded(kind, || {
                    if let Ok(mut v) = x.lock_timeout(TICK) {
                        *v = v.wrapping_add(1);
                    }
                });
                bounded(kind, || {
                    let _ = x.try_lock();
                });
            }
        }
        "array" => {
            if let Ok(x) = Array::<u32>::open(name) {
                opened = true;
                bounded(kind, || {
                    if let Ok(mut a) = x.lock_timeout(TICK) {
                        if let Some(first) = a.first_mut() {
                            *first = first.wrapping_add(1);
                        }
                    }
                });
                bounded(kind, || {
                    let _ = x.len();
                });
            }
        }
        "raw-value" => {
            if let Ok(x) = RawValue::<u64>::open(name) {
                opened = true;
                bounded(kind, || {
                    let _ = x.fetch_add(1);
                });
                bounded(kind, || {
                    let _ = x.load();
                });
            }
        }
        "raw-array" => {
            if let Ok(x) = RawArray::<u32>::open(name) {
                opened = true;
                bounded(kind, || {
                    let _ = x.fetch_add(0, 1);
                });
                bounded(kind, || {
                    let _ = x.to_vec();
                });
            }
        }
        "shared-memory" => {
            if let Ok(x) = SharedMemory::open(name) {
                opened = true;
                bounded(kind, || {
                    let _ = x.write(x.size().saturating_sub(4), b"fuzz");
                    let mut out = [0u8; 8];
                    let _ = x.read(x.size().saturating_sub(8), &mut out);
                    let _ = x.to_vec();
                });
            }
        }
        "message-queue" => {
            if let Ok(x) = MessageQueue::open(name) {
                opened = true;
                bounded(kind, || {
                    let _ = x.put_bytes_timeout(b"fuzz", TICK);
                    // Longer than a quarter of the ring: streamed in parts.
                    let _ = x.put_bytes_timeout(&[7; 300], TICK);
                });
                bounded(kind, || {
                    let _ = x.get_bytes_timeout(TICK);
                    let mut out = [0u8; 64];
                    let _ = x.get_bytes_into_timeout(&mut out, TICK);
                    let _ = x.try_get_bytes();
                });
                bounded(kind, || {
                    if let Ok(mut loan) = x.reserve_timeout(16, TICK) {
                        let _ = loan.write(3, b"in place");
                        loan.publish();
                    }
                    if let Ok(loan) = x.get_loan_timeout(TICK) {
                        let _ = loan.to_vec();
                    }
                });
            }
        }
        "pipe" => {
            if let Ok(x) = Connection::open(name) {
                opened = true;
                bounded(kind, || {
                    let _ = x.send_bytes_timeout(b"fuzz", TICK);
                    let _ = x.recv_bytes_timeout(TICK);
                    let _ = x.poll(Some(Duration::ZERO));
                });
            }
        }
        other => panic!("unknown kind {other}"),
    }
    opened
}

/// Runs one call and checks that it returned within [`BOUND`].
fn bounded(kind: &str, call: impl FnOnce()) {
    let started = Instant::now();
    call();
    let took = started.elapsed();
    assert!(took < BOUND, "{kind}: a call took {took:?}");
}

/// A unique segment name for this process.
fn scratch_name() -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    format!(
        "fuzz-open-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

fn path_of(name: &str) -> PathBuf {
    PathBuf::from(format!("/dev/shm/{}{name}", crate::OS_PREFIX))
}

/// A segment file written from fuzzed bytes, removed when dropped (also
/// when a finding unwinds).
struct Scratch {
    name: String,
    _remove: Remove,
}

impl Scratch {
    fn new(len: u64, content: &[u8]) -> Scratch {
        let name = scratch_name();
        let path = path_of(&name);
        let remove = Remove(path.clone());
        let file = std::fs::File::create(&path)
            .unwrap_or_else(|e| panic!("creating {}: {e}", path.display()));
        let cut = content.len().min(len as usize);
        file.write_all_at(&content[..cut], 0)
            .and_then(|()| file.set_len(len))
            .unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
        Scratch {
            name,
            _remove: remove,
        }
    }
}

struct Remove(PathBuf);

impl Drop for Remove {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}
