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

/// How the schema is sent and how the answer is read: per client
/// ([`Client::with_mode`]) or per extraction ([`client::Extraction::mode`]).
///
/// # Example
///
/// `MdJson`, for a model without tool calling or a JSON mode: the schema goes into the
/// system prompt and the value is read from the answer's fenced block, whatever prose
/// surrounds it. Here against the local fake provider (feature `testing`), a real HTTP
/// server on 127.0.0.1:
///
/// ```
/// use instructor::prelude::*;
/// use instructor::providers::openai::{OpenAi, OpenAiConfig};
/// use instructor::providers::testing::{FakeProvider, openai::ChatCompletion};
///
/// #[derive(Debug, Deserialize, Extract)]
/// struct City {
///     name: String,
///     population: u32,
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), instructor::Error> {
/// let server = FakeProvider::start().await;
/// let answer = "Sure! Here it is:\n```json\n{\"name\": \"Lyon\", \"population\": 522000}\n```";
/// server.push(ChatCompletion::content(answer).reply());
///
/// let client = Client::new(OpenAi::new(OpenAiConfig::new(server.base_url())))
///     .with_model("llama3.1")
///     .with_mode(Mode::MdJson);
/// let city: City = client.extract::<City>().user("Lyon has 522,000 inhabitants.").await?;
/// assert_eq!((city.name.as_str(), city.population), ("Lyon", 522_000));
///
/// // No tool was offered: the schema travelled in the system prompt.
/// let body = server.last_request().and_then(|r| r.json().cloned()).unwrap();
/// assert!(body.get("tools").is_none());
/// assert_eq!(body["messages"][0]["role"], "system");
/// assert!(body["messages"][0]["content"].to_string().contains("population"));
/// # Ok(()) }
/// ```
pub use instructor_core::chat::Mode;
pub use instructor_core::chat::Provider;
/// Why an extraction did not produce a value. Every error after an attempt carries the
/// ledger: each attempt with its request id, latency, usage, raw output and error.
///
/// # Example
///
/// An answer that is still invalid after the last re-ask ends as `Error::Validation`,
/// which names each failed rule by the field's wire path. Against the local fake
/// provider (feature `testing`):
///
/// ```
/// use instructor::prelude::*;
/// use instructor::Error;
/// use instructor::providers::openai::{OpenAi, OpenAiConfig};
/// use instructor::providers::testing::{FakeProvider, openai::ChatCompletion};
///
/// #[derive(Debug, Deserialize, Extract)]
/// struct Person {
///     name: String,
///     #[garde(range(max = 150))]
///     age: u8,
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let server = FakeProvider::start().await;
/// for _ in 0..2 {
///     let wrong = ChatCompletion::tool_call("Person", r#"{"name": "Ada", "age": 209}"#);
///     server.push(wrong.reply());
/// }
/// let client = Client::new(OpenAi::new(OpenAiConfig::new(server.base_url())))
///     .with_model("gpt-4o-mini")
///     .with_max_retries(1); // one re-ask
///
/// match client.extract::<Person>().user("Ada, 209 years old").await {
///     Err(Error::Validation { errors, ledger, .. }) => {
///         assert!(errors.to_string().contains("age"));
///         assert_eq!(ledger.attempts.len(), 2); // the answer and the re-ask
///     }
///     other => panic!("expected a validation error, got {other:?}"),
/// }
/// # }
/// ```
pub use instructor_core::client::Error;
pub use instructor_core::client::{Client, Completion};
pub use instructor_core::media::{self, Document, Image, cached};
pub use instructor_core::{
    Context, DeserializeError, Dialect, DialectError, Event, Extract, ExtractSchema, FieldError,
    FieldState, HasPartial, IntoContext, Partial, PartialError, PartialSink, PathSegment,
    RootSchema, Schema, SchemaGenerator, Scratch, Stop, Validate, ValidationError,
    ValidationErrors, WirePath, chat, client, from_json_slice, from_json_str, from_json_value,
    partial, read_json, read_json_slice, read_json_under, read_json_value, schema, stream,
    template, validate,
};
pub use instructor_macros::Extract;

pub mod citations;
pub use instructor_core::client::llm_validator::{self, LlmValidator};
mod maybe;
pub use maybe::Maybe;

#[doc(hidden)]
pub use instructor_core::__private;

/// Every ```` ```rust ```` block of the README, compiled and run as a doc test (so that
/// the README cannot show code that does not build).
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

/// HTTP clients: OpenAI and OpenAI-compatible servers.
pub use instructor_providers as providers;

#[cfg(feature = "blocking")]
pub mod blocking;

/// Clients from the environment or from a `"provider/model"` string:
/// `Client::from_env()` and `Client::from_model("groq/llama-3.1-70b-versatile")`
/// (with `use instructor::prelude::*`).
pub trait ClientFromEnv: Sized {
    /// OpenAI, or the OpenAI-compatible server at `OPENAI_BASE_URL`, with the key in
    /// `OPENAI_API_KEY`; the model from `OPENAI_MODEL` when set, in the best mode that
    /// model offers (`MdJson` for `o1-mini`, which takes no tools).
    fn from_env() -> Self;

    /// A provider and model from `"provider/model"`: `anthropic/claude-sonnet-4-5`
    /// (Anthropic's own API), `openai/gpt-4o-mini`, `ollama/llama3.1`, `groq/...`,
    /// `openrouter/anthropic/claude-...` (the model keeps its own slashes). The
    /// provider's key and base URL come from its environment variables
    /// (`ANTHROPIC_API_KEY`, `GROQ_API_KEY`, `OLLAMA_BASE_URL`, ...). The client starts in the best
    /// mode the host offers for that model: `Tools` where a tool can be forced, else
    /// `JsonSchema`, `Json` or `MdJson` (`cerebras/...` starts in `JsonSchema`).
    fn from_model(spec: &str) -> Result<Self, providers::presets::ModelSpecError>;
}

impl ClientFromEnv for Client {
    fn from_env() -> Self {
        let provider = providers::openai::OpenAi::from_env();
        match std::env::var("OPENAI_MODEL") {
            Ok(model) => {
                let mode = preferred_mode(provider.config(), &model);
                Client::new(provider).with_model(model).with_mode(mode)
            }
            Err(_) => Client::new(provider),
        }
    }

    fn from_model(spec: &str) -> Result<Self, providers::presets::ModelSpecError> {
        let resolved = providers::model_spec::from_env(spec)?;
        Ok(Client::from_shared(resolved.provider)
            .with_model(resolved.model)
            .with_mode(resolved.mode))
    }
}

/// The best mode `model` can be served in by the server of `config`: a forced tool where
/// the host can force one, else its native JSON Schema output, JSON mode, or the schema in
/// the prompt (`Capabilities::preferred_mode`). Starting in `Tools` on a host that cannot
/// force a tool (Cerebras, llama.cpp, LM Studio, Perplexity) would fail every call.
fn preferred_mode(config: &providers::openai::OpenAiConfig, model: &str) -> Mode {
    config.capabilities_for(model).preferred_mode()
}

/// The names most programs need: `use instructor::prelude::*;`.
pub mod prelude {
    pub use crate::{
        Client, ClientFromEnv, Context, Dialect, Extract, Mode, Partial, Stop, ValidationError,
        ValidationErrors,
    };
    pub use serde::Deserialize;
}

#[cfg(test)]
mod tests {
    use super::*;
    use providers::presets::Preset;

    #[test]
    fn every_preset_starts_in_a_mode_it_can_serve() {
        for preset in Preset::ALL {
            let config = preset.config();
            let mode = preferred_mode(&config, "some-model");
            assert_eq!(
                config.capabilities_for("some-model").check(mode),
                Ok(()),
                "{preset:?} starts in {mode:?}"
            );
        }
    }

    #[test]
    fn hosts_that_cannot_force_a_tool_start_in_their_schema_mode() {
        for preset in [
            Preset::Cerebras,
            Preset::LlamaCpp,
            Preset::LmStudio,
            Preset::Perplexity,
        ] {
            assert_eq!(
                preferred_mode(&preset.config(), "m"),
                Mode::JsonSchema,
                "{preset:?}"
            );
        }
        assert_eq!(
            preferred_mode(&Preset::OpenAi.config(), "gpt-4o-mini"),
            Mode::Tools
        );
        assert_eq!(
            preferred_mode(&Preset::OpenAi.config(), "o1-mini"),
            Mode::MdJson
        );
    }

    #[test]
    fn from_model_starts_the_client_in_the_preferred_mode() {
        for preset in Preset::ALL {
            let spec = format!("{}/some-model", preset.name());
            let client = Client::from_model(&spec).map_err(|e| e.to_string());
            let debug = format!("{client:?}");
            let mode = preferred_mode(&preset.config(), "some-model");
            assert!(
                debug.contains(&format!("mode: {mode:?}")),
                "{spec}: {debug}"
            );
        }
    }
}
