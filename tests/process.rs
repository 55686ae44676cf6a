//! `Process`: functions run in real child processes, started by re-running
//! this test binary, whose `main` calls `shmipc::init()` first (so it has
//! its own `main`, not libtest's; each test prints libtest's lines).

use std::io::{BufRead, BufReader, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::process::{Command, Stdio};
use std::time::Duration;

use shmipc::{Process, ProcessError};

const ROLE: &str = "SHMIPC_PROCESS_TEST_ROLE";

fn square(x: u64) -> u64 {
    x * x
}

fn describe(words: Vec<String>) -> (usize, String) {
    (words.len(), words.join(" "))
}

fn boom(n: u32) -> u32 {
    panic!("boom {n}")
}

/// Blocks for ever (until killed).
fn forever(_: ()) {
    loop {
        std::thread::park();
    }
}

fn returns_its_value_and_exit_code_0() {
    let mut p = Process::new(square, 7).name("squarer");
    assert_eq!(p.get_name(), "squarer");
    assert_eq!(p.exitcode(), None);
    p.start().unwrap();
    let pid = p.pid().unwrap();
    p.join();
    assert_eq!(p.exitcode(), Some(0));
    assert!(!p.is_alive());
    assert_eq!(p.result(), Ok(49));
    // Reaped: no zombie left.
    assert!(!std::path::Path::new(&format!("/proc/{pid}")).exists());
    p.close().unwrap();

    let mut p = Process::new(describe, vec!["a".to_owned(), "bc".to_owned()]);
    p.start().unwrap();
    p.join();
    assert_eq!(p.result(), Ok((2, "a bc".to_owned())));
}

fn a_panic_is_its_message_and_exit_code_1() {
    let mut p = Process::new(boom, 42);
    p.start().unwrap();
    p.join();
    assert_eq!(p.exitcode(), Some(1));
    assert_eq!(
        p.result(),
        Err(ProcessError::Panicked("boom 42".to_owned()))
    );
}

fn kill_and_terminate_give_minus_the_signal() {
    for (signal, how) in [(9, "kill"), (15, "terminate")] {
        let mut p = Process::new(forever, ());
        p.start().unwrap();
        assert!(p.is_alive());
        match how {
            "kill" => p.kill().unwrap(),
            _ => p.terminate().unwrap(),
        }
        p.join();
        assert_eq!(p.exitcode(), Some(-signal), "{how}");
        assert_eq!(p.result(), Err(ProcessError::Died { exitcode: -signal }));
    }
}

fn join_timeout_and_close_while_running() {
    let mut p = Process::new(forever, ());
    p.start().unwrap();
    assert!(!p.join_timeout(Duration::from_millis(50)));
    assert!(p.is_alive());
    assert_eq!(p.result(), Err(ProcessError::TimedOut));
    p.kill().unwrap();
    assert!(p.join_timeout(Duration::from_secs(60)));
    let p2 = Process::new(forever, ()).daemon(true);
    assert!(p2.close().is_ok(), "never started: nothing runs");
    let mut p3 = Process::new(forever, ()).daemon(true);
    p3.start().unwrap();
    let p3 = match p3.close() {
        Err(shmipc::Error::InvalidArgument { detail }) => detail,
        other => panic!("expected an error, got {other:?}"),
    };
    assert!(p3.contains("still running"), "{p3}");
}

fn hang(_: u32) -> u32 {
    loop {
        std::thread::park();
    }
}

fn pool_maps_in_order_and_a_panic_leaves_the_worker_alive() {
    let pool = shmipc::Pool::new(2).unwrap();
    let squares: Vec<u64> = (0..200).map(|x| x * x).collect();
    assert_eq!(pool.map(square, 0..200).unwrap(), squares);
    let pids = pool.pids();
    assert_eq!(
        pool.apply(boom, 7),
        Err(shmipc::PoolError::Panicked("boom 7".to_owned()))
    );
    assert_eq!(pool.apply(square, 12), Ok(144));
    assert_eq!(pool.pids(), pids, "a panic kills no worker");
    let pending = pool.apply_async(square, 5).unwrap();
    pending.wait();
    assert!(pending.ready());
    assert_eq!(pending.successful(), Ok(true));
    assert_eq!(pending.get(), Ok(25));
}

fn echo_bytes(bytes: Vec<u8>) -> Vec<u8> {
    bytes
}

fn pool_large_tasks_and_results_do_not_deadlock() {
    let pool = shmipc::Pool::new(2).unwrap();
    // Chunks of 8 items: 800 kB a task and a result, each far longer than
    // a pipe's ring, so that both go in parts while the manager has a
    // second task for the same worker.
    let items: Vec<Vec<u8>> = (0..64).map(|k| vec![k as u8; 100_000]).collect();
    let echoed = pool
        .map_async(echo_bytes, items.clone())
        .unwrap()
        .get_timeout(Duration::from_secs(120))
        .expect("the map ended");
    assert!(echoed == items, "the echo differs");
}

fn pool_worker_killed_fails_its_task_and_is_replaced() {
    let mut pool = shmipc::Pool::new(2).unwrap();
    // Killed once it runs: a worker killed before it takes the task would
    // leave it to a replacement, where it would hang.
    let event = format!("process-test-{}-stuck", std::process::id());
    let running = shmipc::Event::create(&event).unwrap();
    let stuck = pool.apply_async(stuck_once, (event, 3)).unwrap();
    assert_eq!(
        stuck.successful(),
        Err(shmipc::PoolError::NotReady),
        "not before it is ready"
    );
    running.wait();
    let before = pool.pids();
    for pid in &before {
        // SAFETY: kill(2) of the pool's own worker processes.
        unsafe { libc::kill(*pid as i32, libc::SIGKILL) };
    }
    assert_eq!(
        stuck.get_timeout(Duration::from_secs(60)),
        Err(shmipc::PoolError::WorkerDied { exitcode: -9 })
    );
    // Replaced: the pool goes on.
    assert_eq!(pool.map(square, 0..10).unwrap()[9], 81);
    assert!(pool.pids().iter().all(|p| !before.contains(p)));
    // A task still running when the pool is terminated fails; no hang.
    let late = pool.apply_async(hang, 0).unwrap();
    pool.terminate();
    pool.join().unwrap();
    assert_eq!(late.get(), Err(shmipc::PoolError::Closed));
    for pid in pool.pids() {
        assert!(
            !std::path::Path::new(&format!("/proc/{pid}")).exists(),
            "worker {pid} left"
        );
    }
}

fn add(a: u64, b: u64) -> u64 {
    a + b
}

fn hang_at_3(x: u64) -> u64 {
    if x == 3 {
        hang(0);
    }
    x
}

static INITIALIZED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

fn set_initialized() {
    INITIALIZED.store(true, std::sync::atomic::Ordering::SeqCst);
}

fn initialized_in(_: ()) -> (bool, u32) {
    (
        INITIALIZED.load(std::sync::atomic::Ordering::SeqCst),
        std::process::id(),
    )
}

fn pool_imap_unordered_starmap_and_chunks() {
    let pool = shmipc::Pool::new(2).unwrap();
    let squares: Vec<u64> = (0..50).map(|x| x * x).collect();
    let ordered: Vec<u64> = pool
        .imap(square, 0..50)
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(ordered, squares);
    let mut any: Vec<u64> = pool
        .imap_unordered(square, 0..50)
        .unwrap()
        .map(Result::unwrap)
        .collect();
    any.sort_unstable();
    assert_eq!(any, squares);
    assert_eq!(pool.map_chunked(square, 0..50, 7).unwrap(), squares);
    assert_eq!(pool.starmap(add, [(1, 2), (30, 40)]).unwrap(), [3, 70]);
    // A starmap is spread over the workers in chunks, as a map is: eight
    // chunks here, two handed to each worker at once.
    let pairs: Vec<(u64, u64)> = (0..64).map(|k| (k, k)).collect();
    let done = pool.starmap(sum_and_pid, pairs).unwrap();
    assert!(done
        .iter()
        .enumerate()
        .all(|(k, &(sum, _))| sum == 2 * k as u64));
    let mut pids: Vec<u32> = done.iter().map(|&(_, pid)| pid).collect();
    pids.sort_unstable();
    pids.dedup();
    assert_eq!(pids.len(), 2, "one worker ran every chunk: {pids:?}");
    let sums = pool.starmap_async(add, [(5, 6)]).unwrap();
    assert_eq!(sums.get().unwrap(), [11]);
}

/// Squares `x`, counting the call in the `Value` named `counter`.
fn counted_square((counter, x): (String, u64)) -> u64 {
    let calls = shmipc::Value::<u64>::open(&counter).unwrap();
    *calls.lock().unwrap() += 1;
    x * x
}

fn pool_imap_takes_its_items_lazily() {
    let counter = format!("process-test-{}-calls", std::process::id());
    let calls = shmipc::Value::<u64>::create(&counter, 0).unwrap();
    let mut pool = shmipc::Pool::new(2).unwrap();
    // An endless iterator: imap returns at once, and runs what is taken
    // plus at most its window (4,096 chunks a worker).
    let items = (0..).map(|x| (counter.clone(), x));
    let first: Vec<u64> = pool
        .imap(counted_square, items)
        .unwrap()
        .take(5)
        .map(Result::unwrap)
        .collect();
    assert_eq!(first, [0, 1, 4, 9, 16]);
    pool.close();
    pool.join().unwrap();
    let ran = *calls.lock().unwrap();
    assert!((5..=5 + 2 * 4096).contains(&ran), "{ran} items ran");
    assert!(
        pool.imap(square, 0..3).is_err(),
        "a closed pool takes no imap"
    );
}

fn sum_and_pid(a: u64, b: u64) -> (u64, u32) {
    (a + b, std::process::id())
}

fn pool_initializer_and_max_tasks_per_child() {
    let pool = shmipc::Pool::builder()
        .processes(1)
        .initializer(set_initialized)
        .max_tasks_per_child(1)
        .build()
        .unwrap();
    let runs: Vec<(bool, u32)> = (0..3)
        .map(|_| pool.apply(initialized_in, ()).unwrap())
        .collect();
    assert!(runs.iter().all(|(initialized, _)| *initialized), "{runs:?}");
    let mut pids: Vec<u32> = runs.iter().map(|(_, pid)| *pid).collect();
    pids.dedup();
    assert_eq!(pids.len(), 3, "a fresh worker for each task: {runs:?}");
    assert!(
        !INITIALIZED.load(std::sync::atomic::Ordering::SeqCst),
        "only in workers"
    );
}

fn pool_worker_killed_in_the_middle_of_imap() {
    let pool = shmipc::Pool::new(1).unwrap();
    let mut results = pool.imap(hang_at_3, 0..6).unwrap();
    for want in 0..3 {
        assert_eq!(results.next(), Some(Ok(want)));
    }
    assert_eq!(
        results.next_timeout(Duration::from_millis(20)),
        Some(Err(shmipc::PoolError::TimedOut))
    );
    // SAFETY: kill(2) of the pool's one worker, stuck in item 3.
    unsafe { libc::kill(pool.pids()[0] as i32, libc::SIGKILL) };
    assert_eq!(
        results.next(),
        Some(Err(shmipc::PoolError::WorkerDied { exitcode: -9 }))
    );
    assert_eq!(results.next(), Some(Ok(4)));
    assert_eq!(results.next(), Some(Ok(5)));
    assert_eq!(results.next(), None);
    assert_eq!(pool.map(square, 0..4).unwrap(), [0, 1, 4, 9]);
}

/// Item 3 sets the event named and hangs, the first time (the event not
/// yet set); every other item, and a second try, returns the item.
fn stuck_once((event, x): (String, u64)) -> u64 {
    if x == 3 {
        let stuck = shmipc::Event::open(&event).unwrap();
        if !stuck.is_set() {
            stuck.set();
            hang(0);
        }
    }
    x
}

/// Runs `stuck_once` over 0..6 in a one-worker pool built by `builder`,
/// SIGKILLing the worker once item 3 is stuck; what `map_async` gave.
fn map_with_a_kill(
    label: &str,
    builder: shmipc::PoolBuilder,
) -> Result<Vec<u64>, shmipc::PoolError> {
    let event = format!("process-test-{}-{label}", std::process::id());
    let stuck = shmipc::Event::create(&event).unwrap();
    let pool = builder.processes(1).build().unwrap();
    let worker = pool.pids()[0];
    let items: Vec<(String, u64)> = (0..6).map(|x| (event.clone(), x)).collect();
    let pending = pool.map_async(stuck_once, items).unwrap();
    stuck.wait();
    // SAFETY: kill(2) of the pool's one worker, stuck in item 3.
    unsafe { libc::kill(worker as i32, libc::SIGKILL) };
    let got = pending.get();
    // The pool goes on either way.
    assert_eq!(pool.map(square, 0..3).unwrap(), [0, 1, 4]);
    got
}

fn pool_worker_killed_in_the_middle_of_map_fails_or_retries() {
    assert_eq!(
        map_with_a_kill("fail", shmipc::Pool::builder()),
        Err(shmipc::PoolError::WorkerDied { exitcode: -9 })
    );
    assert_eq!(
        map_with_a_kill("retry", shmipc::Pool::builder().retry_lost_tasks(1)),
        Ok((0..6).collect())
    );
}

/// Waits (up to a minute) for the process `pid`, not our child, to exit,
/// through a pidfd; `false` if it did not.
fn wait_for_exit(pid: u32) -> bool {
    // SAFETY: pidfd_open takes a pid and flags and returns a descriptor.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid as i32, 0) };
    if fd < 0 {
        // Gone already (ESRCH).
        return true;
    }
    // SAFETY: a descriptor we own from here on.
    let fd = unsafe { OwnedFd::from_raw_fd(fd as i32) };
    let mut poll = libc::pollfd {
        fd: fd.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one valid pollfd.
    unsafe { libc::poll(&mut poll, 1, 60_000) == 1 }
}

fn a_daemon_dies_with_its_parent_even_by_sigkill() {
    // The daemon is orphaned when its parent dies: made a child of this
    // process then, rather than of pid 1, so that this test reaps it.
    // SAFETY: prctl with an option and a flag reads no memory.
    unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1) };
    let mut parent = Command::new(std::env::current_exe().unwrap())
        .env(ROLE, "daemon-parent")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(parent.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let daemon: u32 = line.trim().parse().unwrap();
    let parent_pid = parent.id();
    parent.kill().unwrap();
    parent.wait().unwrap();
    let died = wait_for_exit(daemon);
    // The pipe the killed parent made: both its processes are gone.
    let prefix = format!("proc-{parent_pid}-");
    let removed = shmipc::segments::collect_garbage(&prefix, false).unwrap();
    assert!(died, "daemon {daemon} outlived its parent");
    assert_eq!(removed.len(), 1, "{removed:?}");
    let mut status = 0;
    // SAFETY: waits for one pid, writing its status into `status`.
    let reaped = unsafe { libc::waitpid(daemon as i32, &mut status, 0) };
    assert_eq!(reaped, daemon as i32);
    assert!(
        libc::WIFSIGNALED(status) && libc::WTERMSIG(status) == libc::SIGKILL,
        "status {status:#x}"
    );
    assert!(
        !std::path::Path::new(&format!("/proc/{daemon}")).exists(),
        "a zombie is left"
    );
}

/// The parent of the daemon test: starts a daemon child, says its pid,
/// and waits to be killed.
fn daemon_parent() {
    let mut p = Process::new(forever, ()).daemon(true);
    p.start().unwrap();
    println!("{}", p.pid().unwrap());
    std::io::stdout().flush().unwrap();
    let mut line = String::new();
    let _ = std::io::stdin().read_line(&mut line);
}

fn main() {
    shmipc::init();
    if std::env::var(ROLE).as_deref() == Ok("daemon-parent") {
        return daemon_parent();
    }
    let tests: [(&str, fn()); 13] = [
        (
            "returns_its_value_and_exit_code_0",
            returns_its_value_and_exit_code_0,
        ),
        (
            "a_panic_is_its_message_and_exit_code_1",
            a_panic_is_its_message_and_exit_code_1,
        ),
        (
            "kill_and_terminate_give_minus_the_signal",
            kill_and_terminate_give_minus_the_signal,
        ),
        (
            "join_timeout_and_close_while_running",
            join_timeout_and_close_while_running,
        ),
        (
            "a_daemon_dies_with_its_parent_even_by_sigkill",
            a_daemon_dies_with_its_parent_even_by_sigkill,
        ),
        (
            "pool_maps_in_order_and_a_panic_leaves_the_worker_alive",
            pool_maps_in_order_and_a_panic_leaves_the_worker_alive,
        ),
        (
            "pool_worker_killed_fails_its_task_and_is_replaced",
            pool_worker_killed_fails_its_task_and_is_replaced,
        ),
        (
            "pool_imap_unordered_starmap_and_chunks",
            pool_imap_unordered_starmap_and_chunks,
        ),
        (
            "pool_imap_takes_its_items_lazily",
            pool_imap_takes_its_items_lazily,
        ),
        (
            "pool_large_tasks_and_results_do_not_deadlock",
            pool_large_tasks_and_results_do_not_deadlock,
        ),
        (
            "pool_initializer_and_max_tasks_per_child",
            pool_initializer_and_max_tasks_per_child,
        ),
        (
            "pool_worker_killed_in_the_middle_of_imap",
            pool_worker_killed_in_the_middle_of_imap,
        ),
        (
            "pool_worker_killed_in_the_middle_of_map_fails_or_retries",
            pool_worker_killed_in_the_middle_of_map_fails_or_retries,
        ),
    ];
    let filter: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let mut passed = 0;
    for (name, test) in tests {
        if !filter.is_empty() && !filter.iter().any(|f| name.contains(f.as_str())) {
            continue;
        }
        test();
        println!("test {name} ... ok");
        passed += 1;
    }
    println!("\ntest result: ok. {passed} passed; 0 failed; 0 ignored; 0 measured; 0 filtered out");
}
