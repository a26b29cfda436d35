//! Ending an extraction early with a typed reason: a validator (derived, or async)
//! returning `Stop`, or a hook of `Hooks::stop_when`, ends it at once with
//! `Error::Stopped` (who, where, why; the validation errors; the ledger) and no re-ask,
//! no truncation retry, no transport retry; `.await` and `.partial()` agree; a valid
//! answer is still returned. Over real HTTP to the fake provider.

use futures_util::StreamExt;
use instructor::client::{HookEvent, Hooks, RetryPolicy, StoppedBy};
use instructor::prelude::*;
use instructor::providers::openai::{OpenAi, OpenAiConfig};
use instructor::providers::testing::{FakeProvider, Reply, openai::ChatCompletion};
use instructor::{Error, WirePath};
use std::time::Duration;

/// A customer id must be one the text gives; when the model invents one, asking again
/// will not find a real one.
fn known_customer(id: &String, _: &Context) -> Result<(), ValidationErrors> {
    if id.starts_with("cus_") {
        Ok(())
    } else {
        Err(Stop::new(format!("`{id}` is not a customer id; the text has none")).into())
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize, Extract)]
struct Ticket {
    #[extract(validate = known_customer)]
    customer_id: String,
    #[garde(range(max = 5))]
    priority: u8,
}

fn client(server: &FakeProvider) -> Client {
    Client::new(OpenAi::new(OpenAiConfig::new(server.base_url())))
        .with_model("gpt-4o-mini")
        .with_retry_policy(RetryPolicy {
            initial_delay: Duration::from_millis(2),
            ..RetryPolicy::default()
        })
}

const INVENTED: &str = r#"{"customer_id": "12345", "priority": 9}"#;

fn assert_stopped_by_the_validator(error: &Error) {
    match error {
        Error::Stopped { reason, ledger } => {
            let (errors, raw_output) = (&reason.errors, &reason.raw_output);
            assert!(
                matches!(&reason.by, StoppedBy::Validator { path } if *path == "customer_id"),
                "{reason:?}"
            );
            assert!(reason.message.contains("`12345` is not a customer id"));
            // Every error of the answer is kept, the stopping one and the others.
            let errors = errors.as_ref().expect("the validation errors");
            let paths: Vec<String> = errors.errors().iter().map(|e| e.path_string()).collect();
            assert!(paths.contains(&"customer_id".to_owned()), "{paths:?}");
            assert!(paths.contains(&"priority".to_owned()), "{paths:?}");
            assert_eq!(raw_output.as_deref(), Some(INVENTED));
            assert_eq!(ledger.attempts.len(), 1);
            assert!(
                error
                    .to_string()
                    .contains("stopped by a validator at customer_id")
            );
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_validator_stop_ends_the_extraction_without_a_re_ask() {
    let server = FakeProvider::start().await;
    server.push(ChatCompletion::tool_call("Ticket", INVENTED).reply());
    server.push(ChatCompletion::tool_call("Ticket", INVENTED).sse_reply());
    let client = client(&server);
    let error = client
        .extract::<Ticket>()
        .user("My order is late!")
        .max_retries(3)
        .await
        .expect_err("stopped");
    assert_stopped_by_the_validator(&error);

    // Streamed: the same error, and no second request.
    let mut updates = client
        .extract::<Ticket>()
        .user("My order is late!")
        .max_retries(3)
        .partial();
    let mut last = None;
    while let Some(update) = updates.next().await {
        last = Some(update);
    }
    match last {
        Some(Err(error)) => assert_stopped_by_the_validator(&error),
        other => panic!("{other:?}"),
    }
    assert_eq!(server.requests().len(), 2, "one request each, no re-ask");
}

#[tokio::test]
async fn an_async_validator_can_stop_too() {
    #[derive(Debug, Clone, PartialEq, Deserialize, Extract)]
    struct Note {
        text: String,
    }
    let server = FakeProvider::start().await;
    server.push(ChatCompletion::tool_call("Note", r#"{"text": "forbidden"}"#).reply());
    let error = client(&server)
        .extract::<Note>()
        .user("Write a note.")
        .max_retries(2)
        .validator(|note: &Note, _: &Context| {
            let forbidden = note.text.contains("forbidden");
            async move {
                if forbidden {
                    Err(Stop::new("policy: this note cannot be written").into())
                } else {
                    Ok(())
                }
            }
        })
        .await
        .expect_err("stopped");
    match &error {
        Error::Stopped { reason, .. } => {
            assert_eq!(
                reason.by,
                StoppedBy::Validator {
                    path: WirePath::root()
                }
            );
            assert_eq!(reason.message, "policy: this note cannot be written");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn a_hook_stops_on_a_validation_error_it_judges_hopeless() {
    #[derive(Debug, Clone, PartialEq, Deserialize, Extract)]
    struct User {
        name: String,
        #[garde(range(max = 150))]
        age: u8,
    }
    let server = FakeProvider::start().await;
    server.push(ChatCompletion::tool_call("User", r#"{"name": "Ada", "age": 200}"#).reply());
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = seen.clone();
    let hooks = Hooks::new()
        .on(move |event| log.lock().expect("log").push(event.kind()))
        .stop_when(|event| match event {
            HookEvent::ValidationError { errors, .. }
                if errors.errors().iter().any(|e| e.path_string() == "age") =>
            {
                Some(Stop::new(
                    "the age is out of range; the text gives no other",
                ))
            }
            _ => None,
        });
    let error = client(&server)
        .extract::<User>()
        .user("Ada is 200.")
        .max_retries(3)
        .hooks(hooks)
        .await
        .expect_err("stopped");
    match &error {
        Error::Stopped { reason, ledger } => {
            let errors = &reason.errors;
            assert_eq!(
                reason.by,
                StoppedBy::Hook {
                    event: "validation_error"
                }
            );
            assert!(errors.is_some());
            assert_eq!(ledger.attempts.len(), 1);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(server.requests().len(), 1);
    // The hooks saw the failure and the end, never a retry.
    let seen = seen.lock().expect("log").clone();
    assert!(seen.contains(&"validation_error"), "{seen:?}");
    assert!(seen.contains(&"error"), "{seen:?}");
    assert!(!seen.contains(&"retry"), "{seen:?}");
}

#[tokio::test]
async fn a_hook_stops_transport_retries_and_truncation_retries() {
    #[derive(Debug, Clone, PartialEq, Deserialize, Extract)]
    struct User {
        name: String,
    }
    let server = FakeProvider::start().await;
    server.push(Reply::status(503));
    server.push(ChatCompletion::tool_call("User", r#"{"name": "Ada"}"#).reply());
    let no_retries_on_overload = Hooks::new().stop_when(|event| match event {
        HookEvent::TransportRetry { .. } => Some(Stop::new("do not wait for an overloaded model")),
        _ => None,
    });
    let error = client(&server)
        .extract::<User>()
        .user("Ada")
        .hooks(no_retries_on_overload)
        .await
        .expect_err("stopped before retrying");
    match &error {
        Error::Stopped { reason, ledger, .. } => {
            assert_eq!(
                reason.by,
                StoppedBy::Hook {
                    event: "transport_retry"
                }
            );
            assert!(
                ledger.attempts[0]
                    .error
                    .as_deref()
                    .is_some_and(|e| e.contains("503")),
                "{ledger:?}"
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(server.requests().len(), 1);

    // A truncated answer would be retried with a larger limit; the hook stops that.
    let server = FakeProvider::start().await;
    server.push(
        ChatCompletion::tool_call("User", r#"{"name": "Ad"#)
            .finish_reason("length")
            .reply(),
    );
    let error = client(&server)
        .extract::<User>()
        .user("Ada")
        .max_tokens(10)
        .retry_truncated_with(100)
        .hooks(Hooks::new().stop_when(|event| match event {
            HookEvent::Retry {
                reason: "truncated",
                ..
            } => Some(Stop::new("no budget for a longer answer")),
            _ => None,
        }))
        .await
        .expect_err("stopped");
    assert!(
        matches!(&error, Error::Stopped { reason, .. } if reason.by == StoppedBy::Hook { event: "retry" }),
        "{error:?}"
    );
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn a_valid_answer_is_returned_even_when_a_hook_asked_to_stop() {
    #[derive(Debug, Clone, PartialEq, Deserialize, Extract)]
    struct User {
        name: String,
    }
    let server = FakeProvider::start().await;
    server.push(ChatCompletion::tool_call("User", r#"{"name": "Ada"}"#).reply());
    let user = client(&server)
        .extract::<User>()
        .user("Ada")
        .hooks(Hooks::new().stop_when(|event| match event {
            HookEvent::Usage { .. } => Some(Stop::new("one attempt is all we pay for")),
            _ => None,
        }))
        .await
        .expect("the answer in flight is judged first");
    assert_eq!(user.name, "Ada");
}
