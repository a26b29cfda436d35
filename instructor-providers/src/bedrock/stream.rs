//! A streamed Converse answer (`ConverseStream`) read into neutral events.
//!
//! The bytes are AWS event-stream frames (`application/vnd.amazon.eventstream`): a
//! prelude (total length, headers length, prelude CRC32), headers (`:message-type`,
//! `:event-type`, `:exception-type`, ...), a JSON payload and the message CRC32. A frame
//! is read by `aws-smithy-eventstream`, which checks both CRCs and every length inside
//! the frame; this module bounds the frame itself before buffering it (the prelude's CRC
//! is checked as soon as its 12 bytes are in, then the total length against
//! [`MAX_FRAME_BYTES`]), so a lying length never makes it wait for, or keep, gigabytes.
//!
//! Events: `messageStart`, `contentBlockStart` (a `toolUse` with its id and name),
//! `contentBlockDelta` (`text`, `toolUse.input` fragments, `reasoningContent`),
//! `contentBlockStop`, `messageStop` (the stop reason) and `metadata` (usage, which comes
//! after `messageStop`); exceptions (`throttlingException`, `modelStreamErrorException`,
//! `validationException`, `serviceUnavailableException`, `internalServerException`)
//! are typed errors with the status the same error has over HTTP (429 is retried);
//! unknown events are skipped.

use super::response::{WireUsage, finish_reason, is_refusal, refusal_text, status_of_exception};
use crate::http::redact::{MAX_BODY_BYTES, Redactor, truncated};
use aws_smithy_eventstream::frame::read_message_from;
use aws_smithy_types::event_stream::Message;
use futures_core::Stream;
use instructor_core::chat::{ContentPart, EventStream, MAX_TOOL_CALLS, ProviderError, StreamEvent};
use serde::Deserialize;
use std::collections::VecDeque;
use std::pin::Pin;
use std::task::{Context, Poll};

/// The largest frame read: the event-stream format's own limit (16 MiB). A prelude
/// announcing more is an error before anything more is buffered.
pub const MAX_FRAME_BYTES: usize = 16 * 1024 * 1024;

/// Prelude (12 bytes) and message CRC (4 bytes): the smallest frame.
const PRELUDE_BYTES: usize = 12;
const MIN_FRAME_BYTES: usize = 16;

/// The most content blocks one answer may hold: the index comes from the server and
/// sizes what is kept per block.
const MAX_BLOCKS: usize = 1024;

/// Splits event-stream bytes into checked frames.
#[derive(Debug, Default)]
pub(crate) struct FrameDecoder {
    buf: Vec<u8>,
    /// Where the unread bytes of `buf` start.
    start: usize,
}

impl FrameDecoder {
    /// Adds bytes.
    pub(crate) fn feed(&mut self, bytes: &[u8]) {
        if self.start > 0 && self.start == self.buf.len() {
            self.buf.clear();
            self.start = 0;
        }
        self.buf.extend_from_slice(bytes);
    }

    /// The next whole frame, `Ok(None)` when more bytes are needed.
    pub(crate) fn next_frame(&mut self) -> Result<Option<Message>, ProviderError> {
        let pending = &self.buf[self.start..];
        if pending.len() < PRELUDE_BYTES {
            return Ok(None);
        }
        let word = |at: usize| {
            u32::from_be_bytes([
                pending[at],
                pending[at + 1],
                pending[at + 2],
                pending[at + 3],
            ])
        };
        let (total, prelude_crc) = (word(0), word(8));
        let computed = crc32fast::hash(&pending[..8]);
        if computed != prelude_crc {
            return Err(frame_error(format!(
                "the prelude's CRC32 does not match (computed {computed:#010x}, the frame says {prelude_crc:#010x})"
            )));
        }
        let total = usize::try_from(total).unwrap_or(usize::MAX);
        if total > MAX_FRAME_BYTES {
            return Err(frame_error(format!(
                "a frame of {total} bytes announced; at most {MAX_FRAME_BYTES} are read"
            )));
        }
        if total < MIN_FRAME_BYTES {
            return Err(frame_error(format!(
                "a frame of {total} bytes announced; a frame has at least {MIN_FRAME_BYTES}"
            )));
        }
        if pending.len() < total {
            return Ok(None);
        }
        let message = read_message_from(&pending[..total])
            .map_err(|error| frame_error(format!("an unreadable frame: {error}")))?;
        self.start += total;
        if self.start == self.buf.len() {
            self.buf.clear();
            self.start = 0;
        } else if self.start > 64 * 1024 {
            self.buf.drain(..self.start);
            self.start = 0;
        }
        Ok(Some(message))
    }

    /// Whether bytes of an unfinished frame are left.
    pub(crate) fn has_partial(&self) -> bool {
        self.start < self.buf.len()
    }
}

fn frame_error(message: String) -> ProviderError {
    ProviderError::Decode {
        message: format!("event stream: {message}"),
        body: String::new(),
    }
}

/// A string header of a frame.
pub(crate) fn header<'m>(message: &'m Message, name: &str) -> Option<&'m str> {
    message
        .headers()
        .iter()
        .find(|header| header.name().as_str() == name)
        .and_then(|header| header.value().as_string().ok())
        .map(|value| value.as_str())
}

/// What a content block of the stream is.
#[derive(Debug, Default)]
enum Block {
    /// Not started, text, or of a kind that is skipped.
    #[default]
    Plain,
    /// Tool call `index` of the answer; whether any argument bytes came.
    ToolUse { index: usize, any_input: bool },
    Reasoning {
        text: String,
        signature: Option<String>,
        redacted: Option<String>,
    },
}

/// The state of one streamed Converse answer.
#[derive(Debug, Default)]
pub(crate) struct ConverseMapper {
    blocks: Vec<Block>,
    tool_calls: usize,
    stopped: bool,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct BlockEvent {
    #[serde(default)]
    content_block_index: Option<u64>,
    #[serde(default)]
    start: Option<BlockStart>,
    #[serde(default)]
    delta: Option<BlockDelta>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct BlockStart {
    #[serde(default)]
    tool_use: Option<ToolUseStart>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ToolUseStart {
    #[serde(default)]
    tool_use_id: Option<String>,
    #[serde(default)]
    name: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct BlockDelta {
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    tool_use: Option<ToolUseDelta>,
    #[serde(default)]
    reasoning_content: Option<ReasoningDelta>,
}

#[derive(Debug, Deserialize)]
struct ToolUseDelta {
    #[serde(default)]
    input: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ReasoningDelta {
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    signature: Option<String>,
    #[serde(default)]
    redacted_content: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct StopEvent {
    #[serde(default)]
    stop_reason: Option<String>,
}

#[derive(Debug, Deserialize)]
struct MetadataEvent {
    #[serde(default)]
    usage: Option<WireUsage>,
}

#[derive(Debug, Deserialize)]
struct ExceptionEvent {
    #[serde(default)]
    message: Option<String>,
}

fn unreadable(kind: &str, payload: &[u8], error: &serde_json::Error) -> ProviderError {
    ProviderError::Decode {
        message: format!("unreadable `{kind}` event: {error}"),
        body: truncated(&String::from_utf8_lossy(payload), MAX_BODY_BYTES),
    }
}

impl ConverseMapper {
    fn block(&mut self, index: Option<u64>) -> Result<&mut Block, ProviderError> {
        let index = index
            .and_then(|index| usize::try_from(index).ok())
            .filter(|index| *index < MAX_BLOCKS)
            .ok_or_else(|| ProviderError::Decode {
                message: format!(
                    "content block index {index:?} is out of range: one answer holds at most {MAX_BLOCKS} blocks"
                ),
                body: String::new(),
            })?;
        if self.blocks.len() <= index {
            self.blocks.resize_with(index + 1, Block::default);
        }
        Ok(&mut self.blocks[index])
    }

    fn new_tool_call(&mut self) -> Result<usize, ProviderError> {
        let index = self.tool_calls;
        if index >= MAX_TOOL_CALLS {
            return Err(ProviderError::Decode {
                message: format!("more than {MAX_TOOL_CALLS} tool calls in one answer"),
                body: String::new(),
            });
        }
        self.tool_calls += 1;
        Ok(index)
    }

    /// Maps one frame, queueing the neutral events it gives on `out`.
    pub(crate) fn on_frame(
        &mut self,
        message: &Message,
        out: &mut VecDeque<Result<StreamEvent, ProviderError>>,
        redactor: &Redactor,
    ) -> Result<(), ProviderError> {
        let payload = message.payload().as_ref();
        match header(message, ":message-type") {
            Some("event") | None => {}
            Some("exception") => {
                let kind = header(message, ":exception-type").unwrap_or("exception");
                let text = serde_json::from_slice::<ExceptionEvent>(payload)
                    .ok()
                    .and_then(|event| event.message)
                    .unwrap_or_else(|| "(no message)".to_owned());
                return Err(ProviderError::Stream {
                    status: status_of_exception(kind),
                    kind: truncated(kind, 256),
                    message: truncated(&text, 4 * 1024),
                });
            }
            Some("error") => {
                let code = header(message, ":error-code").unwrap_or("error");
                let text = header(message, ":error-message").unwrap_or("(no message)");
                return Err(ProviderError::Stream {
                    status: status_of_exception(code),
                    kind: truncated(code, 256),
                    message: truncated(text, 4 * 1024),
                });
            }
            // Message types of later versions.
            Some(_) => return Ok(()),
        }
        let kind = header(message, ":event-type").unwrap_or_default();
        let mut push = |event: StreamEvent| out.push_back(Ok(redactor.event(event)));
        match kind {
            "messageStart" => {}
            "contentBlockStart" => {
                let event: BlockEvent = serde_json::from_slice(payload)
                    .map_err(|error| unreadable(kind, payload, &error))?;
                let Some(tool_use) = event.start.and_then(|start| start.tool_use) else {
                    self.block(event.content_block_index)?;
                    return Ok(());
                };
                self.block(event.content_block_index)?;
                let index = self.new_tool_call()?;
                push(StreamEvent::ToolArgumentsDelta {
                    index,
                    id: tool_use.tool_use_id.filter(|id| !id.is_empty()),
                    name: tool_use.name.filter(|name| !name.is_empty()),
                    delta: String::new(),
                });
                *self.block(event.content_block_index)? = Block::ToolUse {
                    index,
                    any_input: false,
                };
            }
            "contentBlockDelta" => {
                let event: BlockEvent = serde_json::from_slice(payload)
                    .map_err(|error| unreadable(kind, payload, &error))?;
                let Some(delta) = event.delta else {
                    return Ok(());
                };
                if let Some(text) = delta.text.filter(|text| !text.is_empty()) {
                    self.block(event.content_block_index)?;
                    push(StreamEvent::TextDelta(text));
                }
                if let Some(input) = delta.tool_use.and_then(|tool_use| tool_use.input) {
                    if matches!(self.block(event.content_block_index)?, Block::Plain) {
                        // Input without a start: a call without id or name.
                        let index = self.new_tool_call()?;
                        *self.block(event.content_block_index)? = Block::ToolUse {
                            index,
                            any_input: false,
                        };
                    }
                    if let Block::ToolUse { index, any_input } =
                        self.block(event.content_block_index)?
                        && !input.is_empty()
                    {
                        *any_input = true;
                        push(StreamEvent::ToolArgumentsDelta {
                            index: *index,
                            id: None,
                            name: None,
                            delta: input,
                        });
                    }
                }
                if let Some(reasoning) = delta.reasoning_content {
                    let block = self.block(event.content_block_index)?;
                    if matches!(block, Block::Plain) {
                        *block = Block::Reasoning {
                            text: String::new(),
                            signature: None,
                            redacted: None,
                        };
                    }
                    if let Block::Reasoning {
                        text,
                        signature,
                        redacted,
                    } = block
                    {
                        if let Some(more) = reasoning.text {
                            text.push_str(&more);
                        }
                        if reasoning.signature.is_some() {
                            *signature = reasoning.signature;
                        }
                        if let Some(data) = reasoning.redacted_content {
                            redacted.get_or_insert_with(String::new).push_str(&data);
                        }
                    }
                }
            }
            "contentBlockStop" => {
                let event: BlockEvent = serde_json::from_slice(payload)
                    .map_err(|error| unreadable(kind, payload, &error))?;
                match std::mem::take(self.block(event.content_block_index)?) {
                    Block::ToolUse {
                        index,
                        any_input: false,
                    } => push(StreamEvent::ToolArgumentsDelta {
                        index,
                        id: None,
                        name: None,
                        delta: "{}".to_owned(),
                    }),
                    Block::Reasoning {
                        text,
                        signature,
                        redacted,
                    } => {
                        if let Some(data) = redacted {
                            push(StreamEvent::Reasoning(ContentPart::RedactedThinking {
                                data,
                            }));
                        }
                        if !text.is_empty() || signature.is_some() {
                            push(StreamEvent::Reasoning(ContentPart::Thinking {
                                thinking: text,
                                signature,
                            }));
                        }
                    }
                    _ => {}
                }
            }
            "messageStop" => {
                let event: StopEvent = serde_json::from_slice(payload)
                    .map_err(|error| unreadable(kind, payload, &error))?;
                self.stopped = true;
                if let Some(reason) = event.stop_reason {
                    let reason = truncated(&reason, 256);
                    if is_refusal(&reason) {
                        push(StreamEvent::RefusalDelta(refusal_text(&reason)));
                    }
                    push(StreamEvent::Finish(finish_reason(&reason)));
                }
            }
            "metadata" => {
                let event: MetadataEvent = serde_json::from_slice(payload)
                    .map_err(|error| unreadable(kind, payload, &error))?;
                if let Some(usage) = event.usage {
                    push(StreamEvent::Usage(usage.neutral()));
                }
            }
            // Events of later API versions.
            _ => {}
        }
        Ok(())
    }

    /// The bytes ended: an error unless the answer was complete.
    pub(crate) fn on_end(&self) -> Option<ProviderError> {
        (!self.stopped).then(|| ProviderError::Transport {
            message: "stream ended before the answer finished (no messageStop)".to_owned(),
        })
    }
}

/// The neutral events of the event-stream answer `bytes`.
pub(crate) fn map_eventstream<S, B>(bytes: S, redactor: Redactor) -> EventStream
where
    S: Stream<Item = Result<B, ProviderError>> + Send + 'static,
    B: AsRef<[u8]> + 'static,
{
    Box::pin(FrameEvents {
        bytes: Box::pin(bytes),
        decoder: FrameDecoder::default(),
        mapper: ConverseMapper::default(),
        ready: VecDeque::new(),
        redactor,
        stopped: false,
    })
}

struct FrameEvents<S> {
    bytes: Pin<Box<S>>,
    decoder: FrameDecoder,
    mapper: ConverseMapper,
    ready: VecDeque<Result<StreamEvent, ProviderError>>,
    redactor: Redactor,
    /// An error or the end of the bytes: nothing more is read.
    stopped: bool,
}

impl<S> FrameEvents<S> {
    fn fail(&mut self, error: ProviderError) {
        self.ready.push_back(Err(self.redactor.error(error)));
        self.stopped = true;
    }

    fn read(&mut self, bytes: Option<&[u8]>) {
        let Some(bytes) = bytes else {
            self.stopped = true;
            let error = if self.decoder.has_partial() {
                Some(ProviderError::Transport {
                    message: "stream ended in the middle of an event-stream frame".to_owned(),
                })
            } else {
                self.mapper.on_end()
            };
            if let Some(error) = error {
                self.ready.push_back(Err(self.redactor.error(error)));
            }
            return;
        };
        self.decoder.feed(bytes);
        loop {
            match self.decoder.next_frame() {
                Ok(None) => return,
                Ok(Some(message)) => {
                    if let Err(error) =
                        self.mapper
                            .on_frame(&message, &mut self.ready, &self.redactor)
                    {
                        return self.fail(error);
                    }
                }
                Err(error) => return self.fail(error),
            }
        }
    }
}

impl<S, B> Stream for FrameEvents<S>
where
    S: Stream<Item = Result<B, ProviderError>>,
    B: AsRef<[u8]>,
{
    type Item = Result<StreamEvent, ProviderError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            if let Some(item) = this.ready.pop_front() {
                return Poll::Ready(Some(item));
            }
            if this.stopped {
                return Poll::Ready(None);
            }
            match std::task::ready!(this.bytes.as_mut().poll_next(cx)) {
                Some(Ok(chunk)) => this.read(Some(chunk.as_ref())),
                Some(Err(error)) => this.fail(error),
                None => this.read(None),
            }
        }
    }
}
