# Flush and discard pass through like dm-crypt's: with allow_discards a
# discard reaches the device (brd then reads back zeroes), without it both
# targets refuse discards; buffered writes with fsync (flush) succeed.
. "$SELFTESTS/lib.sh"
ramdisks
command -v blkdiscard >/dev/null || { echo "no blkdiscard in the guest"; exit 4; }

head -c 1048576 /dev/zero >/tmp/zero1m
bad=0
for t in crypt rcrypt; do
	dmsetup create dsc --table "0 4096 $t aes-xts-plain64 $KEY64 0 /dev/ram0 0 1 allow_discards" || { echo "$t: create"; bad=1; continue; }
	dmsetup mknodes
	dd if=/dev/urandom of=/dev/mapper/dsc bs=64k count=32 oflag=direct 2>/dev/null || { echo "$t: write"; bad=1; }
	dd if=/dev/urandom of=/dev/mapper/dsc bs=4k count=4 conv=fsync 2>/dev/null || { echo "$t: write + fsync"; bad=1; }
	blkdiscard -o 0 -l 1048576 /dev/mapper/dsc || { echo "$t: discard refused with allow_discards"; bad=1; }
	dd if=/dev/ram0 bs=64k count=16 iflag=direct 2>/dev/null | cmp -s - /tmp/zero1m || { echo "$t: discard did not reach the device"; bad=1; }
	dmsetup remove dsc
	dmsetup create dsc --table "0 4096 $t aes-xts-plain64 $KEY64 0 /dev/ram0 0" || { echo "$t: create"; bad=1; continue; }
	dmsetup mknodes
	blkdiscard -o 0 -l 65536 /dev/mapper/dsc 2>/dev/null && { echo "$t: discard accepted without allow_discards"; bad=1; }
	dmsetup remove dsc
done
[ $bad = 0 ] && echo "discard and flush behave like crypt's"
[ $bad = 0 ]
