# vm-nvme: ms=64
#
# Integrity metadata in an NVMe namespace's own per-sector metadata (QEMU's
# emulated NVMe: 64 bytes of metadata per 512-byte block in a separate
# buffer, no protection information), with no dm-integrity: the namespace's
# integrity profile has no checksum, so dm-crypt 6.12 and rcrypt keep their
# tags there. For AEAD and random-IV tables, each target reads back what it
# wrote and what the other wrote over the same namespace; a table whose tag
# does not fit the 64 bytes gets the same verdict from both.
. "$SELFTESTS/lib.sh"
dev=/dev/nvme0n1
[ -b $dev ] || die "no NVMe namespace (/dev: $(ls /dev | grep nvme | tr '\n' ' '))"
sys=/sys/block/nvme0n1/integrity
echo "integrity profile: format=$(cat $sys/format) tag_size=$(cat $sys/tag_size)" \
	"interval=$(cat $sys/protection_interval_bytes)"
len=$(blockdev --getsz $dev)
head -c 262144 /dev/urandom >/tmp/n1
head -c 262144 /dev/urandom >/tmp/n2
bad=0 n=0
fail() { echo "$desc: $*"; bad=$((bad + 1)); }
rd() { dd if="$1" bs=64k count=4 iflag=direct 2>/dev/null; }
wr() { dd if="$2" of="$1" bs=64k oflag=direct conv=notrunc 2>/dev/null; }

case_() { # case_ DESC CIPHER KEY OPTIONS (without the count)
	desc=$1
	n=$((n + 1))
	tbl="0 $len TARGET $2 $3 0 $dev 0 $(echo "$4" | wc -w) $4"
	dmsetup create nr --table "${tbl/TARGET/rcrypt}" && dmsetup mknodes ||
		{ fail "rcrypt refused: $(dmesg | grep 'rcrypt:' | tail -1)"; return; }
	wr /dev/mapper/nr /tmp/n1 || fail "rcrypt write"
	rd /dev/mapper/nr | cmp -s - /tmp/n1 || fail "rcrypt read-back differs"
	dmsetup remove nr
	dmsetup create nc --table "${tbl/TARGET/crypt}" && dmsetup mknodes || { fail "crypt refused"; return; }
	rd /dev/mapper/nc | cmp -s - /tmp/n1 || fail "crypt cannot read rcrypt's data"
	wr /dev/mapper/nc /tmp/n2 || fail "crypt write"
	dmsetup remove nc
	dmsetup create nr --table "${tbl/TARGET/rcrypt}" && dmsetup mknodes || { fail "rcrypt reopen"; return; }
	rd /dev/mapper/nr | cmp -s - /tmp/n2 || fail "rcrypt cannot read crypt's data"
	dmsetup remove nr
}

case_ "AES-GCM random" "capi:gcm(aes)-random" "$KEY32" "integrity:28:aead"
case_ "authenc hmac(sha256) xts(aes) random" "capi:authenc(hmac(sha256),xts(aes))-random" \
	"$KEY64$KEY32" "integrity:48:aead"
case_ "authenc hmac(sha256) xts(aes) plain64" "capi:authenc(hmac(sha256),xts(aes))-plain64" \
	"$KEY64$KEY32" "integrity:32:aead"
case_ "AES-XTS random IV stored" aes-xts-random "$KEY64" "integrity:16:none"

desc=verdict
n=$((n + 1))
table_device_create
c=$(try_table crypt 8 "capi:gcm(aes)-random $KEY32 0 $dev 0 1 integrity:65:aead")
r=$(try_table rcrypt 8 "capi:gcm(aes)-random $KEY32 0 $dev 0 1 integrity:65:aead")
table_device_remove
[ "$c" = "$r" ] && [ "${r%% *}" = reject ] || fail "integrity:65 on a 64-byte tuple: crypt: $c; rcrypt: $r"

echo "$n cases, $bad failures"
[ $bad = 0 ]
