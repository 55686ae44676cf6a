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
        let (head, middle, tail) = split_at_words(offset, src.len());
        if head > 0 {
            // SAFETY: forwarded; the word's other bytes are the caller's too.
            unsafe { self.patch_word(offset, &src[..head]) };
        }
        let at = offset + head;
        // SAFETY: forwarded: whole words from a word boundary.
        unsafe { self.write(at, &src[head..head + middle]) };
        if tail > 0 {
            // SAFETY: as for the first word.
            unsafe { self.patch_word(at + middle, &src[head + middle..]) };
        }
    }

    /// Writes `bytes` into the word holding byte `at`, from `at` on,
    /// keeping its other bytes.
    ///
    /// # Safety
    /// As for [`write_unaligned`](Self::write_unaligned).
    unsafe fn patch_word(&self, at: usize, bytes: &[u8]) {
        let within = at % 8;
        let word = self.word(at - within);
        let mut value = word.load(Ordering::Relaxed).to_ne_bytes();
        value[within..within + bytes.len()].copy_from_slice(bytes);
        word.store(u64::from_ne_bytes(value), Ordering::Relaxed);
    }

    /// Copies bytes `offset..offset + dst.len()` into `dst`, from any offset.
    ///
    /// # Safety
    /// The range, widened to whole words, lies inside the buffer.
    pub(super) unsafe fn read_unaligned(&self, offset: usize, dst: &mut [u8]) {
        let (head, middle, tail) = split_at_words(offset, dst.len());
        if head > 0 {
            let word = self.word(offset & !7).load(Ordering::Relaxed).to_ne_bytes();
            let within = offset % 8;
            dst[..head].copy_from_slice(&word[within..within + head]);
        }
        let at = offset + head;
        // SAFETY: forwarded: whole words from a word boundary.
        unsafe { self.read(at, &mut dst[head..head + middle]) };
        if tail > 0 {
            let word = self.word(at + middle).load(Ordering::Relaxed).to_ne_bytes();
            dst[head + middle..].copy_from_slice(&word[..tail]);
        }
    }
}

/// A range of `len` bytes from `offset`, cut into the bytes before the
/// first word boundary, whole words, and the bytes after the last.
fn split_at_words(offset: usize, len: usize) -> (usize, usize, usize) {
    let head = ((8 - offset % 8) % 8).min(len);
    let middle = (len - head) & !7;
    (head, middle, len - head - middle)
}

/// Copies of at least this many bytes go through [`bulk_copy`]; shorter
/// ones word by word, where `rep movsb`'s start-up would cost more.
const BULK: usize = 512;

/// Copies `len` bytes from `src` to `dst` with `rep movsb`, which on x86-64
/// moves memory at `memcpy`'s speed (ERMS) as byte accesses the hardware
/// performs one by one: what relaxed atomic byte copies would do, without
/// the loop. The compiler does not see the accesses, so it cannot assume
/// the bytes unchanged by another process, nor tear or merge them.
///
/// # Safety
/// Both ranges are valid for `len` bytes and do not overlap; the shared
/// side is one the ring protocol gives the caller (see the trait's
/// methods), so that no access of another width races with the copy
/// unless a peer breaks the protocol, which garbles bytes and nothing else.
#[cfg(target_arch = "x86_64")]
unsafe fn bulk_copy(dst: *mut u8, src: *const u8, len: usize) {
    // SAFETY: forwarded from the caller; `rep movsb` reads `len` bytes at
    // `rsi` and writes them at `rdi`, forwards (the direction flag is clear
    // on entry to Rust code, per the ABI), and touches nothing else.
    unsafe {
        std::arch::asm!(
            "rep movsb",
            inout("rcx") len => _,
            inout("rdi") dst => _,
            inout("rsi") src => _,
            options(nostack, preserves_flags)
        );
    }
}

impl ByteStorage for SegmentBytes {
    #[inline]
    unsafe fn header(&self, offset: usize) -> &AtomicU64 {
        self.word(offset)
    }

    /// Writes whole words: the last one is filled with zeros past
    /// `src.len()`. Those bytes are the record's padding (records are
    /// padded to a multiple of 8), which the producer owns with the rest.
    #[inline]
    unsafe fn write(&self, offset: usize, src: &[u8]) {
        #[cfg(target_arch = "x86_64")]
        if src.len() >= BULK {
            let whole = src.len() & !7;
            debug_assert!(offset % 8 == 0 && offset + src.len().next_multiple_of(8) <= self.len);
            // SAFETY: the range lies inside the buffer (the trait's
            // contract) and is the producer's alone; `src` is the caller's.
            unsafe { bulk_copy(self.base.as_ptr().add(offset), src.as_ptr(), whole) };
            // SAFETY: the rest, from a word boundary, as below.
            unsafe { self.write_words(offset + whole, &src[whole..]) };
            return;
        }
        // SAFETY: forwarded.
        unsafe { self.write_words(offset, src) }
    }

    /// Reads whole words, the last one into the front of `dst`'s tail.
    #[inline]
    unsafe fn read(&self, offset: usize, dst: &mut [u8]) {
        #[cfg(target_arch = "x86_64")]
        if dst.len() >= BULK {
            let whole = dst.len() & !7;
            // SAFETY: the range lies inside the buffer and the published
            // bytes (the trait's contract); `dst` is the caller's.
            unsafe { bulk_copy(dst.as_mut_ptr(), self.base.as_ptr().add(offset), whole) };
            // SAFETY: the rest, from a word boundary.
            unsafe { self.read_words(offset + whole, &mut dst[whole..]) };
            return;
        }
        // SAFETY: forwarded.
        unsafe { self.read_words(offset, dst) }
    }
}

impl SegmentBytes {
    /// [`ByteStorage::write`] word by word: the last word is filled with
    /// zeros past `src.len()`, the record's padding.
    ///
    /// # Safety
    /// As for [`ByteStorage::write`].
    #[inline]
    unsafe fn write_words(&self, offset: usize, src: &[u8]) {
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

    /// [`ByteStorage::read`] word by word.
    ///
    /// # Safety
    /// As for [`ByteStorage::read`].
    #[inline]
    unsafe fn read_words(&self, offset: usize, dst: &mut [u8]) {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_at_any_offset_and_length_round_trip_and_keep_their_neighbours() {
        let mut words = vec![0u64; 256];
        let base = NonNull::new(words.as_mut_ptr().cast::<u8>()).unwrap();
        // SAFETY: 2048 bytes of this test's, aligned, used only through `bytes`.
        let bytes = unsafe { SegmentBytes::new(base, 2048) };
        for offset in [0, 1, 7, 8, 13, 64] {
            for len in [0, 1, 5, 8, 9, 511, 512, 513, 1200] {
                let fill = (offset + len) as u8 | 1;
                let marker = [0xeeu8; 2048];
                // SAFETY: the whole buffer, from word 0.
                unsafe { bytes.write(0, &marker) };
                let src: Vec<u8> = (0..len).map(|i| fill.wrapping_add(i as u8)).collect();
                let mut back = vec![0u8; len];
                // SAFETY: inside the buffer; the test's alone.
                unsafe {
                    bytes.write_unaligned(offset, &src);
                    bytes.read_unaligned(offset, &mut back);
                }
                assert_eq!(back, src, "offset {offset}, len {len}");
                let mut all = [0u8; 2048];
                // SAFETY: as above.
                unsafe { bytes.read(0, &mut all) };
                assert!(all[..offset].iter().all(|&b| b == 0xee));
                assert!(all[offset + len..].iter().all(|&b| b == 0xee));
            }
        }
    }
}
