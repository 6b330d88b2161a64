// SPDX-License-Identifier: GPL-2.0

//! The transforms of a target and its IV generator's key state behind the
//! key gate ([`crate::gate`]): [`TfmSet`], used by request paths through
//! [`CipherUse`] and re-keyed through [`Rekey`].

use super::{Aead, Skcipher};
use crate::gate::Gate;
use core::cell::UnsafeCell;
use kernel::error::code::EINVAL;
use kernel::prelude::*;

/// The transforms of a target (skciphers, or one AEAD for an
/// `integrity:<bytes>:aead` table), an optional auxiliary transform of its
/// IV generator (elephant's `ecb(aes)`) and the generator's key state `S`,
/// behind a [`Gate`] that lets keys change only while no request uses them
/// (`key set` / `key wipe` while suspended) and refuses requests while the
/// key is not valid.
///
/// # Invariants
///
/// Each [`CipherUse`] holds one entry of `gate`; each [`Rekey`] holds the
/// gate closed (no user, see [`crate::gate`]). Keys are set and `state` is
/// written only through a [`Rekey`]; `state` is read only through a
/// [`CipherUse`].
pub(crate) struct TfmSet<S> {
    tfms: KVec<Skcipher>,
    aead: Option<Aead>,
    aux: Option<Skcipher>,
    state: UnsafeCell<S>,
    gate: Gate,
}

// SAFETY: `&TfmSet` reaches `state` only through a `CipherUse` (as `&S`,
// which may cross threads since `S: Sync`) or a `Rekey` (as `&mut S`, which
// may since `S: Send`), never both at once (type invariant); the gate is
// atomic and the transforms are `Sync`. The gate's Acquire entry and Release
// reopening order a re-key's writes before the next users' reads.
unsafe impl<S: Send + Sync> Sync for TfmSet<S> {}

/// Proof that the transforms of a [`TfmSet`] are in use by a request path.
///
/// # Invariants
///
/// Holds one entry of `set.gate`, left on drop.
pub(crate) struct CipherUse<'a, S> {
    set: &'a TfmSet<S>,
}

/// Exclusive access to the keys of a [`TfmSet`] while its gate is closed.
///
/// # Invariants
///
/// `set.gate` is closed by this re-key, with no user, while it lives.
pub(crate) struct Rekey<'a, S> {
    set: &'a TfmSet<S>,
    key_valid: bool,
}

impl<S> TfmSet<S> {
    /// Takes the transforms and the IV generator's key state.
    pub(crate) fn new(tfms: KVec<Skcipher>, state: S) -> Self {
        // INVARIANT: An open gate: no `CipherUse` or `Rekey` exists yet.
        Self {
            tfms,
            aead: None,
            aux: None,
            state: UnsafeCell::new(state),
            gate: Gate::new(),
        }
    }

    /// Takes the AEAD transform of an `integrity:<bytes>:aead` table (no
    /// skcipher) and the IV generator's key state.
    pub(crate) fn new_aead(aead: Aead, state: S) -> Self {
        // INVARIANT: An open gate: no `CipherUse` or `Rekey` exists yet.
        Self {
            tfms: KVec::new(),
            aead: Some(aead),
            aux: None,
            state: UnsafeCell::new(state),
            gate: Gate::new(),
        }
    }

    /// The AEAD transform of an AEAD set (its properties).
    pub(crate) fn aead(&self) -> Option<&Aead> {
        self.aead.as_ref()
    }

    /// The AEAD transform, to set its tag size (before the set is shared).
    pub(crate) fn aead_mut(&mut self) -> Option<&mut Aead> {
        self.aead.as_mut()
    }

    /// The IV generator's key state (before the set is shared).
    pub(crate) fn state_mut(&mut self) -> &mut S {
        self.state.get_mut()
    }

    /// Adds the IV generator's own transform (before the set is shared).
    pub(crate) fn set_aux(&mut self, aux: Skcipher) {
        self.aux = Some(aux);
    }

    /// Uses the transforms for I/O; `None` while their key changes (which
    /// only happens while the device is suspended, so never during I/O) or
    /// is not valid (wiped, or a `key set` failed).
    #[inline]
    pub(crate) fn enter(&self) -> Option<CipherUse<'_, S>> {
        // (Not `then_some`: it would build, and drop, a guard that leaves
        // the gate when the entry failed.)
        if self.gate.enter() {
            // INVARIANT: The entry succeeded; the guard leaves it on drop.
            Some(CipherUse { set: self })
        } else {
            None
        }
    }

    /// The first transform (they are all alike).
    pub(crate) fn first(&self) -> Option<&Skcipher> {
        self.tfms.first()
    }

    /// The largest request context of the transforms and the auxiliary one.
    pub(crate) fn max_reqsize(&self) -> usize {
        let aead = self.aead.as_ref().map_or(0, Aead::reqsize);
        Iterator::chain(self.tfms.iter(), self.aux.iter())
            .map(Skcipher::reqsize)
            .max()
            .unwrap_or(0)
            .max(aead)
    }

    /// Runs `f` with the gate closed: `f` may set keys and the key state,
    /// and says with [`Rekey::set_key_valid`] whether the gate reopens to
    /// requests (unchanged if it does not say). Fails with `EBUSY` (without
    /// running `f`) if a request path uses the transforms or another re-key
    /// runs.
    pub(crate) fn rekey<R>(&self, f: impl FnOnce(&mut Rekey<'_, S>) -> R) -> Result<R> {
        if !self.gate.close() {
            return Err(kernel::error::code::EBUSY);
        }
        // INVARIANT: The gate is closed with no user while `rk` lives.
        let mut rk = Rekey {
            set: self,
            key_valid: self.gate.key_valid(),
        };
        let r = f(&mut rk);
        self.gate.open(rk.key_valid);
        Ok(r)
    }

    /// Refuses requests until a re-key sets a valid key (a `key set` that
    /// failed before it reached the transforms).
    pub(crate) fn forget_key(&self) {
        self.gate.forget_key();
    }
}

impl<S> Rekey<'_, S> {
    /// Whether the transforms hold a valid key when the gate reopens.
    pub(crate) fn set_key_valid(&mut self, valid: bool) {
        self.key_valid = valid;
    }

    /// Number of skcipher transforms.
    pub(crate) fn count(&self) -> usize {
        self.set.tfms.len()
    }

    /// Whether the set is an AEAD transform's.
    pub(crate) fn has_aead(&self) -> bool {
        self.set.aead.is_some()
    }

    /// Sets the key of the AEAD transform (`EINVAL` if there is none).
    pub(crate) fn set_aead_key(&mut self, key: &[u8]) -> Result {
        let tfm = self.set.aead.as_ref().ok_or(EINVAL)?;
        // SAFETY: `set_key_unshared`'s contract: the gate is closed with no
        // user while this `Rekey` lives (type invariant), and requests use
        // the transforms only through a `CipherUse`, which holds an entry of
        // the gate: no request uses the transform during the call.
        unsafe { tfm.set_key_unshared(key) }
    }

    /// Sets the key of transform `i`.
    pub(crate) fn set_key(&mut self, i: usize, key: &[u8]) -> Result {
        let tfm = self.set.tfms.get(i).ok_or(EINVAL)?;
        // SAFETY: `set_key_unshared`'s contract: the gate is closed with no
        // user while this `Rekey` lives (type invariant), and requests use
        // the transforms only through a `CipherUse`, which holds an entry of
        // the gate: no request uses the transform during the call.
        unsafe { tfm.set_key_unshared(key) }
    }

    /// Sets the key of the auxiliary transform (`EINVAL` if there is none).
    pub(crate) fn set_aux_key(&mut self, key: &[u8]) -> Result {
        let tfm = self.set.aux.as_ref().ok_or(EINVAL)?;
        // SAFETY: `set_key_unshared`'s contract: the gate is closed with no
        // user while this `Rekey` lives (type invariant), and requests use
        // the transforms only through a `CipherUse`, which holds an entry of
        // the gate: no request uses the transform during the call.
        unsafe { tfm.set_key_unshared(key) }
    }

    /// The IV generator's key state.
    pub(crate) fn state(&mut self) -> &mut S {
        // SAFETY: `state` is reached only through a `CipherUse` or a `Rekey`
        // (type invariant of `TfmSet`): the gate is closed with no user while
        // this `Rekey` lives, so no `CipherUse` exists, and it is the only
        // `Rekey` (closing needs the gate open), borrowed mutably for as long
        // as the result.
        unsafe { &mut *self.set.state.get() }
    }
}

impl<S> CipherUse<'_, S> {
    /// Transform `i`.
    pub(crate) fn get(&self, i: usize) -> Option<&Skcipher> {
        self.set.tfms.get(i)
    }

    /// The AEAD transform of an AEAD set.
    pub(crate) fn aead(&self) -> Option<&Aead> {
        self.set.aead.as_ref()
    }

    /// The IV generator's own transform.
    pub(crate) fn aux(&self) -> Option<&Skcipher> {
        self.set.aux.as_ref()
    }

    /// The IV generator's key state.
    pub(crate) fn state(&self) -> &S {
        // SAFETY: `state` is written only through a `Rekey` (type invariant of
        // `TfmSet`), which needs the gate closed with no user: while this
        // `CipherUse` holds its entry, none exists, so nothing writes the
        // state while the result is borrowed.
        unsafe { &*self.set.state.get() }
    }
}

impl<S> Drop for CipherUse<'_, S> {
    fn drop(&mut self) {
        // The entry this guard holds (type invariant).
        self.set.gate.leave();
    }
}
