//! What the per-request shortcuts must not change, over real HTTP to the fake provider:
//! schemas rendered once per type and dialect give the same request bodies as rendering
//! anew; `.await` (which reads the answer without keeping a raw JSON tree) gives the
//! same value and the same errors as `with_completion()` (which keeps it); hooks still
//! see the raw body; a key echoed by the server is still removed.

use instructor::client::{HookEvent, Hooks};
use instructor::prelude::*;
use instructor::providers::openai::{OpenAi, OpenAiConfig};
use instructor::providers::testing::{FakeProvider, Reply, openai::ChatCompletion};
use instructor::schema::{Dialect, rendered};
use instructor::{Error, Mode};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};

#[derive(Debug, Clone, PartialEq, Deserialize, Extract)]
struct User {
    name: String,
    #[garde(range(max = 150))]
    age: u8,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Extract)]
#[extract(strict)]
struct Order {
    id: u32,
    items: Vec<String>,
}

const KEY: &str = "sk-overhead-0123456789";

fn client(server: &FakeProvider) -> Client {
    let provider = OpenAi::new(OpenAiConfig::new(server.base_url()).with_api_key(KEY));
    Client::new(provider).with_model("gpt-4o-mini")
}

fn user_reply(arguments: &str) -> Reply {
    ChatCompletion::tool_call("User", arguments).reply()
}

/// The JSON bodies the server received, in order.
fn bodies(server: &FakeProvider) -> Vec<Value> {
    server
        .requests()
        .iter()
        .map(|request| request.json().cloned().unwrap_or(Value::Null))
        .collect()
}

#[tokio::test]
async fn the_cached_schema_is_the_schema_rendered_anew_in_every_mode() {
    let server = FakeProvider::start().await;
    let client = client(&server);
    let modes = [
        (Mode::Tools, Dialect::AnthropicTool),
        (Mode::ToolsStrict, Dialect::OpenAiStrict),
        (Mode::JsonSchema, Dialect::OpenAiStrict),
    ];
    for (mode, dialect) in modes {
        for _ in 0..2 {
            let reply = match mode {
                Mode::JsonSchema => ChatCompletion::content(r#"{"id": 7, "items": ["a"]}"#).reply(),
                _ => ChatCompletion::tool_call("Order", r#"{"id": 7, "items": ["a"]}"#).reply(),
            };
            server.push(reply);
            let order = client
                .extract::<Order>()
                .mode(mode)
                .user("order 7: a")
                .await
                .unwrap_or_else(|e| panic!("{mode:?}: {e}"));
            assert_eq!(order.items, ["a"]);
        }
        let expected = Order::root_schema()
            .render(dialect)
            .unwrap_or_else(|e| panic!("{e}"));
        let bodies = bodies(&server);
        let sent: Vec<&Value> = bodies
            .iter()
            .rev()
            .take(2)
            .map(|body| match mode {
                Mode::JsonSchema => &body["response_format"]["json_schema"]["schema"],
                _ => &body["tools"][0]["function"]["parameters"],
            })
            .collect();
        assert_eq!(sent, [&expected, &expected], "{mode:?}");
    }
    // The same shared rendering every time.
    let first =
        rendered(&Order::root_schema(), Dialect::OpenAiStrict).unwrap_or_else(|e| panic!("{e}"));
    let again =
        rendered(&Order::root_schema(), Dialect::OpenAiStrict).unwrap_or_else(|e| panic!("{e}"));
    assert!(Arc::ptr_eq(&first, &again));
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

#[tokio::test]
async fn parallel_tools_send_the_same_tools_every_time() {
    let server = FakeProvider::start().await;
    let client = client(&server);
    for _ in 0..3 {
        server.push(
            ChatCompletion::tool_call("Weather", r#"{"city": "Paris"}"#)
                .and_tool_call("Search", r#"{"query": "museums"}"#)
                .reply(),
        );
        let actions = client
            .extract::<Vec<Action>>()
            .mode(Mode::ParallelTools)
            .user("Weather in Paris, and museums")
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(actions.len(), 2);
    }
    let bodies = bodies(&server);
    let tools: Vec<&Value> = bodies.iter().map(|body| &body["tools"]).collect();
    assert_eq!(tools[0], tools[1]);
    assert_eq!(tools[1], tools[2]);
    let weather = Weather::root_schema()
        .render(Dialect::AnthropicTool)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(tools[0][0]["function"]["name"], "Weather");
    assert_eq!(tools[0][0]["function"]["parameters"], weather);
}

#[tokio::test]
async fn the_prompted_modes_carry_the_indented_schema() {
    let server = FakeProvider::start().await;
    server.push(ChatCompletion::content("```json\n{\"name\": \"Ann\", \"age\": 30}\n```").reply());
    let user = client(&server)
        .extract::<User>()
        .mode(Mode::MdJson)
        .user("Ann is 30")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(user.name, "Ann");
    let body = &bodies(&server)[0];
    let system = body["messages"][0]["content"].as_str().unwrap_or_default();
    let schema = User::root_schema()
        .render(Dialect::JsonSchema)
        .unwrap_or_else(|e| panic!("{e}"));
    let pretty = serde_json::to_string_pretty(&schema).unwrap_or_default();
    assert!(system.ends_with(&pretty), "{system}");
}

#[tokio::test]
async fn await_and_with_completion_read_the_same_answer() {
    let server = FakeProvider::start().await;
    let client = client(&server);
    let answer = r#"{"name": "Jason", "age": 25}"#;
    server.push(user_reply(answer));
    server.push(user_reply(answer));
    let value = client
        .extract::<User>()
        .user("Jason is 25")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let done = client
        .extract::<User>()
        .user("Jason is 25")
        .with_completion()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(value, done.value);
    assert_eq!(
        done.response.raw["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"],
        answer
    );
    assert_eq!(done.ledger.attempts[0].raw_output.as_deref(), Some(answer));
}

#[tokio::test]
async fn hooks_see_the_raw_body_even_when_only_the_value_is_returned() {
    let server = FakeProvider::start().await;
    server.push(user_reply(r#"{"name": "Jason", "age": 25}"#));
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = seen.clone();
    let hooks = Hooks::new().on(move |event| {
        if let HookEvent::Response { response, .. } = event
            && let Ok(mut seen) = sink.lock()
        {
            seen.push(response.raw.clone());
        }
    });
    let user = client(&server)
        .extract::<User>()
        .hooks(hooks)
        .user("Jason is 25")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(user.age, 25);
    let seen = seen.lock().map(|seen| seen.clone()).unwrap_or_default();
    assert_eq!(seen.len(), 1);
    assert!(seen[0]["choices"].is_array(), "{:?}", seen[0]);
}

#[tokio::test]
async fn invalid_and_unreadable_answers_fail_the_same_way_with_or_without_the_raw_body() {
    // A value that breaks a rule, then one that is not a User, then a body that is no
    // chat completion: the same errors whichever way the answer is awaited.
    let replies = || {
        [
            user_reply(r#"{"name": "Old", "age": 200}"#),
            user_reply(r#"{"name": 5}"#),
            Reply::json(200, json!({"choices": "none"})),
        ]
    };
    let server = FakeProvider::start().await;
    let client = client(&server).with_max_retries(0);
    for (lean, kept) in replies().into_iter().zip(replies()) {
        server.push(lean);
        let lean = client.extract::<User>().user("who?").await.map(|_| ());
        server.push(kept);
        let kept = client
            .extract::<User>()
            .user("who?")
            .with_completion()
            .await
            .map(|_| ());
        let (Err(lean), Err(kept)) = (lean, kept) else {
            panic!("both fail");
        };
        assert_eq!(lean.to_string(), kept.to_string());
        assert!(
            matches!(
                (&lean, &kept),
                (Error::Validation { .. }, Error::Validation { .. })
                    | (Error::Parse { .. }, Error::Parse { .. })
                    | (Error::Provider { .. }, Error::Provider { .. })
            ),
            "{lean:?} / {kept:?}"
        );
    }
}

#[tokio::test]
async fn a_key_echoed_in_the_answer_is_removed_without_the_raw_body_too() {
    let server = FakeProvider::start().await;
    let echoed = format!(r#"{{"name": "{KEY}", "age": 25}}"#);
    server.push(user_reply(&echoed));
    let user = client(&server)
        .extract::<User>()
        .user("who?")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(user.name, "[redacted]");
}

#[tokio::test]
async fn a_body_larger_than_the_limit_is_refused_whether_its_length_is_announced_or_not() {
    let server = FakeProvider::start().await;
    let provider = OpenAi::new(
        OpenAiConfig::new(server.base_url())
            .with_api_key(KEY)
            .with_max_response_bytes(256),
    );
    let client = Client::new(provider)
        .with_model("gpt-4o-mini")
        .with_max_retries(0);
    let long = "x".repeat(400);
    let body = json!({"choices": [{"index": 0, "message": {"content": long}}]});
    // With a Content-Length, then chunked (no length announced).
    server.push(Reply::json(200, body.clone()));
    let bytes = serde_json::to_vec(&body).unwrap_or_default();
    server.push(Reply::chunked(200, bytes.chunks(50).map(<[u8]>::to_vec)));
    for _ in 0..2 {
        let error = client
            .extract::<User>()
            .mode(Mode::Json)
            .user("who?")
            .await
            .map(|_| ())
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            error.contains("larger than the limit of 256 bytes"),
            "{error}"
        );
    }
}
