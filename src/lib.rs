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
    Context, DeserializeError, Dialect, DialectError, Event, Extract, ExtractSchema, FieldState,
    HasPartial, Partial, PartialError, PartialSink, PathSegment, RootSchema, Schema,
    SchemaGenerator, Scratch, Validate, ValidationError, ValidationErrors, chat, client,
    from_json_slice, from_json_str, from_json_value, partial, schema, stream, validate,
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
    /// `OPENAI_API_KEY`; the model from `OPENAI_MODEL` when set, in the best mode that
    /// model offers (`MdJson` for `o1-mini`, which takes no tools).
    fn from_env() -> Self;

    /// A preset provider and model from `"provider/model"`: `openai/gpt-4o-mini`,
    /// `ollama/llama3.1`, `groq/...`, `openrouter/anthropic/claude-...` (the model keeps
    /// its own slashes). The provider's key and base URL come from its environment
    /// variables (`GROQ_API_KEY`, `OLLAMA_BASE_URL`, ...). The client starts in the best
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
        let (preset, model) = providers::presets::parse_model(spec)?;
        let provider = providers::openai::OpenAi::new(preset.config_from_env());
        let mode = preferred_mode(provider.config(), &model);
        Ok(Client::new(provider).with_model(model).with_mode(mode))
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
        Client, ClientFromEnv, Context, Dialect, Extract, Mode, Partial, ValidationError,
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
