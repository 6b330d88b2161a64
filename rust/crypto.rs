// SPDX-License-Identifier: GPL-2.0

//! Kernel crypto API: symmetric key ciphers (`struct crypto_skcipher`).
//!
//! C header: `include/crypto/skcipher.h`.

use crate::bindings;
use core::ptr::NonNull;
use kernel::error::{from_err_ptr, to_result};
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

    /// IV size in bytes.
    pub(crate) fn iv_size(&self) -> usize {
        // SAFETY: `tfm` is valid by the invariant.
        unsafe { bindings::rcrypt_skcipher_ivsize(self.tfm.as_ptr()) as usize }
    }

    /// Block size in bytes.
    #[allow(dead_code)]
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
