//! The Cohere v2 Chat wire: requests validated against Cohere's published description
//! (the `/v2/chat` request body, required fields kept), the fake's answers and stream
//! events against `ChatResponseV2` and the stream event schemas, whole and streamed
//! answers agreeing, and faults over real HTTP.

mod common;

use futures::StreamExt;
use instructor_core::chat::{
    ChatRequest, ContentPart, FinishReason, Message, Mode, Provider, ProviderError, StreamEvent,
    ToolCall,
};
use instructor_core::media::Image;
use instructor_providers::cohere::{Cohere, CohereConfig};
use instructor_providers::testing::{FakeProvider, Reply, cohere};
use serde_json::{Value, json};
use std::sync::OnceLock;

const KEY: &str = "co-test-key-0123456789";

fn spec() -> &'static Value {
    static SPEC: OnceLock<Value> = OnceLock::new();
    SPEC.get_or_init(|| common::load_spec("cohere-chat-v2.openapi.json"))
}

fn validator(pointer: &str) -> jsonschema::Validator {
    common::openapi_validator(spec(), pointer, true)
}

use common::schema_errors as errors;

fn request_errors(body: &Value) -> Vec<String> {
    static VALIDATOR: OnceLock<jsonschema::Validator> = OnceLock::new();
    let validator = VALIDATOR.get_or_init(|| {
        validator("#/paths/~1v2~1chat/post/requestBody/content/application~1json/schema")
    });
    errors(validator, body)
}

fn assert_valid_request(body: &Value) {
    let errors = request_errors(body);
    assert!(errors.is_empty(), "{errors:#?}\n{body:#}");
}

fn request(mode: Mode) -> ChatRequest {
    let mut request = common::person_request("command-a-03-2025", mode);
    if let Some(output) = &mut request.output {
        output.description = None;
    }
    request
}

fn offline() -> Cohere {
    Cohere::new(CohereConfig::new("http://127.0.0.1:9").with_api_key(KEY))
}

#[test]
fn every_mode_makes_a_request_the_description_accepts() {
    for mode in [
        Mode::Tools,
        Mode::JsonSchema,
        Mode::Json,
        Mode::MdJson,
        Mode::ParallelTools,
    ] {
        let body = offline().request_body(&request(mode)).expect("a body");
        assert_valid_request(&body);
        assert_eq!(
            body["messages"][0],
            json!({"role": "system", "content": "You extract people."})
        );
    }
    let tools = offline()
        .request_body(&request(Mode::Tools))
        .expect("tools");
    assert_eq!(tools["tool_choice"], "REQUIRED");
    assert_eq!(tools["tools"][0]["function"]["name"], "Person");
    let native = offline()
        .request_body(&request(Mode::JsonSchema))
        .expect("native");
    assert_eq!(native["response_format"]["type"], "json_object");
    assert_eq!(
        native["response_format"]["json_schema"]["required"],
        json!(["name"])
    );
    assert!(matches!(
        offline().request_body(&request(Mode::ToolsStrict)),
        Err(ProviderError::Unsupported(_))
    ));
    // The check refuses what the API would.
    let mut wrong = tools.clone();
    wrong["tool_choice"] = json!("ANY");
    assert!(!request_errors(&wrong).is_empty());
}

#[test]
fn a_re_ask_and_an_image_are_sent_as_cohere_reads_them() {
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
        "And this one?",
        Image::url("https://example.com/a.png"),
    )));
    let body = offline().request_body(&request).expect("a body");
    assert_valid_request(&body);
    let messages = body["messages"].as_array().expect("messages");
    assert_eq!(
        messages[2]["tool_calls"][0]["function"]["arguments"],
        r#"{"nam": "Ada"}"#
    );
    assert!(messages[2].get("content").is_none());
    assert_eq!(
        messages[3],
        json!({"role": "tool", "tool_call_id": "call_0", "content": "name: missing field"})
    );
    assert_eq!(
        messages[4]["content"][1]["image_url"]["url"],
        "https://example.com/a.png"
    );
}

#[tokio::test]
async fn the_fakes_bodies_are_valid_and_whole_and_streamed_agree() {
    let response_validator = validator("#/components/schemas/ChatResponseV2");
    let event_validator = validator("#/components/schemas/StreamedChatResponseV2");
    let answers = [
        cohere::Chat::text_fragments([r#"{"name": "#, r#""Ada"}"#]).usage(12, 7),
        cohere::Chat::tool_call_fragments("Person", [r#"{"name":"#, r#" "Ada"}"#])
            .and_tool_call("Person", r#"{"name": "Bo"}"#),
        cohere::Chat::text("cut").finish_reason("MAX_TOKENS"),
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
        let cohere = Cohere::new(CohereConfig::new(server.base_url()).with_api_key(KEY));
        let whole = cohere.complete(&request(Mode::Tools)).await.expect("whole");
        let events: Vec<_> = cohere
            .stream(&request(Mode::Tools))
            .await
            .expect("opens")
            .collect()
            .await;
        assert!(events.iter().all(Result::is_ok), "{events:?}");
        let text: String = events
            .iter()
            .filter_map(|e| match e {
                Ok(StreamEvent::TextDelta(text)) => Some(text.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(whole.text.clone().unwrap_or_default(), text);
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
        let reasoning: Vec<&ContentPart> = events
            .iter()
            .filter_map(|e| match e {
                Ok(StreamEvent::Reasoning(part)) => Some(part),
                _ => None,
            })
            .collect();
        assert_eq!(reasoning.len(), whole.reasoning.len());
        let finish = events.iter().rev().find_map(|e| match e {
            Ok(StreamEvent::Finish(reason)) => Some(reason.clone()),
            _ => None,
        });
        assert_eq!(finish, whole.finish_reason);
        let sent = server.last_request().expect("sent");
        assert_eq!(sent.path(), "/v2/chat");
        assert_eq!(
            sent.header("authorization"),
            Some(format!("Bearer {KEY}").as_str())
        );
        assert_valid_request(sent.json().expect("JSON"));
    }
}

#[tokio::test]
async fn faults_are_typed() {
    let server = FakeProvider::start().await;
    let cohere = Cohere::new(CohereConfig::new(server.base_url()).with_api_key(KEY));
    server
        .push(Reply::json(429, cohere::error_body("too many requests")).header("retry-after", "3"));
    let error = cohere
        .complete(&request(Mode::Json))
        .await
        .expect_err("429");
    assert!(error.is_retryable());
    let mut events = cohere::Chat::text("partial").to_sse_events();
    let last = events.len() - 1;
    events[last] = format!(
        "event: message-end\ndata: {}\n\n",
        json!({"type": "message-end", "delta": {"error": format!("internal {KEY}")}})
    );
    server.push(Reply::sse(events));
    let items: Vec<_> = cohere
        .stream(&request(Mode::Json))
        .await
        .expect("opens")
        .collect()
        .await;
    let Some(Err(error)) = items.last() else {
        panic!("{items:?}")
    };
    assert!(matches!(error, ProviderError::Stream { .. }), "{error:?}");
    assert!(!error.to_string().contains(KEY));
    server.push(Reply::sse([
        "event: tool-call-start\ndata: {\"type\":\"tool-call-start\",\"index\":1e30}\n\n",
    ]));
    let items: Vec<_> = cohere
        .stream(&request(Mode::Tools))
        .await
        .expect("opens")
        .collect()
        .await;
    assert!(
        matches!(items.last(), Some(Err(ProviderError::Decode { .. }))),
        "{items:?}"
    );
    let mut events = cohere::Chat::text("cut").to_sse_events();
    events.pop();
    server.push(Reply::sse(events));
    let items: Vec<_> = cohere
        .stream(&request(Mode::Json))
        .await
        .expect("opens")
        .collect()
        .await;
    assert!(
        matches!(items.last(), Some(Err(ProviderError::Transport { .. }))),
        "{items:?}"
    );
    server.push(cohere::Chat::text("x").finish_reason("MAX_TOKENS").reply());
    let response = cohere
        .complete(&request(Mode::Json))
        .await
        .expect("an answer");
    assert_eq!(response.finish_reason, Some(FinishReason::Length));
    assert!(!format!("{cohere:?}").contains(KEY));
}
