//! `LlmValidator`: a model judges the answer against a statement, over real HTTP to the
//! fake provider. Its reason is re-asked at the path it validated; its calls are in the
//! ledger (marked as validation calls) and in the token total; it runs after the cheap
//! rules, beside other async validators, within the deadline and the budget; a fixed
//! value may replace the original; a failed check stops the extraction.

use instructor::client::{AttemptKind, RetryPolicy, StoppedBy};
use instructor::prelude::*;
use instructor::providers::openai::{OpenAi, OpenAiConfig};
use instructor::providers::testing::{FakeProvider, Reply, openai::ChatCompletion};
use instructor::validate::field;
use instructor::{Error, LlmValidator};
use serde::Serialize;
use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Extract)]
struct Advice {
    #[garde(length(min = 1))]
    text: String,
    #[garde(range(max = 5))]
    stars: u8,
}

fn client(server: &FakeProvider) -> Client {
    Client::new(OpenAi::new(OpenAiConfig::new(server.base_url())))
        .with_model("gpt-4o-mini")
        .with_retry_policy(RetryPolicy::none())
}

fn answer(text: &str) -> Reply {
    ChatCompletion::tool_call("Advice", format!(r#"{{"text": "{text}", "stars": 4}}"#)).reply()
}

fn verdict(json: &str) -> Reply {
    ChatCompletion::tool_call("Verdict", json)
        .usage(20, 3)
        .reply()
}

const ILLEGAL: &str = "must not encourage anything illegal";

fn kinds(ledger: &instructor::client::Ledger) -> Vec<&str> {
    ledger
        .attempts
        .iter()
        .map(|a| match &a.kind {
            AttemptKind::Answer => "answer",
            AttemptKind::Validation { .. } => "validation",
            _ => "other",
        })
        .collect()
}

#[tokio::test]
async fn the_reason_is_re_asked_at_the_field_and_every_call_is_in_the_ledger() {
    let server = FakeProvider::start().await;
    server.push(answer("Steal it."));
    server.push(verdict(
        r#"{"is_valid": false, "reason": "it encourages theft"}"#,
    ));
    server.push(answer("Ask the owner."));
    server.push(verdict(r#"{"is_valid": true}"#));
    let client = client(&server);
    let done = client
        .extract::<Advice>()
        .user("How do I get my neighbour's bike?")
        .validator(field(
            "text",
            |reply: &Advice| &reply.text,
            LlmValidator::new(ILLEGAL, &client).model("gpt-4o-nano"),
        ))
        .with_completion()
        .await
        .expect("fixed by the re-ask");
    assert_eq!(done.value.text, "Ask the owner.");
    assert_eq!(
        kinds(&done.ledger),
        ["answer", "validation", "answer", "validation"]
    );
    let check = &done.ledger.attempts[1];
    assert_eq!(check.number, 1, "the check of attempt 1");
    assert_eq!(
        check.kind,
        AttemptKind::Validation {
            validator: ILLEGAL.to_owned()
        }
    );
    // Every call's tokens: two answers (15 each) and two checks (23 each).
    assert_eq!(done.ledger.total_usage.total(), 2 * 15 + 2 * 23);

    let bodies: Vec<serde_json::Value> = server
        .requests()
        .iter()
        .map(|r| r.json().cloned().expect("JSON"))
        .collect();
    // The check asked the cheaper model about the field's value.
    assert_eq!(bodies[1]["model"], "gpt-4o-nano");
    let asked = bodies[1].to_string();
    assert!(
        asked.contains(ILLEGAL) && asked.contains("Steal it."),
        "{asked}"
    );
    // The re-ask names the field and the model's reason.
    let reask = bodies[2].to_string();
    assert!(
        reask.contains("text: does not satisfy") && reask.contains("it encourages theft"),
        "{reask}"
    );
}

#[tokio::test]
async fn it_runs_only_after_the_cheap_rules_pass() {
    let server = FakeProvider::start().await;
    server.push(ChatCompletion::tool_call("Advice", r#"{"text": "", "stars": 9}"#).reply());
    server.push(answer("Ask the owner."));
    server.push(verdict(r#"{"is_valid": true}"#));
    let client = client(&server);
    let done = client
        .extract::<Advice>()
        .user("x")
        .validator(LlmValidator::new(ILLEGAL, &client))
        .with_completion()
        .await
        .expect("valid on the re-ask");
    // No check of the first answer: its rules failed first.
    assert_eq!(kinds(&done.ledger), ["answer", "answer", "validation"]);
}

#[tokio::test]
async fn two_checks_run_together_and_both_reasons_are_re_asked() {
    let server = FakeProvider::start().await;
    server.push(answer("Steal it."));
    let no = r#"{"is_valid": false, "reason": "no"}"#;
    server.push(verdict(no).delay(Duration::from_millis(100)));
    server.push(verdict(no).delay(Duration::from_millis(100)));
    server.push(answer("Ask the owner."));
    server.push(verdict(r#"{"is_valid": true}"#));
    server.push(verdict(r#"{"is_valid": true}"#));
    let client = client(&server);
    let done = client
        .extract::<Advice>()
        .user("x")
        .validator(LlmValidator::new(ILLEGAL, &client))
        .validator(LlmValidator::new("must be polite", &client))
        .with_completion()
        .await
        .expect("valid on the re-ask");
    assert_eq!(
        kinds(&done.ledger),
        [
            "answer",
            "validation",
            "validation",
            "answer",
            "validation",
            "validation"
        ]
    );
    let reask = server.requests()[3]
        .json()
        .cloned()
        .expect("JSON")
        .to_string();
    assert!(
        reask.contains(ILLEGAL) && reask.contains("must be polite"),
        "both reasons: {reask}"
    );
}

#[tokio::test]
async fn an_allowed_fix_replaces_the_value_without_a_re_ask() {
    let server = FakeProvider::start().await;
    server.push(answer("Steal it."));
    server.push(verdict(
        r#"{"is_valid": false, "reason": "theft", "fixed_value": "Ask the owner."}"#,
    ));
    let client = client(&server);
    let done = client
        .extract::<Advice>()
        .user("x")
        .validator(field(
            "text",
            |reply: &Advice| &reply.text,
            LlmValidator::new(ILLEGAL, &client).allow_fix(),
        ))
        .with_completion()
        .await
        .expect("fixed");
    assert_eq!(
        done.value,
        Advice {
            text: "Ask the owner.".into(),
            stars: 4
        }
    );
    assert_eq!(server.requests().len(), 2, "no re-ask");
    let asked = server.requests()[1]
        .json()
        .cloned()
        .expect("JSON")
        .to_string();
    assert!(asked.contains("fixed_value"), "{asked}");

    // Without `allow_fix` the same verdict is re-asked.
    server.push(answer("Steal it."));
    server.push(verdict(
        r#"{"is_valid": false, "reason": "theft", "fixed_value": "Ask the owner."}"#,
    ));
    server.push(answer("Ask the owner."));
    server.push(verdict(r#"{"is_valid": true}"#));
    let done = client
        .extract::<Advice>()
        .user("x")
        .validator(field(
            "text",
            |reply: &Advice| &reply.text,
            LlmValidator::new(ILLEGAL, &client),
        ))
        .with_completion()
        .await
        .expect("re-asked");
    assert_eq!(kinds(&done.ledger).len(), 4);

    // A fix that breaks the type's rules is not taken: re-asked.
    server.push(answer("Steal it."));
    server.push(verdict(
        r#"{"is_valid": false, "reason": "theft", "fixed_value": ""}"#,
    ));
    server.push(answer("Ask the owner."));
    server.push(verdict(r#"{"is_valid": true}"#));
    let done = client
        .extract::<Advice>()
        .user("x")
        .validator(field(
            "text",
            |reply: &Advice| &reply.text,
            LlmValidator::new(ILLEGAL, &client).allow_fix(),
        ))
        .with_completion()
        .await
        .expect("re-asked");
    assert_eq!(done.value.text, "Ask the owner.");
}

#[tokio::test]
async fn the_deadline_and_the_budget_bound_the_checks() {
    let server = FakeProvider::start().await;
    server.push(answer("Steal it."));
    server.push(verdict(r#"{"is_valid": true}"#).delay(Duration::from_secs(5)));
    let client = client(&server);
    let error = client
        .extract::<Advice>()
        .user("x")
        .timeout(Duration::from_millis(400))
        .validator(LlmValidator::new(ILLEGAL, &client))
        .await
        .expect_err("the check passes the deadline");
    match &error {
        Error::Timeout { ledger, .. } => {
            assert!(
                ledger.attempts[0]
                    .error
                    .as_deref()
                    .is_some_and(|e| e.contains("validation")),
                "{ledger:?}"
            );
        }
        // The check's own timeout (the time left) may fire first: it then stops the
        // extraction, saying why.
        Error::Stopped { reason, .. } => {
            assert!(reason.message.contains("timed out"), "{reason:?}")
        }
        other => panic!("{other:?}"),
    }

    // The answer spends the whole budget: the check is not sent, and says why.
    let server = FakeProvider::start().await;
    server.push(answer("Steal it."));
    let client = self::client(&server);
    let error = client
        .extract::<Advice>()
        .user("x")
        .max_total_tokens(15)
        .validator(LlmValidator::new(ILLEGAL, &client))
        .await
        .expect_err("no budget for the check");
    match &error {
        Error::Stopped { reason, .. } => {
            assert!(matches!(reason.by, StoppedBy::Validator { .. }));
            assert!(reason.message.contains("budget"), "{reason:?}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn a_check_that_cannot_be_made_stops_the_extraction() {
    let server = FakeProvider::start().await;
    server.push(answer("Steal it."));
    server.push(Reply::status(500));
    let client = client(&server);
    let error = client
        .extract::<Advice>()
        .user("x")
        .max_retries(3)
        .validator(LlmValidator::new(ILLEGAL, &client))
        .await
        .expect_err("stopped");
    match &error {
        Error::Stopped { reason, ledger, .. } => {
            assert!(reason.message.contains("could not check"), "{reason:?}");
            assert!(reason.message.contains("500"), "{reason:?}");
            assert_eq!(kinds(ledger), ["answer", "validation"]);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(server.requests().len(), 2, "not re-asked");
}
