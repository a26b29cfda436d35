//! Validators see which attempt they judge (`context.attempt()`: its number and whether
//! it is the last), through `.await` and `.partial()` alike, over real HTTP to the fake
//! provider; a value validated directly has no attempt.

use futures_util::StreamExt;
use instructor::ValidationError;
use instructor::client::PartialUpdate;
use instructor::prelude::*;
use instructor::providers::openai::{OpenAi, OpenAiConfig};
use instructor::providers::testing::{FakeProvider, openai::ChatCompletion};

/// Accepts a draft only on the last attempt; says which attempt refused it.
fn final_only(text: &str, context: &Context) -> Result<(), ValidationError> {
    match context.attempt() {
        Some(attempt) if attempt.last => Ok(()),
        Some(attempt) => Err(ValidationError::new(format!(
            "`{text}` refused on attempt {} (not the last)",
            attempt.number
        ))),
        None => Err(ValidationError::new("no attempt")),
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize, Extract)]
struct Draft {
    #[extract(validate = final_only)]
    text: String,
}

fn client(server: &FakeProvider) -> Client {
    Client::new(OpenAi::new(OpenAiConfig::new(server.base_url()))).with_model("gpt-4o-mini")
}

fn push_three(server: &FakeProvider, streamed: bool) {
    for text in ["one", "two", "three"] {
        let answer = ChatCompletion::tool_call("Draft", format!(r#"{{"text":"{text}"}}"#));
        server.push(if streamed {
            answer.sse_reply()
        } else {
            answer.reply()
        });
    }
}

#[tokio::test]
async fn validators_see_the_attempt_number_and_the_last_one() {
    let server = FakeProvider::start().await;
    push_three(&server, false);
    let done = client(&server)
        .extract::<Draft>()
        .user("Write a draft.")
        .max_retries(2)
        .with_completion()
        .await
        .expect("accepted on the last attempt");
    assert_eq!(done.value.text, "three");
    let errors: Vec<Option<&str>> = done
        .ledger
        .attempts
        .iter()
        .map(|a| a.error.as_deref())
        .collect();
    assert_eq!(errors.len(), 3);
    assert!(
        errors[0].is_some_and(|e| e.contains("`one` refused on attempt 1")),
        "{errors:?}"
    );
    assert!(
        errors[1].is_some_and(|e| e.contains("`two` refused on attempt 2")),
        "{errors:?}"
    );
    assert_eq!(errors[2], None);
}

#[tokio::test]
async fn streamed_attempts_are_numbered_the_same_way() {
    let server = FakeProvider::start().await;
    push_three(&server, true);
    let mut stream = client(&server)
        .extract::<Draft>()
        .user("Write a draft.")
        .max_retries(2)
        .partial();
    let mut restarts = Vec::new();
    let mut value = None;
    while let Some(update) = stream.next().await {
        match update.expect("no error") {
            PartialUpdate::Restarted { attempt, reason } => restarts.push((attempt, reason)),
            PartialUpdate::Done(done) => value = Some(done.value),
            _ => {}
        }
    }
    assert_eq!(value.map(|d| d.text).as_deref(), Some("three"));
    assert_eq!(restarts.len(), 2, "{restarts:?}");
    assert!(restarts[0].1.contains("attempt 1"), "{restarts:?}");
    assert!(restarts[1].1.contains("attempt 2"), "{restarts:?}");
}

#[test]
fn a_value_validated_directly_has_no_attempt() {
    let draft = Draft { text: "x".into() };
    let errors = draft.validate(&Context::new()).expect_err("no attempt");
    assert!(errors.to_string().contains("no attempt"), "{errors}");
}
