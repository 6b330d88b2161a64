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
# The fuzzer's keys (random hex words of 32 digits or more in its inputs):
# no 16-digit piece of one may appear in the log. Words of decimal digits
# only are the fuzzer's numeric edge values run together (such as
# 18446744073709551615 twice), not keys: the kernel logs such numbers as
# sectors (an access beyond the end of a device of size 0), and a random
# hex key of 32 digits has no letter about once in three million.
for f in "$SELFTESTS"/.build/fuzz-tables.txt "$SELFTESTS"/.build/fuzz-messages.txt; do
	[ -r "$f" ] && cat "$f"
done | tr ' \t' '\n\n' | grep -E '^[0-9a-fA-F]{32,}$' | grep -Ev '^[0-9]+$' >/tmp/fuzz-keys
nkeys=$(wc -l </tmp/fuzz-keys)
hits=$(awk '
	FNR == NR {
		k = tolower($0)
		for (i = 1; i + 15 <= length(k); i += 16) {
			p = substr(k, i, 16)
			t = p
			gsub(substr(p, 1, 1), "", t)
			if (t != "") piece[p] = 1	# not one digit repeated
		}
		next
	}
	{
		line = tolower($0)
		while (match(line, /[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]+/)) {
			run = substr(line, RSTART, RLENGTH)
			for (i = 1; i + 15 <= length(run); i++)
				if (substr(run, i, 16) in piece) { print; break }
			line = substr(line, RSTART + RLENGTH)
		}
	}' /tmp/fuzz-keys /tmp/kernel.log | head -3)
if [ -n "$hits" ]; then
	echo "fuzzer key material in the kernel log:"
	echo "$hits"
	found=1
fi
[ $found = 0 ] && echo "$(wc -l </tmp/kernel.log) log records, no test key in them (nor any of $nkeys fuzzer keys)"
[ $found = 0 ]
