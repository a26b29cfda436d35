//! A streamed Responses answer read into neutral events: `response.created` (id),
//! `response.output_item.added` (a function call's id and name),
//! `response.output_text.delta`, `response.refusal.delta`,
//! `response.function_call_arguments.delta`, `response.output_item.done` (a reasoning
//! summary), and `response.completed` / `response.incomplete` (usage, finish) or
//! `response.failed` / `error` (typed errors); other events skipped.

use super::wire::{OutputItem, WireError, WireResponse, failure, finish_of};
use crate::http::events::{EventMapper, Flow};
use crate::http::redact::{MAX_BODY_BYTES, Redactor, truncated};
use crate::sse::SseEventRef;
use instructor_core::chat::{ContentPart, MAX_TOOL_CALLS, ProviderError, StreamEvent};
use serde::Deserialize;
use std::collections::VecDeque;

/// The most output items one answer may hold (the index comes from the server).
const MAX_ITEMS: usize = 1024;

#[derive(Debug, Default)]
pub(crate) struct ResponsesMapper {
    /// The tool-call index of each output item that is a call.
    calls: Vec<Option<usize>>,
    tool_calls: usize,
    finished: bool,
}

#[derive(Debug, Deserialize)]
struct Event {
    #[serde(rename = "type", default)]
    kind: String,
    #[serde(default)]
    output_index: Option<u64>,
    #[serde(default)]
    delta: Option<String>,
    #[serde(default)]
    item: Option<OutputItem>,
    #[serde(default)]
    response: Option<WireResponse>,
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    message: Option<String>,
}

impl ResponsesMapper {
    fn slot(
        &mut self,
        index: Option<u64>,
        data: &str,
    ) -> Result<&mut Option<usize>, ProviderError> {
        let index = index
            .and_then(|index| usize::try_from(index).ok())
            .filter(|index| *index < MAX_ITEMS)
            .ok_or_else(|| ProviderError::Decode {
                message: format!(
                    "output index {index:?} is out of range (at most {MAX_ITEMS} items)"
                ),
                body: truncated(data, MAX_BODY_BYTES),
            })?;
        if self.calls.len() <= index {
            self.calls.resize(index + 1, None);
        }
        Ok(&mut self.calls[index])
    }
}

impl EventMapper for ResponsesMapper {
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
        match parsed.kind.as_str() {
            "response.created" => {
                if let Some(id) = parsed
                    .response
                    .and_then(|r| r.id)
                    .filter(|id| !id.is_empty())
                {
                    push(StreamEvent::ResponseId(id));
                }
            }
            "response.output_item.added" => {
                let item = parsed.item.unwrap_or_default();
                if item.kind == "function_call" {
                    if self.tool_calls >= MAX_TOOL_CALLS {
                        return Err(ProviderError::Decode {
                            message: format!(
                                "more than {MAX_TOOL_CALLS} function calls in one answer"
                            ),
                            body: truncated(data, MAX_BODY_BYTES),
                        });
                    }
                    let index = self.tool_calls;
                    *self.slot(parsed.output_index, data)? = Some(index);
                    self.tool_calls += 1;
                    push(StreamEvent::ToolArgumentsDelta {
                        index,
                        id: item.call_id.filter(|id| !id.is_empty()),
                        name: item.name.filter(|name| !name.is_empty()),
                        delta: item.arguments.unwrap_or_default(),
                    });
                }
            }
            "response.output_text.delta" => {
                if let Some(delta) = parsed.delta.filter(|d| !d.is_empty()) {
                    push(StreamEvent::TextDelta(delta));
                }
            }
            "response.refusal.delta" => {
                if let Some(delta) = parsed.delta.filter(|d| !d.is_empty()) {
                    push(StreamEvent::RefusalDelta(delta));
                }
            }
            "response.function_call_arguments.delta" => {
                let Some(index) = *self.slot(parsed.output_index, data)? else {
                    return Err(ProviderError::Decode {
                        message: "function-call arguments for an item that is not a call"
                            .to_owned(),
                        body: truncated(data, MAX_BODY_BYTES),
                    });
                };
                if let Some(delta) = parsed.delta.filter(|d| !d.is_empty()) {
                    push(StreamEvent::ToolArgumentsDelta {
                        index,
                        id: None,
                        name: None,
                        delta,
                    });
                }
            }
            "response.output_item.done" => {
                if let Some(item) = parsed.item.filter(|item| item.kind == "reasoning") {
                    let summary = item.summary_text();
                    if !summary.is_empty() {
                        push(StreamEvent::Reasoning(ContentPart::Thinking {
                            thinking: summary,
                            signature: None,
                        }));
                    }
                }
            }
            "response.completed" | "response.incomplete" => {
                let response = parsed.response.unwrap_or_default();
                if let Some(usage) = response.usage {
                    push(StreamEvent::Usage(usage.neutral()));
                }
                push(StreamEvent::Finish(finish_of(
                    &response,
                    self.tool_calls > 0,
                )));
                self.finished = true;
                return Ok(Flow::Done);
            }
            "response.failed" => {
                let error = parsed
                    .response
                    .and_then(|response| response.error)
                    .unwrap_or_default();
                return Err(failure(&error));
            }
            "error" => {
                return Err(failure(&WireError {
                    code: parsed.code,
                    message: parsed.message,
                }));
            }
            _ => {}
        }
        Ok(Flow::Continue)
    }

    fn on_end(&self) -> Option<ProviderError> {
        (!self.finished).then(|| ProviderError::Transport {
            message: "stream ended before the answer finished (no response.completed)".to_owned(),
        })
    }
}
