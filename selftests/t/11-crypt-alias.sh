# crypt_alias=1: dm-rcrypt.ko registers its target as crypt instead, so that
# the tools that know only crypt (cryptsetup, dmsetup's key masking) drive
# rcrypt. With dm-crypt loaded the load fails with a message and leaves
# nothing registered; without it, crypt is rcrypt's (and crypt alone is
# listed, as with dm-crypt) until rmmod, which removes it. The C module and
# the plain rcrypt are back at the end.
. "$SELFTESTS/lib.sh"
ramdisks

restore() {
	dmsetup remove al_dm 2>/dev/null
	cryptsetup close al_plain 2>/dev/null
	grep -q '^dm_rcrypt ' /proc/modules && rmmod dm_rcrypt
	grep -q '^dm_crypt ' /proc/modules || modprobe dm-crypt
	insmod "$RCRYPT_KO"
}
fail() { echo "FAIL: $*"; restore; exit 1; }

# 1. dm-crypt holds the name crypt: the load fails, nothing is left.
rmmod dm_rcrypt || fail "rmmod dm_rcrypt"
dmesg -c >/dev/null
if insmod "$RCRYPT_KO" crypt_alias=1 2>/dev/null; then
	fail "insmod crypt_alias=1 succeeded with dm-crypt loaded"
fi
dmesg | grep -q "crypt_alias=1: cannot register the target crypt" ||
	fail "no kernel message for the refused alias: $(dmesg | tail -3)"
! dmsetup targets | grep -q '^rcrypt ' || fail "rcrypt left registered by the failed load"
! grep -q '^dm_rcrypt ' /proc/modules || fail "dm_rcrypt left loaded by the failed load"
echo "with dm-crypt loaded: insmod crypt_alias=1 refused, nothing registered"

# 2. Without dm-crypt, crypt is rcrypt's.
rmmod dm_crypt || fail "rmmod dm_crypt"
insmod "$RCRYPT_KO" crypt_alias=1 info_counters=1 || fail "insmod crypt_alias=1"
dmsetup targets | grep -q '^crypt  *v1\.28\.0$' || fail "crypt v1.28.0 not listed"
# crypt alone, as with dm-crypt: scripts that parse the version from
# "dmsetup targets | grep crypt" (cryptsetup's tests do) find one line.
! dmsetup targets | grep -q '^rcrypt ' || fail "rcrypt listed beside crypt in drop-in mode"
ver=$(dmsetup targets | grep crypt | cut -f2 -dv)
[ "$ver" = 1.28.0 ] || fail "dmsetup targets | grep crypt gives '$ver'"
! grep -q '^dm_crypt ' /proc/modules || fail "dm_crypt loaded"
[ "$(cat /sys/module/dm_rcrypt/parameters/crypt_alias)" = Y ] || fail "parameter not shown"

# A crypt table is rcrypt's (its INFO status has rcrypt's counters), and
# dmsetup masks its key as it does for dm-crypt.
dmsetup create al_dm --table "0 8192 crypt aes-xts-plain64 $KEY64 0 /dev/ram0 0" || fail "create crypt"
dmsetup mknodes al_dm
[ -b /dev/mapper/al_dm ] || fail "no device node for al_dm"
dd if=/dev/urandom of=/tmp/al.in bs=4096 count=16 2>/dev/null
dd if=/tmp/al.in of=/dev/mapper/al_dm bs=4096 oflag=direct 2>/dev/null || fail "write"
dmsetup status al_dm | grep -q 'inline_ios=' || fail "INFO without rcrypt's counters: $(dmsetup status al_dm)"
! dmsetup table al_dm | grep -q "$KEY64" || fail "dmsetup table shows the key"
dmsetup table --showkeys al_dm | grep -q "$KEY64" || fail "--showkeys lacks the key"
dmsetup remove al_dm || fail "remove"

# cryptsetup drives it: a plain volume over the same sectors reads back
# what was written, and the device's status shows rcrypt's counters.
# shellcheck disable=SC2059
printf "$(echo "$KEY64" | sed 's/../\\x&/g')" >/tmp/al.key
[ "$(wc -c </tmp/al.key)" -eq 64 ] || fail "key file of $(wc -c </tmp/al.key) bytes"
cryptsetup open --type plain --cipher aes-xts-plain64 --key-size 512 --key-file /tmp/al.key \
	--size 8192 /dev/ram0 al_plain || fail "cryptsetup open --type plain"
dmsetup table --showkeys al_plain | grep -q " crypt aes-xts-plain64 $KEY64 0 " ||
	fail "cryptsetup's table: $(dmsetup table al_plain)"
dd if=/dev/mapper/al_plain of=/tmp/al.out bs=4096 count=16 iflag=direct 2>/dev/null || fail "read"
cmp -s /tmp/al.in /tmp/al.out || fail "cryptsetup's plain volume reads other data"
cryptsetup status al_plain | grep -q 'type: *PLAIN' || fail "cryptsetup status"
echo "al_plain: $(dmsetup status al_plain | cut -d' ' -f4-)"
cryptsetup close al_plain || fail "cryptsetup close"

# 3. rmmod removes the name; the usual modules come back.
rmmod dm_rcrypt || fail "rmmod dm_rcrypt (alias)"
! dmsetup targets | grep -q '^crypt ' || fail "crypt still listed after rmmod"
modprobe dm-crypt || fail "modprobe dm-crypt"
insmod "$RCRYPT_KO" || fail "insmod"
dmsetup targets | grep -q '^crypt  *v1\.28\.0$' || fail "crypt not back"
dmsetup targets | grep -q '^rcrypt  *v1\.28\.0$' || fail "rcrypt not back"
grep -q '^dm_crypt ' /proc/modules || fail "dm_crypt not back"
echo "crypt_alias: crypt served by dm-rcrypt and listed alone, cryptsetup plain volume ok, gone on rmmod"
