//! Extracts a `User` from a sentence.
//!
//! With no `OPENAI_API_KEY` (and no `OPENAI_BASE_URL`) it runs offline, against the
//! project's local fake provider, a real HTTP server on 127.0.0.1 that answers like
//! OpenAI; it says so on its first line. With `OPENAI_API_KEY` set it asks OpenAI, and
//! with `OPENAI_BASE_URL` any OpenAI-compatible server (Ollama, vLLM, llama.cpp, ...).
//! `OPENAI_MODEL` picks the model (default `gpt-4o-mini`).
//!
//! ```sh
//! cargo run --example quickstart
//! ```

use instructor::prelude::*;
use instructor::providers::openai::{OpenAi, OpenAiConfig};
use instructor::providers::testing::{FakeProvider, Reply, openai::ChatCompletion};

/// A person mentioned in the text.
#[derive(Debug, Deserialize, Extract)]
pub struct User {
    /// Full name as written.
    pub name: String,
    /// Age in years.
    #[garde(range(max = 150))]
    pub age: u8,
    /// Facts about the person, one key/value pair each.
    pub properties: Vec<Property>,
}

/// One fact.
#[derive(Debug, Deserialize, Extract)]
pub struct Property {
    pub key: String,
    pub value: String,
}

pub const TEXT: &str = "Jason Liu is 25 years old. He works as an engineer and lives in Paris.";

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let online = std::env::var_os("OPENAI_API_KEY").is_some()
        || std::env::var_os("OPENAI_BASE_URL").is_some();
    let model = std::env::var("OPENAI_MODEL").unwrap_or_else(|_| "gpt-4o-mini".to_owned());
    // Kept alive for the whole run when offline.
    let mut _server = None;
    let provider = if online {
        let provider = OpenAi::from_env();
        println!(
            "Asking {} at {} (model {model}).",
            provider.config().name,
            provider.config().base_url
        );
        provider
    } else {
        println!(
            "No OPENAI_API_KEY: running offline against the local fake provider (a real HTTP server on 127.0.0.1, no key, no network)."
        );
        let server = FakeProvider::start().await;
        for answer in offline_answers() {
            server.push(answer);
        }
        let provider = OpenAi::new(OpenAiConfig::new(server.base_url()));
        _server = Some(server);
        provider
    };

    let client = Client::new(provider).with_model(model);
    let user = run(&client).await?;
    println!("{user:#?}");
    Ok(())
}

/// What a model answers to this request offline: a call of the `User` tool.
pub fn offline_answers() -> Vec<Reply> {
    vec![
        ChatCompletion::tool_call(
            "User",
            r#"{"name": "Jason Liu", "age": 25, "properties": [{"key": "job", "value": "engineer"}, {"key": "city", "value": "Paris"}]}"#,
        )
        .reply(),
    ]
}

/// The extraction itself.
pub async fn run(client: &Client) -> Result<User, instructor::Error> {
    client
        .extract::<User>()
        .system("Extract the person described in the text.")
        .user(TEXT)
        .await
}
