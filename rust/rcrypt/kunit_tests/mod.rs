// SPDX-License-Identifier: GPL-2.0

//! KUnit suite `rcrypt`: runs in the kernel when dm-rcrypt.ko is loaded.
//!
//! It checks the table parser with the kernel's own build of it
//! (`parse_tests`), the wiping of secrets (`secrets_tests`), the sector
//! cipher against the kernel crypto API (`cipher_tests`), the AEAD wrapper
//! (`aead_tests`), the IV generators
//! (`iv_tests`), the key gate (`gate_tests`), the write-buffer pool's cap
//! and the tag buffers (`page_pool_tests`). This file holds what they share and the case list.

use super::cipher::{SectorCipher, RUN_BATCH};
use super::iv_vectors;
use super::table::{self, IvMode, KeySource, KeySpec, ParseError, CRYPTO_MAX_ALG_NAME};
use super::xts_vectors as xv;
use super::Rcrypt;
use crate::bio::{PagePool, MAX_LARGE_ORDER};
use crate::bio::{PoolPage, TagPool, TestBio};
use crate::crypto::{Direction, ReqKind, RequestPool, Skcipher};
use crate::keys::SecretBytes;
use crate::kunit::Test;
use crate::kunit_expect;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use kernel::prelude::{KVec, EIO, GFP_KERNEL};

mod aead_tests;
mod cipher_tests;
mod gate_tests;
mod iv_tests;
mod page_pool_tests;
mod parse_tests;
mod secrets_tests;

use aead_tests::{aead_atomic_in_flight, aead_known_answers};
use cipher_tests::{
    batches_match_runs, page_runs_match_sectors, skcipher_wrapper, spread_sectors_match_runs,
    xts_ieee1619_vector_10, xts_ieee1619_vector_4,
};
use gate_tests::{rekey_gate, rekey_gate_hammer};
use iv_tests::{iv_generators, iv_keys_wipe_and_init, stateful_iv_known_answers};
use page_pool_tests::{page_pool_cap, tag_buffers};
use parse_tests::{
    iv_modes, key_forms, parse_invalid_tables, parse_late_stages, parse_valid_tables,
};
use secrets_tests::{key_argument_overwritten, secret_bytes_wipe, secret_bytes_zero_when_freed};

const KEY32: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

/// `ti->len` of the tables below: 64 MiB.
const LEN: u64 = 131072;

fn parse(line: &str) -> Result<table::Table<'_>, ParseError> {
    let mut args: [&str; 24] = [""; 24];
    let n = args
        .iter_mut()
        .zip(line.split_ascii_whitespace())
        .map(|(slot, word)| *slot = word)
        .count();
    table::parse_table(args.get(..n).unwrap_or(&[]), LEN)
}

fn api_name<'b>(t: &table::Table<'_>, buf: &'b mut [u8; CRYPTO_MAX_ALG_NAME]) -> &'b [u8] {
    t.crypto_api_name(buf).unwrap_or(b"<error>")
}

crate::kunit_suite!(
    "rcrypt",
    [
        parse_valid_tables,
        parse_invalid_tables,
        parse_late_stages,
        key_forms,
        iv_modes,
        secret_bytes_wipe,
        secret_bytes_zero_when_freed,
        key_argument_overwritten,
        skcipher_wrapper,
        aead_known_answers,
        aead_atomic_in_flight,
        xts_ieee1619_vector_4,
        xts_ieee1619_vector_10,
        page_runs_match_sectors,
        spread_sectors_match_runs,
        batches_match_runs,
        iv_generators,
        stateful_iv_known_answers,
        iv_keys_wipe_and_init,
        rekey_gate,
        rekey_gate_hammer,
        page_pool_cap,
        tag_buffers,
    ]
);
