// SPDX-License-Identifier: GPL-2.0

//! Pure parser/validator of the dm-crypt table grammar (dm-crypt 1.28.0, Linux 6.12).
//!
//! This module uses only `core`: it is compiled inside the kernel module and by the host test
//! crate (`rust/host`). It allocates nothing, never panics and has no `unsafe`. Everything it
//! returns borrows from the input or is a plain number/enum.
//!
//! # Arguments are bytes
//!
//! Device-mapper hands the constructor NUL-terminated C strings that may hold any byte (the
//! kernel's `dm_split_args()` even lets a backslash quote whitespace into an argument, so an
//! argument may contain spaces, never is empty). All functions therefore take `&[u8]`
//! (anything `AsRef<[u8]>`, so `&str` works in tests) and return `&[u8]`. The kernel's
//! `<linux/ctype.h>` is Latin-1 aware: `isspace()` is true for `\t \n \v \f \r`, space *and
//! byte 0xa0*; this module reproduces that ([`is_kernel_space`]).
//!
//! # Stage order (mirrors `crypt_ctr()`)
//!
//! The C interleaves pure checks with kernel-only steps. To reproduce its error precedence the
//! parse is exposed in stages that the kernel code must call in this order (`[K]` = kernel-only
//! step done by the caller, error string in quotes):
//!
//! 1. [`parse_table`]: `argc < 5` ("Not enough arguments"); `get_key_size()` ("Cannot parse key
//!    size"); `[K]` kzalloc of the context with `key_size` key bytes (-ENOMEM "Cannot allocate
//!    encryption context"); if `argc > 5` `crypt_ctr_optional()` (feature args, including the
//!    sector_size vs `ti->len` check); then the pure part of `crypt_ctr_cipher_old()` /
//!    `crypt_ctr_cipher_new()` up to, not including, the tfm allocation.
//!    Caveat (AEAD only): in the `capi:` form the C allocates the `authenc(` MAC hash
//!    (`[K]`, failure: "Invalid AEAD cipher spec" with the crypto errno) *between* the AEAD
//!    syntax check and the LMK/ESSIV checks; [`parse_table`] performs the LMK/ESSIV checks before
//!    the caller can allocate the hash, so if both fail the message differs (the verdict does
//!    not).
//! 2. `[K]` allocate [`CipherSpec::tfms_count`] skciphers (or one AEAD if
//!    [`Options::integrity_aead`]) named by [`Table::crypto_api_name`]; failure: "Error
//!    allocating crypto tfm" with the crypto errno.
//! 3. [`Table::iv_setup`] with the tfm's ivsize: `crypt_ctr_ivmode()` ("Invalid IV mode"; the
//!    elephant key-size check has no message of its own: "Unknown error").
//! 4. [`Table::key_source`]: the pure part of `crypt_set_key()`; then `[K]` `request_key()` and
//!    the payload length check for keyring keys, or [`decode_hex_key`] for hex keys; then `[K]`
//!    `crypt_setkey()` with [`IvSetup::subkey_size`]. Every failure: "Error decoding and setting
//!    key".
//! 5. [`Table::check_iv_ctr`]: the IV generator constructors (`benbi`, `lmk`, `tcw`, `eboiv`,
//!    `elephant`); every failure is reported as "Error creating IV" (the C overwrites the
//!    generator's own message). `[K]` allocations: `lmk` allocates md5 after its sector-size
//!    check, `tcw` allocates crc32 after both its checks, `elephant` allocates `ecb(aes)`
//!    *before* its checks.
//! 6. `[K]` IV init ("Error initialising IV": e.g. elephant's `ecb(aes)` setkey with
//!    [`IvSetup::key_extra_size`] bytes), mempools and bioset (-ENOMEM messages).
//! 7. [`Table::iv_offset`]: "Invalid iv_offset sector".
//! 8. `[K]` `dm_get_device(`[`Table::device_path`]`)`: "Device lookup failed".
//! 9. [`Table::start`]: "Invalid device sector".
//! 10. `[K]` zoned setup; `crypt_integrity_ctr()` when [`Options::integrity_aead`] or
//!     [`IvSetup::integrity_iv_size`] `!= 0`: [`Table::integrity_layout`] on the device's
//!     integrity profile, `[K]` the AEAD's tag size ("Integrity AEAD auth tag size is not
//!     supported."), [`IntegrityLayout::check_space`]; workqueues, write thread.
//!
//! rcrypt adds one check of its own, after stage 10 and before the workqueues, so that every
//! table dm-crypt rejects is still rejected with dm-crypt's message:
//! [`Table::check_device_range`] ("Device sector plus target length overflows"; dm-crypt
//! accepts such a table and its sector arithmetic wraps).
//!
//! Afterwards dm core validates the area (`device_area_is_invalid()`): start + length must fit
//! in the device and, with `sector_size` > the device's logical block size, start and length
//! must be aligned to it. Those rejections are not dm-crypt's and are not modelled here.
//!
//! # Number parsing
//!
//! dm-crypt and dm core parse every number with the kernel's `sscanf()` (never `kstrtouint()`):
//! `"%u%c"` / `"%llu%c"` / `"%hu%c"` and the result must be exactly 1, i.e. a full match with
//! nothing after the digits. The kernel `vsscanf()` integer conversion skips leading
//! whitespace, accepts no sign at all (`+` and `-` are rejected for unsigned conversions),
//! requires a decimal digit, then consumes *all* following decimal digits with silent
//! wrap-around modulo 2^64 (`simple_strntoull()`), and the store truncates to the target width
//! (`%u`: 32 bits, `%hu`: 16 bits). Leading zeros are fine and mean decimal. See [`scan_u64`].
//!
//! # Where the C misbehaves (and this parser does not follow it)
//!
//! - `integrity:<n>` with no `:` after the digits: the C computes `strchr(...) + 1` from NULL
//!   and oopses; here it is "Invalid integrity arguments".
//! - A repeated `integrity:` option leaks the first `kstrdup()` (kmemleak reports it); the
//!   verdict is accept.
//! - `integrity:<n>:aead` + `integrity_key_size:<n>` with a non-`authenc(` AEAD makes
//!   `crypt_setkey()` write through the NULL `cc->authenc_key`.
//! - A huge key size (`:<size>:...`) or keycount makes `kzalloc()`/`kcalloc()` exceed the page
//!   allocator's maximum order: -ENOMEM after a WARN.
//! - A start sector whose area wraps past the last sector (`start + ti->len > 2^64 - 1`, which
//!   dm core lets through on a device of size 0, where it skips its area check): the C accepts
//!   it and `cc->start + dm_target_offset()` wraps; here it is rejected
//!   ([`Table::check_device_range`]).

use core::ffi::CStr;

/// `EINVAL`: the error code of almost every rejection.
pub(crate) const EINVAL: i32 = 22;
/// `ENOMEM`: used by dm-crypt for "cipher name too long" rejections.
pub(crate) const ENOMEM: i32 = 12;
/// `ENOENT`: what the crypto API reports for an algorithm it cannot find.
pub(crate) const ENOENT: i32 = 2;

/// `CRYPTO_MAX_ALG_NAME`: size of the buffers the C uses for crypto API names.
pub(crate) const CRYPTO_MAX_ALG_NAME: usize = 128;
/// `MAX_TAG_SIZE`: largest `integrity:<bytes>` value.
pub(crate) const MAX_TAG_SIZE: u32 = 480;
/// `TCW_WHITENING_SIZE`: size of the TCW whitening key part.
pub(crate) const TCW_WHITENING_SIZE: u32 = 16;
/// `ELEPHANT_MAX_KEY_SIZE`: largest elephant (diffuser) key.
pub(crate) const ELEPHANT_MAX_KEY_SIZE: u32 = 32;
/// `LMK_KEYS`: number of tfms forced by `lmk` in the `capi:` form.
pub(crate) const LMK_KEYS: u32 = 64;
/// `SECTOR_SHIFT`.
pub(crate) const SECTOR_SHIFT: u32 = 9;
/// Upper bound of the optional parameter count (`{0, 9, "Invalid number of feature args"}`).
pub(crate) const MAX_OPT_PARAMS: u32 = 9;

// Error strings, verbatim from drivers/md/dm-crypt.c and drivers/md/dm-table.c.
/// `crypt_ctr`: fewer than five arguments.
pub(crate) const E_NOT_ENOUGH_ARGS: &CStr = c"Not enough arguments";
/// `crypt_ctr`: `get_key_size()` failed.
pub(crate) const E_KEY_SIZE: &CStr = c"Cannot parse key size";
/// `dm_read_arg_group()` error of `crypt_ctr_optional`.
pub(crate) const E_NUM_FEATURE_ARGS: &CStr = c"Invalid number of feature args";
/// `crypt_ctr_optional`: ran out of arguments (unreachable after `dm_read_arg_group`).
pub(crate) const E_NOT_ENOUGH_FEATURE_ARGS: &CStr = c"Not enough feature arguments";
/// `crypt_ctr_optional`: `integrity:` tag size 0 or above `MAX_TAG_SIZE`.
pub(crate) const E_INTEGRITY_ARGS: &CStr = c"Invalid integrity arguments";
/// `crypt_ctr_optional`: `integrity:` profile neither `aead` nor `none`.
pub(crate) const E_INTEGRITY_PROFILE: &CStr = c"Unknown integrity profile";
/// `crypt_ctr_optional`: `integrity_key_size:0`.
pub(crate) const E_INTEGRITY_KEY_SIZE: &CStr = c"Invalid integrity_key_size argument";
/// `crypt_ctr_optional`: sector_size out of range or not a power of two.
pub(crate) const E_SECTOR_SIZE: &CStr = c"Invalid feature value for sector_size";
/// `crypt_ctr_optional`: target length not a multiple of sector_size.
pub(crate) const E_DEVICE_SIZE: &CStr = c"Device size is not multiple of sector_size feature";
/// `crypt_ctr_optional`: unknown option.
pub(crate) const E_FEATURE_ARGS: &CStr = c"Invalid feature arguments";
/// `crypt_ctr_cipher_old`: `(` in the cipher, or AEAD requested in the old form.
pub(crate) const E_BAD_CIPHER: &CStr = c"Bad cipher specification";
/// `crypt_ctr_cipher_old`: keycount not a power of two.
pub(crate) const E_KEY_COUNT: &CStr = c"Bad cipher key count specification";
/// `crypt_ctr_cipher_old`: chain mode other than ecb without IV mode.
pub(crate) const E_IV_REQUIRED: &CStr = c"IV mechanism required";
/// Both forms: `essiv` without `:<hash>`.
pub(crate) const E_ESSIV_DIGEST: &CStr = c"Digest algorithm missing for ESSIV mode";
/// `crypt_ctr_cipher_old`: crypto API name does not fit `CRYPTO_MAX_ALG_NAME` (-ENOMEM).
pub(crate) const E_CIPHER_STRINGS: &CStr = c"Cannot allocate cipher strings";
/// `crypt_ctr_cipher_new`: essiv crypto API name does not fit (-ENOMEM).
pub(crate) const E_CIPHER_STRING: &CStr = c"Cannot allocate cipher string";
/// `crypt_ctr_cipher_new`: `authenc(` spec without `,`.
pub(crate) const E_AEAD_SPEC: &CStr = c"Invalid AEAD cipher spec";
/// `crypt_ctr_cipher_new`: lmk with AEAD.
pub(crate) const E_AEAD_LMK: &CStr = c"AEAD transforms not supported for LMK";
/// Both forms: the crypto API could not allocate the transform.
pub(crate) const E_ALLOC_TFM: &CStr = c"Error allocating crypto tfm";
/// `crypt_ctr_ivmode`: unknown IV generator.
pub(crate) const E_IV_MODE: &CStr = c"Invalid IV mode";
/// `dm_table_add_target()`'s initial `ti->error`, left in place by errors without a message.
pub(crate) const E_UNKNOWN: &CStr = c"Unknown error";
/// `crypt_ctr_cipher`: `crypt_set_key()` failed.
pub(crate) const E_SET_KEY: &CStr = c"Error decoding and setting key";
/// `crypt_ctr_cipher`: an IV generator constructor failed.
pub(crate) const E_CREATE_IV: &CStr = c"Error creating IV";
/// `crypt_ctr_cipher`: an IV generator init failed.
pub(crate) const E_INIT_IV: &CStr = c"Error initialising IV";
/// `crypt_ctr`: bad iv_offset.
pub(crate) const E_IV_OFFSET: &CStr = c"Invalid iv_offset sector";
/// `crypt_ctr`: `dm_get_device()` failed.
pub(crate) const E_DEVICE_LOOKUP: &CStr = c"Device lookup failed";
/// `crypt_ctr`: bad start sector.
pub(crate) const E_DEVICE_SECTOR: &CStr = c"Invalid device sector";
/// rcrypt's own: the start sector plus the target length does not fit in a `sector_t`.
/// `crypt_integrity_ctr`: no integrity profile, or one with a checksum.
pub(crate) const E_INTEGRITY_NOT_SUPPORTED: &CStr = c"Integrity profile not supported.";
/// `crypt_integrity_ctr`: the profile's tuple is smaller than `integrity:<bytes>`.
pub(crate) const E_INTEGRITY_TAG_MISMATCH: &CStr = c"Integrity profile tag size mismatch.";
/// `crypt_integrity_ctr`: the profile's interval is not the encryption sector size.
pub(crate) const E_INTEGRITY_SECTOR_MISMATCH: &CStr = c"Integrity profile sector size mismatch.";
/// `crypt_integrity_ctr`: `crypto_aead_setauthsize()` refused the tag size.
pub(crate) const E_INTEGRITY_AUTHSIZE: &CStr = c"Integrity AEAD auth tag size is not supported.";
/// `crypt_integrity_ctr`: tag and stored IV do not fit the tuple.
pub(crate) const E_INTEGRITY_SPACE: &CStr = c"Not enough space for integrity tag in the profile.";
pub(crate) const E_DEVICE_RANGE: &CStr = c"Device sector plus target length overflows";

/// A rejected table: the exact `ti->error` dm-crypt sets and the (positive) errno it returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ParseError {
    /// The `ti->error` text, verbatim from the C (NUL-terminated so that it can be stored in
    /// `ti->error` directly).
    pub(crate) msg: &'static CStr,
    /// Positive errno the constructor returns (the C returns its negation).
    pub(crate) errno: i32,
}

impl ParseError {
    /// An `-EINVAL` rejection with message `msg`.
    pub(crate) const fn inval(msg: &'static CStr) -> Self {
        Self { msg, errno: EINVAL }
    }

    /// An `-ENOMEM` rejection with message `msg`.
    pub(crate) const fn nomem(msg: &'static CStr) -> Self {
        Self { msg, errno: ENOMEM }
    }
}

// ---------------------------------------------------------------------------------------------
// Kernel C library emulation.
// ---------------------------------------------------------------------------------------------

/// The kernel's `isspace()` (`lib/ctype.c`): `\t`, `\n`, `\v`, `\f`, `\r`, space and 0xa0.
pub(crate) const fn is_kernel_space(b: u8) -> bool {
    matches!(b, b'\t' | b'\n' | 0x0b | 0x0c | b'\r' | b' ' | 0xa0)
}

/// The kernel's `skip_spaces()`.
pub(crate) fn skip_spaces(s: &[u8]) -> &[u8] {
    let n = s.iter().take_while(|&&b| is_kernel_space(b)).count();
    s.get(n..).unwrap_or(&[])
}

/// One unsigned decimal conversion of the kernel's `vsscanf()` (`%u`, `%hu`, `%lu`, `%llu`):
/// returns the value (wrapped modulo 2^64, as `simple_strntoull()` does; the caller truncates
/// to the conversion's width) and the unconsumed rest, or `None` when the conversion does not
/// match (empty input, or no decimal digit after the leading whitespace: signs are rejected).
pub(crate) fn scan_u64(s: &[u8]) -> Option<(u64, &[u8])> {
    let s = skip_spaces(s);
    match s.first() {
        Some(b) if b.is_ascii_digit() => {}
        _ => return None,
    }
    let n = s.iter().take_while(|b| b.is_ascii_digit()).count();
    let value = s.iter().take(n).fold(0u64, |acc, &b| {
        acc.wrapping_mul(10)
            .wrapping_add(u64::from(b.wrapping_sub(b'0')))
    });
    Some((value, s.get(n..).unwrap_or(&[])))
}

/// `sscanf(s, "%llu%c", &v, &dummy) == 1`: a full match with nothing after the digits.
pub(crate) fn scan_u64_exact(s: &[u8]) -> Option<u64> {
    match scan_u64(s) {
        Some((v, b"")) => Some(v),
        _ => None,
    }
}

/// `sscanf(s, "%u%c", &v, &dummy) == 1` (value truncated to 32 bits like the C store).
pub(crate) fn scan_u32_exact(s: &[u8]) -> Option<u32> {
    // Truncation is the C semantics of storing through `unsigned int *`.
    scan_u64_exact(s).map(|v| v as u32)
}

/// The kernel's `strcasecmp(a, b) == 0`. Its `tolower()` is Latin-1 aware, but a non-ASCII byte
/// never lowers to ASCII, so against the ASCII literals used here this is ASCII-insensitive
/// equality.
fn strcaseeq(a: &[u8], b: &[u8]) -> bool {
    a.eq_ignore_ascii_case(b)
}

/// `hex_to_bin()`: value of an ASCII hex digit.
fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => b.checked_sub(b'0'),
        b'a'..=b'f' => b.checked_sub(b'a')?.checked_add(10),
        b'A'..=b'F' => b.checked_sub(b'A')?.checked_add(10),
        _ => None,
    }
}

/// Splits at the first `delim` like the kernel's `strsep()`: `(token, rest)`, where `rest` is
/// `None` when there was no delimiter; a `None` input yields `(None, None)`.
fn strsep(s: Option<&[u8]>, delim: u8) -> (Option<&[u8]>, Option<&[u8]>) {
    let Some(s) = s else {
        return (None, None);
    };
    match s.iter().position(|&b| b == delim) {
        Some(i) => (s.get(..i), s.get(i.saturating_add(1)..)),
        None => (Some(s), None),
    }
}

/// Splits at the last `delim` like `strrchr()` + `'\0'`: `(before, Some(after))`, or
/// `(s, None)` when there is no delimiter.
fn split_last(s: &[u8], delim: u8) -> (&[u8], Option<&[u8]>) {
    match s.iter().rposition(|&b| b == delim) {
        Some(i) => match (s.get(..i), s.get(i.saturating_add(1)..)) {
            (Some(a), Some(b)) => (a, Some(b)),
            _ => (s, None),
        },
        None => (s, None),
    }
}

// ---------------------------------------------------------------------------------------------
// Key.
// ---------------------------------------------------------------------------------------------

/// The `<key>` argument as classified by `get_key_size()`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeySpec<'a> {
    /// Not starting with `:`: a hex string (or `-`). `size` = `strlen >> 1`, so an odd
    /// trailing character is ignored by everything that follows.
    Hex {
        /// The argument verbatim.
        text: &'a [u8],
        /// Key size in bytes (`cc->key_size`).
        size: u32,
    },
    /// `:<size>:<type>:<description>`, a kernel keyring key.
    Keyring {
        /// Key size in bytes from the `<size>` field (`cc->key_size`).
        size: u32,
        /// Everything after the second `:` (`<type>:<description>`), unchecked until
        /// [`KeySpec::source`]; this is also `cc->key_string` (shown by the table status).
        spec: &'a [u8],
    },
}

/// Kernel key types accepted by `crypt_set_keyring_key()`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyringType {
    /// `logon` (`key_type_logon`, payload read as a user key).
    Logon,
    /// `user`.
    User,
    /// `encrypted`: only if the kernel has `CONFIG_ENCRYPTED_KEYS`, else the C rejects it as a
    /// syntax error (-EINVAL, "Error decoding and setting key") before `request_key()`.
    Encrypted,
    /// `trusted`: only with `CONFIG_TRUSTED_KEYS`, same rule as `Encrypted`.
    Trusted,
}

/// Where the key material comes from, after the pure checks of `crypt_set_key()`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeySource<'a> {
    /// `-` with key size 0: no key (only a zero-length key cipher such as cipher_null accepts
    /// the subsequent `setkey`).
    Empty,
    /// Exactly `2 * key_size` hex digits (a prefix of the argument; see [`decode_hex_key`]).
    Hex(&'a [u8]),
    /// A keyring key; the payload length must equal the key size (`[K]`).
    Keyring {
        /// The key type.
        key_type: KeyringType,
        /// The description passed to `request_key()` (after the first `:` of the spec; may
        /// itself contain `:`).
        description: &'a [u8],
    },
}

/// `get_key_size()` (with `CONFIG_KEYS`): classifies the `<key>` argument. Also used by the
/// `key set` message (where any error is a bare -EINVAL).
pub(crate) fn get_key_size(key: &[u8]) -> Result<KeySpec<'_>, ParseError> {
    let err = ParseError::inval(E_KEY_SIZE);
    let Some((&first, rest)) = key.split_first() else {
        return Ok(KeySpec::Hex { text: key, size: 0 });
    };
    if first != b':' {
        // `strlen(key) >> 1` as int: cannot be negative for any argument dm can hold.
        let size = u32::try_from(key.len() >> 1).map_err(|_| err)?;
        return Ok(KeySpec::Hex { text: key, size });
    }
    // `strpbrk(key + 1, ":")` must find a second ':'.
    let colon = rest.iter().position(|&b| b == b':').ok_or(err)?;
    // `sscanf(key + 1, "%u%c", &ret, &dummy) == 2 && dummy == ':'`.
    let (value, after) = scan_u64(rest).ok_or(err)?;
    if after.first() != Some(&b':') {
        return Err(err);
    }
    // `ret` is an int written through `%u`: wrap to 32 bits, negative is an error.
    let size = value as u32;
    if size > i32::MAX as u32 {
        return Err(err);
    }
    // The key string continues at the first ':' after the leading one (the digits and
    // whitespace the conversion consumed contain none, so it is the one `%c` matched).
    let spec = rest.get(colon.saturating_add(1)..).unwrap_or(&[]);
    Ok(KeySpec::Keyring { size, spec })
}

impl<'a> KeySpec<'a> {
    /// The key size in bytes (`cc->key_size`).
    pub(crate) fn size(&self) -> u32 {
        match *self {
            KeySpec::Hex { size, .. } | KeySpec::Keyring { size, .. } => size,
        }
    }

    /// The pure checks of `crypt_set_key()` / `crypt_set_keyring_key()`, in the C order. Every
    /// error is -EINVAL "Error decoding and setting key".
    pub(crate) fn source(&self) -> Result<KeySource<'a>, ParseError> {
        let err = ParseError::inval(E_SET_KEY);
        match *self {
            KeySpec::Hex { text, size } => {
                // "Hyphen (which gives a key_size of zero) means there is no key."
                if size == 0 {
                    return if text == b"-" {
                        Ok(KeySource::Empty)
                    } else {
                        Err(err)
                    };
                }
                let hex_len = (size as usize).checked_mul(2).ok_or(err)?;
                let hex = text.get(..hex_len).ok_or(err)?;
                if hex.iter().all(|&b| hex_val(b).is_some()) {
                    Ok(KeySource::Hex(hex))
                } else {
                    Err(err)
                }
            }
            KeySpec::Keyring { size, spec } => {
                // `!cc->key_size && strcmp(key, "-")`: key is ":<spec>" here, never "-".
                if size == 0 {
                    return Err(err);
                }
                // Whitespace is rejected (the kernel's isspace, including 0xa0).
                if spec.iter().any(|&b| is_kernel_space(b)) {
                    return Err(err);
                }
                let colon = spec.iter().position(|&b| b == b':').ok_or(err)?;
                let key_type = spec.get(..colon).ok_or(err)?;
                let description = spec.get(colon.saturating_add(1)..).ok_or(err)?;
                if key_type.is_empty() || description.is_empty() {
                    return Err(err);
                }
                let key_type = match key_type {
                    b"logon" => KeyringType::Logon,
                    b"user" => KeyringType::User,
                    b"encrypted" => KeyringType::Encrypted,
                    b"trusted" => KeyringType::Trusted,
                    _ => return Err(err),
                };
                Ok(KeySource::Keyring {
                    key_type,
                    description,
                })
            }
        }
    }
}

/// `hex2bin(out, hex, out.len())`: decodes `2 * out.len()` hex digits; -EINVAL "Error decoding
/// and setting key" on a non-hex digit or a short input. Extra input is ignored, like the C.
pub(crate) fn decode_hex_key(hex: &[u8], out: &mut [u8]) -> Result<(), ParseError> {
    if hex2bin_prefix(hex, out) == out.len() {
        Ok(())
    } else {
        Err(ParseError::inval(E_SET_KEY))
    }
}

/// The kernel's `hex2bin()`: decodes whole pairs of `hex` into `out` up to the first non-hex
/// digit (or the end of `hex`) and returns how many bytes it decoded; when it stops early the
/// rest of `out` is left as it was (what dm-crypt's key then holds).
pub(crate) fn hex2bin_prefix(hex: &[u8], out: &mut [u8]) -> usize {
    // Digits `2 * i` and `2 * i + 1` make byte `i`; past the end of `hex` a digit is `None`.
    let mut digits = hex.iter().map(|&b| hex_val(b));
    for (i, byte) in out.iter_mut().enumerate() {
        let hi = digits.next().flatten();
        let lo = digits.next().flatten();
        match (hi, lo) {
            (Some(hi), Some(lo)) => *byte = (hi << 4) | lo,
            _ => return i,
        }
    }
    out.len()
}

// ---------------------------------------------------------------------------------------------
// Optional parameters.
// ---------------------------------------------------------------------------------------------

/// The last `integrity:<bytes>:<profile>` option.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Integrity<'a> {
    /// `<bytes>` (`cc->used_tag_size`), 1..=480.
    pub(crate) tag_size: u32,
    /// The profile verbatim (`cc->cipher_auth`, shown by the status): `aead` or `none` in any
    /// case.
    pub(crate) profile: &'a [u8],
}

/// The optional parameters, as `crypt_ctr_optional()` leaves them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Options<'a> {
    /// `allow_discards` (`ti->num_discard_bios = 1`).
    pub(crate) allow_discards: bool,
    /// `same_cpu_crypt`.
    pub(crate) same_cpu_crypt: bool,
    /// `high_priority`.
    pub(crate) high_priority: bool,
    /// `submit_from_crypt_cpus` (`DM_CRYPT_NO_OFFLOAD`).
    pub(crate) submit_from_crypt_cpus: bool,
    /// `no_read_workqueue`.
    pub(crate) no_read_workqueue: bool,
    /// `no_write_workqueue`.
    pub(crate) no_write_workqueue: bool,
    /// `iv_large_sectors`.
    pub(crate) iv_large_sectors: bool,
    /// The last `integrity:` option, if any (`cc->used_tag_size`, `cc->cipher_auth`).
    pub(crate) integrity: Option<Integrity<'a>>,
    /// `CRYPT_MODE_INTEGRITY_AEAD`: set by any `integrity:<n>:aead`, never cleared by a later
    /// `integrity:<n>:none` (the C only sets the bit).
    pub(crate) integrity_aead: bool,
    /// The last `integrity_key_size:<bytes>` (`cc->key_mac_size`, `CRYPT_KEY_MAC_SIZE_SET`).
    pub(crate) integrity_key_size: Option<u32>,
    /// `cc->sector_size` in bytes (512 unless `sector_size:` was given; the last one wins).
    pub(crate) sector_size: u32,
    /// `cc->sector_shift`: log2(sector_size) - 9.
    pub(crate) sector_shift: u32,
    /// Arguments after the feature group, which the C silently ignores.
    pub(crate) ignored_args: usize,
}

impl Default for Options<'_> {
    fn default() -> Self {
        Self {
            allow_discards: false,
            same_cpu_crypt: false,
            high_priority: false,
            submit_from_crypt_cpus: false,
            no_read_workqueue: false,
            no_write_workqueue: false,
            iv_large_sectors: false,
            integrity: None,
            integrity_aead: false,
            integrity_key_size: None,
            sector_size: 1 << SECTOR_SHIFT,
            sector_shift: 0,
            ignored_args: 0,
        }
    }
}

/// The outcome of one `sscanf(opt, "<prefix>%<conv>%c")`-style match.
fn scan_prefixed<'s>(opt: &'s [u8], prefix: &[u8]) -> Option<(u64, &'s [u8])> {
    // Literal format characters are compared byte by byte (case-sensitive).
    let rest = opt.strip_prefix(prefix)?;
    scan_u64(rest)
}

/// `crypt_ctr_optional()`: `args` are the arguments after the fifth (`argc - 5` of them,
/// non-empty), `target_len` is `ti->len` in 512-byte sectors.
pub(crate) fn parse_options<'a, A>(
    args: &[&'a A],
    target_len: u64,
) -> Result<Options<'a>, ParseError>
where
    A: AsRef<[u8]> + ?Sized,
{
    let mut o = Options::default();
    let mut it = args.iter().map(|a| (*a).as_ref());

    // dm_read_arg_group(): `sscanf("%u%c") == 1`, 0..=9, and at least that many args left.
    let count_err = ParseError::inval(E_NUM_FEATURE_ARGS);
    let count = it.next().and_then(scan_u32_exact).ok_or(count_err)?;
    let remaining = args.len().saturating_sub(1);
    if count > MAX_OPT_PARAMS || remaining < count as usize {
        return Err(count_err);
    }
    o.ignored_args = remaining.saturating_sub(count as usize);

    for _ in 0..count {
        let Some(opt) = it.next() else {
            return Err(ParseError::inval(E_NOT_ENOUGH_FEATURE_ARGS));
        };
        if strcaseeq(opt, b"allow_discards") {
            o.allow_discards = true;
        } else if strcaseeq(opt, b"same_cpu_crypt") {
            o.same_cpu_crypt = true;
        } else if strcaseeq(opt, b"high_priority") {
            o.high_priority = true;
        } else if strcaseeq(opt, b"submit_from_crypt_cpus") {
            o.submit_from_crypt_cpus = true;
        } else if strcaseeq(opt, b"no_read_workqueue") {
            o.no_read_workqueue = true;
        } else if strcaseeq(opt, b"no_write_workqueue") {
            o.no_write_workqueue = true;
        } else if let Some((v, _)) = scan_prefixed(opt, b"integrity:") {
            // `sscanf(opt, "integrity:%u:", &val) == 1`: the trailing ':' literal does not
            // change the count, so anything may follow the digits.
            let tag_size = v as u32;
            if tag_size == 0 || tag_size > MAX_TAG_SIZE {
                return Err(ParseError::inval(E_INTEGRITY_ARGS));
            }
            // `strchr(opt + strlen("integrity:"), ':') + 1`. Without a ':' the C dereferences
            // address 1 and oopses; this parser rejects the option instead.
            let after_prefix = opt.get(b"integrity:".len()..).unwrap_or(&[]);
            let (_, profile) = strsep(Some(after_prefix), b':');
            let profile = profile.ok_or(ParseError::inval(E_INTEGRITY_ARGS))?;
            if strcaseeq(profile, b"aead") {
                o.integrity_aead = true;
            } else if !strcaseeq(profile, b"none") {
                return Err(ParseError::inval(E_INTEGRITY_PROFILE));
            }
            o.integrity = Some(Integrity { tag_size, profile });
        } else if let Some((v, b"")) = scan_prefixed(opt, b"integrity_key_size:") {
            let v = v as u32;
            if v == 0 {
                return Err(ParseError::inval(E_INTEGRITY_KEY_SIZE));
            }
            o.integrity_key_size = Some(v);
        } else if let Some((v, b"")) = scan_prefixed(opt, b"sector_size:") {
            // `%hu`: the value is stored truncated to 16 bits.
            let size = u32::from(v as u16);
            if !((1 << SECTOR_SHIFT)..=4096).contains(&size) || !size.is_power_of_two() {
                return Err(ParseError::inval(E_SECTOR_SIZE));
            }
            let mask = u64::from((size >> SECTOR_SHIFT).wrapping_sub(1));
            if target_len & mask != 0 {
                return Err(ParseError::inval(E_DEVICE_SIZE));
            }
            o.sector_size = size;
            o.sector_shift = size.trailing_zeros().wrapping_sub(SECTOR_SHIFT);
        } else if strcaseeq(opt, b"iv_large_sectors") {
            o.iv_large_sectors = true;
        } else {
            return Err(ParseError::inval(E_FEATURE_ARGS));
        }
    }
    Ok(o)
}

// ---------------------------------------------------------------------------------------------
// Cipher specification.
// ---------------------------------------------------------------------------------------------

/// The parsed `<cipher>` argument (the pure part of `crypt_ctr_cipher_old/new()`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CipherSpec<'a> {
    /// `true` for the `capi:` form.
    pub(crate) capi: bool,
    /// Legacy: the cipher name (`aes`); capi: the crypto API spec before `-ivmode`
    /// (`xts(aes)`).
    pub(crate) cipher: &'a [u8],
    /// Legacy: the chain mode (`cbc` for the bare `aes` / `aes-plain` compatibility forms);
    /// capi: empty.
    pub(crate) chainmode: &'a [u8],
    /// The IV mode text, if any (compared case-sensitively later; `None` = no IV generator).
    pub(crate) ivmode: Option<&'a [u8]>,
    /// The IV options text, if any (only `essiv` uses it: the hash name).
    pub(crate) ivopts: Option<&'a [u8]>,
    /// `cc->tfms_count`: legacy keycount (default 1); capi: 1, or 64 for `lmk`.
    pub(crate) tfms_count: u32,
    /// capi + AEAD + `authenc(`: the MAC algorithm between `authenc(` and the first `,`,
    /// which the kernel must allocate as an ahash (its digest size is `cc->key_mac_size`
    /// unless `integrity_key_size:` was given). Failure: "Invalid AEAD cipher spec".
    pub(crate) auth_mac: Option<&'a [u8]>,
}

/// A tiny `snprintf` into a fixed buffer that counts the full length like the C.
struct NameWriter<'b> {
    buf: &'b mut [u8; CRYPTO_MAX_ALG_NAME],
    len: usize,
}

impl NameWriter<'_> {
    fn push(&mut self, s: &[u8]) {
        for &b in s {
            if let Some(slot) = self.buf.get_mut(self.len) {
                *slot = b;
            }
            self.len = self.len.saturating_add(1);
        }
    }
}

impl<'a> CipherSpec<'a> {
    /// `cc->tfms_count` (a power of two).
    pub(crate) fn tfms_count(&self) -> u32 {
        self.tfms_count
    }

    /// Whether the IV mode is `essiv` (its name wraps the cipher in the essiv template).
    fn is_essiv(&self) -> bool {
        self.ivmode == Some(b"essiv".as_slice())
    }

    /// Length of the crypto API name the C would format (the `snprintf` return value).
    fn crypto_api_name_len(&self) -> usize {
        let opts = self.ivopts.map_or(0, <[u8]>::len);
        let c = self.cipher.len();
        let m = self.chainmode.len();
        match (self.capi, self.is_essiv()) {
            // "essiv(%s,%s)"
            (true, true) => c.saturating_add(opts).saturating_add(8),
            (true, false) => c,
            // "essiv(%s(%s),%s)"
            (false, true) => m.saturating_add(c).saturating_add(opts).saturating_add(10),
            // "%s(%s)"
            (false, false) => m.saturating_add(c).saturating_add(2),
        }
    }

    /// Writes the name the C passes to `crypto_alloc_skcipher()` / `crypto_alloc_aead()` into
    /// `buf`, followed by a NUL, and returns it (without the NUL): `cbc(aes)`, `xts(aes)`,
    /// `essiv(cbc(aes),sha256)`, the `capi:` spec verbatim, or `essiv(<spec>,<hash>)`.
    ///
    /// The legacy and essiv lengths were checked by [`parse_table`]. A `capi:` spec of 128
    /// bytes or more is passed verbatim by the C to the crypto API, which cannot find such a
    /// name; here it is rejected as "Error allocating crypto tfm" / -ENOENT.
    pub(crate) fn crypto_api_name<'b>(
        &self,
        buf: &'b mut [u8; CRYPTO_MAX_ALG_NAME],
    ) -> Result<&'b [u8], ParseError> {
        let len = self.crypto_api_name_len();
        if len >= CRYPTO_MAX_ALG_NAME {
            return Err(match (self.capi, self.is_essiv()) {
                (true, false) => ParseError {
                    msg: E_ALLOC_TFM,
                    errno: ENOENT,
                },
                (true, true) => ParseError::nomem(E_CIPHER_STRING),
                (false, _) => ParseError::nomem(E_CIPHER_STRINGS),
            });
        }
        let opts = self.ivopts.unwrap_or(&[]);
        let mut w = NameWriter { buf, len: 0 };
        match (self.capi, self.is_essiv()) {
            (true, true) => {
                w.push(b"essiv(");
                w.push(self.cipher);
                w.push(b",");
                w.push(opts);
                w.push(b")");
            }
            (true, false) => w.push(self.cipher),
            (false, true) => {
                w.push(b"essiv(");
                w.push(self.chainmode);
                w.push(b"(");
                w.push(self.cipher);
                w.push(b"),");
                w.push(opts);
                w.push(b")");
            }
            (false, false) => {
                w.push(self.chainmode);
                w.push(b"(");
                w.push(self.cipher);
                w.push(b")");
            }
        }
        let NameWriter { buf, len } = w;
        if let Some(nul) = buf.get_mut(len) {
            *nul = 0;
        }
        Ok(buf.get(..len).unwrap_or(&[]))
    }
}

/// The pure part of `crypt_ctr_cipher_old()`.
fn parse_cipher_old(cipher_in: &[u8], aead: bool) -> Result<CipherSpec<'_>, ParseError> {
    if cipher_in.contains(&b'(') || aead {
        return Err(ParseError::inval(E_BAD_CIPHER));
    }
    let (first, tmp) = strsep(Some(cipher_in), b'-');
    let (cipher, keycount) = strsep(first, b':');
    let cipher = cipher.unwrap_or(&[]);

    let tfms_count = match keycount {
        None => 1,
        Some(k) => match scan_u32_exact(k) {
            Some(n) if n.is_power_of_two() => n,
            _ => return Err(ParseError::inval(E_KEY_COUNT)),
        },
    };

    let (mut chainmode, tmp) = strsep(tmp, b'-');
    let (mut ivmode, ivopts) = strsep(tmp, b':');

    // Compatibility with the original mapping format: bare cipher (or `cipher-plain`) means
    // cbc-plain.
    if chainmode.is_none() || (chainmode == Some(b"plain".as_slice()) && ivmode.is_none()) {
        chainmode = Some(b"cbc");
        ivmode = Some(b"plain");
    }
    let chainmode = chainmode.unwrap_or(b"cbc");

    if chainmode != b"ecb" && ivmode.is_none() {
        return Err(ParseError::inval(E_IV_REQUIRED));
    }

    let spec = CipherSpec {
        capi: false,
        cipher,
        chainmode,
        ivmode,
        ivopts,
        tfms_count,
        auth_mac: None,
    };
    if spec.is_essiv() && ivopts.is_none() {
        return Err(ParseError::inval(E_ESSIV_DIGEST));
    }
    if spec.crypto_api_name_len() >= CRYPTO_MAX_ALG_NAME {
        return Err(ParseError::nomem(E_CIPHER_STRINGS));
    }
    Ok(spec)
}

/// The pure part of `crypt_ctr_cipher_new()`; `spec` is the text after `capi:`.
fn parse_cipher_new(spec: &[u8], aead: bool) -> Result<CipherSpec<'_>, ParseError> {
    // IV options at the last ':', then the IV mode at the last '-' of what precedes it.
    let (rest, ivopts) = split_last(spec, b':');
    let (cipher_api, ivmode) = split_last(rest, b'-');

    let mut auth_mac = None;
    if aead {
        // crypt_ctr_auth_cipher(): only for "authenc(", the MAC is up to the first ','.
        if let Some(after) = cipher_api.strip_prefix(b"authenc(") {
            let comma = after
                .iter()
                .position(|&b| b == b',')
                .ok_or(ParseError::inval(E_AEAD_SPEC))?;
            auth_mac = after.get(..comma);
        }
    }

    let mut tfms_count = 1;
    if ivmode == Some(b"lmk".as_slice()) {
        if aead {
            return Err(ParseError::inval(E_AEAD_LMK));
        }
        tfms_count = LMK_KEYS;
    }

    let parsed = CipherSpec {
        capi: true,
        cipher: cipher_api,
        chainmode: &[],
        ivmode,
        ivopts,
        tfms_count,
        auth_mac,
    };
    if parsed.is_essiv() {
        if ivopts.is_none() {
            return Err(ParseError::inval(E_ESSIV_DIGEST));
        }
        if parsed.crypto_api_name_len() >= CRYPTO_MAX_ALG_NAME {
            return Err(ParseError::nomem(E_CIPHER_STRING));
        }
    }
    Ok(parsed)
}

/// The pure part of the cipher parse of `crypt_ctr_cipher()` (dispatch on the case-sensitive
/// `capi:` prefix); `aead` is [`Options::integrity_aead`].
pub(crate) fn parse_cipher(cipher_in: &[u8], aead: bool) -> Result<CipherSpec<'_>, ParseError> {
    match cipher_in.strip_prefix(b"capi:") {
        Some(spec) => parse_cipher_new(spec, aead),
        None => parse_cipher_old(cipher_in, aead),
    }
}

// ---------------------------------------------------------------------------------------------
// IV generators.
// ---------------------------------------------------------------------------------------------

/// The IV generator selected by `crypt_ctr_ivmode()`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum IvMode {
    /// No generator: no IV mode given (ecb, or a `capi:` spec without `-ivmode`), or the
    /// cipher has no IV (ivsize 0), in which case any IV mode text is ignored.
    NoIv,
    /// `plain`: 32-bit little-endian sector.
    Plain,
    /// `plain64`: 64-bit little-endian sector.
    Plain64,
    /// `plain64be`: 64-bit big-endian sector at the end of the IV.
    Plain64Be,
    /// `essiv`: little-endian sector (the crypto API's essiv template does the rest).
    Essiv,
    /// `benbi`: big-endian narrow-block count from 1.
    Benbi,
    /// `null`: all-zero IV.
    Null,
    /// `lmk`: loop-AES compatible (MD5); v3 when the key has an extra seed part.
    Lmk,
    /// `tcw`: TrueCrypt < 4.1 (IV seed + whitening, CRC32).
    Tcw,
    /// `random`: random IV stored in integrity metadata.
    Random,
    /// `eboiv`: encrypted byte-offset IV (BitLocker CBC).
    Eboiv,
    /// `elephant`: BitLocker diffuser (+ eboiv IV).
    Elephant,
}

impl IvMode {
    /// The generator named `name` (`strcmp`, case-sensitive), or `None` for an unknown name.
    pub(crate) fn from_name(name: &[u8]) -> Option<Self> {
        Some(match name {
            b"plain" => Self::Plain,
            b"plain64" => Self::Plain64,
            b"plain64be" => Self::Plain64Be,
            b"essiv" => Self::Essiv,
            b"benbi" => Self::Benbi,
            b"null" => Self::Null,
            b"eboiv" => Self::Eboiv,
            b"elephant" => Self::Elephant,
            b"lmk" => Self::Lmk,
            b"tcw" => Self::Tcw,
            b"random" => Self::Random,
            _ => return None,
        })
    }
}

/// The state `crypt_ctr_ivmode()` computes from the tfm's ivsize.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct IvSetup {
    /// The generator.
    pub(crate) mode: IvMode,
    /// `cc->iv_size`: 0 if the cipher has no IV, else `max(ivsize, 8)`.
    pub(crate) iv_size: u32,
    /// `true` when an IV mode was given but the cipher has no IV: the C warns "Selected cipher
    /// does not support IVs" and ignores the mode.
    pub(crate) iv_mode_ignored: bool,
    /// `cc->key_size`.
    pub(crate) key_size: u32,
    /// `cc->tfms_count`.
    pub(crate) tfms_count: u32,
    /// `cc->key_parts`: tfms_count, +1 for lmk v3 (seed), +2 for tcw, 2 for elephant.
    pub(crate) key_parts: u32,
    /// `cc->key_extra_size`: key bytes used by the IV generator, not by the tfms.
    pub(crate) key_extra_size: u32,
    /// `cc->integrity_iv_size` (`random`: the IV is stored in the integrity metadata).
    pub(crate) integrity_iv_size: u32,
    /// `cc->key_mac_size`: the MAC key at the end of an AEAD key (`authenc(`), 0 if none. Not
    /// set by [`Table::iv_setup`]: the kernel side sets it (it needs the MAC's digest size).
    pub(crate) key_mac_size: u32,
    /// `CRYPT_ENCRYPT_PREPROCESS` (elephant).
    pub(crate) encrypt_preprocess: bool,
}

impl IvSetup {
    /// `crypt_subkey_size()`: `(key_size - key_extra_size) >> ilog2(tfms_count)` in C unsigned
    /// arithmetic. It wraps (e.g. `tcw` with a key not longer than its extra parts), giving a
    /// huge size that `crypto_*_setkey()` rejects with -EINVAL; the kernel side must treat an
    /// out-of-range size the same way (it must never slice the key with it unchecked).
    pub(crate) fn subkey_size(&self) -> u32 {
        let shift = self.tfms_count.checked_ilog2().unwrap_or(0);
        self.key_size
            .wrapping_sub(self.key_extra_size)
            .checked_shr(shift)
            .unwrap_or(0)
    }

    /// lmk v3 (`key_parts != tfms_count`): the last key part is the IV seed.
    pub(crate) fn lmk_has_seed(&self) -> bool {
        self.mode == IvMode::Lmk && self.key_parts != self.tfms_count
    }
}

/// What the IV generator constructors computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct IvCtr {
    /// benbi: `9 - log2(block size)`; 0 for other generators.
    pub(crate) benbi_shift: u32,
}

// ---------------------------------------------------------------------------------------------
// Table.
// ---------------------------------------------------------------------------------------------

/// A dm-crypt table that passed [`parse_table`] (stage 1 of `crypt_ctr()`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Table<'a> {
    /// `argv[0]` verbatim (`cc->cipher_string`, shown by the status).
    pub(crate) cipher_string: &'a [u8],
    /// The parsed cipher.
    pub(crate) cipher: CipherSpec<'a>,
    /// The key argument as classified by `get_key_size()`.
    pub(crate) key: KeySpec<'a>,
    /// `argv[2]`, parsed by [`Table::iv_offset`] (stage 7).
    pub(crate) iv_offset_arg: &'a [u8],
    /// `argv[3]` verbatim, for `dm_get_device()` (a path or `major:minor`).
    pub(crate) device_path: &'a [u8],
    /// `argv[4]`, parsed by [`Table::start`] (stage 9).
    pub(crate) start_arg: &'a [u8],
    /// The optional parameters.
    pub(crate) options: Options<'a>,
    /// `ti->len` in 512-byte sectors.
    pub(crate) target_len: u64,
}

/// Stage 1 of `crypt_ctr()`: everything before the tfm allocation, in the C order (see the
/// module documentation). `args` are the target arguments as split by device-mapper and
/// `target_len` is `ti->len` in 512-byte sectors.
pub(crate) fn parse_table<'a, A>(args: &[&'a A], target_len: u64) -> Result<Table<'a>, ParseError>
where
    A: AsRef<[u8]> + ?Sized,
{
    let arg = |i: usize| args.get(i).map(|a| (*a).as_ref());
    let (
        Some(cipher_string),
        Some(key_arg),
        Some(iv_offset_arg),
        Some(device_path),
        Some(start_arg),
    ) = (arg(0), arg(1), arg(2), arg(3), arg(4))
    else {
        return Err(ParseError::inval(E_NOT_ENOUGH_ARGS));
    };

    let key = get_key_size(key_arg)?;

    let options = match args.get(5..) {
        Some(rest) if !rest.is_empty() => parse_options(rest, target_len)?,
        _ => Options::default(),
    };

    let cipher = parse_cipher(cipher_string, options.integrity_aead)?;

    Ok(Table {
        cipher_string,
        cipher,
        key,
        iv_offset_arg,
        device_path,
        start_arg,
        options,
        target_len,
    })
}

impl<'a> Table<'a> {
    /// `cc->key_size` in bytes.
    pub(crate) fn key_size(&self) -> u32 {
        self.key.size()
    }

    /// `cc->tfms_count`: how many transforms the kernel allocates (1 for AEAD).
    pub(crate) fn tfms_count(&self) -> u32 {
        self.cipher.tfms_count()
    }

    /// Stage 2 helper: see [`CipherSpec::crypto_api_name`].
    pub(crate) fn crypto_api_name<'b>(
        &self,
        buf: &'b mut [u8; CRYPTO_MAX_ALG_NAME],
    ) -> Result<&'b [u8], ParseError> {
        self.cipher.crypto_api_name(buf)
    }

    /// Stage 3: `crypt_ctr_ivmode()`. `tfm_ivsize` is `crypto_skcipher_ivsize()` (or
    /// `crypto_aead_ivsize()`) of the allocated transform.
    pub(crate) fn iv_setup(&self, tfm_ivsize: u32) -> Result<IvSetup, ParseError> {
        let key_size = self.key_size();
        let tfms_count = self.cipher.tfms_count;
        let mut s = IvSetup {
            mode: IvMode::NoIv,
            iv_size: 0,
            iv_mode_ignored: false,
            key_size,
            tfms_count,
            key_parts: tfms_count,
            key_extra_size: 0,
            integrity_iv_size: 0,
            key_mac_size: 0,
            encrypt_preprocess: false,
        };
        let mut ivmode = self.cipher.ivmode;
        if tfm_ivsize != 0 {
            // "at least a 64 bit sector number should fit in our buffer"
            s.iv_size = tfm_ivsize.max(8);
        } else if ivmode.is_some() {
            s.iv_mode_ignored = true;
            ivmode = None;
        }
        let Some(name) = ivmode else {
            return Ok(s);
        };
        s.mode = IvMode::from_name(name).ok_or(ParseError::inval(E_IV_MODE))?;
        match s.mode {
            IvMode::Elephant => {
                s.key_parts = 2;
                s.key_extra_size = key_size >> 1;
                if s.key_extra_size > ELEPHANT_MAX_KEY_SIZE {
                    // Returns -EINVAL without setting ti->error.
                    return Err(ParseError::inval(E_UNKNOWN));
                }
                s.encrypt_preprocess = true;
            }
            // Version 3 (an extra IV seed part) when the key does not split evenly.
            IvMode::Lmk if key_size.checked_rem(s.key_parts).is_some_and(|r| r != 0) => {
                s.key_parts = s.key_parts.wrapping_add(1);
                s.key_extra_size = key_size.checked_div(s.key_parts).unwrap_or(0);
            }
            IvMode::Tcw => {
                s.key_parts = s.key_parts.wrapping_add(2);
                s.key_extra_size = s.iv_size.wrapping_add(TCW_WHITENING_SIZE);
            }
            IvMode::Random => s.integrity_iv_size = s.iv_size,
            _ => {}
        }
        Ok(s)
    }

    /// Stage 4: the pure checks of `crypt_set_key()`; see [`KeySpec::source`].
    pub(crate) fn key_source(&self) -> Result<KeySource<'a>, ParseError> {
        self.key.source()
    }

    /// Stage 5: the pure checks of the IV generator constructors, in the C order. `block_size`
    /// is `crypto_skcipher_blocksize()` (or the AEAD's) of the allocated transform. Every
    /// failure is -EINVAL "Error creating IV" (the generator's own message, e.g. "Unsupported
    /// sector size for LMK", is overwritten by `crypt_ctr_cipher()`).
    pub(crate) fn check_iv_ctr(
        &self,
        setup: &IvSetup,
        block_size: u32,
    ) -> Result<IvCtr, ParseError> {
        let err = ParseError::inval(E_CREATE_IV);
        let sector_512 = self.options.sector_size == 1 << SECTOR_SHIFT;
        let aead = self.options.integrity_aead;
        match setup.mode {
            IvMode::Benbi => {
                // "cypher blocksize is not a power of 2" / "cypher blocksize is > 512"
                if !block_size.is_power_of_two() {
                    return Err(err);
                }
                let benbi_shift = SECTOR_SHIFT
                    .checked_sub(block_size.trailing_zeros())
                    .ok_or(err)?;
                Ok(IvCtr { benbi_shift })
            }
            // "Unsupported sector size for LMK"
            IvMode::Lmk if !sector_512 => Err(err),
            IvMode::Tcw => {
                // "Unsupported sector size for TCW", then "Wrong key size for TCW"
                if !sector_512 || setup.key_size <= setup.iv_size.wrapping_add(TCW_WHITENING_SIZE) {
                    return Err(err);
                }
                Ok(IvCtr { benbi_shift: 0 })
            }
            IvMode::Eboiv | IvMode::Elephant => {
                // "AEAD transforms not supported for EBOIV", then "Block size of EBOIV cipher
                // does not match IV size of block cipher"
                if aead || block_size != setup.iv_size {
                    return Err(err);
                }
                Ok(IvCtr { benbi_shift: 0 })
            }
            _ => Ok(IvCtr { benbi_shift: 0 }),
        }
    }

    /// Stage 7: `sscanf(argv[2], "%llu%c") == 1` and a multiple of `sector_size >> 9`, else
    /// -EINVAL "Invalid iv_offset sector".
    pub(crate) fn iv_offset(&self) -> Result<u64, ParseError> {
        let mask = u64::from((self.options.sector_size >> SECTOR_SHIFT).wrapping_sub(1));
        match scan_u64_exact(self.iv_offset_arg) {
            Some(v) if v & mask == 0 => Ok(v),
            _ => Err(ParseError::inval(E_IV_OFFSET)),
        }
    }

    /// Stage 9: `sscanf(argv[4], "%llu%c") == 1` (any value: sector_t is 64-bit and dm-crypt
    /// does not check alignment; dm core does), else -EINVAL "Invalid device sector".
    pub(crate) fn start(&self) -> Result<u64, ParseError> {
        scan_u64_exact(self.start_arg).ok_or(ParseError::inval(E_DEVICE_SECTOR))
    }

    /// rcrypt's own check, after stage 10: [`check_device_range`] of `start` (from
    /// [`Table::start`]) and the target length.
    pub(crate) fn check_device_range(&self, start: u64) -> Result<(), ParseError> {
        check_device_range(start, self.target_len)
    }

    /// Whether the kernel must run `crypt_integrity_ctr()` (stage 10): AEAD mode or an IV
    /// stored in the integrity metadata (`random`).
    pub(crate) fn needs_integrity_profile(&self, setup: &IvSetup) -> bool {
        self.options.integrity_aead || setup.integrity_iv_size != 0
    }

    /// `cc->used_tag_size`: the `integrity:<bytes>` value, 0 without the option.
    pub(crate) fn used_tag_size(&self) -> u32 {
        self.options.integrity.map_or(0, |i| i.tag_size)
    }

    /// Stage 10, the first checks of `crypt_integrity_ctr()`, on the device's integrity
    /// profile (`None`: the device has none): it must have no checksum ("Integrity profile not
    /// supported."), a tuple of at least `integrity:<bytes>` ("Integrity profile tag size
    /// mismatch.") and an interval of the encryption sector size ("Integrity profile sector
    /// size mismatch."). Returns the tag layout; then the kernel sets the AEAD's tag size to
    /// [`IntegrityLayout::tag_size`] (failure, or no such size: "Integrity AEAD auth tag size
    /// is not supported.") and checks [`IntegrityLayout::check_space`].
    pub(crate) fn integrity_layout(
        &self,
        setup: &IvSetup,
        profile: Option<IntegrityProfileInfo>,
    ) -> Result<IntegrityLayout, ParseError> {
        let p = match profile {
            Some(p) if p.csum_none => p,
            _ => return Err(ParseError::inval(E_INTEGRITY_NOT_SUPPORTED)),
        };
        let used = self.used_tag_size();
        if p.tuple_size < used {
            return Err(ParseError::inval(E_INTEGRITY_TAG_MISMATCH));
        }
        if p.interval != self.options.sector_size {
            return Err(ParseError::inval(E_INTEGRITY_SECTOR_MISMATCH));
        }
        // `cc->integrity_tag_size = cc->used_tag_size - cc->integrity_iv_size`, unsigned: a
        // wrapped size is one no AEAD takes (`None` here).
        let tag_size = if self.options.integrity_aead {
            used.checked_sub(setup.integrity_iv_size)
        } else {
            Some(0)
        };
        Ok(IntegrityLayout {
            tuple_size: p.tuple_size,
            tag_size,
            iv_size: setup.integrity_iv_size,
        })
    }
}

/// What `crypt_integrity_ctr()` reads of a device's integrity profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct IntegrityProfileInfo {
    /// `csum_type == BLK_INTEGRITY_CSUM_NONE`.
    pub(crate) csum_none: bool,
    /// `tuple_size`: metadata bytes per interval.
    pub(crate) tuple_size: u32,
    /// `1 << interval_exp`: data bytes per tuple.
    pub(crate) interval: u32,
}

/// Where a sector's metadata goes in the device's tuple (`cc->tuple_size`,
/// `cc->integrity_tag_size`, `cc->integrity_iv_size`): the AEAD tag first, then the stored
/// IV, then zeros to the tuple's end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct IntegrityLayout {
    /// Metadata bytes per encryption sector.
    pub(crate) tuple_size: u32,
    /// The AEAD tag size (0 without AEAD); `None` if `integrity:<bytes>` is smaller than the
    /// stored IV.
    pub(crate) tag_size: Option<u32>,
    /// Bytes of stored IV (`random`), after the tag.
    pub(crate) iv_size: u32,
}

impl IntegrityLayout {
    /// The last check of `crypt_integrity_ctr()`, after the AEAD took the tag size: tag and
    /// stored IV fit the tuple, else "Not enough space for integrity tag in the profile.".
    pub(crate) fn check_space(&self) -> Result<(), ParseError> {
        match self.tag_size.and_then(|t| t.checked_add(self.iv_size)) {
            Some(n) if n <= self.tuple_size => Ok(()),
            _ => Err(ParseError::inval(E_INTEGRITY_SPACE)),
        }
    }
}

/// The area of the backing device a target maps, sectors `start` to `start + target_len - 1`,
/// must lie below 2^64 - 1 with its end: `start + target_len` must not overflow a `sector_t`,
/// else -EINVAL "Device sector plus target length overflows". Then no remapped sector
/// (`start` + the bio's offset in the target, below `target_len`) nor the end of a remapped
/// bio (at most `start + target_len`) wraps. dm-crypt has no such check (its sums wrap); dm
/// core's area check catches such a table only on a device with a size (on an empty one, an
/// unattached loop device for example, it skips the check), and its own limit (the mapped
/// device's end at most `LLONG_MAX >> 9`) bounds the target length, not the start.
pub(crate) fn check_device_range(start: u64, target_len: u64) -> Result<(), ParseError> {
    match start.checked_add(target_len) {
        Some(_) => Ok(()),
        None => Err(ParseError::inval(E_DEVICE_RANGE)),
    }
}
