//! # shmipc
//!
//! What Python's `multiprocessing` gives Python, for Rust processes: locks,
//! semaphores, events, conditions, barriers, typed shared values and arrays,
//! queues of plain data, and queues and pipes of messages of any length and
//! type, each living in its own named shared-memory segment that any
//! process can open by name.
//!
//! - **Fast**: no syscall on uncontended paths; contended waits spin before
//!   they park, and a parked wait takes no wake-up until it is notified.
//! - **Safe across processes**: every segment carries a header with magic,
//!   version, kind and a fingerprint of its payload type; a wrong, truncated or
//!   corrupt segment is refused with an error that says what was expected and
//!   what was found. Payloads are plain data ([`Plain`]), valid for any bytes,
//!   and no safe call can cause undefined behaviour, whatever another
//!   process writes.
//! - **Survives crashes**: a lock whose holder dies is handed to the next
//!   acquirer with [`OwnerDied`], never a deadlock; a barrier whose party dies
//!   breaks; a queue role whose holder dies is taken over; an MPMC producer
//!   killed half-way through a `put` is passed over, and the queue goes on.
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
//! | `Lock()` | [`Lock`] (hand a held lock to another thread: [`LockGuard::detach`]) |
//! | `RLock()` | [`RLock`] |
//! | `Semaphore(n)`, `BoundedSemaphore(n)`, `get_value()` | [`Semaphore`], [`BoundedSemaphore`], [`Semaphore::value`]; [`Semaphore::acquire_guard`] gives the permit back on drop |
//! | `Event()` | [`Event`] |
//! | `Condition(lock)`, `wait`, `wait_for`, `notify(n)`, `notify_all` | [`Condition`] (`wait_while` is `wait_for` negated) |
//! | `Barrier(parties, action, timeout)` | [`Barrier`], [`Barrier::with_action`] |
//! | `Value(typecode, v)`, `get_lock()` | [`Value`], [`Value::get_lock`] |
//! | `Value(..., lock=my_lock)` | [`Value::create_with`] with [`CellLock::Shared`] |
//! | `Value(..., lock=RLock())` (Python's default) | `Value<T, RLock>` and its [`SharedGuard`] |
//! | `RawValue`, `Value(..., lock=False)` | [`RawValue`] |
//! | `Array(typecode, n)` / `RawArray` | [`Array`] / [`RawArray`] |
//! | `Queue(maxsize)`: `put`, `get`, `Full`, `Empty`, `qsize`, `close` | [`Queue`] of plain data, MPMC or SPSC, any capacity; [`Producer`] / [`Consumer`] ends |
//! | `JoinableQueue`: `task_done`, `join` | [`JoinableQueue`] |
//! | `Queue`, `JoinableQueue` of any object | [`MessageQueue`], [`JoinableMessageQueue`]: bytes or serde values of any length, zero-copy loans ([`WriteLoan`], [`ReadLoan`]) |
//! | `SimpleQueue` | [`SimpleQueue`] |
//! | `Pipe(duplex)`: `send`, `recv`, `send_bytes`, `recv_bytes`, `recv_bytes_into`, `poll` | [`pipe`], [`Connection`] |
//! | `multiprocessing.connection.wait` | [`wait`] |
//! | `shared_memory.SharedMemory` | [`SharedMemory`] |
//! | `Process(target, args)`: `start`, `join`, `is_alive`, `exitcode`, `terminate`, `kill`, `daemon`, `close`; the `__main__` guard | [`Process`] (its result or panic message comes back), [`init`] first thing in `main` |
//! | `Pool(n, initializer, maxtasksperchild)`: `apply`, `apply_async`, `map`, `imap`, `imap_unordered`, `starmap`, `starmap_async`, `close`, `terminate`, `join` | [`Pool`], [`Pool::builder`], [`AsyncResult`], [`Imap`]: a killed worker fails its task ([`PoolError::WorkerDied`]) and is replaced |
//!
//! Every blocking call has a blocking, a `try_` and a `_timeout` form where
//! Python has one, and each returns an error of its own that hands back
//! what it was given ([`PutError`] the item, [`WaitError`] the guard; a
//! message send borrows its message, and [`SendError`] and [`RecvError`]
//! say what happened) and converts into [`Error`] for `?`. Timeouts use the monotonic clock and
//! survive signals.
//!
//! Segments appear in `/dev/shm` as [`OS_PREFIX`] followed by the name. The
//! handle that creates an object removes its name on drop unless
//! [`Options::persist`] was set; [`unlink`] removes a name explicitly.
//! [`segments`] lists every segment with its kind, creator and mappers,
//! inspects one's live state, and removes those a crashed creator left
//! (the `shmipc` command's `ls`, `inspect`, `rm` and `gc`).
//!
//! The layers behind this crate: `shmipc-core` (no_std algorithms and formats)
//! and `shmipc-shm` (the OS side); see ARCHITECTURE.md in the repository.
#![warn(missing_docs)]

pub use shmipc_shm::*;

/// The README's example, compiled by `cargo test` so it cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
