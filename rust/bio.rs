// SPDX-License-Identifier: GPL-2.0

//! Block I/O requests (`struct bio`).
//!
//! C header: `include/linux/bio.h`.

use crate::bindings;
use core::marker::PhantomData;
use core::ptr::NonNull;

/// A bio handed to a target's map function.
///
/// # Invariants
///
/// `ptr` points to a valid `struct bio` that the holder may use for `'a`.
pub(crate) struct Bio<'a> {
    #[allow(dead_code)]
    ptr: NonNull<bindings::bio>,
    _p: PhantomData<&'a mut bindings::bio>,
}

impl<'a> Bio<'a> {
    /// # Safety
    ///
    /// `ptr` must point to a valid bio owned by the caller for `'a`.
    pub(crate) unsafe fn from_raw(ptr: *mut bindings::bio) -> Option<Self> {
        Some(Self {
            ptr: NonNull::new(ptr)?,
            _p: PhantomData,
        })
    }
}
