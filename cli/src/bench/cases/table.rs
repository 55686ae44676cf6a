//! The table of `shmipc bench`'s cases: what each is called, what a
//! sample of it is, its block sizes, and the rows it is compared with.

use crate::bench::world::{BIG_PAGE, LOAN, PAGE};

/// What one sample of a case is.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// A round trip between the two sides, timed one by one.
    RoundTrip,
    /// An operation in one process, timed in batches of [`BATCH`](super::BATCH).
    Op,
    /// A one-way message of this many bytes, timed by the block.
    Message(usize),
    /// A call in one process, timed one by one.
    Call,
}

/// A case: its name, unit, block sizes and what it is compared with.
pub struct Case {
    pub id: Id,
    /// The row's name (`id.name()`).
    pub name: &'static str,
    pub unit: Unit,
    /// Iterations per block, full and `--quick`.
    pub iters: (u64, u64),
    /// The row this one's ratio is taken against, if any.
    pub baseline: Option<&'static str>,
    /// The physical floor of this kind of exchange, if one applies.
    pub floor: Option<&'static str>,
    /// The iteration count is part of what the case measures (a map of
    /// 100,000 items): never scaled down, and not warmed up.
    pub fixed: bool,
}

const ONE_LINE: &str = "one cache line, round trip (floor)";
const TWO_LINES: &str = "two cache lines, round trip (floor)";
const OS_PIPE_PING: &str = "OS pipe ping-pong, 8 B";
const OS_PIPE_8: &str = "OS pipe one-way, 8 B";
const OS_PIPE_4K: &str = "OS pipe one-way, 4 KiB";
const UNIX_8: &str = "Unix socket one-way, 8 B";
const UNIX_4K: &str = "Unix socket one-way, 4 KiB";
const MQ_8: &str = "MessageQueue one-way, 8 B";
const MQ_4K: &str = "MessageQueue one-way, 4 KiB";
const MQ_64K: &str = "MessageQueue one-way, 64 KiB";
const OS_PIPE_64K: &str = "OS pipe one-way, 64 KiB";
const MUTEX: &str = "parking_lot Mutex, uncontended (threads)";
const UNIX_PING: &str = "Unix socket ping-pong, 8 B";
const LOCK_CONTENDED: &str = "Lock, two processes contending";
const VALUE_INCREMENTS: &str = "Value<u64> increments";
const SEMAPHORE: &str = "Semaphore hand-off";
const EVENT: &str = "Event hand-off";
const BARRIER: &str = "Barrier(2) round";
const SPSC_PING: &str = "Queue<u64> SPSC ping-pong";
const MPMC_PING: &str = "Queue<u64> MPMC ping-pong";
const SPSC_ONE_WAY: &str = "Queue<u64> SPSC one-way";
const MPMC_ONE_WAY: &str = "Queue<u64> MPMC one-way";
const MQ_PING: &str = "MessageQueue ping-pong, 8 B";
const FUTEX: &str = "futex ping-pong";
const RTRB_PING: &str = "rtrb ping-pong (threads)";
const ARRAY_QUEUE_PING: &str = "crossbeam ArrayQueue ping-pong (threads)";
const RTRB_ONE_WAY: &str = "rtrb one-way, u64 (threads)";
const ARRAY_QUEUE_ONE_WAY: &str = "crossbeam ArrayQueue one-way, u64 (threads)";
const LOCK: &str = "Lock, uncontended";
const PIPE_PING: &str = "Pipe ping-pong, 8 B";
const PIPE_8: &str = "Pipe one-way, 8 B";
const PIPE_4K: &str = "Pipe one-way, 4 KiB";
const PIPE_64K: &str = "Pipe one-way, 64 KiB";
const LOANS: &str = "loan one-way, 64 MiB";
const MEMCPY: &str = "memcpy of 64 MiB (one process)";
pub const POOL_START: &str = "Pool(2) start-up and first result";
pub const POOL_IMAP: &str = "Pool(2) imap, chunksize 1";
pub const POOL_MAP: &str = "Pool(2) map of 100,000 ints";

/// Which case a [`Case`] is: what [`measure`](super::measure) and [`answer`](super::answer) match on, so
/// that a case without a side of its own does not compile.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Id {
    OneLine,
    TwoLines,
    OsPipePing,
    OsPipe8,
    OsPipe4k,
    Unix8,
    Unix4k,
    Mq8,
    Mq4k,
    Mq64k,
    OsPipe64k,
    Mutex,
    UnixPing,
    LockContended,
    ValueIncrements,
    Semaphore,
    Event,
    Barrier,
    SpscPing,
    MpmcPing,
    SpscOneWay,
    MpmcOneWay,
    MqPing,
    Futex,
    RtrbPing,
    ArrayQueuePing,
    RtrbOneWay,
    ArrayQueueOneWay,
    Lock,
    PipePing,
    Pipe8,
    Pipe4k,
    Pipe64k,
    Loans,
    Memcpy,
    PoolStart,
    PoolImap,
    PoolMap,
}

impl Id {
    /// The case's row name.
    pub const fn name(self) -> &'static str {
        match self {
            Id::OneLine => ONE_LINE,
            Id::TwoLines => TWO_LINES,
            Id::OsPipePing => OS_PIPE_PING,
            Id::OsPipe8 => OS_PIPE_8,
            Id::OsPipe4k => OS_PIPE_4K,
            Id::Unix8 => UNIX_8,
            Id::Unix4k => UNIX_4K,
            Id::Mq8 => MQ_8,
            Id::Mq4k => MQ_4K,
            Id::Mq64k => MQ_64K,
            Id::OsPipe64k => OS_PIPE_64K,
            Id::Mutex => MUTEX,
            Id::UnixPing => UNIX_PING,
            Id::LockContended => LOCK_CONTENDED,
            Id::ValueIncrements => VALUE_INCREMENTS,
            Id::Semaphore => SEMAPHORE,
            Id::Event => EVENT,
            Id::Barrier => BARRIER,
            Id::SpscPing => SPSC_PING,
            Id::MpmcPing => MPMC_PING,
            Id::SpscOneWay => SPSC_ONE_WAY,
            Id::MpmcOneWay => MPMC_ONE_WAY,
            Id::MqPing => MQ_PING,
            Id::Futex => FUTEX,
            Id::RtrbPing => RTRB_PING,
            Id::ArrayQueuePing => ARRAY_QUEUE_PING,
            Id::RtrbOneWay => RTRB_ONE_WAY,
            Id::ArrayQueueOneWay => ARRAY_QUEUE_ONE_WAY,
            Id::Lock => LOCK,
            Id::PipePing => PIPE_PING,
            Id::Pipe8 => PIPE_8,
            Id::Pipe4k => PIPE_4K,
            Id::Pipe64k => PIPE_64K,
            Id::Loans => LOANS,
            Id::Memcpy => MEMCPY,
            Id::PoolStart => POOL_START,
            Id::PoolImap => POOL_IMAP,
            Id::PoolMap => POOL_MAP,
        }
    }
}

const fn case(
    id: Id,
    unit: Unit,
    iters: (u64, u64),
    baseline: Option<&'static str>,
    floor: Option<&'static str>,
) -> Case {
    Case {
        id,
        name: id.name(),
        unit,
        iters,
        baseline,
        floor,
        fixed: false,
    }
}

impl Case {
    /// This case with its iteration count fixed.
    const fn fixed(self) -> Case {
        Case {
            fixed: true,
            ..self
        }
    }
}

use Unit::{Message, Op, RoundTrip};

/// Every case, in the order the table shows them: name, unit, iterations
/// per block (full, `--quick`), baseline, floor. Every row has a baseline,
/// so that every row has a ratio; the OS's rows take this crate's as theirs.
#[rustfmt::skip]
pub const CASES: &[Case] = &[
    // Floors.
    case(Id::OneLine, RoundTrip, (20_000, 4_000), Some(TWO_LINES), None),
    case(Id::TwoLines, RoundTrip, (20_000, 4_000), Some(ONE_LINE), None),
    case(Id::Futex, RoundTrip, (2_000, 500), Some(TWO_LINES), None),
    // OS IPC.
    case(Id::OsPipePing, RoundTrip, (1_000, 200), Some(PIPE_PING), Some(TWO_LINES)),
    case(Id::UnixPing, RoundTrip, (1_000, 200), Some(PIPE_PING), Some(TWO_LINES)),
    case(Id::OsPipe8, Message(8), (20_000, 4_000), Some(PIPE_8), None),
    case(Id::Unix8, Message(8), (20_000, 4_000), Some(PIPE_8), None),
    case(Id::OsPipe4k, Message(PAGE), (5_000, 1_000), Some(PIPE_4K), None),
    case(Id::Unix4k, Message(PAGE), (5_000, 1_000), Some(PIPE_4K), None),
    case(Id::OsPipe64k, Message(BIG_PAGE), (500, 100), Some(PIPE_64K), None),
    // In-process peers, between two threads.
    case(Id::RtrbPing, RoundTrip, (20_000, 4_000), Some(TWO_LINES), Some(TWO_LINES)),
    case(Id::ArrayQueuePing, RoundTrip, (20_000, 4_000), Some(TWO_LINES), Some(TWO_LINES)),
    case(Id::RtrbOneWay, Message(8), (200_000, 40_000), Some(ARRAY_QUEUE_ONE_WAY), None),
    case(Id::ArrayQueueOneWay, Message(8), (200_000, 40_000), Some(RTRB_ONE_WAY), None),
    case(Id::Mutex, Op, (100_000, 20_000), Some(LOCK), None),
    // This crate.
    case(Id::Lock, Op, (100_000, 20_000), Some(MUTEX), None),
    case(Id::LockContended, Op, (20_000, 4_000), Some(MUTEX), Some(ONE_LINE)),
    case(Id::ValueIncrements, Op, (100_000, 20_000), Some(MUTEX), None),
    case(Id::Semaphore, RoundTrip, (5_000, 1_000), Some(FUTEX), Some(TWO_LINES)),
    case(Id::Event, RoundTrip, (5_000, 1_000), Some(FUTEX), Some(TWO_LINES)),
    case(Id::Barrier, RoundTrip, (5_000, 1_000), Some(FUTEX), Some(TWO_LINES)),
    case(Id::SpscPing, RoundTrip, (20_000, 4_000), Some(RTRB_PING), Some(TWO_LINES)),
    case(Id::MpmcPing, RoundTrip, (20_000, 4_000), Some(ARRAY_QUEUE_PING), Some(TWO_LINES)),
    case(Id::SpscOneWay, Message(8), (200_000, 40_000), Some(RTRB_ONE_WAY), None),
    case(Id::MpmcOneWay, Message(8), (200_000, 40_000), Some(ARRAY_QUEUE_ONE_WAY), None),
    case(Id::MqPing, RoundTrip, (20_000, 4_000), Some(OS_PIPE_PING), Some(TWO_LINES)),
    case(Id::Mq8, Message(8), (100_000, 20_000), Some(OS_PIPE_8), None),
    case(Id::Mq4k, Message(PAGE), (5_000, 1_000), Some(OS_PIPE_4K), None),
    case(Id::Mq64k, Message(BIG_PAGE), (500, 100), Some(OS_PIPE_64K), None),
    case(Id::PipePing, RoundTrip, (20_000, 4_000), Some(OS_PIPE_PING), Some(TWO_LINES)),
    case(Id::Pipe8, Message(8), (100_000, 20_000), Some(OS_PIPE_8), None),
    case(Id::Pipe4k, Message(PAGE), (5_000, 1_000), Some(OS_PIPE_4K), None),
    case(Id::Pipe64k, Message(BIG_PAGE), (500, 100), Some(OS_PIPE_64K), None),
    case(Id::Loans, Message(LOAN), (4, 2), Some(MEMCPY), None),
    case(Id::Memcpy, Message(LOAN), (4, 2), Some(LOANS), None),
    case(Id::PoolStart, Unit::Call, (3, 1), Some(FUTEX), None),
    case(Id::PoolImap, Message(8), (20_000, 2_000), Some(PIPE_PING), None),
    case(Id::PoolMap, Message(8), (100_000, 100_000), Some(PIPE_8), None).fixed(),
];
