//! `Barrier`: parties wait for each other, round after round (Python's
//! `multiprocessing.Barrier`).

use std::fmt;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::time::Duration;

use shmipc_core::header::Kind;
use shmipc_core::park::Owner;
use shmipc_core::racy;
use shmipc_core::raw_barrier::{BarrierError, RawBarrier};

use crate::error::{BrokenReason, Corruption, Error, Result};
use crate::futex::{FutexPark, FutexWake};
use crate::identity;
use crate::object::{Object, ObjectSpec};
use crate::options::Options;

/// After the barrier structure: the default timeout in nanoseconds (u64::MAX: none).
const BARRIER: ObjectSpec = ObjectSpec {
    kind: Kind::Barrier,
    extra: 64,
};
const NO_TIMEOUT: u64 = u64::MAX;

type Action = Box<dyn Fn() + Send + Sync>;

/// A barrier for a fixed number of parties, shared by processes, like Python's
/// `multiprocessing.Barrier`.
///
/// - [`wait`](Barrier::wait) returns this party's arrival index, distinct within
///   a round (0 for the first to arrive).
/// - An action ([`with_action`](Barrier::with_action)) runs once per round, in
///   the last party to arrive, before any party leaves. If it panics, the
///   barrier breaks and the panic continues in that party.
/// - A timeout, [`abort`](Barrier::abort), or the death of a participant
///   process breaks the barrier: every waiter gets [`Error::BrokenBarrier`],
///   and so does every later wait until [`reset`](Barrier::reset).
///
/// Every process holding a handle is a participant for death detection (up to
/// 64 processes per barrier).
///
/// ```
/// # extern crate shmipc_shm as shmipc;
/// # fn main() -> Result<(), shmipc::Error> {
/// let name = format!("doc-barrier-{}", std::process::id());
/// let barrier = shmipc::Barrier::create(&name, 2)?;
/// let other = shmipc::Barrier::open(&name)?;
/// let peer = std::thread::spawn(move || other.wait());
/// let mine = barrier.wait()?;
/// let theirs = peer.join().unwrap()?;
/// assert_eq!(mine + theirs, 1); // indices 0 and 1
/// # Ok(()) }
/// ```
pub struct Barrier {
    object: Object<RawBarrier>,
    parties: u32,
    timeout: Option<Duration>,
    slot: Option<usize>,
    process: Owner,
    action: Option<Action>,
}

impl fmt::Debug for Barrier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Barrier")
            .field("name", &self.name())
            .field("parties", &self.parties)
            .field("n_waiting", &self.n_waiting())
            .field("broken", &self.is_broken())
            .finish()
    }
}

impl Barrier {
    /// Creates a barrier named `name` for `parties` parties, with no default timeout.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-barrier-create-0-{}", std::process::id());
    /// let b = shmipc::Barrier::create(&name, 1)?;
    /// assert_eq!(b.wait()?, 0); // one party: never waits
    /// # Ok(()) }
    /// ```
    pub fn create(name: &str, parties: u32) -> Result<Barrier> {
        Barrier::create_with(name, parties, None, &Options::default())
    }

    /// Creates a barrier with a default timeout for [`Barrier::wait`] (Python's
    /// `timeout` argument), stored in the segment for every opener.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-barrier-create_with-0-{}", std::process::id());
    /// let b = shmipc::Barrier::create_with(&name, 2, Some(std::time::Duration::from_secs(5)), &shmipc::Options::new())?;
    /// assert_eq!(b.timeout(), Some(std::time::Duration::from_secs(5)));
    /// # Ok(()) }
    /// ```
    pub fn create_with(
        name: &str,
        parties: u32,
        timeout: Option<Duration>,
        opts: &Options,
    ) -> Result<Barrier> {
        if parties == 0 {
            return Err(Error::invalid("expected at least 1 party, found 0"));
        }
        let nanos = timeout.map_or(NO_TIMEOUT, |t| {
            u64::try_from(t.as_nanos()).unwrap_or(NO_TIMEOUT - 1)
        });
        let object = Object::create(
            name,
            &BARRIER,
            u64::from(parties),
            opts,
            |_: &RawBarrier, extra| {
                // SAFETY: the spec reserved 64 bytes after the barrier, in the fresh mapping.
                unsafe { racy::store(nanos.to_ne_bytes().as_ptr(), extra.as_ptr(), 8) };
            },
        )?;
        Barrier::assemble(object)
    }

    /// Opens the barrier named `name`.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-barrier-open-0-{}", std::process::id());
    /// # let _b = shmipc::Barrier::create(&name, 2)?;
    /// let b = shmipc::Barrier::open(&name)?;
    /// assert_eq!(b.parties(), 2);
    /// # Ok(()) }
    /// ```
    pub fn open(name: &str) -> Result<Barrier> {
        Barrier::open_with(name, &Options::default())
    }

    /// Opens the barrier named `name` with `opts`.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-barrier-open_with-0-{}", std::process::id());
    /// # let _b = shmipc::Barrier::create(&name, 2)?;
    /// let b = shmipc::Barrier::open_with(&name, &shmipc::Options::new())?;
    /// assert_eq!(b.parties(), 2);
    /// # Ok(()) }
    /// ```
    pub fn open_with(name: &str, opts: &Options) -> Result<Barrier> {
        Barrier::assemble(Object::open(name, &BARRIER, opts)?)
    }

    fn assemble(object: Object<RawBarrier>) -> Result<Barrier> {
        let parties = u32::try_from(object.param())
            .ok()
            .filter(|&p| p != 0)
            .ok_or_else(|| {
                Error::corrupt(
                    object.name(),
                    Corruption::Parameter {
                        kind: Kind::Barrier,
                        found: object.param(),
                        layout: None,
                    },
                )
            })?;
        let mut nanos = [0u8; 8];
        let extra = object.extra(8)?;
        // SAFETY: `extra` is valid for 8 bytes (checked by `Object::extra`).
        unsafe { racy::load(extra.as_ptr(), nanos.as_mut_ptr(), 8) };
        let timeout = match u64::from_ne_bytes(nanos) {
            NO_TIMEOUT => None,
            n => Some(Duration::from_nanos(n)),
        };
        let (pid, start) = identity::this_process();
        let process = Owner {
            tid: pid,
            pid,
            start,
        };
        let slot = object.raw().register(&process);
        Ok(Barrier {
            object,
            parties,
            timeout,
            slot,
            process,
            action: None,
        })
    }

    /// The action this handle runs when its party is the last to arrive.
    /// (Each process gives its own; Python's runs in whichever party is last.)
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-barrier-with_action-0-{}", std::process::id());
    /// let b = shmipc::Barrier::create(&name, 1)?.with_action(|| println!("all arrived"));
    /// b.wait()?;
    /// # Ok(()) }
    /// ```
    pub fn with_action(mut self, action: impl Fn() + Send + Sync + 'static) -> Barrier {
        self.action = Some(Box::new(action));
        self
    }

    /// The barrier's name.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-barrier-name-0-{}", std::process::id());
    /// let b = shmipc::Barrier::create(&name, 2)?;
    /// assert_eq!(b.name(), name);
    /// # Ok(()) }
    /// ```
    pub fn name(&self) -> &str {
        self.object.name()
    }

    /// The number of parties per round.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-barrier-parties-0-{}", std::process::id());
    /// let b = shmipc::Barrier::create(&name, 3)?;
    /// assert_eq!(b.parties(), 3);
    /// # Ok(()) }
    /// ```
    pub fn parties(&self) -> u32 {
        self.parties
    }

    /// The default timeout of [`Barrier::wait`].
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-barrier-timeout-0-{}", std::process::id());
    /// let b = shmipc::Barrier::create(&name, 2)?;
    /// assert_eq!(b.timeout(), None);
    /// # Ok(()) }
    /// ```
    pub fn timeout(&self) -> Option<Duration> {
        self.timeout
    }

    /// Waits for the round to fill (at most the default timeout, if any);
    /// returns this party's arrival index.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-barrier-wait-0-{}", std::process::id());
    /// let b = shmipc::Barrier::create(&name, 2)?;
    /// let other = shmipc::Barrier::open(&name)?;
    /// let t = std::thread::spawn(move || other.wait());
    /// let mine = b.wait()?;
    /// let theirs = t.join().unwrap()?;
    /// assert_eq!(mine + theirs, 1); // indices 0 and 1
    /// # Ok(()) }
    /// ```
    pub fn wait(&self) -> Result<u32> {
        self.wait_inner(self.timeout)
    }

    /// Waits at most `timeout`; on timeout the barrier breaks, for everyone.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-barrier-wait_timeout-0-{}", std::process::id());
    /// let b = shmipc::Barrier::create(&name, 2)?;
    /// let alone = b.wait_timeout(std::time::Duration::from_millis(10));
    /// assert!(matches!(alone, Err(shmipc::Error::BrokenBarrier { reason: shmipc::BrokenReason::TimedOut { .. }, .. })));
    /// # Ok(()) }
    /// ```
    pub fn wait_timeout(&self, timeout: Duration) -> Result<u32> {
        self.wait_inner(Some(timeout))
    }

    fn wait_inner(&self, timeout: Option<Duration>) -> Result<u32> {
        // A party may die waiting: look at the parties' liveness now and then.
        let mut park = FutexPark::timeout(timeout).polling_liveness();
        let mut panicked = None;
        let result = {
            let mut run = || match &self.action {
                Some(f) => match catch_unwind(AssertUnwindSafe(f)) {
                    Ok(()) => true,
                    Err(payload) => {
                        panicked = Some(payload);
                        false
                    }
                },
                None => true,
            };
            let action: Option<&mut dyn FnMut() -> bool> = match self.action {
                Some(_) => Some(&mut run),
                None => None,
            };
            self.object
                .raw()
                .wait(self.parties, self.slot, &mut park, action)
        };
        if let Some(payload) = panicked {
            resume_unwind(payload);
        }
        result.map_err(|e| Error::BrokenBarrier {
            name: self.name().to_owned(),
            reason: match e {
                BarrierError::Broken => BrokenReason::Broken,
                BarrierError::TimedOut => BrokenReason::TimedOut {
                    after: timeout.unwrap_or_default(),
                },
                BarrierError::PartyDied { pid } => BrokenReason::PartyDied { pid },
                BarrierError::ActionFailed => BrokenReason::ActionFailed,
            },
        })
    }

    /// Breaks the barrier: waiters and later waits fail until [`Barrier::reset`].
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-barrier-abort-0-{}", std::process::id());
    /// let b = shmipc::Barrier::create(&name, 2)?;
    /// b.abort();
    /// assert!(b.is_broken());
    /// # Ok(()) }
    /// ```
    pub fn abort(&self) {
        self.object.raw().abort(&FutexWake);
    }

    /// Returns the barrier to its empty, unbroken state; current waiters fail.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-barrier-reset-0-{}", std::process::id());
    /// let b = shmipc::Barrier::create(&name, 2)?;
    /// b.abort();
    /// b.reset();
    /// assert!(!b.is_broken());
    /// # Ok(()) }
    /// ```
    pub fn reset(&self) {
        self.object.raw().reset(&FutexWake);
    }

    /// Whether the barrier is broken (a snapshot).
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-barrier-is_broken-0-{}", std::process::id());
    /// let b = shmipc::Barrier::create(&name, 2)?;
    /// assert!(!b.is_broken());
    /// # Ok(()) }
    /// ```
    pub fn is_broken(&self) -> bool {
        self.object.raw().is_broken()
    }

    /// Parties waiting in the current round (a snapshot).
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-barrier-n_waiting-0-{}", std::process::id());
    /// let b = shmipc::Barrier::create(&name, 2)?;
    /// assert_eq!(b.n_waiting(), 0);
    /// # Ok(()) }
    /// ```
    pub fn n_waiting(&self) -> u32 {
        self.object.raw().n_waiting(self.parties)
    }
}

impl Drop for Barrier {
    fn drop(&mut self) {
        if let Some(slot) = self.slot {
            self.object.raw().unregister(slot, self.process.pid);
        }
    }
}
