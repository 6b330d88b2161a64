// SPDX-License-Identifier: GPL-2.0

//! The write-buffer page pool's cap.

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
