# vm-nvme: zoned=true,zoned.zone_size=4M,ms=64; zoned=true,zoned.zone_size=4M,ms=64,logical_block_size=4096,physical_block_size=4096
#
# Integrity tables on zoned namespaces that keep the tags in their own
# per-sector metadata (QEMU's emulated ZNS with 64 bytes of metadata per
# block, no protection information), 512- and 4096-byte blocks. The tag
# buffer of a write comes from kmalloc if it can be had at once, else from
# the tag pool, whose buffers hold the tags of fewer sectors: dm-crypt 6.12
# then splits the write (dm_accept_partial_bio), which BUG()s on a zoned
# device. rcrypt caps the mapping's bios at what a tag pool buffer holds
# there (128 KiB). Here 1 MiB written at a zone's start while large page
# allocations (order 2 and up) fail for the writer (fail_page_alloc):
# the write succeeds, the write pointer moves by 1 MiB, and the data reads
# back through rcrypt and through crypt.
. "$SELFTESTS/lib.sh"
D=/sys/kernel/debug
[ -d $D/fail_page_alloc ] || die "no fail_page_alloc in debugfs"
profile() { echo "zoned: $(cat $1/queue/zoned), tag_size=$(cat $1/integrity/tag_size)"; }
nvme_namespaces profile
AUTHENC="capi:authenc(hmac(sha256),xts(aes))-random $KEY64$KEY32"
head -c 1048576 /dev/urandom >/tmp/zi
bad=0
fail() { echo "FAIL: $desc: $*"; bad=1; }
faults() { # faults on|off: large page allocations fail for tasks that ask
	f=$D/fail_page_alloc
	if [ "$1" = on ]; then
		echo Y >$f/task-filter; echo 1 >$f/interval; echo 100000 >$f/times; echo 0 >$f/space
		echo N >$f/ignore-gfp-wait; echo 2 >$f/min-order; echo 0 >$f/verbose; echo 100 >$f/probability
	else
		echo 0 >$f/probability
	fi
}
wp() { blkzone report -c 1 "$1" | sed -n 's/.*wptr 0x\([0-9a-f]*\).*/\1/p'; }

for ns in "$ns512" "$ns4k"; do
	desc=$ns
	opts="1 integrity:48:aead"
	[ "$ns" = "$ns4k" ] && opts="2 integrity:48:aead sector_size:4096"
	len=$(blockdev --getsz "$ns")
	blkzone reset "$ns" || { fail "zone reset"; continue; }
	dmsetup create zi --table "0 $len rcrypt $AUTHENC 0 $ns 0 $opts" && dmsetup mknodes zi ||
		{ fail "rcrypt refused the table"; continue; }
	kb=$(cat "/sys/block/$(dmsetup info -c --noheadings -o blkdevname zi)/queue/max_hw_sectors_kb")
	echo "$ns: rcrypt's max_hw_sectors_kb $kb"
	[ "$kb" -le 128 ] || fail "max_hw_sectors_kb $kb: larger than a tag pool buffer holds"
	faults on
	sh -c 'echo 1 >/proc/self/make-it-fail && exec dd if=/tmp/zi of=/dev/mapper/zi bs=1M count=1 oflag=direct 2>/dev/null'
	rc=$?
	faults off
	# (times counts down once per allocation made to fail.)
	echo "$ns: $((100000 - $(cat $D/fail_page_alloc/times))) allocations made to fail during the write"
	[ "$(cat $D/fail_page_alloc/times)" -lt 100000 ] || fail "no allocation was made to fail"
	[ $rc = 0 ] || fail "1 MiB write with large allocations failing: status $rc"
	w=$(wp "$ns")
	echo "$ns: zone 0 write pointer at 0x$w after the write"
	[ "$((0x${w:-0}))" = 2048 ] || fail "write pointer 0x$w, expected 0x800 (1 MiB)"
	dd if=/dev/mapper/zi bs=1M count=1 iflag=direct 2>/dev/null | cmp -s - /tmp/zi || fail "rcrypt read-back differs"
	dmsetup remove zi || fail "remove"
	dmsetup create zc --table "0 $len crypt $AUTHENC 0 $ns 0 $opts" && dmsetup mknodes zc ||
		{ fail "crypt refused the table"; continue; }
	dd if=/dev/mapper/zc bs=1M count=1 iflag=direct 2>/dev/null | cmp -s - /tmp/zi || fail "crypt cannot read rcrypt's data"
	dmsetup remove zc || fail "remove crypt"
done
[ $bad = 0 ] && echo "zoned integrity writes: never split, tags from the pool, data both ways"
[ $bad = 0 ]
