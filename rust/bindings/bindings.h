/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The kernel interfaces dm-rcrypt uses from Rust. bindgen runs over this
 * header (see Kbuild); rust/helpers.c wraps its `static inline` functions.
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
#include <linux/rwsem.h>
#include <crypto/skcipher.h>
#include <kunit/test.h>

/* Helpers for static inline functions (rust/helpers.c). */
unsigned int rcrypt_skcipher_ivsize(struct crypto_skcipher *tfm);
unsigned int rcrypt_skcipher_blocksize(struct crypto_skcipher *tfm);
void rcrypt_skcipher_free(struct crypto_skcipher *tfm);
const char *rcrypt_skcipher_driver_name(struct crypto_skcipher *tfm);
struct key *rcrypt_request_key(struct key_type *type, const char *desc);
const struct user_key_payload *rcrypt_user_key_payload_locked(const struct key *key);
void *rcrypt_key_payload_locked(const struct key *key);
struct key_type *rcrypt_key_type_encrypted(void);
struct key_type *rcrypt_key_type_trusted(void);
bool rcrypt_bdev_has_integrity(struct block_device *bdev);
void rcrypt_memzero_explicit(void *p, size_t len);

#endif
