// SPDX-License-Identifier: GPL-2.0

//! Error codes the `kernel` crate of this kernel does not name.

use crate::bindings;
use kernel::error::Error;

/// An error code from `include/uapi/asm-generic/errno*.h`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Errno(u32);

impl From<Errno> for Error {
    fn from(e: Errno) -> Error {
        // Error numbers are small positive values: the negation never wraps.
        Error::from_errno((e.0 as i32).wrapping_neg())
    }
}

/// Operation not supported.
pub(crate) const EOPNOTSUPP: Errno = Errno(bindings::EOPNOTSUPP);
/// Key has been revoked.
pub(crate) const EKEYREVOKED: Errno = Errno(bindings::EKEYREVOKED);
/// Bad message: an AEAD tag that does not verify.
pub(crate) const EBADMSG: Errno = Errno(bindings::EBADMSG);
