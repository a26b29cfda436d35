//! The server: a loopback listener, one task per connection, scripted replies served in
//! order, every request recorded.

use std::collections::{HashMap, VecDeque};
use std::convert::Infallible;
use std::fmt;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::pin::pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use hyper::body::{Body, Bytes, Incoming};
use hyper::header::CONTENT_TYPE;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};

use super::raw_io::{RawIo, RawSwitch};
use super::reply::{Reply, ReplyBody};

/// The largest request body the fake provider reads (64 MiB); a larger one gets a 413.
pub const MAX_REQUEST_BODY: usize = 64 * 1024 * 1024;

/// A fake LLM provider: a real HTTP/1.1 server on `127.0.0.1` (a free port chosen by the
/// system) that answers with the [`Reply`]s a test scripts, in order, and records every
/// request it receives.
///
/// - **Scripted replies.** [`push`](Self::push) queues a reply for any path,
///   [`push_for`](Self::push_for) for one path only. A request takes the first reply queued
///   for its exact path (the query string is ignored) and otherwise the first reply of the
///   global queue. When both are empty it gets a `500` whose JSON error body says
///   `no scripted reply`, so a test that forgot a reply fails fast instead of hanging.
/// - **Recording.** [`requests`](Self::requests) returns every request received, with its
///   method, path, headers and body (raw bytes, and parsed JSON when it is JSON).
/// - **Wire format agnostic.** The server knows paths, not providers: OpenAI's
///   `/v1/chat/completions`, Anthropic's `/v1/messages` and Gemini's
///   `/v1beta/models/{model}:generateContent` are all just routes. Body builders for each
///   provider live in their own module ([`openai`](super::openai) today).
/// - **Malformed requests** get a `400` (from hyper for unparsable HTTP; from the fake for a
///   body whose `Content-Type` is `application/json` or `application/*+json` and that does
///   not parse — recorded, but it does not consume a scripted reply); bodies over [`MAX_REQUEST_BODY`] get a `413`. Nothing a
///   client sends makes the server panic.
/// - **Shutdown.** Dropping the `FakeProvider` aborts the accept loop and every connection:
///   the port closes and stalled or streaming clients see their connection drop.
///
/// It needs a running tokio runtime with its IO and time drivers (a current-thread one is
/// enough: `#[tokio::test]`, or `Builder::new_current_thread().enable_all()`) and must be
/// started from inside it. `FakeProvider` is `Send + Sync`: share it by reference (or in an
/// `Arc`) with the tasks of a test.
///
/// # Example
///
/// ```
/// use instructor_providers::testing::{FakeProvider, Reply, openai};
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let server = FakeProvider::start().await;
/// server.push_for(
///     openai::CHAT_COMPLETIONS_PATH,
///     openai::ChatCompletion::tool_call("extract", r#"{"name":"Ada"}"#).reply(),
/// );
///
/// // Your client under test, pointed at `server.base_url()`.
/// let answer: serde_json::Value = reqwest::Client::new()
///     .post(format!("{}/chat/completions", server.base_url()))
///     .bearer_auth("sk-test")
///     .json(&serde_json::json!({"model": "gpt-4o-mini", "messages": []}))
///     .send().await.unwrap()
///     .json().await.unwrap();
///
/// assert_eq!(
///     answer["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"],
///     r#"{"name":"Ada"}"#
/// );
/// let request = &server.requests()[0];
/// assert_eq!(request.path(), "/v1/chat/completions");
/// assert_eq!(request.header("authorization"), Some("Bearer sk-test"));
/// assert_eq!(request.json().unwrap()["model"], "gpt-4o-mini");
/// # });
/// ```
pub struct FakeProvider {
    addr: SocketAddr,
    shared: Arc<Shared>,
    task: JoinHandle<()>,
}

#[derive(Debug, Default)]
struct Shared {
    state: Mutex<State>,
    guard: Mutex<Option<Guard>>,
    /// Requests being answered now, and the most at once.
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
    /// Requests are not recorded (a long benchmark run).
    forget_requests: AtomicBool,
    /// Uploaded files and batches of the batch endpoints ([`super::batch`]).
    batches: Mutex<super::batch::Batches>,
}

/// Counts one request as in flight while it lives.
struct InFlight<'a>(&'a Shared);

impl<'a> InFlight<'a> {
    fn enter(shared: &'a Shared) -> Self {
        let now = shared.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        shared.max_in_flight.fetch_max(now, Ordering::SeqCst);
        InFlight(shared)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A check of every request before its reply (a signature): `Some(reply)` answers it
/// instead of the queue.
type GuardFn = dyn Fn(&RecordedRequest) -> Option<Reply> + Send + Sync;

#[derive(Clone)]
struct Guard(Arc<GuardFn>);

impl fmt::Debug for Guard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Guard")
    }
}

#[derive(Debug, Default)]
struct State {
    global: VecDeque<Reply>,
    routes: HashMap<String, VecDeque<Reply>>,
    requests: Vec<RecordedRequest>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panicking test thread must not wedge the server: the state stays usable.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl FakeProvider {
    /// Binds `127.0.0.1:0` and starts serving on the current tokio runtime.
    ///
    /// # Panics
    ///
    /// If the listener cannot be bound (see [`try_start`](Self::try_start) for the
    /// fallible version) or if called outside a tokio runtime.
    ///
    /// # Example
    ///
    /// ```
    /// # use instructor_providers::testing::FakeProvider;
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// let server = FakeProvider::start().await;
    /// assert!(server.base_url().starts_with("http://127.0.0.1:"));
    /// # });
    /// ```
    pub async fn start() -> Self {
        match Self::try_start().await {
            Ok(server) => server,
            Err(err) => panic!("FakeProvider: cannot bind 127.0.0.1:0: {err}"),
        }
    }

    /// Binds `127.0.0.1:0` and starts serving on the current tokio runtime, returning the
    /// bind error if any.
    ///
    /// # Panics
    ///
    /// If called outside a tokio runtime.
    ///
    /// # Example
    ///
    /// ```
    /// # use instructor_providers::testing::FakeProvider;
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// let server = FakeProvider::try_start().await?;
    /// assert_ne!(server.addr().port(), 0);
    /// # Ok::<_, std::io::Error>(())
    /// # }).unwrap();
    /// ```
    pub async fn try_start() -> io::Result<Self> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared::default());
        let task = tokio::spawn(accept_loop(listener, Arc::clone(&shared)));
        Ok(Self { addr, shared, task })
    }

    /// The socket address the server listens on (`127.0.0.1` and the chosen port).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`, without a trailing slash: the base URL for clients that
    /// append the whole path (Anthropic's `/v1/messages`, Gemini's `/v1beta/...`).
    pub fn origin(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `http://127.0.0.1:PORT/v1`: an OpenAI-style base URL, to which clients append
    /// `/chat/completions`.
    ///
    /// # Example
    ///
    /// ```
    /// # use instructor_providers::testing::FakeProvider;
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// let server = FakeProvider::start().await;
    /// assert_eq!(server.base_url(), format!("{}/v1", server.origin()));
    /// assert_eq!(server.url("/v1/messages"), format!("{}/v1/messages", server.origin()));
    /// # });
    /// ```
    pub fn base_url(&self) -> String {
        format!("{}/v1", self.origin())
    }

    /// The full URL of `path` on this server (`path` should start with `/`).
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.origin())
    }

    /// Queues a reply for the next request on any path that has no reply of its own queued
    /// (see [`push_for`](Self::push_for)). Replies are served first in, first out.
    ///
    /// # Example
    ///
    /// ```
    /// # use instructor_providers::testing::{FakeProvider, Reply};
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// let server = FakeProvider::start().await;
    /// server.push(Reply::status(429).header("retry-after", "1"));
    /// server.push(Reply::json(200, serde_json::json!({"ok": true})));
    /// let client = reqwest::Client::new();
    /// let first = client.post(server.url("/anything")).send().await.unwrap();
    /// let second = client.post(server.url("/anything")).send().await.unwrap();
    /// assert_eq!((first.status().as_u16(), second.status().as_u16()), (429, 200));
    /// assert_eq!(server.remaining(), 0);
    /// # });
    /// ```
    pub fn push(&self, reply: Reply) {
        self.shared.lock().global.push_back(reply);
    }

    /// Queues a reply for the next request on exactly this path, e.g.
    /// `"/v1/chat/completions"` or `"/v1beta/models/gemini-2.0-flash:streamGenerateContent"`.
    /// Matching ignores query strings (any `?...` given here is dropped). A path's own queue
    /// is served before the global one.
    ///
    /// # Example
    ///
    /// ```
    /// # use instructor_providers::testing::{FakeProvider, Reply};
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// let server = FakeProvider::start().await;
    /// server.push(Reply::status(404));
    /// server.push_for("/v1/messages", Reply::json(200, serde_json::json!({"type": "message"})));
    /// let client = reqwest::Client::new();
    /// let messages = client.post(server.url("/v1/messages?beta=true")).send().await.unwrap();
    /// let other = client.post(server.url("/v1/other")).send().await.unwrap();
    /// assert_eq!((messages.status().as_u16(), other.status().as_u16()), (200, 404));
    /// # });
    /// ```
    pub fn push_for(&self, path: &str, reply: Reply) {
        self.shared
            .lock()
            .routes
            .entry(strip_query(path).to_owned())
            .or_default()
            .push_back(reply);
    }

    /// Checks every request from now on with `guard` before its scripted reply: a
    /// request it answers `Some(reply)` for gets that reply (a 403 for a bad signature,
    /// say) and leaves the queues as they are. A new guard replaces the old.
    pub fn set_guard(
        &self,
        guard: impl Fn(&RecordedRequest) -> Option<Reply> + Send + Sync + 'static,
    ) {
        *self
            .shared
            .guard
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(Guard(Arc::new(guard)));
    }

    /// How many requests are being answered now: received, and their reply not yet
    /// handed to the connection (a reply's [`delay`](Reply::delay) counts).
    pub fn in_flight(&self) -> usize {
        self.shared.in_flight.load(Ordering::SeqCst)
    }

    /// The most requests that were being answered at once ([`in_flight`](Self::in_flight)),
    /// to check a client's concurrency bound at the server.
    pub fn max_in_flight(&self) -> usize {
        self.shared.max_in_flight.load(Ordering::SeqCst)
    }

    /// Stops (`false`) or resumes (`true`, the default) recording requests, so that a
    /// long run (a benchmark of a hundred thousand requests) does not keep them all.
    pub fn record_requests(&self, record: bool) {
        self.shared.forget_requests.store(!record, Ordering::SeqCst);
    }

    /// How many scripted replies are still queued (global and per path), to check that a
    /// test used all it scripted.
    pub fn remaining(&self) -> usize {
        let state = self.shared.lock();
        state.global.len() + state.routes.values().map(VecDeque::len).sum::<usize>()
    }

    /// Every request received so far, in arrival order (a request is recorded once its
    /// body has been read, before its reply is sent).
    ///
    /// # Example
    ///
    /// ```
    /// # use instructor_providers::testing::{FakeProvider, Reply};
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// let server = FakeProvider::start().await;
    /// server.push(Reply::status(204));
    /// reqwest::Client::new()
    ///     .post(server.url("/v1/chat/completions?x=1"))
    ///     .header("x-api-key", "secret")
    ///     .body("not json")
    ///     .send().await.unwrap();
    /// let requests = server.requests();
    /// assert_eq!(requests.len(), 1);
    /// assert_eq!(requests[0].method(), "POST");
    /// assert_eq!(requests[0].query(), Some("x=1"));
    /// assert_eq!(requests[0].header("x-api-key"), Some("secret"));
    /// assert_eq!(requests[0].body(), b"not json");
    /// assert!(requests[0].json().is_none());
    /// # });
    /// ```
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.lock().requests.clone()
    }

    /// The requests received on exactly this path (query strings ignored), in arrival
    /// order.
    pub fn requests_for(&self, path: &str) -> Vec<RecordedRequest> {
        let path = strip_query(path);
        let state = self.shared.lock();
        state
            .requests
            .iter()
            .filter(|r| r.path == path)
            .cloned()
            .collect()
    }

    /// The last request received, if any.
    pub fn last_request(&self) -> Option<RecordedRequest> {
        self.shared.lock().requests.last().cloned()
    }

    /// Takes the next scripted reply for `path`: its own queue first, then the global one.
    fn next_reply(shared: &Shared, path: &str) -> Option<Reply> {
        let mut state = shared.lock();
        if let Some(reply) = state.routes.get_mut(path).and_then(VecDeque::pop_front) {
            return Some(reply);
        }
        state.global.pop_front()
    }
}

impl fmt::Debug for FakeProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.shared.lock();
        f.debug_struct("FakeProvider")
            .field("addr", &self.addr)
            .field(
                "queued",
                &(state.global.len() + state.routes.values().map(VecDeque::len).sum::<usize>()),
            )
            .field("requests", &state.requests.len())
            .finish()
    }
}

impl Drop for FakeProvider {
    fn drop(&mut self) {
        // Aborting the accept loop drops its JoinSet, which aborts every connection task.
        self.task.abort();
    }
}

fn strip_query(path: &str) -> &str {
    path.split_once('?').map_or(path, |(path, _query)| path)
}

/// One request as the fake provider received it.
///
/// Header names are lowercase (HTTP/1 names are case-insensitive and hyper normalizes
/// them); values and the body are kept byte for byte.
///
/// # Example
///
/// ```
/// # use instructor_providers::testing::{FakeProvider, Reply};
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let server = FakeProvider::start().await;
/// server.push(Reply::status(200));
/// reqwest::Client::new()
///     .post(server.url("/v1/messages"))
///     .header("anthropic-version", "2023-06-01")
///     .json(&serde_json::json!({"max_tokens": 5}))
///     .send().await.unwrap();
/// let request = server.last_request().unwrap();
/// assert_eq!(request.header("anthropic-version"), Some("2023-06-01"));
/// assert_eq!(request.json(), Some(&serde_json::json!({"max_tokens": 5})));
/// assert_eq!(request.body(), br#"{"max_tokens":5}"#);
/// # });
/// ```
#[derive(Clone)]
pub struct RecordedRequest {
    method: String,
    path: String,
    query: Option<String>,
    headers: Vec<(String, Vec<u8>)>,
    body: Bytes,
    json: Option<serde_json::Value>,
}

impl RecordedRequest {
    /// The method, e.g. `"POST"`.
    pub fn method(&self) -> &str {
        &self.method
    }

    /// The path, without the query string, e.g. `"/v1/chat/completions"`.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The query string without the `?`, if the request had one.
    pub fn query(&self) -> Option<&str> {
        self.query.as_deref()
    }

    /// The first value of the header `name` (case-insensitive), if present and valid
    /// UTF-8.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.header_bytes(name)
            .and_then(|v| std::str::from_utf8(v).ok())
    }

    /// The first value of the header `name` (case-insensitive) as raw bytes, if present.
    pub fn header_bytes(&self, name: &str) -> Option<&[u8]> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_slice())
    }

    /// Every header, as (lowercase name, raw value); a header sent several times appears
    /// once per value, in the order sent.
    pub fn headers(&self) -> impl Iterator<Item = (&str, &[u8])> {
        self.headers.iter().map(|(n, v)| (n.as_str(), v.as_slice()))
    }

    /// The body, byte for byte.
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// The body parsed as JSON, or `None` if it is empty or not JSON.
    pub fn json(&self) -> Option<&serde_json::Value> {
        self.json.as_ref()
    }
}

/// At most this many bytes of a body are shown by `Debug`.
const DEBUG_BODY_LIMIT: usize = 1024;

impl fmt::Debug for RecordedRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let headers: Vec<(&str, String)> = self
            .headers()
            .map(|(name, value)| (name, String::from_utf8_lossy(value).into_owned()))
            .collect();
        let shown = &self.body[..self.body.len().min(DEBUG_BODY_LIMIT)];
        let mut body = String::from_utf8_lossy(shown).into_owned();
        if self.body.len() > DEBUG_BODY_LIMIT {
            body.push_str(&format!("... ({} bytes in all)", self.body.len()));
        }
        f.debug_struct("RecordedRequest")
            .field("method", &self.method)
            .field("path", &self.path)
            .field("query", &self.query)
            .field("headers", &headers)
            .field("body", &body)
            .finish()
    }
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    let mut connections = JoinSet::new();
    loop {
        match listener.accept().await {
            Ok((stream, _peer)) => {
                connections.spawn(serve_connection(stream, Arc::clone(&shared)));
            }
            // Out of file descriptors and the like: wait a little rather than spin.
            Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
        }
        while connections.try_join_next().is_some() {}
    }
}

async fn serve_connection(stream: TcpStream, shared: Arc<Shared>) {
    // Small chunks must leave at once, not wait for the previous one's ACK (Nagle).
    let _ = stream.set_nodelay(true);
    let switch = RawSwitch::default();
    let handler_switch = switch.clone();
    let service =
        service_fn(move |request| handle(Arc::clone(&shared), handler_switch.clone(), request));
    // Errors here are the client going away or a scripted disconnect: nothing to report.
    let _ = http1::Builder::new()
        .serve_connection(TokioIo::new(RawIo::new(stream, switch)), service)
        .await;
}

/// `application/json` or `application/*+json`, parameters ignored (not NDJSON, not JSON Lines).
fn is_json_media_type(content_type: &str) -> bool {
    let media_type = content_type.split(';').next().unwrap_or_default().trim();
    let media_type = media_type.to_ascii_lowercase();
    media_type == "application/json"
        || media_type.starts_with("application/") && media_type.ends_with("+json")
}

enum BodyError {
    TooLarge,
    Read,
}

async fn read_body(body: Incoming) -> Result<Bytes, BodyError> {
    let hint = body.size_hint().lower();
    let mut body = pin!(body);
    let mut buf = Vec::with_capacity(usize::try_from(hint).unwrap_or(0).min(MAX_REQUEST_BODY));
    while let Some(frame) = std::future::poll_fn(|cx| body.as_mut().poll_frame(cx)).await {
        let frame = frame.map_err(|_| BodyError::Read)?;
        if let Ok(data) = frame.into_data() {
            if buf.len() + data.len() > MAX_REQUEST_BODY {
                return Err(BodyError::TooLarge);
            }
            buf.extend_from_slice(&data);
        }
    }
    Ok(Bytes::from(buf))
}

/// An error reply in the OpenAI error shape (`{"error": {"message", "type", "code"}}`),
/// which the other providers' clients read well enough for a test failure message.
fn error_reply(status: u16, message: String, kind: &str, code: &str) -> Reply {
    Reply::json(
        status,
        serde_json::json!({
            "error": {"message": message, "type": kind, "param": null, "code": code}
        }),
    )
}

async fn handle(
    shared: Arc<Shared>,
    switch: RawSwitch,
    request: Request<Incoming>,
) -> Result<Response<ReplyBody>, Infallible> {
    let (parts, body) = request.into_parts();
    let body = match read_body(body).await {
        Ok(body) => body,
        Err(BodyError::TooLarge) => {
            let message = format!("request body larger than {MAX_REQUEST_BODY} bytes");
            return Ok(
                error_reply(413, message, "invalid_request_error", "body_too_large")
                    .header("connection", "close")
                    .into_response(),
            );
        }
        Err(BodyError::Read) => {
            let message = "could not read the request body".to_owned();
            return Ok(
                error_reply(400, message, "invalid_request_error", "bad_body")
                    .header("connection", "close")
                    .into_response(),
            );
        }
    };

    let parsed = (!body.is_empty()).then(|| serde_json::from_slice::<serde_json::Value>(&body));
    let (json, parse_error) = match parsed {
        Some(Ok(value)) => (Some(value), None),
        Some(Err(err)) => (None, Some(err)),
        None => (None, None),
    };
    let declared_json = parts
        .headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(is_json_media_type);

    let path = parts.uri.path().to_owned();
    let method = parts.method.as_str().to_owned();
    let recorded = RecordedRequest {
        method: method.clone(),
        path: path.clone(),
        query: parts.uri.query().map(str::to_owned),
        headers: parts
            .headers
            .iter()
            .map(|(name, value)| (name.as_str().to_owned(), value.as_bytes().to_vec()))
            .collect(),
        body,
        json,
    };
    let guard = shared
        .guard
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    let _in_flight = InFlight::enter(&shared);
    let refused = guard.and_then(|guard| (guard.0)(&recorded));
    let batch_request = super::batch::claims(&method, &path).then(|| recorded.clone());
    if !shared.forget_requests.load(Ordering::SeqCst) {
        shared.lock().requests.push(recorded);
    }
    // A guard's reply is served like a scripted one (its delay included).
    let reply = match refused {
        Some(reply) => reply,
        None => {
            if let Some(err) = parse_error.filter(|_| declared_json) {
                let message = format!("request body declared JSON does not parse: {err}");
                return Ok(
                    error_reply(400, message, "invalid_request_error", "invalid_json")
                        .into_response(),
                );
            }
            if let Some(request) = batch_request {
                let own = |path: &str| {
                    let mut state = shared.lock();
                    state.routes.get_mut(path).and_then(VecDeque::pop_front)
                };
                let next = |path: &str| FakeProvider::next_reply(&shared, path);
                return Ok(
                    super::batch::answer(&shared.batches, &request, own, next).into_response()
                );
            }
            let Some(reply) = FakeProvider::next_reply(&shared, &path) else {
                let message = format!(
                    "no scripted reply for {method} {path}: the fake provider's queues are empty \
                     (push a Reply for this request)"
                );
                return Ok(
                    error_reply(500, message, "fake_provider_error", "no_scripted_reply")
                        .into_response(),
                );
            };
            reply
        }
    };

    if reply.is_stall() {
        // Held until the client hangs up (hyper drops this future) or the server is dropped.
        std::future::pending::<()>().await;
    }
    if let Some(delay) = reply.head_delay() {
        tokio::time::sleep(delay).await;
    }
    if let Some(bytes) = reply.raw_bytes() {
        // The connection writes these bytes in place of the response below, which only
        // tells hyper to close the connection afterwards.
        switch.arm(bytes);
        return Ok(Reply::status(200)
            .header("connection", "close")
            .into_response());
    }
    Ok(reply.into_response())
}
