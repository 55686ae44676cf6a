//! [`Producer`] and [`Consumer`]: the two ends of a queue, each holding its
//! side of an SPSC queue from creation to drop.

use std::cell::Cell;
use std::fmt;
use std::marker::PhantomData;
use std::time::Duration;

use super::error::{GetError, PutError, SliceError};
use super::role::Role;
use super::shared::{MayPop, MayPush, Shared};
use crate::plain::Plain;

/// Makes a type `Send` but not `Sync`: an endpoint moves between threads,
/// but two threads never use one at once.
type NotSync = PhantomData<Cell<()>>;

/// The pushing end of a queue, from [`Queue::producer`](super::Queue::producer).
///
/// On an SPSC queue it holds the producer role from its creation until it
/// is dropped: its puts make no role check at all. It can be sent to another
/// thread (the role goes with it) but not shared between threads, nor
/// cloned; a role whose holding process died is taken over by the next
/// [`Queue::producer`](super::Queue::producer).
///
/// ```
/// # extern crate shmipc_shm as shmipc;
/// # fn main() -> Result<(), shmipc::Error> {
/// # let name = format!("doc-producer-{}", std::process::id());
/// let q = shmipc::Queue::<u64>::create_spsc(&name, 64)?;
/// let (tx, rx) = (q.producer()?, q.consumer()?);
/// let worker = std::thread::spawn(move || {
///     for v in 0..10 {
///         tx.put(v).unwrap();
///     }
/// });
/// let got: Vec<u64> = (0..10).map(|_| rx.get().unwrap()).collect();
/// worker.join().unwrap();
/// assert_eq!(got, (0..10).collect::<Vec<_>>());
/// # Ok(()) }
/// ```
///
/// Two threads cannot push through one producer:
///
/// ```compile_fail,E0277
/// # extern crate shmipc_shm as shmipc;
/// fn share(tx: &shmipc::Producer<u64>) {
///     std::thread::scope(|s| {
///         s.spawn(|| tx.put(1));
///         s.spawn(|| tx.put(2));
///     });
/// }
/// ```
///
/// nor clone it:
///
/// ```compile_fail,E0599
/// # extern crate shmipc_shm as shmipc;
/// fn twice(tx: shmipc::Producer<u64>) -> (shmipc::Producer<u64>, shmipc::Producer<u64>) {
///     (tx.clone(), tx)
/// }
/// ```
pub struct Producer<T: Plain> {
    shared: Shared<T>,
    may: MayPush,
    /// The role record this endpoint took (0 on an MPMC queue).
    me: u64,
    _not_sync: NotSync,
}

/// The popping end of a queue, from [`Queue::consumer`](super::Queue::consumer);
/// as [`Producer`], for the consumer role.
///
/// ```
/// # extern crate shmipc_shm as shmipc;
/// # fn main() -> Result<(), shmipc::Error> {
/// # let name = format!("doc-consumer-{}", std::process::id());
/// let q = shmipc::Queue::<u64>::create_spsc(&name, 64)?;
/// let rx = q.consumer()?;
/// q.put(4)?;
/// assert_eq!(rx.get()?, 4);
/// # Ok(()) }
/// ```
///
/// Two threads cannot pop through one consumer:
///
/// ```compile_fail,E0277
/// # extern crate shmipc_shm as shmipc;
/// fn share(rx: &shmipc::Consumer<u64>) {
///     std::thread::scope(|s| {
///         s.spawn(|| rx.get());
///         s.spawn(|| rx.get());
///     });
/// }
/// ```
pub struct Consumer<T: Plain> {
    shared: Shared<T>,
    may: MayPop,
    me: u64,
    _not_sync: NotSync,
}

impl<T: Plain> Producer<T> {
    pub(super) fn new(shared: Shared<T>, may: MayPush, me: u64) -> Producer<T> {
        Producer {
            shared,
            may,
            me,
            _not_sync: PhantomData,
        }
    }

    /// The queue's name.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-producer-name-{}", std::process::id());
    /// let tx = shmipc::Queue::<u64>::create_spsc(&name, 8)?.producer()?;
    /// assert_eq!(tx.name(), name);
    /// # Ok(()) }
    /// ```
    pub fn name(&self) -> &str {
        &self.shared.name
    }

    /// Items in the queue (a snapshot).
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-producer-len-{}", std::process::id());
    /// let q = shmipc::Queue::<u64>::create_spsc(&name, 8)?;
    /// let tx = q.producer()?;
    /// tx.put(1)?;
    /// assert_eq!(tx.len(), 1);
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
    /// # let name = format!("doc-producer-empty-{}", std::process::id());
    /// let tx = shmipc::Queue::<u64>::create_spsc(&name, 8)?.producer()?;
    /// assert!(tx.is_empty());
    /// # Ok(()) }
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many items fit.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-producer-cap-{}", std::process::id());
    /// let tx = shmipc::Queue::<u64>::create_spsc(&name, 5)?.producer()?;
    /// assert_eq!(tx.capacity(), 5);
    /// # Ok(()) }
    /// ```
    pub fn capacity(&self) -> u64 {
        self.shared.capacity()
    }

    /// Closes the queue for everyone (see [`Queue::close`](super::Queue::close)).
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-producer-close-{}", std::process::id());
    /// let q = shmipc::Queue::<u64>::create_spsc(&name, 8)?;
    /// let tx = q.producer()?;
    /// tx.close();
    /// assert!(q.is_closed());
    /// # Ok(()) }
    /// ```
    pub fn close(&self) {
        self.shared.close()
    }

    /// Enqueues `item`, waiting for room as long as it takes.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-producer-put-{}", std::process::id());
    /// let q = shmipc::Queue::<u64>::create_spsc(&name, 8)?;
    /// q.producer()?.put(1)?;
    /// assert_eq!(q.get()?, 1);
    /// # Ok(()) }
    /// ```
    #[inline(always)]
    pub fn put(&self, item: T) -> std::result::Result<(), PutError<T>> {
        self.shared.put_until(self.may, item, None)
    }

    /// Enqueues `item` if there is room; [`PutError::Full`] (with the item)
    /// otherwise.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-producer-try-put-{}", std::process::id());
    /// let tx = shmipc::Queue::<u64>::create_spsc(&name, 1)?.producer()?;
    /// tx.try_put(1)?;
    /// assert_eq!(tx.try_put(2).unwrap_err().into_inner(), 2);
    /// # Ok(()) }
    /// ```
    #[inline(always)]
    pub fn try_put(&self, item: T) -> std::result::Result<(), PutError<T>> {
        self.shared.put_until(self.may, item, Some(Duration::ZERO))
    }

    /// Enqueues `item`, waiting at most `timeout` for room.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-producer-put-t-{}", std::process::id());
    /// let tx = shmipc::Queue::<u64>::create_spsc(&name, 1)?.producer()?;
    /// tx.put(1)?;
    /// assert!(tx.put_timeout(2, std::time::Duration::from_millis(5)).is_err());
    /// # Ok(()) }
    /// ```
    pub fn put_timeout(&self, item: T, timeout: Duration) -> std::result::Result<(), PutError<T>> {
        self.shared.put_until(self.may, item, Some(timeout))
    }

    /// Enqueues as many of `items` as fit right now; returns how many.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-producer-try-put-slice-{}", std::process::id());
    /// let tx = shmipc::Queue::<u64>::create_spsc(&name, 2)?.producer()?;
    /// assert_eq!(tx.try_put_slice(&[1, 2, 3])?, 2);
    /// # Ok(()) }
    /// ```
    pub fn try_put_slice(&self, items: &[T]) -> std::result::Result<usize, SliceError> {
        self.shared.try_put_slice(self.may, items)
    }

    /// Enqueues as many of `items` as fit once there is room for one,
    /// waiting as long as it takes; returns how many (see
    /// [`Queue::put_slice`](super::Queue::put_slice)).
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-producer-put-slice-{}", std::process::id());
    /// let tx = shmipc::Queue::<u64>::create_spsc(&name, 8)?.producer()?;
    /// assert_eq!(tx.put_slice(&[1, 2, 3])?, 3);
    /// # Ok(()) }
    /// ```
    pub fn put_slice(&self, items: &[T]) -> std::result::Result<usize, SliceError> {
        self.shared.put_slice_until(self.may, items, None)
    }

    /// As [`put_slice`](Self::put_slice), waiting at most `timeout`.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-producer-put-slice-t-{}", std::process::id());
    /// let tx = shmipc::Queue::<u64>::create_spsc(&name, 8)?.producer()?;
    /// assert_eq!(tx.put_slice_timeout(&[1], std::time::Duration::from_millis(5))?, 1);
    /// # Ok(()) }
    /// ```
    pub fn put_slice_timeout(
        &self,
        items: &[T],
        timeout: Duration,
    ) -> std::result::Result<usize, SliceError> {
        self.shared.put_slice_until(self.may, items, Some(timeout))
    }
}

impl<T: Plain> Consumer<T> {
    pub(super) fn new(shared: Shared<T>, may: MayPop, me: u64) -> Consumer<T> {
        Consumer {
            shared,
            may,
            me,
            _not_sync: PhantomData,
        }
    }

    /// The queue's name.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-consumer-name-{}", std::process::id());
    /// let rx = shmipc::Queue::<u64>::create_spsc(&name, 8)?.consumer()?;
    /// assert_eq!(rx.name(), name);
    /// # Ok(()) }
    /// ```
    pub fn name(&self) -> &str {
        &self.shared.name
    }

    /// Items in the queue (a snapshot).
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-consumer-len-{}", std::process::id());
    /// let rx = shmipc::Queue::<u64>::create_spsc(&name, 8)?.consumer()?;
    /// assert_eq!(rx.len(), 0);
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
    /// # let name = format!("doc-consumer-empty-{}", std::process::id());
    /// let rx = shmipc::Queue::<u64>::create_spsc(&name, 8)?.consumer()?;
    /// assert!(rx.is_empty());
    /// # Ok(()) }
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many items fit.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-consumer-cap-{}", std::process::id());
    /// let rx = shmipc::Queue::<u64>::create_spsc(&name, 5)?.consumer()?;
    /// assert_eq!(rx.capacity(), 5);
    /// # Ok(()) }
    /// ```
    pub fn capacity(&self) -> u64 {
        self.shared.capacity()
    }

    /// Whether the queue has been closed.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-consumer-closed-{}", std::process::id());
    /// let q = shmipc::Queue::<u64>::create_spsc(&name, 8)?;
    /// let rx = q.consumer()?;
    /// q.close();
    /// assert!(rx.is_closed());
    /// # Ok(()) }
    /// ```
    pub fn is_closed(&self) -> bool {
        self.shared.is_closed()
    }

    /// Dequeues the oldest item, waiting as long as it takes.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-consumer-get-{}", std::process::id());
    /// let q = shmipc::Queue::<u64>::create_spsc(&name, 8)?;
    /// let rx = q.consumer()?;
    /// q.put(2)?;
    /// assert_eq!(rx.get()?, 2);
    /// # Ok(()) }
    /// ```
    #[inline(always)]
    pub fn get(&self) -> std::result::Result<T, GetError> {
        self.shared.get_until(self.may, None)
    }

    /// Dequeues the oldest item if there is one; [`GetError::Empty`] otherwise.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-consumer-try-get-{}", std::process::id());
    /// let rx = shmipc::Queue::<u64>::create_spsc(&name, 8)?.consumer()?;
    /// assert!(matches!(rx.try_get(), Err(shmipc::GetError::Empty { .. })));
    /// # Ok(()) }
    /// ```
    #[inline(always)]
    pub fn try_get(&self) -> std::result::Result<T, GetError> {
        self.shared.get_until(self.may, Some(Duration::ZERO))
    }

    /// Dequeues the oldest item, waiting at most `timeout`.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-consumer-get-t-{}", std::process::id());
    /// let rx = shmipc::Queue::<u64>::create_spsc(&name, 8)?.consumer()?;
    /// assert!(rx.get_timeout(std::time::Duration::from_millis(5)).is_err());
    /// # Ok(()) }
    /// ```
    pub fn get_timeout(&self, timeout: Duration) -> std::result::Result<T, GetError> {
        self.shared.get_until(self.may, Some(timeout))
    }

    /// Dequeues up to `out.len()` items available right now; returns how many.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-consumer-try-get-slice-{}", std::process::id());
    /// let q = shmipc::Queue::<u64>::create_spsc(&name, 8)?;
    /// let rx = q.consumer()?;
    /// q.put_slice(&[1, 2])?;
    /// let mut out = [0; 4];
    /// assert_eq!(rx.try_get_slice(&mut out)?, 2);
    /// # Ok(()) }
    /// ```
    pub fn try_get_slice(&self, out: &mut [T]) -> std::result::Result<usize, SliceError> {
        self.shared.try_get_slice(self.may, out)
    }

    /// Dequeues as many items as are there once there is one, waiting as
    /// long as it takes; returns how many (see
    /// [`Queue::get_slice`](super::Queue::get_slice)).
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-consumer-get-slice-{}", std::process::id());
    /// let q = shmipc::Queue::<u64>::create_spsc(&name, 8)?;
    /// let rx = q.consumer()?;
    /// q.put(1)?;
    /// let mut out = [0; 4];
    /// assert_eq!(rx.get_slice(&mut out)?, 1);
    /// # Ok(()) }
    /// ```
    pub fn get_slice(&self, out: &mut [T]) -> std::result::Result<usize, SliceError> {
        self.shared.get_slice_until(self.may, out, None)
    }

    /// As [`get_slice`](Self::get_slice), waiting at most `timeout`.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-consumer-get-slice-t-{}", std::process::id());
    /// let rx = shmipc::Queue::<u64>::create_spsc(&name, 8)?.consumer()?;
    /// let mut out = [0; 4];
    /// assert!(rx.get_slice_timeout(&mut out, std::time::Duration::from_millis(5)).is_err());
    /// # Ok(()) }
    /// ```
    pub fn get_slice_timeout(
        &self,
        out: &mut [T],
        timeout: Duration,
    ) -> std::result::Result<usize, SliceError> {
        self.shared.get_slice_until(self.may, out, Some(timeout))
    }
}

impl<T: Plain> Drop for Producer<T> {
    fn drop(&mut self) {
        if self.me != 0 {
            self.shared.release_role(Role::Producer, self.me);
        }
    }
}

impl<T: Plain> Drop for Consumer<T> {
    fn drop(&mut self) {
        if self.me != 0 {
            self.shared.release_role(Role::Consumer, self.me);
        }
    }
}

impl<T: Plain> fmt::Debug for Producer<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Producer")
            .field("queue", &self.name())
            .field("len", &self.len())
            .finish()
    }
}

impl<T: Plain> fmt::Debug for Consumer<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Consumer")
            .field("queue", &self.name())
            .field("len", &self.len())
            .finish()
    }
}
