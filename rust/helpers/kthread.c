// SPDX-License-Identifier: GPL-2.0
/*
 * <linux/kthread.h>: forwards of the macros that Rust cannot call
 * (rust/kthread.rs).
 */
#include "../bindings/bindings.h"
#include <linux/kthread.h>

/* kthread_run() (a macro): the write thread, named "<prefix><name>". */
struct task_struct *rcrypt_kthread_run(int (*fn)(void *), void *data, const char *prefix,
				       const char *name)
{
	return kthread_run(fn, data, "%s%s", prefix, name);
}
