#!/bin/sh
# Guest side of `make cryptsetup-tests` (run by tools/cryptsetup-tests/run
# through vm-run --host-root, so the host's userland is the guest's).
#
#   guest.sh TESTDIR RESULTS SIDE NAME:TIMEOUT...
#
# Runs each of cryptsetup's test scripts (or API test programs) NAME of
# TESTDIR in a fresh copy of TESTDIR on a tmpfs, with the system's
# cryptsetup (CRYPTSETUP_PATH=/sbin) and a timeout of TIMEOUT seconds. In
# RESULTS it writes NAME.log (the output), NAME.dmesg (the kernel log of
# the run), and appends to results.txt "start NAME" before the run and
# "done NAME STATUS SECONDS NOTE" after it (124: timeout). SIDE (dropin or
# crypt) says which module must serve crypt: a script that leaves the other
# one loaded is marked. What a script leaves behind (mappings, loop devices,
# scsi_debug, mounts) is noted and removed before the next one.
set -u
testdir=$1 results=$2 side=$3
shift 3

splat_re='BUG:|WARNING:|KASAN|UBSAN|Oops|general protection fault|Kernel panic|kernel BUG|possible circular locking|possible recursive locking|inconsistent lock state|blocked for more than|Call Trace:'
work=/tmp/cryptsetup-tests
export CRYPTSETUP_PATH=/sbin DM_DISABLE_UDEV=1

# The modules serving crypt, as the side requires.
modules_ok() {
	case $side in
	dropin)
		grep -q '^dm_rcrypt ' /proc/modules && ! grep -q '^dm_crypt ' /proc/modules &&
			[ "$(cat /sys/module/dm_rcrypt/parameters/crypt_alias)" = Y ]
		;;
	crypt) ! grep -q '^dm_rcrypt ' /proc/modules ;;
	*) return 1 ;;
	esac
}
modules_ok || { echo "guest: the modules do not match side $side: $(cut -d' ' -f1 /proc/modules | tr '\n' ' ')"; exit 125; }
echo "guest: $(uname -r), side $side: $(dmsetup targets | grep crypt | tr -s ' \n' ' ')"

for spec in "$@"; do
	name=${spec%:*} limit=${spec##*:}
	echo "start $name" >>"$results/results.txt"
	rm -rf "$work"
	cp -a "$testdir" "$work"
	dmesg -C
	start=$(date +%s)
	(cd "$work" && exec timeout -k 30 "$limit" "./$name") </dev/null >"$results/$name.log" 2>&1
	rc=$?
	secs=$(($(date +%s) - start))
	dmesg >"$results/$name.dmesg"

	# Leftovers, noted then cleared so that the next script starts clean.
	note=""
	grep -Eq "$splat_re" "$results/$name.dmesg" && note="$note kernel-splat"
	modules_ok || note="$note wrong-modules($(grep -o '^dm_r\{0,1\}crypt ' /proc/modules | tr -d ' \n'))"
	if grep -q " $work" /proc/mounts; then
		note="$note left-mounts"
		grep " $work" /proc/mounts | cut -d' ' -f2 | sort -r | while read -r m; do umount -l "$m"; done
	fi
	if [ "$(dmsetup ls 2>/dev/null)" != "No devices found" ]; then
		note="$note left-mappings($(dmsetup ls | cut -f1 | tr '\n' ',' | sed 's/,$//'))"
		dmsetup remove_all --force >/dev/null 2>&1
	fi
	if [ -n "$(losetup -a)" ]; then
		note="$note left-loops"
		losetup -D
	fi
	if grep -q '^scsi_debug ' /proc/modules; then
		note="$note left-scsi_debug"
		rmmod scsi_debug 2>/dev/null
	fi
	rm -rf "$work"
	echo "done $name $rc $secs${note:+ }$(echo $note | tr ' ' ',')" >>"$results/results.txt"
	echo "guest: $name: status $rc, ${secs}s${note:+,$note}"
done
