//! The OpenAI client against a hostile server, over real HTTP to the fake provider: every
//! header, number, size and string a server controls is bounded, every odd answer is a
//! typed error (never a panic, an abort, a huge allocation or a silently wrong value),
//! redirects are not followed, and the key never comes back out, wherever the server
//! echoes it.
//!
//! Needs the `testing` feature (`cargo test -p instructor-providers --all-features`).
#![cfg(feature = "testing")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use futures::StreamExt;
use instructor_core::chat::{
    ChatRequest, ChatResponse, FinishReason, MAX_TOOL_CALLS, Message, Mode, OutputSpec, Provider,
    ProviderError, StreamEvent, Usage,
};
use instructor_core::schema::{ObjectSchema, Property, RootSchema, Schema, SchemaKind};
use instructor_providers::openai::{
    MAX_BODY_BYTES, MAX_ID_BYTES, MAX_RETRY_AFTER, OpenAi, OpenAiConfig,
};
use instructor_providers::presets::{Preset, azure_config};
use instructor_providers::testing::openai::ChatCompletion;
use instructor_providers::testing::{FakeProvider, Reply};
use serde_json::{Value, json};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

const KEY: &str = "sk-test-SECRET-0123456789abcdef";

fn run<F: Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(future)
}

fn config(server: &FakeProvider) -> OpenAiConfig {
    Preset::OpenAi
        .config()
        .with_base_url(server.base_url())
        .with_api_key(KEY)
        .with_timeout(Some(Duration::from_secs(30)))
}

fn provider(server: &FakeProvider) -> OpenAi {
    OpenAi::new(config(server))
}

fn person_schema() -> RootSchema {
    let mut object = ObjectSchema::default();
    object.properties.insert(
        "name".into(),
        Property {
            schema: Schema::string(),
            required: true,
        },
    );
    RootSchema {
        schema: Schema::new(SchemaKind::Object(object)),
        defs: Default::default(),
        root_name: None,
    }
}

fn request(mode: Option<Mode>, schema: RootSchema) -> ChatRequest {
    ChatRequest {
        model: "gpt-4o-mini".into(),
        messages: vec![Message::user("Ada Lovelace, 36.")],
        output: mode.map(|mode| OutputSpec {
            mode,
            schema: Arc::new(schema),
            name: "Person".into(),
            description: None,
            tools: Vec::new(),
        }),
        params: Default::default(),
        extra: Default::default(),
    }
}

fn plain() -> ChatRequest {
    request(None, person_schema())
}

/// The events of a stream, in order.
async fn events(
    provider: &OpenAi,
    request: &ChatRequest,
) -> Vec<Result<StreamEvent, ProviderError>> {
    provider.stream(request).await.unwrap().collect().await
}

/// The SSE framing of one chunk.
fn sse(chunk: &Value) -> String {
    format!("data: {chunk}\n\n")
}

fn assert_no_key(what: &str, text: &str) {
    assert!(
        !text.contains("SECRET"),
        "{what} shows (part of) the key: {text}"
    );
}

// ---------------------------------------------------------------------------------------
// 1. retry-after
// ---------------------------------------------------------------------------------------

async fn retry_after_of(server: &FakeProvider, headers: &[(&str, &str)]) -> Option<Duration> {
    let mut reply = Reply::json(429, json!({"error": {"message": "slow down"}}));
    for (name, value) in headers {
        reply = reply.header(name, value);
    }
    server.push(reply);
    let error = provider(server).complete(&plain()).await.unwrap_err();
    assert!(
        matches!(error, ProviderError::Status { status: 429, .. }),
        "{error:?}"
    );
    error.retry_after()
}

#[test]
fn huge_retry_after_waits_are_clamped_to_the_documented_bound() {
    run(async {
        let server = FakeProvider::start().await;
        for headers in [
            &[("retry-after", "1e20")][..],
            &[("retry-after-ms", "1e30")],
            &[("retry-after", "18446744073709551616")],
            &[("retry-after", "Fri, 31 Dec 9999 23:59:59 GMT")],
            &[("retry-after", "90000")],
        ] {
            assert_eq!(
                retry_after_of(&server, headers).await,
                Some(MAX_RETRY_AFTER),
                "{headers:?}"
            );
        }
    });
}

#[test]
fn a_retry_after_in_a_raw_reply_is_read_without_panicking() {
    run(async {
        let server = FakeProvider::start().await;
        server.push(Reply::raw(
            "HTTP/1.1 503 Service Unavailable\r\nretry-after: 1e308\r\nretry-after-ms: 1e309\r\n\
             content-length: 0\r\n\r\n",
        ));
        let error = provider(&server).complete(&plain()).await.unwrap_err();
        assert!(
            matches!(error, ProviderError::Status { status: 503, .. }),
            "{error:?}"
        );
        // `1e309` is infinite in f64: garbage, so `retry-after` (1e308 s) is read, clamped.
        assert_eq!(error.retry_after(), Some(MAX_RETRY_AFTER));
    });
}

#[test]
fn garbage_retry_after_values_are_no_wait() {
    run(async {
        let server = FakeProvider::start().await;
        for value in ["inf", "-inf", "NaN", "-1", "-1e20", "soon", "", "1.5.2"] {
            assert_eq!(
                retry_after_of(&server, &[("retry-after", value)]).await,
                None,
                "{value:?}"
            );
        }
        // A garbage `retry-after-ms` falls back on `retry-after`.
        assert_eq!(
            retry_after_of(&server, &[("retry-after-ms", "NaN"), ("retry-after", "3")]).await,
            Some(Duration::from_secs(3))
        );
        // Small fractions are kept.
        assert_eq!(
            retry_after_of(&server, &[("retry-after-ms", "1.5")]).await,
            Some(Duration::from_micros(1500))
        );
    });
}

// ---------------------------------------------------------------------------------------
// 2. Streamed tool call indices
// ---------------------------------------------------------------------------------------

fn tool_call_chunk(index: &str) -> String {
    // Written by hand: `index` may be beyond what serde_json's `Value` holds as an integer.
    format!(
        "data: {{\"id\":\"c1\",\"choices\":[{{\"index\":0,\"delta\":{{\"tool_calls\":[{{\"index\":{index},\
         \"id\":\"call_1\",\"function\":{{\"name\":\"Person\",\"arguments\":\"{{}}\"}}}}]}}}}]}}\n\n"
    )
}

#[test]
fn an_out_of_range_tool_call_index_is_a_decode_error_not_an_allocation() {
    run(async {
        let server = FakeProvider::start().await;
        let provider = provider(&server);
        for index in [
            "18446744073709551615",
            "4000000000",
            "10000000",
            &MAX_TOOL_CALLS.to_string(),
            "100000000000000000000",
            "-1",
        ] {
            server.push(Reply::sse([
                tool_call_chunk(index),
                "data: [DONE]\n\n".to_owned(),
            ]));
            let items = events(&provider, &plain()).await;
            assert!(
                !items
                    .iter()
                    .any(|item| matches!(item, Ok(StreamEvent::ToolArgumentsDelta { .. }))),
                "{index}: {items:?}"
            );
            match items.last() {
                Some(Err(error @ ProviderError::Decode { .. })) => {
                    assert!(!error.is_retryable(), "{index}");
                }
                other => panic!("{index}: {other:?}"),
            }
        }
    });
}

#[test]
fn the_last_allowed_tool_call_index_is_read() {
    run(async {
        let server = FakeProvider::start().await;
        server.push(Reply::sse([
            tool_call_chunk(&(MAX_TOOL_CALLS - 1).to_string()),
            "data: [DONE]\n\n".to_owned(),
        ]));
        let items = events(&provider(&server), &plain()).await;
        assert!(
            items.iter().any(|item| matches!(
                item,
                Ok(StreamEvent::ToolArgumentsDelta { index, .. }) if *index == MAX_TOOL_CALLS - 1
            )),
            "{items:?}"
        );
    });
}

#[test]
fn a_whole_answer_with_too_many_tool_calls_is_a_decode_error() {
    run(async {
        let server = FakeProvider::start().await;
        let calls: Vec<Value> = (0..=MAX_TOOL_CALLS)
            .map(|i| json!({"id": format!("call_{i}"), "function": {"name": "f", "arguments": "{}"}}))
            .collect();
        server.push(Reply::json(
            200,
            json!({"choices": [{"message": {"tool_calls": calls}, "finish_reason": "tool_calls"}]}),
        ));
        let error = provider(&server).complete(&plain()).await.unwrap_err();
        assert!(
            matches!(&error, ProviderError::Decode { message, .. } if message.contains("tool calls")),
            "{error:?}"
        );
    });
}

// ---------------------------------------------------------------------------------------
// 3. Redirects
// ---------------------------------------------------------------------------------------

#[test]
fn a_307_is_an_error_and_the_other_host_receives_nothing() {
    run(async {
        let server = FakeProvider::start().await;
        let elsewhere = FakeProvider::start().await;
        let target = elsewhere.url("/v1/chat/completions");
        let azure = OpenAi::new(
            azure_config(server.origin(), Some("prod"), "2024-10-21", KEY)
                .with_header("x-tenant-secret", "tenant-SECRET"),
        );
        let request = request(Some(Mode::Tools), person_schema());
        server.push(Reply::redirect(307, &target));
        let error = azure.complete(&request).await.unwrap_err();
        assert_eq!(
            error,
            ProviderError::Redirect {
                status: 307,
                location: Some(target.clone()),
            }
        );
        assert!(!error.is_retryable());
        server.push(Reply::redirect(307, &target));
        let error = azure.stream(&request).await.err().unwrap();
        assert!(
            matches!(error, ProviderError::Redirect { status: 307, .. }),
            "{error:?}"
        );
        // The original server got both calls, with the key; the other host nothing at all
        // (no api-key, no custom header, no prompt).
        assert_eq!(server.requests().len(), 2);
        assert_eq!(server.requests()[0].header("api-key"), Some(KEY));
        assert!(
            elsewhere.requests().is_empty(),
            "{:?}",
            elsewhere.requests()
        );
    });
}

#[test]
fn a_302_is_an_error_never_a_get_read_as_the_answer() {
    run(async {
        let server = FakeProvider::start().await;
        let elsewhere = FakeProvider::start().await;
        // What a GET after the redirect would read: a valid answer that is not the model's.
        elsewhere.push(ChatCompletion::content("not the model").reply());
        for status in [301, 302, 303, 308] {
            server.push(Reply::redirect(status, &elsewhere.url("/answer")));
            let error = provider(&server).complete(&plain()).await.unwrap_err();
            assert!(
                matches!(error, ProviderError::Redirect { status: s, .. } if s == status),
                "{status}: {error:?}"
            );
        }
        assert!(elsewhere.requests().is_empty());
        assert_eq!(elsewhere.remaining(), 1);
    });
}

#[test]
fn a_redirect_location_is_redacted_and_bounded() {
    run(async {
        let server = FakeProvider::start().await;
        let location = format!("http://evil.example/?k={KEY}&pad={}", "x".repeat(100_000));
        server.push(Reply::raw(format!(
            "HTTP/1.1 307 Temporary Redirect\r\nlocation: {location}\r\ncontent-length: 0\r\n\r\n"
        )));
        let error = provider(&server).complete(&plain()).await.unwrap_err();
        let ProviderError::Redirect {
            status: 307,
            location: Some(shown),
        } = &error
        else {
            panic!("{error:?}");
        };
        assert!(
            shown.starts_with("http://evil.example/?k=[redacted]&pad=xxx"),
            "{shown}"
        );
        assert!(shown.len() <= 512 + 3, "{}", shown.len());
        assert_no_key("redirect error", &format!("{error} {error:?}"));
    });
}

// ---------------------------------------------------------------------------------------
// 4. Redaction of everything read
// ---------------------------------------------------------------------------------------

fn assert_response_has_no_key(response: &ChatResponse) {
    assert_no_key("response", &format!("{response:?}"));
    assert_no_key("raw", &response.raw.to_string());
}

#[test]
fn a_key_echoed_anywhere_in_a_whole_answer_is_redacted() {
    run(async {
        let server = FakeProvider::start().await;
        let echo = format!("<{KEY}>");
        server.push(Reply::json(
            200,
            json!({
                "id": echo, "model": echo, "echo": {echo.clone(): echo},
                "choices": [{"index": 0, "finish_reason": echo, "message": {
                    "content": echo, "refusal": echo,
                    "tool_calls": [{"id": echo, "function": {"name": echo, "arguments": echo}}],
                }}],
            }),
        ));
        server.push(
            Reply::json(200, json!({"choices": [{"message": {"content": "hi"}}]}))
                .header("x-request-id", &echo),
        );
        let provider = provider(&server);
        let response = provider.complete(&plain()).await.unwrap();
        assert_response_has_no_key(&response);
        assert_eq!(response.text.as_deref(), Some("<[redacted]>"));
        assert_eq!(response.refusal.as_deref(), Some("<[redacted]>"));
        assert_eq!(response.request_id.as_deref(), Some("<[redacted]>"));
        assert_eq!(response.model.as_deref(), Some("<[redacted]>"));
        assert_eq!(response.tool_calls[0].id, "<[redacted]>");
        assert_eq!(response.tool_calls[0].name, "<[redacted]>");
        assert_eq!(&*response.tool_calls[0].arguments, "<[redacted]>");
        assert_eq!(
            response.finish_reason,
            Some(FinishReason::Other("<[redacted]>".into()))
        );
        // The request id from the headers, when the body has none.
        let response = provider.complete(&plain()).await.unwrap();
        assert_eq!(response.request_id.as_deref(), Some("<[redacted]>"));
    });
}

#[test]
fn a_key_echoed_in_error_bodies_and_request_ids_is_redacted() {
    run(async {
        let server = FakeProvider::start().await;
        let echo = format!("Incorrect API key provided: {KEY}");
        server.push(
            Reply::json(401, json!({"error": {"message": echo}})).header("x-request-id", KEY),
        );
        server.push(Reply::json(
            200,
            json!({"id": KEY, "error": {"message": echo, "code": 500}}),
        ));
        server.push(Reply::json(200, json!({"id": KEY})));
        // serde's message quotes the string it could not read.
        server.push(Reply::json(200, json!({"choices": KEY})));
        let provider = provider(&server);
        for _ in 0..4 {
            let error = provider.complete(&plain()).await.unwrap_err();
            assert_no_key("error", &format!("{error} {error:?}"));
        }
        // The same in a stream, and a line that is not UTF-8.
        server.push(Reply::sse([sse(&json!({"choices": KEY}))]));
        server.push(Reply::sse([
            [&b"data: \xff"[..], KEY.as_bytes(), b"\n\n"].concat()
        ]));
        for _ in 0..2 {
            let items = events(&provider, &plain()).await;
            assert!(
                matches!(items.first(), Some(Err(ProviderError::Decode { .. }))),
                "{items:?}"
            );
            assert_no_key("stream error", &format!("{items:?}"));
        }
    });
}

#[test]
fn a_key_echoed_in_every_stream_event_is_redacted() {
    run(async {
        let server = FakeProvider::start().await;
        let echo = format!("<{KEY}>");
        let delta = |delta: Value| json!({"id": echo, "choices": [{"index": 0, "delta": delta}]});
        server.push(Reply::sse([
            sse(&delta(json!({"content": echo}))),
            sse(&delta(json!({"refusal": echo}))),
            sse(&delta(json!({"tool_calls": [{"index": 0, "id": echo,
                "function": {"name": echo, "arguments": echo}}]}))),
            sse(&json!({"error": {"message": echo, "type": "server_error"}})),
        ]));
        let items = events(&provider(&server), &plain()).await;
        assert_eq!(items.len(), 5, "{items:?}");
        assert_no_key("stream", &format!("{items:?}"));
        assert_eq!(items[0], Ok(StreamEvent::ResponseId("<[redacted]>".into())));
        assert_eq!(items[1], Ok(StreamEvent::TextDelta("<[redacted]>".into())));
        assert_eq!(
            items[2],
            Ok(StreamEvent::RefusalDelta("<[redacted]>".into()))
        );
        assert_eq!(
            items[3],
            Ok(StreamEvent::ToolArgumentsDelta {
                index: 0,
                id: Some("<[redacted]>".into()),
                name: Some("<[redacted]>".into()),
                delta: "<[redacted]>".into(),
            })
        );
        assert!(
            matches!(&items[4], Err(ProviderError::Stream { message, .. }) if message == "<[redacted]>"),
            "{:?}",
            items[4]
        );
    });
}

#[test]
fn a_key_cut_across_two_deltas_is_redacted_once_joined() {
    run(async {
        let server = FakeProvider::start().await;
        let (first, second) = KEY.split_at(12);
        server.push(
            ChatCompletion::content_fragments([format!("a {first}"), format!("{second} b")])
                .sse_reply(),
        );
        let provider = provider(&server);
        let mut text = String::new();
        for item in events(&provider, &plain()).await {
            if let Ok(StreamEvent::TextDelta(delta)) = item {
                text.push_str(&delta);
            }
        }
        // Each delta holds half the key, which no single delta can recognize; what core
        // keeps of the joined text goes through `Provider::redact`.
        assert_eq!(provider.redact(&text), "a [redacted] b");
    });
}

#[test]
fn placeholder_keys_do_not_mangle_answers() {
    run(async {
        let server = FakeProvider::start().await;
        server.push(ChatCompletion::content(r#"{"status":"EMPTY"}"#).reply());
        let provider = OpenAi::new(config(&server).with_api_key("EMPTY"));
        let response = provider.complete(&plain()).await.unwrap();
        assert_eq!(response.text.as_deref(), Some(r#"{"status":"EMPTY"}"#));
    });
}

// ---------------------------------------------------------------------------------------
// 5. Streamed requests answered with something else than an event stream
// ---------------------------------------------------------------------------------------

#[test]
fn a_whole_json_answer_to_a_streamed_request_is_read_as_the_answer() {
    run(async {
        let server = FakeProvider::start().await;
        server.push(
            ChatCompletion::tool_call("Person", r#"{"name":"Ada"}"#)
                .id("chatcmpl-whole")
                .usage(12, 7)
                .reply(),
        );
        server.push(ChatCompletion::content("Hello").reply());
        let provider = provider(&server);
        let items = events(&provider, &plain()).await;
        assert_eq!(
            items,
            [
                Ok(StreamEvent::ResponseId("chatcmpl-whole".into())),
                Ok(StreamEvent::ToolArgumentsDelta {
                    index: 0,
                    id: Some("call_fake_0".into()),
                    name: Some("Person".into()),
                    delta: r#"{"name":"Ada"}"#.into(),
                }),
                Ok(StreamEvent::Usage(Usage {
                    input_tokens: 12,
                    output_tokens: 7,
                    ..Usage::default()
                })),
                Ok(StreamEvent::Finish(FinishReason::ToolCalls)),
            ]
        );
        let items = events(&provider, &plain()).await;
        assert!(
            items.contains(&Ok(StreamEvent::TextDelta("Hello".into()))),
            "{items:?}"
        );
        assert_eq!(
            items.last(),
            Some(&Ok(StreamEvent::Finish(FinishReason::Stop)))
        );
    });
}

#[test]
fn a_json_error_object_answering_a_streamed_request_is_its_error() {
    run(async {
        let server = FakeProvider::start().await;
        server.push(Reply::json(
            200,
            json!({"error": {"message": "busy", "code": 503}}),
        ));
        let error = provider(&server).stream(&plain()).await.err().unwrap();
        assert!(
            matches!(error, ProviderError::Status { status: 503, .. }),
            "{error:?}"
        );
    });
}

fn assert_not_a_stream(error: &ProviderError, expected: &str) {
    match error {
        ProviderError::Decode { message, body } => {
            assert!(message.contains("not an event stream"), "{message}");
            assert!(body.starts_with(expected), "{body}");
            assert!(body.len() <= 1024 + 3, "{}", body.len());
        }
        other => panic!("{other:?}"),
    }
    assert!(!error.is_retryable());
    assert_no_key("not a stream", &format!("{error} {error:?}"));
}

#[test]
fn a_captive_portal_page_is_a_decode_error_not_a_broken_stream() {
    run(async {
        let server = FakeProvider::start().await;
        let page = format!(
            "<html><body>Log in to the hotel wifi {KEY}{}</body></html>",
            "x".repeat(50_000)
        );
        server.push(
            Reply::status(200)
                .header("content-type", "text/html")
                .body(page.clone()),
        );
        // The same page, as a raw answer with no content type at all.
        server.push(Reply::raw(format!(
            "HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n{page}",
            page.len()
        )));
        let provider = provider(&server);
        for _ in 0..2 {
            let error = provider.stream(&plain()).await.err().unwrap();
            assert_not_a_stream(&error, "<html><body>Log in to the hotel wifi [redacted]xxx");
        }
    });
}

#[test]
fn an_empty_answer_to_a_streamed_request_is_a_decode_error() {
    run(async {
        let server = FakeProvider::start().await;
        server.push(Reply::status(200));
        server.push(
            Reply::status(200)
                .header("content-type", "text/plain")
                .body("\r\n \n"),
        );
        let provider = provider(&server);
        for _ in 0..2 {
            let error = provider.stream(&plain()).await.err().unwrap();
            assert!(
                matches!(&error, ProviderError::Decode { message, .. } if message.contains("empty")),
                "{error:?}"
            );
        }
    });
}

#[test]
fn an_event_stream_without_a_content_type_is_still_read() {
    run(async {
        let server = FakeProvider::start().await;
        let events_text = ChatCompletion::content("Hi").to_sse_events();
        // Cut so that the first read holds only blank lines.
        let mut chunks = vec!["\n".to_owned()];
        chunks.extend(events_text);
        server.push(Reply::chunked(200, chunks));
        let items = events(&provider(&server), &plain()).await;
        assert!(
            items.contains(&Ok(StreamEvent::TextDelta("Hi".into()))),
            "{items:?}"
        );
        assert_eq!(
            items.last(),
            Some(&Ok(StreamEvent::Usage(Usage {
                input_tokens: 10,
                output_tokens: 5,
                ..Usage::default()
            })))
        );
    });
}

// ---------------------------------------------------------------------------------------
// 6. A JSON body with no choices
// ---------------------------------------------------------------------------------------

#[test]
fn a_body_without_choices_is_a_decode_error_not_an_empty_answer() {
    run(async {
        let server = FakeProvider::start().await;
        server.push(Reply::json(
            200,
            json!({"id": "chatcmpl-1", "object": "chat.completion"}),
        ));
        server.push(Reply::json(200, json!({"id": "chatcmpl-2", "choices": []})));
        server.push(Reply::json(
            200,
            json!({"choices": null, "usage": {"prompt_tokens": 3}}),
        ));
        let provider = provider(&server);
        for _ in 0..3 {
            let error = provider.complete(&plain()).await.unwrap_err();
            assert!(
                matches!(&error, ProviderError::Decode { message, .. } if message.contains("no choice")),
                "{error:?}"
            );
            assert!(!error.is_retryable());
        }
    });
}

// ---------------------------------------------------------------------------------------
// 7. Mid-stream errors
// ---------------------------------------------------------------------------------------

#[test]
fn mid_stream_errors_are_classified_like_http_statuses() {
    let cases = [
        (
            "data: {\"error\":{\"message\":\"The server had an error\",\"type\":\"server_error\"}}\n\n",
            "server_error",
            Some(500),
            true,
        ),
        (
            "data: {\"error\":{\"message\":\"bad schema\",\"type\":\"invalid_request_error\"}}\n\n",
            "invalid_request_error",
            Some(400),
            false,
        ),
        (
            "data: {\"error\":{\"message\":\"slow down\",\"code\":\"rate_limit_exceeded\"}}\n\n",
            "rate_limit_exceeded",
            Some(429),
            true,
        ),
        (
            "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}\n\n",
            "overloaded_error",
            Some(529),
            true,
        ),
        (
            "data: {\"error\":{\"message\":\"bad gateway\",\"code\":502}}\n\n",
            "unknown",
            Some(502),
            true,
        ),
        (
            "data: {\"error\":{\"message\":\"quota\",\"type\":\"insufficient_quota\"}}\n\n",
            "insufficient_quota",
            None,
            false,
        ),
        ("event: error\ndata: it broke\n\n", "unknown", None, false),
    ];
    run(async {
        let server = FakeProvider::start().await;
        let provider = provider(&server);
        for (event, kind, status, retryable) in cases {
            let first = sse(&json!({"choices": [{"index": 0, "delta": {"content": "Hi"}}]}));
            server.push(Reply::sse([first, event.to_owned()]));
            let items = events(&provider, &plain()).await;
            assert_eq!(items[0], Ok(StreamEvent::TextDelta("Hi".into())));
            let Some(Err(error)) = items.last() else {
                panic!("{event}: {items:?}");
            };
            match error {
                ProviderError::Stream {
                    kind: got_kind,
                    status: got_status,
                    ..
                } => {
                    assert_eq!((got_kind.as_str(), *got_status), (kind, status), "{event}");
                }
                other => panic!("{event}: {other:?}"),
            }
            assert_eq!(error.is_retryable(), retryable, "{event}");
        }
    });
}

// ---------------------------------------------------------------------------------------
// 9. A refused connection names the URL
// ---------------------------------------------------------------------------------------

/// A local port nothing listens on (bound, then released).
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

#[test]
fn a_refused_connection_names_the_url_it_tried() {
    run(async {
        let port = closed_port();
        let provider = OpenAi::new(
            Preset::Ollama
                .config()
                .with_base_url(format!("http://127.0.0.1:{port}/v1")),
        );
        let error = provider.complete(&plain()).await.unwrap_err();
        assert_eq!(
            error,
            ProviderError::Transport {
                message: format!(
                    "could not connect to http://127.0.0.1:{port}/v1/chat/completions: connection refused"
                ),
            }
        );
        assert!(error.is_retryable());
        let error = provider.stream(&plain()).await.err().unwrap();
        assert!(
            matches!(&error, ProviderError::Transport { message } if message.contains(&format!("127.0.0.1:{port}/v1/chat/completions"))),
            "{error:?}"
        );
    });
}

#[test]
fn a_refused_connection_shows_no_query_string_or_credentials() {
    run(async {
        let port = closed_port();
        let provider = OpenAi::new(azure_config(
            format!("http://user:pass-SECRET@127.0.0.1:{port}"),
            Some("prod"),
            "SECRET-version",
            KEY,
        ));
        let error = provider.complete(&plain()).await.unwrap_err();
        assert_eq!(
            error,
            ProviderError::Transport {
                message: format!(
                    "could not connect to http://127.0.0.1:{port}/openai/deployments/prod/chat/completions: connection refused"
                ),
            }
        );
    });
}

// ---------------------------------------------------------------------------------------
// 10. A schema the dialect cannot express
// ---------------------------------------------------------------------------------------

#[test]
fn a_schema_the_dialect_cannot_express_is_refused_before_sending() {
    run(async {
        let server = FakeProvider::start().await;
        let mut object = ObjectSchema::default();
        object.properties.insert(
            "scores".into(),
            Property {
                schema: Schema::map(Schema::integer(None, None)),
                required: true,
            },
        );
        let schema = RootSchema {
            schema: Schema::new(SchemaKind::Object(object)),
            defs: Default::default(),
            root_name: None,
        };
        let provider = provider(&server);
        for mode in [Mode::ToolsStrict, Mode::JsonSchema] {
            let request = request(Some(mode), schema.clone());
            let error = provider.complete(&request).await.unwrap_err();
            assert!(
                matches!(&error, ProviderError::Unsupported(message) if message.contains("scores")),
                "{mode:?}: {error:?}"
            );
            let error = provider.stream(&request).await.err().unwrap();
            assert!(matches!(error, ProviderError::Unsupported(_)), "{error:?}");
        }
        assert!(server.requests().is_empty(), "{:?}", server.requests());
    });
}

// ---------------------------------------------------------------------------------------
// 11. Other numbers, sizes and strings from the network
// ---------------------------------------------------------------------------------------

#[test]
fn overlong_ids_and_model_names_are_cut() {
    run(async {
        let server = FakeProvider::start().await;
        let long = "i".repeat(100_000);
        server.push(Reply::json(
            200,
            json!({"id": long, "model": long, "choices": [{"message": {"content": "hi"}}]}),
        ));
        server.push(
            Reply::json(500, json!({"error": {"message": "oops"}})).header("x-request-id", &long),
        );
        server.push(Reply::sse([
            sse(&json!({"id": long, "choices": [{"index": 0, "delta": {"content": "hi"}}]})),
            "data: [DONE]\n\n".to_owned(),
        ]));
        let provider = provider(&server);
        let response = provider.complete(&plain()).await.unwrap();
        assert_eq!(response.request_id.unwrap().len(), MAX_ID_BYTES + 3);
        assert_eq!(response.model.unwrap().len(), MAX_ID_BYTES + 3);
        let error = provider.complete(&plain()).await.unwrap_err();
        let ProviderError::Status { request_id, .. } = &error else {
            panic!("{error:?}");
        };
        assert_eq!(request_id.as_ref().unwrap().len(), MAX_ID_BYTES + 3);
        let items = events(&provider, &plain()).await;
        assert!(
            matches!(&items[0], Ok(StreamEvent::ResponseId(id)) if id.len() == MAX_ID_BYTES + 3),
            "{:?}",
            items[0]
        );
    });
}

#[test]
fn a_large_error_body_is_kept_by_its_beginning() {
    run(async {
        let server = FakeProvider::start().await;
        server.push(Reply::status(500).body("e".repeat(1_000_000)));
        let error = provider(&server).complete(&plain()).await.unwrap_err();
        let ProviderError::Status { body, .. } = &error else {
            panic!("{error:?}");
        };
        assert_eq!(body.len(), MAX_BODY_BYTES + 3);
    });
}

#[test]
fn absurd_usage_numbers_saturate_and_the_answer_is_still_read() {
    run(async {
        let server = FakeProvider::start().await;
        server.push(Reply::raw({
            let body = r#"{"choices":[{"message":{"content":"hi"}}],"usage":{"prompt_tokens":1e30,
                "completion_tokens":-5,"prompt_tokens_details":{"cached_tokens":18446744073709551616},
                "completion_tokens_details":{"reasoning_tokens":"many"}}}"#;
            format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
                body.len()
            )
        }));
        let response = provider(&server).complete(&plain()).await.unwrap();
        assert_eq!(response.text.as_deref(), Some("hi"));
        assert_eq!(
            response.usage,
            Some(Usage {
                input_tokens: u64::MAX,
                output_tokens: 0,
                cached_tokens: u64::MAX,
                reasoning_tokens: 0,
                cache_creation_tokens: 0,
            })
        );
    });
}

#[test]
fn a_lying_content_length_is_an_error_not_a_hang_or_an_allocation() {
    run(async {
        let server = FakeProvider::start().await;
        // Announces 30 MB (under the 32 MiB limit), sends 2 bytes and closes.
        server.push(Reply::raw(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 30000000\r\n\r\n{}",
        ));
        // Announces more than any limit.
        server.push(Reply::raw(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 18446744073709551615\r\n\r\n{}",
        ));
        let provider = provider(&server);
        let error = provider.complete(&plain()).await.unwrap_err();
        assert!(
            matches!(error, ProviderError::Transport { .. }),
            "{error:?}"
        );
        let error = provider.complete(&plain()).await.unwrap_err();
        assert!(
            matches!(
                error,
                ProviderError::Transport { .. } | ProviderError::Decode { .. }
            ),
            "{error:?}"
        );
    });
}

#[test]
fn an_event_stream_labelled_as_json_is_read_as_a_stream() {
    run(async {
        let server = FakeProvider::start().await;
        server.push(
            Reply::chunked(200, ChatCompletion::content("Hi").to_sse_events())
                .header("content-type", "application/json"),
        );
        let items = events(&provider(&server), &plain()).await;
        assert!(
            items.contains(&Ok(StreamEvent::TextDelta("Hi".into()))),
            "{items:?}"
        );
        assert!(items.iter().all(Result::is_ok), "{items:?}");
    });
}
