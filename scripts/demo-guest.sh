#!/bin/sh
# Guest side of scripts/demo (busybox sh): what a user of dm-rcrypt came for.
# dm-rcrypt.ko is reloaded with crypt_alias=1 (the C dm-crypt unloaded), so
# cryptsetup's volumes are rcrypt's: a plain volume and a LUKS2 volume, each
# with an ext4 file system and a file written, then read back through
# rcrypt; then the same ciphertext opened through the C dm-crypt, which
# reads the same files. rcrypt's INFO counters are printed on the way.
set -e
SHARE=$(cd "$(dirname "$0")/.." && pwd)
. "$SHARE/selftests/guest-common.sh"

step() { echo; echo "== $*"; }
run() { echo "# $*"; "$@"; }
die() { echo "demo: FAILED: $*"; exit 1; }

brd_load 2 65536 || die "brd"
rmmod dm_rcrypt
rmmod dm_crypt
run insmod "$RCRYPT_KO" crypt_alias=1 info_counters=1
run dmsetup targets | grep crypt
if grep -q "^dm_crypt " /proc/modules; then die "dm_crypt is loaded"; fi

# shellcheck disable=SC2059
printf "$(echo "$KEY64" | sed 's/../\\x&/g')" >/tmp/plain.key
head -c 3000000 /dev/urandom >/tmp/file
sum=$(sha256sum </tmp/file | cut -d' ' -f1)
pw() { echo -n "demo passphrase"; }
plain_open() {
	cryptsetup open --type plain --cipher aes-xts-plain64 --key-size 512 \
		--key-file /tmp/plain.key /dev/ram0 plain
}
luks_open() { pw | cryptsetup open --key-file - /dev/ram1 luks; }

step "rcrypt as crypt: cryptsetup opens a plain volume and a LUKS2 volume"
echo "# cryptsetup open --type plain --cipher aes-xts-plain64 --key-size 512 --key-file KEY /dev/ram0 plain"
plain_open
echo "# cryptsetup luksFormat --type luks2 /dev/ram1; cryptsetup open /dev/ram1 luks"
pw | cryptsetup luksFormat -q --type luks2 --pbkdf pbkdf2 --pbkdf-force-iterations 1000 --key-file - /dev/ram1
luks_open
echo "# dmsetup table   (the keys masked, as dmsetup does for crypt)"; dmsetup table
for v in plain luks; do
	mkfs.ext4 -q "/dev/mapper/$v"
	mkdir -p "/mnt/$v"
	mount "/dev/mapper/$v" "/mnt/$v"
	cp /tmp/file "/mnt/$v/file"
	umount "/mnt/$v"
	mount "/dev/mapper/$v" "/mnt/$v"
	[ "$(sha256sum <"/mnt/$v/file" | cut -d' ' -f1)" = "$sum" ] || die "$v: the file reads back other data"
	echo "$v: ext4 made and mounted, a 3 MB file written, remounted, read back: same SHA-256"
	umount "/mnt/$v"
done
run cryptsetup status luks | grep -E "type:|cipher:|keysize:|key location:"
step "rcrypt's INFO counters (dmsetup status)"
run dmsetup status
cryptsetup close plain
cryptsetup close luks

step "the same ciphertext through the C dm-crypt"
run rmmod dm_rcrypt
run modprobe dm-crypt
plain_open
luks_open
dmsetup targets | grep crypt
for v in plain luks; do
	mount -o ro "/dev/mapper/$v" "/mnt/$v"
	[ "$(sha256sum <"/mnt/$v/file" | cut -d' ' -f1)" = "$sum" ] || die "$v: dm-crypt reads another file"
	echo "$v: dm-crypt reads the file rcrypt wrote: same SHA-256"
	umount "/mnt/$v"
done
run dmsetup status
cryptsetup close plain
cryptsetup close luks
echo
echo "demo: done (rcrypt served cryptsetup's volumes; dm-crypt read what it wrote)"
