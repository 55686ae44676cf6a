//! The cases of `shmipc bench`: what each measures in the parent
//! ([`measure`]) and what the peer process does meanwhile ([`answer`]).

use std::io::{Read, Write};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Instant;

use hdrhistogram::Histogram;

use super::world::{World, BIG_PAGE, LOAN};

mod table;

pub use table::{Id, Unit, CASES, POOL_IMAP, POOL_MAP, POOL_START};

/// Operations timed together for one sample of an [`Unit::Op`] case: a
/// clock read costs about what the cheapest of them do.
pub const BATCH: u64 = 100;

/// Times each of `iters` calls of `step` into `samples`.
fn each(iters: u64, samples: &mut Histogram<u64>, mut step: impl FnMut(u64)) {
    for i in 0..iters {
        let started = Instant::now();
        step(i);
        record(samples, started.elapsed().as_nanos() as u64);
    }
}

/// Times `iters` calls of `op` in batches of [`BATCH`]; each sample is a
/// batch's time per call.
fn batched(iters: u64, samples: &mut Histogram<u64>, mut op: impl FnMut()) {
    for _ in 0..iters.div_ceil(BATCH) {
        let started = Instant::now();
        for _ in 0..BATCH {
            op();
        }
        record(samples, started.elapsed().as_nanos() as u64 / BATCH);
    }
}

/// Times the whole of `receive` (which takes `iters` messages); one sample,
/// the time per message.
fn block(iters: u64, samples: &mut Histogram<u64>, receive: impl FnOnce()) {
    let started = Instant::now();
    receive();
    record(samples, started.elapsed().as_nanos() as u64 / iters.max(1));
}

fn record(samples: &mut Histogram<u64>, ns: u64) {
    samples.saturating_record(ns.max(1));
}

/// Buffers each process fills once, before any block, so that no block
/// pays for allocating or first touching them.
pub struct Buffers {
    big: Vec<u8>,
    loan: Vec<u8>,
    loan_other: Vec<u8>,
}

impl Buffers {
    pub fn new() -> Buffers {
        Buffers {
            big: vec![7; BIG_PAGE],
            loan: vec![3; LOAN],
            loan_other: vec![5; LOAN],
        }
    }
}

/// Where the parent's in-process peers (threads) run: the peer process's
/// cpu, idle while they do.
pub struct Cpus {
    pub peer: Option<usize>,
}

/// Runs the parent's side of case `i` for `iters` iterations.
pub fn measure(
    i: usize,
    w: &World,
    iters: u64,
    samples: &mut Histogram<u64>,
    b: &mut Buffers,
    cpus: &Cpus,
) {
    let id = CASES[i].id;
    // A one-way case's message: the front of the largest buffer.
    let bytes = match CASES[i].unit {
        Unit::Message(n) if n <= BIG_PAGE => n,
        _ => 0,
    };
    let message = &mut b.big[..bytes];
    let peer_cpu = cpus.peer;
    match id {
        Id::OneLine => {
            let line = w.word(0);
            let start = line.load(Ordering::Acquire);
            each(iters, samples, |k| {
                line.store(start + 2 * k + 1, Ordering::Release);
                spin_until(|| line.load(Ordering::Acquire) == start + 2 * k + 2);
            });
        }
        Id::TwoLines => {
            let (there, back) = (w.word(128), w.word(256));
            let start = there.load(Ordering::Acquire);
            each(iters, samples, |k| {
                there.store(start + k + 1, Ordering::Release);
                spin_until(|| back.load(Ordering::Acquire) == start + k + 1);
            });
        }
        Id::Futex => {
            let (there, back) = (w.futex_word(512), w.futex_word(640));
            let start = there.load(Ordering::Acquire);
            each(iters, samples, |k| {
                let v = start.wrapping_add(k as u32 + 1);
                there.store(v, Ordering::Release);
                futex_wake(there);
                futex_wait_for(back, v);
            });
        }
        Id::OsPipePing => {
            let (mut out, mut inp) = (&w.os_out, &w.os_in);
            let mut reply = [0u8; 8];
            each(iters, samples, |k| {
                out.write_all(&k.to_ne_bytes()).expect("pipe write");
                inp.read_exact(&mut reply).expect("pipe read");
            });
        }
        Id::UnixPing => {
            let mut s = &w.unix_ping;
            let mut reply = [0u8; 8];
            each(iters, samples, |k| {
                s.write_all(&k.to_ne_bytes()).expect("socket write");
                s.read_exact(&mut reply).expect("socket read");
            });
        }
        Id::OsPipe8 | Id::OsPipe4k | Id::OsPipe64k | Id::Unix8 | Id::Unix4k => {
            let mut inp = if matches!(id, Id::OsPipe8 | Id::OsPipe4k | Id::OsPipe64k) {
                &w.os_stream
            } else {
                &w.unix_stream
            };
            block(iters, samples, || {
                for _ in 0..iters {
                    inp.read_exact(message).expect("read");
                }
            });
        }
        Id::RtrbPing => {
            let (mut there, mut from_here) = rtrb::RingBuffer::<u64>::new(64);
            let (mut to_back, mut back) = rtrb::RingBuffer::<u64>::new(64);
            threads_ping_pong(
                iters,
                samples,
                peer_cpu,
                move || match from_here.pop() {
                    Ok(v) => {
                        spin_until(|| to_back.push(v).is_ok());
                        true
                    }
                    Err(_) => false,
                },
                |k| there.push(k).is_ok(),
                || back.pop().is_ok(),
            );
        }
        Id::ArrayQueuePing => {
            let queues = Arc::new((
                crossbeam_queue::ArrayQueue::<u64>::new(64),
                crossbeam_queue::ArrayQueue::<u64>::new(64),
            ));
            let q = queues.clone();
            threads_ping_pong(
                iters,
                samples,
                peer_cpu,
                move || match q.0.pop() {
                    Some(v) => {
                        spin_until(|| q.1.push(v).is_ok());
                        true
                    }
                    None => false,
                },
                |k| queues.0.push(k).is_ok(),
                || queues.1.pop().is_some(),
            );
        }
        Id::RtrbOneWay => {
            let (mut tx, mut rx) = rtrb::RingBuffer::<u64>::new(4096);
            threads_one_way(
                iters,
                samples,
                peer_cpu,
                move |k| tx.push(k).is_ok(),
                || rx.pop().is_ok(),
            );
        }
        Id::ArrayQueueOneWay => {
            let q = Arc::new(crossbeam_queue::ArrayQueue::<u64>::new(4096));
            let tx = q.clone();
            threads_one_way(
                iters,
                samples,
                peer_cpu,
                move |k| tx.push(k).is_ok(),
                || q.pop().is_some(),
            );
        }
        Id::Mutex => {
            let m = parking_lot::Mutex::new(0u64);
            batched(iters, samples, || *m.lock() += 1);
            std::hint::black_box(m);
        }
        Id::Lock | Id::LockContended => {
            batched_or_each(id, iters, samples, || drop(w.lock.acquire()));
        }
        Id::ValueIncrements => {
            batched(iters, samples, || {
                if let Ok(mut v) = w.value.lock() {
                    *v += 1;
                }
            });
        }
        Id::Semaphore => each(iters, samples, |_| {
            w.sems[0].release().expect("release");
            w.sems[1].acquire();
        }),
        Id::Event => each(iters, samples, |_| {
            w.events[0].set();
            w.events[1].wait();
            w.events[1].clear();
        }),
        Id::Barrier => each(iters, samples, |_| {
            w.barrier.wait().expect("barrier");
        }),
        Id::SpscPing | Id::MpmcPing => {
            let q = if id == Id::SpscPing { &w.spsc } else { &w.mpmc };
            each(iters, samples, |k| {
                q[0].put(k).expect("put");
                q[1].get().expect("get");
            });
        }
        Id::SpscOneWay | Id::MpmcOneWay => {
            let q = if id == Id::SpscOneWay {
                &w.spsc_stream
            } else {
                &w.mpmc_stream
            };
            block(iters, samples, || {
                for _ in 0..iters {
                    q.get().expect("get");
                }
            });
        }
        Id::MqPing => {
            let mut reply = [0u8; 8];
            each(iters, samples, |k| {
                w.mq[0].put_bytes(&k.to_ne_bytes()).expect("put");
                w.mq[1].get_bytes_into(&mut reply).expect("get");
            });
        }
        Id::Mq8 | Id::Mq4k | Id::Mq64k => {
            block(iters, samples, || {
                for _ in 0..iters {
                    w.mq_stream.get_bytes_into(message).expect("get");
                }
            });
        }
        Id::PipePing => {
            let mut reply = [0u8; 8];
            each(iters, samples, |k| {
                w.ping.send_bytes(&k.to_ne_bytes()).expect("send");
                w.ping.recv_bytes_into(&mut reply).expect("recv");
            });
        }
        Id::Pipe8 | Id::Pipe4k | Id::Pipe64k => {
            block(iters, samples, || {
                for _ in 0..iters {
                    w.stream.recv_bytes_into(message).expect("recv");
                }
            });
        }
        Id::Loans => {
            let into = &mut b.loan;
            block(iters, samples, || {
                for _ in 0..iters {
                    let loan = w.mq_big.get_loan().expect("loan");
                    loan.read(0, into).expect("read");
                }
            });
        }
        Id::Memcpy => {
            let (from, into) = (&b.loan_other, &mut b.loan);
            block(iters, samples, || {
                for _ in 0..iters {
                    into.copy_from_slice(std::hint::black_box(from));
                }
            });
            std::hint::black_box(into);
        }
        Id::PoolStart => each(iters, samples, |_| {
            let pool = unpinned(|| shmipc::Pool::new(2)).expect("pool");
            pool.apply(double, 1).expect("first result");
        }),
        Id::PoolImap | Id::PoolMap => {
            let pool = unpinned(|| shmipc::Pool::new(2)).expect("pool");
            // Warm: both workers up before the clock starts.
            pool.map_chunked(double, 0..2, 1).expect("warm-up");
            block(iters, samples, || {
                if id == Id::PoolImap {
                    for r in pool.imap(double, 0..iters).expect("imap") {
                        r.expect("item");
                    }
                } else {
                    pool.map(double, 0..iters).expect("map");
                }
            });
        }
    }
}

/// A ping-pong between this thread and one on `cpu`: `echo` takes one
/// item and sends it back if there is one; `send` and `recv` are this
/// side's tries. Each round trip is a sample.
fn threads_ping_pong(
    iters: u64,
    samples: &mut Histogram<u64>,
    cpu: Option<usize>,
    mut echo: impl FnMut() -> bool + Send + 'static,
    mut send: impl FnMut(u64) -> bool,
    mut recv: impl FnMut() -> bool,
) {
    let echoer = std::thread::spawn(move || {
        super::pin_thread(cpu);
        for _ in 0..iters {
            spin_until(&mut echo);
        }
    });
    each(iters, samples, |k| {
        spin_until(|| send(k));
        spin_until(&mut recv);
    });
    echoer.join().expect("echo thread");
}

/// A one-way stream from a thread on `cpu` (`push` tries to send an item)
/// to this one (`pop` tries to take one), timed by the block.
fn threads_one_way(
    iters: u64,
    samples: &mut Histogram<u64>,
    cpu: Option<usize>,
    mut push: impl FnMut(u64) -> bool + Send + 'static,
    mut pop: impl FnMut() -> bool,
) {
    let sender = std::thread::spawn(move || {
        super::pin_thread(cpu);
        for k in 0..iters {
            spin_until(|| push(k));
        }
    });
    block(iters, samples, || {
        for _ in 0..iters {
            spin_until(&mut pop);
        }
    });
    sender.join().expect("sender thread");
}

/// The pool's task in its cases: as trivial as Python's.
fn double(x: u64) -> u64 {
    x * 2
}

/// `f` run on a thread that may use every cpu, so that the processes it
/// starts are not held to this pinned thread's.
fn unpinned<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|s| {
        s.spawn(|| {
            super::unpin_thread();
            f()
        })
        .join()
        .expect("unpinned thread")
    })
}

/// An uncontended lock is timed in batches; a contended one call by call.
fn batched_or_each(id: Id, iters: u64, samples: &mut Histogram<u64>, mut op: impl FnMut()) {
    if id == Id::LockContended {
        each(iters, samples, |_| op());
    } else {
        batched(iters, samples, op);
    }
}

/// Runs the peer's side of case `i` for `iters` iterations.
pub fn answer(i: usize, w: &World, iters: u64, b: &Buffers) {
    let id = CASES[i].id;
    let bytes = match CASES[i].unit {
        Unit::Message(n) if n <= BIG_PAGE => n,
        _ => 0,
    };
    let message = &b.big[..bytes];
    match id {
        Id::OneLine => {
            let line = w.word(0);
            // Between blocks the line is even; the parent may already have
            // made it odd (its first ping) before this side looks.
            let start = line.load(Ordering::Acquire) & !1;
            for k in 0..iters {
                spin_until(|| line.load(Ordering::Acquire) == start + 2 * k + 1);
                line.store(start + 2 * k + 2, Ordering::Release);
            }
        }
        Id::TwoLines => {
            let (there, back) = (w.word(128), w.word(256));
            let start = back.load(Ordering::Acquire);
            for k in 0..iters {
                spin_until(|| there.load(Ordering::Acquire) == start + k + 1);
                back.store(start + k + 1, Ordering::Release);
            }
        }
        Id::Futex => {
            let (there, back) = (w.futex_word(512), w.futex_word(640));
            let start = back.load(Ordering::Acquire);
            for k in 0..iters {
                let v = start.wrapping_add(k as u32 + 1);
                futex_wait_for(there, v);
                back.store(v, Ordering::Release);
                futex_wake(back);
            }
        }
        Id::OsPipePing => {
            let (mut out, mut inp) = (&w.os_out, &w.os_in);
            let mut ping = [0u8; 8];
            for _ in 0..iters {
                inp.read_exact(&mut ping).expect("pipe read");
                out.write_all(&ping).expect("pipe write");
            }
        }
        Id::UnixPing => {
            let mut s = &w.unix_ping;
            let mut ping = [0u8; 8];
            for _ in 0..iters {
                s.read_exact(&mut ping).expect("socket read");
                s.write_all(&ping).expect("socket write");
            }
        }
        Id::OsPipe8 | Id::OsPipe4k | Id::OsPipe64k | Id::Unix8 | Id::Unix4k => {
            let mut out = if matches!(id, Id::OsPipe8 | Id::OsPipe4k | Id::OsPipe64k) {
                &w.os_stream
            } else {
                &w.unix_stream
            };
            for _ in 0..iters {
                out.write_all(message).expect("write");
            }
        }
        Id::LockContended => {
            for _ in 0..iters {
                drop(w.lock.acquire());
            }
        }
        Id::Semaphore => {
            for _ in 0..iters {
                w.sems[0].acquire();
                w.sems[1].release().expect("release");
            }
        }
        Id::Event => {
            for _ in 0..iters {
                w.events[0].wait();
                w.events[0].clear();
                w.events[1].set();
            }
        }
        Id::Barrier => {
            for _ in 0..iters {
                w.barrier.wait().expect("barrier");
            }
        }
        Id::SpscPing | Id::MpmcPing => {
            let q = if id == Id::SpscPing { &w.spsc } else { &w.mpmc };
            for _ in 0..iters {
                let v = q[0].get().expect("get");
                q[1].put(v).expect("put");
            }
        }
        Id::SpscOneWay | Id::MpmcOneWay => {
            let q = if id == Id::SpscOneWay {
                &w.spsc_stream
            } else {
                &w.mpmc_stream
            };
            for k in 0..iters {
                q.put(k).expect("put");
            }
        }
        Id::MqPing => {
            let mut ping = [0u8; 8];
            for _ in 0..iters {
                w.mq[0].get_bytes_into(&mut ping).expect("get");
                w.mq[1].put_bytes(&ping).expect("put");
            }
        }
        Id::Mq8 | Id::Mq4k | Id::Mq64k => {
            for _ in 0..iters {
                w.mq_stream.put_bytes(message).expect("put");
            }
        }
        Id::PipePing => {
            let mut ping = [0u8; 8];
            for _ in 0..iters {
                w.ping.recv_bytes_into(&mut ping).expect("recv");
                w.ping.send_bytes(&ping).expect("send");
            }
        }
        Id::Pipe8 | Id::Pipe4k | Id::Pipe64k => {
            for _ in 0..iters {
                w.stream.send_bytes(message).expect("send");
            }
        }
        Id::Loans => {
            for _ in 0..iters {
                let mut loan = w.mq_big.reserve(LOAN).expect("reserve");
                loan.write(0, &b.loan).expect("write");
                loan.publish();
            }
        }
        // These run in the parent alone (threads, one process, a pool).
        Id::Mutex
        | Id::Lock
        | Id::ValueIncrements
        | Id::RtrbPing
        | Id::ArrayQueuePing
        | Id::RtrbOneWay
        | Id::ArrayQueueOneWay
        | Id::Memcpy
        | Id::PoolStart
        | Id::PoolImap
        | Id::PoolMap => {}
    }
}

/// Waits until `word` holds `v`, sleeping on it in the kernel.
fn futex_wait_for(word: &AtomicU32, v: u32) {
    loop {
        let now = word.load(Ordering::Acquire);
        if now == v {
            return;
        }
        // SAFETY: `word` is a valid, aligned u32 for the call; FUTEX_WAIT
        // (shared: the word is in a mapping of two processes) returns when
        // woken, on a spurious wake-up, or at once if the word moved on.
        unsafe {
            libc::syscall(
                libc::SYS_futex,
                word.as_ptr(),
                libc::FUTEX_WAIT,
                now,
                std::ptr::null::<libc::timespec>(),
            );
        }
    }
}

/// Wakes a waiter of `word`.
fn futex_wake(word: &AtomicU32) {
    // SAFETY: as for `futex_wait_for`; FUTEX_WAKE only reads the address.
    unsafe {
        libc::syscall(libc::SYS_futex, word.as_ptr(), libc::FUTEX_WAKE, 1);
    }
}

/// Spins until `done` says so. Past [`SPINS`] tries it yields the cpu on
/// each try: where the two sides share a cpu (one available, or a host
/// that runs both vCPUs on one thread), a pure spin would hold the cpu for
/// a whole time slice per hand-off, and a quick run would take hours.
fn spin_until(mut done: impl FnMut() -> bool) {
    for _ in 0..SPINS {
        if done() {
            return;
        }
        std::hint::spin_loop();
    }
    while !done() {
        std::thread::yield_now();
    }
}

/// Tries before [`spin_until`] yields: about 30 µs of pauses, far above a
/// round trip between two cores, so a floor is never measured yielding.
const SPINS: u32 = 1 << 10;
