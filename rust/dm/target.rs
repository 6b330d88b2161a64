// SPDX-License-Identifier: GPL-2.0

//! The target type's operations and a target instance (`struct dm_target`).
//!
//! C header: `include/linux/device-mapper.h`.

use super::io::{IoTarget, PerBio, PER_BIO_ALIGN};
use super::table::{Args, QueueLimits, StatusWriter, TargetDevice};
use crate::bindings;
use crate::bio::{Bio, BlkStatus};
use core::marker::PhantomData;
use core::ptr::NonNull;
use kernel::error::{code::*, Error};
use kernel::ffi::c_int;
use kernel::prelude::*;
use kernel::str::CStr;

/// Why a constructor failed: a static message (shown as `ti->error`) and an error code.
pub(crate) struct CtrError {
    /// The message device-mapper logs, e.g. "Invalid iv_offset sector".
    pub(crate) msg: &'static core::ffi::CStr,
    /// The error returned to device-mapper (`-EINVAL` for bad tables).
    pub(crate) err: Error,
}

impl CtrError {
    /// A table error: `msg` with `-EINVAL`.
    pub(crate) fn inval(msg: &'static core::ffi::CStr) -> Self {
        Self { msg, err: EINVAL }
    }

    /// An error with a specific error code.
    pub(crate) fn new(msg: &'static core::ffi::CStr, err: Error) -> Self {
        Self { msg, err }
    }
}

/// Which status device-mapper asks for (`status_type_t`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum StatusType {
    /// `dmsetup status`.
    Info,
    /// `dmsetup table`.
    Table,
    /// The IMA measurement string.
    Ima,
}

/// What the map function decided for a bio (`DM_MAPIO_*`).
// rcrypt never requeues; the variant is part of the wrapper for other targets.
#[allow(dead_code)]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum MapResult {
    /// The target submitted or will complete the bio itself (`DM_MAPIO_SUBMITTED`).
    Submitted,
    /// The bio was remapped; device-mapper submits it (`DM_MAPIO_REMAPPED`).
    Remapped,
    /// Fail the bio with an I/O error (`DM_MAPIO_KILL`).
    Kill,
    /// Requeue the bio (`DM_MAPIO_REQUEUE`).
    Requeue,
}

impl MapResult {
    pub(super) fn to_c(self) -> c_int {
        let v = match self {
            MapResult::Submitted => bindings::DM_MAPIO_SUBMITTED,
            MapResult::Remapped => bindings::DM_MAPIO_REMAPPED,
            MapResult::Kill => bindings::DM_MAPIO_KILL,
            MapResult::Requeue => bindings::DM_MAPIO_REQUEUE,
        };
        v as c_int
    }
}

/// What `end_io` decided (`DM_ENDIO_*`).
// No target of this module implements end_io yet.
#[allow(dead_code)]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum EndIo {
    /// The bio is complete (`DM_ENDIO_DONE`).
    Done,
    /// The target will complete it later (`DM_ENDIO_INCOMPLETE`).
    Incomplete,
    /// Requeue it (`DM_ENDIO_REQUEUE`).
    Requeue,
}

/// The operations of a device-mapper target type.
///
/// `ctr` and `map` are mandatory; the others are registered only when the
/// implementation defines them (`#[vtable]`).
#[vtable]
pub(crate) trait TargetOperations: Sized + Send + Sync {
    /// Parses the table arguments and builds the target's private data.
    fn ctr(target: &mut Target<'_>, args: &mut Args<'_>) -> Result<KBox<Self>, CtrError>;

    /// Maps one bio. With [`MapResult::Remapped`] the bio goes back to
    /// device-mapper (the target redirected it); with `Submitted` the target
    /// took it over (`Ok(())` is returned when `bio` was moved into an [`Io`]).
    fn map(&self, target: &Target<'_>, bio: Bio) -> MapResult;

    /// Reports the devices under the target: (device, start sector, length).
    fn iterate_devices(&self, _target: &Target<'_>) -> (&TargetDevice, u64, u64) {
        kernel::build_error(kernel::error::VTABLE_DEFAULT_ERROR)
    }

    /// The device and start sector whose zones are the target's
    /// (`report_zones`, with `dm_report_zones`): only for a target type
    /// registered with `DM_TARGET_ZONED_HM`.
    fn zoned_device(&self, _target: &Target<'_>) -> (&TargetDevice, u64) {
        kernel::build_error(kernel::error::VTABLE_DEFAULT_ERROR)
    }

    /// Adjusts the queue limits of the mapped device.
    fn io_hints(&self, _target: &Target<'_>, _limits: &mut QueueLimits<'_>) {
        kernel::build_error(kernel::error::VTABLE_DEFAULT_ERROR)
    }

    /// Handles a message (`dmsetup message`); `out` is the reply buffer.
    fn message(
        &self,
        _target: &Target<'_>,
        _args: &mut Args<'_>,
        _out: &mut StatusWriter<'_>,
    ) -> Result {
        kernel::build_error(kernel::error::VTABLE_DEFAULT_ERROR)
    }

    /// Inspects a completed bio before device-mapper ends it (`end_io`).
    fn end_io(&self, _target: &Target<'_>, _bio: &Bio, _status: &mut BlkStatus) -> EndIo {
        kernel::build_error(kernel::error::VTABLE_DEFAULT_ERROR)
    }

    /// Called before the device suspends (I/O may still be in flight).
    fn presuspend(&self, _target: &Target<'_>) {
        kernel::build_error(kernel::error::VTABLE_DEFAULT_ERROR)
    }

    /// Called once the device is suspended (no I/O in flight).
    fn postsuspend(&self, _target: &Target<'_>) {
        kernel::build_error(kernel::error::VTABLE_DEFAULT_ERROR)
    }

    /// Called before resuming; an error keeps the device suspended.
    fn preresume(&self, _target: &Target<'_>) -> Result {
        kernel::build_error(kernel::error::VTABLE_DEFAULT_ERROR)
    }

    /// Called when the device resumes.
    fn resume(&self, _target: &Target<'_>) {
        kernel::build_error(kernel::error::VTABLE_DEFAULT_ERROR)
    }

    /// Writes the target's status line of the given type.
    fn status(&self, _target: &Target<'_>, _ty: StatusType, _out: &mut StatusWriter<'_>) {
        kernel::build_error(kernel::error::VTABLE_DEFAULT_ERROR)
    }
}

/// A device-mapper target instance (`struct dm_target`).
///
/// # Invariants
///
/// `ptr` points to a valid `struct dm_target` for the lifetime `'a`, and the
/// holder of a `&mut Target` is the only one mutating it (device-mapper
/// serialises ctr and dtr of a target).
pub(crate) struct Target<'a> {
    ptr: NonNull<bindings::dm_target>,
    _p: PhantomData<&'a mut bindings::dm_target>,
}

impl<'a> Target<'a> {
    /// # Safety
    ///
    /// `ptr` must point to a valid `struct dm_target` for `'a`, and nothing
    /// else may mutate it during `'a` while a `&mut Target` exists.
    pub(super) unsafe fn from_raw(ptr: *mut bindings::dm_target) -> Option<Self> {
        // INVARIANT: The caller's guarantee.
        Some(Self {
            ptr: NonNull::new(ptr)?,
            _p: PhantomData,
        })
    }

    pub(super) fn raw(&self) -> &bindings::dm_target {
        // SAFETY: `ptr` is valid for `'a` (type invariant), and only the
        // holder of a `&mut Target` mutates it, which cannot happen while
        // `self` is borrowed.
        unsafe { self.ptr.as_ref() }
    }

    /// Length of the target in 512-byte sectors (`ti->len`).
    pub(crate) fn len(&self) -> u64 {
        self.raw().len
    }

    /// First sector of the target in the mapped device (`ti->begin`).
    #[allow(dead_code)]
    pub(crate) fn begin(&self) -> u64 {
        self.raw().begin
    }

    /// The mapped device's name, `major:minor` (`dm_table_device_name`).
    pub(crate) fn device_name(&self) -> &CStr {
        // SAFETY: The target's table is valid for `'a` (the target is, type
        // invariant); `dm_table_device_name` returns the mapped device's
        // name, a NUL-terminated string that lives, unchanged, as long as
        // the device, which outlives its tables.
        unsafe { CStr::from_char_ptr(bindings::dm_table_device_name(self.raw().table)) }
    }

    /// The name of the target type this target was made by
    /// (`ti->type->name`): the name the table used.
    pub(crate) fn type_name(&self) -> &CStr {
        // SAFETY: `ti->type` is set by device-mapper before the constructor
        // runs and points to the registered `struct target_type`, which
        // cannot be unregistered while one of its targets exists (the
        // module is pinned by the table); its `name` is the NUL-terminated
        // string given at registration, which lives as long as the
        // registration.
        unsafe { CStr::from_char_ptr((*self.raw().type_).name) }
    }

    /// Sector of a bio relative to the target's start (`dm_target_offset`).
    pub(crate) fn offset_of(&self, sector: u64) -> u64 {
        sector.wrapping_sub(self.begin())
    }

    /// Lets only the first `sectors` of `bio` reach this target now; device-
    /// mapper sends the rest in another bio (`dm_accept_partial_bio`).
    ///
    /// For the map function of this target only, with the bio it was given
    /// (which the types do not say: see `Io::new`).
    pub(crate) fn accept_partial_bio(&self, bio: &Bio, sectors: u32) {
        // SAFETY: `dm_accept_partial_bio` must be called from the map
        // function with the bio being mapped, whose `dm_target_io` it
        // updates: this function's contract.
        unsafe { bindings::dm_accept_partial_bio(bio.as_ptr(), sectors) };
    }

    fn raw_mut(&mut self) -> &mut bindings::dm_target {
        // SAFETY: `ptr` is valid for `'a`, and the holder of a `&mut Target`
        // is the only one that accesses it meanwhile (type invariant:
        // device-mapper runs the constructor alone).
        unsafe { self.ptr.as_mut() }
    }

    /// Sets how dm core sends flushes, discards and accounts I/O, as the
    /// constructor of dm-crypt does (`num_flush_bios`, `num_discard_bios`,
    /// `limit_swap_bios`, `accounts_remapped_io`).
    pub(crate) fn set_bio_policy(&mut self, flush_bios: u32, discard_bios: u32) {
        let t = self.raw_mut();
        t.num_flush_bios = flush_bios;
        t.num_discard_bios = discard_bios;
        t.set_limit_swap_bios(true);
        t.set_accounts_remapped_io(true);
    }

    /// Asks device-mapper to emulate zone append on the mapped device with
    /// regular writes (`emulate_zone_append`): the target then sees no
    /// `REQ_OP_ZONE_APPEND`, and must not split writes.
    pub(crate) fn set_emulate_zone_append(&mut self) {
        self.raw_mut().set_emulate_zone_append(true);
    }

    /// Whether dm core sends discards to the target (`num_discard_bios`).
    pub(crate) fn discards_enabled(&self) -> bool {
        self.raw().num_discard_bios != 0
    }

    /// Reserves per-bio data for [`Io`] values of type `Io<T, S>`, followed
    /// by a byte area of at least `area` bytes ([`Io::parts_mut`]), or of
    /// none if that size does not fit device-mapper's 32-bit field (users of
    /// the area see its length).
    pub(crate) fn set_per_io_data<T: IoTarget, S>(&mut self, area: usize) {
        let head = core::mem::size_of::<PerBio<T, S>>();
        let size = area
            .checked_next_multiple_of(PER_BIO_ALIGN)
            .and_then(|area| area.checked_add(head))
            .and_then(|size| u32::try_from(size).ok());
        self.raw_mut().per_io_data_size = size.unwrap_or(head as u32);
    }
}

impl Target<'_> {
    /// Opens the device at `path` for this target with the table's mode
    /// (`dm_get_device`); it is released when the returned value is dropped.
    pub(crate) fn get_device(&mut self, path: &core::ffi::CStr) -> Result<TargetDevice> {
        let ti = self.ptr.as_ptr();
        let mut dev: *mut bindings::dm_dev = core::ptr::null_mut();
        // SAFETY:
        // - `ti` is valid for `'a` (type invariant), and a `&mut Target`
        //   exists only in the constructor, where its table is valid too;
        // - `dm_get_device` is meant for the constructor, with a
        //   NUL-terminated path (valid for the call) and an out pointer
        //   (`dev`, a local).
        let ret = unsafe {
            let mode = bindings::dm_table_get_mode((*ti).table);
            bindings::dm_get_device(ti, path.as_ptr().cast(), mode, &mut dev)
        };
        kernel::error::to_result(ret)?;
        let dev = NonNull::new(dev).ok_or(EINVAL)?;
        // SAFETY: `TargetDevice::new`'s contract: `dev` was just opened for
        // this target and is put by nobody else; the target outlives its
        // devices if it keeps them in its private data, which its destructor
        // drops, or drops them during the constructor.
        unsafe { TargetDevice::new(self.ptr, dev) }.ok_or(EINVAL)
    }
}
