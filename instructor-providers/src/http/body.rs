//! Reading bodies: bounded whole bodies, streams whose every wait is bounded, and the
//! checks that tell an event stream from a JSON answer or a stray page.

use super::redact::Redactor;
use futures_core::Stream;
use futures_util::StreamExt;
use instructor_core::chat::ProviderError;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

/// The most memory reserved up front for a body whose `Content-Length` is announced.
pub(crate) const INITIAL_BODY_CAPACITY: usize = 1024 * 1024;

/// How much of a body larger than the response limit the error keeps.
pub(crate) const TOO_LARGE_BODY_LIMIT: usize = 1024;

/// A stream of body chunks whose every wait for the next chunk is bounded by `timeout`
/// (`None`: unbounded): a silence past it ends the stream with a transport error. One
/// timer serves the whole stream; a chunk only notes the time, and the timer is moved
/// on when it fires early.
pub(crate) struct Stalled<S> {
    inner: Pin<Box<S>>,
    timeout: Option<Duration>,
    timer: Option<Pin<Box<tokio::time::Sleep>>>,
    /// When the last chunk arrived (or the stream opened).
    last: tokio::time::Instant,
    url: String,
    done: bool,
}

impl<S> Stalled<S> {
    pub(crate) fn new(inner: S, timeout: Option<Duration>, url: String) -> Self {
        Stalled {
            inner: Box::pin(inner),
            timer: timeout.map(|timeout| Box::pin(tokio::time::sleep(timeout))),
            timeout,
            last: tokio::time::Instant::now(),
            url,
            done: false,
        }
    }
}

impl<S, T> futures_core::Stream for Stalled<S>
where
    S: futures_core::Stream<Item = Result<T, ProviderError>>,
{
    type Item = Result<T, ProviderError>;

    fn poll_next(
        mut self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        use std::task::Poll;
        let this = &mut *self;
        if this.done {
            return Poll::Ready(None);
        }
        if let Poll::Ready(item) = this.inner.as_mut().poll_next(cx) {
            if item.is_none() {
                this.done = true;
            } else if this.timer.is_some() {
                this.last = tokio::time::Instant::now();
            }
            return Poll::Ready(item);
        }
        let (Some(timer), Some(timeout)) = (&mut this.timer, this.timeout) else {
            return Poll::Pending;
        };
        loop {
            if timer.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            let deadline = this.last + timeout;
            if tokio::time::Instant::now() < deadline {
                // Chunks came since the timer was set: it waits from the last one.
                timer.as_mut().reset(deadline);
                continue;
            }
            this.done = true;
            return Poll::Ready(Some(Err(ProviderError::Transport {
                message: format!(
                    "the stream from {} broke: timed out, no bytes for {timeout:?}",
                    this.url
                ),
            })));
        }
    }
}

/// Why a body could not be read whole.
pub(crate) enum BodyError {
    /// It is larger than the limit; `head` is its beginning.
    TooLarge { head: Vec<u8> },
    /// The connection broke or timed out.
    Transport(reqwest::Error),
}

/// A body as [`read_body`] gives it.
pub(crate) type WholeBody = Body<bytes::Bytes>;

/// A body read whole: as received in one piece (not copied), or gathered from chunks.
pub(crate) enum Body<B> {
    Whole(B),
    Gathered(Vec<u8>),
}

impl<B: AsRef<[u8]>> AsRef<[u8]> for Body<B> {
    fn as_ref(&self) -> &[u8] {
        match self {
            Body::Whole(bytes) => bytes.as_ref(),
            Body::Gathered(bytes) => bytes,
        }
    }
}

impl<B: AsRef<[u8]>> std::ops::Deref for Body<B> {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        self.as_ref()
    }
}

/// Reads the body of `response` chunk by chunk, never buffering more than `limit` bytes:
/// past the limit it stops with [`BodyError::TooLarge`] and (up to) the first `head_len`
/// bytes. A body whose `Content-Length` announces more than the limit is refused once
/// those first bytes are in, without waiting for the rest.
pub(crate) fn read_body(
    response: reqwest::Response,
    limit: usize,
    head_len: usize,
) -> impl Future<Output = Result<WholeBody, BodyError>> + Send {
    // Not an `async fn`: the way to read is chosen here, so that the future holds the
    // response once (inside what reads it), not also as an argument; every exchange
    // holds this future.
    use futures_util::FutureExt;
    use futures_util::future::Either;
    let announced = response
        .content_length()
        .map(|len| usize::try_from(len).unwrap_or(usize::MAX));
    if announced.is_some_and(|len| len <= limit.min(INITIAL_BODY_CAPACITY)) {
        // A small body of announced length (HTTP/1 never reads past it): read in one
        // go, without a stream of chunks; the limit is checked all the same.
        return Either::Left(response.bytes().map(move |body| {
            let body = body.map_err(BodyError::Transport)?;
            if body.len() > limit {
                let head = body.get(..head_len.min(body.len())).unwrap_or_default();
                return Err(BodyError::TooLarge {
                    head: head.to_vec(),
                });
            }
            Ok(Body::Whole(body))
        }));
    }
    let chunks = response.bytes_stream();
    Either::Right(gather(chunks, announced, limit, head_len))
}

/// [`read_body`] chunk by chunk: a body of unknown or large length.
async fn gather(
    mut chunks: impl Stream<Item = reqwest::Result<bytes::Bytes>> + Unpin,
    announced: Option<usize>,
    limit: usize,
    head_len: usize,
) -> Result<WholeBody, BodyError> {
    let announced_too_large = announced.is_some_and(|len| len > limit);
    let capacity = if announced_too_large {
        head_len
    } else {
        announced.unwrap_or(0)
    };
    // The announced length is only a hint from the server: memory is reserved for at
    // most the first MiB, and grows with what actually arrives.
    let mut body = Vec::with_capacity(capacity.min(limit).min(INITIAL_BODY_CAPACITY));
    while let Some(chunk) = chunks.next().await {
        let chunk = match chunk {
            Ok(chunk) => chunk,
            // Refused whatever happens to the rest.
            Err(_) if announced_too_large => break,
            Err(error) => return Err(BodyError::Transport(error)),
        };
        if body.len().saturating_add(chunk.len()) > limit {
            let room = head_len.saturating_sub(body.len()).min(chunk.len());
            body.extend_from_slice(&chunk[..room]);
            body.truncate(head_len);
            return Err(BodyError::TooLarge { head: body });
        }
        let needed = body.len().saturating_add(chunk.len());
        if let Some(announced) = announced.filter(|_| !announced_too_large)
            && needed > body.capacity()
            && announced >= needed
        {
            // The first MiB has arrived: the announced length (within the limit) is
            // now reserved as is, rather than doubled past it.
            body.reserve_exact(announced - body.len());
        }
        body.extend_from_slice(&chunk);
        if announced_too_large && body.len() >= head_len {
            break;
        }
    }
    if announced_too_large {
        body.truncate(head_len);
        return Err(BodyError::TooLarge { head: body });
    }
    Ok(Body::Gathered(body))
}

/// The error for an answer larger than `limit` bytes, with the beginning of `head` (the
/// first bytes of the answer) as its body.
pub(crate) fn too_large(limit: usize, head: &[u8], redactor: &Redactor) -> ProviderError {
    ProviderError::Decode {
        message: format!("response larger than the limit of {limit} bytes"),
        body: redactor.preview(head, TOO_LARGE_BODY_LIMIT),
    }
}

/// The media type of a `Content-Type` value, lowercase, without parameters.
pub(crate) fn media_type(content_type: &str) -> String {
    content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

/// `application/json` or `application/*+json`.
pub(crate) fn is_json_media_type(media_type: &str) -> bool {
    media_type == "application/json"
        || (media_type.starts_with("application/") && media_type.ends_with("+json"))
}

/// Whether `chunks` hold anything but whitespace (and a byte order mark).
pub(crate) fn has_content<B: AsRef<[u8]>>(chunks: &[B]) -> bool {
    chunks.iter().any(|chunk| {
        chunk
            .as_ref()
            .iter()
            .any(|byte| !byte.is_ascii_whitespace() && !matches!(byte, 0xEF | 0xBB | 0xBF))
    })
}

/// Whether a body starts like server-sent events: its first line (after a byte order mark
/// and blank lines) is a comment or a `data`, `event`, `id` or `retry` field.
pub(crate) fn looks_like_event_stream(bytes: &[u8]) -> bool {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let start = bytes
        .iter()
        .position(|byte| !byte.is_ascii_whitespace())
        .unwrap_or(bytes.len());
    let line = bytes.get(start..).unwrap_or_default();
    line.starts_with(b":")
        || [&b"data"[..], b"event", b"id", b"retry"]
            .iter()
            .any(|field| {
                line.strip_prefix(*field)
                    .is_some_and(|rest| matches!(rest.first(), Some(b':' | b'\n' | b'\r')))
            })
}

/// Passes `bytes` on until more than `limit` bytes have come in all, then yields the error
/// `too_large` makes of the stream's first `head_len` bytes and ends: however long the
/// server goes on sending, no more than `limit` bytes are read. (Each event is bounded
/// on its own by [`crate::sse::MAX_EVENT_BYTES`].)
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
