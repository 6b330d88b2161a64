// SPDX-License-Identifier: GPL-2.0
/*
 * <linux/mempool.h>: forwards of the `static inline` functions and macros
 * that Rust cannot call (rust/crypto/request.rs, rust/bio/page_pool.rs).
 */
#include "../bindings/bindings.h"
#include <linux/mempool.h>

void *rcrypt_mempool_alloc(mempool_t *pool, gfp_t gfp)
{
	return mempool_alloc(pool, gfp);
}

mempool_t *rcrypt_mempool_create_kmalloc_pool(int min_nr, size_t size)
{
	return mempool_create_kmalloc_pool(min_nr, size);
}

/* mempool_init() (a macro): a mempool in memory of the caller's. */
int rcrypt_mempool_init(mempool_t *pool, int min_nr, mempool_alloc_t *alloc_fn,
			mempool_free_t *free_fn, void *pool_data)
{
	return mempool_init(pool, min_nr, alloc_fn, free_fn, pool_data);
}
