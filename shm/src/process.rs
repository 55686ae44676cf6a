//! [`Process`]: a Rust function run in a child process, as Python's
//! `multiprocessing.Process` runs one, with the "spawn" start method.
//!
//! The child is a fresh `exec` of the current executable. [`init`], called
//! first thing in `main`, is where it branches off: in a child it runs the
//! function and exits; in any other process it returns at once. The
//! function is found in the child by its offset from `init` in the same
//! executable (the two images are one file, loaded at one base each, so
//! offsets agree; the child checks that its executable is the parent's
//! file and refuses otherwise). The argument goes to the child, and the
//! return value or panic message comes back, through a duplex [`pipe`](crate::pipe) of
//! this crate, serde-encoded.
//!
//! Children are always reaped: [`join`](Process::join) waits for the exit
//! status, and dropping a `Process` whose child still runs hands the wait to
//! a thread of its own (a daemon child is killed first).

use std::os::unix::fs::MetadataExt;
use std::process::{Child, Command, ExitStatus};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::message::{Connection, RecvError};

/// The variable that makes an `exec` of this executable a child.
const CHILD_ENV: &str = "SHMIPC_PROCESS_CHILD";

static INIT_CALLED: AtomicBool = AtomicBool::new(false);

/// Branches off a child started by [`Process::start`]: call it first thing
/// in `main` (the counterpart of Python's `if __name__ == "__main__":`
/// guard). In a child it runs the function, sends back its result and
/// exits, and never returns; in any other process it returns at once.
///
/// ```
/// # extern crate shmipc_shm as shmipc;
/// fn main() {
///     shmipc::init();
///     // ... the program, which may start processes ...
/// }
/// ```
pub fn init() {
    INIT_CALLED.store(true, Ordering::SeqCst);
    let Ok(spec) = std::env::var(CHILD_ENV) else {
        return;
    };
    // Not passed on to what this child starts itself.
    std::env::remove_var(CHILD_ENV);
    let code = match run_child(&spec) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("shmipc: child process: {e}");
            1
        }
    };
    std::process::exit(code);
}

/// What the parent passes the child: the trampoline's and the function's
/// offsets from [`init`] (both 0 for a [`Pool`](crate::Pool)'s worker,
/// which gets its functions task by task), the pipe's name, the parent's
/// pid when the child should die with it (a daemon), and the parent's
/// executable.
struct Spec {
    trampoline: isize,
    function: isize,
    pipe: String,
    daemon_of: Option<u32>,
    exe: (u64, u64),
}

impl Spec {
    fn encode(&self) -> String {
        format!(
            "{} {} {} {} {}:{}",
            self.trampoline,
            self.function,
            self.pipe,
            self.daemon_of.unwrap_or(0),
            self.exe.0,
            self.exe.1
        )
    }

    fn decode(text: &str) -> std::result::Result<Spec, String> {
        let bad = || format!("{CHILD_ENV}={text:?} is not what Process::start sets");
        let parts: Vec<&str> = text.split(' ').collect();
        let [trampoline, function, pipe, daemon_of, exe] = parts[..] else {
            return Err(bad());
        };
        let (dev, ino) = exe.split_once(':').ok_or_else(bad)?;
        Ok(Spec {
            trampoline: trampoline.parse().map_err(|_| bad())?,
            function: function.parse().map_err(|_| bad())?,
            pipe: pipe.to_owned(),
            daemon_of: match daemon_of.parse::<u32>().map_err(|_| bad())? {
                0 => None,
                pid => Some(pid),
            },
            exe: (
                dev.parse().map_err(|_| bad())?,
                ino.parse().map_err(|_| bad())?,
            ),
        })
    }
}

/// The executable this process runs, as (device, inode).
fn this_exe() -> std::io::Result<(u64, u64)> {
    let m = std::fs::metadata("/proc/self/exe")?;
    Ok((m.dev(), m.ino()))
}

/// Where [`init`] is in this process: functions are passed to children as
/// offsets from it.
pub(crate) fn anchor() -> isize {
    init as fn() as usize as isize
}

/// The child's side: everything after the checks runs the function through
/// its trampoline; the exit code is 0 if it returned, 1 if it panicked.
fn run_child(spec: &str) -> std::result::Result<i32, String> {
    let spec = Spec::decode(spec)?;
    if let Some(parent) = spec.daemon_of {
        // SAFETY: prctl with PR_SET_PDEATHSIG and a signal number reads
        // nothing from memory.
        unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) };
        // The parent may have died before the call: then nobody will send
        // the signal, and the child sends it itself.
        if std::os::unix::process::parent_id() != parent {
            // SAFETY: raise(3) with a signal number reads no memory; SIGKILL
            // ends this process here.
            unsafe { libc::raise(libc::SIGKILL) };
        }
    }
    let exe = this_exe().map_err(|e| format!("/proc/self/exe: {e}"))?;
    if exe != spec.exe {
        return Err("this executable is not the parent's (was it rebuilt?)".to_owned());
    }
    let conn = Connection::open(&spec.pipe).map_err(|e| e.to_string())?;
    if spec.trampoline == 0 {
        return crate::pool::worker_loop(&conn, spec.function);
    }
    let base = anchor();
    // SAFETY: the parent computed both offsets from `init` in this very
    // file (checked just above), from a `trampoline::<A, R>` and an
    // `fn(A) -> R` of matching types (`Process::new` takes them together).
    let trampoline: fn(&Connection, usize) -> std::result::Result<bool, String> =
        unsafe { std::mem::transmute::<usize, _>((base + spec.trampoline) as usize) };
    let returned = trampoline(&conn, (base + spec.function) as usize)?;
    Ok(if returned { 0 } else { 1 })
}

/// Runs the `fn(A) -> R` at `function` on the argument received from
/// `conn`, and sends back its return value or its panic message: `true` if
/// it returned.
fn trampoline<A: DeserializeOwned, R: Serialize>(
    conn: &Connection,
    function: usize,
) -> std::result::Result<bool, String> {
    // SAFETY: `function` is the address of an `fn(A) -> R` (see
    // `run_child`).
    let f = unsafe { std::mem::transmute::<usize, fn(A) -> R>(function) };
    let arg: A = conn.recv().map_err(|e| e.to_string())?;
    let outcome: std::result::Result<R, String> =
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(arg)))
            .map_err(|payload| panic_message(payload.as_ref()));
    let returned = outcome.is_ok();
    conn.send(&outcome).map_err(|e| e.to_string())?;
    Ok(returned)
}

pub(crate) fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic with a payload that is not a string".to_owned()
    }
}

/// Why a process gave no return value.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProcessError {
    /// The function panicked; its message.
    Panicked(String),
    /// The process ended without a result: killed by a signal (its
    /// number), or exited with this code before sending one.
    Died {
        /// Python's `exitcode`: the exit code, or minus the signal.
        exitcode: i32,
    },
    /// `join_timeout` ran out first.
    TimedOut,
    /// It was not started, or its result was already taken.
    NotStarted,
    /// Something else failed: starting it, or the pipe to it.
    Failed(String),
}

impl std::fmt::Display for ProcessError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ProcessError::Panicked(m) => write!(f, "the process's function panicked: {m}"),
            ProcessError::Died { exitcode } if *exitcode < 0 => {
                write!(f, "the process was killed by signal {}", -exitcode)
            }
            ProcessError::Died { exitcode } => {
                write!(
                    f,
                    "the process exited with code {exitcode} before sending a result"
                )
            }
            ProcessError::TimedOut => write!(f, "the process did not finish in time"),
            ProcessError::NotStarted => {
                write!(f, "the process was not started, or its result was taken")
            }
            ProcessError::Failed(why) => write!(f, "{why}"),
        }
    }
}

impl std::error::Error for ProcessError {}

/// A function run in a child process (see the [module](self) notes).
///
/// ```
/// # extern crate shmipc_shm as shmipc;
/// fn square(x: u64) -> u64 {
///     x * x
/// }
///
/// fn main() -> Result<(), Box<dyn std::error::Error>> {
///     shmipc::init();
///     let mut p = shmipc::Process::new(square, 7).name("squarer");
///     p.start()?;
///     p.join();
///     assert_eq!(p.exitcode(), Some(0));
///     assert_eq!(p.result()?, 49);
///     Ok(())
/// }
/// ```
pub struct Process<R> {
    name: String,
    daemon: bool,
    /// Sends the argument to the child, once started.
    launch: Option<Launch>,
    trampoline: isize,
    function: isize,
    child: Option<Child>,
    conn: Option<Connection>,
    status: Option<ExitStatus>,
    outcome: Option<std::result::Result<R, ProcessError>>,
}

/// What sends a process's argument down its pipe.
type Launch = Box<dyn FnOnce(&Connection) -> std::result::Result<(), String> + Send>;

static STARTED: AtomicU64 = AtomicU64::new(0);

impl<R: Serialize + DeserializeOwned> Process<R> {
    /// A process that will run `f(arg)` once [`start`](Self::start)ed.
    pub fn new<A: Serialize + DeserializeOwned + Send + 'static>(
        f: fn(A) -> R,
        arg: A,
    ) -> Process<R> {
        let base = anchor();
        Process {
            name: format!("Process-{}", STARTED.fetch_add(1, Ordering::Relaxed) + 1),
            daemon: false,
            launch: Some(Box::new(move |conn: &Connection| {
                conn.send(&arg).map_err(|e| e.to_string())
            })),
            trampoline: trampoline::<A, R> as fn(&Connection, usize) -> _ as usize as isize - base,
            function: f as usize as isize - base,
            child: None,
            conn: None,
            status: None,
            outcome: None,
        }
    }

    /// Names the process (Python's `name`); `Process-N` otherwise.
    pub fn name(mut self, name: &str) -> Self {
        name.clone_into(&mut self.name);
        self
    }

    /// Makes the child die when this process dies, even by SIGKILL, and be
    /// killed when this handle is dropped (Python's `daemon`).
    pub fn daemon(mut self, daemon: bool) -> Self {
        self.daemon = daemon;
        self
    }

    /// The name given, or `Process-N`.
    pub fn get_name(&self) -> &str {
        &self.name
    }

    /// Starts the child: an `exec` of this executable that [`init`] turns
    /// into a run of the function. An error if [`init`] was not called in
    /// this process (the child would run `main` instead), or if already
    /// started.
    pub fn start(&mut self) -> Result<()> {
        require_init("Process::start")?;
        let Some(launch) = self.launch.take() else {
            return Err(Error::invalid(format!(
                "process '{}' was already started",
                self.name
            )));
        };
        let pipe = pipe_name();
        let conn = Connection::create(&pipe, true)?;
        self.child = Some(spawn(
            &self.name,
            self.trampoline,
            self.function,
            pipe,
            self.daemon.then(std::process::id),
        )?);
        launch(&conn).map_err(Error::invalid)?;
        self.conn = Some(conn);
        Ok(())
    }

    /// The child's pid, once started.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Whether the child runs now (started and not yet exited); reaps it
    /// if it has exited.
    pub fn is_alive(&mut self) -> bool {
        self.poll_exit();
        self.child.is_some() && self.status.is_none()
    }

    /// Waits for the child to finish, taking its result first (so that a
    /// large one never blocks it), and reaps it.
    pub fn join(&mut self) {
        let _ = self.join_until(None);
    }

    /// As [`join`](Self::join), for at most `timeout`: `true` if the child
    /// finished (Python's `join(timeout)` then `exitcode`).
    pub fn join_timeout(&mut self, timeout: Duration) -> bool {
        self.join_until(Instant::now().checked_add(timeout))
    }

    fn join_until(&mut self, deadline: Option<Instant>) -> bool {
        if self.child.is_none() || self.status.is_some() {
            return self.status.is_some();
        }
        if self.outcome.is_none() && !self.wait_for_outcome(deadline) {
            return false;
        }
        if self.status.is_some() {
            return true;
        }
        // The result is in (or the child is gone): it exits at once.
        let Some(child) = self.child.as_mut() else {
            return false;
        };
        match child.wait() {
            Ok(status) => self.status = Some(status),
            Err(e) => {
                self.outcome
                    .get_or_insert(Err(ProcessError::Failed(e.to_string())));
            }
        }
        self.status.is_some()
    }

    /// Waits for the child's result until `deadline`, as long as the child
    /// lives: `false` if the deadline came first. A child that dies before
    /// it opened its end of the pipe holds no role there for the pipe to
    /// see die, so its exit is looked at too, in slices that grow from
    /// 1 ms to 50 ms.
    fn wait_for_outcome(&mut self, deadline: Option<Instant>) -> bool {
        let mut slice = Duration::from_millis(1);
        loop {
            let Some(conn) = self.conn.as_ref() else {
                return true;
            };
            let wait = match deadline {
                None => slice,
                Some(d) => d.saturating_duration_since(Instant::now()).min(slice),
            };
            let got: std::result::Result<std::result::Result<R, String>, RecvError> =
                conn.recv_timeout(wait);
            match got {
                Ok(outcome) => {
                    self.outcome = Some(outcome.map_err(ProcessError::Panicked));
                    return true;
                }
                Err(RecvError::TimedOut { .. } | RecvError::Empty { .. }) => {}
                // End of file: the child is gone without a result.
                Err(RecvError::Closed { .. } | RecvError::Failed(Error::Disconnected { .. })) => {
                    return true;
                }
                Err(e) => {
                    self.outcome = Some(Err(ProcessError::Failed(e.to_string())));
                    return true;
                }
            }
            self.poll_exit();
            if self.status.is_some() {
                // Gone: one last look for a result sent just before.
                let last = self
                    .conn
                    .as_ref()
                    .map(|c| c.recv_timeout::<std::result::Result<R, String>>(Duration::ZERO));
                if let Some(Ok(outcome)) = last {
                    self.outcome = Some(outcome.map_err(ProcessError::Panicked));
                }
                return true;
            }
            if deadline.is_some_and(|d| Instant::now() >= d) {
                return false;
            }
            slice = (slice * 2).min(Duration::from_millis(50));
        }
    }

    fn poll_exit(&mut self) {
        if self.status.is_none() {
            if let Some(child) = self.child.as_mut() {
                if let Ok(Some(status)) = child.try_wait() {
                    self.status = Some(status);
                }
            }
        }
    }

    /// Python's `exitcode`: `None` while running (or not started), 0 after
    /// a return, 1 after a panic, `-N` after signal N.
    pub fn exitcode(&mut self) -> Option<i32> {
        self.poll_exit();
        self.status.map(exitcode)
    }

    /// Sends SIGTERM (Python's `terminate`).
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn forever(_: ()) { loop { std::thread::park() } }
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # shmipc::init();
    /// let mut p = shmipc::Process::new(forever, ()).daemon(true);
    /// p.start()?;
    /// p.terminate()?;
    /// p.join();
    /// assert_eq!(p.exitcode(), Some(-15));
    /// # Ok(()) }
    /// ```
    pub fn terminate(&self) -> Result<()> {
        self.signal(libc::SIGTERM)
    }

    /// Sends SIGKILL (Python's `kill`).
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn forever(_: ()) { loop { std::thread::park() } }
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # shmipc::init();
    /// let mut p = shmipc::Process::new(forever, ()).name("stuck");
    /// p.start()?;
    /// assert!(p.is_alive());
    /// assert!(!p.join_timeout(std::time::Duration::from_millis(10)));
    /// p.kill()?;
    /// p.join();
    /// assert_eq!(p.exitcode(), Some(-9));
    /// assert!(matches!(p.result(), Err(shmipc::ProcessError::Died { exitcode: -9 })));
    /// p.close()?;
    /// # Ok(()) }
    /// ```
    pub fn kill(&self) -> Result<()> {
        self.signal(libc::SIGKILL)
    }

    fn signal(&self, signal: i32) -> Result<()> {
        let Some(pid) = self.pid() else {
            return Err(Error::invalid(format!(
                "process '{}' was not started",
                self.name
            )));
        };
        if self.status.is_some() {
            return Ok(());
        }
        // SAFETY: kill(2) with a pid this handle has not yet reaped (so it
        // names our child, alive or a zombie) reads no memory.
        if unsafe { libc::kill(pid as i32, signal) } != 0 {
            return Err(Error::os(
                &self.name,
                "kill",
                std::io::Error::last_os_error(),
            ));
        }
        Ok(())
    }

    /// The function's return value, once joined: [`ProcessError::Panicked`]
    /// with the panic message, [`ProcessError::Died`] if the process ended
    /// without one (a signal, say), [`ProcessError::TimedOut`] if not yet
    /// finished. Taken once.
    pub fn result(&mut self) -> std::result::Result<R, ProcessError> {
        if self.child.is_none() {
            return Err(ProcessError::NotStarted);
        }
        if self.status.is_none() {
            return Err(ProcessError::TimedOut);
        }
        match self.outcome.take() {
            Some(outcome) => outcome,
            None => Err(ProcessError::Died {
                exitcode: self.status.map_or(0, exitcode),
            }),
        }
    }

    /// Releases the handle (Python's `close`): an error while the child
    /// still runs.
    pub fn close(mut self) -> Result<()> {
        if self.is_alive() {
            return Err(Error::invalid(format!(
                "process '{}' (pid {}) is still running: join it first",
                self.name,
                self.pid().unwrap_or(0)
            )));
        }
        Ok(())
    }
}

impl<R> Drop for Process<R> {
    fn drop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        if self.status.is_some() {
            return;
        }
        if self.daemon {
            let _ = child.kill();
        }
        // Reaped whenever it ends, without holding up this thread.
        std::thread::spawn(move || {
            let _ = child.wait();
        });
    }
}

/// A fresh name for a parent-child pipe.
pub(crate) fn pipe_name() -> String {
    format!(
        "proc-{}-{}",
        std::process::id(),
        STARTED.fetch_add(1, Ordering::Relaxed)
    )
}

/// [`spawn`]'s callers' precondition, checked before they make anything:
/// without [`init`] in `main`, a child would run `main` instead.
pub(crate) fn require_init(caller: &str) -> Result<()> {
    if INIT_CALLED.load(Ordering::SeqCst) {
        return Ok(());
    }
    Err(Error::invalid(format!(
        "{caller}: call shmipc::init() first thing in main, so that the child process runs the function instead of main"
    )))
}

/// Starts a child of this executable that [`init`] turns into a run of
/// the function at `function` through the trampoline at `trampoline` (both
/// offsets from `init`; both 0 for a pool worker, whose `function` is its
/// initializer's), talking over the pipe `pipe`, and dying with the
/// process `daemon_of` if given; `what` names it in errors. The caller has
/// checked [`require_init`].
pub(crate) fn spawn(
    what: &str,
    trampoline: isize,
    function: isize,
    pipe: String,
    daemon_of: Option<u32>,
) -> Result<Child> {
    let spec = Spec {
        trampoline,
        function,
        pipe,
        daemon_of,
        exe: this_exe().map_err(|e| Error::os("/proc/self/exe", "stat", e))?,
    };
    let exe = std::env::current_exe().map_err(|e| Error::os("/proc/self/exe", "readlink", e))?;
    Command::new(exe)
        .env(CHILD_ENV, spec.encode())
        .spawn()
        .map_err(|e| Error::os(what, "spawn", e))
}

/// Python's `exitcode` of a status.
pub(crate) fn exitcode(status: ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => code,
        (None, Some(signal)) => -signal,
        (None, None) => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn double(x: u32) -> u32 {
        x * 2
    }

    #[test]
    fn start_without_init_says_to_call_it() {
        // This test binary's `main` is libtest's, which never calls `init`.
        match Process::new(double, 1).start() {
            Err(Error::InvalidArgument { detail }) => {
                assert!(detail.contains("shmipc::init()"), "{detail}")
            }
            other => panic!("expected an error naming init, got {other:?}"),
        }
    }

    #[test]
    fn a_spec_survives_its_encoding_and_garbage_is_refused() {
        let spec = Spec {
            trampoline: -4096,
            function: 123,
            pipe: "proc-1-2".to_owned(),
            daemon_of: Some(77),
            exe: (5, 9),
        };
        let back = Spec::decode(&spec.encode()).unwrap();
        assert_eq!(
            (
                back.trampoline,
                back.function,
                back.pipe.as_str(),
                back.daemon_of,
                back.exe
            ),
            (-4096, 123, "proc-1-2", Some(77), (5, 9))
        );
        assert!(Spec::decode("1 2 x").is_err());
        assert!(Spec::decode("a b c 0 1:2").is_err());
    }
}
