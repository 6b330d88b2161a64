# Host-managed zoned devices (null_blk, zoned and memory-backed; 512- and
# 4096-byte blocks, several zone sizes, conventional zones first) under
# rcrypt as under crypt: the same table line (no_write_workqueue forced),
# the zone report through the mapping equal to the device's shifted by the
# mapping's offset, sequential writes (up to 2 MiB in one bio) moving the
# write pointer, out-of-order writes refused, zone reset and finish
# reaching the device, the data read back through the other target both
# ways, the same verdicts for tables that are not zone-aligned, fio's zoned
# mode with verify, and an f2fs file system made and checked on rcrypt and
# read through crypt.
. "$SELFTESTS/lib.sh"
. "$SELFTESTS/zoned.sh"

# device BLOCK ZONE_MIB CONV: a 1 GiB memory-backed zoned null_blk device.
device() {
	echo "# null_blk: $1-byte blocks, $2 MiB zones, $3 conventional"
	modprobe null_blk nr_devices=1 zoned=1 memory_backed=1 gb=1 bs="$1" \
		zone_size="$2" zone_nr_conv="$3" || { fail "modprobe null_blk"; return; }
	[ -b /dev/nullb0 ] || { fail "no /dev/nullb0"; rmmod null_blk; return; }
	zoned_checks /dev/nullb0 "$3"
	rmmod null_blk
}

device 512 4 16
device 4096 8 2
device 512 16 1

# f2fs on rcrypt over a zoned device (its metadata in the conventional
# zones), checked, then read through crypt.
modprobe null_blk nr_devices=1 zoned=1 memory_backed=1 gb=1 bs=4096 zone_size=4 zone_nr_conv=32 ||
	fail "modprobe null_blk"
ZDEV=/dev/nullb0
total=$(blockdev --getsz /dev/nullb0)
mk zf rcrypt "$total" 0 || fail "rcrypt: create for f2fs"
if [ $bad = 0 ]; then
	mkfs.f2fs -q -f -m /dev/mapper/zf >/tmp/mkfs.out 2>&1 || { cat /tmp/mkfs.out; fail "mkfs.f2fs"; }
	mkdir -p /mnt/zf
	head -c 3000000 /dev/urandom >/tmp/zf
	mount -t f2fs /dev/mapper/zf /mnt/zf || fail "mount f2fs"
	cp /tmp/zf /mnt/zf/file && sync || fail "write a file"
	umount /mnt/zf
	fsck.f2fs /dev/mapper/zf >/tmp/fsck.out 2>&1 || { cat /tmp/fsck.out; fail "fsck.f2fs"; }
	dmsetup remove zf
	mk zf crypt "$total" 0 || fail "crypt: create for f2fs"
	mount -t f2fs -o ro /dev/mapper/zf /mnt/zf || fail "mount f2fs through crypt"
	cmp -s /mnt/zf/file /tmp/zf || fail "the file read through crypt differs"
	umount /mnt/zf
fi
dmsetup remove zf
rmmod null_blk

[ $bad = 0 ] && echo "zoned devices behave as under crypt"
[ $bad = 0 ]
