// SPDX-License-Identifier: GPL-2.0
/*
 * The write thread of rust/dm.rs's WriteThread: dm-crypt's dmcrypt_write()
 * loop and its rb-tree of queued writes.
 */
#include "../bindings/bindings.h"

/*
 * The write thread, dm-crypt's dmcrypt_write(): takes the whole tree of
 * queued writes at once and submits them in sector order under a plug. A
 * node is erased before its clone is submitted, as the clone may complete,
 * and end its base bio (freeing the node), at once.
 */
static int rcrypt_write_thread_fn(void *data)
{
	struct rcrypt_write_thread *wt = data;

	while (1) {
		struct rb_root write_tree;
		struct blk_plug plug;

		spin_lock_irq(&wt->lock);
continue_locked:
		if (!RB_EMPTY_ROOT(&wt->tree))
			goto pop_from_list;

		set_current_state(TASK_INTERRUPTIBLE);
		spin_unlock_irq(&wt->lock);

		if (unlikely(kthread_should_stop())) {
			set_current_state(TASK_RUNNING);
			break;
		}

		schedule();

		spin_lock_irq(&wt->lock);
		goto continue_locked;

pop_from_list:
		write_tree = wt->tree;
		wt->tree = RB_ROOT;
		spin_unlock_irq(&wt->lock);

		blk_start_plug(&plug);
		do {
			struct rcrypt_sorted_bio *n =
				rb_entry(rb_first(&write_tree), struct rcrypt_sorted_bio, rb_node);
			struct bio *base = n->base, *clone = n->clone;

			rb_erase(&n->rb_node, &write_tree);
			dm_submit_bio_remap(base, clone);
			cond_resched();
		} while (!RB_EMPTY_ROOT(&write_tree));
		blk_finish_plug(&plug);
	}
	return 0;
}

/* crypt_ctr()'s part for the write thread, named after the mapped device. */
int rcrypt_write_thread_start(struct rcrypt_write_thread *wt, const char *devname,
			      bool high_priority)
{
	struct task_struct *task;

	spin_lock_init(&wt->lock);
	wt->tree = RB_ROOT;
	task = kthread_run(rcrypt_write_thread_fn, wt, "rcrypt_write/%s", devname);
	if (IS_ERR(task))
		return PTR_ERR(task);
	wt->task = task;
	if (high_priority)
		set_user_nice(task, MIN_NICE);
	return 0;
}

/* Stops the thread once it has submitted every queued write. */
void rcrypt_write_thread_stop(struct rcrypt_write_thread *wt)
{
	kthread_stop(wt->task);
}

/*
 * kcryptd_crypt_write_io_submit()'s queueing part: the clone (its sector
 * set, its completion set up to end `base`) goes into the tree by sector.
 */
void rcrypt_write_thread_submit(struct rcrypt_write_thread *wt, struct rcrypt_sorted_bio *node,
				struct bio *base, struct bio *clone)
{
	sector_t sector = clone->bi_iter.bi_sector;
	struct rb_node **rbp, *parent;
	unsigned long flags;

	node->base = base;
	node->clone = clone;
	spin_lock_irqsave(&wt->lock, flags);
	if (RB_EMPTY_ROOT(&wt->tree))
		wake_up_process(wt->task);
	rbp = &wt->tree.rb_node;
	parent = NULL;
	while (*rbp) {
		parent = *rbp;
		if (sector < rb_entry(parent, struct rcrypt_sorted_bio, rb_node)->clone->bi_iter.bi_sector)
			rbp = &(*rbp)->rb_left;
		else
			rbp = &(*rbp)->rb_right;
	}
	rb_link_node(&node->rb_node, parent, rbp);
	rb_insert_color(&node->rb_node, &wt->tree);
	spin_unlock_irqrestore(&wt->lock, flags);
}
