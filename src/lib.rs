//! # instructor
//!
//! Structured extraction from LLMs, the Rust way: derive [`Extract`] on a plain domain
//! type and get back a validated value of that type, whole or streamed.
//!
//! ```
//! use instructor::prelude::*;
//!
//! /// A person mentioned in the text.
//! #[derive(Debug, Deserialize, Extract)]
//! struct User {
//!     /// Full name as written.
//!     name: String,
//!     #[garde(range(min = 0, max = 150))]
//!     age: u8,
//! }
//!
//! let schema = User::json_schema(Dialect::OpenAiStrict).unwrap();
//! assert_eq!(schema["properties"]["age"]["maximum"], 150);
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub use instructor_core::chat::{Mode, Provider};
pub use instructor_core::client::{Client, Completion, Error};
pub use instructor_core::{
    Context, DeserializeError, Dialect, DialectError, Event, Extract, ExtractSchema, FieldError,
    FieldState, HasPartial, Partial, PartialError, PartialSink, PathSegment, RootSchema, Schema,
    SchemaGenerator, Scratch, Validate, ValidationError, ValidationErrors, WirePath, chat, client,
    from_json_slice, from_json_str, from_json_value, partial, read_json, read_json_slice,
    read_json_under, read_json_value, schema, stream, validate,
};
pub use instructor_macros::Extract;

#[doc(hidden)]
pub use instructor_core::__private;

/// HTTP clients: OpenAI and OpenAI-compatible servers.
pub use instructor_providers as providers;

#[cfg(feature = "blocking")]
pub mod blocking;

/// Clients from the environment or from a `"provider/model"` string:
/// `Client::from_env()` and `Client::from_model("groq/llama-3.1-70b-versatile")`
/// (with `use instructor::prelude::*`).
pub trait ClientFromEnv: Sized {
    /// OpenAI, or the OpenAI-compatible server at `OPENAI_BASE_URL`, with the key in
    /// `OPENAI_API_KEY`; the model from `OPENAI_MODEL` when set.
    fn from_env() -> Self;

    /// A preset provider and model from `"provider/model"`: `openai/gpt-4o-mini`,
    /// `ollama/llama3.1`, `groq/...`, `openrouter/anthropic/claude-...` (the model keeps
    /// its own slashes). The provider's key and base URL come from its environment
    /// variables (`GROQ_API_KEY`, `OLLAMA_BASE_URL`, ...).
    fn from_model(spec: &str) -> Result<Self, providers::presets::ModelSpecError>;
}

impl ClientFromEnv for Client {
    fn from_env() -> Self {
        let client = Client::new(providers::openai::OpenAi::from_env());
        match std::env::var("OPENAI_MODEL") {
            Ok(model) => client.with_model(model),
            Err(_) => client,
        }
    }

    fn from_model(spec: &str) -> Result<Self, providers::presets::ModelSpecError> {
        let (preset, model) = providers::presets::parse_model(spec)?;
        let provider = providers::openai::OpenAi::new(preset.config_from_env());
        Ok(Client::new(provider).with_model(model))
    }
}

/// The names most programs need: `use instructor::prelude::*;`.
pub mod prelude {
    pub use crate::{
        Client, ClientFromEnv, Context, Dialect, Extract, Mode, Partial, ValidationError,
        ValidationErrors,
    };
    pub use serde::Deserialize;
}
