// SPDX-License-Identifier: GPL-2.0

//! The status lines and rcrypt's counters.
//!
//! dm-crypt.c: `crypt_status()`: `STATUSTYPE_INFO` (empty in dm-crypt; here
//! the counters, when the `info_counters` module parameter is set),
//! `STATUSTYPE_TABLE` and `STATUSTYPE_IMA`.

use super::{Rcrypt, TARGET_VERSION};
use crate::bio::PagePool;
use crate::dm::{StatusWriter, Target};
use crate::params;
use core::sync::atomic::{AtomicU64, Ordering};

/// rcrypt's live counters (beyond dm-crypt), shown in the INFO status when
/// the `info_counters` module parameter is set.
#[derive(Default)]
pub(super) struct Counters {
    /// 512-byte sectors read and decrypted.
    pub(super) sectors_read: AtomicU64,
    /// 512-byte sectors encrypted and written.
    pub(super) sectors_written: AtomicU64,
    /// Reads and writes that ended with an error.
    pub(super) io_errors: AtomicU64,
    /// Sectors whose integrity tag did not verify (shown for targets with
    /// integrity metadata).
    pub(super) integrity_errors: AtomicU64,
    /// Tagged reads read again into pool pages because their in-place
    /// check failed or could not finish (dm-crypt's `aead_recheck`).
    pub(super) integrity_rechecks: AtomicU64,
    /// Reads and writes whose crypto ran inline / on the work queue.
    pub(super) inline_ios: AtomicU64,
    pub(super) queued_ios: AtomicU64,
    /// Writes submitted by the write thread, sorted by sector.
    pub(super) sorted_writes: AtomicU64,
    /// Encryption sectors spread over several bio vectors (direct I/O from
    /// a buffer aligned to less than the sector), each through
    /// scatterlists of its pieces.
    pub(super) spread_sectors: AtomicU64,
}

impl Rcrypt {
    /// `STATUSTYPE_INFO`: the counters, when the `info_counters` module
    /// parameter is set.
    pub(super) fn status_info(&self, out: &mut StatusWriter<'_>) {
        if params::info_counters() {
            let c = &self.counters;
            out.emit(format_args!(
                "sectors_read={} sectors_written={} io_errors={} ",
                c.sectors_read.load(Ordering::Relaxed),
                c.sectors_written.load(Ordering::Relaxed),
                c.io_errors.load(Ordering::Relaxed),
            ));
            if self.tags.is_some() {
                out.emit(format_args!(
                    "integrity_errors={} integrity_rechecks={} ",
                    c.integrity_errors.load(Ordering::Relaxed),
                    c.integrity_rechecks.load(Ordering::Relaxed)
                ));
            }
            out.emit(format_args!(
                "crypto_waits={} \
                 inline_ios={} queued_ios={} sorted_writes={} \
                 buffer_pages={} buffer_pages_peak={} buffer_pages_cap={} \
                 spread_sectors={}",
                self.req_pool.async_waits(),
                c.inline_ios.load(Ordering::Relaxed),
                c.queued_ios.load(Ordering::Relaxed),
                c.sorted_writes.load(Ordering::Relaxed),
                self.page_pool.pages(),
                self.page_pool.peak(),
                PagePool::cap(),
                c.spread_sectors.load(Ordering::Relaxed),
            ));
        }
    }

    /// `STATUSTYPE_TABLE`: the table line, optional parameters in dm-crypt's order.
    pub(super) fn status_table(&self, target: &Target<'_>, out: &mut StatusWriter<'_>) {
        out.emit_bytes(&self.cipher_string);
        out.emit_bytes(b" ");
        let keys = self.keys.lock();
        if keys.key.is_empty() {
            out.emit(format_args!("-"));
        } else if let Some(ks) = &keys.key_string {
            out.emit(format_args!(":{}:", keys.key.len()));
            out.emit_bytes(ks);
        } else {
            out.emit_hex(&keys.key);
        }
        drop(keys);
        out.emit(format_args!(
            " {} {} {}",
            self.iv_offset,
            self.dev.name(),
            self.start
        ));

        let flags = [
            (target.discards_enabled(), "allow_discards"),
            (self.same_cpu_crypt, "same_cpu_crypt"),
            (self.high_priority, "high_priority"),
            (self.submit_from_crypt_cpus, "submit_from_crypt_cpus"),
            (self.no_read_workqueue, "no_read_workqueue"),
            (self.no_write_workqueue, "no_write_workqueue"),
        ];
        let args = [
            self.integrity.is_some(),
            self.sector_size != 512,
            self.iv_large_sectors,
            self.integrity_key_size.is_some(),
        ];
        let n = Iterator::chain(flags.iter().map(|f| f.0), args)
            .filter(|&set| set)
            .count();
        if n == 0 {
            return;
        }
        out.emit(format_args!(" {}", n));
        for (set, name) in flags {
            if set {
                out.emit(format_args!(" {}", name));
            }
        }
        if let Some((size, profile)) = &self.integrity {
            out.emit(format_args!(" integrity:{}:", size));
            out.emit_bytes(profile);
        }
        if self.sector_size != 512 {
            out.emit(format_args!(" sector_size:{}", self.sector_size));
        }
        if self.iv_large_sectors {
            out.emit(format_args!(" iv_large_sectors"));
        }
        if let Some(size) = self.integrity_key_size {
            out.emit(format_args!(" integrity_key_size:{}", size));
        }
    }

    /// `STATUSTYPE_IMA`: the measured `key=value` line.
    pub(super) fn status_ima(&self, target: &Target<'_>, out: &mut StatusWriter<'_>) {
        let yn = |b: bool| if b { 'y' } else { 'n' };
        out.emit(format_args!(
            "target_name={},target_version={}.{}.{}",
            target.type_name(),
            TARGET_VERSION[0],
            TARGET_VERSION[1],
            TARGET_VERSION[2]
        ));
        out.emit(format_args!(
            ",allow_discards={}",
            yn(target.discards_enabled())
        ));
        out.emit(format_args!(",same_cpu_crypt={}", yn(self.same_cpu_crypt)));
        out.emit(format_args!(",high_priority={}", yn(self.high_priority)));
        out.emit(format_args!(
            ",submit_from_crypt_cpus={}",
            yn(self.submit_from_crypt_cpus)
        ));
        out.emit(format_args!(
            ",no_read_workqueue={}",
            yn(self.no_read_workqueue)
        ));
        out.emit(format_args!(
            ",no_write_workqueue={}",
            yn(self.no_write_workqueue)
        ));
        out.emit(format_args!(
            ",iv_large_sectors={}",
            yn(self.iv_large_sectors)
        ));
        if let Some((size, profile)) = &self.integrity {
            out.emit(format_args!(",integrity_tag_size={},cipher_auth=", size));
            out.emit_bytes(profile);
        }
        if self.sector_size != 512 {
            out.emit(format_args!(",sector_size={}", self.sector_size));
        }
        out.emit(format_args!(",cipher_string="));
        out.emit_bytes(&self.cipher_string);
        out.emit(format_args!(",key_size={}", self.key_size));
        out.emit(format_args!(",key_parts={}", self.iv.key_parts));
        out.emit(format_args!(",key_extra_size={}", self.iv.key_extra_size));
        out.emit(format_args!(",key_mac_size={}", self.iv.key_mac_size));
        out.emit(format_args!(";"));
    }
}
