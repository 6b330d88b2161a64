// SPDX-License-Identifier: GPL-2.0
/*
 * C wrappers of `static inline` kernel functions used by dm-rcrypt's Rust
 * code. Nothing here holds logic: each function forwards to one inline.
 */
#include "bindings/bindings.h"

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

void rcrypt_memzero_explicit(void *p, size_t len)
{
	memzero_explicit(p, len);
}
