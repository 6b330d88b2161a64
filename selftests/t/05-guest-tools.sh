# The guest's tools work, since later tests rely on them: dmsetup, keyctl,
# mkfs.ext4/fsck.ext4 on a ramdisk, fio with libaio direct I/O, cryptsetup
# (LUKS2 format and open through the C target, with a fast PBKDF).
. "$SELFTESTS/lib.sh"
ramdisks

dmsetup version >/dev/null || die "dmsetup"
id=$(keyctl add user rcrypt-selftest abc @u) || die "keyctl add"
[ "$(keyctl pipe "$id")" = abc ] || die "keyctl pipe"
keyctl unlink "$id" @u >/dev/null || die "keyctl unlink"

mkfs.ext4 -q -F /dev/ram1 || die "mkfs.ext4"
fsck.ext4 -n /dev/ram1 >/dev/null || die "fsck.ext4"

fio --name=t --filename=/dev/ram2 --size=4M --bs=64k --rw=write --direct=1 \
	--ioengine=libaio --iodepth=4 --verify=crc32c --output=/tmp/fio.out >/dev/null ||
	{ cat /tmp/fio.out; die "fio"; }

echo -n secret | cryptsetup luksFormat -q --type luks2 --pbkdf pbkdf2 \
	--pbkdf-force-iterations 1000 --key-file - /dev/ram3 || die "cryptsetup luksFormat"
echo -n secret | cryptsetup open --key-file - /dev/ram3 selftest_luks || die "cryptsetup open"
dmsetup table selftest_luks | grep -q ' crypt aes-xts-plain64 ' || die "LUKS2 mapping is not aes-xts-plain64 on crypt"
cryptsetup close selftest_luks || die "cryptsetup close"
echo "dmsetup, keyctl, ext4 tools, fio and cryptsetup work"
