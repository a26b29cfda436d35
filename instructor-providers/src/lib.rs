//! HTTP clients for instructor: OpenAI (chat completions and responses), Anthropic,
//! Gemini, Cohere and OpenAI-compatible servers, each translating the neutral request of
//! `instructor-core` into its wire format and its answers back into neutral responses
//! and stream events.
//!
//! This crate is a skeleton: the clients arrive with the extraction milestone. It
//! depends on `instructor-core` only, never the other way round.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod openai;
pub mod presets;
pub mod sse;

#[cfg(feature = "testing")]
pub mod testing;
