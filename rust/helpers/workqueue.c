// SPDX-License-Identifier: GPL-2.0
/*
 * <linux/workqueue.h>: forwards of the `static inline` functions and macros
 * that Rust cannot call (rust/wq.rs, rust/dm.rs).
 */
#include "../bindings/bindings.h"
#include <linux/workqueue.h>

struct workqueue_struct *rcrypt_alloc_workqueue(const char *name, unsigned int flags,
						int max_active)
{
	return alloc_workqueue("%s", flags, max_active, name);
}

void rcrypt_init_work(struct work_struct *work, work_func_t fn)
{
	INIT_WORK(work, fn);
}

bool rcrypt_queue_work(struct workqueue_struct *wq, struct work_struct *work)
{
	return queue_work(wq, work);
}

/*
 * INIT_WORK() for a work item queued with rcrypt_queue_work_bh(): its own
 * call site, so its own lockdep class (INIT_WORK() declares one per site):
 * a work item that runs in softirq context must not share the class of
 * those that run in process context, or lockdep takes the two for one lock
 * taken with softirqs on and in softirq context.
 */
void rcrypt_init_work_bh(struct work_struct *work, work_func_t fn)
{
	INIT_WORK(work, fn);
}

/*
 * queue_work(system_bh_wq, work): the work runs in softirq context, on this
 * CPU, as soon as the current interrupt returns (dm-crypt's way with a read
 * that completes in hard interrupt context under no_read_workqueue).
 */
bool rcrypt_queue_work_bh(struct work_struct *work)
{
	return queue_work(system_bh_wq, work);
}
