// SPDX-License-Identifier: GPL-2.0
/*
 * C wrappers of `static inline` kernel functions used by dm-rcrypt's Rust
 * code. Most forward to one inline; a few run a fixed sequence of kernel
 * calls (one call per sector on the hot path), and the write thread is
 * dm-crypt's dmcrypt_write() loop. Decisions of the target stay in Rust.
 */
#include "bindings/bindings.h"
#include <linux/sched/task_stack.h>

unsigned int rcrypt_skcipher_ivsize(struct crypto_skcipher *tfm)
{
	return crypto_skcipher_ivsize(tfm);
}

unsigned int rcrypt_skcipher_blocksize(struct crypto_skcipher *tfm)
{
	return crypto_skcipher_blocksize(tfm);
}

void rcrypt_skcipher_free(struct crypto_skcipher *tfm)
{
	crypto_free_skcipher(tfm);
}

struct key *rcrypt_request_key(struct key_type *type, const char *desc)
{
	return request_key(type, desc, NULL);
}

const struct user_key_payload *rcrypt_user_key_payload_locked(const struct key *key)
{
	return user_key_payload_locked(key);
}

void *rcrypt_key_payload_locked(const struct key *key)
{
	return dereference_key_locked(key);
}

/* The encrypted and trusted key types, or NULL when the kernel lacks them. */
struct key_type *rcrypt_key_type_encrypted(void)
{
#if IS_ENABLED(CONFIG_ENCRYPTED_KEYS)
	return &key_type_encrypted;
#else
	return NULL;
#endif
}

struct key_type *rcrypt_key_type_trusted(void)
{
#if IS_ENABLED(CONFIG_TRUSTED_KEYS)
	return &key_type_trusted;
#else
	return NULL;
#endif
}

bool rcrypt_bdev_has_integrity(struct block_device *bdev)
{
	return bdev_get_integrity(bdev) != NULL;
}

/*
 * device-mapper's DMERR / DMWARN (macros) for the rcrypt target: the same
 * "device-mapper: <target>: <message>" lines as dm-crypt's.
 */
#define DM_MSG_PREFIX "rcrypt"

void rcrypt_dm_log(bool err, const char *msg)
{
	if (err)
		DMERR("%s", msg);
	else
		DMWARN("%s", msg);
}

void rcrypt_memzero_explicit(void *p, size_t len)
{
	memzero_explicit(p, len);
}

/* Module parameters, as dm-crypt's: 0 means the default (128 KiB). */
unsigned int rcrypt_max_read_size = 0;
module_param_named(max_read_size, rcrypt_max_read_size, uint, 0644);
MODULE_PARM_DESC(max_read_size, "Maximum size of a read request");
unsigned int rcrypt_max_write_size = 0;
module_param_named(max_write_size, rcrypt_max_write_size, uint, 0644);
MODULE_PARM_DESC(max_write_size, "Maximum size of a write request");
/* rcrypt's own: live counters in the INFO status (off: INFO is dm-crypt's, empty). */
bool rcrypt_info_counters = false;
module_param_named(info_counters, rcrypt_info_counters, bool, 0644);
MODULE_PARM_DESC(info_counters, "Show I/O counters in the INFO status line");

void *rcrypt_dm_per_bio_data(struct bio *bio, size_t size)
{
	return dm_per_bio_data(bio, size);
}

struct bio *rcrypt_dm_bio_from_per_bio_data(void *data, size_t size)
{
	return dm_bio_from_per_bio_data(data, size);
}

/* Bio::is_write() reads op_is_write()'s rule: odd operations write. */
static_assert((REQ_OP_WRITE & 1) && !(REQ_OP_READ & 1) && (REQ_OP_DISCARD & 1));

void rcrypt_bio_set_dev(struct bio *bio, struct block_device *bdev)
{
	bio_set_dev(bio, bdev);
}

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

unsigned int rcrypt_bdev_logical_block_size(struct block_device *bdev)
{
	return bdev_logical_block_size(bdev);
}

bool rcrypt_bdev_rotational(struct block_device *bdev)
{
	return !bdev_nonrot(bdev);
}

unsigned int rcrypt_skcipher_reqsize(struct crypto_skcipher *tfm)
{
	return crypto_skcipher_reqsize(tfm);
}

/*
 * One cipher operation of `req` from sg[0] to sg[1] with `iv` (the
 * skcipher_request_set_*() and encrypt/decrypt of a request, which are
 * inline), not waited for: the caller waits with rcrypt_crypto_wait_req()
 * if an asynchronous transform queued it (-EINPROGRESS, -EBUSY). `wait`
 * was initialised once per request; crypto_wait_req() re-arms it.
 */
static __always_inline int __rcrypt_skcipher_run(struct skcipher_request *req,
						 struct crypto_skcipher *tfm,
						 struct scatterlist *sg, unsigned int len,
						 u8 *iv, struct crypto_wait *wait, bool encrypt)
{
	skcipher_request_set_tfm(req, tfm);
	skcipher_request_set_callback(req, CRYPTO_TFM_REQ_MAY_BACKLOG | CRYPTO_TFM_REQ_MAY_SLEEP,
				      crypto_req_done, wait);
	skcipher_request_set_crypt(req, sg, sg + 1, len, iv);
	return encrypt ? crypto_skcipher_encrypt(req) : crypto_skcipher_decrypt(req);
}

int rcrypt_skcipher_run(struct skcipher_request *req, struct crypto_skcipher *tfm,
			struct scatterlist *sg, unsigned int len, u8 *iv,
			struct crypto_wait *wait, bool encrypt)
{
	return __rcrypt_skcipher_run(req, tfm, sg, len, iv, wait, encrypt);
}

/*
 * rcrypt_skcipher_run() over `len` bytes of two page ranges (which may be
 * the same): the hot path, once per encryption sector, in one call.
 */
/*
 * sg_init_table(sg, 1) and sg_set_page(): the same entry, without the two
 * calls (sg_init_table() is out of line and calls memset() with a size it
 * cannot see; here the size is constant and the zeroing a few stores).
 */
static __always_inline void rcrypt_sg_set_one(struct scatterlist *sg, struct page *page,
					      unsigned int len, unsigned int offset)
{
	memset(sg, 0, sizeof(*sg));
	sg_init_marker(sg, 1);
	sg_set_page(sg, page, len, offset);
}

int rcrypt_skcipher_crypt_pages(struct skcipher_request *req, struct crypto_skcipher *tfm,
				struct scatterlist *sg, struct page *src, unsigned int src_off,
				struct page *dst, unsigned int dst_off, unsigned int len, u8 *iv,
				struct crypto_wait *wait, bool encrypt)
{
	rcrypt_sg_set_one(sg, src, len, src_off);
	rcrypt_sg_set_one(sg + 1, dst, len, dst_off);
	return __rcrypt_skcipher_run(req, tfm, sg, len, iv, wait, encrypt);
}

int rcrypt_crypto_wait_req(int err, struct crypto_wait *wait)
{
	return crypto_wait_req(err, wait);
}

void rcrypt_crypto_init_wait(struct crypto_wait *wait)
{
	crypto_init_wait(wait);
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

/* cond_resched() (a macro): a scheduling point in long conversions. */
void rcrypt_cond_resched(void)
{
	cond_resched();
}

size_t rcrypt_kmalloc_max_size(void)
{
	return KMALLOC_MAX_SIZE;
}

unsigned int rcrypt_num_online_cpus(void)
{
	return num_online_cpus();
}

u64 rcrypt_ktime_ns(void)
{
	return ktime_get_ns();
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

struct workqueue_struct *rcrypt_alloc_workqueue(const char *name, unsigned int flags,
						int max_active)
{
	return alloc_workqueue("%s", flags, max_active, name);
}

/*
 * The write thread, dm-crypt's dmcrypt_write(): takes the whole tree of
 * queued writes at once and submits them in sector order under a plug. A
 * node is erased before its clone is submitted, as the clone may complete,
 * and end its base bio (freeing the node), at once.
 */
static int rcrypt_write_thread_fn(void *data)
{
	struct rcrypt_write_thread *wt = data;

	while (1) {
		struct rb_root write_tree;
		struct blk_plug plug;

		spin_lock_irq(&wt->lock);
continue_locked:
		if (!RB_EMPTY_ROOT(&wt->tree))
			goto pop_from_list;

		set_current_state(TASK_INTERRUPTIBLE);
		spin_unlock_irq(&wt->lock);

		if (unlikely(kthread_should_stop())) {
			set_current_state(TASK_RUNNING);
			break;
		}

		schedule();

		spin_lock_irq(&wt->lock);
		goto continue_locked;

pop_from_list:
		write_tree = wt->tree;
		wt->tree = RB_ROOT;
		spin_unlock_irq(&wt->lock);

		blk_start_plug(&plug);
		do {
			struct rcrypt_sorted_bio *n =
				rb_entry(rb_first(&write_tree), struct rcrypt_sorted_bio, rb_node);
			struct bio *base = n->base, *clone = n->clone;

			rb_erase(&n->rb_node, &write_tree);
			dm_submit_bio_remap(base, clone);
			cond_resched();
		} while (!RB_EMPTY_ROOT(&write_tree));
		blk_finish_plug(&plug);
	}
	return 0;
}

/* crypt_ctr()'s part for the write thread, named after the mapped device. */
int rcrypt_write_thread_start(struct rcrypt_write_thread *wt, const char *devname,
			      bool high_priority)
{
	struct task_struct *task;

	spin_lock_init(&wt->lock);
	wt->tree = RB_ROOT;
	task = kthread_run(rcrypt_write_thread_fn, wt, "rcrypt_write/%s", devname);
	if (IS_ERR(task))
		return PTR_ERR(task);
	wt->task = task;
	if (high_priority)
		set_user_nice(task, MIN_NICE);
	return 0;
}

/* Stops the thread once it has submitted every queued write. */
void rcrypt_write_thread_stop(struct rcrypt_write_thread *wt)
{
	kthread_stop(wt->task);
}

/*
 * kcryptd_crypt_write_io_submit()'s queueing part: the clone (its sector
 * set, its completion set up to end `base`) goes into the tree by sector.
 */
void rcrypt_write_thread_submit(struct rcrypt_write_thread *wt, struct rcrypt_sorted_bio *node,
				struct bio *base, struct bio *clone)
{
	sector_t sector = clone->bi_iter.bi_sector;
	struct rb_node **rbp, *parent;
	unsigned long flags;

	node->base = base;
	node->clone = clone;
	spin_lock_irqsave(&wt->lock, flags);
	if (RB_EMPTY_ROOT(&wt->tree))
		wake_up_process(wt->task);
	rbp = &wt->tree.rb_node;
	parent = NULL;
	while (*rbp) {
		parent = *rbp;
		if (sector < rb_entry(parent, struct rcrypt_sorted_bio, rb_node)->clone->bi_iter.bi_sector)
			rbp = &(*rbp)->rb_left;
		else
			rbp = &(*rbp)->rb_right;
	}
	rb_link_node(&node->rb_node, parent, rbp);
	rb_insert_color(&node->rb_node, &wt->tree);
	spin_unlock_irqrestore(&wt->lock, flags);
}

void rcrypt_init_work(struct work_struct *work, work_func_t fn)
{
	INIT_WORK(work, fn);
}

bool rcrypt_queue_work(struct workqueue_struct *wq, struct work_struct *work)
{
	return queue_work(wq, work);
}

mempool_t *rcrypt_mempool_create_kmalloc_pool(int min_nr, size_t size)
{
	return mempool_create_kmalloc_pool(min_nr, size);
}

void *rcrypt_mempool_alloc(mempool_t *pool, gfp_t gfp)
{
	return mempool_alloc(pool, gfp);
}

/* mempool_init() (a macro): a mempool in memory of the caller's. */
int rcrypt_mempool_init(mempool_t *pool, int min_nr, mempool_alloc_t *alloc_fn,
			mempool_free_t *free_fn, void *pool_data)
{
	return mempool_init(pool, min_nr, alloc_fn, free_fn, pool_data);
}

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

unsigned long rcrypt_totalram_pages(void)
{
	return totalram_pages();
}

unsigned long rcrypt_totalhigh_pages(void)
{
	return totalhigh_pages();
}

/* WARN() (a macro): a warning with a backtrace. */
void rcrypt_warn(const char *msg)
{
	WARN(1, "%s\n", msg);
}

void *rcrypt_page_address(struct page *page)
{
	return page_address(page);
}
