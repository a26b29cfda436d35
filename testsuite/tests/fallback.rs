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

/// An OpenAI stream that breaks off with a server error, after `fragments` of the
/// answer (none: the stream opens, then fails at once).
fn openai_broken(fragments: &[&str]) -> Reply {
    let mut events = if fragments.is_empty() {
        Vec::new()
    } else {
        ChatCompletion::tool_call_fragments("User", fragments.iter().copied()).to_sse_events()
    };
    // The opening chunk and the fragments; not the end of the answer (the finish
    // chunk, usage and `[DONE]`).
    events.truncate(fragments.len() + 1);
    events.push(
        "data: {\"error\": {\"message\": \"The server had an error\", \"type\": \"server_error\"}}\n\n"
            .to_owned(),
    );
    Reply::sse(events)
}

fn providers(ledger: &instructor::client::Ledger) -> Vec<(&str, bool)> {
    ledger
        .attempts
        .iter()
        .map(|a| (a.provider.as_str(), a.error.is_some()))
        .collect()
}

#[tokio::test]
async fn a_stream_that_breaks_mid_answer_starts_over_on_the_next_provider() {
    // The chain's policy allows no transport retry: failing over is not one.
    let (client, primary, backup) = chain().await;
    primary.push(openai_broken(&[r#"{"name": "Ad"#]));
    backup.push(
        Message::tool_use_fragments("User", [r#"{"name": "Ada", "#, r#""age": 36}"#]).sse_reply(),
    );
    let mut updates = client.extract::<User>().user("Ada is 36.").partial();
    let mut names = Vec::new();
    let mut restarted = Vec::new();
    let mut done = None;
    while let Some(update) = updates.next().await {
        match update.expect("an update") {
            PartialUpdate::Partial(partial) => names.push(partial.name.clone()),
            PartialUpdate::Restarted { attempt, reason } => restarted.push((attempt, reason)),
            PartialUpdate::Done(completion) => done = Some(completion),
            _ => {}
        }
    }
    let done = done.expect("the backup answers");
    assert_eq!(
        done.value,
        User {
            name: "Ada".into(),
            age: 36
        }
    );
    // The primary's partial was shown, then taken back with the reason.
    assert_eq!(names.first().cloned().flatten().as_deref(), Some("Ad"));
    assert_eq!(restarted.len(), 1, "{restarted:?}");
    assert_eq!(restarted[0].0, 1, "the same attempt goes on");
    assert!(
        restarted[0].1.contains("server had an error"),
        "{restarted:?}"
    );
    assert_eq!(done.response.provider.as_deref(), Some("anthropic"));
    assert_eq!(
        providers(&done.ledger),
        [("openai", true), ("anthropic", false)]
    );
    assert_eq!((primary.requests().len(), backup.requests().len()), (1, 1));
}

#[tokio::test]
async fn a_stream_that_fails_before_any_answer_hands_over_unseen() {
    let (client, primary, backup) = chain().await;
    primary.push(openai_broken(&[]));
    backup.push(
        Message::tool_use_fragments("User", [r#"{"name": "Ada", "#, r#""age": 36}"#]).sse_reply(),
    );
    let mut updates = client.extract::<User>().user("Ada is 36.").partial();
    let mut seen = Vec::new();
    while let Some(update) = updates.next().await {
        seen.push(update.expect("an update"));
    }
    assert!(
        !seen
            .iter()
            .any(|u| matches!(u, PartialUpdate::Restarted { .. })),
        "nothing to take back"
    );
    match seen.last() {
        Some(PartialUpdate::Done(done)) => {
            assert_eq!(done.value.age, 36);
            assert_eq!(
                providers(&done.ledger),
                [("openai", true), ("anthropic", false)]
            );
        }
        other => panic!("not done: {other:?}"),
    }
}

#[tokio::test]
async fn streamed_text_hands_over_before_its_first_chunk_and_not_after() {
    let (client, primary, backup) = chain().await;
    // Before any chunk: the backup's text, with the failed provider in the ledger.
    primary.push(openai_broken(&[]));
    backup.push(Message::text_fragments(["Ri", "ga"]).sse_reply());
    let mut stream = client.text().user("Capital of Latvia?").stream();
    let mut chunks = Vec::new();
    while let Some(chunk) = stream.next().await {
        chunks.push(chunk.expect("a chunk"));
    }
    assert_eq!(chunks.concat(), "Riga");

    // After a chunk was shown: it cannot be taken back, so the text ends with the
    // primary's error, and the ledger names it.
    primary.push(Reply::sse(vec![
        ChatCompletion::content_fragments(["Ri"]).to_sse_events()[1].clone(),
        "data: {\"error\": {\"message\": \"The server had an error\", \"type\": \"server_error\"}}\n\n"
            .to_owned(),
    ]));
    backup.push(Message::text_fragments(["Ri", "ga"]).sse_reply());
    let mut stream = client.text().user("Capital of Latvia?").stream();
    let mut results = Vec::new();
    while let Some(chunk) = stream.next().await {
        results.push(chunk);
    }
    assert_eq!(results.len(), 2, "{results:?}");
    assert_eq!(results[0].as_deref().ok(), Some("Ri"));
    match &results[1] {
        Err(Error::Provider { error, ledger }) => {
            assert!(error.to_string().contains("server had an error"), "{error}");
            assert_eq!(providers(ledger), [("openai", true)]);
        }
        other => panic!("not a provider error: {other:?}"),
    }
}

#[tokio::test]
async fn items_hand_over_until_one_is_shown() {
    let (client, primary, backup) = chain().await;
    // The first item is whole, and shown, before the primary breaks off.
    let events = ChatCompletion::tool_call_fragments(
        "User_list",
        [
            r#"{"items": [{"name": "Ada", "age": 36}, "#,
            r#"{"name": "Gra"#,
        ],
    )
    .to_sse_events();
    let mut broken: Vec<String> = events.into_iter().take(2).collect();
    broken.push(
        "data: {\"error\": {\"message\": \"The server had an error\", \"type\": \"server_error\"}}\n\n"
            .to_owned(),
    );
    primary.push(Reply::sse(broken));
    backup.push(
        Message::tool_use_fragments(
            "User_list",
            [
                r#"{"items": [{"name": "Ada", "age": 36}, "#,
                r#"{"name": "Grace", "age": 85}]}"#,
            ],
        )
        .sse_reply(),
    );
    let mut items = client.extract::<User>().user("Ada and Grace.").iter();
    let mut seen = Vec::new();
    while let Some(item) = items.next().await {
        seen.push(item);
    }
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert_eq!(seen[0].as_ref().map(|u| u.age).ok(), Some(36));
    assert!(
        matches!(&seen[1], Err(Error::Provider { .. })),
        "shown items cannot be taken back: {:?}",
        seen[1]
    );

    // Broken before any item was whole: the backup's list, read from the start.
    primary.push(openai_broken(&[r#"{"items": [{"name": "Ad"#]));
    backup.push(
        Message::tool_use_fragments(
            "User_list",
            [
                r#"{"items": [{"name": "Ada", "age": 36}, "#,
                r#"{"name": "Grace", "age": 85}]}"#,
            ],
        )
        .sse_reply(),
    );
    let mut items = client.extract::<User>().user("Ada and Grace.").iter();
    let mut names = Vec::new();
    while let Some(item) = items.next().await {
        names.push(item.expect("an item").name);
    }
    assert_eq!(names, ["Ada", "Grace"]);
}
