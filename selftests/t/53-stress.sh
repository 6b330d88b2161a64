# Stress: fio with verify (four jobs, mixed block sizes, libaio depth 8) on
# rcrypt while another process loops suspend/resume and suspend, key wipe,
# key set, resume. No verify error, no I/O error, no hung task (the hung-task
# detector is on; its report fails the run). Size: selftests/.build/stress.conf
# (64 MiB written for make check, 1 GiB or more for make stress).
. "$SELFTESTS/lib.sh"
ramdisks
MB=64
[ -r "$SELFTESTS/.build/stress.conf" ] && . "$SELFTESTS/.build/stress.conf"
# Four jobs on disjoint 32 MiB regions of a 128 MiB device (two ramdisks).
printf '0 131072 linear /dev/ram0 0\n131072 131072 linear /dev/ram1 0\n' | dmsetup create st_cat || die "linear"
dmsetup mknodes
dmsetup create st --table "0 262144 rcrypt aes-xts-plain64 $KEY64 0 /dev/mapper/st_cat 0" && dmsetup mknodes st || die "create"
loops=$(( (MB + 127) / 128 ))
fio --name=stress --filename=/dev/mapper/st --direct=1 --ioengine=libaio --iodepth=8 --numjobs=4 \
	--size=32M --offset_increment=32M --loops=$loops --rw=randwrite \
	--bssplit=4k/40:8k/10:16k/20:64k/20:256k/10 --verify=crc32c --verify_fatal=1 \
	--group_reporting --output=/tmp/fio-stress.out &
pid=$!
rounds=0 bad=0
while kill -0 $pid 2>/dev/null; do
	dmsetup suspend st && dmsetup resume st || { echo "suspend/resume failed"; bad=1; break; }
	dmsetup suspend st || { echo "suspend failed"; bad=1; break; }
	dmsetup message st 0 key wipe || { echo "key wipe failed"; bad=1; }
	# Resuming without a key must be refused.
	dmsetup resume st 2>/dev/null && { echo "resume without a key succeeded"; bad=1; }
	dmsetup message st 0 key set "$KEY64" || { echo "key set failed"; bad=1; }
	dmsetup resume st || { echo "resume failed"; bad=1; break; }
	rounds=$((rounds + 1))
done
# Never leave fio stuck on a suspended device.
dmsetup resume st 2>/dev/null
wait $pid
rc=$?
grep -E "err=|WRITE:|READ:" /tmp/fio-stress.out
echo "$((loops * 128)) MiB written and verified while $rounds suspend/key wipe/key set/resume rounds ran"
dmsetup remove st && dmsetup remove st_cat || die "remove"
[ $rc = 0 ] || die "fio failed"
grep -q "err= 0" /tmp/fio-stress.out || die "fio reported errors"
[ $rounds -ge 3 ] || die "only $rounds rounds ran during fio"
[ $bad = 0 ]
