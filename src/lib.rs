//! # shmipc
//!
//! What Python's `multiprocessing` gives Python, for Rust processes: locks,
//! semaphores, events, conditions, barriers and typed shared values and arrays
//! (queues and pipes are next), each living in its own named shared-memory
//! segment that any process can open by name.
//!
//! - **Fast**: no syscall on uncontended paths; contended waits spin before they park.
//! - **Safe across processes**: every segment carries a header with magic,
//!   version, kind and a fingerprint of its payload type; a wrong, truncated or
//!   corrupt segment is refused with an error that says what was expected and
//!   what was found. Payloads are plain data ([`Plain`]), valid for any bytes.
//! - **Survives crashes**: a lock whose holder dies is handed to the next
//!   acquirer with [`OwnerDied`], never a deadlock.
//!
//! ```
//! # fn main() -> Result<(), shmipc::Error> {
//! let name = format!("doc-crate-{}", std::process::id());
//! let total = shmipc::Value::create(&name, 0u64)?;  // in process A
//! let view = shmipc::Value::<u64>::open(&name)?;    // in process B
//! *view.lock()? += 1;
//! assert_eq!(*total.lock()?, 1);
//! # Ok(()) }
//! ```
//!
//! | Python `multiprocessing` | here |
//! |---|---|
//! | `Lock()` | [`Lock`] |
//! | `RLock()` | [`RLock`] |
//! | `Semaphore(n)`, `BoundedSemaphore(n)`, `get_value()` | [`Semaphore`], [`BoundedSemaphore`], [`Semaphore::value`] |
//! | `Event()` | [`Event`] |
//! | `Condition(lock)`, `wait`, `wait_for`, `notify(n)`, `notify_all` | [`Condition`] (`wait_while` is `wait_for` negated) |
//! | `Barrier(parties, action, timeout)` | [`Barrier`], [`Barrier::with_action`] |
//! | `Value(typecode, v)`, `get_lock()` | [`Value`], [`Value::get_lock`] |
//! | `Value(..., lock=my_lock)` | [`Value::create_with`] with [`CellLock::Shared`] |
//! | `Value(..., lock=RLock())` (Python's default) | `Value<T, RLock>` and its [`SharedGuard`] |
//! | `RawValue`, `Value(..., lock=False)` | [`RawValue`] |
//! | `Array(typecode, n)` / `RawArray` | [`Array`] / [`RawArray`] |
//!
//! Every blocking call has a blocking, a `try_` and a `_timeout` form where
//! Python has one; timeouts use the monotonic clock and survive signals; waits
//! spin briefly before they park, because waking a parked process costs ~200
//! cache-line round trips.
//!
//! Segments appear in `/dev/shm` as [`OS_PREFIX`] followed by the name. The
//! handle that creates an object removes its name on drop unless
//! [`Options::persist`] was set; [`unlink`] removes a name explicitly.
//!
//! The layers behind this crate: `shmipc-core` (no_std algorithms and formats)
//! and `shmipc-shm` (the OS side); see ARCHITECTURE.md in the repository.
#![warn(missing_docs)]

pub use shmipc_shm::*;

/// The README's example, compiled by `cargo test` so it cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
