//! The OpenAI Responses wire: requests validated against OpenAI's published
//! `CreateResponse`, the fake's bodies against `Response` and its events against
//! `ResponseStreamEvent`, whole and streamed answers agreeing, faults over real HTTP.

mod common;

use futures::StreamExt;
use instructor_core::chat::{
    ChatRequest, FinishReason, Message, Mode, Provider, ProviderError, StreamEvent, ToolCall,
};
use instructor_core::media::{Document, Image};
use instructor_providers::responses::{OpenAiResponses, ResponsesConfig};
use instructor_providers::testing::{FakeProvider, Reply, responses::Response};
use serde_json::{Value, json};
use std::sync::OnceLock;

const KEY: &str = "sk-test-responses-0123456789";

fn spec() -> &'static Value {
    static SPEC: OnceLock<Value> = OnceLock::new();
    SPEC.get_or_init(|| common::load_spec("openai-chat-responses-batches.openapi.json"))
}

fn validator(component: &str) -> jsonschema::Validator {
    common::openapi_validator(spec(), &format!("#/components/schemas/{component}"), true)
}

use common::schema_errors as errors;

fn assert_valid_request(body: &Value) {
    static VALIDATOR: OnceLock<jsonschema::Validator> = OnceLock::new();
    let validator = VALIDATOR.get_or_init(|| validator("CreateResponse"));
    let found = errors(validator, body);
    assert!(found.is_empty(), "{found:#?}\n{body:#}");
}

fn request(mode: Mode) -> ChatRequest {
    let mut request = common::person_request("gpt-4.1-mini", mode);
    if let Some(output) = &mut request.output {
        output.description = None;
    }
    request
}

fn offline() -> OpenAiResponses {
    OpenAiResponses::new(ResponsesConfig::new("http://127.0.0.1:9/v1").with_api_key(KEY))
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
        let body = offline().request_body(&request(mode)).expect("a body");
        assert_valid_request(&body);
        assert_eq!(body["store"], false);
        assert_eq!(
            body["input"][0],
            json!({"role": "system", "content": "You extract people."})
        );
    }
    let tools = offline()
        .request_body(&request(Mode::Tools))
        .expect("tools");
    assert_eq!(
        tools["tool_choice"],
        json!({"type": "function", "name": "Person"})
    );
    assert_eq!(tools["tools"][0]["strict"], false);
    let strict = offline()
        .request_body(&request(Mode::ToolsStrict))
        .expect("strict");
    assert_eq!(
        strict["tools"][0]["parameters"]["additionalProperties"],
        false
    );
    let native = offline()
        .request_body(&request(Mode::JsonSchema))
        .expect("native");
    assert_eq!(native["text"]["format"]["type"], "json_schema");
    assert_eq!(native["text"]["format"]["strict"], true);
    let mut keyed = request(Mode::Tools);
    keyed.params.prompt_cache_key = Some("faq-v1".into());
    let keyed = offline().request_body(&keyed).expect("a body");
    assert_valid_request(&keyed);
    assert_eq!(keyed["prompt_cache_key"], "faq-v1");
    let mut seeded = request(Mode::Json);
    seeded.params.seed = Some(1);
    assert!(matches!(
        offline().request_body(&seeded),
        Err(ProviderError::Unsupported(_))
    ));
}

#[test]
fn a_re_ask_and_media_are_input_items() {
    const PDF: &[u8] = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n";
    let mut request = request(Mode::Tools);
    request
        .messages
        .push(Message::assistant_tool_calls(vec![ToolCall {
            id: "call_0".into(),
            name: "Person".into(),
            arguments: r#"{"nam": "Ada"}"#.into(),
        }]));
    request
        .messages
        .push(Message::tool_error("call_0", "name: missing field"));
    request.messages.push(Message::user((
        "And these?",
        Image::url("https://example.com/a.png"),
        Document::from_bytes(PDF).expect("pdf"),
    )));
    let body = offline().request_body(&request).expect("a body");
    assert_valid_request(&body);
    let input = body["input"].as_array().expect("input");
    assert_eq!(
        input[2],
        json!({"type": "function_call", "call_id": "call_0", "name": "Person", "arguments": r#"{"nam": "Ada"}"#})
    );
    assert_eq!(
        input[3],
        json!({"type": "function_call_output", "call_id": "call_0", "output": "name: missing field"})
    );
    assert_eq!(input[4]["content"][1]["type"], "input_image");
    assert_eq!(input[4]["content"][2]["type"], "input_file");
}

#[tokio::test]
async fn the_fakes_bodies_are_valid_and_whole_and_streamed_agree() {
    let response_validator = validator("Response");
    let event_validator = validator("ResponseStreamEvent");
    let answers = [
        Response::text_fragments([r#"{"name": "#, r#""Ada"}"#]).usage(12, 7, 0),
        Response::function_call_fragments("Person", [r#"{"name":"#, r#" "Ada"}"#])
            .and_function_call("Person", r#"{"name": "Bo"}"#)
            .reasoning_first("The user wants two people.")
            .usage(20, 30, 16),
        Response::text(r#"{"name": "A"#).incomplete("max_output_tokens"),
        Response::refusal("I can't help with that."),
    ];
    for answer in answers {
        let body = answer.to_json();
        let found = errors(&response_validator, &body);
        assert!(found.is_empty(), "{found:#?}\n{body:#}");
        for event in answer.to_sse_events() {
            let data = event.split_once("data: ").expect("data").1.trim();
            let data: Value = serde_json::from_str(data).expect("JSON");
            let found = errors(&event_validator, &data);
            assert!(found.is_empty(), "{found:#?}\n{data:#}");
        }
        let server = FakeProvider::start().await;
        server.push(answer.reply());
        server.push(answer.sse_reply());
        let openai =
            OpenAiResponses::new(ResponsesConfig::new(server.base_url()).with_api_key(KEY));
        let whole = openai.complete(&request(Mode::Tools)).await.expect("whole");
        let events: Vec<_> = openai
            .stream(&request(Mode::Tools))
            .await
            .expect("opens")
            .collect()
            .await;
        assert!(events.iter().all(Result::is_ok), "{events:?}");
        let joined = |pick: fn(&StreamEvent) -> Option<&str>| -> String {
            events
                .iter()
                .filter_map(|e| e.as_ref().ok().and_then(pick))
                .collect()
        };
        let text = joined(|e| match e {
            StreamEvent::TextDelta(text) => Some(text),
            _ => None,
        });
        assert_eq!(whole.text.clone().unwrap_or_default(), text);
        let refusal = joined(|e| match e {
            StreamEvent::RefusalDelta(text) => Some(text),
            _ => None,
        });
        assert_eq!(whole.refusal.clone().unwrap_or_default(), refusal);
        for (index, call) in whole.tool_calls.iter().enumerate() {
            let streamed: String = events
                .iter()
                .filter_map(|e| match e {
                    Ok(StreamEvent::ToolArgumentsDelta {
                        index: i, delta, ..
                    }) if *i == index => Some(delta.as_str()),
                    _ => None,
                })
                .collect();
            assert_eq!(streamed, &*call.arguments);
        }
        let finish = events.iter().rev().find_map(|e| match e {
            Ok(StreamEvent::Finish(reason)) => Some(reason.clone()),
            _ => None,
        });
        assert_eq!(finish, whole.finish_reason);
        let usage = events.iter().rev().find_map(|e| match e {
            Ok(StreamEvent::Usage(usage)) => Some(*usage),
            _ => None,
        });
        assert_eq!(usage, whole.usage);
        let reasoning = events
            .iter()
            .filter(|e| matches!(e, Ok(StreamEvent::Reasoning(_))))
            .count();
        assert_eq!(reasoning, whole.reasoning.len());
        let sent = server.last_request().expect("sent");
        assert_eq!(sent.path(), "/v1/responses");
        assert_eq!(
            sent.header("authorization"),
            Some(format!("Bearer {KEY}").as_str())
        );
    }
    let cut = Response::text("x")
        .incomplete("max_output_tokens")
        .to_json();
    let server = FakeProvider::start().await;
    server.push(Reply::json(200, cut));
    let openai = OpenAiResponses::new(ResponsesConfig::new(server.base_url()));
    let whole = openai.complete(&request(Mode::Json)).await.expect("whole");
    assert_eq!(whole.finish_reason, Some(FinishReason::Length));
}

#[tokio::test]
async fn faults_are_typed() {
    let server = FakeProvider::start().await;
    let openai = OpenAiResponses::new(ResponsesConfig::new(server.base_url()).with_api_key(KEY));
    let mut events = Response::text("partial").to_sse_events();
    let last = events.len() - 1;
    events[last] = format!(
        "event: response.failed\ndata: {}\n\n",
        json!({"type": "response.failed", "response": {"id": "r", "status": "failed",
            "error": {"code": "server_error", "message": format!("boom {KEY}")}}})
    );
    server.push(Reply::sse(events));
    let items: Vec<_> = openai
        .stream(&request(Mode::Json))
        .await
        .expect("opens")
        .collect()
        .await;
    let Some(Err(error)) = items.last() else {
        panic!("{items:?}")
    };
    assert!(error.is_retryable(), "{error:?}");
    assert!(!error.to_string().contains(KEY));
    server.push(Reply::sse([
        "event: response.function_call_arguments.delta\ndata: {\"type\":\"response.function_call_arguments.delta\",\"output_index\":99999999,\"delta\":\"x\"}\n\n",
    ]));
    let items: Vec<_> = openai
        .stream(&request(Mode::Tools))
        .await
        .expect("opens")
        .collect()
        .await;
    assert!(
        matches!(items.last(), Some(Err(ProviderError::Decode { .. }))),
        "{items:?}"
    );
    let mut events = Response::text("cut").to_sse_events();
    events.pop();
    server.push(Reply::sse(events));
    let items: Vec<_> = openai
        .stream(&request(Mode::Json))
        .await
        .expect("opens")
        .collect()
        .await;
    assert!(
        matches!(items.last(), Some(Err(ProviderError::Transport { .. }))),
        "{items:?}"
    );
    assert!(!format!("{openai:?}").contains(KEY));
}
