// SPDX-License-Identifier: GPL-2.0

//! The module's parameters, declared in `rust/helpers/params.c` like dm-crypt's:
//! `max_read_size` and `max_write_size` (bytes; 0 means the default), and
//! rcrypt's own `info_counters` and `crypt_alias`.

use crate::bindings;

/// `max_read_size` as it is now (it may change at any time through sysfs).
pub(crate) fn max_read_size() -> u32 {
    // SAFETY: `rcrypt_max_read_size` is a static `unsigned int`, so the
    // pointer is valid and aligned; the parameter code may write it at any
    // time, and a volatile read of an aligned `u32` is C's `READ_ONCE`, the
    // kernel's way to read such a value.
    unsafe { core::ptr::read_volatile(core::ptr::addr_of!(bindings::rcrypt_max_read_size)) }
}

/// `max_write_size` as it is now.
pub(crate) fn max_write_size() -> u32 {
    // SAFETY: `rcrypt_max_write_size` is a static `unsigned int`, so the
    // pointer is valid and aligned; the parameter code may write it at any
    // time, and a volatile read of an aligned `u32` is C's `READ_ONCE`.
    unsafe { core::ptr::read_volatile(core::ptr::addr_of!(bindings::rcrypt_max_write_size)) }
}

/// `info_counters`: whether the INFO status shows rcrypt's I/O counters.
pub(crate) fn info_counters() -> bool {
    // SAFETY: `rcrypt_info_counters` is a static C `bool`, so the pointer is
    // valid and aligned, and its byte is 0 or 1 (the parameter code stores
    // only those), a valid Rust `bool`; the volatile read is `READ_ONCE`.
    unsafe { core::ptr::read_volatile(core::ptr::addr_of!(bindings::rcrypt_info_counters)) }
}

/// `crypt_alias`: whether the module registers its target as `crypt` instead of `rcrypt`
/// (read-only after load).
pub(crate) fn crypt_alias() -> bool {
    // SAFETY: `rcrypt_crypt_alias` is a static C `bool`, so the pointer is
    // valid and aligned, and its byte is 0 or 1 (the parameter code stores
    // only those), a valid Rust `bool`; it is set before `init` runs and
    // read-only (0444) after, and the volatile read is `READ_ONCE`.
    unsafe { core::ptr::read_volatile(core::ptr::addr_of!(bindings::rcrypt_crypt_alias)) }
}

/// `BIO_MAX_VECS`: most pages one bio holds.
pub(crate) const BIO_MAX_VECS: u32 = bindings::RCRYPT_BIO_MAX_VECS;
/// `PAGE_SIZE`.
pub(crate) const PAGE_SIZE: u32 = bindings::RCRYPT_PAGE_SIZE as u32;

/// `KMALLOC_MAX_SIZE`: the largest kmalloc() allocation.
pub(crate) fn kmalloc_max_size() -> usize {
    // SAFETY: The helper has no precondition: it returns a constant.
    unsafe { bindings::rcrypt_kmalloc_max_size() }
}
