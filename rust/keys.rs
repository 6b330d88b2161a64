// SPDX-License-Identifier: GPL-2.0

//! Kernel keyring keys and key material that wipes itself.
//!
//! C headers: `include/linux/key.h`, `include/keys/user-type.h`,
//! `include/keys/encrypted-type.h`, `include/keys/trusted-type.h`.

use crate::bindings;
use core::ffi::CStr;
use core::ops::{Deref, DerefMut};
use kernel::error::{code::*, from_err_ptr, Error};
use kernel::prelude::*;

/// Key material in kernel memory, zeroed (`memzero_explicit`) when dropped.
///
/// # Invariants
///
/// The buffer is wiped before its memory is released.
pub(crate) struct SecretBytes {
    buf: KVec<u8>,
}

impl SecretBytes {
    /// A zero-filled secret of `len` bytes.
    pub(crate) fn new_zeroed(len: usize) -> Result<Self> {
        let buf = KVec::from_elem(0u8, len, GFP_KERNEL)?;
        // INVARIANT: `drop` wipes the buffer before it is freed.
        Ok(Self { buf })
    }

    /// Fills the secret with random bytes (`get_random_bytes`).
    pub(crate) fn fill_random(&mut self) {
        // SAFETY: `get_random_bytes` writes `len` bytes at its pointer: `buf`
        // is valid for writes of its length, and `&mut self` borrows it.
        unsafe { bindings::get_random_bytes(self.buf.as_mut_ptr().cast(), self.buf.len()) };
    }

    /// Overwrites the whole secret with zeroes.
    pub(crate) fn wipe(&mut self) {
        // SAFETY: `memzero_explicit` writes `len` bytes at its pointer: `buf`
        // is valid for writes of its length, and `&mut self` borrows it.
        unsafe { bindings::rcrypt_memzero_explicit(self.buf.as_mut_ptr().cast(), self.buf.len()) };
    }
}

impl Deref for SecretBytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.buf
    }
}

impl DerefMut for SecretBytes {
    fn deref_mut(&mut self) -> &mut [u8] {
        &mut self.buf
    }
}

impl Drop for SecretBytes {
    fn drop(&mut self) {
        self.wipe();
        // What the KUnit suite checks: the memory about to be freed is zero.
        #[cfg(CONFIG_KUNIT)]
        kunit_probe::record(&self.buf);
    }
}

/// Lets the KUnit suite see a secret's bytes at the moment it is freed,
/// without reading freed memory.
#[cfg(CONFIG_KUNIT)]
pub(crate) mod kunit_probe {
    use core::sync::atomic::{AtomicUsize, Ordering::Relaxed};

    /// Secrets dropped so far, and those of them with a non-zero byte left.
    pub(crate) static DROPPED: AtomicUsize = AtomicUsize::new(0);
    pub(crate) static DROPPED_DIRTY: AtomicUsize = AtomicUsize::new(0);

    pub(super) fn record(buf: &[u8]) {
        DROPPED.fetch_add(1, Relaxed);
        if buf.iter().any(|&b| b != 0) {
            DROPPED_DIRTY.fetch_add(1, Relaxed);
        }
    }
}

/// The key types dm-crypt reads from the kernel keyring.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum KeyType {
    /// `logon`: user-supplied, not readable from userspace.
    Logon,
    /// `user`.
    User,
    /// `encrypted` (when the kernel has `CONFIG_ENCRYPTED_KEYS`).
    Encrypted,
    /// `trusted` (when the kernel has `CONFIG_TRUSTED_KEYS`).
    Trusted,
}

impl KeyType {
    /// Whether this kernel has the key type.
    pub(crate) fn available(self) -> bool {
        !self.c_type().is_null()
    }

    fn c_type(self) -> *mut bindings::key_type {
        match self {
            KeyType::Logon => core::ptr::addr_of_mut!(bindings::key_type_logon),
            KeyType::User => core::ptr::addr_of_mut!(bindings::key_type_user),
            // SAFETY: The helper has no precondition: it returns the address
            // of the kernel's key type, or null if it lacks it.
            KeyType::Encrypted => unsafe { bindings::rcrypt_key_type_encrypted() },
            // SAFETY: The helper has no precondition: it returns the address
            // of the kernel's key type, or null if it lacks it.
            KeyType::Trusted => unsafe { bindings::rcrypt_key_type_trusted() },
        }
    }
}

/// Looks up key `desc` of type `ty` (`request_key()`) and copies its payload
/// into `out`, which must be exactly the payload's length, as dm-crypt's
/// `set_key_user` / `set_key_encrypted` / `set_key_trusted` do.
///
/// Errors: the lookup's (`-ENOKEY`, `-EKEYREVOKED`, ...), `-EKEYREVOKED`
/// for a key without payload, `-EINVAL` for a size mismatch or a key type
/// this kernel lacks.
pub(crate) fn read_key(ty: KeyType, desc: &CStr, out: &mut [u8]) -> Result {
    let ktype = ty.c_type();
    if ktype.is_null() {
        return Err(EINVAL);
    }
    // SAFETY: `request_key` needs a key type that stays registered for the
    // call and a NUL-terminated description: `ktype` is a key type of the
    // kernel or of a module this module depends on (non-null, checked), and
    // `desc` is a `CStr`, valid for the call.
    let key = from_err_ptr(unsafe { bindings::rcrypt_request_key(ktype, desc.as_ptr().cast()) })?;
    // SAFETY: `key` is a valid key whose reference we hold (dropped below),
    // so its semaphore may be taken.
    unsafe { bindings::down_read(core::ptr::addr_of_mut!((*key).sem)) };
    // SAFETY: `copy_payload`'s contract: `key` is a valid key of type `ty`
    // (`request_key` looked it up by that type), and its semaphore is held.
    let ret = unsafe { copy_payload(ty, key, out) };
    // SAFETY:
    // - `up_read` releases the semaphore this task took above;
    // - `key_put` drops the reference `request_key` gave, once; `key` is
    //   not used after it.
    unsafe {
        bindings::up_read(core::ptr::addr_of_mut!((*key).sem));
        bindings::key_put(key);
    }
    ret
}

fn ekeyrevoked() -> Error {
    crate::errno::EKEYREVOKED.into()
}

/// # Safety
///
/// `key` must be a valid key of type `ty` whose semaphore is held.
unsafe fn copy_payload(ty: KeyType, key: *mut bindings::key, out: &mut [u8]) -> Result {
    let (data, len): (*const u8, usize) = match ty {
        KeyType::Logon | KeyType::User => {
            // SAFETY: `user_key_payload_locked` needs a valid key whose
            // semaphore is held: the caller's guarantee.
            let ukp = unsafe { bindings::rcrypt_user_key_payload_locked(key) };
            if ukp.is_null() {
                return Err(ekeyrevoked());
            }
            // SAFETY: A non-null payload of a user or logon key is a
            // `user_key_payload`, which stays valid and unchanged while the
            // semaphore is held (the caller's guarantee), and holds
            // `datalen` bytes of `data`.
            unsafe {
                (
                    (*ukp).data.as_ptr().cast::<u8>(),
                    usize::from((*ukp).datalen),
                )
            }
        }
        KeyType::Encrypted => {
            // SAFETY: `dereference_key_locked` needs a valid key whose
            // semaphore is held: the caller's guarantee.
            let ekp = unsafe { bindings::rcrypt_key_payload_locked(key) }
                .cast::<bindings::encrypted_key_payload>();
            if ekp.is_null() {
                return Err(ekeyrevoked());
            }
            // SAFETY: A non-null payload of an encrypted key (`ty`, the
            // caller's guarantee) is an `encrypted_key_payload`, which stays
            // valid and unchanged while the semaphore is held, with
            // `decrypted_datalen` bytes at `decrypted_data`.
            unsafe {
                (
                    (*ekp).decrypted_data.cast_const(),
                    usize::from((*ekp).decrypted_datalen),
                )
            }
        }
        KeyType::Trusted => {
            // SAFETY: `dereference_key_locked` needs a valid key whose
            // semaphore is held: the caller's guarantee.
            let tkp = unsafe { bindings::rcrypt_key_payload_locked(key) }
                .cast::<bindings::trusted_key_payload>();
            if tkp.is_null() {
                return Err(ekeyrevoked());
            }
            // SAFETY: A non-null payload of a trusted key (`ty`, the caller's
            // guarantee) is a `trusted_key_payload`, which stays valid and
            // unchanged while the semaphore is held, with `key_len` bytes of
            // `key`.
            unsafe { ((*tkp).key.as_ptr(), (*tkp).key_len as usize) }
        }
    };
    if len != out.len() {
        return Err(EINVAL);
    }
    // SAFETY: `data` holds `len` readable bytes of the payload, valid while
    // the semaphore is held (the caller's guarantee); `out` is `len`
    // writable bytes (checked), and as a `&mut` slice it does not overlap
    // the payload.
    unsafe { core::ptr::copy_nonoverlapping(data, out.as_mut_ptr(), len) };
    Ok(())
}
