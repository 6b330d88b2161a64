// SPDX-License-Identifier: GPL-2.0
/*
 * <crypto/skcipher.h>, <crypto/aead.h>, <crypto/hash.h>, <linux/crypto.h>,
 * <linux/scatterlist.h>: forwards of the `static inline` functions and
 * macros that Rust cannot call (rust/crypto.rs, rust/crypto/aead.rs,
 * rust/crypto/request.rs).
 */
#include "../bindings/bindings.h"
#include <crypto/aead.h>
#include <crypto/hash.h>
#include <crypto/skcipher.h>
#include <linux/crypto.h>
#include <linux/scatterlist.h>

/*
 * One cipher operation of `req` from `src` to `dst` with `iv` (the
 * skcipher_request_set_*() and encrypt/decrypt of a request, which are
 * inline), not waited for: the caller waits with rcrypt_crypto_wait_req()
 * if an asynchronous transform queued it (-EINPROGRESS, -EBUSY), or, where
 * it may not sleep, leaves it in flight and waits later. `wait` was
 * initialised once per request; crypto_wait_req() re-arms it. `op` holds
 * the request's CRYPTO_TFM_REQ_* flags (MAY_BACKLOG, and MAY_SLEEP where
 * the caller may sleep) and RCRYPT_OP_ENCRYPT to encrypt: one argument, as
 * the hot path passes most of its arguments on the stack already.
 */
static __always_inline int __rcrypt_skcipher_run(struct skcipher_request *req,
						 struct crypto_skcipher *tfm,
						 struct scatterlist *src, struct scatterlist *dst,
						 unsigned int len, u8 *iv, struct crypto_wait *wait,
						 u32 op)
{
	skcipher_request_set_tfm(req, tfm);
	skcipher_request_set_callback(req, op & ~RCRYPT_OP_ENCRYPT, crypto_req_done, wait);
	skcipher_request_set_crypt(req, src, dst, len, iv);
	return op & RCRYPT_OP_ENCRYPT ? crypto_skcipher_encrypt(req) : crypto_skcipher_decrypt(req);
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
				struct crypto_wait *wait, u32 op)
{
	rcrypt_sg_set_one(sg, src, len, src_off);
	rcrypt_sg_set_one(sg + 1, dst, len, dst_off);
	return __rcrypt_skcipher_run(req, tfm, sg, sg + 1, len, iv, wait, op);
}

/*
 * One cipher operation of `req` over `len` bytes from the scatterlist `src`
 * to `dst` (which may be the same; built by rcrypt_bio_fill_sg() for a
 * sector that spans bio vectors), not waited for: see
 * __rcrypt_skcipher_run().
 */
int rcrypt_skcipher_crypt_sg(struct skcipher_request *req, struct crypto_skcipher *tfm,
			     struct scatterlist *src, struct scatterlist *dst, unsigned int len,
			     u8 *iv, struct crypto_wait *wait, u32 op)
{
	return __rcrypt_skcipher_run(req, tfm, src, dst, len, iv, wait, op);
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
			struct crypto_wait *wait, u32 op)
{
	return __rcrypt_skcipher_run(req, tfm, sg, sg + 1, len, iv, wait, op);
}

/* <crypto/aead.h>: AEAD transforms and requests (rust/crypto/aead.rs). */

unsigned int rcrypt_aead_reqsize(struct crypto_aead *tfm)
{
	return crypto_aead_reqsize(tfm);
}

unsigned int rcrypt_aead_ivsize(struct crypto_aead *tfm)
{
	return crypto_aead_ivsize(tfm);
}

unsigned int rcrypt_aead_authsize(struct crypto_aead *tfm)
{
	return crypto_aead_authsize(tfm);
}

unsigned int rcrypt_aead_blocksize(struct crypto_aead *tfm)
{
	return crypto_aead_blocksize(tfm);
}

void rcrypt_aead_free(struct crypto_aead *tfm)
{
	crypto_free_aead(tfm);
}

/*
 * One sector of dm-crypt's AEAD layout (crypt_convert_block_aead()):
 * associated data `ad` (the sector number, little-endian, and the IV),
 * then `len` bytes of data, then the `tag_len`-byte tag; sg[0..3] are the
 * source, sg[3..6] the destination, with the same associated data and tag.
 * Encryption reads the data from `src` and writes it to `dst` and the tag
 * to `tag`; decryption reads data and tag and writes the data (-EBADMSG if
 * the tag does not verify). `ad` and `tag` are in the linear map. Not
 * waited for (see __rcrypt_skcipher_run()).
 */
int rcrypt_aead_crypt_pages(struct aead_request *req, struct crypto_aead *tfm,
			    struct scatterlist *sg, u8 *ad, unsigned int ad_len,
			    struct page *src, unsigned int src_off,
			    struct page *dst, unsigned int dst_off, unsigned int len,
			    u8 *tag, unsigned int tag_len, u8 *iv,
			    struct crypto_wait *wait, u32 op)
{
	sg_init_table(sg, 3);
	sg_set_buf(&sg[0], ad, ad_len);
	sg_set_page(&sg[1], src, len, src_off);
	sg_set_buf(&sg[2], tag, tag_len);
	sg_init_table(sg + 3, 3);
	sg_set_buf(&sg[3], ad, ad_len);
	sg_set_page(&sg[4], dst, len, dst_off);
	sg_set_buf(&sg[5], tag, tag_len);

	aead_request_set_tfm(req, tfm);
	aead_request_set_callback(req, op & ~RCRYPT_OP_ENCRYPT, crypto_req_done, wait);
	aead_request_set_ad(req, ad_len);
	if (op & RCRYPT_OP_ENCRYPT) {
		aead_request_set_crypt(req, sg, sg + 3, len, iv);
		return crypto_aead_encrypt(req);
	}
	aead_request_set_crypt(req, sg, sg + 3, len + tag_len, iv);
	return crypto_aead_decrypt(req);
}

/* The digest size of hash `name` (dm-crypt's crypt_ctr_auth_cipher()). */
int rcrypt_hash_digestsize(const char *name)
{
	struct crypto_ahash *mac = crypto_alloc_ahash(name, 0, CRYPTO_ALG_ALLOCATES_MEMORY);
	int size;

	if (IS_ERR(mac))
		return PTR_ERR(mac);
	size = crypto_ahash_digestsize(mac);
	crypto_free_ahash(mac);
	return size;
}
