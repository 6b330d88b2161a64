// SPDX-License-Identifier: GPL-2.0
/*
 * <linux/device-mapper.h>: forwards of the `static inline` functions and
 * macros that Rust cannot call (rust/dm.rs).
 */
#include "../bindings/bindings.h"
#include <linux/device-mapper.h>

/* DMERR() and DMWARN() name the target after "device-mapper: ". */
#define DM_MSG_PREFIX "rcrypt"

struct bio *rcrypt_dm_bio_from_per_bio_data(void *data, size_t size)
{
	return dm_bio_from_per_bio_data(data, size);
}

/*
 * device-mapper's DMERR / DMWARN (macros) for the rcrypt target: the same
 * "device-mapper: <target>: <message>" lines as dm-crypt's.
 */
void rcrypt_dm_log(bool err, const char *msg)
{
	if (err)
		DMERR("%s", msg);
	else
		DMWARN("%s", msg);
}

/* crypt_convert_block_aead()'s message for a tag that does not verify. */
void rcrypt_dm_integrity_error(struct block_device *bdev, u64 sector)
{
	DMERR_LIMIT("%pg: INTEGRITY AEAD ERROR, sector %llu", bdev, sector);
}

void *rcrypt_dm_per_bio_data(struct bio *bio, size_t size)
{
	return dm_per_bio_data(bio, size);
}

/*
 * crypt_report_zones(): the zones of `bdev` from sector `start` on, for
 * the target's zones from `args->next_sector` on.
 */
int rcrypt_dm_report_zones(struct dm_target *ti, struct dm_report_zones_args *args,
			   unsigned int nr_zones, struct block_device *bdev, sector_t start)
{
#ifdef CONFIG_BLK_DEV_ZONED
	return dm_report_zones(bdev, start, start + dm_target_offset(ti, args->next_sector),
			       args, nr_zones);
#else
	return -EOPNOTSUPP;
#endif
}
