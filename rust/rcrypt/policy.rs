// SPDX-License-Identifier: GPL-2.0

//! The adaptive engine's choice between inline crypto and the work queue,
//! made from throughput measured at run time.
//!
//! Neither of dm-crypt's two settings is best everywhere: inline crypto
//! (`no_read_workqueue`, `no_write_workqueue`) saves two work-queue hops per
//! bio and wins small synchronous I/O, while the work queue spreads large or
//! deep-queued I/O over every CPU. Which one wins depends on the machine (how
//! many CPUs, how costly a wake-up is), the cipher and the workload, so the
//! default engine measures instead of guessing.
//!
//! A [`Chooser`] per direction runs in epochs. (Not per queue depth: inline
//! crypto itself lowers the depth a device sees, since a submitter that
//! encrypts or decrypts inline cannot submit meanwhile, so the depth cannot
//! tell which path the workload wants.) In each epoch every bio that
//! may take either path takes the epoch's path and the epoch's tag, and the
//! chooser counts the bytes of the bios with that tag whose crypto has
//! completed ([`Chooser::complete`]), so that bios still in flight on the
//! old path after a switch count for neither epoch, however deep the queue.
//! At the end of an epoch the rate (bytes per millisecond of its measured
//! part) goes into that path's running average. Now and then an epoch
//! *explores* the other path; if the other path was faster by more than an
//! eighth, it becomes the current path. An exploration that loses quadruples
//! the number of epochs until the next one (up to [`MAX_GAP`]), so the loser
//! costs about 1% of the time once the workload is steady; an exploration of
//! the queue whose bios ran in parallel gets a second look one epoch after it
//! loses, before the gap grows, since a stall of one CPU during its few
//! milliseconds leaves the queue one worker's rate; after a win the
//! next exploration comes soon, which undoes a win that was only noise; two
//! epochs in a row at under half the current path's average rate (the
//! workload or the machine changed) bring one at once and shorten the gap
//! again, and the exploration is then compared with the latest epoch rather
//! than the average, which still describes the old workload. (Keeping the
//! gap there was tried: it cut explorations during host stalls in
//! simulation, but in `make bench` the chooser then stayed on the work queue
//! through whole depth-1 runs after a first look that lost.)
//!
//! - The work queue only pays when it has bios to run in parallel. The
//!   kernel reports each bio's depth (bios of its direction in flight, itself
//!   included, [`Chooser::note_depth`]); a work-queue epoch in which no bio
//!   had company ends after [`SERIAL_BIOS`] bios and hands over to inline
//!   whatever its rate, and such an exploration loses. (Inline crypto hides
//!   the depth, so the other way still takes an exploration.)
//! - An epoch is measured from the first completion of one of its bios,
//!   whose bytes are not counted.
//! - A gap of [`IDLE_NS`] without a bio restarts the epoch without a
//!   measurement, so idle time counts for neither path.
//! - An epoch lasts at least [`EPOCH_NS`] ([`EXPLORE_NS`] when exploring) and
//!   [`MIN_BIOS`] bios.
//! - A chooser made [`Chooser::without_parallel_inline`] (the reads of a
//!   target with integrity metadata) never explores inline from a
//!   work-queue epoch whose bios ran in parallel.
//!
//! The state is a handful of atomics. Any CPU adds its bio to the epoch; the
//! one that sees the epoch over and wins the `busy` flag closes it. Races
//! between CPUs can only misplace a bio in a neighbouring epoch, which blurs a
//! measurement but never affects data: both paths are always correct.
//!
//! This file is pure `core` Rust (time is passed in), shared by the kernel
//! module and the host tests, which simulate workloads against it.

use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicU8, Ordering::Relaxed};

/// The two ways a bio's crypto can run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Path {
    /// In the submitting (or completing) context.
    Inline = 0,
    /// On the crypt work queue.
    Queue = 1,
}

impl Path {
    fn other(self) -> Path {
        match self {
            Path::Inline => Path::Queue,
            Path::Queue => Path::Inline,
        }
    }

    fn from_u8(v: u8) -> Path {
        if v == 0 {
            Path::Inline
        } else {
            Path::Queue
        }
    }
}

/// Shortest epoch on the current path, in nanoseconds.
pub(crate) const EPOCH_NS: u64 = 50_000_000;
/// Shortest exploring epoch, in nanoseconds.
pub(crate) const EXPLORE_NS: u64 = 5_000_000;
/// A pause between bios this long restarts the epoch unmeasured.
pub(crate) const IDLE_NS: u64 = 100_000_000;
/// Fewest bios in a measured epoch.
pub(crate) const MIN_BIOS: u32 = 2;
/// A work-queue epoch ends after this many bios if none of them had another
/// bio of its direction in flight ([`Chooser::note_depth`]).
pub(crate) const SERIAL_BIOS: u32 = 16;
/// Epochs between explorations after a won exploration.
pub(crate) const MIN_GAP: u32 = 1;
/// Most epochs between explorations.
pub(crate) const MAX_GAP: u32 = 16;

/// Largest bio the submitter helps the work queue with ([`Help`]): helping
/// saves a hand-over per bio, but while the submitter works on a large bio
/// the workers may run dry (in one `make bench` run, helping with every
/// size, 1 MiB reads of 4096-byte sectors, split in 128 KiB bios, fell to
/// 0.79 of crypt's default).
pub(crate) const HELP_MAX_BYTES: u32 = 16 * 1024;

/// When the adaptive engine runs a bio inline although its epoch's path is
/// the work queue ("helping", see `Documentation/design.rst`): while at
/// least `at` crypto work items wait on the queue, not started, every
/// worker already has work, and a bio of up to [`HELP_MAX_BYTES`] runs in
/// the context that has it instead of joining them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Help {
    /// The backlog from which the target helps; `None`: never.
    at: Option<u32>,
}

impl Help {
    /// The helping of a target whose work queue runs `max_active` items at
    /// once. A target with integrity metadata does not help: the device
    /// below it does work of its own per bio on the same CPUs (dm-integrity
    /// its journal or bitmap, every target its tag buffers), and there the
    /// submitter that encrypts inline instead of submitting lost to the
    /// queue alone (authenc on dm-integrity, 4 KiB writes at depth 32, in
    /// `make bench`).
    pub(crate) const fn new(max_active: u32, integrity: bool) -> Self {
        Help {
            at: if integrity { None } else { Some(max_active) },
        }
    }

    /// No helping (dm-crypt's model, the `no_*_workqueue` options).
    pub(crate) const NEVER: Help = Help { at: None };

    /// Whether the target may help, and so needs its backlog counted.
    pub(crate) fn counts_backlog(self) -> bool {
        self.at.is_some()
    }

    /// Whether a bio of `size` bytes runs inline while `backlog` work items
    /// wait on the queue (read only when the size allows helping).
    #[inline(always)]
    pub(crate) fn helps(self, size: u32, backlog: &AtomicU32) -> bool {
        match self.at {
            Some(at) => size <= HELP_MAX_BYTES && backlog.load(Relaxed) >= at,
            None => false,
        }
    }
}

/// A bio's epoch, as returned by [`Chooser::choose`], for [`Chooser::complete`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Tag(u32);

/// Per-direction path chooser; see the module documentation.
pub(crate) struct Chooser {
    /// The path of the current epoch (`Path as u8`).
    path: AtomicU8,
    /// Sequence number of the current epoch: bios chosen in it carry it.
    epoch: AtomicU32,
    /// Whether the current epoch explores.
    exploring: AtomicBool,
    /// Whether a bio of the current epoch has completed (the measured
    /// part of the epoch runs from that completion on).
    measuring: AtomicBool,
    /// Start of the measured part of the epoch, ns.
    start: AtomicU64,
    /// Time of the last bio, ns.
    last: AtomicU64,
    /// Bytes and bios completed in the measured part of the epoch.
    bytes: AtomicU64,
    bios: AtomicU32,
    /// Running average of each path's rate, bytes per ms (0: not measured).
    rate: [AtomicU64; 2],
    /// Epochs left before the next exploration.
    countdown: AtomicU32,
    /// Epochs between explorations.
    gap: AtomicU32,
    /// Consecutive epochs whose rate fell under half the average.
    low: AtomicU32,
    /// Held by the CPU that closes an epoch.
    busy: AtomicBool,
    /// Most bios of the direction in flight at once in the epoch, as
    /// reported by [`Self::note_depth`] (0: none reported).
    peak: AtomicU32,
    /// Epochs spent on each path (for the INFO counters and the tests).
    epochs: [AtomicU64; 2],
    /// Whether the last exploration was of the queue with bios in
    /// parallel and lost, and the next one looks again before the gap grows.
    second_look: AtomicBool,
    /// Whether a queue epoch whose bios ran in parallel may hand over to an
    /// exploration of inline ([`Self::without_parallel_inline`]: not).
    parallel_inline: bool,
}

impl Chooser {
    /// A chooser that starts on `first` and explores the other path after
    /// its first epoch.
    pub(crate) const fn new(first: Path) -> Self {
        Chooser {
            path: AtomicU8::new(first as u8),
            epoch: AtomicU32::new(0),
            exploring: AtomicBool::new(false),
            measuring: AtomicBool::new(false),
            start: AtomicU64::new(0),
            last: AtomicU64::new(0),
            bytes: AtomicU64::new(0),
            bios: AtomicU32::new(0),
            rate: [AtomicU64::new(0), AtomicU64::new(0)],
            countdown: AtomicU32::new(1),
            gap: AtomicU32::new(MIN_GAP),
            low: AtomicU32::new(0),
            busy: AtomicBool::new(false),
            peak: AtomicU32::new(0),
            epochs: [AtomicU64::new(0), AtomicU64::new(0)],
            second_look: AtomicBool::new(false),
            parallel_inline: true,
        }
    }

    /// This chooser, except that while the work queue runs bios in
    /// parallel it stays there and does not explore inline (a work-queue
    /// epoch of bios that ran alone still hands over to inline). For the
    /// reads of a target with integrity metadata: they complete in the
    /// work-queue worker of the device below (dm-integrity's), and one
    /// decrypted inline there holds up the completions behind it, so an
    /// inline exploration at depth stalls the whole queue depth for its
    /// epoch. In `make bench` (authenc on dm-integrity, 4 KiB random reads
    /// at depth 32, one boot) rcrypt with explorations ran 1.5% of the
    /// bios inline and reached 0.95 of crypt, the work queue alone 1.08.
    pub(crate) const fn without_parallel_inline(self) -> Self {
        Chooser {
            parallel_inline: false,
            ..self
        }
    }

    /// The path for a bio arriving at `now` (ns, monotonic), and the tag to
    /// pass to [`Self::complete`] when its crypto is done.
    pub(crate) fn choose(&self, now: u64) -> (Path, Tag) {
        let last = self.last.swap(now, Relaxed);
        if now.saturating_sub(last) >= IDLE_NS {
            // Idle (or the first bio): a new epoch on the same path, so
            // that the idle time counts for neither path.
            self.restart();
        }
        (self.current(), Tag(self.epoch.load(Relaxed)))
    }

    /// A bio of `len` bytes chosen with `tag` completed at `now`. Only bios
    /// of the current epoch count: those still in flight from the previous
    /// one, on the other path, would bias it. The first completion starts
    /// the measured part of the epoch.
    pub(crate) fn complete(&self, now: u64, len: u32, tag: Tag) {
        if tag.0 != self.epoch.load(Relaxed) {
            return;
        }
        if !self.measuring.load(Relaxed) {
            if !self.busy.swap(true, Relaxed) {
                if tag.0 == self.epoch.load(Relaxed) && !self.measuring.load(Relaxed) {
                    self.bytes.store(0, Relaxed);
                    self.bios.store(0, Relaxed);
                    self.start.store(now, Relaxed);
                    self.measuring.store(true, Relaxed);
                }
                self.busy.store(false, Relaxed);
            }
            return;
        }
        let bytes = self
            .bytes
            .fetch_add(u64::from(len), Relaxed)
            .saturating_add(u64::from(len));
        let bios = self.bios.fetch_add(1, Relaxed).saturating_add(1);
        let elapsed = now.saturating_sub(self.start.load(Relaxed));
        let min = if self.exploring.load(Relaxed) {
            EXPLORE_NS
        } else {
            EPOCH_NS
        };
        // A queue epoch whose bios all ran alone ends early (see
        // `close_epoch`), once its time is measurable: on a coarse clock
        // (jiffies) many completions fall in one tick.
        let serial =
            bios >= SERIAL_BIOS && self.current() == Path::Queue && self.peak.load(Relaxed) == 1;
        if (elapsed >= min || serial) && bios >= MIN_BIOS && !self.busy.swap(true, Relaxed) {
            // `None` only while no time has been measured (`elapsed` is 0).
            let rate = bytes.saturating_mul(1_000_000).checked_div(elapsed);
            if let Some(rate) = rate {
                if tag.0 == self.epoch.load(Relaxed) && self.measuring.load(Relaxed) {
                    self.close_epoch(rate);
                }
            }
            self.busy.store(false, Relaxed);
        }
    }

    /// A bio just chosen found `n` bios of its direction in flight,
    /// itself included.
    pub(crate) fn note_depth(&self, n: u32) {
        // A plain load first: most bios do not raise the peak.
        if n > self.peak.load(Relaxed) {
            self.peak.fetch_max(n, Relaxed);
        }
    }

    /// The path of the current epoch.
    pub(crate) fn current(&self) -> Path {
        Path::from_u8(self.path.load(Relaxed))
    }

    /// Epochs measured on `path` so far.
    #[allow(dead_code)] // Read by the host tests.
    pub(crate) fn epochs(&self, path: Path) -> u64 {
        self.epochs_of(path).load(Relaxed)
    }

    /// The running average rate of `path`.
    fn rate_of(&self, path: Path) -> &AtomicU64 {
        let [inline, queue] = &self.rate;
        match path {
            Path::Inline => inline,
            Path::Queue => queue,
        }
    }

    /// The count of epochs measured on `path`.
    fn epochs_of(&self, path: Path) -> &AtomicU64 {
        let [inline, queue] = &self.epochs;
        match path {
            Path::Inline => inline,
            Path::Queue => queue,
        }
    }

    /// Starts a new epoch on the current path, unmeasured until a bio
    /// chosen in it completes (which resets the counts and the clock).
    fn restart(&self) {
        self.measuring.store(false, Relaxed);
        self.peak.store(0, Relaxed);
        self.epoch.fetch_add(1, Relaxed);
    }

    /// Ends the epoch whose path measured `rate` bytes/ms; picks the next.
    fn close_epoch(&self, rate: u64) {
        let path = self.current();
        self.epochs_of(path).fetch_add(1, Relaxed);
        let other = path.other();
        let other_rate = self.rate_of(other).load(Relaxed);
        // The work queue had one bio at a time all epoch: nothing to run in
        // parallel, so it only added hand-overs, whatever the rate says
        // (after a change of workload it is compared with an old average).
        let serial = path == Path::Queue && self.peak.load(Relaxed) == 1;
        let next = if self.exploring.swap(false, Relaxed) {
            // `path` was explored against `other`'s running average.
            self.rate_of(path).store(rate, Relaxed);
            let parallel = path == Path::Queue && self.peak.load(Relaxed) > 1;
            let (next, gap, countdown) =
                if rate > other_rate.saturating_add(other_rate >> 3) && !serial {
                    self.second_look.store(false, Relaxed);
                    (path, MIN_GAP, MIN_GAP)
                } else if parallel && !self.second_look.swap(true, Relaxed) {
                    // A short look at the queue that one stalled CPU can spoil
                    // (its bios then run at one worker's rate): look again
                    // after one epoch before the gap grows.
                    let gap = self.gap.load(Relaxed);
                    (other, gap, 1)
                } else {
                    self.second_look.store(false, Relaxed);
                    let gap = self.gap.load(Relaxed).saturating_mul(4).min(MAX_GAP);
                    (other, gap, gap)
                };
            self.gap.store(gap, Relaxed);
            self.countdown.store(countdown, Relaxed);
            next
        } else {
            let old = self.rate_of(path).load(Relaxed);
            // The mean rounded down: half of each plus the carry of the two
            // halves, at most the larger of the two (no overflow).
            #[allow(clippy::arithmetic_side_effects)]
            let avg = if old == 0 {
                rate
            } else {
                (old >> 1) + (rate >> 1) + (old & rate & 1)
            };
            self.rate_of(path).store(avg, Relaxed);
            let mut left = self.countdown.load(Relaxed).saturating_sub(1);
            // Two epochs in a row at under half the average: the workload or
            // the machine changed, and the other path may win now. (One such
            // epoch is often just a host hiccup.)
            let low = if old != 0 && rate < old >> 1 {
                self.low.load(Relaxed).saturating_add(1)
            } else {
                0
            };
            self.low.store(low, Relaxed);
            if low >= 2 {
                // The old average describes the old workload: the
                // exploration is compared with this epoch's rate.
                self.rate_of(path).store(rate, Relaxed);
                self.low.store(0, Relaxed);
                self.gap.store(MIN_GAP, Relaxed);
                left = 0;
            }
            if serial {
                // Inline at once; the queue is explored again after the gap.
                self.low.store(0, Relaxed);
                self.countdown.store(self.gap.load(Relaxed), Relaxed);
                other
            } else if left == 0
                && path == Path::Queue
                && !self.parallel_inline
                && self.peak.load(Relaxed) > 1
            {
                // (Not serial: the queue had bios in parallel.) No inline
                // exploration; the count starts again.
                self.countdown.store(self.gap.load(Relaxed), Relaxed);
                path
            } else if left == 0 {
                self.countdown.store(0, Relaxed);
                self.exploring.store(true, Relaxed);
                other
            } else {
                self.countdown.store(left, Relaxed);
                path
            }
        };
        self.path.store(next as u8, Relaxed);
        self.restart();
    }
}
