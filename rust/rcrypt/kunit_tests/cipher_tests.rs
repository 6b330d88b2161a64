// SPDX-License-Identifier: GPL-2.0

//! The sector cipher against the kernel crypto API: the skcipher wrapper, known answers per block and per page run, IEEE 1619 XTS vectors.

use super::*;

pub(super) fn skcipher_wrapper(test: &mut Test) {
    match Skcipher::new(c"xts(aes)", 0, 0) {
        Ok(mut tfm) => {
            kunit_expect!(
                test,
                tfm.iv_size() == 16,
                "xts(aes) ivsize {}",
                tfm.iv_size()
            );
            kunit_expect!(test, tfm.block_size() == 16);
            let mut key = [0u8; 32];
            key.iter_mut().enumerate().for_each(|(i, b)| *b = i as u8);
            kunit_expect!(test, tfm.set_key(&key).is_ok());
            kunit_expect!(
                test,
                tfm.set_key(&key[..7]).is_err(),
                "7-byte xts key accepted"
            );
        }
        Err(e) => kunit_expect!(test, false, "xts(aes) allocation failed: {:?}", e),
    }
    kunit_expect!(test, Skcipher::new(c"nosuchmode(aes)", 0, 0).is_err());
}

/// Builds the sector cipher of `cipher` with `key` and the optional
/// parameters `opts` the way the constructor does (stages 1 to 6). Returns
/// it with its IV size and scratch size.
pub(super) fn sector_cipher(
    cipher: &str,
    key: &[u8],
    opts: &[&str],
) -> Result<(SectorCipher, u32, usize), &'static str> {
    let mut hex = [0u8; 2 * 1040];
    let digits = b"0123456789abcdef";
    let digit = |v: u8| digits.get(usize::from(v)).copied().ok_or("hex digit");
    // (Iterators, not chunks: objtool does not know the division panic of
    // their length as a function that does not return.)
    let mut out = hex.iter_mut();
    for &b in key {
        for v in [b >> 4, b & 15] {
            *out.next().ok_or("key too long")? = digit(v)?;
        }
    }
    let hex_len = key.len().checked_mul(2).ok_or("key too long")?;
    let hex = core::str::from_utf8(hex.get(..hex_len).ok_or("key too long")?).map_err(|_| "hex")?;
    let mut args: [&str; 12] = [
        cipher,
        hex,
        "0",
        "/dev/null",
        "0",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
    ];
    let mut argc = 5;
    let mut count = [0u8; 1];
    if !opts.is_empty() {
        count[0] = *b"0123456789".get(opts.len()).ok_or("too many options")?;
        args[5] = core::str::from_utf8(&count).map_err(|_| "count")?;
        for (slot, o) in args.iter_mut().skip(6).zip(opts) {
            *slot = o;
        }
        argc = opts.len().checked_add(6).ok_or("too many options")?;
    }
    let t =
        table::parse_table(args.get(..argc).ok_or("too many options")?, 8).map_err(|_| "parse")?;
    let mut tfms = Rcrypt::alloc_tfms(&t).map_err(|_| "tfm allocation")?;
    let ivsize = tfms.first().map(|t| t.iv_size() as u32).ok_or("no tfm")?;
    let block_size = tfms
        .first()
        .map(|t| t.block_size() as u32)
        .ok_or("no tfm")?;
    let setup = t.iv_setup(ivsize).map_err(|_| "iv setup")?;
    let key = Rcrypt::set_key(&t, &setup, &tfms).map_err(|_| "set key")?;
    let iv_ctr =
        Rcrypt::iv_ctr_init(&t, &setup, block_size, &key, &mut tfms).map_err(|_| "iv ctr/init")?;
    let o = &t.options;
    Ok((
        SectorCipher::new(tfms, &setup, &iv_ctr, o),
        setup.iv_size,
        SectorCipher::scratch_len(setup.mode, o.sector_size),
    ))
}

/// One 512-byte sector through `SectorCipher::crypt_block` (the path every
/// bio takes), both ways, against a known answer.
pub(super) fn check_sector(
    test: &mut Test,
    name: &str,
    cipher: &str,
    key: &[u8],
    sector: u64,
    ptext: &[u8; 512],
    ctext: &[u8; 512],
) {
    check_block(test, name, cipher, key, &[], sector, ptext, ctext)
}

/// One `sector_size` block (the length of `ptext`) of a table with optional
/// parameters `opts` through `SectorCipher::crypt_block`, both ways.
#[allow(clippy::too_many_arguments)]
pub(super) fn check_block(
    test: &mut Test,
    name: &str,
    cipher: &str,
    key: &[u8],
    opts: &[&str],
    sector: u64,
    ptext: &[u8],
    ctext: &[u8],
) {
    let (sc, iv_size, scratch) = match sector_cipher(cipher, key, opts) {
        Ok(v) => v,
        Err(e) => return kunit_expect!(test, false, "{}: {}", name, e),
    };
    let Ok(pages) = PagePool::new(1) else {
        return kunit_expect!(test, false, "{}: page pool", name);
    };
    let Ok(reqs) = RequestPool::new(
        ReqKind::Skcipher,
        1,
        sc.tfms.max_reqsize(),
        iv_size as usize,
        scratch,
        0,
    ) else {
        return kunit_expect!(test, false, "{}: request pool", name);
    };
    let Some(mut page) = pages.alloc() else {
        return kunit_expect!(test, false, "{}: allocation", name);
    };
    // The request both from the pool and laid out in a caller's area (a
    // bio's per-bio data); an area one byte short falls back to the pool.
    let size = RequestPool::element_size(
        ReqKind::Skcipher,
        sc.tfms.max_reqsize(),
        iv_size as usize,
        scratch,
        0,
    );
    let Some(short) = size.checked_sub(1) else {
        return kunit_expect!(test, false, "{}: empty request", name);
    };
    let Ok(mut area) = KVec::from_elem(core::mem::MaybeUninit::<u8>::uninit(), size, GFP_KERNEL)
    else {
        return kunit_expect!(test, false, "{}: area", name);
    };
    for placed in [false, true] {
        let req = if placed {
            Some(&mut area[..])
        } else {
            area.get_mut(..short)
        }
        .map(|a| reqs.get(a));
        let Some(Ok(mut req)) = req else {
            return kunit_expect!(test, false, "{}: request", name);
        };
        kunit_expect!(
            test,
            req.in_area() == placed,
            "{}: request placed in the area: {}",
            name,
            req.in_area()
        );
        let mut buf = [0u8; 4096];
        let Some(out) = buf.get_mut(..ptext.len()) else {
            return kunit_expect!(test, false, "{}: block too large", name);
        };
        kunit_expect!(test, page.write(0, ptext));
        let Some(tfms) = sc.tfms.enter() else {
            return kunit_expect!(test, false, "{}: transforms busy", name);
        };
        let r = sc.crypt_block(
            &tfms,
            &mut req,
            Direction::Encrypt,
            sector,
            page.at(0),
            page.at(0),
        );
        kunit_expect!(
            test,
            r.is_ok() && page.read(0, out) && *out == *ctext,
            "{}: encryption differs",
            name
        );
        let r = sc.crypt_block(
            &tfms,
            &mut req,
            Direction::Decrypt,
            sector,
            page.at(0),
            page.at(0),
        );
        kunit_expect!(
            test,
            r.is_ok() && page.read(0, out) && *out == *ptext,
            "{}: decryption differs",
            name
        );
    }
    pages.free(page);
}

/// [`sector_cipher`] of a case with the first bytes of its key (`None`:
/// the key is too short), the failure recorded.
fn case_cipher(
    test: &mut Test,
    cipher: &str,
    key: Option<&[u8]>,
    opts: &[&str],
) -> Option<(SectorCipher, u32, usize)> {
    let Some(key) = key else {
        kunit_expect!(test, false, "{}: key too long", cipher);
        return None;
    };
    match sector_cipher(cipher, key, opts) {
        Ok(v) => Some(v),
        Err(e) => {
            kunit_expect!(test, false, "{}: {}", cipher, e);
            None
        }
    }
}

/// Three page-sized buffers: plaintext whose byte `i` is
/// `i * mul + i / 512` mod 256 (each 512-byte sector different), and two
/// of zeroes.
fn page_buffers(mul: u8) -> Option<(KVec<u8>, KVec<u8>, KVec<u8>)> {
    let mut plain = KVec::from_elem(0u8, 4096, GFP_KERNEL).ok()?;
    for (i, p) in plain.iter_mut().enumerate() {
        *p = (i as u8).wrapping_mul(mul).wrapping_add((i >> 9) as u8);
    }
    Some((
        plain,
        KVec::from_elem(0u8, 4096, GFP_KERNEL).ok()?,
        KVec::from_elem(0u8, 4096, GFP_KERNEL).ok()?,
    ))
}

/// A page of sectors through `SectorCipher::crypt_sectors` (the page runs
/// of `Rcrypt::convert`) gives the bytes `crypt_block` gives sector by
/// sector, for the IVs it takes a shortcut for (`simple`) and one it does
/// not (two keys), and decrypts back.
pub(super) fn page_runs_match_sectors(test: &mut Test) {
    // Byte `i` is `i * 7 + 3` mod 256.
    let key: [u8; 128] = core::array::from_fn(|i| (i as u8).wrapping_mul(7).wrapping_add(3));
    let cases: [(&str, usize, &[&str], bool); 8] = [
        ("aes-xts-plain64", 64, &[], true),
        ("aes-xts-plain64", 64, &["sector_size:4096"], true),
        (
            "aes-cbc-essiv:sha256",
            32,
            &["sector_size:1024", "iv_large_sectors"],
            true,
        ),
        ("aes-cbc-plain", 32, &[], true),
        ("aes-cbc-plain64be", 32, &[], true),
        ("aes-cbc-benbi", 32, &[], true),
        ("aes-cbc-null", 32, &[], true),
        ("aes:2-xts-plain64", 128, &[], false),
    ];
    let Ok(pages) = PagePool::new(2) else {
        return kunit_expect!(test, false, "page pool");
    };
    let Some((plain, mut a, mut b)) = page_buffers(31) else {
        return kunit_expect!(test, false, "allocation");
    };
    for (cipher, key_len, opts, simple) in cases {
        let Some((sc, iv_size, scratch)) = case_cipher(test, cipher, key.get(..key_len), opts)
        else {
            continue;
        };
        kunit_expect!(
            test,
            sc.simple == simple,
            "{} {:?}: simple {}",
            cipher,
            opts,
            sc.simple
        );
        let (Ok(reqs), Some(mut run), Some(mut each)) = (
            RequestPool::new(
                ReqKind::Skcipher,
                1,
                sc.tfms.max_reqsize(),
                iv_size as usize,
                scratch,
                0,
            ),
            pages.alloc(),
            pages.alloc(),
        ) else {
            kunit_expect!(test, false, "{}: request pool or pages", cipher);
            continue;
        };
        let (Ok(mut req), Some(tfms)) = (reqs.alloc(), sc.tfms.enter()) else {
            kunit_expect!(test, false, "{}: request or transforms", cipher);
            continue;
        };
        kunit_expect!(test, run.write(0, &plain) && each.write(0, &plain));
        // 4096-byte sectors start at 512-byte sector 8000, the others at 1001
        // (an odd sector: benbi and plain64be show it).
        let first = if sc.sector_size == 4096 { 8000 } else { 1001 };
        let mut sector = first;
        let r = sc.crypt_sectors(
            &tfms,
            &mut req,
            Direction::Encrypt,
            &mut sector,
            run.at(0),
            run.at(0),
        );
        let moved = sector == first.wrapping_add(8);
        kunit_expect!(
            test,
            r.is_ok() && moved,
            "{} {:?}: run encryption failed",
            cipher,
            opts
        );
        let ss = sc.sector_size;
        // (Shifts, not divisions: objtool does not know the division panic
        // as a function that does not return.)
        let step = u64::from(ss >> 9);
        let mut ok = true;
        let mut iv_sector = first;
        for k in 0..4096 >> ss.trailing_zeros() {
            let at = each.at(k << ss.trailing_zeros());
            let Some(s) = at.sub(0, ss) else {
                ok = false;
                break;
            };
            ok &= sc
                .crypt_block(&tfms, &mut req, Direction::Encrypt, iv_sector, s, s)
                .is_ok();
            iv_sector = iv_sector.wrapping_add(step);
        }
        kunit_expect!(test, ok, "{} {:?}: sector encryption failed", cipher, opts);
        let same = run.read(0, &mut a) && each.read(0, &mut b) && a == b && a != plain;
        kunit_expect!(
            test,
            same,
            "{} {:?}: page run and sectors differ",
            cipher,
            opts
        );
        let mut sector = first;
        let r = sc.crypt_sectors(
            &tfms,
            &mut req,
            Direction::Decrypt,
            &mut sector,
            run.at(0),
            run.at(0),
        );
        kunit_expect!(
            test,
            r.is_ok() && run.read(0, &mut a) && a == plain,
            "{} {:?}: run decryption differs",
            cipher,
            opts
        );
        drop(req);
        pages.free(run);
        pages.free(each);
    }
}

pub(super) fn xts_ieee1619_vector_4(test: &mut Test) {
    check_sector(
        test,
        "XTS-AES-128 vector 4",
        "aes-xts-plain64",
        &xv::V4_KEY,
        xv::V4_SECTOR,
        &xv::V4_PTEXT,
        &xv::V4_CTEXT,
    );
}

pub(super) fn xts_ieee1619_vector_10(test: &mut Test) {
    check_sector(
        test,
        "XTS-AES-256 vector 10",
        "aes-xts-plain64",
        &xv::V10_KEY,
        xv::V10_SECTOR,
        &xv::V10_PTEXT,
        &xv::V10_CTEXT,
    );
    // The capi: form names the same transform.
    check_sector(
        test,
        "capi XTS-AES-256 vector 10",
        "capi:xts(aes)-plain64",
        &xv::V10_KEY,
        xv::V10_SECTOR,
        &xv::V10_PTEXT,
        &xv::V10_CTEXT,
    );
}

/// Sectors spread over bio vectors (direct I/O from a buffer aligned to
/// less than the sector): a bio whose segments split sectors across pages
/// and into pieces of any multiple of 4 bytes, walked as `Rcrypt::convert`
/// walks it (page runs, and `crypt_spread` through scatterlists where a
/// segment holds less than a sector), gives the bytes of the same data in
/// one page, in place and into another bio, and decrypts back; the
/// scatterlist builder refuses more pieces than its table holds and data
/// the bio does not have, leaving the cursor.
pub(super) fn spread_sectors_match_runs(test: &mut Test) {
    // Byte `i` is `i * 5 + 1` mod 256.
    let key: [u8; 128] = core::array::from_fn(|i| (i as u8).wrapping_mul(5).wrapping_add(1));
    let cases: [(&str, usize, &[&str]); 5] = [
        ("aes-xts-plain64", 64, &[]),
        ("aes-xts-plain64", 64, &["sector_size:4096"]),
        ("aes-cbc-essiv:sha256", 32, &["sector_size:1024"]),
        ("aes:2-xts-plain64", 128, &["sector_size:2048"]),
        ("aes-ecb", 32, &["sector_size:4096"]),
    ];
    // The 4096 bytes as direct I/O from a buffer at byte 2052 of a page
    // puts them (a sector spans two pages, at most two pieces: what a table
    // of the smallest size holds), and in five segments over three pages
    // (96 at the end of the first page, 4 at the start of the second, 1000
    // and 4 further in, 2992 in the third at byte 8), whose first 4096-byte
    // sector has five pieces.
    let two: &[(usize, u32, u32)] = &[(0, 2052, 2044), (1, 0, 2052)];
    let five: &[(usize, u32, u32)] = &[
        (0, 4000, 96),
        (1, 0, 4),
        (1, 100, 1000),
        (1, 2000, 4),
        (2, 8, 2992),
    ];
    let Ok(pages) = PagePool::new(6) else {
        return kunit_expect!(test, false, "page pool");
    };
    let Some((plain, mut a, mut b)) = page_buffers(13) else {
        return kunit_expect!(test, false, "allocation");
    };
    for (cipher, key_len, opts) in cases {
        let Some((sc, iv_size, scratch)) = case_cipher(test, cipher, key.get(..key_len), opts)
        else {
            continue;
        };
        let ss = sc.sector_size;
        // As `Rcrypt::new` sizes the tables: a cipher of `runs` takes
        // batches of pages through them too.
        let spread = if sc.runs {
            ((ss >> 9) as usize).max(RUN_BATCH)
        } else {
            (ss >> 9).max(2) as usize
        };
        let (Ok(reqs), Some(mut whole), Some(mut p0), Some(mut p1), Some(mut p2), Some(out)) = (
            RequestPool::new(
                ReqKind::Skcipher,
                1,
                sc.tfms.max_reqsize(),
                iv_size as usize,
                scratch,
                spread,
            ),
            pages.alloc(),
            pages.alloc(),
            pages.alloc(),
            pages.alloc(),
            pages.alloc(),
        ) else {
            kunit_expect!(test, false, "{}: request pool or pages", cipher);
            continue;
        };
        let (Ok(mut req), Some(tfms)) = (reqs.alloc(), sc.tfms.enter()) else {
            kunit_expect!(test, false, "{}: request or transforms", cipher);
            continue;
        };
        // The reference: the data in one page, as page runs, from 512-byte
        // sector 8000 (8 of them).
        let first = 8000u64;
        let mut sector = first;
        let ok = whole.write(0, &plain)
            && sc
                .crypt_sectors(
                    &tfms,
                    &mut req,
                    Direction::Encrypt,
                    &mut sector,
                    whole.at(0),
                    whole.at(0),
                )
                .is_ok()
            && whole.read(0, &mut a);
        kunit_expect!(test, ok, "{} {:?}: reference encryption", cipher, opts);
        let layouts: &[&[(usize, u32, u32)]] = if ss == 4096 { &[two, five] } else { &[two] };
        for &pieces in layouts {
            // The same data in pieces.
            let mut at = 0usize;
            let mut ok = true;
            for &(pg, off, len) in pieces {
                let page = match pg {
                    0 => &mut p0,
                    1 => &mut p1,
                    _ => &mut p2,
                };
                let end = at.saturating_add(len as usize);
                ok &= plain
                    .get(at..end)
                    .is_some_and(|d| page.write(off as usize, d));
                at = end;
            }
            kunit_expect!(test, ok, "{}: pieces", cipher);
            // Walks `bio` as `Rcrypt::convert` does, into `out` if given,
            // in batches (`crypt_batch`) or in page runs and spread sectors;
            // returns the sectors spread.
            let walk = |req: &mut crate::crypto::Request<'_>,
                        bio: &crate::bio::Bio,
                        out: Option<&crate::bio::Bio>,
                        dir: Direction,
                        batch: bool|
             -> Option<u32> {
                let mask = ss.wrapping_sub(1);
                let mut cursor = bio.cursor();
                let mut ocursor = out.map(|o| (o, o.cursor()));
                let mut left = 4096u32;
                let mut sector = first;
                let mut spread = 0u32;
                while left > 0 {
                    let oc = ocursor.as_mut().map(|(o, c)| (*o, c));
                    if batch {
                        let (len, n) = sc
                            .crypt_batch(&tfms, req, dir, (bio, &mut cursor), oc, left)
                            .ok()?;
                        left = left.checked_sub(len)?;
                        sector = sector.wrapping_add(u64::from(len >> 9));
                        spread = spread.checked_add(n)?;
                        continue;
                    }
                    match bio.next_run(&mut cursor, oc, left, mask) {
                        Some((src, dst)) => {
                            let dst = dst.unwrap_or(src);
                            sc.crypt_sectors(&tfms, req, dir, &mut sector, src, dst)
                                .ok()?;
                            left = left.checked_sub(src.len())?;
                        }
                        None => {
                            let oc = ocursor.as_mut().map(|(o, c)| (*o, c));
                            sc.crypt_spread(&tfms, req, dir, &mut sector, (bio, &mut cursor), oc)
                                .ok()?;
                            left = left.checked_sub(ss)?;
                            spread = spread.checked_add(1)?;
                        }
                    }
                }
                (sector == first.wrapping_add(8)).then_some(spread)
            };
            let read_pieces = |buf: &mut [u8],
                               p0: &crate::bio::PoolPage,
                               p1: &crate::bio::PoolPage,
                               p2: &crate::bio::PoolPage|
             -> bool {
                let mut at = 0usize;
                let mut ok = true;
                for &(pg, off, len) in pieces {
                    let page = match pg {
                        0 => p0,
                        1 => p1,
                        _ => p2,
                    };
                    let end = at.saturating_add(len as usize);
                    ok &= buf
                        .get_mut(at..end)
                        .is_some_and(|d| page.read(off as usize, d));
                    at = end;
                }
                ok
            };
            {
                let segs = pieces.iter().map(|&(pg, off, len)| {
                    let page = match pg {
                        0 => &p0,
                        1 => &p1,
                        _ => &p2,
                    };
                    page.at(off).sub(0, len)
                });
                let segs: Option<KVec<_>> = segs.into_iter().try_fold(KVec::new(), |mut v, s| {
                    v.push(s?, GFP_KERNEL).ok()?;
                    Some(v)
                });
                let (Some(segs), Some(dst)) = (segs, out.at(0).sub(0, 4096)) else {
                    kunit_expect!(test, false, "{}: segments", cipher);
                    continue;
                };
                let (Some(bio), Some(obio)) = (TestBio::new(&segs), TestBio::new(&[dst])) else {
                    kunit_expect!(test, false, "{}: test bios", cipher);
                    continue;
                };
                let modes: &[bool] = if sc.runs { &[false, true] } else { &[false] };
                let mut counts = [0u32; 2];
                for (&batch, count) in modes.iter().zip(counts.iter_mut()) {
                    // Into another bio (a write into its buffer): the pieces
                    // stay.
                    let n = walk(
                        &mut req,
                        bio.bio(),
                        Some(obio.bio()),
                        Direction::Encrypt,
                        batch,
                    );
                    kunit_expect!(
                        test,
                        n.is_some_and(|n| n > 0) && out.read(0, &mut b) && a == b,
                        "{} {:?} (batch {}): spread into a buffer differs ({:?} spread)",
                        cipher,
                        opts,
                        batch,
                        n
                    );
                    *count = n.unwrap_or(0);
                    // In place (a read), then back.
                    let n = walk(&mut req, bio.bio(), None, Direction::Encrypt, batch);
                    kunit_expect!(
                        test,
                        n.is_some() && read_pieces(&mut b, &p0, &p1, &p2) && a == b,
                        "{} {:?} (batch {}): spread in place differs",
                        cipher,
                        opts,
                        batch
                    );
                    let n = walk(&mut req, bio.bio(), None, Direction::Decrypt, batch);
                    kunit_expect!(
                        test,
                        n.is_some() && read_pieces(&mut b, &p0, &p1, &p2) && b == plain,
                        "{} {:?} (batch {}): spread decryption differs",
                        cipher,
                        opts,
                        batch
                    );
                }
                // A batch counts the sectors that span pieces as the page
                // runs do.
                kunit_expect!(
                    test,
                    !sc.runs || counts[0] == counts[1],
                    "{}: spread sectors {} in page runs, {} in batches",
                    cipher,
                    counts[0],
                    counts[1]
                );
                // The builder's edges: the first 512 bytes are 96 + 4 + 412 at
                // their offsets, which a table of 2 cannot hold; 4096 bytes
                // from there are more than the bio has left; the cursor stays
                // both times.
                if pieces.len() == 5 {
                    let b = bio.bio();
                    let mut cursor = b.cursor();
                    let short = b.sg_pieces(&mut cursor, 512, 2);
                    let fits = b.sg_pieces(&mut cursor, 512, 4);
                    let beyond = b.sg_pieces(&mut cursor, 4096, 4);
                    let next = b.sg_pieces(&mut cursor, 512, 4);
                    let want: [(u32, u32); 3] = [(4000, 96), (0, 4), (100, 412)];
                    kunit_expect!(
                        test,
                        short.is_none()
                            && fits.as_deref() == Some(&want[..])
                            && beyond.is_none()
                            && next.as_deref() == Some(&[(512, 512)][..]),
                        "sg_pieces: {:?} {:?} {:?} {:?}",
                        short,
                        fits,
                        beyond,
                        next
                    );
                }
            }
        }
        drop(req);
        for p in [whole, p0, p1, p2, out] {
            pages.free(p);
        }
    }
}

/// A cipher whose output does not depend on the sector (`runs`: `ecb`)
/// takes a bio of many segments in batches of at most `RUN_BATCH` of them
/// (`crypt_batch`, one request each), giving the bytes its page runs give,
/// and decrypts back; a table too small for the pieces of one sector
/// refuses it (`EIO`) and leaves the cursor, and a batch counts a sector
/// spread over three pieces once.
pub(super) fn batches_match_runs(test: &mut Test) {
    // Byte `i` is `i * 3 + 11` mod 256.
    let key: [u8; 32] = core::array::from_fn(|i| (i as u8).wrapping_mul(3).wrapping_add(11));
    let Some((sc, iv_size, scratch)) = case_cipher(test, "aes-ecb", Some(&key), &[]) else {
        return;
    };
    kunit_expect!(test, sc.runs, "aes-ecb: no runs");
    let (Ok(pages), Some((plain, _, _))) = (PagePool::new(5), page_buffers(17)) else {
        return kunit_expect!(test, false, "page pool or buffers");
    };
    let pool = |spread| {
        RequestPool::new(
            ReqKind::Skcipher,
            1,
            sc.tfms.max_reqsize(),
            iv_size as usize,
            scratch,
            spread,
        )
    };
    let (Ok(big), Ok(small)) = (pool(RUN_BATCH), pool(2)) else {
        return kunit_expect!(test, false, "request pools");
    };
    let (Ok(mut req), Ok(mut req2)) = (big.alloc(), small.alloc()) else {
        return kunit_expect!(test, false, "requests");
    };
    let mut pg = KVec::new();
    for _ in 0..5 {
        let Some(mut p) = pages.alloc() else {
            return kunit_expect!(test, false, "pages");
        };
        if !p.write(0, &plain) || pg.push(p, GFP_KERNEL).is_err() {
            return kunit_expect!(test, false, "pages");
        }
    }
    check_batches(test, &sc, &pg, &plain, &mut req, &mut req2);
    drop((req, req2));
    for p in pg {
        pages.free(p);
    }
}

/// The checks of [`batches_match_runs`] over pages `pg` holding `plain`.
fn check_batches(
    test: &mut Test,
    sc: &SectorCipher,
    pg: &KVec<PoolPage>,
    plain: &[u8],
    req: &mut crate::crypto::Request<'_>,
    req2: &mut crate::crypto::Request<'_>,
) {
    let Some(tfms) = sc.tfms.enter() else {
        return kunit_expect!(test, false, "transforms");
    };
    // 40 one-sector segments, none next to the one before: the first 512
    // bytes of every 1024 in each page, then the second 512.
    let mut segs = KVec::new();
    for half in [0u32, 512] {
        for p in pg.iter() {
            for k in [0u32, 1024, 2048, 3072] {
                let Some(s) = p.at(k | half).sub(0, 512) else {
                    return kunit_expect!(test, false, "segment");
                };
                if segs.push(s, GFP_KERNEL).is_err() {
                    return kunit_expect!(test, false, "allocation");
                }
            }
        }
    }
    let Some(bio) = TestBio::new(&segs) else {
        return kunit_expect!(test, false, "test bio");
    };
    let bio = bio.bio();
    let total = 40 * 512u32;
    let read_all = || -> Option<KVec<u8>> {
        let mut v = KVec::from_elem(0u8, 5 * 4096, GFP_KERNEL).ok()?;
        for (p, chunk) in pg.iter().zip(v.chunks_mut(4096)) {
            if !p.read(0, chunk) {
                return None;
            }
        }
        Some(v)
    };
    let is_plain = |v: &Option<KVec<u8>>| {
        v.as_ref()
            .is_some_and(|b| b.chunks(4096).all(|c| c == plain))
    };
    // Batches of the bio in place; the length of each.
    let batches = |req: &mut crate::crypto::Request<'_>, dir: Direction| -> Option<KVec<u32>> {
        let mut lens = KVec::new();
        let mut cursor = bio.cursor();
        let mut left = total;
        while left > 0 {
            let (len, spread) = sc
                .crypt_batch(&tfms, req, dir, (bio, &mut cursor), None, left)
                .ok()?;
            if spread != 0 {
                return None;
            }
            lens.push(len, GFP_KERNEL).ok()?;
            left = left.checked_sub(len)?;
        }
        Some(lens)
    };
    // The reference: page runs, in place.
    let mut cursor = bio.cursor();
    let mut left = total;
    let mut ok = true;
    while left > 0 && ok {
        match bio.next_run(&mut cursor, None, left, 511) {
            Some((src, _)) => {
                ok = sc
                    .crypt_run(&tfms, req, Direction::Encrypt, src, src)
                    .is_ok();
                left = left.saturating_sub(src.len());
            }
            None => ok = false,
        }
    }
    let runs = read_all();
    kunit_expect!(
        test,
        ok && runs.is_some() && !is_plain(&runs),
        "aes-ecb: page runs failed"
    );
    // Batches decrypt what the page runs encrypted, and encrypt it again
    // into the same bytes, in requests of 16, 16 and 8 sectors.
    let back = batches(req, Direction::Decrypt);
    kunit_expect!(
        test,
        back.is_some() && is_plain(&read_all()),
        "aes-ecb: batch decryption differs"
    );
    let lens = batches(req, Direction::Encrypt);
    kunit_expect!(
        test,
        lens.as_deref() == Some(&[16 * 512, 16 * 512, 8 * 512][..]) && read_all() == runs,
        "aes-ecb: batches {:?} differ from page runs",
        lens
    );
    // One sector in three pieces (100, 200 and 212 bytes), then one whole:
    // a table of 2 holds 300 bytes, not a sector.
    let three = [(0, 100), (1, 200), (2, 212), (3, 512)];
    let segs: Option<KVec<_>> = three.iter().try_fold(KVec::new(), |mut v, &(p, len)| {
        v.push(pg.get(p)?.at(1024).sub(0, len)?, GFP_KERNEL).ok()?;
        Some(v)
    });
    let Some(tb) = segs.as_deref().and_then(TestBio::new) else {
        return kunit_expect!(test, false, "three-piece bio");
    };
    let b = tb.bio();
    let mut cursor = b.cursor();
    let short = sc.crypt_batch(
        &tfms,
        req2,
        Direction::Encrypt,
        (b, &mut cursor),
        None,
        1024,
    );
    let whole = sc.crypt_batch(&tfms, req, Direction::Encrypt, (b, &mut cursor), None, 1024);
    kunit_expect!(
        test,
        short == Err(EIO) && whole == Ok((1024, 1)),
        "aes-ecb: three pieces: {:?}, then {:?}",
        short,
        whole
    );
}
