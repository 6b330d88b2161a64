// SPDX-License-Identifier: GPL-2.0

//! Work queues (`struct workqueue_struct`).
//!
//! C header: `include/linux/workqueue.h`. Work items live in device-mapper's
//! per-bio data; see [`crate::dm::Io`].

use crate::bindings;
use core::ffi::CStr;
use core::ptr::NonNull;
use kernel::error::code::ENOMEM;
use kernel::prelude::*;

/// Flags of [`WorkQueue::new`].
pub(crate) const WQ_MEM_RECLAIM: u32 = bindings::wq_flags_WQ_MEM_RECLAIM;
/// Work items may run on any CPU (`WQ_UNBOUND`).
pub(crate) const WQ_UNBOUND: u32 = bindings::wq_flags_WQ_UNBOUND;
/// High priority workers (`WQ_HIGHPRI`).
pub(crate) const WQ_HIGHPRI: u32 = bindings::wq_flags_WQ_HIGHPRI;
/// CPU-intensive work, not counted for concurrency management (`WQ_CPU_INTENSIVE`).
pub(crate) const WQ_CPU_INTENSIVE: u32 = bindings::wq_flags_WQ_CPU_INTENSIVE;

/// Whether the current context may sleep (process context, preemption and
/// interrupts enabled, outside RCU read-side sections). Always `false` on
/// kernels without the preempt count, where a held spinlock is invisible.
pub(crate) fn may_sleep() -> bool {
    // SAFETY: Reads the current CPU's and task's state only.
    unsafe { bindings::rcrypt_may_sleep() }
}

/// `cond_resched()`: lets another task run if one should, when the current
/// context may sleep ([`may_sleep`]); nothing otherwise.
pub(crate) fn cond_resched() {
    if may_sleep() {
        // SAFETY: The context may sleep (checked just above).
        unsafe { bindings::rcrypt_cond_resched() };
    }
}

/// Bytes of the current task's stack left below the stack pointer;
/// `usize::MAX` outside task context or off the task's stack (an interrupt
/// stack), where no crypto runs inline anyway.
pub(crate) fn task_stack_left() -> usize {
    let (mut sp, mut base) = (0, 0);
    // SAFETY: Writes the two locals; reads the stack pointer, the current
    // task and the preempt count only.
    let in_task = unsafe { bindings::rcrypt_task_stack(&mut sp, &mut base) };
    match sp.checked_sub(base) {
        Some(left) if in_task && left < thread_size() => left,
        _ => usize::MAX,
    }
}

/// `THREAD_SIZE`: the size of a task's kernel stack.
pub(crate) const fn thread_size() -> usize {
    bindings::RCRYPT_THREAD_SIZE
}

/// `num_online_cpus()`.
pub(crate) fn num_online_cpus() -> u32 {
    // SAFETY: Reads a counter only.
    unsafe { bindings::rcrypt_num_online_cpus() }
}

/// `ktime_get_ns()`: monotonic time in nanoseconds; any context.
pub(crate) fn now_ns() -> u64 {
    // SAFETY: Reads the clock only.
    unsafe { bindings::rcrypt_ktime_ns() }
}

/// A work queue, destroyed (after running every queued item) on drop.
///
/// # Invariants
///
/// `wq` came from `alloc_workqueue` and is destroyed once.
pub(crate) struct WorkQueue {
    wq: NonNull<bindings::workqueue_struct>,
}

// SAFETY: Work queues are used from any thread.
unsafe impl Send for WorkQueue {}
// SAFETY: As above.
unsafe impl Sync for WorkQueue {}

impl WorkQueue {
    /// `alloc_workqueue("%s", flags, max_active, name)`.
    pub(crate) fn new(name: &CStr, flags: u32, max_active: i32) -> Result<Self> {
        // SAFETY: `name` is NUL-terminated; the kernel copies it.
        let wq = unsafe { bindings::rcrypt_alloc_workqueue(name.as_ptr().cast(), flags, max_active) };
        Ok(Self { wq: NonNull::new(wq).ok_or(ENOMEM)? })
    }

    /// The raw pointer, for [`crate::dm::Io::queue`].
    pub(crate) fn as_ptr(&self) -> *mut bindings::workqueue_struct {
        self.wq.as_ptr()
    }
}

impl Drop for WorkQueue {
    fn drop(&mut self) {
        // SAFETY: Created by `new`, destroyed once; destroy drains queued work.
        unsafe { bindings::destroy_workqueue(self.wq.as_ptr()) };
    }
}
