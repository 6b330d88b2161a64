# fio with verify on rcrypt over 256 MiB (four 64 MiB ramdisks joined by
# dm-linear): four jobs writing random offsets with mixed block sizes, then
# reading everything back and checking it. No mismatch may occur.
. "$SELFTESTS/lib.sh"
ramdisks
printf '0 131072 linear /dev/ram0 0\n131072 131072 linear /dev/ram1 0\n262144 131072 linear /dev/ram2 0\n393216 131072 linear /dev/ram3 0\n' |
	dmsetup create fio_cat || die "linear"
dmsetup mknodes
dmsetup create fio_r --table "0 524288 rcrypt aes-xts-plain64 $KEY64 0 /dev/mapper/fio_cat 0" || die "create"
dmsetup mknodes
[ -b /dev/mapper/fio_r ] || die "no device node"
fio --name=verify --filename=/dev/mapper/fio_r --direct=1 --ioengine=libaio --iodepth=8 \
	--numjobs=4 --size=64M --offset_increment=64M --rw=randwrite \
	--bssplit=4k/40:16k/30:64k/20:128k/10 --verify=crc32c --verify_fatal=1 \
	--group_reporting --output=/tmp/fio.out
rc=$?
grep -E "err=|WRITE:|READ:|verify" /tmp/fio.out
dmsetup remove fio_r && dmsetup remove fio_cat
[ $rc = 0 ] || die "fio failed"
grep -q "err= 0" /tmp/fio.out || die "fio reported errors"
