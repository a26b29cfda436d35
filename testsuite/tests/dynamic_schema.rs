//! A JSON Schema known only at run time (`DynamicSchema`) through the same engine as a
//! derived type, over real HTTP to the fake provider: the schema sent in the mode's
//! dialect, answers validated by the schema and re-asked at the wire path of what is
//! wrong, nested objects, lists and enums, lenient reading in a prompted mode, the value
//! growing under `.partial()`, list items under `.iter()`, and schemas refused before
//! anything is sent (not a schema; a strict dialect that cannot express it).

use futures_util::StreamExt;
use instructor::client::{DynamicSchema, DynamicSchemaError, PartialUpdate};
use instructor::prelude::*;
use instructor::providers::openai::{OpenAi, OpenAiConfig};
use instructor::providers::testing::{FakeProvider, openai::ChatCompletion};
use instructor::{Error, Mode};
use serde_json::{Value, json};

fn client(server: &FakeProvider) -> Client {
    Client::new(OpenAi::new(
        OpenAiConfig::new(server.base_url()).with_api_key("sk-test"),
    ))
    .with_model("gpt-4o-mini")
}

/// A person with an address (nested object), pets (a list of objects with an enum)
/// and bounds on numbers and strings.
fn person_schema() -> DynamicSchema {
    DynamicSchema::from_json(
        "Person",
        json!({
            "description": "A person named in the text.",
            "type": "object",
            "properties": {
                "name": {"type": "string", "minLength": 1},
                "age": {"type": "integer", "minimum": 0},
                "address": {
                    "type": "object",
                    "properties": {
                        "city": {"type": "string"},
                        "country": {"enum": ["FR", "DE", "UK"]}
                    },
                    "required": ["city", "country"],
                    "additionalProperties": false
                },
                "pets": {
                    "type": "array",
                    "items": {"$ref": "#/$defs/Pet"}
                }
            },
            "required": ["name", "age", "address", "pets"],
            "additionalProperties": false,
            "$defs": {
                "Pet": {
                    "type": "object",
                    "properties": {
                        "kind": {"type": "string", "enum": ["dog", "cat"]},
                        "name": {"type": "string"}
                    },
                    "required": ["kind", "name"],
                    "additionalProperties": false
                }
            }
        }),
    )
    .expect("a valid schema")
}

const VALID: &str = r#"{"name": "Ada", "age": 36, "address": {"city": "Paris", "country": "FR"}, "pets": [{"kind": "dog", "name": "Rex"}, {"kind": "cat", "name": "Tom"}]}"#;

fn valid_value() -> Value {
    serde_json::from_str(VALID).expect("JSON")
}

/// The text of the last message of a recorded request (the re-ask).
fn last_message(request: &instructor::providers::testing::RecordedRequest) -> String {
    let body = request.json().expect("a JSON body");
    let messages = body["messages"].as_array().expect("messages");
    messages.last().expect("a message").to_string()
}

#[tokio::test]
async fn a_valid_answer_is_the_value_and_the_schema_is_sent_as_the_tool() {
    let server = FakeProvider::start().await;
    server.push(ChatCompletion::tool_call("Person", VALID).reply());
    let value = client(&server)
        .extract_with_schema(&person_schema())
        .user("Ada, 36, lives in Paris with Rex the dog and Tom the cat.")
        .await
        .expect("a value");
    assert_eq!(value.into_inner(), valid_value());

    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    let body = requests[0].json().expect("a JSON body");
    let tool = &body["tools"][0]["function"];
    assert_eq!(tool["name"], "Person");
    assert_eq!(tool["description"], "A person named in the text.");
    let parameters = &tool["parameters"];
    // The `$ref` was inlined; nested objects, the list and both enums are there.
    assert_eq!(
        parameters["properties"]["address"]["properties"]["country"]["enum"],
        json!(["FR", "DE", "UK"])
    );
    assert_eq!(
        parameters["properties"]["pets"]["items"]["properties"]["kind"]["enum"],
        json!(["dog", "cat"])
    );
    assert_eq!(
        parameters["required"],
        json!(["name", "age", "address", "pets"])
    );
}

#[tokio::test]
async fn an_answer_the_schema_rejects_is_re_asked_naming_each_path() {
    let server = FakeProvider::start().await;
    let wrong = r#"{"name": "Ada", "age": -3, "address": {"city": "Paris", "country": "XX"}, "pets": [{"kind": "dog", "name": "Rex"}, {"kind": "lizard", "name": "Liz"}]}"#;
    server.push(ChatCompletion::tool_call("Person", wrong).reply());
    server.push(ChatCompletion::tool_call("Person", VALID).reply());
    let done = client(&server)
        .extract_with_schema(&person_schema())
        .user("Ada ...")
        .max_retries(1)
        .with_completion()
        .await
        .expect("the second answer");
    assert_eq!(done.value.into_inner(), valid_value());
    assert_eq!(done.ledger.attempts.len(), 2);

    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    let reask = last_message(&requests[1]);
    for path in ["age", "address.country", "pets[1].kind"] {
        assert!(
            reask.contains(&format!("{path}:")),
            "the re-ask names `{path}`: {reask}"
        );
    }
    assert!(reask.contains("minimum of 0"), "{reask}");
    // What was right is not blamed.
    assert!(!reask.contains("pets[0]"), "{reask}");
}

#[tokio::test]
async fn validation_failing_on_every_attempt_is_a_typed_error_with_the_paths() {
    let server = FakeProvider::start().await;
    let wrong = r#"{"name": "", "age": 36, "address": {"city": "Paris", "country": "FR"}, "pets": [], "extra": 1}"#;
    server.push(ChatCompletion::tool_call("Person", wrong).reply());
    server.push(ChatCompletion::tool_call("Person", wrong).reply());
    let error = client(&server)
        .extract_with_schema(&person_schema())
        .user("...")
        .max_retries(1)
        .await
        .expect_err("invalid twice");
    let Error::Validation { errors, .. } = error else {
        panic!("expected a validation error, got {error:?}");
    };
    let paths: Vec<String> = errors.errors().iter().map(|e| e.path_string()).collect();
    assert!(paths.contains(&"name".to_owned()), "{paths:?}");
    // `additionalProperties: false` is reported at the object that has the extra key.
    assert!(paths.contains(&String::new()), "{paths:?}");
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn a_wrong_type_is_a_schema_error_too() {
    let server = FakeProvider::start().await;
    server.push(
        ChatCompletion::tool_call(
            "Person",
            r#"{"name": "Ada", "age": "thirty", "address": {"city": "Paris", "country": "FR"}, "pets": []}"#,
        )
        .reply(),
    );
    let error = client(&server)
        .extract_with_schema(&person_schema())
        .user("...")
        .max_retries(0)
        .await
        .expect_err("a string for an integer");
    let Error::Validation { errors, .. } = error else {
        panic!("expected a validation error, got {error:?}");
    };
    assert_eq!(errors.errors().len(), 1);
    assert_eq!(errors.errors()[0].path_string(), "age");
    assert!(errors.to_string().contains("integer"), "{errors}");
}

#[tokio::test]
async fn a_prompted_mode_reads_the_answer_leniently_and_carries_the_schema_in_the_prompt() {
    let server = FakeProvider::start().await;
    server.push(
        ChatCompletion::content(format!(
            "Here is the person:\n```json\n{VALID}\n```\nAnything else?"
        ))
        .reply(),
    );
    let value = client(&server)
        .extract_with_schema(&person_schema())
        .mode(Mode::MdJson)
        .user("Ada ...")
        .await
        .expect("a value read from the fence");
    assert_eq!(value.0, valid_value());
    let body = server.requests()[0].json().expect("body").clone();
    assert!(body.get("tools").is_none(), "no tool in a prompted mode");
    // The schema is in the prompt: the enum's values only come from there.
    let messages = body["messages"].to_string();
    assert!(
        messages.contains("UK") && messages.contains("pets"),
        "{messages}"
    );
}

#[tokio::test]
async fn partials_grow_while_the_answer_streams() {
    let server = FakeProvider::start().await;
    server.push(
        ChatCompletion::tool_call_fragments(
            "Person",
            [
                r#"{"name": "Ad"#,
                r#"a", "age": 3"#,
                r#"6, "address": {"city": "Par"#,
                r#"is", "country": "FR"}, "pets": [{"kind": "dog", "name": "R"#,
                r#"ex"}, {"kind": "cat", "#,
                r#""name": "Tom"}]}"#,
            ],
        )
        .sse_reply(),
    );
    let mut updates = client(&server)
        .extract_with_schema(&person_schema())
        .user("Ada ...")
        .partial();
    let mut partials: Vec<Value> = Vec::new();
    let mut done = None;
    while let Some(update) = updates.next().await {
        match update.expect("no error") {
            PartialUpdate::Partial(partial) => partials.push((*partial).clone()),
            PartialUpdate::Done(completion) => done = Some(completion.value.into_inner()),
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(done, Some(valid_value()));
    // The name grew, a number appeared only once complete, the nested object and the
    // list filled in place.
    assert!(
        partials.iter().any(|p| p == &json!({"name": "Ad"})),
        "{partials:#?}"
    );
    assert!(
        partials
            .iter()
            .all(|p| p.get("age").is_none_or(|age| age == 36))
    );
    assert!(
        partials
            .iter()
            .any(|p| p["address"] == json!({"city": "Par"})),
        "{partials:#?}"
    );
    assert!(
        partials
            .iter()
            .any(|p| p["pets"] == json!([{"kind": "dog", "name": "R"}])),
        "{partials:#?}"
    );
    assert!(
        partials
            .iter()
            .any(|p| p["pets"] == json!([{"kind": "dog", "name": "Rex"}, {"kind": "cat"}])),
        "{partials:#?}"
    );
}

#[tokio::test]
async fn a_streamed_answer_the_schema_rejects_is_re_asked_and_restarts() {
    let server = FakeProvider::start().await;
    server.push(
        ChatCompletion::tool_call_fragments(
            "Person",
            [
                r#"{"name": "Ada", "age": -1, "#,
                r#""address": {"city": "Paris", "country": "FR"}, "pets": []}"#,
            ],
        )
        .sse_reply(),
    );
    server.push(
        ChatCompletion::tool_call_fragments("Person", [&VALID[..20], &VALID[20..]]).sse_reply(),
    );
    let mut updates = client(&server)
        .extract_with_schema(&person_schema())
        .user("Ada ...")
        .max_retries(1)
        .partial();
    let mut restarted = None;
    let mut done = None;
    while let Some(update) = updates.next().await {
        match update.expect("no error") {
            PartialUpdate::Restarted { attempt, reason } => restarted = Some((attempt, reason)),
            PartialUpdate::Done(completion) => done = Some(completion.value.into_inner()),
            _ => {}
        }
    }
    let (attempt, reason) = restarted.expect("a restart");
    assert_eq!(attempt, 2);
    assert!(reason.contains("age:"), "{reason}");
    assert_eq!(done, Some(valid_value()));
    assert!(last_message(&server.requests()[1]).contains("age:"));
}

#[tokio::test]
async fn iter_validates_each_item_by_the_item_schema() {
    let server = FakeProvider::start().await;
    let pet = DynamicSchema::from_json(
        "Pet",
        json!({
            "type": "object",
            "properties": {
                "kind": {"enum": ["dog", "cat"]},
                "name": {"type": "string"}
            },
            "required": ["kind", "name"]
        }),
    )
    .expect("a schema");
    server.push(
        ChatCompletion::tool_call_fragments(
            "Pet_list",
            [
                r#"{"value": [{"kind": "dog", "name": "Rex"},"#,
                r#" {"kind": "emu", "name": "Em"}, {"kind": "cat", "name": "Tom"}]}"#,
            ],
        )
        .sse_reply(),
    );
    let mut items = client(&server).extract_with_schema(&pet).user("...").iter();
    let mut seen = Vec::new();
    while let Some(item) = items.next().await {
        seen.push(match item {
            Ok(value) => Ok(value.0["name"].clone()),
            Err(Error::Item { index, .. }) => Err(index),
            Err(other) => panic!("unexpected {other:?}"),
        });
    }
    assert_eq!(seen, [Ok(json!("Rex")), Err(1), Ok(json!("Tom"))]);
    let body = server.requests()[0].json().expect("body").clone();
    assert_eq!(body["tools"][0]["function"]["name"], "Pet_list");
    assert_eq!(
        body["tools"][0]["function"]["parameters"]["properties"]["value"]["items"]["properties"]["kind"]
            ["enum"],
        json!(["dog", "cat"])
    );
}

#[tokio::test]
async fn a_strict_mode_refuses_a_schema_its_dialect_cannot_express_before_sending() {
    let server = FakeProvider::start().await;
    // A map of integers: strict structured outputs cannot express open-ended keys.
    let scores = DynamicSchema::from_json(
        "Scores",
        json!({
            "type": "object",
            "properties": {
                "scores": {"type": "object", "additionalProperties": {"type": "integer"}}
            },
            "required": ["scores"]
        }),
    )
    .expect("a valid JSON Schema");
    for mode in [Mode::JsonSchema, Mode::ToolsStrict] {
        let error = client(&server)
            .extract_with_schema(&scores)
            .mode(mode)
            .user("...")
            .await
            .expect_err("not expressible in a strict dialect");
        assert!(
            matches!(
                error,
                Error::InvalidRequest { .. } | Error::UnsupportedMode { .. }
            ),
            "{mode:?}: {error:?}"
        );
        assert!(error.to_string().contains("scores"), "{error}");
    }
    assert!(server.requests().is_empty(), "nothing was sent");

    // The same schema is fine where the dialect has room for maps.
    server.push(ChatCompletion::tool_call("Scores", r#"{"scores": {"ann": 3}}"#).reply());
    let value = client(&server)
        .extract_with_schema(&scores)
        .user("...")
        .await
        .expect("a map in tools mode");
    assert_eq!(value.0, json!({"scores": {"ann": 3}}));
}

#[test]
fn a_document_that_is_not_a_schema_is_a_typed_error() {
    assert_eq!(
        DynamicSchema::from_json("x", json!(true)).expect_err("not an object"),
        DynamicSchemaError::NotAnObject { found: "a boolean" }
    );
    let error = DynamicSchema::from_json("x", json!({"type": "strng"})).expect_err("bad type");
    assert!(
        matches!(error, DynamicSchemaError::Invalid { .. }),
        "{error:?}"
    );
    assert!(error.to_string().contains("strng"), "{error}");
    let error = DynamicSchema::from_json("x", json!({"$ref": "#/$defs/Missing"}))
        .expect_err("a reference that does not resolve");
    assert!(
        matches!(error, DynamicSchemaError::Invalid { .. }),
        "{error:?}"
    );
}
