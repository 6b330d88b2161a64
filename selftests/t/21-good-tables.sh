# Every table of data/good-tables.txt is accepted by crypt. Until the data
# path exists, rcrypt parses and checks it completely and then refuses it
# with "not supported yet" (-EOPNOTSUPP): nothing may pretend to encrypt.
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
	[ "$c" = accept ] || { echo "$desc: crypt: $c"; bad=$((bad + 1)); }
	case "$r" in
	"reject -EOPNOTSUPP "*"not supported yet" | "reject -95 "*"not supported yet") ;;
	*) echo "$desc: rcrypt: $r"; bad=$((bad + 1)) ;;
	esac
done <"$SELFTESTS/data/good-tables.txt"
echo "$n good tables, $bad mismatches"
table_device_remove
[ $n -gt 0 ] || die "no tables read"
[ $bad = 0 ]
