//! Reading an answer that is not the type: every wrong field named at once, each at
//! its wire path, so that one re-ask can fix them all (`read_json`, and the strict
//! end of a `PartialStream`).

use instructor::prelude::*;
use instructor::stream::{PartialStream, StreamError};
use instructor::{DeserializeError, read_json, read_json_under, read_json_value};
use serde_json::json;

#[derive(Debug, PartialEq, Deserialize, Extract)]
#[serde(rename_all = "lowercase")]
enum Priority {
    Low,
    High,
}

#[derive(Debug, Deserialize, Extract)]
struct LineItem {
    sku: String,
    quantity: u32,
}

#[derive(Debug, Deserialize, Extract)]
#[serde(rename_all = "camelCase")]
struct Order {
    order_id: u64,
    customer_name: String,
    priority: Priority,
    express: bool,
    items: Vec<LineItem>,
    discount_percent: u8,
    note: Option<String>,
}

/// Six wrong fields: two wrong types, a missing required field, a bad enum value, a
/// wrong type inside a list item, and a number out of its type's range.
const SIX_WRONG: &str = r#"{
  "orderId": "A-17",
  "priority": "urgent",
  "express": "yes",
  "items": [{"sku": "a-1", "quantity": 2}, {"sku": "b-2", "quantity": "three"}],
  "discountPercent": 300,
  "note": null
}"#;

const SIX_WRONG_NAMED: &str = "orderId: expected an integer, found \"A-17\"\n\
     customerName: missing required field\n\
     priority: expected one of \"low\", \"high\", found \"urgent\"\n\
     express: expected true or false, found \"yes\"\n\
     items[1].quantity: expected an integer, found \"three\"\n\
     discountPercent: expected an integer from 0 to 255, found 300";

fn paths(error: &DeserializeError) -> Vec<String> {
    error.errors().iter().map(|e| e.path.to_string()).collect()
}

#[test]
fn an_answer_with_six_wrong_fields_gets_one_error_naming_all_six_paths() {
    let error = read_json::<Order>(SIX_WRONG).expect_err("six fields are wrong");
    assert_eq!(
        paths(&error),
        [
            "orderId",
            "customerName",
            "priority",
            "express",
            "items[1].quantity",
            "discountPercent"
        ]
    );
    assert_eq!(error.to_string(), SIX_WRONG_NAMED);
}

#[test]
fn the_strict_end_of_a_stream_names_every_missing_field() {
    // Nothing is wrong while the answer streams (partials take fields as they come);
    // the end finds every field that never came.
    let answer = r#"{"orderId": 17, "express": true, "items": [{"sku": "a-1"}], "note": null}"#;
    let mut stream = PartialStream::<Order>::new();
    for chunk in answer.as_bytes().chunks(5) {
        stream
            .feed(chunk)
            .expect("nothing is wrong while streaming");
    }
    match stream.finish(&Context::new()) {
        Err(StreamError::Deserialize(error)) => assert_eq!(
            error.to_string(),
            "customerName: missing required field\n\
             priority: missing required field\n\
             items[0].quantity: missing required field\n\
             discountPercent: missing required field"
        ),
        other => panic!("expected a deserialize error, got {other:?}"),
    }
}

#[derive(Debug, Deserialize, Extract)]
struct Loose {
    name: String,
    tags: Vec<String>,
}

#[test]
fn a_stream_stops_at_the_first_wrong_element_where_read_json_names_them_all() {
    // Strings and lists stream as they come; a missing field and a wrong element type
    // inside a list are found at the end.
    let mut stream = PartialStream::<Loose>::new();
    let answer = r#"{"tags": ["a", ["b"], "c", {"d": 1}]}"#;
    let error = stream
        .feed(answer.as_bytes())
        .map(|_| ())
        .map_err(|e| e.to_string());
    assert_eq!(
        error,
        Err("tags[1]: expected a string, found an array".to_owned())
    );
    let error = read_json::<Loose>(answer).expect_err("three errors");
    assert_eq!(
        error.to_string(),
        "name: missing required field\n\
         tags[1]: expected a string, found an array\n\
         tags[3]: expected a string, found an object"
    );
}

#[test]
fn a_json_syntax_error_says_where_in_the_text_it_is_and_has_no_path() {
    let error =
        read_json::<Order>("{\n  \"orderId\": 17,\n  \"items\": [1 2]\n}").expect_err("not JSON");
    // First where the text stops being JSON; then what serde saw before that point.
    assert!(error.path().is_root(), "{error}");
    assert_eq!(
        error.to_string(),
        "invalid JSON: expected `,` or `]` at line 3 column 15\n\
         items[0]: invalid type: integer `1`, expected struct LineItem at line 3 column 13"
    );
    let error = read_json::<Order>("{\"orderId\": 17,, }").expect_err("not JSON");
    assert_eq!(
        error.to_string(),
        "invalid JSON: key must be a string at line 1 column 16"
    );
}

#[test]
fn a_truncated_answer_says_where_it_ends() {
    let error = read_json::<Order>(r#"{"orderId": 17, "items": [{"sku": "#).expect_err("cut");
    assert!(error.path().is_root());
    assert!(error.to_string().contains("EOF while parsing"), "{error}");
}

#[test]
fn a_right_answer_reads_as_serde_reads_it() {
    let order = read_json::<Order>(
        r#"{"orderId": 17, "customerName": "Ann", "priority": "high", "express": true,
            "items": [], "discountPercent": 5, "extra": "ignored"}"#,
    )
    .expect("valid");
    assert_eq!(order.priority, Priority::High);
    assert_eq!(order.note, None);
}

#[derive(Debug, Deserialize, Extract)]
#[serde(deny_unknown_fields)]
struct Strict {
    #[serde(rename = "first name")]
    first_name: String,
    age: u8,
}

#[test]
fn unknown_fields_of_a_type_that_denies_them_are_each_named() {
    let error = read_json::<Strict>(r#"{"first name": "Ann", "age": 3, "nick": "A", "x": 1}"#)
        .expect_err("unknown fields");
    assert_eq!(
        error.to_string(),
        "nick: unknown field, expected one of `first name`, `age`\n\
         x: unknown field, expected one of `first name`, `age`"
    );
}

#[test]
fn keys_that_are_not_identifiers_are_quoted_in_paths() {
    let error = read_json::<Strict>(r#"{"first name": 7, "age": -1}"#).expect_err("two wrong");
    assert_eq!(
        error.to_string(),
        "[\"first name\"]: expected a string, found 7\n\
         age: expected an integer from 0 to 255, found -1"
    );
}

#[derive(Debug, Deserialize, Extract)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Shape {
    Circle { radius: f64 },
    Rectangle { width: f64, height: f64 },
}

#[derive(Debug, Deserialize, Extract)]
struct Drawing {
    shapes: Vec<Shape>,
}

#[test]
fn a_tagged_variant_is_checked_as_the_variant_its_tag_names() {
    let error = read_json::<Drawing>(
        r#"{"shapes": [{"type": "circle", "radius": 1},
                       {"type": "rectangle", "width": "wide"},
                       {"type": "triangle"}]}"#,
    )
    .expect_err("two shapes are wrong");
    assert_eq!(
        error.to_string(),
        "shapes[1].width: expected a number, found \"wide\"\n\
         shapes[1].height: missing required field\n\
         shapes[2]: expected an object with \"type\": \"circle\" or an object with \
         \"type\": \"rectangle\", found an object"
    );
}

#[derive(Debug, Deserialize, Extract)]
enum Payment {
    Cash,
    Card { last4: String },
}

#[test]
fn an_externally_tagged_variant_is_checked_under_its_key() {
    let error =
        read_json::<Vec<Payment>>(r#"[{"Card": {"last4": 1234}}, "Cheque"]"#).expect_err("wrong");
    assert_eq!(
        error.to_string(),
        "[0].Card.last4: expected a string, found 1234\n\
         [1]: expected \"Cash\" or an object with the key \"Card\", found \"Cheque\""
    );
}

#[test]
fn a_value_read_from_under_a_wrapper_key_is_named_from_the_wrapper() {
    let error = read_json_under::<Vec<LineItem>>(
        br#"{"value": [{"sku": 1, "quantity": 1}, {"quantity": -2}]}"#,
        "value",
    )
    .expect_err("wrong");
    assert_eq!(
        error.to_string(),
        "value[0].sku: expected a string, found 1\n\
         value[1].sku: missing required field\n\
         value[1].quantity: expected an integer from 0 to 4294967295, found -2"
    );
    let missing =
        read_json_under::<Vec<LineItem>>(br#"{"items": []}"#, "value").expect_err("no wrapper key");
    assert_eq!(missing.to_string(), "value: missing required field");
}

#[test]
fn a_parsed_value_reads_with_every_error_too() {
    let error =
        read_json_value::<LineItem>(&json!({"sku": null, "quantity": 1.5})).expect_err("wrong");
    assert_eq!(
        error.to_string(),
        "sku: expected a string, found null\nquantity: expected an integer, found 1.5"
    );
}

#[derive(Debug, Deserialize, Extract)]
struct Initials {
    first: char,
    count: u8,
}

#[test]
fn serdes_own_error_is_kept_where_the_schema_check_has_nothing_to_say() {
    // A `char` of two characters is for serde to refuse: the check leaves string
    // lengths to it (they may come from validation rules), but still names `count`.
    let error = read_json::<Initials>(r#"{"first": "AB", "count": "x"}"#).expect_err("wrong");
    assert_eq!(paths(&error), ["count", "first"]);
    assert!(
        error.errors()[1].message.contains("expected a character"),
        "{error}"
    );
}

#[derive(Debug, Deserialize, Extract)]
struct Widths {
    a: i8,
    b: i16,
    c: u16,
    d: i32,
    e: u32,
    f: std::num::NonZeroU8,
    g: u64,
    h: i64,
}

#[test]
fn narrow_integer_types_report_numbers_out_of_their_range() {
    let error = read_json::<Widths>(
        r#"{"a": 128, "b": -32769, "c": 65536, "d": 2147483648, "e": -1, "f": 0, "g": -5,
            "h": 9223372036854775808}"#,
    )
    .expect_err("all out of range");
    assert_eq!(
        error.to_string(),
        "a: expected an integer from -128 to 127, found 128\n\
         b: expected an integer from -32768 to 32767, found -32769\n\
         c: expected an integer from 0 to 65535, found 65536\n\
         d: expected an integer from -2147483648 to 2147483647, found 2147483648\n\
         e: expected an integer from 0 to 4294967295, found -1\n\
         f: expected an integer from 1 to 255, found 0\n\
         g: expected an integer of at least 0, found -5"
    );
    // `i64` sends no bounds; a number beyond it is still refused, by serde.
    let error = read_json::<Widths>(
        r#"{"a": 1, "b": 1, "c": 1, "d": 1, "e": 1, "f": 1, "g": 1, "h": 9223372036854775808}"#,
    )
    .expect_err("h is beyond i64");
    assert_eq!(error.path(), "h");
    assert!(error.message().contains("expected i64"), "{error}");
}

mod through_the_client {
    //! The same six errors reach the model in one re-ask, whole or streamed, in a tool
    //! mode and in a prompted one.

    use super::{Order, SIX_WRONG, SIX_WRONG_NAMED};
    use futures_util::StreamExt;
    use instructor::Mode;
    use instructor::prelude::*;
    use instructor::providers::openai::{OpenAi, OpenAiConfig};
    use instructor::providers::testing::FakeProvider;
    use instructor::providers::testing::openai::ChatCompletion;

    const FIXED: &str = r#"{"orderId": 17, "customerName": "Ann", "priority": "high", "express": true,
        "items": [{"sku": "a-1", "quantity": 2}], "discountPercent": 10, "note": null}"#;

    fn client(server: &FakeProvider, mode: Mode) -> Client {
        Client::new(OpenAi::new(
            OpenAiConfig::new(server.base_url()).with_api_key("sk-test-0123456789"),
        ))
        .with_model("gpt-4o-mini")
        .with_mode(mode)
    }

    /// The text of the re-ask the second request carried.
    fn reask(server: &FakeProvider) -> String {
        let requests = server.requests();
        assert_eq!(requests.len(), 2, "one re-ask");
        let body = requests[1].json().cloned().expect("JSON");
        let messages = body["messages"].as_array().cloned().unwrap_or_default();
        messages
            .last()
            .and_then(|m| m["content"].as_str().map(str::to_owned))
            .unwrap_or_default()
    }

    fn assert_names_all_six(reask: &str) {
        assert!(reask.contains(SIX_WRONG_NAMED), "{reask}");
    }

    #[tokio::test(flavor = "current_thread")]
    async fn one_reask_names_all_six_wrong_fields_whole() {
        let server = FakeProvider::start().await;
        server.push(ChatCompletion::tool_call("Order", SIX_WRONG).reply());
        server.push(ChatCompletion::tool_call("Order", FIXED).reply());
        let order: Order = client(&server, Mode::Tools)
            .extract::<Order>()
            .user("x")
            .await
            .expect("fixed");
        assert_eq!(order.order_id, 17);
        assert_names_all_six(&reask(&server));
    }

    #[tokio::test(flavor = "current_thread")]
    async fn one_reask_names_all_six_wrong_fields_streamed() {
        let server = FakeProvider::start().await;
        let pieces: Vec<String> = SIX_WRONG
            .as_bytes()
            .chunks(9)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect();
        server.push(ChatCompletion::tool_call_fragments("Order", pieces).sse_reply());
        server.push(ChatCompletion::tool_call("Order", FIXED).sse_reply());
        let mut stream = client(&server, Mode::Tools)
            .extract::<Order>()
            .user("x")
            .partial();
        while let Some(update) = stream.next().await {
            update.expect("fixed after one re-ask");
        }
        assert_names_all_six(&reask(&server));
    }

    #[tokio::test(flavor = "current_thread")]
    async fn one_reask_names_all_six_wrong_fields_in_a_prompted_mode() {
        let server = FakeProvider::start().await;
        server.push(
            ChatCompletion::content(format!("Here it is:\n```json\n{SIX_WRONG}\n```")).reply(),
        );
        server.push(ChatCompletion::content(FIXED).reply());
        let order: Order = client(&server, Mode::MdJson)
            .extract::<Order>()
            .user("x")
            .await
            .expect("fixed");
        assert_eq!(order.customer_name, "Ann");
        let reask = reask(&server);
        for path in [
            "orderId",
            "customerName",
            "priority",
            "express",
            "items[1].quantity",
            "discountPercent",
        ] {
            assert!(
                reask.contains(&format!("{path}: ")),
                "{path} missing from {reask}"
            );
        }
    }
}
