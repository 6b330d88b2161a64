// SPDX-License-Identifier: GPL-2.0
/*
 * <linux/bio.h>, <linux/bvec.h>: forwards of the `static inline` functions
 * and macros that Rust cannot call (rust/bio.rs).
 */
#include "../bindings/bindings.h"
#include <linux/bio.h>
#include <linux/bvec.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>

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

/*
 * Up to `cap` entries of `sg` for the next bytes at `*it` in `bio`, at most
 * `max`: one per single-page segment, set up here (as sg_init_table() and
 * sg_set_page() would, one pass over the segments), no end marked. Moves
 * `*it` past them, sets `*nents` to their number and returns their bytes.
 */
static unsigned int fill_sg_upto(struct bio *bio, struct bvec_iter *it, unsigned int max,
				 struct scatterlist *sg, unsigned int cap, unsigned int *nents)
{
	unsigned int n = 0, len = 0;
	struct bio_vec bv;

	max = min(max, it->bi_size);
	while (len < max && n < cap) {
		bv = bio_iter_iovec(bio, *it);
		if (!bv.bv_len)
			break;
		bv.bv_len = min(bv.bv_len, max - len);
		memset(&sg[n], 0, sizeof(sg[n]));
		sg_set_page(&sg[n], bv.bv_page, bv.bv_len, bv.bv_offset);
		bio_advance_iter_single(bio, it, bv.bv_len);
		len += bv.bv_len;
		n++;
	}
	*nents = n;
	return len;
}

/*
 * The scatterlist of the next `len` bytes at `iter` in `bio` (a sector that
 * spans bio vectors): one entry per single-page segment, at most `cap`, in
 * `sg`. Moves the cursor past the bytes and returns the number of entries;
 * returns 0 and leaves the cursor where the data holds fewer than `len`
 * bytes or needs more than `cap` entries (the entries written are then
 * garbage).
 */
unsigned int rcrypt_bio_fill_sg(struct bio *bio, struct bvec_iter *iter, unsigned int len,
				struct scatterlist *sg, unsigned int cap)
{
	struct bvec_iter it = *iter;
	unsigned int n;

	if (!len || fill_sg_upto(bio, &it, len, sg, cap, &n) < len)
		return 0;
	sg_mark_end(&sg[n - 1]);
	*iter = it;
	return n;
}

/*
 * Ends the table at `sg`, which holds at least `len` > 0 bytes, after `len`
 * bytes. Returns the number of sectors (of `mask + 1` bytes) that span
 * entries.
 */
static unsigned int sg_trim(struct scatterlist *sg, unsigned int len, unsigned int mask)
{
	unsigned int off = 0, spread = 0, last = UINT_MAX;

	while (len - off > sg->length) {
		off += sg->length;
		if ((off & mask) && (off & ~mask) != last) {
			last = off & ~mask;
			spread++;
		}
		sg++;
	}
	sg->length = len - off;
	sg_mark_end(sg);
	return spread;
}

/*
 * A batch of whole sectors (of `mask + 1` bytes) at `iter` in `bio` and, if
 * `out` is not NULL, the same number of bytes at `oiter` in `out`: as many as
 * each bio holds in at most `cap` single-page segments, at most `max`,
 * rounded down to whole sectors, in the tables `sg` and (for `out`) `osg`
 * of `cap` entries each. Moves the cursors past the batch, sets `*spread`
 * to the number of its sectors that span entries of `sg` and returns its
 * bytes; returns 0 and leaves the cursors where that is not one sector (the
 * entries written are then garbage). For a cipher whose output does not
 * depend on the sector: one request over many pages.
 */
unsigned int rcrypt_bio_fill_sg_batch(struct bio *bio, struct bvec_iter *iter,
				      struct scatterlist *sg, struct bio *out,
				      struct bvec_iter *oiter, struct scatterlist *osg,
				      unsigned int max, unsigned int mask, unsigned int cap,
				      unsigned int *spread)
{
	struct bvec_iter it = *iter, oit;
	unsigned int n, len = fill_sg_upto(bio, &it, max, sg, cap, &n);

	if (out) {
		oit = *oiter;
		len = fill_sg_upto(out, &oit, len, osg, cap, &n);
	}
	len &= ~mask;
	if (!len)
		return 0;
	*spread = sg_trim(sg, len, mask);
	bio_advance_iter(bio, iter, len);
	if (out) {
		sg_trim(osg, len, mask);
		bio_advance_iter(out, oiter, len);
	}
	return len;
}

void rcrypt_bio_set_dev(struct bio *bio, struct block_device *bdev)
{
	bio_set_dev(bio, bdev);
}

#if IS_ENABLED(CONFIG_KUNIT)
/* A bio of kmalloc memory with room for `nr` segments, for the KUnit tests. */
struct bio *rcrypt_test_bio_alloc(unsigned short nr)
{
	struct bio *bio = bio_kmalloc(nr, GFP_KERNEL);

	if (bio)
		bio_init(bio, NULL, bio->bi_inline_vecs, nr, REQ_OP_WRITE);
	return bio;
}

/* Adds a segment (without merging it into the last); false if full. */
bool rcrypt_test_bio_add(struct bio *bio, struct page *page, unsigned int len,
			 unsigned int offset)
{
	if (bio->bi_vcnt >= bio->bi_max_vecs)
		return false;
	__bio_add_page(bio, page, len, offset);
	return true;
}

void rcrypt_test_bio_free(struct bio *bio)
{
	bio_uninit(bio);
	kfree(bio);
}
#endif
