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

/// Whether any repair's text contains `needle`.
fn has_repair(repairs: &[String], needle: &str) -> bool {
    repairs.iter().any(|r| r.contains(needle))
}

mod reasoning_inside_values {
    use super::*;

    #[test]
    fn think_tags_inside_a_string_value_are_text() {
        let value = CLEAN.replace("Fix login", "a <think>x</think> b");
        for text in [
            value.clone(),
            format!("<think>plan</think>\n{value}"),
            format!("Here:\n```json\n{value}\n```"),
        ] {
            let (read, _) = read(&text);
            assert_eq!(read.title, "a <think>x</think> b", "{text}");
        }
    }

    #[test]
    fn a_fence_inside_a_string_value_is_text() {
        let value = CLEAN.replace("Fix login", "run ```cargo test``` first");
        let (read, _) = read(&format!("```json\n{value}\n```"));
        assert_eq!(read.title, "run ```cargo test``` first");
    }
}

mod several_values {
    use super::*;

    fn with_title(title: &str) -> String {
        CLEAN.replace("Fix login", title)
    }

    #[test]
    fn an_echoed_format_example_gives_way_to_the_answer() {
        let text = format!(
            "You asked for this format: {}\nHere is the ticket: {CLEAN}",
            with_title("string")
        );
        let (value, repairs) = read(&text);
        assert_eq!(value, ticket("Fix login"));
        assert!(
            has_repair(&repairs, "passed over an earlier value at byte 27"),
            "{repairs:#?}"
        );
    }

    #[test]
    fn a_corrected_draft_gives_way_to_the_correction() {
        let text = format!(
            "{}\nWait, the title is wrong. Corrected:\n{CLEAN}",
            with_title("Fix logn")
        );
        assert_eq!(read(&text).0, ticket("Fix login"));
    }

    #[test]
    fn an_empty_list_in_prose_gives_way_to_the_items() {
        let text = format!("If nothing matched I would answer []. The tickets: [{CLEAN}]");
        let read = parse_lenient::<Vec<Ticket>>(&text, &Context::new()).expect("readable");
        assert_eq!(read.value, [ticket("Fix login")]);
        let text = format!("The tickets: [{CLEAN}]. With none, the answer would be [].");
        let read = parse_lenient::<Vec<Ticket>>(&text, &Context::new()).expect("readable");
        assert_eq!(read.value, [ticket("Fix login")]);
        assert!(
            read.repairs
                .iter()
                .any(|r| r.to_string().contains("passed over an empty value")),
            "{:#?}",
            read.repairs
        );
    }

    #[test]
    fn a_draft_in_reasoning_without_an_opening_tag_is_never_read() {
        let text = format!("Drafting: {}</think>\n{CLEAN}", with_title("draft"));
        let (value, repairs) = read(&text);
        assert_eq!(value, ticket("Fix login"));
        assert!(has_repair(&repairs, "inside reasoning"), "{repairs:#?}");
        // With nothing after the reasoning, there is no answer.
        refused(&format!("Drafting: {CLEAN}</think>\nI cannot answer that."));
    }

    #[test]
    fn a_fenced_value_is_preferred_to_one_in_prose() {
        let fenced = format!("```json\n{CLEAN}\n```");
        for text in [
            format!("Like {} but:\n{fenced}", with_title("prose")),
            format!("{fenced}\nor, in short, {}", with_title("prose")),
        ] {
            let (value, repairs) = read(&text);
            assert_eq!(value, ticket("Fix login"), "{text}");
            assert!(
                has_repair(&repairs, "outside a ```json fence"),
                "{repairs:#?}"
            );
        }
    }

    #[test]
    fn a_value_that_is_not_a_t_is_passed_over_and_named() {
        let (value, repairs) = read(&format!("{CLEAN} then {{\"debug\": true}}"));
        assert_eq!(value, ticket("Fix login"));
        assert!(
            has_repair(
                &repairs,
                "that is not a `Ticket` (title: missing required field"
            ),
            "{repairs:#?}"
        );
        let (value, repairs) = read(&format!("{{\"debug\": true}} then {CLEAN}"));
        assert_eq!(value, ticket("Fix login"));
        assert!(
            has_repair(&repairs, "an earlier value at byte 0"),
            "{repairs:#?}"
        );
    }
}

mod peers_accept {
    use super::*;

    #[test]
    fn an_escaped_single_quote() {
        let (value, repairs) = read(&CLEAN.replace("Fix login", r"Fix Ann\'s login"));
        assert_eq!(value.title, "Fix Ann's login");
        assert!(has_repair(
            &repairs,
            "title: read an escape JSON does not have"
        ));
        // Other escapes JSON does not have are kept as written.
        let (value, _) = read(&CLEAN.replace("Fix login", r"match \d+"));
        assert_eq!(value.title, r"match \d+");
    }

    #[test]
    fn unescaped_quotes_inside_a_string() {
        let (value, repairs) = read(&CLEAN.replace("Fix login", r#"Fix the "login" page"#));
        assert_eq!(value.title, r#"Fix the "login" page"#);
        assert!(
            has_repair(&repairs, "title: kept an unescaped quote"),
            "{repairs:#?}"
        );
        let (value, _) = read(
            "{title: 'Fix Ann's login', priority: 'high', estimate: 3, done: false, tags: ['ui'], ratio: null}",
        );
        assert_eq!(value.title, "Fix Ann's login");
    }

    #[test]
    fn hash_comments() {
        assert_repaired(
            "{\n  # the summary\n  \"title\": \"Fix login\", \"priority\": \"high\", # urgent\n  \"estimate\": 3, \"done\": false, \"tags\": [\"ui\"], \"ratio\": null\n}",
            "skipped a comment",
        );
    }

    #[test]
    fn undefined() {
        assert_repaired(
            &CLEAN.replace("\"ratio\": null", "\"ratio\": undefined"),
            "ratio: read `undefined` as `null`",
        );
    }

    #[test]
    fn curly_quotes_around_keys_and_strings() {
        assert_repaired(
            "{“title”: “Fix login”, ‘priority’: ‘high’, “estimate”: 3, “done”: false, “tags”: [“ui”], “ratio”: null}",
            "read a string in curly quotes",
        );
    }

    #[test]
    fn a_one_line_fence() {
        assert_repaired(&format!("```json {CLEAN} ```"), "fence");
        assert_repaired(&format!("Here: ```{CLEAN}```"), "fence");
    }
}

mod coercions {
    use super::*;

    #[derive(Debug, PartialEq, Deserialize, Extract)]
    struct Address {
        city: String,
    }

    #[derive(Debug, PartialEq, Deserialize, Extract)]
    struct Order {
        first_name: String,
        unit_price: f64,
        quantity: u32,
        address: Address,
        lines: Vec<String>,
    }

    fn order(text: &str) -> (Order, Vec<String>) {
        let read = parse_lenient::<Order>(text, &Context::new())
            .unwrap_or_else(|e| panic!("{text:?} should be read: {e}"));
        (
            read.value,
            read.repairs.iter().map(ToString::to_string).collect(),
        )
    }

    #[test]
    fn keys_that_differ_only_by_case_spaces_or_separators() {
        for (first_name, unit_price) in [
            ("First Name", "Unit Price"),
            ("first-name", "unit-price"),
            ("FirstName", "unitPrice"),
        ] {
            let (value, repairs) = order(&format!(
                r#"{{"{first_name}": "Ann", "{unit_price}": 2.5, "quantity": 1, "address": {{"City": "Oslo"}}, "lines": []}}"#
            ));
            assert_eq!(value.first_name, "Ann");
            assert_eq!(value.address.city, "Oslo");
            assert!(
                has_repair(
                    &repairs,
                    &format!("read the key `{first_name}` as `first_name`")
                ),
                "{repairs:#?}"
            );
            assert!(has_repair(
                &repairs,
                "address: read the key `City` as `city`"
            ));
        }
    }

    #[test]
    fn a_key_matching_two_fields_or_one_already_present_is_not_renamed() {
        let error = parse_lenient::<Order>(
            r#"{"first_name": "Ann", "First Name": "Bo", "unit_price": 1, "quantity": 1, "address": {"city": "Oslo"}, "lines": []}"#,
            &Context::new(),
        );
        assert_eq!(error.expect("readable").value.first_name, "Ann");
    }

    #[test]
    fn numbers_with_a_currency_sign_or_thousands_separators() {
        for (written, expected) in [
            ("\"$1,199.99\"", 1199.99),
            ("\"1,200 €\"", 1200.0),
            ("\"-£5\"", -5.0),
            ("\"¥12,345,678\"", 12_345_678.0),
        ] {
            let (value, repairs) = order(&format!(
                r#"{{"first_name": "Ann", "unit_price": {written}, "quantity": "1,000", "address": {{"city": "Oslo"}}, "lines": []}}"#
            ));
            assert_eq!(value.unit_price, expected, "{written}");
            assert_eq!(value.quantity, 1000);
            assert!(
                has_repair(&repairs, &format!("unit_price: converted {written} to")),
                "{repairs:#?}"
            );
        }
        // Separators that are not thousands are not guessed at.
        for written in ["\"1,5\"", "\"1.199,99\"", "\"12,34,567\"", "\"$\""] {
            let text = format!(
                r#"{{"first_name": "Ann", "unit_price": {written}, "quantity": 1, "address": {{"city": "Oslo"}}, "lines": []}}"#
            );
            assert!(
                parse_lenient::<Order>(&text, &Context::new()).is_err(),
                "{written} was guessed"
            );
        }
    }

    #[test]
    fn an_object_or_list_double_encoded_as_a_string() {
        let (value, repairs) = order(
            r#"{"first_name": "Ann", "unit_price": 1, "quantity": 1, "address": "{\"city\": \"Oslo\"}", "lines": "[\"a\", \"b\"]"}"#,
        );
        assert_eq!(value.address.city, "Oslo");
        assert_eq!(value.lines, ["a", "b"]);
        assert!(has_repair(&repairs, "address: converted"), "{repairs:#?}");
        // A string that is not JSON is still one value for a list.
        let (value, _) = order(
            r#"{"first_name": "Ann", "unit_price": 1, "quantity": 1, "address": {"city": "Oslo"}, "lines": "[a, b"}"#,
        );
        assert_eq!(value.lines, ["[a, b"]);
    }
}

mod cut_off_answers {
    use super::*;

    #[test]
    fn a_number_cut_by_the_end_is_not_a_value() {
        // Cut inside `34`: the required estimate is missing, not 3.
        let error = refused(
            r#"{"title": "Fix login", "priority": "high", "done": false, "tags": ["ui"], "estimate": 3"#,
        );
        assert!(error.contains("estimate"), "{error}");
        // An optional one is absent.
        let (value, repairs) = read(
            r#"{"title": "Fix login", "priority": "high", "estimate": 3, "done": false, "tags": ["ui"], "ratio": 0.5"#,
        );
        assert_eq!(value.ratio, None);
        assert!(
            has_repair(&repairs, "ratio: dropped a value cut off"),
            "{repairs:#?}"
        );
        // A bare number is whole at the end of the answer.
        let read = parse_lenient::<u32>("34", &Context::new()).expect("a number answer");
        assert_eq!(read.value, 34);
    }

    #[test]
    fn a_value_cut_off_gives_way_to_a_complete_earlier_one() {
        let cut = &CLEAN[..CLEAN.len() - 20];
        let (value, repairs) = read(&format!("{CLEAN}\nOr in full: {cut}"));
        assert_eq!(value, ticket("Fix login"));
        assert!(has_repair(&repairs, "cut off by the end"), "{repairs:#?}");
    }
}

mod hostile_sizes {
    use super::*;

    #[test]
    fn thousands_of_braces_in_prose_do_not_hide_the_answer() {
        let text = format!("{} {CLEAN}", "use {x} or [y, ".repeat(20_000));
        assert_eq!(read(&text).0, ticket("Fix login"));
    }

    #[test]
    fn thousands_of_unclosed_values_are_refused() {
        refused(&"{\"title\": [\"a\", ".repeat(5_000));
    }
}

mod false_acceptance {
    use super::*;

    #[test]
    fn refusals_empty_answers_and_unrelated_values_are_never_read() {
        for text in [
            "I can't help with that.",
            "I'm sorry, but I cannot assist with that request.",
            "no, I won't do that",
            "",
            "   \n\t ",
            "```json\n```",
            "```json\n{}\n```",
            "[]",
            "null",
            "true",
            "42",
            "\"Fix login\"",
            r#"{"error": "rate limited", "code": 429}"#,
            r#"{"refusal": "I can't help with that."}"#,
            r#"{"title": null, "priority": null}"#,
            "<think>Easy: {\"title\": \"Fix login\", \"priority\": \"high\", \"estimate\": 3, \"done\": false, \"tags\": [\"ui\"], \"ratio\": null}</think>I can't help with that.",
            "<think>I'll answer {\"title\": \"Fix login\", \"priority\": \"high\", \"estimate\": 3, \"done\": false, \"tags\": [\"ui\"], \"ratio\": null}",
        ] {
            refused(text);
        }
    }
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
    fn a_fenced_answer_after_a_valid_value_in_prose_wins_whole_and_streamed() {
        let prose = CLEAN.replace("Fix login", "example");
        let text = format!("For example {prose} would do. The answer:\n```json\n{CLEAN}\n```");
        let whole = parse_lenient::<Ticket>(&text, &Context::new()).expect("readable");
        assert_eq!(whole.value, ticket("Fix login"));
        for size in [1, 3, 16, text.len()] {
            let mut stream = PartialStream::<Ticket>::lenient(Limits::default());
            let mut last_title = None;
            for chunk in text.as_bytes().chunks(size) {
                if let Some(partial) = stream.feed(chunk).expect("lenient") {
                    last_title = partial.title.clone();
                }
            }
            // The preview moved on to the fenced value too.
            assert_eq!(
                last_title.as_deref(),
                Some("Fix login"),
                "chunk size {size}"
            );
            let streamed = stream.finish_lenient(&Context::new()).expect("readable");
            assert_eq!(streamed, whole, "chunk size {size}");
        }
    }

    #[test]
    fn an_empty_list_in_prose_gives_way_to_the_items_in_the_preview_too() {
        let text = format!("If nothing matched I would answer []. The tickets: [{CLEAN}]");
        for size in [1, 7, text.len()] {
            let mut stream = PartialStream::<Vec<Ticket>>::lenient(Limits::default());
            let mut last = String::new();
            for chunk in text.as_bytes().chunks(size) {
                if let Some(partial) = stream.feed(chunk).expect("lenient") {
                    last = format!("{partial:?}");
                }
            }
            assert!(last.contains("Fix login"), "chunk size {size}: {last}");
            let read = stream.finish(&Context::new()).expect("readable");
            assert_eq!(read, [ticket("Fix login")]);
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
