//! The answer's envelope read in place (strings borrowed from the body, only the choice
//! that is read kept, tool calls read straight into the response), over real HTTP to the
//! fake provider: escaped strings, arguments sent as an object, content as parts, the
//! choice with index 0 wherever it stands, odd token counts, a key echoed in every
//! field, too many tool calls; and `.await` (no raw tree, no ledger for the value)
//! reads each the same as `with_completion()`.

use instructor::chat::{FinishReason, ProviderError};
use instructor::client::RetryPolicy;
use instructor::prelude::*;
use instructor::providers::openai::{OpenAi, OpenAiConfig};
use instructor::providers::testing::{FakeProvider, Reply};
use instructor::{Completion, Error, Mode};
use serde_json::{Value, json};

#[derive(Debug, Clone, PartialEq, Deserialize, Extract)]
struct User {
    name: String,
    age: u8,
}

const KEY: &str = "sk-envelope-0123456789";

fn client(server: &FakeProvider) -> Client {
    let provider = OpenAi::new(OpenAiConfig::new(server.base_url()).with_api_key(KEY));
    Client::new(provider).with_model("gpt-4o-mini")
}

/// A completion of one choice whose message is `message`.
fn completion(message: Value) -> Value {
    json!({
        "id": "chatcmpl-1",
        "model": "gpt-4o-mini-2024-07-18",
        "choices": [{"index": 0, "message": message, "finish_reason": "tool_calls"}],
        "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
    })
}

/// The body sent as written (exact bytes: escapes as they are).
fn raw_json(body: &str) -> Reply {
    Reply::status(200)
        .header("content-type", "application/json")
        .body(body.as_bytes().to_vec())
}

/// Extracts a `User` from the next reply twice, once by `.await` and once by
/// `with_completion()` (the reply pushed twice), and checks they agree.
async fn both(server: &FakeProvider, reply: impl Fn() -> Reply) -> Completion<User> {
    let client = client(server);
    server.push(reply());
    server.push(reply());
    let value = client
        .extract::<User>()
        .user("Jason is 25")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let done = client
        .extract::<User>()
        .user("Jason is 25")
        .with_completion()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(value, done.value);
    done
}

#[tokio::test]
async fn escaped_strings_are_read_as_their_text() {
    let server = FakeProvider::start().await;
    let body = r#"{"id":"chat\u0063mpl-\"1\"","model":"gpt\/4o","choices":[{"index":0,"message":{"role":"assistant","content":null,"tool_calls":[{"id":"call\t1","type":"function","function":{"name":"Us\u0065r","arguments":"{\"name\":\"Ja\\u0073on \\\"J\\\"\",\"age\":25}"}}]},"finish_reason":"tool_\u0063alls"}]}"#;
    let done = both(&server, || raw_json(body)).await;
    assert_eq!(done.value.name, "Jason \"J\"");
    assert_eq!(done.response.request_id.as_deref(), Some("chatcmpl-\"1\""));
    assert_eq!(done.response.model.as_deref(), Some("gpt/4o"));
    assert_eq!(done.response.finish_reason, Some(FinishReason::ToolCalls));
    let call = &done.response.tool_calls[0];
    assert_eq!((call.id.as_str(), call.name.as_str()), ("call\t1", "User"));
    assert_eq!(&*call.arguments, r#"{"name":"Ja\u0073on \"J\"","age":25}"#);
    assert_eq!(
        done.ledger.attempts[0].raw_output.as_deref(),
        Some(&*call.arguments)
    );
}

#[tokio::test]
async fn arguments_sent_as_an_object_are_its_json_text() {
    let server = FakeProvider::start().await;
    let message = json!({"tool_calls": [{"id": "c", "function": {"name": "User", "arguments": {"name": "Ann", "age": 30}}}]});
    let done = both(&server, || Reply::json(200, completion(message.clone()))).await;
    assert_eq!(
        done.value,
        User {
            name: "Ann".into(),
            age: 30
        }
    );
    assert_eq!(
        &*done.response.tool_calls[0].arguments,
        r#"{"name":"Ann","age":30}"#
    );
}

#[tokio::test]
async fn the_choice_with_index_0_is_read_wherever_it_stands() {
    let server = FakeProvider::start().await;
    let call = |name: &str, age: u8| json!({"tool_calls": [{"id": "c", "function": {"name": "User", "arguments": format!(r#"{{"name":"{name}","age":{age}}}"#)}}]});
    let body = json!({
        "id": "chatcmpl-2",
        "choices": [
            {"index": 2, "message": call("Two", 2), "finish_reason": "tool_calls"},
            {"index": 0, "message": call("Zero", 0), "finish_reason": "tool_calls"},
            {"index": 1, "message": call("One", 1), "finish_reason": "tool_calls"},
            {"index": 0, "message": call("Again", 9), "finish_reason": "tool_calls"},
        ],
    });
    let done = both(&server, || Reply::json(200, body.clone())).await;
    assert_eq!(done.value.name, "Zero");
    // Without an index 0, the first choice.
    let body = json!({
        "choices": [
            {"index": 3, "message": call("Three", 3)},
            {"index": 4, "message": call("Four", 4)},
        ],
    });
    let done = both(&server, || Reply::json(200, body.clone())).await;
    assert_eq!(done.value.name, "Three");
}

#[tokio::test]
async fn text_answers_are_read_from_a_string_or_from_parts() {
    let server = FakeProvider::start().await;
    for content in [
        json!("{\"name\": \"Ann\", \"age\": 30}"),
        json!([
            {"type": "thinking", "text": "hmm"},
            {"type": "text", "text": "{\"name\": \"Ann\","},
            {"text": " \"age\": 30}"},
        ]),
    ] {
        for mode in [Mode::Json, Mode::JsonSchema] {
            let body = completion(json!({"content": content.clone()}));
            server.push(Reply::json(200, body.clone()));
            let user = client(&server)
                .extract::<User>()
                .mode(mode)
                .user("Ann is 30")
                .await
                .unwrap_or_else(|e| panic!("{mode:?} {content}: {e}"));
            assert_eq!(
                user,
                User {
                    name: "Ann".into(),
                    age: 30
                }
            );
            server.push(Reply::json(200, body));
            let done = client(&server)
                .extract::<User>()
                .mode(mode)
                .user("Ann is 30")
                .with_completion()
                .await
                .unwrap_or_else(|e| panic!("{mode:?} {content}: {e}"));
            assert_eq!(
                done.response.text.as_deref(),
                Some("{\"name\": \"Ann\", \"age\": 30}")
            );
        }
    }
}

#[tokio::test]
async fn token_counts_are_read_leniently() {
    let server = FakeProvider::start().await;
    let message = json!({"tool_calls": [{"id": "c", "function": {"name": "User", "arguments": "{\"name\":\"A\",\"age\":1}"}}]});
    let cases = [
        (
            json!({"prompt_tokens": 7, "completion_tokens": 3}),
            (7, 3, 0, 0),
        ),
        (
            json!({"prompt_tokens": -4, "completion_tokens": 2.9, "prompt_tokens_details": {"cached_tokens": 1e30}, "completion_tokens_details": null}),
            (0, 2, u64::MAX, 0),
        ),
        (
            json!({"prompt_tokens": "7", "completion_tokens": [1, 2], "prompt_tokens_details": {"cached_tokens": {"n": 1}}, "completion_tokens_details": {"reasoning_tokens": true}}),
            (0, 0, 0, 0),
        ),
        (
            json!({"prompt_tokens": null, "completion_tokens": 100000000000000000000u128 as f64, "completion_tokens_details": {"reasoning_tokens": 5}}),
            (0, u64::MAX, 0, 5),
        ),
    ];
    for (usage, (input, output, cached, reasoning)) in cases {
        let mut body = completion(message.clone());
        body["usage"] = usage.clone();
        let done = both(&server, || Reply::json(200, body.clone())).await;
        let read = done.response.usage.unwrap_or_default();
        assert_eq!(
            (
                read.input_tokens,
                read.output_tokens,
                read.cached_tokens,
                read.reasoning_tokens
            ),
            (input, output, cached, reasoning),
            "{usage}"
        );
    }
}

#[tokio::test]
async fn a_key_echoed_in_every_field_is_removed() {
    let server = FakeProvider::start().await;
    let body = json!({
        "id": format!("id-{KEY}"),
        "model": format!("model-{KEY}"),
        "choices": [{
            "index": 0,
            "message": {
                "tool_calls": [{
                    "id": format!("call-{KEY}"),
                    "function": {
                        "name": "User",
                        "arguments": format!(r#"{{"name":"{KEY}","age":5}}"#),
                    },
                }],
            },
            "finish_reason": "tool_calls",
        }],
    });
    let done = both(&server, || Reply::json(200, body.clone())).await;
    assert_eq!(done.value.name, "[redacted]");
    let shown = format!("{:?} {}", done.response, done.response.raw);
    assert!(!shown.contains(KEY), "{shown}");
    assert_eq!(done.response.request_id.as_deref(), Some("id-[redacted]"));
    assert_eq!(done.response.tool_calls[0].id, "call-[redacted]");
}

#[tokio::test]
async fn too_many_tool_calls_and_shapeless_bodies_are_typed_errors_either_way() {
    let server = FakeProvider::start().await;
    let calls: Vec<Value> = (0..129)
        .map(|i| json!({"id": format!("c{i}"), "function": {"name": "User", "arguments": "{}"}}))
        .collect();
    let bodies = [
        completion(json!({"tool_calls": calls})),
        json!({"choices": "none"}),
        json!({"choices": []}),
        json!({"choices": null, "error": {"message": "no"}}),
        json!({"id": 5, "choices": [{"message": {"content": "x"}}]}),
    ];
    for body in bodies {
        let client = client(&server).with_retry_policy(RetryPolicy::none());
        server.push(Reply::json(200, body.clone()));
        server.push(Reply::json(200, body.clone()));
        let lean = client.extract::<User>().user("x").await;
        let kept = client.extract::<User>().user("x").with_completion().await;
        let (Err(Error::Provider { error: lean, .. }), Err(Error::Provider { error: kept, .. })) =
            (lean, kept)
        else {
            panic!("{body}: not a provider error");
        };
        assert_eq!(lean, kept, "{body}");
        assert!(
            matches!(*lean, ProviderError::Decode { .. }),
            "{body}: {lean:?}"
        );
    }
    // An error object with an HTTP status code is that status.
    server.push(Reply::json(
        200,
        json!({"id": "req-9", "error": {"code": 400, "message": "bad"}}),
    ));
    let error = client(&server)
        .with_retry_policy(RetryPolicy::none())
        .extract::<User>()
        .user("x")
        .await;
    let Err(Error::Provider { error, .. }) = error else {
        panic!("not a provider error");
    };
    assert!(
        matches!(&*error, ProviderError::Status { status: 400, request_id: Some(id), .. } if id == "req-9"),
        "{error:?}"
    );
}
