//! `JoinableMessageQueue`: Python's `JoinableQueue` of any object.

use std::fmt;
use std::ops::Deref;
use std::time::Duration;

use super::queue::{MessageQueue, JOINABLE};
use crate::error::{Error, Result};
use crate::options::Options;
use crate::queue::{JoinError, WaitStrategy};

/// A [`MessageQueue`] with Python's `JoinableQueue` additions:
/// [`task_done`](Self::task_done) and [`join`](Self::join). Everything else
/// is the message queue's, through `Deref`.
///
/// A task is a message received (by any handle of the queue, in any
/// process); `join` returns when every message put has been received and
/// marked done. A consumer process that dies holding tasks it has not
/// marked done is seen: `join` writes them off and reports
/// [`JoinError::ConsumerDied`], where Python's `join` hangs for ever.
///
/// ```
/// # extern crate shmipc_shm as shmipc;
/// # fn main() -> Result<(), shmipc::Error> {
/// let name = format!("doc-jmq-{}", std::process::id());
/// let q = shmipc::JoinableMessageQueue::create(&name, 4096)?;
/// q.put(&"job")?;
/// let worker = shmipc::JoinableMessageQueue::open(&name)?; // another process
/// let job: String = worker.get()?;
/// assert_eq!(job, "job");
/// worker.task_done()?;
/// q.join()?;
/// # Ok(()) }
/// ```
pub struct JoinableMessageQueue {
    queue: MessageQueue,
}

impl fmt::Debug for JoinableMessageQueue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinableMessageQueue")
            .field("name", &self.queue.name())
            .field("capacity", &self.queue.capacity())
            .finish()
    }
}

impl Deref for JoinableMessageQueue {
    type Target = MessageQueue;

    fn deref(&self) -> &MessageQueue {
        &self.queue
    }
}

impl JoinableMessageQueue {
    /// Creates a joinable queue whose ring holds `bytes` bytes (rounded as
    /// [`MessageQueue::create`] does).
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-jmq-create-{}", std::process::id());
    /// let q = shmipc::JoinableMessageQueue::create(&name, 4096)?;
    /// q.join()?; // nothing put: returns at once
    /// # Ok(()) }
    /// ```
    pub fn create(name: &str, bytes: usize) -> Result<JoinableMessageQueue> {
        JoinableMessageQueue::create_with(name, bytes, &Options::default())
    }

    /// Creates a joinable queue of `bytes` bytes, with `opts`.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-jmq-create-with-{}", std::process::id());
    /// let q = shmipc::JoinableMessageQueue::create_with(&name, 4096, &shmipc::Options::new())?;
    /// # drop(q); Ok(()) }
    /// ```
    pub fn create_with(name: &str, bytes: usize, opts: &Options) -> Result<JoinableMessageQueue> {
        Ok(JoinableMessageQueue {
            queue: MessageQueue::create_flagged(name, bytes, JOINABLE, opts)?,
        })
    }

    /// Opens the joinable queue named `name`; a queue created as a plain
    /// [`MessageQueue`] is refused (it counts no tasks).
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-jmq-open-{}", std::process::id());
    /// # let _made = shmipc::JoinableMessageQueue::create(&name, 4096)?;
    /// let q = shmipc::JoinableMessageQueue::open(&name)?;
    /// # drop(q); Ok(()) }
    /// ```
    pub fn open(name: &str) -> Result<JoinableMessageQueue> {
        JoinableMessageQueue::open_with(name, &Options::default())
    }

    /// Opens the joinable queue named `name`, with `opts`.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-jmq-open-with-{}", std::process::id());
    /// # let _plain = shmipc::MessageQueue::create(&name, 4096)?;
    /// assert!(shmipc::JoinableMessageQueue::open_with(&name, &shmipc::Options::new()).is_err());
    /// # Ok(()) }
    /// ```
    pub fn open_with(name: &str, opts: &Options) -> Result<JoinableMessageQueue> {
        let queue = MessageQueue::open_with(name, opts)?;
        if !queue.is_joinable() {
            return Err(Error::invalid(format!(
                "message queue '{name}': expected a JoinableMessageQueue, found a plain MessageQueue"
            )));
        }
        Ok(JoinableMessageQueue { queue })
    }

    /// This handle, waiting with `strategy` from now on.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-jmq-wait-{}", std::process::id());
    /// let q = shmipc::JoinableMessageQueue::create(&name, 4096)?
    ///     .with_wait(shmipc::WaitStrategy::Park);
    /// # drop(q); Ok(()) }
    /// ```
    pub fn with_wait(self, strategy: WaitStrategy) -> JoinableMessageQueue {
        JoinableMessageQueue {
            queue: self.queue.with_wait(strategy),
        }
    }

    /// Marks one received message's task done (Python's `task_done`); an
    /// error if more are marked done than were received.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-jmq-task-done-{}", std::process::id());
    /// let q = shmipc::JoinableMessageQueue::create(&name, 4096)?;
    /// assert!(q.task_done().is_err()); // nothing received
    /// q.put_bytes(b"x")?;
    /// q.get_bytes()?;
    /// q.task_done()?;
    /// # Ok(()) }
    /// ```
    pub fn task_done(&self) -> Result<()> {
        if self.queue.channel().task_done() {
            Ok(())
        } else {
            Err(Error::invalid(format!(
                "task_done called on queue '{}' more times than messages were received",
                self.queue.name()
            )))
        }
    }

    /// Waits until every message put has been received and marked done.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-jmq-join-{}", std::process::id());
    /// let q = shmipc::JoinableMessageQueue::create(&name, 4096)?;
    /// q.put_bytes(b"x")?;
    /// std::thread::scope(|s| {
    ///     s.spawn(|| {
    ///         q.get_bytes().unwrap();
    ///         q.task_done().unwrap();
    ///     });
    ///     q.join().unwrap();
    /// });
    /// # Ok(()) }
    /// ```
    pub fn join(&self) -> std::result::Result<(), JoinError> {
        self.join_until(None)
    }

    /// As [`join`](Self::join), waiting at most `timeout`.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-jmq-join-timeout-{}", std::process::id());
    /// let q = shmipc::JoinableMessageQueue::create(&name, 4096)?;
    /// q.put_bytes(b"never taken")?;
    /// let waited = q.join_timeout(std::time::Duration::from_millis(5));
    /// assert!(matches!(waited, Err(shmipc::JoinError::TimedOut { .. })));
    /// # Ok(()) }
    /// ```
    pub fn join_timeout(&self, timeout: Duration) -> std::result::Result<(), JoinError> {
        self.join_until(Some(timeout))
    }

    fn join_until(&self, timeout: Option<Duration>) -> std::result::Result<(), JoinError> {
        let channel = self.queue.channel();
        let outcome = channel.join(timeout, self.queue.wait_strategy());
        JoinError::from_wait(outcome, channel.name(), timeout)
    }
}
