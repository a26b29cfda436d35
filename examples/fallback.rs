//! A provider fallback chain: OpenAI first, Anthropic if OpenAI fails. Offline, the
//! fake "OpenAI" is overloaded and the fake "Anthropic" answers; the ledger and the
//! response say who answered.
//!
//! ```sh
//! cargo run --example fallback
//! OPENAI_API_KEY=... ANTHROPIC_API_KEY=... cargo run --example fallback
//! ```

use instructor::prelude::*;
use instructor::providers::anthropic::{Anthropic, AnthropicConfig};
use instructor::providers::openai::{OpenAi, OpenAiConfig};
use instructor::providers::testing::{FakeProvider, Reply, anthropic::Message};

/// A user named in the text.
#[derive(Debug, Clone, Deserialize, Extract)]
pub struct User {
    /// The user's name.
    pub name: String,
    /// The user's age in years.
    pub age: u8,
}

/// Extracts a user through `client` and says who answered.
pub async fn run(client: &Client) -> Result<(User, Option<String>, usize), instructor::Error> {
    let done = client
        .extract::<User>()
        .user("Jason is 25 years old.")
        .with_completion()
        .await?;
    println!(
        "{:?}, answered by {} after {} failed provider(s)",
        done.value,
        done.response.provider.as_deref().unwrap_or("?"),
        done.response.failed_over.len()
    );
    for attempt in &done.ledger.attempts {
        println!(
            "  attempt {} on {}: {}",
            attempt.number,
            attempt.provider,
            attempt.error.as_deref().unwrap_or("answered")
        );
    }
    Ok((
        done.value,
        done.response.provider,
        done.response.failed_over.len(),
    ))
}

/// The chain over two local fake providers: the first overloaded, the second answering.
pub async fn offline() -> (Client, [FakeProvider; 2]) {
    let openai = FakeProvider::start().await;
    let anthropic = FakeProvider::start().await;
    openai.push(Reply::status(503));
    anthropic.push(Message::tool_use("User", r#"{"name": "Jason", "age": 25}"#).reply());
    let client = Client::fallback([
        Client::new(OpenAi::new(OpenAiConfig::new(openai.base_url()))).with_model("gpt-4o-mini"),
        Client::new(Anthropic::new(AnthropicConfig::new(anthropic.base_url())))
            .with_model("claude-haiku-4-5"),
    ])
    .with_retry_policy(instructor::client::RetryPolicy::none());
    (client, [openai, anthropic])
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    if std::env::var_os("OPENAI_API_KEY").is_some()
        && std::env::var_os("ANTHROPIC_API_KEY").is_some()
    {
        let client = Client::fallback([
            Client::new(OpenAi::from_env()).with_model("gpt-4o-mini"),
            Client::new(Anthropic::new(AnthropicConfig::from_env())).with_model("claude-haiku-4-5"),
        ]);
        run(&client).await?;
        return Ok(());
    }
    println!(
        "No OPENAI_API_KEY and ANTHROPIC_API_KEY: running offline against two local fake providers."
    );
    let (client, _servers) = offline().await;
    run(&client).await?;
    Ok(())
}
