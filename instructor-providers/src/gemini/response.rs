//! A `GenerateContentResponse` (whole, or one event of a stream) read into neutral
//! terms: candidate 0's text, function calls and thoughts, the finish reason, a blocked
//! prompt, usage, and Google's error bodies.

use crate::http::redact::{MAX_BODY_BYTES, Redactor};
use instructor_core::chat::{
    ChatResponse, ContentPart, FinishReason, MAX_TOOL_CALLS, ProviderError, ToolCall, Usage,
};
use serde::Deserialize;
use serde_json::Value;
use serde_json::value::RawValue;
use std::time::Duration;

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct WireResponse<'a> {
    #[serde(default, borrow)]
    pub candidates: Vec<Candidate<'a>>,
    #[serde(default)]
    pub prompt_feedback: Option<PromptFeedback>,
    #[serde(default)]
    pub usage_metadata: Option<WireUsage>,
    #[serde(default)]
    pub model_version: Option<String>,
    #[serde(default)]
    pub response_id: Option<String>,
    #[serde(default)]
    pub error: Option<WireError>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Candidate<'a> {
    #[serde(default)]
    pub index: Option<u64>,
    #[serde(default, borrow)]
    pub content: Option<CandidateContent<'a>>,
    #[serde(default)]
    pub finish_reason: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct CandidateContent<'a> {
    #[serde(default, borrow)]
    pub parts: Vec<WirePart<'a>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct WirePart<'a> {
    #[serde(default)]
    pub text: Option<String>,
    #[serde(default)]
    pub thought: Option<bool>,
    #[serde(default)]
    pub thought_signature: Option<String>,
    #[serde(default, borrow)]
    pub function_call: Option<WireFunctionCall<'a>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct WireFunctionCall<'a> {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default, borrow)]
    pub args: Option<&'a RawValue>,
    #[serde(default)]
    pub partial_args: Vec<PartialArg>,
    #[serde(default)]
    pub will_continue: Option<bool>,
}

/// One piece of streamed function-call arguments (Vertex AI): a value at a JSON path.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PartialArg {
    #[serde(default)]
    pub json_path: String,
    #[serde(default)]
    pub string_value: Option<String>,
    #[serde(default)]
    pub number_value: Option<serde_json::Number>,
    #[serde(default)]
    pub bool_value: Option<bool>,
    #[serde(default)]
    pub struct_value: Option<Value>,
    #[serde(default)]
    pub list_value: Option<Value>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PromptFeedback {
    #[serde(default)]
    pub block_reason: Option<String>,
}

#[derive(Debug, Default, Clone, Copy, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct WireUsage {
    #[serde(default)]
    pub prompt_token_count: Option<u64>,
    #[serde(default)]
    pub candidates_token_count: Option<u64>,
    #[serde(default)]
    pub thoughts_token_count: Option<u64>,
    #[serde(default)]
    pub cached_content_token_count: Option<u64>,
    #[serde(default)]
    pub tool_use_prompt_token_count: Option<u64>,
}

impl WireUsage {
    /// The neutral usage: prompt tokens (tool-use prompts included, the cached ones
    /// also in `cached_tokens`); output tokens counting the thoughts (which Gemini
    /// bills as output), these also in `reasoning_tokens`.
    pub(crate) fn neutral(self) -> Usage {
        let thoughts = self.thoughts_token_count.unwrap_or(0);
        Usage {
            input_tokens: self
                .prompt_token_count
                .unwrap_or(0)
                .saturating_add(self.tool_use_prompt_token_count.unwrap_or(0)),
            output_tokens: self
                .candidates_token_count
                .unwrap_or(0)
                .saturating_add(thoughts),
            cached_tokens: self.cached_content_token_count.unwrap_or(0),
            reasoning_tokens: thoughts,
            cache_creation_tokens: 0,
        }
    }
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct WireError {
    #[serde(default)]
    pub code: Option<u64>,
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
}

/// Gemini's finish reasons in neutral terms: the safety family is the content filter,
/// `MAX_TOKENS` the token limit.
pub(crate) fn finish_reason(reason: &str) -> FinishReason {
    match reason {
        "STOP" => FinishReason::Stop,
        "MAX_TOKENS" => FinishReason::Length,
        "SAFETY"
        | "RECITATION"
        | "BLOCKLIST"
        | "PROHIBITED_CONTENT"
        | "SPII"
        | "IMAGE_SAFETY"
        | "IMAGE_PROHIBITED_CONTENT"
        | "IMAGE_RECITATION" => FinishReason::ContentFilter,
        other => FinishReason::Other(other.to_owned()),
    }
}

/// A prompt Gemini refused to answer (`promptFeedback.blockReason`, no candidates).
pub(crate) fn blocked(reason: &str) -> FinishReason {
    match reason {
        "SAFETY" | "BLOCKLIST" | "PROHIBITED_CONTENT" | "IMAGE_SAFETY" | "OTHER" => {
            FinishReason::ContentFilter
        }
        other => FinishReason::Other(format!("prompt blocked: {other}")),
    }
}

/// The wait a Google error body asks for (`google.rpc.RetryInfo`'s `retryDelay`,
/// `"30s"` or `"1.5s"`), at most a day.
pub(crate) fn retry_delay(body: &str) -> Option<Duration> {
    let body: Value = serde_json::from_str(body).ok()?;
    let details = body.get("error")?.get("details")?.as_array()?;
    let delay = details.iter().find_map(|detail| {
        let kind = detail.get("@type")?.as_str()?;
        kind.ends_with("google.rpc.RetryInfo")
            .then(|| detail.get("retryDelay")?.as_str())
            .flatten()
    })?;
    let seconds: f64 = delay.trim().strip_suffix('s')?.parse().ok()?;
    if !seconds.is_finite() || seconds < 0.0 {
        return None;
    }
    Some(Duration::from_secs_f64(seconds.min(86_400.0)))
}

/// The error of a body that is an error object (a 200 carrying `{"error": ...}`).
pub(crate) fn error_of(error: &WireError, body: &[u8], redactor: &Redactor) -> ProviderError {
    let status = error
        .code
        .filter(|code| (400..600).contains(code))
        .and_then(|code| u16::try_from(code).ok());
    match status {
        Some(status) => redactor.error(ProviderError::Status {
            status,
            body: redactor.preview(body, MAX_BODY_BYTES),
            retry_after: retry_delay(&String::from_utf8_lossy(body)),
            request_id: None,
        }),
        None => redactor.error(ProviderError::Decode {
            message: "the provider answered with an error object".to_owned(),
            body: redactor.preview(body, MAX_BODY_BYTES),
        }),
    }
}

/// Reads a whole `generateContent` body.
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
    let wire: WireResponse<'_> = serde_json::from_slice(body).map_err(|error| {
        decode_error(format!(
            "the body is not a GenerateContentResponse: {error}"
        ))
    })?;
    if let Some(error) = &wire.error {
        return Err(error_of(error, body, redactor));
    }
    let raw = if keep_raw {
        serde_json::from_slice::<Value>(body).map_or(Value::Null, |raw| redactor.value(raw))
    } else {
        Value::Null
    };
    let mut response = ChatResponse {
        usage: wire.usage_metadata.map(WireUsage::neutral),
        request_id: wire.response_id.map(|id| redactor.id(id)),
        model: wire.model_version.map(|model| redactor.id(model)),
        raw,
        ..ChatResponse::default()
    };
    if let Some(reason) = wire
        .prompt_feedback
        .and_then(|feedback| feedback.block_reason)
        .filter(|_| wire.candidates.is_empty())
    {
        response.finish_reason = Some(blocked(&redactor.id(reason)));
        return Ok(response);
    }
    let Some(candidate) = wire
        .candidates
        .into_iter()
        .find(|candidate| candidate.index.unwrap_or(0) == 0)
    else {
        return Err(decode_error(
            "the answer has no candidate (and no blocked prompt)".to_owned(),
        ));
    };
    let mut text = String::new();
    let mut thoughts = String::new();
    let mut signature = None;
    for part in candidate
        .content
        .map(|content| content.parts)
        .unwrap_or_default()
    {
        if signature.is_none() {
            signature = part.thought_signature.clone();
        }
        if let Some(call) = part.function_call {
            if response.tool_calls.len() >= MAX_TOOL_CALLS {
                return Err(decode_error(format!(
                    "more than {MAX_TOOL_CALLS} function calls in one answer"
                )));
            }
            let index = response.tool_calls.len();
            response.tool_calls.push(ToolCall {
                id: redactor.id(call.id.unwrap_or_else(|| format!("call_{index}"))),
                name: redactor.id(call.name.unwrap_or_default()),
                arguments: redactor.shared(call.args.map_or("{}", RawValue::get).into()),
            });
        } else if let Some(part_text) = part.text {
            if part.thought == Some(true) {
                thoughts.push_str(&part_text);
            } else {
                text.push_str(&part_text);
            }
        }
    }
    if !thoughts.is_empty() || signature.is_some() {
        response
            .reasoning
            .push(redactor.part(ContentPart::Thinking {
                thinking: thoughts,
                signature,
            }));
    }
    response.text = (!text.is_empty()).then(|| redactor.text(text));
    response.finish_reason = candidate
        .finish_reason
        .map(|reason| finish_reason(&redactor.id(reason)));
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_info_is_read_and_bounded() {
        let body = r#"{"error": {"code": 429, "details": [
            {"@type": "type.googleapis.com/google.rpc.QuotaFailure"},
            {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "1.5s"}]}}"#;
        assert_eq!(retry_delay(body), Some(Duration::from_millis(1500)));
        let huge = body.replace("1.5s", "1e30s");
        assert_eq!(retry_delay(&huge), Some(Duration::from_secs(86_400)));
        for bad in ["-1s", "NaNs", "soon", "30"] {
            assert_eq!(retry_delay(&body.replace("1.5s", bad)), None, "{bad}");
        }
        assert_eq!(retry_delay("not json"), None);
    }
}
