# Errors of the device below surface as I/O errors on both targets, nothing
# hangs, and the mapping can be removed afterwards: rcrypt over dm-error
# (every I/O fails) and over dm-flakey (reads fail in the down interval).
. "$SELFTESTS/lib.sh"
ramdisks
bad=0
dmsetup create below_err --table "0 4096 error" || die "dm-error"
dmsetup mknodes
for t in crypt rcrypt; do
	dmsetup create e_$t --table "0 4096 $t aes-xts-plain64 $KEY64 0 /dev/mapper/below_err 0" || { echo "$t: create"; bad=1; continue; }
	dmsetup mknodes
	dd if=/dev/mapper/e_$t of=/dev/null bs=4k count=1 iflag=direct 2>/dev/null && { echo "$t: read over dm-error succeeded"; bad=1; }
	dd if=/dev/zero of=/dev/mapper/e_$t bs=4k count=1 oflag=direct 2>/dev/null && { echo "$t: write over dm-error succeeded"; bad=1; }
	dmsetup remove e_$t || { echo "$t: remove"; bad=1; }
done
dmsetup remove below_err

# dm-flakey: up for 0 seconds, down for 60 (errors all I/O while down).
dmsetup create below_flakey --table "0 4096 flakey /dev/ram1 0 0 60" || die "dm-flakey"
dmsetup mknodes
for t in crypt rcrypt; do
	dmsetup create f_$t --table "0 4096 $t aes-xts-plain64 $KEY64 0 /dev/mapper/below_flakey 0" || { echo "$t: create"; bad=1; continue; }
	dmsetup mknodes
	dd if=/dev/mapper/f_$t of=/dev/null bs=64k count=4 iflag=direct 2>/dev/null && { echo "$t: read over a failing flakey device succeeded"; bad=1; }
	dmsetup remove f_$t || { echo "$t: remove"; bad=1; }
done
dmsetup remove below_flakey
[ $bad = 0 ] && echo "device errors surface as EIO on crypt and rcrypt"
[ $bad = 0 ]
