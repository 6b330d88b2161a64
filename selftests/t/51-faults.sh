# Faults of the device below, on crypt and rcrypt alike: dm-dust bad blocks
# fail exactly the reads that touch them (EIO) while every other block reads
# back intact, a write remaps a bad block; dm-flakey's error_reads,
# error_writes and drop_writes behave the same through both targets; after a
# reload of the device below without faults, the same rcrypt mapping works
# again, and everything can be removed.
. "$SELFTESTS/lib.sh"
ramdisks
bad=0
fail() { echo "$*"; bad=1; }
# 64 blocks of 4 KiB; bad blocks 3, 40 and 41.
dd if=/dev/urandom of=/tmp/plain bs=4k count=64 2>/dev/null
blk() { dd if="$1" bs=4k skip="$2" count=1 2>/dev/null; }
for t in crypt rcrypt; do
	dmsetup create dust_$t --table "0 2048 dust /dev/ram1 0 4096" || die "dm-dust"
	dmsetup mknodes
	dmsetup create d_$t --table "0 2048 $t aes-xts-plain64 $KEY64 0 /dev/mapper/dust_$t 0" || die "$t over dust"
	dmsetup mknodes
	dd if=/tmp/plain of=/dev/mapper/d_$t bs=64k oflag=direct 2>/dev/null || fail "$t: write"
	for b in 3 40 41; do dmsetup message dust_$t 0 addbadblock $b >/dev/null || die "addbadblock"; done
	dmsetup message dust_$t 0 enable || die "enable"
	failed=""
	i=0
	while [ $i -lt 64 ]; do
		if dd if=/dev/mapper/d_$t of=/tmp/blk bs=4k skip=$i count=1 iflag=direct 2>/dev/null; then
			blk /tmp/plain $i | cmp -s - /tmp/blk || fail "$t: block $i read back wrong"
		else
			failed="$failed $i"
		fi
		i=$((i + 1))
	done
	[ "$failed" = " 3 40 41" ] || fail "$t: failed reads at blocks:$failed (expected 3 40 41)"
	# A 64 KiB read over a bad block fails as a whole; one beside it does not.
	dd if=/dev/mapper/d_$t of=/dev/null bs=64k skip=0 count=1 iflag=direct 2>/dev/null && fail "$t: 64 KiB read over block 3 succeeded"
	dd if=/dev/mapper/d_$t of=/dev/null bs=64k skip=1 count=1 iflag=direct 2>/dev/null || fail "$t: 64 KiB read of blocks 16-31 failed"
	# Writing block 40 remaps it: it reads back the new data.
	dd if=/dev/urandom of=/tmp/new bs=4k count=1 2>/dev/null
	dd if=/tmp/new of=/dev/mapper/d_$t bs=4k seek=40 count=1 oflag=direct 2>/dev/null || fail "$t: write of bad block 40"
	dd if=/dev/mapper/d_$t of=/tmp/blk bs=4k skip=40 count=1 iflag=direct 2>/dev/null || fail "$t: read of remapped block 40"
	cmp -s /tmp/new /tmp/blk || fail "$t: remapped block 40 reads back wrong"
	dmsetup message dust_$t 0 disable || die "disable"
	dd if=/dev/mapper/d_$t of=/tmp/blk bs=4k skip=3 count=1 iflag=direct 2>/dev/null || fail "$t: read of block 3 with dust disabled"
	blk /tmp/plain 3 | cmp -s - /tmp/blk || fail "$t: block 3 wrong with dust disabled"
	dmsetup remove d_$t || fail "$t: remove over dust"
	dmsetup remove dust_$t || die "remove dust"
done
echo "dm-dust: reads fail exactly on blocks 3 40 41 through crypt and rcrypt; other blocks intact"

# dm-flakey, down all the time, with each feature. $1: feature; prints
# "<write status> <read status> <what the read returned>".
flakey_case() { # flakey_case TARGET FEATURE
	dmsetup create fl_$1 --table "0 2048 linear /dev/ram2 0" || die "linear"
	dmsetup mknodes
	dmsetup create c_$1 --table "0 2048 $1 aes-xts-plain64 $KEY64 0 /dev/mapper/fl_$1 0" || die "$1 over linear"
	dmsetup mknodes
	dd if=/tmp/plain of=/dev/mapper/c_$1 bs=64k count=1 oflag=direct 2>/dev/null || die "$1: first write"
	dmsetup load fl_$1 --table "0 2048 flakey /dev/ram2 0 0 60 1 $2" && dmsetup resume fl_$1 || die "flakey $2"
	w=ok r=ok
	dd if=/tmp/new of=/dev/mapper/c_$1 bs=4k count=1 oflag=direct 2>/dev/null || w=EIO
	dd if=/dev/mapper/c_$1 of=/tmp/blk bs=4k count=1 iflag=direct 2>/dev/null || r=EIO
	data=-
	if [ $r = ok ]; then
		if cmp -s /tmp/new /tmp/blk; then data=new; elif blk /tmp/plain 0 | cmp -s - /tmp/blk; then data=old; else data=garbage; fi
	fi
	# Back to no faults: the same rcrypt mapping must work again.
	dmsetup load fl_$1 --table "0 2048 linear /dev/ram2 0" && dmsetup resume fl_$1 || die "linear again"
	dd if=/tmp/plain of=/dev/mapper/c_$1 bs=64k count=4 oflag=direct 2>/dev/null || w="$w,then-write-failed"
	dd if=/dev/mapper/c_$1 of=/tmp/back bs=64k count=4 iflag=direct 2>/dev/null || r="$r,then-read-failed"
	cmp -s /tmp/back /tmp/plain || data="$data,then-wrong-data"
	dmsetup remove c_$1 && dmsetup remove fl_$1 || die "remove over flakey"
	echo "$w $r $data"
}
for f in error_reads error_writes drop_writes; do
	c=$(flakey_case crypt $f)
	r=$(flakey_case rcrypt $f)
	echo "dm-flakey $f: crypt: $c; rcrypt: $r"
	[ "$c" = "$r" ] || fail "dm-flakey $f: rcrypt differs from crypt"
	case "$f:$r" in
	"error_reads:ok EIO -" | "error_writes:EIO ok old" | "drop_writes:ok ok old") ;;
	*) fail "dm-flakey $f: unexpected outcome '$r'" ;;
	esac
done
[ $bad = 0 ]
