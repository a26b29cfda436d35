//! Nothing here: this package holds the `instructor` facade's integration and
//! property tests (`tests/`, mapped in `tests/README.md`). They live in their own
//! package so that `cargo run --example ...` does not build test-only dependencies
//! (jsonschema, proptest, trybuild, insta and their trees).
