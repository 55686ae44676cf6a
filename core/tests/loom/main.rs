//! loom models of `core`'s lock-free state machines.
//!
//! Run with `RUSTFLAGS="--cfg loom" cargo test -p shmipc-core --test loom --release`.
//! The futex is emulated with a loom Mutex + Condvar that re-checks the word
//! under the mutex, exactly the atomicity FUTEX_WAIT gives; a lost wake-up
//! therefore shows up as a deadlock, which loom reports.
#![cfg(loom)]

use loom::cell::UnsafeCell;
use loom::sync::atomic::AtomicBool;
use loom::sync::{Arc, Condvar, Mutex};
use loom::thread;

use shmipc_core::byte_ring::{
    BytePopper, BytePusher, ByteRing, ByteRingError, ByteStorage, Record, RecordKind,
};
use shmipc_core::eventcount::EventCount;
use shmipc_core::mpmc::{ClaimerId, Mpmc, MpmcIndices, SequencedSlots};
use shmipc_core::park::{Liveness, Owner, Park, Parked, Unpark};
use shmipc_core::primitives::AtomicU64;
use shmipc_core::primitives::{AtomicU32, Ordering};
use shmipc_core::raw_barrier::RawBarrier;
use shmipc_core::raw_condition::RawCondition;
use shmipc_core::raw_event::RawEvent;
use shmipc_core::raw_lock::{Acquired, RawLock};
use shmipc_core::raw_rlock::RawRLock;
use shmipc_core::raw_semaphore::RawSemaphore;
use shmipc_core::ring::{RingError, RingPositions, Slots};
use shmipc_core::spsc::{GroupedSlots, Spsc, SpscGeometry, SpscIndices};

#[derive(Default)]
struct Futex {
    mutex: Mutex<()>,
    cond: Condvar,
    /// The tid of a holder that has "died"; 0 if none.
    dead_tid: AtomicU32,
}

impl Unpark for Futex {
    fn unpark(&self, _word: &AtomicU32, _count: u32) {
        let _g = self.mutex.lock().unwrap();
        self.cond.notify_all();
    }
}

struct LoomPark<'a>(&'a Futex);

impl Unpark for LoomPark<'_> {
    fn unpark(&self, word: &AtomicU32, count: u32) {
        self.0.unpark(word, count);
    }
}

/// A park whose deadline has always just passed: it never sleeps.
struct ExpiredPark;

impl Park for ExpiredPark {
    fn park(&mut self, _word: &AtomicU32, _expected: u32) -> Parked {
        Parked::DeadlineReached
    }

    fn yield_now(&mut self) {
        thread::yield_now();
    }

    fn liveness(&mut self, _owner: &Owner) -> Liveness {
        Liveness::Alive
    }
}

impl Park for LoomPark<'_> {
    fn park(&mut self, word: &AtomicU32, expected: u32) -> Parked {
        if self.0.dead_tid.load(Ordering::SeqCst) != 0 {
            // The poll timer has fired: a holder may be dead.
            return Parked::PollDue;
        }
        let g = self.0.mutex.lock().unwrap();
        if word.load(Ordering::SeqCst) != expected || self.0.dead_tid.load(Ordering::SeqCst) != 0 {
            return Parked::Woken;
        }
        drop(self.0.cond.wait(g).unwrap());
        Parked::Woken
    }

    fn yield_now(&mut self) {
        thread::yield_now();
    }

    fn liveness(&mut self, owner: &Owner) -> Liveness {
        if owner.tid == self.0.dead_tid.load(Ordering::SeqCst) {
            Liveness::Dead
        } else {
            Liveness::Alive
        }
    }
}

/// Explores every interleaving with at most `PREEMPTIONS` preemptions, the
/// bound loom's authors recommend: bugs almost always need only two or three,
/// and without a bound three spinning threads take hours.
fn model(f: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    if builder.preemption_bound.is_none() {
        builder.preemption_bound = Some(PREEMPTIONS);
    }
    builder.check(f);
}

const PREEMPTIONS: usize = 3;

fn me(tid: u32) -> Owner {
    Owner {
        tid,
        pid: 100 + tid,
        start: 1000 + u64::from(tid),
    }
}

mod locks;
mod rings;
mod sync;
