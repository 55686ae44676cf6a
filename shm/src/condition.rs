//! `Condition`: a condition variable over a Lock or an RLock (Python's
//! `multiprocessing.Condition`).

use std::fmt;
use std::ptr::NonNull;
use std::sync::Arc;
use std::time::Duration;

use shmipc_core::fingerprint::Fingerprint;
use shmipc_core::header::Kind;
use shmipc_core::layout::{CellLayout, LockPlacement};
use shmipc_core::raw_condition::{RawCondition, CONDITION_SLOTS};

use crate::cells::{check_guard, read_lock_name, write_lock_name, CellLock};
use crate::error::{Error, Result};
use crate::futex::{FutexPark, FutexWake};
use crate::identity;
use crate::lock::{outcome, Guard, Lock, LockKind, OwnerDied};
use crate::options::Options;
use crate::segment::{check_layout, checked_name, Segment, Spec};

/// Header flag: the condition's lock is an RLock.
pub(crate) const REENTRANT_FLAG: u16 = 4;

/// Why a condition wait did not hand the guard back plainly.
#[non_exhaustive]
pub enum WaitError<G: Guard> {
    /// The wait ended, but re-taking the lock found that a holder had died:
    /// see [`OwnerDied`] (it holds the guard).
    OwnerDied(OwnerDied<G>),
    /// The guard holds another lock than the condition's; nothing was done.
    WrongLock {
        /// The guard, untouched.
        guard: G,
        /// What was expected and found.
        error: Error,
    },
    /// Every waiter slot of the condition is taken by a live waiter
    /// ([`Error::TooManyWaiters`]); nothing was done.
    Full {
        /// The guard, untouched.
        guard: G,
        /// How many waiters the condition holds.
        error: Error,
    },
}

impl<G: Guard> fmt::Debug for WaitError<G> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WaitError::OwnerDied(e) => f.debug_tuple("OwnerDied").field(e).finish(),
            WaitError::WrongLock { error, .. } => {
                f.debug_struct("WrongLock").field("error", error).finish()
            }
            WaitError::Full { error, .. } => f.debug_struct("Full").field("error", error).finish(),
        }
    }
}

impl<G: Guard> fmt::Display for WaitError<G> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WaitError::OwnerDied(e) => e.fmt(f),
            WaitError::WrongLock { error, .. } | WaitError::Full { error, .. } => error.fmt(f),
        }
    }
}

impl<G: Guard> From<WaitError<G>> for Error {
    fn from(e: WaitError<G>) -> Error {
        match e {
            WaitError::OwnerDied(e) => e.into(),
            WaitError::WrongLock { error, .. } | WaitError::Full { error, .. } => error,
        }
    }
}

/// Whether a timed wait ended by timeout, like std's `WaitTimeoutResult`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WaitTimeoutResult(bool);

impl WaitTimeoutResult {
    /// `true` if the wait ended because the timeout passed without a notification.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-condition-timed_out-0-{}", std::process::id());
    /// let c = shmipc::Condition::<shmipc::Lock>::create(&name)?;
    /// let g = c.get_lock().acquire()?;
    /// let (_g, result) = c.wait_timeout(g, std::time::Duration::from_millis(5))?;
    /// assert!(result.timed_out());
    /// # Ok(()) }
    /// ```
    pub fn timed_out(&self) -> bool {
        self.0
    }
}

/// A condition variable shared by processes, over a [`Lock`] (the default) or
/// an [`RLock`](crate::RLock): its own, or one shared with other objects.
///
/// Waiting takes the lock's guard by value, so waiting without holding the
/// lock cannot be written; a guard of another lock is refused
/// ([`WaitError::WrongLock`]). `notify(n)` wakes `min(n, waiting)` of the
/// waiters that are waiting when it is called, oldest first, and says how
/// many: a waiter that starts waiting later (the notifier itself, in a
/// loop) never takes their notification. There are no spurious wake-ups.
/// A condition holds up to [`CONDITION_SLOTS`] waiters at once
/// ([`WaitError::Full`] past that).
///
/// ```
/// # extern crate shmipc_shm as shmipc;
/// # fn main() -> Result<(), shmipc::Error> {
/// let name = format!("doc-cond-{}", std::process::id());
/// let cond = shmipc::Condition::<shmipc::Lock>::create(&name)?;
/// let guard = cond.get_lock().acquire()?;
/// // Nobody will notify: the timed wait times out, and the guard comes back.
/// let (guard, result) = cond.wait_timeout(guard, std::time::Duration::from_millis(5))?;
/// assert!(result.timed_out());
/// assert_eq!(cond.notify(&guard, 1)?, 0); // nobody waiting
/// # Ok(()) }
/// ```
pub struct Condition<L: LockKind = Lock> {
    segment: Arc<Segment>,
    raw: NonNull<RawCondition>,
    lock: L,
}

// SAFETY: the condition is atomics in a mapping `segment` keeps alive.
unsafe impl<L: LockKind> Send for Condition<L> {}
// SAFETY: as above.
unsafe impl<L: LockKind> Sync for Condition<L> {}

impl<L: LockKind> fmt::Debug for Condition<L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Condition")
            .field("name", &self.name())
            .field("lock", &self.lock.lock_name())
            .field("lock_kind", &L::NAME)
            .finish()
    }
}

fn layout(placement: LockPlacement) -> Result<CellLayout> {
    CellLayout::new(Fingerprint::of::<RawCondition>(), 1, placement)
        .map_err(|e| Error::invalid(e.to_string()))
}

impl<L: LockKind> Condition<L> {
    /// Creates a condition named `name` with a lock of its own.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-condition-create-0-{}", std::process::id());
    /// let c = shmipc::Condition::<shmipc::Lock>::create(&name)?;
    /// assert_eq!(c.name(), name);
    /// # Ok(()) }
    /// ```
    pub fn create(name: &str) -> Result<Condition<L>> {
        Condition::create_with(name, CellLock::Own, &Options::default())
    }

    /// Creates a condition named `name` over `lock`.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-condition-create_with-0-{}", std::process::id());
    /// let lock = shmipc::Lock::create(&format!("{name}-lock"))?;
    /// let c = shmipc::Condition::create_with(&name, shmipc::CellLock::Shared(&lock), &shmipc::Options::new())?;
    /// assert!(c.get_lock().same_lock(&lock));
    /// # Ok(()) }
    /// ```
    pub fn create_with(name: &str, lock: CellLock<'_, L>, opts: &Options) -> Result<Condition<L>> {
        checked_name(name)?;
        let placement = match lock {
            CellLock::Own => LockPlacement::Inline,
            CellLock::Shared(_) => LockPlacement::Named,
        };
        let layout = layout(placement)?;
        let spec = Spec {
            kind: Kind::Condition,
            flags: placement.flags() | if L::REENTRANT { REENTRANT_FLAG } else { 0 },
            fingerprint: Fingerprint::of::<RawCondition>(),
            type_name: "RawCondition",
            param: 1,
            total_size: layout.total_size,
        };
        let segment = Segment::create(name, &spec, opts, |base| {
            if let (CellLock::Shared(shared), Some(at)) = (lock, layout.lock_offset) {
                // SAFETY: the layout reserved the name record at `at` in the fresh mapping.
                unsafe { write_lock_name(base.as_ptr().add(at), shared.lock_name()) };
            }
        })?;
        let segment = Arc::new(segment);
        let lock = match lock {
            CellLock::Own => L::at(segment.clone(), layout.lock_offset.unwrap_or_default())?,
            CellLock::Shared(shared) => shared.clone(),
        };
        Condition::assemble(segment, layout, lock)
    }

    /// Opens the condition named `name`.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-condition-open-0-{}", std::process::id());
    /// # let _c = shmipc::Condition::<shmipc::Lock>::create(&name)?;
    /// let c = shmipc::Condition::<shmipc::Lock>::open(&name)?;
    /// # drop(c);
    /// # Ok(()) }
    /// ```
    pub fn open(name: &str) -> Result<Condition<L>> {
        Condition::open_with(name, &Options::default())
    }

    /// Opens the condition named `name` with `opts`; fails with
    /// [`Error::LockKindMismatch`] if it was created over the other lock type.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-condition-open_with-0-{}", std::process::id());
    /// # let _c = shmipc::Condition::<shmipc::Lock>::create(&name)?;
    /// let c = shmipc::Condition::<shmipc::Lock>::open_with(&name, &shmipc::Options::new())?;
    /// # drop(c);
    /// # Ok(()) }
    /// ```
    pub fn open_with(name: &str, opts: &Options) -> Result<Condition<L>> {
        let fingerprint = Fingerprint::of::<RawCondition>();
        let segment = Segment::open(name, Kind::Condition, fingerprint, "RawCondition", opts)?;
        let flags = segment.header().flags;
        if (flags & REENTRANT_FLAG != 0) != L::REENTRANT {
            return Err(Error::LockKindMismatch {
                name: name.to_owned(),
                expected: L::NAME,
                found: if L::REENTRANT { "Lock" } else { "RLock" },
            });
        }
        let placement = match LockPlacement::from_flags(flags & !REENTRANT_FLAG) {
            Some(p @ (LockPlacement::Inline | LockPlacement::Named)) => p,
            _ => return Err(Error::bad_flags(name, Kind::Condition, flags)),
        };
        let layout = check_layout(
            &segment,
            Kind::Condition,
            CellLayout::new(Fingerprint::of::<RawCondition>(), 1, placement),
            |l| l.total_size,
        )?;
        let segment = Arc::new(segment);
        let at = layout.lock_offset.unwrap_or_default();
        let lock = match placement {
            LockPlacement::Named => L::open_named(&read_lock_name(&segment, at)?, opts)?,
            _ => L::at(segment.clone(), at)?,
        };
        Condition::assemble(segment, layout, lock)
    }

    fn assemble(segment: Arc<Segment>, layout: CellLayout, lock: L) -> Result<Condition<L>> {
        let raw = segment
            .at(layout.data_offset, std::mem::size_of::<RawCondition>())?
            .cast();
        Ok(Condition { segment, raw, lock })
    }

    fn raw(&self) -> &RawCondition {
        // SAFETY: aligned (data offset is a multiple of 64), inside the mapping,
        // atomics only.
        unsafe { self.raw.as_ref() }
    }

    /// The condition's name.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-condition-name-0-{}", std::process::id());
    /// let c = shmipc::Condition::<shmipc::Lock>::create(&name)?;
    /// assert_eq!(c.name(), name);
    /// # Ok(()) }
    /// ```
    pub fn name(&self) -> &str {
        self.segment.name()
    }

    /// The lock the condition waits with (Python's `Condition._lock`): acquire
    /// it to get the guard that `wait` and `notify` take.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-condition-get_lock-0-{}", std::process::id());
    /// let c = shmipc::Condition::<shmipc::Lock>::create(&name)?;
    /// let guard = c.get_lock().acquire()?;
    /// # drop(guard);
    /// # Ok(()) }
    /// ```
    pub fn get_lock(&self) -> &L {
        &self.lock
    }

    /// Releases the lock, waits for a notification, re-takes the lock. For an
    /// RLock held several times, every level is released and restored.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-condition-wait-0-{}", std::process::id());
    /// let c = std::sync::Arc::new(shmipc::Condition::<shmipc::Lock>::create(&name)?);
    /// let ready = shmipc::RawValue::create(&format!("{name}-ready"), 0u8)?;
    /// let notifier = std::thread::spawn({
    ///     let (c, name) = (c.clone(), format!("{name}-ready"));
    ///     move || -> Result<(), shmipc::Error> {
    ///         let ready = shmipc::RawValue::<u8>::open(&name)?;
    ///         let g = c.get_lock().acquire()?;
    ///         ready.store(1);
    ///         c.notify_all(&g)?;
    ///         Ok(())
    ///     }
    /// });
    /// let mut g = c.get_lock().acquire()?;
    /// while ready.load() == 0 {
    ///     g = c.wait(g)?;
    /// }
    /// # drop(g); notifier.join().unwrap()?;
    /// # Ok(()) }
    /// ```
    pub fn wait<G: Guard>(&self, guard: G) -> std::result::Result<G, WaitError<G>> {
        self.wait_inner(guard, None).map(|(guard, _)| guard)
    }

    /// As [`Condition::wait`], for at most `timeout`.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-condition-wait_timeout-0-{}", std::process::id());
    /// let c = shmipc::Condition::<shmipc::Lock>::create(&name)?;
    /// let g = c.get_lock().acquire()?;
    /// let (g, result) = c.wait_timeout(g, std::time::Duration::from_millis(5))?;
    /// assert!(result.timed_out());
    /// # drop(g);
    /// # Ok(()) }
    /// ```
    pub fn wait_timeout<G: Guard>(
        &self,
        guard: G,
        timeout: Duration,
    ) -> std::result::Result<(G, WaitTimeoutResult), WaitError<G>> {
        self.wait_inner(guard, Some(timeout))
            .map(|(guard, notified)| (guard, WaitTimeoutResult(!notified)))
    }

    /// Waits while `condition` holds (std's `wait_while`; Python's
    /// `wait_for(predicate)` with the predicate negated).
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-condition-wait_while-0-{}", std::process::id());
    /// let c = shmipc::Condition::<shmipc::Lock>::create(&name)?;
    /// let g = c.get_lock().acquire()?;
    /// let g = c.wait_while(g, |_| false)?; // nothing to wait for
    /// # drop(g);
    /// # Ok(()) }
    /// ```
    pub fn wait_while<G: Guard>(
        &self,
        mut guard: G,
        mut condition: impl FnMut(&mut G) -> bool,
    ) -> std::result::Result<G, WaitError<G>> {
        while condition(&mut guard) {
            guard = self.wait(guard)?;
        }
        Ok(guard)
    }

    /// Waits while `condition` holds, for at most `timeout` in all.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-condition-wait_timeout_while-0-{}", std::process::id());
    /// let c = shmipc::Condition::<shmipc::Lock>::create(&name)?;
    /// let g = c.get_lock().acquire()?;
    /// let (g, result) = c.wait_timeout_while(g, std::time::Duration::from_millis(5), |_| true)?;
    /// assert!(result.timed_out());
    /// # drop(g);
    /// # Ok(()) }
    /// ```
    pub fn wait_timeout_while<G: Guard>(
        &self,
        mut guard: G,
        timeout: Duration,
        mut condition: impl FnMut(&mut G) -> bool,
    ) -> std::result::Result<(G, WaitTimeoutResult), WaitError<G>> {
        let deadline = std::time::Instant::now().checked_add(timeout);
        while condition(&mut guard) {
            let left = match deadline {
                Some(d) => d.saturating_duration_since(std::time::Instant::now()),
                None => Duration::MAX,
            };
            if left.is_zero() {
                return Ok((guard, WaitTimeoutResult(true)));
            }
            guard = self.wait_timeout(guard, left)?.0;
        }
        Ok((guard, WaitTimeoutResult(false)))
    }

    fn wait_inner<G: Guard>(
        &self,
        guard: G,
        timeout: Option<Duration>,
    ) -> std::result::Result<(G, bool), WaitError<G>> {
        if let Err(error) = check_guard(self.name(), &self.lock, &guard) {
            return Err(WaitError::WrongLock { guard, error });
        }
        let raw = self.raw();
        let me = identity::pack(&identity::current());
        let Some(ticket) = raw.enqueue(me, |key| {
            identity::packed_liveness(key) == shmipc_core::park::Liveness::Alive
        }) else {
            let error = Error::TooManyWaiters {
                name: self.name().to_owned(),
                limit: CONDITION_SLOTS as u32,
            };
            return Err(WaitError::Full { guard, error });
        };
        let depth = guard.unlock_for_wait();
        // No liveness poll: the notifier checks a sleeping waiter, and the
        // lock's own wait (after) watches the lock's holder.
        let mut park = FutexPark::timeout(timeout);
        raw.wait(ticket, &mut park);
        let acquired = guard.relock_after_wait(depth);
        let notified = raw.finish(ticket);
        outcome(guard, acquired)
            .map(|guard| (guard, notified))
            .map_err(WaitError::OwnerDied)
    }

    /// Wakes at most `n` waiters; returns how many. `guard` proves the lock is held.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-condition-notify-0-{}", std::process::id());
    /// let c = shmipc::Condition::<shmipc::Lock>::create(&name)?;
    /// let g = c.get_lock().acquire()?;
    /// assert_eq!(c.notify(&g, 1)?, 0); // nobody waits
    /// # Ok(()) }
    /// ```
    pub fn notify<G: Guard>(&self, guard: &G, n: u32) -> Result<u32> {
        check_guard(self.name(), &self.lock, guard)?;
        // A cheap look (one signal-0 syscall) at a waiter that sleeps, which
        // costs a wake-up syscall anyway: a dead one must not take the
        // notification from a live one.
        Ok(self
            .raw()
            .notify(n, &FutexWake, identity::packed_thread_exists))
    }

    /// Wakes every waiter; returns how many.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-condition-notify_all-0-{}", std::process::id());
    /// let c = shmipc::Condition::<shmipc::Lock>::create(&name)?;
    /// let g = c.get_lock().acquire()?;
    /// assert_eq!(c.notify_all(&g)?, 0);
    /// # Ok(()) }
    /// ```
    pub fn notify_all<G: Guard>(&self, guard: &G) -> Result<u32> {
        self.notify(guard, u32::MAX)
    }

    /// Waiters not yet notified (a snapshot). For tests and diagnostics.
    #[doc(hidden)]
    pub fn n_waiting(&self) -> u32 {
        self.raw().waiting()
    }
}
