//! Why a message was not sent or not received. Sends borrow their message,
//! so a failed send loses nothing; a failed receive leaves the message in
//! the ring, except a decode failure, which has consumed it.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::error::Error;

/// Why a send (`put_bytes`, `put`, `send_bytes`, `send` and their forms)
/// did not send. The message was borrowed: the caller still has it.
#[derive(Debug)]
#[non_exhaustive]
pub enum SendError {
    /// A `try_` send found no room.
    Full {
        /// The queue's or pipe's name.
        name: Arc<str>,
    },
    /// A `_timeout` send waited its whole timeout for room.
    TimedOut {
        /// The queue's or pipe's name.
        name: Arc<str>,
        /// The timeout given.
        after: Duration,
    },
    /// The queue was closed, or this pipe end was.
    Closed {
        /// The queue's or pipe's name.
        name: Arc<str>,
    },
    /// The pipe's receiving end was closed, or its process died.
    Disconnected {
        /// The pipe's name.
        name: Arc<str>,
    },
    /// The message is longer than the ring can ever hold.
    TooLarge {
        /// The queue's or pipe's name.
        name: Arc<str>,
        /// The message's length.
        len: usize,
        /// The longest message the ring holds.
        max: usize,
    },
    /// The value could not be encoded.
    Encode {
        /// The queue's or pipe's name.
        name: Arc<str>,
        /// The value's type.
        type_name: &'static str,
        /// What the encoder said.
        detail: String,
    },
    /// Anything else: a corrupt ring, an end another handle holds.
    Failed(Error),
}

/// Why a receive (`get_bytes`, `get`, `recv_bytes`, `recv` and their
/// forms) returned no message. Only [`RecvError::Decode`] has consumed
/// one; after every other error the message, if any, is still next.
#[derive(Debug)]
#[non_exhaustive]
pub enum RecvError {
    /// A `try_` receive found no message.
    Empty {
        /// The queue's or pipe's name.
        name: Arc<str>,
    },
    /// A `_timeout` receive waited its whole timeout.
    TimedOut {
        /// The queue's or pipe's name.
        name: Arc<str>,
        /// The timeout given.
        after: Duration,
    },
    /// Closed and drained: for a queue, `close` was called and every
    /// message is out; for a pipe, end of file: the sending end was closed
    /// or its process died, and everything it sent has been received.
    Closed {
        /// The queue's or pipe's name.
        name: Arc<str>,
    },
    /// The next message is longer than the buffer given; it stays next.
    BufferTooSmall {
        /// The queue's or pipe's name.
        name: Arc<str>,
        /// The message's length.
        needed: usize,
        /// The buffer's length.
        len: usize,
    },
    /// The next message is longer than the maximum given; it stays next.
    TooLong {
        /// The queue's or pipe's name.
        name: Arc<str>,
        /// The message's length.
        len: usize,
        /// The maximum given.
        max: usize,
    },
    /// The message could not be decoded as the type asked for. It was
    /// consumed; the queue or pipe goes on with the next one.
    Decode {
        /// The queue's or pipe's name.
        name: Arc<str>,
        /// The type asked for.
        type_name: &'static str,
        /// What the decoder said.
        detail: String,
    },
    /// Anything else: a corrupt ring, an end another handle holds.
    Failed(Error),
}

impl fmt::Display for SendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SendError::Full { name } => write!(f, "'{name}' has no room for the message"),
            SendError::TimedOut { name, after } => {
                write!(f, "a send to '{name}' timed out after {after:?}")
            }
            SendError::Closed { name } => write!(f, "'{name}' is closed"),
            SendError::Disconnected { name } => write!(
                f,
                "the receiving end of '{name}' is closed or its process died"
            ),
            SendError::TooLarge { name, len, max } => write!(
                f,
                "a message of {len} bytes is longer than the {max} bytes '{name}' holds"
            ),
            SendError::Encode {
                name,
                type_name,
                detail,
            } => write!(f, "cannot encode a {type_name} for '{name}': {detail}"),
            SendError::Failed(e) => e.fmt(f),
        }
    }
}

impl fmt::Display for RecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecvError::Empty { name } => write!(f, "'{name}' has no message"),
            RecvError::TimedOut { name, after } => {
                write!(f, "a receive from '{name}' timed out after {after:?}")
            }
            RecvError::Closed { name } => write!(f, "'{name}' is closed and drained"),
            RecvError::BufferTooSmall { name, needed, len } => write!(
                f,
                "the next message of '{name}' needs {needed} bytes, the buffer has {len}; it stays next"
            ),
            RecvError::TooLong { name, len, max } => write!(
                f,
                "the next message of '{name}' is {len} bytes, more than the {max} allowed; it stays next"
            ),
            RecvError::Decode {
                name,
                type_name,
                detail,
            } => write!(
                f,
                "a message of '{name}' is not a {type_name}: {detail} (the message was consumed)"
            ),
            RecvError::Failed(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for SendError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            SendError::Failed(e) => Some(e),
            _ => None,
        }
    }
}

impl std::error::Error for RecvError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            RecvError::Failed(e) => Some(e),
            _ => None,
        }
    }
}

impl From<SendError> for Error {
    fn from(e: SendError) -> Error {
        match e {
            SendError::Full { name } => Error::WouldBlock {
                name: name.to_string(),
                op: "try_send",
            },
            SendError::TimedOut { name, after } => Error::TimedOut {
                name: name.to_string(),
                op: "send_timeout",
                after,
            },
            SendError::Closed { name } => Error::Closed {
                name: name.to_string(),
            },
            SendError::Disconnected { name } => Error::Disconnected {
                name: name.to_string(),
            },
            SendError::TooLarge { name, len, max } => Error::MessageTooLarge {
                name: name.to_string(),
                len,
                max,
            },
            SendError::Encode {
                name,
                type_name,
                detail,
            } => Error::Codec {
                name: name.to_string(),
                type_name,
                detail,
            },
            SendError::Failed(e) => e,
        }
    }
}

impl From<RecvError> for Error {
    fn from(e: RecvError) -> Error {
        match e {
            RecvError::Empty { name } => Error::WouldBlock {
                name: name.to_string(),
                op: "try_recv",
            },
            RecvError::TimedOut { name, after } => Error::TimedOut {
                name: name.to_string(),
                op: "recv_timeout",
                after,
            },
            RecvError::Closed { name } => Error::Closed {
                name: name.to_string(),
            },
            RecvError::BufferTooSmall { name, needed, len } => Error::BufferTooSmall {
                name: name.to_string(),
                needed,
                len,
            },
            RecvError::TooLong { name, len, max } => Error::MessageTooLarge {
                name: name.to_string(),
                len,
                max,
            },
            RecvError::Decode {
                name,
                type_name,
                detail,
            } => Error::Codec {
                name: name.to_string(),
                type_name,
                detail,
            },
            RecvError::Failed(e) => e,
        }
    }
}
