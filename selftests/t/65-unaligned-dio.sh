# Direct I/O from buffers aligned to less than the encryption sector.
# dm-crypt raises the mapping's dma_alignment to the sector size - 1, so
# that no sector spans bio vectors; rcrypt keeps the alignment the device
# below needs where only the cipher touches a sector's data (Linux 6.12's
# device-mapper stacks it from 511: 512-byte aligned buffers), and encrypts
# a sector spread over vectors through scatterlists of its pieces. For
# 512-, 1024- and 4096-byte sectors over a ramdisk, and for IV modes that
# spread (plain64, essiv, eboiv, two keys, ecb) and one that does not
# (elephant): the dma_alignment each target shows, and diosweep's direct
# writes from buffers at offsets 4..508 and 512..3584 in a page, 1 to 8
# sectors long, each accepted or refused (EINVAL) as that alignment says,
# and each accepted one read back through crypt (aligned) and through
# rcrypt at the same offset; crypt refuses what is not aligned to its
# sector. The INFO counter spread_sectors counts the sectors that went
# through scatterlists. Then fio with verify from unaligned buffers.
. "$SELFTESTS/lib.sh"
ramdisks
D=$SELFTESTS/.build/diosweep
[ -x "$D" ] || die "no diosweep (selftests/tools/build)"
P=/sys/module/dm_rcrypt/parameters/info_counters
echo 1 >$P || die "info_counters"
bad=0
fail() { echo "FAIL: $desc: $*"; bad=1; }
SECTORS=16384 # 8 MiB mapped
align_of() { cat "/sys/block/$(dmsetup info -c --noheadings -o blkdevname "$1")/queue/dma_alignment"; }

# case_ DESC CIPHER KEY SS SPREADS
case_() {
	desc=$1
	local cipher=$2 key=$3 ss=$4 spreads=$5 opts="" want out n
	[ "$ss" = 512 ] || opts=" 1 sector_size:$ss"
	local table="$cipher $key 0 /dev/ram0 0$opts"
	dmsetup create ud_c --table "0 $SECTORS crypt $table" &&
		dmsetup create ud_r --table "0 $SECTORS rcrypt $table" && dmsetup mknodes ||
		{ fail "create"; dmsetup remove ud_c 2>/dev/null; return; }
	local ca ra
	ca=$(align_of ud_c) ra=$(align_of ud_r)
	want=$((ss - 1))
	[ "$spreads" = 1 ] && want=511
	echo "$desc: dma_alignment crypt $ca, rcrypt $ra"
	[ "$ca" = $((ss - 1)) ] || fail "crypt's dma_alignment $ca, expected $((ss - 1))"
	[ "$ra" = "$want" ] || fail "rcrypt's dma_alignment $ra, expected $want"
	out=$("$D" /dev/mapper/ud_r /dev/mapper/ud_c "$ss" "$ra" "$ca") || fail "diosweep"
	echo "  $out"
	n=$(counter spread_sectors ud_r)
	echo "  spread_sectors=$n"
	if [ "$spreads" = 1 ] && [ "$ss" -gt 512 ]; then
		[ "${n:-0}" -gt 0 ] || fail "no sector went through scatterlists"
	else
		[ "$n" = 0 ] || fail "spread_sectors=$n where no sector can span vectors"
	fi
	dmsetup remove ud_r && dmsetup remove ud_c || fail "remove"
}

case_ "aes-xts-plain64, 512-byte sectors" aes-xts-plain64 "$KEY64" 512 1
case_ "aes-xts-plain64, 4096-byte sectors" aes-xts-plain64 "$KEY64" 4096 1
case_ "aes-cbc-essiv:sha256, 1024-byte sectors" aes-cbc-essiv:sha256 "$KEY32" 1024 1
case_ "aes-cbc-eboiv, 4096-byte sectors" aes-cbc-eboiv "$KEY32" 4096 1
case_ "aes:2-xts-plain64 (two keys), 4096-byte sectors" aes:2-xts-plain64 "$KEY64$KEY64" 4096 1
case_ "aes-ecb, 4096-byte sectors" aes-ecb "$KEY32" 4096 1
case_ "elephant (keeps sectors whole), 4096-byte sectors" aes-cbc-elephant "$KEY64" 4096 0
# fio: random direct writes of 4 to 64 KiB from buffers 512 bytes into a
# page (every 4096-byte sector spans two pages), verified through rcrypt
# from the same unaligned buffers, then verified again through crypt from
# aligned ones (the same job, verify_only): the bytes on disk are crypt's.
# aes-xts-plain64 (a sector at a time) and aes-ecb (batches of pages).
fio_case() {
	desc="fio, $1, 4096-byte sectors, buffers 512 bytes into a page"
	local table="$1 $2 0 /dev/ram0 0 1 sector_size:4096" n
	dmsetup create uf_r --table "0 $SECTORS rcrypt $table" &&
		dmsetup create uf_c --table "0 $SECTORS crypt $table" && dmsetup mknodes ||
		{ fail "create"; dmsetup remove uf_r 2>/dev/null; return; }
	set -- --name=u --direct=1 --ioengine=psync --rw=randwrite --bsrange=4k-64k \
		--size=4M --verify=crc32c --verify_fatal=1 --randseed=65
	fio "$@" --filename=/dev/mapper/uf_r --iomem_align=512 --output=/tmp/fio-u.out ||
		fail "fio through rcrypt: $(grep -m1 -E 'err=|verify' /tmp/fio-u.out)"
	grep -q "err= 0" /tmp/fio-u.out || fail "fio through rcrypt reported errors"
	fio "$@" --filename=/dev/mapper/uf_c --verify_only=1 --output=/tmp/fio-c.out ||
		fail "fio verify through crypt: $(grep -m1 -E 'err=|verify' /tmp/fio-c.out)"
	grep -q "err= 0" /tmp/fio-c.out || fail "fio verify through crypt reported errors"
	n=$(counter spread_sectors uf_r)
	echo "$desc: written and verified through rcrypt, verified through crypt; spread_sectors=$n"
	[ "${n:-0}" -gt 0 ] || fail "no sector went through scatterlists"
	dmsetup remove uf_r && dmsetup remove uf_c || fail "remove"
}
fio_case aes-xts-plain64 "$KEY64"
fio_case aes-ecb "$KEY32"

echo 0 >$P
[ $bad = 0 ] && echo "unaligned direct I/O: every verdict and every byte as expected"
[ $bad = 0 ]
