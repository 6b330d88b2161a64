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

// SAFETY: The registration holds only the C type descriptor (no `T`), which
// device-mapper reads under its own locking whatever thread registered it,
// and which any thread may unregister.
unsafe impl<T: TargetOperations> Send for Registration<T> {}
// SAFETY: `&Registration` gives access to nothing: it has no methods.
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
            #[cfg(CONFIG_BLK_DEV_ZONED)]
            report_zones: op!(HAS_ZONED_DEVICE, report_zones),
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
        // SAFETY: `dm_register_target` keeps `tt` on its list until
        // `dm_unregister_target`: `tt` is a complete target type (its entry
        // points are `Adapter<T>`'s, for `T`), pinned in a heap allocation
        // that is freed only after `drop` unregisters it.
        let ret = unsafe { bindings::dm_register_target(this.tt.get()) };
        kernel::error::to_result(ret)?;
        // SAFETY: Only the `registered` field is written; nothing is moved
        // out of the pinned value.
        unsafe { this.as_mut().get_unchecked_mut() }.registered = true;
        // INVARIANT: Registered just above, and pinned in its box.
        Ok(this)
    }
}

#[pinned_drop]
impl<T: TargetOperations> PinnedDrop for Registration<T> {
    fn drop(self: Pin<&mut Self>) {
        if self.registered {
            // SAFETY: `tt` was registered by `register` (`registered`) and is
            // unregistered once, here.
            unsafe { bindings::dm_unregister_target(self.tt.get()) };
        }
    }
}

/// The C entry points of a target type, forwarding to `T`.
struct Adapter<T: TargetOperations>(PhantomData<T>);

impl<T: TargetOperations> Adapter<T> {
    /// # Safety
    ///
    /// Called by device-mapper to construct a target of type `T`: `ti` is
    /// a valid target being constructed, which nothing else uses meanwhile,
    /// and `argv` holds `argc` NUL-terminated, writable strings that are
    /// device-mapper's until the call returns.
    unsafe extern "C" fn ctr(
        ti: *mut bindings::dm_target,
        argc: c_uint,
        argv: *mut *mut c_char,
    ) -> c_int {
        // SAFETY: `Target::from_raw`'s contract: `ti` is valid for the call
        // and nothing else uses it meanwhile (the caller's guarantee).
        let Some(mut target) = (unsafe { Target::from_raw(ti) }) else {
            return EINVAL.to_errno();
        };
        // SAFETY: `Args::from_raw`'s contract: `argv` holds `argc` strings that
        // nothing else uses during the call (the caller's guarantee).
        let mut args = unsafe { Args::from_raw(argc, argv) };
        match T::ctr(&mut target, &mut args) {
            Ok(private) => {
                // SAFETY: `ti` is valid and used by nothing else (the caller's
                // guarantee); `T::ctr` has returned, so no `Target` borrow is
                // in use. The box is reclaimed by `dtr`.
                unsafe { (*ti).private = KBox::into_raw(private).cast() };
                0
            }
            Err(e) => {
                // SAFETY: `ti` is valid and used by nothing else (as above);
                // `ti->error` takes a string device-mapper only reads, and
                // `msg` is static and NUL-terminated.
                unsafe { (*ti).error = e.msg.as_ptr().cast_mut().cast() };
                e.err.to_errno()
            }
        }
    }

    /// # Safety
    ///
    /// Called by device-mapper to destroy a target of type `T` that `ctr`
    /// constructed: `ti` is valid, with no I/O or other call in flight, and
    /// `ti->private` is what `ctr` set.
    unsafe extern "C" fn dtr(ti: *mut bindings::dm_target) {
        // SAFETY: `ti` is valid (the caller's guarantee).
        let private = unsafe { (*ti).private }.cast::<T>();
        if private.is_null() {
            return;
        }
        // SAFETY: `private` came from `KBox::into_raw` in `ctr`, and nothing
        // uses it any more (the caller's guarantee); it is cleared below, so
        // it is reclaimed once.
        drop(unsafe { KBox::from_raw(private) });
        // SAFETY: `ti` is valid and nothing else uses it (the caller's
        // guarantee).
        unsafe { (*ti).private = core::ptr::null_mut() };
    }

    /// # Safety
    ///
    /// Called by device-mapper to map `bio` to a target of type `T` that
    /// `ctr` constructed, not being destroyed: `ti` is valid for the call,
    /// and `bio` is valid and left to the target from now on.
    unsafe extern "C" fn map(ti: *mut bindings::dm_target, bio: *mut bindings::bio) -> c_int {
        // SAFETY: `Target::from_raw`'s contract: `ti` is valid for the call
        // (the caller's guarantee), and no `&mut Target` is made of it.
        let Some(target) = (unsafe { Target::from_raw(ti) }) else {
            return MapResult::Kill.to_c();
        };
        // SAFETY: `ti->private` is the `T` `ctr` made, which lives until
        // `dtr`, and device-mapper does not destroy the target during `map`
        // (the caller's guarantee).
        let this = unsafe { &*(*ti).private.cast::<T>() };
        // SAFETY: `bio` is valid and left to the target (the caller's
        // guarantee), which ends it, submits it or gives it back through
        // the map result.
        let Some(bio) = (unsafe { Bio::from_raw(bio) }) else {
            return MapResult::Kill.to_c();
        };
        this.map(&target, bio).to_c()
    }

    /// # Safety
    ///
    /// Called by device-mapper for a target of type `T` that `ctr`
    /// constructed, not being destroyed: `ti` is valid for the call, and
    /// `callout` is a callout that takes `ti`, one of its devices, a range
    /// and `data`.
    unsafe extern "C" fn iterate_devices(
        ti: *mut bindings::dm_target,
        callout: bindings::iterate_devices_callout_fn,
        data: *mut core::ffi::c_void,
    ) -> c_int {
        // SAFETY: `Target::from_raw`'s contract: `ti` is valid for the call
        // (the caller's guarantee), and no `&mut Target` is made of it.
        let Some(target) = (unsafe { Target::from_raw(ti) }) else {
            return 0;
        };
        // SAFETY: `ti->private` is the `T` `ctr` made, which lives until
        // `dtr`, and device-mapper does not destroy the target during the
        // call (the caller's guarantee).
        let this = unsafe { &*(*ti).private.cast::<T>() };
        let (dev, start, len) = this.iterate_devices(&target);
        match callout {
            // SAFETY: `f` takes the target, one of its devices (a `dm_dev`
            // it opened, open for as long as `this`), a range and the
            // caller's data pointer (the caller's guarantee).
            Some(f) => unsafe { f(ti, dev.as_ptr(), start, len, data) },
            None => 0,
        }
    }

    /// The constructed target and its private data, for the callbacks below.
    ///
    /// # Safety
    ///
    /// `ti` must be a constructed target of type `T`, valid for `'a`, whose
    /// destructor does not run during `'a`, and of which nothing makes a
    /// `&mut Target` during `'a`.
    unsafe fn this<'a>(ti: *mut bindings::dm_target) -> Option<(Target<'a>, &'a T)> {
        // SAFETY: `Target::from_raw`'s contract: `ti` is valid for `'a`, and
        // no `&mut Target` is made of it (the caller's guarantee).
        let target = unsafe { Target::from_raw(ti) }?;
        // SAFETY: `ti->private` is the `T` `ctr` made (or null), which lives
        // until `dtr`, which does not run during `'a` (the caller's
        // guarantee).
        let this = unsafe { (*ti).private.cast::<T>().as_ref() }?;
        Some((target, this))
    }

    /// # Safety
    ///
    /// Called by device-mapper with a target of type `T` that `ctr`
    /// constructed, not being destroyed (valid for the call), `argv` holding
    /// `argc` NUL-terminated, writable strings that are device-mapper's
    /// during the call, and a reply buffer of `maxlen` writable bytes.
    unsafe extern "C" fn message(
        ti: *mut bindings::dm_target,
        argc: c_uint,
        argv: *mut *mut c_char,
        result: *mut c_char,
        maxlen: c_uint,
    ) -> c_int {
        // SAFETY: `this`'s contract: a constructed target, valid for the call,
        // not destroyed during it (the caller's guarantee); no `&mut Target`
        // is made of it here.
        let Some((target, this)) = (unsafe { Self::this(ti) }) else {
            return EINVAL.to_errno();
        };
        // SAFETY: `Args::from_raw`'s contract: `argv` holds `argc` strings that
        // nothing else uses during the call (the caller's guarantee).
        let mut args = unsafe { Args::from_raw(argc, argv) };
        // SAFETY: `StatusWriter::from_raw`'s contract: `maxlen` writable bytes
        // at `result` for the call (the caller's guarantee).
        let mut out = unsafe { StatusWriter::from_raw(result, maxlen) };
        match this.message(&target, &mut args, &mut out) {
            Ok(()) => 0,
            Err(e) => e.to_errno(),
        }
    }

    /// # Safety
    ///
    /// Called by device-mapper with a target of type `T` that `ctr`
    /// constructed, not being destroyed (valid for the call), a completed
    /// bio of it, valid for the call, and a pointer to the bio's status,
    /// which only this call uses meanwhile.
    unsafe extern "C" fn end_io(
        ti: *mut bindings::dm_target,
        bio: *mut bindings::bio,
        error: *mut bindings::blk_status_t,
    ) -> c_int {
        // SAFETY: `this`'s contract: a constructed target, valid for the call,
        // not destroyed during it (the caller's guarantee); no `&mut Target`
        // is made of it here.
        let Some((target, this)) = (unsafe { Self::this(ti) }) else {
            return bindings::DM_ENDIO_DONE as c_int;
        };
        // SAFETY: `bio` is valid for the call (the caller's guarantee); the
        // target only borrows it (`&bio` below), so it stays device-mapper's.
        let Some(bio) = (unsafe { Bio::from_raw(bio) }) else {
            return bindings::DM_ENDIO_DONE as c_int;
        };
        // SAFETY: `error` is null or points to the bio's status, which only
        // this call uses meanwhile (the caller's guarantee).
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
    /// Called by device-mapper with a target of type `T` that `ctr`
    /// constructed, not being destroyed (valid for the call).
    unsafe extern "C" fn presuspend(ti: *mut bindings::dm_target) {
        // SAFETY: `this`'s contract: a constructed target, valid for the call,
        // not destroyed during it (the caller's guarantee); no `&mut Target`
        // is made of it here.
        if let Some((target, this)) = unsafe { Self::this(ti) } {
            this.presuspend(&target);
        }
    }

    /// # Safety
    ///
    /// Called by device-mapper with a target of type `T` that `ctr`
    /// constructed, not being destroyed (valid for the call).
    unsafe extern "C" fn postsuspend(ti: *mut bindings::dm_target) {
        // SAFETY: `this`'s contract: a constructed target, valid for the call,
        // not destroyed during it (the caller's guarantee); no `&mut Target`
        // is made of it here.
        if let Some((target, this)) = unsafe { Self::this(ti) } {
            this.postsuspend(&target);
        }
    }

    /// # Safety
    ///
    /// Called by device-mapper with a target of type `T` that `ctr`
    /// constructed, not being destroyed (valid for the call).
    unsafe extern "C" fn preresume(ti: *mut bindings::dm_target) -> c_int {
        // SAFETY: `this`'s contract: a constructed target, valid for the call,
        // not destroyed during it (the caller's guarantee); no `&mut Target`
        // is made of it here.
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
    /// Called by device-mapper with a target of type `T` that `ctr`
    /// constructed, not being destroyed (valid for the call).
    unsafe extern "C" fn resume(ti: *mut bindings::dm_target) {
        // SAFETY: `this`'s contract: a constructed target, valid for the call,
        // not destroyed during it (the caller's guarantee); no `&mut Target`
        // is made of it here.
        if let Some((target, this)) = unsafe { Self::this(ti) } {
            this.resume(&target);
        }
    }

    /// # Safety
    ///
    /// Called by device-mapper with a target of type `T` that `ctr`
    /// constructed, not being destroyed (valid for the call), and the
    /// report's arguments, valid for the call.
    #[cfg(CONFIG_BLK_DEV_ZONED)]
    unsafe extern "C" fn report_zones(
        ti: *mut bindings::dm_target,
        args: *mut bindings::dm_report_zones_args,
        nr_zones: c_uint,
    ) -> c_int {
        // SAFETY: `this`'s contract: a constructed target, valid for the call,
        // not destroyed during it (the caller's guarantee); no `&mut Target`
        // is made of it here.
        let Some((target, this)) = (unsafe { Self::this(ti) }) else {
            return EINVAL.to_errno();
        };
        let (dev, start) = this.zoned_device(&target);
        // SAFETY: `ti` and `args` are valid for the call (the caller's
        // guarantee); the device is open as long as `dev` is borrowed, for
        // the whole call; `dm_report_zones` reports its zones through the
        // callback in `args`, which device-mapper set up.
        unsafe { bindings::rcrypt_dm_report_zones(ti, args, nr_zones, dev.bdev().as_ptr(), start) }
    }

    /// # Safety
    ///
    /// Called by device-mapper with a target of type `T` that `ctr`
    /// constructed, not being destroyed (valid for the call), and queue
    /// limits that only this call uses meanwhile.
    unsafe extern "C" fn io_hints(
        ti: *mut bindings::dm_target,
        limits: *mut bindings::queue_limits,
    ) {
        // SAFETY: `Target::from_raw`'s contract: `ti` is valid for the call
        // (the caller's guarantee), and no `&mut Target` is made of it.
        let Some(target) = (unsafe { Target::from_raw(ti) }) else {
            return;
        };
        // SAFETY: `ti->private` is the `T` `ctr` made, which lives until
        // `dtr`, and device-mapper does not destroy the target during the
        // call (the caller's guarantee).
        let this = unsafe { &*(*ti).private.cast::<T>() };
        // SAFETY: `limits` is null or valid and used by nothing else during
        // the call (the caller's guarantee).
        let Some(limits) = (unsafe { limits.as_mut() }) else {
            return;
        };
        this.io_hints(&target, &mut QueueLimits { limits });
    }

    /// # Safety
    ///
    /// Called by device-mapper with a target of type `T` that `ctr`
    /// constructed, not being destroyed (valid for the call), and a buffer
    /// of `maxlen` writable bytes at `result` for the call.
    unsafe extern "C" fn status(
        ti: *mut bindings::dm_target,
        ty: bindings::status_type_t,
        _flags: c_uint,
        result: *mut c_char,
        maxlen: c_uint,
    ) {
        // SAFETY: `Target::from_raw`'s contract: `ti` is valid for the call
        // (the caller's guarantee), and no `&mut Target` is made of it.
        let Some(target) = (unsafe { Target::from_raw(ti) }) else {
            return;
        };
        // SAFETY: `ti->private` is the `T` `ctr` made, which lives until
        // `dtr`, and device-mapper does not destroy the target during the
        // call (the caller's guarantee).
        let this = unsafe { &*(*ti).private.cast::<T>() };
        // SAFETY: `StatusWriter::from_raw`'s contract: `maxlen` writable bytes
        // at `result` for the call (the caller's guarantee).
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
