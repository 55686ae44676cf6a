//! Leftover segments: those whose creator died without removing them (by
//! `abort`, `process::exit` or a signal) and that no live process maps.
//!
//! A creating handle removes its name when dropped, but a process that never
//! drops it leaves the segment in `/dev/shm`, and the next `create` of the
//! name fails with `AlreadyExists`. [`leftovers`] lists them, and
//! [`Options::replace_stale`](crate::Options::replace_stale) lets `create`
//! replace one. They are what [`segments::list`]
//! shows with a dead creator and no mapper.

use crate::error::Result;
use crate::segments::{self, Alive, SegmentInfo};

/// A segment whose creator is dead and that no live process maps.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Leftover {
    /// The object's name (what `create` and `open` take).
    pub name: String,
    /// The pid of the process that created it (dead now).
    pub creator_pid: u32,
    /// The segment's size in bytes.
    pub size: u64,
}

/// Every leftover segment of this crate in `/dev/shm`: its creator is dead
/// and no live process maps it. Remove them with [`unlink`](crate::unlink),
/// or create over one with [`Options::replace_stale`](crate::Options::replace_stale).
///
/// A segment whose header cannot be read as shmipc's is not listed (it is
/// not known to be ours), nor is one mapped by any live process, whoever
/// created it.
///
/// ```
/// # extern crate shmipc_shm as shmipc;
/// # fn main() -> Result<(), shmipc::Error> {
/// # let name = format!("doc-leftovers-{}", std::process::id());
/// let live = shmipc::Lock::create(&name)?;
/// // This process created it and maps it: not a leftover.
/// assert!(shmipc::leftovers()?.iter().all(|l| l.name != name));
/// # drop(live); Ok(()) }
/// ```
pub fn leftovers() -> Result<Vec<Leftover>> {
    Ok(segments::list()?.iter().filter_map(as_leftover).collect())
}

/// Whether the segment `name` is a leftover now (see [`leftovers`]).
pub(crate) fn is_leftover(name: &str) -> bool {
    segments::info(name).is_ok_and(|s| as_leftover(&s).is_some())
}

/// `s` as a leftover, if its header is shmipc's (any kind) and names a
/// creator that is dead, and no live process maps it.
fn as_leftover(s: &SegmentInfo) -> Option<Leftover> {
    let dead = s.creator_alive == Some(Alive::No) && s.mapped_by.is_empty();
    Some(Leftover {
        name: s.name.clone(),
        creator_pid: s.creator_pid.filter(|_| dead)?,
        size: s.size,
    })
}
