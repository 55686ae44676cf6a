//! [`pipe`] and its [`Connection`] ends: Python's `multiprocessing.Pipe`,
//! over one segment.

use std::cell::Cell;
use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use shmipc_core::header::Kind;
use shmipc_core::layout::MessageLayout;

use super::channel::{Channel, Hold, Side};
use super::error::{RecvError, SendError};
use super::loan::{ReadLoan, WriteLoan};
use super::{create_segment, open_segment};
use crate::error::{Error, Result};
use crate::options::Options;
use crate::queue::role;
use crate::queue::WaitStrategy;
use crate::segment::Segment;

/// The pipe's flag: one channel each way.
pub(super) const DUPLEX: u16 = 1;

/// Bytes of each direction's ring unless asked otherwise: an OS pipe's
/// default buffer on Linux.
///
/// ```
/// assert_eq!(shmipc_shm::message::DEFAULT_PIPE_BYTES, 65536);
/// ```
pub const DEFAULT_PIPE_BYTES: usize = 64 * 1024;

/// Makes both ends of a new pipe named `name` in this process, as
/// Python's `Pipe(duplex)`: `(first, second)`. With `duplex`, each end
/// sends and receives; without, `first` only receives and `second` only
/// sends.
///
/// Both ends belong to this process: hand one to a thread. For a pipe
/// between processes, one creates its end with [`Connection::create`] and
/// the other opens the second end with [`Connection::open`].
///
/// ```
/// # extern crate shmipc_shm as shmipc;
/// # fn main() -> Result<(), shmipc::Error> {
/// let name = format!("doc-pipe-{}", std::process::id());
/// let (a, b) = shmipc::pipe(&name, true)?;
/// std::thread::spawn(move || {
///     let n: u64 = b.recv().unwrap();
///     b.send(&(n + 1)).unwrap();
/// });
/// a.send(&41u64)?;
/// assert_eq!(a.recv::<u64>()?, 42);
/// # Ok(()) }
/// ```
pub fn pipe(name: &str, duplex: bool) -> Result<(Connection, Connection)> {
    let first = Connection::create(name, duplex)?;
    let second = Connection::open(name)?;
    Ok((first, second))
}

/// One end of a [`pipe`]: sends messages to the other end and receives
/// the ones it sends, as Python's `Connection`.
///
/// An end belongs to one handle at a time: it can move to another thread,
/// but not be shared or cloned, and the other process's handle cannot open
/// it while this one lives. When an end is dropped (or
/// [`close`](Self::close)d), or its process dies, the other end receives
/// what was sent and then [`RecvError::Closed`] (end of file), and its sends
/// fail with [`SendError::Disconnected`]. A closed end cannot be opened
/// again.
///
/// ```
/// # extern crate shmipc_shm as shmipc;
/// # fn main() -> Result<(), shmipc::Error> {
/// let name = format!("doc-conn-{}", std::process::id());
/// let parent = shmipc::Connection::create(&name, true)?; // in process A
/// let child = shmipc::Connection::open(&name)?;          // in process B
/// child.send_bytes(b"ready")?;
/// assert_eq!(parent.recv_bytes()?, b"ready");
/// drop(child);
/// assert!(matches!(parent.recv_bytes(), Err(shmipc::RecvError::Closed { .. })));
/// # Ok(()) }
/// ```
///
/// Two threads cannot use one end at once:
///
/// ```compile_fail,E0277
/// # extern crate shmipc_shm as shmipc;
/// fn share(end: &shmipc::Connection) {
///     std::thread::scope(|s| {
///         s.spawn(|| end.send_bytes(b"a"));
///     });
/// }
/// ```
pub struct Connection {
    receiving: Option<Channel>,
    sending: Option<Channel>,
    /// The role record this end took its roles with.
    me: u64,
    wait: WaitStrategy,
    /// Send but not Sync: one thread at a time uses an end.
    _one_thread: PhantomData<Cell<()>>,
}

impl fmt::Debug for Connection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connection")
            .field("name", &self.name())
            .field("readable", &self.readable())
            .field("writable", &self.writable())
            .finish()
    }
}

/// Which end of a pipe.
#[derive(Clone, Copy, PartialEq, Eq)]
enum End {
    First,
    Second,
}

impl Connection {
    /// Creates a pipe named `name` with rings of [`DEFAULT_PIPE_BYTES`](super::DEFAULT_PIPE_BYTES)
    /// and returns its first end (the receiving one, if not `duplex`). The
    /// name is removed when this end is dropped, unless [`Options::persist`]
    /// says otherwise; an end opened before keeps working.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-conn-create-{}", std::process::id());
    /// let rx = shmipc::Connection::create(&name, false)?;
    /// assert!(rx.readable() && !rx.writable());
    /// # Ok(()) }
    /// ```
    pub fn create(name: &str, duplex: bool) -> Result<Connection> {
        Connection::create_with(name, duplex, DEFAULT_PIPE_BYTES, &Options::default())
    }

    /// Creates a pipe whose rings hold `bytes` bytes each (rounded up to a
    /// power of two of at least 128), with `opts`; returns its first end.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-conn-create-with-{}", std::process::id());
    /// let end = shmipc::Connection::create_with(&name, true, 1 << 20, &shmipc::Options::new())?;
    /// assert!(end.readable() && end.writable());
    /// # Ok(()) }
    /// ```
    pub fn create_with(
        name: &str,
        duplex: bool,
        bytes: usize,
        opts: &Options,
    ) -> Result<Connection> {
        let (channels, flags) = if duplex { (2, DUPLEX) } else { (1, 0) };
        let (segment, layout) = create_segment(name, Kind::Pipe, bytes, channels, flags, opts)?;
        Connection::take(segment, &layout, End::First)
    }

    /// Opens the second end of the pipe named `name` (the sending one, if
    /// not duplex). [`Error::RoleTaken`] if a live handle has it,
    /// [`Error::Closed`] if it was closed, or its process died.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-conn-open-{}", std::process::id());
    /// let rx = shmipc::Connection::create(&name, false)?;
    /// let tx = shmipc::Connection::open(&name)?;
    /// assert!(tx.writable() && !tx.readable());
    /// assert!(shmipc::Connection::open(&name).is_err()); // taken
    /// # Ok(()) }
    /// ```
    pub fn open(name: &str) -> Result<Connection> {
        Connection::open_with(name, &Options::default())
    }

    /// Opens the second end of the pipe named `name`, with `opts`.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-conn-open-with-{}", std::process::id());
    /// # let _first = shmipc::Connection::create(&name, true)?;
    /// let end = shmipc::Connection::open_with(&name, &shmipc::Options::new())?;
    /// # drop(end); Ok(()) }
    /// ```
    pub fn open_with(name: &str, opts: &Options) -> Result<Connection> {
        let (segment, layout) = open_segment(name, Kind::Pipe, opts)?;
        Connection::take(segment, &layout, End::Second)
    }

    /// Takes `end`'s roles: on a duplex pipe the first end receives on
    /// channel 0 and sends on channel 1, the second the other way; on a
    /// simplex pipe, channel 0 alone, first receiving.
    fn take(segment: Arc<Segment>, layout: &MessageLayout, end: End) -> Result<Connection> {
        let channel =
            |i: usize| Channel::new(segment.clone(), &layout.channel[i], layout.ring_bytes, true);
        let (receiving, sending) = match (layout.channels, end) {
            (2, End::First) => (Some(channel(0)?), Some(channel(1)?)),
            (2, End::Second) => (Some(channel(1)?), Some(channel(0)?)),
            (_, End::First) => (Some(channel(0)?), None),
            (_, End::Second) => (None, Some(channel(0)?)),
        };
        let me = role::me();
        let mut taken: Vec<(&Channel, Side)> = Vec::new();
        let sides = [
            (receiving.as_ref(), Side::Receiver),
            (sending.as_ref(), Side::Sender),
        ];
        for (channel, side) in sides {
            let Some(channel) = channel else { continue };
            let claimed = if channel.ended(side) {
                Err(Error::Closed {
                    name: channel.name().to_string(),
                })
            } else {
                channel.take_for_life(side, me).and_then(|()| {
                    // Taken from a process that died with it: that end is over.
                    if channel.ended(side) {
                        channel.release(side, me);
                        Err(Error::Closed {
                            name: channel.name().to_string(),
                        })
                    } else {
                        Ok(())
                    }
                })
            };
            if let Err(e) = claimed {
                for (c, s) in taken {
                    c.release(s, me);
                }
                return Err(e);
            }
            taken.push((channel, side));
        }
        Ok(Connection {
            receiving,
            sending,
            me,
            wait: WaitStrategy::default(),
            _one_thread: PhantomData,
        })
    }

    /// This end, waiting with `strategy` from now on.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-conn-wait-{}", std::process::id());
    /// let end = shmipc::Connection::create(&name, true)?.with_wait(shmipc::WaitStrategy::Spin);
    /// # drop(end); Ok(()) }
    /// ```
    pub fn with_wait(mut self, strategy: WaitStrategy) -> Connection {
        self.wait = strategy;
        self
    }

    /// The pipe's name.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-conn-name-{}", std::process::id());
    /// let end = shmipc::Connection::create(&name, true)?;
    /// assert_eq!(end.name(), name);
    /// # Ok(()) }
    /// ```
    pub fn name(&self) -> &str {
        self.any_channel().name()
    }

    fn any_channel(&self) -> &Channel {
        match (&self.receiving, &self.sending) {
            (Some(c), _) | (None, Some(c)) => c,
            (None, None) => unreachable!("an end has a channel"),
        }
    }

    /// Whether this end receives (Python's `readable`).
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-conn-readable-{}", std::process::id());
    /// assert!(shmipc::Connection::create(&name, true)?.readable());
    /// # Ok(()) }
    /// ```
    pub fn readable(&self) -> bool {
        self.receiving.is_some()
    }

    /// Whether this end sends (Python's `writable`).
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-conn-writable-{}", std::process::id());
    /// assert!(!shmipc::Connection::create(&name, false)?.writable());
    /// # Ok(()) }
    /// ```
    pub fn writable(&self) -> bool {
        self.sending.is_some()
    }

    fn sender(&self) -> std::result::Result<&Channel, SendError> {
        let sending = self.sending.as_ref().ok_or_else(|| {
            SendError::Failed(Error::invalid(format!(
                "pipe '{}': this end only receives",
                self.name()
            )))
        })?;
        // The other end gives up both ways at once: one it stopped sending
        // on (closed, or seen dead) receives no more either.
        if self
            .receiving
            .as_ref()
            .is_some_and(|c| c.ended(Side::Sender))
        {
            return Err(SendError::Disconnected {
                name: sending.name().clone(),
            });
        }
        Ok(sending)
    }

    fn receiver(&self) -> std::result::Result<&Channel, RecvError> {
        self.receiving.as_ref().ok_or_else(|| {
            RecvError::Failed(Error::invalid(format!(
                "pipe '{}': this end only sends",
                self.name()
            )))
        })
    }

    /// Sends `message`, waiting for room as long as it takes. A message
    /// longer than a quarter of the ring is streamed in parts.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-conn-send-bytes-{}", std::process::id());
    /// let (a, b) = shmipc::pipe(&name, true)?;
    /// a.send_bytes(b"ping")?;
    /// assert_eq!(b.recv_bytes()?, b"ping");
    /// # Ok(()) }
    /// ```
    pub fn send_bytes(&self, message: &[u8]) -> std::result::Result<(), SendError> {
        self.sender()?.send(message, None, Hold::Life, self.wait)
    }

    /// Sends `buffer[offset..offset + size]` (Python's `send_bytes(buf,
    /// offset, size)`); a range outside the buffer is an error and sends
    /// nothing.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-conn-send-range-{}", std::process::id());
    /// let (a, b) = shmipc::pipe(&name, true)?;
    /// a.send_bytes_range(b"abcdef", 2, 3)?;
    /// assert_eq!(b.recv_bytes()?, b"cde");
    /// assert!(a.send_bytes_range(b"abc", 2, 5).is_err());
    /// # Ok(()) }
    /// ```
    pub fn send_bytes_range(
        &self,
        buffer: &[u8],
        offset: usize,
        size: usize,
    ) -> std::result::Result<(), SendError> {
        let range = offset
            .checked_add(size)
            .and_then(|end| buffer.get(offset..end))
            .ok_or_else(|| {
                SendError::Failed(Error::invalid(format!(
                    "pipe '{}': expected offset + size within the buffer's {} bytes, found offset {offset} and size {size}",
                    self.name(),
                    buffer.len()
                )))
            })?;
        self.send_bytes(range)
    }

    /// Sends `message`, waiting at most `timeout` for room (zero: not at
    /// all, then [`SendError::Full`]).
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-conn-send-timeout-{}", std::process::id());
    /// let (a, _b) = shmipc::pipe(&name, true)?;
    /// a.send_bytes_timeout(b"x", std::time::Duration::from_millis(10))?;
    /// # Ok(()) }
    /// ```
    pub fn send_bytes_timeout(
        &self,
        message: &[u8],
        timeout: Duration,
    ) -> std::result::Result<(), SendError> {
        self.sender()?
            .send(message, Some(timeout), Hold::Life, self.wait)
    }

    /// Receives the next message, waiting for it as long as it takes;
    /// [`RecvError::Closed`] once the other end is gone and everything it
    /// sent was received (Python's `EOFError`).
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-conn-recv-bytes-{}", std::process::id());
    /// let (a, b) = shmipc::pipe(&name, false)?;
    /// b.send_bytes(b"last words")?;
    /// drop(b);
    /// assert_eq!(a.recv_bytes()?, b"last words");
    /// assert!(matches!(a.recv_bytes(), Err(shmipc::RecvError::Closed { .. })));
    /// # Ok(()) }
    /// ```
    pub fn recv_bytes(&self) -> std::result::Result<Vec<u8>, RecvError> {
        self.recv_vec(usize::MAX, None)
    }

    /// Receives the next message if it is at most `max` bytes (Python's
    /// `recv_bytes(maxlength)`); a longer one is [`RecvError::TooLong`],
    /// and stays next.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-conn-recv-max-{}", std::process::id());
    /// let (a, b) = shmipc::pipe(&name, true)?;
    /// a.send_bytes(&[0; 100])?;
    /// assert!(matches!(b.recv_bytes_max(10), Err(shmipc::RecvError::TooLong { len: 100, .. })));
    /// assert_eq!(b.recv_bytes_max(100)?.len(), 100);
    /// # Ok(()) }
    /// ```
    pub fn recv_bytes_max(&self, max: usize) -> std::result::Result<Vec<u8>, RecvError> {
        self.recv_vec(max, None)
    }

    /// Receives the next message, waiting at most `timeout` for it to
    /// begin (zero: not at all, then [`RecvError::Empty`]).
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-conn-recv-timeout-{}", std::process::id());
    /// let (a, _b) = shmipc::pipe(&name, true)?;
    /// let none = a.recv_bytes_timeout(std::time::Duration::from_millis(1));
    /// assert!(matches!(none, Err(shmipc::RecvError::TimedOut { .. })));
    /// # Ok(()) }
    /// ```
    pub fn recv_bytes_timeout(&self, timeout: Duration) -> std::result::Result<Vec<u8>, RecvError> {
        self.recv_vec(usize::MAX, Some(timeout))
    }

    fn recv_vec(
        &self,
        max: usize,
        timeout: Option<Duration>,
    ) -> std::result::Result<Vec<u8>, RecvError> {
        self.receiver()?
            .recv_vec(max, timeout, Hold::Life, self.wait)
    }

    /// Copies the next message into the front of `buffer` and gives its
    /// length (Python's `recv_bytes_into`). A buffer that is too small is
    /// [`RecvError::BufferTooSmall`] with the length needed, and the
    /// message stays next.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-conn-recv-into-{}", std::process::id());
    /// let (a, b) = shmipc::pipe(&name, true)?;
    /// a.send_bytes(b"0123456789")?;
    /// let mut small = [0u8; 4];
    /// assert!(matches!(b.recv_bytes_into(&mut small),
    ///     Err(shmipc::RecvError::BufferTooSmall { needed: 10, .. })));
    /// let mut buffer = [0u8; 16];
    /// assert_eq!(b.recv_bytes_into(&mut buffer)?, 10);
    /// # Ok(()) }
    /// ```
    pub fn recv_bytes_into(&self, buffer: &mut [u8]) -> std::result::Result<usize, RecvError> {
        self.receiver()?
            .recv_into(buffer, None, Hold::Life, self.wait)
    }

    /// Reserves room for a message of `len` bytes, to be written in place
    /// and published (see [`WriteLoan`]); at most the ring's size less 16
    /// bytes, else [`SendError::TooLarge`].
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-conn-reserve-{}", std::process::id());
    /// let (a, b) = shmipc::pipe(&name, true)?;
    /// let mut loan = a.reserve(5)?;
    /// loan.write(0, b"hello")?;
    /// loan.publish();
    /// assert_eq!(b.recv_loan()?.to_vec(), b"hello");
    /// # Ok(()) }
    /// ```
    pub fn reserve(&self, len: usize) -> std::result::Result<WriteLoan<'_>, SendError> {
        self.sender()?.reserve(len, None, Hold::Life, self.wait)
    }

    /// Receives the next message to be read in place (see [`ReadLoan`]);
    /// it is freed when the loan is dropped.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-conn-recv-loan-{}", std::process::id());
    /// let (a, b) = shmipc::pipe(&name, true)?;
    /// a.send_bytes(&[1, 2, 3])?;
    /// assert_eq!(b.recv_loan()?.len(), 3);
    /// # Ok(()) }
    /// ```
    pub fn recv_loan(&self) -> std::result::Result<ReadLoan<'_>, RecvError> {
        self.receiver()?.recv_loan(None, Hold::Life, self.wait)
    }

    /// Whether a receive would not block: a message is waiting, or the
    /// other end is gone. Waits up to `timeout` for that (zero: not at all;
    /// `None`: forever), as Python's `poll`.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-conn-poll-{}", std::process::id());
    /// use std::time::Duration;
    /// let (a, b) = shmipc::pipe(&name, true)?;
    /// assert!(!b.poll(Some(Duration::ZERO))?);
    /// a.send_bytes(b"x")?;
    /// assert!(b.poll(Some(Duration::from_secs(1)))?);
    /// # Ok(()) }
    /// ```
    pub fn poll(&self, timeout: Option<Duration>) -> std::result::Result<bool, RecvError> {
        self.receiver()?.poll(timeout, self.wait)
    }

    /// Closes this end (as dropping it does): the other end receives what
    /// was sent, then end of file.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-conn-close-{}", std::process::id());
    /// let (a, b) = shmipc::pipe(&name, true)?;
    /// a.close();
    /// assert!(matches!(b.send_bytes(b"x"), Err(shmipc::SendError::Disconnected { .. })));
    /// # Ok(()) }
    /// ```
    pub fn close(self) {}
}

impl Drop for Connection {
    fn drop(&mut self) {
        if let Some(c) = &self.receiving {
            c.end(Side::Receiver);
            c.release(Side::Receiver, self.me);
        }
        if let Some(c) = &self.sending {
            c.end(Side::Sender);
            c.release(Side::Sender, self.me);
        }
    }
}

#[cfg(feature = "serde")]
impl Connection {
    /// Sends `value`, encoded with postcard (Python's `send`).
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-conn-send-{}", std::process::id());
    /// let (a, b) = shmipc::pipe(&name, true)?;
    /// a.send(&vec!["any", "serde", "value"])?;
    /// assert_eq!(b.recv::<Vec<String>>()?, ["any", "serde", "value"]);
    /// # Ok(()) }
    /// ```
    pub fn send<T: serde::Serialize + ?Sized>(
        &self,
        value: &T,
    ) -> std::result::Result<(), SendError> {
        let sender = self.sender()?;
        sender.send(
            &super::codec::encode(sender.name(), value)?,
            None,
            Hold::Life,
            self.wait,
        )
    }

    /// Receives the next message as a `T` (Python's `recv`). A message that
    /// is not a `T` is [`RecvError::Decode`], naming the type; it is
    /// consumed.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-conn-recv-{}", std::process::id());
    /// let (a, b) = shmipc::pipe(&name, true)?;
    /// b.send(&(1u8, "two".to_string()))?;
    /// assert_eq!(a.recv::<(u8, String)>()?, (1, "two".to_string()));
    /// # Ok(()) }
    /// ```
    pub fn recv<T: serde::de::DeserializeOwned>(&self) -> std::result::Result<T, RecvError> {
        super::codec::decode(self.receiver()?.name(), &self.recv_bytes()?)
    }

    /// Receives the next message as a `T`, waiting at most `timeout` for it
    /// to begin.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-conn-recv-value-timeout-{}", std::process::id());
    /// let (a, _b) = shmipc::pipe(&name, true)?;
    /// let none = a.recv_timeout::<u8>(std::time::Duration::ZERO);
    /// assert!(matches!(none, Err(shmipc::RecvError::Empty { .. })));
    /// # Ok(()) }
    /// ```
    pub fn recv_timeout<T: serde::de::DeserializeOwned>(
        &self,
        timeout: Duration,
    ) -> std::result::Result<T, RecvError> {
        super::codec::decode(self.receiver()?.name(), &self.recv_bytes_timeout(timeout)?)
    }
}

impl crate::multi_wait::Waitable for Connection {
    /// A message or the end of file is waiting; never, for an end that
    /// only sends.
    fn is_ready(&self) -> bool {
        self.receiving.is_some() && self.poll(Some(Duration::ZERO)).unwrap_or(true)
    }

    fn register(&self) -> crate::multi_wait::Registered<'_> {
        let channel = self
            .receiving
            .as_ref()
            .unwrap_or_else(|| self.any_channel());
        crate::multi_wait::Registered::on_eventcount(channel.not_empty())
    }

    fn watches_liveness(&self) -> bool {
        true
    }
}
