//! The Bedrock Converse wire: request bodies checked against AWS's published service
//! model (`ConverseRequest` in botocore's `service-2.json`: members, required members,
//! unions, types, enums), SigV4 signatures checked by the fake provider (independently of
//! the signing crate), binary event streams read in random chunkings, and the faults
//! (CRC mismatches, oversized frames, exceptions mid-stream, cut streams, statuses,
//! secrets) over real HTTP against the fake provider.

mod common;

use common::person;

use futures::StreamExt;
use instructor_core::chat::{
    ChatRequest, ContentPart, FinishReason, Message, Mode, Provider, ProviderError, StreamEvent,
    ToolCall, ToolSpec, Usage,
};
use instructor_core::media::{Document, Image, cached};
use instructor_providers::bedrock::{AwsCredentials, Bedrock, BedrockConfig, MAX_FRAME_BYTES};
use instructor_providers::testing::bedrock::{
    self as fake, Converse, converse_path, converse_stream_path,
};
use instructor_providers::testing::{FakeProvider, Reply};
use serde_json::{Value, json};
use std::sync::OnceLock;

const KEY_ID: &str = "AKIDEXAMPLE0123";
const SECRET: &str = "wJalrXUtnFEMI-K7MDENG-bPxRfiCYEXAMPLEKEY";
const TOKEN: &str = "session-token-FwoGZXIvYXdzEJr-0123456789";
const REGION: &str = "eu-central-1";
const CLAUDE: &str = "anthropic.claude-3-5-haiku-20241022-v1:0";
const LLAMA: &str = "meta.llama3-1-70b-instruct-v1:0";
const MISTRAL: &str = "mistral.mistral-large-2407-v1:0";

fn spec() -> &'static Value {
    static SPEC: OnceLock<Value> = OnceLock::new();
    SPEC.get_or_init(|| common::load_spec("bedrock-runtime-2023-09-30.service-2.json"))
}

/// Checks `value` against botocore shape `shape`, collecting what the API would refuse.
fn check_shape(value: &Value, shape: &str, path: &str, errors: &mut Vec<String>) {
    let shapes = &spec()["shapes"];
    let def = &shapes[shape];
    assert!(def.is_object(), "no shape {shape}");
    let kind = def["type"].as_str().unwrap_or_default();
    let mut fail = |why: String| errors.push(format!("{path}: {why} (shape {shape})"));
    if def["document"] == true {
        // A free-form JSON document (a tool's schema and input).
        return;
    }
    match kind {
        "structure" => {
            let Some(object) = value.as_object() else {
                return fail("not an object".into());
            };
            let members = def["members"].as_object().expect("members");
            if def["union"] == true && object.len() != 1 {
                fail(format!("a union with {} members set", object.len()));
            }
            for required in def["required"].as_array().into_iter().flatten() {
                let name = required.as_str().unwrap_or_default();
                // Members bound to the URI or headers are not in the body.
                if members[name].get("location").is_none() && !object.contains_key(name) {
                    fail(format!("required `{name}` missing"));
                }
            }
            for (name, member) in object {
                match members.get(name) {
                    None => errors.push(format!("{path}: unknown member `{name}` (shape {shape})")),
                    Some(def) if def.get("location").is_some() => {
                        errors.push(format!("{path}: `{name}` belongs in the URI or headers"));
                    }
                    Some(def) => check_shape(
                        member,
                        def["shape"].as_str().expect("shape"),
                        &format!("{path}.{name}"),
                        errors,
                    ),
                }
            }
        }
        "list" => {
            let Some(items) = value.as_array() else {
                return fail("not an array".into());
            };
            if let Some(min) = def["min"].as_u64()
                && (items.len() as u64) < min
            {
                fail(format!("{} items, at least {min}", items.len()));
            }
            if let Some(max) = def["max"].as_u64()
                && (items.len() as u64) > max
            {
                fail(format!("{} items, at most {max}", items.len()));
            }
            let member = def["member"]["shape"].as_str().expect("member");
            for (index, item) in items.iter().enumerate() {
                check_shape(item, member, &format!("{path}[{index}]"), errors);
            }
        }
        "map" => {
            let Some(object) = value.as_object() else {
                return fail("not an object".into());
            };
            let member = def["value"]["shape"].as_str().expect("value");
            for (key, item) in object {
                check_shape(item, member, &format!("{path}.{key}"), errors);
            }
        }
        "string" => {
            let Some(text) = value.as_str() else {
                return fail("not a string".into());
            };
            if let Some(values) = def["enum"].as_array()
                && !values.iter().any(|v| v == text)
            {
                fail(format!("`{text}` is not one of {values:?}"));
            }
            if let Some(min) = def["min"].as_u64()
                && (text.chars().count() as u64) < min
            {
                fail(format!("shorter than {min}"));
            }
            if let Some(pattern) = def["pattern"].as_str()
                && shape == "ToolName"
                && !text
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            {
                fail(format!("`{text}` does not match {pattern}"));
            }
        }
        "integer" | "long" => {
            let Some(number) = value.as_i64() else {
                return fail("not an integer".into());
            };
            if let Some(min) = def["min"].as_i64()
                && number < min
            {
                fail(format!("{number} below {min}"));
            }
        }
        "float" | "double" => {
            if !value.is_number() {
                fail("not a number".into());
            }
        }
        "boolean" => {
            if !value.is_boolean() {
                fail("not a boolean".into());
            }
        }
        "blob" => {
            use base64::Engine;
            let decoded = value
                .as_str()
                .map(|text| base64::engine::general_purpose::STANDARD.decode(text));
            if !matches!(decoded, Some(Ok(_))) {
                fail("not base64".into());
            }
        }
        "document" => {}
        other => fail(format!("unhandled shape type {other}")),
    }
}

fn request_errors(body: &Value) -> Vec<String> {
    let mut errors = Vec::new();
    check_shape(body, "ConverseRequest", "$", &mut errors);
    errors
}

fn assert_valid_request(body: &Value) {
    let errors = request_errors(body);
    assert!(errors.is_empty(), "{errors:#?}\n{body:#}");
}

#[test]
fn the_description_check_catches_what_the_api_would_refuse() {
    let body = client("http://127.0.0.1:9")
        .request_body(&request(CLAUDE, Mode::Tools))
        .expect("tools");
    assert!(request_errors(&body).is_empty());
    let mut wrong = body.clone();
    wrong["messages"][0]["role"] = json!("tool");
    assert!(!request_errors(&wrong).is_empty(), "no tool role");
    let mut wrong = body.clone();
    wrong["toolConfig"]["toolChoice"] = json!({"type": "tool", "name": "Person"});
    assert!(
        !request_errors(&wrong).is_empty(),
        "Anthropic's tool_choice shape"
    );
    let mut wrong = body.clone();
    wrong["messages"][0]["content"][0] = json!({"type": "text", "text": "hi"});
    assert!(
        !request_errors(&wrong).is_empty(),
        "Anthropic's block shape"
    );
    let mut wrong = body.clone();
    wrong["messages"][0]["content"][0] = json!({"text": "a", "cachePoint": {"type": "default"}});
    assert!(!request_errors(&wrong).is_empty(), "two union members");
    let mut wrong = body;
    wrong["modelId"] = json!(CLAUDE);
    assert!(
        !request_errors(&wrong).is_empty(),
        "the model id is in the URI"
    );
}

fn request(model: &str, mode: Mode) -> ChatRequest {
    common::person_request(model, mode)
}

fn credentials() -> AwsCredentials {
    AwsCredentials::new(KEY_ID, SECRET).with_session_token(TOKEN)
}

fn client(base: &str) -> Bedrock {
    Bedrock::new(BedrockConfig::new(REGION, credentials()).with_base_url(base))
}

#[test]
fn every_mode_and_family_makes_a_request_the_description_accepts() {
    let bedrock = client("http://127.0.0.1:9");
    for model in [CLAUDE, LLAMA, MISTRAL, "us.amazon.nova-pro-v1:0"] {
        for mode in [Mode::Tools, Mode::Json, Mode::MdJson, Mode::ParallelTools] {
            let result = bedrock.request_body(&request(model, mode));
            if model == LLAMA && mode == Mode::ParallelTools {
                assert!(
                    matches!(result, Err(ProviderError::Unsupported(_))),
                    "Llama cannot be made to call several tools"
                );
                continue;
            }
            let body = result.unwrap_or_else(|e| panic!("{model} {mode:?}: {e}"));
            assert_valid_request(&body);
            assert_eq!(body["system"][0], json!({"text": "You extract people."}));
            assert_eq!(body["messages"][0]["role"], "user");
            assert_eq!(body["inferenceConfig"]["maxTokens"], 4096);
        }
    }
    let tool_choice = |model: &str| {
        bedrock
            .request_body(&request(model, Mode::Tools))
            .expect("tools")["toolConfig"]["toolChoice"]
            .clone()
    };
    assert_eq!(tool_choice(CLAUDE), json!({"tool": {"name": "Person"}}));
    assert_eq!(tool_choice(MISTRAL), json!({"any": {}}));
    assert_eq!(tool_choice(LLAMA), json!({"auto": {}}));
    let llama = bedrock
        .request_body(&request(LLAMA, Mode::Tools))
        .expect("llama");
    assert!(
        llama["system"][1]["text"]
            .as_str()
            .expect("instruction")
            .contains("`Person` tool"),
        "Llama is asked for the tool: {llama:#}"
    );
    let tools = bedrock
        .request_body(&request(CLAUDE, Mode::Tools))
        .expect("tools");
    let spec = &tools["toolConfig"]["tools"][0]["toolSpec"];
    assert_eq!(spec["name"], "Person");
    assert_eq!(spec["description"], "A person");
    assert_eq!(spec["inputSchema"]["json"]["type"], "object");
    assert_eq!(spec["inputSchema"]["json"]["required"], json!(["name"]));
    let prompted = bedrock
        .request_body(&request(CLAUDE, Mode::MdJson))
        .expect("md");
    assert!(prompted.get("toolConfig").is_none());
    for mode in [Mode::JsonSchema, Mode::ToolsStrict] {
        assert!(matches!(
            bedrock.request_body(&request(CLAUDE, mode)),
            Err(ProviderError::Unsupported(_))
        ));
    }
}

#[test]
fn parallel_tools_offer_one_tool_per_item_kind() {
    let mut request = request(CLAUDE, Mode::ParallelTools);
    if let Some(output) = &mut request.output {
        output.tools = ["Weather", "Stock price"]
            .map(|name| ToolSpec {
                name: name.into(),
                description: None,
                schema: person(),
            })
            .into();
    }
    let body = client("http://127.0.0.1:9")
        .request_body(&request)
        .expect("parallel");
    assert_valid_request(&body);
    let names: Vec<&Value> = body["toolConfig"]["tools"]
        .as_array()
        .expect("tools")
        .iter()
        .map(|tool| &tool["toolSpec"]["name"])
        .collect();
    assert_eq!(names, [&json!("Weather"), &json!("Stock_price")]);
    assert_eq!(body["toolConfig"]["toolChoice"], json!({"any": {}}));
}

const PNG: &[u8] = &[
    0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, b'I', b'H', b'D', b'R', 0, 0, 0,
    1, 0, 0, 0, 1, 8, 6, 0, 0, 0, 0x1f, 0x15, 0xc4, 0x89,
];

#[test]
fn images_documents_and_cache_points_go_as_converse_blocks() {
    let image = Image::from_bytes(PNG).expect("png");
    let pdf = Document::from_bytes(b"%PDF-1.4\n%%EOF\n").expect("pdf");
    let mut request = request(CLAUDE, Mode::Tools);
    request.messages = vec![
        Message::system(cached("A long system prompt.")),
        Message::user(vec![
            ContentPart::text("Who is this?"),
            ContentPart::Image(image.clone()),
            ContentPart::CacheBreakpoint {
                ttl: Default::default(),
            },
            ContentPart::Document(pdf.clone()),
        ]),
    ];
    let bedrock = client("http://127.0.0.1:9");
    let body = bedrock.request_body(&request).expect("media");
    assert_valid_request(&body);
    assert_eq!(
        body["system"][1],
        json!({"cachePoint": {"type": "default"}})
    );
    let content = &body["messages"][0]["content"];
    assert_eq!(content[1]["image"]["format"], "png");
    use base64::Engine;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(
            content[1]["image"]["source"]["bytes"]
                .as_str()
                .expect("bytes"),
        )
        .expect("base64");
    assert_eq!(bytes, PNG);
    assert_eq!(content[2], json!({"cachePoint": {"type": "default"}}));
    assert_eq!(content[3]["document"]["format"], "pdf");
    assert_eq!(content[3]["document"]["name"], "document-1");

    // Llama and Mistral cache nothing: the markers are left out.
    request.model = LLAMA.into();
    let body = bedrock.request_body(&request).expect("llama");
    assert_valid_request(&body);
    assert!(!body.to_string().contains("cachePoint"), "{body:#}");

    // What cannot go is refused before sending.
    let mut by_url = request.clone();
    by_url.messages = vec![Message::user(vec![ContentPart::Image(Image::url(
        "https://example.com/cat.png",
    ))])];
    let error = bedrock.request_body(&by_url).expect_err("a URL");
    assert!(error.to_string().contains("not as a URL"), "{error}");
    let mut in_system = request.clone();
    in_system.messages = vec![Message::system(vec![ContentPart::Image(image)])];
    assert!(matches!(
        bedrock.request_body(&in_system),
        Err(ProviderError::Unsupported(_))
    ));
    let mut too_many = request;
    too_many.model = CLAUDE.into();
    too_many.messages = (0..5)
        .map(|i| Message::user(cached(format!("part {i}"))))
        .collect();
    let error = bedrock
        .request_body(&too_many)
        .expect_err("five cache points");
    assert!(error.to_string().contains("at most 4"), "{error}");
}

#[test]
fn a_reask_answers_the_failed_tool_use_with_an_error_result() {
    let mut request = request(CLAUDE, Mode::Tools);
    request
        .messages
        .push(Message::assistant_tool_calls(vec![ToolCall {
            id: "tooluse_1".into(),
            name: "Person".into(),
            arguments: r#"{"name": 7}"#.into(),
        }]));
    request
        .messages
        .push(Message::tool_error("tooluse_1", "name: expected a string"));
    let bedrock = client("http://127.0.0.1:9");
    let body = bedrock.request_body(&request).expect("re-ask");
    assert_valid_request(&body);
    assert_eq!(
        body["messages"][1]["content"][0],
        json!({"toolUse": {"toolUseId": "tooluse_1", "name": "Person", "input": {"name": 7}}})
    );
    assert_eq!(
        body["messages"][2],
        json!({"role": "user", "content": [{"toolResult": {
            "toolUseId": "tooluse_1",
            "content": [{"text": "name: expected a string"}],
            "status": "error"
        }}]})
    );
    // Mistral takes no status: the error is in the text.
    request.model = MISTRAL.into();
    let body = bedrock.request_body(&request).expect("mistral");
    assert_valid_request(&body);
    assert!(
        body["messages"][2]["content"][0]["toolResult"]
            .get("status")
            .is_none()
    );
}

#[tokio::test]
async fn signed_requests_are_accepted_and_a_wrong_secret_is_refused() {
    let server = FakeProvider::start().await;
    fake::require_signature(&server, &credentials(), REGION);
    server.push(Converse::tool_use("Person", r#"{"name":"Ada"}"#).reply());
    let bedrock = client(&server.origin());
    let response = bedrock
        .complete(&request(CLAUDE, Mode::Tools))
        .await
        .expect("a good signature");
    assert_eq!(response.tool_calls[0].name, "Person");
    assert_eq!(&*response.tool_calls[0].arguments, r#"{"name":"Ada"}"#);
    assert_eq!(response.finish_reason, Some(FinishReason::ToolCalls));
    assert_eq!(response.request_id.as_deref(), Some(fake::REQUEST_ID));
    let sent = server.last_request().expect("sent");
    assert_eq!(sent.path(), converse_path(CLAUDE));
    assert_eq!(sent.header("x-amz-security-token"), Some(TOKEN));
    assert_valid_request(sent.json().expect("JSON"));
    assert!(!String::from_utf8_lossy(sent.body()).contains(SECRET));

    // The same request with another secret: the fake recomputes and refuses.
    let wrong = Bedrock::new(
        BedrockConfig::new(
            REGION,
            AwsCredentials::new(KEY_ID, "another-secret-0123456789").with_session_token(TOKEN),
        )
        .with_base_url(server.origin()),
    );
    server.push(Converse::text("unused").reply());
    let error = wrong
        .complete(&request(CLAUDE, Mode::Tools))
        .await
        .expect_err("a wrong signature");
    let ProviderError::Status { status, body, .. } = &error else {
        panic!("{error:?}");
    };
    assert_eq!(*status, 403);
    assert!(body.contains("signature"), "{body}");
    assert!(!error.is_retryable());
    // Another region is another signing key.
    let elsewhere =
        Bedrock::new(BedrockConfig::new("us-west-2", credentials()).with_base_url(server.origin()));
    let error = elsewhere
        .complete(&request(CLAUDE, Mode::Tools))
        .await
        .expect_err("another region");
    assert!(
        matches!(error, ProviderError::Status { status: 403, .. }),
        "{error:?}"
    );
    assert_eq!(
        server.remaining(),
        1,
        "refused requests take no scripted reply"
    );
}

#[tokio::test]
async fn errors_carry_the_request_id_and_never_the_session_token() {
    let server = FakeProvider::start().await;
    server.push(fake::error_reply(
        400,
        "ValidationException",
        &format!("bad token {TOKEN} in the request"),
    ));
    let error = client(&server.origin())
        .complete(&request(CLAUDE, Mode::Tools))
        .await
        .expect_err("400");
    let shown = format!("{error} {error:?}");
    assert!(!shown.contains(TOKEN), "{shown}");
    assert!(!shown.contains(SECRET), "{shown}");
    let ProviderError::Status { request_id, .. } = &error else {
        panic!("{error:?}");
    };
    assert_eq!(request_id.as_deref(), Some(fake::REQUEST_ID));

    server.push(fake::error_reply(
        429,
        "ThrottlingException",
        "Too many requests",
    ));
    let error = client(&server.origin())
        .complete(&request(CLAUDE, Mode::Tools))
        .await
        .expect_err("429");
    assert!(error.is_retryable(), "throttling is retried: {error:?}");
}

async fn stream_events(
    server: &FakeProvider,
    model: &str,
    reply: Reply,
) -> Vec<Result<StreamEvent, ProviderError>> {
    server.push(reply);
    let stream = client(&server.origin())
        .stream(&request(model, Mode::Tools))
        .await
        .expect("opened");
    stream.collect().await
}

/// A small deterministic generator for chunkings.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        usize::try_from(self.0 >> 33).expect("fits") % n.max(1)
    }
}

fn every_kind() -> Converse {
    Converse::tool_use_fragments("Person", [r#"{"na"#, r#"me": "A"#, r#"da"}"#])
        .thinking_first(["Let me ", "think."], "sig-1")
        .and_text("Done.")
        .and_tool_use("Person", r#"{"name":"Grace"}"#)
        .usage(30, 11)
        .cache_usage(100, 5)
}

#[tokio::test]
async fn every_event_kind_reads_the_same_in_any_chunking() {
    let server = FakeProvider::start().await;
    let frames = every_kind().to_frames();
    let mut bytes: Vec<u8> = frames.concat();
    // An event of a later API version and a message type of a later version: skipped.
    let unknown = fake::event_frame("citationsDelta", &json!({"x": 1}));
    let odd = fake::frame(&[(":message-type", "ping")], b"{}");
    let at = frames[0].len();
    bytes.splice(at..at, unknown.iter().chain(&odd).copied());

    let whole = stream_events(&server, CLAUDE, fake::stream_reply([bytes.clone()])).await;
    let whole: Vec<StreamEvent> = whole.into_iter().map(|e| e.expect("event")).collect();
    let arguments = |events: &[StreamEvent], wanted: usize| -> String {
        events
            .iter()
            .filter_map(|event| match event {
                StreamEvent::ToolArgumentsDelta { index, delta, .. } if *index == wanted => {
                    Some(delta.as_str())
                }
                _ => None,
            })
            .collect()
    };
    assert_eq!(arguments(&whole, 0), r#"{"name": "Ada"}"#);
    assert_eq!(arguments(&whole, 1), r#"{"name":"Grace"}"#);
    assert!(whole.contains(&StreamEvent::ToolArgumentsDelta {
        index: 0,
        id: Some("tooluse_0".into()),
        name: Some("Person".into()),
        delta: String::new(),
    }));
    assert!(whole.contains(&StreamEvent::TextDelta("Done.".into())));
    assert!(
        whole.contains(&StreamEvent::Reasoning(ContentPart::Thinking {
            thinking: "Let me think.".into(),
            signature: Some("sig-1".into()),
        }))
    );
    assert!(whole.contains(&StreamEvent::Finish(FinishReason::ToolCalls)));
    assert!(whole.contains(&StreamEvent::Usage(Usage {
        input_tokens: 135,
        output_tokens: 11,
        cached_tokens: 100,
        cache_creation_tokens: 5,
        ..Usage::default()
    })));

    let mut random = Lcg(7);
    for _ in 0..40 {
        let mut cuts: Vec<usize> = (0..random.below(12) + 1)
            .map(|_| random.below(bytes.len()))
            .collect();
        cuts.sort_unstable();
        cuts.dedup();
        let reply = fake::stream_reply([bytes.clone()]).cut_at(&cuts);
        let events: Vec<StreamEvent> = stream_events(&server, CLAUDE, reply)
            .await
            .into_iter()
            .map(|e| e.unwrap_or_else(|e| panic!("cuts {cuts:?}: {e}")))
            .collect();
        assert_eq!(events, whole, "cuts at {cuts:?}");
    }
    // Byte by byte.
    let reply = fake::stream_reply(bytes.iter().map(|b| vec![*b]));
    let events: Vec<StreamEvent> = stream_events(&server, CLAUDE, reply)
        .await
        .into_iter()
        .map(|e| e.expect("event"))
        .collect();
    assert_eq!(events, whole);
    let sent = server.last_request().expect("sent");
    assert_eq!(sent.path(), converse_stream_path(CLAUDE));
    assert_valid_request(sent.json().expect("JSON"));
}

async fn stream_error(server: &FakeProvider, bytes: Vec<u8>) -> ProviderError {
    let events = stream_events(server, CLAUDE, fake::stream_reply([bytes])).await;
    let last = events.into_iter().last().expect("an item");
    last.expect_err("the stream ends with an error")
}

#[tokio::test]
async fn corrupt_and_oversized_frames_are_typed_errors() {
    let server = FakeProvider::start().await;
    let good = Converse::text("hi").to_frames();

    // A payload byte flipped: the message CRC does not match.
    let mut bytes = good.concat();
    let in_payload = good[0].len() + good[1].len() - 10;
    bytes[in_payload] ^= 0x20;
    let error = stream_error(&server, bytes).await;
    assert!(matches!(error, ProviderError::Decode { .. }), "{error:?}");
    assert!(
        error.to_string().to_lowercase().contains("checksum"),
        "{error}"
    );

    // A length byte changed: the prelude CRC does not match.
    let mut bytes = good.concat();
    bytes[good[0].len() + 3] ^= 0x01;
    let error = stream_error(&server, bytes).await;
    assert!(error.to_string().contains("prelude's CRC32"), "{error}");

    // A frame announcing more than the limit, with a valid prelude CRC: refused at once.
    let total = u32::try_from(MAX_FRAME_BYTES + 1).expect("fits");
    let mut prelude = Vec::new();
    prelude.extend_from_slice(&total.to_be_bytes());
    prelude.extend_from_slice(&0u32.to_be_bytes());
    let crc = crc32(&prelude);
    prelude.extend_from_slice(&crc.to_be_bytes());
    let mut bytes = good[0].clone();
    bytes.extend_from_slice(&prelude);
    let error = stream_error(&server, bytes).await;
    assert!(matches!(error, ProviderError::Decode { .. }), "{error:?}");
    assert!(error.to_string().contains("at most"), "{error}");

    // Cut in the middle of a frame, and cut between frames before messageStop.
    let mut bytes = good.concat();
    bytes.truncate(bytes.len() - 5);
    let error = stream_error(&server, bytes).await;
    assert!(
        error
            .to_string()
            .contains("middle of an event-stream frame"),
        "{error}"
    );
    let cut = Converse::text("hi").no_stop().to_frames().concat();
    let error = stream_error(&server, cut).await;
    assert!(error.to_string().contains("no messageStop"), "{error}");
    assert!(error.is_retryable());

    // A block index out of range.
    let bytes = [
        good[0].clone(),
        fake::event_frame(
            "contentBlockDelta",
            &json!({"contentBlockIndex": 1_000_000, "delta": {"text": "x"}}),
        ),
    ]
    .concat();
    let error = stream_error(&server, bytes).await;
    assert!(error.to_string().contains("out of range"), "{error}");
}

/// CRC-32 (IEEE), bit by bit, for the test's own frames.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for byte in bytes {
        crc ^= u32::from(*byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

#[tokio::test]
async fn exceptions_mid_stream_are_typed_with_their_status() {
    let server = FakeProvider::start().await;
    let head = Converse::tool_use_fragments("Person", [r#"{"name""#]).to_frames();
    for (kind, status, retried) in [
        ("throttlingException", 429, true),
        ("modelStreamErrorException", 424, false),
        ("validationException", 400, false),
        ("serviceUnavailableException", 503, true),
        ("internalServerException", 500, true),
    ] {
        let bytes = [
            head[..3].concat(),
            fake::exception_frame(kind, &format!("{kind} happened, token {TOKEN}")),
        ]
        .concat();
        let events = stream_events(&server, CLAUDE, fake::stream_reply([bytes])).await;
        assert!(
            events[0].is_ok(),
            "the events before the exception come first"
        );
        let error = events
            .into_iter()
            .last()
            .expect("item")
            .expect_err("exception");
        let ProviderError::Stream {
            kind: got,
            status: got_status,
            message,
        } = &error
        else {
            panic!("{error:?}");
        };
        assert_eq!(got, kind);
        assert_eq!(*got_status, Some(status));
        assert!(message.contains("happened"), "{message}");
        assert!(
            !message.contains(TOKEN),
            "the session token is redacted: {message}"
        );
        assert_eq!(error.is_retryable(), retried, "{kind}");
    }
}

#[tokio::test]
async fn truncation_and_refusals_are_told_apart() {
    let server = FakeProvider::start().await;
    let cut = Converse::tool_use_fragments("Person", [r#"{"name": "Ad"#]).stop_reason("max_tokens");
    let events: Vec<StreamEvent> = stream_events(&server, CLAUDE, cut.stream_reply())
        .await
        .into_iter()
        .map(|e| e.expect("event"))
        .collect();
    assert!(events.contains(&StreamEvent::Finish(FinishReason::Length)));

    for reason in ["guardrail_intervened", "content_filtered"] {
        let refused = Converse::text("I can't.").stop_reason(reason);
        let events: Vec<StreamEvent> = stream_events(&server, CLAUDE, refused.stream_reply())
            .await
            .into_iter()
            .map(|e| e.expect("event"))
            .collect();
        assert!(events.contains(&StreamEvent::Finish(FinishReason::ContentFilter)));
        assert!(
            events
                .iter()
                .any(|e| matches!(e, StreamEvent::RefusalDelta(text) if text.contains(reason))),
            "{events:?}"
        );
        server.push(refused.reply());
        let whole = client(&server.origin())
            .complete(&request(CLAUDE, Mode::Tools))
            .await
            .expect("whole");
        assert!(whole.refusal.as_deref().is_some_and(|r| r.contains(reason)));
        assert_eq!(whole.finish_reason, Some(FinishReason::ContentFilter));
    }
    server.push(cut.reply());
    let whole = client(&server.origin())
        .complete(&request(CLAUDE, Mode::Tools))
        .await
        .expect("whole");
    assert_eq!(whole.finish_reason, Some(FinishReason::Length));
}

#[tokio::test]
async fn a_stream_of_another_type_is_refused() {
    let server = FakeProvider::start().await;
    server.push(Reply::sse(["data: {}\n\n"]));
    let error = client(&server.origin())
        .stream(&request(CLAUDE, Mode::Tools))
        .await
        .err()
        .expect("not an event stream");
    assert!(
        error.to_string().contains("vnd.amazon.eventstream"),
        "{error}"
    );
    // A whole JSON answer to a streamed request is read as one.
    server.push(Converse::tool_use("Person", r#"{"name":"Ada"}"#).reply());
    let events: Vec<StreamEvent> = client(&server.origin())
        .stream(&request(CLAUDE, Mode::Tools))
        .await
        .expect("opened")
        .map(|e| e.expect("event"))
        .collect()
        .await;
    assert!(events.contains(&StreamEvent::Finish(FinishReason::ToolCalls)));
}

#[tokio::test]
async fn no_credentials_is_an_error_before_sending() {
    let server = FakeProvider::start().await;
    let mut config = BedrockConfig::new(REGION, credentials()).with_base_url(server.origin());
    config.credentials = None;
    let error = Bedrock::new(config)
        .complete(&request(CLAUDE, Mode::Tools))
        .await
        .expect_err("no credentials");
    assert!(error.to_string().contains("AWS_ACCESS_KEY_ID"), "{error}");
    assert!(server.requests().is_empty());
}

#[tokio::test]
async fn redirects_are_not_followed_and_echoed_tokens_never_show() {
    let server = FakeProvider::start().await;
    server.push(Reply::redirect(307, "https://elsewhere.example/steal"));
    let error = client(&server.origin())
        .complete(&request(CLAUDE, Mode::Tools))
        .await
        .expect_err("a redirect");
    assert!(
        matches!(error, ProviderError::Redirect { status: 307, .. }),
        "{error:?}"
    );
    assert_eq!(server.requests().len(), 1);

    // The session token echoed in the answer's text and a tool call's input.
    let echo = Converse::text_fragments([&TOKEN[..10], &TOKEN[10..]])
        .and_tool_use("Person", format!(r#"{{"name":"{TOKEN}"}}"#));
    server.push(echo.reply());
    let whole = client(&server.origin())
        .complete(&request(CLAUDE, Mode::Tools))
        .await
        .expect("whole");
    let shown = format!("{whole:?}");
    assert!(!shown.contains(TOKEN), "{shown}");
    server.push(echo.stream_reply());
    let events: Vec<StreamEvent> = client(&server.origin())
        .stream(&request(CLAUDE, Mode::Tools))
        .await
        .expect("opened")
        .map(|e| e.expect("event"))
        .collect()
        .await;
    let arguments: String = events
        .iter()
        .filter_map(|event| match event {
            StreamEvent::ToolArgumentsDelta { delta, .. } => Some(delta.as_str()),
            _ => None,
        })
        .collect();
    assert!(!arguments.contains(TOKEN), "{arguments}");
}
