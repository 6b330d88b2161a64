// SPDX-License-Identifier: GPL-2.0

//! The AEAD wrapper (`crate::crypto::Aead`, `Request::aead_crypt`) against
//! known answers computed outside the kernel (OpenSSL's AES-GCM, AES-XTS
//! and HMAC-SHA256) for dm-crypt's layout of a sector: associated data =
//! the sector number (little-endian) and the IV, then the data, then the tag.

use super::*;
use crate::bindings;
use crate::crypto::{authenc_key, authenc_key_size, Aead, AtomicArea, InFlight};
use kernel::error::code::EINVAL;

/// The plaintext of the vectors: byte `i` is `7 i + 3`.
fn plaintext() -> [u8; 512] {
    let mut p = [0u8; 512];
    for (i, b) in p.iter_mut().enumerate() {
        *b = (i as u8).wrapping_mul(7).wrapping_add(3);
    }
    p
}

/// One AEAD vector: sector 5, 512 bytes of [`plaintext`].
struct Vector {
    name: &'static CStr,
    /// The dm-crypt key (for `authenc`, encryption key then MAC key).
    key: &'static [u8],
    /// MAC key bytes at the end of `key` (`authenc` only).
    mac_len: usize,
    iv: &'static [u8],
    tag_len: u32,
    /// Ciphertext bytes 0..16 and 496..512, and the tag.
    ct_head: [u8; 16],
    ct_tail: [u8; 16],
    tag: &'static [u8],
}

use core::ffi::CStr;

const GCM_KEY: [u8; 16] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15];
const GCM_IV: [u8; 12] = [
    0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xab,
];
/// Bytes 0 to 95: the XTS key (64 bytes), then the HMAC key (32).
const AUTHENC_KEY: [u8; 96] = *b"\
\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\
\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f\
\x20\x21\x22\x23\x24\x25\x26\x27\x28\x29\x2a\x2b\x2c\x2d\x2e\x2f\
\x30\x31\x32\x33\x34\x35\x36\x37\x38\x39\x3a\x3b\x3c\x3d\x3e\x3f\
\x40\x41\x42\x43\x44\x45\x46\x47\x48\x49\x4a\x4b\x4c\x4d\x4e\x4f\
\x50\x51\x52\x53\x54\x55\x56\x57\x58\x59\x5a\x5b\x5c\x5d\x5e\x5f";
const AUTHENC_IV: [u8; 16] = [
    0xb0, 0xb1, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xbb, 0xbc, 0xbd, 0xbe, 0xbf,
];

const VECTORS: [Vector; 2] = [
    Vector {
        name: c"gcm(aes)",
        key: &GCM_KEY,
        mac_len: 0,
        iv: &GCM_IV,
        tag_len: 16,
        ct_head: *b"\xa9\x8c\x29\xa3\x61\xaf\x1e\x3e\xb1\x3a\xfc\x50\x11\x4c\xd5\x0c",
        ct_tail: *b"\x04\xe8\xde\xf5\xcc\xa7\x6f\x05\xde\x86\x24\xa2\x78\x85\xc3\xc5",
        tag: b"\xc9\x4e\x1b\x45\xaf\x3a\xfd\xcb\xe1\x33\xff\x28\xb2\x8a\x83\x1d",
    },
    Vector {
        name: c"authenc(hmac(sha256),xts(aes))",
        key: &AUTHENC_KEY,
        mac_len: 32,
        iv: &AUTHENC_IV,
        tag_len: 32,
        ct_head: *b"\xc9\x41\xfa\xe6\xde\xc0\xcd\x42\xfd\x13\x37\xa2\x27\x3d\x6f\xf9",
        ct_tail: *b"\x97\x69\xec\xec\x11\x1d\x7d\xd3\x0e\x8b\x9c\x78\x9e\xaa\x36\xa7",
        tag: b"\x4f\x09\xa7\x76\xb7\xb4\xda\xa8\x92\x29\x69\x33\xcd\x4d\x3c\xaf\
\xa3\x61\xa9\x05\x45\x63\xd4\x88\x04\x84\x4e\x08\x1f\x1f\xac\xf8",
    },
];

const SECTOR: u64 = 5;

/// Encrypts, decrypts and tampers with one sector of each vector through
/// `Request::aead_crypt`: the ciphertext and tag match the known answer,
/// decryption gives the plaintext back, and a flipped byte of ciphertext or
/// tag, or another sector number, fails with `EBADMSG` (dm-crypt's
/// integrity error).
pub(super) fn aead_known_answers(test: &mut Test) {
    for v in &VECTORS {
        aead_vector(test, v);
    }
}

fn aead_vector(test: &mut Test, v: &Vector) {
    let name = v.name.to_str().unwrap_or("?");
    let mut tfm = match Aead::new(v.name, 0, 0) {
        Ok(t) => t,
        Err(e) => return kunit_expect!(test, false, "{}: allocation: {:?}", name, e),
    };
    kunit_expect!(
        test,
        tfm.iv_size() == v.iv.len(),
        "{}: ivsize {}",
        name,
        tfm.iv_size()
    );
    kunit_expect!(
        test,
        tfm.set_authsize(v.tag_len).is_ok(),
        "{}: authsize",
        name
    );
    kunit_expect!(test, tfm.auth_size() == v.tag_len as usize);
    let key_ok = if v.mac_len == 0 {
        tfm.set_key(v.key).is_ok()
    } else {
        let mut k = [0u8; 128];
        let n = v
            .key
            .len()
            .checked_sub(v.mac_len)
            .and_then(|enc| authenc_key_size(enc, v.mac_len))
            .unwrap_or(0);
        match k.get_mut(..n) {
            Some(k) => authenc_key(v.key, v.mac_len, k).is_ok() && tfm.set_key(k).is_ok(),
            None => false,
        }
    };
    kunit_expect!(test, key_ok, "{}: key", name);
    let (Ok(pages), Ok(reqs), Ok(mut tag)) = (
        PagePool::new(1),
        RequestPool::new(ReqKind::Aead, 1, tfm.reqsize(), v.iv.len(), 0, 0),
        KVec::from_elem(0u8, v.tag_len as usize, GFP_KERNEL),
    ) else {
        return kunit_expect!(test, false, "{}: pools", name);
    };
    let Some(mut page) = pages.alloc() else {
        return kunit_expect!(test, false, "{}: page", name);
    };
    let Ok(mut req) = reqs.alloc() else {
        pages.free(page);
        return kunit_expect!(test, false, "{}: request", name);
    };
    let pt = plaintext();
    let mut out = [0u8; 512];
    let run = |req: &mut crate::crypto::Request<'_>,
               page: &PoolPage,
               tag: &mut [u8],
               dir: Direction,
               sector: u64| {
        req.iv_mut().copy_from_slice(v.iv);
        req.aead_crypt(&tfm, dir, sector, page.at(0), page.at(0), 512, tag)
    };

    kunit_expect!(test, page.write(0, &pt));
    let r = run(&mut req, &page, &mut tag, Direction::Encrypt, SECTOR);
    kunit_expect!(test, r.is_ok(), "{}: encryption: {:?}", name, r);
    kunit_expect!(test, page.read(0, &mut out));
    kunit_expect!(
        test,
        out.get(..16) == Some(&v.ct_head[..]) && out.get(496..) == Some(&v.ct_tail[..]),
        "{}: ciphertext differs",
        name
    );
    kunit_expect!(test, *tag == *v.tag, "{}: tag differs", name);

    let r = run(&mut req, &page, &mut tag, Direction::Decrypt, SECTOR);
    kunit_expect!(
        test,
        r.is_ok() && page.read(0, &mut out) && out == pt,
        "{}: decryption",
        name
    );

    // Tampering: each case starts from a fresh encryption.
    let ebadmsg = kernel::error::Error::from(crate::errno::EBADMSG);
    for case in 0..3 {
        kunit_expect!(test, page.write(0, &pt));
        if run(&mut req, &page, &mut tag, Direction::Encrypt, SECTOR).is_err() {
            kunit_expect!(test, false, "{}: encryption {}", name, case);
            continue;
        }
        let mut sector = SECTOR;
        match case {
            0 => {
                let mut b = [0u8; 1];
                kunit_expect!(test, page.read(100, &mut b) && page.write(100, &[b[0] ^ 1]));
            }
            1 => {
                if let Some(t) = tag.last_mut() {
                    *t ^= 0x80;
                }
            }
            _ => sector = SECTOR.wrapping_add(1),
        }
        let r = run(&mut req, &page, &mut tag, Direction::Decrypt, sector);
        kunit_expect!(
            test,
            r == Err(ebadmsg),
            "{}: tamper case {} gave {:?}, not EBADMSG",
            name,
            case,
            r
        );
    }

    // A request of the wrong kind, or a short tag, is refused.
    let encrypt = |req: &mut crate::crypto::Request<'_>, tag: &mut [u8]| {
        req.aead_crypt(
            &tfm,
            Direction::Encrypt,
            SECTOR,
            page.at(0),
            page.at(0),
            512,
            tag,
        )
    };
    if let Ok(sk_reqs) = RequestPool::new(ReqKind::Skcipher, 1, tfm.reqsize(), v.iv.len(), 0, 0) {
        if let Ok(mut sk_req) = sk_reqs.alloc() {
            let r = encrypt(&mut sk_req, &mut tag);
            kunit_expect!(test, r.is_err(), "{}: skcipher request accepted", name);
        }
    }
    if let Ok(mut short) = KVec::from_elem(0u8, (v.tag_len as usize).saturating_sub(1), GFP_KERNEL)
    {
        req.iv_mut().copy_from_slice(v.iv);
        let r = encrypt(&mut req, &mut short);
        kunit_expect!(test, r.is_err(), "{}: short tag accepted", name);
    }
    drop(req);
    pages.free(page);
}

/// A request that may not wait (`RequestPool::get_atomic`) with a transform
/// that always queues (`cryptd` over AES-GCM, named by its driver name: a
/// `cryptd` instance takes the name of what it wraps): a decryption is left
/// in flight and recorded, the request is spent (its IV buffer is empty, a
/// second operation fails), and once the record is settled the page holds
/// the plaintext and the area serves a request again. (The area is not
/// borrowed again while the operation writes into it.)
pub(super) fn aead_atomic_in_flight(test: &mut Test) {
    let v = &VECTORS[0];
    let mut tfm = match Aead::new(c"cryptd(gcm_base(ctr(aes-generic),ghash-generic))", 0, 0) {
        Ok(t) => t,
        Err(e) => return kunit_expect!(test, false, "cryptd(gcm_base(...)): {:?}", e),
    };
    kunit_expect!(
        test,
        tfm.set_authsize(v.tag_len).is_ok() && tfm.set_key(v.key).is_ok()
    );
    let size = RequestPool::element_size(ReqKind::Aead, tfm.reqsize(), v.iv.len(), 0, 0);
    let (Ok(pages), Ok(reqs), Ok(mut tag), Ok(mut area)) = (
        PagePool::new(1),
        RequestPool::new(ReqKind::Aead, 1, tfm.reqsize(), v.iv.len(), 0, 0),
        KVec::from_elem(0u8, v.tag_len as usize, GFP_KERNEL),
        KVec::from_elem(core::mem::MaybeUninit::<u8>::uninit(), size, GFP_KERNEL),
    ) else {
        return kunit_expect!(test, false, "cryptd: pools");
    };
    let Some(mut page) = pages.alloc() else {
        return kunit_expect!(test, false, "cryptd: page");
    };
    let pt = plaintext();
    let mut out = [0u8; 512];
    kunit_expect!(test, page.write(0, &pt));
    // One sector in place with the vector's IV (a spent request has no IV
    // buffer), `tag` the tag.
    let run = |req: &mut crate::crypto::Request<'_>, tag: &mut [u8], dir: Direction| {
        if let Some(iv) = req.iv_mut().get_mut(..v.iv.len()) {
            iv.copy_from_slice(v.iv);
        }
        req.aead_crypt(&tfm, dir, SECTOR, page.at(0), page.at(0), 512, tag)
    };
    // Encrypted where waiting is allowed: the known answer.
    let r = match reqs.get(&mut area[..]) {
        Ok(mut req) => run(&mut req, &mut tag, Direction::Encrypt),
        Err(e) => Err(e),
    };
    kunit_expect!(
        test,
        r.is_ok() && page.read(0, &mut out) && out.get(..16) == Some(&v.ct_head[..]),
        "cryptd: encryption {:?}",
        r
    );
    kunit_expect!(test, *tag == *v.tag, "cryptd: tag differs");
    let in_flight = InFlight::new();
    {
        // SAFETY: The record is settled below, before the area, the page or
        // the transform are used again or freed; no other record serves
        // the area.
        #[allow(unsafe_code)]
        let atomic = unsafe { AtomicArea::new(&mut area[..], &in_flight) };
        let Ok(mut req) = reqs.get_atomic(atomic) else {
            pages.free(page);
            return kunit_expect!(test, false, "cryptd: atomic request");
        };
        let mut decrypt =
            |req: &mut crate::crypto::Request<'_>| run(req, &mut tag, Direction::Decrypt);
        let r = decrypt(&mut req);
        let in_progress =
            kernel::error::Error::from_errno((bindings::EINPROGRESS as i32).wrapping_neg());
        kunit_expect!(
            test,
            r == Err(in_progress) && in_flight.is_set(),
            "cryptd: decryption not left in flight: {:?}",
            r
        );
        kunit_expect!(
            test,
            req.iv_mut().is_empty(),
            "cryptd: spent request has an IV buffer"
        );
        let r = decrypt(&mut req);
        kunit_expect!(test, r == Err(EINVAL), "cryptd: spent request ran: {:?}", r);
    }
    let r = in_flight.settle();
    kunit_expect!(
        test,
        r.is_ok(),
        "cryptd: the decryption left in flight failed: {:?}",
        r
    );
    kunit_expect!(test, !in_flight.is_set());
    kunit_expect!(
        test,
        page.read(0, &mut out) && out == pt,
        "cryptd: the decryption left in flight did not give the plaintext"
    );
    kunit_expect!(
        test,
        reqs.get(&mut area[..]).is_ok(),
        "cryptd: area not served again"
    );
    pages.free(page);
}
