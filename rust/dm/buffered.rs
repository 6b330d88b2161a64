// SPDX-License-Identifier: GPL-2.0

//! The parts shaped for a crypt target: an I/O with a write buffer of pool
//! pages (dm-crypt's write clone), submitted directly or by the write thread
//! ([`super::write_thread`]) in sector order.

use super::io::{Io, IoParts, IoTarget, PerBio, BUF_INLINE_VECS};
use super::write_thread::WriteThread;
use crate::bindings;
use crate::bio::{Bio, PoolBio, PoolPage};
use core::ptr::NonNull;
use kernel::prelude::*;

impl<T: IoTarget, S: Send> Io<T, S> {
    /// This I/O with a buffer (for a write, or for a read that must not
    /// land in the bio's own pages): a bio for the target's device with
    /// room for `nr_pages` pages of the target's page pool, and
    /// the operation, flags and I/O priority of the I/O's bio. Up to
    /// [`BUF_INLINE_VECS`] pages the bio lives in the per-bio data (no
    /// allocation) unless the I/O has integrity tags (whose payload must
    /// come from the bio set's pool); else it comes from the target's bio set, waiting for one with
    /// `wait` (GFP_NOIO) and not without (GFP_NOWAIT, for `map`, where bios
    /// of the same set may wait on the submitter's bio list). Gives the I/O
    /// back if there is no bio.
    pub(crate) fn with_buffer(
        mut self,
        nr_pages: u32,
        wait: bool,
    ) -> Result<BufferedIo<T, S>, Self> {
        let t: *const T = self.target();
        // SAFETY: The target stays alive until the bio is ended (type
        // invariant of `Io`), so it is valid for this function; the raw
        // pointer only releases the borrow of `self`.
        let t = unsafe { &*t };
        let (dev, pp) = (t.device().bdev(), t.page_pool());
        let buf = if nr_pages as usize <= BUF_INLINE_VECS && !self.has_tags() {
            // SAFETY: `p` points to the initialised per-bio data, which only
            // this `Io` reaches (type invariant of `Io`).
            let pb = unsafe { self.p.as_mut() };
            let vecs = pb.buf_vecs.get().cast::<bindings::bio_vec>();
            // SAFETY: `init_embedded_bio`'s contract:
            // - the bio and its `BUF_INLINE_VECS` vectors are fields of the
            //   per-bio data, writable and aligned for their types;
            // - nothing else uses them: no other `BufferedIo` of this I/O
            //   exists (`with_buffer` takes the `Io`, and `release` gives it
            //   back only after `bio_uninit`);
            // - they outlive the buffer and its I/O: the per-bio data lives
            //   until the base bio is ended, which `BufferedIo` does only
            //   after releasing the buffer, and which the buffer's completion
            //   precedes while it is in flight.
            unsafe {
                pp.init_embedded_bio(
                    pb.buf_bio.get(),
                    vecs,
                    BUF_INLINE_VECS as u16,
                    dev,
                    &self.base,
                )
            }
        } else {
            let Ok(nr) = u16::try_from(nr_pages) else {
                return Err(self);
            };
            match t
                .bio_set()
                .alloc_bio(dev, nr, &self.base, wait)
                .map(|b| pp.make_bio(b))
            {
                Ok(Ok(b)) => Some(b),
                Ok(Err(b)) => {
                    b.put();
                    None
                }
                Err(_) => None,
            }
        };
        let Some(mut buf) = buf else { return Err(self) };
        buf.bio_mut().copy_ioprio(&self.base);
        // INVARIANT: `buf` was just made for `self`, is not in flight and
        // comes from the target's page pool.
        Ok(BufferedIo {
            io: self,
            buf: core::mem::ManuallyDrop::new(buf),
        })
    }
}

/// An [`Io`] with its write buffer (a bio of pool pages, dm-crypt's write
/// clone), made by [`Io::with_buffer`]. The two travel together, so that a
/// buffer whose bio lives in the I/O's per-bio data cannot outlive it: the
/// buffer is released ([`Self::release`]) before the I/O comes back, and
/// also if this is dropped (then the I/O fails).
///
/// # Invariants
///
/// `buf` was made for `io` by `with_buffer` (its bio, if embedded, is the
/// one in `io`'s per-bio data), is not in flight, and is released exactly
/// once, to the target's page pool it came from.
pub(crate) struct BufferedIo<T: IoTarget, S> {
    io: Io<T, S>,
    buf: core::mem::ManuallyDrop<PoolBio>,
}

impl<T: IoTarget, S: Send> BufferedIo<T, S> {
    /// The I/O.
    pub(crate) fn io(&self) -> &Io<T, S> {
        &self.io
    }

    /// The write buffer.
    pub(crate) fn buffer(&self) -> &PoolBio {
        &self.buf
    }

    /// Appends a page to the buffer ([`PoolBio::add_page`]). (`&self`, so
    /// that the target, reached through [`Self::io`], stays borrowed while
    /// pages are added.)
    pub(crate) fn add_page(&self, page: PoolPage, len: u32) -> Result<(), PoolPage> {
        self.buf.add_page(page, len)
    }

    /// Directs the buffer at `sector` of the target's device.
    pub(crate) fn set_sector(&mut self, sector: u64) {
        self.buf.bio_mut().set_sector(sector);
    }

    /// Attaches the I/O's integrity tags ([`Io::set_tags`]) to the
    /// buffer's bio as its integrity payload, seeded with `seed`: all of
    /// them (one tuple per encryption sector of the buffer), waiting for a
    /// payload with `wait` and not without (then `ENOMEM` says to try again
    /// where waiting is allowed). `EINVAL` if the I/O has no tags or they
    /// were attached already.
    pub(crate) fn attach_tags(&mut self, seed: u64, wait: bool) -> Result {
        // SAFETY: `p` points to the initialised per-bio data, which only the
        // I/O reaches (type invariant of `Io`).
        let pb = unsafe { self.io.p.as_mut() };
        let tags = pb.tags.as_ref().ok_or(kernel::error::code::EINVAL)?;
        // (A write's tags must be filled: an unfilled buffer holds whatever
        // kmalloc left there.)
        if self.buf.bio().has_integrity() || (self.buf.bio().is_write() && !tags.is_filled()) {
            return Err(kernel::error::code::EINVAL);
        }
        let len = u32::try_from(tags.len()).map_err(|_| kernel::error::code::EINVAL)?;
        // SAFETY: `attach_integrity`'s contract:
        // - the tags are `len` bytes of kmalloc memory (`TagBuf`'s
        //   invariant) in the per-bio data, which stays valid until the
        //   buffer's I/O is over: the tags are replaced or dropped only with
        //   the `Io` (`set_tags`, `end`, `Drop`), which this `BufferedIo`
        //   holds until its buffer is released, and nothing reaches them
        //   while the buffer is in flight (the `Io` is given up then);
        // - the buffer's bio has no payload yet (checked) and is not in
        //   flight (type invariant).
        unsafe {
            self.buf
                .bio_mut()
                .attach_integrity(tags.as_ptr(), len, seed, wait)
        }
    }

    /// The I/O's parts ([`Io::parts_mut`]) and the buffer's bio, at once.
    pub(crate) fn parts_mut(&mut self) -> (IoParts<'_, T, S>, &Bio) {
        (self.io.parts_mut(), self.buf.bio())
    }

    /// Returns the buffer's pages to the pool, releases its bio and gives
    /// the I/O back.
    pub(crate) fn release(self) -> Io<T, S> {
        let mut this = core::mem::ManuallyDrop::new(self);
        // SAFETY: `ptr::read` and `ManuallyDrop::take` move the I/O and the
        // buffer out of `this`, which is neither used nor dropped again, so
        // each is taken once.
        let (io, buf) = unsafe {
            (
                core::ptr::read(&this.io),
                core::mem::ManuallyDrop::take(&mut this.buf),
            )
        };
        io.target().page_pool().release(buf);
        io
    }

    /// Submits the buffer and runs `done` with this I/O and buffer when it
    /// completes; `done` may run in interrupt context, so it must not sleep.
    pub(crate) fn submit(self, done: fn(BufferedIo<T, S>)) {
        let (io, clone) = self.into_flight(done);
        io.submit_remap(clone);
    }

    /// Like [`Self::submit`], but the buffer is submitted by the target's
    /// write thread, in sector order with the other writes queued
    /// there (dm-crypt's `kcryptd_crypt_write_io_submit` into `dmcrypt_write`).
    pub(crate) fn submit_sorted(self, done: fn(BufferedIo<T, S>)) {
        let thread: *const WriteThread = self.io.target().write_thread();
        let (io, clone) = self.into_flight(done);
        let io = core::mem::ManuallyDrop::new(io);
        // SAFETY:
        // - `thread` is the target's write thread, alive: the target stays
        //   alive until the base bio is ended (type invariant of `Io`);
        // - `WriteThread::submit`'s contract: the node is a field of the
        //   per-bio data, which only this I/O uses and which lives until the
        //   clone's completion ends the base bio; the base bio came to the
        //   target's map function and is not ended (type invariant of `Io`),
        //   and `io` is neither used nor dropped again, so only the clone's
        //   completion, which rebuilds the `Io`, ends it; the clone passes to
        //   the thread, directed at the target's device (`with_buffer`), open
        //   until the target is destroyed, which waits for its bios.
        unsafe {
            (*thread).submit(
                (*io.p.as_ptr()).sorted.get(),
                io.base.as_ptr(),
                clone.as_ptr(),
            )
        };
    }

    /// Runs `f` with this I/O and buffer from the target's work queue (in
    /// process context): for a buffer whose I/O is over (a read to
    /// decrypt) or not started.
    pub(crate) fn queue(self, f: fn(BufferedIo<T, S>)) {
        let mut this = core::mem::ManuallyDrop::new(self);
        // SAFETY: `ptr::read` and `ManuallyDrop::take` move the I/O and the
        // buffer out of `this`, which is neither used nor dropped again, so
        // each is taken once (`queued` rebuilds `Self` from them).
        let (mut io, buf) = unsafe {
            (
                core::ptr::read(&this.io),
                core::mem::ManuallyDrop::take(&mut this.buf),
            )
        };
        // Whether the bio is embedded is found again by its address.
        let (clone, pool, _embedded) = buf.into_parts();
        // SAFETY: `p` points to the initialised per-bio data, which only
        // this I/O reaches (type invariant of `Io`).
        let pb = unsafe { io.p.as_mut() };
        pb.buf_work_fn = Some(f);
        pb.clone_pool = pool.as_ptr();
        pb.queued_clone = clone.as_ptr();
        // (`Bio` has no destructor: the clone is kept by its pointer.)
        io.queue(Self::queued);
    }

    /// The work step of [`Self::queue`]: rebuilds `Self` from the parts
    /// `queue` left in the per-bio data and runs its function.
    fn queued(mut io: Io<T, S>) {
        // SAFETY: `p` points to the initialised per-bio data, which only
        // this I/O reaches (type invariant of `Io`).
        let pb = unsafe { io.p.as_mut() };
        let (f, pool, clone) = (
            pb.buf_work_fn.take(),
            pb.clone_pool,
            core::mem::take(&mut pb.queued_clone),
        );
        let embedded = clone == pb.buf_bio.get();
        // SAFETY: `clone` is the buffer's bio that `queue` gave up, valid
        // and held by nothing else (or null if `queue` did not run).
        let clone = unsafe { Bio::from_raw(clone) };
        let (Some(f), Some(ident), Some(clone)) = (f, NonNull::new(pool), clone) else {
            // Not queued by `queue`: `io` fails its bio.
            return;
        };
        // SAFETY: `from_parts`' contract: `clone` and `ident` are the bio
        // and pool identity of one `into_parts` call (`queue`'s, kept in
        // the per-bio data), `embedded` is what comparing the bio with the
        // per-bio data's says, and the bio is not in flight (`queue`'s
        // contract: its I/O is over or not started).
        let buf =
            core::mem::ManuallyDrop::new(unsafe { PoolBio::from_parts(clone, ident, embedded) });
        // INVARIANT: The `Io` and buffer that `queue` gave up, rebuilt as
        // they were.
        f(BufferedIo { io, buf });
    }

    /// Sets up the buffer's completion to rebuild `Self` and run `done`;
    /// returns the I/O and the bio to submit.
    fn into_flight(self, done: fn(BufferedIo<T, S>)) -> (Io<T, S>, Bio) {
        let mut this = core::mem::ManuallyDrop::new(self);
        // SAFETY: `ptr::read` and `ManuallyDrop::take` move the I/O and the
        // buffer out of `this`, which is neither used nor dropped again, so
        // each is taken once (the trampoline rebuilds `Self` from them).
        let (mut io, buf) = unsafe {
            (
                core::ptr::read(&this.io),
                core::mem::ManuallyDrop::take(&mut this.buf),
            )
        };
        // Whether the clone is embedded is found again on completion, by its
        // address (`trampoline`), so it need not travel.
        let (mut clone, pool, _embedded) = buf.into_parts();
        // SAFETY: `p` points to the initialised per-bio data, which only
        // this I/O reaches (type invariant of `Io`).
        let pb = unsafe { io.p.as_mut() };
        pb.buf_fn = Some(done);
        pb.clone_pool = pool.as_ptr();
        pb.buf_cursor = Some(clone.position());
        // SAFETY: `set_end_io`'s contract:
        // - `trampoline` may be called with this clone: it finds in
        //   `bi_private` the per-bio data, which holds the rest of the
        //   buffer's parts (set just above);
        // - the per-bio data stays valid until it runs: it lives until the
        //   base bio is ended, which only `done` or later can do.
        unsafe { clone.set_end_io(Some(Self::trampoline), io.p.as_ptr().cast()) };
        (io, clone)
    }

    /// # Safety
    ///
    /// Called by the kernel as the completion of a clone set up by
    /// [`Self::into_flight`] and submitted: the clone's I/O is over, and its
    /// private pointer is still the per-bio data of a base bio that is not
    /// ended.
    unsafe extern "C" fn trampoline(clone: *mut bindings::bio) {
        // SAFETY: `clone` is a valid bio whose I/O is over, and this
        // completion is its only holder (the caller's guarantee).
        let Some(mut clone) = (unsafe { Bio::from_raw(clone) }) else {
            return;
        };
        let p = clone.private().cast::<PerBio<T, S>>();
        // SAFETY: `bi_private` is what `into_flight` set: the initialised
        // per-bio data of the base bio, which nothing else reaches until the
        // `BufferedIo` is rebuilt below.
        if let Some(cursor) = unsafe { (*p).buf_cursor.take() } {
            // SAFETY: `restore_cursor`'s contract: `into_flight` took the
            // cursor from this bio, whose segments have not changed since
            // (a submitted bio's segments are immutable). (A request's
            // completion advances its bios to their end: a read's data is
            // walked again to decrypt it.)
            unsafe { clone.restore_cursor(&cursor) };
        }
        if !clone.is_write() && clone.status().is_ok() {
            // SAFETY: `bi_private` is what `into_flight` set: the initialised
            // per-bio data of the base bio, which nothing else reaches until
            // the `BufferedIo` is rebuilt below.
            if let Some(tags) = unsafe { (*p).tags.as_mut() } {
                if clone.integrity_is(tags.as_ptr(), tags.len()) {
                    // SAFETY: `set_filled`'s contract: the tags, all of them,
                    // are the read's integrity payload (checked), which
                    // `attach_integrity` attached only as exactly the
                    // metadata of the bio's sectors on its device; the read
                    // completed without error, so the device below wrote
                    // that metadata, every byte of the tags.
                    unsafe { tags.set_filled() };
                }
            }
        }
        // SAFETY: `bi_private` is what `into_flight` set: the initialised
        // per-bio data of the base bio, which nothing else reaches until the
        // `BufferedIo` is rebuilt below.
        let (f, pool, embedded, size) = unsafe {
            (
                (*p).buf_fn.take(),
                (*p).clone_pool,
                clone.as_ptr() == (*p).buf_bio.get(),
                (*p).size,
            )
        };
        let (Some(f), Some(ident)) = (f, NonNull::new(pool)) else {
            return;
        };
        // SAFETY: `p` is the start of the `size` bytes of per-bio data of a
        // bio device-mapper passed to a map function (type invariants of
        // the `Io` that `into_flight` gave up): `dm_bio_from_per_bio_data`
        // steps over them to it.
        let base = unsafe { bindings::rcrypt_dm_bio_from_per_bio_data(p.cast(), size) };
        // SAFETY: `base` is the base bio `into_flight` gave up, not ended;
        // this completion is now its only holder.
        if let (Some(p), Some(base)) = (NonNull::new(p), unsafe { Bio::from_raw(base) }) {
            // SAFETY: `from_parts`' contract: `clone` and `ident` are the bio
            // and pool identity of one `into_parts` call (`into_flight`'s,
            // the identity kept in the per-bio data), `embedded` is what
            // comparing the clone with the per-bio data's bio says, and the
            // clone's I/O is over (this is its completion).
            let buf = core::mem::ManuallyDrop::new(unsafe {
                PoolBio::from_parts(clone, ident, embedded)
            });
            // INVARIANT: The `Io` and buffer that `into_flight` gave up,
            // rebuilt as they were; the buffer's I/O is over.
            f(BufferedIo {
                io: Io { p, base },
                buf,
            });
        }
    }
}

/// A buffered I/O dropped without being released or submitted releases its
/// buffer, then its I/O fails ([`Io`]'s `Drop`).
impl<T: IoTarget, S> Drop for BufferedIo<T, S> {
    fn drop(&mut self) {
        // SAFETY: The buffer is taken once (type invariant): `release` and
        // `into_flight` take it without dropping `self`, and this is the
        // drop.
        let buf = unsafe { core::mem::ManuallyDrop::take(&mut self.buf) };
        self.io.target().page_pool().release(buf);
    }
}
