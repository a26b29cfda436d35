//! Extraction on AWS Bedrock's Converse API, natively, over real HTTP to the fake
//! provider speaking Converse (JSON) and ConverseStream (binary event-stream frames),
//! every request's SigV4 signature checked by the fake: the same extraction as on
//! OpenAI with only the client changed; `.partial()` and `.iter()`; a re-ask answering
//! the failed `toolUse` with an error `toolResult`; Llama asked for the tool rather than
//! forced; truncation, guardrail refusals and throttling retried; prompted JSON read
//! leniently; plain text whole and streamed.

use futures_util::StreamExt;
use instructor::Error;
use instructor::client::{PartialUpdate, RetryPolicy};
use instructor::prelude::*;
use instructor::providers::bedrock::{AwsCredentials, Bedrock, BedrockConfig};
use instructor::providers::openai::{OpenAi, OpenAiConfig};
use instructor::providers::testing::{
    FakeProvider,
    bedrock::{self, Converse},
    openai::ChatCompletion,
};
use serde_json::{Value, json};
use std::time::Duration;

/// A user named in the text.
#[derive(Debug, Clone, PartialEq, Deserialize, Extract)]
struct User {
    name: String,
    age: u8,
}

const CLAUDE: &str = "anthropic.claude-3-5-sonnet-20240620-v1:0";
const LLAMA: &str = "meta.llama3-1-70b-instruct-v1:0";
const MISTRAL: &str = "mistral.mistral-large-2407-v1:0";
const REGION: &str = "us-west-2";
const SECRET: &str = "bedrock-test-secret-key-0123456789";

fn credentials() -> AwsCredentials {
    AwsCredentials::new("AKIDTESTSUITE", SECRET)
}

/// A Bedrock client on `server`, which checks every signature.
fn bedrock_client(server: &FakeProvider, model: &str) -> Client {
    bedrock::require_signature(server, &credentials(), REGION);
    let config = BedrockConfig::new(REGION, credentials()).with_base_url(server.origin());
    Client::new(Bedrock::new(config))
        .with_model(model)
        .with_retry_policy(RetryPolicy {
            initial_delay: Duration::from_millis(5),
            ..RetryPolicy::default()
        })
}

fn bodies(server: &FakeProvider) -> Vec<Value> {
    server
        .requests()
        .iter()
        .filter(|request| request.path().starts_with("/model/"))
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
async fn the_same_extraction_runs_on_openai_and_bedrock() {
    let server = FakeProvider::start().await;
    server.push_for(
        "/v1/chat/completions",
        ChatCompletion::tool_call("User", r#"{"name": "Ada", "age": 36}"#).reply(),
    );
    server.push_for(
        &bedrock::converse_path(CLAUDE),
        Converse::tool_use("User", r#"{"name": "Ada", "age": 36}"#).reply(),
    );
    let openai =
        Client::new(OpenAi::new(OpenAiConfig::new(server.base_url()))).with_model("gpt-4o");
    let from_openai = extract_ada(&openai).await.expect("openai");
    let completion = bedrock_client(&server, CLAUDE)
        .extract::<User>()
        .system("Extract the user.")
        .user("Ada is 36.")
        .with_completion()
        .await
        .expect("bedrock");
    assert_eq!(from_openai, completion.value);
    assert_eq!(completion.ledger.attempts.len(), 1);

    let body = &bodies(&server)[0];
    assert_eq!(body["system"][0]["text"], "Extract the user.");
    assert_eq!(
        body["messages"],
        json!([{"role": "user", "content": [{"text": "Ada is 36."}]}])
    );
    assert_eq!(
        body["toolConfig"]["toolChoice"],
        json!({"tool": {"name": "User"}})
    );
    assert_eq!(
        body["toolConfig"]["tools"][0]["toolSpec"]["inputSchema"]["json"]["required"],
        json!(["name", "age"])
    );
}

#[tokio::test]
async fn partial_updates_and_items_stream_from_event_stream_frames() {
    let server = FakeProvider::start().await;
    server.push(
        Converse::tool_use_fragments(
            "User",
            [r#"{"name": "Gr"#, r#"ace", "#, r#""age": 8"#, "5}"],
        )
        .stream_reply()
        .cut_at(&[7, 60, 61, 200]),
    );
    server.push(
        Converse::tool_use_fragments(
            "User_list",
            [
                r#"{"value": [{"name": "Ada", "age": 36}, "#,
                r#"{"name": "Grace", "age": 85}]}"#,
            ],
        )
        .stream_reply(),
    );
    let client = bedrock_client(&server, CLAUDE);
    let mut updates = client.extract::<User>().user("Grace is 85.").partial();
    let mut names = Vec::new();
    let mut done = None;
    while let Some(update) = updates.next().await {
        match update.expect("an update") {
            PartialUpdate::Partial(partial) => {
                if let Some(name) = &partial.name {
                    names.push(name.clone());
                }
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
    let paths: Vec<String> = server
        .requests()
        .iter()
        .map(|request| request.path().to_owned())
        .collect();
    assert!(
        paths
            .iter()
            .all(|path| path == &bedrock::converse_stream_path(CLAUDE)),
        "{paths:?}"
    );
}

#[tokio::test]
async fn a_re_ask_answers_the_failed_tool_use_with_an_error_result() {
    let server = FakeProvider::start().await;
    server.push(Converse::tool_use("User", r#"{"name": "Ada", "age": "old"}"#).reply());
    server.push(Converse::tool_use("User", r#"{"name": "Ada", "age": 36}"#).reply());
    let completion = bedrock_client(&server, CLAUDE)
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
    let tool_use = &messages[1]["content"][0]["toolUse"];
    assert_eq!(tool_use["input"], json!({"name": "Ada", "age": "old"}));
    let result = &messages[2]["content"][0]["toolResult"];
    assert_eq!(result["toolUseId"], tool_use["toolUseId"]);
    assert_eq!(result["status"], "error");
    assert!(
        result["content"][0]["text"]
            .as_str()
            .is_some_and(|text| text.contains("age")),
        "{result:#}"
    );
}

#[tokio::test]
async fn llama_is_asked_for_the_tool_and_answers_with_it() {
    let server = FakeProvider::start().await;
    server.push(Converse::tool_use("User", r#"{"name": "Ada", "age": 36}"#).stream_reply());
    let mut updates = bedrock_client(&server, LLAMA)
        .extract::<User>()
        .user("Ada is 36.")
        .partial();
    let mut done = None;
    while let Some(update) = updates.next().await {
        if let PartialUpdate::Done(completion) = update.expect("an update") {
            done = Some(completion.value);
        }
    }
    assert_eq!(done.map(|user| user.age), Some(36));
    let body = &bodies(&server)[0];
    assert_eq!(body["toolConfig"]["toolChoice"], json!({"auto": {}}));
    let system = body["system"].to_string();
    assert!(system.contains("`User` tool"), "{system}");
}

#[tokio::test]
async fn truncation_refusal_and_throttling() {
    let server = FakeProvider::start().await;
    let cut = Converse::tool_use("User", r#"{"name": "Ad"#).stop_reason("max_tokens");
    server.push(cut.reply());
    server.push(cut.stream_reply());
    let client = bedrock_client(&server, CLAUDE);
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

    server.push(
        Converse::text("Sorry.")
            .stop_reason("guardrail_intervened")
            .reply(),
    );
    let error = extract_ada(&client).await.expect_err("refused");
    assert!(matches!(error, Error::Refusal { .. }), "{error:?}");

    // Throttled over HTTP, then mid-stream: both retried.
    server.push(bedrock::error_reply(
        429,
        "ThrottlingException",
        "Too many requests",
    ));
    server.push(Converse::tool_use("User", r#"{"name": "Ada", "age": 36}"#).reply());
    let completion = client
        .extract::<User>()
        .user("Ada is 36.")
        .with_completion()
        .await
        .expect("retried past the throttling");
    assert_eq!(completion.value.age, 36);
    assert_eq!(completion.ledger.attempts[0].transport_retries, 1);

    let frames = Converse::tool_use("User", "{").to_frames();
    server.push(bedrock::stream_reply([
        frames[..2].concat(),
        bedrock::exception_frame("throttlingException", "Rate exceeded"),
    ]));
    server.push(Converse::tool_use("User", r#"{"name": "Ada", "age": 36}"#).stream_reply());
    let mut updates = client.extract::<User>().user("Ada is 36.").partial();
    let mut done = None;
    while let Some(update) = updates.next().await {
        if let PartialUpdate::Done(completion) = update.expect("retried mid-stream") {
            done = Some(completion.value);
        }
    }
    assert_eq!(done.map(|user| user.age), Some(36));
    assert!(!format!("{error:?}").contains(SECRET));
    assert_eq!(server.remaining(), 0);
}

#[tokio::test]
async fn plain_text_whole_and_streamed() {
    let server = FakeProvider::start().await;
    server.push(Converse::text("Riga is the capital.").reply());
    server.push(Converse::text_fragments(["Riga", " is the capital."]).stream_reply());
    let client = bedrock_client(&server, CLAUDE);
    let text = client
        .text()
        .user("What's the capital of Latvia?")
        .max_tokens(20)
        .await
        .expect("text");
    assert_eq!(text, "Riga is the capital.");
    let mut chunks = Vec::new();
    let mut stream = client.text().user("What's the capital of Latvia?").stream();
    while let Some(chunk) = stream.next().await {
        chunks.push(chunk.expect("a chunk"));
    }
    assert_eq!(chunks, ["Riga", " is the capital."]);
    let bodies = bodies(&server);
    assert_eq!(bodies[0]["inferenceConfig"]["maxTokens"], 20);
    assert!(bodies[0].get("toolConfig").is_none());
}

#[tokio::test]
async fn prompted_json_reads_the_text_leniently_with_the_schema_in_system() {
    let server = FakeProvider::start().await;
    server.push(Converse::text(r#"{"name": "Ada", "age": 36}"#).reply());
    server.push(
        Converse::text_fragments([
            "Here it is:\n```json\n{\"name\": \"Ada\",",
            " \"age\": 36,}\n```",
        ])
        .stream_reply(),
    );
    let client = bedrock_client(&server, MISTRAL);
    let user = client
        .extract::<User>()
        .mode(Mode::Json)
        .user("Ada is 36.")
        .await
        .expect("json");
    assert_eq!(user.age, 36);
    let mut updates = client
        .extract::<User>()
        .mode(Mode::MdJson)
        .user("Ada is 36.")
        .partial();
    let mut done = None;
    while let Some(update) = updates.next().await {
        if let PartialUpdate::Done(completion) = update.expect("an update") {
            done = Some(completion.value);
        }
    }
    assert_eq!(done.map(|user| user.name), Some("Ada".to_owned()));
    for body in bodies(&server) {
        assert!(body.get("toolConfig").is_none(), "{body:#}");
        assert!(
            body["system"][0]["text"]
                .as_str()
                .is_some_and(|text| text.contains("\"age\"")),
            "core's schema prompt is hoisted into `system`: {:#}",
            body["system"]
        );
    }
}
