//! Strict streaming reads what serde_json reads: on documents with unknown, ignored
//! fields (strings with every kind of escape, lone surrogates, nested unknown objects)
//! a `PartialStream` fed in any chunking ends in serde_json's value, or fails where
//! serde_json fails. `.partial()` must never re-ask what `.await` accepts.

use instructor_core::Context;
use instructor_core::stream::PartialStream;
use instructor_macros::Extract;
use proptest::prelude::*;
use serde::Deserialize;

#[derive(Debug, PartialEq, Deserialize, Extract)]
#[extract(crate = "instructor_core")]
struct Inner {
    label: String,
}

#[derive(Debug, PartialEq, Deserialize, Extract)]
#[extract(crate = "instructor_core")]
struct Known {
    name: String,
    n: u32,
    inner: Option<Inner>,
}

/// A JSON string literal, escapes and lone surrogates included (as written, since
/// serde_json cannot write a lone surrogate).
fn string_literal(allow_lone: bool) -> impl Strategy<Value = String> {
    let mut pieces = vec![
        "a",
        "é",
        "😀",
        " ",
        r"\n",
        r#"\""#,
        r"\\",
        r"\/",
        r"\u00e9",
        r"\ud83d\ude00",
        r"\t",
    ];
    if allow_lone {
        pieces.extend([
            r"\ud800",
            r"\udc00",
            r"\ud800\n",
            r"\ud800\u0041",
            r"\udbff\udbff",
        ]);
    }
    prop::collection::vec(prop::sample::select(pieces), 0..5)
        .prop_map(|pieces| format!("\"{}\"", pieces.concat()))
}

/// Any JSON value, as text, with lone surrogates in its strings and keys.
fn unknown_value() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        string_literal(true),
        prop::sample::select(vec!["0", "-1.5e3", "true", "null", "12345678901234567890"])
            .prop_map(str::to_owned),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4)
                .prop_map(|items| format!("[{}]", items.join(","))),
            prop::collection::vec((string_literal(true), inner), 0..4).prop_map(|members| {
                let members: Vec<String> = members
                    .into_iter()
                    .map(|(k, v)| format!("{k}: {v}"))
                    .collect();
                format!("{{{}}}", members.join(", "))
            }),
        ]
    })
}

/// A `Known` with unknown members among its own, in any order; a lone surrogate
/// sometimes lands in a field that is read (which serde_json refuses).
fn document() -> impl Strategy<Value = String> {
    (
        prop_oneof![4 => string_literal(false), 1 => string_literal(true)],
        prop::option::of(prop_oneof![4 => string_literal(false), 1 => string_literal(true)]),
        prop::collection::vec(
            (string_literal(true), unknown_value()).prop_map(|(k, v)| format!("{k}: {v}")),
            0..4,
        ),
        any::<prop::sample::Index>(),
    )
        .prop_map(|(name, label, mut members, at)| {
            let mut own = vec![format!("\"name\": {name}"), "\"n\": 7".to_owned()];
            if let Some(label) = label {
                own.push(format!(
                    "\"inner\": {{\"label\": {label}, \"x\": \"\\ud800\"}}"
                ));
            }
            for member in own {
                let index = at.index(members.len() + 1);
                members.insert(index, member);
            }
            format!("{{{}}}", members.join(", "))
        })
}

fn streamed(text: &str, cuts: &[prop::sample::Index]) -> Result<Known, String> {
    let bytes = text.as_bytes();
    let mut at: Vec<usize> = cuts.iter().map(|c| c.index(bytes.len() + 1)).collect();
    at.extend([0, bytes.len()]);
    at.sort_unstable();
    at.dedup();
    let mut stream = PartialStream::<Known>::new();
    for pair in at.windows(2) {
        stream
            .feed(&bytes[pair[0]..pair[1]])
            .map_err(|e| format!("feed: {e}"))?;
    }
    stream.finish(&Context::new()).map_err(|e| e.to_string())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn a_strict_stream_ends_where_serde_json_does(
        text in document(),
        cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..10),
    ) {
        let theirs = serde_json::from_str::<Known>(&text);
        let ours = streamed(&text, &cuts);
        match (&theirs, &ours) {
            (Ok(theirs), Ok(ours)) => prop_assert_eq!(theirs, ours),
            (Err(_), Err(_)) => {}
            _ => prop_assert!(false, "{text}: serde_json {theirs:?}, stream {ours:?}"),
        }
    }
}

#[test]
fn a_lone_surrogate_in_an_ignored_field_is_read_and_in_a_read_field_refused() {
    let ignored = r#"{"name": "Ann", "n": 1, "note": "\ud800", "deep": {"\udc00": ["\ud800x"]}}"#;
    let read = r#"{"name": "A\ud800", "n": 1}"#;
    assert!(serde_json::from_str::<Known>(ignored).is_ok());
    assert!(serde_json::from_str::<Known>(read).is_err());
    for size in [1, 3, ignored.len()] {
        let mut stream = PartialStream::<Known>::new();
        for chunk in ignored.as_bytes().chunks(size) {
            stream
                .feed(chunk)
                .expect("an ignored lone surrogate is no error");
        }
        assert_eq!(stream.finish(&Context::new()).expect("read").name, "Ann");
        let mut stream = PartialStream::<Known>::new();
        for chunk in read.as_bytes().chunks(size) {
            stream
                .feed(chunk)
                .expect("refused at the end, by serde_json");
        }
        assert!(stream.finish(&Context::new()).is_err());
    }
}

#[test]
fn an_item_stream_refuses_a_lone_surrogate_rather_than_change_the_text() {
    use instructor_core::stream::{ItemStream, ParseErrorKind, StreamError};
    let mut stream = ItemStream::<Inner>::new(Context::new());
    let first = stream.feed(br#"[{"label": "ok"}, "#).expect("a clean item");
    assert_eq!(first.len(), 1);
    match stream.feed(br#"{"label": "a\ud800"}]"#) {
        Err(StreamError::Parse(error)) => assert_eq!(error.kind, ParseErrorKind::LoneSurrogate),
        other => panic!("{other:?}"),
    }
}
