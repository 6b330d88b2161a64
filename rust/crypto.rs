// SPDX-License-Identifier: GPL-2.0

//! Kernel crypto API: symmetric key ciphers and AEADs, one file per C type:
//!
//! - here, a transform ([`Skcipher`], `struct crypto_skcipher`), the
//!   [`Direction`] of an operation;
//! - [`aead`]: AEAD transforms ([`Aead`], `struct crypto_aead`);
//! - [`request`]: requests (`struct skcipher_request`, `struct
//!   aead_request`) and their mempool ([`RequestPool`], [`Request`]);
//! - [`tfm_set`]: a target's transforms behind the key gate ([`TfmSet`]).
//!
//! C headers: `include/crypto/skcipher.h`, `include/crypto/aead.h`.

use crate::bindings;
use core::ffi::CStr;
use core::ptr::NonNull;
use kernel::error::{
    code::{EINVAL, ENOMEM},
    from_err_ptr, to_result,
};
use kernel::prelude::*;

mod aead;
mod request;
mod tfm_set;

pub(crate) use aead::{authenc_key, authenc_key_size, Aead};
pub(crate) use request::{AtomicArea, InFlight, ReqKind, Request, RequestPool};
pub(crate) use tfm_set::{CipherUse, Rekey, TfmSet};

/// An allocated skcipher transform.
///
/// # Invariants
///
/// `tfm` is a transform from `crypto_alloc_skcipher`, freed only on drop.
pub(crate) struct Skcipher {
    tfm: NonNull<bindings::crypto_skcipher>,
    /// `crypto_skcipher_reqsize(tfm)`, fixed once the transform exists.
    reqsize: usize,
    /// `crypto_skcipher_ivsize(tfm)`, fixed once the transform exists.
    ivsize: usize,
}

// SAFETY: A transform is not tied to the thread that allocated it: any
// thread may use it, set its key or free it.
unsafe impl Send for Skcipher {}
// SAFETY: `&Skcipher` reads the transform's fixed properties and runs
// requests on it (`Request::crypt`), which the crypto API allows from any
// number of threads at once; setting the key, which does not allow that,
// needs `&mut self` or is `unsafe` (`set_key_unshared`).
unsafe impl Sync for Skcipher {}

impl Skcipher {
    /// Allocates the transform `name` (a crypto API name such as `xts(aes)`).
    pub(crate) fn new(name: &CStr, type_: u32, mask: u32) -> Result<Self> {
        // SAFETY: `crypto_alloc_skcipher` needs a NUL-terminated name, which
        // `name` is, valid for the call.
        let p = from_err_ptr(unsafe {
            bindings::crypto_alloc_skcipher(name.as_ptr().cast(), type_, mask)
        })?;
        let tfm = NonNull::new(p).ok_or(ENOMEM)?;
        // SAFETY: `tfm` was just allocated, so it is a valid transform.
        let (reqsize, ivsize) = unsafe {
            (
                bindings::rcrypt_skcipher_reqsize(tfm.as_ptr()),
                bindings::rcrypt_skcipher_ivsize(tfm.as_ptr()),
            )
        };
        // INVARIANT: Allocated just above; freed only by `drop`.
        Ok(Self {
            tfm,
            reqsize: reqsize as usize,
            ivsize: ivsize as usize,
        })
    }

    /// Sets the key (`crypto_skcipher_setkey`).
    pub(crate) fn set_key(&mut self, key: &[u8]) -> Result {
        let len = u32::try_from(key.len()).map_err(|_| EINVAL)?;
        // SAFETY: `crypto_skcipher_setkey` needs a valid transform that no
        // request uses during the call, and `len` readable bytes at `key`:
        // `tfm` is valid (type invariant), `&mut self` excludes any request
        // (they borrow the transform), and `key` is a slice of `len` bytes.
        to_result(unsafe { bindings::crypto_skcipher_setkey(self.tfm.as_ptr(), key.as_ptr(), len) })
    }

    /// Sets the key of a transform that may be shared.
    ///
    /// # Safety
    ///
    /// No request may use the transform during the call.
    unsafe fn set_key_unshared(&self, key: &[u8]) -> Result {
        let len = u32::try_from(key.len()).map_err(|_| EINVAL)?;
        // SAFETY: `crypto_skcipher_setkey` needs a valid transform that no
        // request uses during the call, and `len` readable bytes at `key`:
        // `tfm` is valid (type invariant), no request uses it (the caller's
        // guarantee), and `key` is a slice of `len` bytes.
        to_result(unsafe { bindings::crypto_skcipher_setkey(self.tfm.as_ptr(), key.as_ptr(), len) })
    }

    /// Size of the transform's request context (`crypto_skcipher_reqsize`).
    pub(crate) fn reqsize(&self) -> usize {
        self.reqsize
    }

    /// IV size in bytes (`crypto_skcipher_ivsize`).
    pub(crate) fn iv_size(&self) -> usize {
        self.ivsize
    }

    /// Block size in bytes.
    pub(crate) fn block_size(&self) -> usize {
        // SAFETY: The helper reads the algorithm's block size: `tfm` is a
        // valid transform (type invariant).
        unsafe { bindings::rcrypt_skcipher_blocksize(self.tfm.as_ptr()) as usize }
    }
}

impl Drop for Skcipher {
    fn drop(&mut self) {
        // SAFETY: `crypto_free_skcipher` needs a transform from
        // `crypto_alloc_skcipher` that nothing uses any more: `tfm` is one
        // (type invariant), freed once, here; requests borrow the transform
        // for their operation, which they wait for, so none is in flight.
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

/// The digest size of the hash `name` (`crypto_alloc_ahash()` with
/// `CRYPTO_ALG_ALLOCATES_MEMORY` masked out, as dm-crypt allocates the MAC of
/// an `authenc(` AEAD only to learn it).
pub(crate) fn hash_digest_size(name: &CStr) -> Result<u32> {
    // SAFETY: The helper allocates and frees a transform of `name`, a
    // NUL-terminated string valid for the call.
    let r = unsafe { bindings::rcrypt_hash_digestsize(name.as_ptr().cast()) };
    to_result(r)?;
    u32::try_from(r).map_err(|_| EINVAL)
}

/// Fills `out` with random bytes (`get_random_bytes`): the `random` IV.
pub(crate) fn random_bytes(out: &mut [u8]) {
    // SAFETY: `get_random_bytes` writes `len` bytes at its pointer: `out`
    // is a slice of that many writable bytes.
    unsafe { bindings::get_random_bytes(out.as_mut_ptr().cast(), out.len()) };
}

/// `CRYPTO_ALG_ALLOCATES_MEMORY`: transforms that allocate memory per request
/// are excluded with this mask, as dm-crypt does.
pub(crate) const CRYPTO_ALG_ALLOCATES_MEMORY: u32 = bindings::CRYPTO_ALG_ALLOCATES_MEMORY;
