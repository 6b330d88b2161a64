# Differential fuzzing of the constructor and of the messages: thousands of
# generated tables (valid ones from data/, and mutations: bad hex, odd key
# lengths, huge numbers, unknown options, wrong option counts, spaces,
# unicode, empty fields, escapes; every numeric field and the target length
# at edge values around 2^32, 2^63 and 2^64) are loaded into a crypt and an
# rcrypt device through the raw DM ioctls; both must give the same verdict,
# the same errno and the same device-mapper messages, but for rcrypt's own
# refusal of a start sector plus length past 2^64 - 1 (counted apart); the
# same for integrity tables (AEAD and random-IV ones, mutated and at edge
# values) on a dm-integrity device. Then a script of suspend, resume, table
# loads and (mutated) "key set" / "key wipe" messages runs on both, with the
# data read back compared. Inputs: selftests/tools/build (host).
. "$SELFTESTS/lib.sh"
ramdisks
B=$SELFTESTS/.build
[ -x $B/dmfuzz ] && [ -s $B/fuzz-tables.txt ] || die "no fuzz inputs (selftests/tools/build)"
echo "inputs: $(cat $B/fuzz.info)"
# Keyring keys some mutated tables and messages name (":32:logon:fz" ...).
keyctl add logon fuzz:k "$(printf "%032d" 7)" @u >/dev/null 2>&1 || die "keyctl logon"
keyctl add user fz "$(printf '%064d' 7)" @u >/dev/null || die "keyctl user"
# The rejected tables log thousands of errors: keep them off the serial
# console (dmfuzz reads every record from /dev/kmsg and echoes splats).
level=$(cut -f1 /proc/sys/kernel/printk)
dmesg -n 1
taint0=$(cat /proc/sys/kernel/tainted)
rc=0
# The verdict comparison itself, on recorded outcomes (a known difference
# beside a warning both targets log must not count as a mismatch).
$B/dmfuzz classify || rc=1
$B/dmfuzz tables $B/fuzz-tables.txt || rc=1
# Integrity tables, on a dm-integrity device (48 bytes per 512-byte sector).
if integrity_dev fz_integ /dev/ram1 48 512 >/dev/null; then
	$B/dmfuzz tables $B/fuzz-integrity-tables.txt || rc=1
	dmsetup remove fz_integ || rc=1
else
	echo "no dm-integrity device for the integrity tables"
	rc=1
fi
$B/dmfuzz messages $B/fuzz-messages.txt || rc=1
dmesg -n "$level"
# A keyring key size past KMALLOC_MAX_SIZE: dm-crypt's context kzalloc fails
# (and WARNs, so crypt is not run here); rcrypt must give crypt's verdict,
# -ENOMEM "Cannot allocate encryption context", and no splat.
dmesg -c >/dev/null
dmsetup create fz_huge --table "0 2048 rcrypt aes-xts-plain64 :21474836:logon:fuzz:k 0 /dev/ram0 0" 2>/dev/null &&
	{ echo "rcrypt accepted a 20 MiB key size"; rc=1; dmsetup remove fz_huge; }
dmesg | grep -qE "rcrypt: Cannot allocate encryption context \((-ENOMEM|-12)\)" ||
	{ echo "huge key size: $(dmesg | grep rcrypt | tail -1)"; rc=1; }
keyctl purge logon fuzz:k >/dev/null 2>&1
keyctl purge user fz >/dev/null 2>&1
[ "$(cat /proc/sys/kernel/tainted)" = "$taint0" ] || { echo "kernel tainted: $(cat /proc/sys/kernel/tainted)"; rc=1; }
exit $rc
