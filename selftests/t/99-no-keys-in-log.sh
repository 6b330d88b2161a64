# Runs last: no key used by the tests of this boot appears in the kernel log
# (hex, either case, or a 16-digit piece of one), whatever the targets
# printed while rejecting tables, messages or keys. /dev/kmsg holds every
# record of the boot, also those that `dmesg -c` cleared for syslog readers.
. "$SELFTESTS/lib.sh"
timeout 3 cat /dev/kmsg >/tmp/kernel.log 2>/dev/null
[ "$(wc -l </tmp/kernel.log)" -gt 100 ] || die "could not read the kernel log"
grep -q "rcrypt" /tmp/kernel.log || die "the kernel log does not cover this boot's tests"
found=0
for k in "$KEY32" "$KEY64"; do
	for piece in "$k" "$(echo "$k" | cut -c1-16)" "$(echo "$k" | cut -c17-32)" "$(echo "$k" | cut -c33-48)"; do
		if grep -qi "$piece" /tmp/kernel.log; then
			echo "key material $piece in the kernel log:"
			grep -i "$piece" /tmp/kernel.log | head -3
			found=1
		fi
	done
done
[ $found = 0 ] && echo "$(wc -l </tmp/kernel.log) log records, no test key in them"
[ $found = 0 ]
