// SPDX-License-Identifier: GPL-2.0

//! IV generators of dm-crypt and the data transformations of lmk, tcw and
//! elephant (pure, `core` only: compiled in the module and by the host test
//! crate). What needs a cipher (eboiv's and elephant's AES) is done by the
//! caller with the crypto API; everything else is here.
//!
//! C: `crypt_iv_*_gen()` in `drivers/md/dm-crypt.c`. `iv` is the whole IV
//! buffer of `cc->iv_size` bytes (`max(ivsize, 8)`), and `iv_sector` is
//! `dmreq->iv_sector`: the sector number in 512-byte units plus `iv_offset`,
//! shifted right by `sector_shift` with `iv_large_sectors`.

use super::table::IvMode;

/// Why an IV could not be generated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum IvError {
    /// The generator needs its own transform, key part or the sector's data
    /// (lmk, tcw, random, eboiv, elephant): see the functions below.
    Unsupported,
    /// The IV buffer is shorter than the generator writes.
    TooShort,
}

/// Position in sectors of the `sector_size` block that starts at 512-byte
/// sector `cc_sector` (which already includes `iv_offset`), as dm-crypt
/// computes `dmreq->iv_sector`.
pub(crate) fn iv_sector(cc_sector: u64, iv_large_sectors: bool, sector_shift: u32) -> u64 {
    if iv_large_sectors {
        cc_sector >> sector_shift
    } else {
        cc_sector
    }
}

/// Index of the transform (key) used for the block at `cc_sector`:
/// `cc_sector & (tfms_count - 1)` (`crypt_alloc_req_skcipher()`).
pub(crate) fn key_index(cc_sector: u64, tfms_count: u32) -> usize {
    (cc_sector & u64::from(tfms_count.saturating_sub(1))) as usize
}

/// Fills `iv` for `mode` and `iv_sector`. `benbi_shift` is
/// `9 - log2(block size)` (benbi only).
pub(crate) fn generate(
    mode: IvMode,
    iv: &mut [u8],
    iv_sector: u64,
    benbi_shift: u32,
) -> Result<(), IvError> {
    // 16 bytes (the block of AES, Twofish, Serpent) is nearly every IV: one
    // store of a 128-bit value instead of a fill and a copy (once per sector).
    match <&mut [u8; 16]>::try_from(&mut *iv) {
        Ok(iv16) => generate16(mode, iv16, iv_sector, benbi_shift),
        Err(_) => generate_slice(mode, iv, iv_sector, benbi_shift),
    }
}

/// [`generate`] for a 16-byte IV: the IV's bytes as one little-endian
/// 128-bit value (bytes 8 to 15 are its high half).
#[inline(always)]
pub(crate) fn generate16(
    mode: IvMode,
    iv: &mut [u8; 16],
    iv_sector: u64,
    benbi_shift: u32,
) -> Result<(), IvError> {
    let v = match mode {
        IvMode::NoIv | IvMode::Null => 0,
        IvMode::Plain => u128::from(iv_sector as u32),
        IvMode::Plain64 | IvMode::Essiv => u128::from(iv_sector),
        // Big-endian in the last 8 bytes.
        IvMode::Plain64Be => u128::from(iv_sector.swap_bytes()) << 64,
        IvMode::Benbi => u128::from((iv_sector << benbi_shift).wrapping_add(1).swap_bytes()) << 64,
        IvMode::Lmk | IvMode::Tcw | IvMode::Random | IvMode::Eboiv | IvMode::Elephant => {
            return Err(IvError::Unsupported)
        }
    };
    *iv = v.to_le_bytes();
    Ok(())
}

/// Whether [`generate16`] makes every IV of `mode`: the generators that
/// depend on the sector number alone (no key of their own, no sector data,
/// no post step), which the hot path runs without the general dispatch.
pub(crate) fn is_simple(mode: IvMode) -> bool {
    matches!(
        mode,
        IvMode::NoIv
            | IvMode::Null
            | IvMode::Plain
            | IvMode::Plain64
            | IvMode::Essiv
            | IvMode::Plain64Be
            | IvMode::Benbi
    )
}

/// [`generate`] for any IV size (as dm-crypt's generators write it).
pub(crate) fn generate_slice(
    mode: IvMode,
    iv: &mut [u8],
    iv_sector: u64,
    benbi_shift: u32,
) -> Result<(), IvError> {
    iv.fill(0);
    match mode {
        IvMode::NoIv | IvMode::Null => Ok(()),
        // *(__le32 *)iv = cpu_to_le32(iv_sector & 0xffffffff)
        IvMode::Plain => put(iv, 0, &(iv_sector as u32).to_le_bytes()),
        // *(__le64 *)iv = cpu_to_le64(iv_sector); essiv: the template encrypts it.
        IvMode::Plain64 | IvMode::Essiv => put(iv, 0, &iv_sector.to_le_bytes()),
        // *(__be64 *)&iv[iv_size - 8] = cpu_to_be64(iv_sector)
        IvMode::Plain64Be => {
            let at = iv.len().checked_sub(8).ok_or(IvError::TooShort)?;
            put(iv, at, &iv_sector.to_be_bytes())
        }
        // Big-endian narrow-block count, starting at 1, in the last 8 bytes.
        IvMode::Benbi => {
            let at = iv.len().checked_sub(8).ok_or(IvError::TooShort)?;
            let val = (iv_sector << benbi_shift).wrapping_add(1);
            put(iv, at, &val.to_be_bytes())
        }
        IvMode::Lmk | IvMode::Tcw | IvMode::Random | IvMode::Eboiv | IvMode::Elephant => {
            Err(IvError::Unsupported)
        }
    }
}

fn put(iv: &mut [u8], at: usize, bytes: &[u8]) -> Result<(), IvError> {
    let end = at.checked_add(bytes.len()).ok_or(IvError::TooShort)?;
    iv.get_mut(at..end)
        .ok_or(IvError::TooShort)?
        .copy_from_slice(bytes);
    Ok(())
}

/// `LMK_SEED_SIZE`: the lmk v3 seed buffer (an MD5 digest, zero-padded to a
/// whole MD5 block).
pub(crate) const LMK_SEED_SIZE: usize = 64;
/// `TCW_WHITENING_SIZE`.
pub(crate) const TCW_WHITENING_SIZE: usize = 16;
/// lmk and tcw work on whole 512-byte sectors.
pub(crate) const SECTOR_512: usize = 512;

/// One MD5 compression round over a 64-byte block (RFC 1321, no padding).
pub(crate) fn md5_block(state: &mut [u32; 4], block: &[u8; 64]) {
    // Per step: the left rotation (four per round, repeated four times).
    const S: [u32; 64] = [
        7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, //
        5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20, //
        4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, //
        6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21,
    ];
    // K[i] = floor(abs(sin(i + 1)) * 2^32)
    const K: [u32; 64] = [
        0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613,
        0xfd469501, 0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193,
        0xa679438e, 0x49b40821, 0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d,
        0x02441453, 0xd8a1e681, 0xe7d3fbc8, 0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed,
        0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a, 0xfffa3942, 0x8771f681, 0x6d9d6122,
        0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70, 0x289b7ec6, 0xeaa127fa,
        0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665, 0xf4292244,
        0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
        0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb,
        0xeb86d391,
    ];
    let mut m = [0u32; 16];
    let mut words = block.chunks_exact(4);
    for w in &mut m {
        if let Some(&[b0, b1, b2, b3]) = words.next() {
            *w = u32::from_le_bytes([b0, b1, b2, b3]);
        }
    }
    let [mut a, mut b, mut c, mut d] = *state;
    for (i, (&k, &s)) in K.iter().zip(&S).enumerate() {
        // The message word of step `i`, an index modulo 16 (computed with
        // wrapping arithmetic, which is exact modulo 16).
        let (f, g) = match i >> 4 {
            0 => ((b & c) | (!b & d), i),
            1 => ((d & b) | (!d & c), i.wrapping_mul(5).wrapping_add(1)),
            2 => (b ^ c ^ d, i.wrapping_mul(3).wrapping_add(5)),
            _ => (c ^ (b | !d), i.wrapping_mul(7)),
        };
        // In bounds: masked to 0..16, the length of `m`.
        #[allow(clippy::indexing_slicing)]
        let w = m[g & 15];
        let t = a.wrapping_add(f).wrapping_add(k).wrapping_add(w);
        a = d;
        d = c;
        c = b;
        b = b.wrapping_add(t.rotate_left(s));
    }
    for (s, v) in state.iter_mut().zip([a, b, c, d]) {
        *s = s.wrapping_add(v);
    }
}

/// `crypt_iv_lmk_one()`: the lmk IV of 512-byte sector `data` at
/// `iv_sector`: the MD5 state (no final padding) after the seed (v3 only),
/// blocks 1 to 31 of the sector and the sector number cropped to 56 bits,
/// copied into `iv` (at most the 16 bytes of the digest; a longer IV keeps
/// zeros where the C would copy MD5's internal buffer).
pub(crate) fn lmk_iv(
    seed: Option<&[u8; LMK_SEED_SIZE]>,
    data: &[u8],
    iv_sector: u64,
    iv: &mut [u8],
) -> Result<(), IvError> {
    let sector: &[u8; SECTOR_512] = data.first_chunk().ok_or(IvError::TooShort)?;
    let mut state = [0x67452301u32, 0xefcdab89, 0x98badcfe, 0x10325476];
    if let Some(seed) = seed {
        md5_block(&mut state, seed);
    }
    // Bytes 16 to 511 of the sector and 16 of sector number: eight whole
    // MD5 blocks.
    let mut tail = [0u8; 64];
    tail[..48].copy_from_slice(&sector[464..]);
    tail[48..52].copy_from_slice(&(iv_sector as u32).to_le_bytes());
    tail[52..56]
        .copy_from_slice(&((((iv_sector >> 32) as u32) & 0x00ff_ffff) | 0x8000_0000).to_le_bytes());
    tail[56..60].copy_from_slice(&4024u32.to_le_bytes());
    for block in sector[16..464].chunks_exact(64) {
        if let Ok(block) = block.try_into() {
            md5_block(&mut state, block);
        }
    }
    md5_block(&mut state, &tail);
    let mut digest = [0u8; 16];
    for (d, s) in digest.chunks_exact_mut(4).zip(state) {
        d.copy_from_slice(&s.to_le_bytes());
    }
    iv.fill(0);
    for (v, d) in iv.iter_mut().zip(digest) {
        *v = d;
    }
    Ok(())
}

/// `crc32_le(seed, data)` (reflected polynomial 0xedb88320, no inversion);
/// the crypto API's `crc32`, which tcw uses, starts from seed 0.
pub(crate) fn crc32_le(seed: u32, data: &[u8]) -> u32 {
    let mut crc = seed;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = (crc >> 1) ^ (0xedb8_8320 & (crc & 1).wrapping_neg());
        }
    }
    crc
}

/// `crypt_iv_tcw_whitening()`: XORs the tcw whitening of `iv_sector` over
/// the 512-byte sector `data` (its own inverse). The key-derived whitening
/// of the sector is built in `scratch` (at least [`TCW_WHITENING_SIZE`]
/// bytes), which the caller wipes (the C's `memzero_explicit`): a local
/// array cleared before returning would be a dead store.
pub(crate) fn tcw_whitening(
    whitening: &[u8; TCW_WHITENING_SIZE],
    iv_sector: u64,
    data: &mut [u8],
    scratch: &mut [u8],
) -> Result<(), IvError> {
    let data: &mut [u8; SECTOR_512] = data.first_chunk_mut().ok_or(IvError::TooShort)?;
    let sector = iv_sector.to_le_bytes();
    let buf: &mut [u8; TCW_WHITENING_SIZE] = scratch.first_chunk_mut().ok_or(IvError::TooShort)?;
    for ((b, w), s) in buf.iter_mut().zip(whitening).zip(sector.iter().cycle()) {
        *b = w ^ s;
    }
    for part in buf.chunks_exact_mut(4) {
        let crc = crc32_le(0, part);
        part.copy_from_slice(&crc.to_le_bytes());
    }
    // Bytes 0 to 3 ^= 12 to 15, bytes 4 to 7 ^= 8 to 11.
    let (lo, hi) = buf.split_at_mut(8);
    let ((w0, w1), (w2, w3)) = (lo.split_at_mut(4), hi.split_at(4));
    for (x, y) in w0
        .iter_mut()
        .zip(w3.iter())
        .chain(w1.iter_mut().zip(w2.iter()))
    {
        *x ^= y;
    }
    for chunk in data.chunks_exact_mut(8) {
        for (d, w) in chunk.iter_mut().zip(lo.iter()) {
            *d ^= w;
        }
    }
    Ok(())
}

/// `crypt_iv_tcw_gen()`'s IV: the IV seed XOR the little-endian sector
/// number (repeated over the first 16 bytes; a longer IV keeps the seed
/// beyond them, where the C would read past its 8-byte sector number).
pub(crate) fn tcw_iv(iv_seed: &[u8], iv_sector: u64, iv: &mut [u8]) -> Result<(), IvError> {
    if iv_seed.len() < iv.len() {
        return Err(IvError::TooShort);
    }
    let sector = iv_sector.to_le_bytes();
    let mask = sector.iter().cycle().take(16).chain(core::iter::repeat(&0));
    for ((v, s), m) in iv.iter_mut().zip(iv_seed).zip(mask) {
        *v = s ^ m;
    }
    Ok(())
}

/// The byte offset that eboiv and elephant encrypt: `iv_sector * sector_size`
/// (64-bit, wrapping like the C), little-endian in a zeroed block.
pub(crate) fn eboiv_block(
    iv_sector: u64,
    sector_size: u32,
    block: &mut [u8],
) -> Result<(), IvError> {
    block.fill(0);
    put(
        block,
        0,
        &iv_sector.wrapping_mul(u64::from(sector_size)).to_le_bytes(),
    )
}

/// Elephant's two diffusers (`diffuser_a/b_encrypt/decrypt()`) over the
/// 32-bit little-endian words of one sector, and the sector key XOR.
pub(crate) mod elephant {
    /// A sector as the diffusers see it: 32-bit little-endian words.
    ///
    /// The diffusers' indices stay below [`Self::len`] (see [`check`]); one
    /// outside would read 0 and write nothing rather than panic.
    struct Words<'a>(&'a mut [u8]);

    impl Words<'_> {
        fn len(&self) -> usize {
            self.0.len() >> 2
        }

        fn get(&self, i: usize) -> u32 {
            let w = self
                .0
                .get(i.wrapping_mul(4)..)
                .and_then(<[u8]>::first_chunk::<4>);
            w.map_or(0, |w| u32::from_le_bytes(*w))
        }

        fn set(&mut self, i: usize, v: u32) {
            if let Some(w) = self
                .0
                .get_mut(i.wrapping_mul(4)..)
                .and_then(<[u8]>::first_chunk_mut::<4>)
            {
                *w = v.to_le_bytes();
            }
        }

        fn add(&mut self, i: usize, v: u32) {
            self.set(i, self.get(i).wrapping_add(v));
        }

        fn sub(&mut self, i: usize, v: u32) {
            self.set(i, self.get(i).wrapping_sub(v));
        }
    }

    /// The diffusers' index arithmetic stays in bounds for a whole number of
    /// 32-byte chunks (sector sizes 512 to 4096): `n`, the number of words,
    /// is a multiple of 8, so each pass is `n / 4` rounds of four steps and
    /// an index that runs off one end wraps to the other exactly at the
    /// steps where the C checks it.
    fn check(data: &[u8]) -> Result<(), super::IvError> {
        if data.len() >= 32 && data.len() & 31 == 0 {
            Ok(())
        } else {
            Err(super::IvError::TooShort)
        }
    }

    // The indices below are word indices modulo `n`, with the C's wrapping
    // (`i -= n` past the end, `i += n` below 0) done in wrapping `usize`
    // arithmetic: below 0 is then `usize::MAX` and up, at or above `n`.

    /// `i + 1`, the index one word on.
    fn up(i: usize) -> usize {
        i.wrapping_add(1)
    }

    /// `i - 1`, the index one word back (`usize::MAX` below 0).
    fn down(i: usize) -> usize {
        i.wrapping_sub(1)
    }

    /// An index one past the last word back to the first.
    fn wrap_up(i: usize, n: usize) -> usize {
        if i >= n {
            i.wrapping_sub(n)
        } else {
            i
        }
    }

    /// An index one before the first word (`usize::MAX`) to the last.
    fn wrap_down(i: usize, n: usize) -> usize {
        if i >= n {
            i.wrapping_add(n)
        } else {
            i
        }
    }

    fn a_decrypt(d: &mut Words<'_>) {
        let n = d.len();
        for _ in 0..5 {
            let (mut i1, mut i2, mut i3) = (0, n.wrapping_sub(2), n.wrapping_sub(5));
            // `while i1 < n - 1`, four steps a round.
            for _ in 0..n >> 2 {
                d.add(i1, d.get(i2) ^ d.get(i3).rotate_left(9));
                (i1, i2, i3) = (up(i1), up(i2), wrap_up(up(i3), n));
                d.add(i1, d.get(i2) ^ d.get(i3));
                (i1, i2, i3) = (up(i1), wrap_up(up(i2), n), up(i3));
                d.add(i1, d.get(i2) ^ d.get(i3).rotate_left(13));
                (i1, i2, i3) = (up(i1), up(i2), up(i3));
                d.add(i1, d.get(i2) ^ d.get(i3));
                (i1, i2, i3) = (up(i1), up(i2), up(i3));
            }
        }
    }

    fn a_encrypt(d: &mut Words<'_>) {
        let n = d.len();
        for _ in 0..5 {
            let (mut i1, mut i2, mut i3) =
                (n.wrapping_sub(1), n.wrapping_sub(3), n.wrapping_sub(6));
            // `while i1 > 0`, four steps a round.
            for _ in 0..n >> 2 {
                d.sub(i1, d.get(i2) ^ d.get(i3));
                (i1, i2, i3) = (down(i1), down(i2), down(i3));
                d.sub(i1, d.get(i2) ^ d.get(i3).rotate_left(13));
                (i1, i2, i3) = (down(i1), wrap_down(down(i2), n), down(i3));
                d.sub(i1, d.get(i2) ^ d.get(i3));
                (i1, i2, i3) = (down(i1), down(i2), wrap_down(down(i3), n));
                d.sub(i1, d.get(i2) ^ d.get(i3).rotate_left(9));
                (i1, i2, i3) = (down(i1), down(i2), down(i3));
            }
        }
    }

    fn b_decrypt(d: &mut Words<'_>) {
        let n = d.len();
        for _ in 0..3 {
            let (mut i1, mut i2, mut i3) = (0, 2, 5);
            // `while i1 < n - 1`, four steps a round.
            for _ in 0..n >> 2 {
                d.add(i1, d.get(i2) ^ d.get(i3));
                (i1, i2, i3) = (up(i1), up(i2), up(i3));
                d.add(i1, d.get(i2) ^ d.get(i3).rotate_left(10));
                (i1, i2, i3) = (up(i1), wrap_up(up(i2), n), up(i3));
                d.add(i1, d.get(i2) ^ d.get(i3));
                (i1, i2, i3) = (up(i1), up(i2), wrap_up(up(i3), n));
                d.add(i1, d.get(i2) ^ d.get(i3).rotate_left(25));
                (i1, i2, i3) = (up(i1), up(i2), up(i3));
            }
        }
    }

    fn b_encrypt(d: &mut Words<'_>) {
        let n = d.len();
        for _ in 0..3 {
            let (mut i1, mut i2, mut i3) = (n.wrapping_sub(1), 1, 4);
            // `while i1 > 0`, four steps a round.
            for _ in 0..n >> 2 {
                d.sub(i1, d.get(i2) ^ d.get(i3).rotate_left(25));
                (i1, i2, i3) = (down(i1), down(i2), wrap_down(down(i3), n));
                d.sub(i1, d.get(i2) ^ d.get(i3));
                (i1, i2, i3) = (down(i1), wrap_down(down(i2), n), down(i3));
                d.sub(i1, d.get(i2) ^ d.get(i3).rotate_left(10));
                (i1, i2, i3) = (down(i1), down(i2), down(i3));
                d.sub(i1, d.get(i2) ^ d.get(i3));
                (i1, i2, i3) = (down(i1), down(i2), down(i3));
            }
        }
    }

    fn xor_key(data: &mut [u8], ks: &[u8; 32]) {
        for chunk in data.chunks_exact_mut(32) {
            for (d, k) in chunk.iter_mut().zip(ks) {
                *d ^= k;
            }
        }
    }

    /// The write side of `crypt_iv_elephant()`: sector key, then diffuser
    /// A and diffuser B.
    pub(crate) fn encrypt(data: &mut [u8], ks: &[u8; 32]) -> Result<(), super::IvError> {
        check(data)?;
        xor_key(data, ks);
        let mut d = Words(data);
        a_encrypt(&mut d);
        b_encrypt(&mut d);
        Ok(())
    }

    /// The read side of `crypt_iv_elephant()`: diffuser B and diffuser A
    /// undone, then the sector key.
    pub(crate) fn decrypt(data: &mut [u8], ks: &[u8; 32]) -> Result<(), super::IvError> {
        check(data)?;
        let mut d = Words(data);
        b_decrypt(&mut d);
        a_decrypt(&mut d);
        xor_key(data, ks);
        Ok(())
    }
}
