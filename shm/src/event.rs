//! `Event`: a flag processes wait on (Python's `multiprocessing.Event`).

use std::fmt;
use std::time::Duration;

use shmipc_core::header::Kind;
use shmipc_core::raw_event::RawEvent;

use crate::error::Result;
use crate::futex::{FutexPark, FutexWake};
use crate::object::{Object, ObjectSpec};
use crate::options::Options;

const EVENT: ObjectSpec = ObjectSpec {
    kind: Kind::Event,
    extra: 0,
};

/// An event flag shared by processes, like Python's `multiprocessing.Event`.
///
/// `set` wakes every waiter, even one that would find the flag cleared again by
/// the time it runs: a waiter returns `true` if the flag was set at any moment
/// of its wait. No syscall on `set` when nobody waits.
///
/// ```
/// # extern crate shmipc_shm as shmipc;
/// # fn main() -> Result<(), shmipc::Error> {
/// let name = format!("doc-event-{}", std::process::id());
/// let ready = shmipc::Event::create(&name)?;
/// assert!(!ready.wait_timeout(std::time::Duration::from_millis(1)));
/// shmipc::Event::open(&name)?.set();
/// assert!(ready.wait_timeout(std::time::Duration::from_secs(1)));
/// # Ok(()) }
/// ```
pub struct Event {
    object: Object<RawEvent>,
}

impl fmt::Debug for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Event")
            .field("name", &self.name())
            .field("set", &self.is_set())
            .finish()
    }
}

impl Event {
    /// Creates a clear event named `name`.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-event-create-0-{}", std::process::id());
    /// let e = shmipc::Event::create(&name)?;
    /// assert!(!e.is_set());
    /// # Ok(()) }
    /// ```
    pub fn create(name: &str) -> Result<Event> {
        Event::create_with(name, &Options::default())
    }

    /// Creates a clear event named `name`, with `opts`.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-event-create_with-0-{}", std::process::id());
    /// let e = shmipc::Event::create_with(&name, &shmipc::Options::new().mode(0o600))?;
    /// # drop(e);
    /// # Ok(()) }
    /// ```
    pub fn create_with(name: &str, opts: &Options) -> Result<Event> {
        Ok(Event {
            object: Object::create(name, &EVENT, 0, opts, |_: &RawEvent, _| {})?,
        })
    }

    /// Opens the event named `name`.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-event-open-0-{}", std::process::id());
    /// # let _e = shmipc::Event::create(&name)?;
    /// let e = shmipc::Event::open(&name)?;
    /// e.set();
    /// # Ok(()) }
    /// ```
    pub fn open(name: &str) -> Result<Event> {
        Event::open_with(name, &Options::default())
    }

    /// Opens the event named `name` with `opts`.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-event-open_with-0-{}", std::process::id());
    /// # let _e = shmipc::Event::create(&name)?;
    /// let e = shmipc::Event::open_with(&name, &shmipc::Options::new())?;
    /// # drop(e);
    /// # Ok(()) }
    /// ```
    pub fn open_with(name: &str, opts: &Options) -> Result<Event> {
        Ok(Event {
            object: Object::open(name, &EVENT, opts)?,
        })
    }

    /// The event's name.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-event-name-0-{}", std::process::id());
    /// let e = shmipc::Event::create(&name)?;
    /// assert_eq!(e.name(), name);
    /// # Ok(()) }
    /// ```
    pub fn name(&self) -> &str {
        self.object.name()
    }

    /// Sets the flag and wakes every waiter.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-event-set-0-{}", std::process::id());
    /// let e = shmipc::Event::create(&name)?;
    /// e.set();
    /// assert!(e.is_set());
    /// # Ok(()) }
    /// ```
    pub fn set(&self) {
        self.object.raw().set(&FutexWake);
    }

    /// Clears the flag.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-event-clear-0-{}", std::process::id());
    /// let e = shmipc::Event::create(&name)?;
    /// e.set();
    /// e.clear();
    /// assert!(!e.is_set());
    /// # Ok(()) }
    /// ```
    pub fn clear(&self) {
        self.object.raw().clear();
    }

    /// Whether the flag is set (a snapshot; also the `try_` form of `wait`).
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-event-is_set-0-{}", std::process::id());
    /// let e = shmipc::Event::create(&name)?;
    /// assert!(!e.is_set());
    /// # Ok(()) }
    /// ```
    pub fn is_set(&self) -> bool {
        self.object.raw().is_set()
    }

    /// The flag's algorithm in the mapping (for [`wait`](crate::wait)).
    pub(crate) fn raw(&self) -> &shmipc_core::raw_event::RawEvent {
        self.object.raw()
    }

    /// Waits until the flag is set.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-event-wait-{}", std::process::id());
    /// let e = shmipc::Event::create(&name)?;
    /// e.set();
    /// e.wait(); // returns at once
    /// # Ok(()) }
    /// ```
    pub fn wait(&self) {
        let mut park = FutexPark::new(None);
        while !self.object.raw().wait(&mut park) {}
    }

    /// Waits at most `timeout`; returns whether the flag was set.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-event-wait_timeout-0-{}", std::process::id());
    /// let e = shmipc::Event::create(&name)?;
    /// assert!(!e.wait_timeout(std::time::Duration::from_millis(5)));
    /// e.set();
    /// assert!(e.wait_timeout(std::time::Duration::from_millis(5)));
    /// # Ok(()) }
    /// ```
    pub fn wait_timeout(&self, timeout: Duration) -> bool {
        self.object
            .raw()
            .wait(&mut FutexPark::timeout(Some(timeout)))
    }
}
