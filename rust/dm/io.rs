// SPDX-License-Identifier: GPL-2.0

//! A bio taken over by a target, with the target's state for it in
//! device-mapper's per-bio data (`dm_per_bio_data`).
//!
//! C header: `include/linux/device-mapper.h`.

use super::buffered::BufferedIo;
use super::table::TargetDevice;
use super::target::Target;
use super::write_thread::{SortedBio, WriteThread};
use crate::bindings;
use crate::bio::{Bio, BioSet, BlkStatus, PagePool, SavedPosition, TagBuf};
use crate::crypto::InFlight;
use crate::wq::WorkQueue;
use core::ptr::NonNull;
use kernel::prelude::*;
use kernel::types::Opaque;

/// What the I/O types ask of the target they belong to: the device its
/// bios go to and what they use on the way there (dm-crypt keeps the same
/// in its `struct crypt_config`). The target outlives its bios, so each is
/// borrowed for as long as an I/O needs it.
///
/// # Safety
///
/// A crypto operation the target leaves in flight in [`Io::run_atomic`]
/// (through the [`crate::crypto::AtomicArea`] it is given there) uses no
/// page ranges but those of that I/O's bio, and only transforms that stay
/// allocated, with their keys unchanged, while any bio of the target is in
/// flight; and once an operation fails with `EINPROGRESS` there (left in
/// flight), the target reads and writes none of those pages before
/// `run_atomic` returns.
pub(crate) unsafe trait IoTarget: Sync {
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
    pub(super) saved_cursor: Option<SavedPosition>,
    /// `Io::submit_clone`: the completion step.
    pub(super) clone_fn: Option<fn(Io<T, S>, BlkStatus)>,
    /// `Io::run_atomic`: the step after an operation left in flight.
    pub(super) resume_fn: Option<fn(Io<T, S>, Result)>,
    /// `BufferedIo`: the completion step and the pool's identity.
    pub(super) buf_fn: Option<fn(BufferedIo<T, S>)>,
    pub(super) clone_pool: *mut crate::bio::PoolInner,
    /// The buffer's position at submission, put back on completion (a
    /// device below may consume it, and a read's data is decrypted after).
    pub(super) buf_cursor: Option<SavedPosition>,
    /// `BufferedIo::queue`: the work step and the buffer's bio.
    pub(super) buf_work_fn: Option<fn(BufferedIo<T, S>)>,
    pub(super) queued_clone: *mut bindings::bio,
    /// The bio's integrity tags ([`Io::set_tags`]), which its write buffer
    /// carries to the device ([`BufferedIo::attach_tags`]).
    pub(super) tags: Option<TagBuf>,
    /// A crypto operation left in flight in the area after this structure
    /// ([`Io::run_atomic`]); set only while the I/O is queued on the
    /// target's work queue for `Io::settled`, which settles it first.
    pub(super) in_flight: InFlight,
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
/// its state, its integrity tags (if it has any) and the per-bio area
/// (uninitialised at first; the target's to use until the bio ends).
pub(crate) struct IoParts<'a, T, S> {
    pub(crate) target: &'a T,
    pub(crate) bio: &'a Bio,
    pub(crate) state: &'a S,
    pub(crate) tags: Option<&'a mut TagBuf>,
    pub(crate) area: &'a mut [core::mem::MaybeUninit<u8>],
}

/// A bio taken over by a target (its map function returned `Submitted`),
/// with the target's state for it in device-mapper's per-bio data.
///
/// # Invariants
///
/// - `base` is a bio device-mapper passed to a target's map function, not
///   yet ended, and this value is its only handle.
/// - `p` points to the per-bio data of `base`, `(*p).size` bytes with a
///   [`PerBio`] at the start, initialised (the state `S` included) and
///   reached by nothing but this value.
/// - `(*p).target` points to the target's private data, which stays alive
///   until `base` is ended (device-mapper does not destroy a target with
///   bios in flight).
pub(crate) struct Io<T: IoTarget, S> {
    pub(super) p: NonNull<PerBio<T, S>>,
    pub(super) base: Bio,
}

// SAFETY: An `Io` owns its bio and per-bio data (type invariant), which any
// thread may work on, end or submit; what it shares is the target, `&T`,
// which may cross threads since `T: Sync` (`IoTarget`), and it owns an `S`,
// which may since `S: Send`.
unsafe impl<T: IoTarget, S: Send> Send for Io<T, S> {}

impl<T: IoTarget, S> Io<T, S> {
    /// The target.
    pub(crate) fn target(&self) -> &T {
        // SAFETY:
        // - `p` points to the initialised per-bio data (type invariant);
        // - its `target` stays alive until the bio is ended, which cannot
        //   happen while `self` is borrowed (type invariant).
        unsafe { &*self.p.as_ref().target }
    }
}

impl<T: IoTarget, S: Send> Io<T, S> {
    /// Takes over `bio` for `this` target with per-bio state `state`. Fails
    /// (giving the bio back) if the target did not reserve per-bio data of
    /// this type with [`Target::set_per_io_data`], or if `this` is not the
    /// target's private data (`ti->private`, which outlives its bios).
    ///
    /// For the map function of `target` only: `bio` must be the bio it was
    /// given. (The type does not say so: [`Bio`] also holds bios from a
    /// [`BioSet`].)
    pub(crate) fn new(target: &Target<'_>, bio: Bio, this: &T, state: S) -> Result<Self, Bio> {
        const { assert!(core::mem::size_of::<PerBio<T, S>>() % PER_BIO_ALIGN == 0) };
        // Device-mapper aligns the per-bio data to `PER_BIO_ALIGN` and no
        // more: a state that needs more (a `u128`, say) cannot live there.
        const { assert!(core::mem::align_of::<PerBio<T, S>>() <= PER_BIO_ALIGN) };
        let size = target.raw().per_io_data_size as usize;
        if size < core::mem::size_of::<PerBio<T, S>>()
            || size % PER_BIO_ALIGN != 0
            || !core::ptr::eq(this, target.raw().private.cast::<T>())
        {
            return Err(bio);
        }
        // SAFETY: `dm_per_bio_data` steps back from the bio over the
        // `size` bytes device-mapper reserves before it for the target that
        // maps it: `bio` is the bio `target`'s map function was given (this
        // function's contract) and `size` that target's `per_io_data_size`.
        let p =
            unsafe { bindings::rcrypt_dm_per_bio_data(bio.as_ptr(), size) }.cast::<PerBio<T, S>>();
        let Some(p) = NonNull::new(p) else {
            return Err(bio);
        };
        // SAFETY:
        // - `p` is valid for writes of a `PerBio`: the per-bio data is `size`
        //   bytes, at least a `PerBio` (checked above);
        // - it is aligned for one: device-mapper aligns the per-bio data to
        //   `PER_BIO_ALIGN`, at least `PerBio`'s alignment (checked at build
        //   time above);
        // - nothing else uses it: device-mapper leaves the per-bio data to
        //   the target that maps the bio, and the target has handed the bio
        //   to this function. (`write` drops nothing of what was there.)
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
                clone_fn: None,
                resume_fn: None,
                buf_fn: None,
                clone_pool: core::ptr::null_mut(),
                buf_cursor: None,
                buf_work_fn: None,
                queued_clone: core::ptr::null_mut(),
                tags: None,
                in_flight: InFlight::new(),
                sorted: Opaque::uninit(),
                buf_bio: Opaque::uninit(),
                buf_vecs: Opaque::uninit(),
                state,
            });
        }
        // INVARIANT: `bio` came to `target`'s map function and is not ended;
        // `p` is its per-bio data, initialised just above; `this` is the
        // target's private data (this function's contract).
        Ok(Self { p, base: bio })
    }

    /// The bio.
    pub(crate) fn bio(&self) -> &Bio {
        &self.base
    }

    /// The target's per-bio state.
    pub(crate) fn state(&self) -> &S {
        // SAFETY: `p` points to the initialised per-bio data, which only this
        // `Io` reaches (type invariant), and `&self` lets nothing change it.
        unsafe { &self.p.as_ref().state }
    }

    /// Gives the bio its integrity tags (dropped when the bio ends).
    pub(crate) fn set_tags(&mut self, tags: TagBuf) {
        // SAFETY: `p` points to the initialised per-bio data, which only this
        // `Io` reaches (type invariant). No buffer carries the old tags, if
        // any: `attach_tags` borrows them for a `BufferedIo`, which holds
        // the `Io` until its buffer's I/O is over.
        unsafe { (*self.p.as_ptr()).tags = Some(tags) };
    }

    /// Whether the bio has integrity tags.
    pub(crate) fn has_tags(&self) -> bool {
        // SAFETY: `p` points to the initialised per-bio data, which only this
        // `Io` reaches (type invariant).
        unsafe { (*self.p.as_ptr()).tags.is_some() }
    }

    /// The target, the bio, the target's state, the tags and the per-bio
    /// area at once.
    pub(crate) fn parts_mut(&mut self) -> IoParts<'_, T, S> {
        self.parts_in_flight().0
    }

    /// [`Self::parts_mut`] and the record of a crypto operation left in
    /// flight in the area.
    pub(super) fn parts_in_flight(&mut self) -> (IoParts<'_, T, S>, &InFlight) {
        let p = self.p.as_ptr();
        // SAFETY: `p` points to the initialised per-bio data, which only this
        // `Io` reaches (type invariant); `&mut self` lets nothing change it,
        // and the state, the tags and the record are distinct fields.
        let (size, target, state, tags, in_flight) = unsafe {
            (
                (*p).size,
                (*p).target,
                &(*p).state,
                (*p).tags.as_mut(),
                &(*p).in_flight,
            )
        };
        let len = size.saturating_sub(core::mem::size_of::<PerBio<T, S>>());
        // SAFETY: The per-bio data is `size` bytes with a `PerBio` first
        // (checked by `new`): one `PerBio` on is inside it, or its end.
        let area = unsafe { p.add(1) }.cast::<core::mem::MaybeUninit<u8>>();
        let parts = IoParts {
            // SAFETY: The target stays alive until the bio is ended, which
            // cannot happen while `self` is borrowed (type invariant).
            target: unsafe { &*target },
            bio: &self.base,
            state,
            tags,
            // SAFETY:
            // - the `len` bytes after the `PerBio` are the rest of the
            //   per-bio data: allocated, and `MaybeUninit<u8>` needs neither
            //   initialisation nor alignment;
            // - they do not overlap the `PerBio` borrowed for `state`, and
            //   only this `Io` reaches them (type invariant), borrowed
            //   mutably for as long as the slice.
            area: unsafe { core::slice::from_raw_parts_mut(area, len) },
        };
        (parts, in_flight)
    }

    /// Runs `f` with this I/O from the target's work queue (in process
    /// context).
    pub(crate) fn queue(self, f: fn(Io<T, S>)) {
        self.queue_on(f, false);
    }

    /// Runs `f` with this I/O from the system's softirq work queue
    /// ([`Self::queue_on`]: `f` must not sleep), for a read to decrypt whose
    /// completion came in hard interrupt context.
    pub(crate) fn queue_bh(self, f: fn(Io<T, S>)) {
        self.queue_on(f, true);
    }

    /// Runs `f` with the I/O's parts where the context may not sleep: the
    /// per-bio area comes as a [`crate::crypto::AtomicArea`] (the `area`
    /// of the parts is empty), whose request does not wait for an
    /// asynchronous transform. If `f` leaves an operation in flight there,
    /// this I/O goes to the target's work queue, where the operation is
    /// waited for and then `resume` runs with the I/O and the operation's
    /// result (`None`); else the I/O comes back with `f`'s result.
    pub(crate) fn run_atomic<R>(
        mut self,
        f: impl FnOnce(IoParts<'_, T, S>, crate::crypto::AtomicArea<'_>) -> R,
        resume: fn(Io<T, S>, Result),
    ) -> Option<(Self, R)> {
        let (r, left) = {
            let (mut parts, in_flight) = self.parts_in_flight();
            let area = core::mem::take(&mut parts.area);
            // SAFETY: `AtomicArea::new`'s contract: the area is per-bio
            // data, slab memory in the linear map; if an operation is left
            // in flight (checked below, once `f` has returned and its
            // borrows have ended), this I/O goes to the target's work queue,
            // whose step settles the record before anything else
            // (`settled`); until then nothing uses the area: this
            // `Io` is given up to the queue, so its bio and per-bio data stay
            // alive and untouched, and the target keeps the transforms
            // (`IoTarget`'s safety requirement: the operation uses this I/O's
            // pages and the target's transforms only, which stay allocated
            // and keyed while the bio is in flight, as it is until the work
            // has run, and `f` touches none of those pages once it is left
            // in flight). This is the only `AtomicArea` of the area, and
            // there is none before the record is settled.
            let atomic = unsafe { crate::crypto::AtomicArea::new(area, in_flight) };
            let r = f(parts, atomic);
            (r, in_flight.is_set())
        };
        if left {
            // SAFETY: `p` points to the initialised per-bio data, which only
            // this `Io` reaches (type invariant).
            unsafe { self.p.as_mut() }.resume_fn = Some(resume);
            self.queue_on(Self::settled, false);
            return None;
        }
        Some((self, r))
    }

    /// The work step of [`Self::run_atomic`] (on the target's work queue, in
    /// process context): waits for the operation left in flight, then runs
    /// the resume step with its result.
    fn settled(mut io: Io<T, S>) {
        // SAFETY: `p` points to the initialised per-bio data, which only this
        // `Io` reaches (type invariant).
        let pb = unsafe { io.p.as_mut() };
        let r = pb.in_flight.settle();
        if let Some(resume) = pb.resume_fn.take() {
            resume(io, r);
        }
    }

    /// [`Self::queue`], or with `bh` on the system's softirq work queue
    /// (`system_bh_wq`: on this CPU, as soon as the current interrupt
    /// returns; `f` must not sleep).
    pub(super) fn queue_on(mut self, f: fn(Io<T, S>), bh: bool) {
        let wq: *const WorkQueue = self.target().work_queue();
        // SAFETY: `p` points to the initialised per-bio data, which only this
        // `Io` reaches (type invariant).
        let pb = unsafe { self.p.as_mut() };
        pb.work_fn = Some(f);
        let work = pb.work.get();
        // SAFETY: `work` is writable memory for a work item (a field of the
        // per-bio data, above) and is not pending: only `queue_on` queues it,
        // consuming the `Io`, and the item has stopped being pending when
        // its function, `work_trampoline`, rebuilds the `Io` (a work
        // function may initialise and queue its own item again, or free it:
        // the workqueue does not touch an item once its function runs).
        // (A work item for the softirq queue has a lockdep class of its own.)
        unsafe {
            if bh {
                bindings::rcrypt_init_work_bh(work, Some(Self::work_trampoline));
            } else {
                bindings::rcrypt_init_work(work, Some(Self::work_trampoline));
            }
        }
        // SAFETY:
        // - `wq` is the target's work queue, alive: the target stays alive
        //   until the bio is ended (type invariant), and that happens only
        //   once the work has run (`system_bh_wq` lives as long as the
        //   kernel);
        // - `work` was initialised just above and stays valid until it runs:
        //   the per-bio data lives until the bio is ended, and `self` is
        //   forgotten below, so only `work_trampoline` takes the bio on.
        unsafe {
            if bh {
                bindings::rcrypt_queue_work_bh(work);
            } else {
                bindings::rcrypt_queue_work((*wq).as_ptr(), work);
            }
        }
        core::mem::forget(self);
    }

    /// # Safety
    ///
    /// Called by the kernel for a work item queued by [`Self::queue_on`]:
    /// `work` is in the per-bio data of an `Io` that `queue_on` forgot.
    unsafe extern "C" fn work_trampoline(work: *mut bindings::work_struct) {
        // `work` is the first field of a `#[repr(C)]` `PerBio`.
        let p = work.cast::<PerBio<T, S>>();
        // SAFETY: `p` points to the initialised per-bio data of the `Io`
        // that `queue_on` forgot (the caller's guarantee), which nothing else
        // reaches until that `Io` is rebuilt below.
        let (f, size) = unsafe { ((*p).work_fn.take(), (*p).size) };
        let Some(f) = f else { return };
        // SAFETY: `p` is the start of the `size` bytes of per-bio data of a
        // bio device-mapper passed to a map function (type invariants of the
        // forgotten `Io`): `dm_bio_from_per_bio_data` steps over them to it.
        let base = unsafe { bindings::rcrypt_dm_bio_from_per_bio_data(p.cast(), size) };
        // SAFETY: `base` is the bio of the forgotten `Io`, not ended; this
        // work is now its only holder.
        if let (Some(p), Some(base)) = (NonNull::new(p), unsafe { Bio::from_raw(base) }) {
            // INVARIANT: The `Io` that `queue_on` forgot, rebuilt as it was.
            f(Io { p, base });
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
        // SAFETY: The device is the target's, which stays alive until the bio
        // is ended (type invariant), so it is valid for this function; the
        // raw pointer only releases the borrow of `self`.
        self.base.set_dev(unsafe { &*dev }.bdev());
        self.base.set_sector(sector);
        let (end_io, private) = self.base.end_io();
        let cursor = self.base.position();
        // SAFETY: `p` points to the initialised per-bio data, which only this
        // `Io` reaches (type invariant).
        let pb = unsafe { self.p.as_mut() };
        pb.self_fn = Some(done);
        pb.saved_end_io = end_io;
        pb.saved_private = private;
        pb.saved_cursor = Some(cursor);
        // SAFETY: `set_end_io`'s contract:
        // - `self_trampoline` may be called with this bio: it finds the
        //   per-bio data in `bi_private` and puts back the callback and
        //   private pointer saved just above before anything can end the bio;
        // - the per-bio data stays valid until it runs: it lives until the
        //   bio is ended, which only `done` or later can do.
        unsafe {
            self.base
                .set_end_io(Some(Self::self_trampoline), self.p.as_ptr().cast())
        };
        let this = core::mem::ManuallyDrop::new(self);
        // SAFETY:
        // - `ptr::read` moves the bio out of `this`, which is neither used
        //   nor dropped again (`self_trampoline` rebuilds the `Io`);
        // - `submit_remap_self`'s contract: the bio came to the target's map
        //   function and is not ended (type invariant); its completion
        //   rejoins device-mapper's (just above); the device it is directed
        //   at is the target's, open until the target is destroyed, which
        //   waits for its bios.
        unsafe { core::ptr::read(&this.base).submit_remap_self() };
    }

    /// # Safety
    ///
    /// Called by the kernel as the completion of a bio submitted by
    /// [`Self::submit_to`]: `bio` is the base bio of an `Io` that
    /// `submit_to` gave up, not ended.
    unsafe extern "C" fn self_trampoline(bio: *mut bindings::bio) {
        // SAFETY: `bio` is the base bio `submit_to` gave up, not ended (the
        // caller's guarantee): this completion is now its only holder.
        let Some(mut base) = (unsafe { Bio::from_raw(bio) }) else {
            return;
        };
        let p = base.private().cast::<PerBio<T, S>>();
        // SAFETY: `bi_private` is what `submit_to` set: the bio's initialised
        // per-bio data, which nothing else reaches until the `Io` is rebuilt
        // below.
        let Some(f) = (unsafe { (*p).self_fn.take() }) else {
            return;
        };
        // SAFETY: As just above, `p` is the bio's per-bio data.
        let (end_io, private, cursor) = unsafe {
            (
                (*p).saved_end_io,
                (*p).saved_private,
                (*p).saved_cursor.take(),
            )
        };
        // SAFETY: `set_end_io`'s contract: the callback and private pointer
        // the bio had when `submit_to` took it, device-mapper's, valid for
        // it until it is ended.
        unsafe { base.set_end_io(end_io, private) };
        if let Some(cursor) = cursor {
            // SAFETY: `restore_cursor`'s contract: `submit_to` took the cursor
            // from this bio, whose segments have not changed since (a
            // submitted bio's segments are immutable).
            unsafe { base.restore_cursor(&cursor) };
        }
        if let Some(p) = NonNull::new(p) {
            // INVARIANT: The `Io` that `submit_to` gave up, rebuilt as it was.
            f(Io { p, base });
        }
    }

    /// Submits a clone of the bio (dm-crypt's read clone: the bio's own
    /// segments, shared) from the target's bio set, directed at `sector` of
    /// the target's device and carrying the I/O's integrity tags, if it has
    /// any, as its payload (seeded with `sector`): `done` runs with this
    /// I/O and the clone's status when the clone completes, the clone
    /// released and the bio's position as it was. (For a read, tags that
    /// the read brought are marked filled: see [`TagBuf`].) `done` may run
    /// in interrupt context, so it must not sleep. Waits for the clone and
    /// the payload with `wait` (GFP_NOIO) and not without (GFP_NOWAIT, for
    /// `map`); gives the I/O back if either is missing (then `Ok`), or if
    /// the tags are not the metadata of the bio's sectors there or the bio
    /// carries a payload of its own (`Err`: no clone will do).
    pub(crate) fn submit_clone(
        mut self,
        sector: u64,
        wait: bool,
        done: fn(Io<T, S>, BlkStatus),
    ) -> Result<(), Result<Self, Self>> {
        if self.base.has_integrity() {
            return Err(Err(self));
        }
        let t: *const T = self.target();
        // SAFETY: The target stays alive until the bio is ended (type
        // invariant), so it is valid for this function; the raw pointer only
        // releases the borrow of `self`.
        let t = unsafe { &*t };
        // SAFETY: `alloc_clone`'s contract: the bio has no payload (checked
        // above); its segments stay valid until the clone is released: the
        // bio is not ended before that (only `clone_trampoline`, once the
        // clone is released, or this function, after releasing it, gives
        // the `Io` back), and device-mapper keeps a bio's segments until it
        // is ended.
        let clone = unsafe { t.bio_set().alloc_clone(t.device().bdev(), &self.base, wait) };
        let Ok(mut clone) = clone else {
            return Err(Ok(self));
        };
        clone.set_sector(sector);
        // SAFETY: `p` points to the initialised per-bio data, which only this
        // `Io` reaches (type invariant).
        let pb = unsafe { self.p.as_mut() };
        if let Some(tags) = pb.tags.as_ref() {
            // (A write's tags must be filled: an unfilled buffer holds
            // whatever kmalloc left there.)
            let len = match u32::try_from(tags.len()) {
                Ok(len) if !clone.is_write() || tags.is_filled() => Ok(len),
                _ => Err(kernel::error::code::EINVAL),
            };
            let attached = match len {
                // SAFETY: `attach_integrity`'s contract:
                // - the tags are `len` bytes of kmalloc memory (`TagBuf`'s
                //   invariant) in the per-bio data, which stays valid until
                //   the clone's I/O is over: the tags are replaced or dropped
                //   only with the `Io` (`set_tags`, `end`, `Drop`), which is
                //   given up below until the clone has completed, and nothing
                //   reaches them meanwhile;
                // - the clone has no payload (none was cloned: the bio has
                //   none) and is not in flight.
                Ok(len) => unsafe { clone.attach_integrity(tags.as_ptr(), len, sector, wait) },
                Err(e) => Err(e),
            };
            if let Err(e) = attached {
                clone.put();
                return Err(if e == kernel::error::code::ENOMEM {
                    Ok(self)
                } else {
                    Err(self)
                });
            }
        }
        pb.clone_fn = Some(done);
        // SAFETY: `set_end_io`'s contract:
        // - `clone_trampoline` may be called with this clone: it finds in
        //   `bi_private` the per-bio data, which holds its step (set just
        //   above);
        // - the per-bio data stays valid until it runs: it lives until the
        //   bio is ended, which only `done` or later can do.
        unsafe { clone.set_end_io(Some(Self::clone_trampoline), self.p.as_ptr().cast()) };
        self.submit_remap(clone);
        Ok(())
    }

    /// # Safety
    ///
    /// Called by the kernel as the completion of a clone set up by
    /// [`Self::submit_clone`] and submitted: the clone's I/O is over, and
    /// its private pointer is still the per-bio data of a base bio that is
    /// not ended, whose `Io` `submit_clone` gave up.
    unsafe extern "C" fn clone_trampoline(clone: *mut bindings::bio) {
        // SAFETY: `clone` is a valid bio whose I/O is over, and this
        // completion is its only holder (the caller's guarantee).
        let Some(clone) = (unsafe { Bio::from_raw(clone) }) else {
            return;
        };
        let p = clone.private().cast::<PerBio<T, S>>();
        let status = clone.status();
        if !clone.is_write() && status.is_ok() {
            // SAFETY: `bi_private` is what `submit_clone` set: the
            // initialised per-bio data of the base bio, which nothing else
            // reaches until the `Io` is rebuilt below.
            if let Some(tags) = unsafe { (*p).tags.as_mut() } {
                if clone.integrity_is(tags.as_ptr(), tags.len()) {
                    // SAFETY: `set_filled`'s contract: the tags, all of
                    // them, are the read's integrity payload (checked),
                    // which `attach_integrity` attached only as exactly the
                    // metadata of the clone's sectors on its device; the
                    // read completed without error, so the device below
                    // wrote that metadata, every byte of the tags.
                    unsafe { tags.set_filled() };
                }
            }
        }
        // The clone and its payload (not the tags) are freed; the base bio's
        // position never moved (the clone has its own).
        clone.put();
        // SAFETY: As above, `p` is the base bio's per-bio data.
        let (f, size) = unsafe { ((*p).clone_fn.take(), (*p).size) };
        let Some(f) = f else { return };
        // SAFETY: `p` is the start of the `size` bytes of per-bio data of a
        // bio device-mapper passed to a map function (type invariants of
        // the `Io` that `submit_clone` gave up): `dm_bio_from_per_bio_data`
        // steps over them to it.
        let base = unsafe { bindings::rcrypt_dm_bio_from_per_bio_data(p.cast(), size) };
        // SAFETY: `base` is the base bio `submit_clone` gave up, not ended;
        // this completion is now its only holder.
        if let (Some(p), Some(base)) = (NonNull::new(p), unsafe { Bio::from_raw(base) }) {
            // INVARIANT: The `Io` that `submit_clone` gave up, rebuilt as it
            // was.
            f(Io { p, base }, status);
        }
    }

    /// Hands the base bio over to `clone`'s completion (which rebuilds
    /// `Self`) and submits the clone through device-mapper, which then
    /// accounts the base bio's I/O to the mapped device, as for dm-crypt
    /// (the target sets `accounts_remapped_io`).
    ///
    /// `clone` is a buffer of this I/O ([`BufferedIo::submit`]) or a clone
    /// of its bio ([`Self::submit_clone`]), directed at the target's device.
    pub(super) fn submit_remap(self, clone: Bio) {
        let this = core::mem::ManuallyDrop::new(self);
        // SAFETY: `submit_remap`'s contract:
        // - the base bio came to the target's map function and is not ended
        //   (type invariant); `this` is neither used nor dropped again, so
        //   only the clone's completion, which rebuilds the `Io`, ends it;
        // - the clone is directed at the target's device (`with_buffer`,
        //   `submit_clone`), open until the target is destroyed, which waits
        //   for its bios.
        unsafe { clone.submit_remap(&this.base) };
    }

    /// Ends the bio with `status`.
    pub(crate) fn end(self, status: BlkStatus) {
        // SAFETY: `p` points to the per-bio data, whose state and tags are
        // initialised (type invariant) and dropped once, here: `take_base`
        // forgets `self`, so `Drop` does not drop them again. No buffer or
        // clone carries the tags any more: a `BufferedIo` holds the `Io`
        // until its buffer's I/O is over, and `submit_clone` gives it up
        // until its clone is released.
        unsafe {
            core::ptr::drop_in_place(core::ptr::addr_of_mut!((*self.p.as_ptr()).state));
            core::ptr::drop_in_place(core::ptr::addr_of_mut!((*self.p.as_ptr()).tags));
        }
        self.take_base().end(status);
    }

    fn take_base(self) -> Bio {
        let this = core::mem::ManuallyDrop::new(self);
        // SAFETY: `ptr::read` moves the bio out of `this`, which is neither
        // used nor dropped again.
        unsafe { core::ptr::read(&this.base) }
    }
}

/// An `Io` dropped without being ended or handed on fails its bio, so that
/// no bio is ever left hanging.
impl<T: IoTarget, S> Drop for Io<T, S> {
    fn drop(&mut self) {
        // SAFETY: `p` points to the per-bio data, whose state and tags are
        // initialised (type invariant) and not yet dropped: only this and
        // `end`, which does not run `Drop`, drop them. No buffer carries the
        // tags any more (as in `end`).
        unsafe {
            core::ptr::drop_in_place(core::ptr::addr_of_mut!((*self.p.as_ptr()).state));
            core::ptr::drop_in_place(core::ptr::addr_of_mut!((*self.p.as_ptr()).tags));
        }
        // SAFETY: `ptr::read` moves the bio out of `self`, which is not used
        // again (it is being dropped, and `Bio` has no destructor).
        let base = unsafe { core::ptr::read(&self.base) };
        base.end(BlkStatus::IOERR);
    }
}
