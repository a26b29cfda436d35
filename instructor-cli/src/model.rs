//! `--model provider/model` to a client: the library's own resolution
//! (`Client::from_model`), with the provider's key checked first, so that a missing key
//! is its own error (exit code 3) rather than a 401 from the server, and `--base-url`
//! for the OpenAI-compatible providers.

use crate::failure::{Failure, Kind};
use instructor::providers::openai::OpenAi;
use instructor::providers::presets::{ModelSpecError, parse_model};
use instructor::{Client, ClientFromEnv};

/// The environment variables that can hold the key of `provider` (any one is enough);
/// empty for providers that need none (local servers) or sign with other credentials
/// (Bedrock, Vertex AI: their own configuration errors say what is missing).
fn key_variables(provider: &str) -> Vec<&'static str> {
    match provider.trim().to_ascii_lowercase().as_str() {
        "anthropic" => vec!["ANTHROPIC_API_KEY"],
        "google" | "gemini" => vec!["GEMINI_API_KEY", "GOOGLE_API_KEY"],
        "cohere" => vec!["COHERE_API_KEY", "CO_API_KEY"],
        "openai_responses" | "openai-responses" | "responses" => vec!["OPENAI_API_KEY"],
        "vertex" | "vertexai" | "vertex_ai" | "vertex-ai" | "bedrock" | "aws_bedrock"
        | "aws-bedrock" => Vec::new(),
        _ => parse_model(&format!("{provider}/m"))
            .ok()
            .and_then(|(preset, _)| preset.api_key_env())
            .into_iter()
            .collect(),
    }
}

fn is_set(variable: &str) -> bool {
    std::env::var(variable).is_ok_and(|value| !value.trim().is_empty())
}

/// The client for `spec` (`openai/gpt-4o-mini`), at `base_url` when given.
pub fn client(spec: &str, base_url: Option<&str>) -> Result<Client, Failure> {
    let Some((provider, _)) = spec.trim().split_once('/') else {
        return Err(Failure::usage(
            ModelSpecError::MissingProvider(spec.to_owned()).to_string(),
        ));
    };
    let variables = key_variables(provider);
    if !variables.is_empty() && !variables.iter().copied().any(is_set) {
        return Err(Failure::new(
            Kind::MissingKey,
            format!(
                "no API key for `{provider}`: set {} in the environment",
                variables.join(" or ")
            ),
        ));
    }
    match base_url {
        None => Client::from_model(spec).map_err(spec_failure),
        Some(base_url) => {
            // The OpenAI-compatible presets only: the native providers read their own
            // `..._BASE_URL` variables.
            let (preset, model) = parse_model(spec).map_err(|error| match error {
                ModelSpecError::UnknownProvider { provider, .. } => Failure::usage(format!(
                    "--base-url works with the OpenAI-compatible providers; for `{provider}`, set its base URL variable (ANTHROPIC_BASE_URL, ...) instead"
                )),
                other => spec_failure(other),
            })?;
            let config = preset.config_from_env().with_base_url(base_url.trim());
            let mode = config.capabilities_for(&model).preferred_mode();
            Ok(Client::new(OpenAi::new(config))
                .with_model(model)
                .with_mode(mode))
        }
    }
}

fn spec_failure(error: ModelSpecError) -> Failure {
    match error {
        ModelSpecError::Configuration { .. } => Failure::new(Kind::MissingKey, error.to_string()),
        other => Failure::usage(other.to_string()),
    }
}
