# A start sector whose mapped area wraps past the last sector (start +
# target length > 2^64 - 1). dm core checks the area against the device's
# size, but skips the check on a device of size 0, such as an unattached
# loop device, so such a table reaches the target. dm-crypt accepts it (its
# sector sums wrap) and its I/O fails on the empty device; rcrypt refuses it
# with -EINVAL "Device sector plus target length overflows". Areas that end
# at 2^64 - 1 load on both, with the same status, and their I/O fails the
# same way on both, at the first and at the last sector.
. "$SELFTESTS/lib.sh"
MSG="Device sector plus target length overflows"
MAX=18446744073709551615 # 2^64 - 1
bad=0
fail() { echo "$*"; bad=$((bad + 1)); }

lo=$(losetup -f) || die "no free loop device"
[ -b "$lo" ] || die "$lo is not a block device"
[ "$(cat "/sys/block/${lo#/dev/}/size")" = 0 ] || die "$lo has a size"

# io NAME FIRST LAST: O_DIRECT reads and writes of sectors FIRST and LAST
# of the mapping (busybox dd drops O_DIRECT for its unaligned buffer and
# goes through the page cache, in whole pages); prints the outcome of each
# ("ok" or the errno name: the device below has no data).
F=$SELFTESTS/.build/dmfuzz
[ -x "$F" ] || die "no $F (selftests/tools/build)"
head -c 512 /dev/zero >/tmp/so-sector
io() {
	for s in "$2" "$3"; do
		$F odirect r "/dev/mapper/$1" /tmp/so-sector 0 $((s * 512))
		$F odirect w "/dev/mapper/$1" /tmp/so-sector 0 $((s * 512))
	done | tr '\n' ' '
}

# create TARGET LEN START [PREFIX]: creates so_TARGET (PREFIX: a table line
# before the target, which then begins at sector 8); prints "accept" or
# "reject <ti->error> (<errno>)" from the kernel log.
create() {
	b=0
	[ -z "$4" ] || b=8
	dmesg -c >/dev/null
	if printf '%s%s %s %s aes-xts-plain64 %s 0 %s %s\n' "$4" "$b" "$2" "$1" "$KEY64" "$lo" "$3" |
		dmsetup create "so_$1" >/dev/null 2>&1; then
		dmsetup mknodes "so_$1"
		echo accept
	else
		echo "reject $(dmesg -c | sed -n "s/.*device-mapper: table: [0-9]*:[0-9]*: $1: //p" | tail -1)"
	fi
}

# check LEN START VERDICT [PREFIX]: crypt accepts the table; rcrypt gives
# VERDICT ("accept", or "reject" with the overflow message); I/O on every
# mapping made fails without a splat, and equally on both when both load.
check() {
	desc="start $2, length $1${4:+, after another target}"
	first=0
	[ -z "$4" ] || first=8
	last=$((first + $1 - 1))
	c=$(create crypt "$1" "$2" "$4")
	r=$(create rcrypt "$1" "$2" "$4")
	[ "$c" = accept ] || fail "$desc: crypt: $c"
	cio=
	if [ "$c" = accept ]; then
		cio=$(io so_crypt $first $last)
		[ "$cio" = "EIO EIO EIO EIO " ] || fail "$desc: crypt I/O on an empty device: $cio"
	fi
	case "$3:$r" in
	accept:accept)
		ct=$(dmsetup table --showkeys so_crypt | sed 's/ crypt / TARGET /')
		rt=$(dmsetup table --showkeys so_rcrypt | sed 's/ rcrypt / TARGET /')
		[ "$ct" = "$rt" ] || fail "$desc: status differs: crypt: $ct / rcrypt: $rt"
		rio=$(io so_rcrypt $first $last)
		[ "$rio" = "$cio" ] || fail "$desc: I/O: crypt: $cio / rcrypt: $rio"
		;;
	reject:"reject $MSG (-EINVAL)" | reject:"reject $MSG (-22)") ;;
	*)
		fail "$desc: rcrypt: $r (want $3)"
		# Do the I/O whose sector sum overflows, if rcrypt took the table.
		[ "$r" = accept ] && io so_rcrypt $first $last >/dev/null
		;;
	esac
	dmsetup remove so_crypt 2>/dev/null
	dmsetup remove so_rcrypt 2>/dev/null
	n=$((n + 1))
}

n=0
# 2^64 - 1 (the example of the report), 2^64 - 8 (the last sector fits, the
# end does not), 2^64 - 9 (the area ends at 2^64 - 1).
check 8 18446744073709551615 reject
check 8 18446744073709551608 reject
check 8 18446744073709551607 accept
check 1 18446744073709551614 accept
check 1 18446744073709551615 reject
# 2^64 - 4096 and one below; 2^63.
check 4096 18446744073709547520 reject
check 4096 18446744073709547519 accept
check 8 9223372036854775808 accept
# The target not at the start of the table: its own length counts.
check 8 18446744073709551615 reject "0 8 error
"
check 8 18446744073709551607 accept "0 8 error
"
rm -f /tmp/so-sector
echo "$n tables on an empty loop device, $bad wrong"
[ $bad = 0 ]
