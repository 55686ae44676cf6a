//! How a segment is created and opened: permissions, lifetime, patience.

use std::time::Duration;

use crate::error::{Error, Result};

/// The mode a segment has while its creator fills it in. Openers that see it
/// wait; the creator never leaves it behind on success.
pub(crate) const INITIALIZING_MODE: u32 = 0o200;

/// Options for creating and opening shmipc objects.
///
/// ```
/// # extern crate shmipc_shm as shmipc;
/// use std::time::Duration;
/// let opts = shmipc::Options::new()
///     .mode(0o660)                              // group may open it too
///     .persist(true)                            // outlive this handle
///     .ready_timeout(Duration::from_millis(200)); // how long `open` waits for a creator
/// assert_eq!(opts.get_mode(), 0o660);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    mode: u32,
    persist: bool,
    replace_stale: bool,
    ready_timeout: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            mode: 0o600,
            persist: false,
            replace_stale: false,
            ready_timeout: Duration::from_secs(1),
        }
    }
}

impl Options {
    /// Mode 0600, removed when the creating handle drops, 1 s wait for readiness.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-options-new-0-{}", std::process::id());
    /// let opts = shmipc::Options::new();
    /// assert_eq!(opts.get_mode(), 0o600);
    /// # Ok(()) }
    /// ```
    pub fn new() -> Options {
        Options::default()
    }

    /// Lets `create` replace a segment of the same name that is a leftover
    /// (its creator died without removing it, and no live process maps it:
    /// see [`leftovers`](crate::leftovers)) instead of failing with
    /// [`Error::AlreadyExists`]. A segment in
    /// use is never replaced. Off by default.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-options-replace-{}", std::process::id());
    /// let opts = shmipc::Options::new().replace_stale(true);
    /// assert!(opts.get_replace_stale());
    /// let lock = shmipc::Lock::create_with(&name, &opts)?; // no leftover here: a plain create
    /// # drop(lock); Ok(()) }
    /// ```
    pub fn replace_stale(mut self, replace: bool) -> Options {
        self.replace_stale = replace;
        self
    }

    /// Whether `create` replaces a leftover of the same name.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// assert!(!shmipc::Options::new().get_replace_stale());
    /// ```
    pub fn get_replace_stale(&self) -> bool {
        self.replace_stale
    }

    /// The permission bits of a created segment (default 0600). The owner must
    /// keep read and write; bits outside 0777 are refused at create time.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-options-mode-0-{}", std::process::id());
    /// let opts = shmipc::Options::new().mode(0o660);
    /// assert_eq!(opts.get_mode(), 0o660);
    /// # Ok(()) }
    /// ```
    pub fn mode(mut self, mode: u32) -> Options {
        self.mode = mode;
        self
    }

    /// Whether a created segment outlives the handle that created it (default
    /// `false`). A persistent segment stays until [`unlink`](crate::unlink).
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-options-persist-0-{}", std::process::id());
    /// let opts = shmipc::Options::new().persist(true);
    /// assert!(opts.get_persist());
    /// # Ok(()) }
    /// ```
    pub fn persist(mut self, persist: bool) -> Options {
        self.persist = persist;
        self
    }

    /// How long `open` waits for a segment that is still being created
    /// (default 1 s) before it fails with [`Error::NotReady`].
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-options-ready_timeout-0-{}", std::process::id());
    /// let opts = shmipc::Options::new().ready_timeout(std::time::Duration::from_millis(50));
    /// assert_eq!(opts.get_ready_timeout(), std::time::Duration::from_millis(50));
    /// # Ok(()) }
    /// ```
    pub fn ready_timeout(mut self, timeout: Duration) -> Options {
        self.ready_timeout = timeout;
        self
    }

    /// The mode set by [`Options::mode`].
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-options-get_mode-0-{}", std::process::id());
    /// assert_eq!(shmipc::Options::new().get_mode(), 0o600);
    /// # Ok(()) }
    /// ```
    pub fn get_mode(&self) -> u32 {
        self.mode
    }

    /// Whether [`Options::persist`] was set.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-options-get_persist-0-{}", std::process::id());
    /// assert!(!shmipc::Options::new().get_persist());
    /// # Ok(()) }
    /// ```
    pub fn get_persist(&self) -> bool {
        self.persist
    }

    /// The wait set by [`Options::ready_timeout`].
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-options-get_ready_timeout-0-{}", std::process::id());
    /// assert_eq!(shmipc::Options::new().get_ready_timeout(), std::time::Duration::from_secs(1));
    /// # Ok(()) }
    /// ```
    pub fn get_ready_timeout(&self) -> Duration {
        self.ready_timeout
    }

    pub(crate) fn checked_mode(&self) -> Result<u32> {
        if self.mode & !0o777 != 0 {
            return Err(Error::invalid(format!(
                "expected permission bits within 0o777, found {:#o}",
                self.mode
            )));
        }
        if self.mode & 0o600 != 0o600 {
            return Err(Error::invalid(format!(
                "expected a mode that lets the owner read and write (0o600), found {:#o}",
                self.mode
            )));
        }
        Ok(self.mode)
    }
}
