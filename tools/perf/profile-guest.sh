#!/bin/sh
# Guest side of `make profile` (run by tools/perf/profile through vm-run): for
# crypt and then rcrypt, each fio workload (psync, direct I/O, a fixed
# amount) between a "reset" and a "dump" of the tbprof plugin's counts,
# which the plugin reads from a control file in the shared directory.
#   profile-guest.sh MB CIPHER ENGINE HOSTDIR SECTOR_SIZE
set -u
MB=$1 CIPHER=$2 ENGINE=$3 HOSTDIR=$4 SS=$5
S=/mnt/share
. "$(dirname "$0")/guest-common.sh"
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
perf_ramdisk "$MB" || exit 1
# table TARGET: the table of a run: for authenc-nvme
# (capi:authenc(hmac(sha256),xts(aes))-random, integrity:48:aead) on the
# NVMe namespace with per-block metadata that tools/perf/profile adds,
# every sector written once first so that its tag verifies.
table() {
	case $CIPHER in
	authenc-nvme)
		_o=$(echo integrity:48:aead $(engine_opts "$ENGINE"))
		echo "0 $(blockdev --getsz /dev/nvme0n1) $1 capi:authenc(hmac(sha256),xts(aes))-random $KEY64$KEY32 0 /dev/nvme0n1 0 $(echo $_o | wc -w) $_o"
		;;
	*) perf_table "$1" "$CIPHER" "$ENGINE" "$SS" "$MB" ;;
	esac
}
if [ "$CIPHER" = authenc-nvme ]; then
	[ -b /dev/nvme0n1 ] || { echo "no NVMe namespace"; exit 1; }
	dmsetup create pf --table "$(table crypt)" && dmsetup mknodes pf || exit 1
	dd if=/dev/zero of=/dev/mapper/pf bs=1M oflag=direct 2>/dev/null
	dmsetup remove pf || exit 1
fi
for t in crypt rcrypt; do
	dmsetup create pf --table "$(table $t)" && dmsetup mknodes pf || exit 1
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
