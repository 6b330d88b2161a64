# INFO status: by default rcrypt's is dm-crypt's (empty); with the module
# parameter info_counters=1 it shows live counters, which must count exactly
# the sectors read and written and the failed I/O.
. "$SELFTESTS/lib.sh"
ramdisks

P=/sys/module/dm_rcrypt/parameters/info_counters
[ -w $P ] || die "no $P"
echo 0 >$P
dmsetup create ic --table "0 2048 crypt aes-xts-plain64 $KEY64 0 /dev/ram0 0" || die "crypt"
dmsetup create ir --table "0 2048 rcrypt aes-xts-plain64 $KEY64 0 /dev/ram1 0" || die "rcrypt"
dmsetup create ie --table "0 2048 error" && dmsetup mknodes ie || die "error target"
dmsetup create ire --table "0 2048 rcrypt aes-xts-plain64 $KEY64 0 /dev/mapper/ie 0" || die "rcrypt over error"
dmsetup mknodes
sc=$(dmsetup status ic | sed 's/ crypt\( \|$\)/ TARGET\1/')
sr=$(dmsetup status ir | sed 's/ rcrypt\( \|$\)/ TARGET\1/')
echo "default INFO: crypt '$sc', rcrypt '$sr'"
[ "$sc" = "$sr" ] || die "default INFO differs from crypt's"

echo 1 >$P
# crypto_waits counts operations an asynchronous transform queued: any
# number here (30-differential checks it on a transform known to be async).
# inline_ios and queued_ios split the bios by where their crypto ran, which
# the adaptive engine decides at run time: their sum is checked.
raw() { dmsetup status "$1" | cut -d' ' -f4-; }
field() { raw "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }
info() { raw "$1" | sed 's/ crypto_waits=[0-9]* inline_ios=[0-9]* queued_ios=[0-9]* sorted_writes=[0-9]* buffer_pages=[0-9]* buffer_pages_peak=[0-9]* buffer_pages_cap=[0-9]* spread_sectors=0$/ crypto_waits=N/'; }
want="sectors_read=0 sectors_written=0 io_errors=0 crypto_waits=N"
[ "$(info ir)" = "$want" ] || die "fresh counters: '$(info ir)'"
dd if=/dev/urandom of=/dev/mapper/ir bs=4k count=16 oflag=direct 2>/dev/null || die "write"
dd if=/dev/mapper/ir of=/dev/null bs=4k count=8 iflag=direct 2>/dev/null || die "read"
want="sectors_read=64 sectors_written=128 io_errors=0 crypto_waits=N"
echo "after 64 KiB written, 32 KiB read: $(info ir)"
[ "$(info ir)" = "$want" ] || die "expected '$want'"
ios=$(( $(field ir inline_ios) + $(field ir queued_ios) ))
# 16 direct 4 KiB writes and 8 direct 4 KiB reads: 24 bios.
[ "$ios" = 24 ] || die "inline_ios + queued_ios = $ios, expected 24 bios"
! dd if=/dev/mapper/ire of=/dev/null bs=4k count=1 iflag=direct 2>/dev/null || die "read over dm-error succeeded"
! dd if=/dev/zero of=/dev/mapper/ire bs=4k count=1 oflag=direct 2>/dev/null || die "write over dm-error succeeded"
echo "over dm-error: $(info ire)"
case "$(info ire)" in
"sectors_read=0 sectors_written=0 io_errors="[1-9]*" crypto_waits=N") ;;
*) die "errors not counted" ;;
esac
echo 0 >$P
[ -z "$(raw ir)" ] || die "counters shown with info_counters=0"

# The mapped device's own I/O statistics (/sys/block/dm-N/stat and
# inflight, what iostat reads), kept by device-mapper as for crypt: reads,
# read sectors, writes, write sectors after the I/O above; and a read held
# by dm-delay below shows in flight while it waits (device-mapper starts the
# accounting when the target submits its clone through dm_submit_bio_remap;
# a target that set accounts_remapped_io and submitted otherwise would be
# accounted only at completion).
sysblk() { echo "/sys/block/$(dmsetup info -c --noheadings -o blkdevname "$1")/$2"; }
stat4() { awk '{print $1, $3, $5, $7}' "$(sysblk "$1" stat)"; }
dd if=/dev/urandom of=/dev/mapper/ic bs=4k count=16 oflag=direct 2>/dev/null || die "write crypt"
dd if=/dev/mapper/ic of=/dev/null bs=4k count=8 iflag=direct 2>/dev/null || die "read crypt"
echo "diskstats (reads, sectors, writes, sectors): crypt '$(stat4 ic)', rcrypt '$(stat4 ir)'"
[ "$(stat4 ir)" = "8 64 16 128" ] || die "rcrypt's diskstats do not count its I/O"
[ "$(stat4 ir)" = "$(stat4 ic)" ] || die "diskstats differ from crypt's"
# The read is held 4 s; the count is looked at each second until it shows
# (a loaded guest may take over a second to start dd).
dmsetup create idl --table "0 2048 delay /dev/ram2 0 4000" && dmsetup mknodes idl || die "delay target"
for t in crypt rcrypt; do
	dmsetup create ifl --table "0 2048 $t aes-xts-plain64 $KEY64 0 /dev/mapper/idl 0" &&
		dmsetup mknodes ifl || die "$t over delay"
	dd if=/dev/mapper/ifl of=/dev/null bs=4k count=1 iflag=direct 2>/dev/null &
	pid=$!
	n=0 i=0
	while [ "$n" = 0 ] && [ $i -lt 3 ] && kill -0 $pid 2>/dev/null; do
		sleep 1
		n=$(awk '{print $1}' "$(sysblk ifl inflight)")
		i=$((i + 1))
	done
	wait
	echo "$t: $n read(s) in flight during a read delayed 4 s below"
	[ "$n" = 1 ] || die "$t: the read in flight is not accounted"
	dmsetup remove ifl || die "remove"
done
dmsetup remove idl || die "remove delay"
dmsetup remove ire && dmsetup remove ie && dmsetup remove ir && dmsetup remove ic || die "remove"
