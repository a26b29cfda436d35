//! A streamed Cohere v2 answer read into neutral events: `message-start` (id),
//! `content-delta` (text; thinking kept aside), `tool-plan-delta` (kept aside),
//! `tool-call-start` / `tool-call-delta` (the call's id, name and argument fragments),
//! `message-end` (finish reason, usage, or an error); other events skipped.

use super::wire::{WireUsage, finish_reason};
use crate::http::events::{EventMapper, Flow};
use crate::http::redact::{MAX_BODY_BYTES, Redactor, truncated};
use crate::sse::SseEventRef;
use instructor_core::chat::{ContentPart, MAX_TOOL_CALLS, ProviderError, StreamEvent};
use serde::Deserialize;
use std::collections::VecDeque;

#[derive(Debug, Default)]
pub(crate) struct ChatMapper {
    thinking: String,
    plan: String,
    finished: bool,
}

#[derive(Debug, Deserialize)]
struct Event {
    #[serde(rename = "type", default)]
    kind: String,
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    index: Option<u64>,
    #[serde(default)]
    delta: Option<Delta>,
}

#[derive(Debug, Default, Deserialize)]
struct Delta {
    #[serde(default)]
    message: Option<DeltaMessage>,
    #[serde(default)]
    finish_reason: Option<String>,
    #[serde(default)]
    usage: Option<WireUsage>,
    #[serde(default)]
    error: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct DeltaMessage {
    #[serde(default)]
    content: Option<DeltaContent>,
    #[serde(default)]
    tool_plan: Option<String>,
    #[serde(default)]
    tool_calls: Option<DeltaCall>,
}

#[derive(Debug, Default, Deserialize)]
struct DeltaContent {
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    thinking: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct DeltaCall {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    function: Option<DeltaFunction>,
}

#[derive(Debug, Default, Deserialize)]
struct DeltaFunction {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    arguments: Option<String>,
}

impl EventMapper for ChatMapper {
    fn on_event(
        &mut self,
        event: &SseEventRef<'_>,
        out: &mut VecDeque<Result<StreamEvent, ProviderError>>,
        redactor: &Redactor,
    ) -> Result<Flow, ProviderError> {
        let data = event.data.trim();
        if data.is_empty() || data == "[DONE]" {
            return Ok(Flow::Continue);
        }
        let parsed: Event = serde_json::from_str(data).map_err(|error| ProviderError::Decode {
            message: format!("unreadable stream event: {error}"),
            body: truncated(data, MAX_BODY_BYTES),
        })?;
        let mut push = |event: StreamEvent| out.push_back(Ok(redactor.event(event)));
        let delta = parsed.delta.unwrap_or_default();
        let message = delta.message.unwrap_or_default();
        match parsed.kind.as_str() {
            "message-start" => {
                if let Some(id) = parsed.id.filter(|id| !id.is_empty()) {
                    push(StreamEvent::ResponseId(id));
                }
            }
            "content-delta" | "content-start" => {
                if let Some(content) = message.content {
                    if let Some(text) = content.text.filter(|text| !text.is_empty()) {
                        push(StreamEvent::TextDelta(text));
                    }
                    if let Some(thinking) = content.thinking {
                        self.thinking.push_str(&thinking);
                    }
                }
            }
            "tool-plan-delta" => {
                if let Some(plan) = message.tool_plan {
                    self.plan.push_str(&plan);
                }
            }
            "tool-call-start" | "tool-call-delta" => {
                let wire_index = parsed.index.unwrap_or(0);
                let Some(index) = usize::try_from(wire_index)
                    .ok()
                    .filter(|index| *index < MAX_TOOL_CALLS)
                else {
                    return Err(ProviderError::Decode {
                        message: format!(
                            "tool call index {wire_index} is out of range: one answer holds at most {MAX_TOOL_CALLS} tool calls"
                        ),
                        body: truncated(data, MAX_BODY_BYTES),
                    });
                };
                let call = message.tool_calls.unwrap_or_default();
                let function = call.function.unwrap_or_default();
                push(StreamEvent::ToolArgumentsDelta {
                    index,
                    id: call.id.filter(|id| !id.is_empty()),
                    name: function.name.filter(|name| !name.is_empty()),
                    delta: function.arguments.unwrap_or_default(),
                });
            }
            "message-end" => {
                if let Some(error) = delta.error.filter(|error| !error.is_empty()) {
                    return Err(ProviderError::Stream {
                        kind: "error".to_owned(),
                        message: truncated(&error, 4096),
                        status: None,
                    });
                }
                let reasoning =
                    std::mem::take(&mut self.thinking) + &std::mem::take(&mut self.plan);
                if !reasoning.is_empty() {
                    push(StreamEvent::Reasoning(ContentPart::Thinking {
                        thinking: reasoning,
                        signature: None,
                    }));
                }
                if let Some(usage) = delta.usage {
                    push(StreamEvent::Usage(usage.neutral()));
                }
                if let Some(reason) = delta.finish_reason {
                    push(StreamEvent::Finish(finish_reason(&reason)));
                }
                self.finished = true;
                return Ok(Flow::Done);
            }
            _ => {}
        }
        Ok(Flow::Continue)
    }

    fn on_end(&self) -> Option<ProviderError> {
        (!self.finished).then(|| ProviderError::Transport {
            message: "stream ended before the answer finished (no message-end)".to_owned(),
        })
    }
}
