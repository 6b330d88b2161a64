# A LUKS2 volume made by cryptsetup and filled through the C target (ext4
# with files) is reopened on rcrypt with the captured table: fsck is clean
# and the checksums match. Files written through rcrypt then read back
# through crypt (cryptsetup open), fsck clean again. The volume is opened
# with --disable-keyring so that its table carries the key itself.
. "$SELFTESTS/lib.sh"
ramdisks
dev=/dev/ram3
mkdir -p /mnt/luks

echo -n pass | cryptsetup luksFormat -q --type luks2 --pbkdf pbkdf2 --pbkdf-force-iterations 1000 \
	--key-file - "$dev" || die "luksFormat"
echo -n pass | cryptsetup open --disable-keyring --key-file - "$dev" vol || die "cryptsetup open"
mkfs.ext4 -q /dev/mapper/vol || die "mkfs.ext4"
mount -t ext4 /dev/mapper/vol /mnt/luks || die "mount (crypt)"
for i in 1 2 3 4; do head -c $((i * 100000)) /dev/urandom >/mnt/luks/c$i; done
(cd /mnt/luks && sha256sum c1 c2 c3 c4) >/tmp/sums.c
umount /mnt/luks
table=$(dmsetup table --showkeys vol)
echo "LUKS2 table: $(echo "$table" | sed 's/ [0-9a-f]\{32,\} / <key> /')"
cryptsetup close vol || die "cryptsetup close"

dmsetup create rvol --table "$(echo "$table" | sed 's/^\([0-9]* [0-9]*\) crypt /\1 rcrypt /')" || die "rcrypt refused the LUKS2 table"
dmsetup mknodes
[ "$(dmsetup table --showkeys rvol | sed 's/ rcrypt / crypt /')" = "$table" ] || die "status TABLE differs from crypt's"
fsck.ext4 -n -f /dev/mapper/rvol >/tmp/fsck.out 2>&1 || { cat /tmp/fsck.out; die "fsck through rcrypt"; }
mount -t ext4 /dev/mapper/rvol /mnt/luks || die "mount (rcrypt)"
(cd /mnt/luks && sha256sum -c /tmp/sums.c) >/dev/null || die "checksums through rcrypt"
for i in 1 2 3; do head -c $((i * 150000)) /dev/urandom >/mnt/luks/r$i; done
(cd /mnt/luks && sha256sum r1 r2 r3) >/tmp/sums.r
umount /mnt/luks
dmsetup remove rvol || die "remove rvol"

echo -n pass | cryptsetup open --key-file - "$dev" vol || die "cryptsetup reopen"
fsck.ext4 -n -f /dev/mapper/vol >/tmp/fsck.out 2>&1 || { cat /tmp/fsck.out; die "fsck through crypt after rcrypt wrote"; }
mount -t ext4 /dev/mapper/vol /mnt/luks || die "mount (crypt again)"
(cd /mnt/luks && sha256sum -c /tmp/sums.r && sha256sum -c /tmp/sums.c) >/dev/null || die "crypt reads rcrypt's files"
umount /mnt/luks
cryptsetup close vol
echo "LUKS2 volume interchangeable between crypt and rcrypt"
