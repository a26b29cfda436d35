//! One path type: every error names the place in the answer the same way
//! (`items[0].n`, `items[0]["unit price"]`), once, from the root of the answer.

use instructor::prelude::*;
use instructor::stream::{PartialStream, StreamError};
use instructor::{PathSegment, WirePath, read_json};

#[derive(Debug, Deserialize, Extract)]
struct Item {
    n: u8,
}

#[derive(Debug, Deserialize, Extract)]
struct Basket {
    items: Vec<Item>,
}

#[test]
fn a_wrong_type_deep_in_a_stream_is_named_once_at_its_full_path() {
    let mut stream = PartialStream::<Basket>::new();
    let error = stream
        .feed(br#"{"items": [{"n": "x"}]}"#)
        .expect_err("n is not a number");
    let StreamError::Partial { path, .. } = &error else {
        panic!("expected a partial error, got {error:?}");
    };
    assert_eq!(*path, WirePath::root().key("items").index(0).key("n"));
    // Once: never `items[0].n: : expected ...`.
    assert_eq!(
        error.to_string(),
        "items[0].n: expected an integer in range, found a string"
    );
}

#[derive(Debug, Deserialize, Extract)]
struct Line {
    #[serde(rename = "unit price")]
    #[garde(range(min = 1))]
    unit_price: u32,
}

#[derive(Debug, Deserialize, Extract)]
struct Invoice {
    lines: Vec<Line>,
}

#[test]
fn reading_streaming_and_validating_name_the_same_place_the_same_way() {
    let expected = r#"lines[1]["unit price"]"#;

    let wrong_type = r#"{"lines": [{"unit price": 3}, {"unit price": "free"}]}"#;
    let read = read_json::<Invoice>(wrong_type).expect_err("a string for a number");
    assert_eq!(read.path(), expected);

    let mut stream = PartialStream::<Invoice>::new();
    match stream.feed(wrong_type.as_bytes()) {
        Err(StreamError::Partial { path, .. }) => assert_eq!(path, expected),
        other => panic!("expected a partial error, got {other:?}"),
    }

    let invalid: Invoice =
        serde_json::from_str(r#"{"lines": [{"unit price": 3}, {"unit price": 0}]}"#)
            .expect("a valid shape");
    let errors = invalid
        .validate(&Context::new())
        .expect_err("below the minimum");
    assert_eq!(errors.errors()[0].path, expected);
    assert_eq!(
        errors.to_string(),
        r#"lines[1]["unit price"]: must be at least 1 (it is 0)"#
    );
}

#[test]
fn an_error_about_the_whole_value_prints_its_message_alone() {
    let error = read_json::<Basket>("[]").expect_err("not an object");
    assert!(error.path().is_root());
    assert!(!error.to_string().starts_with(':'), "{error}");
    let validation = ValidationError::new("is empty");
    assert_eq!(validation.to_string(), "is empty");
}

#[test]
fn a_custom_validators_errors_are_filed_under_the_field_it_checks() {
    fn short(name: &str, _: &Context) -> Result<(), ValidationError> {
        if name.len() > 3 {
            Err(ValidationError::at(
                vec![PathSegment::Index(0)],
                "the first letter is enough",
            ))
        } else {
            Ok(())
        }
    }
    #[derive(Debug, Deserialize, Extract)]
    struct Person {
        #[extract(validate = short)]
        name: String,
    }
    #[derive(Debug, Deserialize, Extract)]
    struct Team {
        members: Vec<Person>,
    }
    let team: Team =
        serde_json::from_str(r#"{"members": [{"name": "Al"}, {"name": "Berta"}]}"#).expect("ok");
    let errors = team.validate(&Context::new()).expect_err("Berta is long");
    assert_eq!(
        errors.to_string(),
        "members[1].name[0]: the first letter is enough"
    );
}

#[test]
fn field_events_name_their_paths_as_errors_do() {
    let mut stream = PartialStream::<Invoice>::new();
    let mut completed = Vec::new();
    stream
        .feed_with_events(
            br#"{"lines": [{"unit price": 3}, {"unit price": 4}]}"#,
            |event| {
                if let instructor::stream::FieldEvent::Completed { .. } = event {
                    completed.push(event.wire_path().to_string());
                }
            },
        )
        .expect("valid");
    assert_eq!(
        completed,
        [
            r#"lines[0]["unit price"]"#,
            "lines[0]",
            r#"lines[1]["unit price"]"#,
            "lines[1]",
            "lines",
            ""
        ]
    );
}
