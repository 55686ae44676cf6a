//! `shmipc-shm`: the operating-system side of [shmipc](https://docs.rs/shmipc):
//! named POSIX shared-memory segments, futex waiting, lock-holder liveness, and
//! the typed objects built on `shmipc-core`. Users depend on `shmipc`, which
//! re-exports everything public here.
//!
//! | concept | module |
//! |---|---|
//! | errors, and what is corrupt or broken | [`error`] |
//! | create/open options | [`options`] |
//! | segments: create, open, validate, unlink | `segment` |
//! | leftovers of dead creators | [`leftover`] |
//! | every segment: list, inspect, remove, collect garbage | [`segments`] |
//! | futex waiting, liveness polls | `futex` |
//! | thread identity and liveness | `identity` |
//! | Lock, its guard, `OwnerDied` | [`lock`] |
//! | RLock | [`rlock`] |
//! | Semaphore, BoundedSemaphore, their guard | [`semaphore`] |
//! | Event | [`event`] |
//! | Condition | [`condition`] |
//! | Barrier | [`barrier`] |
//! | Queue, Producer, Consumer, JoinableQueue | [`queue`] |
//! | plain-data bounds | [`plain`] |
//! | Value, Array, RawValue, RawArray | [`value`], [`array`](mod@array), [`raw_value`], [`raw_array`] |
//! | the guard of cells behind an RLock | [`shared_guard`] |
//! | SharedMemory, a named block of bytes | [`shared_memory`] |
//! | messages of any length and type: MessageQueue, SimpleQueue, pipe and Connection | [`message`] |
//! | waiting on several objects at once | `multi_wait` ([`wait`]) |
//! | a function run in a child process: `init`, Process | [`process`] (feature `serde`) |
#![warn(missing_docs)]

pub mod array;
pub mod barrier;
mod cells;
pub mod condition;
pub mod error;
pub mod event;
mod futex;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
mod identity;
mod inspect;
pub mod leftover;
pub mod lock;
pub mod message;
mod multi_wait;
mod object;
pub mod options;
mod owner_died;
pub mod plain;
#[cfg(feature = "serde")]
pub mod pool;
#[cfg(feature = "serde")]
pub mod process;
pub mod queue;
pub mod raw_array;
pub mod raw_value;
pub mod rlock;
mod segment;
pub mod segments;
pub mod semaphore;
pub mod shared_guard;
pub mod shared_memory;
mod sys;
pub mod value;

pub use array::{Array, ArrayGuard};
pub use barrier::Barrier;
pub use cells::CellLock;
pub use condition::{Condition, WaitError, WaitTimeoutResult};
pub use error::{BrokenReason, Corruption, Error, Result};
pub use event::Event;
pub use leftover::{leftovers, Leftover};
pub use lock::{Guard, Lock, LockGuard, LockKind, LockResult, OwnerDied, TryAcquireError};
#[cfg(feature = "serde")]
pub use message::SimpleQueue;
pub use message::{
    pipe, Connection, JoinableMessageQueue, MessageQueue, ReadLoan, RecvError, SendError, WriteLoan,
};
pub use multi_wait::{wait, Waitable};
pub use options::Options;
pub use plain::{AtomicInt, Plain};
#[cfg(feature = "serde")]
pub use pool::{AsyncResult, Imap, MapResult, Pool, PoolBuilder, PoolError};
#[cfg(feature = "serde")]
pub use process::{init, Process, ProcessError};
pub use queue::{
    Consumer, GetError, JoinError, JoinableQueue, Producer, PutError, Queue, SliceError,
    WaitStrategy,
};
pub use raw_array::RawArray;
pub use raw_value::RawValue;
pub use rlock::{RLock, RLockGuard};
pub use segment::unlink;
pub use semaphore::{AcquireError, BoundedSemaphore, Semaphore, SemaphoreGuard};
pub use shared_guard::SharedGuard;
pub use shared_memory::SharedMemory;
pub use shmipc_core::layout::QueueMode;
pub use sys::OS_PREFIX;
pub use value::{Value, ValueGuard};

pub use shmipc_core::fingerprint::Fingerprint;
pub use shmipc_core::header::Kind;
pub use shmipc_core::name::NameError;
