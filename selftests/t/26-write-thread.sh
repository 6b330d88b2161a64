# The write thread (dm-crypt's dmcrypt_write): each device has one kernel
# thread, rcrypt_write/<major:minor> beside crypt's dmcrypt_write/<major:minor>,
# at the same nice level as crypt's (-20 with high_priority), gone with the
# device. Writes encrypted on the work queue are submitted by it, sorted by
# sector (counted in sorted_writes), unless submit_from_crypt_cpus or
# no_write_workqueue is given, or, with no option, unless the device is not
# rotational; what it writes reads back through crypt.
. "$SELFTESTS/lib.sh"
ramdisks

P=/sys/module/dm_rcrypt/parameters/info_counters
[ -w $P ] || die "no $P"
echo 1 >$P
# The pid of the thread named $1, if any.
thread_pid() {
	for f in /proc/[0-9]*/comm; do
		if [ "$(cat "$f" 2>/dev/null)" = "$1" ]; then
			d=${f%/comm}
			echo "${d#/proc/}"
			return
		fi
	done
}
nice_of() { awk '{print $19}' "/proc/$1/stat"; }
field() { dmsetup status "$1" | cut -d' ' -f4- | tr ' ' '\n' | sed -n "s/^$2=//p"; }
devno() { dmsetup info -c --noheadings -o major,minor "$1" | tr -d ' '; }
# crypt_reads SECTORS FILE WHAT: crypt, over /dev/ram0, reads FILE back.
crypt_reads() {
	dmsetup create wc --table "0 $1 crypt aes-xts-plain64 $KEY64 0 /dev/ram0 0" &&
		dmsetup mknodes wc || die "crypt over rcrypt's data"
	dd if=/dev/mapper/wc of=/tmp/wt.out bs=4k count=$(($1 / 8)) iflag=direct 2>/dev/null || die "read back"
	cmp -s "$2" /tmp/wt.out || die "$3: crypt reads other data than rcrypt wrote"
	dmsetup remove wc || die "remove crypt"
}

dd if=/dev/urandom of=/tmp/wt.in bs=4k count=32 2>/dev/null
# options | writes the thread submits (of 32 direct 4 KiB writes)
for c in "1 no_read_workqueue|32" \
	"2 no_read_workqueue submit_from_crypt_cpus|0" \
	"1 no_write_workqueue|0" \
	"2 no_read_workqueue high_priority|32" \
	"3 no_read_workqueue high_priority same_cpu_crypt|32"; do
	opts=${c%|*}
	want=${c#*|}
	dmsetup create wr --table "0 2048 rcrypt aes-xts-plain64 $KEY64 0 /dev/ram0 0 $opts" &&
		dmsetup mknodes wr || die "rcrypt, $opts"
	dmsetup create wc --table "0 2048 crypt aes-xts-plain64 $KEY64 0 /dev/ram1 0 $opts" ||
		die "crypt, $opts"
	rname="rcrypt_write/$(devno wr)"
	cname="dmcrypt_write/$(devno wc)"
	rpid=$(thread_pid "$rname")
	cpid=$(thread_pid "$cname")
	[ -n "$rpid" ] || die "$opts: no thread $rname"
	[ -n "$cpid" ] || die "$opts: no thread $cname"
	echo "$opts: $rname nice $(nice_of "$rpid"), $cname nice $(nice_of "$cpid")"
	[ "$(nice_of "$rpid")" = "$(nice_of "$cpid")" ] || die "$opts: nice differs from crypt's"

	dd if=/tmp/wt.in of=/dev/mapper/wr bs=4k count=32 oflag=direct 2>/dev/null || die "$opts: write"
	n=$(field wr sorted_writes)
	echo "$opts: sorted_writes=$n"
	[ "$n" = "$want" ] || die "$opts: $n writes through the write thread, expected $want"
	dmsetup remove wr || die "remove"
	[ -z "$(thread_pid "$rname")" ] || die "$opts: $rname still runs after remove"
	dmsetup remove wc || die "remove crypt"
	crypt_reads 256 /tmp/wt.in "$opts"
done

# Deep queue through the thread: concurrent writers, then a check by crypt.
dmsetup create wr --table "0 8192 rcrypt aes-xts-plain64 $KEY64 0 /dev/ram0 0 1 no_read_workqueue" &&
	dmsetup mknodes wr || die "rcrypt"
dd if=/dev/urandom of=/tmp/wt.big bs=64k count=64 2>/dev/null
for i in 0 1 2 3 4 5 6 7; do
	dd if=/tmp/wt.big of=/dev/mapper/wr bs=4k skip=$((i * 128)) seek=$((i * 128)) count=128 \
		oflag=direct 2>/dev/null &
done
wait
n=$(field wr sorted_writes)
echo "8 concurrent writers: sorted_writes=$n"
[ "$n" = 1024 ] || die "$n writes through the write thread, expected 1024"
dmsetup remove wr || die "remove"
crypt_reads 8192 /tmp/wt.big "concurrent writes"

# The adaptive engine (no options) sends the writes it encrypted on the work
# queue through the thread only when the device is rotational; otherwise the
# CPU that encrypted a write submits it. Rounds of concurrent writers, until
# the engine has put some writes on the work queue.
R=/sys/block/ram0/queue/rotational
[ -w $R ] || die "no $R"
# The ramdisks outlive this test: ram0 goes back to non-rotational however it ends.
trap 'echo 0 >$R' EXIT
for i in 0 1 2 3 4 5 6 7; do cat /tmp/wt.in; done >/tmp/wt.big
for rot in 0 1; do
	echo $rot >$R || die "cannot set $R"
	dmsetup create wr --table "0 2048 rcrypt aes-xts-plain64 $KEY64 0 /dev/ram0 0" &&
		dmsetup mknodes wr || die "rcrypt, no options"
	rounds=0 q=0
	while [ "$q" = 0 ] && [ $rounds -lt 30 ]; do
		for i in 0 1 2 3 4 5 6 7; do
			dd if=/tmp/wt.in of=/dev/mapper/wr bs=4k seek=$((i * 32)) count=32 oflag=direct 2>/dev/null &
		done
		wait
		q=$(field wr queued_ios)
		rounds=$((rounds + 1))
	done
	n=$(field wr sorted_writes)
	echo "no options, rotational=$rot: queued_ios=$q sorted_writes=$n after $rounds rounds"
	[ "$q" -gt 0 ] || die "rotational=$rot: no write took the work queue in $rounds rounds"
	if [ $rot = 1 ]; then
		# Every queued write, and any whose inline buffer ran dry.
		[ "$n" -ge "$q" ] && [ "$n" -le $((rounds * 256)) ] ||
			die "rotational: $n writes through the thread, expected $q or more"
	else
		[ "$n" = 0 ] || die "non-rotational: $n writes through the thread, expected none"
	fi
	dmsetup remove wr || die "remove"
	crypt_reads 2048 /tmp/wt.big "no options, rotational=$rot"
done
echo 0 >$R
echo 0 >$P
rm -f /tmp/wt.in /tmp/wt.out /tmp/wt.big
