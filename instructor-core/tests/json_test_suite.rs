//! JSONTestSuite through the incremental parser: every case whole and one byte per
//! chunk. `y_` cases are accepted with serde_json's value, `n_` cases are rejected,
//! and nothing panics or hangs (including 100 000 opening brackets).

use instructor_core::partial::ValueBuilder;
use instructor_core::stream::{FeedError, Parser};
use instructor_core::{Event, PartialError, PathSegment};
use std::path::PathBuf;

fn suite_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../testdata/JSONTestSuite/test_parsing")
}

/// Parses `bytes` in chunks of `chunk` bytes into a `serde_json::Value`.
fn parse(bytes: &[u8], chunk: usize) -> Result<serde_json::Value, String> {
    let mut parser = Parser::new();
    let mut builder = ValueBuilder::default();
    let mut value = None;
    let mut sink = |path: &[PathSegment], event: Event<'_>| -> Result<(), PartialError> {
        if let Some(done) = builder.push(path, &event)? {
            value = Some(done);
        }
        Ok(())
    };
    let describe = |e: FeedError<PartialError>| e.to_string();
    for piece in bytes.chunks(chunk.max(1)) {
        parser.feed(piece, &mut sink).map_err(describe)?;
    }
    parser.finish(&mut sink).map_err(describe)?;
    value.ok_or_else(|| "no value".to_owned())
}

fn cases(prefix: &str) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(suite_dir())
        .expect("testdata/JSONTestSuite is part of the repository")
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| {
            path.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(prefix) && n.ends_with(".json"))
        })
        .map(|path| {
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            (name, std::fs::read(&path).expect("readable"))
        })
        .collect();
    out.sort();
    out
}

#[test]
fn every_y_case_is_accepted_with_serde_json_s_value() {
    let cases = cases("y_");
    assert_eq!(cases.len(), 95);
    let mut failures = Vec::new();
    for (name, bytes) in &cases {
        let expected: serde_json::Value =
            serde_json::from_slice(bytes).unwrap_or_else(|e| panic!("{name}: serde_json: {e}"));
        for chunk in [usize::MAX, 1] {
            match parse(bytes, chunk) {
                Ok(value) if value == expected => {}
                Ok(value) => {
                    failures.push(format!("{name} (chunk {chunk}): {value} != {expected}"))
                }
                Err(e) => failures.push(format!("{name} (chunk {chunk}): rejected: {e}")),
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_n_case_is_rejected() {
    let cases = cases("n_");
    assert_eq!(cases.len(), 188);
    let mut failures = Vec::new();
    for (name, bytes) in &cases {
        for chunk in [usize::MAX, 1] {
            if let Ok(value) = parse(bytes, chunk) {
                failures.push(format!("{name} (chunk {chunk}): accepted as {value}"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn implementation_defined_cases_never_panic_and_agree_with_serde_json_when_accepted() {
    for (name, bytes) in cases("i_") {
        let whole = parse(&bytes, usize::MAX);
        let bytewise = parse(&bytes, 1);
        assert_eq!(whole, bytewise, "{name}: chunking changed the outcome");
        if let (Ok(ours), Ok(theirs)) =
            (&whole, serde_json::from_slice::<serde_json::Value>(&bytes))
        {
            assert_eq!(ours, &theirs, "{name}");
        }
    }
}

#[test]
fn a_hundred_thousand_opening_brackets_hit_the_depth_limit() {
    let bytes = std::fs::read(suite_dir().join("n_structure_100000_opening_arrays.json"))
        .expect("readable");
    let error = parse(&bytes, 1).expect_err("too deep");
    assert!(
        error.contains("nesting deeper than the limit of 128"),
        "{error}"
    );
}
