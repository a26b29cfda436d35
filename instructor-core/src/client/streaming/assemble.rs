//! The response of a streamed attempt, assembled from its events, so that the end of
//! a streamed attempt is judged exactly like a whole response.

use crate::chat::{
    ChatResponse, FinishReason, MAX_TOOL_CALLS, ProviderError, StreamEvent, ToolCall, Usage,
};

/// A tool call as it streams in.
#[derive(Debug, Default, Clone)]
pub(crate) struct PendingCall {
    pub id: Option<String>,
    pub name: Option<String>,
    pub arguments: String,
}

/// The response built from stream events.
#[derive(Debug, Default)]
pub(crate) struct Assembled {
    text: String,
    refusal: String,
    pub calls: Vec<PendingCall>,
    usage: Option<Usage>,
    finish: Option<FinishReason>,
    id: Option<String>,
    reasoning: Vec<crate::chat::ContentPart>,
    provider: Option<(String, Vec<crate::chat::FailedOver>)>,
    rate_limits: Option<Box<crate::chat::RateLimits>>,
}

impl Assembled {
    /// Adds an event. A tool-call index past [`MAX_TOOL_CALLS`] is a typed error: the
    /// index comes from the server and must not size an allocation.
    pub fn apply(&mut self, event: &StreamEvent) -> Result<(), ProviderError> {
        match event {
            StreamEvent::TextDelta(text) => push_growing(&mut self.text, text),
            StreamEvent::RefusalDelta(text) => self.refusal.push_str(text),
            StreamEvent::ToolArgumentsDelta {
                index,
                id,
                name,
                delta,
            } => {
                if *index >= MAX_TOOL_CALLS {
                    return Err(ProviderError::Decode {
                        message: format!(
                            "tool call index {index} in the stream; at most {MAX_TOOL_CALLS} calls are read"
                        ),
                        body: String::new(),
                    });
                }
                if self.calls.len() <= *index {
                    self.calls.resize_with(*index + 1, PendingCall::default);
                }
                let call = &mut self.calls[*index];
                if id.is_some() {
                    call.id.clone_from(id);
                }
                if name.is_some() {
                    call.name.clone_from(name);
                }
                push_growing(&mut call.arguments, delta);
            }
            StreamEvent::Usage(usage) => self.usage = Some(*usage),
            StreamEvent::Finish(reason) => self.finish = Some(reason.clone()),
            StreamEvent::ResponseId(id) => self.id = Some(id.clone()),
            StreamEvent::Reasoning(part) => self.reasoning.push(part.clone()),
            StreamEvent::Provider { name, failed_over } => {
                self.provider = Some((name.clone(), failed_over.clone()));
            }
            StreamEvent::RateLimits(limits) => self.rate_limits = Some(limits.clone()),
        }
        Ok(())
    }

    /// Whether part of the answer arrived (not only events about it).
    pub fn has_content(&self) -> bool {
        !self.text.is_empty()
            || !self.refusal.is_empty()
            || !self.calls.is_empty()
            || !self.reasoning.is_empty()
    }

    /// The response these events make. The texts, grown delta by delta, give back
    /// their spare capacity (up to half of what they hold): they live as long as the
    /// response, next to the value read from them. (A call's arguments become shared
    /// text, of exactly their length.)
    pub fn into_response(mut self, model: &str) -> ChatResponse {
        self.text.shrink_to_fit();
        self.refusal.shrink_to_fit();
        let tool_calls = self
            .calls
            .into_iter()
            .enumerate()
            .map(|(index, call)| ToolCall {
                id: call.id.unwrap_or_else(|| format!("call_{index}")),
                name: call.name.unwrap_or_default(),
                arguments: call.arguments.into(),
            })
            .collect();
        ChatResponse {
            text: (!self.text.is_empty()).then_some(self.text),
            tool_calls,
            usage: self.usage,
            finish_reason: self.finish,
            refusal: (!self.refusal.is_empty()).then_some(self.refusal),
            request_id: self.id,
            model: Some(model.to_owned()),
            raw: serde_json::Value::Null,
            reasoning: self.reasoning,
            provider: self.provider.as_ref().map(|(name, _)| name.clone()),
            failed_over: self.provider.map(|(_, failed)| failed).unwrap_or_default(),
            rate_limits: self.rate_limits,
        }
    }
}

/// Appends `delta` to `text`, growing it by half its size when it is full rather than
/// doubling it: the answer text is held next to the partial for the whole stream, and
/// doubling leaves up to half of it unused (a quarter on average) at the peak. The
/// growth stays geometric, so appending stays amortized O(1).
fn push_growing(text: &mut String, delta: &str) {
    let needed = text.len().saturating_add(delta.len());
    if needed > text.capacity() {
        let grown = text.capacity().saturating_add(text.capacity() / 2);
        text.reserve_exact(needed.max(grown).max(64) - text.len());
    }
    text.push_str(delta);
}
