// SPDX-License-Identifier: GPL-2.0

//! The sector cipher of a target: its transforms, its IV generator and the
//! generator's keys.
//!
//! dm-crypt.c: `crypt_setkey()`; the IV generators' `iv_gen_ops` with key
//! material (`crypt_iv_lmk_*()`, `crypt_iv_tcw_*()`, `crypt_iv_eboiv_gen()`,
//! `crypt_iv_elephant*()`: their `ctr`, `init`, `wipe`, `generator` and
//! `post`); and `crypt_convert_block_skcipher()`, one sector through the
//! cipher. The generators' arithmetic is in [`iv`].

use super::iv;
use super::table::{self, IvMode, IvSetup, SECTOR_SHIFT};
use crate::bio::{Bio, BioCursor, PageRef};
use crate::crypto::{authenc_key, authenc_key_size, CipherUse, Direction, Rekey, Request, TfmSet};
use crate::keys::SecretBytes;
use kernel::error::code::{EINVAL, EIO};
use kernel::prelude::*;

/// Key material of the IV generators that keep some (`iv_gen_private`),
/// zeroed on drop. elephant's key lives in its transform.
pub(super) enum IvKeys {
    /// The generator keeps no key material.
    None,
    /// lmk: the v3 seed (`LMK_SEED_SIZE` bytes), none in v2.
    Lmk { seed: Option<SecretBytes> },
    /// tcw: the IV seed (`iv_size` bytes) and the whitening (16 bytes).
    Tcw {
        iv_seed: SecretBytes,
        whitening: SecretBytes,
    },
}

impl IvKeys {
    /// `crypt_iv_lmk_ctr()` / `crypt_iv_tcw_ctr()`: zeroed storage.
    pub(super) fn new(setup: &IvSetup) -> Result<Self> {
        Ok(match setup.mode {
            IvMode::Lmk if setup.key_parts != setup.tfms_count => IvKeys::Lmk {
                seed: Some(SecretBytes::new_zeroed(iv::LMK_SEED_SIZE)?),
            },
            IvMode::Lmk => IvKeys::Lmk { seed: None },
            IvMode::Tcw => IvKeys::Tcw {
                iv_seed: SecretBytes::new_zeroed(setup.iv_size as usize)?,
                whitening: SecretBytes::new_zeroed(iv::TCW_WHITENING_SIZE)?,
            },
            _ => IvKeys::None,
        })
    }
}

/// The transforms of a target with its IV generator's keys.
pub(super) type Tfms = TfmSet<IvKeys>;

/// `crypt_setkey()`: every transform takes its part of `key` (the key
/// without the IV generator's extra part, split evenly); an out-of-range
/// part size, which the C's unsigned arithmetic can produce, fails like
/// `setkey` would. The C reports the last failure. An AEAD takes the
/// part whole, or for `authenc(` (a MAC key size) in the `authenc` key
/// format with the MAC key last.
pub(super) fn setkey_parts(rk: &mut Rekey<'_, IvKeys>, setup: &IvSetup, key: &[u8]) -> Result {
    let subkey = setup.subkey_size() as usize;
    if rk.has_aead() {
        let part = key.get(..subkey).ok_or(EINVAL)?;
        if setup.key_mac_size == 0 {
            return rk.set_aead_key(part);
        }
        // crypt_integrity_hmac() (the constructor refused a MAC key size
        // with an AEAD other than `authenc(`).
        let mac = setup.key_mac_size as usize;
        let enc = subkey.checked_sub(mac).ok_or(EINVAL)?;
        let size = authenc_key_size(enc, mac).ok_or(EINVAL)?;
        let mut buf = SecretBytes::new_zeroed(size)?;
        authenc_key(part, mac, &mut buf)?;
        return rk.set_aead_key(&buf);
    }
    let mut err = Ok(());
    for i in 0usize..rk.count() {
        let part = i
            .checked_mul(subkey)
            .and_then(|from| key.get(from..from.checked_add(subkey)?));
        let r = match part {
            Some(p) => rk.set_key(i, p),
            None => Err(EINVAL),
        };
        if r.is_err() {
            err = r;
        }
    }
    err
}

/// `iv_gen_ops->init()`: the IV generator takes its part of `key`.
pub(super) fn iv_init(rk: &mut Rekey<'_, IvKeys>, setup: &IvSetup, key: &[u8]) -> Result {
    match setup.mode {
        // crypt_iv_elephant_init(): the diffuser key is the key's tail.
        IvMode::Elephant => {
            let from = key
                .len()
                .checked_sub(setup.key_extra_size as usize)
                .ok_or(EINVAL)?;
            rk.set_aux_key(key.get(from..).ok_or(EINVAL)?)
        }
        _ => match rk.state() {
            IvKeys::None => Ok(()),
            // crypt_iv_lmk_init(): the seed is the digest-sized start of part
            // `tfms_count` of `key_parts` equal parts.
            IvKeys::Lmk { seed } => {
                if let Some(seed) = seed {
                    let part = setup.key_size.checked_div(setup.key_parts).unwrap_or(0) as usize;
                    let from = (setup.tfms_count as usize)
                        .saturating_mul(part)
                        .min(key.len());
                    let src = key.get(from..).unwrap_or(&[]);
                    seed.wipe();
                    for (d, s) in seed.iter_mut().zip(src.iter().take(16)) {
                        *d = *s;
                    }
                }
                Ok(())
            }
            // crypt_iv_tcw_init(): IV seed and whitening end the key.
            IvKeys::Tcw { iv_seed, whitening } => {
                let (n_seed, n_wh) = (iv_seed.len(), whitening.len());
                let from = n_seed
                    .checked_add(n_wh)
                    .and_then(|n| key.len().checked_sub(n))
                    .ok_or(EINVAL)?;
                let tail = key.get(from..).ok_or(EINVAL)?;
                iv_seed.copy_from_slice(tail.get(..n_seed).ok_or(EINVAL)?);
                whitening.copy_from_slice(tail.get(n_seed..).ok_or(EINVAL)?);
                Ok(())
            }
        },
    }
}

/// `iv_gen_ops->wipe()`: the IV generator forgets its key.
pub(super) fn iv_wipe(rk: &mut Rekey<'_, IvKeys>, setup: &IvSetup) -> Result {
    if setup.mode == IvMode::Elephant {
        // crypt_iv_elephant_wipe(): an all-zero key.
        let zero = [0u8; table::ELEPHANT_MAX_KEY_SIZE as usize];
        let n = (setup.key_extra_size as usize).min(zero.len());
        return rk.set_aux_key(zero.get(..n).ok_or(EINVAL)?);
    }
    match rk.state() {
        IvKeys::None => {}
        IvKeys::Lmk { seed } => {
            if let Some(seed) = seed {
                seed.wipe();
            }
        }
        IvKeys::Tcw { iv_seed, whitening } => {
            iv_seed.wipe();
            whitening.wipe();
        }
    }
    Ok(())
}

/// Pages per request of a cipher whose output does not depend on the
/// sector ([`SectorCipher::crypt_batch`]): each request carries two
/// scatterlist tables of this many entries.
pub(super) const RUN_BATCH: usize = 16;

/// The per-sector cipher of a target: its transforms and IV generator
/// (the part of `crypt_convert_block_skcipher()` that turns one
/// `sector_size` block into another, with the generator's `generator` and
/// `post` steps).
pub(super) struct SectorCipher {
    pub(super) tfms: Tfms,
    mode: IvMode,
    tfms_count: u32,
    benbi_shift: u32,
    iv_large_sectors: bool,
    pub(super) sector_size: u32,
    sector_shift: u32,
    /// The output does not depend on the sector ([`Self::runs`]).
    pub(super) runs: bool,
    /// One transform and a 16-byte IV made from the sector number alone
    /// (`plain64`, `essiv` and the like: [`iv::is_simple`]): each sector is
    /// an IV store and a request, without `crypt_block`'s dispatch.
    pub(super) simple: bool,
}

impl SectorCipher {
    pub(super) fn new(
        tfms: Tfms,
        setup: &IvSetup,
        iv_ctr: &table::IvCtr,
        o: &table::Options<'_>,
    ) -> Self {
        SectorCipher {
            tfms,
            mode: setup.mode,
            tfms_count: setup.tfms_count,
            benbi_shift: iv_ctr.benbi_shift,
            iv_large_sectors: o.iv_large_sectors,
            sector_size: o.sector_size,
            sector_shift: o.sector_shift,
            runs: Self::runs(setup),
            simple: setup.iv_size == 16 && setup.tfms_count == 1 && iv::is_simple(setup.mode),
        }
    }

    /// Encrypts or decrypts the whole sectors of `src` (a run inside one
    /// page, as long as `dst`) into `dst`, the first at 512-byte sector
    /// `*cc_sector`, which moves past them: `crypt_block` per sector, or its
    /// shortcut for a simple IV, which does what `crypt_block` does for one
    /// (the IV from the sector, then the request) with the transform looked
    /// up once.
    #[inline(always)]
    pub(super) fn crypt_sectors<'p>(
        &self,
        tfms: &CipherUse<'_, IvKeys>,
        req: &mut Request<'_>,
        dir: Direction,
        cc_sector: &mut u64,
        src: PageRef<'p>,
        dst: PageRef<'p>,
    ) -> Result {
        let ss = self.sector_size;
        let step = u64::from(ss >> SECTOR_SHIFT);
        let len = src.len();
        let mut off = 0;
        if self.simple {
            let tfm = tfms.get(0).ok_or(EINVAL)?;
            while off < len {
                let (s, d) = (src.sub(off, ss).ok_or(EIO)?, dst.sub(off, ss).ok_or(EIO)?);
                let iv_sector = iv::iv_sector(*cc_sector, self.iv_large_sectors, self.sector_shift);
                let iv = req.iv16_mut().ok_or(EINVAL)?;
                iv::generate16(self.mode, iv, iv_sector, self.benbi_shift).map_err(|_| EINVAL)?;
                req.crypt(tfm, dir, s, d, ss)?;
                *cc_sector = cc_sector.wrapping_add(step);
                // `src.sub(off, ss)` succeeded: `off + ss <= len`.
                #[allow(clippy::arithmetic_side_effects)]
                {
                    off += ss;
                }
            }
        } else {
            while off < len {
                let (s, d) = (src.sub(off, ss).ok_or(EIO)?, dst.sub(off, ss).ok_or(EIO)?);
                self.crypt_block(tfms, req, dir, *cc_sector, s, d)?;
                *cc_sector = cc_sector.wrapping_add(step);
                // `src.sub(off, ss)` succeeded: `off + ss <= len`.
                #[allow(clippy::arithmetic_side_effects)]
                {
                    off += ss;
                }
            }
        }
        Ok(())
    }

    /// Whether the output of the cipher of `setup` does not depend on the
    /// sector (no IV, one transform: `ecb` and `cipher_null`), so that a run
    /// of sectors goes in one request.
    pub(super) fn runs(setup: &IvSetup) -> bool {
        setup.iv_size == 0 && setup.mode == IvMode::NoIv && setup.tfms_count == 1
    }

    /// Encrypts or decrypts `len` bytes (whole sectors) from `src` into
    /// `dst` in one request, for a cipher whose output does not depend on
    /// the sector (`runs`): the same bytes as sector by sector.
    pub(super) fn crypt_run<'p>(
        &self,
        tfms: &CipherUse<'_, IvKeys>,
        req: &mut Request<'_>,
        dir: Direction,
        src: PageRef<'p>,
        dst: PageRef<'p>,
    ) -> Result {
        if !self.runs || src.len() & self.sector_size.wrapping_sub(1) != 0 {
            return Err(EINVAL);
        }
        let tfm = tfms.get(0).ok_or(EINVAL)?;
        req.crypt(tfm, dir, src, dst, src.len())
    }

    /// Encrypts or decrypts the next whole sectors of `src` at its cursor,
    /// at most `max` bytes, into `dst` at its cursor (in place without
    /// `dst`) in one request over as many pages as the request's
    /// scatterlists hold, for a cipher whose output does not depend on the
    /// sector (`runs`); returns the bytes done and the number of their
    /// sectors that span bio vectors of `src`.
    pub(super) fn crypt_batch(
        &self,
        tfms: &CipherUse<'_, IvKeys>,
        req: &mut Request<'_>,
        dir: Direction,
        src: (&Bio, &mut BioCursor<'_>),
        dst: Option<(&Bio, &mut BioCursor<'_>)>,
        max: u32,
    ) -> Result<(u32, u32)> {
        if !self.runs {
            return Err(EINVAL);
        }
        let tfm = tfms.get(0).ok_or(EINVAL)?;
        req.crypt_batch(tfm, dir, src, dst, max, self.sector_size.wrapping_sub(1))
    }

    /// Whether a sector of IV mode `mode` may be spread over several bio vectors
    /// ([`Self::crypt_spread`]): its IV comes from the sector number alone,
    /// and nothing but the cipher touches its data. lmk and tcw read the
    /// sector's bytes for the IV or the whitening, elephant rewrites them,
    /// and `random` keeps its IV in the integrity metadata: those keep a
    /// sector in one vector (`dma_alignment` = sector size - 1, as dm-crypt).
    pub(super) fn spreads(mode: IvMode) -> bool {
        !matches!(
            mode,
            IvMode::Lmk | IvMode::Tcw | IvMode::Elephant | IvMode::Random
        )
    }

    /// One sector at 512-byte sector `*cc_sector` (iv_offset included),
    /// which moves past it, spread over vectors of `src` at its cursor, into
    /// `dst` at its cursor (in place without `dst`): `crypt_block` for the
    /// generators [`Self::spreads`] allows, through scatterlists. (Out of
    /// line and cold: the aligned path never takes it.)
    #[cold]
    #[inline(never)]
    pub(super) fn crypt_spread(
        &self,
        tfms: &CipherUse<'_, IvKeys>,
        req: &mut Request<'_>,
        dir: Direction,
        cc_sector: &mut u64,
        src: (&Bio, &mut BioCursor<'_>),
        dst: Option<(&Bio, &mut BioCursor<'_>)>,
    ) -> Result {
        if !Self::spreads(self.mode) {
            return Err(EIO);
        }
        let iv_sector = iv::iv_sector(*cc_sector, self.iv_large_sectors, self.sector_shift);
        let tfm = tfms
            .get(iv::key_index(*cc_sector, self.tfms_count))
            .ok_or(EINVAL)?;
        if self.mode == IvMode::Eboiv {
            self.eboiv(tfms, req, iv_sector)?;
        } else {
            iv::generate(self.mode, req.iv_mut(), iv_sector, self.benbi_shift)
                .map_err(|_| EINVAL)?;
        }
        req.crypt_spread(tfm, dir, src, dst, self.sector_size)?;
        *cc_sector = cc_sector.wrapping_add(u64::from(self.sector_size >> SECTOR_SHIFT));
        Ok(())
    }

    /// The IV mode.
    pub(super) fn mode(&self) -> IvMode {
        self.mode
    }

    /// The transform of the sector at 512-byte sector `cc_sector`.
    pub(super) fn key_index(&self, cc_sector: u64) -> usize {
        iv::key_index(cc_sector, self.tfms_count)
    }

    /// Fills the request's IV for the sector at 512-byte sector `cc_sector`
    /// with a generator that depends on the sector alone ([`iv::is_simple`]:
    /// the IV modes an AEAD table may have besides `random`).
    pub(super) fn generate_iv(&self, req: &mut Request<'_>, cc_sector: u64) -> Result {
        let iv_sector = iv::iv_sector(cc_sector, self.iv_large_sectors, self.sector_shift);
        iv::generate(self.mode, req.iv_mut(), iv_sector, self.benbi_shift).map_err(|_| EINVAL)
    }

    /// Scratch space a request needs for this generator: a copy of one
    /// sector for those that read or rewrite sector data.
    pub(super) fn scratch_len(mode: IvMode, sector_size: u32) -> usize {
        match mode {
            IvMode::Lmk | IvMode::Tcw => iv::SECTOR_512,
            IvMode::Elephant => sector_size as usize,
            _ => 0,
        }
    }

    /// `crypt_iv_eboiv_gen()`: the IV is the byte offset encrypted with the
    /// first transform (a CBC encryption of a zero block with the offset as
    /// IV, as the C does).
    fn eboiv(&self, tfms: &CipherUse<'_, IvKeys>, req: &mut Request<'_>, iv_sector: u64) -> Result {
        let tfm = tfms.get(0).ok_or(EINVAL)?;
        let b = req.bufs();
        let n = b.iv.len();
        iv::eboiv_block(iv_sector, self.sector_size, b.iv).map_err(|_| EINVAL)?;
        b.aux.get_mut(..n).ok_or(EINVAL)?.fill(0);
        req.crypt_aux(tfm, Direction::Encrypt, n as u32)?;
        let b = req.bufs();
        b.iv.copy_from_slice(b.aux.get(..n).ok_or(EINVAL)?);
        Ok(())
    }

    /// `crypt_iv_elephant()`'s sector key: `ks = E(Ks, e(s)) || E(Ks, e'(s))`
    /// with the diffuser transform, left in the first 32 bytes of the
    /// request's auxiliary buffer.
    fn elephant_key(
        &self,
        tfms: &CipherUse<'_, IvKeys>,
        req: &mut Request<'_>,
        iv_sector: u64,
    ) -> Result {
        let tfm = tfms.aux().ok_or(EINVAL)?;
        let aux = req.bufs().aux;
        let (es, es2) = aux.get_mut(..32).ok_or(EINVAL)?.split_at_mut(16);
        iv::eboiv_block(iv_sector, self.sector_size, es).map_err(|_| EINVAL)?;
        es2.copy_from_slice(es);
        *es2.last_mut().ok_or(EINVAL)? = 0x80;
        req.crypt_aux(tfm, Direction::Encrypt, 32)
    }

    /// Applies elephant to the sector at `dst` (`data` is scratch holding
    /// its plaintext on writes, ciphertext-side data on reads).
    fn elephant_diffuse(req: &mut Request<'_>, dir: Direction, dst: PageRef<'_>) -> Result {
        let b = req.bufs();
        let ks: &[u8; 32] = b
            .aux
            .get(..32)
            .and_then(|k| k.try_into().ok())
            .ok_or(EINVAL)?;
        let r = match dir {
            Direction::Encrypt => iv::elephant::encrypt(b.scratch, ks),
            Direction::Decrypt => {
                dst.read(b.scratch)?;
                iv::elephant::decrypt(b.scratch, ks)
            }
        };
        r.map_err(|_| EINVAL)?;
        dst.write(b.scratch)
    }

    /// Encrypts or decrypts one `sector_size` block at 512-byte sector
    /// `cc_sector` (iv_offset included) from `src` into `dst`.
    pub(super) fn crypt_block<'p>(
        &self,
        tfms: &CipherUse<'_, IvKeys>,
        req: &mut Request<'_>,
        dir: Direction,
        cc_sector: u64,
        src: PageRef<'p>,
        dst: PageRef<'p>,
    ) -> Result {
        let iv_sector = iv::iv_sector(cc_sector, self.iv_large_sectors, self.sector_shift);
        let tfm = tfms
            .get(iv::key_index(cc_sector, self.tfms_count))
            .ok_or(EINVAL)?;
        let keys = tfms.state();
        let ivfail = |_| EINVAL;
        let mut src = src;

        // The generator (`iv_gen_ops->generator`).
        match (self.mode, keys) {
            // crypt_iv_lmk_gen(): writes hash the plaintext, reads start from 0.
            (IvMode::Lmk, IvKeys::Lmk { seed }) => {
                let b = req.bufs();
                if dir == Direction::Encrypt {
                    src.read(b.scratch)?;
                    iv::lmk_iv(seed_of(seed)?, b.scratch, iv_sector, b.iv).map_err(ivfail)?;
                } else {
                    b.iv.fill(0);
                }
            }
            // crypt_iv_tcw_gen(): reads lose the whitening of the ciphertext first.
            (IvMode::Tcw, IvKeys::Tcw { iv_seed, whitening }) => {
                let b = req.bufs();
                if dir == Direction::Decrypt {
                    src.read(b.scratch)?;
                    iv::tcw_whitening(whitening_of(whitening)?, iv_sector, b.scratch, b.aux)
                        .map_err(ivfail)?;
                    src.write(b.scratch)?;
                }
                iv::tcw_iv(iv_seed, iv_sector, b.iv).map_err(ivfail)?;
            }
            (IvMode::Eboiv, _) => self.eboiv(tfms, req, iv_sector)?,
            // crypt_iv_elephant_gen(): writes are diffused into `dst` first, and
            // encrypted there (CRYPT_ENCRYPT_PREPROCESS).
            (IvMode::Elephant, _) => {
                if dir == Direction::Encrypt {
                    self.elephant_key(tfms, req, iv_sector)?;
                    src.read(req.bufs().scratch)?;
                    Self::elephant_diffuse(req, dir, dst)?;
                    src = dst;
                }
                self.eboiv(tfms, req, iv_sector)?;
            }
            (IvMode::Lmk | IvMode::Tcw, _) => return Err(EINVAL),
            (mode, _) => {
                iv::generate(mode, req.iv_mut(), iv_sector, self.benbi_shift).map_err(ivfail)?
            }
        }

        req.crypt(tfm, dir, src, dst, self.sector_size)?;

        // The post step (`iv_gen_ops->post`).
        match (self.mode, dir, keys) {
            // crypt_iv_lmk_post(): the IV of the plaintext tweaks its first block.
            (IvMode::Lmk, Direction::Decrypt, IvKeys::Lmk { seed }) => {
                let b = req.bufs();
                dst.read(b.scratch)?;
                iv::lmk_iv(seed_of(seed)?, b.scratch, iv_sector, b.iv).map_err(ivfail)?;
                let n = b.iv.len();
                for (d, v) in b.scratch.iter_mut().zip(b.iv.iter()) {
                    *d ^= v;
                }
                dst.write(b.scratch.get(..n).ok_or(EINVAL)?)
            }
            // crypt_iv_tcw_post(): whitening over the ciphertext.
            (IvMode::Tcw, Direction::Encrypt, IvKeys::Tcw { whitening, .. }) => {
                let b = req.bufs();
                dst.read(b.scratch)?;
                iv::tcw_whitening(whitening_of(whitening)?, iv_sector, b.scratch, b.aux)
                    .map_err(ivfail)?;
                dst.write(b.scratch)
            }
            // crypt_iv_elephant_post(): reads undo the diffusers.
            (IvMode::Elephant, Direction::Decrypt, _) => {
                self.elephant_key(tfms, req, iv_sector)?;
                Self::elephant_diffuse(req, dir, dst)
            }
            _ => Ok(()),
        }
    }
}

/// The lmk seed as the generator takes it.
fn seed_of(seed: &Option<SecretBytes>) -> Result<Option<&[u8; iv::LMK_SEED_SIZE]>> {
    match seed {
        None => Ok(None),
        Some(s) => (**s).try_into().map(Some).map_err(|_| EINVAL),
    }
}

/// The tcw whitening as the generator takes it.
fn whitening_of(w: &SecretBytes) -> Result<&[u8; iv::TCW_WHITENING_SIZE]> {
    (**w).try_into().map_err(|_| EINVAL)
}
