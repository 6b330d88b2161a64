# Guest-side helpers shared by the selftests (through selftests/lib.sh) and
# the guest sides of the performance tools (tools/perf/*-guest.sh; the tools
# copy this file beside them into the shared directory): the test keys, the
# brd ramdisks and crypt/rcrypt tables over them. Sourced by busybox sh in
# the guest: POSIX sh only.
# shellcheck shell=sh

KEY32=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f
KEY64=${KEY32}202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f

# brd_load NR KIB: load brd with NR ramdisks, /dev/ram0 on, of KIB KiB each
# (by insmod of brd.ko where modprobe fails).
brd_load() {
	modprobe brd rd_nr="$1" rd_size="$2" 2>/dev/null ||
		insmod "$(find /lib/modules -name brd.ko | head -1)" rd_nr="$1" rd_size="$2"
}

# perf_ramdisk MB: one ramdisk, /dev/ram0, of MB MiB, with every page
# allocated (written once), so that reads read memory.
perf_ramdisk() {
	brd_load 1 $(($1 * 1024)) && dd if=/dev/zero of=/dev/ram0 bs=1M count="$1" 2>/dev/null
}

# cipher_key CIPHER: the key of the performance runs for CIPHER: "-" (none)
# for cipher_null-ecb, else KEY64.
cipher_key() {
	if [ "$1" = cipher_null-ecb ]; then echo -; else echo "$KEY64"; fi
}

# engine_opts ENGINE: the table options of an engine setting: for default
# none (the target chooses the path); for inline no_read_workqueue
# no_write_workqueue; for queue-r and queue-w the option of the other
# direction only, so that every read (queue-r) or write (queue-w) runs on
# the work queue, dm-crypt's default path, also on rcrypt, whose default
# engine chooses per bio.
engine_opts() {
	case $1 in
	inline) echo "no_read_workqueue no_write_workqueue" ;;
	queue-r) echo "no_write_workqueue" ;;
	queue-w) echo "no_read_workqueue" ;;
	esac
}

# perf_table TARGET CIPHER ENGINE SECTOR_SIZE MB: the table of a crypt or
# rcrypt device over the whole of a perf_ramdisk of MB MiB, with the key of
# cipher_key, sector_size:SECTOR_SIZE unless it is 512, and the options of
# engine_opts ENGINE.
perf_table() {
	_key=$(cipher_key "$2") _opts="" _n=0
	if [ "$4" != 512 ]; then _opts=" sector_size:$4" _n=1; fi
	_e=$(engine_opts "$3")
	if [ -n "$_e" ]; then _opts="$_opts $_e" _n=$((_n + $(echo $_e | wc -w))); fi
	[ $_n = 0 ] || _opts=" $_n$_opts"
	echo "0 $(($5 * 2048)) $1 $2 $_key 0 /dev/ram0 0$_opts"
}
