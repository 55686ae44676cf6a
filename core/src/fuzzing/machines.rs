//! The blocking state machines (lock, rlock, semaphore, event, condition,
//! barrier, eventcount) driven by arbitrary operations, with their shared
//! words overwritten by arbitrary values in between.
//!
//! One process plays every party, so nothing may block: the park's deadline
//! has always passed, and its liveness answer comes from the input. Until
//! the first overwrite a few invariants are checked (a lock admits one
//! holder, a semaphore's count is what was released less what was taken);
//! after it, only that every call returns (a spin that never ends shows as
//! a fuzzer timeout) and nothing panics.

use crate::eventcount::EventCount;
use crate::park::{Liveness, Owner, Park, Parked, Unpark};
use crate::primitives::{AtomicU32, AtomicU64, Ordering};
use crate::raw_barrier::RawBarrier;
use crate::raw_condition::RawCondition;
use crate::raw_event::RawEvent;
use crate::raw_lock::{Acquired, RawLock};
use crate::raw_rlock::RawRLock;
use crate::raw_semaphore::RawSemaphore;

/// A park whose deadline has always passed; liveness as the input says.
struct FuzzPark {
    dead: bool,
}

impl Park for FuzzPark {
    fn park(&mut self, _word: &AtomicU32, _expected: u32) -> Parked {
        Parked::DeadlineReached
    }
    fn yield_now(&mut self) {}
    fn liveness(&mut self, _owner: &Owner) -> Liveness {
        if self.dead {
            Liveness::Dead
        } else {
            Liveness::Alive
        }
    }
}

impl Unpark for FuzzPark {
    fn unpark(&self, _word: &AtomicU32, _count: u32) {}
}

fn owner(i: u8) -> Owner {
    let tid = u32::from(i % 3) + 1;
    Owner {
        tid,
        pid: 100 + tid,
        start: 1000 + u64::from(tid),
    }
}

/// Writes `value` over the `index`th 32-bit word of `machine`, as a peer
/// could.
fn overwrite<M>(machine: &M, index: usize, value: u32) {
    let words = size_of::<M>() / 4;
    let base = machine as *const M as *const AtomicU32;
    // SAFETY: every machine here is `repr(C)` and made of atomics (and
    // padding that is never read as anything but bytes), 4-byte aligned,
    // `size_of::<M>()` bytes long; the index is below its word count. An
    // atomic store over its bytes is what a peer writing the segment does.
    unsafe { (*base.add(index % words)).store(value, Ordering::Relaxed) };
}

/// The operations of `data` after its header byte, three bytes each.
fn ops(data: &[u8]) -> impl Iterator<Item = (u8, u8, u8)> + '_ {
    data.get(1..)
        .unwrap_or_default()
        .chunks_exact(3)
        .map(|op| (op[0], op[1], op[2]))
}

/// Drives the machine the header byte names (its value modulo 7).
pub fn machine_ops(data: &[u8]) {
    match data.first().copied().unwrap_or(0) % 7 {
        0 => lock(data),
        1 => rlock(data),
        2 => semaphore(data),
        3 => event(data),
        4 => condition(data),
        5 => barrier(data),
        _ => eventcount(data),
    }
}

fn lock(data: &[u8]) {
    let l = RawLock::new();
    let mut holder: Option<u8> = None;
    let mut scribbled = false;
    for (what, arg, value) in ops(data) {
        let mut park = FuzzPark {
            dead: arg & 0x80 != 0,
        };
        let who = arg % 3;
        match what % 6 {
            0 | 1 => {
                let got = if what % 6 == 0 {
                    l.try_lock(&owner(who), &mut park)
                } else {
                    l.lock(&owner(who), &mut park).ok()
                };
                if !scribbled {
                    match (got, holder) {
                        (Some(Acquired::Clean), None) => holder = Some(who),
                        // Taken over from a holder the park called dead.
                        (Some(_), Some(_)) => assert!(park.dead, "two holders"),
                        (Some(Acquired::OwnerDied { .. }), None) => {}
                        (None, _) => assert!(holder.is_some(), "refused a free lock"),
                    }
                    if got.is_some() {
                        holder = Some(who);
                    }
                }
            }
            2 => {
                if holder.take().is_some() || scribbled {
                    l.unlock(&park);
                }
            }
            3 => {
                let _ = (l.owner(), l.poisoned_by(), l.is_held_by(&owner(who)));
                l.mark_consistent();
            }
            4 => {
                if holder.take().is_some() {
                    l.detach();
                }
                let _ = l.release_detached(&park);
            }
            _ => {
                scribbled = true;
                overwrite(&l, arg as usize, u32::from(value).wrapping_mul(0x0101_0101));
            }
        }
    }
}

fn rlock(data: &[u8]) {
    let l = RawRLock::new();
    for (what, arg, value) in ops(data) {
        let mut park = FuzzPark {
            dead: arg & 0x80 != 0,
        };
        let me = owner(arg);
        match what % 5 {
            0 => {
                let _ = l.try_lock(&me, &mut park);
            }
            1 => {
                let _ = l.lock(&me, &mut park);
            }
            2 => {
                let _ = l.unlock(&me, &park);
            }
            3 => {
                if let Ok(depth) = l.unlock_all(&me, &park) {
                    let _ = l.relock(&me, depth, &mut park);
                }
                let _ = l.depth_held_by(&me);
            }
            _ => overwrite(&l, arg as usize, u32::from(value) << (value % 24)),
        }
    }
}

fn semaphore(data: &[u8]) {
    let initial = u32::from(data.first().copied().unwrap_or(0) >> 4);
    let bound = (initial % 2 == 0).then_some(initial.max(1));
    let s = RawSemaphore::new(initial.min(bound.unwrap_or(u32::MAX)));
    let mut count = u64::from(s.value());
    let mut scribbled = false;
    for (what, arg, value) in ops(data) {
        let mut park = FuzzPark { dead: false };
        match what % 4 {
            0 => {
                let got = s.try_acquire();
                if !scribbled {
                    assert_eq!(got, count > 0, "try_acquire with {count}");
                    count -= u64::from(got);
                }
            }
            1 => {
                let got = s.acquire(&mut park).is_ok();
                if !scribbled {
                    assert_eq!(got, count > 0, "acquire with {count}");
                    count -= u64::from(got);
                }
            }
            2 => {
                let n = u32::from(arg % 4);
                let released = s.release(n, bound, &park).is_ok();
                if !scribbled {
                    let fits = count + u64::from(n) <= u64::from(bound.unwrap_or(u32::MAX));
                    assert_eq!(released, fits, "release {n} at {count}");
                    if released {
                        count += u64::from(n);
                    }
                    assert_eq!(u64::from(s.value()), count);
                }
            }
            _ => {
                scribbled = true;
                overwrite(
                    &s,
                    arg as usize,
                    u32::from(value).rotate_left(u32::from(arg)),
                );
            }
        }
    }
}

fn event(data: &[u8]) {
    let e = RawEvent::new();
    let mut set = false;
    let mut scribbled = false;
    for (what, arg, value) in ops(data) {
        let mut park = FuzzPark { dead: false };
        match what % 4 {
            0 => {
                e.set(&park);
                set = true;
            }
            1 => {
                e.clear();
                set = false;
            }
            2 => {
                let woke = e.wait(&mut park);
                if !scribbled {
                    assert_eq!(woke, set);
                }
            }
            _ => {
                scribbled = true;
                overwrite(&e, arg as usize, u32::from(value));
            }
        }
    }
}

fn condition(data: &[u8]) {
    let c = RawCondition::<4>::new();
    let mut tickets = [None; 4];
    for (what, arg, value) in ops(data) {
        let mut park = FuzzPark { dead: false };
        let i = arg as usize % 4;
        let alive = |key: u64| key % 2 == 0;
        match what % 5 {
            0 => {
                if tickets[i].is_none() {
                    tickets[i] = c.enqueue(u64::from(arg) * 2, alive);
                }
            }
            1 => {
                if let Some(t) = tickets[i] {
                    let _ = c.wait(t, &mut park);
                }
            }
            2 => {
                if let Some(t) = tickets[i].take() {
                    let _ = c.finish(t);
                }
            }
            3 => {
                let _ = c.notify(u32::from(arg % 5), &park, alive);
                let _ = c.waiting();
            }
            _ => overwrite(
                &c,
                usize::from(value) * 7 + arg as usize,
                u32::from(value) << (arg % 24),
            ),
        }
    }
}

fn barrier(data: &[u8]) {
    let parties = u32::from(data.first().copied().unwrap_or(0) >> 4) % 4 + 1;
    let b = RawBarrier::new();
    let mut slots = [None; 3];
    for (what, arg, value) in ops(data) {
        let mut park = FuzzPark {
            dead: arg & 0x80 != 0,
        };
        let i = arg as usize % 3;
        match what % 6 {
            0 => {
                if slots[i].is_none() {
                    slots[i] = b.register(&owner(arg));
                }
            }
            1 => {
                if let Some(slot) = slots[i].take() {
                    b.unregister(slot, owner(arg).pid);
                }
            }
            2 => {
                let mut ran = false;
                let mut action = || {
                    ran = true;
                    value % 5 != 0
                };
                let action: Option<&mut dyn FnMut() -> bool> = if value & 1 == 0 {
                    Some(&mut action)
                } else {
                    None
                };
                let _ = b.wait(parties, slots[i], &mut park, action);
            }
            3 => b.abort(&park),
            4 => {
                b.reset(&park);
                let _ = (b.is_broken(), b.n_waiting(parties));
            }
            _ => {
                let word = usize::from(value) + arg as usize;
                overwrite(&b, word, u32::from(value).wrapping_mul(0x9e37_79b9));
            }
        }
    }
}

fn eventcount(data: &[u8]) {
    let ec = EventCount::new();
    let flag = AtomicU64::new(0);
    for (what, arg, value) in ops(data) {
        let mut park = FuzzPark { dead: false };
        match what % 4 {
            0 => {
                let registration = ec.prepare(&mut park);
                if flag.load(Ordering::SeqCst) == 0 {
                    let _ = registration.wait(&mut park);
                }
            }
            1 => {
                flag.store(u64::from(arg), Ordering::SeqCst);
                ec.notify(&park, u32::from(value));
            }
            2 => ec.notify_if(&park, u32::MAX, || value % 2 == 0),
            _ => overwrite(&ec, arg as usize, u32::from(value)),
        }
        let _ = ec.waiters();
    }
}
