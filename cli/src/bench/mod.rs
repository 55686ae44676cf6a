//! `shmipc bench`: this crate against its floors and peers, measured in one
//! run by two processes.
//!
//! The parent creates every object and starts a peer (this executable
//! again, `bench-peer`), pinned to another core where there are two. Each
//! round runs every case once, one block each, in an order that rotates
//! from round to round, so that drift in the machine (the host moving the
//! processes, other tenants) falls on every case alike. Samples go into
//! one histogram per case: round trips one by one, cheap operations in
//! batches, one-way streams one sample per block. Each row's ratio is its
//! median over its baseline's, both from this run.
//!
//! A warm-up round before the others scales down the blocks of cases
//! whose hand-offs turn out slow (two processes on one cpu), so that a
//! run always ends; a stopped run removes its segments.

mod cases;
mod plot;
mod python;
mod world;

use std::io::{BufRead, BufReader, Write};
use std::os::fd::FromRawFd;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use hdrhistogram::Histogram;
use serde::Serialize;

use cases::{Unit, CASES};
use world::World;

/// What `shmipc bench` was asked for.
pub struct BenchArgs {
    pub quick: bool,
    pub filter: Option<String>,
    pub rounds: Option<usize>,
    pub json: Option<PathBuf>,
    pub plot: Option<PathBuf>,
}

/// The time a block of a case may take, `--quick` and full: far above
/// what every case takes where hand-offs are quick.
const QUICK_BLOCK: Duration = Duration::from_millis(100);
const FULL_BLOCK: Duration = Duration::from_millis(400);
/// The warm-up block of a case runs this part of its iterations.
const WARM_UP_PART: u64 = 16;
/// The fewest iterations a block is scaled down to.
const MIN_ITERS: u64 = 16;
/// How long Python's script may run, `--quick` and full.
const PYTHON_LIMIT_QUICK: Duration = Duration::from_secs(120);
const PYTHON_LIMIT_FULL: Duration = Duration::from_secs(600);

fn new_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 3_600_000_000_000, 3).expect("histogram bounds")
}

/// One row of the results: a case of this run, or one of Python's.
#[derive(Serialize)]
struct Row {
    name: String,
    /// What `median`, `p99` and `p999` count: nanoseconds per round trip,
    /// per operation or per message.
    unit: &'static str,
    median: f64,
    p99: f64,
    p999: f64,
    /// Bytes per second, for one-way messages.
    bytes_per_second: Option<f64>,
    /// Messages (items) per second, for one-way messages.
    items_per_second: Option<f64>,
    baseline: Option<String>,
    /// `median` over the baseline's median (below 1: faster).
    ratio: Option<f64>,
    floor: Option<String>,
    /// `median` over the floor's median.
    floor_ratio: Option<f64>,
}

/// Runs the benchmark and prints its table; `false` if it could not.
pub fn run(args: &BenchArgs) -> bool {
    match run_inner(args) {
        Ok(()) => true,
        Err(e) => {
            eprintln!("shmipc: bench: {e}");
            false
        }
    }
}

fn run_inner(args: &BenchArgs) -> Result<(), String> {
    let wanted = |name: &str| {
        args.filter
            .as_deref()
            .is_none_or(|f| name.to_lowercase().contains(&f.to_lowercase()))
    };
    let chosen: Vec<usize> = (0..CASES.len())
        .filter(|&i| wanted(CASES[i].name))
        .collect();
    if chosen.is_empty() && !python::ROWS.iter().any(|(name, _)| wanted(name)) {
        return Err("no case matches the filter".into());
    }
    let rounds = args
        .rounds
        .unwrap_or(if args.quick { 5 } else { 20 })
        .max(1);
    let scope = std::process::id();
    clean_up_on_signal()?;
    // A signal's clean-up waits for the objects to be made, so that none
    // made after its look is left.
    let making = SETUP
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let (world, fds) = World::create(scope).map_err(|e| e.to_string())?;
    drop(making);
    let cpus = available_cpus();
    let _ = ALL_CPUS.set(cpus.clone());
    let placement = if cpus.len() >= 2 {
        pin_to(cpus[0]);
        format!("parent pinned to cpu {}, peer to cpu {}", cpus[0], cpus[1])
    } else {
        "one cpu available: the two processes share it".to_owned()
    };
    let peer_cpu = cpus.get(1).map_or(-1, |&c| c as i64);
    let threads = cases::Cpus {
        peer: cpus.get(1).copied(),
    };
    let mut buffers = cases::Buffers::new();
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let mut peer = Command::new(exe)
        .arg("bench-peer")
        .arg(format!(
            "{scope} {peer_cpu} {} {} {} {} {}",
            fds[0], fds[1], fds[2], fds[3], fds[4]
        ))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start the peer: {e}"))?;
    world::close(fds);
    let mut to_peer = peer.stdin.take().ok_or("no peer stdin")?;
    let mut from_peer = BufReader::new(peer.stdout.take().ok_or("no peer stdout")?);
    let mut line = String::new();
    let mut expect = |what: &str, from: &mut BufReader<_>| -> Result<(), String> {
        line.clear();
        from.read_line(&mut line).map_err(|e| e.to_string())?;
        if line.trim() == what {
            Ok(())
        } else {
            Err(format!("the peer said {line:?}, expected {what:?}"))
        }
    };
    expect("ready", &mut from_peer)?;
    let peer_watch = PeerWatch::start(peer.id());

    // One run of a case: tell the peer, take our side, hear it finish.
    let mut run_case = |i: usize,
                        iters: u64,
                        samples: &mut Histogram<u64>,
                        buffers: &mut cases::Buffers|
     -> Result<(), String> {
        writeln!(to_peer, "run {i} {iters}").map_err(|e| e.to_string())?;
        expect("go", &mut from_peer)?;
        cases::measure(i, &world, iters, samples, buffers, &threads);
        expect("done", &mut from_peer)
    };

    // A warm-up round, not recorded, also times each case: where a
    // hand-off is slow (the two processes sharing a cpu, a host that
    // parks a vCPU), a case runs fewer iterations, so that a block stays
    // near its budget and no run takes hours.
    let budget = if args.quick { QUICK_BLOCK } else { FULL_BLOCK };
    let mut iters = vec![0u64; CASES.len()];
    let mut scaled_down = Vec::new();
    for &i in &chosen {
        let case = &CASES[i];
        let asked = if args.quick {
            case.iters.1
        } else {
            case.iters.0
        };
        if case.fixed {
            iters[i] = asked;
            continue;
        }
        let warm = (asked / WARM_UP_PART).max(1);
        let mut scratch = new_histogram();
        run_case(i, warm, &mut scratch, &mut buffers)?;
        // Every sample is a time per iteration, without what the block
        // sets up first (a pool's start, say).
        let per_iter = scratch.mean().max(1.0) * 1e-9;
        let affordable = (budget.as_secs_f64() / per_iter) as u64;
        iters[i] = asked.min(affordable.max(MIN_ITERS));
        if iters[i] < asked {
            scaled_down.push(case.name);
        }
    }

    let mut samples: Vec<Histogram<u64>> = CASES.iter().map(|_| new_histogram()).collect();
    let bar = indicatif::ProgressBar::new((rounds * chosen.len()) as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} {msg}")
            .expect("progress template"),
    );
    for round in 0..rounds {
        for k in 0..chosen.len() {
            let i = chosen[(k + round) % chosen.len()];
            let case = &CASES[i];
            bar.set_message(case.name);
            run_case(i, iters[i], &mut samples[i], &mut buffers)?;
            bar.inc(1);
        }
    }
    bar.finish_and_clear();
    peer_watch.quitting();
    writeln!(to_peer, "quit").map_err(|e| e.to_string())?;
    drop(to_peer);
    let status = peer.wait().map_err(|e| e.to_string())?;
    if !status.success() {
        return Err(format!("the peer failed: {status}"));
    }

    let mut rows: Vec<Row> = chosen.iter().map(|&i| row(i, &samples[i])).collect();
    let python_note = if python::ROWS.iter().any(|(name, _)| wanted(name)) {
        let (n, limit) = if args.quick {
            (500, PYTHON_LIMIT_QUICK)
        } else {
            (2000, PYTHON_LIMIT_FULL)
        };
        match python::run(n, limit) {
            Ok(found) => {
                rows.extend(found.into_iter().filter(|r| wanted(&r.name)).map(|r| Row {
                    items_per_second: (r.unit == "ns/message").then(|| 1e9 / r.median.max(1.0)),
                    name: r.name,
                    unit: r.unit,
                    median: r.median,
                    p99: r.p99,
                    p999: r.p999,
                    bytes_per_second: None,
                    baseline: Some(r.baseline.to_owned()),
                    ratio: None,
                    floor: None,
                    floor_ratio: None,
                }));
                None
            }
            Err(why) => Some(why),
        }
    } else {
        None
    };
    fill_ratios(&mut rows);
    if let Some(path) = &args.plot {
        plot::draw(path, &spreads(&chosen, &samples, &rows))?;
    }
    print_table(&rows, rounds, &placement, python_note.as_deref());
    if !scaled_down.is_empty() {
        println!(
            "hand-offs were slow here: {} ran fewer iterations than asked, to keep a block near {} ms",
            scaled_down.join("; "),
            budget.as_millis()
        );
    }
    if let Some(path) = &args.json {
        let text = serde_json::to_string_pretty(&rows).map_err(|e| e.to_string())?;
        std::fs::write(path, text + "\n").map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(())
}

/// The row of case `i` from its samples.
fn row(i: usize, h: &Histogram<u64>) -> Row {
    let case = &CASES[i];
    let median = h.value_at_quantile(0.5) as f64;
    Row {
        name: case.name.to_owned(),
        unit: match case.unit {
            Unit::RoundTrip => "ns/round trip",
            Unit::Op => "ns/op",
            Unit::Message(_) => "ns/message",
            Unit::Call => "ns/call",
        },
        median,
        p99: h.value_at_quantile(0.99) as f64,
        p999: h.value_at_quantile(0.999) as f64,
        bytes_per_second: match case.unit {
            Unit::Message(bytes) => Some(bytes as f64 * 1e9 / median.max(1.0)),
            _ => None,
        },
        items_per_second: match case.unit {
            Unit::Message(_) => Some(1e9 / median.max(1.0)),
            _ => None,
        },
        baseline: case.baseline.map(str::to_owned),
        ratio: None,
        floor: case.floor.map(str::to_owned),
        floor_ratio: None,
    }
}

/// The distributions to plot: the rows timed sample by sample (round trips
/// and operations; a one-way stream has a sample a block), and Python's,
/// of which only the median, p99 and p99.9 are known.
fn spreads(chosen: &[usize], samples: &[Histogram<u64>], rows: &[Row]) -> Vec<plot::Spread> {
    let mut found: Vec<plot::Spread> = chosen
        .iter()
        .filter(|&&i| !matches!(CASES[i].unit, Unit::Message(_)))
        .map(|&i| {
            let q = |at: f64| samples[i].value_at_quantile(at) as f64;
            plot::Spread {
                name: CASES[i].name.to_owned(),
                p1: q(0.01),
                p25: q(0.25),
                p50: q(0.5),
                p75: q(0.75),
                p99: q(0.99),
                p999: q(0.999),
            }
        })
        .collect();
    found.extend(
        rows.iter()
            .filter(|r| r.name.starts_with("Python ") && r.unit != "ns/message")
            .map(|r| plot::Spread {
                name: r.name.clone(),
                p1: r.median,
                p25: r.median,
                p50: r.median,
                p75: r.median,
                p99: r.p99,
                p999: r.p999,
            }),
    );
    found
}

/// Each row's ratios to its baseline and floor, where those were run.
fn fill_ratios(rows: &mut [Row]) {
    let medians: Vec<(String, f64)> = rows.iter().map(|r| (r.name.clone(), r.median)).collect();
    let of = |name: &Option<String>| {
        let name = name.as_deref()?;
        medians.iter().find(|(n, _)| n == name).map(|&(_, m)| m)
    };
    for r in rows.iter_mut() {
        r.ratio = of(&r.baseline).map(|b| r.median / b);
        r.floor_ratio = of(&r.floor).map(|f| r.median / f);
    }
}

fn print_table(rows: &[Row], rounds: usize, placement: &str, python_note: Option<&str>) {
    println!(
        "shmipc bench: {rounds} rounds, every case once a round in rotating order; {placement}"
    );
    println!("times in ns per round trip, operation or message; ratio: median / the baseline's median (below 1: faster)");
    let width = rows.iter().map(|r| r.name.len()).max().unwrap_or(0);
    println!(
        "{:<width$}  {:>9}  {:>9}  {:>9}  {:>9}  {:>7}  {:>7}  {:>7}  baseline",
        "case", "median", "p99", "p99.9", "M items/s", "GB/s", "ratio", "floor x"
    );
    for r in rows {
        println!(
            "{:<width$}  {:>9}  {:>9}  {:>9}  {:>9}  {:>7}  {:>7}  {:>7}  {}",
            r.name,
            significant(Some(r.median)),
            significant(Some(r.p99)),
            significant(Some(r.p999)),
            significant(r.items_per_second.map(|v| v / 1e6)),
            significant(r.bytes_per_second.map(|v| v / 1e9)),
            significant(r.ratio),
            significant(r.floor_ratio),
            r.baseline.as_deref().unwrap_or("-"),
        );
    }
    if let Some(why) = python_note {
        println!("Python's multiprocessing not measured: {why}");
    }
}

/// `v` to three significant digits (whole numbers from 100 up); `-` for none.
fn significant(v: Option<f64>) -> String {
    match v {
        None => "-".to_owned(),
        Some(v) if v >= 100.0 || v == 0.0 => format!("{v:.0}"),
        Some(v) => {
            let digits = (2 - v.abs().log10().floor() as i32).max(0) as usize;
            format!("{v:.digits$}")
        }
    }
}

/// The peer process: opens the world, then runs the side of each case the
/// parent names, until told to quit.
pub fn peer(spec: &str) -> bool {
    match peer_inner(spec) {
        Ok(()) => true,
        Err(e) => {
            eprintln!("shmipc: bench peer: {e}");
            false
        }
    }
}

fn peer_inner(spec: &str) -> Result<(), String> {
    let numbers: Vec<i64> = spec
        .split_whitespace()
        .map(|p| p.parse().map_err(|e| format!("{p:?}: {e}")))
        .collect::<Result<_, _>>()?;
    let [scope, cpu, a, b, c, d, e] = numbers[..] else {
        return Err(format!("expected 7 numbers, found {spec:?}"));
    };
    die_with(scope as libc::pid_t);
    if cpu >= 0 {
        pin_to(cpu as usize);
    }
    let fds = [a, b, c, d, e].map(|fd| fd as i32);
    let world = World::open(scope as u32, fds).map_err(|e| e.to_string())?;
    let buffers = cases::Buffers::new();
    let stdin = std::io::stdin();
    let mut out = std::io::stdout();
    writeln!(out, "ready").map_err(|e| e.to_string())?;
    for line in stdin.lock().lines() {
        let line = line.map_err(|e| e.to_string())?;
        let words: Vec<&str> = line.split_whitespace().collect();
        match words[..] {
            ["run", i, iters] => {
                let i: usize = i.parse().map_err(|_| format!("bad case {i:?}"))?;
                let iters: u64 = iters.parse().map_err(|_| format!("bad count {iters:?}"))?;
                if i >= CASES.len() {
                    return Err(format!("no case {i}"));
                }
                writeln!(out, "go").map_err(|e| e.to_string())?;
                cases::answer(i, &world, iters, &buffers);
                writeln!(out, "done").map_err(|e| e.to_string())?;
            }
            ["quit"] => return Ok(()),
            _ => return Err(format!("unexpected {line:?}")),
        }
    }
    Ok(())
}

/// The cpus this process may run on.
fn available_cpus() -> Vec<usize> {
    // SAFETY: a zeroed cpu_set_t is a valid empty set, filled by the call.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    // SAFETY: `set` is a valid cpu_set_t of the size passed.
    let rc = unsafe { libc::sched_getaffinity(0, size_of::<libc::cpu_set_t>(), &mut set) };
    if rc != 0 {
        return Vec::new();
    }
    (0..libc::CPU_SETSIZE as usize)
        // SAFETY: `cpu` is below CPU_SETSIZE; `set` is initialised.
        .filter(|&cpu| unsafe { libc::CPU_ISSET(cpu, &set) })
        .collect()
}

/// Lets the calling thread run on every cpu this process was allowed at
/// its start (best effort).
fn unpin_thread() {
    let cpus = ALL_CPUS.get().cloned().unwrap_or_default();
    if cpus.is_empty() {
        return;
    }
    // SAFETY: a zeroed cpu_set_t is a valid empty set.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    for cpu in cpus {
        // SAFETY: `cpu` came from `available_cpus`, below CPU_SETSIZE.
        unsafe { libc::CPU_SET(cpu, &mut set) };
    }
    // SAFETY: `set` is a valid cpu_set_t of the size passed.
    unsafe { libc::sched_setaffinity(0, size_of::<libc::cpu_set_t>(), &set) };
}

/// The cpus this process could use before it pinned itself.
static ALL_CPUS: std::sync::OnceLock<Vec<usize>> = std::sync::OnceLock::new();

/// Pins the calling thread to `cpu`, if given (best effort).
fn pin_thread(cpu: Option<usize>) {
    if let Some(cpu) = cpu {
        pin_to(cpu);
    }
}

/// Pins the calling thread (and the threads it starts later) to `cpu`
/// (best effort: a refusal leaves it unpinned).
fn pin_to(cpu: usize) {
    // SAFETY: as in `available_cpus`.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    // SAFETY: `cpu` is below CPU_SETSIZE (it came from `available_cpus`).
    unsafe { libc::CPU_SET(cpu, &mut set) };
    // SAFETY: `set` is a valid cpu_set_t of the size passed.
    unsafe { libc::sched_setaffinity(0, size_of::<libc::cpu_set_t>(), &set) };
}

/// Makes this process (the peer) die when `parent` does, even by SIGKILL:
/// a peer left spinning on a shared word would hold a cpu for ever.
fn die_with(parent: libc::pid_t) {
    // SAFETY: prctl with PR_SET_PDEATHSIG and a signal number reads no
    // memory of ours.
    unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) };
    // SAFETY: getppid cannot fail. A parent that died before the prctl
    // left us to another: then no signal will come, so go now.
    if unsafe { libc::getppid() } != parent {
        std::process::exit(1);
    }
}

/// Watches the peer from a thread of its own: if it dies before it is
/// told to quit, the parent (perhaps spinning on a word the peer would
/// have moved) says so and exits instead of waiting for ever.
struct PeerWatch {
    quitting: Arc<AtomicBool>,
}

impl PeerWatch {
    fn start(pid: u32) -> PeerWatch {
        let quitting = Arc::new(AtomicBool::new(false));
        let told = quitting.clone();
        std::thread::spawn(move || {
            // SAFETY: a zeroed siginfo_t is a valid buffer for waitid.
            let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
            // SAFETY: waitid on our own child with WNOWAIT only waits for
            // its exit and leaves it to be reaped by `Child::wait`.
            let rc = unsafe {
                libc::waitid(
                    libc::P_PID,
                    pid as libc::id_t,
                    &mut info,
                    libc::WEXITED | libc::WNOWAIT,
                )
            };
            if rc == 0 && !told.load(Ordering::Acquire) {
                // SAFETY: waitid filled `info` for an exited child.
                let status = unsafe { info.si_status() };
                let how = if info.si_code == libc::CLD_EXITED {
                    format!("exited with status {status}")
                } else {
                    format!("was killed by signal {status}")
                };
                eprintln!("shmipc: bench: the peer process {pid} {how} in the middle of a run");
                std::process::exit(1);
            }
        });
        PeerWatch { quitting }
    }

    /// From here on the peer's exit is expected.
    fn quitting(&self) {
        self.quitting.store(true, Ordering::Release);
    }
}

/// Makes SIGINT, SIGTERM and SIGHUP remove the segments this process
/// created before it exits: a bench stopped by ^C leaves nothing in
/// /dev/shm (its peer and the pool's workers die with it).
///
/// The handler only writes the signal's number to a pipe; a thread of its
/// own reads it and cleans up as ordinary code. Blocking the signals and
/// taking them with `sigwait` instead (tried) passed the blocked mask to
/// every child, and Python's pool, whose `terminate` sends SIGTERM, hung.
fn clean_up_on_signal() -> Result<(), String> {
    let mut ends = [0; 2];
    // SAFETY: `ends` has room for the two descriptors pipe2 writes.
    if unsafe { libc::pipe2(ends.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(format!("pipe2: {}", std::io::Error::last_os_error()));
    }
    let [read_end, write_end] = ends;
    SIGNAL_PIPE.store(write_end, Ordering::Release);
    std::thread::spawn(move || {
        // SAFETY: `read_end` is the pipe's read end, owned by this thread
        // from here on.
        let mut from_handler = unsafe { std::fs::File::from_raw_fd(read_end) };
        let mut signal = [0u8; 1];
        if std::io::Read::read_exact(&mut from_handler, &mut signal).is_err() {
            return;
        }
        let _made = SETUP
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let me = std::process::id();
        for segment in shmipc::segments::list().unwrap_or_default() {
            if segment.creator_pid == Some(me) {
                let _ = std::fs::remove_file(segment.path());
            }
        }
        std::process::exit(128 + i32::from(signal[0]));
    });
    for signal in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
        // SAFETY: a zeroed sigaction with a handler address, an empty mask
        // and SA_RESTART (other threads' reads go on) is valid;
        // `on_signal` is an `extern "C" fn(c_int)`, as a handler without
        // SA_SIGINFO must be.
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
            action.sa_flags = libc::SA_RESTART;
            libc::sigemptyset(&mut action.sa_mask);
            libc::sigaction(signal, &action, std::ptr::null_mut());
        }
    }
    Ok(())
}

/// Held while the run's objects are made: the clean-up after a signal
/// takes it first.
static SETUP: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// The write end of the pipe [`on_signal`] tells the clean-up thread by.
static SIGNAL_PIPE: AtomicI32 = AtomicI32::new(-1);

/// Passes the signal's number to the clean-up thread. Only
/// async-signal-safe work: an atomic load and `write(2)`.
extern "C" fn on_signal(signal: libc::c_int) {
    let fd = SIGNAL_PIPE.load(Ordering::Acquire);
    let number = signal as u8;
    // SAFETY: `fd` is the pipe's write end, open for the process's life;
    // `number` is one valid byte.
    unsafe { libc::write(fd, (&raw const number).cast(), 1) };
}
