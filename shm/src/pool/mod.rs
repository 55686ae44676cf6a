//! [`Pool`]: worker processes that run functions on request, as Python's
//! `multiprocessing.Pool`, and never hang when a worker dies.
//!
//! Workers are children started as [`Process`](crate::Process)es are (an
//! `exec` of this executable that [`init`](crate::init) branches off),
//! each with a duplex pipe to the parent. A task is a function passed as
//! offsets from `init` (the function and a monomorphic trampoline), and its
//! argument encoded with postcard; a worker sends back the encoded result
//! or the panic message, and lives on after a panic.
//!
//! A thread of the pool (the manager) hands tasks to the workers and keeps
//! the ones each holds, so that when a worker dies (a signal, the OOM
//! killer) the task it ran fails with [`PoolError::WorkerDied`], the others
//! go back to the queue, and the worker is replaced.
//!
//! This file has the pool and what its callers and the manager share;
//! `worker` the workers' side (their loop and the trampolines), `manager`
//! the manager thread, `results` the results to come ([`AsyncResult`],
//! [`Imap`], [`MapResult`]).

mod manager;
mod results;
mod worker;

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::process::{anchor, pipe_name};
use crate::Event;

pub use results::{AsyncResult, Imap, MapResult};
pub(crate) use worker::worker_loop;

use manager::{manage, pids, start_worker};
use worker::{chunk_trampoline, pair_trampoline, trampoline};

/// A task for a worker: its id, the trampoline's and the function's
/// offsets from `init`, and the encoded argument. The id [`STOP`] ends the
/// worker.
type Task = (u64, isize, isize, Vec<u8>);
/// A worker's answer: the task's id, and the encoded result or the panic
/// message.
type Done = (u64, std::result::Result<Vec<u8>, String>);

/// The task id that tells a worker to exit.
const STOP: u64 = u64::MAX;

/// Why a task gave no result.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PoolError {
    /// The function panicked; its message. The worker lives on.
    Panicked(String),
    /// The worker running the task died first (killed by a signal: the
    /// exit code is minus its number); it has been replaced.
    WorkerDied {
        /// Python's `exitcode` of the worker.
        exitcode: i32,
    },
    /// `get_timeout` ran out first (the task goes on).
    TimedOut,
    /// The pool was closed or terminated before the task was taken.
    Closed,
    /// `successful` was asked before the result was ready.
    NotReady,
    /// Something else failed: starting a worker, encoding, decoding.
    Failed(String),
}

impl std::fmt::Display for PoolError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PoolError::Panicked(m) => write!(f, "the task panicked: {m}"),
            PoolError::WorkerDied { exitcode } if *exitcode < 0 => write!(
                f,
                "the worker running the task was killed by signal {}",
                -exitcode
            ),
            PoolError::WorkerDied { exitcode } => {
                write!(f, "the worker running the task exited with code {exitcode}")
            }
            PoolError::TimedOut => write!(f, "the task's result was not ready in time"),
            PoolError::Closed => write!(f, "the pool was closed before the task ran"),
            PoolError::NotReady => write!(f, "the task's result is not ready"),
            PoolError::Failed(why) => write!(f, "{why}"),
        }
    }
}

impl std::error::Error for PoolError {}

/// What the pool's callers and its manager share.
struct Shared {
    state: Mutex<State>,
    /// Signalled when a result comes in.
    done: Condvar,
}

#[derive(Default)]
struct State {
    queue: VecDeque<Task>,
    results: HashMap<u64, std::result::Result<Vec<u8>, PoolError>>,
    next_id: u64,
    closed: bool,
    terminated: bool,
    /// The workers' pids, as the manager last set them.
    pids: Vec<u32>,
    /// Times each task was run again after its worker died.
    retried: HashMap<u64, u32>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic in another thread cannot leave the state half-changed:
        // every change is one statement.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Worker processes that run functions (see the [module](self) notes).
///
/// ```
/// # extern crate shmipc_shm as shmipc;
/// fn square(x: u64) -> u64 {
///     x * x
/// }
///
/// fn main() -> Result<(), Box<dyn std::error::Error>> {
///     shmipc::init();
///     let pool = shmipc::Pool::new(2)?;
///     assert_eq!(pool.map(square, 0..5)?, [0, 1, 4, 9, 16]);
///     assert_eq!(pool.apply(square, 12)?, 144);
///     Ok(())
/// }
/// ```
pub struct Pool {
    shared: Arc<Shared>,
    wake: Event,
    manager: Option<JoinHandle<()>>,
    processes: usize,
}

/// Chunks of an `imap` sent ahead per worker: the manager keeps two at
/// each worker and the rest wait in its queue. The window is refilled by
/// the caller, once half of it is taken, in one batch, so it must outlast
/// the times the caller does not run: with more threads than cpus (the
/// caller, the manager, the workers) a small window ran dry and the
/// workers parked between items (the sizes measured are in docs/LOG.md).
const IMAP_WINDOW_PER_WORKER: usize = 4096;

/// What runs a task in a worker: decodes its argument, calls the function
/// at the address given, encodes the result (see `worker`).
type Trampoline = fn(usize, &[u8]) -> std::result::Result<Vec<u8>, String>;

/// Up to `most` chunks of up to `chunksize` (at least 1) items each, taken
/// from `items`.
fn chunks_of<T>(items: &mut impl Iterator<Item = T>, chunksize: usize, most: usize) -> Vec<Vec<T>> {
    let chunksize = chunksize.max(1);
    let mut chunks = Vec::new();
    while chunks.len() < most {
        let chunk: Vec<T> = items.by_ref().take(chunksize).collect();
        if chunk.is_empty() {
            break;
        }
        chunks.push(chunk);
    }
    chunks
}

/// How a pool's workers are started and retired.
#[derive(Clone, Copy)]
struct Settings {
    /// The initializer's offset from `init`; 0 for none.
    initializer: isize,
    /// Tasks after which a worker is replaced; 0 for never.
    max_tasks: u64,
    /// Times a task whose worker died is run again before it fails.
    retries: u32,
}

/// Settings for a [`Pool`] (Python's `Pool(processes, initializer,
/// maxtasksperchild)`).
///
/// ```
/// # extern crate shmipc_shm as shmipc;
/// fn pid(_: ()) -> u32 {
///     std::process::id()
/// }
///
/// fn main() -> Result<(), Box<dyn std::error::Error>> {
///     shmipc::init();
///     let pool = shmipc::Pool::builder().processes(1).max_tasks_per_child(1).build()?;
///     // Each task gets a fresh worker.
///     assert_ne!(pool.apply(pid, ())?, pool.apply(pid, ())?);
///     Ok(())
/// }
/// ```
#[derive(Clone, Copy)]
pub struct PoolBuilder {
    processes: usize,
    settings: Settings,
}

impl PoolBuilder {
    /// Workers (default: the cpus this process may use).
    pub fn processes(mut self, n: usize) -> Self {
        self.processes = n;
        self
    }

    /// A function every worker runs once, before its first task.
    pub fn initializer(mut self, f: fn()) -> Self {
        self.settings.initializer = f as usize as isize - anchor();
        self
    }

    /// Replaces a worker after it has run `n` tasks (0: never).
    pub fn max_tasks_per_child(mut self, n: u64) -> Self {
        self.settings.max_tasks = n;
        self
    }

    /// Runs a task whose worker died under it again, on another worker,
    /// up to `n` times before it fails with [`PoolError::WorkerDied`]
    /// (default 0: it fails at once). For functions that may run twice.
    pub fn retry_lost_tasks(mut self, n: u32) -> Self {
        self.settings.retries = n;
        self
    }

    /// Starts the pool.
    pub fn build(self) -> Result<Pool> {
        Pool::start(self.processes, self.settings)
    }
}

impl Pool {
    /// A pool of `processes` workers, started now. An error if
    /// [`init`](crate::init) was not called, or `processes` is 0.
    pub fn new(processes: usize) -> Result<Pool> {
        Pool::builder().processes(processes).build()
    }

    /// A pool with more settings (see [`PoolBuilder`]).
    pub fn builder() -> PoolBuilder {
        PoolBuilder {
            processes: std::thread::available_parallelism().map_or(1, |n| n.get()),
            settings: Settings {
                initializer: 0,
                max_tasks: 0,
                retries: 0,
            },
        }
    }

    fn start(processes: usize, settings: Settings) -> Result<Pool> {
        if processes == 0 {
            return Err(Error::invalid("a pool needs at least one process"));
        }
        crate::process::require_init("Pool::new")?;
        let wake_name = format!("{}-wake", pipe_name());
        let wake = Event::create(&wake_name)?;
        let manager_wake = Event::open(&wake_name)?;
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
            done: Condvar::new(),
        });
        // The manager starts the workers: they are daemons of the thread
        // that starts them (PR_SET_PDEATHSIG follows a thread), and the
        // manager lives as long as the pool.
        let (started_tx, started) = std::sync::mpsc::channel();
        let manager = {
            let shared = shared.clone();
            std::thread::Builder::new()
                .name("shmipc-pool".into())
                .spawn(move || {
                    let workers = (0..processes)
                        .map(|_| start_worker(&settings))
                        .collect::<Result<Vec<_>>>();
                    match workers {
                        Ok(workers) => {
                            // Known before `Pool::new` returns.
                            shared.lock().pids = pids(&workers);
                            let _ = started_tx.send(Ok(()));
                            manage(&shared, workers, &manager_wake, settings);
                        }
                        Err(e) => {
                            let _ = started_tx.send(Err(e));
                        }
                    }
                })
                .map_err(|e| Error::os("pool", "spawn a thread", e))?
        };
        let startup = started
            .recv()
            .unwrap_or_else(|_| Err(Error::invalid("the pool's manager thread panicked")));
        if let Err(e) = startup {
            let _ = manager.join();
            return Err(e);
        }
        Ok(Pool {
            shared,
            wake,
            manager: Some(manager),
            processes,
        })
    }

    /// The workers' pids now (a worker that died is replaced by one with
    /// another pid).
    pub fn pids(&self) -> Vec<u32> {
        self.shared.lock().pids.clone()
    }

    /// Queues `f(arg)` for a worker and returns at once.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn square(x: u64) -> u64 { x * x }
    /// # fn add(a: u64, b: u64) -> u64 { a + b }
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # shmipc::init();
    /// let pool = shmipc::Pool::new(2)?;
    /// let pending = pool.apply_async(square, 9)?;
    /// pending.wait();
    /// assert_eq!(pending.successful(), Ok(true));
    /// assert_eq!(pending.get()?, 81);
    /// # Ok(()) }
    /// ```
    pub fn apply_async<A, R>(&self, f: fn(A) -> R, arg: A) -> Result<AsyncResult<R>>
    where
        A: Serialize + DeserializeOwned,
        R: Serialize + DeserializeOwned,
    {
        self.submit(trampoline::<A, R>, f as usize, &arg)
    }

    /// Queues a task: `run` (a trampoline) of the function at `function`
    /// on `arg`, encoded.
    fn submit<T: Serialize + ?Sized, R>(
        &self,
        run: Trampoline,
        function: usize,
        arg: &T,
    ) -> Result<AsyncResult<R>> {
        self.submit_all(run, function, [arg])?
            .pop()
            .ok_or_else(|| Error::invalid("no task was queued"))
    }

    /// Queues a task of `run` on the function at `function` for each of
    /// `args`, all encoded first, then queued under one lock with one
    /// wake-up of the manager (a lock and a wake-up a task cost an `imap`
    /// item several microseconds).
    fn submit_all<'a, T: Serialize + ?Sized + 'a, R>(
        &self,
        run: Trampoline,
        function: usize,
        args: impl IntoIterator<Item = &'a T>,
    ) -> Result<Vec<AsyncResult<R>>> {
        let base = anchor();
        let encoded = args
            .into_iter()
            .map(|arg| {
                postcard::to_allocvec(arg)
                    .map_err(|e| Error::invalid(format!("encoding the argument: {e}")))
            })
            .collect::<Result<Vec<_>>>()?;
        let trampoline = run as usize as isize - base;
        let function = function as isize - base;
        let ids = {
            let mut state = self.shared.lock();
            if state.closed || state.terminated {
                return Err(Error::invalid("the pool is closed: no more tasks"));
            }
            let first = state.next_id;
            state.next_id += encoded.len() as u64;
            for (id, arg) in (first..).zip(encoded) {
                state.queue.push_back((id, trampoline, function, arg));
            }
            first..state.next_id
        };
        self.wake.set();
        Ok(ids
            .map(|id| AsyncResult::new(id, self.shared.clone()))
            .collect())
    }

    /// Runs `f(arg)` in a worker and waits for its result.
    pub fn apply<A, R>(&self, f: fn(A) -> R, arg: A) -> std::result::Result<R, PoolError>
    where
        A: Serialize + DeserializeOwned,
        R: Serialize + DeserializeOwned,
    {
        self.apply_async(f, arg)
            .map_err(|e| PoolError::Failed(e.to_string()))?
            .get()
    }

    /// `f` of every item, in the items' order, sent to the workers in
    /// chunks of about a quarter of an even share (Python's default); the
    /// first chunk that failed makes the error (the others still run).
    pub fn map<A, R>(
        &self,
        f: fn(A) -> R,
        items: impl IntoIterator<Item = A>,
    ) -> std::result::Result<Vec<R>, PoolError>
    where
        A: Serialize + DeserializeOwned,
        R: Serialize + DeserializeOwned,
    {
        self.map_async(f, items)?.get()
    }

    /// As [`map`](Self::map), returning at once (Python's `map_async`).
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn square(x: u64) -> u64 { x * x }
    /// # fn add(a: u64, b: u64) -> u64 { a + b }
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # shmipc::init();
    /// let pool = shmipc::Pool::new(2)?;
    /// let squares = pool.map_async(square, 1..=3)?;
    /// assert_eq!(squares.get()?, [1, 4, 9]);
    /// # Ok(()) }
    /// ```
    pub fn map_async<A, R>(
        &self,
        f: fn(A) -> R,
        items: impl IntoIterator<Item = A>,
    ) -> std::result::Result<MapResult<R>, PoolError>
    where
        A: Serialize + DeserializeOwned,
        R: Serialize + DeserializeOwned,
    {
        let items: Vec<A> = items.into_iter().collect();
        let chunksize = self.python_chunksize(items.len());
        self.submit_map(chunk_trampoline::<A, R>, f as usize, items, chunksize)
    }

    /// As [`map`](Self::map), in chunks of `chunksize` items (at least 1).
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn square(x: u64) -> u64 { x * x }
    /// # fn add(a: u64, b: u64) -> u64 { a + b }
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # shmipc::init();
    /// let pool = shmipc::Pool::new(2)?;
    /// assert_eq!(pool.map_chunked(square, 0..10, 3)?[9], 81);
    /// # Ok(()) }
    /// ```
    pub fn map_chunked<A, R>(
        &self,
        f: fn(A) -> R,
        items: impl IntoIterator<Item = A>,
        chunksize: usize,
    ) -> std::result::Result<Vec<R>, PoolError>
    where
        A: Serialize + DeserializeOwned,
        R: Serialize + DeserializeOwned,
    {
        self.submit_map(chunk_trampoline::<A, R>, f as usize, items, chunksize)?
            .get()
    }

    /// `f(a, b)` of every pair, in order, sent to the workers in chunks as
    /// [`map`](Self::map) sends its items (Python's `starmap`). A function
    /// of more arguments takes them as one tuple, through `map`.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn square(x: u64) -> u64 { x * x }
    /// # fn add(a: u64, b: u64) -> u64 { a + b }
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # shmipc::init();
    /// let pool = shmipc::Pool::new(2)?;
    /// assert_eq!(pool.starmap(add, [(1, 2), (3, 4)])?, [3, 7]);
    /// # Ok(()) }
    /// ```
    pub fn starmap<A, B, R>(
        &self,
        f: fn(A, B) -> R,
        items: impl IntoIterator<Item = (A, B)>,
    ) -> std::result::Result<Vec<R>, PoolError>
    where
        A: Serialize + DeserializeOwned,
        B: Serialize + DeserializeOwned,
        R: Serialize + DeserializeOwned,
    {
        self.starmap_async(f, items)?.get()
    }

    /// As [`starmap`](Self::starmap), returning at once (Python's
    /// `starmap_async`).
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn square(x: u64) -> u64 { x * x }
    /// # fn add(a: u64, b: u64) -> u64 { a + b }
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # shmipc::init();
    /// let pool = shmipc::Pool::new(2)?;
    /// let sums = pool.starmap_async(add, (0..100).map(|k| (k, k)))?;
    /// assert_eq!(sums.get()?[99], 198);
    /// # Ok(()) }
    /// ```
    pub fn starmap_async<A, B, R>(
        &self,
        f: fn(A, B) -> R,
        items: impl IntoIterator<Item = (A, B)>,
    ) -> std::result::Result<MapResult<R>, PoolError>
    where
        A: Serialize + DeserializeOwned,
        B: Serialize + DeserializeOwned,
        R: Serialize + DeserializeOwned,
    {
        let items: Vec<(A, B)> = items.into_iter().collect();
        let chunksize = self.python_chunksize(items.len());
        self.submit_map(pair_trampoline::<A, B, R>, f as usize, items, chunksize)
    }

    /// Python's chunk size for a map of `len` items: about a quarter of
    /// an even share per worker, so that a slow chunk delays the end by
    /// little.
    fn python_chunksize(&self, len: usize) -> usize {
        len.div_ceil(4 * self.processes).max(1)
    }

    /// Queues `items` in chunks of `chunksize` (at least 1), each a task
    /// of `run` on the function at `function`, all at once; the map's
    /// results to come.
    fn submit_map<T: Serialize, R>(
        &self,
        run: Trampoline,
        function: usize,
        items: impl IntoIterator<Item = T>,
        chunksize: usize,
    ) -> std::result::Result<MapResult<R>, PoolError> {
        let chunks = chunks_of(&mut items.into_iter(), chunksize, usize::MAX);
        let chunks = self
            .submit_all::<_, Vec<R>>(run, function, &chunks)
            .map_err(|e| PoolError::Failed(e.to_string()))?;
        Ok(MapResult {
            chunks: chunks.into(),
        })
    }

    /// `f` of every item as an iterator of results in the items' order,
    /// each as soon as it and those before it are in (Python's `imap`,
    /// chunk size 1); see [`Imap::next_timeout`].
    ///
    /// The items are taken lazily: a window of them (4,096 chunks a
    /// worker) is sent ahead, and refilled as results are taken, so an
    /// endless iterator works and a long one is never all in memory.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn square(x: u64) -> u64 { x * x }
    /// # fn add(a: u64, b: u64) -> u64 { a + b }
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # shmipc::init();
    /// let pool = shmipc::Pool::new(2)?;
    /// let squares: Vec<u64> = pool.imap(square, 0..4)?.collect::<Result<_, _>>()?;
    /// assert_eq!(squares, [0, 1, 4, 9]);
    /// // An endless iterator: only what is asked for is computed.
    /// let first: Vec<u64> = pool.imap(square, 0..)?.take(3).collect::<Result<_, _>>()?;
    /// assert_eq!(first, [0, 1, 4]);
    /// # Ok(()) }
    /// ```
    pub fn imap<'pool, A, R, I>(
        &'pool self,
        f: fn(A) -> R,
        items: I,
    ) -> std::result::Result<Imap<'pool, R>, PoolError>
    where
        A: Serialize + DeserializeOwned,
        R: Serialize + DeserializeOwned,
        I: IntoIterator<Item = A>,
        I::IntoIter: Send + 'pool,
        A: 'pool,
        R: 'pool,
    {
        self.imap_chunked(f, items, 1)
    }

    /// As [`imap`](Self::imap), in chunks of `chunksize` items.
    pub fn imap_chunked<'pool, A, R, I>(
        &'pool self,
        f: fn(A) -> R,
        items: I,
        chunksize: usize,
    ) -> std::result::Result<Imap<'pool, R>, PoolError>
    where
        A: Serialize + DeserializeOwned,
        R: Serialize + DeserializeOwned,
        I: IntoIterator<Item = A>,
        I::IntoIter: Send + 'pool,
        A: 'pool,
        R: 'pool,
    {
        let mut items = items.into_iter();
        let feed = move |most: usize| {
            let chunks = chunks_of(&mut items, chunksize, most);
            if chunks.is_empty() {
                return Ok(Vec::new());
            }
            self.submit_all::<_, Vec<R>>(chunk_trampoline::<A, R>, f as usize, &chunks)
                .map_err(|e| PoolError::Failed(e.to_string()))
        };
        Imap::start(Box::new(feed), IMAP_WINDOW_PER_WORKER * self.processes)
    }

    /// As [`imap`](Self::imap), each result as soon as it is in, in any
    /// order (Python's `imap_unordered`).
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn square(x: u64) -> u64 { x * x }
    /// # fn add(a: u64, b: u64) -> u64 { a + b }
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # shmipc::init();
    /// let pool = shmipc::Pool::new(2)?;
    /// let mut squares: Vec<u64> = pool.imap_unordered(square, 0..4)?.collect::<Result<_, _>>()?;
    /// squares.sort();
    /// assert_eq!(squares, [0, 1, 4, 9]);
    /// # Ok(()) }
    /// ```
    pub fn imap_unordered<'pool, A, R, I>(
        &'pool self,
        f: fn(A) -> R,
        items: I,
    ) -> std::result::Result<Imap<'pool, R>, PoolError>
    where
        A: Serialize + DeserializeOwned,
        R: Serialize + DeserializeOwned,
        I: IntoIterator<Item = A>,
        I::IntoIter: Send + 'pool,
        A: 'pool,
        R: 'pool,
    {
        let mut imap = self.imap_chunked(f, items, 1)?;
        imap.unordered = true;
        Ok(imap)
    }

    /// No more tasks; those queued still run (Python's `close`).
    pub fn close(&self) {
        self.shared.lock().closed = true;
        self.wake.set();
    }

    /// Stops the workers now: tasks queued or running fail with
    /// [`PoolError::Closed`] (Python's `terminate`).
    pub fn terminate(&self) {
        self.shared.lock().terminated = true;
        self.wake.set();
    }

    /// Waits for the workers to exit, after [`close`](Self::close) or
    /// [`terminate`](Self::terminate); an error before either.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn square(x: u64) -> u64 { x * x }
    /// # fn add(a: u64, b: u64) -> u64 { a + b }
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # shmipc::init();
    /// let pool = shmipc::Pool::new(2)?;
    /// let mut pool = pool;
    /// assert!(pool.join().is_err(), "neither closed nor terminated");
    /// pool.close();
    /// pool.join()?;
    /// # Ok(()) }
    /// ```
    pub fn join(&mut self) -> Result<()> {
        {
            let state = self.shared.lock();
            if !state.closed && !state.terminated {
                return Err(Error::invalid(
                    "Pool::join: close or terminate the pool first",
                ));
            }
        }
        if let Some(manager) = self.manager.take() {
            let _ = manager.join();
        }
        Ok(())
    }
}

impl Drop for Pool {
    /// Terminates the pool, as Python's does when it is collected.
    fn drop(&mut self) {
        self.terminate();
        let _ = self.join();
    }
}
