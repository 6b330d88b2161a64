// SPDX-License-Identifier: GPL-2.0

//! The key gate (`rust/gate.rs`) under every interleaving of two and three
//! actors.
//!
//! Each actor runs the gate's real code on a thread of its own, through a
//! [`Word`] that makes every atomic access a scheduling point: the explorer
//! lets exactly one actor run from one point to its next, so code between two
//! accesses (including the ghost bookkeeping right after an access) runs
//! atomically, and each run is one sequentially consistent interleaving. A
//! depth-first search over the choices at the points replays every
//! interleaving once. After each access the actors check the gate against
//! ghost state (who is in, whether a re-key runs, whether the key is valid);
//! at the end of each run the word must be back to "open, no user", with the
//! key bit the last operation left.
//!
//! The same explorer, run on the gate as it was before (a `fetch_add` that
//! a closed gate undid, reopened with `store(0)`), finds the interleaving
//! that wipes the count: `explorer_finds_the_old_gates_wiped_count`.

use crate::gate::{Gate, Word, CLOSED, NO_KEY, USERS};
use std::cell::Cell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering, Ordering::SeqCst};
use std::sync::{Condvar, Mutex};

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Status {
    /// Running its code between two points (or to its first point).
    Running,
    /// Stopped at a point, ready to take its next access.
    Waiting,
    /// Finished (or failed).
    Done,
}

struct SchedState {
    status: Vec<Status>,
    turn: Option<usize>,
}

/// The explorer's scheduler: one actor runs at a time.
struct Sched {
    m: Mutex<SchedState>,
    cv: Condvar,
}

thread_local! {
    static ME: Cell<usize> = const { Cell::new(usize::MAX) };
}

impl Sched {
    fn new(actors: usize) -> Self {
        Sched {
            m: Mutex::new(SchedState {
                status: vec![Status::Running; actors],
                turn: None,
            }),
            cv: Condvar::new(),
        }
    }

    /// A scheduling point: waits until the explorer picks this actor.
    fn point(&self) {
        let me = ME.with(Cell::get);
        let mut st = self.m.lock().unwrap();
        st.status[me] = Status::Waiting;
        self.cv.notify_all();
        while st.turn != Some(me) {
            st = self.cv.wait(st).unwrap();
        }
        st.turn = None;
        st.status[me] = Status::Running;
    }

    fn done(&self, me: usize) {
        let mut st = self.m.lock().unwrap();
        st.status[me] = Status::Done;
        self.cv.notify_all();
    }

    /// Waits until no actor runs; the waiting ones, or `None` when all are done.
    fn settle(&self) -> Option<Vec<usize>> {
        let mut st = self.m.lock().unwrap();
        while st.turn.is_some() || st.status.contains(&Status::Running) {
            st = self.cv.wait(st).unwrap();
        }
        let waiting: Vec<usize> = (0..st.status.len())
            .filter(|&i| st.status[i] == Status::Waiting)
            .collect();
        (!waiting.is_empty()).then_some(waiting)
    }

    fn run(&self, actor: usize) {
        let mut st = self.m.lock().unwrap();
        st.turn = Some(actor);
        self.cv.notify_all();
    }
}

/// A gate word whose every access is a scheduling point.
struct SchedWord<'a> {
    v: AtomicUsize,
    sched: &'a Sched,
}

impl Word for SchedWord<'_> {
    fn load(&self, _: Ordering) -> usize {
        self.sched.point();
        self.v.load(SeqCst)
    }

    fn compare_exchange(
        &self,
        current: usize,
        new: usize,
        _: Ordering,
        _: Ordering,
    ) -> Result<usize, usize> {
        self.sched.point();
        self.v.compare_exchange(current, new, SeqCst, SeqCst)
    }

    fn fetch_sub(&self, val: usize, _: Ordering) -> usize {
        self.sched.point();
        self.v.fetch_sub(val, SeqCst)
    }

    fn fetch_or(&self, val: usize, _: Ordering) -> usize {
        self.sched.point();
        self.v.fetch_or(val, SeqCst)
    }
}

impl SchedWord<'_> {
    fn fetch_add(&self, val: usize) -> usize {
        self.sched.point();
        self.v.fetch_add(val, SeqCst)
    }

    fn store(&self, val: usize) {
        self.sched.point();
        self.v.store(val, SeqCst)
    }
}

/// What each actor does.
#[derive(Clone, Copy, Debug)]
enum Actor {
    /// A request path: enters, and leaves if it got in.
    User,
    /// `key set` (`true`: the transforms took the key) or `key wipe`
    /// (`false`): closes, sets keys, reopens.
    Rekey(bool),
    /// Two `key set`s in a row.
    RekeyTwice,
    /// A `key set` that failed before it reached the transforms.
    ForgetKey,
}

/// Ghost state, updated by the actor that owns the access right after it
/// (atomically with it, as only one actor runs between two points).
#[derive(Default)]
struct Ghost {
    users: AtomicUsize,
    rekeying: AtomicBool,
    key_invalid: AtomicBool,
}

/// The gate's operations, so that the explorer runs the current gate and
/// the old one alike.
trait GateOps: Sync {
    fn enter(&self) -> bool;
    fn leave(&self);
    fn close(&self) -> bool;
    fn open(&self, key_valid: bool);
    fn forget_key(&self);
    fn word(&self) -> usize;
}

impl GateOps for Gate<SchedWord<'_>> {
    fn enter(&self) -> bool {
        Gate::enter(self)
    }
    fn leave(&self) {
        Gate::leave(self)
    }
    fn close(&self) -> bool {
        Gate::close(self)
    }
    fn open(&self, key_valid: bool) {
        Gate::open(self, key_valid)
    }
    fn forget_key(&self) {
        Gate::forget_key(self)
    }
    fn word(&self) -> usize {
        Gate::word(self).v.load(SeqCst)
    }
}

/// The gate before the fix (commit 964f71c's `TfmSet::enter` and `rekey`),
/// without a key bit.
struct OldGate<'a>(SchedWord<'a>);

impl GateOps for OldGate<'_> {
    fn enter(&self) -> bool {
        let prev = self.0.fetch_add(1);
        if prev & CLOSED != 0 {
            self.0.fetch_sub(1, SeqCst);
            return false;
        }
        true
    }
    fn leave(&self) {
        self.0.fetch_sub(1, SeqCst);
    }
    fn close(&self) -> bool {
        self.0.compare_exchange(0, CLOSED, SeqCst, SeqCst).is_ok()
    }
    fn open(&self, _: bool) {
        self.0.store(0)
    }
    fn forget_key(&self) {}
    fn word(&self) -> usize {
        self.0.v.load(SeqCst)
    }
}

fn check(ok: bool, what: &str) -> Result<(), String> {
    if ok {
        Ok(())
    } else {
        Err(what.to_string())
    }
}

/// One actor's program, checking the gate against the ghost state.
fn act(gate: &dyn GateOps, ghost: &Ghost, actor: Actor) -> Result<(), String> {
    match actor {
        Actor::User => {
            if gate.enter() {
                check(
                    !ghost.rekeying.load(SeqCst),
                    "a user entered while a re-key runs",
                )?;
                check(
                    !ghost.key_invalid.load(SeqCst),
                    "a user entered with no valid key",
                )?;
                ghost.users.fetch_add(1, SeqCst);
                gate.leave();
                ghost.users.fetch_sub(1, SeqCst);
            } else {
                // Refused: only while a re-key runs or the key is not valid
                // (or was, a moment ago: ghost updates follow the accesses).
                let w = gate.word();
                check(
                    w & (CLOSED | NO_KEY) != 0
                        || ghost.rekeying.load(SeqCst)
                        || ghost.key_invalid.load(SeqCst),
                    "a user was refused by an open gate with a valid key",
                )?;
            }
        }
        Actor::RekeyTwice => {
            act(gate, ghost, Actor::Rekey(true))?;
            act(gate, ghost, Actor::Rekey(true))?;
        }
        Actor::Rekey(valid) => {
            if gate.close() {
                check(
                    ghost.users.load(SeqCst) == 0,
                    "a re-key closed the gate with a user in",
                )?;
                check(!ghost.rekeying.swap(true, SeqCst), "two re-keys at once")?;
                let w = gate.word();
                check(
                    w & CLOSED != 0 && w & USERS == 0,
                    "closed gate with users or without CLOSED",
                )?;
                gate.open(valid);
                ghost.rekeying.store(false, SeqCst);
                ghost.key_invalid.store(!valid, SeqCst);
            }
        }
        Actor::ForgetKey => {
            gate.forget_key();
            ghost.key_invalid.store(true, SeqCst);
        }
    }
    Ok(())
}

/// Runs the actors once, taking the choices of `prefix` at the first points
/// and the first enabled actor after it. Returns the choices made (how many
/// actors were enabled, which was taken) and the verdict.
fn run_once(
    old: bool,
    actors: &[Actor],
    prefix: &[usize],
) -> (Vec<(usize, usize)>, Result<(), String>) {
    let sched = Sched::new(actors.len());
    let word = SchedWord {
        v: AtomicUsize::new(0),
        sched: &sched,
    };
    let new_gate;
    let old_gate;
    let gate: &dyn GateOps = if old {
        old_gate = OldGate(word);
        &old_gate
    } else {
        new_gate = Gate::on(word);
        &new_gate
    };
    let ghost = Ghost::default();
    let failure: Mutex<Option<String>> = Mutex::new(None);
    let mut trace = Vec::new();
    std::thread::scope(|s| {
        for (i, &a) in actors.iter().enumerate() {
            let (sched, ghost, failure) = (&sched, &ghost, &failure);
            s.spawn(move || {
                ME.with(|me| me.set(i));
                let r = catch_unwind(AssertUnwindSafe(|| act(gate, ghost, a)))
                    .unwrap_or_else(|_| Err("panic".to_string()));
                if let Err(e) = r {
                    failure
                        .lock()
                        .unwrap()
                        .get_or_insert(format!("actor {i} ({a:?}): {e}"));
                }
                sched.done(i);
            });
        }
        while let Some(waiting) = sched.settle() {
            let step = trace.len();
            let pick = prefix
                .get(step)
                .copied()
                .unwrap_or(0)
                .min(waiting.len() - 1);
            trace.push((waiting.len(), pick));
            sched.run(waiting[pick]);
        }
    });
    if let Some(e) = failure.into_inner().unwrap() {
        return (trace, Err(e));
    }
    // Back to open, no user; the key bit as the last operation left it.
    let w = gate.word();
    let want = if ghost.key_invalid.load(SeqCst) && !old {
        NO_KEY
    } else {
        0
    };
    let r = if w != want {
        Err(format!("gate word {w:#x} at the end, expected {want:#x}"))
    } else {
        Ok(())
    };
    (trace, r)
}

/// Explores every interleaving of `actors`; the number of runs, or the
/// first failure with the choices that led to it.
fn explore(old: bool, actors: &[Actor]) -> Result<usize, String> {
    let mut prefix: Vec<usize> = Vec::new();
    let mut runs = 0;
    loop {
        let (mut trace, r) = run_once(old, actors, &prefix);
        runs += 1;
        if let Err(e) = r {
            let picks: Vec<usize> = trace.iter().map(|t| t.1).collect();
            return Err(format!("{e} (actors {actors:?}, choices {picks:?})"));
        }
        // The next interleaving: the last choice that has an untried sibling.
        loop {
            match trace.pop() {
                None => return Ok(runs),
                Some((n, c)) if c + 1 < n => {
                    trace.push((n, c + 1));
                    break;
                }
                Some(_) => {}
            }
        }
        prefix = trace.iter().map(|t| t.1).collect();
    }
}

/// Like [`explore`], but goes on after failures: the distinct failure
/// messages (without their choices).
fn explore_all(old: bool, actors: &[Actor]) -> Vec<String> {
    let mut prefix: Vec<usize> = Vec::new();
    let mut failures: Vec<String> = Vec::new();
    loop {
        let (mut trace, r) = run_once(old, actors, &prefix);
        if let Err(e) = r {
            let kind = e.split(" at the end").next().unwrap_or(&e).to_string();
            if !failures.contains(&kind) {
                failures.push(kind);
            }
        }
        loop {
            match trace.pop() {
                None => return failures,
                Some((n, c)) if c + 1 < n => {
                    trace.push((n, c + 1));
                    break;
                }
                Some(_) => {}
            }
        }
        prefix = trace.iter().map(|t| t.1).collect();
    }
}

use Actor::{ForgetKey, Rekey, RekeyTwice, User};

#[test]
fn every_interleaving_of_two_actors_keeps_the_gate_invariant() {
    let pairs: [[Actor; 2]; 6] = [
        [User, User],
        [User, Rekey(true)],
        [User, Rekey(false)],
        [User, ForgetKey],
        [Rekey(true), Rekey(false)],
        [Rekey(true), ForgetKey],
    ];
    for actors in pairs {
        let runs = explore(false, &actors).unwrap();
        assert!(runs > 1, "{actors:?}: only {runs} interleaving");
    }
}

#[test]
fn every_interleaving_of_three_actors_keeps_the_gate_invariant() {
    let triples: [[Actor; 3]; 7] = [
        [User, User, Rekey(true)],
        [User, User, Rekey(false)],
        [User, User, RekeyTwice],
        [User, Rekey(true), Rekey(false)],
        [User, Rekey(true), ForgetKey],
        [User, User, ForgetKey],
        [Rekey(true), Rekey(true), ForgetKey],
    ];
    let mut total = 0;
    for actors in triples {
        total += explore(false, &actors).unwrap();
    }
    // The exploration really branches: [User, User, Rekey] alone has
    // thousands of interleavings.
    assert!(total > 1000, "only {total} interleavings");
}

#[test]
fn explorer_finds_the_old_gates_wiped_count() {
    // A user that added to a closed gate, the re-key's `store(0)`, then the
    // user's undo: the count wraps to usize::MAX and the gate stays shut.
    let err = explore(true, &[User, Rekey(true)]).unwrap_err();
    assert!(
        err.contains("gate word") || err.contains("refused"),
        "{err}"
    );
    // With two users and two re-keys, a user and a re-key can be in at
    // once: undos and the reopening's `store(0)` misplace increments.
    let err = explore_all(true, &[User, User, RekeyTwice]);
    let overlap = |e: &String| {
        e.contains("closed the gate with a user in") || e.contains("while a re-key runs")
    };
    assert!(err.iter().any(overlap), "{err:?}");
}

#[test]
fn a_wiped_key_refuses_users_until_a_valid_rekey() {
    let g = Gate::new();
    assert!(g.enter());
    g.leave();
    assert!(g.close());
    g.open(false);
    assert!(!g.enter(), "entered with the key wiped");
    assert!(g.close());
    g.open(true);
    assert!(g.enter());
    // A failed `key set` while a user is in: the user stays, nobody new.
    g.forget_key();
    assert!(!g.enter());
    assert!(!g.close(), "closed over a user");
    g.leave();
    assert!(g.close());
    g.open(true);
    assert!(g.enter());
    g.leave();
}
