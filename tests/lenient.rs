//! A hostile corpus for lenient mode: every repair it makes (and records), and the
//! inputs it must refuse rather than guess. Strict mode repairs nothing.

use instructor::prelude::*;
use instructor::stream::{Parser, RepairKind, parse_lenient};
use instructor::{Event, PathSegment};

#[derive(Debug, Clone, PartialEq, Deserialize, Extract)]
#[serde(rename_all = "snake_case")]
enum Priority {
    Low,
    High,
    VeryHigh,
}

#[derive(Debug, PartialEq, Deserialize, Extract)]
struct Ticket {
    title: String,
    priority: Priority,
    estimate: u32,
    done: bool,
    tags: Vec<String>,
    ratio: Option<f64>,
}

fn ticket(title: &str) -> Ticket {
    Ticket {
        title: title.to_owned(),
        priority: Priority::High,
        estimate: 3,
        done: false,
        tags: vec!["ui".to_owned()],
        ratio: None,
    }
}

const CLEAN: &str = r#"{"title": "Fix login", "priority": "high", "estimate": 3, "done": false, "tags": ["ui"], "ratio": null}"#;

fn read(text: &str) -> (Ticket, Vec<String>) {
    let read = parse_lenient::<Ticket>(text, &Context::new())
        .unwrap_or_else(|e| panic!("{text:?} should be read: {e}"));
    let repairs = read.repairs.iter().map(ToString::to_string).collect();
    (read.value, repairs)
}

fn refused(text: &str) -> String {
    match parse_lenient::<Ticket>(text, &Context::new()) {
        Ok(read) => panic!(
            "{text:?} must be refused, got {:?} via {:?}",
            read.value, read.repairs
        ),
        Err(error) => error.to_string(),
    }
}

fn assert_repaired(text: &str, expected_repair: &str) {
    let (value, repairs) = read(text);
    assert_eq!(value, ticket("Fix login"), "{text}");
    assert!(
        repairs.iter().any(|r| r.contains(expected_repair)),
        "{text:?}: no repair containing {expected_repair:?} in {repairs:#?}"
    );
}

#[test]
fn clean_json_needs_no_repair() {
    let (value, repairs) = read(CLEAN);
    assert_eq!(value, ticket("Fix login"));
    assert!(repairs.is_empty(), "{repairs:?}");
}

#[test]
fn json_in_a_fence_with_prose_around() {
    assert_repaired(
        &format!("Here is the ticket:\n```json\n{CLEAN}\n```\nLet me know!"),
        "skipped the text around a ```json fence",
    );
}

#[test]
fn several_fences_take_the_one_that_fits() {
    let text = format!(
        "First a config:\n```json\n{{\"debug\": true}}\n```\nThen the ticket:\n```json\n{CLEAN}\n```"
    );
    let (value, _) = read(&text);
    assert_eq!(value, ticket("Fix login"));
}

#[test]
fn an_unlabelled_or_other_fence() {
    assert_repaired(&format!("```\n{CLEAN}\n```"), "fence");
    assert_repaired(&format!("```javascript\n{CLEAN}\n```"), "fence");
}

#[test]
fn prose_before_and_after() {
    assert_repaired(
        &format!("Sure! The ticket is {CLEAN} — hope that helps."),
        "skipped text before the JSON",
    );
    let (_, repairs) = read(&format!("{CLEAN} and that's all."));
    assert!(
        repairs.iter().any(|r| r.contains("text after the JSON")),
        "{repairs:?}"
    );
}

#[test]
fn think_blocks_are_skipped_even_with_braces_inside() {
    assert_repaired(
        &format!("<think>Maybe {{\"title\": 1}}? No.</think>\n{CLEAN}"),
        "skipped a <think> block",
    );
}

#[test]
fn trailing_commas() {
    assert_repaired(
        r#"{"title": "Fix login", "priority": "high", "estimate": 3, "done": false, "tags": ["ui",], "ratio": null,}"#,
        "dropped a trailing comma",
    );
}

#[test]
fn comments() {
    assert_repaired(
        "{\n  // the summary\n  \"title\": \"Fix login\", /* urgent */ \"priority\": \"high\",\n  \"estimate\": 3, \"done\": false, \"tags\": [\"ui\"], \"ratio\": null\n}",
        "skipped a comment",
    );
}

#[test]
fn unquoted_keys_and_single_quotes() {
    assert_repaired(
        "{title: 'Fix login', priority: 'high', estimate: 3, done: false, tags: ['ui'], ratio: null}",
        "read an unquoted key",
    );
    assert_repaired(
        "{'title': 'Fix login', 'priority': 'high', 'estimate': 3, 'done': false, 'tags': ['ui'], 'ratio': null}",
        "read a single-quoted string",
    );
}

#[test]
fn python_literals() {
    assert_repaired(
        r#"{"title": "Fix login", "priority": "high", "estimate": 3, "done": False, "tags": ["ui"], "ratio": None}"#,
        "read `False` as `false`",
    );
}

#[test]
fn missing_commas_between_members() {
    assert_repaired(
        r#"{"title": "Fix login" "priority": "high", "estimate": 3, "done": false, "tags": ["ui" "x"], "ratio": null}"#
            .replace(r#"["ui" "x"]"#, r#"["ui"]"#)
            .as_str(),
        "assumed a missing comma",
    );
}

#[test]
fn raw_newlines_inside_strings() {
    let (value, repairs) = read(
        "{\"title\": \"Fix\nlogin\", \"priority\": \"high\", \"estimate\": 3, \"done\": false, \"tags\": [\"ui\"], \"ratio\": null}",
    );
    assert_eq!(value.title, "Fix\nlogin");
    assert!(
        repairs.iter().any(|r| r.contains("raw control character")),
        "{repairs:?}"
    );
}

#[test]
fn truncated_tails_are_closed() {
    // The answer was cut inside the tags list: the string and the containers close,
    // and the missing optional field stays absent.
    let (value, repairs) = read(
        r#"{"title": "Fix login", "priority": "high", "estimate": 3, "done": false, "tags": ["ui"#,
    );
    assert_eq!(value.tags, ["ui"]);
    assert!(
        repairs.iter().any(|r| r.contains("closed a string")),
        "{repairs:?}"
    );
    assert!(
        repairs.iter().any(|r| r.contains("closed 2 container")),
        "{repairs:?}"
    );
    // Cut inside a number after the last required field: the number is dropped.
    let (value, repairs) = read(
        r#"{"title": "Fix login", "priority": "high", "estimate": 3, "done": false, "tags": ["ui"], "ratio": 0."#,
    );
    assert_eq!(value.ratio, None);
    assert!(
        repairs.iter().any(|r| r.contains("dropped a value")),
        "{repairs:?}"
    );
}

#[test]
fn schema_guided_coercions() {
    let (value, repairs) = read(
        r#"{"title": 42, "priority": "Very High!", "estimate": "3", "done": "FALSE", "tags": "ui", "ratio": "0.5"}"#,
    );
    assert_eq!(value.title, "42");
    assert_eq!(value.priority, Priority::VeryHigh);
    assert_eq!(value.estimate, 3);
    assert!(!value.done);
    assert_eq!(value.tags, ["ui"]);
    assert_eq!(value.ratio, Some(0.5));
    for expected in [
        "title: converted 42 to \"42\"",
        "priority: converted \"Very High!\" to \"very_high\"",
        "estimate: converted \"3\" to 3",
        "done: converted \"FALSE\" to false",
        "tags: converted \"ui\" to [\"ui\"]",
        "ratio: converted \"0.5\" to 0.5",
    ] {
        assert!(
            repairs.contains(&expected.to_owned()),
            "{expected} not in {repairs:#?}"
        );
    }
}

#[test]
fn whole_floats_become_integers() {
    let (value, repairs) = read(
        r#"{"title": "Fix login", "priority": "high", "estimate": 3.0, "done": false, "tags": ["ui"], "ratio": null}"#,
    );
    assert_eq!(value.estimate, 3);
    assert!(
        repairs.contains(&"estimate: converted 3.0 to 3".to_owned()),
        "{repairs:?}"
    );
}

#[test]
fn a_wrapper_named_after_the_type_is_removed() {
    let (value, repairs) = read(&format!(r#"{{"Ticket": {CLEAN}}}"#));
    assert_eq!(value, ticket("Fix login"));
    assert!(
        repairs
            .iter()
            .any(|r| r.contains("removed the wrapper object `Ticket`"))
    );
}

#[test]
fn refuses_what_it_cannot_read_without_guessing() {
    for (text, why) in [
        ("I cannot help with that.", "no JSON"),
        ("", "no JSON"),
        (r#"{"title": "Fix login", "priority": }"#, "a missing value"),
        (r#"{"title" "Fix login"}"#, "a missing colon"),
        (
            r#"{"title": "Fix login", "priority": "high"]"#,
            "a mismatched bracket",
        ),
        (
            r#"{"title": "Fix login", xyz}"#,
            "a bare word where a member should be",
        ),
        (
            r#"{"title": "Fix login", "priority": "urgent", "estimate": 3, "done": false, "tags": [], "ratio": null}"#,
            "an enum value matching nothing",
        ),
        (
            r#"{"title": "Fix login", "priority": "high", "estimate": "three", "done": false, "tags": [], "ratio": null}"#,
            "a number in words",
        ),
        (
            r#"{"title": "Fix login", "priority": "high", "estimate": 3.5, "done": false, "tags": [], "ratio": null}"#,
            "a fractional integer",
        ),
        (
            r#"{"title": "Fix login", "priority": "high", "estimate": 3, "done": "maybe", "tags": [], "ratio": null}"#,
            "a boolean in words",
        ),
        (
            r#"{"title": "Fix login", "priority": "high", "estimate": 3, "done": false}"#,
            "a missing required field",
        ),
        (
            "```json\n{\"debug\": true}\n```",
            "a fence with some other JSON",
        ),
    ] {
        let error = refused(text);
        assert!(!error.is_empty(), "{why}");
    }
}

#[test]
fn refusal_of_an_ambiguous_enum_match() {
    #[derive(Debug, Deserialize, Extract)]
    #[allow(dead_code)]
    enum Size {
        #[serde(rename = "x-large")]
        XLarge,
        #[serde(rename = "x_large")]
        XLargeAlt,
    }
    #[derive(Debug, Deserialize, Extract)]
    #[allow(dead_code)]
    struct Shirt {
        size: Size,
    }
    let error = parse_lenient::<Shirt>(r#"{"size": "X Large"}"#, &Context::new())
        .expect_err("two variants normalize alike: no guess");
    assert!(error.to_string().contains("size"), "{error}");
}

#[test]
fn strict_mode_repairs_nothing() {
    for text in [
        r#"{"a": [1,],}"#,
        "{a: 1}",
        "{'a': 1}",
        r#"{"a": True}"#,
        "{\"a\": 1 // note\n}",
        r#"{"a": 1 "b": 2}"#,
        "{\"a\": \"x\ny\"}",
        r#"{"a": "x"#,
        r#"{"a": NaN}"#,
    ] {
        let mut parser = Parser::new();
        let mut sink = |_: &[PathSegment], _: Event<'_>| Ok::<(), std::convert::Infallible>(());
        let outcome = parser
            .feed(text.as_bytes(), &mut sink)
            .and_then(|()| parser.finish(&mut sink));
        assert!(outcome.is_err(), "strict mode accepted {text:?}");
        assert!(parser.repairs().is_empty());
    }
}

#[test]
fn every_repair_is_recorded_with_where_it_was_made() {
    let text = "{title: 'Fix login', priority: 'High', estimate: '3', done: False, tags: ['ui',], ratio: None,}";
    let read = parse_lenient::<Ticket>(text, &Context::new()).expect("readable");
    let kinds: Vec<&RepairKind> = read.repairs.iter().map(|r| &r.kind).collect();
    assert!(kinds.contains(&&RepairKind::UnquotedKey));
    assert!(kinds.contains(&&RepairKind::SingleQuotes));
    assert!(kinds.contains(&&RepairKind::TrailingComma));
    let coercion = read
        .repairs
        .iter()
        .find(|r| matches!(r.kind, RepairKind::Coerced { .. }) && r.path == "estimate")
        .expect("estimate coerced");
    assert_eq!(coercion.to_string(), "estimate: converted \"3\" to 3");
}

mod streaming {
    use super::*;
    use instructor::stream::{Limits, PartialStream};

    const ANSWER: &str = "<think>\nThe user wants a ticket. {not json}\n</think>\nHere you go:\n```json\n{\n  // summary first\n  title: 'Fix login',\n  \"priority\": \"High\",\n  \"estimate\": \"3\",\n  \"done\": False,\n  \"tags\": [\"ui\",],\n  \"ratio\": None,\n}\n```\nAnything else?";

    fn stream_in(chunk_size: usize) -> (Vec<PartialTicket>, instructor::stream::Lenient<Ticket>) {
        let mut stream = PartialStream::<Ticket>::lenient(Limits::default());
        let mut snapshots = Vec::new();
        for chunk in ANSWER.as_bytes().chunks(chunk_size) {
            if let Some(partial) = stream
                .feed(chunk)
                .expect("lenient streams do not fail on repairs")
            {
                snapshots.push(partial.clone());
            }
        }
        let read = stream.finish_lenient(&Context::new()).expect("readable");
        (snapshots, read)
    }

    #[test]
    fn a_prompted_answer_streams_and_ends_in_the_coerced_value() {
        for size in [1, 2, 3, 7, 64, ANSWER.len()] {
            let (snapshots, read) = stream_in(size);
            assert_eq!(read.value, ticket("Fix login"), "chunk size {size}");
            let repairs: Vec<String> = read.repairs.iter().map(ToString::to_string).collect();
            for expected in [
                "skipped a <think> block",
                "skipped the text around a ```json fence",
                "skipped a comment",
                "read an unquoted key",
                "title: read a single-quoted string",
                "done: read `False` as `false`",
                "tags: dropped a trailing comma",
                "priority: converted \"High\" to \"high\"",
                "estimate: converted \"3\" to 3",
            ] {
                assert!(
                    repairs.contains(&expected.to_owned()),
                    "size {size}: {expected} not in {repairs:#?}"
                );
            }
            let last = snapshots.last().expect("snapshots");
            assert_eq!(last.title.as_deref(), Some("Fix login"));
            assert_eq!(last.tags, Some(vec!["ui".to_owned()]));
        }
    }

    #[test]
    fn the_title_grows_while_the_answer_streams() {
        let (snapshots, _) = stream_in(2);
        let titles: Vec<&str> = snapshots
            .iter()
            .filter_map(|s| s.title.as_deref())
            .collect();
        assert!(
            titles.contains(&"Fi") || titles.contains(&"F"),
            "{titles:?}"
        );
        assert!(titles.windows(2).all(|w| w[1].starts_with(w[0])));
    }

    #[test]
    fn a_truncated_prompted_answer_is_closed() {
        let mut stream = PartialStream::<Ticket>::lenient(Limits::default());
        stream
            .feed(br#"Sure: {"title": "Fix login", "priority": "high", "estimate": 3, "done": false, "tags": ["u"#)
            .expect("valid so far");
        let read = stream
            .finish_lenient(&Context::new())
            .expect("closed and read");
        assert_eq!(read.value.tags, ["u"]);
        assert!(
            read.repairs
                .iter()
                .any(|r| r.to_string().contains("closed 2 container"))
        );
    }

    #[test]
    fn with_several_fences_the_stream_ends_in_the_one_that_fits() {
        let text = format!(
            "A config first:\n```json\n{{\"debug\": true}}\n```\nThe ticket:\n```json\n{CLEAN}\n```"
        );
        for size in [1, 5, text.len()] {
            let mut stream = PartialStream::<Ticket>::lenient(Limits::default());
            for chunk in text.as_bytes().chunks(size) {
                stream.feed(chunk).expect("lenient");
            }
            let read = stream
                .finish_lenient(&Context::new())
                .expect("the second fence fits");
            assert_eq!(read.value, ticket("Fix login"), "chunk size {size}");
        }
    }

    #[test]
    fn a_brace_in_the_prose_does_not_sink_the_stream() {
        let text = format!("Use {{curly}} braces like this: {CLEAN}");
        let mut stream = PartialStream::<Ticket>::lenient(Limits::default());
        for chunk in text.as_bytes().chunks(4) {
            stream.feed(chunk).expect("a lenient stream keeps going");
        }
        let read = stream.finish_lenient(&Context::new()).expect("readable");
        assert_eq!(read.value, ticket("Fix login"));
    }

    #[test]
    fn an_answer_without_json_is_an_error() {
        let mut stream = PartialStream::<Ticket>::lenient(Limits::default());
        assert!(
            stream
                .feed(b"I'm sorry, I can't do that.")
                .expect("prose")
                .is_none()
        );
        let error = stream.finish_lenient(&Context::new()).expect_err("no JSON");
        assert!(error.to_string().contains("no JSON"), "{error}");
    }
}
