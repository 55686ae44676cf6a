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
//! | race-tolerant copies of plain data | [`racy`] |
//! | the atomics facade that loom swaps | [`primitives`] |
#![no_std]
#![warn(missing_docs)]

pub mod fingerprint;
#[doc(hidden)]
pub mod fuzzing;
pub mod hash;
pub mod header;
pub mod layout;
pub mod name;
pub mod park;
pub mod primitives;
#[cfg(not(loom))]
pub mod racy;
pub mod raw_lock;
