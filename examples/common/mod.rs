//! Shared by the examples: a client for OpenAI (or any compatible server) when
//! `OPENAI_API_KEY` / `OPENAI_BASE_URL` are set, or else for the local fake provider
//! with scripted answers, so every example runs offline.

use instructor::Client;
use instructor::providers::openai::{OpenAi, OpenAiConfig};
use instructor::providers::testing::{FakeProvider, Reply};

/// The client, and the fake server to keep alive when offline.
#[allow(dead_code)] // The Anthropic examples use `anthropic_client`.
pub async fn client(offline_answers: Vec<Reply>) -> (Client, Option<FakeProvider>) {
    let model = std::env::var("OPENAI_MODEL").unwrap_or_else(|_| "gpt-4o-mini".to_owned());
    if std::env::var_os("OPENAI_API_KEY").is_some() || std::env::var_os("OPENAI_BASE_URL").is_some()
    {
        let provider = OpenAi::from_env();
        println!(
            "Asking {} at {} (model {model}).",
            provider.config().name,
            provider.config().base_url
        );
        return (Client::new(provider).with_model(model), None);
    }
    println!(
        "No OPENAI_API_KEY: running offline against the local fake provider (a real HTTP server on 127.0.0.1)."
    );
    let server = FakeProvider::start().await;
    for answer in offline_answers {
        server.push(answer);
    }
    let provider = OpenAi::new(OpenAiConfig::new(server.base_url()));
    (Client::new(provider).with_model(model), Some(server))
}

/// The client for Anthropic's own API when `ANTHROPIC_API_KEY` / `ANTHROPIC_BASE_URL`
/// are set (model `ANTHROPIC_MODEL`, default `claude-sonnet-4-5`), or else for the local
/// fake provider speaking Anthropic's wire with scripted answers.
#[allow(dead_code)] // Only the Anthropic examples use it.
pub async fn anthropic_client(offline_answers: Vec<Reply>) -> (Client, Option<FakeProvider>) {
    use instructor::providers::anthropic::{Anthropic, AnthropicConfig};
    let model = std::env::var("ANTHROPIC_MODEL").unwrap_or_else(|_| "claude-sonnet-4-5".to_owned());
    if std::env::var_os("ANTHROPIC_API_KEY").is_some()
        || std::env::var_os("ANTHROPIC_BASE_URL").is_some()
    {
        let config = AnthropicConfig::from_env();
        println!("Asking Anthropic at {} (model {model}).", config.base_url);
        return (Client::new(Anthropic::new(config)).with_model(model), None);
    }
    println!(
        "No ANTHROPIC_API_KEY: running offline against the local fake provider speaking Anthropic's Messages API."
    );
    let server = FakeProvider::start().await;
    for answer in offline_answers {
        server.push(answer);
    }
    let provider = Anthropic::new(AnthropicConfig::new(server.base_url()));
    (Client::new(provider).with_model(model), Some(server))
}

/// A client for the first of `real` whose environment variable is set, or else for the
/// local fake provider (`offline`, given its base URL) with scripted answers.
#[allow(dead_code)] // Only some examples use it.
pub async fn native_client(
    env: &[&str],
    real: impl FnOnce() -> Client,
    offline: impl FnOnce(String) -> Client,
    offline_answers: Vec<Reply>,
) -> (Client, Option<FakeProvider>) {
    if env.iter().any(|name| std::env::var_os(name).is_some()) {
        println!("Asking the real provider ({} is set).", env.join(" or "));
        return (real(), None);
    }
    println!(
        "No {}: running offline against the local fake provider speaking this provider's wire.",
        env.join(" / ")
    );
    let server = FakeProvider::start().await;
    for answer in offline_answers {
        server.push(answer);
    }
    (offline(server.base_url()), Some(server))
}

/// The client for AWS Bedrock when `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and
/// `AWS_REGION` (or `AWS_DEFAULT_REGION`) are set (model `BEDROCK_MODEL`, default
/// Claude 3.5 Haiku), or else for the local fake provider speaking Converse with
/// scripted answers, checking each request's SigV4 signature against test credentials.
#[allow(dead_code)] // Only the Bedrock example uses it.
pub async fn bedrock_client(offline_answers: Vec<Reply>) -> (Client, Option<FakeProvider>) {
    use instructor::providers::bedrock::{AwsCredentials, Bedrock, BedrockConfig, region_from_env};
    let model = std::env::var("BEDROCK_MODEL")
        .unwrap_or_else(|_| "anthropic.claude-3-5-haiku-20241022-v1:0".to_owned());
    if AwsCredentials::from_env().is_some() && region_from_env().is_some() {
        let config = BedrockConfig::from_env();
        println!("Asking Bedrock in {} (model {model}).", config.region);
        return (Client::new(Bedrock::new(config)).with_model(model), None);
    }
    println!(
        "No AWS credentials and region: running offline against the local fake provider speaking Bedrock's Converse API (signatures checked)."
    );
    let server = FakeProvider::start().await;
    let credentials = AwsCredentials::new("AKIDEXAMPLE", "offline-example-secret-key");
    instructor::providers::testing::bedrock::require_signature(&server, &credentials, "us-east-1");
    for answer in offline_answers {
        server.push(answer);
    }
    let config = BedrockConfig::new("us-east-1", credentials).with_base_url(server.origin());
    (
        Client::new(Bedrock::new(config)).with_model(model),
        Some(server),
    )
}
