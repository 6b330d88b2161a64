// SPDX-License-Identifier: GPL-2.0

//! A lock backend the kernel crate of Linux 6.12 does not have yet: a
//! `spinlock_t` taken with interrupts off (`spin_lock_irqsave`), for state
//! that bio completions and crypto callbacks may touch from interrupt
//! context. Used through the kernel crate's own [`Lock`] and [`Guard`].
//!
//! C header: `include/linux/spinlock.h`.

use crate::bindings;
use kernel::ffi::c_ulong;
use kernel::sync::lock::{Backend, Lock};

/// A spinlock whose holder runs with local interrupts off.
pub(crate) type IrqSpinLock<T> = Lock<T, IrqSpinLockBackend>;

/// The backend of [`IrqSpinLock`]: `spin_lock_irqsave` and
/// `spin_unlock_irqrestore`, with the interrupt flags kept in the guard.
pub(crate) struct IrqSpinLockBackend;

// SAFETY:
// - The kernel's `spinlock_t` gives mutual exclusion between `lock` and
//   `unlock`, whatever the interrupt state.
// - `relock` is the default, which calls `lock`: the same method, and the
//   new interrupt flags replace the old ones in the guard.
unsafe impl Backend for IrqSpinLockBackend {
    type State = kernel::bindings::spinlock_t;
    type GuardState = c_ulong;

    unsafe fn init(
        ptr: *mut Self::State,
        name: *const kernel::ffi::c_char,
        key: *mut kernel::bindings::lock_class_key,
    ) {
        // SAFETY: `__spin_lock_init` needs `ptr` valid for writes and `name`
        // and `key` valid for reads for as long as the lock exists: the
        // caller's guarantees (`Backend::init`: writes for the call, the
        // others forever).
        unsafe { kernel::bindings::__spin_lock_init(ptr, name, key) }
    }

    unsafe fn lock(ptr: *mut Self::State) -> Self::GuardState {
        // SAFETY: `spin_lock_irqsave` needs an initialised spinlock: `init`
        // initialised it (the caller's guarantee), and both binding sets
        // describe the same C `spinlock_t`, so the cast keeps the type.
        unsafe { bindings::rcrypt_spin_lock_irqsave(ptr.cast()) }
    }

    unsafe fn unlock(ptr: *mut Self::State, flags: &Self::GuardState) {
        // SAFETY: `spin_unlock_irqrestore` needs the lock held by the caller
        // and the flags its `spin_lock_irqsave` saved: the caller owns the
        // lock (`Backend::unlock`'s contract), taken by `lock`, whose flags
        // the guard kept.
        unsafe { bindings::rcrypt_spin_unlock_irqrestore(ptr.cast(), *flags) }
    }
}
