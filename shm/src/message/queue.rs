//! `MessageQueue`: Python's `multiprocessing.Queue` of any object, as
//! byte messages or serde values of any length.

use std::fmt;
use std::time::Duration;

use shmipc_core::header::Kind;

use super::channel::{Channel, Hold};
use super::error::{RecvError, SendError};
use super::loan::{ReadLoan, WriteLoan};
use super::{create_segment, open_segment};
use crate::error::Result;
use crate::options::Options;
use crate::queue::WaitStrategy;

/// A queue of messages of any length, shared by any number of producer and
/// consumer processes: Python's `multiprocessing.Queue`, which carries any
/// picklable object. Raw bytes go through [`put_bytes`](Self::put_bytes)
/// and [`get_bytes`](Self::get_bytes); with the default `serde` feature,
/// any `Serialize` value through [`put`](Self::put) and
/// [`get`](Self::get).
///
/// The queue is bounded by bytes: a ring of [`capacity`](Self::capacity)
/// bytes, where a message takes its length plus 8, rounded up to 8. A
/// message longer than a quarter of the ring is streamed through it in
/// parts, so any message fits any queue; a send blocks only for room. No
/// feeder thread stands between `put` and the ring, as in Python: a `put`
/// that returns has written its message to shared memory.
///
/// Each call takes the queue's producer (or consumer) role for the time of
/// its copy, so puts of several processes never interleave; a process
/// killed in the middle of one leaves nothing half-written that a consumer
/// could see, and its role is taken over by the next caller.
///
/// ```
/// # extern crate shmipc_shm as shmipc;
/// # fn main() -> Result<(), shmipc::Error> {
/// let name = format!("doc-mq-{}", std::process::id());
/// let q = shmipc::MessageQueue::create(&name, 64 * 1024)?; // in process A
/// let peer = shmipc::MessageQueue::open(&name)?;          // in process B
/// peer.put_bytes(b"hello")?;
/// peer.put(&("job", 7u32, vec![1.5f64, 2.5]))?;
/// assert_eq!(q.get_bytes()?, b"hello");
/// let (what, id, xs): (String, u32, Vec<f64>) = q.get()?;
/// assert_eq!((what.as_str(), id, xs), ("job", 7, vec![1.5, 2.5]));
/// # Ok(()) }
/// ```
pub struct MessageQueue {
    channel: Channel,
    wait: WaitStrategy,
    joinable: bool,
}

/// A message queue segment's flag: a [`JoinableMessageQueue`](super::JoinableMessageQueue).
pub(super) const JOINABLE: u16 = 1;

impl fmt::Debug for MessageQueue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MessageQueue")
            .field("name", self.channel.name())
            .field("capacity", &self.capacity())
            .finish()
    }
}

impl MessageQueue {
    /// Creates a queue whose ring holds `bytes` bytes, rounded up to a power
    /// of two of at least 128 (see [`capacity`](Self::capacity)). The name
    /// is removed when this handle is dropped, unless [`Options::persist`]
    /// says otherwise.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-mq-create-{}", std::process::id());
    /// let q = shmipc::MessageQueue::create(&name, 1000)?;
    /// assert_eq!(q.capacity(), 1024);
    /// # Ok(()) }
    /// ```
    pub fn create(name: &str, bytes: usize) -> Result<MessageQueue> {
        MessageQueue::create_with(name, bytes, &Options::default())
    }

    /// Creates a queue of `bytes` bytes with `opts`.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-mq-create-with-{}", std::process::id());
    /// let q = shmipc::MessageQueue::create_with(&name, 4096, &shmipc::Options::new().mode(0o600))?;
    /// # drop(q); Ok(()) }
    /// ```
    pub fn create_with(name: &str, bytes: usize, opts: &Options) -> Result<MessageQueue> {
        MessageQueue::create_flagged(name, bytes, 0, opts)
    }

    /// Creates a queue whose segment carries `flags` ([`JOINABLE`] or 0).
    pub(super) fn create_flagged(
        name: &str,
        bytes: usize,
        flags: u16,
        opts: &Options,
    ) -> Result<MessageQueue> {
        let (segment, layout) = create_segment(name, Kind::MessageQueue, bytes, 1, flags, opts)?;
        MessageQueue::assemble(segment, layout, flags)
    }

    /// Opens the queue named `name`.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-mq-open-{}", std::process::id());
    /// # let _made = shmipc::MessageQueue::create(&name, 4096)?;
    /// let q = shmipc::MessageQueue::open(&name)?;
    /// assert_eq!(q.capacity(), 4096);
    /// # Ok(()) }
    /// ```
    pub fn open(name: &str) -> Result<MessageQueue> {
        MessageQueue::open_with(name, &Options::default())
    }

    /// Opens the queue named `name` with `opts`.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-mq-open-with-{}", std::process::id());
    /// # let _made = shmipc::MessageQueue::create(&name, 4096)?;
    /// let q = shmipc::MessageQueue::open_with(&name, &shmipc::Options::new())?;
    /// # drop(q); Ok(()) }
    /// ```
    pub fn open_with(name: &str, opts: &Options) -> Result<MessageQueue> {
        let (segment, layout) = open_segment(name, Kind::MessageQueue, opts)?;
        let flags = segment.header().flags;
        MessageQueue::assemble(segment, layout, flags)
    }

    fn assemble(
        segment: std::sync::Arc<crate::segment::Segment>,
        layout: shmipc_core::layout::MessageLayout,
        flags: u16,
    ) -> Result<MessageQueue> {
        let mut channel = Channel::new(segment, &layout.channel[0], layout.ring_bytes, false)?;
        if flags & JOINABLE != 0 {
            // Every handle of a joinable queue counts what it receives,
            // whichever type opened it, or `join` would miss its tasks.
            channel = channel.counting_tasks();
        }
        Ok(MessageQueue {
            channel,
            wait: WaitStrategy::default(),
            joinable: flags & JOINABLE != 0,
        })
    }

    pub(super) fn channel(&self) -> &Channel {
        &self.channel
    }

    pub(super) fn is_joinable(&self) -> bool {
        self.joinable
    }

    pub(super) fn wait_strategy(&self) -> WaitStrategy {
        self.wait
    }

    /// This handle, waiting with `strategy` from now on.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-mq-wait-{}", std::process::id());
    /// let q = shmipc::MessageQueue::create(&name, 4096)?.with_wait(shmipc::WaitStrategy::Spin);
    /// # drop(q); Ok(()) }
    /// ```
    pub fn with_wait(mut self, strategy: WaitStrategy) -> MessageQueue {
        self.wait = strategy;
        self
    }

    /// The queue's name.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-mq-name-{}", std::process::id());
    /// let q = shmipc::MessageQueue::create(&name, 4096)?;
    /// assert_eq!(q.name(), name);
    /// # Ok(()) }
    /// ```
    pub fn name(&self) -> &str {
        self.channel.name()
    }

    /// Bytes of the ring: messages take their length plus an 8-byte
    /// header, rounded up to 8.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-mq-capacity-{}", std::process::id());
    /// let q = shmipc::MessageQueue::create(&name, 5000)?;
    /// assert_eq!(q.capacity(), 8192);
    /// # Ok(()) }
    /// ```
    pub fn capacity(&self) -> usize {
        self.channel.ring_bytes() as usize
    }

    /// Bytes of messages waiting (a snapshot), headers included.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-mq-used-{}", std::process::id());
    /// let q = shmipc::MessageQueue::create(&name, 4096)?;
    /// q.put_bytes(b"abc")?;
    /// assert_eq!(q.used_bytes(), 16);
    /// # Ok(()) }
    /// ```
    pub fn used_bytes(&self) -> usize {
        self.channel.used() as usize
    }

    /// Whether no message is waiting (a snapshot; Python's `empty`).
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-mq-empty-{}", std::process::id());
    /// let q = shmipc::MessageQueue::create(&name, 4096)?;
    /// assert!(q.is_empty());
    /// # Ok(()) }
    /// ```
    pub fn is_empty(&self) -> bool {
        self.used_bytes() == 0
    }

    /// Messages abandoned part-way so far: a message longer than a
    /// quarter of the ring is streamed in parts, and when its producer dies
    /// or times out after the first, consumers drop the parts they got and
    /// this count goes up. The producer was told (or died): nothing it was
    /// told was sent is lost.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-mq-abandoned-{}", std::process::id());
    /// use std::time::Duration;
    /// let q = shmipc::MessageQueue::create(&name, 4096)?;
    /// // Longer than the ring, and nobody takes its parts: it times out.
    /// let late = q.put_bytes_timeout(&[0; 10_000], Duration::from_millis(5));
    /// assert!(matches!(late,
    ///     Err(shmipc::SendError::TimedOut { after, .. }) if after == Duration::from_millis(5)));
    /// assert_eq!(q.abandoned_messages(), 1);
    /// assert!(q.try_get_bytes().is_err()); // its parts are dropped
    /// # Ok(()) }
    /// ```
    pub fn abandoned_messages(&self) -> u64 {
        self.channel.abandoned()
    }

    /// Puts `message`, waiting for room as long as it takes.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-mq-put-bytes-{}", std::process::id());
    /// let q = shmipc::MessageQueue::create(&name, 4096)?;
    /// q.put_bytes(&[1, 2, 3])?;
    /// // Longer than the ring: streamed in parts as a consumer makes room.
    /// let big = vec![7u8; 100_000];
    /// std::thread::scope(|s| {
    ///     s.spawn(|| q.put_bytes(&big).unwrap());
    ///     assert_eq!(q.get_bytes().unwrap(), [1, 2, 3]);
    ///     assert_eq!(q.get_bytes().unwrap(), big);
    /// });
    /// # Ok(()) }
    /// ```
    pub fn put_bytes(&self, message: &[u8]) -> std::result::Result<(), SendError> {
        self.channel.send(message, None, Hold::Call, self.wait)
    }

    /// Puts `message` if there is room now: [`SendError::Full`] if not.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-mq-try-put-{}", std::process::id());
    /// let q = shmipc::MessageQueue::create(&name, 128)?;
    /// q.try_put_bytes(&[0; 16])?;
    /// while q.try_put_bytes(&[0; 16]).is_ok() {}
    /// assert!(matches!(q.try_put_bytes(&[0; 16]), Err(shmipc::SendError::Full { .. })));
    /// # Ok(()) }
    /// ```
    pub fn try_put_bytes(&self, message: &[u8]) -> std::result::Result<(), SendError> {
        self.channel
            .send(message, Some(Duration::ZERO), Hold::Call, self.wait)
    }

    /// Puts `message`, waiting at most `timeout` for room:
    /// [`SendError::TimedOut`] after it.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-mq-put-timeout-{}", std::process::id());
    /// use std::time::Duration;
    /// let q = shmipc::MessageQueue::create(&name, 128)?;
    /// while q.try_put_bytes(&[0; 16]).is_ok() {}
    /// let late = q.put_bytes_timeout(&[0; 16], Duration::from_millis(1));
    /// assert!(matches!(late, Err(shmipc::SendError::TimedOut { .. })));
    /// # Ok(()) }
    /// ```
    pub fn put_bytes_timeout(
        &self,
        message: &[u8],
        timeout: Duration,
    ) -> std::result::Result<(), SendError> {
        self.channel
            .send(message, Some(timeout), Hold::Call, self.wait)
    }

    /// Takes the next message, waiting for one as long as it takes.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-mq-get-bytes-{}", std::process::id());
    /// let q = shmipc::MessageQueue::create(&name, 4096)?;
    /// q.put_bytes(b"x")?;
    /// assert_eq!(q.get_bytes()?, b"x");
    /// # Ok(()) }
    /// ```
    pub fn get_bytes(&self) -> std::result::Result<Vec<u8>, RecvError> {
        self.get_vec(None)
    }

    /// Takes the next message if there is one now: [`RecvError::Empty`] if
    /// not.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-mq-try-get-bytes-{}", std::process::id());
    /// let q = shmipc::MessageQueue::create(&name, 4096)?;
    /// assert!(matches!(q.try_get_bytes(), Err(shmipc::RecvError::Empty { .. })));
    /// # Ok(()) }
    /// ```
    pub fn try_get_bytes(&self) -> std::result::Result<Vec<u8>, RecvError> {
        self.get_vec(Some(Duration::ZERO))
    }

    /// Takes the next message, waiting at most `timeout` for one to begin:
    /// [`RecvError::TimedOut`] after it. A message streamed in parts, once
    /// begun, is taken whole while its parts keep coming; if they stop for a
    /// second past the timeout (its producer was stopped), its parts are
    /// dropped, counted in [`abandoned_messages`](Self::abandoned_messages),
    /// and the get times out.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-mq-get-timeout-{}", std::process::id());
    /// let q = shmipc::MessageQueue::create(&name, 4096)?;
    /// let none = q.get_bytes_timeout(std::time::Duration::from_millis(1));
    /// assert!(matches!(none, Err(shmipc::RecvError::TimedOut { .. })));
    /// # Ok(()) }
    /// ```
    pub fn get_bytes_timeout(&self, timeout: Duration) -> std::result::Result<Vec<u8>, RecvError> {
        self.get_vec(Some(timeout))
    }

    fn get_vec(&self, timeout: Option<Duration>) -> std::result::Result<Vec<u8>, RecvError> {
        self.channel
            .recv_vec(usize::MAX, timeout, Hold::Call, self.wait)
    }

    /// Copies the next message into the front of `buffer`, waiting for one
    /// as long as it takes, and gives its length. A buffer shorter than the
    /// message is [`RecvError::BufferTooSmall`] with the length needed, and
    /// the message stays next.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-mq-get-into-{}", std::process::id());
    /// let q = shmipc::MessageQueue::create(&name, 4096)?;
    /// q.put_bytes(b"twelve bytes")?;
    /// let mut small = [0u8; 4];
    /// match q.get_bytes_into(&mut small) {
    ///     Err(shmipc::RecvError::BufferTooSmall { needed, .. }) => assert_eq!(needed, 12),
    ///     other => panic!("{other:?}"),
    /// }
    /// let mut buffer = [0u8; 64];
    /// let n = q.get_bytes_into(&mut buffer)?;
    /// assert_eq!(&buffer[..n], b"twelve bytes");
    /// # Ok(()) }
    /// ```
    pub fn get_bytes_into(&self, buffer: &mut [u8]) -> std::result::Result<usize, RecvError> {
        self.get_into(buffer, None)
    }

    /// As [`get_bytes_into`](Self::get_bytes_into), waiting at most
    /// `timeout` (zero: not at all) for a message to begin.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-mq-get-into-timeout-{}", std::process::id());
    /// let q = shmipc::MessageQueue::create(&name, 4096)?;
    /// let mut buffer = [0u8; 64];
    /// let none = q.get_bytes_into_timeout(&mut buffer, std::time::Duration::ZERO);
    /// assert!(matches!(none, Err(shmipc::RecvError::Empty { .. })));
    /// # Ok(()) }
    /// ```
    pub fn get_bytes_into_timeout(
        &self,
        buffer: &mut [u8],
        timeout: Duration,
    ) -> std::result::Result<usize, RecvError> {
        self.get_into(buffer, Some(timeout))
    }

    fn get_into(
        &self,
        buffer: &mut [u8],
        timeout: Option<Duration>,
    ) -> std::result::Result<usize, RecvError> {
        self.channel
            .recv_into(buffer, timeout, Hold::Call, self.wait)
    }

    /// Reserves room for a message of `len` bytes, to be written in place
    /// and published (see [`WriteLoan`]), waiting for room as long as it
    /// takes. A loaned message is one record: at most the ring's size less
    /// 16 bytes, else [`SendError::TooLarge`]. Other producers wait until the
    /// loan is published or dropped.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-mq-reserve-{}", std::process::id());
    /// let q = shmipc::MessageQueue::create(&name, 4096)?;
    /// let mut loan = q.reserve(3)?;
    /// loan.write(0, b"abc")?;
    /// loan.publish();
    /// assert!(matches!(q.reserve(5000), Err(shmipc::SendError::TooLarge { .. })));
    /// # Ok(()) }
    /// ```
    pub fn reserve(&self, len: usize) -> std::result::Result<WriteLoan<'_>, SendError> {
        self.channel.reserve(len, None, Hold::Call, self.wait)
    }

    /// As [`reserve`](Self::reserve), waiting at most `timeout` for room
    /// (zero: not at all, then [`SendError::Full`]).
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-mq-reserve-timeout-{}", std::process::id());
    /// let q = shmipc::MessageQueue::create(&name, 128)?;
    /// let first = q.reserve(100)?;
    /// first.publish();
    /// let late = q.reserve_timeout(100, std::time::Duration::from_millis(1));
    /// assert!(matches!(late, Err(shmipc::SendError::TimedOut { .. })));
    /// # Ok(()) }
    /// ```
    pub fn reserve_timeout(
        &self,
        len: usize,
        timeout: Duration,
    ) -> std::result::Result<WriteLoan<'_>, SendError> {
        self.channel
            .reserve(len, Some(timeout), Hold::Call, self.wait)
    }

    /// Takes the next message to be read in place (see [`ReadLoan`]),
    /// waiting for one as long as it takes; it is freed when the loan is
    /// dropped, and other consumers wait until then.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-mq-get-loan-{}", std::process::id());
    /// let q = shmipc::MessageQueue::create(&name, 4096)?;
    /// q.put_bytes(&[9; 1000])?;
    /// let loan = q.get_loan()?;
    /// let mut first = [0u8; 2];
    /// loan.read(0, &mut first)?;
    /// assert_eq!(first, [9, 9]);
    /// # Ok(()) }
    /// ```
    pub fn get_loan(&self) -> std::result::Result<ReadLoan<'_>, RecvError> {
        self.channel.recv_loan(None, Hold::Call, self.wait)
    }

    /// As [`get_loan`](Self::get_loan), waiting at most `timeout` for a
    /// message to begin (zero: not at all, then [`RecvError::Empty`]).
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-mq-get-loan-timeout-{}", std::process::id());
    /// let q = shmipc::MessageQueue::create(&name, 4096)?;
    /// let none = q.get_loan_timeout(std::time::Duration::ZERO);
    /// assert!(matches!(none, Err(shmipc::RecvError::Empty { .. })));
    /// # Ok(()) }
    /// ```
    pub fn get_loan_timeout(
        &self,
        timeout: Duration,
    ) -> std::result::Result<ReadLoan<'_>, RecvError> {
        self.channel.recv_loan(Some(timeout), Hold::Call, self.wait)
    }

    /// Closes the queue for everyone (Python's `close`, which is per
    /// process, is the drop of a handle here): puts fail with
    /// [`SendError::Closed`] from now on, and gets, once the messages put
    /// before are taken, with [`RecvError::Closed`].
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-mq-close-{}", std::process::id());
    /// let q = shmipc::MessageQueue::create(&name, 4096)?;
    /// q.put_bytes(b"last")?;
    /// q.close();
    /// assert!(matches!(q.put_bytes(b"more"), Err(shmipc::SendError::Closed { .. })));
    /// assert_eq!(q.get_bytes()?, b"last");
    /// assert!(matches!(q.get_bytes(), Err(shmipc::RecvError::Closed { .. })));
    /// # Ok(()) }
    /// ```
    pub fn close(&self) {
        self.channel.close();
    }

    /// Whether the queue was closed.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-mq-is-closed-{}", std::process::id());
    /// let q = shmipc::MessageQueue::create(&name, 4096)?;
    /// assert!(!q.is_closed());
    /// # Ok(()) }
    /// ```
    pub fn is_closed(&self) -> bool {
        self.channel.ended(super::channel::Side::Sender)
    }
}

#[cfg(feature = "serde")]
impl MessageQueue {
    /// Puts `value`, encoded with postcard, waiting for room as long as it
    /// takes.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-mq-put-{}", std::process::id());
    /// let q = shmipc::MessageQueue::create(&name, 4096)?;
    /// q.put(&String::from("any serde value"))?;
    /// assert_eq!(q.get::<String>()?, "any serde value");
    /// # Ok(()) }
    /// ```
    pub fn put<T: serde::Serialize + ?Sized>(
        &self,
        value: &T,
    ) -> std::result::Result<(), SendError> {
        self.put_bytes(&super::codec::encode(self.channel.name(), value)?)
    }

    /// Puts `value` if there is room now: [`SendError::Full`] if not.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-mq-try-put-value-{}", std::process::id());
    /// let q = shmipc::MessageQueue::create(&name, 4096)?;
    /// q.try_put(&[1u16, 2, 3])?;
    /// assert_eq!(q.get::<[u16; 3]>()?, [1, 2, 3]);
    /// # Ok(()) }
    /// ```
    pub fn try_put<T: serde::Serialize + ?Sized>(
        &self,
        value: &T,
    ) -> std::result::Result<(), SendError> {
        self.try_put_bytes(&super::codec::encode(self.channel.name(), value)?)
    }

    /// Puts `value`, waiting at most `timeout` for room.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-mq-put-value-timeout-{}", std::process::id());
    /// let q = shmipc::MessageQueue::create(&name, 4096)?;
    /// q.put_timeout(&Some(5i64), std::time::Duration::from_secs(1))?;
    /// assert_eq!(q.get::<Option<i64>>()?, Some(5));
    /// # Ok(()) }
    /// ```
    pub fn put_timeout<T: serde::Serialize + ?Sized>(
        &self,
        value: &T,
        timeout: Duration,
    ) -> std::result::Result<(), SendError> {
        self.put_bytes_timeout(&super::codec::encode(self.channel.name(), value)?, timeout)
    }

    /// Takes the next message and decodes it as a `T`, waiting for one as
    /// long as it takes. A message that is not a `T` is
    /// [`RecvError::Decode`], naming the type; it is consumed, and the
    /// queue goes on.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-mq-get-{}", std::process::id());
    /// let q = shmipc::MessageQueue::create(&name, 4096)?;
    /// q.put_bytes(&[0xff])?;
    /// q.put(&true)?;
    /// assert!(matches!(q.get::<bool>(), Err(shmipc::RecvError::Decode { .. })));
    /// assert!(q.get::<bool>()?);
    /// # Ok(()) }
    /// ```
    pub fn get<T: serde::de::DeserializeOwned>(&self) -> std::result::Result<T, RecvError> {
        super::codec::decode(self.channel.name(), &self.get_bytes()?)
    }

    /// Takes and decodes the next message if there is one now.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-mq-try-get-value-{}", std::process::id());
    /// let q = shmipc::MessageQueue::create(&name, 4096)?;
    /// assert!(matches!(q.try_get::<u8>(), Err(shmipc::RecvError::Empty { .. })));
    /// # Ok(()) }
    /// ```
    pub fn try_get<T: serde::de::DeserializeOwned>(&self) -> std::result::Result<T, RecvError> {
        super::codec::decode(self.channel.name(), &self.try_get_bytes()?)
    }

    /// Takes and decodes the next message, waiting at most `timeout` for
    /// one to begin.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-mq-get-value-timeout-{}", std::process::id());
    /// let q = shmipc::MessageQueue::create(&name, 4096)?;
    /// let none = q.get_timeout::<u8>(std::time::Duration::from_millis(1));
    /// assert!(matches!(none, Err(shmipc::RecvError::TimedOut { .. })));
    /// # Ok(()) }
    /// ```
    pub fn get_timeout<T: serde::de::DeserializeOwned>(
        &self,
        timeout: Duration,
    ) -> std::result::Result<T, RecvError> {
        super::codec::decode(self.channel.name(), &self.get_bytes_timeout(timeout)?)
    }
}

impl crate::multi_wait::Waitable for MessageQueue {
    fn is_ready(&self) -> bool {
        !self.is_empty() || self.is_closed()
    }

    fn register(&self) -> crate::multi_wait::Registered<'_> {
        crate::multi_wait::Registered::on_eventcount(self.channel.not_empty())
    }
}
