// SPDX-License-Identifier: GPL-2.0

//! KUnit suite `rcrypt`: runs in the kernel when dm-rcrypt.ko is loaded.
//!
//! It checks the table parser with the kernel's own build of it, the key
//! type's wiping, and the crypto wrapper against the kernel crypto API.

use super::cipher::SectorCipher;
use super::iv_vectors;
use super::table::{self, IvMode, KeySource, KeySpec, ParseError, CRYPTO_MAX_ALG_NAME};
use super::xts_vectors as xv;
use super::Rcrypt;
use crate::bio::{PagePool, MAX_LARGE_ORDER};
use crate::crypto::{Direction, RequestPool, Skcipher};
use crate::keys::SecretBytes;
use crate::kunit::Test;
use crate::kunit_expect;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use kernel::prelude::{KVec, GFP_KERNEL};

const KEY32: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
/// `ti->len` of the tables below: 64 MiB.
const LEN: u64 = 131072;

fn parse(line: &str) -> Result<table::Table<'_>, ParseError> {
    let mut args: [&str; 24] = [""; 24];
    let n = args
        .iter_mut()
        .zip(line.split_ascii_whitespace())
        .map(|(slot, word)| *slot = word)
        .count();
    table::parse_table(args.get(..n).unwrap_or(&[]), LEN)
}

fn api_name<'b>(t: &table::Table<'_>, buf: &'b mut [u8; CRYPTO_MAX_ALG_NAME]) -> &'b [u8] {
    t.crypto_api_name(buf).unwrap_or(b"<error>")
}

fn parse_valid_tables(test: &mut Test) {
    let cases: [(&str, &[u8], u32, u32); 6] = [
        ("aes-xts-plain64 K 0 /dev/ram0 0", b"xts(aes)", 32, 1),
        (
            "aes-cbc-essiv:sha256 K 0 /dev/ram0 0",
            b"essiv(cbc(aes),sha256)",
            32,
            1,
        ),
        ("capi:xts(aes)-plain64 K 0 /dev/ram0 0", b"xts(aes)", 32, 1),
        ("aes:2-cbc-plain64 K 0 /dev/ram0 0", b"cbc(aes)", 32, 2),
        ("aes K 0 /dev/ram0 0", b"cbc(aes)", 32, 1),
        ("twofish-cbc-benbi K 0 /dev/ram0 0", b"cbc(twofish)", 32, 1),
    ];
    for (line, name, key_size, tfms) in cases {
        let mut line_buf = [0u8; 160];
        let line = with_key(line, &mut line_buf);
        match parse(line) {
            Ok(t) => {
                let mut buf = [0u8; CRYPTO_MAX_ALG_NAME];
                let got = api_name(&t, &mut buf);
                kunit_expect!(
                    test,
                    got == name,
                    "{}: crypto API name {:?}",
                    line,
                    core::str::from_utf8(got)
                );
                kunit_expect!(
                    test,
                    t.key_size() == key_size,
                    "{}: key size {}",
                    line,
                    t.key_size()
                );
                kunit_expect!(
                    test,
                    t.tfms_count() == tfms,
                    "{}: tfms {}",
                    line,
                    t.tfms_count()
                );
            }
            Err(e) => kunit_expect!(test, false, "{}: rejected: {:?}", line, e.msg),
        }
    }
}

/// Replaces the `K` placeholder with a 32-byte hex key; an empty line if
/// `buf` is too small.
fn with_key<'b>(line: &str, buf: &'b mut [u8; 160]) -> &'b str {
    let mut n = 0usize;
    for word in line.split(' ') {
        let w = if word == "K" { KEY32 } else { word };
        let sep: &[u8] = if n > 0 { b" " } else { b"" };
        for part in [sep, w.as_bytes()] {
            let Some(end) = n.checked_add(part.len()) else {
                return "";
            };
            let Some(dst) = buf.get_mut(n..end) else {
                return "";
            };
            dst.copy_from_slice(part);
            n = end;
        }
    }
    core::str::from_utf8(buf.get(..n).unwrap_or(&[])).unwrap_or("")
}

fn parse_invalid_tables(test: &mut Test) {
    let cases = [
        ("aes-xts-plain64 K 0 /dev/ram0", table::E_NOT_ENOUGH_ARGS),
        (
            "aes-xts-plain64 :abc:logon:x 0 /dev/ram0 0",
            table::E_KEY_SIZE,
        ),
        (
            "aes-xts-plain64 K 0 /dev/ram0 0 10 a b c d e f g h i j",
            table::E_NUM_FEATURE_ARGS,
        ),
        (
            "aes-xts-plain64 K 0 /dev/ram0 0 2 allow_discards",
            table::E_NUM_FEATURE_ARGS,
        ),
        (
            "aes-xts-plain64 K 0 /dev/ram0 0 x allow_discards",
            table::E_NUM_FEATURE_ARGS,
        ),
        (
            "aes-xts-plain64 K 0 /dev/ram0 0 1 integrity:0:none",
            table::E_INTEGRITY_ARGS,
        ),
        (
            "aes-xts-plain64 K 0 /dev/ram0 0 1 no_such_option",
            table::E_FEATURE_ARGS,
        ),
        (
            "aes-xts-plain64 K 0 /dev/ram0 0 1 sector_size:1000",
            table::E_SECTOR_SIZE,
        ),
        (
            "aes-xts-plain64 K 0 /dev/ram0 0 1 sector_size:8192",
            table::E_SECTOR_SIZE,
        ),
        ("aes:3-cbc-plain K 0 /dev/ram0 0", table::E_KEY_COUNT),
        ("aes-cbc K 0 /dev/ram0 0", table::E_IV_REQUIRED),
        ("aes-cbc-essiv K 0 /dev/ram0 0", table::E_ESSIV_DIGEST),
        ("xts(aes)-plain64 K 0 /dev/ram0 0", table::E_BAD_CIPHER),
    ];
    for (line, msg) in cases {
        let mut line_buf = [0u8; 160];
        let line = with_key(line, &mut line_buf);
        match parse(line) {
            Ok(_) => kunit_expect!(test, false, "{}: accepted, expected {:?}", line, msg),
            Err(e) => {
                kunit_expect!(
                    test,
                    e.msg == msg,
                    "{}: got {:?}, expected {:?}",
                    line,
                    e.msg,
                    msg
                );
                kunit_expect!(
                    test,
                    e.errno == table::EINVAL,
                    "{}: errno {}",
                    line,
                    e.errno
                );
            }
        }
    }
}

fn parse_late_stages(test: &mut Test) {
    let mut line_buf = [0u8; 160];
    // iv_offset must be a multiple of sector_size in 512-byte units (stage 7).
    let line = with_key(
        "aes-xts-plain64 K 3 /dev/ram0 0 1 sector_size:4096",
        &mut line_buf,
    );
    match parse(line) {
        Ok(t) => {
            kunit_expect!(test, t.options.sector_size == 4096);
            kunit_expect!(
                test,
                t.iv_offset().is_err(),
                "iv_offset 3 with 4096-byte sectors accepted"
            );
        }
        Err(e) => kunit_expect!(test, false, "{}: rejected: {:?}", line, e.msg),
    }
    let mut line_buf = [0u8; 160];
    let line = with_key("aes-xts-plain64 K 8 /dev/ram0 -1", &mut line_buf);
    match parse(line) {
        Ok(t) => {
            kunit_expect!(test, t.iv_offset() == Ok(8));
            kunit_expect!(test, t.start().is_err(), "start -1 accepted");
        }
        Err(e) => kunit_expect!(test, false, "{}: rejected: {:?}", line, e.msg),
    }
    // An unknown IV mode is only an error when the cipher has IVs (stage 3).
    match parse("cipher_null-ecb-bogus - 0 /dev/ram0 0") {
        Ok(t) => {
            kunit_expect!(test, t.iv_setup(0).map(|s| s.iv_mode_ignored) == Ok(true));
            kunit_expect!(
                test,
                t.iv_setup(16).is_err(),
                "unknown IV mode accepted with a 16-byte IV"
            );
        }
        Err(e) => kunit_expect!(test, false, "cipher_null-ecb-bogus rejected: {:?}", e.msg),
    }
}

fn key_forms(test: &mut Test) {
    // dm-crypt's get_key_size() is strlen >> 1: an odd trailing digit is ignored.
    kunit_expect!(test, table::get_key_size(b"abc").map(|k| k.size()) == Ok(1));
    match table::get_key_size(b":32:logon:my:key") {
        Ok(k @ KeySpec::Keyring { size: 32, .. }) => match k.source() {
            Ok(KeySource::Keyring { description, .. }) => {
                kunit_expect!(test, description == b"my:key")
            }
            _ => kunit_expect!(test, false, "keyring source not parsed"),
        },
        _ => kunit_expect!(test, false, ":32:logon:my:key not a 32-byte keyring key"),
    }
    kunit_expect!(test, table::get_key_size(b":32logon:x").is_err());
    kunit_expect!(
        test,
        table::get_key_size(b"-").map(|k| k.source()) == Ok(Ok(KeySource::Empty))
    );
    let mut out = [0u8; 2];
    kunit_expect!(
        test,
        table::decode_hex_key(b"0aFf", &mut out).is_ok() && out == [0x0a, 0xff]
    );
    kunit_expect!(test, table::decode_hex_key(b"0g00", &mut out).is_err());
}

fn iv_modes(test: &mut Test) {
    kunit_expect!(test, IvMode::from_name(b"plain64") == Some(IvMode::Plain64));
    kunit_expect!(
        test,
        IvMode::from_name(b"plain64be") == Some(IvMode::Plain64Be)
    );
    kunit_expect!(test, IvMode::from_name(b"lmk") == Some(IvMode::Lmk));
    kunit_expect!(test, IvMode::from_name(b"PLAIN64").is_none());
    // lmk: 64 transforms. A key that splits into 64 equal parts is lmk v2;
    // otherwise (v3) a 65th part of the same size is the IV seed.
    for (line, seed, extra) in [
        ("aes:64-cbc-lmk :1024:logon:k 0 /dev/ram0 0", false, 0),
        ("aes:64-cbc-lmk :1040:logon:k 0 /dev/ram0 0", true, 16),
    ] {
        match parse(line).map(|t| t.iv_setup(16)) {
            Ok(Ok(s)) => {
                kunit_expect!(test, s.tfms_count == 64 && s.iv_size == 16, "{}", line);
                kunit_expect!(test, s.lmk_has_seed() == seed, "{}: seed", line);
                kunit_expect!(
                    test,
                    s.key_extra_size == extra,
                    "{}: extra {}",
                    line,
                    s.key_extra_size
                );
                kunit_expect!(
                    test,
                    s.subkey_size() == 16,
                    "{}: subkey {}",
                    line,
                    s.subkey_size()
                );
            }
            Ok(Err(e)) | Err(e) => kunit_expect!(test, false, "{}: {:?}", line, e.msg),
        }
    }
}

fn secret_bytes_wipe(test: &mut Test) {
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
fn secret_bytes_zero_when_freed(test: &mut Test) {
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
fn key_argument_overwritten(test: &mut Test) {
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

fn skcipher_wrapper(test: &mut Test) {
    match Skcipher::new(c"xts(aes)", 0, 0) {
        Ok(mut tfm) => {
            kunit_expect!(
                test,
                tfm.iv_size() == 16,
                "xts(aes) ivsize {}",
                tfm.iv_size()
            );
            kunit_expect!(test, tfm.block_size() == 16);
            let mut key = [0u8; 32];
            key.iter_mut().enumerate().for_each(|(i, b)| *b = i as u8);
            kunit_expect!(test, tfm.set_key(&key).is_ok());
            kunit_expect!(
                test,
                tfm.set_key(&key[..7]).is_err(),
                "7-byte xts key accepted"
            );
        }
        Err(e) => kunit_expect!(test, false, "xts(aes) allocation failed: {:?}", e),
    }
    kunit_expect!(test, Skcipher::new(c"nosuchmode(aes)", 0, 0).is_err());
}

/// Builds the sector cipher of `cipher` with `key` and the optional
/// parameters `opts` the way the constructor does (stages 1 to 6). Returns
/// it with its IV size and scratch size.
fn sector_cipher(
    cipher: &str,
    key: &[u8],
    opts: &[&str],
) -> Result<(SectorCipher, u32, usize), &'static str> {
    let mut hex = [0u8; 2 * 1040];
    let digits = b"0123456789abcdef";
    let digit = |v: u8| digits.get(usize::from(v)).copied().ok_or("hex digit");
    // (Iterators, not chunks: objtool does not know the division panic of
    // their length as a function that does not return.)
    let mut out = hex.iter_mut();
    for &b in key {
        for v in [b >> 4, b & 15] {
            *out.next().ok_or("key too long")? = digit(v)?;
        }
    }
    let hex_len = key.len().checked_mul(2).ok_or("key too long")?;
    let hex = core::str::from_utf8(hex.get(..hex_len).ok_or("key too long")?).map_err(|_| "hex")?;
    let mut args: [&str; 12] = [
        cipher,
        hex,
        "0",
        "/dev/null",
        "0",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
    ];
    let mut argc = 5;
    let mut count = [0u8; 1];
    if !opts.is_empty() {
        count[0] = *b"0123456789".get(opts.len()).ok_or("too many options")?;
        args[5] = core::str::from_utf8(&count).map_err(|_| "count")?;
        for (slot, o) in args.iter_mut().skip(6).zip(opts) {
            *slot = o;
        }
        argc = opts.len().checked_add(6).ok_or("too many options")?;
    }
    let t =
        table::parse_table(args.get(..argc).ok_or("too many options")?, 8).map_err(|_| "parse")?;
    let mut tfms = Rcrypt::alloc_tfms(&t).map_err(|_| "tfm allocation")?;
    let ivsize = tfms.first().map(|t| t.iv_size() as u32).ok_or("no tfm")?;
    let block_size = tfms
        .first()
        .map(|t| t.block_size() as u32)
        .ok_or("no tfm")?;
    let setup = t.iv_setup(ivsize).map_err(|_| "iv setup")?;
    let key = Rcrypt::set_key(&t, &setup, &tfms).map_err(|_| "set key")?;
    let iv_ctr =
        Rcrypt::iv_ctr_init(&t, &setup, block_size, &key, &mut tfms).map_err(|_| "iv ctr/init")?;
    let o = &t.options;
    Ok((
        SectorCipher::new(tfms, &setup, &iv_ctr, o),
        setup.iv_size,
        SectorCipher::scratch_len(setup.mode, o.sector_size),
    ))
}

/// One 512-byte sector through `SectorCipher::crypt_block` (the path every
/// bio takes), both ways, against a known answer.
fn check_sector(
    test: &mut Test,
    name: &str,
    cipher: &str,
    key: &[u8],
    sector: u64,
    ptext: &[u8; 512],
    ctext: &[u8; 512],
) {
    check_block(test, name, cipher, key, &[], sector, ptext, ctext)
}

/// One `sector_size` block (the length of `ptext`) of a table with optional
/// parameters `opts` through `SectorCipher::crypt_block`, both ways.
#[allow(clippy::too_many_arguments)]
fn check_block(
    test: &mut Test,
    name: &str,
    cipher: &str,
    key: &[u8],
    opts: &[&str],
    sector: u64,
    ptext: &[u8],
    ctext: &[u8],
) {
    let (sc, iv_size, scratch) = match sector_cipher(cipher, key, opts) {
        Ok(v) => v,
        Err(e) => return kunit_expect!(test, false, "{}: {}", name, e),
    };
    let Ok(pages) = PagePool::new(1) else {
        return kunit_expect!(test, false, "{}: page pool", name);
    };
    let Ok(reqs) = RequestPool::new(1, sc.tfms.max_reqsize(), iv_size as usize, scratch) else {
        return kunit_expect!(test, false, "{}: request pool", name);
    };
    let Some(mut page) = pages.alloc() else {
        return kunit_expect!(test, false, "{}: allocation", name);
    };
    // The request both from the pool and laid out in a caller's area (a
    // bio's per-bio data); an area one byte short falls back to the pool.
    let size = RequestPool::element_size(sc.tfms.max_reqsize(), iv_size as usize, scratch);
    let Some(short) = size.checked_sub(1) else {
        return kunit_expect!(test, false, "{}: empty request", name);
    };
    let Ok(mut area) = KVec::from_elem(core::mem::MaybeUninit::<u8>::uninit(), size, GFP_KERNEL)
    else {
        return kunit_expect!(test, false, "{}: area", name);
    };
    for placed in [false, true] {
        let req = if placed {
            Some(&mut area[..])
        } else {
            area.get_mut(..short)
        }
        .map(|a| reqs.get(a));
        let Some(Ok(mut req)) = req else {
            return kunit_expect!(test, false, "{}: request", name);
        };
        kunit_expect!(
            test,
            req.in_area() == placed,
            "{}: request placed in the area: {}",
            name,
            req.in_area()
        );
        let mut buf = [0u8; 4096];
        let Some(out) = buf.get_mut(..ptext.len()) else {
            return kunit_expect!(test, false, "{}: block too large", name);
        };
        kunit_expect!(test, page.write(0, ptext));
        let Some(tfms) = sc.tfms.enter() else {
            return kunit_expect!(test, false, "{}: transforms busy", name);
        };
        let r = sc.crypt_block(
            &tfms,
            &mut req,
            Direction::Encrypt,
            sector,
            page.at(0),
            page.at(0),
        );
        kunit_expect!(
            test,
            r.is_ok() && page.read(0, out) && *out == *ctext,
            "{}: encryption differs",
            name
        );
        let r = sc.crypt_block(
            &tfms,
            &mut req,
            Direction::Decrypt,
            sector,
            page.at(0),
            page.at(0),
        );
        kunit_expect!(
            test,
            r.is_ok() && page.read(0, out) && *out == *ptext,
            "{}: decryption differs",
            name
        );
    }
    pages.free(page);
}

/// A page of sectors through `SectorCipher::crypt_sectors` (the page runs
/// of `Rcrypt::convert`) gives the bytes `crypt_block` gives sector by
/// sector, for the IVs it takes a shortcut for (`simple`) and one it does
/// not (two keys), and decrypts back.
fn page_runs_match_sectors(test: &mut Test) {
    // Byte `i` is `i * 7 + 3` mod 256.
    let key: [u8; 128] = core::array::from_fn(|i| (i as u8).wrapping_mul(7).wrapping_add(3));
    let cases: [(&str, usize, &[&str], bool); 8] = [
        ("aes-xts-plain64", 64, &[], true),
        ("aes-xts-plain64", 64, &["sector_size:4096"], true),
        (
            "aes-cbc-essiv:sha256",
            32,
            &["sector_size:1024", "iv_large_sectors"],
            true,
        ),
        ("aes-cbc-plain", 32, &[], true),
        ("aes-cbc-plain64be", 32, &[], true),
        ("aes-cbc-benbi", 32, &[], true),
        ("aes-cbc-null", 32, &[], true),
        ("aes:2-xts-plain64", 128, &[], false),
    ];
    let Ok(pages) = PagePool::new(2) else {
        return kunit_expect!(test, false, "page pool");
    };
    let (Ok(mut plain), Ok(mut a), Ok(mut b)) = (
        KVec::from_elem(0u8, 4096, GFP_KERNEL),
        KVec::from_elem(0u8, 4096, GFP_KERNEL),
        KVec::from_elem(0u8, 4096, GFP_KERNEL),
    ) else {
        return kunit_expect!(test, false, "allocation");
    };
    // Byte `i` is `i * 31 + i / 512` mod 256.
    for (i, p) in plain.iter_mut().enumerate() {
        *p = (i as u8).wrapping_mul(31).wrapping_add((i >> 9) as u8);
    }
    for (cipher, key_len, opts, simple) in cases {
        let Some(key) = key.get(..key_len) else {
            kunit_expect!(test, false, "{}: key too long", cipher);
            continue;
        };
        let (sc, iv_size, scratch) = match sector_cipher(cipher, key, opts) {
            Ok(v) => v,
            Err(e) => {
                kunit_expect!(test, false, "{}: {}", cipher, e);
                continue;
            }
        };
        kunit_expect!(
            test,
            sc.simple == simple,
            "{} {:?}: simple {}",
            cipher,
            opts,
            sc.simple
        );
        let (Ok(reqs), Some(mut run), Some(mut each)) = (
            RequestPool::new(1, sc.tfms.max_reqsize(), iv_size as usize, scratch),
            pages.alloc(),
            pages.alloc(),
        ) else {
            kunit_expect!(test, false, "{}: request pool or pages", cipher);
            continue;
        };
        let (Ok(mut req), Some(tfms)) = (reqs.alloc(), sc.tfms.enter()) else {
            kunit_expect!(test, false, "{}: request or transforms", cipher);
            continue;
        };
        kunit_expect!(test, run.write(0, &plain) && each.write(0, &plain));
        // 4096-byte sectors start at 512-byte sector 8000, the others at 1001
        // (an odd sector: benbi and plain64be show it).
        let first = if sc.sector_size == 4096 { 8000 } else { 1001 };
        let mut sector = first;
        let r = sc.crypt_sectors(
            &tfms,
            &mut req,
            Direction::Encrypt,
            &mut sector,
            run.at(0),
            run.at(0),
        );
        let moved = sector == first.wrapping_add(8);
        kunit_expect!(
            test,
            r.is_ok() && moved,
            "{} {:?}: run encryption failed",
            cipher,
            opts
        );
        let ss = sc.sector_size;
        // (Shifts, not divisions: objtool does not know the division panic
        // as a function that does not return.)
        let step = u64::from(ss >> 9);
        let mut ok = true;
        let mut iv_sector = first;
        for k in 0..4096 >> ss.trailing_zeros() {
            let at = each.at(k << ss.trailing_zeros());
            let Some(s) = at.sub(0, ss) else {
                ok = false;
                break;
            };
            ok &= sc
                .crypt_block(&tfms, &mut req, Direction::Encrypt, iv_sector, s, s)
                .is_ok();
            iv_sector = iv_sector.wrapping_add(step);
        }
        kunit_expect!(test, ok, "{} {:?}: sector encryption failed", cipher, opts);
        let same = run.read(0, &mut a) && each.read(0, &mut b) && a == b && a != plain;
        kunit_expect!(
            test,
            same,
            "{} {:?}: page run and sectors differ",
            cipher,
            opts
        );
        let mut sector = first;
        let r = sc.crypt_sectors(
            &tfms,
            &mut req,
            Direction::Decrypt,
            &mut sector,
            run.at(0),
            run.at(0),
        );
        kunit_expect!(
            test,
            r.is_ok() && run.read(0, &mut a) && a == plain,
            "{} {:?}: run decryption differs",
            cipher,
            opts
        );
        drop(req);
        pages.free(run);
        pages.free(each);
    }
}

fn xts_ieee1619_vector_4(test: &mut Test) {
    check_sector(
        test,
        "XTS-AES-128 vector 4",
        "aes-xts-plain64",
        &xv::V4_KEY,
        xv::V4_SECTOR,
        &xv::V4_PTEXT,
        &xv::V4_CTEXT,
    );
}

fn xts_ieee1619_vector_10(test: &mut Test) {
    check_sector(
        test,
        "XTS-AES-256 vector 10",
        "aes-xts-plain64",
        &xv::V10_KEY,
        xv::V10_SECTOR,
        &xv::V10_PTEXT,
        &xv::V10_CTEXT,
    );
    // The capi: form names the same transform.
    check_sector(
        test,
        "capi XTS-AES-256 vector 10",
        "capi:xts(aes)-plain64",
        &xv::V10_KEY,
        xv::V10_SECTOR,
        &xv::V10_PTEXT,
        &xv::V10_CTEXT,
    );
}

/// The key of shared transforms only changes while no request path uses
/// them (the safety argument of `key set` / `key wipe`).
fn rekey_gate(test: &mut Test) {
    let mut tfms = kernel::prelude::KVec::new();
    match Skcipher::new(c"xts(aes)", 0, 0) {
        Ok(tfm) => kunit_expect!(test, tfms.push(tfm, kernel::prelude::GFP_KERNEL).is_ok()),
        Err(_) => return kunit_expect!(test, false, "xts(aes) allocation failed"),
    }
    let set = crate::crypto::TfmSet::new(tfms, 0u32);
    let key = [7u8; 64];
    let guard = set.enter();
    kunit_expect!(test, guard.is_some());
    kunit_expect!(
        test,
        set.rekey(|rk| rk.set_key(0, &key)).is_err(),
        "re-keyed while in use"
    );
    drop(guard);
    let r = set.rekey(|rk| {
        *rk.state() = 5;
        rk.set_key(0, &key)
    });
    kunit_expect!(test, matches!(r, Ok(Ok(()))), "re-key refused while idle");
    kunit_expect!(
        test,
        matches!(set.rekey(|rk| rk.set_key(0, &key[..7])), Ok(Err(_))),
        "7-byte key accepted"
    );
    kunit_expect!(
        test,
        set.rekey(|rk| rk.set_aux_key(&key[..32]))
            .is_ok_and(|r| r.is_err()),
        "no aux transform"
    );
    let guard = set.enter();
    kunit_expect!(
        test,
        guard.as_ref().is_some_and(|g| *g.state() == 5),
        "gate left closed, or state lost"
    );
}

/// What [`rekey_gate_hammer`]'s two threads share.
#[kernel::prelude::pin_data]
struct Hammer {
    set: crate::crypto::TfmSet<[u64; 2]>,
    stop: AtomicBool,
    torn: AtomicU64,
    entered: AtomicU64,
    #[pin]
    done: kernel::sync::Mutex<bool>,
    #[pin]
    done_cv: kernel::sync::CondVar,
}

/// The key gate under load: a kworker enters and leaves as fast as it can
/// while the test's thread re-keys (a real `setkey` between two writes of
/// the key state), leaving the key wiped every eighth time. No user may see
/// the state half written, and the gate ends open: with the old gate, a
/// `fetch_add` undone after a reopening's `store(0)` wrapped the count and
/// shut it for good.
fn rekey_gate_hammer(test: &mut Test) {
    use kernel::init::InPlaceInit;
    use kernel::sync::Arc;
    let mut tfms = KVec::new();
    match Skcipher::new(c"xts(aes)", 0, 0) {
        Ok(tfm) => kunit_expect!(test, tfms.push(tfm, GFP_KERNEL).is_ok()),
        Err(_) => return kunit_expect!(test, false, "xts(aes) allocation failed"),
    }
    let init = kernel::prelude::pin_init!(Hammer {
        set: crate::crypto::TfmSet::new(tfms, [0u64; 2]),
        stop: AtomicBool::new(false),
        torn: AtomicU64::new(0),
        entered: AtomicU64::new(0),
        done <- kernel::new_mutex!(false),
        done_cv <- kernel::new_condvar!(),
    });
    let Ok(shared) = Arc::pin_init(init, GFP_KERNEL) else {
        return kunit_expect!(test, false, "allocation");
    };
    let key = [7u8; 64];
    let worker = shared.clone();
    let spawned = kernel::workqueue::system_unbound().try_spawn(GFP_KERNEL, move || {
        while !worker.stop.load(Relaxed) {
            if let Some(user) = worker.set.enter() {
                let first = user.state()[0];
                core::hint::spin_loop();
                if user.state()[1] != first {
                    worker.torn.fetch_add(1, Relaxed);
                }
                worker.entered.fetch_add(1, Relaxed);
            }
        }
        *worker.done.lock() = true;
        worker.done_cv.notify_all();
    });
    if spawned.is_err() {
        return kunit_expect!(test, false, "cannot start the worker");
    }
    let (mut rekeys, mut busy, mut k) = (0u64, 0u64, 0u64);
    let deadline = crate::wq::now_ns().saturating_add(1_000_000_000);
    while crate::wq::now_ns() < deadline {
        k = k.wrapping_add(1);
        let r = shared.set.rekey(|rk| {
            rk.state()[0] = k;
            let r = rk.set_key(0, &key);
            rk.state()[1] = k;
            rk.set_key_valid(k % 8 != 0);
            r
        });
        match r {
            Ok(r) => {
                kunit_expect!(test, r.is_ok(), "setkey failed");
                rekeys = rekeys.saturating_add(1);
            }
            Err(_) => busy = busy.saturating_add(1),
        }
    }
    shared.stop.store(true, Relaxed);
    let mut done = shared.done.lock();
    while !*done {
        shared.done_cv.wait(&mut done);
    }
    drop(done);
    let (torn, entered) = (shared.torn.load(Relaxed), shared.entered.load(Relaxed));
    kunit_expect!(test, torn == 0, "{} users saw a re-key half done", torn);
    kunit_expect!(
        test,
        entered > 0 && rekeys > 0,
        "no contention: {} entries, {} re-keys",
        entered,
        rekeys
    );
    kunit_expect!(
        test,
        shared.set.rekey(|rk| rk.set_key_valid(true)).is_ok(),
        "gate not idle after the hammer"
    );
    kunit_expect!(
        test,
        shared.set.enter().is_some(),
        "gate shut after the hammer"
    );
    kernel::pr_info!(
        "rcrypt kunit: gate hammer: {} entries, {} re-keys, {} refused as busy\n",
        entered,
        rekeys,
        busy
    );
}

/// The write-buffer pool counts every page it holds (reserve, single and
/// compound pages) and stops at the cap as dm-crypt's `crypt_page_alloc`
/// and `crypt_alloc_buffer` do: at the cap, no compound page and no new
/// single page; a single page still comes from the reserve, and once that
/// is empty an allocation that may not wait fails.
fn page_pool_cap(test: &mut Test) {
    let Ok(pool) = PagePool::new(2) else {
        return kunit_expect!(test, false, "page pool");
    };
    let cap = PagePool::cap();
    kunit_expect!(
        test,
        cap >= 4096,
        "cap {} below DM_CRYPT_MIN_PAGES_PER_CLIENT",
        cap
    );
    kunit_expect!(
        test,
        pool.pages() == 2 && pool.peak() == 2,
        "fresh pool: {} pages, peak {}",
        pool.pages(),
        pool.peak()
    );
    kunit_expect!(
        test,
        pool.try_alloc_large(0).is_none() && pool.try_alloc_large(MAX_LARGE_ORDER + 1).is_none()
    );
    let mut held = KVec::new();
    // Up to the cap: compound pages as large as what is left, else single
    // pages (new ones while under the cap).
    let mut ok = true;
    while ok && pool.pages() < cap {
        let left = cap.saturating_sub(pool.pages());
        let order = left.checked_ilog2().unwrap_or(0).min(MAX_LARGE_ORDER);
        let Some(page) = pool.try_alloc_large(order).or_else(|| pool.try_alloc()) else {
            break;
        };
        ok = keep(&pool, &mut held, page);
    }
    if PagePool::cap() != cap {
        // Another rcrypt target came or went: the cap moved under the test.
        kunit_expect!(test, ok, "bookkeeping");
    } else {
        kunit_expect!(
            test,
            ok && pool.pages() == cap,
            "filled to {} of {} pages",
            pool.pages(),
            cap
        );
        if let Some(page) = pool.try_alloc_large(1) {
            kunit_expect!(test, false, "compound page beyond the cap");
            pool.free(page);
        }
        // The two reserve pages, without growing the count; then nothing.
        for _ in 0..2 {
            match pool.try_alloc() {
                Some(p) => ok &= keep(&pool, &mut held, p),
                None => kunit_expect!(test, false, "reserve page refused at the cap"),
            }
        }
        if let Some(page) = pool.try_alloc() {
            kunit_expect!(test, false, "page beyond the cap and the reserve");
            pool.free(page);
        }
        kunit_expect!(
            test,
            ok && pool.pages() == cap && pool.peak() == cap,
            "{} pages, peak {}, cap {}",
            pool.pages(),
            pool.peak(),
            cap
        );
    }
    for page in held {
        pool.free(page);
    }
    kunit_expect!(
        test,
        pool.pages() == 2,
        "{} pages after every page came back",
        pool.pages()
    );
}

/// Keeps `page` in `held`, or gives it back to `pool` if `held` cannot grow.
fn keep(
    pool: &PagePool,
    held: &mut KVec<crate::bio::PoolPage>,
    page: crate::bio::PoolPage,
) -> bool {
    if held.reserve(1, GFP_KERNEL).is_err() {
        pool.free(page);
        return false;
    }
    held.push(page, GFP_KERNEL).is_ok()
}

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
fn stateful_iv_known_answers(test: &mut Test) {
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
fn iv_keys_wipe_and_init(test: &mut Test) {
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
    let zero = |k: &super::cipher::IvKeys| match k {
        super::cipher::IvKeys::Tcw { iv_seed, whitening } => {
            iv_seed.iter().chain(whitening.iter()).all(|b| *b == 0)
        }
        _ => false,
    };
    kunit_expect!(
        test,
        sc.tfms.enter().is_some_and(|u| !zero(u.state())),
        "tcw keys not set"
    );
    let r = sc.tfms.rekey(|rk| super::cipher::iv_wipe(rk, &setup));
    kunit_expect!(test, matches!(r, Ok(Ok(()))));
    kunit_expect!(
        test,
        sc.tfms.enter().is_some_and(|u| zero(u.state())),
        "tcw keys not wiped"
    );
    let r = sc.tfms.rekey(|rk| super::cipher::iv_init(rk, &setup, &key));
    kunit_expect!(test, matches!(r, Ok(Ok(()))));
    let expect_seed = |k: &super::cipher::IvKeys| match k {
        super::cipher::IvKeys::Tcw { iv_seed, whitening } => {
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

fn iv_generators(test: &mut Test) {
    use super::iv::generate;
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

crate::kunit_suite!(
    "rcrypt",
    [
        parse_valid_tables,
        parse_invalid_tables,
        parse_late_stages,
        key_forms,
        iv_modes,
        secret_bytes_wipe,
        secret_bytes_zero_when_freed,
        key_argument_overwritten,
        skcipher_wrapper,
        xts_ieee1619_vector_4,
        xts_ieee1619_vector_10,
        page_runs_match_sectors,
        iv_generators,
        stateful_iv_known_answers,
        iv_keys_wipe_and_init,
        rekey_gate,
        rekey_gate_hammer,
        page_pool_cap,
    ]
);
