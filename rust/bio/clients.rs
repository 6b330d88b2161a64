// SPDX-License-Identifier: GPL-2.0

//! The cap on write-buffer pages that all page pools share: dm-crypt's
//! `dm_crypt_clients_n` and `dm_crypt_pages_per_client`
//! (`crypt_calculate_pages_per_client`), kept in one atomic word.

use crate::bindings;
use core::sync::atomic::{AtomicU64, Ordering};

/// dm-crypt's `DM_CRYPT_MEMORY_PERCENT`: the write buffers of all rcrypt
/// targets together may hold this share of low memory, in percent.
const MEMORY_PERCENT: u64 = 2;

/// dm-crypt's `DM_CRYPT_MIN_PAGES_PER_CLIENT` (`BIO_MAX_VECS * 16`): the
/// least cap of one pool, however many there are.
const MIN_PAGES_PER_CLIENT: u64 = (bindings::RCRYPT_BIO_MAX_VECS as u64) << 4;

/// Bits of [`Clients`]' word below the count of clients: the cap.
const CAP_BITS: u32 = 40;

/// The largest cap [`Clients`] holds, in pages (`2^40`, 4 PiB of 4 KiB
/// pages, far above 2% of any memory; a larger result is saturated).
const CAP_MAX: u64 = (1 << CAP_BITS) - 1;

/// The most clients [`Clients`] counts (`2^24 - 1`, above the number of
/// device-mapper devices there can be; a pool beyond it is refused).
const CLIENTS_MAX: u64 = u64::MAX >> CAP_BITS;

/// The page pools of all rcrypt targets (dm-crypt's "clients") and the cap
/// each may hold: dm-crypt's `dm_crypt_clients_n` and
/// `dm_crypt_pages_per_client`, which it changes together under
/// `dm_crypt_clients_lock` and reads without it.
///
/// Here both live in one atomic word, the count above [`CAP_BITS`] and the
/// cap below, and a pool comes or goes with one compare-exchange of the word
/// that puts the new count and the cap computed for it
/// (`crypt_calculate_pages_per_client`) in place at once. The updates are
/// thereby serialised as the spinlock serialises dm-crypt's: each one is a
/// read-modify-write of the one word and computes from the value it
/// replaces, so however pools come and go concurrently, the word ends as
/// the last update left it, with the cap computed for the count it holds;
/// no update can be lost or overwrite a later one with a stale cap.
///
/// Memory ordering: `Relaxed` throughout. The word publishes no other
/// memory: a reader compares the cap, as a number, with its own pool's
/// count, as dm-crypt reads its `volatile` without a barrier; updates need
/// no order among themselves beyond the word's own modification order,
/// which every atomic operation on it respects whatever its ordering.
///
/// # Invariants
///
/// The cap is [`pages_per_client`] of the count as the last update that
/// left a count above zero computed it (dm-crypt keeps its value when the
/// count drops to zero), or [`MIN_PAGES_PER_CLIENT`] before any.
pub(super) struct Clients(AtomicU64);

/// The pools of all rcrypt targets, and their cap.
pub(super) static CLIENTS: Clients = Clients(AtomicU64::new(MIN_PAGES_PER_CLIENT));

/// `crypt_calculate_pages_per_client()` for `clients` pools (at least one):
/// [`MEMORY_PERCENT`] of low memory divided among them, at least
/// [`MIN_PAGES_PER_CLIENT`] each.
fn pages_per_client(clients: u64) -> u64 {
    // SAFETY: `totalram_pages` and `totalhigh_pages` have no preconditions:
    // they read global counters.
    let (ram, high) = unsafe {
        (
            bindings::rcrypt_totalram_pages(),
            bindings::rcrypt_totalhigh_pages(),
        )
    };
    // (`unsigned long` is 64 bits wide on the 64-bit architectures Rust
    // supports in 6.12.)
    let low = ram.saturating_sub(high) as u64;
    let share = low
        .saturating_mul(MEMORY_PERCENT)
        .checked_div(100)
        .unwrap_or(0);
    share
        .checked_div(clients)
        .unwrap_or(share)
        .clamp(MIN_PAGES_PER_CLIENT, CAP_MAX)
}

impl Clients {
    /// The cap in force now, in pages.
    pub(super) fn cap(&self) -> u64 {
        self.0.load(Ordering::Relaxed) & CAP_MAX
    }

    /// Counts one pool more (`add`) or one less, as `crypt_ctr()` and
    /// `crypt_dtr()` do, and recomputes the cap; false, and nothing
    /// changed, if the count would leave `0..=CLIENTS_MAX`.
    pub(super) fn update(&self, add: bool) -> bool {
        self.0
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |word| {
                let n = word >> CAP_BITS;
                let n = if add {
                    n.checked_add(1).filter(|&n| n <= CLIENTS_MAX)?
                } else {
                    n.checked_sub(1)?
                };
                // INVARIANT: The cap computed for the new count, or kept
                // when the count drops to zero.
                let cap = if n == 0 {
                    word & CAP_MAX
                } else {
                    pages_per_client(n)
                };
                Some(n << CAP_BITS | cap)
            })
            .is_ok()
    }
}
