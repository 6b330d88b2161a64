# Keyring keys (:<size>:<type>:<desc>) in tables: crypt and rcrypt give the
# same verdict, error code and message for a present key, a key of the
# wrong size, a missing key, a revoked key and a wrong key type. A present
# key of the right size loads on both, with the same status TABLE (which
# shows the keyring form, never the key).
. "$SELFTESTS/lib.sh"
ramdisks
table_device_create

head -c 64 /dev/urandom >/tmp/k64
logon=$(keyctl padd logon rcrypt:k64 @u </tmp/k64) || die "keyctl padd logon"
user=$(keyctl padd user rcrypt-user-k64 @u </tmp/k64) || die "keyctl padd user"
revoked=$(keyctl padd logon rcrypt:revoked @u </tmp/k64) || die "keyctl padd"
keyctl revoke "$revoked" || die "keyctl revoke"
rm -f /tmp/k64

bad=0
check() { # check EXPECT ARGS: EXPECT is "accept" or "same" (same rejection)
	c=$(try_table crypt 131072 "$2")
	r=$(try_table rcrypt 131072 "$2")
	case "$1" in
	accept)
		case "$c" in accept*) ;; *) echo "$2: crypt: $c"; bad=$((bad + 1)) ;; esac
		[ "$c" = "$r" ] || { echo "$2: crypt: $c"; echo "$2: rcrypt: $r"; bad=$((bad + 1)); } ;;
	same)
		case "$c" in reject*) ;; *) echo "$2: crypt: $c (expected a rejection)"; bad=$((bad + 1)) ;; esac
		[ "$c" = "$r" ] || { echo "$2: crypt: $c"; echo "$2: rcrypt: $r"; bad=$((bad + 1)); } ;;
	esac
}

check accept "aes-xts-plain64 :64:logon:rcrypt:k64 0 /dev/ram0 0"
check accept "aes-xts-plain64 :64:user:rcrypt-user-k64 0 /dev/ram0 0"
check same "aes-xts-plain64 :32:logon:rcrypt:k64 0 /dev/ram0 0"
check same "aes-xts-plain64 :64:logon:rcrypt:missing 0 /dev/ram0 0"
check same "aes-xts-plain64 :64:logon:rcrypt:revoked 0 /dev/ram0 0"
check same "aes-xts-plain64 :64:user:rcrypt:k64 0 /dev/ram0 0"
check same "aes-xts-plain64 :64:encrypted:rcrypt:k64 0 /dev/ram0 0"
check same "aes-xts-plain64 :64:trusted:rcrypt:k64 0 /dev/ram0 0"
check same "aes-xts-plain64 :64:bogus:rcrypt:k64 0 /dev/ram0 0"

keyctl unlink "$logon" @u >/dev/null
keyctl unlink "$user" @u >/dev/null
keyctl unlink "$revoked" @u >/dev/null 2>&1
table_device_remove
echo "$bad mismatches"
[ $bad = 0 ]
