// SPDX-License-Identifier: GPL-2.0
/*
 * <linux/mempool.h>: forwards of the `static inline` functions and macros
 * that Rust cannot call (rust/crypto/request.rs, rust/bio/page_pool.rs,
 * rust/bio/tag_pool.rs).
 */
#include "../bindings/bindings.h"
#include <linux/mempool.h>
#include <linux/bio-integrity.h>
#include <linux/blk-integrity.h>
#include <linux/slab.h>

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

/*
 * dm-crypt's first try for a bio's integrity tags (crypt_map()): kmalloc
 * without retrying or dipping into reserves, zeroed here if @zero; NULL if
 * it fails or the size is beyond kmalloc's.
 */
void *rcrypt_tag_kmalloc(size_t len, bool zero)
{
	gfp_t gfp = GFP_NOIO | __GFP_NORETRY | __GFP_NOMEMALLOC | __GFP_NOWARN;

	if (len > KMALLOC_MAX_SIZE)
		return NULL;
	return kmalloc(len, zero ? gfp | __GFP_ZERO : gfp);
}

void rcrypt_kfree(void *p)
{
	kfree(p);
}

/*
 * A bio's integrity payload of one buffer (dm_crypt_integrity_io_alloc()):
 * exactly the metadata of the bio's sectors on its device (-EINVAL
 * otherwise), so that a read completing without error has filled all of it.
 */
int rcrypt_bio_integrity_attach(struct bio *bio, void *buf, unsigned int len,
				sector_t seed, gfp_t gfp)
{
	struct blk_integrity *bi = blk_get_integrity(bio->bi_bdev->bd_disk);
	struct bio_integrity_payload *bip;

	if (!bi || bio_integrity_bytes(bi, bio_sectors(bio)) != len)
		return -EINVAL;
	bip = bio_integrity_alloc(bio, gfp, 1);
	if (IS_ERR(bip))
		return PTR_ERR(bip);
	bip->bip_iter.bi_sector = seed;
	if (bio_integrity_add_page(bio, virt_to_page(buf), len, offset_in_page(buf)) != len)
		return -ENOMEM;
	return 0;
}

/* Whether the bio's integrity payload is the one buffer @buf of @len bytes. */
bool rcrypt_bio_integrity_is(struct bio *bio, const void *buf, unsigned int len)
{
	struct bio_integrity_payload *bip = bio_integrity(bio);

	return bip && bip->bip_vcnt == 1 && bvec_virt(&bip->bip_vec[0]) == buf &&
	       bip->bip_vec[0].bv_len == len;
}
