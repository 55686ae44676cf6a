//! Value, Array, RawValue and RawArray across real processes.

mod common;

use common::{name, role, spawn, Cleanup};
use shmipc::{Array, CellLock, Lock, Options, RawArray, RawValue, Value};

#[derive(Clone, Copy, Debug, PartialEq, bytemuck::Pod, bytemuck::Zeroable)]
#[repr(C)]
struct Quote {
    bid: f64,
    ask: f64,
    seq: u64,
}

#[test]
fn an_array_written_by_a_child_is_read_by_the_parent() {
    if role().as_deref() == Some("writer") {
        let a = Array::<u32>::open(&name("squares")).unwrap();
        let mut g = a.lock().unwrap();
        for (i, x) in g.iter_mut().enumerate() {
            *x = (i * i) as u32;
        }
        return;
    }
    let _cleanup = Cleanup::new(&["squares"]);
    let a = Array::<u32>::create(&name("squares"), 1000).unwrap();
    assert!(a.lock().unwrap().iter().all(|&x| x == 0));
    spawn(
        "an_array_written_by_a_child_is_read_by_the_parent",
        "writer",
        &[],
    )
    .assert_success();
    let g = a.lock().unwrap();
    assert_eq!(g.len(), 1000);
    assert!(g.iter().enumerate().all(|(i, &x)| x == (i * i) as u32));
}

#[test]
fn a_struct_value_round_trips_through_a_child() {
    if role().as_deref() == Some("bump") {
        let v = Value::<Quote>::open(&name("quote")).unwrap();
        let mut g = v.lock().unwrap();
        g.bid += 1.0;
        g.ask += 2.0;
        g.seq += 1;
        return;
    }
    let _cleanup = Cleanup::new(&["quote"]);
    let v = Value::create(
        &name("quote"),
        Quote {
            bid: 10.0,
            ask: 11.0,
            seq: 0,
        },
    )
    .unwrap();
    spawn("a_struct_value_round_trips_through_a_child", "bump", &[]).assert_success();
    assert_eq!(
        *v.lock().unwrap(),
        Quote {
            bid: 11.0,
            ask: 13.0,
            seq: 1
        }
    );
}

#[test]
fn raw_cells_count_lock_free_across_processes() {
    if role().as_deref() == Some("count") {
        let hits = RawValue::<u64>::open(&name("hits")).unwrap();
        let per = RawArray::<i32>::open(&name("per")).unwrap();
        for i in 0..50_000 {
            hits.fetch_add(1);
            per.fetch_add(i % 4, 1).unwrap();
        }
        return;
    }
    let _cleanup = Cleanup::new(&["hits", "per"]);
    let hits = RawValue::create(&name("hits"), 0u64).unwrap();
    let per = RawArray::<i32>::create(&name("per"), 4).unwrap();
    let kids: Vec<_> = (0..3)
        .map(|_| spawn("raw_cells_count_lock_free_across_processes", "count", &[]))
        .collect();
    for k in kids {
        k.assert_success();
    }
    assert_eq!(hits.load(), 150_000);
    assert_eq!(per.to_vec(), vec![37_500; 4]);
    assert!(matches!(
        per.fetch_add(4, 1),
        Err(shmipc::Error::IndexOutOfBounds {
            index: 4,
            len: 4,
            ..
        })
    ));
}

#[test]
fn cells_sharing_a_named_lock_see_the_same_lock_in_another_process() {
    if role().as_deref() == Some("transfer") {
        let from = Value::<i64>::open(&name("acct-a")).unwrap();
        let to = Value::<i64>::open(&name("acct-b")).unwrap();
        assert_eq!(from.get_lock().name(), name("bank"));
        for _ in 0..10_000 {
            let mut g = from.get_lock().acquire().unwrap();
            *from.access(&mut g).unwrap() -= 1;
            *to.access(&mut g).unwrap() += 1;
        }
        return;
    }
    let _cleanup = Cleanup::new(&["bank", "acct-a", "acct-b"]);
    let bank = Lock::create(&name("bank")).unwrap();
    let opts = Options::new();
    let a =
        Value::create_with(&name("acct-a"), 100_000i64, CellLock::Shared(&bank), &opts).unwrap();
    let b = Value::create_with(&name("acct-b"), 0i64, CellLock::Shared(&bank), &opts).unwrap();
    let kids: Vec<_> = (0..2)
        .map(|_| {
            spawn(
                "cells_sharing_a_named_lock_see_the_same_lock_in_another_process",
                "transfer",
                &[],
            )
        })
        .collect();
    // Meanwhile, the invariant holds at every instant the lock is held.
    for _ in 0..1000 {
        let mut g = bank.acquire().unwrap();
        let total = *a.access(&mut g).unwrap() + *b.access(&mut g).unwrap();
        assert_eq!(total, 100_000);
    }
    for k in kids {
        k.assert_success();
    }
    assert_eq!(*a.lock().unwrap(), 80_000);
    assert_eq!(*b.lock().unwrap(), 20_000);
    // A guard of another lock is refused, not trusted.
    let other = Lock::create(&name("acct-a-other")).unwrap();
    let mut wrong = other.acquire().unwrap();
    assert!(matches!(
        a.access(&mut wrong),
        Err(shmipc::Error::WrongLock { .. })
    ));
}

#[test]
fn from_slice_len_zero_and_raw_copies() {
    let _cleanup = Cleanup::new(&["slice", "empty", "raw-slice"]);
    let a = Array::from_slice(&name("slice"), &[1u16, 2, 3]).unwrap();
    assert_eq!(&*a.lock().unwrap(), &[1, 2, 3]);
    let e = Array::<u64>::create(&name("empty"), 0).unwrap();
    assert!(e.is_empty() && e.lock().unwrap().is_empty());
    let r = RawArray::from_slice(&name("raw-slice"), &[1.5f32, 2.5, 3.5, 4.5]).unwrap();
    let mut two = [0f32; 2];
    r.read(1, &mut two).unwrap();
    assert_eq!(two, [2.5, 3.5]);
    r.write(2, &[9.0, 9.5]).unwrap();
    assert_eq!(r.to_vec(), vec![1.5, 2.5, 9.0, 9.5]);
    assert!(r.write(3, &[0.0, 0.0]).is_err());
    assert!(r.load(usize::MAX).is_err());
    let opened = RawArray::<f32>::open(&name("raw-slice")).unwrap();
    assert_eq!(opened.load(3).unwrap(), 9.5);
}

#[test]
fn cells_behind_one_shared_rlock_nest_across_processes() {
    use shmipc::RLock;
    const PER_CHILD: u32 = 10_000;
    if role().as_deref() == Some("nested") {
        let total = Value::<u64, RLock>::open_with(&name("r-total"), &Options::new()).unwrap();
        let hist = Array::<u32, RLock>::open_with(&name("r-hist"), &Options::new()).unwrap();
        assert!(total.get_lock().same_lock(hist.get_lock()));
        for i in 0..PER_CHILD {
            // Re-entrant: the array's guard nests inside the value's, same RLock.
            let t = total.lock().unwrap();
            let h = hist.lock().unwrap();
            let slot = (i % 4) as usize;
            h.store(slot, h.load(slot).unwrap() + 1).unwrap();
            t.update(|v| v + 1);
        }
        return;
    }
    let _cleanup = Cleanup::new(&["r-lock", "r-total", "r-hist"]);
    let rlock = RLock::create(&name("r-lock")).unwrap();
    let opts = Options::new();
    let total =
        Value::create_with(&name("r-total"), 0u64, CellLock::Shared(&rlock), &opts).unwrap();
    let hist =
        Array::<u32, RLock>::create_with(&name("r-hist"), 4, CellLock::Shared(&rlock), &opts)
            .unwrap();
    let kids: Vec<_> = (0..3)
        .map(|_| {
            spawn(
                "cells_behind_one_shared_rlock_nest_across_processes",
                "nested",
                &[],
            )
        })
        .collect();
    for k in kids {
        k.assert_success();
    }
    let t = total.lock().unwrap();
    let h = hist.lock().unwrap();
    assert_eq!(t.get(), 3 * u64::from(PER_CHILD));
    assert_eq!(h.to_vec(), vec![3 * PER_CHILD / 4; 4]);
    assert!(h.load(4).is_err());
    drop((h, t));
    // Opened as guarded by the other lock type: refused with a clear error.
    match Value::<u64>::open(&name("r-total")) {
        Err(shmipc::Error::LockKindMismatch {
            expected, found, ..
        }) => assert_eq!((expected, found), ("Lock", "RLock")),
        other => panic!("expected LockKindMismatch, got {other:?}"),
    }
}
