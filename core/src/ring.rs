//! What the rings share: the slot storage they are given, and their errors.

/// Storage for `capacity` slots, which the ring protocols hand back and forth.
///
/// `shmipc-shm` implements it over a segment (race-tolerant copies); the loom
/// tests implement it with loom's `UnsafeCell`, so the model checker verifies
/// that the protocol never lets a reader and a writer touch a slot at once.
pub trait Slots<T: Copy> {
    /// Writes slot `index` (always `< capacity`).
    ///
    /// # Safety
    /// The ring protocol gives the caller exclusive access to the slot.
    unsafe fn write(&self, index: usize, value: T);

    /// Reads slot `index` (always `< capacity`).
    ///
    /// # Safety
    /// The ring protocol gives the caller exclusive access to the slot.
    unsafe fn read(&self, index: usize) -> T;
}

/// Why a ring operation failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RingError {
    /// No room (push) or nothing there (pop). The caller keeps its item.
    WouldBlock,
    /// The indices in shared memory are impossible: a peer wrote garbage. No
    /// slot outside the ring was touched.
    Corrupt {
        /// The producer's position as found.
        tail: u64,
        /// The consumer's position as found.
        head: u64,
    },
}
