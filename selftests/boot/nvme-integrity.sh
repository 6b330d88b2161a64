# vm-nvme: ms=64; ms=64,logical_block_size=4096,physical_block_size=4096
#
# Integrity metadata in an NVMe namespace's own per-sector metadata (QEMU's
# emulated NVMe: 64 bytes of metadata per block in a separate buffer, no
# protection information), with no dm-integrity: the namespace's integrity
# profile has no checksum, so dm-crypt 6.12 and rcrypt keep their tags
# there. Two namespaces: 512-byte blocks and 4096-byte blocks (with
# sector_size:4096 tables), found by their block size: the kernel scans
# namespaces in parallel, so nvme0n1 is not always nsid 1. For AEAD and
# random-IV tables, each target reads back what it wrote and what the other
# wrote over the same namespace; tables whose tag does not fit the 64
# bytes, or whose sector size is not the namespace's block size, get the
# same verdict from both.
. "$SELFTESTS/lib.sh"
profile() {
	echo "integrity profile: format=$(cat $1/integrity/format) tag_size=$(cat $1/integrity/tag_size)" \
		"interval=$(cat $1/integrity/protection_interval_bytes)"
}
nvme_namespaces profile
head -c 262144 /dev/urandom >/tmp/n1
head -c 262144 /dev/urandom >/tmp/n2
bad=0 n=0
fail() { echo "$desc: $*"; bad=$((bad + 1)); }
rd() { dd if="$1" bs=64k count=4 iflag=direct 2>/dev/null; }
wr() { dd if="$2" of="$1" bs=64k oflag=direct conv=notrunc 2>/dev/null; }

case_() { # case_ DESC CIPHER KEY OPTIONS (without the count), on $dev
	desc="$1 ($dev)"
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

# verdict DESC ARGS...: crypt and rcrypt both refuse the table, alike.
verdict() {
	desc="verdict: $1 ($dev)"
	n=$((n + 1))
	table_device_create
	c=$(try_table crypt 8 "$2")
	r=$(try_table rcrypt 8 "$2")
	table_device_remove
	[ "$c" = "$r" ] && [ "${r%% *}" = reject ] || fail "crypt: $c; rcrypt: $r"
}

# softirq DESC CIPHER KEY OPTIONS [async]: with no_read_workqueue, reads
# complete in hard interrupt context here (NVMe), and rcrypt checks and
# decrypts them from the softirq work queue, as dm-crypt does: they count as
# inline (none queued) and read back what was written. With "async", the
# transform (cryptd, by its driver name: an instance takes the name of what
# it wraps) queues every operation: the one left in flight in softirq
# context is waited for on the work queue, which goes on in place from the
# next sector (crypto_waits counts them). Either way, no read is read
# twice (integrity_rechecks stays 0). Then, for AEAD, the same device with
# another key: every tag fails to verify there, the read fails, and
# integrity_errors counts it.
counter() { echo "$st" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
softirq() {
	desc="softirq reads: $1 ($dev)"
	n=$((n + 1))
	local opts="$4 no_read_workqueue" k2
	tbl="0 $len rcrypt $2 $3 0 $dev 0 $(echo "$opts" | wc -w) $opts"
	dmsetup create nr --table "$tbl" && dmsetup mknodes ||
		{ fail "rcrypt refused: $(dmesg | grep 'rcrypt:' | tail -1)"; return; }
	wr /dev/mapper/nr /tmp/n1 || fail "write"
	dmsetup remove nr
	dmsetup create nr --table "$tbl" && dmsetup mknodes || { fail "reopen"; return; }
	rd /dev/mapper/nr | cmp -s - /tmp/n1 || fail "read-back differs"
	st=$(dmsetup status nr)
	[ "$(counter inline_ios)" -ge 4 ] && [ "$(counter queued_ios)" = 0 ] ||
		fail "reads not decrypted in softirq context: $st"
	[ -z "$5" ] || [ "$(counter crypto_waits)" -ge 4 ] || fail "no operation left in flight: $st"
	[ "$(counter integrity_rechecks)" = 0 ] || fail "reads read twice: $st"
	dmsetup remove nr
	case "$4" in *:aead*) ;; *) return ;; esac
	k2=$(echo "$3" | tr 0-9a-f 1-9a-f0)
	dmsetup create nr --table "${tbl/ $3 / $k2 }" && dmsetup mknodes || { fail "reopen"; return; }
	rd /dev/mapper/nr >/dev/null && fail "read with another key succeeded"
	st=$(dmsetup status nr)
	[ "$(counter integrity_errors)" -ge 1 ] || fail "no integrity error counted: $st"
	dmsetup remove nr
}
echo 1 >/sys/module/dm_rcrypt/parameters/info_counters || fail "info_counters"

dev=$ns512
len=$(blockdev --getsz $dev)
softirq "AES-GCM random" "capi:gcm(aes)-random" "$KEY32" "integrity:28:aead"
softirq "cryptd AES-GCM random" "capi:cryptd(gcm_base(ctr(aes-generic),ghash-generic))-random" \
	"$KEY32" "integrity:28:aead" async
case_ "AES-GCM random" "capi:gcm(aes)-random" "$KEY32" "integrity:28:aead"
case_ "authenc hmac(sha256) xts(aes) random" "capi:authenc(hmac(sha256),xts(aes))-random" \
	"$KEY64$KEY32" "integrity:48:aead"
case_ "authenc hmac(sha256) xts(aes) plain64" "capi:authenc(hmac(sha256),xts(aes))-plain64" \
	"$KEY64$KEY32" "integrity:32:aead"
case_ "AES-XTS random IV stored" aes-xts-random "$KEY64" "integrity:16:none"
verdict "integrity:65 on a 64-byte tuple" "capi:gcm(aes)-random $KEY32 0 $dev 0 1 integrity:65:aead"
verdict "sector_size:4096 on 512-byte integrity intervals" \
	"capi:gcm(aes)-random $KEY32 0 $dev 0 2 integrity:28:aead sector_size:4096"

dev=$ns4k
len=$(blockdev --getsz $dev)
case_ "AES-GCM random, 4096-byte sectors" "capi:gcm(aes)-random" "$KEY32" "integrity:28:aead sector_size:4096"
case_ "authenc hmac(sha256) xts(aes) random, 4096-byte sectors" \
	"capi:authenc(hmac(sha256),xts(aes))-random" "$KEY64$KEY32" "integrity:48:aead sector_size:4096"
case_ "AES-XTS random IV stored, 4096-byte sectors" aes-xts-random "$KEY64" "integrity:16:none sector_size:4096"
softirq "authenc hmac(sha256) xts(aes) random, 4096-byte sectors" \
	"capi:authenc(hmac(sha256),xts(aes))-random" "$KEY64$KEY32" "integrity:48:aead sector_size:4096"
softirq "AES-XTS random IV stored, 4096-byte sectors" aes-xts-random "$KEY64" \
	"integrity:16:none sector_size:4096"
verdict "512-byte sectors on 4096-byte integrity intervals" "capi:gcm(aes)-random $KEY32 0 $dev 0 1 integrity:28:aead"

echo "$n cases, $bad failures"
[ $bad = 0 ]
