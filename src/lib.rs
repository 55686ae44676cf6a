//! # shmipc
//!
//! What Python's `multiprocessing` gives Python, for Rust processes: locks, typed
//! shared values and arrays (and, as the crate grows, semaphores, events,
//! barriers, queues and pipes), each living in its own named shared-memory
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
//! | `Value(typecode, v)`, `get_lock()` | [`Value`], [`Value::get_lock`] |
//! | `Value(..., lock=my_lock)` | [`Value::create_with`] with [`CellLock::Shared`] |
//! | `RawValue`, `Value(..., lock=False)` | [`RawValue`] |
//! | `Array(typecode, n)` / `RawArray` | [`Array`] / [`RawArray`] |
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
