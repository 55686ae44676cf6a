//! Leftover segments: those whose creator died without removing them (by
//! `abort`, `process::exit` or a signal) and that no live process maps.
//!
//! A creating handle removes its name when dropped, but a process that never
//! drops it leaves the segment in `/dev/shm`, and the next `create` of the
//! name fails with `AlreadyExists`. [`leftovers`] lists them, and
//! [`Options::replace_stale`](crate::Options::replace_stale) lets `create`
//! replace one.

use std::fs::File;
use std::io::Read;

use shmipc_core::header::{Header, HEADER_SIZE};
use shmipc_core::park::{Liveness, Owner};

use crate::error::{Error, Result};
use crate::identity;
use crate::sys::{dev_shm_path, OS_PREFIX};

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
    let entries =
        std::fs::read_dir("/dev/shm").map_err(|e| Error::os("/dev/shm", "read_dir", e))?;
    let mapped = crate::segments::mappers();
    let mut found = Vec::new();
    for entry in entries.flatten() {
        let file_name = entry.file_name();
        let Some(name) = file_name.to_str().and_then(|n| n.strip_prefix(OS_PREFIX)) else {
            continue;
        };
        if mapped.contains_key(name) {
            continue;
        }
        if let Some(leftover) = dead_creator(name) {
            found.push(leftover);
        }
    }
    found.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(found)
}

/// Whether the segment `name` is a leftover now (see [`leftovers`]).
pub(crate) fn is_leftover(name: &str) -> bool {
    dead_creator(name).is_some() && !crate::segments::mappers().contains_key(name)
}

/// The segment `name` as a leftover, if its header is shmipc's and names a
/// creator that is dead.
fn dead_creator(name: &str) -> Option<Leftover> {
    let mut file = File::open(dev_shm_path(name)).ok()?;
    let size = file.metadata().ok()?.len();
    let mut bytes = [0u8; HEADER_SIZE];
    file.read_exact(&mut bytes).ok()?;
    let header = Header::decode(&bytes, size).ok()?;
    let creator = Owner {
        tid: header.creator_pid,
        pid: header.creator_pid,
        start: header.creator_start,
    };
    (identity::process_liveness(&creator) == Liveness::Dead).then(|| Leftover {
        name: name.to_owned(),
        creator_pid: header.creator_pid,
        size,
    })
}
