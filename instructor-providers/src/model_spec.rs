//! `"provider/model"` strings across every provider: the OpenAI-compatible presets
//! (`openai/gpt-4o-mini`, `ollama/llama3.1`, `groq/...`) and the native clients
//! (`anthropic/claude-sonnet-4-5`, `gemini/gemini-2.5-flash`, `vertex_ai/gemini-2.5-pro`,
//! `bedrock/anthropic.claude-3-5-haiku-20241022-v1:0`),
//! each configured from its environment variables.
//!
//! ```
//! use instructor_core::chat::{Mode, Provider};
//! use instructor_providers::model_spec::{NATIVE, from_env};
//!
//! let resolved = from_env("anthropic/claude-sonnet-4-5")?;
//! assert_eq!(resolved.provider.name(), "anthropic");
//! assert_eq!(resolved.model, "claude-sonnet-4-5");
//! assert_eq!(resolved.mode, Mode::Tools);
//! assert!(NATIVE.contains(&"anthropic"));
//!
//! let resolved = from_env("cerebras/llama3.1-8b")?;
//! assert_eq!(resolved.provider.name(), "cerebras");
//! assert_eq!(resolved.mode, Mode::JsonSchema);
//! # Ok::<(), instructor_providers::presets::ModelSpecError>(())
//! ```

use crate::anthropic::{Anthropic, AnthropicConfig};
use crate::gemini::{self, Gemini, GeminiConfig};
use crate::openai::OpenAi;
use crate::presets::ModelSpecError;
use instructor_core::chat::{Mode, Provider};
use std::sync::Arc;

/// The providers with their own wire format (the presets speak OpenAI's).
pub const NATIVE: &[&str] = &[
    "anthropic",
    "bedrock",
    "cohere",
    "gemini",
    "openai_responses",
    "vertex_ai",
];

/// A provider, the model and the best mode that provider serves for it.
#[derive(Debug, Clone)]
pub struct Resolved {
    /// The provider, configured from the environment.
    pub provider: Arc<dyn Provider>,
    /// The model as the provider knows it.
    pub model: String,
    /// The best mode it offers for the model.
    pub mode: Mode,
}

/// Reads `"provider/model"` and configures that provider from its environment variables
/// (`ANTHROPIC_API_KEY` and `ANTHROPIC_BASE_URL`; `OPENAI_API_KEY`, `GROQ_API_KEY`,
/// `OLLAMA_BASE_URL`, ... for the presets). The model is everything after the first
/// `/` (`openrouter/anthropic/claude-3.5-sonnet` keeps its own).
///
/// # Errors
///
/// [`ModelSpecError`] when there is no provider, no model, or an unknown provider.
pub fn from_env(spec: &str) -> Result<Resolved, ModelSpecError> {
    let trimmed = spec.trim();
    let (provider, model) = trimmed
        .split_once('/')
        .ok_or_else(|| ModelSpecError::MissingProvider(trimmed.to_owned()))?;
    let native = provider.trim().to_ascii_lowercase();
    let native = match native.as_str() {
        "google" | "gemini" => Some("gemini"),
        "vertex" | "vertexai" | "vertex_ai" | "vertex-ai" => Some("vertex_ai"),
        "anthropic" => Some("anthropic"),
        "bedrock" | "aws_bedrock" | "aws-bedrock" => Some("bedrock"),
        "cohere" => Some("cohere"),
        "openai_responses" | "openai-responses" | "responses" => Some("openai_responses"),
        _ => None,
    };
    if let Some(native) = native {
        if model.trim().is_empty() {
            return Err(ModelSpecError::MissingModel(trimmed.to_owned()));
        }
        let (provider, mode): (Arc<dyn Provider>, Mode) = match native {
            "anthropic" => {
                let config = AnthropicConfig::from_env();
                let mode = config.capabilities.preferred_mode();
                (Arc::new(Anthropic::new(config)), mode)
            }
            "gemini" => (Arc::new(Gemini::from_env()), gemini::PREFERRED_MODE),
            // AWS credentials and region from the environment; the mode by model family.
            "bedrock" => (
                Arc::new(crate::bedrock::Bedrock::from_env()),
                crate::bedrock::ModelFamily::of(model)
                    .capabilities()
                    .preferred_mode(),
            ),
            "openai_responses" => (
                Arc::new(crate::responses::OpenAiResponses::from_env()),
                Mode::Tools,
            ),
            "cohere" => (
                Arc::new(crate::cohere::Cohere::from_env()),
                crate::cohere::CAPABILITIES.preferred_mode(),
            ),
            _ => {
                // Vertex AI needs a project and credentials from the environment.
                let config = GeminiConfig::vertex_from_env().map_err(|error| {
                    ModelSpecError::Configuration {
                        provider: native.to_owned(),
                        reason: match error {
                            instructor_core::chat::ProviderError::Unsupported(reason) => reason,
                            other => other.to_string(),
                        },
                    }
                })?;
                (Arc::new(Gemini::new(config)), gemini::PREFERRED_MODE)
            }
        };
        return Ok(Resolved {
            provider,
            model: model.to_owned(),
            mode,
        });
    }
    let (preset, model) = crate::presets::parse_model(trimmed).map_err(|error| match error {
        ModelSpecError::UnknownProvider { provider, known } => ModelSpecError::UnknownProvider {
            provider,
            known: format!("{}, {known}", NATIVE.join(", ")),
        },
        other => other,
    })?;
    let provider = OpenAi::new(preset.config_from_env());
    let mode = provider.config().capabilities_for(&model).preferred_mode();
    Ok(Resolved {
        provider: Arc::new(provider),
        model,
        mode,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_providers_list_the_native_ones_too() {
        let error = from_env("acme/model").expect_err("unknown");
        let message = error.to_string();
        assert!(
            message.contains(
                "anthropic, bedrock, cohere, gemini, openai_responses, vertex_ai, openai"
            ),
            "{message}"
        );
        assert!(matches!(
            from_env("anthropic/ "),
            Err(ModelSpecError::MissingModel(_))
        ));
        assert!(matches!(
            from_env("anthropic"),
            Err(ModelSpecError::MissingProvider(_))
        ));
    }

    #[test]
    fn bedrock_models_resolve_with_their_path_intact() {
        let resolved = from_env("bedrock/meta.llama3-1-70b-instruct-v1:0").expect("bedrock");
        assert_eq!(resolved.provider.name(), "bedrock");
        assert_eq!(resolved.model, "meta.llama3-1-70b-instruct-v1:0");
        assert_eq!(resolved.mode, Mode::Tools);
        assert!(matches!(
            from_env("bedrock/"),
            Err(ModelSpecError::MissingModel(_))
        ));
    }

    #[test]
    fn gemini_starts_in_json_schema_mode() {
        let resolved = from_env("gemini/gemini-2.5-flash").expect("gemini");
        assert_eq!(resolved.provider.name(), "gemini");
        assert_eq!(resolved.mode, Mode::JsonSchema);
        let resolved = from_env("google/gemini-2.5-pro").expect("google");
        assert_eq!(resolved.provider.name(), "gemini");
    }

    #[test]
    fn the_provider_name_is_read_case_blind() {
        let resolved = from_env("Anthropic/claude-haiku-4-5").expect("anthropic");
        assert_eq!(resolved.provider.name(), "anthropic");
        let resolved = from_env("ollama/llama3.1").expect("ollama");
        assert_eq!(resolved.provider.name(), "ollama");
        assert_eq!(resolved.model, "llama3.1");
    }
}
