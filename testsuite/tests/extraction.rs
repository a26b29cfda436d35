//! Extractions end to end, over real HTTP to the local fake provider speaking OpenAI:
//! modes, re-asking, transport retries, deadlines, terminal errors, streams, hooks.

use futures_util::StreamExt;
use instructor::client::{Hooks, PartialUpdate, RetryPolicy};
use instructor::prelude::*;
use instructor::providers::openai::{OpenAi, OpenAiConfig};
use instructor::providers::testing::openai::ChatCompletion;
use instructor::providers::testing::{FakeProvider, Reply};
use instructor::{Error, Mode};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const KEY: &str = "sk-test-secret-key-0123456789";

#[derive(Debug, Clone, PartialEq, Deserialize, Extract)]
struct User {
    name: String,
    #[garde(range(max = 150))]
    age: u8,
}

fn fast_retries() -> RetryPolicy {
    RetryPolicy {
        max_retries: 5,
        initial_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(20),
        ..RetryPolicy::default()
    }
}

async fn setup() -> (FakeProvider, Client) {
    let server = FakeProvider::start().await;
    let provider = OpenAi::new(OpenAiConfig::new(server.base_url()).with_api_key(KEY));
    let client = Client::new(provider)
        .with_model("gpt-4o-mini")
        .with_retry_policy(fast_retries());
    (server, client)
}

fn tool_reply(arguments: &str) -> Reply {
    ChatCompletion::tool_call("User", arguments).reply()
}

#[tokio::test(flavor = "current_thread")]
async fn tools_mode_forces_the_tool_and_returns_the_value() {
    let (server, client) = setup().await;
    server.push(tool_reply(r#"{"name": "Jason", "age": 25}"#));
    let user: User = client
        .extract::<User>()
        .user("Jason is 25")
        .await
        .expect("extracted");
    assert_eq!(
        user,
        User {
            name: "Jason".into(),
            age: 25
        }
    );
    let request = server.last_request().expect("one request");
    assert_eq!(
        request.header("authorization"),
        Some(&*format!("Bearer {KEY}"))
    );
    let body = request.json().cloned().expect("JSON body");
    assert_eq!(body["tool_choice"]["function"]["name"], "User");
    assert_eq!(
        body["tools"][0]["function"]["parameters"]["properties"]["age"]["maximum"],
        150
    );
    assert_eq!(
        body["messages"][0],
        json!({"role": "user", "content": "Jason is 25"})
    );
}

#[tokio::test(flavor = "current_thread")]
async fn malformed_arguments_are_re_asked_as_a_tool_message() {
    let (server, client) = setup().await;
    server.push(tool_reply(r#"{"name": "Jason", "age": 25"#));
    server.push(tool_reply(r#"{"name": "Jason", "age": 25}"#));
    let done = client
        .extract::<User>()
        .user("Jason is 25")
        .with_completion()
        .await
        .expect("re-asked");
    assert_eq!(done.value.age, 25);
    assert_eq!(done.ledger.attempts.len(), 2);
    assert!(done.ledger.attempts[0].error.is_some());
    let second = server.requests()[1].json().cloned().expect("JSON");
    let messages = second["messages"].as_array().expect("messages");
    assert_eq!(messages.len(), 3, "{messages:#?}");
    assert_eq!(messages[1]["role"], "assistant");
    assert!(messages[1]["tool_calls"][0]["function"]["arguments"].is_string());
    assert_eq!(messages[2]["role"], "tool");
    assert_eq!(
        messages[2]["tool_call_id"],
        messages[1]["tool_calls"][0]["id"]
    );
    assert!(
        messages[2]["content"]
            .as_str()
            .expect("text")
            .contains("EOF"),
        "{}",
        messages[2]
    );
}

#[tokio::test(flavor = "current_thread")]
async fn wrong_types_and_missing_fields_are_re_asked_by_path() {
    let (server, client) = setup().await;
    server.push(tool_reply(r#"{"name": "Jason", "age": "old"}"#));
    server.push(tool_reply(r#"{"name": "Jason"}"#));
    server.push(tool_reply(r#"{"name": "Jason", "age": 25, "extra": true}"#));
    let done = client
        .extract::<User>()
        .user("Jason is 25")
        .max_retries(2)
        .with_completion()
        .await
        .expect("third answer is fine (extra fields are ignored)");
    assert_eq!(done.ledger.attempts.len(), 3);
    let errors: Vec<String> = done
        .ledger
        .attempts
        .iter()
        .filter_map(|a| a.error.clone())
        .collect();
    assert_eq!(errors[0], "age: expected an integer, found \"old\"");
    assert_eq!(errors[1], "age: missing required field");
}

#[tokio::test(flavor = "current_thread")]
async fn a_validation_failure_is_re_asked_then_reported_with_the_ledger() {
    let (server, client) = setup().await;
    server.push(tool_reply(r#"{"name": "Jason", "age": 200}"#));
    server.push(tool_reply(r#"{"name": "Jason", "age": 201}"#));
    let error = client
        .extract::<User>()
        .user("Jason is 25")
        .await
        .expect_err("still invalid after one re-ask");
    match &error {
        Error::Validation { errors, ledger, .. } => {
            assert_eq!(errors.to_string(), "age: must be at most 150 (it is 201)");
            assert_eq!(ledger.attempts.len(), 2);
            let first = ledger.attempts[0].usage.expect("usage reported").total();
            assert!(first > 0);
            assert_eq!(
                ledger.total_usage.total(),
                2 * first,
                "usage of both attempts"
            );
        }
        other => panic!("{other:?}"),
    }
    let reask = server.requests()[1].json().cloned().expect("JSON");
    let text = reask["messages"][2]["content"]
        .as_str()
        .expect("text")
        .to_owned();
    assert!(
        text.contains("age: must be at most 150 (it is 200)"),
        "{text}"
    );
}

#[tokio::test(flavor = "current_thread")]
async fn prose_instead_of_a_tool_call_is_re_asked_as_a_user_message() {
    let (server, client) = setup().await;
    server.push(ChatCompletion::content("Jason is 25 years old.").reply());
    server.push(tool_reply(r#"{"name": "Jason", "age": 25}"#));
    let user = client
        .extract::<User>()
        .user("Jason is 25")
        .await
        .expect("re-asked");
    assert_eq!(user.age, 25);
    let second = server.requests()[1].json().cloned().expect("JSON");
    assert_eq!(second["messages"][1]["role"], "assistant");
    assert_eq!(second["messages"][2]["role"], "user");
    let text = second["messages"][2]["content"].as_str().expect("text");
    assert!(
        text.contains("prose instead of a call of the `User` tool"),
        "{text}"
    );
}

#[tokio::test(flavor = "current_thread")]
async fn two_tool_calls_when_one_was_asked_is_an_error_not_a_guess() {
    let (server, client) = setup().await;
    let two = ChatCompletion::tool_call("User", r#"{"name": "A", "age": 1}"#)
        .and_tool_call("User", r#"{"name": "B", "age": 2}"#)
        .reply();
    server.push(two);
    let error = client
        .extract::<User>()
        .user("two people")
        .max_retries(0)
        .await
        .expect_err("ambiguous");
    assert!(
        error.to_string().contains("2 tool calls arrived"),
        "{error}"
    );
}

#[tokio::test(flavor = "current_thread")]
async fn an_empty_answer_is_a_parse_error() {
    let (server, client) = setup().await;
    server.push(ChatCompletion::content("").reply());
    let error = client
        .extract::<User>()
        .user("x")
        .max_retries(0)
        .await
        .expect_err("empty");
    assert!(matches!(error, Error::Parse { .. }), "{error:?}");
    assert!(error.to_string().contains("empty"), "{error}");
}

#[tokio::test(flavor = "current_thread")]
async fn transport_retries_default_to_two_as_the_official_sdks() {
    assert_eq!(RetryPolicy::default().max_retries, 2);
}

#[tokio::test(flavor = "current_thread")]
async fn rate_limits_and_server_errors_are_retried_outside_the_conversation() {
    let (server, client) = setup().await;
    for _ in 0..3 {
        server.push(
            Reply::json(429, json!({"error": {"message": "slow down"}}))
                .header("retry-after-ms", "5"),
        );
    }
    server.push(Reply::json(500, json!({"error": {"message": "oops"}})));
    server.push(tool_reply(r#"{"name": "Jason", "age": 25}"#));
    let done = client
        .extract::<User>()
        .user("Jason is 25")
        .with_completion()
        .await
        .expect("retried");
    assert_eq!(
        done.ledger.attempts.len(),
        1,
        "transport retries are not re-asks"
    );
    assert_eq!(done.ledger.attempts[0].transport_retries, 4);
    let requests = server.requests();
    assert_eq!(requests.len(), 5);
    // Every retry sent the same conversation.
    let first = requests[0].json().cloned().expect("JSON");
    assert!(
        requests
            .iter()
            .all(|r| r.json().cloned().expect("JSON")["messages"] == first["messages"])
    );
}

#[tokio::test(flavor = "current_thread")]
async fn a_client_error_is_not_retried() {
    let (server, client) = setup().await;
    server.push(Reply::json(
        400,
        json!({"error": {"message": "bad request"}}),
    ));
    let error = client.extract::<User>().user("x").await.expect_err("400");
    match &error {
        Error::Provider { error, .. } => assert!(error.to_string().contains("HTTP 400")),
        other => panic!("{other:?}"),
    }
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test(flavor = "current_thread")]
async fn a_stalled_server_cannot_hold_the_caller_past_the_deadline() {
    let (server, client) = setup().await;
    server.push(Reply::stall());
    let started = std::time::Instant::now();
    let error = client
        .extract::<User>()
        .user("x")
        .timeout(Duration::from_millis(300))
        .await
        .expect_err("deadline");
    assert!(matches!(error, Error::Timeout { .. }), "{error:?}");
    // Generous: the point is that it returns, not how fast.
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[tokio::test(flavor = "current_thread")]
async fn truncation_fails_at_once_without_re_asking() {
    let (server, client) = setup().await;
    server.push(
        ChatCompletion::tool_call("User", r#"{"name": "Ja"#)
            .finish_reason("length")
            .reply(),
    );
    let error = client
        .extract::<User>()
        .user("x")
        .max_retries(3)
        .await
        .expect_err("truncated");
    assert!(matches!(error, Error::Truncated { .. }), "{error:?}");
    assert_eq!(server.requests().len(), 1, "no wasted re-asks");
}

#[tokio::test(flavor = "current_thread")]
async fn truncation_can_be_retried_with_a_larger_limit_when_asked() {
    let (server, client) = setup().await;
    server.push(
        ChatCompletion::tool_call("User", r#"{"name": "Ja"#)
            .finish_reason("length")
            .reply(),
    );
    server.push(tool_reply(r#"{"name": "Jason", "age": 25}"#));
    let user = client
        .extract::<User>()
        .user("x")
        .max_tokens(10)
        .retry_truncated_with(1000)
        .await
        .expect("second try fits");
    assert_eq!(user.age, 25);
    let second = server.requests()[1].json().cloned().expect("JSON");
    let limit = second
        .get("max_completion_tokens")
        .or_else(|| second.get("max_tokens"));
    assert_eq!(limit, Some(&json!(1000)), "{second}");
}

#[tokio::test(flavor = "current_thread")]
async fn an_impossible_mode_is_refused_before_any_request() {
    let server = FakeProvider::start().await;
    let caps = instructor::chat::Capabilities {
        native_json_schema: false,
        ..instructor::chat::Capabilities::ALL
    };
    let provider = OpenAi::new(OpenAiConfig::new(server.base_url()).with_capabilities(caps));
    let client = Client::new(provider).with_model("local");
    let error = client
        .extract::<User>()
        .mode(Mode::JsonSchema)
        .user("x")
        .await
        .expect_err("unsupported");
    assert!(matches!(error, Error::UnsupportedMode { .. }), "{error:?}");
    assert!(server.requests().is_empty());
}

#[tokio::test(flavor = "current_thread")]
async fn json_schema_mode_reads_the_content() {
    let (server, client) = setup().await;
    server.push(ChatCompletion::content(r#"{"name": "Jason", "age": 25}"#).reply());
    let user = client
        .extract::<User>()
        .mode(Mode::JsonSchema)
        .user("Jason is 25")
        .await
        .expect("extracted");
    assert_eq!(user.name, "Jason");
    let body = server
        .last_request()
        .expect("request")
        .json()
        .cloned()
        .expect("JSON");
    assert_eq!(body["response_format"]["type"], "json_schema");
    assert_eq!(body["response_format"]["json_schema"]["strict"], true);
}

#[tokio::test(flavor = "current_thread")]
async fn md_json_mode_reads_a_fenced_answer_leniently() {
    let (server, client) = setup().await;
    server.push(
        ChatCompletion::content("Sure!\n```json\n{name: 'Jason', age: \"25\",}\n```").reply(),
    );
    let user = client
        .extract::<User>()
        .mode(Mode::MdJson)
        .user("Jason is 25")
        .await
        .expect("read leniently");
    assert_eq!(
        user,
        User {
            name: "Jason".into(),
            age: 25
        }
    );
    let body = server
        .last_request()
        .expect("request")
        .json()
        .cloned()
        .expect("JSON");
    let system = body["messages"][0]["content"]
        .as_str()
        .expect("system prompt");
    assert!(
        system.contains("```json") && system.contains("\"age\""),
        "{system}"
    );
}

#[tokio::test(flavor = "current_thread")]
async fn a_refusal_is_its_own_error() {
    let (server, client) = setup().await;
    server.push(Reply::json(
        200,
        json!({
            "id": "chatcmpl-1", "object": "chat.completion", "created": 0, "model": "gpt-4o-mini",
            "choices": [{"index": 0, "finish_reason": "stop",
                "message": {"role": "assistant", "content": null, "refusal": "I can't help with that."}}]
        }),
    ));
    let error = client
        .extract::<User>()
        .user("x")
        .await
        .expect_err("refused");
    match error {
        Error::Refusal { text, .. } => assert_eq!(text, "I can't help with that."),
        other => panic!("{other:?}"),
    }
}

#[tokio::test(flavor = "current_thread")]
async fn the_token_budget_stops_further_attempts() {
    let (server, client) = setup().await;
    server.push(tool_reply(r#"{"name": "Jason", "age": 300}"#));
    let error = client
        .extract::<User>()
        .user("x")
        .max_retries(5)
        .max_total_tokens(10)
        .await
        .expect_err("budget");
    assert!(matches!(error, Error::BudgetExhausted { .. }), "{error:?}");
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test(flavor = "current_thread")]
async fn partial_updates_stream_and_end_in_the_value() {
    let (server, client) = setup().await;
    server.push(
        ChatCompletion::tool_call_fragments(
            "User",
            ["{\"na", "me\": \"Ja", "son\", \"a", "ge\": 2", "5}"],
        )
        .sse_reply(),
    );
    let mut names = Vec::new();
    let mut done = None;
    let mut stream = Box::pin(client.extract::<User>().user("Jason is 25").partial());
    while let Some(update) = stream.next().await {
        match update.expect("valid stream") {
            PartialUpdate::Partial(partial) => {
                assert!(
                    partial.age.is_none() || partial.age == Some(25),
                    "{partial:?}"
                );
                names.extend(partial.name.clone());
            }
            PartialUpdate::Done(completion) => done = Some(completion.value),
            other => panic!("no restart expected: {other:?}"),
        }
    }
    assert_eq!(
        done,
        Some(User {
            name: "Jason".into(),
            age: 25
        })
    );
    assert!(
        names.contains(&"Ja".to_owned()) && names.contains(&"Jason".to_owned()),
        "{names:?}"
    );
    let body = server
        .last_request()
        .expect("request")
        .json()
        .cloned()
        .expect("JSON");
    assert_eq!(body["stream"], true);
}

#[tokio::test(flavor = "current_thread")]
async fn a_stream_cut_mid_way_is_retried_from_the_start() {
    let (server, client) = setup().await;
    let fragments = ["{\"name\": \"Jason\",", " \"age\": 25}"];
    server.push(
        ChatCompletion::tool_call_fragments("User", fragments)
            .sse_reply()
            .disconnect_after(2),
    );
    server.push(ChatCompletion::tool_call_fragments("User", fragments).sse_reply());
    let mut stream = Box::pin(client.extract::<User>().user("x").partial());
    let mut value = None;
    while let Some(update) = stream.next().await {
        if let PartialUpdate::Done(done) = update.expect("recovered") {
            assert_eq!(done.ledger.attempts[0].transport_retries, 1);
            value = Some(done.value);
        }
    }
    assert_eq!(value.map(|u| u.age), Some(25));
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test(flavor = "current_thread")]
async fn items_stream_one_by_one() {
    let (server, client) = setup().await;
    server.push(
        ChatCompletion::tool_call_fragments(
            "User_list",
            [
                "{\"value\": [{\"name\": \"Ann\", \"age\": 30}",
                ", {\"name\": \"Old\", \"age\": 200}",
                ", {\"name\": \"Cy\", \"age\": 50}]}",
            ],
        )
        .sse_reply(),
    );
    let items: Vec<Result<User, Error>> = client
        .extract::<User>()
        .user("people")
        .iter()
        .collect()
        .await;
    assert_eq!(items.len(), 3);
    assert_eq!(items[0].as_ref().map(|u| u.name.as_str()).ok(), Some("Ann"));
    assert!(
        items[1]
            .as_ref()
            .is_err_and(|e| e.to_string().contains("item 1"))
    );
    assert_eq!(items[2].as_ref().map(|u| u.name.as_str()).ok(), Some("Cy"));
}

#[tokio::test(flavor = "current_thread")]
async fn hooks_see_each_step_and_never_the_key() {
    let (server, client) = setup().await;
    server.push(tool_reply(r#"{"name": "Jason", "age": 200}"#));
    server.push(tool_reply(r#"{"name": "Jason", "age": 25}"#));
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let log = seen.clone();
    let hooks = Hooks::new().on(move |event| {
        let text = format!("{event:?}");
        let kind = text
            .split([' ', '{', '('])
            .next()
            .unwrap_or_default()
            .to_owned();
        log.lock().expect("lock").push(format!("{kind}|{text}"));
    });
    client
        .extract::<User>()
        .user("Jason is 25")
        .hooks(hooks)
        .await
        .expect("second attempt valid");
    let seen = seen.lock().expect("lock");
    let kinds: Vec<&str> = seen
        .iter()
        .map(|s| s.split('|').next().unwrap_or_default())
        .collect();
    assert_eq!(
        kinds,
        [
            "Request",
            "Response",
            "Usage",
            "ValidationError",
            "Retry",
            "LastAttempt",
            "Request",
            "Response",
            "Usage"
        ]
    );
    assert!(
        seen.iter().all(|s| !s.contains(KEY)),
        "a hook payload leaked the key"
    );
    assert!(!format!("{client:?}").contains(KEY));
}

#[cfg(feature = "blocking")]
#[test]
fn the_blocking_facade_runs_without_an_async_runtime() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("rt");
    let server = runtime.block_on(FakeProvider::start());
    server.push(tool_reply(r#"{"name": "Jason", "age": 25}"#));
    let provider = OpenAi::new(OpenAiConfig::new(server.base_url()));
    // The fake server's tasks run on `runtime`; keep it turning on another thread.
    let handle = std::thread::spawn(move || {
        runtime.block_on(async { tokio::time::sleep(Duration::from_secs(5)).await });
    });
    let client =
        instructor::blocking::Client::new(Client::new(provider).with_model("m")).expect("client");
    let user: User = client
        .extract::<User>()
        .user("Jason is 25")
        .run()
        .expect("blocking extraction");
    assert_eq!(user.age, 25);
    drop(handle);
}

#[derive(Debug, Clone, PartialEq, Deserialize, Extract)]
#[serde(rename_all = "lowercase")]
enum Mood {
    Happy,
    Sad,
}

#[tokio::test(flavor = "current_thread")]
async fn top_level_lists_options_enums_and_primitives_are_wrapped_and_unwrapped() {
    let (server, client) = setup().await;
    server.push(
        ChatCompletion::tool_call(
            "User_list",
            r#"{"value": [{"name": "A", "age": 1}, {"name": "B", "age": 2}]}"#,
        )
        .reply(),
    );
    let users: Vec<User> = client
        .extract::<Vec<User>>()
        .user("two")
        .await
        .expect("list");
    assert_eq!(users.len(), 2);
    let body = server
        .last_request()
        .expect("request")
        .json()
        .cloned()
        .expect("JSON");
    let parameters = &body["tools"][0]["function"]["parameters"];
    assert_eq!(parameters["type"], "object");
    assert_eq!(parameters["properties"]["value"]["type"], "array");

    server.push(ChatCompletion::tool_call("Maybe_User", r#"{"value": null}"#).reply());
    let nobody: Option<User> = client
        .extract::<Option<User>>()
        .user("nobody")
        .await
        .expect("none");
    assert_eq!(nobody, None);

    server.push(ChatCompletion::content(r#"{"value": "sad"}"#).reply());
    let mood: Mood = client
        .extract::<Mood>()
        .mode(Mode::JsonSchema)
        .user("it rains")
        .await
        .expect("enum");
    assert_eq!(mood, Mood::Sad);

    server.push(ChatCompletion::tool_call("integer", r#"{"value": 42}"#).reply());
    let answer: u32 = client
        .extract::<u32>()
        .user("six times seven")
        .await
        .expect("number");
    assert_eq!(answer, 42);

    server.push(ChatCompletion::content("\"Paris\"").reply());
    let city: String = client
        .extract::<String>()
        .mode(Mode::Json)
        .user("capital of France")
        .await
        .expect("prompted text");
    assert_eq!(city, "Paris");
}

#[tokio::test(flavor = "current_thread")]
async fn the_content_filter_is_its_own_error() {
    let (server, client) = setup().await;
    server.push(
        ChatCompletion::content("")
            .finish_reason("content_filter")
            .reply(),
    );
    let error = client
        .extract::<User>()
        .user("x")
        .await
        .expect_err("filtered");
    assert!(matches!(error, Error::ContentFilter { .. }), "{error:?}");
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test(flavor = "current_thread")]
async fn a_recorded_openai_stream_replays_through_http() {
    #[derive(Debug, Deserialize, Extract)]
    #[allow(dead_code)]
    #[extract(rename = "GetWeatherArgs")]
    struct GetWeatherArgs {
        city: String,
        country: String,
        units: String,
    }
    let recorded = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../testdata/recorded/openai/stream-single-tool-call.sse"
    ))
    .expect("recorded stream");
    let (server, client) = setup().await;
    // Re-cut at awkward places: inside keys, escapes and the `data:` prefix.
    let cuts: Vec<usize> = (7..recorded.len()).step_by(53).collect();
    server.push(Reply::sse(vec![recorded]).cut_at(&cuts));
    let mut stream = Box::pin(
        client
            .extract::<GetWeatherArgs>()
            .user("weather in Edinburgh")
            .partial(),
    );
    let mut partials = 0;
    let mut value = None;
    while let Some(update) = stream.next().await {
        match update.expect("valid") {
            PartialUpdate::Partial(_) => partials += 1,
            PartialUpdate::Done(done) => {
                assert!(done.response.usage.is_some(), "the usage chunk was read");
                value = Some(done.value);
            }
            other => panic!("no restart expected: {other:?}"),
        }
    }
    let value = value.expect("a value");
    assert_eq!(value.city, "Edinburgh");
    assert!(partials > 3, "{partials}");
}

/// Look up the weather in a city.
#[derive(Debug, Clone, PartialEq, Deserialize, Extract)]
struct Weather {
    city: String,
}

/// Search the web.
#[derive(Debug, Clone, PartialEq, Deserialize, Extract)]
struct Search {
    query: String,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Extract)]
enum Action {
    Weather(Weather),
    Search(Search),
}

#[tokio::test(flavor = "current_thread")]
async fn parallel_tools_offer_one_tool_per_variant_and_read_one_item_per_call() {
    let (server, client) = setup().await;
    server.push(
        ChatCompletion::tool_call("Weather", r#"{"city": "Paris"}"#)
            .and_tool_call("Search", r#"{"query": "Paris museums"}"#)
            .and_tool_call("Weather", r#"{"city": "Lyon"}"#)
            .reply(),
    );
    let actions: Vec<Action> = client
        .extract::<Vec<Action>>()
        .mode(Mode::ParallelTools)
        .user("Weather in Paris and Lyon, and museums in Paris")
        .await
        .expect("three calls");
    assert_eq!(
        actions,
        [
            Action::Weather(Weather {
                city: "Paris".into()
            }),
            Action::Search(Search {
                query: "Paris museums".into()
            }),
            Action::Weather(Weather {
                city: "Lyon".into()
            }),
        ]
    );
    let body = server
        .last_request()
        .expect("request")
        .json()
        .cloned()
        .expect("JSON");
    let names: Vec<&str> = body["tools"]
        .as_array()
        .expect("tools")
        .iter()
        .filter_map(|t| t["function"]["name"].as_str())
        .collect();
    assert_eq!(names, ["Weather", "Search"]);
    assert_eq!(
        body["tools"][0]["function"]["parameters"]["properties"]["city"]["type"],
        "string"
    );
    assert_eq!(
        body["tools"][0]["function"]["description"],
        "Look up the weather in a city."
    );
    assert_eq!(body["parallel_tool_calls"], true);
}

#[tokio::test(flavor = "current_thread")]
async fn parallel_tools_need_a_list_of_an_enum() {
    let (server, client) = setup().await;
    let error = client
        .extract::<User>()
        .mode(Mode::ParallelTools)
        .user("x")
        .await
        .expect_err("not a list of an enum");
    assert!(matches!(error, Error::InvalidRequest { .. }), "{error:?}");
    assert!(server.requests().is_empty());
}

#[tokio::test(flavor = "current_thread")]
async fn a_stream_that_ends_without_done_or_finish_reason_is_not_taken_as_complete() {
    let (server, client) = setup().await;
    let fragments = ["{\"name\": \"Jason\", \"age\": 25}"];
    // Complete-looking JSON, but the stream stops before its finish reason and [DONE].
    let cut: Vec<String> = ChatCompletion::tool_call_fragments("User", fragments)
        .no_finish_reason()
        .no_usage()
        .to_sse_events()
        .into_iter()
        .filter(|event| !event.contains("[DONE]"))
        .collect();
    server.push(Reply::sse(cut));
    server.push(ChatCompletion::tool_call_fragments("User", fragments).sse_reply());
    let mut stream = Box::pin(client.extract::<User>().user("x").partial());
    let mut done = None;
    while let Some(update) = stream.next().await {
        if let PartialUpdate::Done(completion) = update.expect("recovered by a retry") {
            done = Some(completion);
        }
    }
    let done = done.expect("a value");
    assert_eq!(
        done.ledger.attempts[0].transport_retries, 1,
        "the cut stream was retried"
    );
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test(flavor = "current_thread")]
async fn sse_garbage_is_a_typed_error_not_a_panic() {
    let (server, client) = setup().await;
    server.push(Reply::sse(vec![
        "data: {\"choices\": [{\"index\": 0, \"delta\": {\"tool_calls\": [{\"index\": 0, \"id\": \"c\", \"function\": {\"name\": \"User\", \"arguments\": \"{\\\"na\"}}]}}]}\n\n".to_owned(),
        "data: this is not json\n\n".to_owned(),
        "data: [DONE]\n\n".to_owned(),
    ]));
    let mut stream = Box::pin(client.extract::<User>().user("x").max_retries(0).partial());
    let mut last = None;
    while let Some(update) = stream.next().await {
        last = Some(update);
    }
    let error = match last.expect("an item") {
        Err(error) => error,
        Ok(update) => panic!("expected an error, got {update:?}"),
    };
    assert!(matches!(error, Error::Provider { .. }), "{error:?}");
    let ledger = error.ledger().expect("a ledger");
    assert_eq!(ledger.attempts.len(), 1, "the failed attempt is recorded");
    assert!(
        ledger.attempts[0]
            .error
            .as_deref()
            .is_some_and(|e| e.contains("unreadable")),
        "{ledger:?}"
    );
}

#[test]
fn a_provider_and_model_string_selects_the_preset() {
    use instructor::ClientFromEnv;
    let client = Client::from_model("ollama/llama3.1").expect("known provider");
    assert_eq!(client.provider().name(), "ollama");
    assert!(format!("{client:?}").contains("llama3.1"));
    let client =
        Client::from_model("openrouter/anthropic/claude-3.5-sonnet").expect("slashes kept");
    assert!(format!("{client:?}").contains("anthropic/claude-3.5-sonnet"));
    assert!(Client::from_model("nonsense/model").is_err());
    assert!(Client::from_model("gpt-4o").is_err());
}

#[tokio::test(flavor = "current_thread")]
async fn a_top_level_list_streams_partials_from_under_the_wrapper() {
    let (server, client) = setup().await;
    server.push(
        ChatCompletion::tool_call_fragments(
            "User_list",
            [
                "{\"value\": [{\"name\": \"Ann\", \"age\": 3",
                "0}, {\"name\": \"Bo",
                "\", \"age\": 40}]}",
            ],
        )
        .sse_reply(),
    );
    let mut stream = Box::pin(client.extract::<Vec<User>>().user("people").partial());
    let mut lengths = Vec::new();
    let mut done = None;
    while let Some(update) = stream.next().await {
        match update.expect("valid") {
            PartialUpdate::Partial(partial) => lengths.push(partial.len()),
            PartialUpdate::Done(completion) => done = Some(completion.value),
            other => panic!("no restart expected: {other:?}"),
        }
    }
    assert_eq!(done.map(|users| users.len()), Some(2));
    assert!(lengths.contains(&1) && lengths.contains(&2), "{lengths:?}");
}

#[tokio::test(flavor = "current_thread")]
async fn parallel_tool_calls_stream_as_items_as_each_call_completes() {
    let (server, client) = setup().await;
    server.push(
        ChatCompletion::tool_call_fragments("Weather", ["{\"city\"", ": \"Paris\"}"])
            .and_tool_call_fragments("Search", ["{\"query\": ", "\"museums\"}"])
            .and_tool_call_fragments("Weather", ["{\"city\": \"Lyon\"}"])
            .sse_reply(),
    );
    let actions: Vec<Result<Action, Error>> = client
        .extract::<Action>()
        .mode(Mode::ParallelTools)
        .user("Weather in Paris and Lyon, and museums")
        .iter()
        .collect()
        .await;
    let actions: Vec<Action> = actions
        .into_iter()
        .map(|a| a.expect("valid item"))
        .collect();
    assert_eq!(
        actions,
        [
            Action::Weather(Weather {
                city: "Paris".into()
            }),
            Action::Search(Search {
                query: "museums".into()
            }),
            Action::Weather(Weather {
                city: "Lyon".into()
            }),
        ]
    );
    let body = server
        .last_request()
        .expect("request")
        .json()
        .cloned()
        .expect("JSON");
    assert_eq!(body["tools"].as_array().map(Vec::len), Some(2));
}

#[tokio::test(flavor = "current_thread")]
async fn an_async_validator_cannot_hold_the_caller_past_the_deadline() {
    use instructor::validate::{AsyncValidator, ValidationFuture};
    /// Stands in for an LLM-backed check whose own call never returns.
    struct Hangs;
    impl AsyncValidator<User> for Hangs {
        fn validate<'a>(&'a self, _: &'a User, _: &'a Context) -> ValidationFuture<'a> {
            Box::pin(std::future::pending())
        }
    }
    let (server, client) = setup().await;
    server.push(tool_reply(r#"{"name": "Jason", "age": 25}"#));
    let error = client
        .extract::<User>()
        .user("x")
        .validator(Hangs)
        .timeout(Duration::from_millis(200))
        .await
        .expect_err("deadline");
    match error {
        Error::Timeout { ledger, .. } => {
            assert_eq!(ledger.attempts.len(), 1);
            assert_eq!(
                ledger.attempts[0].error.as_deref(),
                Some("timed out in validation")
            );
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test(flavor = "current_thread")]
async fn a_prompt_cache_key_reaches_the_wire_for_extractions_and_text() {
    let (server, client) = setup().await;
    server.push(tool_reply(r#"{"name": "Jason", "age": 25}"#));
    server.push(ChatCompletion::content("Riga.").reply());
    let user = client
        .extract::<User>()
        .system("A long shared prompt ...")
        .user("Jason is 25")
        .prompt_cache_key("users-v1")
        .await
        .expect("a user");
    assert_eq!(user.age, 25);
    let text = client
        .text()
        .user("Capital of Latvia?")
        .prompt_cache_key("geo-v1")
        .await
        .expect("text");
    assert_eq!(text, "Riga.");
    let keys: Vec<Value> = server
        .requests()
        .iter()
        .map(|r| r.json().expect("JSON")["prompt_cache_key"].clone())
        .collect();
    assert_eq!(keys, [json!("users-v1"), json!("geo-v1")]);
}

#[tokio::test(flavor = "current_thread")]
async fn a_future_counts_its_deadline_from_its_first_poll_not_from_when_it_was_built() {
    // `.send()` builds the request at once; the time it is allowed starts when it is
    // awaited, as for any future that does nothing until polled.
    let (server, client) = setup().await;
    server.push(tool_reply(r#"{"name": "Jason", "age": 25}"#));
    let future = client
        .extract::<User>()
        .user("Jason is 25")
        .timeout(Duration::from_secs(1))
        .send();
    // Longer than the timeout; the answer itself then has the whole second (generous:
    // the point is when the clock starts, not how fast a local answer is).
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let user = future.await.expect("the deadline starts at the first poll");
    assert_eq!(user.age, 25);

    // And a request that cannot be built fails when awaited, with nothing sent.
    let error = client
        .extract::<User>()
        .user("x")
        .max_retries(0)
        .context(json!(["not", "a", "map"]))
        .send()
        .await
        .expect_err("a context that is not an object");
    assert!(matches!(error, Error::InvalidRequest { .. }), "{error:?}");
    assert_eq!(server.requests().len(), 1);
}
