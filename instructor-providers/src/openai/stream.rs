//! Streamed chunks to neutral [`StreamEvent`]s.
//!
//! Only choice 0 is read: with `n > 1` the other choices' chunks are skipped (the
//! extraction layer asks for one answer; several would need one parser each). Unknown
//! fields, unknown event names and chunks with nothing for us are skipped; `[DONE]` ends
//! the stream. A stream whose bytes end before `[DONE]` and before any `finish_reason`
//! yields a final [`ProviderError::Transport`] ("stream ended before ..."), so callers can
//! tell a cut answer from a finished one.
//!
//! A mid-stream error object is a [`ProviderError::Stream`] classified like the HTTP
//! status the same error would have had, so that server trouble is retried and an
//! invalid request is not. A tool call `index` at or past [`MAX_TOOL_CALLS`] is a
//! [`ProviderError::Decode`]: the index sizes what the caller keeps per call.

use super::redact::{MAX_BODY_BYTES, Redactor, truncated};
use super::types::{WireUsage, content_text};
use crate::sse::{self, SseEvent};
use futures_core::Stream;
use futures_util::StreamExt;
use instructor_core::chat::{
    EventStream, FinishReason, MAX_TOOL_CALLS, ProviderError, StreamEvent, Usage,
};
use serde::{Deserialize, Deserializer};
use serde_json::Value;
use std::borrow::Cow;
use std::collections::VecDeque;

/// Room past [`MAX_BODY_BYTES`] kept in the bodies of errors made here, where the key is
/// not known: the redactor removes a key straddling the cut before cutting again.
const KEY_SLACK: usize = 1024;

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
    map_events(bytes, Redactor::default())
}

/// [`stream_events`], with `redactor` applied to every event and error.
pub(crate) fn map_events<S, B>(bytes: S, redactor: Redactor) -> EventStream
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
    let events = futures_util::stream::unfold(state, |mut state| async move {
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
    });
    Box::pin(events.map(move |item| match item {
        Ok(event) => Ok(redactor.event(event)),
        Err(error) => Err(redactor.error(error)),
    }))
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
            return Err(stream_error(data, serde_json::from_str(data).ok()));
        }
        if event.event != "message" || data.is_empty() {
            // Named events other than `error` are not part of Chat Completions streams
            // (keep-alives of proxies, vendor extensions): skipped.
            return Ok(Step::Events(Vec::new()));
        }
        let chunk: Chunk<'_> =
            serde_json::from_str(data).map_err(|error| ProviderError::Decode {
                message: format!("unreadable stream chunk: {error}"),
                body: truncated(data, MAX_BODY_BYTES + KEY_SLACK),
            })?;
        if let Some(error) = chunk.error.filter(|_| chunk.choices.is_empty()) {
            return Err(stream_error(data, Some(error)));
        }
        let mut events = Vec::new();
        if !self.response_id_sent
            && let Some(id) = chunk.id.filter(|id| !id.is_empty())
        {
            self.response_id_sent = true;
            events.push(StreamEvent::ResponseId(id.into_owned()));
        }
        for choice in chunk.choices.into_iter().filter(|c| c.index == 0) {
            let delta = choice.delta;
            if let Some(text) = delta.content.and_then(content_into_text)
                && !text.is_empty()
            {
                events.push(StreamEvent::TextDelta(text));
            }
            if let Some(refusal) = delta.refusal.filter(|r| !r.is_empty()) {
                events.push(StreamEvent::RefusalDelta(refusal));
            }
            for (position, call) in delta.tool_calls.into_iter().enumerate() {
                let wire_index = call.index.unwrap_or(position as u64);
                let index = usize::try_from(wire_index)
                    .ok()
                    .filter(|index| *index < MAX_TOOL_CALLS)
                    .ok_or_else(|| ProviderError::Decode {
                        message: format!(
                            "tool call index {wire_index} is out of range: one answer holds at \
                             most {MAX_TOOL_CALLS} tool calls"
                        ),
                        body: truncated(data, MAX_BODY_BYTES + KEY_SLACK),
                    })?;
                let id = call.id.filter(|id| !id.is_empty()).map(Cow::into_owned);
                let name = call
                    .function
                    .name
                    .filter(|name| !name.is_empty())
                    .map(Cow::into_owned);
                let delta = arguments_into_text(call.function.arguments);
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

/// One streamed chunk, read in place: strings borrow from the event's data where they
/// have no escapes, and the text of a delta is moved out, never copied (a chunk carries
/// a few tokens, so what reading one costs is mostly allocations).
#[derive(Debug, Default, Deserialize)]
struct Chunk<'a> {
    #[serde(default, borrow)]
    id: Option<Cow<'a, str>>,
    #[serde(default, borrow, deserialize_with = "nullable")]
    choices: Vec<ChunkChoice<'a>>,
    #[serde(default)]
    usage: Option<WireUsage>,
    /// A mid-stream failure (`{"error": {...}}`).
    #[serde(default)]
    error: Option<Value>,
}

#[derive(Debug, Default, Deserialize)]
struct ChunkChoice<'a> {
    #[serde(default, deserialize_with = "nullable")]
    index: u64,
    #[serde(default, borrow, deserialize_with = "nullable")]
    delta: ChunkDelta<'a>,
    #[serde(default, borrow)]
    finish_reason: Option<Cow<'a, str>>,
}

#[derive(Debug, Default, Deserialize)]
struct ChunkDelta<'a> {
    #[serde(default)]
    content: Option<Value>,
    #[serde(default)]
    refusal: Option<String>,
    #[serde(default, borrow, deserialize_with = "nullable")]
    tool_calls: Vec<ToolCallChunk<'a>>,
}

#[derive(Debug, Default, Deserialize)]
struct ToolCallChunk<'a> {
    /// Absent on some servers that send one call; position 0 then.
    #[serde(default)]
    index: Option<u64>,
    #[serde(default, borrow)]
    id: Option<Cow<'a, str>>,
    #[serde(default, borrow, deserialize_with = "nullable")]
    function: FunctionChunk<'a>,
}

#[derive(Debug, Default, Deserialize)]
struct FunctionChunk<'a> {
    #[serde(default, borrow)]
    name: Option<Cow<'a, str>>,
    /// A JSON string per the spec; some servers send the arguments as an object.
    #[serde(default)]
    arguments: Option<Value>,
}

/// Deserializes `null` (and absence, with `#[serde(default)]`) as the default value.
fn nullable<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// The text of a `content` value (see [`content_text`]), a string moved out as is.
fn content_into_text(content: Value) -> Option<String> {
    match content {
        Value::String(text) => Some(text),
        other => content_text(&other),
    }
}

/// The arguments as JSON text: a string moved out as is, an object or array serialized.
fn arguments_into_text(arguments: Option<Value>) -> String {
    match arguments {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(text)) => text,
        Some(other) => other.to_string(),
    }
}

/// A mid-stream error: `{"error": {"message", "type", "code"}}` (OpenAI), the object
/// itself (`event: error` with `{"message", "type"}`), or `{"type": "error", "error":
/// {...}}` (Anthropic style, from proxies). The kind is the error's `type`, else its
/// `code`; the status is a numeric `code` or `status`, else the one the kind stands for.
fn stream_error(data: &str, parsed: Option<Value>) -> ProviderError {
    let object = parsed.map(|value| match value.get("error") {
        Some(inner) if inner.is_object() => inner.clone(),
        _ => value,
    });
    let field = |name: &str| {
        object
            .as_ref()
            .and_then(|object| object.get(name))
            .and_then(Value::as_str)
            .filter(|text| !text.trim().is_empty())
            .map(str::to_owned)
    };
    let numeric_status = ["code", "status"].iter().find_map(|name| {
        object
            .as_ref()
            .and_then(|object| object.get(*name))
            .and_then(|value| {
                value
                    .as_u64()
                    .or_else(|| value.as_str().and_then(|text| text.parse().ok()))
            })
            .filter(|code| (400..600).contains(code))
            .and_then(|code| u16::try_from(code).ok())
    });
    let kind = field("type")
        .filter(|kind| kind != "error")
        .or_else(|| field("code").filter(|code| code.parse::<u64>().is_err()))
        .unwrap_or_else(|| "unknown".to_owned());
    let status = numeric_status.or_else(|| status_of_kind(&kind));
    let message = field("message").unwrap_or_else(|| data.to_owned());
    ProviderError::Stream {
        kind,
        message: truncated(&message, MAX_BODY_BYTES + KEY_SLACK),
        status,
    }
}

/// The HTTP status an error type stands for (OpenAI's and Anthropic's names), where it
/// is unambiguous.
fn status_of_kind(kind: &str) -> Option<u16> {
    Some(match kind.to_ascii_lowercase().as_str() {
        "invalid_request_error" | "invalid_request" | "bad_request" => 400,
        "authentication_error" | "invalid_api_key" | "unauthorized" => 401,
        "permission_error" | "permission_denied" | "forbidden" => 403,
        "not_found_error" | "not_found" | "model_not_found" => 404,
        "request_too_large" => 413,
        "rate_limit_error" | "rate_limit_exceeded" | "rate_limit" | "tokens" | "requests" => 429,
        "server_error" | "api_error" | "internal_error" | "internal_server_error" => 500,
        "service_unavailable" | "unavailable" => 503,
        "timeout" | "timeout_error" | "gateway_timeout" => 504,
        "overloaded_error" | "overloaded" => 529,
        _ => return None,
    })
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
