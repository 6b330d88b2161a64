// SPDX-License-Identifier: GPL-2.0
/*
 * <linux/key.h>, <keys/user-type.h>, <keys/encrypted-type.h>,
 * <keys/trusted-type.h>: forwards of the `static inline` functions and
 * macros that Rust cannot call (rust/keys.rs).
 */
#include "../bindings/bindings.h"
#include <linux/key.h>
#include <keys/user-type.h>
#include <keys/encrypted-type.h>
#include <keys/trusted-type.h>

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

struct key *rcrypt_request_key(struct key_type *type, const char *desc)
{
	return request_key(type, desc, NULL);
}

const struct user_key_payload *rcrypt_user_key_payload_locked(const struct key *key)
{
	return user_key_payload_locked(key);
}
