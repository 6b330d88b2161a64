// SPDX-License-Identifier: GPL-2.0

//! Host-side tests of the pure parts of the dm-rcrypt kernel module.
//!
//! The kernel module's `table.rs` is compiled here unchanged, as a `core`-only module of a
//! `no_std` library (outside `cargo test`), with the kernel's lint set.

#![cfg_attr(not(test), no_std)]
#![warn(missing_docs, unreachable_pub, rust_2018_idioms, clippy::all)]
// The lints that find reachable panics, which the kernel crate denies
// (rust/dm_rcrypt.rs): denied here too for the shared files. The test
// modules are compiled only under `cargo test` and are not held to them.
#![cfg_attr(
    not(test),
    deny(
        clippy::arithmetic_side_effects,
        clippy::indexing_slicing,
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::integer_division
    )
)]

/// The dm-crypt table parser, shared with the kernel module.
// Outside tests nothing here uses the parser.
#[cfg_attr(not(test), allow(dead_code))]
#[path = "../../rcrypt/table.rs"]
mod table;

#[cfg(test)]
mod table_tests;

/// The IV generators without transforms, shared with the kernel module.
#[cfg_attr(not(test), allow(dead_code))]
#[path = "../../rcrypt/iv.rs"]
mod iv;

#[cfg(test)]
mod iv_tests;

/// The adaptive engine's path chooser, shared with the kernel module.
#[cfg_attr(not(test), allow(dead_code))]
#[path = "../../rcrypt/policy.rs"]
mod policy;

#[cfg(test)]
mod policy_tests;

/// The key gate, shared with the kernel module.
#[cfg_attr(not(test), allow(dead_code))]
#[path = "../../gate.rs"]
mod gate;

#[cfg(test)]
mod gate_tests;
