//! Provider batch engines through the facade: items built by the extraction builder,
//! submitted, polled, and read back as typed values validated exactly as a single
//! extraction (the type's rules, async validators, the context); failures reported
//! with their ids; invalid answers collected and re-asked as a second batch (the same
//! messages a live re-ask sends) or live.

use instructor::client::{Batch, BatchError, BatchItem, BatchState};
use instructor::prelude::Deserialize;
use instructor::providers::anthropic::{Anthropic, AnthropicBatch, AnthropicConfig};
use instructor::providers::openai::{OpenAi, OpenAiBatch, OpenAiConfig};
use instructor::providers::testing::batch::OUTCOME_HEADER;
use instructor::providers::testing::{FakeProvider, Reply, anthropic, openai::ChatCompletion};
use instructor::validate::{AsyncValidator, ValidationFuture};
use instructor::{Client, Context, Error, Extract};
use serde_json::{Value, json};
use std::time::Duration;

const KEY: &str = "sk-batch-facade-secret-0123456789";
const POLL: Duration = Duration::from_millis(1);

#[derive(Debug, Clone, PartialEq, Deserialize, Extract)]
struct User {
    name: String,
    #[garde(range(min = 18, max = 120))]
    age: u8,
}

/// An async validator that reads the context: the name in `blocked` is refused.
struct NotBlocked;

impl AsyncValidator<User> for NotBlocked {
    fn validate<'a>(&'a self, user: &'a User, context: &'a Context) -> ValidationFuture<'a> {
        Box::pin(async move {
            match context.var("blocked").and_then(Value::as_str) {
                Some(blocked) if blocked == user.name => {
                    Err(format!("{} is not a person to extract", user.name).into())
                }
                _ => Ok(()),
            }
        })
    }
}

fn openai_setup(server: &FakeProvider) -> (Client, Batch) {
    let config = OpenAiConfig::new(server.base_url()).with_api_key(KEY);
    let client = Client::new(OpenAi::new(config.clone())).with_model("gpt-4o-mini");
    (client, Batch::new(OpenAiBatch::new(config)))
}

fn user(client: &Client, text: &str, id: &str) -> BatchItem<User> {
    client
        .extract::<User>()
        .system("Extract the user.")
        .user(text)
        .context(json!({"blocked": "Mallory"}))
        .validator(NotBlocked)
        .into_batch_item(id)
        .expect("an item")
}

fn tool(arguments: &str) -> Reply {
    ChatCompletion::tool_call("User", arguments).reply()
}

/// The JSONL lines of the `n`th upload, by custom id.
fn uploaded(server: &FakeProvider, n: usize) -> Vec<Value> {
    let upload = &server.requests_for("/v1/files")[n];
    let body = String::from_utf8_lossy(upload.body()).into_owned();
    body.lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect()
}

#[tokio::test]
async fn typed_results_failures_by_id_and_a_reask_batch() {
    let server = FakeProvider::start().await;
    let (client, batch) = openai_setup(&server);
    server.push(tool(r#"{"name": "Ann", "age": 30}"#));
    server.push(tool(r#"{"name": "Bo", "age": 7}"#)); // the type's rule
    server.push(tool(r#"{"name": "Mallory", "age": 40}"#)); // the async validator
    server.push(Reply::json(500, json!({"error": {"message": "boom"}})));
    server.push(ChatCompletion::content("I cannot call tools today.").reply()); // prose
    let items = vec![
        user(&client, "Ann is 30", "ann"),
        user(&client, "Bo is 7", "bo"),
        user(&client, "Mallory is 40", "mal"),
        user(&client, "Cy is 52", "cy"),
        user(&client, "Dan is 61", "dan"),
    ];
    let job = batch.submit(items).await.expect("submitted");
    assert_eq!(
        job.ids().collect::<Vec<_>>(),
        ["ann", "bo", "mal", "cy", "dan"]
    );
    let done = job.wait(POLL).await.expect("waited");
    assert_eq!(done.state, BatchState::Ended);
    let mut results = job.results().await.expect("results");

    assert_eq!(results.succeeded.len(), 1);
    let (id, ann) = &results.succeeded[0];
    assert_eq!(
        (id.as_str(), &ann.value),
        (
            "ann",
            &User {
                name: "Ann".into(),
                age: 30
            }
        )
    );
    assert_eq!(ann.ledger.attempts.len(), 1);

    let failed: Vec<(&str, String)> = results
        .failed
        .iter()
        .map(|f| (f.id.as_str(), f.error.to_string()))
        .collect();
    assert_eq!(failed.len(), 4, "{failed:#?}");
    assert_eq!(failed[0].0, "bo");
    assert!(failed[0].1.contains("age"), "{}", failed[0].1);
    assert_eq!(failed[1].0, "mal");
    assert!(
        failed[1].1.contains("Mallory is not a person"),
        "{}",
        failed[1].1
    );
    assert_eq!(failed[2].0, "cy");
    assert!(matches!(results.failed[2].error, BatchError::Provider(_)));
    assert!(failed[2].1.contains("500"), "{}", failed[2].1);
    assert_eq!(failed[3].0, "dan");
    assert!(failed[3].1.contains("prose"), "{}", failed[3].1);
    for text in failed.iter().map(|(_, e)| e) {
        assert!(!text.contains(KEY));
    }

    // The re-ask of `bo` carries the failed call and the errors, as live.
    let retries = results.take_retries();
    assert_eq!(
        retries.iter().map(BatchItem::id).collect::<Vec<_>>(),
        ["bo", "mal", "cy", "dan"]
    );
    let bo = &retries[0];
    assert_eq!(
        bo.request().messages.len(),
        4,
        "system, user, the failed call, the errors"
    );

    server.push(tool(r#"{"name": "Bo", "age": 19}"#));
    server.push(tool(r#"{"name": "Mal", "age": 40}"#));
    server.push(tool(r#"{"name": "Cy", "age": 52}"#));
    server.push(tool(r#"{"name": "Dan", "age": 61}"#));
    let second = batch.submit(retries).await.expect("the re-ask batch");
    second.wait(POLL).await.expect("waited");
    let results = second.results().await.expect("results");
    assert!(results.failed.is_empty(), "{:?}", results.failed);
    let values: Vec<(&str, u8)> = results
        .succeeded
        .iter()
        .map(|(id, done)| (id.as_str(), done.value.age))
        .collect();
    assert_eq!(values, [("bo", 19), ("mal", 40), ("cy", 52), ("dan", 61)]);
    // Bo's ledger holds both attempts: the invalid one of the first batch, then this.
    let bo = &results.succeeded[0].1;
    assert_eq!(bo.ledger.attempts.len(), 2);
    assert!(
        bo.ledger.attempts[0]
            .error
            .as_deref()
            .unwrap_or("")
            .contains("age")
    );

    // On the wire, the re-ask line is what a live re-ask sends.
    let lines = uploaded(&server, 1);
    let reask_line = &lines[0];
    assert_eq!(reask_line["custom_id"], "bo");
    let live = FakeProvider::start().await;
    let live_client = Client::new(OpenAi::new(
        OpenAiConfig::new(live.base_url()).with_api_key(KEY),
    ))
    .with_model("gpt-4o-mini");
    live.push(tool(r#"{"name": "Bo", "age": 7}"#));
    live.push(tool(r#"{"name": "Bo", "age": 19}"#));
    let value = live_client
        .extract::<User>()
        .system("Extract the user.")
        .user("Bo is 7")
        .context(json!({"blocked": "Mallory"}))
        .validator(NotBlocked)
        .await
        .expect("live");
    assert_eq!(value.age, 19);
    let live_reask = live.requests()[1].json().cloned().expect("JSON");
    assert_eq!(reask_line["body"]["messages"], live_reask["messages"]);
}

#[tokio::test]
async fn the_last_attempt_failing_is_the_extractions_error_and_not_retried() {
    let server = FakeProvider::start().await;
    let (client, batch) = openai_setup(&server);
    server.push(tool(r#"{"name": "Bo", "age": 7}"#));
    let item = client
        .extract::<User>()
        .user("Bo is 7")
        .max_retries(0)
        .into_batch_item("bo")
        .expect("as scripted");
    let job = batch.submit([item]).await.expect("as scripted");
    job.wait(POLL).await.expect("as scripted");
    let results = job.results().await.expect("as scripted");
    let failure = &results.failed[0];
    assert!(failure.retry.is_none());
    match &failure.error {
        BatchError::Extraction(error) => match &**error {
            Error::Validation {
                errors, raw_output, ..
            } => {
                assert_eq!(errors.errors()[0].path_string(), "age");
                assert_eq!(raw_output.as_deref(), Some(r#"{"name": "Bo", "age": 7}"#));
            }
            other => panic!("{other:?}"),
        },
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_failed_item_can_be_finished_live() {
    let server = FakeProvider::start().await;
    let (client, batch) = openai_setup(&server);
    server.push(tool(r#"{"name": "Bo", "age": 7}"#));
    let job = batch
        .submit([user(&client, "Bo is 7", "bo")])
        .await
        .expect("as scripted");
    job.wait(POLL).await.expect("as scripted");
    let mut results = job.results().await.expect("as scripted");
    let item = results.take_retries().pop().expect("a re-ask");
    // Live, the re-ask goes to the chat endpoint.
    server.push(tool(r#"{"name": "Bo", "age": 19}"#));
    let done = item.live().await.expect("live");
    assert_eq!(done.value.age, 19);
    assert_eq!(done.ledger.attempts.len(), 2);
    let live = server.requests_for("/v1/chat/completions");
    assert_eq!(live.len(), 1);
    let messages = live[0].json().expect("as scripted")["messages"]
        .as_array()
        .expect("as scripted")
        .clone();
    assert_eq!(messages.last().expect("as scripted")["role"], "tool");
}

#[tokio::test]
async fn canceled_and_expired_lines_are_reported_by_id_and_can_be_sent_again() {
    let server = FakeProvider::start().await;
    let (client, batch) = openai_setup(&server);
    server.push(tool(r#"{"name": "Ann", "age": 30}"#));
    server.push(Reply::status(200).header(OUTCOME_HEADER, "expired"));
    let job = batch
        .submit([
            user(&client, "Ann is 30", "ann"),
            user(&client, "Bo is 41", "bo"),
        ])
        .await
        .expect("as scripted");
    job.wait(POLL).await.expect("as scripted");
    let mut results = job.results().await.expect("as scripted");
    assert_eq!(results.succeeded[0].0, "ann");
    assert_eq!(results.failed[0].id, "bo");
    assert!(matches!(results.failed[0].error, BatchError::Expired));
    assert_eq!(results.take_retries().len(), 1);

    let job = batch
        .submit([user(&client, "Cy is 52", "cy")])
        .await
        .expect("as scripted");
    assert_eq!(
        job.cancel().await.expect("as scripted").state,
        BatchState::Canceling
    );
    assert_eq!(
        job.wait(POLL).await.expect("as scripted").state,
        BatchState::Canceled
    );
    let mut results = job.results().await.expect("as scripted");
    assert!(matches!(results.failed[0].error, BatchError::Canceled));
    let again = results.take_retries();
    // Nothing was answered: the item has not used an attempt.
    assert_eq!(again[0].request().messages.len(), 2);
}

#[tokio::test]
async fn anthropic_batches_give_typed_values_and_reask_with_tool_results() {
    let server = FakeProvider::start().await;
    let config = AnthropicConfig::new(server.origin()).with_api_key(KEY);
    let client = Client::new(Anthropic::new(config.clone())).with_model("claude-sonnet-4-5");
    let batch = Batch::new(AnthropicBatch::new(config));
    server.push(anthropic::Message::tool_use("User", r#"{"name": "Ann", "age": 30}"#).reply());
    server.push(anthropic::Message::tool_use("User", r#"{"name": "Bo", "age": 7}"#).reply());
    let job = batch
        .submit([
            user(&client, "Ann is 30", "ann"),
            user(&client, "Bo is 7", "bo"),
        ])
        .await
        .expect("as scripted");
    job.wait(POLL).await.expect("as scripted");
    let mut results = job.results().await.expect("as scripted");
    assert_eq!(
        results.succeeded[0].1.value,
        User {
            name: "Ann".into(),
            age: 30
        }
    );
    assert_eq!(results.failed[0].id, "bo");
    let retries = results.take_retries();
    server.push(anthropic::Message::tool_use("User", r#"{"name": "Bo", "age": 19}"#).reply());
    let job = batch.submit(retries).await.expect("as scripted");
    job.wait(POLL).await.expect("as scripted");
    let results = job.results().await.expect("as scripted");
    assert_eq!(results.succeeded[0].1.value.age, 19);
    let create = &server.requests_for("/v1/messages/batches")[1];
    let params = &create.json().expect("as scripted")["requests"][0]["params"];
    let last = params["messages"]
        .as_array()
        .expect("as scripted")
        .last()
        .expect("as scripted")
        .clone();
    assert_eq!(last["role"], "user");
    assert_eq!(last["content"][0]["type"], "tool_result");
    assert_eq!(last["content"][0]["is_error"], true);
}

#[tokio::test]
async fn bad_batches_are_refused_before_anything_is_sent() {
    let server = FakeProvider::start().await;
    let (client, batch) = openai_setup(&server);
    let bad_id = client
        .extract::<User>()
        .user("x")
        .into_batch_item("no spaces allowed");
    assert!(matches!(bad_id, Err(Error::InvalidRequest { .. })));
    let twice = batch
        .submit([user(&client, "a", "same"), user(&client, "b", "same")])
        .await
        .expect_err("refused as scripted");
    assert!(twice.to_string().contains("used twice"), "{twice}");
    let empty = batch
        .submit(Vec::<BatchItem<User>>::new())
        .await
        .expect_err("refused as scripted");
    assert!(matches!(empty, Error::InvalidRequest { .. }));
    let claude = Client::new(Anthropic::new(AnthropicConfig::new(server.origin())))
        .with_model("claude-sonnet-4-5");
    let elsewhere = batch
        .submit([user(&claude, "a", "a")])
        .await
        .expect_err("refused as scripted");
    assert!(
        elsewhere
            .to_string()
            .contains("built for the provider `anthropic`"),
        "{elsewhere}"
    );
    assert!(server.requests().is_empty());
    assert!(!format!("{batch:?}").contains(KEY));
}

#[tokio::test]
async fn gemini_batches_give_typed_values_and_collect_invalid_answers() {
    use instructor::providers::gemini::{Gemini, GeminiBatch, GeminiConfig};
    use instructor::providers::testing::gemini::GenerateContent;
    let server = FakeProvider::start().await;
    let config = GeminiConfig::new(server.origin()).with_api_key(KEY);
    let client = Client::new(Gemini::new(config.clone())).with_model("gemini-2.5-flash");
    let batch = Batch::new(GeminiBatch::new(config));
    server.push(GenerateContent::function_call("User", r#"{"name": "Ann", "age": 30}"#).reply());
    server
        .push(GenerateContent::function_call("User", r#"{"name": "Mallory", "age": 44}"#).reply());
    let job = batch
        .submit([
            user(&client, "Ann is 30", "ann"),
            user(&client, "Mallory is 44", "mal"),
        ])
        .await
        .expect("as scripted");
    assert_eq!(
        job.wait(POLL).await.expect("as scripted").state,
        BatchState::Ended
    );
    let mut results = job.results().await.expect("as scripted");
    assert_eq!(results.succeeded[0].0, "ann");
    assert_eq!(
        results.succeeded[0].1.value,
        User {
            name: "Ann".into(),
            age: 30
        }
    );
    assert_eq!(results.failed[0].id, "mal");
    assert!(
        results.failed[0]
            .error
            .to_string()
            .contains("Mallory is not a person")
    );
    let retry = results.take_retries().pop().expect("a re-ask");
    // Gemini's re-ask answers the failed call by name with the errors.
    let last = retry.request().messages.last().expect("a message");
    assert!(format!("{last:?}").contains("Mallory is not a person"));
}

#[allow(dead_code)] // Its `main` is not run here.
#[path = "../../examples/batch.rs"]
mod batch_example;

#[tokio::test]
async fn the_batch_example_runs_offline() {
    let server = FakeProvider::start().await;
    for answer in batch_example::offline_answers() {
        server.push(answer);
    }
    let config = OpenAiConfig::new(server.base_url());
    let client = Client::new(OpenAi::new(config.clone())).with_model("gpt-4o-mini");
    let batch = Batch::new(OpenAiBatch::new(config));
    let tickets = batch_example::run(&client, &batch, POLL)
        .await
        .expect("the example runs");
    let priorities: Vec<(&str, u8)> = tickets
        .iter()
        .map(|(id, ticket)| (id.as_str(), ticket.priority))
        .collect();
    assert_eq!(priorities, [("mail-1", 2), ("mail-2", 5), ("mail-3", 1)]);
    // Two batches: all three emails, then the one re-asked.
    assert_eq!(server.requests_for("/v1/batches").len(), 2);
    assert_eq!(server.remaining(), 0);
}
