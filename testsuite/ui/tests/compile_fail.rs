//! UI tests for `#[derive(Extract)]`: each file in `tests/ui/<topic>/` holds one mistake
//! (except `attrs/all_errors_at_once.rs`), and its `.stderr` is the message users see.
//! Files in `tests/ui/pass/` must compile and run.
//!
//! Regenerate the expected output with
//! `TRYBUILD=overwrite cargo test -p instructor-ui-tests` (and once more with
//! `--all-features`), then read every
//! changed `.stderr`.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/attrs/*.rs");
    t.compile_fail("tests/ui/shapes/*.rs");
    t.compile_fail("tests/ui/serde/*.rs");
    t.compile_fail("tests/ui/strict/*.rs");
    t.compile_fail("tests/ui/crate_path/*.rs");
    t.compile_fail("tests/ui/stream/*.rs");
    t.compile_fail("tests/ui/extract/*.rs");
    t.pass("tests/ui/pass/*.rs");
    // garde rules are read only with the `garde` feature (on by default).
    if cfg!(feature = "garde") {
        t.compile_fail("tests/ui/garde/*.rs");
        t.pass("tests/ui/pass/garde/*.rs");
    }
    // Mistakes whose message depends on a feature being off.
    if cfg!(not(feature = "schemars")) {
        t.compile_fail("tests/ui/features/*.rs");
    }
}
