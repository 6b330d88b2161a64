// SPDX-License-Identifier: GPL-2.0

//! The key of a target and the key messages.
//!
//! dm-crypt.c: `cc->key`, `cc->key_string` and `DM_CRYPT_KEY_VALID`;
//! `crypt_set_keyring_key()` (with `set_key_user()` / `_encrypted()` /
//! `_trusted()`); and `crypt_message()` with the `key set` (`crypt_set_key()`)
//! and `key wipe` (`crypt_wipe_key()`) messages.

use super::cipher::{iv_init, iv_wipe, setkey_parts};
use super::table::{self, KeySource, KeyringType};
use super::Rcrypt;
use crate::dm::{self, Args};
use crate::keys::{self, KeyType, SecretBytes};
use core::sync::atomic::Ordering;
use kernel::error::code::{EINVAL, ENOMEM};
use kernel::prelude::*;
use kernel::sync::lock::{mutex::MutexBackend, Guard};

/// The key of a target (dm-crypt's `cc->key`, `cc->key_string` and
/// `DM_CRYPT_KEY_VALID`).
pub(super) struct KeyState {
    /// `cc->key`: shown by the TABLE status for hex keys; zeroed for keyring
    /// keys once the transforms have it, and after `key wipe`.
    pub(super) key: SecretBytes,
    /// `cc->key_string`: `<type>:<description>` of a keyring key.
    pub(super) key_string: Option<KVec<u8>>,
    /// Whether the transforms hold a valid key (resume is refused if not,
    /// and the gate of the transforms refuses I/O while not).
    pub(super) valid: bool,
}

/// `crypt_set_keyring_key()`'s lookup: copies the payload of keyring key
/// `description` of `key_type` into `out` (which has the table's key size).
/// dm-crypt accepts `encrypted` and `trusted` only when the kernel has them.
pub(super) fn read_keyring_key(
    key_type: KeyringType,
    description: &[u8],
    out: &mut [u8],
) -> Result {
    let ty = match key_type {
        KeyringType::Logon => KeyType::Logon,
        KeyringType::User => KeyType::User,
        KeyringType::Encrypted => KeyType::Encrypted,
        KeyringType::Trusted => KeyType::Trusted,
    };
    if !ty.available() {
        return Err(EINVAL);
    }
    let mut desc_buf = KVec::from_elem(
        0u8,
        description.len().checked_add(1).ok_or(ENOMEM)?,
        GFP_KERNEL,
    )?;
    let desc = to_cstr(description, &mut desc_buf).ok_or(EINVAL)?;
    keys::read_key(ty, desc, out)
}

/// Copies `bytes` into `buf` with a terminating NUL and returns it as a C string.
pub(super) fn to_cstr<'b>(bytes: &[u8], buf: &'b mut [u8]) -> Option<&'b core::ffi::CStr> {
    if bytes.contains(&0) {
        return None;
    }
    let dst = buf.get_mut(..=bytes.len())?;
    let (nul, head) = dst.split_last_mut()?;
    head.copy_from_slice(bytes);
    *nul = 0;
    core::ffi::CStr::from_bytes_with_nul(dst).ok()
}

impl Rcrypt {
    /// `crypt_message()`: `key set <key>` and `key wipe`, only while
    /// suspended; no key stays in `args` afterwards.
    pub(super) fn key_message(&self, args: &mut Args<'_>) -> Result {
        let is = |args: &Args<'_>, i: usize, w: &[u8]| {
            args.get(i).is_some_and(|a| a.eq_ignore_ascii_case(w))
        };
        let argc = args.len();
        let ret = if argc >= 2 && is(args, 0, b"key") {
            if !self.suspended.load(Ordering::Acquire) {
                dm::dm_warn(c"not suspended during key manipulation.");
                Err(EINVAL)
            } else if argc == 3 && is(args, 1, b"set") {
                self.message_key_set(args.get(2).unwrap_or(&[]))
            } else if argc == 2 && is(args, 1, b"wipe") {
                self.wipe_key()
            } else {
                dm::dm_warn(c"unrecognised message received.");
                Err(EINVAL)
            }
        } else {
            dm::dm_warn(c"unrecognised message received.");
            Err(EINVAL)
        };
        // No key may stay in the message's memory, whatever happened.
        if argc == 3 {
            args.wipe(2);
        }
        ret
    }

    /// `crypt_set_key()` + `iv_gen_ops->init()` of the `key set` message:
    /// the transforms take `key`; if they all did, the key is valid and the
    /// IV generator takes its part (its failure is the message's result).
    fn apply_key(&self, valid: &mut bool, key: &[u8]) -> Result {
        let setup = &self.iv;
        // Not valid (and no I/O through the gate) unless the transforms take
        // the key.
        *valid = false;
        self.cipher.tfms.forget_key();
        self.cipher
            .tfms
            .rekey(|rk| {
                setkey_parts(rk, setup, key)?;
                *valid = true;
                rk.set_key_valid(true);
                iv_init(rk, setup, key)
            })
            .and_then(|r| r)
    }

    /// `key set <key>` (`crypt_message()` + `crypt_set_key()`): the key size
    /// may not change.
    fn message_key_set(&self, arg: &[u8]) -> Result {
        let spec = table::get_key_size(arg).map_err(|_| EINVAL)?;
        if spec.size() != self.key_size {
            return Err(EINVAL);
        }
        let source = match spec.source() {
            Ok(source) => source,
            Err(_) => {
                // crypt_set_key(): a hex key of the right size that does not
                // decode has already cleared DM_CRYPT_KEY_VALID and the
                // keyring string, and hex2bin() has written the bytes before
                // the bad digit: the device cannot resume until a good key.
                if let table::KeySpec::Hex { text, size } = spec {
                    if size != 0 {
                        let mut keys = self.keys_for_message()?;
                        keys.valid = false;
                        self.cipher.tfms.forget_key();
                        keys.key_string = None;
                        table::hex2bin_prefix(text, &mut keys.key);
                    }
                }
                return Err(EINVAL);
            }
        };
        // A keyring key is read before the keys are locked: `request_key`
        // may call out to user space, and status and resume take the lock.
        let fresh = match source {
            KeySource::Keyring {
                key_type,
                description,
            } => {
                let mut fresh = SecretBytes::new_zeroed(self.key_size as usize)?;
                read_keyring_key(key_type, description, &mut fresh)?;
                Some(fresh)
            }
            KeySource::Hex(_) | KeySource::Empty => None,
        };
        let mut keys = self.keys_for_message()?;
        match (source, fresh) {
            (KeySource::Keyring { .. }, Some(fresh)) => {
                let spec_copy = match spec {
                    table::KeySpec::Keyring { spec, .. } => {
                        let mut v = KVec::with_capacity(spec.len(), GFP_KERNEL)?;
                        v.extend_from_slice(spec, GFP_KERNEL)?;
                        v
                    }
                    table::KeySpec::Hex { .. } => return Err(EINVAL),
                };
                self.apply_key(&mut keys.valid, &fresh)?;
                keys.key_string = Some(spec_copy);
                // Wipe the kernel key payload copy (the status shows the
                // keyring form).
                keys.key.wipe();
                Ok(())
            }
            (KeySource::Keyring { .. }, None) => Err(EINVAL),
            (source @ (KeySource::Hex(_) | KeySource::Empty), _) => {
                keys.valid = false;
                self.cipher.tfms.forget_key();
                keys.key_string = None;
                if let KeySource::Hex(hex) = source {
                    table::decode_hex_key(hex, &mut keys.key).map_err(|_| EINVAL)?;
                }
                let st = &mut *keys;
                self.apply_key(&mut st.valid, &st.key)
            }
        }
    }

    /// The keys, locked for a key message, which `message` accepted while
    /// the device was suspended: refused as a message to a device not
    /// suspended if `resume` ran since. `resume` takes the lock too, so no
    /// bio meets a key message's re-key: it either ends before the device
    /// resumes or is refused.
    fn keys_for_message(&self) -> Result<Guard<'_, KeyState, MutexBackend>> {
        let keys = self.keys.lock();
        if !self.suspended.load(Ordering::Acquire) {
            dm::dm_warn(c"not suspended during key manipulation.");
            return Err(EINVAL);
        }
        Ok(keys)
    }

    /// `key wipe` (`crypt_wipe_key()`): the transforms get a random key, the
    /// key is zeroed and the device cannot resume until `key set`.
    fn wipe_key(&self) -> Result {
        let mut keys = self.keys_for_message()?;
        keys.valid = false;
        self.cipher.tfms.forget_key();
        keys.key.fill_random();
        let st = &mut *keys;
        let setup = &self.iv;
        let r = self
            .cipher
            .tfms
            .rekey(|rk| {
                // The IV generator forgets its keys first; if that fails the
                // wipe ends there, as in the C.
                iv_wipe(rk, setup)?;
                st.key_string = None;
                setkey_parts(rk, setup, &st.key)
            })
            .and_then(|r| r);
        st.key.wipe();
        r
    }
}
