//! The one error type of shmipc.

use std::fmt;
use std::io;
use std::time::Duration;

use shmipc_core::fingerprint::Fingerprint;
use shmipc_core::header::{HeaderError, Kind};
use shmipc_core::layout::LayoutError;
use shmipc_core::name::NameError;

/// `Result<T, shmipc::Error>`.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in shmipc, each case saying what was expected
/// and what was found.
///
/// ```
/// # extern crate shmipc_shm as shmipc;
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let name = format!("doc-error-{}", std::process::id());
/// match shmipc::Lock::open(&name) {
///     Err(shmipc::Error::NotFound { name: missing }) => assert_eq!(missing, name),
///     other => panic!("expected NotFound, got {other:?}"),
/// }
/// # Ok(()) }
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// No segment of that name exists. Usually its creating handle was
    /// dropped, which removes the name (see `Options::persist`), or it was
    /// never created.
    NotFound {
        /// The object's name.
        name: String,
    },
    /// `create` found a segment of that name already there.
    AlreadyExists {
        /// The object's name.
        name: String,
    },
    /// The segment's mode does not let this process open it.
    PermissionDenied {
        /// The object's name.
        name: String,
    },
    /// The name is not 1-200 characters of `[A-Za-z0-9._-]`.
    InvalidName {
        /// The name as given.
        name: String,
        /// What is wrong with it.
        reason: NameError,
    },
    /// The segment does not start with shmipc's magic bytes.
    NotShmipc {
        /// The object's name.
        name: String,
        /// The first bytes found.
        found: [u8; 6],
    },
    /// The segment was written by an incompatible version of shmipc.
    VersionMismatch {
        /// The object's name.
        name: String,
        /// The layout version this build speaks.
        expected: u16,
        /// The layout version in the segment.
        found: u16,
    },
    /// The segment holds another kind of object (a Lock opened as a Value, say).
    KindMismatch {
        /// The object's name.
        name: String,
        /// The kind asked for.
        expected: Kind,
        /// The kind code stored (see [`Kind::from_code`]).
        found: u16,
    },
    /// The segment's payload type differs from the one asked for.
    TypeMismatch {
        /// The object's name.
        name: String,
        /// The Rust type asked for.
        expected_type: &'static str,
        /// Its fingerprint.
        expected: Fingerprint,
        /// The type the creator stored, as its name was recorded beside the
        /// header (cut to 63 bytes; untrusted text).
        found_type: String,
        /// The fingerprint stored in the segment.
        found: Fingerprint,
    },
    /// The segment is shorter than its header or than the size its header declares.
    Truncated {
        /// The object's name.
        name: String,
        /// Bytes needed.
        expected: u64,
        /// Bytes there.
        found: u64,
    },
    /// The header, the layout it describes, or the object's live state is
    /// impossible: a peer wrote garbage, or the file is not what it claims.
    Corrupt {
        /// The object's name.
        name: String,
        /// What is inconsistent, with the values found.
        detail: Corruption,
    },
    /// The creator had not finished initialising the segment within the wait.
    NotReady {
        /// The object's name.
        name: String,
        /// How long the opener waited.
        waited: Duration,
    },
    /// An argument cannot be honoured (mode bits, sizes, indices).
    InvalidArgument {
        /// What was expected and what was given.
        detail: String,
    },
    /// A `try_` operation found the object busy.
    WouldBlock {
        /// The object's name.
        name: String,
        /// The operation, e.g. `"try_acquire"`.
        op: &'static str,
    },
    /// A `_timeout` operation ran out of time.
    TimedOut {
        /// The object's name.
        name: String,
        /// The operation that waited, e.g. `"acquire_timeout"`.
        op: &'static str,
        /// The timeout it was given.
        after: Duration,
    },
    /// A lock's holder died holding it and nobody has marked the data consistent.
    OwnerDied {
        /// The lock's name.
        name: String,
        /// Process id of the holder that died.
        pid: u32,
    },
    /// A release would take a bounded semaphore past its initial value.
    OverRelease {
        /// The semaphore's name.
        name: String,
        /// Permits available at the time.
        value: u32,
        /// Permits the release tried to add.
        adding: u32,
        /// The bound (the initial value).
        bound: u32,
    },
    /// A barrier wait failed: the barrier is broken, was reset or aborted, timed
    /// out, lost a participant, or its action failed.
    BrokenBarrier {
        /// The barrier's name.
        name: String,
        /// Why.
        reason: BrokenReason,
    },
    /// A release would take a plain semaphore's count past `u32::MAX`.
    SemaphoreOverflow {
        /// The semaphore's name.
        name: String,
        /// Permits available at the time.
        value: u32,
        /// Permits the release tried to add.
        adding: u32,
    },
    /// [`Lock::release_detached`](crate::Lock::release_detached) found the
    /// lock free, or held by a thread rather than detached.
    NotDetached {
        /// The lock's name.
        name: String,
    },
    /// A lock of the other kind (Lock vs RLock) guards the object.
    LockKindMismatch {
        /// The object's name.
        name: String,
        /// The lock type asked for.
        expected: &'static str,
        /// The lock type the object was created with.
        found: &'static str,
    },
    /// A guard of another lock was passed where the object's own lock is needed.
    WrongLock {
        /// The object's name.
        name: String,
        /// The object's lock.
        expected: String,
        /// The lock the guard holds.
        found: String,
    },
    /// A queue was closed: puts fail, and gets fail once it is drained.
    Closed {
        /// The queue's name.
        name: String,
    },
    /// A single-producer (or single-consumer) queue's producer (consumer)
    /// role is held by another live handle, in this process or another.
    RoleTaken {
        /// The queue's name.
        name: String,
        /// `"producer"` or `"consumer"`.
        role: &'static str,
        /// The process that holds the role.
        pid: u32,
        /// The thread that took it (the handle may have moved since).
        tid: u32,
    },
    /// A segment that live processes map was not removed (see
    /// [`remove`](crate::segments::remove)).
    InUse {
        /// The segment's name.
        name: String,
        /// The live processes that map it.
        pids: Vec<u32>,
    },
    /// A JoinableQueue consumer process died holding tasks it had not marked
    /// done (see [`JoinError::ConsumerDied`](crate::JoinError::ConsumerDied)).
    ConsumerDied {
        /// The queue's name.
        name: String,
        /// The dead consumer's pid.
        pid: u32,
        /// How many tasks it held.
        tasks: u64,
    },
    /// Every waiter slot of a condition is taken by a live waiter.
    TooManyWaiters {
        /// The condition's name.
        name: String,
        /// How many waiters it holds at once.
        limit: u32,
    },
    /// A message longer than the queue or pipe can carry, or longer than
    /// the receiver's limit; nothing was sent, or the message stays for the
    /// next receive.
    MessageTooLarge {
        /// The queue's or pipe's name.
        name: String,
        /// The message's length.
        len: usize,
        /// The longest allowed.
        max: usize,
    },
    /// A receive buffer shorter than the next message, which stays for the
    /// next receive.
    BufferTooSmall {
        /// The queue's or pipe's name.
        name: String,
        /// The message's length.
        needed: usize,
        /// The buffer's length.
        len: usize,
    },
    /// A value could not be encoded, or a message could not be decoded as
    /// the type asked for (the message is consumed; the queue goes on).
    Codec {
        /// The queue's or pipe's name.
        name: String,
        /// The type being encoded or decoded.
        type_name: &'static str,
        /// What the codec said.
        detail: String,
    },
    /// The other end of a pipe is closed, or its process died.
    Disconnected {
        /// The pipe's name.
        name: String,
    },
    /// An index past the end of an array.
    IndexOutOfBounds {
        /// The object's name.
        name: String,
        /// The index given.
        index: usize,
        /// The array's length.
        len: usize,
    },
    /// The operating system refused an operation.
    Os {
        /// The object's name, if the call concerned one.
        name: String,
        /// The call, e.g. `"shm_open"`.
        op: &'static str,
        /// The OS error, with its errno.
        source: io::Error,
    },
}

impl Error {
    /// The name of the object the error concerns, if any.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-error-name-0-{}", std::process::id());
    /// let e = shmipc::Lock::open(&name).unwrap_err();
    /// assert_eq!(e.name(), Some(name.as_str()));
    /// # Ok(()) }
    /// ```
    pub fn name(&self) -> Option<&str> {
        match self {
            Error::NotFound { name }
            | Error::AlreadyExists { name }
            | Error::PermissionDenied { name }
            | Error::InvalidName { name, .. }
            | Error::NotShmipc { name, .. }
            | Error::VersionMismatch { name, .. }
            | Error::KindMismatch { name, .. }
            | Error::TypeMismatch { name, .. }
            | Error::Truncated { name, .. }
            | Error::Corrupt { name, .. }
            | Error::NotReady { name, .. }
            | Error::WouldBlock { name, .. }
            | Error::TimedOut { name, .. }
            | Error::OwnerDied { name, .. }
            | Error::IndexOutOfBounds { name, .. }
            | Error::TooManyWaiters { name, .. }
            | Error::ConsumerDied { name, .. }
            | Error::SemaphoreOverflow { name, .. }
            | Error::NotDetached { name }
            | Error::OverRelease { name, .. }
            | Error::BrokenBarrier { name, .. }
            | Error::LockKindMismatch { name, .. }
            | Error::WrongLock { name, .. }
            | Error::Closed { name }
            | Error::MessageTooLarge { name, .. }
            | Error::BufferTooSmall { name, .. }
            | Error::Codec { name, .. }
            | Error::Disconnected { name }
            | Error::RoleTaken { name, .. }
            | Error::InUse { name, .. }
            | Error::Os { name, .. } => Some(name),
            Error::InvalidArgument { .. } => None,
        }
    }

    /// The errno behind an [`Error::Os`].
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-error-raw_os_error-0-{}", std::process::id());
    /// let e = shmipc::Lock::open(&name).unwrap_err();
    /// assert_eq!(e.raw_os_error(), None); // NotFound, not an Os error
    /// # Ok(()) }
    /// ```
    pub fn raw_os_error(&self) -> Option<i32> {
        match self {
            Error::Os { source, .. } => source.raw_os_error(),
            _ => None,
        }
    }

    pub(crate) fn os(name: &str, op: &'static str, source: io::Error) -> Error {
        Error::Os {
            name: name.to_owned(),
            op,
            source,
        }
    }

    pub(crate) fn corrupt(name: &str, detail: Corruption) -> Error {
        Error::Corrupt {
            name: name.to_owned(),
            detail,
        }
    }

    /// A header whose flags describe no object of `kind`.
    pub(crate) fn bad_flags(name: &str, kind: Kind, found: u16) -> Error {
        Error::corrupt(name, Corruption::Flags { kind, found })
    }

    pub(crate) fn invalid(detail: impl Into<String>) -> Error {
        Error::InvalidArgument {
            detail: detail.into(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::NotFound { name } => write!(
                f,
                "shmipc object '{name}' not found (its creating handle removes the name when dropped, unless created with Options::persist)"
            ),
            Error::AlreadyExists { name } => {
                write!(f, "shmipc object '{name}' already exists (unlink it or pick another name)")
            }
            Error::PermissionDenied { name } => {
                write!(f, "permission denied opening shmipc object '{name}' (check its mode and owner)")
            }
            Error::InvalidName { name, reason } => write!(f, "invalid shmipc name {name:?}: {reason}"),
            Error::NotShmipc { name, found } => write!(
                f,
                "'{name}' is not a shmipc segment: expected magic \"SHMIPC\", found {found:02x?}"
            ),
            Error::VersionMismatch {
                name,
                expected,
                found,
            } => write!(
                f,
                "shmipc object '{name}' has layout version {found}, this build speaks {expected}"
            ),
            Error::KindMismatch {
                name,
                expected,
                found,
            } => match Kind::from_code(*found) {
                Some(kind) => write!(f, "shmipc object '{name}' is a {kind}, expected a {expected}"),
                None => write!(
                    f,
                    "shmipc object '{name}' has unknown kind code {found}, expected a {expected}"
                ),
            },
            Error::TypeMismatch {
                name,
                expected_type,
                expected,
                found_type,
                found,
            } => write!(
                f,
                "shmipc object '{name}' holds another type: expected {expected_type} ({expected}), found {} ({found})",
                if found_type.is_empty() { "an unnamed type" } else { found_type }
            ),
            Error::Truncated {
                name,
                expected,
                found,
            } => write!(
                f,
                "shmipc object '{name}' is truncated: expected at least {expected} bytes, found {found}"
            ),
            Error::Corrupt { name, detail } => write!(f, "shmipc object '{name}' is corrupt: {detail}"),
            Error::NotReady { name, waited } => write!(
                f,
                "shmipc object '{name}' was still being initialised after {waited:?} (did its creator die?)"
            ),
            Error::InvalidArgument { detail } => write!(f, "invalid argument: {detail}"),
            Error::WouldBlock { name, op } => write!(f, "{op} on '{name}' would block"),
            Error::TimedOut { name, op, after } => write!(f, "{op} on '{name}' timed out after {after:?}"),
            Error::OwnerDied { name, pid } => write!(
                f,
                "the holder of lock '{name}' (pid {pid}) died holding it; the data it protects may be inconsistent"
            ),
            Error::ConsumerDied { name, pid, tasks } => write!(
                f,
                "consumer pid {pid} of queue '{name}' died holding {tasks} task(s) not marked done"
            ),
            Error::TooManyWaiters { name, limit } => write!(
                f,
                "condition '{name}' already has {limit} waiters, the most it holds at once"
            ),
            Error::IndexOutOfBounds { name, index, len } => write!(
                f,
                "index {index} out of bounds for '{name}' of length {len}"
            ),
            Error::Os { name, op, source } => write!(f, "{op} failed for '{name}': {source}"),
            Error::OverRelease {
                name,
                value,
                adding,
                bound,
            } => write!(
                f,
                "releasing {adding} permit(s) of bounded semaphore '{name}' would pass its bound {bound} (value {value})"
            ),
            Error::Closed { name } => write!(f, "'{name}' is closed"),
            Error::MessageTooLarge { name, len, max } => write!(
                f,
                "a message of {len} bytes is longer than the {max} bytes '{name}' allows"
            ),
            Error::BufferTooSmall { name, needed, len } => write!(
                f,
                "the next message of '{name}' needs {needed} bytes, the buffer has {len}; it stays for the next receive"
            ),
            Error::Codec { name, type_name, detail } => {
                write!(f, "'{name}': cannot encode or decode a {type_name}: {detail}")
            }
            Error::Disconnected { name } => {
                write!(f, "the other end of pipe '{name}' is closed or its process died")
            }
            Error::RoleTaken { name, role, pid, tid } => write!(
                f,
                "single-producer single-consumer queue '{name}' already has a {role} (taken by thread {tid} of pid {pid}); use an MPMC queue for more"
            ),
            Error::BrokenBarrier { name, reason } => write!(f, "barrier '{name}' is broken: {reason}"),
            Error::InUse { name, pids } => write!(
                f,
                "shmipc object '{name}' is in use: mapped by live process(es) {pids:?}"
            ),
            Error::SemaphoreOverflow { name, value, adding } => write!(
                f,
                "releasing {adding} permit(s) of semaphore '{name}' would pass u32::MAX (value {value})"
            ),
            Error::NotDetached { name } => write!(
                f,
                "lock '{name}' is not held detached: only a lock handed over with LockGuard::detach can be released this way"
            ),
            Error::LockKindMismatch {
                name,
                expected,
                found,
            } => write!(f, "'{name}' is guarded by an {found}, opened as guarded by a {expected}"),
            Error::WrongLock { name, expected, found } => write!(
                f,
                "'{name}' is guarded by lock '{expected}', the guard holds lock '{found}'"
            ),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Os { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// What is impossible about a corrupt object ([`Error::Corrupt`]), with the
/// values found.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Corruption {
    /// The header failed its checksum or holds a field no creator writes.
    Header(HeaderError),
    /// The header's flags describe no layout of this kind of object.
    Flags {
        /// The object's kind.
        kind: Kind,
        /// The flags found.
        found: u16,
    },
    /// The header's parameter (a length, a capacity, a party count) cannot
    /// be: zero where one is needed, or a layout too large.
    Parameter {
        /// The object's kind.
        kind: Kind,
        /// The parameter found.
        found: u64,
        /// Why it cannot be laid out, if that is the reason.
        layout: Option<LayoutError>,
    },
    /// The header's total size is not the one its other fields lay out.
    Size {
        /// Bytes the layout needs.
        expected: u64,
        /// Bytes the header declares.
        found: u64,
    },
    /// A part of the object lies outside the segment, or misaligned.
    Span {
        /// Where it starts.
        offset: u64,
        /// How long it is.
        len: u64,
        /// The segment's size.
        size: u64,
    },
    /// The record naming a shared lock is not a valid name.
    LockName {
        /// The length recorded.
        len: u64,
        /// What is wrong with the name, if it has one.
        name: Option<NameError>,
    },
    /// A ring's positions are further apart than its capacity allows.
    RingPositions {
        /// The producers' position.
        tail: u64,
        /// The consumers' position.
        head: u64,
        /// The ring's capacity.
        capacity: u64,
    },
    /// A ring slot's stamp is one that no run of the protocol leaves there.
    SlotStamp {
        /// The reader's position.
        position: u64,
        /// The stamp found.
        stamp: u64,
        /// The stamps the protocol can leave: the item's, the previous lap's.
        expected: [u64; 2],
    },
    /// A message ring's positions, or the record header at the reader's
    /// position, are ones no run of the protocol leaves: a length past the
    /// bytes published or the buffer's end, a header written for another
    /// position.
    MessageRecord {
        /// The reader's position.
        head: u64,
        /// The writer's position as found.
        tail: u64,
        /// The header word found at the reader's position (0 if the
        /// positions alone are impossible).
        header: u64,
        /// The ring's size in bytes.
        ring_bytes: u64,
    },
}

impl fmt::Display for Corruption {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Corruption::Header(e) => write!(f, "{e}"),
            Corruption::Flags { kind, found } => {
                write!(f, "flags {found:#x} describe no {kind}")
            }
            Corruption::Parameter { kind, found, layout } => match layout {
                Some(e) => write!(f, "a {kind} of parameter {found} cannot be laid out: {e}"),
                None => write!(f, "a {kind} cannot have parameter {found}"),
            },
            Corruption::Size { expected, found } => write!(
                f,
                "expected a total size of {expected} bytes for what the header describes, found {found}"
            ),
            Corruption::Span { offset, len, size } => write!(
                f,
                "expected {len} aligned bytes at offset {offset} inside the segment, found it {size} bytes long"
            ),
            Corruption::LockName { len, name: None } => write!(
                f,
                "expected a shared lock's name of 1 to 200 bytes, found length {len}"
            ),
            Corruption::LockName { name: Some(e), .. } => {
                write!(f, "the shared lock's recorded name is invalid: {e}")
            }
            Corruption::RingPositions { tail, head, capacity } => write!(
                f,
                "ring positions tail {tail} and head {head} are more than the capacity {capacity} apart"
            ),
            Corruption::SlotStamp {
                position,
                stamp,
                expected: [item, previous_lap],
            } => write!(
                f,
                "the slot of position {position} has stamp {stamp}; expected {item} (its item) or {previous_lap} (the previous lap's)"
            ),
            Corruption::MessageRecord { head, tail, header, ring_bytes } => write!(
                f,
                "expected a record inside the {ring_bytes}-byte ring between positions {head} and {tail}, found header {header:#018x} at {head}"
            ),
        }
    }
}

/// Why a barrier is broken ([`Error::BrokenBarrier`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum BrokenReason {
    /// Aborted, reset, or broken by another party's failure.
    Broken,
    /// This party's wait timed out, and broke the barrier.
    TimedOut {
        /// The timeout given.
        after: Duration,
    },
    /// A participant process died; this party broke the barrier.
    PartyDied {
        /// The dead participant.
        pid: u32,
    },
    /// The barrier's action failed (panicked in another party).
    ActionFailed,
}

impl fmt::Display for BrokenReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BrokenReason::Broken => f.write_str("aborted, reset, or broken by another party"),
            BrokenReason::TimedOut { after } => write!(f, "this wait timed out after {after:?}"),
            BrokenReason::PartyDied { pid } => write!(f, "participant process {pid} died"),
            BrokenReason::ActionFailed => f.write_str("the action failed"),
        }
    }
}
