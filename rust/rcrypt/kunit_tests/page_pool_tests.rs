// SPDX-License-Identifier: GPL-2.0

//! The write-buffer page pool's cap; the tag buffers.

use super::*;

/// The write-buffer pool counts every page it holds (reserve, single and
/// compound pages) and stops at the cap as dm-crypt's `crypt_page_alloc`
/// and `crypt_alloc_buffer` do: at the cap, no compound page and no new
/// single page; a single page still comes from the reserve, and once that
/// is empty an allocation that may not wait fails.
pub(super) fn page_pool_cap(test: &mut Test) {
    let Ok(pool) = PagePool::new(2) else {
        return kunit_expect!(test, false, "page pool");
    };
    let cap = PagePool::cap();
    kunit_expect!(
        test,
        cap >= 4096,
        "cap {} below DM_CRYPT_MIN_PAGES_PER_CLIENT",
        cap
    );
    kunit_expect!(
        test,
        pool.pages() == 2 && pool.peak() == 2,
        "fresh pool: {} pages, peak {}",
        pool.pages(),
        pool.peak()
    );
    kunit_expect!(
        test,
        pool.try_alloc_large(0).is_none() && pool.try_alloc_large(MAX_LARGE_ORDER + 1).is_none()
    );
    let mut held = KVec::new();
    // Up to the cap: compound pages as large as what is left, else single
    // pages (new ones while under the cap).
    let mut ok = true;
    while ok && pool.pages() < cap {
        let left = cap.saturating_sub(pool.pages());
        let order = left.checked_ilog2().unwrap_or(0).min(MAX_LARGE_ORDER);
        let Some(page) = pool.try_alloc_large(order).or_else(|| pool.try_alloc()) else {
            break;
        };
        ok = keep(&pool, &mut held, page);
    }
    if PagePool::cap() != cap {
        // Another rcrypt target came or went: the cap moved under the test.
        kunit_expect!(test, ok, "bookkeeping");
    } else {
        kunit_expect!(
            test,
            ok && pool.pages() == cap,
            "filled to {} of {} pages",
            pool.pages(),
            cap
        );
        if let Some(page) = pool.try_alloc_large(1) {
            kunit_expect!(test, false, "compound page beyond the cap");
            pool.free(page);
        }
        // The two reserve pages, without growing the count; then nothing.
        for _ in 0..2 {
            match pool.try_alloc() {
                Some(p) => ok &= keep(&pool, &mut held, p),
                None => kunit_expect!(test, false, "reserve page refused at the cap"),
            }
        }
        if let Some(page) = pool.try_alloc() {
            kunit_expect!(test, false, "page beyond the cap and the reserve");
            pool.free(page);
        }
        kunit_expect!(
            test,
            ok && pool.pages() == cap && pool.peak() == cap,
            "{} pages, peak {}, cap {}",
            pool.pages(),
            pool.peak(),
            cap
        );
    }
    for page in held {
        pool.free(page);
    }
    kunit_expect!(
        test,
        pool.pages() == 2,
        "{} pages after every page came back",
        pool.pages()
    );
}

/// Keeps `page` in `held`, or gives it back to `pool` if `held` cannot grow.
fn keep(
    pool: &PagePool,
    held: &mut KVec<crate::bio::PoolPage>,
    page: crate::bio::PoolPage,
) -> bool {
    if held.reserve(1, GFP_KERNEL).is_err() {
        pool.free(page);
        return false;
    }
    held.push(page, GFP_KERNEL).is_ok()
}

/// Tag buffers: one taken for a write is zeroed and its bytes reachable;
/// one taken for a read (not zeroed) gives no bytes until it is filled,
/// from kmalloc and from the pool alike, and none beyond its length.
pub(super) fn tag_buffers(test: &mut Test) {
    let Ok(pool) = TagPool::new(2, 256) else {
        return kunit_expect!(test, false, "tag pool");
    };
    kunit_expect!(
        test,
        pool.alloc(0, true).is_err() && pool.alloc(257, true).is_err()
    );
    kunit_expect!(test, pool.try_kmalloc(0, true).is_none());
    for kmalloc in [true, false] {
        let take = |zero| match kmalloc {
            true => pool.try_kmalloc(192, zero),
            false => pool.alloc(192, zero).ok(),
        };
        let Some(mut w) = take(true) else {
            return kunit_expect!(test, false, "write tags (kmalloc {})", kmalloc);
        };
        kunit_expect!(
            test,
            w.bytes_mut(0, 192)
                .is_some_and(|b| b.iter().all(|&x| x == 0)),
            "write tags not zeroed (kmalloc {})",
            kmalloc
        );
        kunit_expect!(
            test,
            w.bytes_mut(128, 65).is_none() && w.bytes_mut(usize::MAX, 2).is_none()
        );
        let Some(mut r) = take(false) else {
            return kunit_expect!(test, false, "read tags (kmalloc {})", kmalloc);
        };
        kunit_expect!(
            test,
            r.len() == 192 && r.bytes_mut(0, 1).is_none() && r.bytes_mut(0, 0).is_none(),
            "unfilled read tags reachable (kmalloc {})",
            kmalloc
        );
        // What a completed read does (`BufferedIo`'s completion), with the
        // bytes written here instead of by a device.
        // SAFETY: `write_bytes` writes the buffer's 192 bytes, its own; then
        // every byte of it has been written, as `set_filled` requires.
        #[allow(unsafe_code)]
        unsafe {
            core::ptr::write_bytes(r.as_ptr(), 0xa5, r.len());
            r.set_filled();
        }
        kunit_expect!(
            test,
            r.bytes_mut(0, 192)
                .is_some_and(|b| b.iter().all(|&x| x == 0xa5)),
            "filled read tags (kmalloc {})",
            kmalloc
        );
    }
}
