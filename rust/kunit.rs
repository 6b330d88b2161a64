// SPDX-License-Identifier: GPL-2.0

//! KUnit suites of a Rust module, without the `#[kunit_tests]` macro of later
//! kernels.
//!
//! C header: `include/kunit/test.h`.
//!
//! A suite is a static [`Suite`] whose address sits in the module's
//! `.kunit_test_suites` section (what C's `kunit_test_suites()` does); the
//! module loader runs it when the module is loaded. Test cases are plain
//! `fn(&mut Test)` and report failed expectations with [`kunit_expect!`],
//! which records the failure and lets the case continue.

use kernel::bindings;
use kernel::ffi::c_char;

/// The running KUnit test (`struct kunit`), handed to each case.
///
/// # Invariants
///
/// `ptr` is the `struct kunit` KUnit passed to the running case.
pub(crate) struct Test {
    ptr: *mut bindings::kunit,
}

/// Where an expectation is written, for the failure report.
pub(crate) struct Loc {
    /// Source file, NUL-terminated.
    pub(crate) file: &'static core::ffi::CStr,
    /// Source line.
    pub(crate) line: u32,
    /// The condition as written, NUL-terminated.
    pub(crate) cond: &'static core::ffi::CStr,
}

impl Test {
    /// Records a failed expectation at `loc` with a formatted message; the
    /// case goes on and is reported as failed.
    pub(crate) fn fail(&mut self, loc: &Loc, msg: core::fmt::Arguments<'_>) {
        let kloc = bindings::kunit_loc {
            file: loc.file.as_ptr().cast(),
            line: loc.line as i32,
        };
        let assert = bindings::kunit_unary_assert {
            assert: bindings::kunit_assert {},
            condition: loc.cond.as_ptr().cast(),
            expected_true: true,
        };
        // SAFETY: `__kunit_do_failed_assertion` needs the running test and
        // location, assertion and message valid for the call, which formats
        // and logs them at once:
        // - `ptr` is the running test (type invariant), borrowed mutably;
        // - `kloc` and `assert` are locals, their strings static and
        //   NUL-terminated; `kunit_unary_assert_format` is the formatter of
        //   a `kunit_unary_assert`, which `assert.assert` is the head of;
        // - the format `%pA` takes a pointer to a `fmt::Arguments`, which
        //   `&msg` is, valid for the call.
        unsafe {
            bindings::__kunit_do_failed_assertion(
                self.ptr,
                &kloc,
                bindings::kunit_assert_type_KUNIT_EXPECTATION,
                &assert.assert,
                Some(bindings::kunit_unary_assert_format),
                c"%pA".as_ptr().cast::<c_char>(),
                &msg as *const core::fmt::Arguments<'_> as *const core::ffi::c_void,
            );
        }
    }
}

/// Checks a condition in a KUnit case; on failure, records it (with the
/// optional formatted message) and continues.
#[macro_export]
macro_rules! kunit_expect {
    ($test:expr, $cond:expr) => {
        $crate::kunit_expect!($test, $cond, "")
    };
    ($test:expr, $cond:expr, $($fmt:tt)+) => {
        if !$cond {
            static LOC: $crate::kunit::Loc = $crate::kunit::Loc {
                file: match core::ffi::CStr::from_bytes_with_nul(concat!(file!(), "\0").as_bytes()) {
                    Ok(s) => s,
                    Err(_) => c"?",
                },
                line: line!(),
                cond: match core::ffi::CStr::from_bytes_with_nul(concat!(stringify!($cond), "\0").as_bytes()) {
                    Ok(s) => s,
                    Err(_) => c"?",
                },
            };
            $test.fail(&LOC, format_args!($($fmt)+));
        }
    };
}

/// Builds the C case table of a suite: `cases` then the terminating empty entry.
pub(crate) const fn c_cases<const N: usize>(
    cases: [(
        &'static core::ffi::CStr,
        unsafe extern "C" fn(*mut bindings::kunit),
    ); N],
) -> [bindings::kunit_case; N] {
    // SAFETY: `zeroed` needs all-zero to be a valid `kunit_case`: it is a C
    // struct of integers, nullable pointers and `Option`s of functions, for
    // which all-zero is valid (and is C's "unset").
    let mut out: [bindings::kunit_case; N] = unsafe { core::mem::zeroed() };
    let mut i = 0;
    // `i < N`, the length of both arrays; and this runs at compile time
    // (the statics of `kunit_suite!`), where a panic fails the build.
    #[allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)]
    while i < N {
        out[i].run_case = Some(cases[i].1);
        out[i].name = cases[i].0.as_ptr().cast();
        i += 1;
    }
    out
}

/// Runs a Rust case body for the C entry point KUnit calls.
///
/// # Safety
///
/// `test` must be the `struct kunit` KUnit passed to the running case.
pub(crate) unsafe fn run(test: *mut bindings::kunit, body: fn(&mut Test)) {
    // INVARIANT: The caller's guarantee; `body` only borrows `t`, which does
    // not outlive the case.
    let mut t = Test { ptr: test };
    body(&mut t);
}

/// Declares a KUnit suite named `$name` with the given case functions and
/// places it in the module's `.kunit_test_suites` section.
#[macro_export]
macro_rules! kunit_suite {
    ($name:literal, [$($case:ident),+ $(,)?]) => {
        // This wrapper's unsafe code, expanded where the suite is declared,
        // which may deny `unsafe_code`.
        #[allow(unsafe_code)]
        mod __kunit_suite {
            use kernel::bindings;
            $(
                /// The C entry point KUnit calls for this case.
                ///
                /// # Safety
                ///
                /// `test` must be the running test KUnit passes to the case.
                unsafe extern "C" fn $case(test: *mut bindings::kunit) {
                    // SAFETY: `run`'s contract: `test` is the running test
                    // (the caller's guarantee).
                    unsafe { $crate::kunit::run(test, super::$case) }
                }
            )+

            const N: usize = [$(stringify!($case)),+].len();

            static mut CASES: [bindings::kunit_case; N + 1] = {
                let c = $crate::kunit::c_cases([$(
                    (match core::ffi::CStr::from_bytes_with_nul(concat!(stringify!($case), "\0").as_bytes()) {
                        Ok(s) => s,
                        Err(_) => c"?",
                    }, $case as unsafe extern "C" fn(*mut bindings::kunit))
                ),+]);
                // SAFETY: `zeroed` needs all-zero to be a valid
                // `kunit_case`, which it is (integers, nullable pointers,
                // `Option`s of functions); it is also the terminating entry
                // of a case table.
                let mut all: [bindings::kunit_case; N + 1] = unsafe { core::mem::zeroed() };
                let mut i = 0;
                // `i < N`, within both arrays; at compile time (a static).
                #[allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)]
                while i < N {
                    all[i] = c[i];
                    i += 1;
                }
                all
            };

            static mut SUITE: bindings::kunit_suite = {
                // SAFETY: `zeroed` needs all-zero to be a valid
                // `kunit_suite`, which it is (integers, arrays, nullable
                // pointers, `Option`s of functions): the initial state of a
                // suite.
                let mut s: bindings::kunit_suite = unsafe { core::mem::zeroed() };
                let name = $name.as_bytes();
                let mut i = 0;
                // `i` within both (the last byte of `s.name` stays NUL); at
                // compile time (a static).
                #[allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)]
                while i < name.len() && i + 1 < s.name.len() {
                    s.name[i] = name[i];
                    i += 1;
                }
                s.test_cases = core::ptr::addr_of_mut!(CASES).cast();
                s
            };

            #[repr(transparent)]
            struct SuitePtr(*mut bindings::kunit_suite);
            // SAFETY: `&SuitePtr` gives only the pointer, which Rust code
            // never follows; the module loader and KUnit, which do, run the
            // suite in one thread at a time.
            unsafe impl Sync for SuitePtr {}

            #[used]
            #[link_section = ".kunit_test_suites"]
            static SUITE_PTR: SuitePtr = SuitePtr(core::ptr::addr_of_mut!(SUITE));
        }
    };
}
