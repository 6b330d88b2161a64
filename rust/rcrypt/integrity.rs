// SPDX-License-Identifier: GPL-2.0

//! Integrity metadata: the per-sector tuples that AEAD tags and `random`
//! IVs live in, on a device whose integrity profile has room for them
//! (dm-integrity below, or NVMe metadata without protection information).
//!
//! dm-crypt.c: `crypt_map()`'s tag allocation (`integrity_metadata`,
//! `tag_pool`), `dm_crypt_integrity_io_alloc()`, `crypt_convert_block_aead()`
//! and the IV-in-metadata part of `crypt_convert_block_skcipher()`, and the
//! `-EBADMSG` handling of `kcryptd_async_done()` / `crypt_convert()`.
//!
//! Writes are encrypted into pool pages as always, with their tags filled
//! sector by sector and carried by the write's integrity payload. Reads go
//! to the device as a clone of the bio carrying the tags, as in dm-crypt,
//! and are checked and decrypted in place. A read whose check fails there,
//! or cannot finish (an asynchronous transform's operation left in flight
//! in softirq context), is read again into pool pages and checked and
//! decrypted from that private copy into the bio's pages (dm-crypt's
//! `aead_recheck`): a caller writing into its own buffer during an
//! `O_DIRECT` read changes the ciphertext under the first check, not under
//! the second, so only a tag that fails there fails the bio.

use super::cipher::SectorCipher;
use super::io::{finish, IoState, RcryptBuf, RcryptIo, Run};
use super::table::{IntegrityLayout, IvMode, SECTOR_SHIFT};
use super::Rcrypt;
use crate::bio::{Bio, BlkStatus, TagBuf, TagPool};
use crate::crypto::{Direction, Request};
use crate::dm;
use crate::errno::EBADMSG;
use crate::wq;
use core::sync::atomic::Ordering;
use kernel::error::code::{EINVAL, EIO};
use kernel::error::Error;
use kernel::prelude::*;

/// dm-crypt's `POOL_ENTRY_SIZE`: bytes of one `tag_pool` buffer.
const POOL_ENTRY_SIZE: usize = 512;

/// On a zoned device, the 512-byte sectors of data whose tuples a
/// `tag_pool` buffer holds, and the largest bio of the mapping (`io_hints`):
/// a zoned write must never be split in `map` (`dm_accept_partial_bio`
/// BUG()s on one), which dm-crypt does when the tags' kmalloc fails and the
/// write is larger than a buffer holds.
pub(super) const ZONED_TAG_SECTORS: u32 = 256;

/// A target's integrity metadata: where a sector's tag and IV sit in its
/// tuple, and the pool of tag buffers.
pub(super) struct TagIo {
    pool: TagPool,
    /// Bytes of metadata per encryption sector (the device's tuple).
    pub(super) tuple_size: u32,
    /// The AEAD tag, at the start of the tuple (0 without AEAD).
    pub(super) tag_size: u32,
    /// The stored IV (`random`), after the tag (0 if none).
    pub(super) iv_size: u32,
    /// `tag_pool_max_sectors`: the largest bio (in 512-byte sectors) whose
    /// tags fit a pool buffer.
    pool_max_sectors: u32,
    /// `log2(sector_size) - 9`.
    sector_shift: u32,
}

impl TagIo {
    /// The tag buffers of a target with `layout` (checked by
    /// [`IntegrityLayout::check_space`]) and `sector_size`-byte sectors
    /// (`crypt_ctr()`'s `tag_pool`), on a zoned device or not.
    pub(super) fn new(
        layout: &IntegrityLayout,
        sector_size: u32,
        min_nr: u32,
        zoned: bool,
    ) -> Result<Self> {
        let tuple = layout.tuple_size as usize;
        if tuple == 0 {
            return Err(EINVAL);
        }
        let sector_shift = sector_size.trailing_zeros().saturating_sub(SECTOR_SHIFT);
        // At least one tuple per buffer, as many as fit in POOL_ENTRY_SIZE;
        // on a zoned device, those of ZONED_TAG_SECTORS.
        let per_buf = POOL_ENTRY_SIZE.checked_div(tuple).unwrap_or(0).max(1);
        let per_buf = if zoned {
            per_buf.max((ZONED_TAG_SECTORS >> sector_shift) as usize)
        } else {
            per_buf
        };
        let pool_max_sectors = u32::try_from(per_buf)
            .ok()
            .and_then(|n| n.checked_shl(sector_shift))
            .ok_or(EINVAL)?;
        let elem = per_buf.checked_mul(tuple).ok_or(EINVAL)?;
        Ok(Self {
            pool: TagPool::new(min_nr, elem)?,
            tuple_size: layout.tuple_size,
            tag_size: layout.tag_size.ok_or(EINVAL)?,
            iv_size: layout.iv_size,
            pool_max_sectors,
            sector_shift,
        })
    }

    /// The largest bio, in 512-byte sectors, whose tuples a pool buffer
    /// holds.
    pub(super) fn pool_max_sectors(&self) -> u32 {
        self.pool_max_sectors
    }

    /// Bytes of tags for `sectors` 512-byte sectors of data.
    fn tag_len(&self, sectors: u32) -> Option<usize> {
        (self.tuple_size as usize).checked_mul((sectors >> self.sector_shift) as usize)
    }
}

impl Rcrypt {
    /// `crypt_map()`'s tags: a buffer for the tuples of `sectors` 512-byte
    /// sectors, zeroed for a write (`write`; a read's is filled by the
    /// device: see [`crate::bio::TagBuf`]), from kmalloc if it gives one at
    /// once, else from the pool (waiting), after shortening the bio with
    /// `accept` to what a pool buffer holds. Returns the buffer. A zoned
    /// write (`split` false) is
    /// never shortened: it fails with `EIO` instead, which `io_hints`
    /// (bios no larger than a pool buffer holds) leaves to a table whose
    /// limits were stacked wrongly.
    pub(super) fn map_tags(
        &self,
        tags: &TagIo,
        sectors: u32,
        write: bool,
        split: bool,
        accept: impl FnOnce(u32),
    ) -> Result<crate::bio::TagBuf> {
        let len = tags.tag_len(sectors).ok_or(EINVAL)?;
        if let Some(b) = tags.pool.try_kmalloc(len, write) {
            return Ok(b);
        }
        let sectors = if sectors > tags.pool_max_sectors {
            if !split {
                return Err(EIO);
            }
            accept(tags.pool_max_sectors);
            tags.pool_max_sectors
        } else {
            sectors
        };
        tags.pool.alloc(tags.tag_len(sectors).ok_or(EINVAL)?, write)
    }

    /// `crypt_convert()` for a target with integrity metadata: encrypts the
    /// bio's sectors into the buffer `out` and fills their tuples, or
    /// decrypts them (read from the device with their tuples) from `out`,
    /// or in place without it, checking each tag; from the encryption
    /// sector of index `from` on (those before are done). `Err(EBADMSG)`
    /// names no sector; with `report`, the failing one was reported
    /// (rate-limited) and counted (dm-crypt reports only the recheck's
    /// failures). On an error of a sector's operation, the index of that
    /// sector is in the state (`stopped`).
    pub(super) fn convert_tagged(
        &self,
        p: dm::IoParts<'_, Rcrypt, IoState>,
        out: Option<&Bio>,
        dir: Direction,
        report: bool,
        from: u32,
    ) -> Result {
        let dm::IoParts {
            bio,
            state,
            tags,
            area,
            ..
        } = p;
        let req = self.req_pool.get(area)?;
        self.convert_tagged_with(req, bio, state, tags, out, dir, report, from)
    }

    /// [`Self::convert_tagged`] with the request `req`.
    #[allow(clippy::too_many_arguments)]
    fn convert_tagged_with(
        &self,
        mut req: Request<'_>,
        bio: &Bio,
        state: &IoState,
        tags: Option<&mut TagBuf>,
        out: Option<&Bio>,
        dir: Direction,
        report: bool,
        from: u32,
    ) -> Result {
        let ti = self.tags.as_ref().ok_or(EINVAL)?;
        let tfms = self.cipher.tfms.enter().ok_or(EIO)?;
        let tags = tags.ok_or(EINVAL)?;
        let ss = self.sector_size;
        let mask = ss.wrapping_sub(1);
        let step = u64::from(ss >> SECTOR_SHIFT);
        let tuple = ti.tuple_size as usize;
        // The sector relative to the target (the AEAD's associated data)
        // and with iv_offset (the IV generators').
        let mut sector = state.sector;
        let mut index = 0u32;
        let mut cursor = bio.cursor();
        let mut out = out.map(|o| (o, o.cursor()));
        let mut left = bio.size() & !mask;
        while left > 0 {
            let oc = out.as_mut().map(|(o, oc)| (*o, oc));
            let buffered = oc.is_some();
            let (mine, theirs) = bio.next_run(&mut cursor, oc, left, mask).ok_or(EIO)?;
            // Writes go from the bio into the buffer, reads the other way
            // or in place.
            let (src, dst) = match (theirs, dir) {
                (Some(theirs), Direction::Encrypt) => (mine, theirs),
                (Some(theirs), Direction::Decrypt) => (theirs, mine),
                (None, Direction::Decrypt) if !buffered => (mine, mine),
                (None, _) => return Err(EIO),
            };
            let len = src.len();
            let mut off = 0;
            while off < len {
                // (Sectors before `from` were done by an earlier pass.)
                if index >= from {
                    let (s, d) = (src.sub(off, ss).ok_or(EIO)?, dst.sub(off, ss).ok_or(EIO)?);
                    let at = (index as usize).checked_mul(tuple).ok_or(EIO)?;
                    let t = tags.bytes_mut(at, tuple).ok_or(EIO)?;
                    let cc_sector = sector.wrapping_add(self.iv_offset);
                    let r = self
                        .cipher
                        .crypt_tagged(&tfms, &mut req, dir, cc_sector, sector, s, d, t, ti);
                    if let Err(e) = r {
                        // (Where a read checked in softirq context goes on
                        // after an operation left in flight.)
                        state.stopped.set(index);
                        if report && e == Error::from(EBADMSG) {
                            self.counters
                                .integrity_errors
                                .fetch_add(1, Ordering::Relaxed);
                            dm::integrity_error(bio, sector);
                        }
                        return Err(e);
                    }
                }
                sector = sector.wrapping_add(step);
                index = index.wrapping_add(1);
                // `len` is whole sectors: `off + ss <= len`.
                off = off.saturating_add(ss);
            }
            left = left.saturating_sub(len);
            if left > 0 {
                wq::cond_resched();
            }
        }
        Ok(())
    }
}

impl SectorCipher {
    /// One sector with its metadata tuple `tuple` (`crypt_convert_block_aead()`,
    /// or `crypt_convert_block_skcipher()` with an IV stored in the
    /// metadata): the IV from the generator, or for `random` fresh random
    /// bytes stored in the tuple after the tag (writes) or the stored ones
    /// (reads); then the AEAD with the sector `ad_sector` (relative to the
    /// target) as associated data and the tag at the start of the tuple,
    /// or the skcipher. A write zeroes the rest of the tuple.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn crypt_tagged(
        &self,
        tfms: &crate::crypto::CipherUse<'_, super::cipher::IvKeys>,
        req: &mut crate::crypto::Request<'_>,
        dir: Direction,
        cc_sector: u64,
        ad_sector: u64,
        src: crate::bio::PageRef<'_>,
        dst: crate::bio::PageRef<'_>,
        tuple: &mut [u8],
        ti: &TagIo,
    ) -> Result {
        let (tag_size, iv_size) = (ti.tag_size as usize, ti.iv_size as usize);
        let iv_end = tag_size.checked_add(iv_size).ok_or(EINVAL)?;
        if self.mode() == IvMode::Random {
            let stored = tuple.get_mut(tag_size..iv_end).ok_or(EINVAL)?;
            let iv = req.iv_mut().get_mut(..iv_size).ok_or(EINVAL)?;
            match dir {
                Direction::Encrypt => {
                    crate::crypto::random_bytes(iv);
                    stored.copy_from_slice(iv);
                }
                Direction::Decrypt => iv.copy_from_slice(stored),
            }
        } else {
            self.generate_iv(req, cc_sector)?;
        }
        if dir == Direction::Encrypt {
            if let Some(rest) = tuple.get_mut(iv_end..) {
                rest.fill(0);
            }
        }
        match tfms.aead() {
            Some(aead) => {
                let tag = tuple.get_mut(..tag_size).ok_or(EINVAL)?;
                req.aead_crypt(aead, dir, ad_sector, src, dst, self.sector_size, tag)
            }
            None => {
                let tfm = tfms.get(self.key_index(cc_sector)).ok_or(EINVAL)?;
                req.crypt(tfm, dir, src, dst, self.sector_size)
            }
        }
    }
}

/// Read path of a target with integrity metadata, in map context
/// (dm-crypt's `kcryptd_io_read()`): a clone of the bio with its tags as
/// the integrity payload, read into the bio's own pages, taken without
/// waiting; if there is none, from the work queue, waiting. The data is
/// checked and decrypted in place when it completes; a read that fails a
/// tag there is read again into pool pages ([`recheck`]).
pub(super) fn read_tagged(io: RcryptIo) {
    let sector = io.target().dev_sector(io.state().sector);
    match io.submit_clone(sector, false, read_tagged_done) {
        Ok(()) => {}
        Err(Ok(io)) => io.queue(read_tagged_work),
        Err(Err(io)) => finish(io, BlkStatus::IOERR),
    }
}

/// Work item: [`read_tagged`] where waiting is allowed.
fn read_tagged_work(io: RcryptIo) {
    let sector = io.target().dev_sector(io.state().sector);
    if let Err(Ok(io) | Err(io)) = io.submit_clone(sector, true, read_tagged_done) {
        finish(io, BlkStatus::IOERR);
    }
}

/// A tagged read completed (possibly in interrupt context): check and
/// decrypt in place here, from the softirq work queue or from the
/// target's.
fn read_tagged_done(io: RcryptIo, status: BlkStatus) {
    if !status.is_ok() {
        return finish(io, status);
    }
    let t = io.target();
    match t.crypto_run(&io, t.bh_reads) {
        Run::Here => decrypt_tagged(io),
        Run::Bh => io.queue_bh(decrypt_tagged_bh),
        Run::Queue => {
            t.backlog_add();
            io.queue(decrypt_tagged_queued);
        }
    }
}

/// Work item: [`decrypt_tagged`] for a read the work queue took.
fn decrypt_tagged_queued(io: RcryptIo) {
    io.target().backlog_sub();
    decrypt_tagged(io);
}

/// Checks and decrypts a completed tagged read in place and ends it
/// (`kcryptd_crypt_read_convert()`); a tag that does not verify sends it to
/// [`recheck`].
fn decrypt_tagged(io: RcryptIo) {
    decrypt_tagged_from(io, 0);
}

/// [`decrypt_tagged`] from the encryption sector of index `from` on.
fn decrypt_tagged_from(mut io: RcryptIo, from: u32) {
    let p = io.parts_mut();
    let r = p
        .target
        .convert_tagged(p, None, Direction::Decrypt, false, from);
    match r {
        Ok(()) => finish(io, BlkStatus::OK),
        Err(e) if e == Error::from(EBADMSG) => recheck(io),
        Err(_) => finish(io, BlkStatus::IOERR),
    }
}

/// Softirq work item: [`decrypt_tagged`] where the context may not sleep
/// (dm-crypt's `kcryptd_crypt_read_convert()` from `system_bh_wq`). An
/// operation an asynchronous transform queues is not waited for here: the
/// read goes to the work queue, which waits for it and goes on from the
/// next sector ([`resume_tagged`]).
fn decrypt_tagged_bh(io: RcryptIo) {
    let run = io.run_atomic(
        |p, area| {
            let t = p.target;
            let req = t.req_pool.get_atomic(area)?;
            let (bio, state, tags) = (p.bio, p.state, p.tags);
            t.convert_tagged_with(req, bio, state, tags, None, Direction::Decrypt, false, 0)
        },
        resume_tagged,
    );
    let Some((io, r)) = run else { return };
    match r {
        Ok(()) => finish(io, BlkStatus::OK),
        // A tag that failed, or any other failure (rare: the request fits
        // the per-bio area, or the target would not check reads here),
        // after which the sector it stopped at may be half done.
        Err(_) => recheck(io),
    }
}

/// Work step after an operation left in flight in softirq context
/// ([`decrypt_tagged_bh`]) completed with `r`: the sectors before it are
/// decrypted in place, and so is its sector if `r` is `Ok`; the read goes on
/// from the next one (as dm-crypt's `kcryptd_async_done` continues the
/// bio), or is checked again ([`recheck`]) if the tag failed.
fn resume_tagged(io: RcryptIo, r: Result) {
    match r {
        Ok(()) => {
            let from = io.state().stopped.get().wrapping_add(1);
            decrypt_tagged_from(io, from);
        }
        Err(e) if e == Error::from(EBADMSG) => recheck(io),
        Err(_) => finish(io, BlkStatus::IOERR),
    }
}

/// dm-crypt's `aead_recheck`: a read whose in-place check failed is read
/// again from the work queue, into a buffer of
/// pool pages nobody else can write (an `O_DIRECT` caller may write into
/// its own pages during the read, which the first check cannot tell from a
/// bad tag), and checked and decrypted from there into the bio's pages;
/// the tags are read again with it. Only a tag that fails there is
/// reported and counted, and fails the bio.
fn recheck(io: RcryptIo) {
    let t = io.target();
    t.counters
        .integrity_rechecks
        .fetch_add(1, Ordering::Relaxed);
    io.queue(recheck_work);
}

/// Work item: [`recheck`]'s read, waiting for the buffer.
fn recheck_work(io: RcryptIo) {
    let mut buf = match super::io::alloc_buffer(io, true, false) {
        Ok(b) => b,
        Err(super::io::NoBuffer::Dry(io) | super::io::NoBuffer::Failed(io)) => {
            return finish(io, BlkStatus::IOERR)
        }
    };
    let seed = buf.io().target().dev_sector(buf.io().state().sector);
    match buf.attach_tags(seed, true) {
        Ok(()) => buf.submit(recheck_done),
        Err(_) => finish(buf.release(), BlkStatus::IOERR),
    }
}

/// [`recheck`]'s read completed: check and decrypt from the work queue.
fn recheck_done(buf: RcryptBuf) {
    let status = buf.buffer().status();
    if !status.is_ok() {
        return finish(buf.release(), status);
    }
    buf.queue(recheck_decrypt);
}

/// Work item: checks and decrypts [`recheck`]'s buffer into the bio and
/// ends it: a tag that does not verify fails the bio with a protection
/// error (dm-crypt's `BLK_STS_PROTECTION` for `-EBADMSG`).
fn recheck_decrypt(mut buf: RcryptBuf) {
    let (p, out) = buf.parts_mut();
    let r = p
        .target
        .convert_tagged(p, Some(out), Direction::Decrypt, true, 0);
    finish(buf.release(), tagged_status(r));
}

/// The status of a tagged read after [`Rcrypt::convert_tagged`].
fn tagged_status(r: Result) -> BlkStatus {
    match r {
        Ok(()) => BlkStatus::OK,
        Err(e) if e == Error::from(EBADMSG) => BlkStatus::PROTECTION,
        Err(_) => BlkStatus::IOERR,
    }
}
