//! Cohere v2 Chat: the request translated from the neutral one, and a whole answer read
//! back.

use crate::http::redact::{MAX_BODY_BYTES, Redactor};
use crate::openai::wire_name;
use crate::values::decimal_f64;
use instructor_core::chat::{
    ChatRequest, ChatResponse, ContentPart, FinishReason, MAX_TOOL_CALLS, Message, Mode,
    ProviderError, Role, ToolCall, Usage,
};
use instructor_core::schema::{Dialect, RenderedSchema, rendered};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::sync::Arc;

#[derive(Debug, Serialize)]
pub(crate) struct ChatRequestV2<'a> {
    model: &'a str,
    messages: Vec<WireMessage<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tools: Vec<Tool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tool_choice: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    response_format: Option<ResponseFormat>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_tokens: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    temperature: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    p: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    seed: Option<i64>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    stop_sequences: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    stream: Option<bool>,
}

#[derive(Debug, Serialize)]
struct WireMessage<'a> {
    role: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    content: Option<Content<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tool_calls: Vec<WireToolCall<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tool_call_id: Option<&'a str>,
}

#[derive(Debug, Serialize)]
#[serde(untagged)]
enum Content<'a> {
    Text(String),
    Parts(Vec<Part<'a>>),
}

#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Part<'a> {
    Text { text: &'a str },
    ImageUrl { image_url: ImageUrl },
}

#[derive(Debug, Serialize)]
struct ImageUrl {
    url: String,
}

#[derive(Debug, Serialize)]
struct WireToolCall<'a> {
    id: &'a str,
    #[serde(rename = "type")]
    kind: &'static str,
    function: WireFunction<'a>,
}

#[derive(Debug, Serialize)]
struct WireFunction<'a> {
    name: &'a str,
    arguments: &'a str,
}

#[derive(Debug, Serialize)]
struct Tool {
    #[serde(rename = "type")]
    kind: &'static str,
    function: ToolFunction,
}

#[derive(Debug, Serialize)]
struct ToolFunction {
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    parameters: Arc<RenderedSchema>,
}

#[derive(Debug, Serialize)]
struct ResponseFormat {
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    json_schema: Option<Arc<RenderedSchema>>,
}

fn text_only(message: &Message) -> Result<String, ProviderError> {
    let mut text = String::new();
    for part in &message.content {
        match part {
            ContentPart::Text { text: part } => text.push_str(part),
            ContentPart::CacheBreakpoint { .. }
            | ContentPart::Thinking { .. }
            | ContentPart::RedactedThinking { .. } => {}
            other => {
                return Err(ProviderError::Unsupported(format!(
                    "a {} message cannot hold {} for Cohere",
                    role_name(message.role),
                    other.kind()
                )));
            }
        }
    }
    Ok(text)
}

fn role_name(role: Role) -> &'static str {
    match role {
        Role::System => "system",
        Role::User => "user",
        Role::Assistant => "assistant",
        Role::Tool => "tool",
    }
}

fn wire_message(message: &Message) -> Result<WireMessage<'_>, ProviderError> {
    let role = role_name(message.role);
    let content = match message.role {
        Role::User
            if message
                .content
                .iter()
                .any(|part| matches!(part, ContentPart::Image(_))) =>
        {
            let mut parts = Vec::new();
            for part in &message.content {
                match part {
                    ContentPart::Text { text } => parts.push(Part::Text { text }),
                    ContentPart::Image(image) => parts.push(Part::ImageUrl {
                        image_url: ImageUrl {
                            url: image.source.to_url(),
                        },
                    }),
                    ContentPart::CacheBreakpoint { .. } => {}
                    other => {
                        return Err(ProviderError::Unsupported(format!(
                            "Cohere cannot take {} in a message",
                            other.kind()
                        )));
                    }
                }
            }
            Some(Content::Parts(parts))
        }
        Role::Assistant if !message.tool_calls.is_empty() => {
            let text = text_only(message)?;
            (!text.is_empty()).then_some(Content::Text(text))
        }
        _ => Some(Content::Text(text_only(message)?)),
    };
    let tool_call_id = match message.role {
        Role::Tool => Some(message.tool_call_id.as_deref().ok_or_else(|| {
            ProviderError::Unsupported("a tool message needs the id of the call it answers".into())
        })?),
        _ => None,
    };
    Ok(WireMessage {
        role,
        content,
        tool_calls: message
            .tool_calls
            .iter()
            .map(|call| WireToolCall {
                id: &call.id,
                kind: "function",
                function: WireFunction {
                    name: &call.name,
                    arguments: &call.arguments,
                },
            })
            .collect(),
        tool_call_id,
    })
}

/// The wire request for `request`.
pub(crate) fn chat_request(
    request: &ChatRequest,
    streaming: bool,
) -> Result<ChatRequestV2<'_>, ProviderError> {
    let params = &request.params;
    let mut wire = ChatRequestV2 {
        model: &request.model,
        messages: request
            .messages
            .iter()
            .map(wire_message)
            .collect::<Result<_, _>>()?,
        tools: Vec::new(),
        tool_choice: None,
        response_format: None,
        max_tokens: params.max_tokens,
        temperature: params.temperature.map(decimal_f64),
        p: params.top_p.map(decimal_f64),
        seed: params.seed,
        stop_sequences: &params.stop,
        stream: streaming.then_some(true),
    };
    let Some(output) = &request.output else {
        return Ok(wire);
    };
    // Cohere's JSON Schema output and tools take a JSON Schema without `$schema`, with
    // a non-object root wrapped as core expects.
    let render = |schema| {
        rendered(schema, Dialect::AnthropicTool)
            .map_err(|error| ProviderError::Unsupported(error.to_string()))
    };
    match output.mode {
        Mode::Tools | Mode::ParallelTools => {
            if output.tools.is_empty() {
                wire.tools.push(Tool {
                    kind: "function",
                    function: ToolFunction {
                        name: wire_name(&output.name),
                        description: output.description.clone(),
                        parameters: render(&output.schema)?,
                    },
                });
            }
            for spec in &output.tools {
                wire.tools.push(Tool {
                    kind: "function",
                    function: ToolFunction {
                        name: wire_name(&spec.name),
                        description: spec.description.clone(),
                        parameters: render(&spec.schema)?,
                    },
                });
            }
            wire.tool_choice = Some("REQUIRED");
        }
        Mode::JsonSchema => {
            wire.response_format = Some(ResponseFormat {
                kind: "json_object",
                json_schema: Some(render(&output.schema)?),
            });
        }
        Mode::Json => {
            wire.response_format = Some(ResponseFormat {
                kind: "json_object",
                json_schema: None,
            });
        }
        Mode::MdJson => {}
        other => {
            return Err(ProviderError::Unsupported(format!(
                "{other:?} is not offered by Cohere"
            )));
        }
    }
    Ok(wire)
}

#[derive(Debug, Deserialize)]
struct ChatResponseV2 {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    finish_reason: Option<String>,
    #[serde(default)]
    message: Option<AssistantMessage>,
    #[serde(default)]
    usage: Option<WireUsage>,
}

#[derive(Debug, Deserialize)]
struct AssistantMessage {
    #[serde(default)]
    content: Vec<ContentItem>,
    #[serde(default)]
    tool_calls: Vec<ResponseToolCall>,
    #[serde(default)]
    tool_plan: Option<String>,
}

#[derive(Debug, Deserialize)]
struct ContentItem {
    #[serde(rename = "type", default)]
    kind: Option<String>,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    thinking: Option<String>,
}

#[derive(Debug, Deserialize)]
struct ResponseToolCall {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    function: Option<ResponseFunction>,
}

#[derive(Debug, Deserialize)]
struct ResponseFunction {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    arguments: Option<String>,
}

/// Cohere's usage (`tokens`, else `billed_units`); counts are JSON numbers, possibly
/// with a fraction or absurd: read as floats and clamped.
#[derive(Debug, Default, Clone, Copy, Deserialize)]
pub(crate) struct WireUsage {
    #[serde(default)]
    tokens: Option<Counts>,
    #[serde(default)]
    billed_units: Option<Counts>,
}

#[derive(Debug, Default, Clone, Copy, Deserialize)]
struct Counts {
    #[serde(default)]
    input_tokens: Option<f64>,
    #[serde(default)]
    output_tokens: Option<f64>,
}

fn count(value: Option<f64>) -> u64 {
    match value {
        Some(value) if value.is_finite() && value > 0.0 => {
            if value >= u64::MAX as f64 {
                u64::MAX
            } else {
                value as u64
            }
        }
        _ => 0,
    }
}

impl WireUsage {
    pub(crate) fn neutral(self) -> Usage {
        let counts = self.tokens.or(self.billed_units).unwrap_or_default();
        Usage {
            input_tokens: count(counts.input_tokens),
            output_tokens: count(counts.output_tokens),
            ..Usage::default()
        }
    }
}

/// Cohere's finish reasons in neutral terms.
pub(crate) fn finish_reason(reason: &str) -> FinishReason {
    match reason {
        "COMPLETE" | "STOP_SEQUENCE" => FinishReason::Stop,
        "MAX_TOKENS" => FinishReason::Length,
        "TOOL_CALL" => FinishReason::ToolCalls,
        other => FinishReason::Other(other.to_owned()),
    }
}

/// Reads a whole answer.
pub(crate) fn read_response(
    body: &[u8],
    redactor: &Redactor,
    keep_raw: bool,
) -> Result<ChatResponse, ProviderError> {
    let decode_error = |message: String| {
        redactor.error(ProviderError::Decode {
            message,
            body: redactor.preview(body, MAX_BODY_BYTES),
        })
    };
    let wire: ChatResponseV2 = serde_json::from_slice(body)
        .map_err(|error| decode_error(format!("the body is not a Cohere chat answer: {error}")))?;
    let Some(message) = wire.message else {
        return Err(decode_error("the answer has no message".to_owned()));
    };
    if message.tool_calls.len() > MAX_TOOL_CALLS {
        return Err(decode_error(format!(
            "more than {MAX_TOOL_CALLS} tool calls in one answer"
        )));
    }
    let text: String = message
        .content
        .iter()
        .filter(|item| item.kind.as_deref().unwrap_or("text") == "text")
        .filter_map(|item| item.text.as_deref())
        .collect();
    let mut reasoning = Vec::new();
    let thinking: String = message
        .content
        .iter()
        .filter_map(|item| item.thinking.as_deref())
        .chain(message.tool_plan.as_deref())
        .collect();
    if !thinking.is_empty() {
        reasoning.push(redactor.part(ContentPart::Thinking {
            thinking,
            signature: None,
        }));
    }
    let tool_calls = message
        .tool_calls
        .into_iter()
        .enumerate()
        .map(|(index, call)| {
            let function = call.function.unwrap_or(ResponseFunction {
                name: None,
                arguments: None,
            });
            ToolCall {
                id: redactor.id(call.id.unwrap_or_else(|| format!("call_{index}"))),
                name: redactor.id(function.name.unwrap_or_default()),
                arguments: redactor.shared(function.arguments.unwrap_or_default().into()),
            }
        })
        .collect();
    let raw = if keep_raw {
        serde_json::from_slice::<Value>(body).map_or(Value::Null, |raw| redactor.value(raw))
    } else {
        Value::Null
    };
    Ok(ChatResponse {
        text: (!text.is_empty()).then(|| redactor.text(text)),
        tool_calls,
        usage: wire.usage.map(WireUsage::neutral),
        finish_reason: wire.finish_reason.map(|r| finish_reason(&redactor.id(r))),
        request_id: wire.id.map(|id| redactor.id(id)),
        raw,
        reasoning,
        ..ChatResponse::default()
    })
}
