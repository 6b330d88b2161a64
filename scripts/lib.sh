# Shared settings for the dm-rcrypt scripts in scripts/ and tools/perf/
# (sourced, not executed).
# shellcheck shell=bash

RCRYPT_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RCRYPT_CACHE=${RCRYPT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/dm-rcrypt}
KERNEL_SRC_TARBALL=${KERNEL_SRC_TARBALL:-/usr/src/linux-source-6.12.tar.xz}
KERNEL_SRC_PKG=linux-source-6.12
export PATH="$HOME/.cargo/bin:$PATH"

die() { echo "error: $*" >&2; exit 1; }
log() { echo ">>> $*" >&2; }

# The Debian package version of the kernel source, e.g. 6.12.117-1~deb12u1.
kernel_pkg_version() {
	dpkg-query -W -f='${Version}' "$KERNEL_SRC_PKG" 2>/dev/null ||
		die "$KERNEL_SRC_PKG is not installed (run: make setup)"
}

# Cache key of the test kernel: kernel version, config fragment, toolchain.
# Usage: kernel_key VARIANT (debug or perf)
kernel_key() {
	local variant=$1
	{
		kernel_pkg_version
		cat "$RCRYPT_ROOT/scripts/kernel.config"
		[ "$variant" = debug ] || cat "$RCRYPT_ROOT/scripts/kernel-$variant.config"
		rustc --version
		bindgen --version
		clang --version | head -1
		cat "$RCRYPT_ROOT/scripts/build-kernel"
	} | sha256sum | cut -c1-12
}

# Directory (O=) of the kernel build for VARIANT.
kernel_dir() {
	local variant=${1:-debug}
	echo "$RCRYPT_CACHE/kernel-$(kernel_pkg_version | tr '~' '_')-$variant-$(kernel_key "$variant")"
}

# Extracted kernel source tree (shared by every build of the same version).
kernel_src_dir() {
	echo "$RCRYPT_CACHE/src/linux-$(kernel_pkg_version | tr '~' '_')"
}

