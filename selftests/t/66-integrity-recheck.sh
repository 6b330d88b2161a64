# The recheck of a tagged read (dm-crypt's aead_recheck). rcrypt checks a
# read in place, in the reader's pages, and reads a bio whose tag fails
# there again into pages of its own, where only a tag that fails again
# fails the read. The device below changes data on the way up: dm-integrity
# (direct mode) over a dm-flakey device that corrupts one random byte of
# half the reads it completes (random_read_corrupt), switched on after
# everything was read once (dm-integrity keeps the tags in its buffer
# cache, above dm-flakey, so only data is corrupted). Then 128 reads of 4
# KiB, one at a time with O_DIRECT, through each target (authenc
# hmac(sha256) xts(aes), random IV): each reads back right or fails with
# EILSEQ, none returns other data, and some of each kind happen (the odds
# of not are below 2^-50). rcrypt reads again every read that fails in
# place (integrity_rechecks), about half of them: some of those come back
# right on their second read, and each that does not counts one
# integrity error. Afterwards, over the plain device again, all of it
# reads back.
. "$SELFTESTS/lib.sh"
ramdisks
odirect_setup
counters_on
bad=0
fail() { echo "$*"; bad=$((bad + 1)); }
RAW=/dev/ram3 N=128
sz=$(blockdev --getsz $RAW)
dmsetup create rl --table "0 $sz linear $RAW 0" && dmsetup mknodes || die "linear"
len=$(integrity_dev ri /dev/mapper/rl 48 512) || die "dm-integrity"
tbl="0 $len TARGET capi:authenc(hmac(sha256),xts(aes))-random $KEY64$KEY32 0 /dev/mapper/ri 0 1 integrity:48:aead"
dd if=/dev/urandom of=/tmp/all bs=4096 count=$N 2>/dev/null
readall() { dd if=/dev/mapper/rt bs=64k count=$((N / 16)) iflag=direct 2>/dev/null | cmp -s - /tmp/all; }
for target in rcrypt crypt; do
	dmsetup create rt --table "${tbl/TARGET/$target}" && dmsetup mknodes || { fail "$target create"; continue; }
	[ $target = crypt ] || dd if=/tmp/all of=/dev/mapper/rt bs=64k oflag=direct 2>/dev/null || fail "write"
	readall || fail "$target: read-back before the corruption differs"
	dmsetup reload rl --table "0 $sz flakey $RAW 0 0 1 2 random_read_corrupt 500000000" &&
		dmsetup resume rl || fail "flakey"
	e0=$(counter integrity_errors rt) r0=$(counter integrity_rechecks rt)
	right=0 failed=0 other=""
	i=0
	while [ $i -lt $N ]; do
		head -c 4096 /dev/zero >/tmp/blk
		r=$(odirect r /dev/mapper/rt /tmp/blk $((i * 4096)))
		case $r in
		ok)
			if dd if=/tmp/all bs=4096 skip=$i count=1 2>/dev/null | cmp -s - /tmp/blk; then
				right=$((right + 1))
			else
				other="$other $i:wrong-data"
			fi
			;;
		EILSEQ) failed=$((failed + 1)) ;;
		*) other="$other $i:$r" ;;
		esac
		i=$((i + 1))
	done
	dmsetup reload rl --table "0 $sz linear $RAW 0" && dmsetup resume rl || fail "linear again"
	msg="$target: $right read right, $failed failed"
	[ -z "$other" ] || fail "$msg; other results:$other"
	[ $right -ge 1 ] && [ $failed -ge 1 ] || fail "$msg: the corruption did not take"
	if [ $target = rcrypt ]; then
		errors=$(($(counter integrity_errors rt) - e0))
		rechecks=$(($(counter integrity_rechecks rt) - r0))
		msg="$msg, $rechecks read again, $errors integrity errors"
		[ $errors = $failed ] || fail "$msg: not one integrity error per failed read"
		[ $rechecks -gt $failed ] || fail "$msg: no read came back right on its second read"
	fi
	echo "# $msg"
	readall || fail "$target: read-back after the corruption differs"
	dmsetup remove rt || fail "remove"
done
dmsetup remove ri
dmsetup remove rl
echo "$counters_was" >$P
[ $bad = 0 ]
