// SPDX-License-Identifier: GPL-2.0
/*
 * <linux/rbtree.h>: forwards of the `static inline` functions that Rust
 * cannot call (rust/dm/write_thread.rs).
 */
#include "../bindings/bindings.h"
#include <linux/rbtree.h>

void rcrypt_rb_link_node(struct rb_node *node, struct rb_node *parent, struct rb_node **link)
{
	rb_link_node(node, parent, link);
}
