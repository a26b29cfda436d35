//! The OpenAI Chat Completions client on the wire: request bodies per mode (snapshots,
//! checked against OpenAI's OpenAPI description), every recorded response and stream,
//! the SSE decoder under every chunking, broken streams, and secrecy of the key.
//!
//! HTTP-level tests (through the fake server of the `testing` feature) are in the `http`
//! module at the end, compiled only with that feature.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use futures::StreamExt;
use futures::executor::block_on;
use instructor_core::chat::{
    ChatRequest, ContentPart, FinishReason, GenerationParams, Message, Mode, OutputSpec, Provider,
    ProviderError, StreamEvent, ToolCall, Usage,
};
use instructor_core::media::{Document, Image, cached};
use instructor_core::schema::{ObjectSchema, Property, RootSchema, Schema, SchemaKind};
use instructor_providers::openai::{
    self, OpenAi, OpenAiConfig, TokenLimitField, parse_response, stream_events, wraps_root,
};
use instructor_providers::presets::Preset;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

const KEY: &str = "sk-test-SECRET-0123456789abcdef";

fn testdata() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata")
}

fn recorded(name: &str) -> Vec<u8> {
    std::fs::read(testdata().join("recorded/openai").join(name)).unwrap()
}

fn recorded_files(extension: &str) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(testdata().join("recorded/openai"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(extension))
        .collect();
    names.sort();
    assert!(!names.is_empty());
    names
}

// ---------------------------------------------------------------------------------------
// The OpenAPI description
// ---------------------------------------------------------------------------------------

struct Spec {
    document: Value,
    validator: jsonschema::Validator,
}

fn spec() -> &'static Spec {
    static SPEC: OnceLock<Spec> = OnceLock::new();
    SPEC.get_or_init(|| {
        let path = testdata().join("specs/openai-chat-responses-batches.openapi.json");
        let document: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
        // The whole document is the schema, rooted at the request component, so every
        // `#/components/schemas/...` reference resolves inside it.
        let mut schema = document.clone();
        schema["$ref"] = json!("#/components/schemas/CreateChatCompletionRequest");
        let validator = jsonschema::draft202012::options()
            .build(&schema)
            .expect("the request schema compiles");
        Spec {
            document,
            validator,
        }
    })
}

/// The property names a component allows, following `$ref`, `allOf`, `oneOf`, `anyOf`.
fn property_names(spec: &Value, schema: &Value, out: &mut BTreeSet<String>) {
    if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
        let pointer = reference.trim_start_matches('#');
        property_names(spec, spec.pointer(pointer).unwrap(), out);
    }
    if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
        out.extend(properties.keys().cloned());
    }
    for keyword in ["allOf", "oneOf", "anyOf"] {
        for part in schema
            .get(keyword)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            property_names(spec, part, out);
        }
    }
}

fn component_properties(name: &str) -> BTreeSet<String> {
    let spec = spec();
    let mut out = BTreeSet::new();
    property_names(
        &spec.document,
        &json!({ "$ref": format!("#/components/schemas/{name}") }),
        &mut out,
    );
    assert!(!out.is_empty(), "{name} has properties");
    out
}

fn assert_keys_within(what: &str, object: &Value, allowed: &BTreeSet<String>) {
    for key in object.as_object().unwrap().keys() {
        assert!(allowed.contains(key), "{what}: `{key}` is not in the spec");
    }
}

/// Validates a request body against `CreateChatCompletionRequest`: the schema (types,
/// required fields, enums) and the property names, at the top and in nested objects the
/// schema leaves open.
fn assert_valid_request(body: &Value) {
    let spec = spec();
    let errors: Vec<String> = spec
        .validator
        .iter_errors(body)
        .map(|error| format!("{} at {}", error, error.instance_path()))
        .collect();
    assert!(errors.is_empty(), "invalid request: {errors:#?}\n{body:#}");
    assert_keys_within(
        "request",
        body,
        &component_properties("CreateChatCompletionRequest"),
    );
    let message_keys: BTreeSet<String> = [
        "ChatCompletionRequestSystemMessage",
        "ChatCompletionRequestUserMessage",
        "ChatCompletionRequestAssistantMessage",
        "ChatCompletionRequestToolMessage",
    ]
    .iter()
    .flat_map(|name| component_properties(name))
    .collect();
    for message in body["messages"].as_array().unwrap() {
        assert_keys_within("message", message, &message_keys);
    }
    for tool in body["tools"].as_array().into_iter().flatten() {
        assert_keys_within("tool", tool, &component_properties("ChatCompletionTool"));
        assert_keys_within(
            "function",
            &tool["function"],
            &component_properties("FunctionObject"),
        );
    }
    if let Some(format) = body.get("response_format")
        && format["type"] == "json_schema"
    {
        let mut allowed = BTreeSet::new();
        property_names(
            &spec.document,
            &spec.document["components"]["schemas"]["ResponseFormatJsonSchema"]["properties"]["json_schema"],
            &mut allowed,
        );
        assert_keys_within("json_schema", &format["json_schema"], &allowed);
    }
    if let Some(options) = body.get("stream_options") {
        assert_keys_within(
            "stream_options",
            options,
            &component_properties("ChatCompletionStreamOptions"),
        );
    }
}

#[test]
fn the_validator_rejects_known_bad_requests() {
    let spec = spec();
    let good = json!({"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]});
    assert!(spec.validator.is_valid(&good));
    for bad in [
        json!({"model": "gpt-4o"}),
        json!({"messages": [{"role": "user", "content": "hi"}]}),
        json!({"model": "gpt-4o", "messages": "hi"}),
        json!({"model": "gpt-4o", "messages": [{"role": "wizard", "content": "hi"}]}),
        json!({"model": "gpt-4o", "messages": [{"role": "tool", "content": "x"}]}),
        json!({"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}],
               "tool_choice": {"type": "function"}}),
        json!({"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}],
               "response_format": {"type": "json_schema"}}),
        json!({"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}],
               "temperature": "hot"}),
    ] {
        assert!(!spec.validator.is_valid(&bad), "accepted {bad}");
    }
    let unknown = json!({"model": "gpt-4o", "messages": [], "max_output_tokens": 3});
    let names = component_properties("CreateChatCompletionRequest");
    assert!(!names.contains("max_output_tokens"));
    assert!(
        unknown
            .as_object()
            .unwrap()
            .keys()
            .any(|k| !names.contains(k))
    );
}

// ---------------------------------------------------------------------------------------
// Request bodies
// ---------------------------------------------------------------------------------------

fn person_schema() -> RootSchema {
    let mut object = ObjectSchema::default();
    object.properties.insert(
        "name".into(),
        Property {
            schema: Schema::string().with_description("Full name"),
            required: true,
        },
    );
    object.properties.insert(
        "age".into(),
        Property {
            schema: Schema::integer(None, None),
            required: false,
        },
    );
    RootSchema {
        schema: Schema::new(SchemaKind::Object(object)),
        defs: Default::default(),
        root_name: None,
    }
}

fn list_schema() -> RootSchema {
    RootSchema {
        schema: Schema::array(Schema::string()),
        defs: Default::default(),
        root_name: None,
    }
}

fn request(mode: Option<Mode>, schema: RootSchema) -> ChatRequest {
    ChatRequest {
        model: "gpt-4o-mini".into(),
        messages: vec![
            Message::system("Extract the person."),
            Message::user("Ada Lovelace, 36."),
        ],
        output: mode.map(|mode| OutputSpec {
            mode,
            schema: Arc::new(schema),
            name: "Person".into(),
            description: Some("A person mentioned in the text".into()),
            tools: Vec::new(),
        }),
        params: GenerationParams {
            temperature: Some(0.0),
            max_tokens: Some(256),
            ..Default::default()
        },
        extra: Default::default(),
    }
}

fn openai() -> OpenAi {
    OpenAi::new(Preset::OpenAi.config().with_api_key(KEY))
}

fn body(mode: Option<Mode>, schema: RootSchema) -> Value {
    let body = openai().request_body(&request(mode, schema)).unwrap();
    assert_valid_request(&body);
    body
}

#[test]
fn tools_mode_forces_one_plain_json_schema_function() {
    let body = body(Some(Mode::Tools), person_schema());
    insta::assert_json_snapshot!("tools", body);
    let function = &body["tools"][0]["function"];
    assert_eq!(function["name"], "Person");
    assert_eq!(function["parameters"]["type"], "object");
    assert!(function["parameters"].get("$schema").is_none());
    assert!(function.get("strict").is_none());
    assert_eq!(
        body["tool_choice"],
        json!({"type": "function", "function": {"name": "Person"}})
    );
    assert_eq!(body["max_completion_tokens"], 256);
    assert!(body.get("max_tokens").is_none());
}

#[test]
fn tools_strict_mode_sends_the_strict_dialect() {
    let body = body(Some(Mode::ToolsStrict), person_schema());
    insta::assert_json_snapshot!("tools_strict", body);
    let function = &body["tools"][0]["function"];
    assert_eq!(function["strict"], true);
    assert_eq!(function["parameters"]["additionalProperties"], false);
    assert_eq!(function["parameters"]["required"], json!(["name", "age"]));
}

#[test]
fn json_mode_sets_json_object_only() {
    let body = body(Some(Mode::Json), person_schema());
    insta::assert_json_snapshot!("json", body);
    assert_eq!(body["response_format"], json!({"type": "json_object"}));
    assert!(body.get("tools").is_none());
}

#[test]
fn json_schema_mode_sends_a_strict_response_format() {
    let body = body(Some(Mode::JsonSchema), person_schema());
    insta::assert_json_snapshot!("json_schema", body);
    let format = &body["response_format"];
    assert_eq!(format["type"], "json_schema");
    assert_eq!(format["json_schema"]["name"], "Person");
    assert_eq!(format["json_schema"]["strict"], true);
    assert_eq!(
        format["json_schema"]["schema"]["additionalProperties"],
        false
    );
}

#[test]
fn md_json_mode_adds_nothing() {
    let body = body(Some(Mode::MdJson), person_schema());
    let plain = self::body(None, person_schema());
    assert_eq!(body, plain);
    for key in [
        "tools",
        "tool_choice",
        "response_format",
        "parallel_tool_calls",
    ] {
        assert!(body.get(key).is_none(), "{key}");
    }
}

#[test]
fn parallel_tools_mode_lets_the_model_call_several_times() {
    let body = body(Some(Mode::ParallelTools), person_schema());
    insta::assert_json_snapshot!("parallel_tools", body);
    assert_eq!(body["tool_choice"], "auto");
    assert_eq!(body["parallel_tool_calls"], true);
    assert_eq!(body["tools"].as_array().unwrap().len(), 1);
}

#[test]
fn non_object_roots_are_wrapped_in_value_for_tools_and_json_schema() {
    for mode in [
        Mode::Tools,
        Mode::ToolsStrict,
        Mode::ParallelTools,
        Mode::JsonSchema,
    ] {
        let request = request(Some(mode), list_schema());
        assert!(wraps_root(request.output.as_ref().unwrap()), "{mode:?}");
        let body = openai().request_body(&request).unwrap();
        assert_valid_request(&body);
        let schema = if mode == Mode::JsonSchema {
            &body["response_format"]["json_schema"]["schema"]
        } else {
            &body["tools"][0]["function"]["parameters"]
        };
        assert_eq!(schema["type"], "object", "{mode:?}");
        assert_eq!(schema["properties"]["value"]["type"], "array", "{mode:?}");
        assert_eq!(schema["required"], json!(["value"]), "{mode:?}");
        if mode == Mode::Tools {
            insta::assert_json_snapshot!("tools_wrapped_root", body);
        }
    }
    assert!(!wraps_root(
        request(Some(Mode::Json), list_schema())
            .output
            .as_ref()
            .unwrap()
    ));
    assert!(!wraps_root(
        request(Some(Mode::Tools), person_schema())
            .output
            .as_ref()
            .unwrap()
    ));
}

#[test]
fn names_outside_openais_alphabet_are_cleaned() {
    let mut request = request(Some(Mode::JsonSchema), person_schema());
    if let Some(output) = request.output.as_mut() {
        output.name = "Vec<Person>".into();
    }
    let body = openai().request_body(&request).unwrap();
    assert_eq!(
        body["response_format"]["json_schema"]["name"],
        "Vec_Person_"
    );
    assert_eq!(openai::wire_name(""), "output");
    assert_eq!(openai::wire_name(&"x".repeat(100)).len(), 64);
}

#[test]
fn streaming_bodies_ask_for_usage_when_the_server_reports_it() {
    let request = request(Some(Mode::Tools), person_schema());
    let body = openai().stream_request_body(&request).unwrap();
    assert_valid_request(&body);
    insta::assert_json_snapshot!("tools_stream", body);
    assert_eq!(body["stream"], true);
    assert_eq!(body["stream_options"], json!({"include_usage": true}));

    let mistral = OpenAi::new(Preset::Mistral.config());
    let body = mistral.stream_request_body(&request).unwrap();
    assert_eq!(body["stream"], true);
    assert!(body.get("stream_options").is_none());
    assert!(
        openai()
            .request_body(&request)
            .unwrap()
            .get("stream")
            .is_none()
    );
}

#[test]
fn compatible_servers_get_max_tokens() {
    let request = request(None, person_schema());
    let body = OpenAi::new(Preset::Ollama.config())
        .request_body(&request)
        .unwrap();
    assert_valid_request(&body);
    assert_eq!(body["max_tokens"], 256);
    assert!(body.get("max_completion_tokens").is_none());
    let config =
        OpenAiConfig::new("http://x/v1").with_token_limit_field(TokenLimitField::MaxTokens);
    let body = OpenAi::new(config).request_body(&request).unwrap();
    assert_eq!(body["max_tokens"], 256);
}

#[test]
fn generation_params_and_extra_reach_the_top_level() {
    let mut request = request(None, person_schema());
    request.params = GenerationParams {
        temperature: Some(0.5),
        max_tokens: Some(10),
        top_p: Some(0.9),
        seed: Some(42),
        stop: vec!["END".into()],
        prompt_cache_key: Some("faq-v1".into()),
    };
    request.extra.insert("user".into(), json!("u-1"));
    request.extra.insert("temperature".into(), json!(0.25));
    request.extra.insert("stream".into(), json!(true));
    let body = openai().request_body(&request).unwrap();
    assert_valid_request(&body);
    assert_eq!(body["top_p"], json!(0.9), "no f32 noise");
    assert_eq!(body["seed"], 42);
    assert_eq!(body["stop"], json!(["END"]));
    assert_eq!(body["prompt_cache_key"], "faq-v1");
    assert_eq!(body["user"], "u-1");
    assert_eq!(body["temperature"], 0.25, "extra wins");
    assert!(body.get("stream").is_none(), "the method owns `stream`");
}

#[test]
fn a_whole_conversation_is_translated() {
    let user = Message::user((
        "What is in this picture?",
        Image::url("data:image/png;base64,iVBORw0KGgo="),
    ));
    let request = ChatRequest {
        model: "gpt-4o".into(),
        messages: vec![
            Message::system("Be brief."),
            user,
            Message::assistant_tool_calls(vec![ToolCall {
                id: "call_1".into(),
                name: "Person".into(),
                arguments: r#"{"name":"Ada"}"#.into(),
            }]),
            Message::tool("call_1", "ok"),
            Message::assistant("Done."),
        ],
        output: None,
        params: Default::default(),
        extra: Default::default(),
    };
    let body = openai().request_body(&request).unwrap();
    assert_valid_request(&body);
    insta::assert_json_snapshot!("conversation", body);
    let messages = &body["messages"];
    assert_eq!(messages[1]["content"][1]["type"], "image_url");
    assert!(messages[2].get("content").is_none());
    assert_eq!(messages[2]["tool_calls"][0]["function"]["name"], "Person");
    assert_eq!(messages[3]["tool_call_id"], "call_1");
}

#[test]
fn documents_images_from_bytes_cache_breakpoints_and_thinking() {
    const PDF: &[u8] = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n";
    const GIF: &[u8] = b"GIF89a\x01\x00\x01\x00\x00\x00\x00;";
    let request = ChatRequest {
        model: "gpt-4o".into(),
        messages: vec![
            Message::system(cached("A long system prompt.")),
            Message::user((
                Document::from_bytes(PDF).unwrap().title("report.pdf"),
                Image::from_bytes(GIF).unwrap().cached(),
                "Summarize.",
            )),
            Message {
                content: vec![ContentPart::Thinking {
                    thinking: "Let me see.".into(),
                    signature: Some("sig".into()),
                }],
                ..Message::assistant_tool_calls(vec![ToolCall {
                    id: "call_1".into(),
                    name: "Person".into(),
                    arguments: "{}".into(),
                }])
            },
            Message::tool("call_1", "ok"),
        ],
        output: None,
        params: Default::default(),
        extra: Default::default(),
    };
    let body = openai().request_body(&request).unwrap();
    assert_valid_request(&body);
    let messages = &body["messages"];
    // A breakpoint is left out (OpenAI caches prefixes on its own): one text stays a
    // plain string.
    assert_eq!(messages[0]["content"], "A long system prompt.");
    let parts = messages[1]["content"].as_array().unwrap();
    assert_eq!(parts.len(), 3, "{parts:?}");
    assert_eq!(parts[0]["type"], "file");
    assert_eq!(parts[0]["file"]["filename"], "report.pdf");
    let file_data = parts[0]["file"]["file_data"].as_str().unwrap();
    assert!(
        file_data.starts_with("data:application/pdf;base64,JVBERi0xLjc"),
        "{file_data}"
    );
    assert_eq!(
        parts[1]["image_url"]["url"],
        "data:image/gif;base64,R0lGODlhAQABAAAAADs="
    );
    assert_eq!(parts[2], json!({"type": "text", "text": "Summarize."}));
    // Reasoning from another provider is not sent back; the tool calls are.
    assert!(messages[2].get("content").is_none(), "{}", messages[2]);
    assert_eq!(messages[2]["tool_calls"][0]["id"], "call_1");
}

#[test]
fn requests_the_api_cannot_carry_are_refused_before_sending() {
    let system = Message::system(("look", Image::url("https://x/y.png")));
    let mut tool = Message::tool("c", "x");
    tool.tool_call_id = None;
    let document_by_url = Message::user(("read", Document::url("https://x/y.pdf")));
    for message in [system, tool, document_by_url] {
        let mut request = request(None, person_schema());
        request.messages.push(message);
        assert!(matches!(
            openai().request_body(&request),
            Err(ProviderError::Unsupported(_))
        ));
    }
    // Perplexity cannot force a tool: Tools mode is refused, JsonSchema is fine.
    let perplexity = OpenAi::new(Preset::Perplexity.config());
    let error = perplexity
        .request_body(&request(Some(Mode::Tools), person_schema()))
        .unwrap_err();
    assert!(error.to_string().contains("forced tool choice"), "{error}");
    assert!(
        perplexity
            .request_body(&request(Some(Mode::JsonSchema), person_schema()))
            .is_ok()
    );
    // A map cannot be strict.
    let map = RootSchema {
        schema: Schema::map(Schema::string()),
        defs: Default::default(),
        root_name: None,
    };
    assert!(matches!(
        openai().request_body(&request(Some(Mode::ToolsStrict), map)),
        Err(ProviderError::Unsupported(_))
    ));
}

#[test]
fn every_preset_builds_a_valid_body_for_each_mode_it_offers() {
    for preset in Preset::ALL {
        let provider = OpenAi::new(preset.config().with_base_url("http://localhost:1/v1"));
        let capabilities = provider.capabilities("some-model");
        for mode in [
            Mode::Tools,
            Mode::ToolsStrict,
            Mode::Json,
            Mode::JsonSchema,
            Mode::MdJson,
            Mode::ParallelTools,
        ] {
            let mut request = request(Some(mode), person_schema());
            request.model = "some-model".into();
            let result = provider.stream_request_body(&request);
            match capabilities.check(mode) {
                Ok(()) => assert_valid_request(&result.unwrap()),
                Err(_) => assert!(
                    matches!(result, Err(ProviderError::Unsupported(_))),
                    "{preset:?} {mode:?}"
                ),
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Responses
// ---------------------------------------------------------------------------------------

#[test]
fn every_recorded_response_parses() {
    for name in recorded_files(".json") {
        let response = parse_response(&recorded(&name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(response.request_id.is_some(), "{name}");
        assert!(response.model.is_some(), "{name}");
        assert!(response.finish_reason.is_some(), "{name}");
        assert!(response.usage.is_some(), "{name}");
        assert!(response.raw.is_object(), "{name}");
        let has_answer = response.text.is_some()
            || response.refusal.is_some()
            || !response.tool_calls.is_empty();
        assert!(has_answer, "{name}");
    }
}

#[test]
fn recorded_tool_calls_are_read() {
    let response =
        parse_response(&recorded("chat-completion-two-parallel-tool-calls.json")).unwrap();
    assert_eq!(response.finish_reason, Some(FinishReason::ToolCalls));
    assert_eq!(response.text, None);
    let names: Vec<_> = response
        .tool_calls
        .iter()
        .map(|c| c.name.as_str())
        .collect();
    assert_eq!(names, ["GetWeatherArgs", "get_stock_price"]);
    assert_eq!(response.tool_calls[0].id, "call_fdNz3vOBKYgOIpMdWotB9MjY");
    let arguments: Value = serde_json::from_str(&response.tool_calls[1].arguments).unwrap();
    assert_eq!(arguments["ticker"], "AAPL");
    assert_eq!(
        response.usage,
        Some(Usage {
            input_tokens: 149,
            output_tokens: 60,
            cached_tokens: 0,
            reasoning_tokens: 0,
            cache_creation_tokens: 0,
        })
    );
}

#[test]
fn recorded_refusal_and_length_are_read() {
    let refusal = parse_response(&recorded("chat-completion-refusal.json")).unwrap();
    assert_eq!(refusal.text, None);
    assert_eq!(
        refusal.refusal.as_deref(),
        Some("I'm very sorry, but I can't assist with that.")
    );
    let cut = parse_response(&recorded("chat-completion-finish-length.json")).unwrap();
    assert_eq!(cut.text.as_deref(), Some("{\""));
    assert_eq!(cut.finish_reason, Some(FinishReason::Length));
}

#[test]
fn detailed_usage_is_read() {
    let response = parse_response(&recorded("chat-completion-text-vercel.json")).unwrap();
    let raw = &response.raw["usage"];
    let usage = response.usage.unwrap();
    assert_eq!(usage.input_tokens, raw["prompt_tokens"].as_u64().unwrap());
    assert_eq!(
        usage.cached_tokens,
        raw["prompt_tokens_details"]["cached_tokens"]
            .as_u64()
            .unwrap()
    );
    assert_eq!(
        usage.reasoning_tokens,
        raw["completion_tokens_details"]["reasoning_tokens"]
            .as_u64()
            .unwrap()
    );
    let usage = parse_response(
        br#"{"choices":[{"message":{"content":"x"}}],"usage":{"prompt_tokens":10,"completion_tokens":5,
            "prompt_tokens_details":{"cached_tokens":8},
            "completion_tokens_details":{"reasoning_tokens":3}}}"#,
    )
    .unwrap()
    .usage;
    assert_eq!(
        usage,
        Some(Usage {
            input_tokens: 10,
            output_tokens: 5,
            cached_tokens: 8,
            reasoning_tokens: 3,
            cache_creation_tokens: 0,
        })
    );
}

#[test]
fn responses_are_read_leniently() {
    // Nothing but a choice: no id, model, usage, index, role or finish_reason.
    let response = parse_response(br#"{"choices":[{"message":{"content":"hi"}}]}"#).unwrap();
    assert_eq!(response.text.as_deref(), Some("hi"));
    assert_eq!(response.finish_reason, None);
    // Nulls everywhere, unknown fields and content parts of unknown types.
    let response = parse_response(
        br#"{"id":null,"object":"chat.completion","choices":[{"index":0,"logprobs":null,
            "message":{"role":"assistant","content":[{"type":"thinking","thinking":"hm"},
            {"type":"text","text":"a"},{"type":"text","text":"b"}],"tool_calls":null,
            "annotations":[],"audio":null},"finish_reason":"stop","new_field":{"x":1}}],
            "usage":null,"service_tier":"default"}"#,
    )
    .unwrap();
    assert_eq!(response.text.as_deref(), Some("ab"));
    assert_eq!(response.request_id, None);
    assert_eq!(response.usage, None);
    // Arguments as an object (some local servers), a call without an id.
    let response = parse_response(
        br#"{"choices":[{"message":{"tool_calls":[{"function":{"name":"f","arguments":{"a":1}}}]},
            "finish_reason":"tool_calls"}]}"#,
    )
    .unwrap();
    assert_eq!(&*response.tool_calls[0].arguments, r#"{"a":1}"#);
    assert_eq!(response.tool_calls[0].id, "");
    // Arguments as a string with escapes (as JSON in a string always has), as one
    // without, as `null`, missing, or a number: the text each stands for.
    let response = parse_response(
        br#"{"choices":[{"message":{"tool_calls":[
            {"function":{"name":"f","arguments":"{\"a\":\"\u00e9\\n\"}"}},
            {"function":{"name":"f","arguments":"plain"}},
            {"function":{"name":"f","arguments":null}},
            {"function":{"name":"f"}},
            {"function":{"name":"f","arguments":5}}]}}]}"#,
    )
    .unwrap();
    let arguments: Vec<&str> = response
        .tool_calls
        .iter()
        .map(|call| &*call.arguments)
        .collect();
    assert_eq!(arguments, [r#"{"a":"é\n"}"#, "plain", "", "", "5"]);
    // No choices at all is no answer: an error (see tests/hostile.rs), not an empty
    // answer core would ask again for.
    assert!(matches!(
        parse_response(b"{}"),
        Err(ProviderError::Decode { .. })
    ));
    // Choice 0 is read even when it is not first.
    let response = parse_response(
        br#"{"choices":[{"index":1,"message":{"content":"one"}},{"index":0,"message":{"content":"zero"}}]}"#,
    )
    .unwrap();
    assert_eq!(response.text.as_deref(), Some("zero"));
}

#[test]
fn unreadable_bodies_are_decode_errors_with_the_body() {
    for body in [
        &b"<html>502 Bad Gateway</html>"[..],
        b"[1,2]",
        b"{\"choices\": 5}",
    ] {
        match parse_response(body) {
            Err(ProviderError::Decode { body: kept, .. }) => {
                assert_eq!(kept.as_bytes(), body);
            }
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn a_200_error_object_is_an_error() {
    let error = parse_response(br#"{"error":{"message":"upstream down","code":502}}"#).unwrap_err();
    assert!(matches!(error, ProviderError::Status { status: 502, .. }));
    assert!(error.is_retryable());
    let error = parse_response(br#"{"error":{"message":"bad","code":"invalid"}}"#).unwrap_err();
    assert!(matches!(error, ProviderError::Decode { .. }));
}

// ---------------------------------------------------------------------------------------
// Streams
// ---------------------------------------------------------------------------------------

fn events_of(chunks: Vec<Vec<u8>>) -> Vec<Result<StreamEvent, ProviderError>> {
    let bytes = futures::stream::iter(chunks.into_iter().map(Ok::<_, ProviderError>));
    block_on(stream_events(bytes).collect())
}

/// A small deterministic generator for random cuts.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

fn random_cuts(bytes: &[u8], seed: u64) -> Vec<Vec<u8>> {
    let mut rng = XorShift(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let mut chunks = Vec::new();
    let mut rest = bytes;
    while !rest.is_empty() {
        let max = if rng.next().is_multiple_of(4) {
            300
        } else {
            12
        };
        let take = usize::try_from(rng.next() % max)
            .unwrap()
            .clamp(1, rest.len());
        chunks.push(rest[..take].to_vec());
        rest = &rest[take..];
    }
    chunks
}

fn chunkings(bytes: &[u8]) -> Vec<(String, Vec<Vec<u8>>)> {
    let mut out = vec![
        ("whole".to_owned(), vec![bytes.to_vec()]),
        (
            "byte by byte".to_owned(),
            bytes.iter().map(|&b| vec![b]).collect(),
        ),
    ];
    for seed in 1..=16 {
        out.push((format!("random cuts {seed}"), random_cuts(bytes, seed)));
    }
    out
}

/// What a stream adds up to.
#[derive(Debug, Default, PartialEq)]
struct Assembled {
    text: String,
    refusal: String,
    calls: BTreeMap<usize, (Option<String>, Option<String>, String)>,
    finish: Vec<FinishReason>,
    usage: Vec<Usage>,
    response_ids: Vec<String>,
    errors: Vec<ProviderError>,
}

fn assemble(events: Vec<Result<StreamEvent, ProviderError>>) -> Assembled {
    let mut out = Assembled::default();
    for event in events {
        match event {
            Ok(StreamEvent::TextDelta(text)) => out.text.push_str(&text),
            Ok(StreamEvent::RefusalDelta(text)) => out.refusal.push_str(&text),
            Ok(StreamEvent::ToolArgumentsDelta {
                index,
                id,
                name,
                delta,
            }) => {
                let call = out.calls.entry(index).or_default();
                if id.is_some() {
                    assert!(call.0.is_none(), "id sent twice");
                    call.0 = id;
                }
                if name.is_some() {
                    assert!(call.1.is_none(), "name sent twice");
                    call.1 = name;
                }
                call.2.push_str(&delta);
            }
            Ok(StreamEvent::Finish(reason)) => out.finish.push(reason),
            Ok(StreamEvent::Usage(usage)) => out.usage.push(usage),
            Ok(StreamEvent::ResponseId(id)) => out.response_ids.push(id),
            Ok(other) => panic!("unexpected event {other:?}"),
            Err(error) => out.errors.push(error),
        }
    }
    out
}

fn assemble_bytes(bytes: &[u8]) -> Assembled {
    assemble(events_of(vec![bytes.to_vec()]))
}

/// The recorded streams, as SSE bytes (`*.chunks.jsonl` replayed as `data:` lines).
fn recorded_streams() -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = recorded_files(".sse")
        .into_iter()
        .map(|name| {
            let bytes = recorded(&name);
            (name, bytes)
        })
        .collect();
    for name in recorded_files(".chunks.jsonl") {
        let text = String::from_utf8(recorded(&name)).unwrap();
        let sse: String = text
            .lines()
            .filter(|line| !line.trim().is_empty())
            .map(|line| format!("data: {line}\n\n"))
            .collect();
        out.push((name, sse.into_bytes()));
    }
    out
}

#[test]
fn every_recorded_stream_decodes_the_same_under_every_chunking() {
    for (name, bytes) in recorded_streams() {
        let reference = assemble_bytes(&bytes);
        assert!(
            reference.errors.is_empty(),
            "{name}: {:?}",
            reference.errors
        );
        assert_eq!(reference.finish.len(), 1, "{name}: one finish for choice 0");
        assert_eq!(reference.usage.len(), 1, "{name}: one usage");
        assert!(reference.usage[0].input_tokens > 0, "{name}");
        assert_eq!(reference.response_ids.len(), 1, "{name}");
        for (how, chunks) in chunkings(&bytes) {
            let events = events_of(chunks);
            assert_eq!(assemble(events), reference, "{name}, {how}");
        }
    }
}

#[test]
fn recorded_tool_call_streams_add_up_to_the_non_streamed_arguments() {
    for (stream, whole) in [
        (
            "stream-single-tool-call.sse",
            "chat-completion-tool-call.json",
        ),
        (
            "stream-strict-tool-call.sse",
            "chat-completion-strict-tool-call.json",
        ),
        (
            "stream-two-parallel-tool-calls.sse",
            "chat-completion-two-parallel-tool-calls.json",
        ),
    ] {
        let streamed = assemble_bytes(&recorded(stream));
        let whole = parse_response(&recorded(whole)).unwrap();
        assert_eq!(streamed.calls.len(), whole.tool_calls.len(), "{stream}");
        for (index, call) in whole.tool_calls.iter().enumerate() {
            let (id, name, arguments) = &streamed.calls[&index];
            assert!(id.as_deref().is_some_and(|id| id.starts_with("call_")));
            assert_eq!(name.as_deref(), Some(call.name.as_str()), "{stream}");
            assert_eq!(arguments.as_str(), &*call.arguments, "{stream}");
            serde_json::from_str::<Value>(arguments).unwrap();
        }
        assert_eq!(streamed.finish, [FinishReason::ToolCalls]);
    }
    let non_strict = assemble_bytes(&recorded("stream-non-strict-tool-call.sse"));
    serde_json::from_str::<Value>(&non_strict.calls[&0].2).unwrap();
}

#[test]
fn recorded_length_stream_matches_its_whole_answer() {
    let streamed = assemble_bytes(&recorded("stream-finish-length.sse"));
    let whole = parse_response(&recorded("chat-completion-finish-length.json")).unwrap();
    assert_eq!(Some(streamed.text), whole.text);
    assert_eq!(streamed.finish, [FinishReason::Length]);
    assert_eq!(whole.finish_reason, Some(FinishReason::Length));
}

#[test]
fn recorded_text_and_refusal_streams_fill_their_own_channels() {
    // (These recordings and the whole answers come from different calls, worded
    // differently, so only their shape is compared.)
    let text = assemble_bytes(&recorded("stream-text-content.sse"));
    assert!(
        text.text
            .starts_with("I'm unable to provide real-time weather")
    );
    assert!(text.refusal.is_empty());
    assert_eq!(text.finish, [FinishReason::Stop]);
    let refusal = assemble_bytes(&recorded("stream-refusal.sse"));
    assert_eq!(
        refusal.refusal,
        "I'm sorry, I can't assist with that request."
    );
    assert!(refusal.text.is_empty());
    assert_eq!(refusal.finish, [FinishReason::Stop]);
}

#[test]
fn structured_streams_parse_as_json() {
    for name in [
        "stream-structured-output-content.sse",
        "stream-json-object-response-format.sse",
    ] {
        let streamed = assemble_bytes(&recorded(name));
        serde_json::from_str::<Value>(&streamed.text).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
    let streamed = assemble_bytes(&recorded("stream-json-object-response-format.sse"));
    assert!(
        streamed.text.contains('°'),
        "raw UTF-8 survives the byte-level cuts"
    );
}

#[test]
fn only_choice_zero_of_several_is_read() {
    let streamed = assemble_bytes(&recorded("stream-n3-choices-structured-output.sse"));
    assert_eq!(
        streamed.text,
        r#"{"city":"San Francisco","temperature":65,"units":"f"}"#
    );
    assert_eq!(streamed.finish, [FinishReason::Stop]);
}

#[test]
fn the_final_usage_chunk_has_no_choices() {
    let (_, sse) = recorded_streams()
        .into_iter()
        .find(|(name, _)| name == "stream-text-vercel.chunks.jsonl")
        .unwrap();
    let streamed = assemble_bytes(&sse);
    let usage = streamed.usage[0];
    assert!(usage.input_tokens > 0 && usage.output_tokens > 0);
    assert!(!streamed.text.is_empty());
    assert!(
        streamed.errors.is_empty(),
        "finish_reason without [DONE] is complete"
    );
}

fn sse(events: &[&str]) -> Vec<u8> {
    events
        .iter()
        .map(|event| format!("data: {event}\n\n"))
        .collect::<String>()
        .into_bytes()
}

const TEXT_CHUNK: &str = r#"{"id":"c1","choices":[{"index":0,"delta":{"content":"Hi"}}]}"#;
const STOP_CHUNK: &str = r#"{"id":"c1","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}"#;

#[test]
fn a_stream_cut_before_the_answer_finished_ends_with_a_transport_error() {
    let events = events_of(vec![sse(&[TEXT_CHUNK])]);
    let last = events.last().unwrap();
    match last {
        Err(ProviderError::Transport { message }) => {
            assert!(message.starts_with("stream ended before"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    assert!(last.as_ref().unwrap_err().is_retryable());
    // A finished answer without `[DONE]` is complete.
    let events = events_of(vec![sse(&[TEXT_CHUNK, STOP_CHUNK])]);
    assert!(events.iter().all(Result::is_ok));
    // An empty body is cut too.
    assert!(matches!(
        events_of(vec![]).as_slice(),
        [Err(ProviderError::Transport { .. })]
    ));
}

#[test]
fn done_ends_the_stream_and_what_follows_is_ignored() {
    let mut bytes = sse(&[TEXT_CHUNK, "[DONE]"]);
    bytes.extend_from_slice(b"data: {garbage\n\n");
    let events = events_of(vec![bytes]);
    assert_eq!(
        events,
        vec![
            Ok(StreamEvent::ResponseId("c1".into())),
            Ok(StreamEvent::TextDelta("Hi".into()))
        ]
    );
    // `[DONE]` without a final blank line still counts.
    let events = events_of(vec![b"data: {\"choices\":[]}\n\ndata: [DONE]".to_vec()]);
    assert!(events.is_empty(), "{events:?}");
}

#[test]
fn garbage_data_is_a_decode_error_that_ends_the_stream() {
    let events = events_of(vec![sse(&[TEXT_CHUNK, "{not json", STOP_CHUNK])]);
    assert_eq!(events.len(), 3);
    match &events[2] {
        Err(ProviderError::Decode { body, .. }) => assert_eq!(body, "{not json"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn invalid_utf8_is_an_error_item_not_a_panic() {
    let mut bytes = sse(&[TEXT_CHUNK]);
    bytes.extend_from_slice(b"data: {\"choices\":[{\"delta\":{\"content\":\"\xC3\x28\"}}]}\n\n");
    bytes.extend(sse(&[STOP_CHUNK]));
    for (how, chunks) in chunkings(&bytes) {
        let events = events_of(chunks);
        assert!(
            matches!(events.last(), Some(Err(ProviderError::Decode { .. }))),
            "{how}: {events:?}"
        );
        assert_eq!(events.len(), 3, "{how}");
    }
}

#[test]
fn comments_unknown_events_and_empty_chunks_are_skipped() {
    let bytes = format!(
        ": OPENROUTER PROCESSING\n\nevent: ping\ndata: {{}}\n\n\
         data: {{\"choices\":[{{\"index\":0,\"delta\":{{\"role\":\"assistant\",\"content\":\"\"}}}}]}}\n\n\
         data: {TEXT_CHUNK}\r\n\r\ndata: {STOP_CHUNK}\r\rdata: [DONE]\n\n"
    );
    let streamed = assemble_bytes(bytes.as_bytes());
    assert_eq!(streamed.text, "Hi");
    assert_eq!(streamed.finish, [FinishReason::Stop]);
    assert!(streamed.errors.is_empty());
}

#[test]
fn multi_line_data_is_one_chunk() {
    let bytes = "data: {\"choices\":[{\"index\":0,\n\
                 data: \"delta\":{\"content\":\"Hi\"},\"finish_reason\":\"stop\"}]}\n\n";
    let streamed = assemble_bytes(bytes.as_bytes());
    assert_eq!(streamed.text, "Hi");
    assert_eq!(streamed.finish, [FinishReason::Stop]);
}

#[test]
fn mid_stream_errors_are_reported() {
    let error_object = r#"{"error":{"message":"The server had an error","type":"server_error"}}"#;
    for bytes in [
        sse(&[TEXT_CHUNK, error_object]),
        format!("data: {TEXT_CHUNK}\n\nevent: error\ndata: {{\"message\":\"overloaded\"}}\n\n")
            .into_bytes(),
    ] {
        let events = events_of(vec![bytes]);
        match events.last() {
            Some(Err(ProviderError::Stream { message, .. })) => {
                assert!(
                    message.contains("error") || message.contains("overloaded"),
                    "{message}"
                )
            }
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn a_broken_byte_stream_passes_its_error_through_and_ends() {
    let items = vec![
        Ok(sse(&[TEXT_CHUNK])),
        Err(ProviderError::Transport {
            message: "connection reset".into(),
        }),
        Ok(sse(&[STOP_CHUNK])),
    ];
    let events: Vec<_> = block_on(stream_events(futures::stream::iter(items)).collect());
    assert_eq!(events.len(), 3);
    assert_eq!(
        events[2],
        Err(ProviderError::Transport {
            message: "connection reset".into()
        })
    );
}

#[test]
fn tool_call_deltas_carry_index_id_and_name() {
    let bytes = sse(&[
        r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_a","type":"function","function":{"name":"f","arguments":""}}]}}]}"#,
        r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"a\":"}}]}}]}"#,
        r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"id":"call_b","function":{"name":"g","arguments":"{}"}}]}}]}"#,
        r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"1}"}}]}}]}"#,
        r#"{"choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}"#,
    ]);
    let events = events_of(vec![bytes]);
    assert_eq!(
        events[0],
        Ok(StreamEvent::ToolArgumentsDelta {
            index: 0,
            id: Some("call_a".into()),
            name: Some("f".into()),
            delta: String::new(),
        })
    );
    let streamed = assemble(events);
    assert_eq!(streamed.calls[&0].2, r#"{"a":1}"#);
    assert_eq!(streamed.calls[&1].2, "{}");
    assert_eq!(streamed.finish, [FinishReason::ToolCalls]);
}

#[test]
fn refusal_deltas_are_their_own_events() {
    let streamed = assemble_bytes(&recorded("stream-refusal-logprobs.sse"));
    assert!(!streamed.refusal.is_empty());
    assert!(streamed.text.is_empty());
}

// ---------------------------------------------------------------------------------------
// The key never shows
// ---------------------------------------------------------------------------------------

fn assert_secret(what: &str, text: &str) {
    assert!(!text.contains(KEY), "{what} shows the key: {text}");
    assert!(
        !text.contains("SECRET"),
        "{what} shows part of the key: {text}"
    );
}

fn assert_error_secret(error: &ProviderError) {
    assert_secret("error (Debug)", &format!("{error:?}"));
    assert_secret("error (Display)", &format!("{error}"));
}

#[test]
fn the_key_never_prints() {
    let config = Preset::OpenAi
        .config()
        .with_api_key(KEY)
        .with_header("X-Custom-Auth", KEY);
    assert_secret("config", &format!("{config:?}"));
    assert_secret(
        "key",
        &format!("{:?} {}", config.api_key, config.api_key.as_ref().unwrap()),
    );
    let provider = OpenAi::new(config);
    assert_secret("provider", &format!("{provider:?}"));
    assert_secret("provider (alternate)", &format!("{provider:#?}"));
    let azure = OpenAi::new(instructor_providers::presets::azure_config(
        "https://acme.openai.azure.com",
        None,
        "2024-10-21",
        KEY,
    ));
    assert_secret("azure provider", &format!("{azure:#?}"));
}

#[test]
fn the_key_never_shows_in_errors() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    // Port 1 on the loopback: nothing listens, the connection is refused.
    let provider = OpenAi::new(
        Preset::OpenAi
            .config()
            .with_base_url("http://127.0.0.1:1/v1")
            .with_api_key(KEY),
    );
    let request = request(Some(Mode::Tools), person_schema());
    runtime.block_on(async {
        let error = provider.complete(&request).await.unwrap_err();
        assert!(
            matches!(error, ProviderError::Transport { .. }),
            "{error:?}"
        );
        assert!(error.is_retryable());
        assert_error_secret(&error);
        let error = provider.stream(&request).await.err().unwrap();
        assert_error_secret(&error);
    });
    // A key a header cannot carry is refused without being quoted.
    let bad_key = format!("{KEY}\n");
    let provider = OpenAi::new(
        Preset::OpenAi
            .config()
            .with_base_url("http://127.0.0.1:1/v1")
            .with_api_key(bad_key.as_str()),
    );
    runtime.block_on(async {
        let error = provider.complete(&request).await.unwrap_err();
        assert!(matches!(error, ProviderError::Unsupported(_)), "{error:?}");
        assert_error_secret(&error);
    });
}

// ---------------------------------------------------------------------------------------
// Over HTTP, against the fake server
// ---------------------------------------------------------------------------------------

#[cfg(feature = "testing")]
mod http {
    use super::*;
    use instructor_providers::openai::{AuthStyle, PathStyle};
    use instructor_providers::testing::openai::ChatCompletion;
    use instructor_providers::testing::{FakeProvider, Reply};
    use std::future::Future;
    use std::time::Duration;

    fn run<F: Future>(future: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(async {
                tokio::time::timeout(Duration::from_secs(20), future)
                    .await
                    .expect("test took longer than 20 s")
            })
    }

    fn provider(server: &FakeProvider) -> OpenAi {
        OpenAi::new(
            Preset::OpenAi
                .config()
                .with_base_url(server.base_url())
                .with_api_key(KEY)
                .with_organization("org-1")
                .with_project("proj-1")
                .with_header("x-trace", "t-1"),
        )
    }

    fn recorded_json(name: &str) -> Value {
        serde_json::from_slice(&recorded(name)).unwrap()
    }

    #[test]
    fn complete_posts_the_body_with_auth_and_reads_the_answer() {
        run(async {
            let server = FakeProvider::start().await;
            server.push(Reply::json(
                200,
                recorded_json("chat-completion-tool-call.json"),
            ));
            let provider = provider(&server);
            let request = request(Some(Mode::Tools), person_schema());
            let response = provider.complete(&request).await.unwrap();
            assert_eq!(response.tool_calls[0].name, "GetWeatherArgs");
            assert_eq!(
                response.request_id.as_deref(),
                Some("chatcmpl-ABfvx6Z4dchiW2nya1N8KMsHFrQRE")
            );
            let sent = server.last_request().unwrap();
            assert_eq!(sent.method(), "POST");
            assert_eq!(sent.path(), "/v1/chat/completions");
            assert_eq!(
                sent.header("authorization"),
                Some(format!("Bearer {KEY}").as_str())
            );
            assert_eq!(sent.header("openai-organization"), Some("org-1"));
            assert_eq!(sent.header("openai-project"), Some("proj-1"));
            assert_eq!(sent.header("x-trace"), Some("t-1"));
            assert_eq!(sent.header("content-type"), Some("application/json"));
            assert_eq!(
                sent.json().unwrap(),
                &provider.request_body(&request).unwrap()
            );
        });
    }

    #[test]
    fn azure_uses_the_deployment_url_and_the_api_key_header() {
        run(async {
            let server = FakeProvider::start().await;
            server.push(Reply::json(200, recorded_json("chat-completion-text.json")));
            let provider = OpenAi::new(instructor_providers::presets::azure_config(
                server.origin(),
                None,
                "2024-10-21",
                KEY,
            ));
            assert_eq!(provider.config().auth, AuthStyle::AzureApiKey);
            assert!(matches!(
                provider.config().path,
                PathStyle::AzureDeployment { .. }
            ));
            let request = request(None, person_schema());
            provider.complete(&request).await.unwrap();
            let sent = server.last_request().unwrap();
            assert_eq!(
                sent.path(),
                "/openai/deployments/gpt-4o-mini/chat/completions"
            );
            assert_eq!(sent.query(), Some("api-version=2024-10-21"));
            assert_eq!(sent.header("api-key"), Some(KEY));
            assert_eq!(sent.header("authorization"), None);
        });
    }

    #[test]
    fn error_statuses_keep_body_retry_after_and_request_id() {
        run(async {
            let server = FakeProvider::start().await;
            let body = json!({"error": {"message": "Rate limit reached", "type": "requests"}});
            server.push(
                Reply::json(429, body.clone())
                    .header("retry-after-ms", "250")
                    .header("x-request-id", "req_123"),
            );
            server.push(Reply::json(503, body).header("retry-after", "2"));
            let provider = provider(&server);
            let request = request(None, person_schema());
            match provider.complete(&request).await.unwrap_err() {
                error @ ProviderError::Status { .. } => {
                    assert!(error.is_retryable());
                    assert_eq!(error.retry_after(), Some(Duration::from_millis(250)));
                    let ProviderError::Status {
                        status,
                        body,
                        request_id,
                        ..
                    } = error
                    else {
                        unreachable!()
                    };
                    assert_eq!(status, 429);
                    assert!(body.contains("Rate limit reached"));
                    assert_eq!(request_id.as_deref(), Some("req_123"));
                }
                other => panic!("{other:?}"),
            }
            let error = provider.stream(&request).await.err().unwrap();
            assert_eq!(error.retry_after(), Some(Duration::from_secs(2)));
        });
    }

    #[test]
    fn echoed_keys_are_redacted_from_every_error() {
        run(async {
            let server = FakeProvider::start().await;
            let echo = format!("Incorrect API key provided: {KEY}");
            server.push(Reply::json(401, json!({"error": {"message": echo}})));
            server.push(Reply::status(200).body(format!("not json {KEY}")));
            server.push(Reply::sse([
                format!("data: {TEXT_CHUNK}\n\n"),
                format!("data: {{\"error\":{{\"message\":\"{KEY}\"}}}}\n\n"),
            ]));
            server.push(Reply::json(
                200,
                json!({"error": {"message": echo, "code": 500}}),
            ));
            let provider = provider(&server);
            let request = request(None, person_schema());
            let error = provider.complete(&request).await.unwrap_err();
            assert!(matches!(error, ProviderError::Status { status: 401, .. }));
            assert_error_secret(&error);
            let error = provider.complete(&request).await.unwrap_err();
            assert!(matches!(error, ProviderError::Decode { .. }), "{error:?}");
            assert_error_secret(&error);
            let events: Vec<_> = provider.stream(&request).await.unwrap().collect().await;
            let error = events.last().unwrap().as_ref().unwrap_err();
            assert!(matches!(error, ProviderError::Stream { .. }), "{error:?}");
            assert_error_secret(error);
            let error = provider.complete(&request).await.unwrap_err();
            assert!(matches!(error, ProviderError::Status { status: 500, .. }));
            assert_error_secret(&error);
        });
    }

    #[test]
    fn a_recorded_stream_cut_anywhere_arrives_whole() {
        run(async {
            let bytes = recorded("stream-two-parallel-tool-calls.sse");
            let reference = assemble_bytes(&bytes);
            let server = FakeProvider::start().await;
            let offsets: Vec<usize> = (1..bytes.len()).step_by(37).collect();
            server.push(Reply::sse([bytes.clone()]).cut_at(&offsets));
            let provider = provider(&server);
            let request = request(Some(Mode::ParallelTools), person_schema());
            let events: Vec<_> = provider.stream(&request).await.unwrap().collect().await;
            assert_eq!(assemble(events), reference);
            let sent = server.last_request().unwrap();
            assert_eq!(sent.json().unwrap()["stream"], true);
            assert_eq!(sent.header("accept"), Some("text/event-stream"));
        });
    }

    #[test]
    fn a_dropped_connection_mid_stream_is_a_transport_error() {
        run(async {
            let server = FakeProvider::start().await;
            server.push(
                Reply::sse([
                    format!("data: {TEXT_CHUNK}\n\n"),
                    format!("data: {TEXT_CHUNK}\n\n"),
                    format!("data: {STOP_CHUNK}\n\n"),
                ])
                .disconnect_after(1),
            );
            let provider = provider(&server);
            let request = request(None, person_schema());
            let events: Vec<_> = provider.stream(&request).await.unwrap().collect().await;
            let streamed = assemble(events);
            assert_eq!(streamed.text, "Hi");
            assert_eq!(streamed.errors.len(), 1);
            assert!(matches!(
                streamed.errors[0],
                ProviderError::Transport { .. }
            ));
        });
    }

    #[test]
    fn the_stream_timeout_bounds_each_wait_not_the_whole_stream() {
        run(async {
            let server = FakeProvider::start().await;
            let chunks = [
                format!("data: {TEXT_CHUNK}\n\n"),
                format!("data: {TEXT_CHUNK}\n\n"),
                format!("data: {STOP_CHUNK}\n\n"),
            ];
            // Slow but steady: 3 chunks 200 ms apart outlast a 300 ms timeout in total.
            server.push(Reply::sse(chunks.clone()).delay_between(Duration::from_millis(200)));
            // One silence longer than the timeout.
            server.push(Reply::sse(chunks).delay_between(Duration::from_millis(1500)));
            let provider = OpenAi::new(
                Preset::OpenAi
                    .config()
                    .with_base_url(server.base_url())
                    .with_timeout(Some(Duration::from_millis(300))),
            );
            let request = request(None, person_schema());
            let events: Vec<_> = provider.stream(&request).await.unwrap().collect().await;
            let streamed = assemble(events);
            assert!(streamed.errors.is_empty(), "{:?}", streamed.errors);
            assert_eq!(streamed.text, "HiHi");
            let events: Vec<_> = provider.stream(&request).await.unwrap().collect().await;
            let streamed = assemble(events);
            assert_eq!(streamed.text, "Hi");
            assert!(
                matches!(
                    streamed.errors.as_slice(),
                    [ProviderError::Transport { .. }]
                ),
                "{:?}",
                streamed.errors
            );
        });
    }

    #[test]
    fn a_stalled_server_times_out_as_a_transport_error() {
        run(async {
            let server = FakeProvider::start().await;
            server.push(Reply::stall());
            server.push(Reply::stall());
            let provider = OpenAi::new(
                Preset::OpenAi
                    .config()
                    .with_base_url(server.base_url())
                    .with_timeout(Some(Duration::from_millis(300))),
            );
            let request = request(None, person_schema());
            let error = provider.complete(&request).await.unwrap_err();
            assert!(
                matches!(&error, ProviderError::Transport { message } if message.contains("timed out")),
                "{error:?}"
            );
            let error = provider.stream(&request).await.err().unwrap();
            assert!(
                matches!(error, ProviderError::Transport { .. }),
                "{error:?}"
            );
        });
    }

    const MIB: usize = 1024 * 1024;

    /// The beginning of a too large body that its error keeps.
    const PREVIEW: usize = 1024;

    fn capped(server: &FakeProvider, max_response_bytes: usize) -> OpenAi {
        OpenAi::new(
            Preset::OpenAi
                .config()
                .with_base_url(server.base_url())
                .with_api_key(KEY)
                .with_max_response_bytes(max_response_bytes),
        )
    }

    /// Checks that `error` refuses an answer past `limit` bytes, and returns the
    /// beginning of the answer it keeps.
    fn too_large_body(error: &ProviderError, limit: usize) -> &str {
        assert_error_secret(error);
        assert!(!error.is_retryable(), "{error:?}");
        match error {
            ProviderError::Decode { message, body } => {
                assert_eq!(
                    message,
                    &format!("response larger than the limit of {limit} bytes")
                );
                let kept = body.strip_suffix("...").unwrap_or(body);
                assert!(kept.len() <= PREVIEW, "{} bytes kept", kept.len());
                kept
            }
            other => panic!("not a too-large error: {other:?}"),
        }
    }

    #[test]
    fn a_ten_megabyte_answer_passes_the_default_limit_and_not_a_smaller_one() {
        run(async {
            let text = "x".repeat(10_000_000);
            let completion = ChatCompletion::content(text.as_str());
            let body = completion.to_json().to_string().into_bytes();
            assert!(body.len() > 10_000_000);
            // Announced by a Content-Length, and chunked with no size announced (refused
            // by counting).
            let chunked = || {
                Reply::chunked(200, body.chunks(64 * 1024).map(<[u8]>::to_vec))
                    .header("content-type", "application/json")
            };
            let server = FakeProvider::start().await;
            for _ in 0..2 {
                server.push(completion.reply());
                server.push(chunked());
            }
            let request = request(None, person_schema());
            let provider = provider(&server);
            assert_eq!(
                provider.config().max_response_bytes,
                openai::DEFAULT_MAX_RESPONSE_BYTES
            );
            for _ in 0..2 {
                let response = provider.complete(&request).await.unwrap();
                assert_eq!(response.text.as_deref(), Some(text.as_str()));
            }
            let capped = capped(&server, MIB);
            for _ in 0..2 {
                let error = capped.complete(&request).await.unwrap_err();
                let kept = too_large_body(&error, MIB);
                assert_eq!(kept.as_bytes(), &body[..PREVIEW]);
            }
            assert_eq!(server.remaining(), 0);
        });
    }

    #[test]
    fn a_ten_megabyte_stream_passes_the_default_limit_and_not_a_smaller_one() {
        run(async {
            let fragment = "y".repeat(1000);
            let completion =
                ChatCompletion::content_fragments(std::iter::repeat_n(fragment.as_str(), 10_000));
            let events = completion.to_sse_events();
            assert!(events.iter().map(String::len).sum::<usize>() > 10_000_000);
            let server = FakeProvider::start().await;
            server.push(Reply::sse(events.clone()));
            server.push(Reply::sse(events.clone()));
            let request = request(None, person_schema());

            let items: Vec<_> = provider(&server)
                .stream(&request)
                .await
                .unwrap()
                .collect()
                .await;
            let streamed = assemble(items);
            assert!(streamed.errors.is_empty(), "{:?}", streamed.errors);
            assert_eq!(streamed.text.len(), 10_000_000);
            assert_eq!(streamed.finish, [FinishReason::Stop]);

            let mut items: Vec<_> = capped(&server, MIB)
                .stream(&request)
                .await
                .unwrap()
                .collect()
                .await;
            let last = items.pop().unwrap();
            let kept = too_large_body(last.as_ref().unwrap_err(), MIB);
            assert!(events.concat().starts_with(kept));
            // Before the one error, the events of the first megabyte, and nothing after it.
            assert!(items.iter().all(Result::is_ok), "{items:?}");
            let streamed = assemble(items);
            assert!(!streamed.text.is_empty() && streamed.text.len() < MIB);
            assert!(streamed.finish.is_empty());
        });
    }

    #[test]
    fn a_key_across_the_cut_of_a_kept_body_leaves_no_part_of_itself() {
        // A body echoing the key so that a cut after `cut` bytes falls just after
        // "sk-test-SECRET".
        let echo = |cut: usize| format!("{}{KEY}{}", "x".repeat(cut - 14), "z".repeat(4096));
        assert!(echo(PREVIEW)[..PREVIEW].ends_with("sk-test-SECRET"));
        run(async {
            let server = FakeProvider::start().await;
            let provider = capped(&server, 2048);
            let request = request(None, person_schema());
            // Too large: announced, then counted.
            server.push(Reply::status(200).body(echo(PREVIEW)));
            server.push(Reply::chunked(200, [echo(PREVIEW)]));
            for _ in 0..2 {
                let error = provider.complete(&request).await.unwrap_err();
                assert!(too_large_body(&error, 2048).contains("[redacted]"));
            }
            // A too large error body.
            server.push(Reply::status(500).body(echo(PREVIEW)));
            let error = provider.complete(&request).await.unwrap_err();
            assert_error_secret(&error);
            assert!(
                matches!(&error, ProviderError::Status { status: 500, body, .. }
                    if body.contains("larger than the limit of 2048 bytes")),
                "{error:?}"
            );
            // A too large stream.
            server.push(Reply::sse([format!("data: {}", echo(PREVIEW))]));
            let items: Vec<_> = provider.stream(&request).await.unwrap().collect().await;
            assert_eq!(items.len(), 1, "{items:?}");
            too_large_body(items[0].as_ref().unwrap_err(), 2048);
            // An unreadable body within the limit, kept up to 16 KiB.
            server.push(Reply::status(200).body(echo(16 * 1024)));
            let error = capped(&server, MIB).complete(&request).await.unwrap_err();
            assert_error_secret(&error);
            assert!(
                matches!(&error, ProviderError::Decode { message, .. } if message.contains("not JSON")),
                "{error:?}"
            );
        });
    }
}
