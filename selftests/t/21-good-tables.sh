# Every table of data/good-tables.txt loads on crypt. rcrypt must load it too
# and report the same table (status TABLE, keys shown). (Integrity tables
# need a device with an integrity profile: 60-integrity has them.)
. "$SELFTESTS/lib.sh"
ramdisks
table_device_create

n=0 bad=0
while IFS='|' read -r desc args len; do
	case "$desc" in '' | '#'*) continue ;; esac
	n=$((n + 1))
	args=$(expand_table "$args")
	c=$(try_table crypt "${len:-131072}" "$args")
	r=$(try_table rcrypt "${len:-131072}" "$args")
	case "$c" in accept*) ;; *) echo "$desc: crypt: $c"; bad=$((bad + 1)); continue ;; esac
	if [ "$c" != "$r" ]; then
		echo "$desc: crypt:  $c"
		echo "$desc: rcrypt: $r"
		bad=$((bad + 1))
	fi
done <"$SELFTESTS/data/good-tables.txt"
table_device_remove
echo "$n good tables, $bad mismatches"
[ $n -gt 0 ] || die "no tables read"
[ $bad = 0 ]
