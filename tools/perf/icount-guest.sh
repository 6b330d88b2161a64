#!/bin/sh
# Guest side of `make icount` (run by tools/perf/icount through vm-run): a
# fixed amount of direct I/O (fio, psync) through crypt and rcrypt, with
# the default engine and with no_read_workqueue no_write_workqueue, for
# cipher_null and aes-xts-plain64. Prints one line per run:
#   RES <cipher> <target> <engine> <workload> <KB/s> <mean latency, us>
#   icount-guest.sh MB [SECTOR_SIZE]
set -u
MB=${1:-32}
SS=${2:-512}
. "$(dirname "$0")/guest-common.sh"
perf_ramdisk "$MB" || exit 1
for c in cipher_null-ecb aes-xts-plain64; do
	for t in crypt rcrypt; do
		for e in default inline; do
			dmsetup create ic --table "$(perf_table $t $c $e "$SS" "$MB")" && dmsetup mknodes ic || exit 1
			for w in "read 1M" "write 1M" "randread 4k" "randwrite 4k"; do
				set -- $w
				r=$(fio --name=ic --filename=/dev/mapper/ic --direct=1 --ioengine=psync --rw="$1" --bs="$2" \
					--size="${MB}M" --randrepeat=1 --output-format=terse 2>/dev/null) || { echo "fio failed"; exit 1; }
				# terse v3: field 7 read KB/s, field 48 write KB/s
				# and fields 40 / 81 the mean total latency in us (sub-ns digits)
				res=$(echo "$r" | awk -F';' '{ print ($7 > 0) ? $7 " " $40 : $48 " " $81 }')
				echo "RES $c $t $e $1-$2 $res"
			done
			dmsetup remove ic || exit 1
		done
	done
done
