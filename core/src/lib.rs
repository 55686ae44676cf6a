//! `shmipc-core`: the algorithms of [shmipc](https://docs.rs/shmipc) that need no
//! operating system.
//!
//! `#![no_std]`, no allocation, no libc. Everything here is a position-independent
//! `#[repr(C)]` layout or a pure function of bytes, so that it can be placed in
//! memory shared by processes that map it at different addresses, and checked
//! with loom (`RUSTFLAGS="--cfg loom" cargo test -p shmipc-core --test loom`).
//!
//! | concept | module |
//! |---|---|
//! | segment names | [`name`] |
//! | the segment header and its validation | [`header`] |
//! | type fingerprints | [`fingerprint`] |
//! | offsets inside a segment | [`layout`] |
//! | what blocking algorithms need from the OS | [`park`] |
//! | the owner-recording lock | [`raw_lock`] |
//! | the re-entrant lock | [`raw_rlock`] |
//! | counting semaphore with an exact bound | [`raw_semaphore`] |
//! | event flag | [`raw_event`] |
//! | condition variable with exact `notify(n)` | [`raw_condition`] |
//! | barrier (generations, action, abort, reset) | [`raw_barrier`] |
//! | spin-then-yield before parking | [`spin`] |
//! | eventcount: wait for a condition checked elsewhere | [`eventcount`] |
//! | rings: slot storage and errors | [`ring`] |
//! | single-producer single-consumer ring | [`spsc`] |
//! | single-producer single-consumer ring of variable-length byte records | [`byte_ring`] |
//! | multi-producer multi-consumer ring (stamps that name a slot's claimer) | [`mpmc`] |
//! | race-tolerant copies of plain data | [`racy`] |
//! | the atomics facade that loom swaps | [`primitives`] |
#![no_std]
#![warn(missing_docs)]

pub mod byte_ring;
pub mod eventcount;
pub mod fingerprint;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
pub mod hash;
pub mod header;
pub mod layout;
pub mod mpmc;
pub mod name;
pub mod park;
pub mod primitives;
#[cfg(not(loom))]
pub mod racy;
pub mod raw_barrier;
pub mod raw_condition;
pub mod raw_event;
pub mod raw_lock;
pub mod raw_rlock;
pub mod raw_semaphore;
pub mod ring;
pub mod spin;
pub mod spsc;
