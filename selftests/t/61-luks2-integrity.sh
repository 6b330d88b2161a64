# LUKS2 with --integrity, as cryptsetup makes it (dm-integrity below,
# crypt above, the C target): the table cryptsetup loaded, with rcrypt put
# in crypt's place over the same dm-integrity device, reads the volume
# back, and what rcrypt writes reads back through cryptsetup's crypt. For
# --integrity hmac-sha256 (aes-xts-plain64: authenc) and --integrity aead
# (aes-gcm-random).
. "$SELFTESTS/lib.sh"
ramdisks
printf 'integrity-pass' >/tmp/li.key
head -c 1048576 /dev/urandom >/tmp/li1
head -c 1048576 /dev/urandom >/tmp/li2
bad=0
fail() { echo "$desc: $*"; bad=$((bad + 1)); }
rd() { dd if="$1" bs=64k count=16 iflag=direct 2>/dev/null; }
wr() { dd if="$2" of="$1" bs=64k oflag=direct conv=notrunc 2>/dev/null; }

case_() { # case_ DESC LUKSFORMAT-OPTIONS...
	desc=$1
	shift
	dd if=/dev/zero of=/dev/ram3 bs=1M count=64 2>/dev/null
	cryptsetup luksFormat -q --type luks2 --pbkdf pbkdf2 --pbkdf-force-iterations 1000 \
		--integrity-no-wipe "$@" /dev/ram3 /tmp/li.key || { fail "luksFormat"; return; }
	# (--disable-keyring: the table then holds the key itself, not a
	# reference to a keyring key cryptsetup drops after loading it.)
	cryptsetup open --disable-keyring --key-file /tmp/li.key /dev/ram3 li || { fail "open"; return; }
	wr /dev/mapper/li /tmp/li1 || fail "write through crypt"
	tbl=$(dmsetup table --showkeys li)
	echo "$tbl" | grep -q " crypt .*integrity:" || fail "not an integrity table: ${tbl%% [0-9a-f]*}"
	dmsetup remove li || { fail "remove"; return; }
	# rcrypt in crypt's place, over cryptsetup's dm-integrity device.
	dmsetup create lr --table "$(echo "$tbl" | sed 's/ crypt / rcrypt /')" && dmsetup mknodes ||
		{ fail "rcrypt refused the table: $(dmesg | grep 'rcrypt:' | tail -1)"; dmsetup remove li_dif; return; }
	rd /dev/mapper/lr | cmp -s - /tmp/li1 || fail "rcrypt cannot read the volume"
	wr /dev/mapper/lr /tmp/li2 || fail "write through rcrypt"
	dmsetup remove lr
	dmsetup create li --table "$tbl" && dmsetup mknodes || fail "crypt reload"
	rd /dev/mapper/li | cmp -s - /tmp/li2 || fail "crypt cannot read what rcrypt wrote"
	# (Reloaded by hand, the mapping is no longer cryptsetup's to close.)
	dmsetup remove li && dmsetup remove li_dif || fail "remove"
}

case_ "LUKS2 aes-xts-plain64 + hmac-sha256" --cipher aes-xts-plain64 --key-size 512 --integrity hmac-sha256
case_ "LUKS2 aes-gcm-random (aead)" --cipher aes-gcm-random --key-size 256 --integrity aead

echo "$bad failures"
[ $bad = 0 ]
