//! A Server-Sent Events decoder over raw bytes.
//!
//! Written by hand rather than taken from `eventsource-stream` or `sse-stream`: the
//! decoder is small, it works on bytes (so a multi-byte character split across network
//! chunks is never a problem, and invalid UTF-8 becomes a typed error item rather than a
//! lossy replacement or a panic), it is synchronous (so it is tested byte by byte without
//! a runtime), and it saves a dependency.
//!
//! It follows the WHATWG "event stream interpretation" with two deliberate leniencies:
//! an event still pending when the bytes end is dispatched (some servers omit the final
//! blank line, and `data: [DONE]` must not be lost to that), and an event larger than
//! [`MAX_EVENT_BYTES`] is an error instead of unbounded memory.
//!
//! ```
//! use instructor_providers::sse::SseDecoder;
//!
//! let mut decoder = SseDecoder::new();
//! let mut events = decoder.feed(b"event: ping\r\ndata: {\"a\":");
//! assert!(events.is_empty());
//! events.extend(decoder.feed(b"1}\r\n\r\n: a comment\n\ndata: [DONE]\n"));
//! events.extend(decoder.finish());
//! let events: Vec<_> = events.into_iter().map(Result::unwrap).collect();
//! assert_eq!(events[0].event, "ping");
//! assert_eq!(events[0].data, "{\"a\":1}");
//! assert_eq!(events[1].data, "[DONE]");
//! ```

use futures_core::Stream;
use futures_util::StreamExt;
use instructor_core::chat::ProviderError;
use std::collections::VecDeque;

/// The largest event (data lines together, or one line) the decoder buffers: 16 MiB.
pub const MAX_EVENT_BYTES: usize = 16 * 1024 * 1024;

/// The longest `id:` kept (longer ones are ignored, as ids holding NUL are): the last id
/// is copied into every event that follows, so a long one would be copied again and
/// again.
pub const MAX_ID_BYTES: usize = 1024;

/// The capacity of the data buffer kept between events.
const KEPT_DATA_BYTES: usize = 64 * 1024;

/// How much of an unreadable line an [`SseError::InvalidUtf8`] keeps.
const MAX_LOSSY_BYTES: usize = 17 * 1024;

/// One dispatched event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseEvent {
    /// The `event:` name, `message` when none was given.
    pub event: String,
    /// The `data:` lines joined with `\n`.
    pub data: String,
    /// The last `id:` seen in the stream, if any.
    pub id: Option<String>,
    /// A `retry:` given in this event, in milliseconds.
    pub retry: Option<u64>,
}

/// What the decoder cannot read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SseError {
    /// A line is not UTF-8; the event it belongs to is dropped.
    #[error("line {line} of the event stream is not UTF-8: {lossy}")]
    InvalidUtf8 {
        /// The line number, from 1.
        line: usize,
        /// The line (its first 17 KiB) with invalid bytes replaced, for the message.
        lossy: String,
    },
    /// An event or line exceeds [`MAX_EVENT_BYTES`]; it is dropped.
    #[error("an event of the event stream exceeds {limit} bytes")]
    TooLong {
        /// The limit.
        limit: usize,
    },
}

impl From<SseError> for ProviderError {
    fn from(error: SseError) -> Self {
        let body = match &error {
            SseError::InvalidUtf8 { lossy, .. } => lossy.clone(),
            SseError::TooLong { .. } => String::new(),
        };
        ProviderError::Decode {
            message: error.to_string(),
            body,
        }
    }
}

/// One dispatched event, borrowed from the decoder (see [`SseDecoder::feed_with`]): the
/// decoder's buffers are reused from event to event, so reading an event allocates
/// nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SseEventRef<'a> {
    /// The `event:` name, `message` when none was given.
    pub event: &'a str,
    /// The `data:` lines joined with `\n`.
    pub data: &'a str,
    /// The last `id:` seen in the stream, if any.
    pub id: Option<&'a str>,
    /// A `retry:` given in this event, in milliseconds.
    pub retry: Option<u64>,
}

impl SseEventRef<'_> {
    /// The event, owned.
    pub fn to_owned_event(&self) -> SseEvent {
        SseEvent {
            event: self.event.to_owned(),
            data: self.data.to_owned(),
            id: self.id.map(str::to_owned),
            retry: self.retry,
        }
    }
}

/// The incremental decoder: feed it bytes as they arrive, then [`SseDecoder::finish`].
///
/// Lines are found with a `memchr` scan; a line that arrives whole in one chunk is read
/// where it lies, and only a line cut by a chunk boundary is copied (into one buffer
/// reused for the whole stream).
#[derive(Debug, Default)]
pub struct SseDecoder {
    /// The start of a line cut by the end of the previous chunk.
    line: Vec<u8>,
    /// A line longer than the limit is being skipped up to its end.
    skipping_line: bool,
    /// The previous chunk ended with `\r`: a `\n` starting the next one belongs to it.
    pending_cr: bool,
    /// Lines seen, for error messages.
    line_number: usize,
    /// Whether the first line (and its byte order mark) was seen.
    started: bool,
    /// The `event:` name of the event being read (reused).
    event: String,
    has_event: bool,
    /// The data of the event being read (reused).
    data: String,
    has_data: bool,
    retry: Option<u64>,
    last_id: Option<String>,
    /// The current event had an unreadable line: it is dropped at dispatch.
    poisoned: bool,
}

impl SseDecoder {
    /// A decoder at the start of a stream.
    pub fn new() -> Self {
        SseDecoder::default()
    }

    /// Decodes `bytes`, returning the events (and errors) they complete.
    pub fn feed(&mut self, bytes: &[u8]) -> Vec<Result<SseEvent, SseError>> {
        let mut out = Vec::new();
        self.feed_with(bytes, |item| out.push(item.map(|e| e.to_owned_event())));
        out
    }

    /// Ends the stream: a pending line and event are dispatched (see the module docs).
    pub fn finish(&mut self) -> Vec<Result<SseEvent, SseError>> {
        let mut out = Vec::new();
        self.finish_with(|item| out.push(item.map(|e| e.to_owned_event())));
        out
    }

    /// Decodes `bytes`, handing each event (or error) they complete to `on_event`,
    /// borrowed: nothing is allocated per event.
    pub fn feed_with<F>(&mut self, bytes: &[u8], mut on_event: F)
    where
        F: FnMut(Result<SseEventRef<'_>, SseError>),
    {
        let mut rest = bytes;
        if self.pending_cr {
            self.pending_cr = false;
            if let Some((b'\n', tail)) = rest.split_first() {
                rest = tail;
            }
        }
        while let Some(end) = memchr::memchr2(b'\n', b'\r', rest) {
            let line = &rest[..end];
            if self.line.is_empty() && !self.skipping_line {
                // Whole in this chunk: read where it lies.
                self.whole_line(line, &mut on_event);
            } else {
                self.append(line, &mut on_event);
                self.end_line(&mut on_event);
            }
            if rest[end] == b'\r' {
                match rest.get(end + 1) {
                    Some(b'\n') => rest = &rest[end + 2..],
                    Some(_) => rest = &rest[end + 1..],
                    None => {
                        self.pending_cr = true;
                        rest = &[];
                    }
                }
            } else {
                rest = &rest[end + 1..];
            }
        }
        self.append(rest, &mut on_event);
    }

    /// [`SseDecoder::finish`], handing the last events to `on_event`.
    pub fn finish_with<F>(&mut self, mut on_event: F)
    where
        F: FnMut(Result<SseEventRef<'_>, SseError>),
    {
        if !self.line.is_empty() || self.skipping_line {
            self.end_line(&mut on_event);
        }
        self.dispatch(&mut on_event);
        self.pending_cr = false;
    }

    /// Whether `more` bytes of the current line fit the limit (else the line is skipped
    /// and its event dropped, with one error).
    fn fits<F>(&mut self, more: usize, on_event: &mut F) -> bool
    where
        F: FnMut(Result<SseEventRef<'_>, SseError>),
    {
        if self.line.len() + self.data.len() + more <= MAX_EVENT_BYTES {
            return true;
        }
        self.line.clear();
        self.skipping_line = true;
        self.poisoned = true;
        on_event(Err(SseError::TooLong {
            limit: MAX_EVENT_BYTES,
        }));
        false
    }

    fn append<F>(&mut self, bytes: &[u8], on_event: &mut F)
    where
        F: FnMut(Result<SseEventRef<'_>, SseError>),
    {
        if self.skipping_line || bytes.is_empty() {
            return;
        }
        if self.fits(bytes.len(), on_event) {
            self.line.extend_from_slice(bytes);
        }
    }

    /// A line that arrived whole (nothing of it buffered).
    fn whole_line<F>(&mut self, bytes: &[u8], on_event: &mut F)
    where
        F: FnMut(Result<SseEventRef<'_>, SseError>),
    {
        if !self.fits(bytes.len(), on_event) {
            self.skipping_line = false;
            self.line_number += 1;
            return;
        }
        self.line_number += 1;
        let bytes = self.first_line(bytes);
        self.read_line(bytes, on_event);
    }

    fn end_line<F>(&mut self, on_event: &mut F)
    where
        F: FnMut(Result<SseEventRef<'_>, SseError>),
    {
        self.line_number += 1;
        if self.skipping_line {
            self.skipping_line = false;
            return;
        }
        // The line's buffer is lent out and given back emptied: one buffer for the
        // whole stream, not one allocation per line.
        let mut raw = std::mem::take(&mut self.line);
        let bytes = self.first_line(&raw);
        self.read_line(bytes, on_event);
        raw.clear();
        self.line = raw;
    }

    /// `bytes` without the byte order mark when it is the stream's first line.
    fn first_line<'b>(&mut self, bytes: &'b [u8]) -> &'b [u8] {
        if self.started {
            return bytes;
        }
        self.started = true;
        bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes)
    }

    fn read_line<F>(&mut self, bytes: &[u8], on_event: &mut F)
    where
        F: FnMut(Result<SseEventRef<'_>, SseError>),
    {
        if bytes.is_empty() {
            self.dispatch(on_event);
            return;
        }
        let line = match std::str::from_utf8(bytes) {
            Ok(line) => line,
            Err(_) => {
                self.poisoned = true;
                let shown = bytes.get(..MAX_LOSSY_BYTES).unwrap_or(bytes);
                on_event(Err(SseError::InvalidUtf8 {
                    line: self.line_number,
                    lossy: String::from_utf8_lossy(shown).into_owned(),
                }));
                return;
            }
        };
        if line.starts_with(':') {
            return;
        }
        let (field, value) = match line.split_once(':') {
            Some((field, value)) => (field, value.strip_prefix(' ').unwrap_or(value)),
            None => (line, ""),
        };
        match field {
            "data" => {
                if self.has_data {
                    self.data.push('\n');
                }
                self.data.push_str(value);
                self.has_data = true;
            }
            "event" => {
                self.event.clear();
                self.event.push_str(value);
                self.has_event = true;
            }
            // An id repeated on every event is not copied again.
            "id" if !value.contains('\0')
                && value.len() <= MAX_ID_BYTES
                && self.last_id.as_deref() != Some(value) =>
            {
                self.last_id = Some(value.to_owned());
            }
            "retry" if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) => {
                self.retry = value.parse().ok();
            }
            _ => {}
        }
    }

    fn dispatch<F>(&mut self, on_event: &mut F)
    where
        F: FnMut(Result<SseEventRef<'_>, SseError>),
    {
        let has_event = std::mem::replace(&mut self.has_event, false);
        let has_data = std::mem::replace(&mut self.has_data, false);
        let retry = self.retry.take();
        let poisoned = std::mem::replace(&mut self.poisoned, false);
        if !poisoned && has_data {
            let event = if has_event && !self.event.is_empty() {
                self.event.as_str()
            } else {
                "message"
            };
            on_event(Ok(SseEventRef {
                event,
                data: &self.data,
                id: self.last_id.as_deref(),
                retry,
            }));
        }
        self.data.clear();
        if self.data.capacity() > KEPT_DATA_BYTES {
            // One big event does not keep its buffer for the rest of the stream.
            self.data.shrink_to(KEPT_DATA_BYTES);
        }
    }
}

/// Decodes a stream of byte chunks into events; errors of the byte stream pass through,
/// decoding errors become [`ProviderError::Decode`].
pub fn decode<S, B>(bytes: S) -> impl Stream<Item = Result<SseEvent, ProviderError>> + Send
where
    S: Stream<Item = Result<B, ProviderError>> + Send + 'static,
    B: AsRef<[u8]>,
{
    struct State<S> {
        bytes: std::pin::Pin<Box<S>>,
        decoder: SseDecoder,
        ready: VecDeque<Result<SseEvent, ProviderError>>,
        ended: bool,
    }
    let state = State {
        bytes: Box::pin(bytes),
        decoder: SseDecoder::new(),
        ready: VecDeque::new(),
        ended: false,
    };
    futures_util::stream::unfold(state, |mut state| async move {
        loop {
            if let Some(item) = state.ready.pop_front() {
                return Some((item, state));
            }
            if state.ended {
                return None;
            }
            match state.bytes.next().await {
                Some(Ok(chunk)) => {
                    let decoded = state.decoder.feed(chunk.as_ref());
                    state
                        .ready
                        .extend(decoded.into_iter().map(|item| item.map_err(Into::into)));
                }
                Some(Err(error)) => {
                    state.ready.push_back(Err(error));
                }
                None => {
                    state.ended = true;
                    let decoded = state.decoder.finish();
                    state
                        .ready
                        .extend(decoded.into_iter().map(|item| item.map_err(Into::into)));
                }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_all(chunks: &[&[u8]]) -> Vec<Result<SseEvent, SseError>> {
        let mut decoder = SseDecoder::new();
        let mut out = Vec::new();
        for chunk in chunks {
            out.extend(decoder.feed(chunk));
        }
        out.extend(decoder.finish());
        out
    }

    fn data(events: &[Result<SseEvent, SseError>]) -> Vec<String> {
        events
            .iter()
            .filter_map(|e| e.as_ref().ok().map(|e| e.data.clone()))
            .collect()
    }

    #[test]
    fn crlf_split_between_chunks_is_one_line_end() {
        let events = decode_all(&[b"data: a\r", b"\n\r", b"\ndata: b\n\n"]);
        assert_eq!(data(&events), ["a", "b"]);
    }

    #[test]
    fn lone_cr_ends_lines() {
        let events = decode_all(&[b"data: a\r\rdata: b\r\r"]);
        assert_eq!(data(&events), ["a", "b"]);
    }

    #[test]
    fn multi_line_data_is_joined_with_newlines() {
        let events = decode_all(&[b"data: a\ndata:b\ndata\n\n"]);
        assert_eq!(data(&events), ["a\nb\n"]);
    }

    #[test]
    fn comments_and_empty_events_dispatch_nothing() {
        let events = decode_all(&[b": keep-alive\n\nevent: ping\n\n"]);
        assert!(events.is_empty());
    }

    #[test]
    fn byte_order_mark_is_skipped() {
        let events = decode_all(&[b"\xEF\xBB\xBFdata: x\n\n"]);
        assert_eq!(data(&events), ["x"]);
    }

    #[test]
    fn invalid_utf8_drops_its_event_and_keeps_decoding() {
        let events = decode_all(&[b"data: a\xFFb\n\ndata: ok\n\n"]);
        assert!(matches!(
            events[0],
            Err(SseError::InvalidUtf8 { line: 1, .. })
        ));
        assert_eq!(data(&events), ["ok"]);
    }

    #[test]
    fn an_overlong_id_is_ignored_not_copied_into_every_event() {
        let long = format!("id: {}\ndata: a\n\n", "7".repeat(MAX_ID_BYTES + 1));
        let events = decode_all(&[b"id: 1\n", long.as_bytes()]);
        let events: Vec<_> = events.into_iter().map(Result::unwrap).collect();
        assert_eq!(events[0].id.as_deref(), Some("1"));
    }

    #[test]
    fn an_unreadable_line_is_reported_by_its_beginning() {
        let mut line = b"data: \xFF".to_vec();
        line.extend(std::iter::repeat_n(b'a', 100_000));
        line.extend_from_slice(b"\n\n");
        let events = decode_all(&[&line]);
        match &events[0] {
            Err(SseError::InvalidUtf8 { lossy, .. }) => assert!(lossy.len() <= MAX_LOSSY_BYTES + 2),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn every_chunking_gives_the_same_events() {
        let stream: &[u8] = b"\xEF\xBB\xBFid: 1\r\nevent: a\r\ndata: x\r\ndata: y\r\n\r\n: c\n\
                              data: {\"k\": \"\xC3\xA9\"}\r\rdata: bad \xFF\n\nretry: 5\ndata: z\n\ndata: end";
        let whole = decode_all(&[stream]);
        assert_eq!(data(&whole), ["x\ny", "{\"k\": \"\u{e9}\"}", "z", "end"]);
        assert_eq!(whole.len(), 5, "{whole:?}");
        for size in 1..stream.len() {
            let chunks: Vec<&[u8]> = stream.chunks(size).collect();
            assert_eq!(decode_all(&chunks), whole, "chunks of {size}");
        }
    }

    #[test]
    fn an_overlong_line_is_one_error_whole_or_in_pieces() {
        let mut stream = b"data: ".to_vec();
        stream.extend(std::iter::repeat_n(b'a', MAX_EVENT_BYTES));
        stream.extend_from_slice(b"\n\ndata: ok\n\n");
        for chunks in [vec![&stream[..]], stream.chunks(1 << 20).collect()] {
            let events = decode_all(&chunks);
            assert!(
                matches!(events[0], Err(SseError::TooLong { .. })),
                "{:?}",
                events.len()
            );
            assert_eq!(data(&events), ["ok"]);
            assert_eq!(events.len(), 2);
        }
    }

    #[test]
    fn id_persists_and_retry_is_read() {
        let events = decode_all(&[b"id: 7\nretry: 150\ndata: a\n\ndata: b\n\n"]);
        let events: Vec<_> = events.into_iter().map(Result::unwrap).collect();
        assert_eq!(events[0].id.as_deref(), Some("7"));
        assert_eq!(events[0].retry, Some(150));
        assert_eq!(events[1].id.as_deref(), Some("7"));
        assert_eq!(events[1].retry, None);
    }
}
