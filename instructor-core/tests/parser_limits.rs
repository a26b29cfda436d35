//! Limits and strict-mode errors of the parser, each a typed error with its offset.

use instructor_core::stream::{FeedError, Limits, ParseErrorKind, Parser};
use instructor_core::{Event, PathSegment};
use std::convert::Infallible;

fn run(parser: &mut Parser, chunks: &[&[u8]]) -> Result<Vec<String>, FeedError<Infallible>> {
    let mut seen = Vec::new();
    let mut sink = |path: &[PathSegment], event: Event<'_>| {
        seen.push(format!(
            "{} {event:?}",
            instructor_core::partial::display_path(path)
        ));
        Ok::<(), Infallible>(())
    };
    for chunk in chunks {
        parser.feed(chunk, &mut sink)?;
    }
    parser.finish(&mut sink)?;
    Ok(seen)
}

fn kind(result: Result<Vec<String>, FeedError<Infallible>>) -> ParseErrorKind {
    match result {
        Err(FeedError::Parse(error)) => error.kind,
        other => panic!("expected a parse error, got {other:?}"),
    }
}

#[test]
fn the_depth_limit_is_configurable() {
    let limits = Limits {
        max_depth: 3,
        ..Limits::default()
    };
    assert!(run(&mut Parser::with_limits(limits), &[b"[[[1]]]"]).is_ok());
    assert_eq!(
        kind(run(&mut Parser::with_limits(limits), &[b"[[[[1]]]]"])),
        ParseErrorKind::TooDeep { limit: 3 }
    );
}

#[test]
fn the_size_limit_stops_an_unbounded_answer() {
    let limits = Limits {
        max_bytes: Some(16),
        ..Limits::default()
    };
    let mut parser = Parser::with_limits(limits);
    let result = run(&mut parser, &[b"[\"aaaaaaaa", b"aaaaaaaaaaaa"]);
    match result {
        Err(FeedError::Parse(error)) => {
            assert_eq!(error.kind, ParseErrorKind::TooLarge { limit: 16 });
            assert_eq!(error.offset, 16);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_string_limit_applies_to_values_and_keys() {
    let limits = Limits {
        max_string_bytes: Some(4),
        ..Limits::default()
    };
    assert!(run(&mut Parser::with_limits(limits), &[br#"{"abcd": "wxyz"}"#]).is_ok());
    assert_eq!(
        kind(run(&mut Parser::with_limits(limits), &[br#"["abcde"]"#])),
        ParseErrorKind::StringTooLong { limit: 4 }
    );
    assert_eq!(
        kind(run(&mut Parser::with_limits(limits), &[br#"{"abcde": 1}"#])),
        ParseErrorKind::StringTooLong { limit: 4 }
    );
    // Escapes count as what they decode to.
    assert_eq!(
        kind(run(
            &mut Parser::with_limits(limits),
            &[br#"["\u00e9\u00e9\u00e9"]"#]
        )),
        ParseErrorKind::StringTooLong { limit: 4 }
    );
}

#[test]
fn strict_mode_errors_are_typed() {
    for (input, expected) in [
        (&b"[01]"[..], ParseErrorKind::InvalidNumber),
        (b"[1.]", ParseErrorKind::InvalidNumber),
        (b"[-]", ParseErrorKind::InvalidNumber),
        (
            b"[NaN]",
            ParseErrorKind::Unexpected {
                found: b'N',
                expected: "a value or `]`",
            },
        ),
        (
            b"[1, Infinity]",
            ParseErrorKind::Unexpected {
                found: b'I',
                expected: "a value",
            },
        ),
        (b"[\"\xff\"]", ParseErrorKind::InvalidUtf8),
        (b"[\"a\tb\"]", ParseErrorKind::ControlCharacter),
        (br#"["\x41"]"#, ParseErrorKind::InvalidEscape),
        (b"", ParseErrorKind::Empty),
        (b"  \n ", ParseErrorKind::Empty),
        (b"{} {}", ParseErrorKind::TrailingCharacters),
    ] {
        assert_eq!(
            kind(run(&mut Parser::new(), &[input])),
            expected,
            "{:?}",
            String::from_utf8_lossy(input)
        );
    }
}

#[test]
fn errors_say_where() {
    let result = run(&mut Parser::new(), &[br#"{"items": [1, 2,"#, br#" x]}"#]);
    match result {
        Err(FeedError::Parse(error)) => {
            assert_eq!(error.offset, 17);
            assert_eq!(error.path, "items[2]");
            assert_eq!(
                error.to_string(),
                "unexpected `x`, expected a value at byte 17 (in `items[2]`)"
            );
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_surrogate_pair_split_across_chunks_decodes() {
    let text = br#"["\ud83d\ude00 and \u00e9"]"#;
    for cut in 1..text.len() {
        let events = run(&mut Parser::new(), &[&text[..cut], &text[cut..]]).expect("valid");
        let joined: String = events
            .iter()
            .filter_map(|e| e.strip_prefix("[0] StringFragment(\""))
            .map(|e| e.trim_end_matches("\")"))
            .collect();
        assert_eq!(joined, "😀 and é", "cut at {cut}");
    }
}

#[test]
fn a_lone_surrogate_reads_as_a_replacement_character_and_is_counted() {
    // serde_json accepts a lone surrogate inside a field it ignores, so the parser may
    // not fail on one: it reads U+FFFD, counts it, and the reader decides.
    for (text, expected) in [
        (&br#"["\ud800"]"#[..], "\u{FFFD}"),
        (br#"["\udc00"]"#, "\u{FFFD}"),
        (br#"["a\ud800b"]"#, "a\u{FFFD}b"),
        (br#"["\ud800\n"]"#, "\u{FFFD}\n"),
        (br#"["\ud800\u0041"]"#, "\u{FFFD}A"),
        (br#"["\ud800\ud83d\ude00"]"#, "\u{FFFD}\u{1F600}"),
    ] {
        for cut in 1..text.len() {
            let mut parser = Parser::new();
            let events = run(&mut parser, &[&text[..cut], &text[cut..]]).expect("read");
            let joined: String = events
                .iter()
                .filter_map(|e| e.strip_prefix("[0] StringFragment("))
                .map(|e| {
                    serde_json::from_str::<String>(e.trim_end_matches(')')).expect("debug string")
                })
                .collect();
            assert_eq!(
                joined,
                expected,
                "{:?} cut at {cut}",
                String::from_utf8_lossy(text)
            );
            assert_eq!(parser.lone_surrogates(), 1);
        }
    }
}

#[test]
fn crlf_split_between_cr_and_lf_is_whitespace() {
    let events = run(&mut Parser::new(), &[b"{\"a\": 1,\r", b"\n\"b\": 2}\r\n"]).expect("valid");
    assert!(events.contains(&"b Number(\"2\")".to_owned()), "{events:?}");
}

#[test]
fn a_number_is_emitted_only_once_terminated() {
    let numbers = std::cell::RefCell::new(Vec::new());
    let mut parser = Parser::new();
    let mut sink = |_: &[PathSegment], event: Event<'_>| {
        if let Event::Number(n) = event {
            numbers.borrow_mut().push(n.to_owned());
        }
        Ok::<(), Infallible>(())
    };
    parser.feed(b"[4", &mut sink).expect("valid");
    assert!(numbers.borrow().is_empty());
    parser.feed(b"2", &mut sink).expect("valid");
    assert!(numbers.borrow().is_empty());
    parser.feed(b".5e1,", &mut sink).expect("valid");
    assert_eq!(*numbers.borrow(), ["42.5e1"]);
}

#[test]
fn keys_are_announced_at_the_object_s_path_before_their_value() {
    let events = run(&mut Parser::new(), &[br#"{"a": {"b": [true]}}"#]).expect("valid");
    assert_eq!(
        events,
        [
            " BeginObject",
            " Key(\"a\")",
            "a BeginObject",
            "a Key(\"b\")",
            "a.b BeginArray",
            "a.b[0] Bool(true)",
            "a.b EndArray",
            "a EndObject",
            " EndObject",
        ]
    );
}
