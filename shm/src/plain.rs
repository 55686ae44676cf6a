//! Which types may live in shared memory, and which of them have atomic operations.

use std::sync::atomic::{
    AtomicI16, AtomicI32, AtomicI64, AtomicI8, AtomicU16, AtomicU32, AtomicU64, AtomicU8, Ordering,
};

/// Plain data that may live in shared memory: [`bytemuck::Pod`] (every bit
/// pattern is a valid value, no padding, no pointers, no drop), so whatever
/// another process writes is still a valid `T`.
///
/// Implemented for every such type; derive `bytemuck::Pod` on your own
/// `#[repr(C)]` structs to use them:
///
/// ```
/// # extern crate shmipc_shm as shmipc;
/// #[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
/// #[repr(C)]
/// struct Tick { price: f64, qty: u32, venue: u32 }
/// fn assert_plain<T: shmipc::Plain>() {}
/// assert_plain::<Tick>();
/// ```
pub trait Plain: bytemuck::Pod + Send + Sync {}

impl<T: bytemuck::Pod + Send + Sync> Plain for T {}

mod sealed {
    pub trait Sealed {}
}

/// Integer types with lock-free atomic operations on [`RawValue`](crate::RawValue)
/// and [`RawArray`](crate::RawArray) cells. All operations are `SeqCst`.
///
/// Sealed: implemented for `u8`..`u64` and `i8`..`i64` (not `usize`/`isize`, whose
/// width differs between 32- and 64-bit processes).
pub trait AtomicInt: Plain + sealed::Sealed {
    #[doc(hidden)]
    /// # Safety
    /// `p` is valid, aligned, and only accessed atomically.
    unsafe fn atomic_load(p: *mut Self) -> Self;
    #[doc(hidden)]
    /// # Safety
    /// As for `atomic_load`.
    unsafe fn atomic_store(p: *mut Self, v: Self);
    #[doc(hidden)]
    /// # Safety
    /// As for `atomic_load`.
    unsafe fn atomic_rmw(p: *mut Self, op: Rmw, v: Self) -> Self;
    #[doc(hidden)]
    /// # Safety
    /// As for `atomic_load`.
    unsafe fn atomic_cas(p: *mut Self, current: Self, new: Self) -> Result<Self, Self>;
}

/// A read-modify-write operation.
#[doc(hidden)]
#[derive(Debug, Clone, Copy)]
pub enum Rmw {
    Add,
    Sub,
    And,
    Or,
    Xor,
    Max,
    Min,
    Swap,
}

macro_rules! atomic_int {
    ($($t:ty => $a:ty),* $(,)?) => {$(
        impl sealed::Sealed for $t {}
        impl AtomicInt for $t {
            #[inline]
            unsafe fn atomic_load(p: *mut $t) -> $t {
                // SAFETY: the caller guarantees `p` is valid, aligned and
                // accessed only atomically; the atomic type has `$t`'s layout.
                unsafe { <$a>::from_ptr(p) }.load(Ordering::SeqCst)
            }
            #[inline]
            unsafe fn atomic_store(p: *mut $t, v: $t) {
                // SAFETY: as in `atomic_load`.
                unsafe { <$a>::from_ptr(p) }.store(v, Ordering::SeqCst)
            }
            #[inline]
            unsafe fn atomic_rmw(p: *mut $t, op: Rmw, v: $t) -> $t {
                // SAFETY: as in `atomic_load`.
                let a = unsafe { <$a>::from_ptr(p) };
                match op {
                    Rmw::Add => a.fetch_add(v, Ordering::SeqCst),
                    Rmw::Sub => a.fetch_sub(v, Ordering::SeqCst),
                    Rmw::And => a.fetch_and(v, Ordering::SeqCst),
                    Rmw::Or => a.fetch_or(v, Ordering::SeqCst),
                    Rmw::Xor => a.fetch_xor(v, Ordering::SeqCst),
                    Rmw::Max => a.fetch_max(v, Ordering::SeqCst),
                    Rmw::Min => a.fetch_min(v, Ordering::SeqCst),
                    Rmw::Swap => a.swap(v, Ordering::SeqCst),
                }
            }
            #[inline]
            unsafe fn atomic_cas(p: *mut $t, current: $t, new: $t) -> Result<$t, $t> {
                // SAFETY: as in `atomic_load`.
                unsafe { <$a>::from_ptr(p) }.compare_exchange(current, new, Ordering::SeqCst, Ordering::SeqCst)
            }
        }
    )*};
}

atomic_int!(
    u8 => AtomicU8, u16 => AtomicU16, u32 => AtomicU32, u64 => AtomicU64,
    i8 => AtomicI8, i16 => AtomicI16, i32 => AtomicI32, i64 => AtomicI64,
);
