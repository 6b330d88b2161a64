// SPDX-License-Identifier: GPL-2.0
/*
 * <linux/blkdev.h>, <linux/blk-integrity.h>: forwards of the `static
 * inline` functions and macros that Rust cannot call (rust/dm.rs's
 * TargetDevice).
 */
#include "../bindings/bindings.h"
#include <linux/blkdev.h>
#include <linux/blk-integrity.h>

bool rcrypt_bdev_has_integrity(struct block_device *bdev)
{
	return bdev_get_integrity(bdev) != NULL;
}

unsigned int rcrypt_bdev_logical_block_size(struct block_device *bdev)
{
	return bdev_logical_block_size(bdev);
}

bool rcrypt_bdev_rotational(struct block_device *bdev)
{
	return !bdev_nonrot(bdev);
}
