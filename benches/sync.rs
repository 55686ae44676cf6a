//! Synchronisation-primitive benchmarks, each next to baselines measured in the
//! same run.
//!
//! - `sync/hand-off`: round trips between two processes. The floor is a cache
//!   line bounced between them by spinning; the design card's mechanism, a
//!   process-shared POSIX `sem_t` pair, shows the cost of parking every time.
//!   Measured: Semaphore ping-pong, Event set -> wait returns (two events, so a
//!   round trip), Barrier(2) round.
//! - `sync/uncontended`: RLock acquire + release against parking_lot's
//!   `ReentrantMutex` (in-process), with shmipc's Lock for reference.
//!
//! `cargo bench -p shmipc-benches --bench sync` (add `-- --quick` for a fast pass).

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput};
use shmipc::{Barrier, Event, Lock, RLock, Semaphore};

mod common;
use common::{bench_cache_line, cache_line_child, child_loop, child_spec, RawPage, TwoProcesses};

const CHILD_ENV: &str = "SHMIPC_SYNC_BENCH_CHILD";

fn seg(scope: u32, what: &str) -> String {
    format!("bench-{scope}-{what}")
}

/// Offsets of the two `sem_t`s in the POSIX baseline's page.
const SEM_PING: usize = 0;
const SEM_PONG: usize = 128;

fn posix_sem(page: &RawPage, at: usize) -> *mut libc::sem_t {
    page.ptr.wrapping_add(at).cast()
}

fn sem_wait(s: *mut libc::sem_t) {
    // SAFETY: `s` is an initialised process-shared sem_t in a live mapping.
    while unsafe { libc::sem_wait(s) } != 0 {}
}

fn sem_post(s: *mut libc::sem_t) {
    // SAFETY: as above.
    unsafe { libc::sem_post(s) };
}

/// The child's half of each round trip.
fn child(role: &str, ctl: &str, iters: u64) {
    let (what, scope) = role.split_once(':').expect("role:scope");
    let scope: u32 = scope.parse().expect("scope");
    match what {
        "line" => cache_line_child(scope, ctl, iters),
        "posix-sem" => {
            let page = RawPage::open(&seg(scope, "posix-sem"));
            child_loop(ctl, iters, || {
                sem_wait(posix_sem(&page, SEM_PING));
                sem_post(posix_sem(&page, SEM_PONG));
            });
        }
        "sem" => {
            let ping = Semaphore::open(&seg(scope, "sem-ping")).unwrap();
            let pong = Semaphore::open(&seg(scope, "sem-pong")).unwrap();
            child_loop(ctl, iters, || {
                ping.acquire();
                pong.release().unwrap();
            });
        }
        "event" => {
            let ping = Event::open(&seg(scope, "ev-ping")).unwrap();
            let pong = Event::open(&seg(scope, "ev-pong")).unwrap();
            child_loop(ctl, iters, || {
                ping.wait();
                ping.clear();
                pong.set();
            });
        }
        "barrier" => {
            let b = Barrier::open(&seg(scope, "barrier")).unwrap();
            child_loop(ctl, iters, || {
                b.wait().unwrap();
            });
        }
        other => panic!("unknown role {other}"),
    }
}

fn hand_offs(c: &mut Criterion) {
    let scope = std::process::id();
    let pair = TwoProcesses::new(CHILD_ENV);
    let mut g = c.benchmark_group("sync/hand-off");
    g.throughput(Throughput::Elements(1));
    g.sample_size(20);
    g.measurement_time(Duration::from_secs(4));

    bench_cache_line(&mut g, &pair);

    let page = RawPage::create(&seg(scope, "posix-sem"));
    for at in [SEM_PING, SEM_PONG] {
        // SAFETY: initialises a process-shared sem_t inside the fresh page.
        assert_eq!(unsafe { libc::sem_init(posix_sem(&page, at), 1, 0) }, 0);
    }
    g.bench_function("POSIX sem_t ping-pong (design card's mechanism)", |b| {
        b.iter_custom(|iters| {
            pair.run(&format!("posix-sem:{scope}"), iters, || {
                sem_post(posix_sem(&page, SEM_PING));
                sem_wait(posix_sem(&page, SEM_PONG));
            })
        })
    });

    let ping = Semaphore::create(&seg(scope, "sem-ping"), 0).unwrap();
    let pong = Semaphore::create(&seg(scope, "sem-pong"), 0).unwrap();
    g.bench_function("shmipc Semaphore ping-pong", |b| {
        b.iter_custom(|iters| {
            pair.run(&format!("sem:{scope}"), iters, || {
                ping.release().unwrap();
                pong.acquire();
            })
        })
    });

    let ev_ping = Event::create(&seg(scope, "ev-ping")).unwrap();
    let ev_pong = Event::create(&seg(scope, "ev-pong")).unwrap();
    g.bench_function("shmipc Event set -> wait, round trip", |b| {
        b.iter_custom(|iters| {
            pair.run(&format!("event:{scope}"), iters, || {
                ev_ping.set();
                ev_pong.wait();
                ev_pong.clear();
            })
        })
    });

    let barrier = Barrier::create(&seg(scope, "barrier"), 2).unwrap();
    g.bench_function("shmipc Barrier(2) round", |b| {
        b.iter_custom(|iters| {
            pair.run(&format!("barrier:{scope}"), iters, || {
                barrier.wait().unwrap();
            })
        })
    });
    g.finish();
}

fn uncontended(c: &mut Criterion) {
    let scope = std::process::id();
    let mut g = c.benchmark_group("sync/uncontended");
    g.throughput(Throughput::Elements(1));
    let rlock = RLock::create(&seg(scope, "rlock")).unwrap();
    g.bench_function("shmipc RLock", |b| {
        b.iter(|| {
            let guard = rlock.acquire();
            black_box(&guard);
        })
    });
    let pl = parking_lot::ReentrantMutex::new(0u64);
    g.bench_function("parking_lot ReentrantMutex (in-process)", |b| {
        b.iter(|| {
            let guard = black_box(&pl).lock();
            black_box(&guard);
        })
    });
    let lock = Lock::create(&seg(scope, "lock")).unwrap();
    g.bench_function("shmipc Lock", |b| {
        b.iter(|| {
            let guard = lock.acquire();
            black_box(&guard);
        })
    });
    g.finish();
}

fn main() {
    if let Some((role, ctl, iters)) = child_spec(CHILD_ENV) {
        child(&role, &ctl, iters);
        return;
    }
    let mut c = Criterion::default().configure_from_args();
    uncontended(&mut c);
    hand_offs(&mut c);
    c.final_summary();
}
