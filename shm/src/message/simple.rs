//! `SimpleQueue<T>`: Python's `multiprocessing.SimpleQueue`.

use std::fmt;
use std::marker::PhantomData;

use serde::de::DeserializeOwned;
use serde::Serialize;

use super::error::{RecvError, SendError};
use super::queue::MessageQueue;
use crate::error::Result;
use crate::options::Options;

/// Bytes of a `SimpleQueue`'s ring unless asked otherwise.
///
/// ```
/// assert_eq!(shmipc_shm::message::DEFAULT_SIMPLE_QUEUE_BYTES, 65536);
/// ```
pub const DEFAULT_SIMPLE_QUEUE_BYTES: usize = 64 * 1024;

/// Python's `SimpleQueue`: `put`, `get`, `empty` and `close`, of values of
/// one serde type `T`, over a [`MessageQueue`]. Values of any size go
/// through; `put` waits for room, `get` for a value.
///
/// The segment does not record `T`: a process that opens the queue with
/// another type gets [`RecvError::Decode`] for values that are not its
/// type.
///
/// ```
/// # extern crate shmipc_shm as shmipc;
/// # fn main() -> Result<(), shmipc::Error> {
/// let name = format!("doc-simple-{}", std::process::id());
/// let q = shmipc::SimpleQueue::<String>::create(&name)?;
/// q.put(&"hello".to_string())?;
/// assert_eq!(q.get()?, "hello");
/// assert!(q.empty());
/// # Ok(()) }
/// ```
pub struct SimpleQueue<T> {
    queue: MessageQueue,
    _values: PhantomData<fn(T) -> T>,
}

impl<T> fmt::Debug for SimpleQueue<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SimpleQueue")
            .field("name", &self.queue.name())
            .field("type", &std::any::type_name::<T>())
            .finish()
    }
}

impl<T: Serialize + DeserializeOwned> SimpleQueue<T> {
    /// Creates a queue with a ring of [`DEFAULT_SIMPLE_QUEUE_BYTES`](super::DEFAULT_SIMPLE_QUEUE_BYTES).
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-simple-create-{}", std::process::id());
    /// let q = shmipc::SimpleQueue::<u32>::create(&name)?;
    /// # drop(q); Ok(()) }
    /// ```
    pub fn create(name: &str) -> Result<SimpleQueue<T>> {
        SimpleQueue::create_with(name, DEFAULT_SIMPLE_QUEUE_BYTES, &Options::default())
    }

    /// Creates a queue with a ring of `bytes` bytes, with `opts`.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-simple-create-with-{}", std::process::id());
    /// let q = shmipc::SimpleQueue::<u32>::create_with(&name, 4096, &shmipc::Options::new())?;
    /// # drop(q); Ok(()) }
    /// ```
    pub fn create_with(name: &str, bytes: usize, opts: &Options) -> Result<SimpleQueue<T>> {
        Ok(SimpleQueue::wrap(MessageQueue::create_with(
            name, bytes, opts,
        )?))
    }

    /// Opens the queue named `name`.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-simple-open-{}", std::process::id());
    /// # let _made = shmipc::SimpleQueue::<u32>::create(&name)?;
    /// let q = shmipc::SimpleQueue::<u32>::open(&name)?;
    /// # drop(q); Ok(()) }
    /// ```
    pub fn open(name: &str) -> Result<SimpleQueue<T>> {
        Ok(SimpleQueue::wrap(MessageQueue::open(name)?))
    }

    fn wrap(queue: MessageQueue) -> SimpleQueue<T> {
        SimpleQueue {
            queue,
            _values: PhantomData,
        }
    }

    /// The queue's name.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-simple-name-{}", std::process::id());
    /// let q = shmipc::SimpleQueue::<u32>::create(&name)?;
    /// assert_eq!(q.name(), name);
    /// # Ok(()) }
    /// ```
    pub fn name(&self) -> &str {
        self.queue.name()
    }

    /// Puts `value`, waiting for room as long as it takes.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-simple-put-{}", std::process::id());
    /// let q = shmipc::SimpleQueue::<Vec<u8>>::create(&name)?;
    /// q.put(&vec![1, 2])?;
    /// # Ok(()) }
    /// ```
    pub fn put(&self, value: &T) -> std::result::Result<(), SendError> {
        self.queue.put(value)
    }

    /// Takes the next value, waiting for one as long as it takes.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-simple-get-{}", std::process::id());
    /// let q = shmipc::SimpleQueue::<(i8, bool)>::create(&name)?;
    /// q.put(&(-1, true))?;
    /// assert_eq!(q.get()?, (-1, true));
    /// # Ok(()) }
    /// ```
    pub fn get(&self) -> std::result::Result<T, RecvError> {
        self.queue.get()
    }

    /// Whether the queue is empty (a snapshot).
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-simple-empty-{}", std::process::id());
    /// let q = shmipc::SimpleQueue::<u8>::create(&name)?;
    /// assert!(q.empty());
    /// # Ok(()) }
    /// ```
    pub fn empty(&self) -> bool {
        self.queue.is_empty()
    }

    /// Closes the queue: puts fail, and gets once it is drained.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-simple-close-{}", std::process::id());
    /// let q = shmipc::SimpleQueue::<u8>::create(&name)?;
    /// q.close();
    /// assert!(q.put(&1).is_err());
    /// # Ok(()) }
    /// ```
    pub fn close(&self) {
        self.queue.close();
    }
}
