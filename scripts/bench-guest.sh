#!/bin/sh
# Guest side of `make bench` (run by scripts/bench through vm-run): fio over a
# brd ramdisk, raw and through crypt (default), crypt inline (no_read_workqueue
# no_write_workqueue) and rcrypt (default), for each cipher and workload,
# repeated and interleaved between targets. One fio JSON file per run in
# $OUT/<cipher>/<target>/<job>.<rep>.json.
#   bench-guest.sh OUT REPS RUNTIME [JOBS [CIPHERS [EXTRA]]]
# EXTRA: more targets after the three, of: rcrypt-inline (rcrypt with
# no_read_workqueue no_write_workqueue, to compare paths apart from the
# adaptive engine's choice).
set -u
OUT=$1 REPS=${2:-3} RUNTIME=${3:-2}
KEY64=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f
SIZE_MB=256
SECTORS=$((SIZE_MB * 2048))

modprobe brd rd_nr=1 rd_size=$((SIZE_MB * 1024)) 2>/dev/null ||
	insmod "$(find /lib/modules -name brd.ko | head -1)" rd_nr=1 rd_size=$((SIZE_MB * 1024)) || exit 1
# Every page of the ramdisk allocated, so reads read memory.
dd if=/dev/zero of=/dev/ram0 bs=1M count=$SIZE_MB 2>/dev/null || exit 1

# job NAME: fio options of a workload.
job() {
	case $1 in
	seq-read-1M) echo "--rw=read --bs=1M --ioengine=psync --iodepth=1" ;;
	seq-write-1M) echo "--rw=write --bs=1M --ioengine=psync --iodepth=1" ;;
	rand-read-4k-qd1) echo "--rw=randread --bs=4k --ioengine=psync --iodepth=1" ;;
	rand-write-4k-qd1) echo "--rw=randwrite --bs=4k --ioengine=psync --iodepth=1" ;;
	rand-read-4k-qd32) echo "--rw=randread --bs=4k --ioengine=libaio --iodepth=32 --iodepth_batch_submit=8 --iodepth_batch_complete_min=1" ;;
	rand-write-4k-qd32) echo "--rw=randwrite --bs=4k --ioengine=libaio --iodepth=32 --iodepth_batch_submit=8 --iodepth_batch_complete_min=1" ;;
	esac
}
JOBS=${4:-seq-read-1M seq-write-1M rand-read-4k-qd1 rand-write-4k-qd1 rand-read-4k-qd32 rand-write-4k-qd32}
for j in $JOBS; do [ -n "$(job "$j")" ] || { echo "unknown job $j"; exit 1; }; done

# cipher NAME: "<cipher> <key> <optional parameters>" of a cipher setting.
cipher() {
	case $1 in
	null) echo "cipher_null-ecb - " ;;
	xts-512) echo "aes-xts-plain64 $KEY64 " ;;
	xts-4096) echo "aes-xts-plain64 $KEY64 sector_size:4096" ;;
	esac
}
CIPHERS=${5:-null xts-512 xts-4096}
TARGETS="crypt crypt-inline rcrypt ${6:-}"
for t in ${6:-}; do [ "$t" = rcrypt-inline ] || { echo "unknown target $t"; exit 1; }; done
for c in $CIPHERS; do [ -n "$(cipher "$c")" ] || { echo "unknown cipher $c"; exit 1; }; done

# table CIPHER TARGET
table() {
	set -- $(cipher "$1") "$2"
	c=$1 k=$2
	case $# in 3) opts="" t=$3 ;; *) opts=$3 t=$4 ;; esac
	case $t in
	crypt) target=crypt ;;
	crypt-inline) target=crypt opts="$opts no_read_workqueue no_write_workqueue" ;;
	rcrypt) target=rcrypt ;;
	rcrypt-inline) target=rcrypt opts="$opts no_read_workqueue no_write_workqueue" ;;
	esac
	set -- $opts
	echo "0 $SECTORS $target $c $k 0 /dev/ram0 0${1:+ $# $opts}"
}

run() { # run DEV DIR JOB REP
	mkdir -p "$2"
	# shellcheck disable=SC2046
	fio --name=bench --filename="$1" --direct=1 --time_based --runtime="$RUNTIME" --ramp_time=1 \
		--size=${SIZE_MB}M --randrepeat=0 --norandommap --group_reporting --output-format=json \
		--output="$2/$3.$4.json" $(job "$3") >/dev/null 2>&1 || echo "fio failed: $2 $3"
}

# paths CIPHER JOB REP: where rcrypt's adaptive engine ran the crypto of
# the bios of this run (counters since the device was created).
echo Y >/sys/module/dm_rcrypt/parameters/info_counters
paths() {
	echo "$1 $2 $3 $(dmsetup status bench | tr ' ' '\n' | grep _ios= | tr '\n' ' ')" | tee -a "$OUT/paths.txt"
}

echo "bench: $REPS repetitions, ${RUNTIME}s per run, $(nproc) CPUs, $(uname -r)"
rep=1
while [ $rep -le "$REPS" ]; do
	for j in $JOBS; do
		run /dev/ram0 "$OUT/raw/raw" "$j" $rep
	done
	for c in $CIPHERS; do
		for t in $TARGETS; do
			dmsetup create bench --table "$(table "$c" $t)" || { echo "cannot create $c $t"; exit 1; }
			dmsetup mknodes bench
			[ -b /dev/mapper/bench ] || { echo "no device node"; exit 1; }
			for j in $JOBS; do
				run /dev/mapper/bench "$OUT/$c/$t" "$j" $rep
				[ $t = rcrypt ] && paths "$c" "$j" $rep
			done
			dmsetup remove bench || exit 1
		done
	done
	echo "repetition $rep done"
	rep=$((rep + 1))
done
dmsetup table >/dev/null
echo "bench: done"
