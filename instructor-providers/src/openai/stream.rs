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

use super::types::{WireUsage, content_text};
use crate::http::events::{EventMapper, Flow};
use crate::http::redact::{MAX_BODY_BYTES, Redactor, truncated};
use crate::sse::SseEventRef;
use futures_core::Stream;
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
    crate::http::events::map_sse(bytes, ChunkMapper::default(), redactor)
}

/// The state of one streamed answer.
#[derive(Debug, Default)]
pub(crate) struct ChunkMapper {
    response_id_sent: bool,
    finished: bool,
}

impl EventMapper for ChunkMapper {
    fn on_event(
        &mut self,
        event: &SseEventRef<'_>,
        out: &mut VecDeque<Result<StreamEvent, ProviderError>>,
        redactor: &Redactor,
    ) -> Result<Flow, ProviderError> {
        let data = event.data.trim();
        if data == "[DONE]" {
            return Ok(Flow::Done);
        }
        if event.event == "error" {
            return Err(stream_error(data, serde_json::from_str(data).ok()));
        }
        if event.event != "message" || data.is_empty() {
            // Named events other than `error` are not part of Chat Completions streams
            // (keep-alives of proxies, vendor extensions): skipped.
            return Ok(Flow::Continue);
        }
        let chunk: Chunk<'_> =
            serde_json::from_str(data).map_err(|error| ProviderError::Decode {
                message: format!("unreadable stream chunk: {error}"),
                body: truncated(data, MAX_BODY_BYTES + KEY_SLACK),
            })?;
        if let Some(error) = chunk.error.filter(|_| chunk.choices.is_empty()) {
            return Err(stream_error(data, Some(*error)));
        }
        let before = out.len();
        let mut push = |event: StreamEvent| out.push_back(Ok(redactor.event(event)));
        if !self.response_id_sent
            && let Some(id) = chunk.id.filter(|id| !id.is_empty())
        {
            self.response_id_sent = true;
            push(StreamEvent::ResponseId(id.into_owned()));
        }
        let mut finished = false;
        let mut failure = None;
        'choices: for choice in chunk.choices.into_iter().filter(|c| c.index == 0) {
            let delta = choice.delta;
            if let Some(text) = delta.content.and_then(Loose::into_content_text)
                && !text.is_empty()
            {
                push(StreamEvent::TextDelta(text));
            }
            if let Some(refusal) = delta.refusal.filter(|r| !r.is_empty()) {
                push(StreamEvent::RefusalDelta(refusal.into_owned()));
            }
            for (position, call) in delta.tool_calls.into_iter().enumerate() {
                let wire_index = call.index.unwrap_or(position as u64);
                let Some(index) = usize::try_from(wire_index)
                    .ok()
                    .filter(|index| *index < MAX_TOOL_CALLS)
                else {
                    failure = Some(ProviderError::Decode {
                        message: format!(
                            "tool call index {wire_index} is out of range: one answer holds at \
                             most {MAX_TOOL_CALLS} tool calls"
                        ),
                        body: truncated(data, MAX_BODY_BYTES + KEY_SLACK),
                    });
                    break 'choices;
                };
                let id = call.id.filter(|id| !id.is_empty()).map(Text::into_owned);
                let name = call
                    .function
                    .name
                    .filter(|name| !name.is_empty())
                    .map(Text::into_owned);
                let delta = call
                    .function
                    .arguments
                    .map(Loose::into_arguments_text)
                    .unwrap_or_default();
                if id.is_none() && name.is_none() && delta.is_empty() {
                    continue;
                }
                push(StreamEvent::ToolArgumentsDelta {
                    index,
                    id,
                    name,
                    delta,
                });
            }
            if let Some(reason) = choice.finish_reason.filter(|r| !r.is_empty()) {
                finished = true;
                push(StreamEvent::Finish(FinishReason::from_wire(&reason.0)));
            }
        }
        if let Some(error) = failure {
            out.truncate(before);
            return Err(error);
        }
        if let Some(usage) = chunk.usage {
            push(StreamEvent::Usage((*usage).into()));
        }
        self.finished |= finished;
        Ok(Flow::Continue)
    }

    /// The bytes ended without `[DONE]`: an error unless the answer had finished.
    fn on_end(&self) -> Option<ProviderError> {
        (!self.finished).then(|| ProviderError::Transport {
            message: "stream ended before the answer finished (no finish_reason, no [DONE])"
                .to_owned(),
        })
    }
}

/// One streamed chunk, read in place: the arrays hold one element nearly always and are
/// read without a `Vec` ([`Few`]), strings borrow from the event's data ([`Text`],
/// [`Loose`]) and the text of a delta is unescaped once, into the `String` the event
/// carries. So the common chunk (a few tokens of text or of arguments) costs one
/// allocation: its text.
#[derive(Debug, Default, Deserialize)]
struct Chunk<'a> {
    #[serde(default, borrow)]
    id: Option<Text<'a>>,
    #[serde(default, borrow, deserialize_with = "nullable")]
    choices: Few<ChunkChoice<'a>>,
    #[serde(default)]
    usage: Option<Box<WireUsage>>,
    /// A mid-stream failure (`{"error": {...}}`); boxed, as are all rare values here,
    /// so that the chunk is small to move.
    #[serde(default)]
    error: Option<Box<Value>>,
}

#[derive(Debug, Default, Deserialize)]
struct ChunkChoice<'a> {
    #[serde(default, deserialize_with = "nullable")]
    index: u64,
    #[serde(default, borrow, deserialize_with = "nullable")]
    delta: ChunkDelta<'a>,
    #[serde(default, borrow)]
    finish_reason: Option<Text<'a>>,
}

#[derive(Debug, Default, Deserialize)]
struct ChunkDelta<'a> {
    /// A string, or (some servers) an array of content parts.
    #[serde(default, borrow)]
    content: Option<Loose<'a>>,
    #[serde(default, borrow)]
    refusal: Option<Text<'a>>,
    #[serde(default, borrow, deserialize_with = "nullable")]
    tool_calls: Few<ToolCallChunk<'a>>,
}

#[derive(Debug, Default, Deserialize)]
struct ToolCallChunk<'a> {
    /// Absent on some servers that send one call; position 0 then.
    #[serde(default)]
    index: Option<u64>,
    #[serde(default, borrow)]
    id: Option<Text<'a>>,
    #[serde(default, borrow, deserialize_with = "nullable")]
    function: FunctionChunk<'a>,
}

#[derive(Debug, Default, Deserialize)]
struct FunctionChunk<'a> {
    #[serde(default, borrow)]
    name: Option<Text<'a>>,
    /// A JSON string per the spec; some servers send the arguments as an object.
    #[serde(default, borrow)]
    arguments: Option<Loose<'a>>,
}

/// The elements of a JSON array that holds one nearly always: the first kept in place,
/// the others (rare) in a `Vec`, so the common case allocates nothing.
#[derive(Debug)]
struct Few<T> {
    first: Option<T>,
    rest: Vec<T>,
}

impl<T> Default for Few<T> {
    fn default() -> Self {
        Few {
            first: None,
            rest: Vec::new(),
        }
    }
}

impl<T> Few<T> {
    fn is_empty(&self) -> bool {
        self.first.is_none()
    }
}

impl<T> IntoIterator for Few<T> {
    type Item = T;
    type IntoIter = std::iter::Chain<std::option::IntoIter<T>, std::vec::IntoIter<T>>;

    fn into_iter(self) -> Self::IntoIter {
        self.first.into_iter().chain(self.rest)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Few<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct FewVisitor<T>(std::marker::PhantomData<T>);

        impl<'de, T: Deserialize<'de>> serde::de::Visitor<'de> for FewVisitor<T> {
            type Value = Few<T>;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an array")
            }

            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Self::Value, A::Error> {
                let mut few = Few::default();
                while let Some(element) = seq.next_element()? {
                    match few.first {
                        None => few.first = Some(element),
                        Some(_) => few.rest.push(element),
                    }
                }
                Ok(few)
            }
        }

        deserializer.deserialize_seq(FewVisitor(std::marker::PhantomData))
    }
}

/// A string, borrowed from the chunk unless it has escapes (`Option<Cow<str>>` would be
/// copied always: serde borrows a `Cow` only when it is the field's type itself).
#[derive(Debug)]
struct Text<'a>(Cow<'a, str>);

impl Text<'_> {
    fn into_owned(self) -> String {
        self.0.into_owned()
    }

    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TextVisitor;

        impl<'de> serde::de::Visitor<'de> for TextVisitor {
            type Value = Text<'de>;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a string")
            }

            fn visit_borrowed_str<E>(self, text: &'de str) -> Result<Self::Value, E> {
                Ok(Text(Cow::Borrowed(text)))
            }

            fn visit_str<E>(self, text: &str) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(text.to_owned())))
            }

            fn visit_string<E>(self, text: String) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(text)))
            }
        }

        deserializer.deserialize_str(TextVisitor)
    }
}

/// A value that is a string nearly always: read as its raw JSON text (borrowed), a
/// string unescaped once (or borrowed as it is when it has no escape), anything else
/// kept as a [`Value`].
#[derive(Debug)]
enum Loose<'a> {
    Text(Cow<'a, str>),
    Other(Box<Value>),
}

impl Loose<'_> {
    /// The text of a `content` value (see [`content_text`]).
    fn into_content_text(self) -> Option<String> {
        match self {
            Loose::Text(text) => Some(text.into_owned()),
            Loose::Other(other) => content_text(&other),
        }
    }

    /// The arguments as JSON text: a string as is, an object or array serialized.
    fn into_arguments_text(self) -> String {
        match self {
            Loose::Text(text) => text.into_owned(),
            Loose::Other(other) if other.is_null() => String::new(),
            Loose::Other(other) => other.to_string(),
        }
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Loose<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let raw = <&'a serde_json::value::RawValue>::deserialize(deserializer)?.get();
        match raw.strip_prefix('"').and_then(|raw| raw.strip_suffix('"')) {
            Some(inner) => unescape(inner)
                .map(Loose::Text)
                .ok_or_else(|| D::Error::custom("invalid escape in a string")),
            None => serde_json::from_str(raw)
                .map(Loose::Other)
                .map_err(D::Error::custom),
        }
    }
}

/// The text of a JSON string from what stands between its quotes: borrowed when it has
/// no escape, else decoded into one `String`. `None` for an invalid escape (a lone
/// surrogate included, which serde_json refuses too).
fn unescape(inner: &str) -> Option<Cow<'_, str>> {
    let Some(mut at) = memchr::memchr(b'\\', inner.as_bytes()) else {
        return Some(Cow::Borrowed(inner));
    };
    let mut out = String::with_capacity(inner.len());
    let mut rest = inner;
    loop {
        out.push_str(rest.get(..at)?);
        let escape = *rest.as_bytes().get(at + 1)?;
        rest = rest.get(at + 2..)?;
        let decoded = match escape {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let high = hex4(rest)?;
                rest = rest.get(4..)?;
                if (0xD800..0xDC00).contains(&high) {
                    let low = rest.strip_prefix("\\u").and_then(hex4)?;
                    if !(0xDC00..0xE000).contains(&low) {
                        return None;
                    }
                    rest = rest.get(6..)?;
                    char::from_u32(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))?
                } else {
                    char::from_u32(high)?
                }
            }
            _ => return None,
        };
        out.push(decoded);
        match memchr::memchr(b'\\', rest.as_bytes()) {
            Some(next) => at = next,
            None => {
                out.push_str(rest);
                return Some(Cow::Owned(out));
            }
        }
    }
}

/// Four hex digits at the start of `text`.
fn hex4(text: &str) -> Option<u32> {
    let digits = text.get(..4)?;
    if !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u32::from_str_radix(digits, 16).ok()
}

/// Deserializes `null` (and absence, with `#[serde(default)]`) as the default value.
fn nullable<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
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
            cache_creation_tokens: 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::StreamExt;
    use futures::executor::block_on;

    fn events_of(body: &str) -> Vec<Result<StreamEvent, ProviderError>> {
        let bytes = futures::stream::iter([Ok::<_, ProviderError>(body.as_bytes().to_vec())]);
        block_on(stream_events(bytes).collect())
    }

    fn arguments_of(arguments: &str) -> Result<StreamEvent, ProviderError> {
        let body = format!(
            "data: {{\"choices\":[{{\"index\":0,\"delta\":{{\"tool_calls\":[{{\"index\":0,\
             \"function\":{{\"arguments\":{arguments}}}}}]}}}}]}}\n\ndata: [DONE]\n\n"
        );
        let mut events = events_of(&body);
        assert_eq!(events.len(), 1, "{events:?}");
        events.remove(0)
    }

    fn delta(text: &str) -> Result<StreamEvent, ProviderError> {
        Ok(StreamEvent::ToolArgumentsDelta {
            index: 0,
            id: None,
            name: None,
            delta: text.to_owned(),
        })
    }

    #[test]
    fn arguments_are_unescaped_once_as_serde_json_reads_them() {
        for raw in [
            r#""{\"a\": \"x\\ny\"}""#,
            r#""plain""#,
            r#""\u00e9\ud83d\ude00 \/ \b\f\n\r\t""#,
            r#""caf\u00E9 — ok""#,
        ] {
            let expected: String = serde_json::from_str(raw).expect("valid JSON");
            assert_eq!(arguments_of(raw), delta(&expected), "{raw}");
        }
    }

    #[test]
    fn arguments_sent_as_an_object_are_serialized() {
        assert_eq!(arguments_of(r#"{"a":[1,"x"]}"#), delta(r#"{"a":[1,"x"]}"#));
        let body = "data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\
                    \"function\":{\"arguments\":null}}]}}]}\n\ndata: [DONE]\n\n";
        assert_eq!(events_of(body), []);
    }

    #[test]
    fn a_lone_surrogate_or_a_bad_escape_is_a_decode_error_not_a_panic() {
        for raw in [
            r#""\ud83d x""#,
            r#""\ude00""#,
            r#""\u12""#,
            r#""\ud83d\u0041""#,
        ] {
            match arguments_of(raw) {
                Err(ProviderError::Decode { message, .. }) => {
                    assert!(message.contains("unreadable stream chunk"), "{message}");
                }
                other => panic!("{raw}: {other:?}"),
            }
        }
    }

    #[test]
    fn several_choices_and_calls_in_one_chunk_are_all_read() {
        let body = "data: {\"id\":\"r\\u0031\",\"choices\":[{\"index\":1,\"delta\":{\"content\":\"no\"}},\
                    {\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"a\"}},\
                    {\"index\":1,\"id\":\"c1\",\"function\":{\"name\":\"f\",\"arguments\":\"b\"}}]}}]}\n\n\
                    data: [DONE]\n\n";
        let events = events_of(body);
        assert_eq!(
            events,
            [
                Ok(StreamEvent::ResponseId("r1".to_owned())),
                delta("a"),
                Ok(StreamEvent::ToolArgumentsDelta {
                    index: 1,
                    id: Some("c1".to_owned()),
                    name: Some("f".to_owned()),
                    delta: "b".to_owned(),
                }),
            ]
        );
    }
}
