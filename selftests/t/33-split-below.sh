# Reads over devices below that split the bio or consume its position:
# rcrypt sends a read's own bio down (no clone, unlike crypt) and puts its
# position back when it completes, before decrypting in place. Over a loop
# device with max_sectors_kb 4 (blk-mq splits every larger bio and, completing
# each request, advances its bios to their end) and over dm-stripe with 4 KiB
# chunks (device-mapper trims the bio to each chunk and resubmits the rest),
# for 512- and 4096-byte sectors and 4 KiB, 64 KiB and 1 MiB reads, rcrypt
# must read what crypt wrote, and crypt what rcrypt wrote; and direct I/O
# from buffers that split 4096-byte sectors across vectors reads back right
# over both.
. "$SELFTESTS/lib.sh"
ramdisks
bad=0
fail() { echo "$desc: $*"; bad=1; }
SECTORS=4096 # 2 MiB mapped

head -c 2097152 /dev/urandom >/tmp/sb-a
head -c 2097152 /dev/urandom >/tmp/sb-b
dd if=/dev/zero of=/tmp/sb-loop.img bs=1M count=2 2>/dev/null || die "loop image"
lo=$(losetup -f) && losetup "$lo" /tmp/sb-loop.img || die "losetup"
echo 4 >"/sys/block/${lo#/dev/}/queue/max_sectors_kb" || die "max_sectors_kb of $lo"
[ "$(cat "/sys/block/${lo#/dev/}/queue/max_sectors_kb")" = 4 ] || die "max_sectors_kb of $lo is not 4"
dmsetup create sb_stripe --table "0 $SECTORS striped 1 8 /dev/ram2 0" && dmsetup mknodes || die "dm-stripe"

# check BS COUNT FILE: rcrypt reads the mapping back in BS pieces.
check() {
	dd if=/dev/mapper/sb_r bs="$1" count="$2" iflag=direct 2>/dev/null | cmp -s - "$3" || fail "rcrypt read $1 pieces differ"
}

n=0
for below in "$lo" /dev/mapper/sb_stripe; do
	for ss in 512 4096; do
		desc="$below, sector_size $ss"
		n=$((n + 1))
		opts=""
		[ $ss = 512 ] || opts=" 1 sector_size:$ss"
		table="aes-xts-plain64 $KEY64 0 $below 0$opts"
		dmsetup create sb_c --table "0 $SECTORS crypt $table" && dmsetup mknodes || { fail "crypt create"; continue; }
		dd if=/tmp/sb-a of=/dev/mapper/sb_c bs=1M oflag=direct 2>/dev/null || fail "crypt write"
		dmsetup remove sb_c
		dmsetup create sb_r --table "0 $SECTORS rcrypt $table" && dmsetup mknodes || { fail "rcrypt create"; continue; }
		check 1M 2 /tmp/sb-a
		check 64k 32 /tmp/sb-a
		check 4k 512 /tmp/sb-a
		dd if=/tmp/sb-b of=/dev/mapper/sb_r bs=1M oflag=direct 2>/dev/null || fail "rcrypt write"
		check 1M 2 /tmp/sb-b
		dmsetup remove sb_r
		dmsetup create sb_c --table "0 $SECTORS crypt $table" && dmsetup mknodes || { fail "crypt create"; continue; }
		dd if=/dev/mapper/sb_c bs=1M count=2 iflag=direct 2>/dev/null | cmp -s - /tmp/sb-b || fail "crypt cannot read rcrypt's data"
		dmsetup remove sb_c
	done
done
# The same devices below with reads whose vectors split sectors: direct
# I/O from 512-byte aligned buffers into 4096-byte sectors (diosweep: see
# 65-unaligned-dio), which rcrypt takes and crypt refuses, each write read
# back through crypt and through rcrypt at its buffer's offset.
D=$SELFTESTS/.build/diosweep
for below in "$lo" /dev/mapper/sb_stripe; do
	desc="$below, unaligned direct I/O, sector_size 4096"
	n=$((n + 1))
	table="aes-xts-plain64 $KEY64 0 $below 0 1 sector_size:4096"
	dmsetup create sb_c --table "0 $SECTORS crypt $table" &&
		dmsetup create sb_r --table "0 $SECTORS rcrypt $table" && dmsetup mknodes ||
		{ fail "create"; dmsetup remove sb_c 2>/dev/null; continue; }
	out=$("$D" /dev/mapper/sb_r /dev/mapper/sb_c 4096 511 4095) || fail "diosweep"
	echo "$desc: $out"
	dmsetup remove sb_r
	dmsetup remove sb_c
done
dmsetup remove sb_stripe
losetup -d "$lo"
rm -f /tmp/sb-a /tmp/sb-b /tmp/sb-loop.img
[ $bad = 0 ] && echo "$n cases: data read back right over a splitting loop device and dm-stripe"
[ $bad = 0 ]
