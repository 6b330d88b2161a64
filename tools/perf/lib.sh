# Shared steps of the performance tools bench, icount and profile (sourced,
# not executed, after the settings of scripts/lib.sh, which it sources).
# shellcheck shell=bash
. "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib.sh"

# Builds dm-rcrypt.ko for the perf (non-debug) kernel KDIR in a copy of the
# sources at DIR (the repository's own build is for the debug kernel).
# Usage: build_perf_module KDIR DIR; the module is DIR/dm-rcrypt.ko.
build_perf_module() {
	local kdir=$1 build=$2
	rm -rf "$build"
	mkdir -p "$build/rust"
	cp -r "$RCRYPT_ROOT/Makefile" "$RCRYPT_ROOT/Kbuild" "$build/"
	(cd "$RCRYPT_ROOT/rust" && tar --exclude=./host --exclude='*.o' --exclude='*.cmd' --exclude=bindings_generated.rs -cf - .) |
		(cd "$build/rust" && tar -xf -)
	make -C "$build" --no-print-directory module KDIR="$kdir" >"$build/build.log" 2>&1 ||
		{ tail -30 "$build/build.log"; die "module build for the perf kernel failed"; }
}

# perf_prepare TOOL: the perf kernel and its initramfs (built once, cached),
# dm-rcrypt.ko for it in $RCRYPT_CACHE/TOOL-build (sets build), and a new
# directory for the guest, removed on exit (sets work), holding the guest
# side TOOL-guest.sh and the guest helpers it sources.
perf_prepare() {
	local kdir
	kdir=$("$RCRYPT_ROOT/scripts/build-kernel" perf)
	"$RCRYPT_ROOT/scripts/mkinitramfs" perf >/dev/null
	build=$RCRYPT_CACHE/$1-build
	build_perf_module "$kdir" "$build"
	work=$(mktemp -d)
	trap 'rm -rf "$work"' EXIT
	cp "$RCRYPT_ROOT/tools/perf/$1-guest.sh" "$RCRYPT_ROOT/selftests/guest-common.sh" "$work/"
}

# perf_vm_run TOOL TIMEOUT ARG...: one boot of the perf kernel with the
# module of perf_prepare and $work shared at /mnt/share, running
# TOOL-guest.sh with ARGs (without kmemleak scans; vm-run's exit status).
perf_vm_run() {
	local tool=$1 timeout=$2
	shift 2
	"$RCRYPT_ROOT/scripts/vm-run" --kernel perf --module "$build/dm-rcrypt.ko" --no-leak-check \
		--share "$work" --timeout "$timeout" -- sh "/mnt/share/$tool-guest.sh" "$@"
}
