// SPDX-License-Identifier: GPL-2.0
/*
 * <linux/gfp.h>, <linux/highmem.h>, <linux/mm.h>, <linux/slab.h>: forwards
 * of the `static inline` functions and macros that Rust cannot call
 * (rust/bio.rs, rust/bio/page_pool.rs, rust/params.rs).
 */
#include "../bindings/bindings.h"
#include <linux/gfp.h>
#include <linux/highmem.h>
#include <linux/mm.h>
#include <linux/slab.h>

struct page *rcrypt_alloc_pages(gfp_t gfp, unsigned int order)
{
	return alloc_pages(gfp, order);
}

/*
 * crypt_free_buffer_pages() for one page of a write buffer (page_folio(),
 * folio_test_large(), folio_nr_pages() and folio_put() are inline): a
 * compound page goes back to the page allocator and its number of pages is
 * returned; a single page goes to the mempool `pool`, and 0 is returned.
 */
unsigned long rcrypt_free_buffer_page(struct page *page, mempool_t *pool)
{
	struct folio *folio = page_folio(page);
	unsigned long n;

	if (folio_test_large(folio)) {
		n = folio_nr_pages(folio);
		folio_put(folio);
		return n;
	}
	mempool_free(page, pool);
	return 0;
}

size_t rcrypt_kmalloc_max_size(void)
{
	return KMALLOC_MAX_SIZE;
}

/*
 * memcpy_from_page()/memcpy_to_page() at byte `offset` of the pages from
 * `page` (a multi-page bvec: offset may exceed PAGE_SIZE), for `len` bytes
 * within one page. nth_page(), as bvec_iter_page(): without
 * SPARSEMEM_VMEMMAP the struct pages of contiguous memory need not be.
 */
void rcrypt_memcpy_from_page(void *to, struct page *page, size_t offset, size_t len)
{
	memcpy_from_page(to, nth_page(page, offset >> PAGE_SHIFT), offset_in_page(offset), len);
}

void rcrypt_memcpy_to_page(struct page *page, size_t offset, const void *from, size_t len)
{
	memcpy_to_page(nth_page(page, offset >> PAGE_SHIFT), offset_in_page(offset), from, len);
}

void *rcrypt_page_address(struct page *page)
{
	return page_address(page);
}

unsigned long rcrypt_totalhigh_pages(void)
{
	return totalhigh_pages();
}

unsigned long rcrypt_totalram_pages(void)
{
	return totalram_pages();
}
