# IMA: device-mapper measures every table load with each target's IMA status
# string. With an IMA policy measuring device-mapper's critical data, the
# same tables loaded on crypt and on rcrypt must be measured with the same
# target data (only the target name differs).
. "$SELFTESTS/lib.sh"
ramdisks

SEC=/sys/kernel/security
[ -d $SEC/ima ] || mount -t securityfs securityfs $SEC 2>/dev/null
[ -w $SEC/ima/policy ] || die "no IMA policy file (kernel without IMA?)"
echo "measure func=CRITICAL_DATA label=device-mapper template=ima-buf" >$SEC/ima/policy || die "IMA policy refused"
M=$SEC/ima/ascii_runtime_measurements

# measured_raw NAME: the target part of the last dm_table_load record of
# NAME. measured NAME: the same with the target name replaced by TARGET.
measured_raw() {
	grep " dm_table_load " $M | awk '{ print $NF }' | while read -r hex; do
		printf "$(echo "$hex" | sed 's/../\\x&/g')"
		echo
	done | grep "name=$1," | tail -1 | sed 's/^.*;target_index=/target_index=/'
}
measured() {
	measured_raw "$1" | sed 's/target_name=r\{0,1\}crypt,/target_name=TARGET,/'
}

KEY1040=$(head -c 1040 /dev/urandom | od -An -v -tx1 | tr -d " \n")
bad=0 i=0
while read -r table; do
	[ -n "$table" ] || continue
	i=$((i + 1))
	dmsetup create imac$i --table "0 8192 crypt $table" || { echo "crypt refused: $table"; bad=$((bad + 1)); continue; }
	dmsetup create imar$i --table "0 8192 rcrypt $table" || { echo "rcrypt refused: $table"; bad=$((bad + 1)); dmsetup remove imac$i; continue; }
	c=$(measured imac$i) r=$(measured imar$i)
	echo "crypt:  $c"
	if [ -z "$c" ] || [ "$c" != "$r" ]; then
		echo "rcrypt: $r"
		bad=$((bad + 1))
	fi
	dmsetup remove imac$i
	dmsetup remove imar$i
done <<EOT
aes-xts-plain64 $KEY64 0 /dev/ram0 0
aes-cbc-essiv:sha256 $KEY32 8 /dev/ram0 0 3 allow_discards same_cpu_crypt sector_size:4096
aes:64-cbc-lmk $KEY1040 0 /dev/ram0 0
aes-cbc-tcw $KEY64 0 /dev/ram0 0 2 high_priority submit_from_crypt_cpus
aes-cbc-elephant $KEY64 0 /dev/ram0 0 3 no_read_workqueue no_write_workqueue iv_large_sectors
capi:xts(aes)-plain64 $KEY64 0 /dev/ram0 0 1 integrity_key_size:16
cipher_null-ecb - 0 /dev/ram0 0
EOT
echo "$i tables, $bad mismatches"

# Drop-in mode: a crypt table served by rcrypt is measured exactly as
# dm-crypt's (target_name=crypt, the name the table used).
table="aes-xts-plain64 $KEY64 0 /dev/ram0 0"
dmsetup create imac --table "0 8192 crypt $table" || die "crypt refused: $table"
c=$(measured_raw imac)
dmsetup remove imac
dropin_begin || die "cannot load dm-rcrypt with crypt_alias=1"
dmsetup create imad --table "0 8192 crypt $table" || { dropin_end; die "drop-in crypt refused: $table"; }
d=$(measured_raw imad)
dmsetup remove imad
dropin_end || die "cannot restore dm-crypt and rcrypt"
if [ -z "$c" ] || [ "$c" != "$d" ]; then
	echo "dm-crypt: $c"
	echo "drop-in:  $d"
	bad=$((bad + 1))
else
	echo "drop-in: measured as dm-crypt's"
fi
[ $i -gt 0 ] && [ $bad = 0 ]
