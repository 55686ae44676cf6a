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
//! `cargo bench --bench lock` (add `-- --quick` for a fast pass).

use std::ffi::CString;
use std::hint::black_box;
use std::process::Command;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput};
use shmipc::{Lock, RawArray, Value};

const CHILD_ENV: &str = "SHMIPC_BENCH_CHILD";
const READY: usize = 0;
const GO: usize = 1;
const DONE: usize = 2;

/// A page of POSIX shared memory holding a pthread mutex or a sem_t at offset 0
/// and a counter at offset 64: what the alternatives to shmipc's lock need.
struct RawPage {
    ptr: *mut u8,
    name: CString,
    owner: bool,
}

const PAGE: usize = 4096;

impl RawPage {
    fn create(name: &str) -> RawPage {
        RawPage::map(name, true)
    }

    fn open(name: &str) -> RawPage {
        RawPage::map(name, false)
    }

    fn map(name: &str, create: bool) -> RawPage {
        let c = CString::new(format!("/{}{name}", shmipc::OS_PREFIX)).unwrap();
        let flags = if create {
            libc::O_RDWR | libc::O_CREAT | libc::O_EXCL
        } else {
            libc::O_RDWR
        };
        // SAFETY: `c` is NUL-terminated; the fd is checked before use.
        let fd = unsafe { libc::shm_open(c.as_ptr(), flags, 0o600) };
        assert!(
            fd >= 0,
            "shm_open {name}: {}",
            std::io::Error::last_os_error()
        );
        // SAFETY: `fd` is open; a page-sized MAP_SHARED mapping of it is checked.
        let ptr = unsafe {
            if create {
                assert_eq!(libc::ftruncate(fd, PAGE as libc::off_t), 0);
            }
            let p = libc::mmap(
                std::ptr::null_mut(),
                PAGE,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                fd,
                0,
            );
            libc::close(fd);
            assert_ne!(p, libc::MAP_FAILED);
            p.cast::<u8>()
        };
        RawPage {
            ptr,
            name: c,
            owner: create,
        }
    }

    fn counter(&self) -> *mut u64 {
        // SAFETY: offset 64 is inside the page and 8-aligned.
        unsafe { self.ptr.add(64).cast() }
    }
}

impl Drop for RawPage {
    fn drop(&mut self) {
        // SAFETY: `ptr` is our PAGE-byte mapping; `name` is NUL-terminated.
        unsafe {
            libc::munmap(self.ptr.cast(), PAGE);
            if self.owner {
                libc::shm_unlink(self.name.as_ptr());
            }
        }
    }
}

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

fn child(spec: &str) {
    let mut parts = spec.split_whitespace();
    let m = parts
        .next()
        .and_then(Mechanism::from_code)
        .expect("mechanism");
    let scope: u32 = parts.next().and_then(|p| p.parse().ok()).expect("scope");
    let n: u64 = parts.next().and_then(|p| p.parse().ok()).expect("count");
    let ctl = RawArray::<u64>::open(&format!("bench-{scope}-ctl")).unwrap();
    let counter = Counter::open(m, scope);
    ctl.fetch_add(READY, 1).unwrap();
    while ctl.fetch_add(GO, 0).unwrap() == 0 {
        std::hint::spin_loop();
    }
    for _ in 0..n {
        counter.increment();
    }
    ctl.fetch_add(DONE, 1).unwrap();
}

/// Runs `per_process` increments in this process and in a child at once;
/// returns the wall time of the increments alone (not the child's start-up).
fn two_processes(
    m: Mechanism,
    scope: u32,
    counter: &Counter,
    ctl: &RawArray<u64>,
    per_process: u64,
) -> Duration {
    for i in [READY, GO, DONE] {
        ctl.store(i, 0).unwrap();
    }
    let before = counter.total();
    let mut child = Command::new(std::env::current_exe().unwrap())
        .env(CHILD_ENV, format!("{} {scope} {per_process}", m.code()))
        .spawn()
        .unwrap();
    while ctl.fetch_add(READY, 0).unwrap() == 0 {
        std::thread::yield_now();
    }
    let started = Instant::now();
    ctl.store(GO, 1).unwrap();
    for _ in 0..per_process {
        counter.increment();
    }
    while ctl.fetch_add(DONE, 0).unwrap() == 0 {
        std::hint::spin_loop();
    }
    let took = started.elapsed();
    assert!(child.wait().unwrap().success());
    assert_eq!(
        counter.total() - before,
        2 * per_process,
        "{m:?} lost increments"
    );
    took
}

fn contended(c: &mut Criterion) {
    let scope = std::process::id();
    let ctl = RawArray::<u64>::create(&format!("bench-{scope}-ctl"), 3).unwrap();
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
                let took = two_processes(m, scope, &counter, &ctl, per);
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
    if let Ok(spec) = std::env::var(CHILD_ENV) {
        child(&spec);
        return;
    }
    let mut c = Criterion::default().configure_from_args();
    uncontended(&mut c);
    contended(&mut c);
    c.final_summary();
}
