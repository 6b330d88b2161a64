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
    _target: Pin<KBox<dm::Registration<rcrypt::Rcrypt>>>,
    /// The same target type under the name `crypt` (`crypt_alias=1`).
    _alias: Option<Pin<KBox<dm::Registration<rcrypt::Rcrypt>>>>,
}

impl kernel::Module for RcryptModule {
    fn init(module: &'static ThisModule) -> Result<Self> {
        let target = dm::Registration::<rcrypt::Rcrypt>::register(
            rcrypt::TARGET_NAME,
            rcrypt::TARGET_VERSION,
            rcrypt::TARGET_FEATURES,
            module,
        )?;
        let alias = if params::crypt_alias() {
            // On failure `target` is dropped, and so unregistered: nothing
            // stays half-registered.
            match dm::Registration::<rcrypt::Rcrypt>::register(
                rcrypt::ALIAS_NAME,
                rcrypt::TARGET_VERSION,
                rcrypt::TARGET_FEATURES,
                module,
            ) {
                Ok(alias) => Some(alias),
                Err(e) => {
                    pr_err!(
                        "rcrypt: crypt_alias=1: cannot register the target crypt ({:?}); \
                         is dm-crypt loaded or built in?\n",
                        e
                    );
                    return Err(e);
                }
            }
        } else {
            None
        };
        match alias {
            Some(_) => pr_info!("rcrypt target registered as rcrypt and crypt (version 1.28.0)\n"),
            None => pr_info!("rcrypt target registered (version 1.28.0)\n"),
        }
        Ok(Self {
            _target: target,
            _alias: alias,
        })
    }
}
