// SPDX-License-Identifier: GPL-2.0
/*
 * <linux/spinlock.h>: forwards of the macros that Rust cannot call
 * (rust/sync.rs).
 */
#include "../bindings/bindings.h"
#include <linux/spinlock.h>

unsigned long rcrypt_spin_lock_irqsave(spinlock_t *lock)
{
	unsigned long flags;

	spin_lock_irqsave(lock, flags);
	return flags;
}

void rcrypt_spin_unlock_irqrestore(spinlock_t *lock, unsigned long flags)
{
	spin_unlock_irqrestore(lock, flags);
}
