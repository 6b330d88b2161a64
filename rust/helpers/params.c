// SPDX-License-Identifier: GPL-2.0
/*
 * dm-rcrypt's module parameters (read by rust/params.rs).
 */
#include "../bindings/bindings.h"
#include <linux/moduleparam.h>

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
/* rcrypt's own: register the target under the name crypt instead of rcrypt (read at load). */
bool rcrypt_crypt_alias = false;
module_param_named(crypt_alias, rcrypt_crypt_alias, bool, 0444);
MODULE_PARM_DESC(crypt_alias, "Register the target as crypt instead of rcrypt (drop-in for dm-crypt)");
