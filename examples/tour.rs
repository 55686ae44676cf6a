//! A tour of shmipc: worker processes (this same executable, started again)
//! share a Lock (which guards a Value, as Python's `Value(..., lock=lock)`),
//! an Array, a RawValue and a Queue, and report what they did.
//!
//! ```text
//! cargo run --release --example tour [-- WORKERS INCREMENTS]
//! ```

use std::process::{Command, ExitCode};
use std::time::Instant;

use shmipc::{Array, CellLock, Lock, Options, Queue, RawValue, Value};

const WORKER_ENV: &str = "SHMIPC_TOUR_WORKER";

/// Per-worker report, written by the worker into its own slot of an `Array`.
#[derive(Clone, Copy, Debug, Default, bytemuck::Pod, bytemuck::Zeroable)]
#[repr(C)]
struct Report {
    pid: u32,
    _pad: u32,
    increments: u64,
    nanos: u64,
}

fn names(root_pid: u32) -> [String; 5] {
    ["lock", "counter", "reports", "lockfree", "done"].map(|part| format!("tour-{root_pid}-{part}"))
}

fn worker(slot: usize, root_pid: u32, increments: u64) -> shmipc::Result<()> {
    let [lock, counter, reports, lockfree, done] = names(root_pid);
    let lock = Lock::open(&lock)?;
    // The counter is guarded by the shared lock, which it names.
    let counter = Value::<u64>::open(&counter)?;
    assert!(counter.get_lock().same_lock(&lock));
    let done = Queue::<u64>::open(&done)?;
    let reports = Array::<Report>::open(&reports)?;
    let lockfree = RawValue::<u64>::open(&lockfree)?;
    let started = Instant::now();
    for _ in 0..increments {
        *counter.lock()? += 1;
    }
    let nanos = started.elapsed().as_nanos() as u64;
    for _ in 0..increments {
        lockfree.fetch_add(1);
    }
    let mut all = reports.lock()?;
    let Some(mine) = all.get_mut(slot) else {
        return Err(shmipc::Error::IndexOutOfBounds {
            name: reports.name().to_owned(),
            index: slot,
            len: reports.len(),
        });
    };
    *mine = Report {
        pid: std::process::id(),
        _pad: 0,
        increments,
        nanos,
    };
    drop(all);
    // Tell the parent, which prints workers as they finish.
    done.put(slot as u64)?;
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let number =
        |i: usize, default: u64| args.get(i).and_then(|a| a.parse().ok()).unwrap_or(default);
    if let Ok(spec) = std::env::var(WORKER_ENV) {
        let mut parts = spec.split(':').filter_map(|p| p.parse::<u64>().ok());
        let (Some(slot), Some(root), Some(n)) = (parts.next(), parts.next(), parts.next()) else {
            eprintln!("bad {WORKER_ENV}={spec:?}, expected SLOT:ROOT_PID:INCREMENTS");
            return ExitCode::FAILURE;
        };
        return match worker(slot as usize, root as u32, n) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("worker {slot}: {e}");
                ExitCode::FAILURE
            }
        };
    }
    match run(number(0, 4) as usize, number(1, 1_000_000)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tour: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(workers: usize, increments: u64) -> Result<(), Box<dyn std::error::Error>> {
    let root = std::process::id();
    let [lock, counter, reports, lockfree, done] = names(root);
    // The creating handles remove these names when they drop, even on error.
    let lock = Lock::create(&lock)?;
    let counter = Value::create_with(&counter, 0u64, CellLock::Shared(&lock), &Options::new())?;
    let done = Queue::<u64>::create(&done, workers.max(1) as u64)?;
    let reports = Array::<Report>::create(&reports, workers)?;
    let lockfree = RawValue::create(&lockfree, 0u64)?;
    println!("shmipc tour: {workers} worker processes x {increments} increments each\n");
    let exe = std::env::current_exe()?;
    let started = Instant::now();
    let mut children = Vec::new();
    for slot in 0..workers {
        let child = Command::new(&exe)
            .env(WORKER_ENV, format!("{slot}:{root}:{increments}"))
            .spawn()?;
        children.push(child);
    }
    for _ in 0..workers {
        match done.get_timeout(std::time::Duration::from_secs(600)) {
            Ok(slot) => println!(
                "worker {slot} finished after {:.1} ms",
                started.elapsed().as_secs_f64() * 1e3
            ),
            Err(e) => {
                eprintln!("tour: {e}");
                break;
            }
        }
    }
    let mut failed = 0;
    for mut child in children {
        if !child.wait()?.success() {
            failed += 1;
        }
    }
    let wall = started.elapsed();
    if failed > 0 {
        return Err(format!("{failed} worker(s) failed").into());
    }
    println!(
        "{:>6}  {:>8}  {:>12}  {:>14}",
        "worker", "pid", "increments", "ns/increment"
    );
    for (slot, r) in reports
        .lock()
        .map_err(shmipc::Error::from)?
        .iter()
        .enumerate()
    {
        let per = r.nanos as f64 / r.increments.max(1) as f64;
        println!("{slot:>6}  {:>8}  {:>12}  {per:>14.1}", r.pid, r.increments);
    }
    let total = *counter.lock().map_err(shmipc::Error::from)?;
    let expected = workers as u64 * increments;
    println!("\nValue<u64> under the shared Lock: {total} (expected {expected})");
    println!(
        "RawValue<u64> fetch_add:   {} (expected {expected})",
        lockfree.load()
    );
    println!(
        "wall time {:.1} ms for {} locked + {} lock-free increments",
        wall.as_secs_f64() * 1e3,
        expected,
        expected
    );
    if total != expected || lockfree.load() != expected {
        return Err("lost updates".into());
    }
    Ok(())
}
