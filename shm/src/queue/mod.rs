//! Bounded queues of plain-data values between processes: [`Queue`] (Python's
//! `multiprocessing.Queue`, for `Copy` data), its [`Producer`] and
//! [`Consumer`] endpoints, and [`JoinableQueue`], over the lock-free rings of
//! `shmipc-core`.
//!
//! | file | what |
//! |---|---|
//! | `mod.rs` | [`Queue`], the handle anyone can open |
//! | `batch.rs` | [`Queue`]'s batches (`put_slice`, `get_slice` and their forms) |
//! | `endpoint.rs` | [`Producer`] and [`Consumer`], which hold an SPSC role |
//! | `joinable.rs` | [`JoinableQueue`] |
//! | `shared.rs` | the mapping, the control block, the put and get paths |
//! | `shared/build.rs` | making and opening the segment |
//! | `shared/mpmc.rs` | the MPMC ring as a queue drives it; dead producers' claims passed over |
//! | `shared/batch.rs` | the batch paths (`put_slice`, `get_slice`) |
//! | `role.rs` | the SPSC roles: claim, release, take-over from the dead |
//! | `slots.rs` | the slots, copied race-tolerantly |
//! | `tasks.rs` | a JoinableQueue's per-process task counts, for `join` to see a dead consumer |
//! | `wait.rs` | [`WaitStrategy`] and the one waiting loop |
//! | `error.rs` | [`PutError`], [`GetError`] |

mod batch;
mod endpoint;
mod error;
mod joinable;
pub(crate) mod role;
mod shared;
pub(crate) use shared::queue_state;
mod slots;
pub(crate) mod tasks;
pub(crate) mod wait;

use std::fmt;
use std::time::{Duration, Instant};

use shmipc_core::layout::QueueMode;

pub use endpoint::{Consumer, Producer};
pub use error::{GetError, JoinError, PutError, SliceError};
pub use joinable::JoinableQueue;
pub use wait::WaitStrategy;

use crate::error::{Error, Result};
use crate::options::Options;
use crate::plain::Plain;
use role::Role;
use shared::{MayPop, MayPush, Shared};

/// A bounded queue of plain-data values shared by processes, like Python's
/// `multiprocessing.Queue` for `Copy` data, without pickling, pipes or feeder
/// threads: a lock-free ring in shared memory.
///
/// - [`Queue::create`] makes a multi-producer multi-consumer queue (a stamp
///   per slot, which names the producer writing it, so that one killed
///   half-way through a put is passed over: see
///   [`dead_puts_passed_over`](Queue::dead_puts_passed_over));
///   [`Queue::create_spsc`] a faster single-producer
///   single-consumer one. The capacity is any number from 1: the queue
///   holds exactly that many items.
/// - `put`/`get` block, `try_` forms do not, `_timeout` forms wait at most a
///   while; a failed put hands the item back ([`PutError::into_inner`]).
/// - On an SPSC queue, pushing and popping each belong to one handle at a
///   time: a [`Producer`] or [`Consumer`] from [`Queue::producer`] /
///   [`Queue::consumer`] holds its side until dropped (the fast way), and a
///   `put` or `get` on the `Queue` itself takes the side for that call
///   ([`Error::RoleTaken`] names the holder if another handle has it).
/// - [`Queue::close`]: later puts fail; gets drain what is left, then fail.
/// - For streams, the batch forms ([`Queue::put_slice`], [`Queue::get_slice`]
///   and their `try_`/`_timeout` variants) publish a whole batch at once.
/// - Waiting spins, then parks ([`WaitStrategy`]); a put or get makes no
///   syscall unless someone sleeps, and a parked waiter takes no wake-up
///   until it is notified or its timeout passes.
///
/// ```
/// # extern crate shmipc_shm as shmipc;
/// # fn main() -> Result<(), shmipc::Error> {
/// let name = format!("doc-queue-{}", std::process::id());
/// let q = shmipc::Queue::<u64>::create(&name, 6)?;
/// let same = shmipc::Queue::<u64>::open(&name)?;     // from any process
/// q.put(7)?;
/// q.try_put(8)?;
/// assert_eq!(same.get()?, 7);
/// assert_eq!(same.get_timeout(std::time::Duration::from_millis(10))?, 8);
/// assert!(matches!(same.try_get(), Err(shmipc::GetError::Empty { .. })));
/// # Ok(()) }
/// ```
pub struct Queue<T: Plain> {
    shared: Shared<T>,
}

impl<T: Plain> fmt::Debug for Queue<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Queue")
            .field("name", &self.name())
            .field("mode", &self.mode())
            .field("capacity", &self.capacity())
            .field("len", &self.len())
            .field("closed", &self.is_closed())
            .finish()
    }
}

/// When a wait that started now and may last `timeout` gives up.
fn deadline_of(timeout: Option<Duration>) -> Option<Instant> {
    timeout.and_then(|t| Instant::now().checked_add(t))
}

/// What is left of `timeout` at `deadline` (`None`, forever, stays so).
fn left(timeout: Option<Duration>, deadline: Option<Instant>) -> Option<Duration> {
    match (timeout, deadline) {
        (Some(t), _) if t.is_zero() => Some(t),
        (Some(_), Some(d)) => Some(d.saturating_duration_since(Instant::now())),
        (timeout, _) => timeout,
    }
}

impl<T: Plain> Queue<T> {
    /// Creates a multi-producer multi-consumer queue of `capacity` items
    /// (any number from 1). The handle removes the name when dropped,
    /// unless [`Options::persist`] was set.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-queue-create-{}", std::process::id());
    /// let q = shmipc::Queue::<u32>::create(&name, 3)?;
    /// for v in 0..3 {
    ///     q.put(v)?;
    /// }
    /// assert!(q.is_full());
    /// # Ok(()) }
    /// ```
    pub fn create(name: &str, capacity: u64) -> Result<Queue<T>> {
        Queue::create_with(name, capacity, QueueMode::Mpmc, &Options::default())
    }

    /// Creates a single-producer single-consumer queue of `capacity` items
    /// (any number from 1): one [`Producer`] and one [`Consumer`] at a time.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-queue-spsc-{}", std::process::id());
    /// let q = shmipc::Queue::<u64>::create_spsc(&name, 1024)?;
    /// let tx = q.producer()?;
    /// let rx = shmipc::Queue::<u64>::open(&name)?.consumer()?; // in any process
    /// tx.put(1)?;
    /// assert_eq!(rx.get()?, 1);
    /// # Ok(()) }
    /// ```
    pub fn create_spsc(name: &str, capacity: u64) -> Result<Queue<T>> {
        Queue::create_with(name, capacity, QueueMode::Spsc, &Options::default())
    }

    /// Creates a queue in `mode`, with `opts`.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-queue-with-{}", std::process::id());
    /// use shmipc::{Options, Queue, QueueMode};
    /// let q = Queue::<u8>::create_with(&name, 16, QueueMode::Spsc, &Options::new().mode(0o600))?;
    /// assert_eq!(q.mode(), QueueMode::Spsc);
    /// # Ok(()) }
    /// ```
    pub fn create_with(
        name: &str,
        capacity: u64,
        mode: QueueMode,
        opts: &Options,
    ) -> Result<Queue<T>> {
        Ok(Queue {
            shared: Shared::create(name, capacity, mode, false, opts)?,
        })
    }

    /// Opens the queue named `name`; fails with [`Error::TypeMismatch`] if its
    /// items are of another type.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-queue-open-{}", std::process::id());
    /// let _q = shmipc::Queue::<u64>::create(&name, 8)?;
    /// assert!(shmipc::Queue::<u64>::open(&name).is_ok());
    /// assert!(matches!(
    ///     shmipc::Queue::<u32>::open(&name),
    ///     Err(shmipc::Error::TypeMismatch { .. })
    /// ));
    /// # Ok(()) }
    /// ```
    pub fn open(name: &str) -> Result<Queue<T>> {
        Queue::open_with(name, &Options::default())
    }

    /// Opens the queue named `name` with `opts`.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-queue-open-with-{}", std::process::id());
    /// # let _q = shmipc::Queue::<u64>::create(&name, 8)?;
    /// let q = shmipc::Queue::<u64>::open_with(&name, &shmipc::Options::new())?;
    /// # drop(q); Ok(()) }
    /// ```
    pub fn open_with(name: &str, opts: &Options) -> Result<Queue<T>> {
        Ok(Queue {
            shared: Shared::open(name, opts)?,
        })
    }

    fn from_shared(shared: Shared<T>) -> Queue<T> {
        Queue { shared }
    }

    /// This handle, waiting with `strategy` from now on (and so the
    /// endpoints taken from it).
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-queue-wait-{}", std::process::id());
    /// let q = shmipc::Queue::<u64>::create(&name, 8)?.with_wait(shmipc::WaitStrategy::Park);
    /// # drop(q); Ok(()) }
    /// ```
    pub fn with_wait(mut self, strategy: WaitStrategy) -> Queue<T> {
        self.shared.wait = strategy;
        self
    }

    /// The queue's name.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-queue-name-{}", std::process::id());
    /// let q = shmipc::Queue::<u64>::create(&name, 8)?;
    /// assert_eq!(q.name(), name);
    /// # Ok(()) }
    /// ```
    pub fn name(&self) -> &str {
        &self.shared.name
    }

    /// Whether the queue is SPSC or MPMC.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-queue-mode-{}", std::process::id());
    /// let q = shmipc::Queue::<u64>::create(&name, 8)?;
    /// assert_eq!(q.mode(), shmipc::QueueMode::Mpmc);
    /// # Ok(()) }
    /// ```
    pub fn mode(&self) -> QueueMode {
        self.shared.mode()
    }

    /// How many items fit: the capacity asked for at create.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-queue-cap-{}", std::process::id());
    /// let q = shmipc::Queue::<u64>::create(&name, 6)?;
    /// assert_eq!(q.capacity(), 6);
    /// # Ok(()) }
    /// ```
    pub fn capacity(&self) -> u64 {
        self.shared.capacity()
    }

    /// Items in the queue (a snapshot, as Python's `qsize`).
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-queue-len-{}", std::process::id());
    /// let q = shmipc::Queue::<u64>::create(&name, 8)?;
    /// q.put(1)?;
    /// assert_eq!(q.len(), 1);
    /// # Ok(()) }
    /// ```
    pub fn len(&self) -> u64 {
        self.shared.len()
    }

    /// Whether the queue is empty (a snapshot).
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-queue-empty-{}", std::process::id());
    /// let q = shmipc::Queue::<u64>::create(&name, 8)?;
    /// assert!(q.is_empty());
    /// # Ok(()) }
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether the queue is full (a snapshot).
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-queue-full-{}", std::process::id());
    /// let q = shmipc::Queue::<u64>::create(&name, 1)?;
    /// q.put(1)?;
    /// assert!(q.is_full());
    /// # Ok(()) }
    /// ```
    pub fn is_full(&self) -> bool {
        self.len() >= self.capacity()
    }

    /// Whether the queue has been closed.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-queue-closed-{}", std::process::id());
    /// let q = shmipc::Queue::<u64>::create(&name, 8)?;
    /// q.close();
    /// assert!(q.is_closed());
    /// # Ok(()) }
    /// ```
    pub fn is_closed(&self) -> bool {
        self.shared.is_closed()
    }

    /// How many times a `put` that died half-way was passed over: a producer
    /// process killed between claiming a slot of an MPMC queue and
    /// publishing its item there. Consumers that reach such a slot wait for
    /// it until they find its producer dead (a few milliseconds), then go on
    /// without it; the dying put's item is lost (it never returned `Ok`).
    /// Always 0 for an SPSC queue, whose producer role is taken over
    /// instead. Counted by the queue, for every process.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-queue-passed-{}", std::process::id());
    /// let q = shmipc::Queue::<u64>::create(&name, 8)?;
    /// assert_eq!(q.dead_puts_passed_over(), 0);
    /// # Ok(()) }
    /// ```
    pub fn dead_puts_passed_over(&self) -> u64 {
        self.shared.passed_over()
    }

    /// Closes the queue for everyone: later puts fail with the item handed
    /// back; gets take what is left, then fail with [`GetError::Closed`].
    /// Wakes every waiter.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-queue-close-{}", std::process::id());
    /// let q = shmipc::Queue::<u64>::create(&name, 8)?;
    /// q.put(1)?;
    /// q.close();
    /// assert_eq!(q.put(2).unwrap_err().into_inner(), 2);
    /// assert_eq!(q.get()?, 1);
    /// assert!(matches!(q.get(), Err(shmipc::GetError::Closed { .. })));
    /// # Ok(()) }
    /// ```
    pub fn close(&self) {
        self.shared.close()
    }

    /// The producer endpoint: on an SPSC queue it holds the producer role
    /// until dropped, or fails at once with [`Error::RoleTaken`] naming the
    /// live holder (a dead holder's role is taken over, and items it put
    /// are kept). On an MPMC queue any number can exist.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-queue-producer-{}", std::process::id());
    /// let q = shmipc::Queue::<u64>::create_spsc(&name, 8)?;
    /// let tx = q.producer()?;
    /// assert!(matches!(q.producer(), Err(shmipc::Error::RoleTaken { .. })));
    /// // An endpoint moves to another thread with its role.
    /// std::thread::spawn(move || tx.put(1).unwrap()).join().unwrap();
    /// assert!(q.producer().is_ok()); // given up when dropped
    /// # Ok(()) }
    /// ```
    pub fn producer(&self) -> Result<Producer<T>> {
        self.producer_until(Some(Duration::ZERO))
    }

    /// As [`producer`](Self::producer), waiting at most `timeout` for the
    /// holder to give the role up or die.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-queue-producer-t-{}", std::process::id());
    /// let q = shmipc::Queue::<u64>::create_spsc(&name, 8)?;
    /// let tx = q.producer()?;
    /// let waiting = std::thread::spawn({
    ///     let q = shmipc::Queue::<u64>::open(&name)?;
    ///     move || q.producer_timeout(std::time::Duration::from_secs(60)).map(drop)
    /// });
    /// drop(tx);
    /// assert!(waiting.join().unwrap().is_ok());
    /// # Ok(()) }
    /// ```
    pub fn producer_timeout(&self, timeout: Duration) -> Result<Producer<T>> {
        self.producer_until(Some(timeout))
    }

    fn producer_until(&self, timeout: Option<Duration>) -> Result<Producer<T>> {
        let shared = self.shared.clone();
        match shared.open_access() {
            Some((may, _)) => Ok(Producer::new(shared, may, 0)),
            None => {
                let me = shared::me();
                let (may, _) = shared.take_role(Role::Producer, me, deadline_of(timeout))?;
                Ok(Producer::new(shared, may, me))
            }
        }
    }

    /// The consumer endpoint; as [`producer`](Self::producer), for the
    /// consumer role.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-queue-consumer-{}", std::process::id());
    /// let q = shmipc::Queue::<u64>::create_spsc(&name, 8)?;
    /// let rx = q.consumer()?;
    /// q.put(5)?; // the producer role, for this call
    /// assert_eq!(rx.get()?, 5);
    /// assert!(matches!(q.try_get(), Err(shmipc::GetError::Failed(shmipc::Error::RoleTaken { .. }))));
    /// # Ok(()) }
    /// ```
    pub fn consumer(&self) -> Result<Consumer<T>> {
        self.consumer_until(Some(Duration::ZERO))
    }

    /// As [`consumer`](Self::consumer), waiting at most `timeout` for the
    /// holder to give the role up or die.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-queue-consumer-t-{}", std::process::id());
    /// let q = shmipc::Queue::<u64>::create_spsc(&name, 8)?;
    /// let rx = q.consumer_timeout(std::time::Duration::from_millis(10))?;
    /// # drop(rx); Ok(()) }
    /// ```
    pub fn consumer_timeout(&self, timeout: Duration) -> Result<Consumer<T>> {
        self.consumer_until(Some(timeout))
    }

    fn consumer_until(&self, timeout: Option<Duration>) -> Result<Consumer<T>> {
        let shared = self.shared.clone();
        match shared.open_access() {
            Some((_, may)) => Ok(Consumer::new(shared, may, 0)),
            None => {
                let me = shared::me();
                let (_, may) = shared.take_role(Role::Consumer, me, deadline_of(timeout))?;
                Ok(Consumer::new(shared, may, me))
            }
        }
    }

    /// Runs `op` with the right to push: at once on an MPMC queue; on an
    /// SPSC queue holding the producer role for the call, waiting for it
    /// within `timeout`. `op` gets what is left of the timeout.
    fn pushing<R>(
        &self,
        timeout: Option<Duration>,
        op: impl FnOnce(MayPush, Option<Duration>) -> R,
        refused: impl FnOnce(Error) -> R,
    ) -> R {
        self.holding(
            Role::Producer,
            timeout,
            |(may, _), left| op(may, left),
            refused,
        )
    }

    /// As [`pushing`](Self::pushing), with the right to pop.
    fn popping<R>(
        &self,
        timeout: Option<Duration>,
        op: impl FnOnce(MayPop, Option<Duration>) -> R,
        refused: impl FnOnce(Error) -> R,
    ) -> R {
        self.holding(
            Role::Consumer,
            timeout,
            |(_, may), left| op(may, left),
            refused,
        )
    }

    /// Runs `op` with the rights `role` gives, holding the role of an SPSC
    /// queue for the call (see [`pushing`](Self::pushing)).
    fn holding<R>(
        &self,
        role: Role,
        timeout: Option<Duration>,
        op: impl FnOnce((MayPush, MayPop), Option<Duration>) -> R,
        refused: impl FnOnce(Error) -> R,
    ) -> R {
        if let Some(rights) = self.shared.open_access() {
            return op(rights, timeout);
        }
        let deadline = deadline_of(timeout);
        let me = shared::me();
        match self.shared.take_role(role, me, deadline) {
            Ok(rights) => {
                let done = op(rights, left(timeout, deadline));
                self.shared.release_role(role, me);
                done
            }
            Err(e) => refused(e),
        }
    }

    #[inline(always)]
    fn put_until(
        &self,
        item: T,
        timeout: Option<Duration>,
    ) -> std::result::Result<(), PutError<T>> {
        if let Some((may, _)) = self.shared.open_access() {
            return self.shared.put_until(may, item, timeout);
        }
        self.pushing(
            timeout,
            |may, left| self.shared.put_until(may, item, left),
            |error| Err(PutError::Failed { item, error }),
        )
    }

    #[inline(always)]
    fn get_until(&self, timeout: Option<Duration>) -> std::result::Result<T, GetError> {
        if let Some((_, may)) = self.shared.open_access() {
            return self.shared.get_until(may, timeout);
        }
        self.popping(
            timeout,
            |may, left| self.shared.get_until(may, left),
            |error| Err(GetError::Failed(error)),
        )
    }

    /// Enqueues `item`, waiting for room as long as it takes.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-queue-put-{}", std::process::id());
    /// let q = shmipc::Queue::<u64>::create(&name, 8)?;
    /// q.put(1)?;
    /// # Ok(()) }
    /// ```
    #[inline(always)]
    pub fn put(&self, item: T) -> std::result::Result<(), PutError<T>> {
        self.put_until(item, None)
    }

    /// Enqueues `item` if there is room; [`PutError::Full`] (with the item)
    /// otherwise. Costs what a successful put costs when it fails.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-queue-try-put-{}", std::process::id());
    /// let q = shmipc::Queue::<u64>::create(&name, 1)?;
    /// q.try_put(1)?;
    /// let full = q.try_put(2).unwrap_err();
    /// assert_eq!(full.into_inner(), 2);
    /// # Ok(()) }
    /// ```
    #[inline(always)]
    pub fn try_put(&self, item: T) -> std::result::Result<(), PutError<T>> {
        self.put_until(item, Some(Duration::ZERO))
    }

    /// Enqueues `item`, waiting at most `timeout` for room.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-queue-put-t-{}", std::process::id());
    /// let q = shmipc::Queue::<u64>::create(&name, 1)?;
    /// q.put(1)?;
    /// let late = q.put_timeout(2, std::time::Duration::from_millis(5));
    /// assert!(matches!(late, Err(shmipc::PutError::TimedOut { item: 2, .. })));
    /// # Ok(()) }
    /// ```
    pub fn put_timeout(&self, item: T, timeout: Duration) -> std::result::Result<(), PutError<T>> {
        self.put_until(item, Some(timeout))
    }

    /// Dequeues the oldest item, waiting as long as it takes.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-queue-get-{}", std::process::id());
    /// let q = shmipc::Queue::<u64>::create(&name, 8)?;
    /// q.put(3)?;
    /// assert_eq!(q.get()?, 3);
    /// # Ok(()) }
    /// ```
    #[inline(always)]
    pub fn get(&self) -> std::result::Result<T, GetError> {
        self.get_until(None)
    }

    /// Dequeues the oldest item if there is one; [`GetError::Empty`] otherwise.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-queue-try-get-{}", std::process::id());
    /// let q = shmipc::Queue::<u64>::create(&name, 8)?;
    /// assert!(matches!(q.try_get(), Err(shmipc::GetError::Empty { .. })));
    /// # Ok(()) }
    /// ```
    #[inline(always)]
    pub fn try_get(&self) -> std::result::Result<T, GetError> {
        self.get_until(Some(Duration::ZERO))
    }

    /// Dequeues the oldest item, waiting at most `timeout`.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-queue-get-t-{}", std::process::id());
    /// let q = shmipc::Queue::<u64>::create(&name, 8)?;
    /// let waited = q.get_timeout(std::time::Duration::from_millis(5));
    /// assert!(matches!(waited, Err(shmipc::GetError::TimedOut { .. })));
    /// # Ok(()) }
    /// ```
    pub fn get_timeout(&self, timeout: Duration) -> std::result::Result<T, GetError> {
        self.get_until(Some(timeout))
    }

    /// Who holds the producer role of an SPSC queue, as (pid, tid); `None`
    /// if nobody does (and always on an MPMC queue).
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-queue-holder-{}", std::process::id());
    /// let q = shmipc::Queue::<u64>::create_spsc(&name, 8)?;
    /// let _tx = q.producer()?;
    /// assert_eq!(q.producer_holder().map(|(pid, _)| pid), Some(std::process::id()));
    /// assert_eq!(q.consumer_holder(), None);
    /// # Ok(()) }
    /// ```
    pub fn producer_holder(&self) -> Option<(u32, u32)> {
        self.shared
            .open_access()
            .map_or_else(|| self.shared.role_holder(Role::Producer), |_| None)
    }

    /// Who holds the consumer role; as [`producer_holder`](Self::producer_holder).
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-queue-cholder-{}", std::process::id());
    /// let q = shmipc::Queue::<u64>::create_spsc(&name, 8)?;
    /// assert_eq!(q.consumer_holder(), None);
    /// # Ok(()) }
    /// ```
    pub fn consumer_holder(&self) -> Option<(u32, u32)> {
        self.shared
            .open_access()
            .map_or_else(|| self.shared.role_holder(Role::Consumer), |_| None)
    }
}
