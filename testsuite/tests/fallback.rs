//! A provider fallback chain (`Client::fallback`): a failing provider hands the request
//! to the next with its own model, whole and streamed; a validation failure is re-asked
//! of the provider that answered, never failed over; the mode must suit every provider.

use futures_util::StreamExt;
use instructor::Error;
use instructor::client::{PartialUpdate, RetryPolicy};
use instructor::prelude::*;
use instructor::providers::anthropic::{Anthropic, AnthropicConfig};
use instructor::providers::openai::{OpenAi, OpenAiConfig};
use instructor::providers::testing::{
    FakeProvider, Reply, anthropic::Message, openai::ChatCompletion,
};
use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Deserialize, Extract)]
struct User {
    name: String,
    age: u8,
}

async fn chain() -> (Client, FakeProvider, FakeProvider) {
    let primary = FakeProvider::start().await;
    let backup = FakeProvider::start().await;
    let openai = Client::new(OpenAi::new(OpenAiConfig::new(primary.base_url())))
        .with_model("gpt-4o-mini")
        .with_retry_policy(RetryPolicy {
            max_retries: 0,
            initial_delay: Duration::from_millis(5),
            ..RetryPolicy::default()
        });
    let claude = Client::new(Anthropic::new(AnthropicConfig::new(backup.base_url())))
        .with_model("claude-haiku-4-5");
    (Client::fallback([openai, claude]), primary, backup)
}

#[tokio::test]
async fn a_failing_provider_hands_over_to_the_next_with_its_own_model() {
    let (client, primary, backup) = chain().await;
    primary.push(Reply::status(500));
    backup.push(Message::tool_use("User", r#"{"name": "Ada", "age": 36}"#).reply());
    let done = client
        .extract::<User>()
        .user("Ada is 36.")
        .with_completion()
        .await
        .expect("the backup answers");
    assert_eq!(done.value.age, 36);
    assert_eq!(done.response.provider.as_deref(), Some("anthropic"));
    assert_eq!(done.response.failed_over.len(), 1);
    assert_eq!(done.response.failed_over[0].provider, "openai");
    // The ledger: the provider that failed over is an attempt of its own, with its
    // error, then the one that answered; both the first attempt.
    let attempts: Vec<(u32, &str, bool)> = done
        .ledger
        .attempts
        .iter()
        .map(|a| (a.number, a.provider.as_str(), a.error.is_some()))
        .collect();
    assert_eq!(attempts, [(1, "openai", true), (1, "anthropic", false)]);
    assert!(
        done.ledger.attempts[0]
            .error
            .as_deref()
            .is_some_and(|e| e.contains("500")),
        "{:?}",
        done.ledger.attempts[0]
    );
    assert_eq!(primary.requests().len(), 1);
    let sent = backup.last_request().expect("sent");
    let body = sent.json().expect("JSON");
    assert_eq!(
        body["model"], "claude-haiku-4-5",
        "each provider its own model"
    );

    // Streamed: the same hand-over.
    primary.push(Reply::status(503));
    backup.push(
        Message::tool_use_fragments("User", [r#"{"name": "Ada", "#, r#""age": 36}"#]).sse_reply(),
    );
    let mut updates = client.extract::<User>().user("Ada is 36.").partial();
    let mut done = None;
    while let Some(update) = updates.next().await {
        if let PartialUpdate::Done(completion) = update.expect("an update") {
            done = Some(completion);
        }
    }
    let done = done.expect("a value");
    assert_eq!(done.value.name, "Ada");
    assert_eq!(done.response.provider.as_deref(), Some("anthropic"));
    let providers: Vec<&str> = done
        .ledger
        .attempts
        .iter()
        .map(|a| a.provider.as_str())
        .collect();
    assert_eq!(
        providers,
        ["openai", "anthropic"],
        "streamed, the same ledger"
    );

    // Plain text: the same hand-over, the same ledger.
    primary.push(Reply::status(502));
    backup.push(Message::text("Riga").reply());
    let (response, ledger) = client
        .text()
        .user("What's the capital of Latvia?")
        .with_response()
        .await
        .expect("the backup answers");
    assert_eq!(response.text.as_deref(), Some("Riga"));
    let providers: Vec<&str> = ledger
        .attempts
        .iter()
        .map(|a| a.provider.as_str())
        .collect();
    assert_eq!(providers, ["openai", "anthropic"]);
}

#[tokio::test]
async fn an_invalid_answer_is_re_asked_of_the_same_provider_not_failed_over() {
    let (client, primary, backup) = chain().await;
    primary.push(ChatCompletion::tool_call("User", r#"{"name": "Ada", "age": "old"}"#).reply());
    primary.push(ChatCompletion::tool_call("User", r#"{"name": "Ada", "age": 36}"#).reply());
    let user = client
        .extract::<User>()
        .user("Ada is 36.")
        .max_retries(1)
        .await
        .expect("fixed by a re-ask");
    assert_eq!(user.age, 36);
    assert_eq!(primary.requests().len(), 2);
    assert!(
        backup.requests().is_empty(),
        "a validation failure never fails over"
    );
}

#[tokio::test]
async fn when_every_provider_fails_each_error_is_kept_with_its_provider() {
    let (client, primary, backup) = chain().await;
    primary.push(Reply::status(500));
    backup.push(Reply::json(
        529,
        instructor::providers::testing::anthropic::error_body("overloaded_error", "Overloaded"),
    ));
    let client = client.with_retry_policy(RetryPolicy {
        max_retries: 0,
        ..RetryPolicy::default()
    });
    let error = client
        .extract::<User>()
        .user("Ada is 36.")
        .await
        .expect_err("both failed");
    match &error {
        Error::Provider { error, ledger } => {
            let text = error.to_string();
            assert!(text.contains("openai: HTTP 500"), "{text}");
            assert!(text.contains("anthropic: HTTP 529"), "{text}");
            assert!(
                error.is_retryable(),
                "the last failure (overload) is worth retrying"
            );
            let attempts: Vec<(&str, bool)> = ledger
                .attempts
                .iter()
                .map(|a| {
                    (
                        a.provider.as_str(),
                        a.error.as_deref().is_some_and(|e| !e.is_empty()),
                    )
                })
                .collect();
            assert_eq!(attempts, [("openai", true), ("anthropic", true)]);
        }
        other => panic!("{other:?}"),
    }
    // With retries, the whole chain is tried again from its first provider.
    primary.push(Reply::status(500));
    backup.push(Reply::status(503));
    primary.push(ChatCompletion::tool_call("User", r#"{"name": "Ada", "age": 36}"#).reply());
    let retrying = client.with_retry_policy(RetryPolicy {
        max_retries: 1,
        initial_delay: Duration::from_millis(1),
        ..RetryPolicy::default()
    });
    let done = retrying
        .extract::<User>()
        .user("Ada is 36.")
        .with_completion()
        .await
        .expect("the retry reaches the primary again");
    assert_eq!(done.response.provider.as_deref(), Some("openai"));
    assert_eq!(done.ledger.attempts.len(), 1);
    assert_eq!(done.ledger.attempts[0].transport_retries, 1);
    // A mode one provider cannot serve is refused before anything is sent.
    let cohere_like = Client::fallback([
        Client::new(OpenAi::new(OpenAiConfig::new(primary.base_url()))).with_model("gpt-4o"),
        Client::new(instructor::providers::gemini::Gemini::new(
            instructor::providers::gemini::GeminiConfig::new(backup.base_url()),
        ))
        .with_model("gemini-2.5-flash"),
    ]);
    let before = primary.requests().len() + backup.requests().len();
    let error = cohere_like
        .extract::<User>()
        .mode(Mode::ToolsStrict)
        .user("x")
        .await
        .expect_err("Gemini has no strict tools");
    assert!(matches!(error, Error::UnsupportedMode { .. }), "{error:?}");
    assert_eq!(primary.requests().len() + backup.requests().len(), before);
}
