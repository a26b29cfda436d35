//! The fake provider's Anthropic and Gemini bodies against the providers' published API
//! descriptions (`testdata/specs/`) and their recorded traffic (`testdata/recorded/`):
//! a client tested against the fake is tested against what the real servers send.
//!
//! Checked: Anthropic messages and error bodies against the `Message` and
//! `ErrorResponse` components (JSON Schema validation); every key of every Gemini body
//! against the discovery document's `GenerateContentResponse` (the discovery format is
//! not JSON Schema, so its properties are walked by hand); and the streamed events of
//! both against the recorded streams: the same event types, each with keys the real
//! server also sends.

use instructor_providers::testing::{anthropic, gemini};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

fn testdata() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata")
}

fn read_json(path: PathBuf) -> Value {
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_slice(&bytes).expect("a JSON document")
}

// ---------------------------------------------------------------------------------------
// Anthropic
// ---------------------------------------------------------------------------------------

fn anthropic_spec() -> &'static Value {
    static SPEC: OnceLock<Value> = OnceLock::new();
    SPEC.get_or_init(|| read_json(testdata().join("specs/anthropic-messages-batches.openapi.json")))
}

/// Removes every `required` list: the description calls fields required that the real
/// server leaves out (recorded messages have no `container` or `stop_details`), so
/// answers are checked for the types, values and shapes of what they do send.
fn without_required(value: &mut Value) {
    match value {
        Value::Object(object) => {
            object.remove("required");
            object.values_mut().for_each(without_required);
        }
        Value::Array(items) => items.iter_mut().for_each(without_required),
        _ => {}
    }
}

/// A validator for one component of the Anthropic description (the whole document is
/// the schema, so every `#/components/schemas/...` reference resolves inside it), with
/// the description's `required` lists removed (see [`without_required`]).
fn anthropic_validator(component: &str) -> jsonschema::Validator {
    let mut schema = anthropic_spec().clone();
    without_required(&mut schema);
    schema["$ref"] = json!(format!("#/components/schemas/{component}"));
    jsonschema::draft202012::options()
        .build(&schema)
        .expect("the component compiles")
}

fn assert_valid(validator: &jsonschema::Validator, body: &Value) {
    let errors: Vec<String> = validator
        .iter_errors(body)
        .map(|error| format!("{error} at {}", error.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}\n{body:#}");
}

fn anthropic_messages() -> Vec<anthropic::Message> {
    vec![
        anthropic::Message::text("Hello"),
        anthropic::Message::tool_use_fragments("extract", [r#"{"name":"#, r#""Ada"}"#])
            .cache_usage(1200, 300),
        anthropic::Message::text("I'll extract it.")
            .thinking_first(["The user wants ", "a person."], "sig-abc")
            .and_tool_use("extract", r#"{"name":"Ada"}"#)
            .and_tool_use("extract", r#"{"name":"Bo"}"#),
        anthropic::Message::tool_use("extract", r#"{"name":"Ad"#).stop_reason("max_tokens"),
        anthropic::Message::text("I can't help with that.").stop_reason("refusal"),
    ]
}

#[test]
fn anthropic_messages_match_the_published_message_schema() {
    let validator = anthropic_validator("Message");
    // A known-bad body is rejected, so the validator is really checking.
    assert!(!validator.is_valid(&json!({"type": "message", "content": "no"})));
    assert!(!validator.is_valid(&json!({"type": "message", "stop_reason": "done"})));
    // Real recorded messages pass.
    for name in ["message-text.json", "message-tool-use.json"] {
        assert_valid(
            &validator,
            &read_json(testdata().join("recorded/anthropic").join(name)),
        );
    }
    for message in anthropic_messages() {
        let body = message.to_json();
        // `tool_use` input that is not JSON is sent as a string on purpose (a broken
        // server); everything else must be a valid message.
        if body["content"][0]["input"].is_string() {
            continue;
        }
        assert_valid(&validator, &body);
    }
}

#[test]
fn anthropic_error_bodies_match_the_published_error_schema() {
    let validator = anthropic_validator("ErrorResponse");
    for kind in [
        "invalid_request_error",
        "authentication_error",
        "rate_limit_error",
        "overloaded_error",
        "api_error",
    ] {
        assert_valid(
            &validator,
            &anthropic::error_body(kind, "Something went wrong"),
        );
    }
    let recorded =
        read_json(testdata().join("recorded/anthropic/error-400-invalid-request-error.json"));
    assert_eq!(
        keys(&recorded),
        keys(&anthropic::error_body("invalid_request_error", "x"))
    );
}

fn keys(value: &Value) -> BTreeSet<String> {
    value
        .as_object()
        .map(|object| object.keys().cloned().collect())
        .unwrap_or_default()
}

/// The events of a recorded Anthropic stream, `.sse` or `.chunks.jsonl`, as (type, data).
fn recorded_anthropic_events(name: &str) -> Vec<(String, Value)> {
    let text = std::fs::read_to_string(testdata().join("recorded/anthropic").join(name))
        .expect("a recorded stream");
    if name.ends_with(".sse") {
        text.split("\n\n")
            .filter_map(|event| {
                let data = event.lines().find_map(|line| line.strip_prefix("data: "))?;
                let data: Value = serde_json::from_str(data).expect("JSON data");
                Some((data["type"].as_str()?.to_owned(), data))
            })
            .collect()
    } else {
        text.lines()
            .filter(|line| !line.trim().is_empty())
            .map(|line| {
                let data: Value = serde_json::from_str(line).expect("JSON line");
                (data["type"].as_str().expect("a type").to_owned(), data)
            })
            .collect()
    }
}

fn fake_anthropic_events(message: &anthropic::Message) -> Vec<(String, Value)> {
    message
        .to_sse_events()
        .iter()
        .map(|event| {
            let (name, data) = event
                .strip_prefix("event: ")
                .and_then(|rest| rest.split_once("\ndata: "))
                .expect("an `event:` line then a `data:` line");
            let data: Value = serde_json::from_str(data.trim_end()).expect("JSON data");
            assert_eq!(data["type"], name, "the event name is the data's type");
            (name.to_owned(), data)
        })
        .collect()
}

/// A shape key of an event: its type, and for block starts and deltas the block or
/// delta type (`content_block_start/tool_use`, `content_block_delta/input_json_delta`).
fn shape(kind: &str, data: &Value) -> String {
    let sub = match kind {
        "content_block_start" => data["content_block"]["type"].as_str(),
        "content_block_delta" => data["delta"]["type"].as_str(),
        _ => None,
    };
    match sub {
        Some(sub) => format!("{kind}/{sub}"),
        None => kind.to_owned(),
    }
}

/// Every key path of `value` (`message.usage.input_tokens`, arrays as `[]`).
fn key_paths(value: &Value, prefix: &str, out: &mut BTreeSet<String>) {
    match value {
        Value::Object(object) => {
            for (key, child) in object {
                let path = if prefix.is_empty() {
                    key.clone()
                } else {
                    format!("{prefix}.{key}")
                };
                out.insert(path.clone());
                // A tool's input is the model's own JSON, not the wire's.
                if key != "input" {
                    key_paths(child, &path, out);
                }
            }
        }
        Value::Array(items) => {
            for item in items {
                key_paths(item, &format!("{prefix}[]"), out);
            }
        }
        _ => {}
    }
}

#[test]
fn anthropic_streams_send_what_the_real_server_sends() {
    let mut recorded: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for name in [
        "stream-tool-use-input-json-delta.sse",
        "stream-max-tokens-truncated-tool-json-edited.sse",
        "stream-text-basic-hand-edited.sse",
        "stream-tool-use-json-tool.chunks.jsonl",
        "stream-json-output-format-text.chunks.jsonl",
        "stream-text-then-tool-use-no-args.chunks.jsonl",
        "stream-text.chunks.jsonl",
    ] {
        for (kind, data) in recorded_anthropic_events(name) {
            key_paths(&data, "", recorded.entry(shape(&kind, &data)).or_default());
        }
    }
    let mut seen = BTreeSet::new();
    for message in anthropic_messages() {
        for (kind, data) in fake_anthropic_events(&message) {
            let shape = shape(&kind, &data);
            seen.insert(shape.clone());
            // Thinking is not in the recorded streams: its shape comes from the
            // description (checked through the plain message above).
            if shape.contains("thinking") || shape.contains("signature") {
                continue;
            }
            let real = recorded
                .get(&shape)
                .unwrap_or_else(|| panic!("no recorded event of shape {shape}"));
            let mut ours = BTreeSet::new();
            key_paths(&data, "", &mut ours);
            let extra: Vec<&String> = ours.difference(real).collect();
            assert!(extra.is_empty(), "{shape}: keys never recorded: {extra:?}");
        }
    }
    // Every recorded shape the extraction path reads is produced by the fake.
    for shape in [
        "message_start",
        "content_block_start/text",
        "content_block_start/tool_use",
        "content_block_delta/text_delta",
        "content_block_delta/input_json_delta",
        "content_block_stop",
        "message_delta",
        "message_stop",
        "ping",
    ] {
        assert!(recorded.contains_key(shape), "recorded: {shape}");
        assert!(seen.contains(shape), "the fake sends {shape}");
    }
}

// ---------------------------------------------------------------------------------------
// Gemini
// ---------------------------------------------------------------------------------------

fn gemini_schemas() -> &'static Value {
    static SPEC: OnceLock<Value> = OnceLock::new();
    SPEC.get_or_init(|| {
        read_json(testdata().join("specs/gemini-v1beta.discovery.json"))["schemas"].clone()
    })
}

/// Walks `value` along a discovery schema: every object key must be a property of the
/// schema (following `$ref` by name); free-form objects (`additionalProperties`) stop
/// the walk.
fn assert_keys_in_discovery(value: &Value, schema: &Value, path: &str) {
    let schemas = gemini_schemas();
    let schema = match schema.get("$ref").and_then(Value::as_str) {
        Some(name) => &schemas[name],
        None => schema,
    };
    match value {
        Value::Object(object) => {
            let Some(properties) = schema.get("properties").and_then(Value::as_object) else {
                assert!(
                    schema.get("additionalProperties").is_some(),
                    "{path}: an object where the description has none"
                );
                return;
            };
            for (key, child) in object {
                let property = properties
                    .get(key)
                    .unwrap_or_else(|| panic!("{path}.{key} is not in the description"));
                assert_keys_in_discovery(child, property, &format!("{path}.{key}"));
            }
        }
        Value::Array(items) => {
            for item in items {
                assert_keys_in_discovery(item, &schema["items"], &format!("{path}[]"));
            }
        }
        _ => {}
    }
}

fn gemini_answers() -> Vec<gemini::GenerateContent> {
    vec![
        gemini::GenerateContent::text_fragments([r#"{"name":"#, r#""Ada"}"#]),
        gemini::GenerateContent::function_call("extract", r#"{"name":"Ada"}"#)
            .and_function_call("extract", r#"{"name":"Bo"}"#)
            .thought_first("Two people.")
            .thoughts_tokens(30),
        gemini::GenerateContent::text("{\"name\":").finish_reason("MAX_TOKENS"),
        gemini::GenerateContent::prompt_blocked("PROHIBITED_CONTENT"),
    ]
}

#[test]
fn gemini_bodies_use_only_described_fields() {
    let response = json!({"$ref": "GenerateContentResponse"});
    // A misspelled field is caught, so the walk is really checking.
    let caught = std::panic::catch_unwind(|| {
        assert_keys_in_discovery(&json!({"candidate": []}), &response, "response");
    });
    assert!(caught.is_err());
    for answer in gemini_answers() {
        assert_keys_in_discovery(&answer.to_json(), &response, "response");
        for event in answer.to_sse_events() {
            let data = event
                .strip_prefix("data: ")
                .expect("a data line")
                .trim_end();
            let data: Value = serde_json::from_str(data).expect("JSON");
            assert_keys_in_discovery(&data, &response, "event");
        }
    }
    // The recorded Gemini API answers pass the same walk (the check fits real traffic).
    for name in [
        "generate-text.json",
        "generate-tool-call.json",
        "generate-prompt-blocked.json",
    ] {
        assert_keys_in_discovery(
            &read_json(testdata().join("recorded/gemini").join(name)),
            &response,
            name,
        );
    }
}

#[test]
fn gemini_finish_reasons_and_block_reasons_are_described_values() {
    let schemas = gemini_schemas();
    let finish: Vec<&str> = schemas["Candidate"]["properties"]["finishReason"]["enum"]
        .as_array()
        .expect("an enum")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let block: Vec<&str> = schemas["PromptFeedback"]["properties"]["blockReason"]["enum"]
        .as_array()
        .expect("an enum")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    for answer in gemini_answers() {
        let body = answer.to_json();
        if let Some(reason) = body["candidates"][0]["finishReason"].as_str() {
            assert!(finish.contains(&reason), "{reason}");
        }
        if let Some(reason) = body["promptFeedback"]["blockReason"].as_str() {
            assert!(block.contains(&reason), "{reason}");
        }
    }
}

#[test]
fn gemini_error_bodies_match_the_recorded_error() {
    let recorded = read_json(testdata().join("recorded/gemini/error-400-invalid-argument.json"));
    let ours = gemini::error_body(400, "Penalty is not enabled", "INVALID_ARGUMENT");
    assert_eq!(keys(&recorded), keys(&ours));
    assert_eq!(keys(&recorded["error"]), keys(&ours["error"]));
}
