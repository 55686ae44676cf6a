//! The checks the fuzz targets run, kept here so that the ordinary test suite
//! replays the fuzz corpus through exactly the same code (see `tests/fuzz_corpus.rs`).

use crate::header::{Header, HEADER_SIZE, PAYLOAD_OFFSET};
use crate::layout::{CellLayout, LockPlacement};

/// Feeds arbitrary bytes to header decoding and layout computation, checking
/// that nothing panics and that whatever decodes re-encodes to the same header.
///
/// The first 8 bytes (if present) pick the file length that decoding is told
/// about, so short, exact and oversized files are all explored.
pub fn header_bytes(data: &[u8]) {
    header_decodes(data);
}

/// [`header_bytes`], telling whether the bytes decoded as a header of this
/// build's layout version. The corpus replay uses it to check that the
/// seeds taken from real segments still reach past the version check.
pub fn header_decodes(data: &[u8]) -> bool {
    let (file_len, bytes) = match data.split_first_chunk::<8>() {
        Some((len, rest)) => (u64::from_ne_bytes(*len) % (1 << 41), rest),
        None => (data.len() as u64, data),
    };
    let Ok(header) = Header::decode(bytes, file_len) else {
        return false;
    };
    assert!(header.total_size <= file_len);
    assert!(header.total_size >= HEADER_SIZE as u64);
    let again = Header::decode(&header.encode(), header.total_size);
    assert_eq!(again, Ok(header), "decode(encode(h)) must be h");
    if let Some(placement) = LockPlacement::from_flags(header.flags) {
        if let Ok(layout) = CellLayout::new(header.fingerprint, header.param, placement) {
            assert!(layout.data_offset >= PAYLOAD_OFFSET);
            assert!(layout.total_size >= layout.data_offset);
        }
    }
    true
}

mod bytes;
mod machines;
mod rings;
pub use bytes::byte_ring_ops;
pub use machines::machine_ops;
pub use rings::{mpmc_ops, spsc_ops};
