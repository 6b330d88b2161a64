# Allocation failures and memory pressure, with failslab and fail_page_alloc
# scoped by task-filter to single syscalls of selftests/tools/dmfuzz (it sets
# its own make-it-fail around them):
# - a sweep of rcrypt's constructor: round n fails exactly the n-th slab or
#   page allocation of a table load (fail-nth; every one of the first 32,
#   then every STRIDE-th: 8 in make check, 1 in make stress) until a load
#   makes fewer; every load fails cleanly or works (the run's final kmemleak
#   scan covers the error paths) and the table loads afterwards;
# - I/O under a 10% failure rate, sleeping allocations included, with the
#   adaptive and the inline engine: writes and reads may fail, a whole read
#   returns the right data, and every chunk whose write succeeded reads back
#   intact afterwards;
# - a guest squeezed by a memory hog: fio verify completes without error.
. "$SELFTESTS/lib.sh"
ramdisks
fault_setup
bad=0
fail() { echo "$*"; bad=1; }
# A live rcrypt device with the same table keeps the bio slabs of rcrypt's
# and device-mapper's biosets (their size follows the per-bio data, which
# holds the table's crypto request): otherwise each failed load frees them,
# the next one creates them again, and a failed kmem_cache_create() dumps a
# stack (a warning of the slab allocator, not a bug, but it reads as a splat).
n=0
for table in "aes-xts-plain64 $KEY64 0 /dev/ram0 0" \
	"aes-cbc-elephant $KEY64 0 /dev/ram0 0 1 sector_size:4096" "aes-cbc-tcw $KEY64 0 /dev/ram0 0"; do
	n=$((n + 1))
	keep=$(echo "$table" | sed 's#/dev/ram0#/dev/ram2#')
	dmsetup create fz_keep$n --table "0 2048 rcrypt $keep" || die "create fz_keep$n"
	STRIDE=$STRIDE $F fault-loads 2048 "$table" || fail "constructor sweep: $table"
	dmsetup remove fz_keep$n || fail "remove fz_keep$n"
done

for opts in "" "2 no_read_workqueue no_write_workqueue"; do
	dmsetup create fio_i --table "0 4096 rcrypt aes-xts-plain64 $KEY64 0 /dev/ram1 0 $opts" && dmsetup mknodes fio_i || die "create"
	for f in failslab fail_page_alloc; do echo 10 >$D/$f/probability; done
	echo "engine '${opts:-adaptive}':"
	$F fault-io /dev/mapper/fio_i 32 || fail "I/O under faults, engine '$opts'"
	fault_reset
	dmsetup remove fio_i || fail "remove"
done

# Memory hog: leave about 48 MiB available, then fio with verify.
dmsetup create hog_r --table "0 65536 rcrypt aes-xts-plain64 $KEY64 0 /dev/ram3 0" && dmsetup mknodes hog_r || die "create"
dd if=/dev/zero of=/dev/mapper/hog_r bs=1M count=32 oflag=direct 2>/dev/null || die "prefill"
avail=$(awk '/^MemAvailable/ {print int($2 / 1024)}' /proc/meminfo)
mkdir -p /tmp/hog && mount -t tmpfs -o size=${avail}m hog /tmp/hog || die "tmpfs"
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
