//! Lock benchmarks, every figure next to its baselines measured in the same run.
//!
//! - `lock/uncontended`: acquire + release with nobody else around: shmipc's
//!   Lock; parking_lot and std mutexes (in-process peers); raw_sync's Mutex in a
//!   shared_memory segment (the design card's crates, kept as baselines); and
//!   the two other mechanisms shmipc could have been built on, a robust
//!   process-shared pthread mutex and a process-shared `sem_t`.
//! - `lock/two-process-increments`: two processes incrementing one counter under
//!   the lock as fast as they can; throughput is increments per second, both
//!   processes together. parking_lot with two threads is the in-process peer.
//!
//! `cargo bench -p shmipc-benches --bench lock` (add `-- --quick` for a fast pass).

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput};
use shmipc::{Lock, Value};

mod common;
use common::{child_loop, child_spec, RawPage, TwoProcesses, PAGE};

const CHILD_ENV: &str = "SHMIPC_BENCH_CHILD";

/// The lock mechanisms compared.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Mechanism {
    Shmipc,
    RawSync,
    RobustPthread,
    Semaphore,
}

impl Mechanism {
    const ALL: [Mechanism; 4] = [
        Mechanism::Shmipc,
        Mechanism::RawSync,
        Mechanism::RobustPthread,
        Mechanism::Semaphore,
    ];

    fn label(self) -> &'static str {
        match self {
            Mechanism::Shmipc => "shmipc Lock",
            Mechanism::RawSync => "raw_sync Mutex in shared_memory",
            Mechanism::RobustPthread => "robust pshared pthread mutex",
            Mechanism::Semaphore => "pshared sem_t",
        }
    }

    fn code(self) -> &'static str {
        match self {
            Mechanism::Shmipc => "shmipc",
            Mechanism::RawSync => "raw_sync",
            Mechanism::RobustPthread => "pthread",
            Mechanism::Semaphore => "sem",
        }
    }

    fn from_code(code: &str) -> Option<Mechanism> {
        Mechanism::ALL.into_iter().find(|m| m.code() == code)
    }
}

/// One mechanism's lock plus the counter it protects, created or opened.
enum Counter {
    Shmipc(Value<u64>),
    RawSync(shared_memory::Shmem, Box<dyn raw_sync::locks::LockImpl>),
    Pthread(RawPage),
    Semaphore(RawPage),
}

fn segment(scope: u32, m: Mechanism) -> String {
    format!("bench-{scope}-{}", m.code())
}

impl Counter {
    fn create(m: Mechanism, scope: u32) -> Counter {
        let name = segment(scope, m);
        match m {
            Mechanism::Shmipc => Counter::Shmipc(Value::create(&name, 0u64).unwrap()),
            Mechanism::RawSync => {
                let shmem = shared_memory::ShmemConf::new()
                    .os_id(format!("{}{name}", shmipc::OS_PREFIX))
                    .size(PAGE)
                    .create()
                    .unwrap();
                // SAFETY: the mapping is PAGE bytes: the lock at 0, the counter at 64.
                let (lock, _) = unsafe {
                    <raw_sync::locks::Mutex as raw_sync::locks::LockInit>::new(
                        shmem.as_ptr(),
                        shmem.as_ptr().add(64),
                    )
                }
                .unwrap();
                Counter::RawSync(shmem, lock)
            }
            Mechanism::RobustPthread => {
                let page = RawPage::create(&name);
                // SAFETY: initialises a pthread_mutex_t at offset 0 of a fresh
                // page-sized shared mapping, with process-shared and robust attributes.
                unsafe {
                    let mut attr = std::mem::MaybeUninit::<libc::pthread_mutexattr_t>::uninit();
                    assert_eq!(libc::pthread_mutexattr_init(attr.as_mut_ptr()), 0);
                    libc::pthread_mutexattr_setpshared(
                        attr.as_mut_ptr(),
                        libc::PTHREAD_PROCESS_SHARED,
                    );
                    libc::pthread_mutexattr_setrobust(
                        attr.as_mut_ptr(),
                        libc::PTHREAD_MUTEX_ROBUST,
                    );
                    assert_eq!(libc::pthread_mutex_init(page.ptr.cast(), attr.as_ptr()), 0);
                    libc::pthread_mutexattr_destroy(attr.as_mut_ptr());
                }
                Counter::Pthread(page)
            }
            Mechanism::Semaphore => {
                let page = RawPage::create(&name);
                // SAFETY: initialises a process-shared sem_t at offset 0 of a fresh page.
                assert_eq!(unsafe { libc::sem_init(page.ptr.cast(), 1, 1) }, 0);
                Counter::Semaphore(page)
            }
        }
    }

    fn open(m: Mechanism, scope: u32) -> Counter {
        let name = segment(scope, m);
        match m {
            Mechanism::Shmipc => Counter::Shmipc(Value::open(&name).unwrap()),
            Mechanism::RawSync => {
                let shmem = shared_memory::ShmemConf::new()
                    .os_id(format!("{}{name}", shmipc::OS_PREFIX))
                    .open()
                    .unwrap();
                // SAFETY: the creator initialised the lock at 0 and the counter at 64.
                let (lock, _) = unsafe {
                    <raw_sync::locks::Mutex as raw_sync::locks::LockInit>::from_existing(
                        shmem.as_ptr(),
                        shmem.as_ptr().add(64),
                    )
                }
                .unwrap();
                Counter::RawSync(shmem, lock)
            }
            Mechanism::RobustPthread => Counter::Pthread(RawPage::open(&name)),
            Mechanism::Semaphore => Counter::Semaphore(RawPage::open(&name)),
        }
    }

    /// Acquire, add one, release.
    #[inline]
    fn increment(&self) {
        match self {
            Counter::Shmipc(v) => *v.lock().unwrap() += 1,
            Counter::RawSync(_, lock) => {
                let guard = lock.lock().unwrap();
                // SAFETY: the guard holds the lock; its data pointer is the counter.
                unsafe { *(*guard).cast::<u64>() += 1 };
            }
            Counter::Pthread(page) => {
                let m = page.ptr.cast::<libc::pthread_mutex_t>();
                // SAFETY: `m` is an initialised robust mutex; the counter is only
                // touched while it is held.
                unsafe {
                    if libc::pthread_mutex_lock(m) == libc::EOWNERDEAD {
                        libc::pthread_mutex_consistent(m);
                    }
                    *page.counter() += 1;
                    libc::pthread_mutex_unlock(m);
                }
            }
            Counter::Semaphore(page) => {
                let s = page.ptr.cast::<libc::sem_t>();
                // SAFETY: `s` is an initialised binary semaphore guarding the counter.
                unsafe {
                    while libc::sem_wait(s) != 0 {}
                    *page.counter() += 1;
                    libc::sem_post(s);
                }
            }
        }
    }

    fn total(&self) -> u64 {
        match self {
            Counter::Shmipc(v) => *v.lock().unwrap(),
            // SAFETY: read after every writer has finished.
            Counter::RawSync(shmem, _) => unsafe { *shmem.as_ptr().add(64).cast::<u64>() },
            // SAFETY: as above.
            Counter::Pthread(page) | Counter::Semaphore(page) => unsafe { *page.counter() },
        }
    }
}

fn uncontended(c: &mut Criterion) {
    let scope = std::process::id();
    let mut g = c.benchmark_group("lock/uncontended");
    g.throughput(Throughput::Elements(1));
    let name = format!("bench-{scope}-uncontended");
    let lock = Lock::create(&name).unwrap();
    g.bench_function("shmipc Lock", |b| {
        b.iter(|| {
            let guard = lock.acquire();
            black_box(&guard);
        })
    });
    let pl = parking_lot::Mutex::new(0u64);
    g.bench_function("parking_lot Mutex (in-process)", |b| {
        b.iter(|| *black_box(&pl).lock() += 1)
    });
    let st = std::sync::Mutex::new(0u64);
    g.bench_function("std Mutex (in-process)", |b| {
        b.iter(|| *black_box(&st).lock().unwrap() += 1)
    });
    for m in [
        Mechanism::RawSync,
        Mechanism::RobustPthread,
        Mechanism::Semaphore,
    ] {
        let counter = Counter::create(m, scope);
        g.bench_function(m.label(), |b| b.iter(|| black_box(&counter).increment()));
    }
    g.finish();
}

fn contended(c: &mut Criterion) {
    let scope = std::process::id();
    let pair = TwoProcesses::new(CHILD_ENV);
    let mut g = c.benchmark_group("lock/two-process-increments");
    g.throughput(Throughput::Elements(1));
    g.sample_size(20);
    g.measurement_time(Duration::from_secs(4));
    for m in Mechanism::ALL {
        let counter = Counter::create(m, scope);
        g.bench_function(m.label(), |b| {
            b.iter_custom(|iters| {
                // One iteration is one increment by either process.
                let per = (iters / 2).max(1);
                let before = counter.total();
                let took = pair.run(&format!("{}:{scope}", m.code()), per, || {
                    counter.increment()
                });
                assert_eq!(counter.total() - before, 2 * per, "{m:?} lost increments");
                took.mul_f64(iters as f64 / (2 * per) as f64)
            })
        });
    }
    let pl = parking_lot::Mutex::new(0u64);
    g.bench_function("parking_lot Mutex, two threads (in-process)", |b| {
        b.iter_custom(|iters| {
            let per = (iters / 2).max(1);
            let started = Instant::now();
            std::thread::scope(|s| {
                s.spawn(|| {
                    for _ in 0..per {
                        *pl.lock() += 1;
                    }
                });
                for _ in 0..per {
                    *pl.lock() += 1;
                }
            });
            started.elapsed().mul_f64(iters as f64 / (2 * per) as f64)
        })
    });
    g.finish();
}

fn main() {
    if let Some((role, ctl, iters)) = child_spec(CHILD_ENV) {
        let (code, scope) = role.split_once(':').expect("mechanism:scope");
        let m = Mechanism::from_code(code).expect("mechanism");
        let counter = Counter::open(m, scope.parse().expect("scope"));
        child_loop(&ctl, iters, || counter.increment());
        return;
    }
    let mut c = Criterion::default().configure_from_args();
    uncontended(&mut c);
    contended(&mut c);
    c.final_summary();
}
