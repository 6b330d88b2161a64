// SPDX-License-Identifier: GPL-2.0

//! What a target gets from its table and gives back: the devices it opens
//! (`struct dm_dev`), constructor and message arguments, the status buffer
//! and the queue limits.
//!
//! C header: `include/linux/device-mapper.h`.

use crate::bindings;
use crate::blkdev::BlockDevice;
use core::fmt;
use core::ptr::NonNull;
use kernel::ffi::{c_char, c_uint};
use kernel::str::CStr;

/// A device opened by a target (`struct dm_dev`), released on drop.
///
/// # Invariants
///
/// `dev` was returned by `dm_get_device(ti, ...)` and not yet put, and
/// `bdev` is its block device (`dev->bdev`), open while `dev` is; `ti`
/// outlives this value (it is kept in the target's private data, which is
/// dropped by the target's destructor, or dropped during the constructor).
pub(crate) struct TargetDevice {
    ti: NonNull<bindings::dm_target>,
    dev: NonNull<bindings::dm_dev>,
    bdev: NonNull<bindings::block_device>,
}

// SAFETY: A `dm_dev` is not tied to the thread that opened it: any thread
// may use its block device and release it (`dm_put_device` takes the
// table's own lock).
unsafe impl Send for TargetDevice {}
// SAFETY: `&TargetDevice` only reads the `dm_dev` (its name, fixed while it
// is open) and hands out its block device, which the block layer lets any
// number of threads use at once.
unsafe impl Sync for TargetDevice {}

impl TargetDevice {
    /// Takes over `dev`, opened for `ti` by `dm_get_device`; puts it back if
    /// it has no block device.
    ///
    /// # Safety
    ///
    /// `dev` was returned by `dm_get_device(ti, ...)` and is not put by
    /// anyone else; `ti` outlives the result.
    pub(super) unsafe fn new(
        ti: NonNull<bindings::dm_target>,
        dev: NonNull<bindings::dm_dev>,
    ) -> Option<Self> {
        // SAFETY: `dev` is a `dm_dev` open for `ti` (the caller's guarantee),
        // so valid to read.
        match NonNull::new(unsafe { (*dev.as_ptr()).bdev }) {
            // INVARIANT: `dev` is open for `ti` and `bdev` is its block device.
            Some(bdev) => Some(Self { ti, dev, bdev }),
            None => {
                // SAFETY: `dev` was opened for `ti`, which is valid, and nobody
                // else puts it (the caller's guarantee): it is put once, here.
                unsafe { bindings::dm_put_device(ti.as_ptr(), dev.as_ptr()) };
                None
            }
        }
    }

    /// The block device (`dev->bdev`), open as long as `self`.
    pub(crate) fn bdev(&self) -> BlockDevice<'_> {
        // SAFETY: `BlockDevice::from_raw`'s contract: `bdev` stays open until
        // `dm_put_device` in `drop` (type invariant), which cannot run while
        // `self` is borrowed.
        unsafe { BlockDevice::from_raw(self.bdev) }
    }

    /// The `struct dm_dev`, for device-mapper's callouts.
    pub(super) fn as_ptr(&self) -> *mut bindings::dm_dev {
        self.dev.as_ptr()
    }

    /// The device's logical block size in bytes.
    pub(crate) fn logical_block_size(&self) -> u32 {
        self.bdev().logical_block_size()
    }

    /// Whether the device is rotational ([`BlockDevice::is_rotational`]).
    pub(crate) fn is_rotational(&self) -> bool {
        self.bdev().is_rotational()
    }

    /// Whether the device is zoned ([`BlockDevice::is_zoned`]).
    pub(crate) fn is_zoned(&self) -> bool {
        self.bdev().is_zoned()
    }

    /// The device's block integrity profile, if it has one.
    pub(crate) fn integrity(&self) -> Option<crate::blkdev::IntegrityProfile> {
        self.bdev().integrity()
    }

    /// The device's name as device-mapper shows it in tables (`major:minor`).
    pub(crate) fn name(&self) -> &CStr {
        // SAFETY: `dev` is valid until `drop` puts it (type invariant), and
        // its `name` is a NUL-terminated array that device-mapper fills when
        // it opens the device and does not change while it is open.
        unsafe { CStr::from_char_ptr((*self.dev.as_ptr()).name.as_ptr()) }
    }
}

impl Drop for TargetDevice {
    fn drop(&mut self) {
        // SAFETY: `dev` was opened for `ti`, which is still valid, and not yet
        // put (type invariant); it is put once, here.
        unsafe { bindings::dm_put_device(self.ti.as_ptr(), self.dev.as_ptr()) };
    }
}

/// Arguments of a constructor or message: device-mapper's `argc`/`argv`.
///
/// # Invariants
///
/// Every pointer in `argv` points to a NUL-terminated string that stays valid
/// and is not accessed by anyone else for `'a`.
pub(crate) struct Args<'a> {
    argv: &'a [*mut c_char],
}

impl<'a> Args<'a> {
    /// # Safety
    ///
    /// `argv` must point to `argc` valid pointers to NUL-terminated strings,
    /// valid and not accessed by anyone else for `'a`.
    pub(crate) unsafe fn from_raw(argc: c_uint, argv: *mut *mut c_char) -> Self {
        let argv = if argc == 0 || argv.is_null() {
            &[][..]
        } else {
            // SAFETY: `argv` is non-null and points to `argc` initialised
            // pointers that stay valid and unchanged for `'a` (the caller's
            // guarantee).
            unsafe { core::slice::from_raw_parts(argv, argc as usize) }
        };
        // INVARIANT: The caller's guarantee.
        Self { argv }
    }

    /// Number of arguments.
    pub(crate) fn len(&self) -> usize {
        self.argv.len()
    }

    /// Argument `i` as bytes, without its NUL.
    pub(crate) fn get(&self, i: usize) -> Option<&[u8]> {
        let p = *self.argv.get(i)?;
        // SAFETY: `p` is a NUL-terminated string valid for `'a` that nothing
        // else accesses (type invariant), and `wipe`, which writes it, needs
        // `&mut self`, so it cannot change while the result borrows `self`.
        Some(unsafe { CStr::from_char_ptr(p) }.as_bytes())
    }

    /// Overwrites argument `i` with `'0'` characters (same length), as dm-crypt
    /// does to the key argument so that no key stays in table memory.
    pub(crate) fn wipe(&mut self, i: usize) {
        let Some(&p) = self.argv.get(i) else { return };
        // SAFETY: `p` is a NUL-terminated string valid for `'a` that nothing
        // else accesses (type invariant).
        let len = unsafe { CStr::from_char_ptr(p) }.len();
        // SAFETY: The `len` bytes before the NUL at `p` are writable: the
        // arguments are device-mapper's own copy of the table or message
        // line, split in place (`dm_split_args`), which nothing else
        // accesses (type invariant); `&mut self` means no string from `get`
        // is borrowed. The NUL stays.
        unsafe { core::ptr::write_bytes(p, b'0', len) };
    }
}

/// The output buffer of a status call, written like C's `DMEMIT`.
///
/// # Invariants
///
/// `buf` is the writable result buffer of `maxlen` bytes; `sz < maxlen` and
/// `buf[sz]` is NUL whenever `maxlen > 0`.
pub(crate) struct StatusWriter<'a> {
    buf: &'a mut [u8],
    sz: usize,
}

impl<'a> StatusWriter<'a> {
    /// # Safety
    ///
    /// `result` must be valid for writes of `maxlen` bytes for `'a`.
    pub(super) unsafe fn from_raw(result: *mut c_char, maxlen: c_uint) -> Self {
        let buf = if result.is_null() || maxlen == 0 {
            &mut [][..]
        } else {
            // SAFETY: `result` is non-null and valid for writes of `maxlen`
            // bytes for `'a` (the caller's guarantee), which a `u8` slice
            // may hold whatever they were.
            unsafe { core::slice::from_raw_parts_mut(result, maxlen as usize) }
        };
        if let Some(b) = buf.first_mut() {
            *b = 0;
        }
        // INVARIANT: `sz` is 0, and `buf[0]` is NUL if there is one.
        Self { buf, sz: 0 }
    }

    /// Appends formatted text, truncating like `snprintf` when the buffer is full
    /// (device-mapper then retries with a larger buffer).
    pub(crate) fn emit(&mut self, args: fmt::Arguments<'_>) {
        let _ = fmt::Write::write_fmt(self, args);
    }
}

impl StatusWriter<'_> {
    /// Appends raw bytes (table arguments need not be UTF-8), truncating like
    /// [`Self::emit`].
    pub(crate) fn emit_bytes(&mut self, bytes: &[u8]) {
        let room = self.room();
        let n = bytes.len().min(room.len());
        for (d, s) in room.iter_mut().zip(bytes) {
            *d = *s;
        }
        self.advance(n);
    }

    /// The free bytes before the last one, which the terminating NUL needs
    /// (type invariant): empty when the buffer is full or empty.
    fn room(&mut self) -> &mut [u8] {
        let end = self.buf.len().saturating_sub(1);
        self.buf.get_mut(self.sz..end).unwrap_or_default()
    }

    /// Counts `n` bytes written to the start of [`Self::room`] and
    /// terminates the text after them.
    fn advance(&mut self, n: usize) {
        // At most the room: `sz` stays below the buffer's length.
        self.sz = self.sz.saturating_add(n);
        if let Some(nul) = self.buf.get_mut(self.sz) {
            *nul = 0;
        }
    }
}

impl StatusWriter<'_> {
    /// Appends `bytes` as lower-case hex digits, two per byte, written
    /// straight into the result buffer (no `core::fmt` buffer on the stack
    /// holds them: for keys), truncating like [`Self::emit`].
    pub(crate) fn emit_hex(&mut self, bytes: &[u8]) {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let room = self.room();
        let n = room.len().min(bytes.len().saturating_mul(2));
        let digits = bytes.iter().flat_map(|b| [b >> 4, b & 0xf]);
        for (slot, nibble) in room.iter_mut().zip(digits) {
            if let Some(digit) = DIGITS.get(usize::from(nibble)) {
                *slot = *digit;
            }
        }
        self.advance(n);
    }
}

impl fmt::Write for StatusWriter<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.emit_bytes(s.as_bytes());
        Ok(())
    }
}

/// The queue limits a target may adjust in `io_hints` (`struct queue_limits`).
pub(crate) struct QueueLimits<'a> {
    pub(super) limits: &'a mut bindings::queue_limits,
}

impl QueueLimits<'_> {
    /// Raises the logical and physical block size and `io_min` to at least
    /// `size`, and with `align` sets the DMA alignment to the logical block
    /// size, as dm-crypt's `crypt_io_hints` does (without, it stays what the
    /// devices below stacked).
    pub(crate) fn raise_block_size(&mut self, size: u32, align: bool) {
        let l = &mut *self.limits;
        l.logical_block_size = l.logical_block_size.max(size);
        l.physical_block_size = l.physical_block_size.max(size);
        l.io_min = l.io_min.max(size);
        if align {
            l.dma_alignment = l.logical_block_size.saturating_sub(1);
        }
    }

    /// Raises the DMA alignment mask to at least `mask`.
    pub(crate) fn raise_dma_alignment(&mut self, mask: u32) {
        let l = &mut *self.limits;
        l.dma_alignment = l.dma_alignment.max(mask);
    }

    /// Lowers the largest request (`max_hw_sectors`, in 512-byte sectors)
    /// to at most `sectors`: device-mapper splits bios to it.
    pub(crate) fn cap_max_hw_sectors(&mut self, sectors: u32) {
        let l = &mut *self.limits;
        l.max_hw_sectors = l.max_hw_sectors.min(sectors);
    }
}
