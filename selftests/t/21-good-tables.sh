# Every table of data/good-tables.txt loads on crypt. rcrypt must load it too
# and report the same table (status TABLE, keys shown), except for tables
# whose IV or integrity mode rcrypt does not implement yet, which it must
# refuse with "not supported yet" (-EOPNOTSUPP) and nothing else.
. "$SELFTESTS/lib.sh"
ramdisks
table_device_create

n=0 bad=0 deferred=0
while IFS='|' read -r desc args len; do
	case "$desc" in '' | '#'*) continue ;; esac
	n=$((n + 1))
	args=$(expand_table "$args")
	c=$(try_table crypt "${len:-131072}" "$args")
	r=$(try_table rcrypt "${len:-131072}" "$args")
	case "$c" in accept*) ;; *) echo "$desc: crypt: $c"; bad=$((bad + 1)); continue ;; esac
	if unsupported_yet "$args"; then
		deferred=$((deferred + 1))
		case "$r" in
		"reject -EOPNOTSUPP "*"not supported yet" | "reject -95 "*"not supported yet") ;;
		*) echo "$desc: rcrypt: $r"; bad=$((bad + 1)) ;;
		esac
	elif [ "$c" != "$r" ]; then
		echo "$desc: crypt:  $c"
		echo "$desc: rcrypt: $r"
		bad=$((bad + 1))
	fi
done <"$SELFTESTS/data/good-tables.txt"
table_device_remove
echo "$n good tables ($deferred not supported yet by rcrypt), $bad mismatches"
[ $n -gt 0 ] || die "no tables read"
[ $bad = 0 ]
