# dm-rcrypt.ko registers the target rcrypt v1.28.0 beside crypt, and
# unregisters it on rmmod; a second insmod registers it again.
. "$SELFTESTS/lib.sh"

dmsetup targets | grep -q '^rcrypt  *v1\.28\.0$' || die "rcrypt v1.28.0 not listed: $(dmsetup targets | tr '\n' ' ')"
dmsetup targets | grep -q '^crypt  *v1\.28\.0$' || die "crypt v1.28.0 not listed"
[ -d /sys/module/dm_rcrypt ] || die "no /sys/module/dm_rcrypt"
rmmod dm_rcrypt || die "rmmod dm_rcrypt failed"
! dmsetup targets | grep -q '^rcrypt ' || die "rcrypt still listed after rmmod"
[ ! -d /sys/module/dm_rcrypt ] || die "/sys/module/dm_rcrypt still there after rmmod"
insmod "$RCRYPT_KO" || die "insmod failed"
dmsetup targets | grep -q '^rcrypt  *v1\.28\.0$' || die "rcrypt not listed after insmod"
echo "load, unload and reload ok"
