# A plain ext4 device is encrypted in place by copying it through an rcrypt
# mapping of itself with dd; it then checks clean and mounts through rcrypt
# with the same files, and the raw device no longer shows the file system.
. "$SELFTESTS/lib.sh"
ramdisks
dev=/dev/ram2
mkdir -p /mnt/conv

mkfs.ext4 -q -F "$dev" || die "mkfs.ext4"
mount -t ext4 "$dev" /mnt/conv || die "mount plain"
for i in 1 2 3; do head -c $((i * 200000)) /dev/urandom >/mnt/conv/f$i; done
(cd /mnt/conv && sha256sum f1 f2 f3) >/tmp/sums
umount /mnt/conv

dmsetup create conv --table "0 131072 rcrypt aes-xts-plain64 $KEY64 0 $dev 0" || die "create"
dmsetup mknodes
dd if="$dev" of=/dev/mapper/conv bs=64k iflag=direct oflag=direct conv=notrunc 2>/dev/null || die "dd"
blkid "$dev" | grep -q ext4 && die "raw device still shows ext4"
fsck.ext4 -n -f /dev/mapper/conv >/tmp/fsck.out 2>&1 || { cat /tmp/fsck.out; die "fsck"; }
mount -t ext4 /dev/mapper/conv /mnt/conv || die "mount through rcrypt"
(cd /mnt/conv && sha256sum -c /tmp/sums) >/dev/null || die "checksums"
umount /mnt/conv
dmsetup remove conv
echo "converted in place, fsck clean, files intact"
