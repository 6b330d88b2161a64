// SPDX-License-Identifier: GPL-2.0

//! Registration of a target type (`struct target_type`) and the C entry
//! points that forward to [`TargetOperations`].
//!
//! C header: `include/linux/device-mapper.h`.

use super::table::{Args, QueueLimits, StatusWriter};
use super::target::{EndIo, MapResult, StatusType, Target, TargetOperations};
use crate::bindings;
use crate::bio::{Bio, BlkStatus};
use core::marker::PhantomData;
use kernel::error::code::*;
use kernel::ffi::{c_char, c_int, c_uint};
use kernel::prelude::*;
use kernel::str::CStr;
use kernel::types::Opaque;
use kernel::ThisModule;

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
        // An operation the target does not implement must not even be
        // named: its default body is a `build_error`, which would reach the
        // module (an `if` on the constant keeps it out; `then_some` would
        // take its address).
        macro_rules! op {
            ($has:ident, $f:ident) => {
                if T::$has {
                    Some(Adapter::<T>::$f)
                } else {
                    None
                }
            };
        }
        let tt = bindings::target_type {
            features,
            name: name.as_char_ptr(),
            module: module.as_ptr().cast(),
            version,
            ctr: Some(Adapter::<T>::ctr),
            dtr: Some(Adapter::<T>::dtr),
            map: Some(Adapter::<T>::map),
            status: op!(HAS_STATUS, status),
            iterate_devices: op!(HAS_ITERATE_DEVICES, iterate_devices),
            io_hints: op!(HAS_IO_HINTS, io_hints),
            message: op!(HAS_MESSAGE, message),
            end_io: op!(HAS_END_IO, end_io),
            presuspend: op!(HAS_PRESUSPEND, presuspend),
            postsuspend: op!(HAS_POSTSUSPEND, postsuspend),
            preresume: op!(HAS_PRERESUME, preresume),
            resume: op!(HAS_RESUME, resume),
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
            Some(f) => unsafe { f(ti, dev.as_ptr(), start, len, data) },
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
