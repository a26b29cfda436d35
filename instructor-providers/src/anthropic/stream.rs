//! A streamed Messages answer read into neutral events: `message_start` (id, model,
//! prompt usage), `content_block_start` / `content_block_delta` (`text_delta`,
//! `input_json_delta`, `thinking_delta`, `signature_delta`) / `content_block_stop`,
//! `message_delta` (stop reason, usage), `message_stop`; `ping` and unknown events are
//! skipped; `error` is a typed error.

use super::response::{REFUSAL_TEXT, WireError, WireUsage, status_of_kind};
use crate::http::events::{EventMapper, Flow};
use crate::http::redact::{MAX_BODY_BYTES, Redactor, truncated};
use crate::sse::SseEventRef;
use instructor_core::chat::{
    ContentPart, FinishReason, MAX_TOOL_CALLS, ProviderError, StreamEvent,
};
use serde::Deserialize;
use std::borrow::Cow;
use std::collections::VecDeque;

/// The most content blocks one answer may hold: the block index comes from the server
/// and sizes what is kept per block.
const MAX_BLOCKS: usize = 1024;

/// What a content block of the stream is.
#[derive(Debug, Default)]
enum Block {
    /// Not started (or of a kind that is skipped).
    #[default]
    Skipped,
    Text,
    /// Tool call `index` of the answer; whether any argument bytes came.
    ToolUse {
        index: usize,
        any_input: bool,
    },
    Thinking {
        text: String,
        signature: Option<String>,
    },
    RedactedThinking {
        data: String,
    },
}

/// The state of one streamed Messages answer.
#[derive(Debug, Default)]
pub(crate) struct MessagesMapper {
    blocks: Vec<Block>,
    tool_calls: usize,
    usage: WireUsage,
    finished: bool,
}

#[derive(Debug, Deserialize)]
struct Event<'a> {
    #[serde(rename = "type", borrow)]
    kind: Cow<'a, str>,
    #[serde(default)]
    index: Option<u64>,
    #[serde(default, borrow)]
    message: Option<StartMessage<'a>>,
    #[serde(default, borrow)]
    content_block: Option<StartBlock<'a>>,
    #[serde(default, borrow)]
    delta: Option<Delta<'a>>,
    #[serde(default)]
    usage: Option<WireUsage>,
    #[serde(default)]
    error: Option<WireError>,
}

#[derive(Debug, Deserialize)]
struct StartMessage<'a> {
    #[serde(default, borrow)]
    id: Option<Cow<'a, str>>,
    #[serde(default)]
    usage: Option<WireUsage>,
}

#[derive(Debug, Deserialize)]
struct StartBlock<'a> {
    #[serde(rename = "type", borrow)]
    kind: Cow<'a, str>,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    thinking: Option<String>,
    #[serde(default)]
    signature: Option<String>,
    #[serde(default)]
    data: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Delta<'a> {
    #[serde(rename = "type", default, borrow)]
    kind: Option<Cow<'a, str>>,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    partial_json: Option<String>,
    #[serde(default)]
    thinking: Option<String>,
    #[serde(default)]
    signature: Option<String>,
    #[serde(default)]
    stop_reason: Option<String>,
}

impl MessagesMapper {
    fn block(&mut self, index: Option<u64>, data: &str) -> Result<&mut Block, ProviderError> {
        let index = index
            .and_then(|index| usize::try_from(index).ok())
            .filter(|index| *index < MAX_BLOCKS)
            .ok_or_else(|| ProviderError::Decode {
                message: format!(
                    "content block index {index:?} is out of range: one answer holds at most {MAX_BLOCKS} blocks"
                ),
                body: truncated(data, MAX_BODY_BYTES),
            })?;
        if self.blocks.len() <= index {
            self.blocks.resize_with(index + 1, Block::default);
        }
        Ok(&mut self.blocks[index])
    }
}

impl EventMapper for MessagesMapper {
    fn on_event(
        &mut self,
        event: &SseEventRef<'_>,
        out: &mut VecDeque<Result<StreamEvent, ProviderError>>,
        redactor: &Redactor,
    ) -> Result<Flow, ProviderError> {
        let data = event.data.trim();
        if data.is_empty() {
            return Ok(Flow::Continue);
        }
        let parsed: Event<'_> =
            serde_json::from_str(data).map_err(|error| ProviderError::Decode {
                message: format!("unreadable stream event: {error}"),
                body: truncated(data, MAX_BODY_BYTES),
            })?;
        let mut push = |event: StreamEvent| out.push_back(Ok(redactor.event(event)));
        match parsed.kind.as_ref() {
            "message_start" => {
                if let Some(message) = parsed.message {
                    if let Some(id) = message.id.filter(|id| !id.is_empty()) {
                        push(StreamEvent::ResponseId(id.into_owned()));
                    }
                    if let Some(usage) = message.usage {
                        self.usage = usage.over(self.usage);
                        push(StreamEvent::Usage(self.usage.neutral()));
                    }
                }
            }
            "content_block_start" => {
                let Some(start) = parsed.content_block else {
                    return Ok(Flow::Continue);
                };
                let tool_index = self.tool_calls;
                let block = match start.kind.as_ref() {
                    "text" => {
                        if let Some(text) = start.text.filter(|text| !text.is_empty()) {
                            push(StreamEvent::TextDelta(text));
                        }
                        Block::Text
                    }
                    "tool_use" => {
                        if tool_index >= MAX_TOOL_CALLS {
                            return Err(ProviderError::Decode {
                                message: format!(
                                    "more than {MAX_TOOL_CALLS} tool calls in one answer"
                                ),
                                body: truncated(data, MAX_BODY_BYTES),
                            });
                        }
                        self.tool_calls += 1;
                        push(StreamEvent::ToolArgumentsDelta {
                            index: tool_index,
                            id: start.id.filter(|id| !id.is_empty()),
                            name: start.name.filter(|name| !name.is_empty()),
                            delta: String::new(),
                        });
                        Block::ToolUse {
                            index: tool_index,
                            any_input: false,
                        }
                    }
                    "thinking" => Block::Thinking {
                        text: start.thinking.unwrap_or_default(),
                        signature: start.signature.filter(|s| !s.is_empty()),
                    },
                    "redacted_thinking" => Block::RedactedThinking {
                        data: start.data.unwrap_or_default(),
                    },
                    _ => Block::Skipped,
                };
                *self.block(parsed.index, data)? = block;
            }
            "content_block_delta" => {
                let Some(delta) = parsed.delta else {
                    return Ok(Flow::Continue);
                };
                let block = self.block(parsed.index, data)?;
                match (block, delta.kind.as_deref()) {
                    (Block::Text, Some("text_delta")) => {
                        if let Some(text) = delta.text.filter(|text| !text.is_empty()) {
                            push(StreamEvent::TextDelta(text));
                        }
                    }
                    (Block::ToolUse { index, any_input }, Some("input_json_delta")) => {
                        if let Some(json) = delta.partial_json.filter(|json| !json.is_empty()) {
                            *any_input = true;
                            push(StreamEvent::ToolArgumentsDelta {
                                index: *index,
                                id: None,
                                name: None,
                                delta: json,
                            });
                        }
                    }
                    (Block::Thinking { text, .. }, Some("thinking_delta")) => {
                        text.push_str(delta.thinking.as_deref().unwrap_or_default());
                    }
                    (Block::Thinking { signature, .. }, Some("signature_delta")) => {
                        *signature = delta.signature;
                    }
                    // Citations and deltas of later API versions are not the answer.
                    _ => {}
                }
            }
            "content_block_stop" => match std::mem::take(self.block(parsed.index, data)?) {
                Block::ToolUse {
                    index,
                    any_input: false,
                } => {
                    // A call without arguments: `{}`, as the whole answer's `input`.
                    push(StreamEvent::ToolArgumentsDelta {
                        index,
                        id: None,
                        name: None,
                        delta: "{}".to_owned(),
                    });
                }
                Block::Thinking { text, signature } => {
                    push(StreamEvent::Reasoning(ContentPart::Thinking {
                        thinking: text,
                        signature,
                    }));
                }
                Block::RedactedThinking { data } => {
                    push(StreamEvent::Reasoning(ContentPart::RedactedThinking {
                        data,
                    }));
                }
                _ => {}
            },
            "message_delta" => {
                if let Some(usage) = parsed.usage {
                    self.usage = usage.over(self.usage);
                    push(StreamEvent::Usage(self.usage.neutral()));
                }
                if let Some(reason) = parsed.delta.and_then(|delta| delta.stop_reason) {
                    self.finished = true;
                    if reason == "refusal" {
                        push(StreamEvent::RefusalDelta(REFUSAL_TEXT.to_owned()));
                    }
                    push(StreamEvent::Finish(FinishReason::from_wire(&reason)));
                }
            }
            "message_stop" => {
                self.finished = true;
                return Ok(Flow::Done);
            }
            "error" => {
                let error = parsed.error.unwrap_or(WireError {
                    kind: None,
                    message: None,
                });
                let kind = error.kind.unwrap_or_else(|| "error".to_owned());
                return Err(ProviderError::Stream {
                    status: status_of_kind(&kind),
                    kind: truncated(&kind, 256),
                    message: truncated(
                        error.message.as_deref().unwrap_or("(no message)"),
                        4 * 1024,
                    ),
                });
            }
            // `ping`, and events of later API versions.
            _ => {}
        }
        Ok(Flow::Continue)
    }

    fn on_end(&self) -> Option<ProviderError> {
        (!self.finished).then(|| ProviderError::Transport {
            message: "stream ended before the answer finished (no stop_reason, no message_stop)"
                .to_owned(),
        })
    }
}
