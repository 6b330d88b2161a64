// SPDX-License-Identifier: GPL-2.0

//! AEAD transforms (`struct crypto_aead`): the cipher of dm-crypt's
//! `integrity:<bytes>:aead` tables (`authenc(hmac(sha256),xts(aes))`,
//! `gcm(aes)`, `rfc7539(chacha20,poly1305)`, `aegis128`). Their requests are
//! [`super::Request`]s of an AEAD [`super::RequestPool`]
//! ([`super::Request::aead_crypt`]).
//!
//! C header: `include/crypto/aead.h`.

use crate::bindings;
use core::ffi::CStr;
use core::ptr::NonNull;
use kernel::error::{
    code::{EINVAL, ENOMEM},
    from_err_ptr, to_result,
};
use kernel::prelude::*;

/// An allocated AEAD transform.
///
/// # Invariants
///
/// `tfm` is a transform from `crypto_alloc_aead`, freed only on drop.
/// `reqsize` and `ivsize` are its fixed properties;
/// `authsize` is its current tag size, changed only by `set_authsize`.
pub(crate) struct Aead {
    tfm: NonNull<bindings::crypto_aead>,
    reqsize: usize,
    ivsize: usize,
    authsize: usize,
}

// SAFETY: A transform is not tied to the thread that allocated it: any
// thread may use it, set its key or free it.
unsafe impl Send for Aead {}
// SAFETY: `&Aead` reads the transform's properties and runs requests on it
// (`Request::aead_crypt`), which the crypto API allows from any number of
// threads at once; setting the key or the tag size, which does not allow
// that, needs `&mut self` or is `unsafe` (`set_key_unshared`).
unsafe impl Sync for Aead {}

impl Aead {
    /// Allocates the transform `name` (a crypto API name such as `gcm(aes)`).
    pub(crate) fn new(name: &CStr, type_: u32, mask: u32) -> Result<Self> {
        // SAFETY: `crypto_alloc_aead` needs a NUL-terminated name, which
        // `name` is, valid for the call.
        let p = from_err_ptr(unsafe {
            bindings::crypto_alloc_aead(name.as_ptr().cast(), type_, mask)
        })?;
        let tfm = NonNull::new(p).ok_or(ENOMEM)?;
        // SAFETY: `tfm` was just allocated, so it is a valid transform.
        let (reqsize, ivsize, authsize) = unsafe {
            (
                bindings::rcrypt_aead_reqsize(tfm.as_ptr()),
                bindings::rcrypt_aead_ivsize(tfm.as_ptr()),
                bindings::rcrypt_aead_authsize(tfm.as_ptr()),
            )
        };
        // INVARIANT: Allocated just above; freed only by `drop`; the
        // properties were read from it.
        Ok(Self {
            tfm,
            reqsize: reqsize as usize,
            ivsize: ivsize as usize,
            authsize: authsize as usize,
        })
    }

    /// Sets the tag size (`crypto_aead_setauthsize`), before the transform
    /// is shared.
    pub(crate) fn set_authsize(&mut self, authsize: u32) -> Result {
        // SAFETY: `crypto_aead_setauthsize` needs a valid transform that no
        // request uses during the call: `tfm` is valid (type invariant) and
        // `&mut self` excludes any request (they borrow the transform).
        to_result(unsafe { bindings::crypto_aead_setauthsize(self.tfm.as_ptr(), authsize) })?;
        // INVARIANT: The transform's tag size is now `authsize`.
        self.authsize = authsize as usize;
        Ok(())
    }

    /// Sets the key (`crypto_aead_setkey`; for `authenc`, the key in the
    /// `rtattr` format of [`authenc_key`]).
    pub(crate) fn set_key(&mut self, key: &[u8]) -> Result {
        // SAFETY: `set_key_unshared`'s contract: `&mut self` excludes any
        // request (they borrow the transform).
        unsafe { self.set_key_unshared(key) }
    }

    /// Sets the key of a transform that may be shared.
    ///
    /// # Safety
    ///
    /// No request may use the transform during the call.
    pub(super) unsafe fn set_key_unshared(&self, key: &[u8]) -> Result {
        let len = u32::try_from(key.len()).map_err(|_| EINVAL)?;
        // SAFETY: `crypto_aead_setkey` needs a valid transform that no
        // request uses during the call, and `len` readable bytes at `key`:
        // `tfm` is valid (type invariant), no request uses it (the caller's
        // guarantee), and `key` is a slice of `len` bytes.
        to_result(unsafe { bindings::crypto_aead_setkey(self.tfm.as_ptr(), key.as_ptr(), len) })
    }

    /// Size of the transform's request context (`crypto_aead_reqsize`).
    pub(crate) fn reqsize(&self) -> usize {
        self.reqsize
    }

    /// IV size in bytes (`crypto_aead_ivsize`).
    pub(crate) fn iv_size(&self) -> usize {
        self.ivsize
    }

    /// Current tag size in bytes (`crypto_aead_authsize`).
    pub(crate) fn auth_size(&self) -> usize {
        self.authsize
    }

    /// Block size in bytes (`crypto_aead_blocksize`).
    pub(crate) fn block_size(&self) -> usize {
        // SAFETY: The helper reads the algorithm's block size: `tfm` is a
        // valid transform (type invariant).
        unsafe { bindings::rcrypt_aead_blocksize(self.tfm.as_ptr()) as usize }
    }

    /// The transform, for the request helpers.
    pub(super) fn as_ptr(&self) -> *mut bindings::crypto_aead {
        self.tfm.as_ptr()
    }
}

impl Drop for Aead {
    fn drop(&mut self) {
        // SAFETY: `crypto_free_aead` needs a transform from
        // `crypto_alloc_aead` that nothing uses any more: `tfm` is one (type
        // invariant), freed once, here; requests borrow the transform for
        // their operation, which they wait for, so none is in flight.
        unsafe { bindings::rcrypt_aead_free(self.tfm.as_ptr()) };
    }
}

/// `CRYPTO_AUTHENC_KEYA_PARAM`: the `rtattr` type of an `authenc` key's
/// parameter block.
const AUTHENC_KEYA_PARAM: u16 = 1;
/// `RTA_LENGTH(sizeof(struct crypto_authenc_key_param))`: a 4-byte `rtattr`
/// header and the 4-byte big-endian encryption key length.
const AUTHENC_PARAM_LEN: usize = 8;

/// Bytes of an `authenc` key with `enc_len` bytes of encryption key and
/// `mac_len` of MAC key (`crypt_authenckey_size()`).
pub(crate) fn authenc_key_size(enc_len: usize, mac_len: usize) -> Option<usize> {
    AUTHENC_PARAM_LEN.checked_add(enc_len)?.checked_add(mac_len)
}

/// `crypt_copy_authenckey()`: the `authenc` key for a dm-crypt key
/// `key` whose last `mac_len` bytes are the MAC key, written into `out`
/// ([`authenc_key_size`] bytes): the parameter block (`rtattr` of type
/// `CRYPTO_AUTHENC_KEYA_PARAM`, length 8, host order; then the encryption
/// key length, big-endian), the MAC key, the encryption key.
pub(crate) fn authenc_key(key: &[u8], mac_len: usize, out: &mut [u8]) -> Result {
    let enc_len = key.len().checked_sub(mac_len).ok_or(EINVAL)?;
    if authenc_key_size(enc_len, mac_len) != Some(out.len()) {
        return Err(EINVAL);
    }
    let (enc, mac) = key.split_at(enc_len);
    let (param, rest) = out.split_at_mut(AUTHENC_PARAM_LEN);
    let (mac_out, enc_out) = rest.split_at_mut(mac_len);
    let [l0, l1] = (AUTHENC_PARAM_LEN as u16).to_ne_bytes();
    let [t0, t1] = AUTHENC_KEYA_PARAM.to_ne_bytes();
    let [e0, e1, e2, e3] = u32::try_from(enc_len).map_err(|_| EINVAL)?.to_be_bytes();
    param.copy_from_slice(&[l0, l1, t0, t1, e0, e1, e2, e3]);
    mac_out.copy_from_slice(mac);
    enc_out.copy_from_slice(enc);
    Ok(())
}
