//! What the cross-process benches share: a raw shared page for the non-shmipc
//! baselines, and a harness that runs a loop in this process and in a child at
//! the same time, timing only the loops.
#![allow(dead_code)]

use std::ffi::CString;
use std::process::Command;
use std::time::{Duration, Instant};

use criterion::measurement::WallTime;
use criterion::BenchmarkGroup;
use shmipc::{RawArray, RawValue};

const READY: usize = 0;
const GO: usize = 1;
const DONE: usize = 2;

/// A page of POSIX shared memory holding a pthread mutex or a sem_t at offset 0
/// and a counter at offset 64: what the alternatives to shmipc's lock need.
pub struct RawPage {
    pub ptr: *mut u8,
    name: CString,
    owner: bool,
}

pub const PAGE: usize = 4096;

impl RawPage {
    pub fn create(name: &str) -> RawPage {
        RawPage::map(name, true)
    }

    pub fn open(name: &str) -> RawPage {
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

    pub fn counter(&self) -> *mut u64 {
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

/// Start/stop flags shared by a bench process and its child, so the timing
/// covers the measured loops only, not process start-up.
pub struct TwoProcesses {
    ctl: RawArray<u64>,
    ctl_name: String,
    child_env: &'static str,
}

impl TwoProcesses {
    /// Creates the control segment; children are started with `child_env` set.
    pub fn new(child_env: &'static str) -> TwoProcesses {
        let ctl_name = format!("bench-{}-ctl", std::process::id());
        TwoProcesses {
            ctl: RawArray::create(&ctl_name, 3).unwrap(),
            ctl_name,
            child_env,
        }
    }

    /// Runs `iters` rounds of `mine` here while a child runs `role` with the
    /// same count; returns the time from the common start until both finished.
    pub fn run(&self, role: &str, iters: u64, mut mine: impl FnMut()) -> Duration {
        for i in [READY, GO, DONE] {
            self.ctl.store(i, 0).unwrap();
        }
        let mut child = Command::new(std::env::current_exe().unwrap())
            .env(self.child_env, format!("{role} {} {iters}", self.ctl_name))
            .spawn()
            .unwrap();
        while self.ctl.fetch_add(READY, 0).unwrap() == 0 {
            std::thread::yield_now();
        }
        let started = Instant::now();
        self.ctl.store(GO, 1).unwrap();
        for _ in 0..iters {
            mine();
        }
        while self.ctl.fetch_add(DONE, 0).unwrap() == 0 {
            std::hint::spin_loop();
        }
        let took = started.elapsed();
        assert!(child.wait().unwrap().success(), "bench child {role} failed");
        took
    }
}

/// In a child started by [`TwoProcesses::run`]: the role and iteration count,
/// if this process is one.
pub fn child_spec(child_env: &str) -> Option<(String, String, u64)> {
    let spec = std::env::var(child_env).ok()?;
    let mut parts = spec.split_whitespace();
    let role = parts.next()?.to_owned();
    let ctl = parts.next()?.to_owned();
    let iters = parts.next()?.parse().ok()?;
    Some((role, ctl, iters))
}

/// In the child: signals readiness, waits for the start, runs `body` `iters`
/// times, signals the end.
pub fn child_loop(ctl_name: &str, iters: u64, mut body: impl FnMut()) {
    let ctl = RawArray::<u64>::open(ctl_name).unwrap();
    ctl.fetch_add(READY, 1).unwrap();
    while ctl.fetch_add(GO, 0).unwrap() == 0 {
        std::hint::spin_loop();
    }
    for _ in 0..iters {
        body();
    }
    ctl.fetch_add(DONE, 1).unwrap();
}

fn line_name(scope: u32) -> String {
    format!("bench-{scope}-line")
}

/// The floor every hand-off is compared with: one cache line bounced between
/// this process and a child by spinning, one round trip per iteration. The
/// child side runs [`cache_line_child`] under the role `line:<scope>`.
pub fn bench_cache_line(g: &mut BenchmarkGroup<'_, WallTime>, pair: &TwoProcesses) {
    let scope = std::process::id();
    let line = RawValue::create(&line_name(scope), 0u64).unwrap();
    g.bench_function("cache line round trip (spin, floor)", |b| {
        b.iter_custom(|iters| {
            line.store(0);
            let mut next = 1;
            pair.run(&format!("line:{scope}"), iters, || {
                line.store(next);
                while line.load_atomic() != next + 1 {
                    std::hint::spin_loop();
                }
                next += 2;
            })
        })
    });
}

/// The child's half of [`bench_cache_line`].
pub fn cache_line_child(scope: u32, ctl: &str, iters: u64) {
    let line = RawValue::<u64>::open(&line_name(scope)).unwrap();
    let mut expect = 1;
    child_loop(ctl, iters, || {
        while line.load_atomic() != expect {
            std::hint::spin_loop();
        }
        line.store(expect + 1);
        expect += 2;
    });
}

fn lines_names(scope: u32) -> (String, String) {
    (
        format!("bench-{scope}-line-there"),
        format!("bench-{scope}-line-back"),
    )
}

/// The floor of any ping-pong through two queues: one cache line per
/// direction, each written by one side and polled by the other. Slower than
/// [`bench_cache_line`] on this machine, because a write to a line the other
/// side is polling must first invalidate its copy, while the single bounced
/// line moves to the reader already writable.
#[allow(dead_code)]
pub fn bench_two_lines(g: &mut BenchmarkGroup<'_, WallTime>, pair: &TwoProcesses) {
    let scope = std::process::id();
    let (there, back) = lines_names(scope);
    let (there, back) = (
        RawValue::create(&there, 0u64).unwrap(),
        RawValue::create(&back, 0u64).unwrap(),
    );
    g.bench_function(
        "two cache lines, one per direction (spin, two-queue floor)",
        |b| {
            b.iter_custom(|iters| {
                there.store(0);
                back.store(0);
                let mut next = 1;
                pair.run(&format!("lines:{scope}"), iters, || {
                    there.store(next);
                    while back.load_atomic() != next {
                        std::hint::spin_loop();
                    }
                    next += 1;
                })
            })
        },
    );
}

/// The child's half of [`bench_two_lines`].
#[allow(dead_code)]
pub fn two_lines_child(scope: u32, ctl: &str, iters: u64) {
    let (there, back) = lines_names(scope);
    let there = RawValue::<u64>::open(&there).unwrap();
    let back = RawValue::<u64>::open(&back).unwrap();
    let mut expect = 1;
    child_loop(ctl, iters, || {
        while there.load_atomic() != expect {
            std::hint::spin_loop();
        }
        back.store(expect);
        expect += 1;
    });
}
