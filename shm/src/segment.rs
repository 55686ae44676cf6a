//! Named segments: create, open with validation, unlink.
//!
//! # Creation protocol
//!
//! 1. `shm_open(O_CREAT | O_EXCL)` with mode 0200: the name is ours alone, and
//!    no other user can open the file while it is half-built.
//! 2. `ftruncate`, map, initialise the payload, write the header with state
//!    `Initializing`, then store `Ready` with Release ordering.
//! 3. `fchmod` to the final mode (0600 unless asked otherwise).
//!
//! An opener that finds mode 0200, or a state that is not yet `Ready`, waits
//! (bounded by [`Options::ready_timeout`]); root, which ignores modes, relies on
//! the state word alone. Every other inconsistency is refused at once with its
//! own error.

use std::fs::File;
use std::os::fd::OwnedFd;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use memmap2::{MmapOptions, MmapRaw};
use shmipc_core::fingerprint::Fingerprint;
use shmipc_core::header::{
    decode_type_name, encode_type_name, Header, HeaderError, Kind, HEADER_SIZE, LAYOUT_VERSION,
    PAYLOAD_OFFSET, STATE_OFFSET, STATE_READY, TYPE_NAME_OFFSET,
};
use shmipc_core::name::validate_name;
use shmipc_core::racy;

use crate::error::{Corruption, Error, Result};
use crate::identity;
use crate::options::{Options, INITIALIZING_MODE};
use crate::sys;

/// What a creator asks for.
pub(crate) struct Spec {
    pub kind: Kind,
    pub flags: u16,
    pub fingerprint: Fingerprint,
    /// The payload type's name, kept beside the header for error messages.
    pub type_name: &'static str,
    pub param: u64,
    pub total_size: usize,
}

/// A mapped, validated segment.
pub(crate) struct Segment {
    map: MmapRaw,
    name: Arc<str>,
    header: Header,
    file: (u64, u64),
    unlink_on_drop: bool,
}

impl std::fmt::Debug for Segment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Segment")
            .field("name", &self.name)
            .field("kind", &self.header.known_kind())
            .field("total_size", &self.header.total_size)
            .field("creator_pid", &self.header.creator_pid)
            .finish()
    }
}

pub(crate) fn checked_name(name: &str) -> Result<()> {
    validate_name(name).map_err(|reason| Error::InvalidName {
        name: name.to_owned(),
        reason,
    })
}

fn map_open_error(name: &str, op: &'static str, e: std::io::Error) -> Error {
    match e.raw_os_error() {
        Some(libc::ENOENT) => Error::NotFound {
            name: name.to_owned(),
        },
        Some(libc::EEXIST) => Error::AlreadyExists {
            name: name.to_owned(),
        },
        Some(libc::EACCES) | Some(libc::EPERM) => Error::PermissionDenied {
            name: name.to_owned(),
        },
        _ => Error::os(name, op, e),
    }
}

impl Segment {
    /// Creates, initialises and publishes a segment. `init` receives the base
    /// pointer of the zero-filled mapping (the header not yet written).
    pub(crate) fn create(
        name: &str,
        spec: &Spec,
        opts: &Options,
        init: impl FnOnce(NonNull<u8>),
    ) -> Result<Segment> {
        checked_name(name)?;
        let mode = opts.checked_mode()?;
        let os_name = sys::os_name(name);
        let open_new = || {
            sys::shm_open(
                &os_name,
                libc::O_RDWR | libc::O_CREAT | libc::O_EXCL | libc::O_CLOEXEC,
                INITIALIZING_MODE,
            )
        };
        let fd = match open_new() {
            // A leftover of a dead creator that nobody maps: replace it, if
            // asked to. Two replacers race on the `O_EXCL` create that
            // follows, and one of them gets `AlreadyExists`.
            Err(e)
                if e.raw_os_error() == Some(libc::EEXIST)
                    && opts.get_replace_stale()
                    && crate::leftover::is_leftover(name) =>
            {
                let _ = sys::shm_unlink(&os_name);
                open_new()
            }
            other => other,
        }
        .map_err(|e| map_open_error(name, "shm_open", e))?;
        match Segment::fill(name, spec, opts, mode, fd, init) {
            Ok(segment) => Ok(segment),
            Err(e) => {
                let _ = sys::shm_unlink(&os_name);
                Err(e)
            }
        }
    }

    fn fill(
        name: &str,
        spec: &Spec,
        opts: &Options,
        mode: u32,
        fd: OwnedFd,
        init: impl FnOnce(NonNull<u8>),
    ) -> Result<Segment> {
        // The umask may have trimmed the creation mode; make the marker exact.
        sys::fchmod(&fd, INITIALIZING_MODE).map_err(|e| Error::os(name, "fchmod", e))?;
        sys::ftruncate(&fd, spec.total_size as u64).map_err(|e| Error::os(name, "ftruncate", e))?;
        let facts = sys::fstat(&fd).map_err(|e| Error::os(name, "fstat", e))?;
        let file = File::from(fd);
        let map = MmapOptions::new()
            .len(spec.total_size)
            .map_raw(&file)
            .map_err(|e| Error::os(name, "mmap", e))?;
        let base = NonNull::new(map.as_mut_ptr())
            .ok_or_else(|| Error::os(name, "mmap", std::io::Error::other("mmap returned null")))?;
        init(base);
        let (creator_pid, creator_start) = identity::this_process();
        let header = Header {
            version: LAYOUT_VERSION,
            kind: spec.kind.code(),
            flags: spec.flags,
            total_size: spec.total_size as u64,
            fingerprint: spec.fingerprint,
            param: spec.param,
            creator_pid,
            creator_start,
        };
        let type_name = encode_type_name(spec.type_name);
        // SAFETY: every layout starts its payload at PAYLOAD_OFFSET, after
        // the type-name line, so the mapping spans it; nobody else can use
        // the mapping before the Ready store. Written like the header, in
        // 4-byte units.
        unsafe { store_line(&type_name, base.as_ptr().add(TYPE_NAME_OFFSET)) };
        let bytes = header.encode();
        // SAFETY: the mapping is at least HEADER_SIZE bytes (every layout starts
        // with the header) and page-aligned, and nobody else can use it before
        // the Ready store. 4-byte units: the width of the state word.
        unsafe { store_line(&bytes, base.as_ptr()) };
        let segment = Segment {
            map,
            name: name.into(),
            header,
            file: (facts.dev, facts.ino),
            unlink_on_drop: !opts.get_persist(),
        };
        segment.state().store(STATE_READY, Ordering::Release);
        sys::fchmod(&file, mode).map_err(|e| Error::os(name, "fchmod", e))?;
        Ok(segment)
    }

    /// Opens and validates a segment of `kind` whose payload has fingerprint
    /// `fingerprint` (`expected_type` names it in errors).
    pub(crate) fn open(
        name: &str,
        kind: Kind,
        fingerprint: Fingerprint,
        expected_type: &'static str,
        opts: &Options,
    ) -> Result<Segment> {
        checked_name(name)?;
        let started = Instant::now();
        let deadline = started + opts.get_ready_timeout();
        let mut backoff = Duration::from_micros(20);
        loop {
            match Segment::try_open(name, kind, fingerprint, expected_type)? {
                Some(segment) => return Ok(segment),
                None if Instant::now() >= deadline => {
                    return Err(Error::NotReady {
                        name: name.to_owned(),
                        waited: started.elapsed(),
                    })
                }
                // The creator is still at work and there is nothing to wait on
                // but time: back off exponentially, up to 5 ms.
                None => {
                    std::thread::sleep(backoff);
                    backoff = (backoff * 2).min(Duration::from_millis(5));
                }
            }
        }
    }

    /// One attempt: `Ok(None)` means "still being created, try again".
    fn try_open(
        name: &str,
        kind: Kind,
        fingerprint: Fingerprint,
        expected_type: &'static str,
    ) -> Result<Option<Segment>> {
        let fd = match sys::shm_open(&sys::os_name(name), libc::O_RDWR | libc::O_CLOEXEC, 0) {
            Ok(fd) => fd,
            Err(e) if e.raw_os_error() == Some(libc::EACCES) => {
                // Refused: either half-built (mode 0200) or really not ours.
                return match sys::stat_path(&sys::dev_shm_path(name)) {
                    Ok(f) if f.mode == INITIALIZING_MODE => Ok(None),
                    _ => Err(map_open_error(name, "shm_open", e)),
                };
            }
            Err(e) => return Err(map_open_error(name, "shm_open", e)),
        };
        let facts = sys::fstat(&fd).map_err(|e| Error::os(name, "fstat", e))?;
        if facts.mode == INITIALIZING_MODE {
            return Ok(None);
        }
        if facts.size < HEADER_SIZE as u64 {
            return Err(Error::Truncated {
                name: name.to_owned(),
                expected: HEADER_SIZE as u64,
                found: facts.size,
            });
        }
        let len = usize::try_from(facts.size).map_err(|_| Error::Truncated {
            name: name.to_owned(),
            expected: facts.size,
            found: usize::MAX as u64,
        })?;
        let file = File::from(fd);
        let map = MmapOptions::new()
            .len(len)
            .map_raw(&file)
            .map_err(|e| Error::os(name, "mmap", e))?;
        // SAFETY: the mapping is `len >= HEADER_SIZE` bytes and page-aligned.
        let mut snapshot = unsafe { load_line(map.as_ptr()) };
        if snapshot[..6] != shmipc_core::header::MAGIC {
            let mut found = [0u8; 6];
            found.copy_from_slice(&snapshot[..6]);
            return Err(Error::NotShmipc {
                name: name.to_owned(),
                found,
            });
        }
        // SAFETY: offset 8 of a page-aligned mapping of >= 64 bytes is a valid,
        // aligned u32, accessed by every process only atomically.
        let state = unsafe { &*map.as_ptr().add(STATE_OFFSET).cast::<AtomicU32>() };
        let found = state.load(Ordering::Acquire);
        if found != STATE_READY {
            // The creator stores Ready before it gives the file its final
            // mode, and the mode (checked above) is final: no creator is at
            // work on this header, so waiting would only delay the error.
            return Err(Error::Corrupt {
                name: name.to_owned(),
                detail: Corruption::Header(HeaderError::BadField {
                    field: "state",
                    found: u64::from(found),
                }),
            });
        }
        // Re-read after the Acquire so the snapshot is the creator's final header.
        // SAFETY: as above.
        snapshot = unsafe { load_line(map.as_ptr()) };
        let header = Header::decode(&snapshot, facts.size).map_err(|e| header_error(name, e))?;
        if header.kind != kind.code() {
            return Err(Error::KindMismatch {
                name: name.to_owned(),
                expected: kind,
                found: header.kind,
            });
        }
        if header.fingerprint != fingerprint {
            let found_type = if map.len() >= PAYLOAD_OFFSET {
                // SAFETY: the mapping spans the type-name line (checked);
                // 4-byte aligned inside a page-aligned mapping.
                let line = unsafe { load_line(map.as_ptr().add(TYPE_NAME_OFFSET)) };
                decode_type_name(&line).to_owned()
            } else {
                String::new()
            };
            return Err(Error::TypeMismatch {
                name: name.to_owned(),
                expected_type,
                expected: fingerprint,
                found_type,
                found: header.fingerprint,
            });
        }
        Ok(Some(Segment {
            map,
            name: name.into(),
            header,
            file: (facts.dev, facts.ino),
            unlink_on_drop: false,
        }))
    }

    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    /// The name, shared: for errors that carry it without allocating.
    pub(crate) fn shared_name(&self) -> Arc<str> {
        self.name.clone()
    }

    pub(crate) fn header(&self) -> &Header {
        &self.header
    }

    /// (device, inode): the identity of the file behind the name.
    pub(crate) fn file_id(&self) -> (u64, u64) {
        self.file
    }

    fn state(&self) -> &AtomicU32 {
        // SAFETY: see `try_open`: an aligned u32 inside the mapping, only ever
        // accessed atomically.
        unsafe { &*self.map.as_ptr().add(STATE_OFFSET).cast::<AtomicU32>() }
    }

    /// A pointer `offset` bytes into the segment, valid for `len` bytes.
    ///
    /// Checks the range against the size the validated header declares (which
    /// is never more than the mapping), so a caller cannot step outside.
    pub(crate) fn at(&self, offset: usize, len: usize) -> Result<NonNull<u8>> {
        let end = offset
            .checked_add(len)
            .filter(|&end| end as u64 <= self.header.total_size && end <= self.map.len());
        if end.is_none() {
            return Err(Error::corrupt(
                &self.name,
                Corruption::Span {
                    offset: offset as u64,
                    len: len as u64,
                    size: self.header.total_size,
                },
            ));
        }
        // SAFETY: `offset + len` lies inside the mapping, checked above.
        let ptr = unsafe { self.map.as_mut_ptr().add(offset) };
        NonNull::new(ptr)
            .ok_or_else(|| Error::os(&self.name, "mmap", std::io::Error::other("null mapping")))
    }
}

impl Drop for Segment {
    fn drop(&mut self) {
        if !self.unlink_on_drop {
            return;
        }
        // Remove the name only if it still names our file: someone may have
        // unlinked it and created another object under the same name.
        if let Ok(f) = sys::stat_path(&sys::dev_shm_path(&self.name)) {
            if (f.dev, f.ino) == self.file {
                let _ = sys::shm_unlink(&sys::os_name(&self.name));
            }
        }
    }
}

fn header_error(name: &str, e: HeaderError) -> Error {
    let name = name.to_owned();
    match e {
        HeaderError::Truncated { expected, found } => Error::Truncated {
            name,
            expected,
            found,
        },
        HeaderError::BadMagic { found } => Error::NotShmipc { name, found },
        HeaderError::Version { expected, found } => Error::VersionMismatch {
            name,
            expected,
            found,
        },
        e @ (HeaderError::Checksum { .. } | HeaderError::BadField { .. }) => Error::Corrupt {
            name,
            detail: Corruption::Header(e),
        },
    }
}

/// Removes the name of a shmipc object, as `shm_unlink` does: processes that
/// have it open keep using it; new `open`s fail with [`Error::NotFound`].
///
/// ```
/// # extern crate shmipc_shm as shmipc;
/// let name = format!("doc-unlink-{}", std::process::id());
/// let lock = shmipc::Lock::create_with(&name, &shmipc::Options::new().persist(true))?;
/// drop(lock);
/// shmipc::unlink(&name)?;
/// assert!(matches!(shmipc::Lock::open(&name), Err(shmipc::Error::NotFound { .. })));
/// # Ok::<(), shmipc::Error>(())
/// ```
pub fn unlink(name: &str) -> Result<()> {
    checked_name(name)?;
    sys::shm_unlink(&sys::os_name(name)).map_err(|e| map_open_error(name, "shm_unlink", e))
}

/// Copies a 64-byte line (the header, the type name) out of a mapping, in
/// 4-byte units: the width at which the state word inside the header is
/// read and written atomically, so that no byte of it is ever accessed at
/// two widths.
///
/// # Safety
/// `base` is 4-byte aligned and valid for [`HEADER_SIZE`] bytes.
unsafe fn load_line(base: *const u8) -> [u8; HEADER_SIZE] {
    let mut words = [0u32; HEADER_SIZE / 4];
    // SAFETY: forwarded from the caller; `words` is ours, `u32` is `Pod`.
    unsafe { racy::load_run_typed(base.cast::<u32>(), words.as_mut_ptr(), words.len()) };
    bytemuck::cast(words)
}

/// Writes a 64-byte line into a mapping; the inverse of [`load_line`].
///
/// # Safety
/// As for [`load_line`], for writes.
unsafe fn store_line(bytes: &[u8; HEADER_SIZE], base: *mut u8) {
    let words: [u32; HEADER_SIZE / 4] = bytemuck::cast(*bytes);
    // SAFETY: forwarded from the caller; `words` is ours, `u32` is `Pod`.
    unsafe { racy::store_run_typed(words.as_ptr(), base.cast::<u32>(), words.len()) };
}

/// The layout `computed` from a segment's header, refused as corrupt if its
/// parameter cannot be laid out or if the header declares another total
/// size than the layout's (`total_size` of it): the one check every opener
/// of a laid-out kind makes before trusting an offset.
pub(crate) fn check_layout<L>(
    segment: &Segment,
    kind: Kind,
    computed: std::result::Result<L, shmipc_core::layout::LayoutError>,
    total_size: impl FnOnce(&L) -> usize,
) -> Result<L> {
    let header = segment.header();
    let layout = computed.map_err(|e| {
        Error::corrupt(
            segment.name(),
            Corruption::Parameter {
                kind,
                found: header.param,
                layout: Some(e),
            },
        )
    })?;
    let expected = total_size(&layout) as u64;
    if expected != header.total_size {
        return Err(Error::corrupt(
            segment.name(),
            Corruption::Size {
                expected,
                found: header.total_size,
            },
        ));
    }
    Ok(layout)
}
