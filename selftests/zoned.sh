# Helpers of the zoned-device selftests (t/64-zoned.sh on null_blk,
# boot/nvme-zoned.sh on QEMU's ZNS namespaces), sourced after lib.sh:
# zoned_checks runs the checks of one device, counting failures in $bad.
# shellcheck shell=sh
for t in blkzone mkfs.f2fs fsck.f2fs; do
	command -v $t >/dev/null || die "no $t in the guest"
done

bad=0
fail() { echo "FAIL: $*"; bad=1; }

# zones DEV FROM COUNT SHIFT: COUNT zones of DEV from sector FROM, one per
# line: start (minus SHIFT), length, capacity, write pointer (relative to
# the zone's start; sequential zones only), condition, type.
zones() {
	blkzone report -o "$2" -c "$3" "$1" |
		sed -n 's/.*start: *\(0x[0-9a-f]*\), len \(0x[0-9a-f]*\), cap \(0x[0-9a-f]*\), wptr \(0x[0-9a-f]*\).*zcond: *\([0-9]*\).*type: *\([0-9]*\).*/\1 \2 \3 \4 \5 \6/p' |
		while read -r s l c w z ty; do
			[ "$ty" = 1 ] && w=-
			[ "$w" = - ] || w=$((w))
			echo "$((s - $4)) $((l)) $((c)) $w $z $ty"
		done
}

# zone_field DEV SECTOR FIELD: one field (as zones prints it) of the zone
# at SECTOR.
zone_field() { zones "$1" "$2" 1 0 | awk -v f="$3" '{ print $f }'; }

# mk NAME TARGET LEN START: a mapping of $ZDEV from START.
mk() {
	dmsetup create "$1" --table "0 $3 $2 aes-xts-plain64 $KEY64 0 $ZDEV $4" && dmsetup mknodes
}

# zoned_checks DEV CONV: the checks on DEV, a zoned device whose first CONV
# zones are conventional (the rest sequential write required), at least
# eight zones of at least 4 MiB.
zoned_checks() {
	ZDEV=$1 conv=$2
	zs=$(cat /sys/block/${ZDEV#/dev/}/queue/chunk_sectors)
	total=$(blockdev --getsz $ZDEV)
	echo "# $ZDEV: $(blockdev --getss $ZDEV)-byte blocks, zones of $zs sectors, $conv conventional"
	off=$zs len=$((total - zs)) nz=$(((total - zs) / zs))
	# The first sequential zone of the mapping (seq), and the next (z2).
	seq=$(((conv - 1) * zs))
	[ $seq -ge 0 ] || seq=0

	# Tables that are not zone-aligned: both targets refuse them.
	for t in crypt rcrypt; do
		mk zbad $t $len $((off + 8)) 2>/dev/null && { fail "$t: start not zone-aligned accepted"; dmsetup remove zbad; }
		mk zbad $t $((zs / 2)) $off 2>/dev/null && { fail "$t: length not zone-aligned accepted"; dmsetup remove zbad; }
	done

	for t in crypt rcrypt; do
		o=rcrypt; [ $t = rcrypt ] && o=crypt
		blkzone reset $ZDEV || fail "reset all"
		mk z $t $len $off || { fail "$t: create on the zoned device"; continue; }
		line=$(dmsetup table --showkeys z | sed -e "s/ $t / T /" -e "s/$KEY64/KEY/")
		eval "table_$t=\$line"
		[ "$(zones /dev/mapper/z 0 $nz 0)" = "$(zones $ZDEV $off $nz $off)" ] ||
			fail "$t: zone report differs from the device's shifted by $off"
		[ "$(zone_field /dev/mapper/z $seq 6)" = 2 ] || fail "$t: zone at $seq is not sequential"

		# Sequential writes: 256 KiB in two bios, then 2 MiB in one, at
		# the write pointer of the next zone.
		head -c 262144 /dev/urandom >/tmp/z1
		head -c 2097152 /dev/urandom >/tmp/z2
		dd if=/tmp/z1 of=/dev/mapper/z bs=128k seek=$((seq / 256)) oflag=direct 2>/dev/null || fail "$t: sequential write"
		[ "$(zone_field $ZDEV $((off + seq)) 4)" = 512 ] || fail "$t: write pointer not at 512 after 256 KiB"
		z2=$((seq + zs))
		dd if=/tmp/z2 of=/dev/mapper/z bs=2M seek=$((z2 / 4096)) oflag=direct 2>/dev/null || fail "$t: 2 MiB write"
		[ "$(zone_field $ZDEV $((off + z2)) 4)" = 4096 ] || fail "$t: write pointer not at 4096 after 2 MiB"
		# Out of order: past the write pointer, and at a zone's start again.
		dd if=/tmp/z1 of=/dev/mapper/z bs=4k count=1 seek=$(((seq + 1024) / 8)) oflag=direct 2>/dev/null &&
			fail "$t: write past the write pointer accepted"
		dd if=/tmp/z1 of=/dev/mapper/z bs=4k count=1 seek=$((z2 / 8)) oflag=direct 2>/dev/null &&
			fail "$t: write at a written zone's start accepted"
		# Read back through this target, then through the other one.
		dd if=/dev/mapper/z bs=128k count=2 skip=$((seq / 256)) iflag=direct 2>/dev/null | cmp -s - /tmp/z1 ||
			fail "$t: read back"
		dd if=$ZDEV bs=128k count=2 skip=$(((off + seq) / 256)) iflag=direct 2>/dev/null | cmp -s - /tmp/z1 &&
			fail "$t: plaintext on the device"
		dmsetup remove z
		mk z $o $len $off || { fail "$o: create"; continue; }
		dd if=/dev/mapper/z bs=128k count=2 skip=$((seq / 256)) iflag=direct 2>/dev/null | cmp -s - /tmp/z1 ||
			fail "written through $t, read through $o: differs"
		dd if=/dev/mapper/z bs=2M count=1 skip=$((z2 / 4096)) iflag=direct 2>/dev/null | cmp -s - /tmp/z2 ||
			fail "2 MiB written through $t, read through $o: differs"
		dmsetup remove z
		mk z $t $len $off || { fail "$t: create"; continue; }
		# Zone management through the mapping reaches the device.
		blkzone reset -o $seq -c 1 /dev/mapper/z || fail "$t: zone reset"
		[ "$(zone_field $ZDEV $((off + seq)) 4)" = 0 ] || fail "$t: reset did not reach the device"
		blkzone finish -o $z2 -c 1 /dev/mapper/z || fail "$t: zone finish"
		[ "$(zone_field $ZDEV $((off + z2)) 5)" = 14 ] || fail "$t: finish did not reach the device"
		dmsetup remove z
	done
	[ "$table_crypt" = "$table_rcrypt" ] || fail "tables differ: crypt '$table_crypt', rcrypt '$table_rcrypt'"
	echo "$table_rcrypt" | grep -q " 1 no_write_workqueue$" || fail "no_write_workqueue not in the table: $table_rcrypt"

	# fio's zoned mode with verify: sequential, then random writes at depth 4.
	blkzone reset $ZDEV
	mk z rcrypt $len $off || fail "rcrypt: create"
	for job in "--rw=write --ioengine=psync" "--rw=randwrite --ioengine=libaio --iodepth=4 --max_open_zones=4"; do
		# shellcheck disable=SC2086
		fio --name=zbd --filename=/dev/mapper/z --direct=1 --zonemode=zbd $job --bs=16k \
			--offset=$((seq * 512)) --size=$((4 * zs * 512)) --io_size=4M --verify=crc32c \
			--output=/tmp/fio.out >/dev/null || { cat /tmp/fio.out; fail "fio $job"; }
	done
	dmsetup remove z
}

