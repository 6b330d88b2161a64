#!/bin/sh
# Guest side of `make icount` (run by tools/perf/icount through vm-run): a
# fixed amount of direct I/O (fio, psync) through crypt and rcrypt, for
# each cipher setting and engine setting. Prints one line per run:
#   RES <cipher> <target> <engine> <workload> <KB/s> <mean latency, us>
#   icount-guest.sh MB [SECTOR_SIZE [CIPHERS [ENGINES [UNALIGNED]]]]
# CIPHERS: of cipher_null-ecb, aes-xts-plain64 (the default: both) and
# authenc (capi:authenc(hmac(sha256),xts(aes))-random, integrity:48:aead,
# on dm-integrity over the ramdisk; 512-byte sectors). ENGINES: of default,
# inline (the default: both) and queue (each workload's direction on the
# work queue: engine_opts queue-r or queue-w). UNALIGNED (bytes, e.g. 512;
# none by default): each workload again on rcrypt from a buffer that many
# bytes into a page (fio's iomem_align), printed as target rcrypt-u: with
# 4096-byte sectors every sector then spans two pages (crypt refuses it).
set -u
MB=${1:-32}
SS=${2:-512}
CIPHERS=${3:-cipher_null-ecb aes-xts-plain64}
ENGINES=${4:-default inline}
UNALIGNED=${5:-}
# (The counters show that the unaligned runs' sectors were spread.)
[ -z "$UNALIGNED" ] || echo 1 >/sys/module/dm_rcrypt/parameters/info_counters
. "$(dirname "$0")/guest-common.sh"
perf_ramdisk "$MB" || exit 1

# below CIPHER: sets DEV (the device the targets map) and LEN (its
# sectors): the ramdisk, or for authenc a dm-integrity device over it in
# direct mode (no journal) with 48 bytes of tag per 512-byte sector.
below() {
	case $1 in
	authenc)
		dd if=/dev/zero of=/dev/ram0 bs=4096 count=1 oflag=direct 2>/dev/null
		dmsetup create ic-integ --table "0 8 integrity /dev/ram0 0 48 D 1 block_size:512" || exit 1
		LEN=$(dmsetup status ic-integ | awk '{print $5}')
		dmsetup remove ic-integ &&
			dmsetup create ic-integ --table "0 $LEN integrity /dev/ram0 0 48 D 1 block_size:512" &&
			dmsetup mknodes ic-integ || exit 1
		DEV=/dev/mapper/ic-integ
		;;
	*) DEV=/dev/ram0 LEN=$((MB * 2048)) ;;
	esac
}

# table TARGET CIPHER ENGINE: the table of a run (ENGINE: an engine_opts
# setting).
table() {
	case $2 in
	authenc)
		_o=$(echo integrity:48:aead $(engine_opts "$3"))
		echo "0 $LEN $1 capi:authenc(hmac(sha256),xts(aes))-random $KEY64$KEY32 0 $DEV 0 $(echo $_o | wc -w) $_o"
		;;
	*) perf_table "$1" "$2" "$3" "$SS" "$MB" ;;
	esac
}

for c in $CIPHERS; do
	below $c
	if [ $c = authenc ]; then
		# Every sector written once, so that its tag verifies.
		dmsetup create ic --table "$(table crypt $c default)" && dmsetup mknodes ic || exit 1
		dd if=/dev/zero of=/dev/mapper/ic bs=1M oflag=direct 2>/dev/null
		dmsetup remove ic || exit 1
	fi
	size=$((LEN / 2048))
	for t in crypt rcrypt ${UNALIGNED:+rcrypt-u}; do
		# rcrypt-u: rcrypt, from buffers UNALIGNED bytes into a page.
		tt=${t%-u} align=""
		[ $t = rcrypt-u ] && align="--iomem_align=$UNALIGNED"
		for e in $ENGINES; do
			for w in "read 1M" "write 1M" "randread 4k" "randwrite 4k"; do
				set -- $w
				# One device per engine setting, living through its four
				# workloads; the queue setting's depends on the direction.
				case $e:$1 in
				queue:*read) te=queue-r ;;
				queue:*) te=queue-w ;;
				*) te=$e ;;
				esac
				if [ "$1" = read ] || [ $e = queue ]; then
					dmsetup create ic --table "$(table $tt $c $te)" && dmsetup mknodes ic || exit 1
				fi
				r=$(fio --name=ic --filename=/dev/mapper/ic --direct=1 --ioengine=psync --rw="$1" --bs="$2" \
					--size="${size}M" --randrepeat=1 $align --output-format=terse 2>/dev/null) || { echo "fio failed"; exit 1; }
				# terse v3: field 7 read KB/s, field 48 write KB/s
				# and fields 40 / 81 the mean total latency in us (sub-ns digits)
				res=$(echo "$r" | awk -F';' '{ print ($7 > 0) ? $7 " " $40 : $48 " " $81 }')
				echo "RES $c $t $e $1-$2 $res"
				[ $t = rcrypt-u ] && echo "SPREAD $c $e $1-$2 $(dmsetup status ic | tr ' ' '\n' | sed -n 's/^spread_sectors=//p')"
				if [ "$1" = randwrite ] || [ $e = queue ]; then
					dmsetup remove ic || exit 1
				fi
			done
		done
	done
	[ $DEV = /dev/ram0 ] || dmsetup remove ic-integ || exit 1
done
