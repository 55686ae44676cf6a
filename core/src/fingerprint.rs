//! Type fingerprints: what a segment records about the payload type so that an
//! opener with a different `T` is refused instead of misreading memory.

use crate::hash::fnv1a64;

/// Size, alignment and a hash of the type's name.
///
/// Two processes agree on a fingerprint only if they agree on all three. The
/// name comes from [`core::any::type_name`], so `u32` and `i32` differ, and two
/// structs with the same fields in different crates differ too (deliberately: the
/// layout may be the same, the meaning need not be). The names are those the
/// compiler gives; binaries built by different compiler releases may disagree
/// about generic or closure types, never about primitives or plain paths.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fingerprint {
    /// `size_of::<T>()`.
    pub size: u32,
    /// `align_of::<T>()`.
    pub align: u32,
    /// FNV-1a 64 of `type_name::<T>()`.
    pub name_hash: u64,
}

impl Fingerprint {
    /// The fingerprint of `T`.
    ///
    /// ```
    /// use shmipc_core::fingerprint::Fingerprint;
    /// let a = Fingerprint::of::<u64>();
    /// assert_eq!((a.size, a.align), (8, core::mem::align_of::<u64>() as u32));
    /// assert_ne!(a, Fingerprint::of::<i64>());
    /// ```
    pub fn of<T: 'static>() -> Fingerprint {
        Fingerprint {
            // Sizes and alignments above 4 GiB are refused by the layout
            // functions long before they would matter here; saturate rather than wrap.
            size: u32::try_from(core::mem::size_of::<T>()).unwrap_or(u32::MAX),
            align: u32::try_from(core::mem::align_of::<T>()).unwrap_or(u32::MAX),
            name_hash: fnv1a64(core::any::type_name::<T>().as_bytes()),
        }
    }

    /// The fingerprint recorded for segments with no typed payload (a Lock).
    pub const NONE: Fingerprint = Fingerprint {
        size: 0,
        align: 1,
        name_hash: 0,
    };
}

impl core::fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "size {} align {} name-hash {:016x}",
            self.size, self.align, self.name_hash
        )
    }
}
