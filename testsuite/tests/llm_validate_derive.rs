//! `#[extract(llm_validate = "...")]` in the derive, over real HTTP to the fake
//! provider: once the type's rules pass, the extraction's own model (or the one the
//! attribute names) judges each marked value; a failed check is re-asked at the value's
//! path, nested values and list items included; every check is in the ledger as a
//! validation call; `allow_fix` takes the model's correction; validating a value by hand
//! (no model to ask) skips the checks.

use futures_util::StreamExt;
use instructor::client::{AttemptKind, PartialUpdate, RetryPolicy};
use instructor::prelude::*;
use instructor::providers::openai::{OpenAi, OpenAiConfig};
use instructor::providers::testing::{
    FakeProvider, RecordedRequest, Reply, openai::ChatCompletion,
};
use instructor::{Context, Error, Mode};
use serde::Serialize;

const POLITE: &str = "must be polite";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Extract)]
struct Reply_ {
    #[garde(length(min = 1))]
    #[extract(llm_validate = "must be polite")]
    text: String,
    stars: u8,
}

/// Judged whole, by another model, with fixes allowed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Extract)]
#[extract(llm_validate(
    statement = "the title must match the body",
    model = "judge-mini",
    allow_fix
))]
struct Post {
    title: String,
    body: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Extract)]
struct Item {
    #[extract(llm_validate = "must be a real product name")]
    name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Extract)]
struct Order {
    customer: String,
    items: Vec<Item>,
}

fn client(server: &FakeProvider) -> Client {
    Client::new(OpenAi::new(OpenAiConfig::new(server.base_url())))
        .with_model("gpt-4o-mini")
        .with_retry_policy(RetryPolicy::none())
}

fn verdict(json: &str) -> Reply {
    ChatCompletion::tool_call("Verdict", json)
        .usage(20, 3)
        .reply()
}

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

/// The tool a request offered (`Reply_`, `Verdict`...).
fn tool(request: &RecordedRequest) -> String {
    request
        .json()
        .and_then(|body| body["tools"][0]["function"]["name"].as_str())
        .unwrap_or_default()
        .to_owned()
}

fn user_text(request: &RecordedRequest) -> String {
    request
        .json()
        .map(|body| {
            body["messages"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|m| m["role"] == "user")
                .map(|m| m["content"].to_string())
                .collect::<Vec<_>>()
                .join("\n")
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn a_failed_check_is_re_asked_at_the_field_and_judged_by_the_extractions_model() {
    let server = FakeProvider::start().await;
    server.push(ChatCompletion::tool_call("Reply_", r#"{"text": "Go away.", "stars": 1}"#).reply());
    server.push(verdict(r#"{"is_valid": false, "reason": "it is rude"}"#));
    server.push(
        ChatCompletion::tool_call("Reply_", r#"{"text": "Happy to help!", "stars": 5}"#).reply(),
    );
    server.push(verdict(r#"{"is_valid": true}"#));
    let done = client(&server)
        .extract::<Reply_>()
        .user("Answer the customer.")
        .max_retries(2)
        .with_completion()
        .await
        .expect("fixed by the re-ask");
    assert_eq!(done.value.text, "Happy to help!");
    assert_eq!(
        kinds(&done.ledger),
        ["answer", "validation", "answer", "validation"]
    );
    match &done.ledger.attempts[1].kind {
        AttemptKind::Validation { validator } => assert_eq!(validator, POLITE),
        other => panic!("not a validation call: {other:?}"),
    }
    // Every check and answer counts toward the total.
    assert!(done.ledger.total_usage.input_tokens >= 40);

    let requests = server.requests();
    assert_eq!(requests.len(), 4);
    // The judge saw the field alone, with the statement, on the extraction's model.
    let check = &requests[1];
    assert_eq!(tool(check), "Verdict");
    assert_eq!(check.json().expect("json")["model"], "gpt-4o-mini");
    let shown = user_text(check);
    assert!(
        shown.contains(POLITE) && shown.contains("Go away."),
        "{shown}"
    );
    assert!(
        !shown.contains("stars"),
        "only the field is judged: {shown}"
    );
    // The re-ask names the field and the model's reason.
    let reask = requests[2].json().expect("json").to_string();
    assert!(
        reask.contains("text") && reask.contains("it is rude"),
        "{reask}"
    );
    assert_eq!(tool(&requests[2]), "Reply_");
}

#[tokio::test]
async fn the_rules_come_first_and_no_model_is_asked_for_an_answer_they_reject() {
    let server = FakeProvider::start().await;
    server.push(ChatCompletion::tool_call("Reply_", r#"{"text": "", "stars": 1}"#).reply());
    server.push(ChatCompletion::tool_call("Reply_", r#"{"text": "Thanks!", "stars": 5}"#).reply());
    server.push(verdict(r#"{"is_valid": true}"#));
    let done = client(&server)
        .extract::<Reply_>()
        .user("Answer the customer.")
        .with_completion()
        .await
        .expect("valid on the second answer");
    assert_eq!(kinds(&done.ledger), ["answer", "answer", "validation"]);
    assert_eq!(server.remaining(), 0);
}

#[tokio::test]
async fn a_type_level_check_uses_its_own_model_and_may_fix_the_value() {
    let server = FakeProvider::start().await;
    server.push(
        ChatCompletion::tool_call("Post", r#"{"title": "Cats", "body": "All about dogs."}"#)
            .reply(),
    );
    server.push(verdict(
        r#"{"is_valid": false, "reason": "the body is about dogs",
            "fixed_value": {"title": "Dogs", "body": "All about dogs."}}"#,
    ));
    let done = client(&server)
        .extract::<Post>()
        .user("Write a post.")
        .with_completion()
        .await
        .expect("fixed by the judge");
    assert_eq!(done.value.title, "Dogs");
    assert_eq!(kinds(&done.ledger), ["answer", "validation"]);
    let requests = server.requests();
    assert_eq!(requests[1].json().expect("json")["model"], "judge-mini");
    // Asked for a correction, as allowed.
    assert!(
        requests[1]
            .json()
            .expect("json")
            .to_string()
            .contains("fixed_value`: the value corrected")
    );
}

#[tokio::test]
async fn list_items_are_judged_at_once_and_the_re_ask_names_the_item() {
    let server = FakeProvider::start().await;
    // The judge answers by what it is shown (the two checks run at the same time, so
    // their order on the wire is not fixed).
    server.set_guard(|request| {
        (tool(request) == "Verdict").then(|| {
            if user_text(request).contains("Flux capacitor") {
                verdict(r#"{"is_valid": false, "reason": "it is fictional"}"#)
            } else {
                verdict(r#"{"is_valid": true}"#)
            }
        })
    });
    server.push(
        ChatCompletion::tool_call(
            "Order",
            r#"{"customer": "Ada", "items": [{"name": "Kettle"}, {"name": "Flux capacitor"}]}"#,
        )
        .reply(),
    );
    server.push(
        ChatCompletion::tool_call(
            "Order",
            r#"{"customer": "Ada", "items": [{"name": "Kettle"}, {"name": "Toaster"}]}"#,
        )
        .reply(),
    );
    let done = client(&server)
        .extract::<Order>()
        .user("Ada ordered a kettle and a toaster.")
        .with_completion()
        .await
        .expect("fixed by the re-ask");
    assert_eq!(done.value.items[1].name, "Toaster");
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
    let reask = server
        .requests()
        .into_iter()
        .filter(|r| tool(r) == "Order")
        .nth(1)
        .and_then(|r| r.json().cloned())
        .expect("a re-ask")
        .to_string();
    assert!(
        reask.contains("items[1].name") && reask.contains("it is fictional"),
        "{reask}"
    );
    assert!(!reask.contains("items[0].name"), "{reask}");
}

#[tokio::test]
async fn still_invalid_after_the_last_attempt_is_a_validation_error_at_the_path() {
    let server = FakeProvider::start().await;
    server.push(ChatCompletion::tool_call("Reply_", r#"{"text": "Go away.", "stars": 1}"#).reply());
    server.push(verdict(r#"{"is_valid": false, "reason": "it is rude"}"#));
    let error = client(&server)
        .extract::<Reply_>()
        .user("Answer the customer.")
        .max_retries(0)
        .await
        .expect_err("rude");
    match error {
        Error::Validation { errors, ledger, .. } => {
            assert_eq!(errors.errors()[0].path.to_string(), "text");
            assert!(errors.to_string().contains("it is rude"), "{errors}");
            assert_eq!(kinds(&ledger), ["answer", "validation"]);
        }
        other => panic!("not a validation error: {other:?}"),
    }
}

#[tokio::test]
async fn partial_streaming_ends_with_the_same_check() {
    let server = FakeProvider::start().await;
    server.push(
        ChatCompletion::tool_call("Reply_", r#"{"text": "Go away.", "stars": 1}"#).sse_reply(),
    );
    server.push(verdict(r#"{"is_valid": false, "reason": "it is rude"}"#));
    server.push(
        ChatCompletion::tool_call("Reply_", r#"{"text": "Welcome!", "stars": 5}"#).sse_reply(),
    );
    server.push(verdict(r#"{"is_valid": true}"#));
    let mut updates = client(&server)
        .extract::<Reply_>()
        .user("Answer the customer.")
        .partial();
    let mut last = None;
    while let Some(update) = updates.next().await {
        if let PartialUpdate::Done(completion) = update.expect("no error") {
            last = Some(completion.value);
        }
    }
    assert_eq!(last.map(|v| v.text), Some("Welcome!".to_owned()));
    assert_eq!(server.remaining(), 0);
}

#[test]
fn validating_by_hand_makes_no_check() {
    // No extraction, no model to ask: only the rules run.
    let reply = Reply_ {
        text: "Go away.".into(),
        stars: 1,
    };
    assert!(reply.validate(&Context::new()).is_ok());
}

#[tokio::test]
async fn iter_items_are_judged_as_they_come_and_their_checks_are_in_the_ledger() {
    let server = FakeProvider::start().await;
    server.set_guard(|request| {
        (tool(request) == "Verdict").then(|| {
            if user_text(request).contains("Flux capacitor") {
                verdict(r#"{"is_valid": false, "reason": "it is fictional"}"#)
            } else {
                verdict(r#"{"is_valid": true}"#)
            }
        })
    });
    // The answer is cut short after its two items: the error that ends the stream
    // carries the ledger.
    server.push(
        ChatCompletion::tool_call_fragments(
            "Item_list",
            [
                r#"{"items": [{"name": "Ket"#,
                r#"tle"}, {"name": "Flux capacitor"}"#,
                r#"]}"#,
            ],
        )
        .finish_reason("length")
        .sse_reply(),
    );
    let mut items = client(&server)
        .extract::<Item>()
        .user("Kettle, flux capacitor.")
        .max_retries(0)
        .iter();
    let mut seen = Vec::new();
    while let Some(item) = items.next().await {
        seen.push(item);
    }
    assert_eq!(seen.len(), 3, "{seen:?}");
    assert_eq!(seen[0].as_ref().expect("a real product").name, "Kettle");
    match &seen[1] {
        Err(Error::Item { index, message }) => {
            assert_eq!(*index, 1);
            assert!(message.contains("it is fictional"), "{message}");
        }
        other => panic!("not an item error: {other:?}"),
    }
    let ledger = seen[2]
        .as_ref()
        .expect_err("cut short")
        .ledger()
        .expect("a ledger");
    assert_eq!(kinds(ledger), ["answer", "validation", "validation"]);
    assert!(ledger.total_usage.input_tokens >= 40);
}

#[tokio::test]
async fn a_fix_applies_to_an_answer_that_needed_lenient_repairs() {
    let server = FakeProvider::start().await;
    // Prose around a fenced block with a trailing comma: read leniently, and fixed in
    // place rather than re-asked.
    server.push(
        ChatCompletion::content(
            "Sure! Here it is:\n```json\n{\"title\": \"Cats\", \"body\": \"All about dogs.\",}\n```\nAnything else?",
        )
        .reply(),
    );
    // The judge is asked in the extraction's mode too (no tools).
    server.push(
        ChatCompletion::content(
            r#"{"is_valid": false, "reason": "the body is about dogs",
                "fixed_value": {"title": "Dogs", "body": "All about dogs."}}"#,
        )
        .reply(),
    );
    let done = client(&server)
        .with_mode(Mode::MdJson)
        .extract::<Post>()
        .user("Write a post.")
        .with_completion()
        .await
        .expect("fixed by the judge");
    assert_eq!(done.value.title, "Dogs");
    assert_eq!(kinds(&done.ledger), ["answer", "validation"]);
}
