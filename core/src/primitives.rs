//! The one place `core` gets its atomics and spin hints from.
//!
//! Under `--cfg loom` these are loom's instrumented types, so the model checker
//! sees every load, store and read-modify-write the algorithms make. Nothing else
//! in `core` may name `core::sync::atomic` directly.

#[cfg(loom)]
pub use loom::sync::atomic::{fence, AtomicU32, AtomicU64, Ordering};

#[cfg(not(loom))]
pub use core::sync::atomic::{fence, AtomicU32, AtomicU64, Ordering};

/// A busy-wait hint. Under loom it yields instead, because a model checker can
/// only make progress past a spin loop if the spinning thread gives way.
#[inline]
pub fn spin_loop() {
    #[cfg(loom)]
    loom::thread::yield_now();
    #[cfg(not(loom))]
    core::hint::spin_loop();
}
