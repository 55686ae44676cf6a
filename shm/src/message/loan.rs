//! Zero-copy messages: [`WriteLoan`], room in the ring written in place
//! and then published, and [`ReadLoan`], a message read in place and freed
//! when dropped.
//!
//! The bytes stay in shared memory, which another process could write at
//! any time, so no `&[u8]` over them is handed out: a loan copies the
//! caller's bytes in (`write`) or out (`read`) of the ring itself, in
//! whatever pieces the caller likes. A 64 MiB message is then copied once
//! by its writer and once by its reader, into and out of the ring, and by
//! nobody in between.

use std::fmt;
use std::sync::Arc;

use shmipc_core::byte_ring::{Record, Reserved};

use super::channel::{Channel, RoleHold};
use crate::error::Error;

/// Room for one message in a queue's or pipe's ring, reserved by
/// [`MessageQueue::reserve`](super::MessageQueue::reserve) or
/// [`Connection::reserve`](super::Connection::reserve), written in place
/// with [`write`](Self::write) and sent with [`publish`](Self::publish).
///
/// It holds the sending role: other senders wait until it is published or
/// dropped. Dropped unpublished, it leaves no trace; if its process dies,
/// the next sender takes the role over and writes over it.
///
/// ```
/// # extern crate shmipc_shm as shmipc;
/// # fn main() -> Result<(), shmipc::Error> {
/// # let name = format!("doc-write-loan-{}", std::process::id());
/// let q = shmipc::MessageQueue::create(&name, 1 << 20)?;
/// let mut loan = q.reserve(100_000)?;
/// for (i, chunk) in [[1u8; 50_000], [2u8; 50_000]].iter().enumerate() {
///     loan.write(i * 50_000, chunk)?;
/// }
/// loan.publish();
/// let got = q.get_loan()?;
/// let mut tail = [0u8; 4];
/// got.read(99_996, &mut tail)?;
/// assert_eq!(tail, [2; 4]);
/// # Ok(()) }
/// ```
pub struct WriteLoan<'q> {
    channel: &'q Channel,
    _role: RoleHold<'q>,
    room: Reserved,
}

impl fmt::Debug for WriteLoan<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WriteLoan")
            .field("name", self.channel.name())
            .field("len", &self.room.len)
            .finish()
    }
}

fn out_of_bounds(name: &Arc<str>, offset: usize, count: usize, len: usize) -> Error {
    Error::IndexOutOfBounds {
        name: name.to_string(),
        index: offset.saturating_add(count),
        len,
    }
}

impl<'q> WriteLoan<'q> {
    pub(super) fn new(channel: &'q Channel, role: RoleHold<'q>, room: Reserved) -> Self {
        WriteLoan {
            channel,
            _role: role,
            room,
        }
    }

    /// The message's length, as reserved.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-write-loan-len-{}", std::process::id());
    /// let q = shmipc::MessageQueue::create(&name, 4096)?;
    /// assert_eq!(q.reserve(10)?.len(), 10);
    /// # Ok(()) }
    /// ```
    pub fn len(&self) -> usize {
        self.room.len
    }

    /// Whether the message is empty.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-write-loan-empty-{}", std::process::id());
    /// let q = shmipc::MessageQueue::create(&name, 4096)?;
    /// assert!(q.reserve(0)?.is_empty());
    /// # Ok(()) }
    /// ```
    pub fn is_empty(&self) -> bool {
        self.room.len == 0
    }

    /// Copies `bytes` into the message from byte `offset`; a range past
    /// [`len`](Self::len) is [`Error::IndexOutOfBounds`] and writes
    /// nothing. Bytes never written are zeros, or what the ring held.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-write-loan-write-{}", std::process::id());
    /// let q = shmipc::MessageQueue::create(&name, 4096)?;
    /// let mut loan = q.reserve(4)?;
    /// loan.write(1, b"bc")?;
    /// assert!(loan.write(3, b"de").is_err());
    /// # Ok(()) }
    /// ```
    pub fn write(&mut self, offset: usize, bytes: &[u8]) -> Result<(), Error> {
        if offset
            .checked_add(bytes.len())
            .is_none_or(|end| end > self.room.len)
        {
            return Err(out_of_bounds(
                self.channel.name(),
                offset,
                bytes.len(),
                self.room.len,
            ));
        }
        // SAFETY: the reserved bytes, and the padding of their last word,
        // are this loan's alone until it publishes: it holds the sending
        // role, and the tail is before them. The range is inside them
        // (checked above).
        unsafe {
            self.channel
                .bytes()
                .write_unaligned(self.room.offset + offset, bytes)
        };
        Ok(())
    }

    /// Sends the message.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-write-loan-publish-{}", std::process::id());
    /// let q = shmipc::MessageQueue::create(&name, 4096)?;
    /// let mut loan = q.reserve(2)?;
    /// loan.write(0, b"ok")?;
    /// loan.publish();
    /// assert_eq!(q.get_bytes()?, b"ok");
    /// # Ok(()) }
    /// ```
    pub fn publish(self) {
        self.channel.publish(self.room);
    }
}

/// A message read in place, from
/// [`MessageQueue::get_loan`](super::MessageQueue::get_loan) or
/// [`Connection::recv_loan`](super::Connection::recv_loan): it stays in the
/// ring, holding the receiving role, until the loan is dropped.
///
/// A message that was streamed through the ring in parts (longer than a
/// quarter of it, and not sent through a [`WriteLoan`]) cannot stay in
/// place: it is assembled in memory first, and the loan reads from there.
///
/// ```
/// # extern crate shmipc_shm as shmipc;
/// # fn main() -> Result<(), shmipc::Error> {
/// # let name = format!("doc-read-loan-{}", std::process::id());
/// let q = shmipc::MessageQueue::create(&name, 4096)?;
/// q.put_bytes(b"in place")?;
/// let loan = q.get_loan()?;
/// assert_eq!(loan.len(), 8);
/// assert_eq!(loan.to_vec(), b"in place");
/// drop(loan); // frees it
/// assert!(q.is_empty());
/// # Ok(()) }
/// ```
pub struct ReadLoan<'q> {
    name: Arc<str>,
    content: Content<'q>,
}

enum Content<'q> {
    InPlace {
        channel: &'q Channel,
        _role: RoleHold<'q>,
        record: Record,
    },
    Copied(Vec<u8>),
}

impl fmt::Debug for ReadLoan<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReadLoan")
            .field("name", &self.name)
            .field("len", &self.len())
            .field("in_place", &matches!(self.content, Content::InPlace { .. }))
            .finish()
    }
}

impl<'q> ReadLoan<'q> {
    pub(super) fn in_place(channel: &'q Channel, role: RoleHold<'q>, record: Record) -> Self {
        ReadLoan {
            name: channel.name().clone(),
            content: Content::InPlace {
                channel,
                _role: role,
                record,
            },
        }
    }

    pub(super) fn copied(name: Arc<str>, message: Vec<u8>) -> Self {
        ReadLoan {
            name,
            content: Content::Copied(message),
        }
    }

    /// The message's length.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-read-loan-len-{}", std::process::id());
    /// let q = shmipc::MessageQueue::create(&name, 4096)?;
    /// q.put_bytes(&[0; 5])?;
    /// assert_eq!(q.get_loan()?.len(), 5);
    /// # Ok(()) }
    /// ```
    pub fn len(&self) -> usize {
        match &self.content {
            Content::InPlace { record, .. } => record.len,
            Content::Copied(v) => v.len(),
        }
    }

    /// Whether the message is empty.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-read-loan-empty-{}", std::process::id());
    /// let q = shmipc::MessageQueue::create(&name, 4096)?;
    /// q.put_bytes(&[])?;
    /// assert!(q.get_loan()?.is_empty());
    /// # Ok(()) }
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Copies bytes `offset..offset + out.len()` of the message into `out`;
    /// a range past [`len`](Self::len) is [`Error::IndexOutOfBounds`] and
    /// copies nothing.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-read-loan-read-{}", std::process::id());
    /// let q = shmipc::MessageQueue::create(&name, 4096)?;
    /// q.put_bytes(b"abcdef")?;
    /// let loan = q.get_loan()?;
    /// let mut mid = [0u8; 3];
    /// loan.read(2, &mut mid)?;
    /// assert_eq!(&mid, b"cde");
    /// assert!(loan.read(4, &mut mid).is_err());
    /// # Ok(()) }
    /// ```
    pub fn read(&self, offset: usize, out: &mut [u8]) -> Result<(), Error> {
        let len = self.len();
        let range = offset
            .checked_add(out.len())
            .filter(|&end| end <= len)
            .map(|end| offset..end)
            .ok_or_else(|| out_of_bounds(&self.name, offset, out.len(), len))?;
        match &self.content {
            Content::InPlace {
                channel, record, ..
            } => {
                let bytes = channel.bytes();
                // SAFETY: the record was validated to lie inside the buffer
                // and the published bytes, which no sender writes until the
                // head passes them; the receiving role this loan holds keeps
                // the head where it is. The range is inside the record
                // (checked above).
                unsafe { bytes.read_unaligned(record.offset + range.start, out) }
            }
            Content::Copied(v) => out.copy_from_slice(&v[range]),
        }
        Ok(())
    }

    /// The whole message, copied out.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-read-loan-to-vec-{}", std::process::id());
    /// let q = shmipc::MessageQueue::create(&name, 4096)?;
    /// q.put_bytes(b"xyz")?;
    /// assert_eq!(q.get_loan()?.to_vec(), b"xyz");
    /// # Ok(()) }
    /// ```
    pub fn to_vec(&self) -> Vec<u8> {
        let mut all = vec![0; self.len()];
        // In range by construction.
        let _ = self.read(0, &mut all);
        all
    }
}

impl Drop for ReadLoan<'_> {
    fn drop(&mut self) {
        if let Content::InPlace {
            channel, record, ..
        } = &self.content
        {
            channel.free(record);
        }
    }
}
