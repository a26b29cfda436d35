//! Nothing to use: this package holds the derive's UI tests (`tests/compile_fail.rs`).
//!
//! The library target exists because trybuild passes a package's features on to the cases
//! through it: a case built with `--all-features` sees `instructor/garde` and
//! `instructor/schemars` only by depending on this crate.
#![forbid(unsafe_code)]
