// SPDX-License-Identifier: GPL-2.0

//! The I/O path and the engine that schedules its crypto.
//!
//! dm-crypt.c: `get_max_request_sectors()`; `crypt_convert()`;
//! `crypt_alloc_buffer()`; the read path (`kcryptd_io_read()`,
//! `crypt_endio()`, `kcryptd_crypt_read_convert()`); the write path
//! (`kcryptd_crypt_write_convert()`, `kcryptd_crypt_write_io_submit()`);
//! `kcryptd_queue_crypt()` and the `no_*_workqueue` choice of inline crypto
//! (here the [`Engine`]); and `crypt_dec_pending()` ([`finish`]).

use super::policy::{Chooser, Path, Tag};
use super::table::SECTOR_SHIFT;
use super::Rcrypt;
use crate::bio::{Bio, BlkStatus, MAX_LARGE_ORDER};
use crate::crypto::Direction;
use crate::dm::{BufferedIo, Io, IoParts};
use crate::params;
use crate::wq;
use core::cell::Cell;
use core::sync::atomic::{AtomicU32, Ordering};
use kernel::error::code::{EIO, ENOMEM};
use kernel::prelude::*;

/// dm-crypt's default `max_read_size` / `max_write_size`.
const DEFAULT_MAX_IO_SIZE: u32 = 128 * 1024;

/// How a target schedules its crypto (see `Documentation/design.rst`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Engine {
    /// No `no_*_workqueue` option: per bio, crypto runs inline (in `map`
    /// for writes, in the completion for reads) or on the crypt work queue,
    /// where bios run in parallel on every CPU, whichever of the two the
    /// direction's [`Chooser`] measured faster; always on the work queue
    /// when the context may not sleep.
    Adaptive,
    /// dm-crypt's model: the work queue, except in the directions whose
    /// `no_read_workqueue` / `no_write_workqueue` option was given, which
    /// run inline whenever the context may sleep.
    Classic {
        inline_reads: bool,
        inline_writes: bool,
    },
}

/// Where the crypto of a bio runs ([`Rcrypt::crypto_run`]).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Run {
    /// In the current context.
    Here,
    /// On the softirq work queue (`system_bh_wq`), where it may not sleep.
    Bh,
    /// On the target's work queue.
    Queue,
}

/// Per-bio state: the bio's first sector relative to the target, the
/// epoch tag of the adaptive engine's choice for it, if it made one, and
/// (reads with integrity metadata) the index of the encryption sector a
/// check in place stopped at.
pub(super) struct IoState {
    pub(super) sector: u64,
    pub(super) chosen: Cell<Option<Tag>>,
    pub(super) stopped: Cell<u32>,
}

/// A bio in flight through the target.
pub(super) type RcryptIo = Io<Rcrypt, IoState>;
/// What the crypto of one bio works with (see [`Io::parts_mut`]).
type RcryptParts<'a> = IoParts<'a, Rcrypt, IoState>;
/// A write with its buffer.
pub(super) type RcryptBuf = BufferedIo<Rcrypt, IoState>;

/// Why a write has no buffer ([`alloc_buffer`]).
pub(super) enum NoBuffer {
    /// Not without waiting: try again where waiting is allowed.
    Dry(RcryptIo),
    /// The write fails.
    Failed(RcryptIo),
}

impl Rcrypt {
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
    #[inline(always)]
    pub(super) fn run_inline(&self, io: &RcryptIo) -> bool {
        self.crypto_run(io, false) == Run::Here
    }

    /// Where the crypto of `io` runs (see [`Engine`]): in the current
    /// context if it may sleep and the engine runs the bio inline; else,
    /// with `bh`, on the softirq work queue if the engine runs it inline
    /// (a read completed in hard interrupt context); else on the work
    /// queue. (Inline and softirq runs count as inline.)
    #[inline(always)]
    pub(super) fn crypto_run(&self, io: &RcryptIo, bh: bool) -> Run {
        let bio = io.bio();
        let write = bio.is_write();
        let here = wq::may_sleep();
        let allowed = if here {
            write || wq::task_stack_left() >= self.inline_read_stack
        } else {
            bh
        };
        let inline = allowed
            && match self.engine {
                Engine::Adaptive => {
                    let (chooser, inflight) = self.adaptive(write);
                    let depth = inflight.fetch_add(1, Ordering::Relaxed).wrapping_add(1);
                    let (path, tag) = chooser.choose(wq::now_ns());
                    chooser.note_depth(depth);
                    io.state().chosen.set(Some(tag));
                    path == Path::Inline || self.help.helps(bio.size(), &self.backlog)
                }
                Engine::Classic {
                    inline_reads,
                    inline_writes,
                } => {
                    if write {
                        inline_writes
                    } else {
                        inline_reads
                    }
                }
            };
        let n = if inline {
            &self.counters.inline_ios
        } else {
            &self.counters.queued_ios
        };
        n.fetch_add(1, Ordering::Relaxed);
        match (inline, here) {
            (false, _) => Run::Queue,
            (true, true) => Run::Here,
            (true, false) => Run::Bh,
        }
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

    /// A crypto work item was queued (counted only for a target that may
    /// help; `help` never changes, so `backlog_sub` agrees).
    pub(super) fn backlog_add(&self) {
        if self.help.counts_backlog() {
            self.backlog.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// A crypto work item queued with `backlog_add` started.
    pub(super) fn backlog_sub(&self) {
        if self.help.counts_backlog() {
            self.backlog.fetch_sub(1, Ordering::Relaxed);
        }
    }

    /// The sector of the backing device for `offset` sectors into the
    /// target (`cc->start + dm_target_offset()`). The constructor refused
    /// a table whose `start + length` overflows and dm core hands the
    /// target only bios inside it, so this never wraps; it wraps like the C
    /// rather than trapping if it did.
    pub(super) fn dev_sector(&self, offset: u64) -> u64 {
        self.start.wrapping_add(offset)
    }

    /// `get_max_request_sectors()`: the largest bio this target takes at once.
    pub(super) fn max_request_sectors(&self, bio: &Bio) -> u32 {
        let min_not_zero = |a: u32, b: u32| if a == 0 { b } else { a.min(b) };
        let write = bio.is_write();
        // On a zoned device (zone append emulated), splitting a write risks
        // deadlocking a queue freeze with zone write plugging's work when
        // the remainder is issued: the whole bio goes on, no larger than
        // `io_hints` lets device-mapper make it.
        if write && self.zoned {
            return bio.sectors();
        }
        let mut val = if write {
            min_not_zero(params::max_write_size(), DEFAULT_MAX_IO_SIZE)
        } else {
            min_not_zero(params::max_read_size(), DEFAULT_MAX_IO_SIZE)
        };
        // (rcrypt also limits the reads of a target with metadata and no
        // `integrity:` option, `random` alone: a read whose in-place check
        // fails is read again through a buffer of pool pages.)
        if write || self.integrity.is_some() || self.tags.is_some() {
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
    /// sector is one request. A cipher whose output does not depend on the
    /// sector (`ecb`, `cipher_null`) takes up to [`super::cipher::RUN_BATCH`]
    /// pages per request instead, through scatterlists, while more than a
    /// page is left: the same bytes as sector by sector, in fewer requests.
    #[inline(never)]
    fn convert(&self, io: RcryptParts<'_>, dir: Direction, out: Option<&Bio>) -> Result {
        let tfms = self.cipher.tfms.enter().ok_or(EIO)?;
        let IoParts {
            bio, state, area, ..
        } = io;
        let mut req = self.req_pool.get(area)?;
        let ss = self.sector_size;
        // A power of two (checked with the table): masks, not divisions.
        let mask = ss.wrapping_sub(1);
        let mut cc_sector = state.sector.wrapping_add(self.iv_offset);
        let mut cursor = bio.cursor();
        let mut out = out.map(|b| (b, b.cursor()));
        let mut left = bio.size() & !mask;
        while left > 0 {
            if self.batch && left > params::PAGE_SIZE {
                // No IV, one key: as many pages as a request holds. (Not
                // for the last page or less: a page run is cheaper there.)
                let oc = out.as_mut().map(|(o, oc)| (*o, oc));
                let (len, spread) =
                    self.cipher
                        .crypt_batch(&tfms, &mut req, dir, (bio, &mut cursor), oc, left)?;
                if spread != 0 {
                    self.counters
                        .spread_sectors
                        .fetch_add(u64::from(spread), Ordering::Relaxed);
                }
                left = left.saturating_sub(len);
                if left > 0 {
                    wq::cond_resched();
                }
                continue;
            }
            // As much of the current page of each bio as holds whole sectors;
            // under a sector there, the sector is spread over vectors (direct
            // I/O from a buffer aligned to less than the sector: see
            // `io_hints`), and one sector goes through scatterlists of its
            // pieces, or the bio fails (-EIO, as dm-crypt fails data not
            // aligned to the sector) where the IV mode keeps sectors whole.
            let oc = out.as_mut().map(|(o, oc)| (*o, oc));
            let Some((src, dst)) = bio.next_run(&mut cursor, oc, left, mask) else {
                let oc = out.as_mut().map(|(o, oc)| (*o, oc));
                self.cipher.crypt_spread(
                    &tfms,
                    &mut req,
                    dir,
                    &mut cc_sector,
                    (bio, &mut cursor),
                    oc,
                )?;
                self.counters.spread_sectors.fetch_add(1, Ordering::Relaxed);
                left = left.saturating_sub(ss);
                if left > 0 {
                    wq::cond_resched();
                }
                continue;
            };
            let dst = dst.unwrap_or(src);
            let len = src.len();
            if self.cipher.runs {
                self.cipher.crypt_run(&tfms, &mut req, dir, src, dst)?;
                cc_sector = cc_sector.wrapping_add(u64::from(len >> SECTOR_SHIFT));
            } else {
                self.cipher
                    .crypt_sectors(&tfms, &mut req, dir, &mut cc_sector, src, dst)?;
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
            order = order.min(
                left.div_ceil(params::PAGE_SIZE)
                    .checked_ilog2()
                    .unwrap_or(0),
            );
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
}

/// Ends a read or write of the data path with `status`, counting it.
pub(super) fn finish(io: RcryptIo, status: BlkStatus) {
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
        let n = if bio.is_write() {
            &c.sectors_written
        } else {
            &c.sectors_read
        };
        n.fetch_add(sectors, Ordering::Relaxed);
        if let Some(tag) = chosen {
            chooser.complete(wq::now_ns(), bio.size(), tag);
        }
    }
    io.end(status);
}

/// Read path, in map context: send the bio to the device; the data is
/// decrypted in place when it completes (`kcryptd_io_read`).
pub(super) fn read_submit(io: RcryptIo) {
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
pub(super) fn write_queued(io: RcryptIo) {
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

/// `crypt_alloc_buffer()`: `io` with a buffer, a bio for the target's
/// device with pool pages for all the data of the write (or, for a read of
/// a target with integrity metadata, for the data to read again; see
/// [`Rcrypt::fill_write_buffer`] for `wait`). `in_map`: called from `map`,
/// where even a bio from the bio set is not waited for (a small write's bio
/// lives in the per-bio data and needs none). A write's integrity tags
/// become the buffer's integrity payload (a read's are attached by its
/// caller).
pub(super) fn alloc_buffer(io: RcryptIo, wait: bool, in_map: bool) -> Result<RcryptBuf, NoBuffer> {
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
    if buf.io().has_tags() && buf.io().bio().is_write() {
        match buf.attach_tags(sector, !in_map) {
            Ok(()) => {}
            Err(e) if e == ENOMEM && in_map => return Err(NoBuffer::Dry(buf.release())),
            Err(_) => return Err(NoBuffer::Failed(buf.release())),
        }
    }
    Ok(buf)
}

/// Work item: encrypt a write into pool pages and submit it
/// (`kcryptd_crypt_write_convert`). Pages are first taken without waiting;
/// if the pool runs dry, the allocation starts over holding the allocation
/// lock and waits for pages, so that two writes can never each hold part of
/// the pool while waiting for the rest. Encryption starts once every page is
/// there, so nothing is encrypted twice and the lock never covers crypto.
fn write_work(io: RcryptIo) {
    let buf = match alloc_buffer(io, false, false) {
        Ok(buf) => buf,
        Err(NoBuffer::Dry(io)) => match alloc_buffer(io, true, false) {
            Ok(buf) => buf,
            Err(NoBuffer::Dry(io) | NoBuffer::Failed(io)) => return finish(io, BlkStatus::IOERR),
        },
        Err(NoBuffer::Failed(io)) => return finish(io, BlkStatus::IOERR),
    };
    encrypt_and_submit(buf, true);
}

/// A write encrypted inline (from `map`): pages are taken without waiting;
/// if the pool runs dry the write goes to the work queue, which may wait.
pub(super) fn write_inline(io: RcryptIo) {
    match alloc_buffer(io, false, true) {
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
    let r = if t.tags.is_some() {
        t.convert_tagged(p, Some(out), Direction::Encrypt, true, 0)
    } else {
        t.convert(p, Direction::Encrypt, Some(out))
    };
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
