//! The Gemini and Vertex AI wire: request bodies walked against Google's discovery
//! document (every key described, every enum value allowed), recorded answers and
//! streams (`testdata/recorded/gemini/`, streamed function-call arguments of Vertex
//! included) read into neutral responses and events, whole and streamed agreeing,
//! faults over real HTTP (RetryInfo, mid-stream errors, hostile argument paths), and
//! the Vertex AI endpoint with its token exchange against the fake provider.

mod common;

use common::{person, testdata};

use futures::StreamExt;
use instructor_core::chat::{
    ChatRequest, ContentPart, FinishReason, Message, Mode, Provider, ProviderError, StreamEvent,
    ToolCall,
};
use instructor_core::media::{Document, Image};
use instructor_core::schema::{RootSchema, Schema};
use instructor_providers::gemini::{Gemini, GeminiConfig, SchemaField, VertexAuth};
use instructor_providers::testing::{FakeProvider, Reply, gemini};
use serde_json::{Value, json};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

const KEY: &str = "AIza-test-gemini-key-0123456789";
const MODEL: &str = "gemini-2.5-flash";

fn recorded(name: &str) -> Vec<u8> {
    common::recorded("gemini", name)
}

fn schemas() -> &'static Value {
    static SPEC: OnceLock<Value> = OnceLock::new();
    SPEC.get_or_init(|| common::load_spec("gemini-v1beta.discovery.json")["schemas"].clone())
}

/// What of `value` the discovery schema does not describe: unknown keys, values
/// outside an enum, the wrong JSON type. Free-form values (`type: any`, maps) end the
/// walk.
fn discovery_errors(value: &Value, schema: &Value, path: &str, errors: &mut Vec<String>) {
    let schema = match schema.get("$ref").and_then(Value::as_str) {
        Some(name) => &schemas()[name],
        None => schema,
    };
    let kind = schema.get("type").and_then(Value::as_str).unwrap_or("any");
    let fits = match (kind, value) {
        ("any", _) => return,
        ("object", Value::Object(_))
        | ("array", Value::Array(_))
        | ("string", Value::String(_))
        | ("boolean", Value::Bool(_)) => true,
        ("integer" | "number", Value::Number(_)) => true,
        // int64 and friends travel as strings.
        ("string", Value::Number(_)) => schema.get("format").is_some(),
        _ => false,
    };
    if !fits {
        errors.push(format!("{path}: a {kind} expected, got {value}"));
        return;
    }
    if let (Some(allowed), Value::String(text)) = (schema.get("enum"), value)
        && !allowed.as_array().is_some_and(|a| a.contains(&json!(text)))
    {
        errors.push(format!("{path}: `{text}` is not one of {allowed}"));
    }
    match value {
        Value::Object(object) => {
            let Some(properties) = schema.get("properties").and_then(Value::as_object) else {
                return; // a map (`additionalProperties`)
            };
            for (key, child) in object {
                match properties.get(key) {
                    Some(property) => {
                        discovery_errors(child, property, &format!("{path}.{key}"), errors)
                    }
                    None => errors.push(format!("{path}.{key} is not in the description")),
                }
            }
        }
        Value::Array(items) => {
            for item in items {
                discovery_errors(item, &schema["items"], &format!("{path}[]"), errors);
            }
        }
        _ => {}
    }
}

fn request_errors(body: &Value) -> Vec<String> {
    let mut errors = Vec::new();
    discovery_errors(
        body,
        &json!({"$ref": "GenerateContentRequest"}),
        "",
        &mut errors,
    );
    errors
}

fn assert_valid_request(body: &Value) {
    let errors = request_errors(body);
    assert!(errors.is_empty(), "{errors:#?}\n{body:#}");
}

fn request_for(mode: Mode, schema: Arc<RootSchema>) -> ChatRequest {
    common::person_request_with(MODEL, mode, schema)
}

fn request(mode: Mode) -> ChatRequest {
    request_for(mode, person())
}

fn offline() -> Gemini {
    Gemini::new(GeminiConfig::new("http://127.0.0.1:9").with_api_key(KEY))
}

#[test]
fn the_description_check_catches_what_the_api_would_refuse() {
    let mut body = offline()
        .request_body(&request(Mode::Tools))
        .expect("tools");
    assert!(request_errors(&body).is_empty());
    body["toolConfig"]["functionCallingConfig"]["mode"] = json!("REQUIRED");
    assert!(!request_errors(&body).is_empty(), "an unknown enum value");
    let mut body = offline()
        .request_body(&request(Mode::Tools))
        .expect("tools");
    body["generationConfig"] = json!({"max_tokens": 10});
    assert!(!request_errors(&body).is_empty(), "a snake_case field");
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
        for field in [SchemaField::ResponseJsonSchema, SchemaField::ResponseSchema] {
            let gemini = Gemini::new(GeminiConfig::new("http://x").with_schema_field(field));
            let body = gemini
                .request_body(&request(mode))
                .unwrap_or_else(|e| panic!("{mode:?}: {e}"));
            assert_valid_request(&body);
            assert_eq!(
                body["systemInstruction"],
                json!({"parts": [{"text": "You extract people."}]})
            );
            assert_eq!(body["contents"][0]["role"], "user");
        }
    }
    let tools = offline()
        .request_body(&request(Mode::Tools))
        .expect("tools");
    assert_eq!(
        tools["toolConfig"],
        json!({"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["Person"]}})
    );
    let declaration = &tools["tools"][0]["functionDeclarations"][0];
    assert_eq!(declaration["name"], "Person");
    assert_eq!(
        declaration["parametersJsonSchema"]["required"],
        json!(["name"])
    );

    let native = offline()
        .request_body(&request(Mode::JsonSchema))
        .expect("native");
    assert_eq!(
        native["generationConfig"]["responseMimeType"],
        "application/json"
    );
    assert_eq!(
        native["generationConfig"]["responseJsonSchema"]["type"],
        "object"
    );

    let openapi =
        Gemini::new(GeminiConfig::new("http://x").with_schema_field(SchemaField::ResponseSchema));
    let body = openapi
        .request_body(&request(Mode::JsonSchema))
        .expect("openapi");
    assert_eq!(body["generationConfig"]["responseSchema"]["type"], "OBJECT");

    let json_mode = offline().request_body(&request(Mode::Json)).expect("json");
    assert_eq!(
        json_mode["generationConfig"]["responseMimeType"],
        "application/json"
    );
    assert!(
        json_mode["generationConfig"]
            .get("responseJsonSchema")
            .is_none()
    );

    // Strict tools are not a Gemini thing: refused before sending.
    assert!(matches!(
        offline().request_body(&request(Mode::ToolsStrict)),
        Err(ProviderError::Unsupported(_))
    ));
}

#[test]
fn a_list_is_wrapped_as_core_expects_in_both_dialects() {
    let list = Arc::new(RootSchema {
        schema: Schema::array(Schema::string()),
        defs: Default::default(),
        root_name: None,
    });
    for (field, object) in [
        (SchemaField::ResponseJsonSchema, "object"),
        (SchemaField::ResponseSchema, "OBJECT"),
    ] {
        let gemini = Gemini::new(GeminiConfig::new("http://x").with_schema_field(field));
        let body = gemini
            .request_body(&request_for(Mode::JsonSchema, list.clone()))
            .expect("a list");
        assert_valid_request(&body);
        let config = &body["generationConfig"];
        let schema = config
            .get("responseJsonSchema")
            .or_else(|| config.get("responseSchema"))
            .expect("a schema");
        assert_eq!(schema["type"], object);
        assert_eq!(schema["required"], json!(["value"]));
        assert!(schema["properties"]["value"]["type"].is_string());
    }
}

#[test]
fn a_re_ask_answers_the_named_call_and_gives_the_signature_back() {
    let mut request = request(Mode::Tools);
    request.messages.push(Message {
        content: vec![ContentPart::Thinking {
            thinking: String::new(),
            signature: Some("c2lnLTE=".into()),
        }],
        ..Message::assistant_tool_calls(vec![ToolCall {
            id: "call_0".into(),
            name: "Person".into(),
            arguments: r#"{"nam": "Ada"}"#.into(),
        }])
    });
    request
        .messages
        .push(Message::tool_error("call_0", "name: missing field"));
    let body = offline().request_body(&request).expect("re-ask");
    assert_valid_request(&body);
    let contents = body["contents"].as_array().expect("contents");
    assert_eq!(contents.len(), 3);
    assert_eq!(
        contents[1],
        json!({"role": "model", "parts": [{
            "functionCall": {"name": "Person", "args": {"nam": "Ada"}},
            "thoughtSignature": "c2lnLTE=",
        }]})
    );
    assert_eq!(
        contents[2],
        json!({"role": "user", "parts": [{"functionResponse": {
            "name": "Person",
            "response": {"error": "name: missing field"},
        }}]})
    );
    // An answer to a call nobody made cannot be named: refused before sending.
    let mut orphan = request.clone();
    orphan.messages.remove(2);
    assert!(matches!(
        offline().request_body(&orphan),
        Err(ProviderError::Unsupported(_))
    ));
}

#[test]
fn images_and_documents_are_inline_data_or_file_data() {
    const PNG: &[u8] = &[
        0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0x0D, b'I', b'H', b'D', b'R',
    ];
    let mut request = request(Mode::JsonSchema);
    request.messages.push(Message::user((
        Image::from_bytes(PNG).expect("png"),
        Image::url("gs://bucket/cat.jpg"),
        Document::url("https://example.com/report.pdf"),
    )));
    let body = offline().request_body(&request).expect("media");
    assert_valid_request(&body);
    let parts = body["contents"][0]["parts"]
        .as_array()
        .expect("one user turn");
    assert_eq!(parts.len(), 4);
    assert_eq!(parts[1]["inlineData"]["mimeType"], "image/png");
    assert_eq!(
        parts[2]["fileData"],
        json!({"mimeType": "image/jpeg", "fileUri": "gs://bucket/cat.jpg"})
    );
    assert_eq!(parts[3]["fileData"]["mimeType"], "application/pdf");
}

async fn served(
    reply: Reply,
    mode: Mode,
) -> Result<instructor_core::chat::ChatResponse, ProviderError> {
    let server = FakeProvider::start().await;
    server.push(reply);
    let gemini = Gemini::new(GeminiConfig::new(server.base_url()).with_api_key(KEY));
    gemini.complete(&request(mode)).await
}

#[tokio::test]
async fn recorded_answers_are_read() {
    let response = served(
        Reply::status(200).body(recorded("generate-tool-call.json")),
        Mode::Tools,
    )
    .await
    .expect("a call");
    assert_eq!(response.tool_calls.len(), 1);
    assert_eq!(response.tool_calls[0].name, "weather");
    let args: Value = serde_json::from_str(&response.tool_calls[0].arguments).expect("JSON");
    assert_eq!(args, json!({"location": "San Francisco"}));
    assert!(matches!(
        response.reasoning.as_slice(),
        [ContentPart::Thinking { signature: Some(s), .. }] if s.starts_with("EskgCsYg")
    ));
    assert_eq!(response.finish_reason, Some(FinishReason::Stop));
    assert_eq!(response.usage.map(|u| u.input_tokens), Some(29));

    let response = served(
        Reply::status(200).body(recorded("generate-text.json")),
        Mode::Json,
    )
    .await
    .expect("text");
    assert!(response.text.is_some_and(|text| !text.is_empty()));

    let response = served(
        Reply::status(200).body(recorded("generate-prompt-blocked.json")),
        Mode::Json,
    )
    .await
    .expect("a blocked prompt is an answer the engine judges");
    assert_eq!(response.finish_reason, Some(FinishReason::ContentFilter));
    assert!(response.text.is_none());

    let error = served(
        Reply::status(400).body(recorded("error-400-invalid-argument.json")),
        Mode::Json,
    )
    .await
    .expect_err("400");
    assert!(
        matches!(error, ProviderError::Status { status: 400, .. }),
        "{error:?}"
    );
    assert!(!error.is_retryable());
}

/// The events of a recorded `*.chunks.jsonl` stream replayed as SSE.
async fn replay(name: &str) -> Vec<Result<StreamEvent, ProviderError>> {
    let text = String::from_utf8(recorded(name)).expect("UTF-8");
    let events: Vec<String> = text
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| format!("data: {line}\r\n\r\n"))
        .collect();
    stream_of(Reply::sse(events)).await
}

async fn stream_of(reply: Reply) -> Vec<Result<StreamEvent, ProviderError>> {
    let server = FakeProvider::start().await;
    server.push(reply);
    let gemini = Gemini::new(GeminiConfig::new(server.base_url()).with_api_key(KEY));
    let events: Vec<_> = gemini
        .stream(&request(Mode::Tools))
        .await
        .expect("opens")
        .collect()
        .await;
    let sent = server.last_request().expect("sent");
    assert_eq!(sent.query(), Some("alt=sse"));
    assert!(
        sent.path().ends_with(":streamGenerateContent"),
        "{}",
        sent.path()
    );
    events
}

fn calls(events: &[Result<StreamEvent, ProviderError>]) -> Vec<(Option<String>, String)> {
    let mut calls: Vec<(Option<String>, String)> = Vec::new();
    for event in events {
        if let Ok(StreamEvent::ToolArgumentsDelta {
            index, name, delta, ..
        }) = event
        {
            if calls.len() <= *index {
                calls.resize(*index + 1, (None, String::new()));
            }
            if name.is_some() {
                calls[*index].0.clone_from(name);
            }
            calls[*index].1.push_str(delta);
        }
    }
    calls
}

#[tokio::test]
async fn recorded_streams_give_text_calls_and_vertex_streamed_arguments() {
    let events = replay("stream-text.chunks.jsonl").await;
    assert!(events.iter().all(Result::is_ok), "{events:?}");
    assert!(
        events
            .iter()
            .any(|e| matches!(e, Ok(StreamEvent::TextDelta(_))))
    );
    assert!(matches!(
        events.last(),
        Some(Ok(StreamEvent::Finish(FinishReason::Stop)))
    ));

    let events = replay("stream-tool-call.chunks.jsonl").await;
    assert!(events.iter().all(Result::is_ok), "{events:?}");
    let found = calls(&events);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].0.as_deref(), Some("weather"));
    assert_eq!(
        serde_json::from_str::<Value>(&found[0].1).expect("JSON"),
        json!({"location": "San Francisco"})
    );

    let events = replay("stream-tool-call-partial-args-vertex.chunks.jsonl").await;
    assert!(events.iter().all(Result::is_ok), "{events:?}");
    let found = calls(&events);
    assert_eq!(found.len(), 2, "{found:?}");
    assert_eq!(found[0].1, r#"{"location":"Boston"}"#);
    assert_eq!(found[1].1, r#"{"location":"San Francisco"}"#);
    let usage = events.iter().rev().find_map(|e| match e {
        Ok(StreamEvent::Usage(usage)) => Some(*usage),
        _ => None,
    });
    assert_eq!(
        usage.map(|u| (u.input_tokens, u.output_tokens, u.reasoning_tokens)),
        Some((26, 23 + 132, 132))
    );

    let events = replay("stream-tool-call-partial-args-nested-vertex.chunks.jsonl").await;
    let found = calls(&events);
    assert_eq!(found.len(), 1, "{events:?}");
    let args: Value = serde_json::from_str(&found[0].1).expect("JSON");
    assert_eq!(
        args["recipe"]["ingredients"][0],
        json!({"amount": "16 oz", "name": "Lasagna noodles"})
    );
    assert_eq!(args["recipe"]["ingredients"][5]["name"], "Tomato sauce");

    let events = replay("stream-tool-call-no-args.chunks.jsonl").await;
    assert!(events.iter().all(Result::is_ok), "{events:?}");
    let found = calls(&events);
    assert_eq!(found[0], (Some("read_theme".to_owned()), "{}".to_owned()));
    assert_eq!(found[1].1, r#"{"id":"A"}"#);
    assert_eq!(found.len(), 4);
    assert!(events.iter().any(|e| matches!(
        e,
        Ok(StreamEvent::Reasoning(ContentPart::Thinking { thinking, signature: Some(_) }))
            if thinking.starts_with("**Processing")
    )));

    let events = replay("stream-prompt-blocked.chunks.jsonl").await;
    assert!(
        events.contains(&Ok(StreamEvent::Finish(FinishReason::ContentFilter))),
        "{events:?}"
    );
}

#[tokio::test]
async fn the_fakes_whole_and_streamed_answers_agree() {
    let answers = [
        gemini::GenerateContent::text_fragments([r#"{"name": "#, r#""Ada"}"#]).usage(12, 7),
        gemini::GenerateContent::function_call("Person", r#"{"name": "Ada"}"#)
            .and_function_call("Person", r#"{"name": "Bo"}"#)
            .thoughts_tokens(40),
        gemini::GenerateContent::function_call("Person", r#"{"name": "Ada", "n": 3}"#)
            .vertex_partial_args(),
        gemini::GenerateContent::text("cut").finish_reason("MAX_TOKENS"),
        gemini::GenerateContent::text("unsafe").finish_reason("SAFETY"),
    ];
    for answer in answers {
        let server = FakeProvider::start().await;
        server.push(answer.reply());
        server.push(answer.sse_reply());
        let gemini = Gemini::new(GeminiConfig::new(server.base_url()).with_api_key(KEY));
        let whole = gemini.complete(&request(Mode::Tools)).await.expect("whole");
        let events: Vec<_> = gemini
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
        let streamed = calls(&events);
        assert_eq!(streamed.len(), whole.tool_calls.len());
        for (call, (name, args)) in whole.tool_calls.iter().zip(&streamed) {
            assert_eq!(Some(&call.name), name.as_ref());
            let a: Value = serde_json::from_str(&call.arguments).expect("JSON");
            let b: Value = serde_json::from_str(args).expect("JSON");
            assert_eq!(a, b);
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
    }
}

#[tokio::test]
async fn faults_are_typed_and_the_key_stays_in_its_header() {
    let server = FakeProvider::start().await;
    let gemini = Gemini::new(GeminiConfig::new(server.base_url()).with_api_key(KEY));
    // 429 with RetryInfo in the body: the wait is honoured.
    let mut body = gemini::error_body(429, "Quota exceeded", "RESOURCE_EXHAUSTED");
    body["error"]["details"] = json!([
        {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "7s"}
    ]);
    server.push(Reply::json(429, body));
    let error = gemini
        .complete(&request(Mode::Json))
        .await
        .expect_err("429");
    assert!(error.is_retryable());
    assert_eq!(error.retry_after(), Some(Duration::from_secs(7)));
    // A mid-stream error object.
    server.push(Reply::sse([
        "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"{\"}]}}]}\n\n".to_owned(),
        format!(
            "data: {}\n\n",
            gemini::error_body(503, &format!("overloaded {KEY}"), "UNAVAILABLE")
        ),
    ]));
    let items: Vec<_> = gemini
        .stream(&request(Mode::Json))
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
                status: Some(503),
                ..
            }
        ),
        "{error:?}"
    );
    assert!(error.is_retryable());
    assert!(!format!("{error}").contains(KEY));
    // A hostile argument path is a typed error, not an allocation.
    server.push(Reply::sse([
        "data: {\"candidates\":[{\"content\":{\"parts\":[{\"functionCall\":{\"name\":\"f\",\"willContinue\":true}}]}}]}\n\n",
        "data: {\"candidates\":[{\"content\":{\"parts\":[{\"functionCall\":{\"partialArgs\":[{\"jsonPath\":\"$.a[4000000000]\",\"stringValue\":\"x\"}]}}]}}]}\n\n",
    ]));
    let items: Vec<_> = gemini
        .stream(&request(Mode::Tools))
        .await
        .expect("opens")
        .collect()
        .await;
    assert!(
        matches!(items.last(), Some(Err(ProviderError::Decode { .. }))),
        "{items:?}"
    );
    // A stream that ends without a finish reason.
    server.push(Reply::sse([
        "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"{\"}]}}]}\n\n",
    ]));
    let items: Vec<_> = gemini
        .stream(&request(Mode::Json))
        .await
        .expect("opens")
        .collect()
        .await;
    assert!(
        matches!(items.last(), Some(Err(ProviderError::Transport { .. }))),
        "{items:?}"
    );
    // The key: in `x-goog-api-key`, never in the URL, never shown.
    for sent in server.requests() {
        assert_eq!(sent.header("x-goog-api-key"), Some(KEY));
        assert!(!sent.query().unwrap_or_default().contains(KEY));
    }
    assert!(!format!("{gemini:?}").contains(KEY));
    // A model name that is not a name never reaches the URL.
    let mut odd = request(Mode::Json);
    odd.model = "../../admin?x=1".into();
    assert!(matches!(
        gemini.complete(&odd).await,
        Err(ProviderError::Unsupported(_))
    ));
}

#[tokio::test]
async fn vertex_uses_the_project_endpoint_and_a_bearer_token() {
    let server = FakeProvider::start().await;
    let config = GeminiConfig::vertex(
        "my-project",
        "europe-west4",
        VertexAuth::token("ya29.token"),
    )
    .with_base_url(server.base_url());
    let vertex = Gemini::new(config);
    assert_eq!(vertex.name(), "vertex_ai");
    server.push(gemini::GenerateContent::text(r#"{"name": "Ada"}"#).reply());
    vertex
        .complete(&request(Mode::JsonSchema))
        .await
        .expect("vertex");
    let sent = server.last_request().expect("sent");
    assert_eq!(
        sent.path(),
        "/v1/projects/my-project/locations/europe-west4/publishers/google/models/gemini-2.5-flash:generateContent"
    );
    assert_eq!(sent.header("authorization"), Some("Bearer ya29.token"));
    assert!(sent.header("x-goog-api-key").is_none());
    assert!(!format!("{vertex:?}").contains("ya29"));
    let real = GeminiConfig::vertex("p", "us-central1", VertexAuth::token("t"));
    assert_eq!(
        real.endpoint("gemini-2.5-pro", "generateContent")
            .expect("url"),
        "https://us-central1-aiplatform.googleapis.com/v1/projects/p/locations/us-central1/publishers/google/models/gemini-2.5-pro:generateContent"
    );
}

#[tokio::test]
async fn application_default_credentials_are_exchanged_once_and_kept() {
    let server = FakeProvider::start().await;
    let credentials = json!({
        "type": "authorized_user",
        "client_id": "client-1.apps.googleusercontent.com",
        "client_secret": "secret-abcdefgh",
        "refresh_token": "1//refresh-token-abcdefgh",
        "token_uri": server.url("/token"),
    });
    let auth = VertexAuth::from_credentials_json(&credentials.to_string()).expect("credentials");
    assert!(!format!("{auth:?}").contains("refresh-token"));
    server.push_for(
        "/token",
        Reply::json(
            200,
            json!({"access_token": "ya29.exchanged", "expires_in": 3599, "token_type": "Bearer"}),
        ),
    );
    let vertex = Gemini::new(
        GeminiConfig::vertex("p", "us-central1", auth).with_base_url(server.base_url()),
    );
    for _ in 0..2 {
        server.push(gemini::GenerateContent::text("ok").reply());
        vertex
            .complete(&request(Mode::Json))
            .await
            .expect("answered");
    }
    let exchanges = server.requests_for("/token");
    assert_eq!(exchanges.len(), 1, "the token is kept");
    let form = String::from_utf8(exchanges[0].body().to_vec()).expect("a form");
    assert!(form.contains("grant_type=refresh_token"), "{form}");
    assert!(
        form.contains("refresh_token=1%2F%2Frefresh-token-abcdefgh"),
        "{form}"
    );
    assert_eq!(
        exchanges[0].header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    let generated: Vec<_> = server
        .requests()
        .into_iter()
        .filter(|r| r.path().ends_with(":generateContent"))
        .collect();
    assert_eq!(generated.len(), 2);
    assert!(
        generated
            .iter()
            .all(|r| r.header("authorization") == Some("Bearer ya29.exchanged"))
    );

    // A refused exchange is a typed error that shows no secret.
    let refused = VertexAuth::from_credentials_json(&credentials.to_string()).expect("credentials");
    let vertex = Gemini::new(
        GeminiConfig::vertex("p", "us-central1", refused).with_base_url(server.base_url()),
    );
    server.push_for(
        "/token",
        Reply::json(
            400,
            json!({"error": "invalid_grant", "error_description": "Bad Request"}),
        ),
    );
    let error = vertex
        .complete(&request(Mode::Json))
        .await
        .expect_err("refused");
    let shown = format!("{error} {error:?}");
    assert!(shown.contains("token exchange"), "{shown}");
    assert!(!shown.contains("refresh-token-abcdefgh") && !shown.contains("secret-abcdefgh"));

    for bad in [
        "{}",
        r#"{"type": "external_account"}"#,
        r#"{"type": "service_account"}"#,
        "not json",
    ] {
        assert!(VertexAuth::from_credentials_json(bad).is_err(), "{bad}");
    }
}

#[cfg(feature = "vertex")]
#[tokio::test]
async fn a_service_account_signs_a_jwt_the_token_endpoint_can_verify() {
    use base64::Engine as _;
    let server = FakeProvider::start().await;
    let private_key = std::fs::read_to_string(testdata().join("keys/test-service-account.pem"))
        .expect("the test key");
    let credentials = json!({
        "type": "service_account",
        "project_id": "p",
        "private_key_id": "key-1",
        "private_key": private_key,
        "client_email": "extractor@p.iam.gserviceaccount.com",
        "token_uri": server.url("/token"),
    });
    let auth = VertexAuth::from_credentials_json(&credentials.to_string()).expect("credentials");
    assert!(!format!("{auth:?}").contains("PRIVATE KEY"));
    server.push_for(
        "/token",
        Reply::json(200, json!({"access_token": "ya29.sa", "expires_in": 3600})),
    );
    server.push(gemini::GenerateContent::text("ok").reply());
    let vertex = Gemini::new(
        GeminiConfig::vertex("p", "us-central1", auth).with_base_url(server.base_url()),
    );
    vertex
        .complete(&request(Mode::Json))
        .await
        .expect("answered");
    let exchange = &server.requests_for("/token")[0];
    let form = String::from_utf8(exchange.body().to_vec()).expect("a form");
    let assertion = form
        .split('&')
        .find_map(|pair| pair.strip_prefix("assertion="))
        .expect("an assertion");
    assert!(form.contains("grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer"));
    let public = std::fs::read(testdata().join("keys/test-service-account.pub.pem")).expect("key");
    let key = jsonwebtoken::DecodingKey::from_rsa_pem(&public).expect("a public key");
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    validation.set_audience(&[server.url("/token")]);
    let token =
        jsonwebtoken::decode::<Value>(assertion, &key, &validation).expect("a valid signature");
    assert_eq!(token.claims["iss"], "extractor@p.iam.gserviceaccount.com");
    assert_eq!(
        token.claims["scope"],
        "https://www.googleapis.com/auth/cloud-platform"
    );
    assert_eq!(token.header.kid.as_deref(), Some("key-1"));
    let header = assertion.split('.').next().expect("a header");
    let header = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(header)
        .expect("base64");
    assert!(String::from_utf8_lossy(&header).contains("RS256"));
    assert_eq!(
        server.last_request().expect("sent").header("authorization"),
        Some("Bearer ya29.sa")
    );
}
