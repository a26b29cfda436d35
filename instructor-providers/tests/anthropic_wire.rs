//! The Anthropic Messages wire: request bodies checked against Anthropic's published
//! description (`CreateMessageParams`, `required` lists kept), recorded answers and
//! streams (`testdata/recorded/anthropic/`) read into neutral responses and events,
//! and the faults (statuses, mid-stream errors, cut streams, keys) over real HTTP
//! against the fake provider.

mod common;

use common::person;

use futures::StreamExt;
use instructor_core::chat::{
    ChatRequest, ContentPart, FinishReason, Message, Mode, Provider, ProviderError, StreamEvent,
    ToolCall, ToolSpec, Usage,
};
use instructor_core::media::{CacheTtl, Document, Image, Parts, cached};
use instructor_providers::anthropic::{Anthropic, AnthropicConfig, Thinking};
use instructor_providers::testing::{FakeProvider, Reply, anthropic};
use serde_json::{Value, json};
use std::sync::OnceLock;

const KEY: &str = "sk-ant-secret-key-0123456789";

fn recorded(name: &str) -> Vec<u8> {
    common::recorded("anthropic", name)
}

fn spec() -> &'static Value {
    static SPEC: OnceLock<Value> = OnceLock::new();
    SPEC.get_or_init(|| common::load_spec("anthropic-messages-batches.openapi.json"))
}

/// Checks `body` against `CreateMessageParams`, required fields and all.
fn assert_valid_request(body: &Value) {
    let errors = request_errors(body);
    assert!(errors.is_empty(), "{errors:#?}\n{body:#}");
}

fn request_errors(body: &Value) -> Vec<String> {
    static VALIDATOR: OnceLock<jsonschema::Validator> = OnceLock::new();
    let validator = VALIDATOR.get_or_init(|| {
        common::openapi_validator(spec(), "#/components/schemas/CreateMessageParams", false)
    });
    common::schema_errors(validator, body)
}

#[test]
fn the_description_check_catches_what_the_api_would_refuse() {
    let mut body = claude().request_body(&request(Mode::Tools)).expect("tools");
    assert!(request_errors(&body).is_empty());
    body.as_object_mut().expect("object").remove("max_tokens");
    assert!(!request_errors(&body).is_empty(), "max_tokens is required");
    let mut body = claude().request_body(&request(Mode::Tools)).expect("tools");
    body["tool_choice"] = json!({"type": "function", "name": "Person"});
    assert!(
        !request_errors(&body).is_empty(),
        "OpenAI's tool_choice shape"
    );
    let mut body = claude().request_body(&request(Mode::Tools)).expect("tools");
    body["messages"][0]["role"] = json!("tool");
    assert!(
        !request_errors(&body).is_empty(),
        "no tool role in messages"
    );
}

fn request(mode: Mode) -> ChatRequest {
    common::person_request("claude-sonnet-4-5", mode)
}

fn claude() -> Anthropic {
    Anthropic::new(AnthropicConfig::new("http://127.0.0.1:9").with_api_key(KEY))
}

#[test]
fn every_mode_makes_a_request_the_description_accepts() {
    for mode in [
        Mode::Tools,
        Mode::ToolsStrict,
        Mode::JsonSchema,
        Mode::Json,
        Mode::MdJson,
        Mode::ParallelTools,
    ] {
        for streaming in [false, true] {
            let request = request(mode);
            let body = if streaming {
                claude().stream_request_body(&request)
            } else {
                claude().request_body(&request)
            }
            .unwrap_or_else(|e| panic!("{mode:?}: {e}"));
            assert_valid_request(&body);
            assert_eq!(
                body["system"],
                json!([{"type": "text", "text": "You extract people."}])
            );
            assert_eq!(body["messages"][0]["role"], "user");
            assert_eq!(body["max_tokens"], 4096);
            assert_eq!(body.get("stream") == Some(&json!(true)), streaming);
        }
    }
    let tools = claude().request_body(&request(Mode::Tools)).expect("tools");
    assert_eq!(
        tools["tool_choice"],
        json!({"type": "tool", "name": "Person", "disable_parallel_tool_use": true})
    );
    assert_eq!(tools["tools"][0]["name"], "Person");
    assert_eq!(tools["tools"][0]["description"], "A person");
    assert_eq!(tools["tools"][0]["input_schema"]["type"], "object");
    assert!(tools["tools"][0].get("strict").is_none());

    let strict = claude()
        .request_body(&request(Mode::ToolsStrict))
        .expect("strict");
    assert_eq!(strict["tools"][0]["strict"], true);
    assert_eq!(
        strict["tools"][0]["input_schema"]["additionalProperties"],
        false
    );

    let native = claude()
        .request_body(&request(Mode::JsonSchema))
        .expect("json schema");
    assert_eq!(native["output_config"]["format"]["type"], "json_schema");
    assert_eq!(
        native["output_config"]["format"]["schema"]["required"],
        json!(["name"])
    );
    assert!(native.get("tools").is_none() && native.get("tool_choice").is_none());

    let prompted = claude()
        .request_body(&request(Mode::MdJson))
        .expect("md json");
    assert!(prompted.get("tools").is_none() && prompted.get("output_config").is_none());

    let parallel = claude()
        .request_body(&request(Mode::ParallelTools))
        .expect("parallel");
    assert_eq!(parallel["tool_choice"], json!({"type": "any"}));
}

#[test]
fn parallel_tools_offer_one_tool_per_item_kind() {
    let mut request = request(Mode::ParallelTools);
    if let Some(output) = &mut request.output {
        output.tools = ["Weather", "Stock price"]
            .map(|name| ToolSpec {
                name: name.into(),
                description: None,
                schema: person(),
            })
            .into();
    }
    let body = claude().request_body(&request).expect("parallel");
    assert_valid_request(&body);
    let names: Vec<&str> = body["tools"]
        .as_array()
        .expect("tools")
        .iter()
        .filter_map(|tool| tool["name"].as_str())
        .collect();
    assert_eq!(names, ["Weather", "Stock_price"]);
}

#[test]
fn thinking_asks_for_the_tool_instead_of_forcing_it() {
    let thinking =
        Anthropic::new(AnthropicConfig::new("http://x").with_thinking(Thinking::Budget(2048)));
    let body = thinking.request_body(&request(Mode::Tools)).expect("tools");
    assert_valid_request(&body);
    assert_eq!(
        body["thinking"],
        json!({"type": "enabled", "budget_tokens": 2048})
    );
    assert_eq!(body["tool_choice"], json!({"type": "auto"}));
    assert_eq!(body["max_tokens"], 2048 + 4096, "room past the budget");
    let system = body["system"].as_array().expect("system blocks");
    assert_eq!(system.len(), 2);
    assert!(
        system[1]["text"]
            .as_str()
            .is_some_and(|text| text.contains("`Person` tool")),
        "{system:?}"
    );
    // Asked for per request, in `extra`, the same happens.
    let mut request = request(Mode::Tools);
    request.extra.insert(
        "thinking".into(),
        json!({"type": "enabled", "budget_tokens": 1024}),
    );
    let body = claude().request_body(&request).expect("tools");
    assert_valid_request(&body);
    assert_eq!(body["tool_choice"], json!({"type": "auto"}));
    assert_eq!(body["thinking"]["budget_tokens"], 1024);
}

#[test]
fn a_re_ask_answers_the_failed_call_with_an_error_result_after_its_thinking() {
    let mut request = request(Mode::Tools);
    request.messages.push(Message {
        content: vec![ContentPart::Thinking {
            thinking: "A person.".into(),
            signature: Some("sig-1".into()),
        }],
        ..Message::assistant_tool_calls(vec![ToolCall {
            id: "toolu_1".into(),
            name: "Person".into(),
            arguments: r#"{"nam": "Ada"}"#.into(),
        }])
    });
    request
        .messages
        .push(Message::tool_error("toolu_1", "name: missing field"));
    let body = claude().request_body(&request).expect("re-ask");
    assert_valid_request(&body);
    let messages = body["messages"].as_array().expect("messages");
    assert_eq!(messages.len(), 3);
    assert_eq!(
        messages[1],
        json!({"role": "assistant", "content": [
            {"type": "thinking", "thinking": "A person.", "signature": "sig-1"},
            {"type": "tool_use", "id": "toolu_1", "name": "Person", "input": {"nam": "Ada"}},
        ]})
    );
    assert_eq!(
        messages[2],
        json!({"role": "user", "content": [{
            "type": "tool_result",
            "tool_use_id": "toolu_1",
            "content": [{"type": "text", "text": "name: missing field"}],
            "is_error": true,
        }]})
    );
    // Arguments that are not an object go back as `{}` (the API takes objects only).
    request.messages[2].tool_calls[0].arguments = r#"{"name": "Ad"#.into();
    let body = claude().request_body(&request).expect("re-ask");
    assert_eq!(body["messages"][1]["content"][1]["input"], json!({}));
}

#[test]
fn cache_breakpoints_land_on_the_block_before_them() {
    const GIF: &[u8] = b"GIF89a\x01\x00\x01\x00\x00\x00\x00;";
    const PDF: &[u8] = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n";
    let mut request = request(Mode::Tools);
    request.messages = vec![
        Message::system((cached("<book>A long book.</book>"), "Be brief.")),
        Message::user((
            Image::from_bytes(GIF).expect("gif").cached(),
            Document::from_bytes(PDF).expect("pdf").title("Report"),
            Parts::from("Who is the hero?").cached_for(CacheTtl::OneHour),
        )),
        Message::user(Image::url("https://example.com/a.png")),
    ];
    let body = claude().request_body(&request).expect("cached");
    assert_valid_request(&body);
    assert_eq!(
        body["system"][0]["cache_control"],
        json!({"type": "ephemeral"})
    );
    assert!(body["system"][1].get("cache_control").is_none());
    let turns = body["messages"].as_array().expect("messages");
    assert_eq!(turns.len(), 1, "consecutive user messages are one turn");
    let content = turns[0]["content"].as_array().expect("blocks");
    assert_eq!(content.len(), 4);
    assert_eq!(
        content[0],
        json!({
            "type": "image",
            "source": {"type": "base64", "media_type": "image/gif", "data": "R0lGODlhAQABAAAAADs="},
            "cache_control": {"type": "ephemeral"},
        })
    );
    assert_eq!(content[1]["type"], "document");
    assert_eq!(content[1]["title"], "Report");
    assert_eq!(content[1]["source"]["media_type"], "application/pdf");
    assert_eq!(
        content[2]["cache_control"],
        json!({"type": "ephemeral", "ttl": "1h"})
    );
    assert_eq!(
        content[3]["source"],
        json!({"type": "url", "url": "https://example.com/a.png"})
    );
}

#[test]
fn what_the_api_cannot_take_is_refused_before_sending() {
    let refused = |messages: Vec<Message>| {
        let mut request = request(Mode::Tools);
        request.messages = messages;
        match claude().request_body(&request) {
            Err(ProviderError::Unsupported(message)) => message,
            other => panic!("expected a refusal, got {other:?}"),
        }
    };
    let five = (1..=5)
        .map(|n| Message::user(cached(format!("part {n}"))))
        .collect();
    assert!(refused(five).contains("at most 4"));
    let first = vec![Message::user(Parts(vec![ContentPart::CacheBreakpoint {
        ttl: CacheTtl::Default,
    }]))];
    assert!(refused(first).contains("must follow"));
    let image_in_system = vec![Message::system(("look", Image::url("https://x/y.png")))];
    assert!(refused(image_in_system).contains("system message"));
    let mut tool = Message::tool("c", "x");
    tool.tool_call_id = None;
    assert!(refused(vec![tool]).contains("id of the call"));
}

#[test]
fn recorded_answers_are_read() {
    // Through the fake server, byte for byte as recorded.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let server = FakeProvider::start().await;
        let claude = Anthropic::new(AnthropicConfig::new(server.base_url()).with_api_key(KEY));
        server.push(Reply::status(200).body(recorded("message-tool-use.json")));
        let response = claude
            .complete(&request(Mode::Tools))
            .await
            .expect("tool use");
        assert_eq!(response.tool_calls.len(), 1);
        assert_eq!(response.tool_calls[0].name, "json");
        assert_eq!(response.tool_calls[0].id, "toolu_01Q9ExVZnzZj7E2QQYHYtNUa");
        let input: Value =
            serde_json::from_str(&response.tool_calls[0].arguments).expect("the input");
        assert_eq!(input["elements"][3]["location"], "Berlin");
        assert_eq!(response.finish_reason, Some(FinishReason::ToolCalls));
        assert_eq!(response.usage.map(|u| u.input_tokens), Some(1151));
        assert_eq!(response.model.as_deref(), Some("claude-haiku-4-5-20251001"));
        assert_eq!(response.raw["id"], "msg_0191iYfpERYfS27xLsdW2nbb");

        server.push(Reply::status(200).body(recorded("message-text.json")));
        let response = claude.complete(&request(Mode::Json)).await.expect("text");
        assert!(response.text.is_some_and(|text| !text.is_empty()));
        assert_eq!(response.finish_reason, Some(FinishReason::Stop));

        server.push(Reply::status(400).body(recorded("error-400-invalid-request-error.json")));
        let error = claude
            .complete(&request(Mode::Tools))
            .await
            .expect_err("400");
        match error {
            ProviderError::Status { status, body, .. } => {
                assert_eq!(status, 400);
                assert!(body.contains("tool_result"), "{body}");
            }
            other => panic!("{other:?}"),
        }
    });
}

/// The events of a recorded stream replayed by the fake server.
async fn replay(body: Vec<u8>) -> Vec<Result<StreamEvent, ProviderError>> {
    let server = FakeProvider::start().await;
    server.push(Reply::sse([body]));
    let claude = Anthropic::new(AnthropicConfig::new(server.base_url()).with_api_key(KEY));
    let stream = claude
        .stream(&request(Mode::Tools))
        .await
        .expect("the stream opens");
    stream.collect().await
}

/// A `*.chunks.jsonl` recording as the SSE body Anthropic sends.
fn as_sse(jsonl: &[u8]) -> Vec<u8> {
    let text = String::from_utf8(jsonl.to_vec()).expect("UTF-8");
    let mut body = String::new();
    for line in text.lines().filter(|line| !line.trim().is_empty()) {
        let event: Value = serde_json::from_str(line).expect("one event per line");
        let kind = event["type"].as_str().expect("a type");
        body.push_str(&format!("event: {kind}\ndata: {line}\n\n"));
    }
    body.into_bytes()
}

fn arguments(events: &[Result<StreamEvent, ProviderError>], index: usize) -> String {
    events
        .iter()
        .filter_map(|event| match event {
            Ok(StreamEvent::ToolArgumentsDelta {
                index: i, delta, ..
            }) if *i == index => Some(delta.as_str()),
            _ => None,
        })
        .collect()
}

fn text(events: &[Result<StreamEvent, ProviderError>]) -> String {
    events
        .iter()
        .filter_map(|event| match event {
            Ok(StreamEvent::TextDelta(text)) => Some(text.as_str()),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn recorded_streams_give_their_text_calls_usage_and_end() {
    let events = replay(recorded("stream-tool-use-input-json-delta.sse")).await;
    assert!(events.iter().all(Result::is_ok), "{events:?}");
    assert_eq!(
        text(&events),
        "I'll check the current weather in Paris for you."
    );
    assert_eq!(arguments(&events, 0), r#"{"location": "Paris"}"#);
    assert!(events.contains(&Ok(StreamEvent::ToolArgumentsDelta {
        index: 0,
        id: Some("toolu_01NRLabsLyVHZPKxbKvkfSMn".into()),
        name: Some("get_weather".into()),
        delta: String::new(),
    })));
    assert!(events.contains(&Ok(StreamEvent::ResponseId(
        "msg_019Q1hrJbZG26Fb9BQhrkHEr".into()
    ))));
    let usage = events.iter().rev().find_map(|event| match event {
        Ok(StreamEvent::Usage(usage)) => Some(*usage),
        _ => None,
    });
    assert_eq!(
        usage,
        Some(Usage {
            input_tokens: 377,
            output_tokens: 65,
            ..Usage::default()
        })
    );
    assert_eq!(
        events.last(),
        Some(&Ok(StreamEvent::Finish(FinishReason::ToolCalls)))
    );

    // A call without arguments streams none: it is `{}`, as in a whole answer.
    let events = replay(as_sse(&recorded(
        "stream-text-then-tool-use-no-args.chunks.jsonl",
    )))
    .await;
    assert!(events.iter().all(Result::is_ok), "{events:?}");
    assert_eq!(arguments(&events, 0), "{}");

    // Cut at the token limit in the middle of the tool's JSON.
    let events = replay(recorded("stream-max-tokens-truncated-tool-json-edited.sse")).await;
    assert!(events.iter().all(Result::is_ok), "{events:?}");
    assert!(events.contains(&Ok(StreamEvent::Finish(FinishReason::Length))));

    for name in [
        "stream-text.chunks.jsonl",
        "stream-json-output-format-text.chunks.jsonl",
        "stream-tool-use-json-tool.chunks.jsonl",
    ] {
        let events = replay(as_sse(&recorded(name))).await;
        assert!(events.iter().all(Result::is_ok), "{name}: {events:?}");
        assert!(
            matches!(events.last(), Some(Ok(StreamEvent::Finish(_)))),
            "{name}: {events:?}"
        );
    }
    let events = replay(recorded("stream-text-basic-hand-edited.sse")).await;
    assert!(events.iter().all(Result::is_ok), "{events:?}");
}

#[tokio::test]
async fn the_fake_providers_streams_and_answers_agree() {
    let server = FakeProvider::start().await;
    let claude = Anthropic::new(AnthropicConfig::new(server.base_url()).with_api_key(KEY));
    let message = anthropic::Message::text("Let me see.")
        .thinking_first(["The user ", "wants a person."], "sig-abc")
        .and_tool_use_fragments("Person", [r#"{"name":"#, r#" "Ada"}"#])
        .and_tool_use("Person", r#"{"name": "Bo"}"#)
        .cache_usage(1200, 300);
    server.push(message.reply());
    server.push(message.sse_reply());
    let whole = claude
        .complete(&request(Mode::ParallelTools))
        .await
        .expect("whole");
    let events: Vec<_> = claude
        .stream(&request(Mode::ParallelTools))
        .await
        .expect("opens")
        .collect()
        .await;
    assert!(events.iter().all(Result::is_ok), "{events:?}");
    assert_eq!(whole.text.as_deref(), Some(text(&events).as_str()));
    assert_eq!(whole.tool_calls.len(), 2);
    for (index, call) in whole.tool_calls.iter().enumerate() {
        let streamed: Value = serde_json::from_str(&arguments(&events, index)).expect("JSON");
        let answered: Value = serde_json::from_str(&call.arguments).expect("JSON");
        assert_eq!(streamed, answered);
    }
    let thinking = ContentPart::Thinking {
        thinking: "The user wants a person.".into(),
        signature: Some("sig-abc".into()),
    };
    assert_eq!(whole.reasoning, std::slice::from_ref(&thinking));
    assert!(events.contains(&Ok(StreamEvent::Reasoning(thinking))));
    let usage = whole.usage.expect("usage");
    assert_eq!(usage.cache_creation_tokens, 1200);
    assert_eq!(usage.cached_tokens, 300);
    assert!(
        usage.input_tokens >= 1500,
        "cache reads and writes are prompt tokens"
    );
    let streamed_usage = events.iter().rev().find_map(|event| match event {
        Ok(StreamEvent::Usage(usage)) => Some(*usage),
        _ => None,
    });
    assert_eq!(streamed_usage, Some(usage));
}

#[tokio::test]
async fn a_refusal_and_the_token_limit_are_the_same_whole_and_streamed() {
    let server = FakeProvider::start().await;
    let claude = Anthropic::new(AnthropicConfig::new(server.base_url()).with_api_key(KEY));
    let refusal = anthropic::Message::text("I can't help with that.").stop_reason("refusal");
    server.push(refusal.reply());
    server.push(refusal.sse_reply());
    let whole = claude.complete(&request(Mode::Json)).await.expect("whole");
    let events: Vec<_> = claude
        .stream(&request(Mode::Json))
        .await
        .expect("opens")
        .collect()
        .await;
    let streamed: String = events
        .iter()
        .filter_map(|event| match event {
            Ok(StreamEvent::RefusalDelta(text)) => Some(text.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(whole.refusal.as_deref(), Some(streamed.as_str()));
    assert!(streamed.contains("refusal"));
}

#[tokio::test]
async fn errors_are_typed_retryable_as_their_status_and_never_show_the_key() {
    let server = FakeProvider::start().await;
    let claude = Anthropic::new(AnthropicConfig::new(server.base_url()).with_api_key(KEY));
    // 529 overloaded: retryable, like 429 and 5xx.
    server.push(
        Reply::json(529, anthropic::error_body("overloaded_error", "Overloaded"))
            .header("retry-after", "2")
            .header("request-id", "req_1"),
    );
    let error = claude
        .complete(&request(Mode::Tools))
        .await
        .expect_err("529");
    assert!(error.is_retryable(), "{error:?}");
    assert_eq!(error.retry_after(), Some(std::time::Duration::from_secs(2)));
    // A mid-stream error event.
    let mut events = anthropic::Message::tool_use("Person", r#"{"name": "Ada"}"#).to_sse_events();
    events.truncate(3);
    events.push(anthropic::error_event(
        "overloaded_error",
        &format!("busy {KEY}"),
    ));
    server.push(Reply::sse(events));
    let items: Vec<_> = claude
        .stream(&request(Mode::Tools))
        .await
        .expect("opens")
        .collect()
        .await;
    let Some(Err(error)) = items.last() else {
        panic!("{items:?}")
    };
    assert!(
        matches!(
            error,
            ProviderError::Stream {
                status: Some(529),
                ..
            }
        ),
        "{error:?}"
    );
    assert!(error.is_retryable());
    let shown = format!("{error} {error:?}");
    assert!(!shown.contains(KEY), "{shown}");
    // A stream cut before `message_stop`.
    let mut events = anthropic::Message::text("Hello").to_sse_events();
    events.truncate(4);
    server.push(Reply::sse(events));
    let items: Vec<_> = claude
        .stream(&request(Mode::Json))
        .await
        .expect("opens")
        .collect()
        .await;
    assert!(
        matches!(items.last(), Some(Err(ProviderError::Transport { .. }))),
        "{items:?}"
    );
    // A redirect is not followed.
    server.push(Reply::redirect(307, "http://elsewhere.example/v1/messages"));
    let error = claude
        .complete(&request(Mode::Tools))
        .await
        .expect_err("redirect");
    assert!(
        matches!(error, ProviderError::Redirect { status: 307, .. }),
        "{error:?}"
    );
    // A 200 with an error object is an error, retried as its status.
    server.push(Reply::json(
        200,
        anthropic::error_body("api_error", "Internal"),
    ));
    let error = claude
        .complete(&request(Mode::Tools))
        .await
        .expect_err("error body");
    assert!(
        matches!(error, ProviderError::Status { status: 500, .. }),
        "{error:?}"
    );
    // The key travels in `x-api-key`, never shown.
    let sent = server.requests();
    assert_eq!(sent[0].header("x-api-key"), Some(KEY));
    assert!(sent[0].header("authorization").is_none());
    assert!(!format!("{claude:?}").contains(KEY));
    // Huge block indices are an error, not an allocation.
    server.push(Reply::sse([
        "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":18446744073709551615,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n",
    ]));
    let items: Vec<_> = claude
        .stream(&request(Mode::Json))
        .await
        .expect("opens")
        .collect()
        .await;
    assert!(
        matches!(items.last(), Some(Err(ProviderError::Decode { .. }))),
        "{items:?}"
    );
}

#[test]
fn the_environment_names_key_and_base_url() {
    let config = AnthropicConfig::new("https://api.anthropic.com/v1/");
    assert_eq!(config.endpoint(), "https://api.anthropic.com/v1/messages");
    let config = AnthropicConfig::new("http://127.0.0.1:8080").with_beta("files-api-2025-04-14");
    assert_eq!(config.endpoint(), "http://127.0.0.1:8080/v1/messages");
    assert!(!format!("{:?}", AnthropicConfig::new("x").with_api_key(KEY)).contains(KEY));
}

#[tokio::test]
async fn beta_and_version_headers_are_sent() {
    let server = FakeProvider::start().await;
    let claude = Anthropic::new(
        AnthropicConfig::new(server.base_url())
            .with_api_key(KEY)
            .with_beta("a-2025")
            .with_beta("b-2026"),
    );
    server.push(anthropic::Message::text("ok").reply());
    claude.complete(&request(Mode::Json)).await.expect("ok");
    let sent = server.last_request().expect("sent");
    assert_eq!(sent.header("anthropic-beta"), Some("a-2025,b-2026"));
    assert_eq!(sent.header("anthropic-version"), Some("2023-06-01"));
    assert_eq!(sent.header("content-type"), Some("application/json"));
    assert_valid_request(sent.json().expect("JSON"));
}
