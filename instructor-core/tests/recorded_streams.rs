//! Real recorded provider streams (OpenAI, Anthropic) replayed through the engine, one
//! provider delta per chunk and one byte per chunk: the same final value as parsing the
//! joined arguments in one go.

use instructor_core::partial::ValueBuilder;
use instructor_core::stream::Parser;
use instructor_core::{Event, PartialError, PathSegment};
use serde_json::Value;
use std::path::PathBuf;

fn recorded(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../testdata/recorded")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The JSON payloads of an SSE body (`data:` lines, `[DONE]` dropped).
fn sse_data(body: &str) -> Vec<Value> {
    body.split("\n\n")
        .filter_map(|event| {
            event
                .lines()
                .find_map(|line| line.strip_prefix("data: "))
                .filter(|data| *data != "[DONE]")
                .map(|data| serde_json::from_str(data).expect("event JSON"))
        })
        .collect()
}

/// The events of a `.chunks.jsonl` fixture.
fn jsonl(body: &str) -> Vec<Value> {
    body.lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| serde_json::from_str(line).expect("event JSON"))
        .collect()
}

/// OpenAI chat deltas: tool-call argument fragments per call index, or content
/// fragments when there is no tool call.
fn openai_fragments(events: &[Value]) -> Vec<Vec<String>> {
    let mut calls: Vec<Vec<String>> = Vec::new();
    let mut content: Vec<String> = Vec::new();
    for event in events {
        let Some(delta) = event["choices"].get(0).map(|c| &c["delta"]) else {
            continue;
        };
        if let Some(tool_calls) = delta["tool_calls"].as_array() {
            for call in tool_calls {
                let index = call["index"].as_u64().expect("index") as usize;
                if calls.len() <= index {
                    calls.resize(index + 1, Vec::new());
                }
                if let Some(arguments) = call["function"]["arguments"].as_str() {
                    calls[index].push(arguments.to_owned());
                }
            }
        }
        if let Some(text) = delta["content"].as_str() {
            content.push(text.to_owned());
        }
    }
    if calls.is_empty() {
        vec![content]
    } else {
        calls
    }
}

/// Anthropic deltas of one kind: `input_json_delta` (tool input, in `partial_json`) or
/// `text_delta` (in `text`).
fn anthropic_fragments(events: &[Value], kind: &str) -> Vec<String> {
    let field = if kind == "input_json_delta" {
        "partial_json"
    } else {
        "text"
    };
    events
        .iter()
        .filter(|e| e["type"] == "content_block_delta" && e["delta"]["type"] == kind)
        .filter_map(|e| e["delta"][field].as_str().map(str::to_owned))
        .collect()
}

fn replay(chunks: &[&[u8]]) -> Value {
    let mut parser = Parser::new();
    let mut builder = ValueBuilder::default();
    let mut value = None;
    let mut sink = |path: &[PathSegment], event: Event<'_>| -> Result<(), PartialError> {
        if let Some(done) = builder.push(path, &event)? {
            value = Some(done);
        }
        Ok(())
    };
    for chunk in chunks {
        parser.feed(chunk, &mut sink).expect("valid JSON");
    }
    parser.finish(&mut sink).expect("complete JSON");
    value.expect("a value")
}

fn check(fragments: &[String]) {
    let joined = fragments.concat();
    let expected: Value = serde_json::from_str(&joined).expect("the joined arguments are JSON");
    let as_received: Vec<&[u8]> = fragments.iter().map(|f| f.as_bytes()).collect();
    assert_eq!(replay(&as_received), expected, "{joined}");
    let bytewise: Vec<&[u8]> = joined.as_bytes().chunks(1).collect();
    assert_eq!(replay(&bytewise), expected, "{joined}");
}

#[test]
fn openai_streamed_tool_arguments() {
    for name in [
        "openai/stream-single-tool-call.sse",
        "openai/stream-strict-tool-call.sse",
        "openai/stream-non-strict-tool-call.sse",
        "openai/stream-two-parallel-tool-calls.sse",
    ] {
        let calls = openai_fragments(&sse_data(&recorded(name)));
        assert!(!calls.is_empty(), "{name}");
        for fragments in calls {
            assert!(
                fragments.len() > 3,
                "{name}: arguments arrive in several deltas"
            );
            check(&fragments);
        }
    }
}

#[test]
fn openai_streamed_json_content() {
    for name in [
        "openai/stream-structured-output-content.sse",
        "openai/stream-json-object-response-format.sse",
    ] {
        let calls = openai_fragments(&sse_data(&recorded(name)));
        assert_eq!(calls.len(), 1, "{name}");
        check(&calls[0]);
    }
}

#[test]
fn anthropic_streamed_tool_input() {
    let events = sse_data(&recorded("anthropic/stream-tool-use-input-json-delta.sse"));
    check(&anthropic_fragments(&events, "input_json_delta"));
    let events = jsonl(&recorded(
        "anthropic/stream-tool-use-json-tool.chunks.jsonl",
    ));
    check(&anthropic_fragments(&events, "input_json_delta"));
}

#[test]
fn anthropic_streamed_json_output_format() {
    let events = jsonl(&recorded(
        "anthropic/stream-json-output-format-text.chunks.jsonl",
    ));
    let fragments = anthropic_fragments(&events, "text_delta");
    assert!(fragments.len() > 50);
    check(&fragments);
}

#[test]
fn a_truncated_recorded_stream_is_an_unexpected_end() {
    // max_tokens cut the tool input short: the engine says so, with where it stopped.
    let events = sse_data(&recorded(
        "anthropic/stream-max-tokens-truncated-tool-json-edited.sse",
    ));
    let joined = anthropic_fragments(&events, "input_json_delta").concat();
    let mut parser = Parser::new();
    let mut sink = |_: &[PathSegment], _: Event<'_>| Ok::<(), std::convert::Infallible>(());
    parser
        .feed(joined.as_bytes(), &mut sink)
        .expect("valid so far");
    let error = parser.finish(&mut sink).expect_err("truncated");
    assert!(
        error.to_string().contains("the input ended early"),
        "{error}"
    );
}
