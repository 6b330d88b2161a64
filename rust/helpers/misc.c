// SPDX-License-Identifier: GPL-2.0
/*
 * <linux/bug.h>, <linux/cpumask.h>, <linux/string.h>,
 * <linux/timekeeping.h>: forwards of the `static inline` functions and
 * macros that Rust cannot call (rust/bio/page_pool.rs,
 * rust/crypto/request.rs, rust/keys.rs, rust/wq.rs).
 */
#include "../bindings/bindings.h"
#include <linux/bug.h>
#include <linux/cpumask.h>
#include <linux/string.h>
#include <linux/timekeeping.h>

u64 rcrypt_ktime_ns(void)
{
	return ktime_get_ns();
}

void rcrypt_memzero_explicit(void *p, size_t len)
{
	memzero_explicit(p, len);
}

unsigned int rcrypt_num_online_cpus(void)
{
	return num_online_cpus();
}

/* WARN() (a macro): a warning with a backtrace. */
void rcrypt_warn(const char *msg)
{
	WARN(1, "%s\n", msg);
}
