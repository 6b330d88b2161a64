# Helpers for dm-rcrypt selftests (sourced by run and by each t/*.sh, with
# SELFTESTS set to this directory). The keys and the brd loading come from
# guest-common.sh, which the guest sides of tools/perf use too.
# shellcheck shell=sh
. "$SELFTESTS/guest-common.sh"

# ktap_cases: read one suite's KTAP log on stdin, print "ok NAME" or
# "fail NAME" (and "skip NAME") for each test case of the suite.
ktap_cases() {
	awk '
	{ sub(/^\[[ 0-9.]*\] /, "") }
	/^    (not )?ok [0-9]+ / {
		line = $0; sub(/^    /, "", line)
		st = (line ~ /^not ok/) ? "fail" : "ok"
		sub(/^(not )?ok [0-9]+ (- )?/, "", line)
		if (line ~ /# SKIP/) st = "skip"
		sub(/ *#.*$/, "", line)
		print st, line
	}'
}

# ktap_suite_status: "ok" if the suite line of a KTAP log is "ok", else "fail".
ktap_suite_status() {
	awk '
	{ sub(/^\[[ 0-9.]*\] /, "") }
	/^(not )?ok [0-9]+ / { st = ($0 ~ /^not ok/) ? "fail" : "ok" }
	END { print (st == "" ? "fail" : st) }'
}

die() { echo "FAIL: $*"; exit 1; }

# nvme_namespaces DESCRIBE: sets ns512 and ns4k to the emulated NVMe
# namespaces of 512- and 4096-byte blocks, found by block size (the kernel
# scans namespaces in parallel, so nvme0n1 is not always nsid 1); prints
# each with what the function DESCRIBE prints of its /sys/block directory.
nvme_namespaces() {
	ns512= ns4k=
	for _sys in /sys/block/nvme0n*; do
		[ -d "$_sys" ] || continue
		_ns=${_sys##*/} _bs=$(cat "$_sys/queue/logical_block_size")
		echo "$_ns: $_bs-byte blocks, $($1 "$_sys")"
		case $_bs in
		512) ns512=/dev/$_ns ;;
		4096) ns4k=/dev/$_ns ;;
		esac
	done
	[ -b "$ns512" ] && [ -b "$ns4k" ] ||
		die "no NVMe namespaces of 512- and 4096-byte blocks (/dev: $(ls /dev | grep nvme | tr '\n' ' '))"
}

# Ramdisks for tests: /dev/ram0 .. /dev/ram3 of 64 MiB each (brd).
ramdisks() {
	[ -b /dev/ram0 ] || brd_load 4 65536 || die "cannot load brd"
}

# integrity_dev NAME DEV TAG BLOCK: a dm-integrity device NAME over DEV
# (zeroed first, 64 MiB) with TAG bytes of metadata per BLOCK-byte sector,
# in direct mode (no journal: a write goes to its data and tag sectors and
# nowhere else) and without an internal hash (the tags are the upper
# target's), all of it mapped; prints its length in sectors.
integrity_dev() {
	dd if=/dev/zero of="$2" bs=1M count=64 oflag=direct 2>/dev/null
	dmsetup create "$1" --table "0 8 integrity $2 0 $3 D 1 block_size:$4" || return 1
	_len=$(dmsetup status "$1" | awk '{print $5}')
	dmsetup remove "$1" &&
		dmsetup create "$1" --table "0 $_len integrity $2 0 $3 D 1 block_size:$4" &&
		dmsetup mknodes && echo "$_len"
}

# odirect_setup: F is dmfuzz, and odirect r|w DEV FILE OFFSET does one
# O_DIRECT read or write of FILE's size at byte OFFSET, from a page-aligned
# buffer (busybox's dd falls back to the page cache where an O_DIRECT
# transfer fails with EINVAL, and a page-cache read of a sector reads its
# whole page); it prints ok or the errno's name.
odirect_setup() {
	F=$SELFTESTS/.build/dmfuzz
	[ -x "$F" ] || die "no dmfuzz (selftests/tools/build)"
}
odirect() { $F odirect "$1" "$2" "$3" 0 "$4"; }

# counters_on: rcrypt's INFO counters shown (P is the parameter,
# counters_was what it held, to be put back at the end).
counters_on() {
	P=/sys/module/dm_rcrypt/parameters/info_counters
	counters_was=$(cat $P)
	echo Y >$P
}

# fault_setup: for the fault-injection tests (54, 63): D is debugfs, F is
# dmfuzz (which scopes the injection to its own syscalls with make-it-fail),
# STRIDE the constructor sweep's stride (stress.conf may change it); then
# fault_reset.
fault_setup() {
	D=/sys/kernel/debug
	F=$SELFTESTS/.build/dmfuzz
	[ -d $D/failslab ] && [ -d $D/fail_page_alloc ] || die "no fault injection in debugfs"
	[ -x "$F" ] || die "no dmfuzz (selftests/tools/build)"
	STRIDE=8
	[ -r "$SELFTESTS/.build/stress.conf" ] && . "$SELFTESTS/.build/stress.conf"
	fault_reset
}

# fault_reset: failslab and fail_page_alloc off, scoped to the tasks that
# ask (task-filter), every failure counted (interval 1, no limit), and once
# on, sleeping allocations (GFP_KERNEL, GFP_NOIO) can fail too.
fault_reset() {
	for _f in failslab fail_page_alloc; do
		echo 0 >$D/$_f/probability; echo 0 >$D/$_f/space; echo -1 >$D/$_f/times
		echo 0 >$D/$_f/verbose; echo Y >$D/$_f/task-filter; echo 1 >$D/$_f/interval
		echo N >$D/$_f/ignore-gfp-wait
	done
}

# expand_table ARGS: replace the placeholders of selftests/data/*.txt.
expand_table() {
	echo "$1" | sed -e "s|@DEV@|/dev/ram0|g" -e "s|@KEY32@|$KEY32|g" -e "s|@KEY64@|$KEY64|g"
}

# try_table TARGET LEN ARGS: load a table into the inactive slot of the
# device selftest_tbl and clear it again. Prints "accept <table status>" or
# "reject <errno> <ti->error message>" (from the kernel log). Loading into
# one device is much faster than creating a device per table; call
# table_device_create first and table_device_remove at the end.
try_table() {
	dmesg -c >/dev/null
	if dmsetup load selftest_tbl --table "0 $2 $1 $3" >/dev/null 2>&1; then
		# The loaded table as the target reports it (status TABLE), with the
		# target name replaced so that crypt and rcrypt compare equal.
		tbl=$(dmsetup table --inactive --showkeys selftest_tbl | sed "s/^\([0-9]* [0-9]*\) $1 /\1 TARGET /")
		dmsetup clear selftest_tbl || echo "cannot clear selftest_tbl" >&2
		echo "accept $tbl"
	else
		# "device-mapper: table: 254:0: crypt: <message> (<errno>)"
		dmesg -c | sed -n "s/.*device-mapper: table: [0-9]*:[0-9]*: $1: \(.*\) (\(-[A-Z0-9]*\))\$/\2 \1/p" |
			tail -1 | { read -r e m; echo "reject $e $m"; }
	fi
}

table_device_create() {
	dmsetup create selftest_tbl --notable || die "cannot create selftest_tbl"
}

table_device_remove() {
	dmsetup remove selftest_tbl || die "cannot remove selftest_tbl"
}

# dropin_begin [PARAM=VALUE...]: dm-rcrypt reloaded with crypt_alias=1 (and
# the parameters given), the C dm-crypt unloaded: the target crypt is
# rcrypt's. dropin_end: back to dm-crypt beside the plain rcrypt. Devices
# of either target must be removed first.
dropin_begin() {
	rmmod dm_rcrypt && rmmod dm_crypt && insmod "$RCRYPT_KO" crypt_alias=1 "$@"
}
dropin_end() {
	if grep -q '^dm_rcrypt ' /proc/modules; then rmmod dm_rcrypt || return 1; fi
	grep -q '^dm_crypt ' /proc/modules || modprobe dm-crypt || return 1
	insmod "$RCRYPT_KO"
}

# counter NAME DEVICE: the value of one of rcrypt's INFO counters.
counter() {
	dmsetup status "$2" | tr ' ' '\n' | sed -n "s/^$1=//p"
}
