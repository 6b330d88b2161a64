# Key messages racing suspend and resume (dm core takes no lock between a
# target's messages and its resume).
#
# 1. fio with verify on rcrypt while one loop suspends and resumes and
#    another sends `key set` with the device's own key as fast as it can: a
#    message that began while suspended must end before the device resumes
#    (or be refused), so no bio ever meets a re-key: no I/O error, no
#    mismatch, and the device keeps working afterwards (the old gate could
#    wrap its user count and fail every later bio).
# 2. Rounds of suspend, then `key wipe` racing `resume` (selftests/tools/
#    keyrace.c aims the wipe): a wipe before preresume makes the resume
#    fail; a wipe between preresume and resume must leave a device whose
#    bios fail (EIO) rather than use the wipe's random key; a wipe after
#    resume is refused and the device reads and writes right. Every other
#    round races one of the fuzzer's mutated messages instead. After every
#    round the key is set again; at the end every byte is read back through
#    crypt.
. "$SELFTESTS/lib.sh"
ramdisks
ROUNDS=${KEY_RACE_ROUNDS:-300}
[ -r "$SELFTESTS/.build/stress.conf" ] && . "$SELFTESTS/.build/stress.conf"

dmsetup create kr --table "0 65536 rcrypt aes-xts-plain64 $KEY64 0 /dev/ram0 0" && dmsetup mknodes kr || die "create"
fio --name=keyrace --filename=/dev/mapper/kr --direct=1 --ioengine=libaio --iodepth=4 --numjobs=2 \
	--size=4M --offset_increment=16M --loops=2 --rw=randwrite --bssplit=4k/50:16k/30:64k/20 \
	--verify=crc32c --verify_fatal=1 --group_reporting --output=/tmp/fio-keyrace.out &
fpid=$!
(
	n=0
	while kill -0 $fpid 2>/dev/null; do
		dmsetup message kr 0 key set "$KEY64" 2>/dev/null && n=$((n + 1))
	done
	echo $n >/tmp/keyrace.sets
) &
mpid=$!
cycles=0
while kill -0 $fpid 2>/dev/null; do
	dmsetup suspend kr && dmsetup resume kr || { dmsetup resume kr 2>/dev/null; echo "suspend/resume failed"; }
	cycles=$((cycles + 1))
done
wait $fpid
frc=$?
wait $mpid
dmsetup resume kr 2>/dev/null
grep -E "err=|WRITE:|READ:" /tmp/fio-keyrace.out
echo "part 1: $cycles suspend/resume cycles, $(cat /tmp/keyrace.sets) key set messages accepted during fio"
[ $frc = 0 ] || die "fio failed while key set raced resume"
grep -q "err= 0" /tmp/fio-keyrace.out || die "fio reported errors"
dd if=/dev/mapper/kr of=/dev/null bs=64k count=16 iflag=direct 2>/dev/null || die "the device fails I/O after the races"
dmsetup remove kr

# Part 2: keyrace aims "key wipe" at the moment of resume (see keyrace.c).
B=$SELFTESTS/.build
[ -x $B/keyrace ] || die "no keyrace (selftests/tools/build)"
head -c 1048576 /dev/urandom >/tmp/kr.data
# Sixteen targets of 64 KiB, each with the IV offset of its start (the
# same bytes on disk as one target): device-mapper runs the preresume of
# every target before the resume of the first, which widens the window
# between them for the first target, the one keyrace's messages go to.
i=0
while [ $i -lt 16 ]; do
	echo "$((i * 128)) 128 rcrypt aes-xts-plain64 $KEY64 $((i * 128)) /dev/ram1 $((i * 128))"
	i=$((i + 1))
done >/tmp/kr.table
dmsetup create kr </tmp/kr.table && dmsetup mknodes kr || die "create"
dd if=/tmp/kr.data of=/dev/mapper/kr bs=64k oflag=direct 2>/dev/null || die "initial write"
$B/keyrace kr /tmp/kr.data "$KEY64" "$ROUNDS" $B/fuzz-messages.txt
krc=$?
dmsetup remove kr
[ $krc = 0 ] || die "keyrace found violations"
dmsetup create krc --table "0 2048 crypt aes-xts-plain64 $KEY64 0 /dev/ram1 0" && dmsetup mknodes krc || die "crypt"
dd if=/dev/mapper/krc bs=64k iflag=direct 2>/dev/null | cmp -s - /tmp/kr.data || die "data read through crypt differs at the end"
dmsetup remove krc
