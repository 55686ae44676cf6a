//! The `shmipc` command, run as a binary against real segments: `ls` and
//! `inspect` on a segment of every kind, `gc` after a creator is
//! SIGKILLed, `rm` of a segment in use and of one that is not.

#[path = "../../tests/common/mod.rs"]
mod common;

use std::os::unix::process::CommandExt;
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use common::{name, role, spawn, tell_parent, wait_for_parent, Cleanup};

fn shmipc(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_shmipc"))
        .args(args)
        .output()
        .expect("run the shmipc binary")
}

/// Runs the binary as [`shmipc`] does, but stops it (and so its peer, which
/// dies with it) if it runs longer than `limit`: a benchmark that stalls
/// fails this test with what it printed, instead of holding CI.
fn shmipc_within(args: &[&str], limit: Duration) -> Output {
    run_within(Command::new(env!("CARGO_BIN_EXE_shmipc")).args(args), limit)
}

fn run_within(command: &mut Command, limit: Duration) -> Output {
    let args: Vec<_> = command.get_args().map(|a| a.to_owned()).collect();
    let child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run the shmipc binary");
    let pid = child.id();
    let (done, finished) = mpsc::channel();
    let waiter = std::thread::spawn(move || {
        let out = child.wait_with_output();
        let _ = done.send(());
        out
    });
    let timed_out = finished.recv_timeout(limit).is_err();
    if timed_out {
        // SIGTERM first: the bench removes its segments on it. SIGKILL
        // if that did not end it.
        for (signal, grace) in [
            (libc::SIGTERM, Duration::from_secs(10)),
            (libc::SIGKILL, limit),
        ] {
            // SAFETY: kill(2) on the child this test started, not yet
            // reaped: its waiter is still in `wait_with_output`.
            unsafe { libc::kill(pid as libc::pid_t, signal) };
            if finished.recv_timeout(grace).is_ok() {
                break;
            }
        }
    }
    let out = waiter.join().unwrap().expect("wait for the shmipc binary");
    assert!(
        !timed_out,
        "shmipc {args:?} ran longer than {limit:?}; it printed:\n{}\n{}",
        stdout(&out),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The `ls` row of `name`, split into its columns' words.
fn ls_row(listing: &str, name: &str) -> Option<Vec<String>> {
    listing
        .lines()
        .find(|l| l.split_whitespace().next() == Some(name))
        .map(|l| l.split_whitespace().map(str::to_owned).collect())
}

/// The value `inspect` printed for `field` in the block of the segment
/// `name` (blocks start with its `name` line).
fn field(inspection: &str, name: &str, field: &str) -> Option<String> {
    let mut in_block = false;
    for line in inspection.lines() {
        if let Some(rest) = line.strip_prefix("name") {
            in_block = rest.trim() == name;
            continue;
        }
        if in_block {
            if let Some(rest) = line.strip_prefix(field) {
                if rest.starts_with("  ") {
                    return Some(rest.trim().to_owned());
                }
            }
        }
    }
    None
}

#[test]
fn ls_and_inspect_show_a_segment_of_every_kind() {
    if role().is_some() {
        return;
    }
    let labels = [
        "lock", "rlock", "sem", "bsem", "event", "cond", "barrier", "queue", "mq", "pipe", "shm",
        "value", "rawvalue", "array", "rawarray",
    ];
    let _cleanup = Cleanup::new(&labels);
    let n = |l: &str| name(l);
    let lock = shmipc::Lock::create(&n("lock")).unwrap();
    let _guard = lock.acquire().unwrap();
    let rlock = shmipc::RLock::create(&n("rlock")).unwrap();
    let sem = shmipc::Semaphore::create(&n("sem"), 3).unwrap();
    sem.acquire();
    let bsem = shmipc::BoundedSemaphore::create(&n("bsem"), 2).unwrap();
    let event = shmipc::Event::create(&n("event")).unwrap();
    event.set();
    let cond = shmipc::Condition::<shmipc::Lock>::create(&n("cond")).unwrap();
    let barrier = shmipc::Barrier::create(&n("barrier"), 3).unwrap();
    let queue = shmipc::Queue::<u64>::create_spsc(&n("queue"), 8).unwrap();
    queue.put(1).unwrap();
    queue.put(2).unwrap();
    let consumer = queue.consumer().unwrap();
    let mq = shmipc::MessageQueue::create(&n("mq"), 4096).unwrap();
    mq.put_bytes(b"hello").unwrap();
    let (first, second) = shmipc::pipe(&n("pipe"), true).unwrap();
    first.send_bytes(b"to the second end").unwrap();
    let block = shmipc::SharedMemory::create(&n("shm"), 100).unwrap();
    let value = shmipc::Value::create(&n("value"), 7u64).unwrap();
    let raw_value = shmipc::RawValue::create(&n("rawvalue"), 7u32).unwrap();
    let array = shmipc::Array::<u16>::create(&n("array"), 4).unwrap();
    let raw_array = shmipc::RawArray::<i32>::create(&n("rawarray"), 10).unwrap();

    let out = shmipc(&["ls"]);
    assert!(out.status.success(), "{out:?}");
    let listing = stdout(&out);
    let me = std::process::id().to_string();
    for (label, kind, type_name) in [
        ("lock", "Lock", "-"),
        ("rlock", "RLock", "-"),
        ("sem", "Semaphore", "-"),
        ("bsem", "BoundedSemaphore", "-"),
        ("event", "Event", "-"),
        ("cond", "Condition", "RawCondition"),
        ("barrier", "Barrier", "-"),
        ("queue", "Queue", "u64"),
        ("mq", "MessageQueue", "bytes"),
        ("pipe", "Pipe", "bytes"),
        ("shm", "SharedMemory", "u8"),
        ("value", "Value", "u64"),
        ("rawvalue", "RawValue", "u32"),
        ("array", "Array", "u16"),
        ("rawarray", "RawArray", "i32"),
    ] {
        let row =
            ls_row(&listing, &n(label)).unwrap_or_else(|| panic!("no row for {label}:\n{listing}"));
        assert_eq!(row[1], kind, "{label}: {row:?}");
        assert_eq!(row[2], type_name, "{label}: {row:?}");
        assert_eq!(
            row[4..6],
            [me.clone(), "(alive)".to_owned()],
            "{label}: {row:?}"
        );
        assert!(
            row[6].split(',').any(|p| p == me),
            "{label} mapped by: {row:?}"
        );
    }

    let names: Vec<String> = labels.iter().map(|l| n(l)).collect();
    let mut args = vec!["inspect"];
    args.extend(names.iter().map(String::as_str));
    let out = shmipc(&args);
    assert!(out.status.success(), "{out:?}");
    let text = stdout(&out);
    let alive_holder = format!("pid {me} (alive)");
    for (label, key, expected) in [
        ("lock", "locked", "yes"),
        ("lock", "holder", alive_holder.as_str()),
        ("rlock", "locked", "no"),
        ("sem", "value", "2"),
        ("bsem", "bound", "2"),
        ("event", "set", "yes"),
        ("cond", "waiting", "0"),
        ("barrier", "parties", "3"),
        ("barrier", "broken", "no"),
        ("queue", "mode", "SPSC"),
        ("queue", "depth", "2"),
        ("queue", "capacity", "8"),
        ("queue", "producer", "none"),
        ("mq", "closed", "no"),
        ("pipe", "duplex", "yes"),
        ("pipe", "second end closed", "no"),
        ("shm", "bytes", "100"),
        ("value", "type", "u64"),
        ("rawarray", "parameter", "10"),
    ] {
        assert_eq!(
            field(&text, &n(label), key).as_deref(),
            Some(expected),
            "{label} {key}:\n{text}"
        );
    }
    // Holders are named with their thread, so only the start is fixed.
    let consumer_field = field(&text, &n("queue"), "consumer").unwrap();
    assert!(
        consumer_field.starts_with(&format!("pid {me} ")),
        "{consumer_field}"
    );
    assert!(consumer_field.ends_with("alive)"), "{consumer_field}");
    assert!(
        field(&text, &n("mq"), "used bytes").is_some_and(|b| b != "0"),
        "{text}"
    );
    assert!(field(&text, &n("pipe"), "bytes waiting for the second end").is_some_and(|b| b != "0"));
    drop((rlock, bsem, cond, barrier, consumer, first, second, block));
    drop((value, raw_value, array, raw_array));
}

#[test]
fn gc_removes_what_a_killed_creator_left_and_keeps_what_is_in_use() {
    if role().as_deref() == Some("creator") {
        // Two segments, then nothing: the parent kills this process, so
        // neither handle's drop removes its name.
        let a = shmipc::Event::create(&name("gc-left")).unwrap();
        let b = shmipc::Event::create(&name("gc-used")).unwrap();
        tell_parent("created");
        wait_for_parent();
        drop((a, b));
        return;
    }
    if role().is_some() {
        return;
    }
    let _cleanup = Cleanup::new(&["gc-left", "gc-used"]);
    let mut creator = spawn(
        "gc_removes_what_a_killed_creator_left_and_keeps_what_is_in_use",
        "creator",
        &[],
    );
    creator.expect_line("created");
    // This process maps one of them: in use, though its creator dies.
    let used = shmipc::Event::open(&name("gc-used")).unwrap();
    // Dropping the child SIGKILLs it and reaps it.
    drop(creator);

    // Only this test's names: other runs on the machine keep theirs.
    let prefix = name("gc-");
    let out = shmipc(&["gc", "--dry-run", "--prefix", &prefix]);
    assert!(out.status.success(), "{out:?}");
    let text = stdout(&out);
    assert!(
        text.contains(&format!("would remove '{}'", name("gc-left"))),
        "{text}"
    );
    assert!(!text.contains(&name("gc-used")), "{text}");
    assert!(
        shmipc::Event::open(&name("gc-left")).is_ok(),
        "a dry run removes nothing"
    );

    let out = shmipc(&["gc", "--prefix", &prefix]);
    assert!(out.status.success(), "{out:?}");
    let text = stdout(&out);
    assert!(
        text.contains(&format!("removed '{}'", name("gc-left"))),
        "{text}"
    );
    assert!(matches!(
        shmipc::Event::open(&name("gc-left")),
        Err(shmipc::Error::NotFound { .. })
    ));
    assert!(shmipc::Event::open(&name("gc-used")).is_ok());
    drop(used);
}

#[test]
fn rm_keeps_a_segment_in_use_and_removes_one_that_is_not() {
    if role().is_some() {
        return;
    }
    let _cleanup = Cleanup::new(&["rm-used", "rm-free"]);
    let persist = shmipc::Options::new().persist(true);
    let used = shmipc::Lock::create_with(&name("rm-used"), &persist).unwrap();
    drop(shmipc::Lock::create_with(&name("rm-free"), &persist).unwrap());

    let out = shmipc(&["rm", &name("rm-used"), &name("rm-free"), &name("rm-none")]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("shmipc: cannot remove '{}'", name("rm-used")))
            && err.contains("in use"),
        "{err}"
    );
    assert!(
        err.contains(&format!("shmipc: cannot remove '{}'", name("rm-none"))),
        "{err}"
    );
    assert!(shmipc::Lock::open(&name("rm-used")).is_ok());
    assert!(matches!(
        shmipc::Lock::open(&name("rm-free")),
        Err(shmipc::Error::NotFound { .. })
    ));
    drop(used);
}

#[test]
fn bench_quick_json_has_a_numeric_row_for_every_item() {
    if role().is_some() {
        return;
    }
    let dir = std::env::temp_dir().join(format!("shmipc-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (json, svg) = (dir.join("rows.json"), dir.join("latency.svg"));
    let out = shmipc_within(
        &[
            "bench",
            "--quick",
            "--rounds",
            "1",
            "--json",
            json.to_str().unwrap(),
            "--plot",
            svg.to_str().unwrap(),
        ],
        // A minute or two where hand-offs are slow (the warm-up scales the
        // blocks down); a stall past this is a bug.
        Duration::from_secs(15 * 60),
    );
    let text = std::fs::read_to_string(&json);
    let plot = std::fs::read_to_string(&svg);
    let _ = std::fs::remove_dir_all(&dir);
    assert!(out.status.success(), "{out:?}");
    let rows: serde_json::Value = serde_json::from_str(&text.unwrap()).unwrap();
    let rows = rows.as_array().unwrap();
    let mut expected = vec![
        "one cache line, round trip (floor)",
        "two cache lines, round trip (floor)",
        "futex ping-pong",
        "OS pipe ping-pong, 8 B",
        "Unix socket ping-pong, 8 B",
        "OS pipe one-way, 8 B",
        "Unix socket one-way, 8 B",
        "OS pipe one-way, 4 KiB",
        "Unix socket one-way, 4 KiB",
        "rtrb ping-pong (threads)",
        "crossbeam ArrayQueue ping-pong (threads)",
        "parking_lot Mutex, uncontended (threads)",
        "Lock, uncontended",
        "Lock, two processes contending",
        "Value<u64> increments",
        "Semaphore hand-off",
        "Event hand-off",
        "Barrier(2) round",
        "Queue<u64> SPSC ping-pong",
        "Queue<u64> MPMC ping-pong",
        "Queue<u64> SPSC one-way",
        "Queue<u64> MPMC one-way",
        "MessageQueue ping-pong, 8 B",
        "MessageQueue one-way, 8 B",
        "MessageQueue one-way, 4 KiB",
        "MessageQueue one-way, 64 KiB",
        "Pipe ping-pong, 8 B",
        "Pipe one-way, 8 B",
        "Pipe one-way, 4 KiB",
        "Pipe one-way, 64 KiB",
        "loan one-way, 64 MiB",
        "Pool(2) start-up and first result",
        "Pool(2) imap, chunksize 1",
        "Pool(2) map of 100,000 ints",
    ];
    let python = Command::new("python3")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if python {
        expected.extend([
            "Python Queue ping-pong, 8 B",
            "Python Pipe ping-pong, 8 B",
            "Python Lock, uncontended",
            "Python Value increments",
            "Python Pool(2) start-up and first result",
            "Python Pool(2) imap, chunksize 1",
            "Python Pool(2) map of 100,000 ints",
        ]);
    }
    for name in expected {
        let row = rows
            .iter()
            .find(|r| r["name"] == name)
            .unwrap_or_else(|| panic!("no row {name:?}"));
        for key in ["median", "p99", "ratio"] {
            assert!(
                row[key].as_f64().is_some_and(|v| v.is_finite() && v > 0.0),
                "{name}: {key} is {}",
                row[key]
            );
        }
        assert!(
            row["unit"].as_str().is_some_and(|u| u.starts_with("ns/")),
            "{row}"
        );
        assert!(row["baseline"].is_string(), "{row}");
    }
    // The plot draws the timed rows, each named.
    let plot = plot.unwrap();
    assert!(plot.starts_with("<svg"), "{}", &plot[..plot.len().min(200)]);
    for name in ["two cache lines, round trip (floor)", "Pipe ping-pong, 8 B"] {
        assert!(plot.contains(name), "{name} not in the plot");
    }
    // The table names the placement of the two processes.
    let table = stdout(&out);
    assert!(
        table.contains("pinned") || table.contains("share it"),
        "{table}"
    );
}

#[test]
fn bench_finishes_with_both_processes_on_one_cpu() {
    if role().is_some() {
        return;
    }
    // Where the two processes share a cpu, a round trip that spins waits
    // a whole time slice: CI's run once stalled for over an hour so. The
    // command must notice slow hand-offs and scale its blocks down.
    let mut command = Command::new(env!("CARGO_BIN_EXE_shmipc"));
    command.args(["bench", "--quick", "--rounds", "1"]);
    // The first cpu this test may use (not always cpu 0).
    // SAFETY: a zeroed cpu_set_t is a valid empty set, filled by the call.
    let mut allowed: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    // SAFETY: `allowed` is a valid cpu_set_t of the size passed.
    unsafe { libc::sched_getaffinity(0, size_of::<libc::cpu_set_t>(), &mut allowed) };
    let cpu = (0..libc::CPU_SETSIZE as usize)
        // SAFETY: `cpu` is below CPU_SETSIZE; `allowed` is initialised.
        .find(|&cpu| unsafe { libc::CPU_ISSET(cpu, &allowed) })
        .expect("a cpu to run on");
    // SAFETY: a zeroed cpu_set_t is a valid empty set.
    let mut one: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    // SAFETY: `cpu` is below CPU_SETSIZE.
    unsafe { libc::CPU_SET(cpu, &mut one) };
    // SAFETY: the closure runs in the child between fork and exec and
    // makes one async-signal-safe system call on a set it owns.
    unsafe {
        command.pre_exec(move || {
            if libc::sched_setaffinity(0, size_of::<libc::cpu_set_t>(), &one) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let out = run_within(&mut command, Duration::from_secs(15 * 60));
    assert!(out.status.success(), "{out:?}");
    let table = stdout(&out);
    assert!(table.contains("share it"), "{table}");
    for name in [
        "one cache line, round trip (floor)",
        "two cache lines, round trip (floor)",
        "rtrb ping-pong (threads)",
        "Queue<u64> SPSC ping-pong",
        "Pipe ping-pong, 8 B",
    ] {
        assert!(table.contains(name), "{name} not in\n{table}");
    }
}

#[test]
fn a_bench_stopped_by_sigterm_leaves_no_segment() {
    if role().is_some() {
        return;
    }
    let mut child = Command::new(env!("CARGO_BIN_EXE_shmipc"))
        .args(["bench", "--rounds", "1000"])
        .stdout(Stdio::null())
        .spawn()
        .expect("run the shmipc binary");
    let pid = child.id();
    let made_by_child = || {
        shmipc::segments::list()
            .unwrap()
            .into_iter()
            .filter(|s| s.creator_pid == Some(pid))
            .count()
    };
    // The bench takes the signals before it creates anything: once its
    // first segments exist, a SIGTERM finds the clean-up in place.
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while made_by_child() == 0 {
        assert!(std::time::Instant::now() < deadline, "no segment made");
        std::thread::sleep(Duration::from_millis(1));
    }
    // SAFETY: kill(2) on the child this test started and has not reaped.
    unsafe { libc::kill(pid as libc::pid_t, libc::SIGTERM) };
    let status = child.wait().unwrap();
    let left = made_by_child();
    if left > 0 {
        let _ = shmipc::segments::collect_garbage(&format!("bench-{pid}-"), false);
    }
    assert_eq!(
        std::os::unix::process::ExitStatusExt::into_raw(status) >> 8,
        143
    );
    assert_eq!(left, 0, "segments left by a stopped bench");
}
