# Tampering with the device below, one byte at a time: on a dm-integrity
# device in direct mode (no journal), a page of 512-byte sectors (or three
# 4096-byte sectors) is written through rcrypt, and where its ciphertext and
# its tuples lie on the ramdisk below is found by comparing the ramdisk
# before and after (three writes: with the random IV, every byte of the
# ciphertext and of the tuple changes with each). Then one byte of one
# sector's ciphertext, one byte of another's authentication tag and one byte
# of a third one's stored IV are flipped on the ramdisk itself:
#  - AEAD: exactly those three sectors fail to read (one sector at a time,
#    O_DIRECT from an aligned buffer: dmfuzz odirect), through crypt and
#    rcrypt alike and with the same error (EILSEQ); the other sectors read
#    back; rcrypt counts three integrity errors, and reads just those three
#    sectors again (the others pass the in-place check); a write through
#    rcrypt heals them;
#  - integrity:N:none (the IV stored, nothing authenticated): all sectors
#    read, those three read back changed, and identically through both.
. "$SELFTESTS/lib.sh"
ramdisks
odirect_setup
counters_on
bad=0 n=0
fail() { echo "$desc: $*"; bad=$((bad + 1)); }
RAW=/dev/ram2 BASE=32
# The first 16 MiB of the ramdisk hold dm-integrity's superblock, journal
# area, the first tag run and the start of the first data area.
snap() { dd if=$RAW of="$1" bs=1M count=16 iflag=direct 2>/dev/null; }

# flip OFFSET: one byte of the ramdisk changed, written back as the whole
# 4 KiB page (O_DIRECT, nothing cached above it).
flip() {
	_pg=$(($1 / 4096)) _at=$(($1 % 4096))
	dd if=$RAW of=/tmp/pg bs=4096 skip=$_pg count=1 iflag=direct 2>/dev/null
	_v=$(od -An -tu1 -j "$_at" -N1 /tmp/pg | tr -d ' ')
	# (Inverted, or 254 for 255: never a NUL, which printf cannot write.)
	_v=$((_v == 255 ? 254 : _v ^ 255))
	printf "\\$(printf %03o $_v)" | dd of=/tmp/pg bs=1 seek="$_at" conv=notrunc 2>/dev/null
	dd if=/tmp/pg of=$RAW bs=4096 seek=$_pg count=1 oflag=direct conv=notrunc 2>/dev/null
}

# tamper DESC CIPHER KEY TAG AUTH-TAG BLOCK OPTIONS: TAG bytes per tuple,
# the first AUTH-TAG of them the authentication tag (0: none), the stored
# IV after it.
tamper() {
	desc=$1 cipher=$2 key=$3 tag=$4 auth=$5 bs=$6 opts=$7
	n=$((n + 1))
	nopt=$(echo "$opts" | wc -w)
	# What is written: one page of 512-byte sectors, or three 4096-byte
	# sectors; sectors i1, i2 and i3 of it get their ciphertext, tag and
	# IV flipped.
	if [ "$bs" = 512 ]; then nsec=8 i1=1 i2=3 i3=6; else nsec=3 i1=0 i2=1 i3=2; fi
	bytes=$((nsec * bs)) first=$((BASE * 512 / bs))
	len=$(integrity_dev ig $RAW "$tag" "$bs") || { fail "dm-integrity"; return; }
	tbl="0 $len TARGET $cipher $key 0 /dev/mapper/ig 0 $nopt $opts"
	# The whole device written once (every tag valid), then the snapshots
	# around three writes of the sectors under test, with nothing mapped
	# above the ramdisk while it is read.
	up() { dmsetup create tt --table "${tbl/TARGET/$1}" && dmsetup mknodes; }
	up rcrypt || { fail "create: $(dmesg | grep 'rcrypt:' | tail -1)"; dmsetup remove_all; return; }
	dd if=/dev/urandom of=/tmp/all bs=64k count=4 2>/dev/null
	dd if=/tmp/all of=/dev/mapper/tt bs=64k oflag=direct 2>/dev/null || fail "first write"
	: >/tmp/changed
	for w in 0 1 2 3; do
		dmsetup remove tt && dmsetup remove ig || fail "remove"
		snap /tmp/snap.$w
		[ $w = 0 ] || cmp -l /tmp/snap.$((w - 1)) /tmp/snap.$w | awk '{print $1 - 1}' >>/tmp/changed
		[ $w = 3 ] && break
		dmsetup create ig --table "0 $len integrity $RAW 0 $tag D 1 block_size:$bs" && dmsetup mknodes || fail "dm-integrity again"
		up rcrypt || fail "create again"
		dd if=/dev/urandom of=/tmp/page bs=$bytes count=1 2>/dev/null
		[ "$(odirect w /dev/mapper/tt /tmp/page $((BASE * 512)))" = ok ] || fail "write $w"
	done
	rm -f /tmp/snap.*
	# /tmp/all as it now is: the last page written in at sector BASE.
	dd if=/tmp/page of=/tmp/all bs=512 seek=$BASE conv=notrunc 2>/dev/null
	# Runs of changed bytes (gaps of more than 64 bytes apart): the data
	# and the tuples, in either order.
	runs=$(sort -n -u /tmp/changed | awk 'NR == 1 { s = $1; p = $1; next }
		$1 > p + 64 { print s, p; s = $1 } { p = $1 } END { if (NR) print s, p }')
	data="" tuples=""
	while read -r s e; do
		[ -n "$s" ] || continue
		if [ $((e - s + 1)) -gt $((bytes - 512)) ]; then data=$((s / 512 * 512)) dlen=$((e - data + 1))
		else tuples=$s tlen=$((e - s + 1)); fi
	done <<-EOF
		$runs
	EOF
	if [ -z "$data" ] || [ -z "$tuples" ] || [ "$dlen" != $bytes ] || [ "$tlen" != $((nsec * tag)) ]; then
		fail "layout not found: changed runs: $(echo $runs)"
		dmsetup remove_all
		return
	fi
	flip $((data + i1 * bs + 100))
	# (Without an authentication tag, the second flip is in an IV too.)
	flip $((tuples + i2 * tag + 5))
	flip $((tuples + i3 * tag + auth + 3))
	dmsetup create ig --table "0 $len integrity $RAW 0 $tag D 1 block_size:$bs" && dmsetup mknodes || fail "dm-integrity after flips"
	for target in crypt rcrypt; do
		up $target || { fail "$target create"; continue; }
		failed="" errs=""
		# (The count before the reads: creating the device reads its
		# last sectors, never written, for a partition table.)
		errors0=$(counter integrity_errors tt) rechecks0=$(counter integrity_rechecks tt)
		i=0
		while [ $i -lt $nsec ]; do
			head -c $bs /dev/zero >/tmp/sec
			r=$(odirect r /dev/mapper/tt /tmp/sec $(((first + i) * bs)))
			if [ "$r" = ok ]; then
				dd if=/tmp/all bs=$bs skip=$((first + i)) count=1 2>/dev/null | cmp -s - /tmp/sec || failed="$failed $i:changed"
				cp /tmp/sec /tmp/read.$target.$i
			else
				failed="$failed $i:error"
				errs="$errs $r"
			fi
			i=$((i + 1))
		done
		eval "failed_$target=\"\$failed\" errs_$target=\"\$errs\""
		# Everything around the page reads back.
		dd if=/dev/mapper/tt of=/tmp/head bs=$((BASE * 512)) count=1 iflag=direct 2>/dev/null
		head -c $((BASE * 512)) /tmp/all | cmp -s - /tmp/head ||
			fail "$target: the sectors before the page do not read back"
		if [ $target = rcrypt ]; then
			# A sector read is checked in place; only one that fails
			# there is read again (and reported if it fails again).
			errors=$(($(counter integrity_errors tt) - errors0))
			rechecks=$(($(counter integrity_rechecks tt) - rechecks0))
			nwant=0
			[ "$auth" = 0 ] || nwant=3
			[ $errors = $nwant ] || fail "rcrypt counted $errors integrity errors, not $nwant"
			[ $rechecks = $nwant ] || fail "rcrypt read $rechecks sectors again, not $nwant"
		fi
		dmsetup remove tt
	done
	if [ "$auth" != 0 ]; then
		want=" $i1:error $i2:error $i3:error"
	else
		want=" $i1:changed $i2:changed $i3:changed"
		for i in $i1 $i2 $i3; do
			cmp -s /tmp/read.crypt.$i /tmp/read.rcrypt.$i || fail "sector $i read back differently through crypt and rcrypt"
		done
	fi
	# shellcheck disable=SC2154
	[ "$failed_crypt" = "$want" ] || fail "crypt:$failed_crypt (expected$want)"
	# shellcheck disable=SC2154
	[ "$failed_rcrypt" = "$want" ] || fail "rcrypt:$failed_rcrypt (expected$want)"
	# shellcheck disable=SC2154
	[ "$errs_crypt" = "$errs_rcrypt" ] || fail "errors: crypt:$errs_crypt; rcrypt:$errs_rcrypt"
	[ "$auth" = 0 ] || [ "$errs_rcrypt" = " EILSEQ EILSEQ EILSEQ" ] || fail "errors:$errs_rcrypt (expected EILSEQ)"
	echo "$desc: ciphertext, tag and IV flipped: sectors$failed_rcrypt${errs_rcrypt:+ ($(echo $errs_rcrypt))}"
	# A write heals them.
	up rcrypt
	[ "$(odirect w /dev/mapper/tt /tmp/page $((BASE * 512)))" = ok ] || fail "healing write"
	dmsetup remove tt
	up crypt
	dd if=/dev/mapper/tt bs=64k count=4 iflag=direct 2>/dev/null | cmp -s - /tmp/all || fail "a write did not heal the sectors"
	dmsetup remove_all
	rm -f /tmp/read.* /tmp/changed
}

tamper "AES-GCM random" "capi:gcm(aes)-random" "$KEY32" 28 16 512 "integrity:28:aead"
tamper "authenc hmac(sha256) xts(aes) random" "capi:authenc(hmac(sha256),xts(aes))-random" \
	"$KEY64$KEY32" 48 32 512 "integrity:48:aead"
tamper "AES-GCM random, 4096-byte sectors" "capi:gcm(aes)-random" "$KEY32" 28 16 4096 \
	"integrity:28:aead sector_size:4096"
tamper "AES-XTS random IV stored (integrity:16:none)" aes-xts-random "$KEY64" 16 0 512 "integrity:16:none"

echo "$counters_was" >$P
echo "$n cases, $bad failures"
[ $bad = 0 ]
