// SPDX-License-Identifier: GPL-2.0

//! Secrets are wiped: `SecretBytes`, and the constructor's key argument.

use super::cipher_tests::sector_cipher;
use super::*;

pub(super) fn secret_bytes_wipe(test: &mut Test) {
    match SecretBytes::new_zeroed(64) {
        Ok(mut s) => {
            s.iter_mut().for_each(|b| *b = 0xa5);
            kunit_expect!(test, s.iter().all(|&b| b == 0xa5));
            s.wipe();
            kunit_expect!(
                test,
                s.len() == 64 && s.iter().all(|&b| b == 0),
                "key bytes left after wipe"
            );
        }
        Err(_) => kunit_expect!(test, false, "allocation failed"),
    }
}

/// Every secret is zero when it is freed: keys, lmk/tcw seeds, across a
/// constructor and its destructor too.
pub(super) fn secret_bytes_zero_when_freed(test: &mut Test) {
    use crate::keys::kunit_probe::{DROPPED, DROPPED_DIRTY};
    use core::sync::atomic::Ordering::Relaxed;
    let (dropped, dirty) = (DROPPED.load(Relaxed), DROPPED_DIRTY.load(Relaxed));
    match SecretBytes::new_zeroed(32) {
        Ok(mut s) => {
            s.fill_random();
            if let Some(b) = s.first_mut() {
                *b = 0x5a;
            }
            drop(s);
        }
        Err(_) => return kunit_expect!(test, false, "allocation failed"),
    }
    // A key set and dropped with the transforms and IV keys that hold it.
    let key = [0x42u8; 64];
    let _ = sector_cipher("aes-cbc-tcw", &key[..48], &[]);
    kunit_expect!(
        test,
        DROPPED.load(Relaxed) >= dropped.saturating_add(2),
        "no secret was dropped"
    );
    kunit_expect!(
        test,
        DROPPED_DIRTY.load(Relaxed) == dirty,
        "a secret was freed with key bytes in it"
    );
}

/// The constructor's key argument is overwritten in device-mapper's copy of
/// the table line (`crypt_ctr()`'s `memset(argv[1], '0', ...)`).
// The tree's one unsafe call: `Args` over a raw argv, as dm core hands it over.
#[allow(unsafe_code)]
pub(super) fn key_argument_overwritten(test: &mut Test) {
    let mut cipher = *b"aes-xts-plain64\0";
    let mut key = *b"00112233445566778899aabbccddeeff\0";
    let mut argv = [cipher.as_mut_ptr(), key.as_mut_ptr()];
    {
        // SAFETY: `argv` holds two pointers to NUL-terminated strings that
        // live, unaliased, until `args` goes out of scope.
        let mut args = unsafe { crate::dm::Args::from_raw(2, argv.as_mut_ptr()) };
        args.wipe(1);
    }
    kunit_expect!(
        test,
        key[..32].iter().all(|&b| b == b'0') && key[32] == 0,
        "key argument not overwritten"
    );
    kunit_expect!(
        test,
        &cipher[..15] == b"aes-xts-plain64",
        "another argument changed"
    );
}
