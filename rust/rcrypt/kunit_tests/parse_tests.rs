// SPDX-License-Identifier: GPL-2.0

//! The table parser, built as the kernel builds it: valid and invalid tables, the late stages, key forms and IV modes.

use super::*;

pub(super) fn parse_valid_tables(test: &mut Test) {
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

pub(super) fn parse_invalid_tables(test: &mut Test) {
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

pub(super) fn parse_late_stages(test: &mut Test) {
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

pub(super) fn key_forms(test: &mut Test) {
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

pub(super) fn iv_modes(test: &mut Test) {
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
