// SPDX-License-Identifier: GPL-2.0

//! Device-mapper target abstraction.
//!
//! C header: `include/linux/device-mapper.h`.
//!
//! A target type implements [`TargetOperations`]; [`Registration`] registers
//! it with device-mapper for as long as the registration lives (normally the
//! module's lifetime). The constructor returns the per-target private data,
//! which device-mapper keeps in `ti->private` and which is dropped by the
//! destructor. Everything `unsafe` about device-mapper's types lives in
//! this directory, one file per C type; bios live in [`crate::bio`].
//!
//! - [`target`]: [`TargetOperations`] and the target instance ([`Target`]).
//! - [`registration`]: [`Registration`] and the C entry points.
//! - [`table`]: the devices a target opens ([`TargetDevice`]), its
//!   arguments ([`Args`]), status buffer ([`StatusWriter`]) and queue limits.
//! - [`io`]: a bio taken over by a target ([`Io`]) in its per-bio data, and
//!   what the I/O types ask of the target ([`IoTarget`]).
//! - [`buffered`] and [`write_thread`]: the parts shaped for a crypt target:
//!   an I/O with a write buffer ([`BufferedIo`]) and the thread that submits
//!   write buffers in sector order ([`WriteThread`]).

use crate::bindings;

mod buffered;
mod io;
mod registration;
mod table;
mod target;
mod write_thread;

pub(crate) use buffered::BufferedIo;
pub(crate) use io::{Io, IoParts, IoTarget};
pub(crate) use registration::Registration;
pub(crate) use table::{Args, QueueLimits, StatusWriter, TargetDevice};
pub(crate) use target::{CtrError, MapResult, StatusType, Target, TargetOperations};
// For targets with an `end_io` (none yet).
#[allow(unused_imports)]
pub(crate) use target::EndIo;
pub(crate) use write_thread::WriteThread;

/// `DMWARN(msg)`: "device-mapper: rcrypt: msg" at warning level.
pub(crate) fn dm_warn(msg: &core::ffi::CStr) {
    // SAFETY: `msg` is a NUL-terminated string, valid for the call; the
    // helper prints it as the argument of a `%s`, not as the format.
    unsafe { bindings::rcrypt_dm_log(false, msg.as_ptr().cast()) }
}

/// `DMERR(msg)`: "device-mapper: rcrypt: msg" at error level.
pub(crate) fn dm_err(msg: &core::ffi::CStr) {
    // SAFETY: `msg` is a NUL-terminated string, valid for the call; the
    // helper prints it as the argument of a `%s`, not as the format.
    unsafe { bindings::rcrypt_dm_log(true, msg.as_ptr().cast()) }
}

/// dm-crypt's rate-limited message for a sector of `bio` whose integrity
/// tag does not verify: "<dev>: INTEGRITY AEAD ERROR, sector <n>".
pub(crate) fn integrity_error(bio: &crate::bio::Bio, sector: u64) {
    // SAFETY: The helper prints the name of the bio's block device, which
    // is valid while the bio is held (a bio keeps its device), and a number.
    unsafe { crate::bindings::rcrypt_dm_integrity_error(bio.bdev_ptr(), sector) };
}
