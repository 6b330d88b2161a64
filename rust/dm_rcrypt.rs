// SPDX-License-Identifier: GPL-2.0

//! dm-rcrypt: the device-mapper target `rcrypt`, a Rust counterpart of the C
//! `crypt` target (`drivers/md/dm-crypt.c`, target version 1.28.0).
//!
//! Layout:
//! - [`bindings`]: the module's own bindgen output (device-mapper, crypto, keys, KUnit).
//! - [`dm`], [`bio`], [`crypto`], [`kunit`]: thin safe wrappers holding all `unsafe` code.
//! - [`rcrypt`]: the target itself, safe Rust that reads side by side with dm-crypt.c.

#![deny(clippy::undocumented_unsafe_blocks)]

mod bindings;
mod bio;
mod crypto;
mod dm;
mod errno;
mod gate;
mod keys;
#[cfg(CONFIG_KUNIT)]
mod kunit;
mod params;
mod rcrypt;
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
}

impl kernel::Module for RcryptModule {
    fn init(module: &'static ThisModule) -> Result<Self> {
        let target = dm::Registration::<rcrypt::Rcrypt>::register(
            rcrypt::TARGET_NAME,
            rcrypt::TARGET_VERSION,
            rcrypt::TARGET_FEATURES,
            module,
        )?;
        pr_info!("rcrypt target registered (version 1.28.0)\n");
        Ok(Self { _target: target })
    }
}
