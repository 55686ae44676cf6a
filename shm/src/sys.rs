//! Thin, checked wrappers over the libc calls shmipc makes. Every `unsafe` libc
//! call in the crate lives here or in `futex.rs`.

use std::ffi::CString;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

/// What every shmipc segment name starts with in `/dev/shm`, so that tools
/// can tell ours from anyone else's.
pub const OS_PREFIX: &str = "shmipc.";

/// The `shm_open` name for a validated user name.
pub(crate) fn os_name(name: &str) -> CString {
    // A validated name holds no NUL byte, so this cannot fail; fall back to a
    // name that can never exist rather than panic.
    CString::new(format!("/{OS_PREFIX}{name}")).unwrap_or_default()
}

/// Where glibc keeps POSIX shared memory objects.
pub(crate) fn dev_shm_path(name: &str) -> String {
    format!("/dev/shm/{OS_PREFIX}{name}")
}

pub(crate) fn shm_open(os_name: &CString, flags: i32, mode: u32) -> io::Result<OwnedFd> {
    // SAFETY: `os_name` is a valid NUL-terminated string for the duration of the call.
    let fd = unsafe { libc::shm_open(os_name.as_ptr(), flags, mode as libc::mode_t) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `shm_open` returned a fresh descriptor that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

pub(crate) fn shm_unlink(os_name: &CString) -> io::Result<()> {
    // SAFETY: `os_name` is a valid NUL-terminated string.
    if unsafe { libc::shm_unlink(os_name.as_ptr()) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// The facts of a file that shmipc cares about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FileFacts {
    pub mode: u32,
    pub size: u64,
    pub dev: u64,
    pub ino: u64,
}

// `stat` field widths differ between targets; the conversions are identities on x86_64 only.
#[allow(clippy::useless_conversion)]
fn facts(st: &libc::stat) -> FileFacts {
    FileFacts {
        mode: u32::from(st.st_mode) & 0o7777,
        size: u64::try_from(st.st_size).unwrap_or(0),
        dev: u64::from(st.st_dev),
        ino: u64::from(st.st_ino),
    }
}

pub(crate) fn fstat(fd: &impl AsRawFd) -> io::Result<FileFacts> {
    let mut st = std::mem::MaybeUninit::<libc::stat>::uninit();
    // SAFETY: `st` is valid for writes of one `stat`; the fd is open.
    if unsafe { libc::fstat(fd.as_raw_fd(), st.as_mut_ptr()) } < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: fstat succeeded, so it initialised `st`.
    Ok(facts(unsafe { &st.assume_init() }))
}

pub(crate) fn stat_path(path: &str) -> io::Result<FileFacts> {
    let c = CString::new(path).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    let mut st = std::mem::MaybeUninit::<libc::stat>::uninit();
    // SAFETY: `c` is NUL-terminated; `st` is valid for writes of one `stat`.
    if unsafe { libc::stat(c.as_ptr(), st.as_mut_ptr()) } < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: stat succeeded, so it initialised `st`.
    Ok(facts(unsafe { &st.assume_init() }))
}

pub(crate) fn fchmod(fd: &impl AsRawFd, mode: u32) -> io::Result<()> {
    // SAFETY: plain syscall on an open descriptor.
    if unsafe { libc::fchmod(fd.as_raw_fd(), mode as libc::mode_t) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

pub(crate) fn ftruncate(fd: &impl AsRawFd, len: u64) -> io::Result<()> {
    let len =
        libc::off_t::try_from(len).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    // SAFETY: plain syscall on an open descriptor.
    if unsafe { libc::ftruncate(fd.as_raw_fd(), len) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// `membarrier(2)` commands (linux/membarrier.h).
const MEMBARRIER_CMD_QUERY: libc::c_int = 0;
const MEMBARRIER_CMD_GLOBAL_EXPEDITED: libc::c_int = 1 << 1;
const MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED: libc::c_int = 1 << 2;

fn membarrier(cmd: libc::c_int) -> libc::c_long {
    // SAFETY: membarrier takes two integer arguments and touches no memory of ours.
    unsafe { libc::syscall(libc::SYS_membarrier, cmd, 0, 0) }
}

static MEMBARRIER_REGISTERED: std::sync::OnceLock<bool> = std::sync::OnceLock::new();

/// Whether this process is registered for global expedited membarriers, so
/// that another process's [`heavy_barrier`] orders our accesses. Registers on
/// the first call.
#[inline]
pub(crate) fn membarrier_registered() -> bool {
    // One relaxed load once registered: the notifier asks on every put and get.
    MEMBARRIER_READY.load(std::sync::atomic::Ordering::Relaxed) || membarrier_register()
}

/// Set once this process is registered (never cleared).
static MEMBARRIER_READY: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

#[cold]
fn membarrier_register() -> bool {
    *MEMBARRIER_REGISTERED.get_or_init(|| {
        let supported = membarrier(MEMBARRIER_CMD_QUERY);
        let wanted = (MEMBARRIER_CMD_GLOBAL_EXPEDITED | MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED)
            as libc::c_long;
        let registered = supported >= 0
            && supported & wanted == wanted
            && membarrier(MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED) == 0;
        MEMBARRIER_READY.store(registered, std::sync::atomic::Ordering::Relaxed);
        registered
    })
}

/// A full barrier on every CPU running a registered process (and here): the
/// waiter's half of the asymmetric barrier. Returns whether it reached the
/// other processes: `false` if the kernel refused the membarrier (a seccomp
/// filter, an old kernel), in which case a notifier that registered and so
/// uses only a compiler fence may miss this waiter (see ARCHITECTURE.md,
/// "The asymmetric barrier when not every process could register").
pub(crate) fn heavy_barrier() -> bool {
    std::sync::atomic::fence(std::sync::atomic::Ordering::SeqCst);
    membarrier_available() && membarrier(MEMBARRIER_CMD_GLOBAL_EXPEDITED) == 0
}

/// Whether this process can issue the global expedited membarrier at all:
/// the kernel supports it and lets this process call it. Asked once.
fn membarrier_available() -> bool {
    static AVAILABLE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *AVAILABLE.get_or_init(|| {
        let supported = membarrier(MEMBARRIER_CMD_QUERY);
        supported >= 0 && supported & MEMBARRIER_CMD_GLOBAL_EXPEDITED as libc::c_long != 0
    })
}
