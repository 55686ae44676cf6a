//! Ping-pong round trips between two processes, each measured in short
//! blocks that alternate with the cache-line floors in the same two
//! processes, so that every ratio compares runs made under the same
//! placement of the two processes on the machine's cores.
//!
//! On a shared virtual machine that placement moves: in one criterion run of
//! `--bench queue` a floor or a queue sometimes ran at a third of its usual
//! cost (the two processes on one physical core for a while), and a ratio of
//! two criterion medians taken minutes apart then says more about the host
//! than about the code. Here each block runs [`ROUNDS`] round trips of each
//! kind back to back (the order rotating from block to block), and the
//! figures are medians, over blocks, of the ratio within a block.
//!
//! `cargo bench --bench paired` (about ten seconds).

use std::process::Command;
use std::time::Instant;

use shmipc::{Queue, RawValue};

const CHILD_ENV: &str = "SHMIPC_PAIRED_BENCH_CHILD";
const BLOCKS: usize = 200;
const ROUNDS: u64 = 20_000;

/// The kinds of round trip, in the order of a block's first rotation.
const KINDS: [&str; 4] = [
    "one cache line bounced (floor)",
    "two cache lines, one per direction (two-queue floor)",
    "Queue<u64> SPSC ping-pong",
    "Queue<u64> MPMC ping-pong",
];

/// Everything both processes share, by name.
struct Shared {
    line: RawValue<u64>,
    there: RawValue<u64>,
    back: RawValue<u64>,
    spsc: (Queue<u64>, Queue<u64>),
    mpmc: (Queue<u64>, Queue<u64>),
}

fn name(scope: u32, what: &str) -> String {
    format!("bench-{scope}-paired-{what}")
}

impl Shared {
    fn create(scope: u32) -> Shared {
        let n = |what| name(scope, what);
        Shared {
            line: RawValue::create(&n("line"), 0).unwrap(),
            there: RawValue::create(&n("there"), 0).unwrap(),
            back: RawValue::create(&n("back"), 0).unwrap(),
            spsc: (
                Queue::create_spsc(&n("spsc-there"), 4096).unwrap(),
                Queue::create_spsc(&n("spsc-back"), 4096).unwrap(),
            ),
            mpmc: (
                Queue::create(&n("mpmc-there"), 4096).unwrap(),
                Queue::create(&n("mpmc-back"), 4096).unwrap(),
            ),
        }
    }

    fn open(scope: u32) -> Shared {
        let n = |what| name(scope, what);
        Shared {
            line: RawValue::open(&n("line")).unwrap(),
            there: RawValue::open(&n("there")).unwrap(),
            back: RawValue::open(&n("back")).unwrap(),
            spsc: (
                Queue::open(&n("spsc-there")).unwrap(),
                Queue::open(&n("spsc-back")).unwrap(),
            ),
            mpmc: (
                Queue::open(&n("mpmc-there")).unwrap(),
                Queue::open(&n("mpmc-back")).unwrap(),
            ),
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
}

fn spin_until(mut done: impl FnMut() -> bool) {
    while !done() {
        std::hint::spin_loop();
    }
}

/// The parent's side of `ROUNDS` round trips of `kind`.
fn ask(s: &Shared, c: &mut Counters, kind: usize) {
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
}

/// The child's side of `ROUNDS` round trips of `kind`.
fn answer(s: &Shared, c: &mut Counters, kind: usize) {
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
                let v = s.spsc.0.get().unwrap();
                s.spsc.1.put(v).unwrap();
            }
            _ => {
                let v = s.mpmc.0.get().unwrap();
                s.mpmc.1.put(v).unwrap();
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

    // Per block, ns per round trip of each kind.
    let mut ns = vec![[0.0f64; 4]; BLOCKS];
    let mut c = Counters::default();
    for (block, row) in ns.iter_mut().enumerate() {
        for kind in order(block) {
            let started = Instant::now();
            ask(&s, &mut c, kind);
            row[kind] = started.elapsed().as_secs_f64() * 1e9 / ROUNDS as f64;
        }
    }
    assert!(peer.wait().unwrap().success(), "paired bench child failed");

    // The first blocks warm up: leave a tenth out.
    let kept = &ns[BLOCKS / 10..];
    let stats = |f: &dyn Fn(&[f64; 4]) -> f64| median_quartiles(kept.iter().map(f).collect());
    println!(
        "paired round trips between two processes, {} blocks of {ROUNDS} each (median, quartiles):",
        kept.len()
    );
    for (kind, label) in KINDS.iter().enumerate() {
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
}
