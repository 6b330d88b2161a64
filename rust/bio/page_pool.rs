// SPDX-License-Identifier: GPL-2.0

//! Write-buffer pages: a page pool ([`PagePool`]), its pages ([`PoolPage`])
//! and bios made of them ([`PoolBio`]).
//!
//! C headers: `include/linux/mempool.h`, `include/linux/gfp.h`.

use super::{Bio, BlkStatus, PageRef};
use crate::bindings;
use crate::dm::TargetDevice;
use core::marker::PhantomData;
use core::ptr::NonNull;
use kernel::error::code::{EINVAL, ENOMEM};
use kernel::prelude::*;

/// A buffer page of a [`PagePool`]: one page from its mempool (`order` 0)
/// or a compound page of `2^order` pages from the page allocator.
///
/// # Invariants
///
/// `page` is owned by the holder and counted in its pool's pages; with
/// `order > 0` it is the head of a compound page of that order.
pub(crate) struct PoolPage {
    page: NonNull<bindings::page>,
    order: u32,
}

/// Highest order of a compound buffer page (`MAX_PAGE_ORDER`).
pub(crate) const MAX_LARGE_ORDER: u32 = bindings::RCRYPT_MAX_PAGE_ORDER;

impl PoolPage {
    /// Bytes the page holds.
    pub(crate) fn size(&self) -> u32 {
        (bindings::RCRYPT_PAGE_SIZE << self.order) as u32
    }

    /// Copies `data` into the page at `offset`; false if it does not fit.
    #[cfg(CONFIG_KUNIT)]
    pub(crate) fn write(&mut self, offset: usize, data: &[u8]) -> bool {
        if offset.checked_add(data.len()).map_or(true, |end| end > bindings::RCRYPT_PAGE_SIZE) {
            return false;
        }
        // SAFETY: A pool page is a lowmem page we own; the range is inside it.
        unsafe {
            let base = bindings::rcrypt_page_address(self.page.as_ptr()).cast::<u8>();
            core::ptr::copy_nonoverlapping(data.as_ptr(), base.add(offset), data.len());
        }
        true
    }

    /// Copies bytes of the page at `offset` into `out`; false if out of range.
    #[cfg(CONFIG_KUNIT)]
    pub(crate) fn read(&self, offset: usize, out: &mut [u8]) -> bool {
        if offset.checked_add(out.len()).map_or(true, |end| end > bindings::RCRYPT_PAGE_SIZE) {
            return false;
        }
        // SAFETY: As in `write`.
        unsafe {
            let base = bindings::rcrypt_page_address(self.page.as_ptr()).cast::<u8>();
            core::ptr::copy_nonoverlapping(base.add(offset), out.as_mut_ptr(), out.len());
        }
        true
    }

    /// Where the page's data starts.
    #[cfg(CONFIG_KUNIT)]
    pub(crate) fn at(&self, offset: u32) -> PageRef<'_> {
        let size = bindings::RCRYPT_PAGE_SIZE as u32;
        let (offset, len) = (offset.min(size), size.saturating_sub(offset));
        // INVARIANT: The page is ours while borrowed; the range ends with it.
        PageRef { page: self.page.as_ptr(), offset, len, _holder: PhantomData }
    }
}

/// The pages of write buffers: a mempool of single pages, the reserve that
/// lets writes always make progress, and compound pages taken from the page
/// allocator when they come at once, as dm-crypt's `crypt_alloc_buffer()`
/// does (fewer allocations and bvecs for large writes).
///
/// Every page the pool holds (its reserve, single pages handed out,
/// compound pages) is counted, and no allocation that may fail takes the
/// count beyond the cap, dm-crypt's `dm_crypt_pages_per_client`: 2% of low
/// memory shared by all rcrypt targets, at least `BIO_MAX_VECS * 16` pages
/// each (`rust/helpers.c`). Beyond it a single page comes from the reserve
/// or, when waiting is allowed, once another write returns one.
///
/// # Invariants
///
/// `pool` is a valid `rcrypt_page_pool` of `rust/helpers.c`, destroyed on
/// drop.
pub(crate) struct PagePool {
    pool: NonNull<bindings::rcrypt_page_pool>,
}

// SAFETY: The C pool is thread-safe (a mempool and atomic counters).
unsafe impl Send for PagePool {}
// SAFETY: As above.
unsafe impl Sync for PagePool {}

impl PagePool {
    /// A pool that keeps `min_nr` pages in reserve. It counts as one client
    /// of the shared cap until dropped.
    pub(crate) fn new(min_nr: u32) -> Result<Self> {
        let min_nr = i32::try_from(min_nr).map_err(|_| EINVAL)?;
        // SAFETY: FFI call; returns null on failure.
        let p = unsafe { bindings::rcrypt_page_pool_create(min_nr) };
        // INVARIANT: A pool just created, or an error.
        Ok(Self { pool: NonNull::new(p).ok_or(ENOMEM)? })
    }

    /// A compound page of `2^order` pages if it keeps the pool within its
    /// cap and the page allocator has one at once (no waiting, no reclaim,
    /// no emergency reserves, no warning).
    pub(crate) fn try_alloc_large(&self, order: u32) -> Option<PoolPage> {
        if order == 0 || order > MAX_LARGE_ORDER {
            return None;
        }
        // SAFETY: The pool is valid; the order is at most `MAX_PAGE_ORDER`.
        let page = NonNull::new(unsafe { bindings::rcrypt_alloc_buffer_pages(self.pool.as_ptr(), order) })?;
        // INVARIANT: A fresh compound page of `order`, counted by the pool.
        Some(PoolPage { page, order })
    }

    /// A page without waiting (GFP_NOWAIT), or `None`.
    pub(crate) fn try_alloc(&self) -> Option<PoolPage> {
        // SAFETY: The pool is valid; GFP_NOWAIT does not sleep.
        let p = unsafe { bindings::rcrypt_page_pool_alloc(self.pool.as_ptr(), bindings::RCRYPT_GFP_NOWAIT) };
        NonNull::new(p).map(|page| PoolPage { page, order: 0 })
    }

    /// A page, waiting for one to come back to the pool if needed (GFP_NOIO:
    /// never fails).
    pub(crate) fn alloc(&self) -> Option<PoolPage> {
        // SAFETY: The pool is valid; GFP_NOIO may sleep.
        let p = unsafe { bindings::rcrypt_page_pool_alloc(self.pool.as_ptr(), bindings::RCRYPT_GFP_NOIO) };
        NonNull::new(p).map(|page| PoolPage { page, order: 0 })
    }

    /// Returns a page to the pool (a compound page to the page allocator).
    pub(crate) fn free(&self, page: PoolPage) {
        // SAFETY: The holder owned the page (`PoolPage` invariant).
        unsafe { self.free_raw(page.page.as_ptr()) };
    }

    /// Pages the pool holds now (reserve included).
    pub(crate) fn pages(&self) -> usize {
        // SAFETY: The pool is valid.
        unsafe { bindings::rcrypt_page_pool_pages(self.pool.as_ptr()) as usize }
    }

    /// The most pages the pool held at once since it was created.
    pub(crate) fn peak(&self) -> usize {
        // SAFETY: The pool is valid.
        unsafe { bindings::rcrypt_page_pool_peak(self.pool.as_ptr()) as usize }
    }

    /// The cap in force now (it shrinks as rcrypt targets are added).
    pub(crate) fn cap() -> usize {
        // SAFETY: FFI call without arguments.
        unsafe { bindings::rcrypt_pages_per_client_now() as usize }
    }

    /// Frees one buffer page: single pages go back to the mempool, compound
    /// ones to the page allocator (and leave the count).
    ///
    /// # Safety
    ///
    /// `page` is a page of this pool's mempool or, if compound, one from
    /// [`Self::try_alloc_large`] of this pool; nothing uses it any more.
    unsafe fn free_raw(&self, page: *mut bindings::page) {
        // SAFETY: The caller's guarantee.
        unsafe { bindings::rcrypt_free_buffer_page(page, self.pool.as_ptr()) };
    }

    /// Makes `bio` (fresh, without data) a bio of pages from this pool.
    pub(crate) fn make_bio(&self, bio: Bio) -> Result<PoolBio, Bio> {
        if bio.raw().bi_vcnt != 0 {
            return Err(bio);
        }
        Ok(PoolBio { bio, pool: self.pool, embedded: false })
    }

    /// Sets up a bio in memory the caller provides (`bio_init` with the
    /// `nr_vecs` vectors at `vecs`, no allocation) for `dev`, with the
    /// operation and flags of `like`, as a bio of pages from this pool.
    /// [`Self::release`] ends it with `bio_uninit`: such a bio is never
    /// `bio_put`.
    ///
    /// # Safety
    ///
    /// `bio` and `vecs` (`nr_vecs` entries) are writable, suitably aligned
    /// and used by nothing else, and stay valid for as long as the returned
    /// value exists and any I/O of it is in flight.
    pub(crate) unsafe fn init_embedded_bio(
        &self,
        bio: *mut bindings::bio,
        vecs: *mut bindings::bio_vec,
        nr_vecs: u16,
        dev: &TargetDevice,
        like: &Bio,
    ) -> Option<PoolBio> {
        let ptr = NonNull::new(bio)?;
        // The flag of bios from a per-CPU bio cache (which `bio_alloc_bioset`
        // also drops for a set without one): this bio belongs to no cache.
        let opf = like.raw().bi_opf & !bindings::RCRYPT_REQ_ALLOC_CACHE;
        // SAFETY: The caller's guarantee: the memory is ours and lives long
        // enough; the device is open for the target.
        unsafe { bindings::bio_init(ptr.as_ptr(), dev.bdev(), vecs, nr_vecs, opf) };
        // INVARIANT: A new bio without data, valid as long as the result (the
        // caller's guarantee); `embedded`: it came from `bio_init`.
        Some(PoolBio { bio: Bio { ptr }, pool: self.pool, embedded: true })
    }

    /// Returns the pages of `b` to this pool and releases the bio
    /// (`bio_put`, or `bio_uninit` for one from [`Self::init_embedded_bio`]).
    pub(crate) fn release(&self, b: PoolBio) {
        if b.pool == self.pool {
            let raw = b.bio.raw();
            for i in 0..usize::from(raw.bi_vcnt) {
                // SAFETY: `bi_io_vec` holds `bi_vcnt` valid entries; each page
                // came from this pool (`PoolBio` invariant, and `b.pool` is
                // this pool) and its I/O is over.
                unsafe { self.free_raw((*raw.bi_io_vec.add(i)).bv_page) };
            }
        } else {
            pr_err!("rcrypt: write buffer returned to the wrong pool; pages leaked\n");
        }
        if b.embedded {
            // SAFETY: Set up by `bio_init` (`embedded`, type invariant) and
            // its I/O is over; its memory is the caller's.
            unsafe { bindings::bio_uninit(b.bio.as_ptr()) };
        } else {
            b.bio.put();
        }
    }
}

/// A bio whose data pages all come from one [`PagePool`] (a write buffer).
///
/// # Invariants
///
/// Each bvec of `bio` holds one [`PoolPage`] of the pool `pool` (a single page or a compound page), from offset 0. With
/// `embedded`, `bio` was set up by `bio_init` in memory of its owner's
/// (see [`PagePool::init_embedded_bio`]), else it came from a bio set.
pub(crate) struct PoolBio {
    bio: Bio,
    pool: NonNull<bindings::rcrypt_page_pool>,
    embedded: bool,
}

// SAFETY: Like `Bio`; the pool pointer is only compared and passed to C.
unsafe impl Send for PoolBio {}

impl PoolBio {
    /// Appends `len` bytes of `page` as a bvec of its own (`__bio_add_page`,
    /// as dm-crypt's `crypt_alloc_buffer`: `bio_add_page` would merge
    /// contiguous pages into one bvec, and every page must stay findable to
    /// go back to the pool); gives the page back when the bio is full.
    ///
    /// (`&self`: the bio is C memory reached through a pointer, and
    /// `PoolBio` is not `Sync`, so no other thread adds at the same time.)
    pub(crate) fn add_page(&self, page: PoolPage, len: u32) -> Result<(), PoolPage> {
        let raw = self.bio.raw();
        if raw.bi_vcnt >= raw.bi_max_vecs || len as usize > bindings::RCRYPT_PAGE_SIZE << page.order {
            return Err(page);
        }
        // SAFETY: The bio has a free bvec slot (checked) and the page is valid;
        // the page now belongs to the bio and goes back to the pool in
        // `PagePool::release`.
        unsafe { bindings::__bio_add_page(self.bio.as_ptr(), page.page.as_ptr(), len, 0) };
        Ok(())
    }

    /// The bio.
    pub(crate) fn bio(&self) -> &Bio {
        &self.bio
    }

    /// The bio, to set it up for submission.
    pub(crate) fn bio_mut(&mut self) -> &mut Bio {
        &mut self.bio
    }

    /// Splits into the bio, the pool identity and whether the bio is
    /// embedded, to carry it through I/O.
    pub(crate) fn into_parts(self) -> (Bio, NonNull<bindings::rcrypt_page_pool>, bool) {
        (self.bio, self.pool, self.embedded)
    }

    /// Rebuilds a pool bio from [`PoolBio::into_parts`].
    ///
    /// # Safety
    ///
    /// `bio` and `pool` must come from one `into_parts` call, and `embedded`
    /// must be what that call returned (or what a comparison of `bio` with
    /// the memory it was set up in says, as the buffer's completion does).
    pub(crate) unsafe fn from_parts(bio: Bio, pool: NonNull<bindings::rcrypt_page_pool>, embedded: bool) -> Self {
        Self { bio, pool, embedded }
    }

    /// Completion status.
    pub(crate) fn status(&self) -> BlkStatus {
        self.bio.status()
    }
}

impl Drop for PagePool {
    fn drop(&mut self) {
        // SAFETY: The pool is valid and dropped once; every page was returned
        // when the target's I/O finished.
        unsafe { bindings::rcrypt_page_pool_destroy(self.pool.as_ptr()) };
    }
}
