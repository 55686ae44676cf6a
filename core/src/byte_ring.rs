//! A single-producer single-consumer ring of variable-length byte records:
//! the bottom of a message queue.
//!
//! The ring is `len` bytes (a power of two) addressed by byte positions
//! that only grow, as the item rings' positions do. A record is an 8-byte
//! header and its payload, padded to a multiple of 8, and never wraps: when
//! a record does not fit before the end of the buffer, the producer first
//! fills the rest with a *pad* record, which the consumer skips.
//!
//! The header says what the record is and where it belongs:
//!
//! ```text
//!  63                  35 34 33 32 31 30                           0
//! +----------------------+--+--+--+--+------------------------------+
//! | start position / 8   |N |F |P |1 |  payload length (bytes)      |
//! | (low 29 bits)        |  |  |  |  |  (a pad: the bytes it fills) |
//! +----------------------+--+--+--+--+------------------------------+
//! ```
//!
//! `P` marks a pad; `F` and `N` mark the first and a next part of a
//! message longer than one record can be, which the layers above stream
//! through the ring in parts ([`RecordKind`]); a record with neither is a
//! whole message. Bit 31 is set in every header, so that no header is 0.
//!
//! **The header publishes the record.** The producer writes the payload,
//! stores 0 in the header word after the record (where the next record
//! will start), and then stores the header with release ordering. The
//! consumer polls the header word at its own position: 0 is nothing yet;
//! anything else is validated (its start-position bits, a length that
//! ends before the buffer does) before a byte is copied, and a header that
//! fails is [`ByteRingError::Corrupt`]: garbage from a peer is refused,
//! never followed outside the ring. The consumer never reads the
//! producer's position, so a message moves one cache line from producer to
//! consumer (the record's), not two (the position's and the record's).
//!
//! The 0 stored ahead is what makes a header word trustworthy: the word a
//! consumer polls was cleared before the record ending there was published,
//! so it holds 0 or the next header, never a stale header or payload of an
//! earlier lap. It costs the producer 8 bytes of room past each record.
//!
//! The producer still stores its position (`tail`), for the next producer
//! and for the counts of used bytes, after the header. A producer that
//! dies between the two has published a record the tail does not show: the
//! next producer's endpoint walks the published headers from the tail
//! before it writes (see [`ByteRing::pusher`]). A producer that dies
//! before its header leaves nothing a consumer sees, and the next one
//! writes over it. The consumer frees records by storing its own position
//! (`head`), which the producer reads only when the room it knows of runs
//! short; a consumer that dies before storing it leaves the record to be
//! read again by the next one.
//!
//! One producer and one consumer: pushing needs a [`BytePusher`] and
//! popping a [`BytePopper`], each taken with an `unsafe` call whose
//! contract is that it is the only one of its side.

use crate::primitives::{AtomicU64, Ordering};
use crate::ring::RingPositions;

/// Storage for a byte ring: `len` bytes, with an atomic word at every
/// multiple of 8 for the records' headers.
///
/// `shmipc-shm` implements it over a segment (race-tolerant copies, the
/// header words being the buffer's own bytes); the loom models keep the
/// payload in loom's `UnsafeCell`, so that the model checker sees a payload
/// read and written at once.
pub trait ByteStorage {
    /// The header word at byte `offset`.
    ///
    /// # Safety
    /// `offset` is a multiple of 8 below the ring's length.
    unsafe fn header(&self, offset: usize) -> &AtomicU64;

    /// Copies `src` into bytes `offset..offset + src.len()`. The bytes
    /// after it up to the next multiple of 8 (the record's padding) may be
    /// written too, so that an implementation can move whole words.
    ///
    /// # Safety
    /// `offset` is a multiple of 8; the range, rounded up to a multiple of
    /// 8, lies inside the ring's length, and the ring protocol gives the
    /// caller those bytes alone.
    unsafe fn write(&self, offset: usize, src: &[u8]);

    /// Copies bytes `offset..offset + dst.len()` into `dst`.
    ///
    /// # Safety
    /// As for [`write`](Self::write).
    unsafe fn read(&self, offset: usize, dst: &mut [u8]);
}

/// Why a byte ring operation failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ByteRingError {
    /// No room for the record (push) or no record (pop).
    WouldBlock,
    /// A message longer than the ring can ever hold.
    TooLarge {
        /// The message's length.
        len: usize,
        /// The longest message the ring holds.
        max: usize,
    },
    /// The caller's buffer is shorter than the next message, which stays in
    /// the ring for the next call.
    BufferTooSmall {
        /// The message's length.
        needed: usize,
    },
    /// The positions or the header at the consumer's position are ones no
    /// run of the protocol produces: a peer wrote garbage. Nothing outside
    /// the ring was touched, and nothing was copied.
    Corrupt {
        /// The consumer's position.
        head: u64,
        /// The producer's position as found.
        tail: u64,
        /// The header found at the consumer's position (0 if the positions
        /// alone are impossible).
        header: u64,
    },
}

const LEN_MASK: u64 = (1 << 31) - 1;
/// Set in every header: a header is never 0, the word's value until a
/// record is published there.
const MARK: u64 = 1 << 31;
const PAD: u64 = 1 << 32;
const FIRST: u64 = 1 << 33;
const NEXT: u64 = 1 << 34;
const CHECK_SHIFT: u32 = 35;
const CHECK_MASK: u64 = (1 << 29) - 1;

/// What a record holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordKind {
    /// A whole message.
    Whole,
    /// The first part of a message streamed in parts.
    First,
    /// A later part of a message streamed in parts.
    Next,
}

impl RecordKind {
    fn bits(self) -> u64 {
        match self {
            RecordKind::Whole => 0,
            RecordKind::First => FIRST,
            RecordKind::Next => NEXT,
        }
    }
}

/// Room reserved at the tail for a record of `len` bytes, not yet
/// published (see [`BytePusher::reserve`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reserved {
    /// Where the payload starts in the storage: a multiple of 8.
    pub offset: usize,
    /// The payload's length.
    pub len: usize,
}

/// A record at the consumer's position, validated (see
/// [`BytePopper::peek`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Record {
    /// What it holds.
    pub kind: RecordKind,
    /// Where its payload starts in the storage: a multiple of 8.
    pub offset: usize,
    /// The payload's length.
    pub len: usize,
}
/// Bytes of a record's header.
pub const HEADER: usize = 8;

/// The start-position bits a header at `position` carries.
#[inline]
fn check_bits(position: u64) -> u64 {
    ((position / 8) & CHECK_MASK) << CHECK_SHIFT
}

/// The bytes a record of a `len`-byte payload takes: header and payload,
/// padded to a multiple of 8.
#[inline]
pub const fn record_size(len: usize) -> usize {
    HEADER + len.div_ceil(8) * 8
}

/// A byte ring over `indices` and `storage`, `len` bytes long.
pub struct ByteRing<'a, S> {
    indices: &'a RingPositions,
    storage: &'a S,
    len: u64,
}

impl<S> Clone for ByteRing<'_, S> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<S> Copy for ByteRing<'_, S> {}

impl<'a, S: ByteStorage> ByteRing<'a, S> {
    /// The ring over `indices` and `storage`, of `len` bytes.
    ///
    /// # Safety
    /// `len` is a power of two from 16 to 2^31, and `storage` holds that
    /// many bytes, all 0 when the ring was new; the positions and header
    /// words are written only by this ring's protocol (positions that
    /// start equal, then one [`BytePusher`] and one [`BytePopper`]), or
    /// else `storage` tolerates a range being read and written at once
    /// (race-tolerant copies), so that garbage garbles messages but does
    /// not race.
    pub unsafe fn new(indices: &'a RingPositions, storage: &'a S, len: u64) -> ByteRing<'a, S> {
        debug_assert!(len.is_power_of_two() && (16..=1 << 31).contains(&len));
        ByteRing {
            indices,
            storage,
            len,
        }
    }

    /// The longest message the ring holds: all of it but a header and the
    /// word cleared after the record.
    pub fn max_message(&self) -> usize {
        self.len as usize - 2 * HEADER
    }

    /// Bytes of records published and not yet taken (a snapshot).
    pub fn used(&self) -> u64 {
        self.indices.len()
    }

    /// Whether a record other than a pad is published and not yet taken
    /// (a snapshot, made without an endpoint: it moves nothing). A pad
    /// alone, which a push that found no room after it leaves, is no
    /// record; a header that is garbage is one (a receive reports it).
    pub fn holds_record(&self) -> bool {
        let head = self.indices.head.load(Ordering::Acquire);
        match self.published(head) {
            Ok(Some(Found::Pad(len))) => {
                !matches!(self.published(head.wrapping_add(len)), Ok(None))
            }
            Ok(None) => false,
            Ok(Some(Found::Record(_))) | Err(_) => true,
        }
    }

    /// Where the records published so far end: the tail, walked forward
    /// over records a producer published and died before showing in the
    /// tail (a snapshot; see [`pusher`](Self::pusher)).
    pub fn published_end(&self) -> u64 {
        self.walk_published(self.indices.tail.load(Ordering::Acquire))
    }

    /// The producer's endpoint.
    ///
    /// Its position is the tail, walked forward over any record published
    /// past it (its producer died before storing the tail), so that no
    /// record a consumer may be reading is written over.
    ///
    /// # Safety
    /// No other `BytePusher` of this ring exists or runs at the same time,
    /// in any process.
    pub unsafe fn pusher(self) -> BytePusher<'a, S> {
        let head_seen = self.indices.head.load(Ordering::Acquire);
        // SAFETY: forwarded; `head_seen` was the head just now.
        unsafe { self.pusher_seeing(head_seen) }
    }

    /// The producer's endpoint, taking `head_seen` for the head instead of
    /// reading it: a head an earlier pusher saw
    /// ([`BytePusher::head_seen`]), so that a producer does not read the
    /// consumer's line on every push. The head is read again when the room
    /// it gives runs short.
    ///
    /// # Safety
    /// As for [`pusher`](Self::pusher); `head_seen` is a value the head
    /// has had (a later one would count bytes not yet freed as free).
    #[inline]
    pub unsafe fn pusher_seeing(self, head_seen: u64) -> BytePusher<'a, S> {
        // Acquire: the 0 its last producer stored at the tail is seen.
        let shown = self.indices.tail.load(Ordering::Acquire);
        let tail = self.walk_published(shown);
        if tail != shown {
            self.indices.tail.store(tail, Ordering::Release);
        }
        BytePusher {
            ring: self,
            tail,
            head_seen,
        }
    }

    /// The consumer's endpoint.
    ///
    /// # Safety
    /// No other `BytePopper` of this ring exists or runs at the same time,
    /// in any process.
    #[inline]
    pub unsafe fn popper(self) -> BytePopper<'a, S> {
        BytePopper {
            ring: self,
            // Acquire: the 0 stored at the head before the record ending
            // there was published is seen (see the module's notes).
            head: self.indices.head.load(Ordering::Acquire),
        }
    }

    #[inline]
    fn mask(&self) -> u64 {
        self.len - 1
    }

    #[inline]
    fn header(&self, position: u64) -> &AtomicU64 {
        let offset = (position & self.mask() & !7) as usize;
        // SAFETY: a multiple of 8, masked below the length.
        unsafe { self.storage.header(offset) }
    }

    /// The record published at `position`, validated: `None` if none is
    /// yet, the header if it is garbage.
    #[inline]
    fn published(&self, position: u64) -> Result<Option<Found>, u64> {
        // Acquire: the payload and the 0 after it, written before the
        // header, are seen.
        let header = self.header(position).load(Ordering::Acquire);
        // Every position the protocol writes is a multiple of 8; another
        // would put headers and payloads off their words.
        if position % 8 != 0 {
            return Err(header);
        }
        if header == 0 {
            return Ok(None);
        }
        // With the position bits right, this leaves the mark and the flags
        // alone; with them wrong, no arm below matches.
        let flags = (header & !LEN_MASK) ^ check_bits(position);
        let until_end = self.len - (position & self.mask());
        let len = header & LEN_MASK;
        let kind = match flags {
            MARK => RecordKind::Whole,
            f if f == FIRST | MARK => RecordKind::First,
            f if f == NEXT | MARK => RecordKind::Next,
            // A pad fills the buffer to its end, no more, no less.
            f if f == PAD | MARK && len == until_end => return Ok(Some(Found::Pad(len))),
            _ => return Err(header),
        };
        if record_size(len as usize) as u64 > until_end {
            return Err(header);
        }
        Ok(Some(Found::Record(Record {
            kind,
            offset: (position & self.mask()) as usize + HEADER,
            len: len as usize,
        })))
    }

    /// `from`, walked forward over the records published there. A garbage
    /// header stops the walk (the consumer will refuse it), and so does a
    /// whole ring of records (only garbage makes one).
    #[inline]
    fn walk_published(&self, from: u64) -> u64 {
        let mut at = from;
        while at.wrapping_sub(from) < self.len {
            match self.published(at) {
                Ok(Some(Found::Pad(len))) => at = at.wrapping_add(len),
                Ok(Some(Found::Record(r))) => at = at.wrapping_add(record_size(r.len) as u64),
                Ok(None) | Err(_) => break,
            }
        }
        at
    }

    fn corrupt(&self, head: u64, tail: u64, header: u64) -> ByteRingError {
        ByteRingError::Corrupt { head, tail, header }
    }
}

/// The producer's end of a [`ByteRing`].
pub struct BytePusher<'a, S> {
    ring: ByteRing<'a, S>,
    /// The tail, which only this endpoint writes.
    tail: u64,
    /// The head as last read: the room is at least `len - (tail - head_seen)`.
    head_seen: u64,
}

impl<S: ByteStorage> BytePusher<'_, S> {
    /// Whether `need` bytes are free from the tail, reading the head again
    /// if the last reading says no.
    #[inline]
    fn room(&mut self, need: u64) -> Result<bool, ByteRingError> {
        let len = self.ring.len;
        let fits = |used: u64| used <= len && need <= len - used;
        if fits(self.tail.wrapping_sub(self.head_seen)) {
            return Ok(true);
        }
        self.head_seen = self.ring.indices.head.load(Ordering::Acquire);
        let used = self.tail.wrapping_sub(self.head_seen);
        if used > len {
            return Err(self.ring.corrupt(self.head_seen, self.tail, 0));
        }
        Ok(fits(used))
    }

    /// Pushes `message` as one record: [`ByteRingError::WouldBlock`] if
    /// there is no room for it yet, [`ByteRingError::TooLarge`] if there
    /// never will be.
    ///
    /// A message that does not fit before the end of the buffer first puts
    /// a pad there, published at once; its bytes are free again only once
    /// the consumer has passed it, so until then the push is refused, even
    /// on a ring with nothing else in it.
    pub fn push(&mut self, message: &[u8]) -> Result<(), ByteRingError> {
        let room = self.reserve(message.len())?;
        // SAFETY: `reserve` gave these bytes, before the buffer's end and
        // past every published record, to this pusher alone: the consumer
        // reads them only once the header published after this write says so.
        unsafe { self.ring.storage.write(room.offset, message) };
        self.commit(room, RecordKind::Whole);
        Ok(())
    }

    /// The tail: where the next record goes.
    pub fn position(&self) -> u64 {
        self.tail
    }

    /// The head as this pusher last read it (for
    /// [`ByteRing::pusher_seeing`]).
    pub fn head_seen(&self) -> u64 {
        self.head_seen
    }

    /// Reserves room at the tail for a record of `len` payload bytes, to be
    /// written through the storage at [`Reserved::offset`] and published
    /// with [`commit`](Self::commit); errors as for [`push`](Self::push).
    /// A reservation never committed leaves no trace but a pad (which the
    /// consumer skips): the next reservation is the same room.
    #[inline]
    pub fn reserve(&mut self, len: usize) -> Result<Reserved, ByteRingError> {
        let max = self.ring.max_message();
        if len > max {
            return Err(ByteRingError::TooLarge { len, max });
        }
        if self.tail % 8 != 0 {
            return Err(self.ring.corrupt(self.head_seen, self.tail, 0));
        }
        let size = record_size(len) as u64;
        let until_end = self.ring.len - (self.tail & self.ring.mask());
        if size > until_end {
            // Fill the rest of the buffer with a pad record, published on
            // its own, and put the record at the start.
            if !self.room(until_end + HEADER as u64)? {
                return Err(ByteRingError::WouldBlock);
            }
            self.publish(check_bits(self.tail) | MARK | PAD | until_end, until_end);
        }
        if !self.room(size + HEADER as u64)? {
            return Err(ByteRingError::WouldBlock);
        }
        Ok(Reserved {
            offset: (self.tail & self.ring.mask()) as usize + HEADER,
            len,
        })
    }

    /// Publishes the record of `room`, the last reservation, as `kind`.
    #[inline]
    pub fn commit(&mut self, room: Reserved, kind: RecordKind) {
        debug_assert_eq!(
            room.offset,
            (self.tail & self.ring.mask()) as usize + HEADER
        );
        self.publish(
            check_bits(self.tail) | MARK | kind.bits() | room.len as u64,
            record_size(room.len) as u64,
        );
    }

    /// Publishes `header` at the tail for a record of `size` bytes, whose
    /// room (and the word after it) was found free.
    #[inline]
    fn publish(&mut self, header: u64, size: u64) {
        let next = self.tail.wrapping_add(size);
        // Before the header: a consumer that takes this record polls the
        // word at `next` next, and must find 0 there, not an old lap's bytes.
        self.ring.header(next).store(0, Ordering::Relaxed);
        self.ring.header(self.tail).store(header, Ordering::Release);
        self.tail = next;
        self.ring.indices.tail.store(next, Ordering::Release);
    }
}

/// The consumer's end of a [`ByteRing`].
pub struct BytePopper<'a, S> {
    ring: ByteRing<'a, S>,
    /// The head, which only this endpoint writes.
    head: u64,
}

/// A record published at a position, validated: a pad, or one to read.
enum Found {
    Pad(u64),
    Record(Record),
}

impl<S: ByteStorage> BytePopper<'_, S> {
    /// The record at the head, validated, skipping none; `None` if none is
    /// published there yet.
    #[inline]
    fn next(&mut self) -> Result<Option<Found>, ByteRingError> {
        self.ring.published(self.head).map_err(|header| {
            let tail = self.ring.indices.tail.load(Ordering::Relaxed);
            self.ring.corrupt(self.head, tail, header)
        })
    }

    #[inline]
    fn advance(&mut self, by: u64) {
        self.head = self.head.wrapping_add(by);
        self.ring.indices.head.store(self.head, Ordering::Release);
    }

    /// The head: where the next record is.
    pub fn position(&self) -> u64 {
        self.head
    }

    /// The next record, validated, if there is one (pads are skipped).
    #[inline]
    pub fn peek(&mut self) -> Result<Option<Record>, ByteRingError> {
        loop {
            match self.next()? {
                None => return Ok(None),
                Some(Found::Pad(len)) => self.advance(len),
                Some(Found::Record(record)) => return Ok(Some(record)),
            }
        }
    }

    /// The length of the next record, if there is one (pads are skipped).
    pub fn peek_len(&mut self) -> Result<Option<usize>, ByteRingError> {
        Ok(self.peek()?.map(|r| r.len))
    }

    /// Copies payload bytes `at..at + out.len()` of `record`, the one
    /// [`peek`](Self::peek) gave last, into `out`.
    ///
    /// # Panics
    /// If `at` is not a multiple of 8 or the range is not inside the
    /// payload: the caller's mistake, not a peer's.
    #[inline]
    pub fn read(&self, record: &Record, at: usize, out: &mut [u8]) {
        assert!(
            at % 8 == 0
                && at
                    .checked_add(out.len())
                    .is_some_and(|end| end <= record.len),
            "bytes {at}..+{} outside a payload of {}",
            out.len(),
            record.len
        );
        // SAFETY: `peek` checked that the record lies before the end of
        // the buffer and within the published bytes, which the producer
        // does not write again until the head passes them; the range is
        // inside it (asserted) and starts on a word.
        unsafe { self.ring.storage.read(record.offset + at, out) };
    }

    /// Frees `record`, the one [`peek`](Self::peek) gave last.
    #[inline]
    pub fn consume(&mut self, record: &Record) {
        debug_assert_eq!(
            record.offset,
            (self.head & self.ring.mask()) as usize + HEADER
        );
        self.advance(record_size(record.len) as u64);
    }

    /// Copies the next record into the front of `out` and frees it;
    /// returns its length. [`ByteRingError::BufferTooSmall`] (the record
    /// stays) if `out` is shorter than it, [`ByteRingError::WouldBlock`] if
    /// there is none.
    pub fn pop_into(&mut self, out: &mut [u8]) -> Result<usize, ByteRingError> {
        let Some(record) = self.peek()? else {
            return Err(ByteRingError::WouldBlock);
        };
        let Some(out) = out.get_mut(..record.len) else {
            return Err(ByteRingError::BufferTooSmall { needed: record.len });
        };
        self.read(&record, 0, out);
        self.consume(&record);
        Ok(record.len)
    }
}

#[cfg(test)]
mod tests;
