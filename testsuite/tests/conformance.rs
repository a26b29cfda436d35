//! One conformance suite, run against each provider's fake speaking that provider's
//! wire (OpenAI Chat Completions, Anthropic Messages, Gemini, Cohere v2, OpenAI
//! Responses, Bedrock Converse with every request's signature checked), over real
//! HTTP: create, with completion, partial, iterable, parallel
//! tools (whole and streamed, end to end), re-ask, truncation, refusal, rate limit,
//! overload, a mid-stream error, text and an image. The same extraction code runs on
//! every provider; only the client and the fake's answers (built by the
//! `testing::<provider>` builders in the provider's own format) change.
//!
//! Each provider's specifics (its request bodies against its published description,
//! recorded real streams replayed) are tested beside its wire in
//! `instructor-providers/tests/*_wire.rs`; this suite checks that the behaviour a user
//! sees is the same everywhere.

use futures_util::StreamExt;
use instructor::chat::ProviderError;
use instructor::client::{PartialUpdate, RetryPolicy};
use instructor::prelude::*;
use instructor::providers::anthropic::{Anthropic, AnthropicConfig};
use instructor::providers::bedrock;
use instructor::providers::cohere::{Cohere, CohereConfig};
use instructor::providers::gemini::{Gemini, GeminiConfig};
use instructor::providers::openai::{OpenAi, OpenAiConfig};
use instructor::providers::responses::{OpenAiResponses, ResponsesConfig};
use instructor::providers::testing::{
    FakeProvider, Reply, anthropic, bedrock as fake_bedrock, cohere, gemini, openai, responses,
};
use instructor::{Error, Image};
use serde_json::{Value, json};
use std::time::Duration;

/// A user named in the text.
#[derive(Debug, Clone, PartialEq, Deserialize, Extract)]
struct User {
    name: String,
    age: u8,
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

/// One of the tools the model may call, several times in one answer.
#[derive(Debug, Clone, PartialEq, Deserialize, Extract)]
enum Action {
    Weather(Weather),
    Search(Search),
}

const ADA: &str = r#"{"name": "Ada", "age": 36}"#;
const GRACE: [&str; 4] = [r#"{"name": "Gr"#, r#"ace", "#, r#""age": 8"#, "5}"];
const LIST: [&str; 2] = [
    r#"{"value": [{"name": "Ada", "age": 36}, "#,
    r#"{"name": "Grace", "age": 85}]}"#,
];
const CALLS: [(&str, &str); 3] = [
    ("Weather", r#"{"city": "Paris"}"#),
    ("Search", r#"{"query": "Paris museums"}"#),
    ("Weather", r#"{"city": "Lyon"}"#),
];
/// A one-pixel PNG.
const PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4,
    0x89, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0xf8, 0xff, 0xff, 0x3f,
    0x00, 0x05, 0xfe, 0x02, 0xfe, 0xa7, 0x35, 0x81, 0x84, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e,
    0x44, 0xae, 0x42, 0x60, 0x82,
];

/// A refusal answer, and whether an error is the one it gives.
type Refusal = (Reply, fn(&Error) -> bool);

/// A provider's fake, as the suite drives it: its client and its answers in its own
/// wire format.
trait Wire {
    /// The provider's name, as the ledger shows it.
    const NAME: &'static str;
    /// A client of the provider's fake `server`.
    fn client(server: &FakeProvider) -> Client;
    /// A forced call of tool `name` with the arguments `json`, whole.
    fn tool(name: &str, json: &str) -> Reply;
    /// The same, streamed in `fragments`.
    fn tool_stream(name: &str, fragments: &[&str]) -> Reply;
    /// Several calls in one answer, whole or streamed.
    fn tools(calls: &[(&str, &str)], streamed: bool) -> Reply;
    /// A text answer, whole.
    fn text(text: &str) -> Reply;
    /// A text answer, streamed in `fragments`.
    fn text_stream(fragments: &[&str]) -> Reply;
    /// A call cut at the token limit, whole and streamed.
    fn truncated(name: &str, partial: &str) -> [Reply; 2];
    /// The provider's refusal (or safety stop), if it has one, and whether an error is
    /// the one it gives.
    fn refusal() -> Option<Refusal>;
    /// A rate-limit answer (retried).
    fn rate_limited() -> Reply;
    /// An overload answer (retried).
    fn overloaded() -> Reply;
    /// A stream of a call to `name` that breaks with an error event after its first
    /// fragment, and whether that error is one worth retrying.
    fn broken_stream(name: &str, first: &str) -> (Reply, bool);
}

fn fast(client: Client) -> Client {
    client.with_retry_policy(RetryPolicy {
        initial_delay: Duration::from_millis(2),
        ..RetryPolicy::default()
    })
}

/// An SSE stream of `events` with `error` in place of everything after the first two.
fn broken(events: Vec<String>, error: String) -> Reply {
    let mut events: Vec<String> = events.into_iter().take(2).collect();
    events.push(error);
    Reply::sse(events)
}

struct OpenAiWire;

impl Wire for OpenAiWire {
    const NAME: &'static str = "openai";

    fn client(server: &FakeProvider) -> Client {
        fast(
            Client::new(OpenAi::new(OpenAiConfig::new(server.base_url())))
                .with_model("gpt-4o-mini"),
        )
    }
    fn tool(name: &str, json: &str) -> Reply {
        openai::ChatCompletion::tool_call(name, json).reply()
    }
    fn tool_stream(name: &str, fragments: &[&str]) -> Reply {
        openai::ChatCompletion::tool_call_fragments(name, fragments.iter().copied()).sse_reply()
    }
    fn tools(calls: &[(&str, &str)], streamed: bool) -> Reply {
        let mut answer = openai::ChatCompletion::tool_call(calls[0].0, calls[0].1);
        for (name, json) in &calls[1..] {
            answer = answer.and_tool_call(*name, *json);
        }
        if streamed {
            answer.sse_reply()
        } else {
            answer.reply()
        }
    }
    fn text(text: &str) -> Reply {
        openai::ChatCompletion::content(text).reply()
    }
    fn text_stream(fragments: &[&str]) -> Reply {
        openai::ChatCompletion::content_fragments(fragments.iter().copied()).sse_reply()
    }
    fn truncated(name: &str, partial: &str) -> [Reply; 2] {
        let cut = openai::ChatCompletion::tool_call(name, partial).finish_reason("length");
        [cut.reply(), cut.sse_reply()]
    }
    fn refusal() -> Option<Refusal> {
        let mut body = openai::ChatCompletion::content("").to_json();
        body["choices"][0]["message"]["content"] = Value::Null;
        body["choices"][0]["message"]["refusal"] = json!("I can't help with that.");
        Some((Reply::json(200, body), |e| {
            matches!(e, Error::Refusal { .. })
        }))
    }
    fn rate_limited() -> Reply {
        Reply::json(
            429,
            openai::error_body(
                "Rate limit reached",
                "requests",
                Some("rate_limit_exceeded"),
            ),
        )
        .header("retry-after-ms", "5")
    }
    fn overloaded() -> Reply {
        Reply::status(503)
    }
    fn broken_stream(name: &str, first: &str) -> (Reply, bool) {
        let events =
            openai::ChatCompletion::tool_call_fragments(name, [first, "}"]).to_sse_events();
        let error = r#"{"error": {"message": "The server had an error", "type": "server_error"}}"#;
        (broken(events, format!("data: {error}\n\n")), true)
    }
}

struct AnthropicWire;

impl Wire for AnthropicWire {
    const NAME: &'static str = "anthropic";

    fn client(server: &FakeProvider) -> Client {
        fast(
            Client::new(Anthropic::new(AnthropicConfig::new(server.base_url())))
                .with_model("claude-haiku-4-5"),
        )
    }
    fn tool(name: &str, json: &str) -> Reply {
        anthropic::Message::tool_use(name, json).reply()
    }
    fn tool_stream(name: &str, fragments: &[&str]) -> Reply {
        anthropic::Message::tool_use_fragments(name, fragments.iter().copied()).sse_reply()
    }
    fn tools(calls: &[(&str, &str)], streamed: bool) -> Reply {
        let mut answer = anthropic::Message::tool_use(calls[0].0, calls[0].1);
        for (name, json) in &calls[1..] {
            answer = answer.and_tool_use(*name, *json);
        }
        if streamed {
            answer.sse_reply()
        } else {
            answer.reply()
        }
    }
    fn text(text: &str) -> Reply {
        anthropic::Message::text(text).reply()
    }
    fn text_stream(fragments: &[&str]) -> Reply {
        anthropic::Message::text_fragments(fragments.iter().copied()).sse_reply()
    }
    fn truncated(name: &str, partial: &str) -> [Reply; 2] {
        let cut = anthropic::Message::tool_use(name, partial).stop_reason("max_tokens");
        [cut.reply(), cut.sse_reply()]
    }
    fn refusal() -> Option<Refusal> {
        let refused = anthropic::Message::text("I can't help with that.").stop_reason("refusal");
        Some((refused.reply(), |e| matches!(e, Error::Refusal { .. })))
    }
    fn rate_limited() -> Reply {
        Reply::json(
            429,
            anthropic::error_body("rate_limit_error", "Rate limited"),
        )
        .header("retry-after", "0")
    }
    fn overloaded() -> Reply {
        Reply::json(529, anthropic::error_body("overloaded_error", "Overloaded"))
    }
    fn broken_stream(name: &str, first: &str) -> (Reply, bool) {
        let events = anthropic::Message::tool_use_fragments(name, [first, "}"]).to_sse_events();
        let events: Vec<String> = events.into_iter().take(3).collect();
        (
            broken(
                events.clone(),
                anthropic::error_event("overloaded_error", "Overloaded"),
            ),
            true,
        )
    }
}

struct GeminiWire;

impl Wire for GeminiWire {
    const NAME: &'static str = "gemini";

    fn client(server: &FakeProvider) -> Client {
        fast(
            Client::new(Gemini::new(GeminiConfig::new(server.base_url())))
                .with_model("gemini-2.5-flash"),
        )
    }
    fn tool(name: &str, json: &str) -> Reply {
        gemini::GenerateContent::function_call(name, json).reply()
    }
    /// Gemini streams a call's arguments whole, as one part: the fragments joined.
    fn tool_stream(name: &str, fragments: &[&str]) -> Reply {
        gemini::GenerateContent::function_call(name, fragments.concat()).sse_reply()
    }
    fn tools(calls: &[(&str, &str)], streamed: bool) -> Reply {
        let mut answer = gemini::GenerateContent::function_call(calls[0].0, calls[0].1);
        for (name, json) in &calls[1..] {
            answer = answer.and_function_call(*name, *json);
        }
        if streamed {
            answer.sse_reply()
        } else {
            answer.reply()
        }
    }
    fn text(text: &str) -> Reply {
        gemini::GenerateContent::text(text).reply()
    }
    fn text_stream(fragments: &[&str]) -> Reply {
        gemini::GenerateContent::text_fragments(fragments.iter().copied()).sse_reply()
    }
    /// A call cut at the limit: Gemini sends what it has of the text with `MAX_TOKENS`
    /// (a function call arrives whole or not at all).
    fn truncated(_name: &str, partial: &str) -> [Reply; 2] {
        let cut = gemini::GenerateContent::text(partial).finish_reason("MAX_TOKENS");
        [cut.reply(), cut.sse_reply()]
    }
    fn refusal() -> Option<Refusal> {
        let stopped = gemini::GenerateContent::text("").finish_reason("SAFETY");
        Some((stopped.reply(), |e| {
            matches!(e, Error::ContentFilter { .. })
        }))
    }
    fn rate_limited() -> Reply {
        Reply::json(
            429,
            gemini::error_body(429, "Quota exceeded", "RESOURCE_EXHAUSTED"),
        )
    }
    fn overloaded() -> Reply {
        Reply::json(
            503,
            gemini::error_body(503, "The model is overloaded.", "UNAVAILABLE"),
        )
    }
    fn broken_stream(_name: &str, first: &str) -> (Reply, bool) {
        let events = gemini::GenerateContent::text_fragments([first, "}"]).to_sse_events();
        let error = json!({"error": {"code": 503, "message": "The model is overloaded.", "status": "UNAVAILABLE"}});
        (broken(events, format!("data: {error}\n\n")), true)
    }
}

struct CohereWire;

impl Wire for CohereWire {
    const NAME: &'static str = "cohere";

    fn client(server: &FakeProvider) -> Client {
        fast(
            Client::new(Cohere::new(CohereConfig::new(server.base_url())))
                .with_model("command-a-03-2025"),
        )
    }
    fn tool(name: &str, json: &str) -> Reply {
        cohere::Chat::tool_call(name, json).reply()
    }
    fn tool_stream(name: &str, fragments: &[&str]) -> Reply {
        cohere::Chat::tool_call_fragments(name, fragments.iter().copied()).sse_reply()
    }
    fn tools(calls: &[(&str, &str)], streamed: bool) -> Reply {
        let mut answer = cohere::Chat::tool_call(calls[0].0, calls[0].1);
        for (name, json) in &calls[1..] {
            answer = answer.and_tool_call(*name, *json);
        }
        if streamed {
            answer.sse_reply()
        } else {
            answer.reply()
        }
    }
    fn text(text: &str) -> Reply {
        cohere::Chat::text(text).reply()
    }
    fn text_stream(fragments: &[&str]) -> Reply {
        cohere::Chat::text_fragments(fragments.iter().copied()).sse_reply()
    }
    fn truncated(name: &str, partial: &str) -> [Reply; 2] {
        let cut = cohere::Chat::tool_call(name, partial).finish_reason("MAX_TOKENS");
        [cut.reply(), cut.sse_reply()]
    }
    /// Cohere's v2 chat has no refusal or safety stop in its answers.
    fn refusal() -> Option<Refusal> {
        None
    }
    fn rate_limited() -> Reply {
        Reply::json(429, cohere::error_body("You are using a Trial key")).header("retry-after", "0")
    }
    fn overloaded() -> Reply {
        Reply::json(503, cohere::error_body("Service unavailable"))
    }
    /// Cohere reports a failure in `message-end`'s `error`, with no type: not retried
    /// (it could be anything), a typed error instead.
    fn broken_stream(name: &str, first: &str) -> (Reply, bool) {
        let events = cohere::Chat::tool_call_fragments(name, [first, "}"]).to_sse_events();
        let events: Vec<String> = events.into_iter().take(3).collect();
        let error = json!({"type": "message-end", "delta": {"error": "internal failure"}});
        (
            broken(events, format!("event: message-end\ndata: {error}\n\n")),
            false,
        )
    }
}

struct ResponsesWire;

impl Wire for ResponsesWire {
    const NAME: &'static str = "openai_responses";

    fn client(server: &FakeProvider) -> Client {
        fast(
            Client::new(OpenAiResponses::new(ResponsesConfig::new(
                server.base_url(),
            )))
            .with_model("gpt-4.1-mini"),
        )
    }
    fn tool(name: &str, json: &str) -> Reply {
        responses::Response::function_call(name, json).reply()
    }
    fn tool_stream(name: &str, fragments: &[&str]) -> Reply {
        responses::Response::function_call_fragments(name, fragments.iter().copied()).sse_reply()
    }
    fn tools(calls: &[(&str, &str)], streamed: bool) -> Reply {
        let mut answer = responses::Response::function_call(calls[0].0, calls[0].1);
        for (name, json) in &calls[1..] {
            answer = answer.and_function_call(*name, *json);
        }
        if streamed {
            answer.sse_reply()
        } else {
            answer.reply()
        }
    }
    fn text(text: &str) -> Reply {
        responses::Response::text(text).reply()
    }
    fn text_stream(fragments: &[&str]) -> Reply {
        responses::Response::text_fragments(fragments.iter().copied()).sse_reply()
    }
    fn truncated(name: &str, partial: &str) -> [Reply; 2] {
        let cut = responses::Response::function_call(name, partial).incomplete("max_output_tokens");
        [cut.reply(), cut.sse_reply()]
    }
    fn refusal() -> Option<Refusal> {
        let refused = responses::Response::refusal("I can't help with that.");
        Some((refused.reply(), |e| matches!(e, Error::Refusal { .. })))
    }
    fn rate_limited() -> Reply {
        Reply::json(
            429,
            openai::error_body(
                "Rate limit reached",
                "requests",
                Some("rate_limit_exceeded"),
            ),
        )
        .header("retry-after-ms", "5")
    }
    fn overloaded() -> Reply {
        Reply::status(503)
    }
    fn broken_stream(name: &str, first: &str) -> (Reply, bool) {
        let events =
            responses::Response::function_call_fragments(name, [first, "}"]).to_sse_events();
        let events: Vec<String> = events.into_iter().take(3).collect();
        let error =
            json!({"type": "error", "code": "server_error", "message": "The server had an error"});
        (
            broken(events, format!("event: error\ndata: {error}\n\n")),
            true,
        )
    }
}

struct BedrockWire;

/// The fake checks every request's SigV4 signature against these.
fn aws() -> bedrock::AwsCredentials {
    bedrock::AwsCredentials::new("AKIDEXAMPLE", "conformance-secret-key")
}

impl Wire for BedrockWire {
    const NAME: &'static str = "bedrock";

    fn client(server: &FakeProvider) -> Client {
        fake_bedrock::require_signature(server, &aws(), "us-east-1");
        let config = bedrock::BedrockConfig::new("us-east-1", aws()).with_base_url(server.origin());
        fast(Client::new(bedrock::Bedrock::new(config)).with_model(fake_bedrock::DEFAULT_MODEL))
    }
    fn tool(name: &str, json: &str) -> Reply {
        fake_bedrock::Converse::tool_use(name, json).reply()
    }
    fn tool_stream(name: &str, fragments: &[&str]) -> Reply {
        fake_bedrock::Converse::tool_use_fragments(name, fragments.iter().copied()).stream_reply()
    }
    fn tools(calls: &[(&str, &str)], streamed: bool) -> Reply {
        let mut answer = fake_bedrock::Converse::tool_use(calls[0].0, calls[0].1);
        for (name, json) in &calls[1..] {
            answer = answer.and_tool_use(*name, *json);
        }
        if streamed {
            answer.stream_reply()
        } else {
            answer.reply()
        }
    }
    fn text(text: &str) -> Reply {
        fake_bedrock::Converse::text(text).reply()
    }
    fn text_stream(fragments: &[&str]) -> Reply {
        fake_bedrock::Converse::text_fragments(fragments.iter().copied()).stream_reply()
    }
    fn truncated(name: &str, partial: &str) -> [Reply; 2] {
        let cut = fake_bedrock::Converse::tool_use(name, partial).stop_reason("max_tokens");
        [cut.reply(), cut.stream_reply()]
    }
    fn refusal() -> Option<Refusal> {
        let stopped = fake_bedrock::Converse::text("Sorry.").stop_reason("guardrail_intervened");
        Some((stopped.reply(), |e| matches!(e, Error::Refusal { .. })))
    }
    fn rate_limited() -> Reply {
        fake_bedrock::error_reply(429, "ThrottlingException", "Rate exceeded")
    }
    fn overloaded() -> Reply {
        fake_bedrock::error_reply(503, "ServiceUnavailableException", "Service unavailable")
    }
    fn broken_stream(name: &str, first: &str) -> (Reply, bool) {
        let frames = fake_bedrock::Converse::tool_use_fragments(name, [first, "}"]).to_frames();
        let mut frames: Vec<Vec<u8>> = frames.into_iter().take(3).collect();
        frames.push(fake_bedrock::exception_frame(
            "throttlingException",
            "Too many requests",
        ));
        (fake_bedrock::stream_reply(frames), true)
    }
}

/// The JSON bodies the fake received, in order.
fn bodies(server: &FakeProvider) -> Vec<Value> {
    server
        .requests()
        .iter()
        .map(|request| request.json().cloned().expect("a JSON body"))
        .collect()
}

async fn create<W: Wire>() {
    let server = FakeProvider::start().await;
    server.push(W::tool("User", ADA));
    let client = W::client(&server);
    let user = client
        .extract::<User>()
        .system("Extract the user.")
        .user("Ada is 36.")
        .await
        .expect("a user");
    assert_eq!(
        user,
        User {
            name: "Ada".into(),
            age: 36
        }
    );
    let sent = bodies(&server)[0].to_string();
    for expected in ["Extract the user.", "Ada is 36.", "\"User\"", "\"age\""] {
        assert!(sent.contains(expected), "{}: {expected} in {sent}", W::NAME);
    }
}

async fn with_completion<W: Wire>() {
    let server = FakeProvider::start().await;
    server.push(W::tool("User", ADA));
    let client = W::client(&server);
    let done = client
        .extract::<User>()
        .user("Ada is 36.")
        .with_completion()
        .await
        .expect("a completion");
    assert_eq!(done.value.age, 36);
    let usage = done.response.usage.expect("usage reported");
    assert!(usage.total() > 0, "{}: {usage:?}", W::NAME);
    assert_eq!(done.ledger.attempts.len(), 1);
    let attempt = &done.ledger.attempts[0];
    assert_eq!(attempt.provider, W::NAME);
    assert_eq!(attempt.usage, Some(usage));
    assert!(attempt.error.is_none());
    assert_eq!(done.ledger.total_usage, usage);
}

async fn partial<W: Wire>() {
    let server = FakeProvider::start().await;
    server.push(W::tool_stream("User", &GRACE));
    let client = W::client(&server);
    let mut updates = client.extract::<User>().user("Grace is 85.").partial();
    let mut done = None;
    let mut shown = 0;
    while let Some(update) = updates.next().await {
        match update.unwrap_or_else(|e| panic!("{}: {e}", W::NAME)) {
            PartialUpdate::Partial(partial) => {
                shown += 1;
                if let Some(name) = &partial.name {
                    assert!("Grace".starts_with(name.as_str()), "{}: {name}", W::NAME);
                }
                // A number appears only whole.
                assert!(
                    partial.age.is_none() || partial.age == Some(85),
                    "{partial:?}"
                );
            }
            PartialUpdate::Done(completion) => done = Some(completion.value),
            other => panic!("{}: {other:?}", W::NAME),
        }
    }
    assert!(shown > 0, "{}: no partial shown", W::NAME);
    assert_eq!(
        done,
        Some(User {
            name: "Grace".into(),
            age: 85
        }),
        "{}",
        W::NAME
    );
    assert!(
        bodies(&server)[0].to_string().contains("Grace is 85."),
        "{}",
        W::NAME
    );
}

async fn iterable<W: Wire>() {
    let server = FakeProvider::start().await;
    server.push(W::tool_stream("User_list", &LIST));
    server.push(W::tool("User_list", &LIST.concat()));
    let client = W::client(&server);
    let mut items = client.extract::<User>().user("Ada and Grace.").iter();
    let mut names = Vec::new();
    while let Some(user) = items.next().await {
        names.push(user.unwrap_or_else(|e| panic!("{}: {e}", W::NAME)).name);
    }
    assert_eq!(names, ["Ada", "Grace"], "{}", W::NAME);
    // The same answer whole: the same list.
    let users = client
        .extract::<Vec<User>>()
        .user("Ada and Grace.")
        .await
        .unwrap_or_else(|e| panic!("{}: {e}", W::NAME));
    let whole: Vec<String> = users.into_iter().map(|user| user.name).collect();
    assert_eq!(whole, names, "{}", W::NAME);
}

async fn parallel<W: Wire>() {
    let server = FakeProvider::start().await;
    server.push(W::tools(&CALLS, false));
    server.push(W::tools(&CALLS, true));
    let client = W::client(&server);
    let expected = [
        Action::Weather(Weather {
            city: "Paris".into(),
        }),
        Action::Search(Search {
            query: "Paris museums".into(),
        }),
        Action::Weather(Weather {
            city: "Lyon".into(),
        }),
    ];
    let actions = client
        .extract::<Vec<Action>>()
        .mode(Mode::ParallelTools)
        .user("Weather in Paris and Lyon, and museums in Paris")
        .await
        .unwrap_or_else(|e| panic!("{}: {e}", W::NAME));
    assert_eq!(actions, expected, "{}", W::NAME);
    // Streamed: one item per call, each as soon as it is complete.
    let mut items = client
        .extract::<Action>()
        .mode(Mode::ParallelTools)
        .user("Weather in Paris and Lyon, and museums in Paris")
        .iter();
    let mut streamed = Vec::new();
    while let Some(item) = items.next().await {
        streamed.push(item.unwrap_or_else(|e| panic!("{}: {e}", W::NAME)));
    }
    assert_eq!(streamed, expected, "{}", W::NAME);
    // Both tools were offered, in the provider's words.
    let sent = bodies(&server)[0].to_string();
    assert!(
        sent.contains("\"Weather\"") && sent.contains("\"Search\""),
        "{}: {sent}",
        W::NAME
    );
}

async fn reask<W: Wire>() {
    let server = FakeProvider::start().await;
    server.push(W::tool("User", r#"{"name": "Ada", "age": "old"}"#));
    server.push(W::tool("User", ADA));
    let client = W::client(&server);
    let done = client
        .extract::<User>()
        .user("Ada is 36.")
        .max_retries(1)
        .with_completion()
        .await
        .unwrap_or_else(|e| panic!("{}: {e}", W::NAME));
    assert_eq!(done.value.age, 36);
    assert_eq!(done.ledger.attempts.len(), 2);
    assert!(
        done.ledger.attempts[0]
            .error
            .as_deref()
            .is_some_and(|e| e.contains("age")),
        "{}: {:?}",
        W::NAME,
        done.ledger.attempts[0]
    );
    let sent = bodies(&server);
    assert_eq!(sent.len(), 2);
    // The second request carries the failed answer and what was wrong with it.
    let second = sent[1].to_string();
    assert!(second.contains("old"), "{}: {second}", W::NAME);
    assert!(
        second.contains("Your previous answer was not valid"),
        "{}: {second}",
        W::NAME
    );
    assert!(second.len() > sent[0].to_string().len());
}

async fn truncation<W: Wire>() {
    let server = FakeProvider::start().await;
    let [whole, streamed] = W::truncated("User", r#"{"name": "Ad"#);
    server.push(whole);
    server.push(streamed);
    let client = W::client(&server);
    let error = client
        .extract::<User>()
        .user("Ada is 36.")
        .await
        .expect_err("cut");
    assert!(
        matches!(error, Error::Truncated { .. }),
        "{}: {error:?}",
        W::NAME
    );
    let mut updates = client.extract::<User>().user("Ada is 36.").partial();
    let mut last = None;
    while let Some(update) = updates.next().await {
        last = Some(update);
    }
    assert!(
        matches!(last, Some(Err(Error::Truncated { .. }))),
        "{}: {last:?}",
        W::NAME
    );
    // Not re-asked: the answer would be cut again.
    assert_eq!(server.requests().len(), 2);
}

async fn refusal<W: Wire>() {
    let Some((refused, is_it)) = W::refusal() else {
        return;
    };
    let server = FakeProvider::start().await;
    server.push(refused);
    let client = W::client(&server);
    let error = client
        .extract::<User>()
        .user("Ada is 36.")
        .await
        .expect_err("refused");
    assert!(is_it(&error), "{}: {error:?}", W::NAME);
    assert_eq!(server.requests().len(), 1, "a refusal is not re-asked");
}

async fn rate_limit_and_overload<W: Wire>() {
    let server = FakeProvider::start().await;
    server.push(W::rate_limited());
    server.push(W::overloaded());
    server.push(W::tool("User", ADA));
    let client = W::client(&server);
    let done = client
        .extract::<User>()
        .user("Ada is 36.")
        .with_completion()
        .await
        .unwrap_or_else(|e| panic!("{}: {e}", W::NAME));
    assert_eq!(done.value.age, 36);
    assert_eq!(done.ledger.attempts.len(), 1, "retries are not attempts");
    assert_eq!(done.ledger.attempts[0].transport_retries, 2, "{}", W::NAME);

    // Without retries left, the status is the error.
    server.push(W::rate_limited());
    let error = client
        .with_retry_policy(RetryPolicy::none())
        .extract::<User>()
        .user("Ada is 36.")
        .await
        .expect_err("rate limited");
    match &error {
        Error::Provider { error, .. } => assert!(
            matches!(**error, ProviderError::Status { status: 429, .. }),
            "{}: {error:?}",
            W::NAME
        ),
        other => panic!("{}: {other:?}", W::NAME),
    }
}

async fn mid_stream_error<W: Wire>() {
    let server = FakeProvider::start().await;
    let (broken, retried) = W::broken_stream("User", r#"{"name": "Ada", "age": 36"#);
    server.push(broken);
    server.push(W::tool_stream(
        "User",
        &[r#"{"name": "Ada", "#, r#""age": 36}"#],
    ));
    let client = W::client(&server);
    let mut updates = client.extract::<User>().user("Ada is 36.").partial();
    let mut last = None;
    while let Some(update) = updates.next().await {
        last = Some(update);
    }
    if retried {
        match last {
            Some(Ok(PartialUpdate::Done(done))) => {
                assert_eq!(done.value.age, 36);
                assert_eq!(done.ledger.attempts[0].transport_retries, 1);
            }
            other => panic!("{}: {other:?}", W::NAME),
        }
    } else {
        match last {
            Some(Err(Error::Provider { error, ledger })) => {
                assert!(
                    matches!(*error, ProviderError::Stream { .. }),
                    "{}: {error:?}",
                    W::NAME
                );
                assert_eq!(ledger.attempts.len(), 1);
            }
            other => panic!("{}: {other:?}", W::NAME),
        }
    }
}

async fn text<W: Wire>() {
    let server = FakeProvider::start().await;
    server.push(W::text("Riga is the capital."));
    server.push(W::text_stream(&["Riga", " is the capital."]));
    let client = W::client(&server);
    let (response, ledger) = client
        .text()
        .user("What's the capital of Latvia?")
        .max_tokens(20)
        .with_response()
        .await
        .unwrap_or_else(|e| panic!("{}: {e}", W::NAME));
    assert_eq!(response.text.as_deref(), Some("Riga is the capital."));
    assert_eq!(ledger.attempts[0].provider, W::NAME);
    let mut chunks = Vec::new();
    let mut stream = client.text().user("What's the capital of Latvia?").stream();
    while let Some(chunk) = stream.next().await {
        chunks.push(chunk.unwrap_or_else(|e| panic!("{}: {e}", W::NAME)));
    }
    assert_eq!(chunks.concat(), "Riga is the capital.", "{}", W::NAME);
    assert!(chunks.len() >= 2, "{}: {chunks:?}", W::NAME);
}

async fn image<W: Wire>() {
    use base64::Engine as _;
    let server = FakeProvider::start().await;
    server.push(W::tool("User", ADA));
    let client = W::client(&server);
    let user = client
        .extract::<User>()
        .user((
            "Who is on this badge?",
            Image::from_bytes(PNG).expect("png"),
        ))
        .await
        .unwrap_or_else(|e| panic!("{}: {e}", W::NAME));
    assert_eq!(user.name, "Ada");
    let sent = bodies(&server)[0].to_string();
    let data = base64::engine::general_purpose::STANDARD.encode(PNG);
    assert!(
        sent.contains(&data),
        "{}: the image's bytes in {sent}",
        W::NAME
    );
    assert!(
        sent.contains("image/png") || sent.contains(r#""format":"png""#),
        "{}: its type in {sent}",
        W::NAME
    );
}

macro_rules! conformance {
    ($($provider:ident => $wire:ty),* $(,)?) => {$(
        mod $provider {
            use super::*;

            #[tokio::test]
            async fn create() {
                super::create::<$wire>().await;
            }
            #[tokio::test]
            async fn with_completion() {
                super::with_completion::<$wire>().await;
            }
            #[tokio::test]
            async fn partial() {
                super::partial::<$wire>().await;
            }
            #[tokio::test]
            async fn iterable() {
                super::iterable::<$wire>().await;
            }
            #[tokio::test]
            async fn parallel() {
                super::parallel::<$wire>().await;
            }
            #[tokio::test]
            async fn reask() {
                super::reask::<$wire>().await;
            }
            #[tokio::test]
            async fn truncation() {
                super::truncation::<$wire>().await;
            }
            #[tokio::test]
            async fn refusal() {
                super::refusal::<$wire>().await;
            }
            #[tokio::test]
            async fn rate_limit_and_overload() {
                super::rate_limit_and_overload::<$wire>().await;
            }
            #[tokio::test]
            async fn mid_stream_error() {
                super::mid_stream_error::<$wire>().await;
            }
            #[tokio::test]
            async fn text() {
                super::text::<$wire>().await;
            }
            #[tokio::test]
            async fn image() {
                super::image::<$wire>().await;
            }
        }
    )*};
}

conformance! {
    openai_chat => OpenAiWire,
    anthropic_messages => AnthropicWire,
    gemini_api => GeminiWire,
    cohere_v2 => CohereWire,
    openai_responses => ResponsesWire,
    bedrock_converse => BedrockWire,
}
