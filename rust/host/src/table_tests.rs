// SPDX-License-Identifier: GPL-2.0

//! Tests of `table.rs` against the semantics of dm-crypt 1.28.0 (Linux 6.12).

use crate::table::*;
use core::ffi::CStr;

/// 32-byte key.
const K32: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
/// 64-byte key.
const K64: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\
                   202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f";
/// Length of the test device (and default table length) in sectors.
const DEV_SECTORS: u64 = 131072;
/// The backing device of the simulation.
const DEV: &str = "/dev/ram0";

fn split(line: &str) -> Vec<&str> {
    line.split_ascii_whitespace().collect()
}

/// Test tables live for the whole test run (the parser borrows from its input).
fn leak(line: &str) -> &'static str {
    Box::leak(line.to_owned().into_boxed_str())
}

fn parse(line: &str) -> Result<Table<'static>, ParseError> {
    parse_table(&split(leak(line)), DEV_SECTORS)
}

fn parse_len(line: &str, len: u64) -> Result<Table<'static>, ParseError> {
    parse_table(&split(leak(line)), len)
}

fn err(line: &str) -> &'static CStr {
    match parse(line) {
        Ok(t) => panic!("accepted {line:?}: {t:?}"),
        Err(e) => {
            assert_eq!(e.errno, EINVAL, "{line:?}");
            e.msg
        }
    }
}

fn ok(line: &str) -> Table<'static> {
    match parse(line) {
        Ok(t) => t,
        Err(e) => panic!("rejected {line:?}: {e:?}"),
    }
}

fn opts(extra: &str) -> String {
    format!("aes-xts-plain64 {K64} 0 /dev/x 0 {extra}")
}

fn name(t: &Table<'_>) -> Result<String, ParseError> {
    let mut buf = [0xffu8; CRYPTO_MAX_ALG_NAME];
    let n = t.crypto_api_name(&mut buf)?;
    let len = n.len();
    let s = String::from_utf8(n.to_vec()).unwrap();
    assert_eq!(buf[len], 0, "NUL after the name");
    Ok(s)
}

fn name_of(cipher: &str) -> String {
    let line = format!("{cipher} {K32} 0 /dev/x 0");
    name(&ok(&line)).unwrap()
}

// ---------------------------------------------------------------------------------------------
// Kernel C library emulation.
// ---------------------------------------------------------------------------------------------

#[test]
fn kernel_isspace() {
    for b in [b'\t', b'\n', 0x0b, 0x0c, b'\r', b' ', 0xa0] {
        assert!(is_kernel_space(b), "{b:#x}");
    }
    for b in [0u8, 0x08, 0x0e, 0x1f, b'a', b'0', 0x85, 0x9f, 0xa1, 0xff] {
        assert!(!is_kernel_space(b), "{b:#x}");
    }
}

#[test]
fn scan_u64_semantics() {
    assert_eq!(scan_u64(b"0"), Some((0, &b""[..])));
    assert_eq!(scan_u64(b"007"), Some((7, &b""[..])));
    assert_eq!(scan_u64(b"12ab"), Some((12, &b"ab"[..])));
    // Leading kernel whitespace is skipped, including 0xa0.
    assert_eq!(scan_u64(b" \t5"), Some((5, &b""[..])));
    assert_eq!(scan_u64(b"\xa05"), Some((5, &b""[..])));
    // Trailing whitespace is left for %c.
    assert_eq!(scan_u64(b"5 "), Some((5, &b" "[..])));
    // No sign, no empty, no whitespace-only.
    for s in [&b"+5"[..], b"-5", b"", b"  ", b"x", b"\xc2\xa05"] {
        assert_eq!(scan_u64(s), None, "{s:?}");
    }
    // Base 10 only: "0x10" is 0 followed by "x10".
    assert_eq!(scan_u64(b"0x10"), Some((0, &b"x10"[..])));
    // simple_strntoull wraps silently modulo 2^64.
    assert_eq!(
        scan_u64(b"18446744073709551615"),
        Some((u64::MAX, &b""[..]))
    );
    assert_eq!(scan_u64(b"18446744073709551616"), Some((0, &b""[..])));
    assert_eq!(scan_u64(b"18446744073709551617"), Some((1, &b""[..])));
    assert_eq!(
        scan_u64(b"100000000000000000000"),
        Some((100000000000000000000u128 as u64, &b""[..]))
    );
}

#[test]
fn scan_exact_semantics() {
    assert_eq!(scan_u64_exact(b"42"), Some(42));
    assert_eq!(scan_u64_exact(b" 42"), Some(42));
    // "%llu%c" returns 2 when anything follows, even whitespace or a newline (unlike
    // kstrtouint, which accepts one trailing '\n').
    assert_eq!(scan_u64_exact(b"42 "), None);
    assert_eq!(scan_u64_exact(b"42\n"), None);
    assert_eq!(scan_u64_exact(b"42x"), None);
    assert_eq!(scan_u64_exact(b"+42"), None);
    // %u truncates to 32 bits.
    assert_eq!(scan_u32_exact(b"4294967295"), Some(u32::MAX));
    assert_eq!(scan_u32_exact(b"4294967296"), Some(0));
    assert_eq!(scan_u32_exact(b"4294967298"), Some(2));
}

// ---------------------------------------------------------------------------------------------
// Argument count and key size.
// ---------------------------------------------------------------------------------------------

#[test]
fn not_enough_arguments() {
    assert_eq!(
        parse_table::<str>(&[], DEV_SECTORS).unwrap_err().msg,
        E_NOT_ENOUGH_ARGS
    );
    assert_eq!(err("aes-xts-plain64"), E_NOT_ENOUGH_ARGS);
    assert_eq!(
        err(&format!("aes-xts-plain64 {K64} 0 /dev/x")),
        E_NOT_ENOUGH_ARGS
    );
    // Checked before anything else.
    assert_eq!(err("( :x 0 /dev/x"), E_NOT_ENOUGH_ARGS);
}

#[test]
fn hex_key_size() {
    let t = ok(&format!("aes-xts-plain64 {K64} 0 /dev/x 0"));
    assert_eq!(t.key_size(), 64);
    assert_eq!(
        t.key,
        KeySpec::Hex {
            text: K64.as_bytes(),
            size: 64
        }
    );
    // strlen >> 1: odd lengths round down, anything goes at this stage.
    let t = ok("aes-xts-plain64 abc 0 /dev/x 0");
    assert_eq!(t.key_size(), 1);
    let t = ok("aes-xts-plain64 - 0 /dev/x 0");
    assert_eq!(t.key_size(), 0);
    let t = ok("aes-xts-plain64 zz 0 /dev/x 0");
    assert_eq!(t.key_size(), 1);
}

#[test]
fn keyring_key_size() {
    let t = ok("aes-xts-plain64 :32:logon:my_prefix:my_key 0 /dev/x 0");
    assert_eq!(
        t.key,
        KeySpec::Keyring {
            size: 32,
            spec: b"logon:my_prefix:my_key"
        }
    );
    // Leading zeros, leading (escaped) whitespace, 32-bit wrap.
    assert_eq!(get_key_size(b":032:user:k").unwrap().size(), 32);
    assert_eq!(get_key_size(b": 16:user:k").unwrap().size(), 16);
    assert_eq!(get_key_size(b":4294967328:user:k").unwrap().size(), 32);
    assert_eq!(
        get_key_size(b":2147483647:user:k").unwrap().size(),
        i32::MAX as u32
    );
    // The remaining string may be anything, even empty (rejected later).
    assert_eq!(
        get_key_size(b":32:").unwrap(),
        KeySpec::Keyring {
            size: 32,
            spec: b""
        }
    );
    assert_eq!(get_key_size(b":0:logon:k").unwrap().size(), 0);
    for bad in [
        &b":"[..],
        b"::",
        b":32",
        b":x:logon:k",
        b"::logon:k",
        b":+32:logon:k",
        b":-1:logon:k",
        b":32x:logon:k",
        b":32 :logon:k",
        b":2147483648:logon:k",
        b":4294967295:logon:k",
        b":0x20:logon:k",
    ] {
        assert_eq!(
            get_key_size(bad).unwrap_err(),
            ParseError::inval(E_KEY_SIZE),
            "{bad:?}"
        );
    }
}

#[test]
fn key_size_checked_before_options_and_cipher() {
    let line = "( :x 0 /dev/x 0 99 junk";
    assert_eq!(err(line), E_KEY_SIZE);
}

// ---------------------------------------------------------------------------------------------
// Key material (stage 4).
// ---------------------------------------------------------------------------------------------

fn key_source_of(key: &str) -> Result<KeySource<'static>, ParseError> {
    get_key_size(leak(key).as_bytes())?.source()
}

#[test]
fn key_source_hex() {
    assert_eq!(key_source_of("-"), Ok(KeySource::Empty));
    assert_eq!(key_source_of(K32), Ok(KeySource::Hex(K32.as_bytes())));
    // Odd length: the last character is never looked at.
    let odd = format!("{K32}x");
    assert_eq!(key_source_of(&odd), Ok(KeySource::Hex(K32.as_bytes())));
    assert_eq!(
        key_source_of("ABCDEFabcdef"),
        Ok(KeySource::Hex(b"ABCDEFabcdef"))
    );
    let set_key = Err(ParseError::inval(E_SET_KEY));
    // Size 0 but not "-".
    assert_eq!(key_source_of("0"), set_key);
    assert_eq!(key_source_of("x"), set_key);
    // Size 1 with non-hex digits.
    assert_eq!(key_source_of("--"), set_key);
    assert_eq!(key_source_of("-0"), set_key);
    assert_eq!(key_source_of("0g"), set_key);
    assert_eq!(key_source_of("0 "), set_key);
    let mut nonhex = String::from(&K32[..63]);
    nonhex.push('g');
    assert_eq!(key_source_of(&nonhex), set_key);
}

#[test]
fn decode_hex() {
    let mut out = [0u8; 4];
    decode_hex_key(b"00a1FfE7", &mut out).unwrap();
    assert_eq!(out, [0x00, 0xa1, 0xff, 0xe7]);
    // Extra input is ignored (hex2bin reads exactly 2 * count characters).
    decode_hex_key(b"0102030405", &mut out).unwrap();
    assert_eq!(out, [1, 2, 3, 4]);
    let e = Err(ParseError::inval(E_SET_KEY));
    assert_eq!(decode_hex_key(b"010203", &mut out), e);
    assert_eq!(decode_hex_key(b"0102030g", &mut out), e);
    assert_eq!(decode_hex_key(b"", &mut []), Ok(()));
    let mut k = [0u8; 32];
    decode_hex_key(K32.as_bytes(), &mut k).unwrap();
    assert_eq!(k[31], 0x1f);
}

#[test]
fn key_source_keyring() {
    assert_eq!(
        key_source_of(":32:logon:my_prefix:my_key"),
        Ok(KeySource::Keyring {
            key_type: KeyringType::Logon,
            description: b"my_prefix:my_key"
        })
    );
    assert_eq!(
        key_source_of(":32:user:k"),
        Ok(KeySource::Keyring {
            key_type: KeyringType::User,
            description: b"k"
        })
    );
    assert_eq!(
        key_source_of(":32:encrypted:k"),
        Ok(KeySource::Keyring {
            key_type: KeyringType::Encrypted,
            description: b"k"
        })
    );
    assert_eq!(
        key_source_of(":32:trusted:k"),
        Ok(KeySource::Keyring {
            key_type: KeyringType::Trusted,
            description: b"k"
        })
    );
    assert_eq!(
        key_source_of(":32:logon::"),
        Ok(KeySource::Keyring {
            key_type: KeyringType::Logon,
            description: b":"
        })
    );
    let e = Err(ParseError::inval(E_SET_KEY));
    for bad in [
        ":0:logon:k",
        ":32:",
        ":32:logon",
        ":32:logon:",
        ":32::k",
        ":32:Logon:k",
        ":32:log:k",
        ":32:logonx:k",
        ":32:foo:k",
        ":32:logon:a b",
        ":32:logon:a\tb",
        ":32:logon:\u{e0}",
        ":32:logon:a\u{a0}",
    ] {
        assert_eq!(key_source_of(bad), e, "{bad:?}");
    }
    // A UTF-8 character without a 0xa0 byte is fine.
    assert!(key_source_of(":32:logon:\u{e9}").is_ok());
}

// ---------------------------------------------------------------------------------------------
// Optional parameters.
// ---------------------------------------------------------------------------------------------

#[test]
fn no_options() {
    let t = ok(&format!("aes-xts-plain64 {K64} 0 /dev/x 0"));
    assert_eq!(t.options, Options::default());
    assert_eq!(t.options.sector_size, 512);
    let t = ok(&opts("0"));
    assert_eq!(t.options, Options::default());
}

#[test]
fn flag_options() {
    let t = ok(&opts(
        "7 allow_discards same_cpu_crypt high_priority submit_from_crypt_cpus \
         no_read_workqueue no_write_workqueue iv_large_sectors",
    ));
    let o = t.options;
    assert!(o.allow_discards && o.same_cpu_crypt && o.high_priority);
    assert!(o.submit_from_crypt_cpus && o.no_read_workqueue && o.no_write_workqueue);
    assert!(o.iv_large_sectors);
    assert_eq!(o.integrity, None);
    assert!(!o.integrity_aead);
    // strcasecmp.
    let o = ok(&opts("3 ALLOW_DISCARDS Same_Cpu_Crypt IV_LARGE_SECTORS")).options;
    assert!(o.allow_discards && o.same_cpu_crypt && o.iv_large_sectors);
    // Duplicates are fine.
    let o = ok(&opts("2 allow_discards allow_discards")).options;
    assert!(o.allow_discards);
}

#[test]
fn option_count() {
    // dm_read_arg_group: sscanf "%u%c", 0..=9, at least that many args left.
    assert!(ok(&opts("01 allow_discards")).options.allow_discards);
    let nine = "9 allow_discards same_cpu_crypt high_priority submit_from_crypt_cpus \
                no_read_workqueue no_write_workqueue sector_size:4096 iv_large_sectors \
                integrity_key_size:32";
    let o = ok(&opts(nine)).options;
    assert_eq!(o.sector_size, 4096);
    assert_eq!(o.integrity_key_size, Some(32));
    for bad in [
        "10 a b c d e f g h i j",
        "2 allow_discards",
        "1",
        "x",
        "+1 allow_discards",
        "-1",
        "1x allow_discards",
        "0x1 allow_discards",
        "4294967306 a b c d e f g h i j",
    ] {
        assert_eq!(err(&opts(bad)), E_NUM_FEATURE_ARGS, "{bad}");
    }
    // A trailing newline (escaped into the argument) is not accepted by sscanf.
    let mut args = split(leak(&opts("")));
    args.push("1\n");
    args.push("allow_discards");
    assert_eq!(
        parse_table(&args, DEV_SECTORS).unwrap_err().msg,
        E_NUM_FEATURE_ARGS
    );
    // Leading (escaped) whitespace is.
    let mut args = split(leak(&opts("")));
    args.push(" 1");
    args.push("allow_discards");
    assert!(
        parse_table(&args, DEV_SECTORS)
            .unwrap()
            .options
            .allow_discards
    );
    // The count wraps modulo 2^32 (and 2^64 before that).
    let o = ok(&opts("4294967297 allow_discards")).options;
    assert!(o.allow_discards);
    let o = ok(&opts("4294967296 allow_discards")).options;
    assert!(!o.allow_discards);
    assert_eq!(o.ignored_args, 1);
    let o = ok(&opts("18446744073709551617 allow_discards")).options;
    assert!(o.allow_discards);
}

#[test]
fn trailing_args_ignored() {
    let o = ok(&opts("1 allow_discards trailing junk")).options;
    assert!(o.allow_discards);
    assert_eq!(o.ignored_args, 2);
    let o = ok(&opts("0 ( totally bogus")).options;
    assert_eq!(o.ignored_args, 3);
}

#[test]
fn unknown_options() {
    for bad in [
        "1 allow_discard",
        "1 allow_discards=1",
        "1 SECTOR_SIZE:4096",
        "1 Sector_size:4096",
        "1 INTEGRITY:32:none",
        "1 Integrity_key_size:32",
        "1 sector_size:4096x",
        "1 sector_size:",
        "1 sector_size:+4096",
        "1 sector_size:0x200",
        "1 integrity_key_size:32x",
        "1 integrity_key_size:",
        "1 integrity:",
        "1 integrity:x:none",
        "1 integrity:+32:none",
        "1 0",
        "2 allow_discards bogus",
    ] {
        assert_eq!(err(&opts(bad)), E_FEATURE_ARGS, "{bad}");
    }
}

#[test]
fn integrity_option() {
    let o = ok(&opts("1 integrity:32:none")).options;
    assert_eq!(
        o.integrity,
        Some(Integrity {
            tag_size: 32,
            profile: b"none"
        })
    );
    assert!(!o.integrity_aead);
    let o = ok(&opts("1 integrity:480:NONE")).options;
    assert_eq!(
        o.integrity,
        Some(Integrity {
            tag_size: 480,
            profile: b"NONE"
        })
    );
    // The digits may be followed by anything up to the first ':'.
    let o = ok(&opts("1 integrity:32x:none")).options;
    assert_eq!(
        o.integrity,
        Some(Integrity {
            tag_size: 32,
            profile: b"none"
        })
    );
    let o = ok(&opts("1 integrity:1:none")).options;
    assert_eq!(o.integrity.unwrap().tag_size, 1);
    // 32-bit wrap: 4294967328 = 32.
    let o = ok(&opts("1 integrity:4294967328:none")).options;
    assert_eq!(o.integrity.unwrap().tag_size, 32);
    // aead is sticky, the last profile and size win.
    let t = parse(&format!(
        "capi:gcm(aes)-random {K32} 0 /dev/x 0 2 integrity:32:aead integrity:16:none"
    ))
    .unwrap();
    assert!(t.options.integrity_aead);
    assert_eq!(
        t.options.integrity,
        Some(Integrity {
            tag_size: 16,
            profile: b"none"
        })
    );
    // Errors.
    assert_eq!(err(&opts("1 integrity:0:none")), E_INTEGRITY_ARGS);
    assert_eq!(err(&opts("1 integrity:481:none")), E_INTEGRITY_ARGS);
    assert_eq!(err(&opts("1 integrity:4294967296:none")), E_INTEGRITY_ARGS);
    // Range is checked before the profile.
    assert_eq!(err(&opts("1 integrity:0:bogus")), E_INTEGRITY_ARGS);
    // No ':' after the number: the C oopses (NULL + 1); rejected here.
    assert_eq!(err(&opts("1 integrity:32")), E_INTEGRITY_ARGS);
    assert_eq!(err(&opts("1 integrity:32x")), E_INTEGRITY_ARGS);
    assert_eq!(err(&opts("1 integrity:32:hmac")), E_INTEGRITY_PROFILE);
    assert_eq!(err(&opts("1 integrity:32:")), E_INTEGRITY_PROFILE);
    assert_eq!(err(&opts("1 integrity:32:aead:x")), E_INTEGRITY_PROFILE);
    assert_eq!(err(&opts("1 integrity:32:none:")), E_INTEGRITY_PROFILE);
}

#[test]
fn integrity_key_size_option() {
    let o = ok(&opts("1 integrity_key_size:16")).options;
    assert_eq!(o.integrity_key_size, Some(16));
    let o = ok(&opts("2 integrity_key_size:16 integrity_key_size:20")).options;
    assert_eq!(o.integrity_key_size, Some(20));
    assert_eq!(err(&opts("1 integrity_key_size:0")), E_INTEGRITY_KEY_SIZE);
    assert_eq!(
        err(&opts("1 integrity_key_size:4294967296")),
        E_INTEGRITY_KEY_SIZE
    );
}

#[test]
fn sector_size_option() {
    for (size, shift) in [(512, 0), (1024, 1), (2048, 2), (4096, 3)] {
        let o = ok(&opts(&format!("1 sector_size:{size}"))).options;
        assert_eq!((o.sector_size, o.sector_shift), (size, shift));
    }
    // %hu: 16-bit wrap.
    let o = ok(&opts("1 sector_size:66048")).options;
    assert_eq!(o.sector_size, 512);
    let o = ok(&opts("1 sector_size:69632")).options;
    assert_eq!(o.sector_size, 4096);
    let o = ok(&opts("1 sector_size:0004096")).options;
    assert_eq!(o.sector_size, 4096);
    // The last one wins.
    let o = ok(&opts("2 sector_size:4096 sector_size:1024")).options;
    assert_eq!(o.sector_size, 1024);
    for bad in [
        "0", "1", "256", "511", "513", "1536", "3072", "8192", "65536", "4095",
    ] {
        assert_eq!(
            err(&opts(&format!("1 sector_size:{bad}"))),
            E_SECTOR_SIZE,
            "{bad}"
        );
    }
    // ti->len must be a multiple of the sector size (in sectors), checked per option.
    let line = opts("1 sector_size:4096");
    assert_eq!(
        parse_len(&line, 131068).unwrap_err(),
        ParseError::inval(E_DEVICE_SIZE)
    );
    assert!(parse_len(&line, 8).is_ok());
    let line = opts("1 sector_size:1024");
    assert!(parse_len(&line, 131070).is_ok());
    assert_eq!(parse_len(&line, 131071).unwrap_err().msg, E_DEVICE_SIZE);
    // Range is checked before the length.
    assert_eq!(
        parse_len(&opts("1 sector_size:8192"), 3).unwrap_err().msg,
        E_SECTOR_SIZE
    );
    // A later valid sector_size does not rescue an earlier failure.
    let line = opts("2 sector_size:4096 sector_size:512");
    assert_eq!(parse_len(&line, 4).unwrap_err().msg, E_DEVICE_SIZE);
}

#[test]
fn options_before_cipher() {
    // crypt_ctr_optional runs before crypt_ctr_cipher.
    assert_eq!(
        err(&format!("aes(-cbc-plain {K32} 0 /dev/x 0 1 bogus")),
        E_FEATURE_ARGS
    );
    // ... but after get_key_size.
    assert_eq!(err("aes :x 0 /dev/x 0 1 bogus"), E_KEY_SIZE);
    // Options are only parsed if there are more than five arguments.
    assert_eq!(err(&format!("aes( {K32} 0 /dev/x 0")), E_BAD_CIPHER);
}

// ---------------------------------------------------------------------------------------------
// Cipher specification, legacy form.
// ---------------------------------------------------------------------------------------------

fn cipher(c: &str) -> Result<CipherSpec<'static>, ParseError> {
    parse_cipher(leak(c).as_bytes(), false)
}

#[test]
fn legacy_forms() {
    let c = cipher("aes-cbc-essiv:sha256").unwrap();
    assert!(!c.capi);
    assert_eq!(c.cipher, b"aes");
    assert_eq!(c.chainmode, b"cbc");
    assert_eq!(c.ivmode, Some(&b"essiv"[..]));
    assert_eq!(c.ivopts, Some(&b"sha256"[..]));
    assert_eq!(c.tfms_count(), 1);
    assert_eq!(c.auth_mac, None);

    let c = cipher("aes").unwrap();
    assert_eq!((c.chainmode, c.ivmode), (&b"cbc"[..], Some(&b"plain"[..])));
    let c = cipher("aes-plain").unwrap();
    assert_eq!((c.chainmode, c.ivmode), (&b"cbc"[..], Some(&b"plain"[..])));
    let c = cipher("aes-ecb").unwrap();
    assert_eq!((c.chainmode, c.ivmode, c.ivopts), (&b"ecb"[..], None, None));
    let c = cipher("aes-ecb-whatever:x").unwrap();
    assert_eq!(c.ivmode, Some(&b"whatever"[..]));
    // "plain" chain mode with an IV mode is not the compat form.
    let c = cipher("aes-plain-plain").unwrap();
    assert_eq!(c.chainmode, b"plain");
    // The IV mode takes everything up to the first ':' (it may contain '-').
    let c = cipher("aes-cbc-plain-64").unwrap();
    assert_eq!(c.ivmode, Some(&b"plain-64"[..]));
    let c = cipher("aes-cbc-essiv:sha256:x-y").unwrap();
    assert_eq!(c.ivopts, Some(&b"sha256:x-y"[..]));
    // Empty IV mode and options are non-NULL.
    let c = cipher("aes-cbc-").unwrap();
    assert_eq!(c.ivmode, Some(&b""[..]));
    let c = cipher("aes-cbc-essiv:").unwrap();
    assert_eq!(c.ivopts, Some(&b""[..]));
    // Empty cipher / chain mode pass the pure checks (the crypto API rejects them).
    let c = cipher("-cbc-plain").unwrap();
    assert_eq!(c.cipher, b"");
    let c = cipher("aes--plain").unwrap();
    assert_eq!(c.chainmode, b"");
    let c = cipher("").unwrap();
    assert_eq!((c.cipher, c.chainmode), (&b""[..], &b"cbc"[..]));
}

#[test]
fn legacy_keycount() {
    for (spec, n) in [
        ("aes:1-cbc-plain", 1),
        ("aes:2-cbc-plain", 2),
        ("aes:64-cbc-lmk", 64),
    ] {
        assert_eq!(cipher(spec).unwrap().tfms_count(), n);
    }
    assert_eq!(cipher("aes:01-cbc-plain").unwrap().tfms_count(), 1);
    assert_eq!(cipher("aes: 4-cbc-plain").unwrap().tfms_count(), 4);
    assert_eq!(
        cipher("aes:2147483648-cbc-plain").unwrap().tfms_count(),
        1 << 31
    );
    // 32-bit wrap: 4294967298 = 2.
    assert_eq!(cipher("aes:4294967298-cbc-plain").unwrap().tfms_count(), 2);
    assert_eq!(cipher("aes:4").unwrap().tfms_count(), 4);
    let e = Err(ParseError::inval(E_KEY_COUNT));
    for bad in [
        "aes:0-cbc-plain",
        "aes:3-cbc-plain",
        "aes:-cbc-plain",
        "aes:x-cbc-plain",
        "aes:+2-cbc-plain",
        "aes:2x-cbc-plain",
        "aes:2:2-cbc-plain",
        "aes:4294967296-cbc-plain",
        "aes:",
    ] {
        assert_eq!(cipher(bad), e, "{bad}");
    }
}

#[test]
fn legacy_errors_and_order() {
    let bad = Err(ParseError::inval(E_BAD_CIPHER));
    assert_eq!(cipher("xts(aes)-plain64"), bad);
    assert_eq!(cipher("aes-cbc-essiv:sha256(x)"), bad);
    assert_eq!(cipher("aes:3-cbc-essiv:("), bad);
    assert_eq!(parse_cipher(b"aes-xts-plain64", true), bad);

    let iv = Err(ParseError::inval(E_IV_REQUIRED));
    assert_eq!(cipher("aes-cbc"), iv);
    assert_eq!(cipher("aes-xts"), iv);
    assert_eq!(cipher("aes-ECB"), iv);
    assert_eq!(cipher("aes-"), iv);
    // keycount is checked first.
    assert_eq!(cipher("aes:3-cbc"), Err(ParseError::inval(E_KEY_COUNT)));

    let essiv = Err(ParseError::inval(E_ESSIV_DIGEST));
    assert_eq!(cipher("aes-cbc-essiv"), essiv);
    assert_eq!(cipher("aes-ecb-essiv"), essiv);
    // ESSIV checks are case-sensitive: ESSIV is just an (invalid) IV mode here.
    assert!(cipher("aes-cbc-ESSIV").is_ok());
}

#[test]
fn legacy_name_length() {
    // "cbc(" + cipher + ")" must be < 128 bytes.
    let c = "a".repeat(122);
    let spec = format!("{c}-cbc-plain");
    let t = ok(&format!("{spec} {K32} 0 /dev/x 0"));
    assert_eq!(name(&t).unwrap().len(), 127);
    let c = "a".repeat(123);
    let spec = format!("{c}-cbc-plain");
    assert_eq!(cipher(&spec), Err(ParseError::nomem(E_CIPHER_STRINGS)));
    // essiv: "essiv(cbc(" + c + ")," + h + ")" < 128.
    let h = "h".repeat(127 - 10 - 3 - 3);
    let spec = format!("aes-cbc-essiv:{h}");
    assert_eq!(name_of(&spec).len(), 127);
    let spec = format!("aes-cbc-essiv:{h}h");
    assert_eq!(cipher(&spec), Err(ParseError::nomem(E_CIPHER_STRINGS)));
    // Checked after the essiv digest check.
    let c = "a".repeat(200);
    assert_eq!(
        cipher(&format!("{c}-cbc-essiv")),
        Err(ParseError::inval(E_ESSIV_DIGEST))
    );
}

#[test]
fn legacy_names() {
    assert_eq!(name_of("aes-xts-plain64"), "xts(aes)");
    assert_eq!(name_of("aes-cbc-essiv:sha256"), "essiv(cbc(aes),sha256)");
    assert_eq!(name_of("aes"), "cbc(aes)");
    assert_eq!(name_of("aes-plain"), "cbc(aes)");
    assert_eq!(name_of("aes-ecb"), "ecb(aes)");
    assert_eq!(name_of("cipher_null-ecb"), "ecb(cipher_null)");
    assert_eq!(name_of("twofish-cbc-benbi"), "cbc(twofish)");
    assert_eq!(name_of("serpent:4-lrw-benbi"), "lrw(serpent)");
    assert_eq!(name_of("aes:64-cbc-lmk"), "cbc(aes)");
    assert_eq!(name_of("aes-cbc-tcw"), "cbc(aes)");
    assert_eq!(name_of("aes-cbc-elephant"), "cbc(aes)");
    assert_eq!(name_of("aes-cbc-eboiv"), "cbc(aes)");
    assert_eq!(name_of("aes-plain-plain"), "plain(aes)");
    assert_eq!(name_of("aes-cbc-essiv:"), "essiv(cbc(aes),)");
    assert_eq!(name_of("aes-ecb-essiv:md5"), "essiv(ecb(aes),md5)");
}

// ---------------------------------------------------------------------------------------------
// Cipher specification, capi form.
// ---------------------------------------------------------------------------------------------

#[test]
fn capi_forms() {
    let c = cipher("capi:xts(aes)-plain64").unwrap();
    assert!(c.capi);
    assert_eq!(
        (c.cipher, c.ivmode, c.ivopts),
        (&b"xts(aes)"[..], Some(&b"plain64"[..]), None)
    );
    assert_eq!(c.tfms_count(), 1);
    let c = cipher("capi:cbc(aes)-essiv:sha256").unwrap();
    assert_eq!(
        (c.cipher, c.ivmode, c.ivopts),
        (&b"cbc(aes)"[..], Some(&b"essiv"[..]), Some(&b"sha256"[..]))
    );
    // No '-': no IV mode at all (no "IV mechanism required" in this form).
    let c = cipher("capi:xts(aes)").unwrap();
    assert_eq!(
        (c.cipher, c.ivmode, c.ivopts),
        (&b"xts(aes)"[..], None, None)
    );
    // IV mode at the last '-', IV options at the last ':'.
    let c = cipher("capi:cbc(aes-x)-essiv:sha-256").unwrap();
    assert_eq!(c.cipher, b"cbc(aes-x)");
    assert_eq!(c.ivmode, Some(&b"essiv"[..]));
    assert_eq!(c.ivopts, Some(&b"sha-256"[..]));
    let c = cipher("capi:a-b:c-d:e").unwrap();
    assert_eq!(
        (c.cipher, c.ivmode, c.ivopts),
        (&b"a-b:c"[..], Some(&b"d"[..]), Some(&b"e"[..]))
    );
    let c = cipher("capi:").unwrap();
    assert_eq!((c.cipher, c.ivmode, c.ivopts), (&b""[..], None, None));
    let c = cipher("capi:xts(aes)-").unwrap();
    assert_eq!(c.ivmode, Some(&b""[..]));
    // lmk forces 64 tfms.
    let c = cipher("capi:cbc(aes)-lmk").unwrap();
    assert_eq!(c.tfms_count(), 64);
    assert_eq!(
        ok(&format!("capi:cbc(aes)-lmk {K32} 0 /dev/x 0")).tfms_count(),
        64
    );
    // The prefix is case-sensitive: "CAPI:" is the legacy form with a '('.
    assert_eq!(
        cipher("CAPI:xts(aes)-plain64"),
        Err(ParseError::inval(E_BAD_CIPHER))
    );
    // Legacy keycount syntax means nothing here: the last ':' splits off the IV options
    // first, and what is left has no '-', hence no IV mode.
    let c = cipher("capi:aes:2-cbc-plain").unwrap();
    assert_eq!(
        (c.cipher, c.ivmode, c.ivopts),
        (&b"aes"[..], None, Some(&b"2-cbc-plain"[..]))
    );
    assert_eq!(c.tfms_count(), 1);
}

#[test]
fn capi_errors() {
    assert_eq!(
        cipher("capi:cbc(aes)-essiv"),
        Err(ParseError::inval(E_ESSIV_DIGEST))
    );
    let h = "h".repeat(127 - 8 - 8);
    assert!(cipher(&format!("capi:cbc(aes)-essiv:{h}")).is_ok());
    assert_eq!(
        cipher(&format!("capi:cbc(aes)-essiv:{h}h")),
        Err(ParseError::nomem(E_CIPHER_STRING))
    );
    // Non-essiv capi names are not length-checked by dm-crypt.
    let long = format!("capi:{}-plain64", "x".repeat(300));
    let t = ok(&format!("{long} {K32} 0 /dev/x 0"));
    assert_eq!(
        name(&t),
        Err(ParseError {
            msg: E_ALLOC_TFM,
            errno: ENOENT
        })
    );
}

#[test]
fn capi_aead() {
    let aead = |c: &'static str| parse_cipher(c.as_bytes(), true);
    let c = aead("capi:authenc(hmac(sha256),xts(aes))-random").unwrap();
    assert_eq!(c.auth_mac, Some(&b"hmac(sha256)"[..]));
    assert_eq!(c.cipher, b"authenc(hmac(sha256),xts(aes))");
    let c = aead("capi:authenc(,xts(aes))-random").unwrap();
    assert_eq!(c.auth_mac, Some(&b""[..]));
    let c = aead("capi:gcm(aes)-random").unwrap();
    assert_eq!(c.auth_mac, None);
    let c = aead("capi:rfc7539(chacha20,poly1305)-random").unwrap();
    assert_eq!(c.auth_mac, None);
    assert_eq!(
        aead("capi:authenc(hmac(sha256)xts(aes))-random"),
        Err(ParseError::inval(E_AEAD_SPEC))
    );
    assert_eq!(
        aead("capi:authenc(-random"),
        Err(ParseError::inval(E_AEAD_SPEC))
    );
    // Without AEAD the authenc spec is not inspected.
    assert_eq!(
        cipher("capi:authenc(hmac(sha256)xts(aes))-random")
            .unwrap()
            .auth_mac,
        None
    );
    assert_eq!(
        aead("capi:gcm(aes)-lmk"),
        Err(ParseError::inval(E_AEAD_LMK))
    );
    // The AEAD syntax check comes first.
    assert_eq!(
        aead("capi:authenc(x)-lmk"),
        Err(ParseError::inval(E_AEAD_SPEC))
    );
    assert_eq!(
        aead("capi:gcm(aes)-essiv"),
        Err(ParseError::inval(E_ESSIV_DIGEST))
    );
    // Through parse_table with the option.
    let line =
        format!("capi:authenc(hmac(sha256),xts(aes))-random {K64} 0 /dev/x 0 1 integrity:32:aead");
    let t = ok(&line);
    assert!(t.options.integrity_aead);
    assert_eq!(t.cipher.auth_mac, Some(&b"hmac(sha256)"[..]));
    assert_eq!(
        err(&format!(
            "aes-xts-random {K64} 0 /dev/x 0 1 integrity:32:aead"
        )),
        E_BAD_CIPHER
    );
    // integrity:..:none does not make the old form invalid.
    ok(&format!(
        "aes-xts-random {K64} 0 /dev/x 0 1 integrity:32:none"
    ));
}

#[test]
fn capi_names() {
    assert_eq!(name_of("capi:xts(aes)-plain64"), "xts(aes)");
    assert_eq!(name_of("capi:xts(aes)"), "xts(aes)");
    assert_eq!(
        name_of("capi:cbc(aes)-essiv:sha256"),
        "essiv(cbc(aes),sha256)"
    );
    assert_eq!(name_of("capi:cbc(aes)-lmk"), "cbc(aes)");
    assert_eq!(name_of("capi:"), "");
    let spec = format!("capi:{}-plain64", "x".repeat(127));
    assert_eq!(name_of(&spec).len(), 127);
}

// ---------------------------------------------------------------------------------------------
// IV setup (stage 3) and IV constructors (stage 5).
// ---------------------------------------------------------------------------------------------

fn setup(cipher: &str, key: &str, ivsize: u32) -> Result<IvSetup, ParseError> {
    let line = format!("{cipher} {key} 0 /dev/x 0");
    parse(&line).unwrap().iv_setup(ivsize)
}

#[test]
fn iv_modes() {
    for (m, mode) in [
        ("plain", IvMode::Plain),
        ("plain64", IvMode::Plain64),
        ("plain64be", IvMode::Plain64Be),
        ("essiv:sha256", IvMode::Essiv),
        ("benbi", IvMode::Benbi),
        ("null", IvMode::Null),
        ("lmk", IvMode::Lmk),
        ("tcw", IvMode::Tcw),
        ("random", IvMode::Random),
        ("eboiv", IvMode::Eboiv),
        ("elephant", IvMode::Elephant),
    ] {
        let s = setup(&format!("aes-cbc-{m}"), K64, 16).unwrap();
        assert_eq!(s.mode, mode, "{m}");
        assert_eq!(s.iv_size, 16);
        assert!(!s.iv_mode_ignored);
        assert_eq!(s.key_size, 64);
    }
    let e = Err(ParseError::inval(E_IV_MODE));
    for bad in [
        "aes-cbc-foo",
        "aes-cbc-PLAIN",
        "aes-cbc-",
        "aes-cbc-plain-64",
        "capi:xts(aes)-x",
    ] {
        assert_eq!(setup(bad, K32, 16), e, "{bad}");
    }
}

#[test]
fn iv_size_rules() {
    // ivsize 0: the IV mode is ignored (even an invalid one).
    let s = setup("aes-ecb-bogus", K32, 0).unwrap();
    assert_eq!(
        (s.mode, s.iv_size, s.iv_mode_ignored),
        (IvMode::NoIv, 0, true)
    );
    let s = setup("aes-ecb", K32, 0).unwrap();
    assert_eq!(
        (s.mode, s.iv_size, s.iv_mode_ignored),
        (IvMode::NoIv, 0, false)
    );
    // ecb without IV mode but a cipher with an IV: no generator.
    let s = setup("aes-ecb", K32, 16).unwrap();
    assert_eq!((s.mode, s.iv_size), (IvMode::NoIv, 16));
    // capi without IV mode: no generator although the cipher has an IV.
    let s = setup("capi:xts(aes)", K64, 16).unwrap();
    assert_eq!((s.mode, s.iv_size), (IvMode::NoIv, 16));
    // At least 8 bytes.
    let s = setup("aes-cbc-plain64", K32, 1).unwrap();
    assert_eq!(s.iv_size, 8);
    let s = setup("capi:gcm(aes)-plain64", K32, 12).unwrap();
    assert_eq!(s.iv_size, 12);
}

#[test]
fn iv_key_parts() {
    let s = setup("aes-xts-plain64", K64, 16).unwrap();
    assert_eq!(
        (s.tfms_count, s.key_parts, s.key_extra_size, s.subkey_size()),
        (1, 1, 0, 64)
    );
    let s = setup("aes:2-cbc-plain64", K64, 16).unwrap();
    assert_eq!(
        (s.tfms_count, s.key_parts, s.key_extra_size, s.subkey_size()),
        (2, 2, 0, 32)
    );
    // elephant: 2 parts, extra = half.
    let s = setup("aes-cbc-elephant", K64, 16).unwrap();
    assert_eq!(
        (s.key_parts, s.key_extra_size, s.subkey_size()),
        (2, 32, 32)
    );
    assert!(s.encrypt_preprocess);
    let k66 = format!("{K64}0000");
    let s = setup("aes-cbc-elephant", &k66, 16);
    assert_eq!(s, Err(ParseError::inval(E_UNKNOWN)));
    // ... ignored with ivsize 0.
    assert!(setup("aes-cbc-elephant", &k66, 0).is_ok());
    // tcw: +2 parts, extra = iv_size + 16.
    let s = setup("aes-cbc-tcw", K64, 16).unwrap();
    assert_eq!(
        (s.key_parts, s.key_extra_size, s.subkey_size()),
        (3, 32, 32)
    );
    let s = setup("aes-cbc-tcw", K32, 16).unwrap();
    assert_eq!(s.subkey_size(), 0);
    let s = setup("aes-cbc-tcw", "00112233445566778899aabbccddeeff", 16).unwrap();
    assert_eq!(s.subkey_size(), 16u32.wrapping_sub(32));
    // random: integrity IV.
    let s = setup("aes-cbc-random", K32, 16).unwrap();
    assert_eq!(s.integrity_iv_size, 16);
    // lmk legacy: tfms from keycount; v2 vs v3 by divisibility.
    let s = setup("aes-cbc-lmk", K32, 16).unwrap();
    assert_eq!(
        (
            s.tfms_count,
            s.key_parts,
            s.key_extra_size,
            s.lmk_has_seed()
        ),
        (1, 1, 0, false)
    );
    let k64x32 = K32.repeat(64);
    let s = setup("aes:64-cbc-lmk", &k64x32, 16).unwrap();
    assert_eq!(
        (
            s.key_parts,
            s.key_extra_size,
            s.subkey_size(),
            s.lmk_has_seed()
        ),
        (64, 0, 32, false)
    );
    let k65x32 = K32.repeat(65);
    let s = setup("aes:64-cbc-lmk", &k65x32, 16).unwrap();
    assert_eq!(
        (
            s.key_parts,
            s.key_extra_size,
            s.subkey_size(),
            s.lmk_has_seed()
        ),
        (65, 32, 32, true)
    );
    let s = setup("capi:cbc(aes)-lmk", &k65x32, 16).unwrap();
    assert_eq!((s.tfms_count, s.key_parts, s.subkey_size()), (64, 65, 32));
}

fn iv_ctr(line: &str, ivsize: u32, block: u32) -> Result<IvCtr, ParseError> {
    let t = parse(line).unwrap();
    let s = t.iv_setup(ivsize)?;
    t.check_iv_ctr(&s, block)
}

#[test]
fn iv_constructors() {
    let ce = Err(ParseError::inval(E_CREATE_IV));
    // benbi
    let l = format!("aes-cbc-benbi {K32} 0 /dev/x 0");
    assert_eq!(iv_ctr(&l, 16, 16), Ok(IvCtr { benbi_shift: 5 }));
    assert_eq!(iv_ctr(&l, 16, 8), Ok(IvCtr { benbi_shift: 6 }));
    assert_eq!(iv_ctr(&l, 16, 512), Ok(IvCtr { benbi_shift: 0 }));
    assert_eq!(iv_ctr(&l, 16, 1), Ok(IvCtr { benbi_shift: 9 }));
    assert_eq!(iv_ctr(&l, 16, 1024), ce);
    assert_eq!(iv_ctr(&l, 16, 24), ce);
    assert_eq!(iv_ctr(&l, 16, 0), ce);
    // lmk / tcw need 512-byte sectors.
    assert!(iv_ctr(&format!("aes-cbc-lmk {K32} 0 /dev/x 0"), 16, 16).is_ok());
    assert_eq!(
        iv_ctr(
            &format!("aes-cbc-lmk {K32} 0 /dev/x 0 1 sector_size:1024"),
            16,
            16
        ),
        ce
    );
    assert!(iv_ctr(&format!("aes-cbc-tcw {K64} 0 /dev/x 0"), 16, 16).is_ok());
    assert_eq!(
        iv_ctr(
            &format!("aes-cbc-tcw {K64} 0 /dev/x 0 1 sector_size:4096"),
            16,
            16
        ),
        ce
    );
    // tcw key must be longer than iv_size + 16.
    assert_eq!(iv_ctr(&format!("aes-cbc-tcw {K32} 0 /dev/x 0"), 16, 16), ce);
    let k33 = format!("{K32}00");
    assert!(iv_ctr(&format!("aes-cbc-tcw {k33} 0 /dev/x 0"), 16, 16).is_ok());
    // eboiv / elephant: block size must equal the IV size, no AEAD.
    assert!(iv_ctr(&format!("aes-cbc-eboiv {K32} 0 /dev/x 0"), 16, 16).is_ok());
    assert_eq!(
        iv_ctr(&format!("aes-cbc-eboiv {K32} 0 /dev/x 0"), 16, 1),
        ce
    );
    assert_eq!(iv_ctr(&format!("aes-cbc-eboiv {K32} 0 /dev/x 0"), 4, 4), ce); // iv_size 8
    assert!(iv_ctr(&format!("aes-cbc-elephant {K64} 0 /dev/x 0"), 16, 16).is_ok());
    assert_eq!(
        iv_ctr(&format!("aes-cbc-elephant {K64} 0 /dev/x 0"), 16, 8),
        ce
    );
    let l = format!("capi:gcm(aes)-eboiv {K32} 0 /dev/x 0 1 integrity:28:aead");
    assert_eq!(iv_ctr(&l, 12, 12), ce);
    // Others have no constructor checks.
    for m in [
        "plain",
        "plain64",
        "plain64be",
        "essiv:sha256",
        "null",
        "random",
    ] {
        let l = format!("aes-cbc-{m} {K32} 0 /dev/x 0 1 sector_size:4096");
        assert_eq!(iv_ctr(&l, 16, 3), Ok(IvCtr { benbi_shift: 0 }), "{m}");
    }
    // Without IV (ivsize 0) nothing is checked.
    let l = format!("aes-ecb-lmk {K32} 0 /dev/x 0 1 sector_size:4096");
    assert!(iv_ctr(&l, 0, 16).is_ok());
}

// ---------------------------------------------------------------------------------------------
// iv_offset (stage 7) and start (stage 9).
// ---------------------------------------------------------------------------------------------

#[test]
fn iv_offset_and_start() {
    let t = ok(&format!("aes-xts-plain64 {K64} 123 /dev/x 456"));
    assert_eq!(t.iv_offset(), Ok(123));
    assert_eq!(t.start(), Ok(456));
    assert_eq!(t.device_path, b"/dev/x");
    let t = ok(&format!(
        "aes-xts-plain64 {K64} 18446744073709551615 253:0 18446744073709551616"
    ));
    assert_eq!(t.iv_offset(), Ok(u64::MAX));
    assert_eq!(t.start(), Ok(0));
    assert_eq!(t.device_path, b"253:0");
    let t = ok(&format!("aes-xts-plain64 {K64} 000 /dev/x 007"));
    assert_eq!((t.iv_offset(), t.start()), (Ok(0), Ok(7)));
    for bad in ["x", "-1", "+1", "1x", "0x10", "1.0", ""] {
        let args = ["aes-xts-plain64", K64, bad, "/dev/x", bad];
        let t = parse_table(&args, DEV_SECTORS).unwrap();
        assert_eq!(
            t.iv_offset(),
            Err(ParseError::inval(E_IV_OFFSET)),
            "{bad:?}"
        );
        assert_eq!(
            t.start(),
            Err(ParseError::inval(E_DEVICE_SECTOR)),
            "{bad:?}"
        );
    }
    // Escaped whitespace: leading is skipped, trailing is a %c match.
    let args = ["aes-xts-plain64", K64, " 8", "/dev/x", "8 "];
    let t = parse_table(&args, DEV_SECTORS).unwrap();
    assert_eq!(t.iv_offset(), Ok(8));
    assert_eq!(t.start(), Err(ParseError::inval(E_DEVICE_SECTOR)));
    // iv_offset must be a multiple of sector_size, start need not be (dm core checks it).
    let t = ok(&format!(
        "aes-xts-plain64 {K64} 8 /dev/x 1 1 sector_size:4096"
    ));
    assert_eq!((t.iv_offset(), t.start()), (Ok(8), Ok(1)));
    let t = ok(&format!(
        "aes-xts-plain64 {K64} 4 /dev/x 0 1 sector_size:4096"
    ));
    assert_eq!(t.iv_offset(), Err(ParseError::inval(E_IV_OFFSET)));
    let t = ok(&format!(
        "aes-xts-plain64 {K64} 2 /dev/x 0 1 sector_size:1024"
    ));
    assert_eq!(t.iv_offset(), Ok(2));
    // Neither is parsed by parse_table: the C checks them after the cipher and key.
    let t = ok(&format!("aes-xts-plain64 {K64} x /dev/x x"));
    assert_eq!(t.iv_offset_arg, b"x");
}

#[test]
fn device_range() {
    const P32: u64 = 1 << 32;
    const P63: u64 = 1 << 63;
    const MAX: u64 = u64::MAX;
    let range_err = Err(ParseError::inval(E_DEVICE_RANGE));
    // (start, target length, whether start + length fits in 64 bits).
    let cases = [
        (0, 1, true),
        (0, MAX, true),
        (1, MAX - 1, true),
        (1, MAX, false),
        (MAX, 1, false),
        (MAX - 1, 1, true),
        (MAX - 8, 8, true),
        (MAX - 7, 8, false),
        (MAX, 8, false),
        (P32 - 1, P32 + 1, true),
        (P63 - 1, P63, true),
        (P63, P63 - 1, true),
        (P63, P63, false),
        (P63 + 1, P63 - 1, false),
        (MAX - (1 << 54), 1 << 54, true),
        (MAX - (1 << 54) + 1, 1 << 54, false),
        (0, 0, true),
        (MAX, 0, true),
    ];
    for (start, len, fits) in cases {
        let want = if fits { Ok(()) } else { range_err };
        assert_eq!(check_device_range(start, len), want, "{start} + {len}");
    }
    // Through the table: `start` is argv[4] (wrapped modulo 2^64 like sscanf %llu), the length
    // is the target's.
    let cases = [
        ("18446744073709551615", 8, false),
        ("18446744073709551607", 8, true),
        ("18446744073709551608", 8, false),
        ("18446744073709551614", 1, true),
        ("9223372036854775808", 9223372036854775808, false),
        ("9223372036854775807", 9223372036854775808, true),
        ("4294967296", 4294967296, true),
        // 2^64 + 7 wraps to 7.
        ("18446744073709551623", 8, true),
        ("0", 18014398509481983, true),
    ];
    for (start, len, fits) in cases {
        let t = parse_len(&format!("aes-xts-plain64 {K64} 0 /dev/x {start}"), len).unwrap();
        let start = t.start().unwrap();
        let want = if fits { Ok(()) } else { range_err };
        assert_eq!(t.check_device_range(start), want, "{start} + {len}");
    }
    // The whole constructor: checked after stage 10, so every rejection of dm-crypt comes first
    // with dm-crypt's message; dm core's area check (for a device with a size) comes after.
    let huge = "18446744073709551615";
    let args = format!("aes-xts-plain64 {K64} 0 {DEV} {huge}");
    assert_eq!(simulate(&split(&args), 8), range_err);
    let args = format!("aes-xts-plain64 {K64} 1 {DEV} {huge} 1 sector_size:4096");
    assert_eq!(
        simulate(&split(&args), 8),
        Err(ParseError::inval(E_IV_OFFSET))
    );
    let args = format!("aes-xts-plain64 {K64} 0 /dev/nosuch {huge}");
    assert_eq!(simulate(&split(&args), 8).unwrap_err().msg, E_DEVICE_LOOKUP);
    let args = format!("aes-xts-random {K64} 0 {DEV} {huge}");
    assert_eq!(
        simulate(&split(&args), 8),
        Err(ParseError::inval(E_INTEGRITY_NOT_SUPPORTED))
    );
    let args = format!("aes-xts-plain64 {K64} 0 {DEV} {}", DEV_SECTORS - 8);
    assert_eq!(simulate(&split(&args), 8), Ok(()));
    let args = format!("aes-xts-plain64 {K64} 0 {DEV} 18446744073709551607");
    assert_eq!(
        simulate(&split(&args), 8),
        Err(ParseError::inval(E_DM_CORE))
    );
}

#[test]
fn byte_arguments() {
    // Arguments are bytes; non-UTF-8 is fine wherever the C does not look.
    let args: [&[u8]; 8] = [
        b"aes-xts-plain64:\xff",
        K64.as_bytes(),
        b"0",
        b"/dev/\xfe",
        b"0",
        b"1",
        b"allow_discards",
        b"\xff",
    ];
    let t = parse_table(&args, DEV_SECTORS).unwrap();
    assert_eq!(t.cipher_string, b"aes-xts-plain64:\xff");
    assert_eq!(t.cipher.ivopts, Some(&b"\xff"[..]));
    assert_eq!(t.device_path, b"/dev/\xfe");
    assert_eq!(t.options.ignored_args, 1);
}

// ---------------------------------------------------------------------------------------------
// A model of the whole constructor, run over the selftest data files.
// ---------------------------------------------------------------------------------------------

/// Model of the test kernel's crypto API: ciphers aes, twofish, serpent, cipher_null; modes
/// cbc, xts, ecb, lrw; essiv with sha256/md5.
mod crypto {
    /// An allocated skcipher: ivsize, block size and a key-length predicate.
    pub(super) struct Tfm {
        pub(super) ivsize: u32,
        pub(super) blocksize: u32,
        pub(super) key_ok: fn(u32) -> bool,
    }

    fn aes(k: u32) -> bool {
        matches!(k, 16 | 24 | 32)
    }
    fn serpent(k: u32) -> bool {
        k <= 32
    }
    fn null(k: u32) -> bool {
        k == 0
    }
    fn xts_aes(k: u32) -> bool {
        k.is_multiple_of(2) && aes(k / 2)
    }
    fn xts_serpent(k: u32) -> bool {
        k.is_multiple_of(2) && serpent(k / 2)
    }
    fn lrw_aes(k: u32) -> bool {
        k >= 16 && aes(k - 16)
    }
    fn lrw_serpent(k: u32) -> bool {
        k >= 16 && serpent(k - 16)
    }

    fn block_cipher(name: &str) -> Option<fn(u32) -> bool> {
        match name {
            // twofish accepts 16, 24 and 32 bytes like aes.
            "aes" | "twofish" => Some(aes),
            "serpent" => Some(serpent),
            _ => None,
        }
    }

    /// `crypto_alloc_skcipher(name)`.
    pub(super) fn alloc(name: &str) -> Option<Tfm> {
        if let Some(inner) = name
            .strip_prefix("essiv(")
            .and_then(|s| s.strip_suffix(')'))
        {
            let (inner, hash) = inner.rsplit_once(',')?;
            let digest = match hash {
                "sha256" => 32,
                "md5" => 16,
                _ => return None,
            };
            let t = alloc(inner)?;
            let cipher = inner.split_once('(')?.1.strip_suffix(')')?;
            if !block_cipher(cipher)?(digest) || t.ivsize != t.blocksize {
                return None;
            }
            return Some(t);
        }
        if name == "ecb(cipher_null)" {
            return Some(Tfm {
                ivsize: 0,
                blocksize: 1,
                key_ok: null,
            });
        }
        let (mode, rest) = name.split_once('(')?;
        let cipher = rest.strip_suffix(')')?;
        let base = block_cipher(cipher)?;
        let serp = cipher == "serpent";
        let (ivsize, key_ok): (u32, fn(u32) -> bool) = match mode {
            "ecb" => (0, base),
            "cbc" => (16, base),
            "xts" => (16, if serp { xts_serpent } else { xts_aes }),
            "lrw" => (16, if serp { lrw_serpent } else { lrw_aes }),
            _ => return None,
        };
        Some(Tfm {
            ivsize,
            blocksize: 16,
            key_ok,
        })
    }

    /// `ecb(aes)` key check (elephant init).
    pub(super) fn aes_key_ok(k: u32) -> bool {
        aes(k)
    }
}

const E_DM_CORE: &CStr = c"(dm core)";

/// Runs the whole constructor against the model (device `/dev/ram0` of `DEV_SECTORS` sectors,
/// 512-byte logical blocks, no integrity profile, an empty keyring, `CONFIG_TRUSTED_KEYS` off)
/// and then dm core's area check.
fn simulate(args: &[&str], len: u64) -> Result<(), ParseError> {
    let t = parse_table(args, len)?;
    // Stage 2: tfm allocation (AEAD is not modelled: the crypto API finds no such AEAD).
    if t.options.integrity_aead {
        return Err(ParseError {
            msg: E_ALLOC_TFM,
            errno: ENOENT,
        });
    }
    let mut buf = [0u8; CRYPTO_MAX_ALG_NAME];
    let name = std::str::from_utf8(t.crypto_api_name(&mut buf)?)
        .unwrap()
        .to_owned();
    let tfm = crypto::alloc(&name).ok_or(ParseError {
        msg: E_ALLOC_TFM,
        errno: ENOENT,
    })?;
    // Stage 3.
    let setup = t.iv_setup(tfm.ivsize)?;
    // Stage 4.
    match t.key_source()? {
        KeySource::Keyring {
            key_type: KeyringType::Trusted,
            ..
        } => {
            return Err(ParseError::inval(E_SET_KEY));
        }
        KeySource::Keyring { .. } => {
            return Err(ParseError {
                msg: E_SET_KEY,
                errno: 126,
            })
        }
        KeySource::Hex(hex) => {
            let mut key = vec![0u8; t.key_size() as usize];
            decode_hex_key(hex, &mut key)?;
        }
        KeySource::Empty => {}
    }
    if !(tfm.key_ok)(setup.subkey_size()) {
        return Err(ParseError::inval(E_SET_KEY));
    }
    // Stage 5.
    t.check_iv_ctr(&setup, tfm.blocksize)?;
    // Stage 6: elephant sets its ecb(aes) key.
    if setup.mode == IvMode::Elephant && !crypto::aes_key_ok(setup.key_extra_size) {
        return Err(ParseError::inval(E_INIT_IV));
    }
    // Stages 7-9.
    t.iv_offset()?;
    if t.device_path != DEV.as_bytes() {
        return Err(ParseError {
            msg: E_DEVICE_LOOKUP,
            errno: ENOENT,
        });
    }
    let start = t.start()?;
    // Stage 10: the device has no integrity profile.
    if t.needs_integrity_profile(&setup) {
        t.integrity_layout(&setup, None)?;
        unreachable!("an integrity table passed without a profile");
    }
    // rcrypt's own check, before the workqueues.
    t.check_device_range(start)?;
    // dm core: device_area_is_invalid() with the io_hints logical block size.
    let lbs = u64::from(t.options.sector_size.max(512) / 512);
    let end = start.checked_add(len);
    if start >= DEV_SECTORS
        || end.is_none_or(|e| e > DEV_SECTORS)
        || !start.is_multiple_of(lbs)
        || !len.is_multiple_of(lbs)
    {
        return Err(ParseError::inval(E_DM_CORE));
    }
    Ok(())
}

struct Case {
    line: usize,
    desc: String,
    args: String,
    len: u64,
}

fn load(text: &str) -> Vec<Case> {
    let k32 = K32;
    let k64 = K64.replace(char::is_whitespace, "");
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|(i, l)| {
            let f: Vec<&str> = l.split('|').collect();
            assert!(f.len() == 2 || f.len() == 3, "line {}: {l}", i + 1);
            let args = f[1]
                .replace("@DEV@", DEV)
                .replace("@KEY32@", k32)
                .replace("@KEY64@", &k64);
            let len = f.get(2).map_or(DEV_SECTORS, |s| s.parse().unwrap());
            Case {
                line: i + 1,
                desc: f[0].to_owned(),
                args,
                len,
            }
        })
        .collect()
}

const GOOD: &str = include_str!("../../../selftests/data/good-tables.txt");
const BAD: &str = include_str!("../../../selftests/data/bad-tables.txt");

#[test]
fn good_tables() {
    let cases = load(GOOD);
    assert!(cases.len() >= 15);
    for c in cases {
        let r = simulate(&split(&c.args), c.len);
        assert_eq!(
            r,
            Ok(()),
            "good-tables.txt:{} {}: {}",
            c.line,
            c.desc,
            c.args
        );
    }
}

#[test]
fn bad_tables() {
    let cases = load(BAD);
    assert!(cases.len() >= 40);
    let mut seen = std::collections::BTreeSet::new();
    for c in cases {
        let e = simulate(&split(&c.args), c.len).expect_err(&format!(
            "bad-tables.txt:{} accepted: {}: {}",
            c.line, c.desc, c.args
        ));
        let expected = c.desc.split(" -- ").next().unwrap();
        let dm_core = E_DM_CORE.to_str().unwrap();
        let expected = if expected.starts_with(dm_core) {
            dm_core
        } else {
            expected
        };
        assert_eq!(
            e.msg.to_str().unwrap(),
            expected,
            "bad-tables.txt:{} {}: {}",
            c.line,
            c.desc,
            c.args
        );
        seen.insert(e.msg);
    }
    // Every message the parser can produce for a table appears at least once.
    for m in [
        E_NOT_ENOUGH_ARGS,
        E_KEY_SIZE,
        E_NUM_FEATURE_ARGS,
        E_INTEGRITY_ARGS,
        E_INTEGRITY_PROFILE,
        E_INTEGRITY_KEY_SIZE,
        E_SECTOR_SIZE,
        E_DEVICE_SIZE,
        E_FEATURE_ARGS,
        E_BAD_CIPHER,
        E_KEY_COUNT,
        E_IV_REQUIRED,
        E_ESSIV_DIGEST,
        E_CIPHER_STRINGS,
        E_CIPHER_STRING,
        E_AEAD_SPEC,
        E_AEAD_LMK,
        E_ALLOC_TFM,
        E_IV_MODE,
        E_UNKNOWN,
        E_SET_KEY,
        E_CREATE_IV,
        E_IV_OFFSET,
        E_DEVICE_LOOKUP,
        E_DEVICE_SECTOR,
    ] {
        assert!(seen.contains(m), "no bad table for {m:?}");
    }
}

#[test]
fn bad_tables_errno() {
    // The name-length rejections are -ENOMEM in the C.
    for c in load(BAD) {
        if let Err(e) = parse_table(&split(&c.args), c.len) {
            let want = if e.msg == E_CIPHER_STRINGS || e.msg == E_CIPHER_STRING {
                ENOMEM
            } else {
                EINVAL
            };
            assert_eq!(e.errno, want, "{}", c.desc);
        }
    }
}

/// Edge cases whose verdict and message were observed on the C dm-crypt of the test kernel
/// (`expected|args`, `expected` is `accept` or the `ti->error` text, placeholders as in the
/// selftest data files).
const C_OBSERVED: &str = "\
accept|aes-xts-plain64 @KEY64@ 0 @DEV@ 0 1 integrity:32x:none
accept|aes-xts-plain64 @KEY64@ 0 @DEV@ 0 1 integrity:4294967328:none
accept|aes-xts-plain64 @KEY64@ 0 @DEV@ 0 2 integrity:32:none integrity:16:NONE
accept|aes-xts-plain64 @KEY64@ 0 @DEV@ 0 1 sector_size:69632
accept|aes:4294967298-cbc-plain64 @KEY64@ 0 @DEV@ 0
accept|aes-xts-plain64 @KEY64@ 0 @DEV@ 0 0 ( bogus
accept|aes-xts-plain64 @KEY64@ 0 @DEV@ 0 18446744073709551617 allow_discards
accept|aes-xts-plain64 @KEY64@ 0 @DEV@ 0 4294967296 bogus
Invalid number of feature args|aes-xts-plain64 @KEY64@ 0 @DEV@ 0 4294967306 a b c d e f g h i j
Invalid IV mode|capi:xts(aes)- @KEY64@ 0 @DEV@ 0
Digest algorithm missing for ESSIV mode|aes-ecb-essiv @KEY32@ 0 @DEV@ 0
Error allocating crypto tfm|aes-ecb-essiv:sha256 @KEY32@ 0 @DEV@ 0
Error creating IV|aes-cbc-lmk @KEY32@ x @DEV@ 0 1 sector_size:4096
Device lookup failed|aes-xts-plain64 @KEY64@ 0 /dev/nonexistent x
Error allocating crypto tfm|foo-cbc-plain zz 0 @DEV@ 0
Invalid IV mode|aes-cbc-foo zz 0 @DEV@ 0
Error decoding and setting key|aes-cbc-lmk zz 0 @DEV@ 0 1 sector_size:4096
Error allocating crypto tfm|capi:aes:2-cbc-plain @KEY32@ 0 @DEV@ 0
Invalid feature arguments|aes-xts-plain64 @KEY64@ 0 @DEV@ 0 1 integrity_key_size:16x
Unknown integrity profile|aes-xts-plain64 @KEY64@ 0 @DEV@ 0 1 integrity:32:none:
Invalid integrity arguments|aes-xts-plain64 @KEY64@ 0 @DEV@ 0 1 integrity:0:bogus
accept|aes-xts-plain64:x:y @KEY64@ 0 @DEV@ 0
Error decoding and setting key|aes-xts-plain64 :032:logon:k 0 @DEV@ 0
Error decoding and setting key|aes-xts-plain64 :32:trusted:k 0 @DEV@ 0
Error decoding and setting key|aes-xts-plain64 :32:encrypted:k 0 @DEV@ 0
accept|aes-cbc-eboiv @KEY32@ 0 @DEV@ 0 1 sector_size:4096
accept|capi:cbc(aes)-lmk @KEY65X32@ 0 @DEV@ 0
accept|aes:64-cbc-lmk @KEY64X32@ 0 @DEV@ 0
Error decoding and setting key|aes-cbc-tcw @KEY32@00 0 @DEV@ 0
Error decoding and setting key|aes-cbc-tcw @KEY32@0001020304050607 0 @DEV@ 0
Unknown error|aes-cbc-elephant @KEY64@@KEY32@zz 0 @DEV@ 0
accept|aes-cbc-elephant @KEY32@000102030405060708090a0b0c0d0e0f 0 @DEV@ 0
Error decoding and setting key|aes-cbc-elephant @KEY32@0001020304050607 0 @DEV@ 0
accept|cipher_null-ecb-null - 0 @DEV@ 0
accept|aes-ecb-lmk @KEY32@ 0 @DEV@ 0 1 sector_size:4096
Error decoding and setting key|capi:ecb(aes)-lmk @KEY32@ 0 @DEV@ 0
accept|aes:2-ecb @KEY64@ 0 @DEV@ 0
accept|capi:ecb(aes) @KEY32@ 0 @DEV@ 0
Invalid IV mode|capi:cbc(aes)-:x @KEY32@ 0 @DEV@ 0
Error allocating crypto tfm|capi:xts(aes:x)-plain64 @KEY64@ 0 @DEV@ 0
accept|aes-cbc-plain64be:foo @KEY32@ 0 @DEV@ 0
accept|aes-xts-plain64 @KEY64@ 18446744073709551623 @DEV@ 0
Invalid iv_offset sector|aes-xts-plain64 @KEY64@ 18446744073709551623 @DEV@ 0 1 sector_size:4096
accept|aes-xts-plain64 @KEY64@ 0 @DEV@ 18446744073709551616
accept|aes-cbc-plain @KEY32@Z 0 @DEV@ 0
Error decoding and setting key|cipher_null-ecb -x 0 @DEV@ 0
accept|aes-ecb-random @KEY32@ 0 @DEV@ 0
Integrity profile not supported.|aes-cbc-random @KEY32@ 0 @DEV@ 0 1 integrity:16:none
accept|aes-xts-plain64 @KEY64@ 0 @DEV@ 0 1 integrity_key_size:1
";

#[test]
fn c_observed_edge_cases() {
    let k64x32 = K32.repeat(64);
    let k65x32 = K32.repeat(65);
    let text = C_OBSERVED
        .replace("@KEY65X32@", &k65x32)
        .replace("@KEY64X32@", &k64x32);
    for c in load(&text) {
        let r = simulate(&split(&c.args), c.len);
        match (c.desc.as_str(), r) {
            ("accept", Ok(())) => {}
            (want, Err(e)) if e.msg.to_str().unwrap() == want => {}
            (want, r) => panic!("{}: want {want}, got {r:?}", c.args),
        }
    }
}

#[test]
fn hex2bin_prefix_stops_at_the_first_bad_digit() {
    let mut out = [0xeeu8; 4];
    assert_eq!(crate::table::hex2bin_prefix(b"0a1bz2c3d", &mut out), 2);
    assert_eq!(out, [0x0a, 0x1b, 0xee, 0xee]);
    let mut out = [0xeeu8; 2];
    assert_eq!(crate::table::hex2bin_prefix(b"0A1b", &mut out), 2);
    assert_eq!(out, [0x0a, 0x1b]);
    // A short input stops at its end.
    let mut out = [0xeeu8; 3];
    assert_eq!(crate::table::hex2bin_prefix(b"0a1", &mut out), 1);
    assert_eq!(out, [0x0a, 0xee, 0xee]);
}

#[test]
fn hex2bin_prefix_digit_values_match_hex_to_bin() {
    // The kernel's hex_to_bin(): 0-9, a-f, A-F; every other byte (0xa0 and up included) stops.
    let val = |b: u8| match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    };
    for b in 0..=u8::MAX {
        let mut out = [0xeeu8; 2];
        let n = crate::table::hex2bin_prefix(&[b, b'7', b'7', b], &mut out);
        match val(b) {
            Some(v) => {
                assert_eq!(n, 2, "{b:#04x}");
                assert_eq!(out, [(v << 4) | 7, 0x70 | v], "{b:#04x}");
            }
            None => {
                assert_eq!(n, 0, "{b:#04x}");
                assert_eq!(out, [0xee, 0xee], "{b:#04x}");
            }
        }
    }
}

/// `crypt_integrity_ctr()`'s verdicts in its order: no profile or one with a checksum, a tuple
/// smaller than `integrity:<bytes>`, an interval other than the sector size, then (after the
/// kernel set the AEAD tag size) tag and stored IV larger than the tuple.
#[test]
fn integrity_profile_verdicts() {
    let info = |csum_none, tuple_size, interval| {
        Some(IntegrityProfileInfo {
            csum_none,
            tuple_size,
            interval,
        })
    };
    let layout = |line: &str, ivsize: u32, p: Option<IntegrityProfileInfo>| {
        let t = parse(line).unwrap();
        let setup = t.iv_setup(ivsize).unwrap();
        assert!(t.needs_integrity_profile(&setup), "{line}");
        t.integrity_layout(&setup, p)
    };
    let aead =
        format!("capi:authenc(hmac(sha256),xts(aes))-random {K64} 0 {DEV} 0 1 integrity:48:aead");
    let gcm = format!("capi:gcm(aes)-random {K32} 0 {DEV} 0 1 integrity:28:aead");
    let none = format!("aes-xts-random {K64} 0 {DEV} 0 1 integrity:4:none");
    let plain_random = format!("aes-xts-random {K64} 0 {DEV} 0");
    let err = |m| Err::<IntegrityLayout, _>(ParseError::inval(m));
    let serr = |m| Err::<(), _>(ParseError::inval(m));

    assert_eq!(layout(&aead, 16, None), err(E_INTEGRITY_NOT_SUPPORTED));
    assert_eq!(
        layout(&aead, 16, info(false, 64, 512)),
        err(E_INTEGRITY_NOT_SUPPORTED)
    );
    assert_eq!(
        layout(&aead, 16, info(true, 47, 512)),
        err(E_INTEGRITY_TAG_MISMATCH)
    );
    assert_eq!(
        layout(&aead, 16, info(true, 48, 4096)),
        err(E_INTEGRITY_SECTOR_MISMATCH)
    );
    // authenc with a 16-byte stored IV: a 32-byte tag, IV after it, nothing left.
    let l = layout(&aead, 16, info(true, 48, 512)).unwrap();
    assert_eq!(
        l,
        IntegrityLayout {
            tuple_size: 48,
            tag_size: Some(32),
            iv_size: 16
        }
    );
    assert_eq!(l.check_space(), Ok(()));
    // A larger tuple (dm-integrity rounds nothing; NVMe metadata of 64 bytes): zeros after.
    let l = layout(&aead, 16, info(true, 64, 512)).unwrap();
    assert_eq!((l.tag_size, l.check_space()), (Some(32), Ok(())));
    // gcm: 12-byte IV stored, 16-byte tag.
    let l = layout(&gcm, 12, info(true, 28, 512)).unwrap();
    assert_eq!(
        (l.tag_size, l.iv_size, l.check_space()),
        (Some(16), 12, Ok(()))
    );
    // integrity:<bytes> smaller than the stored IV: no tag size an AEAD takes.
    let small = format!("capi:gcm(aes)-random {K32} 0 {DEV} 0 1 integrity:8:aead");
    assert_eq!(
        layout(&small, 12, info(true, 64, 512)).unwrap().tag_size,
        None
    );
    assert_eq!(
        layout(&small, 12, info(true, 64, 512))
            .unwrap()
            .check_space(),
        serr(E_INTEGRITY_SPACE)
    );
    // integrity:N:none with random: no tag, the IV must fit the tuple.
    let l = layout(&none, 16, info(true, 4, 512)).unwrap();
    assert_eq!((l.tag_size, l.iv_size), (Some(0), 16));
    assert_eq!(l.check_space(), serr(E_INTEGRITY_SPACE));
    assert_eq!(
        layout(&none, 16, info(true, 16, 512))
            .unwrap()
            .check_space(),
        Ok(())
    );
    // random without integrity: (used tag size 0): any tuple holding the IV.
    assert_eq!(
        layout(&plain_random, 16, info(true, 16, 512))
            .unwrap()
            .check_space(),
        Ok(())
    );
    assert_eq!(
        layout(&plain_random, 16, info(true, 8, 512))
            .unwrap()
            .check_space(),
        serr(E_INTEGRITY_SPACE)
    );
    // 4096-byte sectors need a 4096-byte interval.
    let big = format!("capi:gcm(aes)-random {K32} 0 {DEV} 0 2 integrity:28:aead sector_size:4096");
    assert_eq!(
        layout(&big, 12, info(true, 28, 512)),
        err(E_INTEGRITY_SECTOR_MISMATCH)
    );
    assert!(layout(&big, 12, info(true, 28, 4096)).is_ok());
    // The kernel's own verdict between the two, verbatim from dm-crypt.c.
    assert_eq!(
        E_INTEGRITY_AUTHSIZE.to_bytes(),
        b"Integrity AEAD auth tag size is not supported."
    );
}
