//! A segment that holds one `core` structure right after the header: how Lock,
//! RLock, Semaphore, Event and Barrier live.

use std::marker::PhantomData;
use std::ptr::NonNull;
use std::sync::Arc;

use shmipc_core::fingerprint::Fingerprint;
use shmipc_core::header::{Kind, PAYLOAD_OFFSET};

use crate::error::{Corruption, Error, Result};
use crate::options::Options;
use crate::segment::{Segment, Spec};

/// Where a kind's `core` structure sits, and how many bytes follow it.
pub(crate) struct ObjectSpec {
    pub kind: Kind,
    /// Bytes after the structure for kind-specific settings.
    pub extra: usize,
}

/// A mapped segment holding an `R` at [`PAYLOAD_OFFSET`].
pub(crate) struct Object<R> {
    segment: Arc<Segment>,
    raw: NonNull<R>,
    _marker: PhantomData<R>,
}

// SAFETY: `R` is a `core` structure of atomics, valid for any bytes, shared by
// design; `segment` keeps the mapping alive.
unsafe impl<R> Send for Object<R> {}
// SAFETY: as above.
unsafe impl<R> Sync for Object<R> {}

impl<R> Clone for Object<R> {
    fn clone(&self) -> Self {
        Object {
            segment: self.segment.clone(),
            raw: self.raw,
            _marker: PhantomData,
        }
    }
}

fn size_for<R>(spec: &ObjectSpec) -> usize {
    PAYLOAD_OFFSET + std::mem::size_of::<R>() + spec.extra
}

impl<R> Object<R> {
    /// Creates the segment; `init` sees the zeroed structure and the extra bytes.
    pub(crate) fn create(
        name: &str,
        spec: &ObjectSpec,
        param: u64,
        opts: &Options,
        init: impl FnOnce(&R, NonNull<u8>),
    ) -> Result<Object<R>> {
        let total_size = size_for::<R>(spec);
        let seg_spec = Spec {
            kind: spec.kind,
            flags: 0,
            fingerprint: Fingerprint::NONE,
            type_name: "",
            param,
            total_size,
        };
        let segment = Segment::create(name, &seg_spec, opts, |base| {
            let raw = base.as_ptr().wrapping_add(PAYLOAD_OFFSET).cast::<R>();
            let extra = base
                .as_ptr()
                .wrapping_add(PAYLOAD_OFFSET + std::mem::size_of::<R>());
            // SAFETY: the fresh mapping spans `total_size` bytes: `R` at
            // PAYLOAD_OFFSET (page-aligned base + 128, which satisfies `R`'s alignment
            // of at most 64), then `extra` bytes. Zero bytes are a valid `R`.
            unsafe { init(&*raw, NonNull::new_unchecked(extra)) };
        })?;
        Object::assemble(Arc::new(segment))
    }

    /// Opens and checks the segment.
    pub(crate) fn open(name: &str, spec: &ObjectSpec, opts: &Options) -> Result<Object<R>> {
        let segment = Segment::open(name, spec.kind, Fingerprint::NONE, spec.kind.name(), opts)?;
        let expected = size_for::<R>(spec) as u64;
        if segment.header().total_size != expected {
            return Err(Error::corrupt(
                name,
                Corruption::Size {
                    expected,
                    found: segment.header().total_size,
                },
            ));
        }
        Object::assemble(Arc::new(segment))
    }

    fn assemble(segment: Arc<Segment>) -> Result<Object<R>> {
        const { assert!(std::mem::align_of::<R>() <= 64) };
        let raw = segment
            .at(PAYLOAD_OFFSET, std::mem::size_of::<R>())?
            .cast::<R>();
        Ok(Object {
            segment,
            raw,
            _marker: PhantomData,
        })
    }

    /// The structure.
    pub(crate) fn raw(&self) -> &R {
        // SAFETY: `raw` is aligned, inside the mapping that `segment` keeps alive,
        // and `R` is atomics only, valid for any bytes.
        unsafe { self.raw.as_ref() }
    }

    /// The `len` bytes after the structure (checked against the segment).
    pub(crate) fn extra(&self, len: usize) -> Result<NonNull<u8>> {
        self.segment
            .at(PAYLOAD_OFFSET + std::mem::size_of::<R>(), len)
    }

    pub(crate) fn name(&self) -> &str {
        self.segment.name()
    }

    pub(crate) fn shared_name(&self) -> Arc<str> {
        self.segment.shared_name()
    }

    pub(crate) fn param(&self) -> u64 {
        self.segment.header().param
    }
}
