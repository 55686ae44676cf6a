//! The segment header: the first 64 bytes of every shmipc segment.
//!
//! The header is encoded and decoded as bytes, never cast from shared memory, so
//! validation is a pure function of a snapshot: a peer that scribbles on the
//! header while we read it can make the snapshot wrong (and then refused), never
//! make us act on a value we did not check. Every field is fixed-width and at a
//! fixed offset, so 32- and 64-bit processes agree.
//!
//! | offset | field | notes |
//! |---|---|---|
//! | 0 | magic `b"SHMIPC"` | 6 bytes |
//! | 6 | layout version, u16 | [`LAYOUT_VERSION`] |
//! | 8 | state, u32 | [`STATE_INITIALIZING`] -> [`STATE_READY`], the only mutable field |
//! | 12 | object kind, u16 | [`Kind`] |
//! | 14 | flags, u16 | kind-specific (e.g. where a cell's lock lives) |
//! | 16 | total size, u64 | bytes the object spans, header included |
//! | 24 | payload size, u32 | type fingerprint |
//! | 28 | payload align, u32 | type fingerprint |
//! | 32 | payload type-name hash, u64 | type fingerprint |
//! | 40 | parameter, u64 | kind-specific (array length, capacity) |
//! | 48 | creator pid, u32 | |
//! | 52 | checksum, u32 | FNV-1a 32 of every byte but the state and itself |
//! | 56 | creator start time, u64 | clock ticks since boot, tells a reused pid apart |

use crate::fingerprint::Fingerprint;
use crate::hash::{fnv1a32, FNV32_START};

/// Bytes the header occupies; payloads start at or after this offset.
pub const HEADER_SIZE: usize = 64;
/// The magic bytes every shmipc segment starts with.
pub const MAGIC: [u8; 6] = *b"SHMIPC";
/// The layout version this build writes and accepts.
///
/// 2: SPSC queues put as many small items under one stamp as fill a cache
/// line (version 1 stamped every item), so the two cannot share a segment.
/// 3: a queue's control block counts `task_done` calls (not unfinished
/// tasks) on its second line, and its role claims start with their keys.
/// 4: a queue's role records are one packed word each, on the control
/// block's second line, with the counted room of an MPMC queue whose
/// capacity is not a power of two; a condition keeps a slot per waiter.
/// 5: an MPMC slot's stamp holds its lap, its state and its claimer (and
/// the counted room is gone: the ring keeps the capacity itself).
/// 6: a byte ring's record is published by its header (bit 31 set in
/// every header, the word after a record cleared before it), not by the
/// producer's position.
pub const LAYOUT_VERSION: u16 = 6;
/// Where the payload type's name is kept, for error messages: the line after
/// the header. Written by the creator, read only to say what a segment holds
/// when its fingerprint is not the one asked for; never trusted beyond that.
pub const TYPE_NAME_OFFSET: usize = HEADER_SIZE;
/// Bytes of the type-name line: a length byte, then up to 63 bytes of UTF-8.
pub const TYPE_NAME_SIZE: usize = 64;
/// Where every object's payload starts: after the header and the type name.
pub const PAYLOAD_OFFSET: usize = TYPE_NAME_OFFSET + TYPE_NAME_SIZE;

/// The type-name line for `name`: its length, then its bytes, cut at a
/// character boundary to fit (ending in `…` when cut).
///
/// ```
/// use shmipc_core::header::{decode_type_name, encode_type_name};
/// assert_eq!(decode_type_name(&encode_type_name("u64")), "u64");
/// let long = "a::very::long::path::to::some::Type<with::generic::Parameters, And::More>";
/// let cut = encode_type_name(long);
/// assert!(decode_type_name(&cut).ends_with('…'));
/// assert!(long.starts_with(decode_type_name(&cut).trim_end_matches('…')));
/// ```
pub fn encode_type_name(name: &str) -> [u8; TYPE_NAME_SIZE] {
    const ELLIPSIS: &str = "…";
    let mut line = [0u8; TYPE_NAME_SIZE];
    let room = TYPE_NAME_SIZE - 1;
    let (kept, cut) = if name.len() <= room {
        (name, false)
    } else {
        let mut end = room - ELLIPSIS.len();
        while !name.is_char_boundary(end) {
            end -= 1;
        }
        (&name[..end], true)
    };
    line[1..1 + kept.len()].copy_from_slice(kept.as_bytes());
    let mut len = kept.len();
    if cut {
        line[1 + len..1 + len + ELLIPSIS.len()].copy_from_slice(ELLIPSIS.as_bytes());
        len += ELLIPSIS.len();
    }
    line[0] = len as u8;
    line
}

/// The type name a line holds, as far as it is valid: the length is clamped
/// to the line and the text to its longest UTF-8 prefix, so any bytes give
/// some string.
pub fn decode_type_name(line: &[u8; TYPE_NAME_SIZE]) -> &str {
    let len = (line[0] as usize).min(TYPE_NAME_SIZE - 1);
    let bytes = &line[1..1 + len];
    match core::str::from_utf8(bytes) {
        Ok(text) => text,
        // `valid_up_to` ends the longest valid prefix.
        Err(e) => core::str::from_utf8(&bytes[..e.valid_up_to()]).unwrap_or_default(),
    }
}

/// Byte offset of the state word, which is read and written atomically.
pub const STATE_OFFSET: usize = 8;
/// State of a segment whose creator has not finished initialising it.
pub const STATE_INITIALIZING: u32 = 0;
/// State of a segment that openers may use. Written last, with Release ordering.
pub const STATE_READY: u32 = 0x5245_4459; // "READY" folded into four bytes

const CHECKSUM_OFFSET: usize = 52;

/// What kind of object a segment holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Kind {
    /// A `Lock`.
    Lock,
    /// A `Value<T>`: one `T` behind a lock.
    Value,
    /// A `RawValue<T>`: one `T`, no lock.
    RawValue,
    /// An `Array<T>`: `len` values behind a lock.
    Array,
    /// A `RawArray<T>`: `len` values, no lock.
    RawArray,
    /// An `RLock`.
    RLock,
    /// A `Semaphore`.
    Semaphore,
    /// A `BoundedSemaphore`.
    BoundedSemaphore,
    /// An `Event`.
    Event,
    /// A `Condition`.
    Condition,
    /// A `Barrier`.
    Barrier,
    /// A `Queue<T>` or `JoinableQueue<T>`.
    Queue,
    /// A `SharedMemory` block of raw bytes.
    SharedMemory,
    /// A `MessageQueue`, `JoinableMessageQueue` or `SimpleQueue`: one ring
    /// of byte messages.
    MessageQueue,
    /// A `Pipe`: one ring of byte messages each way (or one, if simplex).
    Pipe,
}

impl Kind {
    /// The number stored in the header.
    pub const fn code(self) -> u16 {
        match self {
            Kind::Lock => 1,
            Kind::Value => 2,
            Kind::RawValue => 3,
            Kind::Array => 4,
            Kind::RawArray => 5,
            Kind::RLock => 6,
            Kind::Semaphore => 7,
            Kind::BoundedSemaphore => 8,
            Kind::Event => 9,
            Kind::Condition => 10,
            Kind::Barrier => 11,
            Kind::Queue => 12,
            Kind::SharedMemory => 13,
            Kind::MessageQueue => 14,
            Kind::Pipe => 15,
        }
    }

    /// The kind a stored number stands for, if this build knows it.
    pub const fn from_code(code: u16) -> Option<Kind> {
        Some(match code {
            1 => Kind::Lock,
            2 => Kind::Value,
            3 => Kind::RawValue,
            4 => Kind::Array,
            5 => Kind::RawArray,
            6 => Kind::RLock,
            7 => Kind::Semaphore,
            8 => Kind::BoundedSemaphore,
            9 => Kind::Event,
            10 => Kind::Condition,
            11 => Kind::Barrier,
            12 => Kind::Queue,
            13 => Kind::SharedMemory,
            14 => Kind::MessageQueue,
            15 => Kind::Pipe,
            _ => return None,
        })
    }

    /// The user-facing type name, for messages.
    pub const fn name(self) -> &'static str {
        match self {
            Kind::Lock => "Lock",
            Kind::Value => "Value",
            Kind::RawValue => "RawValue",
            Kind::Array => "Array",
            Kind::RawArray => "RawArray",
            Kind::RLock => "RLock",
            Kind::Semaphore => "Semaphore",
            Kind::BoundedSemaphore => "BoundedSemaphore",
            Kind::Event => "Event",
            Kind::Condition => "Condition",
            Kind::Barrier => "Barrier",
            Kind::Queue => "Queue",
            Kind::SharedMemory => "SharedMemory",
            Kind::MessageQueue => "MessageQueue",
            Kind::Pipe => "Pipe",
        }
    }
}

impl core::fmt::Display for Kind {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name())
    }
}

/// The decoded, immutable part of a header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// Layout version.
    pub version: u16,
    /// Object kind, as stored (may be unknown to this build; see [`Kind::from_code`]).
    pub kind: u16,
    /// Kind-specific flags.
    pub flags: u16,
    /// Bytes the object spans, header included.
    pub total_size: u64,
    /// Fingerprint of the payload type.
    pub fingerprint: Fingerprint,
    /// Kind-specific parameter (array length, capacity).
    pub param: u64,
    /// Process id of the creator.
    pub creator_pid: u32,
    /// Start time of the creator, in clock ticks since boot.
    pub creator_start: u64,
}

/// Why a header snapshot was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeaderError {
    /// Fewer bytes than the header or than the size the header declares.
    Truncated {
        /// Bytes needed.
        expected: u64,
        /// Bytes there.
        found: u64,
    },
    /// The first six bytes are not [`MAGIC`].
    BadMagic {
        /// What was there instead.
        found: [u8; 6],
    },
    /// A different layout version.
    Version {
        /// [`LAYOUT_VERSION`].
        expected: u16,
        /// The stored version.
        found: u16,
    },
    /// The checksum does not match the fields.
    Checksum {
        /// Computed from the fields.
        expected: u32,
        /// Stored.
        found: u32,
    },
    /// A field holds a value no creator writes.
    BadField {
        /// Which field.
        field: &'static str,
        /// Its value.
        found: u64,
    },
}

impl core::fmt::Display for HeaderError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match *self {
            HeaderError::Truncated { expected, found } => {
                write!(f, "expected at least {expected} bytes, found {found}")
            }
            HeaderError::BadMagic { found } => {
                write!(f, "expected magic {MAGIC:02x?}, found {found:02x?}")
            }
            HeaderError::Version { expected, found } => {
                write!(f, "expected layout version {expected}, found {found}")
            }
            HeaderError::Checksum { expected, found } => {
                write!(
                    f,
                    "header checksum mismatch: fields hash to {expected:08x}, stored {found:08x}"
                )
            }
            HeaderError::BadField { field, found } => {
                write!(
                    f,
                    "header field `{field}` holds an impossible value {found}"
                )
            }
        }
    }
}

impl Header {
    /// Encodes the header, with [`STATE_INITIALIZING`] as its state and a fresh
    /// checksum. The creator publishes it by later storing [`STATE_READY`].
    ///
    /// ```
    /// use shmipc_core::header::*;
    /// use shmipc_core::fingerprint::Fingerprint;
    /// let h = Header {
    ///     version: LAYOUT_VERSION, kind: Kind::Lock.code(), flags: 0, total_size: 128,
    ///     fingerprint: Fingerprint::NONE, param: 0, creator_pid: 42, creator_start: 7,
    /// };
    /// let bytes = h.encode();
    /// assert_eq!(Header::decode(&bytes, 128), Ok(h));
    /// ```
    pub fn encode(&self) -> [u8; HEADER_SIZE] {
        let mut b = [0u8; HEADER_SIZE];
        b[0..6].copy_from_slice(&MAGIC);
        b[6..8].copy_from_slice(&self.version.to_ne_bytes());
        b[8..12].copy_from_slice(&STATE_INITIALIZING.to_ne_bytes());
        b[12..14].copy_from_slice(&self.kind.to_ne_bytes());
        b[14..16].copy_from_slice(&self.flags.to_ne_bytes());
        b[16..24].copy_from_slice(&self.total_size.to_ne_bytes());
        b[24..28].copy_from_slice(&self.fingerprint.size.to_ne_bytes());
        b[28..32].copy_from_slice(&self.fingerprint.align.to_ne_bytes());
        b[32..40].copy_from_slice(&self.fingerprint.name_hash.to_ne_bytes());
        b[40..48].copy_from_slice(&self.param.to_ne_bytes());
        b[48..52].copy_from_slice(&self.creator_pid.to_ne_bytes());
        b[56..64].copy_from_slice(&self.creator_start.to_ne_bytes());
        let sum = checksum(&b);
        b[CHECKSUM_OFFSET..CHECKSUM_OFFSET + 4].copy_from_slice(&sum.to_ne_bytes());
        b
    }

    /// Decodes and checks a header snapshot taken from a file of `file_len` bytes.
    ///
    /// Checks, in order: length, magic, version, checksum, then that the fields
    /// are ones a creator could have written (a power-of-two alignment, a total
    /// size that covers the header and fits the file). The kind and fingerprint
    /// are checked by the caller, who knows what it expects.
    pub fn decode(bytes: &[u8], file_len: u64) -> Result<Header, HeaderError> {
        let Some(b) = bytes.get(..HEADER_SIZE) else {
            return Err(HeaderError::Truncated {
                expected: HEADER_SIZE as u64,
                found: bytes.len() as u64,
            });
        };
        let mut magic = [0u8; 6];
        magic.copy_from_slice(&b[0..6]);
        if magic != MAGIC {
            return Err(HeaderError::BadMagic { found: magic });
        }
        let version = u16::from_ne_bytes([b[6], b[7]]);
        if version != LAYOUT_VERSION {
            return Err(HeaderError::Version {
                expected: LAYOUT_VERSION,
                found: version,
            });
        }
        let stored = read_u32(b, CHECKSUM_OFFSET);
        let computed = checksum(b);
        if stored != computed {
            return Err(HeaderError::Checksum {
                expected: computed,
                found: stored,
            });
        }
        let header = Header {
            version,
            kind: u16::from_ne_bytes([b[12], b[13]]),
            flags: u16::from_ne_bytes([b[14], b[15]]),
            total_size: read_u64(b, 16),
            fingerprint: Fingerprint {
                size: read_u32(b, 24),
                align: read_u32(b, 28),
                name_hash: read_u64(b, 32),
            },
            param: read_u64(b, 40),
            creator_pid: read_u32(b, 48),
            creator_start: read_u64(b, 56),
        };
        let align = header.fingerprint.align;
        if !align.is_power_of_two() {
            return Err(HeaderError::BadField {
                field: "payload align",
                found: align as u64,
            });
        }
        if header.total_size < HEADER_SIZE as u64 {
            return Err(HeaderError::BadField {
                field: "total size",
                found: header.total_size,
            });
        }
        if header.total_size > file_len {
            return Err(HeaderError::Truncated {
                expected: header.total_size,
                found: file_len,
            });
        }
        Ok(header)
    }

    /// The kind, if this build knows it.
    pub fn known_kind(&self) -> Option<Kind> {
        Kind::from_code(self.kind)
    }
}

/// FNV-1a 32 over every header byte except the state word and the checksum.
fn checksum(b: &[u8]) -> u32 {
    let s = fnv1a32(FNV32_START, &b[0..STATE_OFFSET]);
    let s = fnv1a32(s, &b[STATE_OFFSET + 4..CHECKSUM_OFFSET]);
    fnv1a32(s, &b[CHECKSUM_OFFSET + 4..HEADER_SIZE])
}

fn read_u32(b: &[u8], at: usize) -> u32 {
    let mut v = [0u8; 4];
    v.copy_from_slice(&b[at..at + 4]);
    u32::from_ne_bytes(v)
}

fn read_u64(b: &[u8], at: usize) -> u64 {
    let mut v = [0u8; 8];
    v.copy_from_slice(&b[at..at + 8]);
    u64::from_ne_bytes(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Header {
        Header {
            version: LAYOUT_VERSION,
            kind: Kind::Array.code(),
            flags: 1,
            total_size: 4096,
            fingerprint: Fingerprint {
                size: 8,
                align: 8,
                name_hash: 99,
            },
            param: 100,
            creator_pid: 1234,
            creator_start: 5678,
        }
    }

    #[test]
    fn every_single_byte_flip_outside_the_state_is_refused() {
        let good = sample().encode();
        for i in 0..HEADER_SIZE {
            if (STATE_OFFSET..STATE_OFFSET + 4).contains(&i) {
                continue;
            }
            for bit in 0..8 {
                let mut b = good;
                b[i] ^= 1 << bit;
                assert!(Header::decode(&b, 4096).is_err(), "byte {i} bit {bit}");
            }
        }
    }

    #[test]
    fn state_word_is_outside_the_checksum() {
        let mut b = sample().encode();
        b[STATE_OFFSET..STATE_OFFSET + 4].copy_from_slice(&STATE_READY.to_ne_bytes());
        assert_eq!(Header::decode(&b, 4096), Ok(sample()));
    }

    #[test]
    fn short_and_oversized_are_truncated() {
        let b = sample().encode();
        assert!(matches!(
            Header::decode(&b[..10], 4096),
            Err(HeaderError::Truncated {
                expected: 64,
                found: 10
            })
        ));
        assert!(matches!(
            Header::decode(&b, 100),
            Err(HeaderError::Truncated {
                expected: 4096,
                found: 100
            })
        ));
    }
}
