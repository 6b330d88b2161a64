# Differential data test against the C target, in both directions. For each
# case the same table is set up on crypt (over /dev/ram0) and on rcrypt (over
# /dev/ram1) and the same data written through both:
#  - the backing devices must hold the same bytes (identical ciphertext);
#  - rcrypt reads back what was written;
#  - rcrypt over crypt's backing device reads crypt's data, and crypt over
#    rcrypt's backing device reads rcrypt's data.
. "$SELFTESTS/lib.sh"
ramdisks

KEY16=${KEY32%????????????????????????????????}
KEY128=$KEY64$KEY64
LEN=2048 # sectors mapped (1 MiB)
head -c 262144 /dev/urandom >/tmp/d1
head -c 65536 /dev/urandom >/tmp/d2

bad=0 n=0
fail() { echo "$desc: $*"; bad=$((bad + 1)); }
rd() { dd if="$1" bs=64k count="$2" skip="${3:-0}" iflag=direct 2>/dev/null; }
wr() { dd if="$2" of="$1" bs=64k seek="${3:-0}" oflag=direct conv=notrunc 2>/dev/null; }

case_() { # case_ DESC CIPHER KEY IV_OFFSET OFFSET [OPTIONS]
	desc=$1
	n=$((n + 1))
	table="$2 $3 $4 @DEV@ $5 ${6:-}"
	dmsetup create dc --table "0 $LEN crypt ${table/@DEV@//dev/ram0}" || { fail "crypt refused"; return; }
	if ! dmsetup create dr --table "0 $LEN rcrypt ${table/@DEV@//dev/ram1}"; then
		fail "rcrypt refused: $(dmesg | grep 'rcrypt:' | tail -1)"
		dmsetup remove dc
		return
	fi
	dmsetup mknodes
	for dev in dc dr; do
		wr /dev/mapper/$dev /tmp/d1 0 && wr /dev/mapper/$dev /tmp/d2 8 || fail "write through $dev"
	done
	# Backing bytes of each ramdisk, from the start offset.
	skip=$(($5 * 512 / 65536))
	[ $(($5 * 512 % 65536)) = 0 ] || fail "offset must be a multiple of 128 sectors in this test"
	# Compare what was written: 256 KiB at the start and 64 KiB at 512 KiB
	# (the rest of the ramdisks may hold other tests' data).
	rd /dev/ram0 4 $skip >/tmp/ct0
	rd /dev/ram1 4 $skip >/tmp/ct1
	cmp -s /tmp/ct0 /tmp/ct1 || fail "ciphertext differs"
	[ "$2" = cipher_null-ecb ] || ! cmp -s /tmp/ct0 /tmp/d1 || fail "backing device holds plaintext"
	rd /dev/ram0 1 $((skip + 8)) >/tmp/ct0
	rd /dev/ram1 1 $((skip + 8)) >/tmp/ct1
	cmp -s /tmp/ct0 /tmp/ct1 || fail "ciphertext differs (d2)"
	rd /dev/mapper/dr 4 | cmp -s - /tmp/d1 || fail "rcrypt read-back differs (d1)"
	rd /dev/mapper/dr 1 8 | cmp -s - /tmp/d2 || fail "rcrypt read-back differs (d2)"
	dmsetup remove dc && dmsetup remove dr || fail "remove"
	# Cross: each target reads what the other wrote.
	dmsetup create xr --table "0 $LEN rcrypt ${table/@DEV@//dev/ram0}" &&
		dmsetup create xc --table "0 $LEN crypt ${table/@DEV@//dev/ram1}" && dmsetup mknodes || fail "cross create"
	rd /dev/mapper/xr 4 | cmp -s - /tmp/d1 || fail "rcrypt cannot read crypt's data"
	rd /dev/mapper/xc 4 | cmp -s - /tmp/d1 || fail "crypt cannot read rcrypt's data"
	rd /dev/mapper/xr 1 8 | cmp -s - /tmp/d2 || fail "rcrypt cannot read crypt's data (d2)"
	dmsetup remove xr; dmsetup remove xc
}

case_ "AES-256-XTS plain64" aes-xts-plain64 "$KEY64" 0 0
case_ "AES-128-XTS plain64" aes-xts-plain64 "$KEY32" 0 0
case_ "AES-CBC essiv:sha256" aes-cbc-essiv:sha256 "$KEY32" 0 0
case_ "AES-128-CBC essiv:sha256" aes-cbc-essiv:sha256 "$KEY16" 0 0
case_ "AES-CBC plain" aes-cbc-plain "$KEY32" 0 0
case_ "AES-CBC plain64be" aes-cbc-plain64be "$KEY32" 0 0
case_ "AES-CBC benbi" aes-cbc-benbi "$KEY32" 0 0
case_ "AES-CBC null IV" aes-cbc-null "$KEY32" 0 0
case_ "AES-ECB" aes-ecb "$KEY32" 0 0
case_ "AES-LRW benbi" aes-lrw-benbi "$KEY32" 0 0
case_ "Twofish-CBC essiv:sha256" twofish-cbc-essiv:sha256 "$KEY32" 0 0
case_ "Twofish-XTS plain64" twofish-xts-plain64 "$KEY64" 0 0
case_ "Serpent-XTS plain64" serpent-xts-plain64 "$KEY64" 0 0
case_ "Serpent-CBC benbi" serpent-cbc-benbi "$KEY32" 0 0
case_ "keycount 4 AES-CBC plain64" aes:4-cbc-plain64 "$KEY128" 0 0
case_ "keycount 2 AES-XTS plain64" aes:2-xts-plain64 "$KEY128" 0 0
case_ "capi:xts(aes) plain64" "capi:xts(aes)-plain64" "$KEY64" 0 0
case_ "capi:cbc(aes) essiv:sha256" "capi:cbc(aes)-essiv:sha256" "$KEY32" 0 0
case_ "cipher_null" cipher_null-ecb - 0 0
case_ "cipher_null, 4096-byte sectors, offsets" cipher_null-ecb - 8 128 "1 sector_size:4096"
case_ "AES-ECB, 4096-byte sectors" aes-ecb "$KEY32" 0 0 "1 sector_size:4096"
case_ "keycount 2 AES-ECB" aes:2-ecb "$KEY64" 0 0
case_ "iv_offset and device offset" aes-xts-plain64 "$KEY64" 1000 2048
case_ "sector_size 4096" aes-xts-plain64 "$KEY64" 0 0 "1 sector_size:4096"
case_ "sector_size 4096 iv_large_sectors, offsets" aes-xts-plain64 "$KEY64" 4096 2048 "2 sector_size:4096 iv_large_sectors"
case_ "sector_size 4096 AES-CBC essiv" aes-cbc-essiv:sha256 "$KEY32" 8 0 "1 sector_size:4096"
case_ "sector_size 1024 benbi" aes-cbc-benbi "$KEY32" 0 128 "1 sector_size:1024"

# IV generators with state of their own (lmk and tcw: 512-byte sectors only).
KEY1024=$(head -c 1024 /dev/urandom | od -An -v -tx1 | tr -d " \n")
case_ "lmk v2 (Loop-AES, one key)" aes-cbc-lmk "$KEY32" 0 0
case_ "lmk v2, keycount 64" aes:64-cbc-lmk "$KEY1024" 0 0
case_ "lmk v3, keycount 64 and seed, iv_offset" aes:64-cbc-lmk "$KEY1024$KEY16" 1000 128
case_ "tcw (TrueCrypt CBC)" aes-cbc-tcw "$KEY64" 0 0
case_ "tcw, keycount 2, iv_offset" aes:2-cbc-tcw "$KEY64$KEY32" 77 0
case_ "eboiv (BitLocker CBC)" aes-cbc-eboiv "$KEY32" 0 0
case_ "eboiv, 4096-byte sectors iv_large_sectors" aes-cbc-eboiv "$KEY16" 0 128 "2 sector_size:4096 iv_large_sectors"
case_ "eboiv, keycount 2" aes:2-cbc-eboiv "$KEY64" 0 0
case_ "elephant (BitLocker CBC with diffuser)" aes-cbc-elephant "$KEY64" 0 0
case_ "elephant AES-128, 4096-byte sectors iv_large_sectors" aes-cbc-elephant "$KEY32" 16 0 "2 sector_size:4096 iv_large_sectors"
case_ "elephant, 1024-byte sectors, keycount 2" aes:2-cbc-elephant "$KEY64" 0 0 "1 sector_size:1024"

# Buffers that straddle pages (O_DIRECT from 512 bytes past a page boundary,
# so each 4 KiB of data lies in two pages): both targets must give the same
# verdict (4096-byte sectors refuse such a buffer), the same ciphertext, and
# read the data back through such a buffer. ecb and cipher_null take runs of
# sectors per request in rcrypt, cut at page ends.
F=$SELFTESTS/.build/dmfuzz
[ -x $F ] || fail "no dmfuzz (selftests/tools/build)"
# straddle DESC CIPHER KEY OPTIONS CRYPT: direct I/O from a buffer 512 bytes
# into a page. CRYPT is crypt's verdict: ok, or EINVAL where the sector is
# larger than 512 bytes (crypt's dma_alignment is the sector size - 1);
# rcrypt takes it either way (65-unaligned-dio), and where crypt refused,
# crypt writes and reads the same data from an aligned buffer.
straddle() {
	desc="$1, buffer straddling pages"
	n=$((n + 1))
	table="$2 $3 0 @DEV@ 0 $4"
	dmsetup create dc --table "0 $LEN crypt ${table/@DEV@//dev/ram0}" || { fail "crypt refused"; return; }
	dmsetup create dr --table "0 $LEN rcrypt ${table/@DEV@//dev/ram1}" || { fail "rcrypt refused"; dmsetup remove dc; return; }
	dmsetup mknodes
	vc=$($F odirect w /dev/mapper/dc /tmp/d1 512)
	vr=$($F odirect w /dev/mapper/dr /tmp/d1 512)
	echo "$desc: write $vc (crypt), $vr (rcrypt)"
	[ "$vc" = "$5" ] || fail "crypt's write verdict $vc, expected $5"
	[ "$vr" = ok ] || fail "rcrypt write: $vr"
	[ "$vc" = ok ] || wr /dev/mapper/dc /tmp/d1 0 || fail "crypt's aligned write"
	rd /dev/ram0 4 >/tmp/ct0
	rd /dev/ram1 4 >/tmp/ct1
	cmp -s /tmp/ct0 /tmp/ct1 || fail "ciphertext differs"
	for dev in dc dr; do
		: >/tmp/rb && truncate -s 262144 /tmp/rb
		v=$($F odirect r /dev/mapper/$dev /tmp/rb 512)
		if [ $dev = dc ] && [ "$5" != ok ]; then
			[ "$v" = "$5" ] || fail "crypt's read verdict $v, expected $5"
			rd /dev/mapper/dc 4 >/tmp/rb
		else
			[ "$v" = ok ] || fail "$dev read: $v"
		fi
		cmp -s /tmp/rb /tmp/d1 || fail "$dev read-back differs"
	done
	dmsetup remove dc && dmsetup remove dr || fail "remove"
}
straddle "AES-ECB" aes-ecb "$KEY32" "" ok
straddle "cipher_null" cipher_null-ecb - "" ok
straddle "AES-XTS plain64" aes-xts-plain64 "$KEY64" "" ok
straddle "AES-ECB, 4096-byte sectors" aes-ecb "$KEY32" "1 sector_size:4096" EINVAL
straddle "AES-XTS plain64, 4096-byte sectors" aes-xts-plain64 "$KEY64" "1 sector_size:4096" EINVAL

# An asynchronous transform: asking for cryptd(cbc(twofish)) registers a
# cryptd instance under the name cbc(twofish) with a higher priority than the
# synchronous one (the request itself fails with -EEXIST on both targets), so
# later cbc(twofish) tables run on the async cryptd implementation.
for t in crypt rcrypt; do
	dmsetup create async_probe --table "0 $LEN $t capi:cryptd(cbc(twofish))-plain64 $KEY32 0 /dev/ram0 0" 2>/dev/null &&
		dmsetup remove async_probe
done
if grep -A3 '^name *: cbc(twofish)$' /proc/crypto | grep -q 'driver *: cryptd('; then
	case_ "async (cryptd) Twofish-CBC plain64" twofish-cbc-plain64 "$KEY32" 0 0
	case_ "async (cryptd) Twofish-CBC essiv, 4096-byte sectors" twofish-cbc-essiv:sha256 "$KEY32" 0 0 "1 sector_size:4096"
	# The INFO counter of waits for asynchronous crypto sees them.
	echo 1 >/sys/module/dm_rcrypt/parameters/info_counters
	dmsetup create aw --table "0 $LEN rcrypt twofish-cbc-plain64 $KEY32 0 /dev/ram1 0" && dmsetup mknodes
	wr /dev/mapper/aw /tmp/d2 0 || fail "async write"
	waits=$(dmsetup status aw | sed -n 's/.*crypto_waits=\([0-9]*\).*/\1/p')
	echo "async cbc(twofish): crypto_waits=$waits after 128 sectors"
	[ "${waits:-0}" -ge 128 ] || fail "crypto_waits does not count async operations"
	dmsetup remove aw
	echo 0 >/sys/module/dm_rcrypt/parameters/info_counters
else
	fail "no cryptd instance of cbc(twofish)"
fi

echo "$n cases, $bad failures"
[ $bad = 0 ]
