//! Queue benchmarks, each next to baselines measured in the same run.
//!
//! - `queue/round-trip`: one item there and one back between two processes:
//!   the cache-line floor (one line bounced), the two-queue floor (one line
//!   per direction), a pipe, `Queue<u64>` SPSC and MPMC; rtrb and crossbeam's
//!   `ArrayQueue` between two threads of one process.
//! - `queue/one-way`: items per second from one process to another: `Queue<u64>`
//!   SPSC single and batched (256), MPMC, MPMC with `task_done` (JoinableQueue);
//!   rtrb and `ArrayQueue` between threads.
//! - `queue/one-side`: each side of the SPSC stream alone (put into a ring the
//!   other thread drained, get from one it filled), and rtrb's push and pop
//!   the same way: which side is slower decides how a free-running stream runs.
//!
//! `cargo bench -p shmipc-benches --bench queue` (add `-- --quick` for a fast pass). On a
//! shared host the round-trip ratios move with where the two processes
//! run; `benches/paired.rs` times them in blocks alternating with their
//! floors instead.

use std::hint::black_box;
use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput};
use shmipc::{Consumer, JoinableQueue, Producer, Queue};

mod common;
use common::{
    bench_cache_line, bench_two_lines, cache_line_child, child_loop, child_spec, two_lines_child,
    TwoProcesses,
};

const CHILD_ENV: &str = "SHMIPC_QUEUE_BENCH_CHILD";
const CAPACITY: u64 = 4096;
const BATCH: usize = 256;

fn seg(scope: u32, what: &str) -> String {
    format!("bench-{scope}-{what}")
}

/// Spins until `take` gives an item, and returns it. Every consumer here
/// uses what it takes: rtrb's `pop` with its item discarded compiles to no
/// read of the slot at all, so its consumer would never fetch a slot line.
fn spin_for<T>(mut take: impl FnMut() -> Option<T>) -> T {
    loop {
        if let Some(v) = take() {
            return v;
        }
        std::hint::spin_loop();
    }
}

/// Moves all of `items` into `q`, batch by batch.
fn put_all(q: &Producer<u64>, items: &[u64]) {
    let mut sent = 0;
    while sent < items.len() {
        sent += q.try_put_slice(&items[sent..]).unwrap();
        if sent < items.len() {
            std::hint::spin_loop();
        }
    }
}

/// Takes exactly `buf.len()` items from `q`.
fn get_all(q: &Consumer<u64>, buf: &mut [u64]) {
    let mut got = 0;
    while got < buf.len() {
        got += q.try_get_slice(&mut buf[got..]).unwrap();
        if got < buf.len() {
            std::hint::spin_loop();
        }
    }
}

fn child(role: &str, ctl: &str, iters: u64) {
    let (what, scope) = role.split_once(':').expect("role:scope");
    let scope: u32 = scope.parse().expect("scope");
    match what {
        "line" => cache_line_child(scope, ctl, iters),
        "lines" => two_lines_child(scope, ctl, iters),
        "spsc-rt" | "mpmc-rt" | "spsc-try-rt" => {
            let open =
                |end: &str| Queue::<u64>::open(&seg(scope, &format!("{what}-{end}"))).unwrap();
            let (there, back) = (
                open("there").consumer().unwrap(),
                open("back").producer().unwrap(),
            );
            if what == "spsc-try-rt" {
                child_loop(ctl, iters, || {
                    let v = spin_for(|| there.try_get().ok());
                    back.put(v).unwrap();
                });
            } else {
                child_loop(ctl, iters, || {
                    let v = there.get().unwrap();
                    back.put(v).unwrap();
                });
            }
        }
        "spsc-1way" | "mpmc-1way" => {
            let q = Queue::<u64>::open(&seg(scope, what))
                .unwrap()
                .producer()
                .unwrap();
            let mut i = 0;
            child_loop(ctl, iters, || {
                q.put(i).unwrap();
                i += 1;
            });
        }
        "joinable-1way" => {
            let q = JoinableQueue::<u64>::open(&seg(scope, what)).unwrap();
            let mut i = 0;
            child_loop(ctl, iters, || {
                q.put(i).unwrap();
                i += 1;
            });
        }
        "spsc-batch" => {
            let q = Queue::<u64>::open(&seg(scope, what))
                .unwrap()
                .producer()
                .unwrap();
            let items: Vec<u64> = (0..BATCH as u64).collect();
            child_loop(ctl, iters, || put_all(&q, &items));
        }
        other => panic!("unknown role {other}"),
    }
}

/// A child that echoes 8-byte messages from stdin to stdout: the pipe baseline.
fn pipe_echo() {
    let mut buf = [0u8; 8];
    let (mut input, mut output) = (std::io::stdin().lock(), std::io::stdout().lock());
    while input.read_exact(&mut buf).is_ok() {
        if output
            .write_all(&buf)
            .and_then(|()| output.flush())
            .is_err()
        {
            break;
        }
    }
}

fn round_trips(c: &mut Criterion) {
    let scope = std::process::id();
    let pair = TwoProcesses::new(CHILD_ENV);
    let mut g = c.benchmark_group("queue/round-trip");
    g.throughput(Throughput::Elements(1));
    g.sample_size(20);
    g.measurement_time(Duration::from_secs(4));

    bench_cache_line(&mut g, &pair);
    bench_two_lines(&mut g, &pair);

    let mut echo = Command::new(std::env::current_exe().unwrap())
        .env(CHILD_ENV, "pipe-echo")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let (mut to, mut from) = (echo.stdin.take().unwrap(), echo.stdout.take().unwrap());
    g.bench_function("pipe ping-pong, 8 bytes", |b| {
        b.iter_custom(|iters| {
            let mut buf = [0u8; 8];
            let started = Instant::now();
            for i in 0..iters {
                to.write_all(&i.to_ne_bytes()).unwrap();
                from.read_exact(&mut buf).unwrap();
            }
            started.elapsed()
        })
    });
    drop(to);
    let _ = echo.wait();

    for (what, spsc) in [("spsc-rt", true), ("mpmc-rt", false), ("spsc-try-rt", true)] {
        let make = |suffix: &str| {
            let n = seg(scope, &format!("{what}-{suffix}"));
            if spsc {
                Queue::<u64>::create_spsc(&n, CAPACITY).unwrap()
            } else {
                Queue::<u64>::create(&n, CAPACITY).unwrap()
            }
        };
        let (there_q, back_q) = (make("there"), make("back"));
        let (there, back) = (there_q.producer().unwrap(), back_q.consumer().unwrap());
        let label = match what {
            "spsc-rt" => "shmipc Queue<u64> SPSC ping-pong",
            "mpmc-rt" => "shmipc Queue<u64> MPMC ping-pong",
            // Both sides poll with try_get: a miss must cost no more than a
            // hit, or this row falls behind the SPSC one.
            _ => "shmipc Queue<u64> SPSC ping-pong polling try_get",
        };
        let polls = what == "spsc-try-rt";
        g.bench_function(label, |b| {
            b.iter_custom(|iters| {
                let mut i = 0;
                pair.run(&format!("{what}:{scope}"), iters, || {
                    there.put(i).unwrap();
                    let v = if polls {
                        spin_for(|| back.try_get().ok())
                    } else {
                        back.get().unwrap()
                    };
                    assert_eq!(v, i);
                    i += 1;
                })
            })
        });
        drop((there, back, there_q, back_q));
    }

    g.bench_function("rtrb ping-pong (threads, in-process)", |b| {
        b.iter_custom(|iters| {
            let (mut tx, mut rx_peer) = rtrb::RingBuffer::<u64>::new(CAPACITY as usize);
            let (mut tx_peer, mut rx) = rtrb::RingBuffer::<u64>::new(CAPACITY as usize);
            std::thread::scope(|s| {
                s.spawn(move || {
                    for _ in 0..iters {
                        let v = spin_for(|| rx_peer.pop().ok());
                        while tx_peer.push(v).is_err() {}
                    }
                });
                let started = Instant::now();
                for i in 0..iters {
                    while tx.push(i).is_err() {}
                    let v = spin_for(|| rx.pop().ok());
                    assert_eq!(v, i);
                }
                started.elapsed()
            })
        })
    });

    g.bench_function(
        "crossbeam ArrayQueue ping-pong (threads, in-process)",
        |b| {
            b.iter_custom(|iters| {
                let there = crossbeam_queue::ArrayQueue::<u64>::new(CAPACITY as usize);
                let back = crossbeam_queue::ArrayQueue::<u64>::new(CAPACITY as usize);
                std::thread::scope(|s| {
                    s.spawn(|| {
                        for _ in 0..iters {
                            let v = spin_for(|| there.pop());
                            while back.push(v).is_err() {}
                        }
                    });
                    let started = Instant::now();
                    for i in 0..iters {
                        while there.push(i).is_err() {}
                        let v = spin_for(|| back.pop());
                        assert_eq!(v, i);
                    }
                    started.elapsed()
                })
            })
        },
    );
    g.finish();
}

fn one_way(c: &mut Criterion) {
    let scope = std::process::id();
    let pair = TwoProcesses::new(CHILD_ENV);
    let mut g = c.benchmark_group("queue/one-way");
    g.throughput(Throughput::Elements(1));
    g.sample_size(20);
    g.measurement_time(Duration::from_secs(4));

    for (what, label) in [
        ("spsc-1way", "shmipc Queue<u64> SPSC put/get"),
        ("mpmc-1way", "shmipc Queue<u64> MPMC put/get"),
    ] {
        let queue = if what.starts_with("spsc") {
            Queue::<u64>::create_spsc(&seg(scope, what), CAPACITY).unwrap()
        } else {
            Queue::<u64>::create(&seg(scope, what), CAPACITY).unwrap()
        };
        let q = queue.consumer().unwrap();
        g.bench_function(label, |b| {
            b.iter_custom(|iters| {
                pair.run(&format!("{what}:{scope}"), iters, || {
                    black_box(q.get().unwrap());
                })
            })
        });
    }

    // What task counting adds: each item got, then marked done.
    let joinable = JoinableQueue::<u64>::create(&seg(scope, "joinable-1way"), CAPACITY).unwrap();
    g.bench_function("shmipc JoinableQueue<u64> MPMC put/get+task_done", |b| {
        b.iter_custom(|iters| {
            pair.run(&format!("joinable-1way:{scope}"), iters, || {
                black_box(joinable.get().unwrap());
                joinable.task_done().unwrap();
            })
        })
    });

    let batched_queue = Queue::<u64>::create_spsc(&seg(scope, "spsc-batch"), CAPACITY).unwrap();
    let batched = batched_queue.consumer().unwrap();
    g.bench_function("shmipc Queue<u64> SPSC batches of 256", |b| {
        b.iter_custom(|iters| {
            let batches = iters.div_ceil(BATCH as u64).max(1);
            let mut buf = vec![0u64; BATCH];
            let took = pair.run(&format!("spsc-batch:{scope}"), batches, || {
                get_all(&batched, &mut buf)
            });
            took.mul_f64(iters as f64 / (batches * BATCH as u64) as f64)
        })
    });

    g.bench_function("rtrb (threads, in-process)", |b| {
        b.iter_custom(|iters| {
            let (mut tx, mut rx) = rtrb::RingBuffer::<u64>::new(CAPACITY as usize);
            std::thread::scope(|s| {
                let started = Instant::now();
                s.spawn(move || {
                    for i in 0..iters {
                        while tx.push(i).is_err() {
                            std::hint::spin_loop();
                        }
                    }
                });
                for _ in 0..iters {
                    let v = spin_for(|| rx.pop().ok());
                    black_box(v);
                }
                started.elapsed()
            })
        })
    });

    g.bench_function("crossbeam ArrayQueue (threads, in-process)", |b| {
        b.iter_custom(|iters| {
            let q = crossbeam_queue::ArrayQueue::<u64>::new(CAPACITY as usize);
            std::thread::scope(|s| {
                let started = Instant::now();
                s.spawn(|| {
                    for i in 0..iters {
                        while q.push(i).is_err() {
                            std::hint::spin_loop();
                        }
                    }
                });
                for _ in 0..iters {
                    let v = spin_for(|| q.pop());
                    black_box(v);
                }
                started.elapsed()
            })
        })
    });
    g.finish();
}

/// Times `mine` alone over whole rounds of [`CAPACITY`] items, per item of
/// `iters`: `mine` runs here and the closure `theirs` makes runs on a helper
/// thread, strictly taking turns (the helper first if `theirs_first`).
fn time_one_side<F: FnMut()>(
    iters: u64,
    theirs_first: bool,
    mut mine: impl FnMut(),
    theirs: impl FnOnce() -> F + Send,
) -> Duration {
    let rounds = iters.div_ceil(CAPACITY).max(1);
    let turn = AtomicU64::new(0);
    let wait_for = |t: u64| {
        while turn.load(Ordering::Acquire) != t {
            std::hint::spin_loop();
        }
    };
    let (mine_at, theirs_at) = if theirs_first { (1, 0) } else { (0, 1) };
    let took = std::thread::scope(|s| {
        s.spawn(|| {
            let mut theirs = theirs();
            for r in 0..rounds {
                wait_for(2 * r + theirs_at);
                theirs();
                turn.fetch_add(1, Ordering::Release);
            }
        });
        let mut took = Duration::ZERO;
        for r in 0..rounds {
            wait_for(2 * r + mine_at);
            let started = Instant::now();
            mine();
            took += started.elapsed();
            turn.fetch_add(1, Ordering::Release);
        }
        took
    });
    took.mul_f64(iters as f64 / (rounds * CAPACITY) as f64)
}

/// Puts a ring's worth of items into `q`.
fn fill(q: &Producer<u64>) {
    (0..CAPACITY).for_each(|i| q.put(i).unwrap());
}

/// Gets a ring's worth of items from `q`.
fn drain(q: &Consumer<u64>) {
    for _ in 0..CAPACITY {
        black_box(q.get().unwrap());
    }
}

/// Each side of the one-way stream alone, between two threads: the
/// producer fills a ring the consumer has just drained (so every line is in
/// the other core's cache), or the consumer drains a ring the producer has
/// just filled. A free-running stream is paced by the slower side (see
/// ARCHITECTURE.md, "Why SPSC one-way is bimodal").
fn one_side(c: &mut Criterion) {
    let scope = std::process::id();
    let mut g = c.benchmark_group("queue/one-side");
    g.throughput(Throughput::Elements(1));
    g.sample_size(20);
    g.measurement_time(Duration::from_secs(3));

    let (put_name, get_name) = (seg(scope, "side-put"), seg(scope, "side-get"));
    let drained = Queue::<u64>::create_spsc(&put_name, CAPACITY).unwrap();
    let filled = Queue::<u64>::create_spsc(&get_name, CAPACITY).unwrap();
    // This thread's ends; the helper thread takes the other end anew for
    // each batch of iterations (and gives it up when done).
    let (put_side, get_side) = (drained.producer().unwrap(), filled.consumer().unwrap());
    let peer = |name: &str| Queue::<u64>::open(name).unwrap();
    g.bench_function(
        "shmipc Queue<u64> SPSC put into a drained ring (threads)",
        |b| {
            b.iter_custom(|iters| {
                time_one_side(
                    iters,
                    false,
                    || fill(&put_side),
                    || {
                        let rx = peer(&put_name).consumer().unwrap();
                        move || drain(&rx)
                    },
                )
            })
        },
    );
    g.bench_function(
        "shmipc Queue<u64> SPSC get from a filled ring (threads)",
        |b| {
            b.iter_custom(|iters| {
                time_one_side(
                    iters,
                    true,
                    || drain(&get_side),
                    || {
                        let tx = peer(&get_name).producer().unwrap();
                        move || fill(&tx)
                    },
                )
            })
        },
    );

    // What a try_get costs when it finds nothing, against one that finds an
    // item (the put before it included): a caller polling with try_get pays
    // the first on every miss.
    let empty = Queue::<u64>::create_spsc(&seg(scope, "try-miss"), CAPACITY).unwrap();
    let (probe_tx, probe_rx) = (empty.producer().unwrap(), empty.consumer().unwrap());
    g.bench_function(
        "shmipc Queue<u64> SPSC try_get on an empty queue (a miss)",
        |b| b.iter(|| black_box(probe_rx.try_get().is_err())),
    );
    g.bench_function("shmipc Queue<u64> SPSC put then try_get (a hit)", |b| {
        b.iter(|| {
            probe_tx.put(1).unwrap();
            black_box(probe_rx.try_get().unwrap())
        })
    });

    let ring = || rtrb::RingBuffer::<u64>::new(CAPACITY as usize);
    let push_all = |tx: &mut rtrb::Producer<u64>| (0..CAPACITY).for_each(|i| tx.push(i).unwrap());
    let pop_all = |rx: &mut rtrb::Consumer<u64>| {
        for _ in 0..CAPACITY {
            black_box(rx.pop().unwrap());
        }
    };
    g.bench_function("rtrb push into a drained ring (threads)", |b| {
        b.iter_custom(|iters| {
            let (mut tx, mut rx) = ring();
            time_one_side(
                iters,
                false,
                || push_all(&mut tx),
                move || move || pop_all(&mut rx),
            )
        })
    });
    g.bench_function("rtrb pop from a filled ring (threads)", |b| {
        b.iter_custom(|iters| {
            let (mut tx, mut rx) = ring();
            time_one_side(
                iters,
                true,
                || pop_all(&mut rx),
                move || move || push_all(&mut tx),
            )
        })
    });
    g.finish();
}

fn main() {
    if std::env::var(CHILD_ENV).as_deref() == Ok("pipe-echo") {
        return pipe_echo();
    }
    if let Some((role, ctl, iters)) = child_spec(CHILD_ENV) {
        return child(&role, &ctl, iters);
    }
    let mut c = Criterion::default().configure_from_args();
    round_trips(&mut c);
    one_way(&mut c);
    one_side(&mut c);
    c.final_summary();
}
