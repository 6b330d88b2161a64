# Drop-in mode (crypt_alias=1, dm-crypt not loaded): the LUKS2 life cycle
# as cryptsetup drives it, with rcrypt serving the device at every step
# (its INFO counters move): luksFormat, open, status, refresh
# --perf-no_read_workqueue, luksSuspend (I/O waits, the key is wiped),
# luksResume (the waiting read completes with the data), close.
. "$SELFTESTS/lib.sh"
ramdisks
dev=/dev/ram3
fail() {
	echo "FAIL: $*"
	dmsetup resume lvol 2>/dev/null
	cryptsetup close lvol 2>/dev/null
	dropin_end
	exit 1
}
dropin_begin info_counters=1 || fail "cannot load dm-rcrypt with crypt_alias=1"
pw() { echo -n "drop-in pass"; }

pw | cryptsetup luksFormat -q --type luks2 --pbkdf pbkdf2 --pbkdf-force-iterations 1000 \
	--key-file - "$dev" || fail "luksFormat"
pw | cryptsetup open --key-file - "$dev" lvol || fail "open"
st=$(cryptsetup status lvol) || fail "status"
for want in "type: *LUKS2" "cipher: *aes-xts-plain64" "keysize: *512 bits" "key location: *keyring"; do
	echo "$st" | grep -q "$want" || fail "cryptsetup status lacks '$want': $st"
done
dmsetup table lvol | grep -q " crypt aes-xts-plain64 :64:logon:cryptsetup:" ||
	fail "table: $(dmsetup table lvol)"
[ -n "$(counter sectors_written lvol)" ] || fail "INFO without rcrypt's counters: $(dmsetup status lvol)"

# Data written and read back; rcrypt counted it.
dd if=/dev/urandom of=/tmp/lv.in bs=64k count=16 2>/dev/null
dd if=/tmp/lv.in of=/dev/mapper/lvol bs=64k oflag=direct 2>/dev/null || fail "write"
dd if=/dev/mapper/lvol of=/tmp/lv.out bs=64k count=16 iflag=direct 2>/dev/null || fail "read"
cmp -s /tmp/lv.in /tmp/lv.out || fail "read back other data"
[ "$(counter sectors_written lvol)" -ge 2048 ] && [ "$(counter sectors_read lvol)" -ge 2048 ] ||
	fail "counters did not move: $(dmsetup status lvol)"
echo "open: $(dmsetup status lvol | cut -d' ' -f4-9)"

# refresh reloads the table with no_read_workqueue: the new table's reads
# run inline (none queued).
pw | cryptsetup refresh --perf-no_read_workqueue --key-file - lvol || fail "refresh"
dmsetup table lvol | grep -q " no_read_workqueue" || fail "refresh: $(dmsetup table lvol)"
dd if=/dev/mapper/lvol of=/tmp/lv.out bs=64k count=16 iflag=direct 2>/dev/null || fail "read after refresh"
cmp -s /tmp/lv.in /tmp/lv.out || fail "other data after refresh"
[ "$(counter sectors_read lvol)" -ge 2048 ] || fail "no reads counted: $(dmsetup status lvol)"
[ "$(counter queued_ios lvol)" = 0 ] && [ "$(counter inline_ios lvol)" -gt 0 ] ||
	fail "no_read_workqueue reads were queued: $(dmsetup status lvol)"
echo "refresh: $(dmsetup status lvol | cut -d' ' -f4-9)"

# luksSuspend: suspended, key wiped; a read waits until luksResume, then
# returns the data (the key set again is the right one).
cryptsetup luksSuspend lvol || fail "luksSuspend"
dmsetup info lvol | grep -q "State: *SUSPENDED" || fail "not suspended: $(dmsetup info lvol)"
dmsetup table lvol | grep -q " crypt aes-xts-plain64 " || fail "table while suspended"
rm -f /tmp/lv.done
(dd if=/dev/mapper/lvol of=/tmp/lv.out2 bs=64k count=16 iflag=direct 2>/dev/null && : >/tmp/lv.done) &
sleep 2
[ ! -e /tmp/lv.done ] || fail "a read completed on the suspended device"
pw | cryptsetup luksResume --key-file - lvol || fail "luksResume"
wait
[ -e /tmp/lv.done ] || fail "the read waiting across suspend failed"
cmp -s /tmp/lv.in /tmp/lv.out2 || fail "the read across suspend returned other data"
dmsetup info lvol | grep -q "State: *ACTIVE" || fail "not active after luksResume"
echo "resume: $(dmsetup status lvol | cut -d' ' -f4-9)"

cryptsetup close lvol || fail "close"
! dmsetup info lvol >/dev/null 2>&1 || fail "lvol still exists after close"
pw | cryptsetup open --key-file - "$dev" lvol || fail "reopen"
dd if=/dev/mapper/lvol of=/tmp/lv.out bs=64k count=16 iflag=direct 2>/dev/null || fail "read after reopen"
cmp -s /tmp/lv.in /tmp/lv.out || fail "other data after reopen"
cryptsetup close lvol || fail "close"
dropin_end || { echo "FAIL: cannot restore dm-crypt and rcrypt"; exit 1; }
echo "LUKS2 life cycle in drop-in mode served by rcrypt"
