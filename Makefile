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
#   make clean

export PATH := $(HOME)/.cargo/bin:$(PATH)
KDIR ?= $(shell scripts/kernel-dir debug 2>/dev/null)
KMAKE = $(MAKE) -C $(KDIR) M=$(CURDIR) LLVM=1

.PHONY: all module setup check stress bench icount profile cryptsetup-tests host-test clippy fmt fmt-check clean

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

setup:
	scripts/setup

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
