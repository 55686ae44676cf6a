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
//! A thread of the pool (the manager) hands tasks to idle workers, one at a
//! time each, so it knows which task every worker holds: when a worker dies
//! (a signal, the OOM killer), that task fails with
//! [`PoolError::WorkerDied`] and the worker is replaced. It sleeps in
//! [`wait`](crate::wait) on every worker's pipe and an [`Event`] that new
//! tasks set.

use std::collections::{HashMap, VecDeque};
use std::marker::PhantomData;
use std::process::Child;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::message::{Connection, RecvError};
use crate::multi_wait::Waitable;
use crate::process::{anchor, exitcode, panic_message, pipe_name, spawn, this_exe, Spec};
use crate::Event;

/// A task for a worker: its id, the trampoline's and the function's
/// offsets from `init`, and the encoded argument. The id [`STOP`] ends the
/// worker.
type Task = (u64, isize, isize, Vec<u8>);
/// A worker's answer: the task's id, and the encoded result or the panic
/// message.
type Done = (u64, std::result::Result<Vec<u8>, String>);

const STOP: u64 = u64::MAX;

/// A worker's side: runs the pool's initializer (at `initializer` from
/// `init`, if not 0), then tasks until told to stop or the pool is gone.
pub(crate) fn worker_loop(
    conn: &Connection,
    initializer: isize,
) -> std::result::Result<i32, String> {
    let base = anchor();
    if initializer != 0 {
        // SAFETY: the parent took this offset from `init` in this very
        // executable, of an `fn()` (`PoolBuilder::initializer` takes one).
        let init = unsafe { std::mem::transmute::<usize, fn()>((base + initializer) as usize) };
        init();
    }
    loop {
        let (id, trampoline, function, arg): Task = match conn.recv() {
            Ok(task) => task,
            Err(RecvError::Closed { .. }) => return Ok(0),
            Err(e) => return Err(e.to_string()),
        };
        if id == STOP {
            return Ok(0);
        }
        // SAFETY: the parent took both offsets from `init` in this very
        // executable (checked by `run_child`), from a `trampoline::<A, R>`
        // and an `fn(A) -> R` of matching types (`Pool::apply_async` takes
        // them together).
        let run = unsafe {
            std::mem::transmute::<usize, fn(usize, &[u8]) -> std::result::Result<Vec<u8>, String>>(
                (base + trampoline) as usize,
            )
        };
        let outcome = run((base + function) as usize, &arg);
        let done: Done = (id, outcome);
        conn.send(&done).map_err(|e| e.to_string())?;
    }
}

/// Decodes a chunk of `A`s, runs the `fn(A) -> R` at `function` on each,
/// and encodes the results; a panic (the chunk's first) is its message.
fn chunk_trampoline<A: DeserializeOwned, R: Serialize>(
    function: usize,
    chunk: &[u8],
) -> std::result::Result<Vec<u8>, String> {
    // SAFETY: as in `trampoline`.
    let f = unsafe { std::mem::transmute::<usize, fn(A) -> R>(function) };
    run_chunk(chunk, f)
}

/// Decodes a chunk of `T`s, runs `each` on every one, and encodes the
/// results; a panic (the chunk's first) is its message.
fn run_chunk<T: DeserializeOwned, R: Serialize>(
    chunk: &[u8],
    each: impl FnMut(T) -> R,
) -> std::result::Result<Vec<u8>, String> {
    let items: Vec<T> =
        postcard::from_bytes(chunk).map_err(|e| format!("decoding the arguments: {e}"))?;
    let results: Vec<R> = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        items.into_iter().map(each).collect()
    }))
    .map_err(|payload| panic_message(payload.as_ref()))?;
    postcard::to_allocvec(&results).map_err(|e| format!("encoding the results: {e}"))
}

/// Runs the `fn(A, B) -> R` at `function` on a decoded pair (`starmap`).
fn pair_trampoline<A: DeserializeOwned, B: DeserializeOwned, R: Serialize>(
    function: usize,
    chunk: &[u8],
) -> std::result::Result<Vec<u8>, String> {
    // SAFETY: as in `trampoline`, for an `fn(A, B) -> R`.
    let f = unsafe { std::mem::transmute::<usize, fn(A, B) -> R>(function) };
    run_chunk(chunk, |(a, b): (A, B)| f(a, b))
}

/// Decodes an `A`, runs the `fn(A) -> R` at `function` on it, and encodes
/// its result; a panic is its message.
fn trampoline<A: DeserializeOwned, R: Serialize>(
    function: usize,
    arg: &[u8],
) -> std::result::Result<Vec<u8>, String> {
    // SAFETY: `function` is the address of an `fn(A) -> R` (see
    // `worker_loop`).
    let f = unsafe { std::mem::transmute::<usize, fn(A) -> R>(function) };
    let arg: A = postcard::from_bytes(arg).map_err(|e| format!("decoding the argument: {e}"))?;
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(arg)))
        .map_err(|payload| panic_message(payload.as_ref()))?;
    postcard::to_allocvec(&result).map_err(|e| format!("encoding the result: {e}"))
}

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

/// One worker, as the manager sees it.
struct Worker {
    child: Child,
    conn: Connection,
    /// The tasks it holds, the one it runs first (kept, so that those it
    /// never started can go back to the queue if it dies).
    busy: VecDeque<Task>,
    /// Tasks it has run.
    ran: u64,
}

fn start_worker(settings: &Settings) -> Result<Worker> {
    let pipe = pipe_name();
    let conn = Connection::create(&pipe, true)?;
    let spec = Spec {
        trampoline: 0,
        function: settings.initializer,
        pipe,
        // Workers die with the pool's process.
        daemon_of: Some(std::process::id()),
        exe: this_exe().map_err(|e| Error::os("/proc/self/exe", "stat", e))?,
    };
    let child = spawn(&spec, "pool worker")?;
    Ok(Worker {
        child,
        conn,
        busy: VecDeque::new(),
        ran: 0,
    })
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
                            shared.lock().pids = workers.iter().map(|w| w.child.id()).collect();
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
        run: fn(usize, &[u8]) -> std::result::Result<Vec<u8>, String>,
        function: usize,
        arg: &T,
    ) -> Result<AsyncResult<R>> {
        let base = anchor();
        let encoded = postcard::to_allocvec(arg)
            .map_err(|e| Error::invalid(format!("encoding the argument: {e}")))?;
        let trampoline = run as usize as isize - base;
        let function = function as isize - base;
        let id = {
            let mut state = self.shared.lock();
            if state.closed || state.terminated {
                return Err(Error::invalid("the pool is closed: no more tasks"));
            }
            let id = state.next_id;
            state.next_id += 1;
            state.queue.push_back((id, trampoline, function, encoded));
            id
        };
        self.wake.set();
        Ok(AsyncResult {
            id,
            shared: self.shared.clone(),
            _result: PhantomData,
        })
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
        let chunksize = items.len().div_ceil(4 * self.processes).max(1);
        Ok(MapResult {
            chunks: self.imap_chunked(f, items, chunksize)?.chunks,
        })
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
        MapResult {
            chunks: self.imap_chunked(f, items, chunksize)?.chunks,
        }
        .get()
    }

    /// `f(a, b)` of every pair, in order (Python's `starmap`).
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
        let items: Vec<(A, B)> = items.into_iter().collect();
        let pending = self
            .submit::<_, Vec<R>>(pair_trampoline::<A, B, R>, f as usize, &items)
            .map_err(|e| PoolError::Failed(e.to_string()))?;
        pending.get()
    }

    /// `f` of every item as an iterator of results in the items' order,
    /// each as soon as it and those before it are in (Python's `imap`,
    /// chunk size 1); see [`Imap::next_timeout`].
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
    /// # Ok(()) }
    /// ```
    pub fn imap<A, R>(
        &self,
        f: fn(A) -> R,
        items: impl IntoIterator<Item = A>,
    ) -> std::result::Result<Imap<R>, PoolError>
    where
        A: Serialize + DeserializeOwned,
        R: Serialize + DeserializeOwned,
    {
        self.imap_chunked(f, items, 1)
    }

    /// As [`imap`](Self::imap), in chunks of `chunksize` items.
    pub fn imap_chunked<A, R>(
        &self,
        f: fn(A) -> R,
        items: impl IntoIterator<Item = A>,
        chunksize: usize,
    ) -> std::result::Result<Imap<R>, PoolError>
    where
        A: Serialize + DeserializeOwned,
        R: Serialize + DeserializeOwned,
    {
        let chunksize = chunksize.max(1);
        let mut chunks = VecDeque::new();
        let mut items = items.into_iter().peekable();
        while items.peek().is_some() {
            let chunk: Vec<A> = items.by_ref().take(chunksize).collect();
            chunks.push_back(
                self.submit::<_, Vec<R>>(chunk_trampoline::<A, R>, f as usize, &chunk)
                    .map_err(|e| PoolError::Failed(e.to_string()))?,
            );
        }
        Ok(Imap {
            chunks,
            ready: VecDeque::new(),
            unordered: false,
        })
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
    pub fn imap_unordered<A, R>(
        &self,
        f: fn(A) -> R,
        items: impl IntoIterator<Item = A>,
    ) -> std::result::Result<Imap<R>, PoolError>
    where
        A: Serialize + DeserializeOwned,
        R: Serialize + DeserializeOwned,
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

/// The manager: hands out tasks, takes results in, replaces dead workers,
/// and at the end stops and reaps every worker.
fn manage(shared: &Shared, mut workers: Vec<Worker>, wake: &Event, settings: Settings) {
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
                match w.conn.send(&task) {
                    Ok(()) => w.busy.push_back(task),
                    // A worker that cannot take it is dead: `collect`
                    // replaces it; the task waits for the next.
                    Err(_) => {
                        state.queue.push_front(task);
                        break;
                    }
                }
            }
        }
    }
    (state.closed && state.queue.is_empty(), state.terminated)
}

/// Takes in every result waiting, and fails the task of, and replaces,
/// every worker that died.
fn collect(shared: &Shared, workers: &mut [Worker], settings: &Settings, look: bool) {
    let mut got = Vec::new();
    let mut requeue: Vec<Task> = Vec::new();
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
                Ok(fresh) => *w = fresh,
                Err(e) => {
                    // No worker: the tasks wait, and the next look tries again.
                    eprintln!("shmipc: pool: cannot replace a dead worker: {e}");
                }
            }
        }
    }
    let mut state = shared.lock();
    state.pids = workers.iter().map(|w| w.child.id()).collect();
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

/// A task's result to come (Python's `AsyncResult`).
pub struct AsyncResult<R> {
    id: u64,
    shared: Arc<Shared>,
    _result: PhantomData<fn() -> R>,
}

impl<R: DeserializeOwned> AsyncResult<R> {
    /// Waits for the result.
    pub fn get(self) -> std::result::Result<R, PoolError> {
        self.take(None).unwrap_or(Err(PoolError::TimedOut))
    }

    /// Waits at most `timeout`: [`PoolError::TimedOut`] then, and the task
    /// goes on (this result is consumed).
    pub fn get_timeout(self, timeout: Duration) -> std::result::Result<R, PoolError> {
        self.take(Instant::now().checked_add(timeout))
            .unwrap_or(Err(PoolError::TimedOut))
    }

    /// The result, waiting until `deadline`; `None` if it came first.
    fn take(&self, deadline: Option<Instant>) -> Option<std::result::Result<R, PoolError>> {
        let (_, outcome) = self.shared.take_any(&[self.id], deadline)?;
        Some(decode(outcome))
    }

    /// Whether the result is in.
    pub fn ready(&self) -> bool {
        self.shared.lock().results.contains_key(&self.id)
    }

    /// Waits until the result is in, without taking it.
    pub fn wait(&self) {
        let mut state = self.shared.lock();
        while !state.results.contains_key(&self.id) {
            state = self
                .shared
                .done
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }

    /// Whether the task returned (rather than failed);
    /// [`PoolError::NotReady`] before the result is in.
    pub fn successful(&self) -> std::result::Result<bool, PoolError> {
        match self.shared.lock().results.get(&self.id) {
            None => Err(PoolError::NotReady),
            Some(outcome) => Ok(outcome.is_ok()),
        }
    }
}

/// A result's bytes as an `R`.
fn decode<R: DeserializeOwned>(
    outcome: std::result::Result<Vec<u8>, PoolError>,
) -> std::result::Result<R, PoolError> {
    let bytes = outcome?;
    postcard::from_bytes(&bytes).map_err(|e| {
        PoolError::Failed(format!(
            "decoding the result as {}: {e}",
            std::any::type_name::<R>()
        ))
    })
}

impl Shared {
    /// Takes the first result in of the tasks `ids`, waiting until
    /// `deadline`: its index in `ids` and the outcome; `None` if the
    /// deadline came first.
    fn take_any(
        &self,
        ids: &[u64],
        deadline: Option<Instant>,
    ) -> Option<(usize, std::result::Result<Vec<u8>, PoolError>)> {
        let mut state = self.lock();
        loop {
            for (i, id) in ids.iter().enumerate() {
                if let Some(outcome) = state.results.remove(id) {
                    return Some((i, outcome));
                }
            }
            state = match deadline {
                None => self
                    .done
                    .wait(state)
                    .unwrap_or_else(PoisonError::into_inner),
                Some(d) => {
                    let left = d.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return None;
                    }
                    self.done
                        .wait_timeout(state, left)
                        .unwrap_or_else(PoisonError::into_inner)
                        .0
                }
            };
        }
    }
}

/// The results of [`Pool::imap`] (in order) or [`Pool::imap_unordered`]
/// (as they come), as an iterator.
pub struct Imap<R> {
    /// The chunks not yet taken, in the items' order.
    chunks: VecDeque<AsyncResult<Vec<R>>>,
    /// Results of a chunk taken, not yet handed out.
    ready: VecDeque<R>,
    unordered: bool,
}

impl<R: DeserializeOwned> Imap<R> {
    /// The next result, waiting at most `timeout`: `None` when all were
    /// handed out, `Some(Err(PoolError::TimedOut))` if it was not in time
    /// (ask again: nothing is lost). A failed task is its error, and the
    /// results after it still come.
    pub fn next_timeout(&mut self, timeout: Duration) -> Option<std::result::Result<R, PoolError>> {
        self.next_until(Instant::now().checked_add(timeout))
    }

    fn next_until(
        &mut self,
        deadline: Option<Instant>,
    ) -> Option<std::result::Result<R, PoolError>> {
        if let Some(r) = self.ready.pop_front() {
            return Some(Ok(r));
        }
        let shared = self.chunks.front()?.shared.clone();
        let ids: Vec<u64> = if self.unordered {
            self.chunks.iter().map(|c| c.id).collect()
        } else {
            vec![self.chunks.front()?.id]
        };
        let Some((i, outcome)) = shared.take_any(&ids, deadline) else {
            return Some(Err(PoolError::TimedOut));
        };
        self.chunks.remove(i);
        match decode::<Vec<R>>(outcome) {
            Ok(results) => {
                self.ready.extend(results);
                self.ready
                    .pop_front()
                    .map(Ok)
                    .or_else(|| self.next_until(deadline))
            }
            Err(e) => Some(Err(e)),
        }
    }
}

impl<R: DeserializeOwned> Iterator for Imap<R> {
    type Item = std::result::Result<R, PoolError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_until(None)
    }
}

/// The results of [`Pool::map_async`] to come, in the items' order.
pub struct MapResult<R> {
    chunks: VecDeque<AsyncResult<Vec<R>>>,
}

impl<R: DeserializeOwned> MapResult<R> {
    /// Waits for every result; the first chunk that failed is the error.
    pub fn get(self) -> std::result::Result<Vec<R>, PoolError> {
        self.get_until(None)
    }

    /// As [`get`](Self::get), for at most `timeout` in all.
    pub fn get_timeout(self, timeout: Duration) -> std::result::Result<Vec<R>, PoolError> {
        self.get_until(Instant::now().checked_add(timeout))
    }

    fn get_until(self, deadline: Option<Instant>) -> std::result::Result<Vec<R>, PoolError> {
        let mut out = Vec::new();
        for chunk in self.chunks {
            out.extend(chunk.take(deadline).unwrap_or(Err(PoolError::TimedOut))?);
        }
        Ok(out)
    }

    /// Whether every result is in.
    pub fn ready(&self) -> bool {
        self.chunks.iter().all(AsyncResult::ready)
    }

    /// Waits until every result is in, without taking them.
    pub fn wait(&self) {
        self.chunks.iter().for_each(AsyncResult::wait);
    }
}
