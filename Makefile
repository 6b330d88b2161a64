# SPDX-License-Identifier: GPL-2.0
#
# dm-rcrypt: the device-mapper target `rcrypt`, a Rust counterpart of dm-crypt.
#
#   make setup     install everything, build the test kernel, the module, boot it once
#   make check     build the module and run every test (host, KUnit, guest selftests)
#   make           build dm-rcrypt.ko against the cached test kernel (or KDIR=...)
#   make stress    the reliability tests at full size (fuzzing, faults, 1 GiB stress)
#   make bench     rcrypt against dm-crypt (fio, non-debug kernel), ratios per workload
#   make icount    instructions per MiB of rcrypt and dm-crypt (QEMU -icount, one vCPU)
#   make profile   the same runs per kernel function (a QEMU TCG plugin)
#   make cryptsetup-tests  cryptsetup's own test suite on rcrypt (drop-in) and on dm-crypt
#   make host-test the host-side cargo tests of the pure Rust parts
#   make clippy    build the module with clippy
#   make fmt       format the Rust sources (the kernel's .rustfmt.toml); fmt-check checks
#   make install   install dm-rcrypt.ko into /lib/modules/<release>/updates for
#                  the kernel of KDIR (INSTALL_MOD_PATH=DIR stages it), then depmod
#   make demo      cryptsetup's volumes on rcrypt (drop-in mode) in the test guest
#   make clean

export PATH := $(HOME)/.cargo/bin:$(PATH)
KDIR ?= $(shell scripts/kernel-dir debug 2>/dev/null)
# Build with the compiler the kernel was built with: LLVM for a clang-built
# kernel (the test kernels), the kernel's own CC otherwise.
KLLVM = $(if $(shell grep -s '^CONFIG_CC_IS_CLANG=y' $(KDIR)/include/config/auto.conf),LLVM=1)
KMAKE = $(MAKE) -C $(KDIR) M=$(CURDIR) $(KLLVM)
KRELEASE = $(shell cat $(KDIR)/include/config/kernel.release 2>/dev/null)

.PHONY: all module install demo setup check stress bench icount profile cryptsetup-tests host-test clippy fmt fmt-check clean

all: module

module:
	@test -n "$(KDIR)" || { echo "no test kernel: run 'make setup' or pass KDIR=<kernel build dir>" >&2; exit 1; }
	$(KMAKE) modules

clippy:
	@test -n "$(KDIR)" || { echo "no test kernel: run 'make setup'" >&2; exit 1; }
	$(KMAKE) CLIPPY=1 modules

# The module's crate and the host crate, with every module they declare
# (the generated bindings are include!d, so rustfmt leaves them alone).
RUSTFMT = rustfmt --edition 2021 --config-path .rustfmt.toml rust/dm_rcrypt.rs rust/host/src/lib.rs

fmt:
	$(RUSTFMT)

fmt-check:
	$(RUSTFMT) --check

# modules_install puts an external module under updates/ (INSTALL_MOD_DIR),
# where it wins over an in-tree module of the same name; depmod then makes
# it known to modprobe. INSTALL_MOD_PATH stages the tree under a directory.
install: module
	@test -n "$(KRELEASE)" || { echo "no kernel release in $(KDIR)" >&2; exit 1; }
	$(KMAKE) INSTALL_MOD_DIR=updates INSTALL_MOD_PATH=$(INSTALL_MOD_PATH) modules_install
	depmod $(if $(INSTALL_MOD_PATH),-b $(INSTALL_MOD_PATH)) -a $(KRELEASE)

setup:
	scripts/setup

demo:
	scripts/demo

check:
	scripts/check

stress:
	scripts/stress

bench:
	tools/perf/bench

icount:
	tools/perf/icount

profile:
	tools/perf/profile

cryptsetup-tests:
	tools/cryptsetup-tests/run

host-test:
	cd rust/host && cargo test --quiet

clean:
	@if [ -n "$(KDIR)" ]; then $(KMAKE) clean; fi
	rm -f rust/bindings_generated.rs
	rm -rf rust/host/target
