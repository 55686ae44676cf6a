//! Messages between two processes against their baselines, measured in
//! blocks that alternate within one run (as `paired` does for the item
//! queues), so that every ratio compares figures taken under the same
//! placement of the two processes:
//!
//! - ping-pong of 8-byte messages through a `Connection` pair, against the
//!   two-line cache-line round trip (the floor of any two-way channel), an
//!   OS pipe pair and a Unix stream socket pair, and beside the item
//!   queue's ping-pong (`Queue<u64>`, SPSC) in the same placement;
//! - one-way 4 KiB messages through a `Connection`, against an OS pipe, a
//!   Unix stream socket, and 4 KiB `memcpy`s through slots of a shared
//!   segment (what any shared-memory channel can at best do here);
//! - ping-pong of a small serde struct through two `MessageQueue`s;
//! - one-way 64 MiB messages through loans (written and read in place),
//!   against `memcpy` of 64 MiB in this process.
//!
//! Python's `multiprocessing.Queue` ping-pong of the same struct (as a
//! dict) is run once at the end when `python3` is on the PATH.
//!
//! `cargo bench -p shmipc-benches --bench messages` (about half a minute).

use std::io::{Read, Write};
use std::os::fd::{FromRawFd, OwnedFd};
use std::process::Command;
use std::time::Instant;

use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicU64, Ordering};

use shmipc::{Connection, MessageQueue, Queue, RawValue, SharedMemory};

const CHILD_ENV: &str = "SHMIPC_MESSAGES_BENCH_CHILD";
const BLOCKS: usize = 20;
/// Round trips per block of each ping-pong.
const ROUNDS: u64 = 2_000;
/// Round trips per block of the OS pipe, which parks on every message.
const PIPE_ROUNDS: u64 = 200;
/// Messages per block of each 4 KiB stream.
const STREAM: u64 = 20_000;
const PAGE: usize = 4096;
/// Messages per block of the 64 MiB stream.
const BIG_MESSAGES: u64 = 2;
const BIG: usize = 64 << 20;

const KINDS: [&str; 12] = [
    "two cache lines, one per direction (floor)",
    "Connection ping-pong, 8 B",
    "OS pipe ping-pong, 8 B",
    "Connection one-way, 4 KiB",
    "OS pipe one-way, 4 KiB",
    "MessageQueue ping-pong, small serde struct",
    "loan one-way, 64 MiB",
    "raw 4 KiB slots one-way (memcpy + a position each side; floor)",
    "Unix socket ping-pong, 8 B",
    "Unix socket one-way, 4 KiB",
    "Queue<u64> SPSC ping-pong (the item ring)",
    "raw 8 B records ping-pong (header + payload, a position each side; floor)",
];
const LINES: usize = 0;
const CONN_PING: usize = 1;
const OS_PING: usize = 2;
const CONN_STREAM: usize = 3;
const OS_STREAM: usize = 4;
const SERDE_PING: usize = 5;
const LOANS: usize = 6;
const RAW_STREAM: usize = 7;
const UNIX_PING: usize = 8;
const UNIX_STREAM: usize = 9;
const ITEM_PING: usize = 10;
const RAW_PING: usize = 11;
/// Records of each direction's ring of the raw ping-pong floor.
const RAW_RECORDS: u64 = 4096;
/// Slots of the raw 4 KiB floor's ring.
const RAW_SLOTS: u64 = 16;

/// The serde message: a String and a few numbers.
#[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
struct Order {
    symbol: String,
    id: u64,
    price: f64,
    quantity: u32,
}

fn name(scope: u32, what: &str) -> String {
    format!("bench-{scope}-msg-{what}")
}

/// One side's ends of everything.
struct Side {
    there: RawValue<u64>,
    back: RawValue<u64>,
    ping: Connection,
    stream: Connection,
    queue_out: MessageQueue,
    queue_in: MessageQueue,
    /// The item queues of the same ping-pong, for what a fixed-size ring
    /// costs in the same placement.
    item_out: Queue<u64>,
    item_in: Queue<u64>,
    big: MessageQueue,
    /// OS pipes: this side's write end to the other, and read end from it.
    os_out: std::fs::File,
    os_in: std::fs::File,
    /// The stream's OS pipe: the child writes, the parent reads.
    os_stream: std::fs::File,
    /// This side's end of a Unix stream socket pair for the ping-pong.
    unix_ping: std::fs::File,
    /// And of one for the stream (the child writes).
    unix_stream: std::fs::File,
    /// The raw floor: the producer's count at 0, the consumer's at 128,
    /// then [`RAW_SLOTS`] slots of 4 KiB.
    raw: SharedMemory,
    /// The raw ping-pong floor: two rings of 16-byte records (see
    /// [`RawRecords`]).
    raw_ping: SharedMemory,
    /// Records this side sent and took through `raw_ping`.
    raw_sent: u64,
    raw_taken: u64,
}

/// The raw ping-pong floor: what a byte ring's message costs with nothing
/// but its lines. Direction `d` (0: parent to child) has its consumer's
/// position at `128 * d` and [`RAW_RECORDS`] records of 16 bytes (a
/// header that is the record's sequence number + 1, which publishes it,
/// and an 8-byte payload) from `256 + d * RAW_RECORDS * 16`.
struct RawRecords<'a>(&'a SharedMemory);

impl RawRecords<'_> {
    fn word(&self, at: usize) -> &AtomicU64 {
        // SAFETY: 8-byte aligned offsets inside the page-aligned block of
        // 256 + 2 * RAW_RECORDS * 16 bytes; both processes use these words
        // only atomically.
        unsafe { &*self.0.as_ptr().add(at).cast::<AtomicU64>() }
    }

    fn record(&self, d: usize, seq: u64) -> usize {
        256 + (d * RAW_RECORDS as usize + (seq % RAW_RECORDS) as usize) * 16
    }

    fn send(&self, d: usize, sent: &mut u64, value: u64) {
        while *sent - self.word(128 * d).load(Ordering::Acquire) >= RAW_RECORDS {
            std::hint::spin_loop();
        }
        let at = self.record(d, *sent);
        self.word(at + 8).store(value, Ordering::Relaxed);
        *sent += 1;
        self.word(at).store(*sent, Ordering::Release);
    }

    fn recv(&self, d: usize, taken: &mut u64) -> u64 {
        let at = self.record(d, *taken);
        while self.word(at).load(Ordering::Acquire) != *taken + 1 {
            std::hint::spin_loop();
        }
        let value = self.word(at + 8).load(Ordering::Relaxed);
        *taken += 1;
        self.word(128 * d).store(*taken, Ordering::Release);
        value
    }
}

/// The raw floor's ring: positions and slots in `raw`'s bytes.
struct RawRing<'a>(&'a SharedMemory);

impl RawRing<'_> {
    fn count(&self, at: usize) -> &AtomicU64 {
        // SAFETY: offsets 0 and 128 of a block of 128 + slots bytes, page
        // aligned; both processes use these words only atomically.
        unsafe { &*self.0.as_ptr().add(at).cast::<AtomicU64>() }
    }

    fn slot(&self, i: u64) -> *mut u8 {
        // SAFETY: inside the block (256 + 16 slots of 4 KiB).
        unsafe { self.0.as_ptr().add(256 + (i % RAW_SLOTS) as usize * PAGE) }
    }

    /// The producer: one page into the next slot once it is free.
    fn put(&self, page: &[u8; PAGE], sent: &mut u64) {
        while *sent - self.count(128).load(Ordering::Acquire) == RAW_SLOTS {
            std::hint::spin_loop();
        }
        // SAFETY: the slot is the producer's until the count below publishes
        // it (the consumer freed it, acquired above).
        unsafe { std::ptr::copy_nonoverlapping(page.as_ptr(), self.slot(*sent), PAGE) };
        *sent += 1;
        self.count(0).store(*sent, Ordering::Release);
    }

    /// The consumer: the next page out of its slot.
    fn get(&self, page: &mut [u8; PAGE], taken: &mut u64) {
        while self.count(0).load(Ordering::Acquire) == *taken {
            std::hint::spin_loop();
        }
        // SAFETY: published by the producer's release, acquired above; it
        // does not write the slot again until the count below frees it.
        unsafe { std::ptr::copy_nonoverlapping(self.slot(*taken), page.as_mut_ptr(), PAGE) };
        *taken += 1;
        self.count(128).store(*taken, Ordering::Release);
    }
}

fn os_pipe() -> (i32, i32) {
    let mut fds = [0i32; 2];
    // SAFETY: `fds` is two ints; the fds are inherited by the child.
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    // 64 KiB buffers, as Linux's default.
    (fds[0], fds[1])
}

fn socket_pair() -> (i32, i32) {
    let mut fds = [0i32; 2];
    // SAFETY: `fds` is two ints; the fds are inherited by the child.
    let made = unsafe { libc::socketpair(libc::AF_UNIX, libc::SOCK_STREAM, 0, fds.as_mut_ptr()) };
    assert_eq!(made, 0);
    (fds[0], fds[1])
}

fn file(fd: i32) -> std::fs::File {
    // SAFETY: an fd of a pipe this process made or inherited, used once.
    std::fs::File::from(unsafe { OwnedFd::from_raw_fd(fd) })
}

fn spin_until(mut done: impl FnMut() -> bool) {
    while !done() {
        std::hint::spin_loop();
    }
}

fn order() -> Order {
    Order {
        symbol: "EURUSD".into(),
        id: 0,
        price: 1.0842,
        quantity: 100,
    }
}

/// The parent's side of a block of `kind`: ns per round trip, or per
/// message of a one-way stream.
fn ask(s: &mut Side, kind: usize, counter: &mut u64, buffers: &mut (Vec<u8>, Vec<u8>)) -> f64 {
    let started = Instant::now();
    let per = match kind {
        LINES => {
            for _ in 0..ROUNDS {
                *counter += 1;
                s.there.store(*counter);
                spin_until(|| s.back.load_atomic() == *counter);
            }
            ROUNDS
        }
        CONN_PING => {
            let mut reply = [0u8; 8];
            for i in 0..ROUNDS {
                s.ping.send_bytes(&i.to_ne_bytes()).unwrap();
                assert_eq!(s.ping.recv_bytes_into(&mut reply).unwrap(), 8);
            }
            ROUNDS
        }
        ITEM_PING => {
            for i in 0..ROUNDS {
                s.item_out.put(i).unwrap();
                assert_eq!(s.item_in.get().unwrap(), i);
            }
            ROUNDS
        }
        RAW_PING => {
            let ring = RawRecords(&s.raw_ping);
            for i in 0..ROUNDS {
                ring.send(0, &mut s.raw_sent, i);
                assert_eq!(ring.recv(1, &mut s.raw_taken), i);
            }
            ROUNDS
        }
        OS_PING => {
            let mut reply = [0u8; 8];
            for i in 0..PIPE_ROUNDS {
                s.os_out.write_all(&i.to_ne_bytes()).unwrap();
                s.os_in.read_exact(&mut reply).unwrap();
            }
            PIPE_ROUNDS
        }
        CONN_STREAM => {
            let mut page = [0u8; PAGE];
            assert_eq!(s.stream.recv_bytes_into(&mut page).unwrap(), PAGE);
            let started = Instant::now();
            for _ in 1..STREAM {
                assert_eq!(s.stream.recv_bytes_into(&mut page).unwrap(), PAGE);
            }
            return started.elapsed().as_secs_f64() * 1e9 / (STREAM - 1) as f64;
        }
        OS_STREAM | UNIX_STREAM => {
            let from = if kind == OS_STREAM {
                &mut s.os_stream
            } else {
                &mut s.unix_stream
            };
            let mut page = [0u8; PAGE];
            from.read_exact(&mut page).unwrap();
            let started = Instant::now();
            for _ in 1..STREAM {
                from.read_exact(&mut page).unwrap();
            }
            return started.elapsed().as_secs_f64() * 1e9 / (STREAM - 1) as f64;
        }
        UNIX_PING => {
            let mut reply = [0u8; 8];
            for i in 0..PIPE_ROUNDS {
                s.unix_ping.write_all(&i.to_ne_bytes()).unwrap();
                s.unix_ping.read_exact(&mut reply).unwrap();
            }
            PIPE_ROUNDS
        }
        RAW_STREAM => {
            let ring = RawRing(&s.raw);
            let mut page = [0u8; PAGE];
            let mut taken = ring.count(128).load(Ordering::Relaxed);
            ring.get(&mut page, &mut taken);
            let started = Instant::now();
            for _ in 1..STREAM {
                ring.get(&mut page, &mut taken);
            }
            std::hint::black_box(&page);
            return started.elapsed().as_secs_f64() * 1e9 / (STREAM - 1) as f64;
        }
        SERDE_PING => {
            let mut o = order();
            for _ in 0..ROUNDS {
                s.queue_out.put(&o).unwrap();
                o = s.queue_in.get().unwrap();
                o.id += 1;
            }
            ROUNDS
        }
        _ => {
            let (_, into) = buffers;
            let loan = s.big.get_loan().unwrap();
            loan.read(0, into).unwrap();
            drop(loan);
            let started = Instant::now();
            for _ in 1..BIG_MESSAGES {
                let loan = s.big.get_loan().unwrap();
                loan.read(0, into).unwrap();
            }
            let per = started.elapsed().as_secs_f64() * 1e9 / (BIG_MESSAGES - 1) as f64;
            std::hint::black_box(&into[BIG - 1]);
            return per;
        }
    };
    started.elapsed().as_secs_f64() * 1e9 / per as f64
}

/// The child's side of a block of `kind`.
fn answer(s: &mut Side, kind: usize, counter: &mut u64, source: &[u8]) {
    match kind {
        LINES => {
            for _ in 0..ROUNDS {
                *counter += 1;
                spin_until(|| s.there.load_atomic() == *counter);
                s.back.store(*counter);
            }
        }
        CONN_PING => {
            let mut ping = [0u8; 8];
            for _ in 0..ROUNDS {
                s.ping.recv_bytes_into(&mut ping).unwrap();
                s.ping.send_bytes(&ping).unwrap();
            }
        }
        ITEM_PING => {
            for _ in 0..ROUNDS {
                let v = s.item_in.get().unwrap();
                s.item_out.put(v).unwrap();
            }
        }
        RAW_PING => {
            let ring = RawRecords(&s.raw_ping);
            for _ in 0..ROUNDS {
                let v = ring.recv(0, &mut s.raw_taken);
                ring.send(1, &mut s.raw_sent, v);
            }
        }
        OS_PING => {
            let mut ping = [0u8; 8];
            for _ in 0..PIPE_ROUNDS {
                s.os_in.read_exact(&mut ping).unwrap();
                s.os_out.write_all(&ping).unwrap();
            }
        }
        CONN_STREAM => {
            let page = [7u8; PAGE];
            for _ in 0..STREAM {
                s.stream.send_bytes(&page).unwrap();
            }
        }
        OS_STREAM | UNIX_STREAM => {
            let to = if kind == OS_STREAM {
                &mut s.os_stream
            } else {
                &mut s.unix_stream
            };
            let page = [7u8; PAGE];
            for _ in 0..STREAM {
                to.write_all(&page).unwrap();
            }
        }
        UNIX_PING => {
            let mut ping = [0u8; 8];
            for _ in 0..PIPE_ROUNDS {
                s.unix_ping.read_exact(&mut ping).unwrap();
                s.unix_ping.write_all(&ping).unwrap();
            }
        }
        RAW_STREAM => {
            let ring = RawRing(&s.raw);
            let page = [7u8; PAGE];
            let mut sent = ring.count(0).load(Ordering::Relaxed);
            for _ in 0..STREAM {
                ring.put(&page, &mut sent);
            }
        }
        SERDE_PING => {
            for _ in 0..ROUNDS {
                let o: Order = s.queue_in.get().unwrap();
                s.queue_out.put(&o).unwrap();
            }
        }
        _ => {
            for _ in 0..BIG_MESSAGES {
                let mut loan = s.big.reserve(BIG).unwrap();
                loan.write(0, source).unwrap();
                loan.publish();
            }
        }
    }
}

fn rotation(block: usize) -> impl Iterator<Item = usize> {
    (0..KINDS.len()).map(move |i| (i + block) % KINDS.len())
}

fn child(spec: &str) {
    let mut parts = spec.split_whitespace().map(|p| p.parse::<i32>().unwrap());
    let scope = parts.next().unwrap() as u32;
    let mut fd = || parts.next().unwrap();
    let (to_parent, from_parent, stream, unix_ping, unix_stream) = (fd(), fd(), fd(), fd(), fd());
    let n = |what| name(scope, what);
    let mut s = Side {
        there: RawValue::open(&n("there")).unwrap(),
        back: RawValue::open(&n("back")).unwrap(),
        ping: Connection::open(&n("ping")).unwrap(),
        stream: Connection::open(&n("stream")).unwrap(),
        queue_out: MessageQueue::open(&n("back-q")).unwrap(),
        queue_in: MessageQueue::open(&n("there-q")).unwrap(),
        item_out: Queue::open(&n("back-i")).unwrap(),
        item_in: Queue::open(&n("there-i")).unwrap(),
        big: MessageQueue::open(&n("big")).unwrap(),
        os_out: file(to_parent),
        os_in: file(from_parent),
        os_stream: file(stream),
        unix_ping: file(unix_ping),
        unix_stream: file(unix_stream),
        raw: SharedMemory::open(&n("raw")).unwrap(),
        raw_ping: SharedMemory::open(&n("raw-ping")).unwrap(),
        raw_sent: 0,
        raw_taken: 0,
    };
    let source = vec![3u8; BIG];
    let mut counter = 0;
    s.back.store(u64::MAX); // ready
    spin_until(|| s.there.load_atomic() == 0);
    for block in 0..BLOCKS {
        for kind in rotation(block) {
            answer(&mut s, kind, &mut counter, &source);
        }
    }
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// Python's `multiprocessing.Queue` ping-pong of the struct as a dict, µs
/// per round trip, if `python3` runs.
fn python_queue_round_trip_us() -> Option<f64> {
    let script = r#"
import multiprocessing as mp, time
def echo(a, b, n):
    for _ in range(n):
        b.put(a.get())
if __name__ == "__main__":
    a, b = mp.Queue(), mp.Queue()
    n = 2000
    p = mp.Process(target=echo, args=(a, b, n + 100)); p.start()
    o = {"symbol": "EURUSD", "id": 0, "price": 1.0842, "quantity": 100}
    for _ in range(100):
        a.put(o); b.get()
    t = time.perf_counter()
    for _ in range(n):
        a.put(o); o = b.get()
    print((time.perf_counter() - t) / n * 1e6)
    p.join()
"#;
    let out = Command::new("python3")
        .arg("-c")
        .arg(script)
        .output()
        .ok()?;
    String::from_utf8(out.stdout).ok()?.trim().parse().ok()
}

fn memcpy_ns(buffers: &mut (Vec<u8>, Vec<u8>)) -> f64 {
    let (from, into) = buffers;
    let started = Instant::now();
    into.copy_from_slice(from);
    std::hint::black_box(&into[BIG - 1]);
    started.elapsed().as_secs_f64() * 1e9
}

fn main() {
    if let Ok(spec) = std::env::var(CHILD_ENV) {
        return child(&spec);
    }
    if std::env::args().skip(1).any(|a| a == "--list") {
        return;
    }
    let scope = std::process::id();
    let n = |what| name(scope, what);
    let (parent_in, child_out) = os_pipe();
    let (child_in, parent_out) = os_pipe();
    let (parent_stream, child_stream) = os_pipe();
    let (parent_unix_ping, child_unix_ping) = socket_pair();
    let (parent_unix_stream, child_unix_stream) = socket_pair();
    let mut s = Side {
        there: RawValue::create(&n("there"), u64::MAX).unwrap(),
        back: RawValue::create(&n("back"), 0).unwrap(),
        ping: Connection::create(&n("ping"), true).unwrap(),
        stream: Connection::create(&n("stream"), false).unwrap(),
        queue_out: MessageQueue::create(&n("there-q"), 64 * 1024).unwrap(),
        queue_in: MessageQueue::create(&n("back-q"), 64 * 1024).unwrap(),
        item_out: Queue::create_spsc(&n("there-i"), 1024).unwrap(),
        item_in: Queue::create_spsc(&n("back-i"), 1024).unwrap(),
        big: MessageQueue::create(&n("big"), 2 * BIG + 4096).unwrap(),
        os_out: file(parent_out),
        os_in: file(parent_in),
        os_stream: file(parent_stream),
        unix_ping: file(parent_unix_ping),
        unix_stream: file(parent_unix_stream),
        raw: SharedMemory::create(&n("raw"), 256 + RAW_SLOTS as usize * PAGE).unwrap(),
        raw_ping: SharedMemory::create(&n("raw-ping"), 256 + 2 * RAW_RECORDS as usize * 16)
            .unwrap(),
        raw_sent: 0,
        raw_taken: 0,
    };
    let mut peer = Command::new(std::env::current_exe().unwrap())
        .env(
            CHILD_ENV,
            format!(
                "{scope} {child_out} {child_in} {child_stream} {child_unix_ping} {child_unix_stream}"
            ),
        )
        .spawn()
        .unwrap();
    // The child's ends, closed here so that the pipes see the child alone.
    for fd in [
        child_out,
        child_in,
        child_stream,
        child_unix_ping,
        child_unix_stream,
    ] {
        drop(file(fd));
    }
    while s.back.load_atomic() != u64::MAX {
        std::thread::yield_now();
    }
    s.back.store(0);
    s.there.store(0);
    let mut buffers = (vec![5u8; BIG], vec![0u8; BIG]);
    let mut counter = 0;
    let mut rows: Vec<[f64; KINDS.len() + 1]> = Vec::new();
    for block in 0..BLOCKS {
        let mut row = [0f64; KINDS.len() + 1];
        for kind in rotation(block) {
            row[kind] = ask(&mut s, kind, &mut counter, &mut buffers);
        }
        row[KINDS.len()] = memcpy_ns(&mut buffers);
        rows.push(row);
    }
    assert!(peer.wait().unwrap().success(), "bench child failed");
    let of = |k: usize| median(rows.iter().map(|r| r[k]).collect());
    let ratio = |a: usize, b: usize| median(rows.iter().map(|r| r[a] / r[b]).collect());
    println!("medians over {BLOCKS} blocks (ratios: median of the per-block ratio)");
    for (k, what) in KINDS.iter().enumerate() {
        println!("  {what:<46} {:>12.0} ns", of(k));
    }
    println!(
        "  {:<46} {:>12.0} ns",
        "memcpy of 64 MiB, this process",
        of(KINDS.len())
    );
    println!(
        "Connection ping-pong / two-line floor:      {:.2}x (target <= 1.3x)",
        ratio(CONN_PING, LINES)
    );
    println!(
        "Connection ping-pong / Queue<u64> ping-pong: {:.2}x (the item ring: {:.2}x the floor)",
        ratio(CONN_PING, ITEM_PING),
        ratio(ITEM_PING, LINES)
    );
    println!(
        "raw 8 B records ping-pong / two-line floor: {:.2}x; Connection / raw records: {:.2}x",
        ratio(RAW_PING, LINES),
        ratio(CONN_PING, RAW_PING)
    );
    println!(
        "OS pipe ping-pong / Connection ping-pong:    {:.0}x; Unix socket: {:.0}x",
        ratio(OS_PING, CONN_PING),
        ratio(UNIX_PING, CONN_PING)
    );
    println!(
        "4 KiB one-way, Connection bandwidth / OS pipe: {:.1}x (target >= 5x)",
        ratio(OS_STREAM, CONN_STREAM)
    );
    println!(
        "4 KiB one-way, Connection bandwidth / Unix socket: {:.1}x",
        ratio(UNIX_STREAM, CONN_STREAM)
    );
    println!(
        "4 KiB one-way, raw slot floor / OS pipe: {:.1}x; Connection / raw floor: {:.2}x",
        ratio(OS_STREAM, RAW_STREAM),
        ratio(RAW_STREAM, CONN_STREAM)
    );
    let gbps = |ns: f64, bytes: usize| bytes as f64 / ns;
    println!(
        "64 MiB loans: {:.1} GB/s, memcpy {:.1} GB/s: {:.2}x (target >= 0.5x)",
        gbps(of(LOANS), BIG),
        gbps(of(KINDS.len()), BIG),
        ratio(KINDS.len(), LOANS)
    );
    match python_queue_round_trip_us() {
        Some(us) => println!(
            "MessageQueue serde ping-pong {:.2} us; Python Queue {:.1} us: {:.0}x faster (target >= 100x)",
            of(SERDE_PING) / 1e3,
            us,
            us * 1e3 / of(SERDE_PING)
        ),
        None => println!("python3 not found: Python's Queue not measured"),
    }
}
