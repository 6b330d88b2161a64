// SPDX-License-Identifier: GPL-2.0

//! The key gate: lets request paths use a set of transforms and their IV
//! generator's key state while nobody changes them, and lets one re-key run
//! while nobody uses them.
//!
//! The gate is one word: a count of users in the low bits, [`CLOSED`] while a
//! re-key runs and [`NO_KEY`] while the transforms hold no valid key (after
//! `key wipe` or a failed `key set`). Its invariant, which holds after every
//! atomic step of any interleaving of [`Gate::enter`], [`Gate::leave`],
//! [`Gate::close`], [`Gate::open`] and [`Gate::forget_key`]:
//!
//! - the count is exactly the number of entries not yet left: `enter`
//!   increments it only with a compare-and-exchange from a word without
//!   `CLOSED` and `NO_KEY`, so a closed gate is never incremented and nothing
//!   ever needs to be undone;
//! - `CLOSED` is set only by `close`, from a word with no user, and cleared
//!   only by the `open` of the same re-key; while it is set the count stays 0,
//!   so a re-key never overlaps a user;
//! - while `NO_KEY` is set no `enter` succeeds: a device whose key was wiped
//!   fails its I/O instead of using the random key of the wipe, until a
//!   re-key opens the gate with a valid key.
//!
//! This file is pure `core` Rust, shared by the kernel module and the host
//! tests, which check the invariant under every interleaving of two and
//! three actors through [`Word`] (each of its calls a scheduling point).

use core::sync::atomic::{AtomicUsize, Ordering};

/// Bit of the gate's word set while a re-key runs.
pub(crate) const CLOSED: usize = 1 << (usize::BITS - 1);
/// Bit of the gate's word set while the transforms hold no valid key.
pub(crate) const NO_KEY: usize = 1 << (usize::BITS - 2);
/// The bits that count users.
pub(crate) const USERS: usize = NO_KEY - 1;

/// The atomic word under a [`Gate`]: [`AtomicUsize`] in the kernel; the host
/// tests put an explorer's scheduling point in front of every access.
pub(crate) trait Word {
    /// [`AtomicUsize::load`].
    fn load(&self, order: Ordering) -> usize;
    /// [`AtomicUsize::compare_exchange`].
    fn compare_exchange(
        &self,
        current: usize,
        new: usize,
        success: Ordering,
        failure: Ordering,
    ) -> Result<usize, usize>;
    /// [`AtomicUsize::fetch_sub`].
    fn fetch_sub(&self, val: usize, order: Ordering) -> usize;
    /// [`AtomicUsize::fetch_or`].
    fn fetch_or(&self, val: usize, order: Ordering) -> usize;
}

impl Word for AtomicUsize {
    #[inline(always)]
    fn load(&self, order: Ordering) -> usize {
        AtomicUsize::load(self, order)
    }

    #[inline(always)]
    fn compare_exchange(
        &self,
        current: usize,
        new: usize,
        success: Ordering,
        failure: Ordering,
    ) -> Result<usize, usize> {
        AtomicUsize::compare_exchange(self, current, new, success, failure)
    }

    #[inline(always)]
    fn fetch_sub(&self, val: usize, order: Ordering) -> usize {
        AtomicUsize::fetch_sub(self, val, order)
    }

    #[inline(always)]
    fn fetch_or(&self, val: usize, order: Ordering) -> usize {
        AtomicUsize::fetch_or(self, val, order)
    }
}

/// The gate; see the module documentation.
pub(crate) struct Gate<W: Word = AtomicUsize> {
    word: W,
}

impl Gate {
    /// An open gate with no user and a valid key.
    pub(crate) const fn new() -> Self {
        Gate {
            word: AtomicUsize::new(0),
        }
    }
}

impl<W: Word> Gate<W> {
    /// A gate on `word`, which holds an open gate's word (no user, not
    /// closed): for the host tests' explorer.
    #[allow(dead_code)]
    pub(crate) const fn on(word: W) -> Self {
        Gate { word }
    }

    /// Enters as a user: `false` (and nothing changed) while the gate is
    /// closed or the key is not valid. After `true` the caller must
    /// [`Self::leave`] exactly once.
    #[inline]
    pub(crate) fn enter(&self) -> bool {
        let mut cur = self.word.load(Ordering::Relaxed);
        loop {
            // The count cannot reach `USERS` (one entry per bio in flight),
            // but refusing there keeps it from ever touching the flags.
            // (With no flag set the word is the count.)
            let next = match cur.checked_add(1) {
                Some(next) if cur & (CLOSED | NO_KEY) == 0 && next <= USERS => next,
                _ => return false,
            };
            // Acquire: the user sees what the last re-key wrote before its
            // `open` (Release).
            match self
                .word
                .compare_exchange(cur, next, Ordering::Acquire, Ordering::Relaxed)
            {
                Ok(_) => return true,
                Err(now) => cur = now,
            }
        }
    }

    /// Leaves after a successful [`Self::enter`].
    #[inline]
    pub(crate) fn leave(&self) {
        // Release: the user's reads of the key state happen before a re-key
        // that sees the count drop to 0 (Acquire in `close`).
        self.word.fetch_sub(1, Ordering::Release);
    }

    /// Closes the gate for a re-key: `false` (and nothing changed) if a user
    /// is in or another re-key runs. After `true` the caller must
    /// [`Self::open`] exactly once.
    pub(crate) fn close(&self) -> bool {
        let mut cur = self.word.load(Ordering::Relaxed);
        loop {
            if cur & (CLOSED | USERS) != 0 {
                return false;
            }
            match self.word.compare_exchange(
                cur,
                cur | CLOSED,
                Ordering::Acquire,
                Ordering::Relaxed,
            ) {
                Ok(_) => return true,
                // Only `forget_key` can have changed the word meanwhile.
                Err(now) => cur = now,
            }
        }
    }

    /// Reopens the gate closed by [`Self::close`], with a valid key or not.
    pub(crate) fn open(&self, key_valid: bool) {
        let mut cur = self.word.load(Ordering::Relaxed);
        loop {
            // Closed, no user (nobody enters a closed gate): only the key
            // bit changes, by this call or by `forget_key`.
            let new = if key_valid {
                cur & !(CLOSED | NO_KEY)
            } else {
                (cur & !CLOSED) | NO_KEY
            };
            match self
                .word
                .compare_exchange(cur, new, Ordering::Release, Ordering::Relaxed)
            {
                Ok(_) => return,
                Err(now) => cur = now,
            }
        }
    }

    /// Marks the key not valid (a `key set` that failed before it reached
    /// the transforms): users that entered stay, later ones are refused
    /// until a re-key opens the gate with a valid key.
    pub(crate) fn forget_key(&self) {
        self.word.fetch_or(NO_KEY, Ordering::Relaxed);
    }

    /// Whether the gate lets users in now (a snapshot).
    #[allow(dead_code)]
    pub(crate) fn key_valid(&self) -> bool {
        self.word.load(Ordering::Relaxed) & NO_KEY == 0
    }

    /// The word (for the host tests' invariant checks).
    #[allow(dead_code)]
    pub(crate) fn word(&self) -> &W {
        &self.word
    }
}
