//! A local fake LLM provider, for this crate's tests and for users' tests (cargo feature
//! `testing`).
//!
//! [`FakeProvider`] is a real HTTP/1.1 server on `127.0.0.1` and a free port. A test
//! scripts its answers as [`Reply`]s — JSON bodies, status codes and headers, server-sent
//! event streams cut at chosen byte offsets, slow or broken streams, delays and stalls,
//! redirects, and raw bytes for a hostile server —
//! points the client under test at [`FakeProvider::base_url`], and afterwards checks what
//! the client sent with [`FakeProvider::requests`].
//!
//! The server itself knows nothing of any provider's format: a route is a path. The
//! provider-specific part is the body builders, one module per wire format:
//! [`openai`] (Chat Completions), [`anthropic`] (Messages), [`bedrock`] (Converse,
//! binary event streams, a SigV4 check) and [`gemini`]
//! (`generateContent` and `streamGenerateContent`), each with its path constant or
//! function and a builder with `to_json`/`to_sse_events`.
//!
//! # Why hyper and not axum
//!
//! The server is built on `hyper` 1 (HTTP/1 server only), `hyper-util` (its tokio
//! adapter) and `tokio` (`rt`, `net`, `time`; no multi-threaded runtime). The fake has a
//! single handler and no routing tree, extractors or middleware to benefit from axum,
//! while it needs exactly what a framework hides: the body as a hand-written
//! `http_body::Body` that decides when each chunk is flushed, when to pause, and when to
//! fail so the connection drops without a terminating chunk. hyper and hyper-util are
//! also already in the dependency graph of any reqwest-based client, so the feature adds
//! almost nothing to build, where axum would add tower, matchit and their kin.
//!
//! # Example
//!
//! A streamed tool call whose arguments arrive in three fragments, with the SSE body re-cut
//! so that an event is split across two reads:
//!
//! ```
//! use instructor_providers::testing::{FakeProvider, Reply, openai::ChatCompletion};
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let server = FakeProvider::start().await;
//! let events = ChatCompletion::tool_call_fragments("extract", [r#"{"age""#, ":4", "2}"])
//!     .to_sse_events();
//! server.push(Reply::sse(events).cut_at(&[10, 200]));
//!
//! let mut response = reqwest::Client::new()
//!     .post(format!("{}/chat/completions", server.base_url()))
//!     .json(&serde_json::json!({"model": "gpt-4o-mini", "stream": true, "messages": []}))
//!     .send()
//!     .await
//!     .unwrap();
//! assert_eq!(response.headers()["content-type"], "text/event-stream");
//! let mut reads = Vec::new();
//! while let Some(chunk) = response.chunk().await.unwrap() {
//!     reads.push(chunk);
//! }
//! assert_eq!(reads.len(), 3);
//! assert_eq!(reads[0].as_ref(), b"data: {\"id");
//! # });
//! ```

mod raw_io;
mod reply;
mod server;

pub mod anthropic;
pub mod batch;
pub mod bedrock;
pub mod cohere;
pub mod gemini;
pub mod openai;
pub mod responses;

pub use reply::Reply;

/// The fragments a builder is given, as owned strings (shared by the wire builders).
fn strings<I, S>(items: I) -> Vec<String>
where
    I: IntoIterator<Item = S>,
    S: Into<String>,
{
    items.into_iter().map(Into::into).collect()
}
pub use server::{FakeProvider, MAX_REQUEST_BODY, RecordedRequest};
