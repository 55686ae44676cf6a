//! Python's `multiprocessing`, measured by the script this command ships
//! (`bench.py`) when `python3` is on the PATH: run once after the rounds,
//! with Python's own child processes (it cannot take part in our blocks).

use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

const SCRIPT: &str = include_str!("bench.py");

/// Python's rows and the row of this crate each is compared with.
pub const ROWS: &[(&str, &str)] = &[
    ("Python Queue ping-pong, 8 B", "MessageQueue ping-pong, 8 B"),
    ("Python Pipe ping-pong, 8 B", "Pipe ping-pong, 8 B"),
    ("Python Lock, uncontended", "Lock, uncontended"),
    ("Python Value increments", "Value<u64> increments"),
    (
        "Python Pool(2) start-up and first result",
        super::cases::POOL_START,
    ),
    ("Python Pool(2) imap, chunksize 1", super::cases::POOL_IMAP),
    ("Python Pool(2) map of 100,000 ints", super::cases::POOL_MAP),
];

/// A row measured by Python.
pub struct PythonRow {
    pub name: String,
    /// What a sample is: `ns/round trip`, `ns/op`, `ns/call` or `ns/message`.
    pub unit: &'static str,
    pub median: f64,
    pub p99: f64,
    pub p999: f64,
    /// The row of this crate it is compared with.
    pub baseline: &'static str,
}

/// Runs the script with `n` round trips or operations per case, for at
/// most `limit`; why not, if it could not.
pub fn run(n: u64, limit: Duration) -> Result<Vec<PythonRow>, String> {
    let child = Command::new("python3")
        .arg("-c")
        .arg(SCRIPT)
        .arg(n.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("python3: {e}"))?;
    let pid = child.id();
    // Waited for on a thread of its own, which also drains both pipes, so
    // that the wait can end at `limit`.
    let (done, finished) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = done.send(child.wait_with_output());
    });
    let Ok(out) = finished.recv_timeout(limit) else {
        // SAFETY: kill(2) on the pid of the child we started, whose waiter
        // has not reported its exit: it is still ours.
        unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
        return Err(format!(
            "python3 took longer than {} s and was stopped",
            limit.as_secs()
        ));
    };
    let out = out.map_err(|e| format!("python3: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "python3 failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let mut rows = Vec::new();
    for line in text.lines() {
        let v: serde_json::Value =
            serde_json::from_str(line).map_err(|e| format!("python3 printed {line:?}: {e}"))?;
        let name = v["name"].as_str().ok_or("a row without a name")?.to_owned();
        let number = |k: &str| v[k].as_f64().ok_or(format!("{name}: no {k}"));
        let baseline = ROWS
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, b)| *b)
            .ok_or(format!("unknown Python row {name:?}"))?;
        let unit = match v["unit"].as_str() {
            Some("ns/round trip") => "ns/round trip",
            Some("ns/call") => "ns/call",
            Some("ns/message") => "ns/message",
            _ => "ns/op",
        };
        rows.push(PythonRow {
            median: number("median")?,
            p99: number("p99")?,
            p999: number("p999")?,
            name,
            unit,
            baseline,
        });
    }
    Ok(rows)
}
