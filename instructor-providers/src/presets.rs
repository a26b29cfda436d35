//! OpenAI-compatible servers with their base URL, auth, token-limit field and what they
//! can do, and a parser for `"provider/model"` strings.
//!
//! ```
//! use instructor_providers::presets::{parse_model, Preset};
//!
//! let (preset, model) = parse_model("groq/llama-3.1-70b").unwrap();
//! assert_eq!(preset, Preset::Groq);
//! assert_eq!(model, "llama-3.1-70b");
//! assert_eq!(preset.config().base_url, "https://api.groq.com/openai/v1");
//! assert!(parse_model("nope/model").is_err());
//! ```
//!
//! The capabilities are each server's documented behaviour at the time of writing
//! (sources beside each preset); models differ within one server, so adjust with
//! [`OpenAiConfig::with_model_capabilities`] or [`OpenAiConfig::with_capabilities`].
//! A capability set to `false` makes the mode that needs it fail before any request
//! (`Capabilities::check`); `streaming_usage: false` only means `stream_options` is not
//! sent (usage is still read when a server sends it).

use crate::openai::{AuthStyle, OpenAiConfig, PathStyle, TokenLimitField};
use instructor_core::chat::Capabilities;

/// A known OpenAI-compatible server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Preset {
    /// OpenAI (`https://api.openai.com/v1`).
    OpenAi,
    /// Azure OpenAI: `api-key` header, deployment URL, `api-version`.
    AzureOpenAi,
    /// Ollama's OpenAI-compatible endpoint on `localhost:11434`.
    Ollama,
    /// llama.cpp's `llama-server` on `localhost:8080`.
    LlamaCpp,
    /// vLLM's OpenAI-compatible server on `localhost:8000`.
    Vllm,
    /// LM Studio's local server on `localhost:1234`.
    LmStudio,
    /// Groq.
    Groq,
    /// Together AI.
    Together,
    /// Anyscale Endpoints (the public multi-tenant service closed on 2024-08-01; the
    /// preset remains for hosted Anyscale deployments that keep the same API).
    Anyscale,
    /// Fireworks AI.
    Fireworks,
    /// Cerebras Inference.
    Cerebras,
    /// DeepSeek.
    DeepSeek,
    /// OpenRouter.
    OpenRouter,
    /// Mistral AI (La Plateforme).
    Mistral,
    /// xAI (Grok).
    Xai,
    /// Perplexity (Sonar).
    Perplexity,
    /// A LiteLLM proxy on `localhost:4000`.
    LiteLlm,
}

/// `Capabilities` with every flag given, for the table below.
const fn caps(
    forced_tool_choice: bool,
    strict_tools: bool,
    native_json_schema: bool,
    json_mode: bool,
    parallel_tools: bool,
    streaming_usage: bool,
) -> Capabilities {
    Capabilities {
        forced_tool_choice,
        strict_tools,
        native_json_schema,
        json_mode,
        parallel_tools,
        streaming_usage,
    }
}

/// Older OpenAI models without structured outputs (strict tools, `json_schema`):
/// OpenAI's structured-outputs guide names gpt-4o-mini and gpt-4o-2024-08-06 and later.
const OPENAI_LEGACY: Capabilities = caps(true, false, false, true, true, true);
/// o1-mini and o1-preview take neither tools, nor response formats, nor system messages.
const OPENAI_O1_PREVIEW: Capabilities = caps(false, false, false, false, false, true);

impl Preset {
    /// Every preset.
    pub const ALL: &'static [Preset] = &[
        Preset::OpenAi,
        Preset::AzureOpenAi,
        Preset::Ollama,
        Preset::LlamaCpp,
        Preset::Vllm,
        Preset::LmStudio,
        Preset::Groq,
        Preset::Together,
        Preset::Anyscale,
        Preset::Fireworks,
        Preset::Cerebras,
        Preset::DeepSeek,
        Preset::OpenRouter,
        Preset::Mistral,
        Preset::Xai,
        Preset::Perplexity,
        Preset::LiteLlm,
    ];

    /// The name used in `"provider/model"` strings and logs.
    pub fn name(self) -> &'static str {
        match self {
            Preset::OpenAi => "openai",
            Preset::AzureOpenAi => "azure",
            Preset::Ollama => "ollama",
            Preset::LlamaCpp => "llamacpp",
            Preset::Vllm => "vllm",
            Preset::LmStudio => "lmstudio",
            Preset::Groq => "groq",
            Preset::Together => "together",
            Preset::Anyscale => "anyscale",
            Preset::Fireworks => "fireworks",
            Preset::Cerebras => "cerebras",
            Preset::DeepSeek => "deepseek",
            Preset::OpenRouter => "openrouter",
            Preset::Mistral => "mistral",
            Preset::Xai => "xai",
            Preset::Perplexity => "perplexity",
            Preset::LiteLlm => "litellm",
        }
    }

    /// The preset named `name` (case-insensitive; a few common spellings are accepted:
    /// `azure_openai`, `llama.cpp`, `lm_studio`, `together_ai`, `fireworks_ai`, `grok`).
    pub fn from_name(name: &str) -> Option<Preset> {
        let name = name.trim().to_ascii_lowercase();
        let preset = match name.as_str() {
            "openai" => Preset::OpenAi,
            "azure" | "azure_openai" | "azure-openai" | "azureopenai" => Preset::AzureOpenAi,
            "ollama" => Preset::Ollama,
            "llamacpp" | "llama.cpp" | "llama_cpp" | "llama-cpp" => Preset::LlamaCpp,
            "vllm" => Preset::Vllm,
            "lmstudio" | "lm_studio" | "lm-studio" => Preset::LmStudio,
            "groq" => Preset::Groq,
            "together" | "together_ai" | "togetherai" => Preset::Together,
            "anyscale" => Preset::Anyscale,
            "fireworks" | "fireworks_ai" | "fireworksai" => Preset::Fireworks,
            "cerebras" => Preset::Cerebras,
            "deepseek" => Preset::DeepSeek,
            "openrouter" => Preset::OpenRouter,
            "mistral" | "mistralai" => Preset::Mistral,
            "xai" | "x-ai" | "grok" => Preset::Xai,
            "perplexity" => Preset::Perplexity,
            "litellm" | "litellm_proxy" => Preset::LiteLlm,
            _ => return None,
        };
        Some(preset)
    }

    /// The default API root. Azure has none: each resource has its own
    /// (`https://{resource}.openai.azure.com`), read from `AZURE_OPENAI_ENDPOINT`.
    pub fn base_url(self) -> &'static str {
        match self {
            // https://platform.openai.com/docs/api-reference
            Preset::OpenAi => "https://api.openai.com/v1",
            Preset::AzureOpenAi => "",
            // https://docs.ollama.com/api/openai-compatibility
            Preset::Ollama => "http://localhost:11434/v1",
            // llama-server listens on 127.0.0.1:8080 by default (tools/server/README.md)
            Preset::LlamaCpp => "http://localhost:8080/v1",
            // https://docs.vllm.ai/en/latest/serving/openai_compatible_server.html
            Preset::Vllm => "http://localhost:8000/v1",
            // https://lmstudio.ai/docs/api/openai-api
            Preset::LmStudio => "http://localhost:1234/v1",
            // https://console.groq.com/docs/openai
            Preset::Groq => "https://api.groq.com/openai/v1",
            // https://docs.together.ai/docs/inference/openai-compatibility
            Preset::Together => "https://api.together.xyz/v1",
            // https://docs.anyscale.com/endpoints/text-generation/query-a-model
            Preset::Anyscale => "https://api.endpoints.anyscale.com/v1",
            // https://fireworks.ai/docs/structured-responses/structured-response-formatting
            Preset::Fireworks => "https://api.fireworks.ai/inference/v1",
            // https://inference-docs.cerebras.ai
            Preset::Cerebras => "https://api.cerebras.ai/v1",
            // https://api-docs.deepseek.com ("/v1 ... has NO relationship with the model")
            Preset::DeepSeek => "https://api.deepseek.com/v1",
            // https://openrouter.ai/docs/api-reference/overview
            Preset::OpenRouter => "https://openrouter.ai/api/v1",
            // https://docs.mistral.ai/api
            Preset::Mistral => "https://api.mistral.ai/v1",
            // https://docs.x.ai (OpenAI-compatible at https://api.x.ai/v1)
            Preset::Xai => "https://api.x.ai/v1",
            // https://docs.perplexity.ai (POST https://api.perplexity.ai/chat/completions)
            Preset::Perplexity => "https://api.perplexity.ai",
            // LiteLLM proxy default port 4000 (https://docs.litellm.ai/docs/proxy/quick_start)
            Preset::LiteLlm => "http://localhost:4000/v1",
        }
    }

    /// The environment variable holding the key, if the server takes one.
    pub fn api_key_env(self) -> Option<&'static str> {
        Some(match self {
            Preset::OpenAi => "OPENAI_API_KEY",
            Preset::AzureOpenAi => "AZURE_OPENAI_API_KEY",
            Preset::Ollama | Preset::LlamaCpp | Preset::LmStudio => return None,
            Preset::Vllm => "VLLM_API_KEY",
            Preset::Groq => "GROQ_API_KEY",
            Preset::Together => "TOGETHER_API_KEY",
            Preset::Anyscale => "ANYSCALE_API_KEY",
            Preset::Fireworks => "FIREWORKS_API_KEY",
            Preset::Cerebras => "CEREBRAS_API_KEY",
            Preset::DeepSeek => "DEEPSEEK_API_KEY",
            Preset::OpenRouter => "OPENROUTER_API_KEY",
            Preset::Mistral => "MISTRAL_API_KEY",
            Preset::Xai => "XAI_API_KEY",
            Preset::Perplexity => "PERPLEXITY_API_KEY",
            Preset::LiteLlm => "LITELLM_API_KEY",
        })
    }

    /// The environment variable that overrides the base URL.
    pub fn base_url_env(self) -> &'static str {
        match self {
            Preset::OpenAi => "OPENAI_BASE_URL",
            Preset::AzureOpenAi => "AZURE_OPENAI_ENDPOINT",
            Preset::Ollama => "OLLAMA_BASE_URL",
            Preset::LlamaCpp => "LLAMACPP_BASE_URL",
            Preset::Vllm => "VLLM_BASE_URL",
            Preset::LmStudio => "LMSTUDIO_BASE_URL",
            Preset::Groq => "GROQ_BASE_URL",
            Preset::Together => "TOGETHER_BASE_URL",
            Preset::Anyscale => "ANYSCALE_BASE_URL",
            Preset::Fireworks => "FIREWORKS_BASE_URL",
            Preset::Cerebras => "CEREBRAS_BASE_URL",
            Preset::DeepSeek => "DEEPSEEK_BASE_URL",
            Preset::OpenRouter => "OPENROUTER_BASE_URL",
            Preset::Mistral => "MISTRAL_BASE_URL",
            Preset::Xai => "XAI_BASE_URL",
            Preset::Perplexity => "PERPLEXITY_BASE_URL",
            Preset::LiteLlm => "LITELLM_BASE_URL",
        }
    }

    /// What the server can do: `caps(forced tool choice, strict tools, json_schema,
    /// json_object, parallel tools, stream usage)`.
    pub fn capabilities(self) -> Capabilities {
        match self {
            Preset::OpenAi | Preset::AzureOpenAi => Capabilities::ALL,
            // docs.ollama.com/api/openai-compatibility lists tools, tool_choice,
            // response_format (json_schema since structured outputs, v0.5) and
            // stream_options.include_usage; no `strict`.
            Preset::Ollama => caps(true, false, true, true, true, true),
            // llama-server: a named (object) tool_choice silently falls back to "auto"
            // (ggml-org/llama.cpp#26535), so a tool cannot be forced; response_format
            // json_object and json_schema are grammar-constrained.
            Preset::LlamaCpp => caps(false, false, true, true, true, true),
            // docs.vllm.ai features/tool_calling: named function calling, auto,
            // required; structured outputs via response_format; stream_options.
            Preset::Vllm => caps(true, false, true, true, true, true),
            // lmstudio.ai docs: structured output is json_schema only (no json_object);
            // tool_choice takes "none" | "auto" | "required" only, never a named tool.
            Preset::LmStudio => caps(false, false, true, false, true, false),
            // console.groq.com/docs: tool use with named tool_choice, JSON mode,
            // structured outputs (json_schema) on supported models, stream usage.
            Preset::Groq => caps(true, false, true, true, true, true),
            // docs.together.ai: function calling, JSON mode, structured outputs
            // (json_schema) on supported models.
            Preset::Together => caps(true, false, true, true, true, false),
            // docs.anyscale.com: function calling and JSON mode (json_object with a
            // schema), no json_schema response format.
            Preset::Anyscale => caps(true, false, false, true, false, false),
            // fireworks.ai/docs structured-response-formatting: json_object and
            // json_schema; function calling with tool_choice.
            Preset::Fireworks => caps(true, false, true, true, true, false),
            // Cerebras: tool_choice is "auto" | "none" only and `parallel_tool_calls` is
            // a 400 (req_llm's Cerebras guide, from inference-docs.cerebras.ai);
            // `strict: true` tools and json_schema are supported.
            Preset::Cerebras => caps(false, true, true, true, false, false),
            // api-docs.deepseek.com: tools with tool_choice, JSON Output is json_object
            // only; strict tools only on the beta base URL (.../beta), not here.
            Preset::DeepSeek => caps(true, false, false, true, true, true),
            // openrouter.ai/docs: passes tools, tool_choice and response_format
            // (json_object, json_schema) to models that support them.
            Preset::OpenRouter => caps(true, true, true, true, true, true),
            // docs.mistral.ai: tool_choice (auto, none, any, required, or a named
            // function), response_format json_object and json_schema; usage arrives in
            // the last chunk without stream_options.
            Preset::Mistral => caps(true, false, true, true, true, false),
            // docs.x.ai: function calling with tool_choice, structured outputs
            // (json_schema) on grok-2-1212 and later.
            Preset::Xai => caps(true, false, true, true, true, false),
            // docs.perplexity.ai structured outputs: json_schema only; no tools.
            Preset::Perplexity => caps(false, false, true, false, false, false),
            // LiteLLM passes the OpenAI parameters on to the backend it routes to.
            Preset::LiteLlm => Capabilities::ALL,
        }
    }

    /// Which field carries the token limit: `max_completion_tokens` where the server
    /// documents it (OpenAI, Azure, Cerebras, xAI), `max_tokens` elsewhere.
    pub fn token_limit_field(self) -> TokenLimitField {
        match self {
            Preset::OpenAi | Preset::AzureOpenAi | Preset::Cerebras | Preset::Xai => {
                TokenLimitField::MaxCompletionTokens
            }
            _ => TokenLimitField::MaxTokens,
        }
    }

    /// The config with this preset's defaults and no key. Azure's base URL is empty and
    /// its deployment is the request's model; see [`azure_config`].
    pub fn config(self) -> OpenAiConfig {
        let mut config = OpenAiConfig::new(self.base_url())
            .with_name(self.name())
            .with_capabilities(self.capabilities())
            .with_token_limit_field(self.token_limit_field());
        match self {
            Preset::OpenAi => {
                for model in ["gpt-3.5-turbo*", "gpt-4", "gpt-4-*", "gpt-4o-2024-05-13"] {
                    config = config.with_model_capabilities(model, OPENAI_LEGACY);
                }
                for model in ["o1-mini*", "o1-preview*"] {
                    config = config.with_model_capabilities(model, OPENAI_O1_PREVIEW);
                }
            }
            Preset::AzureOpenAi => {
                config = config.with_auth(AuthStyle::AzureApiKey).with_path(
                    PathStyle::AzureDeployment {
                        deployment: None,
                        api_version: AZURE_API_VERSION.to_owned(),
                    },
                );
            }
            _ => {}
        }
        config
    }

    /// [`Preset::config`] with the key and base URL from the environment
    /// ([`Preset::api_key_env`], [`Preset::base_url_env`]); OpenAI also reads
    /// `OPENAI_ORG_ID` and `OPENAI_PROJECT_ID`, Azure `OPENAI_API_VERSION`.
    pub fn config_from_env(self) -> OpenAiConfig {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let mut config = self.config();
        if let Some(key) = self.api_key_env().and_then(var) {
            config = config.with_api_key(key.trim());
        }
        if let Some(base_url) = var(self.base_url_env()) {
            config = config.with_base_url(base_url.trim());
        }
        match self {
            Preset::OpenAi => {
                if let Some(organization) = var("OPENAI_ORG_ID") {
                    config = config.with_organization(organization);
                }
                if let Some(project) = var("OPENAI_PROJECT_ID") {
                    config = config.with_project(project);
                }
            }
            Preset::AzureOpenAi => {
                if let Some(api_version) = var("OPENAI_API_VERSION") {
                    config = config.with_path(PathStyle::AzureDeployment {
                        deployment: None,
                        api_version,
                    });
                }
            }
            _ => {}
        }
        config
    }
}

/// The Azure OpenAI `api-version` used when none is given (the latest GA data-plane
/// version when this was written).
pub const AZURE_API_VERSION: &str = "2024-10-21";

/// Azure OpenAI for the resource at `endpoint` (`https://{resource}.openai.azure.com`),
/// with `api-key` auth and `deployment` in the URL (`None`: the request's model names
/// the deployment).
///
/// ```
/// use instructor_providers::presets::azure_config;
///
/// let config = azure_config("https://acme.openai.azure.com", Some("gpt4o-prod"), "2024-10-21", "key");
/// assert_eq!(
///     config.endpoint("ignored"),
///     "https://acme.openai.azure.com/openai/deployments/gpt4o-prod/chat/completions?api-version=2024-10-21"
/// );
/// ```
pub fn azure_config(
    endpoint: impl Into<String>,
    deployment: Option<&str>,
    api_version: impl Into<String>,
    api_key: impl Into<crate::openai::ApiKey>,
) -> OpenAiConfig {
    Preset::AzureOpenAi
        .config()
        .with_base_url(endpoint)
        .with_api_key(api_key)
        .with_path(PathStyle::AzureDeployment {
            deployment: deployment.map(str::to_owned),
            api_version: api_version.into(),
        })
}

/// A `"provider/model"` string that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ModelSpecError {
    /// No `/`: the provider is missing.
    #[error("`{0}` names no provider: write \"provider/model\", like \"openai/gpt-4o-mini\"")]
    MissingProvider(String),
    /// The provider is not a known preset.
    #[error("unknown provider `{provider}`; known: {known}")]
    UnknownProvider {
        /// The provider as written.
        provider: String,
        /// The known names, comma-separated.
        known: String,
    },
    /// Nothing after the `/`.
    #[error("`{0}` names no model after the provider")]
    MissingModel(String),
    /// The provider is known but its environment does not configure it (Vertex AI
    /// without a project or credentials).
    #[error("{provider} is not configured: {reason}")]
    Configuration {
        /// The provider.
        provider: String,
        /// What is missing.
        reason: String,
    },
}

/// Reads `"provider/model"`: the provider is everything before the first `/`, the model
/// everything after it (OpenRouter models keep their own slash:
/// `openrouter/anthropic/claude-3.5-sonnet`).
///
/// # Errors
///
/// [`ModelSpecError`] when there is no provider, no model, or an unknown provider.
pub fn parse_model(spec: &str) -> Result<(Preset, String), ModelSpecError> {
    let spec = spec.trim();
    let (provider, model) = spec
        .split_once('/')
        .ok_or_else(|| ModelSpecError::MissingProvider(spec.to_owned()))?;
    let preset = Preset::from_name(provider).ok_or_else(|| ModelSpecError::UnknownProvider {
        provider: provider.to_owned(),
        known: Preset::ALL
            .iter()
            .map(|preset| preset.name())
            .collect::<Vec<_>>()
            .join(", "),
    })?;
    if model.trim().is_empty() {
        return Err(ModelSpecError::MissingModel(spec.to_owned()));
    }
    Ok((preset, model.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_preset_round_trips_its_name() {
        for preset in Preset::ALL {
            assert_eq!(Preset::from_name(preset.name()), Some(*preset));
        }
    }

    #[test]
    fn openrouter_models_keep_their_slash() {
        assert_eq!(
            parse_model("openrouter/anthropic/claude-3.5-sonnet"),
            Ok((Preset::OpenRouter, "anthropic/claude-3.5-sonnet".to_owned()))
        );
    }

    #[test]
    fn malformed_specs_are_typed_errors() {
        assert!(matches!(
            parse_model("gpt-4o"),
            Err(ModelSpecError::MissingProvider(_))
        ));
        assert!(matches!(
            parse_model("openai/"),
            Err(ModelSpecError::MissingModel(_))
        ));
        assert!(matches!(
            parse_model("acme/x"),
            Err(ModelSpecError::UnknownProvider { provider, .. }) if provider == "acme"
        ));
    }

    #[test]
    fn legacy_openai_models_lack_structured_outputs() {
        let config = Preset::OpenAi.config();
        assert!(
            !config
                .capabilities_for("gpt-3.5-turbo-0125")
                .native_json_schema
        );
        assert!(!config.capabilities_for("gpt-4-turbo").strict_tools);
        assert!(config.capabilities_for("gpt-4o-mini").native_json_schema);
        assert!(config.capabilities_for("gpt-4.1").strict_tools);
    }

    #[test]
    fn compatible_servers_default_to_max_tokens() {
        assert_eq!(
            Preset::Ollama.token_limit_field(),
            TokenLimitField::MaxTokens
        );
        assert_eq!(
            Preset::OpenAi.token_limit_field(),
            TokenLimitField::MaxCompletionTokens
        );
    }
}
