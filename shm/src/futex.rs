//! The OS side of waiting: a futex on a word in shared memory.
//!
//! The futex calls omit `FUTEX_PRIVATE_FLAG`, because the waiters and wakers are
//! in different processes, each mapping the word at its own address.

use std::time::{Duration, Instant};

use shmipc_core::park::{Liveness, Owner, Park, Parked, Unpark};
use shmipc_core::primitives::AtomicU32;

use crate::identity;

/// The first interval after which a parked waiter that watches a holder's
/// liveness (a lock's holder, a barrier's parties) wakes to look; each later
/// one doubles, up to [`LIVENESS_POLL_MAX`].
pub(crate) const LIVENESS_POLL_MIN: Duration = Duration::from_millis(5);
/// The longest such interval. Bounds how late a dead holder is noticed
/// (the promise is 100 ms, also for a waiter without a timeout).
pub(crate) const LIVENESS_POLL_MAX: Duration = Duration::from_millis(40);

/// Sleeps while `*word == expected`, for at most `timeout`. Returns on wake-up,
/// timeout, signal or a changed word alike: callers re-check their condition.
pub(crate) fn wait(word: &AtomicU32, expected: u32, timeout: Option<Duration>) {
    let ts = timeout.map(|t| libc::timespec {
        tv_sec: libc::time_t::try_from(t.as_secs()).unwrap_or(libc::time_t::MAX),
        tv_nsec: t.subsec_nanos() as libc::c_long,
    });
    let ts_ptr = ts
        .as_ref()
        .map_or(std::ptr::null(), |t| t as *const libc::timespec);
    // SAFETY: `word` is a live, aligned 32-bit atomic for the whole call; the
    // kernel only reads it. `ts_ptr` is null or points at a timespec on our stack.
    // FUTEX_WAIT takes a relative timeout measured on CLOCK_MONOTONIC.
    unsafe {
        libc::syscall(
            libc::SYS_futex,
            word.as_ptr(),
            libc::FUTEX_WAIT,
            expected,
            ts_ptr,
            std::ptr::null::<u32>(),
            0u32,
        );
    }
}

/// How a sleep on several words ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WaitAny {
    /// Woken, a word changed, a signal, or the timeout: re-check.
    Returned,
    /// The kernel has no `futex_waitv` (before 5.16), or refused these words.
    Unsupported,
}

/// `futex_waitv(2)`'s syscall number on the architectures that have it.
#[cfg(any(
    target_arch = "x86_64",
    target_arch = "aarch64",
    target_arch = "riscv64"
))]
const SYS_FUTEX_WAITV: libc::c_long = 449;

/// Sleeps while every `*word == expected` of `words` (at most 128), for at
/// most `timeout`: `futex_waitv(2)`, shared (not private) 32-bit futexes,
/// with an absolute deadline on CLOCK_MONOTONIC.
pub(crate) fn wait_any(words: &[(&AtomicU32, u32)], timeout: Option<Duration>) -> WaitAny {
    #[cfg(any(
        target_arch = "x86_64",
        target_arch = "aarch64",
        target_arch = "riscv64"
    ))]
    {
        /// `struct futex_waitv` of the kernel's uapi.
        #[repr(C)]
        struct FutexWaitv {
            val: u64,
            uaddr: u64,
            flags: u32,
            reserved: u32,
        }
        const FUTEX2_SIZE_U32: u32 = 0x02;
        if words.is_empty() || words.len() > 128 {
            return WaitAny::Unsupported;
        }
        let waiters: Vec<FutexWaitv> = words
            .iter()
            .map(|(word, expected)| FutexWaitv {
                val: u64::from(*expected),
                uaddr: word.as_ptr() as u64,
                flags: FUTEX2_SIZE_U32,
                reserved: 0,
            })
            .collect();
        let deadline = timeout.map(|t| {
            let mut now = libc::timespec {
                tv_sec: 0,
                tv_nsec: 0,
            };
            // SAFETY: `now` is a timespec on our stack.
            unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut now) };
            let nanos = now.tv_nsec as u64 + u64::from(t.subsec_nanos());
            libc::timespec {
                tv_sec: now
                    .tv_sec
                    .saturating_add(
                        libc::time_t::try_from(t.as_secs()).unwrap_or(libc::time_t::MAX),
                    )
                    .saturating_add((nanos / 1_000_000_000) as libc::time_t),
                tv_nsec: (nanos % 1_000_000_000) as libc::c_long,
            }
        });
        let deadline_ptr = deadline
            .as_ref()
            .map_or(std::ptr::null(), |t| t as *const libc::timespec);
        // SAFETY: `waiters` holds `words.len()` entries, each naming a live,
        // aligned 32-bit atomic that outlives the call (the kernel only
        // reads them); `deadline_ptr` is null or a timespec on our stack.
        let r = unsafe {
            libc::syscall(
                SYS_FUTEX_WAITV,
                waiters.as_ptr(),
                waiters.len() as libc::c_uint,
                0u32,
                deadline_ptr,
                libc::CLOCK_MONOTONIC,
            )
        };
        let errno = std::io::Error::last_os_error().raw_os_error();
        if r < 0 && matches!(errno, Some(libc::ENOSYS | libc::EINVAL | libc::EFAULT)) {
            return WaitAny::Unsupported;
        }
        WaitAny::Returned
    }
    #[cfg(not(any(
        target_arch = "x86_64",
        target_arch = "aarch64",
        target_arch = "riscv64"
    )))]
    {
        let _ = (words, timeout);
        WaitAny::Unsupported
    }
}

/// Wakes at most `count` waiters sleeping on `word`, in any process.
pub(crate) fn wake(word: &AtomicU32, count: u32) {
    let count = i32::try_from(count).unwrap_or(i32::MAX);
    // SAFETY: `word` is a live, aligned 32-bit atomic; FUTEX_WAKE only uses its address.
    unsafe {
        libc::syscall(
            libc::SYS_futex,
            word.as_ptr(),
            libc::FUTEX_WAKE,
            count,
            std::ptr::null::<libc::timespec>(),
            std::ptr::null::<u32>(),
            0u32,
        );
    }
}

/// [`Unpark`] through `FUTEX_WAKE`.
pub(crate) struct FutexWake;

impl Unpark for FutexWake {
    #[inline]
    fn unpark(&self, word: &AtomicU32, count: u32) {
        wake(word, count);
    }

    /// The notifier's half of the asymmetric barrier: a compiler fence when
    /// this process receives the waiters' membarriers, a real fence otherwise.
    #[inline]
    fn light_fence(&self) {
        if crate::sys::membarrier_registered() {
            std::sync::atomic::compiler_fence(std::sync::atomic::Ordering::SeqCst);
        } else {
            std::sync::atomic::fence(std::sync::atomic::Ordering::SeqCst);
        }
    }
}

/// When a blocking call gives up.
#[derive(Debug, Clone, Copy)]
enum Deadline {
    Never,
    At(Instant),
    /// Resolved to `At` at the first real park: most waits end while spinning,
    /// and reading the clock up front would cost every one of them.
    After(Duration),
}

/// [`Park`] for one blocking call: futex waits bounded by the call's
/// deadline and, for a wait that watches a holder's liveness, by a poll
/// interval that backs off. Reads the clock only once it really parks.
///
/// A park without the liveness poll makes no syscall and takes no wake-up
/// once it sleeps, until it is woken or its deadline passes. The one
/// exception is a process that cannot issue the global membarrier (see
/// [`Park::heavy_barrier`] here): its sleeps are bounded too, so that a
/// wake-up lost for want of the barrier costs a poll interval, not a hang.
pub(crate) struct FutexPark {
    deadline: Deadline,
    /// When to look at the holder's liveness next; `None` until the first
    /// park (or for ever, without `poll`).
    next_poll: Option<Instant>,
    /// The current liveness poll interval; `None`: no polling.
    poll: Option<Duration>,
}

impl FutexPark {
    /// A park that gives up `timeout` after it first parks (never, if `None`).
    /// Spinning comes first, so the wait is never shorter than `timeout`.
    pub(crate) fn timeout(timeout: Option<Duration>) -> FutexPark {
        FutexPark {
            deadline: timeout.map_or(Deadline::Never, Deadline::After),
            next_poll: None,
            poll: None,
        }
    }

    /// A park that gives up at `deadline` (never, if `None`).
    pub(crate) fn new(deadline: Option<Instant>) -> FutexPark {
        FutexPark {
            deadline: deadline.map_or(Deadline::Never, Deadline::At),
            next_poll: None,
            poll: None,
        }
    }

    /// This park, also returning [`Parked::PollDue`] now and then (after
    /// [`LIVENESS_POLL_MIN`], doubling up to [`LIVENESS_POLL_MAX`]), for
    /// waits whose promise needs a look at a holder's liveness.
    pub(crate) fn polling_liveness(mut self) -> FutexPark {
        self.poll_liveness();
        self
    }

    /// From now on, as [`polling_liveness`](Self::polling_liveness) (a poll
    /// already under way keeps its back-off).
    pub(crate) fn poll_liveness(&mut self) {
        self.poll.get_or_insert(LIVENESS_POLL_MIN);
    }

    /// The deadline and next poll, reading the clock the first time.
    fn schedule(&mut self, now: Instant) -> (Option<Instant>, Option<Instant>) {
        if let Deadline::After(d) = self.deadline {
            self.deadline = now.checked_add(d).map_or(Deadline::Never, Deadline::At);
        }
        let next_poll = match self.poll {
            Some(interval) => Some(*self.next_poll.get_or_insert(now + interval)),
            None => None,
        };
        let deadline = match self.deadline {
            Deadline::At(at) => Some(at),
            _ => None,
        };
        (deadline, next_poll)
    }

    fn classify(&mut self, now: Instant) -> Option<Parked> {
        let (deadline, next_poll) = self.schedule(now);
        if deadline.is_some_and(|d| now >= d) {
            return Some(Parked::DeadlineReached);
        }
        if next_poll.is_some_and(|p| now >= p) {
            let interval = self
                .poll
                .map_or(LIVENESS_POLL_MAX, |i| (i * 2).min(LIVENESS_POLL_MAX));
            self.poll = Some(interval);
            self.next_poll = Some(now + interval);
            return Some(Parked::PollDue);
        }
        None
    }
}

/// A park wakes as [`FutexWake`] does (the barrier algorithms both wait and wake).
impl Unpark for FutexPark {
    #[inline]
    fn unpark(&self, word: &AtomicU32, count: u32) {
        FutexWake.unpark(word, count);
    }

    #[inline]
    fn light_fence(&self) {
        FutexWake.light_fence();
    }
}

impl Park for FutexPark {
    fn park(&mut self, word: &AtomicU32, expected: u32) -> Parked {
        let now = Instant::now();
        if let Some(verdict) = self.classify(now) {
            return verdict;
        }
        let (deadline, next_poll) = self.schedule(now);
        let until = match (deadline, next_poll) {
            (Some(d), Some(p)) => Some(d.min(p)),
            (d, p) => d.or(p),
        };
        wait(
            word,
            expected,
            until.map(|u| u.saturating_duration_since(now)),
        );
        self.classify(Instant::now()).unwrap_or(Parked::Woken)
    }

    /// On a loaded machine a yield can give away a whole time slice
    /// (3.5-5 ms measured with both cores busy), so a timed wait starts its
    /// clock at the first yield rather than the first park, and stops
    /// yielding once its deadline has passed.
    fn yield_now(&mut self) {
        if !matches!(self.deadline, Deadline::Never) {
            let now = Instant::now();
            if self.schedule(now).0.is_some_and(|deadline| now >= deadline) {
                return;
            }
        }
        std::thread::yield_now();
    }

    fn liveness(&mut self, owner: &Owner) -> Liveness {
        identity::liveness(owner)
    }

    /// The waiter's half of the asymmetric barrier. If this process cannot
    /// issue the global membarrier, notifiers that rely on it may have
    /// missed this waiter: from then on this park's sleeps are bounded by
    /// a poll, so such a miss delays the waiter by at most an interval.
    fn heavy_barrier(&mut self) {
        if !crate::sys::heavy_barrier() && self.poll.is_none() {
            self.poll = Some(LIVENESS_POLL_MIN);
        }
    }
}
