//! The pool's manager thread: hands out tasks, takes results in, replaces
//! dead workers, and at the end stops and reaps every worker.

use std::collections::VecDeque;
use std::process::Child;
use std::time::{Duration, Instant};

use super::{Done, PoolError, Settings, Shared, Task, STOP};
use crate::error::Result;
use crate::message::{Connection, RecvError};
use crate::multi_wait::Waitable;
use crate::process::{exitcode, pipe_name, spawn};
use crate::Event;

/// One worker, as the manager sees it.
pub(super) struct Worker {
    child: Child,
    conn: Connection,
    /// The tasks it holds, the one it runs first (kept, so that those it
    /// never started can go back to the queue if it dies).
    busy: VecDeque<Task>,
    /// Tasks it has run.
    ran: u64,
}

/// The workers' pids.
pub(super) fn pids(workers: &[Worker]) -> Vec<u32> {
    workers.iter().map(|w| w.child.id()).collect()
}

/// Starts a worker process and its pipe.
pub(super) fn start_worker(settings: &Settings) -> Result<Worker> {
    let pipe = pipe_name();
    let conn = Connection::create(&pipe, true)?;
    // Workers die with the pool's process.
    let daemon_of = Some(std::process::id());
    let child = spawn("pool worker", 0, settings.initializer, pipe, daemon_of)?;
    Ok(Worker {
        child,
        conn,
        busy: VecDeque::new(),
        ran: 0,
    })
}

/// The manager: hands out tasks, takes results in, replaces dead workers,
/// and at the end stops and reaps every worker.
pub(super) fn manage(shared: &Shared, mut workers: Vec<Worker>, wake: &Event, settings: Settings) {
    let mut last_look = Instant::now();
    loop {
        let (closed, terminated) = dispatch(shared, &mut workers, &settings);
        if terminated || (closed && workers.iter().all(|w| w.busy.is_empty())) {
            break;
        }
        if !results_soon(&workers) {
            let mut ready: Vec<&dyn Waitable> =
                workers.iter().map(|w| &w.conn as &dyn Waitable).collect();
            ready.push(wake);
            // The liveness of the workers is looked at after every wait;
            // the timeout bounds how late a death is seen.
            crate::wait(&ready, Some(Duration::from_millis(50)));
        }
        wake.clear();
        // A worker's death is looked for a few times a second, or when its
        // pipe says it is gone: a look is a syscall per worker, which would
        // otherwise cost every task.
        let look = last_look.elapsed() >= DEATH_LOOK;
        if look {
            last_look = Instant::now();
        }
        collect(shared, &mut workers, &settings, look);
    }
    let terminated = shared.lock().terminated;
    if terminated {
        // The tasks running now will send nothing: they fail.
        let mut state = shared.lock();
        for w in workers.iter_mut() {
            for (id, ..) in w.busy.drain(..) {
                state.results.insert(id, Err(PoolError::Closed));
            }
        }
    }
    for w in &mut workers {
        if terminated {
            let _ = w.child.kill();
        } else {
            let _ = w.conn.send(&(STOP, 0isize, 0isize, Vec::<u8>::new()));
        }
    }
    for w in &mut workers {
        let _ = w.child.wait();
    }
    let mut state = shared.lock();
    // Whatever was still queued never ran.
    while let Some((id, ..)) = state.queue.pop_front() {
        state.results.insert(id, Err(PoolError::Closed));
    }
    drop(state);
    shared.done.notify_all();
}

/// How often the manager looks for dead workers when their pipes do not
/// say (a pipe sees its peer's death only once that peer opened it).
const DEATH_LOOK: Duration = Duration::from_millis(5);

/// Tasks a worker holds at once: the one it runs and the next, so that it
/// never waits for the manager between two.
const IN_FLIGHT: usize = 2;

/// How long the manager looks for results before it sleeps: a task's round
/// trip through a worker is microseconds, and a futex wake-up tens of them.
const SPIN: Duration = Duration::from_micros(50);

/// Whether a result arrives within [`SPIN`] (looked for while any worker
/// holds a task).
fn results_soon(workers: &[Worker]) -> bool {
    if workers.iter().all(|w| w.busy.is_empty()) {
        return false;
    }
    let until = Instant::now() + SPIN;
    loop {
        let any = workers
            .iter()
            .any(|w| !w.busy.is_empty() && w.conn.poll(Some(Duration::ZERO)).unwrap_or(true));
        if any {
            return true;
        }
        if Instant::now() >= until {
            return false;
        }
        std::hint::spin_loop();
    }
}

/// Gives queued tasks to workers with room; says whether the pool is
/// closed and whether it is terminated.
fn dispatch(shared: &Shared, workers: &mut [Worker], settings: &Settings) -> (bool, bool) {
    // A worker to be retired after n tasks takes them one at a time.
    let in_flight = if settings.max_tasks > 0 { 1 } else { IN_FLIGHT };
    let mut state = shared.lock();
    if !state.terminated {
        for w in workers.iter_mut() {
            while w.busy.len() < in_flight {
                let Some(task) = state.queue.pop_front() else {
                    break;
                };
                if send_task(w, &task) {
                    w.busy.push_back(task);
                } else {
                    // Not now (a long task for a busy worker, or no room),
                    // or the worker is dead (`collect` replaces it): the
                    // task waits.
                    state.queue.push_front(task);
                    break;
                }
            }
        }
    }
    (state.closed && state.queue.is_empty(), state.terminated)
}

/// The longest task a busy worker is sent ahead of the one it runs: short
/// enough to go into its pipe (64 KiB rings) as one record, never in
/// parts (those are longer than a quarter of the ring). A task sent in
/// parts needs its worker to read while it is sent, and a busy worker may
/// be sending a long result in parts itself, waiting for the manager to
/// read: each would wait for the other for ever (a map of 800 kB chunks
/// hung so). Longer tasks go one at a time.
const AHEAD_MAX: usize = 4096;

/// Sends `task` to `w` if that cannot block: whole to an idle worker
/// (it is reading), and ahead to a busy one only if it is short and
/// there is room now. Whether it was sent.
fn send_task(w: &Worker, task: &Task) -> bool {
    if w.busy.is_empty() {
        return w.conn.send(task).is_ok();
    }
    match postcard::to_allocvec(task) {
        Ok(bytes) if bytes.len() <= AHEAD_MAX => {
            w.conn.send_bytes_timeout(&bytes, Duration::ZERO).is_ok()
        }
        _ => false,
    }
}

/// Takes in every result waiting, and fails the task of, and replaces,
/// every worker that died.
fn collect(shared: &Shared, workers: &mut [Worker], settings: &Settings, look: bool) {
    let mut got = Vec::new();
    let mut requeue: Vec<Task> = Vec::new();
    let mut replaced = false;
    // Tasks whose worker died running them, with its exit code.
    let mut lost: Vec<(Task, i32)> = Vec::new();
    for w in workers.iter_mut() {
        let mut gone = false;
        loop {
            let (id, outcome) = match w.conn.recv_timeout::<Done>(Duration::ZERO) {
                Ok(done) => done,
                Err(RecvError::Empty { .. } | RecvError::TimedOut { .. }) => break,
                Err(_) => {
                    gone = true;
                    break;
                }
            };
            got.push((id, outcome.map_err(PoolError::Panicked)));
            if let Some(at) = w.busy.iter().position(|t| t.0 == id) {
                w.busy.remove(at);
                w.ran += 1;
            }
        }
        let retire = settings.max_tasks > 0 && w.ran >= settings.max_tasks && w.busy.is_empty();
        if retire
            && w.conn
                .send(&(STOP, 0isize, 0isize, Vec::<u8>::new()))
                .is_ok()
        {
            // It exits at once; reaped here, replaced below.
            let _ = w.child.wait();
            gone = true;
        }
        if !(look || gone) {
            continue;
        }
        if let Ok(Some(status)) = w.child.try_wait() {
            // It ran the first task it held (its results are all in);
            // the others it never started, and they go back to the queue.
            if let Some(task) = w.busy.pop_front() {
                lost.push((task, exitcode(status)));
            }
            requeue.extend(w.busy.drain(..));
            match start_worker(settings) {
                Ok(fresh) => {
                    *w = fresh;
                    replaced = true;
                }
                Err(e) => {
                    // No worker: the tasks wait, and the next look tries again.
                    eprintln!("shmipc: pool: cannot replace a dead worker: {e}");
                }
            }
        }
    }
    let mut state = shared.lock();
    if replaced {
        state.pids = pids(workers);
    }
    for task in requeue.into_iter().rev() {
        state.queue.push_front(task);
    }
    for (task, code) in lost {
        let tries = state.retried.entry(task.0).or_insert(0);
        if *tries < settings.retries {
            *tries += 1;
            state.queue.push_front(task);
        } else {
            state.retried.remove(&task.0);
            got.push((task.0, Err(PoolError::WorkerDied { exitcode: code })));
        }
    }
    if !got.is_empty() {
        state.results.extend(got);
        drop(state);
        shared.done.notify_all();
    }
}
