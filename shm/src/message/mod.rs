//! Messages of any length and type, through shared memory:
//! [`MessageQueue`] (Python's `Queue` of any picklable object),
//! [`SimpleQueue`], and [`pipe`]'s two [`Connection`] ends.
//!
//! | concept | file |
//! |---|---|
//! | one direction of messages: a byte ring, its roles, send and receive | `channel` (`channel/send.rs`, `channel/receive.rs`, `channel/tasks.rs`) |
//! | the ring's bytes in a segment, copied word by word | `storage` |
//! | the errors of a send and of a receive | `error` |
//! | zero-copy: WriteLoan, ReadLoan | `loan` |
//! | serde values as messages (postcard) | `codec` |
//! | MessageQueue | `queue` |
//! | JoinableMessageQueue | `joinable` |
//! | SimpleQueue | `simple` |
//! | pipe and Connection | `pipe` |
//!
//! Every message type is built on `shmipc-core`'s byte ring: records of a
//! length header and the bytes, which never wrap (a pad fills the end of
//! the buffer). A message longer than a quarter of the ring is streamed
//! through it in parts, so any length goes through any ring.

mod channel;
#[cfg(feature = "serde")]
mod codec;
mod error;
mod joinable;
mod loan;
mod pipe;
mod queue;
#[cfg(feature = "serde")]
mod simple;
mod storage;

use std::sync::Arc;

use shmipc_core::fingerprint::Fingerprint;
use shmipc_core::header::Kind;
use shmipc_core::layout::MessageLayout;

pub use error::{RecvError, SendError};
pub use joinable::JoinableMessageQueue;
pub use loan::{ReadLoan, WriteLoan};
pub use pipe::{pipe, Connection, DEFAULT_PIPE_BYTES};
pub use queue::MessageQueue;
#[cfg(feature = "serde")]
pub use simple::{SimpleQueue, DEFAULT_SIMPLE_QUEUE_BYTES};

use crate::error::{Error, Result};
use crate::options::Options;
use crate::segment::{check_layout, Segment, Spec};

pub(crate) use channel::ChannelState;

/// The live state of each channel of the message segment `name` (a
/// `MessageQueue`'s one; a pipe's one or two, the first end receiving on
/// the first), read without taking a role.
pub(crate) fn channel_states(name: &str, kind: Kind) -> Result<Vec<ChannelState>> {
    let (segment, layout) = open_segment(name, kind, &Options::default())?;
    (0..layout.channels)
        .map(|i| {
            let channel = channel::Channel::new(
                segment.clone(),
                &layout.channel[i],
                layout.ring_bytes,
                kind == Kind::Pipe,
            )?;
            Ok(channel.state())
        })
        .collect()
}

/// What a message segment's header records as its payload type.
const PAYLOAD_TYPE: &str = "bytes";

fn payload_fingerprint() -> Fingerprint {
    Fingerprint::of::<u8>()
}

/// Creates a message segment of `kind` with `channels` rings of at least
/// `bytes` bytes each. All-zero bytes are empty, open channels, so there
/// is nothing to initialise.
fn create_segment(
    name: &str,
    kind: Kind,
    bytes: usize,
    channels: usize,
    flags: u16,
    opts: &Options,
) -> Result<(Arc<Segment>, MessageLayout)> {
    let ring_bytes = MessageLayout::ring_bytes_for(bytes as u64).ok_or_else(|| {
        Error::invalid(format!(
            "{kind} '{name}': expected a ring of at most {} bytes, found {bytes}",
            shmipc_core::layout::MAX_RING_BYTES
        ))
    })?;
    let layout =
        MessageLayout::new(ring_bytes, channels).map_err(|e| Error::invalid(e.to_string()))?;
    let spec = Spec {
        kind,
        flags,
        fingerprint: payload_fingerprint(),
        type_name: PAYLOAD_TYPE,
        param: ring_bytes,
        total_size: layout.total_size,
    };
    let segment = Segment::create(name, &spec, opts, |_| {})?;
    Ok((Arc::new(segment), layout))
}

/// How many channels a message segment of `kind` with `flags` has: a
/// pipe one or two (duplex), a queue one; `None` for flags no segment of
/// the kind has.
fn channel_count(kind: Kind, flags: u16) -> Option<usize> {
    match kind {
        Kind::Pipe => match flags {
            0 => Some(1),
            pipe::DUPLEX => Some(2),
            _ => None,
        },
        _ => (flags & !queue::JOINABLE == 0).then_some(1),
    }
}

/// Opens a message segment of `kind`, with the channels its flags say
/// ([`channel_count`]); impossible flags are corrupt.
fn open_segment(name: &str, kind: Kind, opts: &Options) -> Result<(Arc<Segment>, MessageLayout)> {
    let segment = Segment::open(name, kind, payload_fingerprint(), PAYLOAD_TYPE, opts)?;
    let header = *segment.header();
    let count = channel_count(kind, header.flags)
        .ok_or_else(|| Error::bad_flags(name, kind, header.flags))?;
    let layout = check_layout(
        &segment,
        kind,
        MessageLayout::new(header.param, count),
        |l| l.total_size,
    )?;
    Ok((Arc::new(segment), layout))
}
