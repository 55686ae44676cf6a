//! The byte ring driven by arbitrary operations, checked against a model,
//! with its positions and bytes overwritten by arbitrary values in between.
//!
//! Input: a header byte choosing the ring's length (16 to 256 bytes), then
//! operations of three bytes each. Until the first overwrite every message
//! must come out whole and in order; after it, any result the ring's
//! contract allows, never an access outside the ring (the storage here
//! panics on one) nor a call that does not return.

use crate::byte_ring::{record_size, ByteRing, ByteRingError, ByteStorage, RecordKind};
use crate::primitives::{AtomicU64, Ordering};
use crate::ring::RingPositions;

const MAX_LEN: usize = 256;
/// Messages the model holds at most (a 256-byte ring holds 32 records).
const MAX_MESSAGES: usize = 32;

/// 256 bytes of atomics, checked: a range past the ring's length panics.
struct FuzzBytes {
    len: usize,
    words: [AtomicU64; MAX_LEN / 8],
}

impl FuzzBytes {
    fn check(&self, offset: usize, count: usize) {
        assert!(
            offset.checked_add(count).is_some_and(|end| end <= self.len),
            "bytes {offset}..+{count} outside a ring of {}",
            self.len
        );
    }

    fn byte(&self, at: usize) -> (&AtomicU64, u32) {
        (&self.words[at / 8], (at % 8) as u32 * 8)
    }
}

impl ByteStorage for FuzzBytes {
    unsafe fn header(&self, offset: usize) -> &AtomicU64 {
        self.check(offset, 8);
        assert!(offset % 8 == 0, "a header at {offset}");
        &self.words[offset / 8]
    }
    unsafe fn write(&self, offset: usize, src: &[u8]) {
        self.check(offset, src.len());
        assert!(offset % 8 == 0, "a payload written from {offset}");
        for (i, b) in src.iter().enumerate() {
            let (word, shift) = self.byte(offset + i);
            let old = word.load(Ordering::Relaxed);
            word.store(
                old & !(0xff << shift) | u64::from(*b) << shift,
                Ordering::Relaxed,
            );
        }
    }
    unsafe fn read(&self, offset: usize, dst: &mut [u8]) {
        self.check(offset, dst.len());
        assert!(offset % 8 == 0, "a payload read from {offset}");
        for (i, b) in dst.iter_mut().enumerate() {
            let (word, shift) = self.byte(offset + i);
            *b = (word.load(Ordering::Relaxed) >> shift) as u8;
        }
    }
}

/// The records in flight: (length, fill byte, kind), oldest first.
struct Messages {
    items: [(usize, u8, RecordKind); MAX_MESSAGES],
    head: usize,
    len: usize,
}

impl Messages {
    fn push(&mut self, m: (usize, u8, RecordKind)) {
        assert!(self.len < MAX_MESSAGES, "more messages than records fit");
        self.items[(self.head + self.len) % MAX_MESSAGES] = m;
        self.len += 1;
    }

    fn pop(&mut self) -> Option<(usize, u8, RecordKind)> {
        (self.len > 0).then(|| {
            let m = self.items[self.head];
            self.head = (self.head + 1) % MAX_MESSAGES;
            self.len -= 1;
            m
        })
    }

    fn front(&self) -> Option<(usize, u8, RecordKind)> {
        (self.len > 0).then(|| self.items[self.head])
    }
}

/// Drives a byte ring. Header byte: the ring's length, 16 << (low 2 bits).
pub fn byte_ring_ops(data: &[u8]) {
    let len = 16usize << (data.first().copied().unwrap_or(0) & 3);
    let indices = RingPositions::new();
    let bytes = FuzzBytes {
        len,
        words: core::array::from_fn(|_| AtomicU64::new(0)),
    };
    // SAFETY: `len` bytes, a power of two from 16 (checked by `FuzzBytes`
    // on every access); atomics, race-tolerant; one pusher and one popper,
    // this function's.
    let (ring, mut tx, mut rx) = unsafe {
        let ring = ByteRing::new(&indices, &bytes, len as u64);
        (ring, ring.pusher(), ring.popper())
    };
    let mut model = Messages {
        items: [(0, 0, RecordKind::Whole); MAX_MESSAGES],
        head: 0,
        len: 0,
    };
    let mut scribbled = false;
    let mut message = [0u8; MAX_LEN];
    let mut out = [0u8; MAX_LEN];
    let ops = data.get(1..).unwrap_or_default().chunks_exact(3);
    for op in ops {
        let (what, arg, value) = (op[0], op[1], op[2]);
        match what % 8 {
            0 | 1 => {
                let size = arg as usize % (len + 8);
                message[..size].fill(value);
                let pushed = tx.push(&message[..size]);
                if !scribbled {
                    match pushed {
                        Ok(()) => model.push((size, value, RecordKind::Whole)),
                        Err(ByteRingError::TooLarge { .. }) => {
                            assert!(size > ring.max_message())
                        }
                        // Refused only with something in the ring: a
                        // message, or a pad; once a look has passed the
                        // pad, an empty ring takes the message.
                        Err(ByteRingError::WouldBlock) if model.len == 0 => {
                            assert_eq!(rx.peek_len(), Ok(None));
                            assert_eq!(
                                tx.push(&message[..size]),
                                Ok(()),
                                "refused by an empty ring"
                            );
                            model.push((size, value, RecordKind::Whole));
                        }
                        Err(ByteRingError::WouldBlock) => {}
                        Err(e) => panic!("push: {e:?}"),
                    }
                    let held: usize = (0..model.len)
                        .map(|i| record_size(model.items[(model.head + i) % MAX_MESSAGES].0))
                        .sum();
                    assert!(held as u64 <= ring.used(), "records lost");
                }
            }
            2 | 3 => {
                let room = arg as usize % (len + 8);
                let popped = rx.pop_into(&mut out[..room]);
                if !scribbled {
                    match (popped, model.front()) {
                        (Ok(n), Some((size, fill, _))) => {
                            assert_eq!(n, size, "length");
                            assert!(out[..n].iter().all(|&b| b == fill), "content");
                            model.pop();
                        }
                        (Err(ByteRingError::BufferTooSmall { needed }), Some((size, _, _))) => {
                            assert!(needed == size && room < size)
                        }
                        (Err(ByteRingError::WouldBlock), None) => {}
                        (got, want) => panic!("pop gave {got:?}, the model {want:?}"),
                    }
                }
            }
            4 => {
                let peeked = rx.peek();
                if !scribbled {
                    let seen = peeked.map(|r| r.map(|r| (r.len, r.kind)));
                    assert_eq!(seen, Ok(model.front().map(|m| (m.0, m.2))));
                }
            }
            5 | 6 => {
                // Room reserved and written; published with a kind, or
                // dropped after garbage went in (which must leave no trace).
                let size = arg as usize % (len + 8);
                let kind =
                    [RecordKind::Whole, RecordKind::First, RecordKind::Next][value as usize % 3];
                let reserved = tx.reserve(size);
                if let Ok(room) = reserved {
                    message[..size].fill(if what % 8 == 5 { value } else { !value });
                    // SAFETY: the reservation's bytes, this pusher's alone.
                    unsafe { bytes.write(room.offset, &message[..size]) };
                    if what % 8 == 5 {
                        tx.commit(room, kind);
                    }
                }
                if !scribbled {
                    match reserved {
                        Ok(_) if what % 8 == 5 => model.push((size, value, kind)),
                        Ok(_) => {}
                        Err(ByteRingError::TooLarge { .. }) => assert!(size > ring.max_message()),
                        Err(ByteRingError::WouldBlock) => {}
                        Err(e) => panic!("reserve: {e:?}"),
                    }
                }
            }
            _ => {
                scribbled = true;
                let v = u64::from(value) << (arg % 8 * 8) | u64::from(arg);
                match arg % 4 {
                    0 => indices_word(&indices, arg & 4 != 0).store(v, Ordering::Relaxed),
                    _ => bytes.words[arg as usize % (len / 8)].store(v, Ordering::Relaxed),
                }
            }
        }
    }
}

/// The tail (`false`) or head (`true`) of `indices`, as a peer sees them.
fn indices_word(indices: &RingPositions, head: bool) -> &AtomicU64 {
    let words = indices as *const RingPositions as *const AtomicU64;
    // SAFETY: `RingPositions` is `repr(C)`: its tail is its first `u64`,
    // its head starts its second 128-byte block; both atomics.
    unsafe { &*words.add(if head { 16 } else { 0 }) }
}
