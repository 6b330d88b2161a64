#!/bin/sh
# Guest side of `make bench` (run by tools/perf/bench through vm-run): fio
# over a brd ramdisk, raw and through crypt (default), crypt inline
# (no_read_workqueue no_write_workqueue) and rcrypt (default), for each
# cipher and workload, repeated and interleaved between targets. One fio JSON file per run in
# $OUT/<cipher>/<target>/<job>.<rep>.json.
#   bench-guest.sh OUT REPS RUNTIME [JOBS [CIPHERS [EXTRA]]]
# EXTRA: more targets after the three, of: rcrypt-inline (rcrypt with
# no_read_workqueue no_write_workqueue) and rcrypt-queue (rcrypt with the
# job's direction on the work queue: no_write_workqueue for reads,
# no_read_workqueue for writes), to compare paths apart from the adaptive
# engine's choice.
set -u
OUT=$1 REPS=${2:-3} RUNTIME=${3:-2}
. "$(dirname "$0")/guest-common.sh"
SIZE_MB=256
perf_ramdisk $SIZE_MB || exit 1

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

# cipher NAME: "<cipher> <sector size>" of a cipher setting.
cipher() {
	case $1 in
	null) echo "cipher_null-ecb 512" ;;
	xts-512) echo "aes-xts-plain64 512" ;;
	xts-4096) echo "aes-xts-plain64 4096" ;;
	authenc | authenc-nvme) echo "capi:authenc(hmac(sha256),xts(aes))-random 512" ;;
	esac
}
CIPHERS=${5:-null xts-512 xts-4096 authenc authenc-nvme}
TARGETS="crypt crypt-inline rcrypt ${6:-}"
for t in ${6:-}; do case $t in rcrypt-inline | rcrypt-queue) ;; *) echo "unknown target $t"; exit 1 ;; esac; done
for c in $CIPHERS; do [ -n "$(cipher "$c")" ] || { echo "unknown cipher $c"; exit 1; }; done

# Integrity settings (authenc: 32 bytes of HMAC-SHA256 and a 16-byte random
# IV per 512-byte sector) map a device of their own, set up by below:
# authenc a dm-integrity device over the ramdisk (direct mode, no journal:
# dm-integrity's cheapest), authenc-nvme the NVMe namespace with 64 bytes
# of metadata per block (tools/perf/bench adds it, over a file in the
# host's memory).
INTEGRITY_OPTS="integrity:48:aead"
below() { # below CIPHER: sets BELOW and BELOW_LEN (sectors)
	case $1 in
	authenc)
		# (A zeroed superblock: dm-integrity formats the device.)
		dd if=/dev/zero of=/dev/ram0 bs=4096 count=1 oflag=direct 2>/dev/null
		dmsetup create b-integ --table "0 8 integrity /dev/ram0 0 48 D 1 block_size:512" || return 1
		BELOW_LEN=$(dmsetup status b-integ | awk '{print $5}')
		dmsetup remove b-integ &&
			dmsetup create b-integ --table "0 $BELOW_LEN integrity /dev/ram0 0 48 D 1 block_size:512" &&
			dmsetup mknodes b-integ || return 1
		BELOW=/dev/mapper/b-integ
		;;
	authenc-nvme)
		BELOW=/dev/nvme0n1
		[ -b $BELOW ] || { echo "no NVMe namespace: $1 left out"; return 1; }
		BELOW_LEN=$(blockdev --getsz $BELOW)
		;;
	*) BELOW=/dev/ram0 BELOW_LEN=$((SIZE_MB * 2048)) ;;
	esac
}

# table CIPHER DEVICE: the table of a cipher setting on a device of a
# target setting (crypt, crypt-inline, rcrypt, rcrypt-inline,
# rcrypt-queue-r, rcrypt-queue-w; the suffix an engine_opts setting), over
# BELOW.
table() {
	_c=$1
	set -- $(cipher "$1") "$2"
	case $3 in
	*-inline) _t=${3%-inline} _e=inline ;;
	*-queue-[rw]) _t=${3%-queue-?} _e=queue-${3##*-} ;;
	*) _t=$3 _e=default ;;
	esac
	case $_c in
	authenc*)
		_o=$(echo $INTEGRITY_OPTS $(engine_opts $_e))
		echo "0 $BELOW_LEN $_t $1 $KEY64$KEY32 0 $BELOW 0 $(echo $_o | wc -w) $_o"
		;;
	*) perf_table "$_t" "$1" "$_e" "$2" $SIZE_MB ;;
	esac
}

# devices TARGET: the devices of a target setting: rcrypt-queue has one per
# direction.
devices() {
	case $1 in
	rcrypt-queue) echo "$1-r $1-w" ;;
	*) echo "$1" ;;
	esac
}

# device TARGET JOB: the device a job runs on for a target setting.
device() {
	case $1:$2 in
	rcrypt-queue:*read*) echo "/dev/mapper/b-$1-r" ;;
	rcrypt-queue:*) echo "/dev/mapper/b-$1-w" ;;
	*) echo "/dev/mapper/b-$1" ;;
	esac
}

run() { # run DEV DIR JOB REP
	mkdir -p "$2"
	# shellcheck disable=SC2046
	fio --name=bench --filename="$1" --direct=1 --time_based --runtime="$RUNTIME" --ramp_time=1 \
		--size=$(($(blockdev --getsize64 "$1") / 1048576))M --randrepeat=0 --norandommap --group_reporting --output-format=json \
		--output="$2/$3.$4.json" $(job "$3") >/dev/null 2>&1 || echo "fio failed: $2 $3"
}

# paths CIPHER JOB REP: where rcrypt's adaptive engine ran the crypto of
# the bios of this run (its INFO counters, less those of the runs before).
echo Y >/sys/module/dm_rcrypt/parameters/info_counters
paths() {
	st=$(dmsetup status b-rcrypt)
	in=${st##*inline_ios=} q=${st##*queued_ios=}
	in=${in%% *} q=${q%% *}
	echo "$1 $2 $3 inline_ios=$((in - prev_in)) queued_ios=$((q - prev_q))" | tee -a "$OUT/paths.txt"
	prev_in=$in prev_q=$q
}

# rotate N WORDS...: the words turned left N times (the order of the targets
# changes from one repetition to the next, so none always runs first).
rotate() {
	n=$1
	shift
	n=$((n % $#))
	while [ $n -gt 0 ]; do
		w=$1
		shift
		set -- "$@" "$w"
		n=$((n - 1))
	done
	echo "$@"
}

echo "bench: $REPS repetitions, ${RUNTIME}s per run, $(nproc) CPUs, $(uname -r)"
rep=1
while [ $rep -le "$REPS" ]; do
	for j in $JOBS; do
		run /dev/ram0 "$OUT/raw/raw" "$j" $rep
	done
	# One device per target, all over the ramdisk, living through every
	# job of the repetition (rcrypt's engine sees the workload change from
	# job to job); each job runs on every target back to back, so that the
	# targets of a row meet the same state of a noisy host.
	for c in $CIPHERS; do
		below "$c" || continue
		for d in $(for t in $TARGETS; do devices $t; done); do
			dmsetup create "b-$d" --table "$(table "$c" $d)" || { echo "cannot create $c $d"; exit 1; }
		done
		dmsetup mknodes
		# Integrity: every sector written once, so that its tag verifies
		# (all targets share the key: each reads what the others wrote).
		case $c in
		authenc*) dd if=/dev/zero of=/dev/mapper/b-crypt bs=1M oflag=direct 2>/dev/null ;;
		esac
		prev_in=0 prev_q=0
		for j in $JOBS; do
			for t in $(rotate $rep $TARGETS); do
				d=$(device $t "$j")
				[ -b "$d" ] || { echo "no device node $d"; exit 1; }
				run "$d" "$OUT/$c/$t" "$j" $rep
				[ $t = rcrypt ] && paths "$c" "$j" $rep
			done
		done
		for d in $(for t in $TARGETS; do devices $t; done); do
			dmsetup remove "b-$d" || exit 1
		done
		[ "$BELOW" != /dev/mapper/b-integ ] || dmsetup remove b-integ || exit 1
	done
	echo "repetition $rep done"
	rep=$((rep + 1))
done
dmsetup table >/dev/null
# Time in the guest comes from this clocksource (a TSC the kernel found
# unstable under emulation would have been replaced, and every clock read
# would then cost a device access).
echo "bench: clocksource $(cat /sys/devices/system/clocksource/clocksource0/current_clocksource)"
dmesg | grep -i "clocksource.*unstable\|tsc.*unstable" | head -3
echo "bench: done"
