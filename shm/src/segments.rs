//! This crate's segments in `/dev/shm`, as an operator sees them: [`list`]
//! them, [`inspect`] one's live state, [`remove`] them, and
//! [`collect_garbage`] (the segments of dead creators that no live process
//! maps). The `shmipc` command's `ls`, `inspect`, `rm` and `gc` are these
//! functions; a service can call them at start-up to clean up after a crash.
//!
//! Everything here reads without taking: no lock is acquired, no role
//! claimed, no item moved. A segment's header is read from its file, not
//! trusted: one that is not shmipc's, of another layout version or being
//! created is still listed, with what is wrong ([`SegmentInfo::problem`]).

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Read;

use shmipc_core::fingerprint::Fingerprint;
use shmipc_core::header::{decode_type_name, Header, Kind, HEADER_SIZE, TYPE_NAME_SIZE};
use shmipc_core::park::{Liveness, Owner};

use crate::error::{Error, Result};
use crate::identity;
use crate::sys::{dev_shm_path, OS_PREFIX};

/// Whether a process is alive, as far as this process can tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Alive {
    /// It exists (the same process: its start time matches, where known).
    Yes,
    /// It has exited, or its pid now names another process.
    No,
}

impl Alive {
    fn of(owner: &Owner) -> Alive {
        match identity::process_liveness(owner) {
            Liveness::Alive => Alive::Yes,
            Liveness::Dead => Alive::No,
        }
    }

    /// Whether the process `pid` is alive, by its `/proc` entry (a pid
    /// reused since reads as alive): for holders recorded by pid alone.
    pub(crate) fn of_pid(pid: u32) -> Alive {
        if std::path::Path::new(&format!("/proc/{pid}")).exists() {
            Alive::Yes
        } else {
            Alive::No
        }
    }
}

/// One segment of this crate, from its file and `/proc`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SegmentInfo {
    /// The object's name (what `create` and `open` take).
    pub name: String,
    /// The file's size in bytes.
    pub size: u64,
    /// What the header says the segment holds; `None` if the header could
    /// not be read (see [`problem`](Self::problem)).
    pub kind: Option<Kind>,
    /// The element type its creator recorded (`u64`, `bytes`, ...); empty
    /// for kinds without one.
    pub type_name: String,
    /// The kind's parameter: an array's length, a queue's capacity, a
    /// message ring's bytes, a semaphore's initial value, ...
    pub param: u64,
    /// The process that created it, if the header could be read.
    pub creator_pid: Option<u32>,
    /// Whether that process is alive (its start time is checked, so a
    /// reused pid is not taken for it).
    pub creator_alive: Option<Alive>,
    /// The live processes that map it now, from every readable
    /// `/proc/<pid>/maps` (another user's processes are not seen without
    /// privilege).
    pub mapped_by: Vec<u32>,
    /// Why the header could not be read: not shmipc's, another layout
    /// version, corrupt, or still being created.
    pub problem: Option<String>,
    fingerprint: Option<Fingerprint>,
}

impl SegmentInfo {
    /// Whether [`collect_garbage`] removes it: a readable header whose
    /// creator is dead, and no live process mapping it.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-info-garbage-{}", std::process::id());
    /// let event = shmipc::Event::create(&name)?;
    /// assert!(!shmipc::segments::info(&name)?.is_garbage());
    /// # drop(event); Ok(()) }
    /// ```
    pub fn is_garbage(&self) -> bool {
        self.kind.is_some() && self.creator_alive == Some(Alive::No) && self.mapped_by.is_empty()
    }

    /// The segment's file.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-info-path-{}", std::process::id());
    /// let event = shmipc::Event::create(&name)?;
    /// assert!(shmipc::segments::info(&name)?.path().exists());
    /// # drop(event); Ok(()) }
    /// ```
    pub fn path(&self) -> std::path::PathBuf {
        dev_shm_path(&self.name).into()
    }
}

/// Every segment of this crate in `/dev/shm` (every file whose name starts
/// with [`OS_PREFIX`]), sorted by name.
///
/// ```
/// # extern crate shmipc_shm as shmipc;
/// # fn main() -> Result<(), shmipc::Error> {
/// # let name = format!("doc-segments-list-{}", std::process::id());
/// let lock = shmipc::Lock::create(&name)?;
/// let all = shmipc::segments::list()?;
/// let mine = all.iter().find(|s| s.name == name).unwrap();
/// assert_eq!(mine.kind, Some(shmipc::Kind::Lock));
/// assert_eq!(mine.creator_pid, Some(std::process::id()));
/// assert!(mine.mapped_by.contains(&std::process::id()));
/// # drop(lock); Ok(()) }
/// ```
pub fn list() -> Result<Vec<SegmentInfo>> {
    let entries =
        std::fs::read_dir("/dev/shm").map_err(|e| Error::os("/dev/shm", "read_dir", e))?;
    let mappers = mappers();
    let mut found: Vec<SegmentInfo> = entries
        .flatten()
        .filter_map(|entry| {
            let file_name = entry.file_name();
            let name = file_name.to_str()?.strip_prefix(OS_PREFIX)?.to_owned();
            Some(read_info(name, &mappers))
        })
        .collect();
    found.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(found)
}

/// The segment `name` as [`list`] shows it; [`Error::NotFound`] if there
/// is none.
///
/// ```
/// # extern crate shmipc_shm as shmipc;
/// # fn main() -> Result<(), shmipc::Error> {
/// # let name = format!("doc-segments-info-{}", std::process::id());
/// let array = shmipc::RawArray::<u32>::create(&name, 10)?;
/// let info = shmipc::segments::info(&name)?;
/// assert_eq!((info.kind, info.type_name.as_str(), info.param), (Some(shmipc::Kind::RawArray), "u32", 10));
/// assert!(matches!(shmipc::segments::info("no-such-segment"), Err(shmipc::Error::NotFound { .. })));
/// # drop(array); Ok(()) }
/// ```
pub fn info(name: &str) -> Result<SegmentInfo> {
    crate::segment::checked_name(name)?;
    if std::fs::symlink_metadata(dev_shm_path(name)).is_err() {
        return Err(Error::NotFound {
            name: name.to_owned(),
        });
    }
    Ok(read_info(name.to_owned(), &mappers()))
}

/// A segment and its live state (see [`inspect`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Inspection {
    /// What [`info`] says of it.
    pub info: SegmentInfo,
    /// The kind's live state as field and value, in the order `shmipc
    /// inspect` prints them: a lock's holder and whether it is alive, a
    /// semaphore's value, an event's flag, a barrier's parties, waiters and
    /// whether it is broken, a queue's depth, capacity and role holders, a
    /// pipe's ends, ...
    pub state: Vec<(&'static str, String)>,
}

/// The segment `name` and its live state, read without taking anything.
///
/// ```
/// # extern crate shmipc_shm as shmipc;
/// # fn main() -> Result<(), shmipc::Error> {
/// # let name = format!("doc-segments-inspect-{}", std::process::id());
/// let sem = shmipc::Semaphore::create(&name, 3)?;
/// sem.acquire();
/// let seen = shmipc::segments::inspect(&name)?;
/// assert!(seen.state.contains(&("value", "2".to_string())));
/// # drop(sem); Ok(()) }
/// ```
pub fn inspect(name: &str) -> Result<Inspection> {
    let info = info(name)?;
    let state = match (&info.problem, info.kind, info.fingerprint) {
        (None, Some(kind), Some(fingerprint)) => crate::inspect::state(name, kind, fingerprint)?,
        _ => Vec::new(),
    };
    Ok(Inspection { info, state })
}

/// Removes the segment `name`, unless a live process maps it
/// ([`Error::InUse`], naming them). Processes that have it open keep their
/// mapping; the name is gone.
///
/// ```
/// # extern crate shmipc_shm as shmipc;
/// # fn main() -> Result<(), shmipc::Error> {
/// # let name = format!("doc-segments-remove-{}", std::process::id());
/// let event = shmipc::Event::create_with(&name, &shmipc::Options::new().persist(true))?;
/// assert!(matches!(shmipc::segments::remove(&name), Err(shmipc::Error::InUse { .. })));
/// drop(event);
/// shmipc::segments::remove(&name)?;
/// assert!(matches!(shmipc::Event::open(&name), Err(shmipc::Error::NotFound { .. })));
/// # Ok(()) }
/// ```
pub fn remove(name: &str) -> Result<()> {
    let info = info(name)?;
    if !info.mapped_by.is_empty() {
        return Err(Error::InUse {
            name: name.to_owned(),
            pids: info.mapped_by,
        });
    }
    crate::segment::unlink(name)
}

/// Removes every segment whose name starts with `prefix` (all of them for
/// `""`) that [`SegmentInfo::is_garbage`] says may go (its creator is dead
/// and no live process maps it), or with `dry_run` only lists them; gives
/// those it removed (or would). A segment that a process maps by the time
/// it is removed is kept. A service cleans up after a crash of its own
/// with its names' prefix, leaving other programs' segments alone.
///
/// ```
/// # extern crate shmipc_shm as shmipc;
/// # fn main() -> Result<(), shmipc::Error> {
/// # let name = format!("doc-segments-gc-{}", std::process::id());
/// let live = shmipc::Lock::create(&name)?;
/// // Its creator (this process) is alive and maps it: never garbage.
/// assert!(shmipc::segments::collect_garbage("doc-", true)?.iter().all(|s| s.name != name));
/// # drop(live); Ok(()) }
/// ```
pub fn collect_garbage(prefix: &str, dry_run: bool) -> Result<Vec<SegmentInfo>> {
    let mut removed = Vec::new();
    let garbage = list()?
        .into_iter()
        .filter(|s| s.name.starts_with(prefix) && s.is_garbage());
    for segment in garbage {
        if dry_run {
            removed.push(segment);
            continue;
        }
        // Looked at again just before: a process may have mapped it since.
        match remove(&segment.name) {
            Ok(()) => removed.push(segment),
            Err(Error::InUse { .. } | Error::NotFound { .. }) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(removed)
}

/// The segment's facts from its file: the header and the type-name line,
/// read as bytes and validated.
fn read_info(name: String, mappers: &BTreeMap<String, Vec<u32>>) -> SegmentInfo {
    let mut info = SegmentInfo {
        mapped_by: mappers.get(&name).cloned().unwrap_or_default(),
        name,
        size: 0,
        kind: None,
        type_name: String::new(),
        param: 0,
        creator_pid: None,
        creator_alive: None,
        problem: None,
        fingerprint: None,
    };
    match read_header(&info.name) {
        Ok((size, header, type_name)) => {
            info.size = size;
            info.kind = header.known_kind();
            if info.kind.is_none() {
                info.problem = Some(format!("unknown kind {}", header.kind));
            }
            info.type_name = type_name;
            info.param = header.param;
            info.creator_pid = Some(header.creator_pid);
            info.creator_alive = Some(Alive::of(&Owner {
                tid: header.creator_pid,
                pid: header.creator_pid,
                start: header.creator_start,
            }));
            info.fingerprint = Some(header.fingerprint);
        }
        Err((size, problem)) => {
            info.size = size;
            info.problem = Some(problem);
        }
    }
    info
}

/// The file's size, header and recorded type name; or its size and why
/// they could not be read.
fn read_header(name: &str) -> std::result::Result<(u64, Header, String), (u64, String)> {
    let path = dev_shm_path(name);
    let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    let mut file = File::open(&path).map_err(|e| {
        let why = match e.kind() {
            // A creator gives the file its final mode last.
            std::io::ErrorKind::PermissionDenied => "not readable (or still being created)".into(),
            _ => e.to_string(),
        };
        (size, why)
    })?;
    let mut bytes = [0u8; HEADER_SIZE + TYPE_NAME_SIZE];
    let read = read_up_to(&mut file, &mut bytes).map_err(|e| (size, e.to_string()))?;
    let header = Header::decode(&bytes[..read], size).map_err(|e| (size, e.to_string()))?;
    let mut line = [0u8; TYPE_NAME_SIZE];
    if read == bytes.len() {
        line.copy_from_slice(&bytes[HEADER_SIZE..]);
    }
    Ok((size, header, decode_type_name(&line).to_owned()))
}

fn read_up_to(file: &mut File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match file.read(&mut buf[got..])? {
            0 => break,
            n => got += n,
        }
    }
    Ok(got)
}

/// For each of this crate's segments that some live process maps, those
/// processes, from every readable `/proc/<pid>/maps`.
pub(crate) fn mappers() -> BTreeMap<String, Vec<u32>> {
    let prefix = format!("/dev/shm/{OS_PREFIX}");
    let mut found: BTreeMap<String, Vec<u32>> = BTreeMap::new();
    let Ok(procs) = std::fs::read_dir("/proc") else {
        return found;
    };
    for entry in procs.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(maps) = std::fs::read_to_string(entry.path().join("maps")) else {
            continue;
        };
        for line in maps.lines() {
            if let Some(at) = line.find(&prefix) {
                let rest = &line[at + prefix.len()..];
                let name = rest.split(" (deleted)").next().unwrap_or(rest).trim_end();
                let pids = found.entry(name.to_owned()).or_default();
                if !pids.contains(&pid) {
                    pids.push(pid);
                }
            }
        }
    }
    found
}
