# Write-buffer memory is capped as dm-crypt's is (dm_crypt_pages_per_client:
# 2% of low memory shared by the targets, at least BIO_MAX_VECS * 16 pages):
# with the writes held 3 s below by dm-delay, fio keeps at least 2.5 times
# the cap in 128 KiB writes in flight (libaio, depth 256 per job), and the
# pages rcrypt holds for write buffers (INFO buffer_pages_peak) reach the
# cap but never exceed it; afterwards only the mempool's reserve is left.
# The data read back through crypt (same table, no delay) is what fio wrote,
# and nothing was OOM-killed.
. "$SELFTESTS/lib.sh"
ramdisks
P=/sys/module/dm_rcrypt/parameters/info_counters
[ -w $P ] || die "no $P"
saved=$(cat $P)
echo Y >$P
field() { dmsetup status "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }
oom() { sed -n 's/^oom_kill //p' /proc/vmstat; }

printf '0 131072 linear /dev/ram0 0\n131072 131072 linear /dev/ram1 0\n262144 131072 linear /dev/ram2 0\n393216 131072 linear /dev/ram3 0\n' |
	dmsetup create cap_cat || die "linear"
dmsetup mknodes
# Reads pass at once, writes wait 3 s.
dmsetup create cap_dly --table "0 524288 delay /dev/mapper/cap_cat 0 0 /dev/mapper/cap_cat 0 3000" || die "delay"
dmsetup mknodes
dmsetup create cap_r --table "0 524288 rcrypt aes-xts-plain64 $KEY64 0 /dev/mapper/cap_dly 0" || die "rcrypt"
dmsetup mknodes
cap=$(field cap_r buffer_pages_cap)
pages=$(field cap_r buffer_pages)
[ -n "$cap" ] && [ -n "$pages" ] || die "no buffer_pages counters: '$(dmsetup status cap_r)'"
echo "cap $cap pages; $pages held (the reserve) before any write"
[ "$cap" -ge 4096 ] || die "cap below DM_CRYPT_MIN_PAGES_PER_CLIENT"
# Each job: 256 writes of 128 KiB (32 pages) in flight, 32 MiB in all.
jobs=$(( (cap * 5 / 2 + 8191) / 8192 ))
[ $jobs -le 8 ] || die "cap of $cap pages needs $jobs jobs, more than the 256 MiB device holds"
echo "$jobs jobs: up to $((jobs * 8192)) pages of writes in flight"
oom0=$(oom)
fio --name=cap --filename=/dev/mapper/cap_r --direct=1 --ioengine=libaio --iodepth=256 \
	--bs=128k --rw=write --numjobs=$jobs --size=32M --offset_increment=32M \
	--verify=crc32c --do_verify=0 --group_reporting --output=/tmp/fio-cap.out
rc=$?
grep -E "err=|WRITE:" /tmp/fio-cap.out
[ $rc = 0 ] || die "fio write failed"
peak=$(field cap_r buffer_pages_peak)
left=$(field cap_r buffer_pages)
echo "buffer_pages_peak=$peak buffer_pages_cap=$cap buffer_pages=$left after the writes"
# The same data read through crypt with the same table.
dmsetup create cap_c --table "0 524288 crypt aes-xts-plain64 $KEY64 0 /dev/mapper/cap_cat 0" || die "crypt"
dmsetup mknodes
fio --name=cap --filename=/dev/mapper/cap_c --direct=1 --ioengine=libaio --iodepth=16 \
	--bs=128k --rw=write --numjobs=$jobs --size=32M --offset_increment=32M \
	--verify=crc32c --verify_only --verify_fatal=1 --group_reporting --output=/tmp/fio-cap-verify.out
vrc=$?
grep -E "err=|READ:|verify" /tmp/fio-cap-verify.out
oom1=$(oom)
echo $saved >$P
dmsetup remove cap_c && dmsetup remove cap_r && dmsetup remove cap_dly && dmsetup remove cap_cat || die "remove"
[ "$peak" -le "$cap" ] || die "write buffers held $peak pages, over the cap of $cap"
[ "$peak" -ge $((cap * 3 / 4)) ] || die "peak $peak: the load did not reach the cap of $cap, so the test shows nothing"
[ "$left" = 256 ] || die "$left pages held after the writes, expected the reserve (256)"
[ $vrc = 0 ] || die "data read through crypt differs from what was written"
grep -q "err= 0" /tmp/fio-cap-verify.out || die "verify reported errors"
[ "$oom0" = "$oom1" ] || die "OOM kills during the test: $oom0 -> $oom1"
