// SPDX-License-Identifier: GPL-2.0
/*
 * <linux/blkdev.h>, <linux/blk-integrity.h>: forwards of the `static
 * inline` functions and macros that Rust cannot call (rust/dm.rs's
 * TargetDevice).
 */
#include "../bindings/bindings.h"
#include <linux/blkdev.h>
#include <linux/blk-integrity.h>

/*
 * The device's integrity profile (blk_get_integrity()): false if it has
 * none; else whether its checksum is none, its tuple size and its interval.
 */
bool rcrypt_bdev_integrity(struct block_device *bdev, bool *csum_none,
			   unsigned int *tuple_size, unsigned int *interval)
{
	struct blk_integrity *bi = blk_get_integrity(bdev->bd_disk);

	if (!bi)
		return false;
	*csum_none = bi->csum_type == BLK_INTEGRITY_CSUM_NONE;
	*tuple_size = bi->tuple_size;
	*interval = 1U << bi->interval_exp;
	return true;
}

unsigned int rcrypt_bdev_logical_block_size(struct block_device *bdev)
{
	return bdev_logical_block_size(bdev);
}

bool rcrypt_bdev_rotational(struct block_device *bdev)
{
	return !bdev_nonrot(bdev);
}

bool rcrypt_bdev_is_zoned(struct block_device *bdev)
{
	return bdev_is_zoned(bdev);
}
