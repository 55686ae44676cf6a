//! Ping-pong round trips between two processes, each measured in short
//! blocks that alternate with the cache-line floors in the same two
//! processes, so that every ratio compares runs made under the same
//! placement of the two processes on the machine's cores; and, in the same
//! blocks, a one-way stream of `u64`s through an SPSC `Queue` between the
//! two processes against rtrb between two threads of this one.
//!
//! On a shared virtual machine that placement moves: in one criterion run of
//! `--bench queue` a floor or a queue sometimes ran at a third of its usual
//! cost (the two processes on one physical core for a while), and a ratio of
//! two criterion medians taken minutes apart then says more about the host
//! than about the code. Here each block runs [`ROUNDS`] round trips of each
//! kind back to back (the order rotating from block to block), and the
//! figures are medians, over blocks, of the ratio within a block.
//!
//! The ratios are also given split by the block's single-line round trip:
//! the host sometimes runs the two vCPUs on one physical core (one line
//! then costs ~50-70 ns on the Xeon of BASELINES.md instead of 130-230).
//! There lines move between the two sides almost for free (two lines cost
//! what one does), and the per-call instructions decide a stream; on
//! separate cores the line transfers do.
//!
//! `cargo bench -p shmipc-benches --bench paired` (about ten seconds).

use std::process::Command;
use std::time::Instant;

use shmipc::{Consumer, Producer, Queue, RawValue};

const CHILD_ENV: &str = "SHMIPC_PAIRED_BENCH_CHILD";
const BLOCKS: usize = 200;
const ROUNDS: u64 = 20_000;
/// Items per block of each one-way stream.
const STREAM: u64 = 1_000_000;
/// Capacity of every queue and ring here.
const CAPACITY: u64 = 4096;
/// A block whose single line costs less than this ran on one physical core.
const ONE_CORE_NS: f64 = 100.0;

/// What a block times, in the order of its first rotation: four round
/// trips, then two one-way streams.
const KINDS: [&str; 6] = [
    "one cache line bounced (floor)",
    "two cache lines, one per direction (two-queue floor)",
    "Queue<u64> SPSC ping-pong",
    "Queue<u64> MPMC ping-pong",
    "Queue<u64> SPSC one-way, per item (two processes)",
    "rtrb one-way, per item (two threads of one process)",
];
const SPSC_ONE_WAY: usize = 4;
const RTRB_ONE_WAY: usize = 5;

/// Everything both processes share, by name, through the ends this side
/// uses.
struct Shared {
    line: RawValue<u64>,
    there: RawValue<u64>,
    back: RawValue<u64>,
    /// This side's ends of the SPSC pair: it puts into one queue and gets
    /// from the other (the parent puts "there", the child "back").
    spsc: (Producer<u64>, Consumer<u64>),
    /// The same for the MPMC pair.
    mpmc: (Producer<u64>, Consumer<u64>),
    /// The one-way stream, child to parent: the child's end.
    stream_put: Option<Producer<u64>>,
    /// The parent's end.
    stream_get: Option<Consumer<u64>>,
    /// Parent to child: rtrb's block is over (the child parks meanwhile,
    /// leaving both cores to rtrb's two threads). The parent's end.
    gate_put: Option<Producer<u64>>,
    /// The child's end.
    gate_get: Option<Consumer<u64>>,
    /// Child to parent: back from the gate.
    ack: RawValue<u64>,
    /// The queues, which the parent's handles unlink when dropped.
    _queues: Vec<Queue<u64>>,
}

fn name(scope: u32, what: &str) -> String {
    format!("bench-{scope}-paired-{what}")
}

impl Shared {
    fn create(scope: u32) -> Shared {
        let n = |what| name(scope, what);
        let spsc = |what| Queue::create_spsc(&n(what), CAPACITY).unwrap();
        let mpmc = |what| Queue::create(&n(what), CAPACITY).unwrap();
        let queues = vec![
            spsc("spsc-there"),
            spsc("spsc-back"),
            mpmc("mpmc-there"),
            mpmc("mpmc-back"),
            spsc("stream"),
            Queue::create_spsc(&n("gate"), 1).unwrap(),
        ];
        Shared {
            line: RawValue::create(&n("line"), 0).unwrap(),
            there: RawValue::create(&n("there"), 0).unwrap(),
            back: RawValue::create(&n("back"), 0).unwrap(),
            spsc: (queues[0].producer().unwrap(), queues[1].consumer().unwrap()),
            mpmc: (queues[2].producer().unwrap(), queues[3].consumer().unwrap()),
            stream_put: None,
            stream_get: Some(queues[4].consumer().unwrap()),
            gate_put: Some(queues[5].producer().unwrap()),
            gate_get: None,
            ack: RawValue::create(&n("ack"), 0).unwrap(),
            _queues: queues,
        }
    }

    fn open(scope: u32) -> Shared {
        let n = |what| name(scope, what);
        let q = |what| Queue::<u64>::open(&n(what)).unwrap();
        Shared {
            line: RawValue::open(&n("line")).unwrap(),
            there: RawValue::open(&n("there")).unwrap(),
            back: RawValue::open(&n("back")).unwrap(),
            spsc: (
                q("spsc-back").producer().unwrap(),
                q("spsc-there").consumer().unwrap(),
            ),
            mpmc: (
                q("mpmc-back").producer().unwrap(),
                q("mpmc-there").consumer().unwrap(),
            ),
            stream_put: Some(q("stream").producer().unwrap()),
            stream_get: None,
            gate_put: None,
            gate_get: Some(q("gate").consumer().unwrap()),
            ack: RawValue::open(&n("ack")).unwrap(),
            _queues: Vec::new(),
        }
    }
}

/// Where each side is in every kind's sequence of round trips, carried
/// from block to block.
#[derive(Default)]
struct Counters {
    line: u64,
    lines: u64,
    spsc: u64,
    mpmc: u64,
    stream: u64,
    blocks: u64,
}

fn spin_until(mut done: impl FnMut() -> bool) {
    while !done() {
        std::hint::spin_loop();
    }
}

/// The parent's side of one block of `kind`: ns per round trip, or per
/// item of a one-way stream.
fn ask(s: &Shared, c: &mut Counters, kind: usize) -> f64 {
    match kind {
        SPSC_ONE_WAY => return take_stream(s, c),
        RTRB_ONE_WAY => {
            let ns = rtrb_stream();
            c.blocks += 1;
            s.gate_put.as_ref().unwrap().put(c.blocks).unwrap();
            spin_until(|| s.ack.load_atomic() == c.blocks);
            return ns;
        }
        _ => {}
    }
    let started = Instant::now();
    for _ in 0..ROUNDS {
        match kind {
            0 => {
                // Odd values go there, even ones come back.
                s.line.store(c.line + 1);
                spin_until(|| s.line.load_atomic() == c.line + 2);
                c.line += 2;
            }
            1 => {
                c.lines += 1;
                s.there.store(c.lines);
                spin_until(|| s.back.load_atomic() == c.lines);
            }
            2 => {
                s.spsc.0.put(c.spsc).unwrap();
                assert_eq!(s.spsc.1.get().unwrap(), c.spsc);
                c.spsc += 1;
            }
            _ => {
                s.mpmc.0.put(c.mpmc).unwrap();
                assert_eq!(s.mpmc.1.get().unwrap(), c.mpmc);
                c.mpmc += 1;
            }
        }
    }
    started.elapsed().as_secs_f64() * 1e9 / ROUNDS as f64
}

/// The parent's side of a block of the SPSC stream: ns per item, timed from
/// the first item's arrival. The items are used (`black_box`, and the last
/// one checked), as rtrb's must be: see [`rtrb_stream`].
fn take_stream(s: &Shared, c: &mut Counters) -> f64 {
    let stream = s.stream_get.as_ref().unwrap();
    assert_eq!(stream.get().unwrap(), c.stream);
    let started = Instant::now();
    let mut last = 0;
    for _ in 1..STREAM {
        last = std::hint::black_box(stream.get().unwrap());
    }
    let ns = started.elapsed().as_secs_f64() * 1e9 / (STREAM - 1) as f64;
    c.stream += STREAM;
    assert_eq!(last, c.stream - 1);
    ns
}

/// rtrb's one-way stream between a new thread and this one: ns per item,
/// timed as [`take_stream`] times the queue's, from the first item's
/// arrival (so the thread's start does not count). The consumer uses every
/// item: with the item discarded, `pop` compiles to no read of the slot at
/// all, and rtrb's consumer would never fetch a slot line.
fn rtrb_stream() -> f64 {
    let (mut tx, mut rx) = rtrb::RingBuffer::<u64>::new(CAPACITY as usize);
    let mut pop = move || loop {
        if let Ok(item) = rx.pop() {
            return item;
        }
        std::hint::spin_loop();
    };
    std::thread::scope(|scope| {
        scope.spawn(move || {
            for i in 0..STREAM {
                spin_until(|| tx.push(i).is_ok());
            }
        });
        assert_eq!(pop(), 0);
        let started = Instant::now();
        let mut last = 0;
        for _ in 1..STREAM {
            last = std::hint::black_box(pop());
        }
        let ns = started.elapsed().as_secs_f64() * 1e9 / (STREAM - 1) as f64;
        assert_eq!(last, STREAM - 1);
        ns
    })
}

/// The child's side of one block of `kind`.
fn answer(s: &Shared, c: &mut Counters, kind: usize) {
    match kind {
        SPSC_ONE_WAY => {
            let stream = s.stream_put.as_ref().unwrap();
            for i in 0..STREAM {
                stream.put(c.stream + i).unwrap();
            }
            c.stream += STREAM;
            return;
        }
        RTRB_ONE_WAY => {
            // Parks after a few microseconds of polling.
            let block = s.gate_get.as_ref().unwrap().get().unwrap();
            s.ack.store(block);
            return;
        }
        _ => {}
    }
    for _ in 0..ROUNDS {
        match kind {
            0 => {
                spin_until(|| s.line.load_atomic() == c.line + 1);
                s.line.store(c.line + 2);
                c.line += 2;
            }
            1 => {
                c.lines += 1;
                spin_until(|| s.there.load_atomic() == c.lines);
                s.back.store(c.lines);
            }
            2 => {
                let v = s.spsc.1.get().unwrap();
                s.spsc.0.put(v).unwrap();
            }
            _ => {
                let v = s.mpmc.1.get().unwrap();
                s.mpmc.0.put(v).unwrap();
            }
        }
    }
}

/// Block `block`'s order of kinds: the first rotation of [`KINDS`] moved on
/// by one each block, so that no kind always follows another.
fn order(block: usize) -> impl Iterator<Item = usize> {
    (0..KINDS.len()).map(move |i| (i + block) % KINDS.len())
}

fn child(spec: &str) {
    let scope: u32 = spec.parse().expect("scope");
    let s = Shared::open(scope);
    let mut c = Counters::default();
    s.back.store(u64::MAX); // ready
    spin_until(|| s.there.load_atomic() == 0);
    for block in 0..BLOCKS {
        for kind in order(block) {
            answer(&s, &mut c, kind);
        }
    }
}

/// The median and the quartiles of `values`, in that order.
fn median_quartiles(mut values: Vec<f64>) -> [f64; 3] {
    values.sort_by(f64::total_cmp);
    let at = |q: f64| values[((values.len() - 1) as f64 * q).round() as usize];
    [at(0.5), at(0.25), at(0.75)]
}

fn main() {
    if let Ok(spec) = std::env::var(CHILD_ENV) {
        return child(&spec);
    }
    // `cargo bench` passes `--bench`; a filter or `--list` asks for nothing here.
    if std::env::args().skip(1).any(|a| a == "--list") {
        return;
    }
    let scope = std::process::id();
    let s = Shared::create(scope);
    s.there.store(u64::MAX); // hold the child until it is ready
    let mut peer = Command::new(std::env::current_exe().unwrap())
        .env(CHILD_ENV, scope.to_string())
        .spawn()
        .unwrap();
    while s.back.load_atomic() != u64::MAX {
        std::thread::yield_now();
    }
    s.back.store(0);
    s.there.store(0);

    let mut ns: Vec<Row> = vec![[0.0; KINDS.len()]; BLOCKS];
    let mut c = Counters::default();
    for (block, row) in ns.iter_mut().enumerate() {
        for kind in order(block) {
            row[kind] = ask(&s, &mut c, kind);
        }
    }
    assert!(peer.wait().unwrap().success(), "paired bench child failed");

    // The first blocks warm up: leave a tenth out.
    let kept = &ns[BLOCKS / 10..];
    let stats = |f: &dyn Fn(&Row) -> f64| median_quartiles(kept.iter().map(f).collect());
    println!(
        "paired round trips between two processes, {} blocks of {ROUNDS} each (median, quartiles):",
        kept.len()
    );
    for (kind, label) in KINDS.iter().enumerate().take(SPSC_ONE_WAY) {
        let [median, low, high] = stats(&|r| r[kind]);
        print!("  {label:<54} {median:7.1} ns ({low:.1}-{high:.1})");
        if kind > 0 {
            let [median, low, high] = stats(&|r| r[kind] / r[0]);
            print!("  {median:.2}x one line ({low:.2}-{high:.2})");
        }
        if kind > 1 {
            let [median, ..] = stats(&|r| r[kind] / r[1]);
            print!("  {median:.2}x two lines");
        }
        println!();
    }
    for (kind, label) in [
        (1, "two lines"),
        (2, "SPSC ping-pong"),
        (3, "MPMC ping-pong"),
    ] {
        by_placement(kept, &format!("{label} over one line"), &|r| r[kind] / r[0]);
    }

    println!("one-way streams of {STREAM} u64s in the same blocks (median, quartiles):");
    for kind in [SPSC_ONE_WAY, RTRB_ONE_WAY] {
        let [median, low, high] = stats(&|r| r[kind]);
        println!("  {:<54} {median:7.2} ns ({low:.2}-{high:.2})", KINDS[kind]);
    }
    // The rate of the queue against rtrb's: rtrb's time per item over ours.
    by_placement(kept, "SPSC Queue's rate over rtrb's", &|r| {
        r[RTRB_ONE_WAY] / r[SPSC_ONE_WAY]
    });
}

/// Per block, ns per round trip (or item) of each kind.
type Row = [f64; KINDS.len()];

/// Prints the median and quartiles of `ratio` over `blocks`, then over
/// those on separate cores and those on one core, told apart by the
/// block's single-line round trip.
fn by_placement(blocks: &[Row], what: &str, ratio: &dyn Fn(&Row) -> f64) {
    let [median, low, high] = median_quartiles(blocks.iter().map(ratio).collect());
    print!("  {what}: {median:.2}x ({low:.2}-{high:.2}) in all blocks");
    for (which, on_one_core) in [("separate cores", false), ("one core", true)] {
        let some: Vec<f64> = blocks
            .iter()
            .filter(|r| (r[0] < ONE_CORE_NS) == on_one_core)
            .map(ratio)
            .collect();
        if some.is_empty() {
            print!("; none on {which}");
            continue;
        }
        let n = some.len();
        let [median, low, high] = median_quartiles(some);
        print!("; {median:.2}x ({low:.2}-{high:.2}) in {n} on {which}");
    }
    println!();
}
