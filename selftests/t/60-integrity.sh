# Integrity metadata on dm-integrity (no internal hash: the tags are the
# upper target's), against the C target, for AEAD specs and for
# integrity:N:none with the random IV, 512- and 4096-byte sectors:
#  - each target reads back what it wrote, and what the other wrote (the
#    tags and stored IVs included);
#  - a deterministic AEAD (plain64 IV) leaves the same bytes on the device
#    below, data and tags, through either target;
#  - a forged page (written with another key) fails to read, alone,
#    through both targets alike (rcrypt counts it in integrity_errors and
#    names its first sector in the kernel log); a write over it heals it.
. "$SELFTESTS/lib.sh"
ramdisks
# rcrypt's INFO counters (integrity_errors), restored at the end.
P=/sys/module/dm_rcrypt/parameters/info_counters
counters_was=$(cat $P)
echo Y >$P

head -c 262144 /dev/urandom >/tmp/i1
bad=0 n=0
fail() { echo "$desc: $*"; bad=$((bad + 1)); }
rd() { dd if="$1" bs="$3" count="$2" skip="${4:-0}" iflag=direct 2>/dev/null; }

# Verdicts: the same tables on a dm-integrity device (28 bytes per 512-byte
# sector) and on a plain ramdisk get the same verdict and message from both
# targets (or, accepted, the same table status).
desc=verdicts
if len=$(integrity_dev igv /dev/ram3 28 512); then
	table_device_create
	while read -r dev args; do
		[ -n "$dev" ] || continue
		n=$((n + 1))
		args=$(echo "$args" | sed -e "s|@KEY32@|$KEY32|g" -e "s|@KEY64@|$KEY64|g")
		c=$(try_table crypt 8 "${args/@DEV@/$dev}")
		r=$(try_table rcrypt 8 "${args/@DEV@/$dev}")
		[ "$c" = "$r" ] || fail "$dev $args: crypt: $c; rcrypt: $r"
		echo "$r" | grep -q "not supported yet" && fail "$dev $args: $r"
	done <<-EOF
		/dev/mapper/igv capi:gcm(aes)-random @KEY32@ 0 @DEV@ 0 1 integrity:28:aead
		/dev/mapper/igv capi:gcm(aes)-random @KEY32@ 0 @DEV@ 0 1 integrity:20:aead
		/dev/mapper/igv capi:gcm(aes)-random @KEY32@ 0 @DEV@ 0 1 integrity:32:aead
		/dev/mapper/igv capi:gcm(aes)-random @KEY32@ 0 @DEV@ 0 1 integrity:12:aead
		/dev/mapper/igv capi:gcm(aes)-random @KEY32@ 0 @DEV@ 0 2 integrity:28:aead sector_size:4096
		/dev/mapper/igv capi:gcm(aes)-plain64 @KEY32@ 0 @DEV@ 0 1 integrity:16:aead
		/dev/mapper/igv capi:authenc(hmac(sha256),xts(aes))-random @KEY64@@KEY32@ 0 @DEV@ 0 1 integrity:28:aead
		/dev/mapper/igv capi:authenc(hmac(sha256),xts(aes))-plain64 @KEY64@@KEY32@ 0 @DEV@ 0 1 integrity:28:aead
		/dev/mapper/igv capi:authenc(hmac(sha256),xts(aes))-plain64 @KEY64@ 0 @DEV@ 0 2 integrity:28:aead integrity_key_size:16
		/dev/mapper/igv capi:authenc(hmac(sha999),xts(aes))-plain64 @KEY64@ 0 @DEV@ 0 1 integrity:28:aead
		/dev/mapper/igv capi:xts(aes)-random @KEY64@ 0 @DEV@ 0 1 integrity:28:aead
		/dev/mapper/igv capi:nosuch(aes)-random @KEY32@ 0 @DEV@ 0 1 integrity:28:aead
		/dev/mapper/igv aes-xts-random @KEY64@ 0 @DEV@ 0 1 integrity:16:none
		/dev/mapper/igv aes-xts-random @KEY64@ 0 @DEV@ 0
		/dev/mapper/igv aes-cbc-random @KEY32@ 0 @DEV@ 0 1 integrity:28:none
		/dev/mapper/igv aes-xts-plain64 @KEY64@ 0 @DEV@ 0 1 integrity:28:none
		/dev/ram0 capi:gcm(aes)-random @KEY32@ 0 @DEV@ 0 1 integrity:28:aead
		/dev/ram0 aes-xts-random @KEY64@ 0 @DEV@ 0 1 integrity:16:none
	EOF
	table_device_remove
	dmsetup remove igv
else
	fail "dm-integrity"
fi

# case_ DESC CIPHER KEY TAG OPTIONS: OPTIONS without the count.
case_() {
	desc=$1 cipher=$2 key=$3 tag=$4 opts=$5
	n=$((n + 1))
	bs=512
	case $opts in *sector_size:4096*) bs=4096 ;; esac
	nopt=$(echo "$opts" | wc -w)
	lc=$(integrity_dev igc /dev/ram0 "$tag" $bs) && lr=$(integrity_dev igr /dev/ram1 "$tag" $bs) ||
		{ fail "dm-integrity"; dmsetup remove_all; return; }
	dmsetup create dc --table "0 $lc crypt $cipher $key 0 /dev/mapper/igc 0 $nopt $opts" ||
		{ fail "crypt refused"; dmsetup remove_all; return; }
	if ! dmsetup create dr --table "0 $lr rcrypt $cipher $key 0 /dev/mapper/igr 0 $nopt $opts"; then
		fail "rcrypt refused: $(dmesg | grep 'rcrypt:' | tail -1)"
		dmsetup remove_all
		return
	fi
	dmsetup mknodes
	for d in dc dr; do
		dd if=/tmp/i1 of=/dev/mapper/$d bs=64k oflag=direct conv=notrunc 2>/dev/null || fail "write through $d"
	done
	rd /dev/mapper/dr 4 64k | cmp -s - /tmp/i1 || fail "rcrypt read-back differs"
	rd /dev/mapper/dc 4 64k | cmp -s - /tmp/i1 || fail "crypt read-back differs"
	case $cipher in
	*-random*) ;;
	*)
		# A flush through each target first: dm-integrity without a
		# journal keeps the tags it writes in its buffer cache until a
		# flush (or its own writeback) puts them on the ramdisk. (O_DIRECT:
		# the ramdisks' page caches may be stale.)
		for d in dc dr; do
			dd if=/dev/null of=/dev/mapper/$d conv=fsync,notrunc 2>/dev/null || fail "flush through $d"
		done
		dd if=/dev/ram1 of=/tmp/below1 bs=1M iflag=direct 2>/dev/null
		dd if=/dev/ram0 bs=1M iflag=direct 2>/dev/null | cmp - /tmp/below1 >/tmp/below.cmp 2>&1 ||
			fail "the devices below differ (data or tags): $(head -c 200 /tmp/below.cmp)"
		rm -f /tmp/below.cmp
		rm -f /tmp/below1
		;;
	esac
	dmsetup remove dc && dmsetup remove dr || fail "remove"
	# Cross: each target over the other's device.
	dmsetup create xr --table "0 $lc rcrypt $cipher $key 0 /dev/mapper/igc 0 $nopt $opts" &&
		dmsetup create xc --table "0 $lr crypt $cipher $key 0 /dev/mapper/igr 0 $nopt $opts" &&
		dmsetup mknodes || fail "cross create"
	rd /dev/mapper/xr 4 64k | cmp -s - /tmp/i1 || fail "rcrypt cannot read crypt's data"
	rd /dev/mapper/xc 4 64k | cmp -s - /tmp/i1 || fail "crypt cannot read rcrypt's data"
	dmsetup remove xr && dmsetup remove xc && dmsetup remove igc && dmsetup remove igr || fail "remove"
}

case_ "AES-GCM random" "capi:gcm(aes)-random" "$KEY32" 28 "integrity:28:aead"
case_ "authenc hmac(sha256) xts(aes) random" "capi:authenc(hmac(sha256),xts(aes))-random" \
	"$KEY64$KEY32" 48 "integrity:48:aead"
case_ "authenc hmac(sha256) xts(aes) plain64" "capi:authenc(hmac(sha256),xts(aes))-plain64" \
	"$KEY64$KEY32" 32 "integrity:32:aead"
case_ "authenc plain64, 4096-byte sectors" "capi:authenc(hmac(sha256),xts(aes))-plain64" \
	"$KEY64$KEY32" 32 "integrity:32:aead sector_size:4096"
case_ "AES-GCM random, 4096-byte sectors" "capi:gcm(aes)-random" "$KEY32" 28 "integrity:28:aead sector_size:4096"
case_ "chacha20-poly1305 random" "capi:rfc7539(chacha20,poly1305)-random" "$KEY32" 28 "integrity:28:aead"
case_ "AEGIS-128 random" "capi:aegis128-random" "${KEY32%????????????????????????????????}" 32 "integrity:32:aead"
case_ "AES-XTS random IV stored (integrity:16:none)" aes-xts-random "$KEY64" 16 "integrity:16:none"
case_ "AES-XTS random IV, larger tuple" aes-xts-random "$KEY64" 24 "integrity:24:none"

# A forged page, on one device below, read by both targets in turn: the
# 4 KiB at sector 32 rewritten through a mapping with another key (its
# data and tuples then belong to that key: the tags do not verify under the
# right one) must fail to read through both targets, alone (the sectors
# beside it read back), and a write with the right key heals it. (Whole
# pages: busybox's dd goes through the page cache, where a smaller write
# would read the page first.)
sec=32
forge() { # forge CIPHER KEY OTHER-KEY TAG OPTION
	desc="forged page ($1)"
	n=$((n + 1))
	len=$(integrity_dev ig /dev/ram2 "$4" 512) || { fail "dm-integrity"; return; }
	tbl="0 $len TARGET $1 KEY 0 /dev/mapper/ig 0 1 $5"
	good=$(echo "$tbl" | sed "s/KEY/$2/")
	dmsetup create tw --table "${good/TARGET/rcrypt}" && dmsetup mknodes ||
		{ fail "create"; dmsetup remove_all; return; }
	dd if=/tmp/i1 of=/dev/mapper/tw bs=64k oflag=direct 2>/dev/null || fail "write"
	dmsetup remove tw
	other=$(echo "$tbl" | sed "s/KEY/$3/")
	dmsetup create tx --table "${other/TARGET/rcrypt}" && dmsetup mknodes || fail "create with the other key"
	dd if=/tmp/page of=/dev/mapper/tx bs=4096 seek=$((sec / 8)) count=1 oflag=direct conv=notrunc 2>/dev/null ||
		fail "write with the other key"
	dmsetup remove tx
	for target in rcrypt crypt; do
		dmesg -c >/dev/null
		dmsetup create tt --table "${good/TARGET/$target}" && dmsetup mknodes || { fail "$target create"; continue; }
		if dd if=/dev/mapper/tt of=/dev/null bs=4096 skip=$((sec / 8)) count=1 iflag=direct 2>/dev/null; then
			fail "$target read the forged page"
		fi
		for s in $((sec - 8)) $((sec + 8)); do
			dd if=/dev/mapper/tt bs=4096 skip=$((s / 8)) count=1 iflag=direct 2>/dev/null |
				cmp -s - /tmp/page.$s || fail "$target: the page at sector $s beside it does not read back"
		done
		if [ $target = rcrypt ]; then
			[ "$(counter integrity_errors tt)" -ge 1 ] || fail "integrity_errors did not count: $(dmsetup status tt)"
			dmesg | grep -q "rcrypt: .*INTEGRITY AEAD ERROR, sector $sec\$" || fail "no message naming sector $sec"
		fi
		dmsetup remove tt
	done
	# A write heals the page.
	dmsetup create tt --table "${good/TARGET/rcrypt}" && dmsetup mknodes
	dd if=/tmp/page.$sec of=/dev/mapper/tt bs=4096 seek=$((sec / 8)) count=1 oflag=direct conv=notrunc 2>/dev/null
	dd if=/dev/mapper/tt bs=4096 skip=$((sec / 8)) count=1 iflag=direct 2>/dev/null | cmp -s - /tmp/page.$sec ||
		fail "a write did not heal the page"
	dmsetup remove_all
}
for s in $((sec - 8)) $sec $((sec + 8)); do dd if=/tmp/i1 of=/tmp/page.$s bs=4096 skip=$((s / 8)) count=1 2>/dev/null; done
head -c 4096 /dev/urandom >/tmp/page
OTHER32=$(head -c 32 /dev/urandom | od -An -v -tx1 | tr -d ' \n')
forge "capi:gcm(aes)-random" "$KEY32" "$OTHER32" 28 "integrity:28:aead"
forge "capi:authenc(hmac(sha256),xts(aes))-plain64" "$KEY64$KEY32" "$KEY64$OTHER32" 32 "integrity:32:aead"

echo "$counters_was" >$P
echo "$n cases, $bad failures"
[ $bad = 0 ]
