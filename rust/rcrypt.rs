// SPDX-License-Identifier: GPL-2.0

//! The `rcrypt` target: the Rust counterpart of `drivers/md/dm-crypt.c`.
//!
//! This file is safe Rust over the wrappers in [`crate::dm`], [`crate::crypto`]
//! and [`crate::keys`]. The constructor follows `crypt_ctr()` step by step
//! (the stage numbers are those of [`table`]'s documentation) so that every
//! table gets the same verdict and the same `ti->error` message as dm-crypt.
//!
//! The data path is not written yet: a table that passes every check is
//! refused with "Data path not supported yet" (-EOPNOTSUPP), so nothing can
//! pretend to encrypt.

pub(crate) mod table;

#[cfg(CONFIG_KUNIT)]
mod kunit_tests;

use crate::bio::Bio;
use crate::crypto::Skcipher;
use crate::dm::{Args, CtrError, MapResult, Target, TargetDevice, TargetOperations};
use crate::keys::{self, KeyType, SecretBytes};
use crate::errno::EOPNOTSUPP;
use kernel::error::code::{EINVAL, ENOMEM};
use kernel::error::Error;
use kernel::prelude::*;
use kernel::str::CStr;
use table::{IvMode, IvSetup, KeySource, KeyringType, ParseError, Table, CRYPTO_MAX_ALG_NAME};
use table::{E_ALLOC_TFM, E_CREATE_IV, E_DEVICE_LOOKUP, E_INIT_IV, E_SET_KEY};

/// Target name as `dmsetup` uses it.
pub(crate) const TARGET_NAME: &CStr = kernel::c_str!("rcrypt");
/// Target version: the dm-crypt version whose behaviour rcrypt matches.
pub(crate) const TARGET_VERSION: [u32; 3] = [1, 28, 0];
/// Target features. dm-crypt has `DM_TARGET_ZONED_HM`; rcrypt will declare it
/// with the data path.
pub(crate) const TARGET_FEATURES: u64 = 0;

/// `crypto_alloc_skcipher(name, 0, CRYPTO_ALG_ALLOCATES_MEMORY)` as in
/// `crypt_alloc_tfms_skcipher()`.
const TFM_MASK: u32 = crate::bindings::CRYPTO_ALG_ALLOCATES_MEMORY;

/// Per-target state, built by the constructor.
pub(crate) struct Rcrypt {
    _tfms: KVec<Skcipher>,
    _iv_tfm: Option<Skcipher>,
    _dev: TargetDevice,
}

/// A `ti->error` message with `-EINVAL`, or the parser's error as it is.
fn perr(e: ParseError) -> CtrError {
    CtrError::new(e.msg, Error::from_errno(-e.errno))
}

/// Copies `bytes` into `buf` with a terminating NUL and returns it as a C string.
fn to_cstr<'b>(bytes: &[u8], buf: &'b mut [u8]) -> Option<&'b core::ffi::CStr> {
    if bytes.contains(&0) {
        return None;
    }
    let dst = buf.get_mut(..bytes.len() + 1)?;
    dst[..bytes.len()].copy_from_slice(bytes);
    dst[bytes.len()] = 0;
    core::ffi::CStr::from_bytes_with_nul(dst).ok()
}

impl Rcrypt {
    /// Stage 2: `crypt_alloc_tfms()`: `tfms_count` transforms of the cipher.
    fn alloc_tfms(t: &Table<'_>) -> Result<KVec<Skcipher>, CtrError> {
        let mut name_buf = [0u8; CRYPTO_MAX_ALG_NAME];
        let name = t.crypto_api_name(&mut name_buf).map_err(perr)?;
        let mut cname = [0u8; CRYPTO_MAX_ALG_NAME + 1];
        let cname = to_cstr(name, &mut cname).ok_or(CtrError::new(E_ALLOC_TFM, EINVAL))?;
        let count = t.tfms_count() as usize;
        let mut tfms = KVec::with_capacity(count, GFP_KERNEL).map_err(|_| CtrError::new(E_ALLOC_TFM, ENOMEM))?;
        for _ in 0..count {
            let tfm = Skcipher::new(cname, 0, TFM_MASK).map_err(|e| CtrError::new(E_ALLOC_TFM, e))?;
            tfms.push(tfm, GFP_KERNEL).map_err(|_| CtrError::new(E_ALLOC_TFM, ENOMEM))?;
        }
        Ok(tfms)
    }

    /// Stage 4: `crypt_set_key()`: fetch or decode the key, then
    /// `crypt_setkey()` on every transform. Any failure is "Error decoding and
    /// setting key" with the failing step's error code.
    fn set_key(t: &Table<'_>, setup: &IvSetup, tfms: &mut [Skcipher]) -> Result<SecretBytes, CtrError> {
        let fail = |e: Error| CtrError::new(E_SET_KEY, e);
        let source = t.key_source().map_err(perr)?;
        let mut key = SecretBytes::new_zeroed(t.key_size() as usize).map_err(|_| fail(ENOMEM))?;
        match source {
            KeySource::Empty => {}
            KeySource::Hex(hex) => table::decode_hex_key(hex, &mut key).map_err(perr)?,
            KeySource::Keyring { key_type, description } => {
                let ty = match key_type {
                    KeyringType::Logon => KeyType::Logon,
                    KeyringType::User => KeyType::User,
                    KeyringType::Encrypted => KeyType::Encrypted,
                    KeyringType::Trusted => KeyType::Trusted,
                };
                // dm-crypt accepts encrypted/trusted only when the kernel has them.
                if !ty.available() {
                    return Err(fail(EINVAL));
                }
                let mut desc_buf = KVec::from_elem(0u8, description.len() + 1, GFP_KERNEL).map_err(|_| fail(ENOMEM))?;
                let desc = to_cstr(description, &mut desc_buf).ok_or(fail(EINVAL))?;
                keys::read_key(ty, desc, &mut key).map_err(fail)?;
            }
        }
        // crypt_setkey(): the transforms share the key minus the IV generator's
        // extra part, split evenly; the C reports the last failure.
        let subkey = setup.subkey_size() as usize;
        let mut err = None;
        for (i, tfm) in tfms.iter_mut().enumerate() {
            let part = i
                .checked_mul(subkey)
                .and_then(|from| key.get(from..from.checked_add(subkey)?));
            let r = match part {
                Some(part) => tfm.set_key(part),
                // An out-of-range subkey size (C unsigned wrap): setkey rejects it.
                None => Err(EINVAL),
            };
            if let Err(e) = r {
                err = Some(e);
            }
        }
        match err {
            Some(e) => Err(fail(e)),
            None => Ok(key),
        }
    }
}

#[vtable]
impl TargetOperations for Rcrypt {
    fn ctr(target: &mut Target<'_>, args: &mut Args<'_>) -> Result<KBox<Self>, CtrError> {
        let built = Self::ctr_checked(target, args);
        // Like crypt_set_key(): the hex key argument is overwritten whatever
        // the outcome, so no key stays in the table memory.
        if args.len() >= 2 && args.get(1).is_some_and(|k| k.first() != Some(&b':')) {
            args.wipe(1);
        }
        built
    }

    fn map(&self, _target: &Target<'_>, _bio: Bio<'_>) -> MapResult {
        // No table is ever constructed until the data path exists.
        MapResult::Kill
    }
}

impl Rcrypt {
    /// `crypt_ctr()`, stage by stage.
    fn ctr_checked(target: &mut Target<'_>, args: &Args<'_>) -> Result<KBox<Self>, CtrError> {
        let nomem = || CtrError::new(c"Cannot allocate encryption context", ENOMEM);
        let mut argv: KVec<&[u8]> = KVec::with_capacity(args.len(), GFP_KERNEL).map_err(|_| nomem())?;
        for i in 0..args.len() {
            argv.push(args.get(i).unwrap_or(&[]), GFP_KERNEL).map_err(|_| nomem())?;
        }

        // Stage 1: arguments, key size, optional parameters, cipher syntax.
        let t = table::parse_table(&argv, target.len()).map_err(perr)?;

        if t.options.integrity_aead {
            return Err(CtrError::new(c"AEAD integrity modes are not supported yet", EOPNOTSUPP.into()));
        }

        // Stage 2: transforms.
        let mut tfms = Self::alloc_tfms(&t)?;
        let (ivsize, block_size) = match tfms.first() {
            Some(tfm) => (tfm.iv_size() as u32, tfm.block_size() as u32),
            None => return Err(CtrError::new(E_ALLOC_TFM, EINVAL)),
        };

        // Stage 3: IV mode.
        let setup = t.iv_setup(ivsize).map_err(perr)?;
        if setup.iv_mode_ignored {
            pr_warn!("Selected cipher does not support IVs\n");
        }

        // Stage 4: key.
        let key = Self::set_key(&t, &setup, &mut tfms)?;

        // Stage 5: IV generator constructors. elephant allocates its ecb(aes)
        // diffuser transform before its checks (crypt_iv_elephant_ctr).
        let mut iv_tfm = None;
        if setup.mode == IvMode::Elephant {
            iv_tfm = Some(
                Skcipher::new(c"ecb(aes)", 0, TFM_MASK)
                    .map_err(|e| CtrError::new(E_CREATE_IV, e))?,
            );
        }
        t.check_iv_ctr(&setup, block_size).map_err(perr)?;

        // Stage 6: IV init. elephant keys its diffuser with the extra key part
        // at the end of the key (crypt_iv_elephant_init).
        if let Some(tfm) = iv_tfm.as_mut() {
            let extra = setup.key_extra_size as usize;
            let part = key
                .len()
                .checked_sub(extra)
                .and_then(|from| key.get(from..));
            part.map_or(Err(EINVAL), |p| tfm.set_key(p))
                .map_err(|e| CtrError::new(E_INIT_IV, e))?;
        }
        drop(key);

        // Stage 7: iv_offset.
        t.iv_offset().map_err(perr)?;

        // Stage 8: the device.
        let mut path_buf = KVec::from_elem(0u8, t.device_path.len() + 1, GFP_KERNEL).map_err(|_| nomem())?;
        let lookup_failed = |e| CtrError::new(E_DEVICE_LOOKUP, e);
        let path = to_cstr(t.device_path, &mut path_buf).ok_or(lookup_failed(EINVAL))?;
        let dev = target.get_device(path).map_err(lookup_failed)?;

        // Stage 9: start sector.
        t.start().map_err(perr)?;

        // Stage 10: integrity metadata (the `random` IV stores its IV there).
        if t.needs_integrity_profile(&setup) {
            if !dev.has_integrity() {
                return Err(CtrError::inval(c"Integrity profile not supported."));
            }
            return Err(CtrError::new(c"Integrity metadata is not supported yet", EOPNOTSUPP.into()));
        }

        let _ = Rcrypt {
            _tfms: tfms,
            _iv_tfm: iv_tfm,
            _dev: dev,
        };
        Err(CtrError::new(c"Data path not supported yet", EOPNOTSUPP.into()))
    }
}
