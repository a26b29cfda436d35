//! Scripted replies: what the fake provider answers, byte for byte and at which pace.

use std::collections::VecDeque;
use std::error::Error;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use hyper::StatusCode;
use hyper::body::{Body, Bytes, Frame, SizeHint};
use hyper::header::{CONTENT_LENGTH, HeaderMap, HeaderName, HeaderValue, TRANSFER_ENCODING};
use tokio::time::Sleep;

/// How the body is framed on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Framing {
    /// `Content-Length` announces the whole size up front (plain JSON replies).
    Length,
    /// `Transfer-Encoding: chunked`, each of our chunks one HTTP chunk (streams).
    Chunked,
}

/// One scripted answer of the [`FakeProvider`](super::FakeProvider): status, headers, body
/// bytes (as a list of chunks written and flushed one by one) and its timing.
///
/// Build it with a constructor ([`json`](Self::json), [`status`](Self::status),
/// [`sse`](Self::sse), [`chunked`](Self::chunked), [`stall`](Self::stall),
/// [`redirect`](Self::redirect), [`raw`](Self::raw)) and refine it with
/// the builder methods. Bodies are raw bytes: they need not be UTF-8 nor JSON.
///
/// Builder methods panic on values that can only be a mistake in the test itself (an
/// invalid status code or header, a cut outside the body); nothing a *client* sends can
/// make the server panic.
///
/// # Example
///
/// ```
/// use std::time::Duration;
/// use instructor_providers::testing::Reply;
///
/// // A rate limit with a hint, then a slow stream that breaks after two chunks.
/// let limited = Reply::status(429)
///     .header("retry-after", "1")
///     .json_body(serde_json::json!({"error": {"message": "slow down"}}));
/// let broken = Reply::sse(["data: {\"a\":1}\n\n", "data: {\"b\":2}\n\n", "data: [DONE]\n\n"])
///     .delay_between(Duration::from_millis(5))
///     .disconnect_after(2);
/// assert_eq!(limited.status_code(), 429);
/// assert_eq!(broken.chunks().len(), 3);
/// ```
#[derive(Clone, Debug)]
#[must_use = "a Reply does nothing until it is pushed to a FakeProvider"]
pub struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    chunks: Vec<Bytes>,
    framing: Framing,
    delay: Option<Duration>,
    delay_between: Option<Duration>,
    disconnect_after: Option<usize>,
    stall: bool,
    /// Bytes written to the connection verbatim instead of an HTTP response.
    raw: Option<Bytes>,
}

fn status_code(status: u16) -> StatusCode {
    match StatusCode::from_u16(status) {
        Ok(code) => code,
        Err(_) => panic!("Reply: {status} is not a valid HTTP status code (100..=999)"),
    }
}

fn one_chunk(body: Vec<u8>) -> Vec<Bytes> {
    if body.is_empty() {
        Vec::new()
    } else {
        vec![Bytes::from(body)]
    }
}

impl Reply {
    /// A reply with this status, no headers of its own and an empty body
    /// (`Content-Length: 0`); add a body with [`json_body`](Self::json_body) or
    /// [`body`](Self::body).
    ///
    /// # Panics
    ///
    /// If `status` is not a valid HTTP status code (100 to 999).
    ///
    /// # Example
    ///
    /// ```
    /// # use instructor_providers::testing::Reply;
    /// let reply = Reply::status(503).header("retry-after", "2");
    /// assert_eq!(reply.status_code(), 503);
    /// assert!(reply.chunks().is_empty());
    /// ```
    pub fn status(status: u16) -> Self {
        Self {
            status: status_code(status),
            headers: HeaderMap::new(),
            chunks: Vec::new(),
            framing: Framing::Length,
            delay: None,
            delay_between: None,
            disconnect_after: None,
            stall: false,
            raw: None,
        }
    }

    /// A JSON reply: this status, `Content-Type: application/json`, the compact serialization
    /// of `body` with a `Content-Length`.
    ///
    /// # Panics
    ///
    /// If `status` is not a valid HTTP status code.
    ///
    /// # Example
    ///
    /// ```
    /// # use instructor_providers::testing::Reply;
    /// let reply = Reply::json(200, serde_json::json!({"ok": true}));
    /// assert_eq!(reply.chunks(), vec![b"{\"ok\":true}".to_vec()]);
    /// ```
    pub fn json(status: u16, body: serde_json::Value) -> Self {
        Self::status(status).json_body(body)
    }

    /// A server-sent-events stream: status 200, `Content-Type: text/event-stream`,
    /// `Cache-Control: no-cache`, chunked transfer encoding, and each item of `chunks` written
    /// as its own HTTP chunk and flushed before the next one (empty items are skipped).
    ///
    /// The chunks are sent exactly as given: write the `data: ...\n\n` framing yourself, or
    /// take it from a helper such as [`openai::ChatCompletion::to_sse_events`](super::openai::ChatCompletion::to_sse_events).
    /// A client reading the body sees each chunk as a separate read, so chunk boundaries are
    /// where a test splits events, lines or even UTF-8 characters; use
    /// [`cut_at`](Self::cut_at) to re-cut at byte offsets.
    ///
    /// # Example
    ///
    /// ```
    /// # use instructor_providers::testing::Reply;
    /// // Invalid UTF-8 is sent as is.
    /// let reply = Reply::sse([&b"data: \xff\n\n"[..], b"data: [DONE]\n\n"]);
    /// assert_eq!(reply.chunks()[0], b"data: \xff\n\n");
    /// ```
    pub fn sse<I, C>(chunks: I) -> Self
    where
        I: IntoIterator<Item = C>,
        C: Into<Vec<u8>>,
    {
        Self::chunked(200, chunks)
            .header("content-type", "text/event-stream")
            .header("cache-control", "no-cache")
    }

    /// A streamed body of any kind: this status, chunked transfer encoding, each item of
    /// `chunks` its own HTTP chunk, flushed one by one (empty items are skipped). No
    /// `Content-Type` unless you add one, e.g. `application/json` for Gemini's streamed JSON
    /// array.
    ///
    /// # Panics
    ///
    /// If `status` is not a valid HTTP status code.
    ///
    /// # Example
    ///
    /// ```
    /// # use instructor_providers::testing::Reply;
    /// let reply = Reply::chunked(200, ["[{\"a\":1}", ",{\"a\":2}]"])
    ///     .header("content-type", "application/json");
    /// assert_eq!(reply.chunks().len(), 2);
    /// ```
    pub fn chunked<I, C>(status: u16, chunks: I) -> Self
    where
        I: IntoIterator<Item = C>,
        C: Into<Vec<u8>>,
    {
        let mut reply = Self::status(status);
        reply.framing = Framing::Chunked;
        reply.chunks = chunks
            .into_iter()
            .map(Into::into)
            .filter(|chunk| !chunk.is_empty())
            .map(Bytes::from)
            .collect();
        reply
    }

    /// A reply that accepts the request (it is recorded) and never answers: no status line,
    /// no headers, the connection held open until the client gives up or the
    /// [`FakeProvider`](super::FakeProvider) is dropped. For deadline and timeout tests.
    ///
    /// # Example
    ///
    /// ```
    /// # use instructor_providers::testing::Reply;
    /// let reply = Reply::stall();
    /// assert!(reply.is_stall());
    /// ```
    pub fn stall() -> Self {
        let mut reply = Self::status(200);
        reply.stall = true;
        reply
    }

    /// A hostile server: these bytes are written to the connection exactly as given, in
    /// place of a response (status line, headers and body, well formed or not), and then
    /// the connection is closed. Nothing is added, checked or re-framed: a lying
    /// `Content-Length`, a header no builder would accept, a status line from another
    /// protocol all go out as written. The delays and the disconnect of other replies do
    /// not apply ([`delay`](Self::delay) still waits before the bytes go out).
    ///
    /// # Example
    ///
    /// ```
    /// use instructor_providers::testing::{FakeProvider, Reply};
    ///
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// let server = FakeProvider::start().await;
    /// server.push(Reply::raw(
    ///     "HTTP/1.1 429 Too Many Requests\r\nretry-after: 1e20\r\ncontent-length: 2\r\n\r\n{}",
    /// ));
    /// let response = reqwest::Client::new().post(server.url("/v1/x")).send().await.unwrap();
    /// assert_eq!(response.status().as_u16(), 429);
    /// assert_eq!(response.headers()["retry-after"], "1e20");
    /// assert!(Reply::raw("HTTP/1.1 200 OK\r\n\r\n").is_raw());
    /// # });
    /// ```
    pub fn raw(bytes: impl Into<Vec<u8>>) -> Self {
        let mut reply = Self::status(200);
        reply.raw = Some(Bytes::from(bytes.into()));
        reply
    }

    /// A redirect: this 3xx status, a `Location` header and an empty body. API clients
    /// should not follow it (see what the second server receives in a test).
    ///
    /// # Panics
    ///
    /// If `status` is not a valid HTTP status code or `location` not a valid header value.
    ///
    /// # Example
    ///
    /// ```
    /// # use instructor_providers::testing::Reply;
    /// let reply = Reply::redirect(307, "http://127.0.0.1:9/v1/chat/completions");
    /// assert_eq!(reply.status_code(), 307);
    /// assert_eq!(reply.header_value("location"), Some("http://127.0.0.1:9/v1/chat/completions"));
    /// ```
    pub fn redirect(status: u16, location: &str) -> Self {
        Self::status(status).header("location", location)
    }

    /// Sets the body to the compact serialization of `body`, as one chunk, and
    /// `Content-Type: application/json`.
    ///
    /// # Example
    ///
    /// ```
    /// # use instructor_providers::testing::Reply;
    /// let reply = Reply::status(400).json_body(serde_json::json!({"error": {"message": "bad"}}));
    /// assert_eq!(reply.header_value("content-type"), Some("application/json"));
    /// ```
    pub fn json_body(mut self, body: serde_json::Value) -> Self {
        self.chunks = one_chunk(body.to_string().into_bytes());
        self.header("content-type", "application/json")
    }

    /// Sets the body to these raw bytes, as one chunk; headers are left alone.
    ///
    /// # Example
    ///
    /// ```
    /// # use instructor_providers::testing::Reply;
    /// let reply = Reply::status(502).header("content-type", "text/html").body("<h1>Bad gateway</h1>");
    /// assert_eq!(reply.chunks(), vec![b"<h1>Bad gateway</h1>".to_vec()]);
    /// ```
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.chunks = one_chunk(body.into());
        self
    }

    /// Sets a response header, replacing any value this reply already had for the name
    /// (names are case-insensitive). `Content-Length` and `Transfer-Encoding` are computed by
    /// the server from the body and should not be set here.
    ///
    /// # Panics
    ///
    /// If `name` or `value` is not a valid HTTP header name or value.
    ///
    /// # Example
    ///
    /// ```
    /// # use instructor_providers::testing::Reply;
    /// let reply = Reply::status(429).header("Retry-After", "1").header("x-request-id", "req_1");
    /// assert_eq!(reply.header_value("retry-after"), Some("1"));
    /// ```
    pub fn header(mut self, name: &str, value: &str) -> Self {
        let Ok(name) = HeaderName::from_bytes(name.as_bytes()) else {
            panic!("Reply::header: {name:?} is not a valid header name");
        };
        let Ok(value) = HeaderValue::from_str(value) else {
            panic!("Reply::header: {value:?} is not a valid header value");
        };
        self.headers.insert(name, value);
        self
    }

    /// Re-cuts the body: concatenates the current chunks and splits the bytes at these
    /// offsets, so `cut_at(&[3, 17])` sends bytes `0..3`, `3..17` and `17..` as three
    /// chunks. Offsets are sorted and deduplicated. Cutting inside a multi-byte UTF-8
    /// character is allowed (that is often the point).
    ///
    /// Works on every reply; a plain JSON reply keeps its `Content-Length` and is written in
    /// pieces. Setting the body afterwards ([`body`](Self::body),
    /// [`json_body`](Self::json_body)) starts again from one chunk.
    ///
    /// # Panics
    ///
    /// If an offset is 0 or not strictly inside the body (`offset >= len`), which would make
    /// an empty chunk.
    ///
    /// # Example
    ///
    /// ```
    /// # use instructor_providers::testing::Reply;
    /// let reply = Reply::sse(["data: {\"a\":1}\n\n", "data: [DONE]\n\n"]).cut_at(&[3, 17]);
    /// assert_eq!(
    ///     reply.chunks(),
    ///     vec![b"dat".to_vec(), b"a: {\"a\":1}\n\nda".to_vec(), b"ta: [DONE]\n\n".to_vec()]
    /// );
    /// ```
    pub fn cut_at(mut self, offsets: &[usize]) -> Self {
        let whole: Vec<u8> = self.chunks.iter().flat_map(|c| c.iter().copied()).collect();
        let mut offsets = offsets.to_vec();
        offsets.sort_unstable();
        offsets.dedup();
        let whole = Bytes::from(whole);
        let mut chunks = Vec::with_capacity(offsets.len() + 1);
        let mut start = 0;
        for offset in offsets {
            if offset == 0 || offset >= whole.len() {
                panic!(
                    "Reply::cut_at: offset {offset} is not strictly inside the body of {} bytes",
                    whole.len()
                );
            }
            chunks.push(whole.slice(start..offset));
            start = offset;
        }
        if start < whole.len() {
            chunks.push(whole.slice(start..));
        }
        self.chunks = chunks;
        self
    }

    /// Waits this long after the request is received before sending the status line and
    /// headers (client timeouts, slow first byte).
    ///
    /// # Example
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use instructor_providers::testing::Reply;
    /// let reply = Reply::json(200, serde_json::json!({})).delay(Duration::from_secs(5));
    /// ```
    pub fn delay(mut self, delay: Duration) -> Self {
        self.delay = Some(delay);
        self
    }

    /// Waits this long between two chunks of the body (slow streams, idle timeouts). The
    /// status line, headers and first chunk go out without this delay.
    ///
    /// # Example
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use instructor_providers::testing::Reply;
    /// let reply = Reply::sse(["data: 1\n\n", "data: 2\n\n"]).delay_between(Duration::from_millis(50));
    /// ```
    pub fn delay_between(mut self, delay: Duration) -> Self {
        self.delay_between = Some(delay);
        self
    }

    /// Sends the status line, headers and the first `n_chunks` chunks, then drops the
    /// connection: no terminating chunk, so the client sees an error while reading the body.
    /// With `n_chunks` at or past the number of chunks, every chunk is sent and the body is
    /// still never terminated. The [`delay_between`](Self::delay_between) pause applies
    /// before the drop too.
    ///
    /// Meant for chunked bodies ([`sse`](Self::sse), [`chunked`](Self::chunked)): a
    /// `Content-Length` body is complete once its last chunk is out, so there the drop only
    /// shows when `n_chunks` is less than the number of chunks.
    ///
    /// # Example
    ///
    /// ```
    /// # use instructor_providers::testing::Reply;
    /// // The client gets the headers and "data: 1", then the connection is closed.
    /// let reply = Reply::sse(["data: 1\n\n", "data: 2\n\n"]).disconnect_after(1);
    /// ```
    pub fn disconnect_after(mut self, n_chunks: usize) -> Self {
        self.disconnect_after = Some(n_chunks);
        self
    }

    /// The status code this reply sends.
    pub fn status_code(&self) -> u16 {
        self.status.as_u16()
    }

    /// The value of one of this reply's headers, if set and valid UTF-8.
    pub fn header_value(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The body chunks as they will be written, in order.
    pub fn chunks(&self) -> Vec<Vec<u8>> {
        self.chunks.iter().map(|c| c.to_vec()).collect()
    }

    /// Whether this reply is a [`stall`](Self::stall).
    pub fn is_stall(&self) -> bool {
        self.stall
    }

    /// Whether this reply is [`raw`](Self::raw) bytes.
    pub fn is_raw(&self) -> bool {
        self.raw.is_some()
    }

    /// The raw bytes of a [`raw`](Self::raw) reply.
    pub(crate) fn raw_bytes(&self) -> Option<Bytes> {
        self.raw.clone()
    }

    /// The pause before the headers, if any.
    pub(crate) fn head_delay(&self) -> Option<Duration> {
        self.delay
    }

    /// The response this reply sends once its head delay has passed.
    pub(crate) fn into_response(self) -> hyper::Response<ReplyBody> {
        let mut headers = self.headers;
        // Content-Length and Transfer-Encoding are hyper's to write, from the body's framing.
        headers.remove(CONTENT_LENGTH);
        headers.remove(TRANSFER_ENCODING);
        let exact_len = match self.framing {
            Framing::Length => Some(self.chunks.iter().map(|c| c.len() as u64).sum()),
            Framing::Chunked => None,
        };
        let body = ReplyBody {
            chunks: self.chunks.into(),
            sent: 0,
            exact_len,
            delay_between: self.delay_between,
            disconnect_after: self.disconnect_after,
            sleep: None,
            paused: false,
        };
        let mut response = hyper::Response::new(body);
        *response.status_mut() = self.status;
        *response.headers_mut() = headers;
        response
    }
}

/// The error a [`ReplyBody`] ends with to make hyper drop the connection mid-body.
#[derive(Debug)]
pub(crate) struct Disconnect;

impl fmt::Display for Disconnect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("scripted disconnect")
    }
}

impl Error for Disconnect {}

/// The body of a scripted reply: its chunks, one frame each, with a pause before every
/// frame so hyper flushes each chunk (and the headers) on its own.
pub(crate) struct ReplyBody {
    chunks: VecDeque<Bytes>,
    sent: usize,
    exact_len: Option<u64>,
    delay_between: Option<Duration>,
    disconnect_after: Option<usize>,
    sleep: Option<Pin<Box<Sleep>>>,
    /// Whether the pause before the next frame has been taken.
    paused: bool,
}

impl ReplyBody {
    fn disconnects_now(&self) -> bool {
        match self.disconnect_after {
            Some(n) => self.sent >= n || self.chunks.is_empty(),
            None => false,
        }
    }
}

impl Body for ReplyBody {
    type Data = Bytes;
    type Error = Disconnect;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Disconnect>>> {
        let this = self.get_mut();
        if this.chunks.is_empty() && this.disconnect_after.is_none() {
            return Poll::Ready(None);
        }
        if !this.paused {
            this.paused = true;
            match this.delay_between {
                Some(delay) if this.sent > 0 => {
                    this.sleep = Some(Box::pin(tokio::time::sleep(delay)));
                }
                _ => {
                    // Give hyper one turn to flush what it has buffered (headers, the previous
                    // chunk) so that every chunk leaves in a write of its own.
                    cx.waker().wake_by_ref();
                    return Poll::Pending;
                }
            }
        }
        if let Some(sleep) = this.sleep.as_mut() {
            if sleep.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            this.sleep = None;
        }
        this.paused = false;
        if this.disconnects_now() {
            return Poll::Ready(Some(Err(Disconnect)));
        }
        match this.chunks.pop_front() {
            Some(chunk) => {
                this.sent += 1;
                Poll::Ready(Some(Ok(Frame::data(chunk))))
            }
            None => Poll::Ready(None),
        }
    }

    fn is_end_stream(&self) -> bool {
        self.chunks.is_empty() && self.disconnect_after.is_none()
    }

    fn size_hint(&self) -> SizeHint {
        match self.exact_len {
            Some(len) => SizeHint::with_exact(len),
            None => SizeHint::default(),
        }
    }
}
