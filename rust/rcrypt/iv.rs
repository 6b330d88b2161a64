// SPDX-License-Identifier: GPL-2.0

//! IV generators of dm-crypt that need no transform of their own (pure,
//! `core` only: compiled in the module and by the host test crate).
//!
//! C: `crypt_iv_*_gen()` in `drivers/md/dm-crypt.c`. `iv` is the whole IV
//! buffer of `cc->iv_size` bytes (`max(ivsize, 8)`), and `iv_sector` is
//! `dmreq->iv_sector`: the sector number in 512-byte units plus `iv_offset`,
//! shifted right by `sector_shift` with `iv_large_sectors`.

use super::table::IvMode;

/// Why an IV could not be generated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum IvError {
    /// The generator needs its own transform or data (lmk, tcw, random,
    /// eboiv, elephant), which this function does not provide.
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
pub(crate) fn generate(mode: IvMode, iv: &mut [u8], iv_sector: u64, benbi_shift: u32) -> Result<(), IvError> {
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
