// SPDX-License-Identifier: GPL-2.0
/*
 * <linux/sched.h>, <linux/preempt.h>, <linux/sched/task_stack.h>: forwards
 * of the `static inline` functions and macros that Rust cannot call
 * (rust/wq.rs, rust/kthread.rs).
 */
#include "../bindings/bindings.h"
#include <linux/preempt.h>
#include <linux/sched.h>
#include <linux/sched/task_stack.h>

/* cond_resched() (a macro): a scheduling point in long conversions. */
void rcrypt_cond_resched(void)
{
	cond_resched();
}

/*
 * Whether the current context may sleep: process context, no preemption or
 * interrupts disabled, no RCU read-side section. Without the preempt count
 * (CONFIG_PREEMPT_COUNT) spinlocks are invisible, so the answer is "no".
 */
bool rcrypt_may_sleep(void)
{
#ifdef CONFIG_PREEMPT_COUNT
	return !in_atomic() && !irqs_disabled() && !rcu_preempt_depth();
#else
	return false;
#endif
}

/* set_current_state() (a macro, with its memory barrier). */
void rcrypt_set_current_state(unsigned int state)
{
	set_current_state(state);
}

/*
 * The stack pointer (current_stack_pointer, a register) and the base of the
 * current task's stack (task_stack_page(current)); whether this is task
 * context (in_task()).
 */
bool rcrypt_task_stack(unsigned long *sp, unsigned long *base)
{
	*sp = current_stack_pointer;
	*base = (unsigned long)task_stack_page(current);
	return in_task();
}
