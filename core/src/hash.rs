//! FNV-1a, the small stable hash behind type fingerprints and header checksums.
//!
//! Stable across processes, builds and architectures by construction (no random
//! seed, no `Hasher` of std whose output may change between releases).

const FNV64_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV64_PRIME: u64 = 0x0000_0100_0000_01b3;
const FNV32_OFFSET: u32 = 0x811c_9dc5;
const FNV32_PRIME: u32 = 0x0100_0193;

/// 64-bit FNV-1a of `bytes`.
///
/// ```
/// assert_eq!(shmipc_core::hash::fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
/// assert_ne!(shmipc_core::hash::fnv1a64(b"u32"), shmipc_core::hash::fnv1a64(b"i32"));
/// ```
pub const fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut hash = FNV64_OFFSET;
    let mut i = 0;
    while i < bytes.len() {
        hash ^= bytes[i] as u64;
        hash = hash.wrapping_mul(FNV64_PRIME);
        i += 1;
    }
    hash
}

/// 32-bit FNV-1a, continued from `state` (start with [`FNV32_START`]).
///
/// ```
/// use shmipc_core::hash::{fnv1a32, FNV32_START};
/// let whole = fnv1a32(FNV32_START, b"abcd");
/// assert_eq!(whole, fnv1a32(fnv1a32(FNV32_START, b"ab"), b"cd"));
/// ```
pub const fn fnv1a32(state: u32, bytes: &[u8]) -> u32 {
    let mut hash = state;
    let mut i = 0;
    while i < bytes.len() {
        hash ^= bytes[i] as u32;
        hash = hash.wrapping_mul(FNV32_PRIME);
        i += 1;
    }
    hash
}

/// The starting state of [`fnv1a32`].
pub const FNV32_START: u32 = FNV32_OFFSET;
