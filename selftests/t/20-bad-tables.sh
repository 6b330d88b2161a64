# Every table of data/bad-tables.txt is rejected by crypt and by rcrypt, with
# the same error code and the same ti->error message. "(dm core)" tables pass
# the target's constructor and are rejected by dm core's device area check,
# which logs no target message: the same for both.
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
	if [ "$c" = accept ]; then
		echo "$desc: crypt accepts this table: data file is wrong"; bad=$((bad + 1))
	elif [ "$c" != "$r" ]; then
		echo "$desc: crypt: $c"
		echo "$desc: rcrypt: $r"
		bad=$((bad + 1))
	fi
done <"$SELFTESTS/data/bad-tables.txt"
echo "$n bad tables, $bad mismatches"
table_device_remove
[ $n -gt 0 ] || die "no tables read"
[ $bad = 0 ]
