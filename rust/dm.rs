// SPDX-License-Identifier: GPL-2.0

//! Device-mapper target abstraction.
//!
//! C header: `include/linux/device-mapper.h`.
//!
//! A target type implements [`TargetOperations`]; [`Registration`] registers
//! it with device-mapper for as long as the registration lives (normally the
//! module's lifetime). The constructor returns the per-target private data,
//! which device-mapper keeps in `ti->private` and which is dropped by the
//! destructor. Everything `unsafe` about `struct dm_target` and
//! `struct target_type` lives in this file; bios live in [`crate::bio`].

use crate::bindings;
use crate::bio::{BioCursor, BioSet, BlkStatus, Bio, PagePool, PoolBio, PoolPage};
use crate::wq::WorkQueue;
use core::fmt;
use core::marker::PhantomData;
use core::ptr::NonNull;
use kernel::error::{code::*, Error};
use kernel::ffi::{c_char, c_int, c_uint};
use kernel::prelude::*;
use kernel::str::CStr;
use kernel::types::Opaque;
use kernel::ThisModule;

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
    fn to_c(self) -> c_int {
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

    /// Adjusts the queue limits of the mapped device.
    fn io_hints(&self, _target: &Target<'_>, _limits: &mut QueueLimits<'_>) {
        kernel::build_error(kernel::error::VTABLE_DEFAULT_ERROR)
    }

    /// Handles a message (`dmsetup message`); `out` is the reply buffer.
    fn message(&self, _target: &Target<'_>, _args: &mut Args<'_>, _out: &mut StatusWriter<'_>) -> Result {
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
    unsafe fn from_raw(ptr: *mut bindings::dm_target) -> Option<Self> {
        Some(Self {
            ptr: NonNull::new(ptr)?,
            _p: PhantomData,
        })
    }

    fn raw(&self) -> &bindings::dm_target {
        // SAFETY: By the type invariant `ptr` is valid for `'a`.
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
        // SAFETY: The target's table is valid for `'a` and names its mapped
        // device with a NUL-terminated string that lives as long as it.
        unsafe { CStr::from_char_ptr(bindings::dm_table_device_name(self.raw().table)) }
    }

    /// Sector of a bio relative to the target's start (`dm_target_offset`).
    pub(crate) fn offset_of(&self, sector: u64) -> u64 {
        sector.wrapping_sub(self.begin())
    }

    /// Lets only the first `sectors` of `bio` reach this target now; device-
    /// mapper sends the rest in another bio (`dm_accept_partial_bio`).
    pub(crate) fn accept_partial_bio(&self, bio: &Bio, sectors: u32) {
        // SAFETY: `bio` is the bio being mapped by this target.
        unsafe { bindings::dm_accept_partial_bio(bio.as_ptr(), sectors) };
    }

    fn raw_mut(&mut self) -> &mut bindings::dm_target {
        // SAFETY: By the type invariant `ptr` is valid and `&mut self` is the
        // only one mutating it (constructor).
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

    /// Whether dm core sends discards to the target (`num_discard_bios`).
    pub(crate) fn discards_enabled(&self) -> bool {
        self.raw().num_discard_bios != 0
    }

    /// Reserves per-bio data for [`Io`] values of type `Io<T, S>`, followed
    /// by a byte area of at least `area` bytes ([`Io::parts_mut`]), or of
    /// none if that size does not fit device-mapper's 32-bit field (users of
    /// the area see its length).
    pub(crate) fn set_per_io_data<T, S>(&mut self, area: usize) {
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
        // SAFETY: `ti` is valid (type invariant) and in its constructor, so its
        // table is valid; `path` is NUL-terminated; `dev` is a valid out pointer.
        let ret = unsafe {
            let mode = bindings::dm_table_get_mode((*ti).table);
            bindings::dm_get_device(ti, path.as_ptr().cast(), mode, &mut dev)
        };
        kernel::error::to_result(ret)?;
        let dev = NonNull::new(dev).ok_or(EINVAL)?;
        Ok(TargetDevice { ti: self.ptr, dev })
    }
}

/// A device opened by a target (`struct dm_dev`), released on drop.
///
/// # Invariants
///
/// `dev` was returned by `dm_get_device(ti, ...)` and not yet put; `ti`
/// outlives this value (it is kept in the target's private data, which is
/// dropped by the target's destructor, or dropped during the constructor).
pub(crate) struct TargetDevice {
    ti: NonNull<bindings::dm_target>,
    dev: NonNull<bindings::dm_dev>,
}

// SAFETY: A `dm_dev` may be used and released from any thread.
unsafe impl Send for TargetDevice {}
// SAFETY: Shared access only reads immutable properties of the device.
unsafe impl Sync for TargetDevice {}

impl TargetDevice {
    /// The block device (`dev->bdev`), for the bio wrappers.
    pub(crate) fn bdev(&self) -> *mut bindings::block_device {
        // SAFETY: `dev` is a valid opened device (type invariant).
        unsafe { (*self.dev.as_ptr()).bdev }
    }

    /// The device's logical block size in bytes.
    pub(crate) fn logical_block_size(&self) -> u32 {
        // SAFETY: The bdev of an opened device is valid.
        unsafe { bindings::rcrypt_bdev_logical_block_size(self.bdev()) }
    }

    /// Whether the device is rotational (its queue's `rotational` flag, which
    /// may change at any time through sysfs).
    pub(crate) fn is_rotational(&self) -> bool {
        // SAFETY: The bdev of an opened device is valid.
        unsafe { bindings::rcrypt_bdev_rotational(self.bdev()) }
    }

    /// Whether the device carries a block integrity profile.
    pub(crate) fn has_integrity(&self) -> bool {
        // SAFETY: `dev` is a valid opened device (type invariant), so its bdev is valid.
        unsafe { bindings::rcrypt_bdev_has_integrity((*self.dev.as_ptr()).bdev) }
    }

    /// The device's name as device-mapper shows it in tables (`major:minor`).
    pub(crate) fn name(&self) -> &CStr {
        // SAFETY: `name` is a NUL-terminated array inside the valid `dm_dev`,
        // which lives as long as `self`.
        unsafe { CStr::from_char_ptr((*self.dev.as_ptr()).name.as_ptr()) }
    }
}

impl Drop for TargetDevice {
    fn drop(&mut self) {
        // SAFETY: By the type invariant `dev` was opened for `ti` and not yet put.
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
            // SAFETY: The caller guarantees `argc` valid pointers at `argv`.
            unsafe { core::slice::from_raw_parts(argv, argc as usize) }
        };
        Self { argv }
    }

    /// Number of arguments.
    pub(crate) fn len(&self) -> usize {
        self.argv.len()
    }

    /// Argument `i` as bytes, without its NUL.
    pub(crate) fn get(&self, i: usize) -> Option<&[u8]> {
        let p = *self.argv.get(i)?;
        // SAFETY: By the type invariant `p` is a valid NUL-terminated string for
        // `'a`, and `&self` prevents `wipe` from mutating it while borrowed.
        Some(unsafe { CStr::from_char_ptr(p) }.as_bytes())
    }

    /// Overwrites argument `i` with `'0'` characters (same length), as dm-crypt
    /// does to the key argument so that no key stays in table memory.
    pub(crate) fn wipe(&mut self, i: usize) {
        let Some(&p) = self.argv.get(i) else { return };
        // SAFETY: By the type invariant `p` is a valid NUL-terminated string;
        // `&mut self` guarantees no outstanding borrow from `get`.
        let len = unsafe { CStr::from_char_ptr(p) }.len();
        // SAFETY: `p..p+len` is the writable string (device-mapper owns a
        // mutable copy of the table line); the NUL terminator stays.
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
    unsafe fn from_raw(result: *mut c_char, maxlen: c_uint) -> Self {
        let buf = if result.is_null() || maxlen == 0 {
            &mut [][..]
        } else {
            // SAFETY: The caller guarantees `maxlen` writable bytes at `result`.
            unsafe { core::slice::from_raw_parts_mut(result, maxlen as usize) }
        };
        if let Some(b) = buf.first_mut() {
            *b = 0;
        }
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

/// A registered device-mapper target type.
///
/// # Invariants
///
/// While `registered`, `tt` is on device-mapper's list of target types and
/// must neither move nor be freed: it is only reachable behind `Pin<KBox<_>>`.
#[pin_data(PinnedDrop)]
pub(crate) struct Registration<T: TargetOperations> {
    #[pin]
    tt: Opaque<bindings::target_type>,
    registered: bool,
    _p: PhantomData<T>,
}

// SAFETY: The registration only holds the C type descriptor, which device-mapper
// reads under its own locking; `T` is `Send + Sync`.
unsafe impl<T: TargetOperations> Send for Registration<T> {}
// SAFETY: See `Send`; `&Registration` exposes nothing.
unsafe impl<T: TargetOperations> Sync for Registration<T> {}

impl<T: TargetOperations> Registration<T> {
    /// Registers target type `name` (version `version`) owned by `module`.
    pub(crate) fn register(
        name: &'static CStr,
        version: [u32; 3],
        features: u64,
        module: &'static ThisModule,
    ) -> Result<Pin<KBox<Self>>> {
        let tt = bindings::target_type {
            features,
            name: name.as_char_ptr(),
            module: module.as_ptr().cast(),
            version,
            ctr: Some(Adapter::<T>::ctr),
            dtr: Some(Adapter::<T>::dtr),
            map: Some(Adapter::<T>::map),
            status: if T::HAS_STATUS {
                Some(Adapter::<T>::status)
            } else {
                None
            },
            iterate_devices: if T::HAS_ITERATE_DEVICES {
                Some(Adapter::<T>::iterate_devices)
            } else {
                None
            },
            io_hints: if T::HAS_IO_HINTS {
                Some(Adapter::<T>::io_hints)
            } else {
                None
            },
            message: if T::HAS_MESSAGE {
                Some(Adapter::<T>::message)
            } else {
                None
            },
            end_io: if T::HAS_END_IO {
                Some(Adapter::<T>::end_io)
            } else {
                None
            },
            presuspend: if T::HAS_PRESUSPEND {
                Some(Adapter::<T>::presuspend)
            } else {
                None
            },
            postsuspend: if T::HAS_POSTSUSPEND {
                Some(Adapter::<T>::postsuspend)
            } else {
                None
            },
            preresume: if T::HAS_PRERESUME {
                Some(Adapter::<T>::preresume)
            } else {
                None
            },
            resume: if T::HAS_RESUME {
                Some(Adapter::<T>::resume)
            } else {
                None
            },
            ..Default::default()
        };
        let mut this = KBox::pin(
            Self {
                tt: Opaque::new(tt),
                registered: false,
                _p: PhantomData,
            },
            GFP_KERNEL,
        )?;
        // SAFETY: `tt` is pinned in a heap allocation that outlives the
        // registration (dropping `Self` unregisters first).
        let ret = unsafe { bindings::dm_register_target(this.tt.get()) };
        kernel::error::to_result(ret)?;
        // SAFETY: `registered` is not structurally pinned.
        unsafe { this.as_mut().get_unchecked_mut() }.registered = true;
        Ok(this)
    }
}

#[pinned_drop]
impl<T: TargetOperations> PinnedDrop for Registration<T> {
    fn drop(self: Pin<&mut Self>) {
        if self.registered {
            // SAFETY: `tt` was registered by `register` and not yet unregistered.
            unsafe { bindings::dm_unregister_target(self.tt.get()) };
        }
    }
}

/// The C entry points of a target type, forwarding to `T`.
struct Adapter<T: TargetOperations>(PhantomData<T>);

impl<T: TargetOperations> Adapter<T> {
    /// # Safety
    ///
    /// Called by device-mapper with a valid target and `argc` valid arguments.
    unsafe extern "C" fn ctr(ti: *mut bindings::dm_target, argc: c_uint, argv: *mut *mut c_char) -> c_int {
        // SAFETY: device-mapper passes a valid target that only this ctr touches.
        let Some(mut target) = (unsafe { Target::from_raw(ti) }) else {
            return EINVAL.to_errno();
        };
        // SAFETY: device-mapper passes `argc` valid strings that it owns until ctr returns.
        let mut args = unsafe { Args::from_raw(argc, argv) };
        match T::ctr(&mut target, &mut args) {
            Ok(private) => {
                // SAFETY: `ti` is valid (checked above); the private pointer is
                // reclaimed by `dtr`.
                unsafe { (*ti).private = KBox::into_raw(private).cast() };
                0
            }
            Err(e) => {
                // SAFETY: `ti` is valid; `msg` is a static string, which is what
                // device-mapper expects in `ti->error`.
                unsafe { (*ti).error = e.msg.as_ptr().cast_mut().cast() };
                e.err.to_errno()
            }
        }
    }

    /// # Safety
    ///
    /// `ti->private` must have been set by a successful `ctr` of `T`.
    unsafe extern "C" fn dtr(ti: *mut bindings::dm_target) {
        // SAFETY: device-mapper calls dtr with a valid target.
        let private = unsafe { (*ti).private }.cast::<T>();
        if private.is_null() {
            return;
        }
        // SAFETY: `private` came from `KBox::into_raw` in `ctr`; dtr runs once.
        drop(unsafe { KBox::from_raw(private) });
        // SAFETY: `ti` is valid.
        unsafe { (*ti).private = core::ptr::null_mut() };
    }

    /// # Safety
    ///
    /// Called by device-mapper with a constructed target and a valid bio.
    unsafe extern "C" fn map(ti: *mut bindings::dm_target, bio: *mut bindings::bio) -> c_int {
        // SAFETY: `ti` is a valid constructed target for the duration of the call.
        let Some(target) = (unsafe { Target::from_raw(ti) }) else {
            return MapResult::Kill.to_c();
        };
        // SAFETY: `private` was set by `ctr` to a `T` that lives until `dtr`,
        // which device-mapper never runs concurrently with `map`.
        let this = unsafe { &*(*ti).private.cast::<T>() };
        // SAFETY: device-mapper hands over a valid bio owned by this call.
        let Some(bio) = (unsafe { Bio::from_raw(bio) }) else {
            return MapResult::Kill.to_c();
        };
        this.map(&target, bio).to_c()
    }

    /// # Safety
    ///
    /// Called by device-mapper with a constructed target and a valid callout.
    unsafe extern "C" fn iterate_devices(
        ti: *mut bindings::dm_target,
        callout: bindings::iterate_devices_callout_fn,
        data: *mut core::ffi::c_void,
    ) -> c_int {
        // SAFETY: `ti` is a valid constructed target for the duration of the call.
        let Some(target) = (unsafe { Target::from_raw(ti) }) else {
            return 0;
        };
        // SAFETY: See `map`.
        let this = unsafe { &*(*ti).private.cast::<T>() };
        let (dev, start, len) = this.iterate_devices(&target);
        match callout {
            // SAFETY: device-mapper's callout takes the target, one of its
            // devices, a range and its own data pointer.
            Some(f) => unsafe { f(ti, dev.dev.as_ptr(), start, len, data) },
            None => 0,
        }
    }

    /// The constructed target and its private data, for the callbacks below.
    ///
    /// # Safety
    ///
    /// `ti` must be a constructed target of type `T`, valid for `'a`, whose
    /// destructor does not run during `'a`.
    unsafe fn this<'a>(ti: *mut bindings::dm_target) -> Option<(Target<'a>, &'a T)> {
        // SAFETY: Guaranteed by the caller.
        let target = unsafe { Target::from_raw(ti) }?;
        // SAFETY: `private` was set by `ctr` to a `T` that lives until `dtr`.
        let this = unsafe { (*ti).private.cast::<T>().as_ref() }?;
        Some((target, this))
    }

    /// # Safety
    ///
    /// Called by device-mapper with a constructed target and `argc` valid
    /// arguments and a reply buffer of `maxlen` bytes.
    unsafe extern "C" fn message(
        ti: *mut bindings::dm_target,
        argc: c_uint,
        argv: *mut *mut c_char,
        result: *mut c_char,
        maxlen: c_uint,
    ) -> c_int {
        // SAFETY: Called for a constructed target, during which dtr cannot run.
        let Some((target, this)) = (unsafe { Self::this(ti) }) else {
            return EINVAL.to_errno();
        };
        // SAFETY: device-mapper passes `argc` strings it owns during the call.
        let mut args = unsafe { Args::from_raw(argc, argv) };
        // SAFETY: device-mapper passes `maxlen` writable bytes at `result`.
        let mut out = unsafe { StatusWriter::from_raw(result, maxlen) };
        match this.message(&target, &mut args, &mut out) {
            Ok(()) => 0,
            Err(e) => e.to_errno(),
        }
    }

    /// # Safety
    ///
    /// Called by device-mapper with a constructed target, a completed bio of
    /// it and a valid status pointer.
    unsafe extern "C" fn end_io(ti: *mut bindings::dm_target, bio: *mut bindings::bio, error: *mut bindings::blk_status_t) -> c_int {
        // SAFETY: As in `message`.
        let Some((target, this)) = (unsafe { Self::this(ti) }) else {
            return bindings::DM_ENDIO_DONE as c_int;
        };
        // SAFETY: device-mapper passes the completing bio; it stays dm's.
        let Some(bio) = (unsafe { Bio::from_raw(bio) }) else {
            return bindings::DM_ENDIO_DONE as c_int;
        };
        // SAFETY: `error` points to the bio's status for the duration of the call.
        let Some(error) = (unsafe { error.as_mut() }) else {
            return bindings::DM_ENDIO_DONE as c_int;
        };
        let mut status = BlkStatus::from_raw(*error);
        let r = this.end_io(&target, &bio, &mut status);
        *error = status.to_raw();
        (match r {
            EndIo::Done => bindings::DM_ENDIO_DONE,
            EndIo::Incomplete => bindings::DM_ENDIO_INCOMPLETE,
            EndIo::Requeue => bindings::DM_ENDIO_REQUEUE,
        }) as c_int
    }

    /// # Safety
    ///
    /// Called by device-mapper with a constructed target.
    unsafe extern "C" fn presuspend(ti: *mut bindings::dm_target) {
        // SAFETY: As in `message`.
        if let Some((target, this)) = unsafe { Self::this(ti) } {
            this.presuspend(&target);
        }
    }

    /// # Safety
    ///
    /// Called by device-mapper with a constructed target.
    unsafe extern "C" fn postsuspend(ti: *mut bindings::dm_target) {
        // SAFETY: As in `message`.
        if let Some((target, this)) = unsafe { Self::this(ti) } {
            this.postsuspend(&target);
        }
    }

    /// # Safety
    ///
    /// Called by device-mapper with a constructed target.
    unsafe extern "C" fn preresume(ti: *mut bindings::dm_target) -> c_int {
        // SAFETY: As in `message`.
        match unsafe { Self::this(ti) } {
            Some((target, this)) => match this.preresume(&target) {
                Ok(()) => 0,
                Err(e) => e.to_errno(),
            },
            None => EINVAL.to_errno(),
        }
    }

    /// # Safety
    ///
    /// Called by device-mapper with a constructed target.
    unsafe extern "C" fn resume(ti: *mut bindings::dm_target) {
        // SAFETY: As in `message`.
        if let Some((target, this)) = unsafe { Self::this(ti) } {
            this.resume(&target);
        }
    }

    /// # Safety
    ///
    /// Called by device-mapper with a constructed target and valid limits.
    unsafe extern "C" fn io_hints(ti: *mut bindings::dm_target, limits: *mut bindings::queue_limits) {
        // SAFETY: `ti` is a valid constructed target for the duration of the call.
        let Some(target) = (unsafe { Target::from_raw(ti) }) else {
            return;
        };
        // SAFETY: See `map`.
        let this = unsafe { &*(*ti).private.cast::<T>() };
        // SAFETY: device-mapper passes limits that only this call changes.
        let Some(limits) = (unsafe { limits.as_mut() }) else {
            return;
        };
        this.io_hints(&target, &mut QueueLimits { limits });
    }

    /// # Safety
    ///
    /// Called by device-mapper with a constructed target and a writable buffer
    /// of `maxlen` bytes.
    unsafe extern "C" fn status(
        ti: *mut bindings::dm_target,
        ty: bindings::status_type_t,
        _flags: c_uint,
        result: *mut c_char,
        maxlen: c_uint,
    ) {
        // SAFETY: `ti` is a valid constructed target for the duration of the call.
        let Some(target) = (unsafe { Target::from_raw(ti) }) else {
            return;
        };
        // SAFETY: See `map`.
        let this = unsafe { &*(*ti).private.cast::<T>() };
        // SAFETY: device-mapper passes `maxlen` writable bytes at `result`.
        let mut out = unsafe { StatusWriter::from_raw(result, maxlen) };
        let ty = match ty {
            bindings::status_type_t_STATUSTYPE_INFO => StatusType::Info,
            bindings::status_type_t_STATUSTYPE_TABLE => StatusType::Table,
            bindings::status_type_t_STATUSTYPE_IMA => StatusType::Ima,
            _ => return,
        };
        this.status(&target, ty, &mut out);
    }
}

/// The queue limits a target may adjust in `io_hints` (`struct queue_limits`).
pub(crate) struct QueueLimits<'a> {
    limits: &'a mut bindings::queue_limits,
}

impl QueueLimits<'_> {
    /// Raises the logical and physical block size and `io_min` to at least
    /// `size`, and sets the DMA alignment to the logical block size, as
    /// dm-crypt's `crypt_io_hints` does.
    pub(crate) fn raise_block_size(&mut self, size: u32) {
        let l = &mut *self.limits;
        l.logical_block_size = l.logical_block_size.max(size);
        l.physical_block_size = l.physical_block_size.max(size);
        l.io_min = l.io_min.max(size);
        l.dma_alignment = l.logical_block_size.saturating_sub(1);
    }
}

/// A write thread (dm-crypt's `dmcrypt_write`): a kernel thread that
/// submits the clones given to [`BufferedIo::submit_sorted`] sorted by
/// sector under a block plug, named `rcrypt_write/<major:minor>`.
///
/// # Invariants
///
/// `wt` was set up by `rcrypt_write_thread_start`, whose thread runs until
/// `drop` stops it.
pub(crate) struct WriteThread {
    wt: KBox<Opaque<bindings::rcrypt_write_thread>>,
}

// SAFETY: The thread's state is guarded by its spinlock; any thread may queue.
unsafe impl Send for WriteThread {}
// SAFETY: As above.
unsafe impl Sync for WriteThread {}

impl WriteThread {
    /// Starts the write thread of the mapped device `target` (at nice -20
    /// with `high_priority`, as dm-crypt).
    pub(crate) fn new(target: &Target<'_>, high_priority: bool) -> Result<Self> {
        let wt = KBox::new(Opaque::<bindings::rcrypt_write_thread>::uninit(), GFP_KERNEL)?;
        // SAFETY: `wt` is writable and lives in a box whose address does not
        // change; the device name is copied into the thread's name.
        let r = unsafe {
            bindings::rcrypt_write_thread_start(wt.get(), target.device_name().as_char_ptr(), high_priority)
        };
        if r != 0 {
            return Err(Error::from_errno(r));
        }
        Ok(Self { wt })
    }
}

impl Drop for WriteThread {
    fn drop(&mut self) {
        // SAFETY: Started by `new` (type invariant) and stopped once; the
        // thread submits anything still queued before it stops.
        unsafe { bindings::rcrypt_write_thread_stop(self.wt.get()) };
    }
}

/// Per-bio data of a target: a work item, the completion steps, the
/// target's own per-bio state `S` and, after it, the byte area the target
/// asked for in [`Target::set_per_io_data`] (for dm-crypt's use of it: the
/// crypto request).
///
/// `#[repr(C)]` with the work item first, so that the work item's address is
/// the structure's; its size is a multiple of [`PER_BIO_ALIGN`] (checked
/// below), so the area that follows is aligned as device-mapper aligns the
/// per-bio data.
#[repr(C)]
pub(crate) struct PerBio<T, S> {
    work: Opaque<bindings::work_struct>,
    size: usize,
    target: *const T,
    work_fn: Option<fn(Io<T, S>)>,
    /// `Io::submit_to`: the completion step and what the bio had before.
    self_fn: Option<fn(Io<T, S>)>,
    saved_end_io: bindings::bio_end_io_t,
    saved_private: *mut core::ffi::c_void,
    saved_cursor: Option<BioCursor>,
    /// `BufferedIo`: the completion step, the pool and its identity.
    buf_fn: Option<fn(BufferedIo<T, S>)>,
    buf_pool: Option<fn(&T) -> &PagePool>,
    clone_pool: *mut crate::bio::PoolInner,
    sorted: Opaque<bindings::rcrypt_sorted_bio>,
    /// The write buffer's bio and its vectors when it fits here
    /// ([`Io::with_buffer`]).
    buf_bio: Opaque<bindings::bio>,
    buf_vecs: Opaque<[bindings::bio_vec; BUF_INLINE_VECS]>,
    state: S,
}

/// Pages a write buffer may have for its bio to live in the per-bio data
/// (a write of up to 16 KiB, or larger in compound pages, needs no bio from
/// the bio set).
pub(crate) const BUF_INLINE_VECS: usize = 4;

/// Alignment of per-bio data and of the area after [`PerBio`]: device-mapper
/// places per-bio data `per_io_data_size` bytes before its `dm_target_io`,
/// which is pointer-aligned, so a size that is a multiple of 8 keeps both
/// 8-byte aligned (`ARCH_KMALLOC_MINALIGN` on x86-64, what crypto requests need).
pub(crate) const PER_BIO_ALIGN: usize = 8;

/// The parts of an [`Io`] a target works with at once: the target, the bio,
/// its state and the per-bio area (uninitialised at first; the target's to
/// use until the bio ends).
pub(crate) struct IoParts<'a, T, S> {
    pub(crate) target: &'a T,
    pub(crate) bio: &'a Bio,
    pub(crate) state: &'a S,
    pub(crate) area: &'a mut [core::mem::MaybeUninit<u8>],
}

/// A bio taken over by a target (its map function returned `Submitted`),
/// with the target's state for it in device-mapper's per-bio data.
///
/// # Invariants
///
/// `p` points to the initialised per-bio data of `base`, whose target `T`
/// stays alive until `base` is ended (device-mapper does not destroy a
/// target with bios in flight). `base` has not been ended.
pub(crate) struct Io<T, S> {
    p: NonNull<PerBio<T, S>>,
    base: Bio,
}

// SAFETY: The per-bio data moves between threads with its bio; `T` is
// `Sync` (a target) and `S` is `Send`.
unsafe impl<T: Sync, S: Send> Send for Io<T, S> {}

impl<T, S> Io<T, S> {
    /// The target.
    pub(crate) fn target(&self) -> &T {
        // SAFETY: The target outlives its bios (type invariant).
        unsafe { &*self.p.as_ref().target }
    }
}

impl<T: Sync, S: Send> Io<T, S> {
    /// Takes over `bio` for `this` target with per-bio state `state`. Fails
    /// (giving the bio back) if the target did not reserve per-bio data of
    /// this type with [`Target::set_per_io_data`].
    pub(crate) fn new(target: &Target<'_>, bio: Bio, this: &T, state: S) -> Result<Self, Bio> {
        const { assert!(core::mem::size_of::<PerBio<T, S>>() % PER_BIO_ALIGN == 0) };
        let size = target.raw().per_io_data_size as usize;
        if size < core::mem::size_of::<PerBio<T, S>>() || size % PER_BIO_ALIGN != 0 {
            return Err(bio);
        }
        // SAFETY: The bio is being mapped by a target with `size` bytes of
        // per-bio data, suitably aligned by device-mapper.
        let p = unsafe { bindings::rcrypt_dm_per_bio_data(bio.as_ptr(), size) }.cast::<PerBio<T, S>>();
        let Some(p) = NonNull::new(p) else { return Err(bio) };
        // SAFETY: `p` is writable per-bio data of the right size, owned by
        // this bio; the work item is initialised before any use.
        unsafe {
            p.as_ptr().write(PerBio {
                work: Opaque::uninit(),
                size,
                target: this,
                work_fn: None,
                self_fn: None,
                saved_end_io: None,
                saved_private: core::ptr::null_mut(),
                saved_cursor: None,
                buf_fn: None,
                buf_pool: None,
                clone_pool: core::ptr::null_mut(),
                sorted: Opaque::uninit(),
                buf_bio: Opaque::uninit(),
                buf_vecs: Opaque::uninit(),
                state,
            });
        }
        Ok(Self { p, base: bio })
    }

    /// The bio.
    pub(crate) fn bio(&self) -> &Bio {
        &self.base
    }

    /// The target's per-bio state.
    pub(crate) fn state(&self) -> &S {
        // SAFETY: Initialised by `new`; `Io` is the only handle to it.
        unsafe { &self.p.as_ref().state }
    }

    /// The target, the bio, the target's state and the per-bio area at once.
    pub(crate) fn parts_mut(&mut self) -> IoParts<'_, T, S> {
        let p = self.p.as_ptr();
        // The per-bio data is `size` bytes, `PerBio` first (checked by `new`);
        // the area after it is only reachable through `&mut self`, and `Io` is
        // the only handle to the per-bio data. The target outlives its bios.
        // SAFETY: As above (type invariants of `Io`).
        unsafe {
            let len = (*p).size.saturating_sub(core::mem::size_of::<PerBio<T, S>>());
            let area = p.add(1).cast::<core::mem::MaybeUninit<u8>>();
            IoParts {
                target: &*(*p).target,
                bio: &self.base,
                state: &(*p).state,
                area: core::slice::from_raw_parts_mut(area, len),
            }
        }
    }

    /// Runs `f` with this I/O from the target's work queue `wq` (in process
    /// context).
    pub(crate) fn queue(mut self, wq: fn(&T) -> &WorkQueue, f: fn(Io<T, S>)) {
        let wq: *const WorkQueue = wq(self.target());
        // SAFETY: The per-bio data is ours (type invariant); the work item is initialised
        // here and queued once; `Self` is forgotten and rebuilt by `work_trampoline`;
        // the work queue belongs to the target, which outlives its bios.
        unsafe {
            let wq = &*wq;
            let pb = self.p.as_mut();
            pb.work_fn = Some(f);
            bindings::rcrypt_init_work(pb.work.get(), Some(Self::work_trampoline));
            bindings::rcrypt_queue_work(wq.as_ptr(), pb.work.get());
        }
        core::mem::forget(self);
    }

    /// # Safety
    ///
    /// Called by the kernel for a work item set up by [`Self::queue`].
    unsafe extern "C" fn work_trampoline(work: *mut bindings::work_struct) {
        // `work` is the first field of a `#[repr(C)]` `PerBio`.
        let p = work.cast::<PerBio<T, S>>();
        // SAFETY: Queued by `queue` with valid per-bio data whose bio is
        // not ended; the bio is recovered from its per-bio data.
        unsafe {
            let Some(f) = (*p).work_fn.take() else { return };
            let base = bindings::rcrypt_dm_bio_from_per_bio_data(p.cast(), (*p).size);
            if let (Some(p), Some(base)) = (NonNull::new(p), Bio::from_raw(base)) {
                f(Io { p, base });
            }
        }
    }

    /// Directs the bio at `sector` of the target's device `dev` and submits
    /// the bio itself, without a clone (dm-verity's way; dm-crypt clones
    /// reads instead): `done` runs with this I/O when the bio completes,
    /// its completion callback, private pointer and position put back as
    /// they were at submission, so that `done` sees the data as submitted
    /// and the status the device gave ([`Bio::status`]). `done` may run in
    /// interrupt context, so it must not sleep.
    pub(crate) fn submit_to(mut self, dev: fn(&T) -> &TargetDevice, sector: u64, done: fn(Io<T, S>)) {
        let dev: *const TargetDevice = dev(self.target());
        // SAFETY: The device belongs to the target, which outlives its bios
        // (type invariant).
        self.base.set_dev(unsafe { &*dev });
        self.base.set_sector(sector);
        let (end_io, private) = self.base.end_io();
        let cursor = self.base.cursor();
        // The per-bio data is ours (type invariant) and outlives the bio's
        // flight (the bio is not ended before `done` runs).
        // SAFETY: As above; the trampoline puts device-mapper's callback
        // back before anything can end the bio.
        unsafe {
            let pb = self.p.as_mut();
            pb.self_fn = Some(done);
            pb.saved_end_io = end_io;
            pb.saved_private = private;
            pb.saved_cursor = Some(cursor);
            self.base.set_end_io(Some(Self::self_trampoline), self.p.as_ptr().cast());
        }
        let this = core::mem::ManuallyDrop::new(self);
        // SAFETY: The base bio came to the target's map function and is not
        // ended (type invariant); its completion goes to the trampoline,
        // which rebuilds `Self`, so `this` is not used again.
        unsafe { core::ptr::read(&this.base).submit_remap_self() };
    }

    /// # Safety
    ///
    /// Called by the kernel for a bio submitted by [`Self::submit_to`].
    unsafe extern "C" fn self_trampoline(bio: *mut bindings::bio) {
        // Set up by `submit_to`: the bio is a base bio that is not ended (its
        // device-mapper completion has not run).
        // SAFETY: As above; its private pointer is its per-bio data, and the
        // saved cursor was taken from it.
        unsafe {
            let Some(mut base) = Bio::from_raw(bio) else { return };
            let p = base.private().cast::<PerBio<T, S>>();
            let Some(f) = (*p).self_fn.take() else { return };
            base.set_end_io((*p).saved_end_io, (*p).saved_private);
            if let Some(cursor) = (*p).saved_cursor.take() {
                base.restore_cursor(&cursor);
            }
            if let Some(p) = NonNull::new(p) {
                f(Io { p, base });
            }
        }
    }

    /// This I/O with a write buffer: a bio for the target's device `dev`
    /// with room for `nr_pages` pages of the target's page pool `pool`, and
    /// the operation, flags and I/O priority of the I/O's bio. Up to
    /// [`BUF_INLINE_VECS`] pages the bio lives in the per-bio data (no
    /// allocation); else it comes from the bio set `bs`, waiting for one with
    /// `wait` (GFP_NOIO) and not without (GFP_NOWAIT, for `map`, where bios
    /// of the same set may wait on the submitter's bio list). Gives the I/O
    /// back if there is no bio.
    pub(crate) fn with_buffer(
        mut self,
        dev: fn(&T) -> &TargetDevice,
        bs: fn(&T) -> &BioSet,
        pool: fn(&T) -> &PagePool,
        nr_pages: u32,
        wait: bool,
    ) -> Result<BufferedIo<T, S>, Self> {
        let t: *const T = self.target();
        // SAFETY: The target outlives its bios (type invariant); `t` is not
        // used past this I/O.
        let (dev, pp) = unsafe { (dev(&*t), pool(&*t)) };
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
            // SAFETY: As above.
            let bs = bs(unsafe { &*t });
            match bs.alloc_bio(dev, nr, &self.base, wait).map(|b| pp.make_bio(b)) {
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
        // SAFETY: The per-bio data is ours (type invariant).
        unsafe { self.p.as_mut().buf_pool = Some(pool) };
        Ok(BufferedIo { io: self, buf: core::mem::ManuallyDrop::new(buf), pool })
    }

    /// Hands the base bio over to `clone`'s completion (which rebuilds
    /// `Self`) and submits the clone through device-mapper, which then
    /// accounts the base bio's I/O to the mapped device, as for dm-crypt
    /// (the target sets `accounts_remapped_io`).
    fn submit_remap(self, clone: Bio) {
        let this = core::mem::ManuallyDrop::new(self);
        // SAFETY: The base bio came to the target's map function and is not
        // ended (type invariant); it stays valid until the clone's completion
        // ends it. `this` is not used again: the trampoline rebuilds it.
        unsafe { clone.submit_remap(&this.base) };
    }

    /// Ends the bio with `status`.
    pub(crate) fn end(self, status: BlkStatus) {
        // SAFETY: The state was initialised by `new` and is dropped once, here.
        unsafe { core::ptr::drop_in_place(core::ptr::addr_of_mut!((*self.p.as_ptr()).state)) };
        self.take_base().end(status);
    }

    fn take_base(self) -> Bio {
        let this = core::mem::ManuallyDrop::new(self);
        // SAFETY: `this` is never used again.
        unsafe { core::ptr::read(&this.base) }
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
/// once; `pool` is the target's page pool it came from.
pub(crate) struct BufferedIo<T, S> {
    io: Io<T, S>,
    buf: core::mem::ManuallyDrop<PoolBio>,
    pool: fn(&T) -> &PagePool,
}

impl<T: Sync, S: Send> BufferedIo<T, S> {
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
        (this.pool)(io.target()).release(buf);
        io
    }

    /// Submits the buffer and runs `done` with this I/O and buffer when it
    /// completes; `done` may run in interrupt context, so it must not sleep.
    pub(crate) fn submit(self, done: fn(BufferedIo<T, S>)) {
        let (io, clone) = self.into_flight(done);
        io.submit_remap(clone);
    }

    /// Like [`Self::submit`], but the buffer is submitted by the target's
    /// write thread `thread`, in sector order with the other writes queued
    /// there (dm-crypt's `kcryptd_crypt_write_io_submit` into `dmcrypt_write`).
    pub(crate) fn submit_sorted(self, done: fn(BufferedIo<T, S>), thread: fn(&T) -> &WriteThread) {
        let thread: *const WriteThread = thread(self.io.target());
        let (io, clone) = self.into_flight(done);
        // The base bio (not ended: type invariant of `Io`) passes with the
        // clone to the thread, which submits the clone through device-mapper;
        // the clone's completion rebuilds `Self`, so `io` is not used again.
        // The sorting node lives in the per-bio data, valid until that
        // completion ends the base bio; the thread erases it before submitting.
        let io = core::mem::ManuallyDrop::new(io);
        // SAFETY: As above; the thread belongs to the target, which outlives
        // its bios.
        unsafe {
            bindings::rcrypt_write_thread_submit(
                (*thread).wt.get(),
                (*io.p.as_ptr()).sorted.get(),
                io.base.as_ptr(),
                clone.as_ptr(),
            );
        }
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
        // not ended before `done` runs); the pool accessor is already there
        // (`with_buffer`).
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
            let (Some(pool), Some(ident)) = ((*p).buf_pool, NonNull::new((*p).clone_pool)) else { return };
            let embedded = clone.as_ptr() == (*p).buf_bio.get();
            let base = bindings::rcrypt_dm_bio_from_per_bio_data(p.cast(), (*p).size);
            if let (Some(p), Some(base)) = (NonNull::new(p), Bio::from_raw(base)) {
                let buf = core::mem::ManuallyDrop::new(PoolBio::from_parts(clone, ident, embedded));
                f(BufferedIo { io: Io { p, base }, buf, pool });
            }
        }
    }
}

/// A buffered I/O dropped without being released or submitted releases its
/// buffer, then its I/O fails ([`Io`]'s `Drop`).
impl<T, S> Drop for BufferedIo<T, S> {
    fn drop(&mut self) {
        // SAFETY: The buffer is released once (type invariant): `release` and
        // `into_flight` take it without dropping `self`.
        let buf = unsafe { core::mem::ManuallyDrop::take(&mut self.buf) };
        (self.pool)(self.io.target()).release(buf);
    }
}

/// An `Io` dropped without being ended or handed on fails its bio, so that
/// no bio is ever left hanging.
impl<T, S> Drop for Io<T, S> {
    fn drop(&mut self) {
        // SAFETY: The state was initialised by `new` and not yet dropped (it is
        // only dropped here or in `end`, which does not run `Drop`).
        unsafe { core::ptr::drop_in_place(core::ptr::addr_of_mut!((*self.p.as_ptr()).state)) };
        // SAFETY: The base bio is not ended (type invariant) and `self` is gone
        // after this; `Bio` has no destructor of its own.
        let base = unsafe { core::ptr::read(&self.base) };
        base.end(BlkStatus::IOERR);
    }
}

/// `DMWARN(msg)`: "device-mapper: rcrypt: msg" at warning level.
pub(crate) fn dm_warn(msg: &core::ffi::CStr) {
    // SAFETY: `msg` is a NUL-terminated string; the helper only prints it.
    unsafe { bindings::rcrypt_dm_log(false, msg.as_ptr().cast()) }
}

/// `DMERR(msg)`: "device-mapper: rcrypt: msg" at error level.
pub(crate) fn dm_err(msg: &core::ffi::CStr) {
    // SAFETY: As in [`dm_warn`].
    unsafe { bindings::rcrypt_dm_log(true, msg.as_ptr().cast()) }
}
