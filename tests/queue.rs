//! Queue and JoinableQueue across real processes.

mod common;

use std::time::{Duration, Instant};

use common::{name, role, spawn, Cleanup};
use shmipc::{
    Error, Event, GetError, JoinableQueue, Options, PutError, Queue, QueueMode, RawArray, RawValue,
    SliceError, WaitStrategy,
};

const LONG: Duration = Duration::from_secs(60);

fn item(producer: u64, seq: u64) -> u64 {
    (producer << 32) | seq
}

#[test]
fn mpmc_four_producers_four_consumers_one_million_items_each_exactly_once() {
    const PRODUCERS: u64 = 4;
    const PER_PRODUCER: u64 = 250_000;
    let test = "mpmc_four_producers_four_consumers_one_million_items_each_exactly_once";
    match role().as_deref() {
        Some("producer") => {
            let id: u64 = common::args()[0].parse().unwrap();
            let q = Queue::<u64>::open(&name("mpmc")).unwrap();
            for seq in 0..PER_PRODUCER {
                q.put(item(id, seq)).unwrap();
            }
            return;
        }
        Some("consumer") => {
            let q = Queue::<u64>::open(&name("mpmc")).unwrap();
            let seen = RawArray::<u8>::open(&name("mpmc-seen")).unwrap();
            let mut last = [None::<u64>; PRODUCERS as usize];
            loop {
                match q.get() {
                    Ok(v) => {
                        let (p, seq) = ((v >> 32) as usize, v & 0xffff_ffff);
                        // Per-producer order, as this consumer sees it.
                        assert!(
                            last[p].is_none_or(|l| seq > l),
                            "producer {p}: {seq} after {:?}",
                            last[p]
                        );
                        last[p] = Some(seq);
                        seen.fetch_add(p * PER_PRODUCER as usize + seq as usize, 1)
                            .unwrap();
                    }
                    Err(GetError::Closed { .. }) => return,
                    Err(e) => panic!("{e}"),
                }
            }
        }
        _ => {}
    }
    let _cleanup = Cleanup::new(&["mpmc", "mpmc-seen"]);
    let q = Queue::<u64>::create(&name("mpmc"), 1024).unwrap();
    let seen =
        RawArray::<u8>::create(&name("mpmc-seen"), (PRODUCERS * PER_PRODUCER) as usize).unwrap();
    let consumers: Vec<_> = (0..4).map(|_| spawn(test, "consumer", &[])).collect();
    let producers: Vec<_> = (0..PRODUCERS)
        .map(|id| spawn(test, "producer", &[&id.to_string()]))
        .collect();
    for p in producers {
        p.assert_success();
    }
    q.close();
    for c in consumers {
        c.assert_success();
    }
    let counts = seen.to_vec();
    let wrong: Vec<_> = counts
        .iter()
        .enumerate()
        .filter(|(_, &c)| c != 1)
        .take(5)
        .collect();
    assert!(wrong.is_empty(), "items not seen exactly once: {wrong:?}");
}

#[test]
fn spsc_keeps_order_over_ten_million_items() {
    const ITEMS: u64 = 10_000_000;
    if role().as_deref() == Some("spsc-producer") {
        let q = Queue::<u64>::open(&name("spsc")).unwrap();
        let mut batch = Vec::with_capacity(256);
        let mut next = 0;
        while next < ITEMS {
            // Half single puts, half batches: both paths keep the order.
            if (next / 100_000) % 2 == 0 {
                q.put(next).unwrap();
                next += 1;
            } else {
                batch.clear();
                batch.extend(next..(next + 256).min(ITEMS));
                let n = q.try_put_slice(&batch).unwrap();
                next += n as u64;
                if n == 0 {
                    std::thread::yield_now();
                }
            }
        }
        return;
    }
    let _cleanup = Cleanup::new(&["spsc"]);
    let q = Queue::<u64>::create_spsc(&name("spsc"), 4096).unwrap();
    let child = spawn(
        "spsc_keeps_order_over_ten_million_items",
        "spsc-producer",
        &[],
    );
    let mut expected = 0;
    let mut buf = vec![0u64; 512];
    while expected < ITEMS {
        if expected % 3 == 0 {
            let v = q.get_timeout(LONG).unwrap();
            assert_eq!(v, expected);
            expected += 1;
        } else {
            let n = q.try_get_slice(&mut buf).unwrap();
            for &v in &buf[..n] {
                assert_eq!(v, expected);
                expected += 1;
            }
        }
    }
    child.assert_success();
    assert!(q.is_empty());
}

#[test]
fn spsc_refuses_a_second_producer_while_the_first_lives() {
    if role().as_deref() == Some("first") {
        let q = Queue::<u32>::open(&name("roles")).unwrap();
        let tx = q.producer().unwrap();
        tx.put(1).unwrap();
        common::tell_parent("producing");
        common::wait_for_parent();
        drop(tx);
        return;
    }
    let _cleanup = Cleanup::new(&["roles"]);
    let q = Queue::<u32>::create_spsc(&name("roles"), 8).unwrap();
    let mut child = spawn(
        "spsc_refuses_a_second_producer_while_the_first_lives",
        "first",
        &[],
    );
    child.expect_line("producing");
    // The holder is named: the child's pid, and a thread of it.
    match q.producer() {
        Err(Error::RoleTaken {
            role: "producer",
            pid,
            tid,
            ..
        }) => {
            assert_eq!(pid, child.pid());
            assert!(std::path::Path::new(&format!("/proc/{pid}/task/{tid}")).exists());
        }
        other => panic!("expected RoleTaken, got {other:?}"),
    }
    match q.try_put(2) {
        Err(PutError::Failed {
            item: 2,
            error:
                Error::RoleTaken {
                    role: "producer",
                    pid,
                    ..
                },
        }) => assert_eq!(pid, child.pid()),
        other => panic!("expected RoleTaken, got {other:?}"),
    }
    assert_eq!(q.producer_holder().map(|(pid, _)| pid), Some(child.pid()));
    // The consumer role is free: an endpoint takes it here, and a get on
    // the queue itself, from another thread, is refused naming this
    // process and the thread that took it.
    let rx = q.consumer().unwrap();
    assert_eq!(rx.try_get().unwrap(), 1);
    // SAFETY: gettid has no preconditions.
    let me = unsafe { libc::syscall(libc::SYS_gettid) } as u32;
    std::thread::scope(|s| {
        s.spawn(|| match q.try_get() {
            Err(GetError::Failed(Error::RoleTaken {
                role: "consumer",
                pid,
                tid,
                ..
            })) => assert_eq!((pid, tid), (std::process::id(), me)),
            other => panic!("expected RoleTaken, got {other:?}"),
        });
    });
    child.send("done");
    child.assert_success();
    // The first producer dropped its endpoint: the role is free again.
    q.try_put(3).unwrap();
    assert_eq!(rx.try_get().unwrap(), 3);
    drop(rx);
    assert_eq!(q.consumer_holder(), None);
}

#[test]
fn spsc_endpoints_move_between_the_threads_of_a_pool() {
    const HOPS: u64 = 50;
    const PER_HOP: u64 = 200;
    let _cleanup = Cleanup::new(&["pool"]);
    let q = Queue::<u64>::create_spsc(&name("pool"), 16).unwrap();
    let (tx, rx) = (q.producer().unwrap(), q.consumer().unwrap());
    // Four worker threads pass the producer and the consumer around: each
    // hop is a job run by whichever worker picks it up, as in a thread pool
    // or `spawn_blocking`.
    let (jobs_tx, jobs_rx) = std::sync::mpsc::channel::<(u64, shmipc::Producer<u64>)>();
    let jobs_rx = std::sync::Mutex::new(jobs_rx);
    let (back_tx, back_rx) = std::sync::mpsc::channel();
    std::thread::scope(|s| {
        for _ in 0..4 {
            let (jobs_rx, back_tx) = (&jobs_rx, back_tx.clone());
            s.spawn(move || loop {
                let job = jobs_rx.lock().unwrap().recv();
                let Ok((hop, tx)) = job else { return };
                for i in 0..PER_HOP {
                    tx.put_timeout(hop * PER_HOP + i, LONG).unwrap();
                }
                back_tx.send(tx).unwrap();
            });
        }
        let consumer = s.spawn(move || {
            for v in 0..HOPS * PER_HOP {
                assert_eq!(rx.get_timeout(LONG).unwrap(), v);
            }
            rx
        });
        let mut tx = tx;
        for hop in 0..HOPS {
            jobs_tx.send((hop, tx)).unwrap();
            tx = back_rx.recv().unwrap();
        }
        drop(jobs_tx);
        let rx = consumer.join().unwrap();
        assert!(rx.is_empty());
        // Neither role was ever given up on the way.
        assert!(matches!(q.producer(), Err(Error::RoleTaken { .. })));
        assert!(matches!(q.consumer(), Err(Error::RoleTaken { .. })));
        drop((tx, rx));
    });
    assert!(q.producer().is_ok() && q.consumer().is_ok());
}

#[test]
fn a_put_timeout_waits_for_the_role_of_a_dying_process() {
    if role().as_deref() == Some("holder") {
        let q = Queue::<u32>::open(&name("dying")).unwrap();
        let _tx = q.producer().unwrap();
        common::tell_parent("holding");
        common::wait_for_parent();
        return;
    }
    let _cleanup = Cleanup::new(&["dying"]);
    let q = Queue::<u32>::create_spsc(&name("dying"), 8).unwrap();
    let mut holder = spawn(
        "a_put_timeout_waits_for_the_role_of_a_dying_process",
        "holder",
        &[],
    );
    holder.expect_line("holding");
    assert!(matches!(
        q.try_put(1),
        Err(PutError::Failed {
            error: Error::RoleTaken { .. },
            ..
        })
    ));
    std::thread::scope(|s| {
        let waiting = s.spawn(|| q.put_timeout(2, LONG));
        // SIGKILL while the put waits: it takes the dead holder's role.
        drop(holder);
        waiting.join().unwrap().unwrap();
    });
    assert_eq!(q.try_get().unwrap(), 2);
    // A live holder that lets go is waited for, too.
    let tx = q.producer().unwrap();
    std::thread::scope(|s| {
        let waiting = s.spawn(|| q.producer_timeout(LONG).map(drop));
        drop(tx);
        waiting.join().unwrap().unwrap();
    });
}

#[test]
fn timeouts_wait_and_full_queues_hand_the_item_back() {
    let _cleanup = Cleanup::new(&["timeouts"]);
    let q = Queue::<[u8; 24]>::create(&name("timeouts"), 2).unwrap();
    let timeout = Duration::from_millis(50);
    let started = Instant::now();
    match q.get_timeout(timeout) {
        Err(GetError::TimedOut { after, .. }) => assert_eq!(after, timeout),
        other => panic!("expected TimedOut, got {other:?}"),
    }
    assert!(started.elapsed() >= timeout);
    assert!(matches!(q.try_get(), Err(GetError::Empty { .. })));
    q.put([1; 24]).unwrap();
    q.put([2; 24]).unwrap();
    assert!(q.is_full());
    match q.try_put([3; 24]) {
        Err(e @ PutError::Full { .. }) => assert_eq!(e.into_inner(), [3; 24]),
        other => panic!("expected Full, got {other:?}"),
    }
    let started = Instant::now();
    match q.put_timeout([4; 24], timeout) {
        Err(PutError::TimedOut { item, .. }) => assert_eq!(item, [4; 24]),
        other => panic!("expected TimedOut, got {other:?}"),
    }
    assert!(started.elapsed() >= timeout);
    let e: Error = q.try_put([5; 24]).unwrap_err().into();
    assert!(e.to_string().contains(&name("timeouts")), "{e}");
    assert_eq!(q.get().unwrap(), [1; 24]);
    assert_eq!(q.len(), 1);
}

#[test]
fn close_wakes_waiters_refuses_puts_and_drains() {
    if role().as_deref() == Some("blocked-getter") {
        let q = Queue::<u16>::open(&name("close")).unwrap();
        assert_eq!(q.get().unwrap(), 1);
        common::tell_parent("got one");
        // Blocks until the close.
        assert!(matches!(q.get(), Err(GetError::Closed { .. })));
        return;
    }
    let _cleanup = Cleanup::new(&["close"]);
    let q = Queue::<u16>::create(&name("close"), 8)
        .unwrap()
        .with_wait(WaitStrategy::Park);
    let mut child = spawn(
        "close_wakes_waiters_refuses_puts_and_drains",
        "blocked-getter",
        &[],
    );
    q.put(1).unwrap();
    child.expect_line("got one");
    q.close();
    child.assert_success();
    match q.put(9) {
        Err(PutError::Closed { item: 9, .. }) => {}
        other => panic!("expected Closed, got {other:?}"),
    }
    assert!(q.is_closed());
    // Items put before a close are still delivered.
    let _cleanup2 = Cleanup::new(&["close-drain"]);
    let d = Queue::<u16>::create(&name("close-drain"), 8).unwrap();
    d.put(5).unwrap();
    d.put(6).unwrap();
    d.close();
    assert_eq!(d.get().unwrap(), 5);
    assert_eq!(d.get().unwrap(), 6);
    assert!(matches!(d.get(), Err(GetError::Closed { .. })));
}

#[test]
fn a_consumer_killed_mid_stream_does_not_stop_the_others() {
    const ITEMS: u64 = 200_000;
    let test = "a_consumer_killed_mid_stream_does_not_stop_the_others";
    match role().as_deref() {
        Some("doomed") => {
            let q = Queue::<u64>::open(&name("kill")).unwrap();
            let got = RawValue::<u64>::open(&name("kill-got")).unwrap();
            for _ in 0..1000 {
                q.get().unwrap();
                got.fetch_add(1);
            }
            // The survivors start only now: had they started with it, they
            // could drain the whole stream before this process took 1000.
            Event::open(&name("kill-doomed")).unwrap().set();
            // SAFETY: kills this very process, mid-stream.
            unsafe { libc::kill(libc::getpid(), libc::SIGKILL) };
            return;
        }
        Some("survivor") => {
            let q = Queue::<u64>::open(&name("kill")).unwrap();
            let got = RawValue::<u64>::open(&name("kill-got")).unwrap();
            Event::open(&name("kill-doomed")).unwrap().wait();
            while q.get().is_ok() {
                got.fetch_add(1);
            }
            return;
        }
        _ => {}
    }
    let _cleanup = Cleanup::new(&["kill", "kill-got", "kill-doomed"]);
    let q = Queue::<u64>::create(&name("kill"), 256).unwrap();
    let got = RawValue::create(&name("kill-got"), 0u64).unwrap();
    let _doomed_done = Event::create(&name("kill-doomed")).unwrap();
    let doomed = spawn(test, "doomed", &[]);
    let survivors: Vec<_> = (0..2).map(|_| spawn(test, "survivor", &[])).collect();
    for v in 0..ITEMS {
        q.put_timeout(v, LONG).unwrap();
    }
    assert!(!doomed.wait().success());
    q.close();
    for s in survivors {
        s.assert_success();
    }
    assert_eq!(got.load(), ITEMS, "every item reached exactly one consumer");
}

#[test]
fn a_dead_spsc_producer_role_is_taken_over_without_losing_items() {
    const FIRST: u64 = 1000;
    if role().as_deref() == Some("doomed") {
        let q = Queue::<u64>::open(&name("takeover")).unwrap();
        let tx = q.producer().unwrap();
        for v in 0..FIRST {
            tx.put_timeout(v, LONG).unwrap();
        }
        // SAFETY: kills this very process while it holds the producer role.
        unsafe { libc::kill(libc::getpid(), libc::SIGKILL) };
        return;
    }
    let _cleanup = Cleanup::new(&["takeover"]);
    let q = Queue::<u64>::create_spsc(&name("takeover"), 64).unwrap();
    let doomed = spawn(
        "a_dead_spsc_producer_role_is_taken_over_without_losing_items",
        "doomed",
        &[],
    );
    // Consume while the doomed producer runs (it needs room for 1000 items).
    for v in 0..FIRST {
        assert_eq!(q.get_timeout(LONG).unwrap(), v);
    }
    assert!(!doomed.wait().success());
    // Its role record names a dead process: an endpoint takes it over.
    let tx = q.producer().unwrap();
    for v in FIRST..FIRST + 100 {
        tx.try_put(v).unwrap();
        assert_eq!(q.try_get().unwrap(), v);
    }
    drop(tx);
    for v in FIRST + 100..FIRST + 200 {
        q.try_put(v).unwrap();
        assert_eq!(q.try_get().unwrap(), v);
    }
    assert!(q.is_empty());
}

#[test]
fn blocking_batches_cross_processes_in_order_and_report_timeouts_and_close() {
    const ITEMS: u64 = 100_000;
    if role().as_deref() == Some("batcher") {
        let q = Queue::<u64>::open(&name("batches")).unwrap();
        let items: Vec<u64> = (0..ITEMS).collect();
        let mut sent = 0;
        while sent < items.len() {
            let end = (sent + 100).min(items.len());
            sent += q.put_slice_timeout(&items[sent..end], LONG).unwrap();
        }
        return;
    }
    let _cleanup = Cleanup::new(&["batches"]);
    let q = Queue::<u64>::create_spsc(&name("batches"), 64).unwrap();
    let mut out = [0u64; 7];
    assert!(matches!(
        q.get_slice_timeout(&mut out, Duration::from_millis(20)),
        Err(SliceError::TimedOut { .. })
    ));
    let child = spawn(
        "blocking_batches_cross_processes_in_order_and_report_timeouts_and_close",
        "batcher",
        &[],
    );
    let mut next = 0;
    while next < ITEMS {
        let n = q.get_slice_timeout(&mut out, LONG).unwrap();
        assert!(n >= 1);
        for v in &out[..n] {
            assert_eq!(*v, next, "batches keep order");
            next += 1;
        }
    }
    child.assert_success();
    // This process is the producer now (the child's handle is gone).
    let full: Vec<u64> = (0..64).collect();
    assert_eq!(q.put_slice(&full).unwrap(), 64);
    assert!(matches!(
        q.put_slice_timeout(&[1], Duration::from_millis(20)),
        Err(SliceError::TimedOut { .. })
    ));
    q.close();
    assert!(matches!(q.put_slice(&[1]), Err(SliceError::Closed { .. })));
    let mut all = [0u64; 100];
    assert_eq!(q.get_slice(&mut all).unwrap(), 64);
    assert!(matches!(
        q.get_slice(&mut all),
        Err(SliceError::Closed { .. })
    ));
}

#[test]
fn a_queue_holds_exactly_its_capacity_in_either_mode() {
    // Python's `Queue(maxsize=6)`: any capacity, not only powers of two.
    for capacity in [1u64, 3, 6, 7, 8, 100] {
        let labels = [format!("cap{capacity}-mpmc"), format!("cap{capacity}-spsc")];
        let _cleanup = Cleanup::new(&[&labels[0], &labels[1]]);
        for q in [
            Queue::<u64>::create(&name(&labels[0]), capacity).unwrap(),
            Queue::<u64>::create_spsc(&name(&labels[1]), capacity).unwrap(),
        ] {
            assert_eq!(q.capacity(), capacity);
            for round in 0..3 {
                for i in 0..capacity {
                    q.try_put(round * 1000 + i).unwrap();
                }
                assert!(q.is_full());
                assert!(matches!(
                    q.try_put(99),
                    Err(PutError::Full { item: 99, .. })
                ));
                let mut batch = vec![0u64; capacity as usize + 1];
                assert_eq!(q.try_put_slice(&batch).unwrap(), 0, "{q:?}");
                assert_eq!(q.try_get().unwrap(), round * 1000);
                assert_eq!(q.try_put_slice(&batch[..2]).unwrap(), 1);
                let n = q.try_get_slice(&mut batch).unwrap();
                assert_eq!(n as u64, capacity);
                assert!(matches!(q.try_get(), Err(GetError::Empty { .. })));
            }
        }
    }
}

#[test]
fn an_mpmc_queue_of_odd_capacity_never_holds_more_under_contention() {
    const CAPACITY: u64 = 5;
    let _cleanup = Cleanup::new(&["odd"]);
    let q = Queue::<u64>::create(&name("odd"), CAPACITY).unwrap();
    std::thread::scope(|s| {
        for p in 0..3u64 {
            let q = &q;
            s.spawn(move || {
                for i in 0..20_000 {
                    q.put_timeout(p << 32 | i, LONG).unwrap();
                }
            });
        }
        let mut got = 0;
        while got < 60_000 {
            assert!(q.len() <= CAPACITY);
            if q.get_timeout(LONG).is_ok() {
                got += 1;
            }
        }
    });
    assert!(q.is_empty());
}

/// Pushes `0..count` (as `make(i)`) through an SPSC queue of capacity 8,
/// alternating single items and batches, and checks that they come out in
/// order: several laps of a ring whose lines hold `T`s under one stamp, or
/// one each.
fn spsc_round_trip<T: shmipc::Plain + PartialEq + std::fmt::Debug>(
    label: &str,
    make: impl Fn(u64) -> T,
) {
    let q = Queue::<T>::create_spsc(&name(label), 8).unwrap();
    let (mut sent, mut got) = (0u64, 0u64);
    let mut out = Vec::new();
    while got < 100 {
        if sent % 3 == 0 {
            let batch: Vec<T> = (sent..sent + 5).map(&make).collect();
            sent += q.try_put_slice(&batch).unwrap() as u64;
        } else if q.try_put(make(sent)).is_ok() {
            sent += 1;
        }
        out.resize(1 + (got % 7) as usize, make(0));
        let n = if got % 2 == 0 {
            q.try_get_slice(&mut out).unwrap()
        } else {
            q.try_get().map(|v| out[0] = v).map_or(0, |()| 1)
        };
        for v in &out[..n] {
            assert_eq!(*v, make(got));
            got += 1;
        }
        assert_eq!(q.len(), sent - got);
    }
}

#[test]
fn spsc_items_of_every_size_keep_order_across_laps() {
    let _cleanup = Cleanup::new(&["size-u8", "size-20", "size-32", "size-64"]);
    // 56 to a line, 2 to a line (20 bytes, 4-byte aligned), one per stamp.
    spsc_round_trip("size-u8", |i| i as u8);
    spsc_round_trip("size-20", |i| [i as u32; 5]);
    spsc_round_trip("size-32", |i| [i; 4]);
    spsc_round_trip("size-64", |i| [i; 8]);
}

/// Whether `attempt` reports a corrupt queue within a `try_` caller's
/// bounded number of misses (a miss looks for impossible positions every
/// 64th time, and at an impossible stamp at once).
fn reports_corruption<T>(mut attempt: impl FnMut() -> Result<T, shmipc::Error>) -> bool {
    (0..130).any(|_| matches!(attempt(), Err(Error::Corrupt { .. })))
}

#[test]
fn garbage_positions_are_refused_not_followed() {
    let _cleanup = Cleanup::new(&["garbage-spsc", "garbage-mpmc"]);
    let path = |l: &str| format!("/dev/shm/{}{}", shmipc::OS_PREFIX, name(l));
    let poke = |l: &str, offset: u64, value: u64| {
        use std::os::unix::fs::FileExt;
        let f = std::fs::OpenOptions::new()
            .write(true)
            .open(path(l))
            .unwrap();
        f.write_all_at(&value.to_ne_bytes(), offset).unwrap();
    };
    // Layout: header and type name 128, control 512, positions at 640
    // (tail) and 768 (head), each in a 128-byte block.
    let (tail, head) = (640, 768);
    let spsc = Queue::<u64>::create_spsc(&name("garbage-spsc"), 8).unwrap();
    spsc.put(1).unwrap();
    poke("garbage-spsc", tail, 1 << 40);
    let fresh = Queue::<u64>::open(&name("garbage-spsc")).unwrap();
    // The consumer reads slot stamps, not the producer's position: the one real
    // item still comes out, and the garbage is reported once gets fail.
    assert_eq!(fresh.try_get().unwrap(), 1);
    assert!(reports_corruption(|| fresh.try_get().map_err(Error::from)));
    assert!(matches!(
        fresh.get_timeout(LONG),
        Err(GetError::Failed(Error::Corrupt { .. }))
    ));
    // A head no run of the protocol reaches: its slot's stamp gives it away,
    // at the first get.
    // (A head moved by whole laps would find old items' stamps and re-read
    // them: plain data from inside the ring, which is all a peer that can
    // write the segment could hand over anyway.)
    poke("garbage-spsc", head, (1 << 50) + 3);
    assert!(matches!(
        fresh.try_get(),
        Err(GetError::Failed(Error::Corrupt { .. }))
    ));
    // One stamp covers a line of seven u64s: a head at the start of a line
    // the producer never reached is found out by that line's stamp too.
    poke("garbage-spsc", head, 63);
    assert!(matches!(
        fresh.try_get(),
        Err(GetError::Failed(Error::Corrupt { .. }))
    ));
    poke("garbage-spsc", tail, 62);
    assert!(reports_corruption(|| spsc.try_put(2).map_err(Error::from)));
    drop((spsc, fresh));

    let mpmc = Queue::<u64>::create(&name("garbage-mpmc"), 8).unwrap();
    mpmc.put(1).unwrap();
    poke("garbage-mpmc", tail, 1 << 40);
    poke("garbage-mpmc", head, 7);
    assert!(reports_corruption(|| mpmc.try_put(2).map_err(Error::from)));
    assert!(matches!(
        mpmc.put_timeout(2, LONG),
        Err(PutError::Failed {
            error: Error::Corrupt { .. },
            ..
        })
    ));
    // An MPMC stamp keeps a slot's lap in 32 bits, so a tail moved by a
    // multiple of 2^32 laps (here 2^40 positions of 8 slots) is told apart
    // only by `check`, after the puts it let through filled the ring: a
    // get may hand out one of those (an item a producer put, whole), or
    // report the ring, or find it empty.
    for _ in 0..3 {
        assert!(matches!(
            mpmc.try_get(),
            Ok(2) | Err(GetError::Failed(Error::Corrupt { .. })) | Err(GetError::Empty { .. })
        ));
    }
}

/// The task count comes from the ring's own positions: every way of putting
/// counts, a refused put does not, and `task_done` may run ahead of `get`
/// (as in Python) but never past the puts.
#[test]
fn joinable_queue_counts_every_put_and_refuses_a_task_done_past_them() {
    for (mode, what) in [
        (QueueMode::Spsc, "count-spsc"),
        (QueueMode::Mpmc, "count-mpmc"),
    ] {
        let _cleanup = Cleanup::new(&[what]);
        let q =
            JoinableQueue::<u32>::create_with(&name(what), 8, mode, &Options::default()).unwrap();
        q.put(1).unwrap();
        q.try_put(2).unwrap();
        assert_eq!(q.try_put_slice(&[3, 4, 5]).unwrap(), 3);
        assert_eq!(q.unfinished(), 5);
        assert!(q.join_timeout(Duration::from_millis(1)).is_err());
        q.task_done().unwrap(); // before any get: allowed, as in Python
        assert_eq!(q.unfinished(), 4);
        let mut got = [0u32; 5];
        assert_eq!(q.try_get_slice(&mut got).unwrap(), 5);
        for _ in 0..4 {
            q.task_done().unwrap();
        }
        assert_eq!(q.unfinished(), 0);
        assert!(q.join_timeout(Duration::ZERO).is_ok());
        assert!(matches!(q.task_done(), Err(Error::InvalidArgument { .. })));
        assert_eq!(q.unfinished(), 0, "a refused task_done changed the count");
        q.put(6).unwrap();
        assert_eq!(q.unfinished(), 1);
        q.close();
        assert!(matches!(q.put(7), Err(PutError::Closed { .. })));
        assert_eq!(q.unfinished(), 1, "a refused put was counted");
        assert_eq!(q.get().unwrap(), 6);
        q.task_done().unwrap();
        assert!(q.join_timeout(Duration::ZERO).is_ok());
    }
}

/// An SPSC joinable queue between two processes: the consumer can take an
/// item before the producer has stored its tail, and `task_done` on it must
/// still be accepted; `join` returns once the last is done.
#[test]
fn joinable_spsc_queue_across_processes_joins_after_the_last_task_done() {
    const ITEMS: u64 = 200_000;
    if role().as_deref() == Some("producer") {
        let q = JoinableQueue::<u64>::open(&name("jspsc")).unwrap();
        for i in 0..ITEMS {
            q.put(i).unwrap();
        }
        q.join_timeout(LONG).expect("join in the producer");
        return;
    }
    let _cleanup = Cleanup::new(&["jspsc"]);
    let q =
        JoinableQueue::<u64>::create_with(&name("jspsc"), 64, QueueMode::Spsc, &Options::default())
            .unwrap();
    let producer = spawn(
        "joinable_spsc_queue_across_processes_joins_after_the_last_task_done",
        "producer",
        &[],
    );
    for i in 0..ITEMS {
        assert_eq!(q.get().unwrap(), i);
        q.task_done().unwrap();
    }
    producer.assert_success();
    assert_eq!(q.unfinished(), 0);
    assert!(matches!(q.task_done(), Err(Error::InvalidArgument { .. })));
}

#[test]
fn joinable_queue_join_waits_for_every_task_done_across_processes() {
    if role().as_deref() == Some("worker") {
        let q = JoinableQueue::<u32>::open(&name("jobs")).unwrap();
        let done = RawValue::<u32>::open(&name("jobs-done")).unwrap();
        while let Ok(_job) = q.get() {
            done.fetch_add(1);
            q.task_done().unwrap();
        }
        return;
    }
    let _cleanup = Cleanup::new(&["jobs", "jobs-done"]);
    let q = JoinableQueue::<u32>::create(&name("jobs"), 64).unwrap();
    let done = RawValue::create(&name("jobs-done"), 0u32).unwrap();
    let workers: Vec<_> = (0..2)
        .map(|_| {
            spawn(
                "joinable_queue_join_waits_for_every_task_done_across_processes",
                "worker",
                &[],
            )
        })
        .collect();
    for job in 0..500 {
        q.put(job).unwrap();
    }
    q.join_timeout(LONG).unwrap();
    assert_eq!(done.load(), 500, "join returned before every task was done");
    assert_eq!(q.unfinished(), 0);
    q.close();
    for w in workers {
        w.assert_success();
    }
    assert!(matches!(q.task_done(), Err(Error::InvalidArgument { .. })));
    assert!(matches!(
        JoinableQueue::<u64>::open(&name("jobs")),
        Err(Error::TypeMismatch { .. })
    ));
    let _c = Cleanup::new(&["plain"]);
    let _plain = Queue::<u32>::create(&name("plain"), 8).unwrap();
    assert!(matches!(
        JoinableQueue::<u32>::open(&name("plain")),
        Err(Error::InvalidArgument { .. })
    ));
}

#[test]
fn every_wait_strategy_delivers() {
    let _cleanup = Cleanup::new(&["strategies"]);
    let q = Queue::<u64>::create(&name("strategies"), 4).unwrap();
    for strategy in [
        WaitStrategy::Spin,
        WaitStrategy::Park,
        WaitStrategy::SpinThenPark,
    ] {
        let consumer = Queue::<u64>::open(&name("strategies"))
            .unwrap()
            .with_wait(strategy);
        std::thread::scope(|s| {
            s.spawn(|| {
                for v in 0..1000 {
                    q.put(v).unwrap();
                }
            });
            for v in 0..1000 {
                assert_eq!(consumer.get_timeout(LONG).unwrap(), v);
            }
        });
    }
    assert!(matches!(
        Queue::<u64>::create(&name("bad-cap"), 0),
        Err(Error::InvalidArgument { .. })
    ));
}

#[test]
fn join_reports_a_consumer_that_died_holding_tasks_instead_of_hanging() {
    if role().as_deref() == Some("dies-holding") {
        let q = JoinableQueue::<u64>::open(&name("dies-holding")).unwrap();
        q.get_timeout(LONG).unwrap();
        q.get_timeout(LONG).unwrap();
        q.task_done().unwrap();
        // SAFETY: kills this very process, holding one task not marked done.
        unsafe { libc::kill(libc::getpid(), libc::SIGKILL) };
        return;
    }
    let _cleanup = Cleanup::new(&["dies-holding"]);
    let q = JoinableQueue::<u64>::create(&name("dies-holding"), 8).unwrap();
    q.put_slice(&[1, 2, 3]).unwrap();
    let kid = spawn(
        "join_reports_a_consumer_that_died_holding_tasks_instead_of_hanging",
        "dies-holding",
        &[],
    );
    let kid_pid = kid.pid();
    assert!(!kid.wait().success());
    // This process does the third task itself.
    q.get().unwrap();
    q.task_done().unwrap();
    let started = Instant::now();
    match q.join() {
        Err(shmipc::JoinError::ConsumerDied { pid, tasks, .. }) => {
            assert_eq!((pid, tasks), (kid_pid, 1));
        }
        other => panic!("expected ConsumerDied, got {other:?}"),
    }
    // Within the liveness poll's bound, with generous slack.
    assert!(started.elapsed() < Duration::from_secs(10));
    // The dead consumer's task was written off: the next join returns.
    q.join_timeout(LONG).unwrap();
    assert_eq!(q.unfinished(), 0);
}

/// A producer that died between claiming a slot and publishing it, made by
/// hand: its claim written into the next slot's stamp (lap 0, claimed, by a
/// reaped child's pid) and the tail moved past it, as a SIGKILL at that
/// instruction leaves them (`tests/crash.rs` kills producers for real).
#[test]
fn a_dead_producers_claim_is_passed_over_and_counted_as_a_task_done() {
    use shmipc_core::layout::{QueueLayout, QueueMode as LayoutMode};
    for (wait, label, polling) in [
        (WaitStrategy::SpinThenPark, "dead-claim", false),
        (WaitStrategy::Park, "dead-claim-park", false),
        (WaitStrategy::Spin, "dead-claim-spin", false),
        (WaitStrategy::SpinThenPark, "dead-claim-try", true),
    ] {
        let _cleanup = Cleanup::new(&[label]);
        let q = JoinableQueue::<u64>::create(&name(label), 8)
            .unwrap()
            .with_wait(wait);
        q.put(1).unwrap();
        let layout = QueueLayout::new(
            shmipc_core::fingerprint::Fingerprint::of::<u64>(),
            8,
            LayoutMode::Mpmc,
        )
        .unwrap();
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let dead_pid = u64::from(child.id());
        child.wait().unwrap();
        let path = format!("/dev/shm/{}{}", shmipc::OS_PREFIX, name(label));
        let file = std::fs::OpenOptions::new().write(true).open(path).unwrap();
        let poke = |offset: usize, value: u64| {
            use std::os::unix::fs::FileExt;
            file.write_all_at(&value.to_ne_bytes(), offset as u64)
                .unwrap();
        };
        // Slot 1's stamp: lap 0, claimed (1), by the dead pid; the tail at 2.
        poke(layout.slots_offset + layout.slot_size, dead_pid << 2 | 1);
        poke(layout.indices_offset, 2);
        q.put(2).unwrap();
        assert_eq!(q.get().unwrap(), 1);
        // The get waits at the claim, finds its producer dead, passes it;
        // or a caller polling with `try_get` does, among its misses.
        let started = Instant::now();
        let got = if polling {
            loop {
                match q.try_get() {
                    Ok(v) => break v,
                    Err(GetError::Empty { .. }) if started.elapsed() < LONG => {}
                    Err(e) => panic!("{label}: {e}"),
                }
            }
        } else {
            q.get_timeout(LONG).unwrap()
        };
        assert_eq!(got, 2);
        let waited = started.elapsed();
        eprintln!("{label}: the dead claim was passed over after {waited:?}");
        assert!(waited < Duration::from_secs(2), "{label}: {waited:?}");
        assert_eq!(q.dead_puts_passed_over(), 1);
        // Three positions were put, one of them never will be done.
        q.task_done().unwrap();
        q.task_done().unwrap();
        q.join_timeout(LONG).unwrap();
        assert_eq!(q.unfinished(), 0);
        // The slot is reused on the next laps.
        for v in 10..30 {
            q.put(v).unwrap();
            assert_eq!(q.get().unwrap(), v);
            q.task_done().unwrap();
        }
        // A dead claim at the head of an empty queue, with no consumer
        // about (they would be parked, and a dead producer wakes nobody):
        // `join` passes it over itself.
        let head: u64 = 23; // 3 positions, then 20 items, all taken
        assert_eq!(q.len(), 0);
        let slot = head as usize % 8;
        poke(
            layout.slots_offset + slot * layout.slot_size,
            (head / 8) << 32 | dead_pid << 2 | 1,
        );
        poke(layout.indices_offset, head + 1);
        assert_eq!(q.unfinished(), 1);
        q.join_timeout(LONG).unwrap();
        assert_eq!(q.dead_puts_passed_over(), 2);
        // Behind a dead claim on a closed queue, items still come out: the
        // queue is not drained until the claim is passed over.
        let head = head + 1;
        poke(
            layout.slots_offset + head as usize % 8 * layout.slot_size,
            (head / 8) << 32 | dead_pid << 2 | 1,
        );
        poke(layout.indices_offset, head + 1);
        q.put(99).unwrap();
        q.close();
        let drained = |q: &JoinableQueue<u64>| loop {
            match if polling {
                q.try_get()
            } else {
                q.get_timeout(LONG)
            } {
                Err(GetError::Empty { .. }) => {}
                other => break other,
            }
        };
        assert_eq!(drained(&q).unwrap(), 99);
        assert!(matches!(drained(&q), Err(GetError::Closed { .. })));
        assert_eq!(q.dead_puts_passed_over(), 3);
    }
}
