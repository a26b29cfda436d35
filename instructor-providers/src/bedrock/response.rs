//! A whole Converse answer read into the neutral response, and the stop reasons and
//! exception types of Bedrock classified.

use crate::http::redact::{MAX_BODY_BYTES, Redactor};
use instructor_core::chat::{
    ChatResponse, ContentPart, FinishReason, MAX_TOOL_CALLS, ProviderError, ToolCall, Usage,
};
use serde::Deserialize;
use serde_json::Value;
use serde_json::value::RawValue;

/// What the refusal of a model stopped by a guardrail or content filter says.
pub(crate) fn refusal_text(reason: &str) -> String {
    format!("the model's answer was blocked (stopReason: {reason})")
}

/// Bedrock's stop reasons, in neutral terms.
pub(crate) fn finish_reason(reason: &str) -> FinishReason {
    match reason {
        "end_turn" | "stop_sequence" => FinishReason::Stop,
        "tool_use" => FinishReason::ToolCalls,
        "max_tokens" | "model_context_window_exceeded" => FinishReason::Length,
        "guardrail_intervened" | "content_filtered" => FinishReason::ContentFilter,
        other => FinishReason::Other(other.to_owned()),
    }
}

/// Whether a stop reason is a refusal (a guardrail or the content filter).
pub(crate) fn is_refusal(reason: &str) -> bool {
    matches!(reason, "guardrail_intervened" | "content_filtered")
}

/// The HTTP status an exception type has (from the service description).
pub(crate) fn status_of_exception(kind: &str) -> Option<u16> {
    let kind = kind.to_ascii_lowercase();
    Some(match kind.trim_end_matches("exception") {
        "throttling" => 429,
        "modelstreamerror" => 424,
        "validation" => 400,
        "serviceunavailable" => 503,
        "internalserver" => 500,
        "modeltimeout" => 408,
        "modelnotready" => 429,
        "accessdenied" => 403,
        "resourcenotfound" => 404,
        _ => return None,
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireResponse<'a> {
    #[serde(default, borrow)]
    output: Option<WireOutput<'a>>,
    #[serde(default)]
    stop_reason: Option<String>,
    #[serde(default)]
    usage: Option<WireUsage>,
    #[serde(default)]
    message: Option<String>,
}

#[derive(Debug, Deserialize)]
struct WireOutput<'a> {
    #[serde(default, borrow)]
    message: Option<WireMessage<'a>>,
}

#[derive(Debug, Deserialize)]
struct WireMessage<'a> {
    #[serde(default, borrow)]
    content: Vec<WireBlock<'a>>,
}

/// A content block: a union, read as a struct of optional members.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireBlock<'a> {
    #[serde(default)]
    text: Option<String>,
    #[serde(default, borrow)]
    tool_use: Option<WireToolUse<'a>>,
    #[serde(default)]
    reasoning_content: Option<WireReasoning>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireToolUse<'a> {
    #[serde(default)]
    tool_use_id: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default, borrow)]
    input: Option<&'a RawValue>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireReasoning {
    #[serde(default)]
    reasoning_text: Option<WireReasoningText>,
    #[serde(default)]
    redacted_content: Option<String>,
}

#[derive(Debug, Deserialize)]
struct WireReasoningText {
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    signature: Option<String>,
}

/// Bedrock's token usage; every count may be missing.
#[derive(Debug, Default, Clone, Copy, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct WireUsage {
    #[serde(default)]
    pub input_tokens: Option<u64>,
    #[serde(default)]
    pub output_tokens: Option<u64>,
    #[serde(default)]
    pub cache_read_input_tokens: Option<u64>,
    #[serde(default)]
    pub cache_write_input_tokens: Option<u64>,
}

impl WireUsage {
    /// The neutral usage. Bedrock's `inputTokens` leaves out the cached prompt, which is
    /// added back so that `input_tokens` is the whole prompt, as for the other providers.
    pub(crate) fn neutral(self) -> Usage {
        let cached = self.cache_read_input_tokens.unwrap_or(0);
        let written = self.cache_write_input_tokens.unwrap_or(0);
        Usage {
            input_tokens: self
                .input_tokens
                .unwrap_or(0)
                .saturating_add(cached)
                .saturating_add(written),
            output_tokens: self.output_tokens.unwrap_or(0),
            cached_tokens: cached,
            cache_creation_tokens: written,
            ..Usage::default()
        }
    }
}

/// Reads a whole Converse answer.
pub(crate) fn read_converse(
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
    let response: WireResponse<'_> = serde_json::from_slice(body)
        .map_err(|error| decode_error(format!("the body is not a Converse answer: {error}")))?;
    let Some(message) = response.output.and_then(|output| output.message) else {
        let what = if response.message.is_some() {
            "the provider answered with an error object"
        } else {
            "the body is not a Converse answer (no `output.message`)"
        };
        return Err(decode_error(what.to_owned()));
    };
    let raw = if keep_raw {
        serde_json::from_slice::<Value>(body).map_or(Value::Null, |raw| redactor.value(raw))
    } else {
        Value::Null
    };
    let mut text = String::new();
    let mut tool_calls = Vec::new();
    let mut reasoning = Vec::new();
    for block in message.content {
        if let Some(part) = block.text {
            text.push_str(&part);
        }
        if let Some(tool_use) = block.tool_use {
            if tool_calls.len() >= MAX_TOOL_CALLS {
                return Err(decode_error(format!(
                    "more than {MAX_TOOL_CALLS} tool calls in one answer"
                )));
            }
            let arguments = tool_use.input.map_or("{}", RawValue::get);
            tool_calls.push(ToolCall {
                id: redactor.id(tool_use.tool_use_id.unwrap_or_default()),
                name: redactor.id(tool_use.name.unwrap_or_default()),
                arguments: redactor.shared(arguments.into()),
            });
        }
        if let Some(content) = block.reasoning_content {
            if let Some(reasoning_text) = content.reasoning_text {
                reasoning.push(redactor.part(ContentPart::Thinking {
                    thinking: reasoning_text.text.unwrap_or_default(),
                    signature: reasoning_text.signature,
                }));
            }
            if let Some(data) = content.redacted_content {
                reasoning.push(ContentPart::RedactedThinking { data });
            }
        }
    }
    let stop_reason = response.stop_reason.map(|reason| redactor.id(reason));
    let refusal = stop_reason
        .as_deref()
        .filter(|reason| is_refusal(reason))
        .map(refusal_text);
    Ok(ChatResponse {
        text: (!text.is_empty()).then(|| redactor.text(text)),
        tool_calls,
        usage: response.usage.map(WireUsage::neutral),
        finish_reason: stop_reason.as_deref().map(finish_reason),
        refusal,
        raw,
        reasoning,
        ..ChatResponse::default()
    })
}
