//! Extraction on Gemini and Vertex AI, natively, over real HTTP to the fake provider
//! speaking Google's wire: JSON Schema output streaming as typed partials, forced
//! function calls, a re-ask answering the named call, a list wrapped and unwrapped,
//! truncation and the safety filter, and Vertex AI's streamed function-call arguments
//! through `.partial()`.

use futures_util::StreamExt;
use instructor::Error;
use instructor::client::PartialUpdate;
use instructor::prelude::*;
use instructor::providers::gemini::{Gemini, GeminiConfig, VertexAuth};
use instructor::providers::testing::{FakeProvider, gemini::GenerateContent};
use serde_json::{Value, json};

/// A user named in the text.
#[derive(Debug, Clone, PartialEq, Deserialize, Extract)]
struct User {
    name: String,
    age: u8,
}

fn gemini(server: &FakeProvider) -> Client {
    Client::new(Gemini::new(
        GeminiConfig::new(server.base_url()).with_api_key("AIza-test-key-abcdefgh"),
    ))
    .with_model("gemini-2.5-flash")
    .with_mode(Mode::JsonSchema)
}

fn bodies(server: &FakeProvider) -> Vec<Value> {
    server
        .requests()
        .iter()
        .map(|request| request.json().cloned().expect("JSON"))
        .collect()
}

#[tokio::test]
async fn json_schema_output_streams_as_typed_partials() {
    let server = FakeProvider::start().await;
    server.push(
        GenerateContent::text_fragments([r#"{"name": "Gr"#, r#"ace", "age": 8"#, "5}"]).sse_reply(),
    );
    let mut updates = gemini(&server)
        .extract::<User>()
        .user("Grace is 85.")
        .partial();
    let (mut names, mut done) = (Vec::new(), None);
    while let Some(update) = updates.next().await {
        match update.expect("an update") {
            PartialUpdate::Partial(partial) => {
                names.extend(partial.name.clone());
                assert!(partial.age.is_none() || partial.age == Some(85), "never 8");
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
    let body = &bodies(&server)[0];
    assert_eq!(
        body["generationConfig"]["responseMimeType"],
        "application/json"
    );
    assert_eq!(
        body["generationConfig"]["responseJsonSchema"]["required"],
        json!(["name", "age"])
    );
}

#[tokio::test]
async fn a_forced_call_re_asked_by_name_and_a_list_unwrapped() {
    let server = FakeProvider::start().await;
    server.push(GenerateContent::function_call("User", r#"{"name": "Ada", "age": "old"}"#).reply());
    server.push(GenerateContent::function_call("User", r#"{"name": "Ada", "age": 36}"#).reply());
    server.push(
        GenerateContent::text(
            r#"{"value": [{"name": "Ada", "age": 36}, {"name": "Bo", "age": 5}]}"#,
        )
        .reply(),
    );
    let client = gemini(&server);
    let user = client
        .extract::<User>()
        .mode(Mode::Tools)
        .user("Ada is 36.")
        .max_retries(1)
        .await
        .expect("fixed on the re-ask");
    assert_eq!(user.age, 36);
    let users = client
        .extract::<Vec<User>>()
        .user("Ada is 36, Bo is 5.")
        .await
        .expect("a list");
    assert_eq!(users.len(), 2);
    let bodies = bodies(&server);
    assert_eq!(
        bodies[0]["toolConfig"]["functionCallingConfig"]["mode"],
        "ANY"
    );
    let reask = &bodies[1]["contents"];
    assert_eq!(reask[1]["parts"][0]["functionCall"]["name"], "User");
    assert_eq!(reask[2]["parts"][0]["functionResponse"]["name"], "User");
    assert!(
        reask[2]["parts"][0]["functionResponse"]["response"]["error"]
            .as_str()
            .is_some_and(|text| text.contains("age")),
        "{reask:#}"
    );
    assert_eq!(
        bodies[2]["generationConfig"]["responseJsonSchema"]["required"],
        json!(["value"])
    );
}

#[tokio::test]
async fn truncation_and_the_safety_filter_are_typed() {
    let server = FakeProvider::start().await;
    server.push(
        GenerateContent::text(r#"{"name": "A"#)
            .finish_reason("MAX_TOKENS")
            .reply(),
    );
    server.push(GenerateContent::text("").finish_reason("SAFETY").reply());
    server.push(GenerateContent::prompt_blocked("PROHIBITED_CONTENT").sse_reply());
    let client = gemini(&server);
    let error = client.extract::<User>().user("x").await.expect_err("cut");
    assert!(matches!(error, Error::Truncated { .. }), "{error:?}");
    let error = client
        .extract::<User>()
        .user("x")
        .await
        .expect_err("unsafe");
    assert!(matches!(error, Error::ContentFilter { .. }), "{error:?}");
    let mut updates = client.extract::<User>().user("x").partial();
    let mut last = None;
    while let Some(update) = updates.next().await {
        last = Some(update);
    }
    assert!(
        matches!(last, Some(Err(Error::ContentFilter { .. }))),
        "{last:?}"
    );
}

#[tokio::test]
async fn vertex_streamed_call_arguments_reach_the_value() {
    let server = FakeProvider::start().await;
    server.push(
        GenerateContent::function_call("User", r#"{"name": "Ada", "age": 36}"#)
            .vertex_partial_args()
            .sse_reply(),
    );
    let vertex = Client::new(Gemini::new(
        GeminiConfig::vertex("p", "us-central1", VertexAuth::token("ya29.test"))
            .with_base_url(server.base_url()),
    ))
    .with_model("gemini-2.5-pro")
    .with_mode(Mode::Tools);
    let mut updates = vertex.extract::<User>().user("Ada is 36.").partial();
    let mut done = None;
    while let Some(update) = updates.next().await {
        if let PartialUpdate::Done(completion) = update.expect("an update") {
            done = Some(completion.value);
        }
    }
    assert_eq!(
        done,
        Some(User {
            name: "Ada".into(),
            age: 36
        })
    );
    let sent = server.last_request().expect("sent");
    assert!(
        sent.path()
            .starts_with("/v1/projects/p/locations/us-central1/"),
        "{}",
        sent.path()
    );
    assert_eq!(sent.header("authorization"), Some("Bearer ya29.test"));
}
