// SPDX-License-Identifier: GPL-2.0

//! The `rcrypt` target: the Rust counterpart of `drivers/md/dm-crypt.c`.
//!
//! The target is safe Rust over the wrappers in [`crate::dm`], [`crate::crypto`]
//! and [`crate::keys`], which the compiler checks: this module and all below
//! it deny `unsafe_code` (one KUnit case, which builds an `Args` over a raw
//! argv, allows it, and so does the target's [`IoTarget`] implementation:
//! no unsafe operation, a promise about the transforms of a decryption
//! that `dm::Io::run_atomic` may leave in flight). The constructor follows `crypt_ctr()` step by step
//! (the stage numbers are those of [`table`]'s documentation) so that every
//! table gets the same verdict and the same `ti->error` message as dm-crypt.
//!
//! I/O: reads go to the device themselves (no clone) and are decrypted in
//! place when they complete; writes are encrypted into pages of a mempool and submitted as a
//! new bio. The crypto runs inline or on the work queue as the [`Engine`](io::Engine)
//! decides. Every allocation on the I/O path comes from a mempool, so I/O
//! waits for memory, never fails for want of it. With integrity metadata
//! (AEAD tags, the `random` IV) reads go to the device as a clone carrying
//! the tags (as in dm-crypt) and are checked and decrypted in place; one
//! that fails a tag is read again into pool pages and checked there
//! ([`integrity`]).
//!
//! This file holds the target type [`Rcrypt`] (`struct crypt_config`) and its
//! [`TargetOperations`] (`crypt_ctr()`, `crypt_map()`, `crypt_status()`, ...);
//! the work is done in one file per phase of dm-crypt.c:
//! - [`cipher`]: the sector cipher and the IV generators' keys
//!   (`crypt_setkey()`, `iv_gen_ops`, `crypt_convert_block_skcipher()`);
//! - [`ctr`]: the constructor's stages (`crypt_ctr()` and what it calls);
//! - [`key`]: the key and the key messages (`crypt_set_key()`,
//!   `crypt_wipe_key()`, `crypt_message()`);
//! - [`io`]: the I/O path and the engine (`crypt_convert()`,
//!   `crypt_alloc_buffer()`, the `kcryptd_*` functions, `crypt_endio()`);
//! - [`status`]: the status lines and rcrypt's counters (`crypt_status()`);
//! - [`table`], [`iv`] and [`policy`]: the table parser, the IV generators'
//!   arithmetic and the engine's path chooser, pure (`core` only) and also
//!   compiled by the host crate.

#![deny(unsafe_code)]

pub(crate) mod table;

#[cfg(CONFIG_KUNIT)]
mod iv_vectors;
#[cfg(CONFIG_KUNIT)]
mod kunit_tests;
#[cfg(CONFIG_KUNIT)]
mod xts_vectors;

pub(crate) mod iv;
pub(crate) mod policy;

mod cipher;
mod ctr;
mod integrity;
mod io;
mod key;
mod status;

use crate::bio::{Bio, BioOp, BioSet, BlkStatus, PagePool};
use crate::crypto::RequestPool;
use crate::dm::{self, TargetOperations};
use crate::dm::{
    Args, CtrError, IoTarget, MapResult, QueueLimits, StatusType, StatusWriter, Target,
    TargetDevice, WriteThread,
};
use crate::params;
use crate::wq::WorkQueue;
use cipher::SectorCipher;
use core::cell::Cell;
use core::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use io::{read_submit, write_inline, write_queued, Engine, IoState, RcryptIo};
use kernel::error::code::EAGAIN;
use kernel::prelude::*;
use kernel::str::CStr;
use kernel::sync::Mutex;
use key::KeyState;
use policy::Chooser;
use status::Counters;
use table::{IvSetup, SECTOR_SHIFT};

/// Target name as `dmsetup` uses it.
pub(crate) const TARGET_NAME: &CStr = kernel::c_str!("rcrypt");
/// The name of the drop-in registration (`crypt_alias=1`): dm-crypt's.
pub(crate) const ALIAS_NAME: &CStr = kernel::c_str!("crypt");
/// Target version: the dm-crypt version whose behaviour rcrypt matches.
pub(crate) const TARGET_VERSION: [u32; 3] = [1, 28, 0];
/// Target features: as dm-crypt, host-managed zoned devices
/// (`DM_TARGET_ZONED_HM`; 0 in a kernel without `CONFIG_BLK_DEV_ZONED`).
pub(crate) const TARGET_FEATURES: u64 = crate::bindings::DM_TARGET_ZONED_HM as u64;

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
    /// When the adaptive engine runs a bio inline whatever the path chosen
    /// (helping a backed-up work queue; the backlog is `backlog`).
    help: policy::Help,
    /// `cc->key_size`.
    key_size: u32,
    /// Stack a read's completion needs left to decrypt inline: a quarter of
    /// the task's stack. Completions of stacked devices nest on one stack (a
    /// ramdisk ends a read in its submitter's context, and each rcrypt
    /// device above decrypts in the completion of the one below), so a deep
    /// stack of devices hands its reads to the work queue, whose worker
    /// starts on a fresh stack.
    inline_read_stack: usize,
    /// Reads with integrity metadata whose completion comes where the
    /// context may not sleep (hard interrupt context: NVMe) and which the
    /// engine runs inline are checked and decrypted from the softirq work
    /// queue, as dm-crypt does: the target has metadata and its request
    /// fits the per-bio area (a request there is all the softirq path
    /// needs; it never waits for one).
    bh_reads: bool,
    iv_offset: u64,
    start: u64,
    sector_size: u32,
    iv: IvSetup,
    iv_large_sectors: bool,
    same_cpu_crypt: bool,
    high_priority: bool,
    submit_from_crypt_cpus: bool,
    no_read_workqueue: bool,
    /// `no_write_workqueue`, given or (as in dm-crypt) forced on a zoned
    /// device.
    no_write_workqueue: bool,
    /// The device is zoned: device-mapper emulates zone append with
    /// writes, which the target must not split (see [`Target::set_emulate_zone_append`]).
    zoned: bool,
    /// A sector may be spread over bio vectors (the cipher alone touches
    /// its data, no integrity metadata): `io_hints` keeps the DMA
    /// alignment of the device below rather than raising it to the sector.
    spread: bool,
    /// The cipher's output does not depend on the sector and the requests
    /// hold [`cipher::RUN_BATCH`] pages: runs of pages go in one request
    /// ([`SectorCipher::crypt_batch`]).
    batch: bool,
    /// `integrity:<n>:<profile>` as given: shown in the status.
    integrity: Option<(u32, KVec<u8>)>,
    /// The integrity metadata of an AEAD or `random` table (none for
    /// `integrity:<n>:none` with another IV mode: as in dm-crypt, nothing
    /// is stored then).
    tags: Option<integrity::TagIo>,
    integrity_key_size: Option<u32>,
}

/// What the I/O types ([`dm::Io`], [`dm::BufferedIo`]) use of the target.
// SAFETY: The one crypto operation rcrypt may leave in flight from
// `Io::run_atomic` (a read checked and decrypted in place from the softirq
// work queue: `integrity::decrypt_tagged_bh`) reads and writes the read's
// bio, with the target's transforms (`SectorCipher::tfms`), and
// returns at once when an operation is left in flight (`EINPROGRESS` ends
// `convert_tagged_with`'s loop), touching no page after it.
// Those are freed only with the target, which device-mapper destroys once
// every bio of it has ended, and re-keyed only by `key set` / `key wipe`,
// which rcrypt takes only while the device is suspended
// (`Rcrypt::suspended`, set in `postsuspend`): after device-mapper has
// waited for every bio of the target in flight.
#[allow(unsafe_code)]
unsafe impl IoTarget for Rcrypt {
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
        // Flushes, discards and zone management (which carries no data;
        // dm-crypt sends it below as an empty clone) bypass the crypto: dm
        // core ensures no I/O is in flight for a flush; a discard's caller
        // orders it with a flush.
        let op = bio.op();
        if bio.is_preflush() || matches!(op, BioOp::Discard | BioOp::ZoneMgmt) {
            bio.set_dev(self.dev.bdev());
            // (A zone management bio names its zone by its sector and has
            // no size.)
            if bio.sectors() != 0 || op == BioOp::ZoneMgmt {
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

        // The integrity tags: dm-crypt allocates them here, and may shorten
        // the bio to what a pool buffer holds.
        let tags = match &self.tags {
            Some(ti) => {
                let sectors = bio.sectors();
                // (A write to a zoned device may not be split.)
                let write = bio.is_write();
                let split = !(self.zoned && write);
                match self.map_tags(ti, sectors, write, split, |n| {
                    target.accept_partial_bio(&bio, n)
                }) {
                    Ok(b) => Some(b),
                    Err(_) => return MapResult::Kill,
                }
            }
            None => None,
        };

        let state = IoState {
            sector: target.offset_of(bio.sector()),
            chosen: Cell::new(None),
            stopped: Cell::new(0),
        };
        let mut io = match RcryptIo::new(target, bio, self, state) {
            Ok(io) => io,
            Err(bio) => {
                bio.end(BlkStatus::IOERR);
                return MapResult::Submitted;
            }
        };
        if let Some(tags) = tags {
            io.set_tags(tags);
        }
        if io.bio().is_write() {
            if self.run_inline(&io) {
                write_inline(io);
            } else {
                self.backlog_add();
                io.queue(write_queued);
            }
        } else if self.tags.is_some() {
            integrity::read_tagged(io);
        } else {
            read_submit(io);
        }
        MapResult::Submitted
    }

    /// `crypt_status()`.
    fn status(&self, target: &Target<'_>, ty: StatusType, out: &mut StatusWriter<'_>) {
        match ty {
            // dm-crypt's INFO is empty; rcrypt can show its counters.
            StatusType::Info => self.status_info(out),
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
        // dm-crypt raises the DMA alignment to the sector size, so that no
        // sector spans bio vectors. Where a sector may (`spread`), rcrypt
        // keeps the alignment the device below needs, for the reads it
        // sends there as they come: direct I/O from any buffer the device
        // below could take (on Linux 6.12 device-mapper stacks it from 511:
        // 512-byte aligned buffers, for every sector size).
        limits.raise_block_size(self.sector_size, !self.spread);
        // Never below the largest cipher block (16 bytes, the crypto API's
        // `MAX_CIPHER_BLOCKSIZE`): every piece of a spread sector is then
        // whole blocks at an aligned address, which the cipher walks in
        // place, without the bounce buffer it would allocate for a block
        // split between pieces. (Linux 6.12 stacks 511 anyway.)
        if self.spread {
            limits.raise_dma_alignment(15);
        }
        // Writes to a zoned device are not split here (`max_request_sectors`):
        // device-mapper splits them to what one pool buffer holds.
        if self.zoned {
            limits.cap_max_hw_sectors(params::BIO_MAX_VECS * (params::PAGE_SIZE >> SECTOR_SHIFT));
            // Nor when their tags do not come from kmalloc at once: no
            // larger than a tag pool buffer holds (`ZONED_TAG_SECTORS`).
            if let Some(tags) = &self.tags {
                limits.cap_max_hw_sectors(tags.pool_max_sectors());
            }
        }
    }

    /// `crypt_report_zones()`: the device's zones from the target's start.
    fn zoned_device(&self, _target: &Target<'_>) -> (&TargetDevice, u64) {
        (&self.dev, self.start)
    }

    /// `crypt_message()`: `key set <key>` and `key wipe`, only while suspended.
    fn message(
        &self,
        _target: &Target<'_>,
        args: &mut Args<'_>,
        _out: &mut StatusWriter<'_>,
    ) -> Result {
        self.key_message(args)
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
