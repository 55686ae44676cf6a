//! `shmipc-shm`: the operating-system side of [shmipc](https://docs.rs/shmipc):
//! named POSIX shared-memory segments, futex waiting, lock-holder liveness, and
//! the typed objects built on `shmipc-core`. Users depend on `shmipc`, which
//! re-exports everything public here.
//!
//! | concept | module |
//! |---|---|
//! | errors | [`error`] |
//! | create/open options | [`options`] |
//! | segments: create, open, validate, unlink | `segment` |
//! | futex waiting | `futex` |
//! | thread identity and liveness | `identity` |
//! | Lock | [`lock`] |
//! | plain-data bounds | [`plain`] |
//! | Value, Array, RawValue, RawArray | [`value`], [`array`](mod@array), [`raw_value`], [`raw_array`] |
#![warn(missing_docs)]

pub mod array;
mod cells;
pub mod error;
mod futex;
mod identity;
pub mod lock;
pub mod options;
pub mod plain;
pub mod raw_array;
pub mod raw_value;
mod segment;
mod sys;
pub mod value;

pub use array::{Array, ArrayGuard};
pub use cells::CellLock;
pub use error::{Error, Result};
pub use lock::{Guard, Lock, LockGuard, LockResult, OwnerDied, TryAcquireError};
pub use options::Options;
pub use plain::{AtomicInt, Plain};
pub use raw_array::RawArray;
pub use raw_value::RawValue;
pub use segment::unlink;
pub use sys::OS_PREFIX;
pub use value::{Value, ValueGuard};

pub use shmipc_core::fingerprint::Fingerprint;
pub use shmipc_core::header::Kind;
pub use shmipc_core::name::NameError;
