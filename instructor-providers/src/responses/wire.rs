//! The Responses request translated from the neutral one, and a whole `response`
//! object read back.

use crate::http::redact::{MAX_BODY_BYTES, Redactor};
use crate::openai::wire_name;
use crate::values::decimal_f64;
use instructor_core::chat::{
    ChatRequest, ChatResponse, ContentPart, FinishReason, MAX_TOOL_CALLS, Mode, ProviderError,
    Role, ToolCall, Usage,
};
use instructor_core::schema::{Dialect, RenderedSchema, rendered};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::sync::Arc;

#[derive(Debug, Serialize)]
pub(crate) struct ResponsesRequest<'a> {
    model: &'a str,
    input: Vec<InputItem<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tools: Vec<FunctionTool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tool_choice: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    parallel_tool_calls: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    text: Option<TextConfig>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_output_tokens: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    temperature: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    top_p: Option<f64>,
    store: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    stream: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    prompt_cache_key: Option<&'a str>,
}

#[derive(Debug, Serialize)]
#[serde(untagged)]
enum InputItem<'a> {
    Message {
        role: &'static str,
        content: MessageContent<'a>,
    },
    Typed(TypedItem<'a>),
}

#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum TypedItem<'a> {
    FunctionCall {
        call_id: &'a str,
        name: &'a str,
        arguments: &'a str,
    },
    FunctionCallOutput {
        call_id: &'a str,
        output: String,
    },
}

#[derive(Debug, Serialize)]
#[serde(untagged)]
enum MessageContent<'a> {
    Text(String),
    Parts(Vec<InputPart<'a>>),
}

#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[allow(clippy::enum_variant_names)] // The wire's own names.
enum InputPart<'a> {
    InputText {
        text: &'a str,
    },
    InputImage {
        image_url: String,
        detail: &'static str,
    },
    InputFile {
        filename: String,
        file_data: String,
    },
}

#[derive(Debug, Serialize)]
struct FunctionTool {
    #[serde(rename = "type")]
    kind: &'static str,
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    parameters: Arc<RenderedSchema>,
    strict: bool,
}

#[derive(Debug, Serialize)]
struct TextConfig {
    format: Value,
}

fn role_name(role: Role) -> &'static str {
    match role {
        Role::System => "system",
        Role::User => "user",
        Role::Assistant => "assistant",
        Role::Tool => "tool",
    }
}

/// The wire request for `request`.
pub(crate) fn responses_request(
    request: &ChatRequest,
    streaming: bool,
) -> Result<ResponsesRequest<'_>, ProviderError> {
    let params = &request.params;
    if !params.stop.is_empty() || params.seed.is_some() {
        return Err(ProviderError::Unsupported(
            "the Responses API takes no stop sequences and no seed".to_owned(),
        ));
    }
    let mut input = Vec::new();
    for message in &request.messages {
        match message.role {
            Role::Tool => {
                let call_id = message.tool_call_id.as_deref().ok_or_else(|| {
                    ProviderError::Unsupported(
                        "a tool message needs the id of the call it answers".into(),
                    )
                })?;
                input.push(InputItem::Typed(TypedItem::FunctionCallOutput {
                    call_id,
                    output: message.text_content(),
                }));
            }
            role => {
                let has_media = message
                    .content
                    .iter()
                    .any(|part| matches!(part, ContentPart::Image(_) | ContentPart::Document(_)));
                if has_media && role != Role::User {
                    return Err(ProviderError::Unsupported(
                        "images and documents can only be sent in user messages".into(),
                    ));
                }
                let content = if has_media {
                    let mut parts = Vec::new();
                    for part in &message.content {
                        match part {
                            ContentPart::Text { text } => parts.push(InputPart::InputText { text }),
                            ContentPart::Image(image) => parts.push(InputPart::InputImage {
                                image_url: image.source.to_url(),
                                detail: "auto",
                            }),
                            ContentPart::Document(document) => {
                                let Some((media_type, data)) = document.source.as_base64() else {
                                    return Err(ProviderError::Unsupported(
                                        "a document by URL cannot be sent to the Responses API: give its bytes".into(),
                                    ));
                                };
                                parts.push(InputPart::InputFile {
                                    filename: document
                                        .title
                                        .clone()
                                        .unwrap_or_else(|| "document.pdf".to_owned()),
                                    file_data: format!("data:{media_type};base64,{data}"),
                                });
                            }
                            _ => {}
                        }
                    }
                    MessageContent::Parts(parts)
                } else {
                    MessageContent::Text(message.text_content())
                };
                let empty = matches!(&content, MessageContent::Text(text) if text.is_empty());
                if !(empty && role == Role::Assistant && !message.tool_calls.is_empty()) {
                    input.push(InputItem::Message {
                        role: role_name(role),
                        content,
                    });
                }
                for call in &message.tool_calls {
                    input.push(InputItem::Typed(TypedItem::FunctionCall {
                        call_id: &call.id,
                        name: &call.name,
                        arguments: &call.arguments,
                    }));
                }
            }
        }
    }
    let mut wire = ResponsesRequest {
        model: &request.model,
        input,
        tools: Vec::new(),
        tool_choice: None,
        parallel_tool_calls: None,
        text: None,
        max_output_tokens: params.max_tokens,
        temperature: params.temperature.map(decimal_f64),
        top_p: params.top_p.map(decimal_f64),
        store: false,
        stream: streaming.then_some(true),
        prompt_cache_key: params.prompt_cache_key.as_deref(),
    };
    let Some(output) = &request.output else {
        return Ok(wire);
    };
    let render = |schema, dialect| {
        rendered(schema, dialect).map_err(|error| ProviderError::Unsupported(error.to_string()))
    };
    let name = wire_name(&output.name);
    match output.mode {
        Mode::Tools | Mode::ToolsStrict => {
            let strict = output.mode == Mode::ToolsStrict;
            let dialect = if strict {
                Dialect::OpenAiStrict
            } else {
                Dialect::AnthropicTool
            };
            wire.tools.push(FunctionTool {
                kind: "function",
                name: name.clone(),
                description: output.description.clone(),
                parameters: render(&output.schema, dialect)?,
                strict,
            });
            wire.tool_choice = Some(serde_json::json!({"type": "function", "name": name}));
            wire.parallel_tool_calls = Some(false);
        }
        Mode::ParallelTools => {
            if output.tools.is_empty() {
                wire.tools.push(FunctionTool {
                    kind: "function",
                    name,
                    description: output.description.clone(),
                    parameters: render(&output.schema, Dialect::AnthropicTool)?,
                    strict: false,
                });
            }
            for spec in &output.tools {
                wire.tools.push(FunctionTool {
                    kind: "function",
                    name: wire_name(&spec.name),
                    description: spec.description.clone(),
                    parameters: render(&spec.schema, Dialect::AnthropicTool)?,
                    strict: false,
                });
            }
            wire.tool_choice = Some(Value::String("required".to_owned()));
            wire.parallel_tool_calls = Some(true);
        }
        Mode::JsonSchema => {
            let schema = render(&output.schema, Dialect::OpenAiStrict)?;
            let mut format = serde_json::json!({
                "type": "json_schema",
                "name": name,
                "schema": schema,
                "strict": true,
            });
            if let Some(description) = &output.description {
                format["description"] = Value::String(description.clone());
            }
            wire.text = Some(TextConfig { format });
        }
        Mode::Json => {
            wire.text = Some(TextConfig {
                format: serde_json::json!({"type": "json_object"}),
            });
        }
        Mode::MdJson => {}
        other => {
            return Err(ProviderError::Unsupported(format!(
                "{other:?} is not implemented by the Responses client"
            )));
        }
    }
    Ok(wire)
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct WireResponse {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub model: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub incomplete_details: Option<IncompleteDetails>,
    #[serde(default)]
    pub error: Option<WireError>,
    #[serde(default)]
    pub output: Vec<OutputItem>,
    #[serde(default)]
    pub usage: Option<WireUsage>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct IncompleteDetails {
    #[serde(default)]
    pub reason: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct WireError {
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub message: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct OutputItem {
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default)]
    pub call_id: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub arguments: Option<String>,
    #[serde(default)]
    pub content: Vec<OutputContent>,
    #[serde(default)]
    pub summary: Vec<OutputContent>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct OutputContent {
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default)]
    pub text: Option<String>,
    #[serde(default)]
    pub refusal: Option<String>,
}

#[derive(Debug, Default, Clone, Copy, Deserialize)]
pub(crate) struct WireUsage {
    #[serde(default)]
    pub input_tokens: u64,
    #[serde(default)]
    pub output_tokens: u64,
    #[serde(default)]
    pub input_tokens_details: Details,
    #[serde(default)]
    pub output_tokens_details: Details,
}

#[derive(Debug, Default, Clone, Copy, Deserialize)]
pub(crate) struct Details {
    #[serde(default)]
    pub cached_tokens: u64,
    #[serde(default)]
    pub reasoning_tokens: u64,
}

impl WireUsage {
    pub(crate) fn neutral(self) -> Usage {
        Usage {
            input_tokens: self.input_tokens,
            output_tokens: self.output_tokens,
            cached_tokens: self.input_tokens_details.cached_tokens,
            reasoning_tokens: self.output_tokens_details.reasoning_tokens,
            cache_creation_tokens: 0,
        }
    }
}

impl OutputItem {
    /// The summary text of a reasoning item.
    pub(crate) fn summary_text(&self) -> String {
        self.summary
            .iter()
            .filter_map(|part| part.text.as_deref())
            .collect()
    }
}

/// The finish reason of a finished response: incomplete for the token limit or the
/// content filter, else stopped (or stopped at calls).
pub(crate) fn finish_of(response: &WireResponse, calls: bool) -> FinishReason {
    match response
        .incomplete_details
        .as_ref()
        .and_then(|details| details.reason.as_deref())
    {
        Some("max_output_tokens") => FinishReason::Length,
        Some("content_filter") => FinishReason::ContentFilter,
        Some(other) => FinishReason::Other(other.to_owned()),
        None if calls => FinishReason::ToolCalls,
        None => FinishReason::Stop,
    }
}

/// A failed response as an error (retried as a server error).
pub(crate) fn failure(error: &WireError) -> ProviderError {
    let kind = error
        .code
        .clone()
        .unwrap_or_else(|| "server_error".to_owned());
    let status = if kind.contains("rate_limit") {
        429
    } else if kind.contains("invalid") {
        400
    } else {
        500
    };
    ProviderError::Stream {
        status: Some(status),
        kind,
        message: error
            .message
            .clone()
            .unwrap_or_else(|| "(no message)".to_owned()),
    }
}

/// Reads a whole `response` object.
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
    let wire: WireResponse = serde_json::from_slice(body)
        .map_err(|error| decode_error(format!("the body is not a response object: {error}")))?;
    if let Some(error) = wire
        .error
        .as_ref()
        .filter(|_| wire.status.as_deref() == Some("failed"))
    {
        return Err(redactor.error(failure(error)));
    }
    let mut response = ChatResponse::default();
    let mut text = String::new();
    let mut refusal = String::new();
    for item in &wire.output {
        match item.kind.as_str() {
            "message" => {
                for part in &item.content {
                    match part.kind.as_str() {
                        "output_text" => text.push_str(part.text.as_deref().unwrap_or_default()),
                        "refusal" => refusal.push_str(part.refusal.as_deref().unwrap_or_default()),
                        _ => {}
                    }
                }
            }
            "function_call" => {
                if response.tool_calls.len() >= MAX_TOOL_CALLS {
                    return Err(decode_error(format!(
                        "more than {MAX_TOOL_CALLS} function calls in one answer"
                    )));
                }
                let index = response.tool_calls.len();
                response.tool_calls.push(ToolCall {
                    id: redactor.id(item
                        .call_id
                        .clone()
                        .unwrap_or_else(|| format!("call_{index}"))),
                    name: redactor.id(item.name.clone().unwrap_or_default()),
                    arguments: redactor.shared(item.arguments.clone().unwrap_or_default().into()),
                });
            }
            "reasoning" => {
                let summary = item.summary_text();
                if !summary.is_empty() {
                    response
                        .reasoning
                        .push(redactor.part(ContentPart::Thinking {
                            thinking: summary,
                            signature: None,
                        }));
                }
            }
            _ => {}
        }
    }
    response.finish_reason = Some(finish_of(&wire, !response.tool_calls.is_empty()));
    response.text = (!text.is_empty()).then(|| redactor.text(text));
    response.refusal = (!refusal.is_empty()).then(|| redactor.text(refusal));
    response.usage = wire.usage.map(WireUsage::neutral);
    response.request_id = wire.id.map(|id| redactor.id(id));
    response.model = wire.model.map(|model| redactor.id(model));
    if keep_raw {
        response.raw =
            serde_json::from_slice::<Value>(body).map_or(Value::Null, |raw| redactor.value(raw));
    }
    Ok(response)
}
