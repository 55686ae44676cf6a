//! Copies to and from memory that another process may be writing at the same time.
//!
//! A plain `memcpy` racing with a writer is a data race, which Rust leaves
//! undefined. These copies use relaxed atomic loads and stores, so a race
//! gives a torn value (some old bytes, some new), never undefined behaviour.
//! Callers use them only for plain-data types (no padding, every bit pattern
//! valid: `bytemuck::Pod`), for which every torn value is still a value.
//!
//! Rust's memory model also leaves racing atomics of *different sizes* on
//! the same bytes undefined, so every location must be accessed at one width.
//! The typed copies ([`load_typed`], [`store_typed`] and their run forms)
//! use the width of `T` itself ([`unit_of`]): the element of an array is
//! copied at the width its own atomic operations use. The untyped [`load`]
//! and [`store`] pick a width from the addresses and the length, so a
//! region is only ever copied by them with the same start and length (a
//! header, a name record), never mixed with typed or atomic accesses of
//! another width.

use core::sync::atomic::{AtomicU16, AtomicU32, AtomicU64, AtomicU8, Ordering};

/// The width, in bytes, at which the typed copies move a `T`: its
/// alignment, at most 8 (so a `u32` moves as one `u32`, a `u64` as one
/// `u64`, a `#[repr(C)]` struct of `u32`s as `u32`s). A `T` whose integer
/// fields are accessed atomically elsewhere must have fields no narrower
/// than this, which holds for every integer type and array of one.
pub const fn unit_of<T>() -> usize {
    let align = align_of::<T>();
    if align >= 8 && cfg!(target_has_atomic = "64") {
        8
    } else if align >= 8 {
        4
    } else {
        align
    }
}

#[inline]
fn unit(a: usize, b: usize, len: usize) -> usize {
    let mix = a | b | len;
    if mix % 8 == 0 && cfg!(target_has_atomic = "64") {
        8
    } else if mix % 4 == 0 {
        4
    } else if mix % 2 == 0 {
        2
    } else {
        1
    }
}

macro_rules! copy_units {
    ($src:expr, $dst:expr, $len:expr, $unit:expr, $load_shared:expr) => {{
        let (src, dst, len) = ($src, $dst, $len);
        match $unit {
            #[cfg(target_has_atomic = "64")]
            8 => copy_with::<u64, AtomicU64>(src, dst, len / 8, $load_shared),
            4 => copy_with::<u32, AtomicU32>(src, dst, len / 4, $load_shared),
            2 => copy_with::<u16, AtomicU16>(src, dst, len / 2, $load_shared),
            _ => copy_with::<u8, AtomicU8>(src, dst, len, $load_shared),
        }
    }};
}

trait Unit: Copy {
    type Atomic;
    fn load(a: &Self::Atomic) -> Self;
    fn store(a: &Self::Atomic, v: Self);
}

macro_rules! unit_impl {
    ($t:ty, $a:ty) => {
        impl Unit for $t {
            type Atomic = $a;
            #[inline]
            fn load(a: &$a) -> $t {
                a.load(Ordering::Relaxed)
            }
            #[inline]
            fn store(a: &$a, v: $t) {
                a.store(v, Ordering::Relaxed)
            }
        }
    };
}
unit_impl!(u8, AtomicU8);
unit_impl!(u16, AtomicU16);
unit_impl!(u32, AtomicU32);
#[cfg(target_has_atomic = "64")]
unit_impl!(u64, AtomicU64);

/// # Safety
/// `src` and `dst` are valid for `n` units of `U`, aligned for `U`, and the
/// shared side is only ever accessed atomically or by other processes.
#[inline]
unsafe fn copy_with<U: Unit<Atomic = A>, A>(
    src: *const u8,
    dst: *mut u8,
    n: usize,
    load_shared: bool,
) {
    let src = src.cast::<U>();
    let dst = dst.cast::<U>();
    for i in 0..n {
        // SAFETY: the caller guarantees both sides are valid and aligned for `n`
        // units; the shared side is accessed through its atomic type, which has
        // the same size and alignment as `U`.
        unsafe {
            if load_shared {
                let v = U::load(&*src.add(i).cast::<A>());
                dst.add(i).write(v);
            } else {
                let v = src.add(i).read();
                U::store(&*dst.add(i).cast::<A>(), v);
            }
        }
    }
}

/// Copies `len` bytes out of shared memory at `shared` into private memory at `private`.
///
/// # Safety
/// Both ranges are valid for `len` bytes and do not overlap; `private` is not
/// accessed by anyone else during the copy; `shared` is accessed by this process
/// only through this module or other atomics.
pub unsafe fn load(shared: *const u8, private: *mut u8, len: usize) {
    let u = unit(shared as usize, private as usize, len);
    // SAFETY: forwarded from the caller; `unit` chose a width that divides both
    // addresses and the length.
    unsafe { copy_units!(shared, private, len, u, true) }
}

/// Copies `len` bytes from private memory at `private` into shared memory at `shared`.
///
/// # Safety
/// As for [`load`].
pub unsafe fn store(private: *const u8, shared: *mut u8, len: usize) {
    let u = unit(shared as usize, private as usize, len);
    // SAFETY: as in `load`.
    unsafe { copy_units!(private, shared, len, u, false) }
}

/// Reads a `T` out of shared memory at `shared` into `private`, with the copy
/// width fixed at compile time: the form for typed slots, where the generic
/// [`load`] would pick a width at run time for every item.
///
/// # Safety
/// As for [`load`] with `len = size_of::<T>()`; `shared` is aligned for `T`;
/// `T` has no padding bytes and every bit pattern of its size is a valid `T`
/// (`bytemuck::Pod`), since the copy writes whatever bytes it finds.
#[inline]
pub unsafe fn load_typed<T: Copy>(shared: *const T, private: *mut T) {
    let (len, u) = (size_of::<T>(), unit_of::<T>());
    // SAFETY: forwarded from the caller; both sides are aligned for `T`, and
    // `u` divides its alignment and so its size.
    unsafe { copy_units!(shared.cast::<u8>(), private.cast::<u8>(), len, u, true) }
}

/// Writes `private` into shared memory at `shared`; the typed form of [`store`].
///
/// # Safety
/// As for [`load_typed`]: in particular `T` has no padding bytes, since the
/// copy reads every byte of `private` (a padding byte is uninitialised).
#[inline]
pub unsafe fn store_typed<T: Copy>(private: *const T, shared: *mut T) {
    let (len, u) = (size_of::<T>(), unit_of::<T>());
    // SAFETY: as in `load_typed`.
    unsafe { copy_units!(private.cast::<u8>(), shared.cast::<u8>(), len, u, false) }
}

/// Reads `n` consecutive `T`s out of shared memory at `shared` into
/// `private`; the run form of [`load_typed`] (one loop for a run of slots).
///
/// # Safety
/// As for [`load_typed`], with `len = n * size_of::<T>()` and both sides
/// valid for `n` values.
#[inline]
pub unsafe fn load_run_typed<T: Copy>(shared: *const T, private: *mut T, n: usize) {
    let (len, u) = (n * size_of::<T>(), unit_of::<T>());
    // SAFETY: as in `load_typed`; `u` divides the size of `T`, so also `len`.
    unsafe { copy_units!(shared.cast::<u8>(), private.cast::<u8>(), len, u, true) }
}

/// Writes `n` consecutive `T`s from `private` into shared memory at
/// `shared`; the run form of [`store_typed`].
///
/// # Safety
/// As for [`load_run_typed`].
#[inline]
pub unsafe fn store_run_typed<T: Copy>(private: *const T, shared: *mut T, n: usize) {
    let (len, u) = (n * size_of::<T>(), unit_of::<T>());
    // SAFETY: as in `load_run_typed`.
    unsafe { copy_units!(private.cast::<u8>(), shared.cast::<u8>(), len, u, false) }
}

#[cfg(test)]
mod tests {
    #[test]
    fn round_trips_at_every_alignment() {
        let mut shared = [0u8; 40];
        for offset in 0..8 {
            for len in 0..24 {
                let src: [u8; 24] = core::array::from_fn(|i| (i * 7 + offset) as u8);
                let mut back = [0u8; 24];
                // SAFETY: all ranges lie inside the local arrays.
                unsafe {
                    super::store(src.as_ptr(), shared.as_mut_ptr().add(offset), len);
                    super::load(shared.as_ptr().add(offset), back.as_mut_ptr(), len);
                }
                assert_eq!(&back[..len], &src[..len]);
            }
        }
    }

    #[test]
    fn typed_copies_round_trip() {
        // No padding: the copy reads every byte of the value.
        #[derive(Clone, Copy, PartialEq, Debug)]
        #[repr(C)]
        struct Odd {
            a: u32,
            b: [u8; 4],
        }
        const _: () = assert!(size_of::<Odd>() == 8);
        let value = Odd {
            a: 7,
            b: [1, 2, 3, 4],
        };
        let mut shared = Odd { a: 0, b: [0; 4] };
        let mut back = Odd { a: 9, b: [9; 4] };
        assert_eq!(super::unit_of::<Odd>(), 4);
        // SAFETY: all three are local, aligned values of a type without
        // padding, whose every bit pattern is valid.
        unsafe {
            super::store_typed(&value, &mut shared);
            super::load_typed(&shared, &mut back);
        }
        assert_eq!(back, value);
    }
}
