# vm-append: clocksource=jiffies
#
# The adaptive engine on a coarse clock: with clocksource=jiffies the
# monotonic clock moves in ticks (4 ms at HZ=250), so many depth-1
# completions fall in one tick and a serial work-queue epoch can end with no
# measured time. Depth-1 fio with verify through the default engine, long
# enough for the chooser to explore the work queue many times; the queue must
# have been used (queued_ios > 0), every byte must verify, and the kernel must
# not oops (a division by the measured time did, before).
. "$SELFTESTS/lib.sh"
ramdisks
cs=$(cat /sys/devices/system/clocksource/clocksource0/current_clocksource)
echo "clocksource: $cs"
case $cs in
jiffies | refined-jiffies) ;;
*) die "this test needs a boot with clocksource=jiffies (got $cs)" ;;
esac
echo 1 >/sys/module/dm_rcrypt/parameters/info_counters || die "info_counters"
dmsetup create cc_r --table "0 131072 rcrypt aes-xts-plain64 $KEY64 0 /dev/ram0 0" || die "create"
dmsetup mknodes
[ -b /dev/mapper/cc_r ] || die "no device node"
# Writes at depth 1, then fio's verify pass reads every block back at depth 1.
fio --name=coarse --filename=/dev/mapper/cc_r --direct=1 --ioengine=psync --iodepth=1 \
	--rw=randwrite --bs=512 --size=4M --verify=crc32c --verify_fatal=1 --do_verify=1 \
	--output=/tmp/fio.out || { cat /tmp/fio.out; die "fio failed"; }
grep -E "err=|IOPS" /tmp/fio.out
grep -q "err= 0" /tmp/fio.out || die "fio reported errors"
st=$(dmsetup status cc_r)
echo "status: $st"
q=$(echo "$st" | tr ' ' '\n' | sed -n 's/^queued_ios=//p')
dmsetup remove cc_r
[ "${q:-0}" -gt 0 ] || die "the work queue was never explored (queued_ios=${q:-none})"
