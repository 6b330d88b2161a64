// SPDX-License-Identifier: GPL-2.0

//! The constructor: `crypt_ctr()` stage by stage (the stage numbers are those
//! of [`table`]'s documentation), with the stages it calls that are not pure
//! parsing: `crypt_alloc_tfms()`, `crypt_set_key()` and the IV generator's
//! `ctr` and `init` (`crypt_ctr_ivmode()`, `crypt_ctr_cipher()`'s end). The
//! parsing (`crypt_ctr_cipher_new()` / `_old()`, `crypt_ctr_optional()`,
//! `get_key_size()`) is in [`table`].

use super::cipher::{iv_init, setkey_parts, IvKeys, SectorCipher, Tfms, RUN_BATCH};
use super::integrity::TagIo;
use super::io::{Engine, IoState};
use super::key::{read_keyring_key, to_cstr, KeyState};
use super::policy::{Chooser, Help, Path};
use super::status::Counters;
use super::table::{self, IvMode, IvSetup, KeySource, ParseError, Table, CRYPTO_MAX_ALG_NAME};
use super::table::{E_ALLOC_TFM, E_CREATE_IV, E_DEVICE_LOOKUP, E_INIT_IV, E_SET_KEY};
use super::Rcrypt;
use crate::bio::{BioSet, PagePool};
use crate::crypto::{Aead, ReqKind, RequestPool, Skcipher, TfmSet, CRYPTO_ALG_ALLOCATES_MEMORY};
use crate::dm::{self, Args, CtrError, Target, WriteThread};
use crate::errno::EOPNOTSUPP;
use crate::keys::SecretBytes;
use crate::params;
use crate::wq::{self, WorkQueue, WQ_CPU_INTENSIVE, WQ_HIGHPRI, WQ_MEM_RECLAIM, WQ_UNBOUND};
use core::sync::atomic::{AtomicBool, AtomicU32};
use kernel::error::code::{EINVAL, ENOMEM};
use kernel::error::Error;
use kernel::new_mutex;
use kernel::prelude::*;

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

/// A `ti->error` message with `-EINVAL`, or the parser's error as it is.
fn perr(e: ParseError) -> CtrError {
    CtrError::new(
        e.msg,
        e.errno.checked_neg().map_or(EINVAL, Error::from_errno),
    )
}

impl Rcrypt {
    /// Stage 2: `crypt_alloc_tfms()`: `tfms_count` transforms of the cipher,
    /// or its one AEAD transform (`crypt_alloc_tfms_aead()`).
    pub(super) fn alloc_tfms(t: &Table<'_>) -> Result<Tfms, CtrError> {
        let mut name_buf = [0u8; CRYPTO_MAX_ALG_NAME];
        let name = t.crypto_api_name(&mut name_buf).map_err(perr)?;
        let mut cname = [0u8; CRYPTO_MAX_ALG_NAME + 1];
        let cname = to_cstr(name, &mut cname).ok_or(CtrError::new(E_ALLOC_TFM, EINVAL))?;
        if t.options.integrity_aead {
            let tfm = Aead::new(cname, 0, TFM_MASK).map_err(|e| CtrError::new(E_ALLOC_TFM, e))?;
            return Ok(TfmSet::new_aead(tfm, IvKeys::None));
        }
        let count = t.tfms_count() as usize;
        let mut tfms = KVec::with_capacity(count, GFP_KERNEL)
            .map_err(|_| CtrError::new(E_ALLOC_TFM, ENOMEM))?;
        for _ in 0..count {
            let tfm =
                Skcipher::new(cname, 0, TFM_MASK).map_err(|e| CtrError::new(E_ALLOC_TFM, e))?;
            tfms.push(tfm, GFP_KERNEL)
                .map_err(|_| CtrError::new(E_ALLOC_TFM, ENOMEM))?;
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
    pub(super) fn iv_ctr_init(
        t: &Table<'_>,
        setup: &IvSetup,
        block_size: u32,
        key: &[u8],
        tfms: &mut Tfms,
    ) -> Result<table::IvCtr, CtrError> {
        if setup.mode == IvMode::Elephant {
            let aux = Skcipher::new(c"ecb(aes)", 0, TFM_MASK)
                .map_err(|e| CtrError::new(E_CREATE_IV, e))?;
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
    pub(super) fn set_key(
        t: &Table<'_>,
        setup: &IvSetup,
        tfms: &Tfms,
    ) -> Result<SecretBytes, CtrError> {
        let fail = |e: Error| CtrError::new(E_SET_KEY, e);
        let source = t.key_source().map_err(perr)?;
        let mut key = SecretBytes::new_zeroed(t.key_size() as usize).map_err(|_| fail(ENOMEM))?;
        match source {
            KeySource::Empty => {}
            KeySource::Hex(hex) => table::decode_hex_key(hex, &mut key).map_err(perr)?,
            KeySource::Keyring {
                key_type,
                description,
            } => {
                read_keyring_key(key_type, description, &mut key).map_err(fail)?;
            }
        }
        tfms.rekey(|rk| setkey_parts(rk, setup, &key))
            .and_then(|r| r)
            .map_err(fail)?;
        Ok(key)
    }

    /// `cc->key_mac_size`: `integrity_key_size:<bytes>` if given, else for an
    /// `authenc(<mac>,...)` AEAD the MAC's digest size, else 0
    /// (`crypt_ctr_auth_cipher()`, which allocates the MAC to learn its
    /// size: failure is "Invalid AEAD cipher spec").
    fn key_mac_size(t: &Table<'_>) -> Result<u32, CtrError> {
        let digest = match (t.options.integrity_aead, t.cipher.auth_mac) {
            (true, Some(mac)) => {
                let mut buf = [0u8; CRYPTO_MAX_ALG_NAME + 1];
                let name =
                    to_cstr(mac, &mut buf).ok_or(CtrError::new(table::E_AEAD_SPEC, ENOMEM))?;
                crate::crypto::hash_digest_size(name)
                    .map_err(|e| CtrError::new(table::E_AEAD_SPEC, e))?
            }
            _ => 0,
        };
        Ok(t.options.integrity_key_size.unwrap_or(digest))
    }

    /// `crypt_ctr()`, stage by stage.
    pub(super) fn ctr_checked(
        target: &mut Target<'_>,
        args: &Args<'_>,
    ) -> Result<KBox<Self>, CtrError> {
        let nomem = || CtrError::new(c"Cannot allocate encryption context", ENOMEM);
        let mut argv: KVec<&[u8]> =
            KVec::with_capacity(args.len(), GFP_KERNEL).map_err(|_| nomem())?;
        for i in 0..args.len() {
            argv.push(args.get(i).unwrap_or(&[]), GFP_KERNEL)
                .map_err(|_| nomem())?;
        }

        // Stage 1 `[K]`: dm-crypt kzallocs its context with `key_size` key
        // bytes right after get_key_size(); beyond KMALLOC_MAX_SIZE that fails
        // (with a page allocator WARN in dm-crypt; rcrypt allocates nothing
        // here). The context's own size is taken as 1 KiB.
        if let Some(Ok(spec)) = argv
            .get(1)
            .filter(|_| argv.len() >= 5)
            .map(|k| table::get_key_size(k))
        {
            if spec.size() as usize > params::kmalloc_max_size().saturating_sub(1024) {
                return Err(nomem());
            }
        }

        // Stage 1: arguments, key size, optional parameters, cipher syntax,
        // and for an `authenc(` AEAD the MAC's digest size
        // (`crypt_ctr_auth_cipher()`).
        let t = table::parse_table(&argv, target.len()).map_err(perr)?;
        let key_mac_size = Self::key_mac_size(&t)?;

        // Stage 2: transforms.
        let mut tfms = Self::alloc_tfms(&t)?;
        let (ivsize, block_size) = match (tfms.first(), tfms.aead()) {
            (Some(tfm), _) => (tfm.iv_size() as u32, tfm.block_size() as u32),
            (None, Some(aead)) => (aead.iv_size() as u32, aead.block_size() as u32),
            (None, None) => return Err(CtrError::new(E_ALLOC_TFM, EINVAL)),
        };

        // Stage 3: IV mode.
        let mut setup = t.iv_setup(ivsize).map_err(perr)?;
        setup.key_mac_size = key_mac_size;
        if setup.iv_mode_ignored {
            dm::dm_warn(c"Selected cipher does not support IVs");
        }

        // Stage 4: key. dm-crypt copies an AEAD key with a MAC key size
        // into `cc->authenc_key`, which only an `authenc(` spec allocated:
        // with another AEAD and `integrity_key_size:` it writes through a
        // NULL pointer; rcrypt refuses the key.
        if t.options.integrity_aead && setup.key_mac_size != 0 && t.cipher.auth_mac.is_none() {
            return Err(CtrError::new(E_SET_KEY, EINVAL));
        }
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
        let kind = if tfms.aead().is_some() {
            ReqKind::Aead
        } else {
            ReqKind::Skcipher
        };
        // A sector may be spread over bio vectors (`io_hints` lowers the DMA
        // alignment) where only the cipher touches its data and there is no
        // integrity metadata; its requests then carry two scatterlist
        // tables of a piece per 512 bytes of the sector (direct I/O under
        // a DMA alignment of 511 splits a sector into no more), at least 2.
        // A cipher whose output does not depend on the sector takes
        // [`RUN_BATCH`] pages per request through the same tables
        // ([`SectorCipher::crypt_batch`]).
        let spread = if kind == ReqKind::Skcipher
            && t.options.integrity.is_none()
            && SectorCipher::spreads(setup.mode)
        {
            let pieces = ((t.options.sector_size >> table::SECTOR_SHIFT) as usize).max(2);
            if SectorCipher::runs(&setup) {
                pieces.max(RUN_BATCH)
            } else {
                pieces
            }
        } else {
            0
        };
        let batch = spread != 0 && SectorCipher::runs(&setup);
        // (The tables do not count against the per-bio limit: a target that
        // spreads carries its request where one that does not would.)
        let req_area = if RequestPool::element_size(kind, reqsize, iv_size, scratch, 0)
            <= PER_BIO_REQUEST_MAX
        {
            RequestPool::element_size(kind, reqsize, iv_size, scratch, spread)
        } else {
            0
        };
        let req_pool = RequestPool::new(
            kind,
            if req_area != 0 { 1 } else { MIN_IOS },
            reqsize,
            iv_size,
            scratch,
            spread,
        )
        .map_err(|e| CtrError::new(c"Cannot allocate crypt request mempool", e))?;
        let page_pool = PagePool::new(params::BIO_MAX_VECS)
            .map_err(|e| CtrError::new(c"Cannot allocate page mempool", e))?;
        let mut bs =
            BioSet::new(MIN_IOS).map_err(|e| CtrError::new(c"Cannot allocate crypt bioset", e))?;
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

        // dm-crypt: on a zoned device, writes run inline, with no write
        // work queue (`no_write_workqueue` is forced and shown in the
        // table), and device-mapper emulates zone append, whose writes all
        // carry the zone's start sector, which the IV would take. The order
        // within a zone comes from device-mapper's zone write plugging: one
        // write per zone in flight, so a write that goes to the work queue
        // (no pool pages without waiting) cannot be overtaken.
        let zoned = dev.is_zoned();
        if zoned {
            target.set_emulate_zone_append();
        }

        // Stage 10: integrity metadata (`crypt_integrity_ctr()`): AEAD tags
        // and the `random` IV live there.
        let mut tags = None;
        if t.needs_integrity_profile(&setup) {
            let profile = dev.integrity().map(|p| table::IntegrityProfileInfo {
                csum_none: p.csum_none,
                tuple_size: p.tuple_size,
                interval: p.interval,
            });
            let layout = t.integrity_layout(&setup, profile).map_err(perr)?;
            if let Some(aead) = tfms.aead_mut() {
                layout
                    .tag_size
                    .ok_or(EINVAL)
                    .and_then(|n| aead.set_authsize(n))
                    .map_err(|_| CtrError::inval(table::E_INTEGRITY_AUTHSIZE))?;
            }
            layout.check_space().map_err(perr)?;
            // An AEAD with an IV generator that reads or rewrites sector
            // data (tcw; lmk, eboiv and elephant are refused above) garbles
            // dm-crypt's AEAD request (its generator takes the associated
            // data for the sector); rcrypt refuses it.
            if setup.mode != IvMode::Random && !super::iv::is_simple(setup.mode) {
                return Err(CtrError::new(
                    c"IV mode not supported with integrity metadata",
                    EOPNOTSUPP.into(),
                ));
            }
            bs.enable_integrity(MIN_IOS)
                .map_err(|e| CtrError::new(c"Cannot allocate crypt bioset", e))?;
            tags = Some(
                TagIo::new(&layout, t.options.sector_size, MIN_IOS, zoned)
                    .map_err(|e| CtrError::new(c"Cannot allocate integrity tags mempool", e))?,
            );
        }

        // `random` needs integrity metadata, set up above; never reached.
        if setup.mode == IvMode::Random && tags.is_none() {
            return Err(CtrError::inval(table::E_INTEGRITY_NOT_SUPPORTED));
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
        let no_write_workqueue = o.no_write_workqueue || zoned;
        let engine = if o.no_read_workqueue || no_write_workqueue {
            Engine::Classic {
                inline_reads: o.no_read_workqueue,
                inline_writes: no_write_workqueue,
            }
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
        let keys = KBox::pin_init(
            new_mutex!(KeyState {
                key,
                key_string,
                valid: true
            }),
            GFP_KERNEL,
        )
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
                choosers: [
                    if tags.is_some() {
                        Chooser::new(Path::Inline).without_parallel_inline()
                    } else {
                        Chooser::new(Path::Inline)
                    },
                    Chooser::new(Path::Inline),
                ],
                inflight: [AtomicU32::new(0), AtomicU32::new(0)],
                backlog: AtomicU32::new(0),
                help: match engine {
                    Engine::Adaptive => Help::new(max_active as u32, tags.is_some()),
                    Engine::Classic { .. } => Help::NEVER,
                },
                key_size,
                inline_read_stack: wq::thread_size() >> 2,
                bh_reads: tags.is_some() && req_area != 0,
                iv_offset,
                start,
                sector_size: o.sector_size,
                iv: setup,
                iv_large_sectors: o.iv_large_sectors,
                same_cpu_crypt: o.same_cpu_crypt,
                high_priority: o.high_priority,
                submit_from_crypt_cpus: o.submit_from_crypt_cpus,
                no_read_workqueue: o.no_read_workqueue,
                no_write_workqueue,
                zoned,
                spread: spread != 0,
                batch,
                integrity,
                tags,
                integrity_key_size: o.integrity_key_size,
            },
            GFP_KERNEL,
        )
        .map_err(|_| nomem())?;
        Ok(this)
    }
}
