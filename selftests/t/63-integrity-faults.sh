# Integrity tables (AEAD tags on dm-integrity) under faults, as 54 does for
# the others:
# - fio verify on rcrypt with authenc(hmac(sha256),xts(aes))-random and
#   with gcm(aes)-random: no error, no mismatch;
# - a sweep of the constructor of an integrity table: round n fails the
#   n-th slab or page allocation of the load (its tag pool, integrity
#   bio set and AEAD included); every load fails cleanly or works;
# - I/O under a 10% failure rate of the allocations that do not sleep
#   (failslab, fail_page_alloc) with the adaptive and the inline engine:
#   a whole read returns the right data and every chunk whose write
#   succeeded reads back intact (its tags too: an integrity error would
#   fail the read) afterwards. Sleeping allocations are left alone here,
#   unlike in 54: the bios rcrypt sends to dm-integrity carry an integrity
#   payload, and device-mapper's clone of such a bio (alloc_io) kmallocs
#   the clone's payload with GFP_NOIO and dereferences NULL if that fails
#   (Linux 6.12: the mapped device's bio sets get no integrity pool); with
#   the inline engine that happens in the writing task, where the
#   injection is scoped (as dm-crypt does with no_write_workqueue);
# - a guest squeezed by a memory hog: fio verify on an integrity table
#   completes without error (the first tries of the tag buffers and write
#   pages, which neither retry nor dip into reserves, fail there and the
#   pools take over).
. "$SELFTESTS/lib.sh"
ramdisks
fault_setup
bad=0
fail() { echo "$*"; bad=1; }
P=/sys/module/dm_rcrypt/parameters/info_counters
counters_was=$(cat $P)
echo Y >$P

AUTHENC="capi:authenc(hmac(sha256),xts(aes))-random $KEY64$KEY32"
len0=$(integrity_dev ig0 /dev/ram0 48 512) && len1=$(integrity_dev ig1 /dev/ram1 48 512) ||
	die "dm-integrity"

for spec in "$AUTHENC 0 /dev/mapper/ig0 0 1 integrity:48:aead" \
	"capi:gcm(aes)-random $KEY32 0 /dev/mapper/ig0 0 2 integrity:28:aead sector_size:4096"; do
	case $spec in *gcm*) dmsetup remove ig0 && len0=$(integrity_dev ig0 /dev/ram0 28 4096) || die "dm-integrity" ;; esac
	dmsetup create fio_i --table "0 $len0 rcrypt $spec" && dmsetup mknodes fio_i || die "create: $spec"
	fio --name=verify --filename=/dev/mapper/fio_i --direct=1 --ioengine=libaio --iodepth=8 \
		--numjobs=2 --size=16M --offset_increment=16M --rw=randwrite \
		--bssplit=4k/40:16k/30:64k/20:128k/10 --verify=crc32c --verify_fatal=1 \
		--group_reporting --output=/tmp/fio.out
	rc=$?
	echo "fio verify, ${spec%% *}: $(grep -o 'err= *[0-9]*' /tmp/fio.out | head -1)," \
		"integrity_errors=$(counter integrity_errors fio_i)"
	[ $rc = 0 ] && grep -q "err= 0" /tmp/fio.out || { fail "fio verify failed: ${spec%% *}"; cat /tmp/fio.out; }
	dmsetup remove fio_i || fail "remove"
done
dmsetup remove ig0 && len0=$(integrity_dev ig0 /dev/ram0 48 512) || die "dm-integrity"

# The constructor sweep, with a live device of the same table kept over the
# other dm-integrity device (see 54: the bio slabs then stay).
dmsetup create fz_keep --table "0 2048 rcrypt $AUTHENC 0 /dev/mapper/ig1 0 1 integrity:48:aead" ||
	die "create fz_keep"
STRIDE=$STRIDE $F fault-loads 2048 "$AUTHENC 0 /dev/mapper/ig0 0 1 integrity:48:aead" ||
	fail "constructor sweep of an integrity table"
dmsetup remove fz_keep || fail "remove fz_keep"

for engine in adaptive inline; do
	opts="1 integrity:48:aead"
	[ $engine = adaptive ] || opts="3 integrity:48:aead no_read_workqueue no_write_workqueue"
	dmsetup create fio_i --table "0 4096 rcrypt $AUTHENC 0 /dev/mapper/ig0 0 $opts" && dmsetup mknodes fio_i ||
		die "create"
	for f in failslab fail_page_alloc; do echo 10 >$D/$f/probability; echo Y >$D/$f/ignore-gfp-wait; done
	echo "engine $engine:"
	$F fault-io /dev/mapper/fio_i 32 || fail "I/O under faults, engine $engine"
	fault_reset
	echo "  $(dmsetup status fio_i | grep -o 'io_errors=.*')"
	dmsetup remove fio_i || fail "remove"
done
dmsetup remove ig1 || fail "remove dm-integrity"

# Memory hog: leave about 48 MiB available, then fio with verify.
dmsetup create hog_i --table "0 $len0 rcrypt $AUTHENC 0 /dev/mapper/ig0 0 1 integrity:48:aead" &&
	dmsetup mknodes hog_i || die "create hog_i"
dd if=/dev/zero of=/dev/mapper/hog_i bs=1M count=32 oflag=direct 2>/dev/null || die "prefill"
avail=$(awk '/^MemAvailable/ {print int($2 / 1024)}' /proc/meminfo)
mkdir -p /tmp/hog && mount -t tmpfs -o size=${avail}m hog /tmp/hog || die "tmpfs"
dd if=/dev/zero of=/tmp/hog/fill bs=1M count=$((avail - 48)) 2>/dev/null
left=$(awk '/^MemAvailable/ {print int($2 / 1024)}' /proc/meminfo)
fio --name=hog --filename=/dev/mapper/hog_i --direct=1 --ioengine=libaio --iodepth=16 --numjobs=2 \
	--size=16M --offset_increment=16M --rw=randwrite --bssplit=4k/50:128k/50 --verify=crc32c \
	--verify_fatal=1 --group_reporting --output=/tmp/fio-hog.out
rc=$?
umount /tmp/hog
echo "memory hog: $left MiB available during fio: $(grep -o 'err= *[0-9]*' /tmp/fio-hog.out | head -1)," \
	"integrity_errors=$(counter integrity_errors hog_i)"
[ $rc = 0 ] && grep -q "err= 0" /tmp/fio-hog.out || fail "fio under memory pressure failed"
dmsetup remove hog_i && dmsetup remove ig0 || fail "remove hog_i"
echo "$counters_was" >$P
[ $bad = 0 ]
