//! [`JoinableQueue`]: a queue that counts unfinished tasks.

use std::ops::Deref;
use std::sync::atomic::Ordering;
use std::time::Duration;

use shmipc_core::layout::QueueMode;

use super::error::JoinError;
use super::shared::{before, Shared};
use super::{Queue, WaitStrategy};
use crate::error::{Error, Result};
use crate::futex::FutexWake;
use crate::options::Options;
use crate::plain::Plain;

/// A [`Queue`] that counts unfinished tasks, like Python's
/// `multiprocessing.JoinableQueue`: every put adds one, [`task_done`]
/// removes one, [`join`] waits for zero. Derefs to [`Queue`].
///
/// [`task_done`]: JoinableQueue::task_done
/// [`join`]: JoinableQueue::join
///
/// ```
/// # extern crate shmipc_shm as shmipc;
/// # fn main() -> Result<(), shmipc::Error> {
/// let name = format!("doc-jqueue-{}", std::process::id());
/// let jobs = shmipc::JoinableQueue::<u32>::create(&name, 16)?;
/// jobs.put(1)?;
/// let job = jobs.get()?;
/// jobs.task_done()?;
/// jobs.join()?;                         // returns at once: nothing unfinished
/// assert!(jobs.task_done().is_err());   // one too many
/// # let _ = job; Ok(()) }
/// ```
#[derive(Debug)]
pub struct JoinableQueue<T: Plain> {
    queue: Queue<T>,
}

impl<T: Plain> JoinableQueue<T> {
    /// Creates a joinable multi-producer multi-consumer queue.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-joinable-create-0-{}", std::process::id());
    /// let q = shmipc::JoinableQueue::<u32>::create(&name, 16)?;
    /// q.put(1)?;
    /// assert_eq!(q.unfinished(), 1);
    /// # Ok(()) }
    /// ```
    pub fn create(name: &str, capacity: u64) -> Result<JoinableQueue<T>> {
        JoinableQueue::create_with(name, capacity, QueueMode::Mpmc, &Options::default())
    }

    /// Creates a joinable queue in `mode`, with `opts`.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-joinable-create_with-0-{}", std::process::id());
    /// let q = shmipc::JoinableQueue::<u32>::create_with(&name, 16, shmipc::QueueMode::Spsc, &shmipc::Options::new())?;
    /// assert_eq!(q.mode(), shmipc::QueueMode::Spsc);
    /// # Ok(()) }
    /// ```
    pub fn create_with(
        name: &str,
        capacity: u64,
        mode: QueueMode,
        opts: &Options,
    ) -> Result<JoinableQueue<T>> {
        Ok(JoinableQueue {
            queue: Queue::from_shared(Shared::create(name, capacity, mode, true, opts)?),
        })
    }

    /// Opens the joinable queue named `name`.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-joinable-open-0-{}", std::process::id());
    /// # let _q = shmipc::JoinableQueue::<u32>::create(&name, 16)?;
    /// let q = shmipc::JoinableQueue::<u32>::open(&name)?;
    /// q.put(1)?;
    /// # Ok(()) }
    /// ```
    pub fn open(name: &str) -> Result<JoinableQueue<T>> {
        JoinableQueue::open_with(name, &Options::default())
    }

    /// Opens the joinable queue named `name` with `opts`; a queue created
    /// without task counting is refused with [`Error::InvalidArgument`].
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-joinable-open_with-0-{}", std::process::id());
    /// # let _q = shmipc::JoinableQueue::<u32>::create(&name, 16)?;
    /// let q = shmipc::JoinableQueue::<u32>::open_with(&name, &shmipc::Options::new())?;
    /// # drop(q);
    /// # Ok(()) }
    /// ```
    pub fn open_with(name: &str, opts: &Options) -> Result<JoinableQueue<T>> {
        let queue = Queue::open_with(name, opts)?;
        if !queue.shared.joinable {
            return Err(Error::invalid(format!(
                "queue '{name}' was created without task counting; open it as a Queue"
            )));
        }
        Ok(JoinableQueue { queue })
    }

    /// This handle, waiting with `strategy` from now on.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-joinable-with_wait-0-{}", std::process::id());
    /// let q = shmipc::JoinableQueue::<u32>::create(&name, 16)?.with_wait(shmipc::WaitStrategy::Park);
    /// # drop(q);
    /// # Ok(()) }
    /// ```
    pub fn with_wait(self, strategy: WaitStrategy) -> JoinableQueue<T> {
        JoinableQueue {
            queue: self.queue.with_wait(strategy),
        }
    }

    /// Marks one item got from the queue as processed. Calling it more times
    /// than items were put is an error, and changes nothing.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-joinable-task_done-0-{}", std::process::id());
    /// let q = shmipc::JoinableQueue::<u32>::create(&name, 16)?;
    /// q.put(1)?;
    /// let _job = q.get()?;
    /// q.task_done()?;
    /// assert_eq!(q.unfinished(), 0);
    /// # Ok(()) }
    /// ```
    pub fn task_done(&self) -> Result<()> {
        let c = self.queue.shared.control();
        let mut done = c.tasks_done.load(Ordering::Acquire);
        loop {
            // Fewer done than taken is the common case, and needs only the
            // consumers' position; only past it is the producers' read.
            let allowed = before(done, self.queue.shared.taken())
                || before(done, self.queue.shared.put_so_far());
            if !allowed {
                return Err(Error::invalid(format!(
                    "task_done called on queue '{}' more times than items were put",
                    self.queue.name()
                )));
            }
            match c.tasks_done.compare_exchange_weak(
                done,
                done.wrapping_add(1),
                Ordering::SeqCst,
                Ordering::Acquire,
            ) {
                Ok(_) => break,
                Err(now) => done = now,
            }
        }
        // One fewer task held by this process (see `join`).
        self.queue.shared.note_done();
        // Only a task_done (or a write-off of a dead consumer's tasks) can
        // make `join`'s condition true, so waking the joiners only when it
        // holds loses none of them.
        c.all_done
            .notify_if(&FutexWake, u32::MAX, || self.unfinished() == 0);
        Ok(())
    }

    /// Items put and not yet marked done (a snapshot).
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-joinable-unfinished-0-{}", std::process::id());
    /// let q = shmipc::JoinableQueue::<u32>::create(&name, 16)?;
    /// q.put_slice(&[1, 2])?;
    /// assert_eq!(q.unfinished(), 2);
    /// # Ok(()) }
    /// ```
    pub fn unfinished(&self) -> u64 {
        let done = self
            .queue
            .shared
            .control()
            .tasks_done
            .load(Ordering::Acquire);
        // An SPSC tail lags the stamps: done may briefly run ahead of it.
        let put = self.queue.shared.put_so_far();
        if before(done, put) {
            put.wrapping_sub(done)
        } else {
            0
        }
    }

    /// Waits until every item put has been marked done.
    ///
    /// If a consumer process dies holding tasks it got and did not mark done,
    /// `join` does not wait for them for ever (Python's does): it returns
    /// [`JoinError::ConsumerDied`] naming the process and how many tasks it
    /// held, and writes those tasks off as done, so that the next `join`
    /// waits only for the rest. A parked `join` looks at the holders'
    /// liveness now and then (5 ms, backing off to 40 ms). Tasks are
    /// counted per process: a `task_done` counts against the calling
    /// process's holdings, so one process marking another's tasks done can
    /// make a death report the wrong count.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-joinable-join-0-{}", std::process::id());
    /// let q = shmipc::JoinableQueue::<u32>::create(&name, 16)?;
    /// q.put(1)?;
    /// let worker = std::thread::spawn({
    ///     let q = shmipc::JoinableQueue::<u32>::open(&name)?;
    ///     move || { let _ = q.get(); q.task_done().unwrap(); }
    /// });
    /// q.join()?; // returns once the worker marked its task done
    /// # worker.join().unwrap();
    /// # Ok(()) }
    /// ```
    pub fn join(&self) -> std::result::Result<(), JoinError> {
        self.join_until(None)
    }

    /// As [`join`](Self::join), waiting at most `timeout`:
    /// [`JoinError::TimedOut`] if tasks are still unfinished then.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-joinable-join_timeout-0-{}", std::process::id());
    /// let q = shmipc::JoinableQueue::<u32>::create(&name, 16)?;
    /// q.put(1)?;
    /// let waited = q.join_timeout(std::time::Duration::from_millis(5));
    /// assert!(matches!(waited, Err(shmipc::JoinError::TimedOut { .. })));
    /// # Ok(()) }
    /// ```
    pub fn join_timeout(&self, timeout: Duration) -> std::result::Result<(), JoinError> {
        self.join_until(Some(timeout))
    }

    fn join_until(&self, timeout: Option<Duration>) -> std::result::Result<(), JoinError> {
        let outcome = self
            .queue
            .shared
            .wait_all_done(timeout, || self.unfinished() == 0);
        JoinError::from_wait(outcome, &self.queue.shared.name, timeout)
    }
}

impl<T: Plain> Deref for JoinableQueue<T> {
    type Target = Queue<T>;
    fn deref(&self) -> &Queue<T> {
        &self.queue
    }
}
