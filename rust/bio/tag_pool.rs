// SPDX-License-Identifier: GPL-2.0

//! The integrity tags of a bio (dm-crypt's `io->integrity_metadata` and
//! `tag_pool`): one buffer per bio, a tuple of metadata per encryption
//! sector, which the bio's integrity payload carries to the device below.
//!
//! C headers: `include/linux/mempool.h`, `include/linux/slab.h`.

use crate::bindings;
use core::ptr::NonNull;
use kernel::error::code::{EINVAL, ENOMEM};
use kernel::prelude::*;

/// dm-crypt's `tag_pool`: a kmalloc mempool of `elem_size`-byte tag
/// buffers, the fallback when a bio's tags cannot be kmalloc'd at once.
///
/// # Invariants
///
/// `pool` is a valid kmalloc mempool of `elem_size`-byte elements,
/// destroyed on drop after every [`TagBuf`] taken from it came back.
pub(crate) struct TagPool {
    pool: NonNull<bindings::mempool_t>,
    elem_size: usize,
}

// SAFETY: A mempool is not tied to the thread that made it: any thread may
// allocate from it, free to it or destroy it.
unsafe impl Send for TagPool {}
// SAFETY: `&TagPool` allocates elements, which a mempool (with its own lock)
// allows from any number of threads at once.
unsafe impl Sync for TagPool {}

impl TagPool {
    /// A pool keeping `min_nr` buffers of `elem_size` bytes.
    pub(crate) fn new(min_nr: u32, elem_size: usize) -> Result<Self> {
        let min_nr = i32::try_from(min_nr).map_err(|_| EINVAL)?;
        // SAFETY: `mempool_create_kmalloc_pool` has no precondition: it
        // allocates and returns a new pool, or null.
        let pool = unsafe { bindings::rcrypt_mempool_create_kmalloc_pool(min_nr, elem_size) };
        // INVARIANT: A new kmalloc mempool of `elem_size`-byte elements.
        Ok(Self {
            pool: NonNull::new(pool).ok_or(ENOMEM)?,
            elem_size,
        })
    }

    /// `len` bytes from kmalloc, zeroed with `zero` (else unfilled: see
    /// [`TagBuf`]), without retrying or dipping into the reserves
    /// (dm-crypt's first try); `None` if that fails.
    pub(crate) fn try_kmalloc(&self, len: usize, zero: bool) -> Option<TagBuf> {
        if len == 0 {
            return None;
        }
        // SAFETY: The helper has no precondition: it returns `len` bytes of
        // kmalloc memory, zeroed if `zero`, or null.
        let p = NonNull::new(unsafe { bindings::rcrypt_tag_kmalloc(len, zero) }.cast::<u8>())?;
        // INVARIANT: `len` bytes of kmalloc memory, this buffer's, zeroed
        // (so initialised) if `filled`.
        Some(TagBuf {
            ptr: p,
            len,
            pool: None,
            filled: zero,
        })
    }

    /// `len` bytes of a pool buffer, zeroed with `zero` (else unfilled),
    /// waiting for one to come back if none is free (GFP_NOIO: the context
    /// must allow sleeping). `EINVAL` if `len` is 0 or larger than a pool
    /// buffer.
    pub(crate) fn alloc(&self, len: usize, zero: bool) -> Result<TagBuf> {
        if len == 0 || len > self.elem_size {
            return Err(EINVAL);
        }
        // SAFETY: `mempool_alloc` needs an initialised mempool, which `pool`
        // is until `drop` (type invariant).
        let p = unsafe {
            bindings::rcrypt_mempool_alloc(self.pool.as_ptr(), bindings::RCRYPT_GFP_NOIO)
        };
        let p = NonNull::new(p.cast::<u8>()).ok_or(ENOMEM)?;
        if zero {
            // SAFETY: A pool element holds `elem_size >= len` writable bytes,
            // nobody else's.
            unsafe { core::ptr::write_bytes(p.as_ptr(), 0, len) };
        }
        // INVARIANT: `len` bytes of a kmalloc'd pool element, this buffer's,
        // zeroed (so initialised) if `filled`; the pool outlives the buffer
        // (`TagBuf`'s invariant is the user's to keep: see there).
        Ok(TagBuf {
            ptr: p,
            len,
            pool: Some(self.pool),
            filled: zero,
        })
    }
}

impl Drop for TagPool {
    fn drop(&mut self) {
        // SAFETY: `mempool_destroy` needs a mempool whose elements have all
        // come back and that is destroyed once: a target drops its pool only
        // when destroyed, when none of its bios, which hold the buffers, is
        // left (type invariant); this is the pool's drop.
        unsafe { bindings::mempool_destroy(self.pool.as_ptr()) };
    }
}

/// The tag buffer of one bio: `len` bytes of kmalloc memory (so in the
/// linear map), from kmalloc or from a [`TagPool`], freed on drop. A buffer
/// for a write is zeroed when taken and its tuples are filled while the
/// data is encrypted; a buffer for a read is not (dm-crypt's are not
/// either): it is unfilled, its bytes are not reachable, until the read that
/// carried it as its integrity payload has completed without error
/// ([`Self::set_filled`]), having written every byte of it.
///
/// # Invariants
///
/// `ptr` points to `len` bytes of kmalloc memory that only this value
/// reaches, initialised if `filled`: a kmalloc allocation if `pool` is
/// `None`, else an element of that mempool, which outlives this value (a
/// target's buffers live in the per-bio data of its bios, which end before
/// the target is destroyed).
pub(crate) struct TagBuf {
    ptr: NonNull<u8>,
    len: usize,
    pool: Option<NonNull<bindings::mempool_t>>,
    filled: bool,
}

// SAFETY: The buffer is plain memory, freed by whichever thread drops it
// (kfree and mempool_free allow any thread).
unsafe impl Send for TagBuf {}

impl TagBuf {
    /// Length in bytes.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// The bytes `from..from + len`; `None` beyond the buffer, or if it is
    /// unfilled.
    pub(crate) fn bytes_mut(&mut self, from: usize, len: usize) -> Option<&mut [u8]> {
        let to = from.checked_add(len)?;
        if to > self.len || !self.filled {
            return None;
        }
        // SAFETY: `from..to` lies inside the `len` bytes this value owns,
        // which are initialised since it is filled (type invariant; both
        // checked), borrowed mutably for as long as the slice.
        Some(unsafe { core::slice::from_raw_parts_mut(self.ptr.as_ptr().add(from), len) })
    }

    /// Whether the buffer is filled (its bytes reachable).
    pub(crate) fn is_filled(&self) -> bool {
        self.filled
    }

    /// Marks the buffer filled: its bytes become reachable.
    ///
    /// # Safety
    ///
    /// Every one of the `len` bytes has been written since the buffer was
    /// taken: it was the whole integrity payload of a read that completed
    /// without error, which the device below filled with the metadata of
    /// each of its sectors (by DMA or by copy: a device that reports a
    /// read done without writing its metadata breaks its own contract).
    pub(crate) unsafe fn set_filled(&mut self) {
        // INVARIANT: The `len` bytes are initialised (the caller's
        // guarantee).
        self.filled = true;
    }

    /// The buffer's address, for a bio's integrity payload.
    pub(crate) fn as_ptr(&self) -> *mut u8 {
        self.ptr.as_ptr()
    }
}

impl Drop for TagBuf {
    fn drop(&mut self) {
        match self.pool {
            // SAFETY: `mempool_free` needs an element of that pool that
            // nothing uses any more: `ptr` is one, the pool outlives this
            // value (type invariant), and this is the drop (no bio carries
            // the buffer any more: the user of `as_ptr` keeps it alive
            // until its bio is done).
            Some(pool) => unsafe {
                bindings::mempool_free(self.ptr.as_ptr().cast(), pool.as_ptr())
            },
            // SAFETY: `ptr` is a kmalloc allocation (type invariant) that
            // nothing uses any more, freed once, here.
            None => unsafe { bindings::rcrypt_kfree(self.ptr.as_ptr().cast()) },
        }
    }
}
