//! Why a put or a get did not happen: [`PutError`] hands the item back.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::error::Error;

/// Why a `put` did not enqueue; the item comes back in every case.
#[derive(Debug)]
#[non_exhaustive]
pub enum PutError<T> {
    /// `try_put` found the queue full.
    Full {
        /// The item, handed back.
        item: T,
        /// The queue's name.
        queue: Arc<str>,
    },
    /// `put_timeout` waited its whole timeout.
    TimedOut {
        /// The item, handed back.
        item: T,
        /// The queue's name.
        queue: Arc<str>,
        /// The timeout given.
        after: Duration,
    },
    /// The queue is closed.
    Closed {
        /// The item, handed back.
        item: T,
        /// The queue's name.
        queue: Arc<str>,
    },
    /// Anything else: a corrupt ring, an SPSC role another handle holds.
    Failed {
        /// The item, handed back.
        item: T,
        /// What went wrong.
        error: Error,
    },
}

impl<T> PutError<T> {
    /// The item that was not enqueued.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-error-into_inner-0-{}", std::process::id());
    /// let q = shmipc::Queue::<u64>::create(&name, 1)?;
    /// q.put(1)?;
    /// let refused = q.try_put(2).unwrap_err();
    /// assert_eq!(refused.into_inner(), 2);
    /// # Ok(()) }
    /// ```
    pub fn into_inner(self) -> T {
        match self {
            PutError::Full { item, .. }
            | PutError::TimedOut { item, .. }
            | PutError::Closed { item, .. }
            | PutError::Failed { item, .. } => item,
        }
    }
}

impl<T> fmt::Display for PutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PutError::Full { queue, .. } => write!(f, "queue '{queue}' is full"),
            PutError::TimedOut { queue, after, .. } => {
                write!(
                    f,
                    "put_timeout on queue '{queue}' timed out after {after:?}"
                )
            }
            PutError::Closed { queue, .. } => write!(f, "queue '{queue}' is closed"),
            PutError::Failed { error, .. } => error.fmt(f),
        }
    }
}

impl<T: fmt::Debug> std::error::Error for PutError<T> {}

impl<T> From<PutError<T>> for Error {
    fn from(e: PutError<T>) -> Error {
        match e {
            PutError::Full { queue, .. } => Error::WouldBlock {
                name: queue.to_string(),
                op: "try_put",
            },
            PutError::TimedOut { queue, after, .. } => Error::TimedOut {
                name: queue.to_string(),
                op: "put_timeout",
                after,
            },
            PutError::Closed { queue, .. } => Error::Closed {
                name: queue.to_string(),
            },
            PutError::Failed { error, .. } => error,
        }
    }
}

/// Why a `get` returned no item.
#[derive(Debug)]
#[non_exhaustive]
pub enum GetError {
    /// `try_get` found the queue empty.
    Empty {
        /// The queue's name.
        queue: Arc<str>,
    },
    /// `get_timeout` waited its whole timeout.
    TimedOut {
        /// The queue's name.
        queue: Arc<str>,
        /// The timeout given.
        after: Duration,
    },
    /// The queue is closed and drained.
    Closed {
        /// The queue's name.
        queue: Arc<str>,
    },
    /// Anything else: a corrupt ring, an SPSC role another handle holds.
    Failed(Error),
}

impl fmt::Display for GetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GetError::Empty { queue } => write!(f, "queue '{queue}' is empty"),
            GetError::TimedOut { queue, after } => {
                write!(
                    f,
                    "get_timeout on queue '{queue}' timed out after {after:?}"
                )
            }
            GetError::Closed { queue } => write!(f, "queue '{queue}' is closed and drained"),
            GetError::Failed(error) => error.fmt(f),
        }
    }
}

impl std::error::Error for GetError {}

impl From<GetError> for Error {
    fn from(e: GetError) -> Error {
        match e {
            GetError::Empty { queue } => Error::WouldBlock {
                name: queue.to_string(),
                op: "try_get",
            },
            GetError::TimedOut { queue, after } => Error::TimedOut {
                name: queue.to_string(),
                op: "get_timeout",
                after,
            },
            GetError::Closed { queue } => Error::Closed {
                name: queue.to_string(),
            },
            GetError::Failed(error) => error,
        }
    }
}

/// Why a batch put or get (`put_slice`, `get_slice` and their forms) moved
/// nothing. A `try_` batch that finds no room or no item is not an error: it
/// moves 0 items.
#[derive(Debug)]
#[non_exhaustive]
pub enum SliceError {
    /// A `_timeout` batch waited its whole timeout.
    TimedOut {
        /// The queue's name.
        queue: Arc<str>,
        /// The timeout given.
        after: Duration,
    },
    /// The queue is closed (for a get: closed and drained).
    Closed {
        /// The queue's name.
        queue: Arc<str>,
    },
    /// Anything else: a corrupt ring, an SPSC role another handle holds.
    Failed(Error),
}

impl fmt::Display for SliceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SliceError::TimedOut { queue, after } => {
                write!(f, "a batch on queue '{queue}' timed out after {after:?}")
            }
            SliceError::Closed { queue } => write!(f, "queue '{queue}' is closed"),
            SliceError::Failed(error) => error.fmt(f),
        }
    }
}

impl std::error::Error for SliceError {}

impl From<SliceError> for Error {
    fn from(e: SliceError) -> Error {
        match e {
            SliceError::TimedOut { queue, after } => Error::TimedOut {
                name: queue.to_string(),
                op: "slice_timeout",
                after,
            },
            SliceError::Closed { queue } => Error::Closed {
                name: queue.to_string(),
            },
            SliceError::Failed(error) => error,
        }
    }
}

impl From<Error> for SliceError {
    fn from(e: Error) -> SliceError {
        SliceError::Failed(e)
    }
}

/// Why `join` returned without every task done.
#[derive(Debug)]
#[non_exhaustive]
pub enum JoinError {
    /// `join_timeout` waited its whole timeout.
    TimedOut {
        /// The queue's name.
        queue: Arc<str>,
        /// The timeout given.
        after: Duration,
    },
    /// A consumer process died holding tasks it had got and not marked
    /// done. They are written off as done, so the next `join` waits only
    /// for the others (Python's `join` hangs here for ever).
    ConsumerDied {
        /// The queue's name.
        queue: Arc<str>,
        /// The dead consumer's pid.
        pid: u32,
        /// How many tasks it held.
        tasks: u64,
    },
}

impl JoinError {
    /// A `join`'s answer from its wait's: `Some(Ok)` all done,
    /// `Some(Err((pid, tasks)))` a consumer that died holding tasks, `None`
    /// the timeout ran out.
    pub(crate) fn from_wait(
        outcome: Option<std::result::Result<(), (u32, u64)>>,
        queue: &Arc<str>,
        timeout: Option<Duration>,
    ) -> std::result::Result<(), JoinError> {
        match outcome {
            Some(Ok(())) => Ok(()),
            Some(Err((pid, tasks))) => Err(JoinError::ConsumerDied {
                queue: queue.clone(),
                pid,
                tasks,
            }),
            None => Err(JoinError::TimedOut {
                queue: queue.clone(),
                after: timeout.unwrap_or_default(),
            }),
        }
    }
}

impl fmt::Display for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JoinError::TimedOut { queue, after } => {
                write!(f, "join on queue '{queue}' timed out after {after:?}")
            }
            JoinError::ConsumerDied { queue, pid, tasks } => write!(
                f,
                "consumer pid {pid} of queue '{queue}' died holding {tasks} task(s) not marked done (written off)"
            ),
        }
    }
}

impl std::error::Error for JoinError {}

impl From<JoinError> for Error {
    fn from(e: JoinError) -> Error {
        match e {
            JoinError::TimedOut { queue, after } => Error::TimedOut {
                name: queue.to_string(),
                op: "join_timeout",
                after,
            },
            JoinError::ConsumerDied { queue, pid, tasks } => Error::ConsumerDied {
                name: queue.to_string(),
                pid,
                tasks,
            },
        }
    }
}
