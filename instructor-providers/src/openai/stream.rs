//! Streamed chunks to neutral [`StreamEvent`]s.
//!
//! Only choice 0 is read: with `n > 1` the other choices' chunks are skipped (the
//! extraction layer asks for one answer; several would need one parser each). Unknown
//! fields, unknown event names and chunks with nothing for us are skipped; `[DONE]` ends
//! the stream. A stream whose bytes end before `[DONE]` and before any `finish_reason`
//! yields a final [`ProviderError::Transport`] ("stream ended before ..."), so callers can
//! tell a cut answer from a finished one.

use super::types::{ChatCompletionChunk, WireUsage, arguments_text, content_text};
use crate::sse::{self, SseEvent};
use futures_core::Stream;
use futures_util::StreamExt;
use instructor_core::chat::{EventStream, FinishReason, ProviderError, StreamEvent, Usage};
use std::collections::VecDeque;

/// Turns a byte stream of a Chat Completions SSE answer into neutral events.
///
/// ```
/// use futures::executor::block_on;
/// use futures::StreamExt;
/// use instructor_core::chat::{ProviderError, StreamEvent};
///
/// let body = "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"}}]}\n\n\
///             data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n\
///             data: [DONE]\n\n";
/// let bytes = futures::stream::iter([Ok::<_, ProviderError>(body.as_bytes().to_vec())]);
/// let events: Vec<_> = block_on(instructor_providers::openai::stream_events(bytes).collect());
/// assert_eq!(events[0], Ok(StreamEvent::TextDelta("Hi".into())));
/// assert_eq!(events.len(), 2);
/// ```
pub fn stream_events<S, B>(bytes: S) -> EventStream
where
    S: Stream<Item = Result<B, ProviderError>> + Send + 'static,
    B: AsRef<[u8]> + 'static,
{
    struct State<E> {
        events: std::pin::Pin<Box<E>>,
        mapper: ChunkMapper,
        ready: VecDeque<Result<StreamEvent, ProviderError>>,
        done: bool,
    }
    let state = State {
        events: Box::pin(sse::decode(bytes)),
        mapper: ChunkMapper::default(),
        ready: VecDeque::new(),
        done: false,
    };
    Box::pin(futures_util::stream::unfold(
        state,
        |mut state| async move {
            loop {
                if let Some(item) = state.ready.pop_front() {
                    return Some((item, state));
                }
                if state.done {
                    return None;
                }
                match state.events.next().await {
                    Some(Ok(event)) => match state.mapper.on_event(&event) {
                        Ok(Step::Events(events)) => state.ready.extend(events.into_iter().map(Ok)),
                        Ok(Step::Done) => state.done = true,
                        Err(error) => {
                            state.ready.push_back(Err(error));
                            state.done = true;
                        }
                    },
                    Some(Err(error)) => {
                        // A broken connection or an unreadable event: nothing after it can be
                        // trusted, so the stream ends with the error.
                        state.ready.push_back(Err(error));
                        state.done = true;
                    }
                    None => {
                        state.done = true;
                        if let Some(error) = state.mapper.on_end() {
                            state.ready.push_back(Err(error));
                        }
                    }
                }
            }
        },
    ))
}

/// Passes `bytes` on until more than `limit` bytes have come in all, then yields the error
/// `too_large` makes of the stream's first `head_len` bytes and ends: however long the
/// server goes on sending, no more than `limit` bytes are read. (Each event is bounded
/// on its own by [`sse::MAX_EVENT_BYTES`].)
pub(crate) fn limit_total<S, B, F>(
    bytes: S,
    limit: usize,
    head_len: usize,
    too_large: F,
) -> impl Stream<Item = Result<B, ProviderError>> + Send + 'static
where
    S: Stream<Item = Result<B, ProviderError>> + Send + 'static,
    B: AsRef<[u8]> + Send + 'static,
    F: Fn(&[u8]) -> ProviderError + Send + 'static,
{
    struct State<S, F> {
        bytes: std::pin::Pin<Box<S>>,
        total: usize,
        head: Vec<u8>,
        ended: bool,
        limit: usize,
        head_len: usize,
        too_large: F,
    }
    let state = State {
        bytes: Box::pin(bytes),
        total: 0,
        head: Vec::new(),
        ended: false,
        limit,
        head_len,
        too_large,
    };
    futures_util::stream::unfold(state, |mut state| async move {
        if state.ended {
            return None;
        }
        let item = state.bytes.next().await?.and_then(|chunk| {
            let bytes = chunk.as_ref();
            let room = state.head_len.saturating_sub(state.head.len());
            state
                .head
                .extend_from_slice(&bytes[..bytes.len().min(room)]);
            state.total = state.total.saturating_add(bytes.len());
            if state.total > state.limit {
                state.ended = true;
                Err((state.too_large)(&state.head))
            } else {
                Ok(chunk)
            }
        });
        Some((item, state))
    })
}

/// What one SSE event means.
#[derive(Debug)]
pub(crate) enum Step {
    /// Events to pass on (possibly none).
    Events(Vec<StreamEvent>),
    /// `[DONE]`: the stream is over.
    Done,
}

/// The state of one streamed answer.
#[derive(Debug, Default)]
pub(crate) struct ChunkMapper {
    response_id_sent: bool,
    finished: bool,
}

impl ChunkMapper {
    /// Maps one SSE event.
    pub(crate) fn on_event(&mut self, event: &SseEvent) -> Result<Step, ProviderError> {
        let data = event.data.trim();
        if data == "[DONE]" {
            return Ok(Step::Done);
        }
        if event.event == "error" {
            return Err(stream_error(data));
        }
        if event.event != "message" || data.is_empty() {
            // Named events other than `error` are not part of Chat Completions streams
            // (keep-alives of proxies, vendor extensions): skipped.
            return Ok(Step::Events(Vec::new()));
        }
        let chunk: ChatCompletionChunk =
            serde_json::from_str(data).map_err(|error| ProviderError::Decode {
                message: format!("unreadable stream chunk: {error}"),
                body: data.to_owned(),
            })?;
        if chunk.error.is_some() && chunk.choices.is_empty() {
            return Err(stream_error(data));
        }
        let mut events = Vec::new();
        if !self.response_id_sent
            && let Some(id) = chunk.id.filter(|id| !id.is_empty())
        {
            self.response_id_sent = true;
            events.push(StreamEvent::ResponseId(id));
        }
        for choice in chunk.choices.into_iter().filter(|c| c.index == 0) {
            let delta = choice.delta;
            if let Some(text) = delta.content.as_ref().and_then(content_text)
                && !text.is_empty()
            {
                events.push(StreamEvent::TextDelta(text));
            }
            if let Some(refusal) = delta.refusal.filter(|r| !r.is_empty()) {
                events.push(StreamEvent::RefusalDelta(refusal));
            }
            for (position, call) in delta.tool_calls.into_iter().enumerate() {
                let index = call
                    .index
                    .and_then(|i| usize::try_from(i).ok())
                    .unwrap_or(position);
                let id = call.id.filter(|id| !id.is_empty());
                let name = call.function.name.filter(|name| !name.is_empty());
                let delta = arguments_text(call.function.arguments.as_ref());
                if id.is_none() && name.is_none() && delta.is_empty() {
                    continue;
                }
                events.push(StreamEvent::ToolArgumentsDelta {
                    index,
                    id,
                    name,
                    delta,
                });
            }
            if let Some(reason) = choice.finish_reason.filter(|r| !r.is_empty()) {
                self.finished = true;
                events.push(StreamEvent::Finish(FinishReason::from_wire(&reason)));
            }
        }
        if let Some(usage) = chunk.usage {
            events.push(StreamEvent::Usage(usage.into()));
        }
        Ok(Step::Events(events))
    }

    /// The bytes ended without `[DONE]`: an error unless the answer had finished.
    pub(crate) fn on_end(&self) -> Option<ProviderError> {
        (!self.finished).then(|| ProviderError::Transport {
            message: "stream ended before the answer finished (no finish_reason, no [DONE])"
                .to_owned(),
        })
    }
}

/// A mid-stream error object. The HTTP status was 200 and the answer is cut, so it is
/// reported as a transport failure (retried) carrying the provider's words.
fn stream_error(data: &str) -> ProviderError {
    ProviderError::Transport {
        message: format!("the provider sent an error mid-stream: {data}"),
    }
}

impl From<WireUsage> for Usage {
    fn from(usage: WireUsage) -> Self {
        Usage {
            input_tokens: usage.prompt_tokens,
            output_tokens: usage.completion_tokens,
            cached_tokens: usage.prompt_tokens_details.cached_tokens,
            reasoning_tokens: usage.completion_tokens_details.reasoning_tokens,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::executor::block_on;

    fn too_large(head: &[u8]) -> ProviderError {
        ProviderError::Decode {
            message: "too large".to_owned(),
            body: String::from_utf8_lossy(head).into_owned(),
        }
    }

    #[test]
    fn the_limit_counts_every_byte_and_ends_the_stream_with_one_error() {
        let chunks = ["abc", "def", "ghi", "jkl"].map(|c| Ok::<_, ProviderError>(c.as_bytes()));
        let items: Vec<_> =
            block_on(limit_total(futures::stream::iter(chunks), 7, 4, too_large).collect());
        assert_eq!(items.len(), 3, "{items:?}");
        assert_eq!(items[0], Ok(&b"abc"[..]));
        assert_eq!(items[1], Ok(&b"def"[..]));
        assert_eq!(items[2], Err(too_large(b"abcd")));
    }

    #[test]
    fn a_stream_at_the_limit_passes_whole() {
        let chunks = ["abc", "def"].map(|c| Ok::<_, ProviderError>(c.as_bytes()));
        let items: Vec<_> =
            block_on(limit_total(futures::stream::iter(chunks), 6, 4, too_large).collect());
        assert_eq!(items, [Ok(&b"abc"[..]), Ok(&b"def"[..])]);
    }
}
