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
