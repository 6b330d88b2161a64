// SPDX-License-Identifier: GPL-2.0
/*
 * <linux/bio.h>, <linux/bvec.h>: forwards of the `static inline` functions
 * and macros that Rust cannot call (rust/bio.rs).
 */
#include "../bindings/bindings.h"
#include <linux/bio.h>
#include <linux/bvec.h>

/* Bio::is_write() reads op_is_write()'s rule: odd operations write. */
static_assert((REQ_OP_WRITE & 1) && !(REQ_OP_READ & 1) && (REQ_OP_DISCARD & 1));

/*
 * The next run of whole sectors (of `mask + 1` bytes) at `iter` in `bio`,
 * and at `oiter` in `out` if it is not NULL: as much of the current page of
 * each as holds whole sectors, at most `max` bytes. Sets the page and
 * offset of the run in each bio, moves the cursors past it and returns its
 * length; returns 0 at the end of the data or where a segment holds less
 * than a sector (data not aligned to the sector). Once per page: one call
 * does what a length and an advance, of one or two bios, did in four.
 */
unsigned int rcrypt_bio_next_run(struct bio *bio, struct bvec_iter *iter,
				 struct bio *out, struct bvec_iter *oiter,
				 unsigned int max, unsigned int mask,
				 struct page **page, unsigned int *offset,
				 struct page **opage, unsigned int *ooffset)
{
	struct bio_vec bv, obv;
	unsigned int len;

	if (!iter->bi_size)
		return 0;
	bv = bio_iter_iovec(bio, *iter);
	len = min(bv.bv_len, max);
	if (out) {
		if (!oiter->bi_size)
			return 0;
		obv = bio_iter_iovec(out, *oiter);
		len = min(len, obv.bv_len);
	}
	len &= ~mask;
	if (!len)
		return 0;
	*page = bv.bv_page;
	*offset = bv.bv_offset;
	bio_advance_iter_single(bio, iter, len);
	if (out) {
		*opage = obv.bv_page;
		*ooffset = obv.bv_offset;
		bio_advance_iter_single(out, oiter, len);
	}
	return len;
}

void rcrypt_bio_set_dev(struct bio *bio, struct block_device *bdev)
{
	bio_set_dev(bio, bdev);
}
