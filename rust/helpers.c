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

const char *rcrypt_skcipher_driver_name(struct crypto_skcipher *tfm)
{
	return crypto_tfm_alg_driver_name(crypto_skcipher_tfm(tfm));
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
 * device-mapper's DMWARN / DMERR for the rcrypt target: the same
 * "device-mapper: <target>: <message>" lines as dm-crypt's.
 */
void rcrypt_dm_log(bool err, const char *msg)
{
	if (err)
		pr_err("device-mapper: rcrypt: %s\n", msg);
	else
		pr_warn("device-mapper: rcrypt: %s\n", msg);
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
 * One cipher operation of `req` from sg[0] to sg[1] with `iv`, waited for
 * (`wait` initialised once per request; crypto_wait_req() re-arms it).
 * *queued tells whether an asynchronous transform queued or backlogged it.
 */
static __always_inline int __rcrypt_skcipher_run(struct skcipher_request *req,
						 struct crypto_skcipher *tfm,
						 struct scatterlist *sg, unsigned int len,
						 u8 *iv, struct crypto_wait *wait,
						 bool encrypt, bool *queued)
{
	int r;

	skcipher_request_set_tfm(req, tfm);
	skcipher_request_set_callback(req, CRYPTO_TFM_REQ_MAY_BACKLOG | CRYPTO_TFM_REQ_MAY_SLEEP,
				      crypto_req_done, wait);
	skcipher_request_set_crypt(req, sg, sg + 1, len, iv);
	r = encrypt ? crypto_skcipher_encrypt(req) : crypto_skcipher_decrypt(req);
	*queued = r == -EINPROGRESS || r == -EBUSY;
	return crypto_wait_req(r, wait);
}

int rcrypt_skcipher_run(struct skcipher_request *req, struct crypto_skcipher *tfm,
			struct scatterlist *sg, unsigned int len, u8 *iv,
			struct crypto_wait *wait, bool encrypt, bool *queued)
{
	return __rcrypt_skcipher_run(req, tfm, sg, len, iv, wait, encrypt, queued);
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
				struct crypto_wait *wait, bool encrypt, bool *queued)
{
	rcrypt_sg_set_one(sg, src, len, src_off);
	rcrypt_sg_set_one(sg + 1, dst, len, dst_off);
	return __rcrypt_skcipher_run(req, tfm, sg, len, iv, wait, encrypt, queued);
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
 * Bytes of the current task's stack left below the stack pointer; SIZE_MAX
 * outside task context or off the task's stack (an interrupt stack), where
 * the caller does not run inline crypto anyway.
 */
size_t rcrypt_task_stack_left(void)
{
	unsigned long sp = current_stack_pointer;
	unsigned long base = (unsigned long)task_stack_page(current);

	if (!in_task() || sp < base || sp - base >= THREAD_SIZE)
		return SIZE_MAX;
	return sp - base;
}

size_t rcrypt_thread_size(void)
{
	return THREAD_SIZE;
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

/* A buffer in the kernel's linear map (kmalloc), as sg_init_one() wants. */
void rcrypt_sg_init_one(struct scatterlist *sg, const void *buf, unsigned int len)
{
	sg_init_one(sg, buf, len);
}

/*
 * memcpy_from_page()/memcpy_to_page() for a range that may run over several
 * pages of a multi-page bvec (offset may exceed PAGE_SIZE).
 */
void rcrypt_memcpy_from_page(void *to, struct page *page, size_t offset, size_t len)
{
	page += offset >> PAGE_SHIFT;
	offset &= ~PAGE_MASK;
	while (len) {
		size_t n = min_t(size_t, len, PAGE_SIZE - offset);

		memcpy_from_page(to, page, offset, n);
		to += n;
		len -= n;
		page++;
		offset = 0;
	}
}

void rcrypt_memcpy_to_page(struct page *page, size_t offset, const void *from, size_t len)
{
	page += offset >> PAGE_SHIFT;
	offset &= ~PAGE_MASK;
	while (len) {
		size_t n = min_t(size_t, len, PAGE_SIZE - offset);

		memcpy_to_page(page, offset, from, n);
		from += n;
		len -= n;
		page++;
		offset = 0;
	}
}

struct workqueue_struct *rcrypt_alloc_workqueue(const char *name, unsigned int flags,
						int max_active)
{
	return alloc_workqueue("%s", flags, max_active, name);
}

struct task_struct *rcrypt_kthread_run(int (*fn)(void *), void *data, const char *prefix,
				       const char *name)
{
	return kthread_run(fn, data, "%s%s", prefix, name);
}

void rcrypt_set_current_state(unsigned int state)
{
	set_current_state(state);
}

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

void rcrypt_rb_link_node(struct rb_node *node, struct rb_node *parent, struct rb_node **link)
{
	rb_link_node(node, parent, link);
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

/*
 * Write-buffer pages: dm-crypt's page_pool with crypt_page_alloc() and
 * crypt_page_free(), its n_allocated_pages, and the compound pages of
 * crypt_alloc_buffer(). Every page a pool holds (the mempool's reserve,
 * single pages handed out, compound pages) is counted in `pages`, and an
 * allocation that may fail (__GFP_NORETRY, which mempool_alloc() sets on
 * every call of the pool's alloc function; compound pages always) is
 * refused when it would take `pages` beyond rcrypt_pages_per_client.
 * The count is exact (a compare-exchange, where dm-crypt reads a percpu
 * counter that may be off by its batch per CPU), so `pages` and `peak`
 * never exceed the cap in force when the pages were taken.
 */
struct rcrypt_page_pool {
	mempool_t pool;
	atomic_long_t pages;
	atomic_long_t peak;
};

/* dm-crypt's DM_CRYPT_MEMORY_PERCENT and DM_CRYPT_MIN_PAGES_PER_CLIENT. */
#define RCRYPT_MEMORY_PERCENT 2
#define RCRYPT_MIN_PAGES_PER_CLIENT (BIO_MAX_VECS * 16)

/*
 * dm_crypt_clients_n and dm_crypt_pages_per_client: the pools (one per
 * rcrypt target) share 2% of low memory, as dm-crypt's targets do theirs.
 */
static DEFINE_SPINLOCK(rcrypt_clients_lock);
static unsigned int rcrypt_clients_n;
static unsigned long rcrypt_pages_per_client = RCRYPT_MIN_PAGES_PER_CLIENT;

/* crypt_calculate_pages_per_client(); rcrypt_clients_lock held. */
static void rcrypt_calculate_pages_per_client(void)
{
	unsigned long pages = (totalram_pages() - totalhigh_pages()) * RCRYPT_MEMORY_PERCENT / 100;

	if (!rcrypt_clients_n)
		return;
	pages /= rcrypt_clients_n;
	if (pages < RCRYPT_MIN_PAGES_PER_CLIENT)
		pages = RCRYPT_MIN_PAGES_PER_CLIENT;
	WRITE_ONCE(rcrypt_pages_per_client, pages);
}

static void rcrypt_clients_add(int n)
{
	spin_lock(&rcrypt_clients_lock);
	WARN_ON(n < 0 && !rcrypt_clients_n);
	rcrypt_clients_n += n;
	rcrypt_calculate_pages_per_client();
	spin_unlock(&rcrypt_clients_lock);
}

unsigned long rcrypt_pages_per_client_now(void)
{
	return READ_ONCE(rcrypt_pages_per_client);
}

/* Counts `n` more pages; with `capped`, only if they stay within the cap. */
static bool rcrypt_pages_get(struct rcrypt_page_pool *pp, long n, bool capped)
{
	long cur = atomic_long_read(&pp->pages);
	long peak;

	do {
		if (capped && cur + n > (long)READ_ONCE(rcrypt_pages_per_client))
			return false;
	} while (!atomic_long_try_cmpxchg(&pp->pages, &cur, cur + n));
	cur += n;
	peak = atomic_long_read(&pp->peak);
	while (cur > peak && !atomic_long_try_cmpxchg(&pp->peak, &peak, cur))
		;
	return true;
}

static void rcrypt_pages_put(struct rcrypt_page_pool *pp, long n)
{
	atomic_long_sub(n, &pp->pages);
}

/* crypt_page_alloc(). */
static void *rcrypt_page_alloc(gfp_t gfp_mask, void *pool_data)
{
	struct rcrypt_page_pool *pp = pool_data;
	struct page *page;

	if (!rcrypt_pages_get(pp, 1, gfp_mask & __GFP_NORETRY))
		return NULL;
	page = alloc_page(gfp_mask);
	if (unlikely(!page))
		rcrypt_pages_put(pp, 1);
	return page;
}

/* crypt_page_free(). */
static void rcrypt_page_free(void *page, void *pool_data)
{
	struct rcrypt_page_pool *pp = pool_data;

	__free_page(page);
	rcrypt_pages_put(pp, 1);
}

/* A pool keeping `min_nr` single pages in reserve; counts as a client. */
struct rcrypt_page_pool *rcrypt_page_pool_create(int min_nr)
{
	struct rcrypt_page_pool *pp = kzalloc(sizeof(*pp), GFP_KERNEL);

	if (!pp)
		return NULL;
	rcrypt_clients_add(1);
	if (mempool_init(&pp->pool, min_nr, rcrypt_page_alloc, rcrypt_page_free, pp)) {
		rcrypt_clients_add(-1);
		kfree(pp);
		return NULL;
	}
	return pp;
}

/* Every page handed out must have come back (crypt_dtr()'s check). */
void rcrypt_page_pool_destroy(struct rcrypt_page_pool *pp)
{
	mempool_exit(&pp->pool);
	WARN_ON(atomic_long_read(&pp->pages) != 0);
	kfree(pp);
	rcrypt_clients_add(-1);
}

/* A single page from the pool's mempool (its reserve if the cap is reached). */
struct page *rcrypt_page_pool_alloc(struct rcrypt_page_pool *pp, gfp_t gfp)
{
	return mempool_alloc(&pp->pool, gfp);
}

/*
 * crypt_alloc_buffer()'s compound pages: 2^order pages if they stay within
 * the cap and come at once, without reclaim, emergency reserves or a
 * warning.
 */
struct page *rcrypt_alloc_buffer_pages(struct rcrypt_page_pool *pp, unsigned int order)
{
	struct page *page;

	if (!rcrypt_pages_get(pp, 1L << order, true))
		return NULL;
	page = alloc_pages(GFP_NOWAIT | __GFP_NOMEMALLOC | __GFP_NORETRY | __GFP_NOWARN | __GFP_COMP,
			   order);
	if (!page)
		rcrypt_pages_put(pp, 1L << order);
	return page;
}

/*
 * crypt_free_buffer_pages() for one page of a write buffer: a compound page
 * goes back to the page allocator, a single page to the pool.
 */
void rcrypt_free_buffer_page(struct page *page, struct rcrypt_page_pool *pp)
{
	struct folio *folio = page_folio(page);

	if (folio_test_large(folio)) {
		long n = folio_nr_pages(folio);

		folio_put(folio);
		rcrypt_pages_put(pp, n);
		return;
	}
	mempool_free(page, &pp->pool);
}

/* Pages the pool holds now, and the most it held at once. */
unsigned long rcrypt_page_pool_pages(struct rcrypt_page_pool *pp)
{
	return max(atomic_long_read(&pp->pages), 0L);
}

unsigned long rcrypt_page_pool_peak(struct rcrypt_page_pool *pp)
{
	return max(atomic_long_read(&pp->peak), 0L);
}

void *rcrypt_page_address(struct page *page)
{
	return page_address(page);
}
