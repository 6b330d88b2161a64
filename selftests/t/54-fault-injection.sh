# Allocation failures and memory pressure (failslab and fail_page_alloc,
# scoped with task-filter to the processes started under "make-it-fail"):
# - table loads: rcrypt's constructor fails cleanly (an error, no leak: the
#   run's final kmemleak scan covers it) or succeeds and works;
# - I/O: dd writes and reads through rcrypt (adaptive and inline engines)
#   either succeed with the right data or fail; data written successfully
#   reads back intact afterwards;
# - a guest squeezed by a memory hog: fio verify completes without error.
. "$SELFTESTS/lib.sh"
ramdisks
D=/sys/kernel/debug
[ -d $D/failslab ] && [ -d $D/fail_page_alloc ] || die "no fault injection in debugfs"
bad=0
fail() { echo "$*"; bad=1; }
inject() { # inject PROBABILITY: fail this share (%) of the tagged tasks' allocations
	for f in failslab fail_page_alloc; do
		echo "$1" >$D/$f/probability
		echo 1 >$D/$f/interval
		echo -1 >$D/$f/times
		echo 0 >$D/$f/verbose
		echo 0 >$D/$f/space
		echo Y >$D/$f/task-filter
		echo N >$D/$f/ignore-gfp-wait
	done
	echo N >$D/fail_page_alloc/ignore-gfp-highmem
	echo 0 >$D/fail_page_alloc/min-order
}
tagged() { sh -c 'echo 1 >/proc/self/make-it-fail && exec "$@"' tagged "$@"; }

# Table loads into an existing device under injection.
inject 5
dmsetup create fi --notable || die "create fi"
ok=0 no=0 i=0
while [ $i -lt 40 ]; do
	if tagged dmsetup load fi --table "0 2048 rcrypt aes-xts-plain64 $KEY64 0 /dev/ram0 0" 2>/dev/null; then
		ok=$((ok + 1))
		dmsetup clear fi || fail "clear"
	else
		no=$((no + 1))
	fi
	i=$((i + 1))
done
inject 0
echo "table loads under allocation failures: $ok succeeded, $no failed"
[ $no -gt 0 ] || fail "no table load failed: the injection did not reach the constructor"
dmsetup remove fi || fail "remove fi"

# I/O under injection, for each engine.
dd if=/dev/urandom of=/tmp/data bs=64k count=32 2>/dev/null
chunk() { dd if="$1" bs=64k skip="$2" count=1 2>/dev/null; }
for opts in "" "2 no_read_workqueue no_write_workqueue"; do
	dmsetup create fio_i --table "0 4096 rcrypt aes-xts-plain64 $KEY64 0 /dev/ram1 0 $opts" && dmsetup mknodes fio_i || die "create"
	dd if=/dev/zero of=/dev/mapper/fio_i bs=64k count=32 oflag=direct 2>/dev/null || die "zero fill"
	inject 10
	written="" wfail=0 rok=0 rfail=0 i=0
	while [ $i -lt 32 ]; do
		if tagged dd if=/tmp/data of=/dev/mapper/fio_i bs=64k skip=$i seek=$i count=1 oflag=direct 2>/dev/null; then
			written="$written $i"
		else
			wfail=$((wfail + 1))
		fi
		i=$((i + 1))
	done
	for i in $written; do
		if tagged dd if=/dev/mapper/fio_i of=/tmp/chunk bs=64k skip=$i count=1 iflag=direct 2>/dev/null; then
			rok=$((rok + 1))
			chunk /tmp/data $i | cmp -s - /tmp/chunk || fail "engine '$opts': chunk $i read wrong under injection"
		else
			rfail=$((rfail + 1))
		fi
	done
	inject 0
	for i in $written; do
		dd if=/dev/mapper/fio_i of=/tmp/chunk bs=64k skip=$i count=1 iflag=direct 2>/dev/null || fail "engine '$opts': read $i"
		chunk /tmp/data $i | cmp -s - /tmp/chunk || fail "engine '$opts': chunk $i lost"
	done
	n=$(echo $written | wc -w)
	echo "engine '${opts:-adaptive}': writes $n ok / $wfail failed, reads $rok ok / $rfail failed under injection; all $n written chunks intact"
	[ "$n" -gt 0 ] || fail "no write succeeded under injection"
	dmsetup remove fio_i || fail "remove"
done

# Memory hog: leave about 48 MiB available, then fio with verify.
dmsetup create hog_r --table "0 65536 rcrypt aes-xts-plain64 $KEY64 0 /dev/ram3 0" && dmsetup mknodes hog_r || die "create"
dd if=/dev/zero of=/dev/mapper/hog_r bs=1M count=32 oflag=direct 2>/dev/null || die "prefill"
avail=$(awk '/^MemAvailable/ {print int($2 / 1024)}' /proc/meminfo)
mkdir -p /tmp/hog && mount -t tmpfs -o size=$((avail))m hog /tmp/hog || die "tmpfs"
dd if=/dev/zero of=/tmp/hog/fill bs=1M count=$((avail - 48)) 2>/dev/null
left=$(awk '/^MemAvailable/ {print int($2 / 1024)}' /proc/meminfo)
fio --name=hog --filename=/dev/mapper/hog_r --direct=1 --ioengine=libaio --iodepth=16 --numjobs=2 \
	--size=16M --offset_increment=16M --rw=randwrite --bssplit=4k/50:128k/50 --verify=crc32c \
	--verify_fatal=1 --group_reporting --output=/tmp/fio-hog.out
rc=$?
umount /tmp/hog
echo "memory hog: $left MiB available during fio: $(grep -o 'err= *[0-9]*' /tmp/fio-hog.out | head -1)"
[ $rc = 0 ] && grep -q "err= 0" /tmp/fio-hog.out || fail "fio under memory pressure failed"
dmsetup remove hog_r || fail "remove hog_r"
[ $bad = 0 ]
