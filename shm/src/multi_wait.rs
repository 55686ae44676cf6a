//! [`wait`]: blocks until any of several connections, message queues or
//! events is ready, as Python's `multiprocessing.connection.wait`.
//!
//! Each object names the futex word its writers bump (a channel's
//! "not empty" eventcount, an event's flag word); `wait` registers on all
//! of them, checks each object once more, and sleeps on all the words at
//! once with `futex_waitv(2)` (Linux 5.16 and later). Where the kernel
//! lacks it, it sleeps in short, growing naps and checks again.

use std::time::{Duration, Instant};

use shmipc_core::eventcount::{EventCount, Registration};
use shmipc_core::primitives::AtomicU32;
use shmipc_core::raw_event::RawEvent;

use crate::futex::{self, FutexPark, WaitAny};

mod sealed {
    /// Only this crate's objects can be waited on.
    pub trait Sealed {}
}

/// An object [`wait`] can wait on: a [`Connection`](crate::Connection)
/// (ready when a message or the end of file is waiting), a
/// [`MessageQueue`](crate::MessageQueue) (a message, or closed), or an
/// [`Event`](crate::Event) (set).
pub trait Waitable: sealed::Sealed {
    /// Whether a receive (or an event's `wait`) would return at once.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-waitable-{}", std::process::id());
    /// use shmipc::Waitable;
    /// let e = shmipc::Event::create(&name)?;
    /// assert!(!e.is_ready());
    /// e.set();
    /// assert!(e.is_ready());
    /// # Ok(()) }
    /// ```
    fn is_ready(&self) -> bool;

    /// Registers a sleeper on the object's futex word.
    #[doc(hidden)]
    fn register(&self) -> Registered<'_>;

    /// Whether the object's readiness can change without its word moving
    /// (a pipe whose peer dies): then `wait` wakes now and then to look.
    #[doc(hidden)]
    fn watches_liveness(&self) -> bool {
        false
    }
}

/// A sleeper registered on one object's futex word; unregisters on drop.
#[doc(hidden)]
pub struct Registered<'a> {
    word: &'a AtomicU32,
    expected: u32,
    _undo: Undo<'a>,
}

enum Undo<'a> {
    EventCount(#[allow(dead_code)] Registration<'a>),
    Event(&'a RawEvent),
}

impl Drop for Undo<'_> {
    fn drop(&mut self) {
        if let Undo::Event(raw) = self {
            raw.unregister();
        }
    }
}

impl<'a> Registered<'a> {
    pub(crate) fn on_eventcount(ec: &'a EventCount) -> Registered<'a> {
        let registration = ec.prepare(&mut FutexPark::timeout(None));
        let (word, expected) = registration.futex();
        Registered {
            word,
            expected,
            _undo: Undo::EventCount(registration),
        }
    }

    pub(crate) fn on_event(raw: &'a RawEvent) -> Registered<'a> {
        let (word, expected) = raw.register();
        Registered {
            word,
            expected,
            _undo: Undo::Event(raw),
        }
    }
}

/// How long `wait` sleeps at most before it looks again at objects that
/// watch a peer's liveness.
const LIVENESS_POLL: Duration = Duration::from_millis(20);

/// Blocks until at least one of `objects` is ready or `timeout` runs out
/// (forever if `None`); returns the indices of the ready ones, in order,
/// and none after a timeout. As Python's
/// `multiprocessing.connection.wait(object_list, timeout)`, without
/// polling: it sleeps on all the objects' futex words at once.
///
/// ```
/// # extern crate shmipc_shm as shmipc;
/// # fn main() -> Result<(), shmipc::Error> {
/// # let pid = std::process::id();
/// use std::time::Duration;
/// let (a, a_peer) = shmipc::pipe(&format!("doc-wait-a-{pid}"), true)?;
/// let (b, b_peer) = shmipc::pipe(&format!("doc-wait-b-{pid}"), true)?;
/// let stop = shmipc::Event::create(&format!("doc-wait-stop-{pid}"))?;
/// assert!(shmipc::wait(&[&a, &b, &stop], Some(Duration::from_millis(1))).is_empty());
/// b_peer.send_bytes(b"for b")?;
/// assert_eq!(shmipc::wait(&[&a, &b, &stop], None), [1]);
/// # drop(a_peer);
/// # Ok(()) }
/// ```
pub fn wait(objects: &[&dyn Waitable], timeout: Option<Duration>) -> Vec<usize> {
    let deadline = timeout.and_then(|t| Instant::now().checked_add(t));
    let ready = || -> Vec<usize> {
        objects
            .iter()
            .enumerate()
            .filter(|(_, o)| o.is_ready())
            .map(|(i, _)| i)
            .collect()
    };
    let liveness = objects.iter().any(|o| o.watches_liveness());
    let mut nap = Duration::from_micros(50);
    loop {
        let now = ready();
        if !now.is_empty() {
            return now;
        }
        let left = match deadline {
            Some(d) => match d.checked_duration_since(Instant::now()) {
                Some(left) if !left.is_zero() => Some(left),
                _ => return Vec::new(),
            },
            None => None,
        };
        let sleep = if liveness {
            Some(left.map_or(LIVENESS_POLL, |l| l.min(LIVENESS_POLL)))
        } else {
            left
        };
        let registered: Vec<Registered<'_>> = objects.iter().map(|o| o.register()).collect();
        // Registered first, then checked: a change after the check moves a
        // word, and the sleep below returns at once.
        let now = ready();
        if !now.is_empty() {
            return now;
        }
        let words: Vec<(&AtomicU32, u32)> =
            registered.iter().map(|r| (r.word, r.expected)).collect();
        if futex::wait_any(&words, sleep) == WaitAny::Unsupported {
            // No futex_waitv: naps of 50 µs growing to 5 ms.
            std::thread::sleep(sleep.map_or(nap, |s| s.min(nap)));
            nap = (nap * 2).min(Duration::from_millis(5));
        }
    }
}

impl sealed::Sealed for crate::Event {}

impl Waitable for crate::Event {
    fn is_ready(&self) -> bool {
        self.is_set()
    }

    fn register(&self) -> Registered<'_> {
        Registered::on_event(self.raw())
    }
}

impl sealed::Sealed for crate::MessageQueue {}
impl sealed::Sealed for crate::Connection {}
