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
    /// This I/O with a write buffer: a bio for the target's device with
    /// room for `nr_pages` pages of the target's page pool, and
    /// the operation, flags and I/O priority of the I/O's bio. Up to
    /// [`BUF_INLINE_VECS`] pages the bio lives in the per-bio data (no
    /// allocation); else it comes from the target's bio set, waiting for one with
    /// `wait` (GFP_NOIO) and not without (GFP_NOWAIT, for `map`, where bios
    /// of the same set may wait on the submitter's bio list). Gives the I/O
    /// back if there is no bio.
    pub(crate) fn with_buffer(mut self, nr_pages: u32, wait: bool) -> Result<BufferedIo<T, S>, Self> {
        let t: *const T = self.target();
        // SAFETY: The target outlives its bios (type invariant of `Io`); `t`
        // is not used past this I/O.
        let t = unsafe { &*t };
        let (dev, pp) = (t.device().bdev(), t.page_pool());
        let buf = if nr_pages as usize <= BUF_INLINE_VECS {
            // The per-bio data is ours (type invariant) and outlives the
            // buffer: `BufferedIo` holds this I/O, and releases the buffer
            // (`bio_uninit`) before it gives the I/O back or drops it. The
            // bio slot is free: no other `BufferedIo` of this I/O exists.
            // SAFETY: As above; both fields are suitably aligned for their types.
            unsafe {
                let pb = self.p.as_mut();
                let vecs = pb.buf_vecs.get().cast::<bindings::bio_vec>();
                pp.init_embedded_bio(pb.buf_bio.get(), vecs, BUF_INLINE_VECS as u16, dev, &self.base)
            }
        } else {
            let Ok(nr) = u16::try_from(nr_pages) else { return Err(self) };
            match t.bio_set().alloc_bio(dev, nr, &self.base, wait).map(|b| pp.make_bio(b)) {
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
        Ok(BufferedIo { io: self, buf: core::mem::ManuallyDrop::new(buf) })
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

    /// The I/O's parts ([`Io::parts_mut`]) and the buffer's bio, at once.
    pub(crate) fn parts_mut(&mut self) -> (IoParts<'_, T, S>, &Bio) {
        (self.io.parts_mut(), self.buf.bio())
    }

    /// Returns the buffer's pages to the pool, releases its bio and gives
    /// the I/O back.
    pub(crate) fn release(self) -> Io<T, S> {
        let mut this = core::mem::ManuallyDrop::new(self);
        // SAFETY: `this` is not used again (and not dropped); the buffer is
        // released once, here (type invariant).
        let (io, buf) = unsafe { (core::ptr::read(&this.io), core::mem::ManuallyDrop::take(&mut this.buf)) };
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
        // The base bio (not ended: type invariant of `Io`) passes with the
        // clone to the thread, which submits the clone through device-mapper;
        // the clone's completion rebuilds `Self`, so `io` is not used again.
        // The sorting node lives in the per-bio data, valid until that
        // completion ends the base bio; the thread erases it before submitting.
        let io = core::mem::ManuallyDrop::new(io);
        // SAFETY: As above; the thread belongs to the target, which outlives
        // its bios, and so does the device the clone is directed at.
        unsafe { (*thread).submit((*io.p.as_ptr()).sorted.get(), io.base.as_ptr(), clone.as_ptr()) };
    }

    /// Sets up the buffer's completion to rebuild `Self` and run `done`;
    /// returns the I/O and the bio to submit.
    fn into_flight(self, done: fn(BufferedIo<T, S>)) -> (Io<T, S>, Bio) {
        let mut this = core::mem::ManuallyDrop::new(self);
        // SAFETY: `this` is not used again (and not dropped): the buffer goes
        // into flight, and the trampoline rebuilds `Self` from its parts.
        let (mut io, buf) = unsafe { (core::ptr::read(&this.io), core::mem::ManuallyDrop::take(&mut this.buf)) };
        // Whether the clone is embedded is found again on completion, by its
        // address (`trampoline`), so it need not travel.
        let (mut clone, pool, _embedded) = buf.into_parts();
        // The per-bio data is ours and outlives the clone (the base bio is
        // not ended before `done` runs).
        // SAFETY: As above; the trampoline is valid for this clone, and the
        // pool identity travels in the per-bio data to rejoin the clone.
        unsafe {
            let pb = io.p.as_mut();
            pb.buf_fn = Some(done);
            pb.clone_pool = pool.as_ptr();
            clone.set_end_io(Some(Self::trampoline), io.p.as_ptr().cast());
        }
        (io, clone)
    }

    /// # Safety
    ///
    /// Called by the kernel for a clone set up by [`Self::into_flight`].
    unsafe extern "C" fn trampoline(clone: *mut bindings::bio) {
        // Set up by `into_flight`: the clone is valid and owned by this
        // completion; its private pointer is the per-bio data of a base bio
        // that is not ended, which holds the rest of the buffer's parts (an
        // embedded clone is the bio in that per-bio data).
        // SAFETY: As above.
        unsafe {
            let Some(clone) = Bio::from_raw(clone) else { return };
            let p = clone.private().cast::<PerBio<T, S>>();
            let Some(f) = (*p).buf_fn.take() else { return };
            let Some(ident) = NonNull::new((*p).clone_pool) else { return };
            let embedded = clone.as_ptr() == (*p).buf_bio.get();
            let base = bindings::rcrypt_dm_bio_from_per_bio_data(p.cast(), (*p).size);
            if let (Some(p), Some(base)) = (NonNull::new(p), Bio::from_raw(base)) {
                let buf = core::mem::ManuallyDrop::new(PoolBio::from_parts(clone, ident, embedded));
                f(BufferedIo { io: Io { p, base }, buf });
            }
        }
    }
}

/// A buffered I/O dropped without being released or submitted releases its
/// buffer, then its I/O fails ([`Io`]'s `Drop`).
impl<T: IoTarget, S> Drop for BufferedIo<T, S> {
    fn drop(&mut self) {
        // SAFETY: The buffer is released once (type invariant): `release` and
        // `into_flight` take it without dropping `self`.
        let buf = unsafe { core::mem::ManuallyDrop::take(&mut self.buf) };
        self.io.target().page_pool().release(buf);
    }
}
