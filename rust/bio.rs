// SPDX-License-Identifier: GPL-2.0

//! Block I/O requests (`struct bio`), bio sets and page pools.
//!
//! C headers: `include/linux/bio.h`, `include/linux/blk_types.h`; the page
//! pool of write buffers is in [`page_pool`].

use crate::bindings;
use crate::blkdev::BlockDevice;
use core::marker::PhantomData;
use core::ptr::NonNull;
use kernel::error::code::{EINVAL, ENOMEM};
use kernel::prelude::*;
use kernel::types::Opaque;

mod clients;
mod page_pool;
mod tag_pool;
pub(crate) use page_pool::{PagePool, PoolBio, PoolInner, PoolPage, MAX_LARGE_ORDER};
pub(crate) use tag_pool::{TagBuf, TagPool};

/// Completion status of a bio (`blk_status_t`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct BlkStatus(bindings::blk_status_t);

impl BlkStatus {
    /// Success (`BLK_STS_OK`).
    pub(crate) const OK: Self = Self(bindings::RCRYPT_BLK_STS_OK);
    /// I/O error (`BLK_STS_IOERR`).
    pub(crate) const IOERR: Self = Self(bindings::RCRYPT_BLK_STS_IOERR);
    /// Protection error (`BLK_STS_PROTECTION`): integrity data that does
    /// not verify.
    pub(crate) const PROTECTION: Self = Self(bindings::RCRYPT_BLK_STS_PROTECTION);

    /// Whether this is success.
    pub(crate) fn is_ok(self) -> bool {
        self == Self::OK
    }

    /// From the C value.
    pub(crate) fn from_raw(v: bindings::blk_status_t) -> Self {
        Self(v)
    }

    /// The C value.
    pub(crate) fn to_raw(self) -> bindings::blk_status_t {
        self.0
    }
}

/// The operation of a bio, as far as a target needs to tell them apart.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum BioOp {
    /// `REQ_OP_READ`.
    Read,
    /// `REQ_OP_WRITE`.
    Write,
    /// `REQ_OP_DISCARD`.
    Discard,
    /// A zone management operation, which carries no data
    /// (`op_is_zone_mgmt`: `REQ_OP_ZONE_RESET`, `_RESET_ALL`, `_OPEN`,
    /// `_CLOSE`, `_FINISH`).
    ZoneMgmt,
    /// Any other operation.
    Other,
}

/// A bio the holder is responsible for: it must be ended ([`Bio::end`]),
/// submitted ([`Bio::submit_remap`]), released ([`Bio::put`]) or given back to
/// device-mapper by the map function.
///
/// A `Bio` is either one device-mapper lent to a target's map function or
/// one this code allocated (from a [`BioSet`]); the type does not record
/// which. Operations that are only sound for one kind say so ([`Bio::put`],
/// [`crate::dm::Io::new`], [`crate::dm::Target::accept_partial_bio`]).
///
/// # Invariants
///
/// `ptr` points to a valid bio for as long as this value exists.
pub(crate) struct Bio {
    ptr: NonNull<bindings::bio>,
}

// SAFETY: A bio is not tied to a thread: the block layer lets any thread
// (or interrupt) complete, submit or release it.
unsafe impl Send for Bio {}

impl Bio {
    /// # Safety
    ///
    /// `ptr` must point to a valid bio the caller is responsible for.
    pub(crate) unsafe fn from_raw(ptr: *mut bindings::bio) -> Option<Self> {
        // INVARIANT: The caller's guarantee.
        Some(Self {
            ptr: NonNull::new(ptr)?,
        })
    }

    /// The raw pointer, for the other wrapper modules.
    pub(crate) fn as_ptr(&self) -> *mut bindings::bio {
        self.ptr.as_ptr()
    }

    fn raw(&self) -> &bindings::bio {
        // SAFETY: `ptr` is valid (type invariant), and the holder is
        // responsible for the bio: nothing else changes it while it is held.
        unsafe { self.ptr.as_ref() }
    }

    fn raw_mut(&mut self) -> &mut bindings::bio {
        // SAFETY: `ptr` is valid (type invariant), and the holder is
        // responsible for the bio: nothing else accesses it while it is
        // held, and `&mut self` is exclusive.
        unsafe { self.ptr.as_mut() }
    }

    /// The operation.
    pub(crate) fn op(&self) -> BioOp {
        // `bio_op()`, read here rather than called (once or twice per bio).
        match self.raw().bi_opf & bindings::RCRYPT_REQ_OP_MASK {
            bindings::req_op_REQ_OP_READ => BioOp::Read,
            bindings::req_op_REQ_OP_WRITE => BioOp::Write,
            bindings::req_op_REQ_OP_DISCARD => BioOp::Discard,
            bindings::req_op_REQ_OP_ZONE_RESET
            | bindings::req_op_REQ_OP_ZONE_RESET_ALL
            | bindings::req_op_REQ_OP_ZONE_OPEN
            | bindings::req_op_REQ_OP_ZONE_CLOSE
            | bindings::req_op_REQ_OP_ZONE_FINISH => BioOp::ZoneMgmt,
            _ => BioOp::Other,
        }
    }

    /// Whether the operation writes (`op_is_write`).
    pub(crate) fn is_write(&self) -> bool {
        // `op_is_write(bio_op())`: operations that carry data to the device
        // have odd numbers.
        self.raw().bi_opf & bindings::RCRYPT_REQ_OP_MASK & 1 != 0
    }

    /// Whether the bio carries `REQ_PREFLUSH`.
    pub(crate) fn is_preflush(&self) -> bool {
        self.raw().bi_opf & bindings::RCRYPT_REQ_PREFLUSH != 0
    }

    /// First sector (`bi_iter.bi_sector`).
    pub(crate) fn sector(&self) -> u64 {
        self.raw().bi_iter.bi_sector
    }

    /// Sets the first sector.
    pub(crate) fn set_sector(&mut self, sector: u64) {
        self.raw_mut().bi_iter.bi_sector = sector;
    }

    /// Size in bytes (`bi_iter.bi_size`).
    pub(crate) fn size(&self) -> u32 {
        self.raw().bi_iter.bi_size
    }

    /// Size in 512-byte sectors.
    pub(crate) fn sectors(&self) -> u32 {
        self.size() >> 9
    }

    /// Completion status (`bi_status`).
    pub(crate) fn status(&self) -> BlkStatus {
        BlkStatus(self.raw().bi_status)
    }

    /// Directs the bio at `dev` (`bio_set_dev`). The bio keeps the pointer
    /// past the borrow: its submitters promise that `dev` stays open until
    /// the bio completes ([`Self::submit_remap`]).
    pub(crate) fn set_dev(&mut self, dev: BlockDevice<'_>) {
        // SAFETY: `bio_set_dev` needs a valid bio, which the holder may
        // change (type invariant, `&mut self`), and a valid block device,
        // which `dev` is while borrowed (`BlockDevice`'s invariant).
        unsafe { bindings::rcrypt_bio_set_dev(self.ptr.as_ptr(), dev.as_ptr()) };
    }

    /// The current position of the bio's data, to walk it with [`BioCursor`].
    pub(crate) fn cursor(&self) -> BioCursor<'_> {
        // INVARIANT: The bio's own position, which lies within its data; the
        // cursor borrows the bio.
        BioCursor {
            iter: self.raw().bi_iter,
            bio: self.ptr.as_ptr(),
            _bio: PhantomData,
        }
    }

    /// The current position of the bio's data, kept to put back later with
    /// [`Self::restore_cursor`] (across the bio's submission).
    pub(crate) fn position(&self) -> SavedPosition {
        SavedPosition {
            iter: self.raw().bi_iter,
            bio: self.ptr.as_ptr(),
        }
    }

    /// Fills the scatterlist table at `sg` (room for `cap` entries) with
    /// the next `len` bytes at `cursor`, one entry per single-page segment,
    /// and moves the cursor past them; returns the number of entries, or
    /// `None` (cursor unmoved) if the bio holds fewer bytes there, they
    /// need more than `cap` entries or the cursor is not this bio's. The
    /// entries name the bio's pages: valid while the bio is borrowed.
    ///
    /// # Safety
    ///
    /// `sg` is valid for writes of `cap` scatterlist entries, used by
    /// nothing else meanwhile.
    pub(crate) unsafe fn fill_sg(
        &self,
        cursor: &mut BioCursor<'_>,
        len: u32,
        sg: *mut bindings::scatterlist,
        cap: u32,
    ) -> Option<u32> {
        if cursor.bio != self.ptr.as_ptr() {
            return None;
        }
        // SAFETY: The bio is valid (type invariant) and not changed
        // meanwhile (`&self`); the cursor is its own (checked), so it lies
        // within its data (`BioCursor`'s invariant), and the helper moves it
        // only past data the bio holds; `sg` has room for `cap` entries (the
        // caller's guarantee).
        let n = unsafe {
            bindings::rcrypt_bio_fill_sg(self.ptr.as_ptr(), &mut cursor.iter, len, sg, cap)
        };
        (n != 0).then_some(n)
    }

    /// Fills the scatterlist tables at `sg` and, with `out`, at `osg` (room
    /// for `cap` entries each) with the next bytes at `cursor` and at
    /// `out`'s cursor: as many as each bio holds in `cap` single-page
    /// segments, at most `max`, rounded down to whole sectors of `mask + 1`
    /// bytes; moves the cursors past them and returns their number and the
    /// number of their sectors that span entries of `sg`, or `None`
    /// (cursors unmoved) if that is not one sector or a cursor is not its
    /// bio's. The entries name the bios' pages: valid while the bios are
    /// borrowed.
    ///
    /// # Safety
    ///
    /// `sg`, and `osg` if `out` is given, are each valid for writes of `cap`
    /// scatterlist entries, used by nothing else meanwhile.
    pub(crate) unsafe fn fill_sg_batch(
        &self,
        cursor: &mut BioCursor<'_>,
        sg: *mut bindings::scatterlist,
        out: Option<(&Bio, &mut BioCursor<'_>, *mut bindings::scatterlist)>,
        max: u32,
        mask: u32,
        cap: u32,
    ) -> Option<(u32, u32)> {
        if cursor.bio != self.ptr.as_ptr() {
            return None;
        }
        let mut spread = 0;
        let (out_ptr, oiter, osg) = match out {
            Some((o, oc, osg)) if oc.bio == o.ptr.as_ptr() => {
                (o.ptr.as_ptr(), &mut oc.iter as *mut _, osg)
            }
            Some(_) => return None,
            None => (
                core::ptr::null_mut(),
                core::ptr::null_mut(),
                core::ptr::null_mut(),
            ),
        };
        // SAFETY: The bios are valid (type invariant) and not changed
        // meanwhile (`&self`, `&Bio`); each cursor is its own bio's
        // (checked), so it lies within that bio's data (`BioCursor`'s
        // invariant), and the helper moves each only past data its bio
        // holds; `sg`, and `osg` where `out_ptr` is not null, have room for
        // `cap` entries (the caller's guarantee); `oiter` and `osg` are
        // read only when `out_ptr` is not null; `spread` is a local.
        let n = unsafe {
            bindings::rcrypt_bio_fill_sg_batch(
                self.ptr.as_ptr(),
                &mut cursor.iter,
                sg,
                out_ptr,
                oiter,
                osg,
                max,
                mask,
                cap,
                &mut spread,
            )
        };
        (n != 0).then_some((n, spread))
    }

    /// [`Self::fill_sg`] into a table of its own of `cap` entries: the
    /// offset and length of each, for the KUnit tests.
    #[cfg(CONFIG_KUNIT)]
    pub(crate) fn sg_pieces(
        &self,
        cursor: &mut BioCursor<'_>,
        len: u32,
        cap: u32,
    ) -> Option<KVec<(u32, u32)>> {
        let mut sg = KVec::<bindings::scatterlist>::with_capacity(cap as usize, GFP_KERNEL).ok()?;
        // SAFETY: `sg` has room for `cap` entries, and is the call's alone.
        let n = unsafe { self.fill_sg(cursor, len, sg.as_mut_ptr(), cap) }?;
        let mut out = KVec::new();
        for i in 0..n as usize {
            // SAFETY: `fill_sg` initialised the first `n` entries, inside
            // the allocation of `cap >= n`.
            let e = unsafe { &*sg.as_ptr().add(i) };
            out.push((e.offset, e.length), GFP_KERNEL).ok()?;
        }
        Some(out)
    }

    /// The next run of whole sectors of `mask + 1` bytes (a power of two up
    /// to a page) at `cursor`, and at `out`'s cursor if given: as much of the
    /// current page of each bio as holds whole sectors, at most `max` bytes.
    /// Returns the run in this bio and in `out` (of the same length) and
    /// moves the cursors past it; `None` at the end of the data, where a
    /// segment holds less than a sector there (data not aligned to the
    /// sector), or if a cursor is not its bio's.
    pub(crate) fn next_run<'b>(
        &'b self,
        cursor: &mut BioCursor<'_>,
        out: Option<(&'b Bio, &mut BioCursor<'_>)>,
        max: u32,
        mask: u32,
    ) -> Option<(PageRef<'b>, Option<PageRef<'b>>)> {
        if cursor.bio != self.ptr.as_ptr() {
            return None;
        }
        let (mut page, mut offset) = (core::ptr::null_mut(), 0);
        let (mut opage, mut ooffset) = (core::ptr::null_mut(), 0);
        let (out_ptr, oiter) = match out {
            Some((o, oc)) if oc.bio == o.ptr.as_ptr() => (o.ptr.as_ptr(), &mut oc.iter as *mut _),
            Some(_) => return None,
            None => (core::ptr::null_mut(), core::ptr::null_mut()),
        };
        // SAFETY:
        // - the bios are valid (type invariant) and not changed meanwhile
        //   (`&self`, `&Bio`);
        // - each cursor is its own bio's (checked above), so it lies within
        //   that bio's data (`BioCursor`'s invariant): the helper reads the
        //   segments there and moves each cursor only past data they hold;
        // - the out pointers are locals, and `oiter` is null exactly when
        //   `out_ptr` is.
        let len = unsafe {
            bindings::rcrypt_bio_next_run(
                self.ptr.as_ptr(),
                &mut cursor.iter,
                out_ptr,
                oiter,
                max,
                mask,
                &mut page,
                &mut offset,
                &mut opage,
                &mut ooffset,
            )
        };
        if len == 0 {
            return None;
        }
        // INVARIANT: Each segment's page holds `len` bytes at its offset
        // while its bio (borrowed by the result) lives; the segments are
        // single-page (`bio_iter_iovec`), so `offset + len` is at most a page.
        let run = PageRef {
            page,
            offset,
            len,
            _holder: PhantomData,
        };
        let orun = (!out_ptr.is_null()).then_some(PageRef {
            page: opage,
            offset: ooffset,
            len,
            _holder: PhantomData,
        });
        Some((run, orun))
    }

    /// Ends the bio with `status` (`bio_endio`).
    pub(crate) fn end(mut self, status: BlkStatus) {
        self.raw_mut().bi_status = status.0;
        // SAFETY: `bio_endio` needs a valid bio not yet ended, which its
        // holder may end: `ptr` is valid (type invariant), the holder is
        // responsible for the bio, and `self` is consumed, so it is ended
        // once.
        unsafe { bindings::bio_endio(self.ptr.as_ptr()) };
    }

    /// Releases a bio this code allocated (`bio_put`). Only for a bio from
    /// [`BioSet::alloc_bio`] or [`BioSet::alloc_clone`]: one that
    /// device-mapper lent to a map function
    /// is device-mapper's to free (the type does not tell them apart).
    pub(crate) fn put(self) {
        // SAFETY: `bio_put` drops the holder's reference: `ptr` is valid (type
        // invariant), the bio is one this code allocated, whose reference
        // the holder owns (this method's contract), and `self` is consumed,
        // so it is dropped once.
        unsafe { bindings::bio_put(self.ptr.as_ptr()) };
    }

    /// Submits this clone of the device-mapper bio `base`, which a target's
    /// map function took over (`dm_submit_bio_remap`: device-mapper starts
    /// the I/O accounting of the mapped device for `base`, then submits).
    ///
    /// # Safety
    ///
    /// `base` is a bio that device-mapper passed to the target's map
    /// function, not yet ended; the device this bio is directed at stays
    /// open until it completes.
    pub(crate) unsafe fn submit_remap(self, base: &Bio) {
        // SAFETY: `dm_submit_bio_remap` needs `base` to be a bio being mapped
        // by a target, not ended, and the clone a valid bio directed at an
        // open device: `base` is (the caller's guarantee), the clone is valid
        // (type invariant) and directed at a device that stays open until it
        // completes (the caller's guarantee); `self` is consumed, so the
        // clone passes to the block layer.
        unsafe { bindings::dm_submit_bio_remap(base.ptr.as_ptr(), self.ptr.as_ptr()) };
    }

    /// Submits this bio, which device-mapper passed to a target's map
    /// function, itself rather than a clone of it (`dm_submit_bio_remap`
    /// with no target clone: device-mapper starts the I/O accounting of the
    /// mapped device for it, then submits it where `set_dev` directed it).
    ///
    /// # Safety
    ///
    /// This is a bio that device-mapper passed to the target's map
    /// function, not yet ended, with a completion callback that rejoins it
    /// with device-mapper's (see [`Self::set_end_io`]); the device it is
    /// directed at stays open until it completes.
    pub(crate) unsafe fn submit_remap_self(self) {
        // SAFETY: `dm_submit_bio_remap` with no clone needs a bio being mapped
        // by a target, not ended, directed at an open device, whose
        // completion ends up in device-mapper's: the caller's guarantee;
        // `self` is consumed, so the bio passes to the block layer.
        unsafe { bindings::dm_submit_bio_remap(self.ptr.as_ptr(), core::ptr::null_mut()) };
    }

    /// The completion callback and its private pointer, for a stacking
    /// driver that puts its own in place and restores these before it ends
    /// the bio (as dm-verity and dm-integrity do).
    pub(crate) fn end_io(&self) -> (bindings::bio_end_io_t, *mut core::ffi::c_void) {
        (self.raw().bi_end_io, self.raw().bi_private)
    }

    /// Moves the bio's position (`bi_iter`) back to `cursor`: a device
    /// below may consume it (a request's completion advances its bios to
    /// their end; a split advances the remainder).
    ///
    /// # Safety
    ///
    /// `cursor` was taken from this bio by [`Self::position`] while the bio
    /// had the segments it has now (segments are immutable once submitted,
    /// so the position lies within them). A position of another bio is
    /// ignored.
    pub(crate) unsafe fn restore_cursor(&mut self, cursor: &SavedPosition) {
        // (The write itself is safe; the contract keeps the position one
        // that `next_run` and the block layer may follow.)
        if cursor.bio == self.ptr.as_ptr() {
            self.raw_mut().bi_iter = cursor.iter;
        }
    }

    /// Sets the completion callback and its private pointer.
    ///
    /// # Safety
    ///
    /// `end_io` must be valid to call with this bio and `private` until it
    /// runs.
    pub(crate) unsafe fn set_end_io(
        &mut self,
        end_io: bindings::bio_end_io_t,
        private: *mut core::ffi::c_void,
    ) {
        let b = self.raw_mut();
        b.bi_end_io = end_io;
        b.bi_private = private;
    }

    /// The block device the bio is directed at (`bi_bdev`), for messages.
    pub(crate) fn bdev_ptr(&self) -> *mut bindings::block_device {
        self.raw().bi_bdev
    }

    /// The private pointer (`bi_private`).
    pub(crate) fn private(&self) -> *mut core::ffi::c_void {
        self.raw().bi_private
    }

    /// Copies the I/O priority of `other` (`bi_ioprio`).
    pub(crate) fn copy_ioprio(&mut self, other: &Bio) {
        self.raw_mut().bi_ioprio = other.raw().bi_ioprio;
    }

    /// Whether the bio carries an integrity payload (`REQ_INTEGRITY`).
    pub(crate) fn has_integrity(&self) -> bool {
        self.raw().bi_opf & bindings::RCRYPT_REQ_INTEGRITY != 0
    }

    /// Whether the bio's integrity payload is the one buffer of `len`
    /// bytes at `buf` (compared by address: nothing is read there).
    pub(crate) fn integrity_is(&self, buf: *const u8, len: usize) -> bool {
        let Ok(len) = u32::try_from(len) else {
            return false;
        };
        // SAFETY: The helper reads the payload of a valid bio (type
        // invariant), if it has one, and compares addresses only.
        unsafe { bindings::rcrypt_bio_integrity_is(self.as_ptr(), buf.cast(), len) }
    }

    /// Attaches an integrity payload of the `len` bytes at `buf`, seeded
    /// with `seed` (dm-crypt's `dm_crypt_integrity_io_alloc()`): the device
    /// below reads the bio's metadata from it or writes it there. `len`
    /// must be the size of the metadata of the bio's sectors on its device
    /// (`bio_integrity_bytes`), else `EINVAL`: a read that completes
    /// without error has then written every byte of the buffer. The
    /// payload comes from the bio's bio set if it has an integrity pool
    /// ([`BioSet::enable_integrity`]), waiting for one with `wait`
    /// (GFP_NOIO) and failing without (GFP_NOWAIT), else from kmalloc. The
    /// bio frees the payload (not the buffer) when it is freed.
    ///
    /// # Safety
    ///
    /// `buf` points to `len` bytes of kmalloc memory (physically
    /// contiguous, in the linear map) that stay valid, and that nothing
    /// else reads or writes while the bio is in flight, until the bio's
    /// I/O is over; the bio has no integrity payload yet and is not in
    /// flight.
    pub(crate) unsafe fn attach_integrity(
        &mut self,
        buf: *mut u8,
        len: u32,
        seed: u64,
        wait: bool,
    ) -> Result {
        let gfp = io_gfp(wait);
        // SAFETY: The helper allocates a payload for the bio, a valid bio
        // not in flight with none yet (type invariant; the caller's
        // guarantee), and adds `buf` to it, `len` bytes of kmalloc memory
        // that outlive the bio's I/O (the caller's guarantee).
        kernel::error::to_result(unsafe {
            bindings::rcrypt_bio_integrity_attach(self.as_ptr(), buf.cast(), len, seed, gfp)
        })
    }
}

/// A position in a bio's data (`struct bvec_iter`), with the bio it walks,
/// which it borrows.
///
/// # Invariants
///
/// `iter` lies within the data of the bio at `bio` (made by [`Bio::cursor`]
/// and moved only by [`Bio::next_run`], [`Bio::fill_sg`] and
/// [`Bio::fill_sg_batch`], which check that the cursor is the bio's own).
/// The cursor borrows that bio for `'b`, so the bio lives, and keeps its
/// segments, as long as the cursor: no bio made later at the same address
/// can pass the check.
pub(crate) struct BioCursor<'b> {
    iter: bindings::bvec_iter,
    bio: *const bindings::bio,
    _bio: PhantomData<&'b Bio>,
}

/// A bio's position (`struct bvec_iter`) kept across its submission, to put
/// back with [`Bio::restore_cursor`] (an `unsafe` function whose contract
/// says which bio and position it may be). It walks nothing.
pub(crate) struct SavedPosition {
    iter: bindings::bvec_iter,
    bio: *const bindings::bio,
}

// SAFETY: A saved position is a position; the bio pointer is only
// compared, never followed.
unsafe impl Send for SavedPosition {}

/// A range of data in page memory: `len` bytes at byte `offset` of `page`
/// (the offset may run past the first page: multi-page bvecs are physically
/// contiguous), borrowed from the bio or page that holds it.
///
/// # Invariants
///
/// The `len` bytes at `offset` from `page` are valid page memory for `'a`,
/// and `offset + len` does not overflow a `u32`.
#[derive(Clone, Copy)]
pub(crate) struct PageRef<'a> {
    page: *mut bindings::page,
    offset: u32,
    len: u32,
    _holder: PhantomData<&'a ()>,
}

impl<'a> PageRef<'a> {
    /// The first page.
    pub(crate) fn page(&self) -> *mut bindings::page {
        self.page
    }

    /// Byte offset from the first page.
    pub(crate) fn offset(&self) -> u32 {
        self.offset
    }

    /// Number of bytes.
    pub(crate) fn len(&self) -> u32 {
        self.len
    }

    /// The `len` bytes at `off` within this range, if it holds them.
    #[inline]
    pub(crate) fn sub(&self, off: u32, len: u32) -> Option<PageRef<'a>> {
        if off.checked_add(len)? > self.len {
            return None;
        }
        // `off <= self.len` and, by the invariant, `self.offset + self.len` fits a `u32`.
        #[allow(clippy::arithmetic_side_effects)]
        let offset = self.offset + off;
        // INVARIANT: A part of this range, valid for as long; it ends where
        // this range ends or before.
        Some(PageRef {
            page: self.page,
            offset,
            len,
            _holder: PhantomData,
        })
    }

    /// Copies the first `out.len()` bytes of the range into `out`.
    ///
    /// The memory may be shared with whoever issued the bio, so it is only
    /// ever copied, never borrowed as a Rust slice.
    pub(crate) fn read(&self, out: &mut [u8]) -> Result {
        if out.len() > self.len as usize {
            return Err(EINVAL);
        }
        let to = out.as_mut_ptr();
        for_each_in_page(self.offset as usize, out.len(), |at, done, n| {
            // SAFETY:
            // - the range is valid page memory for `'a` (type invariant) and
            //   holds `out.len()` bytes (checked): the `n` bytes at `at` are
            //   inside it and within one page, as `memcpy_from_page` needs;
            // - `done + n` is at most `out.len()`, so `to + done` is in `out`
            //   and writable for `n` bytes; `out` does not overlap the range,
            //   which is never borrowed as a Rust slice.
            unsafe { bindings::rcrypt_memcpy_from_page(to.add(done).cast(), self.page, at, n) };
        });
        Ok(())
    }

    /// Copies `data` over the first `data.len()` bytes of the range.
    pub(crate) fn write(&self, data: &[u8]) -> Result {
        if data.len() > self.len as usize {
            return Err(EINVAL);
        }
        let from = data.as_ptr();
        for_each_in_page(self.offset as usize, data.len(), |at, done, n| {
            // SAFETY:
            // - the range is valid page memory for `'a` (type invariant) and
            //   holds `data.len()` bytes (checked): the `n` bytes at `at` are
            //   inside it and within one page, as `memcpy_to_page` needs;
            //   page memory is never borrowed as a Rust slice, so writing it
            //   breaks no borrow;
            // - `done + n` is at most `data.len()`, so `from + done` is in
            //   `data` and readable for `n` bytes.
            unsafe { bindings::rcrypt_memcpy_to_page(self.page, at, from.add(done).cast(), n) };
        });
        Ok(())
    }
}

/// Splits the `len` bytes at byte `offset` of a range of pages at page
/// boundaries (`memcpy_from_page()` and its kin map one page at a time):
/// calls `f(at, done, n)` for each piece, `n` bytes at byte `at` that lie
/// within one page, `done` bytes after the first.
#[inline(always)]
fn for_each_in_page(offset: usize, len: usize, mut f: impl FnMut(usize, usize, usize)) {
    let page_size = bindings::RCRYPT_PAGE_SIZE;
    let mut done = 0;
    while done < len {
        // (No saturation: the callers' `offset + len` fits a `u32`.)
        let at = offset.saturating_add(done);
        // At least one byte (`at % page_size < page_size`, a power of two).
        let n = page_size
            .saturating_sub(at & (page_size.saturating_sub(1)))
            .min(len.saturating_sub(done));
        f(at, done, n);
        done = done.saturating_add(n);
    }
}

/// The allocation flags of the I/O path: GFP_NOIO where waiting is
/// allowed (`wait`), else GFP_NOWAIT (in `map`, where bios of the same set
/// may wait on the submitter's bio list).
fn io_gfp(wait: bool) -> bindings::gfp_t {
    if wait {
        bindings::RCRYPT_GFP_NOIO
    } else {
        bindings::RCRYPT_GFP_NOWAIT
    }
}

/// A bio set (`struct bio_set`) for clones and write buffers.
///
/// # Invariants
///
/// `bs` was initialised by `bioset_init` and is exited on drop; it lives in a
/// heap allocation that never moves.
pub(crate) struct BioSet {
    bs: KBox<Opaque<bindings::bio_set>>,
}

// SAFETY: A bio set is not tied to the thread that made it: any thread may
// allocate from it or exit it.
unsafe impl Send for BioSet {}
// SAFETY: `&BioSet` only allocates bios (`alloc_bio`, `alloc_clone`), which
// `bio_alloc_bioset` allows from any number of threads at once (its
// mempools have their own lock).
unsafe impl Sync for BioSet {}

impl BioSet {
    /// `bioset_init(bs, pool_size, 0, BIOSET_NEED_BVECS)`.
    pub(crate) fn new(pool_size: u32) -> Result<Self> {
        // bioset_init() expects zeroed memory (its mempools count from zero).
        let bs = KBox::new(Opaque::new(bindings::bio_set::default()), GFP_KERNEL)?;
        // SAFETY: `bioset_init` needs a zeroed `bio_set` that stays in place
        // until `bioset_exit`: `bs` is zeroed (`default`) and boxed, and the
        // box is neither moved out of nor freed before `drop` exits it. (A
        // failed `bioset_init` cleans up after itself.)
        let ret = unsafe {
            bindings::bioset_init(bs.get(), pool_size, 0, bindings::BIOSET_NEED_BVECS as i32)
        };
        kernel::error::to_result(ret)?;
        // INVARIANT: Initialised just above, in its box.
        Ok(Self { bs })
    }

    /// Gives the set a pool of integrity payloads
    /// (`bioset_integrity_create`), so that attaching tags to its bios
    /// ([`Bio::attach_integrity`]) waits for memory rather than fails.
    pub(crate) fn enable_integrity(&mut self, pool_size: u32) -> Result {
        let n = i32::try_from(pool_size).map_err(|_| EINVAL)?;
        // SAFETY: `bioset_integrity_create` needs an initialised bio set
        // with no bio allocated yet (`&mut self`: not shared, so none is):
        // `bs` is initialised until `drop` (type invariant); `bioset_exit`
        // frees the pools it adds.
        kernel::error::to_result(unsafe { bindings::bioset_integrity_create(self.bs.get(), n) })
    }

    /// A new bio for `dev` with room for `nr_vecs` pages and the flags of
    /// `like` (`bio_alloc_bioset`). With `wait` (GFP_NOIO) it waits for the
    /// pool and never fails; without (GFP_NOWAIT, for `map`, where bios of
    /// the same set may wait on the submitter's bio list) it may fail.
    pub(crate) fn alloc_bio(
        &self,
        dev: BlockDevice<'_>,
        nr_vecs: u16,
        like: &Bio,
        wait: bool,
    ) -> Result<Bio> {
        let gfp = io_gfp(wait);
        // SAFETY: `bio_alloc_bioset` needs an initialised bio set and a valid
        // block device (which the bio keeps: see `Bio::set_dev`): `bs` is
        // initialised until `drop` (type invariant), and `dev` is valid
        // while borrowed (`BlockDevice`'s invariant).
        let p = unsafe {
            bindings::bio_alloc_bioset(dev.as_ptr(), nr_vecs, like.raw().bi_opf, gfp, self.bs.get())
        };
        // SAFETY: `Bio::from_raw`'s contract: a non-null result is a new,
        // valid bio whose reference the caller owns.
        unsafe { Bio::from_raw(p) }.ok_or(ENOMEM)
    }

    /// A clone of `src` for `dev` (`bio_alloc_clone`): a new bio over the
    /// same segments (shared, not copied), at the same position, with the
    /// same flags and I/O priority. Waits for the pool with `wait` (GFP_NOIO)
    /// and may fail without (GFP_NOWAIT), as [`Self::alloc_bio`].
    ///
    /// # Safety
    ///
    /// `src` has no integrity payload, and its segments (the vector array
    /// and the pages it names) stay valid until the clone is released
    /// ([`Bio::put`]): the clone walks them, and so does the device it is
    /// submitted to.
    pub(crate) unsafe fn alloc_clone(
        &self,
        dev: BlockDevice<'_>,
        src: &Bio,
        wait: bool,
    ) -> Result<Bio> {
        let gfp = io_gfp(wait);
        // SAFETY: `bio_alloc_clone` needs an initialised bio set, a valid
        // block device and a valid source bio whose segments outlive the
        // clone: `bs` is initialised until `drop` (type invariant), `dev` is
        // valid while borrowed (`BlockDevice`'s invariant), `src` is valid
        // (its type invariant) and its segments outlive the clone (the
        // caller's guarantee). With no payload on `src` (the caller's
        // guarantee), none is cloned.
        let p =
            unsafe { bindings::bio_alloc_clone(dev.as_ptr(), src.as_ptr(), gfp, self.bs.get()) };
        // SAFETY: `Bio::from_raw`'s contract: a non-null result is a new,
        // valid bio whose reference the caller owns.
        unsafe { Bio::from_raw(p) }.ok_or(ENOMEM)
    }
}

impl Drop for BioSet {
    fn drop(&mut self) {
        // SAFETY: `bioset_exit` needs a set initialised by `bioset_init` (type
        // invariant), exited once (here), with all its bios freed: the
        // target that owns the set drops it only when it is destroyed, when
        // no bio of it is in flight and its write buffers are released.
        unsafe { bindings::bioset_exit(self.bs.get()) };
    }
}

/// A bio of kmalloc memory over page ranges, never submitted: what the
/// KUnit tests walk with [`Bio::next_run`] and [`Bio::fill_sg`].
///
/// # Invariants
///
/// `bio` was made by `rcrypt_test_bio_alloc` and is freed on drop; its
/// segments are ranges borrowed for `'a`.
#[cfg(CONFIG_KUNIT)]
pub(crate) struct TestBio<'a> {
    bio: Bio,
    _pages: PhantomData<&'a ()>,
}

#[cfg(CONFIG_KUNIT)]
impl<'a> TestBio<'a> {
    /// A bio whose data is `segs`, one segment each (each range within its
    /// first page); `None` if there are too many or the allocation fails.
    pub(crate) fn new(segs: &[PageRef<'a>]) -> Option<Self> {
        let nr = u16::try_from(segs.len()).ok()?;
        // SAFETY: No precondition: a new bio with room for `nr` segments,
        // or null.
        let ptr = unsafe { bindings::rcrypt_test_bio_alloc(nr) };
        // SAFETY: A valid bio, ours until `drop` frees it.
        let bio = unsafe { Bio::from_raw(ptr) }?;
        // INVARIANT: Made by `rcrypt_test_bio_alloc`; the segments added
        // below are ranges borrowed for `'a`.
        let t = TestBio {
            bio,
            _pages: PhantomData,
        };
        for s in segs {
            let page_size = bindings::RCRYPT_PAGE_SIZE as u32;
            if s.len == 0 || s.offset.checked_add(s.len)? > page_size {
                return None;
            }
            // SAFETY: The bio is valid and ours (type invariant); the page
            // range is valid for `'a` (`PageRef`'s invariant), which the
            // bio does not outlive.
            if !unsafe { bindings::rcrypt_test_bio_add(t.bio.as_ptr(), s.page, s.len, s.offset) } {
                return None;
            }
        }
        Some(t)
    }

    /// The bio.
    pub(crate) fn bio(&self) -> &Bio {
        &self.bio
    }
}

#[cfg(CONFIG_KUNIT)]
impl Drop for TestBio<'_> {
    fn drop(&mut self) {
        // SAFETY: Made by `rcrypt_test_bio_alloc`, never submitted, freed
        // once here (type invariant).
        unsafe { bindings::rcrypt_test_bio_free(self.bio.as_ptr()) };
    }
}
