# Key messages and the suspend/resume lifecycle, step by step on crypt and on
# rcrypt: the same message verdicts, the same resume verdicts, the same
# status TABLE after each step, and the data intact at the end.
#   key wipe while active: refused; key set of another size: refused;
#   key wipe while suspended: accepted, then resume refused (no valid key);
#   key set (hex): accepted, resume works, data reads back;
#   key set (logon keyring key with the same bytes): accepted, status shows
#   the keyring form, data reads back; unknown messages refused.
# With aes-xts-plain64, and with tcw and elephant, whose IV generators keep
# keys of their own (wiped by key wipe, taken from the new key by key set).
. "$SELFTESTS/lib.sh"
ramdisks

printf "$(echo "$KEY64" | sed 's/../\\x&/g')" >/tmp/k64.bin
[ "$(wc -c </tmp/k64.bin)" = 64 ] || die "binary key"
kid=$(keyctl padd logon rcrypt:msgkey @u </tmp/k64.bin) || die "keyctl padd"
head -c 262144 /dev/urandom >/tmp/data

transcript() { # transcript TARGET DEV CIPHER
	t=$1
	dmsetup create m --table "0 131072 $t $3 $KEY64 0 $2 0" || { echo "create failed"; return; }
	dmsetup mknodes
	dd if=/tmp/data of=/dev/mapper/m bs=64k oflag=direct 2>/dev/null || echo "write failed"
	step() { # step NAME COMMAND...: record the verdict and the table
		shift_name=$1; shift
		if "$@" >/dev/null 2>&1; then v=ok; else v=fail; fi
		echo "$shift_name: $v | $(dmsetup table --showkeys m | sed "s/ $t / TARGET /")"
	}
	step "wipe-active" dmsetup message m 0 key wipe
	step "suspend" dmsetup suspend m
	step "set-32-bytes" dmsetup message m 0 key set "$KEY32"
	step "set-unknown-form" dmsetup message m 0 key set :64:bogus:x
	step "wipe" dmsetup message m 0 key wipe
	step "resume-without-key" dmsetup resume m
	step "set-hex" dmsetup message m 0 key set "$KEY64"
	step "resume" dmsetup resume m
	rd=$(dd if=/dev/mapper/m bs=64k count=4 iflag=direct 2>/dev/null | cmp - /tmp/data >/dev/null && echo same || echo differs)
	echo "data after set-hex: $rd"
	step "suspend-2" dmsetup suspend m
	step "set-logon" dmsetup message m 0 key set :64:logon:rcrypt:msgkey
	step "set-missing-key" dmsetup message m 0 key set :64:logon:rcrypt:missing
	step "resume-2" dmsetup resume m
	rd=$(dd if=/dev/mapper/m bs=64k count=4 iflag=direct 2>/dev/null | cmp - /tmp/data >/dev/null && echo same || echo differs)
	echo "data after set-logon: $rd"
	step "unknown-message" dmsetup message m 0 hello world
	step "key-unknown" dmsetup message m 0 key frob
	# A key of the right size with a bad digit (found by the fuzzer): the
	# key is no longer valid (resume refused) and the status shows the
	# bytes decoded before the bad digit, until a good key is set.
	step "suspend-3" dmsetup suspend m
	step "set-bad-digit" dmsetup message m 0 key set "$(echo "$KEY64" | sed 's/^\(........\)../\1zz/')"
	step "resume-after-bad-digit" dmsetup resume m
	step "set-hex-again" dmsetup message m 0 key set "$KEY64"
	step "resume-3" dmsetup resume m
	dmsetup remove m || echo "remove failed"
}

for cipher in aes-xts-plain64 aes-cbc-tcw aes-cbc-elephant; do
	echo "== $cipher"
	transcript crypt /dev/ram0 $cipher >/tmp/tr.crypt
	transcript rcrypt /dev/ram0 $cipher >/tmp/tr.rcrypt
	sed 's/^/crypt:  /' /tmp/tr.crypt | sed 's/[0-9a-f]\{64,\}/<hex key>/'
	cmp -s /tmp/tr.crypt /tmp/tr.rcrypt || { diff /tmp/tr.crypt /tmp/tr.rcrypt; die "rcrypt's transcript differs from crypt's ($cipher)"; }
	# The transcript itself must show the expected lifecycle (not only agree).
	grep -q "^wipe-active: fail" /tmp/tr.crypt || die "key wipe accepted while active"
	grep -q "^resume-without-key: fail" /tmp/tr.crypt || die "resume accepted without a key"
	grep -q "^set-hex: ok" /tmp/tr.crypt || die "key set refused"
	grep -q "^resume-after-bad-digit: fail" /tmp/tr.crypt || die "resume accepted after a key set with a bad digit"
	grep -q "^resume-3: ok" /tmp/tr.crypt || die "resume refused after a good key"
	grep -q "^data after set-hex: same" /tmp/tr.crypt || die "data lost"
	grep -q "^data after set-logon: same" /tmp/tr.crypt || die "data lost (logon key)"
	grep -q "^set-logon: ok | .*:64:logon:rcrypt:msgkey" /tmp/tr.crypt || die "keyring form not shown"
done
keyctl unlink "$kid" @u >/dev/null
echo "key messages and suspend/resume match crypt"
