//! A byte ring's buffer inside a segment: the [`ByteStorage`] the message
//! channels give `shmipc-core`'s byte ring.

use std::ptr::NonNull;
use std::sync::atomic::{AtomicU64, Ordering};

use shmipc_core::byte_ring::ByteStorage;

/// `len` bytes of a mapping, every one of them accessed as part of an
/// aligned 8-byte word: the record headers are `AtomicU64`s, and the
/// payload copies move whole words too, with relaxed atomic loads and
/// stores, so that no byte is ever accessed at two widths and a peer
/// writing at the same time garbles bytes but does not race.
#[derive(Clone, Copy)]
pub(super) struct SegmentBytes {
    base: NonNull<u8>,
    len: usize,
}

impl SegmentBytes {
    /// The buffer at `base`, `len` bytes long.
    ///
    /// # Safety
    /// `base` is 8-byte aligned and valid for `len` bytes (a multiple of 8)
    /// for as long as this value is used, and those bytes are accessed, by
    /// every process, only as aligned 8-byte atomics.
    pub(super) unsafe fn new(base: NonNull<u8>, len: usize) -> SegmentBytes {
        debug_assert!(base.as_ptr() as usize % 8 == 0 && len % 8 == 0);
        SegmentBytes { base, len }
    }

    fn word(&self, offset: usize) -> &AtomicU64 {
        debug_assert!(offset % 8 == 0 && offset < self.len);
        // SAFETY: callers pass a multiple of 8 below `len` (the byte ring's
        // contract, forwarded); `new`'s contract makes it an aligned word
        // of the live mapping, only ever accessed atomically.
        unsafe { &*self.base.as_ptr().add(offset).cast::<AtomicU64>() }
    }
}

impl SegmentBytes {
    /// Copies `src` into bytes `offset..` from any offset: the words it
    /// covers only in part are read, changed and written back, so the
    /// bytes of those words outside the range must be the caller's too.
    ///
    /// # Safety
    /// The range, widened to whole words, lies inside the buffer, and the
    /// ring protocol gives the caller those bytes alone.
    pub(super) unsafe fn write_unaligned(&self, offset: usize, src: &[u8]) {
        let mut at = offset;
        let mut rest = src;
        while !rest.is_empty() {
            let word_start = at & !7;
            let within = at - word_start;
            let n = (8 - within).min(rest.len());
            let word = self.word(word_start);
            if within == 0 && n == 8 {
                let mut bytes = [0u8; 8];
                bytes.copy_from_slice(&rest[..8]);
                word.store(u64::from_ne_bytes(bytes), Ordering::Relaxed);
            } else {
                let mut bytes = word.load(Ordering::Relaxed).to_ne_bytes();
                bytes[within..within + n].copy_from_slice(&rest[..n]);
                word.store(u64::from_ne_bytes(bytes), Ordering::Relaxed);
            }
            at += n;
            rest = &rest[n..];
        }
    }

    /// Copies bytes `offset..offset + dst.len()` into `dst`, from any offset.
    ///
    /// # Safety
    /// The range, widened to whole words, lies inside the buffer.
    pub(super) unsafe fn read_unaligned(&self, offset: usize, dst: &mut [u8]) {
        let mut at = offset;
        let mut done = 0;
        while done < dst.len() {
            let word_start = at & !7;
            let within = at - word_start;
            let n = (8 - within).min(dst.len() - done);
            let bytes = self.word(word_start).load(Ordering::Relaxed).to_ne_bytes();
            dst[done..done + n].copy_from_slice(&bytes[within..within + n]);
            at += n;
            done += n;
        }
    }
}

impl ByteStorage for SegmentBytes {
    unsafe fn header(&self, offset: usize) -> &AtomicU64 {
        self.word(offset)
    }

    /// Writes whole words: the last one is filled with zeros past
    /// `src.len()`. Those bytes are the record's padding (records are
    /// padded to a multiple of 8), which the producer owns with the rest.
    unsafe fn write(&self, offset: usize, src: &[u8]) {
        let mut chunks = src.chunks_exact(8);
        let mut at = offset;
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.word(at)
                .store(u64::from_ne_bytes(word), Ordering::Relaxed);
            at += 8;
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut word = [0u8; 8];
            word[..rest.len()].copy_from_slice(rest);
            self.word(at)
                .store(u64::from_ne_bytes(word), Ordering::Relaxed);
        }
    }

    /// Reads whole words, the last one into the front of `dst`'s tail.
    unsafe fn read(&self, offset: usize, dst: &mut [u8]) {
        let mut chunks = dst.chunks_exact_mut(8);
        let mut at = offset;
        for chunk in &mut chunks {
            chunk.copy_from_slice(&self.word(at).load(Ordering::Relaxed).to_ne_bytes());
            at += 8;
        }
        let rest = chunks.into_remainder();
        if !rest.is_empty() {
            let word = self.word(at).load(Ordering::Relaxed).to_ne_bytes();
            rest.copy_from_slice(&word[..rest.len()]);
        }
    }
}
