//! A whole Messages answer read into the neutral response, and Anthropic's error types
//! classified like HTTP statuses.

use crate::http::redact::{MAX_BODY_BYTES, Redactor};
use instructor_core::chat::{
    ChatResponse, ContentPart, FinishReason, ProviderError, ToolCall, Usage,
};
use serde::Deserialize;
use serde_json::Value;
use serde_json::value::RawValue;

/// What the refusal of a model that stopped with `stop_reason: refusal` says (its text,
/// if any, stays the answer's text).
pub(crate) const REFUSAL_TEXT: &str = "the model declined to answer (stop_reason: refusal)";

#[derive(Debug, Deserialize)]
struct WireMessage<'a> {
    #[serde(rename = "type", default)]
    kind: Option<String>,
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    model: Option<String>,
    #[serde(default, borrow)]
    content: Vec<WireBlock<'a>>,
    #[serde(default)]
    stop_reason: Option<String>,
    #[serde(default)]
    usage: Option<WireUsage>,
    #[serde(default)]
    error: Option<WireError>,
    #[serde(default)]
    request_id: Option<String>,
}

/// A content block, read as a struct (serde cannot read a `RawValue` inside an
/// internally tagged enum).
#[derive(Debug, Deserialize)]
struct WireBlock<'a> {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default, borrow)]
    input: Option<&'a RawValue>,
    #[serde(default)]
    thinking: Option<String>,
    #[serde(default)]
    signature: Option<String>,
    #[serde(default)]
    data: Option<String>,
}

/// Anthropic's usage; every count may be missing or `null`.
#[derive(Debug, Default, Clone, Copy, Deserialize)]
pub(crate) struct WireUsage {
    #[serde(default)]
    pub input_tokens: Option<u64>,
    #[serde(default)]
    pub output_tokens: Option<u64>,
    #[serde(default)]
    pub cache_creation_input_tokens: Option<u64>,
    #[serde(default)]
    pub cache_read_input_tokens: Option<u64>,
}

impl WireUsage {
    /// This report laid over `earlier` (a stream's `message_delta` over its
    /// `message_start`): counts it has win, the others stay.
    pub(crate) fn over(self, earlier: WireUsage) -> WireUsage {
        WireUsage {
            input_tokens: self.input_tokens.or(earlier.input_tokens),
            output_tokens: self.output_tokens.or(earlier.output_tokens),
            cache_creation_input_tokens: self
                .cache_creation_input_tokens
                .or(earlier.cache_creation_input_tokens),
            cache_read_input_tokens: self
                .cache_read_input_tokens
                .or(earlier.cache_read_input_tokens),
        }
    }

    /// The neutral usage. Anthropic counts cache reads and writes apart from
    /// `input_tokens`; the neutral `input_tokens` counts every prompt token (as
    /// OpenAI's does), with the cached ones also in `cached_tokens` and the written ones
    /// in `cache_creation_tokens`.
    pub(crate) fn neutral(self) -> Usage {
        let read = self.cache_read_input_tokens.unwrap_or(0);
        let written = self.cache_creation_input_tokens.unwrap_or(0);
        Usage {
            input_tokens: self
                .input_tokens
                .unwrap_or(0)
                .saturating_add(read)
                .saturating_add(written),
            output_tokens: self.output_tokens.unwrap_or(0),
            cached_tokens: read,
            reasoning_tokens: 0,
            cache_creation_tokens: written,
        }
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct WireError {
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub message: Option<String>,
}

/// The HTTP status Anthropic gives each error type (so that a mid-stream error or an
/// error in a 200 body is retried or not as its status would be).
pub(crate) fn status_of_kind(kind: &str) -> Option<u16> {
    Some(match kind {
        "invalid_request_error" => 400,
        "authentication_error" => 401,
        "billing_error" => 402,
        "permission_error" => 403,
        "not_found_error" => 404,
        "request_too_large" => 413,
        "rate_limit_error" => 429,
        "api_error" => 500,
        "timeout_error" => 504,
        "overloaded_error" => 529,
        _ => return None,
    })
}

/// Reads a whole Messages body; the redactor is applied to everything kept.
pub(crate) fn read_message(
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
    let message: WireMessage<'_> = serde_json::from_slice(body)
        .map_err(|error| decode_error(format!("the body is not a Messages answer: {error}")))?;
    if message.kind.as_deref() == Some("error") || message.error.is_some() {
        let kind = message
            .error
            .as_ref()
            .and_then(|error| error.kind.as_deref())
            .unwrap_or("error");
        return Err(match status_of_kind(kind) {
            Some(status) => redactor.error(ProviderError::Status {
                status,
                body: redactor.preview(body, MAX_BODY_BYTES),
                retry_after: None,
                request_id: message.request_id,
            }),
            None => decode_error("the provider answered with an error object".to_owned()),
        });
    }
    if message
        .kind
        .as_deref()
        .is_some_and(|kind| kind != "message")
        || message.id.is_none()
    {
        return Err(decode_error(
            "the body is not a Messages answer (no `type: message` with an id)".to_owned(),
        ));
    }
    let raw = if keep_raw {
        serde_json::from_slice::<Value>(body).map_or(Value::Null, |raw| redactor.value(raw))
    } else {
        Value::Null
    };
    let mut text = String::new();
    let mut tool_calls = Vec::new();
    let mut reasoning = Vec::new();
    for block in message.content {
        match block.kind.as_str() {
            "text" => text.push_str(block.text.as_deref().unwrap_or_default()),
            "tool_use" => {
                if tool_calls.len() >= instructor_core::chat::MAX_TOOL_CALLS {
                    return Err(decode_error(format!(
                        "more than {} tool calls in one answer",
                        instructor_core::chat::MAX_TOOL_CALLS
                    )));
                }
                let arguments = block.input.map_or("{}", RawValue::get);
                tool_calls.push(ToolCall {
                    id: redactor.id(block.id.unwrap_or_default()),
                    name: redactor.id(block.name.unwrap_or_default()),
                    arguments: redactor.shared(arguments.into()),
                });
            }
            "thinking" => reasoning.push(redactor.part(ContentPart::Thinking {
                thinking: block.thinking.unwrap_or_default(),
                signature: block.signature,
            })),
            "redacted_thinking" => reasoning.push(ContentPart::RedactedThinking {
                data: block.data.unwrap_or_default(),
            }),
            // Server tool results, citations and blocks of later API versions are not
            // part of the answer.
            _ => {}
        }
    }
    // The same words as a stream gives (whatever text came before is in `text`).
    let refusal =
        (message.stop_reason.as_deref() == Some("refusal")).then(|| REFUSAL_TEXT.to_owned());
    Ok(ChatResponse {
        text: (!text.is_empty()).then(|| redactor.text(text)),
        tool_calls,
        usage: message.usage.map(WireUsage::neutral),
        finish_reason: message
            .stop_reason
            .map(|reason| FinishReason::from_wire(&redactor.id(reason))),
        refusal,
        request_id: message.id.map(|id| redactor.id(id)),
        model: message.model.map(|model| redactor.id(model)),
        raw,
        reasoning,
        ..ChatResponse::default()
    })
}
