//! HTTP clients for instructor, each translating the neutral request of
//! `instructor-core` into its wire format and its answers back into neutral responses
//! and stream events (it speaks HTTP itself, over reqwest with rustls; no LLM client
//! crate is wrapped).
//!
//! - [`openai`]: OpenAI Chat Completions, and every server that speaks it;
//! - [`anthropic`]: Anthropic's Messages API (tools, structured outputs, thinking,
//!   prompt caching);
//! - [`bedrock`]: AWS Bedrock's Converse API (SigV4, binary event streams);
//! - [`model_spec`]: `"provider/model"` strings across all of them;
//! - [`presets`]: base URL, auth and capabilities of 17 OpenAI-compatible hosts, and
//!   `"provider/model"` strings;
//! - [`sse`]: the server-sent-events decoder the streams use;
//! - `testing` (feature `testing`): a local fake provider, a real HTTP server on
//!   127.0.0.1, for offline tests and examples.
//!
//! Every provider goes through one shared HTTP layer (no redirects, bounded bodies,
//! redaction of the key, one timer per exchange). Gemini, Cohere and the others are
//! planned. This
//! crate depends on `instructor-core`; core depends on it only as a dev-dependency, so
//! that core's doc examples run against the fake provider.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod anthropic;
pub mod batch;
pub mod bedrock;
pub mod cohere;
pub mod gemini;
mod http;
pub mod model_spec;
pub mod openai;
pub mod presets;
pub mod responses;
pub mod sse;
mod values;

#[cfg(feature = "testing")]
pub mod testing;
