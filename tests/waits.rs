//! Waits across processes: a parked waiter takes no wake-up nobody asked
//! for, and waits without any timeout never lose a wake-up.

mod common;

use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::{name, role, spawn, Cleanup, Proc};
use shmipc::{
    Barrier, Condition, Event, JoinableQueue, Lock, Queue, RLock, RawValue, Semaphore, WaitStrategy,
};

const LONG: Duration = Duration::from_secs(60);
/// How long the idle waiters are watched.
const IDLE: Duration = Duration::from_secs(2);

/// Every kind of blocking wait, each in a child process of its own.
const IDLE_WAITS: [&str; 10] = [
    "queue-get",
    "spsc-get",
    "queue-put",
    "join",
    "event",
    "semaphore",
    "condition",
    "lock",
    "rlock",
    "barrier",
];

fn idle_name(what: &str) -> String {
    name(&format!("idle-{what}"))
}

/// This thread's kernel id.
fn gettid() -> u32 {
    // SAFETY: gettid has no preconditions.
    (unsafe { libc::syscall(libc::SYS_gettid) }) as u32
}

/// A thread's state letter and voluntary context switches, from /proc.
fn thread_facts(pid: u32, tid: u32) -> (char, u64) {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/task/{tid}/stat")).unwrap();
    let state = stat[stat.rfind(')').unwrap() + 2..].chars().next().unwrap();
    let status = std::fs::read_to_string(format!("/proc/{pid}/task/{tid}/status")).unwrap();
    let switches = status
        .lines()
        .find_map(|l| l.strip_prefix("voluntary_ctxt_switches:"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    (state, switches)
}

/// The child's side: tell the parent which thread waits, then wait.
fn idle_waiter(what: &str) {
    let n = idle_name(what);
    let ready = || common::tell_parent(&format!("tid {}", gettid()));
    match what {
        "queue-get" => {
            let q = Queue::<u64>::open(&n).unwrap();
            ready();
            assert_eq!(q.get().unwrap(), 1);
        }
        "spsc-get" => {
            let rx = Queue::<u64>::open(&n).unwrap().consumer().unwrap();
            ready();
            assert_eq!(rx.get().unwrap(), 1);
        }
        "queue-put" => {
            let q = Queue::<u64>::open(&n).unwrap();
            ready();
            q.put(2).unwrap();
        }
        "join" => {
            let q = JoinableQueue::<u64>::open(&n).unwrap();
            ready();
            q.join().unwrap();
        }
        "event" => {
            let e = Event::open(&n).unwrap();
            ready();
            e.wait();
        }
        "semaphore" => {
            let s = Semaphore::open(&n).unwrap();
            ready();
            s.acquire();
        }
        "condition" => {
            let c = Condition::<Lock>::open(&n).unwrap();
            let guard = c.get_lock().acquire().unwrap();
            ready();
            drop(c.wait(guard).unwrap());
        }
        "lock" => {
            let l = Lock::open(&n).unwrap();
            ready();
            drop(l.acquire().unwrap());
        }
        "rlock" => {
            let l = RLock::open(&n).unwrap();
            ready();
            drop(l.acquire().unwrap());
        }
        "barrier" => {
            let b = Barrier::open(&n).unwrap();
            ready();
            b.wait().unwrap();
        }
        other => panic!("unknown wait {other}"),
    }
    common::tell_parent("released");
}

/// What the parent holds to keep each waiter waiting, and how it lets go.
enum Holder {
    Queue(Queue<u64>),
    Joinable(JoinableQueue<u64>),
    Event(Event),
    Semaphore(Semaphore),
    Condition(Condition<Lock>),
    Lock(Lock),
    RLock(RLock),
    Barrier(Barrier),
}

fn hold(what: &str) -> Holder {
    let n = idle_name(what);
    match what {
        "queue-get" => Holder::Queue(Queue::create(&n, 4).unwrap()),
        "spsc-get" => Holder::Queue(Queue::create_spsc(&n, 4).unwrap()),
        "queue-put" => {
            let q = Queue::create(&n, 1).unwrap();
            q.put(1).unwrap();
            Holder::Queue(q)
        }
        "join" => {
            let q = JoinableQueue::create(&n, 4).unwrap();
            q.put(1).unwrap();
            Holder::Joinable(q)
        }
        "event" => Holder::Event(Event::create(&n).unwrap()),
        "semaphore" => Holder::Semaphore(Semaphore::create(&n, 0).unwrap()),
        "condition" => Holder::Condition(Condition::create(&n).unwrap()),
        "lock" => Holder::Lock(Lock::create(&n).unwrap()),
        "rlock" => Holder::RLock(RLock::create(&n).unwrap()),
        "barrier" => Holder::Barrier(Barrier::create(&n, 2).unwrap()),
        other => panic!("unknown wait {other}"),
    }
}

/// Whether a parked waiter of this kind may wake to look at a holder's
/// liveness (with a back-off), and so take a few wake-ups while idle.
fn polls(what: &str) -> bool {
    matches!(what, "lock" | "rlock" | "barrier" | "join")
}

#[test]
fn an_idle_waiter_takes_no_wake_up_nobody_asked_for() {
    let test = "an_idle_waiter_takes_no_wake_up_nobody_asked_for";
    if let Some(what) = role() {
        return idle_waiter(&what);
    }
    let labels: Vec<String> = IDLE_WAITS.iter().map(|w| format!("idle-{w}")).collect();
    let _cleanup = Cleanup::new(&labels.iter().map(String::as_str).collect::<Vec<_>>());
    let holders: Vec<Holder> = IDLE_WAITS.iter().map(|w| hold(w)).collect();
    // The lock-like ones are held here while the children wait for them.
    let lock_guard = match &holders[7] {
        Holder::Lock(l) => l.acquire().unwrap(),
        _ => unreachable!(),
    };
    let rlock_guard = match &holders[8] {
        Holder::RLock(l) => l.acquire().unwrap(),
        _ => unreachable!(),
    };
    let mut kids: Vec<(Proc, u32)> = IDLE_WAITS
        .iter()
        .map(|what| {
            let mut kid = spawn(test, what, &[]);
            let tid = kid.expect_line("tid").parse().unwrap();
            (kid, tid)
        })
        .collect();
    // Every waiter asleep (spinning is over) before the count starts.
    let deadline = Instant::now() + LONG;
    for (kid, tid) in &kids {
        while thread_facts(kid.pid(), *tid).0 != 'S' {
            assert!(Instant::now() < deadline, "a waiter never went to sleep");
            std::thread::yield_now();
        }
    }
    let before: Vec<u64> = kids
        .iter()
        .map(|(k, t)| thread_facts(k.pid(), *t).1)
        .collect();
    // The window being measured, not a synchronisation.
    std::thread::sleep(IDLE);
    let woke: Vec<u64> = kids
        .iter()
        .zip(&before)
        .map(|((k, t), b)| thread_facts(k.pid(), *t).1 - b)
        .collect();
    // Let every waiter go, and check it was still waiting.
    drop((lock_guard, rlock_guard));
    for holder in &holders {
        match holder {
            Holder::Queue(q) if q.is_full() => drop(q.get().unwrap()),
            Holder::Queue(q) => q.put(1).unwrap(),
            Holder::Joinable(q) => {
                q.get().unwrap();
                q.task_done().unwrap();
            }
            Holder::Event(e) => e.set(),
            Holder::Semaphore(s) => s.release().unwrap(),
            Holder::Condition(c) => {
                let guard = c.get_lock().acquire().unwrap();
                assert_eq!(c.notify(&guard, 1).unwrap(), 1);
            }
            Holder::Lock(_) | Holder::RLock(_) => {}
            Holder::Barrier(b) => drop(b.wait_timeout(LONG).unwrap()),
        }
    }
    for (kid, _) in &mut kids {
        kid.expect_line("released");
    }
    for (kid, _) in kids {
        kid.assert_success();
    }
    eprintln!(
        "idle wake-ups in {IDLE:?}: {:?}",
        IDLE_WAITS.iter().zip(&woke).collect::<Vec<_>>()
    );
    for (what, woke) in IDLE_WAITS.iter().zip(woke) {
        // A liveness poll backs off to 40 ms: at most ~55 looks in 2 s.
        let allowed = if polls(what) { 60 } else { 2 };
        assert!(
            woke <= allowed,
            "an idle {what} waiter woke {woke} times in {IDLE:?} (allowed {allowed})"
        );
    }
}

/// Rounds of each ping-pong below.
const ROUNDS: u64 = 3000;

/// Both sides of every ping-pong, with waits that have no timeout, parking
/// at once: a lost wake-up hangs this process, and the parent's watchdog
/// reports it.
fn ping_pong(side: u64) {
    let n = |what: &str| name(&format!("stress-{what}"));
    let (me, other) = (side, 1 - side);
    // Queues, MPMC: each side gets from its own and puts into the other's.
    let qs = [
        Queue::<u64>::open(&n("q0"))
            .unwrap()
            .with_wait(WaitStrategy::Park),
        Queue::<u64>::open(&n("q1"))
            .unwrap()
            .with_wait(WaitStrategy::Park),
    ];
    // SPSC: the same through endpoints.
    let spsc = [
        Queue::<u64>::open(&n("s0"))
            .unwrap()
            .with_wait(WaitStrategy::Park),
        Queue::<u64>::open(&n("s1"))
            .unwrap()
            .with_wait(WaitStrategy::Park),
    ];
    let (rx, tx) = (
        spsc[me as usize].consumer_timeout(LONG).unwrap(),
        spsc[other as usize].producer_timeout(LONG).unwrap(),
    );
    let sems = [
        Semaphore::open(&n("m0")).unwrap(),
        Semaphore::open(&n("m1")).unwrap(),
    ];
    let events = [
        Event::open(&n("e0")).unwrap(),
        Event::open(&n("e1")).unwrap(),
    ];
    let cond = Condition::<Lock>::open(&n("cond")).unwrap();
    let turn = RawValue::<u64>::open(&n("turn")).unwrap();
    let barrier = Barrier::open(&n("barrier")).unwrap();
    let total = RawValue::<u64>::open(&n("total")).unwrap();
    let lock = Lock::open(&n("lock")).unwrap();
    for round in 0..ROUNDS {
        if side == 0 {
            qs[1].put(round).unwrap();
            assert_eq!(qs[0].get().unwrap(), round);
            tx.put(round).unwrap();
            assert_eq!(rx.get().unwrap(), round);
        } else {
            let v = qs[1].get().unwrap();
            qs[0].put(v).unwrap();
            let v = rx.get().unwrap();
            tx.put(v).unwrap();
        }
        // Semaphores and events: strictly alternating turns.
        if side == 0 {
            sems[1].release().unwrap();
            sems[0].acquire();
            events[1].set();
            events[0].wait();
            events[0].clear();
        } else {
            sems[1].acquire();
            sems[0].release().unwrap();
            events[1].wait();
            events[1].clear();
            events[0].set();
        }
        // A condition: the turn passes back and forth under its lock.
        let guard = cond.get_lock().acquire().unwrap();
        let guard = cond.wait_while(guard, |_| turn.load() % 2 != me).unwrap();
        turn.fetch_add(1);
        cond.notify_all(&guard).unwrap();
        drop(guard);
        barrier.wait().unwrap();
        drop(lock.acquire().unwrap());
        total.fetch_add(1);
    }
}

#[test]
fn waits_without_timeouts_never_lose_a_wake_up() {
    let test = "waits_without_timeouts_never_lose_a_wake_up";
    if let Some(side) = role() {
        return ping_pong(side.parse().unwrap());
    }
    let labels = [
        "stress-q0",
        "stress-q1",
        "stress-s0",
        "stress-s1",
        "stress-m0",
        "stress-m1",
        "stress-e0",
        "stress-e1",
        "stress-cond",
        "stress-turn",
        "stress-barrier",
        "stress-total",
        "stress-lock",
    ];
    let _cleanup = Cleanup::new(&labels);
    let n = |what: &str| name(&format!("stress-{what}"));
    let _q = [
        Queue::<u64>::create(&n("q0"), 4).unwrap(),
        Queue::create(&n("q1"), 4).unwrap(),
    ];
    let _s = [
        Queue::<u64>::create_spsc(&n("s0"), 4).unwrap(),
        Queue::create_spsc(&n("s1"), 4).unwrap(),
    ];
    let _m = [
        Semaphore::create(&n("m0"), 0).unwrap(),
        Semaphore::create(&n("m1"), 0).unwrap(),
    ];
    let _e = [
        Event::create(&n("e0")).unwrap(),
        Event::create(&n("e1")).unwrap(),
    ];
    let _c = Condition::<Lock>::create(&n("cond")).unwrap();
    let _t = RawValue::create(&n("turn"), 0u64).unwrap();
    let _b = Barrier::create(&n("barrier"), 2).unwrap();
    let total = RawValue::create(&n("total"), 0u64).unwrap();
    let _l = Lock::create(&n("lock")).unwrap();
    let kids = [spawn(test, "0", &[]), spawn(test, "1", &[])];
    let pids: Vec<u32> = kids.iter().map(Proc::pid).collect();
    let (done_tx, done_rx) = mpsc::channel();
    for kid in kids {
        let done_tx = done_tx.clone();
        std::thread::spawn(move || done_tx.send(kid.wait().success()));
    }
    // A watchdog, not a synchronisation: generous enough for a loaded box.
    let limit = Duration::from_secs(240);
    let deadline = Instant::now() + limit;
    for _ in 0..2 {
        let left = deadline.saturating_duration_since(Instant::now());
        match done_rx.recv_timeout(left) {
            Ok(ok) => assert!(ok, "a ping-pong side failed"),
            Err(_) => {
                for pid in &pids {
                    // SAFETY: signals our own children, by pid.
                    unsafe { libc::kill(*pid as i32, libc::SIGKILL) };
                }
                panic!(
                    "hung after {} of {} rounds: a wake-up was lost",
                    total.load() / 2,
                    ROUNDS
                );
            }
        }
    }
    assert_eq!(total.load(), 2 * ROUNDS);
}
