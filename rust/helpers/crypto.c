// SPDX-License-Identifier: GPL-2.0
/*
 * <crypto/skcipher.h>, <linux/crypto.h>, <linux/scatterlist.h>: forwards of
 * the `static inline` functions and macros that Rust cannot call
 * (rust/crypto.rs, rust/crypto/request.rs).
 */
#include "../bindings/bindings.h"
#include <crypto/skcipher.h>
#include <linux/crypto.h>
#include <linux/scatterlist.h>

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

void rcrypt_crypto_init_wait(struct crypto_wait *wait)
{
	crypto_init_wait(wait);
}

int rcrypt_crypto_wait_req(int err, struct crypto_wait *wait)
{
	return crypto_wait_req(err, wait);
}

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

unsigned int rcrypt_skcipher_blocksize(struct crypto_skcipher *tfm)
{
	return crypto_skcipher_blocksize(tfm);
}

/*
 * rcrypt_skcipher_run() over `len` bytes of two page ranges (which may be
 * the same): the hot path, once per encryption sector, in one call.
 */
int rcrypt_skcipher_crypt_pages(struct skcipher_request *req, struct crypto_skcipher *tfm,
				struct scatterlist *sg, struct page *src, unsigned int src_off,
				struct page *dst, unsigned int dst_off, unsigned int len, u8 *iv,
				struct crypto_wait *wait, bool encrypt)
{
	rcrypt_sg_set_one(sg, src, len, src_off);
	rcrypt_sg_set_one(sg + 1, dst, len, dst_off);
	return __rcrypt_skcipher_run(req, tfm, sg, len, iv, wait, encrypt);
}

void rcrypt_skcipher_free(struct crypto_skcipher *tfm)
{
	crypto_free_skcipher(tfm);
}

unsigned int rcrypt_skcipher_ivsize(struct crypto_skcipher *tfm)
{
	return crypto_skcipher_ivsize(tfm);
}

unsigned int rcrypt_skcipher_reqsize(struct crypto_skcipher *tfm)
{
	return crypto_skcipher_reqsize(tfm);
}

int rcrypt_skcipher_run(struct skcipher_request *req, struct crypto_skcipher *tfm,
			struct scatterlist *sg, unsigned int len, u8 *iv,
			struct crypto_wait *wait, bool encrypt)
{
	return __rcrypt_skcipher_run(req, tfm, sg, len, iv, wait, encrypt);
}
