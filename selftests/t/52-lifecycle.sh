# Lifecycle: rmmod is refused while an rcrypt mapping exists; create/remove
# loops with I/O; table reloads (other engine options, same key) while fio
# writes and verifies; 64 rcrypt devices at once, each written and read back.
. "$SELFTESTS/lib.sh"
ramdisks
bad=0
fail() { echo "$*"; bad=1; }

dmsetup create lc --table "0 2048 rcrypt aes-xts-plain64 $KEY64 0 /dev/ram0 0" || die "create"
rmmod dm_rcrypt 2>/dev/null && die "rmmod dm_rcrypt succeeded with a mapping present"
grep -q "^dm_rcrypt " /proc/modules || die "module gone"
dmsetup remove lc || die "remove"
echo "rmmod refused while a mapping exists"

# Create/remove loop, with a write and a read each time.
dd if=/dev/urandom of=/tmp/d64 bs=64k count=1 2>/dev/null
i=0
while [ $i -lt 25 ]; do
	dmsetup create lc --table "0 2048 rcrypt aes-xts-plain64 $KEY64 $i /dev/ram0 0" && dmsetup mknodes lc || { fail "create $i"; break; }
	dd if=/tmp/d64 of=/dev/mapper/lc bs=64k seek=$((i % 16)) count=1 oflag=direct 2>/dev/null || fail "write $i"
	dd if=/dev/mapper/lc of=/tmp/r64 bs=64k skip=$((i % 16)) count=1 iflag=direct 2>/dev/null || fail "read $i"
	cmp -s /tmp/d64 /tmp/r64 || fail "data $i"
	dmsetup remove lc || { fail "remove $i"; break; }
	i=$((i + 1))
done
echo "create/remove: $i rounds"

# Reloads while fio writes and verifies: each round loads the same key with
# other options (engine, sector size unchanged) and resumes.
dmsetup create lr --table "0 131072 rcrypt aes-xts-plain64 $KEY64 0 /dev/ram1 0" && dmsetup mknodes lr || die "create lr"
fio --name=reload --filename=/dev/mapper/lr --direct=1 --ioengine=libaio --iodepth=8 --numjobs=2 \
	--size=16M --offset_increment=16M --rw=randwrite --bssplit=4k/50:64k/50 --verify=crc32c \
	--verify_fatal=1 --group_reporting --output=/tmp/fio-reload.out &
pid=$!
n=0
opts="0|1 no_read_workqueue|1 no_write_workqueue|2 no_read_workqueue no_write_workqueue|1 same_cpu_crypt|1 high_priority"
while kill -0 $pid 2>/dev/null; do
	o=$(echo "$opts" | cut -d'|' -f$((n % 6 + 1)))
	dmsetup load lr --table "0 131072 rcrypt aes-xts-plain64 $KEY64 0 /dev/ram1 0 $o" || { fail "load '$o'"; break; }
	dmsetup resume lr || { fail "resume '$o'"; break; }
	n=$((n + 1))
done
wait $pid || fail "fio during reloads failed"
grep -q "err= 0" /tmp/fio-reload.out || { grep err= /tmp/fio-reload.out; fail "fio errors during reloads"; }
echo "fio verify across $n table reloads: $(grep -c 'err= 0' /tmp/fio-reload.out) job group(s) without error"
[ $n -ge 3 ] || fail "only $n reloads happened during fio"
dmsetup remove lr || fail "remove lr"

# 64 devices at once, 1 MiB each on one ramdisk, I/O on all in parallel.
N=64
i=0
while [ $i -lt $N ]; do
	dmsetup create many$i --table "0 2048 rcrypt aes-xts-plain64 $KEY64 0 /dev/ram2 $((i * 2048))" || { fail "create many$i"; break; }
	i=$((i + 1))
done
dmsetup mknodes
[ "$(dmsetup ls --target rcrypt | grep -c '^many')" = $N ] || fail "not $N rcrypt devices"
dd if=/dev/urandom of=/tmp/d1m bs=64k count=16 2>/dev/null
# What each device read back, kept only if it is wrong, in a directory of
# its own (other tests leave files in /tmp).
rm -rf /tmp/many && mkdir /tmp/many
i=0
while [ $i -lt $N ]; do
	(dd if=/tmp/d1m of=/dev/mapper/many$i bs=64k oflag=direct 2>/tmp/w$i.err ||
		echo "many$i: write failed: $(cat /tmp/w$i.err)") &
	i=$((i + 1))
done
wait
i=0
while [ $i -lt $N ]; do
	(m=/tmp/many/m$i
	if ! dd if=/dev/mapper/many$i of=$m bs=64k iflag=direct 2>/tmp/r$i.err; then
		echo "many$i: read failed: $(cat /tmp/r$i.err)"
	elif cmp -s $m /tmp/d1m; then
		rm $m
	else
		echo "many$i: read back other data: $(cmp $m /tmp/d1m 2>&1), $(cmp -l $m /tmp/d1m | wc -l) bytes differ"
	fi) &
	i=$((i + 1))
done
wait
left=$(ls /tmp/many | wc -l)
[ "$left" = 0 ] || fail "$left of $N devices did not read back what was written: $(ls /tmp/many)"
# The ciphertext of device 5 is device 5's alone (sector numbers restart at 0
# on each, so the same plaintext gives the same ciphertext on every slice).
dd if=/dev/ram2 bs=512 skip=$((5 * 2048)) count=2048 2>/dev/null | cmp -s - /tmp/d1m && fail "plaintext on the ramdisk"
i=0
while [ $i -lt $N ]; do
	dmsetup remove many$i || fail "remove many$i"
	i=$((i + 1))
done
echo "$N devices at once: each wrote and read back 1 MiB"
[ $bad = 0 ]
