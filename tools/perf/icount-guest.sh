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
KEY64=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f
modprobe brd rd_nr=1 rd_size=$((MB * 1024)) 2>/dev/null ||
	insmod "$(find /lib/modules -name brd.ko | head -1)" rd_nr=1 rd_size=$((MB * 1024)) || exit 1
dd if=/dev/zero of=/dev/ram0 bs=1M count="$MB" 2>/dev/null || exit 1
for c in "cipher_null-ecb -" "aes-xts-plain64 $KEY64"; do
	for t in crypt rcrypt; do
		for e in default inline; do
			set --
			[ $e = inline ] && set -- no_read_workqueue no_write_workqueue
			[ "$SS" = 512 ] || set -- "$@" "sector_size:$SS"
			opts=""
			[ $# = 0 ] || opts=" $# $*"
			dmsetup create ic --table "0 $((MB * 2048)) $t $c 0 /dev/ram0 0$opts" && dmsetup mknodes ic || exit 1
			for w in "read 1M" "write 1M" "randread 4k" "randwrite 4k"; do
				set -- $w
				r=$(fio --name=ic --filename=/dev/mapper/ic --direct=1 --ioengine=psync --rw="$1" --bs="$2" \
					--size="${MB}M" --randrepeat=1 --output-format=terse 2>/dev/null) || { echo "fio failed"; exit 1; }
				# terse v3: field 7 read KB/s, field 48 write KB/s
				# and fields 40 / 81 the mean total latency in us (sub-ns digits)
				res=$(echo "$r" | awk -F';' '{ print ($7 > 0) ? $7 " " $40 : $48 " " $81 }')
				echo "RES ${c%% *} $t $e $1-$2 $res"
			done
			dmsetup remove ic || exit 1
		done
	done
done
