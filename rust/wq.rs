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
    // SAFETY: The helper has no precondition: it reads the preempt count,
    // the interrupt flag and the current task's RCU nesting.
    unsafe { bindings::rcrypt_may_sleep() }
}

/// `cond_resched()`: lets another task run if one should, when the current
/// context may sleep ([`may_sleep`]); nothing otherwise.
pub(crate) fn cond_resched() {
    if may_sleep() {
        // SAFETY: `cond_resched` has no memory-safety precondition; it may
        // sleep, which the context allows (checked just above).
        unsafe { bindings::rcrypt_cond_resched() };
    }
}

/// Bytes of the current task's stack left below the stack pointer;
/// `usize::MAX` outside task context or off the task's stack (an interrupt
/// stack), where no crypto runs inline anyway.
pub(crate) fn task_stack_left() -> usize {
    let (mut sp, mut base) = (0, 0);
    // SAFETY: The helper writes the two locals through their pointers and
    // otherwise reads the stack pointer, the current task's stack base and
    // the preempt count.
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
    // SAFETY: `num_online_cpus` has no precondition: it reads a counter.
    unsafe { bindings::rcrypt_num_online_cpus() }
}

/// `ktime_get_ns()`: monotonic time in nanoseconds; any context.
pub(crate) fn now_ns() -> u64 {
    // SAFETY: `ktime_get_ns` has no precondition: it reads the clock, in
    // any context.
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

// SAFETY: A work queue is not tied to the thread that made it: any thread
// may queue work on it or destroy it.
unsafe impl Send for WorkQueue {}
// SAFETY: `&WorkQueue` only gives the pointer to queue work, which any
// number of threads may do at once.
unsafe impl Sync for WorkQueue {}

impl WorkQueue {
    /// `alloc_workqueue("%s", flags, max_active, name)`.
    pub(crate) fn new(name: &CStr, flags: u32, max_active: i32) -> Result<Self> {
        // SAFETY: `alloc_workqueue` formats `name`, a NUL-terminated string
        // valid for the call, into the queue's own name (`"%s"`).
        let wq =
            unsafe { bindings::rcrypt_alloc_workqueue(name.as_ptr().cast(), flags, max_active) };
        // INVARIANT: Just allocated; destroyed only by `drop`.
        Ok(Self {
            wq: NonNull::new(wq).ok_or(ENOMEM)?,
        })
    }

    /// The raw pointer, for [`crate::dm::Io::queue`].
    pub(crate) fn as_ptr(&self) -> *mut bindings::workqueue_struct {
        self.wq.as_ptr()
    }
}

impl Drop for WorkQueue {
    fn drop(&mut self) {
        // SAFETY: `destroy_workqueue` needs a queue from `alloc_workqueue`,
        // destroyed once, on which nothing queues work any more (what is
        // queued, it runs first): `wq` is one (type invariant), destroyed
        // here only; no `&WorkQueue` is left, and `Io::queue`, which queues
        // through the pointer, does so for a bio of the queue's owner, the
        // target, which is dropped only when it has no bios.
        unsafe { bindings::destroy_workqueue(self.wq.as_ptr()) };
    }
}
