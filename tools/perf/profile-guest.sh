#!/bin/sh
# Guest side of `make profile` (run by tools/perf/profile through vm-run): for
# crypt and then rcrypt, each fio workload (psync, direct I/O, a fixed
# amount) between a "reset" and a "dump" of the tbprof plugin's counts,
# which the plugin reads from a control file in the shared directory.
#   profile-guest.sh MB CIPHER ENGINE HOSTDIR SECTOR_SIZE
set -u
MB=$1 CIPHER=$2 ENGINE=$3 HOSTDIR=$4 SS=$5
S=/mnt/share
KEY64=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f
# Hand a command to the plugin and wait until it ran (the plugin deletes
# the file); the wait spins in user space between looks, so that little
# kernel work (9p) falls into a window.
ctl() {
	echo "$1" >$S/ctl.new && mv $S/ctl.new $S/ctl
	while [ -e $S/ctl ]; do
		i=0
		while [ $i -lt 2000 ]; do i=$((i + 1)); done
	done
}
modprobe brd rd_nr=1 rd_size=$((MB * 1024)) 2>/dev/null ||
	insmod "$(find /lib/modules -name brd.ko | head -1)" rd_nr=1 rd_size=$((MB * 1024)) || exit 1
dd if=/dev/zero of=/dev/ram0 bs=1M count="$MB" 2>/dev/null || exit 1
key=$KEY64
[ "$CIPHER" = cipher_null-ecb ] && key=-
set --
[ "$ENGINE" = inline ] && set -- no_read_workqueue no_write_workqueue
[ "$SS" = 512 ] || set -- "$@" "sector_size:$SS"
opts=""
[ $# = 0 ] || opts=" $# $*"
for t in crypt rcrypt; do
	dmsetup create pf --table "0 $((MB * 2048)) $t $CIPHER $key 0 /dev/ram0 0$opts" && dmsetup mknodes pf || exit 1
	for w in "read 1M" "write 1M" "randread 4k" "randwrite 4k"; do
		set -- $w
		# Warm up (first faults, caches), then the measured run.
		fio --name=warm --filename=/dev/mapper/pf --direct=1 --ioengine=psync --rw="$1" --bs="$2" \
			--size=2M >/dev/null 2>&1 || { echo "fio failed"; exit 1; }
		ctl reset
		fio --name=pf --filename=/dev/mapper/pf --direct=1 --ioengine=psync --rw="$1" --bs="$2" \
			--size="${MB}M" --randrepeat=1 >/dev/null 2>&1 || { echo "fio failed"; exit 1; }
		ctl "dump $HOSTDIR/$t-$1-$2.txt"
	done
	dmsetup remove pf || exit 1
done
cat /proc/kallsyms >$S/kallsyms.txt
