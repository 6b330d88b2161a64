// SPDX-License-Identifier: GPL-2.0

//! The `rcrypt` target: the Rust counterpart of `drivers/md/dm-crypt.c`.
//!
//! This file is safe Rust over the wrappers in [`crate::dm`], [`crate::crypto`]
//! and [`crate::keys`]. The constructor follows `crypt_ctr()` step by step
//! (the stage numbers are those of [`table`]'s documentation) so that every
//! table gets the same verdict and the same `ti->error` message as dm-crypt.
//!
//! I/O: reads go to the device themselves (no clone) and are decrypted in
//! place when they complete; writes are encrypted into pages of a mempool and submitted as a
//! new bio. The crypto runs inline or on the work queue as the [`Engine`]
//! decides. Every allocation on the I/O path comes from a mempool, so I/O
//! waits for memory, never fails for want of it. Integrity (AEAD and the
//! `random` IV) is refused with "not supported yet".

pub(crate) mod table;

#[cfg(CONFIG_KUNIT)]
mod kunit_tests;
#[cfg(CONFIG_KUNIT)]
mod xts_vectors;
#[cfg(CONFIG_KUNIT)]
mod iv_vectors;

pub(crate) mod iv;
pub(crate) mod policy;

use crate::bio::{Bio, BioOp, BioSet, BlkStatus, PagePool, PageRef, MAX_LARGE_ORDER};
use crate::crypto::{CipherUse, Direction, Rekey, Request, RequestPool, Skcipher, TfmSet, CRYPTO_ALG_ALLOCATES_MEMORY};
use crate::dm::{Args, BufferedIo, CtrError, Io, IoParts, IoTarget, MapResult, QueueLimits, StatusType, StatusWriter, Target, TargetDevice, WriteThread};
use crate::dm::{self, TargetOperations};
use crate::errno::EOPNOTSUPP;
use crate::keys::{self, KeyType, SecretBytes};
use crate::params;
use policy::{Chooser, Path, Tag};
use crate::wq::{self, WorkQueue, WQ_CPU_INTENSIVE, WQ_HIGHPRI, WQ_MEM_RECLAIM, WQ_UNBOUND};
use kernel::error::code::{EAGAIN, EINVAL, EIO, ENOMEM};
use kernel::error::Error;
use kernel::new_mutex;
use kernel::prelude::*;
use kernel::str::CStr;
use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use core::cell::Cell;
use kernel::sync::lock::{mutex::MutexBackend, Guard};
use kernel::sync::Mutex;
use table::{IvMode, IvSetup, KeySource, KeyringType, ParseError, Table, CRYPTO_MAX_ALG_NAME, SECTOR_SHIFT};
use table::{E_ALLOC_TFM, E_CREATE_IV, E_DEVICE_LOOKUP, E_INIT_IV, E_SET_KEY};

/// Target name as `dmsetup` uses it.
pub(crate) const TARGET_NAME: &CStr = kernel::c_str!("rcrypt");
/// Target version: the dm-crypt version whose behaviour rcrypt matches.
pub(crate) const TARGET_VERSION: [u32; 3] = [1, 28, 0];
/// Target features. dm-crypt has `DM_TARGET_ZONED_HM`; rcrypt does not support
/// host-managed zoned devices yet, so it declares none.
pub(crate) const TARGET_FEATURES: u64 = 0;

/// `crypto_alloc_skcipher(name, 0, CRYPTO_ALG_ALLOCATES_MEMORY)` as in
/// `crypt_alloc_tfms_skcipher()`.
const TFM_MASK: u32 = CRYPTO_ALG_ALLOCATES_MEMORY;

/// `MIN_IOS`: requests and bios kept in reserve per device.
const MIN_IOS: u32 = 64;

/// Largest crypto request (with its scatterlists, IV and buffers) carried in
/// each bio's per-bio data, as dm-crypt carries its request; a larger one
/// (elephant's scratch sector, an unusually large transform context) comes
/// from the request pool per bio instead.
const PER_BIO_REQUEST_MAX: usize = 1024;
/// dm-crypt's default `max_read_size` / `max_write_size`.
const DEFAULT_MAX_IO_SIZE: u32 = 128 * 1024;

/// rcrypt's live counters (beyond dm-crypt), shown in the INFO status when
/// the `info_counters` module parameter is set.
#[derive(Default)]
struct Counters {
    /// 512-byte sectors read and decrypted.
    sectors_read: AtomicU64,
    /// 512-byte sectors encrypted and written.
    sectors_written: AtomicU64,
    /// Reads and writes that ended with an error.
    io_errors: AtomicU64,
    /// Reads and writes whose crypto ran inline / on the work queue.
    inline_ios: AtomicU64,
    queued_ios: AtomicU64,
    /// Writes submitted by the write thread, sorted by sector.
    sorted_writes: AtomicU64,
}

/// Largest bio the submitter helps the work queue with: helping saves a
/// hand-over per bio, but while the submitter works on a large bio the
/// workers may run dry (in one `make bench` run, helping with every size,
/// 1 MiB reads of 4096-byte sectors, split in 128 KiB bios, fell to 0.79 of
/// crypt's default).
const HELP_MAX_BYTES: u32 = 16 * 1024;

/// How a target schedules its crypto (see `Documentation/design.rst`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Engine {
    /// No `no_*_workqueue` option: per bio, crypto runs inline (in `map`
    /// for writes, in the completion for reads) or on the crypt work queue,
    /// where bios run in parallel on every CPU, whichever of the two the
    /// direction's [`Chooser`] measured faster; always on the work queue
    /// when the context may not sleep.
    Adaptive,
    /// dm-crypt's model: the work queue, except in the directions whose
    /// `no_read_workqueue` / `no_write_workqueue` option was given, which
    /// run inline whenever the context may sleep.
    Classic { inline_reads: bool, inline_writes: bool },
}

/// Per-bio state: the bio's first sector relative to the target, and the
/// epoch tag of the adaptive engine's choice for it, if it made one.
pub(crate) struct IoState {
    sector: u64,
    chosen: Cell<Option<Tag>>,
}

/// Key material of the IV generators that keep some (`iv_gen_private`),
/// zeroed on drop. elephant's key lives in its transform.
pub(crate) enum IvKeys {
    /// The generator keeps no key material.
    None,
    /// lmk: the v3 seed (`LMK_SEED_SIZE` bytes), none in v2.
    Lmk { seed: Option<SecretBytes> },
    /// tcw: the IV seed (`iv_size` bytes) and the whitening (16 bytes).
    Tcw { iv_seed: SecretBytes, whitening: SecretBytes },
}

impl IvKeys {
    /// `crypt_iv_lmk_ctr()` / `crypt_iv_tcw_ctr()`: zeroed storage.
    fn new(setup: &IvSetup) -> Result<Self> {
        Ok(match setup.mode {
            IvMode::Lmk if setup.key_parts != setup.tfms_count => {
                IvKeys::Lmk { seed: Some(SecretBytes::new_zeroed(iv::LMK_SEED_SIZE)?) }
            }
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
type Tfms = TfmSet<IvKeys>;

/// `crypt_setkey()`: every transform takes its part of `key` (the key
/// without the IV generator's extra part, split evenly); an out-of-range
/// part size, which the C's unsigned arithmetic can produce, fails like
/// `setkey` would. The C reports the last failure.
fn setkey_parts(rk: &mut Rekey<'_, IvKeys>, setup: &IvSetup, key: &[u8]) -> Result {
    let subkey = setup.subkey_size() as usize;
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
fn iv_init(rk: &mut Rekey<'_, IvKeys>, setup: &IvSetup, key: &[u8]) -> Result {
    match setup.mode {
        // crypt_iv_elephant_init(): the diffuser key is the key's tail.
        IvMode::Elephant => {
            let from = key.len().checked_sub(setup.key_extra_size as usize).ok_or(EINVAL)?;
            rk.set_aux_key(key.get(from..).ok_or(EINVAL)?)
        }
        _ => match rk.state() {
            IvKeys::None => Ok(()),
            // crypt_iv_lmk_init(): the seed is the digest-sized start of part
            // `tfms_count` of `key_parts` equal parts.
            IvKeys::Lmk { seed } => {
                if let Some(seed) = seed {
                    let part = setup.key_size.checked_div(setup.key_parts).unwrap_or(0) as usize;
                    let from = (setup.tfms_count as usize).saturating_mul(part).min(key.len());
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
                let from = n_seed.checked_add(n_wh).and_then(|n| key.len().checked_sub(n)).ok_or(EINVAL)?;
                let tail = key.get(from..).ok_or(EINVAL)?;
                iv_seed.copy_from_slice(tail.get(..n_seed).ok_or(EINVAL)?);
                whitening.copy_from_slice(tail.get(n_seed..).ok_or(EINVAL)?);
                Ok(())
            }
        },
    }
}

/// `iv_gen_ops->wipe()`: the IV generator forgets its key.
fn iv_wipe(rk: &mut Rekey<'_, IvKeys>, setup: &IvSetup) -> Result {
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

/// The per-sector cipher of a target: its transforms and IV generator
/// (the part of `crypt_convert_block_skcipher()` that turns one
/// `sector_size` block into another, with the generator's `generator` and
/// `post` steps).
pub(crate) struct SectorCipher {
    tfms: Tfms,
    mode: IvMode,
    tfms_count: u32,
    benbi_shift: u32,
    iv_large_sectors: bool,
    sector_size: u32,
    sector_shift: u32,
    /// The output does not depend on the sector (no IV, one transform:
    /// `ecb` and `cipher_null`), so a run of sectors goes in one request.
    runs: bool,
    /// One transform and a 16-byte IV made from the sector number alone
    /// (`plain64`, `essiv` and the like: [`iv::is_simple`]): each sector is
    /// an IV store and a request, without `crypt_block`'s dispatch.
    simple: bool,
}

impl SectorCipher {
    fn new(tfms: Tfms, setup: &IvSetup, iv_ctr: &table::IvCtr, o: &table::Options<'_>) -> Self {
        SectorCipher {
            tfms,
            mode: setup.mode,
            tfms_count: setup.tfms_count,
            benbi_shift: iv_ctr.benbi_shift,
            iv_large_sectors: o.iv_large_sectors,
            sector_size: o.sector_size,
            sector_shift: o.sector_shift,
            runs: setup.iv_size == 0 && setup.mode == IvMode::NoIv && setup.tfms_count == 1,
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
    fn crypt_sectors<'p>(
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

    /// Encrypts or decrypts `len` bytes (whole sectors) from `src` into
    /// `dst` in one request, for a cipher whose output does not depend on
    /// the sector (`runs`): the same bytes as sector by sector.
    fn crypt_run<'p>(
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

    /// Scratch space a request needs for this generator: a copy of one
    /// sector for those that read or rewrite sector data.
    fn scratch_len(mode: IvMode, sector_size: u32) -> usize {
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
    fn elephant_key(&self, tfms: &CipherUse<'_, IvKeys>, req: &mut Request<'_>, iv_sector: u64) -> Result {
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
        let ks: &[u8; 32] = b.aux.get(..32).and_then(|k| k.try_into().ok()).ok_or(EINVAL)?;
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
    pub(crate) fn crypt_block<'p>(
        &self,
        tfms: &CipherUse<'_, IvKeys>,
        req: &mut Request<'_>,
        dir: Direction,
        cc_sector: u64,
        src: PageRef<'p>,
        dst: PageRef<'p>,
    ) -> Result {
        let iv_sector = iv::iv_sector(cc_sector, self.iv_large_sectors, self.sector_shift);
        let tfm = tfms.get(iv::key_index(cc_sector, self.tfms_count)).ok_or(EINVAL)?;
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
                    iv::tcw_whitening(whitening_of(whitening)?, iv_sector, b.scratch, b.aux).map_err(ivfail)?;
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
            (mode, _) => iv::generate(mode, req.iv_mut(), iv_sector, self.benbi_shift).map_err(ivfail)?,
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
                iv::tcw_whitening(whitening_of(whitening)?, iv_sector, b.scratch, b.aux).map_err(ivfail)?;
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

/// The key of a target (dm-crypt's `cc->key`, `cc->key_string` and
/// `DM_CRYPT_KEY_VALID`).
struct KeyState {
    /// `cc->key`: shown by the TABLE status for hex keys; zeroed for keyring
    /// keys once the transforms have it, and after `key wipe`.
    key: SecretBytes,
    /// `cc->key_string`: `<type>:<description>` of a keyring key.
    key_string: Option<KVec<u8>>,
    /// Whether the transforms hold a valid key (resume is refused if not,
    /// and the gate of the transforms refuses I/O while not).
    valid: bool,
}

/// A bio in flight through the target.
type RcryptIo = Io<Rcrypt, IoState>;
/// What the crypto of one bio works with (see [`Io::parts_mut`]).
type RcryptParts<'a> = IoParts<'a, Rcrypt, IoState>;
/// A write with its buffer.
type RcryptBuf = BufferedIo<Rcrypt, IoState>;

/// Why a write has no buffer ([`alloc_write_buffer`]).
enum NoBuffer {
    /// Not without waiting: try again where waiting is allowed.
    Dry(RcryptIo),
    /// The write fails.
    Failed(RcryptIo),
}

/// Per-target state (dm-crypt's `struct crypt_config`). Fields drop in
/// declaration order: the write thread stops and the work queue drains
/// first, the key is wiped last.
pub(crate) struct Rcrypt {
    write_thread: WriteThread,
    wq: WorkQueue,
    req_pool: RequestPool,
    page_pool: PagePool,
    page_alloc_lock: Pin<KBox<Mutex<()>>>,
    bs: BioSet,
    cipher: SectorCipher,
    dev: TargetDevice,
    /// `cc->cipher_string`.
    cipher_string: KVec<u8>,
    /// The key and its state, changed by the `key set` / `key wipe` messages.
    keys: Pin<KBox<Mutex<KeyState>>>,
    /// `DM_CRYPT_SUSPENDED`.
    suspended: AtomicBool,
    counters: Counters,
    engine: Engine,
    /// The adaptive engine's path choosers for reads and for writes.
    choosers: [Chooser; 2],
    /// Bios of each direction (reads, writes) whose path the adaptive
    /// engine chose and that have not ended yet.
    inflight: [AtomicU32; 2],
    /// Crypto work items on the work queue, not started yet.
    backlog: AtomicU32,
    /// The adaptive engine runs the crypto of a bio of up to
    /// [`HELP_MAX_BYTES`] inline, whatever the path chosen, while `backlog`
    /// is at least this (the work queue's `max_active`): every worker has
    /// work already.
    help_at: u32,
    /// `cc->key_size`.
    key_size: u32,
    /// Stack a read's completion needs left to decrypt inline: a quarter of
    /// the task's stack. Completions of stacked devices nest on one stack (a
    /// ramdisk ends a read in its submitter's context, and each rcrypt
    /// device above decrypts in the completion of the one below), so a deep
    /// stack of devices hands its reads to the work queue, whose worker
    /// starts on a fresh stack.
    inline_read_stack: usize,
    iv_offset: u64,
    start: u64,
    sector_size: u32,
    iv: IvSetup,
    iv_large_sectors: bool,
    same_cpu_crypt: bool,
    high_priority: bool,
    submit_from_crypt_cpus: bool,
    no_read_workqueue: bool,
    no_write_workqueue: bool,
    /// `integrity:<n>:<profile>` when given without a generator that stores
    /// IVs: shown in the status, no metadata (as in dm-crypt).
    integrity: Option<(u32, KVec<u8>)>,
    integrity_key_size: Option<u32>,
}

/// A `ti->error` message with `-EINVAL`, or the parser's error as it is.
fn perr(e: ParseError) -> CtrError {
    CtrError::new(e.msg, e.errno.checked_neg().map_or(EINVAL, Error::from_errno))
}

/// `crypt_set_keyring_key()`'s lookup: copies the payload of keyring key
/// `description` of `key_type` into `out` (which has the table's key size).
/// dm-crypt accepts `encrypted` and `trusted` only when the kernel has them.
fn read_keyring_key(key_type: KeyringType, description: &[u8], out: &mut [u8]) -> Result {
    let ty = match key_type {
        KeyringType::Logon => KeyType::Logon,
        KeyringType::User => KeyType::User,
        KeyringType::Encrypted => KeyType::Encrypted,
        KeyringType::Trusted => KeyType::Trusted,
    };
    if !ty.available() {
        return Err(EINVAL);
    }
    let mut desc_buf = KVec::from_elem(0u8, description.len().checked_add(1).ok_or(ENOMEM)?, GFP_KERNEL)?;
    let desc = to_cstr(description, &mut desc_buf).ok_or(EINVAL)?;
    keys::read_key(ty, desc, out)
}

/// Copies `bytes` into `buf` with a terminating NUL and returns it as a C string.
fn to_cstr<'b>(bytes: &[u8], buf: &'b mut [u8]) -> Option<&'b core::ffi::CStr> {
    if bytes.contains(&0) {
        return None;
    }
    let dst = buf.get_mut(..=bytes.len())?;
    let (nul, head) = dst.split_last_mut()?;
    head.copy_from_slice(bytes);
    *nul = 0;
    core::ffi::CStr::from_bytes_with_nul(dst).ok()
}

impl Rcrypt {
    /// Stage 2: `crypt_alloc_tfms()`: `tfms_count` transforms of the cipher.
    fn alloc_tfms(t: &Table<'_>) -> Result<Tfms, CtrError> {
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
        Ok(TfmSet::new(tfms, IvKeys::None))
    }

    /// Stages 5 and 6: the IV generator's constructor (`iv_gen_ops->ctr`:
    /// its checks, transform and key storage) and init (`iv_gen_ops->init`:
    /// it takes its part of `key`). elephant allocates its ecb(aes) diffuser
    /// transform before its checks (crypt_iv_elephant_ctr); lmk and tcw
    /// allocate their key storage after theirs. (lmk's MD5 and tcw's CRC32
    /// are computed in `iv`, not by crypto API transforms.)
    /// `block_size` is the cipher's block size.
    fn iv_ctr_init(
        t: &Table<'_>,
        setup: &IvSetup,
        block_size: u32,
        key: &[u8],
        tfms: &mut Tfms,
    ) -> Result<table::IvCtr, CtrError> {
        if setup.mode == IvMode::Elephant {
            let aux = Skcipher::new(c"ecb(aes)", 0, TFM_MASK).map_err(|e| CtrError::new(E_CREATE_IV, e))?;
            tfms.set_aux(aux);
        }
        let iv_ctr = t.check_iv_ctr(setup, block_size).map_err(perr)?;
        *tfms.state_mut() = IvKeys::new(setup).map_err(|e| CtrError::new(E_CREATE_IV, e))?;
        tfms.rekey(|rk| iv_init(rk, setup, key))
            .and_then(|r| r)
            .map_err(|e| CtrError::new(E_INIT_IV, e))?;
        Ok(iv_ctr)
    }

    /// Stage 4: `crypt_set_key()`: fetch or decode the key, then
    /// `crypt_setkey()` on every transform. Any failure is "Error decoding and
    /// setting key" with the failing step's error code.
    fn set_key(t: &Table<'_>, setup: &IvSetup, tfms: &Tfms) -> Result<SecretBytes, CtrError> {
        let fail = |e: Error| CtrError::new(E_SET_KEY, e);
        let source = t.key_source().map_err(perr)?;
        let mut key = SecretBytes::new_zeroed(t.key_size() as usize).map_err(|_| fail(ENOMEM))?;
        match source {
            KeySource::Empty => {}
            KeySource::Hex(hex) => table::decode_hex_key(hex, &mut key).map_err(perr)?,
            KeySource::Keyring { key_type, description } => {
                read_keyring_key(key_type, description, &mut key).map_err(fail)?;
            }
        }
        tfms.rekey(|rk| setkey_parts(rk, setup, &key)).and_then(|r| r).map_err(fail)?;
        Ok(key)
    }
}

impl IoTarget for Rcrypt {
    fn device(&self) -> &TargetDevice {
        &self.dev
    }
    fn work_queue(&self) -> &WorkQueue {
        &self.wq
    }
    fn bio_set(&self) -> &BioSet {
        &self.bs
    }
    fn page_pool(&self) -> &PagePool {
        &self.page_pool
    }
    fn write_thread(&self) -> &WriteThread {
        &self.write_thread
    }
}

#[vtable]
impl TargetOperations for Rcrypt {
    fn ctr(target: &mut Target<'_>, args: &mut Args<'_>) -> Result<KBox<Self>, CtrError> {
        let built = Self::ctr_checked(target, args);
        // Like crypt_set_key(): the key argument is overwritten whatever the
        // outcome, so no key stays in the table memory.
        if args.len() >= 2 {
            args.wipe(1);
        }
        built
    }

    /// `crypt_map()`.
    fn map(&self, target: &Target<'_>, mut bio: Bio) -> MapResult {
        // Flushes and discards bypass the crypto: dm core ensures no I/O is in
        // flight for a flush; a discard's caller orders it with a flush.
        if bio.is_preflush() || bio.op() == BioOp::Discard {
            bio.set_dev(self.dev.bdev());
            if bio.sectors() != 0 {
                bio.set_sector(self.dev_sector(target.offset_of(bio.sector())));
            }
            return MapResult::Remapped;
        }

        let max_sectors = self.max_request_sectors(&bio);
        if bio.sectors() > max_sectors {
            target.accept_partial_bio(&bio, max_sectors);
        }

        // Bios must be aligned to, and a multiple of, the encryption sector.
        // The sector size is a power of two, at least 512 (checked by the constructor).
        let sector_mask = u64::from((self.sector_size >> SECTOR_SHIFT).saturating_sub(1));
        if bio.sector() & sector_mask != 0 || bio.size() & self.sector_size.saturating_sub(1) != 0 {
            return MapResult::Kill;
        }
        if !matches!(bio.op(), BioOp::Read | BioOp::Write) {
            return MapResult::Kill;
        }

        let state = IoState { sector: target.offset_of(bio.sector()), chosen: Cell::new(None) };
        let io = match RcryptIo::new(target, bio, self, state) {
            Ok(io) => io,
            Err(bio) => {
                bio.end(BlkStatus::IOERR);
                return MapResult::Submitted;
            }
        };
        if io.bio().is_write() {
            if self.run_inline(&io) {
                write_inline(io);
            } else {
                self.backlog_add();
                io.queue(write_queued);
            }
        } else {
            read_submit(io);
        }
        MapResult::Submitted
    }

    /// `crypt_status()`.
    fn status(&self, target: &Target<'_>, ty: StatusType, out: &mut StatusWriter<'_>) {
        match ty {
            // dm-crypt's INFO is empty; rcrypt can show its counters.
            StatusType::Info => {
                if params::info_counters() {
                    let c = &self.counters;
                    out.emit(format_args!(
                        "sectors_read={} sectors_written={} io_errors={} crypto_waits={} \
                         inline_ios={} queued_ios={} sorted_writes={} \
                         buffer_pages={} buffer_pages_peak={} buffer_pages_cap={}",
                        c.sectors_read.load(Ordering::Relaxed),
                        c.sectors_written.load(Ordering::Relaxed),
                        c.io_errors.load(Ordering::Relaxed),
                        self.req_pool.async_waits(),
                        c.inline_ios.load(Ordering::Relaxed),
                        c.queued_ios.load(Ordering::Relaxed),
                        c.sorted_writes.load(Ordering::Relaxed),
                        self.page_pool.pages(),
                        self.page_pool.peak(),
                        PagePool::cap(),
                    ));
                }
            }
            StatusType::Table => self.status_table(target, out),
            StatusType::Ima => self.status_ima(target, out),
        }
    }

    /// `crypt_iterate_devices()`.
    fn iterate_devices(&self, target: &Target<'_>) -> (&TargetDevice, u64, u64) {
        (&self.dev, self.start, target.len())
    }

    /// `crypt_io_hints()`.
    fn io_hints(&self, _target: &Target<'_>, limits: &mut QueueLimits<'_>) {
        limits.raise_block_size(self.sector_size);
    }

    /// `crypt_message()`: `key set <key>` and `key wipe`, only while suspended.
    fn message(&self, _target: &Target<'_>, args: &mut Args<'_>, _out: &mut StatusWriter<'_>) -> Result {
        let is = |args: &Args<'_>, i: usize, w: &[u8]| args.get(i).is_some_and(|a| a.eq_ignore_ascii_case(w));
        let argc = args.len();
        let ret = if argc >= 2 && is(args, 0, b"key") {
            if !self.suspended.load(Ordering::Acquire) {
                dm::dm_warn(c"not suspended during key manipulation.");
                Err(EINVAL)
            } else if argc == 3 && is(args, 1, b"set") {
                self.message_key_set(args.get(2).unwrap_or(&[]))
            } else if argc == 2 && is(args, 1, b"wipe") {
                self.wipe_key()
            } else {
                dm::dm_warn(c"unrecognised message received.");
                Err(EINVAL)
            }
        } else {
            dm::dm_warn(c"unrecognised message received.");
            Err(EINVAL)
        };
        // No key may stay in the message's memory, whatever happened.
        if argc == 3 {
            args.wipe(2);
        }
        ret
    }

    /// `crypt_postsuspend()`.
    fn postsuspend(&self, _target: &Target<'_>) {
        self.suspended.store(true, Ordering::Release);
    }

    /// `crypt_preresume()`: no resume without a valid key.
    fn preresume(&self, _target: &Target<'_>) -> Result {
        if !self.keys.lock().valid {
            dm::dm_err(c"aborting resume - crypt key is not set.");
            return Err(EAGAIN);
        }
        Ok(())
    }

    /// `crypt_resume()`, after any key message that began while suspended
    /// (see [`Rcrypt::keys_for_message`]). A `key wipe` that came after
    /// `preresume` leaves no valid key: the gate of the transforms then fails
    /// every bio with EIO until `key set` and another resume.
    fn resume(&self, _target: &Target<'_>) {
        let keys = self.keys.lock();
        self.suspended.store(false, Ordering::Release);
        drop(keys);
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

        // Stage 1 `[K]`: dm-crypt kzallocs its context with `key_size` key
        // bytes right after get_key_size(); beyond KMALLOC_MAX_SIZE that fails
        // (with a page allocator WARN in dm-crypt; rcrypt allocates nothing
        // here). The context's own size is taken as 1 KiB.
        if let Some(Ok(spec)) = argv.get(1).filter(|_| argv.len() >= 5).map(|k| table::get_key_size(k)) {
            if spec.size() as usize > params::kmalloc_max_size().saturating_sub(1024) {
                return Err(nomem());
            }
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
            dm::dm_warn(c"Selected cipher does not support IVs");
        }

        // Stage 4: key.
        let key = Self::set_key(&t, &setup, &tfms)?;

        // Stages 5 and 6: the IV generator.
        let iv_ctr = Self::iv_ctr_init(&t, &setup, block_size, &key, &mut tfms)?;

        // Stage 6 (cont.): mempools and bio set, as crypt_ctr() allocates them
        // before reading iv_offset.
        // Like dm-crypt, each bio carries its request in its per-bio data when
        // the request is small (all but elephant's scratch sector): the pool
        // then only stands behind it.
        let scratch = SectorCipher::scratch_len(setup.mode, t.options.sector_size);
        let (reqsize, iv_size) = (tfms.max_reqsize(), setup.iv_size as usize);
        let req_area = RequestPool::element_size(reqsize, iv_size, scratch);
        let req_area = if req_area <= PER_BIO_REQUEST_MAX { req_area } else { 0 };
        let req_pool = RequestPool::new(if req_area != 0 { 1 } else { MIN_IOS }, reqsize, iv_size, scratch)
            .map_err(|e| CtrError::new(c"Cannot allocate crypt request mempool", e))?;
        let page_pool = PagePool::new(params::BIO_MAX_VECS)
            .map_err(|e| CtrError::new(c"Cannot allocate page mempool", e))?;
        let bs = BioSet::new(MIN_IOS).map_err(|e| CtrError::new(c"Cannot allocate crypt bioset", e))?;
        let page_alloc_lock = KBox::pin_init(new_mutex!(()), GFP_KERNEL)
            .map_err(|_| CtrError::new(c"Cannot allocate encryption context", ENOMEM))?;

        // Stage 7: iv_offset.
        let iv_offset = t.iv_offset().map_err(perr)?;

        // Stage 8: the device.
        let path_len = t.device_path.len().checked_add(1).ok_or_else(nomem)?;
        let mut path_buf = KVec::from_elem(0u8, path_len, GFP_KERNEL).map_err(|_| nomem())?;
        let lookup_failed = |e| CtrError::new(E_DEVICE_LOOKUP, e);
        let path = to_cstr(t.device_path, &mut path_buf).ok_or(lookup_failed(EINVAL))?;
        let dev = target.get_device(path).map_err(lookup_failed)?;

        // Stage 9: start sector.
        let start = t.start().map_err(perr)?;

        // Stage 10: integrity metadata (the `random` IV stores its IV there).
        if t.needs_integrity_profile(&setup) {
            if !dev.has_integrity() {
                return Err(CtrError::inval(c"Integrity profile not supported."));
            }
            return Err(CtrError::new(c"Integrity metadata is not supported yet", EOPNOTSUPP.into()));
        }

        // `random` needs integrity metadata, refused above; never reached.
        if setup.mode == IvMode::Random {
            return Err(CtrError::new(c"IV mode not supported yet", EOPNOTSUPP.into()));
        }

        // rcrypt's own: the mapped area must end within sector_t (dm-crypt
        // wraps; dm core does not check the area on a device of size 0).
        t.check_device_range(start).map_err(perr)?;

        let o = &t.options;
        // dm-crypt's crypt_queue: per CPU and CPU-intensive with
        // same_cpu_crypt, else unbound with one worker per online CPU
        // (where CPU_INTENSIVE means nothing).
        let mut wq_flags = WQ_MEM_RECLAIM;
        if o.high_priority {
            wq_flags |= WQ_HIGHPRI;
        }
        let max_active = if o.same_cpu_crypt {
            wq_flags |= WQ_CPU_INTENSIVE;
            1
        } else {
            wq_flags |= WQ_UNBOUND;
            wq::num_online_cpus().max(1) as i32
        };
        let wq = WorkQueue::new(c"krcryptd", wq_flags, max_active)
            .map_err(|e| CtrError::new(c"Couldn't create kcryptd queue", e))?;
        let write_thread = WriteThread::new(target, o.high_priority)
            .map_err(|e| CtrError::new(c"Couldn't spawn write thread", e))?;
        let engine = if o.no_read_workqueue || o.no_write_workqueue {
            Engine::Classic { inline_reads: o.no_read_workqueue, inline_writes: o.no_write_workqueue }
        } else {
            Engine::Adaptive
        };

        let copy = |b: &[u8]| -> Result<KVec<u8>, CtrError> {
            let mut v = KVec::with_capacity(b.len(), GFP_KERNEL).map_err(|_| nomem())?;
            v.extend_from_slice(b, GFP_KERNEL).map_err(|_| nomem())?;
            Ok(v)
        };
        let key_string = match t.key {
            table::KeySpec::Keyring { spec, .. } => Some(copy(spec)?),
            table::KeySpec::Hex { .. } => None,
        };
        // Like crypt_ctr_cipher(): wipe the kernel key payload copy.
        let mut key = key;
        if key_string.is_some() {
            key.wipe();
        }
        let key_size = key.len() as u32;
        let keys = KBox::pin_init(new_mutex!(KeyState { key, key_string, valid: true }), GFP_KERNEL)
            .map_err(|_| nomem())?;
        let integrity = match o.integrity {
            Some(i) => Some((i.tag_size, copy(i.profile)?)),
            None => None,
        };

        target.set_bio_policy(1, u32::from(o.allow_discards));
        target.set_per_io_data::<Rcrypt, IoState>(req_area);

        let this = KBox::new(
            Rcrypt {
                write_thread,
                wq,
                req_pool,
                page_pool,
                page_alloc_lock,
                bs,
                cipher: SectorCipher::new(tfms, &setup, &iv_ctr, o),
                dev,
                cipher_string: copy(t.cipher_string)?,
                keys,
                suspended: AtomicBool::new(false),
                counters: Counters::default(),
                engine,
                choosers: [Chooser::new(Path::Inline), Chooser::new(Path::Inline)],
                inflight: [AtomicU32::new(0), AtomicU32::new(0)],
                backlog: AtomicU32::new(0),
                help_at: max_active as u32,
                key_size,
                inline_read_stack: wq::thread_size() >> 2,
                iv_offset,
                start,
                sector_size: o.sector_size,
                iv: setup,
                iv_large_sectors: o.iv_large_sectors,
                same_cpu_crypt: o.same_cpu_crypt,
                high_priority: o.high_priority,
                submit_from_crypt_cpus: o.submit_from_crypt_cpus,
                no_read_workqueue: o.no_read_workqueue,
                no_write_workqueue: o.no_write_workqueue,
                integrity,
                integrity_key_size: o.integrity_key_size,
            },
            GFP_KERNEL,
        )
        .map_err(|_| nomem())?;
        Ok(this)
    }

    /// `crypt_set_key()` + `iv_gen_ops->init()` of the `key set` message:
    /// the transforms take `key`; if they all did, the key is valid and the
    /// IV generator takes its part (its failure is the message's result).
    fn apply_key(&self, valid: &mut bool, key: &[u8]) -> Result {
        let setup = &self.iv;
        // Not valid (and no I/O through the gate) unless the transforms take
        // the key.
        *valid = false;
        self.cipher.tfms.forget_key();
        self.cipher
            .tfms
            .rekey(|rk| {
                setkey_parts(rk, setup, key)?;
                *valid = true;
                rk.set_key_valid(true);
                iv_init(rk, setup, key)
            })
            .and_then(|r| r)
    }

    /// `key set <key>` (`crypt_message()` + `crypt_set_key()`): the key size
    /// may not change.
    fn message_key_set(&self, arg: &[u8]) -> Result {
        let spec = table::get_key_size(arg).map_err(|_| EINVAL)?;
        if spec.size() != self.key_size {
            return Err(EINVAL);
        }
        let source = match spec.source() {
            Ok(source) => source,
            Err(_) => {
                // crypt_set_key(): a hex key of the right size that does not
                // decode has already cleared DM_CRYPT_KEY_VALID and the
                // keyring string, and hex2bin() has written the bytes before
                // the bad digit: the device cannot resume until a good key.
                if let table::KeySpec::Hex { text, size } = spec {
                    if size != 0 {
                        let mut keys = self.keys_for_message()?;
                        keys.valid = false;
                        self.cipher.tfms.forget_key();
                        keys.key_string = None;
                        table::hex2bin_prefix(text, &mut keys.key);
                    }
                }
                return Err(EINVAL);
            }
        };
        // A keyring key is read before the keys are locked: `request_key`
        // may call out to user space, and status and resume take the lock.
        let fresh = match source {
            KeySource::Keyring { key_type, description } => {
                let mut fresh = SecretBytes::new_zeroed(self.key_size as usize)?;
                read_keyring_key(key_type, description, &mut fresh)?;
                Some(fresh)
            }
            KeySource::Hex(_) | KeySource::Empty => None,
        };
        let mut keys = self.keys_for_message()?;
        match (source, fresh) {
            (KeySource::Keyring { .. }, Some(fresh)) => {
                let spec_copy = match spec {
                    table::KeySpec::Keyring { spec, .. } => {
                        let mut v = KVec::with_capacity(spec.len(), GFP_KERNEL)?;
                        v.extend_from_slice(spec, GFP_KERNEL)?;
                        v
                    }
                    table::KeySpec::Hex { .. } => return Err(EINVAL),
                };
                self.apply_key(&mut keys.valid, &fresh)?;
                keys.key_string = Some(spec_copy);
                // Wipe the kernel key payload copy (the status shows the
                // keyring form).
                keys.key.wipe();
                Ok(())
            }
            (KeySource::Keyring { .. }, None) => Err(EINVAL),
            (source @ (KeySource::Hex(_) | KeySource::Empty), _) => {
                keys.valid = false;
                self.cipher.tfms.forget_key();
                keys.key_string = None;
                if let KeySource::Hex(hex) = source {
                    table::decode_hex_key(hex, &mut keys.key).map_err(|_| EINVAL)?;
                }
                let st = &mut *keys;
                self.apply_key(&mut st.valid, &st.key)
            }
        }
    }

    /// The keys, locked for a key message, which `message` accepted while
    /// the device was suspended: refused as a message to a device not
    /// suspended if `resume` ran since. `resume` takes the lock too, so no
    /// bio meets a key message's re-key: it either ends before the device
    /// resumes or is refused.
    fn keys_for_message(&self) -> Result<Guard<'_, KeyState, MutexBackend>> {
        let keys = self.keys.lock();
        if !self.suspended.load(Ordering::Acquire) {
            dm::dm_warn(c"not suspended during key manipulation.");
            return Err(EINVAL);
        }
        Ok(keys)
    }

    /// `key wipe` (`crypt_wipe_key()`): the transforms get a random key, the
    /// key is zeroed and the device cannot resume until `key set`.
    fn wipe_key(&self) -> Result {
        let mut keys = self.keys_for_message()?;
        keys.valid = false;
        self.cipher.tfms.forget_key();
        keys.key.fill_random();
        let st = &mut *keys;
        let setup = &self.iv;
        let r = self
            .cipher
            .tfms
            .rekey(|rk| {
                // The IV generator forgets its keys first; if that fails the
                // wipe ends there, as in the C.
                iv_wipe(rk, setup)?;
                st.key_string = None;
                setkey_parts(rk, setup, &st.key)
            })
            .and_then(|r| r);
        st.key.wipe();
        r
    }

    /// The adaptive engine's chooser and in-flight count of writes or of reads.
    #[inline(always)]
    fn adaptive(&self, write: bool) -> (&Chooser, &AtomicU32) {
        let [read_chooser, write_chooser] = &self.choosers;
        let [read_inflight, write_inflight] = &self.inflight;
        match write {
            false => (read_chooser, read_inflight),
            true => (write_chooser, write_inflight),
        }
    }

    /// Whether the crypto of `io` runs in the current context rather than
    /// on the work queue (see [`Engine`]). A read whose completion finds
    /// less than [`Rcrypt::inline_read_stack`] bytes of stack left goes to
    /// the work queue whatever the engine.
    fn run_inline(&self, io: &RcryptIo) -> bool {
        let bio = io.bio();
        let write = bio.is_write();
        let inline = wq::may_sleep()
            && (write || wq::task_stack_left() >= self.inline_read_stack)
            && match self.engine {
                Engine::Adaptive => {
                    let (chooser, inflight) = self.adaptive(write);
                    let depth = inflight.fetch_add(1, Ordering::Relaxed).wrapping_add(1);
                    let (path, tag) = chooser.choose(wq::now_ns());
                    chooser.note_depth(depth);
                    io.state().chosen.set(Some(tag));
                    path == Path::Inline
                        || (bio.size() <= HELP_MAX_BYTES && self.backlog.load(Ordering::Relaxed) >= self.help_at)
                }
                Engine::Classic { inline_reads, inline_writes } => {
                    if write {
                        inline_writes
                    } else {
                        inline_reads
                    }
                }
            };
        let n = if inline { &self.counters.inline_ios } else { &self.counters.queued_ios };
        n.fetch_add(1, Ordering::Relaxed);
        inline
    }

    /// Whether writes encrypted on the work queue go to the write thread,
    /// which submits them sorted by sector: dm-crypt's model does unless
    /// `submit_from_crypt_cpus` or `no_write_workqueue` was given; the
    /// adaptive engine does only for a rotational device, the one kind that
    /// gains from the order, and otherwise submits from the CPU that
    /// encrypted, without the hand-over (see `Documentation/design.rst`).
    fn sorts_writes(&self) -> bool {
        !self.submit_from_crypt_cpus
            && match self.engine {
                Engine::Classic { .. } => !self.no_write_workqueue,
                Engine::Adaptive => self.dev.is_rotational(),
            }
    }

    /// A crypto work item was queued (counted for the adaptive engine's
    /// helping only; the engine never changes, so `backlog_sub` agrees).
    fn backlog_add(&self) {
        if self.engine == Engine::Adaptive {
            self.backlog.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// A crypto work item queued with `backlog_add` started.
    fn backlog_sub(&self) {
        if self.engine == Engine::Adaptive {
            self.backlog.fetch_sub(1, Ordering::Relaxed);
        }
    }

    /// The sector of the backing device for `offset` sectors into the
    /// target (`cc->start + dm_target_offset()`). The constructor refused
    /// a table whose `start + length` overflows and dm core hands the
    /// target only bios inside it, so this never wraps; it wraps like the C
    /// rather than trapping if it did.
    fn dev_sector(&self, offset: u64) -> u64 {
        self.start.wrapping_add(offset)
    }

    /// `get_max_request_sectors()`: the largest bio this target takes at once.
    fn max_request_sectors(&self, bio: &Bio) -> u32 {
        let min_not_zero = |a: u32, b: u32| if a == 0 { b } else { a.min(b) };
        let write = bio.is_write();
        let mut val = if write {
            min_not_zero(params::max_write_size(), DEFAULT_MAX_IO_SIZE)
        } else {
            min_not_zero(params::max_read_size(), DEFAULT_MAX_IO_SIZE)
        };
        if write || self.integrity.is_some() {
            val = val.min(params::BIO_MAX_VECS * params::PAGE_SIZE);
        }
        let align = self.dev.logical_block_size().max(self.sector_size);
        // `align` is at least the sector size, so not 0; `val % align <= val`.
        val = val.saturating_sub(val.checked_rem(align).unwrap_or(val));
        if val == 0 {
            val = align;
        }
        val >> SECTOR_SHIFT
    }

    /// Decrypts the data of a completed read in place (`kcryptd_crypt_read_convert`).
    fn decrypt_bio(&self, io: RcryptParts<'_>) -> Result {
        self.convert(io, Direction::Decrypt, None)
    }

    /// `crypt_convert()`: encrypts or decrypts the whole sectors of `io`'s
    /// bio, in place or into `out` (a write's pool bio). The cursors move a
    /// page at a time (as much of the current page of both bios as holds
    /// whole sectors), so stepping through the bios costs one call per page
    /// rather than one per sector as in dm-crypt; within the page, each
    /// sector is one request, or the whole run one request for a cipher
    /// whose output does not depend on the sector (`ecb`, `cipher_null`):
    /// the same bytes as sector by sector, in fewer requests.
    #[inline(never)]
    fn convert(&self, io: RcryptParts<'_>, dir: Direction, out: Option<&Bio>) -> Result {
        let tfms = self.cipher.tfms.enter().ok_or(EIO)?;
        let IoParts { bio, state, area, .. } = io;
        let mut req = self.req_pool.get(area)?;
        let ss = self.sector_size;
        // A power of two (checked with the table): masks, not divisions.
        let mask = ss.wrapping_sub(1);
        let mut cc_sector = state.sector.wrapping_add(self.iv_offset);
        let mut cursor = bio.cursor();
        let mut out = out.map(|b| (b, b.cursor()));
        let mut left = bio.size() & !mask;
        while left > 0 {
            // As much of the current page of each bio as holds whole sectors;
            // under a sector there, the bio fails (-EIO, as dm-crypt fails
            // data not aligned to the sector).
            let oc = out.as_mut().map(|(o, oc)| (*o, oc));
            let (src, dst) = bio.next_run(&mut cursor, oc, left, mask).ok_or(EIO)?;
            let dst = dst.unwrap_or(src);
            let len = src.len();
            if self.cipher.runs {
                self.cipher.crypt_run(&tfms, &mut req, dir, src, dst)?;
            } else {
                self.cipher.crypt_sectors(&tfms, &mut req, dir, &mut cc_sector, src, dst)?;
            }
            left = left.saturating_sub(len);
            // A scheduling point between pages of a long bio where the
            // context may sleep (dm-crypt's per-sector `cond_resched()` on
            // its work queue); a one-page bio does not pay for it.
            if left > 0 {
                wq::cond_resched();
            }
        }
        Ok(())
    }

    /// The pool pages of a write buffer (`crypt_alloc_buffer()`'s loop):
    /// `size` bytes of them into `buf`. With `wait == false` pages are taken
    /// without waiting and `Ok(false)` means the pool ran dry; with `wait ==
    /// true` the caller holds the page allocation lock and every page is
    /// waited for.
    fn fill_write_buffer(&self, buf: &RcryptBuf, size: u32, wait: bool) -> Result<bool> {
        let mut left = size;
        // Compound pages first, as large as what is left (and no larger than
        // the last one that failed), then single pages from the pool. The
        // waiting pass takes single pages only.
        let mut order = if wait { 0 } else { MAX_LARGE_ORDER };
        while left > 0 {
            order = order.min(left.div_ceil(params::PAGE_SIZE).checked_ilog2().unwrap_or(0));
            let mut page = None;
            while order > 0 && page.is_none() {
                page = self.page_pool.try_alloc_large(order);
                if page.is_none() {
                    order = order.saturating_sub(1);
                }
            }
            let page = match page {
                Some(p) => Some(p),
                None if wait => self.page_pool.alloc(),
                None => self.page_pool.try_alloc(),
            };
            let Some(page) = page else { return Ok(false) };
            let len = left.min(page.size());
            if let Err(page) = buf.add_page(page, len) {
                self.page_pool.free(page);
                return Err(EIO);
            }
            left = left.saturating_sub(len);
        }
        Ok(true)
    }

    fn status_table(&self, target: &Target<'_>, out: &mut StatusWriter<'_>) {
        out.emit_bytes(&self.cipher_string);
        out.emit_bytes(b" ");
        let keys = self.keys.lock();
        if keys.key.is_empty() {
            out.emit(format_args!("-"));
        } else if let Some(ks) = &keys.key_string {
            out.emit(format_args!(":{}:", keys.key.len()));
            out.emit_bytes(ks);
        } else {
            out.emit_hex(&keys.key);
        }
        drop(keys);
        out.emit(format_args!(" {} {} {}", self.iv_offset, self.dev.name(), self.start));

        let flags = [
            (target.discards_enabled(), "allow_discards"),
            (self.same_cpu_crypt, "same_cpu_crypt"),
            (self.high_priority, "high_priority"),
            (self.submit_from_crypt_cpus, "submit_from_crypt_cpus"),
            (self.no_read_workqueue, "no_read_workqueue"),
            (self.no_write_workqueue, "no_write_workqueue"),
        ];
        let args = [
            self.integrity.is_some(),
            self.sector_size != 512,
            self.iv_large_sectors,
            self.integrity_key_size.is_some(),
        ];
        let n = Iterator::chain(flags.iter().map(|f| f.0), args).filter(|&set| set).count();
        if n == 0 {
            return;
        }
        out.emit(format_args!(" {}", n));
        for (set, name) in flags {
            if set {
                out.emit(format_args!(" {}", name));
            }
        }
        if let Some((size, profile)) = &self.integrity {
            out.emit(format_args!(" integrity:{}:", size));
            out.emit_bytes(profile);
        }
        if self.sector_size != 512 {
            out.emit(format_args!(" sector_size:{}", self.sector_size));
        }
        if self.iv_large_sectors {
            out.emit(format_args!(" iv_large_sectors"));
        }
        if let Some(size) = self.integrity_key_size {
            out.emit(format_args!(" integrity_key_size:{}", size));
        }
    }

    fn status_ima(&self, target: &Target<'_>, out: &mut StatusWriter<'_>) {
        let yn = |b: bool| if b { 'y' } else { 'n' };
        out.emit(format_args!(
            "target_name={},target_version={}.{}.{}",
            TARGET_NAME, TARGET_VERSION[0], TARGET_VERSION[1], TARGET_VERSION[2]
        ));
        out.emit(format_args!(",allow_discards={}", yn(target.discards_enabled())));
        out.emit(format_args!(",same_cpu_crypt={}", yn(self.same_cpu_crypt)));
        out.emit(format_args!(",high_priority={}", yn(self.high_priority)));
        out.emit(format_args!(",submit_from_crypt_cpus={}", yn(self.submit_from_crypt_cpus)));
        out.emit(format_args!(",no_read_workqueue={}", yn(self.no_read_workqueue)));
        out.emit(format_args!(",no_write_workqueue={}", yn(self.no_write_workqueue)));
        out.emit(format_args!(",iv_large_sectors={}", yn(self.iv_large_sectors)));
        if let Some((size, profile)) = &self.integrity {
            out.emit(format_args!(",integrity_tag_size={},cipher_auth=", size));
            out.emit_bytes(profile);
        }
        if self.sector_size != 512 {
            out.emit(format_args!(",sector_size={}", self.sector_size));
        }
        out.emit(format_args!(",cipher_string="));
        out.emit_bytes(&self.cipher_string);
        out.emit(format_args!(",key_size={}", self.key_size));
        out.emit(format_args!(",key_parts={}", self.iv.key_parts));
        out.emit(format_args!(",key_extra_size={}", self.iv.key_extra_size));
        out.emit(format_args!(",key_mac_size={}", self.integrity_key_size.unwrap_or(0)));
        out.emit(format_args!(";"));
    }
}

/// Ends a read or write of the data path with `status`, counting it.
fn finish(io: RcryptIo, status: BlkStatus) {
    let t = io.target();
    let c = &t.counters;
    let bio = io.bio();
    let (chooser, inflight) = t.adaptive(bio.is_write());
    let chosen = io.state().chosen.get();
    if chosen.is_some() {
        inflight.fetch_sub(1, Ordering::Relaxed);
    }
    if !status.is_ok() {
        c.io_errors.fetch_add(1, Ordering::Relaxed);
    } else {
        let sectors = u64::from(bio.size() >> SECTOR_SHIFT);
        let n = if bio.is_write() { &c.sectors_written } else { &c.sectors_read };
        n.fetch_add(sectors, Ordering::Relaxed);
        if let Some(tag) = chosen {
            chooser.complete(wq::now_ns(), bio.size(), tag);
        }
    }
    io.end(status);
}

/// Read path, in map context: send the bio to the device; the data is
/// decrypted in place when it completes (`kcryptd_io_read`).
fn read_submit(io: RcryptIo) {
    let t = io.target();
    // The bio itself goes to the device, not a clone as in dm-crypt's
    // kcryptd_io_read(): its segments are immutable and its position is
    // put back on completion, so the data is decrypted in place all the same,
    // and a read allocates nothing.
    let sector = t.dev_sector(io.state().sector);
    io.submit_to(sector, read_done);
}

/// A read completed (possibly in interrupt context): decrypt inline or from
/// the work queue.
fn read_done(io: RcryptIo) {
    let status = io.bio().status();
    if !status.is_ok() {
        return finish(io, status);
    }
    let t = io.target();
    if t.run_inline(&io) {
        decrypt_work(io);
    } else {
        t.backlog_add();
        io.queue(decrypt_queued);
    }
}

/// Work item: `decrypt_work` for a read the work queue took.
fn decrypt_queued(io: RcryptIo) {
    io.target().backlog_sub();
    decrypt_work(io);
}

/// Work item: `write_work` for a write the work queue took.
fn write_queued(io: RcryptIo) {
    io.target().backlog_sub();
    write_work(io);
}

/// Work item: decrypt a completed read and end it.
fn decrypt_work(mut io: RcryptIo) {
    let p = io.parts_mut();
    let t = p.target;
    let status = match t.decrypt_bio(p) {
        Ok(()) => BlkStatus::OK,
        Err(_) => BlkStatus::IOERR,
    };
    finish(io, status);
}

/// `crypt_alloc_buffer()`: `io` with a write buffer, a bio for the target's
/// device with pool pages for all the data of the write (see
/// [`Rcrypt::fill_write_buffer`] for `wait`). `in_map`: called from `map`,
/// where even a bio from the bio set is not waited for (a small write's bio
/// lives in the per-bio data and needs none).
fn alloc_write_buffer(io: RcryptIo, wait: bool, in_map: bool) -> Result<RcryptBuf, NoBuffer> {
    let size = io.bio().size();
    let nr_pages = size.div_ceil(params::PAGE_SIZE);
    let mut buf = match io.with_buffer(nr_pages, !in_map) {
        Ok(b) => b,
        Err(io) if in_map => return Err(NoBuffer::Dry(io)),
        Err(io) => return Err(NoBuffer::Failed(io)),
    };
    let filled = {
        let t = buf.io().target();
        let _guard = wait.then(|| t.page_alloc_lock.lock());
        t.fill_write_buffer(&buf, size, wait)
    };
    match filled {
        Ok(true) => {}
        Ok(false) => return Err(NoBuffer::Dry(buf.release())),
        Err(_) => return Err(NoBuffer::Failed(buf.release())),
    }
    let sector = buf.io().target().dev_sector(buf.io().state().sector);
    buf.set_sector(sector);
    Ok(buf)
}

/// Work item: encrypt a write into pool pages and submit it
/// (`kcryptd_crypt_write_convert`). Pages are first taken without waiting;
/// if the pool runs dry, the allocation starts over holding the allocation
/// lock and waits for pages, so that two writes can never each hold part of
/// the pool while waiting for the rest. Encryption starts once every page is
/// there, so nothing is encrypted twice and the lock never covers crypto.
fn write_work(io: RcryptIo) {
    let buf = match alloc_write_buffer(io, false, false) {
        Ok(buf) => buf,
        Err(NoBuffer::Dry(io)) => match alloc_write_buffer(io, true, false) {
            Ok(buf) => buf,
            Err(NoBuffer::Dry(io) | NoBuffer::Failed(io)) => return finish(io, BlkStatus::IOERR),
        },
        Err(NoBuffer::Failed(io)) => return finish(io, BlkStatus::IOERR),
    };
    encrypt_and_submit(buf, true);
}

/// A write encrypted inline (from `map`): pages are taken without waiting;
/// if the pool runs dry the write goes to the work queue, which may wait.
fn write_inline(io: RcryptIo) {
    match alloc_write_buffer(io, false, true) {
        Ok(buf) => encrypt_and_submit(buf, false),
        Err(NoBuffer::Dry(io)) => io.queue(write_work),
        Err(NoBuffer::Failed(io)) => finish(io, BlkStatus::IOERR),
    }
}

/// Encrypts a write into its buffer and submits it
/// (`kcryptd_crypt_write_convert`, `kcryptd_crypt_write_io_submit`): from
/// the crypt work queue (`queued`) through the write thread when
/// [`Rcrypt::sorts_writes`], else at once, as inline crypto always does.
fn encrypt_and_submit(mut buf: RcryptBuf, queued: bool) {
    let (p, out) = buf.parts_mut();
    let t = p.target;
    let r = t.convert(p, Direction::Encrypt, Some(out));
    let t = buf.io().target();
    match r {
        Ok(()) if queued && t.sorts_writes() => {
            t.counters.sorted_writes.fetch_add(1, Ordering::Relaxed);
            buf.submit_sorted(write_done);
        }
        Ok(()) => buf.submit(write_done),
        Err(_) => finish(buf.release(), BlkStatus::IOERR),
    }
}

/// A write buffer completed: return its pages, end the original bio.
fn write_done(buf: RcryptBuf) {
    let status = buf.buffer().status();
    finish(buf.release(), status);
}
