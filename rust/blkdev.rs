// SPDX-License-Identifier: GPL-2.0

//! Block devices (`struct block_device`), borrowed from whoever opened them.
//!
//! C header: `include/linux/blkdev.h`.

use crate::bindings;
use core::marker::PhantomData;
use core::ptr::NonNull;
use kernel::types::Opaque;

/// A block device borrowed for `'a` from the one who holds it open (for a
/// target, its [`crate::dm::TargetDevice`]).
///
/// # Invariants
///
/// `bdev` points to a block device that stays open, and so valid, for `'a`.
#[derive(Clone, Copy)]
pub(crate) struct BlockDevice<'a> {
    bdev: NonNull<bindings::block_device>,
    _p: PhantomData<&'a bindings::block_device>,
}

impl<'a> BlockDevice<'a> {
    /// # Safety
    ///
    /// `bdev` must point to a block device that stays open for `'a`.
    pub(crate) unsafe fn from_raw(bdev: NonNull<bindings::block_device>) -> Self {
        // INVARIANT: The caller's guarantee.
        Self {
            bdev,
            _p: PhantomData,
        }
    }

    /// The C pointer, valid for `'a`.
    pub(crate) fn as_ptr(self) -> *mut bindings::block_device {
        self.bdev.as_ptr()
    }

    /// The device's logical block size in bytes.
    pub(crate) fn logical_block_size(self) -> u32 {
        // SAFETY: The helper reads the device's queue limits: `bdev` is an
        // open, so valid, block device for `'a` (type invariant).
        unsafe { bindings::rcrypt_bdev_logical_block_size(self.as_ptr()) }
    }

    /// Whether the device is rotational (its queue's `rotational` flag, which
    /// may change at any time through sysfs).
    pub(crate) fn is_rotational(self) -> bool {
        // SAFETY: The helper reads the device's queue flags: `bdev` is an
        // open, so valid, block device for `'a` (type invariant).
        unsafe { bindings::rcrypt_bdev_rotational(self.as_ptr()) }
    }

    /// Whether the device is zoned (`bdev_is_zoned`).
    pub(crate) fn is_zoned(self) -> bool {
        // SAFETY: The helper reads the device's queue limits: `bdev` is an
        // open, so valid, block device for `'a` (type invariant).
        unsafe { bindings::rcrypt_bdev_is_zoned(self.as_ptr()) }
    }

    /// The device's block integrity profile, if it has one.
    pub(crate) fn integrity(self) -> Option<IntegrityProfile> {
        let (mut csum_none, mut tuple_size, mut interval) = (false, 0u32, 0u32);
        // SAFETY: The helper reads the device's integrity profile into the
        // three locals, which are writable: `bdev` is an open, so valid,
        // block device for `'a` (type invariant).
        let has = unsafe {
            bindings::rcrypt_bdev_integrity(
                self.as_ptr(),
                &mut csum_none,
                &mut tuple_size,
                &mut interval,
            )
        };
        has.then_some(IntegrityProfile {
            csum_none,
            tuple_size,
            interval,
        })
    }
}

/// Runs `f` under a block plug (`blk_start_plug` .. `blk_finish_plug`): the
/// bios the current task submits meanwhile are held back and dispatched
/// together at the end, merged where they are adjacent.
pub(crate) fn with_plug<R>(f: impl FnOnce() -> R) -> R {
    let plug = Opaque::<bindings::blk_plug>::uninit();
    // SAFETY: `blk_start_plug` keeps a pointer to `plug` in the current task
    // until `blk_finish_plug`: `plug` is writable and stays in place (this
    // frame) until `blk_finish_plug` below, which `f` cannot skip (no
    // unwinding in the kernel).
    unsafe { bindings::blk_start_plug(plug.get()) };
    let r = f();
    // SAFETY: `blk_finish_plug` needs a plug `blk_start_plug` started in
    // this task and still in place: `plug`, above (a plug `f` starts while
    // this one is in force is nested, and does not replace it).
    unsafe { bindings::blk_finish_plug(plug.get()) };
    r
}

/// A block device's integrity profile (`struct blk_integrity`): what
/// dm-crypt's `crypt_integrity_ctr()` reads of it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct IntegrityProfile {
    /// No checksum (`BLK_INTEGRITY_CSUM_NONE`): the metadata is free for
    /// the target's tags (dm-integrity; NVMe metadata without protection
    /// information).
    pub(crate) csum_none: bool,
    /// Bytes of metadata per interval.
    pub(crate) tuple_size: u32,
    /// Bytes of data per metadata tuple (`1 << interval_exp`).
    pub(crate) interval: u32,
}
