//! Everything that comes from the server passes through the provider's redaction
//! before the library keeps or shows it: request ids, refusal text, the model's raw
//! output in the ledger and hooks, error text, whole or streamed (a key cut across
//! stream deltas included).

use futures_util::StreamExt;
use instructor::Error;
use instructor::client::{HookEvent, Hooks};
use instructor::prelude::*;
use instructor::providers::openai::{OpenAi, OpenAiConfig};
use instructor::providers::testing::{FakeProvider, Reply};
use serde_json::json;
use std::sync::{Arc, Mutex};

const KEY: &str = "sk-live-very-secret-0123456789abcdef";

#[derive(Debug, Deserialize, Extract)]
#[allow(dead_code)]
struct User {
    name: String,
    age: u8,
}

fn client(server: &FakeProvider, seen: Arc<Mutex<String>>) -> Client {
    let hooks = Hooks::new().on(move |event| {
        let text = match event {
            HookEvent::Response { response, .. } => format!("{response:?}"),
            HookEvent::ParseError { message, .. } => (*message).to_owned(),
            HookEvent::Error { error } => format!("{error} {error:?}"),
            other => format!("{other:?}"),
        };
        seen.lock().expect("log").push_str(&text);
    });
    Client::new(OpenAi::new(
        OpenAiConfig::new(server.base_url()).with_api_key(KEY),
    ))
    .with_model("gpt-4o-mini")
    .with_max_retries(0)
    .with_hooks(hooks)
}

fn assert_clean(what: &str, text: &str) {
    assert!(!text.contains(KEY), "the key leaked into {what}:\n{text}");
    // Half a key is a leak too.
    assert!(
        !text.contains(&KEY[..KEY.len() / 2 + 4]),
        "half the key leaked into {what}:\n{text}"
    );
}

fn completion(message: serde_json::Value, finish: &str) -> serde_json::Value {
    json!({"id": format!("chatcmpl-{KEY}"), "object": "chat.completion", "created": 1,
           "model": "gpt-4o-mini",
           "choices": [{"index": 0, "message": message, "finish_reason": finish}],
           "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}})
}

#[tokio::test(flavor = "current_thread")]
async fn an_echoed_key_never_shows_in_a_refusal_a_request_id_or_the_ledger() {
    let server = FakeProvider::start().await;
    server.push(
        Reply::json(200, completion(json!({"role": "assistant", "content": null, "refusal": format!("I won't use {KEY}")}), "stop"))
            .header("x-request-id", &format!("req-{KEY}")),
    );
    server.push(
        Reply::json(200, completion(json!({"role": "assistant", "content": null, "tool_calls": [
            {"id": "call_1", "type": "function", "function": {"name": "User", "arguments": format!("{{\"name\": \"{KEY}\", \"age\": \"x\"}}")}}
        ]}), "tool_calls"))
        .header("x-request-id", &format!("req-{KEY}")),
    );
    let seen = Arc::new(Mutex::new(String::new()));
    let client = client(&server, seen.clone());
    for _ in 0..2 {
        let error = client
            .extract::<User>()
            .user("x")
            .await
            .expect_err("refused, then invalid");
        assert_clean("an error's Display", &error.to_string());
        assert_clean("an error's Debug", &format!("{error:?}"));
        assert!(
            matches!(error, Error::Refusal { .. } | Error::Parse { .. }),
            "{error:?}"
        );
    }
    assert_clean("hooks", &seen.lock().expect("log"));
}

#[tokio::test(flavor = "current_thread")]
async fn a_key_cut_across_stream_deltas_never_shows_in_the_ledger_or_hooks() {
    let server = FakeProvider::start().await;
    let arguments = format!("{{\"name\": \"{KEY}\", \"age\": \"x\"}}");
    let (a, b) = arguments.split_at(20);
    let chunk = |delta: serde_json::Value, finish: Option<&str>| {
        format!(
            "data: {}\n\n",
            json!({"id": format!("chatcmpl-{KEY}"), "object": "chat.completion.chunk",
            "created": 1, "model": "gpt-4o-mini", "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})
        )
    };
    server.push(Reply::sse([
        chunk(json!({"role": "assistant", "tool_calls": [{"index": 0, "id": "call_1", "type": "function", "function": {"name": "User", "arguments": a}}]}), None),
        chunk(json!({"tool_calls": [{"index": 0, "function": {"arguments": b}}]}), None),
        chunk(json!({}), Some("tool_calls")),
        "data: [DONE]\n\n".to_owned(),
    ]));
    let seen = Arc::new(Mutex::new(String::new()));
    let client = client(&server, seen.clone());
    let mut stream = client.extract::<User>().user("x").partial();
    let mut error = None;
    while let Some(update) = stream.next().await {
        if let Err(e) = update {
            error = Some(e);
        }
    }
    let error = error.expect("age is not a number");
    assert_clean("an error", &format!("{error} {error:?}"));
    assert_clean("hooks", &seen.lock().expect("log"));
}
