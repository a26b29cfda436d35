//! Extraction on Anthropic's Messages API, natively, over real HTTP to the fake
//! provider speaking Anthropic's wire: the same extraction code as on OpenAI with only
//! the client changed; `.partial()` and `.iter()`; re-asks answering the failed
//! `tool_use` with an `is_error` result (after its thinking); thinking switching the
//! forced tool to a request; truncation, refusal and overload; native structured
//! output and prompted JSON; images and prompt caching on the wire; usage with cache
//! reads and writes in the ledger.

use futures_util::StreamExt;
use instructor::client::{PartialUpdate, RetryPolicy};
use instructor::prelude::*;
use instructor::providers::anthropic::{Anthropic, AnthropicConfig, Thinking};
use instructor::providers::openai::{OpenAi, OpenAiConfig};
use instructor::providers::testing::{
    FakeProvider, Reply,
    anthropic::{self, Message},
    openai::ChatCompletion,
};
use instructor::{Error, Image, cached};
use serde_json::{Value, json};
use std::time::Duration;

/// A user named in the text.
#[derive(Debug, Clone, PartialEq, Deserialize, Extract)]
struct User {
    name: String,
    age: u8,
}

const KEY: &str = "sk-ant-test-key-abcdefgh";

fn claude(server: &FakeProvider) -> Client {
    claude_with(server, |config| config)
}

fn claude_with(server: &FakeProvider, configure: fn(AnthropicConfig) -> AnthropicConfig) -> Client {
    let config = configure(AnthropicConfig::new(server.base_url()).with_api_key(KEY));
    Client::new(Anthropic::new(config))
        .with_model("claude-sonnet-4-5")
        .with_retry_policy(RetryPolicy {
            initial_delay: Duration::from_millis(5),
            ..RetryPolicy::default()
        })
}

fn bodies(server: &FakeProvider) -> Vec<Value> {
    server
        .requests_for(anthropic::MESSAGES_PATH)
        .iter()
        .map(|request| request.json().cloned().expect("a JSON body"))
        .collect()
}

async fn extract_ada(client: &Client) -> Result<User, Error> {
    client
        .extract::<User>()
        .system("Extract the user.")
        .user("Ada is 36.")
        .await
}

#[tokio::test]
async fn the_same_extraction_runs_on_openai_and_anthropic() {
    let server = FakeProvider::start().await;
    server.push(ChatCompletion::tool_call("User", r#"{"name": "Ada", "age": 36}"#).reply());
    server.push_for(
        anthropic::MESSAGES_PATH,
        Message::tool_use("User", r#"{"name": "Ada", "age": 36}"#).reply(),
    );
    let openai =
        Client::new(OpenAi::new(OpenAiConfig::new(server.base_url()))).with_model("gpt-4o");
    let from_openai = extract_ada(&openai).await.expect("openai");
    let from_claude = extract_ada(&claude(&server)).await.expect("anthropic");
    assert_eq!(from_openai, from_claude);

    let body = &bodies(&server)[0];
    assert_eq!(body["system"][0]["text"], "Extract the user.");
    assert_eq!(
        body["messages"],
        json!([{"role": "user", "content": [{"type": "text", "text": "Ada is 36."}]}])
    );
    assert_eq!(
        body["tool_choice"],
        json!({"type": "tool", "name": "User", "disable_parallel_tool_use": true})
    );
    assert_eq!(
        body["tools"][0]["input_schema"]["required"],
        json!(["name", "age"])
    );
}

#[tokio::test]
async fn partial_updates_and_items_stream_from_anthropic_events() {
    let server = FakeProvider::start().await;
    server.push(
        Message::tool_use_fragments(
            "User",
            [r#"{"name": "Gr"#, r#"ace", "#, r#""age": 8"#, "5}"],
        )
        .sse_reply(),
    );
    server.push(
        Message::tool_use_fragments(
            "User_list",
            [
                r#"{"value": [{"name": "Ada", "age": 36}, "#,
                r#"{"name": "Grace", "age": 85}]}"#,
            ],
        )
        .sse_reply(),
    );
    let client = claude(&server);
    let mut updates = client.extract::<User>().user("Grace is 85.").partial();
    let mut names = Vec::new();
    let mut done = None;
    while let Some(update) = updates.next().await {
        match update.expect("an update") {
            PartialUpdate::Partial(partial) => {
                if let Some(name) = &partial.name {
                    names.push(name.clone());
                }
                // A number appears only whole.
                assert!(partial.age.is_none() || partial.age == Some(85));
            }
            PartialUpdate::Done(completion) => done = Some(completion.value),
            _ => {}
        }
    }
    assert_eq!(names.first().map(String::as_str), Some("Gr"));
    assert_eq!(
        done,
        Some(User {
            name: "Grace".into(),
            age: 85
        })
    );

    let mut items = client.extract::<User>().user("Ada and Grace.").iter();
    let mut users = Vec::new();
    while let Some(user) = items.next().await {
        users.push(user.expect("an item").name);
    }
    assert_eq!(users, ["Ada", "Grace"]);
    assert!(bodies(&server).iter().all(|body| body["stream"] == true));
}

#[tokio::test]
async fn a_re_ask_answers_the_failed_tool_use_with_an_error_result() {
    let server = FakeProvider::start().await;
    server.push(Message::tool_use("User", r#"{"name": "Ada", "age": "old"}"#).reply());
    server.push(Message::tool_use("User", r#"{"name": "Ada", "age": 36}"#).reply());
    let completion = claude(&server)
        .extract::<User>()
        .user("Ada is 36.")
        .max_retries(1)
        .with_completion()
        .await
        .expect("fixed on the re-ask");
    assert_eq!(completion.value.age, 36);
    assert_eq!(completion.ledger.attempts.len(), 2);
    let second = &bodies(&server)[1];
    let messages = second["messages"].as_array().expect("messages");
    assert_eq!(messages.len(), 3, "{messages:#?}");
    assert_eq!(messages[1]["role"], "assistant");
    assert_eq!(messages[1]["content"][0]["type"], "tool_use");
    assert_eq!(
        messages[1]["content"][0]["input"],
        json!({"name": "Ada", "age": "old"})
    );
    let result = &messages[2]["content"][0];
    assert_eq!(result["type"], "tool_result");
    assert_eq!(result["tool_use_id"], messages[1]["content"][0]["id"]);
    assert_eq!(result["is_error"], true);
    assert!(
        result["content"][0]["text"]
            .as_str()
            .is_some_and(|text| text.contains("age")),
        "{result:#}"
    );
}

#[tokio::test]
async fn with_thinking_the_tool_is_asked_for_and_thinking_goes_back_with_the_re_ask() {
    let server = FakeProvider::start().await;
    server.push(
        Message::tool_use("User", r#"{"name": "Ada"}"#)
            .thinking_first(["Ada is ", "the user."], "sig-1")
            .reply(),
    );
    server.push(
        Message::tool_use("User", r#"{"name": "Ada", "age": 36}"#)
            .thinking_first(["Now with the age."], "sig-2")
            .reply(),
    );
    let client = claude_with(&server, |config| {
        config.with_thinking(Thinking::Budget(1024))
    });
    let completion = client
        .extract::<User>()
        .user("Ada is 36.")
        .max_retries(1)
        .with_completion()
        .await
        .expect("a user");
    assert_eq!(
        completion.value,
        User {
            name: "Ada".into(),
            age: 36
        }
    );
    // The thinking is kept in the response, never parsed as the answer.
    assert!(matches!(
        completion.response.reasoning.as_slice(),
        [instructor::chat::ContentPart::Thinking { signature: Some(s), .. }] if s == "sig-2"
    ));
    let bodies = bodies(&server);
    assert_eq!(bodies[0]["tool_choice"], json!({"type": "auto"}));
    assert_eq!(
        bodies[0]["thinking"],
        json!({"type": "enabled", "budget_tokens": 1024})
    );
    assert_eq!(
        bodies[1]["messages"][1]["content"][0],
        json!({"type": "thinking", "thinking": "Ada is the user.", "signature": "sig-1"})
    );
    assert_eq!(bodies[1]["messages"][1]["content"][1]["type"], "tool_use");
}

#[tokio::test]
async fn truncation_refusal_and_overload() {
    let server = FakeProvider::start().await;
    let cut = Message::tool_use("User", r#"{"name": "Ad"#).stop_reason("max_tokens");
    server.push(cut.reply());
    server.push(cut.sse_reply());
    let client = claude(&server);
    let error = extract_ada(&client).await.expect_err("cut");
    assert!(matches!(error, Error::Truncated { .. }), "{error:?}");
    let mut updates = client.extract::<User>().user("Ada is 36.").partial();
    let mut last = None;
    while let Some(update) = updates.next().await {
        last = Some(update);
    }
    assert!(
        matches!(last, Some(Err(Error::Truncated { .. }))),
        "{last:?}"
    );

    let refusal = Message::text("I can't help with that.").stop_reason("refusal");
    server.push(refusal.reply());
    let error = extract_ada(&client).await.expect_err("refused");
    assert!(matches!(error, Error::Refusal { .. }), "{error:?}");

    server.push(Reply::json(
        529,
        anthropic::error_body("overloaded_error", "Overloaded"),
    ));
    server.push(Message::tool_use("User", r#"{"name": "Ada", "age": 36}"#).reply());
    let completion = client
        .extract::<User>()
        .user("Ada is 36.")
        .with_completion()
        .await
        .expect("retried past the overload");
    assert_eq!(completion.value.age, 36);
    assert_eq!(completion.ledger.attempts[0].transport_retries, 1);
    assert!(!format!("{error:?}").contains(KEY));
}

#[tokio::test]
async fn native_structured_output_and_prompted_json_read_the_text() {
    let server = FakeProvider::start().await;
    server.push(Message::text(r#"{"name": "Ada", "age": 36}"#).reply());
    server.push(
        Message::text("Here it is:\n```json\n{\"name\": \"Ada\", \"age\": 36,}\n```").reply(),
    );
    let client = claude(&server);
    for mode in [Mode::JsonSchema, Mode::MdJson] {
        let user = client
            .extract::<User>()
            .mode(mode)
            .user("Ada is 36.")
            .await
            .unwrap_or_else(|e| panic!("{mode:?}: {e}"));
        assert_eq!(user.age, 36);
    }
    let bodies = bodies(&server);
    assert_eq!(bodies[0]["output_config"]["format"]["type"], "json_schema");
    assert!(bodies[1].get("output_config").is_none());
    // Core's schema prompt is hoisted into `system`.
    assert!(
        bodies[1]["system"][0]["text"]
            .as_str()
            .is_some_and(|text| text.contains("\"age\"")),
        "{:#}",
        bodies[1]["system"]
    );
}

#[tokio::test]
async fn a_cached_book_and_an_image_reach_the_wire_and_cache_usage_the_ledger() {
    const PNG: &[u8] = &[
        0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0x0D, b'I', b'H', b'D', b'R',
    ];
    let server = FakeProvider::start().await;
    server.push(
        Message::tool_use("User", r#"{"name": "Ada", "age": 36}"#)
            .cache_usage(2000, 0)
            .reply(),
    );
    server.push(
        Message::tool_use("User", r#"{"name": "Ada", "age": 36}"#)
            .cache_usage(0, 2000)
            .reply(),
    );
    let client = claude(&server);
    let book = "<book>".to_owned() + &"Ada wrote the first program. ".repeat(50) + "</book>";
    let mut ledgers = Vec::new();
    for _ in 0..2 {
        let completion = client
            .extract::<User>()
            .user((
                cached(book.clone()),
                Image::from_bytes(PNG).expect("a png"),
                "Who is in the book and the picture?",
            ))
            .with_completion()
            .await
            .expect("a user");
        ledgers.push(completion.ledger);
    }
    assert_eq!(ledgers[0].total_usage.cache_creation_tokens, 2000);
    assert_eq!(ledgers[1].total_usage.cached_tokens, 2000);
    assert_eq!(
        ledgers[1].attempts[0]
            .usage
            .map(|usage| usage.cached_tokens),
        Some(2000)
    );
    let body = &bodies(&server)[0];
    let content = &body["messages"][0]["content"];
    assert_eq!(content[0]["cache_control"], json!({"type": "ephemeral"}));
    assert_eq!(content[1]["type"], "image");
    assert_eq!(content[1]["source"]["media_type"], "image/png");
    assert!(content[1].get("cache_control").is_none());
    assert_eq!(content[2]["text"], "Who is in the book and the picture?");
}
