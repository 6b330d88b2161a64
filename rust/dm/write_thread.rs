// SPDX-License-Identifier: GPL-2.0

//! The write thread (dm-crypt's `dmcrypt_write`): a kernel thread that
//! submits the write clones queued by [`BufferedIo::submit_sorted`] in
//! sector order, under a block plug. The queue is an intrusive red-black
//! tree whose nodes live in the per-bio data (`kernel::rbtree` allocates a
//! node per insert, which the I/O path must not).
//!
//! C headers: `include/linux/rbtree.h`, `include/linux/kthread.h`.
//!
//! [`BufferedIo::submit_sorted`]: super::BufferedIo::submit_sorted

use super::target::Target;
use crate::bindings;
use crate::blkdev;
use crate::kthread::{self, KThread};
use crate::sync::IrqSpinLock;
use core::ptr::NonNull;
use kernel::ffi::{c_int, c_void};
use kernel::prelude::*;
use kernel::sync::lock::Lock;

/// A queued write: the tree node, the clone to submit, the base bio it
/// belongs to and the clone's sector (the sort key). `#[repr(C)]` with the
/// node first, so a node's address is its `SortedBio`'s.
#[repr(C)]
pub(crate) struct SortedBio {
    node: bindings::rb_node,
    base: *mut bindings::bio,
    clone: *mut bindings::bio,
    sector: u64,
}

/// The writes waiting for the thread, by sector.
///
/// # Invariants
///
/// `root` is a valid red-black tree of [`SortedBio`] nodes, each queued by
/// [`WriteThread::submit`] and valid until the thread erases it.
struct Queue {
    root: bindings::rb_root,
}

// SAFETY: The queue owns no thread-bound state: its nodes are in the per-bio
// data of bios in flight, which any thread may queue or submit (see
// `WriteThread::submit`), and the queue is only reached under its lock.
unsafe impl Send for Queue {}

/// A write thread, named `rcrypt_write/<major:minor>` after its mapped
/// device and stopped (once it has submitted what is queued) on drop.
///
/// # Invariants
///
/// `thread` runs [`Self::thread_fn`] on `queue`, which is pinned in its box
/// and outlives the thread (`thread` is dropped, and so stopped, first).
pub(crate) struct WriteThread {
    // Dropped (stopped) before `queue`: fields drop in declaration order.
    thread: KThread,
    queue: Pin<KBox<IrqSpinLock<Queue>>>,
}

impl WriteThread {
    /// Starts the write thread of the mapped device `target` (at nice -20
    /// with `high_priority`, as dm-crypt).
    pub(crate) fn new(target: &Target<'_>, high_priority: bool) -> Result<Self> {
        let queue = KBox::pin_init(
            Lock::new(
                // INVARIANT: An empty tree.
                Queue {
                    root: bindings::rb_root {
                        rb_node: core::ptr::null_mut(),
                    },
                },
                kernel::c_str!("rcrypt_write"),
                kernel::static_lock_class!(),
            ),
            GFP_KERNEL,
        )?;
        let data: *const IrqSpinLock<Queue> = &*queue;
        // SAFETY: `KThread::run`'s contract: `thread_fn` returns only once
        // `should_stop` is true; `data` is the queue, pinned in its box, which
        // `Self` drops only after the thread (field order), and `thread_fn`
        // is given that queue, as its contract asks.
        let thread = unsafe {
            KThread::run(
                Self::thread_fn,
                data.cast_mut().cast(),
                kernel::c_str!("rcrypt_write/"),
                target.device_name(),
            )
        }?;
        if high_priority {
            thread.set_nice_min();
        }
        // INVARIANT: `thread` runs `thread_fn` on `queue`, dropped after it.
        Ok(Self { thread, queue })
    }

    /// Queues `clone`, a write clone of the base bio `base` with its sector
    /// and completion set, for the thread to submit through device-mapper
    /// (`dm_submit_bio_remap(base, clone)`), in sector order with the other
    /// writes queued (dm-crypt's `kcryptd_crypt_write_io_submit`). Callable
    /// from any context.
    ///
    /// # Safety
    ///
    /// - `node` is valid for writes and used by nothing else until the
    ///   thread has submitted `clone` (its completion may free it).
    /// - `base` is a bio device-mapper passed to this thread's target's map
    ///   function, not yet ended; `clone` is a bio the caller owns and hands
    ///   over, meeting [`crate::bio::Bio::submit_remap`]'s contract.
    pub(crate) unsafe fn submit(
        &self,
        node: *mut SortedBio,
        base: *mut bindings::bio,
        clone: *mut bindings::bio,
    ) {
        // SAFETY: `clone` is a valid bio that the caller hands over (the
        // caller's guarantee), so nothing changes it meanwhile.
        let sector = unsafe { (*clone).bi_iter.bi_sector };
        // SAFETY: `node` is valid for writes and used by nothing else (the
        // caller's guarantee); `SortedBio` is plain data, so `write` drops
        // nothing.
        unsafe {
            node.write(SortedBio {
                node: bindings::rb_node::default(),
                base,
                clone,
                sector,
            })
        };
        let mut queue = self.queue.lock();
        if queue.root.rb_node.is_null() {
            self.thread.wake();
        }
        let mut link: *mut *mut bindings::rb_node = &mut queue.root.rb_node;
        let mut parent: *mut bindings::rb_node = core::ptr::null_mut();
        // Walks down the tree to the empty link where the new node goes:
        // after the nodes of equal sector.
        // SAFETY: The tree is valid and each node in it is the first field
        // of a live `SortedBio` (type invariant of `Queue`), and the lock is
        // held: each link read is a child link of a node of the tree, or the
        // root's, and each node followed a `SortedBio`.
        unsafe {
            while !(*link).is_null() {
                parent = *link;
                link = if sector < (*parent.cast::<SortedBio>()).sector {
                    &mut (*parent).rb_left
                } else {
                    &mut (*parent).rb_right
                };
            }
        }
        let node = node.cast::<bindings::rb_node>();
        // INVARIANT: The node joins the tree until the thread erases it; it
        // stays valid until then (the caller's guarantee).
        // SAFETY: `rb_link_node` and `rb_insert_color` need `link` to be the
        // empty child link of `parent` (or the root's) in the tree and
        // `node` a node in no tree: `link` and `parent` were found just
        // above, under the lock still held, and `node` was just written.
        unsafe {
            bindings::rcrypt_rb_link_node(node, parent, link);
            bindings::rb_insert_color(node, &mut queue.root);
        }
    }

    /// The thread: takes the whole queue at once and submits it in sector
    /// order under a plug; sleeps while the queue is empty; returns when
    /// asked to stop with nothing queued.
    ///
    /// # Safety
    ///
    /// Runs as the function of a [`KThread`] with `data` the queue of a
    /// [`WriteThread`], which outlives the thread (see [`Self::new`]).
    unsafe extern "C" fn thread_fn(data: *mut c_void) -> c_int {
        // SAFETY: `data` is the pinned queue, which outlives the thread (the
        // caller's guarantee).
        let queue = unsafe { &*data.cast::<IrqSpinLock<Queue>>() };
        loop {
            let mut guard = queue.lock();
            let mut tree = loop {
                if !guard.root.rb_node.is_null() {
                    // INVARIANT: The queue is left an empty tree.
                    break core::mem::replace(
                        &mut guard.root,
                        bindings::rb_root {
                            rb_node: core::ptr::null_mut(),
                        },
                    );
                }
                // Sleep state first: a wake-up from `submit` or `kthread_stop`
                // after the unlock makes `schedule` return at once.
                kthread::prepare_to_sleep();
                drop(guard);
                // SAFETY: The current task is a kernel thread: this is a
                // `KThread`'s function (the caller's guarantee).
                if unsafe { kthread::should_stop() } {
                    kthread::set_running();
                    return 0;
                }
                kthread::schedule();
                guard = queue.lock();
            };
            drop(guard);
            blkdev::with_plug(|| {
                // SAFETY: `rb_first` needs a valid tree: `tree` is the queue's
                // (type invariant of `Queue`), moved out whole under the lock,
                // and only this thread reaches it.
                while let Some(node) = NonNull::new(unsafe { bindings::rb_first(&tree) }) {
                    let sorted = node.cast::<SortedBio>().as_ptr();
                    // SAFETY: Each node of `tree`, the queue's moved out, is
                    // the first field of a live `SortedBio` (type invariant of
                    // `Queue`).
                    let (base, clone) = unsafe { ((*sorted).base, (*sorted).clone) };
                    // SAFETY: `rb_erase` needs `node` to be in `tree`, a valid
                    // tree: `rb_first` just returned it. (It is erased before
                    // its clone is submitted, as the clone may complete, and
                    // free the node, at once.)
                    unsafe { bindings::rb_erase(node.as_ptr(), &mut tree) };
                    // SAFETY: `dm_submit_bio_remap(base, clone)` as in
                    // `Bio::submit_remap`: `base` came to the target's map
                    // function and is not ended, and `clone`, directed at a
                    // device open until it completes, is handed over
                    // (`submit`'s caller's guarantee).
                    unsafe { bindings::dm_submit_bio_remap(base, clone) };
                    crate::wq::cond_resched();
                }
            });
        }
    }
}
