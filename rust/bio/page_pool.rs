// SPDX-License-Identifier: GPL-2.0

//! Write-buffer pages: a page pool ([`PagePool`]), its pages ([`PoolPage`])
//! and bios made of them ([`PoolBio`]).
//!
//! C headers: `include/linux/mempool.h`, `include/linux/gfp.h`. The pool's
//! accounting (dm-crypt's `n_allocated_pages`) is here, the cap shared by
//! all pools in [`super::clients`]; `rust/helpers/` only forwards.

use super::clients::CLIENTS;
use super::{Bio, BlkStatus, PageRef};
use crate::bindings;
use crate::blkdev::BlockDevice;
use core::ffi::c_void;
use core::marker::PhantomData;
use core::ptr::NonNull;
use core::sync::atomic::{AtomicIsize, Ordering};
use kernel::error::code::{EINVAL, ENOMEM};
use kernel::prelude::*;
use kernel::types::Opaque;

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
        if offset
            .checked_add(data.len())
            .map_or(true, |end| end > bindings::RCRYPT_PAGE_SIZE)
        {
            return false;
        }
        // SAFETY:
        // - `page_address` finds the page in the linear map: a pool page is
        //   from the page allocator, without `__GFP_HIGHMEM`;
        // - the page is the holder's (type invariant), `&mut self` lets
        //   nothing else use it, and the copy stays in it (checked);
        // - `data` is a Rust slice, not page memory of a pool page.
        unsafe {
            let base = bindings::rcrypt_page_address(self.page.as_ptr()).cast::<u8>();
            core::ptr::copy_nonoverlapping(data.as_ptr(), base.add(offset), data.len());
        }
        true
    }

    /// Copies bytes of the page at `offset` into `out`; false if out of range.
    #[cfg(CONFIG_KUNIT)]
    pub(crate) fn read(&self, offset: usize, out: &mut [u8]) -> bool {
        if offset
            .checked_add(out.len())
            .map_or(true, |end| end > bindings::RCRYPT_PAGE_SIZE)
        {
            return false;
        }
        // SAFETY:
        // - `page_address` finds the page in the linear map: a pool page is
        //   from the page allocator, without `__GFP_HIGHMEM`;
        // - the page is the holder's (type invariant), `&self` lets nothing
        //   write it, and the copy stays in it (checked);
        // - `out` is a Rust slice, not page memory of a pool page.
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
        PageRef {
            page: self.page.as_ptr(),
            offset,
            len,
            _holder: PhantomData,
        }
    }
}

/// The state of a [`PagePool`] that its mempool's callbacks reach through
/// the pool data pointer: dm-crypt's `page_pool` and `n_allocated_pages`.
///
/// # Invariants
///
/// Once [`PagePool::new`] has set it up, `pool` is a mempool initialised
/// with [`page_alloc`] and [`page_free`] and this value as their pool data,
/// `pages` counts every page the pool holds (the mempool's reserve, single
/// pages handed out, compound pages), and `peak` is the most `pages` was
/// raised to by a [`PoolInner::get`] that has returned. (The value never
/// moves: it lives pinned in its [`PagePool`].)
pub(crate) struct PoolInner {
    pool: Opaque<bindings::mempool_t>,
    pages: AtomicIsize,
    peak: AtomicIsize,
}

impl PoolInner {
    /// Counts `n` more pages; with `capped`, only if they keep the count
    /// within the cap in force ([`PagePool::cap`]). Exact where dm-crypt
    /// reads a `percpu_counter` that may be off by its batch per CPU: the
    /// check and the count are one read-modify-write, so the count never
    /// exceeds the cap in force when the pages were taken.
    ///
    /// Memory ordering: `Relaxed`. The count admits pages against a bound
    /// and is a statistic; the pages themselves pass between threads
    /// through the mempool and the page allocator, which order that, and
    /// the read-modify-write is exact whatever its ordering.
    fn get(&self, n: isize, capped: bool) -> bool {
        let cap = isize::try_from(CLIENTS.cap()).unwrap_or(isize::MAX);
        let Ok(old) = self
            .pages
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |cur| {
                cur.checked_add(n).filter(|&new| !capped || new <= cap)
            })
        else {
            return false;
        };
        // Raised only when exceeded: `fetch_max` would write the line even
        // when the peak stays, a locked write per page.
        let new = old.saturating_add(n);
        let mut peak = self.peak.load(Ordering::Relaxed);
        while new > peak {
            match self
                .peak
                .compare_exchange_weak(peak, new, Ordering::Relaxed, Ordering::Relaxed)
            {
                Ok(_) => break,
                Err(cur) => peak = cur,
            }
        }
        true
    }

    /// Counts `n` pages fewer (ordering: see [`Self::get`]).
    fn put(&self, n: isize) {
        self.pages.fetch_sub(n, Ordering::Relaxed);
    }
}

/// `crypt_page_alloc()`, the mempool's allocation function: a page if the
/// pool may hold one more. `mempool_alloc()` sets `__GFP_NORETRY` on every
/// call, and so is refused at the cap, to fall back on the reserve; the
/// reserve's own allocation (`mempool_init()`, `GFP_KERNEL`) is not.
///
/// # Safety
///
/// `data` is the pool data [`PagePool::new`] gave `mempool_init`: a
/// [`PoolInner`] that lives until its mempool is exited.
unsafe extern "C" fn page_alloc(gfp: bindings::gfp_t, data: *mut c_void) -> *mut c_void {
    // SAFETY: `data` points to a `PoolInner` that is alive for the call (the
    // caller's guarantee), which is only used through `&` (atomics).
    let inner = unsafe { &*data.cast::<PoolInner>() };
    if !inner.get(1, gfp & bindings::RCRYPT___GFP_NORETRY != 0) {
        return core::ptr::null_mut();
    }
    // SAFETY: `alloc_pages` needs an order of at most `MAX_PAGE_ORDER` (0
    // here) and a mask that fits the calling context: the one the mempool
    // passed, which its caller chose for its context.
    let page = unsafe { bindings::rcrypt_alloc_pages(gfp, 0) };
    if page.is_null() {
        inner.put(1);
    }
    page.cast()
}

/// `crypt_page_free()`, the mempool's free function.
///
/// # Safety
///
/// `data` is as for [`page_alloc`], and `page` a page [`page_alloc`]
/// returned for it that nothing uses any more.
unsafe extern "C" fn page_free(page: *mut c_void, data: *mut c_void) {
    // SAFETY: `__free_pages(page, 0)` needs a single page from the page
    // allocator that nothing uses: `page_alloc` allocated it with order 0,
    // and nothing uses it any more (the caller's guarantee).
    unsafe { bindings::__free_pages(page.cast(), 0) };
    // SAFETY: `data` points to a `PoolInner` that is alive for the call (the
    // caller's guarantee), which is only used through `&` (atomics).
    unsafe { &*data.cast::<PoolInner>() }.put(1);
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
/// each ([`super::clients::Clients`]). Beyond it a single page comes from the reserve
/// or, when waiting is allowed, once another write returns one.
///
/// # Invariants
///
/// `inner` is set up ([`PoolInner`]'s invariants hold), the pool counts
/// as one client in [`CLIENTS`], and its mempool is exited on drop.
pub(crate) struct PagePool {
    inner: Pin<KBox<PoolInner>>,
}

// SAFETY: A mempool is not tied to the thread that made it: any thread may
// allocate from it, free to it or exit it; the rest of the pool is atomics.
unsafe impl Send for PagePool {}
// SAFETY: `&PagePool` allocates and frees pages, which the mempool (with its
// own lock) and the page allocator allow from many threads at once.
unsafe impl Sync for PagePool {}

impl PagePool {
    /// A pool that keeps `min_nr` pages in reserve. It counts as one client
    /// of the shared cap until dropped.
    pub(crate) fn new(min_nr: u32) -> Result<Self> {
        let min_nr = i32::try_from(min_nr).map_err(|_| EINVAL)?;
        // `mempool_init()` wants a zeroed mempool.
        let inner = KBox::pin(
            PoolInner {
                pool: Opaque::new(bindings::mempool_t::default()),
                pages: AtomicIsize::new(0),
                peak: AtomicIsize::new(0),
            },
            GFP_KERNEL,
        )?;
        if !CLIENTS.update(true) {
            return Err(ENOMEM);
        }
        let data: *const PoolInner = &*inner;
        // SAFETY: `mempool_init` needs a zeroed mempool that stays in place
        // until `mempool_exit`, and callbacks valid for the pool data:
        // - the mempool is zeroed and pinned in `inner`, freed only after
        //   `drop` exits it, or here if this fails (freeing what it took);
        // - `page_alloc` and `page_free` are for `data`, this pinned
        //   `PoolInner`, which lives as long as the mempool.
        let r = unsafe {
            bindings::rcrypt_mempool_init(
                inner.pool.get(),
                min_nr,
                Some(page_alloc),
                Some(page_free),
                data.cast_mut().cast(),
            )
        };
        if r != 0 {
            // (A failed `mempool_init()` has freed what it allocated.)
            CLIENTS.update(false);
            return Err(ENOMEM);
        }
        // INVARIANT: Set up just above, and counted as a client.
        Ok(Self { inner })
    }

    /// The pool's identity, which [`PoolBio`] carries.
    fn id(&self) -> NonNull<PoolInner> {
        NonNull::from(&*self.inner)
    }

    /// A compound page of `2^order` pages if it keeps the pool within its
    /// cap and the page allocator has one at once (no waiting, no reclaim,
    /// no emergency reserves, no warning).
    pub(crate) fn try_alloc_large(&self, order: u32) -> Option<PoolPage> {
        if order == 0 || order > MAX_LARGE_ORDER {
            return None;
        }
        let n = 1isize << order;
        if !self.inner.get(n, true) {
            return None;
        }
        let gfp = bindings::RCRYPT_GFP_NOWAIT
            | bindings::RCRYPT___GFP_NOMEMALLOC
            | bindings::RCRYPT___GFP_NORETRY
            | bindings::RCRYPT___GFP_NOWARN
            | bindings::RCRYPT___GFP_COMP;
        // SAFETY: `alloc_pages` needs an order of at most `MAX_PAGE_ORDER`
        // (checked above) and a mask that fits the context: GFP_NOWAIT, any.
        let Some(page) = NonNull::new(unsafe { bindings::rcrypt_alloc_pages(gfp, order) }) else {
            self.inner.put(n);
            return None;
        };
        // INVARIANT: A fresh compound page of `order`, counted just above.
        Some(PoolPage { page, order })
    }

    /// A page without waiting (GFP_NOWAIT), or `None`.
    pub(crate) fn try_alloc(&self) -> Option<PoolPage> {
        self.alloc_single(bindings::RCRYPT_GFP_NOWAIT)
    }

    /// A page, waiting for one to come back to the pool if needed (GFP_NOIO:
    /// never fails).
    pub(crate) fn alloc(&self) -> Option<PoolPage> {
        self.alloc_single(bindings::RCRYPT_GFP_NOIO)
    }

    /// A single page from the mempool (its reserve beyond the cap).
    fn alloc_single(&self, gfp: bindings::gfp_t) -> Option<PoolPage> {
        // SAFETY: `mempool_alloc` needs an initialised mempool, which it is
        // until `drop` (type invariant). (The callers' masks, GFP_NOWAIT or
        // GFP_NOIO, are theirs to fit to their context.)
        let p = unsafe { bindings::rcrypt_mempool_alloc(self.inner.pool.get(), gfp) };
        // INVARIANT: A page of this pool's mempool, counted by `page_alloc`.
        NonNull::new(p.cast()).map(|page| PoolPage { page, order: 0 })
    }

    /// Returns a page to the pool (a compound page to the page allocator).
    /// (A page of another pool would be counted in the wrong pool.)
    pub(crate) fn free(&self, page: PoolPage) {
        // SAFETY: `free_raw`'s contract: a pool's single or compound page
        // (`PoolPage`'s invariant), the holder's, consumed here, so unused.
        // (Which pool only matters for the count.)
        unsafe { self.free_raw(page.page.as_ptr().cast()) };
    }

    /// Pages the pool holds now (reserve included).
    pub(crate) fn pages(&self) -> usize {
        usize::try_from(self.inner.pages.load(Ordering::Relaxed)).unwrap_or(0)
    }

    /// The most pages the pool held at once since it was created.
    pub(crate) fn peak(&self) -> usize {
        usize::try_from(self.inner.peak.load(Ordering::Relaxed)).unwrap_or(0)
    }

    /// The cap in force now (it shrinks as rcrypt targets are added).
    pub(crate) fn cap() -> usize {
        usize::try_from(CLIENTS.cap()).unwrap_or(usize::MAX)
    }

    /// Frees one buffer page: single pages go back to the mempool, compound
    /// ones to the page allocator (and leave the count).
    ///
    /// # Safety
    ///
    /// `page` is a single page from a pool's mempool or a compound page from
    /// [`Self::try_alloc_large`] (of this pool, for the count to be right),
    /// and nothing uses it any more.
    unsafe fn free_raw(&self, page: *mut bindings::page) {
        // SAFETY: The helper frees a compound page to the page allocator and
        // a single one to the mempool (of single pages), initialised until
        // `drop` (type invariant): `page` is one or the other, and unused
        // (the caller's guarantee).
        let n = unsafe { bindings::rcrypt_free_buffer_page(page, self.inner.pool.get()) };
        if n != 0 {
            self.inner.put(isize::try_from(n).unwrap_or(isize::MAX));
        }
    }

    /// Makes `bio` (fresh, without data, from [`super::BioSet::alloc_bio`]:
    /// [`Self::release`] puts it) a bio of pages from this pool.
    pub(crate) fn make_bio(&self, bio: Bio) -> Result<PoolBio, Bio> {
        if bio.raw().bi_vcnt != 0 {
            return Err(bio);
        }
        // INVARIANT: No bvec yet, not in flight (the holder's); a bio set's
        // (this function's contract), so not `embedded`.
        Ok(PoolBio {
            bio,
            pool: self.id(),
            embedded: false,
        })
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
        dev: BlockDevice<'_>,
        like: &Bio,
    ) -> Option<PoolBio> {
        let ptr = NonNull::new(bio)?;
        // The flag of bios from a per-CPU bio cache (which `bio_alloc_bioset`
        // also drops for a set without one): this bio belongs to no cache.
        let opf = like.raw().bi_opf & !bindings::RCRYPT_REQ_ALLOC_CACHE;
        // SAFETY: `bio_init` needs writable, aligned memory for a bio and
        // `nr_vecs` vectors that nothing else uses (the caller's guarantee),
        // and a valid block device, which `dev` is while borrowed
        // (`BlockDevice`'s invariant; the bio keeps it, see `Bio::set_dev`).
        unsafe { bindings::bio_init(ptr.as_ptr(), dev.as_ptr(), vecs, nr_vecs, opf) };
        // INVARIANT: A new bio without data, valid as long as the result (the
        // caller's guarantee); `embedded`: it came from `bio_init`.
        Some(PoolBio {
            bio: Bio { ptr },
            pool: self.id(),
            embedded: true,
        })
    }

    /// Returns the pages of `b` to this pool and releases the bio
    /// (`bio_put`, or `bio_uninit` for one from [`Self::init_embedded_bio`]).
    pub(crate) fn release(&self, b: PoolBio) {
        if b.pool == self.id() {
            let raw = b.bio.raw();
            for i in 0..usize::from(raw.bi_vcnt) {
                // SAFETY: `bi_io_vec` holds `bi_vcnt` initialised entries;
                // `free_raw`'s contract: entry `i` holds a page of the pool
                // `b.pool` (`PoolBio`'s invariant), this one (checked), that
                // nothing uses: the bio is not in flight and is freed below.
                unsafe { self.free_raw((*raw.bi_io_vec.add(i)).bv_page) };
            }
        } else {
            pr_err!("rcrypt: write buffer returned to the wrong pool; pages leaked\n");
        }
        if b.embedded {
            // SAFETY: `bio_uninit` needs a bio set up by `bio_init` and not in
            // flight: `embedded` says the former (`PoolBio`'s invariant), and
            // a `PoolBio` being released is not in flight. Its memory stays
            // its owner's.
            unsafe { bindings::bio_uninit(b.bio.as_ptr().cast()) };
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
/// `bio` is not in flight ([`Self::into_parts`] gives it up for that).
pub(crate) struct PoolBio {
    bio: Bio,
    pool: NonNull<PoolInner>,
    embedded: bool,
}

// SAFETY: The bio may go to any thread, as a `Bio` may; the pool pointer is
// only compared, never followed.
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
        if raw.bi_vcnt >= raw.bi_max_vecs || len as usize > bindings::RCRYPT_PAGE_SIZE << page.order
        {
            return Err(page);
        }
        // SAFETY: `__bio_add_page` needs a bio not in flight (type invariant)
        // with a free bvec and `len` bytes of the page (both checked), which
        // nothing else changes meanwhile (`PoolBio` is not `Sync`).
        unsafe { bindings::__bio_add_page(self.bio.as_ptr(), page.page.as_ptr(), len, 0) };
        // INVARIANT: The new bvec holds the `PoolPage`, from offset 0; it
        // goes back to the pool in `PagePool::release`.
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
    pub(crate) fn into_parts(self) -> (Bio, NonNull<PoolInner>, bool) {
        (self.bio, self.pool, self.embedded)
    }

    /// Rebuilds a pool bio from [`PoolBio::into_parts`].
    ///
    /// # Safety
    ///
    /// `bio` and `pool` must come from one `into_parts` call, and `embedded`
    /// must be what that call returned (or what a comparison of `bio` with
    /// the memory it was set up in says, as the buffer's completion does);
    /// `bio` is not in flight, and has no bvec added since.
    pub(crate) unsafe fn from_parts(bio: Bio, pool: NonNull<PoolInner>, embedded: bool) -> Self {
        // INVARIANT: The parts of a `PoolBio` (the caller's guarantee).
        Self {
            bio,
            pool,
            embedded,
        }
    }

    /// Completion status.
    pub(crate) fn status(&self) -> BlkStatus {
        self.bio.status()
    }
}

impl Drop for PagePool {
    fn drop(&mut self) {
        // SAFETY: `mempool_exit` needs an initialised mempool (type
        // invariant), exited once (here), whose pool data outlives the call
        // (`inner` is freed after this); pages handed out stay their holders'.
        unsafe { bindings::mempool_exit(self.inner.pool.get()) };
        // `crypt_dtr()`'s check: the reserve went with the mempool.
        if self.inner.pages.load(Ordering::Relaxed) != 0 {
            // SAFETY: `rcrypt_warn` prints a NUL-terminated string, valid for
            // the call, as the argument of a `%s`, not as the format.
            unsafe {
                bindings::rcrypt_warn(
                    c"rcrypt: write-buffer pages still held when the pool is destroyed"
                        .as_ptr()
                        .cast(),
                )
            };
        }
        if !CLIENTS.update(false) {
            // SAFETY: As just above: a NUL-terminated string, printed by `%s`.
            unsafe {
                bindings::rcrypt_warn(
                    c"rcrypt: a page pool left that was never counted"
                        .as_ptr()
                        .cast(),
                )
            };
        }
    }
}
