// SPDX-License-Identifier: GPL-2.0

//! dm-rcrypt: the device-mapper target `rcrypt`, a Rust counterpart of the C
//! `crypt` target (`drivers/md/dm-crypt.c`, target version 1.28.0).
//!
//! Layout:
//! - [`bindings`]: the module's own bindgen output (device-mapper, crypto, keys, KUnit).
//! - [`dm`], [`bio`], [`blkdev`], [`crypto`], [`keys`], [`kthread`], [`sync`], [`wq`], [`kunit`]:
//!   thin safe wrappers holding all `unsafe` code.
//! - [`rcrypt`]: the target itself, safe Rust that reads side by side with dm-crypt.c.

#![deny(clippy::undocumented_unsafe_blocks)]
// A panic in the kernel is an oops: the lints that find reachable panics.
// (The host crate's root denies the same list for the files it shares.)
#![deny(
    clippy::arithmetic_side_effects,
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::integer_division
)]

mod bindings;
mod bio;
mod blkdev;
mod crypto;
mod dm;
mod errno;
mod gate;
mod keys;
mod kthread;
#[cfg(CONFIG_KUNIT)]
mod kunit;
mod params;
mod rcrypt;
mod sync;
mod wq;

use kernel::prelude::*;

module! {
    type: RcryptModule,
    name: "dm_rcrypt",
    author: "dm-rcrypt developers",
    description: "device-mapper target rcrypt: a Rust counterpart of dm-crypt",
    license: "GPL",
}

struct RcryptModule {
    /// The target type, registered as `rcrypt`, or as `crypt` alone with
    /// `crypt_alias=1` (drop-in mode: the system looks as it does with
    /// dm-crypt; scripts that look for "crypt" in `dmsetup targets`, as
    /// cryptsetup's own tests do, find one line).
    _target: Pin<KBox<dm::Registration<rcrypt::Rcrypt>>>,
}

impl kernel::Module for RcryptModule {
    fn init(module: &'static ThisModule) -> Result<Self> {
        let alias = params::crypt_alias();
        let name = if alias {
            rcrypt::ALIAS_NAME
        } else {
            rcrypt::TARGET_NAME
        };
        let target = match dm::Registration::<rcrypt::Rcrypt>::register(
            name,
            rcrypt::TARGET_VERSION,
            rcrypt::TARGET_FEATURES,
            module,
        ) {
            Ok(target) => target,
            Err(e) if alias => {
                pr_err!(
                    "rcrypt: crypt_alias=1: cannot register the target crypt ({:?}); \
                     is dm-crypt loaded or built in?\n",
                    e
                );
                return Err(e);
            }
            Err(e) => return Err(e),
        };
        if alias {
            pr_info!("rcrypt target registered as crypt (crypt_alias=1, version 1.28.0)\n");
        } else {
            pr_info!("rcrypt target registered (version 1.28.0)\n");
        }
        Ok(Self { _target: target })
    }
}
