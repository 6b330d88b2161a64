// SPDX-License-Identifier: GPL-2.0

//! Kernel threads (`kthread_run`, `kthread_stop`) and the sleep of a thread
//! that waits to be woken (`set_current_state`, `schedule`).
//!
//! C headers: `include/linux/kthread.h`, `include/linux/sched.h`.

use crate::bindings;
use core::ptr::NonNull;
use kernel::ffi::{c_int, c_void};
use kernel::prelude::*;
use kernel::str::CStr;

/// A kernel thread, stopped when this is dropped.
///
/// # Invariants
///
/// `task` was returned by `kthread_run` and is not stopped yet; its thread
/// function returns only once `kthread_should_stop()` is true (the
/// contract of [`Self::run`]), so the task lives until `kthread_stop`.
pub(crate) struct KThread {
    task: NonNull<bindings::task_struct>,
}

// SAFETY: A kernel thread is not tied to the thread that started it: any
// thread may wake it, set its priority or stop it.
unsafe impl Send for KThread {}
// SAFETY: `&KThread` wakes the task or sets its priority, which any number
// of threads may do at once.
unsafe impl Sync for KThread {}

impl KThread {
    /// Starts `f(data)` in a new kernel thread named `<prefix><name>`
    /// (`kthread_run(f, data, "%s%s", prefix, name)`).
    ///
    /// # Safety
    ///
    /// `f` returns only when [`should_stop`] is true, and `data` stays valid
    /// for `f` until the thread is stopped (this value dropped).
    pub(crate) unsafe fn run(
        f: unsafe extern "C" fn(*mut c_void) -> c_int,
        data: *mut c_void,
        prefix: &CStr,
        name: &CStr,
    ) -> Result<Self> {
        // SAFETY: `kthread_run` formats `prefix` and `name`, NUL-terminated
        // strings valid for the call, into the task's name, and runs `f` with
        // `data` in the new thread: `f` returns only once asked to stop, and
        // `data` stays valid for it until then (the caller's guarantee).
        let task = unsafe {
            bindings::rcrypt_kthread_run(Some(f), data, prefix.as_char_ptr(), name.as_char_ptr())
        };
        let task = kernel::error::from_err_ptr(task)?;
        // INVARIANT: A new thread, not stopped; `f`'s contract is the caller's.
        Ok(Self {
            task: NonNull::new(task).ok_or(ENOMEM)?,
        })
    }

    /// Runs the thread at the highest priority of normal tasks (nice -20,
    /// `set_user_nice(task, MIN_NICE)`).
    pub(crate) fn set_nice_min(&self) {
        // SAFETY: `set_user_nice` needs a live task: the thread lives until it
        // is stopped, which only `drop` does (type invariant).
        unsafe { bindings::set_user_nice(self.task.as_ptr(), bindings::RCRYPT_MIN_NICE) };
    }

    /// Wakes the thread if it sleeps (`wake_up_process`); callable from any
    /// context.
    pub(crate) fn wake(&self) {
        // SAFETY: `wake_up_process` needs a live task: the thread lives until
        // it is stopped, which only `drop` does (type invariant).
        unsafe { bindings::wake_up_process(self.task.as_ptr()) };
    }
}

impl Drop for KThread {
    fn drop(&mut self) {
        // SAFETY: `kthread_stop` needs a kernel thread that has not exited:
        // its function returns only once asked to stop, and it is asked only
        // here, once (type invariant).
        unsafe { bindings::kthread_stop(self.task.as_ptr()) };
    }
}

/// Whether the current kernel thread was asked to stop (`kthread_should_stop`).
///
/// # Safety
///
/// The current task is a kernel thread (the function of a [`KThread`]).
pub(crate) unsafe fn should_stop() -> bool {
    // SAFETY: `kthread_should_stop` reads the current task's kthread data,
    // which only a kernel thread has: the current task is one (the caller's
    // guarantee).
    unsafe { bindings::kthread_should_stop() }
}

/// Marks the current task as about to sleep until woken
/// (`set_current_state(TASK_INTERRUPTIBLE)`): a wake-up after this call
/// and before [`schedule`] makes `schedule` return at once.
pub(crate) fn prepare_to_sleep() {
    // SAFETY: `set_current_state` has no precondition: it sets the current
    // task's state (to one `schedule` then sleeps in).
    unsafe { bindings::rcrypt_set_current_state(bindings::RCRYPT_TASK_INTERRUPTIBLE) }
}

/// Marks the current task as running again (`set_current_state(TASK_RUNNING)`).
pub(crate) fn set_running() {
    // SAFETY: `set_current_state` has no precondition: it sets the current
    // task's state.
    unsafe { bindings::rcrypt_set_current_state(bindings::RCRYPT_TASK_RUNNING) }
}

/// Sleeps unless woken since [`prepare_to_sleep`] (`schedule`).
pub(crate) fn schedule() {
    // SAFETY: `schedule` has no memory-safety precondition; calling it
    // where the task must not sleep is a bug the kernel reports ("scheduling
    // while atomic"), not undefined behaviour.
    unsafe { bindings::schedule() }
}
