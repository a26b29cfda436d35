//! What comes back from the server, made safe to keep and show: the API key removed from
//! every text (a server may echo it anywhere: an error body, a request id, the model's
//! own answer), and every text meant for errors and logs cut to a known size.
//!
//! One [`Redactor`] per client does both, so every path (whole answers, stream events,
//! errors) applies the same rule. The key is removed *before* a text is cut, and a cut
//! keeps enough slack for a key that straddles it (see [`Redactor::preview`]), so no part
//! of a key survives a cut. A key split across two stream deltas is beyond one delta's
//! reach: core joins the deltas and passes the whole through `Provider::redact`.

use crate::openai::ApiKey;
use instructor_core::chat::{
    ChatResponse, ContentPart, FinishReason, ProviderError, StreamEvent, ToolCall,
};
use serde_json::Value;
use std::borrow::Cow;
use std::sync::Arc;

/// Keys shorter than this are placeholders (`EMPTY`, `none`, `x`, as local servers are
/// given), not secrets: removing them from answers would turn every `x` of a model's
/// answer into `[redacted]`, a silently wrong value. Every hosted provider's keys are
/// far longer.
pub const MIN_REDACTED_KEY_BYTES: usize = 8;

/// What stands in for the key.
const REDACTED: &str = "[redacted]";

/// The longest id, model name or finish reason kept from the server (longer ones are
/// cut, with `...`): they go into errors, logs and spans, and no real one comes close.
pub const MAX_ID_BYTES: usize = 256;

/// How much of an unreadable or error body an error keeps: 16 KiB.
pub const MAX_BODY_BYTES: usize = 16 * 1024;

/// The longest provider message (a mid-stream error's text) kept.
pub(crate) const MAX_MESSAGE_BYTES: usize = 4 * 1024;

/// How much of a `Location` header a redirect error keeps.
pub(crate) const MAX_LOCATION_BYTES: usize = 512;

/// Removes the key from texts and bounds them.
#[derive(Clone, Default)]
pub(crate) struct Redactor {
    key: Option<String>,
}

impl Redactor {
    /// A redactor for `key` (none when the key is absent or a placeholder).
    pub(crate) fn new(key: Option<&ApiKey>) -> Self {
        Redactor {
            key: key
                .map(|key| key.expose())
                .filter(|key| key.len() >= MIN_REDACTED_KEY_BYTES)
                .map(str::to_owned),
        }
    }

    /// How many bytes a key can take: the slack to keep past a cut.
    pub(crate) fn key_len(&self) -> usize {
        self.key.as_ref().map_or(0, String::len)
    }

    /// `text` without the key.
    pub(crate) fn text(&self, text: String) -> String {
        match &self.key {
            Some(key) if text.contains(key.as_str()) => text.replace(key.as_str(), REDACTED),
            _ => text,
        }
    }

    /// `text` without the key, borrowed when it holds none.
    pub(crate) fn borrowed<'a>(&self, text: &'a str) -> Cow<'a, str> {
        match &self.key {
            Some(key) if text.contains(key.as_str()) => {
                Cow::Owned(text.replace(key.as_str(), REDACTED))
            }
            _ => Cow::Borrowed(text),
        }
    }

    /// Shared `text` without the key (the same text when it holds none).
    pub(crate) fn shared(&self, text: Arc<str>) -> Arc<str> {
        match self.borrowed(&text) {
            Cow::Borrowed(_) => text,
            Cow::Owned(redacted) => redacted.into(),
        }
    }

    /// Removes the key from `text`, in place (no copy when it holds none).
    pub(crate) fn in_place(&self, text: &mut String) {
        if let Some(key) = &self.key
            && text.contains(key.as_str())
        {
            *text = text.replace(key.as_str(), REDACTED);
        }
    }

    /// `text` without the key, cut to `limit` bytes.
    pub(crate) fn bounded(&self, text: String, limit: usize) -> String {
        let text = self.text(text);
        if text.len() <= limit {
            return text;
        }
        truncated(&text, limit)
    }

    /// An id, a model name: without the key, at most [`MAX_ID_BYTES`].
    pub(crate) fn id(&self, text: String) -> String {
        self.bounded(text, MAX_ID_BYTES)
    }

    /// The beginning of `bytes` as text, at most `limit` bytes, without the key. The key
    /// is removed before the cut, so a key straddling the cut leaves no part of itself.
    pub(crate) fn preview(&self, bytes: &[u8], limit: usize) -> String {
        let end = bytes.len().min(limit.saturating_add(self.key_len()));
        let text =
            self.text(String::from_utf8_lossy(bytes.get(..end).unwrap_or(bytes)).into_owned());
        truncated(&text, limit)
    }

    /// Every string of `value` (object keys too) without the key.
    pub(crate) fn value(&self, mut value: Value) -> Value {
        if let Some(key) = &self.key {
            redact_value(key, &mut value);
        }
        value
    }

    fn finish_reason(&self, reason: FinishReason) -> FinishReason {
        match reason {
            FinishReason::Other(other) => FinishReason::Other(self.id(other)),
            known => known,
        }
    }

    /// A whole answer: every text without the key, ids and names bounded.
    pub(crate) fn response(&self, response: ChatResponse) -> ChatResponse {
        ChatResponse {
            text: response.text.map(|text| self.text(text)),
            tool_calls: response
                .tool_calls
                .into_iter()
                .map(|call| ToolCall {
                    id: self.id(call.id),
                    name: self.id(call.name),
                    arguments: self.shared(call.arguments),
                })
                .collect(),
            usage: response.usage,
            finish_reason: response.finish_reason.map(|r| self.finish_reason(r)),
            refusal: response.refusal.map(|text| self.text(text)),
            request_id: response.request_id.map(|id| self.id(id)),
            model: response.model.map(|model| self.id(model)),
            raw: self.value(response.raw),
            reasoning: response
                .reasoning
                .into_iter()
                .map(|part| self.part(part))
                .collect(),
            provider: response.provider,
            failed_over: response.failed_over,
            rate_limits: response.rate_limits,
        }
    }

    /// A reasoning block: its text without the key (signatures and encrypted data are
    /// opaque and go back to the provider as received).
    pub(crate) fn part(&self, part: ContentPart) -> ContentPart {
        match part {
            ContentPart::Thinking {
                thinking,
                signature,
            } => ContentPart::Thinking {
                thinking: self.text(thinking),
                signature,
            },
            ContentPart::Text { text } => ContentPart::Text {
                text: self.text(text),
            },
            other => other,
        }
    }

    /// One stream event, as [`Redactor::response`].
    pub(crate) fn event(&self, event: StreamEvent) -> StreamEvent {
        match event {
            StreamEvent::TextDelta(text) => StreamEvent::TextDelta(self.text(text)),
            StreamEvent::RefusalDelta(text) => StreamEvent::RefusalDelta(self.text(text)),
            StreamEvent::ToolArgumentsDelta {
                index,
                id,
                name,
                delta,
            } => StreamEvent::ToolArgumentsDelta {
                index,
                id: id.map(|id| self.id(id)),
                name: name.map(|name| self.id(name)),
                delta: self.text(delta),
            },
            StreamEvent::ResponseId(id) => StreamEvent::ResponseId(self.id(id)),
            StreamEvent::Finish(reason) => StreamEvent::Finish(self.finish_reason(reason)),
            StreamEvent::Reasoning(part) => StreamEvent::Reasoning(self.part(part)),
            other => other,
        }
    }

    /// `error` with the key removed from every text it carries (and ids bounded).
    pub(crate) fn error(&self, error: ProviderError) -> ProviderError {
        match error {
            ProviderError::Transport { message } => ProviderError::Transport {
                message: self.text(message),
            },
            ProviderError::Status {
                status,
                body,
                retry_after,
                request_id,
            } => ProviderError::Status {
                status,
                body: self.bounded(body, MAX_BODY_BYTES + MAX_MESSAGE_BYTES),
                retry_after,
                request_id: request_id.map(|id| self.id(id)),
            },
            ProviderError::Decode { message, body } => ProviderError::Decode {
                message: self.bounded(message, MAX_BODY_BYTES),
                body: self.bounded(body, MAX_BODY_BYTES),
            },
            ProviderError::Unsupported(message) => ProviderError::Unsupported(self.text(message)),
            ProviderError::Redirect { status, location } => ProviderError::Redirect {
                status,
                location: location.map(|l| self.bounded(l, MAX_LOCATION_BYTES)),
            },
            ProviderError::Stream {
                kind,
                message,
                status,
            } => ProviderError::Stream {
                kind: self.id(kind),
                message: self.bounded(message, MAX_MESSAGE_BYTES),
                status,
            },
            other => other,
        }
    }
}

/// Removes `key` from every string of `value`, in place: only what holds the key is
/// rebuilt (an object whose keys hold it is rebuilt with its order kept).
fn redact_value(key: &str, value: &mut Value) {
    match value {
        Value::String(text) if text.contains(key) => *text = text.replace(key, REDACTED),
        Value::Array(items) => items.iter_mut().for_each(|item| redact_value(key, item)),
        Value::Object(map) => {
            if map.keys().any(|name| name.contains(key)) {
                *map = std::mem::take(map)
                    .into_iter()
                    .map(|(name, item)| (name.replace(key, REDACTED), item))
                    .collect();
            }
            map.values_mut().for_each(|item| redact_value(key, item));
        }
        _ => {}
    }
}

/// `text` cut to at most `limit` bytes (on a character boundary), with `...` when cut.
pub(crate) fn truncated(text: &str, limit: usize) -> String {
    if text.len() <= limit {
        return text.to_owned();
    }
    let mut end = limit;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", text.get(..end).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholder_keys_are_not_redacted_from_answers() {
        let redactor = Redactor::new(Some(&ApiKey::new("x")));
        assert_eq!(
            redactor.text("a box of xylophones".into()),
            "a box of xylophones"
        );
    }

    #[test]
    fn a_key_straddling_the_cut_of_a_preview_leaves_no_part_of_itself() {
        let key = ApiKey::new("sk-0123456789");
        let redactor = Redactor::new(Some(&key));
        let preview = redactor.preview(b"abcsk-0123456789def", 6);
        assert!(!preview.contains("sk-"), "{preview}");
        assert_eq!(preview, "abc[re...");
    }

    #[test]
    fn cuts_fall_on_character_boundaries() {
        assert_eq!(truncated("h\u{e9}llo", 2), "h...");
        assert_eq!(truncated("hello", 5), "hello");
    }
}
