// SPDX-License-Identifier: GPL-2.0

//! Requests of skcipher transforms (`struct skcipher_request`) or of AEAD
//! transforms (`struct aead_request`): a mempool of them with their
//! scatterlists, wait, IV and buffers ([`RequestPool`]), and one request
//! ([`Request`]).
//!
//! C headers: `include/crypto/skcipher.h`, `include/crypto/aead.h`,
//! `include/linux/mempool.h`.

use super::{Aead, Direction, Skcipher};
use crate::bindings;
use crate::bio::{Bio, BioCursor, PageRef};
use core::ptr::NonNull;
use core::sync::atomic::{AtomicU64, Ordering};
use kernel::error::{
    code::{EBUSY, EINVAL, EIO, ENOMEM},
    to_result,
};
use kernel::prelude::*;

/// A mempool of skcipher or AEAD requests ([`ReqKind`]), each with room for
/// its scatterlists, completion, IV, a small auxiliary buffer and optional
/// scratch space
/// (`mempool_create_kmalloc_pool`); the same layout can also be placed in a
/// caller's memory ([`RequestPool::get`]), with the pool as the fallback.
///
/// The auxiliary buffer ([`AUX_LEN`] bytes at least, and at least the IV
/// size) holds blocks an IV generator encrypts itself (eboiv's byte offset,
/// elephant's sector key); the scratch space holds a private copy of sector
/// data for generators that read or rewrite it (lmk, tcw, elephant). The IV
/// is zeroed when a request starts, both buffers when they are first used,
/// and again, if they were used, when the request is dropped.
///
/// # Invariants
///
/// `pool` is a valid kmalloc mempool of `size`-byte elements, destroyed on
/// drop. The offsets are those of [`RequestPool::layout`]: each area lies
/// inside the element, they do not overlap, and each is aligned for its
/// type in an element aligned for a `skcipher_request` and an
/// `aead_request` (offsets are multiples of 16; see `layout`); `bufs_len`
/// bytes from `aux_off` reach the element's end. The request area holds a
/// request of `kind` and fits any transform of that kind whose request
/// context is at most `reqsize` bytes; there are [`ReqKind::sg_count`]
/// scatterlists at `sg_off` (`2 * spread` of them if `spread` is not 0: two
/// tables of `spread` entries for [`Request::crypt_spread`]; `spread` is 0
/// or at least 2), and, for AEAD, the auxiliary buffer holds at least
/// `8 + MAX_AUTH_SIZE` bytes more than the IV.
pub(crate) struct RequestPool {
    pool: NonNull<bindings::mempool_t>,
    /// The sizes a request checks and hands out ([`Limits`]).
    lim: Limits,
    sg_off: usize,
    wait_off: usize,
    iv_off: usize,
    aux_off: usize,
    scratch_off: usize,
    /// Size of one element (request, scatterlists, wait, buffers).
    size: usize,
    /// Operations an asynchronous transform queued (`-EINPROGRESS`) or
    /// backlogged (`-EBUSY`), which the caller then waited for or left in
    /// flight.
    waits: AtomicU64,
}

/// `-EINPROGRESS`: an asynchronous transform queued the operation. (Error
/// numbers are small positive values: the negation never wraps.)
const QUEUED: i32 = (bindings::EINPROGRESS as i32).wrapping_neg();
/// `-EBUSY`: an asynchronous transform put the operation on its backlog.
const BACKLOGGED: i32 = (bindings::EBUSY as i32).wrapping_neg();

/// Least size of a request's auxiliary buffer: elephant's 16-byte block and
/// 32-byte sector key.
pub(crate) const AUX_LEN: usize = 48;

/// Bytes of the sector number that starts an AEAD request's associated data.
const AD_SECTOR_LEN: usize = 8;

/// The largest AEAD tag a request holds (`HASH_MAX_DIGESTSIZE`: an HMAC's
/// digest, the largest tag of `authenc`).
pub(crate) const MAX_AUTH_SIZE: usize = 64;

/// What a [`RequestPool`]'s requests are for.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum ReqKind {
    /// [`Skcipher`] transforms: a `skcipher_request`, source and
    /// destination scatterlists.
    Skcipher,
    /// [`Aead`] transforms: an `aead_request`, three scatterlists each for
    /// source and destination (associated data, data, tag); the auxiliary
    /// buffer holds the associated data.
    Aead,
}

impl ReqKind {
    /// Size of the request structure before the transform's context.
    fn request_size(self) -> usize {
        match self {
            ReqKind::Skcipher => core::mem::size_of::<bindings::skcipher_request>(),
            ReqKind::Aead => core::mem::size_of::<bindings::aead_request>(),
        }
    }

    /// Number of scatterlist entries of a request, with room for two
    /// tables of `spread` entries.
    fn sg_count(self, spread: usize) -> Option<usize> {
        match self {
            ReqKind::Skcipher => spread.checked_mul(2).map(|n| n.max(2)),
            ReqKind::Aead => Some(6),
        }
    }
}

// SAFETY: A mempool is not tied to the thread that made it: any thread may
// allocate from it, free to it or destroy it; the rest is plain numbers and
// an atomic counter.
unsafe impl Send for RequestPool {}
// SAFETY: `&RequestPool` allocates and frees elements, which a mempool (with
// its own lock) allows from any number of threads at once, and counts in an
// atomic.
unsafe impl Sync for RequestPool {}

/// Where the areas of a [`RequestPool`] element lie, in this order.
struct Layout {
    sg_off: usize,
    wait_off: usize,
    iv_off: usize,
    aux_off: usize,
    aux_len: usize,
    scratch_off: usize,
    size: usize,
}

/// The sizes a [`Request`] checks before each operation and slice: those
/// of its pool, or after it left an operation in flight ([`InFlight`]) all
/// zero ([`SPENT`]), so that every operation fails and every slice is empty
/// and nothing the request still offers reaches its element.
struct Limits {
    /// One more than the largest skcipher request context the requests
    /// fit: `reqsize + 1` for skcipher pools, 0 for AEAD pools (so that one
    /// comparison per operation checks both the kind and the size).
    skcipher_ctx_limit: usize,
    /// The same for AEAD requests (0 for skcipher pools).
    aead_ctx_limit: usize,
    /// Entries of each of the two scatterlist tables of
    /// [`Request::crypt_spread`] (0: none).
    spread: usize,
    iv_size: usize,
    aux_len: usize,
    scratch_len: usize,
    /// Bytes from the auxiliary buffer to the end of the scratch space
    /// (zeroed together).
    bufs_len: usize,
}

/// The limits of a request whose operation is in flight.
static SPENT: Limits = Limits {
    skcipher_ctx_limit: 0,
    aead_ctx_limit: 0,
    spread: 0,
    iv_size: 0,
    aux_len: 0,
    scratch_len: 0,
    bufs_len: 0,
};

/// Callback flags of a request that may sleep (waits for a queued
/// operation), and of one that may not ([`RequestPool::get_atomic`]; as
/// dm-crypt's, which never sleep in the transform).
const FLAGS_SLEEP: u32 = bindings::CRYPTO_TFM_REQ_MAY_BACKLOG | bindings::CRYPTO_TFM_REQ_MAY_SLEEP;
const FLAGS_ATOMIC: u32 = bindings::CRYPTO_TFM_REQ_MAY_BACKLOG;

/// An operation an asynchronous transform queued for a request that may
/// not wait ([`RequestPool::get_atomic`]): where it completes and what to
/// wipe once it has.
#[derive(Clone, Copy)]
struct Pending {
    /// The request's wait, which the operation completes.
    wait: NonNull<bindings::crypto_wait>,
    /// What the transform returned: `-EINPROGRESS` or `-EBUSY`.
    err: i32,
    /// The request's auxiliary buffer and scratch space, if it used them.
    bufs: NonNull<u8>,
    bufs_len: usize,
}

/// The record of an operation left in flight by a request that may not
/// wait, kept beside the request's area until [`InFlight::settle`] waits
/// for it (from the work queue).
///
/// # Invariants
///
/// If `op` is set, an operation may be in flight on a request in the area
/// this record belongs to ([`AtomicArea`]), whose wait and buffers `op`
/// points to; the area, and all the operation uses, stay valid and
/// untouched until `settle` (the contract of [`AtomicArea::new`]).
pub(crate) struct InFlight {
    op: core::cell::Cell<Option<Pending>>,
}

// SAFETY: The record is moved between threads with the I/O it belongs to
// (never shared: `Cell` keeps it `!Sync`); the pointers it holds are into
// that I/O's area and stay valid wherever the I/O goes.
unsafe impl Send for InFlight {}

impl InFlight {
    /// No operation in flight.
    pub(crate) const fn new() -> Self {
        Self {
            op: core::cell::Cell::new(None),
        }
    }

    /// Whether an operation was left in flight.
    pub(crate) fn is_set(&self) -> bool {
        // (`Pending` is `Copy`: a read of the cell.)
        self.op.get().is_some()
    }

    /// Waits for the operation left in flight, if any, wipes the buffers it
    /// used and forgets it: afterwards the area may be used again. Returns
    /// the operation's result (`Ok` if there was none). Process context
    /// only (it sleeps) when an operation is in flight.
    pub(crate) fn settle(&self) -> Result {
        let Some(op) = self.op.take() else {
            return Ok(());
        };
        // SAFETY: `crypto_wait_req` waits for the completion of the
        // operation that returned `err` on the request whose wait is
        // `wait`: that wait lies in the area, valid and untouched until now
        // (type invariant), initialised when the request started and
        // given to the operation. The caller's context may sleep (this
        // function's contract).
        let r = unsafe { bindings::rcrypt_crypto_wait_req(op.err, op.wait.as_ptr()) };
        if op.bufs_len != 0 {
            // SAFETY: The request's buffers, `bufs_len` bytes in the area
            // (type invariant), which the operation, now over, no longer
            // uses and no slice borrows: the request that handed them out
            // was spent when the operation was left in flight, and a spent
            // request hands out only empty slices (its limits are zero).
            unsafe { bindings::rcrypt_memzero_explicit(op.bufs.as_ptr().cast(), op.bufs_len) };
        }
        kernel::error::to_result(r)
    }
}

/// A request area (as for [`RequestPool::get`]) for a context that may not
/// sleep, with the record of an operation left in flight there.
///
/// # Invariants
///
/// Until `in_flight` is settled, the area, and every page range and
/// transform an operation started through it uses, stay valid and are
/// neither reused nor freed (the contract of [`Self::new`]).
pub(crate) struct AtomicArea<'a> {
    area: &'a mut [core::mem::MaybeUninit<u8>],
    in_flight: &'a InFlight,
}

impl<'a> AtomicArea<'a> {
    /// `area` with its record `in_flight`.
    ///
    /// # Safety
    ///
    /// `area` is in the kernel's linear map (kmalloc or slab memory, such
    /// as the per-bio data), as for [`RequestPool::get`]. If `in_flight` is
    /// set when `'a` ends, the caller settles it ([`InFlight::settle`])
    /// before the area, the page ranges and the transforms that operations
    /// through requests in this area were given are used otherwise
    /// (the pages neither read nor written), freed or (transforms)
    /// re-keyed; and it makes no `AtomicArea` of the same area with
    /// another record before then.
    pub(crate) unsafe fn new(
        area: &'a mut [core::mem::MaybeUninit<u8>],
        in_flight: &'a InFlight,
    ) -> Self {
        // INVARIANT: The caller's guarantee.
        Self { area, in_flight }
    }
}

/// `v` rounded up to a multiple of 16; `None` if that overflows.
fn align16(v: usize) -> Option<usize> {
    Some(v.checked_add(15)? & !15)
}

impl RequestPool {
    /// A pool keeping `min_nr` requests of `kind` for transforms whose
    /// request context is at most `reqsize` bytes ([`Skcipher::reqsize`],
    /// [`Aead::reqsize`]), with IVs of `iv_size` bytes and `scratch_len`
    /// bytes of scratch space; skcipher requests with a `spread` of 2 or
    /// more also take sectors of up to `spread` pieces in each direction
    /// ([`Request::crypt_spread`]).
    pub(crate) fn new(
        kind: ReqKind,
        min_nr: u32,
        reqsize: usize,
        iv_size: usize,
        scratch_len: usize,
        spread: usize,
    ) -> Result<Self> {
        let Layout {
            sg_off,
            wait_off,
            iv_off,
            aux_off,
            aux_len,
            scratch_off,
            size,
        } = Self::layout(kind, reqsize, iv_size, scratch_len, spread).ok_or(ENOMEM)?;
        let spread = match kind {
            ReqKind::Skcipher if spread >= 2 => spread,
            _ => 0,
        };
        let bufs_len = size.checked_sub(aux_off).ok_or(ENOMEM)?;
        let skcipher_ctx_limit = match kind {
            ReqKind::Skcipher => reqsize.checked_add(1).ok_or(ENOMEM)?,
            ReqKind::Aead => 0,
        };
        let aead_ctx_limit = match kind {
            ReqKind::Skcipher => 0,
            ReqKind::Aead => reqsize.checked_add(1).ok_or(ENOMEM)?,
        };
        // SAFETY: `mempool_create_kmalloc_pool` has no precondition: it
        // allocates and returns a new pool, or null.
        let pool = unsafe { bindings::rcrypt_mempool_create_kmalloc_pool(min_nr as i32, size) };
        // INVARIANT: A new kmalloc mempool of `size`-byte elements, with the
        // offsets of `layout`.
        Ok(Self {
            pool: NonNull::new(pool).ok_or(ENOMEM)?,
            lim: Limits {
                skcipher_ctx_limit,
                aead_ctx_limit,
                spread,
                iv_size,
                aux_len,
                scratch_len,
                bufs_len,
            },
            sg_off,
            wait_off,
            iv_off,
            aux_off,
            scratch_off,
            size,
            waits: AtomicU64::new(0),
        })
    }

    /// How many operations of this pool's requests were queued or
    /// backlogged by an asynchronous transform and waited for.
    pub(crate) fn async_waits(&self) -> u64 {
        self.waits.load(Ordering::Relaxed)
    }

    /// The layout of an element: offsets of the scatterlists, wait, IV,
    /// auxiliary buffer (and its length) and scratch space, and the size;
    /// `None` if the sizes overflow.
    ///
    /// Each offset is a multiple of 16, so each area is aligned as the
    /// element is, up to 16: an element is aligned for a `skcipher_request`
    /// and an `aead_request` (kmalloc aligns to `CRYPTO_MINALIGN`, the
    /// requests' alignment, and [`Self::get`] checks an area), which is at
    /// least as much as the scatterlists and the wait need (checked here at
    /// build time).
    fn layout(
        kind: ReqKind,
        reqsize: usize,
        iv_size: usize,
        scratch_len: usize,
        spread: usize,
    ) -> Option<Layout> {
        const {
            let req = core::mem::align_of::<bindings::skcipher_request>();
            assert!(req <= 16);
            assert!(core::mem::align_of::<bindings::aead_request>() == req);
            assert!(core::mem::align_of::<bindings::scatterlist>() <= req);
            assert!(core::mem::align_of::<bindings::crypto_wait>() <= req);
        };
        let req_len = kind.request_size().checked_add(reqsize)?;
        let sg_off = align16(req_len)?;
        let sg_len =
            core::mem::size_of::<bindings::scatterlist>().checked_mul(kind.sg_count(spread)?)?;
        let wait_off = align16(sg_off.checked_add(sg_len)?)?;
        let iv_off = align16(wait_off.checked_add(core::mem::size_of::<bindings::crypto_wait>())?)?;
        let aux_off = align16(iv_off.checked_add(iv_size.max(8))?)?;
        let aux_len = match kind {
            ReqKind::Skcipher => AUX_LEN.max(iv_size),
            ReqKind::Aead => AUX_LEN.max(iv_size.checked_add(AD_SECTOR_LEN + MAX_AUTH_SIZE)?),
        };
        let scratch_off = align16(aux_off.checked_add(aux_len)?)?;
        let size = scratch_off.checked_add(scratch_len)?;
        Some(Layout {
            sg_off,
            wait_off,
            iv_off,
            aux_off,
            aux_len,
            scratch_off,
            size,
        })
    }

    /// Bytes one request takes in a pool made with these arguments ([`Self::new`]):
    /// what [`Self::get`] needs in its `area` to place the request there
    /// (`usize::MAX` if the sizes overflow: no area is that large, and
    /// [`Self::new`] fails).
    pub(crate) fn element_size(
        kind: ReqKind,
        reqsize: usize,
        iv_size: usize,
        scratch_len: usize,
        spread: usize,
    ) -> usize {
        Self::layout(kind, reqsize, iv_size, scratch_len, spread).map_or(usize::MAX, |l| l.size)
    }

    /// A request, waiting for one to come back to the pool if needed
    /// (GFP_NOIO: never fails in process context).
    pub(crate) fn alloc(&self) -> Result<Request<'_>> {
        // SAFETY: `mempool_alloc` needs an initialised mempool, which `pool`
        // is until `drop` (type invariant). (GFP_NOIO may sleep: the caller's
        // context must allow it.)
        let p = unsafe {
            bindings::rcrypt_mempool_alloc(self.pool.as_ptr(), bindings::RCRYPT_GFP_NOIO)
        };
        let mem = NonNull::new(p.cast::<u8>()).ok_or(ENOMEM)?;
        // SAFETY: `init`'s contract: `mem` is a new element of this pool
        // (`size` bytes of kmalloc memory, aligned for a request: type
        // invariant), the request's until `Request::drop` frees it.
        Ok(unsafe { self.init(mem, true) })
    }

    /// A request laid out in `area` (dm-crypt keeps its request in the
    /// per-bio data: no pool round trip per bio) if the area is large
    /// enough and aligned for a request, else one from the pool ([`Self::alloc`]).
    ///
    /// `area` must be in the kernel's linear map (kmalloc or slab memory,
    /// such as the per-bio data; not the stack or vmalloc memory):
    /// [`Request::crypt_aux`] makes a scatterlist of it. The type does not
    /// say so.
    pub(crate) fn get<'a>(
        &'a self,
        area: &'a mut [core::mem::MaybeUninit<u8>],
    ) -> Result<Request<'a>> {
        let Some(p) = self.fits(area) else {
            return self.alloc();
        };
        // SAFETY: `init`'s contract: `area` holds `size` bytes aligned for a
        // request (`fits`), in the linear map (this function's contract),
        // borrowed by the request for `'a`, so the request's until it drops.
        Ok(unsafe { self.init(p, false) })
    }

    /// The start of `area` if it holds an element, aligned for a request.
    fn fits(&self, area: &mut [core::mem::MaybeUninit<u8>]) -> Option<NonNull<u8>> {
        let p = area.as_mut_ptr().cast::<u8>();
        // (Both request types have the same alignment: `layout`.)
        if area.len() < self.size
            || p.align_offset(core::mem::align_of::<bindings::skcipher_request>()) != 0
        {
            return None;
        }
        NonNull::new(p)
    }

    /// A request laid out in `area` for a context that may not sleep: its
    /// operations never sleep in the transform, and one that an
    /// asynchronous transform queues (`-EINPROGRESS`) or backlogs (`-EBUSY`)
    /// is not waited for but left in flight, recorded in the area's
    /// [`InFlight`] (the operation fails with `EINPROGRESS` and the request
    /// is spent: its later operations fail and its buffers are empty).
    /// `ENOMEM` if the area is too small or misaligned (there is no pool
    /// to fall back on without waiting), `EBUSY` if an operation is in
    /// flight there. In the linear map, as for [`Self::get`].
    pub(crate) fn get_atomic<'a>(&'a self, area: AtomicArea<'a>) -> Result<Request<'a>> {
        let AtomicArea { area, in_flight } = area;
        if in_flight.is_set() {
            return Err(EBUSY);
        }
        let p = self.fits(area).ok_or(ENOMEM)?;
        // SAFETY: `init`'s contract: `area` holds `size` bytes aligned for a
        // request (`fits`), in the linear map (the contract of
        // `AtomicArea::new`), borrowed by the request for `'a`, so the
        // request's until it drops; an operation it leaves in flight keeps
        // it past that, which `AtomicArea`'s invariant allows (nothing uses
        // the area until the record is settled).
        let mut req = unsafe { self.init(p, false) };
        req.flags = FLAGS_ATOMIC;
        req.in_flight = Some(in_flight);
        Ok(req)
    }

    /// Starts a request in `mem`, an element of this pool's layout.
    ///
    /// # Safety
    ///
    /// `mem` is valid for reads and writes of `size` bytes, aligned for a
    /// `skcipher_request`, in the linear map, and used by nothing but the
    /// request until it drops: a pool element if `pooled`, else memory
    /// borrowed for the request's lifetime.
    unsafe fn init(&self, mem: NonNull<u8>, pooled: bool) -> Request<'_> {
        // The wait, once initialised here, serves every operation of the
        // request (crypto_wait_req() re-arms it after waiting). The IV is
        // zeroed so that no uninitialised memory is ever read through it; the
        // other buffers are zeroed when first used (`Request::bufs`).
        // SAFETY: The wait and the IV lie inside the `size` bytes at `mem`,
        // which are writable and nobody else's (the caller's guarantee), at
        // offsets aligned for them (type invariant): `crypto_init_wait`
        // needs a writable `crypto_wait`, `write_bytes` writable bytes.
        unsafe {
            bindings::rcrypt_crypto_init_wait(mem.as_ptr().add(self.wait_off).cast());
            core::ptr::write_bytes(mem.as_ptr().add(self.iv_off), 0, self.lim.iv_size);
        }
        // INVARIANT: An element of this pool's layout, the request's until
        // it drops (the caller's guarantee); the IV is zeroed just above.
        Request {
            pool: self,
            lim: &self.lim,
            mem,
            pooled,
            bufs_used: false,
            flags: FLAGS_SLEEP,
            in_flight: None,
            _area: core::marker::PhantomData,
        }
    }
}

impl Drop for RequestPool {
    fn drop(&mut self) {
        // SAFETY: `mempool_destroy` needs a mempool whose elements have all
        // come back and that is destroyed once: every `Request` borrows the
        // pool and frees its element when dropped, so none is out now; this
        // is the pool's drop.
        unsafe { bindings::mempool_destroy(self.pool.as_ptr()) };
    }
}

/// One skcipher request laid out as a [`RequestPool`] says: from the pool
/// (`pooled`, returned to it on drop) or in a caller's area borrowed for
/// `'a`.
///
/// # Invariants
///
/// `mem` is an element of `pool`'s layout (a pool element if `pooled`, else
/// inside the borrowed area): `pool.size` bytes aligned for a
/// `skcipher_request`, in the linear map, used by nobody else until drop.
/// Its wait is initialised and its IV zeroed; its auxiliary buffer and
/// scratch space are initialised once `bufs_used` is set. No operation on
/// it is in flight outside its operations' calls, except one left in
/// flight by a request that may not wait: then `lim` is [`SPENT`] and the
/// operation is recorded in `in_flight`. A request that may not wait
/// (`in_flight` set) is never `pooled`.
pub(crate) struct Request<'a> {
    pool: &'a RequestPool,
    /// The pool's limits, or [`SPENT`] once an operation was left in flight.
    lim: &'a Limits,
    mem: NonNull<u8>,
    pooled: bool,
    /// The auxiliary buffer and scratch space were zeroed and handed out
    /// (and so are zeroed again on drop).
    bufs_used: bool,
    /// Callback flags of the operations (`CRYPTO_TFM_REQ_*`).
    flags: u32,
    /// For a request that may not wait ([`RequestPool::get_atomic`]): where
    /// an operation it leaves in flight is recorded.
    in_flight: Option<&'a InFlight>,
    _area: core::marker::PhantomData<&'a mut [core::mem::MaybeUninit<u8>]>,
}

/// The caller-visible buffers of a [`Request`].
pub(crate) struct RequestBufs<'r> {
    /// The IV (`iv_size` bytes), used by the next operation.
    pub(crate) iv: &'r mut [u8],
    /// The auxiliary buffer ([`Request::crypt_aux`] works on it).
    pub(crate) aux: &'r mut [u8],
    /// The scratch space.
    pub(crate) scratch: &'r mut [u8],
}

impl Request<'_> {
    /// The IV buffer (`iv_size` bytes), filled by the caller before [`Self::crypt`].
    #[inline]
    pub(crate) fn iv_mut(&mut self) -> &mut [u8] {
        // SAFETY: The IV's `iv_size` bytes at `iv_off` lie inside the
        // element, are initialised and are nobody else's (type invariants),
        // and `&mut self` makes the slice the only way to them while it
        // lives.
        unsafe {
            core::slice::from_raw_parts_mut(
                self.mem.as_ptr().add(self.pool.iv_off),
                self.lim.iv_size,
            )
        }
    }

    /// The IV buffer as 16 bytes, if that is its size (the hot path writes
    /// it as one 128-bit value).
    #[inline(always)]
    pub(crate) fn iv16_mut(&mut self) -> Option<&mut [u8; 16]> {
        if self.lim.iv_size != 16 {
            return None;
        }
        // SAFETY: The IV's `iv_size` bytes at `iv_off`, 16 (checked), lie
        // inside the element, are initialised and are nobody else's (type
        // invariants); `[u8; 16]` needs no alignment, and `&mut self` makes
        // the reference the only way to them while it lives.
        Some(unsafe { &mut *self.mem.as_ptr().add(self.pool.iv_off).cast::<[u8; 16]>() })
    }

    /// Zeroes the auxiliary buffer and scratch space the first time they are
    /// used (most IV generators never touch them).
    fn use_bufs(&mut self) {
        if !self.bufs_used {
            let p = self.pool;
            // SAFETY: The `bufs_len` bytes from `aux_off` (none once spent),
            // the auxiliary buffer and the scratch space, lie inside the
            // element (they end with it), which is writable and nobody
            // else's (type invariants); no slice of them is borrowed
            // (`&mut self`).
            unsafe {
                core::ptr::write_bytes(self.mem.as_ptr().add(p.aux_off), 0, self.lim.bufs_len)
            };
            // INVARIANT: Initialised just above.
            self.bufs_used = true;
        }
    }

    /// The IV, auxiliary and scratch buffers at once.
    pub(crate) fn bufs(&mut self) -> RequestBufs<'_> {
        self.use_bufs();
        let (p, lim) = (self.pool, self.lim);
        let base = self.mem.as_ptr();
        // SAFETY: The three areas lie inside the element and do not overlap
        // (type invariant of the pool), are initialised (`use_bufs` above and
        // the type invariant) and are nobody else's (type invariant); `&mut
        // self` makes the slices the only way to them while they live.
        unsafe {
            RequestBufs {
                iv: core::slice::from_raw_parts_mut(base.add(p.iv_off), lim.iv_size),
                aux: core::slice::from_raw_parts_mut(base.add(p.aux_off), lim.aux_len),
                scratch: core::slice::from_raw_parts_mut(base.add(p.scratch_off), lim.scratch_len),
            }
        }
    }

    /// Runs the cipher over `len` bytes from `src` into `dst` (which may be
    /// the same place) with the IV buffer, and waits for the result;
    /// `EINVAL` if a range holds fewer than `len` bytes, the pool's
    /// requests are not skcipher requests or `tfm` needs a larger request
    /// context or IV than the pool's. (Always inlined: it
    /// runs once per sector, and as a call it cost about 30 instructions
    /// per sector in `make icount`.)
    #[inline(always)]
    pub(crate) fn crypt(
        &mut self,
        tfm: &Skcipher,
        dir: Direction,
        src: PageRef<'_>,
        dst: PageRef<'_>,
        len: u32,
    ) -> Result {
        if src.len() < len
            || dst.len() < len
            || tfm.reqsize() >= self.lim.skcipher_ctx_limit
            || tfm.ivsize > self.lim.iv_size
        {
            return Err(EINVAL);
        }
        let (req, sg, wait, iv) = self.areas();
        // SAFETY: The helper sets up the two scatterlists and the request and
        // starts the operation, which reads `src` and writes `dst`:
        // - the request, scatterlists, wait and IV lie inside the element,
        //   aligned, and are nobody else's (type invariants); the request
        //   area fits `tfm`'s context and the IV `tfm`'s (both checked), and
        //   the wait is initialised (type invariant);
        // - `tfm` is a valid transform, borrowed for the call;
        // - each page range holds `len` bytes of page memory for its borrow
        //   (checked, and `PageRef`'s invariant), which Rust code never
        //   borrows as a slice;
        // - all of it stays valid until the operation completes: `finish`
        //   waits for an operation the transform queued.
        let err = unsafe {
            bindings::rcrypt_skcipher_crypt_pages(
                req,
                tfm.tfm.as_ptr(),
                sg,
                src.page(),
                src.offset(),
                dst.page(),
                dst.offset(),
                len,
                iv,
                wait,
                self.op(dir),
            )
        };
        self.finish(err)
    }

    /// Runs the cipher over the next `len` bytes of `src` at its cursor into
    /// the next `len` bytes of `dst` at its cursor (in place without `dst`),
    /// through scatterlists of as many pieces as the bytes span (a sector
    /// spread over bio vectors), with the IV buffer, and waits for the
    /// result; moves the cursors past the bytes. `EIO` if a bio holds fewer
    /// bytes there or they span more pieces than the pool's requests have
    /// room for; `EINVAL` as [`Self::crypt`]. After an error either cursor
    /// may have moved (the caller abandons the walk; each stays within its
    /// bio's data).
    pub(crate) fn crypt_spread(
        &mut self,
        tfm: &Skcipher,
        dir: Direction,
        src: (&Bio, &mut BioCursor<'_>),
        dst: Option<(&Bio, &mut BioCursor<'_>)>,
        len: u32,
    ) -> Result {
        let in_place = dst.is_none();
        // SAFETY: `crypt_tables`' contract: the closure returns `Some` only
        // when `fill_sg` made the first table, and for `dst` the second,
        // `len` bytes of the pages of a bio borrowed for this call, ending
        // with an end marker. `fill_sg` needs `cap` writable entries at each
        // table it fills, which `crypt_tables` passes.
        unsafe {
            self.crypt_tables(tfm, dir, in_place, |sg, otab, cap| {
                src.0.fill_sg(src.1, len, sg, cap)?;
                if let Some((b, c)) = dst {
                    b.fill_sg(c, len, otab, cap)?;
                }
                Some((len, ()))
            })
        }
        .map(|_| ())
    }

    /// Runs the cipher over the next bytes of `src` at its cursor into the
    /// same number at `dst`'s cursor (in place without `dst`), with the IV
    /// buffer, through scatterlists of as many single-page pieces as the
    /// pool's tables hold: whole sectors of `mask + 1` bytes, at most `max`
    /// ([`Bio::fill_sg_batch`]); waits for the result, moves the cursors
    /// past the bytes and returns their number and that of their sectors
    /// that span pieces of `src`. For a cipher whose output
    /// does not depend on the sector: one request over many pages. `EIO` if
    /// that is not one sector; `EINVAL` as [`Self::crypt_spread`]. After an
    /// error the cursors may have moved, as there.
    pub(crate) fn crypt_batch(
        &mut self,
        tfm: &Skcipher,
        dir: Direction,
        src: (&Bio, &mut BioCursor<'_>),
        dst: Option<(&Bio, &mut BioCursor<'_>)>,
        max: u32,
        mask: u32,
    ) -> Result<(u32, u32)> {
        let in_place = dst.is_none();
        // SAFETY: `crypt_tables`' contract: `fill_sg_batch` returns `Some`
        // only when it made the first table, and for `dst` the second, the
        // returned number of bytes of the pages of a bio borrowed for this
        // call, ending with an end marker; it needs `cap` writable entries
        // at each table it fills, which `crypt_tables` passes.
        unsafe {
            self.crypt_tables(tfm, dir, in_place, |sg, otab, cap| {
                src.0
                    .fill_sg_batch(src.1, sg, dst.map(|(b, c)| (b, c, otab)), max, mask, cap)
            })
        }
    }

    /// Runs the cipher with the IV buffer from the request's first
    /// scatterlist table into its second (into the first if `in_place`),
    /// once `fill` has made them, and waits for the result. `fill` gets the
    /// two tables (`cap` entries each, writable, nobody else's) and returns
    /// the number of bytes it put in them and a value passed back, or
    /// `None` (`EIO`). `EINVAL` if the pool's requests have no tables, are
    /// not skcipher requests or `tfm` needs a larger request context or IV
    /// than the pool's.
    ///
    /// # Safety
    ///
    /// `fill` returns `Some((len, _))` only if it made the first table, and
    /// unless `in_place` the second, a scatterlist of `len` bytes of page
    /// memory that stays valid and is borrowed by no Rust slice until this
    /// call returns, ending with an end marker.
    unsafe fn crypt_tables<R>(
        &mut self,
        tfm: &Skcipher,
        dir: Direction,
        in_place: bool,
        fill: impl FnOnce(
            *mut bindings::scatterlist,
            *mut bindings::scatterlist,
            u32,
        ) -> Option<(u32, R)>,
    ) -> Result<(u32, R)> {
        let cap = self.lim.spread;
        if cap == 0 || tfm.reqsize() >= self.lim.skcipher_ctx_limit || tfm.ivsize > self.lim.iv_size
        {
            return Err(EINVAL);
        }
        let (req, sg, wait, iv) = self.areas();
        // SAFETY: The pool's requests have two tables of `cap` scatterlist
        // entries at `sg` (`spread` is not 0: type invariant), so `add`
        // stays inside the element.
        let otab = unsafe { sg.add(cap) };
        // `cap` is a small count of entries (`layout` multiplied it by the
        // entry size without overflow).
        let cap32 = u32::try_from(cap).map_err(|_| EINVAL)?;
        // The tables lie inside the element and are nobody else's (type
        // invariants).
        let (len, r) = fill(sg, otab, cap32).ok_or(EIO)?;
        let dtab = if in_place { sg } else { otab };
        // SAFETY: The helper sets up the request and starts the operation,
        // which reads the bytes the first table names and writes those the
        // second (or the first) names:
        // - the request, tables, wait and IV lie inside the element,
        //   aligned, and are nobody else's (type invariants); the request
        //   area fits `tfm`'s context and the IV `tfm`'s (both checked),
        //   and the wait is initialised (type invariant);
        // - `tfm` is a valid transform, borrowed for the call;
        // - `fill` made each table `len` bytes of page memory valid and
        //   borrowed by no slice until this call returns, ending with an
        //   end marker (the caller's guarantee);
        // - all of it stays valid until the operation completes: `finish`
        //   waits for an operation the transform queued.
        let err = unsafe {
            bindings::rcrypt_skcipher_crypt_sg(
                req,
                tfm.tfm.as_ptr(),
                sg,
                dtab,
                len,
                iv,
                wait,
                self.op(dir),
            )
        };
        self.finish(err)?;
        Ok((len, r))
    }

    /// Runs the cipher in place over the first `len` bytes of the auxiliary
    /// buffer with the IV buffer, and waits for the result; `EINVAL` if the
    /// buffer is shorter, the pool's requests are not skcipher requests or
    /// `tfm` needs a larger request context or IV than the pool's.
    pub(crate) fn crypt_aux(&mut self, tfm: &Skcipher, dir: Direction, len: u32) -> Result {
        if len as usize > self.lim.aux_len
            || tfm.reqsize() >= self.lim.skcipher_ctx_limit
            || tfm.ivsize > self.lim.iv_size
        {
            return Err(EINVAL);
        }
        self.use_bufs();
        let (req, sg, wait, iv) = self.areas();
        // SAFETY: `add` needs the offset to stay inside the element's
        // allocation, which `aux_off` does (type invariant).
        let aux = unsafe { self.mem.as_ptr().add(self.pool.aux_off) };
        // SAFETY: `sg_init_one` sets up a writable scatterlist entry (the two
        // at `sg` lie inside the element and are nobody else's: type
        // invariants) for `len` bytes of memory in the linear map: the
        // auxiliary buffer holds at least `len` bytes (checked) inside the
        // element, which is in the linear map (type invariant).
        unsafe {
            bindings::sg_init_one(sg, aux.cast(), len);
            bindings::sg_init_one(sg.add(1), aux.cast(), len);
        }
        // SAFETY: The helper sets up the request and starts the operation,
        // in place on the auxiliary buffer:
        // - the request, scatterlists (set up just above), wait and IV lie
        //   inside the element, aligned, and are nobody else's (type
        //   invariants); the request area fits `tfm`'s context and the IV
        //   `tfm`'s (both checked), and the wait is initialised;
        // - `tfm` is a valid transform, borrowed for the call;
        // - no slice of the auxiliary buffer is borrowed (`&mut self`);
        // - all of it stays valid until the operation completes: `finish`
        //   waits for an operation the transform queued.
        let err = unsafe {
            bindings::rcrypt_skcipher_run(req, tfm.tfm.as_ptr(), sg, len, iv, wait, self.op(dir))
        };
        self.finish(err)
    }

    /// One sector of dm-crypt's AEAD layout (`crypt_convert_block_aead()`):
    /// with `sector` (little-endian) and the IV buffer as associated data,
    /// encrypts `len` bytes from `src` into `dst` (which may be the same
    /// place) and writes the tag into `tag`, or decrypts them and checks
    /// `tag` (`EBADMSG` if it does not verify); waits for the result. The
    /// IV buffer holds the IV (the associated data keeps a copy: the
    /// transform may change the IV buffer), and the tag goes through the
    /// auxiliary buffer after it (so that an operation left in flight uses
    /// no memory but the request's and the pages; an encryption left in
    /// flight writes no tag into `tag`: its caller starts over). `EINVAL` if a range
    /// holds fewer than `len` bytes, `tag` is shorter than `tfm`'s tag size
    /// or that is over [`MAX_AUTH_SIZE`], the pool's requests are not AEAD
    /// requests or `tfm` needs a larger request context or IV than the
    /// pool's.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn aead_crypt(
        &mut self,
        tfm: &Aead,
        dir: Direction,
        sector: u64,
        src: PageRef<'_>,
        dst: PageRef<'_>,
        len: u32,
        tag: &mut [u8],
    ) -> Result {
        let tag_size = tfm.auth_size();
        let tag_len = u32::try_from(tag_size).map_err(|_| EINVAL)?;
        if src.len() < len
            || dst.len() < len
            || tag.len() < tag_size
            || tag_size > MAX_AUTH_SIZE
            || tfm.reqsize() >= self.lim.aead_ctx_limit
            || tfm.iv_size() > self.lim.iv_size
        {
            return Err(EINVAL);
        }
        // The associated data: the sector, then a copy of the IV; then the tag.
        let ad_len = self.lim.iv_size.checked_add(AD_SECTOR_LEN).ok_or(EINVAL)?;
        let tag_end = ad_len.checked_add(tag_size).ok_or(EINVAL)?;
        let b = self.bufs();
        let ad = b.aux.get_mut(..tag_end).ok_or(EINVAL)?;
        let (ad, aux_tag) = ad.split_at_mut(ad_len);
        let (ad_sector, ad_iv) = ad.split_at_mut(AD_SECTOR_LEN);
        ad_sector.copy_from_slice(&sector.to_le_bytes());
        ad_iv.copy_from_slice(b.iv);
        let theirs = tag.get_mut(..tag_size).ok_or(EINVAL)?;
        if dir == Direction::Decrypt {
            aux_tag.copy_from_slice(theirs);
        }
        let (req, sg, wait, iv) = self.areas();
        // SAFETY: `add` needs the offsets to stay inside the element's
        // allocation: the auxiliary buffer, which holds `tag_end` bytes
        // (`get_mut` above), does (type invariant).
        let (ad, aux_tag) = unsafe {
            let ad = self.mem.as_ptr().add(self.pool.aux_off);
            (ad, ad.add(ad_len))
        };
        // SAFETY: The helper sets up the six scatterlists and the request
        // and starts the operation, which reads the associated data, `src`
        // and (decrypting) the tag, and writes `dst` and (encrypting) the tag:
        // - the request, the six scatterlists (an AEAD pool's: checked),
        //   the wait and the IV lie inside the element, aligned, and are
        //   nobody else's (type invariants); the request area fits `tfm`'s
        //   context and the IV `tfm`'s (both checked), and the wait is
        //   initialised (type invariant);
        // - the associated data and the tag, `tag_end` bytes of the
        //   auxiliary buffer (which holds them: `get_mut` above), lie in
        //   the element, in the linear map (type invariant), and no slice
        //   of them is borrowed any more;
        // - `tfm` is a valid transform, borrowed for the call;
        // - each page range holds `len` bytes of page memory for its borrow
        //   (checked, and `PageRef`'s invariant), which Rust code never
        //   borrows as a slice;
        // - all of it stays valid until the operation completes: `finish`
        //   waits for an operation the transform queued, or, for a request
        //   that may not wait, records it where the `AtomicArea`'s owner
        //   waits for it before any of it is used again.
        let err = unsafe {
            bindings::rcrypt_aead_crypt_pages(
                req.cast(),
                tfm.as_ptr(),
                sg,
                ad,
                u32::try_from(ad_len).map_err(|_| EINVAL)?,
                src.page(),
                src.offset(),
                dst.page(),
                dst.offset(),
                len,
                aux_tag,
                tag_len,
                iv,
                wait,
                self.op(dir),
            )
        };
        self.finish(err)?;
        if dir == Direction::Encrypt {
            let b = self.bufs();
            let aux_tag = b.aux.get(ad_len..tag_end).ok_or(EINVAL)?;
            tag.get_mut(..tag_size)
                .ok_or(EINVAL)?
                .copy_from_slice(aux_tag);
        }
        Ok(())
    }

    /// The run helpers' `op` for `dir`: the callback flags and the direction.
    #[inline(always)]
    fn op(&self, dir: Direction) -> u32 {
        match dir {
            Direction::Encrypt => self.flags | bindings::RCRYPT_OP_ENCRYPT,
            Direction::Decrypt => self.flags,
        }
    }

    /// Whether the request lies in a caller's area rather than in a pool element.
    pub(crate) fn in_area(&self) -> bool {
        !self.pooled
    }

    /// The request, its two scatterlists, its wait and its IV.
    fn areas(
        &mut self,
    ) -> (
        *mut bindings::skcipher_request,
        *mut bindings::scatterlist,
        *mut bindings::crypto_wait,
        *mut u8,
    ) {
        let base = self.mem.as_ptr();
        let p = self.pool;
        // SAFETY: `add` needs each offset to stay inside the element's
        // allocation: each offset lies inside the element (type invariant).
        unsafe {
            (
                base.cast(),
                base.add(p.sg_off).cast(),
                base.add(p.wait_off).cast(),
                base.add(p.iv_off),
            )
        }
    }

    /// The result `err` of an operation just started on this request: if an
    /// asynchronous transform queued it (`-EINPROGRESS`) or backlogged it
    /// (`-EBUSY`), counts it and waits for it (`crypto_wait_req()`), or for
    /// a request that may not wait, records it in flight and spends the
    /// request (`EINPROGRESS`).
    #[inline(always)]
    fn finish(&mut self, err: i32) -> Result {
        // (`to_result` is a call per sector; success needs none.)
        if err == 0 {
            return Ok(());
        }
        let err = if err == QUEUED || err == BACKLOGGED {
            self.pool.waits.fetch_add(1, Ordering::Relaxed);
            let (_, _, wait, _) = self.areas();
            if let Some(in_flight) = self.in_flight {
                return Err(self.leave_in_flight(in_flight, wait, err));
            }
            // SAFETY: `crypto_wait_req` waits on the wait the operation
            // completes (through `crypto_req_done`): `wait` lies inside the
            // element, is initialised and is nobody else's (type
            // invariants), and the operation just started was given it;
            // the request and its buffers stay valid meanwhile (`&mut self`).
            unsafe { bindings::rcrypt_crypto_wait_req(err, wait) }
        } else {
            err
        };
        if err == 0 {
            Ok(())
        } else {
            to_result(err)
        }
    }

    /// Records the operation just queued on this request (which may not
    /// wait) in `in_flight` and spends the request; returns `EINPROGRESS`.
    #[cold]
    fn leave_in_flight(
        &mut self,
        in_flight: &InFlight,
        wait: *mut bindings::crypto_wait,
        err: i32,
    ) -> Error {
        let p = self.pool;
        let bufs_len = if self.bufs_used { self.lim.bufs_len } else { 0 };
        // SAFETY: `add` stays inside the element's allocation (`aux_off`
        // lies in it: type invariant); the element's address is not null,
        // nor is one inside it, and `wait` is one (`areas`).
        let (wait, bufs) = unsafe {
            (
                NonNull::new_unchecked(wait),
                NonNull::new_unchecked(self.mem.as_ptr().add(p.aux_off)),
            )
        };
        // INVARIANT (of `InFlight`): the operation is in flight on this
        // request, in the area of the `AtomicArea` the request came from,
        // whose wait and buffers these are.
        in_flight.op.set(Some(Pending {
            wait,
            err,
            bufs,
            bufs_len,
        }));
        // Nothing this request offers reaches the element any more: every
        // check fails against zero limits, every slice is empty, and its
        // drop wipes nothing (`settle` does, once the operation is over).
        self.lim = &SPENT;
        Error::from_errno((bindings::EINPROGRESS as i32).wrapping_neg())
    }
}

impl Drop for Request<'_> {
    fn drop(&mut self) {
        let p = self.pool;
        // Key-derived blocks and sector data must not linger in the pool or
        // the per-bio data (untouched buffers are still zero or were never
        // initialised).
        if self.bufs_used {
            // SAFETY: The `bufs_len` bytes from `aux_off`, the auxiliary buffer
            // and the scratch space, lie inside the element, which is
            // writable and nobody else's until it is freed below (type
            // invariants); no slice of them is borrowed (this is the drop).
            unsafe {
                bindings::rcrypt_memzero_explicit(
                    self.mem.as_ptr().add(p.aux_off).cast(),
                    self.lim.bufs_len,
                )
            };
        }
        if self.pooled {
            // SAFETY: `mempool_free` needs an element of this pool that
            // nothing uses any more: `mem` is one (`pooled`, type invariant),
            // freed once, here, and no operation on it is in flight (type
            // invariant: a pooled request waits for every operation; only
            // one that may not wait, never pooled, leaves one in flight).
            unsafe { bindings::mempool_free(self.mem.as_ptr().cast(), self.pool.pool.as_ptr()) };
        }
    }
}
