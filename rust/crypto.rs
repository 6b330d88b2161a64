// SPDX-License-Identifier: GPL-2.0

//! Kernel crypto API: symmetric key ciphers (`struct crypto_skcipher`).
//!
//! C header: `include/crypto/skcipher.h`.

use crate::bindings;
use core::ptr::NonNull;
use crate::bio::PageRef;
use kernel::error::{code::{EINVAL, ENOMEM}, from_err_ptr, to_result};
use kernel::prelude::*;
use core::ffi::CStr;

/// An allocated skcipher transform.
///
/// # Invariants
///
/// `tfm` is a transform from `crypto_alloc_skcipher`, freed only on drop.
pub(crate) struct Skcipher {
    tfm: NonNull<bindings::crypto_skcipher>,
}

// SAFETY: A transform may be used and freed from any thread; mutation
// (`set_key`) needs `&mut self`.
unsafe impl Send for Skcipher {}
// SAFETY: Shared use only reads the transform's immutable properties.
unsafe impl Sync for Skcipher {}

impl Skcipher {
    /// Allocates the transform `name` (a crypto API name such as `xts(aes)`).
    pub(crate) fn new(name: &CStr, type_: u32, mask: u32) -> Result<Self> {
        // SAFETY: `name` is a valid NUL-terminated string for the call.
        let p = from_err_ptr(unsafe { bindings::crypto_alloc_skcipher(name.as_ptr().cast(), type_, mask) })?;
        let tfm = NonNull::new(p).ok_or(ENOMEM)?;
        Ok(Self { tfm })
    }

    /// Sets the key (`crypto_skcipher_setkey`).
    pub(crate) fn set_key(&mut self, key: &[u8]) -> Result {
        let len = u32::try_from(key.len()).map_err(|_| EINVAL)?;
        // SAFETY: `tfm` is valid by the invariant; `key` is readable for `len` bytes.
        to_result(unsafe { bindings::crypto_skcipher_setkey(self.tfm.as_ptr(), key.as_ptr(), len) })
    }

    /// Sets the key of a transform that may be shared.
    ///
    /// # Safety
    ///
    /// No request may use the transform during the call.
    unsafe fn set_key_unshared(&self, key: &[u8]) -> Result {
        let len = u32::try_from(key.len()).map_err(|_| EINVAL)?;
        // SAFETY: `tfm` is valid; the caller guarantees no concurrent request.
        to_result(unsafe { bindings::crypto_skcipher_setkey(self.tfm.as_ptr(), key.as_ptr(), len) })
    }

    /// IV size in bytes.
    pub(crate) fn iv_size(&self) -> usize {
        // SAFETY: `tfm` is valid by the invariant.
        unsafe { bindings::rcrypt_skcipher_ivsize(self.tfm.as_ptr()) as usize }
    }

    /// Block size in bytes.
    pub(crate) fn block_size(&self) -> usize {
        // SAFETY: `tfm` is valid by the invariant.
        unsafe { bindings::rcrypt_skcipher_blocksize(self.tfm.as_ptr()) as usize }
    }
}

impl Drop for Skcipher {
    fn drop(&mut self) {
        // SAFETY: `tfm` came from `crypto_alloc_skcipher` and is freed once.
        unsafe { bindings::rcrypt_skcipher_free(self.tfm.as_ptr()) };
    }
}

/// Direction of a cipher operation.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Direction {
    /// Encrypt (writes).
    Encrypt,
    /// Decrypt (reads).
    Decrypt,
}

/// A mempool of skcipher requests for one transform type, each with room
/// for its scatterlists, completion and IV (`mempool_create_kmalloc_pool`).
///
/// # Invariants
///
/// `pool` is a valid kmalloc mempool of `size`-byte elements, destroyed on
/// drop; the offsets lie inside an element and are suitably aligned.
pub(crate) struct RequestPool {
    pool: NonNull<bindings::mempool_t>,
    sg_off: usize,
    wait_off: usize,
    iv_off: usize,
    iv_size: usize,
}

// SAFETY: Mempools are thread-safe.
unsafe impl Send for RequestPool {}
// SAFETY: As above.
unsafe impl Sync for RequestPool {}

const fn align_up(v: usize, a: usize) -> usize {
    (v + a - 1) & !(a - 1)
}

impl RequestPool {
    /// A pool keeping `min_nr` requests for transforms like `tfm`, with IVs of
    /// `iv_size` bytes.
    pub(crate) fn new(min_nr: u32, tfm: &Skcipher, iv_size: usize) -> Result<Self> {
        // SAFETY: `tfm` is valid.
        let reqsize = unsafe { bindings::rcrypt_skcipher_reqsize(tfm.tfm.as_ptr()) } as usize;
        let req_len = core::mem::size_of::<bindings::skcipher_request>() + reqsize;
        let sg_off = align_up(req_len, 16);
        let wait_off = align_up(sg_off + 2 * core::mem::size_of::<bindings::scatterlist>(), 16);
        let iv_off = align_up(wait_off + core::mem::size_of::<bindings::crypto_wait>(), 16);
        let size = iv_off + iv_size.max(8);
        // SAFETY: FFI call; returns null on failure.
        let pool = unsafe { bindings::rcrypt_mempool_create_kmalloc_pool(min_nr as i32, size) };
        Ok(Self {
            pool: NonNull::new(pool).ok_or(ENOMEM)?,
            sg_off,
            wait_off,
            iv_off,
            iv_size,
        })
    }

    /// A request, waiting for one to come back to the pool if needed
    /// (GFP_NOIO: never fails in process context).
    pub(crate) fn alloc(&self) -> Result<Request<'_>> {
        // SAFETY: The pool is valid; GFP_NOIO may sleep.
        let p = unsafe { bindings::rcrypt_mempool_alloc(self.pool.as_ptr(), bindings::RCRYPT_GFP_NOIO) };
        let mem = NonNull::new(p.cast::<u8>()).ok_or(ENOMEM)?;
        Ok(Request { pool: self, mem })
    }
}

impl Drop for RequestPool {
    fn drop(&mut self) {
        // SAFETY: Every request went back to the pool (`Request` is borrowed
        // from the pool, so none outlives it).
        unsafe { bindings::mempool_destroy(self.pool.as_ptr()) };
    }
}

/// One skcipher request from a [`RequestPool`], returned to it on drop.
///
/// # Invariants
///
/// `mem` is an element of `pool` laid out as the pool describes.
pub(crate) struct Request<'a> {
    pool: &'a RequestPool,
    mem: NonNull<u8>,
}

impl Request<'_> {
    /// The IV buffer (`iv_size` bytes), filled by the caller before [`Self::crypt`].
    pub(crate) fn iv_mut(&mut self) -> &mut [u8] {
        // SAFETY: The IV area lies inside the element (type invariant) and is
        // only reachable through `&mut self`.
        unsafe { core::slice::from_raw_parts_mut(self.mem.as_ptr().add(self.pool.iv_off), self.pool.iv_size) }
    }

    /// Runs the cipher over `len` bytes from `src` into `dst` (which may be
    /// the same place) with the IV buffer, and waits for the result: an
    /// asynchronous transform's `-EINPROGRESS`, or `-EBUSY` when the request
    /// went to its backlog, both end in the completion callback.
    pub(crate) fn crypt(&mut self, tfm: &Skcipher, dir: Direction, src: PageRef, dst: PageRef, len: u32) -> Result {
        let base = self.mem.as_ptr();
        // Every area lies inside the element (type invariant) and this request is
        // exclusively ours. The pages are valid for `len` bytes at their offsets.
        // SAFETY: The scatterlists, completion and IV stay valid until the request
        // completes: this function waits for the completion before returning.
        let err = unsafe {
            let req = base.cast::<bindings::skcipher_request>();
            let sg = base.add(self.pool.sg_off).cast::<bindings::scatterlist>();
            let wait = base.add(self.pool.wait_off).cast::<bindings::crypto_wait>();
            let iv = base.add(self.pool.iv_off);
            bindings::rcrypt_sg_init_page(sg, src.page, len, src.offset);
            bindings::rcrypt_sg_init_page(sg.add(1), dst.page, len, dst.offset);
            bindings::rcrypt_crypto_init_wait(wait);
            bindings::rcrypt_skcipher_request_setup(req, tfm.tfm.as_ptr(), sg, sg.add(1), len, iv, wait);
            let r = match dir {
                Direction::Encrypt => bindings::crypto_skcipher_encrypt(req),
                Direction::Decrypt => bindings::crypto_skcipher_decrypt(req),
            };
            bindings::rcrypt_crypto_wait_req(r, wait)
        };
        to_result(err)
    }
}

impl Drop for Request<'_> {
    fn drop(&mut self) {
        // SAFETY: `mem` came from this pool and no operation is in flight
        // (`crypt` waits for completion).
        unsafe { bindings::mempool_free(self.mem.as_ptr().cast(), self.pool.pool.as_ptr()) };
    }
}

/// `CRYPTO_ALG_ALLOCATES_MEMORY`: transforms that allocate memory per request
/// are excluded with this mask, as dm-crypt does.
pub(crate) const CRYPTO_ALG_ALLOCATES_MEMORY: u32 = bindings::CRYPTO_ALG_ALLOCATES_MEMORY;

/// The transforms of a target, with a gate that lets their key change only
/// while no request uses them (`key set` / `key wipe` while suspended).
///
/// # Invariants
///
/// `users` counts the holders of [`CipherUse`] guards plus [`CLOSED`] while a
/// re-key runs; `set_key` is only called on the transforms while `users`
/// is exactly `CLOSED` (closed, no user).
pub(crate) struct TfmSet {
    tfms: KVec<Skcipher>,
    users: core::sync::atomic::AtomicUsize,
}

/// Bit of [`TfmSet::users`] set while the key changes.
const CLOSED: usize = 1 << (usize::BITS - 1);

/// Proof that the transforms of a [`TfmSet`] are in use by a request path.
pub(crate) struct CipherUse<'a> {
    set: &'a TfmSet,
}

impl TfmSet {
    /// Takes the transforms.
    pub(crate) fn new(tfms: KVec<Skcipher>) -> Self {
        Self { tfms, users: core::sync::atomic::AtomicUsize::new(0) }
    }

    /// Uses the transforms for I/O; `None` while their key changes (which
    /// only happens while the device is suspended, so never during I/O).
    pub(crate) fn enter(&self) -> Option<CipherUse<'_>> {
        use core::sync::atomic::Ordering;
        let prev = self.users.fetch_add(1, Ordering::Acquire);
        if prev & CLOSED != 0 {
            self.users.fetch_sub(1, Ordering::Release);
            return None;
        }
        Some(CipherUse { set: self })
    }

    /// The first transform (they are all alike).
    pub(crate) fn first(&self) -> Option<&Skcipher> {
        self.tfms.first()
    }

    /// Sets the key of transform `i` to `key_of(i)` for every transform
    /// (`crypt_setkey()`); the last failure is returned, like the C. Fails
    /// with `EBUSY` if a request path uses the transforms.
    pub(crate) fn rekey<'k>(&self, mut key_of: impl FnMut(usize) -> Option<&'k [u8]>) -> Result {
        use core::sync::atomic::Ordering;
        if self.users.compare_exchange(0, CLOSED, Ordering::Acquire, Ordering::Relaxed).is_err() {
            return Err(kernel::error::code::EBUSY);
        }
        let mut err = Ok(());
        for (i, tfm) in self.tfms.iter().enumerate() {
            let r = match key_of(i) {
                // SAFETY: The gate is closed with no user (type invariant), so
                // no request runs on this transform during `setkey`.
                Some(k) => unsafe { tfm.set_key_unshared(k) },
                None => Err(EINVAL),
            };
            if r.is_err() {
                err = r;
            }
        }
        self.users.store(0, Ordering::Release);
        err
    }
}

impl CipherUse<'_> {
    /// Transform `i`.
    pub(crate) fn get(&self, i: usize) -> Option<&Skcipher> {
        self.set.tfms.get(i)
    }
}

impl Drop for CipherUse<'_> {
    fn drop(&mut self) {
        self.set.users.fetch_sub(1, core::sync::atomic::Ordering::Release);
    }
}
