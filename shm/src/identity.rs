//! Who this thread is, and whether another thread still exists.
//!
//! A lock holder is identified by (tid, pid, start time). The start time, in
//! clock ticks since boot from `/proc/<pid>/task/<tid>/stat`, tells a recycled
//! thread id apart from the thread that recorded it.

use std::cell::Cell;
use std::sync::Once;

use shmipc_core::mpmc::ClaimerId;
use shmipc_core::park::{Liveness, Owner};

thread_local! {
    static ME: Cell<Option<Owner>> = const { Cell::new(None) };
    /// [`process_key`], once computed on this thread (0 before).
    static PROCESS_KEY: Cell<u64> = const { Cell::new(0) };
}

static ATFORK: Once = Once::new();

/// A forked child is a new thread in a new process: forget the parent's identity.
extern "C" fn forget_identity_in_child() {
    let _ = ME.try_with(|me| me.set(None));
    let _ = PROCESS_KEY.try_with(|key| key.set(0));
}

/// The calling thread's identity. Costs a thread-local read after the first call.
#[inline]
pub(crate) fn current() -> Owner {
    ME.try_with(|me| match me.get() {
        Some(owner) => owner,
        None => {
            let owner = discover();
            me.set(Some(owner));
            owner
        }
    })
    // During thread teardown the thread-local may be gone; the answer is the same.
    .unwrap_or_else(|_| discover())
}

/// Bits of a thread or process id in a packed word (Linux's `PID_MAX_LIMIT`
/// is 2^22).
const ID_BITS: u32 = 22;
const ID_MASK: u64 = (1 << ID_BITS) - 1;
/// Bits of the start time in a packed word: the rest.
const START_BITS: u32 = 64 - 2 * ID_BITS;

/// The calling thread's identity packed into one non-zero word, read and
/// written whole, so that a reader never pairs one holder's pid with
/// another's tid.
///
/// Thread and process ids stay below 2^22 (Linux's `PID_MAX_LIMIT`), so the
/// word keeps both whole and the low 20 bits of the start time (2.9 hours
/// of ticks at 100 Hz): two threads alive at once never share a word, and a
/// dead holder's word matches a new thread only if that thread has the same
/// tid, the same pid and a start time a multiple of 2^20 ticks later.
pub(crate) fn pack(owner: &Owner) -> u64 {
    let packed = (owner.tid as u64 & ID_MASK)
        | (owner.pid as u64 & ID_MASK) << ID_BITS
        | owner.start << (2 * ID_BITS);
    packed.max(1)
}

/// The owner a [`pack`]ed word names, with only the low [`START_BITS`]
/// bits of its start time.
pub(crate) fn unpack(packed: u64) -> Owner {
    Owner {
        tid: (packed & ID_MASK) as u32,
        pid: (packed >> ID_BITS & ID_MASK) as u32,
        start: packed >> (2 * ID_BITS),
    }
}

/// Whether the thread a [`pack`]ed word names still exists, with the start
/// time compared in the bits the word keeps. Errs towards alive.
pub(crate) fn packed_liveness(packed: u64) -> Liveness {
    let owner = unpack(packed);
    if owner.tid == 0 {
        return Liveness::Dead;
    }
    match exists(&owner) {
        Existence::Gone => return Liveness::Dead,
        Existence::Exists | Existence::Unknown => {}
    }
    let low = |start: u64| start & ((1 << START_BITS) - 1);
    match read_stat(owner.pid, owner.tid) {
        Some(stat) if matches!(stat.state, b'Z' | b'X' | b'x') => Liveness::Dead,
        Some(stat) if owner.start != 0 && low(stat.start) != low(owner.start) => Liveness::Dead,
        _ => Liveness::Alive,
    }
}

/// The cheap half of [`packed_liveness`]: whether the thread the word
/// names exists at all (one signal-0 syscall; a recycled thread id reads as
/// alive).
pub(crate) fn packed_thread_exists(packed: u64) -> bool {
    let owner = unpack(packed);
    owner.tid != 0 && !matches!(exists(&owner), Existence::Gone)
}

/// The calling thread, with the start time of its *process* rather than its
/// own: the record of something a process holds whichever of its threads
/// uses it (a queue role held by a handle that moves between threads), so
/// that only the process's death frees it.
pub(crate) fn current_in_process() -> Owner {
    let me = current();
    Owner {
        start: process_start(me.pid),
        ..me
    }
}

/// This process as one packed word (its pid as the thread too, and the low
/// bits of its start time): the key of something the process holds whichever
/// of its threads acts.
///
/// Cached per thread (a JoinableQueue asks on every `get` and `task_done`),
/// and forgotten in a forked child as the identity is.
#[inline]
pub(crate) fn process_key() -> u64 {
    PROCESS_KEY
        .try_with(|cached| match cached.get() {
            0 => {
                let key = compute_process_key();
                cached.set(key);
                key
            }
            key => key,
        })
        .unwrap_or_else(|_| compute_process_key())
}

fn compute_process_key() -> u64 {
    // `current` registers the fork handler that clears the cache.
    let me = current_in_process();
    pack(&Owner { tid: me.pid, ..me })
}

/// The start time of process `pid` (this one), read once per process.
fn process_start(pid: u32) -> u64 {
    static CACHE: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    use std::sync::atomic::Ordering::Relaxed;
    // The pid sits beside the start time, so a forked child (a new pid)
    // reads its own instead of its parent's.
    let cached = CACHE.load(Relaxed);
    if cached != 0 && (cached & ID_MASK) as u32 == pid {
        return cached >> ID_BITS;
    }
    let start = read_stat(pid, pid).map(|s| s.start).unwrap_or(0);
    CACHE.store(start << ID_BITS | (pid as u64 & ID_MASK), Relaxed);
    start
}

/// Bits of the start time a [`claimer_id`] keeps: the rest of its 30.
const CLAIMER_START_BITS: u32 = ClaimerId::MAX.count_ones() - ID_BITS;

/// This process as the 30-bit id an MPMC ring records in a claimed slot:
/// its pid and the low 8 bits of its start time, from [`process_key`]
/// (so cached per thread, and new in a forked child).
#[inline]
pub(crate) fn claimer_id() -> ClaimerId {
    let key = process_key();
    let pid = key >> ID_BITS & ID_MASK;
    let start = key >> (2 * ID_BITS) & ((1 << CLAIMER_START_BITS) - 1);
    // 22 + 8 bits: nothing is cut.
    ClaimerId::from_low_bits((pid | start << ID_BITS) as u32)
}

/// Whether the process a [`claimer_id`] names still exists. Errs towards
/// alive, as [`liveness`]: a pid reused by a process whose start time has
/// the same low 8 bits reads as alive.
pub(crate) fn claimer_liveness(id: ClaimerId) -> Liveness {
    let id = u64::from(id.get());
    let owner = Owner {
        pid: (id & ID_MASK) as u32,
        tid: (id & ID_MASK) as u32,
        start: id >> ID_BITS,
    };
    process_liveness_in(&owner, CLAIMER_START_BITS)
}

/// Whether the process recorded in `owner` by a packed word (its pid and
/// the low bits of its start time, as [`current_in_process`] and
/// [`unpack`] give them) still exists. Errs towards alive, as [`liveness`].
pub(crate) fn process_liveness(owner: &Owner) -> Liveness {
    process_liveness_in(owner, START_BITS)
}

/// [`process_liveness`], comparing the low `start_bits` of the start time.
fn process_liveness_in(owner: &Owner, start_bits: u32) -> Liveness {
    let Ok(pid) = libc::pid_t::try_from(owner.pid) else {
        return Liveness::Dead;
    };
    if pid == 0 {
        return Liveness::Dead;
    }
    // SAFETY: signal 0 only checks that the process exists.
    if unsafe { libc::kill(pid, 0) } != 0
        && std::io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH)
    {
        return Liveness::Dead;
    }
    let low = |start: u64| start & ((1 << start_bits) - 1);
    match read_stat(owner.pid, owner.pid) {
        Some(stat) if matches!(stat.state, b'Z' | b'X' | b'x') => Liveness::Dead,
        Some(stat) if owner.start != 0 && low(stat.start) != low(owner.start) => Liveness::Dead,
        _ => Liveness::Alive,
    }
}

fn discover() -> Owner {
    ATFORK.call_once(|| {
        // SAFETY: registers a handler that only touches this thread's own
        // thread-local cell; no locks, no allocation.
        unsafe {
            libc::pthread_atfork(None, None, Some(forget_identity_in_child));
        }
    });
    // SAFETY: gettid has no preconditions and cannot fail.
    let tid = unsafe { libc::syscall(libc::SYS_gettid) } as u32;
    let pid = std::process::id();
    let start = read_stat(pid, tid).map(|s| s.start).unwrap_or(0);
    Owner { tid, pid, start }
}

/// This process's pid and start time, as recorded in segment headers.
pub(crate) fn this_process() -> (u32, u64) {
    let pid = std::process::id();
    (pid, read_stat(pid, pid).map(|s| s.start).unwrap_or(0))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Stat {
    pub state: u8,
    pub start: u64,
}

/// Parses the state (field 3) and start time (field 22) of a `/proc/.../stat` line.
/// The command name (field 2) may hold spaces and parentheses, so fields are
/// counted from the last `)`.
pub(crate) fn parse_stat(text: &str) -> Option<Stat> {
    let rest = &text[text.rfind(')')? + 1..];
    let mut fields = rest.split_ascii_whitespace();
    let state = *fields.next()?.as_bytes().first()?;
    // Field 3 was the state; the start time is field 22, 19 further on.
    let start = fields.nth(18)?.parse().ok()?;
    Some(Stat { state, start })
}

fn read_stat(pid: u32, tid: u32) -> Option<Stat> {
    let path = if pid != 0 {
        format!("/proc/{pid}/task/{tid}/stat")
    } else {
        format!("/proc/{tid}/stat")
    };
    parse_stat(&std::fs::read_to_string(path).ok()?)
}

enum Existence {
    Gone,
    Exists,
    Unknown,
}

fn exists(owner: &Owner) -> Existence {
    if owner.pid == 0 {
        // Without the pid, /proc/<tid> still resolves any thread id.
        return match std::fs::metadata(format!("/proc/{}", owner.tid)) {
            Ok(_) => Existence::Exists,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Existence::Gone,
            Err(_) => Existence::Unknown,
        };
    }
    let (Ok(pid), Ok(tid)) = (i32::try_from(owner.pid), i32::try_from(owner.tid)) else {
        return Existence::Gone;
    };
    // SAFETY: signal 0 only checks that the thread exists and may be signalled.
    let rc = unsafe { libc::syscall(libc::SYS_tgkill, pid, tid, 0) };
    if rc == 0 {
        return Existence::Exists;
    }
    match std::io::Error::last_os_error().raw_os_error() {
        Some(libc::ESRCH) => Existence::Gone,
        Some(libc::EPERM) => Existence::Exists,
        _ => Existence::Unknown,
    }
}

/// Whether `owner` still exists. Errs towards [`Liveness::Alive`]: a holder is
/// declared dead only when the OS says its thread is gone or a zombie, or when
/// its thread id now belongs to a thread with another start time.
pub(crate) fn liveness(owner: &Owner) -> Liveness {
    if owner.tid == 0 {
        // No thread has id 0: a state word naming it was not written by a holder.
        return Liveness::Dead;
    }
    match exists(owner) {
        Existence::Gone => return Liveness::Dead,
        Existence::Exists | Existence::Unknown => {}
    }
    match read_stat(owner.pid, owner.tid) {
        Some(stat) if matches!(stat.state, b'Z' | b'X' | b'x') => Liveness::Dead,
        Some(stat) if owner.start != 0 && stat.start != owner.start => Liveness::Dead,
        _ => Liveness::Alive,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_stat_with_hostile_command_names() {
        let line =
            "1234 (a) b (c)) S 1 1234 1234 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 1000 10";
        assert_eq!(
            parse_stat(line),
            Some(Stat {
                state: b'S',
                start: 987654
            })
        );
        assert_eq!(parse_stat("garbage"), None);
        assert_eq!(parse_stat("1 (x) Z"), None);
    }

    #[test]
    fn this_process_is_a_live_claimer_and_a_reaped_child_a_dead_one() {
        assert_eq!(claimer_liveness(claimer_id()), Liveness::Alive);
        assert_eq!(claimer_id().get() & ID_MASK as u32, std::process::id());
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        child.wait().unwrap();
        let start = claimer_id().get() >> ID_BITS;
        let id = ClaimerId::new(pid | start << ID_BITS).unwrap();
        assert_eq!(claimer_liveness(id), Liveness::Dead);
    }

    #[test]
    fn this_thread_is_alive_and_a_vanished_one_is_dead() {
        let me = current();
        assert_eq!(me.pid, std::process::id());
        assert_ne!(me.start, 0);
        assert_eq!(liveness(&me), Liveness::Alive);
        let child = std::thread::spawn(current).join().unwrap();
        assert_ne!(child.tid, me.tid);
        // `join` returns once the kernel clears the thread's tid word, a moment
        // before the task is released; the lock's poll simply looks again, and so
        // does this test, within a generous bound.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while liveness(&child) != Liveness::Dead {
            assert!(
                std::time::Instant::now() < deadline,
                "exited thread still alive"
            );
            std::thread::yield_now();
        }
        let recycled = Owner {
            start: me.start + 1,
            ..me
        };
        assert_eq!(liveness(&recycled), Liveness::Dead);
    }
}
