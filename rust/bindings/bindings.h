/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The kernel interfaces dm-rcrypt uses from Rust. bindgen runs over this
 * header (see Kbuild); rust/helpers/ wraps its `static inline` functions.
 */
#ifndef RCRYPT_BINDINGS_H
#define RCRYPT_BINDINGS_H

#include <linux/bio.h>
#include <linux/blkdev.h>
#include <linux/device-mapper.h>
#include <linux/mempool.h>
#include <linux/key.h>
#include <linux/key-type.h>
#include <keys/user-type.h>
#include <keys/encrypted-type.h>
#include <keys/trusted-type.h>
#include <linux/blk-integrity.h>
#include <linux/bio-integrity.h>
#include <linux/rwsem.h>
#include <crypto/skcipher.h>
#include <crypto/aead.h>
#include <kunit/test.h>
#include <linux/scatterlist.h>
#include <linux/workqueue.h>
#include <linux/moduleparam.h>
#include <linux/kthread.h>
#include <linux/rbtree.h>
#include <linux/spinlock.h>

/* Forwards of static inline functions and macros (rust/helpers/). */
unsigned int rcrypt_skcipher_ivsize(struct crypto_skcipher *tfm);
unsigned int rcrypt_skcipher_blocksize(struct crypto_skcipher *tfm);
void rcrypt_skcipher_free(struct crypto_skcipher *tfm);
struct key *rcrypt_request_key(struct key_type *type, const char *desc);
const struct user_key_payload *rcrypt_user_key_payload_locked(const struct key *key);
void *rcrypt_key_payload_locked(const struct key *key);
struct key_type *rcrypt_key_type_encrypted(void);
struct key_type *rcrypt_key_type_trusted(void);
bool rcrypt_bdev_integrity(struct block_device *bdev, bool *csum_none,
			   unsigned int *tuple_size, unsigned int *interval);
void rcrypt_memzero_explicit(void *p, size_t len);

/* Bios. */
void *rcrypt_dm_per_bio_data(struct bio *bio, size_t size);
struct bio *rcrypt_dm_bio_from_per_bio_data(void *data, size_t size);
void rcrypt_bio_set_dev(struct bio *bio, struct block_device *bdev);
unsigned int rcrypt_bio_next_run(struct bio *bio, struct bvec_iter *iter,
				 struct bio *out, struct bvec_iter *oiter,
				 unsigned int max, unsigned int mask,
				 struct page **page, unsigned int *offset,
				 struct page **opage, unsigned int *ooffset);
unsigned int rcrypt_bio_fill_sg(struct bio *bio, struct bvec_iter *iter, unsigned int len,
				struct scatterlist *sg, unsigned int cap);
unsigned int rcrypt_bio_fill_sg_batch(struct bio *bio, struct bvec_iter *iter,
				      struct scatterlist *sg, struct bio *out,
				      struct bvec_iter *oiter, struct scatterlist *osg,
				      unsigned int max, unsigned int mask, unsigned int cap,
				      unsigned int *spread);
struct bio *rcrypt_test_bio_alloc(unsigned short nr);
bool rcrypt_test_bio_add(struct bio *bio, struct page *page, unsigned int len,
			 unsigned int offset);
void rcrypt_test_bio_free(struct bio *bio);
unsigned int rcrypt_bdev_logical_block_size(struct block_device *bdev);
bool rcrypt_bdev_rotational(struct block_device *bdev);
bool rcrypt_bdev_is_zoned(struct block_device *bdev);
int rcrypt_dm_report_zones(struct dm_target *ti, struct dm_report_zones_args *args,
			   unsigned int nr_zones, struct block_device *bdev, sector_t start);

/* Crypto requests. */
unsigned int rcrypt_skcipher_reqsize(struct crypto_skcipher *tfm);
int rcrypt_skcipher_run(struct skcipher_request *req, struct crypto_skcipher *tfm,
			struct scatterlist *sg, unsigned int len, u8 *iv,
			struct crypto_wait *wait, u32 op);
int rcrypt_skcipher_crypt_pages(struct skcipher_request *req, struct crypto_skcipher *tfm,
				struct scatterlist *sg, struct page *src, unsigned int src_off,
				struct page *dst, unsigned int dst_off, unsigned int len, u8 *iv,
				struct crypto_wait *wait, u32 op);
int rcrypt_skcipher_crypt_sg(struct skcipher_request *req, struct crypto_skcipher *tfm,
			     struct scatterlist *src, struct scatterlist *dst, unsigned int len,
			     u8 *iv, struct crypto_wait *wait, u32 op);
void rcrypt_crypto_init_wait(struct crypto_wait *wait);
unsigned int rcrypt_aead_reqsize(struct crypto_aead *tfm);
unsigned int rcrypt_aead_ivsize(struct crypto_aead *tfm);
unsigned int rcrypt_aead_authsize(struct crypto_aead *tfm);
unsigned int rcrypt_aead_blocksize(struct crypto_aead *tfm);
void rcrypt_aead_free(struct crypto_aead *tfm);
int rcrypt_aead_crypt_pages(struct aead_request *req, struct crypto_aead *tfm,
			    struct scatterlist *sg, u8 *ad, unsigned int ad_len,
			    struct page *src, unsigned int src_off,
			    struct page *dst, unsigned int dst_off, unsigned int len,
			    u8 *tag, unsigned int tag_len, u8 *iv,
			    struct crypto_wait *wait, u32 op);
int rcrypt_hash_digestsize(const char *name);
int rcrypt_crypto_wait_req(int err, struct crypto_wait *wait);
void rcrypt_memcpy_from_page(void *to, struct page *page, size_t offset, size_t len);
void rcrypt_memcpy_to_page(struct page *page, size_t offset, const void *from, size_t len);

/* Execution context. */
bool rcrypt_may_sleep(void);
void rcrypt_cond_resched(void);
bool rcrypt_task_stack(unsigned long *sp, unsigned long *base);
void rcrypt_dm_log(bool err, const char *msg);
void rcrypt_dm_integrity_error(struct block_device *bdev, u64 sector);
unsigned int rcrypt_num_online_cpus(void);
size_t rcrypt_kmalloc_max_size(void);
u64 rcrypt_ktime_ns(void);

/* Work queues. */
struct workqueue_struct *rcrypt_alloc_workqueue(const char *name, unsigned int flags,
						int max_active);
void rcrypt_init_work(struct work_struct *work, work_func_t fn);
bool rcrypt_queue_work(struct workqueue_struct *wq, struct work_struct *work);
void rcrypt_init_work_bh(struct work_struct *work, work_func_t fn);
bool rcrypt_queue_work_bh(struct work_struct *work);

/* Kernel threads, the write thread's sleep and its lock (rust/kthread.rs, rust/sync.rs). */
struct task_struct *rcrypt_kthread_run(int (*fn)(void *), void *data, const char *prefix,
				       const char *name);
void rcrypt_set_current_state(unsigned int state);
unsigned long rcrypt_spin_lock_irqsave(spinlock_t *lock);
void rcrypt_spin_unlock_irqrestore(spinlock_t *lock, unsigned long flags);

/* Red-black trees (the write thread's queue). */
void rcrypt_rb_link_node(struct rb_node *node, struct rb_node *parent, struct rb_node **link);

/* Mempools. */
mempool_t *rcrypt_mempool_create_kmalloc_pool(int min_nr, size_t size);
int rcrypt_mempool_init(mempool_t *pool, int min_nr, mempool_alloc_t *alloc_fn,
			mempool_free_t *free_fn, void *pool_data);
void *rcrypt_mempool_alloc(mempool_t *pool, gfp_t gfp);
void *rcrypt_tag_kmalloc(size_t len, bool zero);
void rcrypt_kfree(void *p);
bool rcrypt_bio_integrity_is(struct bio *bio, const void *buf, unsigned int len);
int rcrypt_bio_integrity_attach(struct bio *bio, void *buf, unsigned int len,
				sector_t seed, gfp_t gfp);
void *rcrypt_page_address(struct page *page);

/* Pages (the write-buffer page pool, rust/bio/page_pool.rs). */
struct page *rcrypt_alloc_pages(gfp_t gfp, unsigned int order);
unsigned long rcrypt_free_buffer_page(struct page *page, mempool_t *pool);
unsigned long rcrypt_totalram_pages(void);
unsigned long rcrypt_totalhigh_pages(void);
void rcrypt_warn(const char *msg);

/* Module parameters (rust/helpers/params.c). */
extern unsigned int rcrypt_max_read_size;
extern unsigned int rcrypt_max_write_size;
extern bool rcrypt_info_counters;
extern bool rcrypt_crypt_alias;

/* The crypto run helpers' `op`: encrypt (a bit no CRYPTO_TFM_REQ_* flag uses). */
#define RCRYPT_OP_ENCRYPT 1u
_Static_assert(!(CRYPTO_TFM_REQ_MASK & RCRYPT_OP_ENCRYPT), "RCRYPT_OP_ENCRYPT");

#ifdef __BINDGEN__
/* Constants bindgen cannot evaluate from their macros. */
const gfp_t RCRYPT_GFP_NOIO = GFP_NOIO;
const gfp_t RCRYPT_GFP_NOWAIT = GFP_NOWAIT;
const gfp_t RCRYPT_GFP_KERNEL = GFP_KERNEL;
const gfp_t RCRYPT___GFP_NORETRY = __GFP_NORETRY;
const gfp_t RCRYPT___GFP_NOMEMALLOC = __GFP_NOMEMALLOC;
const gfp_t RCRYPT___GFP_NOWARN = __GFP_NOWARN;
const gfp_t RCRYPT___GFP_COMP = __GFP_COMP;
const blk_status_t RCRYPT_BLK_STS_OK = BLK_STS_OK;
const blk_status_t RCRYPT_BLK_STS_IOERR = BLK_STS_IOERR;
const blk_status_t RCRYPT_BLK_STS_RESOURCE = BLK_STS_RESOURCE;
const blk_status_t RCRYPT_BLK_STS_PROTECTION = BLK_STS_PROTECTION;
const blk_opf_t RCRYPT_REQ_PREFLUSH = REQ_PREFLUSH;
const blk_opf_t RCRYPT_REQ_INTEGRITY = REQ_INTEGRITY;
const blk_opf_t RCRYPT_REQ_OP_MASK = REQ_OP_MASK;
const blk_opf_t RCRYPT_REQ_ALLOC_CACHE = REQ_ALLOC_CACHE;
const unsigned int RCRYPT_BIO_MAX_VECS = BIO_MAX_VECS;
const unsigned long RCRYPT_PAGE_SIZE = PAGE_SIZE;
const unsigned long RCRYPT_THREAD_SIZE = THREAD_SIZE;
const unsigned int RCRYPT_MAX_PAGE_ORDER = MAX_PAGE_ORDER;
const unsigned int RCRYPT_TASK_RUNNING = TASK_RUNNING;
const unsigned int RCRYPT_TASK_INTERRUPTIBLE = TASK_INTERRUPTIBLE;
const long RCRYPT_MIN_NICE = MIN_NICE;
#endif

#endif
