// SPDX-License-Identifier: GPL-2.0

//! The IV generators: known answers of the stateless and stateful ones, and the IV keys across wipe and init.

use super::cipher_tests::{check_block, sector_cipher};
use super::*;

/// Decodes `hex` into `out`; the number of bytes, or `None` on bad input.
fn unhex(hex: &str, out: &mut [u8]) -> Option<usize> {
    let h = hex.as_bytes();
    let n = h.len() >> 1;
    if h.len() & 1 != 0 || n > out.len() {
        return None;
    }
    // Digits `2 * i` and `2 * i + 1` make byte `i`.
    let mut digits = h.iter().map(|&c| (c as char).to_digit(16).map(|d| d as u8));
    for o in out.iter_mut().take(n) {
        *o = digits.next().flatten()? << 4 | digits.next().flatten()?;
    }
    Some(n)
}

/// lmk (v2, v3), tcw, eboiv and elephant (512- and 4096-byte sectors)
/// through `SectorCipher::crypt_block`, both ways, against ciphertext the C
/// target wrote.
pub(super) fn stateful_iv_known_answers(test: &mut Test) {
    let (Ok(mut ptext), Ok(mut ctext), Ok(mut key)) = (
        KVec::from_elem(0u8, 4096, GFP_KERNEL),
        KVec::from_elem(0u8, 4096, GFP_KERNEL),
        KVec::from_elem(0u8, 2048, GFP_KERNEL),
    ) else {
        return kunit_expect!(test, false, "allocation");
    };
    for v in iv_vectors::VECTORS {
        let Some(n) = unhex(v.ctext_hex, &mut ctext) else {
            kunit_expect!(test, false, "{}: bad vector", v.name);
            continue;
        };
        let (Some(p), Some(k), Some(c)) =
            (ptext.get_mut(..n), key.get_mut(..v.key_len), ctext.get(..n))
        else {
            kunit_expect!(test, false, "{}: vector too large", v.name);
            continue;
        };
        iv_vectors::plaintext(p);
        iv_vectors::key(k);
        check_block(test, v.name, v.cipher, k, v.opts, v.sector, p, c);
    }
}

/// `key wipe` zeroes the IV generator's keys and `key set` brings them
/// back (crypt_iv_tcw_wipe / crypt_iv_tcw_init).
pub(super) fn iv_keys_wipe_and_init(test: &mut Test) {
    let mut key = [0u8; 64];
    iv_vectors::key(&mut key);
    let (sc, _, _) = match sector_cipher("aes-cbc-tcw", &key, &[]) {
        Ok(v) => v,
        Err(e) => return kunit_expect!(test, false, "tcw: {}", e),
    };
    let Ok(setup) = parse(concat!(
        "aes-cbc-tcw ",
        "00000000000000000000000000000000",
        "00000000000000000000000000000000",
        "00000000000000000000000000000000",
        "00000000000000000000000000000000",
        " 0 /dev/null 0"
    ))
    .and_then(|t| t.iv_setup(16)) else {
        return kunit_expect!(test, false, "tcw setup");
    };
    let zero = |k: &crate::rcrypt::cipher::IvKeys| match k {
        crate::rcrypt::cipher::IvKeys::Tcw { iv_seed, whitening } => {
            iv_seed.iter().chain(whitening.iter()).all(|b| *b == 0)
        }
        _ => false,
    };
    kunit_expect!(
        test,
        sc.tfms.enter().is_some_and(|u| !zero(u.state())),
        "tcw keys not set"
    );
    let r = sc
        .tfms
        .rekey(|rk| crate::rcrypt::cipher::iv_wipe(rk, &setup));
    kunit_expect!(test, matches!(r, Ok(Ok(()))));
    kunit_expect!(
        test,
        sc.tfms.enter().is_some_and(|u| zero(u.state())),
        "tcw keys not wiped"
    );
    let r = sc
        .tfms
        .rekey(|rk| crate::rcrypt::cipher::iv_init(rk, &setup, &key));
    kunit_expect!(test, matches!(r, Ok(Ok(()))));
    let expect_seed = |k: &crate::rcrypt::cipher::IvKeys| match k {
        crate::rcrypt::cipher::IvKeys::Tcw { iv_seed, whitening } => {
            **iv_seed == key[32..48] && **whitening == key[48..]
        }
        _ => false,
    };
    kunit_expect!(
        test,
        sc.tfms.enter().is_some_and(|u| expect_seed(u.state())),
        "tcw keys not restored"
    );
}

pub(super) fn iv_generators(test: &mut Test) {
    use crate::rcrypt::iv::generate;
    let mut iv = [0u8; 16];
    let cases: [(IvMode, u64, u32, [u8; 16]); 5] = [
        (
            IvMode::Plain,
            0x1_0000_0002,
            0,
            [2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
        ),
        (
            IvMode::Plain64,
            0x0102,
            0,
            [2, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
        ),
        (
            IvMode::Plain64Be,
            0x0102,
            0,
            [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2],
        ),
        (
            IvMode::Benbi,
            1,
            5,
            [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 33],
        ),
        (IvMode::Null, 7, 0, [0; 16]),
    ];
    for (mode, sector, shift, want) in cases {
        let ok = generate(mode, &mut iv, sector, shift).is_ok();
        kunit_expect!(
            test,
            ok && iv == want,
            "{:?} sector {}: {:?}",
            mode,
            sector,
            iv
        );
    }
}
