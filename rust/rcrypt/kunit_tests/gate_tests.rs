// SPDX-License-Identifier: GPL-2.0

//! The key gate: re-keying only while no request uses the transforms, and under load.

use super::*;

/// The key of shared transforms only changes while no request path uses
/// them (the safety argument of `key set` / `key wipe`).
pub(super) fn rekey_gate(test: &mut Test) {
    let mut tfms = kernel::prelude::KVec::new();
    match Skcipher::new(c"xts(aes)", 0, 0) {
        Ok(tfm) => kunit_expect!(test, tfms.push(tfm, kernel::prelude::GFP_KERNEL).is_ok()),
        Err(_) => return kunit_expect!(test, false, "xts(aes) allocation failed"),
    }
    let set = crate::crypto::TfmSet::new(tfms, 0u32);
    let key = [7u8; 64];
    let guard = set.enter();
    kunit_expect!(test, guard.is_some());
    kunit_expect!(
        test,
        set.rekey(|rk| rk.set_key(0, &key)).is_err(),
        "re-keyed while in use"
    );
    drop(guard);
    let r = set.rekey(|rk| {
        *rk.state() = 5;
        rk.set_key(0, &key)
    });
    kunit_expect!(test, matches!(r, Ok(Ok(()))), "re-key refused while idle");
    kunit_expect!(
        test,
        matches!(set.rekey(|rk| rk.set_key(0, &key[..7])), Ok(Err(_))),
        "7-byte key accepted"
    );
    kunit_expect!(
        test,
        set.rekey(|rk| rk.set_aux_key(&key[..32]))
            .is_ok_and(|r| r.is_err()),
        "no aux transform"
    );
    let guard = set.enter();
    kunit_expect!(
        test,
        guard.as_ref().is_some_and(|g| *g.state() == 5),
        "gate left closed, or state lost"
    );
}

/// What [`rekey_gate_hammer`]'s two threads share.
#[kernel::prelude::pin_data]
struct Hammer {
    set: crate::crypto::TfmSet<[u64; 2]>,
    stop: AtomicBool,
    torn: AtomicU64,
    entered: AtomicU64,
    #[pin]
    done: kernel::sync::Mutex<bool>,
    #[pin]
    done_cv: kernel::sync::CondVar,
}

/// The key gate under load: a kworker enters and leaves as fast as it can
/// while the test's thread re-keys (a real `setkey` between two writes of
/// the key state), leaving the key wiped every eighth time. No user may see
/// the state half written, and the gate ends open: with the old gate, a
/// `fetch_add` undone after a reopening's `store(0)` wrapped the count and
/// shut it for good.
pub(super) fn rekey_gate_hammer(test: &mut Test) {
    use kernel::init::InPlaceInit;
    use kernel::sync::Arc;
    let mut tfms = KVec::new();
    match Skcipher::new(c"xts(aes)", 0, 0) {
        Ok(tfm) => kunit_expect!(test, tfms.push(tfm, GFP_KERNEL).is_ok()),
        Err(_) => return kunit_expect!(test, false, "xts(aes) allocation failed"),
    }
    let init = kernel::prelude::pin_init!(Hammer {
        set: crate::crypto::TfmSet::new(tfms, [0u64; 2]),
        stop: AtomicBool::new(false),
        torn: AtomicU64::new(0),
        entered: AtomicU64::new(0),
        done <- kernel::new_mutex!(false),
        done_cv <- kernel::new_condvar!(),
    });
    let Ok(shared) = Arc::pin_init(init, GFP_KERNEL) else {
        return kunit_expect!(test, false, "allocation");
    };
    let key = [7u8; 64];
    let worker = shared.clone();
    let spawned = kernel::workqueue::system_unbound().try_spawn(GFP_KERNEL, move || {
        while !worker.stop.load(Relaxed) {
            if let Some(user) = worker.set.enter() {
                let first = user.state()[0];
                core::hint::spin_loop();
                if user.state()[1] != first {
                    worker.torn.fetch_add(1, Relaxed);
                }
                worker.entered.fetch_add(1, Relaxed);
            }
        }
        *worker.done.lock() = true;
        worker.done_cv.notify_all();
    });
    if spawned.is_err() {
        return kunit_expect!(test, false, "cannot start the worker");
    }
    let (mut rekeys, mut busy, mut k) = (0u64, 0u64, 0u64);
    let deadline = crate::wq::now_ns().saturating_add(1_000_000_000);
    while crate::wq::now_ns() < deadline {
        k = k.wrapping_add(1);
        let r = shared.set.rekey(|rk| {
            rk.state()[0] = k;
            let r = rk.set_key(0, &key);
            rk.state()[1] = k;
            rk.set_key_valid(k % 8 != 0);
            r
        });
        match r {
            Ok(r) => {
                kunit_expect!(test, r.is_ok(), "setkey failed");
                rekeys = rekeys.saturating_add(1);
            }
            Err(_) => busy = busy.saturating_add(1),
        }
    }
    shared.stop.store(true, Relaxed);
    let mut done = shared.done.lock();
    while !*done {
        shared.done_cv.wait(&mut done);
    }
    drop(done);
    let (torn, entered) = (shared.torn.load(Relaxed), shared.entered.load(Relaxed));
    kunit_expect!(test, torn == 0, "{} users saw a re-key half done", torn);
    kunit_expect!(
        test,
        entered > 0 && rekeys > 0,
        "no contention: {} entries, {} re-keys",
        entered,
        rekeys
    );
    kunit_expect!(
        test,
        shared.set.rekey(|rk| rk.set_key_valid(true)).is_ok(),
        "gate not idle after the hammer"
    );
    kunit_expect!(
        test,
        shared.set.enter().is_some(),
        "gate shut after the hammer"
    );
    kernel::pr_info!(
        "rcrypt kunit: gate hammer: {} entries, {} re-keys, {} refused as busy\n",
        entered,
        rekeys,
        busy
    );
}
