// SPDX-License-Identifier: GPL-2.0

//! A bio taken over by a target, with the target's state for it in
//! device-mapper's per-bio data (`dm_per_bio_data`).
//!
//! C header: `include/linux/device-mapper.h`.

use super::buffered::BufferedIo;
use super::write_thread::{SortedBio, WriteThread};
use super::table::TargetDevice;
use super::target::Target;
use crate::bindings;
use crate::bio::{Bio, BioCursor, BioSet, BlkStatus, PagePool};
use crate::wq::WorkQueue;
use core::ptr::NonNull;
use kernel::prelude::*;
use kernel::types::Opaque;

/// What the I/O types ask of the target they belong to: the device its
/// bios go to and what they use on the way there (dm-crypt keeps the same
/// in its `struct crypt_config`). The target outlives its bios, so each is
/// borrowed for as long as an I/O needs it.
pub(crate) trait IoTarget: Sync {
    /// The device under the target ([`Io::submit_to`], [`Io::with_buffer`]).
    fn device(&self) -> &TargetDevice;
    /// The work queue of [`Io::queue`].
    fn work_queue(&self) -> &WorkQueue;
    /// The bio set of write buffers too large for the per-bio data.
    fn bio_set(&self) -> &BioSet;
    /// The page pool of write buffers.
    fn page_pool(&self) -> &PagePool;
    /// The write thread of [`BufferedIo::submit_sorted`].
    fn write_thread(&self) -> &WriteThread;
}

/// Per-bio data of a target: a work item, the completion steps, the
/// target's own per-bio state `S` and, after it, the byte area the target
/// asked for in [`Target::set_per_io_data`] (for dm-crypt's use of it: the
/// crypto request).
///
/// `#[repr(C)]` with the work item first, so that the work item's address is
/// the structure's; its size is a multiple of [`PER_BIO_ALIGN`], so the area
/// that follows is aligned as device-mapper aligns the per-bio data, and its
/// alignment is at most that (both checked by [`Io::new`]).
#[repr(C)]
pub(super) struct PerBio<T: IoTarget, S> {
    pub(super) work: Opaque<bindings::work_struct>,
    pub(super) size: usize,
    pub(super) target: *const T,
    pub(super) work_fn: Option<fn(Io<T, S>)>,
    /// `Io::submit_to`: the completion step and what the bio had before.
    pub(super) self_fn: Option<fn(Io<T, S>)>,
    pub(super) saved_end_io: bindings::bio_end_io_t,
    pub(super) saved_private: *mut core::ffi::c_void,
    pub(super) saved_cursor: Option<BioCursor>,
    /// `BufferedIo`: the completion step and the pool's identity.
    pub(super) buf_fn: Option<fn(BufferedIo<T, S>)>,
    pub(super) clone_pool: *mut crate::bio::PoolInner,
    pub(super) sorted: Opaque<SortedBio>,
    /// The write buffer's bio and its vectors when it fits here
    /// ([`Io::with_buffer`]).
    pub(super) buf_bio: Opaque<bindings::bio>,
    pub(super) buf_vecs: Opaque<[bindings::bio_vec; BUF_INLINE_VECS]>,
    pub(super) state: S,
}

/// Pages a write buffer may have for its bio to live in the per-bio data
/// (a write of up to 16 KiB, or larger in compound pages, needs no bio from
/// the bio set).
pub(super) const BUF_INLINE_VECS: usize = 4;

/// Alignment of per-bio data and of the area after [`PerBio`]: device-mapper
/// places per-bio data `per_io_data_size` bytes before its `dm_target_io`,
/// which is pointer-aligned, so a size that is a multiple of 8 keeps both
/// 8-byte aligned (`ARCH_KMALLOC_MINALIGN` on x86-64, what crypto requests need).
pub(super) const PER_BIO_ALIGN: usize = 8;

/// The parts of an [`Io`] a target works with at once: the target, the bio,
/// its state and the per-bio area (uninitialised at first; the target's to
/// use until the bio ends).
pub(crate) struct IoParts<'a, T, S> {
    pub(crate) target: &'a T,
    pub(crate) bio: &'a Bio,
    pub(crate) state: &'a S,
    pub(crate) area: &'a mut [core::mem::MaybeUninit<u8>],
}

/// A bio taken over by a target (its map function returned `Submitted`),
/// with the target's state for it in device-mapper's per-bio data.
///
/// # Invariants
///
/// `p` points to the initialised per-bio data of `base`, whose target `T`
/// stays alive until `base` is ended (device-mapper does not destroy a
/// target with bios in flight). `base` has not been ended.
pub(crate) struct Io<T: IoTarget, S> {
    pub(super) p: NonNull<PerBio<T, S>>,
    pub(super) base: Bio,
}

// SAFETY: The per-bio data moves between threads with its bio; `T` is
// `Sync` (a target) and `S` is `Send`.
unsafe impl<T: IoTarget, S: Send> Send for Io<T, S> {}

impl<T: IoTarget, S> Io<T, S> {
    /// The target.
    pub(crate) fn target(&self) -> &T {
        // SAFETY: The target outlives its bios (type invariant).
        unsafe { &*self.p.as_ref().target }
    }
}

impl<T: IoTarget, S: Send> Io<T, S> {
    /// Takes over `bio` for `this` target with per-bio state `state`. Fails
    /// (giving the bio back) if the target did not reserve per-bio data of
    /// this type with [`Target::set_per_io_data`].
    pub(crate) fn new(target: &Target<'_>, bio: Bio, this: &T, state: S) -> Result<Self, Bio> {
        const { assert!(core::mem::size_of::<PerBio<T, S>>() % PER_BIO_ALIGN == 0) };
        // Device-mapper aligns the per-bio data to `PER_BIO_ALIGN` and no
        // more: a state that needs more (a `u128`, say) cannot live there.
        const { assert!(core::mem::align_of::<PerBio<T, S>>() <= PER_BIO_ALIGN) };
        let size = target.raw().per_io_data_size as usize;
        if size < core::mem::size_of::<PerBio<T, S>>() || size % PER_BIO_ALIGN != 0 {
            return Err(bio);
        }
        // SAFETY: The bio is being mapped by a target with `size` bytes of
        // per-bio data, suitably aligned by device-mapper.
        let p = unsafe { bindings::rcrypt_dm_per_bio_data(bio.as_ptr(), size) }.cast::<PerBio<T, S>>();
        let Some(p) = NonNull::new(p) else { return Err(bio) };
        // SAFETY: `p` is writable per-bio data of the right size, owned by
        // this bio; the work item is initialised before any use.
        unsafe {
            p.as_ptr().write(PerBio {
                work: Opaque::uninit(),
                size,
                target: this,
                work_fn: None,
                self_fn: None,
                saved_end_io: None,
                saved_private: core::ptr::null_mut(),
                saved_cursor: None,
                buf_fn: None,
                clone_pool: core::ptr::null_mut(),
                sorted: Opaque::uninit(),
                buf_bio: Opaque::uninit(),
                buf_vecs: Opaque::uninit(),
                state,
            });
        }
        Ok(Self { p, base: bio })
    }

    /// The bio.
    pub(crate) fn bio(&self) -> &Bio {
        &self.base
    }

    /// The target's per-bio state.
    pub(crate) fn state(&self) -> &S {
        // SAFETY: Initialised by `new`; `Io` is the only handle to it.
        unsafe { &self.p.as_ref().state }
    }

    /// The target, the bio, the target's state and the per-bio area at once.
    pub(crate) fn parts_mut(&mut self) -> IoParts<'_, T, S> {
        let p = self.p.as_ptr();
        // The per-bio data is `size` bytes, `PerBio` first (checked by `new`);
        // the area after it is only reachable through `&mut self`, and `Io` is
        // the only handle to the per-bio data. The target outlives its bios.
        // SAFETY: As above (type invariants of `Io`).
        unsafe {
            let len = (*p).size.saturating_sub(core::mem::size_of::<PerBio<T, S>>());
            let area = p.add(1).cast::<core::mem::MaybeUninit<u8>>();
            IoParts {
                target: &*(*p).target,
                bio: &self.base,
                state: &(*p).state,
                area: core::slice::from_raw_parts_mut(area, len),
            }
        }
    }

    /// Runs `f` with this I/O from the target's work queue (in process
    /// context).
    pub(crate) fn queue(mut self, f: fn(Io<T, S>)) {
        let wq: *const WorkQueue = self.target().work_queue();
        // SAFETY: The per-bio data is ours (type invariant); the work item is initialised
        // here and queued once; `Self` is forgotten and rebuilt by `work_trampoline`;
        // the work queue belongs to the target, which outlives its bios.
        unsafe {
            let wq = &*wq;
            let pb = self.p.as_mut();
            pb.work_fn = Some(f);
            bindings::rcrypt_init_work(pb.work.get(), Some(Self::work_trampoline));
            bindings::rcrypt_queue_work(wq.as_ptr(), pb.work.get());
        }
        core::mem::forget(self);
    }

    /// # Safety
    ///
    /// Called by the kernel for a work item set up by [`Self::queue`].
    unsafe extern "C" fn work_trampoline(work: *mut bindings::work_struct) {
        // `work` is the first field of a `#[repr(C)]` `PerBio`.
        let p = work.cast::<PerBio<T, S>>();
        // SAFETY: Queued by `queue` with valid per-bio data whose bio is
        // not ended; the bio is recovered from its per-bio data.
        unsafe {
            let Some(f) = (*p).work_fn.take() else { return };
            let base = bindings::rcrypt_dm_bio_from_per_bio_data(p.cast(), (*p).size);
            if let (Some(p), Some(base)) = (NonNull::new(p), Bio::from_raw(base)) {
                f(Io { p, base });
            }
        }
    }

    /// Directs the bio at `sector` of the target's device and submits
    /// the bio itself, without a clone (dm-verity's way; dm-crypt clones
    /// reads instead): `done` runs with this I/O when the bio completes,
    /// its completion callback, private pointer and position put back as
    /// they were at submission, so that `done` sees the data as submitted
    /// and the status the device gave ([`Bio::status`]). `done` may run in
    /// interrupt context, so it must not sleep.
    pub(crate) fn submit_to(mut self, sector: u64, done: fn(Io<T, S>)) {
        let dev: *const TargetDevice = self.target().device();
        // SAFETY: The device belongs to the target, which outlives its bios
        // (type invariant).
        self.base.set_dev(unsafe { &*dev }.bdev());
        self.base.set_sector(sector);
        let (end_io, private) = self.base.end_io();
        let cursor = self.base.cursor();
        // The per-bio data is ours (type invariant) and outlives the bio's
        // flight (the bio is not ended before `done` runs).
        // SAFETY: As above; the trampoline puts device-mapper's callback
        // back before anything can end the bio.
        unsafe {
            let pb = self.p.as_mut();
            pb.self_fn = Some(done);
            pb.saved_end_io = end_io;
            pb.saved_private = private;
            pb.saved_cursor = Some(cursor);
            self.base.set_end_io(Some(Self::self_trampoline), self.p.as_ptr().cast());
        }
        let this = core::mem::ManuallyDrop::new(self);
        // SAFETY: The base bio came to the target's map function and is not
        // ended (type invariant); its completion goes to the trampoline,
        // which rebuilds `Self`, so `this` is not used again.
        unsafe { core::ptr::read(&this.base).submit_remap_self() };
    }

    /// # Safety
    ///
    /// Called by the kernel for a bio submitted by [`Self::submit_to`].
    unsafe extern "C" fn self_trampoline(bio: *mut bindings::bio) {
        // Set up by `submit_to`: the bio is a base bio that is not ended (its
        // device-mapper completion has not run).
        // SAFETY: As above; its private pointer is its per-bio data, and the
        // saved cursor was taken from it.
        unsafe {
            let Some(mut base) = Bio::from_raw(bio) else { return };
            let p = base.private().cast::<PerBio<T, S>>();
            let Some(f) = (*p).self_fn.take() else { return };
            base.set_end_io((*p).saved_end_io, (*p).saved_private);
            if let Some(cursor) = (*p).saved_cursor.take() {
                base.restore_cursor(&cursor);
            }
            if let Some(p) = NonNull::new(p) {
                f(Io { p, base });
            }
        }
    }

    /// Hands the base bio over to `clone`'s completion (which rebuilds
    /// `Self`) and submits the clone through device-mapper, which then
    /// accounts the base bio's I/O to the mapped device, as for dm-crypt
    /// (the target sets `accounts_remapped_io`).
    pub(super) fn submit_remap(self, clone: Bio) {
        let this = core::mem::ManuallyDrop::new(self);
        // SAFETY: The base bio came to the target's map function and is not
        // ended (type invariant); it stays valid until the clone's completion
        // ends it. `this` is not used again: the trampoline rebuilds it.
        unsafe { clone.submit_remap(&this.base) };
    }

    /// Ends the bio with `status`.
    pub(crate) fn end(self, status: BlkStatus) {
        // SAFETY: The state was initialised by `new` and is dropped once, here.
        unsafe { core::ptr::drop_in_place(core::ptr::addr_of_mut!((*self.p.as_ptr()).state)) };
        self.take_base().end(status);
    }

    fn take_base(self) -> Bio {
        let this = core::mem::ManuallyDrop::new(self);
        // SAFETY: `this` is never used again.
        unsafe { core::ptr::read(&this.base) }
    }
}

/// An `Io` dropped without being ended or handed on fails its bio, so that
/// no bio is ever left hanging.
impl<T: IoTarget, S> Drop for Io<T, S> {
    fn drop(&mut self) {
        // SAFETY: The state was initialised by `new` and not yet dropped (it is
        // only dropped here or in `end`, which does not run `Drop`).
        unsafe { core::ptr::drop_in_place(core::ptr::addr_of_mut!((*self.p.as_ptr()).state)) };
        // SAFETY: The base bio is not ended (type invariant) and `self` is gone
        // after this; `Bio` has no destructor of its own.
        let base = unsafe { core::ptr::read(&self.base) };
        base.end(BlkStatus::IOERR);
    }
}
