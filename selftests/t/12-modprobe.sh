# The conventional installation (make install, the modprobe.d example):
# dm-rcrypt.ko under /lib/modules/<release>/updates, depmod, and
# dist/dm-rcrypt-dropin.conf in /etc/modprobe.d. Then device-mapper's own
# request for dm-crypt (a crypt table with no target crypt registered),
# cryptsetup's "modprobe dm-crypt" and "modprobe dm_rcrypt" all load
# dm-rcrypt with crypt_alias=1, and never the C module. kmod's tools are
# used (busybox's modprobe ignores install lines); the guest's setup is
# restored at the end.
. "$SELFTESTS/lib.sh"
ramdisks
K=/usr/lib/kmod-tools
[ -x $K/modprobe ] || die "no kmod tools in the guest ($K)"
rel=$(uname -r)
conf=/etc/modprobe.d/dm-rcrypt-dropin.conf
old_helper=$(cat /proc/sys/kernel/modprobe)
made_sbin=0

restore() {
	dmsetup remove mp 2>/dev/null
	cryptsetup close mp_plain 2>/dev/null
	rm -f "$conf" "/lib/modules/$rel/updates/dm-rcrypt.ko" /tmp/mp.key
	$K/depmod -a
	echo "$old_helper" >/proc/sys/kernel/modprobe
	[ $made_sbin = 0 ] || rm -f /sbin/modprobe
	dropin_end
}
fail() { echo "FAIL: $*"; restore; exit 1; }
only_rcrypt() { # only_rcrypt WHEN: dm_rcrypt loaded with the alias, dm_crypt not
	grep -q '^dm_rcrypt ' /proc/modules || fail "$1: dm_rcrypt not loaded"
	! grep -q '^dm_crypt ' /proc/modules || fail "$1: the C dm_crypt was loaded"
	[ "$(cat /sys/module/dm_rcrypt/parameters/crypt_alias)" = Y ] || fail "$1: crypt_alias not set"
	dmsetup targets | grep -q '^crypt  *v1\.28\.0$' || fail "$1: crypt not registered"
}

mkdir -p "/lib/modules/$rel/updates" /etc/modprobe.d
cp "$RCRYPT_KO" "/lib/modules/$rel/updates/dm-rcrypt.ko"
$K/depmod -a || fail "depmod"
grep -q '^updates/dm-rcrypt.ko:' "/lib/modules/$rel/modules.dep" || fail "depmod did not list updates/dm-rcrypt.ko"
cp "$SELFTESTS/../dist/dm-rcrypt-dropin.conf" "$conf"
# The example's install line runs /sbin/modprobe, as on a distribution.
if [ ! -e /sbin/modprobe ]; then
	mkdir -p /sbin && ln -s $K/modprobe /sbin/modprobe && made_sbin=1
fi
echo $K/modprobe >/proc/sys/kernel/modprobe
rmmod dm_rcrypt && rmmod dm_crypt || fail "cannot unload the modules"

# 1. device-mapper asks for dm-crypt when a table names crypt.
dmsetup create mp --table "0 8192 crypt aes-xts-plain64 $KEY64 0 /dev/ram0 0" ||
	fail "a crypt table with no target loaded (request_module)"
only_rcrypt "request_module(dm-crypt)"
dmsetup remove mp || fail "remove"
rmmod dm_rcrypt || fail "rmmod after request_module"

# 2. cryptsetup's way: modprobe dm-crypt, twice (the second finds it loaded).
$K/modprobe dm-crypt || fail "modprobe dm-crypt"
only_rcrypt "modprobe dm-crypt"
$K/modprobe dm-crypt || fail "modprobe dm-crypt with dm_rcrypt loaded"
$K/modprobe -r dm_rcrypt || fail "modprobe -r dm_rcrypt"
! grep -q '^dm_rcrypt ' /proc/modules || fail "modprobe -r left dm_rcrypt"

# 3. cryptsetup with nothing loaded: a plain volume opens on rcrypt.
# shellcheck disable=SC2059
printf "$(echo "$KEY64" | sed 's/../\\x&/g')" >/tmp/mp.key
cryptsetup open --type plain --cipher aes-xts-plain64 --key-size 512 --key-file /tmp/mp.key \
	--size 8192 /dev/ram0 mp_plain || fail "cryptsetup open with no module loaded"
only_rcrypt "cryptsetup open"
cryptsetup close mp_plain || fail "cryptsetup close"

# 4. modprobe dm_rcrypt by name takes the options of the example.
rmmod dm_rcrypt || fail "rmmod"
$K/modprobe dm_rcrypt || fail "modprobe dm_rcrypt"
only_rcrypt "modprobe dm_rcrypt"
$K/modinfo -F parm dm_rcrypt | grep -q '^crypt_alias:' || fail "modinfo lacks crypt_alias"

restore || { echo "FAIL: cannot restore dm-crypt and rcrypt"; exit 1; }
echo "installed under updates/: request_module, modprobe dm-crypt, cryptsetup and modprobe dm_rcrypt load rcrypt as crypt, never dm-crypt"
